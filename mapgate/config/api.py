"""`mapgate:api`: the HTTP API, its routes to Cloud Map services, and the alarm on what users see."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

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


class RouteConfig(Model):
    """One HTTP API route to a Cloud Map service, optionally filtered by instance attributes."""

    service: str
    attributes: dict[str, ScalarString] = Field(default_factory=dict)

    @field_validator("attributes")
    @classmethod
    def _attribute_sizes(cls, value: dict[str, str]) -> dict[str, str]:
        for key, attr in value.items():
            if not aws_facts.ATTRIBUTE_KEY.match(key):
                raise fail("attr_key", f"key {key!r} must be 1-255 printable ASCII characters without spaces")
            if not 1 <= len(attr) <= aws_facts.ATTRIBUTE_VALUE_MAX:
                raise fail("attr_value", f"value of {key!r} must be 1-{aws_facts.ATTRIBUTE_VALUE_MAX} characters")
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
            )
        return self

    @property
    def notifies_someone(self) -> bool:
        return bool(self.topic_arn or self.email or self.https_endpoint)


class ApiConfig(Model):
    routes: dict[RouteKey, RouteConfig] = Field(default_factory=dict)
    throttling: Throttling = Field(default_factory=Throttling)
    timeout_ms: Annotated[int, between(aws_facts.INTEGRATION_TIMEOUT_MS)] = 29_000
    access_log_retention_days: Annotated[int, one_of(aws_facts.LOG_RETENTION_DAYS, "retention (days)")] = 30
    error_alarm: ErrorAlarm = Field(default_factory=ErrorAlarm)
