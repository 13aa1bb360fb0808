"""Network: AZ choice (VPC link zones), subnet plan, NAT strategy, where tasks and the VPC link live."""

from __future__ import annotations

import ipaddress

import pytest

from mapgate import resource_types as types
from mapgate.components.network import plan_subnets
from tests.harness import API, RecordingMocks, StackRun, changed, run_stack, with_prefix

VPC = types.VPC


def vpc_inputs(run: StackRun) -> dict:
    return run.inputs(VPC, "network-vpc")


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
    inputs = vpc_inputs(any_run)
    assert inputs["enableDnsSupport"] is True
    assert inputs["enableDnsHostnames"] is True


def test_subnet_strategy_and_blocks_are_pinned(any_run: StackRun) -> None:
    inputs = vpc_inputs(any_run)
    public, private = plan_subnets(inputs["cidrBlock"], len(inputs["availabilityZoneNames"]))
    assert inputs["subnetStrategy"] == "Auto"
    assert inputs["subnetSpecs"] == [
        {"type": "Public", "name": "public", "cidrBlocks": public},
        {"type": "Private", "name": "private", "cidrBlocks": private},
    ]


def test_dev_has_no_nat_and_prod_one_per_az(dev_run: StackRun, prod_run: StackRun) -> None:
    assert vpc_inputs(dev_run)["natGateways"] == {"strategy": "None"}
    assert vpc_inputs(prod_run)["natGateways"] == {"strategy": "OnePerAz"}


def test_zone_count_skips_zones_without_vpc_link(dev_run: StackRun, prod_run: StackRun) -> None:
    assert vpc_inputs(dev_run)["availabilityZoneNames"] == ["us-east-1a", "us-east-1b"]
    # us-east-1c is use1-az3, where VPC link v2 does not exist
    assert vpc_inputs(prod_run)["availabilityZoneNames"] == ["us-east-1a", "us-east-1b", "us-east-1d"]


def test_zone_lookup_asks_for_available_default_zones(dev_run: StackRun) -> None:
    (call,) = [c for c in dev_run.calls if c.token.endswith("getAvailabilityZones")]
    assert call.args["state"] == "available"
    assert call.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]


def test_explicit_zone_list_is_used_as_given() -> None:
    config = changed("dev", ["network", "availabilityZones"], ["us-east-1f", "us-east-1a"])
    run = run_stack(with_prefix(config))
    assert vpc_inputs(run)["availabilityZoneNames"] == ["us-east-1f", "us-east-1a"]


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


def test_without_nat_tasks_and_vpc_link_use_public_subnets_with_public_ips(dev_run: StackRun) -> None:
    public = [f"subnet-public-{i}" for i in range(2)]
    for service in dev_run.of_type(types.ECS_SERVICE):
        network = service.inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (public, True)
    assert dev_run.inputs(types.VPC_LINK, API.vpc_link)["subnetIds"] == public


def test_with_nat_tasks_and_vpc_link_use_private_subnets_without_public_ips(prod_run: StackRun) -> None:
    private = [f"subnet-private-{i}" for i in range(3)]
    for service in prod_run.of_type(types.ECS_SERVICE):
        network = service.inputs["networkConfiguration"]
        assert (network["subnets"], network["assignPublicIp"]) == (private, False)
    assert prod_run.inputs(types.VPC_LINK, API.vpc_link)["subnetIds"] == private


def test_single_nat_strategy_is_passed_through() -> None:
    run = run_stack(with_prefix(changed("dev", ["network", "natGateways"], "single")))
    assert vpc_inputs(run)["natGateways"] == {"strategy": "Single"}
    assert run.of_type(types.ECS_SERVICE)[0].inputs["networkConfiguration"]["assignPublicIp"] is False
