"""`mapgate status`: what runs, whether it is healthy, where each route sends traffic, and who leads.

Reads the stack output `statusTargets` (mapgate/ops/targets.py), then AWS, batching where the API allows:

- ECS: DescribeServices (10 services a call), ListTasks once for the cluster (tasks are matched to their service by
  the `service:<name>` group ECS gives them), DescribeTasks (100 tasks a call) for the running tasks plus any task
  a Cloud Map instance names that is not running (so "stopped" can be told from "gone");
- Cloud Map: ListInstances and GetInstancesHealthStatus per service, ListInstances per roles service, GetNamespace
  once (the namespace's HTTP name), and DiscoverInstances per route with the route's filter, the call API Gateway
  makes (HEALTHY only where the service has a health check, as Cloud Map applies it);
- DynamoDB: one strongly consistent BatchGetItem for every elected service's lease item;
- CloudWatch: DescribeAlarms for the 5xx alarm; EC2: the NAT gateways, or the NAT instances and their status checks.

`collect()` gathers; `Report.problems` says what is wrong. Nothing here writes to AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mapgate import contract
from mapgate.errors import EXIT_CANCELLED, EXIT_OK, EXIT_UNHEALTHY, UsageError
from mapgate.ops.aws import Aws, aws_errors, paged
from mapgate.ops.targets import ServiceTarget, StatusTargets

# What the sample app writes (app/mapgate_app/election.py and lease.py); the app ships without this package, so the
# names are repeated, and tests/test_status.py drives the app's own LeaseStore and attributes against these.
LEADER_PREFIX = "leader-"
OWNER = "owner"
TERM = "term"
IPV4 = "AWS_INSTANCE_IPV4"

DESCRIBE_SERVICES_BATCH = 10  # ECS DescribeServices: at most 10 services a call
DESCRIBE_TASKS_BATCH = 100  # ECS DescribeTasks: at most 100 tasks a call
BATCH_GET_ITEMS = 100  # DynamoDB BatchGetItem: at most 100 keys a call


@dataclass(frozen=True)
class TaskView:
    id: str
    last_status: str
    availability_zone: str | None
    private_ip: str | None
    capacity_provider: str | None
    started_at: str | None
    health: str | None
    """The task's container health (HEALTHY, UNHEALTHY, UNKNOWN), as ECS sums it up."""
    image_digests: tuple[str, ...]


@dataclass(frozen=True)
class InstanceView:
    id: str
    task: str
    """The task the instance stands for: its id (ECS-owned) or its `owner` attribute (roles service)."""
    health: str | None
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class LeaseView:
    holder: str
    address: str
    term: int
    expires_in_seconds: float
    """By the writer's wall clock: `renewed_ms + lease_ms - now`. For people only: the election itself never compares
    clocks between tasks (docs/election.md), so a few seconds of skew between this machine and the task show here."""
    stopping: tuple[str, ...] = ()
    """Tasks that got SIGTERM: the holder never hands the lease to one of them."""


@dataclass(frozen=True)
class ElectionView:
    lease: LeaseView | None
    instances: tuple[InstanceView, ...]
    disagreements: tuple[str, ...]


@dataclass(frozen=True)
class ServiceView:
    name: str
    desired: int
    running: int
    pending: int
    rollout_state: str | None
    rollout_reason: str | None
    failed_tasks: int
    deployments: int
    tasks: tuple[TaskView, ...]
    instances: tuple[InstanceView, ...]
    election: ElectionView | None
    problems: tuple[str, ...]


@dataclass(frozen=True)
class RouteView:
    route: str
    service: str
    filter: Mapping[str, str]
    instances: tuple[InstanceView, ...]
    problems: tuple[str, ...]


@dataclass(frozen=True)
class EgressView:
    id: str
    kind: str
    state: str
    check: str | None
    problem: str | None


@dataclass(frozen=True)
class Report:
    stack: str
    taken_at: float
    services: tuple[ServiceView, ...]
    routes: tuple[RouteView, ...]
    egress: str
    egress_parts: tuple[EgressView, ...]
    alarm: str | None
    alarm_state: str | None
    calls: Mapping[str, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        found = [f"{s.name}: {p}" for s in self.services for p in s.problems]
        found += [f"{s.name}: election: {d}" for s in self.services if s.election for d in s.election.disagreements]
        found += [f"route {r.route}: {p}" for r in self.routes for p in r.problems]
        found += [f"egress {e.id}: {e.problem}" for e in self.egress_parts if e.problem]
        if self.alarm_state == "ALARM":
            found.append(f"alarm {self.alarm} is in ALARM (5xx answers over its threshold)")
        return found

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = self.problems
        data["calls"] = dict(sorted(self.calls.items()))
        return data


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _task_id(arn_or_id: str) -> str:
    return arn_or_id.rsplit("/", 1)[-1]


def _when(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return str(value) if value else None


def _task_view(task: Mapping[str, Any]) -> TaskView:
    ip = None
    for attachment in task.get("attachments", []):
        for detail in attachment.get("details", []):
            if detail.get("name") == "privateIPv4Address":
                ip = detail.get("value")
    containers = task.get("containers", [])
    digests = tuple(sorted({c["imageDigest"] for c in containers if c.get("imageDigest")}))
    return TaskView(
        id=_task_id(task["taskArn"]),
        last_status=str(task.get("lastStatus", "?")),
        availability_zone=task.get("availabilityZone"),
        private_ip=ip,
        capacity_provider=task.get("capacityProviderName") or task.get("launchType") or None,
        started_at=_when(task.get("startedAt")),
        health=task.get("healthStatus"),
        image_digests=digests,
    )


class _Gather:
    """The AWS reads, one batch per kind; kept apart from the judging below so each can be read on its own."""

    def __init__(self, targets: StatusTargets, aws: Aws):
        self.targets = targets
        self.aws = aws

    def services(self) -> dict[str, Mapping[str, Any]]:
        ecs = self.aws.client("ecs")
        names = {t.ecs_service: name for name, t in self.targets.services.items()}
        found: dict[str, Mapping[str, Any]] = {}
        with aws_errors("ecs"):
            for batch in _chunks(sorted(names), DESCRIBE_SERVICES_BATCH):
                answer = ecs.describe_services(cluster=self.targets.cluster, services=list(batch))
                for item in answer.get("services", []):
                    found[names[item["serviceName"]]] = item
        return found

    def running_tasks(self) -> list[str]:
        with aws_errors("ecs"):
            arns = paged(
                self.aws.client("ecs"),
                "list_tasks",
                "taskArns",
                cluster=self.targets.cluster,
                desiredStatus="RUNNING",
            )
        return [str(a) for a in arns]

    def tasks(self, ids: Sequence[str]) -> list[Mapping[str, Any]]:
        """The tasks ECS still describes (a task it no longer knows is gone: it comes back as a failure)."""
        ecs = self.aws.client("ecs")
        described: list[Mapping[str, Any]] = []
        with aws_errors("ecs"):
            for batch in _chunks(sorted(set(ids)), DESCRIBE_TASKS_BATCH):
                described += ecs.describe_tasks(cluster=self.targets.cluster, tasks=list(batch)).get("tasks", [])
        return described

    def instances(self, service_id: str) -> list[Mapping[str, Any]]:
        with aws_errors("servicediscovery"):
            return paged(self.aws.client("servicediscovery"), "list_instances", "Instances", ServiceId=service_id)

    def health(self, service_id: str) -> dict[str, str]:
        cloud_map = self.aws.client("servicediscovery")
        status: dict[str, str] = {}
        with aws_errors("servicediscovery"):
            token: str | None = None
            while True:
                page = cloud_map.get_instances_health_status(
                    ServiceId=service_id, **({"NextToken": token} if token else {})
                )
                status.update(page.get("Status", {}))
                token = page.get("NextToken")
                if not token:
                    return status

    def leases(self) -> dict[str, Mapping[str, Any]]:
        """Lease items by key, read strongly consistent, in as few BatchGetItem calls as the keys allow."""
        wanted = [(s.election.lease_table, s.election.lease_key) for s in self.targets.services.values() if s.election]
        found: dict[str, Mapping[str, Any]] = {}
        if not wanted:
            return found
        dynamodb = self.aws.client("dynamodb")
        with aws_errors("dynamodb"):
            for start in range(0, len(wanted), BATCH_GET_ITEMS):
                batch = wanted[start : start + BATCH_GET_ITEMS]
                request: dict[str, Any] = {}
                for table, key in batch:
                    request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append({"name": {"S": key}})
                while request:
                    answer = dynamodb.batch_get_item(RequestItems=request)
                    for items in answer.get("Responses", {}).values():
                        for item in items:
                            found[item["name"]["S"]] = item
                    request = answer.get("UnprocessedKeys") or {}
        return found

    def namespace_name(self) -> str:
        with aws_errors("servicediscovery"):
            namespace = self.aws.client("servicediscovery").get_namespace(Id=self.targets.namespace_id)["Namespace"]
        return str(namespace.get("Properties", {}).get("HttpProperties", {}).get("HttpName") or namespace["Name"])

    def discover(self, namespace: str, service: str, query: Mapping[str, str], healthy_only: bool) -> list[Any]:
        extra = {"HealthStatus": "HEALTHY"} if healthy_only else {}
        with aws_errors("servicediscovery"):
            answer = self.aws.client("servicediscovery").discover_instances(
                NamespaceName=namespace, ServiceName=service, QueryParameters=dict(query), **extra
            )
        return list(answer.get("Instances", []))

    def alarm_state(self) -> str | None:
        if not self.targets.error_alarm:
            return None
        with aws_errors("cloudwatch"):
            alarms = self.aws.client("cloudwatch").describe_alarms(AlarmNames=[self.targets.error_alarm])
        found = alarms.get("MetricAlarms", []) + alarms.get("CompositeAlarms", [])
        return str(found[0]["StateValue"]) if found else "MISSING"

    def egress(self) -> list[EgressView]:
        kind = self.targets.egress
        vpc = [{"Name": "vpc-id", "Values": [self.targets.vpc_id]}]
        ec2 = self.aws.client("ec2")
        with aws_errors("ec2"):
            if kind.startswith("natGateway"):
                gateways = paged(ec2, "describe_nat_gateways", "NatGateways", Filters=vpc)
                return [
                    EgressView(
                        id=g["NatGatewayId"],
                        kind="NAT gateway",
                        state=g["State"],
                        check=None,
                        problem=None if g["State"] == "available" else f"NAT gateway is {g['State']}",
                    )
                    for g in gateways
                    if g["State"] != "deleted"
                ]
            if not kind.startswith("natInstance"):
                return []
            reservations = paged(ec2, "describe_instances", "Reservations", Filters=vpc)
            instances = [i for r in reservations for i in r["Instances"] if i["State"]["Name"] != "terminated"]
            ids = [i["InstanceId"] for i in instances]
            checks: dict[str, str] = {}
            if ids:
                statuses = ec2.describe_instance_status(InstanceIds=ids, IncludeAllInstances=True)
                for item in statuses.get("InstanceStatuses", []):
                    checks[item["InstanceId"]] = (
                        f"system {item.get('SystemStatus', {}).get('Status', '?')}, "
                        f"instance {item.get('InstanceStatus', {}).get('Status', '?')}"
                    )
        views = []
        for instance in instances:
            state = instance["State"]["Name"]
            check = checks.get(instance["InstanceId"])
            problem = None
            if state != "running":
                problem = f"NAT instance is {state}"
            elif check and "impaired" in check:
                problem = f"NAT instance status check: {check}"
            views.append(EgressView(instance["InstanceId"], "NAT instance", state, check, problem))
        if not views:
            views.append(EgressView(self.targets.vpc_id, "NAT instance", "missing", None, "no NAT instance in the VPC"))
        return views


def _instance_views(
    items: Iterable[Mapping[str, Any]], health: Mapping[str, str], *, by_owner: bool
) -> list[InstanceView]:
    """Instances with the task each stands for: ECS names its instances by task id; the app's roles-service
    instances name their task in the `owner` attribute."""
    views = []
    for item in items:
        attributes = dict(item.get("Attributes", {}))
        instance_id = str(item.get("Id") or item.get("InstanceId"))
        task = attributes.get(OWNER, "") if by_owner else instance_id
        views.append(InstanceView(instance_id, task, health.get(instance_id), attributes))
    return sorted(views, key=lambda v: v.id)


def _gone_or_stopped(task: str, stopped: Mapping[str, str]) -> str:
    return f"which is {stopped[task].lower()}" if task in stopped else "which ECS no longer knows (gone)"


def judge_election(
    instances: Sequence[InstanceView],
    lease: LeaseView | None,
    tasks: Sequence[TaskView],
    stopped: Mapping[str, str],
    attribute: str,
) -> list[str]:
    """Does routing (the roles service's instances) agree with the lease? Each disagreement, spelled out.

    `tasks` are the service's tasks that are not stopped; only those already RUNNING must have an instance (a
    starting task registers once its app runs)."""
    running = {t.id for t in tasks}
    serving = {t.id for t in tasks if t.last_status == "RUNNING"}
    found = []
    leaders = [i for i in instances if i.attributes.get(attribute) == "true"]
    if len(leaders) > 1:
        named = ", ".join(f"{i.id} (task {i.task})" for i in leaders)
        found.append(f"{len(leaders)} leader instances: {named}; GET /leader reaches each of them")
    holder = lease.holder if lease is not None and lease.expires_in_seconds > 0 else ""
    for leader in leaders:
        if leader.task not in running:
            found.append(
                f"leader instance {leader.id} is for task {leader.task}, {_gone_or_stopped(leader.task, stopped)}"
            )
        elif leader.task != holder:
            if holder and lease:
                held = f"task {holder} holds it (term {lease.term})"
            elif lease and lease.holder:
                held = (
                    f"nobody holds a valid lease (task {lease.holder}'s term {lease.term} "
                    f"expired {-lease.expires_in_seconds:g} s ago)"
                )
            else:
                held = "nobody holds a valid lease"
            found.append(f"leader instance {leader.id} (task {leader.task}) is not the lease holder: {held}")
    if holder and holder in running and not any(i.task == holder for i in leaders):
        found.append(f"the lease holder, task {holder} (term {lease.term if lease else '?'}), has no leader instance")
    owners = {i.task for i in instances}
    for task in sorted(serving - owners):
        found.append(f"running task {task} is missing from the roles service")
    for instance in instances:
        if instance not in leaders and instance.task not in running:
            found.append(
                f"instance {instance.id} is for task {instance.task}, {_gone_or_stopped(instance.task, stopped)}"
            )
    return found


def _service_problems(
    name: str,
    service: Mapping[str, Any] | None,
    tasks: Sequence[TaskView],
    instances: Sequence[InstanceView],
    running: set[str],
    stopped: Mapping[str, str],
) -> list[str]:
    if service is None:
        return ["the ECS service is missing (was the stack destroyed?)"]
    found = []
    desired, running_count = int(service.get("desiredCount", 0)), int(service.get("runningCount", 0))
    if running_count < desired:
        found.append(f"{running_count} of {desired} desired tasks running")
    primary = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)
    if primary and primary.get("rolloutState") == "FAILED":
        found.append(f"the deployment failed: {primary.get('rolloutStateReason', 'no reason given')}")
    for task in tasks:
        if task.health == "UNHEALTHY":
            found.append(f"task {task.id} is UNHEALTHY (container health check)")
    for instance in instances:
        if instance.health == "UNHEALTHY":
            found.append(f"Cloud Map instance {instance.id} is UNHEALTHY")
        if instance.task not in running:
            found.append(
                f"Cloud Map instance {instance.id} is for task {instance.task}, "
                + _gone_or_stopped(instance.task, stopped)
            )
    return found


def _lease(item: Mapping[str, Any] | None, now: float) -> LeaseView | None:
    if not item:
        return None
    renewed_ms = int(item.get(contract.LEASE_RENEWED_MS, {}).get("N", "0"))
    lease_ms = int(item.get(contract.LEASE_DURATION_MS, {}).get("N", "0"))
    return LeaseView(
        holder=item.get(contract.LEASE_HOLDER, {}).get("S", ""),
        address=item.get(contract.LEASE_ADDRESS, {}).get("S", ""),
        term=int(item.get(contract.LEASE_TERM, {}).get("N", "0")),
        expires_in_seconds=round((renewed_ms + lease_ms) / 1000 - now, 1),
        stopping=tuple(sorted(item.get(contract.LEASE_STOPPING, {}).get("SS", ()))),
    )


def collect(targets: StatusTargets, aws: Aws, stack: str, *, now: float | None = None) -> Report:
    """Read the stack's state from AWS (see the module's docstring for the calls) and judge it."""
    now = time.time() if now is None else now
    gather = _Gather(targets, aws)
    services = gather.services()
    running_arns = gather.running_tasks()
    # A service without a port has no Cloud Map service: nothing to list, and no call made for it.
    registered = {name: t.cloud_map_service_id for name, t in targets.services.items() if t.cloud_map_service_id}
    health = {name: gather.health(service_id) for name, service_id in registered.items()}
    owned = {
        name: _instance_views(gather.instances(registered[name]), health[name], by_owner=False) if name in registered
        else []
        for name in targets.services
    }  # fmt: skip
    roles = {
        name: _instance_views(gather.instances(t.election.roles_service_id), {}, by_owner=True)
        for name, t in targets.services.items()
        if t.election
    }
    # One DescribeTasks pass: the running tasks, and every task an instance names (stopped, or gone if ECS
    # answers with a failure).
    named = {i.task for views in (*owned.values(), *roles.values()) for i in views if i.task}
    described = gather.tasks([*(_task_id(arn) for arn in running_arns), *named])
    by_group: dict[str, list[Mapping[str, Any]]] = {}
    stopped: dict[str, str] = {}
    for task in described:
        if task.get("desiredStatus") == "STOPPED" or task.get("lastStatus") == "STOPPED":
            stopped[_task_id(task["taskArn"])] = str(task.get("lastStatus", "STOPPED"))
        else:
            by_group.setdefault(str(task.get("group", "")), []).append(task)
    leases = gather.leases()

    views = []
    for name in sorted(targets.services):
        target: ServiceTarget = targets.services[name]
        service = services.get(name)
        tasks = sorted((_task_view(t) for t in by_group.get(f"service:{target.ecs_service}", [])), key=lambda t: t.id)
        running = {t.id for t in tasks}
        election = None
        if target.election:
            lease = _lease(leases.get(target.election.lease_key), now)
            election = ElectionView(
                lease=lease,
                instances=tuple(roles[name]),
                disagreements=tuple(judge_election(roles[name], lease, tasks, stopped, target.election.attribute)),
            )
        primary: Mapping[str, Any] = next(
            (d for d in (service or {}).get("deployments", []) if d.get("status") == "PRIMARY"), {}
        )
        views.append(
            ServiceView(
                name=name,
                desired=int((service or {}).get("desiredCount", 0)),
                running=int((service or {}).get("runningCount", 0)),
                pending=int((service or {}).get("pendingCount", 0)),
                rollout_state=primary.get("rolloutState"),
                rollout_reason=primary.get("rolloutStateReason"),
                failed_tasks=int(primary.get("failedTasks", 0)),
                deployments=len((service or {}).get("deployments", [])),
                tasks=tuple(tasks),
                instances=tuple(owned[name]),
                election=election,
                problems=tuple(_service_problems(name, service, tasks, owned[name], running, stopped)),
            )
        )

    routes = []
    namespace = gather.namespace_name() if targets.routes else ""
    for key, route in sorted(targets.routes.items()):
        service_target = targets.services.get(route.service)
        roles_name = service_target.election.roles_service_name if service_target and service_target.election else None
        elected = route.cloud_map_service == roles_name
        found = gather.discover(namespace, route.cloud_map_service, route.filter, healthy_only=not elected)
        instances = tuple(_instance_views(found, {}, by_owner=elected))
        problems = [] if instances else ["DiscoverInstances returns no instance: API Gateway answers 503"]
        routes.append(RouteView(key, route.service, dict(route.filter), instances, tuple(problems)))

    return Report(
        stack=stack,
        taken_at=now,
        services=tuple(views),
        routes=tuple(routes),
        egress=targets.egress,
        egress_parts=tuple(gather.egress()),
        alarm=targets.error_alarm,
        alarm_state=gather.alarm_state(),
        calls=dict(aws.calls),
    )


def render(report: Report, since: Mapping[str, float] | None = None) -> str:
    """The report as text for a terminal: services, their tasks and instances, the election, routes, the rest.
    `since`: when each problem was first seen (by `--watch`), to say for how long it has lasted."""
    lines = [f"stack {report.stack}"]
    for s in report.services:
        rollout = f", rollout {s.rollout_state}" if s.rollout_state else ""
        failed = f", {s.failed_tasks} failed tasks" if s.failed_tasks else ""
        lines.append(
            f"service {s.name}: {s.running}/{s.desired} running, {s.pending} pending{rollout}{failed}"
            + (f" ({s.rollout_reason})" if s.rollout_reason and s.rollout_state != "COMPLETED" else "")
        )
        for t in s.tasks:
            digest = ",".join(d.removeprefix("sha256:")[:12] for d in t.image_digests) or "-"
            lines.append(
                f"  task {t.id}  {t.last_status}  {t.availability_zone or '-'}  {t.private_ip or '-'}  "
                f"{t.capacity_provider or '-'}  started {t.started_at or '-'}  health {t.health or '-'}  "
                f"image {digest}"
            )
        for i in s.instances:
            lines.append(f"  cloud map {i.id}  {i.health or '-'}  {i.attributes.get(IPV4, '-')}")
        if s.election:
            lease = s.election.lease
            if lease is None:
                lines.append("  lease: none yet")
            else:
                stopping = f", stopping: {', '.join(lease.stopping)}" if lease.stopping else ""
                lines.append(
                    f"  lease: holder {lease.holder or '(nobody)'}, term {lease.term}, "
                    f"expires in {lease.expires_in_seconds:g} s{stopping}"
                )
            for i in s.election.instances:
                lines.append(f"  roles {i.id}  leader={i.attributes.get('leader', '?')}  task {i.task}")
            verdict = "; ".join(s.election.disagreements) or "routing agrees with the lease"
            lines.append(f"  verdict: {verdict}")
        lines += [f"  problem: {p}" for p in s.problems]
    for r in report.routes:
        where = ", ".join(f"{i.id} (task {i.task})" if i.task != i.id else i.id for i in r.instances) or "nothing"
        query = "?" + "&".join(f"{k}={v}" for k, v in sorted(r.filter.items())) if r.filter else ""
        lines.append(f"route {r.route} -> {r.service}{query}: {where}")
    for e in report.egress_parts:
        lines.append(f"egress {e.kind} {e.id}: {e.state}" + (f" ({e.check})" if e.check else ""))
    if report.alarm:
        lines.append(f"alarm {report.alarm}: {report.alarm_state}")
    problems = report.problems
    lines.append(f"{len(problems)} problem(s)" if problems else "healthy: no problems found")
    for problem in problems:
        first = (since or {}).get(problem)
        lasted = f" (for {report.taken_at - first:.0f} s)" if first is not None and first < report.taken_at else ""
        lines.append(f"  - {problem}{lasted}")
    return "\n".join(lines) + "\n"


def read_outputs_file(path: Path) -> dict[str, Any]:
    """The JSON `pulumi stack output --json --show-secrets` prints: output name -> value."""
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"--outputs {path}: cannot read it: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(
            f"--outputs {path}: not JSON ({error}); write it with `pulumi stack output --json --show-secrets`"
        ) from None
    if not isinstance(data, dict) or any(isinstance(v, dict) and v.get("secret") is True for v in data.values()):
        raise UsageError(
            f"--outputs {path}: not the outputs of `pulumi stack output --json --show-secrets` "
            "(an object of output names; secrets shown)"
        )
    return data


def report_for(outputs: Mapping[str, Any], stack: str, *, aws: Aws | None = None, now: float | None = None) -> Report:
    """The status of a stack whose outputs these are, read from AWS (`aws`: boto3's default session)."""
    targets = StatusTargets.parse(outputs, stack)
    region = outputs.get("region")
    return collect(targets, aws or Aws(str(getattr(region, "value", region) or "")), stack, now=now)


def show(
    outputs: Mapping[str, Any],
    stack: str,
    out: TextIO,
    *,
    as_json: bool = False,
    watch: float | None = None,
    rounds: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    aws: Callable[[], Aws | None] = lambda: None,
) -> int:
    """Print the status (again every `watch` seconds until Ctrl-C, or `rounds` times); the exit code of the last:
    0 when nothing is wrong, EXIT_UNHEALTHY otherwise."""
    done = 0
    code = EXIT_OK
    first_seen: dict[str, float] = {}  # problem -> when a read first found it, for "for how long"
    try:
        while True:
            report = report_for(outputs, stack, aws=aws(), now=clock())
            code = EXIT_UNHEALTHY if report.problems else EXIT_OK
            first_seen = {p: first_seen.get(p, report.taken_at) for p in report.problems}
            if as_json:
                document = report.as_json() | {"problems_since": first_seen}
                out.write(json.dumps(document, sort_keys=True, default=str) + "\n")
            else:
                stamp = datetime.fromtimestamp(report.taken_at, UTC).isoformat(timespec="seconds")
                out.write((f"--- {stamp}\n" if watch else "") + render(report, first_seen))
            out.flush()
            done += 1
            if watch is None or (rounds is not None and done >= rounds):
                return code
            sleep(watch)
    except KeyboardInterrupt:
        return code if done else EXIT_CANCELLED  # Ctrl-C before the first report says nothing about health
