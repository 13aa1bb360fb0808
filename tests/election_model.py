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
from dataclasses import dataclass, field, replace
from typing import Any

from mapgate_app import routing
from mapgate_app.election import LEADER_PREFIX, OWNER, Elector, Member, Timing
from mapgate_app.lease import (
    ADDRESS,
    EXISTS_IF,
    HAND_OVER_IF,
    HOLDER,
    KEY,
    LEASE_MS,
    LEGACY_EXPIRES,
    NOBODY,
    OWN_TERM_IF,
    RENEWED_MS,
    STOPPING,
    TAKE_NEW_IF,
    TAKE_SEEN_IF,
    TAKE_SEEN_LEGACY_IF,
    TERM,
    VERSION,
    LeaseStore,
)

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
    rate_skew: float = 0.0
    """Each task's steady clock runs fast or slow by up to this fraction (0.01: 1 %, 10,000 ppm)."""


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
        return self.apply_update(request)

    def apply_update(self, request: dict[str, Any]) -> dict[str, Any]:
        """The five writes `LeaseStore` makes, evaluated as DynamoDB does (tests/test_lease.py compares with moto)."""
        values = request["ExpressionAttributeValues"]
        item = self.item
        value: dict[str, Any] = {
            k: (v["S"] if "S" in v else v["SS"] if "SS" in v else int(v["N"])) for k, v in values.items()
        }
        condition = request["ConditionExpression"]

        def number(name: str) -> int | None:
            return int(item[name]["N"]) if item is not None and name in item else None

        def own_term() -> bool:
            return item is not None and item.get(HOLDER, {}).get("S") == value[":me"] and number(TERM) == value[":term"]

        stopping = set(item.get(STOPPING, {}).get("SS", [])) if item else set()
        if condition == TAKE_NEW_IF:
            ok = item is None
        elif condition == TAKE_SEEN_IF:
            ok = number(VERSION) == value[":seen"]
        elif condition == TAKE_SEEN_LEGACY_IF:
            ok = item is not None and number(VERSION) is None and number(LEGACY_EXPIRES) == value[":seen"]
        elif condition == OWN_TERM_IF:
            ok = own_term()
        elif condition == HAND_OVER_IF:
            ok = own_term() and value[":successor"] not in stopping
        elif condition == EXISTS_IF:
            ok = item is not None
        else:
            raise AssertionError(f"unmodelled condition {condition!r}")
        if not ok:
            raise SimError("ConditionalCheckFailedException")
        update = request["UpdateExpression"]
        new = dict(item or {KEY: request["Key"][KEY]})
        if update.startswith("ADD #stopping"):
            new[STOPPING] = {"SS": sorted(stopping | set(value[":me"]))}
            self._commit(new)
            return {}
        term, version = number(TERM) or 0, number(VERSION) or 0
        new[VERSION] = {"N": str(version + 1)}
        new[RENEWED_MS] = values[":now"]
        if "REMOVE #expires" in update:
            new.pop(LEGACY_EXPIRES, None)
        if ":successor" in update:
            new |= {HOLDER: values[":successor"], ADDRESS: values[":address"], TERM: {"N": str(term + 1)}}
        elif ":nobody" in update:
            new |= {HOLDER: values[":nobody"], ADDRESS: values[":nobody"]}
        elif ":address" in update:
            new |= {HOLDER: values[":me"], ADDRESS: values[":address"], LEASE_MS: values[":lease_ms"]}
            new[TERM] = {"N": str(term + 1)}
        else:
            new[LEASE_MS] = values[":lease_ms"]
            if ":forget" in values:
                left = stopping - set(value[":forget"])
                if left:
                    new[STOPPING] = {"SS": sorted(left)}
                else:
                    new.pop(STOPPING, None)  # DynamoDB drops a set that becomes empty
        self._commit(new)
        return {"Attributes": dict(new)}

    def _commit(self, new: dict[str, Any]) -> None:
        self.item = new
        self.history.append((self.clock.now, new))

    def holder_at(self, wall: float = 0.0) -> tuple[str, int] | None:
        """The truth: the task the item names as holder, and its term, now (`wall` is unused: no expiry)."""
        if self.item is None or self.item[HOLDER]["S"] == NOBODY:
            return None
        return self.item[HOLDER]["S"], int(self.item[TERM]["N"])

    def _call(self) -> None:
        self.calls += 1
        self.faults.check("lease")


# -- what one task's calls meet: partitions, fail-fast errors, ambiguous writes --------------------------------


@dataclass(frozen=True)
class LinkFault:
    """Between `start` and `end`, calls of `task` (None: every task) to `api` ("lease", "cloudmap" or "all"):
    - "hang": time out after the SDK's whole budget (`Timing.call_limit`), nothing applied (a partition);
    - "fail": fail at once, nothing applied;
    - "ambiguous": a write is applied, then the client sees a time-out (with `probability`)."""

    start: float
    end: float
    task: str | None
    api: str
    kind: str
    probability: float = 1.0


class Link:
    """One task's client for one service: the shared fake behind it, and the faults on the way."""

    def __init__(self, platform: Platform, task: Task, api: str, service: Any):
        self._platform, self._task, self._api, self._service = platform, task, api, service

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._service, name)

        def call(**kwargs: Any) -> Any:
            platform, task = self._platform, self._task
            now = task.local_now()
            for fault in platform.link_faults:
                if not (fault.start <= now < fault.end and fault.task in (None, task.task_id)):
                    continue
                if fault.api not in (self._api, "all") or platform.rng.random() >= fault.probability:
                    continue
                if fault.kind == "fail":
                    raise SimError("ServiceUnavailable")
                if fault.kind == "hang":
                    task.cursor = now + platform.timing.call_limit
                    raise SimError("ReadTimeoutError")
                if fault.kind == "ambiguous" and name == "update_item":
                    method(**kwargs)  # applied, then the answer is lost
                    task.cursor = now + platform.timing.call_limit
                    raise SimError("ReadTimeoutError")
            return method(**kwargs)

        return call


# -- ECS tasks running the real app code ------------------------------------------------------------------------


@dataclass
class Task:
    task_id: str
    ip: str
    elector: Elector
    started: float
    revision: int
    clock: Clock
    wall_offset: float = 0.0
    rate: float = 1.0
    alive: bool = True
    stopping: bool = False
    exited_at: float | None = None
    sigterm_at: float | None = None
    frozen_until: float = 0.0
    cursor: float = 0.0
    """Inside one of this task's events, the virtual time its calls have taken it to (a hung call costs time)."""
    in_event: bool = False

    def local_now(self) -> float:
        return self.cursor if self.in_event else self.clock.now

    def steady(self) -> float:
        """This task's steady clock: its own rate, its own origin."""
        return 1_000.0 + self.rate * self.local_now()

    def wall(self) -> float:
        return EPOCH + self.local_now() + self.wall_offset

    def frozen(self) -> bool:
        return self.clock.now < self.frozen_until


ElectorFactory = Callable[..., Elector]


class Platform:
    """ECS, the tasks, the fakes and the API Gateway probe, on one clock."""

    def __init__(
        self, seed: int, model: Model, timing: Timing | None = None, elector: ElectorFactory = Elector
    ) -> None:
        self.rng = random.Random(seed)
        self.model = model
        self.timing = timing or Timing()
        self.make_elector = elector
        self.clock = Clock()
        self.faults = Faults(self.clock, self.rng, model)
        self.cloud_map = FakeCloudMap(self.clock, self.rng, model, self.faults)
        self.dynamodb = FakeDynamoDB(self.clock, self.rng, model, self.faults)
        self.link_faults: list[LinkFault] = []
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
        self.stop_seconds: list[float] = []  # SIGTERM to exit, per graceful stop that finished on its own
        self.killed_by_ecs = 0  # stops that ran into SIGKILL

    # ECS -----------------------------------------------------------------------------------------------

    def start_task(self) -> Task:
        number = next(self._ids)
        task_id = f"t{number:04d}{self.rng.getrandbits(32):08x}"
        ip = f"10.0.{number // 250}.{number % 250 + 2}"
        skew = self.rng.uniform(-self.model.clock_skew, self.model.clock_skew)
        rate = 1.0 + self.rng.uniform(-self.model.rate_skew, self.model.rate_skew)
        started = self.clock.now
        task = Task(task_id, ip, None, started, self.revision, self.clock, wall_offset=skew, rate=rate)  # type: ignore[arg-type]
        task.elector = self.make_elector(
            Link(self, task, "cloudmap", self.cloud_map),
            LeaseStore(Link(self, task, "lease", self.dynamodb), table="leases", name=SERVICE),
            namespace_id=NAMESPACE_ID,
            service_name=SERVICE,
            roles_service_id=ROLES,
            roles_service_name=ROLES,
            me=Member(task_id=task_id, ip=ip, port=PORT, started=EPOCH + started + skew),
            timing=self.timing,
            clock=task.steady,
            wall=task.wall,
            rng=random.Random(self.rng.random()),
        )
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

    def _in_event(self, task: Task, action: Callable[[], float | None], retry: Callable[[], None]) -> None:
        """Run one of the task's events: deferred while it is frozen; the next one after the time its calls took."""
        if task.frozen():
            self.clock.at(task.frozen_until, retry)
            return
        task.cursor, task.in_event = self.clock.now, True
        try:
            delay = action()
        finally:
            task.in_event = False
        if delay is not None:
            self.clock.at(task.cursor + delay, retry)

    def _round(self, task: Task) -> None:
        if not task.alive or task.stopping:
            return

        def once() -> float:
            failed: Exception | None = None
            try:
                task.elector.run_round()
            except SimError as error:
                failed = error
            return task.elector.next_delay(failed)

        self._in_event(task, once, lambda: self._round(task))

    def crash(self, task: Task) -> None:
        if not task.alive:
            return
        task.alive, task.exited_at = False, self.clock.now
        detect = self.rng.uniform(*self.model.ecs_crash_detect)
        self.clock.after(detect, lambda: self._after_stop(task))

    def freeze(self, task: Task, seconds: float) -> None:
        """The task stops running (a stalled VM, a long GC, SIGSTOP) and later resumes with the state it had; its
        steady clock (CLOCK_BOOTTIME) kept counting."""
        task.frozen_until = max(task.frozen_until, self.clock.now + seconds)

    def sigterm(self, task: Task) -> None:
        if not task.alive or task.stopping:
            return
        task.stopping, task.sigterm_at = True, self.clock.now
        self.clock.after(self.rng.uniform(0.0, 1.0), lambda: self.cloud_map.ecs_deregister(task.task_id))
        task.elector.request_stop()
        self._stop_step(task)
        self.clock.after(self.model.stop_timeout, lambda: self._kill(task, by_ecs=True))

    def _stop_step(self, task: Task) -> None:
        if not task.alive:
            return

        def once() -> float | None:
            if not task.elector.shutdown_step():
                return 0.5
            self.stop_seconds.append(task.cursor - (task.sigterm_at or 0.0))
            self.clock.at(task.cursor, lambda: self._kill(task))
            return None

        self._in_event(task, once, lambda: self._stop_step(task))

    def _kill(self, task: Task, by_ecs: bool = False) -> None:
        if task.alive:
            self.killed_by_ecs += by_ecs
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
        if task.frozen():
            # The request waits; the task answers when it resumes, from the state it had: is that answer right?
            self.clock.at(task.frozen_until, lambda: self.probes.append(self._late(path, task, forwarded)))
            return Probe(now, path, 504, "frozen")
        view = task.elector.view()
        decision = routing.decide(path, view, forwarded=forwarded, rng=self.rng)
        if decision.kind == "forward":
            return self._deliver(now, path, self.by_address.get(decision.target or ""), forwarded=True)
        if decision.kind == "unavailable":
            return Probe(now, path, 503, "unavailable")
        truth = self.dynamodb.holder_at()
        holder = truth[0] if truth else None
        wrong = (path == "/leader") != (holder == task.task_id)
        return Probe(now, path, 200, task.task_id, wrong_role=wrong)

    def _late(self, path: str, task: Task, forwarded: bool) -> Probe:
        if not task.alive or task.frozen():
            return Probe(self.clock.now, path, 504, "late, gave up", late=True)
        answer = self._deliver(self.clock.now, path, task, forwarded=forwarded)
        return replace(answer, late=True)

    def _observe(self) -> None:
        now = self.clock.now
        believers = [t for t in self.tasks.values() if t.alive and t.elector.is_leader()]
        if len(believers) > 1:
            self.split_brain_seconds += 1
        truth = self.dynamodb.holder_at()
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
        truth = self.dynamodb.holder_at()
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
    late: bool = False
    """Answered by a task that was frozen when the request arrived, after it resumed."""
