"""`mapgate up|preview|refresh|destroy|outputs`: the Pulumi Automation API on this project directory.

Needs the Pulumi CLI and AWS credentials at the user's end. Every failure a user can fix has its own exit
code and a message that says how; the engine's own output is streamed live.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from pulumi import automation as auto

from mapgate import PROJECT
from mapgate.cli.preflight import BuilderError, check_image_builder

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
    def preview(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def refresh(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def destroy(self, *, on_output: Callable[[str], Any] | None = None) -> Any: ...
    def outputs(self) -> Mapping[str, auto.OutputValue]: ...


StackFactory = Callable[[str, Path], StackLike]


def create_or_select(stack: str, work_dir: Path) -> StackLike:
    return auto.create_or_select_stack(stack_name=stack, work_dir=str(work_dir))


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


BuilderCheck = Callable[[Path, str], None]


def _bump_redeploy(stack: StackLike, services: Sequence[str], out: TextIO) -> None:
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
        out.write(
            f"redeploy: services.{service}.redeploy {current} -> {current + 1} in Pulumi.{stack.name}.yaml "
            "(commit it, or the next `up` rolls the tasks back to the old counter)\n"
        )


def _confirm_destroy(stack: str, stdin: TextIO, out: TextIO) -> None:
    if not stdin.isatty():
        raise OperatorError(
            f"refusing to destroy stack {stack} without --yes: there is no terminal to ask", EXIT_REFUSED
        )
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
    shown = ", ".join(f"{count} {kind}" for kind, count in sorted(changes.items())) or "no changes"
    out.write(f"resources: {shown}\n")


def run(
    request: Request,
    work_dir: Path,
    *,
    factory: StackFactory = create_or_select,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    builder_check: BuilderCheck = check_image_builder,
) -> int:
    """Run one Automation API command; returns the process exit code."""
    # Looked up now, not at import: callers (and tests) may have replaced them since.
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        assignments = parse_assignments(request.config, "--config")
        secrets = parse_assignments(request.secrets, "--secret")
        if request.command == "destroy" and not request.yes:
            _confirm_destroy(request.stack, stdin, out)
        if request.redeploy and request.command != "up":
            raise OperatorError("--redeploy goes with up", EXIT_USAGE)
        stack = factory(request.stack, work_dir)
        if request.command in ("up", "preview"):
            # After opening the stack (a missing Pulumi CLI is the first thing to fix), before changing anything.
            try:
                builder_check(work_dir, request.stack)
            except BuilderError as error:
                raise OperatorError(str(error), EXIT_NO_BUILDER) from None
        for key, value in assignments:
            stack.set_config(key, auto.ConfigValue(value=value), path="." in key or "[" in key)
        for key, value in secrets:
            stack.set_config(key, auto.ConfigValue(value=value, secret=True), path="." in key or "[" in key)

        def stream(line: str) -> None:
            out.write(line if line.endswith("\n") else line + "\n")
            out.flush()

        _bump_redeploy(stack, request.redeploy, out)
        if request.command == "outputs":
            _print_outputs(stack.outputs(), out)
            return EXIT_OK
        operation = {"up": stack.up, "preview": stack.preview, "refresh": stack.refresh, "destroy": stack.destroy}
        result = operation[request.command](on_output=stream)
        _print_changes(result, out)
        if request.command in ("up", "refresh"):
            _print_outputs(stack.outputs(), out)
        return EXIT_OK
    except KeyboardInterrupt:
        # The CLI child got the same Ctrl-C and stops after its in-flight steps; state stays consistent.
        out.write(
            f"\ncancelled: Pulumi stops after the steps in flight. Run `mapgate refresh -s {request.stack}` "
            "if you are unsure what changed.\n"
        )
        return EXIT_CANCELLED
    except OperatorError as error:
        out.write(f"error: {error}\n")
        return error.exit_code
    except (FileNotFoundError, auto.CommandError) as error:
        failure = classify(error, request.stack)
        out.write(f"error: {failure}\n")
        return failure.exit_code
