"""Firewall: tasks are reachable only on their port, only from the VPC link (when routed) and declared peers."""

from __future__ import annotations

from mapgate import naming
from mapgate import resource_types as types
from mapgate.components.network import Firewall, IngressRule, plan_ingress
from mapgate.offline import Resource
from tests.harness import API, FIREWALL, StackRun, changed, made_by, run_stack, with_prefix

INGRESS = types.INGRESS_RULE
EGRESS = types.EGRESS_RULE
SG = types.SECURITY_GROUP


VPC_LINK = naming.VPC_LINK_SOURCE


def sg_id(name: str) -> str:
    """The mocks' id for a service's security group, or the VPC link's."""
    return f"{FIREWALL.vpc_link_group if name == VPC_LINK else FIREWALL.group(name)}-id"


def firewall(run: StackRun, typ: str) -> list[Resource]:
    """What the Firewall component made (the NAT instance's group is the Network's; see test_network.py)."""
    return made_by(run, typ, Firewall.type_token)


def test_no_ingress_rule_opens_a_cidr(any_run: StackRun) -> None:
    rules = firewall(any_run, INGRESS)
    assert rules
    for rule in rules:
        assert "cidrIpv4" not in rule.inputs
        assert "cidrIpv6" not in rule.inputs
        assert "prefixListId" not in rule.inputs
        assert rule.inputs["referencedSecurityGroupId"].startswith("firewall-")


def test_security_groups_have_no_inline_rules(any_run: StackRun) -> None:
    for group in any_run.of_type(SG):
        assert "ingress" not in group.inputs
        assert "egress" not in group.inputs


def test_dev_ingress_is_exactly_vpc_link_to_app_and_app_to_worker_and_cache(dev_run: StackRun) -> None:
    rules = {
        (r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in firewall(dev_run, INGRESS)
    }
    assert rules == {
        (sg_id("app"), sg_id(VPC_LINK), 8080, 8080),
        (sg_id("worker"), sg_id("app"), 8080, 8080),
        (sg_id("cache"), sg_id("app"), 6379, 6379),
    }
    assert all(r.inputs["ipProtocol"] == "tcp" for r in firewall(dev_run, INGRESS))


def test_vpc_link_may_only_reach_routed_services_on_their_port(dev_run: StackRun) -> None:
    link_egress = [r.inputs for r in dev_run.of_type(EGRESS) if r.inputs["securityGroupId"] == sg_id(VPC_LINK)]
    assert link_egress == [
        {
            "securityGroupId": sg_id(VPC_LINK),
            "description": "VPC link to app",
            "ipProtocol": "tcp",
            "fromPort": 8080,
            "toPort": 8080,
            "referencedSecurityGroupId": sg_id("app"),
        }
    ]
    assert dev_run.inputs(types.VPC_LINK, API.vpc_link)["securityGroupIds"] == [sg_id(VPC_LINK)]


def test_each_service_runs_in_its_own_group(any_run: StackRun) -> None:
    for service in any_run.of_type(types.ECS_SERVICE):
        name = naming.service_of(service.inputs)
        assert name is not None
        assert service.inputs["networkConfiguration"]["securityGroups"] == [sg_id(name)]


def test_tasks_may_call_out(any_run: StackRun) -> None:
    outbound = {
        r.inputs["securityGroupId"] for r in firewall(any_run, EGRESS) if r.inputs.get("cidrIpv4") == "0.0.0.0/0"
    }
    assert outbound == {sg_id("app"), sg_id("cache"), sg_id("worker")}


def test_two_services_may_allow_each_other() -> None:
    rules = plan_ingress({"a": 1000, "b": 2000}, {"a": ["b"], "b": ["a"]}, routed=frozenset({"a"}))
    assert rules == [
        IngressRule(target="a", source=VPC_LINK, port=1000),
        IngressRule(target="a", source="b", port=1000),
        IngressRule(target="b", source="a", port=2000),
    ]


def test_no_routes_means_no_vpc_link_group() -> None:
    run = run_stack(with_prefix(changed("dev", ["api", "routes"], {})))
    assert [g.name for g in firewall(run, SG)] == [FIREWALL.group(name) for name in ("app", "cache", "worker")]
    assert run.of_type(types.VPC_LINK) == []
    assert run.outputs["apiUrl"] is None
    assert run.outputs["routeUrls"] == {}


def test_a_service_may_be_named_like_the_vpc_link() -> None:
    config = changed("dev", ["services", "vpc-link"], changed("dev", ["x"], 1)["services"]["worker"])
    config["services"]["vpc-link"]["allowFrom"] = ["app"]
    run = run_stack(with_prefix(config))
    names = [r.name for r in firewall(run, SG)]
    assert sorted(names) == sorted(
        [*map(FIREWALL.group, ["app", "cache", "vpc-link", "worker"]), FIREWALL.vpc_link_group]
    )


def test_rule_names_are_unambiguous_for_names_with_from() -> None:
    config = changed("dev", ["services", "a"], changed("dev", ["x"], 1)["services"]["worker"])
    config["services"]["a-from-b"] = dict(config["services"]["a"], allowFrom=["c"])
    config["services"]["c"] = dict(config["services"]["a"], allowFrom=[])
    config["services"]["a"]["allowFrom"] = ["b-from-c"]
    config["services"]["b-from-c"] = dict(config["services"]["c"])
    names = [r.name for r in run_stack(with_prefix(config)).of_type(INGRESS)]
    assert len(names) == len(set(names))
