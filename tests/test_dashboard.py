"""The stack's CloudWatch dashboard: its body checked against the documented structure and the ids it graphs,
its request against botocore's PutDashboard model and moto's CloudWatch, and its price in the plan."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from mapgate import naming
from mapgate import resource_types as types
from mapgate.components.dashboard import GRID_WIDTH, console_url, dashboard_body
from tests.aws_models import request_errors
from tests.harness import API, NETWORK, StackRun

BOARD = naming.DashboardChildren(naming.DASHBOARD)
WIDGET_TYPES = {"metric", "text", "log", "alarm", "explorer"}


def body_of(run: StackRun) -> dict[str, Any]:
    board = run.one(types.DASHBOARD, BOARD.dashboard)
    assert board.inputs["dashboardName"] == f"mapgate-{run.outputs['clusterName'].removeprefix('mapgate-')}"
    return dict(json.loads(board.inputs["dashboardBody"]))


def structural_problems(body: dict[str, Any]) -> list[str]:
    """The body structure CloudWatch documents (CloudWatch-Dashboard-Body-Structure): a 24-wide grid of widgets
    with integer positions; metric widgets list [namespace, name, (dimension, value)..., {options}]; log widgets
    query `SOURCE '<group>' | ...`. Also: no two widgets overlap."""
    problems = []
    cells: dict[tuple[int, int], int] = {}
    for index, widget in enumerate(body["widgets"]):
        kind, props = widget["type"], widget["properties"]
        if kind not in WIDGET_TYPES:
            problems.append(f"{index}: type {kind}")
        x, y, width, height = (widget[k] for k in ("x", "y", "width", "height"))
        if not all(isinstance(v, int) and v >= 0 for v in (x, y, width, height)) or x + width > GRID_WIDTH:
            problems.append(f"{index}: outside the grid")
        for cell in ((cx, cy) for cx in range(x, x + width) for cy in range(y, y + height)):
            if cell in cells:
                problems.append(f"{index}: overlaps {cells[cell]}")
                break
            cells[cell] = index
        if kind == "metric":
            for metric in props["metrics"]:
                names = [m for m in metric if not isinstance(m, dict)]
                if len(names) < 2 or len(names) % 2 or not all(isinstance(m, str) and m for m in names):
                    problems.append(f"{index}: metric {metric}")
            if not props.get("region"):
                problems.append(f"{index}: no region")
        if kind == "log" and not props["query"].startswith("SOURCE '"):
            problems.append(f"{index}: log query {props['query'][:40]}")
    return problems


def metrics(body: dict[str, Any]) -> list[list[Any]]:
    return [m for w in body["widgets"] if w["type"] == "metric" for m in w["properties"]["metrics"]]


def test_dev_graphs_the_api_each_service_and_the_nat_instance(dev_run: StackRun) -> None:
    body = body_of(dev_run)
    assert structural_problems(body) == []
    api_id = dev_run.one(types.HTTP_API, API.api).id
    ecs = {r.state["name"] for r in dev_run.of_type(types.ECS_SERVICE)}  # auto-named by the provider
    nat = dev_run.one(types.INSTANCE, NETWORK.nat(1) + "-instance").id
    found = metrics(body)
    assert {m[1] for m in found if m[0] == "AWS/ApiGateway"} == {"Count", "4xx", "5xx", "Latency"}
    assert {m[3] for m in found if m[0] == "AWS/ApiGateway"} == {api_id}
    assert {m[5] for m in found if m[0] == "AWS/ECS"} == ecs  # CPU and memory of every service
    assert {m[1] for m in found if m[0] == "AWS/ECS"} == {"CPUUtilization", "MemoryUtilization"}
    assert {(m[1], m[3]) for m in found if m[0] == "AWS/EC2"} == {
        ("NetworkIn", nat),
        ("NetworkOut", nat),
        ("StatusCheckFailed", nat),
    }
    # dev has no Container Insights: no task-count metric that would stay empty; a note says why.
    assert not [m for m in found if m[0] == "ECS/ContainerInsights"]
    assert (
        sum("Task counts need Container Insights" in w["properties"].get("markdown", "") for w in body["widgets"]) == 3
    )
    (routes,) = [w for w in body["widgets"] if w["type"] == "log"]
    stage = dev_run.one(types.STAGE, API.stage)
    group = dev_run.one(types.LOG_GROUP, API.access_logs).inputs["name"]
    assert stage.inputs["accessLogSettings"]["destinationArn"]  # the stage logs to that group
    assert routes["properties"]["query"].startswith(f"SOURCE '{group}' | fields routeKey")
    assert "GET /, GET /follower, GET /leader" in routes["properties"]["title"]


def test_prod_counts_tasks_through_container_insights_and_has_no_nat_instance(prod_run: StackRun) -> None:
    body = body_of(prod_run)
    assert structural_problems(body) == []
    found = metrics(body)
    insights = {(m[1], m[5]) for m in found if m[0] == "ECS/ContainerInsights"}
    assert {name for name, _ in insights} == {"RunningTaskCount", "DesiredTaskCount"}
    assert len(insights) == 2 * len(prod_run.of_type(types.ECS_SERVICE))
    assert not [m for m in found if m[0] == "AWS/EC2"]  # NAT gateways, not instances


def test_the_url_is_a_stack_output(dev_run: StackRun) -> None:
    assert dev_run.outputs["dashboardUrl"] == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/mapgate-dev"
    )
    assert console_url("eu-west-1", "x").startswith("https://eu-west-1.console.aws.amazon.com/")


def test_the_request_fits_botocore_and_moto_takes_it(dev_run: StackRun, monkeypatch: pytest.MonkeyPatch) -> None:
    board = dev_run.one(types.DASHBOARD, BOARD.dashboard).inputs
    request = {"DashboardName": board["dashboardName"], "DashboardBody": board["dashboardBody"]}
    assert request_errors("cloudwatch", "PutDashboard", request) == ""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        assert cloudwatch.put_dashboard(**request).get("DashboardValidationMessages", []) == []
        stored = cloudwatch.get_dashboard(DashboardName=board["dashboardName"])["DashboardBody"]
    assert json.loads(stored) == json.loads(board["dashboardBody"])


def test_a_stack_without_routes_or_nat_has_only_its_services() -> None:
    body = dashboard_body(
        region="us-east-1",
        cluster="c",
        services={"a": "a-svc"},
        container_insights=True,
        api_id=None,
        access_log_group=None,
        route_keys=(),
        nat_instance_ids=(),
    )
    assert structural_problems(body) == []
    assert [w["type"] for w in body["widgets"]] == ["text", "metric", "metric", "metric"]


def test_plan_prices_it_and_says_the_first_three_are_free(dev_run: StackRun) -> None:
    from mapgate.cli.cost import estimate
    from mapgate.cli.inventory import Inventory

    (item,) = [i for i in estimate(Inventory.read(dev_run)).items if i.name.startswith("CloudWatch dashboard")]
    assert (item.quantity, item.usd) == (1, 3.0)
    assert "free if among the account's first 3" in item.name
