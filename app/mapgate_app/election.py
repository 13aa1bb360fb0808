"""Leader election: a DynamoDB lease decides, Cloud Map instances of the app's own route traffic.

Safety comes from the lease (`mapgate_app.lease`): a task acts as leader only while it holds the lease, by its own
monotonic clock, with a margin. Nothing is decided from `DiscoverInstances`, which is eventually consistent.

Routing follows the lease through a second Cloud Map service per elected service, the *roles service*. It has no
DNS records (type HTTP) and no health check, and only the app writes to it:
- the holder of term N registers `leader-N` with `leader=true`;
- every other running task registers an instance named after its task id with `leader=false`.
`GET /leader` and `GET /follower` filter this service on `leader`. A role change is a register or a deregister,
which Cloud Map shows within seconds, never an attribute update, which takes about 30 s to reach every reader.
The ECS-owned instances (`GET /`) are never written: ECS deregisters them when it stops a task, and a write after
that would re-create an instance nobody removes.

Every instance the app registers has an owner (the `owner` attribute, a task id) and is removed by it, or by the
holder's reconcile once the owner's task has left the ECS-owned service, or once a newer term's leader exists.

One round, every `interval` seconds: check the operations still in flight, read the lease, renew it or take it
when it is free, then make this task's own instances match its role (at most one operation per instance at a
time, a Cloud Map rule). The holder also reconciles every few rounds. A failed call costs the round; throttling
backs the next round off with jitter. On SIGTERM the holder hands the lease to the youngest follower it knows,
so a rolling deployment moves leadership once, onto a new task.

The code is a state machine driven by `run_round()` and `shutdown_step()`, with the clock, the random source and
the clients injected, so that `bench/election_sim.py` drives the same code on a virtual clock.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mapgate_app.lease import Lease, LeaseLost, LeaseStore, error_code

log = logging.getLogger("mapgate.election")

Role = Literal["leader", "follower", "unknown"]

LEADER_PREFIX = "leader-"
# Attributes of the instances the app registers in the roles service.
OWNER = "owner"
TERM = "term"
STARTED = "started"
IPV4 = "AWS_INSTANCE_IPV4"
PORT = "AWS_INSTANCE_PORT"

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "RequestLimitExceeded", "ProvisionedThroughputExceededException", "TooManyRequests"}
)


@dataclass(frozen=True)
class Timing:
    interval: float = 2.0
    """Seconds between rounds. A free lease is taken within one round."""
    lease_ttl: float = 10.0
    """A crashed holder's lease ends this long after its last renewal."""
    clock_margin: float = 1.0
    """A holder stops believing it leads this long before its lease ends (clock differences between tasks)."""
    reconcile_every: int = 3
    """The holder removes orphaned instances every this many rounds."""
    young_task_grace: float = 60.0
    """An instance whose task started less than this long ago is removed only if it is missing twice in a row."""
    settle: float = 5.0
    """On stop, keep serving this long after the last deregistration, for readers that have not seen it yet."""
    successor_wait: float = 12.0
    """On stop, the old holder keeps its `leader-N` instance until its successor's is visible, at most this long."""
    stop_budget: float = 25.0
    """All of the stop, well inside ECS's default 30 s between SIGTERM and SIGKILL."""
    max_backoff: float = 8.0


@dataclass(frozen=True)
class Member:
    task_id: str
    ip: str
    port: int
    started: float
    """Wall-clock start, seconds: a graceful holder hands over to the youngest follower."""

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"


@dataclass
class _Instance:
    """One instance this task owns in the roles service, and where its last operation stands."""

    registered: bool = False
    operation: str | None = None
    deregistering: bool = False


@dataclass
class View:
    """What this task knows, for answering requests: read under the lock, copied out."""

    role: Role = "unknown"
    term: int = 0
    holder_address: str | None = None
    followers: list[str] = field(default_factory=list)


class Elector:
    """Runs the election for one task. Clients are boto3's `servicediscovery` and the lease store (or fakes)."""

    def __init__(
        self,
        cloud_map: Any,
        lease: LeaseStore,
        *,
        namespace_id: str,
        service_name: str,
        roles_service_id: str,
        roles_service_name: str,
        me: Member,
        attribute: str = "leader",
        timing: Timing | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        self.cloud_map = cloud_map
        self.lease = lease
        self.namespace_id = namespace_id
        self.service_name = service_name
        self.roles_service_id = roles_service_id
        self.roles_service_name = roles_service_name
        self.me = me
        self.attribute = attribute
        self.timing = timing or Timing()
        self.clock = clock
        self.wall = wall
        self.rng = rng or random.Random()
        self._http_name: str | None = None
        self._lock = threading.Lock()
        self._term = 0
        self._deadline = 0.0  # monotonic; this task leads while clock() < _deadline
        self._seen: Lease | None = None
        self._own: dict[str, _Instance] = {}
        self._rounds_since_reconcile = 0
        self._rounds_since_verify = 0
        self._reconcile_due = False
        self._failures = 0
        self._followers: dict[str, Member] = {}
        self._missing_owners: dict[str, int] = {}
        self._stopping_since: float | None = None
        self._successor_address: str | None = None
        self._settled_at: float | None = None
        self._done = False
        self._thread: threading.Thread | None = None
        self._stop_loop = threading.Event()

    # -- what requests see ---------------------------------------------------------------------------

    def is_leader(self) -> bool:
        """True only while this task holds the lease, by its own clock: the one test before answering as leader."""
        return self._stopping_since is None and self.clock() < self._deadline

    @property
    def role(self) -> Role:
        if self.is_leader():
            return "leader"
        return "follower" if self._seen is not None or self._stopping_since is not None else "unknown"

    def view(self) -> View:
        with self._lock:
            leading = self.is_leader()
            holder = None
            if self._successor_address:
                holder = self._successor_address
            elif (
                self._seen is not None
                and self._seen.holder != self.me.task_id
                and self._seen.valid_at(int(self.wall() * 1000))
            ):
                holder = self._seen.address
            return View(
                role="leader" if leading else self.role,
                term=self._term if leading else (self._seen.term if self._seen else 0),
                holder_address=holder,
                followers=sorted(m.address for m in self._followers.values() if m.task_id != self.me.task_id),
            )

    # -- one round -------------------------------------------------------------------------------------

    def run_round(self) -> Role:
        """One round; returns the role afterwards. Errors propagate: the loop turns them into a backoff."""
        with self._lock:
            if self._stopping_since is not None:
                return self.role
            self._settle_operations()
            self._follow_the_lease()
            self._match_own_instances()
            if self.is_leader():
                self._rounds_since_reconcile += 1
                if self._reconcile_due or self._rounds_since_reconcile >= self.timing.reconcile_every:
                    self._reconcile()
            return self.role

    def _follow_the_lease(self) -> None:
        sent, now_ms = self.clock(), self._now_ms()
        ttl_ms = int(self.timing.lease_ttl * 1000)
        if self.is_leader():
            # The holder renews without reading first: one call a round, and a lost lease shows as LeaseLost.
            try:
                self._lead(self.lease.renew(me=self.me.task_id, term=self._term, now_ms=now_ms, ttl_ms=ttl_ms), sent)
                return
            except LeaseLost:
                self._deadline = 0.0
        lease = self.lease.read()
        self._seen = lease
        try:
            if lease is not None and lease.holder == self.me.task_id:
                # Ours (or handed to us): renew under that term. Fenced, so a lease we lost stays lost.
                renewed = self.lease.renew(me=self.me.task_id, term=lease.term, now_ms=now_ms, ttl_ms=ttl_ms)
                self._lead(renewed, sent)
            elif lease is None or not lease.valid_at(now_ms):
                taken = self.lease.acquire(me=self.me.task_id, address=self.me.address, now_ms=now_ms, ttl_ms=ttl_ms)
                self._lead(taken, sent)
                log.info("took the lease, term %s", taken.term)
            else:
                self._deadline = 0.0
        except LeaseLost:
            self._deadline = 0.0
            self._seen = self.lease.read()

    def _lead(self, lease: Lease, sent: float) -> None:
        self._seen = lease
        if lease.term != self._term:
            self._reconcile_due = True  # learn the followers and clear older terms' instances soon
        self._term = lease.term
        self._deadline = sent + self.timing.lease_ttl - self.timing.clock_margin

    def _match_own_instances(self) -> None:
        leader_id = f"{LEADER_PREFIX}{self._term}"
        if self.is_leader():
            self._ensure(leader_id, self._attributes(leader=True))
            if self._own.get(leader_id, _Instance()).registered:
                self._remove(self.me.task_id)  # only once the leader instance exists: no gap on /leader
            for instance_id in list(self._own):
                if instance_id.startswith(LEADER_PREFIX) and instance_id != leader_id:
                    self._remove(instance_id)
        else:
            self._verify_own(self.me.task_id)
            self._ensure(self.me.task_id, self._attributes(leader=False))
            for instance_id in list(self._own):
                if instance_id.startswith(LEADER_PREFIX):
                    self._remove(instance_id)

    def _verify_own(self, instance_id: str) -> None:
        """Every few rounds, check that our registered instance still exists (a holder may have taken a task that
        had just started for a gone one); if not, `_ensure` registers it again."""
        self._rounds_since_verify += 1
        instance = self._own.get(instance_id)
        if instance is None or not instance.registered or self._rounds_since_verify < self.timing.reconcile_every:
            return
        self._rounds_since_verify = 0
        try:
            self.cloud_map.get_instance(ServiceId=self.roles_service_id, InstanceId=instance_id)
        except Exception as error:
            if error_code(error) != "InstanceNotFound":
                raise
            del self._own[instance_id]

    def _attributes(self, *, leader: bool) -> dict[str, str]:
        attributes = {
            IPV4: self.me.ip,
            PORT: str(self.me.port),
            self.attribute: "true" if leader else "false",
            OWNER: self.me.task_id,
            STARTED: f"{self.me.started:.3f}",
        }
        if leader:
            attributes[TERM] = str(self._term)
        return attributes

    # -- the holder's reconcile -------------------------------------------------------------------------

    def _reconcile(self) -> None:
        """Remove instances whose owner is gone, and leader instances of older terms; learn the followers."""
        self._reconcile_due, self._rounds_since_reconcile = False, 0
        # Older terms' leader instances go only once ours exists, so that /leader always has a target.
        ours_registered = self._own.get(f"{LEADER_PREFIX}{self._term}", _Instance()).registered
        alive = {item["InstanceId"] for item in self._discover(self.service_name, "ALL")}
        followers: dict[str, Member] = {}
        for item in self._discover(self.roles_service_name, "ALL"):
            instance_id, attributes = item["InstanceId"], item.get("Attributes", {})
            owner = attributes.get(OWNER, "")
            if instance_id.startswith(LEADER_PREFIX):
                if ours_registered and _term_of(instance_id) < self._term and owner != self.me.task_id:
                    self._deregister_other(instance_id)
                continue
            if owner in alive:
                self._missing_owners.pop(instance_id, None)
                if owner != self.me.task_id:
                    followers[owner] = _member(attributes)
                continue
            # A task that started a moment ago may not show in ECS's instances yet: those get a second look.
            strikes = self._missing_owners.get(instance_id, 0) + 1
            self._missing_owners[instance_id] = strikes
            started = float(attributes.get(STARTED, "0") or 0)
            old_enough = self.wall() - started > self.timing.young_task_grace
            if (strikes >= 2 or old_enough) and owner != self.me.task_id:
                self._deregister_other(instance_id)
                self._missing_owners.pop(instance_id, None)
        self._followers = followers

    def _discover(self, service: str, health: str) -> list[dict[str, Any]]:
        found = self.cloud_map.discover_instances(
            NamespaceName=self._namespace_http_name(), ServiceName=service, HealthStatus=health, MaxResults=1000
        )
        return list(found["Instances"])

    def _namespace_http_name(self) -> str:
        """The namespace's HttpName, looked up by id once.

        It is not always the namespace's name: when that name is already taken in the account and Region, Cloud Map
        adds a hash to it. Guessing from the name would read the other namespace, where this task may do nothing.
        """
        if self._http_name is None:
            namespace = self.cloud_map.get_namespace(Id=self.namespace_id)["Namespace"]
            self._http_name = str(namespace["Properties"]["HttpProperties"]["HttpName"])
        return self._http_name

    # -- stopping ---------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """SIGTERM: stop leading at once; `shutdown_step()` then hands over and cleans up."""
        with self._lock:
            if self._stopping_since is None:
                self._stopping_since = self.clock()
                self._deadline = 0.0

    def shutdown_step(self) -> bool:
        """One step of the stop; True when the task may exit. Call it until it says so (every ~0.5 s)."""
        with self._lock:
            assert self._stopping_since is not None, "request_stop() first"
            if self._done:
                return True
            elapsed = self.clock() - self._stopping_since
            if elapsed >= self.timing.stop_budget:
                self._done = True
                return True
            try:
                self._settle_operations()
                self._give_up_the_lease()  # every step: a stopping task may still be handed the lease
                self._remove(self.me.task_id)
                for instance_id in [i for i in self._own if i.startswith(LEADER_PREFIX)]:
                    if self._successor_visible(instance_id) or elapsed >= self.timing.successor_wait:
                        self._remove(instance_id)
            except Exception as error:  # a failed call costs this step, never the stop
                log.warning("stop step failed: %s", error)
                return False
            if self._own:
                return False  # an instance of ours is still registered, or its deregistration in flight
            if self._settled_at is None:
                self._settled_at = self.clock()
            self._done = self.clock() - self._settled_at >= self.timing.settle
            return self._done

    def _give_up_the_lease(self) -> None:
        lease = self.lease.read()
        self._seen = lease
        if lease is None or lease.holder != self.me.task_id:
            return
        self._reconcile()  # a fresh view of the followers to choose from (also when the lease was handed to us)
        successor = self._youngest_follower()
        try:
            if successor is not None:
                self.lease.hand_over(
                    me=self.me.task_id,
                    term=lease.term,
                    successor=successor.task_id,
                    address=successor.address,
                    now_ms=self._now_ms(),
                    ttl_ms=int(self.timing.lease_ttl * 1000),
                )
                self._successor_address = successor.address
                log.info("handed the lease to %s", successor.task_id)
            else:
                self.lease.release(me=self.me.task_id, term=lease.term)
                log.info("released the lease")
        except LeaseLost:
            pass  # someone else holds it now: nothing to give

    def _youngest_follower(self) -> Member | None:
        candidates = [m for m in self._followers.values() if m.task_id != self.me.task_id]
        return max(candidates, key=lambda m: (m.started, m.task_id)) if candidates else None

    def _successor_visible(self, own_leader_id: str) -> bool:
        term = _term_of(own_leader_id)
        for item in self._discover(self.roles_service_name, "ALL"):
            if item["InstanceId"].startswith(LEADER_PREFIX) and _term_of(item["InstanceId"]) > term:
                return True
        return False

    # -- own instances: one operation at a time per instance ------------------------------------------

    def _ensure(self, instance_id: str, attributes: dict[str, str]) -> None:
        if self._stopping_since is not None:
            return  # nothing is registered after SIGTERM
        instance = self._own.get(instance_id)
        if instance is not None and not instance.deregistering and (instance.registered or instance.operation):
            return
        if instance is not None and instance.operation:
            return  # a deregistration is still in flight; register after it
        operation = self.cloud_map.register_instance(
            ServiceId=self.roles_service_id,
            InstanceId=instance_id,
            CreatorRequestId=f"{instance_id[:40]}-{uuid.uuid4().hex[:16]}",
            Attributes=attributes,
        )["OperationId"]
        self._own[instance_id] = _Instance(operation=operation)

    def _remove(self, instance_id: str) -> None:
        instance = self._own.get(instance_id)
        if instance is None or instance.deregistering:
            return
        if instance.operation:
            return  # its registration is in flight; deregister once it is done
        try:
            instance.operation = self._deregister(instance_id)
        except Exception as error:
            if error_code(error) != "InstanceNotFound":
                raise
            del self._own[instance_id]  # the holder's reconcile removed it already
            return
        instance.deregistering = True

    def _deregister_other(self, instance_id: str) -> None:
        try:
            self._deregister(instance_id)
            log.info("removed orphaned instance %s", instance_id)
        except Exception as error:
            if error_code(error) not in {"InstanceNotFound", "DuplicateRequest", "ResourceInUse"}:
                raise

    def _deregister(self, instance_id: str) -> str:
        return str(
            self.cloud_map.deregister_instance(ServiceId=self.roles_service_id, InstanceId=instance_id)["OperationId"]
        )

    def _settle_operations(self) -> None:
        for instance_id, instance in list(self._own.items()):
            if not instance.operation:
                continue
            status = self.cloud_map.get_operation(OperationId=instance.operation)["Operation"]["Status"]
            if status in {"SUBMITTED", "PENDING"}:
                continue
            instance.operation = None
            if status == "SUCCESS":
                if instance.deregistering:
                    del self._own[instance_id]
                else:
                    instance.registered = True
                    if instance_id.startswith(LEADER_PREFIX):
                        self._reconcile_due = True  # older terms' leader instances can go now
            elif instance.deregistering:
                instance.deregistering = False  # try the deregistration again next time
            else:
                del self._own[instance_id]  # a failed registration: try again next round

    # -- the loop ---------------------------------------------------------------------------------------

    def next_delay(self, failed: Exception | None) -> float:
        """Seconds to the next round: the interval with jitter; after throttling, exponential backoff."""
        if failed is None:
            self._failures = 0
            return self.timing.interval * self.rng.uniform(0.9, 1.1)
        self._failures += 1
        if error_code(failed) in THROTTLING_CODES:
            cap = min(self.timing.max_backoff, self.timing.interval * 2**self._failures)
            return self.rng.uniform(self.timing.interval / 2, cap)  # jitter spreads the tasks' retries apart
        return self.timing.interval

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def stop_loop(self, timeout: float = 5.0) -> None:
        self._stop_loop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop_loop.is_set():
            failed: Exception | None = None
            try:
                self.run_round()
            except Exception as error:
                # A Cloud Map or lease error costs one round, never the HTTP server.
                failed = error
                log.warning("election round failed: %s", error)
            self._stop_loop.wait(self.next_delay(failed))

    def _now_ms(self) -> int:
        return int(self.wall() * 1000)


def _term_of(instance_id: str) -> int:
    try:
        return int(instance_id[len(LEADER_PREFIX) :])
    except ValueError:
        return 0


def _member(attributes: Mapping[str, str]) -> Member:
    return Member(
        task_id=attributes.get(OWNER, ""),
        ip=attributes.get(IPV4, ""),
        port=int(attributes.get(PORT, "0") or 0),
        started=float(attributes.get(STARTED, "0") or 0),
    )
