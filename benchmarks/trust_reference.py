"""The trust matrix as it was before the incremental rewrite (commit 2086a03), kept as the
reference the tests and ``bench_model.py --trust reference`` compare the new code with.

Every operation reads or writes the whole (slots x slots) matrix: diffusion multiplies the
partner adjacency by all of ``T``; group means form ``G^T T G`` over all slots every month.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from eipsim.domain.trust import KeptPairs


class ReferenceTrustMatrix:
    def __init__(self, n_slots: int):
        self.T = np.zeros((n_slots, n_slots))

    def init_firm(
        self,
        slot: int,
        nat: np.ndarray,
        alive: np.ndarray,
        same: float,
        cross: float,
        noise: float,
        rng: np.random.Generator,
    ) -> None:
        """Initial trust of a new firm toward the others and of the others toward it:
        ``same`` within a nationality, ``cross`` across, plus Gaussian noise, clipped to [0, 1]."""
        base = np.where(nat == nat[slot], same, cross)
        n = base.size
        row = np.clip(base + noise * rng.standard_normal(n), 0.0, 1.0)
        col = np.clip(base + noise * rng.standard_normal(n), 0.0, 1.0)
        row[~alive] = 0.0
        col[~alive] = 0.0
        self.T[slot, :] = row
        self.T[:, slot] = col
        self.T[slot, slot] = 0.0

    def init_firms(
        self,
        slots: np.ndarray,
        nat: np.ndarray,
        same: float,
        cross: float,
        noise: float,
        rng: np.random.Generator,
    ) -> None:
        """Initial trust among the opening tenants, all at once (the current code draws the
        same numbers a block of rows at a time)."""
        g = nat[slots]
        base = np.where(g[:, None] == g[None, :], same, cross)
        block = np.clip(base + noise * rng.standard_normal((slots.size, slots.size)), 0.0, 1.0)
        np.fill_diagonal(block, 0.0)
        self.T[np.ix_(slots, slots)] = block

    def clear(self, slot: int) -> None:
        self.T[slot, :] = 0.0
        self.T[:, slot] = 0.0

    def raise_toward_one(
        self,
        i: np.ndarray,
        j: np.ndarray,
        rate: float | np.ndarray,
        *,
        distinct: bool = False,
        once: np.ndarray | None = None,
    ) -> None:
        """T_ij += rate * (1 - T_ij): kept deliveries, introductions, meetings, familiarity
        (``distinct`` and ``once`` only spare the current code a check)."""
        self.T[i, j] += rate * (1.0 - self.T[i, j])

    def kept_pairs(self, i: np.ndarray, j: np.ndarray, cell: np.ndarray | None = None) -> KeptPairs:
        """Pairs the model raises month after month (the current code keeps their cells)."""
        n = self.T.shape[0]
        return KeptPairs(i, j, i * n + j if cell is None else cell)

    def raise_kept(self, pairs: KeptPairs, rate: float) -> None:
        """``raise_toward_one`` over kept pairs."""
        self.raise_toward_one(pairs.i, pairs.j, rate)

    def lower(self, i: np.ndarray, j: np.ndarray, rate: float | np.ndarray) -> None:
        """T_ij -= rate * T_ij: shortfalls and broken links."""
        self.T[i, j] -= np.clip(rate, 0.0, 1.0) * self.T[i, j]

    def diffuse(self, src: np.ndarray, dst: np.ndarray, weight: float) -> None:
        """Each firm with partners moves its trust toward its partners' average opinion
        (Ghali et al. 2017): T_i <- (1 - w) T_i + w * mean_{k in partners(i)} T_k."""
        if weight <= 0 or src.size == 0:
            return
        n = self.T.shape[0]
        edges = np.unique(src * n + dst)  # a partner counts once
        e_src, e_dst = np.divmod(edges, n)
        deg = np.bincount(e_src, minlength=n)
        rows = np.flatnonzero(deg)
        pos = np.full(n, -1)
        pos[rows] = np.arange(rows.size)
        # sum of partners' rows: a sparse (rows x n) adjacency times T, E x n work
        adj = sparse.csr_matrix((np.ones(edges.size), (pos[e_src], e_dst)), shape=(rows.size, n))
        total = adj @ self.T
        opinion = total / deg[rows, None]
        # A partner's self-view (the zero diagonal) is no opinion: about partner j, average
        # over the other partners only, or keep T_ij if j is the only one.
        d = deg[e_src]
        r = pos[e_src]
        opinion[r, e_dst] = np.where(
            d > 1, total[r, e_dst] / np.maximum(d - 1, 1), self.T[e_src, e_dst]
        )
        diag = self.T[rows, rows].copy()
        self.T[rows] = (1.0 - weight) * self.T[rows] + weight * opinion
        self.T[rows, rows] = diag

    def mean_by_group(self, alive: np.ndarray, nat: np.ndarray) -> tuple[float, float]:
        """Mean trust over ordered pairs of distinct alive firms, within and across nationality.

        Group sums come from G^T T G with G the one-hot nationality matrix of alive firms
        (the diagonal of T is zero), which avoids building pair masks every month."""
        idx = np.flatnonzero(alive)
        if idx.size < 2:
            return float("nan"), float("nan")
        codes, g = np.unique(nat[idx], return_inverse=True)
        G = np.zeros((self.T.shape[0], codes.size))
        G[idx, g] = 1.0
        sums = G.T @ (self.T @ G)
        sizes = G.sum(axis=0)
        same_pairs = float((sizes * (sizes - 1.0)).sum())
        cross_pairs = float(idx.size * (idx.size - 1.0)) - same_pairs
        same_sum = float(np.trace(sums))
        cross_sum = float(sums.sum()) - same_sum
        s = same_sum / same_pairs if same_pairs > 0 else float("nan")
        c = cross_sum / cross_pairs if cross_pairs > 0 else float("nan")
        return s, c
