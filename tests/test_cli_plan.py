"""`mapgate plan`: tree, cost (against figures computed by hand), findings, picture and Mermaid text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pulumi
import pytest
import yaml
from PIL import Image

from mapgate.cli.cost import Usage
from mapgate.cli.diagram import mermaid, png, topology
from mapgate.cli.inventory import Inventory
from mapgate.cli.main import main
from mapgate.cli.plan import Plan, make_plan, render
from tests.harness import ROOT, changed, run_stack, with_prefix

MERMAID = ROOT / "tests" / "mermaid"


@pytest.fixture(scope="module")
def dev_plan() -> Plan:
    return make_plan(ROOT, "dev")


@pytest.fixture(scope="module")
def prod_plan() -> Plan:
    return make_plan(ROOT, "prod")


def test_tree_holds_every_component_and_the_settings_that_matter(dev_plan: Plan) -> None:
    text = render(dev_plan)
    for expected in [
        "stack dev in us-east-1: 64 resources",
        "├─ network  [Network]",
        "NAT None · public 10.0.0.0/18, 10.0.64.0/18 · private 10.0.128.0/18, 10.0.192.0/18",
        "discovery-app  [servicediscovery.Service]  app: A+SRV · TTL 10 · MULTIVALUE · custom health",
        "discovery-worker  [servicediscovery.Service]  worker: A · TTL 10 · MULTIVALUE · custom health",
        "app-service  [ecs.Service]  3 tasks · FARGATE_SPOT · public IP · Cloud Map :8080 · grace 15s",
        "worker-service  [ecs.Service]  2 tasks · FARGATE_SPOT · public IP · Cloud Map · grace 15s",
        "port 8080/grpc · runs python -m mapgate_app.worker · health python -m mapgate_app.grpc_health every 5s",
        "discovery-cache  [servicediscovery.Service]  cache: SRV · TTL 10 · MULTIVALUE · custom health",
        "cache-service  [ecs.Service]  1 task · FARGATE_SPOT · public IP · Cloud Map :6379 · grace 10s",
        "port 6379 · runs redis-server --save '' --appendonly no · health redis-cli ping | grep -q PONG every 5s",
        "firewall-cache_from_app  [vpc.SecurityGroupIngressRule]  ingress tcp/6379: app calls cache",
        "health python -m mapgate_app.healthcheck every 5s, timeout 3s, 3 retries, start 15s",
        "api-get-leader  [apigatewayv2.Integration]  GET /leader -> app ?leader=true",
        "api-get-follower  [apigatewayv2.Integration]  GET /follower -> app ?leader=false",
        "election-lease_table  [dynamodb.Table]  mapgate-dev-leases · lease per elected service · PAY_PER_REQUEST",
        "election-app_roles  [servicediscovery.Service]  app_roles: the lease holder (leader=true) and the others",
        "api-stage  [apigatewayv2.Stage]  $default · auto-deploy · 20 rps, burst 40",
        "firewall-worker_from_app  [vpc.SecurityGroupIngressRule]  ingress tcp/8080: app calls worker",
        "api-vpc-link  [apigatewayv2.VpcLink]  2 subnets · immutable: other subnets or groups replace it",
        "validation: ok",
        "advisories (valid, but worth knowing):\n  the 5xx alarm notifies a topic this stack creates, and no one",
    ]:
        assert expected in text, expected
    # every registered resource appears once in the tree
    assert text.count("  [") == len(dev_plan.checked()[0].registrations)


def test_prod_pages_someone_so_it_has_no_advisory(prod_plan: Plan) -> None:
    assert "advisories (valid, but worth knowing):\n  none\n" in render(prod_plan)


def test_prod_tree_shows_nat_per_az_and_private_tasks(prod_plan: Plan) -> None:
    text = render(prod_plan)
    assert "NAT OnePerAz" in text
    assert "3 tasks · FARGATE · private · Cloud Map :8080" in text
    assert "Container Insights enabled" in text


def _by_name(plan: Plan) -> dict[str, float]:
    return {item.name: item.usd for item in plan.checked()[1].items}


# Both stacks elect on app (3 tasks): a round every 2 s is 1,314,000 rounds a month. 6 ECS instances (app 3,
# worker 2, cache 1) plus 3 role instances and the leader's; the holder's 2 DiscoverInstances every 3 rounds;
# 2 lease reads and 1 write a round.
ROUNDS = 730 * 3600 / 2
ELECTION = {
    "Cloud Map registered instances": (6 + 4) * 0.10,
    "Cloud Map discovery calls (leader election)": 2 * ROUNDS / 3 / 1e6 * 1.00,
    "DynamoDB lease reads (leader election)": 2 * ROUNDS / 1e6 * 0.125,
    "DynamoDB lease writes (leader election)": ROUNDS / 1e6 * 0.625,
}


def test_dev_cost_matches_hand_computed_figures(dev_plan: Plan) -> None:
    # 6 tasks (app 3 + worker 2 + cache 1) x 0.25 vCPU / 0.5 GB, ARM64 Spot at 70 % off, 730 h; public IP per task.
    expected = {
        "Fargate arm64 Spot (70% off, assumed) vCPU": 6 * 0.25 * 730 * 0.03238 * 0.3,
        "Fargate arm64 Spot (70% off, assumed) memory": 6 * 0.5 * 730 * 0.00356 * 0.3,
        "Public IPv4 addresses": 6 * 730 * 0.005,
        **ELECTION,
        "Route 53 private hosted zone": 0.50,
        "HTTP API requests": 1.00,
        "CloudWatch Logs ingestion": 0.50,
    }
    assert _by_name(dev_plan) == pytest.approx(expected)
    assert dev_plan.checked()[1].total_usd == pytest.approx(sum(expected.values()))
    assert dev_plan.checked()[1].total_usd == pytest.approx(39.901485)


def test_prod_cost_matches_hand_computed_figures(prod_plan: Plan) -> None:
    # 3 NAT gateways (one per AZ) with their EIPs; app 3 x 0.5/1 GB + worker 2 + cache 1 x 0.25/0.5 GB on demand.
    expected = {
        "NAT gateways": 3 * 730 * 0.045,
        "NAT data processed": 10 * 0.045,
        "Fargate arm64 on demand vCPU": (3 * 0.5 + 3 * 0.25) * 730 * 0.03238,
        "Fargate arm64 on demand memory": (3 * 1 + 3 * 0.5) * 730 * 0.00356,
        "Public IPv4 addresses": 3 * 730 * 0.005,
        **ELECTION,
        "Route 53 private hosted zone": 0.50,
        "HTTP API requests": 1.00,
        "CloudWatch Logs ingestion": 0.50,
    }
    assert _by_name(prod_plan) == pytest.approx(expected)
    assert prod_plan.checked()[1].total_usd == pytest.approx(179.8546)


def test_usage_assumptions_change_the_estimate() -> None:
    plan = make_plan(ROOT, "dev", Usage(api_requests_millions=50, log_gb=4, spot_discount=0.0))
    costs = _by_name(plan)
    assert costs["HTTP API requests"] == pytest.approx(50.0)
    assert costs["CloudWatch Logs ingestion"] == pytest.approx(2.0)
    assert costs["Fargate arm64 Spot (0% off, assumed) vCPU"] == pytest.approx(6 * 0.25 * 730 * 0.03238)


def test_cost_lines_total_is_the_sum_and_cites_the_prices(dev_plan: Plan) -> None:
    text = render(dev_plan)
    assert f"total {dev_plan.checked()[1].total_usd:>80.2f}".split()[-1] in text
    assert "prices: us-east-1 USD, collected 2026-11-22" in text
    assert "not included:" in text


def _project_with(tmp_path: Path, stack: str, config: dict[str, object]) -> Path:
    shutil.copy(ROOT / "__main__.py", tmp_path / "__main__.py")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_findings_are_the_messages_pulumi_up_prints(tmp_path: Path) -> None:
    config = changed("dev", ["services", "app", "port"], 0)
    config["services"]["worker"]["capacity"] = "cheap"
    for svc in config["services"].values():
        svc["image"] = "public.ecr.aws/nginx/nginx:1.27"
    config = with_prefix(config)
    plan = make_plan(_project_with(tmp_path, "bad", config), "bad")
    with pytest.raises(pulumi.RunError) as up:
        run_stack(config)
    assert not plan.ok
    assert plan.findings == str(up.value).splitlines()
    assert render(plan).splitlines()[1:] == str(up.value).splitlines()
    assert main(["plan", "-s", "bad", "--project-dir", str(tmp_path), "--out", str(tmp_path / "out")]) == 8
    assert not (tmp_path / "out").exists()


def test_a_missing_stack_file_is_a_finding() -> None:
    plan = make_plan(ROOT, "staging")
    assert plan.findings == [f"no stack file Pulumi.staging.yaml in {ROOT}"]


def test_plan_command_writes_a_valid_png_and_mermaid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-s", "dev", "--project-dir", str(ROOT), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "monthly cost estimate:" in printed
    picture = tmp_path / "dev.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(picture) as image:
        image.verify()
    with Image.open(picture) as image:
        assert image.format == "PNG"
        assert image.size[0] >= 1000
        assert image.size[1] >= 400
        assert len(image.getcolors(maxcolors=1 << 16) or []) > 2  # something is drawn
    assert (tmp_path / "dev.mmd").read_text().startswith("flowchart LR")


def test_bad_usage_flags_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as caught:  # by argparse, with the flag's name (tests/test_cli_output.py)
        main(["plan", "--spot-discount", "1.5", "--out", str(tmp_path)])
    assert caught.value.code == 2
    assert not tmp_path.joinpath("dev.png").exists()


def _parse_mermaid(text: str) -> subprocess.CompletedProcess[str]:
    assert (MERMAID / "node_modules" / "mermaid").is_dir(), "run `npm ci --prefix tests/mermaid` first"
    return subprocess.run(
        ["node", str(MERMAID / "parse.mjs")], input=text, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_mermaid_text_parses_as_a_flowchart(stack: str, dev_plan: Plan, prod_plan: Plan) -> None:
    plan = dev_plan if stack == "dev" else prod_plan
    text = mermaid(topology(Inventory.read(plan.checked()[0]), stack))
    result = _parse_mermaid(text)
    assert result.returncode == 0, result.stderr
    assert '"diagramType":"flowchart-v2"' in result.stdout
    for route in ('"GET /leader ?leader=true"', '"GET /follower ?leader=false"', '"GET /"'):
        assert f"link -->|{route}| tasks_app" in text
    assert f'tasks_app -->|"worker.{stack}.mapgate.internal"| tasks_worker' in text


def test_the_mermaid_check_rejects_broken_text() -> None:
    assert _parse_mermaid("flowchart LR\n  a -->|dangling|\n").returncode == 1


def test_topology_reads_routes_filters_and_peers(dev_plan: Plan, tmp_path: Path) -> None:
    topo = topology(Inventory.read(dev_plan.checked()[0]), "dev")
    assert [(r.route_key, r.service, r.query) for r in topo.routes] == [
        ("GET /", "app", ""),
        ("GET /follower", "app", "leader=false"),
        ("GET /leader", "app", "leader=true"),
    ]
    assert topo.peers == [("app", "cache"), ("app", "worker")]
    assert [(s.name, s.tasks, s.records, s.leader_election) for s in topo.services] == [
        ("app", 3, "A+SRV", True),
        ("cache", 1, "SRV", False),
        ("worker", 2, "A", False),
    ]
    assert png(topo, tmp_path / "x.png").stat().st_size > 10_000


def test_readme_shows_the_current_dev_picture(dev_plan: Plan) -> None:
    """Regenerate with `mapgate plan -s dev --out docs` and paste docs' Mermaid into the README."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == mermaid(topology(Inventory.read(dev_plan.checked()[0]), "dev"))
    assert "](docs/architecture-dev.png)" in readme
    with Image.open(ROOT / "docs" / "architecture-dev.png") as image:
        image.verify()
