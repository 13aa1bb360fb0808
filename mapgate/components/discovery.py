"""Cloud Map: the private DNS namespace and one discovery service per Fargate service."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import servicediscovery

from mapgate import naming
from mapgate.components.base import Component


@dataclass(frozen=True)
class DiscoveredService:
    records: Sequence[str]
    """DNS record types to register per task: `A`, `SRV` or both (API routes and the election need SRV)."""
    ttl: int
    """TTL of those records, in seconds."""


@dataclass(frozen=True)
class DiscoveryArgs:
    namespace: str
    """The namespace's DNS name; each service is then `<service>.<namespace>`."""
    vpc_id: pulumi.Input[str]
    """The VPC whose resolver answers for the namespace (a Route 53 private hosted zone)."""
    services: Mapping[str, DiscoveredService]
    """The Cloud Map services to create, by service name."""
    tags: Mapping[str, str]


class Discovery(Component):
    """Service discovery for the stack.

    Creates: a `servicediscovery.PrivateDnsNamespace` on the VPC (a Route 53 private hosted zone), and per
    service a `servicediscovery.Service` named after it with the given record types and TTL, MULTIVALUE routing
    (up to 8 healthy answers) and a custom health config, so the container health that ECS reports decides which
    tasks DNS and API Gateway see.
    """

    namespace_id: pulumi.Output[str]
    namespace_arn: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    hosted_zone_id: pulumi.Output[str]
    service_arns: dict[str, pulumi.Output[str]]
    service_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DiscoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.DiscoveryChildren(name)
        namespace = servicediscovery.PrivateDnsNamespace(
            children.namespace,
            name=args.namespace,
            vpc=args.vpc_id,
            description="mapgate service discovery",
            tags=dict(args.tags),
            # A replacement (a new VPC, or a new name) is created before the old namespace is deleted. With the
            # same name Cloud Map then hashes the new namespace's HttpName; the election finds it by id, so it
            # keeps working, and DNS answers from the new zone the moment tasks move to the new VPC.
            opts=pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(name=children.namespace_before_0_2)]),
        )
        self.service_arns = {}
        self.service_ids = {}
        for service_name in sorted(args.services):
            spec = args.services[service_name]
            discovery_service = servicediscovery.Service(
                children.service(service_name),
                name=service_name,
                description=f"tasks of mapgate service {service_name}",
                dns_config=servicediscovery.ServiceDnsConfigArgs(
                    namespace_id=namespace.id,
                    dns_records=[
                        servicediscovery.ServiceDnsConfigDnsRecordArgs(type=record, ttl=spec.ttl)
                        for record in spec.records
                    ],
                    routing_policy="MULTIVALUE",
                ),
                # ECS pushes container health here. The threshold is deprecated (AWS always uses 1) but must be
                # sent: without it the provider creates no custom health config at all and shows a diff on every
                # run (hashicorp/terraform-provider-aws#44285). Expect its deprecation warning.
                health_check_custom_config=servicediscovery.ServiceHealthCheckCustomConfigArgs(failure_threshold=1),
                # ECS deregisters tasks on its own; this only keeps `pulumi destroy` from failing on stragglers.
                force_destroy=True,
                tags={**args.tags, naming.SERVICE_TAG: service_name},
                # Its name is fixed within the namespace (it is the DNS name callers use), and record types, routing
                # and health config force a replacement: a second one beside it fails (ServiceAlreadyExists).
                # So the old one goes first (force_destroy deregisters its tasks), and the ECS service then moves
                # its registry to the new one in place (docs/changes.md).
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            self.service_arns[service_name] = discovery_service.arn
            self.service_ids[service_name] = discovery_service.id
        self.namespace_id = namespace.id
        self.namespace_arn = namespace.arn
        self.namespace_name = namespace.name
        self.hosted_zone_id = namespace.hosted_zone
        self.register_outputs(
            {"namespaceId": self.namespace_id, "namespaceName": self.namespace_name, "serviceArns": self.service_arns}
        )
