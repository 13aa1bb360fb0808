"""`mapgate.automation`, the API users' scripts import, on a fake Pulumi engine: same errors as the CLI."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from mapgate import automation as api
from mapgate import errors
from mapgate.cli import call as calling
from mapgate.cli.automation import Request, run
from mapgate.cli.main import parser
from tests.harness import ROOT
from tests.test_cli_automation import FakeStack, _replacing, command_error

LINK = "urn:pulumi:dev::mapgate::mapgate:api:HttpApi$aws:apigatewayv2/vpcLink:VpcLink::api-vpc-link"


def fake_engine(stacks: list[FakeStack], fail_with: BaseException | None = None) -> api.EngineFactory:
    def open_(stack: str, work_dir: Path, create: bool) -> FakeStack:
        stacks.append(FakeStack(stack, fail_with))
        return stacks[-1]

    return open_


def no_builder_check(work_dir: Path, stack: str) -> None:
    return None


def select(stacks: list[FakeStack], fail_with: BaseException | None = None) -> api.Stack:
    return api.select_stack("dev", ROOT, engine=fake_engine(stacks, fail_with), builder_check=no_builder_check)


def test_up_refuses_replacements_it_was_not_told_about_and_runs_nothing() -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    _replacing(stacks[0])
    with pytest.raises(errors.Refused) as caught:
        stack.up()
    assert caught.value.exit_code == errors.EXIT_REFUSED == 7
    assert str(caught.value).splitlines() == [
        "stack dev was not updated: it would replace 1 resource(s) not allowed "
        "(pass them in allow_replacements, or True for any):",
        f"  replace {LINK} (because of subnetIds)",
    ]
    assert stacks[0].calls == ["preview"]


@pytest.mark.parametrize("allowed", [[LINK], ["api-vpc-link"]])
def test_up_goes_on_when_every_replacement_is_listed(allowed: list[str]) -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    _replacing(stacks[0])
    assert str(stack.up(allow_replacements=allowed)) == "48 create"
    assert stacks[0].calls == ["preview", "up"]


def test_up_told_any_replacement_is_fine_does_not_preview() -> None:
    stacks: list[FakeStack] = []
    select(stacks).up(allow_replacements=True)
    assert stacks[0].calls == ["up"]


def test_preview_lists_replacements_and_counts() -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    _replacing(stacks[0])
    preview = stack.preview()
    assert preview.replacements == {LINK: ("subnetIds",)}
    assert dict(preview.changes.counts) == {"update": 2, "replace": 1, "same": 45}


def test_config_and_secrets_get_the_namespace_and_nested_paths() -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    stack.set_config({"services.app.desiredCount": "3", "aws:region": "eu-west-1"})
    stack.set_config([("apiToken", "s3cret")], secret=True)
    assert stacks[0].config == [
        ("mapgate:services.app.desiredCount", "3", False, True),
        ("aws:region", "eu-west-1", False, False),
        ("mapgate:apiToken", "s3cret", True, False),
    ]


def test_outputs_are_plain_values_with_their_secret_flag() -> None:
    stacks: list[FakeStack] = []
    outputs = select(stacks).outputs()
    assert outputs["apiUrl"] == api.Output("https://x.example", False)
    assert outputs["token"] == api.Output("hunter2", True)


FAILURES = [
    (FileNotFoundError(2, "No such file or directory", "pulumi"), errors.NoPulumiCli),
    (command_error(auto.CommandError, "error: PULUMI_ACCESS_TOKEN must be set"), errors.NotLoggedIn),
    (command_error(auto.CommandError, "error: No valid credential sources found"), errors.NoAwsCredentials),
    (command_error(auto.ConcurrentUpdateError, "error: the stack is currently locked"), errors.ConcurrentUpdate),
    (command_error(auto.CommandError, "error: creating ECS Service: InvalidParameterException"), errors.Failed),
]


@pytest.mark.parametrize(("failure", "kind"), FAILURES)
def test_engine_failures_are_the_cli_s_errors_with_the_same_message_and_code(
    failure: BaseException, kind: type[errors.MapgateError]
) -> None:
    stacks: list[FakeStack] = []
    with pytest.raises(kind) as caught:
        select(stacks, failure).up(allow_replacements=True)
    err = io.StringIO()
    code = run(
        Request("up", yes=True),
        ROOT,
        factory=fake_engine([], failure),
        stdin=io.StringIO(),
        out=io.StringIO(),
        err=err,
        builder_check=no_builder_check,
    )
    assert (code, err.getvalue()) == (caught.value.exit_code, f"error: {caught.value}\n")
    assert isinstance(caught.value.__cause__, type(failure))  # the SDK's own error stays reachable


def test_an_unknown_stack_is_a_usage_error_listing_the_stacks() -> None:
    def select_(**kwargs: Any) -> FakeStack:
        raise command_error(auto.StackNotFoundError, "no stack named 'pord' found")

    def engine(stack: str, work_dir: Path, create: bool) -> api.EngineStack:
        return api.open_engine_stack(stack, work_dir, create, select=select_, existing=lambda _: ["dev", "prod"])

    with pytest.raises(errors.UsageError, match=r"^stack 'pord' does not exist; did you mean 'prod'\?") as caught:
        api.select_stack("pord", ROOT, engine=engine)
    assert caught.value.exit_code == 2


def test_without_the_pulumi_cli_it_is_a_clear_error_not_the_sdk_s_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(errors.NoPulumiCli, match="the Pulumi CLI is not installed") as caught:
        api.select_stack("dev", ROOT)  # the real SDK, which needs the CLI
    assert caught.value.exit_code == errors.EXIT_NO_CLI


def test_a_broken_stack_file_is_invalid_config_before_the_engine(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  a: 1\n  a: 2\n")
    opened: list[FakeStack] = []
    with pytest.raises(errors.InvalidConfig, match=r"^Pulumi.dev.yaml:3:3: duplicate key"):
        api.select_stack("dev", tmp_path, engine=fake_engine(opened))
    assert opened == []


def test_outside_a_project_there_is_no_default_directory(tmp_path: Path) -> None:
    with pytest.raises(errors.UsageError, match="no Pulumi project"):
        api.project_dir(tmp_path)
    assert api.project_dir(ROOT / "mapgate") == ROOT


def test_redeploy_of_an_unknown_service_raises_nothing() -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    with pytest.raises(errors.UsageError, match="has no service 'wroker'"):
        stack.redeploy(["app", "wroker"])
    assert stacks[0].config == []


def test_call_sends_as_the_route_needs_and_returns_the_answers() -> None:
    stacks: list[FakeStack] = []
    stack = select(stacks)
    outputs = {
        "apiUrl": auto.OutputValue("https://x.example", False),
        "region": auto.OutputValue("eu-west-1", False),
        "routeAuthorization": auto.OutputValue({"GET /orders/{id}": "jwt"}, False),
    }
    stacks[0].outputs = lambda: outputs  # type: ignore[method-assign]
    sent: list[tuple[str, str, dict[str, str]]] = []

    def transport(method: str, url: str, headers: Any) -> calling.Answer:
        sent.append((method, url, dict(headers)))
        return calling.Answer(200, "OK", [], b"{}")

    result = stack.call("get", "/orders/7", token="t0k", repeat=2, transport=transport)
    assert (result.method, result.url, result.authorization) == ("GET", "https://x.example/orders/7", "jwt")
    assert [a.status for a in result.answers] == [200, 200]
    assert sent[0][2]["Authorization"] == "Bearer t0k"
    with pytest.raises(errors.MapgateError, match="needs a JWT") as caught:
        stack.call("GET", "/orders/7", transport=transport)
    assert caught.value.exit_code == errors.EXIT_USAGE


def test_call_usage_line_says_one_request(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 23 item 9: the usage line names one optional METHOD and one PATH, as the command accepts."""
    with pytest.raises(SystemExit):
        parser().parse_args(["call", "--help"])
    usage = capsys.readouterr().out.split("\n\n")[0]
    assert usage.endswith("[METHOD] PATH")
    assert "..." not in usage
    assert (parser().parse_args(["call", "/leader"]).method, parser().parse_args(["call", "/leader"]).path) == (
        "GET",
        "/leader",
    )
    assert parser().parse_args(["call", "POST", "/jobs"]).method == "POST"
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["call", "GET", "/a", "/b"])
    assert caught.value.code == 2
    assert "unrecognized arguments: /b" in capsys.readouterr().err
