"""Benchmark: how long `mapgate status` takes for the dev stack against moto, and how many AWS calls it makes.

    python bench/status.py [--runs 20] [--tasks 2]

Builds the deployed-like dev stack of tests/ops_world.py (3 services, one elected, 3 routes, a NAT instance, the 5xx
alarm) in moto, with `--tasks` running tasks per service, then times `status.report_for` (every AWS read and the
verdicts; in-process moto, so this is the client-side cost plus moto's, not AWS's latency) over `--runs` runs, and
prints the calls by API operation. Against AWS, the time is about (number of calls) x (round trip), as the calls are
made one after another. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "app")]

from moto import mock_aws  # noqa: E402

from mapgate.ops.aws import Aws  # noqa: E402
from mapgate.ops.status import report_for  # noqa: E402
from tests import ops_world  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=2, help="running tasks per service")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=ops_world.REGION)
    os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
    ops_world.SERVICES.update(dict.fromkeys(ops_world.SERVICES, args.tasks))
    with mock_aws():
        world = ops_world.build_world()
        times, calls = [], {}
        for _ in range(args.runs):
            aws = Aws(ops_world.REGION, ops_world.session())
            start = time.perf_counter()
            report = report_for(world.outputs, ops_world.STACK, aws=aws, now=ops_world.NOW_MS / 1000)
            times.append(time.perf_counter() - start)
            calls = dict(report.calls)
            assert not report.problems, report.problems
    print(
        f"dev stack on moto: {len(ops_world.SERVICES)} services x {args.tasks} tasks, "
        f"{len(world.targets['routes'])} routes"
    )
    print(
        f"status: median {statistics.median(times) * 1000:.0f} ms, min {min(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms over {args.runs} runs"
    )
    print(f"AWS calls: {sum(calls.values())}")
    for operation, count in sorted(calls.items()):
        print(f"  {count:>3}  {operation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
