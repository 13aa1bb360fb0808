"""The transition matrix: realistic changes a user makes between two valid stack files (issue 19, item 4).

Each transition edits the shipped dev or prod stack file's config (prefix removed); `tests/test_transitions.py`
plans both sides offline and diffs them, and `python -m tests.transitions` renders the table in docs/changes.md.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mapgate.changes import facts as replacement_facts
from mapgate.cli import plan_json
from mapgate.cli.cost import estimate
from mapgate.cli.inventory import Inventory
from mapgate.cli.plan import Plan
from tests.harness import load_stack_file, project_keys, run_stack, with_prefix

Config = dict[str, Any]

VPC_ID = "vpc-0a1b2c3d4e5f60718"
PRIVATE = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
ISSUER = "https://issuer.example.com/"


@dataclass(frozen=True)
class Transition:
    name: str
    base: str
    """`dev` or `prod`: the shipped stack file it starts from."""
    edit: Callable[[Config], None]
    replaces: frozenset[str] = frozenset()
    """Resources (logical names) the diff must show as replaced; others may be replaced too."""
    refused: bool = False
    """The change cannot apply as it is: the diff must refuse it (a collision) and say what to do."""
    reverse: bool = False
    """Diff from the edited file back to the base (e.g. leaving `network.existing`)."""
    start: Callable[[Config], None] | None = None
    """An edit of the shipped file both sides share (e.g. another egress to start from)."""

    def configs(self, base: Config) -> tuple[Config, Config]:
        before = copy.deepcopy(base)
        if self.start is not None:
            self.start(before)
        edited = copy.deepcopy(before)
        self.edit(edited)
        return (edited, before) if self.reverse else (before, edited)


def _set(*path: str | int, value: Any) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        node: Any = config
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
        node[path[-1]] = value

    return edit


def _drop(*path: str) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        node: Any = config
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return edit


def _both(*edits: Callable[[Config], None]) -> Callable[[Config], None]:
    def edit(config: Config) -> None:
        for one in edits:
            one(config)

    return edit


def _svc(service: str, key: str, value: Any) -> Callable[[Config], None]:
    return _set("services", service, key, value=value)


def _egress(kind: str) -> Callable[[Config], None]:
    return _set("network", "egress", value=kind)


EGRESS = ("publicIp", "natGateway", "natGatewayPerAz", "natInstance", "natInstancePerAz")

_JWT = _both(
    _set("api", "authorizers", value={"users": {"issuer": ISSUER, "audience": ["app-client-id"]}}),
    _set("api", "routes", "GET /", "authorization", value={"jwt": "users"}),
)
_DOMAIN = _set("api", "domain", value={"name": "api.example.com", "hostedZoneId": "Z0123456789ABCDEFGHIJ"})

TRANSITIONS: list[Transition] = [
    Transition(
        "worker records A -> A+SRV", "dev", _svc("worker", "records", ["A", "SRV"]), frozenset({"discovery-worker"})
    ),
    Transition(
        "cache records SRV -> SRV+A", "dev", _svc("cache", "records", ["SRV", "A"]), frozenset({"discovery-cache"})
    ),
    Transition("app records SRV+A -> SRV", "dev", _svc("app", "records", ["SRV"]), frozenset({"discovery-app"})),
    Transition(
        "prod worker records A -> A+SRV",
        "prod",
        _svc("worker", "records", ["A", "SRV"]),
        frozenset({"discovery-worker"}),
    ),
    Transition("worker port 8080 -> 9090", "dev", _svc("worker", "port", 9090)),
    Transition("worker protocol grpc -> http", "dev", _svc("worker", "protocol", "http")),
    Transition(
        "app cpu/memory 256/512 -> 512/1024", "dev", _both(_svc("app", "cpu", 512), _svc("app", "memory", 1024))
    ),
    Transition("app architecture arm64 -> x86_64", "dev", _svc("app", "architecture", "x86_64")),
    Transition("app capacity spot -> onDemand", "dev", _svc("app", "capacity", "onDemand"), frozenset({"app-service"})),
    Transition(
        "prod app capacity onDemand -> spot", "prod", _svc("app", "capacity", "spot"), frozenset({"app-service"})
    ),
    Transition(
        "app election on -> off (and its leader/follower routes)",
        "dev",
        _both(
            _svc("app", "leaderElection", False),
            _drop("api", "routes", "GET /leader"),
            _drop("api", "routes", "GET /follower"),
        ),
    ),
    Transition("worker election off -> on", "dev", _svc("worker", "leaderElection", True)),
    Transition(
        "namespace renamed",
        "dev",
        _set("namespace", value="dev2.mapgate.internal"),
        frozenset({"discovery-app", "discovery-worker"}),
    ),
    Transition("prod egress natGatewayPerAz -> natGateway", "prod", _egress("natGateway")),
    Transition("prod egress natGatewayPerAz -> natInstance", "prod", _egress("natInstance")),
    Transition("prod egress natGatewayPerAz -> natInstancePerAz", "prod", _egress("natInstancePerAz")),
    Transition("prod egress natGatewayPerAz -> publicIp", "prod", _egress("publicIp")),
    Transition("availability zones 2 -> 3", "dev", _set("network", "availabilityZones", value=3), refused=True),
    Transition("prod availability zones 3 -> 2", "prod", _set("network", "availabilityZones", value=2), refused=True),
    Transition(
        "zones 2 -> 3 with a new network.cidr",
        "dev",
        _both(_set("network", "availabilityZones", value=3), _set("network", "cidr", value="10.1.0.0/16")),
    ),
    Transition("network.cidr changed", "dev", _set("network", "cidr", value="10.1.0.0/16")),
    Transition("route added", "dev", _set("api", "routes", "POST /work", value={"service": "app"})),
    Transition("route removed", "dev", _drop("api", "routes", "GET /follower")),
    Transition("route filter removed", "dev", _drop("api", "routes", "GET /leader", "attributes")),
    Transition("route authorization none -> iam", "dev", _set("api", "routes", "GET /", "authorization", value="iam")),
    Transition("prod route authorization iam -> none", "prod", _drop("api", "routes", "GET /leader", "authorization")),
    Transition("JWT authorizer added", "dev", _JWT),
    Transition("domain on", "dev", _DOMAIN),
    Transition("domain off", "dev", _DOMAIN, reverse=True),
    Transition("default endpoint off", "dev", _both(_DOMAIN, _set("api", "disableDefaultEndpoint", value=True))),
    Transition(
        "secret added",
        "dev",
        _both(_svc("app", "secrets", {"TOKEN": {"config": "appToken"}}), _set("appToken", value={"secure": "v1:abc"})),
    ),
    Transition("log retention 7 -> 30 days", "dev", _set("logRetentionDays", value=30)),
    Transition("health check interval 5 -> 10", "dev", _set("services", "app", "healthCheck", "interval", value=10)),
    Transition("worker desiredCount 2 -> 4", "dev", _svc("worker", "desiredCount", 4)),
    Transition("app autoscaling on", "dev", _svc("app", "autoscaling", {"min": 3, "max": 6, "cpuTarget": 60})),
    Transition("prod app autoscaling off", "prod", _drop("services", "app", "autoscaling")),
    Transition("container insights on", "dev", _set("containerInsights", value=True)),
    Transition("prod alarm threshold 2 -> 5 %", "prod", _set("api", "errorAlarm", "thresholdPercent", value=5)),
    Transition("alarm email added", "dev", _set("api", "errorAlarm", value={"email": "oncall@example.com"})),
    Transition("prod production off", "prod", _set("production", value=False)),
    Transition("prod production on", "prod", _set("production", value=False), reverse=True),
    Transition(
        "alarm to an existing SNS topic",
        "dev",
        _set("api", "errorAlarm", value={"topicArn": "arn:aws:sns:us-east-1:123456789012:oncall"}),
    ),
    Transition(
        "throttling 20/40 -> 50/100", "dev", _set("api", "throttling", value={"rateLimit": 50, "burstLimit": 100})
    ),
    Transition("interface endpoint logs added", "dev", _set("network", "interfaceEndpoints", value=["logs"])),
    Transition(
        "NAT instance t4g.nano -> t4g.micro", "dev", _set("network", "natInstance", value={"instanceType": "t4g.micro"})
    ),
    Transition(
        "to network.existing",
        "dev",
        _set("network", value={"existing": {"vpcId": VPC_ID, "privateSubnetIds": PRIVATE}}),
    ),
    Transition(
        "from network.existing",
        "dev",
        _set("network", value={"existing": {"vpcId": VPC_ID, "privateSubnetIds": PRIVATE}}),
        reverse=True,
    ),
    Transition("dnsTtl 10 -> 30", "dev", _svc("worker", "dnsTtl", 30)),
    Transition("redeploy bumped", "dev", _svc("app", "redeploy", 1)),
    # Every egress choice to every other (dev's zones; both sides of each pair are planned once and shared).
    *(Transition(f"egress {a} -> {b}", "dev", _egress(b), start=_egress(a)) for a in EGRESS for b in EGRESS if a != b),
]


# --- planning both sides ---------------------------------------------------------------------------------------

FACTS = replacement_facts.load()


def document(config: dict[str, Any], stack: str) -> dict[str, Any]:
    run = run_stack(with_prefix(config), stack=stack)
    inventory = Inventory.read(run)
    return plan_json.document(Plan(stack, "us-east-1", run, [], estimate(inventory), inventory))


@functools.cache
def _document_of(stack: str, config_json: str) -> dict[str, Any]:
    """One plan per distinct config: a transition and its reverse, or two egress pairs, share their sides."""
    return document(json.loads(config_json), stack)


def document_for(stack: str, config: Config) -> dict[str, Any]:
    return _document_of(stack, json.dumps(config, sort_keys=True))


def base_document(stack: str) -> dict[str, Any]:
    return document_for(stack, project_keys(load_stack_file(stack)))


@functools.cache
def diff_of(transition: Transition) -> tuple[plan_json.Diff, dict[str, Any], dict[str, Any]]:
    old_config, new_config = transition.configs(project_keys(load_stack_file(transition.base)))
    old, new = document_for(transition.base, old_config), document_for(transition.base, new_config)
    return plan_json.compare(old, new, FACTS), old, new


# --- the table in docs/changes.md ------------------------------------------------------------------------------

BEGIN = "<!-- transition-matrix: generated by `python -m tests.transitions`; tests/test_transitions.py compares -->"
END = "<!-- /transition-matrix -->"


ROUTE = "aws:ec2/route:Route"
ECS_SERVICE = "aws:ecs/service:Service"
ROLLS = {"networkConfiguration", "serviceRegistries", "taskDefinition", "healthCheckGracePeriodSeconds"}


def row(transition: Transition, diff: Any) -> str:
    """One line of the table: the change, what it replaces, adds and deletes, what users see, how long."""
    replaced = diff.analysis.replaced
    revisions = sorted(r.name for r in replaced if r.typ.endswith(":TaskDefinition"))
    others = [r for r in replaced if not r.typ.endswith(":TaskDefinition")]
    names = sorted(r.name for r in others)
    shown = ", ".join(names[:6]) + (f" … ({len(names)} in all)" if len(names) > 6 else "")
    what = [shown] if others else []
    if revisions:
        what.append(f"new task revision: {', '.join(revisions)}")
    seen: dict[str, Any] = {}
    for r in others:
        found = r.impact
        if found is not None and found.users_see not in seen:
            seen[found.users_see] = found.how_long
    changed_types = {urn.split("::")[2].rsplit("$", 1)[-1]: keys for urn, keys in diff.changed.items()}
    if ROUTE in changed_types:
        seen.setdefault(
            "outbound connections through the old egress path are cut once; new ones take the new", "seconds"
        )
    rolls = revisions or ROLLS & set(changed_types.get(ECS_SERVICE, []))
    if rolls and not seen:
        seen["nothing if the new tasks are healthy: ECS rolls them"] = "a rolling deployment (minutes)"
    if transition.refused:
        users, how_long = "nothing: `plan --diff` refuses it (exit 8) and says what to do", "-"
    elif seen:
        users, how_long = "; ".join(seen), "; ".join(dict.fromkeys(seen.values()))
    else:
        users, how_long = "nothing", "seconds to minutes (creates and deletes only)"
    counts = f"+{len(diff.added)} -{len(diff.deleted)}"
    return f"| {transition.name} | {transition.base} | {'; '.join(what) or '-'} | {counts} | {users} | {how_long} |"


def table(diffs: list[tuple[Transition, Any]]) -> str:
    lines = [
        BEGIN,
        "| change | from | replaced | added, deleted | what users see | how long |",
        "|---|---|---|---|---|---|",
        *(row(t, d) for t, d in diffs),
        END,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs" / "changes.md"
    text = docs.read_text()
    rendered = table([(t, diff_of(t)[0]) for t in TRANSITIONS])
    start, end = text.index(BEGIN), text.index(END) + len(END)
    docs.write_text(text[:start] + rendered + text[end:])
    print(f"{docs}: {len(TRANSITIONS)} transitions")
