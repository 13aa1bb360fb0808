"""The stack output `statusTargets`: what `mapgate status` needs to find a stack's parts in AWS.

Written by `mapgate.stack.build()` (`targets_output`) and read here (`StatusTargets.parse`), so that the two ends
share one definition; tests/test_status.py ties them with a mock run of the shipped stacks.

Its shape (all plain JSON):

    {"version": 1, "cluster": "<ECS cluster>", "namespaceId": "ns-…", "vpcId": "vpc-…",
     "egress": "publicIp|natGateway|natGatewayPerAz|natInstance|natInstancePerAz|existing",
     "errorAlarm": "<alarm name>" | null,
     "services": {"<svc>": {"ecsService": "…", "cloudMapServiceId": "srv-…" | null (no port), "logGroup": "…",
                            "election": {"leaseTable": "…", "leaseKey": "<svc>", "rolesServiceId": "srv-…",
                                         "rolesServiceName": "…", "attribute": "leader"} | null}},
     "routes": {"GET /leader": {"service": "<svc>", "cloudMapService": "<name to discover>",
                                "filter": {"leader": "true"}}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mapgate.errors import UsageError

OUTPUT = "statusTargets"
VERSION = 1


@dataclass(frozen=True)
class ElectionTarget:
    lease_table: str
    lease_key: str
    roles_service_id: str
    roles_service_name: str
    attribute: str


@dataclass(frozen=True)
class ServiceTarget:
    ecs_service: str
    cloud_map_service_id: str | None
    """None for a service without a port: it registers in no Cloud Map service."""
    log_group: str
    election: ElectionTarget | None


@dataclass(frozen=True)
class RouteTarget:
    service: str
    cloud_map_service: str
    filter: Mapping[str, str]


@dataclass(frozen=True)
class StatusTargets:
    cluster: str
    namespace_id: str
    vpc_id: str
    egress: str
    error_alarm: str | None
    services: Mapping[str, ServiceTarget]
    routes: Mapping[str, RouteTarget]

    @classmethod
    def parse(cls, outputs: Mapping[str, Any], stack: str) -> StatusTargets:
        """From the stack outputs (values, or the Automation API's OutputValue); UsageError when they lack it."""
        if not outputs:
            raise UsageError(f"stack {stack} has no outputs: it was never deployed (run `mapgate up -s {stack}`)")
        raw = outputs.get(OUTPUT)
        raw = getattr(raw, "value", raw)
        if raw is None:
            raise UsageError(
                f"stack {stack} has no {OUTPUT} output: it was deployed by an older mapgate; "
                f"run `mapgate up -s {stack}` once with this version"
            )
        try:
            return cls._from(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UsageError(f"stack {stack}: the {OUTPUT} output is not what this mapgate wrote ({error!r})") from None

    @classmethod
    def _from(cls, raw: Mapping[str, Any]) -> StatusTargets:
        if raw["version"] != VERSION:
            raise ValueError(f"version {raw['version']}, expected {VERSION}")
        services = {}
        for name, item in raw["services"].items():
            election = item.get("election")
            services[name] = ServiceTarget(
                ecs_service=str(item["ecsService"]),
                cloud_map_service_id=None if item["cloudMapServiceId"] is None else str(item["cloudMapServiceId"]),
                log_group=str(item["logGroup"]),
                election=ElectionTarget(
                    lease_table=str(election["leaseTable"]),
                    lease_key=str(election["leaseKey"]),
                    roles_service_id=str(election["rolesServiceId"]),
                    roles_service_name=str(election["rolesServiceName"]),
                    attribute=str(election["attribute"]),
                )
                if election
                else None,
            )
        routes = {
            key: RouteTarget(
                service=str(item["service"]),
                cloud_map_service=str(item["cloudMapService"]),
                filter={str(k): str(v) for k, v in item["filter"].items()},
            )
            for key, item in raw["routes"].items()
        }
        return cls(
            cluster=str(raw["cluster"]),
            namespace_id=str(raw["namespaceId"]),
            vpc_id=str(raw["vpcId"]),
            egress=str(raw["egress"]),
            error_alarm=str(raw["errorAlarm"]) if raw.get("errorAlarm") else None,
            services=services,
            routes=routes,
        )
