"""Service to service on loopback, over real protocols: gRPC over DNS A records, and a Redis found by SRV.

A local DNS server answers from a moto Cloud Map namespace the way Route 53 does (tests/cloudmap_dns.py), with
TTL 10. Three gRPC workers listen on 127.0.0.2-4, one port, as three tasks would on three private IPs; the
app's own client (mapgate_app.peers, configured from the environment the stack gives it) calls them. The waits
are bounded and count calls; the gRPC timings are the app's settings, shrunk so the tests take seconds.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
import grpc
import pytest
import redis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from moto import mock_aws

from mapgate import contract
from mapgate_app import worker
from mapgate_app.cache import Cache, CacheNotFound
from mapgate_app.identity import Identity
from mapgate_app.peers import Peers
from mapgate_app.server import AppState
from mapgate_app.settings import Settings
from tests.cloudmap_dns import CloudMapResolver, serving
from tests.harness import ROOT, StackRun, containers, environment
from tests.test_app_server import get, running

WAIT = 10.0  # no single wait here lasts longer
NAMESPACE = "test.mapgate.internal"
TTL = 10
# Test-only timings through the app's own settings (production defaults: mapgate_app.settings.GrpcTiming).
FAST = {
    "MAPGATE_GRPC_MAX_AGE_MS": "500",
    "MAPGATE_GRPC_MAX_AGE_GRACE_MS": "300",
    "MAPGATE_GRPC_RESOLVE_MS": "100",
    "MAPGATE_GRPC_DRAIN_SECONDS": "0.5",
}
WORKER_IPS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


@dataclass
class CloudMap:
    client: Any
    service_ids: dict[str, str]
    resolver: CloudMapResolver
    dns_server: str

    def register(self, service: str, instance: str, ip: str, port: int) -> None:
        self.client.register_instance(
            ServiceId=self.service_ids[service],
            InstanceId=instance,
            Attributes={"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": str(port)},
        )

    def deregister(self, service: str, instance: str) -> None:
        self.client.deregister_instance(ServiceId=self.service_ids[service], InstanceId=instance)


@pytest.fixture(scope="module")
def namespace() -> Iterator[CloudMap]:
    """A private namespace with `worker` (A records) and `cache` (SRV only), as the dev stack declares them."""
    with mock_aws():
        vpc = boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        client = boto3.client("servicediscovery", region_name="us-east-1")
        client.create_private_dns_namespace(Name=NAMESPACE, Vpc=vpc)
        (namespace,) = client.list_namespaces()["Namespaces"]
        service_ids = {}
        for name, record in (("worker", "A"), ("cache", "SRV")):
            service_ids[name] = client.create_service(
                Name=name,
                NamespaceId=namespace["Id"],
                DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": record, "TTL": TTL}]},
                HealthCheckCustomConfig={},
            )["Service"]["Id"]
        resolver = CloudMapResolver(client, namespace["Id"])
        with serving(resolver) as dns_server:
            yield CloudMap(client, service_ids, resolver, dns_server)


@pytest.fixture
def cloud_map(namespace: CloudMap) -> Iterator[CloudMap]:
    """The namespace, emptied of instances (and of logged queries) after each test."""
    yield namespace
    for service_id in namespace.service_ids.values():
        for instance in namespace.client.list_instances(ServiceId=service_id)["Instances"]:
            namespace.client.deregister_instance(ServiceId=service_id, InstanceId=instance["Id"])
    namespace.resolver.queries.clear()


def app_settings(cloud_map: CloudMap, **extra: str) -> Settings:
    return Settings.from_environ({"MAPGATE_DNS_SERVER": cloud_map.dns_server, **FAST, **extra})


def identity(n: int) -> Identity:
    return Identity(task_id=f"task-{n}", private_ip=WORKER_IPS[n], availability_zone="local", region=None)


@contextmanager
def workers(cloud_map: CloudMap, count: int) -> Iterator[list[worker.RunningWorker]]:
    """`count` workers on 127.0.0.2.. sharing one port, each registered in Cloud Map like an ECS task."""
    timing = app_settings(cloud_map).grpc
    started: list[worker.RunningWorker] = []
    try:
        for n in range(count):
            started.append(worker.start(identity(n), WORKER_IPS[n], started[0].port if started else 0, timing))
            cloud_map.register("worker", f"task-{n}", WORKER_IPS[n], started[0].port)
        yield started
    finally:
        for running_worker in started:
            running_worker.server.stop(0).wait(WAIT)


def peers_for(cloud_map: CloudMap, port: int, **extra: str) -> Peers:
    """The app's peers as the stack configures them: the worker by its DNS name, through the local DNS server."""
    return Peers(app_settings(cloud_map, MAPGATE_GRPC_PEERS=f"worker=dns:///worker.{NAMESPACE}:{port}", **extra))


def call_until(
    call: Callable[[], str], done: Callable[[Counter[str]], bool], bound: float
) -> tuple[Counter[str], float]:
    """Call until `done(counts)` holds; fail past `bound` seconds. Returns the answers counted and the time taken."""
    counts: Counter[str] = Counter()
    pace = threading.Event()
    started = time.monotonic()
    while not done(counts):
        elapsed = time.monotonic() - started
        assert elapsed < bound, f"not done after {elapsed:.2f} s and {sum(counts.values())} calls: {dict(counts)}"
        counts[call()] += 1
        pace.wait(0.005)  # a steady trickle of calls, as a busy app makes them
    return counts, time.monotonic() - started


def answer_of_get_root(peers: Peers) -> dict[str, Any]:
    """The app's `GET /` over real HTTP, with these peers."""
    try:
        with running(AppState(identity=identity(0), service="app", extras=peers.describe)) as server:
            status, body = get(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        peers.close()
    assert status == 200
    return body


def test_the_app_spreads_calls_over_every_worker(cloud_map: CloudMap) -> None:
    with workers(cloud_map, 3) as started:
        body = answer_of_get_root(peers_for(cloud_map, started[0].port, MAPGATE_WORKER_CALLS="30"))
        hidden = answer_of_get_root(
            peers_for(cloud_map, started[0].port, MAPGATE_WORKER_CALLS="30", MAPGATE_EXPOSE_TASK_INFO="false")
        )
    spread = body["peers"]["worker"]
    assert spread["target"] == f"dns:///worker.{NAMESPACE}:{started[0].port}"
    assert "error" not in spread
    assert set(spread["answeredBy"]) == {"task-0", "task-1", "task-2"}
    assert sum(spread["answeredBy"].values()) == 30
    assert (f"worker.{NAMESPACE}", "A") in cloud_map.resolver.queries
    # With task info off (prod), the tasks are still told apart, by a hash instead of their ids.
    assert "target" not in hidden["peers"]["worker"]
    labels = set(hidden["peers"]["worker"]["answeredBy"])
    assert len(labels) == 3
    assert all(re.fullmatch(r"[0-9a-f]{8}", label) for label in labels)


def test_with_no_worker_up_get_root_waits_one_call_timeout_not_n(cloud_map: CloudMap) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.2", 0))
        port = s.getsockname()[1]  # nothing listens there
    cloud_map.register("worker", "task-0", "127.0.0.2", port)
    body = answer_of_get_root(peers_for(cloud_map, port, MAPGATE_WORKER_CALLS="8", MAPGATE_GRPC_CALL_TIMEOUT_MS="300"))
    spread = body["peers"]["worker"]
    assert spread["error"] in ("UNAVAILABLE", "DEADLINE_EXCEEDED")
    assert (spread["skipped"], spread["answeredBy"]) == (7, {})


# A client re-resolves when a connection reaches max age (+10 % jitter), at most once per resolution interval;
# one more second covers connecting to the new worker. (No caching resolver sits in between here; in a VPC,
# the Route 53 Resolver may add up to the TTL.)
PICKUP_BOUND = 0.5 * 1.1 + 0.1 + 1.0


def test_a_new_worker_is_used_within_the_max_age_bound(cloud_map: CloudMap) -> None:
    with workers(cloud_map, 2) as started:
        peers = peers_for(cloud_map, started[0].port)
        client = peers.workers["worker"]
        try:
            call_until(lambda: client.who().task, lambda seen: len(seen) == 2, WAIT)
            third = worker.start(identity(2), WORKER_IPS[2], started[0].port, app_settings(cloud_map).grpc)
            started.append(third)
            cloud_map.register("worker", "task-2", WORKER_IPS[2], started[0].port)
            counts, took = call_until(lambda: client.who().task, lambda seen: seen["task-2"] > 0, PICKUP_BOUND)
        finally:
            peers.close()
    assert counts["task-0"] + counts["task-1"] > 0  # the old ones kept answering meanwhile
    print(f"new worker used after {took:.2f} s and {sum(counts.values())} calls")


# A health Watch reports NOT_SERVING to the client within milliseconds; the bound leaves room for a slow CI box.
HEALTH_BOUND = 0.3


def test_a_removed_worker_fails_health_then_stops_and_no_call_fails(cloud_map: CloudMap) -> None:
    with workers(cloud_map, 3) as started:
        peers = peers_for(cloud_map, started[0].port)
        client = peers.workers["worker"]
        leaving = started[2]
        failures: Counter[str] = Counter()
        late: list[float] = []
        try:
            call_until(lambda: client.who().task, lambda seen: len(seen) == 3, WAIT)
            # What ECS does to a stopping task: out of Cloud Map at once, then SIGTERM.
            cloud_map.deregister("worker", "task-2")
            health_failed = time.monotonic()
            drain = threading.Thread(target=leaving.drain)
            drain.start()

            def call() -> str:
                try:
                    task = str(client.who().task)
                except grpc.RpcError as error:
                    failures[error.code().name] += 1
                    return "failed"
                if task == "task-2":
                    late.append(time.monotonic() - health_failed)
                return task

            stopped = 0

            def drained_and_more(seen: Counter[str]) -> bool:
                nonlocal stopped
                stopped = stopped + 1 if not drain.is_alive() else 0
                return stopped > 50  # 50 calls after the worker stopped listening

            counts, took = call_until(call, drained_and_more, WAIT)
            drain.join(WAIT)
        finally:
            peers.close()
    assert not failures, f"calls failed while a worker left: {dict(failures)}"
    assert all(after < HEALTH_BOUND for after in late), f"task-2 still answered {late} s after failing health"
    assert counts["task-0"] > 0
    assert counts["task-1"] > 0
    drain_seconds = app_settings(cloud_map).grpc.drain_seconds
    assert took >= drain_seconds  # the calls went on through the whole drain


# --- the worker's container health check and SIGTERM, as the dev task definition runs them ------------------


def worker_command(dev_run: StackRun, key: str) -> list[str]:
    (container,) = containers(dev_run, "worker")
    command = list(container["healthCheck"]["command"][1:] if key == "health" else container["command"])
    return [sys.executable if command[0] == "python" else command[0], *command[1:]]


def probe(command: list[str], port: int) -> int:
    env = {**os.environ, "MAPGATE_PORT": str(port), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(command, env=env, timeout=WAIT, capture_output=True).returncode


def test_the_worker_health_check_speaks_grpc_health(dev_run: StackRun) -> None:
    (container,) = containers(dev_run, "worker")
    assert container["healthCheck"]["command"] == ["CMD", "python", "-m", "mapgate_app.grpc_health"]
    command = worker_command(dev_run, "health")
    timing = Settings.from_environ(FAST).grpc
    running_worker = worker.start(identity(0), "127.0.0.1", 0, timing)
    try:
        assert probe(command, running_worker.port) == 0
        running_worker.fail_health()
        assert probe(command, running_worker.port) == 1
    finally:
        running_worker.server.stop(0).wait(WAIT)
    assert probe(command, running_worker.port) == 1  # nothing listens


def health_of(port: int) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
        except grpc.RpcError as error:
            return str(error.code().name)
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status))


def wait_for(condition: Callable[[], bool], what: str) -> None:
    pace = threading.Event()
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pace.wait(0.05)


def test_sigterm_fails_health_keeps_serving_then_exits(dev_run: StackRun) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, **environment(dev_run, "worker"), **FAST, "PYTHONPATH": str(ROOT / "app")}
    env |= {"MAPGATE_PORT": str(port), "MAPGATE_HOST": "127.0.0.1", "MAPGATE_GRPC_DRAIN_SECONDS": "1"}
    env.pop("ECS_CONTAINER_METADATA_URI_V4", None)
    process = subprocess.Popen(worker_command(dev_run, "command"), env=env, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: health_of(port) == "SERVING", "the worker to serve")
        process.send_signal(signal.SIGTERM)
        wait_for(lambda: health_of(port) == "NOT_SERVING", "health to fail")
        from mapgate_app import worker_pb2, worker_pb2_grpc

        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:  # still answers while it drains
            assert worker_pb2_grpc.WorkerStub(channel).Who(worker_pb2.WhoRequest(), timeout=WAIT).task
        assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)


# --- the cache, found by SRV ---------------------------------------------------------------------------------


@pytest.fixture
def redis_server() -> Iterator[int]:
    """A real redis-server on loopback (CI installs the Debian package: .ci/run)."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: apt-get install redis-server (.ci/run does)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_for(ready, "redis-server to start")
        yield port
    finally:
        client.close()
        process.terminate()
        process.wait(WAIT)


def test_the_app_finds_the_cache_by_srv_and_counts(cloud_map: CloudMap, redis_server: int) -> None:
    cloud_map.register("cache", "cache-task", "127.0.0.1", redis_server)
    cache = Cache(f"cache.{NAMESPACE}", dns_server=cloud_map.dns_server)
    try:
        first, second = cache.incr(), cache.incr()
    finally:
        cache.close()
    assert (first["counter"], second["counter"]) == (1, 2)
    assert first["at"] == f"127.0.0.1:{redis_server}"
    queries = cloud_map.resolver.queries
    assert (f"cache.{NAMESPACE}", "SRV") in queries
    assert (f"cache-task.cache.{NAMESPACE}", "A") in queries  # the SRV target, resolved through the same server

    # The app's `GET /`, configured as the stack configures it: the count lives in the cache, not in the task.
    peers = Peers(app_settings(cloud_map, **{contract.ENV_SRV_PEERS: f"cache=cache.{NAMESPACE}"}))
    try:
        with running(AppState(identity=identity(0), service="app", extras=peers.describe)) as server:
            _, body = get(f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        peers.close()
    assert body["peers"]["cache"]["counter"] == 3


def test_a_missing_srv_record_is_a_clear_error_not_a_hang(cloud_map: CloudMap) -> None:
    # No such service, and a service with no healthy task: both NXDOMAIN, answered at once.
    for name in (f"nothing.{NAMESPACE}", f"cache.{NAMESPACE}"):
        cache = Cache(name, dns_server=cloud_map.dns_server, timeout=WAIT)
        with pytest.raises(CacheNotFound, match=re.escape(f"no SRV record {name}: is the cache service deployed")):
            cache.incr()
        assert cache.describe() == {
            "srv": name,
            "error": f"no SRV record {name}: is the cache service deployed and healthy?",
        }


def test_a_silent_dns_server_is_a_bounded_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # receives queries, never answers
        cache = Cache(f"cache.{NAMESPACE}", dns_server=f"127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        with pytest.raises(CacheNotFound, match=re.escape(f"no DNS answer for cache.{NAMESPACE} within 0.5 s")):
            cache.incr()
