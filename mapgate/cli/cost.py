"""Itemized monthly cost of what the program registers, from one price file and stated usage assumptions."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mapgate import contract
from mapgate.cli.inventory import Inventory

SECONDS_PER_MONTH = 730 * 3600


@dataclass(frozen=True)
class Usage:
    """What cannot be read from the program: traffic and the Spot discount."""

    api_requests_millions: float = 1.0
    log_gb: float = 1.0
    nat_gb: float = 10.0
    spot_discount: float = 0.70  # AWS: "up to 70 %"; the Spot price floats


@dataclass(frozen=True)
class CostItem:
    name: str
    quantity: float
    unit: str
    unit_usd: float

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_usd


@dataclass(frozen=True)
class Estimate:
    items: list[CostItem]
    prices: dict[str, Any]
    usage: Usage

    @property
    def total_usd(self) -> float:
        return sum(item.usd for item in self.items)


@cache
def load_prices() -> dict[str, Any]:
    return dict(json.loads(resources.files(__package__).joinpath("prices.json").read_text()))


def _price(prices: dict[str, Any], key: str) -> float:
    return float(prices["prices"][key]["usd"])


NAT_GATEWAYS = {"None": 0, "Single": 1}  # and OnePerAz: one per zone


@dataclass
class ElectionRequests:
    """What the leader election asks of Cloud Map and DynamoDB in a month (app/mapgate_app/election.py).

    Per elected service: every task registers one instance in the roles service, and the holder one more. Each
    round, the holder renews its lease (one conditional write) and every other task reads it (one strongly
    consistent read of a small item: one read request unit). Every `RECONCILE_EVERY_ROUNDS` rounds the holder makes
    two DiscoverInstances calls. Registrations, GetInstance and GetOperation are not billed.
    """

    role_instances: int = 0
    discover_calls: float = 0.0
    lease_reads: float = 0.0
    lease_writes: float = 0.0

    def add(self, tasks: int, interval: float) -> None:
        rounds = SECONDS_PER_MONTH / interval
        self.role_instances += tasks + 1
        self.discover_calls += 2 * rounds / contract.RECONCILE_EVERY_ROUNDS
        self.lease_reads += max(tasks - 1, 0) * rounds
        self.lease_writes += rounds


def estimate(inventory: Inventory, usage: Usage | None = None, prices: dict[str, Any] | None = None) -> Estimate:
    usage = usage or Usage()
    prices = prices or load_prices()
    hours = float(prices["hoursPerMonth"])
    items: list[CostItem] = []

    nat_gateways = NAT_GATEWAYS.get(inventory.nat_strategy, len(inventory.zones))
    if nat_gateways:
        items.append(CostItem("NAT gateways", nat_gateways * hours, "gateway-hours", _price(prices, "natGatewayHour")))
        items.append(CostItem("NAT data processed", usage.nat_gb, "GB (assumed)", _price(prices, "natGatewayGb")))

    # Fargate by architecture and capacity; tasks run all month at their desired count.
    vcpu_hours: dict[tuple[str, str], float] = defaultdict(float)
    gb_hours: dict[tuple[str, str], float] = defaultdict(float)
    tasks = public_ip_tasks = 0
    election = ElectionRequests()
    for service in inventory.services:
        key = (service.cpu_architecture, service.capacity_provider)
        vcpu_hours[key] += service.tasks * service.cpu / 1024 * hours
        gb_hours[key] += service.tasks * service.memory / 1024 * hours
        tasks += service.tasks
        public_ip_tasks += service.tasks if service.public_ip else 0
        if service.election_interval:
            election.add(service.tasks, service.election_interval)
    for (arch, provider), quantity in sorted(vcpu_hours.items()):
        prefix = "fargateArm64" if arch == "ARM64" else "fargateX86"
        discount = (1 - usage.spot_discount) if provider == "FARGATE_SPOT" else 1.0
        label = f"Fargate {arch.lower()} {'Spot' if provider == 'FARGATE_SPOT' else 'on demand'}"
        if provider == "FARGATE_SPOT":
            label += f" ({usage.spot_discount:.0%} off, assumed)"
        items.append(CostItem(f"{label} vCPU", quantity, "vCPU-hours", _price(prices, f"{prefix}VcpuHour") * discount))
        items.append(
            CostItem(
                f"{label} memory", gb_hours[(arch, provider)], "GB-hours", _price(prices, f"{prefix}GbHour") * discount
            )
        )

    public_ips = nat_gateways + public_ip_tasks
    if public_ips:
        items.append(
            CostItem("Public IPv4 addresses", public_ips * hours, "address-hours", _price(prices, "publicIpv4Hour"))
        )

    items.append(
        CostItem(
            "Cloud Map registered instances",
            tasks + election.role_instances,
            "instance-months",
            _price(prices, "cloudMapInstanceMonth"),
        )
    )
    if election.role_instances:
        million = "million calls"
        items += [
            CostItem(
                "Cloud Map discovery calls (leader election)",
                election.discover_calls / 1e6,
                million,
                _price(prices, "cloudMapDiscoveryMillion"),
            ),
            CostItem(
                "DynamoDB lease reads (leader election)",
                election.lease_reads / 1e6,
                "million read request units",
                _price(prices, "dynamodbReadMillion"),
            ),
            CostItem(
                "DynamoDB lease writes (leader election)",
                election.lease_writes / 1e6,
                "million write request units",
                _price(prices, "dynamodbWriteMillion"),
            ),
        ]
    items.append(
        CostItem("Route 53 private hosted zone", inventory.namespaces, "zone-months", _price(prices, "hostedZoneMonth"))
    )
    if inventory.has_api:
        items.append(
            CostItem(
                "HTTP API requests",
                usage.api_requests_millions,
                "million requests (assumed)",
                _price(prices, "httpApiMillion"),
            )
        )
    items.append(CostItem("CloudWatch Logs ingestion", usage.log_gb, "GB (assumed)", _price(prices, "logsIngestionGb")))
    return Estimate(items=items, prices=prices, usage=usage)
