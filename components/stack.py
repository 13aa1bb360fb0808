"""`build()`: validated config in, one component per concept, stack outputs out."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster import Cluster, ClusterArgs
from components.config import ELECTION_ATTRIBUTE, PROJECT, Architecture, ImageBuild, StackConfig
from components.discovery import Discovery, DiscoveryArgs
from components.fargate_service import AwsContext, ElectionWiring, FargateService, FargateServiceArgs
from components.firewall import Firewall, FirewallArgs
from components.http_api import HttpApi, HttpApiArgs
from components.image import ImageRepository, ImageRepositoryArgs
from components.network import Network, NetworkArgs, resolve_zones


@dataclass(frozen=True)
class StackOutputs:
    api_url: pulumi.Output[str] | None
    route_urls: pulumi.Output[dict[str, str]] | dict[str, str]
    namespace_name: pulumi.Output[str]
    service_dns_names: dict[str, str]
    cluster_name: pulumi.Output[str]
    vpc_id: pulumi.Output[str]

    def export(self) -> None:
        pulumi.export("apiUrl", self.api_url)
        pulumi.export("routeUrls", self.route_urls)
        pulumi.export("namespaceName", self.namespace_name)
        pulumi.export("serviceDnsNames", self.service_dns_names)
        pulumi.export("clusterName", self.cluster_name)
        pulumi.export("vpcId", self.vpc_id)


ELECTION_INTERVAL_SECONDS = 10


def look_up_aws() -> AwsContext:
    return AwsContext(
        region=aws.get_region().region,
        account_id=aws.get_caller_identity().account_id,
        partition=aws.get_partition().partition,
    )


def platform_environment(service: str, port: int, namespace: str) -> dict[str, str]:
    """What every container is told about itself (the MAPGATE_ prefix is reserved for this)."""
    return {"MAPGATE_SERVICE": service, "MAPGATE_NAMESPACE": namespace, "MAPGATE_PORT": str(port)}


def image_names(cfg: StackConfig) -> dict[tuple[str, Architecture], str]:
    """One image per (build directory, architecture), named readably; a short hash only if two names clash."""
    keys = sorted(
        {(svc.image.build, svc.architecture) for svc in cfg.services.values() if isinstance(svc.image, ImageBuild)}
    )
    names: dict[tuple[str, Architecture], str] = {}
    for directory, architecture in keys:
        name = f"image-{re.sub(r'[^a-z0-9]+', '-', directory.lower()).strip('-')}-{architecture}"
        if name in names.values():
            name += "-" + hashlib.sha1(directory.encode()).hexdigest()[:6]
        names[(directory, architecture)] = name
    return names


def build(cfg: StackConfig, stack: str) -> StackOutputs:
    """Create the whole platform for one stack. Every lookup that can fail runs before the first resource."""
    context = look_up_aws()
    zones = resolve_zones(cfg.network, context.region)
    tags = {
        "mapgate:project": PROJECT,
        "mapgate:stack": stack,
        # Read by the policy pack: production-only rules (e.g. ECS.12) key off this tag.
        "mapgate:environment": "production" if cfg.production else "development",
    }
    routed = frozenset(cfg.routed_services())

    network = Network("network", NetworkArgs(network=cfg.network, zones=zones, tags=tags))
    firewall = Firewall(
        "firewall", FirewallArgs(vpc_id=network.vpc_id, services=cfg.services, routed=routed, tags=tags)
    )
    discovery = Discovery(
        "discovery", DiscoveryArgs(namespace=cfg.namespace, vpc_id=network.vpc_id, services=cfg.services, tags=tags)
    )
    cluster = Cluster(
        "cluster",
        ClusterArgs(cluster_name=f"{PROJECT}-{stack}", container_insights=cfg.container_insights, tags=tags),
    )

    images = {
        (directory, architecture): ImageRepository(
            image_name, ImageRepositoryArgs(context=directory, architecture=architecture, tags=tags)
        )
        for (directory, architecture), image_name in image_names(cfg).items()
    }

    for name in sorted(cfg.services):
        svc = cfg.services[name]
        image = (
            images[(svc.image.build, svc.architecture)].image_uri if isinstance(svc.image, ImageBuild) else svc.image
        )
        FargateService(
            name,
            FargateServiceArgs(
                service=svc,
                image=image,
                cluster_arn=cluster.cluster_arn,
                cluster_name=cluster.cluster_name,
                subnet_ids=network.task_subnet_ids,
                assign_public_ip=cfg.network.tasks_in_public_subnets,
                security_group_id=firewall.task_security_group_ids[name],
                registry_arn=discovery.service_arns[name],
                log_group_name=f"/{PROJECT}/{stack}/{name}",
                log_retention_days=cfg.log_retention_days,
                aws=context,
                family=f"{PROJECT}-{stack}-{name}",
                extra_environment=platform_environment(name, svc.port, cfg.namespace),
                election=ElectionWiring(
                    service_id=discovery.service_ids[name],
                    service_arn=discovery.service_arns[name],
                    namespace_arn=discovery.namespace_arn,
                    hosted_zone_id=discovery.hosted_zone_id,
                    attribute=ELECTION_ATTRIBUTE,
                    interval_seconds=ELECTION_INTERVAL_SECONDS,
                )
                if svc.leader_election
                else None,
                tags={**tags, "mapgate:service": name},
            ),
        )

    api_url: pulumi.Output[str] | None = None
    route_urls: pulumi.Output[dict[str, str]] | dict[str, str] = {}
    if cfg.api.routes:
        assert firewall.vpc_link_security_group_id is not None  # created whenever a route exists
        api = HttpApi(
            "api",
            HttpApiArgs(
                api=cfg.api,
                subnet_ids=network.task_subnet_ids,
                vpc_link_security_group_id=firewall.vpc_link_security_group_id,
                service_arns=discovery.service_arns,
                access_log_group_name=f"/aws/vendedlogs/apis/{PROJECT}-{stack}",
                tags=tags,
            ),
        )
        api_url, route_urls = api.api_endpoint, api.route_urls

    return StackOutputs(
        api_url=api_url,
        route_urls=route_urls,
        namespace_name=discovery.namespace_name,
        service_dns_names={name: f"{name}.{cfg.namespace}" for name in sorted(cfg.services)},
        cluster_name=cluster.cluster_name,
        vpc_id=network.vpc_id,
    )
