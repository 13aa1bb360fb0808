"""Stack files as the Pulumi CLI reads them, and the keys outside `mapgate:` that Pulumi would pass on unread."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
from pydantic.alias_generators import to_camel

from mapgate.config import ConfigError, parse_config
from mapgate.config.errors import StackFileError
from mapgate.config.source import aws_provider_keys, foreign_key_problems, read_stack_file
from tests.harness import ROOT, changed, load_stack_file, run_stack, with_prefix


def error_of(tmp_path: Path, text: str | bytes) -> StackFileError:
    path = tmp_path / "Pulumi.x.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path)
    return caught.value


def test_a_syntax_error_names_file_line_column_and_shows_the_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, "config:\n  aws:region: us-east-1\n  mapgate:logRetentionDays: 7\n   oops: 2\n")
    assert str(error) == ("Pulumi.x.yaml:4:8: mapping values are not allowed here\n       oops: 2\n           ^")
    assert (error.line, error.column) == (4, 8)


def test_an_unclosed_bracket_at_the_end_points_at_the_last_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, "config:\n  mapgate:services:\n    app: [\n")
    assert str(error).splitlines() == [
        "Pulumi.x.yaml:3:11: expected the node content, but found '<stream end>' (while parsing a flow node)",
        "        app: [",
        "              ^",
    ]


def test_duplicate_keys_are_an_error_as_in_the_pulumi_cli(tmp_path: Path) -> None:
    text = "config:\n  mapgate:services:\n    app: {port: 80, port: 81}\n"
    assert str(error_of(tmp_path, text)).splitlines()[0] == (
        "Pulumi.x.yaml:3:21: duplicate key 'port' (first at line 3); the Pulumi CLI rejects the file"
    )
    top = error_of(tmp_path, "config:\n  aws:region: us-east-1\n  aws:region: eu-west-1\n")
    assert (top.line, top.column, top.text) == (3, 3, "  aws:region: eu-west-1")


def test_a_merge_key_may_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("base: &b {port: 80, cpu: 256}\nconfig:\n  mapgate:x:\n    <<: *b\n    port: 81\n")
    assert read_stack_file(path) == {"mapgate:x": {"port": 81, "cpu": 256}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"config:\n  a: \xff\n", "Pulumi.x.yaml: is not UTF-8 text (byte 0xff at offset 13)"),
        ("config: [1, 2]\n", "Pulumi.x.yaml: `config:` must be a mapping of keys to values"),
        ("- 1\n", "Pulumi.x.yaml:1:1: must be a mapping with a `config:` key\n    - 1\n    ^"),
    ],
)
def test_other_file_problems_are_one_line(tmp_path: Path, text: str | bytes, message: str) -> None:
    assert str(error_of(tmp_path, text)) == message


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StackFileError, match=r"^Pulumi.gone.yaml: cannot read: No such file or directory$"):
        read_stack_file(tmp_path / "Pulumi.gone.yaml")


def test_the_shipped_stack_files_read_strictly() -> None:
    for stack in ("dev", "prod"):
        assert load_stack_file(stack)["aws:region"] == "us-east-1"


def test_the_aws_keys_are_every_setting_of_the_providers_sdk() -> None:
    """External truth: the properties of pulumi_aws's own config class, in the spelling the engine uses."""
    import pulumi_aws.config

    properties = {to_camel(name) for name, v in vars(pulumi_aws.config.vars._ExportableConfig).items()}
    properties = {p for p in properties if not p.startswith("_")}
    assert set(aws_provider_keys()) == properties
    assert {"region", "profile", "defaultTags", "assumeRoles"} <= set(aws_provider_keys())


def test_typod_namespaces_and_aws_settings_get_a_did_you_mean() -> None:
    keys = ["mapgat:logRetentionDays", "aws:regoin", "aws:region", "aws:defaultTags", "aws:assumeRoles[0].roleArn"]
    assert foreign_key_problems([*keys, "mycompany:owner", "mapgate:services"]) == [
        "aws:regoin: the AWS provider has no such setting; did you mean 'aws:region'?",
        "mapgat:logRetentionDays: unknown namespace 'mapgat', so nothing reads this key; "
        "did you mean 'mapgate:logRetentionDays'?",
    ]
    assert foreign_key_problems(["aws:zzz"]) == [
        "aws:zzz: the AWS provider has no such setting; "
        "see https://www.pulumi.com/registry/packages/aws/installation-configuration/"
    ]


def test_pulumi_up_stops_on_them_with_the_other_problems() -> None:
    config = with_prefix(changed("dev", ["services", "app", "port"], 0))
    config |= {"mapgat:logRetentionDays": 7, "aws:regoin": "eu-west-1"}
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(config)
    text = str(caught.value)
    assert text.startswith("invalid stack config (3 problems); nothing was created:")
    assert "  - aws:regoin: the AWS provider has no such setting; did you mean 'aws:region'?" in text
    assert "did you mean 'mapgate:logRetentionDays'?" in text
    assert "services.app.port: 0" in text


def test_production_without_container_insights_is_rejected_as_the_policy_pack_would() -> None:
    config = changed("prod", ["containerInsights"], False)
    raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, stack="prod", project_dir=ROOT)
    assert caught.value.problems == [
        "containerInsights: false — production stacks need Container Insights (Security Hub ECS.12, which the "
        "policy pack enforces): set containerInsights: true"
    ]
