"""One Fargate service: task definition, roles, logs and the ECS service registered in Cloud Map."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_aws import appautoscaling, cloudwatch, ecs, iam, ssm

from mapgate import aws_facts, naming
from mapgate.components.base import Component
from mapgate.components.task_secrets import StoredSecret, TaskSecret, container_secrets, execution_secrets_policy

SCALE_OUT_COOLDOWN_SECONDS = 60  # react to load within a minute
SCALE_IN_COOLDOWN_SECONDS = 300  # shrink slowly: Cloud Map needs ~30 s to see a new task as healthy
TMP_VOLUME = "tmp"
EXECUTION_POLICY = "policy/service-role/AmazonECSTaskExecutionRolePolicy"
# `pulumi up` fails after this long if the tasks never turn healthy (or Fargate Spot has no capacity), instead
# of the provider's 20 minutes. A healthy rollout takes 2-5 minutes: pull, start period, health, ~30 s for Cloud Map.
STEADY_STATE_TIMEOUT = "10m"

# Docker labels on the container. The task definition is the only thing whose change rolls the tasks (the ECS
# service never forces a deployment), so what must roll them lives here:
# - the capacity provider: UpdateService applies a new strategy only to tasks started later, so a change from
#   spot to onDemand would otherwise never reach the running tasks;
# - the redeploy counter: raise it to roll the tasks with nothing else changed.
CAPACITY_LABEL = "mapgate.capacity-provider"
REDEPLOY_LABEL = "mapgate.redeploy"


@dataclass(frozen=True)
class ContainerHealthCheck:
    """The container health check ECS runs; its result is what ECS reports to Cloud Map."""

    command: Sequence[str]
    interval: int
    timeout: int
    retries: int
    start_period: int


@dataclass(frozen=True)
class Scaling:
    """Target tracking between `min` and `max` tasks, on average CPU and/or memory (percent)."""

    min: int
    max: int
    cpu_target: int | None
    memory_target: int | None


@dataclass(frozen=True)
class AwsContext:
    """Facts about the target account, looked up once before any resource is created."""

    region: str
    account_id: str
    partition: str


@dataclass(frozen=True)
class ElectionWiring:
    """What a task's election reads and writes, for its IAM policy."""

    namespace_arn: pulumi.Input[str]
    service_arn: pulumi.Input[str]
    """The ECS-owned Cloud Map service: read only (which tasks ECS still runs)."""
    roles_service_arn: pulumi.Input[str]
    """The roles service: the only place the task registers and deregisters instances."""
    lease_table_arn: pulumi.Input[str]
    lease_key: str
    """The lease item's partition key value (the service's name): the only item the task may touch."""


@dataclass(frozen=True)
class FargateServiceArgs:
    # --- the task
    image: pulumi.Input[str]
    """Image reference; a built image comes pinned by digest."""
    port: int | None
    """The container port: mapped in the task, and registered in Cloud Map when `registers_srv`; None: a worker."""
    cpu: int
    memory: int
    """Task size: a Fargate cpu/memory pair (validated against `aws_facts.FARGATE_MEMORY_BY_CPU`)."""
    architecture: str
    """`arm64` or `x86_64`."""
    health_check: ContainerHealthCheck | None
    """None only without a port: ECS then counts a running task as healthy."""
    environment: Mapping[str, pulumi.Input[str]]
    """Every variable the container gets, the platform's `MAPGATE_*` ones included (see `mapgate.contract`)."""
    read_only_root_filesystem: bool
    """Read-only root filesystem, with a writable /tmp volume."""
    log_group_name: str
    log_retention_days: int
    family: str
    """The task definition family."""
    # --- the service
    capacity: str
    """`onDemand` (FARGATE) or `spot` (FARGATE_SPOT)."""
    desired_count: int
    registers_srv: bool
    """Register container name and port with Cloud Map (SRV records)."""
    cluster_arn: pulumi.Input[str]
    cluster_name: pulumi.Input[str]
    subnet_ids: pulumi.Input[Sequence[str]]
    assign_public_ip: bool
    security_group_id: pulumi.Input[str]
    registry_arn: pulumi.Input[str] | None
    """The Cloud Map service ECS registers the tasks in; None for a service without a port (nobody dials it)."""
    aws: AwsContext
    tags: Mapping[str, str]
    autoscaling: Scaling | None = None
    election: ElectionWiring | None = None
    """When set, the task role may make exactly the Cloud Map and DynamoDB calls the leader election makes."""
    redeploy: int = 0
    """Raising it rolls every task with nothing else changed."""
    protocol: str = "http"
    """What the port speaks (`http`, `grpc`, `tcp`); gRPC is declared as the port mapping's appProtocol."""
    command: Sequence[str] | None = None
    """The container's command instead of the image's CMD (one image, two services)."""
    secrets: Sequence[TaskSecret] = ()
    """Variables ECS reads from existing SSM parameters / Secrets Manager secrets at task start."""
    stored_secrets: Sequence[StoredSecret] = ()
    """Variables whose values the component stores as SSM SecureString parameters first."""


def container_definition(
    name: str,
    args: FargateServiceArgs,
    *,
    image: str,
    environment: Mapping[str, str],
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The single essential container, in the shape of ECS's RegisterTaskDefinition `ContainerDefinition`."""
    hc = args.health_check
    writable = (
        {"mountPoints": [{"sourceVolume": TMP_VOLUME, "containerPath": "/tmp", "readOnly": False}]}
        if args.read_only_root_filesystem
        else {}
    )
    ports: list[dict[str, Any]] = []
    if args.port is not None:
        port_mapping: dict[str, Any] = {"containerPort": args.port, "protocol": "tcp", "name": f"{name}-{args.port}"}
        if args.protocol in aws_facts.APP_PROTOCOL:
            port_mapping["appProtocol"] = aws_facts.APP_PROTOCOL[args.protocol]
        ports.append(port_mapping)
    health = (
        {
            "healthCheck": {
                "command": list(hc.command),
                "interval": hc.interval,
                "timeout": hc.timeout,
                "retries": hc.retries,
                "startPeriod": hc.start_period,
            }
        }
        if hc is not None
        else {}
    )
    command = {"command": list(args.command)} if args.command is not None else {}
    return {
        "name": name,
        "image": image,
        "essential": True,
        **command,
        "portMappings": ports,
        **health,
        "environment": [{"name": key, "value": environment[key]} for key in sorted(environment)],
        **({"secrets": container_secrets(secrets)} if secrets else {}),
        "dockerLabels": {
            CAPACITY_LABEL: aws_facts.CAPACITY_PROVIDER[args.capacity],
            REDEPLOY_LABEL: str(args.redeploy),
        },
        "readonlyRootFilesystem": args.read_only_root_filesystem,
        **writable,
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": args.log_group_name,
                "awslogs-region": args.aws.region,
                "awslogs-stream-prefix": name,
            },
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


def election_policy(
    *, namespace_arn: str, service_arn: str, roles_service_arn: str, lease_table_arn: str, lease_key: str
) -> str:
    """Exactly the calls the leader election makes, each on the narrowest resource IAM accepts for it.

    The task finds its namespace's HttpName by id (GetNamespace); reads which tasks ECS runs (DiscoverInstances on
    the ECS-owned service, never a write); registers and removes its own instances in the roles service and polls
    their operations; reads and conditionally updates its service's lease item, and no other item. The roles
    service has no DNS records, so registering there touches no Route 53 zone (`aws_facts.API_ONLY_SERVICE_TYPE`).
    """
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ResolveNamespace",
                    "Effect": "Allow",
                    "Action": "servicediscovery:GetNamespace",
                    "Resource": namespace_arn,
                },
                {
                    "Sid": "ReadMembership",
                    "Effect": "Allow",
                    "Action": "servicediscovery:DiscoverInstances",
                    "Resource": [namespace_arn, service_arn, roles_service_arn],
                },
                {
                    "Sid": "OwnRoleInstances",
                    "Effect": "Allow",
                    "Action": [
                        "servicediscovery:RegisterInstance",
                        "servicediscovery:DeregisterInstance",
                        "servicediscovery:GetInstance",
                    ],
                    "Resource": roles_service_arn,
                },
                {
                    "Sid": "PollOperations",
                    "Effect": "Allow",
                    "Action": "servicediscovery:GetOperation",
                    "Resource": [namespace_arn, roles_service_arn],
                },
                {
                    "Sid": "OwnLease",
                    "Effect": "Allow",
                    "Action": ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                    "Resource": lease_table_arn,
                    "Condition": {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [lease_key]}},
                },
            ],
        }
    )


class FargateService(Component):
    """A Fargate service whose tasks register themselves in Cloud Map.

    Creates: a `cloudwatch.LogGroup` with retention; an execution role with only the AWS managed
    AmazonECSTaskExecutionRolePolicy (pull the image, write logs); a task role with no policy of its own; an
    `ecs.TaskDefinition` (awsvpc, FARGATE, cpu/memory, CPU architecture, one essential container with its port
    mapping, health check and awslogs); with an election, an `iam.RolePolicy` on the task role with exactly the
    Cloud Map and lease-table calls the election makes; an `ecs.Service` on FARGATE or FARGATE_SPOT with the Cloud
    Map registry (container name and port for SRV; none for a service without a port), the circuit breaker with
    rollback, 100 %/200 % deployment bounds, a
    health-check grace period equal to the start period, ECS Exec off, and `pulumi up` waiting (up to 10 minutes)
    for steady state; and with autoscaling, an `appautoscaling.Target` and one target-tracking `Policy` per metric.
    With secrets: an `ssm.Parameter` (SecureString) per stored secret, and an `iam.RolePolicy` on the execution role
    that may read exactly the task's parameters and secrets (and decrypt with exactly the named customer keys).

    Plain `pulumi_aws` resources rather than `awsx.ecs.FargateService`: awsx builds the task definition, roles and
    log group inside its provider, where neither a test nor `mapgate plan` can see them, and its log group keeps
    logs forever.

    Only a changed task definition rolls the tasks: nothing forces a new deployment (see CAPACITY_LABEL).
    """

    service_name: pulumi.Output[str]
    task_definition_arn: pulumi.Output[str]
    task_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.ServiceChildren(name)

        log_group = cloudwatch.LogGroup(
            children.logs,
            name=args.log_group_name,
            retention_in_days=args.log_retention_days,
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        trust = assume_role_policy(args.aws.account_id)
        execution_role = iam.Role(
            children.execution_role,
            assume_role_policy=trust,
            description=f"ECS starts {name} tasks",
            opts=self.child_opts,
        )
        iam.RolePolicyAttachment(
            children.execution_policy,
            role=execution_role.name,
            policy_arn=f"arn:{args.aws.partition}:iam::aws:{EXECUTION_POLICY}",
            opts=self.child_opts,
        )
        task_role = iam.Role(
            children.task_role,
            assume_role_policy=trust,
            description=f"what {name} code may call",
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=children.task_role_before_0_2)]),
        )
        if args.election is not None:
            election = args.election
            iam.RolePolicy(
                children.election_policy,
                role=task_role.id,
                policy=pulumi.Output.all(
                    election.namespace_arn, election.service_arn, election.roles_service_arn, election.lease_table_arn
                ).apply(
                    lambda arns: election_policy(
                        namespace_arn=arns[0],
                        service_arn=arns[1],
                        roles_service_arn=arns[2],
                        lease_table_arn=arns[3],
                        lease_key=election.lease_key,
                    )
                ),
                opts=self.child_opts,
            )

        secret_sources, secret_resources = self._secrets(children, args, execution_role)
        definitions = pulumi.Output.all(
            args.image, pulumi.Output.from_input(dict(args.environment)), secret_sources
        ).apply(
            lambda resolved: json.dumps(
                [container_definition(name, args, image=resolved[0], environment=resolved[1], secrets=resolved[2])]
            )
        )
        task_definition = ecs.TaskDefinition(
            children.task_definition,
            family=args.family,
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            cpu=str(args.cpu),
            memory=str(args.memory),
            runtime_platform=ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=aws_facts.CPU_ARCHITECTURE[args.architecture]
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=definitions,
            # Fargate task storage, so a read-only root filesystem still has a writable /tmp.
            volumes=[ecs.TaskDefinitionVolumeArgs(name=TMP_VOLUME)] if args.read_only_root_filesystem else None,
            tags=dict(args.tags),
            # The log group must exist before a task writes to it, and the execution role must read its secrets.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, *secret_resources]),
        )

        registry = (
            ecs.ServiceServiceRegistriesArgs(registry_arn=args.registry_arn) if args.registry_arn is not None else None
        )
        if args.registers_srv and args.registry_arn is not None:
            # SRV needs the container name and port, and they must match a port mapping.
            registry = ecs.ServiceServiceRegistriesArgs(
                registry_arn=args.registry_arn, container_name=name, container_port=args.port
            )

        service = ecs.Service(
            children.ecs_service,
            cluster=args.cluster_arn,
            task_definition=task_definition.arn,
            desired_count=args.desired_count,
            capacity_provider_strategies=[
                ecs.ServiceCapacityProviderStrategyArgs(
                    capacity_provider=aws_facts.CAPACITY_PROVIDER[args.capacity], weight=1
                )
            ],
            platform_version="LATEST",
            network_configuration=ecs.ServiceNetworkConfigurationArgs(
                subnets=args.subnet_ids,
                security_groups=[args.security_group_id],
                assign_public_ip=args.assign_public_ip,
            ),
            service_registries=registry,
            deployment_circuit_breaker=ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            # Keep every old task until its replacement is healthy in Cloud Map.
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=args.health_check.start_period if args.health_check else None,
            enable_execute_command=False,
            # Keep tasks spread over the AZs after a zone recovers (availability, not only placement).
            availability_zone_rebalancing="ENABLED",
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=True,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                # With autoscaling, the scaler owns the task count; `pulumi up` must not reset it.
                ignore_changes=["desiredCount"] if args.autoscaling else None,
                # spot <-> onDemand: the pinned provider updates the strategy in place, and ECS then refuses it
                # unless the update forces a new deployment (hashicorp/terraform-provider-aws#43533). Setting
                # force_new_deployment would roll every task on every update; instead the service is replaced:
                # its generated name is new, the new one's tasks register beside the old ones, then the old
                # service is deleted (docs/changes.md).
                replace_on_changes=["capacityProviderStrategies"],
                custom_timeouts=pulumi.CustomTimeouts(create=STEADY_STATE_TIMEOUT, update=STEADY_STATE_TIMEOUT),
            ),
        )
        if args.autoscaling is not None:
            self._autoscale(children, args.autoscaling, args.cluster_name, service.name)

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

    def _secrets(
        self, children: naming.ServiceChildren, args: FargateServiceArgs, execution_role: iam.Role
    ) -> tuple[pulumi.Output[dict[str, str]], list[pulumi.Resource]]:
        """The SSM parameters for stored secrets, and the execution role's policy to read every secret.

        Returns variable -> valueFrom for the container, and the resources a task must not start before.
        """
        value_from: dict[str, pulumi.Input[str]] = {s.variable: s.value_from for s in args.secrets}
        parameter_arns: list[pulumi.Input[str]] = [s.resource_arn for s in args.secrets if s.kind == "ssm"]
        created: list[pulumi.Resource] = []
        for stored in args.stored_secrets:
            parameter = ssm.Parameter(
                children.secret_parameter(stored.variable),
                name=stored.parameter_name,
                type="SecureString",  # with the AWS managed key aws/ssm, which needs no kms:Decrypt grant
                value=stored.value,
                description=f"{stored.variable} for {children.component} tasks",
                tags=dict(args.tags),
                opts=self.child_opts,
            )
            created.append(parameter)
            value_from[stored.variable] = parameter.arn
            parameter_arns.append(parameter.arn)
        if not value_from:
            return pulumi.Output.from_input({}), []
        secret_arns = [s.resource_arn for s in args.secrets if s.kind == "secretsmanager"]
        kms_key_arns = sorted({s.kms_key_arn for s in args.secrets if s.kms_key_arn})
        policy = iam.RolePolicy(
            children.secrets_policy,
            role=execution_role.id,
            policy=pulumi.Output.all(*parameter_arns).apply(
                lambda arns: execution_secrets_policy(
                    parameter_arns=arns, secret_arns=secret_arns, kms_key_arns=kms_key_arns
                )
            ),
            opts=self.child_opts,
        )
        return pulumi.Output.all(**value_from), [*created, policy]

    def _autoscale(
        self,
        children: naming.ServiceChildren,
        scaling: Scaling,
        cluster_name: pulumi.Input[str],
        service_name: pulumi.Output[str],
    ) -> None:
        target = appautoscaling.Target(
            children.scaling_target,
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", cluster_name, "/", service_name),
            min_capacity=scaling.min,
            max_capacity=scaling.max,
            opts=self.child_opts,
        )
        metrics = {
            "cpu": ("ECSServiceAverageCPUUtilization", scaling.cpu_target),
            "memory": ("ECSServiceAverageMemoryUtilization", scaling.memory_target),
        }
        for suffix, (metric, value) in metrics.items():
            if value is None:
                continue
            appautoscaling.Policy(
                children.scaling_policy(suffix),
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    predefined_metric_specification=appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric
                    ),
                    target_value=value,
                    scale_out_cooldown=SCALE_OUT_COOLDOWN_SECONDS,
                    scale_in_cooldown=SCALE_IN_COOLDOWN_SECONDS,
                ),
                opts=self.child_opts,
            )
