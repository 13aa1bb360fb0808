"""What a replacement costs the people using the stack, and which replacements `mapgate up` asks about first.

Figures are the documented behaviour in docs/changes.md: ECS registers a task in Cloud Map once it is RUNNING and
healthy (start period plus health checks, typically 1-3 minutes); API Gateway makes a new VPC link AVAILABLE in
minutes (the provider waits for it on create).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mapgate import aws_facts
from mapgate import resource_types as types


@dataclass(frozen=True)
class Impact:
    users_see: str
    how_long: str


IMPACTS: dict[str, Impact] = {
    types.DISCOVERY_SERVICE: Impact(
        "the service's DNS name (and routes to it) answers nothing until ECS has re-registered its tasks in the "
        "new Cloud Map service",
        "1-3 minutes: a new deployment's tasks start and pass their health check",
    ),
    types.NAMESPACE: Impact(
        "every service's Cloud Map service is replaced with it: DNS names answer nothing, and routes answer 5xx, "
        "until each service's tasks are registered again (a renamed namespace also renames every DNS name)",
        "minutes (a new private hosted zone, then every service redeploys)",
    ),
    types.VPC_LINK: Impact(
        "routes answer 5xx from the moment their integrations switch until the new VPC link is AVAILABLE",
        "minutes (API Gateway provisions the link's network interfaces)",
    ),
    types.TASK_DEFINITION: Impact(
        "nothing if the new revision is healthy: ECS rolls the tasks, old ones stay until new ones pass checks",
        "a rolling deployment (minutes)",
    ),
    types.ECS_SERVICE: Impact(
        "a second ECS service starts its tasks and registers them next to the old ones; then the old is deleted",
        "a deployment (minutes), no gap",
    ),
    types.SUBNET: Impact(
        "tasks and the VPC link move to the new subnets: a deployment and a new VPC link",
        "minutes",
    ),
    types.HTTP_API: Impact("the API gets a new execute-api URL; the old one stops answering", "seconds to create"),
    types.DOMAIN_NAME: Impact("the custom domain answers nothing until DNS points at the new target", "minutes"),
    types.DYNAMODB_TABLE: Impact("the lease starts empty: a new leader is elected", "one lease period"),
    types.SECURITY_GROUP: Impact("tasks move to the new group with their next deployment", "a deployment"),
}


# The election's roles service is a Cloud Map service too, but API-only: no DNS; the leader/follower routes use it.
ROLES_SERVICE = Impact(
    "routes filtered by the leader attribute (e.g. GET /leader) answer 5xx until tasks register their roles in the "
    "new roles service",
    "1-3 minutes: a new deployment's tasks start and win or lose the lease",
)


def impact(typ: str, inputs: Mapping[str, Any] | None = None) -> Impact | None:
    if typ == types.DISCOVERY_SERVICE and (inputs or {}).get("type") == aws_facts.API_ONLY_SERVICE_TYPE:
        return ROLES_SERVICE
    return IMPACTS.get(typ)


# Replacements that take traffic away from users: `up` lists them with their cost and asks first.
DISRUPTIVE = frozenset({types.VPC_LINK, types.NAMESPACE, types.DISCOVERY_SERVICE})


def urn_type(urn: str) -> str:
    """The resource type of a URN (the last type of its parent chain)."""
    return urn.split("::")[2].rsplit("$", 1)[-1]


def _under_election(urn: str) -> bool:
    from mapgate.components.election import LeaderElection  # the token is defined once, on the component

    return LeaderElection.type_token in urn.split("::")[2].split("$")


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def disruptive(replaced_urns: Iterable[str], inputs: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """One line per replacement of the VPC link, the namespace or a Cloud Map service: what, and what it costs.

    Pure: `up` passes the URNs its preview replaces, `plan --diff` the ones it found (with each one's inputs, so
    that the election's roles service, API-only, is told apart from a DNS service).
    """
    lines = []
    for urn in sorted(set(replaced_urns)):
        typ = urn_type(urn)
        known = (inputs or {}).get(urn)
        if known is None and _under_election(urn):  # `up` knows URNs only: the roles service is the election's
            known = {"type": aws_facts.API_ONLY_SERVICE_TYPE}
        found = impact(typ, known)
        if typ in DISRUPTIVE and found is not None:
            lines.append(f"{urn_name(urn)} is replaced: {found.users_see} ({found.how_long})")
    return lines
