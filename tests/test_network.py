"""The network measures of the link graph agree with networkx on random graphs, and the
small graphs' measures (Python sets) with the large graphs' (numpy)."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eipsim.domain.network import (
    _largest_component,
    _measures_large,
    _measures_small,
    link_graph,
)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=80))
def test_largest_component_matches_networkx(n, edges):
    edges = [(x % n, y % n) for x, y in edges]
    a = np.array([x for x, _ in edges], dtype=np.int64)
    b = np.array([y for _, y in edges], dtype=np.int64)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    assert _largest_component(n, a, b) == max(len(c) for c in nx.connected_components(g))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=90))
def test_small_and_large_graph_measures_agree(links):
    s = np.array([x for x, _ in links], dtype=np.int64)
    u = np.array([y for _, y in links], dtype=np.int64)
    small = _measures_small(s.tolist(), u.tolist())
    assert small == _measures_large(s, u)
    g = link_graph(s, u)
    assert small.nodes == g.number_of_nodes() and small.edges == g.number_of_edges()
    if small.nodes:
        degree = dict(g.degree())
        assert small.max_degree == max(degree.values())
        assert small.hub == min(k for k, d in degree.items() if d == small.max_degree)
        assert small.largest_component == max(len(c) for c in nx.connected_components(g))
