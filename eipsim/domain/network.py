"""Network measures of the symbiosis link graph (docs/ODD.md, §7.17 "Network").

The link graph has one node per firm with an active link and one undirected edge per pair of
firms that exchange anything (either direction, any material): a firm's degree is its
number of distinct partners. Nothing here draws a random number; ties are broken by the
smallest node id, so the measures are a function of the links alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from eipsim.domain.types import BoolArray, IntArray

# links ended by a refused permit never delivered: they have no lifetime
NEVER_STARTED = ("permit_refused",)
# node ids are below this (slots and agent ids): a pair's key is lo * _ID_LIMIT + hi
_ID_LIMIT = 1 << 31
# up to this many links the measures are found with Python sets and dicts: faster than the
# fixed costs of some twenty numpy calls (measured: 2.5 times as fast at 16 links, as fast at
# about 80)
SMALL_GRAPH = 64


@dataclass(frozen=True)
class NetworkMeasures:
    nodes: int  # firms with at least one active link
    edges: int  # pairs of firms linked
    mean_degree: float  # 2 edges / nodes (0 with no links)
    max_degree: int  # the top hub's degree (0 with no links)
    hub: int  # node id of the top hub (the smallest id among equals), -1 with no links
    largest_component: int  # firms in the largest connected component (0 with no links)


def link_graph(s: IntArray, u: IntArray) -> nx.Graph:
    """The undirected simple graph of the pairs (s[k], u[k]); a firm linked to itself (none
    are) and repeated pairs count once."""
    g = nx.Graph()
    g.add_edges_from((int(a), int(b)) for a, b in zip(s, u, strict=True) if a != b)
    return g


def measures(s: IntArray, u: IntArray) -> NetworkMeasures:
    """Degree distribution, top hub and largest component of the links (s[k], u[k]).

    Most months no link starts or ends, so the measures of the last few link sets are
    remembered (keyed by their exact contents: the same links give the same measures)."""
    s, u = np.asarray(s, dtype=np.int64), np.asarray(u, dtype=np.int64)
    return _measures_of(s.tobytes(), u.tobytes())


@lru_cache(maxsize=8)
def _measures_of(s_bytes: bytes, u_bytes: bytes) -> NetworkMeasures:
    """``measures`` of the links given as the bytes of int64 arrays: a few dozen links with
    Python sets (``_measures_small``), more with numpy (``_measures_large``)."""
    s, u = np.frombuffer(s_bytes, dtype=np.int64), np.frombuffer(u_bytes, dtype=np.int64)
    if s.size <= SMALL_GRAPH:
        return _measures_small(s.tolist(), u.tolist())
    return _measures_large(s, u)


def _measures_small(s: list[int], u: list[int]) -> NetworkMeasures:
    """``measures`` of a few links: each pair once in a set, degrees counted in a dict, the
    components joined in a union-find (each root the smallest id of its tree)."""
    pairs = {(a, b) if a < b else (b, a) for a, b in zip(s, u, strict=True) if a != b}
    if not pairs:
        return NetworkMeasures(0, 0, 0.0, 0, -1, 0)
    degree: dict[int, int] = {}
    parent: dict[int, int] = {}
    for a, b in pairs:
        degree[a] = degree.get(a, 0) + 1
        degree[b] = degree.get(b, 0) + 1
        ra, rb = _root(parent, a), _root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    top = max(degree.values())
    hub = min(node for node, d in degree.items() if d == top)  # the smallest id
    sizes: dict[int, int] = {}
    for node in parent:
        r = _root(parent, node)
        sizes[r] = sizes.get(r, 0) + 1
    n = len(degree)
    return NetworkMeasures(n, len(pairs), 2.0 * len(pairs) / n, top, hub, max(sizes.values()))


def _root(parent: dict[int, int], node: int) -> int:
    """The root of ``node``'s tree (a new node is a tree of its own), halving the path."""
    parent.setdefault(node, node)
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _measures_large(s: IntArray, u: IntArray) -> NetworkMeasures:
    """``measures`` with numpy, sorting instead of ``np.unique`` and hooking trees for the
    components (a month's indicators must stay cheap: networkx would cost a tenth of a run);
    ``link_graph`` gives the same graph in networkx, and a test checks that both agree."""
    keep = s != u
    lo, hi = np.minimum(s, u)[keep], np.maximum(s, u)[keep]
    if lo.size == 0:
        return NetworkMeasures(0, 0, 0.0, 0, -1, 0)
    a, b = np.divmod(_distinct(lo * _ID_LIMIT + hi), _ID_LIMIT)  # each pair once
    nodes = _distinct(np.concatenate((a, b)))
    ia, ib = nodes.searchsorted(a), nodes.searchsorted(b)
    n = nodes.size
    deg = np.bincount(ia, minlength=n) + np.bincount(ib, minlength=n)
    top = int(deg.argmax())  # the first maximum: the smallest id
    largest = _largest_component(n, ia, ib)
    return NetworkMeasures(n, a.size, 2.0 * a.size / n, int(deg[top]), int(nodes[top]), largest)


def _distinct(values: IntArray) -> IntArray:
    """The distinct values of a fresh, non-empty 1-D array (sorted in place): ``np.unique``
    without its per-call checks."""
    values.sort()
    keep = np.empty(values.size, dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _largest_component(n: int, a: IntArray, b: IntArray) -> int:
    """Size of the largest connected component of nodes 0..n-1 with edges (a[k], b[k]).

    Each node points at the root of its tree (at first itself); each round every edge
    between two trees hooks the larger root onto the smaller, and every node then jumps to
    its new root. Roots only ever point to smaller ones, and each round at least halves the
    trees an edge joins, so a few small array passes do."""
    root = np.arange(n)
    while True:
        ra, rb = root[a], root[b]
        apart = ra != rb
        if not np.count_nonzero(apart):
            return int(np.bincount(root).max())
        root[np.maximum(ra, rb)[apart]] = np.minimum(ra, rb)[apart]
        while True:  # to the roots
            up = root[root]
            if not np.count_nonzero(up != root):
                break
            root = up


def mean_lifetime(start: IntArray, end: IntArray, ended: BoolArray) -> float:
    """Mean months from first delivery month to end over the ``ended`` links, -1 if none."""
    if not ended.any():
        return -1.0
    months = end[ended] - start[ended]
    return int(months.sum()) / months.size  # whole months: the exact sum, as np.mean


def frame_measures(links: pd.DataFrame) -> dict[str, Any]:
    """The network measures of a links table (``EIPModel.links_frame``, ``RunResult.links``)
    at its end, with the top hub named: its agent id, name and sector. The run summary has
    the numeric measures (``mean_degree``, ``hub_degree``, ``largest_component_share``,
    ``mean_link_lifetime_months``); the hub's name and sector are strings, which the sweeps'
    float summary columns cannot hold, so they are here. Nodes are agent ids, so a firm
    that left keeps its own node."""
    act = links[links["status"] == "active"]
    nm = measures(act["supplier_id"].to_numpy(), act["user_id"].to_numpy())
    hub_name, hub_sector = "", ""
    if nm.hub >= 0:
        for role in ("supplier", "user"):
            rows = act[act[f"{role}_id"] == nm.hub]
            if len(rows):
                hub_name = str(rows[f"{role}_name"].iloc[0])
                hub_sector = str(rows[f"{role}_sector"].iloc[0])
                break
    ended = (links["status"] == "ended") & ~links["reason_ended"].isin(NEVER_STARTED)
    return {
        "firms_in_links": nm.nodes,
        "linked_pairs": nm.edges,
        "mean_degree": nm.mean_degree,
        "max_degree": nm.max_degree,
        "hub_id": nm.hub,
        "hub_name": hub_name,
        "hub_sector": hub_sector,
        "largest_component": nm.largest_component,
        "mean_link_lifetime_months": mean_lifetime(
            links["start_step"].to_numpy(), links["end_step"].to_numpy(), ended.to_numpy()
        ),
    }
