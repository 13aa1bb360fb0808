"""The lease store on moto's DynamoDB (a real condition-expression evaluator): atomic takeover, expiry, fencing.

The same sequence of calls then runs on the simulation's fake table, which must answer every call the same way:
that keeps bench/election_sim.py honest about what DynamoDB does.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mapgate_app.lease import NOBODY, Lease, LeaseLost, LeaseStore
from tests.aws_models import RecordingClient, request_errors
from tests.election_model import Clock, FakeDynamoDB, Faults, Model

TABLE = "leases"
TTL = 10_000


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_the_first_acquirer_wins_and_the_second_is_refused(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    assert store.read() is None
    first = store.acquire(me="a", address="10.0.0.1:8080", now_ms=1_000, ttl_ms=TTL)
    assert first == Lease(holder="a", address="10.0.0.1:8080", term=1, expires_ms=11_000)
    with pytest.raises(LeaseLost):
        store.acquire(me="b", address="10.0.0.2:8080", now_ms=5_000, ttl_ms=TTL)
    assert store.read() == first


def test_an_expired_lease_is_taken_under_a_higher_term(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    store.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    taken = store.acquire(me="b", address="b:1", now_ms=11_001, ttl_ms=TTL)
    assert (taken.holder, taken.term) == ("b", 2)


def test_a_holder_that_lost_its_term_can_neither_renew_nor_release(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    store.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    store.acquire(me="b", address="b:1", now_ms=20_000, ttl_ms=TTL)  # a paused past its lease
    with pytest.raises(LeaseLost):
        store.renew(me="a", term=1, now_ms=20_001, ttl_ms=TTL)
    with pytest.raises(LeaseLost):
        store.release(me="a", term=1)
    with pytest.raises(LeaseLost):
        store.hand_over(me="a", term=1, successor="c", address="c:1", now_ms=20_002, ttl_ms=TTL)
    assert store.read() == Lease("b", "b:1", 2, 30_000)


def test_renewal_extends_only_the_holders_own_term(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    store.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    assert store.renew(me="a", term=1, now_ms=9_000, ttl_ms=TTL).expires_ms == 19_000
    with pytest.raises(LeaseLost):
        store.renew(me="a", term=2, now_ms=9_000, ttl_ms=TTL)


def test_a_release_frees_the_lease_at_once_and_the_term_keeps_growing(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    store.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    released = store.release(me="a", term=1)
    assert (released.holder, released.expires_ms, released.term) == (NOBODY, 0, 1)
    assert store.acquire(me="b", address="b:1", now_ms=1_001, ttl_ms=TTL).term == 2


def test_a_hand_over_names_the_successor_under_a_new_term(dynamodb: Any) -> None:
    store = LeaseStore(dynamodb, table=TABLE, name="app")
    store.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    given = store.hand_over(me="a", term=1, successor="b", address="b:1", now_ms=2_000, ttl_ms=TTL)
    assert given == Lease("b", "b:1", 2, 12_000)
    with pytest.raises(LeaseLost):
        store.acquire(me="c", address="c:1", now_ms=2_001, ttl_ms=TTL)  # not free: it has a holder
    assert store.renew(me="b", term=2, now_ms=3_000, ttl_ms=TTL).holder == "b"


def test_each_service_has_its_own_lease(dynamodb: Any) -> None:
    app, other = LeaseStore(dynamodb, table=TABLE, name="app"), LeaseStore(dynamodb, table=TABLE, name="other")
    app.acquire(me="a", address="a:1", now_ms=1_000, ttl_ms=TTL)
    assert other.acquire(me="z", address="z:1", now_ms=1_000, ttl_ms=TTL).term == 1


def _outcome(store: LeaseStore, call: Callable[[LeaseStore], Lease | None]) -> Lease | str | None:
    try:
        return call(store)
    except LeaseLost:
        return "lost"


def random_call(rng: random.Random, holder: str | None, current: int, now: int) -> tuple[int, Any]:
    """One of the five lease calls, by a random task; half the time by the holder with its own term."""
    who, term = (holder, current) if holder and rng.random() < 0.5 else (rng.choice("abc"), rng.randint(1, 6))
    successor = rng.choice("abc")
    calls: list[Callable[[LeaseStore], Lease | None]] = [
        lambda s: s.read(),
        lambda s: s.acquire(me=who, address=f"{who}:1", now_ms=now, ttl_ms=TTL),
        lambda s: s.renew(me=who, term=term, now_ms=now, ttl_ms=TTL),
        lambda s: s.release(me=who, term=term),
        lambda s: s.hand_over(me=who, term=term, successor=successor, address="x:1", now_ms=now, ttl_ms=TTL),
    ]
    index = rng.randrange(len(calls))
    return index, calls[index]


@pytest.mark.slow
def test_every_request_fits_botocore_and_the_simulations_table_answers_like_moto(dynamodb: Any) -> None:
    recording = RecordingClient(dynamodb)
    real = LeaseStore(recording, table=TABLE, name="app")
    clock = Clock()
    rng = random.Random(7)
    model = Model(transient_error_rate=0.0)
    fake = LeaseStore(FakeDynamoDB(clock, rng, model, Faults(clock, rng, model)), table=TABLE, name="app")
    seen: set[tuple[int, str]] = set()
    for step in range(200):
        item = dynamodb.get_item(TableName=TABLE, Key={"name": {"S": "app"}}).get("Item", {})
        holder, current = item.get("holder", {}).get("S"), int(item.get("term", {}).get("N", "0"))
        index, call = random_call(rng, holder, current, now=1_000 * step)
        answer = _outcome(real, call)
        assert answer == _outcome(fake, call), f"step {step}"
        seen.add((index, "lost" if answer == "lost" else "done"))
    # Every write both succeeded and was refused at some step, so the comparison covered both branches.
    assert {(i, kind) for i in range(1, 5) for kind in ("lost", "done")} <= seen
    assert recording.operations == {"GetItem", "UpdateItem"}
    for operation, request in recording.requests:
        assert request_errors("dynamodb", operation, request) == ""
    reads = [r for op, r in recording.requests if op == "GetItem"]
    assert all(r["ConsistentRead"] is True for r in reads)  # a stale read could show a released lease as held
