"""Manifests read as Copilot reads them: YAML 1.2 (core schema), keeping every key's line and column.

Copilot parses with go-yaml v3, a YAML 1.2 reader: `on:` is the key "on" (PyYAML's 1.1 reading makes it the
boolean True) and `-05:00` is a string (1.1 reads the sexagesimal integer -300). ruamel.yaml composes the node
graph under 1.2 rules; this module turns it into plain data whose scalars keep their source text, because a
variable's value is that text (`0.10` stays "0.10", as go-yaml gives it to a string field).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mapgate.importers.copilot.errors import CopilotInputError

KeyPath = tuple[str, ...]
_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True)
class Scalar:
    """A scalar as written: its text, and its YAML 1.2 core-schema type (str, int, float, bool or null)."""

    text: str
    kind: str

    @property
    def value(self) -> Any:
        if self.kind == "null":
            return None
        if self.kind == "bool":
            return self.text.lower() == "true"
        if self.kind == "int":
            text = self.text.replace("_", "")
            return int(text, 0) if text.lower().startswith(("0o", "0x")) else int(text, 10)
        if self.kind == "float":
            try:
                return float(self.text)
            except ValueError:  # .inf, .nan
                return float(self.text.lower().replace(".", "", 1))
        return self.text

    def __str__(self) -> str:
        return "" if self.kind == "null" else self.text


@dataclass
class Document:
    """One manifest: its data (dicts, lists, `Scalar`s) and where each key is, by key path."""

    path: Path
    data: Any
    marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, key: KeyPath) -> tuple[int, int]:
        """1-based (line, column) of `key`, or of its nearest parent that has one."""
        while key and key not in self.marks:
            key = key[:-1]
        return self.marks.get(key, (1, 1))

    def error(self, key: KeyPath, message: str) -> CopilotInputError:
        line, column = self.where(key)
        return CopilotInputError(message, self.path, line, column)


def _kind(node: ScalarNode) -> str:
    tag = str(getattr(node.tag, "value", node.tag) or "")
    if tag.startswith(_TAG):
        name = tag[len(_TAG) :]
        return name if name in ("str", "int", "float", "bool", "null") else "str"
    return "str"


def _build(node: Node, doc: Document, key: KeyPath) -> Any:
    if isinstance(node, ScalarNode):
        return Scalar(str(node.value), _kind(node))
    if isinstance(node, SequenceNode):
        return [_build(item, doc, (*key, str(i))) for i, item in enumerate(node.value)]
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "<<" and _kind(key_node) == "str":
                merged = _build(value_node, doc, key)  # go-yaml honours merge keys; earlier keys win
                for part in merged if isinstance(merged, list) else [merged]:
                    if isinstance(part, dict):
                        for k, v in part.items():
                            result.setdefault(k, v)
                continue
            if not isinstance(key_node, ScalarNode):
                mark = key_node.start_mark
                raise CopilotInputError("a mapping key must be a plain value", doc.path, mark.line + 1, mark.column + 1)
            name = str(key_node.value)
            doc.marks[(*key, name)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[name] = _build(value_node, doc, (*key, name))
        return result
    return None


def load(path: Path) -> Document:
    """Read one manifest. Raises CopilotInputError (`file:line:column: problem`) if it is not YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CopilotInputError(f"not UTF-8 text ({error.reason})", path, 1, 1) from None
    except OSError as error:
        raise CopilotInputError(f"cannot read it: {error.strerror or error}", path) from None
    reader = YAML(typ="rt", pure=True)
    reader.version = (1, 2)
    doc = Document(path, None)
    try:
        node = reader.compose(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(part) for part in (error.context, error.problem) if part)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise CopilotInputError(f"not YAML: {problem}", path, line, column) from None
    except YAMLError as error:
        raise CopilotInputError(f"not YAML: {error}", path, 1, 1) from None
    doc.data = _build(node, doc, ()) if node is not None else None
    return doc


def plain(data: Any) -> Any:
    """The data with each scalar as its typed value (for reading sizes, counts, flags)."""
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data.value if isinstance(data, Scalar) else data


def leaves(data: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    """Every key path whose value is not a non-empty mapping: what the report accounts for, one line each."""
    if isinstance(data, dict) and data:
        found: list[KeyPath] = []
        for key, value in data.items():
            found += leaves(value, (*prefix, key))
        return found
    return [prefix] if prefix else []
