"""The park: a grid of plots grouped in zones, distances, and placement policies.

``Park`` is the one home of the geometry: it builds the Mesa grid the firms sit on, and
computes distances and neighbourhoods as vectorised arrays over plot slots.
"""

from __future__ import annotations

import random

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from eipsim.domain.types import BoolArray, FloatArray, IntArray

# Placement policy (scenario key park.placement) -> the tenant attribute its clusters are
# keyed by; None places tenants anywhere. sector_clusters groups firms of the *same* sector
# (which rarely exchange); chain_clusters orders the sectors' blocks so that complementary
# sectors (suppliers and their users) sit next to each other.
CLUSTER_BY: dict[str, str | None] = {
    "random": None,
    "nationality_clusters": "nationality",
    "sector_clusters": "sector",
    "chain_clusters": "sector",
}


class Park:
    """Plot geometry. A plot's slot index is ``y * width + x`` and is also the row of every
    per-firm array in the model, so a firm's state is addressed by its plot."""

    def __init__(
        self,
        width: int,
        height: int,
        zones_x: int,
        zones_y: int,
        plot_size_m: float,
        rand: random.Random | None = None,
    ):
        self.width, self.height = width, height
        # The grid is the firms' Mesa home (firm.cell); its own random draws are never used
        # (placement draws go through the model's rng), so a fixed one stands in when the
        # model does not pass its own.
        self.grid = OrthogonalMooreGrid(
            (width, height), torus=False, random=rand or random.Random(0)
        )
        self.n_plots = width * height
        self.plot_size_km = plot_size_m / 1000.0
        ys, xs = np.divmod(np.arange(self.n_plots), width)
        self.x, self.y = xs, ys
        self._xy = np.array([xs, ys])  # (2, N): both coordinates of plots in one gather
        zx = np.minimum(xs * zones_x // width, zones_x - 1)
        zy = np.minimum(ys * zones_y // height, zones_y - 1)
        self.zone_of = zy * zones_x + zx
        self.zone_names = [f"Zone {chr(65 + i)}" for i in range(zones_x * zones_y)]
        # Zone-major order keeps cluster blocks compact and inside zones where they fit.
        self.cluster_order = np.lexsort((xs, ys, self.zone_of))

    def xy(self, slot: int) -> tuple[int, int]:
        """The plot's (x, y), worked out from its slot (no gathers from the arrays)."""
        y, x = divmod(int(slot), self.width)
        return x, y

    def distance_km(self, a: IntArray, b: IntArray, minimum: float = 0.0) -> FloatArray:
        """Euclidean distance between plot centres, vectorised over slot arrays."""
        dx, dy = self._xy.take(a, axis=1) - self._xy.take(b, axis=1)
        return np.maximum(np.hypot(dx, dy) * self.plot_size_km, minimum)

    def neighbour_pairs(self, radius: int) -> tuple[IntArray, IntArray]:
        """All ordered pairs of distinct plots within Chebyshev distance ``radius``."""
        src, dst = [], []
        for dx in range(-radius, radius + 1):
            for dy in range(-radius, radius + 1):
                if dx == 0 and dy == 0:
                    continue
                nx, ny = self.x + dx, self.y + dy
                ok = (nx >= 0) & (nx < self.width) & (ny >= 0) & (ny < self.height)
                src.append(np.flatnonzero(ok))
                dst.append((ny * self.width + nx)[ok])
        return np.concatenate(src), np.concatenate(dst)

    def cluster_blocks(self, shares: dict[str, float]) -> dict[str, IntArray]:
        """Split the plots into contiguous blocks, one per key, sized by its share.

        This is how nationality (or sector) clusters get "their own zone"."""
        keys = list(shares)
        bounds = self._bounds(np.array([shares[k] for k in keys]))
        return {k: self.cluster_order[bounds[i] : bounds[i + 1]] for i, k in enumerate(keys)}

    def _bounds(self, shares: FloatArray) -> IntArray:
        """Block boundaries along ``cluster_order``: sizes by share, largest remainder."""
        raw = shares * self.n_plots
        sizes = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - sizes))[: self.n_plots - sizes.sum()]:
            sizes[i] += 1
        return np.concatenate([[0], np.cumsum(sizes)])

    def chain_blocks(self, shares: dict[str, float], weight: FloatArray) -> dict[str, IntArray]:
        """Sector blocks laid along the zone-major plot order so that complementary sectors
        are close: the order of the keys minimises the complementarity-weighted distance
        between block centroids, sum_ab W_ab |c_a - c_b| (``weight`` is W, (k, k) in the
        order of ``shares``; see ``complementarity``). Blocks are then cut as in
        ``cluster_blocks``. Deterministic: no random draw."""
        keys = list(shares)
        W = np.asarray(weight, dtype=float)
        W = W + W.T  # adjacency is undirected: a supplies b or b supplies a
        share = np.array([shares[k] for k in keys], dtype=float)
        # running sums of the plot coordinates along the order give each block's centroid
        px = np.concatenate([[0.0], np.cumsum(self.x[self.cluster_order])])
        py = np.concatenate([[0.0], np.cumsum(self.y[self.cluster_order])])

        def cost(order: list[int]) -> float:
            b = self._bounds(share[order])
            n = np.maximum(np.diff(b), 1)
            c = np.zeros((len(keys), 2))  # (an empty block has no share, so W is 0 there)
            c[order, 0] = (px[b[1:]] - px[b[:-1]]) / n
            c[order, 1] = (py[b[1:]] - py[b[:-1]]) / n
            d = np.hypot(c[:, None, 0] - c[None, :, 0], c[:, None, 1] - c[None, :, 1])
            return float((W * d).sum())

        order = chain_order(np.asarray(weight, dtype=float))
        best = cost(order)
        for _ in range(50):  # local search: pair swaps and segment reversals, first improvement
            improved = False
            for i in range(len(order)):
                for j in range(i + 1, len(order)):
                    swap = order.copy()
                    swap[i], swap[j] = swap[j], swap[i]
                    rev = order[:i] + order[i : j + 1][::-1] + order[j + 1 :]
                    for trial in (swap, rev):
                        c = cost(trial)
                        if c < best - 1e-9 * abs(best):
                            order, best, improved = trial, c, True
            if not improved:
                break
        return self.cluster_blocks({keys[i]: shares[keys[i]] for i in order})


def stream_value(mat: dict[str, np.ndarray]) -> FloatArray:
    """(M,) USD a unit of each by-product is worth when exchanged, before distance costs:
    the supplier's disposal avoided plus the virgin input it replaces, less treatment,
    floored at 0 (catalogue prices only, no policy levers)."""
    v = mat["disposal_usd"] + mat["substitution_ratio"] * mat["virgin_price_usd"]
    return np.maximum(v - mat["treatment_usd"], 0.0)


def complementarity(
    share: FloatArray, supply: FloatArray, demand: FloatArray, value: FloatArray
) -> FloatArray:
    """(k, k) value of sector a's supplies that sector b demands, at park scale:
    C_ab = sum_m min(share_a supply_am, share_b demand_bm) value_m, with C_aa = 0.

    ``share`` (k,) are the sectors' shares of the tenants, ``supply`` and ``demand``
    (k, M) their catalogue streams for a firm of size 1, ``value`` (M,) ``stream_value``."""
    s = np.asarray(share, dtype=float)[:, None] * supply  # (k, M)
    d = np.asarray(share, dtype=float)[:, None] * demand
    C = (np.minimum(s[:, None, :], d[None, :, :]) * value).sum(axis=2)
    np.fill_diagonal(C, 0.0)
    return C


def chain_order(weight: FloatArray) -> list[int]:
    """A greedy chain through the keys: start with the most complementary pair, then add at
    either end the key most complementary to that end (ties by index), until all are in."""
    W = np.asarray(weight, dtype=float)
    W = W + W.T
    k = W.shape[0]
    if k < 2:
        return list(range(k))
    a, b = np.unravel_index(int(np.argmax(np.where(np.eye(k, dtype=bool), -np.inf, W))), W.shape)
    chain = [int(a), int(b)]
    left: BoolArray = np.ones(k, dtype=bool)
    left[chain] = False
    while left.any():
        rest = np.flatnonzero(left)
        head, tail = W[chain[0], rest], W[chain[-1], rest]
        if head.max() > tail.max():
            chain.insert(0, int(rest[np.argmax(head)]))
        else:
            chain.append(int(rest[np.argmax(tail)]))
        left[chain[0]] = left[chain[-1]] = False
    return chain


def within_reach(dist_km: FloatArray, d0_km: float, rng: np.random.Generator) -> BoolArray:
    """Distance-decayed prospecting (Raimbault et al. 2020): each candidate is considered
    with probability exp(-d / d0), one uniform draw from ``rng`` per candidate."""
    return rng.random(dist_km.size) < np.exp(-dist_km / d0_km)


def choose_plot(
    park: Park,
    vacant: np.ndarray,
    policy: str,
    key: str,
    blocks: dict[str, IntArray] | None,
    rng: np.random.Generator,
) -> int:
    """Pick a vacant plot for a new tenant.

    ``key`` is the tenant's nationality (nationality_clusters) or sector (sector_clusters).
    A clustered tenant takes a vacant plot in its block; if the block is full, or its key has
    no block, the vacant plot nearest to the block's centre (random if no block)."""
    free = vacant.nonzero()[0]
    if free.size == 0:
        raise ValueError("no vacant plot")
    if policy == "random" or blocks is None or key not in blocks or blocks[key].size == 0:
        return _pick(free, rng)
    block = blocks[key]
    in_block = block[vacant[block]]
    if in_block.size:
        return _pick(in_block, rng)
    cx, cy = park.x[block].mean(), park.y[block].mean()
    d = np.hypot(park.x[free] - cx, park.y[free] - cy)
    return _pick(free[d == d.min()], rng)


def _pick(plots: IntArray, rng: np.random.Generator) -> int:
    """One plot uniformly at random: the draw ``Generator.choice(plots)`` makes, without
    its per-call checks."""
    return int(plots[rng.integers(0, plots.size)])
