"""Benchmark: wall time of a whole-stack evaluation under Pulumi mocks, in a fresh process each run.

    python bench/evaluate.py [--stack dev] [--runs 7]

Measures what a user waits for offline (interpreter start, imports, config validation, every component),
reports the median and spread, and the resource count. A script, not a test: numbers go in notes, not asserts.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = """
import json, sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
from tests.harness import load_stack_file, run_stack
run = run_stack(load_stack_file({stack!r}), stack={stack!r})
elapsed = time.perf_counter() - start
components = sum(r.typ.startswith("mapgate:") for r in run.registrations)
print(json.dumps({{"in_process": elapsed, "registrations": len(run.registrations), "components": components}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    walls, inner, last = [], [], {}
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", ONE_RUN.format(root=str(ROOT), stack=args.stack)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
        walls.append(time.perf_counter() - start)
        last = json.loads(out.strip().splitlines()[-1])
        inner.append(last["in_process"])
    print(f"stack {args.stack}: {args.runs} runs")
    print(f"  whole process  median {statistics.median(walls):.2f} s  (min {min(walls):.2f}, max {max(walls):.2f})")
    print(f"  program only   median {statistics.median(inner):.2f} s  (imports + validation + build under mocks)")
    print(f"  resources      {last['registrations']} registered, of which {last['components']} mapgate components")


if __name__ == "__main__":
    main()
