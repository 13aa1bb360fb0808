"""The leader lease: one DynamoDB item per elected service, changed only by conditional writes.

Why DynamoDB and not Cloud Map: a strongly consistent `GetItem` sees every write that succeeded before it, and a
conditional `UpdateItem` is atomic, so two tasks can never both win the same lease. Cloud Map's `DiscoverInstances`
is eventually consistent (answers disagree for tens of seconds after a change), so it only routes; it never decides.
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.ReadConsistency.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html

The item: `{name, holder, address, term, expires}`.
- `term` only grows: every acquisition and hand-over adds one. It is the fencing token: a holder's renewal and
  release are conditional on its own term, so a task that lost the lease (paused, partitioned) cannot extend or
  clear its successor's.
- `expires` is wall-clock milliseconds. DynamoDB has no server time in conditions, so the writer sends `now`, and a
  holder stops believing it leads `clock_margin` before its lease ends by its own monotonic clock; that margin
  covers the clock difference between tasks (Fargate tasks sync to the Amazon Time Sync Service).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOBODY = ""

# The four writes. Each is fenced: it succeeds only from the state it names.
ACQUIRE_IF = "attribute_not_exists(#name) OR #expires < :now"
OWN_TERM_IF = "#holder = :me AND #term = :term"


class LeaseLost(Exception):
    """The conditional write found another holder or another term: this task does not hold the lease."""


@dataclass(frozen=True)
class Lease:
    holder: str
    """Task id of the holder, or NOBODY after a release."""
    address: str
    """`ip:port` of the holder's HTTP server: where a non-holder forwards `/leader`."""
    term: int
    expires_ms: int

    def valid_at(self, wall_ms: int) -> bool:
        return self.holder != NOBODY and self.expires_ms > wall_ms


class LeaseStore:
    """The lease for one elected service in the stack's lease table. `client` is a boto3 DynamoDB client."""

    def __init__(self, client: Any, *, table: str, name: str):
        self.client = client
        self.table = table
        self.name = name

    def read(self) -> Lease | None:
        """The current lease, strongly consistent (an eventually consistent read could be a second old)."""
        item = self.client.get_item(TableName=self.table, Key=self._key(), ConsistentRead=True).get("Item")
        if not item:
            return None
        return Lease(
            holder=item.get("holder", {}).get("S", NOBODY),
            address=item.get("address", {}).get("S", ""),
            term=int(item.get("term", {}).get("N", "0")),
            expires_ms=int(item.get("expires", {}).get("N", "0")),
        )

    def acquire(self, *, me: str, address: str, now_ms: int, ttl_ms: int) -> Lease:
        """Take a lease that is missing, released or expired; the term goes up by one."""
        return self._update(
            "SET #holder = :me, #address = :address, #expires = :expires, #term = if_not_exists(#term, :zero) + :one",
            ACQUIRE_IF,
            {":me": _s(me), ":address": _s(address), ":expires": _n(now_ms + ttl_ms), ":now": _n(now_ms)},
            {":zero": _n(0), ":one": _n(1)},
        )

    def renew(self, *, me: str, term: int, now_ms: int, ttl_ms: int) -> Lease:
        """Extend this task's own lease of this term."""
        return self._update(
            "SET #expires = :expires",
            OWN_TERM_IF,
            {":me": _s(me), ":term": _n(term), ":expires": _n(now_ms + ttl_ms)},
        )

    def hand_over(self, *, me: str, term: int, successor: str, address: str, now_ms: int, ttl_ms: int) -> Lease:
        """Give this task's lease to a named successor under a new term (a graceful stop)."""
        return self._update(
            "SET #holder = :successor, #address = :address, #expires = :expires, #term = #term + :one",
            OWN_TERM_IF,
            {
                ":me": _s(me),
                ":term": _n(term),
                ":successor": _s(successor),
                ":address": _s(address),
                ":expires": _n(now_ms + ttl_ms),
            },
            {":one": _n(1)},
        )

    def release(self, *, me: str, term: int) -> Lease:
        """Give the lease up so that any task may take it at once. The term stays, so the next one is higher."""
        return self._update(
            "SET #holder = :nobody, #address = :nobody, #expires = :zero",
            OWN_TERM_IF,
            {":me": _s(me), ":term": _n(term), ":nobody": _s(NOBODY)},
            {":zero": _n(0)},
        )

    def _key(self) -> dict[str, Any]:
        return {"name": _s(self.name)}

    def _update(
        self, update: str, condition: str, values: dict[str, Any], constants: dict[str, Any] | None = None
    ) -> Lease:
        names = {f"#{field}": field for field in ("name", "holder", "address", "term", "expires")}
        text = f"{update} {condition}"
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=self._key(),
                UpdateExpression=update,
                ConditionExpression=condition,
                # DynamoDB rejects names and values the expressions do not use.
                ExpressionAttributeNames={k: v for k, v in names.items() if k in text},
                ExpressionAttributeValues={**values, **(constants or {})},
                ReturnValues="ALL_NEW",
            )
        except Exception as error:
            if error_code(error) == "ConditionalCheckFailedException":
                raise LeaseLost(str(error)) from error
            raise
        item = answer["Attributes"]
        return Lease(
            holder=item["holder"]["S"],
            address=item["address"]["S"],
            term=int(item["term"]["N"]),
            expires_ms=int(item["expires"]["N"]),
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
