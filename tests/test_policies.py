"""The policy pack, run as plain functions over what the real dev and prod stacks register under mocks."""

from __future__ import annotations

import copy
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi_policy
import pytest
from pulumi_policy import EnforcementLevel, PolicyResource, ResourceValidationArgs, StackValidationArgs

from mapgate import resource_types as types
from mapgate_policies import RULES, policies
from tests.harness import API, DISCOVERY, FIREWALL, NAT_1, ROOT, StackRun, changed, children, run_stack, with_prefix

APP, WORKER, CACHE = children("app"), children("worker"), children("cache")
NAT = NAT_1


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: str
    resource: str | None
    message: str


Resources = list[tuple[str, str, dict[str, Any]]]  # (type, name, props)


def resources_of(run: StackRun) -> Resources:
    return [(r.typ, r.name, copy.deepcopy(dict(r.inputs))) for r in run.resources]


def _validators(policy: Any) -> list[Callable[..., Any]]:
    validate = policy.validate
    return list(validate) if isinstance(validate, list) else [validate]


def evaluate(resources: Resources, only: str | None = None) -> list[Violation]:
    found: list[Violation] = []
    for policy in policies():
        if only and policy.name != only:
            continue
        assert policy.enforcement_level is not None  # every rule states mandatory or advisory
        level = policy.enforcement_level.value

        def report(message: str, urn: str | None = None, policy: Any = policy, level: str = level) -> None:
            found.append(Violation(policy.name, level, urn, message))

        if isinstance(policy, pulumi_policy.StackValidationPolicy):
            stack = [PolicyResource(t, props, f"urn:{n}", n, None, None, None, [], {}) for t, n, props in resources]  # type: ignore[arg-type]
            for validate in _validators(policy):
                validate(StackValidationArgs(stack), report)
            continue
        for typ, name, props in resources:
            args = ResourceValidationArgs(typ, props, f"urn:{name}", name, None, None)  # type: ignore[arg-type]
            for validate in _validators(policy):
                validate(args, report)
    return found


def test_prod_has_no_violations(prod_run: StackRun) -> None:
    assert evaluate(resources_of(prod_run)) == []


def test_dev_has_no_violations_now_its_tasks_are_private(dev_run: StackRun) -> None:
    assert evaluate(resources_of(dev_run)) == []


@pytest.fixture(scope="module")
def public_ip_run() -> StackRun:
    """The dev stack with public task IPs and no NAT (read only)."""
    return run_stack(with_prefix(changed("dev", ["network", "egress"], "publicIp")))


def test_public_ip_tasks_are_advised(dev_run: StackRun, public_ip_run: StackRun) -> None:
    run = public_ip_run
    violations = evaluate(resources_of(run))
    assert {(v.policy, v.enforcement, v.resource) for v in violations} == {
        ("ecs-public-ip", "advisory", f"urn:{APP.ecs_service}"),
        ("ecs-public-ip", "advisory", f"urn:{WORKER.ecs_service}"),
        ("ecs-public-ip", "advisory", f"urn:{CACHE.ecs_service}"),
    }
    assert all(v.message.startswith("[ECS.2] ") for v in violations)


def _container_change(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(props: dict[str, Any]) -> None:
        defs = json.loads(props["containerDefinitions"])
        change(defs[0])
        props["containerDefinitions"] = json.dumps(defs)

    return mutate


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(props: dict[str, Any]) -> None:
        node = props
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    return mutate


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda props: props.pop(key)


def _open_role_policy(props: dict[str, Any]) -> None:
    document = json.loads(props["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "servicediscovery:*", "Resource": "*"})
    props["policy"] = json.dumps(document)


def _star_resource(props: dict[str, Any]) -> None:
    document = json.loads(props["policy"])
    (rewrite,) = [s for s in document["Statement"] if s.get("Sid") == "OwnRoleInstances"]
    rewrite["Resource"] = "*"
    props["policy"] = json.dumps(document)


# rule -> (stack, resource type, resource name, how to break it)
MUTATIONS: dict[str, tuple[str, str, str, Callable[[dict[str, Any]], None]]] = {
    "ecs-no-public-ip-behind-nat": ("prod", types.ECS_SERVICE, WORKER.ecs_service,
                                    _set(["networkConfiguration", "assignPublicIp"], True)),
    "ecs-public-ip": ("prod", types.ECS_SERVICE, APP.ecs_service,
                      _set(["networkConfiguration", "assignPublicIp"], True)),
    "ecs-no-privileged-containers": ("prod", types.TASK_DEFINITION, APP.task_definition,
                                     _container_change(lambda c: c.update(privileged=True))),
    "ecs-read-only-root-filesystem": ("prod", types.TASK_DEFINITION, WORKER.task_definition,
                                      _container_change(lambda c: c.update(readonlyRootFilesystem=False))),
    "ecs-container-logs": ("prod", types.TASK_DEFINITION, APP.task_definition,
                           _container_change(lambda c: c.pop("logConfiguration"))),
    "ecs-container-insights-in-production": ("prod", types.CLUSTER, "cluster-ecs",
                                             _set(["settings"], [{"name": "containerInsights", "value": "disabled"}])),
    "ecs-essential-containers-health-checked": ("prod", types.TASK_DEFINITION, APP.task_definition,
                                                _container_change(lambda c: c.pop("healthCheck"))),
    "ecs-deployment-circuit-breaker": ("prod", types.ECS_SERVICE, APP.ecs_service,
                                       _set(["deploymentCircuitBreaker", "rollback"], False)),
    "cloud-map-custom-health": ("prod", types.DISCOVERY_SERVICE, DISCOVERY.service("app"),
                                _delete("healthCheckCustomConfig")),
    "no-ingress-from-anywhere": ("prod", types.INGRESS_RULE,
                                 FIREWALL.ingress("worker", "app"), _set(["cidrIpv4"], "0.0.0.0/0")),
    "no-inline-ingress-from-anywhere": ("prod", types.SECURITY_GROUP, FIREWALL.group("app"),
                                        _set(["ingress"], [{"protocol": "tcp", "fromPort": 8080, "toPort": 8080,
                                                            "ipv6CidrBlocks": ["::/0"]}])),
    "iam-no-wildcards": ("prod", types.ROLE_POLICY, APP.election_policy, _open_role_policy),
    "iam-no-wildcards-inline": ("prod", types.ROLE, APP.task_role,
                                _set(["inlinePolicies"], [{"name": "x", "policy": json.dumps(
                                    {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})}])),
    "log-group-retention": ("prod", types.LOG_GROUP, APP.logs, _delete("retentionInDays")),
    "http-api-access-logs": ("prod", types.STAGE, API.stage, _delete("accessLogSettings")),
    "nat-instance-no-public-ingress": ("dev", types.INGRESS_RULE, NAT.from_vpc, _set(["cidrIpv4"], "0.0.0.0/0")),
    "ec2-imdsv2-no-key-pair": ("dev", types.INSTANCE, NAT.instance,
                               _set(["metadataOptions", "httpTokens"], "optional")),
    "http-api-throttling": ("prod", types.STAGE, API.stage,
                            _set(["defaultRouteSettings"], {"throttlingRateLimit": 50})),
    "http-api-routes-have-authorizers": ("prod", types.ROUTE, API.route("get-leader"),
                                         _set(["authorizationType"], "NONE")),
}  # fmt: skip


def test_every_rule_has_a_mutation() -> None:
    assert set(MUTATIONS) == {rule.name for rule in RULES}


@pytest.mark.parametrize("rule", sorted(MUTATIONS))
def test_each_rule_catches_a_resource_that_breaks_it(rule: str, dev_run: StackRun, prod_run: StackRun) -> None:
    stack, typ, name, mutate = MUTATIONS[rule]
    resources = resources_of(prod_run if stack == "prod" else dev_run)
    assert evaluate(resources, only=rule) == []
    (target,) = [props for t, n, props in resources if (t, n) == (typ, name)]
    mutate(target)
    caught = evaluate(resources, only=rule)
    assert caught, f"{rule} missed the broken {typ} {name}"
    assert all(v.policy == rule for v in caught)


def test_least_privilege_allows_star_only_for_actions_without_resources(prod_run: StackRun) -> None:
    resources = resources_of(prod_run)
    (target,) = [props for t, n, props in resources if n == APP.election_policy]
    document = json.loads(target["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"})
    target["policy"] = json.dumps(document)
    assert evaluate(resources, only="iam-no-wildcards") == []
    _star_resource(target)
    assert [v.message for v in evaluate(resources, only="iam-no-wildcards")] == [
        "[IAM.21] resource '*' for servicediscovery:RegisterInstance, servicediscovery:DeregisterInstance, "
        "servicediscovery:GetInstance, which accept a narrower resource"
    ]


def test_the_nat_rule_is_silent_without_nat(public_ip_run: StackRun) -> None:
    run = public_ip_run
    assert evaluate(resources_of(run), only="ecs-no-public-ip-behind-nat") == []


def test_the_nat_rule_sees_a_nat_instance(dev_run: StackRun) -> None:
    resources = resources_of(dev_run)
    (service,) = [props for t, n, props in resources if n == WORKER.ecs_service]
    service["networkConfiguration"]["assignPublicIp"] = True
    assert [v.policy for v in evaluate(resources, only="ecs-no-public-ip-behind-nat")] == [
        "ecs-no-public-ip-behind-nat"
    ]


def test_the_nat_instance_rule_catches_ssh_from_the_vpc(dev_run: StackRun) -> None:
    resources = resources_of(dev_run)
    (rule,) = [props for t, n, props in resources if n == NAT.from_vpc]
    rule.update(ipProtocol="tcp", fromPort=22, toPort=22)
    assert [v.message for v in evaluate(resources, only="nat-instance-no-public-ingress")] == [
        "[EC2.18 / EC2.19] the NAT instance's security group opens SSH (port 22); use SSM Session Manager"
    ]


def test_enforcement_levels_are_as_documented() -> None:
    levels = {rule.name: rule.enforcement for rule in RULES}
    assert {name for name, level in levels.items() if level is EnforcementLevel.ADVISORY} == {
        "ecs-public-ip",
        "ecs-read-only-root-filesystem",
        "http-api-routes-have-authorizers",
    }
    assert all(rule.control for rule in RULES)


def test_policy_pack_entry_point_registers_every_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    captured: dict[str, Any] = {}

    def fake_pack(name: str, policies: list[Any], **kwargs: Any) -> None:  # the real one starts a server
        captured.update(name=name, policies=policies)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", fake_pack)
    runpy.run_path(str(ROOT / "policies" / "__main__.py"), run_name="__main__")
    assert captured["name"] == "mapgate"
    assert [p.name for p in captured["policies"]] == [rule.name for rule in RULES]
    assert [p.enforcement_level for p in captured["policies"]] == [rule.enforcement for rule in RULES]


def test_a_worker_without_a_port_needs_no_health_check() -> None:
    worker = {
        "image": "public.ecr.aws/docker/library/python:3.12",
        "command": ["python", "-m", "worker"],
        "readOnlyRootFilesystem": True,
    }
    run = run_stack(with_prefix(changed("prod", ["services", "jobs"], worker)), stack="prod")
    assert evaluate(resources_of(run), only="ecs-essential-containers-health-checked") == []
    assert evaluate(resources_of(run)) == []  # nor anything else: a worker is as sound as any service
