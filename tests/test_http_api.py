"""HttpApi: $default stage, throttling, access logs, and Cloud Map integrations with attribute filters."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from mapgate import aws_facts, naming
from mapgate import resource_types as types
from mapgate.components.api import integration_uri
from mapgate.naming import route_slugs
from tests.aws_models import request_errors
from tests.harness import API, StackRun, changed, load_stack_file, run_stack, with_prefix

INTEGRATION = types.INTEGRATION
ROUTE = types.ROUTE
STAGE = types.STAGE
APP_ARN = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-app"


def integrations_by_route(run: StackRun) -> dict[str, dict]:
    integrations = {i.id: i.inputs for i in run.of_type(INTEGRATION)}
    return {
        r.inputs["routeKey"]: integrations[r.inputs["target"].removeprefix("integrations/")] for r in run.of_type(ROUTE)
    }


def test_each_route_targets_its_integration(any_run: StackRun) -> None:
    routes = any_run.of_type(ROUTE)
    assert sorted(r.inputs["routeKey"] for r in routes) == ["GET /", "GET /follower", "GET /leader"]
    for route in routes:
        slug = naming.route_slug(route.inputs["routeKey"])
        assert route.name == API.route(slug)
        assert route.inputs["target"] == f"integrations/{any_run.one(INTEGRATION, API.integration(slug)).id}"


def test_integration_uris_carry_the_attribute_filter(any_run: StackRun) -> None:
    uris = {key: inputs["integrationUri"] for key, inputs in integrations_by_route(any_run).items()}
    # A filter on the election attribute reads the roles service, where the app registers tasks by role.
    assert uris == {
        "GET /": APP_ARN,
        "GET /leader": f"{APP_ARN}_roles?leader=true",
        "GET /follower": f"{APP_ARN}_roles?leader=false",
    }


def test_integrations_are_private_http_proxies(any_run: StackRun) -> None:
    timeout = load_stack_file(
        "dev" if "/dev" in any_run.inputs(types.LOG_GROUP, naming.ServiceChildren("app").logs)["name"] else "prod"
    )["mapgate:api"]["timeoutMs"]
    for inputs in integrations_by_route(any_run).values():
        assert inputs["integrationType"] == "HTTP_PROXY"
        assert inputs["connectionType"] == "VPC_LINK"
        assert inputs["connectionId"] == any_run.one(types.VPC_LINK, API.vpc_link).id
        assert inputs["integrationMethod"] == "ANY"
        assert inputs["payloadFormatVersion"] == "1.0"
        assert inputs["timeoutMilliseconds"] == timeout
        request = {
            "ApiId": inputs["apiId"],
            "IntegrationType": inputs["integrationType"],
            "ConnectionType": inputs["connectionType"],
            "ConnectionId": inputs["connectionId"],
            "IntegrationMethod": inputs["integrationMethod"],
            "IntegrationUri": inputs["integrationUri"],
            "PayloadFormatVersion": inputs["payloadFormatVersion"],
            "TimeoutInMillis": inputs["timeoutMilliseconds"],
        }
        assert request_errors("apigatewayv2", "CreateIntegration", request) == ""


def test_default_stage_auto_deploys_with_throttling(any_run: StackRun) -> None:
    (stage,) = any_run.of_type(STAGE)
    settings = stage.inputs["defaultRouteSettings"]
    assert stage.inputs["name"] == "$default"  # served at the root: no stage prefix reaches the tasks
    assert stage.inputs["autoDeploy"] is True
    assert settings["throttlingRateLimit"] > 0
    assert settings["throttlingBurstLimit"] > 0


def test_throttling_follows_config() -> None:
    config = changed("dev", ["api", "throttling"], {"rateLimit": 7.5, "burstLimit": 9})
    (stage,) = run_stack(with_prefix(config)).of_type(STAGE)
    assert stage.inputs["defaultRouteSettings"] == {"throttlingRateLimit": 7.5, "throttlingBurstLimit": 9}


def test_access_logs_are_json_with_the_operator_fields(any_run: StackRun) -> None:
    (stage,) = any_run.of_type(STAGE)
    log_group = any_run.inputs(types.LOG_GROUP, API.access_logs)
    settings = stage.inputs["accessLogSettings"]
    assert settings["destinationArn"] == f"arn:aws:logs:us-east-1:123456789012:log-group:{log_group['name']}"
    fields = json.loads(settings["format"])
    assert set(fields) == {
        "requestId", "routeKey", "status", "integrationStatus", "integrationErrorMessage",
        "integrationLatency", "responseLatency", "sourceIp", "requestTime",
    }  # fmt: skip
    assert fields["requestId"] == "$context.requestId"  # AWS requires it
    assert len(settings["format"].encode()) <= aws_facts.ACCESS_LOG_FORMAT_MAX_BYTES
    assert log_group["retentionInDays"] > 0
    assert log_group["name"].startswith("/aws/vendedlogs/")


def test_integration_uri_sorts_and_encodes_attributes() -> None:
    uri = integration_uri("arn:x", {"zone": "a b", "leader": "true", "team": "x&y=z"})
    assert uri == "arn:x?leader=true&team=x%26y%3Dz&zone=a%20b"
    assert dict(urllib.parse.parse_qsl(uri.split("?", 1)[1])) == {"leader": "true", "team": "x&y=z", "zone": "a b"}
    assert integration_uri("arn:x", {}) == "arn:x"


def test_route_names_are_readable_and_unique() -> None:
    slugs = route_slugs(["GET /", "GET /a-b", "GET /a/b", "ANY /{proxy+}", "$default"])
    assert slugs == {
        "$default": "default",
        "ANY /{proxy+}": "any-proxy",
        "GET /": "get-root",
        "GET /a-b": "get-a-b",
        "GET /a/b": "get-a-b-2",
    }


def test_route_urls_are_exported(any_run: StackRun) -> None:
    base = "https://api-http.execute-api.us-east-1.amazonaws.com"
    assert any_run.outputs["apiUrl"] == base
    assert any_run.outputs["routeUrls"] == {
        "GET /": f"{base}/",
        "GET /follower": f"{base}/follower",
        "GET /leader": f"{base}/leader",
    }


@pytest.mark.parametrize("route", ["POST /orders/{id}", "ANY /{proxy+}"])
def test_parameterised_routes_are_created(route: str) -> None:
    run = run_stack(with_prefix(changed("dev", ["api", "routes", route], {"service": "app"})))
    assert route in [r.inputs["routeKey"] for r in run.of_type(ROUTE)]
