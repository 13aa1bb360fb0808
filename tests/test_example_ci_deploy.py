"""examples/ci_deploy.py, run as CI would, on a fake Pulumi engine and a deployed-like stack on moto."""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from moto import mock_aws
from pulumi import automation as auto

from mapgate import automation, errors
from mapgate.cli import call as calling
from mapgate.ops.aws import Aws
from tests.harness import FIXTURE_PROJECT, ROOT
from tests.ops_world import REGION, World, build_world, session
from tests.test_cli_automation import FakeStack, _replacing

ROUTES = {"GET /": "none", "GET /follower": "none", "GET /leader": "iam", "GET /orders/{id}": "none"}


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_deploy", ROOT / "examples" / "ci_deploy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXAMPLE = load_example()


class DeployedStack(FakeStack):
    """The fake engine's stack, whose outputs are the moto world's (as `pulumi up` would have left them)."""

    def __init__(self, name: str, world: World):
        super().__init__(name)
        self.world = world

    def outputs(self) -> dict[str, auto.OutputValue]:
        self.calls.append("outputs")
        values = {**self.world.outputs, "apiUrl": "https://api.example", "routeAuthorization": ROUTES}
        return {key: auto.OutputValue(value, False) for key, value in values.items()}


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield build_world()


class Harness:
    def __init__(self, world: World, *, status: int = 200):
        self.world = world
        self.stacks: list[DeployedStack] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.status = status
        self.slept: list[float] = []
        self.now = 0.0
        self.between_reads: list[Any] = []

    def engine(self, stack: str, work_dir: Path, create: bool) -> DeployedStack:
        assert (work_dir, create) == (FIXTURE_PROJECT, True)
        self.stacks.append(DeployedStack(stack, self.world))
        return self.stacks[-1]

    def transport(self, method: str, url: str, headers: Any) -> calling.Answer:
        self.requests.append((method, url, dict(headers)))
        return calling.Answer(self.status, "OK" if self.status < 400 else "Service Unavailable", [], b"{}")

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        if self.between_reads:
            self.between_reads.pop(0)()

    def run(self, *flags: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = EXAMPLE.main(
            ["-s", "dev", "--project-dir", str(FIXTURE_PROJECT), "--every", "15", *flags],
            out,
            err,
            engine=self.engine,
            check_builder=lambda work_dir, stack: None,
            aws=Aws(REGION, session()),
            transport=self.transport,
            clock=lambda: self.now,
            sleep=self.sleep,
        )
        return code, out.getvalue(), err.getvalue()


@pytest.fixture
def quick_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The offline plan is tested for real once (below); the other cases skip its 2 s."""
    planned = SimpleNamespace(run=SimpleNamespace(registrations=[1] * 91), cost=SimpleNamespace(total_usd=28.36))
    monkeypatch.setattr(automation, "plan", lambda name, work_dir=None: planned)


def test_a_deploy_that_goes_well(world: World) -> None:
    h = Harness(world)
    code, out, err = h.run()
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "plan: 92 resources, 28.36 USD/month",
        "preview: 48 same",
        "up: 48 create",
        "status: healthy",
        "smoke: GET / -> 200",
        "smoke: GET /follower -> 200",
        "smoke: GET /leader -> 200",
        "deployed",
    ]
    assert h.stacks[0].calls[:2] == ["preview", "preview"]  # the step, then up's own check for replacements
    assert "up" in h.stacks[0].calls
    assert [url for _, url, _ in h.requests] == [f"https://api.example{p}" for p in ("/", "/follower", "/leader")]
    assert h.requests[2][2]["Authorization"].startswith("AWS4-HMAC-SHA256 ")  # the iam route was signed


def test_it_waits_for_the_stack_to_become_healthy(world: World, quick_plan: None) -> None:
    worker = world.ecs_service("worker")
    worker.running_count = 1
    h = Harness(world)
    h.between_reads = [lambda: None, lambda: setattr(worker, "running_count", 2)]
    code, out, _ = h.run()
    assert code == 0
    assert out.count("status: 1 problem(s): worker: 1 of 2 desired tasks running") == 2
    assert h.slept == [15, 15]


def test_a_stack_that_stays_unhealthy_fails_with_exit_10(world: World, quick_plan: None) -> None:
    world.ecs_service("worker").running_count = 1
    h = Harness(world)
    code, _, err = h.run("--healthy-within", "40")
    assert code == errors.EXIT_UNHEALTHY
    assert err == "error: stack dev is not healthy after 40 s: worker: 1 of 2 desired tasks running\n"
    assert h.slept == [15, 15]
    assert h.requests == []  # no smoke test of an unhealthy stack


def test_an_unlisted_replacement_stops_before_the_update(world: World, quick_plan: None) -> None:
    h = Harness(world)
    original = h.engine

    def replacing(stack: str, work_dir: Path, create: bool) -> DeployedStack:
        made = original(stack, work_dir, create)
        _replacing(made)
        return made

    h.engine = replacing  # type: ignore[method-assign]
    code, out, err = h.run()
    assert code == errors.EXIT_REFUSED
    assert "replace urn:pulumi:dev::mapgate::mapgate:api:HttpApi$aws:apigatewayv2/vpcLink:VpcLink::api-vpc-link" in out
    assert err.startswith("error: stack dev was not updated: it would replace 1 resource(s) not allowed")
    assert "up" not in h.stacks[0].calls
    h.engine = replacing  # type: ignore[method-assign]
    assert h.run("--allow-replace", "api-vpc-link")[0] == 0


def test_a_failing_smoke_test_fails_the_deploy(world: World, quick_plan: None) -> None:
    code, _, err = Harness(world, status=503).run()
    assert code == errors.EXIT_FAILED
    assert err == "error: smoke test GET / answered 503 Service Unavailable\n"


def test_a_broken_config_stops_at_the_plan(world: World, tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  mapgate:services:\n    app: {image: x, port: 70000}\n")
    out, err = io.StringIO(), io.StringIO()
    code = EXAMPLE.main(["-s", "dev", "--project-dir", str(tmp_path)], out, err)
    assert code == errors.EXIT_INVALID_CONFIG
    assert err.getvalue().startswith("error: validation findings:")
    assert out.getvalue() == ""
