"""The election's properties on a virtual clock, against the modelled Cloud Map, DynamoDB and ECS.

bench/election_sim.py measures these over hundreds of fault schedules and prints the figures; this file checks a
few fixed seeds per scenario, so that a change that breaks a property fails CI. Nothing here sleeps.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest

from mapgate_app.election import Timing
from tests.election_model import ROLES, SERVICE, Clock, FakeCloudMap, Faults, Model, Platform, SimError
from tests.election_scenarios import SCENARIOS, model, scenario, soak

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
    ttl, interval = Timing().lease_ttl, Timing().interval
    for seed in SEEDS:
        graceful = scenario("leader graceful stop", window, "queue", False, seed)
        assert graceful.leader_gap <= 10
        crash = scenario("leader crash", window, "fail", False, seed)
        # lease TTL + one round + an operation and its propagation (3 s + 5 s), plus the probe's 1 s resolution
        assert crash.leader_gap <= ttl + interval + 3 + 5 + 1
        rolling = scenario("rolling deployment (3)", window, "fail", False, seed)
        assert rolling.moves <= 1


def test_a_soak_hour_converges_to_one_leader_every_time() -> None:
    for seed in range(2):
        result = soak(30.0, "queue", False, seed)
        assert result.non_holder_leader_answers == 0
        assert result.zombies_at_end == 0
        assert result.converged_after is not None
        assert result.converged_after <= 60


def test_the_simulation_catches_a_holder_that_trusts_its_lease_too_long() -> None:
    """A margin below zero lets a holder lead after its lease ended: the probe must see it, or it proves nothing."""
    unsafe = Timing(clock_margin=-4.0)
    violations = 0
    for seed in range(5):
        platform = Platform(seed, model(30.0, "fail", False), timing=unsafe)
        platform.scale(3)
        platform.probe_every_second(until=400)
        platform.clock.run_until(120)
        platform.faults.storms.append((120, 160, 1.0, "lease"))  # the holder cannot renew; others take over after
        platform.clock.run_until(400)
        violations += sum(1 for p in platform.probes if p.path == "/leader" and p.wrong_role)
        violations += platform.split_brain_seconds
    assert violations > 0


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
