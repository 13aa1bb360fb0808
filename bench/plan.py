"""Benchmark: whole-process wall time of `mapgate plan` for dev and for generated stacks of N services.

    python bench/plan.py [--runs 5] [--sizes 10 50 100]

Each generated service has A+SRV records, every second one an API route with an attribute filter, and each
allows calls from the one before it. Reports the median of `--runs` fresh processes per stack, and checks the
targets: dev < 3 s, 100 services < 15 s, time(100) / time(10) <= 10. It also prints each stack's picture as the
last run drew it: the number of pages and every page's size in pixels (what the README may quote). A script,
not a test.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
HEALTH = {"command": ["CMD", "python", "-m", "mapgate_app.healthcheck"], "startPeriod": 15}


def generated_config(count: int) -> dict[str, object]:
    services: dict[str, object] = {}
    routes: dict[str, object] = {}
    for i in range(count):
        name = f"svc-{i:03d}"
        services[name] = {
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "port": 8000 + i,
            "records": ["A", "SRV"],
            "desiredCount": 2,
            "capacity": "spot" if i % 2 else "onDemand",
            "healthCheck": HEALTH,
            "allowFrom": [f"svc-{i - 1:03d}"] if i else [],
        }
        if i % 2 == 0:
            routes[f"GET /{name}"] = {"service": name, "attributes": {"zone": "a"}}
    return {
        "aws:region": "us-east-1",
        "mapgate:network": {"availabilityZones": 3, "egress": "natGateway"},
        "mapgate:services": services,
        "mapgate:api": {"routes": routes},
    }


def time_plan(project: Path, stack: str, runs: int) -> float:
    command = [sys.executable, "-m", "mapgate.cli.main", "plan", "-s", stack, "--project-dir", str(project)]
    command += ["--out", str(project / "out")]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=project)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def picture_pages(out: Path, stack: str) -> list[tuple[int, int]]:
    """The (width, height) in pixels of each page `plan` drew: STACK.png, STACK-2.png, ..."""
    pages = [out / f"{stack}.png"]
    while (nxt := out / f"{stack}-{len(pages) + 1}.png").is_file():
        pages.append(nxt)
    sizes = []
    for page in pages:
        with Image.open(page) as image:
            sizes.append(image.size)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    args = parser.parse_args()

    results = {"dev": time_plan(ROOT, "dev", args.runs)}
    pictures = {"dev": picture_pages(ROOT / "out", "dev")}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        for name in ("__main__.py", "Pulumi.yaml"):
            shutil.copy(ROOT / name, project / name)
        for size in args.sizes:
            (project / f"Pulumi.gen-{size}.yaml").write_text(yaml.safe_dump({"config": generated_config(size)}))
            results[f"{size} services"] = time_plan(project, f"gen-{size}", args.runs)
            pictures[f"{size} services"] = picture_pages(project / "out", f"gen-{size}")

    print(f"mapgate plan, median of {args.runs} fresh processes")
    print(f"{'stack':<14}{'seconds':>9}  picture pages (width x height px)")
    for name, seconds in results.items():
        pages = ", ".join(f"{w}x{h}" for w, h in pictures[name])
        print(f"{name:<14}{seconds:>9.2f}  {len(pictures[name])}: {pages}")
    checks = [("dev < 3 s", results["dev"] < 3)]
    if "100 services" in results:
        checks.append(("100 services < 15 s", results["100 services"] < 15))
    if "100 services" in results and "10 services" in results:
        ratio = results["100 services"] / results["10 services"]
        checks.append((f"time(100)/time(10) = {ratio:.1f} <= 10", ratio <= 10))
    for label, ok in checks:
        print(f"{'met ' if ok else 'MISSED'} {label}")


if __name__ == "__main__":
    main()
