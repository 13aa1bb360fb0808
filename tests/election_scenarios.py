"""The election's scenarios and its one-hour soak on the model, with the measures each run reports.

Used by bench/election_sim.py (the figures) and tests/test_election_sim.py (the properties on fixed seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.election_model import EPOCH, Model, Platform, Probe, Task

WARM_UP = 120.0
AFTER = 180.0
SOAK_SECONDS = 3600.0
QUIET_TAIL = 300.0  # faults stop this long before the end of a soak run
CONVERGENCE_BOUND = 60.0  # stated bound: exactly one leader this long after the last fault ends


@dataclass(frozen=True)
class Outcome:
    non_holder_leader_answers: int
    holder_follower_answers: int
    split_brain_seconds: int
    leader_gap: float  # the longest /leader outage after the fault, seconds (0: never dark)
    leader_failed_probes: int
    follower_failed_probes: int
    all_failed_probes: int
    moves: int
    zombies_at_end: int
    max_orphan_age: float
    ecs_owned_writes: int
    converged_after: float | None = None  # soak only


def longest_gap(probes: list[Probe], fault_at: float, horizon: float) -> tuple[float, int]:
    """The longest run of consecutive failed `/leader` probes after the fault (seconds), and all failures."""
    leader = [p for p in probes if p.path == "/leader" and fault_at <= p.at < fault_at + horizon]
    longest, start = 0.0, None
    for probe in leader:
        if probe.status != 200:
            start = probe.at if start is None else start
            longest = max(longest, probe.at - start + 1)
        else:
            start = None
    return longest, sum(1 for p in leader if p.status != 200)


def _failed(probes: list[Probe], path: str, fault_at: float, horizon: float) -> int:
    return sum(1 for p in probes if p.path == path and fault_at <= p.at < fault_at + horizon and p.status != 200)


def outcome(platform: Platform, fault_at: float, horizon: float, holders_before: int) -> Outcome:
    gap, failed = longest_gap(platform.probes, fault_at, horizon)
    return Outcome(
        non_holder_leader_answers=sum(1 for p in platform.probes if p.path == "/leader" and p.wrong_role),
        holder_follower_answers=sum(1 for p in platform.probes if p.path == "/follower" and p.wrong_role),
        split_brain_seconds=platform.split_brain_seconds,
        leader_gap=gap,
        leader_failed_probes=failed,
        follower_failed_probes=_failed(platform.probes, "/follower", fault_at, horizon),
        all_failed_probes=_failed(platform.probes, "/", fault_at, horizon),
        moves=len(platform.holders) - holders_before,
        zombies_at_end=len(platform.zombies()),
        max_orphan_age=platform.max_orphan_age,
        ecs_owned_writes=platform.cloud_map.writes_to_ecs_owned,
    )


def leader_of(platform: Platform) -> Task:
    holder = holder_or_none(platform)
    if holder is None:
        raise RuntimeError("no lease holder to act on")
    return holder


def holder_or_none(platform: Platform) -> Task | None:
    truth = platform.dynamodb.holder_at(EPOCH + platform.clock.now)
    return platform.tasks.get(truth[0]) if truth else None


def scale_out_then_in(platform: Platform) -> None:
    platform.scale(6)
    platform.clock.after(60, lambda: platform.scale(2))


def follower_of(platform: Platform) -> Task:
    leader = leader_of(platform)
    return next(t for t in platform.running() if t is not leader)


SCENARIOS: dict[str, Callable[[Platform], None]] = {
    "leader crash": lambda p: p.crash(leader_of(p)),
    "leader graceful stop": lambda p: p.sigterm(leader_of(p)),
    "follower crash": lambda p: p.crash(follower_of(p)),
    "rolling deployment (3)": lambda p: p.rolling_deployment(),
    "scale 3 -> 6 -> 2": scale_out_then_in,
    "60 s error storm": lambda p: p.faults.storms.append((p.clock.now, p.clock.now + 60, 0.9, "all")),
}


def model(window: float, conflicts: str, pessimistic: bool) -> Model:
    """The window applies to attribute changes and eventually consistent reads; pessimistic: to membership too."""
    return Model(
        attribute_window=window,
        lease_stale_window=window,
        membership_window=window if pessimistic else None,
        conflicts=conflicts,
    )


def scenario(name: str, window: float, conflicts: str, pessimistic: bool, seed: int) -> Outcome:
    platform = Platform(seed, model(window, conflicts, pessimistic))
    platform.scale(3)
    end = WARM_UP + AFTER
    platform.probe_every_second(until=end)
    platform.clock.run_until(WARM_UP)
    holders_before = len(platform.holders)
    SCENARIOS[name](platform)
    platform.clock.run_until(end)
    return outcome(platform, WARM_UP, AFTER, holders_before)


def soak(window: float, conflicts: str, pessimistic: bool, seed: int) -> Outcome:
    platform = Platform(seed, model(window, conflicts, pessimistic))
    rng = platform.rng
    platform.scale(3)
    platform.probe_every_second(until=SOAK_SECONDS)
    t, last_fault_end = WARM_UP, WARM_UP
    while True:
        t += rng.uniform(60, 300)
        if t > SOAK_SECONDS - QUIET_TAIL:
            break
        platform.clock.run_until(t)
        kind = rng.choice(["leader crash", "crash", "leader stop", "stop", "deploy", "scale", "storm"])
        fault_end = t
        holder = holder_or_none(platform)
        if kind == "leader crash" and holder:
            platform.crash(holder)
        elif kind == "crash" and platform.running():
            platform.crash(rng.choice(platform.running()))
        elif kind == "leader stop" and holder:
            platform.sigterm(holder)
        elif kind == "stop" and platform.running():
            platform.sigterm(rng.choice(platform.running()))
        elif kind == "deploy":
            platform.rolling_deployment()
            fault_end = t + 90
        elif kind == "scale":
            platform.scale(rng.randint(2, 6))
        elif kind == "storm":
            length = rng.uniform(10, 60)
            platform.faults.storms.append(
                (t, t + length, rng.uniform(0.3, 1.0), rng.choice(["cloudmap", "lease", "all"]))
            )
            fault_end = t + length
        last_fault_end = max(last_fault_end, fault_end)
    platform.clock.run_until(SOAK_SECONDS)
    result = outcome(platform, WARM_UP, SOAK_SECONDS, 0)
    # Converged: from some moment on, every sample until the end says exactly one leader.
    converged_from = None
    for at, ok in platform.converged_at:
        if ok and converged_from is None:
            converged_from = at
        elif not ok:
            converged_from = None
    after = None if converged_from is None else max(0.0, converged_from - last_fault_end)
    return Outcome(**{**result.__dict__, "converged_after": after})
