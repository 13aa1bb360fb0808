"""Where every manifest key went: mapped, approximated or not supported, each key exactly once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mapgate.importers.copilot.yaml12 import Document, KeyPath, leaves

Status = Literal["mapped", "approximated", "not supported"]
STATUSES: tuple[Status, ...] = ("mapped", "approximated", "not supported")


@dataclass
class Entry:
    status: Status
    detail: str
    """mapped: the mapgate key; approximated: how and what differs; not supported: what to do instead."""


@dataclass
class ManifestLedger:
    """One manifest's keys (those whose value is not a mapping), each with the one entry it ends up with."""

    name: str
    """The manifest's path inside the workspace."""
    doc: Document
    keys: list[KeyPath] = field(init=False)
    entries: dict[KeyPath, Entry] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keys = leaves(self.doc.data)

    def mark(self, prefix: KeyPath, status: Status, detail: str) -> None:
        """Account for every key at or under `prefix` that has no entry yet (first word wins: a key shared by
        every environment is described by the first environment that reads it)."""
        for key in self.keys:
            if key[: len(prefix)] == prefix and key not in self.entries:
                self.entries[key] = Entry(status, detail)

    def has(self, prefix: KeyPath) -> bool:
        return any(key[: len(prefix)] == prefix for key in self.keys)

    def unaccounted(self) -> list[KeyPath]:
        return [key for key in self.keys if key not in self.entries]

    def counts(self) -> dict[Status, int]:
        result = dict.fromkeys(STATUSES, 0)
        for entry in self.entries.values():
            result[entry.status] += 1
        return result
