"""Security groups: who may open a connection to whom. One concept, so every rule is readable in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config import ServiceConfig

ANYWHERE_V4 = "0.0.0.0/0"


@dataclass(frozen=True)
class IngressRule:
    """`source` (a service name, or the VPC link) may call `target` on `port`."""

    target: str
    source: str
    port: int


# Service names are DNS labels, which never contain "_": names built with it cannot collide with a service's.
VPC_LINK = "vpc_link"


def plan_ingress(services: Mapping[str, ServiceConfig], routed: set[str]) -> list[IngressRule]:
    """Ingress is only ever from a known security group and only on the target's own port: never a CIDR."""
    rules = []
    for name in sorted(services):
        svc = services[name]
        if name in routed:
            rules.append(IngressRule(target=name, source=VPC_LINK, port=svc.port))
        rules.extend(IngressRule(target=name, source=peer, port=svc.port) for peer in sorted(svc.allow_from))
    return rules


@dataclass(frozen=True)
class FirewallArgs:
    vpc_id: pulumi.Input[str]
    services: Mapping[str, ServiceConfig]
    routed: frozenset[str]
    tags: Mapping[str, str]


class Firewall(pulumi.ComponentResource):
    """Security groups for tasks and the VPC link, and the rules between them.

    Creates: one security group per service (egress to anywhere, so tasks reach ECR, CloudWatch Logs and
    Cloud Map; ingress only on the service's port from the VPC link when routed and from `allowFrom`
    peers); when any route exists, a security group for the VPC link whose only egress is to the routed
    services' ports. Rules are separate resources so two services may allow each other without a cycle.
    """

    task_security_group_ids: dict[str, pulumi.Output[str]]
    vpc_link_security_group_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:network:Firewall", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        groups: dict[str, aws.ec2.SecurityGroup] = {}
        for svc_name in sorted(args.services):
            groups[svc_name] = aws.ec2.SecurityGroup(
                f"{name}-{svc_name}",
                vpc_id=args.vpc_id,
                description=f"mapgate tasks of service {svc_name}",
                tags={**args.tags, "Name": f"{name}-{svc_name}"},
                opts=child,
            )
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{svc_name}_egress",
                security_group_id=groups[svc_name].id,
                description="tasks pull images and call AWS APIs",
                ip_protocol="-1",
                cidr_ipv4=ANYWHERE_V4,
                opts=child,
            )

        vpc_link_group = None
        if args.routed:
            vpc_link_group = aws.ec2.SecurityGroup(
                f"{name}-{VPC_LINK}",
                vpc_id=args.vpc_id,
                description="mapgate API Gateway VPC link",
                tags={**args.tags, "Name": f"{name}-{VPC_LINK}"},
                opts=child,
            )
            for svc_name in sorted(args.routed):
                port = args.services[svc_name].port
                aws.vpc.SecurityGroupEgressRule(
                    f"{name}-{VPC_LINK}_to_{svc_name}",
                    security_group_id=vpc_link_group.id,
                    description=f"VPC link to {svc_name}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    referenced_security_group_id=groups[svc_name].id,
                    opts=child,
                )

        sources = {**groups, **({VPC_LINK: vpc_link_group} if vpc_link_group else {})}
        for rule in plan_ingress(args.services, set(args.routed)):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-{rule.target}_from_{rule.source}",
                security_group_id=groups[rule.target].id,
                description=f"{rule.source} calls {rule.target}",
                ip_protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                referenced_security_group_id=sources[rule.source].id,
                opts=child,
            )

        self.task_security_group_ids = {svc_name: group.id for svc_name, group in groups.items()}
        self.vpc_link_security_group_id = vpc_link_group.id if vpc_link_group else None
        self.register_outputs(
            {
                "taskSecurityGroupIds": self.task_security_group_ids,
                "vpcLinkSecurityGroupId": self.vpc_link_security_group_id,
            }
        )
