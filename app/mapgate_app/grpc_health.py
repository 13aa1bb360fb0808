"""gRPC container health check: exit 0 when the standard health service says SERVING, 1 otherwise.

Runs as `python -m mapgate_app.grpc_health` in the worker's task definition; it asks over the gRPC health
checking protocol (grpc.health.v1), so the image needs no extra probe binary.
"""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mapgate_app.settings import Settings

TIMEOUT_SECONDS = 2.0


def main() -> int:
    target = f"127.0.0.1:{Settings.from_environ(os.environ).port}"
    with grpc.insecure_channel(target) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS
            )
        except grpc.RpcError:
            return 1
    return 0 if answer.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
