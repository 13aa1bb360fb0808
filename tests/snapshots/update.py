"""Rewrite the URN snapshots after an intended change:  python tests/snapshots/update.py

Run it only when the change is meant to replace resources (or after adding aliases that keep the old URNs),
then review the diff of tests/snapshots/urns.*.txt in the commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent)]

from tests.harness import load_user_stack_file, run_stack, user_stacks  # noqa: E402


def urns(stack: str) -> list[str]:
    return sorted(r.urn for r in run_stack(load_user_stack_file(stack), stack=stack).registrations)


def main() -> None:
    """The project's own stacks (Pulumi.<stack>.yaml), every one of them."""
    for stack in user_stacks():
        path = HERE / f"urns.{stack}.txt"
        path.write_text("\n".join(urns(stack)) + "\n")
        print(f"wrote {path} ({len(urns(stack))} URNs)")


if __name__ == "__main__":
    main()
