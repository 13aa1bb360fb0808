"""`python -m mapgate_app.worker`: the worker as a gRPC service, with the standard health service.

The container health check asks the same health service (`mapgate_app.grpc_health`), so what ECS reports to
Cloud Map and what gRPC clients watch is one status. On SIGTERM the worker fails health first (clients that
watch health stop picking it at once), keeps serving while DNS answers may still name it, then stops with a
grace period for in-flight calls.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from mapgate_app import identity
from mapgate_app import worker_pb2 as pb
from mapgate_app import worker_pb2_grpc as pb_grpc
from mapgate_app.settings import GrpcTiming, Settings

log = logging.getLogger("mapgate.worker")

# The sync server runs each call on a thread, and a client's health Watch holds one for as long as it is
# connected: one per app task, plus room for the calls themselves.
THREADS = 32


class WorkerService(pb_grpc.WorkerServicer):
    def __init__(self, me: identity.Identity):
        self._me = me

    def Who(self, request: pb.WhoRequest, context: grpc.ServicerContext) -> pb.WhoReply:
        return pb.WhoReply(task=self._me.task_id, availability_zone=self._me.availability_zone)


def server_options(timing: GrpcTiming) -> list[tuple[str, int]]:
    """Connections close after max-age, so clients re-resolve DNS.

    gRPC adds the jitter itself: +/-10 % of the max age (`kMaxConnectionAgeJitter`, in grpc/grpc's
    src/core/ext/filters/channel_idle/), so connections opened together do not all close together.
    """
    return [
        ("grpc.max_connection_age_ms", timing.max_age_ms),
        ("grpc.max_connection_age_grace_ms", timing.max_age_grace_ms),
    ]


@dataclass
class RunningWorker:
    server: grpc.Server
    health: health.HealthServicer
    port: int
    timing: GrpcTiming

    def fail_health(self) -> None:
        """Every service NOT_SERVING from now on, for the health check and for watching clients."""
        self.health.enter_graceful_shutdown()

    def drain(self, wait: Callable[[float], Any] = time.sleep) -> None:
        """SIGTERM: fail health, keep serving while DNS may still name this task, then stop with a grace."""
        self.fail_health()
        wait(self.timing.drain_seconds)
        self.server.stop(self.timing.max_age_grace_ms / 1000).wait()


def start(me: identity.Identity, host: str, port: int, timing: GrpcTiming) -> RunningWorker:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=THREADS), options=server_options(timing))
    pb_grpc.add_WorkerServicer_to_server(WorkerService(me), server)
    status = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(status, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"could not listen on {host}:{port}")
    server.start()
    # "" is the whole server, which is what the container health check and the clients ask about.
    for service in ("", pb.DESCRIPTOR.services_by_name["Worker"].full_name):
        status.set(service, health_pb2.HealthCheckResponse.SERVING)
    return RunningWorker(server=server, health=status, port=bound, timing=timing)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_environ(os.environ)
    me = identity.discover()
    worker = start(me, settings.host, settings.port, settings.grpc)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=worker.drain, name="drain").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("serving gRPC %s on port %s as task %s", settings.service, worker.port, me.task_id)
    worker.server.wait_for_termination()


if __name__ == "__main__":
    main()
