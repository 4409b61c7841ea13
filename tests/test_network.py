"""The largest-component count of the link graph agrees with networkx on random graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from eipsim.domain.network import _largest_component


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
