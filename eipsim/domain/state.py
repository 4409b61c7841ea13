"""Per-plot arrays of firm state (structure of arrays, indexed by plot slot)."""

from __future__ import annotations

import numpy as np


class FirmState:
    def __init__(self, n_slots: int, n_mat: int):
        n = n_slots
        self.alive = np.zeros(n, dtype=bool)
        self.uid = np.full(n, -1, dtype=np.int64)
        self.sector = np.full(n, -1, dtype=np.int64)
        self.nat = np.full(n, -1, dtype=np.int64)
        self.size = np.zeros(n)
        self.conf = np.zeros(n)
        self.hurdle = np.zeros(n)
        self.trust_op = np.zeros(n)
        self.listed = np.zeros(n, dtype=bool)
        self.recp_aware = np.zeros(n, dtype=bool)
        self.recp_applied = np.zeros(n, dtype=bool)
        self.recp_payback = np.zeros(n)  # this firm's acceptable payback, years
        self.recp_cost_factor = np.ones(n)
        self.entered = np.zeros(n, dtype=np.int64)
        self.raw_supply = np.zeros((n, n_mat))  # before RECP
        self.base_supply = np.zeros((n, n_mat))  # expected monthly supply after RECP
        self.base_demand = np.zeros((n, n_mat))
        self.known = np.zeros((n, n), dtype=bool)
        self.facilitated = np.zeros((n, n), dtype=bool)

    def clear(self, slot: int) -> None:
        for name in ("alive", "listed", "recp_aware", "recp_applied"):
            getattr(self, name)[slot] = False
        for name in ("size", "conf", "hurdle", "trust_op", "recp_payback"):
            getattr(self, name)[slot] = 0.0
        self.uid[slot] = self.sector[slot] = self.nat[slot] = -1
        self.raw_supply[slot] = self.base_supply[slot] = self.base_demand[slot] = 0.0
        self.known[slot, :] = self.known[:, slot] = False
        self.facilitated[slot, :] = self.facilitated[:, slot] = False
