"""Stack config validation: every rule rejects bad input with the key path, the value and what is allowed."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mapgate.aws_facts import FARGATE_MEMORY_BY_CPU, ROUTE_PATH, parse_route_key
from mapgate.config import ConfigError, StackConfig, parse_config, raw_from_pulumi
from tests.harness import DELETE, ROOT, changed, load_stack_file


def parse(config: dict[str, Any]) -> StackConfig:
    """Parse config as the engine hands it over: every value a string, objects as JSON."""
    raw = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    return parse_config(raw, stack="dev", project_dir=ROOT)


def problems_of(config: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(config)
    return caught.value.problems


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_shipped_stacks_are_valid(stack: str) -> None:
    cfg = parse(changed(stack, ["containerInsights"], stack == "prod"))
    assert set(cfg.services) == {"app", "worker", "cache"}
    assert cfg.services["app"].leader_election is True


def test_defaults_are_cheap_and_match_the_documented_values() -> None:
    cfg = parse(
        {
            "services": {
                "web": {
                    "image": "public.ecr.aws/nginx/nginx:1.27",
                    "port": 80,
                    "healthCheck": {"command": ["CMD", "true"]},
                }
            }
        }
    )
    web = cfg.services["web"]
    network = cfg.network
    assert (network.cidr, network.availability_zones, network.egress_choice) == ("10.0.0.0/16", 2, "publicIp")
    assert (network.nat_instance.instance_type, network.deprecation) == ("t4g.nano", None)
    assert cfg.namespace == "dev.mapgate.internal"  # the stack's own (parse() parses as stack dev)
    assert cfg.exposes_task_info is True
    assert (web.redeploy, cfg.api.error_alarm.topic_arn, cfg.api.error_alarm.email) == (0, None, None)
    assert (web.cpu, web.memory, web.architecture, web.capacity, web.desired_count) == (
        256,
        512,
        "arm64",
        "onDemand",
        2,
    )
    assert (web.records, web.dns_ttl) == (["A"], 10)
    hc = web.health_check
    assert hc is not None
    assert (hc.interval, hc.timeout, hc.retries, hc.start_period) == (5, 5, 3, 60)
    assert (cfg.api.throttling.rate_limit, cfg.api.throttling.burst_limit, cfg.api.timeout_ms) == (50.0, 100, 29000)
    assert (cfg.api.access_log_retention_days, cfg.log_retention_days, cfg.container_insights) == (30, 14, False)


# Each case: (what, path to change, bad value, the key path the error must name, text the error must contain)
BAD = [
    ("cidr not a network", ["network", "cidr"], "10.0.0.0", "network.cidr", "/16 to /24"),
    ("cidr too large", ["network", "cidr"], "10.0.0.0/8", "network.cidr", "/16 to /24"),
    ("cidr too small", ["network", "cidr"], "10.0.0.0/26", "network.cidr", "/16 to /24"),
    ("cidr host bits", ["network", "cidr"], "10.0.0.1/16", "network.cidr", "did you mean 10.0.0.0/16"),
    ("cidr ipv6", ["network", "cidr"], "fd00::/64", "network.cidr", "IPv4"),
    ("one AZ", ["network", "availabilityZones"], 1, "network.availabilityZones", "from 2 to 6"),
    ("seven AZs", ["network", "availabilityZones"], 7, "network.availabilityZones", "from 2 to 6"),
    ("AZ count as text", ["network", "availabilityZones"], "two", "network.availabilityZones", "list of zone names"),
    (
        "AZ bad name",
        ["network", "availabilityZones"],
        ["us-east-1a", "east"],
        "network.availabilityZones",
        "us-east-1a",
    ),
    ("AZ twice", ["network", "availabilityZones"], ["us-east-1a", "us-east-1a"], "network.availabilityZones", "twice"),
    ("NAT unknown", ["network", "natGateways"], "perAz", "network.natGateways", "'onePerAz'"),
    ("egress unknown", ["network", "egress"], "nat", "network.egress", "'natInstancePerAz'"),
    (
        "existing VPC id",
        ["network", "existing"],
        {"vpcId": "vpc-1", "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]},
        "network.existing.vpcId",
        "vpc-0123456789abcdef0",
    ),
    (
        "existing one subnet",
        ["network", "existing"],
        {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0123456789abcdef0"]},
        "network.existing.privateSubnetIds",
        "at least 2 subnets",
    ),
    (
        "existing subnet id",
        ["network", "existing"],
        {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0123456789abcdef0", "sn-2"]},
        "network.existing.privateSubnetIds",
        "'sn-2': not a subnet id",
    ),
    (
        "existing subnet twice",
        ["network", "existing"],
        {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": ["subnet-0123456789abcdef0"] * 2},
        "network.existing.privateSubnetIds",
        "twice",
    ),
    (
        "existing with cidr",
        ["network", "existing"],
        {
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        },
        "network.existing/cidr/availabilityZones/egress",
        "cannot be combined with cidr, availabilityZones, egress",
    ),
    (
        "existing no subnets",
        ["network", "existing"],
        {"vpcId": "vpc-0123456789abcdef0"},
        "network.existing.privateSubnetIds",
        "required",
    ),
    ("endpoint unknown", ["network", "interfaceEndpoints"], ["s3"], "network.interfaceEndpoints", "gateway endpoint"),
    ("endpoint twice", ["network", "interfaceEndpoints"], ["logs", "logs"], "network.interfaceEndpoints", "twice"),
    ("egress twice", ["network", "natGateways"], "single", "network.egress/natGateways", "keep only egress"),
    (
        "NAT instance not Graviton",
        ["network", "natInstance", "instanceType"],
        "t3.nano",
        "network.natInstance.instanceType",
        "ARM (Graviton)",
    ),
    (
        "NAT instance key typo",
        ["network", "natInstance", "type"],
        "t4g.nano",
        "network.natInstance.type",
        "instanceType",
    ),
    ("namespace .local", ["namespace"], "corp.local", "namespace", "multicast DNS"),
    ("namespace bad label", ["namespace"], "my_ns.internal", "namespace", "label 'my_ns'"),
    ("namespace too long", ["namespace"], ".".join(["a" * 60] * 5), "namespace", "253"),
    ("namespace label > 63", ["namespace"], "a" * 64 + ".internal", "namespace", "1-63"),
    (
        "service name uppercase",
        ["services", "Api"],
        {"image": "nginx", "port": 80, "healthCheck": {"command": ["CMD", "true"]}},
        "services.Api",
        "DNS label",
    ),
    ("image not a reference", ["services", "app", "image"], "Not An Image", "services.app.image", "image reference"),
    ("image wrong type", ["services", "app", "image"], 42, "services.app.image", "{build: <directory>}"),
    (
        "build dir missing",
        ["services", "app", "image"],
        {"build": "nowhere"},
        "services.app.image.build",
        "no Dockerfile",
    ),
    (
        "build dir outside",
        ["services", "app", "image"],
        {"build": "../elsewhere"},
        "services.app.image.build",
        "inside the project",
    ),
    ("port 0", ["services", "app", "port"], 0, "services.app.port", "from 1 to 65535"),
    ("port too big", ["services", "app", "port"], 70000, "services.app.port", "from 1 to 65535"),
    ("port as bool", ["services", "app", "port"], True, "services.app.port", "valid integer"),
    ("port as text", ["services", "app", "port"], "8080", "services.app.port", "valid integer"),
    ("cpu not a tier", ["services", "app", "cpu"], 300, "services.app.cpu", "256, 512, 1024, 2048, 4096, 8192, 16384"),
    (
        "memory for cpu",
        ["services", "app", "memory"],
        4096,
        "services.app.memory",
        "with cpu 256 memory (MiB) must be 512, 1024, 2048",
    ),
    ("architecture", ["services", "app", "architecture"], "arm", "services.app.architecture", "'arm64' or 'x86_64'"),
    ("capacity", ["services", "app", "capacity"], "SPOT", "services.app.capacity", "'onDemand' or 'spot'"),
    ("desiredCount negative", ["services", "app", "desiredCount"], -1, "services.app.desiredCount", "from 0 to 1000"),
    (
        "desiredCount over Cloud Map limit",
        ["services", "app", "desiredCount"],
        1001,
        "services.app.desiredCount",
        "from 0 to 1000",
    ),
    ("records empty", ["services", "app", "records"], [], "services.app.records", "at least one"),
    ("records unknown", ["services", "app", "records"], ["AAAA"], "services.app.records[0]", "'A' or 'SRV'"),
    ("records twice", ["services", "worker", "records"], ["A", "A"], "services.worker.records", "twice"),
    ("protocol unknown", ["services", "worker", "protocol"], "http2", "services.worker.protocol", "'grpc'"),
    (
        "grpc without A",
        ["services", "worker", "records"],
        ["SRV"],
        "services.worker.protocol/records",
        "protocol grpc needs A records",
    ),
    ("command empty", ["services", "worker", "command"], [], "services.worker.command", "the program and its arg"),
    ("command no program", ["services", "cache", "command"], ["", "x"], "services.cache.command", "the program"),
    ("dnsTtl negative", ["services", "app", "dnsTtl"], -5, "services.app.dnsTtl", "from 0 to 2147483647"),
    ("healthCheck missing", ["services", "app", "healthCheck"], DELETE, "services.app.healthCheck", "required"),
    (
        "hc command first",
        ["services", "app", "healthCheck", "command"],
        ["curl", "-f", "x"],
        "services.app.healthCheck.command",
        'start with "CMD"',
    ),
    (
        "hc CMD-SHELL args",
        ["services", "app", "healthCheck", "command"],
        ["CMD-SHELL", "a", "b"],
        "services.app.healthCheck.command",
        "exactly one shell string",
    ),
    (
        "hc CMD alone",
        ["services", "app", "healthCheck", "command"],
        ["CMD"],
        "services.app.healthCheck.command",
        "program to run",
    ),
    (
        "hc interval low",
        ["services", "app", "healthCheck", "interval"],
        4,
        "services.app.healthCheck.interval",
        "from 5 to 300",
    ),
    (
        "hc interval high",
        ["services", "app", "healthCheck", "interval"],
        301,
        "services.app.healthCheck.interval",
        "from 5 to 300",
    ),
    (
        "hc timeout low",
        ["services", "app", "healthCheck", "timeout"],
        1,
        "services.app.healthCheck.timeout",
        "from 2 to 60",
    ),
    (
        "hc timeout high",
        ["services", "app", "healthCheck", "timeout"],
        61,
        "services.app.healthCheck.timeout",
        "from 2 to 60",
    ),
    (
        "hc retries 0",
        ["services", "app", "healthCheck", "retries"],
        0,
        "services.app.healthCheck.retries",
        "from 1 to 10",
    ),
    (
        "hc retries 11",
        ["services", "app", "healthCheck", "retries"],
        11,
        "services.app.healthCheck.retries",
        "from 1 to 10",
    ),
    (
        "hc startPeriod",
        ["services", "app", "healthCheck", "startPeriod"],
        301,
        "services.app.healthCheck.startPeriod",
        "from 0 to 300",
    ),
    (
        "hc misspelt key",
        ["services", "app", "healthCheck", "intervall"],
        5,
        "services.app.healthCheck.intervall",
        "did you mean 'interval'",
    ),
    (
        "env reserved",
        ["services", "app", "environment"],
        {"MAPGATE_PORT": "1"},
        "services.app.environment",
        "reserved prefix",
    ),
    ("env bad name", ["services", "app", "environment"], {"1X": "1"}, "services.app.environment", "variable name"),
    (
        "allowFrom unknown",
        ["services", "worker", "allowFrom"],
        ["ap"],
        "services.worker.allowFrom[0]",
        "did you mean 'app'",
    ),
    ("allowFrom self", ["services", "worker", "allowFrom"], ["worker"], "services.worker.allowFrom[0]", "itself"),
    (
        "election value the election never writes",
        ["api", "routes", "GET /leader", "attributes", "leader"],
        "yes",
        'api.routes["GET /leader"].attributes.leader',
        "writes only 'true' or 'false'",
    ),
    (
        "election filter mixed with another",
        ["api", "routes", "GET /leader", "attributes"],
        {"leader": "true", "AVAILABILITY_ZONE": "us-east-1a"},
        'api.routes["GET /leader"].attributes',
        "can filter on nothing else (drop AVAILABILITY_ZONE)",
    ),
    (
        "misspelt service key",
        ["services", "app", "desiredcount"],
        2,
        "services.app.desiredcount",
        "did you mean 'desiredCount'",
    ),
    (
        "route to missing service",
        ["api", "routes", "GET /x"],
        {"service": "wrker"},
        'api.routes["GET /x"].service',
        "did you mean 'worker'",
    ),
    (
        "route to A-only service",
        ["api", "routes", "GET /w"],
        {"service": "worker"},
        'api.routes["GET /w"].service',
        "add SRV to services.worker.records",
    ),
    (
        "route filter on election attr",
        ["services", "app", "leaderElection"],
        False,
        'api.routes["GET /leader"].attributes.leader',
        "leaderElection is true",
    ),
    ("route method", ["api", "routes", "FETCH /x"], {"service": "app"}, 'api.routes["FETCH /x"]', "METHOD one of GET"),
    (
        "route path no slash",
        ["api", "routes", "GET x"],
        {"service": "app"},
        'api.routes["GET x"]',
        "must start with '/'",
    ),
    (
        "route path trailing slash",
        ["api", "routes", "GET /x/"],
        {"service": "app"},
        'api.routes["GET /x/"]',
        "path '/x/' ends with '/'",
    ),
    (
        "route path empty segment",
        ["api", "routes", "GET /a//b"],
        {"service": "app"},
        'api.routes["GET /a//b"]',
        "has an empty segment ('//')",
    ),
    (
        "route path odd character",
        ["api", "routes", "GET /le@der"],
        {"service": "app"},
        'api.routes["GET /le@der"]',
        "segment 'le@der' has '@'",
    ),
    (
        "route greedy not last",
        ["api", "routes", "GET /{p+}/x"],
        {"service": "app"},
        'api.routes["GET /{p+}/x"]',
        "the greedy {p+} may only be the last segment",
    ),
    (
        "route attr key too long",
        ["api", "routes", "GET /x"],
        {"service": "app", "attributes": {"k" * 256: "v"}},
        'api.routes["GET /x"].attributes',
        "1-255",
    ),
    (
        "route attr value too long",
        ["api", "routes", "GET /x"],
        {"service": "app", "attributes": {"zone": "v" * 1025}},
        'api.routes["GET /x"].attributes.zone',
        "1-1024",
    ),
    (
        "route unknown key",
        ["api", "routes", "GET /x"],
        {"service": "app", "filter": {}},
        'api.routes["GET /x"].filter',
        "allowed keys: service, attributes",
    ),
    ("throttling rate 0", ["api", "throttling", "rateLimit"], 0, "api.throttling.rateLimit", "more than 0"),
    ("throttling burst 0", ["api", "throttling", "burstLimit"], 0, "api.throttling.burstLimit", "from 1 to 5000"),
    ("timeout over 30 s", ["api", "timeoutMs"], 30001, "api.timeoutMs", "from 50 to 30000"),
    ("timeout under 50 ms", ["api", "timeoutMs"], 49, "api.timeoutMs", "from 50 to 30000"),
    (
        "access log retention",
        ["api", "accessLogRetentionDays"],
        10,
        "api.accessLogRetentionDays",
        "one of 1, 3, 5, 7, 14",
    ),
    ("log retention 0 (forever)", ["logRetentionDays"], 0, "logRetentionDays", "one of 1, 3, 5"),
    ("containerInsights text", ["containerInsights"], "yes", "containerInsights", "valid boolean"),
    ("unknown top-level key", ["service"], {}, "mapgate:service", "did you mean 'services'"),
    (
        "autoscaling min > max",
        ["services", "app", "autoscaling"],
        {"min": 5, "max": 3},
        "services.app.autoscaling.min",
        "at most max (3)",
    ),
    (
        "desired outside scaling",
        ["services", "app", "autoscaling"],
        {"min": 4, "max": 6},
        "services.app.desiredCount",
        "within autoscaling min..max (4..6)",
    ),
    (
        "scaling target too low",
        ["services", "app", "autoscaling"],
        {"min": 1, "max": 6, "cpuTarget": 5},
        "services.app.autoscaling.cpuTarget",
        "from 10 to 90",
    ),
    (
        "scaling without a target",
        ["services", "app", "autoscaling"],
        {"min": 1, "max": 6, "cpuTarget": None},
        "services.app.autoscaling",
        "needs cpuTarget or memoryTarget",
    ),
    (
        "scaling max over limit",
        ["services", "app", "autoscaling"],
        {"min": 1, "max": 1001},
        "services.app.autoscaling.max",
        "from 1 to 1000",
    ),
    (
        "scaling misspelt key",
        ["services", "app", "autoscaling"],
        {"min": 1, "max": 6, "cpu": 50},
        "services.app.autoscaling.cpu",
        "did you mean 'cpuTarget'",
    ),
    (
        "read-only root as text",
        ["services", "app", "readOnlyRootFilesystem"],
        "yes",
        "services.app.readOnlyRootFilesystem",
        "valid boolean",
    ),
    (
        "alarm threshold 0",
        ["api", "errorAlarm", "thresholdPercent"],
        0,
        "api.errorAlarm.thresholdPercent",
        "more than 0",
    ),
    ("alarm topic not an ARN", ["api", "errorAlarm", "topicArn"], "oncall", "api.errorAlarm.topicArn", "SNS topic ARN"),
    ("production as text", ["production"], "yes", "production", "valid boolean"),
    (
        "duplicate route key after trim",
        ["api", "routes", "GET  /x"],
        {"service": "app"},
        'api.routes["GET  /x"]',
        "must start with '/'",
    ),
    ("services empty", ["services"], {}, "services", "at least one service"),
]


@pytest.mark.parametrize(("path", "value", "key_path", "allowed"), [case[1:] for case in BAD], ids=[c[0] for c in BAD])
def test_bad_value_is_rejected_with_its_key_path_and_what_is_allowed(
    path: list[str | int], value: Any, key_path: str, allowed: str
) -> None:
    problems = problems_of(changed("dev", path, value))
    matching = [p for p in problems if p.startswith(f"{key_path}:")]
    assert matching, f"no problem names {key_path!r}: {problems}"
    assert any(allowed in p for p in matching), f"{allowed!r} not in {matching}"


def test_an_error_across_fields_names_them_and_shows_only_their_values() -> None:
    (problem,) = problems_of(changed("dev", ["services", "worker", "records"], ["SRV"]))
    assert problem == (
        'services.worker.protocol/records: {"protocol": "grpc", "records": ["SRV"]} — protocol grpc needs A records '
        "(gRPC clients resolve A): add A to records"
    )


def test_long_values_are_shown_shortened_with_their_length() -> None:
    route = {"service": "app", "attributes": {"zone": "v" * 2000}}
    (problem,) = problems_of(changed("dev", ["api", "routes", "GET /x"], route))
    assert problem.startswith('api.routes["GET /x"].attributes.zone: "vvv')
    assert "… (2,002 characters) — must be 1-1024 characters (2,000 given)" in problem
    assert len(problem) < 200


def test_too_many_authorizers_are_shown_by_name() -> None:
    authorizer = {"issuer": "https://id.example.com", "audience": ["api"]}
    config = changed("dev", ["api", "authorizers"], {f"a{i}": authorizer for i in range(11)})
    (problem,) = [p for p in problems_of(config) if p.startswith("api.authorizers:")]
    assert problem == (
        'api.authorizers: ["a0", "a1", "a10", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"] — an HTTP API has at '
        "most 10 authorizers (11 given)"
    )


def test_a_bad_route_path_names_the_one_rule_it_breaks() -> None:
    (problem,) = problems_of(changed("dev", ["api", "routes", "GET /leader/"], {"service": "app"}))
    assert problem.endswith("path '/leader/' ends with '/'; drop it (only the root path is '/')")
    assert "must start with '/'" not in problem
    assert "segments of" not in problem


def test_every_path_the_route_grammar_rejects_gets_a_rule_of_its_own() -> None:
    for length in range(1, 6):
        for letters in itertools.product("/a{}+@", repeat=length):
            path = "".join(letters)
            if not ROUTE_PATH.match(path):
                with pytest.raises(ValueError, match="path") as caught:
                    parse_route_key(f"GET {path}")
                assert "is not a route path" not in str(caught.value), path


def test_the_catalogue_is_large() -> None:
    assert len(BAD) >= 40
    assert len({case[0] for case in BAD}) == len(BAD)


# Valid edge configs: (what, changes to the dev stack). Each must parse, and the whole program must run with it.
EDGES: list[tuple[str, list[tuple[list[str | int], Any]]]] = [
    ("smallest VPC, most zones", [(["network", "cidr"], "10.9.0.0/24"), (["network", "availabilityZones"], 5)]),
    ("largest task size", [(["services", "app", "cpu"], 16384), (["services", "app", "memory"], 122880)]),
    ("8 vCPU tier top", [(["services", "app", "cpu"], 8192), (["services", "app", "memory"], 61440)]),
    ("zero tasks outside production", [(["services", "worker", "desiredCount"], 0)]),
    ("SRV-only service", [(["services", "app", "records"], ["SRV"])]),
    ("TTL 0", [(["services", "worker", "dnsTtl"], 0)]),
    (
        "health check bounds",
        [
            (
                ["services", "app", "healthCheck"],
                {"command": ["CMD-SHELL", "exit 0"], "interval": 300, "timeout": 60, "retries": 10, "startPeriod": 0},
            )
        ],
    ),
    ("no routes at all", [(["api", "routes"], {})]),
    (
        "default route and greedy path",
        [
            (["api", "routes", "$default"], {"service": "app"}),
            (["api", "routes", "ANY /files/{path+}"], {"service": "app"}),
        ],
    ),
    (
        "attribute filter with odd text",
        [(["api", "routes", "GET /blue"], {"service": "app", "attributes": {"zone": "us east/1 & 2"}})],
    ),
    ("long namespace", [(["namespace"], ".".join(["a" * 60] * 3) + ".internal")]),
    ("explicit zones", [(["network", "availabilityZones"], ["us-east-1f", "us-east-1a", "us-east-1b"])]),
    ("scaling from zero", [(["services", "worker", "autoscaling"], {"min": 0, "max": 3, "memoryTarget": 80})]),
    ("throttling at the account limit", [(["api", "throttling"], {"rateLimit": 10000, "burstLimit": 5000})]),
    ("timeout bounds", [(["api", "timeoutMs"], 50)]),
    (
        "x86 on demand",
        [(["services", "worker", "architecture"], "x86_64"), (["services", "worker", "capacity"], "onDemand")],
    ),
]


@pytest.mark.parametrize("changes", [case[1] for case in EDGES], ids=[case[0] for case in EDGES])
def test_valid_edge_configs_pass_and_build(changes: list[tuple[list[str | int], Any]]) -> None:
    from tests.harness import run_stack, with_prefix

    config = changed("dev", *changes[0])
    for path, value in changes[1:]:
        node: Any = config
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    parse(config)
    run = run_stack(with_prefix(config))
    assert run.outputs["clusterName"] == "mapgate-dev"


def test_every_problem_is_reported_at_once() -> None:
    config = changed("dev", ["services", "app", "port"], 0)
    config["network"]["natGateways"] = "always"
    config["services"]["worker"]["healthCheck"]["retries"] = 99
    config["bogus"] = 1
    problems = problems_of(config)
    assert [p.split(":")[0] for p in problems] == [
        "network.natGateways",
        "services.app.port",
        "services.worker.healthCheck.retries",
        "mapgate",
    ]


def test_the_bad_value_itself_is_shown() -> None:
    (problem,) = problems_of(changed("dev", ["services", "app", "port"], 99999))
    assert problem == "services.app.port: 99999 — must be an integer from 1 to 65535"


@pytest.mark.parametrize(
    ("cpu", "memory"), [(c, m) for c, ms in FARGATE_MEMORY_BY_CPU.items() for m in (ms[0], ms[-1])]
)
def test_every_fargate_tier_is_accepted_at_both_ends(cpu: int, memory: int) -> None:
    config = changed("dev", ["services", "app", "cpu"], cpu)
    config["services"]["app"]["memory"] = memory
    assert parse(config).services["app"].memory == memory


@pytest.mark.parametrize(("cpu", "memory"), [(8192, 20000), (16384, 40000), (4096, 31744), (512, 5120)])
def test_memory_off_the_tier_steps_is_rejected(cpu: int, memory: int) -> None:
    config = changed("dev", ["services", "app", "cpu"], cpu)
    config["services"]["app"]["memory"] = memory
    (problem,) = problems_of(config)
    assert problem.startswith(f"services.app.memory: {memory} — with cpu {cpu} memory (MiB) must be")


def test_large_tiers_state_their_steps() -> None:
    config = changed("dev", ["services", "app", "cpu"], 16384)
    config["services"]["app"]["memory"] = 1024
    (problem,) = problems_of(config)
    assert problem.endswith("must be 32768 to 122880 in steps of 8192")


def test_yaml_scalars_become_strings_where_aws_wants_strings() -> None:
    config = changed("dev", ["api", "routes", "GET /leader", "attributes", "leader"], True)
    config["services"]["app"]["environment"] = {"WORKERS": 4, "DEBUG": False}
    cfg = parse(config)
    assert cfg.api.routes["GET /leader"].attributes == {"leader": "true"}
    assert cfg.services["app"].environment == {"WORKERS": "4", "DEBUG": "false"}


def test_records_are_kept_in_one_order() -> None:
    assert parse(changed("dev", ["services", "app", "records"], ["SRV", "A"])).services["app"].records == ["A", "SRV"]


def test_scalar_keys_arrive_as_strings_from_the_engine() -> None:
    raw = {key: json.dumps(value) for key, value in changed("dev", ["logRetentionDays"], 30).items()}
    raw |= {"logRetentionDays": "30", "containerInsights": "true", "namespace": "corp.internal"}
    cfg = parse_config(raw, stack="dev", project_dir=ROOT)
    assert (cfg.log_retention_days, cfg.container_insights, cfg.namespace) == (30, True, "corp.internal")


def test_explicit_zone_list_and_routes_with_parameters_are_accepted() -> None:
    config = changed("dev", ["network", "availabilityZones"], ["us-east-1a", "us-east-1b", "us-east-1d"])
    config["api"]["routes"]["GET /items/{id}"] = {"service": "app"}
    config["api"]["routes"]["ANY /proxy/{rest+}"] = {"service": "app"}
    config["api"]["routes"]["$default"] = {"service": "app"}
    cfg = parse(config)
    assert cfg.network.az_count == 3
    assert "ANY /proxy/{rest+}" in cfg.api.routes


def test_config_is_read_from_the_engine_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = {"mapgate:namespace": "x.internal", "aws:region": "eu-west-1", "other:key": "1", "mapgate:servics": "{}"}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(engine))
    assert raw_from_pulumi() == {"namespace": "x.internal", "servics": "{}"}


def test_stack_files_use_only_known_namespaces() -> None:
    for stack in ("dev", "prod"):
        namespaces = {key.split(":")[0] for key in load_stack_file(stack)}
        assert namespaces == {"aws", "mapgate"}


@pytest.fixture
def desired_count_default() -> Iterator[Callable[[int], None]]:
    """Change ServiceConfig's default task count in its one place, the model field, and rebuild."""
    from mapgate.config import ServiceConfig

    spec = ServiceConfig.model_fields["desired_count"]
    original = spec.default

    def set_default(value: int) -> None:
        spec.default = value
        ServiceConfig.model_rebuild(force=True)
        StackConfig.model_rebuild(force=True)

    yield set_default
    set_default(original)


def _production_without_a_task_count() -> dict[str, Any]:
    config = changed("prod", ["services", "app", "desiredCount"], DELETE)
    del config["services"]["app"]["autoscaling"]
    return config


def test_a_changed_default_reaches_every_rule(desired_count_default: Callable[[int], None]) -> None:
    config = _production_without_a_task_count()
    assert parse(config).services["app"].desired_count == 2
    desired_count_default(1)
    # The production rule reads the model's default, so it fires now: both when the rest of the config is valid,
    problem = "services.app.desiredCount: 1 — a routed service needs at least 2 tasks in production (route GET /)"
    assert problems_of(config) == [problem]
    # and when another part is broken and the rules run on the sections that validated.
    config["services"]["worker"]["port"] = 0
    assert problem in problems_of(config)


@pytest.mark.parametrize(
    ("old", "new"), [("none", "publicIp"), ("single", "natGateway"), ("onePerAz", "natGatewayPerAz")]
)
def test_the_deprecated_nat_key_means_one_egress_choice(old: str, new: str) -> None:
    config = changed("dev", ["network", "egress"], DELETE)
    config["network"]["natGateways"] = old
    network = parse(config).network
    assert network.egress_choice == new
    assert network.deprecation is not None
    assert f"means egress: {new}" in network.deprecation


def test_nat_instance_settings_without_a_nat_instance_are_an_error() -> None:
    config = changed("dev", ["network", "egress"], "natGateway")
    config["network"]["natInstance"] = {"instanceType": "t4g.micro"}
    (problem,) = problems_of(config)
    assert problem.startswith('network.natInstance/egress: {"natInstance": {"instanceType": "t4g.micro"}, "egress": ')
    assert "it only applies to egress: natInstance or natInstancePerAz" in problem


def test_an_elected_service_name_leaves_room_for_its_roles_service() -> None:
    """Cloud Map labels are at most 63 characters, and the roles service is `<name>_roles`: 57 is the limit."""

    def with_elected(name: str) -> dict[str, Any]:
        config = changed("dev", ["services", name], None)
        config["services"][name] = dict(config["services"]["app"]) | {"leaderElection": True}
        return config

    assert "a" * 57 in parse(with_elected("a" * 57)).services
    problems = [p for p in problems_of(with_elected("a" * 58)) if p.startswith(f"services.{'a' * 58}.")]
    assert len(problems) == 1
    assert "at most 57 characters (58 given)" in problems[0]
