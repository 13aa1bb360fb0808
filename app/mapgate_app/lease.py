"""The leader lease: one DynamoDB item per elected service, changed only by conditional writes.

Why DynamoDB and not Cloud Map: a strongly consistent `GetItem` sees every write that succeeded before it, and a
conditional `UpdateItem` is atomic, so two tasks can never both win the same lease. Cloud Map's `DiscoverInstances`
is eventually consistent (answers disagree for tens of seconds after a change), so it only routes; it never decides.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html

No clock is compared between tasks (the rule of the DynamoDB Lock Client, https://github.com/awslabs/amazon-dynamodb-lock-client):
- every write of the holder that could extend its lease adds one to `version`;
- a taker may take a held lease only with the condition `version = <the version it observed>`, and only after it
  has seen that same version unchanged for the item's `lease_ms`, timed on its own monotonic clock from the moment
  a read first returned it (`mapgate_app.election` keeps that timer);
- the holder leads only until (send time of its last acknowledged renewal, on its own monotonic clock) + lease -
  margin. docs/election.md gives the argument step by step.

The item (attribute names in `ITEM_ATTRIBUTES`, mirrored in `mapgate/contract.py` for `mapgate status`):
`{name, holder, address, term, version, lease_ms, renewed_ms, stopping}`.
- `term` only grows, on every take and hand-over: it is the fencing token. Renewal, hand-over and release are
  conditional on the holder's own term, so a task that lost the lease (paused, partitioned) cannot extend or clear
  its successor's.
- `version` only grows, on every take, renewal, hand-over and release: what takers watch.
- `lease_ms` is the holder's lease duration: takers wait that long (not their own setting), so a deployment that
  changes the TTL stays safe.
- `renewed_ms` is the writer's wall clock at the last write, for people and `mapgate status` only: the election
  never reads it.
- `stopping` is a string set of task ids that got SIGTERM: a holder never hands the lease to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

NOBODY = ""

# The item's attribute names: the one place the app spells them (tests/test_contract.py ties them to the stack's).
KEY: Final = "name"
HOLDER: Final = "holder"
ADDRESS: Final = "address"
TERM: Final = "term"
VERSION: Final = "version"
LEASE_MS: Final = "lease_ms"
RENEWED_MS: Final = "renewed_ms"
STOPPING: Final = "stopping"
ITEM_ATTRIBUTES: Final = (KEY, HOLDER, ADDRESS, TERM, VERSION, LEASE_MS, RENEWED_MS, STOPPING)
# The previous design's wall-clock expiry. An item written by it has no `version`; while such a holder renews, its
# `expires` changes instead, so a taker watches that. Every write of this design that names a holder removes it:
# the previous design's takers then find no `expires < now` to satisfy, and cannot take from this design's holder.
LEGACY_EXPIRES: Final = "expires"

# The conditions. Each write succeeds only from the state it names.
TAKE_NEW_IF: Final = "attribute_not_exists(#name)"
TAKE_SEEN_IF: Final = "#version = :seen"
TAKE_SEEN_LEGACY_IF: Final = "attribute_not_exists(#version) AND #expires = :seen"
OWN_TERM_IF: Final = "#holder = :me AND #term = :term"
HAND_OVER_IF: Final = f"{OWN_TERM_IF} AND NOT contains(#stopping, :successor)"
EXISTS_IF: Final = "attribute_exists(#name)"

_NEXT_VERSION = "#version = if_not_exists(#version, :zero) + :one"
_NO_EXPIRY = "REMOVE #expires"


class LeaseLost(Exception):
    """The conditional write found another state than it named: this task does not hold (or may not take) the lease."""


@dataclass(frozen=True)
class Lease:
    holder: str
    """Task id of the holder, or NOBODY after a release."""
    address: str
    """`ip:port` of the holder's HTTP server: where a non-holder forwards `/leader`."""
    term: int
    version: int
    lease_ms: int
    renewed_ms: int = 0
    stopping: frozenset[str] = frozenset()
    legacy_expires_ms: int = 0
    """Only on an item the previous design wrote (version 0): what changes when its holder renews."""

    @property
    def observed(self) -> tuple[int, int]:
        """What a taker watches: the version, or on a previous design's item its `expires`."""
        return self.version, self.legacy_expires_ms

    @property
    def released(self) -> bool:
        return self.holder == NOBODY


class LeaseStore:
    """The lease for one elected service in the stack's lease table. `client` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, *, table: str, name: str):
        self.client = client
        self.table = table
        self.name = name

    def read(self) -> Lease | None:
        """The current lease, strongly consistent (an eventually consistent read could be a second old)."""
        item = self.client.get_item(TableName=self.table, Key=self._key(), ConsistentRead=True).get("Item")
        return _lease(item) if item else None

    def take(self, *, me: str, address: str, seen: Lease | None, now_ms: int, lease_ms: int) -> Lease:
        """Take the lease: a missing item, or exactly the version `seen` (released, or watched for a whole lease).

        The term goes up by one. The caller decides when it may; this only makes sure nothing changed since.
        """
        if seen is None:
            condition, values = TAKE_NEW_IF, {}
        elif seen.version == 0:  # written by the previous design: its renewals change `expires`
            condition, values = TAKE_SEEN_LEGACY_IF, {":seen": _n(seen.legacy_expires_ms)}
        else:
            condition, values = TAKE_SEEN_IF, {":seen": _n(seen.version)}
        return self._update(
            f"SET #holder = :me, #address = :address, #lease_ms = :lease_ms, #renewed_ms = :now, "
            f"#term = if_not_exists(#term, :zero) + :one, {_NEXT_VERSION} {_NO_EXPIRY}",
            condition,
            {":me": _s(me), ":address": _s(address), ":lease_ms": _n(lease_ms), ":now": _n(now_ms), **values},
        )

    def renew(self, *, me: str, term: int, now_ms: int, lease_ms: int, forget: frozenset[str] = frozenset()) -> Lease:
        """Extend this task's own lease of this term: a new version. `forget`: stopping marks of tasks that are gone."""
        update = f"SET #lease_ms = :lease_ms, #renewed_ms = :now, {_NEXT_VERSION} {_NO_EXPIRY}"
        values: dict[str, Any] = {":me": _s(me), ":term": _n(term), ":lease_ms": _n(lease_ms), ":now": _n(now_ms)}
        if forget:
            update += " DELETE #stopping :forget"
            values[":forget"] = {"SS": sorted(forget)}
        return self._update(update, OWN_TERM_IF, values)

    def hand_over(self, *, me: str, term: int, successor: str, address: str, now_ms: int) -> Lease:
        """Give this task's lease to a named successor under a new term (a graceful stop).

        Refused if the successor has marked itself stopping. The successor leads only once it has renewed.
        """
        return self._update(
            f"SET #holder = :successor, #address = :address, #renewed_ms = :now, #term = #term + :one, "
            f"{_NEXT_VERSION} {_NO_EXPIRY}",
            HAND_OVER_IF,
            {
                ":me": _s(me),
                ":term": _n(term),
                ":successor": _s(successor),
                ":address": _s(address),
                ":now": _n(now_ms),
            },
        )

    def release(self, *, me: str, term: int, now_ms: int) -> Lease:
        """Give the lease up so that any task may take it at once. The term stays, so the next one is higher."""
        return self._update(
            f"SET #holder = :nobody, #address = :nobody, #renewed_ms = :now, {_NEXT_VERSION}",
            OWN_TERM_IF,
            {":me": _s(me), ":term": _n(term), ":nobody": _s(NOBODY), ":now": _n(now_ms)},
        )

    def mark_stopping(self, *, me: str) -> None:
        """Say that this task got SIGTERM, so that no holder hands it the lease. The version stays: no taker's
        timer restarts. Never creates the item."""
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(),
                UpdateExpression="ADD #stopping :me",
                ConditionExpression=EXISTS_IF,
                ExpressionAttributeNames={"#stopping": STOPPING, "#name": KEY},
                ExpressionAttributeValues={":me": {"SS": [me]}},
            )
        except Exception as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise  # no item: nobody to hand anything to us

    def _key(self) -> dict[str, Any]:
        return {KEY: _s(self.name)}

    def _update(self, update: str, condition: str, values: dict[str, Any]) -> Lease:
        text = f"{update} {condition}"
        constants = {":zero": _n(0), ":one": _n(1)}
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=self._key(),
                UpdateExpression=update,
                ConditionExpression=condition,
                # DynamoDB rejects names and values the expressions do not use.
                ExpressionAttributeNames={f"#{a}": a for a in (*ITEM_ATTRIBUTES, LEGACY_EXPIRES) if f"#{a}" in text},
                ExpressionAttributeValues={**values, **{k: v for k, v in constants.items() if k in text}},
                ReturnValues="ALL_NEW",
            )
        except Exception as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise LeaseLost(str(error)) from error
            raise
        return _lease(answer["Attributes"])


def _lease(item: dict[str, Any]) -> Lease:
    return Lease(
        holder=item.get(HOLDER, {}).get("S", NOBODY),
        address=item.get(ADDRESS, {}).get("S", ""),
        term=int(item.get(TERM, {}).get("N", "0")),
        version=int(item.get(VERSION, {}).get("N", "0")),
        lease_ms=int(item.get(LEASE_MS, {}).get("N", "0")),
        renewed_ms=int(item.get(RENEWED_MS, {}).get("N", "0")),
        stopping=frozenset(item.get(STOPPING, {}).get("SS", ())),
        legacy_expires_ms=int(item.get(LEGACY_EXPIRES, {}).get("N", "0")),
    )


def error_code(error: BaseException) -> str:
    """An AWS error's code (botocore's `ClientError.response`), else the exception's class name."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}
