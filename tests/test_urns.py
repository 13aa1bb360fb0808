"""URN stability: renaming or moving a resource replaces it in AWS unless an alias keeps its old URN.

A URN holds the resource's type, name and the type chain of its parents, so this snapshot catches renames,
moves between components and type changes. If the change is intended, add `aliases=[pulumi.Alias(...)]`
(see the README) or accept the replacement, then run `python tests/snapshots/update.py` and commit the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapgate.offline import run_program
from tests.harness import StackRun

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"


def snapshot_diff(run: StackRun, expected: set[str]) -> tuple[list[str], list[str]]:
    """URNs gone without an alias taking them over, and new URNs that take over none."""
    gone = expected - {r.urn for r in run.registrations}
    taken_over = {old for r in run.registrations for old in r.alias_urns if old in gone}
    removed = sorted(gone - taken_over)
    added = sorted(r.urn for r in run.registrations if r.urn not in expected and not set(r.alias_urns) & gone)
    return removed, added


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_urns_match_the_snapshot(stack: str, dev_run: StackRun, prod_run: StackRun) -> None:
    run = dev_run if stack == "dev" else prod_run
    removed, added = snapshot_diff(run, set((SNAPSHOTS / f"urns.{stack}.txt").read_text().split()))
    assert (removed, added) == ([], []), (
        f"URNs changed in {stack}: these resources would be replaced.\n"
        + "".join(f"  - {u}\n" for u in removed)
        + "".join(f"  + {u}\n" for u in added)
        + "Keep the old URNs with aliases, or if intended run: python tests/snapshots/update.py"
    )


def test_urns_carry_the_parent_chain(dev_run: StackRun) -> None:
    service = next(r.urn for r in dev_run.registrations if r.name == "app-service")
    assert service == ("urn:pulumi:dev::mapgate::mapgate:service:FargateService$aws:ecs/service:Service::app-service")


def test_a_rename_with_an_alias_keeps_its_urn(tmp_path: Path) -> None:
    """The mechanism a refactor uses: the renamed resource claims its old URN, so nothing is replaced."""
    (tmp_path / "__main__.py").write_text(
        "import pulumi\n"
        "class Thing(pulumi.ComponentResource):\n"
        "    def __init__(self, name, opts=None):\n"
        "        super().__init__('mapgate:demo:Thing', name, None, opts)\n"
        "        self.register_outputs({})\n"
        "Thing('renamed', pulumi.ResourceOptions(aliases=[pulumi.Alias(name='original')]))\n"
        "pulumi.export('done', True)\n"
    )
    run = run_program(tmp_path, {}, "dev")
    prefix = "urn:pulumi:dev::mapgate::mapgate:demo:Thing::"
    assert snapshot_diff(run, {prefix + "original"}) == ([], [])
    assert snapshot_diff(run, {prefix + "other"}) == ([prefix + "other"], [prefix + "renamed"])
