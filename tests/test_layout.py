"""mapgate/cli/layout.py on small graphs whose right answer is known."""

from __future__ import annotations

import itertools

import pytest

from mapgate.cli.layout import ROW_GAP, EdgeSpec, _crossings, _transpose, acyclic, layout


def test_acyclic_turns_around_the_edge_that_closes_a_cycle() -> None:
    assert acyclic(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")]) == {("c", "a")}
    assert acyclic(["a", "b"], [("a", "b")]) == set()


def test_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle"):
        layout({"a": (10, 10), "b": (10, 10)}, [EdgeSpec("a", "b"), EdgeSpec("b", "a")])


def test_ordering_removes_a_crossing() -> None:
    sizes = dict.fromkeys(("a", "b", "c", "d"), (40.0, 20.0))
    placed = layout(sizes, [EdgeSpec("a", "d"), EdgeSpec("b", "c")])
    n = placed.nodes
    assert (n["a"].y0 < n["b"].y0) == (n["d"].y0 < n["c"].y0)


def test_a_label_takes_the_column_between_its_ends_and_long_edges_span_columns() -> None:
    sizes = {"a": (40.0, 20.0), "b": (40.0, 20.0), "c": (40.0, 20.0)}
    placed = layout(sizes, [EdgeSpec("a", "b", label=(30.0, 14.0)), EdgeSpec("b", "c"), EdgeSpec("a", "c")])
    assert [placed.ranks[k] for k in "abc"] == [0, 2, 3]
    label = placed.labels[0]
    assert label is not None
    assert placed.nodes["a"].x1 < label.x0 < label.x1 < placed.nodes["b"].x0
    a_to_c = placed.edges[2]
    assert a_to_c[0][0] == placed.nodes["a"].x1
    assert a_to_c[-1][0] == placed.nodes["c"].x0
    assert all(x0 <= x1 for (x0, _), (x1, _) in itertools.pairwise(a_to_c))  # left to right


def test_a_reversed_edge_is_drawn_from_its_target() -> None:
    placed = layout({"a": (40.0, 20.0), "b": (40.0, 20.0)}, [EdgeSpec("a", "b", reversed=True)])
    assert placed.edges[0][0][0] == placed.nodes["b"].x0
    assert placed.edges[0][-1][0] == placed.nodes["a"].x1


def test_an_element_with_no_edge_packs_below_its_column_without_a_gap() -> None:
    """Listed first, with no edge: it still goes to the bottom of its column, right under the last linked element,
    instead of keeping its own place far above the others (the issue's floating box)."""
    sizes = {"lonely": (40.0, 30.0), "a": (40.0, 20.0), "b": (40.0, 20.0), "c": (40.0, 200.0), "d": (40.0, 20.0)}
    placed = layout(sizes, [EdgeSpec("c", "d"), EdgeSpec("a", "d"), EdgeSpec("b", "d")])
    n = placed.nodes
    column = [n[k] for k in ("a", "b", "c")]
    assert n["lonely"].x0 == n["a"].x0
    assert n["lonely"].y0 == max(r.y1 for r in column) + ROW_GAP


def test_transposing_neighbours_removes_a_crossing_the_sweeps_leave() -> None:
    layers = [["a", "b"], ["d", "c"]]
    up = {"c": ["a"], "d": ["b"], "a": [], "b": []}
    down = {"a": ["c"], "b": ["d"], "c": [], "d": []}
    assert _crossings(layers, up) == 1
    _transpose(layers, up, down)
    assert _crossings(layers, up) == 0
