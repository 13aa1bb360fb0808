"""Autoscaling, read-only root filesystem, AZ rebalancing and the 5xx-rate alarm."""

from __future__ import annotations

import pytest

from mapgate import resource_types as types
from tests.aws_models import shape_errors
from tests.harness import API, StackRun, changed, children, containers, load_stack_file, run_stack, with_prefix

TARGET = types.SCALING_TARGET
POLICY = types.SCALING_POLICY
ALARM = types.METRIC_ALARM


def test_prod_app_scales_on_cpu_between_its_bounds(prod_run: StackRun) -> None:
    (target,) = prod_run.of_type(TARGET)
    assert target.name == children("app").scaling_target
    assert (target.inputs["minCapacity"], target.inputs["maxCapacity"]) == (3, 12)
    assert target.inputs["serviceNamespace"] == "ecs"
    assert target.inputs["scalableDimension"] == "ecs:service:DesiredCount"
    assert target.inputs["resourceId"] == "service/mapgate-prod/app-service-1a2b3c4"
    (policy,) = prod_run.of_type(POLICY)
    tracking = policy.inputs["targetTrackingScalingPolicyConfiguration"]
    assert policy.inputs["policyType"] == "TargetTrackingScaling"
    assert tracking["predefinedMetricSpecification"] == {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}
    assert tracking["targetValue"] == 60
    assert (tracking["scaleOutCooldown"], tracking["scaleInCooldown"]) == (60, 300)


def test_a_scaled_service_leaves_its_task_count_to_the_scaler(prod_run: StackRun, dev_run: StackRun) -> None:
    ignored = {r.name: r.ignore_changes for r in prod_run.registrations if r.typ == types.ECS_SERVICE}
    assert ignored == {
        children("app").ecs_service: ("desiredCount",),
        children("cache").ecs_service: (),
        children("worker").ecs_service: (),
    }
    assert all(not r.ignore_changes for r in dev_run.registrations if r.typ == types.ECS_SERVICE)


def test_memory_target_adds_a_second_policy() -> None:
    config = changed("dev", ["services", "worker", "autoscaling"], {"min": 1, "max": 4, "memoryTarget": 75})
    run = run_stack(with_prefix(config))
    policies = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"] for p in run.of_type(POLICY)}
    worker = children("worker")
    assert set(policies) == {worker.scaling_policy("cpu"), worker.scaling_policy("memory")}
    memory = policies[worker.scaling_policy("memory")]
    assert memory["predefinedMetricSpecification"] == {"predefinedMetricType": "ECSServiceAverageMemoryUtilization"}
    assert memory["targetValue"] == 75


def test_unscaled_stacks_have_no_scaling_resources(dev_run: StackRun) -> None:
    assert dev_run.of_type(TARGET) == []
    assert dev_run.of_type(POLICY) == []


def test_read_only_root_with_a_writable_tmp(any_run: StackRun) -> None:
    for name in ("app", "worker"):
        task = any_run.inputs(types.TASK_DEFINITION, children(name).task_definition)
        (container,) = containers(any_run, name)
        assert container["readonlyRootFilesystem"] is True
        assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
        assert task["volumes"] == [{"name": "tmp"}]
        assert shape_errors("ecs", "ContainerDefinition", container) == ""


def test_writable_root_is_explicit_and_has_no_extra_volume() -> None:
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "readOnlyRootFilesystem"], False)))
    task = run.inputs(types.TASK_DEFINITION, children("worker").task_definition)
    (container,) = containers(run, "worker")
    assert container["readonlyRootFilesystem"] is False
    assert "mountPoints" not in container
    assert "volumes" not in task


def test_tasks_are_rebalanced_across_zones(any_run: StackRun) -> None:
    for service in any_run.of_type(types.ECS_SERVICE):
        assert service.inputs["availabilityZoneRebalancing"] == "ENABLED"


def test_error_rate_alarm_divides_5xx_by_requests(prod_run: StackRun) -> None:
    (alarm,) = prod_run.of_type(ALARM)
    inputs = alarm.inputs
    assert inputs["threshold"] == 2
    assert inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert inputs["treatMissingData"] == "notBreaching"
    assert (inputs["evaluationPeriods"], inputs["datapointsToAlarm"]) == (5, 3)
    queries = {q["id"]: q for q in inputs["metricQueries"]}
    assert queries["rate"]["expression"] == "IF(requests > 0, 100 * errors / requests, 0)"
    assert queries["rate"]["returnData"] is True
    for query_id, metric in (("errors", "5xx"), ("requests", "Count")):
        assert queries[query_id]["metric"] == {
            "namespace": "AWS/ApiGateway",
            "metricName": metric,
            "dimensions": {"ApiId": "api-http-id"},
            "period": 60,
            "stat": "Sum",
        }
        assert queries[query_id]["returnData"] is False
    (topic,) = prod_run.of_type(types.SNS_TOPIC)
    assert (inputs["alarmActions"], inputs["okActions"]) == ([topic.state["arn"]], [topic.state["arn"]])


def test_prod_pages_the_address_in_its_stack_file(prod_run: StackRun) -> None:
    (topic,) = prod_run.of_type(types.SNS_TOPIC)
    (subscription,) = prod_run.of_type(types.SNS_SUBSCRIPTION)
    assert subscription.name == API.alarm_subscription("email")
    email = load_stack_file("prod")["mapgate:api"]["errorAlarm"]["email"]
    assert (subscription.inputs["topic"], subscription.inputs["protocol"], subscription.inputs["endpoint"]) == (
        topic.state["arn"],
        "email",
        email,
    )
    assert prod_run.outputs["alarmTopicArn"] == topic.state["arn"]


def test_dev_alarm_has_a_topic_and_no_one_on_it(dev_run: StackRun) -> None:
    (topic,) = dev_run.of_type(types.SNS_TOPIC)
    assert dev_run.of_type(types.SNS_SUBSCRIPTION) == []
    assert dev_run.inputs(ALARM, API.error_alarm)["alarmActions"] == [topic.state["arn"]]


def test_alarm_notifies_the_configured_topic() -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:oncall"
    run = run_stack(with_prefix(changed("dev", ["api", "errorAlarm"], {"topicArn": topic})))
    (alarm,) = run.of_type(ALARM)
    assert alarm.inputs["alarmActions"] == [topic]
    assert alarm.inputs["okActions"] == [topic]
    assert alarm.inputs["threshold"] == 5
    assert run.of_type(types.SNS_TOPIC) == []  # an existing topic is used, not a new one made


def test_an_https_endpoint_is_subscribed_too() -> None:
    alarm = {"email": "ops@example.org", "httpsEndpoint": "https://hooks.example.org/sns"}
    run = run_stack(with_prefix(changed("dev", ["api", "errorAlarm"], alarm)))
    assert sorted((s.inputs["protocol"], s.inputs["endpoint"]) for s in run.of_type(types.SNS_SUBSCRIPTION)) == [
        ("email", "ops@example.org"),
        ("https", "https://hooks.example.org/sns"),
    ]


@pytest.mark.parametrize(
    ("alarm", "message"),
    [
        (
            {"thresholdPercent": 2},
            'api.errorAlarm: {"thresholdPercent": 2.0} — in production the 5xx alarm must notify',
        ),
        (
            {"topicArn": "arn:aws:sns:us-east-1:123456789012:x", "email": "a@example.org"},
            'api.errorAlarm.topicArn/email/httpsEndpoint: {"topicArn": "arn:aws:sns:us-east-1:123456789012:x", "email"',
        ),
        ({"email": "not-an-address"}, 'api.errorAlarm.email: "not-an-address" — must be an email address'),
        ({"httpsEndpoint": "http://plain"}, 'api.errorAlarm.httpsEndpoint: "http://plain" — must be an https:// URL'),
    ],
)
def test_a_production_alarm_must_page_someone(alarm: dict[str, object], message: str) -> None:
    from mapgate.config import ConfigError, parse_config
    from mapgate.offline import as_engine_config
    from tests.harness import ROOT

    with pytest.raises(ConfigError) as caught:
        parse_config(as_engine_config(changed("prod", ["api", "errorAlarm"], alarm)), stack="prod", project_dir=ROOT)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_every_resource_says_its_environment(dev_run: StackRun, prod_run: StackRun) -> None:
    for run, environment in ((dev_run, "development"), (prod_run, "production")):
        tagged = [r for r in run.resources if "tags" in r.inputs]
        assert tagged
        assert all(r.inputs["tags"]["mapgate:environment"] == environment for r in tagged)


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["services", "app", "desiredCount"], 1, "services.app.desiredCount: 1 — a routed service needs at least 2"),
        (
            ["services", "app", "autoscaling"],
            {"min": 1, "max": 4},
            "services.app.autoscaling.min: 1 — a routed service needs at least 2 tasks in production",
        ),
    ],
)
def test_production_keeps_two_tasks_behind_every_route(path: list[str], value: object, message: str) -> None:
    from mapgate.config import ConfigError, parse_config
    from mapgate.offline import as_engine_config
    from tests.harness import ROOT

    with pytest.raises(ConfigError) as caught:
        parse_config(as_engine_config(changed("prod", path, value)), stack="prod", project_dir=ROOT)
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems
