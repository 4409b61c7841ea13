"""Reliability beliefs: how often a firm expects a partner to fail a delivery (or an uptake).

Each firm holds a Beta-Bernoulli belief about each partner's monthly failure rate,
learned from delivery history (docs/ODD.md, "Risk and reliability"). The prior comes from
trust: a partner trusted at T is believed to fail at rate ``phi * (1 - T)`` a month, with
the weight of ``kappa`` months of observation; every month of delivery on a link adds one
observation, a failure being a shortfall beyond what the stream's known variability
explains. The posterior mean failure rate is

    p_ij = (kappa * phi * (1 - T_ij) + f_ij) / (kappa + n_ij)

with f_ij failures in n_ij observed months. Only pairs that have traded hold counts, so the
store is sparse: sorted pair keys with their counts.
"""

from __future__ import annotations

import numpy as np

from eipsim.domain.types import BoolArray, FloatArray, IntArray


class Reliability:
    """Delivery history per ordered pair (observer i about partner j), sparse."""

    def __init__(self, n_slots: int):
        self.n = n_slots
        self.keys: IntArray = np.zeros(0, dtype=np.int64)  # i * n + j, sorted
        self.months: FloatArray = np.zeros(0)  # observed months
        self.failures: FloatArray = np.zeros(0)
        # observe_keys' last look-up: (key array, store keys, positions, observations per pair)
        self._lookup: tuple[IntArray, IntArray, IntArray, FloatArray] | None = None

    def _find(self, key: IntArray) -> tuple[IntArray, BoolArray]:
        at = np.minimum(np.searchsorted(self.keys, key), self.keys.size - 1)
        return at, self.keys[at] == key

    def observe(self, i: IntArray, j: IntArray, failed: BoolArray) -> None:
        """One month of observation per (i, j) entry; several links of a pair each count."""
        self.observe_keys(i.astype(np.int64) * self.n + j, failed)

    def observe_keys(self, key: IntArray, failed: BoolArray) -> None:
        """``observe`` of the pairs with keys i * n + j. Given the same (unchanging) key
        array month after month, the look-up of its pairs is kept while no new pair trades:
        then each month adds the counts, whole numbers, in place (exact in any order)."""
        if key.size == 0:
            return
        if self._lookup is not None and self._lookup[0] is key and self._lookup[1] is self.keys:
            at, per_pair = self._lookup[2], self._lookup[3]
        elif self.keys.size and (found := self._find(key))[1].all():
            at = found[0]
            per_pair = np.bincount(at, minlength=self.keys.size).astype(float)
            self._lookup = (key, self.keys, at, per_pair)
        else:
            old = self.keys.size
            keys, where = np.unique(np.concatenate([self.keys, key]), return_inverse=True)
            months, failures = np.zeros(keys.size), np.zeros(keys.size)
            months[where[:old]], failures[where[:old]] = self.months, self.failures
            np.add.at(months, where[old:], 1.0)
            np.add.at(failures, where[old:], failed.astype(float))
            self.keys, self.months, self.failures = keys, months, failures
            return
        self.months += per_pair
        if failed.any():
            self.failures += np.bincount(at, weights=failed, minlength=self.keys.size)

    def counts(self, i: IntArray, j: IntArray) -> tuple[FloatArray, FloatArray]:
        """(observed months, failures) of i about j; zero where they never traded."""
        if self.keys.size == 0:
            return np.zeros(i.size), np.zeros(i.size)
        at, found = self._find(i.astype(np.int64) * self.n + j)
        return np.where(found, self.months[at], 0.0), np.where(found, self.failures[at], 0.0)

    def failure_rate(
        self, i: IntArray, j: IntArray, trust_ij: FloatArray, phi: float, kappa: float
    ) -> FloatArray:
        """Posterior mean monthly failure rate of j as i believes it."""
        months, failures = self.counts(i, j)
        rate: FloatArray = (kappa * phi * (1.0 - trust_ij) + failures) / (kappa + months)
        return rate

    def failure_rates(
        self,
        s: IntArray,
        u: IntArray,
        trust_su: FloatArray,
        trust_us: FloatArray,
        phi: float,
        kappa: float,
    ) -> tuple[FloatArray, FloatArray]:
        """``failure_rate`` both ways over candidate links s -> u, in one look-up (a
        negotiation asks each month): (u's belief about s, s's belief about u)."""
        n = s.size
        rate = self.failure_rate(
            np.concatenate([u, s]),
            np.concatenate([s, u]),
            np.concatenate([trust_us, trust_su]),
            phi,
            kappa,
        )
        return rate[:n], rate[n:]

    def clear(self, slot: int) -> None:
        """Forget a firm that left (as observer and as partner)."""
        if self.keys.size == 0:
            return
        i, j = np.divmod(self.keys, self.n)
        keep = (i != slot) & (j != slot)
        if keep.all():  # it never traded: the store (and look-ups kept of it) stays
            return
        self.keys, self.months, self.failures = (
            self.keys[keep],
            self.months[keep],
            self.failures[keep],
        )
