"""FargateService: what ECS receives for tasks and services, checked against ECS's own request model."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mapgate import contract, naming
from mapgate import resource_types as types
from mapgate.cli.inventory import container_definitions
from mapgate.components.service import FargateService
from tests.aws_models import request_errors, shape_errors
from tests.harness import (
    ACCOUNT,
    StackRun,
    changed,
    children,
    containers,
    environment,
    load_stack_file,
    made_by,
    run_stack,
    with_prefix,
)

TASK_DEF = types.TASK_DEFINITION
SERVICE = types.ECS_SERVICE
ROLE = types.ROLE


def service_config(stack: str, name: str) -> dict[str, Any]:
    return load_stack_file(stack)["mapgate:services"][name]


@pytest.mark.parametrize("name", ["app", "worker", "cache"])
def test_container_definitions_fit_ecs_container_definition_shape(any_run: StackRun, name: str) -> None:
    for container in containers(any_run, name):
        assert shape_errors("ecs", "ContainerDefinition", container) == ""


@pytest.mark.parametrize("name", ["app", "worker", "cache"])
def test_task_definition_is_a_valid_register_request(any_run: StackRun, name: str) -> None:
    inputs = any_run.inputs(TASK_DEF, children(name).task_definition)
    request = {
        "family": inputs["family"],
        "containerDefinitions": container_definitions(inputs),
        "cpu": inputs["cpu"],
        "memory": inputs["memory"],
        "networkMode": inputs["networkMode"],
        "requiresCompatibilities": inputs["requiresCompatibilities"],
        "runtimePlatform": inputs["runtimePlatform"],
        "executionRoleArn": inputs["executionRoleArn"],
        "taskRoleArn": inputs["taskRoleArn"],
    }
    assert request_errors("ecs", "RegisterTaskDefinition", request) == ""
    assert (inputs["networkMode"], inputs["requiresCompatibilities"]) == ("awsvpc", ["FARGATE"])


@pytest.mark.parametrize(("stack", "name"), [("dev", "app"), ("dev", "worker"), ("prod", "app"), ("prod", "worker")])
def test_task_size_and_platform_follow_config(stack: str, name: str, dev_run: StackRun, prod_run: StackRun) -> None:
    run = dev_run if stack == "dev" else prod_run
    inputs = run.inputs(TASK_DEF, children(name).task_definition)
    cfg = service_config(stack, name)
    assert inputs["cpu"] == str(cfg.get("cpu", 256))
    assert inputs["memory"] == str(cfg.get("memory", 512))
    assert inputs["runtimePlatform"] == {"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}
    assert inputs["family"] == f"mapgate-{stack}-{name}"


def test_x86_is_passed_as_x86_64() -> None:
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "architecture"], "x86_64")))
    assert run.inputs(TASK_DEF, children("worker").task_definition)["runtimePlatform"]["cpuArchitecture"] == "X86_64"


@pytest.mark.parametrize("name", ["app", "worker"])
def test_one_essential_container_with_the_configured_health_check(dev_run: StackRun, name: str) -> None:
    (container,) = containers(dev_run, name)
    hc = service_config("dev", name)["healthCheck"]
    assert container["essential"] is True
    assert container["healthCheck"] == {
        "command": hc["command"],
        "interval": hc["interval"],
        "timeout": hc["timeout"],
        "retries": hc["retries"],
        "startPeriod": hc["startPeriod"],
    }
    # A gRPC port says so (appProtocol only matters to Service Connect; see aws_facts.APP_PROTOCOL).
    declared = {"appProtocol": "grpc"} if name == "worker" else {}
    assert container["portMappings"] == [{"containerPort": 8080, "protocol": "tcp", "name": f"{name}-8080", **declared}]


def test_logs_go_to_a_log_group_with_retention(any_run: StackRun) -> None:
    for name in ("app", "worker"):
        (container,) = containers(any_run, name)
        log_group = any_run.inputs(types.LOG_GROUP, f"{name}-logs")
        options = container["logConfiguration"]["options"]
        assert container["logConfiguration"]["logDriver"] == "awslogs"
        assert options["awslogs-group"] == log_group["name"]
        assert options["awslogs-region"] == "us-east-1"
        assert log_group["retentionInDays"] in (7, 30)


def test_environment_has_config_and_platform_variables(dev_run: StackRun) -> None:
    (container,) = containers(dev_run, "worker")
    assert {e["name"]: e["value"] for e in container["environment"]} == {
        "MAPGATE_NAMESPACE": "dev.mapgate.internal",
        "MAPGATE_PORT": "8080",
        "MAPGATE_SERVICE": "worker",
        "MAPGATE_EXPOSE_TASK_INFO": "true",
    }
    (app,) = containers(dev_run, "app")
    env = {e["name"]: e["value"] for e in app["environment"]}
    # app is in worker's and cache's allowFrom: it gets the worker as a gRPC target and the cache as an SRV name.
    assert env[contract.ENV_GRPC_PEERS] == "worker=dns:///worker.dev.mapgate.internal:8080"
    assert env[contract.ENV_SRV_PEERS] == "cache=cache.dev.mapgate.internal"


def test_production_hides_task_internals_unless_asked(prod_run: StackRun) -> None:
    for service in ("app", "worker"):
        assert environment(prod_run, service)[contract.ENV_EXPOSE_TASK_INFO] == "false"
    shown = run_stack(with_prefix(changed("prod", ["exposeTaskInfo"], True)), stack="prod")
    assert environment(shown, "app")[contract.ENV_EXPOSE_TASK_INFO] == "true"
    hidden = run_stack(with_prefix(changed("dev", ["exposeTaskInfo"], False)))
    assert environment(hidden, "app")[contract.ENV_EXPOSE_TASK_INFO] == "false"


def test_srv_registry_names_the_container_and_a_mapped_port(any_run: StackRun) -> None:
    registry = any_run.inputs(SERVICE, children("app").ecs_service)["serviceRegistries"]
    (container,) = containers(any_run, "app")
    assert registry["registryArn"].endswith(":service/srv-app")
    assert registry["containerName"] == container["name"]
    assert registry["containerPort"] in [m["containerPort"] for m in container["portMappings"]]
    assert "port" not in registry  # containerName+containerPort or port, never both (API_ServiceRegistry)


def test_a_only_registry_has_no_port(any_run: StackRun) -> None:
    registry = any_run.inputs(SERVICE, children("worker").ecs_service)["serviceRegistries"]
    assert registry == {"registryArn": "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-worker"}


def test_capacity_provider_follows_config(dev_run: StackRun, prod_run: StackRun) -> None:
    for run, provider in ((dev_run, "FARGATE_SPOT"), (prod_run, "FARGATE")):
        for service in run.of_type(SERVICE):
            assert service.inputs["capacityProviderStrategies"] == [{"capacityProvider": provider, "weight": 1}]
            assert "launchType" not in service.inputs  # a strategy and a launch type exclude each other


def test_deployments_are_safe_and_wait_for_health(any_run: StackRun) -> None:
    for service in any_run.of_type(SERVICE):
        inputs = service.inputs
        name = service.inputs["tags"][naming.SERVICE_TAG]
        (container,) = containers(any_run, name)
        start_period = container["healthCheck"]["startPeriod"]
        assert inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert (inputs["deploymentMinimumHealthyPercent"], inputs["deploymentMaximumPercent"]) == (100, 200)
        assert inputs["healthCheckGracePeriodSeconds"] >= start_period
        assert inputs["enableExecuteCommand"] is False
        assert inputs["waitForSteadyState"] is True
        assert (
            inputs["desiredCount"] == service_config("dev" if "SPOT" in str(inputs) else "prod", name)["desiredCount"]
        )


def test_services_are_valid_create_service_requests(any_run: StackRun) -> None:
    for service in any_run.of_type(SERVICE):
        i = service.inputs
        net = i["networkConfiguration"]
        request = {
            "serviceName": service.name,
            "cluster": i["cluster"],
            "taskDefinition": i["taskDefinition"],
            "desiredCount": i["desiredCount"],
            "capacityProviderStrategy": i["capacityProviderStrategies"],
            "platformVersion": i["platformVersion"],
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": net["subnets"],
                    "securityGroups": net["securityGroups"],
                    "assignPublicIp": "ENABLED" if net["assignPublicIp"] else "DISABLED",
                }
            },
            "serviceRegistries": [i["serviceRegistries"]],
            "deploymentConfiguration": {
                "deploymentCircuitBreaker": i["deploymentCircuitBreaker"],
                "maximumPercent": i["deploymentMaximumPercent"],
                "minimumHealthyPercent": i["deploymentMinimumHealthyPercent"],
            },
            "healthCheckGracePeriodSeconds": i["healthCheckGracePeriodSeconds"],
            "enableExecuteCommand": i["enableExecuteCommand"],
            "enableECSManagedTags": i["enableEcsManagedTags"],
            "propagateTags": i["propagateTags"],
        }
        assert request_errors("ecs", "CreateService", request) == ""


def test_services_wait_for_the_capacity_providers(dev_run: StackRun) -> None:
    for service in dev_run.of_type(SERVICE):
        assert service.inputs["cluster"] == "arn:aws:ecs:us-east-1:123456789012:cluster/mapgate-dev"


def test_execution_role_has_only_the_managed_execution_policy(any_run: StackRun) -> None:
    attachments = made_by(any_run, types.ROLE_POLICY_ATTACHMENT, FargateService.type_token)
    assert sorted((a.inputs["role"], a.inputs["policyArn"]) for a in attachments) == [
        (children(name).execution_role, "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")
        for name in ("app", "cache", "worker")
    ]


def test_roles_trust_only_this_accounts_ecs_tasks(any_run: StackRun) -> None:
    roles = made_by(any_run, ROLE, FargateService.type_token)  # the NAT instance's: test_network.py
    assert len(roles) == 6
    for role in roles:
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
        assert "inlinePolicies" not in role.inputs
        assert "managedPolicyArns" not in role.inputs


def test_task_roles_get_a_policy_only_for_leader_election(any_run: StackRun) -> None:
    task_roles = {any_run.one(ROLE, children(name).task_role).id: name for name in ("app", "worker", "cache")}
    policies = [p for p in any_run.of_type(types.ROLE_POLICY) if p.inputs["role"] in task_roles]
    assert [task_roles[p.inputs["role"]] for p in policies] == ["app"]


def test_election_policy_is_exactly_the_calls_the_election_makes(any_run: StackRun) -> None:
    stack = any_run.inputs(types.CLUSTER, "cluster-ecs")["name"].removeprefix("mapgate-")
    policy = json.loads(any_run.inputs(types.ROLE_POLICY, children("app").election_policy)["policy"])
    namespace = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-discovery-private_namespace"
    service = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-app"
    roles = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-app_roles"
    table = f"arn:aws:dynamodb:us-east-1:123456789012:table/mapgate-{stack}-leases"
    grants = {(tuple(sorted(s["Action"])) if isinstance(s["Action"], list) else (s["Action"],)): s["Resource"]
              for s in policy["Statement"]}  # fmt: skip
    assert grants == {
        ("servicediscovery:GetNamespace",): namespace,
        # Reads the ECS-owned service; writes only the roles service, which has no DNS records (so no Route 53).
        ("servicediscovery:DiscoverInstances",): [namespace, service, roles],
        (
            "servicediscovery:DeregisterInstance",
            "servicediscovery:GetInstance",
            "servicediscovery:RegisterInstance",
        ): roles,
        ("servicediscovery:GetOperation",): [namespace, roles],
        ("dynamodb:GetItem", "dynamodb:UpdateItem"): table,
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert "*" not in json.dumps(policy)


def test_electing_tasks_are_told_where_to_write(any_run: StackRun) -> None:
    (app,) = containers(any_run, "app")
    env = {e["name"]: e["value"] for e in app["environment"]}
    assert env["MAPGATE_ROLES_SERVICE_ID"] == any_run.one(types.DISCOVERY_SERVICE, "election-app_roles").id
    assert env["MAPGATE_ROLES_SERVICE_NAME"] == "app_roles"
    assert env["MAPGATE_LEASE_TABLE"] == any_run.one(types.DYNAMODB_TABLE, "election-lease_table").inputs["name"]
    assert env["MAPGATE_CLOUDMAP_NAMESPACE_ID"] == any_run.one(types.NAMESPACE, "discovery-private_namespace").id
    assert env["MAPGATE_ELECTION_ATTRIBUTE"] == "leader"
    assert env["MAPGATE_ELECTION_INTERVAL"] == "2"
    assert env["MAPGATE_LEASE_TTL"] == "10"


def test_cluster_has_both_fargate_capacity_providers_and_insights_per_stack(
    dev_run: StackRun, prod_run: StackRun
) -> None:
    for run, insights in ((dev_run, "disabled"), (prod_run, "enabled")):
        providers = run.inputs(types.CAPACITY_PROVIDERS, "cluster-capacity")
        assert providers["capacityProviders"] == ["FARGATE", "FARGATE_SPOT"]
        cluster = run.inputs(types.CLUSTER, "cluster-ecs")
        assert cluster["settings"] == [{"name": "containerInsights", "value": insights}]
