"""The election's scenarios and its one-hour soak on the model, with the measures each run reports.

Used by bench/election_sim.py (the figures) and tests/test_election_sim.py (the properties on fixed seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.election_model import LinkFault, Model, Platform, Probe, Task

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
    max_stop_seconds: float = 0.0  # SIGTERM to exit, the longest graceful stop
    killed_by_ecs: int = 0  # stops that ran into ECS's SIGKILL (30 s)
    converged_after: float | None = None  # soak only


def longest_gap(probes: list[Probe], fault_at: float, horizon: float) -> tuple[float, int]:
    """The longest run of consecutive failed `/leader` probes after the fault (seconds), and all failures."""
    leader = sorted(
        (p for p in probes if p.path == "/leader" and fault_at <= p.at < fault_at + horizon), key=lambda p: p.at
    )
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
        max_stop_seconds=max(platform.stop_seconds, default=0.0),
        killed_by_ecs=platform.killed_by_ecs,
    )


def leader_of(platform: Platform) -> Task:
    holder = holder_or_none(platform)
    if holder is None:
        raise RuntimeError("no lease holder to act on")
    return holder


def holder_or_none(platform: Platform) -> Task | None:
    truth = platform.dynamodb.holder_at()
    return platform.tasks.get(truth[0]) if truth else None


def scale_out_then_in(platform: Platform) -> None:
    platform.scale(6)
    platform.clock.after(60, lambda: platform.scale(2))


def follower_of(platform: Platform) -> Task:
    leader = leader_of(platform)
    return next(t for t in platform.running() if t is not leader)


def cut_off(
    platform: Platform, task: Task | None, api: str, kind: str, seconds: float, p: float = 1.0, after: float = 0.0
) -> None:
    now = platform.clock.now + after
    platform.link_faults.append(LinkFault(now, now + seconds, task.task_id if task else None, api, kind, p))


def skewed_then_holder_fails_fast(skew: float) -> Callable[[Platform], None]:
    """The worst placement of a skew of +/-`skew`: the holder's wall clock steps back by it, every other task's
    forward (as a step adjustment does); 3 s later, once the holder has renewed on its new clock, its lease calls
    start failing at once, for 40 s."""

    def act(platform: Platform) -> None:
        holder = leader_of(platform)
        for task in platform.tasks.values():
            task.wall_offset = -skew if task is holder else skew
        cut_off(platform, holder, "lease", "fail", 40, after=3.0)

    return act


def stop_in_a_dynamodb_partition(platform: Platform) -> None:
    cut_off(platform, None, "lease", "hang", 60)
    platform.sigterm(leader_of(platform))


# The ordinary faults, measured at every consistency window.
SCENARIOS: dict[str, Callable[[Platform], None]] = {
    "leader crash": lambda p: p.crash(leader_of(p)),
    "leader graceful stop": lambda p: p.sigterm(leader_of(p)),
    "follower crash": lambda p: p.crash(follower_of(p)),
    "rolling deployment (3)": lambda p: p.rolling_deployment(),
    "scale 3 -> 6 -> 2": scale_out_then_in,
    "60 s error storm": lambda p: p.faults.storms.append((p.clock.now, p.clock.now + 60, 0.9, "all")),
}

# Faults against the lease itself: clocks, pauses, partitions, lost answers. Each with its tasks' wall clocks off
# by up to the skew (seconds) and their steady clocks' rates by up to RATE_SKEW.
RATE_SKEW = 0.01
LEASE_FAULTS: dict[str, tuple[float, Callable[[Platform], None]]] = {
    "skew 1.5 s, holder fails fast": (1.5, skewed_then_holder_fails_fast(1.5)),
    "skew 3 s, holder fails fast": (3.0, skewed_then_holder_fails_fast(3.0)),
    "skew 30 s, holder fails fast": (30.0, skewed_then_holder_fails_fast(30.0)),
    "holder paused 15 s": (3.0, lambda p: p.freeze(leader_of(p), 15)),
    "holder paused 30 s": (3.0, lambda p: p.freeze(leader_of(p), 30)),
    "holder paused 60 s": (3.0, lambda p: p.freeze(leader_of(p), 60)),
    "follower paused 60 s": (3.0, lambda p: p.freeze(follower_of(p), 60)),
    "holder partitioned 60 s": (3.0, lambda p: cut_off(p, leader_of(p), "all", "hang", 60)),
    "DynamoDB times out on holder": (3.0, lambda p: cut_off(p, leader_of(p), "lease", "hang", 60)),
    "ambiguous writes 60 s (50 %)": (3.0, lambda p: cut_off(p, None, "lease", "ambiguous", 60, 0.5)),
    "stop in DynamoDB partition": (3.0, stop_in_a_dynamodb_partition),
}


def model(window: float, conflicts: str, pessimistic: bool, skew: float = 0.3, rate_skew: float = 0.0) -> Model:
    """The window applies to attribute changes and eventually consistent reads; pessimistic: to membership too."""
    return Model(
        attribute_window=window,
        lease_stale_window=window,
        membership_window=window if pessimistic else None,
        conflicts=conflicts,
        clock_skew=skew,
        rate_skew=rate_skew,
    )


def scenario(name: str, window: float, conflicts: str, pessimistic: bool, seed: int) -> Outcome:
    if name in LEASE_FAULTS:
        skew, act = LEASE_FAULTS[name]
        platform = Platform(seed, model(window, conflicts, pessimistic, skew, RATE_SKEW))
    else:
        act = SCENARIOS[name]
        platform = Platform(seed, model(window, conflicts, pessimistic))
    return run(platform, act)


def run(platform: Platform, act: Callable[[Platform], None]) -> Outcome:
    platform.scale(3)
    end = WARM_UP + AFTER
    platform.probe_every_second(until=end)
    platform.clock.run_until(WARM_UP)
    holders_before = len(platform.holders)
    act(platform)
    platform.clock.run_until(end)
    return outcome(platform, WARM_UP, AFTER, holders_before)


SOAK_SKEWS = (0.3, 1.5, 3.0, 30.0)
SOAK_FAULTS = (
    *("leader crash", "crash", "leader stop", "stop", "deploy", "scale", "storm"),
    *("pause", "partition", "fail fast", "ambiguous"),
)


def soak(window: float, conflicts: str, pessimistic: bool, seed: int) -> Outcome:
    """One hour of random faults, the lease's own among them, with each run's tasks' clocks skewed."""
    skew = SOAK_SKEWS[seed % len(SOAK_SKEWS)]
    platform = Platform(seed, model(window, conflicts, pessimistic, skew, RATE_SKEW))
    rng = platform.rng
    platform.scale(3)
    platform.probe_every_second(until=SOAK_SECONDS)
    t, last_fault_end = WARM_UP, WARM_UP
    while True:
        t += rng.uniform(60, 300)
        if t > SOAK_SECONDS - QUIET_TAIL:
            break
        platform.clock.run_until(t)
        kind = rng.choice(SOAK_FAULTS)
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
        elif kind == "pause" and platform.running():
            length = rng.choice([15.0, 30.0, 60.0])
            platform.freeze(holder if holder and rng.random() < 0.5 else rng.choice(platform.running()), length)
            fault_end = t + length
        elif kind in {"partition", "fail fast", "ambiguous"}:
            length = rng.uniform(10, 90)
            target = None if kind == "ambiguous" else holder if holder and rng.random() < 0.5 else None
            if target is None and kind != "ambiguous" and platform.running():
                target = rng.choice(platform.running())
            api = "all" if kind == "partition" else "lease"
            fault = {"partition": "hang", "fail fast": "fail", "ambiguous": "ambiguous"}[kind]
            cut_off(platform, target, api, fault, length, rng.uniform(0.3, 1.0) if kind == "ambiguous" else 1.0)
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
