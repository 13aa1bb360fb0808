"""The Automation API commands against a fake stack: no Pulumi CLI here, so every path is driven by fakes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from mapgate.cli import automation
from mapgate.cli.automation import Request, run
from mapgate.cli.main import main, parser
from tests.harness import ROOT


class FakeStack:
    """Records what the commands ask for; streams fixed engine output; can be told to fail."""

    def __init__(self, name: str, fail_with: BaseException | None = None):
        self.name = name
        self.fail_with = fail_with
        self.config: list[tuple[str, str, bool, bool]] = []
        self.calls: list[str] = []
        # What Pulumi.<stack>.yaml holds, as `pulumi config get --path` reads it.
        self.stored: dict[str, str] = {"mapgate:services.app": "{}", "mapgate:services.worker": "{}"}

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self.config.append((key, value.value, value.secret, path))
        self.stored[key] = value.value

    def get_config(self, key: str, *, path: bool = False) -> auto.ConfigValue:
        assert path
        if key in self.stored:
            return auto.ConfigValue(value=self.stored[key])
        raise command_error(auto.CommandError, f"configuration key '{key}' not found for stack '{self.name}'")

    def _operation(self, name: str, on_output: Callable[[str], Any] | None) -> Any:
        self.calls.append(name)
        assert on_output is not None
        on_output(f"Previewing {name} (mapgate-{self.name})")
        if self.fail_with is not None:
            raise self.fail_with
        on_output("Resources:\n")
        changes = {"create": 48} if name == "up" else {"same": 48}
        return SimpleNamespace(summary=SimpleNamespace(resource_changes=changes), change_summary=changes)

    def up(self, *, on_output: Callable[[str], Any] | None = None) -> Any:
        return self._operation("up", on_output)

    def preview(self, *, on_output: Callable[[str], Any] | None = None) -> Any:
        return self._operation("preview", on_output)

    def refresh(self, *, on_output: Callable[[str], Any] | None = None) -> Any:
        return self._operation("refresh", on_output)

    def destroy(self, *, on_output: Callable[[str], Any] | None = None) -> Any:
        return self._operation("destroy", on_output)

    def outputs(self) -> dict[str, auto.OutputValue]:
        self.calls.append("outputs")
        return {
            "vpcId": auto.OutputValue("vpc-1", False),
            "routeUrls": auto.OutputValue({"GET /leader": "https://x.example/leader"}, False),
            "apiUrl": auto.OutputValue("https://x.example", False),
            "token": auto.OutputValue("hunter2", True),
        }


def command_error(kind: type[auto.CommandError], stderr: str) -> auto.CommandError:
    return kind(CommandResult(stdout="", stderr=stderr, code=255))


class Harness:
    def __init__(self, fail_on_open: BaseException | None = None, fail_with: BaseException | None = None):
        self.fail_on_open = fail_on_open
        self.fail_with = fail_with
        self.stacks: list[FakeStack] = []
        self.opened: list[tuple[str, Path]] = []
        self.checked: list[tuple[Path, str]] = []
        self.builder_error: str | None = None

    def check(self, work_dir: Path, stack: str) -> None:
        from mapgate.cli.preflight import BuilderError

        self.checked.append((work_dir, stack))
        if self.builder_error:
            raise BuilderError(self.builder_error)

    def factory(self, stack: str, work_dir: Path) -> FakeStack:
        self.opened.append((stack, work_dir))
        if self.fail_on_open is not None:
            raise self.fail_on_open
        self.stacks.append(FakeStack(stack, self.fail_with))
        return self.stacks[-1]

    def run(self, request: Request, stdin: io.StringIO | None = None) -> tuple[int, str]:
        out = io.StringIO()
        code = run(request, ROOT, factory=self.factory, stdin=stdin or io.StringIO(), out=out, builder_check=self.check)
        return code, out.getvalue()


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_up_streams_engine_output_then_summarises_and_prints_urls_first() -> None:
    h = Harness()
    code, out = h.run(Request("up", stack="prod"))
    assert code == 0
    assert h.opened == [("prod", ROOT)]
    lines = out.splitlines()
    assert lines[:2] == ["Previewing up (mapgate-prod)", "Resources:"]
    assert lines[2] == "resources: 48 create"
    assert lines[3:] == [
        "outputs:",
        "  apiUrl: https://x.example",
        "  routeUrls:",
        "    GET /leader: https://x.example/leader",
        "  token: [secret]",
        "  vpcId: vpc-1",
    ]


@pytest.mark.parametrize("command", ["preview", "refresh"])
def test_other_commands_run_their_operation(command: str) -> None:
    h = Harness()
    code, out = h.run(Request(command))
    assert code == 0
    assert h.stacks[0].calls[0] == command
    assert "resources: 48 same" in out


def test_outputs_only_reads_outputs() -> None:
    h = Harness()
    code, out = h.run(Request("outputs"))
    assert code == 0
    assert h.stacks[0].calls == ["outputs"]
    assert out.startswith("outputs:\n  apiUrl: https://x.example\n")


def test_config_and_secrets_are_set_before_the_operation() -> None:
    h = Harness()
    request = Request(
        "up",
        config=["logRetentionDays=30", "services.app.desiredCount=4", "aws:region=eu-west-1"],
        secrets=["apiToken=s3cret"],
    )
    assert h.run(request)[0] == 0
    assert h.stacks[0].config == [
        ("mapgate:logRetentionDays", "30", False, False),
        ("mapgate:services.app.desiredCount", "4", False, True),
        ("aws:region", "eu-west-1", False, False),
        ("mapgate:apiToken", "s3cret", True, False),
    ]
    assert h.stacks[0].calls[0] == "up"


def test_malformed_config_is_a_usage_error_and_opens_nothing() -> None:
    h = Harness()
    code, out = h.run(Request("up", config=["novalue"]))
    assert code == automation.EXIT_USAGE
    assert "--config expects key=value, got 'novalue'" in out
    assert h.opened == []


@pytest.mark.parametrize(
    ("failure", "code", "advice"),
    [
        (FileNotFoundError(2, "No such file or directory", "pulumi"), automation.EXIT_NO_CLI, "get.pulumi.com"),
        (
            command_error(auto.CommandError, "error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive"),
            automation.EXIT_NOT_LOGGED_IN,
            "pulumi login --local",
        ),
    ],
)
def test_errors_when_opening_the_stack(failure: BaseException, code: int, advice: str) -> None:
    h = Harness(fail_on_open=failure)
    result, out = h.run(Request("up"))
    assert result == code
    assert advice in out
    assert out.startswith("error: ")


@pytest.mark.parametrize(
    ("failure", "code", "advice"),
    [
        (
            command_error(auto.CommandError, "error: No valid credential sources found for AWS Provider."),
            automation.EXIT_NO_AWS_CREDENTIALS,
            "AWS_PROFILE",
        ),
        (
            command_error(auto.ConcurrentUpdateError, "error: the stack is currently locked by 1 lock(s)"),
            automation.EXIT_CONCURRENT_UPDATE,
            "pulumi cancel -s dev",
        ),
        (
            command_error(auto.CommandError, "error: update failed: creating ECS Service: InvalidParameterException"),
            automation.EXIT_FAILED,
            "InvalidParameterException",
        ),
    ],
)
def test_errors_during_the_operation(failure: BaseException, code: int, advice: str) -> None:
    h = Harness(fail_with=failure)
    result, out = h.run(Request("up"))
    assert result == code
    assert out.startswith("Previewing up")  # output streamed until the failure
    assert advice in out


def test_ctrl_c_cancels_cleanly() -> None:
    h = Harness(fail_with=KeyboardInterrupt())
    code, out = h.run(Request("up"))
    assert code == automation.EXIT_CANCELLED == 130
    assert "cancelled" in out
    assert "mapgate refresh -s dev" in out


def test_destroy_without_yes_and_without_a_terminal_refuses() -> None:
    h = Harness()
    code, out = h.run(Request("destroy"), stdin=io.StringIO())
    assert code == automation.EXIT_REFUSED
    assert "without --yes" in out
    assert h.opened == []


def test_destroy_asks_and_needs_the_stack_name() -> None:
    h = Harness()
    code, out = h.run(Request("destroy"), stdin=TerminalInput("yes\n"))
    assert code == automation.EXIT_REFUSED
    assert "Type the stack name to confirm" in out
    assert h.opened == []
    code, _ = h.run(Request("destroy"), stdin=TerminalInput("dev\n"))
    assert code == 0
    assert h.stacks[0].calls == ["destroy"]


def test_destroy_with_yes_does_not_ask() -> None:
    h = Harness()
    code, out = h.run(Request("destroy", yes=True))
    assert code == 0
    assert "confirm" not in out


def test_argument_parsing() -> None:
    args = parser().parse_args(["up", "-s", "prod", "--config", "a=1", "--config", "b=2", "--secret", "c=3"])
    assert (args.command, args.stack, args.config, args.secret) == ("up", "prod", ["a=1", "b=2"], ["c=3"])
    assert parser().parse_args(["destroy", "--yes"]).yes is True
    assert parser().parse_args(["outputs"]).stack == "dev"
    with pytest.raises(SystemExit) as missing:
        parser().parse_args([])
    assert missing.value.code == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["outputs", "--yes"])  # nothing to confirm there


def test_main_without_the_cli_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["preview", "--project-dir", str(ROOT)]) == automation.EXIT_NO_CLI
    assert "Pulumi CLI is not installed" in capsys.readouterr().out


def test_redeploy_raises_the_counter_in_the_stack_config_before_up() -> None:
    h = Harness()
    code, out = h.run(Request("up", redeploy=["worker"]))
    assert code == 0
    stack = h.stacks[0]
    assert stack.config == [("mapgate:services.worker.redeploy", "1", False, True)]
    assert stack.calls == ["up", "outputs"]
    assert "redeploy: services.worker.redeploy 0 -> 1 in Pulumi.dev.yaml" in out
    stack.stored["mapgate:services.worker.redeploy"] = "4"
    from mapgate.cli.automation import _bump_redeploy

    _bump_redeploy(stack, ["worker"], io.StringIO())
    assert stack.stored["mapgate:services.worker.redeploy"] == "5"


def test_redeploy_of_an_unknown_service_changes_nothing() -> None:
    h = Harness()
    code, out = h.run(Request("up", redeploy=["wroker"]))
    assert code == automation.EXIT_USAGE
    assert "has no service 'wroker'" in out
    assert h.stacks[0].config == []
    assert h.stacks[0].calls == []


def test_redeploy_only_goes_with_up() -> None:
    h = Harness()
    assert h.run(Request("preview", redeploy=["app"]))[0] == automation.EXIT_USAGE
    assert h.opened == []


def test_the_cli_passes_redeploy_through(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Request] = []

    def fake_run(request: Request, work_dir: Path) -> int:
        seen.append(request)
        return 0

    monkeypatch.setattr(automation, "run", fake_run)
    assert main(["up", "-s", "dev", "--redeploy", "app", "--redeploy", "worker"]) == 0
    assert seen[0].redeploy == ["app", "worker"]


@pytest.mark.parametrize(("command", "checked"), [("up", True), ("preview", True), ("refresh", False)])
def test_up_and_preview_check_the_image_builder_first(command: str, checked: bool) -> None:
    h = Harness()
    assert h.run(Request(command))[0] == 0
    assert h.checked == ([(ROOT, "dev")] if checked else [])


def test_a_builder_that_cannot_build_stops_before_the_engine() -> None:
    h = Harness()
    h.builder_error = "the Docker builder cannot build linux/arm64 for app"
    code, out = h.run(Request("up"))
    assert code == automation.EXIT_NO_BUILDER
    assert out == "error: the Docker builder cannot build linux/arm64 for app\n"
    assert (h.stacks[0].calls, h.stacks[0].config) == ([], [])
