"""The AWS quotas and hard limits a `pulumi up` of this program would run into, checked on what it registers.

Each breach is a finding (the plan is not ok): a deploy would fail part-way, after creating resources. A finding
names the quota as AWS's Service Quotas console does and says how to raise it, or says that it cannot be raised.
"""

from __future__ import annotations

from collections import Counter

from mapgate import aws_facts
from mapgate import resource_types as types
from mapgate.cli.inventory import register_task_definition_request, request_bytes
from mapgate.offline import Resource, StackRun


def _label(resource: Resource | None, fallback: str) -> str:
    if resource is None:
        return fallback
    return str((resource.inputs.get("tags") or {}).get("Name") or resource.inputs.get("name") or resource.name)


def quota_findings(run: StackRun) -> list[str]:
    findings: list[str] = []
    by_id = {r.id: r for r in run.resources}
    limit = aws_facts.SECURITY_GROUP_RULES_PER_DIRECTION
    for typ, direction in ((types.INGRESS_RULE, "inbound"), (types.EGRESS_RULE, "outbound")):
        counts = Counter(str(r.inputs["securityGroupId"]) for r in run.of_type(typ))
        for group_id, count in sorted(counts.items()):
            if count > limit:
                findings.append(
                    f"security group {_label(by_id.get(group_id), group_id)}: {count} {direction} rules, over the "
                    f"default quota of {limit} {direction} rules per security group (Amazon VPC quota 'Inbound or "
                    "outbound rules per security group'). Fix: fewer rules (one port range or prefix list rule "
                    "instead of one rule per port or peer; for the VPC link group, fewer routed services per "
                    "stack), or raise the quota in Service Quotas (rules per group x groups per network interface "
                    "may not exceed 1,000)"
                )
    route_limit = aws_facts.ROUTES_PER_ROUTE_TABLE
    for table_id, count in sorted(Counter(str(r.inputs["routeTableId"]) for r in run.of_type(types.EC2_ROUTE)).items()):
        if count > route_limit:
            findings.append(
                f"route table {_label(by_id.get(table_id), table_id)}: {count} routes, over the default quota of "
                f"{route_limit} routes per route table (Amazon VPC quota 'Routes per route table'). Fix: summarize "
                "destinations into fewer CIDR blocks or a prefix list, or raise the quota (up to 1,000)"
            )
    service_limit = aws_facts.ECS_SERVICES_PER_CLUSTER
    for cluster, count in sorted(Counter(str(r.inputs["cluster"]) for r in run.of_type(types.ECS_SERVICE)).items()):
        if count > service_limit:
            findings.append(
                f"ECS cluster {cluster}: {count} services, over the default quota of {service_limit} services per "
                "cluster (Amazon ECS quota 'Services per cluster'). Fix: split the services across stacks, or "
                "raise the quota in Service Quotas"
            )
    findings += http_api_findings(run, by_id)
    findings += task_definition_findings(run)
    return findings


def http_api_findings(run: StackRun, by_id: dict[str, Resource]) -> list[str]:
    findings = []
    routes = Counter(str(r.inputs["apiId"]) for r in run.of_type(types.ROUTE))
    integrations = Counter(str(r.inputs["apiId"]) for r in run.of_type(types.INTEGRATION))
    for api_id in sorted(routes.keys() | integrations.keys()):
        api = _label(by_id.get(api_id), api_id)
        if routes[api_id] > aws_facts.ROUTES_PER_HTTP_API:
            findings.append(
                f"HTTP API {api}: {routes[api_id]} routes, over the default quota of {aws_facts.ROUTES_PER_HTTP_API} "
                "routes per API (API Gateway quota 'Routes per API'). It is raised per API, so only once the API "
                "exists: deploy at most 300 routes first, then request more for that API in Service Quotas "
                f"(quota code {aws_facts.ROUTES_PER_HTTP_API_QUOTA_CODE}), or split the routes across stacks"
            )
        if integrations[api_id] > aws_facts.INTEGRATIONS_PER_HTTP_API:
            findings.append(
                f"HTTP API {api}: {integrations[api_id]} integrations, over the limit of "
                f"{aws_facts.INTEGRATIONS_PER_HTTP_API} integrations per API (API Gateway 'Integrations per API', "
                "which cannot be raised). mapgate makes one integration per route: split the routes across stacks"
            )
    return findings


def task_definition_findings(run: StackRun) -> list[str]:
    findings = []
    limit = aws_facts.TASK_DEFINITION_MAX_BYTES
    for resource in run.of_type(types.TASK_DEFINITION):
        size = request_bytes(register_task_definition_request(dict(resource.inputs)))
        if size > limit:
            findings.append(
                f"task definition {resource.inputs.get('family') or resource.name}: {size:,} bytes, over the limit "
                f"of {limit:,} bytes (64 KiB) per task definition (Amazon ECS 'Task definition size', which cannot "
                "be raised). Fix: move large environment values into secrets (SSM parameters or Secrets Manager, "
                "read at task start) or into the image"
            )
    return findings
