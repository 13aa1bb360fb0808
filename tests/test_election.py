"""Leader election against moto's Cloud Map and DynamoDB, queried the way API Gateway queries each dev route.

The timing properties (failover, handover, zombies) are measured on a virtual clock by bench/election_sim.py and
checked in tests/test_election_sim.py; here the real calls meet emulated services, round by round.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.servicediscovery.exceptions import NamespaceNotFound, ServiceNotFound
from moto.servicediscovery.models import ServiceDiscoveryBackend

from mapgate import contract, naming
from mapgate import resource_types as types
from mapgate.cli.plan import policy_actions
from mapgate_app.election import LEADER_PREFIX, Elector, Member, Timing
from mapgate_app.lease import LeaseStore
from tests.aws_models import RecordingClient
from tests.harness import StackRun, children

REGION = "us-east-1"
NAMESPACE = "mapgate.internal"
SERVICE = "app"
TABLE = "mapgate-test-leases"


def task_id(n: int) -> str:
    return f"{n:032x}"  # ECS task ids are 32 hex characters


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


class Platform:
    """A moto namespace with the ECS-owned service and the roles service, the lease table, and helpers to act
    as ECS (start and stop tasks) and as API Gateway (discover by an integration URI)."""

    def __init__(self, namespace: str = NAMESPACE, table: str = TABLE) -> None:
        self.cloud_map = boto3.client("servicediscovery", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        operation = self.cloud_map.create_private_dns_namespace(Name=namespace, Vpc=vpc)["OperationId"]
        self.namespace_id = self.cloud_map.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
        properties = self.cloud_map.get_namespace(Id=self.namespace_id)["Namespace"]["Properties"]
        self.http_name = properties["HttpProperties"]["HttpName"]
        self.ecs_service_id = self.cloud_map.create_service(
            Name=SERVICE,
            NamespaceId=self.namespace_id,
            DnsConfig={
                "NamespaceId": self.namespace_id,
                "RoutingPolicy": "MULTIVALUE",
                "DnsRecords": [{"Type": "A", "TTL": 10}, {"Type": "SRV", "TTL": 10}],
            },
            HealthCheckCustomConfig={},
        )["Service"]["Id"]
        # As mapgate.components.election creates it: API-only, no health check.
        self.roles_service_id = self.cloud_map.create_service(
            Name=naming.roles_service_name(SERVICE), NamespaceId=self.namespace_id, Type="HTTP"
        )["Service"]["Id"]
        self.table = table
        self.dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.clock = Clock()
        self.electors: dict[str, Elector] = {}

    def ecs_starts(
        self, n: int, *, cloud_map: Any = None, dynamodb: Any = None, wall: Callable[[], float] | None = None
    ) -> Elector:
        task = task_id(n)
        self.cloud_map.register_instance(
            ServiceId=self.ecs_service_id,
            InstanceId=task,
            Attributes={"AWS_INSTANCE_IPV4": f"10.0.0.{10 + n}", "AWS_INSTANCE_PORT": "8080"},
        )
        elector = Elector(
            cloud_map or self.cloud_map,
            LeaseStore(dynamodb or self.dynamodb, table=self.table, name=SERVICE),
            namespace_id=self.namespace_id,
            service_name=SERVICE,
            roles_service_id=self.roles_service_id,
            roles_service_name=naming.roles_service_name(SERVICE),
            me=Member(task_id=task, ip=f"10.0.0.{10 + n}", port=8080, started=self.clock.now + n),
            timing=Timing(),
            clock=self.clock,
            wall=wall or self.clock,
            rng=random.Random(n),
        )
        self.electors[task] = elector
        return elector

    def ecs_stops(self, task: str) -> None:
        self.cloud_map.deregister_instance(ServiceId=self.ecs_service_id, InstanceId=task)
        self.electors.pop(task)

    def rounds(self, count: int = 3) -> None:
        for _ in range(count):
            for elector in list(self.electors.values()):
                elector.run_round()
            self.clock.now += 2.0

    def roles(self) -> dict[str, dict[str, str]]:
        listed = self.cloud_map.list_instances(ServiceId=self.roles_service_id)["Instances"]
        return {i["Id"]: i["Attributes"] for i in listed}

    def ecs_owned(self) -> dict[str, dict[str, str]]:
        listed = self.cloud_map.list_instances(ServiceId=self.ecs_service_id)["Instances"]
        return {i["Id"]: i["Attributes"] for i in listed}

    def discover(self, service_name: str, integration_uri: str) -> list[str]:
        """Owners of what API Gateway's DiscoverInstances returns for an integration URI `arn?k=v&…`."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(integration_uri).query))
        found = self.cloud_map.discover_instances(
            NamespaceName=self.http_name, ServiceName=service_name, QueryParameters=query, HealthStatus="HEALTHY"
        )
        return sorted(i["Attributes"].get("owner", i["InstanceId"]) for i in found["Instances"])

    def leaders(self) -> list[str]:
        return sorted(task for task, e in self.electors.items() if e.is_leader())


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    # moto appends a second instance when RegisterInstance reuses an id; AWS documents an upsert.
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
        yield Platform()


def test_three_tasks_elect_exactly_one_leader_and_register_their_roles(platform: Platform) -> None:
    for n in (1, 2, 3):
        platform.ecs_starts(n)
    platform.rounds()
    assert len(platform.leaders()) == 1
    (leader,) = platform.leaders()
    roles = platform.roles()
    term = platform.electors[leader].view().term
    assert roles[f"{LEADER_PREFIX}{term}"]["leader"] == "true"
    assert roles[f"{LEADER_PREFIX}{term}"]["owner"] == leader
    followers = {i: a for i, a in roles.items() if not i.startswith(LEADER_PREFIX)}
    assert sorted(followers) == sorted(set(platform.electors) - {leader})
    assert all(a["leader"] == "false" and a["AWS_INSTANCE_PORT"] == "8080" for a in followers.values())


def test_the_dev_routes_select_the_holder_and_the_others(platform: Platform, dev_run: StackRun) -> None:
    for n in (1, 2, 3):
        platform.ecs_starts(n)
    platform.rounds()
    (leader,) = platform.leaders()
    uris = {key: r.inputs["integrationUri"] for key, r in _integrations(dev_run).items()}
    roles_arn = dev_run.one(
        types.DISCOVERY_SERVICE, naming.ElectionChildren(naming.ELECTION).roles_service("app")
    ).state["arn"]
    ecs_arn = dev_run.one(types.DISCOVERY_SERVICE, naming.DiscoveryChildren(naming.DISCOVERY).service("app")).state[
        "arn"
    ]
    assert uris["GET /leader"].startswith(f"{roles_arn}?")
    assert uris["GET /follower"].startswith(f"{roles_arn}?")
    assert uris["GET /"] == ecs_arn
    roles = naming.roles_service_name(SERVICE)
    assert platform.discover(roles, uris["GET /leader"]) == [leader]
    assert platform.discover(roles, uris["GET /follower"]) == sorted(set(platform.electors) - {leader})
    assert platform.discover(SERVICE, uris["GET /"]) == sorted(platform.electors)


def _integrations(run: StackRun) -> dict[str, Any]:
    found = {}
    for integration in run.of_type(types.INTEGRATION):
        route = next(r for r in run.of_type(types.ROUTE) if r.inputs["target"].endswith(str(integration.id)))
        found[route.inputs["routeKey"]] = integration
    return found


def test_ecs_owned_instances_are_never_written(platform: Platform) -> None:
    for n in (1, 2, 3):
        platform.ecs_starts(n)
    before = platform.ecs_owned()
    platform.rounds(6)
    for elector in list(platform.electors.values()):
        elector.request_stop()
        for _ in range(60):
            platform.clock.now += 0.5
            if elector.shutdown_step():
                break
    assert platform.ecs_owned() == before


def test_a_graceful_stop_hands_the_lease_to_the_youngest_follower_that_is_not_stopping(platform: Platform) -> None:
    for n in (1, 2, 3, 4):
        platform.ecs_starts(n)
    platform.rounds()
    (leader,) = platform.leaders()
    old = platform.electors[leader]
    term = old.view().term
    others = sorted(set(platform.electors) - {leader}, key=lambda t: platform.electors[t].me.started)
    youngest, successor = others[-1], others[-2]
    # ECS stops the youngest follower in the same scale-in: it says so before anything else.
    platform.electors[youngest].request_stop()
    platform.electors[youngest].shutdown_step()
    old.request_stop()
    assert old.is_leader()  # it leads on for the hand-over grace, while the others mark themselves...
    platform.clock.now += Timing().handover_grace
    assert not old.is_leader()  # ...and not a moment longer
    old.shutdown_step()
    assert old.view().holder_address == platform.electors[successor].me.address  # /leader now forwards there
    platform.ecs_stops(leader)
    platform.rounds(1)
    assert platform.leaders() == [successor]
    assert platform.electors[successor].view().term == term + 1
    for _ in range(80):
        platform.clock.now += 0.5
        platform.rounds(1) if _ % 4 == 0 else None
        if old.shutdown_step():
            break
    assert old.shutdown_step()
    owners = {a["owner"] for a in platform.roles().values()}
    assert leader not in owners  # the old holder removed both of its instances


def test_the_holder_removes_the_instance_of_a_task_that_crashed(platform: Platform) -> None:
    for n in (1, 2, 3):
        platform.ecs_starts(n)
    platform.rounds()
    (leader,) = platform.leaders()
    crashed = next(t for t in platform.electors if t != leader)
    platform.ecs_stops(crashed)  # ECS deregisters it; the task itself never ran its stop
    assert crashed in {a["owner"] for a in platform.roles().values()}
    platform.clock.now += 120  # long past the young-task grace
    platform.rounds(contract.RECONCILE_EVERY_ROUNDS + 1)
    assert crashed not in {a["owner"] for a in platform.roles().values()}
    assert len(platform.roles()) == 2


def test_a_crashed_holder_is_replaced_once_its_lease_ends(platform: Platform) -> None:
    for n in (1, 2, 3):
        platform.ecs_starts(n)
    platform.rounds()
    (leader,) = platform.leaders()
    term = platform.electors[leader].view().term
    platform.ecs_stops(leader)
    platform.rounds(int(contract.LEASE_TTL_SECONDS / 2) + 1)
    (successor,) = platform.leaders()
    assert successor != leader
    platform.rounds(contract.RECONCILE_EVERY_ROUNDS + 1)
    leaders = [i for i in platform.roles() if i.startswith(LEADER_PREFIX)]
    assert leaders == [f"{LEADER_PREFIX}{term + 1}"]  # the dead holder's instance is gone


class Flaky:
    """A client whose calls fail with the given error code while `failing` is set."""

    def __init__(self, client: Any, code: str):
        self._client, self.code, self.failing = client, code, False
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            if self.failing:
                from botocore.exceptions import ClientError

                raise ClientError({"Error": {"Code": self.code, "Message": "slow down"}}, name)
            return method(**kwargs)

        return call


def test_throttling_costs_a_round_and_backs_off_with_jitter(platform: Platform) -> None:
    flaky = Flaky(platform.dynamodb, "ThrottlingException")
    elector = platform.ecs_starts(1, dynamodb=flaky)
    flaky.failing = True
    delays = []
    for _ in range(6):
        try:
            elector.run_round()
        except Exception as error:
            delays.append(elector.next_delay(error))
    assert len(delays) == 6  # every round failed, and raised to the loop instead of killing anything
    assert max(delays) <= Timing().max_backoff
    assert len(set(delays)) == 6  # jittered: tasks do not retry in step
    flaky.failing = False
    elector.run_round()
    assert elector.is_leader()
    assert Timing().interval * 0.9 <= elector.next_delay(None) <= Timing().interval * 1.1


def test_the_task_role_allows_exactly_the_calls_the_election_makes(platform: Platform, dev_run: StackRun) -> None:
    cloud_map, dynamodb = RecordingClient(platform.cloud_map), RecordingClient(platform.dynamodb)
    electors = [
        platform.ecs_starts(
            n,
            cloud_map=cloud_map,
            dynamodb=dynamodb,
        )
        for n in (1, 2, 3)
    ]
    platform.rounds(4)
    for elector in electors:
        elector.request_stop()
        for _ in range(60):
            platform.clock.now += 0.5
            if elector.shutdown_step():
                break
    policy = json.loads(dev_run.inputs(types.ROLE_POLICY, children("app").election_policy)["policy"])
    recorded = {f"servicediscovery:{op}" for op in cloud_map.operations} | {
        f"dynamodb:{op}" for op in dynamodb.operations
    }
    assert recorded == set(policy_actions(policy))


def test_the_lease_policy_reaches_only_the_services_own_item(dev_run: StackRun) -> None:
    policy = json.loads(dev_run.inputs(types.ROLE_POLICY, children("app").election_policy)["policy"])
    (lease,) = [s for s in policy["Statement"] if s["Sid"] == "OwnLease"]
    table = dev_run.one(types.DYNAMODB_TABLE, naming.ElectionChildren(naming.ELECTION).lease_table)
    assert lease["Resource"] == table.state["arn"]
    assert lease["Condition"] == {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["app"]}}


def test_the_election_reaches_its_own_namespace_when_another_has_the_same_name(
    platform: Platform,
) -> None:
    other = Platform(
        table="another-stack-leases"
    )  # another stack's namespace of the same name, created second: its HttpName is hashed
    assert other.http_name != platform.http_name
    for n in (1, 2):
        other.ecs_starts(n)
    other.rounds()
    assert len(other.leaders()) == 1
    assert platform.roles() == {}  # nothing landed in the first stack's namespace


def test_a_taker_whose_clock_is_30_s_ahead_does_not_take_a_live_lease(platform: Platform) -> None:
    holder = platform.ecs_starts(1)
    platform.rounds(1)
    assert platform.leaders() == [holder.me.task_id]
    ahead = platform.ecs_starts(2, wall=lambda: platform.clock.now + 30)
    platform.rounds(30)  # a minute of rounds: by its wall clock, the holder's every renewal is 30 s old
    assert platform.leaders() == [holder.me.task_id]
    lease = holder.lease.read()
    assert lease is not None
    assert (lease.holder, lease.term) == (holder.me.task_id, 1)
    # The holder goes silent. The taker takes only once the version has stood still for a lease on its own clock.
    last_renewal = platform.clock.now - 2.0
    platform.ecs_stops(holder.me.task_id)
    while not ahead.is_leader():
        platform.rounds(1)
    taken_at = platform.clock.now - 2.0
    assert taken_at - last_renewal >= Timing().lease_ttl
    assert ahead.view().term == 2


class Stuck:
    """A DynamoDB client whose writes hang (until released) while `hang` is set, as in a partition."""

    def __init__(self, client: Any):
        self.client, self.hang = client, False
        self.entered, self.released = threading.Event(), threading.Event()

    def get_item(self, **request: Any) -> Any:
        return self.client.get_item(**request)

    def update_item(self, **request: Any) -> Any:
        if self.hang:
            self.entered.set()
            self.released.wait(timeout=10)
            raise TimeoutError("read timeout")
        return self.client.update_item(**request)


def test_answers_never_wait_on_a_round_stuck_in_a_call_and_stop_at_the_deadline(platform: Platform) -> None:
    stuck = Stuck(platform.dynamodb)
    elector = platform.ecs_starts(1, dynamodb=stuck)
    platform.rounds(1)
    assert elector.view().role == "leader"
    stuck.hang = True
    failed: list[BaseException] = []

    def stuck_round() -> None:
        try:
            elector.run_round()
        except TimeoutError as error:
            failed.append(error)

    loop = threading.Thread(target=stuck_round)
    loop.start()
    try:
        assert stuck.entered.wait(timeout=10)  # the round is inside its renewal, holding the loop's lock
        assert elector.view().role == "leader"  # answered from the snapshot, at once
        platform.clock.now += Timing().lease_ttl - Timing().clock_margin - 2.0  # the deadline, by its own clock
        assert elector.view().role == "follower"  # no renewal: no longer leader, though the loop is still stuck
        assert not elector.is_leader()
        elector.request_stop()  # SIGTERM does not wait for the round either
        assert elector.view().role == "follower"
    finally:
        stuck.released.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    assert len(failed) == 1  # the round gave up on the hung renewal


class Hiding:
    """A Cloud Map client whose DiscoverInstances leaves out some instance ids, as before a registration shows."""

    def __init__(self, client: Any):
        self._client, self.hidden = client, set[str]()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def discover_instances(self, **request: Any) -> Any:
        found = self._client.discover_instances(**request)
        return found | {"Instances": [i for i in found["Instances"] if i["InstanceId"] not in self.hidden]}


def test_the_new_holder_keeps_the_old_leader_instance_until_its_own_is_visible(platform: Platform) -> None:
    old = platform.ecs_starts(1)
    platform.rounds(1)
    assert platform.leaders() == [old.me.task_id]
    hiding = Hiding(platform.cloud_map)
    new = platform.ecs_starts(2, cloud_map=hiding)
    platform.rounds(1)
    platform.electors.pop(old.me.task_id)  # frozen, still in ECS's service: its leader-1 may yet forward
    hiding.hidden.add(f"{LEADER_PREFIX}2")  # the new holder's registration succeeds but does not show yet
    while not new.is_leader():
        platform.rounds(1)
    platform.rounds(3 * contract.RECONCILE_EVERY_ROUNDS)  # several reconciles, each seeing only leader-1
    leaders = sorted(i for i in platform.roles() if i.startswith(LEADER_PREFIX))
    assert leaders == [f"{LEADER_PREFIX}1", f"{LEADER_PREFIX}2"]  # /leader keeps a target meanwhile
    hiding.hidden.clear()
    platform.rounds(contract.RECONCILE_EVERY_ROUNDS + 1)
    assert sorted(i for i in platform.roles() if i.startswith(LEADER_PREFIX)) == [f"{LEADER_PREFIX}2"]


def test_the_leader_instance_of_a_crashed_holder_goes_without_waiting(platform: Platform) -> None:
    """Gone from ECS's service without a stopping mark: every request it draws fails, so it goes at once."""
    old = platform.ecs_starts(1)
    platform.rounds(1)
    hiding = Hiding(platform.cloud_map)
    new = platform.ecs_starts(2, cloud_map=hiding)
    platform.rounds(1)
    platform.ecs_stops(old.me.task_id)  # crashed: ECS deregistered it, it marked nothing
    hiding.hidden.add(f"{LEADER_PREFIX}2")
    while not new.is_leader():
        platform.rounds(1)
    platform.rounds(contract.RECONCILE_EVERY_ROUNDS + 1)
    assert sorted(i for i in platform.roles() if i.startswith(LEADER_PREFIX)) == [f"{LEADER_PREFIX}2"]
