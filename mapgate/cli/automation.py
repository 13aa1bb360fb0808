"""`mapgate up|preview|refresh|destroy|outputs`: the CLI face of `mapgate.automation`.

Needs the Pulumi CLI and AWS credentials at the user's end. Everything that touches the stack is
`mapgate.automation`'s (the same API users' scripts import); this module parses, asks, and prints. Every failure is
a `mapgate.errors.MapgateError`, printed as one `error:` line with its exit code; the engine's own output is
streamed live. `-s` selects an existing stack (`--create` makes one); `up` previews and asks first, as `pulumi up`
does, and `destroy` asks for the name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from mapgate import automation as api
from mapgate.changes.impact import disruptive
from mapgate.cli.known_warnings import explain
from mapgate.cli.preflight import check_image_builder
from mapgate.cli.terminal import Terminal, speaks_unicode
from mapgate.errors import (
    EXIT_AWS_DENIED,
    EXIT_CANCELLED,
    EXIT_CONCURRENT_UPDATE,
    EXIT_FAILED,
    EXIT_INVALID_CONFIG,
    EXIT_MEANINGS,
    EXIT_NO_AWS_CREDENTIALS,
    EXIT_NO_BUILDER,
    EXIT_NO_CLI,
    EXIT_NOT_LOGGED_IN,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNHEALTHY,
    EXIT_USAGE,
    MapgateError,
    Refused,
    UsageError,
)

__all__ = ["COMMAND_EXITS", "EXIT_MEANINGS", "Request", "run", "stack_files"]

# Which exit codes each command can end with. Every command that opens a stack (after reading its file) can meet
# the first group; those that run the engine, the second.
_OPENS_A_STACK = (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NO_CLI, EXIT_NOT_LOGGED_IN, EXIT_INVALID_CONFIG)
_RUNS_THE_ENGINE = (EXIT_NO_AWS_CREDENTIALS, EXIT_CONCURRENT_UPDATE, EXIT_CANCELLED)
COMMAND_EXITS = {
    "plan": (EXIT_OK, EXIT_USAGE, EXIT_INVALID_CONFIG),
    "up": (*_OPENS_A_STACK, *_RUNS_THE_ENGINE, EXIT_REFUSED, EXIT_NO_BUILDER),
    "preview": (*_OPENS_A_STACK, *_RUNS_THE_ENGINE, EXIT_NO_BUILDER),
    "refresh": (*_OPENS_A_STACK, *_RUNS_THE_ENGINE),
    "destroy": (*_OPENS_A_STACK, *_RUNS_THE_ENGINE, EXIT_REFUSED),
    "outputs": _OPENS_A_STACK,
    "call": (*_OPENS_A_STACK, EXIT_NO_AWS_CREDENTIALS),
    "status": (*_OPENS_A_STACK, EXIT_NO_AWS_CREDENTIALS, EXIT_UNHEALTHY, EXIT_AWS_DENIED, EXIT_CANCELLED),
    "logs": (*_OPENS_A_STACK, EXIT_NO_AWS_CREDENTIALS, EXIT_AWS_DENIED, EXIT_CANCELLED),
    "import": (EXIT_OK, EXIT_USAGE, EXIT_INVALID_CONFIG),
}

# The API's names as this module has always offered them (main.py and tests look `open_stack` up here).
stack_files = api.stack_files
open_stack = api.open_engine_stack
StackFactory = api.EngineFactory
BuilderCheck = api.BuilderCheck


def parse_assignments(values: Sequence[str], flag: str) -> list[tuple[str, str]]:
    """`KEY=VALUE` strings as pairs (the namespace is added by `Stack.set_config`)."""
    pairs = []
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} expects key=value, got {value!r}")
        pairs.append((key, setting))
    return pairs


@dataclass
class Request:
    command: str
    stack: str = "dev"
    config: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    yes: bool = False
    redeploy: list[str] = field(default_factory=list)
    """`up` only: services whose tasks to roll, by raising their `redeploy` counter in the stack config."""
    create: bool = False
    """`up`/`preview`: create the stack when it does not exist (otherwise that is an error)."""


def _refuse_without_terminal(command: str, stack: str, stdin: TextIO) -> None:
    if not stdin.isatty():
        verb = "destroy" if command == "destroy" else "update"
        raise Refused(f"refusing to {verb} stack {stack} without --yes: there is no terminal to ask")


def _confirm_destroy(stack: str, stdin: TextIO, out: TextIO) -> None:
    _refuse_without_terminal("destroy", stack, stdin)
    out.write(f"Destroy every resource of stack {stack}? Type the stack name to confirm: ")
    out.flush()
    if stdin.readline().strip() != stack:
        raise Refused(f"stack {stack} was not destroyed")


def print_outputs(outputs: Mapping[str, Any], out: TextIO) -> None:
    """The outputs, URLs first (what a user wants after `up`), secrets masked."""
    order = ["apiUrl", "routeUrls", *sorted(k for k in outputs if k not in ("apiUrl", "routeUrls"))]
    out.write("outputs:\n")
    for key in order:
        if key not in outputs:
            continue
        value = outputs[key]
        shown = "[secret]" if getattr(value, "secret", False) else getattr(value, "value", value)
        if isinstance(shown, dict):
            out.write(f"  {key}:\n")
            for inner, item in shown.items():
                out.write(f"    {inner}: {item}\n")
        else:
            out.write(f"  {key}: {shown}\n")


def confirm_update(stack: str, preview: api.Preview, stdin: TextIO, out: TextIO, paint: Callable[[str], str]) -> bool:
    """The one place `up` asks: what the preview found (changes, then each replacement in red on a terminal),
    then `[y/N]`. True to go on."""
    out.write(f"resources: {preview.changes}\n")
    if preview.replacements:
        out.write(paint(f"{len(preview.replacements)} to replace: deleted and created again, new ids") + "\n")
        out.write("".join(paint(line) + "\n" for line in preview.replacement_lines()))
        costly = disruptive(preview.replacements)  # the VPC link, the namespace, Cloud Map services: what users lose
        if costly:
            out.write(paint("these replacements interrupt traffic:") + "\n")
            out.write("".join(paint(f"  {line}") + "\n" for line in costly))
    out.write(f"Update stack {stack} with these changes? [y/N]: ")
    out.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def run(
    request: Request,
    work_dir: Path,
    *,
    factory: StackFactory = open_stack,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    builder_check: BuilderCheck = check_image_builder,
) -> int:
    """Run one Automation API command; returns the process exit code. Errors go to `err`, the rest to `out`."""
    # Looked up now, not at import: callers (and tests) may have replaced them since.
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(request, work_dir, factory, stdin, out, builder_check)
    except KeyboardInterrupt:
        # The CLI child got the same Ctrl-C and stops after its in-flight steps; state stays consistent.
        err.write(
            f"\ncancelled: Pulumi stops after the steps in flight. Run `mapgate refresh -s {request.stack}` "
            "if you are unsure what changed.\n"
        )
        return EXIT_CANCELLED
    except MapgateError as error:
        err.write(f"error: {error}\n")
        return error.exit_code


def _run(
    request: Request, work_dir: Path, factory: StackFactory, stdin: TextIO, out: TextIO, builder_check: BuilderCheck
) -> int:
    assignments = parse_assignments(request.config, "--config")
    secrets = parse_assignments(request.secrets, "--secret")
    if request.redeploy and request.command != "up":
        raise UsageError("--redeploy goes with up")
    if request.create and request.command not in ("up", "preview"):
        raise UsageError("--create goes with up or preview")
    asks = request.command in ("up", "destroy") and not request.yes
    if asks and request.create:
        _refuse_without_terminal(request.command, request.stack, stdin)  # before the stack is created
    # The stack must exist before anyone is asked about it; nothing is written until the answer.
    stack = api.select_stack(
        request.stack, work_dir, create=request.create, engine=factory, builder_check=builder_check
    )
    if request.command == "destroy" and asks:
        _confirm_destroy(stack.name, stdin, out)
    if request.command == "up" and asks:
        _refuse_without_terminal("up", stack.name, stdin)
    if request.command in ("up", "preview"):
        stack.check_builder()  # before changing anything
    # Written to Pulumi.<stack>.yaml, as `pulumi config set` does: they stay after the run.
    stack.set_config(assignments)
    stack.set_config(secrets, secret=True)

    # The engine's own lines as they are, except in characters a non-UTF-8 stream cannot take.
    plain = Terminal(unicode=speaks_unicode(out))

    def stream(line: str) -> None:
        out.write(plain.fit(line if line.endswith("\n") else line + "\n"))
        meaning = explain(line)
        if meaning:
            out.write(f"  (mapgate: {meaning})\n")
        out.flush()

    raised = stack.redeploy(request.redeploy)
    for item in raised:
        out.write(
            f"redeploy: services.{item.service}.redeploy {item.before} -> {item.after} in Pulumi.{stack.name}.yaml "
            "(commit it, or the next `up` rolls the tasks back to the old counter)\n"
        )
    if request.command == "outputs":
        print_outputs(stack.outputs(), out)
        return EXIT_OK
    if request.command == "up" and not request.yes:
        preview = stack.preview(on_output=stream)
        if not confirm_update(stack.name, preview, stdin, out, Terminal.of(out).red):
            stack.undo_redeploy(raised)  # a declined redeploy must not roll the tasks at the next `up`
            kept = " (the --config/--secret values stay in the stack file)" if assignments or secrets else ""
            raise Refused(f"stack {stack.name} was not updated{kept}")
    if request.command == "up":
        # Asked (or --yes): every replacement the preview listed was accepted.
        changes = stack.up(allow_replacements=True, on_output=stream)
    elif request.command == "preview":
        changes = stack.preview(on_output=stream).changes
    elif request.command == "refresh":
        changes = stack.refresh(on_output=stream)
    else:
        changes = stack.destroy(on_output=stream)
    out.write(f"resources: {changes}\n")
    if request.command in ("up", "refresh"):
        print_outputs(stack.outputs(), out)
    return EXIT_OK
