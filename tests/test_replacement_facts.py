"""The replacement facts: one entry per type mapgate creates, written for the pinned pulumi-aws, read safely.

And `plan --diff` end to end on the README's example: adding SRV to a service's records.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from mapgate import resource_types as types
from mapgate.changes import facts as replacement_facts
from mapgate.cli.main import main
from tests.harness import ROOT, StackRun, changed
from tests.test_plan_json import project_with

FACTS = replacement_facts.load()
CREATED = sorted(
    value for name, value in vars(types).items() if name.isupper() and isinstance(value, str) and ":" in value
)
INVOKES = {v for v in CREATED if v.split(":")[-1].startswith("get")}


@pytest.mark.parametrize("typ", sorted(set(CREATED) - INVOKES))
def test_every_type_mapgate_creates_has_an_entry_with_its_source(typ: str) -> None:
    assert typ in FACTS.types, f"{typ}: no replacement facts; regenerate mapgate/data/replacement_facts.json"
    entry = FACTS.types[typ]
    assert typ.startswith("awsx:") or re.fullmatch(r"internal/service/[a-z0-9]+/[a-z0-9_]+\.go", entry.source)


def test_the_shipped_stacks_create_no_type_without_an_entry(any_run: StackRun) -> None:
    custom = {r.typ for r in any_run.resources if not r.typ.startswith("mapgate:")}
    assert custom - set(FACTS.types) == set()


def test_the_facts_were_written_for_the_pinned_pulumi_aws() -> None:
    """Moving the pin (tools/lock) without regenerating the facts fails here."""
    pinned = re.search(r"^pulumi-aws==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned is not None
    document = json.loads(replacement_facts.FACTS_PATH.read_text())
    assert document["pulumiAws"] == pinned.group(1) == replacement_facts.installed_pulumi_aws()


def test_a_fact_covers_nested_paths_and_any_index() -> None:
    assert FACTS.forcing(types.DISCOVERY_SERVICE, "dnsConfig.dnsRecords[1].type") == "dnsConfig.dnsRecords[].type"
    assert FACTS.forcing(types.DISCOVERY_SERVICE, "dnsConfig.dnsRecords[1].ttl") is None
    assert FACTS.forcing(types.TASK_DEFINITION, "runtimePlatform.cpuArchitecture") is not None
    assert FACTS.forcing(types.INSTANCE, "userData", {"userDataReplaceOnChange": True}) == "userData"
    assert FACTS.forcing(types.INSTANCE, "userData", {"userDataReplaceOnChange": False}) is None
    # A NAT gateway's CustomizeDiff replaces a private gateway on a new secondary address count, not a public one.
    count = "secondaryPrivateIpAddressCount"
    assert FACTS.forcing(types.NAT_GATEWAY, count, {"connectivityType": "private"}) == count
    assert FACTS.forcing(types.NAT_GATEWAY, count, {"connectivityType": "public"}) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (None, "cannot read the replacement facts"),
        ('{"schema": ', "replacement facts are not JSON"),
        ('{"schema": "other"}', "not mapgate-replacement-facts/1"),
        ('{"schema": "mapgate-replacement-facts/1", "pulumiAws": "0.0.1", "resources": {}}', "are stale"),
    ],
)
def test_a_broken_or_stale_facts_file_is_one_line_at_plan_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], text: str | None, says: str
) -> None:
    path = tmp_path / "facts.json"
    if text is not None:
        path.write_text(text)
    monkeypatch.setattr(replacement_facts, "FACTS_PATH", path)
    monkeypatch.setattr(replacement_facts.load, "__defaults__", (path,))
    assert main(["plan", "-s", "dev", "--out", str(tmp_path)]) == 8
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}")
    assert says in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_adding_srv_is_a_delete_first_replacement_and_up_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.json"
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--json", str(old)]) == 0
    capsys.readouterr()
    (tmp_path / "p").mkdir()
    project = project_with(tmp_path / "p", changed("dev", ["services", "worker", "records"], ["A", "SRV"]))
    assert main(["plan", "-s", "dev", "--project-dir", str(project), "--out", str(tmp_path), "--diff", str(old)]) == 0
    out = capsys.readouterr().out
    assert "+- discovery-worker: dnsConfig.dnsRecords[1].type forces replacement (delete before replace)" in out
    assert "worker-service: serviceRegistries" in out  # the ECS service moves its registry in place
    assert "answers nothing until ECS has re-registered its tasks" in out
    assert "advisory (`mapgate up` asks before these):\n  discovery-worker is replaced" in out


def test_a_zone_count_change_is_refused_with_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = tmp_path / "old.json"
    assert main(["plan", "-s", "dev", "--out", str(tmp_path), "--json", str(old)]) == 0
    capsys.readouterr()
    (tmp_path / "p").mkdir()
    project = project_with(tmp_path / "p", changed("dev", ["network", "availabilityZones"], 3))
    assert main(["plan", "-s", "dev", "--project-dir", str(project), "--out", str(tmp_path), "--diff", str(old)]) == 8
    out = capsys.readouterr().out
    assert "InvalidSubnet.Conflict" in out
    assert "together with network.cidr" in out


def test_every_replacement_forcing_input_is_an_input_of_the_pinned_sdk() -> None:
    """External truth: the installed pulumi_aws takes each path's top-level name (a removed or renamed input fails)."""
    generator = _generator()
    for typ, entry in FACTS.types.items():
        if typ.startswith("awsx:"):
            continue
        inputs = generator.sdk_inputs(typ)
        assert inputs is not None, typ
        for path in [*entry.force_new, *entry.force_new_when]:
            assert re.split(r"[.\[]", path)[0] in inputs, f"{typ}: {path} is not an input of pulumi_aws"


def _generator() -> Any:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        return importlib.import_module("replacement_facts")
    finally:
        sys.path.remove(str(ROOT / "tools"))


def test_the_generator_reads_the_provider_source_as_the_checked_in_entries() -> None:
    """tools/replacement_facts.py on provider excerpts gives exactly the checked-in entries for those types."""
    generator = _generator()
    picked = [types.DISCOVERY_SERVICE, types.NAMESPACE, types.VPC_LINK, types.INGRESS_RULE, types.EGRESS_RULE]
    written = generator.generate(
        ROOT / "tests" / "fixtures" / "provider",
        "fixture",
        FACTS.pulumi_aws,
        {t: generator.TF_NAMES[t] for t in picked},
    )
    checked_in = json.loads(replacement_facts.FACTS_PATH.read_text())["resources"]
    facts = ("tf", "source", "forceNew", "forceNewWhen")
    for typ in picked:
        assert {k: v for k, v in written["resources"][typ].items() if k in facts} == {
            k: v for k, v in checked_in[typ].items() if k in facts
        }
    assert written["resources"][types.DISCOVERY_SERVICE]["forceNew"][0] == "dnsConfig.dnsRecords[].type"
    assert "dnsConfig.dnsRecords[].ttl" not in written["resources"][types.DISCOVERY_SERVICE]["forceNew"]


def test_every_entry_says_whether_it_was_read_from_source_and_at_which_revision() -> None:
    """The data is generated: each entry records whether this run read it, and the file revision it read."""
    document = json.loads(replacement_facts.FACTS_PATH.read_text())
    assert document["terraformProviderAws"]  # a version, or "not determined" with the evidence beside it
    assert "terraformProviderAwsEvidence" in document or document["terraformProviderAws"].startswith("v")
    for typ, entry in document["resources"].items():
        if typ.startswith("awsx:"):
            continue
        assert isinstance(entry["readFromSource"], bool), typ
        assert entry["sourceNote"], typ
        if entry["readFromSource"]:
            assert re.fullmatch(r"[0-9a-f]{7,40}", entry.get("sourceCommit", "")) or entry["sourceFileId"], typ


def test_a_partial_checkout_keeps_unread_entries_marked_and_an_unknown_constant_fails(tmp_path: Path) -> None:
    generator = _generator()
    fixtures = ROOT / "tests" / "fixtures" / "provider"
    previous = json.loads(replacement_facts.FACTS_PATH.read_text())
    picked = {t: generator.TF_NAMES[t] for t in (types.DISCOVERY_SERVICE, types.SUBNET)}
    written = generator.generate(fixtures, "fixture", FACTS.pulumi_aws, picked, previous=previous)
    assert written["resources"][types.DISCOVERY_SERVICE]["readFromSource"] is True
    kept = written["resources"][types.SUBNET]  # no subnet file among the fixtures
    assert kept["readFromSource"] is False
    assert kept["forceNew"] == previous["resources"][types.SUBNET]["forceNew"]
    with pytest.raises(LookupError):
        generator.generate(fixtures, "fixture", FACTS.pulumi_aws, picked)
    broken = tmp_path / "provider"
    (broken / "names").mkdir(parents=True)
    (broken / "names" / "attr_consts_gen.go").write_text('const (\n\tAttrName = "name"\n)\n')
    service_dir = broken / "internal" / "service" / "servicediscovery"
    service_dir.mkdir(parents=True)
    source = (fixtures / "internal" / "service" / "servicediscovery" / "service.go").read_text()
    (service_dir / "service.go").write_text(source)
    with pytest.raises(generator.UnknownConstant, match=r"is not in names/attr_consts_gen\.go"):
        generator.generate(
            broken, "fixture", FACTS.pulumi_aws, {types.DISCOVERY_SERVICE: "aws_service_discovery_service"}
        )


def _provider_file(root: Path, service: str, name: str) -> Path:
    """Where a resource's Go file lives in a provider checkout (`internal/service/<service>/<name>`), in a tree
    that also has the generated attribute-name constants file the generator reads first (empty here)."""
    (root / "names").mkdir(exist_ok=True)
    (root / "names" / "attr_consts_gen.go").write_text("package names\n")
    folder = root / "internal" / "service" / service
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_the_generator_reads_keys_named_by_the_files_own_constants_past_comments(tmp_path: Path) -> None:
    """aws_route keys its destinations by constants of its own file, between comment lines: all three force a
    replacement (an earlier generator read only routeTableId there)."""
    generator = _generator()
    _provider_file(tmp_path, "ec2", "vpc_route.go").write_text(
        'package ec2\n\nconst (\n\trouteDestinationCIDRBlock = "destination_cidr_block"\n)\n\n'
        '// @SDKResource("aws_route")\nfunc ResourceRoute() *schema.Resource {\n\treturn &schema.Resource{\n'
        "\t\tSchema: map[string]*schema.Schema{\n"
        '\t\t\t"route_table_id": {\n\t\t\t\tType: schema.TypeString,\n\t\t\t\tForceNew: true,\n\t\t\t},\n'
        "\t\t\t///\n\t\t\t// Destinations, a comment with a comma, here.\n\t\t\t///\n"
        "\t\t\trouteDestinationCIDRBlock: {\n\t\t\t\tType: schema.TypeString,\n\t\t\t\tForceNew: true,\n\t\t\t},\n"
        '\t\t\t"gateway_id": {\n\t\t\t\tType: schema.TypeString,\n\t\t\t},\n'
        "\t\t},\n\t}\n}\n"
    )
    written = generator.generate(tmp_path, "fixture", FACTS.pulumi_aws, {types.EC2_ROUTE: "aws_route"})
    assert written["resources"][types.EC2_ROUTE]["forceNew"] == ["destinationCidrBlock", "routeTableId"]


def test_the_generator_follows_a_schema_variable_and_pulumi_aws_renames(tmp_path: Path) -> None:
    """aws_sns_topic_subscription keeps its schema in a package variable, and pulumi-aws calls topic_arn `topic`."""
    generator = _generator()
    _provider_file(tmp_path, "sns", "topic_subscription.go").write_text(
        "package sns\n\nvar (\n\tsubscriptionSchema = map[string]*schema.Schema{\n"
        '\t\t"endpoint": {\n\t\t\tType: schema.TypeString,\n\t\t\tForceNew: true,\n\t\t},\n'
        '\t\t"raw_message_delivery": {\n\t\t\tType: schema.TypeBool,\n\t\t},\n'
        '\t\t"topic_arn": {\n\t\t\tType: schema.TypeString,\n\t\t\tForceNew: true,\n\t\t},\n\t}\n)\n\n'
        '// @SDKResource("aws_sns_topic_subscription")\nfunc resourceTopicSubscription() *schema.Resource {\n'
        "\treturn &schema.Resource{\n\t\tSchema: subscriptionSchema,\n\t}\n}\n"
    )
    written = generator.generate(
        tmp_path, "fixture", FACTS.pulumi_aws, {types.SNS_SUBSCRIPTION: "aws_sns_topic_subscription"}
    )
    assert written["resources"][types.SNS_SUBSCRIPTION]["forceNew"] == ["endpoint", "topic"]


def test_the_generator_reads_the_returned_schema_past_a_state_upgrade_schema(tmp_path: Path) -> None:
    """aws_ecs_service builds `resourceV0` (the old schema, for a state upgrade) before the resource it returns:
    the facts come from the returned one (an earlier generator read resourceV0 and kept a stale ForceNew)."""
    generator = _generator()
    _provider_file(tmp_path, "ecs", "service.go").write_text(
        '// @SDKResource("aws_ecs_service")\nfunc resourceService() *schema.Resource {\n'
        "\tresourceV0 := &schema.Resource{\n\t\tSchema: map[string]*schema.Schema{\n"
        '\t\t\t"launch_type": {\n\t\t\t\tType: schema.TypeString,\n\t\t\t\tForceNew: true,\n\t\t\t},\n'
        "\t\t},\n\t}\n\t_ = resourceV0\n\n"
        "\treturn &schema.Resource{\n\t\tSchema: map[string]*schema.Schema{\n"
        '\t\t\t"launch_type": {\n\t\t\t\tType: schema.TypeString,\n\t\t\t},\n'
        '\t\t\t"name": {\n\t\t\t\tType: schema.TypeString,\n\t\t\t\tForceNew: true,\n\t\t\t},\n'
        "\t\t},\n\t}\n}\n"
    )
    written = generator.generate(tmp_path, "fixture", FACTS.pulumi_aws, {types.ECS_SERVICE: "aws_ecs_service"})
    assert written["resources"][types.ECS_SERVICE]["forceNew"] == ["name"]


def test_each_entry_read_from_source_is_compared_with_the_pinned_sdk_inputs() -> None:
    """A file whose top-level inputs differ from the installed pulumi_aws SDK's is not the pinned revision."""
    generator = _generator()
    assert generator.sdk_comparison(frozenset({"name", "vpc"}), {"name", "vpc", "region"}) == "match"
    assert generator.sdk_comparison(frozenset({"name", "instanceId"}), {"name", "odbNetworkArn", "region"}) == {
        "onlyInSource": ["instanceId"],
        "onlyInSdk": ["odbNetworkArn"],
    }
    document = json.loads(replacement_facts.FACTS_PATH.read_text())
    for typ, entry in document["resources"].items():
        if entry.get("readFromSource") and entry["source"].endswith(".go"):
            assert "pinnedSdkInputs" in entry, typ
