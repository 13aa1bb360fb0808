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

# Cloud Map ids, never names: a namespace name can be taken twice in one account and Region (two stacks, or a
# replacement), and Cloud Map then gives the second one a hashed HttpName. The app looks the HttpName up by id.
ENV_CLOUDMAP_SERVICE_ID: Final = "MAPGATE_CLOUDMAP_SERVICE_ID"
ENV_CLOUDMAP_NAMESPACE_ID: Final = "MAPGATE_CLOUDMAP_NAMESPACE_ID"
ENV_ELECTION_ATTRIBUTE: Final = "MAPGATE_ELECTION_ATTRIBUTE"
ENV_ELECTION_INTERVAL: Final = "MAPGATE_ELECTION_INTERVAL"

ALWAYS: Final = (ENV_SERVICE, ENV_NAMESPACE, ENV_PORT, ENV_EXPOSE_TASK_INFO)
FOR_ELECTION: Final = (
    ENV_CLOUDMAP_SERVICE_ID,
    ENV_CLOUDMAP_NAMESPACE_ID,
    ENV_ELECTION_ATTRIBUTE,
    ENV_ELECTION_INTERVAL,
)

# Users may not set variables with these prefixes: mapgate sets MAPGATE_*, and ECS sets ECS_*.
RESERVED_ENV_PREFIXES: Final = ("MAPGATE_", "ECS_")

# --- the election -------------------------------------------------------------------------------------------

# The Cloud Map instance attribute the election writes, and that `GET /leader` / `GET /follower` filter on.
ELECTION_ATTRIBUTE: Final = "leader"
ELECTION_INTERVAL_SECONDS: Final = 10


def flag(value: bool) -> str:
    """How a boolean travels in the environment."""
    return "true" if value else "false"
