"""The picture, checked geometrically on generated stacks of 1, 3, 10 and 50 services, and as PNG and SVG."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mapgate.cli import diagram
from mapgate.cli.diagram import Scene, Topology, png, route_label, scenes, svg, svg_text, topology
from mapgate.cli.inventory import Inventory
from mapgate.cli.layout import Rect
from mapgate.cli.plan import make_plan
from tests.harness import FIXTURE_PROJECT, run_stack, with_prefix

HEALTH = {"command": ["CMD", "python", "-m", "mapgate_app.healthcheck"], "startPeriod": 15}
PAGE_BOUND = (3200, 2400)
"""No page of the picture is wider or taller than this, at any number of services."""


def generated(count: int) -> dict[str, Any]:
    """A chain of calls (each service allowed from the one before, so at 50 it must be paginated), a fan-out
    from svc-000 to every fourth service (edges spanning columns and pages), and a cycle (svc-001 <-> svc-002)."""
    services: dict[str, Any] = {}
    routes: dict[str, Any] = {}
    for i in range(count):
        name = f"svc-{i:03d}"
        allow = [f"svc-{i - 1:03d}"] if i else []
        if i % 4 == 2:
            allow.append("svc-000")
        if i == 1 and count > 2:
            allow.append("svc-002")
        services[name] = {
            "image": "public.ecr.aws/nginx/nginx:1.27",
            "port": 8000 + i,
            "records": ["A", "SRV"],
            "desiredCount": 2,
            "capacity": "spot" if i % 2 else "onDemand",
            "healthCheck": HEALTH,
            "allowFrom": sorted(set(allow)),
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


@pytest.fixture(scope="module", params=[1, 3, 10, 50])
def generated_topology(request: pytest.FixtureRequest) -> Topology:
    return topology(Inventory.read(run_stack(with_prefix(generated(request.param)))), f"gen-{request.param}")


def _crosses(start: tuple[float, float], end: tuple[float, float], rect: Rect) -> bool:
    """Whether the segment enters the rectangle's inside (Liang-Barsky clipping; touching an edge is not)."""
    inside = Rect(rect.x0 + 0.5, rect.y0 + 0.5, rect.x1 - 0.5, rect.y1 - 0.5)
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - inside.x0), (dx, inside.x1 - x0), (-dy, y0 - inside.y0), (dy, inside.y1 - y0)):
        if p == 0:
            if q < 0:
                return False
        else:
            t = q / p
            if p < 0:
                low = max(low, t)
            else:
                high = min(high, t)
    return low < high


def test_the_crossing_check_sees_a_crossing() -> None:
    box = Rect(10, 10, 20, 20)
    assert _crosses((0, 15), (30, 15), box)
    assert not _crosses((0, 5), (30, 5), box)
    assert not _crosses((0, 10), (30, 10), box)  # along its border


def _check_geometry(scene: Scene) -> None:
    for arrow in scene.arrows:
        own = {arrow.source, arrow.target, arrow.label}
        for start, end in itertools.pairwise(arrow.points):
            for box in scene.boxes:
                if box.key not in own:
                    assert not _crosses(start, end, box.rect), f"{arrow.source}->{arrow.target} crosses {box.key}"
        assert scene.box(arrow.source)
        assert scene.box(arrow.target)
    for a, b in itertools.combinations(scene.boxes, 2):
        assert not a.rect.overlaps(b.rect), f"{a.key} overlaps {b.key}"
    for box in scene.boxes:
        assert Rect(0, 0, scene.width, scene.height).contains(box.rect), box.key


def test_no_edge_crosses_a_box_and_nothing_overlaps(generated_topology: Topology) -> None:
    for scene in scenes(generated_topology):
        _check_geometry(scene)


def test_every_route_group_and_every_call_is_an_edge(generated_topology: Topology) -> None:
    topo = generated_topology
    drawn: set[tuple[str, str, tuple[str, ...]]] = set()
    for scene in scenes(topo):
        for arrow in scene.arrows:
            label = scene.box(arrow.label).lines if arrow.label else ()
            drawn.add((arrow.source, arrow.target.replace("stub:", "svc:"), label))
    for svc in topo.services:
        routes = topo.routes_to(svc.name)
        if routes:
            assert ("link", f"svc:{svc.name}", tuple(route_label(r) for r in routes)) in drawn
    assert len(topo.peers) >= len(topo.services) - 1
    for caller, callee in topo.peers:
        assert (f"svc:{caller}", f"svc:{callee}", (f"{callee}.{topo.namespace}",)) in drawn


def test_every_service_is_on_one_page_and_pages_stay_bounded(generated_topology: Topology) -> None:
    pictured = scenes(generated_topology)
    on_pages = [b.key for s in pictured for b in s.boxes if b.kind == "service"]
    assert sorted(on_pages) == sorted(f"svc:{s.name}" for s in generated_topology.services)
    for scene in pictured:
        assert sum(b.kind == "service" for b in scene.boxes) <= diagram.MAX_SERVICES_PER_PAGE
        assert scene.width <= PAGE_BOUND[0], scene.width
        assert scene.height <= PAGE_BOUND[1], scene.height


def test_fifty_services_are_paginated_with_stubs_that_name_the_page() -> None:
    topo = topology(Inventory.read(run_stack(with_prefix(generated(50)))), "gen-50")
    pictured = scenes(topo)
    assert len(pictured) >= 50 // diagram.MAX_SERVICES_PER_PAGE
    page_of = {b.key: i for i, s in enumerate(pictured) for b in s.boxes if b.kind == "service"}
    stubs = [(i, b) for i, s in enumerate(pictured) for b in s.boxes if b.kind == "stub"]
    assert {where for _, stub in stubs for where in stub.lines[1:]} >= {"on this page", "on page 2"}
    for i, stub in stubs:
        name = stub.key.removeprefix("stub:")
        page = page_of[f"svc:{name}"]
        assert stub.lines == (name, "on this page" if page == i else f"on page {page + 1}")


def test_svg_is_well_formed_with_one_element_per_scene_element(generated_topology: Topology, tmp_path: Path) -> None:
    first = svg(generated_topology, tmp_path / "x.svg")
    for i, scene in enumerate(scenes(generated_topology)):
        path = first if i == 0 else tmp_path / f"x-{i + 1}.svg"
        assert path.read_text() == svg_text(scene)
        root = ET.fromstring(path.read_text())
        ns = "{http://www.w3.org/2000/svg}"
        assert (root.get("width"), root.get("height")) == (str(scene.width), str(scene.height))
        assert len(root.findall(f"{ns}rect")) == len(scene.boxes)
        assert len(root.findall(f"{ns}polyline")) == len(scene.arrows)
        assert len(root.findall(f"{ns}polygon")) == len(scene.arrows)
        assert len(root.findall(f"{ns}text")) == scene.text_lines


def test_png_pages_have_the_scene_size_and_stale_pages_go(tmp_path: Path) -> None:
    big = topology(Inventory.read(run_stack(with_prefix(generated(50)))), "x")
    pictured = scenes(big)
    png(big, tmp_path / "x.png")
    for i, scene in enumerate(pictured):
        with Image.open(tmp_path / ("x.png" if i == 0 else f"x-{i + 1}.png")) as image:
            assert image.size == (scene.width, scene.height)
    png(topology(Inventory.read(run_stack(with_prefix(generated(3)))), "x"), tmp_path / "x.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]


def _texts(scene: Scene, key: str) -> tuple[str, ...]:
    return scene.box(key).lines


def test_dev_and_prod_look_different_where_they_differ() -> None:
    dev, prod = (
        scenes(topology(Inventory.read(make_plan(FIXTURE_PROJECT, s).checked()[0]), s))[0] for s in ("dev", "prod")
    )
    assert "egress: NAT instance t4g.nano (one, shared by every AZ)" in _texts(dev, "network")
    assert "egress: 3 NAT gateways, one per AZ" in _texts(prod, "network")
    assert _texts(dev, "network")[0] == "VPC in 2 AZs: us-east-1a, us-east-1b"
    assert _texts(prod, "network")[0] == "VPC in 3 AZs: us-east-1a, us-east-1b, us-east-1c"
    assert "3 tasks, autoscaling 3 to 12" in _texts(prod, "svc:app")
    assert "3 tasks" in _texts(dev, "svc:app")
    assert "notifies SNS api-alerts, 0 subscriptions" in _texts(dev, "alarm")
    assert "notifies SNS api-alerts, 1 subscription" in _texts(prod, "alarm")
    assert ":8080/grpc · private IP" in _texts(dev, "svc:worker")
    assert "elects a leader" in _texts(dev, "svc:app")
    for scene in (dev, prod):
        _check_geometry(scene)


@pytest.mark.parametrize(
    ("egress", "line", "tasks"),
    [
        ("publicIp", "egress: no NAT", "public IPs: svc-000, svc-001, svc-002"),
        ("natGateway", "egress: 1 NAT gateway, shared by every AZ", "tasks: private IPs only, out through the NAT"),
        ("natGatewayPerAz", "egress: 2 NAT gateways, one per AZ", "tasks: private IPs only, out through the NAT"),
        (
            "natInstance",
            "egress: NAT instance t4g.nano (one, shared by every AZ)",
            "tasks: private IPs only, out through the NAT",
        ),
        (
            "natInstancePerAz",
            "egress: NAT instance t4g.nano (one per AZ)",
            "tasks: private IPs only, out through the NAT",
        ),
    ],
)
def test_the_network_panel_says_how_tasks_reach_out(egress: str, line: str, tasks: str) -> None:
    config = generated(3)
    config["network"]["egress"] = egress
    scene = scenes(topology(Inventory.read(run_stack(with_prefix(config))), "x"))[0]
    assert _texts(scene, "network")[1:3] == (line, tasks)
    ip = "public IP" if egress == "publicIp" else "private IP"
    assert f":8000/tcp · {ip}" in _texts(scene, "svc:svc-000")


def test_the_picture_says_which_routes_are_protected() -> None:
    topo = topology(Inventory.read(make_plan(FIXTURE_PROJECT, "prod").checked()[0]), "prod")
    labels = {route.route_key: route_label(route) for route in topo.routes}
    assert labels == {
        "GET /": "GET /",
        "GET /follower": "GET /follower ?leader=false [IAM]",
        "GET /leader": "GET /leader ?leader=true [IAM]",
    }
    (scene, *_) = scenes(topo)
    assert {label for label in labels.values() if "[IAM]" in label} <= {
        line for box in scene.boxes for line in box.lines
    }
