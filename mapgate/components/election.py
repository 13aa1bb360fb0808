"""Leader election: the lease table that decides, and the Cloud Map services that route by role.

The app's side is `app/mapgate_app/election.py`; docs/election.md explains the design and what was measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import dynamodb, servicediscovery

from mapgate import aws_facts, contract, naming
from mapgate.components.base import Component

# The lease item's key attribute: one item per elected service, keyed by the service's name.
LEASE_KEY = contract.LEASE_KEY


@dataclass(frozen=True)
class LeaderElectionArgs:
    namespace_id: pulumi.Input[str]
    """The private namespace the roles services live in (next to the ECS-owned services)."""
    services: Sequence[str]
    """The services that elect a leader."""
    table_name: str
    """The lease table's name in AWS."""
    tags: Mapping[str, str]


class LeaderElection(Component):
    """Everything the election needs besides the tasks' IAM policy (which FargateService scopes to these).

    Creates: one `dynamodb.Table` for the stack's leases (on-demand, one item per elected service, strongly
    consistent reads and conditional writes), and per elected service a `servicediscovery.Service` of type HTTP,
    its *roles service*: the app registers the lease holder there as `leader=true` and the other tasks as
    `leader=false`. Type HTTP means no DNS records and so no Route 53 changes on each registration; with no health
    check, `DiscoverInstances` returns every instance, and the app removes its instances itself.
    """

    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    roles_service_ids: dict[str, pulumi.Output[str]]
    roles_service_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: LeaderElectionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        children = naming.ElectionChildren(name)
        table = dynamodb.Table(
            children.lease_table,
            name=args.table_name,
            # A few requests a second at most: on-demand costs cents where provisioned capacity costs dollars.
            billing_mode="PAY_PER_REQUEST",
            hash_key=LEASE_KEY,
            attributes=[dynamodb.TableAttributeArgs(name=LEASE_KEY, type="S")],
            # A lease lives for seconds: nothing in the table is worth a backup, and a new table elects at once.
            point_in_time_recovery=dynamodb.TablePointInTimeRecoveryArgs(enabled=False),
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        self.roles_service_ids = {}
        self.roles_service_arns = {}
        for service in sorted(args.services):
            roles = servicediscovery.Service(
                children.roles_service(service),
                name=naming.roles_service_name(service),
                namespace_id=args.namespace_id,
                type=aws_facts.API_ONLY_SERVICE_TYPE,
                description=f"lease holder (leader=true) and other tasks (leader=false) of mapgate service {service}",
                # The app deregisters its instances; this only keeps `pulumi destroy` from failing on stragglers.
                force_destroy=True,
                tags={**args.tags, naming.SERVICE_TAG: service},
                # A fixed name in the namespace, like the DNS services: replaced delete-first (docs/changes.md).
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            self.roles_service_ids[service] = roles.id
            self.roles_service_arns[service] = roles.arn
        self.table_name = table.name
        self.table_arn = table.arn
        self.register_outputs({"tableName": self.table_name, "rolesServiceArns": self.roles_service_arns})
