"""What the stack tells this task, read from the environment in this one place.

The names mirror `mapgate/contract.py`, which this image does not contain; `tests/test_contract.py` checks that
the two lists are equal and that this reader consumes every variable the stack sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Set by the stack on every task.
ENV_SERVICE = "MAPGATE_SERVICE"
ENV_NAMESPACE = "MAPGATE_NAMESPACE"
ENV_PORT = "MAPGATE_PORT"
ENV_EXPOSE_TASK_INFO = "MAPGATE_EXPOSE_TASK_INFO"
# Set by the stack on tasks that elect a leader.
ENV_CLOUDMAP_NAMESPACE_ID = "MAPGATE_CLOUDMAP_NAMESPACE_ID"
ENV_ROLES_SERVICE_ID = "MAPGATE_ROLES_SERVICE_ID"
ENV_ROLES_SERVICE_NAME = "MAPGATE_ROLES_SERVICE_NAME"
ENV_LEASE_TABLE = "MAPGATE_LEASE_TABLE"
ENV_ELECTION_ATTRIBUTE = "MAPGATE_ELECTION_ATTRIBUTE"
ENV_ELECTION_INTERVAL = "MAPGATE_ELECTION_INTERVAL"
ENV_LEASE_TTL = "MAPGATE_LEASE_TTL"

FROM_THE_STACK = (ENV_SERVICE, ENV_NAMESPACE, ENV_PORT, ENV_EXPOSE_TASK_INFO)
FROM_THE_STACK_FOR_ELECTION = (
    ENV_CLOUDMAP_NAMESPACE_ID,
    ENV_ROLES_SERVICE_ID,
    ENV_ROLES_SERVICE_NAME,
    ENV_LEASE_TABLE,
    ENV_ELECTION_ATTRIBUTE,
    ENV_ELECTION_INTERVAL,
    ENV_LEASE_TTL,
)

# Never set by the stack: knobs for running the app on a laptop or in tests.
ENV_HOST = "MAPGATE_HOST"
ENV_DRAIN_SECONDS = "MAPGATE_DRAIN_SECONDS"
# The user's own variable for the sample: a URL to call on `GET /` (the worker, by its Cloud Map name).
ENV_UPSTREAM_URL = "UPSTREAM_URL"


@dataclass(frozen=True)
class Election:
    namespace_id: str
    """The namespace, by id: the election looks the namespace's HttpName up, never guesses it from the name."""
    roles_service_id: str
    """The Cloud Map service the task registers its role in (never the ECS-owned one)."""
    roles_service_name: str
    lease_table: str
    attribute: str
    interval: float
    lease_ttl: float


@dataclass(frozen=True)
class Settings:
    service: str
    namespace: str
    port: int
    election: Election | None
    expose_task_info: bool
    """Answer with task id, private IP, AZ and request headers (the stack turns this off in production)."""
    upstream_url: str | None
    host: str
    drain_seconds: float

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> Settings:
        wiring = [env.get(name) for name in (ENV_CLOUDMAP_NAMESPACE_ID, ENV_ROLES_SERVICE_ID, ENV_LEASE_TABLE)]
        election = (
            Election(
                namespace_id=env[ENV_CLOUDMAP_NAMESPACE_ID],
                roles_service_id=env[ENV_ROLES_SERVICE_ID],
                roles_service_name=env.get(ENV_ROLES_SERVICE_NAME, ""),
                lease_table=env[ENV_LEASE_TABLE],
                attribute=env.get(ENV_ELECTION_ATTRIBUTE, "leader"),
                interval=float(env.get(ENV_ELECTION_INTERVAL, "2")),
                lease_ttl=float(env.get(ENV_LEASE_TTL, "10")),
            )
            if all(wiring)
            else None
        )
        return cls(
            service=env.get(ENV_SERVICE, "local"),
            namespace=env.get(ENV_NAMESPACE, ""),
            port=int(env.get(ENV_PORT, "8080")),
            election=election,
            expose_task_info=env.get(ENV_EXPOSE_TASK_INFO, "true") == "true",
            upstream_url=env.get(ENV_UPSTREAM_URL) or None,
            host=env.get(ENV_HOST, "0.0.0.0"),
            drain_seconds=float(env.get(ENV_DRAIN_SECONDS, "5")),
        )
