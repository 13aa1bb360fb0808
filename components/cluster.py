"""The ECS cluster every service of the stack runs on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    container_insights: bool
    tags: Mapping[str, str]


class Cluster(pulumi.ComponentResource):
    """One ECS cluster per stack.

    Creates: an `aws.ecs.Cluster` (Container Insights on or off from config) and its
    `aws.ecs.ClusterCapacityProviders` with FARGATE and FARGATE_SPOT, which services must find associated
    with the cluster before they can use them (§1).
    """

    cluster_arn: pulumi.Output[str]
    cluster_name: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:cluster:Cluster", name, None, opts)
        cluster = aws.ecs.Cluster(
            f"{name}-ecs",
            name=args.cluster_name,
            settings=[
                aws.ecs.ClusterSettingArgs(
                    name="containerInsights", value="enabled" if args.container_insights else "disabled"
                )
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        providers = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity",
            cluster_name=cluster.name,
            capacity_providers=list(CAPACITY_PROVIDERS),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Services take the ARN through the association, so none is created before both providers are attached
        # (a service asking for FARGATE_SPOT on a bare cluster fails).
        self.cluster_arn = pulumi.Output.all(cluster.arn, providers.id).apply(lambda values: values[0])
        self.cluster_name = providers.cluster_name
        self.register_outputs({"clusterArn": self.cluster_arn, "clusterName": self.cluster_name})
