"""The transition matrix (issue 19, item 4): every change between two valid stack files applies.

For each transition both stack files are planned offline and diffed with the replacement facts. The test fails on
a replacement that would collide with what still exists (unless the transition is one the diff must refuse, and
then it must), and on a replacement the diff does not show as one: every changed input the provider marks as
replacement-forcing must have made its resource a replacement.
"""

from __future__ import annotations

import pytest

from mapgate.changes.diff import changed_paths
from mapgate.cli import plan_json
from tests.harness import ROOT
from tests.transitions import BEGIN, END, FACTS, TRANSITIONS, Transition, diff_of, table

# 52 offline plans, about a minute of CPU: `slow`, so the README's quick run leaves it out and CI runs it
# (`python -m pytest -q -m slow`). One xdist worker takes the whole matrix (`--dist loadgroup`), so the docs'
# table reuses the diffs its transitions cached instead of planning all of them again in another worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("transitions")]


def test_the_matrix_is_big_enough() -> None:
    assert len(TRANSITIONS) >= 40
    assert len({t.name for t in TRANSITIONS}) == len(TRANSITIONS)


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.name)
def test_a_transition_applies_or_is_refused(transition: Transition) -> None:
    diff, old, new = diff_of(transition)
    analysis = diff.analysis
    assert not diff.empty, "the edit changed nothing: the transition tests nothing"
    if transition.refused:
        assert analysis.collisions, "the diff lets through a change AWS refuses"
        assert all("network.cidr" in c or "stack" in c for c in analysis.collisions)
    else:
        assert analysis.collisions == []
    replaced = {r.name for r in analysis.replaced}
    assert transition.replaces <= replaced
    # Independently of the analysis: every kept resource whose changed input the provider marks replacement-
    # forcing must be listed as a replacement, never as an in-place change.
    before = {r["urn"]: r for r in old["resources"]}
    for resource in new["resources"]:
        if resource["component"] or resource["urn"] not in before:
            continue
        for path in changed_paths(before[resource["urn"]]["inputs"], resource["inputs"]):
            if path in resource["options"]["ignoreChanges"] or path.startswith("tags"):
                continue
            if FACTS.forcing(resource["type"], path, resource["inputs"]):
                assert resource["urn"] in analysis.replaced_urns, f"{resource['urn']}: {path} replaces it"
                assert resource["urn"] not in diff.changed
    rendered = plan_json.render_diff(diff, old="old.json", new="new")
    for replacement in analysis.replaced:
        assert replacement.line() in rendered


def test_the_docs_show_the_matrix() -> None:
    """docs/changes.md carries the table `python -m tests.transitions` renders from these diffs."""
    docs = (ROOT / "docs" / "changes.md").read_text()
    shown = docs[docs.index(BEGIN) : docs.index(END) + len(END)]
    assert shown == table([(t, diff_of(t)[0]) for t in TRANSITIONS])
