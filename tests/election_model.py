"""A discrete-event model of Cloud Map, DynamoDB, ECS and API Gateway, driving the real election code.

Nothing sleeps: every actor is an event on a virtual clock. The behaviour modelled is what the project's docs
record about the real services (docs/election.md has the sources):
- Cloud Map `DiscoverInstances` is eventually consistent. After an instance's attributes change, each call sees
  the old or the new version at random for `attribute_window` seconds. A register or deregister is seen after a
  per-change delay of 1-5 s. ECS-pushed health applies `health_delay` (30 s) after the push.
- `RegisterInstance` / `DeregisterInstance` are asynchronous operations (0.5-3 s). Register is an upsert: on a
  deleted id it creates the instance again. A second operation on an instance with one in flight fails
  (`DuplicateRequest`) or queues behind it, by `conflicts`.
- DynamoDB conditional writes are atomic and strongly consistent reads see them; an eventually consistent read
  may be up to `lease_stale_window` seconds old (the election never asks for one).
- Calls fail with `ThrottlingException` during error storms, and rarely otherwise.
- ECS registers a task's instance when it starts and deregisters it around SIGTERM or a few seconds after a crash,
  and kills a task 30 s after SIGTERM. Rolling deployments start the new tasks first (maximumPercent 200).
- API Gateway resolves each request with its own filtered `DiscoverInstances` and picks one instance at random.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mapgate_app import routing
from mapgate_app.election import LEADER_PREFIX, OWNER, Elector, Member, Timing
from mapgate_app.lease import ACQUIRE_IF, NOBODY, OWN_TERM_IF, LeaseStore

EPOCH = 1_790_000_000.0  # virtual wall-clock origin, seconds
NAMESPACE_ID = "ns-sim"
HTTP_NAME = "sim.internal"
SERVICE = "app"
ROLES = "app_roles"
PORT = 8080


class SimError(Exception):
    """A botocore-like ClientError: `.response["Error"]["Code"]`."""

    def __init__(self, code: str):
        super().__init__(code)
        self.response = {"Error": {"Code": code, "Message": code}}


@dataclass(frozen=True)
class Model:
    attribute_window: float = 30.0
    membership_delay: tuple[float, float] = (1.0, 5.0)
    membership_window: float | None = None
    """Pessimistic: a register or deregister is seen after up to this long (instead of 1-5 s)."""
    health_delay: float = 30.0
    operation_latency: tuple[float, float] = (0.5, 3.0)
    conflicts: str = "fail"  # or "queue"
    lease_stale_window: float = 1.0
    """How old an eventually consistent GetItem may be (the election only makes strongly consistent ones)."""
    transient_error_rate: float = 0.001
    ecs_crash_detect: tuple[float, float] = (3.0, 10.0)
    stop_timeout: float = 30.0
    container_boot: float = 3.0
    healthy_after: tuple[float, float] = (8.0, 15.0)
    clock_skew: float = 0.3
    """Each task's wall clock is off by up to this much (Amazon Time Sync keeps it far smaller)."""


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def at(self, when: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._queue, (max(when, self.now), next(self._seq), action))

    def after(self, delay: float, action: Callable[[], None]) -> None:
        self.at(self.now + delay, action)

    def run_until(self, end: float) -> None:
        while self._queue and self._queue[0][0] <= end:
            when, _, action = heapq.heappop(self._queue)
            self.now = when
            action()
        self.now = end


class Faults:
    """Error storms per API: while one is on, each call fails with its probability."""

    def __init__(self, clock: Clock, rng: random.Random, model: Model):
        self.clock, self.rng, self.model = clock, rng, model
        self.storms: list[tuple[float, float, float, str]] = []  # start, end, probability, "cloudmap"|"lease"|"all"

    def check(self, api: str) -> None:
        now = self.clock.now
        for start, end, probability, target in self.storms:
            if start <= now < end and target in (api, "all") and self.rng.random() < probability:
                raise SimError("ThrottlingException" if self.rng.random() < 0.7 else "ServiceUnavailable")
        if self.rng.random() < self.model.transient_error_rate:
            raise SimError("ServiceUnavailable")


# -- Cloud Map ------------------------------------------------------------------------------------------------


@dataclass
class Change:
    at: float
    attributes: dict[str, str] | None  # None: deregistered
    visible_at: float
    membership: bool


@dataclass
class Instance:
    history: list[Change] = field(default_factory=list)
    health: list[tuple[float, str]] = field(default_factory=list)  # (applies at, status)

    @property
    def current(self) -> dict[str, str] | None:
        return self.history[-1].attributes if self.history else None


class FakeCloudMap:
    def __init__(self, clock: Clock, rng: random.Random, model: Model, faults: Faults):
        self.clock, self.rng, self.model, self.faults = clock, rng, model, faults
        self.services: dict[str, dict[str, Instance]] = {SERVICE: {}, ROLES: {}}
        self.health_checked = {SERVICE}
        self.operations: dict[str, str] = {}
        self._in_flight: dict[tuple[str, str], list[str]] = {}
        self._ops = itertools.count(1)
        self._finish: dict[str, float] = {}
        self.writes_to_ecs_owned = 0
        self.calls = 0

    # the API the election uses -----------------------------------------------------------------------

    def get_namespace(self, Id: str) -> dict[str, Any]:
        self._call()
        assert Id == NAMESPACE_ID
        return {"Namespace": {"Properties": {"HttpProperties": {"HttpName": HTTP_NAME}}}}

    def discover_instances(
        self,
        NamespaceName: str,
        ServiceName: str,
        HealthStatus: str = "ALL",
        MaxResults: int = 100,
        QueryParameters: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        self._call()
        assert NamespaceName == HTTP_NAME
        return {"Instances": self.visible(ServiceName, HealthStatus, QueryParameters or {})}

    def register_instance(
        self, ServiceId: str, InstanceId: str, CreatorRequestId: str, Attributes: dict[str, str]
    ) -> dict[str, Any]:
        self._call()
        if ServiceId == SERVICE:
            self.writes_to_ecs_owned += 1
        return {"OperationId": self._submit(ServiceId, InstanceId, dict(Attributes))}

    def deregister_instance(self, ServiceId: str, InstanceId: str) -> dict[str, Any]:
        self._call()
        if ServiceId == SERVICE:
            self.writes_to_ecs_owned += 1
        instance = self.services[ServiceId].get(InstanceId)
        if (instance is None or instance.current is None) and not self._in_flight.get((ServiceId, InstanceId)):
            raise SimError("InstanceNotFound")
        return {"OperationId": self._submit(ServiceId, InstanceId, None)}

    def get_instance(self, ServiceId: str, InstanceId: str) -> dict[str, Any]:
        """Read from the registry itself (as committed), not from the discovery path."""
        self._call()
        attributes = self.registered(ServiceId).get(InstanceId)
        if attributes is None:
            raise SimError("InstanceNotFound")
        return {"Instance": {"Id": InstanceId, "Attributes": dict(attributes)}}

    def get_operation(self, OperationId: str) -> dict[str, Any]:
        self._call()
        return {"Operation": {"Id": OperationId, "Status": self.operations[OperationId]}}

    # ECS's side (never fails, never counted as the app's writes) ----------------------------------------

    def ecs_register(self, task_id: str, ip: str) -> None:
        self._commit(SERVICE, task_id, {"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": str(PORT)})
        self.services[SERVICE][task_id].health.append((self.clock.now, "UNHEALTHY"))

    def ecs_health(self, task_id: str, status: str) -> None:
        instance = self.services[SERVICE].get(task_id)
        if instance is not None and instance.current is not None:
            instance.health.append((self.clock.now + self.model.health_delay, status))

    def ecs_deregister(self, task_id: str) -> None:
        instance = self.services[SERVICE].get(task_id)
        if instance is not None and instance.current is not None:
            self._commit(SERVICE, task_id, None)

    # the model --------------------------------------------------------------------------------------

    def _call(self) -> None:
        self.calls += 1
        self.faults.check("cloudmap")

    def _submit(self, service: str, instance_id: str, attributes: dict[str, str] | None) -> str:
        operation = f"op-{next(self._ops)}"
        queue = self._in_flight.setdefault((service, instance_id), [])
        if queue and self.model.conflicts == "fail":
            raise SimError("DuplicateRequest")
        self.operations[operation] = "SUBMITTED"
        queue.append(operation)

        def complete() -> None:
            self._commit(service, instance_id, attributes)
            self.operations[operation] = "SUCCESS"
            queue.remove(operation)

        latency = self.rng.uniform(*self.model.operation_latency)
        # Queued operations run one after the other.
        start = max([self.clock.now, *[self._finish.get(op, 0.0) for op in queue[:-1]]])
        self._finish[operation] = start + latency
        self.clock.at(start + latency, complete)
        return operation

    def _commit(self, service: str, instance_id: str, attributes: dict[str, str] | None) -> None:
        instance = self.services[service].setdefault(instance_id, Instance())
        before = instance.current
        if before == attributes:
            return
        membership = before is None or attributes is None
        low, high = self.model.membership_delay
        if self.model.membership_window is not None:
            high = max(high, self.model.membership_window)
        delay = self.rng.uniform(low, high) if membership else self.model.attribute_window
        instance.history.append(Change(self.clock.now, attributes, self.clock.now + delay, membership))

    def _seen_by_one_call(self, instance: Instance) -> dict[str, str] | None:
        now = self.clock.now
        for index in range(len(instance.history) - 1, -1, -1):
            change = instance.history[index]
            if change.at > now:
                continue
            if now >= change.visible_at:
                return change.attributes
            if not change.membership and self.rng.random() < 0.5:
                return change.attributes  # inside the attribute window each call sees old or new
        return None

    def _health(self, instance: Instance) -> str:
        status = "UNHEALTHY"
        for applies_at, value in instance.health:
            if applies_at <= self.clock.now:
                status = value
        return status

    def visible(self, service: str, health: str, filters: dict[str, str]) -> list[dict[str, Any]]:
        found = []
        for instance_id, instance in self.services[service].items():
            attributes = self._seen_by_one_call(instance)
            if attributes is None:
                continue
            if service in self.health_checked and health == "HEALTHY" and self._health(instance) != "HEALTHY":
                continue
            if any(attributes.get(k) != v for k, v in filters.items()):
                continue
            found.append({"InstanceId": instance_id, "Attributes": dict(attributes)})
        return found

    def registered(self, service: str) -> dict[str, dict[str, str]]:
        """The truth: instances as committed."""
        return {i: inst.current for i, inst in self.services[service].items() if inst.current is not None}


# -- DynamoDB -------------------------------------------------------------------------------------------------


class FakeDynamoDB:
    """The lease table, for exactly the requests `LeaseStore` makes (`tests/test_lease.py` runs those on moto)."""

    def __init__(self, clock: Clock, rng: random.Random, model: Model, faults: Faults):
        self.clock, self.rng, self.model, self.faults = clock, rng, model, faults
        self.item: dict[str, Any] | None = None
        self.history: list[tuple[float, dict[str, Any] | None]] = [(0.0, None)]
        self.calls = 0

    def get_item(self, TableName: str, Key: dict[str, Any], ConsistentRead: bool = False) -> dict[str, Any]:
        self._call()
        if ConsistentRead:
            item = self.item
        else:
            cutoff = self.clock.now - self.rng.uniform(0, self.model.lease_stale_window)
            item = [state for at, state in self.history if at <= cutoff][-1]
        return {"Item": dict(item)} if item else {}

    def update_item(self, **request: Any) -> dict[str, Any]:
        self._call()
        values = request["ExpressionAttributeValues"]
        item = self.item
        value = {k: (v["S"] if "S" in v else int(v["N"])) for k, v in values.items()}
        if request["ConditionExpression"] == ACQUIRE_IF:
            ok = item is None or int(item["expires"]["N"]) < value[":now"]
        elif request["ConditionExpression"] == OWN_TERM_IF:
            ok = item is not None and item["holder"]["S"] == value[":me"] and int(item["term"]["N"]) == value[":term"]
        else:
            raise AssertionError(f"unmodelled condition {request['ConditionExpression']!r}")
        if not ok:
            raise SimError("ConditionalCheckFailedException")
        update = request["UpdateExpression"]
        new = dict(item or {"name": request["Key"]["name"]})
        term = int(new.get("term", {"N": "0"})["N"])
        if ":successor" in update:
            new |= {"holder": values[":successor"], "address": values[":address"], "expires": values[":expires"]}
            new["term"] = {"N": str(term + 1)}
        elif ":nobody" in update:
            new |= {"holder": values[":nobody"], "address": values[":nobody"], "expires": {"N": "0"}}
        elif ":address" in update:
            new |= {"holder": values[":me"], "address": values[":address"], "expires": values[":expires"]}
            new["term"] = {"N": str(term + 1)}
        else:
            new["expires"] = values[":expires"]
        self.item = new
        self.history.append((self.clock.now, new))
        return {"Attributes": dict(new)}

    def holder_at(self, wall: float) -> tuple[str, int] | None:
        """The truth: who holds a valid lease at this wall-clock time."""
        if self.item is None or self.item["holder"]["S"] == NOBODY:
            return None
        if int(self.item["expires"]["N"]) <= wall * 1000:
            return None
        return self.item["holder"]["S"], int(self.item["term"]["N"])

    def _call(self) -> None:
        self.calls += 1
        self.faults.check("lease")


# -- ECS tasks running the real app code ------------------------------------------------------------------------


@dataclass
class Task:
    task_id: str
    ip: str
    elector: Elector
    started: float
    revision: int
    alive: bool = True
    stopping: bool = False
    exited_at: float | None = None


class Platform:
    """ECS, the tasks, the fakes and the API Gateway probe, on one clock."""

    def __init__(self, seed: int, model: Model, timing: Timing | None = None):
        self.rng = random.Random(seed)
        self.model = model
        self.timing = timing or Timing()
        self.clock = Clock()
        self.faults = Faults(self.clock, self.rng, model)
        self.cloud_map = FakeCloudMap(self.clock, self.rng, model, self.faults)
        self.dynamodb = FakeDynamoDB(self.clock, self.rng, model, self.faults)
        self.tasks: dict[str, Task] = {}
        self.by_address: dict[str, Task] = {}
        self.desired = 0
        self.revision = 1
        self._ids = itertools.count(1)
        self.probes: list[Probe] = []
        self.split_brain_seconds = 0
        self.holders: list[str] = []  # the lease's holder, each time it changes
        self.max_orphan_age = 0.0
        self._orphan_since: dict[str, float] = {}
        self.converged_at: list[tuple[float, bool]] = []

    # ECS -----------------------------------------------------------------------------------------------

    def start_task(self) -> Task:
        number = next(self._ids)
        task_id = f"t{number:04d}{self.rng.getrandbits(32):08x}"
        ip = f"10.0.{number // 250}.{number % 250 + 2}"
        skew = self.rng.uniform(-self.model.clock_skew, self.model.clock_skew)
        started = self.clock.now
        elector = Elector(
            self.cloud_map,
            LeaseStore(self.dynamodb, table="leases", name=SERVICE),
            namespace_id=NAMESPACE_ID,
            service_name=SERVICE,
            roles_service_id=ROLES,
            roles_service_name=ROLES,
            me=Member(task_id=task_id, ip=ip, port=PORT, started=EPOCH + started + skew),
            timing=self.timing,
            clock=lambda: self.clock.now,
            wall=lambda: EPOCH + self.clock.now + skew,
            rng=random.Random(self.rng.random()),
        )
        task = Task(task_id, ip, elector, started, self.revision)
        self.tasks[task_id] = task
        self.by_address[f"{ip}:{PORT}"] = task
        self.clock.after(1.0, lambda: self.cloud_map.ecs_register(task_id, ip))
        self.clock.after(self.model.container_boot, lambda: self._round(task))
        healthy = self.rng.uniform(*self.model.healthy_after)
        self.clock.after(healthy, lambda: self._became_healthy(task))
        return task

    def _became_healthy(self, task: Task) -> None:
        if task.alive:
            self.cloud_map.ecs_health(task.task_id, "HEALTHY")

    def _round(self, task: Task) -> None:
        if not task.alive or task.stopping:
            return
        failed: Exception | None = None
        try:
            task.elector.run_round()
        except SimError as error:
            failed = error
        self.clock.after(task.elector.next_delay(failed), lambda: self._round(task))

    def crash(self, task: Task) -> None:
        if not task.alive:
            return
        task.alive, task.exited_at = False, self.clock.now
        detect = self.rng.uniform(*self.model.ecs_crash_detect)
        self.clock.after(detect, lambda: self._after_stop(task))

    def sigterm(self, task: Task) -> None:
        if not task.alive or task.stopping:
            return
        task.stopping = True
        self.clock.after(self.rng.uniform(0.0, 1.0), lambda: self.cloud_map.ecs_deregister(task.task_id))
        task.elector.request_stop()
        self._stop_step(task)
        self.clock.after(self.model.stop_timeout, lambda: self._kill(task))

    def _stop_step(self, task: Task) -> None:
        if not task.alive:
            return
        if task.elector.shutdown_step():
            self._kill(task)
        else:
            self.clock.after(0.5, lambda: self._stop_step(task))

    def _kill(self, task: Task) -> None:
        if task.alive:
            task.alive, task.exited_at = False, self.clock.now
            self._after_stop(task)

    def _after_stop(self, task: Task) -> None:
        self.cloud_map.ecs_deregister(task.task_id)
        self.tasks.pop(task.task_id, None)
        if sum(1 for t in self.tasks.values() if not t.stopping) < self.desired:
            self.start_task()

    def running(self) -> list[Task]:
        return [t for t in self.tasks.values() if t.alive and not t.stopping]

    def scale(self, count: int) -> None:
        self.desired = count
        running = sorted(self.running(), key=lambda t: t.started)
        for _ in range(count - len(running)):
            self.start_task()
        for task in self.rng.sample(running, max(0, len(running) - count)):
            self.sigterm(task)

    def rolling_deployment(self) -> None:
        """maximumPercent 200, minimumHealthyPercent 100: new tasks first, then stop one old per healthy new."""
        self.revision += 1
        old = [t for t in self.running() if t.revision < self.revision]
        new = [self.start_task() for _ in old]
        for task, replacement in zip(old, new, strict=True):
            healthy = self.rng.uniform(*self.model.healthy_after) + self.model.health_delay
            self.clock.after(healthy + self.rng.uniform(0, 5), functools.partial(self._replace, task, replacement))

    def _replace(self, old: Task, new: Task) -> None:
        if new.alive:
            self.sigterm(old)

    # the probe -------------------------------------------------------------------------------------------

    def probe_every_second(self, until: float) -> None:
        def tick() -> None:
            for path in ("/leader", "/follower", "/"):
                self.probes.append(self._request(path))
            self._observe()
            if self.clock.now + 1 <= until:
                self.clock.after(1.0, tick)

        self.clock.after(1.0, tick)

    def _request(self, path: str) -> Probe:
        now = self.clock.now
        if path == "/":
            targets = self.cloud_map.visible(SERVICE, "HEALTHY", {})
        else:
            wanted = "true" if path == "/leader" else "false"
            targets = self.cloud_map.visible(ROLES, "ALL", {"leader": wanted})
        if not targets:
            return Probe(now, path, 503, "no instance")
        attributes = self.rng.choice(targets)["Attributes"]
        task = self.by_address.get(f"{attributes['AWS_INSTANCE_IPV4']}:{PORT}")
        return self._deliver(now, path, task, forwarded=False)

    def _deliver(self, now: float, path: str, task: Task | None, *, forwarded: bool) -> Probe:
        if task is None or not task.alive:
            return Probe(now, path, 502, "dead target")
        if path == "/":
            return Probe(now, path, 200, task.task_id)
        view = task.elector.view()
        decision = routing.decide(path, view, forwarded=forwarded, rng=self.rng)
        if decision.kind == "forward":
            return self._deliver(now, path, self.by_address.get(decision.target or ""), forwarded=True)
        if decision.kind == "unavailable":
            return Probe(now, path, 503, "unavailable")
        truth = self.dynamodb.holder_at(EPOCH + now)
        holder = truth[0] if truth else None
        wrong = (path == "/leader") != (holder == task.task_id)
        return Probe(now, path, 200, task.task_id, wrong_role=wrong)

    def _observe(self) -> None:
        now = self.clock.now
        believers = [t for t in self.tasks.values() if t.alive and t.elector.is_leader()]
        if len(believers) > 1:
            self.split_brain_seconds += 1
        truth = self.dynamodb.holder_at(EPOCH + now)
        if truth and (not self.holders or self.holders[-1] != truth[0]):
            self.holders.append(truth[0])
        live = {t.task_id for t in self.tasks.values() if t.alive}
        registered = self.cloud_map.registered(ROLES)
        for instance_id, attributes in registered.items():
            if attributes.get(OWNER) in live:
                self._orphan_since.pop(instance_id, None)
                continue
            since = self._orphan_since.setdefault(instance_id, now)
            self.max_orphan_age = max(self.max_orphan_age, now - since)
        for instance_id in list(self._orphan_since):
            if instance_id not in registered:
                del self._orphan_since[instance_id]
        self.converged_at.append((now, self.converged()))

    # verdicts --------------------------------------------------------------------------------------------

    def zombies(self) -> list[str]:
        """Instances (either service) whose task is gone, now."""
        live = {t.task_id for t in self.tasks.values() if t.alive}
        roles = [i for i, a in self.cloud_map.registered(ROLES).items() if a.get(OWNER) not in live]
        ecs = [i for i in self.cloud_map.registered(SERVICE) if i not in self.tasks]
        return roles + ecs

    def converged(self) -> bool:
        """Exactly one leader: it holds the lease, its instance is the only leader instance, and no zombies."""
        truth = self.dynamodb.holder_at(EPOCH + self.clock.now)
        if truth is None:
            return False
        holder, term = truth
        return (
            self.leaders() == [holder] and self.leader_instances() == [f"{LEADER_PREFIX}{term}"] and not self.zombies()
        )

    def leaders(self) -> list[str]:
        return [t.task_id for t in self.tasks.values() if t.alive and t.elector.is_leader()]

    def leader_instances(self) -> list[str]:
        return [i for i in self.cloud_map.registered(ROLES) if i.startswith(LEADER_PREFIX)]


@dataclass(frozen=True)
class Probe:
    at: float
    path: str
    status: int
    answered_by: str
    wrong_role: bool = False
