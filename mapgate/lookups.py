"""What `build()` asks AWS before it creates anything, so a bad answer creates nothing."""

from __future__ import annotations

from pulumi_aws.get_availability_zones import get_availability_zones
from pulumi_aws.get_caller_identity import get_caller_identity
from pulumi_aws.get_partition import get_partition
from pulumi_aws.get_region import get_region

from mapgate import aws_facts
from mapgate.components.service import AwsContext
from mapgate.config import ConfigError

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
