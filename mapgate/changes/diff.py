"""Two `mapgate plan --json` documents -> what a real `pulumi up` would replace, update, and refuse.

A changed input replaces a resource when the provider marks it ForceNew/RequiresReplace (`facts`), or when the
resource lists it in `replaceOnChanges`. Replacement then propagates as in a real preview: the replaced
resource's id and outputs are unknown, so a dependent whose replacement-forcing input refers to it (`references`)
is replaced too, and one whose other inputs refer to it is updated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mapgate import resource_types as types
from mapgate.changes.facts import ReplacementFacts, covers
from mapgate.changes.impact import Impact, impact, urn_name
from mapgate.changes.references import leaves

# The inputs that make a resource's physical name (the first is the name; without it Pulumi generates one, new on
# every replacement): AWS refuses a second resource with the same values while the
# first exists, so replacing it create-before-delete with these unchanged collides.
PHYSICAL_NAME: dict[str, tuple[str, ...]] = {
    types.DISCOVERY_SERVICE: ("name", "namespaceId", "dnsConfig.namespaceId"),
    types.NAMESPACE: ("name", "vpc"),
    types.LOG_GROUP: ("name",),
    types.CLUSTER: ("name",),
    types.DYNAMODB_TABLE: ("name",),
    types.SSM_PARAMETER: ("name",),
    types.DOMAIN_NAME: ("domainName",),
    types.STAGE: ("name", "apiId"),
    types.ECS_SERVICE: ("name", "cluster"),
    types.ROLE: ("name",),
    types.INSTANCE_PROFILE: ("name",),
    types.DNS_RECORD: ("name", "zoneId", "type"),
    types.CAPACITY_PROVIDERS: ("clusterName",),
    types.API_MAPPING: ("domainName", "apiMappingKey"),
}
AWS_REFUSES = {
    types.DISCOVERY_SERVICE: "ServiceAlreadyExists",
    types.NAMESPACE: "ConflictingDomainExists",
    types.LOG_GROUP: "ResourceAlreadyExistsException",
    types.DYNAMODB_TABLE: "ResourceInUseException",
    types.SSM_PARAMETER: "ParameterAlreadyExists",
}


@dataclass(frozen=True)
class Replacement:
    urn: str
    typ: str
    causes: tuple[str, ...]
    """Why: `<path> forces replacement`, with `: it refers to <name>, which is replaced` for a knock-on one."""
    delete_before_replace: bool
    knock_on: bool
    """True when only a replaced resource it refers to forces it (invisible under the mocks)."""
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return urn_name(self.urn)

    @property
    def impact(self) -> Impact | None:
        return impact(self.typ, self.inputs)

    def line(self) -> str:
        strategy = "delete before replace" if self.delete_before_replace else "create before delete"
        line = f"+- {self.name}: {'; '.join(self.causes)} ({strategy})"
        if self.typ == types.TASK_DEFINITION:
            return f"{line}: a new revision; ECS rolls the service's tasks"
        return line


@dataclass
class Changes:
    replaced: list[Replacement] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    """URN -> input paths that change in place (or become unknown until a replaced resource exists)."""
    collisions: list[str] = field(default_factory=list)
    """Replacements AWS would refuse: `up` would stop part-way."""

    @property
    def replaced_urns(self) -> list[str]:
        return [r.urn for r in self.replaced]


def changed_paths(old: Any, new: Any, path: str = "") -> list[str]:
    """The deepest paths whose values differ (a list of other length differs as a whole at its index range)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in old or key not in new:
                found.append(sub)
            else:
                found += changed_paths(old[key], new[key], sub)
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            sub = f"{path}[{index}]"
            if index >= len(old) or index >= len(new):
                found += [p for p, _ in leaves(new[index] if index < len(new) else old[index], sub)] or [sub]
            else:
                found += changed_paths(old[index], new[index], sub)
        return found
    return [] if old == new else [path]


def _ignored(path: str, ignore: list[str]) -> bool:
    return any(covers(i, path) for i in ignore)


def analyse(old: Mapping[str, Any], new: Mapping[str, Any], facts: ReplacementFacts) -> Changes:
    before = {r["urn"]: r for r in old["resources"]}
    after = {r["urn"]: r for r in new["resources"]}
    previous: dict[str, str] = {urn: urn for urn in after if urn in before}
    for urn, resource in after.items():
        for alias in resource.get("aliases", []):
            if alias in before and alias not in after:
                previous[urn] = alias
    changes = Changes()
    causes: dict[str, list[str]] = {}
    knock_on: set[str] = set()
    for urn, old_urn in sorted(previous.items()):
        resource = after[urn]
        if resource.get("component"):
            continue
        options = resource.get("options", {})
        ignore = list(options.get("ignoreChanges", []))
        paths = [
            p
            for p in changed_paths(before[old_urn]["inputs"], resource["inputs"])
            if p and not _ignored(p, ignore) and not p.startswith("tags")
        ]
        forcing = []
        for path in paths:
            fact = facts.forcing(resource["type"], path, resource["inputs"])
            if fact is not None or any(covers(r, path) for r in options.get("replaceOnChanges", [])):
                forcing.append(f"{path} forces replacement")
        if forcing:
            causes[urn] = forcing
        elif paths:
            changes.updated[urn] = paths
    # Propagate: a replaced resource's id/outputs are unknown to its dependents.
    grew = True
    while grew:
        grew = False
        for urn in previous:
            resource = after[urn]
            if urn in causes or resource.get("component"):
                continue
            ignore = list(resource.get("options", {}).get("ignoreChanges", []))
            for ref in resource.get("references", []):
                if ref["urn"] not in causes or _ignored(ref["path"], ignore):
                    continue
                path = ref["path"]
                replaces = resource.get("options", {}).get("replaceOnChanges", [])
                if facts.forcing(resource["type"], path, resource["inputs"]) or any(covers(r, path) for r in replaces):
                    causes[urn] = [f"{path} forces replacement: it refers to {urn_name(ref['urn'])}, which is replaced"]
                    knock_on.add(urn)
                    changes.updated.pop(urn, None)
                    grew = True
                    break
                changes.updated.setdefault(urn, [])
                if path not in changes.updated[urn]:
                    changes.updated[urn].append(path)
    for urn in sorted(causes):
        resource = after[urn]
        changes.replaced.append(
            Replacement(
                urn,
                resource["type"],
                tuple(causes[urn]),
                bool(resource.get("options", {}).get("deleteBeforeReplace")),
                urn in knock_on,
                resource["inputs"],
            )
        )
    changes.collisions = _collisions(changes, before, after, previous, set(causes))
    return changes


def _collisions(
    changes: Changes,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    previous: Mapping[str, str],
    replaced: set[str],
) -> list[str]:
    found = []
    for urn, resource in sorted(after.items()):
        if resource["type"] == types.SUBNET and urn not in previous:
            found += _subnet_conflicts(urn, resource, before, replaced)
    for replacement in changes.replaced:
        if replacement.delete_before_replace:
            continue
        new = after[replacement.urn]
        old = before[previous[replacement.urn]]
        if replacement.typ == types.SUBNET:
            found += _subnet_conflicts(replacement.urn, new, before, replaced)
            continue
        keys = PHYSICAL_NAME.get(replacement.typ)
        if not keys:
            continue
        present = [k for k in keys if _get(new["inputs"], k) is not None]
        if _get(new["inputs"], keys[0]) is None or any(
            _get(new["inputs"], k) != _get(old["inputs"], k) for k in present
        ):
            continue
        refs = {r["path"]: r["urn"] for r in new.get("references", [])}
        if any(refs.get(k) in replaced for k in present):
            continue  # the name's scope (namespace, cluster, API) is new as well
        shown = ", ".join(f"{k}={_get(new['inputs'], k)}" for k in present)
        refuses = AWS_REFUSES.get(replacement.typ, "an already-exists error")
        found.append(
            f"{replacement.name}: the replacement is created before the old one is deleted, with the same {shown}; "
            f"AWS answers {refuses} and `up` stops part-way"
        )
    return found


def _subnet_conflicts(urn: str, new: Mapping[str, Any], before: Mapping[str, Any], replaced: set[str]) -> list[str]:
    """A subnet created (added, or replaced create-before-delete) while every old subnet of its VPC still exists."""
    refs = {r["path"]: r["urn"] for r in new.get("references", [])}
    if refs.get("vpcId") in replaced:
        return []  # a new VPC: nothing of the old one is in the way
    block = ipaddress.ip_network(new["inputs"]["cidrBlock"])
    live = [
        r
        for r in before.values()
        if r["type"] == types.SUBNET
        and r["inputs"].get("vpcId") == new["inputs"].get("vpcId")
        and ipaddress.ip_network(r["inputs"]["cidrBlock"]).overlaps(block)
    ]
    if not live:
        return []
    names = ", ".join(f"{urn_name(r['urn'])} ({r['inputs']['cidrBlock']})" for r in live)
    return [
        f"{urn_name(urn)}: its block {block} overlaps live subnet(s) {names} in the same VPC; AWS answers "
        "InvalidSubnet.Conflict. Change the zone count together with network.cidr (a new VPC), or create a new "
        "stack and move to it"
    ]


def _get(inputs: Mapping[str, Any], path: str) -> Any:
    value: Any = inputs
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def render(changes: Changes) -> list[str]:
    """The replacement part of `plan --diff`, as `pulumi preview --diff` would say it, with what users see."""
    if not changes.replaced and not changes.collisions:
        return []
    lines = ["replacements (as a real `pulumi up` does them):"]
    lines += [f"  {r.line()}" for r in changes.replaced]
    seen = set()
    meanwhile = []
    for r in changes.replaced:
        found = r.impact
        if found is not None and (r.typ, found) not in seen:
            seen.add((r.typ, found))
            meanwhile.append(f"  {r.name}: {found.users_see} ({found.how_long})")
    if meanwhile:
        lines += ["what users see meanwhile:", *meanwhile]
    if changes.collisions:
        lines += ["refused: these replacements would collide with what still exists:"]
        lines += [f"  ! {c}" for c in changes.collisions]
    return lines
