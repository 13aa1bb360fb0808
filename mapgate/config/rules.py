"""Rules that relate one part of the config to another, run on the typed sections that validated.

`Sections` holds whatever parsed on its own (each section, each service, each route), so a typo in one service
does not hide a cross-reference problem in another, and every default a rule sees is the model's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from mapgate import aws_facts, naming
from mapgate.config.api import (
    ApiConfig,
    CustomDomain,
    ErrorAlarm,
    JwtAuthorization,
    JwtAuthorizer,
    RouteConfig,
    RouteKey,
)
from mapgate.config.errors import Problem, unknown_name
from mapgate.config.services import ServiceConfig, ServiceName
from mapgate.config.stack import StackConfig
from mapgate.contract import ELECTION_ATTRIBUTE, ELECTION_VALUES


@dataclass(frozen=True)
class Sections:
    """The parts of the stack config that validated, typed; `None` where a part did not."""

    service_names: list[str]  # every service the config names, valid or not, for "did you mean"
    services: Mapping[str, ServiceConfig] = field(default_factory=dict)
    routes: Mapping[str, RouteConfig] = field(default_factory=dict)
    namespace: str | None = None
    production: bool | None = None
    error_alarm: ErrorAlarm | None = None
    container_insights: bool | None = None
    authorizers: Mapping[str, JwtAuthorizer] | None = None
    route_keys: list[str] = field(default_factory=list)  # every route the config names, valid or not
    domain: CustomDomain | None = None
    disable_default_endpoint: bool | None = None

    @classmethod
    def of(cls, cfg: StackConfig) -> Sections:
        return cls(
            service_names=sorted(cfg.services),
            services=cfg.services,
            routes=cfg.api.routes,
            namespace=cfg.namespace,
            production=cfg.production,
            error_alarm=cfg.api.error_alarm,
            container_insights=cfg.container_insights,
            authorizers=cfg.api.authorizers,
            route_keys=sorted(cfg.api.routes),
            domain=cfg.api.domain,
            disable_default_endpoint=cfg.api.disable_default_endpoint,
        )

    @classmethod
    def salvage(cls, data: Mapping[str, Any], context: Mapping[str, Any]) -> Sections:
        """Validate each part of config that failed as a whole on its own, keeping what passes."""
        raw_services = data.get("services")
        services_raw = raw_services if isinstance(raw_services, dict) else {}
        services = {
            name: svc
            for name, raw in services_raw.items()
            if _valid(ServiceName, name) is not None and (svc := _valid(ServiceConfig, raw, context)) is not None
        }
        raw_api = data.get("api")
        api = raw_api if isinstance(raw_api, dict) else {}
        raw_routes = api.get("routes")
        routes = {
            key: route
            for key, raw in (raw_routes if isinstance(raw_routes, dict) else {}).items()
            if _valid(RouteKey, key) is not None and (route := _valid(RouteConfig, raw)) is not None
        }
        return cls(
            service_names=sorted(str(name) for name in services_raw),
            services=services,
            routes=routes,
            namespace=_section(StackConfig, "namespace", data, context),
            production=_section(StackConfig, "production", data, context),
            error_alarm=_section(ApiConfig, "error_alarm", api, context),
            container_insights=_section(StackConfig, "container_insights", data, context),
            authorizers=_section(ApiConfig, "authorizers", api, context),
            route_keys=sorted(str(key) for key in (raw_routes if isinstance(raw_routes, dict) else {})),
            domain=_section(ApiConfig, "domain", api, context),
            disable_default_endpoint=_section(ApiConfig, "disable_default_endpoint", api, context),
        )


def _valid(kind: Any, value: Any, context: Mapping[str, Any] | None = None) -> Any:
    try:
        return TypeAdapter(kind).validate_python(value, strict=True, context=dict(context or {}))
    except ValidationError:
        return None


def _section(model: type[BaseModel], name: str, data: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
    """One field of `model` from raw `data`: its validated value, the model's default when absent, or None."""
    spec = model.model_fields[name]
    key = spec.alias or name
    if key not in data:
        return None if spec.is_required() else spec.get_default(call_default_factory=True)
    kind = Annotated[spec.annotation, *spec.metadata] if spec.metadata else spec.annotation
    return _valid(kind, data[key], context)


Rule = Callable[[Sections], Iterator[Problem]]


def service_dns_names_fit(s: Sections) -> Iterator[Problem]:
    if s.namespace is None:
        return
    for name in s.service_names:
        if len(name) + 1 + len(s.namespace) > aws_facts.DNS_NAME_MAX:
            yield Problem(
                ("services", name), name, f"{name}.{s.namespace} is longer than {aws_facts.DNS_NAME_MAX} characters"
            )


def peers_exist(s: Sections) -> Iterator[Problem]:
    for name, svc in s.services.items():
        for i, peer in enumerate(svc.allow_from):
            loc = ("services", name, "allowFrom", i)
            if peer == name:
                yield Problem(loc, peer, "a service always reaches itself; list other services only")
            elif peer not in s.service_names:
                yield Problem(loc, peer, unknown_name(peer, s.service_names))


def port_services_report_health(s: Sections) -> Iterator[Problem]:
    for name, svc in s.services.items():
        if svc.listens and svc.health_check is None:
            yield Problem(
                ("services", name, "healthCheck"),
                None,
                "required for a service with a port: its result is the health ECS reports to Cloud Map, which "
                "decides who gets each task's address",
            )


def portless_services_stay_private(s: Sections) -> Iterator[Problem]:
    """A service without a port has no Cloud Map service: nothing may call it, and nothing can be registered."""
    for name, svc in s.services.items():
        if svc.listens:
            continue
        loc = ("services", name)
        why = "a service without a port listens on nothing"
        if svc.allow_from:
            yield Problem((*loc, "allowFrom"), list(svc.allow_from), f"{why}, so nothing can call it: set port")
        if svc.registers_srv:
            yield Problem((*loc, "records"), list(svc.records), f"{why}: SRV records carry a port; set port")
        if svc.leader_election:
            yield Problem((*loc, "leaderElection"), True, f"{why}: the election reads its Cloud Map service; set port")
        if svc.protocol != "http":
            yield Problem((*loc, "protocol"), svc.protocol, f"{why}: protocol describes the port; set port")


def scaling_bounds_hold(s: Sections) -> Iterator[Problem]:
    for name, svc in s.services.items():
        scaling = svc.autoscaling
        if scaling is None:
            continue
        if scaling.min > scaling.max:
            yield Problem(("services", name, "autoscaling", "min"), scaling.min, f"must be at most max ({scaling.max})")
        elif not scaling.min <= svc.desired_count <= scaling.max:
            yield Problem(
                ("services", name, "desiredCount"),
                svc.desired_count,
                f"must be within autoscaling min..max ({scaling.min}..{scaling.max})",
            )


def elected_names_fit(s: Sections) -> Iterator[Problem]:
    limit = aws_facts.SERVICE_NAME_LABEL_MAX - len(naming.ROLES_SERVICE_SUFFIX)
    for name, svc in s.services.items():
        if svc.leader_election and len(name) > limit:
            # Its roles service is the Cloud Map service `<name>_roles`, one label of at most 63 characters.
            yield Problem(
                ("services", name, "leaderElection"),
                True,
                f"a service that elects a leader needs a name of at most {limit} characters ({len(name)} given)",
            )


def routes_reach_srv_services(s: Sections) -> Iterator[Problem]:
    for key, route in s.routes.items():
        loc = ("api", "routes", key, "service")
        if route.service not in s.service_names:
            yield Problem(loc, route.service, unknown_name(route.service, s.service_names))
            continue
        target = s.services.get(route.service)
        by_role = target is not None and target.leader_election and ELECTION_ATTRIBUTE in route.attributes
        if target is not None and not target.registers_srv and not by_role:
            # API Gateway takes the port from Cloud Map; ECS writes it only with SRV records. (The app writes it on
            # the instances of the roles service, which routes on the election attribute read.)
            yield Problem(
                loc,
                route.service,
                f"API routes need a port from Cloud Map: add SRV to services.{route.service}.records",
            )


def election_filters_have_an_election(s: Sections) -> Iterator[Problem]:
    for key, route in s.routes.items():
        target = s.services.get(route.service)
        if ELECTION_ATTRIBUTE not in route.attributes or target is None:
            continue
        loc = ("api", "routes", key, "attributes")
        if not target.leader_election:
            yield Problem(
                (*loc, ELECTION_ATTRIBUTE),
                route.attributes[ELECTION_ATTRIBUTE],
                f"no task writes '{ELECTION_ATTRIBUTE}' unless services.{route.service}.leaderElection is true",
            )
            continue
        if route.attributes[ELECTION_ATTRIBUTE] not in ELECTION_VALUES:
            yield Problem(
                (*loc, ELECTION_ATTRIBUTE),
                route.attributes[ELECTION_ATTRIBUTE],
                f"the election writes only {' or '.join(repr(v) for v in ELECTION_VALUES)}",
            )
        others = sorted(set(route.attributes) - {ELECTION_ATTRIBUTE})
        if others:
            # Such a route reads the roles service, whose instances the app registers with the role only.
            yield Problem(
                loc,
                dict(route.attributes),
                f"a route on '{ELECTION_ATTRIBUTE}' can filter on nothing else (drop {', '.join(others)})",
            )


def routes_name_known_authorizers(s: Sections) -> Iterator[Problem]:
    if s.authorizers is None:  # the authorizers themselves are invalid, and reported
        return
    known = sorted(s.authorizers)
    for key, route in s.routes.items():
        auth = route.authorization
        if isinstance(auth, JwtAuthorization) and auth.jwt not in s.authorizers:
            yield Problem(
                ("api", "routes", key, "authorization", "jwt"),
                auth.jwt,
                unknown_name(auth.jwt, known, "authorizer") if known else "no api.authorizers are defined",
            )


def custom_domain_has_an_api(s: Sections) -> Iterator[Problem]:
    if s.disable_default_endpoint and s.domain is None:
        yield Problem(
            ("api", "disableDefaultEndpoint"),
            True,
            "without api.domain this leaves no way into the API: set a domain, or drop disableDefaultEndpoint",
        )
    if s.domain is not None and not s.route_keys:
        yield Problem(
            ("api", "domain"),
            s.domain.name,
            "needs at least one route in api.routes: without routes mapgate creates no API",
        )


def variables_come_from_one_place(s: Sections) -> Iterator[Problem]:
    for name, svc in s.services.items():
        for variable in sorted(set(svc.environment) & set(svc.secrets)):
            yield Problem(
                ("services", name, "secrets", variable),
                variable,
                f"is also set in services.{name}.environment; a variable comes from environment or from secrets",
            )


MIN_ROUTED_TASKS_IN_PRODUCTION = 2


def production_keeps_routes_up(s: Sections) -> Iterator[Problem]:
    """With one task, a deployment or a Spot interruption leaves a route with nothing healthy: 500/503."""
    if not s.production:
        return
    first_route: dict[str, str] = {}
    for key in sorted(s.routes):
        first_route.setdefault(s.routes[key].service, key)
    for service, key in sorted(first_route.items()):
        target = s.services.get(service)
        if target is None:
            continue
        why = f"a routed service needs at least {MIN_ROUTED_TASKS_IN_PRODUCTION} tasks in production (route {key})"
        if target.desired_count < MIN_ROUTED_TASKS_IN_PRODUCTION:
            yield Problem(("services", service, "desiredCount"), target.desired_count, why)
        if target.autoscaling is not None and target.autoscaling.min < MIN_ROUTED_TASKS_IN_PRODUCTION:
            yield Problem(("services", service, "autoscaling", "min"), target.autoscaling.min, why)


def production_alarm_pages_someone(s: Sections) -> Iterator[Problem]:
    if s.production and s.error_alarm is not None and not s.error_alarm.notifies_someone:
        yield Problem(
            ("api", "errorAlarm"),
            s.error_alarm.model_dump(by_alias=True, exclude_none=True),
            "in production the 5xx alarm must notify someone: set topicArn, email or httpsEndpoint",
        )


def production_has_container_insights(s: Sections) -> Iterator[Problem]:
    """Security Hub ECS.12, which the policy pack enforces on production clusters: rejected here, before any
    resource, rather than turned on behind the user's back (it is billed per metric)."""
    if s.production and s.container_insights is False:
        yield Problem(
            ("containerInsights",),
            False,
            "production stacks need Container Insights (Security Hub ECS.12, which the policy pack enforces): "
            "set containerInsights: true",
        )


RULES: tuple[Rule, ...] = (
    service_dns_names_fit,
    peers_exist,
    port_services_report_health,
    portless_services_stay_private,
    scaling_bounds_hold,
    elected_names_fit,
    routes_reach_srv_services,
    production_keeps_routes_up,
    election_filters_have_an_election,
    production_alarm_pages_someone,
    production_has_container_insights,
    variables_come_from_one_place,
    routes_name_known_authorizers,
    custom_domain_has_an_api,
)


def cross_problems(sections: Sections) -> list[Problem]:
    return [problem for rule in RULES for problem in rule(sections)]
