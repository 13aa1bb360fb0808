"""FargateService and HttpApi built alone under mocks, from their documented args only (given → when → then).

The whole-program runs in the other files are the integration layer; these pin each component's own promises.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pulumi

from mapgate import naming
from mapgate import resource_types as types
from mapgate.cli.inventory import container_definitions
from mapgate.components.api import ApiRoute, ErrorAlarmArgs, HttpApi, HttpApiArgs
from mapgate.components.service import (
    AwsContext,
    ContainerHealthCheck,
    ElectionWiring,
    FargateService,
    FargateServiceArgs,
    Scaling,
)
from mapgate.offline import StackRun, run_inline

ACCOUNT = "123456789012"
SERVICE_ARN = f"arn:aws:servicediscovery:us-east-1:{ACCOUNT}:service/srv-given"
NAMESPACE_ARN = f"arn:aws:servicediscovery:us-east-1:{ACCOUNT}:namespace/ns-given"


def build_alone(component: Any, name: str, args: Any) -> StackRun:
    def main() -> None:
        built = component(name, args)
        pulumi.export("urn", built.urn)

    return run_inline(main, {"aws:region": "us-east-1"}, "test")


def service_args(**changes: Any) -> FargateServiceArgs:
    given = FargateServiceArgs(
        image="registry.example/web@sha256:" + "1" * 64,
        port=9000,
        cpu=512,
        memory=2048,
        architecture="x86_64",
        health_check=ContainerHealthCheck(command=["CMD", "true"], interval=10, timeout=4, retries=2, start_period=20),
        environment={"GREETING": "hi", "MAPGATE_SERVICE": "web"},
        read_only_root_filesystem=False,
        log_group_name="/given/web",
        log_retention_days=3,
        family="given-web",
        capacity="onDemand",
        desired_count=4,
        registers_srv=True,
        cluster_arn=f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/given",
        cluster_name="given",
        subnet_ids=["subnet-a", "subnet-b"],
        assign_public_ip=False,
        security_group_id="sg-given",
        registry_arn=SERVICE_ARN,
        aws=AwsContext(region="us-east-1", account_id=ACCOUNT, partition="aws"),
        tags={"team": "given"},
    )
    return dataclasses.replace(given, **changes)


WEB = naming.ServiceChildren("web")


def test_service_alone_runs_what_its_args_say() -> None:
    # given: a service that registers SRV, no election, no scaling
    # when
    run = build_alone(FargateService, "web", service_args())
    # then: the task runs the given image, size, port, health check and variables
    task = run.inputs(types.TASK_DEFINITION, WEB.task_definition)
    (container,) = container_definitions(task)
    assert (task["family"], task["cpu"], task["memory"]) == ("given-web", "512", "2048")
    assert task["runtimePlatform"]["cpuArchitecture"] == "X86_64"
    assert container["image"] == "registry.example/web@sha256:" + "1" * 64
    assert container["portMappings"][0]["containerPort"] == 9000
    assert container["healthCheck"] == {"command": ["CMD", "true"], "interval": 10, "timeout": 4, "retries": 2,
                                        "startPeriod": 20}  # fmt: skip
    assert {e["name"]: e["value"] for e in container["environment"]} == {"GREETING": "hi", "MAPGATE_SERVICE": "web"}
    assert container["logConfiguration"]["options"]["awslogs-group"] == "/given/web"
    # and the ECS service registers container and port in the given Cloud Map service, on demand
    service = run.inputs(types.ECS_SERVICE, WEB.ecs_service)
    assert service["serviceRegistries"] == {"registryArn": SERVICE_ARN, "containerName": "web", "containerPort": 9000}
    assert service["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE", "weight": 1}]
    assert (service["desiredCount"], service["healthCheckGracePeriodSeconds"]) == (4, 20)
    assert service["networkConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"],
        "securityGroups": ["sg-given"],
        "assignPublicIp": False,
    }
    # and nothing it was not asked for
    assert run.of_type(types.ROLE_POLICY) == []
    assert run.of_type(types.SCALING_TARGET) == []


def test_service_alone_without_srv_registers_no_port() -> None:
    run = build_alone(FargateService, "web", service_args(registers_srv=False))
    assert run.inputs(types.ECS_SERVICE, WEB.ecs_service)["serviceRegistries"] == {"registryArn": SERVICE_ARN}


def test_service_alone_with_an_election_grants_exactly_its_resources() -> None:
    roles = f"arn:aws:servicediscovery:us-east-1:{ACCOUNT}:service/srv-given_roles"
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/given"
    wiring = ElectionWiring(
        namespace_arn=NAMESPACE_ARN,
        service_arn=SERVICE_ARN,
        roles_service_arn=roles,
        lease_table_arn=table,
        lease_key="web",
    )
    run = build_alone(FargateService, "web", service_args(election=wiring))
    policy = json.loads(run.inputs(types.ROLE_POLICY, WEB.election_policy)["policy"])
    resources = {json.dumps(s["Resource"]) for s in policy["Statement"]}
    assert resources == {
        json.dumps(NAMESPACE_ARN),
        json.dumps([NAMESPACE_ARN, SERVICE_ARN, roles]),
        json.dumps(roles),
        json.dumps([NAMESPACE_ARN, roles]),
        json.dumps(table),
    }
    (lease,) = [s for s in policy["Statement"] if s["Resource"] == table]
    assert lease["Condition"]["ForAllValues:StringEquals"]["dynamodb:LeadingKeys"] == ["web"]
    assert run.inputs(types.ROLE_POLICY, WEB.election_policy)["role"] == run.one(types.ROLE, WEB.task_role).id


def test_service_alone_with_scaling_leaves_the_count_to_the_scaler() -> None:
    scaling = Scaling(min=2, max=8, cpu_target=None, memory_target=65)
    run = build_alone(FargateService, "web", service_args(autoscaling=scaling))
    target = run.inputs(types.SCALING_TARGET, WEB.scaling_target)
    assert (target["minCapacity"], target["maxCapacity"]) == (2, 8)
    (policy,) = run.of_type(types.SCALING_POLICY)
    assert policy.name == WEB.scaling_policy("memory")
    (service,) = [r for r in run.registrations if r.typ == types.ECS_SERVICE]
    assert service.ignore_changes == ("desiredCount",)


API = naming.ApiChildren("edge")


def api_args(**changes: Any) -> HttpApiArgs:
    given = HttpApiArgs(
        routes=[
            ApiRoute("GET /", "web", SERVICE_ARN, {}),
            ApiRoute("POST /jobs", "web", SERVICE_ARN, {"role": "writer", "zone": "a b"}),
        ],
        subnet_ids=["subnet-a"],
        vpc_link_security_group_id="sg-link",
        throttling_rate_limit=7.5,
        throttling_burst_limit=15,
        timeout_ms=1234,
        access_log_group_name="/given/access",
        access_log_retention_days=5,
        error_alarm=ErrorAlarmArgs(threshold_percent=3),
        tags={"team": "given"},
    )
    return dataclasses.replace(given, **changes)


def test_api_alone_routes_each_key_to_its_filtered_integration() -> None:
    # given two routes, one filtered on two attributes; when built alone
    run = build_alone(HttpApi, "edge", api_args())
    # then each route targets its own integration, whose URI is the service ARN plus the sorted filter
    for key, uri in (("GET /", SERVICE_ARN), ("POST /jobs", f"{SERVICE_ARN}?role=writer&zone=a%20b")):
        slug = naming.route_slug(key)
        integration = run.one(types.INTEGRATION, API.integration(slug))
        route = run.inputs(types.ROUTE, API.route(slug))
        assert route["routeKey"] == key
        assert route["target"] == f"integrations/{integration.id}"
        assert integration.inputs["integrationUri"] == uri
        assert integration.inputs["timeoutMilliseconds"] == 1234
    stage = run.inputs(types.STAGE, API.stage)
    assert stage["defaultRouteSettings"] == {"throttlingRateLimit": 7.5, "throttlingBurstLimit": 15}
    assert run.inputs(types.VPC_LINK, API.vpc_link)["securityGroupIds"] == ["sg-link"]


def test_api_alone_alarm_notifies_the_given_topic_or_its_own() -> None:
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:pager"
    with_topic = build_alone(
        HttpApi, "edge", api_args(error_alarm=ErrorAlarmArgs(threshold_percent=3, topic_arn=topic))
    )
    alarm = with_topic.inputs(types.METRIC_ALARM, API.error_alarm)
    assert (alarm["alarmActions"], alarm["okActions"], alarm["threshold"]) == ([topic], [topic], 3)
    assert with_topic.of_type(types.SNS_TOPIC) == []
    # without a topic it makes one, and subscribes what it is given
    own = ErrorAlarmArgs(threshold_percent=3, email="a@example.org")
    with_own = build_alone(HttpApi, "edge", api_args(error_alarm=own))
    created = with_own.one(types.SNS_TOPIC, API.alarm_topic)
    assert with_own.inputs(types.METRIC_ALARM, API.error_alarm)["alarmActions"] == [created.state["arn"]]
    subscription = with_own.inputs(types.SNS_SUBSCRIPTION, API.alarm_subscription("email"))
    assert (subscription["topic"], subscription["endpoint"]) == (created.state["arn"], "a@example.org")
