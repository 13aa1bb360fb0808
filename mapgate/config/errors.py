"""How config problems are told: one line each, with the key path, the bad value and what is allowed."""

from __future__ import annotations

import difflib
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from mapgate import PROJECT
from mapgate.config.base import join, shortened
from mapgate.config.stack import StackConfig

Loc = tuple[str | int, ...]


class FieldGroup(str):
    """Several keys of one object that a rule relates, shown in a key path as `protocol/records`."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the config, found by a field validator or a cross-rule."""

    loc: Loc
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{key_path(self.loc)}: {shortened(self.value)} — {self.message}"


class ConfigError(ValueError):
    """Stack config that cannot be deployed. `problems` holds one line per bad key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(
            f"invalid stack config ({count}); nothing was created:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def key_path(loc: Loc) -> str:
    """('services', 'app', 'allowFrom', 0) -> 'services.app.allowFrom[0]'."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for an error in a dict key rather than its value
            continue
        if isinstance(part, FieldGroup):
            out += f".{part}" if out else str(part)
        elif isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(top level)"


def describe(error: ErrorDetails) -> str:
    """One pydantic error as a user reads it."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        allowed = keys_at(parent)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"did you mean {close[0]!r}? " if close else ""
        where = key_path(loc) if parent else f"{PROJECT}:{key}"
        return f"{where}: unknown key; {hint}allowed keys: {join(allowed)}"
    if kind == "missing":
        return f"{key_path(loc)}: required key is missing"
    message = error["msg"].replace("Input should be", "must be")
    return str(Problem(*_narrowed(loc, error), message))


def _narrowed(loc: Loc, error: ErrorDetails) -> tuple[Loc, Any]:
    """The key path and value an error is about: below the failing value (`at`), or the related keys of the
    failing object (`fields`), rather than the whole object."""
    context = error.get("ctx") or {}
    value = error["input"]
    for part in context.get("at") or ():
        loc, value = (*loc, part), value.get(part) if isinstance(value, dict) else value
    fields = context.get("fields") or ()
    if fields:
        loc = (*loc, FieldGroup("/".join(fields)))
        value = {key: value[key] for key in fields if key in value} if isinstance(value, dict) else value
    if context.get("shown") is not None:
        value = context["shown"]
    return loc, value


def unknown_name(name: str, known: list[str], what: str = "service") -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"no {what} named {name!r}; {hint}{what}s: {join(known)}"


def keys_at(loc: Loc) -> list[str]:
    """The keys a user may write at `loc`, for 'did you mean' hints."""
    model: Any = StackConfig
    for part in loc:
        model = _unwrap(model)
        if isinstance(model, type) and issubclass(model, BaseModel):
            by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
            field = by_alias.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:
            args = typing.get_args(model)
            model = args[-1] if args else None
    model = _unwrap(model)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or n for n, f in model.model_fields.items()]
    return []


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            models = [a for a in typing.get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
            if not models:
                return annotation
            annotation = models[0]
        else:
            return annotation


class StackFileError(ValueError):
    """A stack file that cannot be read as the Pulumi CLI reads it: one error, with file:line:column and the line."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None, text: str = ""):
        self.path, self.message, self.line, self.column, self.text = path, message, line, column, text
        where = path if line is None else f"{path}:{line}:{column}"
        shown = ""
        if text.strip():
            caret = " " * max((column or 1) - 1, 0) + "^"
            shown = f"\n    {text.rstrip()}\n    {caret}"
        super().__init__(f"{where}: {message}{shown}")
