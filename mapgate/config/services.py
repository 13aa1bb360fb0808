"""`mapgate:services.<name>`: one Fargate service registered in Cloud Map as `<name>.<namespace>`.

Each field's AWS limit comes from `mapgate.aws_facts`, where its source is cited; mapgate's own defaults are
written here once, on the field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from mapgate import aws_facts, naming
from mapgate.config.base import Model, ScalarString, between, fail, int_range, join, one_of
from mapgate.config.secrets import SecretSource
from mapgate.contract import RESERVED_ENV_PREFIXES

# Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = re.compile(
    rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

MAX_TASKS = aws_facts.MAX_TASKS_WITH_SERVICE_DISCOVERY
# `pulumi config set --path` may store a number it was given as text; accept "3" for a counter.
_DIGITS_AS_INT = BeforeValidator(lambda v: int(v) if isinstance(v, str) and v.isdigit() else v)


def _inside_project(value: str, kind: str, example: str) -> str:
    if Path(value).is_absolute() or ".." in Path(value).parts:
        raise fail(kind, f"must be a path inside the project, e.g. {example}")
    return value


class ImageBuild(Model):
    """`{build: <dir>}`: a directory of the project (the build context), built and pushed to ECR.

    `dockerfile` names another Dockerfile than `<dir>/Dockerfile` (a path inside the project), `target` the stage
    to build, `args` the build arguments: what `docker build -f … --target … --build-arg …` takes.
    """

    # Before `build`, so that `build`'s check knows which Dockerfile to look for.
    dockerfile: str | None = None
    target: str | None = None
    args: dict[str, ScalarString] = Field(default_factory=dict)
    build: str

    @field_validator("dockerfile")
    @classmethod
    def _dockerfile_inside(cls, value: str | None) -> str | None:
        return None if value is None else _inside_project(value, "dockerfile", "app/Dockerfile.worker")

    @field_validator("build")
    @classmethod
    def _directory_with_dockerfile(cls, value: str, info: ValidationInfo) -> str:
        _inside_project(value, "build_dir", "app")
        project_dir = Path((info.context or {}).get("project_dir", "."))
        dockerfile = project_dir / (info.data.get("dockerfile") or Path(value) / "Dockerfile")
        if not dockerfile.is_file():
            raise fail("build_dir", f"no Dockerfile at {dockerfile!s}")
        return value

    @property
    def identity(self) -> str:
        """What makes two builds one image: the directory alone, unless a Dockerfile, target or args differ."""
        if self.dockerfile is None and self.target is None and not self.args:
            return self.build
        return json.dumps([self.build, self.dockerfile, self.target, sorted(self.args.items())])


def _check_image_ref(value: str) -> str:
    if not _IMAGE_REF.match(value):
        raise fail("image", "must be an image reference such as public.ecr.aws/nginx/nginx:1.27 or {build: app}")
    return value


ImageRef = Annotated[str, AfterValidator(_check_image_ref)]


class HealthCheck(Model):
    """The container health check ECS runs; its result is the health ECS pushes to Cloud Map."""

    command: list[str]
    interval: Annotated[int, between(aws_facts.HEALTH_CHECK_INTERVAL)] = 5
    timeout: Annotated[int, between(aws_facts.HEALTH_CHECK_TIMEOUT)] = 5
    retries: Annotated[int, between(aws_facts.HEALTH_CHECK_RETRIES)] = 3
    start_period: Annotated[int, between(aws_facts.HEALTH_CHECK_START_PERIOD)] = 60

    @field_validator("command")
    @classmethod
    def _cmd_or_shell(cls, value: list[str]) -> list[str]:
        if not value or value[0] not in aws_facts.HEALTH_CHECK_COMMAND_KINDS:
            raise fail(
                "hc_command",
                'must start with "CMD" (run the arguments) or "CMD-SHELL" (run one shell string), '
                'e.g. ["CMD-SHELL", "curl -f http://localhost:8080/ || exit 1"]',
            )
        if value[0] == "CMD" and len(value) < 2:
            raise fail("hc_command", '"CMD" needs the program to run after it')
        if value[0] == "CMD-SHELL" and len(value) != 2:
            raise fail("hc_command", '"CMD-SHELL" takes exactly one shell string after it')
        if any(not part for part in value[1:]):
            raise fail("hc_command", "has an empty argument")
        return value


def _check_environment(value: dict[str, Any]) -> dict[str, Any]:
    """Variable names, for `environment` and `secrets` alike."""
    for name in value:
        if not _ENV_NAME.match(name):
            raise fail("env_name", f"{name!r} is not a variable name (letters, digits, '_')")
        if name.startswith(RESERVED_ENV_PREFIXES):
            raise fail(
                "env_name",
                f"{name!r} uses a reserved prefix ({join(RESERVED_ENV_PREFIXES)}); mapgate and ECS set those",
            )
    return value


class Autoscaling(Model):
    """Target tracking on average CPU (and optionally memory) between `min` and `max` tasks."""

    min: Annotated[int, int_range(0, MAX_TASKS)]
    max: Annotated[int, int_range(1, MAX_TASKS)]
    cpu_target: Annotated[int, int_range(10, 90)] | None = 70
    memory_target: Annotated[int, int_range(10, 90)] | None = None

    @model_validator(mode="after")
    def _a_target(self) -> Autoscaling:
        if self.cpu_target is None and self.memory_target is None:
            raise fail("autoscaling", "needs cpuTarget or memoryTarget (percent of the task's reservation)")
        return self


RecordType = Literal["A", "SRV"]
Architecture = Literal["arm64", "x86_64"]
Capacity = Literal["onDemand", "spot"]
# What the port speaks. `grpc` declares the port gRPC in the task definition and makes the services the
# port is open to (allowFrom) get it as a gRPC target (`dns:///<name>.<namespace>:<port>`); `tcp` is anything
# else (a datastore). The API routes HTTP to `http` services.
Protocol = Literal["http", "grpc", "tcp"]


class ServiceConfig(Model):
    """One Fargate service registered in Cloud Map as `<name>.<namespace>`."""

    image: ImageRef | ImageBuild
    # None: a worker that listens on nothing (a queue consumer, a scheduler). It gets no Cloud Map service, no
    # DNS name, no ingress and no routes: nobody can dial a task that listens on no port.
    port: Annotated[int, int_range(1, 65535)] | None = None
    protocol: Protocol = "http"
    # The container's command, instead of the image's CMD: one image can run as two services.
    command: list[str] | None = None
    cpu: Annotated[int, one_of(aws_facts.FARGATE_MEMORY_BY_CPU, "cpu (units)")] = 256
    memory: int = 512
    architecture: Architecture = "arm64"  # ARM is about 20 % cheaper, and Spot runs it
    capacity: Capacity = "onDemand"
    desired_count: Annotated[int, int_range(0, MAX_TASKS)] = 2
    records: list[RecordType] = Field(default=["A"])
    dns_ttl: Annotated[int, int_range(0, aws_facts.DNS_TTL_MAX)] = 10
    # Required with a port (rules.port_services_report_health): its result is the health ECS pushes to Cloud Map.
    # Without a port it is optional: ECS then counts a running task as healthy.
    health_check: HealthCheck | None = None
    environment: dict[str, ScalarString] = Field(default_factory=dict)
    # Variables whose values ECS reads from SSM / Secrets Manager at task start; see `mapgate.config.secrets`.
    secrets: dict[str, SecretSource] = Field(default_factory=dict)
    allow_from: list[str] = Field(default_factory=list)
    leader_election: bool = False
    autoscaling: Autoscaling | None = None
    # ECS.5: the container gets a read-only root filesystem and a writable /tmp; only for images that allow it.
    read_only_root_filesystem: bool = False
    # Raise it by one to roll every task without any other change (`mapgate up --redeploy <service>` does that).
    redeploy: Annotated[int, _DIGITS_AS_INT, int_range(0, 1_000_000)] = 0

    @field_validator("image", mode="before")
    @classmethod
    def _reference_or_build(cls, value: Any, info: ValidationInfo) -> Any:
        # Dispatched by hand: the union would report one error per branch.
        if isinstance(value, str):
            return _check_image_ref(value)
        if isinstance(value, dict):
            return ImageBuild.model_validate(value, context=info.context)
        raise fail("image", "must be an image reference or {build: <directory>}")

    @field_validator("memory")
    @classmethod
    def _memory_fits_cpu(cls, value: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is None:  # cpu itself is invalid and reported on its own
            return value
        allowed = aws_facts.FARGATE_MEMORY_BY_CPU[cpu]
        if value not in allowed:
            shown = join(allowed) if len(allowed) <= 8 else f"{allowed[0]} to {allowed[-1]} in steps of "
            if len(allowed) > 8:
                shown += str(allowed[1] - allowed[0])
            raise fail("memory_for_cpu", f"with cpu {cpu} memory (MiB) must be {shown}")
        return value

    @field_validator("command")
    @classmethod
    def _a_command(cls, value: list[str] | None) -> list[str] | None:
        # Later arguments may be empty: `redis-server --save ""` turns snapshots off.
        if value is not None and (not value or not value[0]):
            raise fail(
                "command", 'must list the program and its arguments, e.g. ["python", "-m", "mapgate_app.worker"]'
            )
        return value

    @field_validator("records")
    @classmethod
    def _record_set(cls, value: list[str]) -> list[str]:
        if not value:
            raise fail("records", "must list at least one of A, SRV")
        if len(set(value)) != len(value):
            raise fail("records", "lists a record type twice")
        return sorted(value)  # one order, so reordering the YAML is not a diff

    @field_validator("environment", mode="before")
    @classmethod
    def _no_secret_values(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict) and "secure" in item:
                    raise fail(
                        "env_secret",
                        f"{name}: a secret does not go in environment: store it with "
                        f"`pulumi config set --secret <key> <value>` and use secrets: {{{name}: {{config: <key>}}}}",
                    )
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_environment(value)

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, value: dict[str, SecretSource]) -> dict[str, SecretSource]:
        return _check_environment(value)

    @field_validator("allow_from")
    @classmethod
    def _unique_peers(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise fail("allow_from", "names a service twice")
        return value

    @model_validator(mode="after")
    def _grpc_resolves_by_a(self) -> ServiceConfig:
        # gRPC's DNS resolver reads A (and AAAA) records only; the port comes from the target.
        if self.protocol == "grpc" and not self.registers_a:
            raise fail(
                "grpc_records",
                "protocol grpc needs A records (gRPC clients resolve A): add A to records",
                fields=("protocol", "records"),
            )
        return self

    @property
    def listens(self) -> bool:
        """Whether the service has a port, so a Cloud Map service, a DNS name and (maybe) callers."""
        return self.port is not None

    @property
    def registers_srv(self) -> bool:
        return "SRV" in self.records

    @property
    def registers_a(self) -> bool:
        return "A" in self.records


def _check_service_name(name: str) -> str:
    # Becomes the Cloud Map service name, so the DNS name `<service>.<namespace>`, and its component's name.
    if not aws_facts.DNS_LABEL.match(name):
        raise fail(
            "service_name",
            "service name must be a DNS label: 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
        )
    if naming.reserved_service_name(name):
        raise fail(
            "service_name",
            f"{name!r} is the name of one of mapgate's own components; reserved: "
            f"{join(sorted(naming.RESERVED_SERVICE_NAMES))} and names starting with {naming.IMAGE_PREFIX!r}",
        )
    return name


ServiceName = Annotated[str, AfterValidator(_check_service_name)]
