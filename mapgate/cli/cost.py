"""Itemized monthly cost of what the program registers, from one price file and stated usage assumptions."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mapgate import aws_facts, contract
from mapgate.cli.inventory import Inventory, NetworkFacts

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


def instance_hour_key(instance_type: str) -> str:
    return f"ec2.{instance_type}.hour"


def network_items(network: NetworkFacts, usage: Usage, prices: dict[str, Any]) -> list[CostItem]:
    """One line per NAT gateway, NAT instance (and its volume and address), Elastic IP and endpoint."""
    hours = float(prices["hoursPerMonth"])
    items: list[CostItem] = []
    for name in network.nat_gateways:
        items.append(CostItem(f"NAT gateway {name}", hours, "gateway-hours", _price(prices, "natGatewayHour")))
    if network.nat_gateways:
        items.append(
            CostItem("NAT gateway data processed", usage.nat_gb, "GB (assumed)", _price(prices, "natGatewayGb"))
        )
    for name in network.elastic_ips:
        items.append(CostItem(f"Elastic IP {name}", hours, "address-hours", _price(prices, "publicIpv4Hour")))
    for nat in network.nat_instances:
        key = instance_hour_key(nat.instance_type)
        known = key in prices["prices"]
        label = f"NAT instance {nat.name} ({nat.instance_type}{'' if known else ', no price in prices.json'})"
        items.append(CostItem(label, hours, "instance-hours", _price(prices, key) if known else 0.0))
        items.append(
            CostItem(
                f"NAT instance {nat.name} root volume (gp3)",
                nat.root_volume_gib,
                "GB-months",
                _price(prices, "ebsGp3GbMonth"),
            )
        )
        if nat.public_ip:
            items.append(
                CostItem(f"Public IPv4 of {nat.name}", hours, "address-hours", _price(prices, "publicIpv4Hour"))
            )
    for name in network.gateway_endpoints:
        items.append(CostItem(f"S3 gateway endpoint {name}", hours, "endpoint-hours", 0.0))
    for name, service, zones in network.interface_endpoints:
        items.append(
            CostItem(
                f"Interface endpoint {name} ({service.split('.', 3)[-1]}, {zones} AZs)",
                zones * hours,
                "endpoint-AZ-hours",
                _price(prices, "interfaceEndpointAzHour"),
            )
        )
    return items


@dataclass
class ElectionRequests:
    """What the leader election asks of Cloud Map and DynamoDB in a month (app/mapgate_app/election.py).

    Per elected service: every task registers one instance in the roles service, and the holder one more. Each
    round, the holder renews its lease (one conditional write) and every other task reads it (one strongly
    consistent read of a small item: one read request unit). Every `RECONCILE_EVERY_ROUNDS` rounds the holder makes
    two DiscoverInstances calls. Registrations, GetInstance and GetOperation are not billed. The takeover rule
    (a version watched for a whole lease) adds no call: takers watch with the reads they make anyway. A stop adds
    a few dozen lease requests, under a cent a month at any deployment rate, so they are not priced.
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
    items = network_items(inventory.network, usage, prices)

    # Fargate by architecture and capacity; tasks run all month at their desired count.
    vcpu_hours: dict[tuple[str, str], float] = defaultdict(float)
    gb_hours: dict[tuple[str, str], float] = defaultdict(float)
    public_ip_tasks = registered = 0
    election = ElectionRequests()
    for service in inventory.services:
        key = (service.cpu_architecture, service.capacity_provider)
        vcpu_hours[key] += service.tasks * service.cpu / 1024 * hours
        gb_hours[key] += service.tasks * service.memory / 1024 * hours
        registered += service.tasks if service.discovery is not None else 0  # a worker with no port registers none
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

    if public_ip_tasks:
        items.append(
            CostItem(
                "Public IPv4 addresses of tasks",
                public_ip_tasks * hours,
                "address-hours",
                _price(prices, "publicIpv4Hour"),
            )
        )

    items.append(
        CostItem(
            "Cloud Map registered instances",
            registered + election.role_instances,
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
    if inventory.dashboards:
        items.append(
            CostItem(
                "CloudWatch dashboard (free if among the account's first 3, of up to 50 metrics each)",
                inventory.dashboards,
                "dashboard-months",
                _price(prices, "cloudwatchDashboardMonth"),
            )
        )
    return Estimate(items=items, prices=prices, usage=usage)


def _current_egress(inventory: Inventory) -> str:
    network, zones = inventory.network, max(len(inventory.zones), 1)
    if network.nat_gateways:
        return "natGatewayPerAz" if len(network.nat_gateways) == zones > 1 else "natGateway"
    if network.nat_instances:
        return "natInstancePerAz" if len(network.nat_instances) == zones > 1 else "natInstance"
    return "publicIp"


def egress_costs(inventory: Inventory, usage: Usage, prices: dict[str, Any]) -> dict[str, float]:
    """What each `network.egress` choice would cost this stack a month: NAT, its addresses, and task IPs."""
    hours = float(prices["hoursPerMonth"])
    ipv4 = _price(prices, "publicIpv4Hour") * hours
    zones = max(len(inventory.zones), 1)
    tasks = sum(service.tasks for service in inventory.services)
    instance_type = next((n.instance_type for n in inventory.network.nat_instances), "t4g.nano")
    key = instance_hour_key(instance_type)
    instance = (_price(prices, key) if key in prices["prices"] else 0.0) * hours
    instance += ipv4 + _price(prices, "ebsGp3GbMonth") * aws_facts.AL2023_ROOT_VOLUME_GIB
    gateway = (_price(prices, "natGatewayHour") * hours) + ipv4
    processed = usage.nat_gb * _price(prices, "natGatewayGb")
    return {
        "publicIp": tasks * ipv4,
        "natGateway": gateway + processed,
        "natGatewayPerAz": zones * gateway + processed,
        "natInstance": instance,
        "natInstancePerAz": zones * instance,
    }


def egress_alternatives(inventory: Inventory, usage: Usage, prices: dict[str, Any]) -> list[str]:
    """Every egress choice priced for this stack, and what a NAT instance per zone would save a NAT gateway one."""
    if not inventory.zones:
        return []  # an existing VPC: its egress is not mapgate's to choose
    costs = egress_costs(inventory, usage, prices)
    current = _current_egress(inventory)
    tasks = sum(service.tasks for service in inventory.services)
    lines = [
        f"at {tasks} tasks, {len(inventory.zones)} AZs and {usage.nat_gb:g} GB/month through NAT (--nat-gb):",
        *(
            f"  {choice:<17} {usd:>8.2f} USD/month{'   <- this stack' if choice == current else ''}"
            for choice, usd in costs.items()
        ),
    ]
    if current.startswith("natGateway"):
        alternative = current.replace("Gateway", "Instance")
        saving = costs[current] - costs[alternative]
        lines.append(
            f"egress: {alternative} would save {saving:.2f} USD/month here; it trades the managed, highly available "
            "NAT gateway (up to 100 Gbps, no patching) for one small EC2 instance per NAT (burstable bandwidth, "
            "recovered by EC2 on hardware failure, minutes of lost egress when it fails)"
        )
    return lines
