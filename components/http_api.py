"""The public edge: an API Gateway HTTP API that reaches Cloud Map services through a VPC link."""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ApiConfig, parse_route_key

# §4: the fields operators need to tell "API Gateway failed" from "the task failed".
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "integrationStatus": "$context.integrationStatus",
    "integrationErrorMessage": "$context.integrationErrorMessage",
    "integrationLatency": "$context.integrationLatency",
    "responseLatency": "$context.responseLatency",
    "sourceIp": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
}


def access_log_format() -> str:
    return json.dumps(ACCESS_LOG_FIELDS, separators=(",", ":"))


def integration_uri(service_arn: str, attributes: Mapping[str, str]) -> str:
    """§4: the Cloud Map service ARN, plus `?k=v&…` that API Gateway turns into DiscoverInstances filters.

    Keys are sorted so the URI (and so the resource) does not change when the YAML is reordered.
    """
    if not attributes:
        return service_arn
    query = urllib.parse.urlencode(sorted(attributes.items()), quote_via=urllib.parse.quote)
    return f"{service_arn}?{query}"


def route_slug(route_key: str) -> str:
    """'GET /leader' -> 'get-leader', 'GET /' -> 'get-root': readable resource names for a route."""
    if route_key == "$default":
        return "default"
    method, path = parse_route_key(route_key)
    words = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return f"{method.lower()}-{words or 'root'}"


def route_slugs(route_keys: Sequence[str]) -> dict[str, str]:
    """Unique slugs; keys that would collide ('GET /a-b', 'GET /a/b') get a numeric suffix in sorted order."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(route_keys):
        base = slug = route_slug(key)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        slugs[key] = slug
        taken.add(slug)
    return slugs


def route_path(route_key: str) -> str:
    return "/" if route_key == "$default" else parse_route_key(route_key)[1]


@dataclass(frozen=True)
class HttpApiArgs:
    api: ApiConfig
    subnet_ids: pulumi.Input[Sequence[str]]
    vpc_link_security_group_id: pulumi.Input[str]
    service_arns: Mapping[str, pulumi.Input[str]]
    access_log_group_name: str
    tags: Mapping[str, str]


class HttpApi(pulumi.ComponentResource):
    """Routes from the internet to Cloud Map services, with no load balancer.

    Creates: an `aws.apigatewayv2.Api` (HTTP); an `aws.apigatewayv2.VpcLink` on the task subnets with the
    VPC-link security group; an access-log `aws.cloudwatch.LogGroup` with retention; the `$default` stage
    (served at the URL root, so backends see the real path) with auto-deploy, throttling and JSON access
    logs; and per route an HTTP_PROXY / VPC_LINK / ANY `aws.apigatewayv2.Integration` (payload format 1.0)
    whose URI is the Cloud Map service ARN plus the route's attribute filter, and the `aws.apigatewayv2.Route`
    that targets it; and an `aws.cloudwatch.MetricAlarm` on the share of 5xx answers (API Gateway answers 500/503
    when a route matches no healthy instance), notifying an SNS topic when one is configured.
    """

    api_endpoint: pulumi.Output[str]
    route_urls: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:api:HttpApi", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        api = aws.apigatewayv2.Api(f"{name}-http", protocol_type="HTTP", tags=dict(args.tags), opts=child)
        vpc_link = aws.apigatewayv2.VpcLink(
            f"{name}-vpc-link",
            subnet_ids=args.subnet_ids,
            security_group_ids=[args.vpc_link_security_group_id],
            tags=dict(args.tags),
            opts=child,
        )
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=args.access_log_group_name,
            retention_in_days=args.api.access_log_retention_days,
            tags=dict(args.tags),
            opts=child,
        )
        throttling = args.api.throttling
        aws.apigatewayv2.Stage(
            f"{name}-stage",
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            # §4: both limits always set; one left out becomes 0 and every request gets 429.
            default_route_settings=aws.apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=throttling.rate_limit, throttling_burst_limit=throttling.burst_limit
            ),
            access_log_settings=aws.apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=access_log_format()
            ),
            tags=dict(args.tags),
            opts=child,
        )

        slugs = route_slugs(list(args.api.routes))
        for route_key in sorted(args.api.routes):
            route = args.api.routes[route_key]
            attributes = dict(route.attributes)
            integration = aws.apigatewayv2.Integration(
                f"{name}-{slugs[route_key]}",
                api_id=api.id,
                description=f"{route_key} -> {route.service}",
                integration_type="HTTP_PROXY",
                integration_method="ANY",
                connection_type="VPC_LINK",
                connection_id=vpc_link.id,
                integration_uri=pulumi.Output.from_input(args.service_arns[route.service]).apply(
                    functools.partial(integration_uri, attributes=attributes)
                ),
                payload_format_version="1.0",
                timeout_milliseconds=args.api.timeout_ms,
                opts=child,
            )
            aws.apigatewayv2.Route(
                f"{name}-{slugs[route_key]}",
                api_id=api.id,
                route_key=route_key,
                target=integration.id.apply(lambda integration_id: f"integrations/{integration_id}"),
                opts=child,
            )

        self._error_alarm(name, args, api.id)

        self.api_endpoint = api.api_endpoint
        route_keys = sorted(args.api.routes)
        self.route_urls = api.api_endpoint.apply(
            lambda endpoint: {key: f"{endpoint}{route_path(key)}" for key in route_keys}
        )
        self.register_outputs({"apiEndpoint": self.api_endpoint, "routeUrls": self.route_urls})

    def _error_alarm(self, name: str, args: HttpApiArgs, api_id: pulumi.Output[str]) -> None:
        alarm = args.api.error_alarm
        topics = [alarm.topic_arn] if alarm.topic_arn else []

        def metric(query_id: str, metric_name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApiGateway",
                    metric_name=metric_name,
                    dimensions={"ApiId": api_id},
                    period=60,
                    stat="Sum",
                ),
            )

        aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-rate",
            alarm_description=f"more than {alarm.threshold_percent:g}% of API requests answered 5xx "
            "(no healthy task for a route, or tasks failing)",
            comparison_operator="GreaterThanThreshold",
            threshold=alarm.threshold_percent,
            evaluation_periods=5,
            datapoints_to_alarm=3,
            # No traffic is not an outage.
            treat_missing_data="notBreaching",
            metric_queries=[
                metric("errors", "5xx"),
                metric("requests", "Count"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression="IF(requests > 0, 100 * errors / requests, 0)",
                    label="5xx %",
                    return_data=True,
                ),
            ],
            alarm_actions=topics,
            ok_actions=topics,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
