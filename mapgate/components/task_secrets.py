"""What a task needs to receive secrets: the container's `secrets`, and the execution role's read permission.

ECS reads each value at task start with the task's execution role and hands it to the container as an environment
variable; the task definition holds only where the value lives (`valueFrom`), never the value.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from mapgate import aws_facts


@dataclass(frozen=True)
class TaskSecret:
    """One variable the container reads from an existing SSM parameter or Secrets Manager secret."""

    variable: str
    value_from: str
    """Full ARN, with `:json-key:version-stage:version-id` for a Secrets Manager secret when given."""
    resource_arn: str
    """The parameter or secret itself, as the execution role's policy names it."""
    kind: Literal["ssm", "secretsmanager"]
    kms_key_arn: str | None = None
    """A customer managed key that encrypts it: the execution role may decrypt with exactly this key."""


@dataclass(frozen=True)
class StoredSecret:
    """A value mapgate stores as an SSM SecureString (AWS managed key) for one variable."""

    variable: str
    parameter_name: str
    value: pulumi.Output[str]
    """A Pulumi secret: the engine keeps it encrypted in state and shows `[secret]`."""


def container_secrets(value_from: Mapping[str, str]) -> list[dict[str, str]]:
    """A ContainerDefinition's `secrets`: variable name and where ECS reads it, sorted by name."""
    return [{"name": name, "valueFrom": value_from[name]} for name in sorted(value_from)]


def execution_secrets_policy(
    *, parameter_arns: Sequence[str], secret_arns: Sequence[str], kms_key_arns: Sequence[str]
) -> str:
    """Read exactly these parameters and secrets, and decrypt only with the named customer managed keys."""
    statements: list[dict[str, Any]] = []
    for sid, action, arns in (
        ("ReadParameters", aws_facts.SSM_READ_ACTION, parameter_arns),
        ("ReadSecrets", aws_facts.SECRETS_MANAGER_READ_ACTION, secret_arns),
        ("DecryptWithCustomerKeys", aws_facts.KMS_DECRYPT_ACTION, kms_key_arns),
    ):
        if arns:
            statements.append({"Sid": sid, "Effect": "Allow", "Action": action, "Resource": sorted(set(arns))})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
