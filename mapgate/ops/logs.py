"""`mapgate logs`: a service's CloudWatch log lines from all its tasks, merged by time, each with its task id.

The log group comes from the stack output `statusTargets`; every task writes its own stream, named by the awslogs
driver `<prefix>/<container>/<task id>` (mapgate sets prefix and container to the service's name), so the task id is
the stream name's last part and `--task ID` reads that one stream.

Reading is `FilterLogEvents` over the whole group, page by page (`nextToken`), sorted by timestamp across streams.
`--follow` then polls every `interval` seconds from a little before the newest line seen (late-ingested lines still
show), dropping the event ids already printed. Why polling and not `StartLiveTail`: a live-tail session is billed by
the minute for as long as it is open and samples its output above 500 events a second, while a poll every 2 s is
free and complete; one user's poll is far inside FilterLogEvents' per-account rate, and throttling backs off.
"""

from __future__ import annotations

import difflib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from botocore.exceptions import ClientError

from mapgate.errors import EXIT_OK, UsageError
from mapgate.ops.aws import Aws, aws_errors
from mapgate.ops.targets import StatusTargets

SINCE = re.compile(r"^(?P<count>\d+)(?P<unit>[smhd])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
FOLLOW_INTERVAL_SECONDS = 2.0
# How far back each poll looks again: a line can reach CloudWatch Logs after a later one from another task.
LATE_MS = 10_000
THROTTLED = frozenset({"ThrottlingException", "TooManyRequestsException"})
MAX_WAIT_SECONDS = 30.0


class Throttled(Exception):
    """FilterLogEvents said slow down (its rate is per account and Region, shared with every other reader)."""


def parse_since(text: str) -> int:
    """`10m`, `2h`, `30s`, `1d` -> seconds."""
    match = SINCE.match(text.strip())
    if not match:
        raise UsageError(f"--since {text!r}: give a number and a unit, as 30s, 10m, 2h or 1d")
    return int(match["count"]) * UNIT_SECONDS[match["unit"]]


@dataclass(frozen=True)
class LogLine:
    timestamp_ms: int
    task: str
    stream: str
    message: str
    event_id: str

    def text(self) -> str:
        when = datetime.fromtimestamp(self.timestamp_ms / 1000, UTC).isoformat(timespec="milliseconds")
        return f"{when.replace('+00:00', 'Z')} {self.task} {self.message.rstrip()}"


def service_target(targets: StatusTargets, service: str, stack: str) -> str:
    """The service's log group; an unknown service is a UsageError with the close names."""
    if service in targets.services:
        return targets.services[service].log_group
    close = difflib.get_close_matches(service, list(targets.services), n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise UsageError(f"stack {stack} has no service {service!r}; {hint}services: {', '.join(sorted(targets.services))}")


class LogReader:
    """FilterLogEvents on one log group (optionally one task's stream and a filter pattern), every page."""

    def __init__(
        self,
        aws: Aws,
        group: str,
        *,
        stream: str | None = None,
        pattern: str | None = None,
        page_size: int | None = None,
    ):
        self.aws = aws
        self.group = group
        self.stream = stream
        self.pattern = pattern
        self.page_size = page_size

    def fetch(self, start_ms: int) -> list[LogLine]:
        logs = self.aws.client("logs")
        request: dict[str, Any] = {"logGroupName": self.group, "startTime": start_ms}
        if self.stream:
            request["logStreamNames"] = [self.stream]
        if self.pattern:
            request["filterPattern"] = self.pattern
        if self.page_size:
            request["limit"] = self.page_size
        lines: list[LogLine] = []
        with aws_errors("logs"):
            try:
                while True:
                    page = logs.filter_log_events(**request)
                    lines += [_line(event) for event in page.get("events", [])]
                    if not page.get("nextToken"):
                        break
                    request["nextToken"] = page["nextToken"]
            except logs.exceptions.ResourceNotFoundException:
                raise UsageError(
                    f"log group {self.group} does not exist: the stack is not deployed, or no task has started"
                ) from None
            except ClientError as error:
                if str(error.response.get("Error", {}).get("Code")) in THROTTLED:
                    raise Throttled(str(error)) from None
                raise
        return sorted(lines, key=lambda line: (line.timestamp_ms, line.event_id))


def _line(event: Mapping[str, Any]) -> LogLine:
    stream = str(event.get("logStreamName", ""))
    return LogLine(
        timestamp_ms=int(event["timestamp"]),
        task=stream.rsplit("/", 1)[-1],
        stream=stream,
        message=str(event.get("message", "")),
        event_id=str(event.get("eventId", "")),
    )


def _print(lines: list[LogLine], out: TextIO, as_json: bool) -> None:
    for line in lines:
        out.write((json.dumps(asdict(line), sort_keys=True) if as_json else line.text()) + "\n")
    out.flush()


def show_logs(
    outputs: Mapping[str, Any],
    stack: str,
    service: str,
    out: TextIO,
    *,
    since_seconds: int = 600,
    follow: bool = False,
    task: str | None = None,
    pattern: str | None = None,
    as_json: bool = False,
    aws: Aws | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = FOLLOW_INTERVAL_SECONDS,
    rounds: int | None = None,
    page_size: int | None = None,
) -> int:
    """Print the service's lines since `since_seconds` ago; with `follow`, keep printing new ones until Ctrl-C
    (or `rounds` polls, for tests)."""
    targets = StatusTargets.parse(outputs, stack)
    group = service_target(targets, service, stack)
    region = outputs.get("region")
    aws = aws or Aws(str(getattr(region, "value", region) or ""))
    stream = f"{service}/{service}/{task}" if task else None
    reader = LogReader(aws, group, stream=stream, pattern=pattern, page_size=page_size)
    lines = reader.fetch(int((clock() - since_seconds) * 1000))
    _print(lines, out, as_json)
    if not follow:
        return EXIT_OK
    newest = lines[-1].timestamp_ms if lines else int((clock() - since_seconds) * 1000)
    window = {line.event_id: line.timestamp_ms for line in lines}  # printed, and still inside what a poll reads
    wait, polls = interval, 0
    try:
        while rounds is None or polls < rounds:
            sleep(wait)
            polls += 1
            try:
                batch = reader.fetch(newest - LATE_MS)
            except Throttled:
                wait = min(wait * 2, MAX_WAIT_SECONDS)  # back off, then come back to the normal pace
                continue
            wait = interval
            fresh = [line for line in batch if line.event_id not in window]
            _print(fresh, out, as_json)
            window |= {line.event_id: line.timestamp_ms for line in fresh}
            newest = max([newest, *window.values()])
            window = {event: ts for event, ts in window.items() if ts >= newest - LATE_MS}
    except KeyboardInterrupt:
        pass
    return EXIT_OK
