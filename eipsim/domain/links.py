"""The table of symbiosis links: formation records, monthly deliveries, endings.

Links are stored column-wise in growable numpy arrays so that the monthly delivery of all
active links is one vectorised allocation. Every column is declared below with its type,
so that mypy and an editor see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd

from eipsim.domain.state import FirmRegistry
from eipsim.domain.types import BoolArray, FloatArray, IntArray

# Link status codes, stored in ``LinkTable.status``.
PENDING, ACTIVE, ENDED = 0, 1, 2
STATUS_NAMES = ("pending", "active", "ended")
REASONS = (
    "",
    "unprofitable",
    "trust_collapse",
    "partner_closed",
    "permit_refused",
)


def _ints() -> IntArray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class ActiveLinks:
    """The active links and their fixed columns (``LinkTable.active``), gathered once per
    change of the active rows: deliveries, trust, RECP and the indicators read them every
    month. One object stands for one set of active rows: callers key what they derive from
    it on its identity (``is``), which ``LinkTable.active`` guarantees (see there)."""

    rows: IntArray
    s: IntArray
    u: IntArray
    m: IntArray
    supplier_stream: IntArray  # s * M + m: the link's (supplier, material) entry, flat
    user_stream: IntArray  # u * M + m
    # the links' distinct (supplier, material) entries, and each link's among them: a
    # supplier's output is shared among its links of a material
    stream_of_group: IntArray
    group: IntArray


@dataclass
class LinkTable:
    """One row per link ever formed; rows are never removed (an ended link keeps its row)."""

    s: IntArray = field(default_factory=_ints)  # supplier's plot slot
    u: IntArray = field(default_factory=_ints)  # user's plot slot
    m: IntArray = field(default_factory=_ints)  # material index
    status: IntArray = field(default_factory=_ints)  # PENDING, ACTIVE or ENDED
    formed: IntArray = field(default_factory=_ints)  # month agreed
    start: IntArray = field(default_factory=_ints)  # month deliveries start (after a permit)
    end: IntArray = field(default_factory=_ints)  # month ended, -1 while not ended
    loss_months: IntArray = field(default_factory=_ints)  # consecutive months at a loss
    reason: IntArray = field(default_factory=_ints)  # index into REASONS
    s_uid: IntArray = field(default_factory=_ints)  # supplier's agent id (outlives the slot)
    u_uid: IntArray = field(default_factory=_ints)
    q: FloatArray = field(default_factory=lambda: np.zeros(0))  # contracted units per month
    tonnes: FloatArray = field(default_factory=lambda: np.zeros(0))  # delivered, cumulative
    benefit_total: FloatArray = field(default_factory=lambda: np.zeros(0))  # USD, cumulative
    facilitated: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    contract: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # written
    # USD, cumulative: the part of benefit_total that is levies avoided and subsidies received
    transfers_total: FloatArray = field(default_factory=lambda: np.zeros(0))
    # km between the partners' plots, as priced at formation (fixed: delivery reads it;
    # NaN where the caller did not give it)
    dist_km: FloatArray = field(default_factory=lambda: np.zeros(0))
    n: int = 0  # rows in use; the arrays hold spare capacity beyond it

    def __post_init__(self) -> None:
        self._columns = tuple(f.name for f in fields(self) if f.name != "n")
        self._grow(64)
        # the active links, and the statuses and material count they were gathered for
        self._active: ActiveLinks | None = None
        self._active_key = b""
        # ``committed``'s sums, and the shape, statuses and quantities they are of
        self._committed_key: tuple[int, int, int, bytes, bytes] | None = None
        self._committed: tuple[FloatArray, FloatArray] = (np.zeros((0, 0)), np.zeros((0, 0)))

    def _grow(self, need: int) -> None:
        cap = max(2 * len(self.s), need)
        for k in self._columns:
            old = getattr(self, k)
            new = np.zeros(cap, dtype=old.dtype)
            new[: self.n] = old[: self.n]
            setattr(self, k, new)

    def add(
        self,
        s: IntArray,
        u: IntArray,
        m: IntArray,
        q: FloatArray,
        step: int,
        start: IntArray,
        s_uid: IntArray,
        u_uid: IntArray,
        facilitated: BoolArray,
        contract: BoolArray | bool = False,
        dist_km: FloatArray | None = None,
    ) -> IntArray:
        """Append links (arrays); returns their row ids."""
        k = len(s)
        if self.n + k > len(self.s):
            self._grow(self.n + k)
        sl = slice(self.n, self.n + k)
        self.s[sl], self.u[sl], self.m[sl], self.q[sl] = s, u, m, q
        self.status[sl] = np.where(np.asarray(start) > step, PENDING, ACTIVE)
        self.formed[sl] = step
        self.start[sl] = start
        self.end[sl] = -1
        self.s_uid[sl], self.u_uid[sl] = s_uid, u_uid
        self.facilitated[sl] = facilitated
        self.contract[sl] = contract
        self.dist_km[sl] = np.nan if dist_km is None else dist_km  # NaN: from the plots
        self.n += k
        return np.arange(self.n - k, self.n)

    def rows(self, status: int) -> IntArray:
        """Row ids of the links with this status (``nonzero`` of a 1-D mask: np.flatnonzero
        without its wrappers, several calls a month)."""
        rows: IntArray = (self.status[: self.n] == status).nonzero()[0]
        return rows

    def active(self, n_mat: int) -> ActiveLinks:
        """The active links (``ActiveLinks``; kept until a status changes, whatever wrote it).

        The identity guarantee callers rely on: the same object is returned while the
        active rows and ``n_mat`` are the same, and a new object whenever they change, so
        what callers keep for it, keyed on ``is`` (the model's link terms and diffusion
        plan, the indicators' ``LinkTermsMemo``), is never stale, and a status change that
        leaves the active rows as they were (a link added as pending, a pending one refused)
        keeps it valid. Callers must ask with the same ``n_mat`` (the model's): another count
        gives another object."""
        key = self.status[: self.n].tobytes() + n_mat.to_bytes(4, "little")
        if self._active is None or self._active_key != key:
            rows = self.rows(ACTIVE)
            kept, kept_key = self._active, self._active_key
            self._active_key = key
            if (
                kept is not None
                and kept_key[-4:] == key[-4:]  # the same material count
                and kept.rows.tobytes() == rows.tobytes()
            ):
                return kept
            s, u, m = self.s[rows], self.u[rows], self.m[rows]
            supplier_stream = s * n_mat + m
            stream_of_group, group = np.unique(supplier_stream, return_inverse=True)
            self._active = ActiveLinks(
                rows, s, u, m, supplier_stream, u * n_mat + m, stream_of_group, group
            )
        return self._active

    def live_rows(self) -> IntArray:
        """Active and pending links: the ones that hold a contract."""
        rows: IntArray = (self.status[: self.n] != ENDED).nonzero()[0]
        return rows

    def touching(self, slot: int) -> IntArray:
        """Live links of which the firm on ``slot`` is a partner."""
        n = self.n
        return np.flatnonzero(
            (self.status[:n] != ENDED) & ((self.s[:n] == slot) | (self.u[:n] == slot))
        )

    def end_links(self, rows: IntArray, step: int, reason: str) -> None:
        if rows.size == 0:  # (most leavers have no live link: nothing to write)
            return
        rows = rows[self.status[rows] != ENDED]
        self.status[rows] = ENDED
        self.end[rows] = step
        self.reason[rows] = REASONS.index(reason)

    def committed(
        self, n_slots: int, n_mat: int, live: IntArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Contracted monthly quantity per (supplier, material) and (user, material)
        over active and pending links (``live``: their rows, when the caller has them).

        Several callers ask each month, and the sums change only when a link is added, ends
        or is renegotiated: they are kept (read-only) until the table's statuses or
        quantities change (a row's partners and material never do)."""
        n = self.n
        key = (n_slots, n_mat, n, self.status[:n].tobytes(), self.q[:n].tobytes())
        if key != self._committed_key:
            r = self.live_rows() if live is None else live
            out = np.bincount(self.s[r] * n_mat + self.m[r], self.q[r], n_slots * n_mat)
            inn = np.bincount(self.u[r] * n_mat + self.m[r], self.q[r], n_slots * n_mat)
            out.flags.writeable = inn.flags.writeable = False
            self._committed_key = key
            self._committed = out.reshape(n_slots, n_mat), inn.reshape(n_slots, n_mat)
        return self._committed

    def deliver(
        self, active: ActiveLinks, supply: FloatArray, demand_factor: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Allocate this month's realised supply (slots x materials) to the ``active`` links.

        Each link wants its contracted q scaled by the user's demand factor this month;
        where a supplier's links want more than it produced, all are cut in proportion.
        Returns (delivered, wanted, shortfall fraction), one entry per active link."""
        want = self.q[active.rows] * demand_factor.take(active.user_stream)
        group = active.group
        total = np.bincount(group, want, active.stream_of_group.size)  # wanted per stream
        avail = supply.take(active.stream_of_group)
        # the share each link gets: all it wants, or avail / total where the supplier is
        # short (there total > avail >= 0)
        share = np.divide(avail, total, out=np.ones_like(total), where=avail < total)
        delivered = want * share[group]
        short = np.divide(want - delivered, want, out=np.zeros_like(want), where=want > 0)
        self.tonnes[active.rows] += delivered
        return delivered, want, short

    def to_frame(
        self,
        firms: FirmRegistry,
        materials: Sequence[str],
        distance_km: FloatArray | None = None,
        units: Sequence[str] | np.ndarray | None = None,
    ) -> pd.DataFrame:
        """One row per link (partners, material, start, end, tonnes, reason ended), then the
        partners' nationalities, the link's social benefit (``benefit_usd`` less levies avoided
        and subsidies, §7.17) and, given one per link, its haulage distance and, given one per
        material, its unit: one frame of all the columns (a column added to a built frame
        costs as much as a tenth of the frame)."""
        n = self.n
        s_uid, u_uid, m = self.s_uid[:n], self.u_uid[:n], self.m[:n]
        sup = [firms.identity(i) for i in s_uid]
        use = [firms.identity(i) for i in u_uid]
        columns = {
            "link_id": np.arange(n),
            "supplier_id": s_uid,
            "user_id": u_uid,
            "supplier_name": [f.name for f in sup],
            "user_name": [f.name for f in use],
            "supplier_sector": [f.sector for f in sup],
            "user_sector": [f.sector for f in use],
            "material": np.asarray(materials, dtype=object)[m],
            "contracted_per_month": self.q[:n],
            "formed_step": self.formed[:n],
            "start_step": self.start[:n],
            "end_step": np.where(self.end[:n] >= 0, self.end[:n], -1),
            "status": np.array(STATUS_NAMES)[self.status[:n]],
            "tonnes": self.tonnes[:n],
            "benefit_usd": self.benefit_total[:n],
            "facilitated": self.facilitated[:n],
            "contract": self.contract[:n],
            "reason_ended": np.asarray(REASONS, dtype=object)[self.reason[:n]],
            "supplier_nationality": [f.nationality for f in sup],
            "user_nationality": [f.nationality for f in use],
            "social_benefit_usd": self.benefit_total[:n] - self.transfers_total[:n],
        }
        if distance_km is not None:
            columns["distance_km"] = np.asarray(distance_km, dtype=float)
        if units is not None:
            columns["unit"] = np.asarray(units, dtype=object)[m].tolist()  # as the other lists
        return pd.DataFrame(columns)


@dataclass
class LinkFlows:
    """What the active links moved this month."""

    out: FloatArray  # (N, M) delivered by supplier
    inn: FloatArray  # (N, M) received by user
    by_material: FloatArray  # (M,)
    benefit_usd: float = 0.0
    # of benefit_usd, the transfers (§7.17): levies the suppliers no longer pay, and the
    # exchange and capital subsidies the links receive
    levy_avoided_usd: float = 0.0
    subsidy_usd: float = 0.0

    @classmethod
    def empty(cls, n: int, m: int) -> LinkFlows:
        return cls(np.zeros((n, m)), np.zeros((n, m)), np.zeros(m))

    @classmethod
    def of(
        cls,
        active: ActiveLinks,
        shape: tuple[int, int],
        delivered: FloatArray,
        benefit: FloatArray,
    ) -> LinkFlows:
        """What the ``active`` links moved, having delivered ``delivered`` and earned
        ``benefit`` (``shape``: slots x materials; the transfers are added after)."""
        n, M = shape
        out = np.bincount(active.supplier_stream, delivered, n * M).reshape(n, M)
        inn = np.bincount(active.user_stream, delivered, n * M).reshape(n, M)
        by_material = np.bincount(active.m, delivered, M)
        return cls(out, inn, by_material, float(benefit.sum()))

    def add_transfers(self, levy_avoided: FloatArray, subsidy: FloatArray) -> None:
        self.levy_avoided_usd += float(levy_avoided.sum())
        self.subsidy_usd += float(subsidy.sum())
