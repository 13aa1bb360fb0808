"""Leader election: a DynamoDB lease decides, Cloud Map instances of the app's own route traffic.

Safety comes from the lease (`mapgate_app.lease`) and needs no agreement between the tasks' clocks:
- a task takes a held lease only after it has seen the same `version` unchanged for the whole lease, timed on its
  own steady clock from the moment a read first returned that version, and only with a write conditional on that
  version;
- the holder acts as leader only until (send time of its last acknowledged renewal) + lease - margin, on its own
  steady clock. docs/election.md gives the argument step by step.
Nothing is decided from `DiscoverInstances`, which is eventually consistent.

Requests never wait on the election: the loop publishes an immutable snapshot after every change, and `view()`
reads it without a lock, checking the snapshot's deadline against the clock at that instant. A holder whose
renewal hangs stops answering as leader at its deadline, whatever the loop is doing.

Routing follows the lease through a second Cloud Map service per elected service, the *roles service*. It has no
DNS records (type HTTP) and no health check, and only the app writes to it:
- the holder of term N registers `leader-N` with `leader=true`;
- every other running task registers an instance named after its task id with `leader=false`.
`GET /leader` and `GET /follower` filter this service on `leader`. A role change is a register or a deregister,
which Cloud Map shows within seconds, never an attribute update, which takes about 30 s to reach every reader.
The ECS-owned instances (`GET /`) are never written: ECS deregisters them when it stops a task, and a write after
that would re-create an instance nobody removes.

Every instance the app registers has an owner (the `owner` attribute, a task id) and is removed by it, or by the
holder's reconcile once the owner's task has left the ECS-owned service, or once a newer term's leader instance is
visible.

One round, every `interval` seconds: check the operations still in flight, read the lease, renew it or take it
when the rule allows, then make this task's own instances match its role (at most one operation per instance at a
time, a Cloud Map rule). The holder also reconciles every few rounds. A failed call costs the round; throttling
backs the next round off with jitter. On SIGTERM a task first marks itself stopping in the lease item and
deregisters its follower instance; the holder hands the lease to the youngest follower that is not stopping, so a
rolling deployment moves leadership once, onto a new task, and a scale-in at most twice. Every step of the stop is
bounded by a deadline counted from SIGTERM.

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
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from mapgate_app.lease import Lease, LeaseLost, LeaseStore, error_code

log = logging.getLogger("mapgate.election")

Role = Literal["leader", "follower", "unknown"]
T = TypeVar("T")

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


def steady_clock() -> float:
    """Seconds on CLOCK_BOOTTIME where there is one (Linux): like CLOCK_MONOTONIC it never jumps with the wall
    clock, and unlike it, it keeps counting while the machine is suspended, so a task frozen and resumed sees the
    time it lost and its lease deadline has passed."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    return time.clock_gettime(boottime) if boottime is not None else time.monotonic()


@dataclass(frozen=True)
class Timing:
    interval: float = 2.0
    """Seconds between rounds. A free or handed-over lease is taken within one round."""
    lease_ttl: float = 10.0
    """A holder leads at most this long after sending its last acknowledged renewal (minus the margin); a taker
    waits this long, on its own clock, with the lease's version unchanged."""
    clock_margin: float = 1.0
    """A holder stops believing it leads this long before its lease ends. It covers only the *rate* difference of
    two tasks' steady clocks over one lease (10 % here; real clocks differ by a few parts per million), never their
    offset: no wall clock is compared."""
    reconcile_every: int = 3
    """The holder removes orphaned instances every this many rounds."""
    young_task_grace: float = 60.0
    """An instance the holder first saw less than this long ago is removed only if missing twice in a row."""
    settle: float = 5.0
    """On stop, keep serving this long after the last deregistration, for readers that have not seen it yet."""
    successor_wait: float = 12.0
    """On stop, the old holder keeps its `leader-N` instance until its successor's is visible, at most this long."""
    handover_grace: float = 1.0
    """On stop, the holder keeps leading this long before it hands over, so that the tasks ECS stops in the same
    scale-in have marked themselves stopping."""
    stop_budget: float = 20.0
    """The election's part of the stop, from SIGTERM. The process exits by 25 s (`EXIT_BY` in __main__), inside
    ECS's default 30 s between SIGTERM and SIGKILL."""
    call_limit: float = 5.0
    """The longest one AWS call can take with the SDK settings of __main__ (2 attempts x (1 s connect + 1 s
    read) + backoff). A stop step makes no call that could end after the stop budget."""
    max_backoff: float = 8.0


@dataclass(frozen=True)
class Member:
    task_id: str
    ip: str
    port: int
    started: float
    """Wall-clock start, seconds: a graceful holder hands over to the youngest follower (a hint, not safety)."""

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
    """What this task knows, for answering requests: built from the snapshot, never waiting on the loop."""

    role: Role = "unknown"
    term: int = 0
    holder_address: str | None = None
    followers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Snapshot:
    """What the loop publishes for requests. Replaced whole, never changed in place: a reader needs no lock."""

    deadline: float = 0.0
    """Steady clock: this task leads while clock() < deadline."""
    term: int = 0
    """The term this task leads under (when it does)."""
    seen_term: int = 0
    seen: bool = False
    """This task has read the lease at least once (a follower, not unknown)."""
    holder_address: str | None = None
    holder_live_until: float = 0.0
    """Forward `/leader` to `holder_address` only until then: its version last changed less than a lease ago."""
    followers: tuple[str, ...] = ()
    stopping: bool = False


class OutOfTime(Exception):
    """A stop step would start a call that could end after the stop budget."""


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
        clock: Callable[[], float] = steady_clock,
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
        # Only the loop and the stop steps take this one, never a request.
        self._lock = threading.Lock()
        # Guards the read-modify-write of the snapshot; held for microseconds, never across a call.
        self._publish_lock = threading.Lock()
        self._snapshot = _Snapshot()
        self._term = 0
        self._seen: Lease | None = None
        self._observed: tuple[int, int] | None = None
        self._observed_since = 0.0  # steady clock, when a read first returned the observed version
        self._own: dict[str, _Instance] = {}
        self._leader_visible = False  # our leader-<term> instance showed in a DiscoverInstances answer
        self._rounds_since_reconcile = 0
        self._rounds_since_verify = 0
        self._reconcile_due = False
        self._failures = 0
        self._followers: dict[str, Member] = {}
        self._alive: set[str] = set()
        self._missing_owners: dict[str, int] = {}
        self._first_seen: dict[str, float] = {}
        self._stop_at: float | None = None
        self._mark_attempts = 0
        self._no_successor = False  # a stop step found DynamoDB unreachable: nobody to wait for
        self._successor_address: str | None = None
        self._settled_at: float | None = None
        self._done = False
        self._thread: threading.Thread | None = None
        self._stop_loop = threading.Event()

    # -- what requests see: the snapshot, and the clock ------------------------------------------------

    def is_leader(self) -> bool:
        """True only until this task's deadline, by its own clock: the one test before answering as leader."""
        return self.clock() < self._snapshot.deadline

    @property
    def role(self) -> Role:
        snapshot = self._snapshot
        if self.clock() < snapshot.deadline:
            return "leader"
        return "follower" if snapshot.seen or snapshot.stopping else "unknown"

    def view(self) -> View:
        """Lock-free: one read of the published snapshot, and the clock."""
        snapshot, now = self._snapshot, self.clock()
        leading = now < snapshot.deadline
        role: Role = "leader" if leading else "follower" if snapshot.seen or snapshot.stopping else "unknown"
        holder = snapshot.holder_address if now < snapshot.holder_live_until else None
        return View(
            role=role,
            term=snapshot.term if leading else snapshot.seen_term,
            holder_address=holder,
            followers=list(snapshot.followers),
        )

    def _publish(self, **changes: Any) -> None:
        with self._publish_lock:
            snapshot = replace(self._snapshot, **changes)
            if self._stop_at is not None:  # a stopping task leads at most until the hand-over
                snapshot = replace(
                    snapshot, deadline=min(snapshot.deadline, self._stop_at + self.timing.handover_grace)
                )
            self._snapshot = snapshot

    # -- one round -------------------------------------------------------------------------------------

    def run_round(self) -> Role:
        """One round; returns the role afterwards. Errors propagate: the loop turns them into a backoff."""
        with self._lock:
            if self._stop_at is not None:
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
        if self.is_leader():
            # The holder renews without reading first: one call a round, and a lost lease shows as LeaseLost.
            try:
                self._renew(self._term)
                return
            except LeaseLost:
                self._publish(deadline=0.0)
        lease = self._observe(self._call(self.lease.read))
        try:
            if lease is not None and lease.holder == self.me.task_id:
                self._renew(lease.term)  # ours, or handed to us: renew under that term (fenced)
            elif self.may_take(lease):
                sent = self.clock()
                taken = self._call(
                    self.lease.take,
                    me=self.me.task_id,
                    address=self.me.address,
                    seen=lease,
                    now_ms=self._now_ms(),
                    lease_ms=self._lease_ms(),
                )
                self._lead(taken, sent)
                log.info("took the lease, term %s", taken.term)
            else:
                self._publish(deadline=0.0)
        except LeaseLost:
            self._publish(deadline=0.0)
            self._observe(self._call(self.lease.read))

    def may_take(self, lease: Lease | None) -> bool:
        """The takeover rule. A missing or released lease at once (a holder stops leading before it releases);
        a held one only once this task has seen its version unchanged for the whole lease, by its own clock."""
        if lease is None or lease.released:
            return True
        wait = max(lease.lease_ms / 1000, self.timing.lease_ttl)
        return self.clock() - self._observed_since >= wait

    def _renew(self, term: int) -> None:
        forget = frozenset(self._seen.stopping - self._alive) if self._seen and self._alive else frozenset()
        sent = self.clock()
        renewed = self._call(
            self.lease.renew,
            me=self.me.task_id,
            term=term,
            now_ms=self._now_ms(),
            lease_ms=self._lease_ms(),
            forget=forget,
        )
        self._lead(renewed, sent)

    def _observe(self, lease: Lease | None) -> Lease | None:
        """Start the taker's timer when a read first returns a version: that moment is after the write of it."""
        now = self.clock()
        key = None if lease is None else lease.observed
        if key != self._observed:
            self._observed, self._observed_since = key, now
        self._seen = lease
        held_by_other = lease is not None and not lease.released and lease.holder != self.me.task_id
        wait = max(lease.lease_ms / 1000, self.timing.lease_ttl) if lease is not None else 0.0
        self._publish(
            seen=True,
            seen_term=lease.term if lease else 0,
            holder_address=(self._successor_address or lease.address) if held_by_other and lease else None,
            holder_live_until=self._observed_since + wait if held_by_other else 0.0,
        )
        return lease

    def _lead(self, lease: Lease, sent: float) -> None:
        """An acknowledged write that made or kept us the holder: lead until `sent` + lease - margin."""
        self._seen = lease
        self._observed, self._observed_since = lease.observed, self.clock()
        if lease.term != self._term:
            self._reconcile_due = True  # learn the followers and clear older terms' instances soon
            self._leader_visible = False
        self._term = lease.term
        self._publish(
            deadline=sent + lease.lease_ms / 1000 - self.timing.clock_margin,
            term=lease.term,
            seen=True,
            seen_term=lease.term,
            holder_address=None,
            holder_live_until=0.0,
        )

    def _match_own_instances(self) -> None:
        leader_id = f"{LEADER_PREFIX}{self._term}"
        if self.is_leader():
            self._ensure(leader_id, self._attributes(leader=True))
            if self._own.get(leader_id, _Instance()).registered:
                self._remove(self.me.task_id)  # only once the leader instance exists: no gap on /leader
            for instance_id in list(self._own):
                # Our older terms' leader instances go once the new one is visible, as everyone else's do.
                if instance_id.startswith(LEADER_PREFIX) and instance_id != leader_id and self._leader_visible:
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
            self._call(self.cloud_map.get_instance, ServiceId=self.roles_service_id, InstanceId=instance_id)
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
        """Remove instances whose owner is gone, and leader instances of older terms once ours is visible; learn
        the followers."""
        self._reconcile_due, self._rounds_since_reconcile = False, 0
        alive = {item["InstanceId"] for item in self._discover(self.service_name, "ALL")}
        roles = self._discover(self.roles_service_name, "ALL")
        now = self.clock()
        # Older terms' leader instances go only once API Gateway can find ours: /leader always has a target.
        ours = f"{LEADER_PREFIX}{self._term}"
        self._leader_visible = any(item["InstanceId"] == ours for item in roles)
        stopping = self._seen.stopping if self._seen is not None else frozenset()
        followers: dict[str, Member] = {}
        for item in roles:
            instance_id, attributes = item["InstanceId"], item.get("Attributes", {})
            owner = attributes.get(OWNER, "")
            first_seen = self._first_seen.setdefault(instance_id, now)
            if instance_id.startswith(LEADER_PREFIX):
                # An older leader instance stays until ours is visible, so that /leader always has a target,
                # unless its task crashed: gone from ECS's service without saying it was stopping. Then every
                # request it draws fails, and it only competes with ours.
                crashed = owner not in alive and owner not in stopping
                older = _term_of(instance_id) < self._term and owner != self.me.task_id
                if older and (self._leader_visible or crashed):
                    self._deregister_other(instance_id)
                continue
            if owner in alive:
                self._missing_owners.pop(instance_id, None)
                if owner != self.me.task_id:
                    followers[owner] = _member(attributes)
                continue
            # A task that started a moment ago may not show in ECS's instances yet: those get a second look.
            # Young by this task's own clock, since it first saw the instance: no other task's clock is trusted.
            strikes = self._missing_owners.get(instance_id, 0) + 1
            self._missing_owners[instance_id] = strikes
            old_enough = now - first_seen > self.timing.young_task_grace
            if (strikes >= 2 or old_enough) and owner != self.me.task_id:
                self._deregister_other(instance_id)
                self._missing_owners.pop(instance_id, None)
        present = {item["InstanceId"] for item in roles}
        self._first_seen = {i: t for i, t in self._first_seen.items() if i in present}
        self._followers = followers
        self._alive = alive
        self._publish(followers=tuple(sorted(m.address for m in followers.values())))

    def _discover(self, service: str, health: str) -> list[dict[str, Any]]:
        found = self._call(
            self.cloud_map.discover_instances,
            NamespaceName=self._namespace_http_name(),
            ServiceName=service,
            HealthStatus=health,
            MaxResults=1000,
        )
        return list(found["Instances"])

    def _namespace_http_name(self) -> str:
        """The namespace's HttpName, looked up by id once.

        It is not always the namespace's name: when that name is already taken in the account and Region, Cloud Map
        adds a hash to it. Guessing from the name would read the other namespace, where this task may do nothing.
        """
        if self._http_name is None:
            namespace = self._call(self.cloud_map.get_namespace, Id=self.namespace_id)["Namespace"]
            self._http_name = str(namespace["Properties"]["HttpProperties"]["HttpName"])
        return self._http_name

    # -- stopping ---------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """SIGTERM. Takes no lock a round may hold: the loop may be stuck inside a call. The holder leads at most
        `handover_grace` longer; `shutdown_step()` then marks, hands over and cleans up."""
        with self._publish_lock:
            if self._stop_at is not None:
                return
            self._stop_at = self.clock()
            cap = self._stop_at + self.timing.handover_grace
            self._snapshot = replace(self._snapshot, stopping=True, deadline=min(self._snapshot.deadline, cap))

    @property
    def stop_deadline(self) -> float:
        """Steady clock: when the election's part of the stop ends, whatever AWS does."""
        assert self._stop_at is not None, "request_stop() first"
        return self._stop_at + self.timing.stop_budget

    def shutdown_step(self) -> bool:
        """One step of the stop; True when the task may exit. Call it until it says so (every ~0.5 s).

        Each part is tried on its own (a DynamoDB outage must not keep the Cloud Map instances registered), and
        no call starts that could end after the stop deadline.
        """
        if self._done:
            return True
        left = self.stop_deadline - self.clock()
        if left <= 0 or not self._lock.acquire(timeout=left):
            self._done = True
            return True
        try:
            return self._shutdown_step()
        finally:
            self._lock.release()

    def _shutdown_step(self) -> bool:
        elapsed = self.clock() - (self._stop_at or 0.0)
        # Cloud Map first: if DynamoDB hangs, its calls must not keep our instances registered past the deadline.
        parts: list[Callable[[], None]] = [
            lambda: self._remove(self.me.task_id),
            self._settle_operations,
            lambda: self._remove_leader_instances(elapsed),
            self._mark_stopping,
        ]
        if elapsed >= self.timing.handover_grace:
            parts.append(self._give_up_the_lease)  # every step: a stopping task may still be handed the lease
        for part in parts:
            try:
                part()
            except OutOfTime:
                self._done = True
                return True
            except Exception as error:  # a failed call costs this part of this step, never the stop
                log.warning("stop step failed: %s", error)
                if part in (self._mark_stopping, self._give_up_the_lease):
                    # DynamoDB does not answer: no hand-over is coming from us, so our leader instance only
                    # points at a task about to exit. It goes now, and no second call waits on DynamoDB.
                    self._no_successor = True
                    break
        if self._own:
            return False  # an instance of ours is still registered, or its deregistration in flight
        if self._settled_at is None:
            self._settled_at = self.clock()
        self._done = self.clock() - self._settled_at >= self.timing.settle
        return self._done

    def _mark_stopping(self) -> None:
        """Best effort, twice at most: a holder that cannot read the mark cannot hand over anyway."""
        if self._mark_attempts < 2:
            self._mark_attempts += 1
            self._call(self.lease.mark_stopping, me=self.me.task_id)
            self._mark_attempts = 2

    def _remove_leader_instances(self, elapsed: float) -> None:
        for instance_id in [i for i in self._own if i.startswith(LEADER_PREFIX)]:
            if elapsed >= self.timing.successor_wait or self._no_successor or self._successor_visible(instance_id):
                self._remove(instance_id)

    def _give_up_the_lease(self) -> None:
        lease = self._call(self.lease.read)
        self._seen = lease
        if lease is None or lease.holder != self.me.task_id:
            return
        self._publish(deadline=0.0)  # before the write, so that no answer as leader can follow it
        self._reconcile()  # a fresh view of the followers to choose from (also when the lease was handed to us)
        for successor in self._successors(lease):
            try:
                self._call(
                    self.lease.hand_over,
                    me=self.me.task_id,
                    term=lease.term,
                    successor=successor.task_id,
                    address=successor.address,
                    now_ms=self._now_ms(),
                )
            except LeaseLost:
                # The successor marked itself stopping meanwhile, or the lease is no longer ours: look again.
                lease = self._call(self.lease.read)
                if lease is None or lease.holder != self.me.task_id:
                    return
                continue
            self._successor_address = successor.address
            self._publish(holder_address=successor.address, holder_live_until=self.stop_deadline)
            log.info("handed the lease to %s", successor.task_id)
            return
        try:
            self._call(self.lease.release, me=self.me.task_id, term=lease.term, now_ms=self._now_ms())
            log.info("released the lease")
        except LeaseLost:
            pass  # someone else holds it now: nothing to give

    def _successors(self, lease: Lease) -> list[Member]:
        """Followers that are not stopping, youngest first: in a rolling deployment, the new tasks."""
        candidates = [
            m for m in self._followers.values() if m.task_id != self.me.task_id and m.task_id not in lease.stopping
        ]
        return sorted(candidates, key=lambda m: (m.started, m.task_id), reverse=True)

    def _successor_visible(self, own_leader_id: str) -> bool:
        term = _term_of(own_leader_id)
        for item in self._discover(self.roles_service_name, "ALL"):
            if item["InstanceId"].startswith(LEADER_PREFIX) and _term_of(item["InstanceId"]) > term:
                return True
        return False

    # -- own instances: one operation at a time per instance ------------------------------------------

    def _ensure(self, instance_id: str, attributes: dict[str, str]) -> None:
        if self._stop_at is not None:
            return  # nothing is registered after SIGTERM
        instance = self._own.get(instance_id)
        if instance is not None and not instance.deregistering and (instance.registered or instance.operation):
            return
        if instance is not None and instance.operation:
            return  # a deregistration is still in flight; register after it
        operation = self._call(
            self.cloud_map.register_instance,
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
        except OutOfTime:
            raise
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
        except OutOfTime:
            raise
        except Exception as error:
            if error_code(error) not in {"InstanceNotFound", "DuplicateRequest", "ResourceInUse"}:
                raise

    def _deregister(self, instance_id: str) -> str:
        answer = self._call(self.cloud_map.deregister_instance, ServiceId=self.roles_service_id, InstanceId=instance_id)
        return str(answer["OperationId"])

    def _settle_operations(self) -> None:
        for instance_id, instance in list(self._own.items()):
            if not instance.operation:
                continue
            status = self._call(self.cloud_map.get_operation, OperationId=instance.operation)["Operation"]["Status"]
            if status in {"SUBMITTED", "PENDING"}:
                continue
            instance.operation = None
            if status == "SUCCESS":
                if instance.deregistering:
                    del self._own[instance_id]
                else:
                    instance.registered = True
                    if instance_id.startswith(LEADER_PREFIX):
                        self._reconcile_due = True  # older terms' leader instances can go once ours shows
            elif instance.deregistering:
                instance.deregistering = False  # try the deregistration again next time
            else:
                del self._own[instance_id]  # a failed registration: try again next round

    def _call(self, method: Callable[..., T], /, **kwargs: Any) -> T:
        """Every AWS call goes through here: once stopping, none starts that could outlast the stop deadline."""
        if self._stop_at is not None and self.clock() + self.timing.call_limit > self.stop_deadline:
            raise OutOfTime()
        return method(**kwargs)

    # -- the loop ---------------------------------------------------------------------------------------

    def next_delay(self, failed: Exception | None) -> float:
        """Seconds to the next round: the interval with jitter; after throttling, exponential backoff. A task
        waiting to take a silent lease comes back the moment its wait is over, not up to a round later."""
        if failed is None:
            self._failures = 0
            delay = self.timing.interval * self.rng.uniform(0.9, 1.1)
            seen = self._seen
            if seen is not None and not seen.released and seen.holder != self.me.task_id and not self.is_leader():
                wait = max(seen.lease_ms / 1000, self.timing.lease_ttl)
                due = self._observed_since + wait - self.clock()
                if 0 < due < delay:
                    delay = due + 0.01
            return delay
        self._failures += 1
        if error_code(failed) in THROTTLING_CODES:
            cap = min(self.timing.max_backoff, self.timing.interval * 2**self._failures)
            return self.rng.uniform(self.timing.interval / 2, cap)  # jitter spreads the tasks' retries apart
        return self.timing.interval

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def stop_loop(self) -> None:
        """Ask the loop to end after its current round. No join: a round stuck in a call must not delay the stop
        (the stop steps wait for it, bounded by the stop deadline)."""
        self._stop_loop.set()

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

    def _lease_ms(self) -> int:
        return int(self.timing.lease_ttl * 1000)


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
