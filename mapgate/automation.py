"""Drive a mapgate stack from your own Python script: the API the `mapgate` CLI itself runs on.

    from mapgate import automation

    stack = automation.select_stack("prod")                 # automation.select_stack("ci-42", create=True)
    stack.set_config({"services.app.desiredCount": "3"})    # written to Pulumi.prod.yaml, as `pulumi config set`
    stack.set_config({"apiToken": "s3cret"}, secret=True)
    preview = stack.preview()                               # .changes, .replacements (URN -> keys that force it)
    stack.up(allow_replacements=[...])                      # refuses replacements not listed (or True: any)
    stack.outputs()["apiUrl"].value
    stack.call("GET", "/leader").answers[0].status          # signed/with a token as the route needs

Every failure is a `mapgate.errors.MapgateError` whose message is what the CLI prints after `error: ` and whose
`exit_code` is the CLI's (README, "Operator CLI"): no Pulumi CLI (3), not logged in (4), no AWS credentials (5),
another update running (6), replacements not allowed (7), a broken stack file (8), no image builder (9), an unknown
stack (2), anything else from the engine (1). Ctrl-C stays a KeyboardInterrupt: the script decides.

Needs the Pulumi CLI (https://www.pulumi.com/docs/install/) and, for anything that touches AWS, credentials found
as the AWS CLI finds them.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pulumi import automation as auto

from mapgate import PROJECT
from mapgate.cli import call as calling
from mapgate.cli.preflight import BuilderError, check_image_builder
from mapgate.config.errors import StackFileError
from mapgate.config.source import read_stack_file
from mapgate.errors import (
    ConcurrentUpdate,
    Failed,
    InvalidConfig,
    MapgateError,
    NoAwsCredentials,
    NoBuilder,
    NoPulumiCli,
    NotLoggedIn,
    Refused,
    UsageError,
)
from mapgate.ops.aws import Aws

__all__ = [
    "CallResult",
    "Changes",
    "MapgateError",
    "Output",
    "Preview",
    "Redeploy",
    "Stack",
    "plan",
    "project_dir",
    "select_stack",
]

# Engine operations that replace a resource.
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

OnOutput = Callable[[str], Any] | None


class EngineStack(Protocol):
    """The part of `pulumi.automation.Stack` used here (a fake implements it in tests)."""

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


EngineFactory = Callable[[str, Path, bool], EngineStack]
"""(stack, project directory, create it if missing) -> the engine's stack."""
BuilderCheck = Callable[[Path, str], None]


def project_dir(start: Path | None = None) -> Path:
    """The directory with Pulumi.yaml: `start` (default: the current directory) or a parent of it."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise UsageError(f"no Pulumi project (Pulumi.yaml) in {here} or above: pass the project's directory")


def stack_files(directory: Path) -> list[str]:
    """The stacks with a `Pulumi.<stack>.yaml` in the project directory."""
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in directory.glob("Pulumi.*.yaml"))


def backend_stacks(work_dir: Path) -> list[str]:
    """The project's stacks in the backend, or (if the backend cannot be asked) the stack files here."""
    try:
        return sorted(s.name for s in auto.LocalWorkspace(work_dir=str(work_dir)).list_stacks())
    except (auto.CommandError, FileNotFoundError):
        return stack_files(work_dir)


def open_engine_stack(
    stack: str,
    work_dir: Path,
    create: bool,
    *,
    select: Callable[..., EngineStack] = auto.select_stack,
    create_or_select: Callable[..., EngineStack] = auto.create_or_select_stack,
    existing: Callable[[Path], list[str]] | None = None,
) -> EngineStack:
    """Select `stack`; only with `create` make it when it does not exist (a typo must not become a new stack)."""
    if create:
        return create_or_select(stack_name=stack, work_dir=str(work_dir))
    try:
        return select(stack_name=stack, work_dir=str(work_dir))
    except auto.StackNotFoundError:
        names = (existing or backend_stacks)(work_dir)
        close = difflib.get_close_matches(stack, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(
            f"stack {stack!r} does not exist; {hint}stacks: {', '.join(names) or 'none yet'}. "
            "Pass --create to create it"
        ) from None


def classify(error: Exception, stack: str) -> MapgateError:
    """Turn what the Pulumi CLI said into an error the user can act on."""
    if isinstance(error, FileNotFoundError):
        return NoPulumiCli(
            "the Pulumi CLI is not installed (or not on PATH). Install it: "
            "`curl -fsSL https://get.pulumi.com | sh` or `brew install pulumi`, see https://www.pulumi.com/docs/install/"
        )
    if isinstance(error, auto.ConcurrentUpdateError):
        return ConcurrentUpdate(
            f"another update of stack {stack} is in progress. Wait for it; if it died, run `pulumi cancel -s {stack}`"
        )
    text = str(error)
    if any(marker in text for marker in _NOT_LOGGED_IN):
        return NotLoggedIn(
            "not logged in to a Pulumi backend. For state in a local directory run `pulumi login --local` "
            "(and export PULUMI_CONFIG_PASSPHRASE); for Pulumi Cloud run `pulumi login`"
        )
    if any(marker in text for marker in _AWS_CREDENTIAL_ERRORS):
        return NoAwsCredentials(
            "no usable AWS credentials. Set AWS_PROFILE (after `aws sso login` if you use SSO) or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and aws:region in the stack config"
        )
    return Failed(f"pulumi failed:\n{text}")


@contextmanager
def engine_errors(stack: str) -> Iterator[None]:
    """What the Pulumi CLI (or its absence) raises, as a MapgateError; the SDK's own exception is its cause."""
    try:
        yield
    except (FileNotFoundError, auto.CommandError) as error:
        raise classify(error, stack) from error


def check_stack_file(work_dir: Path, stack: str) -> None:
    """A stack file the Pulumi CLI would reject stops here, with file:line:column (nothing opened yet)."""
    path = work_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return
    try:
        read_stack_file(path)
    except StackFileError as error:
        raise InvalidConfig(str(error)) from None


def config_key(key: str) -> str:
    """A key without a namespace is the project's: `logRetentionDays` -> `mapgate:logRetentionDays`."""
    if not key:
        raise UsageError("a config key cannot be empty")
    return key if ":" in key else f"{PROJECT}:{key}"


@dataclass(frozen=True)
class Output:
    """One stack output. `value` is the real value also when `secret` (printing is the caller's choice)."""

    value: Any
    secret: bool = False


@dataclass(frozen=True)
class Changes:
    """What an operation did (or a preview would do): operation ('create', 'update', 'replace', ...) -> count."""

    counts: Mapping[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{count} {kind}" for kind, count in sorted(self.counts.items())) or "no changes"

    @classmethod
    def of(cls, result: Any) -> Changes:
        summary = getattr(result, "summary", None)
        changes = getattr(summary, "resource_changes", None) or getattr(result, "change_summary", None) or {}
        # A preview's keys are OpType members, an update's plain strings.
        return cls({str(getattr(kind, "value", kind)): int(count) for kind, count in changes.items()})


@dataclass(frozen=True)
class Preview:
    changes: Changes
    replacements: Mapping[str, tuple[str, ...]]
    """URN -> the input keys that force the replacement (empty when the engine does not say)."""

    def replacement_lines(self) -> list[str]:
        lines = []
        for urn, keys in sorted(self.replacements.items()):
            why = f" (because of {', '.join(keys)})" if keys else ""
            lines.append(f"  replace {urn}{why}")
        return lines


@dataclass
class _ReplacementEvents:
    """Collects, from a preview's engine events, the resources it would replace and the keys that force it."""

    found: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = getattr(event, "resource_pre_event", None)
        if pre is not None and pre.metadata.op in _REPLACING:
            self.found.setdefault(pre.metadata.urn, tuple(pre.metadata.keys or ()))


@dataclass(frozen=True)
class Redeploy:
    """A raised `services.<service>.redeploy` counter (`Stack.undo_redeploy` puts it back)."""

    service: str
    key: str
    before: int
    after: int


@dataclass(frozen=True)
class CallResult:
    """The answers to `Stack.call`: how it was sent (method, URL, none/iam/jwt) and what came back."""

    method: str
    url: str
    authorization: str
    answers: tuple[calling.Answer, ...]


def _allowed(urn: str, allowed: Collection[str]) -> bool:
    """A replacement is allowed by its URN or by its resource name (the URN's last `::` part)."""
    return urn in allowed or urn.rsplit("::", 1)[-1] in allowed


class Stack:
    """One stack of this project, selected (or created) in the Pulumi backend. Get one from `select_stack`."""

    def __init__(
        self,
        engine: EngineStack,
        work_dir: Path,
        *,
        name: str | None = None,
        builder_check: BuilderCheck = check_image_builder,
    ):
        self._engine = engine
        self.name = name or engine.name
        self.work_dir = work_dir
        self._builder_check = builder_check
        self._builder_checked = False

    # -- config -------------------------------------------------------------------------------------------

    def set_config(self, values: Mapping[str, str] | Iterable[tuple[str, str]], *, secret: bool = False) -> None:
        """Write each KEY=VALUE to Pulumi.<stack>.yaml as `pulumi config set` does (they stay). A key without a
        namespace gets `mapgate:`; `a.b` and `a[0]` keys set nested values. `secret` encrypts them."""
        pairs = values.items() if isinstance(values, Mapping) else values
        with engine_errors(self.name):
            for key, value in pairs:
                full = config_key(key)
                self._engine.set_config(
                    full, auto.ConfigValue(value=str(value), secret=secret), path="." in full or "[" in full
                )

    def redeploy(self, services: Sequence[str]) -> list[Redeploy]:
        """Raise each service's `redeploy` counter, so that the next `up` rolls its tasks with nothing else
        changed. An unknown service is a UsageError, and then nothing is raised."""
        with engine_errors(self.name):
            for service in services:
                try:
                    self._engine.get_config(f"{PROJECT}:services.{service}", path=True)
                except auto.CommandError:
                    raise UsageError(f"--redeploy: stack {self.name} has no service {service!r}") from None
            done: dict[str, Redeploy] = {}
            for service in services:
                key = f"{PROJECT}:services.{service}.redeploy"
                try:
                    current = int(self._engine.get_config(key, path=True).value)
                except auto.CommandError:  # never raised before: the model's default
                    current = 0
                self._engine.set_config(key, auto.ConfigValue(value=str(current + 1)), path=True)
                before = done[key].before if key in done else current
                done[key] = Redeploy(service, key, before, current + 1)
        return list(done.values())

    def undo_redeploy(self, raised: Sequence[Redeploy]) -> None:
        """Put counters raised by `redeploy` back (an update that did not happen must not roll tasks later)."""
        with engine_errors(self.name):
            for item in raised:
                self._engine.set_config(item.key, auto.ConfigValue(value=str(item.before)), path=True)

    # -- the engine ---------------------------------------------------------------------------------------

    def check_builder(self) -> None:
        """Docker can build every image the stack builds (once per Stack; `preview` and `up` call it)."""
        if self._builder_checked:
            return
        try:
            self._builder_check(self.work_dir, self.name)
        except BuilderError as error:
            raise NoBuilder(str(error)) from None
        self._builder_checked = True

    def preview(self, *, on_output: OnOutput = None) -> Preview:
        """What `up` would change, and which resources it would replace (and why)."""
        self.check_builder()
        events = _ReplacementEvents()
        with engine_errors(self.name):
            result = self._engine.preview(on_output=on_output, on_event=events)
        return Preview(Changes.of(result), dict(events.found))

    def up(self, *, allow_replacements: Collection[str] | bool = (), on_output: OnOutput = None) -> Changes:
        """Create or update the stack's resources.

        Unless `allow_replacements` is True, it previews first and refuses (errors.Refused, exit code 7) when the
        preview would replace a resource not listed (by URN or resource name): a replacement deletes and creates
        again, with new ids. The engine's lines go to `on_output` as they come. The check is the preview's: a
        change to the stack between that preview and the update (another `up`) is not seen by it.
        """
        self.check_builder()
        if allow_replacements is not True:
            allowed: Collection[str] = () if allow_replacements is False else allow_replacements
            preview = self.preview(on_output=on_output)
            unlisted = {urn: keys for urn, keys in preview.replacements.items() if not _allowed(urn, allowed)}
            if unlisted:
                shown = Preview(preview.changes, unlisted).replacement_lines()
                raise Refused(
                    f"stack {self.name} was not updated: it would replace {len(unlisted)} resource(s) not allowed "
                    "(pass them in allow_replacements, or True for any):\n" + "\n".join(shown)
                )
        with engine_errors(self.name):
            return Changes.of(self._engine.up(on_output=on_output))

    def refresh(self, *, on_output: OnOutput = None) -> Changes:
        """Read the real state of the stack's resources into the state."""
        with engine_errors(self.name):
            return Changes.of(self._engine.refresh(on_output=on_output))

    def destroy(self, *, on_output: OnOutput = None) -> Changes:
        """Delete every resource of the stack (no question asked: that is the caller's job)."""
        with engine_errors(self.name):
            return Changes.of(self._engine.destroy(on_output=on_output))

    # -- what is deployed ---------------------------------------------------------------------------------

    def outputs(self) -> dict[str, Output]:
        """The stack outputs (README, "What gets built"); empty for a stack never deployed."""
        with engine_errors(self.name):
            raw = self._engine.outputs()
        return {
            key: Output(getattr(item, "value", item), bool(getattr(item, "secret", False))) for key, item in raw.items()
        }

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        repeat: int = 1,
        transport: calling.Send = calling.send,
        credentials: Callable[[], Any] = calling.user_credentials,
    ) -> CallResult:
        """Send `method path` to the stack's API `repeat` times, as its route needs (SigV4 for iam routes with
        your AWS credentials, `Authorization: Bearer token` for jwt routes). Any HTTP status is an answer;
        no answer at all is errors.Failed."""
        target = calling.Target.from_outputs(self.outputs(), self.name)
        request = calling.Call(method, path, token=token, repeat=repeat)
        sent_method, url, kind = calling.prepare(request, target)
        answers = calling.exchange(request, target, transport=transport, credentials=credentials)
        return CallResult(sent_method, url, kind, tuple(answers))

    def status(self, *, aws: Any | None = None) -> Any:
        """The stack's status read from AWS (`mapgate.ops.status.Report`: `.problems` is empty when healthy).
        `aws` is a `mapgate.ops.aws.Aws` (default: boto3's default session in the stack's Region)."""
        from mapgate.ops.status import report_for

        return report_for(self.outputs(), self.name, aws=aws)

    def logs(
        self, service: str, *, since_seconds: int = 600, task: str | None = None, pattern: str | None = None
    ) -> list[Any]:
        """The service's log lines (`mapgate.ops.logs.LogLine`: timestamp_ms, task, message) since then, merged
        by time across its tasks; `task` keeps one task's, `pattern` is a CloudWatch Logs filter pattern."""
        from mapgate.ops.logs import LogReader, service_target
        from mapgate.ops.targets import StatusTargets

        outputs = self.outputs()
        region = outputs.get("region")
        group = service_target(StatusTargets.parse(outputs, self.name), service, self.name)
        stream = f"{service}/{service}/{task}" if task else None
        aws = Aws(str(region.value if region else ""))
        return LogReader(aws, group, stream=stream, pattern=pattern).fetch(int((time.time() - since_seconds) * 1000))


def plan(name: str, work_dir: Path | str | None = None) -> Any:
    """`mapgate plan`'s offline check of stack `name`, no AWS and no Pulumi CLI needed: the resource tree and the
    monthly cost (`mapgate.cli.plan.Plan`: `.cost.total_usd`, `.inventory`). A config with problems is
    InvalidConfig listing them all, as `mapgate plan` prints them; a stack file that is not valid YAML is
    InvalidConfig with file, line and column; no stack file is UsageError."""
    from mapgate.cli.plan import make_plan, render

    directory = Path(work_dir).resolve() if work_dir is not None else project_dir()
    if not (directory / f"Pulumi.{name}.yaml").is_file():
        raise UsageError(
            f"no stack file Pulumi.{name}.yaml in {directory}; stacks: {', '.join(stack_files(directory))}"
        )
    try:
        result = make_plan(directory, name)
    except StackFileError as error:
        raise InvalidConfig(str(error)) from None
    if not result.ok:
        raise InvalidConfig(render(result))
    return result


def select_stack(
    name: str,
    work_dir: Path | str | None = None,
    *,
    create: bool = False,
    engine: EngineFactory = open_engine_stack,
    builder_check: BuilderCheck = check_image_builder,
) -> Stack:
    """The stack `name` of the project in `work_dir` (default: found upward from the current directory).

    A stack that does not exist is a UsageError naming the stacks there are, unless `create`. A stack file the
    Pulumi CLI would reject is InvalidConfig, with file, line and column. Nothing is written here.
    """
    directory = Path(work_dir).resolve() if work_dir is not None else project_dir()
    check_stack_file(directory, name)
    with engine_errors(name):
        engine_stack = engine(name, directory, create)
    return Stack(engine_stack, directory, name=name, builder_check=builder_check)
