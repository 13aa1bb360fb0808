"""The election's properties on a virtual clock, against the modelled Cloud Map, DynamoDB and ECS.

bench/election_sim.py measures these over hundreds of fault schedules and prints the figures; this file checks a
few fixed seeds per scenario, so that a change that breaks a property fails CI. Nothing here sleeps.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator

import pytest

from mapgate_app.election import Elector, Timing
from mapgate_app.lease import Lease
from tests.election_model import (
    ROLES,
    SERVICE,
    Clock,
    ElectorFactory,
    FakeCloudMap,
    Faults,
    Model,
    Platform,
    SimError,
)
from tests.election_scenarios import (
    LEASE_FAULTS,
    RATE_SKEW,
    SCENARIOS,
    cut_off,
    follower_of,
    leader_of,
    model,
    run,
    scenario,
    skewed_then_holder_fails_fast,
    soak,
)

WINDOWS = (0.0, 30.0, 60.0)
SEEDS = range(3)


@pytest.fixture(autouse=True)
def _quiet() -> Iterator[None]:
    logging.disable(logging.WARNING)  # the election logs every failed call; thousands in an error storm
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_scenario_breaks_safety_or_leaves_a_zombie(name: str, window: float) -> None:
    for seed in SEEDS:
        result = scenario(name, window, "fail", False, seed)
        assert result.non_holder_leader_answers == 0
        assert result.split_brain_seconds == 0
        assert result.zombies_at_end == 0
        assert result.ecs_owned_writes == 0


@pytest.mark.parametrize("window", WINDOWS)
def test_the_stated_recovery_bounds_hold(window: float) -> None:
    for seed in SEEDS:
        graceful = scenario("leader graceful stop", window, "queue", False, seed)
        assert graceful.leader_gap <= 5
        assert graceful.max_stop_seconds <= 25
        crash = scenario("leader crash", window, "fail", False, seed)
        assert crash.leader_gap <= 20
        rolling = scenario("rolling deployment (3)", window, "fail", False, seed)
        assert rolling.moves <= 1
        scale = scenario("scale 3 -> 6 -> 2", window, "fail", False, seed)
        assert scale.moves <= 2


@pytest.mark.parametrize("name", sorted(LEASE_FAULTS))
def test_no_clock_skew_pause_partition_or_lost_answer_breaks_safety(name: str) -> None:
    for seed in range(2):
        result = scenario(name, 30.0, "fail", False, seed)
        assert result.non_holder_leader_answers == 0
        assert result.split_brain_seconds == 0
        assert result.zombies_at_end == 0
        assert result.killed_by_ecs == 0
        assert result.max_stop_seconds <= 25


def test_a_soak_hour_converges_to_one_leader_every_time() -> None:
    for seed in range(2):
        result = soak(30.0, "queue", False, seed)
        assert result.non_holder_leader_answers == 0
        assert result.split_brain_seconds == 0
        assert result.zombies_at_end == 0
        assert result.converged_after is not None
        assert result.converged_after <= 60


def _violations(elector: ElectorFactory, timing: Timing | None, act: Callable[[Platform], None], skew: float) -> int:
    found = 0
    for seed in range(3):
        platform = Platform(seed, model(30.0, "fail", False, skew, RATE_SKEW), timing=timing, elector=elector)
        result = run(platform, act)
        found += result.non_holder_leader_answers + result.split_brain_seconds
    return found


def test_the_simulation_catches_a_holder_that_trusts_its_lease_too_long() -> None:
    """A margin below zero lets a holder lead after its lease ended: the probe must see it, or it proves nothing."""
    cut = "holder partitioned 60 s"
    assert _violations(Elector, Timing(clock_margin=-4.0), LEASE_FAULTS[cut][1], 0.3) > 0


class WallClockTaker(Elector):
    """The previous design's takeover: the lease is free once the taker's wall clock passes the holder's."""

    def may_take(self, lease: Lease | None) -> bool:
        if lease is None or lease.released:
            return True
        return self._now_ms() > lease.renewed_ms + lease.lease_ms


@pytest.mark.parametrize("skew", [1.5, 3.0, 30.0])
def test_the_skew_probe_catches_a_taker_that_trusts_wall_clocks(skew: float) -> None:
    """The same probe that finds 0 for the real takeover rule finds a clock-trusting taker at every skew."""
    act = skewed_then_holder_fails_fast(skew)
    assert _violations(WallClockTaker, None, act, skew) > 0
    assert _violations(Elector, None, act, skew) == 0


# -- the model itself behaves as documented ------------------------------------------------------------------


def _cloud_map(window: float) -> tuple[Clock, FakeCloudMap]:
    clock, rng = Clock(), random.Random(1)
    m = Model(attribute_window=window, transient_error_rate=0.0)
    return clock, FakeCloudMap(clock, rng, m, Faults(clock, rng, m))


def test_inside_the_attribute_window_both_filters_match_then_only_the_new_one() -> None:
    clock, cloud_map = _cloud_map(30.0)
    cloud_map.register_instance(ServiceId=ROLES, InstanceId="i", CreatorRequestId="1", Attributes={"leader": "true"})
    clock.run_until(20)
    cloud_map.register_instance(ServiceId=ROLES, InstanceId="i", CreatorRequestId="2", Attributes={"leader": "false"})
    clock.run_until(25)

    def matches(value: str) -> int:
        return sum(bool(cloud_map.visible(ROLES, "ALL", {"leader": value})) for _ in range(200))

    assert 0 < matches("true") < 200
    assert 0 < matches("false") < 200
    clock.run_until(60)
    assert (matches("true"), matches("false")) == (0, 200)


def test_a_deregistration_shows_within_the_membership_delay() -> None:
    clock, cloud_map = _cloud_map(60.0)
    cloud_map.ecs_register("t", "10.0.0.1")
    clock.run_until(10)
    assert cloud_map.visible(SERVICE, "ALL", {})
    cloud_map.ecs_deregister("t")
    clock.run_until(15.01)
    assert not cloud_map.visible(SERVICE, "ALL", {})


def test_a_second_operation_on_an_instance_fails_while_one_is_in_flight() -> None:
    clock, cloud_map = _cloud_map(0.0)
    cloud_map.register_instance(ServiceId=ROLES, InstanceId="i", CreatorRequestId="1", Attributes={"a": "1"})
    with pytest.raises(SimError) as error:
        cloud_map.deregister_instance(ServiceId=ROLES, InstanceId="i")
    assert error.value.response["Error"]["Code"] == "DuplicateRequest"
    clock.run_until(5)
    cloud_map.deregister_instance(ServiceId=ROLES, InstanceId="i")
    clock.run_until(10)
    # An upsert on a deleted id creates the instance again: the reason the app never writes ECS's instances.
    cloud_map.register_instance(ServiceId=ROLES, InstanceId="i", CreatorRequestId="3", Attributes={"a": "1"})
    clock.run_until(15)
    assert cloud_map.registered(ROLES) == {"i": {"a": "1"}}


def test_a_stop_ends_by_its_deadline_when_every_aws_call_hangs() -> None:
    """Cloud Map and DynamoDB both partitioned from every task: each call costs 5 s and fails. The stop still ends
    within the election's budget (20 s from SIGTERM), before the process's own 25 s and ECS's 30 s."""

    def act(platform: Platform) -> None:
        holder = leader_of(platform)
        cut_off(platform, None, "all", "hang", 120)
        platform.sigterm(holder)
        platform.sigterm(follower_of(platform))

    for seed in range(2):
        platform = Platform(seed, model(30.0, "fail", False))
        result = run(platform, act)
        assert result.killed_by_ecs == 0
        assert len(platform.stop_seconds) == 2
        assert result.max_stop_seconds <= Timing().stop_budget
        assert result.non_holder_leader_answers == result.split_brain_seconds == 0
