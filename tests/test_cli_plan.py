"""`mapgate plan`: tree, cost (against figures computed by hand), findings, picture and Mermaid text."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from PIL import Image

from mapgate import aws_facts
from mapgate import resource_types as types
from mapgate.cli.cost import Usage
from mapgate.cli.diagram import mermaid, png, topology
from mapgate.cli.inventory import Inventory, register_task_definition_request, request_bytes
from mapgate.cli.main import main
from mapgate.cli.plan import Plan, advisories, make_plan, render
from mapgate.cli.quotas import quota_findings
from mapgate.offline import Resource, StackRun
from tests.aws_models import request_errors
from tests.harness import FIXTURE_PROJECT, ROOT, changed, run_stack, with_prefix

MERMAID = ROOT / "tests" / "mermaid"


def test_tree_holds_every_component_and_the_settings_that_matter(dev_plan: Plan) -> None:
    text = render(dev_plan)
    for expected in [
        "stack dev in us-east-1: 92 resources",
        "├─ network  [Network]",
        "network-vpc  [ec2.Vpc]  10.0.0.0/16 · DNS support True, hostnames True",
        "network-public-1  [ec2.Subnet]  10.0.0.0/18 in us-east-1a · public IPs on launch",
        "network-public-2  [ec2.Subnet]  10.0.64.0/18 in us-east-1b · public IPs on launch",
        "network-private-1  [ec2.Subnet]  10.0.128.0/18 in us-east-1a\n",
        "network-private-2  [ec2.Subnet]  10.0.192.0/18 in us-east-1b\n",
        "network-public-1_default  [ec2.Route]  0.0.0.0/0 -> gatewayId network-igw-id",
        "network-private-2_default  [ec2.Route]  0.0.0.0/0 -> networkInterfaceId eni-network-nat-1-instance",
        "network-nat-1-instance  [ec2.Instance]  t4g.nano · source/dest check False · IMDS tokens required"
        " · no key pair · recovery default",
        "network-nat-1-from_vpc  [vpc.SecurityGroupIngressRule]  ingress all from 10.0.0.0/16",
        "network-s3  [ec2.VpcEndpoint]  Gateway com.amazonaws.us-east-1.s3 on 2 route tables",
        "discovery-app  [servicediscovery.Service]  app: A+SRV · TTL 10 · MULTIVALUE · custom health",
        "discovery-worker  [servicediscovery.Service]  worker: A · TTL 10 · MULTIVALUE · custom health",
        "app-service  [ecs.Service]  3 tasks · FARGATE_SPOT · private · Cloud Map :8080 · grace 15s",
        "worker-service  [ecs.Service]  2 tasks · FARGATE_SPOT · private · Cloud Map · grace 15s",
        "port 8080/grpc · runs python -m mapgate_app.worker · health python -m mapgate_app.grpc_health every 5s",
        "discovery-cache  [servicediscovery.Service]  cache: SRV · TTL 10 · MULTIVALUE · custom health",
        "cache-service  [ecs.Service]  1 task · FARGATE_SPOT · private · Cloud Map :6379 · grace 10s",
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
    for zone in (1, 2, 3):
        assert f"network-nat-{zone}  [ec2.NatGateway]" in text
        assert f"network-nat-{zone}_ip  [ec2.Eip]" in text
        assert f"network-private-{zone}_default  [ec2.Route]  0.0.0.0/0 -> natGatewayId network-nat-{zone}-id" in text
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

# What `mapgate plan` leaves out of the dev budget: the tasks themselves (compute and their Cloud Map instances).
TASK_ITEMS = ("Fargate", "Cloud Map registered instances")


def test_dev_cost_matches_hand_computed_figures(dev_plan: Plan) -> None:
    # 6 tasks (app 3 + worker 2 + cache 1) x 0.25 vCPU / 0.5 GB, ARM64 Spot at 70 % off, 730 h; private, behind one
    # t4g.nano NAT instance with an 8 GiB gp3 root volume and a public IPv4; the S3 gateway endpoint is free.
    expected = {
        "NAT instance network-nat-1 (t4g.nano)": 730 * 0.0042,
        "NAT instance network-nat-1 root volume (gp3)": 8 * 0.08,
        "Public IPv4 of network-nat-1": 730 * 0.005,
        "S3 gateway endpoint network-s3": 0.0,
        "Fargate arm64 Spot (70% off, assumed) vCPU": 6 * 0.25 * 730 * 0.03238 * 0.3,
        "Fargate arm64 Spot (70% off, assumed) memory": 6 * 0.5 * 730 * 0.00356 * 0.3,
        **ELECTION,
        "Route 53 private hosted zone": 0.50,
        "HTTP API requests": 1.00,
        "CloudWatch Logs ingestion": 0.50,
        "CloudWatch dashboard (free if among the account's first 3, of up to 50 metrics each)": 3.00,
    }
    assert _by_name(dev_plan) == pytest.approx(expected)
    assert dev_plan.checked()[1].total_usd == pytest.approx(sum(expected.values()))
    assert dev_plan.checked()[1].total_usd == pytest.approx(28.3575)
    # Everything but the tasks (Fargate, Cloud Map instances) was 22.28 with a public IPv4 per task; now 14.38:
    # the NAT instance 7.36, the election 2.03, the hosted zone, API requests and logs 2.00, the dashboard 3.00.
    rest = sum(usd for name, usd in _by_name(dev_plan).items() if not name.startswith(TASK_ITEMS))
    assert rest == pytest.approx(14.38175)


def test_prod_cost_matches_hand_computed_figures(prod_plan: Plan) -> None:
    # 3 NAT gateways (one per AZ) with their EIPs; app 3 x 0.5/1 GB + worker 2 + cache 1 x 0.25/0.5 GB on demand.
    expected = {
        **{f"NAT gateway network-nat-{zone}": 730 * 0.045 for zone in (1, 2, 3)},
        "NAT gateway data processed": 10 * 0.045,
        **{f"Elastic IP network-nat-{zone}_ip": 730 * 0.005 for zone in (1, 2, 3)},
        "S3 gateway endpoint network-s3": 0.0,
        "Fargate arm64 on demand vCPU": (3 * 0.5 + 3 * 0.25) * 730 * 0.03238,
        "Fargate arm64 on demand memory": (3 * 1 + 3 * 0.5) * 730 * 0.00356,
        **ELECTION,
        "Route 53 private hosted zone": 0.50,
        "HTTP API requests": 1.00,
        "CloudWatch Logs ingestion": 0.50,
        "CloudWatch dashboard (free if among the account's first 3, of up to 50 metrics each)": 3.00,
    }
    assert _by_name(prod_plan) == pytest.approx(expected)
    assert prod_plan.checked()[1].total_usd == pytest.approx(182.8546)


def test_usage_assumptions_change_the_estimate() -> None:
    plan = make_plan(FIXTURE_PROJECT, "dev", Usage(api_requests_millions=50, log_gb=4, spot_discount=0.0))
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
    plan = make_plan(FIXTURE_PROJECT, "staging")
    assert plan.findings == [f"no stack file Pulumi.staging.yaml in {FIXTURE_PROJECT}"]


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
    protected = " [IAM]" if stack == "prod" else ""  # prod's management routes need a signed caller
    for route in (f'"GET /leader ?leader=true{protected}"', f'"GET /follower ?leader=false{protected}"', '"GET /"'):
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


def test_prod_prices_the_nat_instance_alternative(prod_plan: Plan) -> None:
    text = render(prod_plan)
    gateways = 3 * 730 * (0.045 + 0.005) + 10 * 0.045
    instances = 3 * (730 * (0.0042 + 0.005) + 8 * 0.08)
    assert f"natGatewayPerAz {gateways:>10.2f} USD/month   <- this stack" in text
    assert f"natInstancePerAz {instances:>9.2f} USD/month\n" in text
    assert f"egress: natInstancePerAz would save {gateways - instances:.2f} USD/month here" in text


def test_dev_says_which_egress_wins_at_its_task_count(dev_plan: Plan) -> None:
    text = render(dev_plan)
    assert f"publicIp {6 * 730 * 0.005:>17.2f} USD/month\n" in text  # 6 task IPv4s: what dev paid before
    assert f"natInstance {730 * (0.0042 + 0.005) + 8 * 0.08:>14.2f} USD/month   <- this stack" in text


@pytest.mark.slow
def test_61_routed_services_break_the_vpc_link_groups_rule_quota(tmp_path: Path) -> None:
    service = {
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "port": 80,
        "records": ["SRV"],
        "healthCheck": {"command": ["CMD", "true"]},
    }
    names = [f"s{i}" for i in range(61)]
    config = with_prefix(
        {"services": dict.fromkeys(names, service), "api": {"routes": {f"GET /{n}": {"service": n} for n in names}}}
    )
    plan = make_plan(_project_with(tmp_path, "wide", config), "wide")
    assert plan.run is not None
    assert not plan.ok
    (finding,) = plan.findings
    assert finding.startswith("security group firewall-vpc_link: 61 outbound rules, over the default quota of 60")
    assert "Fix: fewer rules" in finding
    assert "Service Quotas" in finding
    assert render(plan).startswith("validation findings:\nsecurity group firewall-vpc_link: 61 outbound rules")


@pytest.mark.slow
def test_60_routed_services_are_within_the_quota(tmp_path: Path) -> None:
    service = {
        "image": "public.ecr.aws/nginx/nginx:1.27",
        "port": 80,
        "records": ["SRV"],
        "healthCheck": {"command": ["CMD", "true"]},
    }
    names = [f"s{i}" for i in range(60)]
    config = with_prefix(
        {"services": dict.fromkeys(names, service), "api": {"routes": {f"GET /{n}": {"service": n} for n in names}}}
    )
    assert make_plan(_project_with(tmp_path, "wide", config), "wide").findings == []


def _nginx(config: dict[str, Any]) -> dict[str, Any]:
    for svc in config["services"].values():
        svc["image"] = "public.ecr.aws/nginx/nginx:1.27"
    return config


def test_323_routes_break_the_http_api_route_quota_and_integration_limit(tmp_path: Path) -> None:
    config = _nginx(changed("dev", ["api", "routes"], {f"GET /r{i}": {"service": "app"} for i in range(323)}))
    plan = make_plan(_project_with(tmp_path, "many", with_prefix(config)), "many")
    assert plan.run is not None
    routes, integrations = plan.findings
    assert routes.startswith("HTTP API api-http: 323 routes, over the default quota of 300 routes per API")
    assert "'Routes per API'" in routes
    assert "quota code L-65B5C802" in routes
    assert integrations.startswith("HTTP API api-http: 323 integrations, over the limit of 300 integrations per API")
    assert "cannot be raised" in integrations
    assert render(plan).startswith("validation findings:\nHTTP API api-http: 323 routes")


def test_a_70_kb_environment_value_breaks_the_task_definition_size_limit(tmp_path: Path) -> None:
    config = _nginx(changed("dev", ["services", "worker", "environment"], {"BLOB": "x" * 70_000}))
    plan = make_plan(_project_with(tmp_path, "big", with_prefix(config)), "big")
    (finding,) = plan.findings
    assert re.match(r"task definition mapgate-big-worker: 7\d,\d{3} bytes, ", finding)
    assert "over the limit of 65,536 bytes (64 KiB) per task definition" in finding
    assert "'Task definition size', which cannot be raised" in finding


def test_the_task_definition_size_is_the_register_requests_json_size(dev_plan: Plan) -> None:
    (task_definition,) = [
        r for r in dev_plan.checked()[0].of_type(types.TASK_DEFINITION) if r.inputs["family"].endswith("-app")
    ]
    request = register_task_definition_request(dict(task_definition.inputs))
    assert request_errors("ecs", "RegisterTaskDefinition", request) == ""
    assert request_bytes(request) == len(json.dumps(request, separators=(",", ":")).encode())
    assert 1_000 < request_bytes(request) < aws_facts.TASK_DEFINITION_MAX_BYTES


def test_an_unknown_region_is_a_finding_with_did_you_mean(tmp_path: Path) -> None:
    config = with_prefix(_nginx(changed("dev", ["production"], False))) | {"aws:region": "us-east-9"}
    plan = make_plan(_project_with(tmp_path, "nowhere", config), "nowhere")
    (finding,) = plan.findings
    assert finding.startswith("aws:region: 'us-east-9' — no such AWS Region; did you mean 'us-east-")
    assert "regions: af-south-1, " in finding
    assert "eu-west-1" in finding
    assert "aws-global" not in finding


def test_a_real_region_missing_from_mapgates_tables_keeps_its_advisory(tmp_path: Path) -> None:
    assert "ap-southeast-5" not in aws_facts.VPC_LINK_ZONE_IDS
    config = with_prefix(_nginx(changed("dev", ["production"], False))) | {"aws:region": "ap-southeast-5"}
    plan = make_plan(_project_with(tmp_path, "new", config), "new")
    assert plan.ok, plan.findings
    assert "the cost uses us-east-1 prices; ap-southeast-5's differ" in render(plan)


def test_interface_endpoints_are_priced_per_az(tmp_path: Path) -> None:
    config = changed("dev", ["network", "interfaceEndpoints"], ["ecr.api", "logs"])
    for svc in config["services"].values():
        svc["image"] = "public.ecr.aws/nginx/nginx:1.27"
    costs = _by_name(make_plan(_project_with(tmp_path, "ep", with_prefix(config)), "ep"))
    assert costs["Interface endpoint network-ecr-api_endpoint (ecr.api, 2 AZs)"] == pytest.approx(2 * 730 * 0.01)
    assert costs["Interface endpoint network-logs_endpoint (logs, 2 AZs)"] == pytest.approx(2 * 730 * 0.01)


def test_plan_of_an_existing_vpc_prices_no_network(tmp_path: Path) -> None:
    subnets = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]
    config = changed("dev", ["network"], {"existing": {"vpcId": "vpc-0a1b2c3d4e5f60718", "privateSubnetIds": subnets}})
    for svc in config["services"].values():
        svc["image"] = "public.ecr.aws/nginx/nginx:1.27"
    plan = make_plan(_project_with(tmp_path, "byo", with_prefix(config)), "byo")
    text = render(plan)
    # dev without its image repository (4) and without every network resource but the empty component
    assert "stack byo in us-east-1: 61 resources (offline, in an existing VPC (network.existing))" in text
    assert "egress alternatives (priced the same way):\n  none\n" in text
    assert not [name for name in _by_name(plan) if name.startswith(("NAT", "Elastic IP", "S3", "Public IPv4"))]


def test_the_readmes_example_error_is_what_plan_prints(tmp_path: Path) -> None:
    config = changed("dev", ["services", "app", "healthCheck", "interval"], 1)
    config["services"]["worker"]["allowFrom"] = ["ap"]
    plan = make_plan(_project_with(tmp_path, "dev", with_prefix(_nginx(config))), "dev")
    readme = (ROOT / "README.md").read_text()
    example = readme.split("keeps this block what `plan` prints):\n\n```\n", 1)[1].split("```", 1)[0]
    assert example == render(plan) + "\n"


def test_a_routed_service_with_no_tasks_gets_an_advisory(tmp_path: Path) -> None:
    config = _nginx(changed("dev", ["services", "app", "desiredCount"], 0))
    config["services"]["worker"]["desiredCount"] = 0  # not routed: no advisory
    plan = make_plan(_project_with(tmp_path, "idle", with_prefix(config)), "idle")
    assert plan.ok, plan.findings
    (note,) = [n for n in advisories(plan) if "desiredCount" in n]
    assert note == (
        "services.app.desiredCount is 0, so its routes (GET /, GET /follower, GET /leader) answer 500/503 until a "
        "task runs: no healthy instance matches them"
    )
    assert f"advisories (valid, but worth knowing):\n  {note}" in render(plan)


def _run_with(run: StackRun, extra: list[Resource]) -> StackRun:
    return dataclasses.replace(run, resources=[*run.resources, *extra])


@pytest.mark.parametrize("typ", [types.ROUTE, types.INTEGRATION])
def test_routes_and_integrations_are_checked_at_exactly_300(dev_plan: Plan, typ: str) -> None:
    run = dev_plan.checked()[0]
    (api,) = run.of_type(types.HTTP_API)
    have = len(run.of_type(typ))

    def extra(count: int) -> list[Resource]:
        return [Resource(typ, f"x{i}", f"x{i}-id", {"apiId": api.id}, {}) for i in range(count - have)]

    assert quota_findings(_run_with(run, extra(300))) == []
    (finding,) = quota_findings(_run_with(run, extra(301)))
    assert finding.startswith(f"HTTP API api-http: 301 {'routes' if typ == types.ROUTE else 'integrations'}, over")


def test_a_task_definition_is_checked_at_exactly_64_kib(dev_plan: Plan) -> None:
    run = dev_plan.checked()[0]
    (task,) = [r for r in run.of_type(types.TASK_DEFINITION) if r.inputs["family"].endswith("-worker")]

    def padded(size: int) -> Resource:
        inputs = dict(task.inputs)
        (container,) = json.loads(inputs["containerDefinitions"])
        container.setdefault("environment", []).append({"name": "PAD", "value": ""})
        inputs["containerDefinitions"] = json.dumps([container])
        short = size - request_bytes(register_task_definition_request(inputs))
        container["environment"][-1]["value"] = "x" * short
        inputs["containerDefinitions"] = json.dumps([container])
        assert request_bytes(register_task_definition_request(inputs)) == size
        return dataclasses.replace(task, name="padded", inputs=inputs)

    assert quota_findings(_run_with(run, [padded(65_536)])) == []
    (finding,) = quota_findings(_run_with(run, [padded(65_537)]))
    assert "65,537 bytes, over the limit of 65,536 bytes (64 KiB)" in finding
