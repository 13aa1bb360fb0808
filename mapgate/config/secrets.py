"""`services.<name>.secrets`: values a task gets as environment variables without them being in the stack.

A source is one of:
- an SSM parameter ARN, or a parameter name in the stack's Region;
- a Secrets Manager secret ARN (the full one, with its six-character suffix), optionally followed by
  `:json-key:version-stage:version-id`;
- `{valueFrom: <either of those>, kmsKeyArn: <key ARN>}` when a customer managed KMS key encrypts it;
- `{config: <key>}`: the stack's secret config value `mapgate:<key>` (`pulumi config set --secret <key> …`), which
  mapgate stores as an SSM SecureString parameter.

The values themselves never pass through here: a `{config: …}` source names its key, and `parse_config` checks that
the key is set, and set as a secret, without keeping its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator

from mapgate import aws_facts
from mapgate.config.base import Model, fail

# Pulumi config key names (`pulumi config set <key>`), here always in the project's namespace.
_CONFIG_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")


def _check_value_from(value: str) -> str:
    if value.startswith("arn:"):
        if ":secretsmanager:" in value:
            match = aws_facts.SECRETS_MANAGER_ARN.match(value)
            if not match:
                raise fail(
                    "secret_arn",
                    "must be a Secrets Manager secret's full ARN, with the six characters Secrets Manager adds to "
                    "its name, such as arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf, optionally "
                    "followed by :json-key:version-stage:version-id (e.g. :password::)",
                )
            if match["version_stage"] and match["version_id"]:
                raise fail("secret_arn", "give version-stage or version-id, not both")
            return value
        match_ssm = aws_facts.SSM_PARAMETER_ARN.match(value)
        if not match_ssm:
            raise fail(
                "secret_arn",
                "must be an SSM parameter ARN such as arn:aws:ssm:us-east-1:123456789012:parameter/app/db-password "
                "or a Secrets Manager secret ARN",
            )
        _check_parameter_name(match_ssm["name"])
        return value
    return _check_parameter_name(value)


def _check_parameter_name(name: str) -> str:
    if len(name) > aws_facts.SSM_PARAMETER_NAME_MAX or not aws_facts.SSM_PARAMETER_NAME.match(name):
        raise fail(
            "parameter_name",
            f"must be an SSM parameter name of at most {aws_facts.SSM_PARAMETER_NAME_MAX} letters, digits and "
            "'_.-', optionally in a '/' hierarchy (such as /app/db-password), not starting with aws or ssm; "
            "or a parameter or Secrets Manager ARN",
        )
    return name


def _check_kms_key(value: str) -> str:
    if not aws_facts.KMS_KEY_ARN.match(value):
        raise fail(
            "kms_key_arn",
            "must be a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-"
            "1234567890ab (an alias does not name the key in an IAM policy)",
        )
    return value


def _check_config_key(value: str) -> str:
    if not _CONFIG_KEY.match(value):
        raise fail(
            "config_key",
            "must be a config key of the project (letters, digits, '_.-', starting with a letter), "
            "as in `pulumi config set --secret dbPassword …`",
        )
    return value


@dataclass(frozen=True)
class SecretText:
    """A config value set with `pulumi config set --secret`. Its text shows nowhere: not in repr, str or errors."""

    text: str = field(repr=False)

    def __str__(self) -> str:
        return "(secret)"

    def __repr__(self) -> str:
        return "SecretText((secret))"


@dataclass(frozen=True)
class ArnContext:
    """Where the stack deploys: turns a parameter name into its ARN."""

    partition: str
    region: str
    account_id: str


class SecretReference(Model):
    """An existing SSM parameter or Secrets Manager secret, and the customer managed key that encrypts it, if any."""

    value_from: Annotated[str, AfterValidator(_check_value_from)]
    kms_key_arn: Annotated[str, AfterValidator(_check_kms_key)] | None = None

    @property
    def kind(self) -> Literal["ssm", "secretsmanager"]:
        return "secretsmanager" if aws_facts.SECRETS_MANAGER_ARN.match(self.value_from) else "ssm"

    def value_from_arn(self, where: ArnContext) -> str:
        """What the container definition's `valueFrom` gets: always a full ARN."""
        if self.value_from.startswith("arn:"):
            return self.value_from
        return aws_facts.ssm_parameter_arn(
            self.value_from, partition=where.partition, region=where.region, account_id=where.account_id
        )

    def resource_arn(self, where: ArnContext) -> str:
        """The ARN an IAM policy names: the secret without `:json-key:…`, or the parameter."""
        match = aws_facts.SECRETS_MANAGER_ARN.match(self.value_from)
        return match["secret"] if match else self.value_from_arn(where)


class ConfigSecret(Model):
    """`{config: <key>}`: the secret config value `mapgate:<key>`, stored by mapgate as an SSM SecureString."""

    config: Annotated[str, AfterValidator(_check_config_key)]


def parse_source(value: Any) -> Any:
    """A string is `valueFrom`; a mapping is `{valueFrom, kmsKeyArn}` or `{config}` (dispatched by hand, so one
    error is reported rather than one per union branch)."""
    if isinstance(value, str):
        return SecretReference.model_validate({"valueFrom": value})
    if isinstance(value, dict) and "secure" in value:
        raise fail(
            "secret_source",
            "a value does not go in a service's config: store it with `pulumi config set --secret <key> <value>` "
            "and write {config: <key>} here",
        )
    if isinstance(value, dict) and "config" in value:
        return ConfigSecret.model_validate(value)
    if isinstance(value, dict):
        return SecretReference.model_validate(value)
    raise fail(
        "secret_source",
        "must be an SSM parameter name or ARN, a Secrets Manager ARN, {valueFrom: …, kmsKeyArn: …} or {config: <key>}",
    )


SecretSource = Annotated[SecretReference | ConfigSecret, BeforeValidator(parse_source)]


# --- `{config: …}` sources, checked against the raw stack config ---------------------------------------------


def config_references(data: Mapping[str, Any]) -> dict[str, list[tuple[str | int, ...]]]:
    """Every key a `{config: <key>}` source names in the raw config, with where it is named."""
    found: dict[str, list[tuple[str | int, ...]]] = {}
    services = data.get("services")
    for service, raw in (services if isinstance(services, dict) else {}).items():
        secrets = raw.get("secrets") if isinstance(raw, dict) else None
        for name, source in (secrets if isinstance(secrets, dict) else {}).items():
            if isinstance(source, dict) and isinstance(source.get("config"), str):
                found.setdefault(source["config"], []).append(("services", service, "secrets", name, "config"))
    return found


@dataclass(frozen=True)
class ConfigValueProblem:
    loc: tuple[str | int, ...]
    key: str
    message: str


def config_value_problems(
    data: Mapping[str, Any], references: Mapping[str, list[tuple[str | int, ...]]], taken: frozenset[str]
) -> Iterator[ConfigValueProblem]:
    """Each named key must be set, as a secret, to something SSM can store, and not be one of mapgate's own keys."""
    for key, locs in sorted(references.items()):
        if not _CONFIG_KEY.match(key):
            continue  # the source itself is reported
        value = data.get(key)
        if key in taken:
            why = f"mapgate:{key} is one of mapgate's own config keys; keep the secret under a key of its own"
        elif value is None:
            why = f"no config value mapgate:{key}: set it with `pulumi config set --secret {key} <value>`"
        elif not isinstance(value, SecretText):
            why = (
                f"mapgate:{key} is not a secret, so its value is in plain text in the stack file: "
                f"set it again with `pulumi config set --secret {key} <value>`"
            )
        elif not value.text:
            why = f"mapgate:{key} is empty"
        elif len(value.text.encode()) > aws_facts.SSM_STANDARD_VALUE_MAX_BYTES:
            why = f"mapgate:{key} is longer than the {aws_facts.SSM_STANDARD_VALUE_MAX_BYTES} bytes a parameter holds"
        else:
            continue
        for loc in locs:
            yield ConfigValueProblem(loc, key, why)
