"""Secrets for tasks: validation, the task definition's `secrets`, the execution role's exact grant, and no value in
plain text anywhere the offline run recorded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from mapgate import naming
from mapgate import resource_types as types
from mapgate.cli.plan import tree_lines
from mapgate.cli.plan_json import masked
from mapgate.config import ConfigError, SecretText, parse_config, raw_from_pulumi
from mapgate.offline import StackRun
from tests.aws_models import request_errors, shape_errors
from tests.harness import ACCOUNT, ROOT, changed, children, containers, run_stack, with_prefix
from tests.test_policies import evaluate, resources_of

APP = children("app")
PASSWORD = "correct-horse-battery-staple-4711"  # searched for in everything the run recorded
SECRET_ARN = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:prod/db-AbCdEf"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRETS = {
    "DB_PASSWORD": {"config": "dbPassword"},
    "DB_USER": f"{SECRET_ARN}:username::",
    "API_TOKEN": "/app/api-token",
    "SIGNING_KEY": {"valueFrom": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/signing", "kmsKeyArn": KEY_ARN},
}


def with_secrets(secrets: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return changed("dev", ["services", "app", "secrets"], secrets) | extra


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, stack="dev", project_dir=ROOT)
    return caught.value.problems


@pytest.fixture(scope="module")
def run() -> StackRun:
    return run_stack(with_prefix(with_secrets(SECRETS, dbPassword=SecretText(PASSWORD))))


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db", "six characters"),
        (f"{SECRET_ARN}:password", "six characters"),  # json-key needs both version fields after it
        (f"{SECRET_ARN}:password:AWSCURRENT:0123-4567", "not both"),
        (f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameters/x", "SSM parameter ARN"),
        ("aws-db-password", "not starting with aws or ssm"),
        ("/ssm/x", "not starting with aws or ssm"),
        ("has space", "SSM parameter name"),
        ({"valueFrom": "/a", "kmsKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/db"}, "KMS key ARN"),
        ({"config": "db:password"}, "config key"),
        ({"secure": "AAABA…"}, "pulumi config set --secret"),
        (42, "{config: <key>}"),
    ],
)
def test_bad_sources_are_rejected_with_what_is_allowed(source: Any, expected: str) -> None:
    (problem,) = problems_of(with_secrets({"DB": source}))
    assert problem.startswith("services.app.secrets.DB")
    assert expected in problem


def test_secret_names_obey_the_environments_rules() -> None:
    problems = problems_of(with_secrets({"MAPGATE_TOKEN": "/a", "ECS_X": "/b"}))
    assert len(problems) == 1
    assert "reserved prefix (MAPGATE_, ECS_)" in problems[0]
    assert "not a variable name" in problems_of(with_secrets({"DB-PASS": "/a"}))[0]


def test_a_secure_value_in_environment_points_to_secrets() -> None:
    config = changed("dev", ["services", "app", "environment", "API_KEY"], {"secure": "AAABAciphertext"})
    (problem,) = problems_of(config)
    assert problem.startswith("services.app.environment: ")
    assert "use secrets: {API_KEY: {config: <key>}}" in problem


def test_a_variable_is_in_environment_or_in_secrets() -> None:
    config = with_secrets({"API_TOKEN": "/a", "DB_USER": "/b"})
    config["services"]["app"]["environment"] = {"API_TOKEN": "plain", "LOG_LEVEL": "info"}
    assert problems_of(config) == [
        'services.app.secrets.API_TOKEN: "API_TOKEN" — is also set in services.app.environment; '
        "a variable comes from environment or from secrets"
    ]


def test_config_sources_need_a_secret_config_value() -> None:
    source = {"DB_PASSWORD": {"config": "dbPassword"}}
    (missing,) = problems_of(with_secrets(source))
    assert "pulumi config set --secret dbPassword" in missing
    (plain,) = problems_of(with_secrets(source, dbPassword=PASSWORD))
    assert "is not a secret" in plain
    assert PASSWORD not in plain
    (empty,) = problems_of(with_secrets(source, dbPassword=SecretText("")))
    assert "empty" in empty
    (large,) = problems_of(with_secrets(source, dbPassword=SecretText("x" * 4097)))
    assert "4096 bytes" in large
    (own,) = problems_of(with_secrets({"DB": {"config": "api"}}))
    assert "one of mapgate's own config keys" in own


def test_a_secret_value_never_reaches_the_config_model() -> None:
    cfg = parse_config(with_secrets(SECRETS, dbPassword=SecretText(PASSWORD)), stack="dev", project_dir=ROOT)
    assert PASSWORD not in repr(cfg)
    assert PASSWORD not in cfg.model_dump_json()


def test_problems_never_show_a_secret_value() -> None:
    problems = problems_of(with_secrets({"MAPGATE_X": "/a"}, typo=SecretText(PASSWORD)))
    assert any("typo" in p for p in problems)
    assert not any(PASSWORD in p for p in problems)


def test_the_engine_marks_secret_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"mapgate:dbPassword": PASSWORD, "mapgate:production": "true"}))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(["mapgate:dbPassword"]))
    raw = raw_from_pulumi()
    assert raw["dbPassword"] == SecretText(PASSWORD)
    assert raw["production"] == "true"


# --- what the run registers ---------------------------------------------------------------------------------


def test_containers_get_every_secret_by_full_arn(run: StackRun) -> None:
    (container,) = containers(run, "app")
    assert container["secrets"] == [
        {"name": "API_TOKEN", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/api-token"},
        {"name": "DB_PASSWORD", "valueFrom": f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/mapgate/dev/app/DB_PASSWORD"},
        {"name": "DB_USER", "valueFrom": f"{SECRET_ARN}:username::"},
        {"name": "SIGNING_KEY", "valueFrom": f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/signing"},
    ]
    assert shape_errors("ecs", "ContainerDefinition", container) == ""
    assert not {s["name"] for s in container["secrets"]} & {e["name"] for e in container["environment"]}
    (worker,) = containers(run, "worker")
    assert "secrets" not in worker


def test_config_secrets_become_secure_string_parameters(run: StackRun) -> None:
    parameter = run.inputs(types.SSM_PARAMETER, APP.secret_parameter("DB_PASSWORD"))
    assert parameter["name"] == naming.secret_parameter_name("dev", "app", "DB_PASSWORD")
    assert parameter["type"] == "SecureString"
    assert "keyId" not in parameter  # the AWS managed key: no kms:Decrypt grant needed
    assert is_rpc_secret(parameter["value"])
    assert unwrap_rpc_secret(parameter["value"]) == PASSWORD
    request = {"Name": parameter["name"], "Type": parameter["type"], "Value": PASSWORD,
               "Description": parameter["description"]}  # fmt: skip
    assert request_errors("ssm", "PutParameter", request) == ""


def test_execution_role_reads_exactly_the_tasks_secrets(run: StackRun) -> None:
    policy = run.inputs(types.ROLE_POLICY, APP.secrets_policy)
    assert policy["role"] == run.one(types.ROLE, APP.execution_role).id
    assert json.loads(policy["policy"])["Statement"] == [
        {
            "Sid": "ReadParameters",
            "Effect": "Allow",
            "Action": "ssm:GetParameters",
            "Resource": [
                f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/shared/signing",
                f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/api-token",
                f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/mapgate/dev/app/DB_PASSWORD",
            ],
        },
        {"Sid": "ReadSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [SECRET_ARN]},
        {"Sid": "DecryptWithCustomerKeys", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": [KEY_ARN]},
    ]
    # A service without secrets gets no such grant.
    assert children("worker").secrets_policy not in {r.name for r in run.of_type(types.ROLE_POLICY)}


def test_no_customer_key_no_kms_grant() -> None:
    run = run_stack(with_prefix(with_secrets({"API_TOKEN": "/app/api-token"})))
    statements = json.loads(run.inputs(types.ROLE_POLICY, APP.secrets_policy)["policy"])["Statement"]
    assert [s["Action"] for s in statements] == ["ssm:GetParameters"]


def test_the_policy_packs_iam_rules_still_pass(run: StackRun) -> None:
    resources = resources_of(run)
    assert evaluate(resources, only="iam-no-wildcards") == []
    assert evaluate(resources, only="iam-no-wildcards-inline") == []


def _plain_strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a recorded value, except those inside a Pulumi secret."""
    if is_rpc_secret(value):
        return
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _plain_strings(key, f"{path}.<key>")
            yield from _plain_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _plain_strings(item, f"{path}[{i}]")


def test_the_value_is_in_no_recorded_input_or_state_except_as_a_pulumi_secret(run: StackRun) -> None:
    leaks = [
        f"{r.typ} {r.name}{path}" for r in run.resources for path, text in _plain_strings(r.inputs) if PASSWORD in text
    ]
    assert leaks == []
    assert PASSWORD not in json.dumps(run.outputs, default=str)
    # `plan --json` writes inputs with secrets masked.
    assert PASSWORD not in json.dumps([masked(r.inputs) for r in run.resources], default=str)
    # …and it is there, as a secret: the search above looked at the right run.
    assert any(is_rpc_secret(r.inputs.get("value")) for r in run.of_type(types.SSM_PARAMETER))


def test_plan_shows_the_value_as_secret(run: StackRun) -> None:
    lines = "\n".join(tree_lines(run))
    assert PASSWORD not in lines
    assert "/mapgate/dev/app/DB_PASSWORD · SecureString · value (secret)" in lines
    assert "secrets API_TOKEN, DB_PASSWORD, DB_USER, SIGNING_KEY" in lines


def test_a_stack_file_secret_runs_offline_undecrypted() -> None:
    config = with_prefix(with_secrets({"DB_PASSWORD": {"config": "dbPassword"}}))
    config["mapgate:dbPassword"] = {"secure": "AAABAMciphertext"}
    run = run_stack(config)
    parameter = run.inputs(types.SSM_PARAMETER, APP.secret_parameter("DB_PASSWORD"))
    assert is_rpc_secret(parameter["value"])
