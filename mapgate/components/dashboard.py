"""The stack's CloudWatch dashboard: the API, each route, each service, and the NAT instances, on one page.

Where each number comes from, and why:
- the API as a whole: API Gateway's metrics by `ApiId` (Count, 4xx, 5xx, Latency), which HTTP APIs publish free;
- per route: a Logs Insights table on the stage's access log (requests by status class, average and p99 latency,
  by `routeKey`). Per-route metrics would need the stage's detailed metrics, billed as custom metrics per route;
  the access log already holds the route key, status and latency of every request;
- per service: `AWS/ECS` CPUUtilization and MemoryUtilization by ClusterName and ServiceName; running and desired
  tasks from Container Insights (`ECS/ContainerInsights`) when the stack turns it on (without it ECS publishes no
  task count, and the widget says so);
- per NAT instance: `AWS/EC2` NetworkIn/NetworkOut and StatusCheckFailed.

Pricing: $3 a month per dashboard, and the first 3 dashboards (of up to 50 metrics each) in an account are free
(https://aws.amazon.com/cloudwatch/pricing/); `mapgate plan` prices it so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import cloudwatch

from mapgate import naming
from mapgate.components.base import Component

GRID_WIDTH = 24  # CloudWatch dashboards are 24 units wide
HALF, THIRD = 12, 8
HEIGHT = 6
PERIOD_SECONDS = 60


@dataclass(frozen=True)
class DashboardArgs:
    dashboard_name: str
    region: str
    cluster_name: pulumi.Input[str]
    services: Mapping[str, pulumi.Input[str]]
    """mapgate service -> its ECS service's name."""
    container_insights: bool
    """Whether the cluster publishes Container Insights (the only source of task counts)."""
    api_id: pulumi.Input[str] | None = None
    access_log_group: str | None = None
    """The stage's access-log group (the routes' table reads it)."""
    route_keys: Sequence[str] = ()
    nat_instance_ids: Sequence[pulumi.Input[str]] = ()


def console_url(region: str, name: str) -> str:
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{name}"


def _metric_widget(
    title: str, metrics: list[list[Any]], region: str, *, x: int, y: int, width: int, stat: str = "Sum"
) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": width,
        "height": HEIGHT,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "stacked": False,
            "region": region,
            "period": PERIOD_SECONDS,
            "stat": stat,
            "metrics": metrics,
        },
    }


def _text_widget(markdown: str, *, y: int) -> dict[str, Any]:
    return {"type": "text", "x": 0, "y": y, "width": GRID_WIDTH, "height": 1, "properties": {"markdown": markdown}}


ROUTE_QUERY = (
    "fields routeKey, concat(substr(status, 0, 1), 'xx') as statusClass, responseLatency "
    "| stats count(*) as requests, avg(responseLatency) as avgLatencyMs, pct(responseLatency, 99) as p99LatencyMs "
    "by routeKey, statusClass | sort routeKey, statusClass"
)


def dashboard_body(
    *,
    region: str,
    cluster: str,
    services: Mapping[str, str],
    container_insights: bool,
    api_id: str | None,
    access_log_group: str | None,
    route_keys: Sequence[str],
    nat_instance_ids: Sequence[str],
) -> dict[str, Any]:
    """The dashboard body (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html),
    laid out in rows: API, routes, one row per service, NAT instances. Pure: tests check it without a deploy."""
    widgets: list[dict[str, Any]] = []
    y = 0
    if api_id is not None:
        widgets.append(_text_widget("## API", y=y))
        y += 1
        api = ["AWS/ApiGateway"]
        widgets += [
            _metric_widget("Requests", [[*api, "Count", "ApiId", api_id]], region, x=0, y=y, width=THIRD),
            _metric_widget(
                "4xx and 5xx",
                [[*api, "4xx", "ApiId", api_id], [*api, "5xx", "ApiId", api_id]],
                region,
                x=THIRD,
                y=y,
                width=THIRD,
            ),
            _metric_widget(
                "Latency (ms)",
                [
                    [*api, "Latency", "ApiId", api_id, {"stat": "p50"}],
                    [*api, "Latency", "ApiId", api_id, {"stat": "p99"}],
                ],
                region,
                x=2 * THIRD,
                y=y,
                width=THIRD,
                stat="p50",
            ),
        ]
        y += HEIGHT
    if access_log_group and route_keys:
        widgets.append(
            {
                "type": "log",
                "x": 0,
                "y": y,
                "width": GRID_WIDTH,
                "height": HEIGHT,
                "properties": {
                    "title": f"Routes ({', '.join(sorted(route_keys))}): requests, status class, latency",
                    "region": region,
                    "view": "table",
                    "query": f"SOURCE '{access_log_group}' | {ROUTE_QUERY}",
                },
            }
        )
        y += HEIGHT
    for name in sorted(services):
        widgets.append(_text_widget(f"## Service {name}", y=y))
        y += 1
        ecs_dims = ["ClusterName", cluster, "ServiceName", services[name]]
        if container_insights:
            insights = "ECS/ContainerInsights"
            tasks = _metric_widget(
                "Tasks",
                [[insights, "RunningTaskCount", *ecs_dims], [insights, "DesiredTaskCount", *ecs_dims]],
                region,
                x=0,
                y=y,
                width=THIRD,
                stat="Average",
            )
        else:
            tasks = {
                "type": "text",
                "x": 0,
                "y": y,
                "width": THIRD,
                "height": HEIGHT,
                "properties": {
                    "markdown": "Task counts need Container Insights: set `mapgate:containerInsights: true`, "
                    "or run `mapgate status`."
                },
            }
        widgets += [
            tasks,
            _metric_widget(
                "CPU %", [["AWS/ECS", "CPUUtilization", *ecs_dims]], region, x=THIRD, y=y, width=THIRD, stat="Average"
            ),
            _metric_widget(
                "Memory %",
                [["AWS/ECS", "MemoryUtilization", *ecs_dims]],
                region,
                x=2 * THIRD,
                y=y,
                width=THIRD,
                stat="Average",
            ),
        ]
        y += HEIGHT
    if nat_instance_ids:
        widgets.append(_text_widget("## NAT instances", y=y))
        y += 1
        ec2 = "AWS/EC2"
        network = [[ec2, metric, "InstanceId", i] for i in nat_instance_ids for metric in ("NetworkIn", "NetworkOut")]
        checks = [[ec2, "StatusCheckFailed", "InstanceId", i] for i in nat_instance_ids]
        widgets += [
            _metric_widget("NAT network (bytes)", network, region, x=0, y=y, width=HALF),
            _metric_widget("NAT status check failed", checks, region, x=HALF, y=y, width=HALF, stat="Maximum"),
        ]
    return {"widgets": widgets}


class Dashboard(Component):
    """One CloudWatch dashboard for the stack (see the module's docstring for what it shows and why).

    Creates: a `cloudwatch.Dashboard` named `args.dashboard_name`, whose body is built from the ids once they
    exist. `url` is its page in the console.
    """

    url: str

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.DashboardChildren(name)
        names = sorted(args.services)
        body = pulumi.Output.all(
            pulumi.Output.from_input(args.cluster_name),
            pulumi.Output.from_input(args.api_id),
            pulumi.Output.all(*[args.services[n] for n in names]),
            pulumi.Output.all(*args.nat_instance_ids),
        ).apply(
            lambda resolved: json.dumps(
                dashboard_body(
                    region=args.region,
                    cluster=resolved[0],
                    services=dict(zip(names, resolved[2], strict=True)),
                    container_insights=args.container_insights,
                    api_id=resolved[1],
                    access_log_group=args.access_log_group,
                    route_keys=args.route_keys,
                    nat_instance_ids=list(resolved[3]),
                ),
                sort_keys=True,
            )
        )
        cloudwatch.Dashboard(
            children.dashboard, dashboard_name=args.dashboard_name, dashboard_body=body, opts=self.child_opts
        )
        self.url = console_url(args.region, args.dashboard_name)
        self.register_outputs({"url": self.url})
