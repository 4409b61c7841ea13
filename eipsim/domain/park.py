"""The park: a grid of plots grouped in zones, distances, and placement policies.

``Park`` is the one home of the geometry: it builds the Mesa grid the firms sit on, and
computes distances and neighbourhoods as vectorised arrays over plot slots.
"""

from __future__ import annotations

import random

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from eipsim.domain.types import FloatArray, IntArray

# Placement policy (scenario key park.placement) -> the tenant attribute its clusters are
# keyed by; None places tenants anywhere.
CLUSTER_BY: dict[str, str | None] = {
    "random": None,
    "nationality_clusters": "nationality",
    "sector_clusters": "sector",
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
        zx = np.minimum(xs * zones_x // width, zones_x - 1)
        zy = np.minimum(ys * zones_y // height, zones_y - 1)
        self.zone_of = zy * zones_x + zx
        self.zone_names = [f"Zone {chr(65 + i)}" for i in range(zones_x * zones_y)]
        # Zone-major order keeps cluster blocks compact and inside zones where they fit.
        self.cluster_order = np.lexsort((xs, ys, self.zone_of))

    def xy(self, slot: int) -> tuple[int, int]:
        return int(self.x[slot]), int(self.y[slot])

    def distance_km(self, a: IntArray, b: IntArray, minimum: float = 0.0) -> FloatArray:
        """Euclidean distance between plot centres, vectorised over slot arrays."""
        d = np.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b]) * self.plot_size_km
        return np.maximum(d, minimum)

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
        raw = np.array([shares[k] for k in keys]) * self.n_plots
        sizes = np.floor(raw).astype(int)
        for i in np.argsort(-(raw - sizes))[: self.n_plots - sizes.sum()]:
            sizes[i] += 1
        bounds = np.concatenate([[0], np.cumsum(sizes)])
        return {k: self.cluster_order[bounds[i] : bounds[i + 1]] for i, k in enumerate(keys)}


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
    free = np.flatnonzero(vacant)
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
