"""`mapgate plan --json FILE` and `--diff OLD.json`: the plan as data, and what changed between two plans.

The document is versioned (`schema`); docs/plan-json.md describes it. Resources are keyed by URN, the identity
Pulumi itself uses, so a diff says what `pulumi up` would add, change, replace or delete. Like `cdk diff`, it
calls out IAM and security-group changes, the ones a reviewer must not miss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mapgate import resource_types as types
from mapgate.changes import diff as changes
from mapgate.changes.facts import ReplacementFacts
from mapgate.changes.impact import disruptive
from mapgate.changes.references import references
from mapgate.cli.plan import Plan, advisories, describe, policy_actions

SCHEMA = (
    "mapgate-plan/1"  # keys were added (options, references, id) since its first version: a reader of either reads both
)
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # Pulumi's marker for a secret value on the wire
SECRET = "(secret)"
SECURITY_TYPES = frozenset(
    {types.ROLE, types.ROLE_POLICY, types.ROLE_POLICY_ATTACHMENT, types.SECURITY_GROUP}
    | {types.INGRESS_RULE, types.EGRESS_RULE}
)


class PlanFileError(Exception):
    """A plan file that cannot be read, or is not a mapgate plan this version understands."""


def masked(value: Any) -> Any:
    """The value with every Pulumi secret replaced by `(secret)`, so a plan file can be shared."""
    if isinstance(value, Mapping):
        if SECRET_SIG_KEY in value:
            return SECRET
        return {str(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def document(plan: Plan) -> dict[str, Any]:
    run, cost = plan.checked()
    inputs = {(r.typ, r.name): r for r in run.resources}
    refs = references(run)
    resources = []
    for registration in sorted(run.registrations, key=lambda r: r.urn):
        custom = inputs.get((registration.typ, registration.name))
        resources.append(
            {
                "urn": registration.urn,
                "type": registration.typ,
                "parent": registration.parent,
                "aliases": sorted(registration.alias_urns),
                "component": custom is None,
                "id": custom.id if custom is not None else "",
                "inputs": masked(custom.inputs) if custom is not None else {},
                "options": options(registration),
                "references": refs.get(registration.urn, []),
            }
        )
    return {
        "schema": SCHEMA,
        "stack": plan.stack,
        "region": plan.region,
        "resources": resources,
        "cost": {
            "currency": "USD",
            "totalPerMonth": round(cost.total_usd, 2),
            "items": [
                {"name": i.name, "quantity": i.quantity, "unit": i.unit, "unitPrice": i.unit_usd, "usd": i.usd}
                for i in cost.items
            ],
        },
        "findings": list(plan.findings),
        "advisories": advisories(plan),
    }


def options(registration: Any) -> dict[str, Any]:
    """The resource options a reviewer (and the replacement analysis) needs to see."""
    return {
        "deleteBeforeReplace": registration.delete_before_replace,
        "ignoreChanges": sorted(registration.ignore_changes),
        "aliases": sorted(registration.alias_urns),
        "protect": registration.protect,
        "replaceOnChanges": sorted(registration.replace_on_changes),
        "dependsOn": sorted(registration.depends_on),
    }


def write(plan_document: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(plan_document, indent=1, sort_keys=True) + "\n")


def read(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except OSError as error:
        raise PlanFileError(f"{path}: cannot read: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise PlanFileError(f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}") from error
    if not isinstance(loaded, dict) or loaded.get("schema") != SCHEMA:
        found = loaded.get("schema") if isinstance(loaded, dict) else type(loaded).__name__
        raise PlanFileError(f"{path}: not a {SCHEMA} plan (schema: {found!r}); write it with `mapgate plan --json`")
    return loaded


# --- the diff -------------------------------------------------------------------------------------------------


@dataclass
class Diff:
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    """(old URN, new URN): the same logical name under a new type or parent, which Pulumi replaces."""
    renamed: list[tuple[str, str]] = field(default_factory=list)
    """(old URN, new URN) kept by an alias: no replacement."""
    changed: dict[str, list[str]] = field(default_factory=dict)
    """URN -> the input keys whose values differ."""
    security: list[str] = field(default_factory=list)
    """Readable lines for IAM and security-group changes."""
    analysis: changes.Changes = field(default_factory=changes.Changes)
    """Replacements a real `pulumi up` makes (by the provider's rules), knock-on ones included, and collisions."""

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.deleted or self.replaced or self.renamed or self.changed or self.analysis.replaced
        )


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _type(urn: str) -> str:
    return urn.rsplit("::", 1)[0].rsplit("$", 1)[-1].rsplit("::", 1)[-1]


def compare(old: Mapping[str, Any], new: Mapping[str, Any], facts: ReplacementFacts | None = None) -> Diff:
    """What changed by URN; with `facts`, also which changes replace what (and which would collide)."""
    before = {r["urn"]: r for r in old["resources"]}
    after = {r["urn"]: r for r in new["resources"]}
    diff = Diff()
    claimed: dict[str, str] = {}  # old URN -> the new URN whose alias takes it over
    for urn, resource in after.items():
        for alias in resource.get("aliases", []):
            if alias in before and alias not in after:
                claimed[alias] = urn
    gone = [u for u in before if u not in after and u not in claimed]
    fresh = [u for u in after if u not in before and u not in claimed.values()]
    for old_urn in list(gone):
        twin = next((u for u in fresh if _name(u) == _name(old_urn) and _type(u) == _type(old_urn)), None)
        if twin is not None:
            diff.replaced.append((old_urn, twin))
            gone.remove(old_urn)
            fresh.remove(twin)
    diff.deleted, diff.added = sorted(gone), sorted(fresh)
    diff.renamed = sorted(claimed.items())
    previous = {u: u for u in after if u in before} | {new_urn: old_urn for old_urn, new_urn in claimed.items()}
    for new_urn, old_urn in sorted(previous.items()):
        a, b = before[old_urn]["inputs"], after[new_urn]["inputs"]
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        if keys:
            diff.changed[new_urn] = keys
    diff.security = _security_lines(before, after, previous, diff)
    if facts is not None:
        diff.analysis = changes.analyse(old, new, facts)
        for urn in diff.analysis.replaced_urns:
            diff.changed.pop(urn, None)
        for urn, paths in diff.analysis.updated.items():
            if urn not in diff.changed and paths:
                diff.changed[urn] = sorted({p.split(".")[0].split("[")[0] for p in paths})
    return diff


def _security_lines(
    before: Mapping[str, Any], after: Mapping[str, Any], previous: Mapping[str, str], diff: Diff
) -> list[str]:
    """`previous`: each kept resource's old URN, by its new one (the same URN, or the one its alias takes over)."""
    lines: list[str] = []

    def summary(resource: Mapping[str, Any]) -> str:
        return describe(resource["type"], dict(resource["inputs"])) or resource["type"]

    for urn in diff.added:
        if after[urn]["type"] in SECURITY_TYPES:
            lines.append(f"+ {_name(urn)}: {summary(after[urn])}")
    for urn in diff.deleted:
        if before[urn]["type"] in SECURITY_TYPES:
            lines.append(f"- {_name(urn)}: {summary(before[urn])}")
    for urn in diff.changed:
        resource = after[urn]
        if resource["type"] not in SECURITY_TYPES:
            continue
        old = before[previous[urn]]
        if resource["type"] == types.ROLE_POLICY:
            was = set(policy_actions(json.loads(old["inputs"]["policy"])))
            now = set(policy_actions(json.loads(resource["inputs"]["policy"])))
            grants = [f"+{a}" for a in sorted(now - was)] + [f"-{a}" for a in sorted(was - now)]
            lines.append(f"~ {_name(urn)}: {' '.join(grants) or 'same actions, other resources or conditions'}")
        else:
            lines.append(f"~ {_name(urn)}: {summary(old)}  ->  {summary(resource)}")
    return lines


def render_diff(diff: Diff, *, old: str, new: str) -> str:
    if diff.empty:
        return f"no changes between {old} and {new}"
    lines = [f"changes from {old} to {new} (by URN):"]
    lines += [f"+ {urn}" for urn in diff.added]
    lines += [f"- {urn}" for urn in diff.deleted]
    lines += [f"+- {o}\n   replaced by {n}" for o, n in diff.replaced]
    lines += [f"= {o}\n   kept by an alias as {n}" for o, n in diff.renamed]
    lines += [f"~ {urn}: {', '.join(keys)}" for urn, keys in diff.changed.items()]
    replacing = changes.render(diff.analysis)
    if replacing:
        lines += ["", *replacing]
    asks = disruptive(diff.analysis.replaced_urns, {r.urn: r.inputs for r in diff.analysis.replaced})
    if asks:
        lines += ["", "advisory (`mapgate up` asks before these):", *(f"  {line}" for line in asks)]
    if diff.security:
        lines += ["", "IAM and security-group changes:", *(f"  {line}" for line in diff.security)]
    counts = (
        f"{len(diff.added)} to add, {len(diff.changed)} to change, "
        f"{len(diff.replaced) + len(diff.analysis.replaced)} to replace, "
        f"{len(diff.deleted)} to delete"
    )
    return "\n".join([*lines, "", counts])
