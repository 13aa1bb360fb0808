"""A CI deploy of one mapgate stack, on `mapgate.automation`: plan, preview, update, wait until healthy, smoke-test.

    python examples/ci_deploy.py -s prod [--allow-replace NAME]... [--healthy-within 600] [--token JWT]

1. plan: the offline check (`mapgate plan`): a config problem stops here, before anything is touched;
2. preview: what `up` would change, each replacement listed;
3. up: refuses any replacement not named with `--allow-replace` (a URN or a resource name): exit 7;
4. status: read every `--every` seconds until nothing is wrong (exit 10 if `--healthy-within` passes first);
5. smoke test: every GET route without path parameters is called once through `call` (signed for iam routes,
   with `--token` for jwt ones); a 5xx answer, or none, fails the deploy (exit 1).

Every failure is one `error:` line and the exit code the `mapgate` CLI would give (README, "Operator CLI"). It
needs the Pulumi CLI and AWS credentials, as `mapgate up` does.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from mapgate import automation
from mapgate.errors import EXIT_CANCELLED, EXIT_OK, Failed, MapgateError, Unhealthy


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--stack", required=True)
    parser.add_argument("--project-dir", type=Path, default=None, help="default: found upward from here")
    parser.add_argument("--allow-replace", action="append", default=[], metavar="NAME", help="URN or resource name")
    parser.add_argument("--healthy-within", type=float, default=600.0, metavar="SECONDS")
    parser.add_argument("--every", type=float, default=15.0, metavar="SECONDS", help="between status reads")
    parser.add_argument("--token", default=None, help="JWT for jwt routes (else those are skipped)")
    return parser.parse_args(argv)


def smoke_routes(route_authorization: dict[str, str], token: str | None) -> list[str]:
    """The GET routes a request can reach without inventing a path parameter or a token."""
    paths = []
    for key, kind in sorted(route_authorization.items()):
        method, _, path = key.partition(" ")
        if method in ("GET", "ANY") and "{" not in path and (kind != "jwt" or token):
            paths.append(path or "/")
    return paths


def wait_until_healthy(
    stack: automation.Stack,
    *,
    within: float,
    every: float,
    out: TextIO,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    aws: Any,
) -> None:
    deadline = clock() + within
    while True:
        problems = stack.status(aws=aws).problems
        if not problems:
            out.write("status: healthy\n")
            return
        out.write(f"status: {len(problems)} problem(s): {'; '.join(problems)}\n")
        if clock() + every > deadline:
            raise Unhealthy(f"stack {stack.name} is not healthy after {within:g} s: {'; '.join(problems)}")
        sleep(every)


def deploy(
    args: argparse.Namespace,
    out: TextIO,
    *,
    engine: automation.EngineFactory = automation.open_engine_stack,
    check_builder: automation.BuilderCheck | None = None,
    aws: Any = None,
    transport: Any = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """The five steps; raises a MapgateError at the first that fails."""
    planned = automation.plan(args.stack, args.project_dir)
    out.write(f"plan: {len(planned.run.registrations)} resources, {planned.cost.total_usd:.2f} USD/month\n")

    extra = {"builder_check": check_builder} if check_builder else {}
    stack = automation.select_stack(args.stack, args.project_dir, create=True, engine=engine, **extra)
    preview = stack.preview()
    out.write(f"preview: {preview.changes}\n")
    out.writelines(line + "\n" for line in preview.replacement_lines())

    out.write(f"up: {stack.up(allow_replacements=args.allow_replace)}\n")
    wait_until_healthy(stack, within=args.healthy_within, every=args.every, out=out, clock=clock, sleep=sleep, aws=aws)

    routes = stack.outputs()["routeAuthorization"].value
    sent = {"transport": transport} if transport else {}
    for path in smoke_routes(routes, args.token):
        answer = stack.call("GET", path, token=args.token, **sent).answers[0]
        out.write(f"smoke: GET {path} -> {answer.status}\n")
        if answer.status >= 500:
            raise Failed(f"smoke test GET {path} answered {answer.status} {answer.reason}")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None, **inject: Any) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    try:
        deploy(parse(argv), out, **inject)
    except MapgateError as error:
        err.write(f"error: {error}\n")
        return error.exit_code
    except KeyboardInterrupt:
        err.write("cancelled\n")
        return EXIT_CANCELLED
    out.write("deployed\n")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
