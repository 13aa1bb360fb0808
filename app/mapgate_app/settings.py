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
# Set by the stack on tasks that may call peers: `name=target` pairs (see mapgate/contract.py).
ENV_GRPC_PEERS = "MAPGATE_GRPC_PEERS"
ENV_SRV_PEERS = "MAPGATE_SRV_PEERS"

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
FROM_THE_STACK_FOR_PEERS = (ENV_GRPC_PEERS, ENV_SRV_PEERS)

# Never set by the stack: knobs for running the app on a laptop or in tests.
ENV_HOST = "MAPGATE_HOST"
ENV_DRAIN_SECONDS = "MAPGATE_DRAIN_SECONDS"
# The DNS server to ask instead of the system's (`host:port`), for gRPC targets and SRV lookups alike.
ENV_DNS_SERVER = "MAPGATE_DNS_SERVER"
# gRPC timing (the production defaults are on `GrpcTiming`; tests shrink them to run in seconds).
ENV_GRPC_MAX_AGE_MS = "MAPGATE_GRPC_MAX_AGE_MS"
ENV_GRPC_MAX_AGE_GRACE_MS = "MAPGATE_GRPC_MAX_AGE_GRACE_MS"
ENV_GRPC_RESOLVE_MS = "MAPGATE_GRPC_RESOLVE_MS"
ENV_GRPC_DRAIN_SECONDS = "MAPGATE_GRPC_DRAIN_SECONDS"
ENV_GRPC_CALL_TIMEOUT_MS = "MAPGATE_GRPC_CALL_TIMEOUT_MS"
ENV_WORKER_CALLS = "MAPGATE_WORKER_CALLS"
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


DNS_TTL_SECONDS = 10  # the TTL mapgate gives every Cloud Map record (dnsTtl's default)


@dataclass(frozen=True)
class GrpcTiming:
    """How gRPC connections age and drain, so clients find new tasks and lose none of the old ones' calls.

    A gRPC client resolves DNS once per connection event, not per TTL, so it learns of a new task only when a
    connection closes. The worker closes every connection after `max_age_ms` (gRPC adds +/-10 % jitter on its
    own, so a fleet does not reconnect in step), and the client then re-resolves, at most once per
    `min_resolution_ms` (the TTL: asking more often only returns the cached answer). A new task is in use within
    about max-age x 1.1 + TTL. MULTIVALUE answers carry at most 8 healthy records, so with more than 8 workers a
    client holds a random 8; re-resolving on every max-age is also what rotates it over all of them.
    """

    max_age_ms: int = 30_000
    """30 s: new tasks are used within ~45 s, at the cost of one reconnect per worker every 30 s."""
    max_age_grace_ms: int = 10_000
    """In-flight calls on an aged connection get 10 s to finish (the sample's calls take milliseconds)."""
    min_resolution_ms: int = DNS_TTL_SECONDS * 1000
    drain_seconds: float = 15.0
    """On SIGTERM the worker reports NOT_SERVING and keeps serving this long: ECS deregisters the task at once
    (aws/containers-roadmap#343), but resolvers may hold its record for the TTL (10 s) plus Route 53
    propagation (a few seconds). Then it stops with `max_age_grace_ms` for in-flight calls: 25 s in all, inside
    ECS's default 30 s stopTimeout before SIGKILL."""
    call_timeout_ms: int = 2_000
    """The app's deadline per call to the worker; `GET /` gives up on the worker after the first that fails."""


def parse_peers(value: str | None) -> dict[str, str]:
    """`name=target,name=target` (how the stack passes peers) as a mapping."""
    pairs = (item.split("=", 1) for item in (value or "").split(",") if "=" in item)
    return {name.strip(): target.strip() for name, target in pairs}


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
    grpc_peers: dict[str, str]
    """gRPC peers this task may call, by name: `dns:///<peer>.<namespace>:<port>`."""
    srv_peers: dict[str, str]
    """Peers found by SRV lookup, by name: `<peer>.<namespace>`."""
    dns_server: str | None
    """`host:port` of the DNS server to ask; None: the system's resolver (the VPC's, on ECS)."""
    grpc: GrpcTiming
    worker_calls: int
    """How many gRPC calls `GET /` makes, to show how they spread over the worker tasks."""

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
            grpc_peers=parse_peers(env.get(ENV_GRPC_PEERS)),
            srv_peers=parse_peers(env.get(ENV_SRV_PEERS)),
            dns_server=env.get(ENV_DNS_SERVER) or None,
            grpc=GrpcTiming(
                max_age_ms=int(env.get(ENV_GRPC_MAX_AGE_MS, GrpcTiming.max_age_ms)),
                max_age_grace_ms=int(env.get(ENV_GRPC_MAX_AGE_GRACE_MS, GrpcTiming.max_age_grace_ms)),
                min_resolution_ms=int(env.get(ENV_GRPC_RESOLVE_MS, GrpcTiming.min_resolution_ms)),
                drain_seconds=float(env.get(ENV_GRPC_DRAIN_SECONDS, GrpcTiming.drain_seconds)),
                call_timeout_ms=int(env.get(ENV_GRPC_CALL_TIMEOUT_MS, GrpcTiming.call_timeout_ms)),
            ),
            worker_calls=int(env.get(ENV_WORKER_CALLS, "8")),
        )
