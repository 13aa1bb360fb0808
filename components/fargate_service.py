"""One Fargate service: task definition, roles, logs and the ECS service registered in Cloud Map."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config import ServiceConfig

CAPACITY_PROVIDER = {"onDemand": "FARGATE", "spot": "FARGATE_SPOT"}
SCALE_OUT_COOLDOWN_SECONDS = 60  # react to load within a minute
SCALE_IN_COOLDOWN_SECONDS = 300  # shrink slowly: Cloud Map needs ~30 s to see a new task as healthy
TMP_VOLUME = "tmp"
CPU_ARCHITECTURE = {"arm64": "ARM64", "x86_64": "X86_64"}
EXECUTION_POLICY = "policy/service-role/AmazonECSTaskExecutionRolePolicy"


def container_definition(
    name: str, svc: ServiceConfig, *, image: str, log_group: str, region: str, extra_environment: Mapping[str, str]
) -> dict[str, Any]:
    """The single essential container, in the shape of ECS's RegisterTaskDefinition `ContainerDefinition`."""
    environment = {**svc.environment, **extra_environment}
    hc = svc.health_check
    writable = (
        {"mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}]}
        if svc.read_only_root_filesystem
        else {}
    )
    return {
        "name": name,
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": svc.port, "protocol": "tcp", "name": f"{name}-{svc.port}"}],
        "healthCheck": {
            "command": list(hc.command),
            "interval": hc.interval,
            "timeout": hc.timeout,
            "retries": hc.retries,
            "startPeriod": hc.start_period,
        },
        "environment": [{"name": key, "value": environment[key]} for key in sorted(environment)],
        "readonlyRootFilesystem": svc.read_only_root_filesystem,
        **writable,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": name},
        },
    }


def assume_role_policy(account_id: str) -> str:
    """Trust ECS tasks of this account only (confused-deputy guard recommended by AWS)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        }
    )


@dataclass(frozen=True)
class AwsContext:
    """Facts about the target account, looked up once before any resource is created."""

    region: str
    account_id: str
    partition: str


def election_policy(*, namespace_arn: str, service_arn: str, hosted_zone_arn: str) -> str:
    """Exactly the calls leader election makes, each on the narrowest resource IAM accepts for it.

    Per the Service Authorization Reference: DiscoverInstances and GetOperation are authorized on the
    namespace (and service); GetInstance and RegisterInstance on the service. RegisterInstance rewrites the
    instance's records in the namespace's private hosted zone, so it needs that zone's record changes too.
    No Route 53 health-check or EC2 actions: the service uses a custom health config and Fargate tasks.
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadMembership",
                    "Effect": "Allow",
                    "Action": ["servicediscovery:DiscoverInstances", "servicediscovery:GetOperation"],
                    "Resource": [namespace_arn, service_arn],
                },
                {
                    "Sid": "RewriteOwnInstance",
                    "Effect": "Allow",
                    "Action": ["servicediscovery:GetInstance", "servicediscovery:RegisterInstance"],
                    "Resource": service_arn,
                },
                {
                    "Sid": "UpdateInstanceRecords",
                    "Effect": "Allow",
                    "Action": "route53:ChangeResourceRecordSets",
                    "Resource": hosted_zone_arn,
                },
            ],
        }
    )


@dataclass(frozen=True)
class ElectionWiring:
    """What a task needs to elect a leader through its Cloud Map service."""

    service_id: pulumi.Input[str]
    service_arn: pulumi.Input[str]
    namespace_arn: pulumi.Input[str]
    hosted_zone_id: pulumi.Input[str]
    attribute: str
    interval_seconds: int


@dataclass(frozen=True)
class FargateServiceArgs:
    service: ServiceConfig
    image: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    assign_public_ip: bool
    security_group_id: pulumi.Input[str]
    registry_arn: pulumi.Input[str]
    log_group_name: str
    log_retention_days: int
    aws: AwsContext
    tags: Mapping[str, str]
    family: str
    extra_environment: Mapping[str, str] = field(default_factory=dict)
    election: ElectionWiring | None = None


class FargateService(pulumi.ComponentResource):
    """A Fargate service whose tasks register themselves in Cloud Map.

    Creates: an `aws.cloudwatch.LogGroup` with retention; an execution role with only the AWS managed
    AmazonECSTaskExecutionRolePolicy (pull the image, write logs); a task role with no policy of its own; an
    `aws.ecs.TaskDefinition` (awsvpc, FARGATE, cpu/memory, CPU architecture, one essential container with
    its port mapping, health check and awslogs); with leader election, an `aws.iam.RolePolicy` on the task
    role with exactly the Cloud Map calls the election makes; and an `aws.ecs.Service` on FARGATE or FARGATE_SPOT with
    the Cloud Map registry (container name and port when SRV records are registered), the deployment
    circuit breaker with rollback, 100%/200% deployment bounds, a health-check grace period equal to the
    container's start period, ECS Exec off, and `pulumi up` waiting for steady state so a task that never
    turns healthy fails the update.
    """

    service_name: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:service:FargateService", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        svc = args.service

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=args.log_group_name,
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=child,
        )
        trust = assume_role_policy(args.aws.account_id)
        execution_role = aws.iam.Role(
            f"{name}-execution", assume_role_policy=trust, description=f"ECS starts {name} tasks", opts=child
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-execution-policy",
            role=execution_role.name,
            policy_arn=f"arn:{args.aws.partition}:iam::aws:{EXECUTION_POLICY}",
            opts=child,
        )
        task_role = aws.iam.Role(
            f"{name}-task", assume_role_policy=trust, description=f"what {name} code may call", opts=child
        )

        environment: dict[str, pulumi.Input[str]] = dict(args.extra_environment)
        if args.election is not None:
            election = args.election
            hosted_zone_arn = pulumi.Output.concat(
                f"arn:{args.aws.partition}:route53:::hostedzone/", election.hosted_zone_id
            )
            aws.iam.RolePolicy(
                f"{name}-election",
                role=task_role.id,
                policy=pulumi.Output.all(election.namespace_arn, election.service_arn, hosted_zone_arn).apply(
                    lambda arns: election_policy(namespace_arn=arns[0], service_arn=arns[1], hosted_zone_arn=arns[2])
                ),
                opts=child,
            )
            environment |= {
                "MAPGATE_CLOUDMAP_SERVICE_ID": election.service_id,
                "MAPGATE_ELECTION_ATTRIBUTE": election.attribute,
                "MAPGATE_ELECTION_INTERVAL": str(election.interval_seconds),
            }

        definitions = pulumi.Output.all(args.image, pulumi.Output.from_input(environment)).apply(
            lambda resolved: json.dumps(
                [
                    container_definition(
                        name,
                        svc,
                        image=resolved[0],
                        log_group=args.log_group_name,
                        region=args.aws.region,
                        extra_environment=resolved[1],
                    )
                ]
            )
        )
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=args.family,
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=str(svc.cpu),
            memory=str(svc.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=CPU_ARCHITECTURE[svc.architecture]
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=definitions,
            # Fargate task storage, so a read-only root filesystem still has a writable /tmp.
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name=TMP_VOLUME)] if svc.read_only_root_filesystem else None,
            tags=dict(args.tags),
            # The log group must exist before a task writes to it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

        registry = aws.ecs.ServiceServiceRegistriesArgs(registry_arn=args.registry_arn)
        if svc.registers_srv:
            # §3: SRV needs the container name + port, and they must match a port mapping.
            registry = aws.ecs.ServiceServiceRegistriesArgs(
                registry_arn=args.registry_arn, container_name=name, container_port=svc.port
            )

        service = aws.ecs.Service(
            f"{name}-service",
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=svc.desired_count,
            capacity_provider_strategies=[
                aws.ecs.ServiceCapacityProviderStrategyArgs(capacity_provider=CAPACITY_PROVIDER[svc.capacity], weight=1)
            ],
            # Changing the capacity provider of a running service needs a new deployment.
            force_new_deployment=True,
            platform_version="LATEST",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=args.subnet_ids,
                security_groups=[args.security_group_id],
                assign_public_ip=args.assign_public_ip,
            ),
            service_registries=registry,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            # §2: keep every old task until its replacement is healthy in Cloud Map.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=svc.health_check.start_period,
            enable_execute_command=False,
            # Keep tasks spread over the AZs after a zone recovers (availability, not only placement).
            availability_zone_rebalancing="ENABLED",
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=True,
            tags=dict(args.tags),
            # With autoscaling, the scaler owns the task count; `pulumi up` must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"] if svc.autoscaling else None),
        )
        if svc.autoscaling is not None:
            self._autoscale(name, svc, args.cluster_name, service.name)

        self.service_name = service.name
        self.task_definition_arn = task_definition.arn
        self.task_role_arn = task_role.arn
        self.register_outputs(
            {
                "serviceName": self.service_name,
                "taskDefinitionArn": self.task_definition_arn,
                "taskRoleArn": self.task_role_arn,
            }
        )

    def _autoscale(
        self, name: str, svc: ServiceConfig, cluster_name: pulumi.Input[str], service_name: pulumi.Output[str]
    ) -> None:
        scaling = svc.autoscaling
        assert scaling is not None
        child = pulumi.ResourceOptions(parent=self)
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name),
            min_capacity=scaling.min,
            max_capacity=scaling.max,
            opts=child,
        )
        metrics = {"cpu": ("ECSServiceAverageCPUUtilization", scaling.cpu_target)}
        metrics["memory"] = ("ECSServiceAverageMemoryUtilization", scaling.memory_target)
        for suffix, (metric, value) in metrics.items():
            if value is None:
                continue
            aws.appautoscaling.Policy(
                f"{name}-scale-on-{suffix}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric
                    ),
                    target_value=value,
                    scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                    scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                ),
                opts=child,
            )
