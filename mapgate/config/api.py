"""`mapgate:api`: the HTTP API, its routes to Cloud Map services, and the alarm on what users see."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from mapgate import aws_facts
from mapgate.config.base import (
    INT_AS_FLOAT,
    Model,
    ScalarString,
    between,
    fail,
    int_range,
    one_of,
    positive_up_to,
)


def _check_route_key(key: str) -> str:
    if key != aws_facts.DEFAULT_ROUTE:
        try:
            aws_facts.parse_route_key(key)
        except ValueError as error:
            raise fail("route_key", str(error)) from None
    return key


RouteKey = Annotated[str, AfterValidator(_check_route_key)]


class Throttling(Model):
    """Both limits are always sent: Pulumi sends 0 for a missing one, and then every request gets 429."""

    rate_limit: Annotated[
        float, INT_AS_FLOAT, positive_up_to(aws_facts.ACCOUNT_RATE_LIMIT, "requests per second (account limit)")
    ] = 50.0
    burst_limit: Annotated[int, int_range(1, aws_facts.ACCOUNT_BURST_LIMIT)] = 100


def _check_issuer(value: str) -> str:
    if len(value) > aws_facts.JWT_ISSUER_MAX or not aws_facts.JWT_ISSUER.match(value):
        raise fail(
            "jwt_issuer",
            "must be the identity provider's https:// base URL, such as "
            "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf (API Gateway reads its keys from there)",
        )
    return value


def _check_audience(value: list[str]) -> list[str]:
    if not 1 <= len(value) <= aws_facts.AUDIENCES_PER_AUTHORIZER:
        raise fail(
            "jwt_audience",
            f"must list 1 to {aws_facts.AUDIENCES_PER_AUTHORIZER} audiences (a token's aud or client_id must "
            "match one), such as your app client id",
        )
    if any(not entry.strip() for entry in value) or len(set(value)) != len(value):
        raise fail("jwt_audience", "has an empty or repeated entry")
    return value


def _check_identity_source(value: str) -> str:
    if not aws_facts.JWT_IDENTITY_SOURCE.match(value):
        raise fail(
            "identity_source",
            "must be one request header or query string parameter, such as $request.header.Authorization",
        )
    return value


class JwtAuthorizer(Model):
    """`api.authorizers.<name>`: API Gateway checks a JSON Web Token from this issuer before the route is called."""

    issuer: Annotated[str, AfterValidator(_check_issuer)]
    audience: Annotated[list[str], AfterValidator(_check_audience)]
    identity_source: Annotated[str, AfterValidator(_check_identity_source)] = aws_facts.JWT_DEFAULT_IDENTITY_SOURCE


def _check_scopes(value: list[str]) -> list[str]:
    if len(value) > aws_facts.SCOPES_PER_ROUTE:
        raise fail("scopes", f"at most {aws_facts.SCOPES_PER_ROUTE} scopes per route")
    for scope in value:
        if not aws_facts.OAUTH_SCOPE.match(scope):
            raise fail("scopes", f"{scope!r} is not an OAuth scope (printable characters, no spaces or quotes)")
    if len(set(value)) != len(value):
        raise fail("scopes", "lists a scope twice")
    return value


class JwtAuthorization(Model):
    """`{jwt: <authorizer>, scopes: [...]}`: a valid token from that authorizer, with one of the scopes if given."""

    jwt: str
    scopes: Annotated[list[str], AfterValidator(_check_scopes)] = Field(default_factory=list)


def _parse_authorization(value: Any) -> Any:
    if isinstance(value, dict) and "jwt" not in value and "scopes" in value:
        raise fail(
            "authorization",
            "scopes apply only to a JWT route: write {jwt: <authorizer>, scopes: [...]} (none and iam take none)",
        )
    if isinstance(value, dict):
        return JwtAuthorization.model_validate(value)
    if value not in ("none", "iam"):
        raise fail("authorization", "must be none, iam (SigV4-signed requests) or {jwt: <authorizer>, scopes: [...]}")
    return value


Authorization = Annotated[Literal["none", "iam"] | JwtAuthorization, BeforeValidator(_parse_authorization)]


def authorization_kind(authorization: Literal["none", "iam"] | JwtAuthorization) -> str:
    """none, iam or jwt: the key of `aws_facts.ROUTE_AUTHORIZATION_TYPE`."""
    return "jwt" if isinstance(authorization, JwtAuthorization) else authorization


class RouteConfig(Model):
    """One HTTP API route to a Cloud Map service, optionally filtered by instance attributes."""

    service: str
    attributes: dict[str, ScalarString] = Field(default_factory=dict)
    # Who may call it: anyone (none), SigV4-signed callers with execute-api:Invoke (iam), or bearers of a JWT.
    authorization: Authorization = "none"

    @field_validator("attributes")
    @classmethod
    def _attribute_sizes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, attr in value.items():
            if not aws_facts.ATTRIBUTE_KEY.match(key):
                raise fail(
                    "attr_key", "an attribute key must be 1-255 printable ASCII characters without spaces", shown=key
                )
            if not 1 <= len(attr) <= aws_facts.ATTRIBUTE_VALUE_MAX:
                raise fail(
                    "attr_value",
                    f"must be 1-{aws_facts.ATTRIBUTE_VALUE_MAX} characters ({len(attr):,} given)",
                    at=(key,),
                )
        return value


def _check_topic_arn(value: str) -> str:
    if not aws_facts.SNS_TOPIC_ARN.match(value):
        raise fail("topic_arn", "must be an SNS topic ARN such as arn:aws:sns:us-east-1:123456789012:alerts")
    return value


# Deliberately loose: SNS itself confirms the address by mail before it delivers anything.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise fail("email", "must be an email address such as oncall@example.com")
    return value


def _check_https(value: str) -> str:
    if not re.match(r"^https://[^\s/]+(/\S*)?$", value):
        raise fail("https_endpoint", "must be an https:// URL (SNS confirms it before it delivers)")
    return value


class ErrorAlarm(Model):
    """A CloudWatch alarm on the share of 5xx answers: what users see when no healthy task matches a route.

    It notifies `topicArn` when given; otherwise mapgate creates a topic (free while idle) and subscribes
    `email` and/or `httpsEndpoint`.
    """

    threshold_percent: Annotated[float, INT_AS_FLOAT, positive_up_to(100, "(percent of requests)")] = 5.0
    topic_arn: Annotated[str, AfterValidator(_check_topic_arn)] | None = None
    email: Annotated[str, AfterValidator(_check_email)] | None = None
    https_endpoint: Annotated[str, AfterValidator(_check_https)] | None = None

    @model_validator(mode="after")
    def _one_destination_kind(self) -> ErrorAlarm:
        if self.topic_arn and (self.email or self.https_endpoint):
            raise fail(
                "alarm_topic",
                "give either topicArn (an existing topic) or email/httpsEndpoint (mapgate creates the topic)",
                fields=("topicArn", "email", "httpsEndpoint"),
            )
        return self

    @property
    def notifies_someone(self) -> bool:
        return bool(self.topic_arn or self.email or self.https_endpoint)


def _check_authorizer_name(name: str) -> str:
    if not aws_facts.DNS_LABEL.match(name):
        raise fail("authorizer_name", "authorizer name must be 1-63 characters of a-z, 0-9 and '-'")
    return name


AuthorizerName = Annotated[str, AfterValidator(_check_authorizer_name)]


def _authorizer_count(value: dict[str, JwtAuthorizer]) -> dict[str, JwtAuthorizer]:
    if len(value) > aws_facts.AUTHORIZERS_PER_API:
        raise fail(
            "authorizers",
            f"an HTTP API has at most {aws_facts.AUTHORIZERS_PER_API} authorizers ({len(value)} given)",
            shown=sorted(value),
        )
    return value


def _check_domain_name(value: str) -> str:
    labels = value.split(".")
    if len(value) > aws_facts.DNS_NAME_MAX or len(labels) < 2 or not all(map(aws_facts.DNS_LABEL.match, labels)):
        raise fail(
            "domain_name",
            "must be a lowercase DNS name such as api.example.com (labels of a-z, 0-9 and '-'; no wildcard)",
        )
    return value


def _check_certificate_arn(value: str) -> str:
    if not aws_facts.ACM_CERTIFICATE_ARN.match(value):
        raise fail(
            "certificate_arn",
            "must be an ACM certificate ARN such as arn:aws:acm:us-east-1:123456789012:certificate/"
            "1234abcd-12ab-34cd-56ef-1234567890ab, in the stack's Region",
        )
    return value


def _check_hosted_zone_id(value: str) -> str:
    if not aws_facts.HOSTED_ZONE_ID.match(value):
        raise fail("hosted_zone_id", "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
    return value


class CustomDomain(Model):
    """`api.domain`: the API served at `https://<name>/`.

    With `certificateArn`, that ACM certificate (in the stack's Region) is used; with `hostedZoneId`, mapgate writes
    an alias record for the name in that public zone and, unless a certificate is given, requests one and
    validates it by DNS in the zone.
    """

    name: Annotated[str, AfterValidator(_check_domain_name)]
    certificate_arn: Annotated[str, AfterValidator(_check_certificate_arn)] | None = None
    hosted_zone_id: Annotated[str, AfterValidator(_check_hosted_zone_id)] | None = None

    @model_validator(mode="after")
    def _certificate_or_zone(self) -> CustomDomain:
        if self.certificate_arn is None and self.hosted_zone_id is None:
            raise fail(
                "domain",
                "give certificateArn (an ACM certificate for the name) or hostedZoneId (mapgate requests and "
                "validates one in that Route 53 zone), or both",
            )
        return self

    @property
    def certificate_region(self) -> str | None:
        match = aws_facts.ACM_CERTIFICATE_ARN.match(self.certificate_arn or "")
        return match["region"] if match else None


class ApiConfig(Model):
    routes: dict[RouteKey, RouteConfig] = Field(default_factory=dict)
    authorizers: Annotated[dict[AuthorizerName, JwtAuthorizer], AfterValidator(_authorizer_count)] = Field(
        default_factory=dict
    )
    throttling: Throttling = Field(default_factory=Throttling)
    timeout_ms: Annotated[int, between(aws_facts.INTEGRATION_TIMEOUT_MS)] = 29_000
    access_log_retention_days: Annotated[int, one_of(aws_facts.LOG_RETENTION_DAYS, "retention (days)")] = 30
    error_alarm: ErrorAlarm = Field(default_factory=ErrorAlarm)
    domain: CustomDomain | None = None
    # Off: only the custom domain reaches the API (clients can no longer go around it to the execute-api URL).
    disable_default_endpoint: bool = False
