"""Generated stacks of N services for the picture's tests and bench/picture.py, as stack config and as the
Topology the program's run of that config gives.

`generated_topology(n)` builds the Topology directly, so geometry at 50 services costs milliseconds instead of a
Pulumi mock run; tests/test_diagram.py checks it equals what a real run of `generated(n)` reads back.
"""

from __future__ import annotations

import itertools
from typing import Any

from mapgate.cli.diagram import Scene, ServiceNode, Topology
from mapgate.cli.inventory import AlarmTopic, NetworkFacts, RouteFacts

HEALTH = {"command": ["CMD", "python", "-m", "mapgate_app.healthcheck"], "startPeriod": 15}
SIZES = (1, 3, 10, 50)
"""The stack sizes the picture is checked and measured at."""
NAMESPACE = "dev.mapgate.internal"
"""The namespace a generated stack gets when run as the `dev` stack."""


def _callers(i: int, count: int) -> list[str]:
    if i % 10 == 7:  # calls no one and is called by no one, and has no route: a box with no line to it
        return []
    allow = [f"svc-{i - (2 if i % 10 == 8 else 1):03d}"] if i else []
    if i % 4 == 2:
        allow.append("svc-000")
    if i == 1 and count > 2:
        allow.append("svc-002")
    return sorted(set(allow))


def generated(count: int) -> dict[str, Any]:
    """A chain of calls (each service allowed from the one before, so at 50 it must be paginated), a fan-out
    from svc-000 to every fourth service (edges spanning columns and pages), a cycle (svc-001 <-> svc-002), and
    from 10 services on, services with no route that call no one and that no one calls (svc-007, svc-017, ...;
    the chain skips them)."""
    services: dict[str, Any] = {}
    routes: dict[str, Any] = {}
    for i in range(count):
        name = f"svc-{i:03d}"
        services[name] = {
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "port": 8000 + i,
            "records": ["A", "SRV"],
            "desiredCount": 2,
            "capacity": "spot" if i % 2 else "onDemand",
            "healthCheck": HEALTH,
            "allowFrom": _callers(i, count),
        }
        if i == 0:
            services[name]["leaderElection"] = True
            services[name]["autoscaling"] = {"min": 2, "max": 6, "cpuTarget": 60}
            routes["GET /leader"] = {"service": name, "attributes": {"leader": "true"}}
        if i % 3 == 0:
            routes[f"GET /{name}"] = {"service": name}
    return {
        "network": {"availabilityZones": 2, "egress": "natGateway"},
        "services": services,
        "api": {"routes": routes},
    }


def generated_topology(count: int, stack: str = "gen") -> Topology:
    """What `topology(Inventory.read(run_stack(with_prefix(generated(count)))), stack)` gives, without the run."""
    services = [
        ServiceNode(
            name=f"svc-{i:03d}",
            dns_name=f"svc-{i:03d}.{NAMESPACE}",
            records="A+SRV",
            ttl=10,
            tasks=2,
            capacity="FARGATE_SPOT" if i % 2 else "FARGATE",
            architecture="arm64",
            size="256/512",
            port=8000 + i,
            leader_election=i == 0,
            scaling=(2, 6) if i == 0 else None,
        )
        for i in range(count)
    ]
    routes = [RouteFacts("GET /leader", "svc-000", "leader=true")] + [
        RouteFacts(f"GET /svc-{i:03d}", f"svc-{i:03d}", "") for i in range(0, count, 3)
    ]
    peers = [(caller, f"svc-{i:03d}") for i in range(count) for caller in _callers(i, count)]
    return Topology(
        stack=stack,
        namespace=NAMESPACE,
        services=services,
        routes=sorted(routes, key=lambda r: r.route_key),
        peers=sorted(peers),
        network=NetworkFacts(
            zones=["us-east-1a", "us-east-1b"],
            nat_gateways=["network-nat-1"],
            nat_instances=[],
            elastic_ips=["network-nat-1_ip"],
            gateway_endpoints=["network-s3"],
            interface_endpoints=[],
        ),
        alarm_topics=[AlarmTopic(arn="arn:aws:sns:us-east-1:123456789012:api-alerts", created=True, subscriptions=0)],
    )


# --- Measures of a page, held by tests/test_diagram.py and printed by bench/picture.py --------------------------

Segment = tuple[tuple[float, float], tuple[float, float]]


def _segments(scene: Scene) -> list[list[Segment]]:
    return [list(itertools.pairwise(arrow.points)) for arrow in scene.arrows]


def _properly_cross(s: Segment, t: Segment) -> bool:
    """Whether two segments cross at a point inside both (sharing an end, or touching, is not a crossing)."""

    def side(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    (p, q), (r, u) = s, t
    d1, d2, d3, d4 = side(r, u, p), side(r, u, q), side(p, q, r), side(p, q, u)
    eps = 1e-6
    return ((d1 > eps and d2 < -eps) or (d1 < -eps and d2 > eps)) and (
        (d3 > eps and d4 < -eps) or (d3 < -eps and d4 > eps)
    )


def crossings(scene: Scene) -> int:
    """How many times two arrows cross each other on the page."""
    arrows = _segments(scene)
    return sum(1 for a, b in itertools.combinations(arrows, 2) for s in a for t in b if _properly_cross(s, t))


def empty_band(scene: Scene) -> float:
    """The tallest horizontal band of the page, between the title and the legend, that no box or arrow
    touches, as a share of the page's height."""
    spans = [(box.rect.y0, box.rect.y1) for box in scene.boxes]
    spans += [(min(y for _, y in a.points), max(y for _, y in a.points)) for a in scene.arrows]
    title, legend = scene.captions[0], scene.captions[-1]
    tallest, reached = 0.0, title.y
    for y0, y1 in sorted(spans):
        tallest = max(tallest, y0 - reached)
        reached = max(reached, y1)
    tallest = max(tallest, legend.y - legend.size - reached)
    return tallest / scene.height


def box_share(scene: Scene) -> float:
    """The share of the page's area that boxes cover (they never overlap)."""
    covered = sum((b.rect.x1 - b.rect.x0) * (b.rect.y1 - b.rect.y0) for b in scene.boxes)
    return covered / (scene.width * scene.height)


def same_page_stubs(scene: Scene) -> list[str]:
    """Stub boxes that point at a service drawn on this same page."""
    here = {b.key.removeprefix("svc:") for b in scene.boxes if b.kind == "service"}
    return [b.key for b in scene.boxes if b.kind == "stub" and b.key.removeprefix("stub:") in here]
