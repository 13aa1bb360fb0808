"""The stack config reference: one row per key, the source of the README's table and the schema's hover text.

Each row names the config paths it documents (`services.*.cpu`). tests/test_schema.py checks that the rows
cover every key of the generated schema and no key it lacks, that single-key defaults agree with the model, and
that the README's table is `markdown_table()` (write it with `python -m mapgate.config.reference`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Row:
    key: str
    """How the README writes the key (Markdown)."""
    paths: tuple[str, ...]
    """The schema paths it documents: `.`-separated, `*` for a name the user picks, a final `.**` for the key and
    everything below it (an object documented in one row)."""
    allowed: str
    default: str
    notes: str


ROWS: tuple[Row, ...] = (
    Row(
        "`network.cidr`",
        ("network.cidr",),
        "IPv4 CIDR, /16–/24",
        "`10.0.0.0/16`",
        "Split evenly into one public and one private subnet per AZ.",
    ),
    Row(
        "`network.availabilityZones`",
        ("network.availabilityZones",),
        "2–6, or a list of AZ names",
        "`2`",
        (
            "A count picks the region's first zones that host VPC link v2. A list is used as given, and each zone must "
            "exist and host VPC link v2. Fix it per stack: changing it re-lays the subnets."
        ),
    ),
    Row(
        "`network.egress`",
        ("network.egress",),
        "`publicIp` \\| `natGateway` \\| `natGatewayPerAz` \\| `natInstance` \\| `natInstancePerAz`",
        "`publicIp`",
        (
            "How tasks reach ECR, CloudWatch Logs, Cloud Map and the internet. `publicIp`: tasks and the VPC link use "
            "public subnets and each task gets a public IPv4 (its security group still admits only the VPC link and "
            "peers). The others: private subnets, no public IPs, `0.0.0.0/0` to one NAT in the first AZ or one per AZ, "
            "a managed NAT gateway or an EC2 NAT instance. Which is cheaper: see "
            "[Cost](#cost-us-east-1-per-month-idle-730-h). Changing between `publicIp` and the others moves the VPC "
            "link to other subnets, which replaces it: see "
            "[Availability](#availability-what-happens-when-nothing-is-healthy)."
        ),
    ),
    Row(
        "`network.natInstance.instanceType`",
        ("network.natInstance.**",),
        "an ARM (Graviton) type, e.g. `t4g.nano`, `t4g.micro`",
        "`t4g.nano`",
        (
            "Only with `egress: natInstance…`. The instance runs the current Amazon Linux 2023 arm64 AMI, looked up "
            "from the public SSM parameter `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64` "
            "before anything is created (a newer AMI later does not replace a running NAT: `ignoreChanges: [ami]`). "
            "User data turns on IP forwarding and an nftables masquerade for the VPC CIDR. Source/dest check off; its "
            "security group admits only the VPC CIDR; no SSH rule and no key pair (use SSM Session Manager: the "
            "instance role has only `AmazonSSMManagedInstanceCore`); IMDSv2 required; encrypted gp3 root. Recovery: EC2"
            " automatic recovery (`autoRecovery: default`), which keeps the instance id, ENI and IPs, so the routes "
            "stay valid; an ASG of one would replace the ENI the routes point at."
        ),
    ),
    Row(
        "`network.interfaceEndpoints`",
        ("network.interfaceEndpoints",),
        (
            "subset of `ecr.api`, `ecr.dkr`, `logs`, `servicediscovery`, `data-servicediscovery`, `sts`, `ssm`, "
            "`secretsmanager`, `monitoring`"
        ),
        "`[]`",
        (
            "Interface endpoints with private DNS in the task subnets, behind a security group that admits HTTPS from "
            "the VPC CIDR. $7.30 a month per endpoint per AZ plus $0.01/GB, priced in `plan`: worth it only when much "
            "traffic goes to those services."
        ),
    ),
    Row(
        "`network.existing`",
        ("network.existing.**",),
        "`{vpcId, privateSubnetIds, publicSubnetIds?}`",
        "none",
        (
            "Bring your own VPC: mapgate creates no VPC, subnet, route, NAT or endpoint. The VPC link goes in "
            "`privateSubnetIds` (at least 2, in different AZs), and so do the tasks, without public IPs, unless "
            "`publicSubnetIds` is given: then tasks run there with public IPs. Offline: id shapes, at least 2 subnets, "
            "no duplicates, and none of `cidr`, `availabilityZones`, `egress`, `natInstance`, `natGateways`, "
            "`interfaceEndpoints` beside it. Before the first resource, lookups check that every subnet is in the VPC, "
            "the private subnets are in different AZs whose zone IDs host VPC link v2, and the VPC has DNS support and "
            "DNS hostnames on (the private namespace needs both). Routing is yours: the subnets must reach ECR, "
            "CloudWatch Logs and Cloud Map (NAT, or endpoints)."
        ),
    ),
    Row(
        "`network.natGateways`",
        ("network.natGateways",),
        "`none` \\| `single` \\| `onePerAz`",
        "—",
        (
            "**Deprecated; still works.** Read as `egress: publicIp`, `natGateway` and `natGatewayPerAz`, and `pulumi "
            "up` / `plan` print a warning saying which. Replace it with `egress`: nothing in AWS changes. Setting both "
            "is an error."
        ),
    ),
    Row(
        "`namespace`",
        ("namespace",),
        "DNS name (labels ≤ 63, total ≤ 253, not `.local`)",
        "`<stack>.mapgate.internal`",
        (
            "Private DNS namespace, i.e. a Route 53 private hosted zone. Give each stack its own: in one account and "
            "Region, a second namespace of the same name gets a hashed HttpName (the election copes, by id; people "
            "reading the console may not)."
        ),
    ),
    Row(
        "`services.<name>`",
        ("services",),
        (
            "name: DNS label `[a-z0-9-]`, 1–63; not `network`, `firewall`, `discovery`, `cluster`, `api`, `domain`, "
            "`image-…`"
        ),
        "— (at least one)",
        "Cloud Map service name, so DNS name `<name>.<namespace>`. The reserved names are mapgate's components.",
    ),
    Row(
        "`….image`",
        ("services.*.image.**",),
        "image reference, or `{build: <dir>, dockerfile?, target?, args?}`",
        "—",
        (
            "`build` needs `<dir>/Dockerfile` (or `dockerfile`, a path) inside the project; `target` picks a stage, "
            "`args` are build arguments. It is built for the service's architecture and pushed to ECR."
        ),
    ),
    Row(
        "`….port`",
        ("services.*.port",),
        "1–65535",
        "none: a worker",
        (
            "Container port: SRV records, the security group and the API route all use it. Without one (a queue "
            "worker) the service gets no Cloud Map service, no DNS name, no ingress and no route: nothing can dial "
            "it, so `allowFrom`, `SRV`, `leaderElection` and `protocol` need a port."
        ),
    ),
    Row(
        "`….protocol`",
        ("services.*.protocol",),
        "`http` \\| `grpc` \\| `tcp`",
        "`http`",
        (
            "`grpc` needs `A` records, sets the port mapping's `appProtocol: grpc`, and gives each service in "
            "`allowFrom` the target `dns:///<name>.<namespace>:<port>` (`MAPGATE_GRPC_PEERS`). A `tcp` service with "
            "`SRV` gives them its SRV name `<name>.<namespace>` (`MAPGATE_SRV_PEERS`)."
        ),
    ),
    Row(
        "`….command`",
        ("services.*.command",),
        "`[program, args…]`",
        "the image's `CMD`",
        "So one image runs as two services (the worker), or an official image runs with other flags (the cache).",
    ),
    Row(
        "`….cpu` / `….memory`",
        ("services.*.cpu", "services.*.memory"),
        "Fargate table (256/512 … 16384/122880 MiB)",
        "`256` / `512`",
        "The pair is checked against the Fargate table, including the 8 and 16 vCPU tiers.",
    ),
    Row(
        "`….architecture`",
        ("services.*.architecture",),
        "`arm64` \\| `x86_64`",
        "`arm64`",
        "About 20 % cheaper on ARM. Spot supports ARM64.",
    ),
    Row(
        "`….capacity`",
        ("services.*.capacity",),
        "`onDemand` \\| `spot`",
        "`onDemand`",
        "Spot tasks get a 2-minute warning before interruption.",
    ),
    Row(
        "`….desiredCount`",
        ("services.*.desiredCount",),
        "0–1000",
        "`2`",
        "A service with Cloud Map discovery is capped at 1,000 tasks.",
    ),
    Row(
        "`….records`",
        ("services.*.records",),
        "non-empty subset of `A`, `SRV`",
        "`[A]`",
        (
            "API routes need `SRV`: API Gateway takes the port from Cloud Map. Routes on `leader` read the roles "
            "service, whose instances the app registers with their port."
        ),
    ),
    Row(
        "`….dnsTtl`",
        ("services.*.dnsTtl",),
        "0–2147483647",
        "`10`",
        "",
    ),
    Row(
        "`….healthCheck.command`",
        ("services.*.healthCheck.command",),
        '`["CMD", prog, args…]` or `["CMD-SHELL", "one string"]`',
        "required with a port",
        (
            "Run by ECS; its result decides Cloud Map health. Optional without a port: ECS then counts a running "
            "task as healthy."
        ),
    ),
    Row(
        "`….healthCheck.interval` / `timeout` / `retries` / `startPeriod`",
        (
            "services.*.healthCheck.interval",
            "services.*.healthCheck.timeout",
            "services.*.healthCheck.retries",
            "services.*.healthCheck.startPeriod",
        ),
        "5–300 / 2–60 / 1–10 / 0–300 s",
        "`5` / `5` / `3` / `60`",
        "The service's health-check grace period is `startPeriod`.",
    ),
    Row(
        "`….environment`",
        ("services.*.environment",),
        "map of names to strings",
        "`{}`",
        "The `MAPGATE_` and `ECS_` prefixes are reserved.",
    ),
    Row(
        "`….secrets`",
        ("services.*.secrets",),
        "map of names to a source",
        "`{}`",
        (
            "Variables ECS reads at task start from an SSM parameter (name or ARN), a Secrets Manager secret (full ARN,"
            " optionally `:json-key:version-stage:version-id`), `{valueFrom, kmsKeyArn}`, or `{config: <key>}` (a "
            "secret stack config value). Same name rules as `environment`; a name is in one of the two. See "
            "[Secrets](#secrets-for-tasks)."
        ),
    ),
    Row(
        "`….allowFrom`",
        ("services.*.allowFrom",),
        "other service names",
        "`[]`",
        "Those services may call this one on its port.",
    ),
    Row(
        "`….leaderElection`",
        ("services.*.leaderElection",),
        "bool",
        "`false`",
        (
            "The tasks elect a leader (DynamoDB lease, roles service; see the election section). The name may then be "
            "at most 57 characters, for the roles service `<name>_roles`. The task role gets exactly the calls the "
            "election makes."
        ),
    ),
    Row(
        "`….autoscaling`",
        ("services.*.autoscaling.**",),
        "`{min, max, cpuTarget, memoryTarget}`",
        "off",
        (
            "Target tracking on average CPU (default target 70 %) and/or memory, each 10–90 %. Cooldowns: 60 s out, 300"
            " s in. `min ≤ desiredCount ≤ max`. `pulumi up` leaves the scaled count alone."
        ),
    ),
    Row(
        "`….readOnlyRootFilesystem`",
        ("services.*.readOnlyRootFilesystem",),
        "bool",
        "`false`",
        (
            "Read-only root plus a writable `/tmp` (ECS.5). Use it only for images that write nowhere else. The sample "
            "service does."
        ),
    ),
    Row(
        "`….redeploy`",
        ("services.*.redeploy",),
        "0–1000000",
        "`0`",
        (
            "Raise it to roll the service's tasks with nothing else changed (`mapgate up --redeploy <service>` does "
            "that)."
        ),
    ),
    Row(
        '`api.routes."<METHOD> <path>"`',
        ("api.routes", "api.routes.*.service", "api.routes.*.attributes"),
        (
            "METHOD ∈ GET POST PUT PATCH DELETE HEAD OPTIONS ANY; path `/…` with `{param}` / last `{proxy+}`; or "
            "`$default`"
        ),
        "`{}`",
        (
            "Value `{service, attributes}`. The target must register SRV. Attributes filter Cloud Map instances (keys ≤"
            " 255, values ≤ 1024 characters). A filter on `leader` needs the target to have `leaderElection: true`, "
            'takes `"true"` or `"false"`, and reads the roles service, so it can be combined with no other attribute.'
        ),
    ),
    Row(
        "`api.routes.<key>.authorization`",
        ("api.routes.*.authorization.**",),
        "`none` \\| `iam` \\| `{jwt: <authorizer>, scopes: [...]}`",
        "`none`",
        (
            "`iam`: SigV4-signed callers with `execute-api:Invoke`. `jwt`: a valid token from that authorizer, with one"
            " of the scopes if any (≤ 10)."
        ),
    ),
    Row(
        "`api.authorizers.<name>`",
        ("api.authorizers.**",),
        "`{issuer, audience, identitySource}`; name a DNS label; ≤ 10",
        "`{}`",
        (
            "JWT authorizer: `issuer` an `https://` URL, `audience` 1–50 entries, `identitySource` default "
            "`$request.header.Authorization`."
        ),
    ),
    Row(
        "`api.domain`",
        ("api.domain.**",),
        "`{name, certificateArn}` and/or `{name, hostedZoneId}`",
        "none",
        "Serve the API at `https://<name>/`. See [Custom domain](#custom-domain).",
    ),
    Row(
        "`api.disableDefaultEndpoint`",
        ("api.disableDefaultEndpoint",),
        "bool",
        "`false`",
        "Turn off the `execute-api` URL; needs `api.domain`.",
    ),
    Row(
        "`api.throttling.rateLimit` / `burstLimit`",
        ("api.throttling.rateLimit", "api.throttling.burstLimit"),
        "> 0 and ≤ 10000 / 1–5000",
        "`50` / `100`",
        "Both are always sent: a missing one would become 0, and every request would get 429.",
    ),
    Row(
        "`api.timeoutMs`",
        ("api.timeoutMs",),
        "50–30000",
        "`29000`",
        "30 s is API Gateway's hard limit.",
    ),
    Row(
        "`api.accessLogRetentionDays`",
        ("api.accessLogRetentionDays",),
        "a CloudWatch retention value",
        "`30`",
        "",
    ),
    Row(
        "`api.errorAlarm.thresholdPercent`",
        ("api.errorAlarm.thresholdPercent",),
        "> 0 and ≤ 100",
        "`5`",
        (
            "The alarm fires when `100 × 5xx / requests` is above the threshold in 3 of 5 minutes; no traffic is not an"
            " outage."
        ),
    ),
    Row(
        "`api.errorAlarm.topicArn`",
        ("api.errorAlarm.topicArn",),
        "an SNS topic ARN",
        "none",
        "An existing topic to notify (PagerDuty, Chatbot…). Without it, mapgate creates a topic (free while idle).",
    ),
    Row(
        "`api.errorAlarm.email` / `httpsEndpoint`",
        ("api.errorAlarm.email", "api.errorAlarm.httpsEndpoint"),
        "an address / an `https://` URL",
        "none",
        "Subscribed to the topic mapgate creates; SNS sends a confirmation first. Not with `topicArn`.",
    ),
    Row(
        "`logRetentionDays`",
        ("logRetentionDays",),
        "a CloudWatch retention value",
        "`14`",
        'Container logs. "Never expire" is not offered.',
    ),
    Row(
        "`containerInsights`",
        ("containerInsights",),
        "bool",
        "`false`",
        (
            "Must be `true` with `production: true` (Security Hub ECS.12, which the policy pack enforces too). "
            "Validation rejects the pair rather than turning insights on unasked: they are billed per metric."
        ),
    ),
    Row(
        "`production`",
        ("production",),
        "bool",
        "`false`",
        (
            "Production rules: a routed service needs `desiredCount ≥ 2` and `autoscaling.min ≥ 2`, and the 5xx alarm "
            "must notify someone (`topicArn`, `email` or `httpsEndpoint`). Resources are tagged "
            "`mapgate:environment=production`, which the policy pack reads."
        ),
    ),
    Row(
        "`exposeTaskInfo`",
        ("exposeTaskInfo",),
        "bool",
        "on, except with `production: true`",
        (
            "Whether the sample app answers with its task id, private IP, AZ and the request headers. Those are useful "
            "in dev and none of the internet's business in prod."
        ),
    ),
)

HEADER = "| Key | Type / allowed | Default | Notes |\n|---|---|---|---|"
START, END = "<!-- config-reference: generated by python -m mapgate.config.reference -->", "<!-- /config-reference -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def markdown_table() -> str:
    lines = [HEADER]
    for row in ROWS:
        notes = f" {row.notes} " if row.notes else " "
        lines.append(f"| {row.key} | {row.allowed} | {row.default} |{notes}|")
    return "\n".join(lines)


def notes_by_path() -> dict[str, str]:
    """The schema's hover text: each documented path's notes (for rows of one path, else the row's)."""
    return {
        path.removesuffix(".**"): re.sub(r"\s+", " ", f"{row.allowed}. {row.notes}".strip())
        for row in ROWS
        for path in row.paths
    }


def covers(row_path: str, path: str) -> bool:
    if row_path.endswith(".**"):
        base = row_path.removesuffix(".**")
        return path == base or path.startswith(f"{base}.")
    return path == row_path


def readme_with_table(text: str) -> str:
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{markdown_table()}\n{END}{after}"


def main() -> int:
    README.write_text(readme_with_table(README.read_text()))
    print(f"wrote the config reference table in {README}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
