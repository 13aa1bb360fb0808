"""`mapgate import copilot` on hand-written workspaces (tests/fixtures/copilot): every field-table row, every trap,
the bad inputs, and every key accounted for exactly once."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mapgate import naming
from mapgate import resource_types as types
from mapgate.cli.main import main
from mapgate.config import ConfigError, parse_config
from mapgate.importers.copilot import CopilotInputError, ImportRequest, ImportResult, run, write
from mapgate.importers.copilot.yaml12 import load, plain
from mapgate.offline import load_stack_file, run_program
from tests.harness import ROOT, RecordingMocks

FIXTURES = ROOT / "tests" / "fixtures" / "copilot"
SHELL = {"SHOP_BUILD_ID": "77"}


def imported(name: str, tmp_path: Path, **kwargs: Any) -> ImportResult:
    return run(ImportRequest(FIXTURES / name, project_dir=kwargs.pop("project_dir", tmp_path), shell=SHELL, **kwargs))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> ImportResult:
    # The project is the workspace's parent, so the build contexts are inside it, as mapgate's build needs.
    return run(ImportRequest(FIXTURES / "shop", project_dir=FIXTURES / "shop", shell=SHELL))


def services(result: ImportResult, env: str) -> dict[str, Any]:
    return dict(result.stacks[env].config["mapgate:services"])


def validate(config: dict[str, Any], env: str, project_dir: Path) -> None:
    own = {k.removeprefix("mapgate:"): v for k, v in config.items() if k.startswith("mapgate:")}
    parse_config(
        own, stack=env, project_dir=project_dir, other_keys=[k for k in config if not k.startswith("mapgate:")]
    )


def entry(result: ImportResult, manifest: str, key: str) -> tuple[str, str]:
    (ledger,) = [ledger for ledger in result.ledgers if ledger.name == manifest]
    found = ledger.entries[tuple(key.split("."))]
    return found.status, found.detail


# --- reading as Copilot reads ----------------------------------------------------------------------------------


def test_manifests_are_yaml_1_2(tmp_path: Path) -> None:
    manifest = tmp_path / "m.yml"
    manifest.write_text("on:\n  schedule: '@daily'\ntimezone: -05:00\nratio: 0.10\nflag: yes\nhex: 0x1F\n")
    data = load(manifest).data
    assert "on" in data
    assert True not in data
    assert plain(data)["timezone"] == "-05:00"  # 1.1 reads the sexagesimal -300
    assert str(data["ratio"]) == "0.10"
    assert plain(data)["ratio"] == 0.1
    assert plain(data)["flag"] == "yes"
    assert plain(data)["hex"] == 31


def test_scheduled_job_keeps_its_on_key_in_the_report(shop: ImportResult) -> None:
    status, detail = entry(shop, "copilot/nightly/manifest.yml", "on.schedule")
    assert status == "not supported"
    assert "EventBridge Scheduler" in detail
    assert entry(shop, "copilot/nightly/manifest.yml", "timezone")[0] == "not supported"


def test_variables_of_any_scalar_become_their_text(shop: ImportResult) -> None:
    env = services(shop, "test")["web"]["environment"]
    assert env["WORKERS"] == "4"
    assert env["RATIO"] == "0.10"
    assert env["DEBUG"] == "false"
    assert env["TZ_OFFSET"] == "-05:00"
    assert services(shop, "prod")["web"]["environment"]["DEBUG"] == "no"  # the prod override


def test_interpolation_resolves_copilot_and_shell_variables_and_keeps_the_rest(shop: ImportResult) -> None:
    env = services(shop, "test")["web"]["environment"]
    assert env["STAGE"] == "test"
    assert env["BUILD_ID"] == "77"
    assert env["RELEASE"] == "${RELEASE_TAG}"
    assert "kept as written" in entry(shop, "copilot/web/manifest.yml", "variables.RELEASE")[1]
    secrets = services(shop, "test")["web"]["secrets"]
    assert secrets["DB_PASSWORD"] == "/copilot/shop/test/secrets/DB_PASSWORD"


# --- the mapping, row by row ----------------------------------------------------------------------------------


def test_a_load_balanced_web_service_gets_routes_domain_and_a_derived_health_check(shop: ImportResult) -> None:
    config = shop.stacks["prod"].config
    assert config["mapgate:api"]["routes"] == {"ANY /": {"service": "web"}, "ANY /{proxy+}": {"service": "web"}}
    assert config["mapgate:api"]["domain"] == {
        "name": "shop.prod.example.com",
        "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
    }
    web = services(shop, "prod")["web"]
    assert web["records"] == ["A", "SRV"]
    assert web["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -fs http://localhost:8080/healthz || exit 1"],
        "interval": 10,
        "timeout": 5,
        "startPeriod": 45,
        "retries": 3,
    }
    assert entry(shop, "copilot/web/manifest.yml", "http.alias")[0] == "approximated"  # two names, one domain
    status, detail = entry(shop, "copilot/web/manifest.yml", "http.healthcheck.retries")
    assert status == "not supported"
    assert "Copilot ignores this key" in detail


def test_a_path_other_than_root_routes_under_its_prefix(tmp_path: Path) -> None:
    result = imported("minimal", tmp_path, app="mini", envs=("dev",))
    assert set(result.stacks["dev"].config["mapgate:api"]["routes"]) == {"ANY /shop", "ANY /shop/{proxy+}"}


def test_an_env_file_is_read_once_and_the_manifest_wins(tmp_path: Path) -> None:
    result = imported("minimal", tmp_path, app="mini", envs=("dev",))
    environment = services(result, "dev")["front"]["environment"]
    assert (environment["GREETING"], environment["MODE"], environment["JOBS"]) == ("hello there", "fast", "jobs")
    assert entry(result, "copilot/front/manifest.yml", "env_file")[0] == "approximated"


def test_sizing_platform_count_and_scaling(shop: ImportResult) -> None:
    prod, test = services(shop, "prod"), services(shop, "test")
    assert (prod["web"]["cpu"], prod["web"]["memory"], prod["web"]["architecture"]) == (512, 1024, "arm64")
    assert prod["api-svc"]["architecture"] == "x86_64"
    assert prod["api-svc"]["desiredCount"] == 2
    assert test["web"]["autoscaling"] == {"min": 1, "max": 4, "cpuTarget": 60, "memoryTarget": 70}
    # The override merges into count, as Copilot merges maps: memory_percentage stays.
    assert prod["web"]["autoscaling"] == {"min": 2, "max": 8, "cpuTarget": 50, "memoryTarget": 70}
    assert services(shop, "staging")["web"]["desiredCount"] == 1
    assert "autoscaling" not in services(shop, "staging")["web"]
    assert (test["worker"]["capacity"], test["worker"]["desiredCount"]) == ("spot", 2)
    assert entry(shop, "copilot/web/manifest.yml", "count.requests")[0] == "not supported"
    assert "count.range.spot_from" in entry(shop, "copilot/web/manifest.yml", "count.spot_from")[1]
    assert "cpu 1024 / memory 3000" in " ".join(shop.stacks["test"].problems)  # not a Fargate pair


def test_image_size_and_command_set_only_in_overrides(shop: ImportResult) -> None:
    reports = services(shop, "prod")["reports"]
    assert (reports["image"], reports["cpu"], reports["desiredCount"], reports["command"]) == (
        "public.ecr.aws/docker/library/python:3.12",
        512,
        1,
        ["python", "-m", "reports"],
    )
    assert entry(shop, "copilot/reports/manifest.yml", "environments.prod.cpu")[0] == "mapped"


def test_a_range_map_with_spot_from_one_runs_on_spot(shop: ImportResult) -> None:
    queue = services(shop, "test")["queue"]
    assert (queue["capacity"], queue["autoscaling"]) == ("spot", {"min": 1, "max": 3, "cpuTarget": 50})


def test_image_build_location_command_and_entrypoint(shop: ImportResult) -> None:
    test = services(shop, "test")
    assert test["worker"]["image"] == {"build": "worker"}
    assert test["api-svc"]["image"] == "public.ecr.aws/docker/library/python:3.12"
    assert test["api-svc"]["command"][:2] == ["/bin/sh", "-c"]
    assert test["worker"]["command"] == ["celery", "-A", "shop", "worker"]
    assert test["web"]["image"] == {
        "build": "web",
        "dockerfile": "web/Dockerfile.web",
        "target": "runtime",
        "args": {"PIP_INDEX": "https://pypi.org/simple"},
    }
    assert entry(shop, "copilot/worker/manifest.yml", "image.target")[0] == "not supported"
    assert test["api-svc"]["healthCheck"]["retries"] == 2
    assert test["api-svc"]["healthCheck"]["startPeriod"] == 30


def test_portless_backend_and_worker_service_have_no_port_records_or_peers(shop: ImportResult) -> None:
    test = services(shop, "test")
    for name in ("worker", "queue"):
        assert not {"port", "records", "allowFrom", "healthCheck"} & set(test[name]), name
    assert "sqs:ReceiveMessage" in entry(shop, "copilot/queue/manifest.yml", "subscribe.queue.retention")[1]


def test_backends_are_reachable_by_every_other_service_and_that_is_reported(shop: ImportResult) -> None:
    test = services(shop, "test")
    assert test["api-svc"]["allowFrom"] == ["queue", "reports", "web", "worker"]
    assert any("tighten" in finding for finding in shop.stacks["test"].findings)


def test_names_keep_working(shop: ImportResult) -> None:
    test = services(shop, "test")
    assert test["web"]["environment"]["API_URL"] == "http://api-svc.test.shop.internal:8000"
    assert test["web"]["environment"]["API_SHORT"] == "http://api-svc.test.shop.internal:8000/v1"
    assert test["api-svc"]["environment"]["WEB_URL"] == "http://web.test.shop.internal:8080"
    assert test["web"]["environment"]["CART_URL"] == "http://cart:9000/v1"  # no such service: left alone
    assert (
        test["api-svc"]["environment"].items()
        >= {
            "COPILOT_APPLICATION_NAME": "shop",
            "COPILOT_ENVIRONMENT_NAME": "test",
            "COPILOT_SERVICE_NAME": "api",
            "COPILOT_SERVICE_DISCOVERY_ENDPOINT": "test.shop.internal",
        }.items()
    )
    assert shop.stacks["test"].config["mapgate:namespace"] == "test.shop.internal"
    findings = " ".join(shop.stacks["test"].findings)
    assert "http://api:8000 → http://api-svc.test.shop.internal:8000 (Service Connect short name)" in findings
    assert "api is the mapgate service api-svc" in findings


def test_network_from_placement_and_the_environment_manifests(shop: ImportResult) -> None:
    prod, test = shop.stacks["prod"].config, shop.stacks["test"].config
    assert prod["mapgate:network"] == {
        "existing": {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0000000000000000c", "subnet-0000000000000000d"],
            "publicSubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        }
    }
    assert test["mapgate:network"] == {"cidr": "10.1.0.0/16", "egress": "natGatewayPerAz"}
    assert (prod["mapgate:containerInsights"], test["mapgate:containerInsights"]) == (True, False)
    assert shop.stacks["staging"].config["mapgate:network"] == {"egress": "natGatewayPerAz"}  # overrides only
    assert entry(shop, "copilot/environments/prod/manifest.yml", "vpc.id")[0] == "not supported"  # misplaced
    assert entry(shop, "copilot/environments/test/manifest.yml", "network.vpc.id")[0] == "approximated"  # empty
    assert prod["mapgate:logRetentionDays"] == 30
    assert prod["aws:region"] == "us-east-1"  # read from the certificate's ARN
    assert "aws:region" not in test  # nothing says: the report asks for it
    assert any("set it in the stack file" in f for f in shop.stacks["test"].findings)


def test_what_does_not_map_is_reported_with_an_alternative(shop: ImportResult) -> None:
    web = "copilot/web/manifest.yml"
    for key in (
        "http.stickiness",
        "http.deregistration_delay",
        "sidecars.nginx.port",
        "storage.volumes.media.efs",
        "taskdef_overrides",
        "exec",
        "variables.BUCKET.from_cfn",
        "http.healthy_threshold",
        "http.alb",
        "http.additional_rules",
        "image.build.healthcheck.command",
    ):
        status, detail = entry(shop, web, key)
        assert status == "not supported", key
        assert detail, key
    env = "copilot/environments/prod/manifest.yml"
    assert entry(shop, "copilot/worker/manifest.yml", "vpc.placement")[0] == "not supported"  # misplaced
    for key in (
        "http.private.internal",
        "cdn",
        "observability.tracing",
        "http.public.access_logs",
        "http.public.ssl_policy",
    ):
        assert entry(shop, env, key)[0] == "not supported", key
    assert entry(shop, "copilot/site/manifest.yml", "image.port")[0] == "not supported"
    files = {shop.ws.relative(path) for path, _ in shop.ws.extra_files}
    assert files == {"copilot/api/addons/db.yml", "copilot/api/overrides/cfn.patches.yml"}
    findings = " ".join(shop.stacks["prod"].findings)
    assert "WebSockets" in findings
    assert "over 30 s" in findings
    assert "10 MB" in findings
    assert "the ALB sent requests to the sidecar 'nginx'" in findings
    assert "CLIENT_MAX_BODY_SIZE=20m: payloads of 10 MB or more" in findings  # a sidecar's variable
    assert "web.PUBLIC_HOST: ${COPILOT_LB_DNS} (the ALB's DNS name) has no equivalent" in findings


# --- the report ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shop", "minimal"])
def test_every_key_of_every_manifest_appears_exactly_once(name: str, tmp_path: Path) -> None:
    result = imported(
        name, tmp_path, app="mini" if name == "minimal" else None, envs=("dev",) if name == "minimal" else ()
    )
    report = result.files[tmp_path / f"MIGRATION-{result.app}.md"]
    sections = dict(re.findall(r"^### `([^`]+)`\n\n(.*?)(?=^### |\Z)", report, re.M | re.S))
    manifests = sorted(p.relative_to(FIXTURES / name).as_posix() for p in (FIXTURES / name).rglob("manifest.yml"))
    assert sorted(sections) == manifests
    for ledger in result.ledgers:
        assert ledger.keys, ledger.name
        assert not ledger.unaccounted(), ledger.name
        rows = re.findall(
            r"^\| `([^`]+)` \| (mapped|approximated|not supported) \| .+ \|$", sections[ledger.name], re.M
        )
        assert sorted(key for key, _ in rows) == sorted(".".join(k) for k in ledger.keys), ledger.name
    total = sum(result.counts().values())
    assert f"{total} manifest keys" in report


def test_the_report_compares_costs(shop: ImportResult) -> None:
    report = shop.files[FIXTURES / "shop" / "MIGRATION-shop.md"]
    assert "| Application Load Balancer (1 LCU assumed) | 22.27 | 0.00 |" in report  # 730 h × (0.0225 + 0.008)


# --- writing, and planning what was written ----------------------------------------------------------------------


def test_imported_stacks_plan_clean(tmp_path: Path) -> None:
    result = imported("minimal", tmp_path, app="mini", envs=("dev",))
    write(result, force=False)
    config = load_stack_file(tmp_path, "dev")
    assert result.stacks["dev"].problems == []
    validate(config, "dev", tmp_path)
    stack_run = run_program(ROOT, config, "dev", RecordingMocks())
    ecs = {naming.service_of(r.inputs): r.inputs for r in stack_run.of_type(types.ECS_SERVICE)}
    assert ecs["jobs"].get("serviceRegistries") is None  # a worker: no Cloud Map service, nothing dials it
    assert ecs["front"]["serviceRegistries"]["containerPort"] == 80
    assert {r.inputs["name"] for r in stack_run.of_type(types.DISCOVERY_SERVICE)} == {"front"}
    ingress = [r.inputs for r in stack_run.of_type(types.INGRESS_RULE)]
    assert ingress
    assert all(rule["fromPort"] == 80 for rule in ingress)


def test_every_imported_stack_of_the_full_workspace_validates_but_for_the_named_problems(shop: ImportResult) -> None:
    # The fixture has problems on purpose: a worker of 1024 CPU / 3000 MiB, a domain without a certificate outside
    # prod, a service whose image only prod and test set. Each config problem is about something the report named.
    for env, stack in shop.stacks.items():
        with pytest.raises(ConfigError) as caught:
            validate(stack.config, env, FIXTURES / "shop")
        named = " ".join(stack.problems)
        for problem in caught.value.problems:
            key = problem.split(":")[0]
            assert (key.split(".")[1] if key.startswith("services.") else key) in named, (env, problem)
        assert any(p.startswith("services.worker.memory") for p in caught.value.problems), env
    assert "reports: no image.build or image.location" in " ".join(shop.stacks["staging"].problems)


def test_nothing_is_overwritten_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "import",
        "copilot",
        str(FIXTURES / "minimal"),
        "--app",
        "mini",
        "--env",
        "dev",
        "--project-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    (tmp_path / "Pulumi.dev.yaml").write_text("mine")
    assert main(args) == 8
    assert (tmp_path / "Pulumi.dev.yaml").read_text() == "mine"
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    assert (
        yaml.safe_load((tmp_path / "Pulumi.dev.yaml").read_text())["config"]["mapgate:namespace"] == "dev.mini.internal"
    )


# --- bad input: one line, exit 8, nothing written ----------------------------------------------------------------


def _workspace(tmp_path: Path, manifests: dict[str, str], app: str | None = "bad") -> Path:
    root = tmp_path / "ws"
    for relative, content in manifests.items():
        (root / "copilot" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "copilot" / relative).write_text(content)
    if app:
        (root / "copilot" / ".workspace").write_text(f"application: {app}\n")
    return root


GOOD = "name: svc\ntype: Backend Service\nimage:\n  location: nginx\n"


@pytest.mark.parametrize(
    ("manifests", "expected"),
    [
        ({}, "not a Copilot workspace"),
        ({"svc/manifest.yml": "name: svc\ntype: Backend Service\nimage: [1\n"}, "svc/manifest.yml:4:1: not YAML"),
        ({"svc/manifest.yml": "name: svc\ntype: Cron Service\n"}, "svc/manifest.yml:2:1: unknown type 'Cron Service'"),
        ({"svc/manifest.yml": GOOD + "cpu: lots\n"}, "svc/manifest.yml:5:1: cpu must be a whole number"),
        (
            {"svc/manifest.yml": GOOD + "  build: svc/Dockerfile\n"},
            "svc/manifest.yml:4:3: image.build and image.location are both set",
        ),
        (
            {"svc/manifest.yml": GOOD + "environments:\n  Prod_EU:\n    count: 2\n"},
            "svc/manifest.yml:6:3: environment 'Prod_EU' has no manifest and cannot be a stack",
        ),
        ({"svc/manifest.yml": GOOD}, "no environment manifest and no environments: overrides"),
        (
            {"svc/manifest.yml": GOOD + "environments: [prod]\n"},
            "svc/manifest.yml:5:1: environments must be a mapping of environment names",
        ),
        (
            {"svc/manifest.yml": GOOD, "environments/prod/manifest.yml": "name: prod\ntype: Environment\nhttp: yes\n"},
            "environments/prod/manifest.yml:3:1: http must be a mapping",
        ),
    ],
)
def test_bad_input_is_one_line_exit_8_and_nothing_written(
    manifests: dict[str, str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _workspace(tmp_path, manifests) if manifests else tmp_path / "empty"
    root.mkdir(exist_ok=True)
    out = tmp_path / "project"
    out.mkdir()
    assert main(["import", "copilot", str(root), "--project-dir", str(out)]) == 8
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err
    assert list(out.iterdir()) == []


def test_a_workspace_without_its_marker_needs_the_app_name(tmp_path: Path) -> None:
    root = _workspace(tmp_path, {"svc/manifest.yml": GOOD}, app=None)
    with pytest.raises(CopilotInputError, match="pass --app NAME"):
        run(ImportRequest(root, project_dir=tmp_path))
    assert run(ImportRequest(root, project_dir=tmp_path, app="named", envs=("dev",))).app == "named"


def test_an_environments_link_written_as_a_file_is_followed(tmp_path: Path) -> None:
    root = _workspace(tmp_path, {"svc/manifest.yml": GOOD})
    shutil.copytree(FIXTURES / "shop" / "copilot" / "environments", tmp_path / "elsewhere" / "environments")
    (root / "copilot" / "environments").write_text("../../elsewhere/environments/")
    result = run(ImportRequest(root, project_dir=tmp_path))
    assert set(result.stacks) == {"prod", "test"}
    assert "a link to ../../elsewhere/environments/" in result.ws.notes[0]


def test_a_wildcard_alias_and_an_odd_app_name_still_give_a_stack_that_validates(tmp_path: Path) -> None:
    web = (
        "name: web\ntype: Load Balanced Web Service\nhttp:\n  path: /\n  alias: '*.example.com'\n"
        "image:\n  location: nginx\n  port: 80\nenvironments:\n  dev:\n"
    )
    root = _workspace(tmp_path, {"web/manifest.yml": web}, app="My_Shop")
    result = run(ImportRequest(root, project_dir=tmp_path, shell={}))
    stack = result.stacks["dev"]
    assert stack.config["mapgate:namespace"] == "dev.my-shop.internal"
    assert "domain" not in stack.config["mapgate:api"]
    assert any("alias *.example.com" in finding for finding in stack.findings)
    assert stack.problems == []
    validate(stack.config, "dev", tmp_path)


def _refusal(root: Path) -> str | None:
    """The one line an import refuses with, or None when it imports."""
    try:
        run(ImportRequest(root, project_dir=root, app="mini", shell={}))
    except CopilotInputError as error:
        return str(error)
    return None


def test_any_key_of_any_shape_is_imported_or_refused_never_a_crash(tmp_path: Path) -> None:
    """Each key (and sub-key) of a service and an environment manifest, in turn, replaced by a null, a list, a map
    and text: the import either runs or refuses with one line at that manifest."""
    from ruamel.yaml import YAML

    reader = YAML(typ="rt")
    reader.version = (1, 2)
    root = tmp_path / "mini"
    shutil.copytree(FIXTURES / "minimal", root)
    (root / "copilot" / "environments" / "dev").mkdir(parents=True)
    shutil.copy(
        FIXTURES / "shop" / "copilot" / "environments" / "prod" / "manifest.yml",
        root / "copilot" / "environments" / "dev",
    )
    outcomes = {"imported": 0, "refused": 0}
    for manifest in ("copilot/front/manifest.yml", "copilot/environments/dev/manifest.yml"):
        path = root / manifest
        original = path.read_text()
        data = reader.load(original)
        keys = [(k,) for k in data] + [(k, sub) for k in data if isinstance(data[k], dict) for sub in data[k]]
        for key in keys:
            for value in (None, [1, "x"], {"a": 1}, "text"):
                changed_data = reader.load(original)
                node = changed_data
                for part in key[:-1]:
                    node = node[part]
                node[key[-1]] = value
                with path.open("w") as out:
                    reader.dump(changed_data, out)
                refusal = _refusal(root)
                outcomes["refused" if refusal else "imported"] += 1
                assert refusal is None or refusal.startswith(str(path)), (key, value, refusal)  # one line, here
        path.write_text(original)
    assert outcomes["imported"] > 0
    assert outcomes["refused"] > 0
