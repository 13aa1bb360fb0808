"""The replacement analysis on small plan documents: direct and knock-on replacements, collisions, options."""

from __future__ import annotations

from typing import Any

from mapgate import resource_types as types
from mapgate.changes.diff import analyse
from mapgate.changes.facts import ReplacementFacts, TypeFacts
from mapgate.changes.impact import disruptive
from mapgate.changes.references import references
from tests.harness import StackRun

FACTS = ReplacementFacts(
    "test",
    "test",
    {
        types.NAMESPACE: TypeFacts("ns", "ns.go", ("name", "vpc")),
        types.DISCOVERY_SERVICE: TypeFacts("sd", "sd.go", ("dnsConfig.dnsRecords[].type", "dnsConfig.namespaceId")),
        types.ECS_SERVICE: TypeFacts("svc", "svc.go", ("cluster", "name")),
        types.VPC: TypeFacts("vpc", "vpc.go", ("cidrBlock",)),
        types.SUBNET: TypeFacts("subnet", "subnet.go", ("cidrBlock", "vpcId")),
    },
)


def res(name: str, typ: str, inputs: dict[str, Any], refs: dict[str, str] | None = None, **options: Any) -> dict:
    return {
        "urn": f"urn:pulumi:dev::mapgate::{typ}::{name}",
        "type": typ,
        "component": False,
        "aliases": [],
        "inputs": inputs,
        "options": {"deleteBeforeReplace": False, "ignoreChanges": [], "replaceOnChanges": [], **options},
        "references": [{"path": p, "urn": f"urn:pulumi:dev::mapgate::{t}"} for p, t in (refs or {}).items()],
    }


def doc(*resources: dict) -> dict:
    return {"resources": list(resources)}


NS_REF = {"dnsConfig.namespaceId": f"{types.NAMESPACE}::ns", "description": f"{types.NAMESPACE}::ns"}


def discovery(records: list[str], **options: Any) -> dict:
    dns = {"namespaceId": "ns-id", "dnsRecords": [{"type": r, "ttl": 10} for r in records]}
    return res("sd", types.DISCOVERY_SERVICE, {"name": "worker", "dnsConfig": dns}, NS_REF, **options)


def namespace(name: str) -> dict:
    return res("ns", types.NAMESPACE, {"name": name, "vpc": "vpc-id"})


def test_a_forcing_change_replaces_and_names_the_property() -> None:
    changes = analyse(
        doc(namespace("a"), discovery(["A"], deleteBeforeReplace=True)),
        doc(namespace("a"), discovery(["A", "SRV"], deleteBeforeReplace=True)),
        FACTS,
    )
    (replacement,) = changes.replaced
    assert replacement.line() == "+- sd: dnsConfig.dnsRecords[1].type forces replacement (delete before replace)"
    assert changes.collisions == []


def test_the_same_name_created_before_the_old_is_deleted_collides() -> None:
    changes = analyse(doc(namespace("a"), discovery(["A"])), doc(namespace("a"), discovery(["A", "SRV"])), FACTS)
    (collision,) = changes.collisions
    assert "ServiceAlreadyExists" in collision


def test_a_replaced_resource_replaces_what_refers_to_it_through_a_forcing_input() -> None:
    changes = analyse(doc(namespace("a"), discovery(["A"])), doc(namespace("b"), discovery(["A"])), FACTS)
    by_name = {r.name: r for r in changes.replaced}
    assert by_name["ns"].causes == ("name forces replacement",)
    assert by_name["sd"].knock_on
    assert by_name["sd"].causes == ("dnsConfig.namespaceId forces replacement: it refers to ns, which is replaced",)
    # its name's scope is the new namespace: no collision even create-before-delete
    assert changes.collisions == []


def test_a_reference_through_another_input_is_an_update() -> None:
    changes = analyse(doc(namespace("a"), discovery(["A"])), doc(namespace("b"), discovery(["A"])), FACTS)
    assert "urn:pulumi:dev::mapgate::aws:servicediscovery/service:Service::sd" not in changes.updated


def test_ignored_and_replace_on_changes_inputs() -> None:
    def service(capacity: str, count: int) -> dict:
        inputs = {"cluster": "c", "desiredCount": count, "capacityProviderStrategies": [{"capacityProvider": capacity}]}
        return res("svc", types.ECS_SERVICE, inputs, ignoreChanges=["desiredCount"])

    assert analyse(doc(service("FARGATE", 1)), doc(service("FARGATE", 5)), FACTS).updated == {}
    roc = service("FARGATE_SPOT", 1)
    roc["options"]["replaceOnChanges"] = ["capacityProviderStrategies"]
    (replacement,) = analyse(doc(service("FARGATE", 1)), doc(roc), FACTS).replaced
    assert replacement.causes == ("capacityProviderStrategies[0].capacityProvider forces replacement",)


def subnet(name: str, cidr: str) -> dict:
    return res(name, types.SUBNET, {"cidrBlock": cidr, "vpcId": "vpc-id"}, {"vpcId": f"{types.VPC}::vpc"})


def vpc(cidr: str) -> dict:
    return res("vpc", types.VPC, {"cidrBlock": cidr})


def test_a_new_subnet_overlapping_a_live_one_is_refused_unless_the_vpc_is_new() -> None:
    old = doc(vpc("10.0.0.0/16"), subnet("s1", "10.0.0.0/17"), subnet("s2", "10.0.128.0/17"))
    same_vpc = doc(vpc("10.0.0.0/16"), subnet("s1", "10.0.0.0/18"), subnet("s2", "10.0.64.0/18"))
    changes = analyse(old, same_vpc, FACTS)
    assert changes.collisions
    assert all("InvalidSubnet.Conflict" in c for c in changes.collisions)
    new_vpc = doc(vpc("10.1.0.0/16"), subnet("s1", "10.0.0.0/18"), subnet("s2", "10.0.64.0/18"))
    assert analyse(old, new_vpc, FACTS).collisions == []


def test_up_asks_about_the_vpc_link_the_namespace_and_cloud_map_only() -> None:
    link = "urn:pulumi:dev::mapgate::mapgate:api:HttpApi$aws:apigatewayv2/vpcLink:VpcLink::api-vpc-link"
    service = "urn:pulumi:dev::mapgate::mapgate:service:FargateService$aws:ecs/service:Service::app-service"
    roles = "urn:pulumi:dev::mapgate::mapgate:election:LeaderElection$aws:servicediscovery/service:Service::roles"
    lines = disruptive([link, service, roles])  # as `up` has them: URNs only
    assert [line.split(" is replaced")[0] for line in lines] == ["api-vpc-link", "roles"]
    assert "5xx" in lines[0]
    assert "leader attribute" in lines[1]
    dns = "urn:pulumi:dev::mapgate::mapgate:discovery:Discovery$aws:servicediscovery/service:Service::discovery-app"
    assert "DNS name" in disruptive([dns])[0]


def test_references_are_read_from_resolved_outputs(dev_run: StackRun) -> None:
    refs = references(dev_run)
    service = next(r.urn for r in dev_run.registrations if r.name == "worker-service")
    registry = next(r["urn"] for r in refs[service] if r["path"] == "serviceRegistries.registryArn")
    assert registry.endswith("::discovery-worker")


def test_the_plan_document_records_each_resources_options() -> None:
    from tests.transitions import base_document

    by_name = {r["urn"].rsplit("::", 1)[-1]: r for r in base_document("prod")["resources"]}
    assert by_name["discovery-worker"]["options"]["deleteBeforeReplace"] is True
    assert by_name["election-app_roles"]["options"]["deleteBeforeReplace"] is True
    app = by_name["app-service"]["options"]
    assert app["replaceOnChanges"] == ["capacityProviderStrategies"]
    assert app["ignoreChanges"] == ["desiredCount"]  # prod's app autoscales
    assert app["deleteBeforeReplace"] is False
    task = by_name["app-task"]["options"]
    assert any(urn.endswith("::app-logs") for urn in task["dependsOn"])
    assert set(by_name["app-service"]) >= {"id", "options", "references"}
    assert {"protect", "aliases"} <= set(app)


def test_a_reference_embedded_in_a_path_or_document_is_found(prod_run: StackRun) -> None:
    refs = references(prod_run)
    target = next(r.urn for r in prod_run.registrations if r.name == "app-scaling")
    by_path = {r["path"]: r["urn"] for r in refs[target]}
    assert by_path["resourceId"].endswith("::app-service")  # service/<cluster>/<generated service name>
    task = next(r.urn for r in prod_run.registrations if r.name == "app-task")
    embedded = {r["urn"].rsplit("::", 1)[-1] for r in refs[task] if r["path"] == "containerDefinitions"}
    assert "election-app_roles" in embedded  # the roles service id, in the app's environment
