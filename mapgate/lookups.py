"""What `build()` asks AWS before it creates anything, so a bad answer creates nothing."""

from __future__ import annotations

from pulumi_aws.ec2 import get_subnet, get_vpc
from pulumi_aws.get_availability_zones import get_availability_zones
from pulumi_aws.get_caller_identity import get_caller_identity
from pulumi_aws.get_partition import get_partition
from pulumi_aws.get_region import get_region
from pulumi_aws.ssm import get_parameter

from mapgate import aws_facts
from mapgate.components.service import AwsContext
from mapgate.config import ConfigError
from mapgate.config.network import ExistingVpc

ZONES_KEY = "network.availabilityZones"


def look_up_aws() -> AwsContext:
    return AwsContext(
        region=get_region().region,
        account_id=get_caller_identity().account_id,
        partition=get_partition().partition,
    )


def resolve_zones(zones: int | list[str], region: str) -> list[str]:
    """The AZ names to use.

    A count takes the region's first default zones whose zone ID hosts VPC link v2 (e.g. never use1-az3); an
    explicit list is used as given, after checking each zone exists there and hosts VPC link v2.
    """
    found = get_availability_zones(
        state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    )
    zone_ids = dict(zip(found.names, found.zone_ids, strict=True))
    usable = [name for name in sorted(zone_ids) if aws_facts.vpc_link_supports(region, zone_ids[name])]
    if isinstance(zones, int):
        if len(usable) < zones:
            raise ConfigError(
                [
                    f"{ZONES_KEY}: {zones} — {region} has only {len(usable)} zones where API Gateway "
                    f"VPC links work ({', '.join(usable)}); ask for at most {len(usable)}"
                ]
            )
        return usable[:zones]
    problems = []
    for i, name in enumerate(zones):
        if name not in zone_ids:
            problems.append(
                f"{ZONES_KEY}[{i}]: {name!r} — not an available zone of {region}; zones: {', '.join(sorted(zone_ids))}"
            )
        elif name not in usable:
            problems.append(
                f"{ZONES_KEY}[{i}]: {name!r} — its zone ID {zone_ids[name]} does not host "
                f"API Gateway VPC links; usable zones: {', '.join(usable)}"
            )
    if problems:
        raise ConfigError(problems)
    return list(zones)


def nat_instance_ami(egress: str) -> str:
    """The current Amazon Linux 2023 arm64 AMI id, from the public SSM parameter AWS keeps up to date."""
    try:
        return str(get_parameter(name=aws_facts.AL2023_ARM64_AMI_PARAMETER).insecure_value)
    except Exception as error:  # the invoke's error type is the engine's; its text says what went wrong
        raise ConfigError(
            [
                f"network.egress: {egress!r} — the NAT instance's AMI comes from the public SSM parameter "
                f"{aws_facts.AL2023_ARM64_AMI_PARAMETER}, which could not be read ({error}); check that the "
                "region has Amazon Linux 2023 and that the deploying role may call ssm:GetParameter"
            ]
        ) from None


EXISTING_KEY = "network.existing"


def check_existing_vpc(existing: ExistingVpc, region: str) -> None:
    """What offline validation cannot know about an existing VPC, asked before anything is created.

    The VPC has DNS support and DNS hostnames on (the Cloud Map private namespace needs both); every subnet is in
    it; the private subnets (where the VPC link goes) are in at least two zones, each a zone ID where API Gateway
    VPC links exist (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vpc-links.html).
    """
    problems: list[str] = []
    try:
        vpc = get_vpc(id=existing.vpc_id)
    except Exception as error:  # the invoke's error type is the engine's; its text says what went wrong
        raise ConfigError([f"{EXISTING_KEY}.vpcId: {existing.vpc_id!r} — no such VPC here ({error})"]) from None
    for flag, on in (("enableDnsSupport", vpc.enable_dns_support), ("enableDnsHostnames", vpc.enable_dns_hostnames)):
        if not on:
            problems.append(
                f"{EXISTING_KEY}.vpcId: {existing.vpc_id!r} — {flag} is off; the Cloud Map private namespace needs "
                "DNS support and DNS hostnames on (aws ec2 modify-vpc-attribute)"
            )
    lists = {"privateSubnetIds": existing.private_subnet_ids, "publicSubnetIds": existing.public_subnet_ids or []}
    private_zones: dict[str, str] = {}
    for key, ids in lists.items():
        for i, subnet_id in enumerate(ids):
            where = f"{EXISTING_KEY}.{key}[{i}]: {subnet_id!r}"
            try:
                subnet = get_subnet(id=subnet_id)
            except Exception as error:
                problems.append(f"{where} — no such subnet here ({error})")
                continue
            if subnet.vpc_id != existing.vpc_id:
                problems.append(f"{where} — it is in {subnet.vpc_id}, not in {existing.vpc_id}")
                continue
            if key != "privateSubnetIds":
                continue
            zone_id = subnet.availability_zone_id
            if not aws_facts.vpc_link_supports(region, zone_id):
                problems.append(
                    f"{where} — its zone ID {zone_id} ({subnet.availability_zone}) does not host API Gateway VPC "
                    "links; use subnets in other zones"
                )
            elif zone_id in private_zones:
                problems.append(
                    f"{where} — in the same zone ({zone_id}) as {private_zones[zone_id]}; the subnets must be in "
                    "different zones so that one zone's outage leaves the VPC link and tasks running"
                )
            else:
                private_zones[zone_id] = subnet_id
    if problems:
        raise ConfigError(problems)
