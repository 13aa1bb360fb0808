"""`mapgate:*`: the whole stack config, one field per section."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from mapgate import aws_facts
from mapgate.config.api import ApiConfig
from mapgate.config.base import Model, fail, one_of
from mapgate.config.network import NetworkConfig
from mapgate.config.services import ServiceConfig, ServiceName


def _check_namespace(value: str) -> str:
    if not value or len(value) > aws_facts.DNS_NAME_MAX:
        raise fail("dns_name", f"must be a DNS name of 1 to {aws_facts.DNS_NAME_MAX} characters")
    for label in value.split("."):
        if not aws_facts.DNS_LABEL.match(label):
            raise fail(
                "dns_name",
                f"label {label!r} must be 1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'",
            )
    if value == "local" or value.endswith(".local"):
        raise fail("dns_name", "'.local' is reserved for multicast DNS; use e.g. mapgate.internal")
    return value


DnsNamespace = Annotated[str, AfterValidator(_check_namespace)]


def _at_least_one_service(value: dict[str, ServiceConfig]) -> dict[str, ServiceConfig]:
    if not value:
        raise fail("services", "must define at least one service")
    return value


class StackConfig(Model):
    """Everything under the `mapgate:` config namespace, validated."""

    network: NetworkConfig = Field(default_factory=NetworkConfig)
    # The private DNS namespace (a Route 53 private hosted zone). When the stack file leaves it out,
    # `parse_config` fills in `naming.default_namespace(stack)`, `<stack>.mapgate.internal`: a name of its own per
    # stack, so two stacks in one account never share one.
    namespace: DnsNamespace
    services: Annotated[dict[ServiceName, ServiceConfig], AfterValidator(_at_least_one_service)]
    api: ApiConfig = Field(default_factory=ApiConfig)
    log_retention_days: Annotated[int, one_of(aws_facts.LOG_RETENTION_DAYS, "retention (days)")] = 14
    container_insights: bool = False
    # Stricter rules for stacks that serve users; see `mapgate.config.rules`.
    production: bool = False
    # Whether the sample app answers with its task id, private IP, AZ and the request's headers, on a public API.
    # Unset: yes, except in production.
    expose_task_info: bool | None = None

    def routed_services(self) -> list[str]:
        return sorted({route.service for route in self.api.routes.values()})

    @property
    def exposes_task_info(self) -> bool:
        return (not self.production) if self.expose_task_info is None else self.expose_task_info
