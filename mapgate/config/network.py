"""`mapgate:network`: the VPC the stack creates."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, field_validator

from mapgate.config.base import Model, fail

# mapgate's choice: at least 2 zones (a VPC link and a routed service survive one zone), at most 6.
AZ_COUNT_MIN, AZ_COUNT_MAX = 2, 6
_AZ_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")

NatGateways = Literal["none", "single", "onePerAz"]


def _check_cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise fail("cidr", "must be an IPv4 CIDR block such as 10.0.0.0/16 with a prefix from /16 to /24") from None
    if net.version != 4:
        raise fail("cidr", "must be an IPv4 CIDR block (IPv6 is not supported)")
    # A VPC is /16 to /28 (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html); mapgate stops
    # at /24 so that every AZ still gets a public and a private subnet with room for tasks.
    if not 16 <= net.prefixlen <= 24:
        raise fail("cidr", "prefix must be from /16 to /24 (VPC subnets need room per AZ)")
    if str(net) != value:
        raise fail("cidr", f"has host bits set; did you mean {net!s}?")
    return value


def _check_az_list(value: list[str]) -> list[str]:
    if not AZ_COUNT_MIN <= len(value) <= AZ_COUNT_MAX:
        raise fail("az_count", f"must name from {AZ_COUNT_MIN} to {AZ_COUNT_MAX} availability zones")
    for name in value:
        if not _AZ_NAME.match(name):
            raise fail("az_name", f"{name!r} is not an availability zone name such as us-east-1a")
    if len(set(value)) != len(value):
        raise fail("az_dup", "names an availability zone twice")
    return value


class NetworkConfig(Model):
    """The VPC. `natGateways: none` puts tasks in public subnets with public IPs (no NAT cost)."""

    cidr: Annotated[str, AfterValidator(_check_cidr)] = "10.0.0.0/16"
    availability_zones: int | list[str] = 2
    nat_gateways: NatGateways = "none"

    @field_validator("availability_zones", mode="before")
    @classmethod
    def _count_or_names(cls, value: Any) -> Any:
        # Checked here rather than by the union, which would report one error per branch.
        if isinstance(value, int) and not isinstance(value, bool):
            if not AZ_COUNT_MIN <= value <= AZ_COUNT_MAX:
                raise fail("az_count", f"must be a zone count from {AZ_COUNT_MIN} to {AZ_COUNT_MAX}")
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return _check_az_list(value)
        raise fail("az_type", f"must be a zone count from {AZ_COUNT_MIN} to {AZ_COUNT_MAX} or a list of zone names")

    @property
    def az_count(self) -> int:
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)
