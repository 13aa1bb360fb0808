"""A deployed-like dev stack on moto, for `mapgate status` (and `logs`): what `pulumi up` and the app would leave.

The ECS cluster and services with running Fargate tasks; the Cloud Map namespace, one service per mapgate service
with an instance per task (ECS names them by task id), and the roles service where the app's own code registers
`leader-N`/task-id instances; the lease item written by the app's `LeaseStore`; the 5xx alarm; the NAT instance.
Then `targets` is the `statusTargets` output that stack would have. Each test changes one thing to make a case.

moto models most of it; what it leaves out (a task's AZ, private IP, start time and health, a service's running
count) is set on moto's own objects, as ECS would report it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import boto3
from moto.backends import get_backend
from moto.moto_api import state_manager

from mapgate import contract, naming
from mapgate_app.election import IPV4, LEADER_PREFIX, OWNER, PORT, STARTED, TERM
from mapgate_app.lease import LeaseStore

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "dev"
CLUSTER = naming.cluster_name(STACK)
NAMESPACE = "dev.mapgate.internal"
TABLE = naming.lease_table_name(STACK)
ALARM = "api-5xx-alarm-1a2b3c4"
SERVICES = {"app": 2, "cache": 1, "worker": 2}  # desired tasks; app elects a leader
ELECTED = "app"
ROUTES = {"GET /": {}, "GET /follower": {"leader": "false"}, "GET /leader": {"leader": "true"}}
NOW_MS = 1_800_000_000_000
DIGEST = "sha256:" + "ab" * 32


@dataclass
class World:
    targets: dict[str, Any]
    tasks: dict[str, list[str]]
    """Service -> its running task ids, in start order."""
    subnet: str
    task_definitions: dict[str, str]
    cloud_map_ids: dict[str, str] = field(default_factory=dict)
    roles_id: str = ""
    nat_instance: str = ""

    @property
    def outputs(self) -> dict[str, Any]:
        """As `pulumi stack output --json --show-secrets` prints them (the ones status reads)."""
        return {"region": REGION, "clusterName": CLUSTER, "statusTargets": self.targets}

    # -- changes a test makes ------------------------------------------------------------------------------

    def ecs_task(self, task_id: str) -> Any:
        return get_backend("ecs")[ACCOUNT][REGION].tasks[CLUSTER][_arn(task_id)]

    def ecs_service(self, service: str) -> Any:
        return get_backend("ecs")[ACCOUNT][REGION].services[f"{CLUSTER}:{service}-service"]

    def start_task(self, service: str, *, register: bool = True) -> str:
        ecs = client("ecs", region_name=REGION)
        (task,) = ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=self.task_definitions[service],
            count=1,
            group=f"service:{service}-service",
            launchType="FARGATE",
        )["tasks"]
        task_id = task["taskArn"].rsplit("/", 1)[-1]
        index = len(self.tasks[service])
        moto_task = self.ecs_task(task_id)
        moto_task.availability_zone = ("us-east-1a", "us-east-1b")[index % 2]
        moto_task.started_at = datetime(2026, 12, 4, 9, tzinfo=UTC) + timedelta(minutes=index)
        moto_task.health_status = "HEALTHY"
        moto_task.capacity_provider_name = "FARGATE_SPOT" if index % 2 else "FARGATE"
        moto_task.attachments = [
            {
                "id": f"eni-attachment-{index}",
                "type": "ElasticNetworkInterface",
                "status": "ATTACHED",
                "details": [{"name": "privateIPv4Address", "value": _ip(service, index)}],
            }
        ]
        for container in moto_task.containers:
            container.image_digest = DIGEST
        self.tasks[service].append(task_id)
        if register:
            client("servicediscovery", region_name=REGION).register_instance(
                ServiceId=self.cloud_map_ids[service],
                InstanceId=task_id,
                Attributes={IPV4: _ip(service, index), "AVAILABILITY_ZONE": moto_task.availability_zone},
            )
        return task_id

    def stop_task(self, service: str, task_id: str) -> None:
        """As ECS stops a task: it is STOPPED (and still described for a while); its ECS-owned instance goes."""
        task = self.ecs_task(task_id)
        task.desired_status = "STOPPED"
        task.status = "STOPPED"
        self.tasks[service].remove(task_id)

    def register_role(self, instance_id: str, task_id: str, *, leader: bool, term: int = 1) -> None:
        attributes = {IPV4: "10.0.1.9", PORT: "8080", contract.ELECTION_ATTRIBUTE: "true" if leader else "false"}
        attributes |= {OWNER: task_id, STARTED: "1764838800.000"}
        if leader:
            attributes[TERM] = str(term)
        client("servicediscovery", region_name=REGION).register_instance(
            ServiceId=self.roles_id, InstanceId=instance_id, Attributes=attributes
        )

    def deregister(self, service_id: str, instance_id: str) -> None:
        client("servicediscovery", region_name=REGION).deregister_instance(ServiceId=service_id, InstanceId=instance_id)

    def lease(self, holder: str, *, term: int = 1, expires_ms: int = NOW_MS + 8_000) -> None:
        """Written by the app's own LeaseStore (the shape status reads)."""
        store = LeaseStore(client("dynamodb", region_name=REGION), table=TABLE, name=ELECTED)
        current = store.read()
        if current is not None:
            client("dynamodb", region_name=REGION).delete_item(TableName=TABLE, Key={"name": {"S": ELECTED}})
        renewed_ms = expires_ms - 10_000
        lease = store.take(me=holder, address="10.0.1.9:8080", seen=None, now_ms=renewed_ms, lease_ms=10_000)
        for _ in range(term - lease.term):
            lease = store.hand_over(
                me=holder, term=lease.term, successor=holder, address="10.0.1.9:8080", now_ms=renewed_ms
            )


@cache
def session() -> boto3.session.Session:
    """One session for every test: a client made from it loads the service models once, not per test."""
    return boto3.session.Session(region_name=REGION)


@cache
def client(service: str, region_name: str = REGION) -> Any:
    return session().client(service, region_name=region_name)


def _arn(task_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{CLUSTER}/{task_id}"


def _ip(service: str, index: int) -> str:
    return f"10.0.{list(SERVICES).index(service) + 1}.{10 + index}"


def build_world(*, egress: str = "natInstance") -> World:
    """Everything `pulumi up` creates that status reads, with the app's election settled: the first app task
    holds the lease (term 1) and has the leader instance, the others are followers. Call inside `mock_aws()`."""
    # Tasks keep the status they are given (moto would otherwise move them on at every read).
    state_manager.set_transition("ecs::task", {"progression": "manual", "times": 10**9})
    ec2 = client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]
    ecs = client("ecs", region_name=REGION)
    ecs.create_cluster(clusterName=CLUSTER)
    cloud_map = client("servicediscovery", region_name=REGION)
    cloud_map.create_private_dns_namespace(Name=NAMESPACE, Vpc=vpc)
    namespace_id = cloud_map.list_namespaces()["Namespaces"][0]["Id"]

    world = World(targets={}, tasks={s: [] for s in SERVICES}, subnet=subnet["SubnetId"], task_definitions={})
    services: dict[str, Any] = {}
    for service, desired in SERVICES.items():
        # moto cannot run awsvpc tasks (it fails attaching the ENI), so the family is registered for EC2/bridge
        # and run as FARGATE; the task's network attachment is set by start_task.
        definition = ecs.register_task_definition(
            family=naming.task_family(STACK, service),
            requiresCompatibilities=["EC2"],
            networkMode="bridge",
            containerDefinitions=[{"name": service, "image": f"{service}:1", "cpu": 256, "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
        world.task_definitions[service] = definition
        ecs.create_service(
            cluster=CLUSTER,
            serviceName=f"{service}-service",
            taskDefinition=definition,
            desiredCount=desired,
            launchType="FARGATE",
        )
        world.cloud_map_ids[service] = cloud_map.create_service(
            Name=service,
            NamespaceId=namespace_id,
            DnsConfig={"DnsRecords": [{"Type": "SRV", "TTL": 10}], "RoutingPolicy": "MULTIVALUE"},
            HealthCheckCustomConfig={"FailureThreshold": 1},
        )["Service"]["Id"]
        election = None
        if service == ELECTED:
            world.roles_id = cloud_map.create_service(
                Name=naming.roles_service_name(service), NamespaceId=namespace_id, Type="HTTP"
            )["Service"]["Id"]
            election = {
                "leaseTable": TABLE,
                "leaseKey": service,
                "rolesServiceId": world.roles_id,
                "rolesServiceName": naming.roles_service_name(service),
                "attribute": contract.ELECTION_ATTRIBUTE,
            }
        services[service] = {
            "ecsService": f"{service}-service",
            "cloudMapServiceId": world.cloud_map_ids[service],
            "logGroup": naming.log_group_name(STACK, service),
            "election": election,
        }
        for _ in range(desired):
            world.start_task(service)
        moto_service = world.ecs_service(service)
        moto_service.running_count, moto_service.pending_count = desired, 0
        moto_service.deployments[0].update(
            runningCount=desired, pendingCount=0, rolloutState="COMPLETED", rolloutStateReason="steady"
        )

    client("dynamodb", region_name=REGION).create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "name", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "name", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    leader, *followers = world.tasks[ELECTED]
    world.lease(leader)
    world.register_role(f"{LEADER_PREFIX}1", leader, leader=True)
    for follower in followers:
        world.register_role(follower, follower, leader=False)

    client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName=ALARM,
        ComparisonOperator="GreaterThanThreshold",
        EvaluationPeriods=5,
        Threshold=5.0,
        MetricName="5xx",
        Namespace="AWS/ApiGateway",
        Period=60,
        Statistic="Sum",
    )
    client("cloudwatch", region_name=REGION).set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="quiet")
    if egress == "natInstance":
        world.nat_instance = ec2.run_instances(
            ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=world.subnet, InstanceType="t4g.nano"
        )["Instances"][0]["InstanceId"]

    world.targets = {
        "version": 1,
        "cluster": CLUSTER,
        "namespaceId": namespace_id,
        "vpcId": vpc,
        "egress": egress,
        "errorAlarm": ALARM,
        "services": services,
        "routes": {
            key: {
                "service": ELECTED,
                "cloudMapService": naming.roles_service_name(ELECTED) if query else ELECTED,
                "filter": query,
            }
            for key, query in ROUTES.items()
        },
    }
    return world
