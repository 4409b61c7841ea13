"""The table of symbiosis links: formation records, monthly deliveries, endings.

Links are stored column-wise in growable numpy arrays so that the monthly delivery of all
active links is one vectorised allocation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PENDING, ACTIVE, ENDED = 0, 1, 2
REASONS = (
    "",
    "unprofitable",
    "trust_collapse",
    "partner_closed",
    "permit_refused",
)


class LinkTable:
    _INT = ("s", "u", "m", "status", "formed", "start", "end", "loss_months", "reason")
    _INT += ("s_uid", "u_uid")
    _FLOAT = ("q", "tonnes", "benefit_total")
    _BOOL = ("facilitated",)

    def __init__(self, capacity: int = 64):
        self.n = 0
        self._cap = capacity
        for k in self._INT:
            setattr(self, k, np.zeros(capacity, dtype=np.int64))
        for k in self._FLOAT:
            setattr(self, k, np.zeros(capacity))
        for k in self._BOOL:
            setattr(self, k, np.zeros(capacity, dtype=bool))

    def _grow(self, need: int) -> None:
        cap = max(self._cap * 2, need)
        for k in self._INT + self._FLOAT + self._BOOL:
            old = getattr(self, k)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, k, new)
        self._cap = cap

    def add(self, s, u, m, q, step, start, s_uid, u_uid, facilitated) -> np.ndarray:
        """Append links (arrays); returns their row ids."""
        k = len(s)
        if self.n + k > self._cap:
            self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        self.s[sl], self.u[sl], self.m[sl], self.q[sl] = s, u, m, q
        self.status[sl] = np.where(np.asarray(start) > step, PENDING, ACTIVE)
        self.formed[sl] = step
        self.start[sl] = start
        self.end[sl] = -1
        self.s_uid[sl], self.u_uid[sl] = s_uid, u_uid
        self.facilitated[sl] = facilitated
        self.n += k
        return np.arange(sl.start, sl.stop)

    def rows(self, status: int) -> np.ndarray:
        return np.flatnonzero(self.status[: self.n] == status)

    def end_links(self, rows: np.ndarray, step: int, reason: str) -> None:
        rows = rows[self.status[rows] != ENDED]
        self.status[rows] = ENDED
        self.end[rows] = step
        self.reason[rows] = REASONS.index(reason)

    def committed(self, n_slots: int, n_mat: int) -> tuple[np.ndarray, np.ndarray]:
        """Contracted monthly quantity per (supplier, material) and (user, material)
        over active and pending links."""
        r = np.flatnonzero(self.status[: self.n] != ENDED)
        out = np.bincount(self.s[r] * n_mat + self.m[r], self.q[r], n_slots * n_mat)
        inn = np.bincount(self.u[r] * n_mat + self.m[r], self.q[r], n_slots * n_mat)
        return out.reshape(n_slots, n_mat), inn.reshape(n_slots, n_mat)

    def deliver(
        self, supply: np.ndarray, demand_factor: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Allocate this month's realised supply to active links.

        Each link wants its contracted q scaled by the user's demand factor this month;
        where a supplier's links want more than it produced, all are cut in proportion.
        Returns (rows, delivered, wanted, shortfall fraction)."""
        rows = self.rows(ACTIVE)
        if rows.size == 0:
            z = np.zeros(0)
            return rows, z, z, z
        n_slots, n_mat = supply.shape
        s, u, m = self.s[rows], self.u[rows], self.m[rows]
        want = self.q[rows] * demand_factor[u, m]
        g = s * n_mat + m
        total = np.bincount(g, want, n_slots * n_mat)
        avail = supply.ravel()
        scale = np.divide(avail, total, out=np.ones_like(total), where=total > 0)
        delivered = want * np.minimum(scale[g], 1.0)
        short = np.divide(want - delivered, want, out=np.zeros_like(want), where=want > 0)
        self.tonnes[rows] += delivered
        return rows, delivered, want, short

    def to_frame(self, uid_names: dict[int, tuple[str, str]], materials) -> pd.DataFrame:
        """One row per link (partners, material, start, end, tonnes, reason ended)."""
        n = self.n
        s_uid, u_uid = self.s_uid[:n], self.u_uid[:n]
        status = np.array(["pending", "active", "ended"])[self.status[:n]]
        return pd.DataFrame(
            {
                "link_id": np.arange(n),
                "supplier_id": s_uid,
                "user_id": u_uid,
                "supplier_name": [uid_names[i][0] for i in s_uid],
                "user_name": [uid_names[i][0] for i in u_uid],
                "supplier_sector": [uid_names[i][1] for i in s_uid],
                "user_sector": [uid_names[i][1] for i in u_uid],
                "material": np.asarray(materials, dtype=object)[self.m[:n]],
                "contracted_per_month": self.q[:n],
                "formed_step": self.formed[:n],
                "start_step": self.start[:n],
                "end_step": np.where(self.end[:n] >= 0, self.end[:n], -1),
                "status": status,
                "tonnes": self.tonnes[:n],
                "benefit_usd": self.benefit_total[:n],
                "facilitated": self.facilitated[:n],
                "reason_ended": np.asarray(REASONS, dtype=object)[self.reason[:n]],
            }
        )
