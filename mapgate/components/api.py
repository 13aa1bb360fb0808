"""The public edge: an API Gateway HTTP API that reaches Cloud Map services through a VPC link."""

from __future__ import annotations

import functools
import json
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import apigatewayv2, cloudwatch, sns

from mapgate import aws_facts, naming
from mapgate.components.base import Component

# The fields operators need to tell "API Gateway failed" from "the task failed".
ACCESS_LOG_FIELDS = {
    "requestId": aws_facts.ACCESS_LOG_REQUIRED_VARIABLE,
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
    """The Cloud Map service ARN, plus `?k=v&…` that API Gateway turns into DiscoverInstances filters.

    Keys are sorted so the URI (and so the resource) does not change when the YAML is reordered.
    """
    if not attributes:
        return service_arn
    query = urllib.parse.urlencode(sorted(attributes.items()), quote_via=urllib.parse.quote)
    return f"{service_arn}?{query}"


def route_path(route_key: str) -> str:
    return "/" if route_key == aws_facts.DEFAULT_ROUTE else aws_facts.parse_route_key(route_key)[1]


def route_urls(base_url: pulumi.Input[str], route_keys: Sequence[str]) -> pulumi.Output[dict[str, str]]:
    """Route key -> the URL it answers at, under `base_url` (the execute-api endpoint or the custom domain)."""
    keys = sorted(route_keys)
    return pulumi.Output.from_input(base_url).apply(lambda base: {key: f"{base}{route_path(key)}" for key in keys})


@dataclass(frozen=True)
class ApiRoute:
    route_key: str
    """`METHOD /path` or `$default`."""
    service: str
    """The mapgate service it reaches (for the integration's description)."""
    service_arn: pulumi.Input[str]
    """That service's Cloud Map service ARN: the integration URI."""
    attributes: Mapping[str, str]
    """Cloud Map attribute filter: only instances with all these attributes are called."""
    authorization: str = "none"
    """none, iam (SigV4 and execute-api:Invoke) or jwt (a token from `authorizer`)."""
    authorizer: str | None = None
    """The JWT authorizer's name in `HttpApiArgs.authorizers`, for a jwt route."""
    scopes: Sequence[str] = ()
    """For a jwt route: the token must carry at least one of these (none: any valid token)."""


@dataclass(frozen=True)
class JwtAuthorizerArgs:
    issuer: str
    audience: Sequence[str]
    identity_source: str


@dataclass(frozen=True)
class ErrorAlarmArgs:
    threshold_percent: float
    """Alarm when more than this share of requests answers 5xx, in 3 of 5 minutes."""
    topic_arn: str | None = None
    """An existing SNS topic to notify. Without one, the component creates a topic."""
    email: str | None = None
    https_endpoint: str | None = None
    """Subscribed to the created topic (SNS confirms each first)."""


@dataclass(frozen=True)
class HttpApiArgs:
    routes: Sequence[ApiRoute]
    subnet_ids: pulumi.Input[Sequence[str]]
    """Where the VPC link's network interfaces go: the task subnets."""
    vpc_link_security_group_id: pulumi.Input[str]
    throttling_rate_limit: float
    throttling_burst_limit: int
    """Both are always sent: a missing one becomes 0, and every request gets 429 (pulumi/pulumi-aws#2363)."""
    timeout_ms: int
    access_log_group_name: str
    access_log_retention_days: int
    error_alarm: ErrorAlarmArgs
    tags: Mapping[str, str]
    authorizers: Mapping[str, JwtAuthorizerArgs] = field(default_factory=dict)
    """JWT authorizers by name, for routes that name one."""
    disable_default_endpoint: bool = False
    """Turn off the execute-api URL (when a custom domain is the way in)."""


class HttpApi(Component):
    """Routes from the internet to Cloud Map services, with no load balancer.

    Creates: an `apigatewayv2.Api` (HTTP); an `apigatewayv2.VpcLink` on the task subnets with the VPC-link
    security group (immutable: new subnets or groups replace it); an access-log `cloudwatch.LogGroup` with
    retention; the `$default` stage (served at the URL root, so backends see the real path) with auto-deploy,
    throttling and JSON access logs; per route an HTTP_PROXY / VPC_LINK / ANY `apigatewayv2.Integration`
    (payload format 1.0) whose URI is the Cloud Map service ARN plus the route's attribute filter, and the
    `apigatewayv2.Route` that targets it, with its authorization (none, AWS_IAM, or JWT with scopes); an
    `apigatewayv2.Authorizer` (JWT) per configured authorizer; a `cloudwatch.MetricAlarm` on the share of 5xx
    answers (API Gateway answers 500/503 when a route matches no healthy instance); and, unless an existing topic
    is given, the `sns.Topic` it notifies with an `sns.TopicSubscription` per configured email or HTTPS endpoint.
    """

    api_endpoint: pulumi.Output[str]
    route_urls: pulumi.Output[dict[str, str]]
    alarm_topic_arn: pulumi.Output[str]
    api_id: pulumi.Output[str]
    stage_id: pulumi.Output[str]
    error_alarm_name: pulumi.Output[str]
    execution_arn: pulumi.Output[str]
    """`arn:aws:execute-api:<region>:<account>:<api-id>`: IAM callers need execute-api:Invoke under it."""

    def __init__(self, name: str, args: HttpApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.ApiChildren(name)
        api = apigatewayv2.Api(
            children.api,
            protocol_type="HTTP",
            disable_execute_api_endpoint=args.disable_default_endpoint or None,
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        vpc_link = apigatewayv2.VpcLink(
            children.vpc_link,
            subnet_ids=args.subnet_ids,
            security_group_ids=[args.vpc_link_security_group_id],
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        access_logs = cloudwatch.LogGroup(
            children.access_logs,
            name=args.access_log_group_name,
            retention_in_days=args.access_log_retention_days,
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        stage = apigatewayv2.Stage(
            children.stage,
            api_id=api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings=apigatewayv2.StageDefaultRouteSettingsArgs(
                throttling_rate_limit=args.throttling_rate_limit, throttling_burst_limit=args.throttling_burst_limit
            ),
            access_log_settings=apigatewayv2.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=access_log_format()
            ),
            tags=dict(args.tags),
            opts=self.child_opts,
        )

        authorizers = {
            auth_name: apigatewayv2.Authorizer(
                children.authorizer(auth_name),
                api_id=api.id,
                name=auth_name,
                authorizer_type="JWT",
                identity_sources=[auth.identity_source],
                jwt_configuration=apigatewayv2.AuthorizerJwtConfigurationArgs(
                    issuer=auth.issuer, audiences=list(auth.audience)
                ),
                opts=self.child_opts,
            )
            for auth_name, auth in sorted(args.authorizers.items())
        }

        slugs = naming.route_slugs([route.route_key for route in args.routes])
        for route in sorted(args.routes, key=lambda r: r.route_key):
            slug = slugs[route.route_key]
            attributes = dict(route.attributes)
            integration = apigatewayv2.Integration(
                children.integration(slug),
                api_id=api.id,
                description=f"{route.route_key} -> {route.service}",
                integration_type="HTTP_PROXY",
                integration_method="ANY",
                connection_type="VPC_LINK",
                connection_id=vpc_link.id,
                integration_uri=pulumi.Output.from_input(route.service_arn).apply(
                    functools.partial(integration_uri, attributes=attributes)
                ),
                payload_format_version="1.0",
                timeout_milliseconds=args.timeout_ms,
                opts=self.child_opts,
            )
            apigatewayv2.Route(
                children.route(slug),
                api_id=api.id,
                route_key=route.route_key,
                target=integration.id.apply(lambda integration_id: f"integrations/{integration_id}"),
                authorization_type=aws_facts.ROUTE_AUTHORIZATION_TYPE[route.authorization],
                authorizer_id=authorizers[route.authorizer].id if route.authorizer else None,
                authorization_scopes=list(route.scopes) or None,
                opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=children.route_before_0_2(slug))]),
            )

        self.alarm_topic_arn = self._alarm_topic(children, args)
        self.error_alarm_name = self._error_alarm(children, args, api.id, self.alarm_topic_arn)

        self.api_endpoint = api.api_endpoint
        self.api_id = api.id
        self.stage_id = stage.id
        self.execution_arn = api.execution_arn
        self.route_urls = route_urls(api.api_endpoint, [route.route_key for route in args.routes])
        self.register_outputs(
            {
                "apiEndpoint": self.api_endpoint,
                "routeUrls": self.route_urls,
                "alarmTopicArn": self.alarm_topic_arn,
                "apiId": self.api_id,
                "stageId": self.stage_id,
                "executionArn": self.execution_arn,
            }
        )

    def _alarm_topic(self, children: naming.ApiChildren, args: HttpApiArgs) -> pulumi.Output[str]:
        alarm = args.error_alarm
        if alarm.topic_arn:
            return pulumi.Output.from_input(alarm.topic_arn)
        topic = sns.Topic(children.alarm_topic, tags=dict(args.tags), opts=self.child_opts)
        for protocol, endpoint in (("email", alarm.email), ("https", alarm.https_endpoint)):
            if endpoint:
                sns.TopicSubscription(
                    children.alarm_subscription(protocol),
                    topic=topic.arn,
                    protocol=protocol,
                    endpoint=endpoint,
                    opts=self.child_opts,
                )
        return topic.arn

    def _error_alarm(
        self,
        children: naming.ApiChildren,
        args: HttpApiArgs,
        api_id: pulumi.Output[str],
        topic_arn: pulumi.Output[str],
    ) -> pulumi.Output[str]:
        """The 5xx alarm; returns its name (what `mapgate status` reads its state by)."""
        alarm = args.error_alarm

        def metric(query_id: str, metric_name: str) -> cloudwatch.MetricAlarmMetricQueryArgs:
            return cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                return_data=False,
                metric=cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApiGateway",
                    metric_name=metric_name,
                    dimensions={"ApiId": api_id},
                    period=60,
                    stat="Sum",
                ),
            )

        error_alarm = cloudwatch.MetricAlarm(
            children.error_alarm,
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
                cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression="IF(requests > 0, 100 * errors / requests, 0)",
                    label="5xx %",
                    return_data=True,
                ),
            ],
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        return error_alarm.name
