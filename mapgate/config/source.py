"""Where the raw config comes from: the Pulumi engine, which hands every value over as a string, or (offline, for
`mapgate plan`) the stack file, read as strictly as the Pulumi CLI reads it."""

from __future__ import annotations

import difflib
import functools
import json
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

from mapgate import PROJECT
from mapgate.config.errors import StackFileError
from mapgate.config.secrets import SecretText
from mapgate.config.stack import StackConfig


def project_keys(config: Mapping[str, Any], project: str = PROJECT) -> dict[str, Any]:
    """The `<project>:*` keys of a stack's config, prefix removed (unknown ones included, to reject them)."""
    prefix = f"{project}:"
    return {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}


def engine_config() -> dict[str, Any]:
    """Every config key the engine passed in, of every namespace; values set with `--secret` come as SecretText,
    so no secret is ever handled as plain text."""
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = set(runtime_config.get_config_secret_keys_env())
    return {
        key: SecretText(str(value)) if key in secret or runtime_config.is_config_secret(key) else value
        for key, value in values.items()
    }


def raw_from_pulumi(project: str = PROJECT) -> dict[str, Any]:
    """Every `<project>:*` key the engine passed in."""
    return project_keys(engine_config(), project)


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
        if isinstance(value, SecretText) and spec is not None:
            value = value.text  # one of mapgate's own keys, set as a secret: read like any other
        if not isinstance(value, str) or spec is None or _is_plain_string(spec.annotation):
            decoded[key] = value
            continue
        try:
            decoded[key] = json.loads(value)
        except json.JSONDecodeError:
            decoded[key] = value  # left as text, so the type error shows what the user wrote
    return decoded


def read_stack_file(path: Path) -> dict[str, Any]:
    """The `config:` block of a `Pulumi.<stack>.yaml`, as YAML values. Raises StackFileError with file:line:column.

    Duplicate keys are an error here because the Pulumi CLI (Go yaml.v3) rejects them, where PyYAML would keep
    the last one silently.
    """
    import yaml  # the CLI extra; the deploy never reads stack files itself

    name = path.name
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise StackFileError(name, f"cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise StackFileError(name, f"is not UTF-8 text (byte 0x{text_byte(error)} at offset {error.start})") from None
    lines = text.splitlines()
    try:
        document = yaml.load(text, Loader=_strict_loader())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(part for part in (error.problem, error.context and f"({error.context})") if part)
        if mark is None:
            raise StackFileError(name, message or "invalid YAML") from None
        line, column = mark.line, mark.column
        if line >= len(lines) and lines:  # at the end of the file: point after the last line, which left it open
            line, column = len(lines) - 1, len(lines[-1])
        raise StackFileError(name, message, line + 1, column + 1, lines[line] if line < len(lines) else "") from None
    except yaml.YAMLError as error:
        raise StackFileError(name, f"invalid YAML: {error}") from None
    document = document or {}
    if not isinstance(document, dict):
        raise StackFileError(name, "must be a mapping with a `config:` key", 1, 1, lines[0] if lines else "")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(name, "`config:` must be a mapping of keys to values")
    return dict(config)


def text_byte(error: UnicodeDecodeError) -> str:
    return f"{error.object[error.start]:02x}"


@functools.cache
def _strict_loader() -> type:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, yaml.Mark] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` keys may be overridden
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, typing.Hashable) and key in seen:
                    first = seen[key]
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first at line {first.line + 1}); the Pulumi CLI rejects the file",
                        key_node.start_mark,
                    )
                if isinstance(key, typing.Hashable):
                    seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


# Namespaces this program's stack config may use: its own, and the providers it runs (awsx builds the images
# through Docker). Others are left alone; only a near miss of one of these is reported.
KNOWN_NAMESPACES = (PROJECT, "aws", "awsx", "docker", "docker-build", "pulumi")


@functools.cache
def aws_provider_keys() -> tuple[str, ...]:
    """Every `aws:*` key the AWS provider reads, as its SDK spells them (pulumi_aws/config/vars.py)."""
    import importlib.util
    import re

    # Read, not imported: importing it creates a pulumi.Config, which needs a running program.
    spec = importlib.util.find_spec("pulumi_aws.config.vars")
    if spec is None or spec.origin is None:
        raise RuntimeError("pulumi_aws is not installed")
    source = Path(spec.origin).read_text()
    return tuple(sorted(set(re.findall(r"__config__\.get\w*\('(\w+)'", source))))


def foreign_key_problems(keys: Iterable[str], project: str = PROJECT) -> list[str]:
    """Typos outside the project's own keys, which Pulumi would pass on silently: `mapgat:x`, `aws:regoin`."""
    problems = []
    for key in sorted(keys):
        namespace, sep, name = key.partition(":")
        if not sep or namespace == project:
            continue
        if namespace == "aws":
            allowed = aws_provider_keys()
            top = name.split(".")[0].split("[")[0]
            if top not in allowed:
                close = difflib.get_close_matches(top, allowed, n=1)
                hint = (
                    f"did you mean 'aws:{close[0]}'?"
                    if close
                    else "see https://www.pulumi.com/registry/packages/aws/installation-configuration/"
                )
                problems.append(f"{key}: the AWS provider has no such setting; {hint}")
        elif namespace not in KNOWN_NAMESPACES:
            close = difflib.get_close_matches(namespace, KNOWN_NAMESPACES, n=1, cutoff=0.6)
            if close:
                problems.append(
                    f"{key}: unknown namespace {namespace!r}, so nothing reads this key; "
                    f"did you mean '{close[0]}:{name}'?"
                )
    return problems
