"""The picture, checked geometrically on generated stacks of 1, 3, 10 and 50 services, and as PNG and SVG."""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from mapgate.cli import diagram, layout
from mapgate.cli.diagram import Box, Scene, Topology, png, route_label, scenes, svg, svg_text, topology
from mapgate.cli.inventory import Inventory
from mapgate.cli.layout import Rect
from mapgate.cli.plan import Plan
from mapgate.cli.text_metrics import DEJAVU_SANS_ADVANCE, DEJAVU_UNITS_PER_EM
from tests import pictures
from tests.harness import ROOT, run_stack, with_prefix
from tests.pictures import SIZES, crossings, empty_band, generated, same_page_stubs

PAGE_BOUND = (3200, 2400)
"""No page of the picture is wider or taller than this, at any number of services."""


@pytest.fixture(scope="module", params=SIZES)
def generated_topology(request: pytest.FixtureRequest) -> Topology:
    """Built directly (milliseconds, not a Pulumi run); the next test proves it is what a run gives."""
    return pictures.generated_topology(request.param, f"gen-{request.param}")


def test_the_generated_topology_is_what_the_program_run_gives() -> None:
    """Ties tests/pictures.py's Topology to the program: at 10 services it has every feature (chain, fan-out,
    cycle, a service with no line at all)."""
    run = run_stack(with_prefix(generated(10)))
    assert topology(Inventory.read(run), "gen-10") == pictures.generated_topology(10, "gen-10")


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
    pictured = scenes(pictures.generated_topology(50))
    assert len(pictured) >= 50 // diagram.MAX_SERVICES_PER_PAGE
    page_of = {b.key: i for i, s in enumerate(pictured) for b in s.boxes if b.kind == "service"}
    stubs = [(i, b) for i, s in enumerate(pictured) for b in s.boxes if b.kind == "stub"]
    assert {where for _, stub in stubs for where in stub.lines[1:]} >= {"on page 2", "on page 4"}
    for i, stub in stubs:
        name = stub.key.removeprefix("stub:")
        page = page_of[f"svc:{name}"]
        assert page != i, f"page {i + 1}: a stub for {name}, drawn on the same page"
        assert stub.lines == (name, f"on page {page + 1}")


def test_a_chain_longer_than_a_row_runs_back_to_its_callee_on_the_same_page() -> None:
    """At 10 services, svc-002 calls svc-003 at the end of a row of MAX_DEPTH: svc-003 starts a new row, and the
    call is drawn back into its right side, not as a stub saying "on this page"."""
    (scene,) = scenes(pictures.generated_topology(10))
    (arrow,) = [a for a in scene.arrows if (a.source, a.target) == ("svc:svc-002", "svc:svc-003")]
    caller, callee = scene.box(arrow.source).rect, scene.box(arrow.target).rect
    assert callee.x1 < caller.x0
    assert arrow.points[0][0] == caller.x0
    assert arrow.points[-1][0] == callee.x1
    assert not [b.key for b in scene.boxes if b.kind == "stub"]
    assert "called by svc-002 (on this page)" not in scene.box("svc:svc-003").lines


def test_page_measures(generated_topology: Topology) -> None:
    """The picture's measures (bench/picture.py prints them): no stub pointing at its own page, no tall empty band
    (a box floating far from the rest), and few crossings (none where the page is the chain alone)."""
    for i, scene in enumerate(scenes(generated_topology)):
        where = f"{generated_topology.stack} page {i + 1}"
        assert same_page_stubs(scene) == [], where
        assert empty_band(scene) <= 0.1, where
        fan_out = any(a.source == "svc:svc-000" for a in scene.arrows)
        assert crossings(scene) <= (5 if fan_out else 0), where


def test_a_service_with_no_line_sits_below_the_others_without_a_gap() -> None:
    (scene,) = scenes(pictures.generated_topology(10))
    lonely = scene.box("svc:svc-007").rect
    column = [b.rect for b in scene.boxes if b.kind == "service" and b.rect.x0 == lonely.x0 and b.rect != lonely]
    above = max(column, key=lambda r: r.y1)
    assert above.y1 < lonely.y0 <= above.y1 + layout.ROW_GAP + 0.5


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
    big = pictures.generated_topology(50, "x")
    pictured = scenes(big)
    png(big, tmp_path / "x.png")
    for i, scene in enumerate(pictured):
        with Image.open(tmp_path / ("x.png" if i == 0 else f"x-{i + 1}.png")) as image:
            assert image.size == (scene.width, scene.height)
    png(pictures.generated_topology(3, "x"), tmp_path / "x.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.png"]


def _texts(scene: Scene, key: str) -> tuple[str, ...]:
    return scene.box(key).lines


@pytest.fixture(scope="module")
def dev_prod_scenes(dev_plan: Plan, prod_plan: Plan) -> list[Scene]:
    """The fixture project's dev and prod pictures, as `mapgate plan` draws them."""
    return [scenes(topology(Inventory.read(plan.checked()[0]), plan.stack))[0] for plan in (dev_plan, prod_plan)]


def test_dev_and_prod_look_different_where_they_differ(dev_prod_scenes: list[Scene]) -> None:
    dev, prod = dev_prod_scenes
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


def test_the_picture_says_which_routes_are_protected(prod_plan: Plan) -> None:
    topo = topology(Inventory.read(prod_plan.checked()[0]), "prod")
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


RSVG = shutil.which("rsvg-convert")
DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _needs(tool: object, install: str) -> None:
    """Skip on a developer's machine without it; CI (.ci/run installs it) must never skip."""
    if not tool:
        if os.environ.get("CI"):
            pytest.fail(f"CI must install {install} (see .ci/run)")
        pytest.skip(f"needs {install}")


def _text_outside_boxes(scene: Scene, family: str | None) -> list[str]:
    """Render only the scene's text with librsvg (in `family`, or as the SVG names its fonts) on a canvas 100 px
    larger all round, and list the places where ink lies outside every box's inside and outside the page."""
    document = svg_text(scene)
    document = re.sub(r"<(rect|polyline|polygon) [^>]*/>\n", "", document)
    document = document.replace(
        f'viewBox="0 0 {scene.width} {scene.height}"',
        f'viewBox="-100 -100 {scene.width + 200} {scene.height + 200}"',
    ).replace(
        f'width="{scene.width}" height="{scene.height}"', f'width="{scene.width + 200}" height="{scene.height + 200}"'
    )
    if family is not None:
        document = re.sub(r'font-family="[^"]*"', f'font-family="{family}"', document)
    assert RSVG
    rendered = subprocess.run([RSVG, "--format=png"], input=document.encode(), capture_output=True, check=True)
    image = Image.open(io.BytesIO(rendered.stdout)).convert("RGBA")
    page = Image.new("RGBA", image.size, (255, 255, 255, 255))
    page.alpha_composite(image)
    ink = page.convert("L")
    allowed = ImageDraw.Draw(ink)
    for box in scene.boxes:  # inside the 2 px border
        r = box.rect
        allowed.rectangle((r.x0 + 102, r.y0 + 102, r.x1 + 98, r.y1 + 98), fill=255)
    for caption in scene.captions:  # free text, but on the page
        allowed.rectangle(
            (100, caption.y + 100 - 1.5 * caption.size, 100 + scene.width, caption.y + 100 + 0.5 * caption.size),
            fill=255,
        )
    found = ink.point(lambda v: 255 if v < 160 else 0).getbbox()
    if found is None:
        return []
    x0, y0, x1, y1 = (v - 100 for v in found)
    return [f"ink at x {x0}..{x1}, y {y0}..{y1} of a {scene.width} x {scene.height} page"]


def _families_to_render() -> list[str | None]:
    """DejaVu Sans, the widest common fallback, always; and the SVG as it names its fonts when this machine has
    one of them (else librsvg falls back to DejaVu Sans, the same picture again)."""
    named = ["Aileron", "Helvetica", "Arial"]
    fc_list = shutil.which("fc-list")
    if fc_list and not any(subprocess.run([fc_list, f":family={f}"], capture_output=True).stdout for f in named):
        return ["DejaVu Sans"]
    return ["DejaVu Sans", None]


def test_no_text_runs_past_its_box_in_a_real_svg_renderer(dev_prod_scenes: list[Scene]) -> None:
    """librsvg draws the SVG with whatever font it has for the names in font-family, or DejaVu Sans, the widest
    common fallback (the issue's case was the network panel's "egress: 1 NAT gateway, shared by every AZ").
    Every line stays inside its box, and the title and legend on the page."""
    _needs(RSVG, "rsvg-convert (Debian: librsvg2-bin)")
    checked = dev_prod_scenes + [s for n in SIZES for s in scenes(pictures.generated_topology(n, f"gen-{n}"))]
    assert any("egress: 1 NAT gateway, shared by every AZ" in b.lines for s in checked for b in s.boxes)
    problems = [
        f"{family or 'as named'}, scene {i}: {problem}"
        for family in _families_to_render()
        for i, scene in enumerate(checked)
        for problem in _text_outside_boxes(scene, family)
    ]
    assert problems == []


def test_the_overflow_check_sees_text_past_its_box() -> None:
    _needs(RSVG, "rsvg-convert (Debian: librsvg2-bin)")
    (scene,) = scenes(pictures.generated_topology(1))
    panel = scene.box("network")
    squeezed = Box(
        panel.key, panel.kind, Rect(panel.rect.x0, panel.rect.y0, panel.rect.x0 + 120, panel.rect.y1), panel.lines
    )
    scene.boxes[scene.boxes.index(panel)] = squeezed
    assert _text_outside_boxes(scene, None)


def test_the_fallback_font_widths_are_dejavu_sans() -> None:
    """mapgate/cli/text_metrics.py keeps DejaVu Sans's advance widths so that sizing needs no font installed:
    they are the real font's (fonts-dejavu-core, which librsvg2-bin brings)."""
    _needs(DEJAVU_SANS.exists(), "DejaVu Sans (Debian: fonts-dejavu-core)")
    font = ImageFont.truetype(str(DEJAVU_SANS), DEJAVU_UNITS_PER_EM)
    assert {char: font.getlength(char) for char in DEJAVU_SANS_ADVANCE} == DEJAVU_SANS_ADVANCE
    every_line = {
        line for n in SIZES for s in scenes(pictures.generated_topology(n)) for b in s.boxes for line in b.lines
    }
    assert set("".join(every_line)) <= set(DEJAVU_SANS_ADVANCE)


def test_every_picture_size_the_readme_states_is_what_the_layout_draws() -> None:
    """The README quotes page sizes (what `python bench/picture.py` prints); each must be the layout's own, at the
    stack sizes the tests draw, so a layout change that moves them fails here until the README says so."""
    measured = {}
    for count in SIZES:
        pages = scenes(pictures.generated_topology(count))
        measured[count] = (len(pages), max(p.width for p in pages), max(p.height for p in pages))
    readme = " ".join((ROOT / "README.md").read_text().split())
    (one, three, ten, fifty) = (measured[n] for n in SIZES)
    assert (one[0], three[0], ten[0]) == (1, 1, 1)
    assert (
        f"1 service gives a page of {one[1]} × {one[2]} px, 3 give {three[1]} × {three[2]}, "
        f"10 give {ten[1]} × {ten[2]}, and 50 give {fifty[0]} pages of at most {fifty[1]} × {fifty[2]} px"
    ) in readme
    stated = {(int(w), int(h)) for w, h in re.findall(r"\b(\d{3,4}) × (\d{3,4})\b", readme)}
    assert stated <= {(w, h) for _, w, h in measured.values()}, "a size in the README that no layout draws"
