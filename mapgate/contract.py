"""What the stack and the code in its tasks agree on. Defined here once; the sample app mirrors it.

The app ships in its own image (`app/`), which does not contain this package, so `app/mapgate_app/settings.py`
repeats these names. `tests/test_contract.py` ties both ends: every name the stack sets is read by the app,
and the two copies are equal.
"""

from __future__ import annotations

from typing import Final

# --- environment the stack gives every task -----------------------------------------------------------------

ENV_SERVICE: Final = "MAPGATE_SERVICE"  # the service's name, also its Cloud Map service name
ENV_NAMESPACE: Final = "MAPGATE_NAMESPACE"  # the DNS name of the private namespace (`<service>.<namespace>`)
ENV_PORT: Final = "MAPGATE_PORT"  # the container port the service listens on
# Off by default in production: the sample app then answers without task id, private IP and AZ.
ENV_EXPOSE_TASK_INFO: Final = "MAPGATE_EXPOSE_TASK_INFO"

# --- and, when the service elects a leader ------------------------------------------------------------------

# The namespace by id, never by name: a namespace name can be taken twice in one account and Region (two stacks,
# or a replacement), and Cloud Map then gives the second one a hashed HttpName. The app looks the HttpName up by id.
ENV_CLOUDMAP_NAMESPACE_ID: Final = "MAPGATE_CLOUDMAP_NAMESPACE_ID"
# The roles service (`mapgate.components.election`): its id to register in, its name to discover by.
ENV_ROLES_SERVICE_ID: Final = "MAPGATE_ROLES_SERVICE_ID"
ENV_ROLES_SERVICE_NAME: Final = "MAPGATE_ROLES_SERVICE_NAME"
# The lease table; the lease item's key is the service's name.
ENV_LEASE_TABLE: Final = "MAPGATE_LEASE_TABLE"
ENV_ELECTION_ATTRIBUTE: Final = "MAPGATE_ELECTION_ATTRIBUTE"
ENV_ELECTION_INTERVAL: Final = "MAPGATE_ELECTION_INTERVAL"
ENV_LEASE_TTL: Final = "MAPGATE_LEASE_TTL"

# --- and, when the service may call peers (it is in their `allowFrom`) --------------------------------------

# `name=target` pairs, comma-separated: the gRPC peers as `dns:///<peer>.<namespace>:<port>` (the target a gRPC
# channel resolves through DNS A records), and the SRV peers as the DNS name to look up (`<peer>.<namespace>`).
ENV_GRPC_PEERS: Final = "MAPGATE_GRPC_PEERS"
ENV_SRV_PEERS: Final = "MAPGATE_SRV_PEERS"

ALWAYS: Final = (ENV_SERVICE, ENV_NAMESPACE, ENV_PORT, ENV_EXPOSE_TASK_INFO)
FOR_ELECTION: Final = (
    ENV_CLOUDMAP_NAMESPACE_ID,
    ENV_ROLES_SERVICE_ID,
    ENV_ROLES_SERVICE_NAME,
    ENV_LEASE_TABLE,
    ENV_ELECTION_ATTRIBUTE,
    ENV_ELECTION_INTERVAL,
    ENV_LEASE_TTL,
)

FOR_PEERS: Final = (ENV_GRPC_PEERS, ENV_SRV_PEERS)

# Users may not set variables with these prefixes: mapgate sets MAPGATE_*, and ECS sets ECS_*.
RESERVED_ENV_PREFIXES: Final = ("MAPGATE_", "ECS_")

# --- the election -------------------------------------------------------------------------------------------

# The attribute on the roles service's instances that `GET /leader` / `GET /follower` filter on.
ELECTION_ATTRIBUTE: Final = "leader"
ELECTION_VALUES: Final = ("true", "false")
# A round every 2 s; a crashed holder's lease ends 10 s after its last renewal. These bound the failover time and
# set the request rate (bench/election_sim.py measures both; `mapgate plan` prices the calls).
ELECTION_INTERVAL_SECONDS: Final = 2
LEASE_TTL_SECONDS: Final = 10
# Every this many rounds the holder reconciles: it removes the instances of tasks that are gone.
RECONCILE_EVERY_ROUNDS: Final = 3

# The lease item, one per elected service in the stack's lease table (the app writes it: app/mapgate_app/lease.py
# spells the same names, tests/test_contract.py ties the two; docs/election.md explains each).
LEASE_KEY: Final = "name"  # the partition key: the elected service's name
LEASE_HOLDER: Final = "holder"  # task id of the holder; "" after a release
LEASE_ADDRESS: Final = "address"  # `ip:port` of the holder, where other tasks forward `/leader`
LEASE_TERM: Final = "term"  # the fencing token: grows by one on every take and hand-over
LEASE_VERSION: Final = "version"  # grows by one on every take, renewal, hand-over and release: what takers watch
LEASE_DURATION_MS: Final = "lease_ms"  # the holder's lease duration; a taker waits that long on its own clock
LEASE_RENEWED_MS: Final = "renewed_ms"  # the writer's wall clock at the last write: for people, never for safety
LEASE_STOPPING: Final = "stopping"  # string set: tasks that got SIGTERM and must not be handed the lease
LEASE_ITEM_ATTRIBUTES: Final = (
    LEASE_KEY,
    LEASE_HOLDER,
    LEASE_ADDRESS,
    LEASE_TERM,
    LEASE_VERSION,
    LEASE_DURATION_MS,
    LEASE_RENEWED_MS,
    LEASE_STOPPING,
)


def flag(value: bool) -> str:
    """How a boolean travels in the environment."""
    return "true" if value else "false"


def peer_list(peers: dict[str, str]) -> str:
    """How a peer map travels in the environment: `name=value` pairs, sorted, comma-separated."""
    return ",".join(f"{name}={peers[name]}" for name in sorted(peers))
