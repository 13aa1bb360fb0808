"""Benchmark: the picture of the dev stack and of generated stacks of 1, 3, 10 and 50 services: each page's
size and measures, and the time to lay it out and draw it as PNG and SVG.

    python bench/picture.py [--sizes 1 3 10 50]

Runs the real program under mocks on the fixture project's dev stack and on the stacks tests/test_diagram.py
checks (tests/pictures.py: a chain of calls, a fan-out, a cycle, and from 10 services on, services with no line
at all), then draws the picture as `mapgate plan` does. Per page: width × height in px, crossings between arrows,
the tallest empty band as a share of the page's height, the share of the page that boxes cover, and stubs that
point at their own page. The README states the sizes this prints. A script, not a test: tests/test_diagram.py
holds the measures' bounds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from mapgate.cli.diagram import Topology, scenes, topology, write_pictures  # noqa: E402
from mapgate.cli.inventory import Inventory  # noqa: E402
from tests.harness import load_stack_file, run_stack, with_prefix  # noqa: E402
from tests.pictures import SIZES, box_share, crossings, empty_band, generated, same_page_stubs  # noqa: E402


def _measure(name: str, topo: Topology, out: Path) -> None:
    start = time.perf_counter()
    write_pictures(topo, out, name)  # laid out once, drawn as PNG and SVG, as `mapgate plan` does
    elapsed = time.perf_counter() - start
    pictured = scenes(topo)
    for i, scene in enumerate(pictured):
        size = f"{scene.width} x {scene.height}"
        print(
            f"{name:>8} {i + 1:>5} {size:>15} {crossings(scene):>9} {empty_band(scene):>10.1%} "
            f"{box_share(scene):>6.1%} {len(same_page_stubs(scene))}"
        )
    widest, tallest = max(s.width for s in pictured), max(s.height for s in pictured)
    pages = f"{len(pictured)} page" + ("s" if len(pictured) > 1 else "")
    print(f"{name:>8}: {pages}, at most {widest} x {tallest} px; layout, PNG and SVG in {elapsed * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()

    print(
        f"{'stack':>8} {'page':>5} {'width x height':>15} {'crossings':>9} {'empty band':>10} {'boxes':>6} stubs here"
    )
    with tempfile.TemporaryDirectory() as tmp:
        dev = topology(Inventory.read(run_stack(load_stack_file("dev"), stack="dev")), "dev")
        _measure("dev", dev, Path(tmp))
        for count in args.sizes:
            topo = topology(Inventory.read(run_stack(with_prefix(generated(count)))), f"gen-{count}")
            _measure(f"{count} svc", topo, Path(tmp))


if __name__ == "__main__":
    main()
