"""A service without a port (a queue worker): no Cloud Map service, no DNS name, no ingress, no route."""

from __future__ import annotations

from typing import Any

import pytest

from mapgate import contract, naming
from mapgate import resource_types as types
from mapgate.cli.diagram import mermaid, topology
from mapgate.cli.inventory import Inventory
from mapgate.cli.plan import describe
from mapgate.config import ConfigError, parse_config
from mapgate.offline import StackRun
from tests.harness import FIREWALL, changed, containers, run_stack, with_prefix

WORKER = {"image": "public.ecr.aws/docker/library/python:3.12", "command": ["python", "-m", "worker"]}


def with_worker(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return changed("dev", ["services", "worker"], {**WORKER, **(extra or {})})


@pytest.fixture(scope="module")
def run() -> StackRun:
    return run_stack(with_prefix(with_worker()), stack="dev")


def test_a_worker_gets_no_cloud_map_service_and_no_ingress(run: StackRun) -> None:
    discovered = {r.inputs["name"] for r in run.of_type(types.DISCOVERY_SERVICE)}
    assert "worker" not in discovered
    assert "app" in discovered
    ingress = [r for r in run.of_type(types.INGRESS_RULE) if r.name.startswith(FIREWALL.group("worker"))]
    assert ingress == []
    assert run.inputs(types.SECURITY_GROUP, FIREWALL.group("worker"))  # its own group: egress only


def test_a_worker_task_has_no_port_mapping_health_check_or_registry(run: StackRun) -> None:
    (container,) = containers(run, "worker")
    assert container["portMappings"] == []
    assert "healthCheck" not in container
    assert contract.ENV_PORT not in {e["name"] for e in container["environment"]}
    ecs = run.inputs(types.ECS_SERVICE, naming.ServiceChildren("worker").ecs_service)
    assert ecs.get("serviceRegistries") is None
    assert ecs.get("healthCheckGracePeriodSeconds") is None


def test_plan_and_picture_read_a_worker(run: StackRun) -> None:
    inventory = Inventory.read(run)
    (worker,) = [s for s in inventory.services if s.name == "worker"]
    assert (worker.port, worker.records, worker.ttl, worker.discovery) == (None, [], None, None)
    text = mermaid(topology(inventory, "dev"))
    assert "worker × 2<br/>arm64 FARGATE 256/512 no port" in text
    assert "Cloud Map worker." not in text
    line = describe(
        types.TASK_DEFINITION, run.inputs(types.TASK_DEFINITION, naming.ServiceChildren("worker").task_definition)
    )
    assert "no port" in line
    assert "no health check" in line


@pytest.mark.parametrize(
    ("extra", "key", "says"),
    [
        ({"records": ["SRV"]}, "services.worker.records", "SRV records carry a port"),
        ({"leaderElection": True}, "services.worker.leaderElection", "the election reads its Cloud Map service"),
        ({"protocol": "grpc"}, "services.worker.protocol", "protocol describes the port"),
        ({"allowFrom": ["app"]}, "services.worker.allowFrom", "nothing can call it"),
    ],
)
def test_what_needs_a_port_is_rejected_without_one(extra: dict[str, Any], key: str, says: str) -> None:
    config = with_worker(extra)
    if "records" in extra:  # gRPC needs A records too; keep the one problem under test
        config["services"]["worker"]["records"] = ["A", "SRV"]
    with pytest.raises(ConfigError) as caught:
        parse_config(config, stack="dev")
    assert any(p.startswith(key) and says in p for p in caught.value.problems), caught.value.problems


def test_a_service_with_a_port_still_needs_a_health_check() -> None:
    config = changed("dev", ["services", "worker"], {**WORKER, "port": 9000})
    with pytest.raises(ConfigError) as caught:
        parse_config(config, stack="dev")
    assert [p.split(":")[0] for p in caught.value.problems] == ["services.worker.healthCheck"]


def test_a_worker_registers_no_cloud_map_instance_in_the_cost(run: StackRun) -> None:
    from mapgate.cli.cost import estimate

    inventory = Inventory.read(run)
    (item,) = [i for i in estimate(inventory).items if i.name == "Cloud Map registered instances"]
    listening = sum(s.tasks for s in inventory.services if s.port is not None)
    roles = sum(s.tasks + 1 for s in inventory.services if s.election_interval)  # the election's role instances
    assert item.quantity == listening + roles
