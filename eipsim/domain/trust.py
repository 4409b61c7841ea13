"""Pairwise trust between firms and its updates.

``T[i, j]`` is how much firm i trusts firm j (rows and columns are plot slots). Updates
are vectorised over arrays of pairs; see docs/ODD.md, "Trust", for the equations.

Keeping the monthly work proportional to what changes, not to slots x slots:

* **Diffusion** reads only the partners' rows and rewrites only the rows of firms with
  partners, in work buffers kept between months (fresh slots-wide temporaries every month
  cost more in page faults than the arithmetic). Each element is the same sequence of
  floating-point operations as the dense formula (partners' rows added one after the other,
  in ascending slot order), so the result is bit-identical.
* **Per-row group sums** ``R[i, g] = sum_j T[i, j] [nationality of j = g]`` are kept up to
  date by every update (a few entries for ``raise_toward_one``/``lower``, a row and a column
  for ``init_firm``/``clear``, the rewritten rows for ``diffuse``), so ``mean_by_group``
  reads ``R`` (slots x groups) instead of the whole matrix. These sums are accumulated in a
  different order than the dense ``G^T T G``, so the two means can differ from the dense
  ones in the last bits (relative ~1e-15); nothing in the model reads them back. With
  ``incremental_means=False`` the group means are the dense product, bit-identical.
* **Live slots.** A slot is live from ``init_firm`` (or the first update that makes one of
  its entries non-zero) until ``clear``; rows and columns of other slots are zero. The
  incremental group means are used only when the live slots are alive firms of the
  nationalities ``init_firm`` saw; otherwise ``mean_by_group`` falls back to the dense sums.

``T`` is exposed read-only: write trust through the methods (or ``set_pairs``), so the
live slots and group sums stay true.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FloatArray = np.ndarray
# Group means from the kept per-row sums (O(slots) a month; the two mean_trust_* indicators
# change in the last bits, nothing else) or the dense product (exact, O(slots^2) a month).
# Turning this on needs the golden file re-written (scripts/golden.py write).
INCREMENTAL_MEANS = True
_BLOCK_ELEMENTS = 1 << 17  # diffusion works on blocks of rows of about this many entries
_UNKNOWN = np.iinfo(np.int64).min  # the nationality of a slot init_firm has not seen


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, by counting for small non-negative ints."""
    if values.dtype.kind in "iu" and values.min() >= 0 and values.max() < 4096:
        present = np.bincount(values) > 0
        rank = np.cumsum(present) - 1
        return np.flatnonzero(present), rank[values]
    codes, inv = np.unique(values, return_inverse=True)
    return codes, inv.reshape(-1)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique(keys)`` of a 1-D integer array, without its per-call checks."""
    ks = np.sort(keys)
    if ks.size < 2:
        return ks
    keep = np.empty(ks.size, dtype=bool)
    keep[0] = True
    np.not_equal(ks[1:], ks[:-1], out=keep[1:])
    return ks[keep]


def _unique_first(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_index=True, return_inverse=True)`` of a non-empty 1-D
    integer array (the same stable sort, so the same first occurrences), without its
    per-call checks: a month calls it several times on a few dozen keys."""
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    first = np.empty(ks.size, dtype=bool)
    first[0] = True
    np.not_equal(ks[1:], ks[:-1], out=first[1:])
    inverse = np.empty(ks.size, dtype=np.intp)
    inverse[order] = np.cumsum(first) - 1
    return ks[first], order[first], inverse


def count_once(keys: np.ndarray) -> np.ndarray | None:
    """Of updates to pairs with these keys (i * n + j), the entries the group sums count
    when a pair repeats: each pair's first entry, in the order of the keys. None: no pair
    repeats (every entry counts, in its order)."""
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    repeated = ks[1:] == ks[:-1]
    if not repeated.any():
        return None
    once: np.ndarray = order[np.concatenate(([True], ~repeated))]
    return once


@dataclass(frozen=True)
class ExperiencePlan:
    """Who hears what in ``TrustMatrix.diffuse_experience`` (``TrustMatrix.experience_plan``)."""

    relation: (
        np.ndarray
    )  # per entry: the partner's trading relation (index of observer -> observed)
    relation_cell: np.ndarray  # per entry: that relation's cell in T, flat
    pair: np.ndarray  # per entry: the pair (firm, third party) it informs
    n_pairs: int
    pick: np.ndarray  # the pairs updated (no self-trust), in the update order
    i: np.ndarray  # their firms and third parties
    j: np.ndarray
    cell: np.ndarray  # their cells in T, flat (i * n + j)


class KeptPairs:
    """Distinct pairs (i, j) a caller raises month after month (``TrustMatrix.raise_kept``:
    familiarity between occupied plot neighbours, the raises of a month every link
    delivers), with their cells in T and in the group sums worked out once. The group
    cells and whether every slot is live depend on the slots' group columns and on
    ``clear``: they are worked out again when ``TrustMatrix.layout`` has moved on."""

    __slots__ = ("all_live", "cell", "group_cell", "i", "j", "layout")

    def __init__(self, i: np.ndarray, j: np.ndarray, cell: np.ndarray) -> None:
        self.i, self.j, self.cell = i, j, cell  # cell: i * n + j
        self.layout = -1  # the TrustMatrix.layout the next two were worked out under
        self.group_cell = cell  # i * (groups + 1) + group column of j, in the group sums
        self.all_live = False  # every slot of the pairs is live


class TrustMatrix:
    def __init__(self, n_slots: int, *, incremental_means: bool | None = None):
        self._T = np.zeros((n_slots, n_slots))
        self._flat = self._T.reshape(-1)  # T by cell i * n + j (a view): pair updates
        self._view = self._T.view()
        self._view.flags.writeable = False
        self._live = np.zeros(n_slots, dtype=bool)
        self.incremental_means = (
            INCREMENTAL_MEANS if incremental_means is None else incremental_means
        )
        # group bookkeeping: R's column 0 collects columns of unknown nationality
        self._nat = np.full(n_slots, _UNKNOWN, dtype=np.int64)  # nationality seen by init_firm
        self._gcol = np.zeros(n_slots, dtype=np.int64)  # R column of each slot's column
        self._gid: dict[int, int] = {}
        self._R = np.zeros((n_slots, 1))
        self._oh = np.zeros((n_slots, 1))  # one-hot of _gcol, kept with it
        self._oh[:, 0] = 1.0
        self._bufs: dict[str, FloatArray] = {}
        # moves on whenever a slot's group column or the group sums' width changes, or a
        # slot stops being live (``_record_nat``, ``clear``): ``KeptPairs`` check it
        self.layout = 0
        # ``mean_by_group``'s pair counts and whether the kept sums answer, and what they
        # are of: the layout and the bytes of alive, nat and the live slots
        self._pairs_key: tuple[int, bytes, bytes, bytes] | None = None
        self._pairs = (0, 0.0, 0.0, False)

    # -- access ----------------------------------------------------------------------------
    @property
    def T(self) -> FloatArray:
        """The (slots x slots) trust matrix, read-only (a view: it follows every update)."""
        return self._view

    @property
    def n(self) -> int:
        return self._T.shape[0]

    def live_slots(self) -> np.ndarray:
        """Slots whose row or column may hold non-zero trust (all others are zero)."""
        return np.flatnonzero(self._live)

    def group_sums(self) -> FloatArray:
        """Per-row sums of trust by the nationality of the trusted firm (a copy), one column
        per nationality in order of first appearance, column 0 for unknown nationalities
        (kept with ``incremental_means``; otherwise computed now)."""
        return self._R.copy() if self.incremental_means else self.recomputed_group_sums()

    def set_pairs(self, i: np.ndarray, j: np.ndarray, value: float | np.ndarray) -> None:
        """T_ij = value (tests and tools; the model changes trust through the updates)."""
        i, j = np.atleast_1d(i), np.atleast_1d(j)
        cell = i * self.n + j
        old = self._flat[cell]
        self._flat[cell] = value
        self._after_pair_update(i, j, cell, old, self._flat[cell])

    @classmethod
    def from_array(
        cls, T: np.ndarray, nat: np.ndarray | None = None, *, incremental_means: bool | None = None
    ) -> TrustMatrix:
        """A trust matrix holding a copy of ``T``; ``nat`` (optional) records the slots'
        nationalities so the incremental group means apply."""
        tm = cls(T.shape[0], incremental_means=incremental_means)
        tm._T[...] = T
        tm._live[:] = (T != 0).any(axis=0) | (T != 0).any(axis=1)
        if nat is not None:
            for s in np.flatnonzero(tm._live):
                tm._record_nat(int(s), int(nat[s]))
        tm._rebuild_group_sums()
        return tm

    # -- updates ---------------------------------------------------------------------------
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
        T = self._T
        z = rng.standard_normal((2, nat.size))  # toward the others, from them (as two calls)
        # Over all slots: a slot that is neither alive nor live has a zero row and column, so
        # writing zero there changes nothing, and whole rows spare the gathers of a subset.
        base = np.where(nat == nat[slot], same, cross)
        keep = alive.copy()
        keep[slot] = False  # the diagonal is zero
        # row and column at once, clipped to [0, 1] (np.clip's Python wrapper costs more
        # than two ufuncs; the sum is never -0.0, the one value on which they differ)
        row, col = np.where(keep, np.minimum(np.maximum(base + noise * z, 0.0), 1.0), 0.0)
        inc = self.incremental_means
        if inc and self._live[slot]:
            self._R[:, self._gcol[slot]] -= T[:, slot]  # the old column leaves its group
        T[slot] = row
        T[:, slot] = col
        # live slots may hold non-zero trust: every non-zero of the row and column is at a
        # kept slot (one operation, not two comparisons of the values)
        self._live |= keep
        self._live[slot] = True
        self._record_nat(slot, int(nat[slot]))
        if inc:
            g = self._gcol
            self._R[:, g[slot]] += col
            self._R[slot] = np.bincount(g, weights=row, minlength=self._R.shape[1])

    def init_firms(
        self,
        slots: np.ndarray,
        nat: np.ndarray,
        same: float,
        cross: float,
        noise: float,
        rng: np.random.Generator,
    ) -> None:
        """Initial trust among the park's opening tenants on ``slots``, all at once, before
        any firm has trust: each ordered pair of distinct firms as ``init_firm`` draws it
        (``same`` within a nationality, ``cross`` across, plus Gaussian noise, clipped to
        [0, 1]). Drawn a block of rows at a time, so that thousands of tenants need no
        tenants x tenants temporaries."""
        if self._live.any():
            raise ValueError("init_firms is for the opening tenants: some slots have trust")
        for slot in slots.tolist():
            self._record_nat(slot, int(nat[slot]))
        k, groups = slots.size, nat[slots]
        step = max(8, _BLOCK_ELEMENTS // max(k, 1))
        for a in range(0, k, step):
            b = min(a + step, k)
            base = np.where(groups[a:b, None] == groups[None, :], same, cross)
            block = np.minimum(np.maximum(base + noise * rng.standard_normal((b - a, k)), 0.0), 1.0)
            block[np.arange(b - a), np.arange(a, b)] = 0.0  # the diagonal
            rows = self._work("init_rows", b - a, self.n)
            rows[...] = 0.0
            rows[:, slots] = block
            self._T[slots[a:b]] = rows
            if self.incremental_means:
                self._R[slots[a:b]] = rows @ self._oh
        self._live[slots] = True

    def clear(self, slot: int) -> None:
        if self.incremental_means and self._live[slot]:
            self._R[:, self._gcol[slot]] -= self._T[:, slot]
            self._R[slot] = 0.0
        self._T[slot, :] = 0.0
        self._T[:, slot] = 0.0
        self._live[slot] = False
        self.layout += 1
        self._nat[slot] = _UNKNOWN
        self._gcol[slot] = 0
        self._oh[slot] = 0.0
        self._oh[slot, 0] = 1.0

    def raise_toward_one(
        self,
        i: np.ndarray,
        j: np.ndarray,
        rate: float | np.ndarray,
        *,
        distinct: bool = False,
    ) -> None:
        """T_ij += rate * (1 - T_ij): kept deliveries, introductions, meetings, familiarity.
        ``distinct``: the caller knows no pair repeats (it spares the check)."""
        i, j = np.atleast_1d(i), np.atleast_1d(j)
        if i.size == 0:
            return
        cell = i * self.n + j
        old, new = self._raise_cells(cell, rate)
        # (a positive rate leaves no entry zero: T_ij >= 0 becomes at least T_ij or rate)
        nonzero = isinstance(rate, float) and rate > 0
        self._after_pair_update(i, j, cell, old, new, distinct=distinct, nonzero=nonzero)

    def _raise_cells(
        self, cell: np.ndarray, rate: float | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """T_ij += rate * (1 - T_ij) on the cells i * n + j (the one home of the raise);
        returns the old and the new values."""
        old = self._flat[cell]
        new = old + rate * (1.0 - old)
        self._flat[cell] = new
        return old, new

    def kept_pairs(self, i: np.ndarray, j: np.ndarray, cell: np.ndarray | None = None) -> KeptPairs:
        """Distinct pairs (i, j) to raise month after month with ``raise_kept`` (``cell``:
        their i * n + j, when the caller has them)."""
        return KeptPairs(i, j, i * self.n + j if cell is None else cell)

    def raise_kept(self, pairs: KeptPairs, rate: float) -> None:
        """``raise_toward_one(pairs.i, pairs.j, rate, distinct=True)`` (the same values, live
        slots and group sums) with the pairs' cells kept, and no live marking while every
        slot of the pairs is live (true of alive firms: ``init_firm``/``init_firms`` make
        them live, only ``clear`` unmakes it)."""
        if pairs.cell.size == 0:
            return
        if pairs.layout != self.layout:
            pairs.group_cell = pairs.i * self._R.shape[1] + self._gcol[pairs.j]
            pairs.all_live = self._all_live(pairs)
            pairs.layout = self.layout
        old, new = self._raise_cells(pairs.cell, rate)
        self._after_pair_update(
            pairs.i,
            pairs.j,
            pairs.cell,
            old,
            new,
            distinct=True,
            live=pairs.all_live,
            group_cell=pairs.group_cell,
        )
        if not pairs.all_live:
            pairs.all_live = self._all_live(pairs)

    def _all_live(self, pairs: KeptPairs) -> bool:
        """Whether every slot of the pairs is live (then a raise marks none)."""
        return bool(self._live[pairs.i].all() and self._live[pairs.j].all())

    def lower(self, i: np.ndarray, j: np.ndarray, rate: float | np.ndarray) -> None:
        """T_ij -= rate * T_ij: shortfalls and broken links."""
        i, j = np.atleast_1d(i), np.atleast_1d(j)
        if i.size == 0:
            return
        cell = i * self.n + j
        old = self._flat[cell]
        # clipped to [0, 1] (np.clip's Python wrapper costs more than two ufuncs)
        new = old - np.minimum(np.maximum(rate, 0.0), 1.0) * old
        self._flat[cell] = new
        self._after_pair_update(i, j, cell, old, new)

    def diffuse(self, src: np.ndarray, dst: np.ndarray, weight: float) -> None:
        """Each firm with partners moves its trust toward its partners' average opinion
        (Ghali et al. 2017): T_i <- (1 - w) T_i + w * mean_{k in partners(i)} T_k.

        Reads the partners' rows and rewrites the rows of the firms with partners, a block of
        rows at a time, in reused work buffers (fresh slots-wide temporaries every month cost
        more in page faults than the arithmetic). Every element is the same sequence of
        operations as the dense formula, so the result is bit-identical."""
        if weight <= 0 or src.size == 0:
            return
        T, n = self._T, self.n
        edges = _sorted_unique(src * n + dst)  # a partner counts once; by firm, then partner
        e_src, e_dst = np.divmod(edges, n)
        deg = np.bincount(e_src, minlength=n)
        rows = np.flatnonzero(deg)
        rows = rows[np.argsort(-deg[rows], kind="stable")]  # most partners first
        dr = deg[rows]
        pos = np.full(n, -1)
        pos[rows] = np.arange(rows.size)
        first = (np.cumsum(deg) - deg)[rows]  # each row's first edge
        diag = T[rows, rows]
        # The edges of each row, grouped by the row's position (for the self-view fix).
        r_e = pos[e_src]
        by_row = np.argsort(r_e, kind="stable")
        out = self._work("new_rows", rows.size, n)
        # Rows in blocks small enough that a block's partner sums, opinion and new values
        # stay in the CPU cache; everything is read from T before anything is written.
        step = max(8, _BLOCK_ELEMENTS // n)
        bounds = np.searchsorted(r_e[by_row], np.arange(0, rows.size + step, step))
        for blk, a in enumerate(range(0, rows.size, step)):
            b = min(a + step, rows.size)
            # Sum of partners' rows, added one partner after the other in ascending slot
            # order, as the sparse adjacency times T did: the k-th partners of the rows with
            # more than k partners, a prefix of the block (rows come most partners first).
            # (take's mode="clip": the indices are valid, and the default mode copies
            # through a fresh temporary, which at 3000 firms costs 20 times the gather)
            total = self._take_rows(e_dst[first[a:b]], "total")
            for k in range(1, int(dr[a])):
                m = int(np.count_nonzero(dr[a:b] > k))
                total[:m] += self._take_rows(e_dst[first[a : a + m] + k], "kth")
            # A partner's self-view (the zero diagonal) is no opinion: about partner j,
            # average over the other partners only, or keep T_ij if j is the only one.
            es = by_row[bounds[blk] : bounds[blk + 1]]
            r, j, d = r_e[es] - a, e_dst[es], deg[e_src[es]]
            fix = np.where(d > 1, total[r, j] / np.maximum(d - 1, 1), T[e_src[es], j])
            opinion = np.divide(total, dr[a:b, None].astype(float), out=total)  # ints: exact
            opinion[r, j] = fix
            new = np.take(T, rows[a:b], axis=0, out=out[a:b], mode="clip")
            new *= 1.0 - weight
            opinion *= weight
            new += opinion
            new[np.arange(b - a), rows[a:b]] = diag[a:b]
            if self.incremental_means:
                self._R[rows[a:b]] = new @ self._oh  # while the block is in the cache
        T[rows] = out
        self._live[rows] = True

    def experience_plan(
        self, src: np.ndarray, dst: np.ndarray, observer: np.ndarray, observed: np.ndarray
    ) -> ExperiencePlan | None:
        """Who hears what for ``diffuse_experience``: ``src -> dst`` are the partner
        relations, ``observer -> observed`` the pairs with experience, distinct and sorted by
        observer then observed (as ``Reliability.keys``). It changes only when the partners or
        the trading relations do, so a caller keeps it between months. None: nothing to
        diffuse (no partner has traded with a third party).

        One entry per (firm, partner, partner's trading relation), in the order of the CSR
        product A @ W (firm, partner, relation ascending); the pairs come in the product's
        output order (by firm, then by last first appearance), so results and the group sums'
        update order are bit-identical to the sparse product."""
        if src.size == 0 or observer.size == 0:
            return None
        n = self.n
        edges = _sorted_unique(src * n + dst)  # a partner counts once, whatever its links
        e_i, e_k = np.divmod(edges, n)
        start = np.searchsorted(observer, np.arange(n + 1))
        cnt = (start[1:] - start[:-1])[e_k]  # the partner's trading relations
        total = int(cnt.sum())
        if total == 0:
            return None
        edge = np.repeat(np.arange(edges.size), cnt)
        idx = start[e_k][edge] + np.arange(total) - (np.cumsum(cnt) - cnt)[edge]
        key = e_i[edge] * n + observed[idx]
        pairs, first, inv = _unique_first(key)
        r, c = np.divmod(pairs, n)
        order = np.lexsort((-first, r))
        pick = order[r[order] != c[order]]  # in output order, a firm's self-trust left out
        if pick.size == 0:  # (partners that traded only with each other: no third party)
            return None
        return ExperiencePlan(
            relation=idx,
            relation_cell=observer[idx] * n + observed[idx],
            pair=inv,
            n_pairs=pairs.size,
            pick=pick,
            i=r[pick],
            j=c[pick],
            cell=pairs[pick],
        )

    def diffuse_experience(
        self, plan: ExperiencePlan | None, months: np.ndarray, weight: float
    ) -> None:
        """Only experience spreads: each firm moves its trust in a third party j toward what
        its current partners learned of j by dealing with it, weighted by their months of
        interaction (trust.diffusion_source: experience):

            T_ij <- (1 - w) T_ij + w * sum_k A_ik W_kj T_kj / sum_k A_ik W_kj

        over the pairs (i, j), i != j, where some partner k of i has traded with j (W_kj > 0
        months observed, ``months`` in the order of the plan's ``observer -> observed``);
        every other entry is unchanged. The work is the partners' trading relations, not the
        slots x slots matrix: plain numpy (scipy.sparse's construction and checks cost more
        than the arithmetic at park sizes), each pair's sums accumulated by ``bincount`` in
        the order of ``experience_plan``."""
        if weight <= 0 or plan is None:
            return
        seen_months = months[plan.relation]
        den = np.bincount(plan.pair, weights=seen_months, minlength=plan.n_pairs)[plan.pick]
        seen = seen_months * self._T.take(plan.relation_cell)
        num = np.bincount(plan.pair, weights=seen, minlength=plan.n_pairs)[plan.pick]
        r, c, cell = plan.i, plan.j, plan.cell
        heard = den > 0
        if not heard.all():
            r, c, cell, den, num = r[heard], c[heard], cell[heard], den[heard], num[heard]
        old = self._flat[cell]
        new = (1.0 - weight) * old + weight * (num / den)
        self._flat[cell] = new
        self._after_pair_update(r, c, cell, old, new, distinct=True)

    # -- indicators ------------------------------------------------------------------------
    def mean_by_group(self, alive: np.ndarray, nat: np.ndarray) -> tuple[float, float]:
        """Mean trust over ordered pairs of distinct alive firms, within and across nationality
        (``nat``: each slot's nationality code, >= 0 for alive firms). The pair counts and
        whether the kept sums answer change only with alive, nat, the live slots and the
        layout (``_nat`` with it): they are kept until one of them changes."""
        key = (self.layout, alive.tobytes(), nat.tobytes(), self._live.tobytes())
        if key != self._pairs_key:
            self._pairs_key, self._pairs = key, self._pair_counts(alive, nat)
        firms, same_pairs, cross_pairs, kept_sums = self._pairs
        if firms < 2:
            return float("nan"), float("nan")
        if kept_sums:
            # rows of slots that are not live are zero; column 0 (unknown) holds only rounding
            same_sum = float((self._R * self._oh).sum())
            cross_sum = float(self._R[:, 1:].sum()) - same_sum
        else:
            idx = np.flatnonzero(alive)
            codes, g = _codes(nat[idx])
            same_sum, cross_sum = self._dense_group_sums(idx, g, codes.size)
        s = same_sum / same_pairs if same_pairs > 0 else float("nan")
        c = cross_sum / cross_pairs if cross_pairs > 0 else float("nan")
        return s, c

    def _pair_counts(self, alive: np.ndarray, nat: np.ndarray) -> tuple[int, float, float, bool]:
        """The alive firms, their ordered pairs within and across nationality, and whether
        the kept group sums answer for (alive, nat) (``incremental_means`` and
        ``_sums_apply``)."""
        firms_nat = nat[alive]
        firms = firms_nat.size
        if firms < 2:
            return firms, 0.0, 0.0, False
        # pairs within a nationality: sum of n_g (n_g - 1) over its sizes n_g, whole numbers
        # (exact in any order)
        sizes = np.bincount(firms_nat)
        same_pairs = float(sizes @ sizes - firms)
        cross_pairs = float(firms * (firms - 1.0)) - same_pairs
        kept_sums = self.incremental_means and self._sums_apply(alive, nat)
        return firms, same_pairs, cross_pairs, kept_sums

    def _dense_group_sums(self, idx: np.ndarray, g: np.ndarray, k: int) -> tuple[float, float]:
        """Within and across sums from G^T T G, G the one-hot nationality matrix of alive
        firms: the same BLAS products as the dense code, so bit-identical (a product over a
        subset of rows may take another kernel and round differently), into a kept buffer."""
        G = np.zeros((self.n, k))
        G[idx, g] = 1.0
        sums = G.T @ np.matmul(self._T, G, out=self._work("TG", self.n, k))
        same_sum = float(np.trace(sums))
        return same_sum, float(sums.sum()) - same_sum

    def _sums_apply(self, alive: np.ndarray, nat: np.ndarray) -> bool:
        """The kept group sums answer for (alive, nat): every live slot is alive with the
        nationality init_firm saw (alive slots that are not live have zero rows and columns)."""
        return not np.count_nonzero(self._live & (~alive | (self._nat != nat)))

    # -- bookkeeping -----------------------------------------------------------------------
    def _record_nat(self, slot: int, nationality: int) -> None:
        gid = self._gid.get(nationality)
        if gid is None:
            gid = self._gid[nationality] = len(self._gid) + 1
            self._R = np.hstack([self._R, np.zeros((self.n, 1))])
            self._oh = np.hstack([self._oh, np.zeros((self.n, 1))])
        self._nat[slot] = nationality
        self._gcol[slot] = gid
        self.layout += 1
        self._oh[slot] = 0.0
        self._oh[slot, gid] = 1.0

    def _after_pair_update(
        self,
        i: np.ndarray,
        j: np.ndarray,
        cell: np.ndarray,
        old: np.ndarray,
        new: np.ndarray,
        *,
        distinct: bool = False,
        nonzero: bool = False,
        live: bool = False,
        group_cell: np.ndarray | None = None,
    ) -> None:
        """Live slots and group sums after T[i, j] (``cell``: i * n + j) changed from ``old``
        to ``new`` (pairs may repeat unless ``distinct``: the last write of a pair is what T
        holds, counted once; ``nonzero``: no new value is zero, every pair's slots become
        live; ``live``: every pair's slots are live already; ``group_cell``: the distinct
        pairs' cells in the group sums, i * (groups + 1) + group column of j, when the
        caller keeps them)."""
        once = None if distinct or i.size < 2 else count_once(cell)
        if once is not None:
            i, j, old = i[once], j[once], old[once]
            new = self._flat[cell[once]]
        if not live:
            if not nonzero:
                made = new != 0.0
                i_live, j_live = i[made], j[made]
            else:
                i_live, j_live = i, j
            self._live[i_live] = True
            self._live[j_live] = True
        if self.incremental_means:
            R = self._R
            if group_cell is None:
                group_cell = i * R.shape[1] + self._gcol[j]
            np.add.at(R.reshape(-1), group_cell, new - old)

    def _rebuild_group_sums(self) -> None:
        self._R = self.recomputed_group_sums()

    def recomputed_group_sums(self) -> FloatArray:
        """R from scratch (the reference the tests compare the kept sums with)."""
        onehot = np.zeros_like(self._oh)
        onehot[np.arange(self.n), self._gcol] = 1.0
        return self._T @ onehot

    def _take_rows(self, rows: np.ndarray, name: str) -> FloatArray:
        """T[rows] into the kept work array ``name``."""
        out = self._work(name, rows.size, self.n)
        return np.take(self._T, rows, axis=0, out=out, mode="clip")

    def _work(self, name: str, rows: int, cols: int) -> FloatArray:
        """A (rows x cols) C-contiguous work array kept between calls, grown as needed."""
        size = rows * cols
        buf = self._bufs.get(name)
        if buf is None or buf.size < size:
            grown = 0 if buf is None else buf.size + buf.size // 2
            buf = self._bufs[name] = np.empty(max(size, grown))
        return buf[:size].reshape(rows, cols)
