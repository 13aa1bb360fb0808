"""`mapgate`: plan offline, or drive a stack through the Pulumi Automation API."""

from __future__ import annotations

import argparse
import difflib
import importlib.metadata
import os
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mapgate import errors
from mapgate.changes.facts import FactsError
from mapgate.cli import automation
from mapgate.cli.automation import COMMAND_EXITS, EXIT_MEANINGS, stack_files
from mapgate.cli.cost import Usage
from mapgate.cli.terminal import Terminal
from mapgate.config.errors import StackFileError

if TYPE_CHECKING:
    from mapgate.cli.plan import Plan

DEFAULT_STACK = "dev"

Handler = Callable[[argparse.Namespace, Path], int]

AUTOMATION_COMMANDS = {
    "up": "preview, show the changes (replacements in red), ask, then create or update the stack's resources",
    "preview": "show what `up` would change",
    "refresh": "read the real state of the stack's resources",
    "destroy": "delete every resource of the stack (asks first unless --yes)",
    "outputs": "print the stack outputs",
}


def find_project_dir(start: Path | None = None) -> Path | None:
    """The directory with Pulumi.yaml: the current one or a parent; None outside a project (never the checkout
    this package was installed from, which would plan, and write next to, a project the user did not mean)."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    return None


HELP_WIDTH = 79


def exit_codes(codes: Sequence[int]) -> str:
    """A `--help` epilog: these exit codes and what each means."""
    lines = ["exit codes:"]
    for code in sorted(codes):
        lines += textwrap.wrap(
            EXIT_MEANINGS[code], HELP_WIDTH, initial_indent=f"  {code:>3}  ", subsequent_indent=" " * 7
        )
    return "\n".join(lines)


Subcommands = argparse._SubParsersAction  # what add_subparsers returns (argparse names it privately)


def _command(commands: Subcommands, name: str, summary: str, handler: Handler) -> argparse.ArgumentParser:
    """A subcommand with a description, its exit codes, `-s` and `--project-dir`; `handler` runs it."""
    command: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=textwrap.fill(summary[0].upper() + summary[1:] + ".", HELP_WIDTH),
        epilog=exit_codes(COMMAND_EXITS[name]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.set_defaults(handler=handler)
    command.add_argument(
        "-s", "--stack", default=DEFAULT_STACK, help="stack name, as in Pulumi.<stack>.yaml (default: %(default)s)"
    )
    command.add_argument(
        "--project-dir", type=Path, default=None, help="where Pulumi.yaml is (default: found upward from here)"
    )
    return command


def non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also rejects nan
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to below 1, got {text}")
    return value


def add_plan(commands: Subcommands) -> None:
    plan = _command(commands, "plan", "offline: resource tree, monthly cost, findings, architecture picture", run_plan)
    plan.add_argument("--out", type=Path, default=Path("out"), help="where the picture goes (default: out/)")
    plan.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the plan as JSON (docs/plan-json.md), e.g. for CI"
    )
    plan.add_argument(
        "--diff",
        type=Path,
        metavar="OLD.json",
        help="also print what changed since a plan written with --json: added, changed, replaced, deleted",
    )
    usage = plan.add_argument_group("usage assumptions for the cost (per month)")
    usage.add_argument(
        "--requests-millions", type=non_negative, default=Usage.api_requests_millions, help="API requests, millions"
    )
    usage.add_argument("--log-gb", type=non_negative, default=Usage.log_gb, help="log GB ingested")
    usage.add_argument("--nat-gb", type=non_negative, default=Usage.nat_gb, help="GB through NAT gateways")
    usage.add_argument(
        "--spot-discount",
        type=fraction,
        default=Usage.spot_discount,
        help="assumed Spot discount (0-1, AWS: up to 0.7)",
    )


def add_automation(commands: Subcommands) -> None:
    for name, summary in AUTOMATION_COMMANDS.items():
        command = _command(commands, name, summary + " (needs the Pulumi CLI and AWS credentials)", run_automation)
        if name != "outputs":
            command.add_argument(
                "--config",
                action="append",
                default=[],
                metavar="KEY=VALUE",
                help="write KEY=VALUE to Pulumi.<stack>.yaml first, as `pulumi config set` does (it stays there)",
            )
            command.add_argument(
                "--secret", action="append", default=[], metavar="KEY=VALUE", help="the same, encrypted"
            )
        if name in ("up", "destroy"):
            command.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal)")
        if name in ("up", "preview"):
            command.add_argument("--create", action="store_true", help="create the stack if it does not exist")
        if name == "up":
            command.add_argument(
                "--redeploy",
                action="append",
                default=[],
                metavar="SERVICE",
                help="roll this service's tasks with nothing else changed (raises services.SERVICE.redeploy)",
            )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="mapgate",
        description=__doc__,
        epilog=exit_codes(list(EXIT_MEANINGS)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {importlib.metadata.version('mapgate')}")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_plan(commands)
    add_automation(commands)
    add_call(commands)
    add_status(commands)
    add_logs(commands)
    add_import(commands)
    return top


def add_import(commands: Subcommands) -> None:
    from mapgate.importers.copilot import command

    summary = "turn another tool's project into mapgate stacks: `mapgate import copilot` reads an AWS Copilot workspace"
    codes = exit_codes(COMMAND_EXITS["import"])
    tools = commands.add_parser(
        "import",
        help=summary,
        description=textwrap.fill(summary[0].upper() + summary[1:] + ".", HELP_WIDTH),
        epilog=codes,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = tools.add_subparsers(dest="tool", required=True, metavar="TOOL")
    copilot = kinds.add_parser(
        "copilot",
        help="one Pulumi.<env>.yaml per Copilot environment, and MIGRATION-<app>.md naming where every key went",
        epilog=codes,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_arguments(copilot)
    copilot.add_argument("--project-dir", type=Path, default=None, help="where to write (default: found upward)")
    copilot.set_defaults(handler=command.main)


def _error(message: str) -> None:
    Terminal.of(sys.stderr).write(sys.stderr, f"error: {message}")


def unknown_stack(stack: str, project_dir: Path) -> str | None:
    """Why `stack` cannot be planned here, naming the stacks that can; None if its stack file exists."""
    if (project_dir / f"Pulumi.{stack}.yaml").is_file():
        return None
    names = stack_files(project_dir)
    close = difflib.get_close_matches(stack, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"no stack file Pulumi.{stack}.yaml in {project_dir}; {hint}stacks: {', '.join(names) or 'none'}"


def at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def add_call(commands: Subcommands) -> None:
    summary = (
        "send a request to the stack's API and print the answer; signed with SigV4 (your AWS credentials) or "
        "with a bearer token when its route needs it, as the stack output routeAuthorization says"
    )
    call = _command(commands, "call", summary, run_call)
    # One request: an optional method, then the path (argparse fills METHOD only when two are given).
    call.add_argument("method", nargs="?", default="GET", metavar="METHOD", help="HTTP method (default: GET)")
    call.add_argument("path", metavar="PATH", help="e.g. /leader")
    call.add_argument("--token", default=None, help="JWT for jwt routes (default: $MAPGATE_TOKEN)")
    call.add_argument(
        "--repeat", type=at_least_one, default=1, metavar="N", help="send N times and count which tasks answered"
    )


def run_call(args: argparse.Namespace, project_dir: Path) -> int:
    from mapgate import automation as api
    from mapgate.cli import call

    try:
        stack = api.select_stack(args.stack, project_dir, engine=automation.open_stack)
        result = stack.call(
            args.method, args.path, token=args.token or os.environ.get(call.TOKEN_VARIABLE), repeat=args.repeat
        )
    except errors.MapgateError as error:
        _error(str(error))
        return error.exit_code
    call.render(result.method, result.url, result.authorization, result.answers, sys.stdout)
    return errors.EXIT_OK


def add_status(commands: Subcommands) -> None:
    summary = (
        "what runs and whether it is healthy: tasks, Cloud Map instances, the leader lease against routing, what "
        "each route reaches now, NAT and the 5xx alarm (reads AWS with your credentials; exit 10 if anything is wrong)"
    )
    status = _command(commands, "status", summary, run_status)
    status.add_argument("--json", action="store_true", help="print the report as JSON (one object per line)")
    status.add_argument("--watch", type=positive, metavar="SECONDS", help="print it again every SECONDS until Ctrl-C")
    _outputs_option(status)


def add_logs(commands: Subcommands) -> None:
    summary = (
        "a service's log lines from all its tasks, merged by time, each with its task id "
        "(CloudWatch Logs, with your AWS credentials)"
    )
    logs = _command(commands, "logs", summary, run_logs)
    logs.add_argument("service", metavar="SERVICE", help="a service of the stack, as in mapgate:services")
    logs.add_argument("--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    logs.add_argument("--since", default="10m", help="how far back to start: 30s, 10m, 2h, 1d (default: %(default)s)")
    logs.add_argument("--task", metavar="ID", help="only this task's lines (its id, as status prints it)")
    logs.add_argument("--filter", metavar="PATTERN", help="a CloudWatch Logs filter pattern, e.g. ERROR or '\"GET /\"'")
    logs.add_argument("--json", action="store_true", help="one JSON object per line")
    _outputs_option(logs)


def _outputs_option(command: argparse.ArgumentParser) -> None:
    """`--outputs FILE`, which `stack_outputs` reads: status and logs run in CI without the Pulumi CLI."""
    command.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="read the stack outputs from FILE (`pulumi stack output --json --show-secrets`), not from Pulumi",
    )


def run_logs(args: argparse.Namespace, project_dir: Path) -> int:
    from mapgate.ops import logs

    try:
        since = logs.parse_since(args.since)
        outputs = stack_outputs(args, project_dir)
        return logs.show_logs(
            outputs,
            args.stack,
            args.service,
            sys.stdout,
            since_seconds=since,
            follow=args.follow,
            task=args.task,
            pattern=args.filter,
            as_json=args.json,
        )
    except errors.MapgateError as error:
        _error(str(error))
        return error.exit_code
    except KeyboardInterrupt:  # before --follow, which ends on Ctrl-C with 0
        return errors.EXIT_CANCELLED


def positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def stack_outputs(args: argparse.Namespace, project_dir: Path) -> Mapping[str, Any]:
    """The stack outputs: from --outputs FILE, or through the Automation API (which needs the Pulumi CLI)."""
    from mapgate import automation as api
    from mapgate.ops.status import read_outputs_file

    if getattr(args, "outputs", None):
        return read_outputs_file(args.outputs)
    return api.select_stack(args.stack, project_dir, engine=automation.open_stack).outputs()


def run_status(args: argparse.Namespace, project_dir: Path) -> int:
    from mapgate.ops import status

    try:
        outputs = stack_outputs(args, project_dir)
        return status.show(outputs, args.stack, sys.stdout, as_json=args.json, watch=args.watch)
    except errors.MapgateError as error:
        _error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        return errors.EXIT_CANCELLED


def run_plan(args: argparse.Namespace, project_dir: Path) -> int:
    from mapgate.cli.diagram import mermaid, topology, write_pictures
    from mapgate.cli.plan import make_plan, render

    missing = unknown_stack(args.stack, project_dir)
    if missing:
        _error(missing)
        return automation.EXIT_USAGE
    usage = Usage(
        api_requests_millions=args.requests_millions,
        log_gb=args.log_gb,
        nat_gb=args.nat_gb,
        spot_discount=args.spot_discount,
    )
    try:
        plan = make_plan(project_dir, args.stack, usage)
    except (StackFileError, FactsError) as error:
        _error(str(error))
        return automation.EXIT_INVALID_CONFIG
    if not plan.ok:
        Terminal.of(sys.stderr).write(sys.stderr, render(plan))
        return automation.EXIT_INVALID_CONFIG
    terminal = Terminal.of(sys.stdout)
    terminal.write(sys.stdout, render(plan))
    assert plan.inventory is not None  # a plan without findings has read its run
    topo = topology(plan.inventory, args.stack)
    text = args.out / f"{args.stack}.mmd"
    try:
        pictures, vectors = write_pictures(topo, args.out, args.stack)
        text.write_text(mermaid(topo))
    except OSError as error:
        _error(f"--out {args.out}: cannot write {error.filename or args.out}: {error.strerror or error}")
        return automation.EXIT_USAGE
    more = (
        f" ({len(pictures)} pages: {args.stack}.*, {args.stack}-2.* ... -{len(pictures)}.*)"
        if len(pictures) > 1
        else ""
    )
    terminal.write(sys.stdout, f"picture: {pictures[0]}  svg: {vectors[0]}{more}  mermaid: {text}")
    return write_and_compare(plan, args, terminal)


def write_and_compare(plan: Plan, args: argparse.Namespace, terminal: Terminal) -> int:
    """`--json` and `--diff`: the plan as data, and the change since an earlier one."""
    from mapgate.cli import plan_json
    from mapgate.cli.plan import diff_warnings

    try:
        old = plan_json.read(args.diff) if args.diff else None
    except plan_json.PlanFileError as error:
        _error(str(error))
        return automation.EXIT_USAGE
    if not (args.json or old):
        return automation.EXIT_OK
    current = plan_json.document(plan)  # built once, only when asked for: it copies every resource's inputs
    if args.json:
        try:
            plan_json.write(current, args.json)
        except OSError as error:
            _error(f"--json {args.json}: cannot write: {error.strerror or error}")
            return automation.EXIT_USAGE
        terminal.write(sys.stdout, f"plan: {args.json}")
    if old is not None:
        for warning in diff_warnings(old, current):
            terminal.write(sys.stdout, warning)
        diff = plan_json.compare(old, current, plan.facts)
        terminal.write(sys.stdout, plan_json.render_diff(diff, old=str(args.diff), new="this plan"))
        if diff.analysis.collisions:  # `up` would stop part-way: refuse, as for invalid config
            return automation.EXIT_INVALID_CONFIG
    return automation.EXIT_OK


def run_automation(args: argparse.Namespace, project_dir: Path) -> int:
    request = automation.Request(
        command=args.command,
        stack=args.stack,
        config=getattr(args, "config", []),
        secrets=getattr(args, "secret", []),
        yes=getattr(args, "yes", False),
        redeploy=getattr(args, "redeploy", []),
        create=getattr(args, "create", False),
    )
    return automation.run(request, project_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    project_dir = args.project_dir or find_project_dir()
    if project_dir is None:
        _error(
            f"no mapgate project here: no Pulumi.yaml in {Path.cwd()} or a directory above it. Run mapgate inside "
            "the project, or name it with --project-dir DIR"
        )
        return automation.EXIT_USAGE
    project_dir = project_dir.resolve()
    handler: Handler = args.handler
    return handler(args, project_dir)


def entry_point() -> int:
    """The `mapgate` script: `main`, and quiet when its reader goes away (`mapgate plan | head`)."""
    try:
        return main()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit; point it at nothing first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(entry_point())
