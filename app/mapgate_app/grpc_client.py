"""The app's gRPC client for the worker: DNS A records, `round_robin`, and health-checked backends.

`dns:///worker.<namespace>:<port>` resolves to every healthy worker task (Cloud Map MULTIVALUE: up to 8 A
records). `round_robin` opens a connection to each and spreads calls over them; the client also watches each
backend's standard health service, so a draining worker (NOT_SERVING) stops getting calls at once, before it
stops listening. The worker's max connection age makes the client re-resolve, which is how it finds new tasks.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

import grpc

from mapgate_app import worker_pb2 as pb
from mapgate_app import worker_pb2_grpc as pb_grpc
from mapgate_app.settings import GrpcTiming

SERVICE_CONFIG = {
    "loadBalancingConfig": [{"round_robin": {}}],
    # Client-side health checking: watch grpc.health.v1 on every backend, skip those not SERVING.
    "healthCheckConfig": {"serviceName": ""},
    "methodConfig": [
        {
            "name": [{"service": pb.DESCRIPTOR.services_by_name["Worker"].full_name}],
            # Who is idempotent: a call that meets a closing connection is retried on another task.
            "retryPolicy": {
                "maxAttempts": 3,
                "initialBackoff": "0.05s",
                "maxBackoff": "0.5s",
                "backoffMultiplier": 2,
                "retryableStatusCodes": ["UNAVAILABLE"],
            },
        }
    ],
}


def via_dns_server(target: str, dns_server: str | None) -> str:
    """`dns:///name:port` asked of one DNS server (`dns://host:port/name:port`), or unchanged."""
    if dns_server is None or not target.startswith("dns:///"):
        return target
    return f"dns://{dns_server}/{target.removeprefix('dns:///')}"


def channel_options(timing: GrpcTiming) -> list[tuple[str, Any]]:
    return [
        ("grpc.service_config", json.dumps(SERVICE_CONFIG)),
        # Never look for a service config in DNS TXT records: this one is the whole configuration.
        ("grpc.service_config_disable_resolution", 1),
        ("grpc.enable_retries", 1),
        # gRPC's default is 30 s between resolutions; more often than the TTL only returns the cached answer.
        ("grpc.dns_min_time_between_resolutions_ms", timing.min_resolution_ms),
    ]


def label(task: str, *, expose: bool) -> str:
    """A task as `GET /` names it: its id, or, with task info off, a stable short hash that still tells tasks apart."""
    return task if expose else hashlib.sha256(task.encode()).hexdigest()[:8]


class WorkerClient:
    """One channel to the worker service for the life of the app task; thread-safe, like the channel."""

    def __init__(self, target: str, *, timing: GrpcTiming, dns_server: str | None = None):
        self.target = target
        self._timeout = timing.call_timeout_ms / 1000
        self._channel = grpc.insecure_channel(via_dns_server(target, dns_server), options=channel_options(timing))
        self._stub = pb_grpc.WorkerStub(self._channel)

    def who(self) -> pb.WhoReply:
        # wait_for_ready: the first calls wait (up to the timeout) for DNS and the connections, not fail at once.
        reply: pb.WhoReply = self._stub.Who(pb.WhoRequest(), timeout=self._timeout, wait_for_ready=True)
        return reply

    def spread(self, calls: int, *, expose: bool) -> dict[str, Any]:
        """Make up to `calls` calls and count which task answered each.

        The first failure ends the round: with no worker up, `GET /` then waits one call timeout, not N.
        """
        answered: Counter[str] = Counter()
        answer: dict[str, Any] = {"target": self.target, "calls": calls}
        for made in range(calls):
            try:
                answered[label(self.who().task, expose=expose)] += 1
            except grpc.RpcError as error:
                answer |= {"error": error.code().name, "skipped": calls - made - 1}
                break
        return answer | {"answeredBy": dict(sorted(answered.items()))}

    def close(self) -> None:
        self._channel.close()
