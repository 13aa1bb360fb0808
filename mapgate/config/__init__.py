"""The stack config: every `mapgate:*` key, validated in full before anything is looked up or created.

`parse_config` turns the raw map into a frozen `StackConfig`, or raises one `ConfigError` that lists every
problem: field errors from each section's model, then the cross-rules (`rules.py`) over whatever validated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mapgate import naming
from mapgate.config.api import ApiConfig, ErrorAlarm, RouteConfig, Throttling
from mapgate.config.errors import ConfigError, Problem, describe
from mapgate.config.network import NetworkConfig
from mapgate.config.rules import Sections, cross_problems
from mapgate.config.services import Architecture, Autoscaling, HealthCheck, ImageBuild, ServiceConfig
from mapgate.config.source import decode_raw, engine_config, foreign_key_problems, project_keys, raw_from_pulumi
from mapgate.config.stack import StackConfig

__all__ = [
    "ApiConfig",
    "Architecture",
    "Autoscaling",
    "ConfigError",
    "ErrorAlarm",
    "HealthCheck",
    "ImageBuild",
    "NetworkConfig",
    "Problem",
    "RouteConfig",
    "ServiceConfig",
    "StackConfig",
    "Throttling",
    "engine_config",
    "parse_config",
    "project_keys",
    "raw_from_pulumi",
]


def parse_config(
    raw: Mapping[str, Any], *, stack: str, project_dir: str | Path = ".", other_keys: Iterable[str] = ()
) -> StackConfig:
    """Validate the `mapgate:` keys (without the prefix) of `stack`. Raises ConfigError listing every problem.

    `other_keys` are the stack config's keys of other namespaces (`aws:region`…): near misses of a namespace or
    of an AWS provider setting are problems too, since Pulumi passes them on unread.
    """
    foreign = foreign_key_problems(other_keys)
    data = decode_raw(raw)
    data.setdefault("namespace", naming.default_namespace(stack))
    context = {"project_dir": str(project_dir)}
    try:
        cfg = StackConfig.model_validate(data, context=context)
    except ValidationError as err:
        field_problems = [describe(e) for e in err.errors()]
        salvaged = cross_problems(Sections.salvage(data, context))
        raise ConfigError(foreign + field_problems + [str(p) for p in salvaged]) from None
    problems = foreign + [str(p) for p in cross_problems(Sections.of(cfg))]
    if problems:
        raise ConfigError(problems)
    return cfg
