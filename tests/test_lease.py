"""The lease store on moto's DynamoDB (a real condition-expression evaluator): takeover only at a watched version,
fencing by term, no hand-over to a stopping task.

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

from mapgate_app.lease import LEGACY_EXPIRES, NOBODY, Lease, LeaseLost, LeaseStore
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


def _store(dynamodb: Any, name: str = "app") -> LeaseStore:
    return LeaseStore(dynamodb, table=TABLE, name=name)


def test_the_first_taker_wins_and_the_second_is_refused(dynamodb: Any) -> None:
    store = _store(dynamodb)
    assert store.read() is None
    first = store.take(me="a", address="10.0.0.1:8080", seen=None, now_ms=1_000, lease_ms=TTL)
    assert first == Lease(holder="a", address="10.0.0.1:8080", term=1, version=1, lease_ms=TTL, renewed_ms=1_000)
    with pytest.raises(LeaseLost):
        store.take(me="b", address="10.0.0.2:8080", seen=None, now_ms=5_000, lease_ms=TTL)
    assert store.read() == first


def test_a_held_lease_is_taken_only_at_the_version_the_taker_watched(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    watched = store.read()
    assert watched is not None
    store.renew(me="a", term=1, now_ms=3_000, lease_ms=TTL)  # the holder is alive: a new version
    with pytest.raises(LeaseLost):
        store.take(me="b", address="b:1", seen=watched, now_ms=99_000, lease_ms=TTL)  # any wall clock: refused
    silent = store.read()
    assert silent is not None
    assert silent.version == watched.version + 1
    taken = store.take(me="b", address="b:1", seen=silent, now_ms=0, lease_ms=TTL)  # no wall clock is compared
    assert (taken.holder, taken.term, taken.version) == ("b", 2, silent.version + 1)


def test_a_holder_that_lost_its_term_can_neither_renew_nor_release_nor_hand_over(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    store.take(me="b", address="b:1", seen=store.read(), now_ms=20_000, lease_ms=TTL)  # a paused past its lease
    with pytest.raises(LeaseLost):
        store.renew(me="a", term=1, now_ms=20_001, lease_ms=TTL)
    with pytest.raises(LeaseLost):
        store.release(me="a", term=1, now_ms=20_001)
    with pytest.raises(LeaseLost):
        store.hand_over(me="a", term=1, successor="c", address="c:1", now_ms=20_002)
    assert store.read() == Lease("b", "b:1", 2, 2, TTL, 20_000)


def test_renewal_is_a_new_version_of_the_holders_own_term_only(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    renewed = store.renew(me="a", term=1, now_ms=9_000, lease_ms=TTL)
    assert (renewed.version, renewed.term, renewed.renewed_ms) == (2, 1, 9_000)
    with pytest.raises(LeaseLost):
        store.renew(me="a", term=2, now_ms=9_000, lease_ms=TTL)


def test_a_release_frees_the_lease_at_once_and_the_term_keeps_growing(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    released = store.release(me="a", term=1, now_ms=2_000)
    assert (released.holder, released.released, released.term, released.version) == (NOBODY, True, 1, 2)
    assert store.take(me="b", address="b:1", seen=released, now_ms=2_001, lease_ms=TTL).term == 2


def test_a_hand_over_names_the_successor_under_a_new_term(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    given = store.hand_over(me="a", term=1, successor="b", address="b:1", now_ms=2_000)
    assert given == Lease("b", "b:1", 2, 2, TTL, 2_000)
    with pytest.raises(LeaseLost):
        store.take(me="c", address="c:1", seen=None, now_ms=2_001, lease_ms=TTL)  # not free: it has a holder
    assert store.renew(me="b", term=2, now_ms=3_000, lease_ms=TTL).holder == "b"


def test_no_hand_over_to_a_task_that_said_it_is_stopping(dynamodb: Any) -> None:
    store = _store(dynamodb)
    store.mark_stopping(me="b")  # no item yet: the mark creates none
    assert store.read() is None
    store.take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    store.mark_stopping(me="b")
    marked = store.read()
    assert marked is not None
    assert marked.stopping == {"b"}
    assert marked.version == 1
    with pytest.raises(LeaseLost):
        store.hand_over(me="a", term=1, successor="b", address="b:1", now_ms=2_000)
    assert store.hand_over(me="a", term=1, successor="c", address="c:1", now_ms=2_000).holder == "c"
    renewed = store.renew(me="c", term=2, now_ms=3_000, lease_ms=TTL, forget=frozenset({"b"}))
    assert renewed.stopping == frozenset()  # the holder forgets the marks of tasks that are gone


def test_an_item_of_the_previous_design_is_taken_only_at_the_expiry_the_taker_watched(dynamodb: Any) -> None:
    """During the first rolling deployment, an old holder renews by changing `expires`, not `version`."""
    item = {"name": {"S": "app"}, "holder": {"S": "old"}, "address": {"S": "o:1"}, "term": {"N": "7"}}
    dynamodb.put_item(TableName=TABLE, Item=item | {LEGACY_EXPIRES: {"N": "11000"}})
    store = _store(dynamodb)
    watched = store.read()
    assert watched is not None
    assert watched.observed == (0, 11_000)
    dynamodb.put_item(TableName=TABLE, Item=item | {LEGACY_EXPIRES: {"N": "13000"}})  # the old holder renewed
    with pytest.raises(LeaseLost):
        store.take(me="new", address="n:1", seen=watched, now_ms=0, lease_ms=TTL)
    taken = store.take(me="new", address="n:1", seen=store.read(), now_ms=0, lease_ms=TTL)
    assert (taken.term, taken.version, taken.legacy_expires_ms) == (8, 1, 0)


def test_each_service_has_its_own_lease(dynamodb: Any) -> None:
    _store(dynamodb).take(me="a", address="a:1", seen=None, now_ms=1_000, lease_ms=TTL)
    assert _store(dynamodb, "other").take(me="z", address="z:1", seen=None, now_ms=1_000, lease_ms=TTL).term == 1


def _outcome(store: LeaseStore, call: Callable[[LeaseStore], Lease | None]) -> Lease | str | None:
    try:
        return call(store)
    except LeaseLost:
        return "lost"


def random_call(rng: random.Random, item: dict[str, Any], now: int) -> tuple[int, Any]:
    """One of the six lease calls, by a random task; half the time by the holder with its own term."""
    holder, current = item.get("holder", {}).get("S"), int(item.get("term", {}).get("N", "0"))
    version = int(item.get("version", {}).get("N", "0"))
    who, term = (holder, current) if holder and rng.random() < 0.5 else (rng.choice("abc"), rng.randint(1, 6))
    successor = rng.choice("abcd")  # d never marks itself stopping
    seen = None if rng.random() < 0.2 else Lease(NOBODY, "", 0, version - rng.randint(0, 1), TTL)
    forget = frozenset(rng.sample("abc", rng.randint(0, 2)))
    stopping = rng.choice("abc")
    calls: list[Callable[[LeaseStore], Lease | None]] = [
        lambda s: s.read(),
        lambda s: s.take(me=who, address=f"{who}:1", seen=seen, now_ms=now, lease_ms=TTL),
        lambda s: s.renew(me=who, term=term, now_ms=now, lease_ms=TTL, forget=forget),
        lambda s: s.release(me=who, term=term, now_ms=now),
        lambda s: s.hand_over(me=who, term=term, successor=successor, address="x:1", now_ms=now),
        lambda s: s.mark_stopping(me=stopping),
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
    for step in range(300):
        item = dynamodb.get_item(TableName=TABLE, Key={"name": {"S": "app"}}).get("Item", {})
        index, call = random_call(rng, item, now=1_000 * step)
        answer = _outcome(real, call)
        assert answer == _outcome(fake, call), f"step {step}"
        seen.add((index, "lost" if answer == "lost" else "done"))
    # Every write both succeeded and was refused at some step, so the comparison covered both branches.
    assert {(i, kind) for i in range(1, 5) for kind in ("lost", "done")} <= seen
    assert (5, "done") in seen
    assert recording.operations == {"GetItem", "UpdateItem"}
    for operation, request in recording.requests:
        assert request_errors("dynamodb", operation, request) == ""
    reads = [r for op, r in recording.requests if op == "GetItem"]
    assert all(r["ConsistentRead"] is True for r in reads)  # a stale read could show a released lease as held


def _old_design_takes(dynamodb: Any, now_ms: int) -> bool:
    """The previous design's take, as it would still run on an old task during the first rolling deployment."""
    try:
        dynamodb.update_item(
            TableName=TABLE,
            Key={"name": {"S": "app"}},
            UpdateExpression="SET #holder = :me, #expires = :expires, #term = #term + :one",
            ConditionExpression="attribute_not_exists(#name) OR #expires < :now",
            ExpressionAttributeNames={"#name": "name", "#holder": "holder", "#expires": "expires", "#term": "term"},
            ExpressionAttributeValues={
                ":me": {"S": "old-taker"},
                ":expires": {"N": str(now_ms + TTL)},
                ":now": {"N": str(now_ms)},
                ":one": {"N": "1"},
            },
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def test_an_old_task_cannot_take_a_lease_this_design_holds(dynamodb: Any) -> None:
    """An old holder hands over to a new task, whose renewal removes the stale `expires` an old taker would use."""
    item = {"name": {"S": "app"}, "holder": {"S": "new"}, "address": {"S": "n:1"}, "term": {"N": "3"}}
    dynamodb.put_item(TableName=TABLE, Item=item | {LEGACY_EXPIRES: {"N": "1000"}})  # handed over by an old holder
    renewed = _store(dynamodb).renew(me="new", term=3, now_ms=2_000, lease_ms=TTL)
    assert (renewed.version, renewed.legacy_expires_ms) == (1, 0)
    assert not _old_design_takes(dynamodb, now_ms=99_000)
