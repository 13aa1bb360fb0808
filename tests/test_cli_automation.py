"""The Automation API commands against a fake stack: no Pulumi CLI here, so every path is driven by fakes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from mapgate import automation as api
from mapgate import errors
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
        # What a preview reports (None: the plain fake operation): a change summary and the steps behind it.
        self.preview_changes: dict[auto.OpType, int] | None = None
        self.preview_steps: list[tuple[str, auto.OpType, list[str]]] = []

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
        say = on_output or (lambda line: None)  # scripts may not listen; the CLI always does
        say(f"Previewing {name} (mapgate-{self.name})")
        if self.fail_with is not None:
            raise self.fail_with
        say("Resources:\n")
        changes = {"create": 48} if name == "up" else {"same": 48}
        return SimpleNamespace(summary=SimpleNamespace(resource_changes=changes), change_summary=changes)

    def up(self, *, on_output: Callable[[str], Any] | None = None) -> Any:
        return self._operation("up", on_output)

    def preview(
        self,
        *,
        on_output: Callable[[str], Any] | None = None,
        on_event: Callable[[auto.EngineEvent], Any] | None = None,
    ) -> Any:
        result = self._operation("preview", on_output)
        if self.preview_changes is None:
            return result
        # As the engine reports a preview: one pre-event per step, and a summary keyed by OpType.
        for urn, op, keys in self.preview_steps:
            metadata = auto.StepEventMetadata(op=op, urn=urn, type="t", provider="p", keys=keys)
            if on_event is not None:
                on_event(auto.EngineEvent(sequence=0, timestamp=0, resource_pre_event=auto.ResourcePreEvent(metadata)))
        return auto.PreviewResult(stdout="", stderr="", change_summary=self.preview_changes)

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


class Result(NamedTuple):
    code: int
    out: str
    err: str


class Harness:
    def __init__(self, fail_on_open: BaseException | None = None, fail_with: BaseException | None = None):
        self.fail_on_open = fail_on_open
        self.fail_with = fail_with
        self.stacks: list[FakeStack] = []
        self.opened: list[tuple[str, Path]] = []
        self.created: list[bool] = []
        self.prepare: Callable[[FakeStack], None] = lambda stack: None
        self.checked: list[tuple[Path, str]] = []
        self.builder_error: str | None = None

    def check(self, work_dir: Path, stack: str) -> None:
        from mapgate.cli.preflight import BuilderError

        self.checked.append((work_dir, stack))
        if self.builder_error:
            raise BuilderError(self.builder_error)

    def factory(self, stack: str, work_dir: Path, create: bool) -> FakeStack:
        self.opened.append((stack, work_dir))
        self.created.append(create)
        if self.fail_on_open is not None:
            raise self.fail_on_open
        self.stacks.append(FakeStack(stack, self.fail_with))
        self.prepare(self.stacks[-1])
        return self.stacks[-1]

    def run(self, request: Request, stdin: io.StringIO | None = None, work_dir: Path = ROOT) -> Result:
        out, err = io.StringIO(), io.StringIO()
        code = run(
            request,
            work_dir,
            factory=self.factory,
            stdin=stdin or io.StringIO(),
            out=out,
            err=err,
            builder_check=self.check,
        )
        return Result(code, out.getvalue(), err.getvalue())


class TerminalInput(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_up_streams_engine_output_then_summarises_and_prints_urls_first() -> None:
    h = Harness()
    code, out, err = h.run(Request("up", stack="prod", yes=True))
    assert (code, err) == (0, "")
    assert h.opened == [("prod", ROOT)]
    assert h.created == [False]  # selected, never created behind the user's back
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
    code, out, _ = h.run(Request(command))
    assert code == 0
    assert h.stacks[0].calls[0] == command
    assert "resources: 48 same" in out


def test_outputs_only_reads_outputs() -> None:
    h = Harness()
    code, out, _ = h.run(Request("outputs"))
    assert code == 0
    assert h.stacks[0].calls == ["outputs"]
    assert out.startswith("outputs:\n  apiUrl: https://x.example\n")


def test_config_and_secrets_are_written_to_the_stack_file_before_the_operation() -> None:
    """`--config` is `pulumi config set`: Stack.set_config writes Pulumi.<stack>.yaml, and nothing undoes it."""
    h = Harness()
    request = Request(
        "up",
        config=["logRetentionDays=30", "services.app.desiredCount=4", "aws:region=eu-west-1"],
        secrets=["apiToken=s3cret"],
        yes=True,
    )
    assert h.run(request).code == 0
    assert h.stacks[0].config == [
        ("mapgate:logRetentionDays", "30", False, False),
        ("mapgate:services.app.desiredCount", "4", False, True),
        ("aws:region", "eu-west-1", False, False),
        ("mapgate:apiToken", "s3cret", True, False),
    ]
    assert h.stacks[0].calls[0] == "up"
    assert h.stacks[0].stored["mapgate:logRetentionDays"] == "30"  # still there after the run


def test_malformed_config_is_a_usage_error_and_opens_nothing() -> None:
    h = Harness()
    code, out, err = h.run(Request("up", config=["novalue"], yes=True))
    assert code == automation.EXIT_USAGE
    assert (out, err) == ("", "error: --config expects key=value, got 'novalue'\n")
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
    result, out, err = h.run(Request("up", yes=True))
    assert result == code
    assert advice in err
    assert err.startswith("error: ")
    assert out == ""


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
    result, out, err = h.run(Request("up", yes=True))
    assert result == code
    assert out == "Previewing up (mapgate-dev)\n"  # output streamed until the failure
    assert advice in err


def test_ctrl_c_cancels_cleanly() -> None:
    h = Harness(fail_with=KeyboardInterrupt())
    code, _, err = h.run(Request("up", yes=True))
    assert code == automation.EXIT_CANCELLED == 130
    assert "cancelled" in err
    assert "mapgate refresh -s dev" in err


def test_destroy_without_yes_and_without_a_terminal_refuses() -> None:
    h = Harness()
    code, _, err = h.run(Request("destroy"), stdin=io.StringIO())
    assert code == automation.EXIT_REFUSED
    assert "without --yes" in err
    assert (h.stacks[0].calls, h.stacks[0].config) == ([], [])  # opened to check it exists, nothing run


def test_destroy_asks_and_needs_the_stack_name() -> None:
    h = Harness()
    code, out, _ = h.run(Request("destroy"), stdin=TerminalInput("yes\n"))
    assert code == automation.EXIT_REFUSED
    assert "Type the stack name to confirm" in out
    assert h.stacks[0].calls == []
    code = h.run(Request("destroy"), stdin=TerminalInput("dev\n")).code
    assert code == 0
    assert h.stacks[1].calls == ["destroy"]


def test_destroy_with_yes_does_not_ask() -> None:
    h = Harness()
    code, out, _ = h.run(Request("destroy", yes=True))
    assert code == 0
    assert "confirm" not in out


def _replacing(stack: FakeStack) -> None:
    link = "urn:pulumi:dev::mapgate::mapgate:api:HttpApi$aws:apigatewayv2/vpcLink:VpcLink::api-vpc-link"
    stack.preview_changes = {auto.OpType.UPDATE: 2, auto.OpType.REPLACE: 1, auto.OpType.SAME: 45}
    stack.preview_steps = [
        ("urn:pulumi:dev::mapgate::aws:ecs/service:Service::app-service", auto.OpType.UPDATE, []),
        (link, auto.OpType.REPLACE, ["subnetIds"]),
        (link, auto.OpType.CREATE_REPLACEMENT, ["subnetIds"]),
    ]


def test_up_previews_shows_the_replacements_and_asks_first() -> None:
    h = Harness()
    h.prepare = _replacing
    code, out, err = h.run(Request("up"), stdin=TerminalInput("y\n"))
    assert (code, err) == (0, "")
    assert h.stacks[0].calls == ["preview", "up", "outputs"]
    lines = out.splitlines()
    at = lines.index("resources: 1 replace, 45 same, 2 update")
    assert lines[at + 1 : at + 6] == [
        "1 to replace: deleted and created again, new ids",
        "  replace urn:pulumi:dev::mapgate::mapgate:api:HttpApi$aws:apigatewayv2/vpcLink:VpcLink::api-vpc-link"
        " (because of subnetIds)",
        # Before the question: the VPC link's replacement and what it costs users (issue 19, item 5).
        "these replacements interrupt traffic:",
        "  api-vpc-link is replaced: routes answer 5xx from the moment their integrations switch until the new VPC"
        " link is AVAILABLE (minutes (API Gateway provisions the link's network interfaces))",
        "Update stack dev with these changes? [y/N]: Previewing up (mapgate-dev)",
    ]


def test_up_does_not_call_an_update_in_place_disruptive() -> None:
    h = Harness()
    h.prepare = lambda stack: setattr(
        stack,
        "preview_steps",
        [("urn:pulumi:dev::mapgate::aws:ecs/service:Service::app-service", auto.OpType.UPDATE, [])],
    )
    code, out, _ = h.run(Request("up"), stdin=TerminalInput("y\n"))
    assert code == 0
    assert "interrupt traffic" not in out


class ColourTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_replacements_are_red_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    h = Harness()
    out = ColourTerminal()
    stack = FakeStack("dev")
    _replacing(stack)

    def factory(name: str, work_dir: Path, create: bool) -> FakeStack:
        return stack

    code = run(
        Request("up"),
        ROOT,
        factory=factory,
        stdin=TerminalInput("n\n"),
        out=out,
        err=io.StringIO(),
        builder_check=h.check,
    )
    assert code == automation.EXIT_REFUSED
    assert "\x1b[31m  replace urn:pulumi:dev::mapgate::mapgate:api:HttpApi" in out.getvalue()
    assert "\x1b[31m1 to replace" in out.getvalue()


def test_up_declined_changes_nothing_and_puts_the_redeploy_counter_back() -> None:
    h = Harness()
    h.prepare = _replacing
    code, _, err = h.run(Request("up", redeploy=["worker"]), stdin=TerminalInput("\n"))
    assert code == automation.EXIT_REFUSED
    assert err == "error: stack dev was not updated\n"
    stack = h.stacks[0]
    assert stack.calls == ["preview"]
    assert stack.stored["mapgate:services.worker.redeploy"] == "0"


def test_up_declined_says_the_config_it_wrote_stays() -> None:
    h = Harness()
    code, _, err = h.run(Request("up", config=["logRetentionDays=30"]), stdin=TerminalInput("no\n"))
    assert code == automation.EXIT_REFUSED
    assert "the --config/--secret values stay in the stack file" in err


def test_up_without_yes_and_without_a_terminal_refuses_before_writing_anything() -> None:
    h = Harness()
    code, out, err = h.run(Request("up", config=["logRetentionDays=30"], redeploy=["app"]), stdin=io.StringIO())
    assert code == automation.EXIT_REFUSED
    assert err == "error: refusing to update stack dev without --yes: there is no terminal to ask\n"
    assert out == ""
    assert (h.stacks[0].calls, h.stacks[0].config) == ([], [])
    assert h.checked == []  # nor asked Docker anything


def _no_such_stack(stack: str, work_dir: Path, create: bool) -> FakeStack:
    raise command_error(auto.StackNotFoundError, f"no stack named '{stack}' found")


@pytest.mark.parametrize("command", ["up", "destroy"])
def test_an_unknown_stack_without_a_terminal_is_no_such_stack_not_a_refusal(command: str) -> None:
    """Issue 23 item 8: the stack is checked before anyone is asked about it."""
    err = io.StringIO()
    code = run(
        Request(command, stack="nosuch"),
        ROOT,
        factory=lambda *a: automation.open_stack(
            *a, select=lambda **k: _no_such_stack(k["stack_name"], ROOT, False), existing=lambda _: ["dev", "prod"]
        ),
        stdin=io.StringIO(),
        out=io.StringIO(),
        err=err,
    )
    assert code == automation.EXIT_USAGE
    assert err.getvalue() == "error: stack 'nosuch' does not exist; stacks: dev, prod. Pass --create to create it\n"


def test_up_create_without_a_terminal_refuses_before_creating_the_stack() -> None:
    h = Harness()
    code, _, err = h.run(Request("up", stack="qa", create=True), stdin=io.StringIO())
    assert code == automation.EXIT_REFUSED
    assert "without --yes" in err
    assert h.opened == []


def test_a_typo_stack_is_not_created() -> None:
    def select(**kwargs: Any) -> FakeStack:
        raise command_error(auto.StackNotFoundError, "no stack named 'pord' found")

    def must_not_create(**kwargs: Any) -> FakeStack:
        raise AssertionError("created a stack")

    with pytest.raises(errors.UsageError) as caught:
        automation.open_stack(
            "pord", ROOT, False, select=select, create_or_select=must_not_create, existing=lambda _: ["dev", "prod"]
        )
    assert caught.value.exit_code == automation.EXIT_USAGE
    assert (
        str(caught.value)
        == "stack 'pord' does not exist; did you mean 'prod'? stacks: dev, prod. Pass --create to create it"
    )


def test_create_creates_and_select_selects() -> None:
    made: list[tuple[str, dict[str, Any]]] = []

    def recorder(kind: str) -> Callable[..., FakeStack]:
        def open_(**kwargs: Any) -> FakeStack:
            made.append((kind, kwargs))
            return FakeStack(kwargs["stack_name"])

        return open_

    automation.open_stack("qa", ROOT, True, select=recorder("select"), create_or_select=recorder("create"))
    automation.open_stack("dev", ROOT, False, select=recorder("select"), create_or_select=recorder("create"))
    assert made == [
        ("create", {"stack_name": "qa", "work_dir": str(ROOT)}),
        ("select", {"stack_name": "dev", "work_dir": str(ROOT)}),
    ]


def test_create_goes_with_up_and_preview_only() -> None:
    h = Harness()
    assert h.run(Request("preview", create=True)).code == 0
    assert h.created == [True]
    assert h.run(Request("destroy", create=True, yes=True)).code == automation.EXIT_USAGE


def test_without_a_backend_the_stack_files_are_the_list(tmp_path: Path) -> None:
    for name in ("prod", "dev"):
        (tmp_path / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    assert automation.stack_files(tmp_path) == ["dev", "prod"]


def test_a_broken_stack_file_stops_before_the_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text(
        "config:\n  mapgate:logRetentionDays: 7\n  mapgate:logRetentionDays: 14\n"
    )
    h = Harness()
    code, _, err = h.run(Request("preview"), work_dir=tmp_path)
    assert code == automation.EXIT_INVALID_CONFIG
    assert err.startswith("error: Pulumi.dev.yaml:3:3: duplicate key 'mapgate:logRetentionDays' (first at line 2)")
    assert h.opened == []


def test_known_engine_warnings_are_explained_in_the_live_output() -> None:
    h = Harness()
    warning = "warning: failure_threshold is deprecated: failure_threshold is deprecated. The argument is no longer"
    stack = FakeStack("dev")
    original = stack._operation

    def noisy(name: str, on_output: Callable[[str], Any] | None) -> Any:
        assert on_output is not None
        on_output(warning)
        return original(name, on_output)

    stack._operation = noisy  # type: ignore[method-assign]
    out = io.StringIO()
    run(Request("preview"), ROOT, factory=lambda *_: stack, out=out, err=io.StringIO(), builder_check=h.check)
    lines = out.getvalue().splitlines()
    assert lines[0] == warning
    assert lines[1].startswith("  (mapgate: expected: mapgate sets failure_threshold=1 on purpose.")


def test_argument_parsing() -> None:
    args = parser().parse_args(["up", "-s", "prod", "--config", "a=1", "--config", "b=2", "--secret", "c=3"])
    assert (args.command, args.stack, args.config, args.secret) == ("up", "prod", ["a=1", "b=2"], ["c=3"])
    assert parser().parse_args(["destroy", "--yes"]).yes is True
    assert parser().parse_args(["up", "--yes", "--create"]).create is True
    assert parser().parse_args(["outputs"]).stack == "dev"
    with pytest.raises(SystemExit) as missing:
        parser().parse_args([])
    assert missing.value.code == 2
    for wrong in (["outputs", "--yes"], ["refresh", "--create"], ["outputs", "--create"]):
        with pytest.raises(SystemExit):
            parser().parse_args(wrong)  # nothing to confirm or create there


def test_main_without_the_cli_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["preview", "--project-dir", str(ROOT)]) == automation.EXIT_NO_CLI
    printed = capsys.readouterr()
    assert "Pulumi CLI is not installed" in printed.err
    assert printed.out == ""


def test_redeploy_raises_the_counter_in_the_stack_config_before_up() -> None:
    h = Harness()
    code, out, _ = h.run(Request("up", redeploy=["worker"], yes=True))
    assert code == 0
    stack = h.stacks[0]
    assert stack.config == [("mapgate:services.worker.redeploy", "1", False, True)]
    assert stack.calls == ["up", "outputs"]
    assert "redeploy: services.worker.redeploy 0 -> 1 in Pulumi.dev.yaml" in out
    stack.stored["mapgate:services.worker.redeploy"] = "4"
    raised = api.Stack(stack, ROOT).redeploy(["worker", "worker"])
    assert raised == [api.Redeploy("worker", "mapgate:services.worker.redeploy", before=4, after=6)]
    assert stack.stored["mapgate:services.worker.redeploy"] == "6"


def test_redeploy_of_an_unknown_service_changes_nothing() -> None:
    h = Harness()
    code, _, err = h.run(Request("up", redeploy=["wroker"], yes=True))
    assert code == automation.EXIT_USAGE
    assert "has no service 'wroker'" in err
    assert h.stacks[0].config == []
    assert h.stacks[0].calls == []


def test_redeploy_only_goes_with_up() -> None:
    h = Harness()
    assert h.run(Request("preview", redeploy=["app"])).code == automation.EXIT_USAGE
    assert h.opened == []


def test_the_cli_passes_its_flags_through(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Request] = []

    def fake_run(request: Request, work_dir: Path) -> int:
        seen.append(request)
        return 0

    monkeypatch.setattr(automation, "run", fake_run)
    assert main(["up", "-s", "dev", "--redeploy", "app", "--redeploy", "worker", "--yes", "--create"]) == 0
    assert (seen[0].redeploy, seen[0].yes, seen[0].create) == (["app", "worker"], True, True)


@pytest.mark.parametrize(("command", "checked"), [("up", True), ("preview", True), ("refresh", False)])
def test_up_and_preview_check_the_image_builder_first(command: str, checked: bool) -> None:
    h = Harness()
    assert h.run(Request(command, yes=True)).code == 0
    assert h.checked == ([(ROOT, "dev")] if checked else [])


def test_a_builder_that_cannot_build_stops_before_the_engine() -> None:
    h = Harness()
    h.builder_error = "the Docker builder cannot build linux/arm64 for app"
    code, out, err = h.run(Request("up", yes=True))
    assert code == automation.EXIT_NO_BUILDER
    assert (out, err) == ("", "error: the Docker builder cannot build linux/arm64 for app\n")
    assert (h.stacks[0].calls, h.stacks[0].config) == ([], [])


def test_engine_output_survives_an_ascii_stream() -> None:
    h = Harness()
    stack = FakeStack("dev")
    original = stack._operation

    def fancy(name: str, on_output: Callable[[str], Any] | None) -> Any:
        assert on_output is not None
        on_output("    ├─ aws:ecs:Service  app-service  ~ update")
        return original(name, on_output)

    stack._operation = fancy  # type: ignore[method-assign]
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    code = run(Request("preview"), ROOT, factory=lambda *_: stack, out=out, err=io.StringIO(), builder_check=h.check)
    out.flush()
    assert code == 0
    assert raw.getvalue().decode("ascii").splitlines()[0] == "    |- aws:ecs:Service  app-service  ~ update"
