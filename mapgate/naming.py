"""How mapgate names what it creates, and how readers find a resource again. Defined once, for components,
`build()` and the CLI alike.

Logical names (Pulumi's, part of each URN): a component's children are `<component>-<part>`. Service names and
route slugs are DNS labels (`a-z`, `0-9`, `-`), so a part that joins two names, or names a second resource for
the same thing, uses `_`, which no name can contain: `firewall-app_from_vpc_link`, `api-get-leader_route`.
Two children never share a name; `tests/test_naming.py` checks that on adversarial service names.

Readers never parse names or descriptions: they read tags (`SERVICE_TAG`, `ROLE_TAG`) and follow ids and ARNs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from mapgate import PROJECT
from mapgate.aws_facts import DEFAULT_ROUTE, parse_route_key

# --- tags -------------------------------------------------------------------------------------------------------

PROJECT_TAG: Final = "mapgate:project"
STACK_TAG: Final = "mapgate:stack"
# "production" or "development"; the policy pack's production-only rules key off it.
ENVIRONMENT_TAG: Final = "mapgate:environment"
# The mapgate service a resource belongs to (security groups, discovery services, task definitions, ECS services).
SERVICE_TAG: Final = "mapgate:service"
# What a resource is for, where the type alone does not say (the VPC link's security group).
ROLE_TAG: Final = "mapgate:role"
VPC_LINK_ROLE: Final = "vpc-link"
NAT_INSTANCE_ROLE: Final = "nat-instance"
# Set by a NAT instance on itself when its first boot fails: the step that failed (`failed at <step>`).
NAT_BOOT_TAG: Final = "mapgate:natBoot"
# "public" or "private", on the subnets the Network component creates.
SUBNET_TAG: Final = "mapgate:subnet"


def stack_tags(stack: str, *, production: bool) -> dict[str, str]:
    return {
        PROJECT_TAG: PROJECT,
        STACK_TAG: stack,
        ENVIRONMENT_TAG: "production" if production else "development",
    }


def service_of(inputs: Mapping[str, Any]) -> str | None:
    """The mapgate service a registered resource belongs to, from its tags."""
    return (inputs.get("tags") or {}).get(SERVICE_TAG)


# --- components -------------------------------------------------------------------------------------------------

NETWORK: Final = "network"
FIREWALL: Final = "firewall"
DISCOVERY: Final = "discovery"
CLUSTER: Final = "cluster"
API: Final = "api"
ELECTION: Final = "election"
DOMAIN: Final = "domain"
IMAGE_PREFIX: Final = "image-"
# With a `_`, which no service name can contain: no service's component can take it, so nothing new is reserved
# (a service called `dashboard` keeps working).
DASHBOARD: Final = "stack_dashboard"

# A service's component is named after the service, so it must not take a name another component uses.
RESERVED_SERVICE_NAMES: Final = frozenset({NETWORK, FIREWALL, DISCOVERY, CLUSTER, API, ELECTION, DOMAIN})


def reserved_service_name(name: str) -> bool:
    return name in RESERVED_SERVICE_NAMES or name.startswith(IMAGE_PREFIX)


def image(directory: str, architecture: str) -> str:
    """`image-<dir>-<arch>`: one ImageRepository per build directory and CPU architecture."""
    return f"{IMAGE_PREFIX}{re.sub(r'[^a-z0-9]+', '-', directory.lower()).strip('-')}-{architecture}"


# --- children ---------------------------------------------------------------------------------------------------


def child(component: str, part: str) -> str:
    return f"{component}-{part}"


def joined(component: str, *parts: str) -> str:
    """A child named after two things, or a second resource for one thing: the parts joined by `_`."""
    return f"{component}-{'_'.join(parts)}"


class ServiceChildren:
    """The children of one FargateService component."""

    def __init__(self, component: str):
        self.component = component
        self.logs = child(component, "logs")
        self.execution_role = child(component, "execution")
        self.execution_policy = child(component, "execution-policy")
        self.task_role = joined(component, "task", "role")
        self.task_definition = child(component, "task")
        self.election_policy = child(component, "election")
        self.secrets_policy = joined(component, "execution", "secrets")
        self.ecs_service = child(component, "service")
        self.scaling_target = child(component, "scaling")
        # Before 0.2 the task role and the task definition were both `<service>-task`; the alias keeps the role.
        self.task_role_before_0_2 = child(component, "task")

    def scaling_policy(self, metric: str) -> str:
        return child(self.component, f"scale-on-{metric}")

    def secret_parameter(self, variable: str) -> str:
        """The SSM parameter mapgate stores a `{config: …}` secret in (variable names contain no '-')."""
        return joined(self.component, "secret", variable)


class DiscoveryChildren:
    """The children of the Discovery component."""

    def __init__(self, component: str):
        self.component = component
        self.namespace = joined(component, "private", "namespace")
        # Before 0.2 the namespace was `discovery-namespace`, which a service named `namespace` would also get.
        self.namespace_before_0_2 = child(component, "namespace")

    def service(self, service: str) -> str:
        return child(self.component, service)


class ElectionChildren:
    """The children of the LeaderElection component."""

    def __init__(self, component: str):
        self.component = component
        self.lease_table = joined(component, "lease", "table")

    def roles_service(self, service: str) -> str:
        return joined(self.component, service, "roles")


# The roles service's Cloud Map name: `_` keeps it apart from every user service, whose names are DNS labels.
ROLES_SERVICE_SUFFIX: Final = "_roles"


def roles_service_name(service: str) -> str:
    return f"{service}{ROLES_SERVICE_SUFFIX}"


class NetworkChildren:
    """The children of the Network component. Zones are numbered from 1 in the order the stack lists them."""

    def __init__(self, component: str):
        self.component = component
        self.vpc = child(component, "vpc")
        self.internet_gateway = child(component, "igw")
        self.s3_endpoint = child(component, "s3")

    def subnet(self, kind: str, zone: int) -> str:
        return child(self.component, f"{kind}-{zone}")

    def route_table(self, kind: str, zone: int) -> str:
        return joined(self.component, f"{kind}-{zone}", "routes")

    def association(self, kind: str, zone: int) -> str:
        return joined(self.component, f"{kind}-{zone}", "association")

    def default_route(self, kind: str, zone: int) -> str:
        return joined(self.component, f"{kind}-{zone}", "default")

    def nat(self, zone: int) -> str:
        """A NAT gateway, or the prefix of a NAT instance's resources, serving from zone `zone`."""
        return child(self.component, f"nat-{zone}")

    def nat_ip(self, zone: int) -> str:
        return joined(self.component, f"nat-{zone}", "ip")

    def interface_endpoint(self, service: str) -> str:
        return joined(self.component, service.replace(".", "-"), "endpoint")

    @property
    def endpoint_group(self) -> str:
        return joined(self.component, "endpoints")

    @property
    def endpoint_ingress(self) -> str:
        return joined(self.component, "endpoints", "from", "vpc")

    # Up to 0.2.0 the network was one awsx.ec2.Vpc named `<component>-vpc`; its children's names, for aliases.
    @property
    def awsx_vpc(self) -> str:
        return self.vpc

    def awsx_subnet(self, kind: str, zone: int) -> str:
        return f"{self.vpc}-{kind}-{zone}"

    def awsx_nat(self, zone: int) -> str:
        return f"{self.vpc}-{zone}"


class NatInstanceChildren:
    """The Network's resources for one NAT instance, named after `NetworkChildren.nat`."""

    def __init__(self, component: str):
        self.component = component
        self.security_group = child(component, "sg")
        self.from_vpc = joined(component, "from", "vpc")
        self.egress = child(component, "egress")
        self.role = child(component, "role")
        self.ssm_policy = child(component, "ssm")
        self.boot_tag_policy = joined(component, "boot", "tag")
        self.profile = child(component, "profile")
        self.instance = child(component, "instance")


class FirewallChildren:
    """The children of the Firewall component."""

    def __init__(self, component: str):
        self.component = component
        self.vpc_link_group = joined(component, "vpc", "link")

    def group(self, service: str) -> str:
        return child(self.component, service)

    def egress(self, service: str) -> str:
        return joined(self.component, service, "egress")

    def vpc_link_to(self, service: str) -> str:
        return joined(self.component, "vpc", "link", "to", service)

    def ingress(self, target: str, source: str) -> str:
        return joined(self.component, target, "from", source)


VPC_LINK_SOURCE: Final = "vpc_link"  # the ingress source name of the VPC link (never a service: it has a `_`)


class ApiChildren:
    """The children of the HttpApi component."""

    def __init__(self, component: str):
        self.component = component
        self.api = child(component, "http")
        self.vpc_link = child(component, "vpc-link")
        self.access_logs = child(component, "access-logs")
        self.stage = child(component, "stage")
        self.error_alarm = child(component, "5xx-rate")
        self.alarm_topic = child(component, "alerts")

    def integration(self, slug: str) -> str:
        return child(self.component, slug)

    def route(self, slug: str) -> str:
        return joined(self.component, slug, "route")

    def route_before_0_2(self, slug: str) -> str:
        # Before 0.2 a route had its integration's name; the alias keeps the route.
        return child(self.component, slug)

    def alarm_subscription(self, protocol: str) -> str:
        return joined(self.component, "alerts", protocol)

    def authorizer(self, name: str) -> str:
        return joined(self.component, "authorizer", name)


class DashboardChildren:
    """The children of the Dashboard component."""

    def __init__(self, component: str):
        self.dashboard = child(component, "dashboard")


class DomainChildren:
    """The children of the ApiDomain component."""

    def __init__(self, component: str):
        self.component = component
        self.certificate = child(component, "certificate")
        self.validation_record = joined(component, "certificate", "validation", "record")
        self.validation = joined(component, "certificate", "validation")
        self.domain_name = child(component, "name")
        self.mapping = child(component, "mapping")
        self.alias = child(component, "alias")


# --- routes -----------------------------------------------------------------------------------------------------


def route_slug(route_key: str) -> str:
    """'GET /leader' -> 'get-leader', 'GET /' -> 'get-root', '$default' -> 'default'."""
    if route_key == DEFAULT_ROUTE:
        return "default"
    method, path = parse_route_key(route_key)
    words = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
    return f"{method.lower()}-{words or 'root'}"


def route_slugs(route_keys: Sequence[str]) -> dict[str, str]:
    """Unique slugs; keys that would collide ('GET /a-b', 'GET /a/b') get a numeric suffix in sorted order."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for key in sorted(route_keys):
        base = slug = route_slug(key)
        n = 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        slugs[key] = slug
        taken.add(slug)
    return slugs


# --- physical names in AWS --------------------------------------------------------------------------------------


def cluster_name(stack: str) -> str:
    return f"{PROJECT}-{stack}"


def task_family(stack: str, service: str) -> str:
    return f"{PROJECT}-{stack}-{service}"


def log_group_name(stack: str, service: str) -> str:
    return f"/{PROJECT}/{stack}/{service}"


def dashboard_name(stack: str) -> str:
    """The stack's CloudWatch dashboard (names: letters, digits, `-` and `_`, up to 255)."""
    return f"{PROJECT}-{stack}"


def lease_table_name(stack: str) -> str:
    return f"{PROJECT}-{stack}-leases"


def secret_parameter_name(stack: str, service: str, variable: str) -> str:
    """`/mapgate/<stack>/<service>/<VARIABLE>`: the SSM parameter a `{config: …}` secret is stored in."""
    return f"/{PROJECT}/{stack}/{service}/{variable}"


def access_log_group_name(stack: str) -> str:
    # The /aws/vendedlogs/ prefix keeps the log group's resource policy small when API Gateway writes to it.
    return f"/aws/vendedlogs/apis/{PROJECT}-{stack}"


def default_namespace(stack: str) -> str:
    """`<stack>.mapgate.internal`: the namespace a stack gets when its stack file names none."""
    label = re.sub(r"[^a-z0-9-]+", "-", stack.lower()).strip("-")[:63].strip("-") or "stack"
    return f"{label}.{PROJECT}.internal"
