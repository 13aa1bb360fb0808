"""`mapgate plan --json` and `--diff`: a versioned document keyed by URN, and the changes between two plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapgate.cli import plan_json
from mapgate.cli.main import main
from mapgate.cli.plan import Plan, diff_warnings, make_plan
from tests.harness import FIXTURE_PROJECT, ROOT, changed, with_prefix
from tests.test_cli_plan import _project_with

SNAPSHOTS = ROOT / "tests" / "snapshots"


def project_with(tmp_path: Path, config: dict[str, object]) -> Path:
    """The project with a changed dev stack file; the app's build directory is the real one."""
    project = _project_with(tmp_path, "dev", with_prefix(config))
    (project / "app").symlink_to(ROOT / "app")
    return project


def test_the_document_lists_every_urn_and_the_cost(tmp_path: Path, dev_plan: Plan) -> None:
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--json", str(tmp_path / "dev.json")]) == 0
    written = json.loads((tmp_path / "dev.json").read_text())
    assert written["schema"] == plan_json.SCHEMA == "mapgate-plan/1"
    urns = {r["urn"] for r in written["resources"]}
    # the snapshot keeps pre-0.2 URNs that aliases carry over; the document lists what the program registers
    aliases = {a for r in written["resources"] for a in r["aliases"]}
    assert set((SNAPSHOTS / "urns.dev.txt").read_text().split()) <= urns | aliases
    assert written["cost"]["totalPerMonth"] == round(dev_plan.checked()[1].total_usd, 2)
    table = next(r for r in written["resources"] if r["urn"].endswith("::election-lease_table"))
    assert table["inputs"]["billingMode"] == "PAY_PER_REQUEST"


def test_a_plan_compared_with_itself_has_no_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dev.json"
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--json", str(out)]) == 0
    capsys.readouterr()
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--diff", str(out)]) == 0
    assert f"no changes between {out} and this plan" in capsys.readouterr().out


def test_the_diff_names_added_changed_and_security_changes(tmp_path: Path, dev_plan: Plan) -> None:
    before = plan_json.document(dev_plan)
    config = changed("dev", ["services", "worker", "port"], 9090)
    health = {"command": ["CMD", "true"]}
    # A service the dev stack does not have yet (it already has a cache).
    config["services"]["queue"] = {"image": "public.ecr.aws/nginx/nginx:1.27", "port": 5672, "allowFrom": ["app"]}
    config["services"]["queue"]["healthCheck"] = health
    project = project_with(tmp_path, config)
    after = plan_json.document(make_plan(project, "dev"))
    diff = plan_json.compare(before, after)
    assert any(urn.endswith("::queue-service") for urn in diff.added)
    assert any(urn.endswith("::worker-task") for urn in diff.changed)
    assert not diff.deleted
    assert "+ firewall-queue_from_app: ingress tcp/5672: app calls queue" in diff.security
    assert "~ firewall-worker_from_app: ingress tcp/8080: app calls worker  ->  ingress tcp/9090: app calls worker" in (
        diff.security
    )
    text = plan_json.render_diff(diff, old="before", new="after")
    assert text.splitlines()[-1] == (
        f"{len(diff.added)} to add, {len(diff.changed)} to change, 0 to replace, 0 to delete"
    )


def test_a_removed_service_is_deleted_and_its_policy_change_is_spelled_out(tmp_path: Path, dev_plan: Plan) -> None:
    before = plan_json.document(dev_plan)
    config = changed("dev", ["services", "app", "leaderElection"], False)
    for key in ("GET /leader", "GET /follower"):
        del config["api"]["routes"][key]
    project = project_with(tmp_path, config)
    diff = plan_json.compare(before, plan_json.document(make_plan(project, "dev")))
    assert any(urn.endswith("::election-lease_table") for urn in diff.deleted)
    assert any(line.startswith("- app-election: allows dynamodb:GetItem") for line in diff.security)


def test_an_alias_is_a_rename_and_a_new_parent_is_a_replacement() -> None:
    def doc(*resources: dict[str, object]) -> dict[str, object]:
        return {"schema": plan_json.SCHEMA, "resources": list(resources)}

    def res(urn: str, aliases: tuple[str, ...] = (), **inputs: object) -> dict[str, object]:
        return {"urn": urn, "type": "t", "parent": "", "aliases": list(aliases), "inputs": inputs}

    old = doc(res("urn:pulumi:s::p::a$aws:x/y:Y::kept"), res("urn:pulumi:s::p::a$aws:x/y:Y::moved", size=1))
    new = doc(
        res("urn:pulumi:s::p::a$aws:x/y:Y::kept2", aliases=("urn:pulumi:s::p::a$aws:x/y:Y::kept",)),
        res("urn:pulumi:s::p::b$aws:x/y:Y::moved", size=1),
    )
    diff = plan_json.compare(old, new)
    assert diff.renamed == [("urn:pulumi:s::p::a$aws:x/y:Y::kept", "urn:pulumi:s::p::a$aws:x/y:Y::kept2")]
    assert diff.replaced == [("urn:pulumi:s::p::a$aws:x/y:Y::moved", "urn:pulumi:s::p::b$aws:x/y:Y::moved")]
    assert (diff.added, diff.deleted, diff.changed) == ([], [], {})


def test_secrets_never_reach_the_file() -> None:
    secret = {plan_json.SECRET_SIG_KEY: "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    assert plan_json.masked({"a": [secret, {"b": secret}], "c": 1}) == {"a": ["(secret)", {"b": "(secret)"}], "c": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema": "mapgate-plan/1", ', "old.json:1:"),
        ('{"schema": "mapgate-plan/0", "resources": []}', "not a mapgate-plan/1 plan (schema: 'mapgate-plan/0')"),
    ],
)
def test_a_bad_old_plan_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    old = tmp_path / "old.json"
    old.write_text(text)
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--diff", str(old)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert len(err.splitlines()) == 1


def test_a_diff_against_another_stacks_plan_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "prod.json"
    plan_json.write(plan_json.document(make_plan(FIXTURE_PROJECT, "prod")), old)
    args = ["plan", "-s", "dev", "--project-dir", str(FIXTURE_PROJECT), "--out", str(tmp_path), "--diff", str(old)]
    assert main(args) == 0
    out = capsys.readouterr().out
    warning = "warning: the old plan is of stack 'prod', this one of stack 'dev': the diff compares two stacks"
    assert warning in out
    assert out.index(warning) < out.index(f"changes from {old} to this plan")


def test_the_diff_warns_about_another_project_or_region_and_not_about_the_same_stack() -> None:
    def document(project: str, stack: str, region: str) -> dict[str, object]:
        urn = f"urn:pulumi:{stack}::{project}::aws:ec2/vpc:Vpc::network-vpc"
        return {"stack": stack, "region": region, "resources": [{"urn": urn}]}

    same = document("mapgate", "dev", "us-east-1")
    assert diff_warnings(same, document("mapgate", "dev", "us-east-1")) == []
    assert diff_warnings(document("shop", "dev", "eu-west-1"), same) == [
        "warning: the old plan is of project 'shop', this one of project 'mapgate': the diff compares two "
        "projects, not a change of one",
        "warning: the old plan is of region 'eu-west-1', this one of region 'us-east-1': the diff compares two "
        "regions, not a change of one",
    ]
