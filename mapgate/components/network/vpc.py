"""The VPC: where tasks and the VPC link live, and how their traffic reaches the internet."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi.type_token import get_type_token
from pulumi_aws import ec2, vpc

from mapgate import aws_facts, naming
from mapgate.components.base import Component
from mapgate.components.network.nat import NatInstanceArgs, nat_instance

NatKind = Literal["gateway", "instance"]


def plan_subnets(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Equal public and private subnets, one each per AZ, in fixed order so the layout never shifts.

    Private subnets exist even without NAT: switching NAT on later then adds routes instead of re-carving (and
    replacing) every subnet.
    """
    network = ipaddress.ip_network(cidr)
    bits = (2 * az_count - 1).bit_length()
    blocks = [str(b) for b in network.subnets(prefixlen_diff=bits)]
    return blocks[:az_count], blocks[az_count : 2 * az_count]


@dataclass(frozen=True)
class NatInstanceSpec:
    instance_type: str
    ami_id: str
    """Looked up before anything is created (`mapgate.lookups.nat_instance_ami`)."""


@dataclass(frozen=True)
class ExistingNetwork:
    """A VPC that is used as it is (checked by `mapgate.lookups.check_existing_vpc` before anything is created)."""

    vpc_id: str
    private_subnet_ids: Sequence[str]
    """The VPC link's subnets, and the tasks' unless `public_subnet_ids` is set."""
    public_subnet_ids: Sequence[str] | None = None
    """When set, tasks run here with public IPs."""


@dataclass(frozen=True)
class NetworkArgs:
    cidr: str
    """The VPC's IPv4 block; split evenly into one public and one private subnet per zone."""
    zones: Sequence[str]
    """Availability zone names, already resolved and checked (see `mapgate.lookups.resolve_zones`)."""
    region: str
    partition: str
    tags: Mapping[str, str]
    nat: NatKind | None = None
    """None: tasks sit in public subnets with public IPs. Otherwise tasks use private subnets behind NAT."""
    nat_per_az: bool = False
    """One NAT per zone (a zone's outage leaves the others' egress alone), or one in the first zone for all."""
    nat_instance: NatInstanceSpec | None = None
    """Required when `nat` is `instance`."""
    interface_endpoints: Sequence[str] = ()
    """AWS services (`ecr.api`, `logs`, ...) to reach through interface endpoints in the task subnets."""
    existing: ExistingNetwork | None = None
    """Use this VPC and these subnets; then nothing above is read and nothing is created."""


class _AwsxUrns:
    """Where `awsx.ec2.Vpc` (mapgate up to 0.2.0) put each resource, so the explicit ones keep their URNs.

    awsx named its inner VPC after itself, its subnets `<vpc>-public-<n>` / `<vpc>-private-<n>` under the VPC,
    each route table, association and route after its subnet under that subnet / route table, and each NAT
    gateway and EIP `<vpc>-<n>` under the public subnet of zone n (pulumi-awsx awsx/ec2/vpc.ts).
    """

    def __init__(self, network: Component, children: naming.NetworkChildren):
        self.children = children
        component = pulumi.create_urn(children.awsx_vpc, "awsx:ec2:Vpc", parent=network)
        self.vpc_parent = component
        self.vpc = pulumi.create_urn(children.awsx_vpc, _token(ec2.Vpc), parent=component)

    def subnet(self, kind: str, zone: int) -> pulumi.Output[str]:
        return pulumi.create_urn(self.children.awsx_subnet(kind, zone), _token(ec2.Subnet), parent=self.vpc)

    def route_table(self, kind: str, zone: int) -> pulumi.Output[str]:
        name = self.children.awsx_subnet(kind, zone)
        return pulumi.create_urn(name, _token(ec2.RouteTable), parent=self.subnet(kind, zone))

    def alias(self, name: str, parent: pulumi.Input[str]) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(aliases=[pulumi.Alias(name=name, parent=parent)])


def _token(cls: type) -> str:
    token = get_type_token(cls)
    assert token is not None  # every pulumi_aws resource class has one
    return token


class Network(Component):
    """The stack's VPC, built from `pulumi_aws.ec2` resources so `plan` and the tests see every part.

    Creates: the VPC (DNS support and hostnames on: Cloud Map's private zone needs both); an internet gateway;
    per zone one public subnet (its route table sends `0.0.0.0/0` to the internet gateway) and one private subnet
    (its own route table, with `0.0.0.0/0` to the zone's NAT when there is NAT), CIDRs from `plan_subnets`;
    NAT gateways with an Elastic IP each, or NAT instances (`nat.nat_instance`: instance, security group, role,
    instance profile), in the public subnets (one, or one per zone); and an S3 gateway endpoint on the private
    route tables (free, and ECR image layers come from S3, so they never pass through the NAT). Opt-in: interface
    endpoints with private DNS in the task subnets, behind one security group admitting HTTPS from the VPC.

    awsx's `Vpc` built the same layout before, but as one opaque resource offline, and it cannot build a NAT
    instance. Every child carries an alias to where awsx put it, so a stack created then replaces nothing.

    With `existing`, it creates nothing: the given VPC and subnets pass through to the rest of the stack.
    """

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]
    task_subnet_ids: pulumi.Output[list[str]]
    vpc_link_subnet_ids: pulumi.Output[list[str]]
    tasks_in_public_subnets: bool
    """Without NAT, private subnets have no way out (to ECR, logs, Cloud Map), so tasks sit in public ones and
    need public IPs."""
    nat_instance_ids: list[pulumi.Output[str]]
    """The NAT instances (none with NAT gateways, no NAT or an existing VPC): the dashboard graphs them."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        self.nat_instance_ids = []
        if args.existing is not None:
            self._use(args.existing)
            return
        if args.nat == "instance" and args.nat_instance is None:
            raise ValueError("a NAT instance needs its instance type and AMI (NetworkArgs.nat_instance)")
        children = naming.NetworkChildren(name)
        old = _AwsxUrns(self, children)
        public_blocks, private_blocks = plan_subnets(args.cidr, len(args.zones))
        tags = dict(args.tags)

        def opts_for(alias_name: str, alias_parent: pulumi.Input[str]) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions.merge(self.child_opts, old.alias(alias_name, alias_parent))

        network = ec2.Vpc(
            children.vpc,
            cidr_block=args.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**tags, "Name": children.vpc},
            opts=opts_for(children.awsx_vpc, old.vpc_parent),
        )
        gateway = ec2.InternetGateway(
            children.internet_gateway,
            vpc_id=network.id,
            tags={**tags, "Name": children.internet_gateway},
            opts=opts_for(children.awsx_vpc, old.vpc),
        )

        public_subnets: list[ec2.Subnet] = []
        private_tables: list[ec2.RouteTable] = []
        private_subnets: list[ec2.Subnet] = []
        internet_routes: list[pulumi.Resource] = []  # what a public subnet needs to reach the internet
        for index, zone in enumerate(args.zones):
            n = index + 1
            for kind, block in (("public", public_blocks[index]), ("private", private_blocks[index])):
                subnet = ec2.Subnet(
                    children.subnet(kind, n),
                    vpc_id=network.id,
                    availability_zone=zone,
                    cidr_block=block,
                    map_public_ip_on_launch=kind == "public",
                    tags={**tags, "Name": children.subnet(kind, n), naming.SUBNET_TAG: kind},
                    opts=opts_for(children.awsx_subnet(kind, n), old.vpc),
                )
                table = ec2.RouteTable(
                    children.route_table(kind, n),
                    vpc_id=network.id,
                    tags={**tags, "Name": children.route_table(kind, n)},
                    opts=opts_for(children.awsx_subnet(kind, n), old.subnet(kind, n)),
                )
                association = ec2.RouteTableAssociation(
                    children.association(kind, n),
                    subnet_id=subnet.id,
                    route_table_id=table.id,
                    opts=opts_for(children.awsx_subnet(kind, n), old.route_table(kind, n)),
                )
                if kind == "public":
                    internet_routes.append(association)
                    internet_routes.append(
                        ec2.Route(
                            children.default_route(kind, n),
                            route_table_id=table.id,
                            destination_cidr_block=aws_facts.ANYWHERE_V4,
                            gateway_id=gateway.id,
                            opts=opts_for(children.awsx_subnet(kind, n), old.route_table(kind, n)),
                        )
                    )
                    public_subnets.append(subnet)
                else:
                    private_subnets.append(subnet)
                    private_tables.append(table)

        # NAT lives in the public subnets: the first zone's for one, each zone's for one per zone.
        nat_zones = range(len(args.zones) if args.nat_per_az else 1) if args.nat else range(0)
        targets: list[tuple[str, pulumi.Output[str]]] = []  # (route argument, id) per NAT
        for index in nat_zones:
            n = index + 1
            if args.nat == "gateway":
                ip = ec2.Eip(
                    children.nat_ip(n),
                    domain="vpc",
                    tags={**tags, "Name": children.nat_ip(n)},
                    opts=opts_for(children.awsx_nat(n), old.subnet("public", n)),
                )
                nat_gateway = ec2.NatGateway(
                    children.nat(n),
                    subnet_id=public_subnets[index].id,
                    allocation_id=ip.allocation_id,
                    tags={**tags, "Name": children.nat(n)},
                    opts=pulumi.ResourceOptions.merge(
                        opts_for(children.awsx_nat(n), old.subnet("public", n)),
                        # A public NAT gateway needs the internet gateway attached to the VPC first.
                        pulumi.ResourceOptions(depends_on=[gateway]),
                    ),
                )
                targets.append(("nat_gateway_id", nat_gateway.id))
            else:
                assert args.nat_instance is not None  # checked above
                instance = nat_instance(
                    children.nat(n),
                    NatInstanceArgs(
                        vpc_id=network.id,
                        vpc_cidr=args.cidr,
                        subnet_id=public_subnets[index].id,
                        instance_type=args.nat_instance.instance_type,
                        ami_id=args.nat_instance.ami_id,
                        partition=args.partition,
                        tags=tags,
                    ),
                    # Its first-boot script installs nftables over the internet: the public route must be there.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[gateway, *internet_routes]),
                )
                targets.append(("network_interface_id", instance.primary_network_interface_id))
                self.nat_instance_ids.append(instance.id)

        for index, table in enumerate(private_tables):
            if not targets:
                break
            n = index + 1
            argument, target = targets[index] if args.nat_per_az else targets[0]
            ec2.Route(
                children.default_route("private", n),
                route_table_id=table.id,
                destination_cidr_block=aws_facts.ANYWHERE_V4,
                **{argument: target},
                opts=opts_for(children.awsx_subnet("private", n), old.route_table("private", n)),
            )

        ec2.VpcEndpoint(
            children.s3_endpoint,
            vpc_id=network.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_tables],
            tags={**tags, "Name": children.s3_endpoint},
            opts=self.child_opts,
        )

        task_subnets = public_subnets if args.nat is None else private_subnets
        if args.interface_endpoints:
            group = ec2.SecurityGroup(
                children.endpoint_group,
                vpc_id=network.id,
                description="mapgate interface endpoints: HTTPS from the VPC",
                tags={**tags, "Name": children.endpoint_group},
                opts=self.child_opts,
            )
            vpc.SecurityGroupIngressRule(
                children.endpoint_ingress,
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=aws_facts.HTTPS_PORT,
                to_port=aws_facts.HTTPS_PORT,
                cidr_ipv4=args.cidr,
                description="AWS API calls from the VPC",
                tags=tags,
                opts=self.child_opts,
            )
            for service in args.interface_endpoints:
                ec2.VpcEndpoint(
                    children.interface_endpoint(service),
                    vpc_id=network.id,
                    service_name=f"com.amazonaws.{args.region}.{service}",
                    vpc_endpoint_type="Interface",
                    # Private DNS: the service's usual name resolves to the endpoint everywhere in the VPC.
                    private_dns_enabled=True,
                    subnet_ids=[s.id for s in task_subnets],
                    security_group_ids=[group.id],
                    tags={**tags, "Name": children.interface_endpoint(service)},
                    opts=self.child_opts,
                )

        self.vpc_id = network.id
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.tasks_in_public_subnets = args.nat is None
        self.task_subnet_ids = self.public_subnet_ids if self.tasks_in_public_subnets else self.private_subnet_ids
        self.vpc_link_subnet_ids = self.task_subnet_ids
        self.register_outputs({"vpcId": self.vpc_id, "taskSubnetIds": self.task_subnet_ids})

    def _use(self, existing: ExistingNetwork) -> None:
        """Bring your own VPC: the ids pass through, and the component has no children."""
        self.vpc_id = pulumi.Output.from_input(existing.vpc_id)
        self.private_subnet_ids = pulumi.Output.from_input(list(existing.private_subnet_ids))
        self.public_subnet_ids = pulumi.Output.from_input(list(existing.public_subnet_ids or []))
        self.tasks_in_public_subnets = existing.public_subnet_ids is not None
        self.task_subnet_ids = self.public_subnet_ids if self.tasks_in_public_subnets else self.private_subnet_ids
        self.vpc_link_subnet_ids = self.private_subnet_ids
        self.register_outputs({"vpcId": self.vpc_id, "taskSubnetIds": self.task_subnet_ids})
