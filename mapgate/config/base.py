"""The building blocks every config section uses: the model base, constrained types and error texts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema


class Model(BaseModel):
    """camelCase keys as users write them, strict types, unknown keys rejected, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        extra="forbid",
        strict=True,
        frozen=True,
    )


def fail(
    kind: str, message: str, *, fields: Sequence[str] = (), at: Sequence[str] = (), shown: Any = None
) -> PydanticCustomError:
    """A validation error whose text is final (pydantic templates would eat braces such as {build: app}).

    A rule that relates several keys of one object names them in `fields` (camelCase, as written): the error's key
    path then ends in `protocol/records` and it shows those keys' values only, not the whole object. `at` points
    below the failing value (an attribute of a map), and `shown` replaces the value shown (e.g. names only).
    """
    return PydanticCustomError(
        kind, "{message}", {"message": message, "fields": tuple(fields), "at": tuple(at), "shown": shown}
    )


# A value longer than this, as JSON, is shown shortened: its start and its full length.
VALUE_SHOWN_MAX = 80


def shortened(value: Any) -> str:
    """A value as an error shows it: JSON, cut to VALUE_SHOWN_MAX characters with its length when longer."""
    text = json.dumps(value, default=str)
    if len(text) <= VALUE_SHOWN_MAX:
        return text
    return f"{text[: VALUE_SHOWN_MAX - 1]}… ({len(text):,} characters)"


def join(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


@dataclass(frozen=True)
class Checked:
    """An after-validator that also tells the JSON Schema what it allows (minimum/maximum, enum), so an editor
    marks a value out of range as the user types; the error text stays mapgate's own."""

    check: Callable[[Any], Any]
    schema: tuple[tuple[str, Any], ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(dict(self.schema))
        return json_schema


def int_range(lo: int, hi: int) -> Checked:
    def check(value: int) -> int:
        if not lo <= value <= hi:
            raise fail("out_of_range", f"must be an integer from {lo} to {hi}")
        return value

    return Checked(check, (("minimum", lo), ("maximum", hi)))


def between(bounds: tuple[int, int]) -> Checked:
    """`int_range` from a (low, high) fact in `aws_facts`."""
    return int_range(*bounds)


def one_of(allowed: Iterable[int], what: str) -> Checked:
    choices = tuple(allowed)

    def check(value: int) -> int:
        if value not in choices:
            raise fail("not_allowed", f"{what} must be one of {join(choices)}")
        return value

    return Checked(check, (("enum", list(choices)),))


# YAML writes 50 for 50.0; strict floats would reject it.
INT_AS_FLOAT = BeforeValidator(lambda v: float(v) if type(v) is int else v)


def positive_up_to(high: float, unit: str) -> Checked:
    def check(value: float) -> float:
        if not 0 < value <= high:
            raise fail("out_of_range", f"must be more than 0 and at most {high:g} {unit}")
        return value

    return Checked(check, (("exclusiveMinimum", 0), ("maximum", high)))


def _scalar_to_str(value: Any) -> Any:
    """YAML turns `leader: true` and `WORKERS: 4` into bool/int; AWS wants strings, so keep their text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


ScalarString = Annotated[str, BeforeValidator(_scalar_to_str)]
