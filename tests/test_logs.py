"""`mapgate logs` against moto's CloudWatch Logs: streams per task as the awslogs driver names them, pages,
`--follow` on an injected clock (no real sleeps), and the bad input."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from mapgate import errors
from mapgate.cli.main import main
from mapgate.ops import logs
from mapgate.ops.aws import Aws
from tests.ops_world import REGION, STACK, client, session

GROUP = "/mapgate/dev/app"
# An hour ago, on a whole minute: CloudWatch Logs (and moto) refuse events from the future or older than 14 days.
T0 = (int(time.time()) // 60 * 60 - 3600) * 1000
TASK_A, TASK_B = "a" * 32, "b" * 32
TARGETS = {
    "version": 1,
    "cluster": "mapgate-dev",
    "namespaceId": "ns-1",
    "vpcId": "vpc-1",
    "egress": "publicIp",
    "errorAlarm": None,
    "services": {
        name: {"ecsService": f"{name}-service", "cloudMapServiceId": f"srv-{name}", "logGroup": f"/mapgate/dev/{name}"}
        for name in ("app", "worker")
    },
    "routes": {},
}
OUTPUTS = {"region": REGION, "statusTargets": TARGETS}


@pytest.fixture
def group(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(logs, "Aws", lambda region: Aws(region, session()))
    with mock_aws():
        cw = client("logs")
        cw.create_log_group(logGroupName=GROUP)
        for task in (TASK_A, TASK_B):
            cw.create_log_stream(logGroupName=GROUP, logStreamName=f"app/app/{task}")
        yield cw


def put(cw: Any, task: str, *events: tuple[int, str]) -> None:
    cw.put_log_events(
        logGroupName=GROUP,
        logStreamName=f"app/app/{task}",
        logEvents=[{"timestamp": T0 + at, "message": message} for at, message in events],
    )


def stamp(at_ms: int) -> str:
    return datetime.fromtimestamp((T0 + at_ms) / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(**kwargs: Any) -> str:
    out = io.StringIO()
    kwargs.setdefault("clock", lambda: T0 / 1000 + 60)
    kwargs.setdefault("aws", Aws(REGION, session()))
    assert logs.show_logs(OUTPUTS, STACK, "app", out, **kwargs) == 0
    return out.getvalue()


def test_lines_of_all_tasks_merged_by_time_with_their_task_id(group: Any) -> None:
    put(group, TASK_A, (1_000, "a1 started"), (3_000, "a2 GET /leader"))
    put(group, TASK_B, (2_000, "b1 started"), (4_000, "b2 ERROR boom"))
    assert run(page_size=1).splitlines() == [  # one event a page: every page is read
        f"{stamp(1000)} {TASK_A} a1 started",
        f"{stamp(2000)} {TASK_B} b1 started",
        f"{stamp(3000)} {TASK_A} a2 GET /leader",
        f"{stamp(4000)} {TASK_B} b2 ERROR boom",
    ]


def test_since_task_filter_and_json(group: Any) -> None:
    put(group, TASK_A, (-700_000, "too old"), (1_000, "a1"), (3_000, "a2 ERROR x"))
    put(group, TASK_B, (2_000, "b1 ERROR y"))
    assert "too old" not in run(since_seconds=600)
    assert [line.split(" ", 2)[2] for line in run(task=TASK_A).splitlines()] == ["a1", "a2 ERROR x"]
    assert [line.split(" ", 2)[2] for line in run(pattern="ERROR").splitlines()] == ["b1 ERROR y", "a2 ERROR x"]
    first = json.loads(run(as_json=True).splitlines()[0])
    assert (first["task"], first["message"], first["timestamp_ms"]) == (TASK_A, "a1", T0 + 1_000)


def test_follow_prints_each_new_line_once_and_late_lines_too(group: Any) -> None:
    put(group, TASK_A, (1_000, "before"))
    arrivals = iter(
        [
            [(TASK_B, (2_000, "b arrives"))],
            [(TASK_A, (5_000, "a later")), (TASK_B, (4_500, "b late but newer than the last poll's start"))],
            [],
            [(TASK_B, (1_500, "b ingested 4 s late"))],  # older than the newest line, inside the look-back
        ]
    )
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        for task, event in next(arrivals):
            put(group, task, event)

    lines = run(follow=True, sleep=sleep, rounds=4).splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "before",
        "b arrives",
        "b late but newer than the last poll's start",
        "a later",
        "b ingested 4 s late",
    ]
    assert slept == [logs.FOLLOW_INTERVAL_SECONDS] * 4


def test_follow_backs_off_when_throttled(group: Any) -> None:
    aws = Aws(REGION, session())
    real = aws.client("logs")
    calls = {"n": 0}

    class Throttling:
        exceptions = real.exceptions

        def filter_log_events(self, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] in (2, 3):
                from botocore.exceptions import ClientError

                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "FilterLogEvents"
                )
            return real.filter_log_events(**kwargs)

    aws._clients["logs"] = Throttling()
    slept: list[float] = []
    run(follow=True, sleep=slept.append, rounds=4, aws=aws)
    assert slept == [2.0, 4.0, 8.0, 2.0]


def test_an_unknown_service_says_which_there_are(group: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert main(["logs", "--outputs", str(path), "wroker"]) == errors.EXIT_USAGE
    assert (
        capsys.readouterr().err
        == "error: stack dev has no service 'wroker'; did you mean 'worker'? services: app, worker\n"
    )


def test_a_missing_log_group_and_a_bad_since(group: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert main(["logs", "--outputs", str(path), "worker"]) == errors.EXIT_USAGE
    assert "log group /mapgate/dev/worker does not exist" in capsys.readouterr().err
    assert main(["logs", "--outputs", str(path), "app", "--since", "ten minutes"]) == errors.EXIT_USAGE
    assert "give a number and a unit, as 30s, 10m, 2h or 1d" in capsys.readouterr().err


def test_the_command_prints_the_lines(group: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    put(group, TASK_A, (int(time.time() * 1000) - T0 - 5_000, "recent line"))
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    assert main(["logs", "--outputs", str(path), "app", "--since", "1m"]) == 0
    assert capsys.readouterr().out.endswith(f" {TASK_A} recent line\n")


def test_scripts_read_the_same_lines_through_the_automation_api(group: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi import automation as auto

    from mapgate import automation
    from tests.harness import ROOT
    from tests.test_cli_automation import FakeStack

    class Deployed(FakeStack):
        def outputs(self) -> dict[str, auto.OutputValue]:
            return {key: auto.OutputValue(value, False) for key, value in OUTPUTS.items()}

    monkeypatch.setattr(automation, "Aws", lambda region: Aws(region, session()))
    now_ms = int(time.time() * 1000)
    put(group, TASK_B, (now_ms - T0 - 90_000, "older"), (now_ms - T0 - 1_000, "newest"))
    stack = automation.select_stack("dev", ROOT, engine=lambda name, work_dir, create: Deployed(name))
    assert [(line.task, line.message) for line in stack.logs("app", since_seconds=60)] == [(TASK_B, "newest")]
    with pytest.raises(errors.UsageError, match="did you mean 'app'"):
        stack.logs("ap")
