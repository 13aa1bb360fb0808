"""`mapgate import copilot`'s arguments and its run: what the CLI hands over, and the lines it prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from mapgate.importers.copilot.errors import CopilotInputError
from mapgate.importers.copilot.importer import ImportRequest, run, write

EXIT_OK = 0
EXIT_USAGE = 2  # the project directory cannot be written
EXIT_BAD_INPUT = 8  # the CLI's "invalid config" code: nothing was written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "workspace", nargs="?", type=Path, default=Path("."), help="the directory with copilot/ (default: .)"
    )
    parser.add_argument("--app", default=None, help="the application's name, when copilot/.workspace is missing")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME", help="also import this environment (repeatable)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite stack files and the report that exist")


def main(args: argparse.Namespace, project_dir: Path, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    if args.project_dir is None and not Path.cwd().resolve().is_relative_to(project_dir):
        project_dir = Path.cwd()  # no mapgate project here or above: write here, never into the installed package
    request = ImportRequest(workspace=args.workspace, project_dir=project_dir, app=args.app, envs=tuple(args.env))
    try:
        result = run(request)
        written = write(result, force=args.force)
    except CopilotInputError as error:
        print(f"error: {error}", file=err)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error.filename}: cannot write: {error.strerror or error}", file=err)
        return EXIT_USAGE
    counts = result.counts()
    print(
        f"imported {result.app}: {len(result.stacks)} stack(s), "
        + ", ".join(f"{n} keys {status}" for status, n in counts.items()),
        file=out,
    )
    for path in written:
        print(f"wrote {path}", file=out)
    for env, stack in result.stacks.items():
        state = f"{len(stack.problems)} thing(s) to fix first (see the report)" if stack.problems else "ready"
        print(f"  mapgate plan -s {env}: {state}", file=out)
    return EXIT_OK
