"""Only a changed task definition rolls the tasks: a service update that changes anything else starts no new
deployment (and so does not move the leader), and the capacity provider and a redeploy counter live in the task
definition so that changing them does roll the tasks."""

from __future__ import annotations

import inspect
import re
from typing import Any

import botocore.session
import pytest
from pulumi_aws import ecs
from pydantic.alias_generators import to_camel

from mapgate import aws_facts
from mapgate import resource_types as types
from mapgate.components.service import CAPACITY_LABEL, REDEPLOY_LABEL
from tests.harness import StackRun, changed, children, containers, run_stack, with_prefix

# UpdateService's parameters have other names than aws.ecs.Service's inputs in a few places.
API_TO_PULUMI = {"volumeConfigurations": "volumeConfiguration"}


def test_the_deployment_triggers_are_the_ones_aws_documents() -> None:
    operation = botocore.session.get_session().get_service_model("ecs").operation_model("UpdateService")
    documented = {
        API_TO_PULUMI.get(name, name)
        for name, shape in operation.input_shape.members.items()
        if "This parameter triggers a new service deployment" in re.sub(r"<[^>]+>", "", shape.documentation)
    }
    assert documented | {"forceNewDeployment"} == aws_facts.ECS_INPUTS_THAT_START_A_DEPLOYMENT
    # Why the capacity provider rides in the task definition: changing the strategy alone rolls nothing.
    strategy = re.sub(r"<[^>]+>", "", operation.input_shape.members["capacityProviderStrategy"].documentation)
    assert "This parameter doesn't trigger a new service deployment" in strategy
    pulumi_inputs = {to_camel(name) for name in inspect.signature(ecs.ServiceArgs.__init__).parameters}
    assert pulumi_inputs >= aws_facts.ECS_INPUTS_THAT_START_A_DEPLOYMENT


def ecs_service(run: StackRun, name: str) -> dict[str, Any]:
    return run.inputs(types.ECS_SERVICE, children(name).ecs_service)


def task_definition(run: StackRun, name: str) -> dict[str, Any]:
    return run.inputs(types.TASK_DEFINITION, children(name).task_definition)


def changed_inputs(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def test_no_service_forces_a_deployment(any_run: StackRun) -> None:
    for service in any_run.of_type(types.ECS_SERVICE):
        assert not service.inputs.get("forceNewDeployment")


@pytest.mark.parametrize(
    ("what", "path", "value"),
    [
        ("more tasks", ["services", "app", "desiredCount"], 5),
        ("longer log retention", ["logRetentionDays"], 30),
        ("other throttling", ["api", "throttling"], {"rateLimit": 5, "burstLimit": 10}),
        ("autoscaling bounds", ["services", "worker", "autoscaling"], {"min": 2, "max": 6}),
        ("an alarm address", ["api", "errorAlarm", "email"], "ops@example.org"),
    ],
)
def test_an_update_that_keeps_the_task_definition_rolls_no_task(
    dev_run: StackRun, what: str, path: list[str], value: Any
) -> None:
    after = run_stack(with_prefix(changed("dev", path, value)))
    for name in ("app", "worker"):
        assert task_definition(after, name) == task_definition(dev_run, name), what
        updated = changed_inputs(ecs_service(dev_run, name), ecs_service(after, name))
        # An update sends forceNewDeployment along with whatever changed, so it counts whenever anything does.
        forced = {"forceNewDeployment"} if updated and ecs_service(after, name).get("forceNewDeployment") else set()
        starts = (updated & aws_facts.ECS_INPUTS_THAT_START_A_DEPLOYMENT) | forced
        assert starts == set(), (what, name, starts)
    if what == "more tasks":  # the case that does update the ECS service
        assert changed_inputs(ecs_service(dev_run, "app"), ecs_service(after, "app")) == {"desiredCount"}


def test_a_capacity_change_rolls_the_tasks(dev_run: StackRun) -> None:
    """UpdateService applies a new capacity strategy only to tasks started later; the label makes it a new task
    definition, so the running Spot tasks are replaced by on-demand ones."""
    after = run_stack(with_prefix(changed("dev", ["services", "app", "capacity"], "onDemand")))
    (before_container,) = containers(dev_run, "app")
    (after_container,) = containers(after, "app")
    assert before_container["dockerLabels"][CAPACITY_LABEL] == "FARGATE_SPOT"
    assert after_container["dockerLabels"][CAPACITY_LABEL] == "FARGATE"
    assert task_definition(after, "app") != task_definition(dev_run, "app")
    assert task_definition(after, "worker") == task_definition(dev_run, "worker")


def test_raising_the_redeploy_counter_rolls_only_that_service(dev_run: StackRun) -> None:
    after = run_stack(with_prefix(changed("dev", ["services", "worker", "redeploy"], 1)))
    (container,) = containers(after, "worker")
    assert container["dockerLabels"][REDEPLOY_LABEL] == "1"
    assert changed_inputs(task_definition(dev_run, "worker"), task_definition(after, "worker")) == {
        "containerDefinitions"
    }
    assert task_definition(after, "app") == task_definition(dev_run, "app")


def test_the_counter_starts_at_zero(dev_run: StackRun) -> None:
    for name in ("app", "worker"):
        (container,) = containers(dev_run, name)
        assert container["dockerLabels"][REDEPLOY_LABEL] == "0"
    again = run_stack(with_prefix(changed("dev", ["services", "worker", "redeploy"], 0)))
    assert task_definition(again, "worker") == task_definition(dev_run, "worker")


def test_a_stuck_rollout_fails_within_ten_minutes(any_run: StackRun) -> None:
    """Fargate Spot with no capacity, or tasks that never turn healthy, fail `pulumi up` in 10 minutes, not 20."""
    services = [r for r in any_run.registrations if r.typ == types.ECS_SERVICE]
    assert len(services) == 3
    for service in services:
        assert service.custom_timeouts == ("10m", "10m", "")
