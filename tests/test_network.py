"""Network: AZ choice (VPC link zones), subnet plan, egress (routes to IGW / NAT gateway / NAT instance), the
NAT instance's hardening, the S3 endpoint, and where tasks and the VPC link live."""

from __future__ import annotations

import ipaddress
import json
from functools import cache

import pytest

from mapgate import aws_facts, naming
from mapgate import resource_types as types
from mapgate.components.network import plan_subnets
from mapgate.components.network.nat import user_data
from mapgate.offline import AMI_ID, OfflineMocks, Resource
from tests.aws_models import request_errors
from tests.harness import API, NAT_1, NETWORK, RecordingMocks, StackRun, changed, run_stack, with_prefix

EGRESS_CHOICES = ["publicIp", "natGateway", "natGatewayPerAz", "natInstance", "natInstancePerAz"]


@cache
def run_with_egress(egress: str, zones: int = 3) -> StackRun:
    config = changed("dev", ["network", "egress"], egress)
    config["network"]["availabilityZones"] = zones
    return run_stack(with_prefix(config))


def subnets(run: StackRun, kind: str) -> list[Resource]:
    found = [s for s in run.of_type(types.SUBNET) if s.inputs["tags"][naming.SUBNET_TAG] == kind]
    return sorted(found, key=lambda s: s.name)


def default_route_target(run: StackRun, subnet: Resource) -> tuple[str, Resource] | None:
    """Follow subnet -> its route table association -> that table's 0.0.0.0/0 route -> what it points at."""
    (association,) = [a for a in run.of_type(types.ROUTE_TABLE_ASSOCIATION) if a.inputs["subnetId"] == subnet.id]
    table = association.inputs["routeTableId"]
    routes = [
        r
        for r in run.of_type(types.EC2_ROUTE)
        if r.inputs["routeTableId"] == table and r.inputs["destinationCidrBlock"] == "0.0.0.0/0"
    ]
    if not routes:
        return None
    (route,) = routes
    if "gatewayId" in route.inputs:
        return "internet gateway", run.by_id(route.inputs["gatewayId"])
    if "natGatewayId" in route.inputs:
        return "NAT gateway", run.by_id(route.inputs["natGatewayId"])
    (instance,) = [
        i
        for i in run.of_type(types.INSTANCE)
        if i.state["primaryNetworkInterfaceId"] == route.inputs["networkInterfaceId"]
    ]
    return "NAT instance", instance


def nat_subnet(run: StackRun, nat: Resource) -> Resource:
    return run.by_id(nat.inputs["subnetId"])


@pytest.mark.parametrize("prefix", range(16, 25))
@pytest.mark.parametrize("zones", range(2, 7))
def test_subnets_are_disjoint_inside_the_vpc_and_usable(prefix: int, zones: int) -> None:
    vpc = ipaddress.IPv4Network(f"10.0.0.0/{prefix}")
    public, private = plan_subnets(str(vpc), zones)
    blocks = [ipaddress.IPv4Network(b) for b in public + private]
    assert len(public) == len(private) == zones
    assert all(b.subnet_of(vpc) for b in blocks)
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])
    assert all(b.prefixlen <= 28 for b in blocks)  # AWS's smallest subnet


def test_dev_subnet_plan_is_the_documented_one() -> None:
    assert plan_subnets("10.0.0.0/16", 2) == (["10.0.0.0/18", "10.0.64.0/18"], ["10.0.128.0/18", "10.0.192.0/18"])


def test_vpc_has_dns_support_and_hostnames_for_the_private_namespace(any_run: StackRun) -> None:
    inputs = any_run.inputs(types.VPC, NETWORK.vpc)
    assert inputs["enableDnsSupport"] is True
    assert inputs["enableDnsHostnames"] is True


def test_subnet_blocks_and_zones_are_pinned(any_run: StackRun) -> None:
    vpc = any_run.one(types.VPC, NETWORK.vpc)
    public, private = subnets(any_run, "public"), subnets(any_run, "private")
    zones = [s.inputs["availabilityZone"] for s in public]
    assert [s.inputs["availabilityZone"] for s in private] == zones
    assert ([s.inputs["cidrBlock"] for s in public], [s.inputs["cidrBlock"] for s in private]) == plan_subnets(
        vpc.inputs["cidrBlock"], len(zones)
    )
    assert all(s.inputs["vpcId"] == vpc.id for s in public + private)
    assert [s.inputs["mapPublicIpOnLaunch"] for s in public + private] == [True] * len(zones) + [False] * len(zones)


def test_zone_count_skips_zones_without_vpc_link(dev_run: StackRun, prod_run: StackRun) -> None:
    assert [s.inputs["availabilityZone"] for s in subnets(dev_run, "public")] == ["us-east-1a", "us-east-1b"]
    # us-east-1c is use1-az3, where VPC link v2 does not exist
    assert [s.inputs["availabilityZone"] for s in subnets(prod_run, "private")] == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1d",
    ]


def test_zone_lookup_asks_for_available_default_zones(dev_run: StackRun) -> None:
    (call,) = [c for c in dev_run.calls if c.token.endswith("getAvailabilityZones")]
    assert call.args["state"] == "available"
    assert call.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_explicit_zone_list_is_used_as_given() -> None:
    config = changed("dev", ["network", "availabilityZones"], ["us-east-1f", "us-east-1a"])
    run = run_stack(with_prefix(config))
    assert [s.inputs["availabilityZone"] for s in subnets(run, "public")] == ["us-east-1f", "us-east-1a"]


@pytest.mark.parametrize(
    ("zones", "message"),
    [
        (
            ["us-east-1a", "us-east-1c"],
            "network.availabilityZones[1]: 'us-east-1c' — its zone ID use1-az3 does not host",
        ),
        (
            ["us-east-1a", "eu-west-1a"],
            "network.availabilityZones[1]: 'eu-west-1a' — not an available zone of us-east-1",
        ),
        (6, "network.availabilityZones: 6 — us-east-1 has only 5 zones where API Gateway VPC links work"),
    ],
)
def test_unusable_zones_fail_before_anything_is_created(zones: object, message: str) -> None:
    mocks = RecordingMocks()
    with pytest.raises(Exception, match="invalid stack config") as caught:
        run_stack(with_prefix(changed("dev", ["network", "availabilityZones"], zones)), mocks=mocks)
    assert message in str(caught.value)
    assert mocks.resources == []


# --- egress: what each subnet's 0.0.0.0/0 points at ---------------------------------------------------------


@pytest.mark.parametrize("egress", EGRESS_CHOICES)
def test_public_subnets_route_to_the_internet_gateway(egress: str) -> None:
    run = run_with_egress(egress)
    (gateway,) = run.of_type(types.INTERNET_GATEWAY)
    assert gateway.inputs["vpcId"] == run.one(types.VPC, NETWORK.vpc).id
    for subnet in subnets(run, "public"):
        assert default_route_target(run, subnet) == ("internet gateway", gateway)


@pytest.mark.parametrize(
    ("egress", "kind", "per_zone"),
    [
        ("natGateway", "NAT gateway", False),
        ("natGatewayPerAz", "NAT gateway", True),
        ("natInstance", "NAT instance", False),
        ("natInstancePerAz", "NAT instance", True),
    ],
)
def test_private_subnets_route_to_their_zones_nat(egress: str, kind: str, per_zone: bool) -> None:
    run = run_with_egress(egress)
    public, private = subnets(run, "public"), subnets(run, "private")
    nat_type = types.NAT_GATEWAY if kind == "NAT gateway" else types.INSTANCE
    assert len(run.of_type(nat_type)) == (3 if per_zone else 1)
    for zone, subnet in enumerate(private):
        target = default_route_target(run, subnet)
        assert target is not None
        assert target[0] == kind
        # per zone: the NAT in the same zone's public subnet; single: the first zone's, for every zone
        assert nat_subnet(run, target[1]) == public[zone if per_zone else 0]
    other = types.INSTANCE if nat_type == types.NAT_GATEWAY else types.NAT_GATEWAY
    assert run.of_type(other) == []


def test_public_ips_have_no_nat_and_private_subnets_no_way_out() -> None:
    run = run_with_egress("publicIp")
    assert run.of_type(types.NAT_GATEWAY) == run.of_type(types.INSTANCE) == run.of_type(types.EIP) == []
    assert all(default_route_target(run, s) is None for s in subnets(run, "private"))


def test_every_nat_gateway_has_its_own_elastic_ip() -> None:
    run = run_with_egress("natGatewayPerAz")
    allocations = [n.inputs["allocationId"] for n in run.of_type(types.NAT_GATEWAY)]
    assert sorted(allocations) == sorted(e.state["allocationId"] for e in run.of_type(types.EIP))
    assert all(e.inputs["domain"] == "vpc" for e in run.of_type(types.EIP))


@pytest.mark.parametrize("egress", EGRESS_CHOICES)
def test_only_public_ip_egress_gives_tasks_public_ips(egress: str) -> None:
    run = run_with_egress(egress)
    kind = "public" if egress == "publicIp" else "private"
    expected = [s.id for s in subnets(run, kind)]
    for service in run.of_type(types.ECS_SERVICE):
        network = service.inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (expected, egress == "publicIp")
    assert run.inputs(types.VPC_LINK, API.vpc_link)["subnetIds"] == expected


@pytest.mark.parametrize("egress", EGRESS_CHOICES)
def test_the_s3_gateway_endpoint_serves_the_private_route_tables(egress: str) -> None:
    run = run_with_egress(egress)
    (endpoint,) = run.of_type(types.VPC_ENDPOINT)
    private_tables = {
        a.inputs["routeTableId"]
        for a in run.of_type(types.ROUTE_TABLE_ASSOCIATION)
        if run.by_id(a.inputs["subnetId"]) in subnets(run, "private")
    }
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert set(endpoint.inputs["routeTableIds"]) == private_tables
    assert len(private_tables) == 3


def test_the_deprecated_key_still_works_and_says_what_replaces_it() -> None:
    run = run_stack(with_prefix(changed("dev", ["network", "egress"], None) | {"network": {"natGateways": "single"}}))
    assert len(run.of_type(types.NAT_GATEWAY)) == 1
    assert run.of_type(types.ECS_SERVICE)[0].inputs["networkConfiguration"]["assignPublicIp"] is False
    assert any("natGateways is deprecated" in w and "egress: natGateway" in w for w in run.warnings)


# --- the NAT instance -------------------------------------------------------------------------------------------


def nat_instance(run: StackRun) -> Resource:
    return run.one(types.INSTANCE, NAT_1.instance)


def test_nat_instance_forwards_and_is_closed(dev_run: StackRun) -> None:
    instance = nat_instance(dev_run).inputs
    assert instance["sourceDestCheck"] is False
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert instance["maintenanceOptions"] == {"autoRecovery": "default"}
    assert "keyName" not in instance
    assert instance["instanceType"] == "t4g.nano"
    assert instance["rootBlockDevice"] == {"volumeType": "gp3", "volumeSize": 8, "encrypted": True}
    assert nat_subnet(dev_run, nat_instance(dev_run)) == subnets(dev_run, "public")[0]
    assert instance["associatePublicIpAddress"] is True


def test_nat_instance_admits_only_the_vpc(dev_run: StackRun) -> None:
    (group_id,) = nat_instance(dev_run).inputs["vpcSecurityGroupIds"]
    ingress = [r.inputs for r in dev_run.of_type(types.INGRESS_RULE) if r.inputs["securityGroupId"] == group_id]
    assert ingress == [
        {
            "securityGroupId": group_id,
            "ipProtocol": "-1",
            "cidrIpv4": "10.0.0.0/16",
            "description": "everything the VPC sends to the internet",
            "tags": ingress[0]["tags"],
        }
    ]
    assert "ingress" not in dev_run.by_id(group_id).inputs  # no inline rules either


def test_nat_instance_ami_comes_from_the_ssm_parameter_before_anything_is_created(dev_run: StackRun) -> None:
    (call,) = [c for c in dev_run.calls if c.token == types.GET_PARAMETER]
    assert call.args["name"] == aws_facts.AL2023_ARM64_AMI_PARAMETER
    assert nat_instance(dev_run).inputs["ami"] == AMI_ID
    assert "ami" in next(r.ignore_changes for r in dev_run.registrations if r.name == NAT_1.instance)


def test_a_failed_nat_boot_may_tag_only_its_stacks_nat_instances_with_one_key(dev_run: StackRun) -> None:
    policy = dev_run.one(types.ROLE_POLICY, NAT_1.boot_tag_policy)
    assert policy.inputs["role"] == dev_run.one(types.ROLE, NAT_1.role).id
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": "arn:aws:ec2:*:*:instance/*",
        "Condition": {
            "StringEquals": {"aws:ResourceTag/mapgate:role": "nat-instance", "aws:ResourceTag/mapgate:stack": "dev"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["mapgate:natBoot"]},
        },
    }
    tags = nat_instance(dev_run).inputs["tags"]
    assert (tags["mapgate:role"], tags["mapgate:stack"]) == ("nat-instance", "dev")  # the tags the condition reads


def test_no_ami_lookup_without_a_nat_instance(prod_run: StackRun) -> None:
    assert [c for c in prod_run.calls if c.token == types.GET_PARAMETER] == []


def test_nat_instance_reaches_ssm_only(dev_run: StackRun) -> None:
    profile = dev_run.one(types.INSTANCE_PROFILE, NAT_1.profile)
    assert nat_instance(dev_run).inputs["iamInstanceProfile"] == profile.state["name"]
    role = dev_run.one(types.ROLE, NAT_1.role)
    assert profile.inputs["role"] == role.state["name"]
    attachments = [
        a.inputs for a in dev_run.of_type(types.ROLE_POLICY_ATTACHMENT) if a.inputs["role"] == role.state["name"]
    ]
    assert attachments == [
        {"role": role.state["name"], "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}
    ]
    assert "ec2.amazonaws.com" in role.inputs["assumeRolePolicy"]


def test_nat_instance_user_data_forwards_and_masquerades_the_vpc(dev_run: StackRun) -> None:
    script = nat_instance(dev_run).inputs["userData"]
    assert script == user_data("10.0.0.0/16")  # the script tests/test_nat_user_data.py runs under bash
    assert script.startswith("#!/bin/bash\n")
    assert "\nset -euo pipefail\n" in script
    assert "net.ipv4.ip_forward = 1" in script
    assert "ip saddr 10.0.0.0/16" in script
    assert "masquerade" in script
    assert "systemctl enable nftables" in script


def test_nat_instance_size_is_configurable() -> None:
    config = changed("dev", ["network", "natInstance"], {"instanceType": "t4g.micro"})
    assert nat_instance(run_stack(with_prefix(config))).inputs["instanceType"] == "t4g.micro"


# --- request shapes, against botocore's EC2 model ----------------------------------------------------------


def test_nat_instance_is_a_valid_run_instances_request(dev_run: StackRun) -> None:
    i = nat_instance(dev_run).inputs
    request = {
        "ImageId": i["ami"],
        "InstanceType": i["instanceType"],
        "MinCount": 1,
        "MaxCount": 1,
        "UserData": i["userData"],
        "IamInstanceProfile": {"Name": i["iamInstanceProfile"]},
        "MetadataOptions": {
            "HttpTokens": i["metadataOptions"]["httpTokens"],
            "HttpEndpoint": i["metadataOptions"]["httpEndpoint"],
            "HttpPutResponseHopLimit": i["metadataOptions"]["httpPutResponseHopLimit"],
        },
        "MaintenanceOptions": {"AutoRecovery": i["maintenanceOptions"]["autoRecovery"]},
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {
                    "VolumeSize": i["rootBlockDevice"]["volumeSize"],
                    "VolumeType": i["rootBlockDevice"]["volumeType"],
                    "Encrypted": i["rootBlockDevice"]["encrypted"],
                },
            }
        ],
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "SubnetId": i["subnetId"],
                "Groups": i["vpcSecurityGroupIds"],
                "AssociatePublicIpAddress": i["associatePublicIpAddress"],
            }
        ],
    }
    assert request_errors("ec2", "RunInstances", request) == ""
    assert (
        request_errors("ec2", "ModifyInstanceAttribute", {"InstanceId": "i-1", "SourceDestCheck": {"Value": False}})
        == ""
    )


@pytest.mark.parametrize("egress", ["natGatewayPerAz", "natInstance"])
def test_network_requests_fit_the_ec2_model(egress: str) -> None:
    run = run_with_egress(egress)
    for subnet in run.of_type(types.SUBNET):
        s = subnet.inputs
        request = {"VpcId": s["vpcId"], "CidrBlock": s["cidrBlock"], "AvailabilityZone": s["availabilityZone"]}
        assert request_errors("ec2", "CreateSubnet", request) == ""
    for route in run.of_type(types.EC2_ROUTE):
        r = route.inputs
        request = {"RouteTableId": r["routeTableId"], "DestinationCidrBlock": r["destinationCidrBlock"]}
        request |= {
            k[0].upper() + k[1:]: v for k, v in r.items() if k.endswith(("GatewayId", "gatewayId", "InterfaceId"))
        }
        assert request_errors("ec2", "CreateRoute", request) == ""
    (endpoint,) = run.of_type(types.VPC_ENDPOINT)
    e = endpoint.inputs
    request = {
        "VpcId": e["vpcId"],
        "ServiceName": e["serviceName"],
        "VpcEndpointType": e["vpcEndpointType"],
        "RouteTableIds": e["routeTableIds"],
    }
    assert request_errors("ec2", "CreateVpcEndpoint", request) == ""
    for nat in run.of_type(types.NAT_GATEWAY):
        request = {"SubnetId": nat.inputs["subnetId"], "AllocationId": nat.inputs["allocationId"]}
        assert request_errors("ec2", "CreateNatGateway", request) == ""
    for rule in run.of_type(types.INGRESS_RULE):
        if "cidrIpv4" in rule.inputs:
            permission = {"IpProtocol": rule.inputs["ipProtocol"], "IpRanges": [{"CidrIp": rule.inputs["cidrIpv4"]}]}
            request = {"GroupId": rule.inputs["securityGroupId"], "IpPermissions": [permission]}
            assert request_errors("ec2", "AuthorizeSecurityGroupIngress", request) == ""


# --- opt-in interface endpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize("egress", ["publicIp", "natInstance"])
def test_interface_endpoints_sit_in_the_task_subnets_with_private_dns(egress: str) -> None:
    config = changed("dev", ["network", "egress"], egress)
    config["network"]["interfaceEndpoints"] = ["ecr.api", "ecr.dkr", "logs"]
    run = run_stack(with_prefix(config))
    endpoints = [e for e in run.of_type(types.VPC_ENDPOINT) if e.inputs["vpcEndpointType"] == "Interface"]
    assert sorted(e.inputs["serviceName"] for e in endpoints) == [
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
    ]
    tasks = [s.id for s in subnets(run, "public" if egress == "publicIp" else "private")]
    (group,) = {g for e in endpoints for g in e.inputs["securityGroupIds"]}
    for endpoint in endpoints:
        e = endpoint.inputs
        assert (e["subnetIds"], e["privateDnsEnabled"]) == (tasks, True)
        request = {
            "VpcId": e["vpcId"],
            "ServiceName": e["serviceName"],
            "VpcEndpointType": e["vpcEndpointType"],
            "SubnetIds": e["subnetIds"],
            "SecurityGroupIds": e["securityGroupIds"],
            "PrivateDnsEnabled": e["privateDnsEnabled"],
        }
        assert request_errors("ec2", "CreateVpcEndpoint", request) == ""
    (rule,) = [r.inputs for r in run.of_type(types.INGRESS_RULE) if r.inputs["securityGroupId"] == group]
    assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"], rule["cidrIpv4"]) == ("tcp", 443, 443, "10.0.0.0/16")


def test_no_interface_endpoints_unless_asked(any_run: StackRun) -> None:
    assert [e.inputs["vpcEndpointType"] for e in any_run.of_type(types.VPC_ENDPOINT)] == ["Gateway"]


# --- bring your own VPC -----------------------------------------------------------------------------------

VPC_ID = "vpc-0a1b2c3d4e5f60718"
PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
PUBLIC = ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"]


def existing_config(**extra: object) -> dict:
    return changed("dev", ["network"], {"existing": {"vpcId": VPC_ID, "privateSubnetIds": PRIVATE, **extra}})


def existing_mocks(**subnets: tuple[str, str]) -> OfflineMocks:
    """Subnets by id as (VPC, zone); by default the private ones in us-east-1a and -1b of the VPC."""
    mocks = RecordingMocks()
    layout = {PRIVATE[0]: (VPC_ID, "us-east-1a"), PRIVATE[1]: (VPC_ID, "us-east-1b")}
    layout |= {PUBLIC[0]: (VPC_ID, "us-east-1a"), PUBLIC[1]: (VPC_ID, "us-east-1b")}
    layout |= {k.replace("_", "-"): v for k, v in subnets.items()}
    mocks.subnets = {sid: {"vpcId": vpc, "availabilityZone": zone} for sid, (vpc, zone) in layout.items()}
    return mocks


def test_an_existing_vpc_is_used_as_it_is() -> None:
    run = run_stack(with_prefix(existing_config()), mocks=existing_mocks())
    for typ in (types.VPC, types.SUBNET, types.ROUTE_TABLE, types.EC2_ROUTE, types.INTERNET_GATEWAY, types.NAT_GATEWAY):
        assert run.of_type(typ) == [], typ
    assert run.of_type(types.INSTANCE) == run.of_type(types.EIP) == run.of_type(types.VPC_ENDPOINT) == []
    assert run.outputs["vpcId"] == VPC_ID
    (namespace,) = run.of_type(types.NAMESPACE)
    assert namespace.inputs["vpc"] == VPC_ID
    assert {g.inputs["vpcId"] for g in run.of_type(types.SECURITY_GROUP)} == {VPC_ID}
    for service in run.of_type(types.ECS_SERVICE):
        network = service.inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (PRIVATE, False)
    assert run.inputs(types.VPC_LINK, API.vpc_link)["subnetIds"] == PRIVATE


def test_existing_public_subnets_take_the_tasks_with_public_ips_and_the_link_stays_private() -> None:
    run = run_stack(with_prefix(existing_config(publicSubnetIds=PUBLIC)), mocks=existing_mocks())
    for service in run.of_type(types.ECS_SERVICE):
        network = service.inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (PUBLIC, True)
    assert run.inputs(types.VPC_LINK, API.vpc_link)["subnetIds"] == PRIVATE


def test_existing_vpc_is_looked_up_before_anything_is_created() -> None:
    mocks = existing_mocks()
    run_stack(with_prefix(existing_config(publicSubnetIds=PUBLIC)), mocks=mocks)
    asked = [(c.token, c.args.get("id")) for c in mocks.calls if c.token in (types.GET_VPC, types.GET_SUBNET)]
    assert asked == [(types.GET_VPC, VPC_ID)] + [(types.GET_SUBNET, s) for s in PRIVATE + PUBLIC]
    assert not any(c.token == types.GET_AVAILABILITY_ZONES for c in mocks.calls)


@pytest.mark.parametrize(
    ("mocks", "extra", "message"),
    [
        (
            existing_mocks(**{PRIVATE[1].replace("-", "_"): ("vpc-0ffffffffffffffff", "us-east-1b")}),
            {},
            f"network.existing.privateSubnetIds[1]: '{PRIVATE[1]}' — it is in vpc-0ffffffffffffffff, not in {VPC_ID}",
        ),
        (
            existing_mocks(**{PRIVATE[1].replace("-", "_"): (VPC_ID, "us-east-1a")}),
            {},
            f"network.existing.privateSubnetIds[1]: '{PRIVATE[1]}' — in the same zone (use1-az1) as {PRIVATE[0]}",
        ),
        (
            existing_mocks(**{PRIVATE[1].replace("-", "_"): (VPC_ID, "us-east-1c")}),
            {},
            f"'{PRIVATE[1]}' — its zone ID use1-az3 (us-east-1c) does not host API Gateway VPC links",
        ),
        (
            existing_mocks(**{PUBLIC[0].replace("-", "_"): ("vpc-0ffffffffffffffff", "us-east-1a")}),
            {"publicSubnetIds": PUBLIC},
            f"network.existing.publicSubnetIds[0]: '{PUBLIC[0]}' — it is in vpc-0ffffffffffffffff",
        ),
    ],
)
def test_existing_subnets_that_cannot_work_fail_before_anything_is_created(
    mocks: OfflineMocks, extra: dict, message: str
) -> None:
    mocks.resources.clear()
    mocks.calls.clear()
    with pytest.raises(Exception, match="invalid stack config") as caught:
        run_stack(with_prefix(existing_config(**extra)), mocks=mocks)
    assert message in str(caught.value)
    assert mocks.resources == []


@pytest.mark.parametrize("flag", ["enableDnsSupport", "enableDnsHostnames"])
def test_an_existing_vpc_without_dns_fails_before_anything_is_created(flag: str) -> None:
    mocks = existing_mocks()
    mocks.vpcs = {VPC_ID: {flag: False}}
    with pytest.raises(Exception, match="invalid stack config") as caught:
        run_stack(with_prefix(existing_config()), mocks=mocks)
    assert f"network.existing.vpcId: '{VPC_ID}' — {flag} is off" in str(caught.value)
    assert mocks.resources == []
