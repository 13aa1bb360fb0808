"""Which input of a resource refers to which other resource, read from a run's resolved values.

Under the mocks a resource's id and computed outputs (ARN, generated name) are fixed strings, so an input that
holds one of them, or embeds an ARN in a document, refers to that resource. A real preview knows these values
only after the resource exists: when the resource is replaced they are unknown, and a dependent whose
replacement-forcing input holds one is replaced too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mapgate.offline import StackRun

_MIN_LENGTH = 6  # shorter computed values ("1", "aws") would match by accident
_MIN_EMBEDDED = 12  # a value found inside a longer string (an ARN, a path, a JSON document) must be distinctive
_STRUCTURED = ("/", ":", "{")  # strings that embed other values: ARNs, resource paths, documents


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every scalar in an input tree with its Pulumi path (`a.b[0].c`)."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from leaves(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def references(run: StackRun) -> dict[str, list[dict[str, str]]]:
    """URN -> [{path, urn}]: the inputs of each custom resource that hold another resource's id or output."""
    urns = {(r.typ, r.name): r.urn for r in run.registrations}
    owner: dict[str, str] = {}
    for resource in run.resources:
        urn = urns[(resource.typ, resource.name)]
        owner[resource.id] = urn
        for key, value in resource.state.items():
            if key not in resource.inputs and isinstance(value, str) and len(value) >= _MIN_LENGTH:
                owner.setdefault(value, urn)
    embeddable = [(value, urn) for value, urn in owner.items() if len(value) >= _MIN_EMBEDDED]
    found: dict[str, list[dict[str, str]]] = {}
    for resource in run.resources:
        urn = urns[(resource.typ, resource.name)]
        refs = []
        for path, value in leaves(resource.inputs):
            if not isinstance(value, str):
                continue
            target = owner.get(value)
            if target is not None and target != urn:
                refs.append({"path": path, "urn": target})
            elif target is None and any(mark in value for mark in _STRUCTURED):
                # e.g. a scaling target's `service/<cluster>/<service name>`, an ARN in a policy document
                found_in = {t for embedded, t in embeddable if t != urn and embedded in value}
                refs += [{"path": path, "urn": t} for t in sorted(found_in)]
        if refs:
            found[urn] = refs
    return found
