"""What one environment cost as Copilot ran it, against the mapgate stack: the prices `mapgate plan` uses.

Both sides count the same things a month: Fargate tasks at their desired count, public IPv4 addresses of tasks,
NAT gateways (hours only; per-GB charges depend on traffic on both sides), Cloud Map instances, the private hosted
zone; Copilot adds one Application Load Balancer per environment with a Load Balanced Web Service (hours plus one
LCU, assumed), mapgate the HTTP API's requests (1 million, assumed, as `mapgate plan` assumes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mapgate.cli.cost import load_prices

COPILOT_AZS = 2  # Copilot's environments span two zones, with one NAT gateway each for private services
ASSUMED_LCUS = 1.0
ASSUMED_API_MILLIONS = 1.0


@dataclass(frozen=True)
class Line:
    name: str
    copilot_usd: float
    mapgate_usd: float


def _price(prices: dict[str, Any], key: str) -> float:
    return float(prices["prices"][key]["usd"])


def _fargate(services: list[dict[str, Any]], prices: dict[str, Any], hours: float, spot_discount: float = 0.7) -> float:
    total = 0.0
    for svc in services:
        prefix = "fargateArm64" if svc.get("architecture") == "arm64" else "fargateX86"
        discount = (1 - spot_discount) if svc.get("capacity") == "spot" else 1.0
        tasks = svc.get("desiredCount", 1)
        total += (
            tasks
            * hours
            * discount
            * (
                svc.get("cpu", 256) / 1024 * _price(prices, f"{prefix}VcpuHour")
                + svc.get("memory", 512) / 1024 * _price(prices, f"{prefix}GbHour")
            )
        )
    return total


def compare(
    *,
    copilot_services: list[dict[str, Any]],
    mapgate_services: list[dict[str, Any]],
    has_alb: bool,
    copilot_nat: bool,
    mapgate_egress: str,
    imported_vpc: bool,
) -> list[Line]:
    """Monthly lines, Copilot against mapgate, for one environment."""
    prices = load_prices()
    hours = float(prices["hoursPerMonth"])
    ip_hour = _price(prices, "publicIpv4Hour")
    nat_hour = _price(prices, "natGatewayHour")
    return [
        Line("Fargate tasks", _fargate(copilot_services, prices, hours), _fargate(mapgate_services, prices, hours)),
        Line(
            "Application Load Balancer (1 LCU assumed)",
            (_price(prices, "albHour") + ASSUMED_LCUS * _price(prices, "albLcuHour")) * hours if has_alb else 0.0,
            0.0,
        ),
        Line(
            "HTTP API (1 million requests assumed)",
            0.0,
            ASSUMED_API_MILLIONS * _price(prices, "httpApiMillion") if has_alb else 0.0,
        ),
        Line(
            "Public IPv4 (tasks; the ALB's addresses in its two zones)",
            (0 if copilot_nat else sum(s.get("desiredCount", 1) for s in copilot_services)) * ip_hour * hours
            + (COPILOT_AZS * ip_hour * hours if has_alb else 0.0),
            (sum(s.get("desiredCount", 1) for s in mapgate_services) if mapgate_egress == "publicIp" else 0)
            * ip_hour
            * hours,
        ),
        Line(
            "NAT gateways (hours; per-GB charges depend on traffic)",
            COPILOT_AZS * nat_hour * hours if copilot_nat and not imported_vpc else 0.0,
            (COPILOT_AZS if mapgate_egress == "natGatewayPerAz" else 1 if mapgate_egress == "natGateway" else 0)
            * nat_hour
            * hours
            if not imported_vpc
            else 0.0,
        ),
        Line(
            "Cloud Map instances and private hosted zone",
            sum(s.get("desiredCount", 1) for s in copilot_services if s.get("port"))
            * _price(prices, "cloudMapInstanceMonth")
            + _price(prices, "hostedZoneMonth"),
            sum(s.get("desiredCount", 1) for s in mapgate_services if s.get("port"))
            * _price(prices, "cloudMapInstanceMonth")
            + _price(prices, "hostedZoneMonth"),
        ),
    ]
