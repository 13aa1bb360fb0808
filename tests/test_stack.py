"""The whole program, run as `pulumi up` runs it, with the dev and prod stack files."""

from __future__ import annotations

import re
from collections import Counter

import pulumi
import pytest

from mapgate import resource_types as types
from tests.harness import API, NETWORK, RecordingMocks, StackRun, changed, load_stack_file, run_stack, with_prefix

COMPONENT_TYPE = re.compile(r"^mapgate:[a-z]+:[A-Z][A-Za-z]+$")


def test_dev_outputs(dev_run: StackRun) -> None:
    outputs = dev_run.outputs
    assert set(outputs) == {
        "apiUrl",
        "routeUrls",
        "namespaceName",
        "serviceDnsNames",
        "clusterName",
        "vpcId",
        "alarmTopicArn",
        "routeAuthorization",
        "region",
        "apiExecutionArn",
        "statusTargets",
        "dashboardUrl",
    }
    assert outputs["region"] == "us-east-1"
    assert outputs["clusterName"] == "mapgate-dev"
    # dev stays open, so the README's first curl works.
    assert outputs["routeAuthorization"] == {"GET /": "none", "GET /follower": "none", "GET /leader": "none"}
    assert outputs["vpcId"] == dev_run.one(types.VPC, NETWORK.vpc).id


def test_prod_cluster_is_named_for_its_stack(prod_run: StackRun) -> None:
    assert prod_run.outputs["clusterName"] == "mapgate-prod"


def test_prod_protects_its_management_routes(prod_run: StackRun) -> None:
    assert prod_run.outputs["routeAuthorization"] == {"GET /": "none", "GET /follower": "iam", "GET /leader": "iam"}
    # What a caller's IAM policy grants execute-api:Invoke under, e.g. `<arn>/$default/GET/leader`.
    api = prod_run.one(types.HTTP_API, API.api)
    assert prod_run.outputs["apiExecutionArn"] == api.state["executionArn"]


def test_one_component_per_concept(any_run: StackRun) -> None:
    components = Counter(r.typ for r in any_run.registrations if r.typ.startswith("mapgate:"))
    assert components == {
        "mapgate:network:Network": 1,
        "mapgate:network:Firewall": 1,
        "mapgate:discovery:Discovery": 1,
        "mapgate:election:LeaderElection": 1,
        "mapgate:cluster:Cluster": 1,
        "mapgate:image:ImageRepository": 1,
        "mapgate:service:FargateService": 3,
        "mapgate:api:HttpApi": 1,
        "mapgate:dashboard:Dashboard": 1,
    }
    assert all(COMPONENT_TYPE.match(t) for t in components)


def test_every_component_registers_its_outputs(any_run: StackRun) -> None:
    components = {r.urn for r in any_run.registrations if r.typ.startswith("mapgate:")}
    assert components
    assert components <= any_run.outputs_registered


def test_resource_counts(dev_run: StackRun, prod_run: StackRun) -> None:
    # Components plus the resources they register (the awsx Image counts as one under mocks).
    # prod has app autoscaling (a scalable target and a CPU policy) and an email subscription to the alarm topic.
    # The election adds its component, the lease table and app's roles service to both. The cache service adds 11:
    # its FargateService and 6 children, its Cloud Map service, its security group with one egress and one
    # ingress (from app) rule.
    # The network: VPC, internet gateway, S3 endpoint, and per zone two subnets, two route tables, two
    # associations and a public route (dev, 2 zones: 17; prod, 3 zones: 24). Then NAT: dev's one NAT instance
    # with its group, 2 rules, role, policy attachment, instance profile, the policy that lets a failed boot tag
    # its instance, and 2 private routes (10); prod's 3 EIPs, 3 NAT gateways and 3 private routes (9).
    # The dashboard: its component and the dashboard (2).
    assert (len(dev_run.registrations), len(prod_run.registrations)) == (92, 101)


def test_runs_are_isolated_from_each_other(dev_run: StackRun, prod_run: StackRun) -> None:
    for run, stack in ((dev_run, "dev"), (prod_run, "prod")):
        assert all(r.urn.startswith(f"urn:pulumi:{stack}::mapgate::") for r in run.registrations)
        assert all(r.parent.startswith(f"urn:pulumi:{stack}::mapgate::") for r in run.registrations)


def test_bad_config_creates_nothing_and_says_why() -> None:
    mocks = RecordingMocks()
    config = changed("dev", ["services", "app", "healthCheck", "interval"], 1)
    config["services"]["worker"]["allowFrom"] = ["ap"]
    with pytest.raises(pulumi.RunError) as caught:
        run_stack(with_prefix(config), mocks=mocks)
    message = str(caught.value)
    assert "invalid stack config (2 problems); nothing was created" in message
    assert "services.app.healthCheck.interval: 1 — must be an integer from 5 to 300" in message
    assert "services.worker.allowFrom[0]: \"ap\" — no service named 'ap'; did you mean 'app'?" in message
    assert mocks.resources == []
    assert mocks.calls == []  # not even a lookup before the config is known to be good


def test_unknown_keys_in_the_project_namespace_are_rejected() -> None:
    config = with_prefix(changed("dev", ["containerInsight"], True))
    with pytest.raises(
        pulumi.RunError, match="mapgate:containerInsight: unknown key; did you mean 'containerInsights'"
    ):
        run_stack(config)


def test_a_preview_registers_the_same_resources(dev_run: StackRun) -> None:
    """In a preview computed values are unknown; the program must still register everything up front."""
    preview = run_stack(load_stack_file("dev"), preview=True)
    assert sorted(r.urn for r in preview.registrations) == sorted(r.urn for r in dev_run.registrations)


def test_a_run_reads_the_same_whatever_order_the_pool_registered_in(dev_run: StackRun) -> None:
    # The offline runtime registers through a thread pool, so arrival order varies from run to run; CI once
    # failed on a test that compared names in arrival order.
    again = run_stack(load_stack_file("dev"), stack="dev")
    assert len(dev_run.resources) > 40
    assert [(r.typ, r.name) for r in again.resources] == [(r.typ, r.name) for r in dev_run.resources]
    assert [(r.typ, r.name) for r in dev_run.resources] == sorted((r.typ, r.name) for r in dev_run.resources)
    assert [r.urn for r in again.registrations] == sorted(r.urn for r in dev_run.registrations)
