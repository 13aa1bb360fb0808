"""The network: the VPC (`vpc.py`, its NAT instances from `nat.py`) and the security groups between tasks and
the VPC link (`firewall.py`)."""

from mapgate.components.network.firewall import Firewall, FirewallArgs, IngressRule, plan_ingress
from mapgate.components.network.nat import NatInstanceArgs, nat_instance, user_data
from mapgate.components.network.vpc import ExistingNetwork, NatInstanceSpec, NatKind, Network, NetworkArgs, plan_subnets

__all__ = [
    "ExistingNetwork",
    "Firewall",
    "FirewallArgs",
    "IngressRule",
    "NatInstanceArgs",
    "NatInstanceSpec",
    "NatKind",
    "Network",
    "NetworkArgs",
    "nat_instance",
    "plan_ingress",
    "plan_subnets",
    "user_data",
]
