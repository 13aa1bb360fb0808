"""The JSON Schema of a mapgate stack file, for editors: completion, hover text and typo marks as you type.

Generated from the config model itself (`StackConfig`), so it cannot drift from what `pulumi up` accepts; the
model still checks more than a schema can say (cpu/memory pairs, cross-rules). Write it with
`python -m mapgate.config.schema` (tests/test_schema.py fails when the committed file is stale).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mapgate import PROJECT
from mapgate.config.reference import notes_by_path
from mapgate.config.source import KNOWN_NAMESPACES, aws_provider_keys
from mapgate.config.stack import StackConfig

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "stack.schema.json"
NAMESPACE_CHARACTER = "[A-Za-z0-9_.-]"


def one_edit_away(name: str) -> list[str]:
    """Patterns for `name` and every name one edit from it (a letter dropped, added, changed or two swapped).

    Plain ECMA-262 regex, which editors use: `name` is letters and '-', so nothing needs escaping.
    """
    assert re.fullmatch(r"[a-z-]+", name), name
    c = NAMESPACE_CHARACTER
    patterns = {name}
    patterns |= {name[:i] + name[i + 1 :] for i in range(len(name))}
    patterns |= {name[:i] + c + name[i + 1 :] for i in range(len(name))}
    patterns |= {name[:i] + c + name[i:] for i in range(len(name) + 1)}
    patterns |= {name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(len(name) - 1)}
    return sorted(patterns)


# Config keys of other namespaces (a user's own, say `myteam:`): the Pulumi CLI passes them on, mapgate ignores
# them. A namespace one edit from one mapgate reads (`mapgat:`, `aws:` itself) is not among them: `mapgate:` and
# `aws:` keys are listed, the other known namespaces allowed by name, and a near miss is then an unknown key.
OTHER_NAMESPACE = rf"^(?!(?:{'|'.join(p for n in KNOWN_NAMESPACES for p in one_edit_away(n))}):){NAMESPACE_CHARACTER}+:"
KNOWN_OTHER_NAMESPACE = rf"^(?:{'|'.join(n for n in KNOWN_NAMESPACES if n not in (PROJECT, 'aws'))}):"


def properties(schema: dict[str, Any], definitions: dict[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every config path under a model's schema (`services.*.cpu`), with the schema of its property."""
    node = _resolved(schema, definitions)
    candidates = [node, *(_resolved(alt, definitions) for alt in node.get("anyOf", []))]
    for candidate in candidates:
        for key, sub in candidate.get("properties", {}).items():
            here = f"{path}.{key}" if path else key
            yield here, sub
            yield from properties(sub, definitions, here)
        extra = candidate.get("additionalProperties")
        if isinstance(extra, dict) and ("$ref" in extra or "properties" in extra):
            yield from properties(extra, definitions, f"{path}.*")


def _resolved(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return definitions[ref.rsplit("/", 1)[-1]] if isinstance(ref, str) else schema


def model_schema() -> tuple[dict[str, Any], dict[str, Any]]:
    """The config model's schema, with each documented key's text from the reference table (hover text)."""
    model = StackConfig.model_json_schema(by_alias=True, mode="validation")
    definitions = model.pop("$defs", {})
    notes = notes_by_path()
    for path, prop in properties(model, definitions):
        if path in notes:
            prop["description"] = notes[path]
    return model, definitions


def stack_file_schema() -> dict[str, Any]:
    model, definitions = model_schema()
    required = [f"{PROJECT}:{key}" for key in model.get("required", []) if key != "namespace"]
    config = {
        "type": "object",
        "description": "Stack settings. mapgate reads the `mapgate:` keys; see the README's config reference.",
        "properties": {
            **{f"{PROJECT}:{key}": value for key, value in model["properties"].items()},
            "aws:region": {"type": "string", "description": "The AWS Region to deploy to, e.g. us-east-1."},
        },
        "patternProperties": {
            OTHER_NAMESPACE: {},
            KNOWN_OTHER_NAMESPACE: {},
            # The AWS provider's own settings (aws:region, aws:profile, aws:defaultTags…), as its SDK reads them.
            rf"^aws:(?:{'|'.join(aws_provider_keys())})(?:$|[.\[])": {},
            # Any other `mapgate:` key must be a secret that a service's `secrets: {NAME: {config: key}}` names
            # (`pulumi config set --secret`): the stack file holds it encrypted. Anything else is a typo.
            rf"^{PROJECT}:(?!({'|'.join(sorted(model['properties']))})$)": {
                "type": "object",
                "description": "A secret config value (pulumi config set --secret), named by a service's secrets.",
                "properties": {"secure": {"type": "string"}},
                "required": ["secure"],
                "additionalProperties": False,
            },
        },
        "additionalProperties": False,
        "required": required,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "mapgate stack file (Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {"config": config},
        "$defs": definitions,
    }


def rendered() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_FILE.parent.mkdir(exist_ok=True)
    SCHEMA_FILE.write_text(rendered())
    print(f"wrote {SCHEMA_FILE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
