"""Discovery: the private DNS namespace and one Cloud Map service per ECS service."""

from __future__ import annotations

from mapgate import naming
from mapgate import resource_types as types
from mapgate.offline import Resource
from tests.aws_models import request_errors
from tests.harness import DELETE, DISCOVERY, NETWORK, StackRun, changed, run_stack, with_prefix

NAMESPACE = types.NAMESPACE
SERVICE = types.DISCOVERY_SERVICE


def stack_of(run: StackRun) -> str:
    return run.registrations[0].urn.split("::")[0].removeprefix("urn:pulumi:")


def test_namespace_is_private_on_the_stack_vpc(any_run: StackRun) -> None:
    (namespace,) = any_run.of_type(NAMESPACE)
    name = f"{stack_of(any_run)}.mapgate.internal"  # each stack file names its own
    assert namespace.inputs["name"] == name
    assert namespace.inputs["vpc"] == any_run.one(types.VPC, NETWORK.vpc).id
    assert any_run.outputs["namespaceName"] == name


def test_a_stack_without_a_namespace_gets_one_of_its_own() -> None:
    for stack in ("dev", "qa_2"):
        run = run_stack(with_prefix(changed("dev", ["namespace"], DELETE)), stack=stack)
        (namespace,) = run.of_type(NAMESPACE)
        assert namespace.inputs["name"] == naming.default_namespace(stack)
    assert naming.default_namespace("qa_2") == "qa-2.mapgate.internal"


def ecs_owned(run: StackRun) -> list[Resource]:
    """The Cloud Map services ECS registers tasks in (the Discovery component's), not the election's."""
    return [s for s in run.of_type(SERVICE) if s.name.startswith(f"{naming.DISCOVERY}-")]


def test_app_registers_a_and_srv_worker_only_a_cache_only_srv(dev_run: StackRun) -> None:
    records = {s.inputs["name"]: s.inputs["dnsConfig"]["dnsRecords"] for s in ecs_owned(dev_run)}
    assert records == {
        "app": [{"type": "A", "ttl": 10}, {"type": "SRV", "ttl": 10}],
        "worker": [{"type": "A", "ttl": 10}],
        "cache": [{"type": "SRV", "ttl": 10}],
    }


def test_multivalue_routing_and_custom_health_on_every_service(any_run: StackRun) -> None:
    services = ecs_owned(any_run)
    assert len(services) == 3
    for service in services:
        assert service.inputs["dnsConfig"]["routingPolicy"] == "MULTIVALUE"
        assert service.inputs["dnsConfig"]["namespaceId"] == any_run.one(types.NAMESPACE, DISCOVERY.namespace).id
        # ECS pushes container health to Cloud Map; the (deprecated) threshold keeps the block from being dropped
        assert service.inputs["healthCheckCustomConfig"] == {"failureThreshold": 1}
        assert "healthCheckConfig" not in service.inputs  # Route 53 checks don't work in private namespaces
        assert service.inputs["forceDestroy"] is True


def test_ttl_follows_config() -> None:
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "dnsTtl"], 60)))
    worker = run.inputs(SERVICE, "discovery-worker")
    assert worker["dnsConfig"]["dnsRecords"] == [{"type": "A", "ttl": 60}]


def test_cloud_map_accepts_the_service_request(any_run: StackRun) -> None:
    for service in ecs_owned(any_run):
        dns = service.inputs["dnsConfig"]
        request = {
            "Name": service.inputs["name"],
            "DnsConfig": {
                "NamespaceId": dns["namespaceId"],
                "RoutingPolicy": dns["routingPolicy"],
                "DnsRecords": [{"Type": r["type"], "TTL": r["ttl"]} for r in dns["dnsRecords"]],
            },
            "HealthCheckCustomConfig": {},
        }
        assert request_errors("servicediscovery", "CreateService", request) == ""


def test_dns_names_are_exported(any_run: StackRun) -> None:
    namespace = f"{stack_of(any_run)}.mapgate.internal"
    assert any_run.outputs["serviceDnsNames"] == {
        "app": f"app.{namespace}",
        "cache": f"cache.{namespace}",
        "worker": f"worker.{namespace}",
    }


def test_the_roles_service_is_api_only_and_managed_by_the_app(any_run: StackRun) -> None:
    (roles,) = [s for s in any_run.of_type(SERVICE) if s not in ecs_owned(any_run)]
    assert roles.name == naming.ElectionChildren(naming.ELECTION).roles_service("app")
    assert roles.inputs["name"] == naming.roles_service_name("app") == "app_roles"
    assert roles.inputs["type"] == "HTTP"  # no DNS records: registering there touches no Route 53 zone
    assert "dnsConfig" not in roles.inputs
    assert "healthCheckCustomConfig" not in roles.inputs
    assert roles.inputs["namespaceId"] == any_run.one(types.NAMESPACE, DISCOVERY.namespace).id
    assert roles.inputs["forceDestroy"] is True
    request = {"Name": roles.inputs["name"], "NamespaceId": roles.inputs["namespaceId"], "Type": roles.inputs["type"]}
    assert request_errors("servicediscovery", "CreateService", request) == ""


def test_cloud_map_accepts_the_roles_service_name_at_the_longest_service_name() -> None:
    import re

    from tests.aws_models import _model

    pattern = _model("servicediscovery").shape_for("ServiceName").metadata["pattern"]
    limit = 63 - len(naming.ROLES_SERVICE_SUFFIX)
    assert re.fullmatch(pattern, naming.roles_service_name("a" * limit))
    assert not re.fullmatch(pattern, naming.roles_service_name("a" * (limit + 1)))


def test_dynamodb_accepts_the_lease_table(any_run: StackRun) -> None:
    table = any_run.inputs(types.DYNAMODB_TABLE, naming.ElectionChildren(naming.ELECTION).lease_table)
    assert table["billingMode"] == "PAY_PER_REQUEST"
    request = {
        "TableName": table["name"],
        "BillingMode": table["billingMode"],
        "KeySchema": [{"AttributeName": table["hashKey"], "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]} for a in table["attributes"]],
    }
    assert request_errors("dynamodb", "CreateTable", request) == ""
