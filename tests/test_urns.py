"""URN stability: renaming or moving a resource replaces it in AWS unless an alias keeps its old URN.

A URN holds the resource's type, name and the type chain of its parents. tests/test_your_stacks.py compares
the project's stacks with their snapshots; this file checks the mechanism.
"""

from __future__ import annotations

from pathlib import Path

from mapgate.offline import run_program
from tests.harness import StackRun
from tests.test_your_stacks import snapshot_diff


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
