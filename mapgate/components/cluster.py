"""The ECS cluster every service of the stack runs on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import ecs

from mapgate import aws_facts, naming
from mapgate.components.base import Component


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    """The ECS cluster's name in AWS."""
    container_insights: bool
    """Turn on CloudWatch Container Insights (metrics per task and service; billed as custom metrics)."""
    tags: Mapping[str, str]


class Cluster(Component):
    """One ECS cluster per stack.

    Creates: an `ecs.Cluster` (Container Insights on or off) and its `ecs.ClusterCapacityProviders` with FARGATE
    and FARGATE_SPOT, which a service must find associated with the cluster before it may use them.
    """

    cluster_arn: pulumi.Output[str]
    cluster_name: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        cluster = ecs.Cluster(
            naming.child(name, "ecs"),
            name=args.cluster_name,
            settings=[
                ecs.ClusterSettingArgs(
                    name="containerInsights", value="enabled" if args.container_insights else "disabled"
                )
            ],
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        providers = ecs.ClusterCapacityProviders(
            naming.child(name, "capacity"),
            cluster_name=cluster.name,
            capacity_providers=sorted(set(aws_facts.CAPACITY_PROVIDER.values())),
            opts=self.child_opts,
        )
        # Services take the ARN through the association, so none is created before both providers are attached
        # (a service asking for FARGATE_SPOT on a bare cluster fails).
        self.cluster_arn = pulumi.Output.all(cluster.arn, providers.id).apply(lambda values: values[0])
        self.cluster_name = providers.cluster_name
        self.register_outputs({"clusterArn": self.cluster_arn, "clusterName": self.cluster_name})
