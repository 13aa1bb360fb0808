"""Rewrite the URN snapshots after an intended change:  python tests/snapshots/update.py

Run it only when the change is meant to replace resources (or after adding aliases that keep the old URNs),
then review the diff of tests/snapshots/urns.*.txt in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent), str(HERE.parent.parent / "scripts")]

from tests.harness import load_stack_file, run_stack  # noqa: E402


def urns(stack: str) -> list[str]:
    return sorted(r.urn for r in run_stack(load_stack_file(stack), stack=stack).registrations)


def main() -> None:
    for stack in ("dev", "prod"):
        path = HERE / f"urns.{stack}.txt"
        path.write_text("\n".join(urns(stack)) + "\n")
        print(f"wrote {path} ({len(urns(stack))} URNs)")


if __name__ == "__main__":
    main()
