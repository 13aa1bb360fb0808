"""The network: the VPC (`vpc.py`) and the security groups between tasks and the VPC link (`firewall.py`)."""

from mapgate.components.network.firewall import Firewall, FirewallArgs, IngressRule, plan_ingress
from mapgate.components.network.vpc import Network, NetworkArgs, plan_subnets

__all__ = ["Firewall", "FirewallArgs", "IngressRule", "Network", "NetworkArgs", "plan_ingress", "plan_subnets"]
