"""Leader election through a Cloud Map instance attribute, with no extra infrastructure.

Every task runs the same round every `interval` seconds:

1. `DiscoverInstances` (healthy only) gives the membership and who currently claims `leader=true`. It is asked
   by the namespace's HttpName, which the task looks up by namespace id (see `http_name`).
2. `choose_leader` decides from that membership alone, so every task reaches the same answer:
   sticky (a healthy claimant keeps it), else the smallest instance id; of several claimants the smallest wins.
3. If this task's own attribute differs from the decision, it rewrites its instance: `GetInstance`, merge
   (every attribute ECS wrote survives), `RegisterInstance` with the same id (an upsert), then poll
   `GetOperation` until it succeeds.

ECS cannot write custom attributes itself (aws/containers-roadmap#1119), hence this loop.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal

log = logging.getLogger("mapgate.election")

Role = Literal["leader", "follower", "unknown"]

# Cloud Map reads this on RegisterInstance for services with a custom health config.
INIT_HEALTH = "AWS_INIT_HEALTH_STATUS"


class ElectionError(RuntimeError):
    pass


def choose_leader(healthy: Mapping[str, Mapping[str, str]], attribute: str = "leader") -> str | None:
    """The instance id that should lead, from the healthy instances and their attributes."""
    if not healthy:
        return None
    claimants = sorted(instance for instance, attrs in healthy.items() if attrs.get(attribute) == "true")
    return claimants[0] if claimants else min(healthy)


class Elector:
    """Runs election rounds for one task. `client` is a boto3 `servicediscovery` client (or a fake)."""

    def __init__(
        self,
        client: Any,
        *,
        namespace_id: str,
        service_name: str,
        service_id: str,
        instance_id: str,
        attribute: str = "leader",
        interval: float = 10.0,
        operation_timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.client = client
        self.namespace_id = namespace_id
        self._http_name: str | None = None
        self.service_name = service_name
        self.service_id = service_id
        self.instance_id = instance_id
        self.attribute = attribute
        self.interval = interval
        self.operation_timeout = operation_timeout
        self.sleep = sleep
        self.role: Role = "unknown"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # One write at a time per instance id (a Cloud Map rule), and none after stepping down.
        self._lock = threading.Lock()
        self._stepped_down = False

    # -- one round ---------------------------------------------------------------------------------

    def http_name(self) -> str:
        """The namespace's HttpName, which DiscoverInstances takes, looked up by id once.

        It is not always the namespace's name: when that name is already taken in the account and Region (another
        stack, or the namespace this one replaces), Cloud Map adds a hash to it. Guessing it from the name would
        read the other namespace, where this task's IAM policy allows nothing.
        """
        if self._http_name is None:
            namespace = self.client.get_namespace(Id=self.namespace_id)["Namespace"]
            self._http_name = str(namespace["Properties"]["HttpProperties"]["HttpName"])
        return self._http_name

    def healthy_members(self) -> dict[str, dict[str, str]]:
        found = self.client.discover_instances(
            NamespaceName=self.http_name(), ServiceName=self.service_name, HealthStatus="HEALTHY", MaxResults=1000
        )
        return {item["InstanceId"]: dict(item.get("Attributes", {})) for item in found["Instances"]}

    def run_round(self) -> Role:
        """Decide and, if needed, write this task's attribute. Returns the role it holds afterwards."""
        with self._lock:
            if self._stepped_down:
                return self.role
            return self._round()

    def _round(self) -> Role:
        healthy = self.healthy_members()
        if self.instance_id not in healthy:
            # Not (yet, or any more) healthy in Cloud Map: re-registering now would mark it HEALTHY too early.
            self.role = "unknown"
            return self.role
        wanted = "true" if choose_leader(healthy, self.attribute) == self.instance_id else "false"
        if healthy[self.instance_id].get(self.attribute) != wanted:
            self._write(wanted, health="HEALTHY")
            log.info("set %s=%s on %s", self.attribute, wanted, self.instance_id)
        self.role = "leader" if wanted == "true" else "follower"
        return self.role

    def step_down(self) -> None:
        """On shutdown: leave leadership and traffic at once instead of waiting for ECS to deregister us."""
        with self._lock:
            self._stepped_down = True
            try:
                self._write("false", health="UNHEALTHY")
            except self._not_found():
                pass  # ECS already deregistered this task: nothing left to give up
            self.role = "follower"

    # -- the loop ------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="election", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop. Waits briefly only: ECS kills the task 30 s after SIGTERM by default."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_round()
            except Exception:
                # A Cloud Map error costs one round, never the HTTP server: log it and try again next round.
                log.exception("election round failed; retrying in %ss", self.interval)
            self._stop.wait(self.interval)

    # -- Cloud Map writes ----------------------------------------------------------------------------

    def _write(self, value: str, *, health: str) -> None:
        current = self.client.get_instance(ServiceId=self.service_id, InstanceId=self.instance_id)
        attributes = {**current["Instance"]["Attributes"], self.attribute: value, INIT_HEALTH: health}
        operation = self.client.register_instance(
            ServiceId=self.service_id,
            InstanceId=self.instance_id,
            CreatorRequestId=f"{self.instance_id[:32]}-{uuid.uuid4().hex[:16]}",
            Attributes=attributes,
        )
        self._wait_for(operation["OperationId"])

    def _wait_for(self, operation_id: str) -> None:
        delay, waited = 0.25, 0.0
        while True:
            status = self.client.get_operation(OperationId=operation_id)["Operation"]
            if status["Status"] == "SUCCESS":
                return
            if status["Status"] == "FAIL":
                raise ElectionError(f"RegisterInstance failed: {status.get('ErrorMessage', status)}")
            if waited >= self.operation_timeout:
                raise ElectionError(f"RegisterInstance still {status['Status']} after {waited:.0f}s")
            self.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

    def _not_found(self) -> type[Exception]:
        exceptions = getattr(self.client, "exceptions", None)
        return getattr(exceptions, "InstanceNotFound", LookupError)
