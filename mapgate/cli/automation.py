"""`mapgate up|preview|refresh|destroy|outputs`: the Pulumi Automation API on this project directory.

Needs the Pulumi CLI and AWS credentials at the user's end. Every failure a user can fix has its own exit
code and a message (on stderr) that says how; the engine's own output is streamed live. `-s` selects an existing
stack (`--create` makes one); `up` previews and asks first, as `pulumi up` does, and `destroy` asks for the name.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from pulumi import automation as auto

from mapgate import PROJECT
from mapgate.cli.known_warnings import explain
from mapgate.cli.preflight import BuilderError, check_image_builder
from mapgate.cli.terminal import Terminal, speaks_unicode
from mapgate.config.errors import StackFileError
from mapgate.config.source import read_stack_file

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_NO_CLI = 3
EXIT_NOT_LOGGED_IN = 4
EXIT_NO_AWS_CREDENTIALS = 5
EXIT_CONCURRENT_UPDATE = 6
EXIT_REFUSED = 7
EXIT_INVALID_CONFIG = 8
EXIT_NO_BUILDER = 9
EXIT_CANCELLED = 130

# Every exit code and what it means: the README's table and each command's --help are written from this.
EXIT_MEANINGS = {
    EXIT_OK: "done",
    EXIT_FAILED: "Pulumi failed, or `call` got no answer from the API (the message follows)",
    EXIT_USAGE: "bad arguments: an unknown option or stack, a bad KEY=VALUE, an --out that cannot be written",
    EXIT_NO_CLI: "the Pulumi CLI is not installed (the message says how to install it)",
    EXIT_NOT_LOGGED_IN: "not logged in to a backend (`pulumi login --local`, or `pulumi login`)",
    EXIT_NO_AWS_CREDENTIALS: "no usable AWS credentials",
    EXIT_CONCURRENT_UPDATE: "another update of the stack is in progress (`pulumi cancel` if it died)",
    EXIT_REFUSED: "`up`/`destroy` refused: no `--yes` and no terminal, or the answer was not yes (destroy: the name)",
    EXIT_INVALID_CONFIG: (
        "the stack file is not valid YAML, or (`plan`) the config has problems; nothing was created. `import`: the "
        "workspace is bad input; nothing was written"
    ),
    EXIT_NO_BUILDER: (
        "`up`/`preview`: Docker is missing, not running, or its builder cannot build a platform the stack needs"
    ),
    EXIT_CANCELLED: "cancelled with Ctrl-C; Pulumi stops after the steps in flight",
}
# Which of them each command can end with. Every command that opens a stack (after reading its file) can meet
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
    "import": (EXIT_OK, EXIT_USAGE, EXIT_INVALID_CONFIG),
}
# Engine operations that replace a resource: `up` lists them, in red on a terminal, before asking.
_REPLACING = {auto.OpType.REPLACE, auto.OpType.CREATE_REPLACEMENT}

# Messages that mean "no AWS credentials" from the AWS provider and SDK.
_AWS_CREDENTIAL_ERRORS = (
    "No valid credential sources found",
    "NoCredentialProviders",
    "failed to refresh cached credentials",
    "InvalidClientTokenId",
    "ExpiredToken",
    "could not find default credentials",
)
_NOT_LOGGED_IN = ("PULUMI_ACCESS_TOKEN", "pulumi login", "not logged in")


class OperatorError(Exception):
    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class StackLike(Protocol):
    """The part of `pulumi.automation.Stack` these commands use (a fake implements it in tests)."""

    name: str

    def get_config(self, key: str, *, path: bool = False) -> auto.ConfigValue: ...
    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None: ...
    def up(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def preview(
        self,
        *,
        on_output: Callable[[str], Any] | None = None,
        on_event: Callable[[auto.EngineEvent], Any] | None = None,
    ) -> Any: ...
    def refresh(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def destroy(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def outputs(self) -> Mapping[str, auto.OutputValue]: ...


StackFactory = Callable[[str, Path, bool], StackLike]
"""(stack, project directory, create it if missing) -> the stack."""


def open_stack(
    stack: str,
    work_dir: Path,
    create: bool,
    *,
    select: Callable[..., StackLike] = auto.select_stack,
    create_or_select: Callable[..., StackLike] = auto.create_or_select_stack,
    existing: Callable[[Path], list[str]] | None = None,
) -> StackLike:
    """Select `stack`; only with `create` make it when it does not exist (a typo must not become a new stack)."""
    if create:
        return create_or_select(stack_name=stack, work_dir=str(work_dir))
    try:
        return select(stack_name=stack, work_dir=str(work_dir))
    except auto.StackNotFoundError:
        names = (existing or backend_stacks)(work_dir)
        close = difflib.get_close_matches(stack, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise OperatorError(
            f"stack {stack!r} does not exist; {hint}stacks: {', '.join(names) or 'none yet'}. "
            "Pass --create to create it",
            EXIT_USAGE,
        ) from None


def backend_stacks(work_dir: Path) -> list[str]:
    """The project's stacks in the backend, or (if the backend cannot be asked) the stack files here."""
    try:
        return sorted(s.name for s in auto.LocalWorkspace(work_dir=str(work_dir)).list_stacks())
    except (auto.CommandError, FileNotFoundError):
        return stack_files(work_dir)


def stack_files(project_dir: Path) -> list[str]:
    """The stacks with a `Pulumi.<stack>.yaml` in the project directory."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in project_dir.glob("Pulumi.*.yaml"))


def classify(error: Exception, stack: str) -> OperatorError:
    """Turn what the CLI said into an error the user can act on."""
    if isinstance(error, FileNotFoundError):
        return OperatorError(
            "the Pulumi CLI is not installed (or not on PATH). Install it: "
            "`curl -fsSL https://get.pulumi.com | sh` or `brew install pulumi`, see https://www.pulumi.com/docs/install/",
            EXIT_NO_CLI,
        )
    if isinstance(error, auto.ConcurrentUpdateError):
        return OperatorError(
            f"another update of stack {stack} is in progress. Wait for it; if it died, run `pulumi cancel -s {stack}`",
            EXIT_CONCURRENT_UPDATE,
        )
    text = str(error)
    if any(marker in text for marker in _NOT_LOGGED_IN):
        return OperatorError(
            "not logged in to a Pulumi backend. For state in a local directory run `pulumi login --local` "
            "(and export PULUMI_CONFIG_PASSPHRASE); for Pulumi Cloud run `pulumi login`",
            EXIT_NOT_LOGGED_IN,
        )
    if any(marker in text for marker in _AWS_CREDENTIAL_ERRORS):
        return OperatorError(
            "no usable AWS credentials. Set AWS_PROFILE (after `aws sso login` if you use SSO) or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and aws:region in the stack config",
            EXIT_NO_AWS_CREDENTIALS,
        )
    return OperatorError(f"pulumi failed:\n{text}", EXIT_FAILED)


def parse_assignments(values: Sequence[str], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise OperatorError(f"{flag} expects key=value, got {value!r}", EXIT_USAGE)
        pairs.append((key if ":" in key else f"{PROJECT}:{key}", setting))
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


BuilderCheck = Callable[[Path, str], None]


def _bump_redeploy(stack: StackLike, services: Sequence[str], out: TextIO) -> dict[str, int]:
    """Raise each service's counter; returns the keys and their old values, to put back if `up` is declined."""
    old: dict[str, int] = {}
    for service in services:
        try:
            stack.get_config(f"{PROJECT}:services.{service}", path=True)
        except auto.CommandError:
            raise OperatorError(f"--redeploy: stack {stack.name} has no service {service!r}", EXIT_USAGE) from None
        key = f"{PROJECT}:services.{service}.redeploy"
        try:
            current = int(stack.get_config(key, path=True).value)
        except auto.CommandError:  # never raised before: the model's default
            current = 0
        stack.set_config(key, auto.ConfigValue(value=str(current + 1)), path=True)
        old.setdefault(key, current)
        out.write(
            f"redeploy: services.{service}.redeploy {current} -> {current + 1} in Pulumi.{stack.name}.yaml "
            "(commit it, or the next `up` rolls the tasks back to the old counter)\n"
        )
    return old


def _refuse_without_terminal(command: str, stack: str, stdin: TextIO) -> None:
    if not stdin.isatty():
        verb = "destroy" if command == "destroy" else "update"
        raise OperatorError(
            f"refusing to {verb} stack {stack} without --yes: there is no terminal to ask", EXIT_REFUSED
        )


def _confirm_destroy(stack: str, stdin: TextIO, out: TextIO) -> None:
    _refuse_without_terminal("destroy", stack, stdin)
    out.write(f"Destroy every resource of stack {stack}? Type the stack name to confirm: ")
    out.flush()
    if stdin.readline().strip() != stack:
        raise OperatorError(f"stack {stack} was not destroyed", EXIT_REFUSED)


def _print_outputs(outputs: Mapping[str, Any], out: TextIO) -> None:
    # The URLs first: they are what a user wants after `up`.
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


def _print_changes(result: Any, out: TextIO) -> None:
    summary = getattr(result, "summary", None)
    changes = getattr(summary, "resource_changes", None) or getattr(result, "change_summary", None) or {}
    # A preview's keys are OpType members, an update's plain strings.
    counted = sorted((getattr(kind, "value", kind), count) for kind, count in changes.items())
    shown = ", ".join(f"{count} {kind}" for kind, count in counted) or "no changes"
    out.write(f"resources: {shown}\n")


@dataclass
class Replacements:
    """Collects, from a preview's engine events, the resources it would replace and the keys that force it."""

    found: dict[str, list[str]] = field(default_factory=dict)

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None and pre.metadata.op in _REPLACING:
            self.found.setdefault(pre.metadata.urn, list(pre.metadata.keys or []))

    def lines(self, paint: Callable[[str], str]) -> list[str]:
        out = []
        for urn, keys in sorted(self.found.items()):
            why = f" (because of {', '.join(keys)})" if keys else ""
            out.append(paint(f"  replace {urn}{why}"))
        return out


def _confirm_update(
    stack: StackLike, preview: Any, replaced: Replacements, stdin: TextIO, out: TextIO, paint: Callable[[str], str]
) -> bool:
    """Show what the preview found and ask; True to go on."""
    _print_changes(preview, out)
    if replaced.found:
        out.write(paint(f"{len(replaced.found)} to replace: deleted and created again, new ids") + "\n")
        out.write("".join(line + "\n" for line in replaced.lines(paint)))
    out.write(f"Update stack {stack.name} with these changes? [y/N]: ")
    out.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def check_stack_file(work_dir: Path, stack: str) -> None:
    """A stack file the Pulumi CLI would reject stops here, with file:line:column (nothing opened yet)."""
    path = work_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return
    try:
        read_stack_file(path)
    except StackFileError as error:
        raise OperatorError(str(error), EXIT_INVALID_CONFIG) from None


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
    except OperatorError as error:
        err.write(f"error: {error}\n")
        return error.exit_code
    except (FileNotFoundError, auto.CommandError) as error:
        failure = classify(error, request.stack)
        err.write(f"error: {failure}\n")
        return failure.exit_code


def _run(
    request: Request, work_dir: Path, factory: StackFactory, stdin: TextIO, out: TextIO, builder_check: BuilderCheck
) -> int:
    assignments = parse_assignments(request.config, "--config")
    secrets = parse_assignments(request.secrets, "--secret")
    if request.redeploy and request.command != "up":
        raise OperatorError("--redeploy goes with up", EXIT_USAGE)
    if request.create and request.command not in ("up", "preview"):
        raise OperatorError("--create goes with up or preview", EXIT_USAGE)
    # Refusals come before anything is opened or written.
    if request.command == "destroy" and not request.yes:
        _confirm_destroy(request.stack, stdin, out)
    if request.command == "up" and not request.yes:
        _refuse_without_terminal("up", request.stack, stdin)
    check_stack_file(work_dir, request.stack)
    stack = factory(request.stack, work_dir, request.create)
    if request.command in ("up", "preview"):
        # After opening the stack (a missing Pulumi CLI is the first thing to fix), before changing anything.
        try:
            builder_check(work_dir, request.stack)
        except BuilderError as error:
            raise OperatorError(str(error), EXIT_NO_BUILDER) from None
    # Written to Pulumi.<stack>.yaml, as `pulumi config set` does: they stay after the run.
    for key, value in assignments:
        stack.set_config(key, auto.ConfigValue(value=value), path="." in key or "[" in key)
    for key, value in secrets:
        stack.set_config(key, auto.ConfigValue(value=value, secret=True), path="." in key or "[" in key)

    # The engine's own lines as they are, except in characters a non-UTF-8 stream cannot take.
    plain = Terminal(unicode=speaks_unicode(out))

    def stream(line: str) -> None:
        out.write(plain.fit(line if line.endswith("\n") else line + "\n"))
        meaning = explain(line)
        if meaning:
            out.write(f"  (mapgate: {meaning})\n")
        out.flush()

    raised = _bump_redeploy(stack, request.redeploy, out)
    if request.command == "outputs":
        _print_outputs(stack.outputs(), out)
        return EXIT_OK
    if request.command == "up" and not request.yes:
        replaced = Replacements()
        preview = stack.preview(on_output=stream, on_event=replaced)
        if not _confirm_update(stack, preview, replaced, stdin, out, Terminal.of(out).red):
            for key, before in raised.items():  # a declined redeploy must not roll the tasks at the next `up`
                stack.set_config(key, auto.ConfigValue(value=str(before)), path=True)
            kept = " (the --config/--secret values stay in the stack file)" if assignments or secrets else ""
            raise OperatorError(f"stack {stack.name} was not updated{kept}", EXIT_REFUSED)
    operation = {"up": stack.up, "preview": stack.preview, "refresh": stack.refresh, "destroy": stack.destroy}
    result = operation[request.command](on_output=stream)
    _print_changes(result, out)
    if request.command in ("up", "refresh"):
        _print_outputs(stack.outputs(), out)
    return EXIT_OK
