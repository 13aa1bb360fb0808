"""A layered (Sugiyama-style) left-to-right layout: nodes in columns, edges as polylines that never cross a box.

1. Ranks by longest path, with a minimum length per edge (2 for a labelled edge: its label takes the column
   between the two ends, placed like a node). The caller passes an acyclic graph (`acyclic` breaks cycles).
2. A dummy element in every column an edge spans, so each edge moves one column at a time.
3. Barycenter ordering sweeps, each followed by swapping neighbours that cross less the other way round, keeping
   the order with the fewest crossings. An element with no edge goes to the bottom of its column.
4. Every element owns a horizontal band of its column (its height, never shared), and an edge runs horizontally
   inside its own element's band and straight across the empty gap between two columns. So a segment can only
   touch the boxes at its own ends and its own label: the property the tests check, by construction.

Pure Python on purpose: `mapgate plan` must work on a fresh machine with pip alone (no Graphviz binary).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

COLUMN_GAP = 56.0
ROW_GAP = 18.0
DUMMY_HEIGHT = 10.0
SWEEPS = 8


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Rect) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def contains(self, other: Rect) -> bool:
        return self.x0 <= other.x0 and other.x1 <= self.x1 and self.y0 <= other.y0 and other.y1 <= self.y1


@dataclass(frozen=True)
class EdgeSpec:
    source: str
    target: str
    label: tuple[float, float] | None = None
    """The label's (width, height), when the edge has one."""
    reversed: bool = False
    """Drawn from target to source (an edge turned around to break a cycle)."""


@dataclass
class Layout:
    nodes: dict[str, Rect]
    edges: list[list[tuple[float, float]]]
    """Per edge spec, its polyline from where it is drawn from to where its arrow ends."""
    labels: list[Rect | None]
    width: float
    height: float
    ranks: dict[str, int] = field(default_factory=dict)


def acyclic(order: Sequence[str], edges: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges to turn around so the graph has no cycle: the back edges of a depth-first walk in `order`."""
    out: dict[str, list[str]] = defaultdict(list)
    for source, target in edges:
        out[source].append(target)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    back: set[tuple[str, str]] = set()
    for start in order:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(out[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1 or child == node:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return back


def _ranks(order: Sequence[str], edges: Sequence[EdgeSpec], min_rank: dict[str, int]) -> dict[str, int]:
    rank = {node: min_rank.get(node, 0) for node in order}
    # Longest path on a DAG: relax edges until nothing moves (at most len(order) rounds).
    for _ in range(len(order) + 1):
        moved = False
        for edge in edges:
            wanted = rank[edge.source] + (2 if edge.label else 1)
            if rank[edge.target] < wanted:
                rank[edge.target] = wanted
                moved = True
        if not moved:
            return rank
    raise ValueError("the graph has a cycle: break it with acyclic() first")


def _crossings(layers: list[list[str]], up: dict[str, list[str]]) -> int:
    total = 0
    for i in range(1, len(layers)):
        position = {key: j for j, key in enumerate(layers[i - 1])}
        pairs = [(position[u], j) for j, key in enumerate(layers[i]) for u in up[key]]
        total += sum(1 for a in pairs for b in pairs if a[0] < b[0] and a[1] > b[1])
    return total


def _transpose(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Swap neighbours in a column while that removes crossings with both adjacent columns (what the barycenter
    sweeps leave behind when two elements tie, or when a long edge pulls one the wrong way)."""

    def pair_crossings(i: int, first: str, second: str) -> int:
        total = 0
        for j, links in ((i - 1, up), (i + 1, down)):
            if 0 <= j < len(layers):
                position = {key: k for k, key in enumerate(layers[j])}
                total += sum(1 for a in links[first] for b in links[second] if position[a] > position[b])
        return total

    improved = True
    while improved:
        improved = False
        for i, layer in enumerate(layers):
            for k in range(len(layer) - 1):
                first, second = layer[k], layer[k + 1]
                if pair_crossings(i, second, first) < pair_crossings(i, first, second):
                    layer[k], layer[k + 1] = second, first
                    improved = True


def _order(layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    # An element with no edge at all goes to the bottom of its column, where it takes no room between others.
    layers = [sorted(layer, key=lambda key: not (up[key] or down[key])) for layer in layers]
    best, best_crossings = [list(layer) for layer in layers], _crossings(layers, up)
    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        indices = range(1, len(layers)) if forward else range(len(layers) - 2, -1, -1)
        for i in indices:
            neighbour_layer = layers[i - 1] if forward else layers[i + 1]
            position = {key: j for j, key in enumerate(neighbour_layer)}
            neighbours = up if forward else down
            current = {key: j for j, key in enumerate(layers[i])}

            def barycenter(
                key: str,
                position: dict[str, int] = position,
                current: dict[str, int] = current,
                neighbours: dict[str, list[str]] = neighbours,
            ) -> float:
                if not (up[key] or down[key]):
                    return math.inf
                linked = [position[n] for n in neighbours[key]]
                return sum(linked) / len(linked) if linked else float(current[key])

            layers[i] = sorted(layers[i], key=lambda key: (barycenter(key), current[key]))
        _transpose(layers, up, down)
        crossings = _crossings(layers, up)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
    return best


def _place(
    layers: list[list[str]], size: dict[str, tuple[float, float]], up: dict[str, list[str]], down: dict[str, list[str]]
) -> dict[str, float]:
    """Each element's top y: stacked in order, then pulled toward its neighbours' centres, never overlapping."""
    top: dict[str, float] = {}
    for layer in layers:
        y = 0.0
        for key in layer:
            top[key] = y
            y += size[key][1] + ROW_GAP

    def centre(key: str) -> float:
        return top[key] + size[key][1] / 2

    for sweep in range(4):
        forward = sweep % 2 == 0
        for layer in layers if forward else reversed(layers):
            desired: list[float | None] = []
            for key in layer:
                linked = (up if forward else down)[key] or (down if forward else up)[key]
                # An element with no edge wants no place of its own: it packs under the one above it.
                wanted = sum(centre(n) for n in linked) / len(linked) if linked else None
                desired.append(None if wanted is None else wanted - size[key][1] / 2)
            placed: list[float] = []
            for wanted in desired:
                floor = placed[-1] + size[layer[len(placed) - 1]][1] + ROW_GAP if placed else float("-inf")
                if wanted is None:
                    wanted = floor if placed else top[layer[0]]
                placed.append(max(wanted, floor))
            # Moving the whole column keeps its order and gaps: move it by the mean of what each one wanted.
            pulls = [w - p for w, p in zip(desired, placed, strict=True) if w is not None]
            shift = sum(pulls) / len(pulls) if pulls else 0.0
            for key, y in zip(layer, placed, strict=True):
                top[key] = y + shift
    lowest = min(top.values())
    return {key: y - lowest for key, y in top.items()}


def layout(
    sizes: dict[str, tuple[float, float]], edges: Sequence[EdgeSpec], min_rank: dict[str, int] | None = None
) -> Layout:
    """Place `sizes` (node -> (width, height), in a stable order) and route `edges` (acyclic, by node key)."""
    order = list(sizes)
    rank = _ranks(order, edges, min_rank or {})
    size: dict[str, tuple[float, float]] = dict(sizes)
    up: dict[str, list[str]] = defaultdict(list)
    down: dict[str, list[str]] = defaultdict(list)
    chains: list[list[str]] = []
    for i, edge in enumerate(edges):
        chain = [edge.source]
        for r in range(rank[edge.source] + 1, rank[edge.target]):
            key = f"\0edge{i}:{r}"
            is_label = edge.label is not None and r == rank[edge.source] + 1
            size[key] = edge.label if is_label and edge.label else (0.0, DUMMY_HEIGHT)
            rank[key] = r
            chain.append(key)
        chain.append(edge.target)
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
        chains.append(chain)
    layers: list[list[str]] = [[] for _ in range(max(rank.values(), default=0) + 1)]
    for key in size:
        layers[rank[key]].append(key)
    layers = _order(layers, up, down)
    top = _place([layer for layer in layers if layer], size, up, down)

    column_x: list[tuple[float, float]] = []
    x = 0.0
    for layer in layers:
        width = max((size[key][0] for key in layer), default=0.0)
        column_x.append((x, x + width))
        x += width + COLUMN_GAP
    boxes: dict[str, Rect] = {}
    for r, layer in enumerate(layers):
        left, right = column_x[r]
        for key in layer:
            w, h = size[key]
            x0 = (left + right - w) / 2
            boxes[key] = Rect(x0, top[key], x0 + w, top[key] + h)

    def port(key: str, other: str, side: dict[str, list[str]]) -> float:
        """Where an edge meets a box: its side's edges spread evenly, in the order of what they lead to."""
        box = boxes[key]
        neighbours = sorted(side[key], key=lambda n: (boxes[n].y0 + boxes[n].y1) / 2)
        slot = neighbours.index(other)
        return box.y0 + (box.y1 - box.y0) * (slot + 1) / (len(neighbours) + 1)

    polylines: list[list[tuple[float, float]]] = []
    labels: list[Rect | None] = []
    for edge, chain in zip(edges, chains, strict=True):
        points: list[tuple[float, float]] = []
        for j, key in enumerate(chain):
            left, right = column_x[rank[key]]
            box = boxes[key]
            y_in = port(key, chain[j - 1], up) if j > 0 else 0.0
            y_out = port(key, chain[j + 1], down) if j < len(chain) - 1 else 0.0
            if j == 0:
                points += [(box.x1, y_out), (right, y_out)]
            elif j == len(chain) - 1:
                points += [(left, y_in), (box.x0, y_in)]
            else:  # a label or a dummy: one edge in, one out, straight through at its middle
                middle = (box.y0 + box.y1) / 2
                points += [(left, middle), (right, middle)]
        deduplicated = [p for k, p in enumerate(points) if k == 0 or p != points[k - 1]]
        polylines.append(deduplicated[::-1] if edge.reversed else deduplicated)
        labels.append(boxes[chain[1]] if edge.label is not None else None)
    real = {key: box for key, box in boxes.items() if key in sizes}
    height = max((box.y1 for box in boxes.values()), default=0.0)
    return Layout(real, polylines, labels, width=max(x - COLUMN_GAP, 0.0), height=height, ranks=rank)
