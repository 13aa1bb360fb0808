"""What `mapgate` prints and where: errors on stderr with the README's exit codes, lines that fit the terminal,
ASCII where the encoding has nothing else, and help that describes every command and its exit codes."""

from __future__ import annotations

import argparse
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mapgate.cli import automation
from mapgate.cli import main as cli
from mapgate.cli.automation import COMMAND_EXITS, EXIT_MEANINGS
from mapgate.cli.known_warnings import EXPLAINED
from mapgate.cli.main import main, parser
from mapgate.cli.plan import Plan, make_plan, render
from mapgate.cli.terminal import Terminal, plural, wrap
from tests.harness import ROOT, changed, with_prefix

README = (ROOT / "README.md").read_text()


def project(tmp_path: Path, stacks: dict[str, Any]) -> Path:
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name, config in stacks.items():
        text = config if isinstance(config, str) else yaml.safe_dump({"config": config})
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


def pulled(config: dict[str, Any]) -> dict[str, Any]:
    """A stack's config whose images are pulled, so that a copied project needs no app/ directory."""
    for svc in config["services"].values():
        svc["image"] = "public.ecr.aws/nginx/nginx:1.27"
    return with_prefix(config)


def test_a_yaml_error_is_one_error_on_stderr_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = project(tmp_path, {"dev": "config:\n  aws:region: us-east-1\n  mapgate:services:\n    app: [\n"})
    assert main(["plan", "--project-dir", str(where), "--out", str(tmp_path / "out")]) == automation.EXIT_INVALID_CONFIG
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == (
        "error: Pulumi.dev.yaml:4:11: expected the node content, but found '<stream end>' (while parsing a flow node)\n"
        "        app: [\n"
        "              ^\n"
    )


def test_config_findings_go_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = pulled(changed("dev", ["services", "app", "port"], 0))
    config["mapgat:logRetentionDays"] = 7
    where = project(tmp_path, {"dev": config})
    assert main(["plan", "--project-dir", str(where), "--out", str(tmp_path / "out")]) == automation.EXIT_INVALID_CONFIG
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "did you mean 'mapgate:logRetentionDays'?" in printed.err
    assert "services.app.port: 0" in printed.err


def test_an_unknown_stack_lists_the_stacks_that_exist(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-s", "prd", "--project-dir", str(ROOT)]) == automation.EXIT_USAGE
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == f"error: no stack file Pulumi.prd.yaml in {ROOT}; did you mean 'prod'? stacks: dev, prod\n"


def test_an_out_that_cannot_be_written_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["plan", "--project-dir", str(ROOT), "--out", str(blocker / "sub")]) == automation.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"error: --out {blocker / 'sub'}: cannot write ")
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--requests-millions", "-1", "must be 0 or more, got -1"),
        ("--log-gb", "-0.5", "must be 0 or more, got -0.5"),
        ("--nat-gb", "nan", "must be 0 or more, got nan"),
        ("--spot-discount", "1.5", "must be from 0 to below 1, got 1.5"),
        ("--spot-discount", "-0.1", "must be from 0 to below 1, got -0.1"),
    ],
)
def test_negative_usage_assumptions_are_rejected(
    flag: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["plan", flag, value])
    assert caught.value.code == automation.EXIT_USAGE
    assert f"argument {flag}: {message}" in capsys.readouterr().err


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_no_line_is_wider_than_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    screen = Tty()
    monkeypatch.setattr("sys.stdout", screen)
    assert main(["plan", "--project-dir", str(ROOT), "--out", str(tmp_path)]) == 0
    lines = screen.getvalue().splitlines()
    assert max(len(line) for line in lines) == 72
    # A tree line goes on under its own branch.
    # (the network's last child: its NAT instance's ingress rule, whose description wraps)
    at = next(i for i, line in enumerate(lines) if "network-nat-1-from_vpc  [vpc.SecurityGroupIngressRule]" in line)
    assert lines[at].startswith("│  └─ network-nat-1-from_vpc")
    assert lines[at + 1].startswith("│         ")


def test_into_a_file_lines_stay_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--project-dir", str(ROOT), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert any(len(line) > 150 for line in out.splitlines())  # nothing wrapped for a reader that is not a person


def test_wrapping_never_exceeds_the_width() -> None:
    line = "│  │  ├─ " + "word " * 40 + "x" * 90
    for width in (20, 33, 80):
        assert all(len(piece) <= width for piece in wrap(line, width))


def test_under_an_ascii_encoding_the_tree_is_ascii(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    monkeypatch.setattr("sys.stdout", stream)
    assert main(["plan", "--project-dir", str(ROOT), "--out", str(tmp_path)]) == 0
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert "|- network  [Network]" in text
    assert "|  |- network-vpc  [ec2.Vpc]  10.0.0.0/16 - DNS support True" in text
    assert "|  `- network-nat-1-from_vpc  [vpc.SecurityGroupIngressRule]" in text
    assert Terminal(unicode=False).fit("naïve → ok") == "na?ve > ok"


def test_counts_are_pluralized(tmp_path: Path) -> None:
    config = changed("dev", ["services", "worker", "desiredCount"], 1)
    config["services"]["worker"]["healthCheck"]["retries"] = 1
    where = project(tmp_path, {"dev": pulled(config)})
    text = render(make_plan(where, "dev"))
    assert "worker-service  [ecs.Service]  1 task · FARGATE_SPOT" in text
    assert "1 retry, start 15s" in text
    assert "3 tasks · FARGATE_SPOT" in text
    assert " 1 tasks" not in text
    assert [plural(1, "AZ"), plural(2, "AZ"), plural(3, "retry", "retries")] == ["1 AZ", "2 AZs", "3 retries"]


def test_a_missing_region_says_what_is_assumed(tmp_path: Path) -> None:
    config = pulled(changed("dev", ["logRetentionDays"], 7))
    config.pop("aws:region")
    text = render(make_plan(project(tmp_path, {"dev": config}), "dev"))
    assert text.startswith("stack dev in us-east-1 (assumed): ")
    assert (
        "  the stack file sets no aws:region, so this plan assumes us-east-1; `pulumi up` takes the region from "
        "AWS_REGION, AWS_DEFAULT_REGION or the AWS profile instead. Set it in Pulumi.dev.yaml"
    ) in text


def test_another_region_says_the_prices_are_us_east_1(tmp_path: Path) -> None:
    config = pulled(changed("dev", ["logRetentionDays"], 7)) | {"aws:region": "eu-west-1"}
    text = render(make_plan(project(tmp_path, {"dev": config}), "dev"))
    assert "  the cost uses us-east-1 prices; eu-west-1's differ" in text
    assert "prices: us-east-1 USD" in text


def test_the_failure_threshold_warning_is_explained_where_it_is_printed(dev_plan: Plan) -> None:
    text = render(dev_plan)
    at = text.index("  failure_threshold is deprecated:")
    explanation = text[at:].splitlines()[1]
    assert explanation.startswith("    (expected: mapgate sets failure_threshold=1 on purpose.")
    # The README's troubleshooting table names every warning the CLI explains.
    for marker in EXPLAINED:
        assert f"| Warning `{marker}` |" in README


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"mapgate {version('mapgate')}\n"


def _subcommands() -> dict[str, Any]:
    action = next(a for a in parser()._actions if a.dest == "command")
    assert isinstance(action.choices, dict)
    return dict(action.choices)


def test_every_subcommand_has_a_description_its_exit_codes_and_the_stack_default() -> None:
    commands = _subcommands()
    assert set(commands) == set(COMMAND_EXITS)
    for name, command in commands.items():
        text = command.format_help()
        assert command.description, name
        listed = [int(code) for code in re.findall(r"^\s+(\d+)  ", text.split("exit codes:\n")[1], re.M)]
        assert listed == sorted(COMMAND_EXITS[name]), name
        if any("--stack" in action.option_strings for action in command._actions):
            assert "(default: dev)" in text, name


def test_the_readme_exit_code_table_is_the_cli_s() -> None:
    table = dict(re.findall(r"^\| (\d+) \| (.+) \|$", README, re.M))
    assert {int(code): meaning for code, meaning in table.items()} == EXIT_MEANINGS


def test_the_readme_synopsis_names_every_flag() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `mapgate ")]
    for name, command in _subcommands().items():
        mine = [row for row in rows if re.match(rf"\| `mapgate [a-z|\\]*\b{name}\b", row)]
        assert mine, name
        for action in command._actions:
            spellings = set(action.option_strings) - {"-h", "--help", "--project-dir"}
            if spellings:
                assert any(re.search(rf"{flag}\b", row) for row in mine for flag in spellings), (name, spellings)
    assert cli.DEFAULT_STACK == "dev"


def test_the_readmes_command_table_names_every_option_of_every_command() -> None:
    table = README.split("## Operator CLI", 1)[1].split("\nCommon to the Automation API commands", 1)[0]
    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = [
        f"{name} {'/'.join(action.option_strings)}"
        for name, command in commands.items()
        for action in command._actions
        if action.option_strings
        and action.dest != "help"
        and not any(re.search(rf"{re.escape(o)}\b", table) for o in action.option_strings)
    ]
    assert missing == []


def test_outside_a_project_plan_says_so_and_names_project_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["plan", "-s", "dev"]) == automation.EXIT_USAGE
    error = capsys.readouterr().err
    assert f"no mapgate project here: no Pulumi.yaml in {tmp_path}" in error
    assert "--project-dir" in error
    assert list(tmp_path.iterdir()) == []  # planned nothing, wrote no out/
