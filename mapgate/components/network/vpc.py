"""The VPC: where tasks and the VPC link live."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi
from pulumi_awsx import ec2 as awsx_ec2

from mapgate import naming
from mapgate.components.base import Component

NatGateways = Literal["none", "single", "onePerAz"]

_NAT_STRATEGY = {
    "none": awsx_ec2.NatGatewayStrategy.NONE,
    "single": awsx_ec2.NatGatewayStrategy.SINGLE,
    "onePerAz": awsx_ec2.NatGatewayStrategy.ONE_PER_AZ,
}


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
class NetworkArgs:
    cidr: str
    """The VPC's IPv4 block; split evenly into one public and one private subnet per zone."""
    zones: Sequence[str]
    """Availability zone names, already resolved and checked (see `mapgate.lookups.resolve_zones`)."""
    nat_gateways: NatGateways
    """`none`: tasks sit in public subnets with public IPs. Otherwise tasks use private subnets behind NAT."""
    tags: Mapping[str, str]


class Network(Component):
    """The stack's VPC.

    Creates one `awsx.ec2.Vpc`: DNS support and hostnames on (Cloud Map's private zone needs both), an internet
    gateway, one public and one private subnet per AZ with CIDRs computed here, and NAT gateways per
    `nat_gateways` (none / single / one per AZ). awsx is used here because the VPC's many parts (route tables,
    IGW, NAT with EIPs) are standard; what a user must see (CIDRs, zones, NAT strategy) is pinned in its inputs.
    """

    vpc_id: pulumi.Output[str]
    task_subnet_ids: pulumi.Output[Sequence[str]]
    tasks_in_public_subnets: bool
    """Without NAT, private subnets have no way out (to ECR, logs, Cloud Map), so tasks sit in public ones and
    need public IPs."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        public, private = plan_subnets(args.cidr, len(args.zones))
        vpc = awsx_ec2.Vpc(
            naming.child(name, "vpc"),
            cidr_block=args.cidr,
            availability_zone_names=list(args.zones),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            nat_gateways=awsx_ec2.NatGatewayConfigurationArgs(strategy=_NAT_STRATEGY[args.nat_gateways]),
            subnet_strategy=awsx_ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=[
                awsx_ec2.SubnetSpecArgs(type=awsx_ec2.SubnetType.PUBLIC, name="public", cidr_blocks=public),
                awsx_ec2.SubnetSpecArgs(type=awsx_ec2.SubnetType.PRIVATE, name="private", cidr_blocks=private),
            ],
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        self.vpc_id = vpc.vpc_id
        self.tasks_in_public_subnets = args.nat_gateways == "none"
        self.task_subnet_ids = vpc.public_subnet_ids if self.tasks_in_public_subnets else vpc.private_subnet_ids
        self.register_outputs({"vpcId": self.vpc_id, "taskSubnetIds": self.task_subnet_ids})
