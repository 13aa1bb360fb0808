"""Route authorization: none, IAM or JWT per route, validated offline, and the production rule of the policy pack."""

from __future__ import annotations

from typing import Any

import pytest

from mapgate import naming
from mapgate import resource_types as types
from mapgate.cli.plan import tree_lines
from mapgate.config import ConfigError, parse_config
from mapgate_policies import routes_have_authorizers
from tests.aws_models import request_errors
from tests.harness import API, ROOT, StackRun, changed, run_stack, with_prefix
from tests.test_policies import evaluate, resources_of

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf"
USERS = {"users": {"issuer": ISSUER, "audience": ["app-client-id"]}}


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, stack="dev", project_dir=ROOT)
    return caught.value.problems


def with_route_auth(authorization: Any, route: str = "GET /leader", stack: str = "dev") -> dict[str, Any]:
    config = changed(stack, ["api", "routes", route, "authorization"], authorization)
    config["api"]["authorizers"] = USERS
    return config


def opened_prod() -> StackRun:
    """prod with GET /leader left open."""
    return run_stack(with_prefix(changed("prod", ["api", "routes", "GET /leader", "authorization"], "none")), "prod")


@pytest.fixture(scope="module")
def jwt_run() -> StackRun:
    config = with_route_auth({"jwt": "users", "scopes": ["mapgate/read"]}, route="GET /follower", stack="prod")
    return run_stack(with_prefix(config), stack="prod")


# --- validation -------------------------------------------------------------------------------------------------


def test_an_unknown_authorizer_is_named_with_a_suggestion() -> None:
    assert problems_of(with_route_auth({"jwt": "user"})) == [
        'api.routes["GET /leader"].authorization.jwt: "user" — no authorizer named \'user\'; '
        "did you mean 'users'? authorizers: users"
    ]
    config = changed("dev", ["api", "routes", "GET /leader", "authorization"], {"jwt": "users"})
    assert problems_of(config)[0].endswith("no api.authorizers are defined")


@pytest.mark.parametrize(
    ("authorizer", "expected"),
    [
        ({"issuer": "http://idp.example.com", "audience": ["a"]}, 'issuer: "http://idp.example.com" — must be the'),
        ({"issuer": "https://", "audience": ["a"]}, "https:// base URL"),
        ({"issuer": ISSUER, "audience": []}, "must list 1 to 50 audiences"),
        ({"issuer": ISSUER, "audience": ["a", "a"]}, "empty or repeated"),
        ({"issuer": ISSUER, "audience": ["a"] * 51}, "must list 1 to 50 audiences"),
        ({"issuer": ISSUER, "audience": ["a"], "identitySource": "Authorization"}, "one request header"),
        ({"issuer": ISSUER, "audiences": ["a"]}, "did you mean 'audience'?"),
    ],
)
def test_bad_authorizers_are_rejected(authorizer: dict[str, Any], expected: str) -> None:
    problems = problems_of(changed("dev", ["api", "authorizers"], {"users": authorizer}))
    assert any(expected in p and p.startswith("api.authorizers.users") for p in problems), problems


def test_identity_source_defaults_to_the_authorization_header() -> None:
    cfg = parse_config(changed("dev", ["api", "authorizers"], USERS), stack="dev", project_dir=ROOT)
    assert cfg.api.authorizers["users"].identity_source == "$request.header.Authorization"


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ({"scopes": ["read"]}, "scopes apply only to a JWT route"),
        ({"iam": True, "scopes": ["read"]}, "scopes apply only to a JWT route"),
        ("IAM", "must be none, iam"),
        ({"jwt": "users", "scopes": ["has space"]}, "is not an OAuth scope"),
        ({"jwt": "users", "scopes": [f"s{i}" for i in range(11)]}, "at most 10 scopes"),
        ({"jwt": "users", "scopes": ["a", "a"]}, "lists a scope twice"),
    ],
)
def test_bad_route_authorization_is_rejected(authorization: Any, expected: str) -> None:
    (problem,) = problems_of(with_route_auth(authorization))
    assert problem.startswith('api.routes["GET /leader"].authorization')
    assert expected in problem


def test_at_most_ten_authorizers_and_names_are_labels() -> None:
    many = {f"a{i}": USERS["users"] for i in range(11)}
    assert "at most 10 authorizers" in problems_of(changed("dev", ["api", "authorizers"], many))[0]
    assert "authorizer name" in problems_of(changed("dev", ["api", "authorizers"], {"Users!": USERS["users"]}))[0]


def test_default_route_may_be_protected() -> None:
    # HTTP APIs accept authorization on $default (only WebSocket APIs limit it to $connect).
    config = changed("dev", ["api", "routes", "$default"], {"service": "app", "authorization": "iam"})
    cfg = parse_config(config, stack="dev", project_dir=ROOT)
    assert cfg.api.routes["$default"].authorization == "iam"


# --- what the stacks register ---------------------------------------------------------------------------------


def _create_route(inputs: dict[str, Any]) -> dict[str, Any]:
    request = {"ApiId": inputs["apiId"], "RouteKey": inputs["routeKey"], "Target": inputs["target"],
               "AuthorizationType": inputs["authorizationType"]}  # fmt: skip
    if "authorizerId" in inputs:
        request["AuthorizerId"] = inputs["authorizerId"]
    if "authorizationScopes" in inputs:
        request["AuthorizationScopes"] = inputs["authorizationScopes"]
    return request


def test_prod_protects_leader_and_follower_with_iam(prod_run: StackRun) -> None:
    routes = {r.inputs["routeKey"]: r.inputs for r in prod_run.of_type(types.ROUTE)}
    assert {key: inputs["authorizationType"] for key, inputs in routes.items()} == {
        "GET /": "NONE",
        "GET /leader": "AWS_IAM",
        "GET /follower": "AWS_IAM",
    }
    for inputs in routes.values():
        assert request_errors("apigatewayv2", "CreateRoute", _create_route(inputs)) == ""
    assert prod_run.of_type(types.AUTHORIZER) == []  # IAM needs no authorizer resource


def test_dev_stays_open(dev_run: StackRun) -> None:
    assert {r.inputs["authorizationType"] for r in dev_run.of_type(types.ROUTE)} == {"NONE"}


def test_jwt_routes_use_their_authorizer_and_scopes(jwt_run: StackRun) -> None:
    authorizer = jwt_run.one(types.AUTHORIZER, API.authorizer("users"))
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["identitySources"] == ["$request.header.Authorization"]
    assert authorizer.inputs["jwtConfiguration"] == {"issuer": ISSUER, "audiences": ["app-client-id"]}
    request = {
        "ApiId": authorizer.inputs["apiId"],
        "AuthorizerType": "JWT",
        "IdentitySource": authorizer.inputs["identitySources"],
        "Name": authorizer.inputs["name"],
        "JwtConfiguration": {"Issuer": ISSUER, "Audience": ["app-client-id"]},
    }
    assert request_errors("apigatewayv2", "CreateAuthorizer", request) == ""
    route = jwt_run.inputs(types.ROUTE, API.route(naming.route_slug("GET /follower")))
    assert route["authorizationType"] == "JWT"
    assert route["authorizerId"] == authorizer.id
    assert route["authorizationScopes"] == ["mapgate/read"]
    assert request_errors("apigatewayv2", "CreateRoute", _create_route(route)) == ""
    assert jwt_run.outputs["routeAuthorization"] == {"GET /": "none", "GET /follower": "jwt", "GET /leader": "iam"}


def test_plan_shows_each_routes_authorization(jwt_run: StackRun) -> None:
    lines = "\n".join(tree_lines(jwt_run))
    assert "GET /leader · authorization AWS_IAM" in lines
    assert "GET /follower · authorization JWT (mapgate/read)" in lines
    assert f"JWT from {ISSUER} · audience app-client-id · token in $request.header.Authorization" in lines


# --- the policy pack's production rule -------------------------------------------------------------------------


def test_production_routes_need_an_authorizer_except_the_entry_point(prod_run: StackRun) -> None:
    rule = "http-api-routes-have-authorizers"
    assert evaluate(resources_of(prod_run), only=rule) == []
    (violation,) = evaluate(resources_of(opened_prod()), only=rule)
    assert violation.enforcement == "advisory"
    assert "route GET /leader is open to the internet" in violation.message


def test_the_production_rule_has_a_per_route_opt_out() -> None:
    resources = [(t, props) for t, _, props in resources_of(opened_prod())]
    found: list[str] = []
    routes_have_authorizers(resources, found.append, {"publicRoutes": ["GET /leader"]})
    assert found == []
    routes_have_authorizers(resources, found.append, {})
    assert len(found) == 1


def test_the_production_rule_ignores_development_stacks(dev_run: StackRun) -> None:
    assert evaluate(resources_of(dev_run), only="http-api-routes-have-authorizers") == []
