"""A Copilot environment manifest turned into the stack-wide keys: network, domain certificate, insights."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mapgate.importers.copilot.ledger import ManifestLedger, Status
from mapgate.importers.copilot.mapping import get, items, text
from mapgate.importers.copilot.yaml12 import plain

NOT_SUPPORTED = {
    ("network", "vpc", "flow_logs"): "no VPC flow logs: turn them on for the VPC outside mapgate",
    ("network", "vpc", "security_group"): "mapgate makes one security group per service; use allowFrom",
    ("http", "private"): (
        "an internal ALB: mapgate's API is public; call services by Cloud Map name inside the VPC, or put IAM "
        "authorization on the routes"
    ),
    ("http", "public", "access_logs"): "the API's JSON access logs go to CloudWatch Logs (api.accessLogRetentionDays)",
    ("http", "public", "ssl_policy"): "API Gateway custom domains use TLS 1.2",
    ("http", "public", "ingress"): "the HTTP API has no source filter: use JWT or IAM authorization",
    ("http", "public", "security_groups"): "no ALB security group: the HTTP API is reached over HTTPS only",
    ("http", "public", "sg"): "no ALB security group: the HTTP API is reached over HTTPS only",
    ("cdn",): "CloudFront: put a CloudFront distribution in front of the API's domain outside mapgate",
    ("observability", "tracing"): "no X-Ray: instrument with OpenTelemetry from the app",
    ("vpc",): "Copilot ignores a top-level vpc: (it reads network.vpc), so the environment ran on its own VPC",
    ("variables",): "Copilot reads no variables in an environment manifest: give them to each service's environment",
}


@dataclass
class EnvironmentResult:
    stack: dict[str, Any] = field(default_factory=dict)
    """Stack-wide keys: network, containerInsights."""
    certificates: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    imported_vpc: bool = False


def map_environment(data: dict[str, Any], ledger: ManifestLedger) -> EnvironmentResult:
    result = EnvironmentResult()
    ledger.mark(("name",), "mapped", "the stack name (Pulumi.<env>.yaml)")
    ledger.mark(("type",), "mapped", "one mapgate stack")
    vpc = get(data, "network", "vpc")
    vpc_id = text(get(vpc, "id"))
    network: dict[str, Any] = {}
    if vpc_id:
        private = [text(get(s, "id")) for s in items(get(vpc, "subnets", "private")) if isinstance(s, dict)]
        public = [text(get(s, "id")) for s in items(get(vpc, "subnets", "public")) if isinstance(s, dict)]
        existing: dict[str, Any] = {"vpcId": vpc_id, "privateSubnetIds": [s for s in private if s]}
        if any(public):
            existing["publicSubnetIds"] = [s for s in public if s]
        network["existing"] = existing
        result.imported_vpc = True
        ledger.mark(("network", "vpc", "id"), "mapped", "network.existing.vpcId")
        ledger.mark(("network", "vpc", "subnets", "private"), "mapped", "network.existing.privateSubnetIds")
        ledger.mark(("network", "vpc", "subnets", "public"), "mapped", "network.existing.publicSubnetIds")
    else:
        if get(vpc, "id") is not None:
            ledger.mark(("network", "vpc", "id"), "approximated", "empty: Copilot created a VPC, and so does mapgate")
        cidr = text(get(vpc, "cidr"))
        if cidr:
            network["cidr"] = cidr
            ledger.mark(("network", "vpc", "cidr"), "mapped", "network.cidr")
        ledger.mark(
            ("network", "vpc", "subnets"),
            "approximated",
            "mapgate lays out one public and one private subnet per zone inside network.cidr itself",
        )
    if network:
        result.stack["network"] = network
    certificates = get(data, "http", "public", "certificates")
    if isinstance(certificates, list):
        result.certificates = [str(c) for c in certificates]
        detail = "api.domain.certificateArn"
        if len(certificates) > 1:
            detail += " (the first; one domain per stack)"
        ledger.mark(("http", "public", "certificates"), "mapped" if len(certificates) == 1 else "approximated", detail)
    insights = plain(get(data, "observability", "container_insights"))
    if insights is not None:
        result.stack["containerInsights"] = bool(insights)
        status: Status = "mapped" if isinstance(insights, bool) else "approximated"
        ledger.mark(("observability", "container_insights"), status, "containerInsights")
    for path, alternative in NOT_SUPPORTED.items():
        ledger.mark(path, "not supported", alternative)
    return result
