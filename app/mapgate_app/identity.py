"""Who this task is: task id, IP and AZ from the ECS task metadata endpoint v4."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    task_id: str  # ECS uses the task id as the Cloud Map instance id
    private_ip: str
    availability_zone: str
    region: str | None


def from_task_metadata(task: dict) -> Identity:
    """Parse the `${ECS_CONTAINER_METADATA_URI_V4}/task` document."""
    task_arn: str = task["TaskARN"]  # arn:aws:ecs:<region>:<account>:task/<cluster>/<task id>
    containers = task.get("Containers") or [{}]
    networks = containers[0].get("Networks") or [{}]
    addresses = networks[0].get("IPv4Addresses") or ["unknown"]
    return Identity(
        task_id=task_arn.rsplit("/", 1)[-1],
        private_ip=addresses[0],
        availability_zone=task.get("AvailabilityZone", "unknown"),
        region=task_arn.split(":")[3] or None,
    )


def discover(timeout: float = 2.0) -> Identity:
    """On ECS, ask the metadata endpoint; elsewhere (tests, a laptop) describe the local host."""
    base = os.environ.get("ECS_CONTAINER_METADATA_URI_V4")
    if base:
        with urllib.request.urlopen(f"{base}/task", timeout=timeout) as response:
            return from_task_metadata(json.load(response))
    hostname = socket.gethostname()
    return Identity(task_id=f"local-{hostname}", private_ip="127.0.0.1", availability_zone="local", region=None)
