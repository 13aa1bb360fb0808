"""`build()`: the composition root. Validated config in, one component per concept, stack outputs out."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from mapgate import PROJECT, contract, naming
from mapgate.components.api import ApiRoute, ErrorAlarmArgs, HttpApi, HttpApiArgs, JwtAuthorizerArgs, route_urls
from mapgate.components.cluster import Cluster, ClusterArgs
from mapgate.components.dashboard import Dashboard, DashboardArgs
from mapgate.components.discovery import DiscoveredService, Discovery, DiscoveryArgs
from mapgate.components.domain import ApiDomain, ApiDomainArgs
from mapgate.components.election import LeaderElection, LeaderElectionArgs
from mapgate.components.image import ImageRepository, ImageRepositoryArgs
from mapgate.components.network import (
    ExistingNetwork,
    Firewall,
    FirewallArgs,
    NatInstanceSpec,
    NatKind,
    Network,
    NetworkArgs,
)
from mapgate.components.service import (
    AwsContext,
    ContainerHealthCheck,
    ElectionWiring,
    FargateService,
    FargateServiceArgs,
    Scaling,
)
from mapgate.components.task_secrets import StoredSecret, TaskSecret
from mapgate.config import ConfigError, ConfigSecret, ImageBuild, NetworkConfig, ServiceConfig, StackConfig
from mapgate.config.api import JwtAuthorization, authorization_kind
from mapgate.config.secrets import ArnContext
from mapgate.lookups import check_existing_vpc, look_up_aws, nat_instance_ami, resolve_zones
from mapgate.ops import targets


@dataclass(frozen=True)
class StackOutputs:
    api_url: pulumi.Output[str] | None
    route_urls: pulumi.Output[dict[str, str]] | dict[str, str]
    namespace_name: pulumi.Output[str]
    service_dns_names: dict[str, str]
    cluster_name: pulumi.Output[str]
    vpc_id: pulumi.Output[str]
    alarm_topic_arn: pulumi.Output[str] | None
    route_authorization: dict[str, str]
    """Route key -> none, iam or jwt: what `mapgate call` reads to sign a request or send a token."""
    region: str
    """Where the API is: the Region `mapgate call` signs for."""
    api_execution_arn: pulumi.Output[str] | None
    """What an IAM policy grants execute-api:Invoke under: `<arn>/$default/GET/leader`."""
    status_targets: pulumi.Output[dict[str, Any]]
    """Where `mapgate status` finds each part in AWS (mapgate/ops/targets.py)."""
    dashboard_url: str
    """The stack's CloudWatch dashboard in the console."""

    def export(self) -> None:
        pulumi.export("apiUrl", self.api_url)
        pulumi.export("routeUrls", self.route_urls)
        pulumi.export("namespaceName", self.namespace_name)
        pulumi.export("serviceDnsNames", self.service_dns_names)
        pulumi.export("clusterName", self.cluster_name)
        pulumi.export("vpcId", self.vpc_id)
        pulumi.export("alarmTopicArn", self.alarm_topic_arn)
        pulumi.export("routeAuthorization", self.route_authorization)
        pulumi.export("region", self.region)
        pulumi.export("apiExecutionArn", self.api_execution_arn)
        pulumi.export(targets.OUTPUT, self.status_targets)
        pulumi.export("dashboardUrl", self.dashboard_url)


def image_builds(cfg: StackConfig) -> dict[tuple[str, str], ImageBuild]:
    """Each distinct build (`ImageBuild.identity`) per architecture: one image each."""
    return {
        (svc.image.identity, svc.architecture): svc.image
        for svc in cfg.services.values()
        if isinstance(svc.image, ImageBuild)
    }


def image_names(cfg: StackConfig) -> dict[tuple[str, str], str]:
    """One image per (build, architecture), named after its directory; a short hash only if two names clash."""
    builds = image_builds(cfg)
    names: dict[tuple[str, str], str] = {}
    # Plain builds first: a build with its own Dockerfile, target or args never takes the name a plain one has.
    for identity, architecture in sorted(builds, key=lambda key: (key[0] != builds[key].build, key)):
        name = naming.image(builds[(identity, architecture)].build, architecture)
        if name in names.values():
            name += "-" + hashlib.sha1(identity.encode()).hexdigest()[:6]
        names[(identity, architecture)] = name
    return names


def peers_of(name: str, cfg: StackConfig) -> tuple[dict[str, str], dict[str, str]]:
    """The services `name` may call (it is in their allowFrom): gRPC targets, and SRV names of `tcp` services."""
    grpc_peers: dict[str, str] = {}
    srv_peers: dict[str, str] = {}
    for peer, svc in sorted(cfg.services.items()):
        if name not in svc.allow_from:
            continue
        if svc.protocol == "grpc":
            grpc_peers[peer] = f"dns:///{peer}.{cfg.namespace}:{svc.port}"
        elif svc.protocol == "tcp" and svc.registers_srv:
            srv_peers[peer] = f"{peer}.{cfg.namespace}"
    return grpc_peers, srv_peers


def task_environment(
    name: str, svc: ServiceConfig, cfg: StackConfig, discovery: Discovery, election: LeaderElection | None
) -> dict[str, pulumi.Input[str]]:
    """Everything a container is told: the user's variables, then the `mapgate.contract` ones."""
    environment: dict[str, pulumi.Input[str]] = {
        **svc.environment,
        contract.ENV_SERVICE: name,
        contract.ENV_NAMESPACE: cfg.namespace,
        contract.ENV_EXPOSE_TASK_INFO: contract.flag(cfg.exposes_task_info),
    }
    if svc.port is not None:
        environment[contract.ENV_PORT] = str(svc.port)
    grpc_peers, srv_peers = peers_of(name, cfg)
    if grpc_peers:
        environment[contract.ENV_GRPC_PEERS] = contract.peer_list(grpc_peers)
    if srv_peers:
        environment[contract.ENV_SRV_PEERS] = contract.peer_list(srv_peers)
    if svc.leader_election:
        assert election is not None  # created whenever a service elects
        environment |= {
            contract.ENV_CLOUDMAP_NAMESPACE_ID: discovery.namespace_id,
            contract.ENV_ROLES_SERVICE_ID: election.roles_service_ids[name],
            contract.ENV_ROLES_SERVICE_NAME: naming.roles_service_name(name),
            contract.ENV_LEASE_TABLE: election.table_name,
            contract.ENV_ELECTION_ATTRIBUTE: contract.ELECTION_ATTRIBUTE,
            contract.ENV_ELECTION_INTERVAL: str(contract.ELECTION_INTERVAL_SECONDS),
            contract.ENV_LEASE_TTL: str(contract.LEASE_TTL_SECONDS),
        }
    return environment


def task_secrets(
    name: str, svc: ServiceConfig, *, stack: str, context: AwsContext
) -> tuple[list[TaskSecret], list[StoredSecret]]:
    """The service's secrets: references to existing ones, and `{config: …}` values to store (as Pulumi secrets)."""
    where = ArnContext(partition=context.partition, region=context.region, account_id=context.account_id)
    references: list[TaskSecret] = []
    stored: list[StoredSecret] = []
    for variable, source in sorted(svc.secrets.items()):
        if isinstance(source, ConfigSecret):
            stored.append(
                StoredSecret(
                    variable=variable,
                    parameter_name=naming.secret_parameter_name(stack, name, variable),
                    value=pulumi.Config(PROJECT).require_secret(source.config),
                )
            )
            continue
        references.append(
            TaskSecret(
                variable=variable,
                value_from=source.value_from_arn(where),
                resource_arn=source.resource_arn(where),
                kind=source.kind,
                kms_key_arn=source.kms_key_arn,
            )
        )
    return references, stored


def fargate_service_args(
    name: str,
    svc: ServiceConfig,
    *,
    cfg: StackConfig,
    stack: str,
    context: AwsContext,
    image: pulumi.Input[str],
    network: Network,
    firewall: Firewall,
    discovery: Discovery,
    election: LeaderElection | None,
    cluster: Cluster,
    tags: dict[str, str],
) -> FargateServiceArgs:
    hc = svc.health_check
    scaling = svc.autoscaling
    secrets, stored_secrets = task_secrets(name, svc, stack=stack, context=context)
    return FargateServiceArgs(
        image=image,
        port=svc.port,
        protocol=svc.protocol,
        command=svc.command,
        cpu=svc.cpu,
        memory=svc.memory,
        architecture=svc.architecture,
        health_check=ContainerHealthCheck(
            command=hc.command,
            interval=hc.interval,
            timeout=hc.timeout,
            retries=hc.retries,
            start_period=hc.start_period,
        )
        if hc is not None
        else None,
        environment=task_environment(name, svc, cfg, discovery, election),
        read_only_root_filesystem=svc.read_only_root_filesystem,
        log_group_name=naming.log_group_name(stack, name),
        log_retention_days=cfg.log_retention_days,
        family=naming.task_family(stack, name),
        capacity=svc.capacity,
        desired_count=svc.desired_count,
        registers_srv=svc.registers_srv,
        cluster_arn=cluster.cluster_arn,
        cluster_name=cluster.cluster_name,
        subnet_ids=network.task_subnet_ids,
        assign_public_ip=network.tasks_in_public_subnets,
        security_group_id=firewall.task_security_group_ids[name],
        registry_arn=discovery.service_arns.get(name),
        aws=context,
        tags={**tags, naming.SERVICE_TAG: name},
        redeploy=svc.redeploy,
        secrets=secrets,
        stored_secrets=stored_secrets,
        autoscaling=Scaling(
            min=scaling.min, max=scaling.max, cpu_target=scaling.cpu_target, memory_target=scaling.memory_target
        )
        if scaling
        else None,
        election=ElectionWiring(
            namespace_arn=discovery.namespace_arn,
            service_arn=discovery.service_arns[name],
            roles_service_arn=election.roles_service_arns[name],
            lease_table_arn=election.table_arn,
            lease_key=name,
        )
        if svc.leader_election and election is not None
        else None,
    )


def route_target(
    service: str, attributes: Mapping[str, str], discovery: Discovery, election: LeaderElection | None
) -> pulumi.Output[str]:
    """The Cloud Map service a route discovers: a filter on the election attribute reads the roles service.

    The roles service holds one instance per task, registered by the app as `leader=true` (the lease holder) or
    `leader=false`; a role change there is a register or a deregister, seen in seconds. The ECS-owned service
    carries no such attribute (ECS cannot write one).
    """
    if election is not None and contract.ELECTION_ATTRIBUTE in attributes and service in election.roles_service_arns:
        return election.roles_service_arns[service]
    return discovery.service_arns[service]


def network_args(
    network: NetworkConfig, *, zones: list[str], context: AwsContext, ami_id: str | None, tags: dict[str, str]
) -> NetworkArgs:
    """The config's one egress choice, as the Network component's NAT kind and count."""
    egress = network.egress_choice
    nat: NatKind | None = (
        "gateway" if egress.startswith("natGateway") else "instance" if egress.startswith("natInstance") else None
    )
    return NetworkArgs(
        cidr=network.cidr,
        zones=zones,
        region=context.region,
        partition=context.partition,
        tags=tags,
        nat=nat,
        nat_per_az=egress.endswith("PerAz"),
        interface_endpoints=list(network.interface_endpoints),
        existing=ExistingNetwork(
            vpc_id=existing.vpc_id,
            private_subnet_ids=existing.private_subnet_ids,
            public_subnet_ids=existing.public_subnet_ids,
        )
        if (existing := network.existing) is not None
        else None,
        nat_instance=NatInstanceSpec(instance_type=network.nat_instance.instance_type, ami_id=ami_id)
        if ami_id is not None
        else None,
    )


def build(cfg: StackConfig, stack: str) -> StackOutputs:
    """Create the whole platform for one stack. Every lookup that can fail runs before the first resource."""
    context = look_up_aws()
    domain = cfg.api.domain
    if domain is not None and domain.certificate_region not in (None, context.region):
        raise ConfigError(
            [
                f"api.domain.certificateArn: {domain.certificate_arn!r} — the certificate is in "
                f"{domain.certificate_region}, and a Regional custom domain needs one in {context.region}"
            ]
        )
    if cfg.network.existing is not None:
        check_existing_vpc(cfg.network.existing, context.region)
        zones: list[str] = []
        ami_id = None
    else:
        zones = resolve_zones(cfg.network.availability_zones, context.region)
        egress = cfg.network.egress_choice
        ami_id = nat_instance_ami(egress) if egress.startswith("natInstance") else None
    if cfg.network.deprecation:
        pulumi.log.warn(cfg.network.deprecation)
    tags = naming.stack_tags(stack, production=cfg.production)
    routed = frozenset(cfg.routed_services())

    network = Network(naming.NETWORK, network_args(cfg.network, zones=zones, context=context, ami_id=ami_id, tags=tags))
    firewall = Firewall(
        naming.FIREWALL,
        FirewallArgs(
            vpc_id=network.vpc_id,
            ports={name: svc.port for name, svc in cfg.services.items()},
            allow_from={name: svc.allow_from for name, svc in cfg.services.items()},
            routed=routed,
            tags=tags,
        ),
    )
    discovery = Discovery(
        naming.DISCOVERY,
        DiscoveryArgs(
            namespace=cfg.namespace,
            vpc_id=network.vpc_id,
            # A service without a port gets no Cloud Map service: nobody can dial it, so no name needs to resolve.
            services={
                name: DiscoveredService(records=svc.records, ttl=svc.dns_ttl)
                for name, svc in cfg.services.items()
                if svc.listens
            },
            tags=tags,
        ),
    )
    electing = sorted(name for name, svc in cfg.services.items() if svc.leader_election)
    election = (
        LeaderElection(
            naming.ELECTION,
            LeaderElectionArgs(
                namespace_id=discovery.namespace_id,
                services=electing,
                table_name=naming.lease_table_name(stack),
                tags=tags,
            ),
        )
        if electing
        else None
    )
    cluster = Cluster(
        naming.CLUSTER,
        ClusterArgs(cluster_name=naming.cluster_name(stack), container_insights=cfg.container_insights, tags=tags),
    )
    builds = image_builds(cfg)
    images = {
        key: ImageRepository(
            image_name,
            ImageRepositoryArgs(
                context=builds[key].build,
                architecture=key[1],
                tags=tags,
                dockerfile=builds[key].dockerfile,
                target=builds[key].target,
                args=dict(builds[key].args),
            ),
        )
        for key, image_name in image_names(cfg).items()
    }

    services: dict[str, FargateService] = {}
    for name in sorted(cfg.services):
        svc = cfg.services[name]
        image = (
            images[(svc.image.identity, svc.architecture)].image_uri if isinstance(svc.image, ImageBuild) else svc.image
        )
        services[name] = FargateService(
            name,
            fargate_service_args(
                name,
                svc,
                cfg=cfg,
                stack=stack,
                context=context,
                image=image,
                network=network,
                firewall=firewall,
                discovery=discovery,
                election=election,
                cluster=cluster,
                tags=tags,
            ),
        )

    api_url: pulumi.Output[str] | None = None
    api_id: pulumi.Output[str] | None = None
    alarm_topic_arn: pulumi.Output[str] | None = None
    execution_arn: pulumi.Output[str] | None = None
    error_alarm_name: pulumi.Output[str] | None = None
    urls: pulumi.Output[dict[str, str]] | dict[str, str] = {}
    if cfg.api.routes:
        assert firewall.vpc_link_security_group_id is not None  # created whenever a route exists
        alarm = cfg.api.error_alarm
        api = HttpApi(
            naming.API,
            HttpApiArgs(
                routes=[
                    ApiRoute(
                        route_key=key,
                        service=route.service,
                        service_arn=route_target(route.service, route.attributes, discovery, election),
                        attributes=route.attributes,
                        authorization=authorization_kind(route.authorization),
                        authorizer=route.authorization.jwt
                        if isinstance(route.authorization, JwtAuthorization)
                        else None,
                        scopes=route.authorization.scopes if isinstance(route.authorization, JwtAuthorization) else (),
                    )
                    for key, route in sorted(cfg.api.routes.items())
                ],
                authorizers={
                    name: JwtAuthorizerArgs(
                        issuer=auth.issuer, audience=auth.audience, identity_source=auth.identity_source
                    )
                    for name, auth in cfg.api.authorizers.items()
                },
                disable_default_endpoint=cfg.api.disable_default_endpoint,
                subnet_ids=network.vpc_link_subnet_ids,
                vpc_link_security_group_id=firewall.vpc_link_security_group_id,
                throttling_rate_limit=cfg.api.throttling.rate_limit,
                throttling_burst_limit=cfg.api.throttling.burst_limit,
                timeout_ms=cfg.api.timeout_ms,
                access_log_group_name=naming.access_log_group_name(stack),
                access_log_retention_days=cfg.api.access_log_retention_days,
                error_alarm=ErrorAlarmArgs(
                    threshold_percent=alarm.threshold_percent,
                    topic_arn=alarm.topic_arn,
                    email=alarm.email,
                    https_endpoint=alarm.https_endpoint,
                ),
                tags=tags,
            ),
        )
        api_url, urls, alarm_topic_arn = api.api_endpoint, api.route_urls, api.alarm_topic_arn
        execution_arn = api.execution_arn
        error_alarm_name = api.error_alarm_name
        api_id = api.api_id
        if domain is not None:
            custom = ApiDomain(
                naming.DOMAIN,
                ApiDomainArgs(
                    name=domain.name,
                    api_id=api.api_id,
                    stage_id=api.stage_id,
                    certificate_arn=domain.certificate_arn,
                    hosted_zone_id=domain.hosted_zone_id,
                    tags=tags,
                ),
            )
            api_url, urls = custom.url, route_urls(custom.url, list(cfg.api.routes))

    dashboard = Dashboard(
        naming.DASHBOARD,
        DashboardArgs(
            dashboard_name=naming.dashboard_name(stack),
            region=context.region,
            cluster_name=cluster.cluster_name,
            services={name: service.service_name for name, service in services.items()},
            container_insights=cfg.container_insights,
            api_id=api_id,
            access_log_group=naming.access_log_group_name(stack) if api_id is not None else None,
            route_keys=sorted(cfg.api.routes),
            nat_instance_ids=network.nat_instance_ids,
        ),
    )

    return StackOutputs(
        api_url=api_url,
        route_urls=urls,
        namespace_name=discovery.namespace_name,
        service_dns_names={
            name: f"{name}.{cfg.namespace}" for name, svc in sorted(cfg.services.items()) if svc.listens
        },
        cluster_name=cluster.cluster_name,
        vpc_id=network.vpc_id,
        alarm_topic_arn=alarm_topic_arn,
        route_authorization={
            key: authorization_kind(route.authorization) for key, route in sorted(cfg.api.routes.items())
        },
        region=context.region,
        api_execution_arn=execution_arn,
        dashboard_url=dashboard.url,
        status_targets=status_targets(
            cfg,
            stack,
            cluster=cluster,
            vpc_id=network.vpc_id,
            discovery=discovery,
            election=election,
            services=services,
            error_alarm_name=error_alarm_name,
        ),
    )


def status_targets(
    cfg: StackConfig,
    stack: str,
    *,
    cluster: Cluster,
    vpc_id: pulumi.Output[str],
    discovery: Discovery,
    election: LeaderElection | None,
    services: Mapping[str, FargateService],
    error_alarm_name: pulumi.Output[str] | None,
) -> pulumi.Output[dict[str, Any]]:
    """The `statusTargets` output (shape: mapgate/ops/targets.py): names that are known now, ids once created."""
    ids: dict[str, pulumi.Input[Any]] = {
        "cluster": cluster.cluster_name,
        "vpc": vpc_id,
        "namespace": discovery.namespace_id,
        "alarm": error_alarm_name,
    }
    for name in services:
        ids[f"ecs:{name}"] = services[name].service_name
        if name in discovery.service_ids:  # a service without a port has no Cloud Map service
            ids[f"map:{name}"] = discovery.service_ids[name]
        if election is not None and name in election.roles_service_ids:
            ids[f"roles:{name}"] = election.roles_service_ids[name]

    def shape(resolved: dict[str, Any]) -> dict[str, Any]:
        def election_of(name: str) -> dict[str, str] | None:
            if f"roles:{name}" not in resolved:
                return None
            return {
                "leaseTable": naming.lease_table_name(stack),
                "leaseKey": name,
                "rolesServiceId": resolved[f"roles:{name}"],
                "rolesServiceName": naming.roles_service_name(name),
                "attribute": contract.ELECTION_ATTRIBUTE,
            }

        def discovered(service: str, attributes: Mapping[str, str]) -> str:
            # As route_target picks the service the integration reads.
            elected = f"roles:{service}" in resolved and contract.ELECTION_ATTRIBUTE in attributes
            return naming.roles_service_name(service) if elected else service

        return {
            "version": targets.VERSION,
            "cluster": resolved["cluster"],
            "namespaceId": resolved["namespace"],
            "vpcId": resolved["vpc"],
            "egress": "existing" if cfg.network.existing is not None else cfg.network.egress_choice,
            "errorAlarm": resolved["alarm"],
            "services": {
                name: {
                    "ecsService": resolved[f"ecs:{name}"],
                    "cloudMapServiceId": resolved.get(f"map:{name}"),
                    "logGroup": naming.log_group_name(stack, name),
                    "election": election_of(name),
                }
                for name in sorted(services)
            },
            "routes": {
                key: {
                    "service": route.service,
                    "cloudMapService": discovered(route.service, route.attributes),
                    "filter": dict(sorted(route.attributes.items())),
                }
                for key, route in sorted(cfg.api.routes.items())
            },
        }

    return pulumi.Output.all(**ids).apply(shape)
