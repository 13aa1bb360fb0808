"""Which inputs force a replacement, per resource type, as terraform-provider-aws (bridged by pulumi-aws) has them.

The data is mapgate/data/replacement_facts.json, written by tools/replacement_facts.py from the provider source.
It names the pulumi-aws version it was written for; a different installed pulumi-aws makes it stale, and a plan
then stops with one line saying so instead of guessing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

FACTS_PATH = Path(__file__).resolve().parent.parent / "data" / "replacement_facts.json"
SCHEMA = "mapgate-replacement-facts/1"
REGENERATE = "regenerate it with `python tools/replacement_facts.py --source <terraform-provider-aws checkout>`"
_INDEX = re.compile(r"\[\d+\]")


class FactsError(Exception):
    """The facts file cannot be read, is not facts, or was written for another pulumi-aws."""


@dataclass(frozen=True)
class TypeFacts:
    terraform_type: str
    source: str
    """The provider source file the entry was read from (relative to the provider repository)."""
    force_new: tuple[str, ...]
    """Pulumi input paths; `[]` stands for any list index, a block's path covers everything under it."""
    force_new_when: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Paths that force a replacement only while other inputs have these values (e.g. userData)."""


@dataclass(frozen=True)
class ReplacementFacts:
    pulumi_aws: str
    terraform_provider_aws: str
    types: dict[str, TypeFacts]

    def forcing(self, typ: str, path: str, inputs: dict[str, Any] | None = None) -> str | None:
        """The fact (a path from the data) that makes a change at `path` of a `typ` replace it, or None."""
        facts = self.types.get(typ)
        if facts is None:
            return None
        generic = _INDEX.sub("[]", path)
        for fact in facts.force_new:
            if covers(fact, generic):
                return fact
        for fact, condition in facts.force_new_when.items():
            if covers(fact, generic) and all((inputs or {}).get(k) == v for k, v in condition.items()):
                return fact
        return None


def covers(fact: str, path: str) -> bool:
    """True when `path` is `fact` or lies under it (`a.b` covers `a.b.c` and `a.b[]`)."""
    return path == fact or path.startswith((fact + ".", fact + "["))


def installed_pulumi_aws() -> str:
    return metadata.version("pulumi-aws")


def load(path: Path = FACTS_PATH, *, pulumi_aws: str | None = None) -> ReplacementFacts:
    """Read the facts; FactsError (one line) when unreadable, malformed, or stale for the installed pulumi-aws."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise FactsError(f"{path}: cannot read the replacement facts: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise FactsError(f"{path}:{error.lineno}:{error.colno}: replacement facts are not JSON: {error.msg}") from error
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise FactsError(f"{path}: not {SCHEMA} replacement facts; {REGENERATE}")
    expected = pulumi_aws or installed_pulumi_aws()
    if document.get("pulumiAws") != expected:
        raise FactsError(
            f"{path}: replacement facts are stale: written for pulumi-aws {document.get('pulumiAws')}, "
            f"installed is {expected}; {REGENERATE}"
        )
    try:
        types = {
            typ: TypeFacts(entry["tf"], entry["source"], tuple(entry["forceNew"]), dict(entry.get("forceNewWhen", {})))
            for typ, entry in document["resources"].items()
        }
    except (KeyError, TypeError, AttributeError) as error:
        raise FactsError(f"{path}: a resource entry lacks tf, source or forceNew ({error}); {REGENERATE}") from error
    return ReplacementFacts(str(document["pulumiAws"]), str(document.get("terraformProviderAws", "")), types)
