"""Benchmark: how the app's gRPC client spreads calls over worker tasks, and how soon it uses a new one.

    python bench/grpc_discovery.py [--workers 3] [--calls 3000] [--max-age-ms 30000] [--resolve-ms 10000]
                                   [--trials 3]

On loopback, as tests/test_service_to_service.py sets it up: a DNS server answering from a moto Cloud Map
namespace (TTL 10, at most 8 records), workers on 127.0.0.2.., the app's own client (mapgate_app.peers).
Reports the calls each worker answered, then per trial the seconds and calls until a newly registered worker
answers. No caching resolver sits in between: in a VPC the Route 53 Resolver may add up to the TTL (10 s).
Defaults are the production settings (mapgate_app.settings.GrpcTiming). A script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "app")]

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from mapgate_app import worker  # noqa: E402
from mapgate_app.identity import Identity  # noqa: E402
from mapgate_app.peers import Peers  # noqa: E402
from mapgate_app.settings import Settings  # noqa: E402
from tests.cloudmap_dns import CloudMapResolver, serving  # noqa: E402

NAMESPACE = "bench.mapgate.internal"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--max-age-ms", type=int, default=30_000)
    parser.add_argument("--resolve-ms", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--pace-ms", type=float, default=10.0, help="gap between calls while waiting")
    args = parser.parse_args()
    env = {"MAPGATE_GRPC_MAX_AGE_MS": str(args.max_age_ms), "MAPGATE_GRPC_RESOLVE_MS": str(args.resolve_ms)}

    with mock_aws():
        vpc = boto3.client("ec2", region_name="us-east-1").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        client = boto3.client("servicediscovery", region_name="us-east-1")
        client.create_private_dns_namespace(Name=NAMESPACE, Vpc=vpc)
        (namespace,) = client.list_namespaces()["Namespaces"]
        service_id = client.create_service(
            Name="worker",
            NamespaceId=namespace["Id"],
            DnsConfig={"RoutingPolicy": "MULTIVALUE", "DnsRecords": [{"Type": "A", "TTL": 10}]},
        )["Service"]["Id"]
        with serving(CloudMapResolver(client, namespace["Id"])) as dns_server:
            settings = Settings.from_environ({**env, "MAPGATE_DNS_SERVER": dns_server})
            started: list[worker.RunningWorker] = []

            def add(n: int) -> None:
                ip = f"127.0.0.{n + 2}"
                me = Identity(task_id=f"task-{n}", private_ip=ip, availability_zone="local", region=None)
                started.append(worker.start(me, ip, started[0].port if started else 0, settings.grpc))
                client.register_instance(
                    ServiceId=service_id,
                    InstanceId=f"task-{n}",
                    Attributes={"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": str(started[0].port)},
                )

            for n in range(args.workers):
                add(n)
            peers = Peers(
                Settings.from_environ(
                    {
                        **env,
                        "MAPGATE_DNS_SERVER": dns_server,
                        "MAPGATE_GRPC_PEERS": f"worker=dns:///worker.{NAMESPACE}:{started[0].port}",
                    }
                )
            )
            stub = peers.workers["worker"]
            spread = Counter(stub.who().task for _ in range(args.calls))
            print(f"spread of {args.calls} calls over {args.workers} workers: {dict(sorted(spread.items()))}")
            print(f"max age {args.max_age_ms} ms, min re-resolution {args.resolve_ms} ms")
            pace = threading.Event()
            took: list[float] = []
            for trial in range(args.trials):
                new = f"task-{args.workers + trial}"
                add(args.workers + trial)
                start, calls = time.monotonic(), 0
                while stub.who().task != new:
                    calls += 1
                    pace.wait(args.pace_ms / 1000)
                took.append(time.monotonic() - start)
                print(f"trial {trial + 1}: new worker {new} answered after {took[-1]:.2f} s, {calls} calls")
            print(f"pick-up: median {statistics.median(took):.2f} s, max {max(took):.2f} s over {len(took)} trials")
            peers.close()
            for running in started:
                running.server.stop(0)


if __name__ == "__main__":
    main()
