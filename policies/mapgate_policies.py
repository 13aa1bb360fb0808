"""mapgate's guardrails as Pulumi CrossGuard policies, each mapped to the control it enforces.

Every rule is a plain function over resource properties (camelCase, as the engine passes them), so tests run
them on what the real dev and prod stacks register. `__main__.py` wraps them in a PolicyPack for
`pulumi preview --policy-pack policies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

MANDATORY, ADVISORY = EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY

# Resource type tokens. The pack deploys into its own virtualenv without mapgate, so it names them itself;
# tests/test_structure.py checks each against mapgate.resource_types.

ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
CLUSTER = "aws:ecs/cluster:Cluster"
DISCOVERY_SERVICE = "aws:servicediscovery/service:Service"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
STAGE = "aws:apigatewayv2/stage:Stage"
ROUTE = "aws:apigatewayv2/route:Route"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
INSTANCE = "aws:ec2/instance:Instance"
# The tag mapgate sets on every resource of a production stack (mapgate.naming.ENVIRONMENT_TAG).
ENVIRONMENT_TAG = "mapgate:environment"

ANYWHERE = {"0.0.0.0/0", "::/0"}

# Actions that accept no narrower resource than "*" (Service Authorization Reference): only these may use it.
API_ONLY_SERVICE_TYPE = "HTTP"

ACTIONS_WITHOUT_RESOURCE_LEVEL = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "servicediscovery:ListNamespaces",
        "servicediscovery:ListServices",
        "servicediscovery:ListOperations",
        "cloudwatch:PutMetricData",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:DescribeLogGroups",
    }
)

Report = Callable[[str], None]


@dataclass(frozen=True)
class Rule:
    name: str
    control: str  # AWS Foundational Security Best Practices control, Checkov check, or the mapgate reason
    description: str
    enforcement: EnforcementLevel
    resource_type: str | None  # None: a stack rule, over every resource
    check: Callable[..., None]
    """(props, report) for a resource rule; (resources, report), plus the policy's config when it has a
    `config_schema`, for a stack rule."""
    config_schema: PolicyConfigSchema | None = None


# --- helpers ------------------------------------------------------------------------------------------------


def containers(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = props.get("containerDefinitions") or "[]"
    return list(json.loads(value) if isinstance(value, str) else value)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _document(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value or {})


# --- resource rules -----------------------------------------------------------------------------------------


def public_ip(props: Mapping[str, Any], report: Report) -> None:
    if (props.get("networkConfiguration") or {}).get("assignPublicIp"):
        report("tasks get public IP addresses; without NAT that is how they reach ECR and AWS APIs (dev), "
               "and their security groups still admit only the VPC link and declared peers")  # fmt: skip


def no_privileged_containers(props: Mapping[str, Any], report: Report) -> None:
    for container in containers(props):
        if container.get("privileged"):
            report(f"container {container.get('name')} runs privileged")


def read_only_root(props: Mapping[str, Any], report: Report) -> None:
    for container in containers(props):
        if container.get("readonlyRootFilesystem") is not True:
            report(f"container {container.get('name')} has a writable root filesystem (set readOnlyRootFilesystem)")


def container_insights_in_production(props: Mapping[str, Any], report: Report) -> None:
    if (props.get("tags") or {}).get(ENVIRONMENT_TAG) != "production":
        return
    settings = {s.get("name"): s.get("value") for s in props.get("settings") or []}
    if settings.get("containerInsights") not in ("enabled", "enhanced"):
        report("a production cluster must have Container Insights on (containerInsights: true)")


def health_checks(props: Mapping[str, Any], report: Report) -> None:
    # A container without a port (a queue worker) is in no Cloud Map service: nothing drops it, nothing dials it.
    for container in containers(props):
        listens = bool(container.get("portMappings"))
        if container.get("essential", True) and listens and not (container.get("healthCheck") or {}).get("command"):
            report(f"essential container {container.get('name')} has no health check, so Cloud Map cannot drop it")


def container_logs(props: Mapping[str, Any], report: Report) -> None:
    for container in containers(props):
        if not (container.get("logConfiguration") or {}).get("logDriver"):
            report(f"container {container.get('name')} has no log configuration")


def cloud_map_custom_health(props: Mapping[str, Any], report: Report) -> None:
    # An API-only service (Type HTTP) has no DNS records and no tasks registered by ECS: the leader election's
    # roles service, whose instances the app registers and removes itself. ECS health does not apply there.
    api_only = props.get("type") == API_ONLY_SERVICE_TYPE
    if not api_only and props.get("healthCheckCustomConfig") is None:
        report("no custom health config: Cloud Map would hand out unhealthy and starting tasks")
    if props.get("healthCheckConfig"):
        report("Route 53 health checks do not work in a private DNS namespace")


def imdsv2_no_key_pair(props: Mapping[str, Any], report: Report) -> None:
    if (props.get("metadataOptions") or {}).get("httpTokens") != "required":
        report("instance metadata answers without a session token: require IMDSv2 (metadataOptions.httpTokens)")
    if props.get("keyName"):
        report(f"instance has the key pair {props['keyName']}; reach it through SSM Session Manager instead")


def no_open_ingress(props: Mapping[str, Any], report: Report) -> None:
    if props.get("cidrIpv4") in ANYWHERE or props.get("cidrIpv6") in ANYWHERE:
        report(f"ingress from {props.get('cidrIpv4') or props.get('cidrIpv6')}")


def no_open_inline_ingress(props: Mapping[str, Any], report: Report) -> None:
    for rule in props.get("ingress") or []:
        opened = ANYWHERE & set((rule.get("cidrBlocks") or []) + (rule.get("ipv6CidrBlocks") or []))
        if opened:
            report(f"inline ingress from {', '.join(sorted(opened))}")


def _least_privilege(document: Mapping[str, Any], report: Report) -> None:
    for statement in _as_list(document.get("Statement") or []):
        if statement.get("Effect") != "Allow":
            continue
        actions = [str(a) for a in _as_list(statement.get("Action") or [])]
        wild = [a for a in actions if a == "*" or a.endswith(":*")]
        if wild:
            report(f"wildcard action {', '.join(wild)}")
        if "*" in _as_list(statement.get("Resource") or []):
            narrowable = [a for a in actions if a not in ACTIONS_WITHOUT_RESOURCE_LEVEL]
            if narrowable:
                report(f"resource '*' for {', '.join(narrowable)}, which accept a narrower resource")


def least_privilege_policy(props: Mapping[str, Any], report: Report) -> None:
    _least_privilege(_document(props.get("policy")), report)


def least_privilege_inline(props: Mapping[str, Any], report: Report) -> None:
    for inline in props.get("inlinePolicies") or []:
        _least_privilege(_document(inline.get("policy")), report)


def log_retention(props: Mapping[str, Any], report: Report) -> None:
    if not props.get("retentionInDays"):
        report("log group keeps logs forever; set a retention")


def stage_access_logs(props: Mapping[str, Any], report: Report) -> None:
    settings = props.get("accessLogSettings") or {}
    if not settings.get("destinationArn") or "$context.requestId" not in str(settings.get("format", "")):
        report("stage has no access log (destination and a format with $context.requestId)")


def stage_throttling(props: Mapping[str, Any], report: Report) -> None:
    settings = props.get("defaultRouteSettings") or {}
    for key in ("throttlingRateLimit", "throttlingBurstLimit"):
        if not settings.get(key) or settings[key] <= 0:
            report(f"{key} is missing or 0: every request would get 429")


def circuit_breaker(props: Mapping[str, Any], report: Report) -> None:
    breaker = props.get("deploymentCircuitBreaker") or {}
    if not (breaker.get("enable") and breaker.get("rollback")):
        report("deployment circuit breaker with rollback is off: a broken image would loop forever")


# --- stack rules ----------------------------------------------------------------------------------------------


def _is_nat_instance(typ: str, props: Mapping[str, Any]) -> bool:
    # An instance that forwards others' packets must have the source/dest check off; nothing else does.
    return typ == INSTANCE and props.get("sourceDestCheck") is False


def has_nat(resources: list[tuple[str, Mapping[str, Any]]]) -> bool:
    return any(typ == NAT_GATEWAY or _is_nat_instance(typ, props) for typ, props in resources)


def nat_instance_closed(resources: list[tuple[str, Mapping[str, Any]]], report: Report) -> None:
    """A NAT instance's groups admit nothing from anywhere and no SSH.

    Inline rules are the no-inline-ingress-from-anywhere rule's."""
    groups = {
        str(group)
        for typ, props in resources
        if _is_nat_instance(typ, props)
        for group in props.get("vpcSecurityGroupIds") or []
    }
    for typ, rule in resources:
        if typ != INGRESS_RULE or str(rule.get("securityGroupId")) not in groups:
            continue
        opened = {rule.get("cidrIpv4"), rule.get("cidrIpv6")} & ANYWHERE
        if opened:
            report(f"the NAT instance's security group admits {', '.join(sorted(str(o) for o in opened))}")
        low, high = rule.get("fromPort"), rule.get("toPort")
        if low is not None and high is not None and low <= 22 <= high:
            report("the NAT instance's security group opens SSH (port 22); use SSM Session Manager")


def no_public_ip_behind_nat(resources: list[tuple[str, Mapping[str, Any]]], report: Report) -> None:
    if not has_nat(resources):
        return
    for typ, props in resources:
        if typ == ECS_SERVICE and (props.get("networkConfiguration") or {}).get("assignPublicIp"):
            report("the stack has NAT gateways, yet an ECS service gives its tasks public IPs")


# The one route mapgate expects to be public in production: the entry point.
OPEN_ROUTE = "GET /"
PUBLIC_ROUTES_CONFIG = PolicyConfigSchema(
    properties={
        "publicRoutes": {
            "type": "array",
            "items": {"type": "string"},
            "description": 'route keys (such as "GET /health") that are public on purpose',
        }
    }
)


def routes_have_authorizers(
    resources: Sequence[tuple[str, Mapping[str, Any]]], report: Report, config: Mapping[str, Any]
) -> None:
    """In production, every route but the entry point needs IAM or a JWT. Opt out per route with the pack's
    config: `{"http-api-routes-have-authorizers": {"publicRoutes": ["GET /health"]}}`."""
    production = any((props.get("tags") or {}).get(ENVIRONMENT_TAG) == "production" for _, props in resources)
    if not production:
        return
    public = {OPEN_ROUTE, *(config.get("publicRoutes") or [])}
    for typ, props in resources:
        if typ != ROUTE or props.get("routeKey") in public:
            continue
        if props.get("authorizationType") in (None, "NONE"):
            report(
                f"route {props.get('routeKey')} is open to the internet: set its authorization to iam or "
                "{jwt: …}, or list it in this policy's publicRoutes config"
            )


RULES: list[Rule] = [
    Rule("ecs-no-public-ip-behind-nat", "ECS.2", "No public task IPs in a stack that has NAT gateways.",
         MANDATORY, None, no_public_ip_behind_nat),
    Rule("nat-instance-no-public-ingress", "EC2.18 / EC2.19",
         "A NAT instance admits nothing from anywhere and no SSH.", MANDATORY, None, nat_instance_closed),
    Rule("ec2-imdsv2-no-key-pair", "EC2.8", "Instances require IMDSv2 and carry no SSH key pair.",
         MANDATORY, INSTANCE, imdsv2_no_key_pair),
    Rule("ecs-public-ip", "ECS.2", "Tasks with public IPs (the cheap no-NAT layout of dev).",
         ADVISORY, ECS_SERVICE, public_ip),
    Rule("ecs-no-privileged-containers", "ECS.4", "Containers do not run privileged.",
         MANDATORY, TASK_DEFINITION, no_privileged_containers),
    Rule("ecs-read-only-root-filesystem", "ECS.5", "Containers have a read-only root filesystem.",
         ADVISORY, TASK_DEFINITION, read_only_root),
    Rule("ecs-container-logs", "ECS.9", "Every container sends its logs somewhere.",
         MANDATORY, TASK_DEFINITION, container_logs),
    Rule("ecs-container-insights-in-production", "ECS.12", "Production clusters have Container Insights on.",
         MANDATORY, CLUSTER, container_insights_in_production),
    Rule("ecs-essential-containers-health-checked", "mapgate (Cloud Map health, no FSBP control)",
         "Every essential container has a health check.", MANDATORY, TASK_DEFINITION, health_checks),
    Rule("ecs-deployment-circuit-breaker", "mapgate (no FSBP control)",
         "ECS services roll back failed deployments.", MANDATORY, ECS_SERVICE, circuit_breaker),
    Rule("cloud-map-custom-health", "mapgate (sst#5915, no FSBP control)",
         "Cloud Map services take task health from ECS.", MANDATORY, DISCOVERY_SERVICE, cloud_map_custom_health),
    Rule("no-ingress-from-anywhere", "EC2.18 / EC2.19", "No security group rule admits 0.0.0.0/0 or ::/0.",
         MANDATORY, INGRESS_RULE, no_open_ingress),
    Rule("no-inline-ingress-from-anywhere", "EC2.18 / EC2.19", "No inline security group rule admits anywhere.",
         MANDATORY, SECURITY_GROUP, no_open_inline_ingress),
    Rule("iam-no-wildcards", "IAM.21", "No '*' action; '*' resource only for actions with no narrower one.",
         MANDATORY, ROLE_POLICY, least_privilege_policy),
    Rule("iam-no-wildcards-inline", "IAM.21", "The same for roles' inline policies.",
         MANDATORY, ROLE, least_privilege_inline),
    Rule("log-group-retention", "Checkov CKV_AWS_66", "Every log group has a retention.",
         MANDATORY, LOG_GROUP, log_retention),
    Rule("http-api-access-logs", "APIGateway.9", "HTTP API stages write access logs.",
         MANDATORY, STAGE, stage_access_logs),
    Rule("http-api-throttling", "mapgate (pulumi-aws#2363)", "HTTP API stages throttle at more than 0.",
         MANDATORY, STAGE, stage_throttling),
    Rule("http-api-routes-have-authorizers", "APIGateway.8",
         "In production, every route but GET / has an authorizer (opt out per route: publicRoutes).",
         ADVISORY, None, routes_have_authorizers, PUBLIC_ROUTES_CONFIG),
]  # fmt: skip


def _resource_policy(rule: Rule) -> Policy:
    check: Any = rule.check

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type == rule.resource_type:
            check(args.props, lambda message: report(f"[{rule.control}] {message}", args.urn))

    return ResourceValidationPolicy(
        name=rule.name, description=f"{rule.description} ({rule.control})", validate=validate,
        enforcement_level=rule.enforcement,
    )  # fmt: skip


def _stack_policy(rule: Rule) -> Policy:
    check: Any = rule.check

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = (args.get_config(),) if rule.config_schema is not None else ()
        check(
            [(r.resource_type, r.props) for r in args.resources],
            lambda message: report(f"[{rule.control}] {message}", None),
            *config,
        )

    return StackValidationPolicy(
        name=rule.name, description=f"{rule.description} ({rule.control})", validate=validate,
        enforcement_level=rule.enforcement, config_schema=rule.config_schema,
    )  # fmt: skip


def policies() -> list[Policy]:
    return [_resource_policy(r) if r.resource_type else _stack_policy(r) for r in RULES]
