"""`mapgate:network`: the VPC the stack creates, and how its tasks reach the internet."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from mapgate import aws_facts
from mapgate.config.base import Model, fail

# mapgate's choice: at least 2 zones (a VPC link and a routed service survive one zone), at most 6.
AZ_COUNT_MIN, AZ_COUNT_MAX = 2, 6
_AZ_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")

Egress = Literal["publicIp", "natGateway", "natGatewayPerAz", "natInstance", "natInstancePerAz"]
"""How tasks reach the internet (ECR, CloudWatch Logs, Cloud Map, whatever the app calls):

- `publicIp`: tasks sit in public subnets with a public IPv4 each; no NAT.
- `natGateway` / `natGatewayPerAz`: tasks in private subnets behind one managed NAT gateway, or one per AZ.
- `natInstance` / `natInstancePerAz`: the same behind one EC2 NAT instance, or one per AZ.
"""
DEFAULT_EGRESS: Egress = "publicIp"

NatGateways = Literal["none", "single", "onePerAz"]
# The key `egress` replaced, and what each of its values now means. `build()` warns when a stack still uses it.
NAT_GATEWAYS_AS_EGRESS: dict[str, Egress] = {
    "none": "publicIp",
    "single": "natGateway",
    "onePerAz": "natGatewayPerAz",
}


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


def _check_instance_type(value: str) -> str:
    if not aws_facts.GRAVITON_INSTANCE_TYPE.match(value):
        raise fail(
            "instance_type",
            "must be an ARM (Graviton) instance type such as t4g.nano or t4g.micro: the NAT instance runs the "
            "arm64 Amazon Linux 2023 AMI",
        )
    return value


def _check_endpoints(value: list[str]) -> list[str]:
    unknown = [name for name in value if name not in aws_facts.INTERFACE_ENDPOINT_SERVICES]
    if unknown:
        raise fail(
            "endpoint",
            f"{', '.join(map(repr, unknown))}: not an endpoint mapgate offers; choose from "
            f"{', '.join(aws_facts.INTERFACE_ENDPOINT_SERVICES)} (S3 has a free gateway endpoint already)",
        )
    if len(set(value)) != len(value):
        raise fail("endpoint_dup", "names an endpoint twice")
    return value


def _check_vpc_id(value: str) -> str:
    if not aws_facts.VPC_ID.match(value):
        raise fail("vpc_id", "must be a VPC id such as vpc-0123456789abcdef0")
    return value


def _check_subnet_ids(value: list[str]) -> list[str]:
    bad = [v for v in value if not aws_facts.SUBNET_ID.match(v)]
    if bad:
        raise fail("subnet_id", f"{', '.join(map(repr, bad))}: not a subnet id such as subnet-0123456789abcdef0")
    if len(set(value)) != len(value):
        raise fail("subnet_dup", "names a subnet twice")
    if len(value) < AZ_COUNT_MIN:
        raise fail(
            "subnet_count",
            f"needs at least {AZ_COUNT_MIN} subnets in different availability zones (the VPC link and the tasks "
            "survive one zone's outage; the zones are checked when the stack deploys)",
        )
    return value


SubnetIds = Annotated[list[str], AfterValidator(_check_subnet_ids)]


class ExistingVpc(Model):
    """A VPC the stack uses as it is: mapgate creates no VPC, subnet, route, NAT or endpoint in it.

    Its subnets must route to the internet (NAT, or public IPs with `publicSubnetIds`), or have the endpoints
    ECR, CloudWatch Logs and Cloud Map need; mapgate cannot see routes it does not own.
    """

    vpc_id: Annotated[str, AfterValidator(_check_vpc_id)]
    # The VPC link always sits here; so do the tasks, without public IPs, unless publicSubnetIds is set.
    private_subnet_ids: SubnetIds
    # Optional: tasks run here instead, with a public IPv4 each (for a VPC whose private subnets have no NAT).
    public_subnet_ids: SubnetIds | None = None


# The keys that make mapgate build a network: none of them may be set with `existing`.
CREATING_KEYS = ("cidr", "availability_zones", "egress", "nat_instance", "nat_gateways", "interface_endpoints")


class NatInstanceConfig(Model):
    """The EC2 NAT instance(s) of `egress: natInstance` / `natInstancePerAz`."""

    instance_type: Annotated[str, AfterValidator(_check_instance_type)] = "t4g.nano"


class NetworkConfig(Model):
    """The VPC and its egress. The default (`egress: publicIp`) has no NAT cost: tasks get public IPs."""

    cidr: Annotated[str, AfterValidator(_check_cidr)] = "10.0.0.0/16"
    availability_zones: int | list[str] = 2
    egress: Egress | None = None
    nat_instance: NatInstanceConfig = Field(default_factory=NatInstanceConfig)
    # Opt-in interface endpoints (priced in `plan`: per endpoint, per AZ, per hour): AWS calls stay inside the VPC.
    interface_endpoints: Annotated[list[str], AfterValidator(_check_endpoints)] = Field(default_factory=list)
    existing: ExistingVpc | None = None
    # Deprecated: `egress` replaced it. Still read (none/single/onePerAz mean publicIp/natGateway/natGatewayPerAz).
    nat_gateways: NatGateways | None = None

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

    @model_validator(mode="after")
    def _one_egress_key(self) -> NetworkConfig:
        if self.existing is not None:
            mixed = [key for key in CREATING_KEYS if key in self.model_fields_set]
            if mixed:
                names = ", ".join(to_camel(key) for key in mixed)
                raise fail(
                    "existing_mixed",
                    f"existing uses a VPC as it is, so it cannot be combined with {names}, which make mapgate "
                    "build a network; remove those keys (or remove existing)",
                    fields=("existing", *(to_camel(key) for key in mixed)),
                )
            return self
        if self.egress is not None and self.nat_gateways is not None:
            raise fail(
                "egress_twice",
                "sets both egress and the deprecated natGateways; keep only "
                f"egress (natGateways: {self.nat_gateways} is egress: {NAT_GATEWAYS_AS_EGRESS[self.nat_gateways]})",
                fields=("egress", "natGateways"),
            )
        if "nat_instance" in self.model_fields_set and not self.egress_choice.startswith("natInstance"):
            raise fail(
                "nat_instance_unused",
                f"natInstance is set but egress is {self.egress_choice}; it only applies to "
                "egress: natInstance or natInstancePerAz",
                fields=("natInstance", "egress"),
            )
        return self

    @property
    def egress_choice(self) -> Egress:
        if self.egress is not None:
            return self.egress
        if self.nat_gateways is not None:
            return NAT_GATEWAYS_AS_EGRESS[self.nat_gateways]
        return DEFAULT_EGRESS

    @property
    def deprecation(self) -> str | None:
        """What to tell a stack that still uses `natGateways`."""
        if self.nat_gateways is None:
            return None
        return (
            f"mapgate:network.natGateways is deprecated; it still works, and natGateways: {self.nat_gateways} "
            f"means egress: {NAT_GATEWAYS_AS_EGRESS[self.nat_gateways]}. Replace it with that egress key "
            "(nothing in AWS changes)."
        )

    @property
    def az_count(self) -> int:
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)
