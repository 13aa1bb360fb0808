"""Security groups: who may open a connection to whom. One concept, so every rule is readable in one place."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import ec2, vpc

from mapgate import naming
from mapgate.components.base import Component

ANYWHERE_V4 = "0.0.0.0/0"


@dataclass(frozen=True)
class IngressRule:
    """`source` (a service name, or the VPC link) may call `target` on `port`."""

    target: str
    source: str
    port: int


def plan_ingress(
    ports: Mapping[str, int | None], allow_from: Mapping[str, Sequence[str]], routed: frozenset[str]
) -> list[IngressRule]:
    """Ingress is only ever from a known security group and only on the target's own port: never a CIDR."""
    rules = []
    for name in sorted(ports):
        port = ports[name]
        if port is None:  # listens on nothing: no ingress at all
            continue
        if name in routed:
            rules.append(IngressRule(target=name, source=naming.VPC_LINK_SOURCE, port=port))
        rules.extend(IngressRule(target=name, source=peer, port=port) for peer in sorted(allow_from.get(name, ())))
    return rules


@dataclass(frozen=True)
class FirewallArgs:
    vpc_id: pulumi.Input[str]
    ports: Mapping[str, int | None]
    """Each service's container port, by service name: the only port its group admits (None: it admits nothing)."""
    allow_from: Mapping[str, Sequence[str]]
    """Per service, the other services that may call it."""
    routed: frozenset[str]
    """The services an API route reaches: their groups admit the VPC link."""
    tags: Mapping[str, str]


class Firewall(Component):
    """Security groups for tasks and the VPC link, and the rules between them.

    Creates: one `ec2.SecurityGroup` per service (egress to anywhere, so tasks reach ECR, CloudWatch Logs and
    Cloud Map; ingress only on the service's port (none without one), from the VPC link when routed and from
    `allow_from` peers);
    when any route exists, a security group for the VPC link whose only egress is to the routed services' ports.
    Rules are separate `vpc.SecurityGroupIngressRule` / `EgressRule` resources, so two services may allow each
    other without a cycle. Groups carry the `mapgate:service` tag (the VPC link's, `mapgate:role`), which is how
    readers tell them apart.
    """

    task_security_group_ids: dict[str, pulumi.Output[str]]
    vpc_link_security_group_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: FirewallArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.FirewallChildren(name)

        groups: dict[str, ec2.SecurityGroup] = {}
        for service in sorted(args.ports):
            groups[service] = ec2.SecurityGroup(
                children.group(service),
                vpc_id=args.vpc_id,
                description=f"mapgate tasks of service {service}",
                tags={**args.tags, "Name": children.group(service), naming.SERVICE_TAG: service},
                opts=self.child_opts,
            )
            vpc.SecurityGroupEgressRule(
                children.egress(service),
                security_group_id=groups[service].id,
                description="tasks pull images and call AWS APIs",
                ip_protocol="-1",
                cidr_ipv4=ANYWHERE_V4,
                opts=self.child_opts,
            )

        vpc_link_group = None
        if args.routed:
            vpc_link_group = ec2.SecurityGroup(
                children.vpc_link_group,
                vpc_id=args.vpc_id,
                description="mapgate API Gateway VPC link",
                tags={**args.tags, "Name": children.vpc_link_group, naming.ROLE_TAG: naming.VPC_LINK_ROLE},
                opts=self.child_opts,
            )
            for service in sorted(args.routed):
                port = args.ports[service]
                assert port is not None  # config rules: a routed service has SRV records, so a port
                vpc.SecurityGroupEgressRule(
                    children.vpc_link_to(service),
                    security_group_id=vpc_link_group.id,
                    description=f"VPC link to {service}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    referenced_security_group_id=groups[service].id,
                    opts=self.child_opts,
                )

        sources = {**groups, **({naming.VPC_LINK_SOURCE: vpc_link_group} if vpc_link_group else {})}
        for rule in plan_ingress(args.ports, args.allow_from, args.routed):
            vpc.SecurityGroupIngressRule(
                children.ingress(rule.target, rule.source),
                security_group_id=groups[rule.target].id,
                description=f"{rule.source} calls {rule.target}",
                ip_protocol="tcp",
                from_port=rule.port,
                to_port=rule.port,
                referenced_security_group_id=sources[rule.source].id,
                opts=self.child_opts,
            )

        self.task_security_group_ids = {service: group.id for service, group in groups.items()}
        self.vpc_link_security_group_id = vpc_link_group.id if vpc_link_group else None
        self.register_outputs(
            {
                "taskSecurityGroupIds": self.task_security_group_ids,
                "vpcLinkSecurityGroupId": self.vpc_link_security_group_id,
            }
        )
