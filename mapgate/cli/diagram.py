"""The architecture picture of a stack: client → HTTP API → VPC link → Cloud Map services → tasks.

One `Topology`, read from what the program registered, is drawn two ways: Mermaid text (for the README,
rendered by GitHub), and one `Scene` (boxes, polylines, labels; laid out by mapgate/cli/layout.py) written as
PNG (Pillow) and SVG. No Graphviz or browser needed: `mapgate plan` works with pip alone.

Past `MAX_SERVICES_PER_PAGE` services the picture is paginated (`dev.png`, `dev-2.png`, ...), and a chain of
calls longer than `MAX_DEPTH` services continues on a new row, the call drawn back from right to left, so each
page stays readable at full size instead of growing into one wide strip. A call to a service on another page
ends in a small stub box that names that page.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from PIL import Image, ImageDraw

from mapgate.cli.inventory import AlarmTopic, Inventory, NetworkFacts, RouteFacts
from mapgate.cli.layout import EdgeSpec, Rect, acyclic, layout
from mapgate.cli.text_metrics import font, text_width
from mapgate.contract import ENV_ELECTION_ATTRIBUTE


@dataclass(frozen=True)
class ServiceNode:
    name: str
    dns_name: str
    records: str
    ttl: int | None
    """None, with `port`: a worker with no Cloud Map service."""
    tasks: int
    capacity: str
    architecture: str
    size: str
    port: int | None
    leader_election: bool
    protocol: str = "tcp"
    scaling: tuple[int, int] | None = None
    public_ip: bool = False


@dataclass
class Topology:
    stack: str
    namespace: str
    services: list[ServiceNode]
    routes: list[RouteFacts] = field(default_factory=list)
    peers: list[tuple[str, str]] = field(default_factory=list)  # (caller, callee)
    network: NetworkFacts | None = None
    alarm_topics: list[AlarmTopic] | None = None
    """Where the API's 5xx alarm notifies; None: no alarm."""

    def routes_to(self, service: str) -> list[RouteFacts]:
        return [r for r in self.routes if r.service == service]


def topology(inventory: Inventory, stack: str) -> Topology:
    services = [
        ServiceNode(
            name=svc.name,
            dns_name=f"{svc.name}.{inventory.namespace}",
            records="+".join(svc.records),
            ttl=svc.ttl,
            tasks=svc.tasks,
            capacity=svc.capacity_provider,
            architecture=svc.cpu_architecture.lower(),
            size=f"{svc.cpu}/{svc.memory}",
            port=svc.port,
            leader_election=ENV_ELECTION_ATTRIBUTE in svc.environment,
            protocol=svc.protocol,
            scaling=svc.scaling,
            public_ip=svc.public_ip,
        )
        for svc in inventory.services
    ]
    return Topology(
        stack=stack,
        namespace=inventory.namespace,
        services=services,
        routes=inventory.routes,
        peers=inventory.peers,
        network=inventory.network,
        alarm_topics=inventory.alarm_topics,
    )


# --- Mermaid --------------------------------------------------------------------------------------------------


def _id(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^A-Za-z0-9]', '_', name)}"


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid(topo: Topology) -> str:
    lines = ["flowchart LR", '    client(["client"])']
    if topo.routes:
        lines.append(f"    api[{_label('HTTP API<br/>$default stage')}]")
        lines.append(f"    link[{_label('VPC link')}]")
        lines.append("    client -->|HTTPS| api")
        lines.append("    api --> link")
    for svc in topo.services:
        cm, tasks = _id("cm", svc.name), _id("tasks", svc.name)
        leader = " · elects a leader" if svc.leader_election else ""
        port = f":{svc.port}" if svc.port is not None else "no port"
        tasks_text = f"{svc.name} × {svc.tasks}<br/>{svc.architecture} {svc.capacity} {svc.size} {port}{leader}"
        if svc.port is None:  # a worker: no Cloud Map service
            lines.append(f"    {tasks}[{_label(tasks_text)}]")
            continue
        lines.append(f"    {cm}[({_label(f'Cloud Map {svc.dns_name}<br/>{svc.records} · TTL {svc.ttl}')})]")
        lines.append(f"    {tasks}[{_label(tasks_text)}]")
        lines.append(f"    {cm} -. health, registration .- {tasks}")
    by_service: dict[str, list[RouteFacts]] = defaultdict(list)
    for route in topo.routes:
        by_service[route.service].append(route)
    for service, routes in by_service.items():
        for route in routes:
            text = route_label(route)
            lines.append(f"    link -->|{_label(text)}| {_id('tasks', service)}")
        lines.append(f"    link -. DiscoverInstances .-> {_id('cm', service)}")
    for caller, callee in topo.peers:
        lines.append(f"    {_id('tasks', caller)} -->|{_label(f'{callee}.{topo.namespace}')}| {_id('tasks', callee)}")
    return "\n".join(lines) + "\n"


# The default font (Aileron) has no arrows or en dashes: the picture's text keeps to what it can draw.

# --- Scene: one set of boxes, arrows and captions, drawn as PNG and as SVG --------------------------------------

MAX_SERVICES_PER_PAGE = 12
MAX_DEPTH = 3
"""Services calling each other in a row on one page; a longer chain continues on the next page."""
MARGIN, TITLE_SIZE, HEAD_SIZE, TEXT_SIZE = 30, 20, 15, 13
PAD_X, PAD_Y, HEAD_LINE, TEXT_LINE = 12, 8, 21, 17
INK, MUTED, PAPER, LINE = (33, 37, 41), (90, 98, 105), (255, 255, 255), (73, 80, 87)
FILLS = {
    "client": (241, 243, 245),
    "edge": (232, 240, 254),
    "alarm": (253, 236, 234),
    "service": (230, 246, 236),
    "label": (255, 255, 255),
    "stub": (248, 249, 250),
    "panel": (255, 244, 229),
}
RGB = tuple[int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True)
class Box:
    """A node (kind `client`, `edge`, `alarm`, `service`, `stub`), an edge's label, or the network panel."""

    key: str
    kind: str
    rect: Rect
    lines: tuple[str, ...]

    @property
    def headed(self) -> bool:
        """The first line is the box's name, in the larger size (labels are all small text)."""
        return self.kind != "label"


@dataclass(frozen=True)
class Arrow:
    source: str
    target: str
    label: str | None
    """The key of the label box it passes through, if any."""
    points: tuple[Point, ...]
    head: tuple[Point, Point, Point]
    dashed: bool = False


@dataclass(frozen=True)
class Caption:
    x: float
    y: float
    """Baseline."""
    text: str
    size: int
    color: RGB


@dataclass
class Scene:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    captions: list[Caption]

    def box(self, key: str) -> Box:
        (found,) = [b for b in self.boxes if b.key == key]
        return found

    @property
    def text_lines(self) -> int:
        return sum(len(b.lines) for b in self.boxes) + len(self.captions)


def _size(lines: Sequence[str], *, headed: bool) -> tuple[float, float]:
    sizes = [HEAD_SIZE if headed and i == 0 else TEXT_SIZE for i in range(len(lines))]
    width = max(text_width(line, size) for line, size in zip(lines, sizes, strict=True)) + 2 * PAD_X
    height = 2 * PAD_Y + sum(HEAD_LINE if size == HEAD_SIZE else TEXT_LINE for size in sizes)
    return float(math.ceil(width)), float(height)


def route_label(route: RouteFacts) -> str:
    """One route on its edge: the route key, the Cloud Map filter API Gateway applies, and who may call it."""
    text = route.route_key + (f" ?{route.query}" if route.query else "")
    return text + (f" [{route.authorization}]" if route.authorization else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _service_lines(svc: ServiceNode, called_from: list[str]) -> list[str]:
    scaling = f", autoscaling {svc.scaling[0]} to {svc.scaling[1]}" if svc.scaling else ""
    lines = [
        svc.name,
        _plural(svc.tasks, "task") + scaling,
        f"{svc.capacity} · {svc.architecture} · {svc.size} CPU/MiB",
        (f":{svc.port}/{svc.protocol}" if svc.port is not None else "no port")
        + f" · {'public IP' if svc.public_ip else 'private IP'}",
    ]
    if svc.port is not None:
        lines += [f"Cloud Map {svc.dns_name}", f"{svc.records} · TTL {svc.ttl} s · MULTIVALUE"]
    else:
        lines.append("no Cloud Map name: nothing dials it")
    if svc.leader_election:
        lines.append("elects a leader")
    return lines + called_from


def _network_lines(topo: Topology) -> list[str]:
    net = topo.network
    if net is None:
        return []
    if not net.zones:
        return ["network: an existing VPC (not built by this stack)"]
    lines = [f"VPC in {_plural(len(net.zones), 'AZ')}: {', '.join(net.zones)}"]
    if net.nat_gateways:
        spread = "one per AZ" if len(net.nat_gateways) == len(net.zones) else "shared by every AZ"
        lines.append(f"egress: {_plural(len(net.nat_gateways), 'NAT gateway')}, {spread}")
    elif net.nat_instances:
        types_ = ", ".join(sorted({n.instance_type for n in net.nat_instances}))
        count = len(net.nat_instances)
        spread = "one, shared by every AZ" if count == 1 else "one per AZ" if count == len(net.zones) else str(count)
        lines.append(f"egress: NAT instance {types_} ({spread})")
    else:
        lines.append("egress: no NAT")
    public = sorted(s.name for s in topo.services if s.public_ip)
    if not public:
        lines.append(
            "tasks: private IPs only" + (", out through the NAT" if net.nat_gateways or net.nat_instances else "")
        )
    else:
        lines.append(f"public IPs: {', '.join(public)}")
    endpoints = net.gateway_endpoints + [name for name, _, _ in net.interface_endpoints]
    if endpoints:
        lines.append(f"VPC endpoints: {', '.join(endpoints)}")
    return lines


def _alarm_lines(topics: list[AlarmTopic]) -> list[str]:
    lines = ["5xx alarm"]
    for topic in topics:
        name = topic.arn.rsplit(":", 1)[-1]
        lines.append(
            f"notifies SNS {name}, " + (_plural(topic.subscriptions, "subscription") if topic.created else "existing")
        )
    return lines if topics else [*lines, "notifies no one"]


@dataclass(frozen=True)
class Paging:
    pages: list[list[str]]
    """Service names per page."""
    cut: set[tuple[str, str]]
    """Calls between two services of one page drawn from right to left, so no chain on a page is longer than
    MAX_DEPTH."""

    def page_of(self, name: str) -> int:
        (found,) = [i for i, page in enumerate(self.pages) if name in page]
        return found


def paging(topo: Topology) -> Paging:
    """Services per page, in call order: at most MAX_SERVICES_PER_PAGE a page. A call that would make a chain of
    more than MAX_DEPTH services on one page is cut: its callee starts a new row on the same page and the call
    runs back to it from right to left. So a page stays as wide as MAX_DEPTH services, however long the chain."""
    names = [s.name for s in topo.services]
    calls = _oriented_calls(topo)
    level: dict[str, int] = dict.fromkeys(names, 0)
    for _ in names:  # longest path over the (acyclic) oriented calls
        for caller, callee in calls:
            level[callee] = max(level[callee], level[caller] + 1)
    result: list[list[str]] = [[]]
    depth: dict[str, int] = {}
    cut: set[tuple[str, str]] = set()
    for name in sorted(names, key=lambda n: (level[n], n)):
        if len(result[-1]) == MAX_SERVICES_PER_PAGE:
            result.append([])
        callers = [c for c, callee in calls if callee == name and c in result[-1]]
        kept = [c for c in callers if depth[c] + 1 < MAX_DEPTH]
        cut.update((c, name) for c in callers if c not in kept)
        depth[name] = max((depth[c] + 1 for c in kept), default=0)
        result[-1].append(name)
    return Paging([page for page in result if page], cut)


def _oriented_calls(topo: Topology) -> list[tuple[str, str]]:
    """Every call between two services, turned around where it closes a cycle, so calls flow left to right."""
    calls = [(a, b) for a, b in topo.peers if a != b]
    back = acyclic([s.name for s in topo.services], calls)
    return [(b, a) if (a, b) in back else (a, b) for a, b in calls]


def scenes(topo: Topology) -> list[Scene]:
    """The picture, one scene per page."""
    paged = paging(topo)
    return [_scene(topo, i, paged) for i in range(len(paged.pages))] or [_scene(topo, 0, Paging([[]], set()))]


def _scene(topo: Topology, index: int, paged: Paging) -> Scene:
    here = set(paged.pages[index])
    services = [s for s in topo.services if s.name in here]
    back = acyclic([s.name for s in topo.services], [(a, b) for a, b in topo.peers if a != b])
    nodes: dict[str, tuple[str, list[str]]] = {}  # key -> (kind, lines)
    edges: list[tuple[EdgeSpec, list[str], bool]] = []  # (spec, label lines, dashed)
    routed = [s for s in services if topo.routes_to(s.name)]
    with_api = bool(topo.routes) and (bool(routed) or index == 0)
    if with_api:
        nodes["client"] = ("client", ["client"])
        nodes["api"] = ("edge", ["HTTP API", "$default stage", "throttled, access-logged"])
        nodes["link"] = ("edge", ["VPC link", "Cloud Map discovery"])
        edges.append((EdgeSpec("client", "api"), ["HTTPS"], False))
        edges.append((EdgeSpec("api", "link"), [], False))
        if topo.alarm_topics is not None:
            nodes["alarm"] = ("alarm", _alarm_lines(topo.alarm_topics))
            edges.append((EdgeSpec("api", "alarm"), [], True))
    for svc in services:
        called_from = [
            f"called by {a} (on page {paged.page_of(a) + 1})" for a, b in topo.peers if b == svc.name and a not in here
        ]
        if (svc.name, svc.name) in topo.peers:
            called_from.append("calls itself")
        nodes[f"svc:{svc.name}"] = ("service", _service_lines(svc, called_from))
    for svc in routed:
        edges.append((EdgeSpec("link", f"svc:{svc.name}"), [route_label(r) for r in topo.routes_to(svc.name)], False))
    for caller, callee in topo.peers:
        if caller not in here or caller == callee:
            continue
        text = [f"{callee}.{topo.namespace}"]
        if callee in here:
            # A call that closes a cycle, or that was cut to keep the page MAX_DEPTH services wide (its callee
            # starts a new row, left of its caller), is drawn from right to left, into the callee's right side.
            turned = ((caller, callee) in back) != _is_cut(paged, back, caller, callee)
            a, b = (callee, caller) if turned else (caller, callee)
            spec = EdgeSpec(f"svc:{a}", f"svc:{b}", reversed=turned)
        else:
            nodes[f"stub:{callee}"] = ("stub", [callee, f"on page {paged.page_of(callee) + 1}"])
            spec = EdgeSpec(f"svc:{caller}", f"stub:{callee}")
        edges.append((spec, text, False))

    sizes = {key: _size(lines, headed=True) for key, (_, lines) in nodes.items()}
    specs = [
        EdgeSpec(s.source, s.target, _size(text, headed=False) if text else None, s.reversed) for s, text, _ in edges
    ]
    first_service_rank = 6 if with_api else 0  # client, label, API, link, route labels, services
    placed = layout(sizes, specs, {key: first_service_rank for key in nodes if key.startswith("svc:")})

    title = f"mapgate · stack {topo.stack} · namespace {topo.namespace}"
    if len(paged.pages) > 1:
        title += f" · page {index + 1} of {len(paged.pages)}"
    panel_lines = _network_lines(topo)
    top = MARGIN + TITLE_SIZE + 16.0
    boxes: list[Box] = []
    if panel_lines:
        w, h = _size(panel_lines, headed=True)
        boxes.append(Box("network", "panel", Rect(MARGIN, top, MARGIN + w, top + h), tuple(panel_lines)))
        top += h + 24

    def moved(rect: Rect) -> Rect:
        return Rect(rect.x0 + MARGIN, rect.y0 + top, rect.x1 + MARGIN, rect.y1 + top)

    for key, rect in placed.nodes.items():
        boxes.append(Box(key, nodes[key][0], moved(rect), tuple(nodes[key][1])))
    arrows = []
    for i, ((spec, text, dashed), points, label) in enumerate(zip(edges, placed.edges, placed.labels, strict=True)):
        label_key = None
        if label is not None:
            label_key = f"label:{i}"
            boxes.append(Box(label_key, "label", moved(label), tuple(text)))
        shifted = tuple((x + MARGIN, y + top) for x, y in points)
        source, target = (spec.target, spec.source) if spec.reversed else (spec.source, spec.target)
        arrows.append(Arrow(source, target, label_key, shifted, _head(shifted[-2], shifted[-1]), dashed))
    legend = (
        "solid: requests, labelled with their routes (and Cloud Map filter) or the name called · dashed: the "
        "API's 5xx alarm · ECS registers every task in Cloud Map and pushes its container health"
    )
    bottom = top + placed.height + 36
    width = max(
        placed.width + 2 * MARGIN,
        max((b.rect.x1 for b in boxes), default=0) + MARGIN,
        text_width(legend, TEXT_SIZE) + 2 * MARGIN,
        text_width(title, TITLE_SIZE) + 2 * MARGIN,
    )
    captions = [
        Caption(MARGIN, MARGIN + TITLE_SIZE, title, TITLE_SIZE, INK),
        Caption(MARGIN, bottom, legend, TEXT_SIZE, MUTED),
    ]
    return Scene(math.ceil(width), math.ceil(bottom + MARGIN), boxes, arrows, captions)


def _is_cut(paged: Paging, back: set[tuple[str, str]], caller: str, callee: str) -> bool:
    return ((callee, caller) if (caller, callee) in back else (caller, callee)) in paged.cut


def _head(before: Point, tip: Point) -> tuple[Point, Point, Point]:
    (x0, y0), (x1, y1) = before, tip
    length = max(1e-9, math.hypot(x1 - x0, y1 - y0))
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return (tip, (x1 - 11 * ux + 5 * uy, y1 - 11 * uy - 5 * ux), (x1 - 11 * ux - 5 * uy, y1 - 11 * uy + 5 * ux))


def _line_positions(box: Box) -> list[tuple[float, float, int, RGB]]:
    """(centre x, baseline y, size, colour) of each of a box's lines."""
    y = box.rect.y0 + PAD_Y
    out = []
    for i, _ in enumerate(box.lines):
        head = box.headed and i == 0
        step, size = (HEAD_LINE, HEAD_SIZE) if head else (TEXT_LINE, TEXT_SIZE)
        out.append(((box.rect.x0 + box.rect.x1) / 2, y + step - 5, size, INK if head or box.kind == "label" else MUTED))
        y += step
    return out


def _dashes(points: Sequence[Point], dash: float = 8.0) -> list[tuple[Point, Point]]:
    pieces: list[tuple[Point, Point]] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        steps = max(1, int(math.hypot(x1 - x0, y1 - y0) // dash))
        for k in range(0, steps, 2):
            a, b = k / steps, min(1.0, (k + 1) / steps)
            pieces.append(((x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)))
    return pieces


def draw_png(scene: Scene, path: Path) -> Path:
    image = Image.new("RGB", (scene.width, scene.height), PAPER)
    draw = ImageDraw.Draw(image)
    for arrow in scene.arrows:  # first: labels and boxes are drawn over the lines that end in them
        if arrow.dashed:
            for start, end in _dashes(arrow.points):
                draw.line((start, end), fill=LINE, width=2)
        else:
            draw.line(arrow.points, fill=LINE, width=2, joint="curve")
        draw.polygon(arrow.head, fill=LINE)
    for box in scene.boxes:
        r = box.rect
        outline, width = (MUTED, 1) if box.kind == "label" else (INK, 2)
        draw.rounded_rectangle((r.x0, r.y0, r.x1, r.y1), radius=6, fill=FILLS[box.kind], outline=outline, width=width)
        for line, (x, y, size, color) in zip(box.lines, _line_positions(box), strict=True):
            draw.text((x, y), line, fill=color, font=font(size), anchor="ms")
    for caption in scene.captions:
        draw.text((caption.x, caption.y), caption.text, fill=caption.color, font=font(caption.size), anchor="ls")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


def _hex(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def svg_text(scene: Scene) -> str:
    def attrs(**values: object) -> str:
        return " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v), quote=True)}"' for k, v in values.items())

    def pts(points: Sequence[Point]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" {attrs(width=scene.width, height=scene.height)} '
        f'viewBox="0 0 {scene.width} {scene.height}" style="background:#ffffff" '
        'font-family="Aileron, Helvetica, Arial, sans-serif">'
    ]
    for arrow in scene.arrows:
        dash = {"stroke_dasharray": "8 8"} if arrow.dashed else {}
        out.append(
            f"<polyline {attrs(points=pts(arrow.points), fill='none', stroke=_hex(LINE), stroke_width=2, **dash)}/>"
        )
        out.append(f"<polygon {attrs(points=pts(arrow.head), fill=_hex(LINE))}/>")
    for box in scene.boxes:
        r = box.rect
        stroke, width = (MUTED, 1) if box.kind == "label" else (INK, 2)
        rect = attrs(x=r.x0, y=r.y0, width=r.x1 - r.x0, height=r.y1 - r.y0, rx=6, fill=_hex(FILLS[box.kind]))
        out.append(f"<rect {rect} {attrs(stroke=_hex(stroke), stroke_width=width)}/>")
        for line, (x, y, size, color) in zip(box.lines, _line_positions(box), strict=True):
            text = attrs(x=f"{x:.1f}", y=f"{y:.1f}", font_size=size, fill=_hex(color), text_anchor="middle")
            out.append(f"<text {text}>{escape(line)}</text>")
    for c in scene.captions:
        out.append(f"<text {attrs(x=c.x, y=c.y, font_size=c.size, fill=_hex(c.color))}>{escape(c.text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def page_path(path: Path, index: int) -> Path:
    """Page 1 is `path`; page N is `<stem>-N<suffix>` next to it."""
    return path if index == 0 else path.with_name(f"{path.stem}-{index + 1}{path.suffix}")


def _write_pages(pictured: list[Scene], path: Path, write: Callable[[Scene, Path], Path]) -> list[Path]:
    drawn = [write(scene, page_path(path, i)) for i, scene in enumerate(pictured)]
    # Pages left over from a bigger stack would read as part of this one.
    for stale in path.parent.glob(f"{path.stem}-*{path.suffix}"):
        number = stale.name[len(path.stem) + 1 : -len(path.suffix)]
        if number.isdigit() and int(number) > len(drawn):
            stale.unlink()
    return drawn


def _write_svg(scene: Scene, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg_text(scene), encoding="utf-8")
    return path


def png(topo: Topology, path: Path) -> Path:
    """Write the picture as PNG, one file per page; returns page 1's path."""
    return _write_pages(scenes(topo), path, draw_png)[0]


def svg(topo: Topology, path: Path) -> Path:
    """Write the picture as SVG, one file per page; returns page 1's path."""
    return _write_pages(scenes(topo), path, _write_svg)[0]


def write_pictures(topo: Topology, directory: Path, stem: str) -> tuple[list[Path], list[Path]]:
    """`<stem>.png` and `<stem>.svg` in `directory` (and `<stem>-N.*` for page N): laid out once, drawn twice."""
    pictured = scenes(topo)
    return _write_pages(pictured, directory / f"{stem}.png", draw_png), _write_pages(
        pictured, directory / f"{stem}.svg", _write_svg
    )
