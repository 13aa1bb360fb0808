"""Who answers `/leader` and `/follower`: the lease holder, a forward to it, or an honest 503.

API Gateway picks the instance from Cloud Map, whose answers can be seconds old, so the task it reaches may no
longer hold the role the route asked for. The task then checks the lease (never Cloud Map) and forwards once:
- `/leader` on a task that does not hold the lease goes to the holder's address from the lease, else 503;
- `/follower` on the holder goes to a follower it knows, else 503.
A forwarded request is never forwarded again, so two tasks with different views cannot bounce it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from mapgate_app.election import View

LEADER_PATH = "/leader"
FOLLOWER_PATH = "/follower"
ELECTED_PATHS = (LEADER_PATH, FOLLOWER_PATH)
FORWARDED_HEADER = "X-Mapgate-Forwarded-By"


@dataclass(frozen=True)
class Decision:
    kind: Literal["serve", "forward", "unavailable"]
    target: str | None = None
    """`ip:port` to forward to."""


def decide(path: str, view: View, *, forwarded: bool, rng: random.Random) -> Decision:
    wants_leader = path == LEADER_PATH
    if wants_leader == (view.role == "leader"):
        return Decision("serve")
    if forwarded:
        return Decision("unavailable")
    if wants_leader:
        return Decision("forward", view.holder_address) if view.holder_address else Decision("unavailable")
    return Decision("forward", rng.choice(view.followers)) if view.followers else Decision("unavailable")
