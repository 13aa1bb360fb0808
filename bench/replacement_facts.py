"""Benchmark: what the replacement-facts lookup costs `mapgate plan --json --diff` (target: at most 5 %).

    python bench/replacement_facts.py [--runs 7] [--stack dev]

In one process (the program's imports warm, as in a second plan), times the plan as `plan --json --diff` does
it: run the program offline, build the JSON document, and diff it against the stack's plan with one service's
records changed (A -> A+SRV, the README's example). With the lookup: the facts are read and the diff traces
replacements; without: the facts are never read and the diff compares inputs only. The lookup's share counts
reading the facts, finding the references by value (done for every --json document) and tracing replacements.
Reports medians. A script, not a test.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mapgate.changes import facts as replacement_facts  # noqa: E402
from mapgate.changes.references import references  # noqa: E402
from mapgate.cli import plan as plan_module  # noqa: E402
from mapgate.cli import plan_json  # noqa: E402


def project_with_srv(tmp: Path, stack: str) -> Path:
    """A copy of the project whose stack file adds SRV to the first service with only A records."""
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp / name)
    (tmp / "app").symlink_to(ROOT / "app")
    document = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    edited = copy.deepcopy(document)
    services = edited["config"]["mapgate:services"]
    name = next(n for n, s in services.items() if s.get("records") == ["A"])
    services[name]["records"] = ["A", "SRV"]
    (tmp / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(edited))
    return tmp


def timed(step: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args()
    old = plan_json.document(plan_module.make_plan(ROOT, args.stack))
    with tempfile.TemporaryDirectory() as tmp:
        project = project_with_srv(Path(tmp), args.stack)

        def plan_and_diff(with_facts: bool) -> None:
            plan = plan_module.make_plan(project, args.stack)
            plan_json.compare(old, plan_json.document(plan), plan.facts if with_facts else None)

        real_load = replacement_facts.load
        samples: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.runs):  # interleaved, so that the machine's load falls on both alike
            for with_facts in (True, False):
                if not with_facts:
                    replacement_facts.load = lambda *a, **k: None  # type: ignore[assignment,misc,unused-ignore]
                try:
                    samples[with_facts].append(timed(lambda: plan_and_diff(with_facts), 1))  # noqa: B023
                finally:
                    replacement_facts.load = real_load
        with_lookup, without = statistics.median(samples[True]), statistics.median(samples[False])
        new_plan = plan_module.make_plan(project, args.stack)
        new = plan_json.document(new_plan)
        assert new_plan.run is not None
        run = new_plan.run
        refs = timed(lambda: references(run), args.runs * 5)
        facts = real_load()
        load = timed(real_load, args.runs * 5)
        analysis = timed(lambda: plan_json.compare(old, new, facts), args.runs * 5) - timed(
            lambda: plan_json.compare(old, new), args.runs * 5
        )
    lookup = load + max(analysis, 0.0) + refs
    print(f"mapgate plan --json --diff, stack {args.stack}, median of {args.runs} interleaved in-process runs each")
    print(f"  with the facts lookup     {with_lookup:8.3f} s")
    print(f"  without it                {without:8.3f} s")
    print(
        f"  lookup alone: read {load * 1000:.2f} ms + references {refs * 1000:.2f} ms"
        f" + trace {max(analysis, 0) * 1000:.2f} ms"
    )
    print(f"  lookup share of the plan  {100 * lookup / with_lookup:8.2f} %  (target <= 5 %)")


if __name__ == "__main__":
    main()
