"""Test helpers on top of the offline runner: the project's stack files, config edits, a fixed AZ map.

Assertions run on what `run_stack` recorded, after the run, never inside an `apply` that might not fire:
the runner fails loudly if the program's outputs did not all resolve.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mapgate import PROJECT, naming
from mapgate import resource_types as types
from mapgate.cli.inventory import container_definitions
from mapgate.config.source import project_keys
from mapgate.offline import (
    ACCOUNT,
    OfflineMocks,
    Resource,
    StackRun,
    run_program,
)
from mapgate.offline import (
    load_stack_file as _load_stack_file,
)

ROOT = Path(__file__).resolve().parent.parent
# The product's tests read these stack files, copies of the shipped ones; `tests/test_your_stacks.py` checks the
# project's own Pulumi.<stack>.yaml files, which users edit.
FIXTURE_PROJECT = ROOT / "tests" / "fixtures" / "project"
REGION = "us-east-1"

__all__ = [
    "ACCOUNT",
    "DELETE",
    "FIXTURE_PROJECT",
    "PROJECT",
    "REGION",
    "ROOT",
    "RecordingMocks",
    "StackRun",
    "changed",
    "run_stack",
]

# us-east-1 as an account might see it: us-east-1c is use1-az3, which hosts no VPC link.
ZONES = {
    "us-east-1a": "use1-az1",
    "us-east-1b": "use1-az2",
    "us-east-1c": "use1-az3",
    "us-east-1d": "use1-az4",
    "us-east-1e": "use1-az5",
    "us-east-1f": "use1-az6",
}


def RecordingMocks() -> OfflineMocks:
    return OfflineMocks(region=REGION, zones=dict(ZONES))


def load_stack_file(stack: str) -> dict[str, Any]:
    """A fixture stack's config (tests/fixtures/project): what the product's tests run."""
    return _load_stack_file(FIXTURE_PROJECT, stack)


def user_stacks() -> list[str]:
    """The project's own stacks, from its Pulumi.<stack>.yaml files."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))


def load_user_stack_file(stack: str) -> dict[str, Any]:
    return _load_stack_file(ROOT, stack)


def run_stack(
    config: Mapping[str, Any], stack: str = "dev", mocks: OfflineMocks | None = None, *, preview: bool = False
) -> StackRun:
    """Run __main__.py with `config` as the stack config, under mocks, with the fixed us-east-1 zones."""
    return run_program(ROOT, config, stack, mocks or RecordingMocks(), preview=preview)


DELETE = object()


def changed(stack: str, path: Sequence[str | int], value: Any) -> dict[str, Any]:
    """The stack file's `mapgate:` config (prefix removed) with one nested value replaced (or deleted)."""
    config = project_keys(copy.deepcopy(load_stack_file(stack)))
    node: Any = config
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return config


def with_prefix(config: dict[str, Any]) -> dict[str, Any]:
    return {f"{PROJECT}:{key}": value for key, value in config.items()} | {"aws:region": REGION}


def children(service: str) -> naming.ServiceChildren:
    """The logical names of one FargateService's children, as the component names them."""
    return naming.ServiceChildren(service)


def containers(run: StackRun, service: str) -> list[dict[str, Any]]:
    """The container definitions of a service's task definition, parsed."""
    return container_definitions(run.inputs(types.TASK_DEFINITION, children(service).task_definition))


def environment(run: StackRun, service: str) -> dict[str, str]:
    (container,) = containers(run, service)
    return {e["name"]: e["value"] for e in container["environment"]}


# The logical names of the single-instance components' children.
API = naming.ApiChildren(naming.API)
DISCOVERY = naming.DiscoveryChildren(naming.DISCOVERY)
FIREWALL = naming.FirewallChildren(naming.FIREWALL)
NETWORK = naming.NetworkChildren(naming.NETWORK)
NAT_1 = naming.NatInstanceChildren(NETWORK.nat(1))


def made_by(run: StackRun, typ: str, component_type: str) -> list[Resource]:
    """The resources of type `typ` whose parent is a component of type `component_type` (e.g. the Firewall)."""
    urns = {r.urn: r for r in run.registrations}
    parents = {
        (r.typ, r.name)
        for r in run.registrations
        if r.typ == typ and r.parent in urns and urns[r.parent].typ == component_type
    }
    return [r for r in run.of_type(typ) if (r.typ, r.name) in parents]
