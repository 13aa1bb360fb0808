"""`mapgate plan`: the real program under the offline runtime, described for a person.

Prints the resource tree (component → children, with the settings that matter), the itemized monthly cost,
and validation findings (the same messages `pulumi up` prints).
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.rpc import is_rpc_secret

from mapgate import aws_facts
from mapgate import resource_types as types
from mapgate.changes import facts as replacement_facts
from mapgate.cli.cost import Estimate, Usage, egress_alternatives, estimate
from mapgate.cli.inventory import Inventory, container_definitions
from mapgate.cli.known_warnings import explain
from mapgate.cli.quotas import quota_findings
from mapgate.cli.regions import unknown_region
from mapgate.cli.terminal import plural
from mapgate.components.api import HttpApi
from mapgate.components.cluster import Cluster
from mapgate.components.discovery import Discovery
from mapgate.components.domain import ApiDomain
from mapgate.components.election import LeaderElection
from mapgate.components.image import ImageRepository
from mapgate.components.network import Firewall, Network
from mapgate.components.service import FargateService
from mapgate.config import ConfigError
from mapgate.offline import StackRun, load_stack_file, run_program

# What the offline run assumes when the stack file names no region (the mocks' and the price list's region).
ASSUMED_REGION = "us-east-1"


@dataclass
class Plan:
    stack: str
    region: str
    run: StackRun | None
    findings: list[str] = field(default_factory=list)
    cost: Estimate | None = None
    inventory: Inventory | None = None
    """The run read once, for the cost, the advisories and the picture."""
    region_assumed: bool = False
    """True when the stack file has no `aws:region` and the plan used ASSUMED_REGION."""
    facts: replacement_facts.ReplacementFacts | None = None
    """Which inputs force a replacement (for `--diff`); read before the program runs."""

    @property
    def ok(self) -> bool:
        return self.run is not None and self.cost is not None and not self.findings

    def checked(self) -> tuple[StackRun, Estimate]:
        """The run and its cost; raises with the findings when the plan has none."""
        if self.run is None or self.cost is None or self.findings:
            raise ValueError("the plan has findings:\n" + "\n".join(self.findings))
        return self.run, self.cost


def make_plan(project_dir: Path, stack: str, usage: Usage | None = None) -> Plan:
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        return Plan(stack, "", None, [f"no stack file {stack_file.name} in {project_dir}"])
    config = load_stack_file(project_dir, stack)  # StackFileError: the caller tells it, with file:line:column
    region_assumed = "aws:region" not in config
    region = str(config.get("aws:region", ASSUMED_REGION))
    # The offline run would assume zones for a Region that does not exist; `pulumi up` would fail in AWS.
    region_findings = [problem] if (problem := unknown_region(region)) else []
    facts = replacement_facts.load()  # FactsError (unreadable or stale): the caller tells it in one line
    try:
        run = run_program(project_dir, config, stack)
    except (pulumi.RunError, ConfigError) as error:
        return Plan(stack, region, None, region_findings + str(error).splitlines())
    inventory = Inventory.read(run)
    findings = region_findings + quota_findings(run)
    return Plan(stack, region, run, findings, estimate(inventory, usage), inventory, region_assumed, facts)


# --- the tree ------------------------------------------------------------------------------------------------


# Components in the order data flows: network first, the public edge last.
COMPONENT_ORDER = [
    c.type_token
    for c in (
        Network,
        Firewall,
        Discovery,
        LeaderElection,
        Cluster,
        ImageRepository,
        FargateService,
        HttpApi,
        ApiDomain,
    )
]


def _short(typ: str) -> str:
    """'aws:ecs/service:Service' -> 'ecs.Service', 'mapgate:api:HttpApi' -> 'HttpApi'."""
    if typ in COMPONENT_ORDER:
        return typ.rsplit(":", 1)[-1]
    provider, module, name = typ.split(":")
    return f"{module.split('/')[0]}.{name}" if provider == "aws" else f"{provider}.{module}.{name}"


def describe(typ: str, inputs: dict[str, Any]) -> str:
    """The settings worth seeing for one resource, in a line."""
    match typ:
        case types.VPC:
            dns = f"DNS support {inputs['enableDnsSupport']}, hostnames {inputs['enableDnsHostnames']}"
            return f"{inputs['cidrBlock']} · {dns}"
        case types.SUBNET:
            public = " · public IPs on launch" if inputs.get("mapPublicIpOnLaunch") else ""
            return f"{inputs['cidrBlock']} in {inputs['availabilityZone']}{public}"
        case types.EC2_ROUTE:
            target = next(
                (
                    f"{key} {inputs[key]}"
                    for key in ("gatewayId", "natGatewayId", "networkInterfaceId")
                    if key in inputs
                ),
                "",
            )
            return f"{inputs['destinationCidrBlock']} -> {target}"
        case types.NAT_GATEWAY:
            return "managed NAT: $/hour + $/GB processed"
        case types.EIP:
            return "public IPv4 of a NAT gateway"
        case types.INSTANCE:
            metadata = inputs.get("metadataOptions") or {}
            return (
                f"{inputs['instanceType']} · source/dest check {inputs.get('sourceDestCheck')}"
                f" · IMDS tokens {metadata.get('httpTokens')} · no key pair · recovery"
                f" {(inputs.get('maintenanceOptions') or {}).get('autoRecovery')}"
            )
        case types.VPC_ENDPOINT:
            tables = len(inputs.get("routeTableIds") or [])
            where = f"on {tables} route tables" if tables else f"in {len(inputs.get('subnetIds') or [])} subnets"
            return f"{inputs['vpcEndpointType']} {inputs['serviceName']} {where}"
        case types.SECURITY_GROUP:
            return str(inputs.get("description", ""))
        case types.INGRESS_RULE:
            return f"ingress {_rule_scope(inputs)}: {inputs['description']}"
        case types.EGRESS_RULE:
            where = inputs.get("cidrIpv4") or _rule_scope(inputs)
            return f"egress {where}: {inputs['description']}"
        case types.NAMESPACE:
            return f"private DNS namespace {inputs['name']}"
        case types.DISCOVERY_SERVICE if inputs.get("type") == aws_facts.API_ONLY_SERVICE_TYPE:
            return f"{inputs['name']}: the lease holder (leader=true) and the others (leader=false) · API only"
        case types.DYNAMODB_TABLE:
            return f"{inputs['name']} · lease per elected service · {inputs['billingMode']}"
        case types.DISCOVERY_SERVICE:
            records = "+".join(r["type"] for r in inputs["dnsConfig"]["dnsRecords"])
            ttl = int(inputs["dnsConfig"]["dnsRecords"][0]["ttl"])
            health = "custom health" if "healthCheckCustomConfig" in inputs else "NO health"
            return f"{inputs['name']}: {records} · TTL {ttl} · {inputs['dnsConfig']['routingPolicy']} · {health}"
        case types.CLUSTER:
            insights = {s["name"]: s["value"] for s in inputs.get("settings", [])}.get("containerInsights")
            return f"{inputs['name']} · Container Insights {insights}"
        case types.CAPACITY_PROVIDERS:
            return " + ".join(inputs["capacityProviders"])
        case types.TASK_DEFINITION:
            (container,) = container_definitions(inputs)
            hc = container.get("healthCheck")
            mappings = container.get("portMappings") or []
            port = "no port"
            if mappings:
                (mapping,) = mappings
                protocol = f"/{mapping['appProtocol']}" if "appProtocol" in mapping else ""
                port = f"port {int(mapping['containerPort'])}{protocol}"
            command = f" · runs {shlex.join(container['command'])}" if "command" in container else ""
            secrets = [s["name"] for s in container.get("secrets", [])]
            health = (
                f" · health {' '.join(hc['command'][1:])} every {hc['interval']}s, timeout {hc['timeout']}s,"
                f" {plural(hc['retries'], 'retry', 'retries')}, start {hc['startPeriod']}s"
                if hc
                else " · no health check"
            )
            return (
                f"{inputs['cpu']} CPU / {inputs['memory']} MiB · {inputs['runtimePlatform']['cpuArchitecture']}"
                f" · {port}{command}{health}" + (f" · secrets {', '.join(secrets)}" if secrets else "")
            )
        case types.SSM_PARAMETER:
            return f"{inputs['name']} · {inputs['type']} · value {shown(inputs['value'])}"
        case types.ECS_SERVICE:
            (strategy,) = inputs["capacityProviderStrategies"]
            network = inputs["networkConfiguration"]
            registry = inputs.get("serviceRegistries")
            port = f" :{int(registry['containerPort'])}" if registry and "containerPort" in registry else ""
            grace = inputs.get("healthCheckGracePeriodSeconds")
            return (
                f"{plural(int(inputs['desiredCount']), 'task')} · {strategy['capacityProvider']}"
                f" · {'public IP' if network['assignPublicIp'] else 'private'}"
                + (f" · Cloud Map{port}" if registry else " · no Cloud Map")
                + (f" · grace {int(grace)}s" if grace is not None else "")
            )
        case types.LOG_GROUP:
            return f"{inputs['name']} · {int(inputs['retentionInDays'])} days"
        case types.DASHBOARD:
            widgets = json.loads(inputs["dashboardBody"])["widgets"]
            return f"{inputs['dashboardName']} · {plural(len(widgets), 'widget')}"
        case types.ROLE_POLICY:
            return "allows " + ", ".join(policy_actions(json.loads(inputs["policy"])))
        case types.STAGE:
            throttle = inputs["defaultRouteSettings"]
            return (
                f"{inputs['name']} · auto-deploy · {throttle['throttlingRateLimit']:g} rps, burst"
                f" {int(throttle['throttlingBurstLimit'])} · JSON access logs"
            )
        case types.INTEGRATION:
            query = urllib.parse.urlsplit(inputs["integrationUri"]).query
            filter_ = f" ?{query}" if query else ""
            return f"{inputs['description']}{filter_} · timeout {int(inputs['timeoutMilliseconds'])} ms"
        case types.ROUTE:
            auth = str(inputs.get("authorizationType", "NONE"))
            scopes = inputs.get("authorizationScopes") or []
            return f"{inputs['routeKey']} · authorization {auth}" + (f" ({', '.join(scopes)})" if scopes else "")
        case types.HTTP_API:
            return (
                "execute-api endpoint off: only the custom domain reaches it"
                if inputs.get("disableExecuteApiEndpoint")
                else ""
            )
        case types.DOMAIN_NAME:
            domain = inputs["domainNameConfiguration"]
            return f"https://{inputs['domainName']}/ · {domain['endpointType']} · {domain['securityPolicy']}"
        case types.API_MAPPING:
            return "the whole domain -> the $default stage"
        case types.CERTIFICATE:
            return f"ACM certificate for {inputs['domainName']}, validated by {inputs['validationMethod']}"
        case types.CERTIFICATE_VALIDATION:
            return "waits until ACM has issued the certificate"
        case types.DNS_RECORD:
            target = (
                f"alias to {inputs['aliases'][0]['name']}" if inputs.get("aliases") else " ".join(inputs["records"])
            )
            return f"{inputs['type']} {inputs['name']} -> {target}"
        case types.AUTHORIZER:
            jwt = inputs["jwtConfiguration"]
            return (
                f"JWT from {jwt['issuer']} · audience {', '.join(jwt['audiences'])}"
                f" · token in {', '.join(inputs['identitySources'])}"
            )
        case types.VPC_LINK:
            return (
                f"{plural(len(inputs['subnetIds']), 'subnet')} · immutable: other subnets or groups replace it, "
                "and the API answers 5xx for minutes while the new one comes up"
            )
        case types.SNS_TOPIC:
            return "where the 5xx alarm sends its notifications"
        case types.SNS_SUBSCRIPTION:
            return f"{inputs['protocol']} {inputs['endpoint']} (confirmed by SNS first)"
        case types.IMAGE:
            return f"build {inputs['context']} for {inputs['platform']}"
        case types.ECR_REPOSITORY:
            return "scan on push" if inputs["imageScanningConfiguration"]["scanOnPush"] else "no scan"
    return ""


def _rule_scope(rule: dict[str, Any]) -> str:
    if rule.get("ipProtocol") == "-1":
        return f"all from {rule.get('cidrIpv4')}" if rule.get("cidrIpv4") else "all"
    return f"tcp/{int(rule['fromPort'])}"


def shown(value: Any) -> str:
    """A value as `plan` prints it: a Pulumi secret only as `(secret)`."""
    return "(secret)" if is_rpc_secret(value) else str(value)


def policy_actions(document: dict[str, Any]) -> list[str]:
    """Every action an IAM policy document allows (a statement's Action is a string or a list)."""
    actions: set[str] = set()
    for statement in document["Statement"]:
        action = statement["Action"]
        actions.update([action] if isinstance(action, str) else action)
    return sorted(actions)


def _order(registration: Any) -> tuple[int, str, str]:
    kind = registration.typ
    rank = COMPONENT_ORDER.index(kind) if kind in COMPONENT_ORDER else len(COMPONENT_ORDER)
    return rank, registration.typ, registration.name


def tree_lines(run: StackRun) -> list[str]:
    inputs = {r.name + "|" + r.typ: dict(r.inputs) for r in run.resources}
    children: dict[str, list[Any]] = defaultdict(list)
    for registration in sorted(run.registrations, key=_order):
        children[registration.parent].append(registration)
    known = {x.urn for x in run.registrations}
    roots = sorted((r for r in run.registrations if r.parent not in known), key=_order)
    lines: list[str] = []

    def walk(node: Any, prefix: str, last: bool) -> None:
        detail = describe(node.typ, inputs.get(node.name + "|" + node.typ, {}))
        branch = "└─ " if last else "├─ "
        lines.append(f"{prefix}{branch}{node.name}  [{_short(node.typ)}]{'  ' + detail if detail else ''}")
        kids = children.get(node.urn, [])
        for i, kid in enumerate(kids):
            walk(kid, prefix + ("   " if last else "│  "), i == len(kids) - 1)

    for i, root in enumerate(roots):
        walk(root, "", i == len(roots) - 1)
    return lines


def cost_lines(cost: Estimate) -> list[str]:
    width = max(len(item.name) for item in cost.items)
    lines = [f"{'item':<{width}}  {'quantity':>14}  {'unit price':>12}  {'USD/month':>10}"]
    for item in cost.items:
        lines.append(
            f"{item.name:<{width}}  {item.quantity:>10,.2f} {'':<3}  {item.unit_usd:>12.5f}  {item.usd:>10.2f}"
            f"   ({item.unit})"
        )
    lines.append(f"{'total':<{width}}  {'':>14}  {'':>12}  {cost.total_usd:>10.2f}")
    prices = cost.prices
    lines.append(f"prices: {prices['region']} {prices['currency']}, collected {prices['collected']}")
    lines.append(f"  from {prices['collectedFrom']}")
    lines.append(f"not included: {prices['notIncluded']}")
    return lines


def advisories(plan: Plan) -> list[str]:
    """What is valid but worth knowing before `pulumi up`."""
    notes = []
    if plan.region_assumed:
        notes.append(
            f"the stack file sets no aws:region, so this plan assumes {plan.region}; `pulumi up` takes the region "
            f"from AWS_REGION, AWS_DEFAULT_REGION or the AWS profile instead. Set it in Pulumi.{plan.stack}.yaml"
        )
    if plan.cost is not None and plan.cost.prices["region"] != plan.region:
        notes.append(
            f"the cost uses {plan.cost.prices['region']} prices; {plan.region}'s differ (see the AWS price pages "
            "named in docs/aws-rules.md)"
        )
    inventory = plan.inventory
    if inventory is None:
        return notes
    for service in inventory.services:
        routes = [route.route_key for route in inventory.routes_to(service.name)]
        if service.tasks == 0 and routes:
            notes.append(
                f"services.{service.name}.desiredCount is 0, so its routes ({', '.join(sorted(routes))}) answer "
                "500/503 until a task runs: no healthy instance matches them"
            )
    if inventory.alarm_topics is not None:
        if not inventory.alarm_topics:
            notes.append("the 5xx alarm has no actions: it notifies no one (set api.errorAlarm.topicArn or email)")
        for topic in inventory.alarm_topics:
            if topic.created and topic.subscriptions == 0:
                notes.append(
                    "the 5xx alarm notifies a topic this stack creates, and no one is subscribed to it: "
                    "set api.errorAlarm.email or httpsEndpoint (or topicArn for an existing topic)"
                )
    return notes


def _origin(document: Mapping[str, Any]) -> dict[str, str]:
    """Which project, stack and region a plan document is of (the project from its URNs,
    `urn:pulumi:<stack>::<project>::…`)."""
    urn = next((str(r.get("urn", "")) for r in document.get("resources") or []), "")
    parts = urn.split("::")
    return {
        "project": parts[1] if len(parts) > 2 else "",
        "stack": str(document.get("stack", "")),
        "region": str(document.get("region", "")),
    }


def diff_warnings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What makes a diff of two plans something other than the change of one stack: another project, stack or
    region, whose every resource would then look added, replaced or deleted."""
    before, after = _origin(old), _origin(new)
    return [
        f"warning: the old plan is of {what} {before[what]!r}, this one of {what} {after[what]!r}: the diff "
        f"compares two {what}s, not a change of one"
        for what in ("project", "stack", "region")
        if before[what] and after[what] and before[what] != after[what]
    ]


def render(plan: Plan) -> str:
    if not plan.ok:
        return "\n".join(["validation findings:", *plan.findings])
    run, cost = plan.checked()
    assert plan.inventory is not None  # read with the cost
    zones = plan.inventory.zones
    where = f"zones assumed: {', '.join(zones)}" if zones else "in an existing VPC (network.existing)"
    header = (
        f"stack {plan.stack} in {plan.region}{' (assumed)' if plan.region_assumed else ''}: "
        f"{plural(len(run.registrations), 'resource')}"
        f" (offline, {where})"
    )
    warnings = [line for w in run.warnings for line in _warning_lines(w)] or ["  none"]
    notes = [f"  {note}" for note in advisories(plan)] or ["  none"]
    alternatives = [f"  {line}" for line in egress_alternatives(plan.inventory, cost.usage, cost.prices)] or ["  none"]
    return "\n".join(
        [
            header,
            "",
            *tree_lines(run),
            "",
            "monthly cost estimate:",
            *cost_lines(cost),
            "egress alternatives (priced the same way):",
            *alternatives,
            "",
            "validation: ok",
            "advisories (valid, but worth knowing):",
            *notes,
            "warnings (as pulumi up prints them):",
            *warnings,
        ]
    )


def _warning_lines(warning: str) -> list[str]:
    meaning = explain(warning)
    return [f"  {warning}", *([f"    ({meaning})"] if meaning else [])]
