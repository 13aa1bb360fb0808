"""What a program run built, as facts: services, routes, who calls whom. The one reader of a `StackRun`.

Everything here comes from data links, never from names or descriptions: resources are matched by the
`mapgate:service` tag, a route to its integration by id, an integration to its Cloud Map service by ARN, and an
ingress rule to the groups it joins by their ids.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

from mapgate import aws_facts, contract, naming
from mapgate import resource_types as types
from mapgate.offline import Resource, StackRun


def container_definitions(task_definition: dict[str, Any]) -> list[dict[str, Any]]:
    """A task definition's containers: Pulumi passes `containerDefinitions` as JSON text."""
    value = task_definition.get("containerDefinitions") or "[]"
    return list(json.loads(value) if isinstance(value, str) else value)


# Task definition inputs that RegisterTaskDefinition takes under the same name (Pulumi's camelCase is the API's).
_REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "volumes",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "runtimePlatform",
)


def register_task_definition_request(task_definition: dict[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request `pulumi up` sends for a task definition's inputs (tags as the API's list).

    Its JSON size is what ECS holds against the 64 KiB task definition limit.
    """
    request = {key: task_definition[key] for key in _REGISTER_FIELDS if task_definition.get(key) is not None}
    request["containerDefinitions"] = container_definitions(task_definition)
    tags = task_definition.get("tags") or {}
    if tags:
        request["tags"] = [{"key": key, "value": value} for key, value in tags.items()]
    return request


def request_bytes(request: dict[str, Any]) -> int:
    """The size of a request body as the AWS JSON protocol sends it (compact JSON, UTF-8)."""
    return len(json.dumps(request, separators=(",", ":"), ensure_ascii=False, default=str).encode())


@dataclass(frozen=True)
class ServiceFacts:
    name: str
    ecs: dict[str, Any]
    """The ECS service's inputs."""
    task_definition: dict[str, Any]
    container: dict[str, Any]
    """The task's single container definition, parsed."""
    discovery: dict[str, Any] | None
    """The ECS-owned Cloud Map service's inputs; None for a service without a port (it has none)."""
    roles_discovery: dict[str, Any] | None = None
    """The election's roles service's inputs, when the service elects a leader."""
    scaling: tuple[int, int] | None = None
    """(min, max) tasks of its Application Auto Scaling target, when the service scales."""

    @property
    def environment(self) -> dict[str, str]:
        return {e["name"]: e["value"] for e in self.container.get("environment", [])}

    @property
    def tasks(self) -> int:
        return int(self.ecs["desiredCount"])

    @property
    def capacity_provider(self) -> str:
        (strategy,) = self.ecs["capacityProviderStrategies"]
        return str(strategy["capacityProvider"])

    @property
    def cpu_architecture(self) -> str:
        return str(self.task_definition["runtimePlatform"]["cpuArchitecture"])

    @property
    def cpu(self) -> int:
        return int(self.task_definition["cpu"])

    @property
    def memory(self) -> int:
        return int(self.task_definition["memory"])

    @property
    def port(self) -> int | None:
        """The container port; None for a worker that listens on nothing."""
        mappings = self.container.get("portMappings") or []
        return int(mappings[0]["containerPort"]) if mappings else None

    @property
    def protocol(self) -> str:
        """What the port speaks, as ECS knows it: the port mapping's appProtocol, else its transport."""
        mappings = self.container.get("portMappings") or []
        if not mappings:
            return "none"
        return str(mappings[0].get("appProtocol") or mappings[0]["protocol"])

    @property
    def public_ip(self) -> bool:
        return bool(self.ecs["networkConfiguration"]["assignPublicIp"])

    @property
    def records(self) -> list[str]:
        return [r["type"] for r in self.discovery["dnsConfig"]["dnsRecords"]] if self.discovery else []

    @property
    def ttl(self) -> int | None:
        return int(self.discovery["dnsConfig"]["dnsRecords"][0]["ttl"]) if self.discovery else None

    @property
    def election_interval(self) -> float | None:
        """Seconds between election rounds, when the service elects a leader."""
        interval = self.environment.get(contract.ENV_ELECTION_INTERVAL)
        return float(interval) if interval is not None else None

    @property
    def roles_service_name(self) -> str | None:
        return str(self.roles_discovery["name"]) if self.roles_discovery else None


@dataclass(frozen=True)
class RouteFacts:
    route_key: str
    service: str
    query: str
    """The Cloud Map attribute filter, e.g. `leader=true`."""
    authorization: str = ""
    """Who may call it: "" (anyone), "IAM", or "JWT <authorizer>" with its scopes."""


@dataclass(frozen=True)
class AlarmTopic:
    arn: str
    created: bool
    """Made by this stack (so its subscriptions are known here), rather than an existing topic."""
    subscriptions: int


@dataclass(frozen=True)
class NatInstanceFacts:
    name: str
    instance_type: str
    root_volume_gib: int
    public_ip: bool


@dataclass(frozen=True)
class NetworkFacts:
    """What carries traffic out of the VPC: every NAT, every address and every endpoint, by logical name."""

    zones: list[str]
    """The zones of the stack's subnets, in the stack's order."""
    nat_gateways: list[str]
    nat_instances: list[NatInstanceFacts]
    elastic_ips: list[str]
    gateway_endpoints: list[str]
    interface_endpoints: list[tuple[str, str, int]]
    """(name, service, zones) of each interface endpoint: it has a network interface in each zone."""


@dataclass(frozen=True)
class Inventory:
    namespace: str
    zones: list[str]
    network: NetworkFacts
    services: list[ServiceFacts]
    routes: list[RouteFacts]
    peers: list[tuple[str, str]]
    """(caller, callee) for every service-to-service ingress rule."""
    has_api: bool
    namespaces: int
    alarm_topics: list[AlarmTopic] | None
    """Where the 5xx alarm sends its notifications; None when the stack has no alarm."""
    dashboards: int = 0

    def routes_to(self, service: str) -> list[RouteFacts]:
        return [r for r in self.routes if r.service == service]

    def service(self, name: str) -> ServiceFacts:
        (found,) = [s for s in self.services if s.name == name]
        return found

    @classmethod
    def read(cls, run: StackRun) -> Inventory:
        namespaces = run.of_type(types.NAMESPACE)
        network = _network(run)
        return cls(
            namespace=str(namespaces[0].inputs["name"]) if namespaces else "",
            zones=network.zones,
            network=network,
            services=_services(run),
            routes=_routes(run),
            peers=_peers(run),
            has_api=bool(run.of_type(types.HTTP_API)),
            namespaces=len(namespaces),
            alarm_topics=_alarm_topics(run),
            dashboards=len(run.of_type(types.DASHBOARD)),
        )


def _label(resource: Resource) -> str:
    """What a person calls a resource: its `Name` tag (a tag, so readers stay off logical names)."""
    return str((resource.inputs.get("tags") or {}).get("Name", resource.typ.rsplit(":", 1)[-1]))


def _network(run: StackRun) -> NetworkFacts:
    public = sorted(
        (r for r in run.of_type(types.SUBNET) if (r.inputs.get("tags") or {}).get(naming.SUBNET_TAG) == "public"),
        key=lambda r: r.name,
    )
    endpoints = run.of_type(types.VPC_ENDPOINT)
    return NetworkFacts(
        zones=[str(r.inputs["availabilityZone"]) for r in public],
        nat_gateways=sorted(_label(r) for r in run.of_type(types.NAT_GATEWAY)),
        nat_instances=[
            NatInstanceFacts(
                name=_label(r),
                instance_type=str(r.inputs["instanceType"]),
                root_volume_gib=int(r.inputs["rootBlockDevice"]["volumeSize"]),
                public_ip=bool(r.inputs.get("associatePublicIpAddress")),
            )
            for r in run.of_type(types.INSTANCE)
            if (r.inputs.get("tags") or {}).get(naming.ROLE_TAG) == naming.NAT_INSTANCE_ROLE
        ],
        elastic_ips=sorted(_label(r) for r in run.of_type(types.EIP)),
        gateway_endpoints=sorted(_label(r) for r in endpoints if r.inputs.get("vpcEndpointType") == "Gateway"),
        interface_endpoints=sorted(
            (_label(r), str(r.inputs["serviceName"]), len(r.inputs.get("subnetIds") or []))
            for r in endpoints
            if r.inputs.get("vpcEndpointType") == "Interface"
        ),
    )


def _is_roles_service(resource: Resource) -> bool:
    """The election's roles service: API-only, next to the service's ECS-owned one."""
    return resource.typ == types.DISCOVERY_SERVICE and resource.inputs.get("type") == aws_facts.API_ONLY_SERVICE_TYPE


def _by_service(run: StackRun, typ: str, *, roles: bool = False) -> dict[str, Resource]:
    found: dict[str, Resource] = {}
    for resource in run.of_type(typ):
        if _is_roles_service(resource) != roles:
            continue
        service = naming.service_of(resource.inputs)
        if service is not None:
            found[service] = resource
    return found


def _services(run: StackRun) -> list[ServiceFacts]:
    ecs, definitions, discovery = (
        _by_service(run, typ) for typ in (types.ECS_SERVICE, types.TASK_DEFINITION, types.DISCOVERY_SERVICE)
    )
    roles = _by_service(run, types.DISCOVERY_SERVICE, roles=True)
    # A scaling target names its ECS service by resource id, `service/<cluster>/<service name>`.
    scaling = {
        str(t.inputs["resourceId"]).rsplit("/", 1)[-1]: (int(t.inputs["minCapacity"]), int(t.inputs["maxCapacity"]))
        for t in run.of_type(types.SCALING_TARGET)
    }
    facts = []
    for name in sorted(ecs):
        definition = dict(definitions[name].inputs)
        (container,) = container_definitions(definition)
        facts.append(
            ServiceFacts(
                name=name,
                ecs=dict(ecs[name].inputs),
                task_definition=definition,
                container=container,
                discovery=dict(discovery[name].inputs) if name in discovery else None,
                roles_discovery=dict(roles[name].inputs) if name in roles else None,
                scaling=scaling.get(str(ecs[name].state.get("name"))),
            )
        )
    return facts


def _routes(run: StackRun) -> list[RouteFacts]:
    # Both Cloud Map services of an elected service (ECS-owned and roles) name the same mapgate service.
    services_by_arn = {
        str(r.state.get("arn")): service
        for r in run.of_type(types.DISCOVERY_SERVICE)
        if (service := naming.service_of(r.inputs)) is not None
    }
    routes = []
    for route in run.of_type(types.ROUTE):
        integration = run.by_id(str(route.inputs["target"]).removeprefix("integrations/"))
        uri = urllib.parse.urlsplit(str(integration.inputs["integrationUri"]))
        arn = urllib.parse.urlunsplit(uri._replace(query=""))
        routes.append(
            RouteFacts(str(route.inputs["routeKey"]), services_by_arn[arn], uri.query, _authorization(run, route))
        )
    return sorted(routes, key=lambda r: r.route_key)


def _authorization(run: StackRun, route: Resource) -> str:
    kind = str(route.inputs.get("authorizationType") or "NONE")
    if kind == "AWS_IAM":
        return "IAM"
    if kind == "JWT":
        authorizer = run.by_id(str(route.inputs.get("authorizerId")))
        scopes = " ".join(route.inputs.get("authorizationScopes") or [])
        return f"JWT {authorizer.inputs.get('name', authorizer.name)}" + (f" ({scopes})" if scopes else "")
    return ""


def _peers(run: StackRun) -> list[tuple[str, str]]:
    peers = []
    for rule in run.of_type(types.INGRESS_RULE):
        if "referencedSecurityGroupId" not in rule.inputs:
            continue  # a CIDR rule (the NAT instance's, from the VPC): no service on either end
        target = naming.service_of(run.by_id(str(rule.inputs["securityGroupId"])).inputs)
        source = naming.service_of(run.by_id(str(rule.inputs["referencedSecurityGroupId"])).inputs)
        if target is not None and source is not None:
            peers.append((source, target))
    return sorted(peers)


def _alarm_topics(run: StackRun) -> list[AlarmTopic] | None:
    alarms = run.of_type(types.METRIC_ALARM)
    if not alarms:
        return None
    created = {str(topic.state.get("arn")) for topic in run.of_type(types.SNS_TOPIC)}
    subscribed = [str(s.inputs.get("topic")) for s in run.of_type(types.SNS_SUBSCRIPTION)]
    arns = sorted({str(arn) for alarm in alarms for arn in alarm.inputs.get("alarmActions") or []})
    return [AlarmTopic(arn, arn in created, subscribed.count(arn)) for arn in arns]
