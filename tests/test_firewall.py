"""Firewall: tasks are reachable only on their port, only from the VPC link (when routed) and declared peers."""

from __future__ import annotations

from harness import StackRun, changed, run_stack, with_prefix

from components.config import ServiceConfig
from components.firewall import VPC_LINK, IngressRule, plan_ingress

INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
SG = "aws:ec2/securityGroup:SecurityGroup"


def sg_id(name: str) -> str:
    return f"firewall-{name}-id"  # the mocks' id for security group `firewall-<name>`


def test_no_ingress_rule_opens_a_cidr(any_run: StackRun) -> None:
    rules = any_run.of_type(INGRESS)
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


def test_dev_ingress_is_exactly_vpc_link_to_app_and_app_to_worker(dev_run: StackRun) -> None:
    rules = {
        (r.inputs["securityGroupId"], r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
        for r in dev_run.of_type(INGRESS)
    }
    assert rules == {(sg_id("app"), sg_id(VPC_LINK), 8080, 8080), (sg_id("worker"), sg_id("app"), 8080, 8080)}
    assert all(r.inputs["ipProtocol"] == "tcp" for r in dev_run.of_type(INGRESS))


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
    assert dev_run.inputs("aws:apigatewayv2/vpcLink:VpcLink", "api-vpc-link")["securityGroupIds"] == [sg_id(VPC_LINK)]


def test_each_service_runs_in_its_own_group(any_run: StackRun) -> None:
    for service in any_run.of_type("aws:ecs/service:Service"):
        name = service.name.removesuffix("-service")
        assert service.inputs["networkConfiguration"]["securityGroups"] == [sg_id(name)]


def test_tasks_may_call_out(any_run: StackRun) -> None:
    outbound = {r.inputs["securityGroupId"] for r in any_run.of_type(EGRESS) if r.inputs.get("cidrIpv4") == "0.0.0.0/0"}
    assert outbound == {sg_id("app"), sg_id("worker")}


def _svc(port: int, allow_from: list[str]) -> ServiceConfig:
    return ServiceConfig.model_validate(
        {"image": "nginx", "port": port, "healthCheck": {"command": ["CMD", "true"]}, "allowFrom": allow_from}
    )


def test_two_services_may_allow_each_other() -> None:
    rules = plan_ingress({"a": _svc(1000, ["b"]), "b": _svc(2000, ["a"])}, routed={"a"})
    assert rules == [
        IngressRule(target="a", source=VPC_LINK, port=1000),
        IngressRule(target="a", source="b", port=1000),
        IngressRule(target="b", source="a", port=2000),
    ]


def test_no_routes_means_no_vpc_link_group() -> None:
    run = run_stack(with_prefix(changed("dev", ["api", "routes"], {})))
    assert [g.name for g in run.of_type(SG)] == ["firewall-app", "firewall-worker"]
    assert run.of_type("aws:apigatewayv2/vpcLink:VpcLink") == []
    assert run.outputs["apiUrl"] is None
    assert run.outputs["routeUrls"] == {}


def test_a_service_may_be_named_like_the_vpc_link() -> None:
    config = changed("dev", ["services", "vpc-link"], changed("dev", ["x"], 1)["services"]["worker"])
    config["services"]["vpc-link"]["allowFrom"] = ["app"]
    run = run_stack(with_prefix(config))
    names = [r.name for r in run.of_type(SG)]
    assert sorted(names) == ["firewall-app", "firewall-vpc-link", "firewall-vpc_link", "firewall-worker"]


def test_rule_names_are_unambiguous_for_names_with_from() -> None:
    config = changed("dev", ["services", "a"], changed("dev", ["x"], 1)["services"]["worker"])
    config["services"]["a-from-b"] = dict(config["services"]["a"], allowFrom=["c"])
    config["services"]["c"] = dict(config["services"]["a"], allowFrom=[])
    config["services"]["a"]["allowFrom"] = ["b-from-c"]
    config["services"]["b-from-c"] = dict(config["services"]["c"])
    names = [r.name for r in run_stack(with_prefix(config)).of_type(INGRESS)]
    assert len(names) == len(set(names))
