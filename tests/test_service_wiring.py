"""How the stacks wire service to service: the gRPC worker, the SRV-only cache, and what the app is told.

The loopback side (real gRPC, DNS and Redis) is tests/test_service_to_service.py; this side checks what the
task definitions, Cloud Map services and security groups say, under Pulumi mocks.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from mapgate import aws_facts, contract
from mapgate import resource_types as types
from mapgate.cli.inventory import container_definitions
from mapgate_app.settings import DNS_TTL_SECONDS, GrpcTiming
from tests.harness import (
    FIREWALL,
    ROOT,
    StackRun,
    changed,
    children,
    containers,
    environment,
    run_stack,
    with_prefix,
)
from tests.test_structure import pins

# ECR Public's mirror of the Docker official image, on a pinned patch tag.
OFFICIAL_REDIS = re.compile(r"^public\.ecr\.aws/docker/library/redis:7\.2\.\d+-alpine(@sha256:[0-9a-f]{64})?$")


def test_the_worker_is_the_app_image_run_as_grpc(any_run: StackRun) -> None:
    (app,) = containers(any_run, "app")
    (worker,) = containers(any_run, "worker")
    assert worker["image"] == app["image"]  # one image, two commands
    assert worker["command"] == ["python", "-m", "mapgate_app.worker"]
    assert "command" not in app  # the app runs the image's CMD
    assert (ROOT / "app" / "mapgate_app" / "worker.py").is_file()
    assert worker["portMappings"][0]["appProtocol"] == "grpc"
    assert "appProtocol" not in app["portMappings"][0]


def test_the_grpc_timings_fit_the_stack(any_run: StackRun) -> None:
    """The production defaults against what the stack deploys: the worker's TTL, and ECS's kill after SIGTERM."""
    timing = GrpcTiming()
    (record,) = any_run.inputs(types.DISCOVERY_SERVICE, "discovery-worker")["dnsConfig"]["dnsRecords"]
    assert record["ttl"] == DNS_TTL_SECONDS
    assert timing.min_resolution_ms == DNS_TTL_SECONDS * 1000
    # Still serving while a resolver may hand out the task's address: the TTL, and some propagation.
    assert timing.drain_seconds > DNS_TTL_SECONDS
    # Failing health, serving, then the grace for in-flight calls, all before ECS kills the container.
    (worker,) = containers(any_run, "worker")
    assert "stopTimeout" not in worker
    assert timing.drain_seconds + timing.max_age_grace_ms / 1000 < aws_facts.FARGATE_DEFAULT_STOP_TIMEOUT_SECONDS
    # A new task is used within about max age x 1.1 + TTL: well under a minute.
    assert timing.max_age_ms * 1.1 / 1000 + DNS_TTL_SECONDS < 60


def test_the_app_is_told_its_peers_and_only_the_app(any_run: StackRun) -> None:
    namespace = any_run.outputs["namespaceName"]
    app = environment(any_run, "app")
    assert app[contract.ENV_GRPC_PEERS] == f"worker=dns:///worker.{namespace}:8080"
    assert app[contract.ENV_SRV_PEERS] == f"cache=cache.{namespace}"
    for other in ("worker", "cache"):
        assert contract.ENV_GRPC_PEERS not in environment(any_run, other)
        assert contract.ENV_SRV_PEERS not in environment(any_run, other)


def test_a_peer_that_does_not_allow_the_caller_is_not_offered() -> None:
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "allowFrom"], [])))
    assert contract.ENV_GRPC_PEERS not in environment(run, "app")
    assert environment(run, "app")[contract.ENV_SRV_PEERS] == "cache=cache.dev.mapgate.internal"


def test_the_cache_is_the_official_redis_image_found_by_srv_only(any_run: StackRun) -> None:
    (cache,) = containers(any_run, "cache")
    assert OFFICIAL_REDIS.match(cache["image"]), cache["image"]
    assert cache["command"] == ["redis-server", "--save", "", "--appendonly", "no"]
    assert cache["readonlyRootFilesystem"] is True
    # Its health check is the image's own CLI: no probe of ours inside someone else's image.
    assert cache["healthCheck"]["command"] == ["CMD-SHELL", "redis-cli ping | grep -q PONG"]
    assert cache["portMappings"] == [{"containerPort": 6379, "protocol": "tcp", "name": "cache-6379"}]
    discovery = any_run.inputs(types.DISCOVERY_SERVICE, "discovery-cache")
    assert discovery["dnsConfig"]["dnsRecords"] == [{"type": "SRV", "ttl": 10}]
    registry = any_run.inputs(types.ECS_SERVICE, children("cache").ecs_service)["serviceRegistries"]
    assert (registry["containerName"], registry["containerPort"]) == ("cache", 6379)
    assert [i.inputs["context"] for i in any_run.of_type(types.IMAGE)] == ["app"]  # nothing built for the cache


def test_only_the_app_reaches_the_cache_and_no_route_does(any_run: StackRun) -> None:
    cache_group = any_run.one(types.SECURITY_GROUP, FIREWALL.group("cache")).id
    ingress = [r.inputs for r in any_run.of_type(types.INGRESS_RULE) if r.inputs["securityGroupId"] == cache_group]
    app_group = any_run.one(types.SECURITY_GROUP, FIREWALL.group("app")).id
    assert [(r["referencedSecurityGroupId"], r["fromPort"], r["toPort"]) for r in ingress] == [(app_group, 6379, 6379)]
    integrations = any_run.of_type(types.INTEGRATION)
    cache_arn = any_run.one(types.DISCOVERY_SERVICE, "discovery-cache").state["arn"]
    assert integrations
    assert all(cache_arn not in i.inputs["integrationUri"] for i in integrations)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_run_one_cache_task(stack: str, dev_run: StackRun, prod_run: StackRun) -> None:
    run = dev_run if stack == "dev" else prod_run
    inputs = run.inputs(types.ECS_SERVICE, children("cache").ecs_service)
    assert inputs["desiredCount"] == 1
    task = run.inputs(types.TASK_DEFINITION, children("cache").task_definition)
    assert task["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert len(container_definitions(task)) == 1


# --- the image build and its pins ---------------------------------------------------------------------------


def test_the_image_generates_the_grpc_code_in_a_build_stage() -> None:
    dockerfile = (ROOT / "app" / "Dockerfile").read_text().splitlines()
    assert "FROM python:3.12-slim AS protos" in dockerfile
    assert "RUN pip install --no-cache-dir -r build-requirements.txt" in dockerfile
    assert "RUN python generate_protos.py" in dockerfile
    copied = [line for line in dockerfile if line.startswith("COPY --from=protos ")]
    assert copied == ["COPY --from=protos /build/mapgate_app/*_pb2.py /build/mapgate_app/*_pb2_grpc.py ./mapgate_app/"]
    # A local, possibly stale, copy of the generated code never reaches the image, nor the repository.
    ignored = (ROOT / "app" / ".dockerignore").read_text().splitlines()
    assert {"mapgate_app/*_pb2.py", "mapgate_app/*_pb2_grpc.py"} <= set(ignored)
    assert "app/mapgate_app/*_pb2.py" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_image_pins_what_the_tests_run() -> None:
    dev = pins("requirements-dev.txt")
    for requirements in ("app/requirements.txt", "app/build-requirements.txt"):
        pinned = pins(requirements)
        assert pinned
        assert {name: dev.get(name) for name in pinned} == pinned, requirements
    assert set(pins("app/requirements.txt")) >= {"grpcio", "grpcio-health-checking", "protobuf", "dnspython", "redis"}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    assert any(spec.startswith("dnslib") for spec in declared)
