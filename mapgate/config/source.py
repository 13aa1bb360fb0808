"""Where the raw config comes from: the Pulumi engine, which hands every value over as a string."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from typing import Annotated, Any

from mapgate import PROJECT
from mapgate.config.stack import StackConfig


def project_keys(config: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """The `<project>:*` keys of a stack's config, prefix removed (unknown ones included, to reject them)."""
    prefix = f"{project}:"
    return {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}


def raw_from_pulumi(project: str = PROJECT) -> dict[str, Any]:
    """Every `<project>:*` key the engine passed in."""
    from pulumi.runtime import config as runtime_config

    return project_keys({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}, project)


def _is_plain_string(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) is Annotated:
        return _is_plain_string(typing.get_args(annotation)[0])
    return False


def decode_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Give each value its real type: objects, lists, numbers and booleans arrive as JSON text."""
    fields = {f.alias or n: f for n, f in StackConfig.model_fields.items()}
    decoded: dict[str, Any] = {}
    for key, value in raw.items():
        spec = fields.get(key)
        if not isinstance(value, str) or spec is None or _is_plain_string(spec.annotation):
            decoded[key] = value
            continue
        try:
            decoded[key] = json.loads(value)
        except json.JSONDecodeError:
            decoded[key] = value  # left as text, so the type error shows what the user wrote
    return decoded
