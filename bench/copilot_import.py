"""Benchmark: `mapgate import copilot` over every Copilot workspace in a directory, then `mapgate plan` on each stack.

    python bench/copilot_import.py DIR [--show-problems] [--stub-missing-dockerfiles]

DIR holds one directory per repository, each with a `copilot/` directory somewhere inside (the first one found,
outside `_linked/`). Each is imported into a scratch mapgate project (this project's program, the workspace linked
inside it, so build contexts are inside the project as they would be), without --app unless the workspace has no
`copilot/.workspace` (then the directory's name), and without --env unless no environment is named anywhere (then
`--env dev`). Prints per workspace: keys mapped / approximated / not supported, stacks, stacks that plan clean,
whether every failing plan's problems were named in the report first, and the import's wall time.

`--stub-missing-dockerfiles` works on a scratch copy of each workspace and writes a one-line Dockerfile wherever
the report says one is missing, then imports again: "plans clean if the repository's Dockerfiles were there"
(published corpora often keep only the copilot/ directory).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from mapgate.cli.plan import make_plan  # noqa: E402
from mapgate.importers.copilot import CopilotInputError, ImportRequest, ImportResult, run, write  # noqa: E402
from mapgate.importers.copilot.workspace import copilot_dir_in  # noqa: E402


def _with_stub_dockerfiles(result: ImportResult, project: Path, app: str | None) -> ImportResult:
    missing = {
        Path(m.group(1))
        for stack in result.stacks.values()
        for problem in stack.problems
        if (m := re.search(r"no Dockerfile at (\S+) \(", problem))
    }
    if not missing:
        return result
    for path in missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("FROM public.ecr.aws/docker/library/busybox:stable\n")
    return run(ImportRequest(project / "ws", project, app=app, envs=tuple(result.stacks), shell={}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--show-problems", action="store_true", help="print each stack's problems")
    parser.add_argument(
        "--stub-missing-dockerfiles", action="store_true", help="write a stub where the report misses a Dockerfile"
    )
    args = parser.parse_args()
    repos = sorted(p for p in args.corpus.iterdir() if p.is_dir())
    totals = {"mapped": 0, "approximated": 0, "not supported": 0}
    imported = stacks = clean = named = unaccounted = missing_rows = 0
    failed: list[str] = []
    import_seconds: list[float] = []
    plan_seconds: list[float] = []
    print(f"{'workspace':58} {'mapped':>6} {'approx':>6} {'unsup':>6} {'stacks':>6} {'clean':>5} {'import s':>8}")
    for repo in repos:
        copilot_dir = copilot_dir_in(repo)
        if copilot_dir is None:
            failed.append(f"{repo.name}: no copilot/ directory")
            continue
        with tempfile.TemporaryDirectory() as scratch:
            project = Path(scratch)
            for name in ("Pulumi.yaml", "__main__.py", "mapgate"):
                (project / name).symlink_to(ROOT / name)
            if args.stub_missing_dockerfiles:
                shutil.copytree(copilot_dir.parent, project / "ws", symlinks=True)
            else:
                (project / "ws").symlink_to(copilot_dir.parent, target_is_directory=True)
            app = None if (copilot_dir / ".workspace").is_file() else re.sub(r"[^a-z0-9-]", "-", repo.name.lower())
            started = time.perf_counter()
            try:
                try:
                    result = run(ImportRequest(project / "ws", project, app=app, shell={}))
                except CopilotInputError as error:
                    if "name one with --env" not in str(error):
                        raise
                    result = run(ImportRequest(project / "ws", project, app=app, envs=("dev",), shell={}))
                if args.stub_missing_dockerfiles:
                    result = _with_stub_dockerfiles(result, project, app)
                write(result, force=False)
            except CopilotInputError as error:
                failed.append(f"{repo.name}: {error}")
                continue
            import_seconds.append(time.perf_counter() - started)
            imported += 1
            counts = result.counts()
            for status, n in counts.items():
                totals[status] += n
            # Nothing silently dropped: each key has one entry, and the report has one row per key.
            report = next(text for path, text in result.files.items() if path.name.startswith("MIGRATION-"))
            for ledger in result.ledgers:
                unaccounted += len(ledger.unaccounted())
                rows = sum(report.count(f"| `{'.'.join(key)}` |") >= 1 for key in ledger.keys)
                missing_rows += len(ledger.keys) - rows
            ok = 0
            notes: list[str] = []
            for env, stack in result.stacks.items():
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    plan = make_plan(project, env)
                plan_seconds.append(time.perf_counter() - started)
                stacks += 1
                if plan.ok:
                    ok += 1
                elif stack.problems:
                    named += 1
                if args.show_problems and not plan.ok:
                    notes.append(f"    {env}: the report names {len(stack.problems)}: " + " | ".join(stack.problems))
                    notes += [f"      plan: {line.strip()}" for line in plan.findings[1:]]
            clean += ok
            print(
                f"{repo.name[:58]:58} {counts['mapped']:>6} {counts['approximated']:>6} {counts['not supported']:>6}"
                f" {len(result.stacks):>6} {ok:>5} {import_seconds[-1]:>8.3f}"
            )
            for note in notes:
                print(note)
    keys = sum(totals.values())
    print()
    print(f"workspaces: {len(repos)}, imported {imported}, failed {len(failed)}")
    for line in failed:
        print(f"  failed: {line}")
    print(
        f"keys: {keys} — mapped {totals['mapped']} ({totals['mapped'] / keys:.0%}), approximated "
        f"{totals['approximated']} ({totals['approximated'] / keys:.0%}), not supported {totals['not supported']} "
        f"({totals['not supported'] / keys:.0%})"
    )
    print(f"keys without an entry: {unaccounted}, keys without a row in the report: {missing_rows}")
    print(
        f"stacks: {stacks}, plan clean {clean}, stopped on problems the report names {named}, "
        f"stopped on problems it does not name {stacks - clean - named}"
    )
    print(
        f"time per workspace (import, wall): median {statistics.median(import_seconds) * 1000:.0f} ms, "
        f"max {max(import_seconds) * 1000:.0f} ms; per stack plan: median {statistics.median(plan_seconds):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
