"""Checks about the project's own stacks (`Pulumi.<stack>.yaml`), which users edit.

Every other test runs the product on fixture stacks (tests/fixtures/project), so a change to your stacks cannot
break them. These checks are about your stacks, and only what could hurt a deployment fails:
- the stack plans cleanly (the same validation as `pulumi up`);
- no mandatory policy-pack rule is violated;
- no resource recorded in tests/snapshots/urns.<stack>.txt would be replaced or deleted. New resources never
  fail: they are listed as a warning, with the command that records them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from mapgate.cli.plan import Plan, make_plan
from mapgate.offline import StackRun
from tests.harness import ROOT, load_stack_file, run_stack, user_stacks
from tests.test_policies import evaluate, resources_of

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
RECORD = "python tests/snapshots/update.py"
STACKS = user_stacks()


def snapshot_diff(run: StackRun, expected: set[str]) -> tuple[list[str], list[str]]:
    """URNs gone without an alias taking them over, and new URNs that take over none."""
    gone = expected - {r.urn for r in run.registrations}
    taken_over = {old for r in run.registrations for old in r.alias_urns if old in gone}
    removed = sorted(gone - taken_over)
    added = sorted(r.urn for r in run.registrations if r.urn not in expected and not set(r.alias_urns) & gone)
    return removed, added


def snapshot_verdict(stack: str, run: StackRun, snapshot: Path) -> tuple[str | None, str | None]:
    """(failure, note): a failure when recorded resources would be replaced; a note for what is only new."""
    if not snapshot.exists():
        return None, f"stack {stack} has no URN snapshot yet; record it with: {RECORD}"
    removed, added = snapshot_diff(run, set(snapshot.read_text().split()))
    failure = note = None
    if removed:
        failure = (
            f"URNs of stack {stack} would be replaced or deleted by `pulumi up`:\n"
            + "".join(f"  - {u}\n" for u in removed)
            + "Keep them with aliases (README, Resource identity), or if intended accept them with: "
            + RECORD
        )
    if added:
        note = f"stack {stack} adds {len(added)} resources not in its URN snapshot; record them with: {RECORD}"
    return failure, note


@pytest.fixture(scope="module", params=STACKS)
def user_plan(request: pytest.FixtureRequest) -> Plan:
    """`mapgate plan -s STACK` of the project's own stack, as its user would run it."""
    return make_plan(ROOT, str(request.param))


@pytest.fixture
def user_run(user_plan: Plan) -> tuple[str, StackRun]:
    assert user_plan.run is not None, user_plan.findings
    return user_plan.stack, user_plan.run


def test_your_stack_plans_cleanly(user_plan: Plan) -> None:
    assert user_plan.findings == []


def test_your_stack_breaks_no_mandatory_rule(user_run: tuple[str, StackRun]) -> None:
    _, run = user_run
    assert [v for v in evaluate(resources_of(run)) if v.enforcement == "mandatory"] == []


def test_your_stack_replaces_nothing_recorded(user_run: tuple[str, StackRun]) -> None:
    stack, run = user_run
    failure, note = snapshot_verdict(stack, run, SNAPSHOTS / f"urns.{stack}.txt")
    if note:
        warnings.warn(note, stacklevel=1)
    assert failure is None, failure


# -- the verdict itself, on the fixture dev stack changed as a user would change theirs ---------------------------


def _dev_with_a_new_service(dev_run: StackRun) -> tuple[StackRun, set[str]]:
    recorded = {r.urn for r in dev_run.registrations}
    config = load_stack_file("dev")
    services = dict(config["mapgate:services"])
    services["reports"] = dict(services["worker"]) | {"allowFrom": ["app"]}
    config["mapgate:services"] = services
    return run_stack(config, stack="dev"), recorded


def test_an_added_service_is_a_note_with_the_command_never_a_failure(tmp_path: Path, dev_run: StackRun) -> None:
    run, recorded = _dev_with_a_new_service(dev_run)
    snapshot = tmp_path / "urns.dev.txt"
    snapshot.write_text("\n".join(sorted(recorded)))
    failure, note = snapshot_verdict("dev", run, snapshot)
    assert failure is None
    assert note is not None
    assert note.endswith(RECORD)


def test_a_removed_resource_fails_and_says_how_to_accept_it(tmp_path: Path, dev_run: StackRun) -> None:
    run = dev_run
    snapshot = tmp_path / "urns.dev.txt"
    recorded = {r.urn for r in run.registrations}
    snapshot.write_text("\n".join(sorted(recorded | {"urn:pulumi:dev::mapgate::mapgate:demo:Gone::gone"})))
    failure, _ = snapshot_verdict("dev", run, snapshot)
    assert failure is not None
    assert "mapgate:demo:Gone::gone" in failure
    assert failure.endswith(RECORD)


def test_a_new_stack_without_a_snapshot_is_a_note(tmp_path: Path) -> None:
    failure, note = snapshot_verdict("qa", run_stack(load_stack_file("dev"), stack="qa"), tmp_path / "none.txt")
    assert failure is None
    assert note == f"stack qa has no URN snapshot yet; record it with: {RECORD}"
