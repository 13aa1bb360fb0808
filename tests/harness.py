"""Run the real program under Pulumi mocks and hand back what it registered, fully resolved.

Assertions then run on plain data after the run, never inside an `apply` that might not fire: `run_stack`
fails loudly if the program's outputs did not all resolve.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import runpy
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.mocks import MockMonitor

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "mapgate"
REGION = "us-east-1"
ACCOUNT = "123456789012"

# us-east-1 as AWS reports it: use1-az3 (us-east-1c here) hosts no VPC link.
ZONES = {
    "us-east-1a": "use1-az1",
    "us-east-1b": "use1-az2",
    "us-east-1c": "use1-az3",
    "us-east-1d": "use1-az4",
    "us-east-1e": "use1-az5",
    "us-east-1f": "use1-az6",
}


class ImmediateExecutor(ThreadPoolExecutor):
    """Runs mock calls inline: no worker threads, so no cross-loop races between tests (pulumi/pulumi#7663)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _computed(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """Outputs AWS computes, per type, in camelCase and of the right type (never echo inputs of remote ones)."""
    name, inputs = args.name, args.inputs
    match args.typ:
        case "awsx:ec2:Vpc":
            return {
                "vpcId": "vpc-0123456789abcdef0",
                "publicSubnetIds": [f"subnet-public-{i}" for i, _ in enumerate(inputs["availabilityZoneNames"])],
                "privateSubnetIds": [f"subnet-private-{i}" for i, _ in enumerate(inputs["availabilityZoneNames"])],
            }
        case "awsx:ecr:Image":
            return {"imageUri": f"{inputs['repositoryUrl']}@sha256:{'0' * 64}"}
        case "aws:ec2/securityGroup:SecurityGroup":
            return {"arn": _arn("ec2", f"security-group/sg-{name}")}
        case "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
            return {"arn": _arn("servicediscovery", f"namespace/ns-{name}"), "hostedZone": "Z0123456789"}
        case "aws:servicediscovery/service:Service":
            return {"arn": _arn("servicediscovery", f"service/srv-{inputs['name']}")}
        case "aws:ecs/cluster:Cluster":
            return {"arn": _arn("ecs", f"cluster/{inputs['name']}")}
        case "aws:ecs/taskDefinition:TaskDefinition":
            return {"arn": _arn("ecs", f"task-definition/{inputs['family']}:1"), "revision": 1}
        case "aws:ecs/service:Service":
            return {"name": f"{name}-1a2b3c4"}
        case "aws:iam/role:Role":
            return {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "name": name}
        case "aws:cloudwatch/logGroup:LogGroup":
            return {"arn": _arn("logs", f"log-group:{inputs['name']}")}
        case "aws:ecr/repository:Repository":
            return {"name": name, "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"}
        case "aws:apigatewayv2/api:Api":
            return {"apiEndpoint": f"https://{name}.execute-api.{REGION}.amazonaws.com"}
    return {}


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    resources: list[pulumi.runtime.MockResourceArgs] = field(default_factory=list)
    calls: list[pulumi.runtime.MockCallArgs] = field(default_factory=list)
    zones: Mapping[str, str] = field(default_factory=lambda: dict(ZONES))

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        remote = args.typ.startswith("awsx:")
        state = _computed(args) if remote else {**args.inputs, **_computed(args)}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append(args)
        return self._answer(args.token), []  # the SDK iterates this despite its Optional hint

    def _answer(self, token: str) -> dict[str, Any]:
        match token:
            case "aws:index/getRegion:getRegion":
                return {"region": REGION, "name": REGION, "id": REGION}
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/test", "userId": "AIDTEST"}
            case "aws:index/getPartition:getPartition":
                return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
            case "aws:index/getAvailabilityZones:getAvailabilityZones":
                return {"names": list(self.zones), "zoneIds": list(self.zones.values()), "id": REGION}
        raise AssertionError(f"the program made an invoke the tests do not know: {token}")


@dataclass(frozen=True)
class Registration:
    urn: str
    typ: str
    name: str
    parent: str


class RecordingMonitor(MockMonitor):
    """Also records each resource's parent and which components called register_outputs."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.registrations: list[Registration] = []
        self.outputs_registered: set[str] = set()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(Registration(response.urn, request.type, request.name, request.parent))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        self.outputs_registered.add(request.urn)
        return super().RegisterResourceOutputs(request)


@dataclass
class StackRun:
    """What one program run registered, plus its resolved stack outputs."""

    resources: list[pulumi.runtime.MockResourceArgs]
    outputs: dict[str, Any]
    calls: list[pulumi.runtime.MockCallArgs]
    registrations: list[Registration]
    outputs_registered: set[str]

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> pulumi.runtime.MockResourceArgs:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"expected one {typ} named {name}, found {[r.name for r in self.of_type(typ)]}"
        return found[0]

    def inputs(self, typ: str, name: str) -> dict[str, Any]:
        return dict(self.one(typ, name).inputs)


def load_stack_file(stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml, as YAML values."""
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return dict(document["config"])


def as_engine_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Encode config as the Pulumi CLI hands it to the program: strings, objects as JSON."""
    return {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}


def stack_config(stack: str, **overrides: Any) -> dict[str, Any]:
    """A stack file's config with `mapgate:<key>` overrides (None deletes the key)."""
    config = load_stack_file(stack)
    for key, value in overrides.items():
        if value is None:
            config.pop(f"{PROJECT}:{key}", None)
        else:
            config[f"{PROJECT}:{key}"] = value
    return config


@contextmanager
def _engine_environment(config: Mapping[str, Any]) -> Iterator[None]:
    saved = os.environ.get("PULUMI_CONFIG")
    os.environ["PULUMI_CONFIG"] = json.dumps(as_engine_config(config))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PULUMI_CONFIG", None)
        else:
            os.environ["PULUMI_CONFIG"] = saved


def run_stack(
    config: Mapping[str, Any], stack: str = "dev", mocks: RecordingMocks | None = None, *, preview: bool = False
) -> StackRun:
    """Run __main__.py as `pulumi up` would (or `pulumi preview`), with `config` as the stack's config, under mocks.

    With preview=False every output resolves, and the run fails unless the stack outputs did.
    """
    mocks = mocks or RecordingMocks()
    monitor = RecordingMonitor(mocks)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.set_default_executor(ImmediateExecutor())
    saved_settings = runtime_settings.SETTINGS
    try:
        with _engine_environment(config):
            pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
            outputs: dict[str, Any] = {}

            @pulumi.runtime.test
            def program() -> pulumi.Output[Any]:
                runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
                root = runtime_settings.get_root_resource()
                assert root is not None
                exported = getattr(root, "outputs", {})
                return pulumi.Output.from_input(dict(exported)).apply(outputs.update)

            program()
            if not outputs and not preview:
                raise AssertionError("the program's stack outputs never resolved: assertions on them would not run")
            return StackRun(
                resources=list(mocks.resources),
                outputs=outputs,
                calls=list(mocks.calls),
                registrations=list(monitor.registrations),
                outputs_registered=set(monitor.outputs_registered),
            )
    finally:
        runtime_settings.SETTINGS = saved_settings
        asyncio.set_event_loop(None)
        loop.close()


DELETE = object()


def changed(stack: str, path: Sequence[str | int], value: Any) -> dict[str, Any]:
    """The stack file's `mapgate:` config (prefix removed) with one nested value replaced (or deleted)."""
    config = {
        key.removeprefix(f"{PROJECT}:"): value
        for key, value in copy.deepcopy(load_stack_file(stack)).items()
        if key.startswith(f"{PROJECT}:")
    }
    node: Any = config
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return config


def with_prefix(config: dict[str, Any]) -> dict[str, Any]:
    return {f"{PROJECT}:{key}": value for key, value in config.items()} | {"aws:region": "us-east-1"}
