"""schema/stack.schema.json: generated from the config model, current, and as strict as mapgate about keys."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import yaml
from jsonschema.exceptions import best_match

from mapgate.config import reference, schema
from tests.harness import ROOT

STACK_FILES = sorted(ROOT.glob("Pulumi.*.yaml"))
SCHEMA_COMMENT = "# yaml-language-server: $schema=./schema/stack.schema.json"


def validator() -> jsonschema.Draft202012Validator:
    document = json.loads(schema.SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def errors(stack_file: dict[str, Any]) -> list[str]:
    return sorted(e.message for e in validator().iter_errors(stack_file))


def error_paths(stack_file: dict[str, Any]) -> list[list[Any]]:
    """Where each error is. An optional block (`healthCheck: HealthCheck | None`) is an anyOf: its error is the one
    inside it that an editor shows (jsonschema's best_match descends into the anyOf), not the block as a whole."""
    return [list(best_match([e]).absolute_path) for e in validator().iter_errors(stack_file)]


def test_the_committed_schema_is_the_models() -> None:
    assert schema.SCHEMA_FILE.read_text() == schema.rendered(), "run: python -m mapgate.config.schema"


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_the_shipped_stack_files_name_the_schema_and_pass_it(path: Any) -> None:
    assert path.read_text().splitlines()[0] == SCHEMA_COMMENT
    assert errors(yaml.safe_load(path.read_text())) == []


def test_a_misspelt_key_is_marked_where_mapgate_would_reject_it() -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["mapgate:logRetentionDay"] = 7
    stack["config"]["mapgate:services"]["app"]["desiredcount"] = 2
    assert ["config", "mapgate:logRetentionDay"] in error_paths(stack)  # only a secret may be an unknown key
    assert any("'desiredcount'" in e for e in errors(stack)), errors(stack)


def test_a_secret_config_value_passes_and_a_plain_unknown_key_does_not() -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["mapgate:dbPassword"] = {"secure": "v1:AAAA"}
    assert errors(stack) == []
    stack["config"]["mapgate:dbPassword"] = "hunter2"
    assert error_paths(stack) == [["config", "mapgate:dbPassword"]]


def test_a_wrong_type_is_marked_and_other_namespaces_pass() -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["mapgate:containerInsights"] = "sometimes"
    stack["config"]["myteam:owner"] = "platform"
    assert errors(stack) == ["'sometimes' is not of type 'boolean'"]


def test_namespace_and_provider_typos_are_marked_and_real_settings_pass() -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"] |= {"aws:profile": "dev", "aws:defaultTags": {"tags": {"team": "x"}}}
    stack["config"] |= {"awsx:foo": 1, "myteam:owner": "platform", "mapgates-ops:x": 1}
    assert errors(stack) == []
    for typo in ("mapgat:logRetentionDays", "mapgte:x", "amws:x", "aws:regoin", "pulumi_:x", "dokcer:x"):
        marked = {**stack, "config": {**stack["config"], typo: "x"}}
        (error,) = errors(marked)
        assert error.startswith(f"'{typo}' does not match any of the regexes"), typo


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["services", "app", "port"], 70000),
        (["services", "app", "cpu"], 999),
        (["services", "app", "desiredCount"], 1001),
        (["services", "app", "healthCheck", "interval"], 1),
        (["logRetentionDays", None], 8),
        (["api", "throttling", "rateLimit"], 0),
        (["api", "timeoutMs"], 30001),
    ],
    ids=lambda v: str(v),
)
def test_ranges_and_enums_the_model_knows_are_in_the_schema(path: list[Any], value: Any) -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    node = stack["config"]
    key = f"mapgate:{path[0]}"
    if path[1:] == [None]:
        node[key] = value
        where = ["config", key]
    else:
        node = node[key] if key in node else node.setdefault(key, {})
        for part in path[1:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        where = ["config", key, *path[1:]]
    assert error_paths(stack) == [where]


# -- the README's config reference: rows that cover the schema, and the table that is the rows ----------------


def schema_paths() -> dict[str, Any]:
    model, definitions = schema.model_schema()
    return dict(schema.properties(model, definitions))


def test_the_reference_rows_cover_every_key_and_no_other() -> None:
    paths = schema_paths()
    documented = [path for row in reference.ROWS for path in row.paths]
    unknown = [d for d in documented if d.removesuffix(".**") not in paths]
    assert unknown == [], f"rows for keys the model lacks: {unknown}"
    leaves = [p for p in paths if not any(q.startswith(f"{p}.") for q in paths)]
    missing = [p for p in leaves if not any(reference.covers(d, p) for d in documented)]
    assert missing == [], f"add a row to mapgate/config/reference.py for {missing}"


def test_a_key_without_a_row_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = tuple(r for r in reference.ROWS if "services.*.dnsTtl" not in r.paths)
    monkeypatch.setattr(reference, "ROWS", rows)
    with pytest.raises(AssertionError, match=r"services\.\*\.dnsTtl"):
        test_the_reference_rows_cover_every_key_and_no_other()


def test_the_reference_defaults_are_the_models() -> None:
    paths = schema_paths()
    checked = 0
    for row in reference.ROWS:
        for path in row.paths:
            default = paths[path.removesuffix(".**")].get("default")
            if isinstance(default, bool):
                default = str(default).lower()
            elif isinstance(default, float) and default.is_integer():
                default = int(default)  # the README writes 50, not 50.0
            if default is None or isinstance(default, list | dict):
                continue
            checked += 1
            assert f"`{default}`" in row.default, (row.key, path, default, row.default)
    assert checked >= 20


def test_the_readme_table_is_the_reference() -> None:
    readme = (ROOT / "README.md").read_text()
    assert reference.readme_with_table(readme) == readme, "run: python -m mapgate.config.reference"


def test_the_schema_hover_text_is_the_reference() -> None:
    cpu = json.loads(schema.SCHEMA_FILE.read_text())["$defs"]["ServiceConfig"]["properties"]["cpu"]
    assert cpu["description"] == reference.notes_by_path()["services.*.cpu"]
