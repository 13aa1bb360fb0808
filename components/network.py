"""The VPC: where tasks and the VPC link live."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.config import ConfigError, NetworkConfig, vpc_link_supports

_NAT_STRATEGY = {
    "none": awsx.ec2.NatGatewayStrategy.NONE,
    "single": awsx.ec2.NatGatewayStrategy.SINGLE,
    "onePerAz": awsx.ec2.NatGatewayStrategy.ONE_PER_AZ,
}


def resolve_zones(network: NetworkConfig, region: str) -> list[str]:
    """The AZ names to use, chosen before any resource exists so a bad choice creates nothing.

    A count takes the region's first default zones whose zone ID hosts VPC link v2 (§5: e.g. not use1-az3);
    an explicit list is used as given, after checking each zone exists there and hosts VPC link v2.
    """
    found = aws.get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    zone_ids = dict(zip(found.names, found.zone_ids, strict=True))
    usable = [name for name in sorted(zone_ids) if vpc_link_supports(region, zone_ids[name])]
    zones = network.availability_zones
    if isinstance(zones, int):
        if len(usable) < zones:
            raise ConfigError(
                [
                    f"network.availabilityZones: {zones} — {region} has only {len(usable)} zones where API Gateway "
                    f"VPC links work ({', '.join(usable)}); ask for at most {len(usable)}"
                ]
            )
        return usable[:zones]
    problems = []
    for i, name in enumerate(zones):
        if name not in zone_ids:
            problems.append(
                f"network.availabilityZones[{i}]: {name!r} — not an available zone of {region}; "
                f"zones: {', '.join(sorted(zone_ids))}"
            )
        elif name not in usable:
            problems.append(
                f"network.availabilityZones[{i}]: {name!r} — its zone ID {zone_ids[name]} does not host "
                f"API Gateway VPC links; usable zones: {', '.join(usable)}"
            )
    if problems:
        raise ConfigError(problems)
    return list(zones)


def plan_subnets(cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Equal public and private subnets, one each per AZ, in fixed order so the layout never shifts.

    Private subnets exist even without NAT: switching `natGateways` later then adds routes instead of
    re-carving (and replacing) every subnet.
    """
    network = ipaddress.ip_network(cidr)
    bits = (2 * az_count - 1).bit_length()
    blocks = [str(b) for b in network.subnets(prefixlen_diff=bits)]
    return blocks[:az_count], blocks[az_count : 2 * az_count]


@dataclass(frozen=True)
class NetworkArgs:
    network: NetworkConfig
    zones: Sequence[str]
    tags: Mapping[str, str]


class Network(pulumi.ComponentResource):
    """The stack's VPC.

    Creates one `awsx.ec2.Vpc`: DNS support and hostnames on (Cloud Map's private zone needs both), an
    internet gateway, one public and one private subnet per AZ with CIDRs computed here, and NAT gateways
    by `natGateways` (none / single / one per AZ).
    """

    vpc_id: pulumi.Output[str]
    task_subnet_ids: pulumi.Output[Sequence[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:network:Network", name, None, opts)
        public, private = plan_subnets(args.network.cidr, len(args.zones))
        vpc = awsx.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.network.cidr,
            availability_zone_names=list(args.zones),
            enable_dns_support=True,
            enable_dns_hostnames=True,
            nat_gateways=awsx.ec2.NatGatewayConfigurationArgs(strategy=_NAT_STRATEGY[args.network.nat_gateways]),
            subnet_strategy=awsx.ec2.SubnetAllocationStrategy.AUTO,
            subnet_specs=[
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PUBLIC, name="public", cidr_blocks=public),
                awsx.ec2.SubnetSpecArgs(type=awsx.ec2.SubnetType.PRIVATE, name="private", cidr_blocks=private),
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.vpc_id = vpc.vpc_id
        # Without NAT, private subnets have no way out (to ECR, logs, Cloud Map), so tasks sit in public ones.
        self.task_subnet_ids = vpc.public_subnet_ids if args.network.tasks_in_public_subnets else vpc.private_subnet_ids
        self.register_outputs({"vpcId": self.vpc_id, "taskSubnetIds": self.task_subnet_ids})
