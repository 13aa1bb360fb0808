"""The architecture picture of a stack: client → HTTP API → VPC link → Cloud Map services → tasks.

One `Topology`, read from what the program registered, is drawn two ways: Mermaid text (for the README,
rendered by GitHub) and a PNG drawn with Pillow (no Graphviz or browser needed).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from mapgate.cli.inventory import Inventory, RouteFacts
from mapgate.contract import ENV_ELECTION_ATTRIBUTE


@dataclass(frozen=True)
class ServiceNode:
    name: str
    dns_name: str
    records: str
    ttl: int
    tasks: int
    capacity: str
    architecture: str
    size: str
    port: int
    leader_election: bool


@dataclass
class Topology:
    stack: str
    namespace: str
    services: list[ServiceNode]
    routes: list[RouteFacts] = field(default_factory=list)
    peers: list[tuple[str, str]] = field(default_factory=list)  # (caller, callee)

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
        )
        for svc in inventory.services
    ]
    return Topology(
        stack=stack, namespace=inventory.namespace, services=services, routes=inventory.routes, peers=inventory.peers
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
        lines.append(f"    {cm}[({_label(f'Cloud Map {svc.dns_name}<br/>{svc.records} · TTL {svc.ttl}')})]")
        leader = " · elects a leader" if svc.leader_election else ""
        tasks_text = f"{svc.name} × {svc.tasks}<br/>{svc.architecture} {svc.capacity} {svc.size} :{svc.port}{leader}"
        lines.append(f"    {tasks}[{_label(tasks_text)}]")
        lines.append(f"    {cm} -. health, registration .- {tasks}")
    by_service: dict[str, list[RouteFacts]] = defaultdict(list)
    for route in topo.routes:
        by_service[route.service].append(route)
    for service, routes in by_service.items():
        for route in routes:
            text = route.route_key + (f" ?{route.query}" if route.query else "")
            lines.append(f"    link -->|{_label(text)}| {_id('tasks', service)}")
        lines.append(f"    link -. DiscoverInstances .-> {_id('cm', service)}")
    for caller, callee in topo.peers:
        lines.append(f"    {_id('tasks', caller)} -->|{_label(f'{callee}.{topo.namespace}')}| {_id('tasks', callee)}")
    return "\n".join(lines) + "\n"


# --- PNG --------------------------------------------------------------------------------------------------------

INK, MUTED, PAPER = (33, 37, 41), (108, 117, 125), (255, 255, 255)
FILLS = {"edge": (232, 240, 254), "map": (255, 244, 229), "tasks": (230, 246, 236), "client": (241, 243, 245)}


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has only the bitmap font
        return ImageFont.load_default()


def _box(
    draw: ImageDraw.ImageDraw, xy: tuple[int, int, int, int], lines: list[str], fill: tuple[int, int, int]
) -> None:
    draw.rounded_rectangle(xy, radius=10, fill=fill, outline=INK, width=2)
    font, small = _font(16), _font(13)
    x0, y0, x1, _ = xy
    y = y0 + 10
    for i, line in enumerate(lines):
        f = font if i == 0 else small
        width = draw.textlength(line, font=f)
        draw.text(((x0 + x1 - width) / 2, y), line, fill=INK if i == 0 else MUTED, font=f)
        y += 22 if i == 0 else 18


def _arrow(
    draw: ImageDraw.ImageDraw, start: tuple[float, float], end: tuple[float, float], *, dashed: bool = False
) -> None:
    (x0, y0), (x1, y1) = start, end
    if dashed:
        steps = max(1, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 // 12))
        for i in range(0, steps, 2):
            a, b = i / steps, min(1.0, (i + 1) / steps)
            draw.line(
                (x0 + (x1 - x0) * a, y0 + (y1 - y0) * a, x0 + (x1 - x0) * b, y0 + (y1 - y0) * b), fill=INK, width=2
            )
    else:
        draw.line((x0, y0, x1, y1), fill=INK, width=2)
    length = max(1.0, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    draw.polygon(
        [(x1, y1), (x1 - 12 * ux + 6 * uy, y1 - 12 * uy - 6 * ux), (x1 - 12 * ux - 6 * uy, y1 - 12 * uy + 6 * ux)],
        fill=INK,
    )


def png(topo: Topology, path: Path) -> Path:
    row, top = 150, 90
    height = max(400, top + row * len(topo.services) + 60)
    width = 1500
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    draw.text((30, 24), f"mapgate · stack {topo.stack} · namespace {topo.namespace}", fill=INK, font=_font(20))

    middle = (top + height - 40) // 2
    client = (30, middle - 30, 150, middle + 30)
    api = (230, middle - 45, 410, middle + 45)
    link = (490, middle - 35, 640, middle + 35)
    _box(draw, client, ["client"], FILLS["client"])
    if topo.routes:
        _box(draw, api, ["HTTP API", "$default stage", "throttled, logged"], FILLS["edge"])
        _box(draw, link, ["VPC link"], FILLS["edge"])
        _arrow(draw, (client[2], middle), (api[0], middle))
        _arrow(draw, (api[2], middle), (link[0], middle))

    tasks_boxes: dict[str, tuple[int, int, int, int]] = {}
    for i, svc in enumerate(topo.services):
        y = top + i * row
        cm = (760, y + 10, 1050, y + 100)
        tasks = (1150, y + 10, 1470, y + 100)
        tasks_boxes[svc.name] = tasks
        _box(
            draw,
            cm,
            [f"Cloud Map: {svc.name}", svc.dns_name, f"{svc.records} · TTL {svc.ttl} · MULTIVALUE"],
            FILLS["map"],
        )
        leader = " · leader election" if svc.leader_election else ""
        _box(
            draw,
            tasks,
            [
                f"{svc.name}: {svc.tasks} tasks",
                f"{svc.architecture} {svc.capacity} {svc.size}",
                f"port {svc.port}{leader}",
            ],
            FILLS["tasks"],
        )
        _arrow(draw, (tasks[0], (tasks[1] + tasks[3]) / 2), (cm[2], (cm[1] + cm[3]) / 2), dashed=True)
        routes = topo.routes_to(svc.name)
        if routes:
            _arrow(draw, (link[2], middle), (cm[0], (cm[1] + cm[3]) / 2))
            # Labels on a white card just above the arrow's end, so the line never crosses the text.
            texts = [r.route_key + (f"  ?{r.query}" if r.query else "") for r in routes]
            font = _font(13)
            card_w = max(draw.textlength(t, font=font) for t in texts) + 12
            card_x, card_y = cm[0] - card_w - 24, (cm[1] + cm[3]) / 2 - 12 - 18 * len(texts)
            draw.rectangle((card_x, card_y, card_x + card_w, card_y + 18 * len(texts) + 6), fill=PAPER, outline=MUTED)
            for j, text in enumerate(texts):
                draw.text((card_x + 6, card_y + 4 + 18 * j), text, fill=INK, font=font)
    for caller, callee in topo.peers:
        a, b = tasks_boxes[caller], tasks_boxes[callee]
        start = (a[2] - 40, a[3]) if a[1] < b[1] else (a[2] - 40, a[1])
        end = (b[2] - 40, b[1]) if a[1] < b[1] else (b[2] - 40, b[3])
        _arrow(draw, start, end)
        draw.text(
            (end[0] - 230, (start[1] + end[1]) / 2 - 8), f"calls {callee}.{topo.namespace}", fill=INK, font=_font(13)
        )
    draw.text(
        (30, height - 30),
        "solid: requests (API Gateway resolves each route's Cloud Map filter, then calls a task) · "
        "dashed: ECS registers each task and pushes its container health",
        fill=MUTED,
        font=_font(13),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
