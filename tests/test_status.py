"""`mapgate status` against moto's ECS, Cloud Map, DynamoDB, CloudWatch and EC2: a deployed-like dev stack per test
(tests/ops_world.py), changed into each case status must catch."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from mapgate import errors, naming
from mapgate.cli import automation
from mapgate.cli.main import main
from mapgate.ops import status
from mapgate.ops.aws import Aws
from mapgate.ops.targets import OUTPUT, StatusTargets
from mapgate_app.lease import LeaseStore
from tests.harness import StackRun
from tests.ops_world import ALARM, ELECTED, NOW_MS, REGION, STACK, TABLE, World, build_world, client, session

NOW = NOW_MS / 1000


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # 1,300 AMIs per test otherwise; the NAT needs none


@pytest.fixture
def world(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # The command makes its own Aws from boto3's default session; this one has the service models loaded already.
    monkeypatch.setattr(status, "Aws", lambda region: Aws(region, session()))
    with mock_aws():
        yield build_world()


def report(world: World) -> status.Report:
    return status.report_for(world.outputs, STACK, aws=Aws(REGION, session()), now=NOW)


def election_verdict(world: World) -> list[str]:
    (app,) = [s for s in report(world).services if s.name == ELECTED]
    assert app.election is not None
    return list(app.election.disagreements)


def test_a_settled_stack_is_healthy_and_shows_every_part(world: World) -> None:
    r = report(world)
    assert r.problems == []
    app, cache, worker = r.services
    assert (app.desired, app.running, app.pending, app.rollout_state) == (2, 2, 0, "COMPLETED")
    leader, follower = world.tasks[ELECTED]
    first = next(t for t in app.tasks if t.id == leader)
    assert (first.availability_zone, first.private_ip, first.capacity_provider) == (
        "us-east-1a",
        "10.0.1.10",
        "FARGATE",
    )
    assert (first.health, first.started_at) == ("HEALTHY", "2026-12-04T09:00:00+00:00")
    assert first.image_digests == ("sha256:" + "ab" * 32,)
    assert {i.id: i.health for i in app.instances} == {leader: "HEALTHY", follower: "HEALTHY"}
    assert app.election is not None
    assert app.election.lease is not None
    assert (app.election.lease.holder, app.election.lease.term, app.election.lease.expires_in_seconds) == (leader, 1, 8)
    assert app.election.disagreements == ()
    assert cache.election is None
    assert len(worker.tasks) == 2
    routes = {r.route: [(i.id, i.task) for i in r.instances] for r in r.routes}
    assert routes["GET /leader"] == [("leader-1", leader)]
    assert routes["GET /follower"] == [(follower, follower)]
    assert sorted(routes["GET /"]) == sorted([(leader, leader), (follower, follower)])
    assert [(e.kind, e.state) for e in r.egress_parts] == [("NAT instance", "running")]
    assert r.alarm_state == "OK"
    text = status.render(r)
    assert f"lease: holder {leader}, term 1, expires in 8 s" in text
    assert "verdict: routing agrees with the lease" in text
    assert text.endswith("healthy: no problems found\n")


def test_one_call_per_kind_per_service_and_tasks_in_one_batch(world: World) -> None:
    """The dev stack's shape: 3 services (1 elected), 3 routes, a NAT instance, the alarm."""
    assert report(world).calls == {
        "ecs:DescribeServices": 1,  # 3 services in one call (10 a call)
        "ecs:ListTasks": 1,  # the cluster's tasks, matched by group
        "ecs:DescribeTasks": 1,  # 5 tasks in one call (100 a call)
        "servicediscovery:ListInstances": 4,  # 3 services + 1 roles service
        "servicediscovery:GetInstancesHealthStatus": 3,
        "servicediscovery:GetNamespace": 1,
        "servicediscovery:DiscoverInstances": 3,  # one per route
        "dynamodb:BatchGetItem": 1,  # every lease item in one consistent read
        "cloudwatch:DescribeAlarms": 1,
        "ec2:DescribeInstances": 1,
        "ec2:DescribeInstanceStatus": 1,
    }


def test_describe_tasks_goes_in_batches_of_100(world: World) -> None:
    aws = Aws(REGION, session())
    gather = status._Gather(StatusTargets.parse(world.outputs, STACK), aws)
    assert gather.tasks([f"{n:032x}" for n in range(250)]) == []  # none exist (gone)
    assert aws.calls == {"ecs:DescribeTasks": 3}


# -- the election's disagreements, each built as it happens --------------------------------------------------


def test_two_leader_instances(world: World) -> None:
    leader, follower = world.tasks[ELECTED]
    world.register_role("leader-2", follower, leader=True, term=2)
    verdict = election_verdict(world)
    assert (
        verdict[0]
        == f"2 leader instances: leader-1 (task {leader}), leader-2 (task {follower}); GET /leader reaches each of them"
    )
    assert (
        f"leader instance leader-2 (task {follower}) is not the lease holder: task {leader} holds it (term 1)"
        in verdict
    )


def test_a_leader_instance_whose_task_stopped_or_is_gone(world: World) -> None:
    leader, _ = world.tasks[ELECTED]
    world.stop_task(ELECTED, leader)
    assert f"leader instance leader-1 is for task {leader}, which is stopped" in election_verdict(world)
    world.register_role("leader-7", "0123456789abcdef0123456789abcdef", leader=True, term=7)
    assert (
        "leader instance leader-7 is for task 0123456789abcdef0123456789abcdef, which ECS no longer knows (gone)"
        in election_verdict(world)
    )


def test_a_running_task_missing_from_the_roles_service(world: World) -> None:
    newcomer = world.start_task(ELECTED)
    assert election_verdict(world) == [f"running task {newcomer} is missing from the roles service"]


def test_the_leader_instance_is_not_the_lease_holder(world: World) -> None:
    leader, follower = world.tasks[ELECTED]
    world.lease(follower, term=2)
    assert election_verdict(world) == [
        f"leader instance leader-1 (task {leader}) is not the lease holder: task {follower} holds it (term 2)",
        f"the lease holder, task {follower} (term 2), has no leader instance",
    ]


def test_an_expired_lease_leaves_the_leader_instance_without_a_holder(world: World) -> None:
    leader, _ = world.tasks[ELECTED]
    world.lease(leader, expires_ms=NOW_MS - 1_000)
    assert election_verdict(world) == [
        f"leader instance leader-1 (task {leader}) is not the lease holder: nobody holds a valid lease "
        f"(task {leader}'s term 1 expired 1 s ago)"
    ]


def test_a_service_without_a_port_is_read_without_cloud_map(world: World) -> None:
    """A queue worker has no Cloud Map service (statusTargets says null): its tasks show, and no Cloud Map call is
    made for it, so none can fail."""
    worker = "worker"
    outputs = world.outputs
    outputs["statusTargets"]["services"][worker]["cloudMapServiceId"] = None
    aws = Aws(REGION, session())
    asked: list[str] = []
    cloud_map = aws.client("servicediscovery")
    cloud_map.meta.events.register(
        "before-call.servicediscovery.*", lambda params, **_: asked.append(params.get("ServiceId", ""))
    )
    r = status.report_for(outputs, STACK, aws=aws, now=NOW)
    (view,) = [s for s in r.services if s.name == worker]
    assert (len(view.tasks), view.instances, view.problems) == (2, (), ())
    assert world.cloud_map_ids[worker] not in asked
    assert asked  # the other services' Cloud Map services were read


def test_the_lease_shows_the_tasks_that_are_stopping(world: World) -> None:
    """A task that got SIGTERM marks itself in the lease item (the app's own LeaseStore), and status shows it."""
    leader, follower = world.tasks[ELECTED]
    LeaseStore(client("dynamodb"), table=TABLE, name=ELECTED).mark_stopping(me=follower)
    r = report(world)
    app = next(s for s in r.services if s.name == ELECTED)
    assert app.election is not None
    assert app.election.lease is not None
    assert (app.election.lease.holder, app.election.lease.stopping) == (leader, (follower,))
    assert f"lease: holder {leader}, term 1, expires in 8 s, stopping: {follower}" in status.render(r)


def test_an_instance_for_a_stopped_task(world: World) -> None:
    _, follower = world.tasks[ELECTED]
    world.stop_task(ELECTED, follower)  # and nobody deregistered its instances
    r = report(world)
    assert f"{ELECTED}: election: instance {follower} is for task {follower}, which is stopped" in r.problems
    assert f"{ELECTED}: Cloud Map instance {follower} is for task {follower}, which is stopped" in r.problems


# -- the rest of what can be wrong ---------------------------------------------------------------------------


def test_a_failed_rollout_and_missing_tasks(world: World) -> None:
    service = world.ecs_service("worker")
    service.running_count = 1
    service.deployments[0].update(
        rolloutState="FAILED",
        failedTasks=3,
        rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
    )
    r = report(world)
    worker = next(s for s in r.services if s.name == "worker")
    assert (worker.rollout_state, worker.failed_tasks) == ("FAILED", 3)
    assert r.problems == [
        "worker: 1 of 2 desired tasks running",
        "worker: the deployment failed: ECS deployment circuit breaker: tasks failed to start.",
    ]
    assert "rollout FAILED, 3 failed tasks (ECS deployment circuit breaker" in status.render(r)


def test_unhealthy_containers_and_instances(world: World) -> None:
    task = world.tasks["cache"][0]
    world.ecs_task(task).health_status = "UNHEALTHY"
    client("servicediscovery", region_name=REGION).update_instance_custom_health_status(
        ServiceId=world.cloud_map_ids["cache"], InstanceId=task, Status="UNHEALTHY"
    )
    assert report(world).problems == [
        f"cache: task {task} is UNHEALTHY (container health check)",
        f"cache: Cloud Map instance {task} is UNHEALTHY",
    ]


def test_a_route_with_nothing_to_reach_answers_503(world: World) -> None:
    world.deregister(world.roles_id, "leader-1")
    problems = report(world).problems
    assert "route GET /leader: DiscoverInstances returns no instance: API Gateway answers 503" in problems


def test_the_alarm_and_the_nat_instance(world: World) -> None:
    client("cloudwatch", region_name=REGION).set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="5xx")
    client("ec2", region_name=REGION).stop_instances(InstanceIds=[world.nat_instance])
    assert report(world).problems == [
        f"egress {world.nat_instance}: NAT instance is stopped",
        f"alarm {ALARM} is in ALARM (5xx answers over its threshold)",
    ]


def test_nat_gateways_are_read_by_vpc(aws_env: None) -> None:
    with mock_aws():
        world = build_world(egress="natGateway")
        ec2 = client("ec2", region_name=REGION)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        gateway = ec2.create_nat_gateway(SubnetId=world.subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
        r = report(world)
    assert [(e.id, e.kind, e.state, e.problem) for e in r.egress_parts] == [(gateway, "NAT gateway", "available", None)]
    assert "ec2:DescribeInstances" not in r.calls


# -- the command ---------------------------------------------------------------------------------------------


def write_outputs(tmp_path: Path, outputs: Any) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path


def test_the_command_reads_an_outputs_file_and_exits_by_the_verdict(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_outputs(tmp_path, world.outputs)
    assert main(["status", "-s", STACK, "--outputs", str(path)]) == 0
    assert "healthy: no problems found" in capsys.readouterr().out
    world.stop_task("worker", world.tasks["worker"][0])
    world.ecs_service("worker").running_count = 1
    assert main(["status", "-s", STACK, "--outputs", str(path), "--json"]) == errors.EXIT_UNHEALTHY == 10
    document = json.loads(capsys.readouterr().out)
    assert "worker: 1 of 2 desired tasks running" in document["problems"]
    assert document["calls"]["ecs:DescribeServices"] == 1


def test_the_command_reads_outputs_through_the_automation_api(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Stack:
        name = STACK

        def outputs(self) -> dict[str, Any]:
            return world.outputs

    monkeypatch.setattr(automation, "open_stack", lambda stack, work_dir, create: Stack())
    assert main(["status", "-s", STACK]) == 0
    assert "verdict: routing agrees with the lease" in capsys.readouterr().out


def test_watch_says_for_how_long_a_problem_has_lasted(world: World) -> None:
    world.ecs_service("worker").running_count = 1
    out, now = io.StringIO(), [NOW]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    code = status.show(
        world.outputs,
        STACK,
        out,
        watch=5,
        rounds=3,
        sleep=sleep,
        clock=lambda: now[0],
        aws=lambda: Aws(REGION, session()),
    )
    assert code == errors.EXIT_UNHEALTHY
    reports = out.getvalue().split("--- ")[1:]
    assert "  - worker: 1 of 2 desired tasks running\n" in reports[0]
    assert "  - worker: 1 of 2 desired tasks running (for 10 s)\n" in reports[2]


def test_watch_prints_again_after_each_interval(world: World) -> None:
    out, slept = io.StringIO(), list[float]()
    code = status.show(
        world.outputs, STACK, out, watch=5, rounds=3, sleep=slept.append, aws=lambda: Aws(REGION, session())
    )
    assert (code, slept) == (0, [5, 5])
    assert out.getvalue().count("--- ") == 3
    assert out.getvalue().count("healthy: no problems found") == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ('["a"]', "not the outputs of `pulumi stack output --json --show-secrets`"),
        ('{"apiUrl": {"secret": true}}', "not the outputs of `pulumi stack output --json --show-secrets`"),
        ("{}", "has no outputs: it was never deployed (run `mapgate up -s dev`)"),
        ('{"apiUrl": "https://x"}', "has no statusTargets output: it was deployed by an older mapgate"),
        ('{"statusTargets": {"version": 1}}', "the statusTargets output is not what this mapgate wrote"),
    ],
)
def test_a_bad_outputs_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(content)
    assert main(["status", "--outputs", str(path)]) == errors.EXIT_USAGE
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert err.startswith("error: ")


def test_an_unknown_stack_is_exit_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def no_such(stack: str, work_dir: Path, create: bool) -> Any:
        raise errors.UsageError(f"stack {stack!r} does not exist; stacks: dev, prod. Pass --create to create it")

    monkeypatch.setattr(automation, "open_stack", no_such)
    assert main(["status", "-s", "nosuch"]) == errors.EXIT_USAGE
    assert capsys.readouterr().err == (
        "error: stack 'nosuch' does not exist; stacks: dev, prod. Pass --create to create it\n"
    )


def test_no_credentials_is_exit_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no wait for an instance role that is not there
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    targets = {"version": 1, "cluster": "c", "namespaceId": "ns-1", "vpcId": "vpc-1", "egress": "publicIp"}
    targets |= {"errorAlarm": None, "services": {}, "routes": {}}
    path = write_outputs(tmp_path, {"region": REGION, OUTPUT: targets})
    assert main(["status", "--outputs", str(path)]) == errors.EXIT_NO_AWS_CREDENTIALS
    assert capsys.readouterr().err.startswith("error: no usable AWS credentials. Set AWS_PROFILE")


def test_a_missing_permission_names_the_action(
    world: World, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """moto enforces IAM here: a user allowed everything but ecs:DescribeTasks."""
    iam = client("iam", region_name=REGION)
    iam.create_user(UserName="operator")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "ecs:DescribeTasks", "Resource": "*"},
        ],
    }
    arn = iam.create_policy(PolicyName="ops", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="operator", PolicyArn=arn)
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    session = boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=REGION
    )

    @set_initial_no_auth_action_count(0)
    def as_operator() -> None:
        status.report_for(world.outputs, STACK, aws=Aws(REGION, session), now=NOW)

    with pytest.raises(errors.MapgateError) as caught:
        as_operator()
    assert caught.value.exit_code == errors.EXIT_AWS_DENIED == 11
    assert str(caught.value).startswith("AWS denied ecs:DescribeTasks (")
    assert '"Action": ["ecs:DescribeTasks"]' in str(caught.value)


def test_the_shipped_stack_writes_what_status_reads(dev_run: StackRun) -> None:
    """Both ends of the statusTargets output: the dev stack's, under mocks, parses and names the real parts."""
    targets = StatusTargets.parse(dev_run.outputs, "dev")
    assert targets.cluster == dev_run.outputs["clusterName"]
    assert sorted(targets.services) == ["app", "cache", "worker"]
    app = targets.services["app"]
    assert app.log_group == naming.log_group_name("dev", "app")
    assert app.election is not None
    assert (app.election.lease_table, app.election.roles_service_name) == ("mapgate-dev-leases", "app_roles")
    assert {key: (r.cloud_map_service, dict(r.filter)) for key, r in targets.routes.items()} == {
        "GET /": ("app", {}),
        "GET /follower": ("app_roles", {"leader": "false"}),
        "GET /leader": ("app_roles", {"leader": "true"}),
    }
    assert targets.egress == "natInstance"
    assert targets.services["cache"].election is None


def test_ctrl_c_before_the_first_report_is_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> status.Report:
        raise KeyboardInterrupt

    monkeypatch.setattr(status, "report_for", interrupted)
    assert status.show({}, STACK, io.StringIO()) == errors.EXIT_CANCELLED == 130


def test_status_reads_the_names_the_app_writes() -> None:
    """The app ships without mapgate, so status repeats what it reads of the app's writes; these must agree."""
    from mapgate_app import election, lease

    assert (status.LEADER_PREFIX, status.OWNER, status.TERM, status.IPV4) == (
        election.LEADER_PREFIX,
        election.OWNER,
        election.TERM,
        election.IPV4,
    )
    assert lease.LeaseStore(None, table="t", name="app")._key() == {"name": {"S": "app"}}  # the key batch reads
