"""Firm state: per-plot arrays (structure of arrays, indexed by plot slot) and identities.

The pair economics and trust updates are vectorised over slots, so a firm's numbers live
here; the Mesa ``Firm`` agent is its identity and a readable view of these arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from eipsim.domain.types import BoolArray, FloatArray, IntArray


class FirmState:
    def __init__(self, n_slots: int, n_mat: int):
        n = n_slots
        self.alive: BoolArray = np.zeros(n, dtype=bool)
        self.uid: IntArray = np.full(n, -1, dtype=np.int64)
        self.sector: IntArray = np.full(n, -1, dtype=np.int64)
        self.nat: IntArray = np.full(n, -1, dtype=np.int64)
        self.size: FloatArray = np.zeros(n)
        self.conf: FloatArray = np.zeros(n)  # parent-company confidentiality, 0..1
        self.hurdle: FloatArray = np.zeros(n)  # required expected margin over the gain
        self.trust_op: FloatArray = np.zeros(n)  # trust in the operator's infrastructure
        # the trust in the operator this firm needs before it connects to a shared facility
        self.op_threshold: FloatArray = np.zeros(n)
        self.listed: BoolArray = np.zeros(n, dtype=bool)  # on the waste-information platform
        # saw a paying candidate this month (worked out in the months of an assessment, its
        # only reader: ``EIPModel._search_and_form``)
        self.planning: BoolArray = np.zeros(n, dtype=bool)
        self.recp_aware: BoolArray = np.zeros(n, dtype=bool)
        self.recp_applied: BoolArray = np.zeros(n, dtype=bool)
        self.recp_payback: FloatArray = np.zeros(n)  # this firm's acceptable payback, years
        self.recp_cost_factor: FloatArray = np.ones(n)
        self.entered: IntArray = np.zeros(n, dtype=np.int64)
        self.raw_supply: FloatArray = np.zeros((n, n_mat))  # before RECP
        self.base_supply: FloatArray = np.zeros((n, n_mat))  # expected monthly supply after RECP
        self.base_demand: FloatArray = np.zeros((n, n_mat))
        self.known: BoolArray = np.zeros((n, n), dtype=bool)  # knows of the other's streams
        self.facilitated: BoolArray = np.zeros((n, n), dtype=bool)  # introduced by a broker

    def clear(self, slot: int) -> None:
        """Empty a plot when its firm leaves."""
        for flag in (self.alive, self.listed, self.recp_aware, self.recp_applied):
            flag[slot] = False
        for value in (
            self.size,
            self.conf,
            self.hurdle,
            self.trust_op,
            self.op_threshold,
            self.recp_payback,
        ):
            value[slot] = 0.0
        self.uid[slot] = self.sector[slot] = self.nat[slot] = -1
        self.raw_supply[slot] = self.base_supply[slot] = self.base_demand[slot] = 0.0
        self.known[slot, :] = self.known[:, slot] = False
        self.facilitated[slot, :] = self.facilitated[:, slot] = False


# Slot indices of firms, or ``slice(None)``: every plot (gathers nothing).
Slots = IntArray | slice
EVERY_PLOT = slice(None)


def pair_block(flags: BoolArray, rows: Slots, cols: Slots) -> BoolArray:
    """``flags[np.ix_(rows, cols)]`` of a slots x slots matrix, taken along the shorter index
    first (whole rows, or whole columns): a few times faster than np.ix_'s element by
    element gather on the blocks the search asks for. With ``EVERY_PLOT`` on one side it is
    a plain gather of rows (or columns)."""
    if isinstance(rows, slice) or isinstance(cols, slice):
        whole: BoolArray = flags[rows, cols]
        return whole
    if rows.size <= cols.size:
        block: BoolArray = flags[rows][:, cols]
    else:
        block = np.take(flags, cols, axis=1)[rows]
    return block


@dataclass(frozen=True)
class FirmIdentity:
    """Who a firm is: kept after it leaves, so that its links can still be named."""

    uid: int
    name: str
    sector: str
    nationality: str


class FirmRegistry:
    """The one record of firm identities, by agent id (the agents read theirs from here)."""

    def __init__(self) -> None:
        self._by_uid: dict[int, FirmIdentity] = {}

    def add(self, identity: FirmIdentity) -> None:
        self._by_uid[identity.uid] = identity

    def identity(self, uid: Any) -> FirmIdentity:
        return self._by_uid[int(uid)]

    def __len__(self) -> int:
        return len(self._by_uid)
