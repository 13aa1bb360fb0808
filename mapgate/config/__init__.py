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
from mapgate.config.secrets import ConfigSecret, SecretReference, SecretText, config_references, config_value_problems
from mapgate.config.services import Architecture, Autoscaling, HealthCheck, ImageBuild, ServiceConfig
from mapgate.config.source import decode_raw, engine_config, foreign_key_problems, project_keys, raw_from_pulumi
from mapgate.config.stack import StackConfig

__all__ = [
    "ApiConfig",
    "Architecture",
    "Autoscaling",
    "ConfigError",
    "ConfigSecret",
    "ErrorAlarm",
    "HealthCheck",
    "ImageBuild",
    "NetworkConfig",
    "Problem",
    "RouteConfig",
    "SecretReference",
    "SecretText",
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
    # Keys that `{config: <key>}` secrets name are the secrets' values: checked, then dropped before the model
    # sees the config, so no value ever reaches it.
    references = config_references(data)
    own_keys = frozenset(f.alias or n for n, f in StackConfig.model_fields.items())
    secret_problems = [str(Problem(p.loc, p.key, p.message)) for p in config_value_problems(data, references, own_keys)]
    data = {key: value for key, value in data.items() if key in own_keys or key not in references}
    try:
        cfg = StackConfig.model_validate(data, context=context)
    except ValidationError as err:
        field_problems = [describe(e) for e in err.errors()]
        cross = [str(p) for p in cross_problems(Sections.salvage(data, context))]
        raise ConfigError(foreign + field_problems + cross + secret_problems) from None
    problems = foreign + [str(p) for p in cross_problems(Sections.of(cfg))] + secret_problems
    if problems:
        raise ConfigError(problems)
    return cfg
