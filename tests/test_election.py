"""Leader election against moto's Cloud Map, queried the way API Gateway queries it for each dev route."""

from __future__ import annotations

import hashlib
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.servicediscovery.exceptions import NamespaceNotFound, ServiceNotFound
from moto.servicediscovery.models import ServiceDiscoveryBackend

from mapgate import resource_types as types
from mapgate_app.election import ElectionError, Elector, choose_leader
from tests.harness import StackRun

REGION = "us-east-1"
NAMESPACE = "mapgate.internal"
SERVICE = "app"


def ecs_attributes(task: str, index: int) -> dict[str, str]:
    """What ECS writes when it registers a Fargate task with SRV records (docs/aws-rules.md, Cloud Map)."""
    return {
        "AWS_INSTANCE_IPV4": f"10.0.0.{10 + index}",
        "AWS_INSTANCE_PORT": "8080",
        "AVAILABILITY_ZONE": "us-east-1a" if index % 2 else "us-east-1b",
        "REGION": REGION,
        "ECS_SERVICE_NAME": "app-service-1a2b3c4",
        "ECS_CLUSTER_NAME": "mapgate-dev",
        "ECS_TASK_DEFINITION_FAMILY": "mapgate-dev-app",
        "AWS_INIT_HEALTH_STATUS": "UNHEALTHY",
    }


def task_id(n: int) -> str:
    return f"{n:032x}"  # ECS task ids are 32 hex characters


class CloudMap:
    """A moto Cloud Map namespace (on a VPC of its own) with one service, and helpers to act as ECS and as API
    Gateway. Two of them in one test are two stacks, or a namespace and its replacement, in one account."""

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self.client = boto3.client("servicediscovery", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        operation = self.client.create_private_dns_namespace(Name=namespace, Vpc=vpc)["OperationId"]
        self.namespace_id = self.client.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        properties = self.client.get_namespace(Id=self.namespace_id)["Namespace"]["Properties"]
        self.http_name = properties["HttpProperties"]["HttpName"]
        self.service_id = self.client.create_service(
            Name=SERVICE,
            NamespaceId=self.namespace_id,
            DnsConfig={
                "NamespaceId": self.namespace_id,
                "RoutingPolicy": "MULTIVALUE",
                "DnsRecords": [{"Type": "A", "TTL": 10}, {"Type": "SRV", "TTL": 10}],
            },
            HealthCheckCustomConfig={},
        )["Service"]["Id"]
        self.tasks: list[str] = []

    def ecs_starts(self, n: int) -> Elector:
        task = task_id(n)
        self.client.register_instance(ServiceId=self.service_id, InstanceId=task, Attributes=ecs_attributes(task, n))
        self.tasks.append(task)
        return self.elector(task)

    def ecs_stops(self, task: str) -> None:
        self.client.deregister_instance(ServiceId=self.service_id, InstanceId=task)
        self.tasks.remove(task)

    def elector(self, task: str, client: Any = None) -> Elector:
        """The election as a task of this service runs it: told the service and namespace ids, as the stack does."""
        return Elector(
            client or self.client,
            namespace_id=self.namespace_id,
            service_name=SERVICE,
            service_id=self.service_id,
            instance_id=task,
            sleep=lambda _: None,
        )

    def attributes(self) -> dict[str, dict[str, str]]:
        listed = self.client.list_instances(ServiceId=self.service_id)["Instances"]
        return {i["Id"]: i["Attributes"] for i in listed}

    def leaders(self) -> list[str]:
        return sorted(task for task, attrs in self.attributes().items() if attrs.get("leader") == "true")

    def discover(self, integration_uri: str) -> list[str]:
        """What API Gateway's DiscoverInstances returns for an integration URI `arn?k=v&…`."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(integration_uri).query))
        found = self.client.discover_instances(
            NamespaceName=self.http_name, ServiceName=SERVICE, QueryParameters=query, HealthStatus="HEALTHY"
        )
        return sorted(i["InstanceId"] for i in found["Instances"])


def _hash_taken_http_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make moto's private DNS namespaces behave as Cloud Map documents for DiscoverInstances' NamespaceName:
    each has an HttpName, usually its name, "however, if you reuse Name for namespace creation, a generated hash is
    added to HttpName to distinguish the two"; and DiscoverInstances looks namespaces up by HttpName. moto gives
    private namespaces no HttpName and discovers by name, taking the first namespace of that name."""
    create = ServiceDiscoveryBackend.create_private_dns_namespace

    def create_with_http_name(self: ServiceDiscoveryBackend, name: str, *args: Any, **kwargs: Any) -> str:
        taken = {ns.http_properties.get("HttpName") for ns in self.namespaces.values()}
        operation_id = create(self, name, *args, **kwargs)
        namespace = self.namespaces[self.operations[operation_id].targets["NAMESPACE"]]
        suffix = hashlib.sha256(namespace.id.encode()).hexdigest()[:8]
        namespace.http_properties = {"HttpName": name if name not in taken else f"{name}-{suffix}"}
        return operation_id

    def discover_by_http_name(
        self: ServiceDiscoveryBackend,
        namespace_name: str,
        service_name: str,
        query_parameters: dict[str, str] | None = None,
        optional_parameters: dict[str, str] | None = None,
        health_status: str | None = None,
    ) -> tuple[list[Any], dict[str, int]]:
        namespaces = [ns for ns in self.namespaces.values() if ns.http_properties.get("HttpName") == namespace_name]
        if not namespaces:
            raise NamespaceNotFound(namespace_name)
        services = [s for s in self.list_services() if s.name == service_name and s.namespace_id == namespaces[0].id]
        if not services:
            raise ServiceNotFound(service_name)
        found = self._filter_instances(  # moto's own filter: attributes, then health
            self.list_instances(services[0].id),
            query_parameters or {},
            optional_parameters or {},
            health_status or "ALL",
        )
        return found, {i.instance_id: services[0].instances_revision.get(i.instance_id, 0) for i in found}

    monkeypatch.setattr(ServiceDiscoveryBackend, "create_private_dns_namespace", create_with_http_name)
    monkeypatch.setattr(ServiceDiscoveryBackend, "discover_instances", discover_by_http_name)


@pytest.fixture
def cloud_map(monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudMap]:
    # moto appends a second instance when RegisterInstance reuses an id; AWS documents an upsert
    # ("if an instance with that id exists, Cloud Map updates it"), which the election relies on.
    original = ServiceDiscoveryBackend.register_instance

    def upsert(self: ServiceDiscoveryBackend, service_id: str, instance_id: str, *args: Any, **kwargs: Any) -> str:
        service = self.get_service(service_id)
        service.instances = [i for i in service.instances if i.instance_id != instance_id]
        return original(self, service_id, instance_id, *args, **kwargs)

    monkeypatch.setattr(ServiceDiscoveryBackend, "register_instance", upsert)
    _hash_taken_http_names(monkeypatch)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield CloudMap()


def run_rounds_until_stable(electors: list[Elector], limit: int = 5) -> int:
    """Rounds (every task once per round) until a round changes nothing; returns how many changed something."""
    for rounds in range(limit):
        before = [e.role for e in electors]
        snapshot = None
        for elector in electors:
            elector.run_round()
        snapshot = [e.role for e in electors]
        if snapshot == before and rounds > 0:
            return rounds
    raise AssertionError(f"no stable state after {limit} rounds")


def test_choose_leader() -> None:
    assert choose_leader({}) is None
    assert choose_leader({"b": {}, "a": {}}) == "a"  # nobody claims: smallest id
    assert choose_leader({"a": {}, "c": {"leader": "true"}}) == "c"  # sticky
    assert choose_leader({"d": {"leader": "true"}, "b": {"leader": "true"}, "a": {}}) == "b"  # smallest claimant


def test_one_round_per_task_elects_exactly_one_leader(cloud_map: CloudMap) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (3, 1, 2)]
    for elector in electors:
        elector.run_round()
    assert cloud_map.leaders() == [task_id(1)]
    assert sorted(e.role for e in electors) == ["follower", "follower", "leader"]
    assert {attrs["leader"] for attrs in cloud_map.attributes().values()} == {"true", "false"}


def test_routes_of_the_dev_stack_select_all_the_leader_and_the_followers(
    cloud_map: CloudMap, dev_run: StackRun
) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (1, 2, 3)]
    for elector in electors:
        elector.run_round()
    uris = {
        route.inputs["routeKey"]: integration.inputs["integrationUri"]
        for route in dev_run.of_type(types.ROUTE)
        for integration in dev_run.of_type(types.INTEGRATION)
        if route.inputs["target"] == f"integrations/{integration.name}-id"
    }
    assert set(uris) == {"GET /", "GET /leader", "GET /follower"}
    assert cloud_map.discover(uris["GET /"]) == sorted(cloud_map.tasks)
    assert cloud_map.discover(uris["GET /leader"]) == [task_id(1)]
    assert cloud_map.discover(uris["GET /follower"]) == [task_id(2), task_id(3)]


def test_ecs_attributes_survive_every_update(cloud_map: CloudMap) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (1, 2)]
    for elector in electors:
        elector.run_round()
    electors[0].step_down()
    for n, (task, attrs) in enumerate(sorted(cloud_map.attributes().items()), start=1):
        expected = {k: v for k, v in ecs_attributes(task, n).items() if k != "AWS_INIT_HEALTH_STATUS"}
        assert expected.items() <= attrs.items()


def test_failover_elects_exactly_one_new_leader(cloud_map: CloudMap) -> None:
    electors = {n: cloud_map.ecs_starts(n) for n in (1, 2, 3)}
    for elector in electors.values():
        elector.run_round()
    cloud_map.ecs_stops(task_id(1))
    survivors = [electors[2], electors[3]]
    rounds = run_rounds_until_stable(survivors)
    assert cloud_map.leaders() == [task_id(2)]
    assert rounds == 1  # one round per survivor converges


def test_scale_out_does_not_move_leadership(cloud_map: CloudMap) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (5, 6)]
    for elector in electors:
        elector.run_round()
    assert cloud_map.leaders() == [task_id(5)]
    electors += [cloud_map.ecs_starts(n) for n in (1, 2)]  # smaller ids arrive
    for elector in electors:
        elector.run_round()
    assert cloud_map.leaders() == [task_id(5)]
    assert [e.role for e in electors] == ["leader", "follower", "follower", "follower"]


def test_two_claimants_converge_to_one(cloud_map: CloudMap) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (4, 7)]
    for task in (task_id(4), task_id(7)):  # e.g. two tasks that decided during a partition
        attrs = {**cloud_map.attributes()[task], "leader": "true"}
        cloud_map.client.register_instance(ServiceId=cloud_map.service_id, InstanceId=task, Attributes=attrs)
    assert cloud_map.leaders() == [task_id(4), task_id(7)]
    for elector in electors:
        elector.run_round()
    assert cloud_map.leaders() == [task_id(4)]


def test_an_unhealthy_task_writes_nothing(cloud_map: CloudMap) -> None:
    elector = cloud_map.ecs_starts(1)
    cloud_map.client.update_instance_custom_health_status(
        ServiceId=cloud_map.service_id, InstanceId=task_id(1), Status="UNHEALTHY"
    )
    assert elector.run_round() == "unknown"
    assert "leader" not in cloud_map.attributes()[task_id(1)]


def test_stepping_down_leaves_leadership_and_traffic(cloud_map: CloudMap) -> None:
    electors = [cloud_map.ecs_starts(n) for n in (1, 2)]
    for elector in electors:
        elector.run_round()
    electors[0].step_down()
    attrs = cloud_map.attributes()[task_id(1)]
    assert (attrs["leader"], attrs["AWS_INIT_HEALTH_STATUS"]) == ("false", "UNHEALTHY")
    assert electors[0].run_round() == "follower"  # no round writes after stepping down
    assert cloud_map.attributes()[task_id(1)]["leader"] == "false"


def test_stepping_down_after_ecs_deregistered_the_task_is_harmless(cloud_map: CloudMap) -> None:
    elector = cloud_map.ecs_starts(1)
    elector.run_round()
    cloud_map.ecs_stops(task_id(1))
    elector.step_down()
    assert cloud_map.attributes() == {}  # no zombie registration


class FlakyClient:
    """The real (moto) client, except that the first DiscoverInstances call fails."""

    def __init__(self, client: Any):
        self._client = client
        self.failures_left = 1
        self.exceptions = client.exceptions

    def discover_instances(self, **kwargs: Any) -> Any:
        if self.failures_left:
            self.failures_left -= 1
            raise self._client.exceptions.RequestLimitExceeded(
                {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}}, "DiscoverInstances"
            )
        return self._client.discover_instances(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_cloud_map_error_costs_one_round_not_the_loop(cloud_map: CloudMap) -> None:
    cloud_map.ecs_starts(1)
    flaky = FlakyClient(cloud_map.client)
    elector = cloud_map.elector(task_id(1), client=flaky)
    elector.interval = 0.01
    elected = threading.Event()
    original = elector.run_round

    def watched() -> Any:
        role = original()
        if role == "leader":
            elected.set()
        return role

    elector.run_round = watched  # type: ignore[method-assign]
    elector.start()
    try:
        assert elected.wait(10), "the loop never recovered from the failed round"
    finally:
        elector.stop()
    assert flaky.failures_left == 0
    assert cloud_map.leaders() == [task_id(1)]


class Operations:
    """A client whose RegisterInstance operation reports the given statuses in turn."""

    def __init__(self, statuses: list[str]):
        self.statuses = statuses

    def get_instance(self, **_: Any) -> Any:
        return {"Instance": {"Attributes": {"AWS_INSTANCE_IPV4": "10.0.0.1"}}}

    def register_instance(self, **_: Any) -> Any:
        return {"OperationId": "op-1"}

    def get_operation(self, **_: Any) -> Any:
        status = self.statuses.pop(0)
        return {"Operation": {"Status": status, "ErrorMessage": "route 53 said no"}}


def test_registration_is_polled_with_backoff_until_it_succeeds() -> None:
    slept: list[float] = []
    elector = Elector(
        Operations(["SUBMITTED", "PENDING", "PENDING", "SUCCESS"]),
        namespace_id="ns-1",
        service_name=SERVICE,
        service_id="srv-1",
        instance_id=task_id(1),
        sleep=slept.append,
    )
    elector._write("true", health="HEALTHY")
    assert slept == [0.25, 0.5, 1.0]


def test_a_failed_registration_is_an_error() -> None:
    elector = Elector(
        Operations(["PENDING", "FAIL"]),
        namespace_id="ns-1",
        service_name=SERVICE,
        service_id="srv-1",
        instance_id=task_id(1),
        sleep=lambda _: None,
    )
    with pytest.raises(ElectionError, match="route 53 said no"):
        elector._write("true", health="HEALTHY")


def test_the_election_reaches_its_own_namespace_when_another_has_the_same_name(cloud_map: CloudMap) -> None:
    """Two stacks in one account, both with namespace `mapgate.internal` (as dev and prod once had): Cloud Map
    hashes the second one's HttpName. Each stack's tasks must elect in their own namespace."""
    other = CloudMap(NAMESPACE)  # the second stack, created later: its HttpName is hashed
    assert (cloud_map.http_name, other.http_name != NAMESPACE) == (NAMESPACE, True)
    assert other.http_name.startswith(f"{NAMESPACE}-")
    first = [cloud_map.ecs_starts(n) for n in (1, 2)]
    second = [other.ecs_starts(n) for n in (3, 4)]
    for elector in first + second:
        elector.run_round()
    assert (cloud_map.leaders(), other.leaders()) == ([task_id(1)], [task_id(3)])
    assert [e.role for e in second] == ["leader", "follower"]
    assert {e.http_name() for e in second} == {other.http_name}


def test_guessing_the_namespace_from_its_name_would_read_the_other_stack(cloud_map: CloudMap) -> None:
    """Why the stack passes ids: by name, the second stack's tasks see the first stack's members, not their own."""
    other = CloudMap(NAMESPACE)
    cloud_map.ecs_starts(1)
    other.ecs_starts(3)
    by_name = cloud_map.client.discover_instances(NamespaceName=NAMESPACE, ServiceName=SERVICE)["Instances"]
    assert [i["InstanceId"] for i in by_name] == [task_id(1)]  # not the second stack's task 3


def test_a_replaced_namespace_keeps_electing(cloud_map: CloudMap) -> None:
    """A new VPC replaces the namespace, and Pulumi creates the replacement first, with the same name. The new
    tasks get the new ids and elect there, while the old namespace still exists; then it goes away."""
    old = [cloud_map.ecs_starts(n) for n in (1, 2)]
    for elector in old:
        elector.run_round()
    replacement = CloudMap(NAMESPACE)
    new = [replacement.ecs_starts(n) for n in (5, 6)]
    for elector in new:
        elector.run_round()
    assert (cloud_map.leaders(), replacement.leaders()) == ([task_id(1)], [task_id(5)])
    for task in list(cloud_map.tasks):
        cloud_map.ecs_stops(task)
    cloud_map.client.delete_service(Id=cloud_map.service_id)
    cloud_map.client.delete_namespace(Id=cloud_map.namespace_id)
    for elector in new:
        assert elector.run_round() in ("leader", "follower")
    assert replacement.leaders() == [task_id(5)]


def test_the_namespace_is_looked_up_once() -> None:
    calls: list[str] = []

    class Counting(Operations):
        def get_namespace(self, **kwargs: Any) -> Any:
            calls.append(kwargs["Id"])
            return {"Namespace": {"Properties": {"HttpProperties": {"HttpName": "mapgate.internal-0a1b2c3d"}}}}

    elector = Elector(
        Counting([]), namespace_id="ns-7", service_name=SERVICE, service_id="srv-1", instance_id=task_id(1)
    )
    assert [elector.http_name(), elector.http_name()] == ["mapgate.internal-0a1b2c3d"] * 2
    assert calls == ["ns-7"]


class RecordingClient:
    """The real (moto) client, noting the API operation behind every call the election makes."""

    def __init__(self, client: Any):
        self._client = client
        self.exceptions = client.exceptions
        self.operations: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        operation = self._client.meta.method_to_api_mapping[name]

        def call(**kwargs: Any) -> Any:
            self.operations.add(operation)
            return method(**kwargs)

        return call


def test_the_task_role_allows_exactly_the_calls_the_election_makes(cloud_map: CloudMap, dev_run: StackRun) -> None:
    import json

    from mapgate import resource_types as types
    from mapgate.cli.plan import policy_actions
    from tests.harness import children

    recording = RecordingClient(cloud_map.client)
    cloud_map.ecs_starts(1)
    cloud_map.ecs_starts(2)
    electors = [cloud_map.elector(task, client=recording) for task in cloud_map.tasks]
    for elector in electors:
        elector.run_round()
    electors[0].step_down()
    policy = json.loads(dev_run.inputs(types.ROLE_POLICY, children("app").election_policy)["policy"])
    allowed = policy_actions(policy)
    assert {f"servicediscovery:{op}" for op in recording.operations} == {
        a for a in allowed if a.startswith("servicediscovery:")
    }
