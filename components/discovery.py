"""Cloud Map: the private DNS namespace and one discovery service per Fargate service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ServiceConfig


@dataclass(frozen=True)
class DiscoveryArgs:
    namespace: str
    vpc_id: pulumi.Input[str]
    services: Mapping[str, ServiceConfig]
    tags: Mapping[str, str]


class Discovery(pulumi.ComponentResource):
    """Service discovery for the stack.

    Creates: an `aws.servicediscovery.PrivateDnsNamespace` on the VPC (a Route 53 private hosted zone), and
    per service an `aws.servicediscovery.Service` named after it with the configured record types and TTL,
    MULTIVALUE routing (up to 8 healthy answers) and a custom health config, so the container health that
    ECS reports decides which tasks DNS and API Gateway see (§2).
    """

    namespace_id: pulumi.Output[str]
    namespace_arn: pulumi.Output[str]
    namespace_name: pulumi.Output[str]
    hosted_zone_id: pulumi.Output[str]
    service_arns: dict[str, pulumi.Output[str]]
    service_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DiscoveryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:discovery:Discovery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        namespace = aws.servicediscovery.PrivateDnsNamespace(
            f"{name}-namespace",
            name=args.namespace,
            vpc=args.vpc_id,
            description="mapgate service discovery",
            tags=dict(args.tags),
            opts=child,
        )
        self.service_arns = {}
        self.service_ids = {}
        for svc_name in sorted(args.services):
            svc = args.services[svc_name]
            discovery_service = aws.servicediscovery.Service(
                f"{name}-{svc_name}",
                name=svc_name,
                description=f"tasks of mapgate service {svc_name}",
                dns_config=aws.servicediscovery.ServiceDnsConfigArgs(
                    namespace_id=namespace.id,
                    dns_records=[
                        aws.servicediscovery.ServiceDnsConfigDnsRecordArgs(type=record, ttl=svc.dns_ttl)
                        for record in svc.records
                    ],
                    routing_policy="MULTIVALUE",
                ),
                # §2: ECS pushes container health here. The threshold is deprecated (AWS always uses 1) but
                # must be sent: without it the provider creates no custom health config at all and shows a
                # diff on every run (hashicorp/terraform-provider-aws#44285). Expect its deprecation warning.
                health_check_custom_config=aws.servicediscovery.ServiceHealthCheckCustomConfigArgs(failure_threshold=1),
                # ECS deregisters tasks on its own; this only keeps `pulumi destroy` from failing on stragglers.
                force_destroy=True,
                tags={**args.tags, "mapgate:service": svc_name},
                opts=child,
            )
            self.service_arns[svc_name] = discovery_service.arn
            self.service_ids[svc_name] = discovery_service.id
        self.namespace_id = namespace.id
        self.namespace_arn = namespace.arn
        self.namespace_name = namespace.name
        self.hosted_zone_id = namespace.hosted_zone
        self.register_outputs(
            {"namespaceId": self.namespace_id, "namespaceName": self.namespace_name, "serviceArns": self.service_arns}
        )
