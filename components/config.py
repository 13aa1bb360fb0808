"""The stack config model: every `mapgate:*` key, validated in full before any resource exists.

Each AWS rule sits next to the field it constrains, with its source in
`../shared/research/aws-rules.md` (section numbers in the comments). The model is pure data:
`parse_config` turns the raw Pulumi config map into a frozen `StackConfig` or raises one
`ConfigError` that lists every problem with its key path, the bad value and what is allowed.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError

PROJECT = "mapgate"

# The Cloud Map attribute that leader election writes and routes filter on.
ELECTION_ATTRIBUTE = "leader"


class ConfigError(ValueError):
    """Stack config that cannot be deployed. `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"invalid stack config ({count}); nothing was created:\n" + "\n".join(f"  - {p}" for p in problems)
        )


# ---------------------------------------------------------------------------------------------
# Reusable constrained types


def _fail(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose text is final (pydantic templates would eat braces such as {build: app})."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _int_range(lo: int, hi: int) -> AfterValidator:
    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise _fail("out_of_range", f"must be an integer from {lo} to {hi}")
        return value

    return AfterValidator(check)


def _one_of(allowed: typing.Iterable[int], what: str) -> AfterValidator:
    allowed = tuple(allowed)

    def check(value: int) -> int:
        if value not in allowed:
            raise _fail("not_allowed", f"{what} must be one of {_join(allowed)}")
        return value

    return AfterValidator(check)


# YAML writes 50 for 50.0; strict floats would reject it.
_INT_AS_FLOAT = BeforeValidator(lambda v: float(v) if type(v) is int else v)


def _positive_up_to(high: float, unit: str) -> AfterValidator:
    def check(value: float) -> float:
        if not 0 < value <= high:
            raise _fail("out_of_range", f"must be more than 0 and at most {high:g} {unit}")
        return value

    return AfterValidator(check)


def _scalar_to_str(value: Any) -> Any:
    """YAML turns `leader: true` and `WORKERS: 4` into bool/int; AWS wants strings, so keep their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


ScalarString = Annotated[str, BeforeValidator(_scalar_to_str)]


def _join(values: typing.Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


class _Model(BaseModel):
    """camelCase keys as users write them, strict types, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        extra="forbid",
        strict=True,
        frozen=True,
    )


# ---------------------------------------------------------------------------------------------
# network

# §5: VPC link v2 only works in these AZ IDs (AWS "Set up VPC links V2", availability by Region).
# Regions missing here are not listed by AWS; their zones are used without a check.
VPC_LINK_ZONE_IDS: Mapping[str, frozenset[str]] = {
    "us-east-2": frozenset({"use2-az1", "use2-az2", "use2-az3"}),
    "us-east-1": frozenset({"use1-az1", "use1-az2", "use1-az4", "use1-az5", "use1-az6"}),
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    "us-west-2": frozenset({"usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"}),
    "ap-east-1": frozenset({"ape1-az2", "ape1-az3"}),
    "ap-south-1": frozenset({"aps1-az1", "aps1-az2", "aps1-az3"}),
    "ap-northeast-2": frozenset({"apne2-az1", "apne2-az2", "apne2-az3"}),
    "ap-southeast-1": frozenset({"apse1-az1", "apse1-az2", "apse1-az3"}),
    "ap-southeast-2": frozenset({"apse2-az1", "apse2-az2", "apse2-az3"}),
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    "ca-central-1": frozenset({"cac1-az1", "cac1-az2"}),
    "eu-central-1": frozenset({"euc1-az1", "euc1-az2", "euc1-az3"}),
    "eu-west-1": frozenset({"euw1-az1", "euw1-az2", "euw1-az3"}),
    "eu-west-2": frozenset({"euw2-az1", "euw2-az2", "euw2-az3"}),
    "eu-west-3": frozenset({"euw3-az1", "euw3-az3"}),
    "eu-south-2": frozenset({"eus2-az1", "eus2-az2", "eus2-az3"}),
    "eu-north-1": frozenset({"eun1-az1", "eun1-az2", "eun1-az3"}),
    "me-south-1": frozenset({"mes1-az1", "mes1-az2", "mes1-az3"}),
    "sa-east-1": frozenset({"sae1-az1", "sae1-az2", "sae1-az3"}),
    "us-gov-west-1": frozenset({"usgw1-az1", "usgw1-az2", "usgw1-az3"}),
}


def vpc_link_supports(region: str, zone_id: str) -> bool:
    supported = VPC_LINK_ZONE_IDS.get(region)
    return supported is None or zone_id in supported


AZ_COUNT_MIN, AZ_COUNT_MAX = 2, 6
_AZ_NAME = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$")


def _check_cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise _fail("cidr", "must be an IPv4 CIDR block such as 10.0.0.0/16 with a prefix from /16 to /24") from None
    if net.version != 4:
        raise _fail("cidr", "must be an IPv4 CIDR block (IPv6 is not supported)")
    if not 16 <= net.prefixlen <= 24:
        raise _fail("cidr", "prefix must be from /16 to /24 (VPC subnets need room per AZ)")
    if str(net) != value:
        raise _fail("cidr", f"has host bits set; did you mean {net!s}?")
    return value


def _check_az_list(value: list[str]) -> list[str]:
    if not AZ_COUNT_MIN <= len(value) <= AZ_COUNT_MAX:
        raise _fail("az_count", f"must name from {AZ_COUNT_MIN} to {AZ_COUNT_MAX} availability zones")
    for name in value:
        if not _AZ_NAME.match(name):
            raise _fail("az_name", f"{name!r} is not an availability zone name such as us-east-1a")
    if len(set(value)) != len(value):
        raise _fail("az_dup", "names an availability zone twice")
    return value


class NetworkConfig(_Model):
    """The VPC. `natGateways: none` puts tasks in public subnets with public IPs (no NAT cost)."""

    cidr: Annotated[str, AfterValidator(_check_cidr)] = "10.0.0.0/16"
    availability_zones: int | list[str] = 2
    nat_gateways: Literal["none", "single", "onePerAz"] = "none"

    @field_validator("availability_zones", mode="before")
    @classmethod
    def _count_or_names(cls, value: Any) -> Any:
        # Checked here rather than by the union, which would report one error per branch.
        if isinstance(value, int) and not isinstance(value, bool):
            if not AZ_COUNT_MIN <= value <= AZ_COUNT_MAX:
                raise _fail("az_count", f"must be a zone count from {AZ_COUNT_MIN} to {AZ_COUNT_MAX}")
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return _check_az_list(value)
        raise _fail("az_type", f"must be a zone count from {AZ_COUNT_MIN} to {AZ_COUNT_MAX} or a list of zone names")

    @property
    def az_count(self) -> int:
        zones = self.availability_zones
        return zones if isinstance(zones, int) else len(zones)

    @property
    def tasks_in_public_subnets(self) -> bool:
        return self.nat_gateways == "none"


# ---------------------------------------------------------------------------------------------
# namespace

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def _check_namespace(value: str) -> str:
    # §6: a private DNS namespace is a domain name of at most 253 characters.
    if not value or len(value) > 253:
        raise _fail("dns_name", "must be a DNS name of 1 to 253 characters")
    for label in value.split("."):
        if not _DNS_LABEL.match(label):
            raise _fail(
                "dns_name",
                f"label {label!r} must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            )
    if value == "local" or value.endswith(".local"):
        raise _fail("dns_name", "'.local' is reserved for multicast DNS; use e.g. mapgate.internal")
    return value


# ---------------------------------------------------------------------------------------------
# services

# §1: Fargate task sizes, cpu units -> allowed memory MiB.
FARGATE_MEMORY_BY_CPU: Mapping[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# CloudWatch Logs accepts only these retention periods (0 = never expire is deliberately absent).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = re.compile(
    rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


class ImageBuild(_Model):
    """`{build: <dir>}`: a Dockerfile directory, relative to the project, built and pushed to ECR."""

    build: str

    @field_validator("build")
    @classmethod
    def _directory_with_dockerfile(cls, value: str, info: ValidationInfo) -> str:
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise _fail("build_dir", "must be a directory inside the project, e.g. app")
        project_dir = Path((info.context or {}).get("project_dir", "."))
        if not (project_dir / value / "Dockerfile").is_file():
            raise _fail("build_dir", f"no Dockerfile at {project_dir / value / 'Dockerfile'!s}")
        return value


def _check_image_ref(value: str) -> str:
    if not _IMAGE_REF.match(value):
        raise _fail("image", "must be an image reference such as public.ecr.aws/nginx/nginx:1.27 or {build: app}")
    return value


ImageRef = Annotated[str, AfterValidator(_check_image_ref)]


class HealthCheck(_Model):
    """§2: the container health check ECS runs and pushes to Cloud Map."""

    command: list[str]
    interval: Annotated[int, _int_range(5, 300)] = 5
    timeout: Annotated[int, _int_range(2, 60)] = 5
    retries: Annotated[int, _int_range(1, 10)] = 3
    start_period: Annotated[int, _int_range(0, 300)] = 60

    @field_validator("command")
    @classmethod
    def _cmd_or_shell(cls, value: list[str]) -> list[str]:
        if not value or value[0] not in ("CMD", "CMD-SHELL"):
            raise _fail(
                "hc_command",
                'must start with "CMD" (run the arguments) or "CMD-SHELL" (run one shell string), '
                'e.g. ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]',
            )
        if value[0] == "CMD" and len(value) < 2:
            raise _fail("hc_command", '"CMD" needs the program to run after it')
        if value[0] == "CMD-SHELL" and len(value) != 2:
            raise _fail("hc_command", '"CMD-SHELL" takes exactly one shell string after it')
        if any(not part for part in value[1:]):
            raise _fail("hc_command", "has an empty argument")
        return value


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_ENV_PREFIXES = ("MAPGATE_", "ECS_")


def _check_environment(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not _ENV_NAME.match(name):
            raise _fail("env_name", f"{name!r} is not a variable name (letters, digits, '_')")
        if name.startswith(RESERVED_ENV_PREFIXES):
            raise _fail(
                "env_name",
                f"{name!r} uses a reserved prefix ({_join(RESERVED_ENV_PREFIXES)}); mapgate and ECS set those",
            )
    return value


class Autoscaling(_Model):
    """Target tracking on average CPU (and optionally memory) between `min` and `max` tasks."""

    min: Annotated[int, _int_range(0, 1000)]
    max: Annotated[int, _int_range(1, 1000)]  # §3: 1,000 tasks per service with service discovery
    cpu_target: Annotated[int, _int_range(10, 90)] | None = 70
    memory_target: Annotated[int, _int_range(10, 90)] | None = None

    @model_validator(mode="after")
    def _a_target(self) -> Autoscaling:
        if self.cpu_target is None and self.memory_target is None:
            raise _fail("autoscaling", "needs cpuTarget or memoryTarget (percent of the task's reservation)")
        return self


RecordType = Literal["A", "SRV"]
Architecture = Literal["arm64", "x86_64"]


class ServiceConfig(_Model):
    """One Fargate service registered in Cloud Map as `<name>.<namespace>`."""

    image: ImageRef | ImageBuild
    port: Annotated[int, _int_range(1, 65535)]
    cpu: Annotated[int, _one_of(FARGATE_MEMORY_BY_CPU, "cpu (units)")] = 256
    memory: int = 512
    architecture: Architecture = "arm64"  # §1: Spot runs ARM64 since 2024
    capacity: Literal["onDemand", "spot"] = "onDemand"
    desired_count: Annotated[int, _int_range(0, 1000)] = 2  # §3: 1,000 tasks with service discovery
    records: list[RecordType] = Field(default=["A"])
    dns_ttl: Annotated[int, _int_range(0, 2_147_483_647)] = 10  # §6
    health_check: HealthCheck
    environment: dict[str, ScalarString] = Field(default_factory=dict)
    allow_from: list[str] = Field(default_factory=list)
    leader_election: bool = False
    autoscaling: Autoscaling | None = None
    # ECS.5: the container gets a read-only root filesystem and a writable /tmp; only for images that allow it.
    read_only_root_filesystem: bool = False

    @field_validator("image", mode="before")
    @classmethod
    def _reference_or_build(cls, value: Any, info: ValidationInfo) -> Any:
        # Dispatched by hand: the union would report one error per branch.
        if isinstance(value, str):
            return _check_image_ref(value)
        if isinstance(value, dict):
            return ImageBuild.model_validate(value, context=info.context)
        raise _fail("image", "must be an image reference or {build: <directory>}")

    @field_validator("memory")
    @classmethod
    def _memory_fits_cpu(cls, value: int, info: ValidationInfo) -> int:
        # §1: RegisterTaskDefinition rejects other pairs with "Invalid 'cpu' setting for task".
        cpu = info.data.get("cpu")
        if cpu is None:  # cpu itself is invalid and reported on its own
            return value
        allowed = FARGATE_MEMORY_BY_CPU[cpu]
        if value not in allowed:
            shown = _join(allowed) if len(allowed) <= 8 else f"{allowed[0]} to {allowed[-1]} in steps of "
            if len(allowed) > 8:
                shown += str(allowed[1] - allowed[0])
            raise _fail("memory_for_cpu", f"with cpu {cpu} memory (MiB) must be {shown}")
        return value

    @field_validator("records")
    @classmethod
    def _record_set(cls, value: list[str]) -> list[str]:
        if not value:
            raise _fail("records", "must list at least one of A, SRV")
        if len(set(value)) != len(value):
            raise _fail("records", "lists a record type twice")
        return sorted(value)  # one order, so reordering the YAML is not a diff

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_environment(value)

    @field_validator("allow_from")
    @classmethod
    def _unique_peers(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise _fail("allow_from", "names a service twice")
        return value

    @property
    def registers_srv(self) -> bool:
        return "SRV" in self.records


# ---------------------------------------------------------------------------------------------
# api

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")
_ROUTE_SEGMENT = r"(?:[A-Za-z0-9._~-]+|\{[A-Za-z_][A-Za-z0-9_]*\})"
_ROUTE_PATH = re.compile(rf"^/$|^(?:/{_ROUTE_SEGMENT})*(?:/\{{[A-Za-z_][A-Za-z0-9_]*\+\}})?$")
_CLOUD_MAP_ATTR_KEY = re.compile(r"^[!-~]{1,255}$")  # §4: keys at most 255 characters


def parse_route_key(key: str) -> tuple[str, str]:
    """'GET /leader' -> ('GET', '/leader'); raises PydanticCustomError when malformed."""
    method, _, path = key.partition(" ")
    if method not in HTTP_METHODS or not path:
        raise _fail("route_key", f'must be "METHOD /path" with METHOD one of {_join(HTTP_METHODS)}')
    if not _ROUTE_PATH.match(path) or path == "":
        raise _fail(
            "route_key",
            f"path {path!r} must start with '/', use segments of letters, digits, '-', '.', '_', '~' "
            "or {param}, end without '/', and put a greedy {proxy+} only last",
        )
    return method, path


def _check_route_key(key: str) -> str:
    if key != "$default":
        parse_route_key(key)
    return key


RouteKey = Annotated[str, AfterValidator(_check_route_key)]


class Throttling(_Model):
    """§4: both limits must be set and > 0 (Pulumi sends 0 for a missing one: every call gets 429)."""

    rate_limit: Annotated[float, _INT_AS_FLOAT, _positive_up_to(10_000, "requests per second (account limit)")] = 50.0
    burst_limit: Annotated[int, _int_range(1, 5000)] = 100


class RouteConfig(_Model):
    """One HTTP API route to a Cloud Map service, optionally filtered by instance attributes."""

    service: str
    attributes: dict[str, ScalarString] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _attribute_sizes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, attr in value.items():
            if not _CLOUD_MAP_ATTR_KEY.match(key):
                raise _fail("attr_key", f"key {key!r} must be 1-255 printable ASCII characters without spaces")
            if not 1 <= len(attr) <= 1024:
                raise _fail("attr_value", f"value of {key!r} must be 1-1024 characters")
        return value


_SNS_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")


def _check_topic_arn(value: str) -> str:
    if not _SNS_TOPIC_ARN.match(value):
        raise _fail("topic_arn", "must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:alerts")
    return value


class ErrorAlarm(_Model):
    """A CloudWatch alarm on the share of 5xx answers: what users see when no healthy task matches a route."""

    threshold_percent: Annotated[float, _INT_AS_FLOAT, _positive_up_to(100, "(percent of requests)")] = 5.0
    topic_arn: Annotated[str, AfterValidator(_check_topic_arn)] | None = None


class ApiConfig(_Model):
    routes: dict[RouteKey, RouteConfig] = Field(default_factory=dict)
    throttling: Throttling = Field(default_factory=Throttling)
    timeout_ms: Annotated[int, _int_range(50, 30_000)] = 29_000  # §4: 30 s is a hard maximum
    access_log_retention_days: Annotated[int, _one_of(LOG_RETENTION_DAYS, "retention (days)")] = 30
    error_alarm: ErrorAlarm = Field(default_factory=ErrorAlarm)


# ---------------------------------------------------------------------------------------------
# the whole stack


def _check_service_name(name: str) -> str:
    # Becomes the Cloud Map service name, so the DNS name `<service>.<namespace>`.
    if not _DNS_LABEL.match(name):
        raise _fail(
            "service_name",
            "service name must be a DNS label: 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        )
    return name


ServiceName = Annotated[str, AfterValidator(_check_service_name)]


def _at_least_one_service(value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
    if not value:
        raise _fail("services", "must define at least one service")
    return value


class StackConfig(_Model):
    """Everything under the `mapgate:` config namespace."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    namespace: Annotated[str, AfterValidator(_check_namespace)] = "mapgate.internal"
    services: Annotated[dict[ServiceName, ServiceConfig], AfterValidator(_at_least_one_service)]
    api: ApiConfig = Field(default_factory=ApiConfig)
    log_retention_days: Annotated[int, _one_of(LOG_RETENTION_DAYS, "retention (days)")] = 14
    container_insights: bool = False
    # Stricter rules for stacks that serve users: routed services keep at least 2 tasks.
    production: bool = False

    @model_validator(mode="wrap")
    @classmethod
    def _fields_and_cross_references(cls, data: Any, handler: Any) -> StackConfig:
        # Cross-references are checked on the raw data, so they are reported together with field errors
        # instead of only after every field is fixed.
        cross = cross_reference_problems(data)
        try:
            result: StackConfig = handler(data)
        except ValidationError as err:
            fields = [
                InitErrorDetails(type=_fail(e["type"], e["msg"]), loc=tuple(e["loc"]), input=e["input"])
                for e in err.errors()
            ]
            raise ValidationError.from_exception_data(cls.__name__, fields + cross) from None
        if cross:
            raise ValidationError.from_exception_data(cls.__name__, cross)
        return result

    def routed_services(self) -> list[str]:
        return sorted({route.service for route in self.api.routes.values()})


def cross_reference_problems(data: Any) -> list[InitErrorDetails]:
    """Rules that relate one part of the config to another, checked on whatever parts are well formed."""
    problems: list[InitErrorDetails] = []

    def problem(loc: tuple[str | int, ...], value: Any, kind: str, message: str) -> None:
        problems.append(InitErrorDetails(type=_fail(kind, message), loc=loc, input=value))

    if not isinstance(data, dict):
        return problems
    raw_services = data.get("services")
    services: dict[str, dict[str, Any]] = {
        name: svc
        for name, svc in (raw_services if isinstance(raw_services, dict) else {}).items()
        if isinstance(svc, dict)
    }
    namespace = data.get("namespace", "mapgate.internal")
    names = sorted(services)

    def records(svc: dict[str, Any]) -> list[Any]:
        value = svc.get("records", ["A"])
        return value if isinstance(value, list) else []

    for name, svc in services.items():
        if isinstance(namespace, str) and len(name) + 1 + len(namespace) > 253:
            problem(("services", name), name, "dns_name", f"{name}.{namespace} is longer than 253 characters")
        peers = svc.get("allowFrom", [])
        for i, peer in enumerate(peers if isinstance(peers, list) else []):
            if not isinstance(peer, str):
                continue
            if peer == name:
                problem(
                    ("services", name, "allowFrom", i),
                    peer,
                    "allow_from",
                    "a service always reaches itself; list other services only",
                )
            elif peer not in services:
                problem(("services", name, "allowFrom", i), peer, "unknown_service", _unknown(peer, names))
        desired = svc.get("desiredCount", 2)
        scaling = svc.get("autoscaling")
        if isinstance(scaling, dict) and isinstance(desired, int):
            low, high = scaling.get("min"), scaling.get("max")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                problem(("services", name, "autoscaling", "min"), low, "autoscaling", f"must be at most max ({high})")
            elif isinstance(low, int) and isinstance(high, int) and not low <= desired <= high:
                problem(
                    ("services", name, "desiredCount"),
                    desired,
                    "autoscaling",
                    f"must be within autoscaling min..max ({low}..{high})",
                )
        if svc.get("leaderElection") is True and "SRV" not in records(svc):
            # The election rewrites its own Cloud Map instance, which must carry AWS_INSTANCE_PORT.
            problem(
                ("services", name, "records"),
                records(svc),
                "records",
                'leaderElection needs SRV records: set records to ["A", "SRV"] or ["SRV"]',
            )

    raw_api = data.get("api")
    api: dict[str, Any] = raw_api if isinstance(raw_api, dict) else {}
    routes: dict[str, Any] = api["routes"] if isinstance(api.get("routes"), dict) else {}
    checked_for_production: set[str] = set()
    for key, route in routes.items():
        if not isinstance(route, dict) or not isinstance(route.get("service"), str):
            continue
        service = route["service"]
        loc: tuple[str | int, ...] = ("api", "routes", key, "service")
        target = services.get(service)
        if target is None:
            problem(loc, service, "unknown_service", _unknown(service, names))
            continue
        if "SRV" not in records(target):
            # §4: API Gateway takes the port from Cloud Map; ECS writes it only with SRV records.
            problem(
                loc,
                service,
                "route_needs_srv",
                f"API routes need a port from Cloud Map: add SRV to services.{service}.records",
            )
        if data.get("production") is True and service not in checked_for_production:
            checked_for_production.add(service)
            # With one task, a deployment or a Spot interruption leaves the route with nothing healthy: 500/503.
            desired = target.get("desiredCount", 2)
            scaling = target.get("autoscaling")
            why = f"a routed service needs at least 2 tasks in production (route {key})"
            if isinstance(desired, int) and desired < 2:
                problem(("services", service, "desiredCount"), desired, "production", why)
            if isinstance(scaling, dict) and isinstance(scaling.get("min"), int) and scaling["min"] < 2:
                problem(("services", service, "autoscaling", "min"), scaling["min"], "production", why)
        attributes = route.get("attributes")
        if (
            isinstance(attributes, dict)
            and ELECTION_ATTRIBUTE in attributes
            and target.get("leaderElection") is not True
        ):
            problem(
                ("api", "routes", key, "attributes", ELECTION_ATTRIBUTE),
                attributes[ELECTION_ATTRIBUTE],
                "needs_election",
                f"no task writes '{ELECTION_ATTRIBUTE}' unless services.{service}.leaderElection is true",
            )
    return problems


def _unknown(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"no service named {name!r}; {hint}services: {_join(known)}"


# ---------------------------------------------------------------------------------------------
# from Pulumi's config map to StackConfig


def raw_from_pulumi(project: str = PROJECT) -> dict[str, Any]:
    """Every `<project>:*` key the engine passed in, prefix removed (unknown ones included, to reject them)."""
    from pulumi.runtime import config as runtime_config

    merged = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{project}:"
    return {key.removeprefix(prefix): value for key, value in merged.items() if key.startswith(prefix)}


def _is_plain_string(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) is Annotated:
        return _is_plain_string(typing.get_args(annotation)[0])
    return False


def decode_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi hands every config value over as a string (objects as JSON); give each its real type."""
    fields = {f.alias or n: f for n, f in StackConfig.model_fields.items()}
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        field = fields.get(key)
        if not isinstance(value, str) or field is None or _is_plain_string(field.annotation):
            decoded[key] = value
            continue
        try:
            decoded[key] = json.loads(value)
        except json.JSONDecodeError:
            decoded[key] = value  # left as text, so the type error shows what the user wrote
    return decoded


def parse_config(raw: Mapping[str, Any], *, project_dir: str | Path = ".") -> StackConfig:
    """Validate the `mapgate:` keys (without the prefix). Raises ConfigError listing every problem."""
    data = decode_raw(raw)
    try:
        cfg = StackConfig.model_validate(data, context={"project_dir": str(project_dir)})
    except ValidationError as err:
        raise ConfigError([_describe(e) for e in err.errors()]) from None
    return cfg


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an error in a dict key rather than its value
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(top level)"


def _describe(error: Any) -> str:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        allowed = _keys_at(parent)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        where = _path(loc) if parent else f"{PROJECT}:{key}"
        return f"{where}: unknown key; {hint}allowed keys: {_join(allowed)}"
    if kind == "missing":
        return f"{_path(loc)}: required key is missing"
    message = error["msg"].replace("Input should be", "must be")
    return f"{_path(loc)}: {json.dumps(error['input'], default=str)} — {message}"


def _keys_at(loc: tuple[int | str, ...]) -> list[str]:
    """The keys a user may write at `loc`, for 'did you mean' hints."""
    model: Any = StackConfig
    for part in loc:
        model = _unwrap(model)
        if isinstance(model, type) and issubclass(model, BaseModel):
            by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
            field = by_alias.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:
            args = typing.get_args(model)
            model = args[-1] if args else None
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            if not models:
                return annotation
            annotation = models[0]
        else:
            return annotation
