"""Request latency on the lease holder while its DynamoDB calls time out, and the stop in that state: real threads,
the real HTTP server, the real stop sequence of `python -m mapgate_app`.

    python bench/election_latency.py [--seconds 12]

The holder runs the real `Elector` loop and `mapgate_app.server`; its lease table (the model's fake DynamoDB)
answers at once until the fault starts, then every call hangs for the SDK's whole budget (2 attempts of 1 s read
timeout) and fails, as in a partition. A client sends `GET /leader` back to back and records each answer's latency
and status. The answers must not wait on the stuck election loop, and the holder must stop answering as leader
by its own deadline (last renewal + lease - margin). Then SIGTERM's sequence runs (`request_stop`, then
`drain` with `stop_electing`, as `__main__` does), with DynamoDB still hanging: the time to a closed server is
measured from the SIGTERM.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "app")]

from mapgate_app.__main__ import EXIT_BY, stop_electing  # noqa: E402
from mapgate_app.election import Elector, Member, Timing, steady_clock  # noqa: E402
from mapgate_app.identity import Identity  # noqa: E402
from mapgate_app.lease import LeaseStore  # noqa: E402
from mapgate_app.server import AppState, drain, serve  # noqa: E402
from tests.election_model import Clock, FakeDynamoDB, Faults, Model, SimError  # noqa: E402

HANG_SECONDS = 2.0  # what one call costs with __main__'s SDK settings when DynamoDB does not answer


class HangingDynamoDB:
    """The model's lease table; while `hanging` is set, every call blocks for HANG_SECONDS and then fails."""

    def __init__(self) -> None:
        clock, model, rng = Clock(), Model(transient_error_rate=0.0), random.Random(1)
        self.table = FakeDynamoDB(clock, rng, model, Faults(clock, rng, model))
        self.hanging = threading.Event()

    def _maybe_hang(self) -> None:
        if self.hanging.is_set():
            time.sleep(HANG_SECONDS)
            raise SimError("ReadTimeoutError")

    def get_item(self, **request: Any) -> Any:
        self._maybe_hang()
        return self.table.get_item(**request)

    def update_item(self, **request: Any) -> Any:
        self._maybe_hang()
        return self.table.apply_update(request)


class QuietCloudMap:
    """Cloud Map that accepts everything at once: this measurement is about the lease."""

    def get_namespace(self, Id: str) -> dict[str, Any]:
        return {"Namespace": {"Properties": {"HttpProperties": {"HttpName": "bench.internal"}}}}

    def discover_instances(self, **request: Any) -> dict[str, Any]:
        return {"Instances": []}

    def register_instance(self, **request: Any) -> dict[str, Any]:
        return {"OperationId": "op"}

    def deregister_instance(self, **request: Any) -> dict[str, Any]:
        return {"OperationId": "op"}

    def get_operation(self, OperationId: str) -> dict[str, Any]:
        return {"Operation": {"Id": OperationId, "Status": "SUCCESS"}}

    def get_instance(self, **request: Any) -> dict[str, Any]:
        return {"Instance": {}}


@dataclass(frozen=True)
class Latency:
    requests: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    leader_answers_after_deadline: int
    last_leader_answer_s: float
    """Seconds after the fault started that the holder last answered as leader."""
    deadline_s: float
    """Seconds after the fault started that its lease deadline fell, by its own clock."""
    stop_s: float
    """SIGTERM to a closed HTTP server, DynamoDB still hanging."""

    def describe(self) -> str:
        return (
            f"{self.requests} GET /leader in a row while every DynamoDB call hangs {HANG_SECONDS:.0f} s and fails: "
            f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms; last answer as leader "
            f"{self.last_leader_answer_s:.2f} s into the fault, deadline {self.deadline_s:.2f} s; "
            f"{self.leader_answers_after_deadline} answers as leader after the deadline; "
            f"SIGTERM to a closed server {self.stop_s:.1f} s (exit by {EXIT_BY:.0f} s)"
        )


def measure_latency(seconds: float) -> Latency:
    logging.disable(logging.CRITICAL)
    dynamodb = HangingDynamoDB()
    elector = Elector(
        QuietCloudMap(),
        LeaseStore(dynamodb, table="leases", name="app"),
        namespace_id="ns",
        service_name="app",
        roles_service_id="roles",
        roles_service_name="app_roles",
        me=Member(task_id="holder", ip="127.0.0.1", port=0, started=time.time()),
        timing=Timing(),
    )
    identity = Identity(task_id="holder", private_ip="127.0.0.1", availability_zone="bench", region="bench")
    state = AppState(identity=identity, service="app", election=elector.view)
    server = serve(state, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    elector.start()
    while not elector.is_leader():
        time.sleep(0.05)
    time.sleep(Timing().interval * 1.2)  # a renewal or two, so the loop is between calls when the fault hits
    dynamodb.hanging.set()
    fault_at = steady_clock()
    deadline = elector._snapshot.deadline
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    latencies, late, last_leader = [], 0, 0.0
    while steady_clock() - fault_at < seconds:
        sent = steady_clock()
        connection.request("GET", "/leader")
        response = connection.getresponse()
        response.read()
        answered = steady_clock()
        latencies.append((answered - sent) * 1000)
        if response.status == 200:
            last_leader = answered - fault_at
            late += sent > deadline
    connection.close()
    sigterm = steady_clock()
    state.draining.set()
    elector.request_stop()
    drain(state, server, step_down=lambda: stop_electing(elector), delay=0.0, wait=time.sleep)
    server.server_close()
    stopped = steady_clock() - sigterm
    latencies.sort()
    return Latency(
        requests=len(latencies),
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[int(len(latencies) * 0.99) - 1],
        max_ms=latencies[-1],
        leader_answers_after_deadline=late,
        last_leader_answer_s=last_leader,
        deadline_s=deadline - fault_at,
        stop_s=stopped,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    result = measure_latency(parser.parse_args().seconds)
    print(result.describe())
    sys.exit(1 if result.p99_ms > 50 or result.leader_answers_after_deadline or result.stop_s > EXIT_BY else 0)


if __name__ == "__main__":
    main()
