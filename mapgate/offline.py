"""Run the real program (`__main__.py`) under Pulumi's mock runtime: no CLI, no credentials, no network.

Used by `mapgate plan` and by the test suite. Every registration is recorded with its inputs and parent;
with preview=False every output resolves, so callers inspect plain data after the run.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import resource as pulumi_resource_runtime
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import source_pb2

from mapgate import PROJECT
from mapgate import resource_types as types
from mapgate.aws_facts import VPC_LINK_ZONE_IDS
from mapgate.config.secrets import SecretText
from mapgate.config.source import read_stack_file

ACCOUNT = "123456789012"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
AMI_ID = "ami-0abcdef1234567890"  # what the SSM parameter for the current AL2023 arm64 AMI answers offline


def assumed_zones(region: str, count: int = 6) -> dict[str, str]:
    """Offline there is no account to ask: assume `<region>a…` map to zone IDs that host VPC link v2."""
    supported = sorted(VPC_LINK_ZONE_IDS.get(region, ()))
    ids = supported or [f"{region}-az{i + 1}" for i in range(count)]
    return {f"{region}{chr(ord('a') + i)}": zone_id for i, zone_id in enumerate(ids[:count])}


@dataclass(frozen=True)
class Resource:
    """One registered cloud resource: what the program sent (`inputs`), and the state the mocks answered."""

    typ: str
    name: str
    id: str
    inputs: dict[str, Any]
    state: dict[str, Any]


@dataclass
class OfflineMocks(pulumi.runtime.Mocks):
    """Answers every resource with typed, camelCase outputs AWS would compute, and the invokes the program makes."""

    region: str = "us-east-1"
    zones: Mapping[str, str] = field(default_factory=dict)
    resources: list[Resource] = field(default_factory=list)
    calls: list[pulumi.runtime.MockCallArgs] = field(default_factory=list)
    vpcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """What `network.existing` lookups answer for a VPC id; unknown ids: DNS support and hostnames on."""
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per subnet id: vpcId, availabilityZone. Unknown ids: in the VPC last asked about, zones in turn."""

    def __post_init__(self) -> None:
        if not self.zones:
            self.zones = assumed_zones(self.region)

    def _arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{ACCOUNT}:{resource}"

    def _computed(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        name, inputs = args.name, args.inputs
        match args.typ:
            case types.VPC:
                return {"arn": self._arn("ec2", f"vpc/{name}-id")}
            case types.EIP:
                return {"allocationId": f"eipalloc-{name}", "publicIp": "203.0.113.10"}
            case types.INSTANCE:
                return {"primaryNetworkInterfaceId": f"eni-{name}", "arn": self._arn("ec2", f"instance/{name}-id")}
            case types.INSTANCE_PROFILE:
                return {"name": name, "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}"}
            case types.IMAGE:
                return {"imageUri": f"{inputs['repositoryUrl']}@sha256:{'0' * 64}"}
            case types.SECURITY_GROUP:
                return {"arn": self._arn("ec2", f"security-group/sg-{name}")}
            case types.NAMESPACE:
                return {"arn": self._arn("servicediscovery", f"namespace/ns-{name}"), "hostedZone": "Z0123456789"}
            case types.DISCOVERY_SERVICE:
                return {"arn": self._arn("servicediscovery", f"service/srv-{inputs['name']}")}
            case types.DYNAMODB_TABLE:
                return {"arn": self._arn("dynamodb", f"table/{inputs['name']}")}
            case types.CLUSTER:
                return {"arn": self._arn("ecs", f"cluster/{inputs['name']}")}
            case types.TASK_DEFINITION:
                return {"arn": self._arn("ecs", f"task-definition/{inputs['family']}:1"), "revision": 1}
            case types.ECS_SERVICE:
                return {"name": f"{name}-1a2b3c4"}
            case types.ROLE:
                return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "name": name}
            case types.LOG_GROUP:
                return {"arn": self._arn("logs", f"log-group:{inputs['name']}")}
            case types.ECR_REPOSITORY:
                return {"name": name, "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{self.region}.amazonaws.com/{name}"}
            case types.SNS_TOPIC:
                return {"arn": self._arn("sns", name)}
            case types.SSM_PARAMETER:
                return {"arn": self._arn("ssm", f"parameter/{inputs['name'].lstrip('/')}")}
            case types.CERTIFICATE:
                return {
                    "arn": self._arn("acm", "certificate/00000000-0000-4000-8000-000000000000"),
                    "domainValidationOptions": [
                        {
                            "domainName": inputs["domainName"],
                            "resourceRecordName": f"_0123abcd.{inputs['domainName']}.",
                            "resourceRecordType": "CNAME",
                            "resourceRecordValue": "_4567cdef.acm-validations.aws.",
                        }
                    ],
                }
            case types.DNS_RECORD:
                return {"fqdn": str(inputs["name"]).rstrip(".")}
            case types.DOMAIN_NAME:
                config = dict(inputs["domainNameConfiguration"])
                target = f"d-0123456789.execute-api.{self.region}.amazonaws.com"
                return {
                    "domainNameConfiguration": config | {"targetDomainName": target, "hostedZoneId": "Z1UJRXOUMOOFQ8"}
                }
            case types.HTTP_API:
                return {
                    "apiEndpoint": f"https://{name}.execute-api.{self.region}.amazonaws.com",
                    "executionArn": f"arn:aws:execute-api:{self.region}:{ACCOUNT}:{name}-id",
                }
        return {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        remote = args.typ.startswith("awsx:")
        state = self._computed(args) if remote else {**args.inputs, **self._computed(args)}
        resource_id = f"{args.name}-id"
        self.resources.append(Resource(args.typ, args.name, resource_id, dict(args.inputs), state))
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        return self._answer(args.token, dict(args.args)), []  # the SDK iterates this despite its Optional hint

    def _subnet(self, subnet_id: str) -> dict[str, Any]:
        if subnet_id not in self.subnets:
            vpc_id = next((str(c.args["id"]) for c in reversed(self.calls) if c.token == types.GET_VPC), "")
            zone = list(self.zones)[len(self.subnets) % len(self.zones)]
            self.subnets[subnet_id] = {"vpcId": vpc_id, "availabilityZone": zone}
        subnet = self.subnets[subnet_id]
        zone_id = self.zones.get(subnet["availabilityZone"], "")
        return {"id": subnet_id, "availabilityZoneId": zone_id, **subnet}

    def _answer(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        match token:
            case types.GET_VPC:
                answer = {"cidrBlock": "10.0.0.0/16", "enableDnsSupport": True, "enableDnsHostnames": True}
                return {"id": args["id"], **answer, **self.vpcs.get(str(args["id"]), {})}
            case types.GET_SUBNET:
                return self._subnet(str(args["id"]))
            case types.GET_REGION:
                return {"region": self.region, "name": self.region, "id": self.region}
            case types.GET_CALLER_IDENTITY:
                return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/offline", "userId": "AIDOFFLINE"}
            case types.GET_PARTITION:
                return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
            case types.GET_AVAILABILITY_ZONES:
                return {"names": list(self.zones), "zoneIds": list(self.zones.values()), "id": self.region}
            case types.GET_PARAMETER:  # the only parameter the program reads: the AL2023 arm64 AMI id
                return {"insecureValue": AMI_ID, "value": AMI_ID, "type": "String", "version": 1}
        raise NotImplementedError(f"the program made an invoke the offline runtime does not answer: {token}")


@dataclass(frozen=True)
class Registration:
    urn: str
    typ: str
    name: str
    parent: str
    ignore_changes: tuple[str, ...] = ()
    alias_urns: tuple[str, ...] = ()  # the old URNs this resource takes over (pulumi.Alias)
    custom_timeouts: tuple[str, str, str] = ("", "", "")  # create, update, delete ("" = the provider's default)
    delete_before_replace: bool = False
    protect: bool = False
    replace_on_changes: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    """Explicit `depends_on` only: URNs the resource depends on through none of its inputs."""


class RecordingMonitor(MockMonitor):
    """Also records each resource's parent and which components called register_outputs."""

    def __init__(self, mocks: OfflineMocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.outputs_registered: set[str] = set()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives: the parent's whole type chain (not only its last type, as Pulumi's
        MockMonitor has it), and no `pulumi:pulumi:Stack` for the stack's direct children."""
        if parent:
            qualified = parent.split("::")[2]
            if qualified != ROOT_STACK_TYPE:
                type_ = f"{qualified}${type_}"
        return "::".join([f"urn:pulumi:{pulumi.get_stack()}", pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    response.urn,
                    request.type,
                    request.name,
                    request.parent,
                    tuple(request.ignoreChanges),
                    self._alias_urns(request),
                    (request.customTimeouts.create, request.customTimeouts.update, request.customTimeouts.delete),
                    bool(request.deleteBeforeReplace),
                    bool(request.protect),
                    tuple(request.replaceOnChanges),
                    self._explicit_dependencies(request),
                )
            )
        return response

    @staticmethod
    def _explicit_dependencies(request: Any) -> tuple[str, ...]:
        through_inputs = {urn for deps in request.propertyDependencies.values() for urn in deps.urns}
        return tuple(sorted(set(request.dependencies) - through_inputs))

    def _alias_urns(self, request: Any) -> tuple[str, ...]:
        urns = []
        for alias in request.aliases:  # (aliasSpecs is only the flag saying these are specs)
            if alias.WhichOneof("alias") == "urn":
                urns.append(alias.urn)
                continue
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            urns.append(self.make_urn(parent, spec.type or request.type, spec.name or request.name))
        return tuple(urns)

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs_registered.add(request.urn)
        return super().RegisterResourceOutputs(request)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() not in self.messages:
            self.messages.append(record.getMessage())


@dataclass
class StackRun:
    """What one program run registered, plus its resolved stack outputs and the engine warnings it logged."""

    resources: list[Resource]
    outputs: dict[str, Any]
    calls: list[pulumi.runtime.MockCallArgs]
    registrations: list[Registration]
    outputs_registered: set[str]
    warnings: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> Resource:
        found = [r for r in self.of_type(typ) if r.name == name]
        if len(found) != 1:
            raise LookupError(f"expected one {typ} named {name}, found {[r.name for r in self.of_type(typ)]}")
        return found[0]

    def inputs(self, typ: str, name: str) -> dict[str, Any]:
        return dict(self.one(typ, name).inputs)

    def by_id(self, resource_id: str) -> Resource:
        return self._ids[resource_id]

    @functools.cached_property
    def _ids(self) -> dict[str, Resource]:
        ids = {r.id: r for r in self.resources}
        if len(ids) != len(self.resources):
            raise LookupError("two resources of the run share an id")
        return ids


def load_stack_file(project_dir: Path, stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, as YAML values (StackFileError if it cannot be read)."""
    return read_stack_file(project_dir / f"Pulumi.{stack}.yaml")


# A stack file holds a secret as `{secure: <ciphertext>}`, which only the Pulumi CLI decrypts; offline, the program
# gets this text in its place (still marked secret), so `plan` runs on stack files with secrets.
UNDECRYPTED_SECRET = "offline-placeholder-for-a-secret"


def _is_secret(value: Any) -> bool:
    return isinstance(value, SecretText) or (isinstance(value, dict) and set(value) == {"secure"})


def as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Encode config as the Pulumi CLI hands it to the program: strings, objects as JSON, secrets in clear."""

    def encode(value: Any) -> str:
        if isinstance(value, SecretText):
            return value.text
        if _is_secret(value):
            return UNDECRYPTED_SECRET
        return value if isinstance(value, str) else json.dumps(value)

    return {key: encode(value) for key, value in config.items()}


@contextmanager
def _without_source_positions() -> Iterator[None]:
    """Skip the SDK's capture of where each resource was declared, for the length of an offline run.

    The SDK walks the whole Python stack for every resource it registers, so that the engine can show the source
    line; the mock monitor has no engine and no use for it. Under a deep stack (pytest's) that walk was about 40 %
    of a run's CPU time. The SDK's own fallback, an empty stack trace, is what it sends when it finds no frame.
    """
    saved = pulumi_resource_runtime._get_stack_trace
    pulumi_resource_runtime._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        pulumi_resource_runtime._get_stack_trace = saved


@contextmanager
def _engine_environment(config: Mapping[str, Any]) -> Iterator[None]:
    """The variables the Pulumi CLI sets for a program: its config, and which config keys are secrets."""
    variables = {
        "PULUMI_CONFIG": json.dumps(as_engine_config(config)),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(key for key, value in config.items() if _is_secret(value))),
    }
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_program(
    project_dir: Path,
    config: Mapping[str, Any],
    stack: str,
    mocks: OfflineMocks | None = None,
    *,
    preview: bool = False,
) -> StackRun:
    """Run `<project_dir>/__main__.py` as `pulumi up` (or `preview`) would, with `config` as the stack config.

    With preview=False every output resolves, and the run fails unless the stack outputs did.
    """
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))

    def main() -> None:
        runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")

    return run_inline(main, config, stack, mocks, preview=preview)


def run_inline(
    main: Callable[[], None],
    config: Mapping[str, Any],
    stack: str,
    mocks: OfflineMocks | None = None,
    *,
    preview: bool = False,
) -> StackRun:
    """Run `main` as a Pulumi program under the mocks; what it exports becomes the run's outputs.

    A test that builds one component alone calls this with a `main` that creates it and exports its outputs.
    """
    mocks = mocks or OfflineMocks(region=str(config.get("aws:region", "us-east-1")))
    monitor = RecordingMonitor(mocks)
    # Engine log messages (pulumi.log.warn) are collected for the caller instead of going to stderr.
    warnings = _Collect()
    logger = logging.getLogger(f"mapgate.offline.{id(monitor)}")
    logger.propagate = False
    logger.addHandler(warnings)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # A small real pool. Running mock calls inline (as Pulumi's own SDK tests do) nests one event-loop pump per
    # resource and hit Python's recursion limit at about 50 services (~650 resources).
    # The mock monitor's handlers run in its threads and each makes itself an event loop there (the SDK's
    # _ensure_event_loop); made here instead, they are closed with the run rather than left to the garbage collector.
    thread_loops: list[asyncio.AbstractEventLoop] = []

    def _thread_loop() -> None:
        thread_loops.append(asyncio.new_event_loop())
        asyncio.set_event_loop(thread_loops[-1])

    pool = ThreadPoolExecutor(max_workers=4, initializer=_thread_loop)
    loop.set_default_executor(pool)
    saved_settings = runtime_settings.SETTINGS
    # set_mocks only creates a root stack when none exists; a root left by an earlier run would parent this
    # run's components under the other stack's URN.
    saved_root = runtime_settings.ROOT.set(None)
    try:
        with _engine_environment(config), _without_source_positions():
            pulumi.runtime.set_mocks(
                mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor, logger=logger
            )
            outputs: dict[str, Any] = {}

            @pulumi.runtime.test
            def program() -> pulumi.Output[Any]:
                main()
                root = runtime_settings.get_root_resource()
                exported = getattr(root, "outputs", {}) if root is not None else {}
                return pulumi.Output.from_input(dict(exported)).apply(outputs.update)

            program()
            if not outputs and not preview:
                raise RuntimeError("the program's stack outputs never resolved")
            # The pool registers resources in whatever order its threads finish; sort so that every reader
            # (tests, plan, the policy pack) sees the same run every time.
            return StackRun(
                resources=sorted(mocks.resources, key=lambda r: (r.typ, r.name)),
                outputs=outputs,
                calls=list(mocks.calls),
                registrations=sorted(monitor.registrations, key=lambda r: r.urn),
                outputs_registered=set(monitor.outputs_registered),
                warnings=list(warnings.messages),
            )
    finally:
        logger.removeHandler(warnings)
        runtime_settings.SETTINGS = saved_settings
        runtime_settings.ROOT.reset(saved_root)
        asyncio.set_event_loop(None)
        loop.close()
        pool.shutdown(wait=True)
        for thread_loop in thread_loops:
            thread_loop.close()
