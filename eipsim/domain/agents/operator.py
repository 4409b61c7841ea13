"""The park operator: information bridge, matchmaker, landlord and infrastructure owner."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from eipsim.domain import behaviour
from eipsim.domain.economics import Candidates, pair_economics
from eipsim.domain.facilities import Facility, Flows, ParkNow, make_facility
from eipsim.domain.indicators import PRODUCTS
from eipsim.domain.types import BoolArray, FloatArray
from eipsim.scenario.schema import OperatorConfig

if TYPE_CHECKING:
    from eipsim.domain.model import EIPModel


class Operator(mesa.Agent):
    model: EIPModel

    def __init__(self, model: EIPModel):
        super().__init__(model)
        sc, cat, park = model.sc, model.catalogue, model.park
        self.cfg: OperatorConfig = sc.operator
        specs = self.cfg.shared_infrastructure
        self.facilities: list[Facility] = []
        self.mandated: list[bool] = []
        options = {"solar_sizing": self.cfg.solar_sizing}
        for i, f in enumerate(specs):
            x = (i + 1) * park.width // (len(specs) + 1)
            slot = (park.height - 1) * park.width + min(x, park.width - 1)
            fac = make_facility(f.kind, cat.facilities[f.kind], cat.materials, f.build_step, slot)
            fac.configure(options)
            self.facilities.append(fac)
            self.mandated.append(f.mandated)
        self.cash_usd = 0.0
        # what no facility moves (read-only): a month's flows without facilities
        self.no_flows = Flows.empty(len(cat.materials))
        no = self.no_flows
        for a in (no.recovered, no.intake, no.to_firms, no.outside):
            a.flags.writeable = False
        # -- decisions (issue 8, item 8) ------------------------------------------------------
        self.appraisals: list[tuple[int, str, float, bool]] = []  # (month, kind, NPV, built)
        self._next_appraisal: dict[int, int] = {}  # facility index -> month of its next one
        self.shared_plots: BoolArray = np.zeros(park.n_plots, dtype=bool)
        self.rejected_waste_intensive = 0
        self._solid_per_size = self._solid_intensity()
        self.platform_active = False
        self.platform_effective = False
        self.usage_share = 0.0
        self._browsing: BoolArray | None = None
        self._screen_quota = 0.0
        epy = self.cfg.matchmaking_events_per_year
        self.event_months = {int(np.ceil(12 * (k + 1) / epy)) for k in range(epy)} if epy else set()
        self.events_held = 0
        self.last_event_attendance = 0  # firms at the latest event (DEEP C: a 50-firm workshop)
        self.firms_screened = 0  # RECP screenings so far (DEEP C: 26 firms)

    # -- monthly ------------------------------------------------------------------------------
    def begin_month(self, t: int) -> None:
        st = self.model.state
        for fac, mandated in zip(self.facilities, self.mandated, strict=True):
            if mandated and not fac.built and t >= fac.build_step and self.can_pay(fac):
                self._build(fac)
        if self.cfg.shared_land_target is not None:
            self._convert_land(self.cfg.shared_land_target)
        self._update_platform(t)
        month_of_year = (t - 1) % 12 + 1
        if month_of_year in self.event_months:
            self.hold_event()
        self.cash_usd += self.cfg.rent_usd_per_plot_month * np.count_nonzero(st.alive)
        self._screen()

    def _build(self, fac: Facility) -> None:
        m = self.model
        fac.built = True
        share = m.sc.government.capex_subsidy_share
        self.cash_usd -= fac.capex_usd * (1.0 - share)
        m.government.pay_capex_subsidy(fac.capex_usd)
        if fac.network:
            # piped links can use the operator's network for a connection fee
            m.connection_usd[fac.materials[0]] = fac.spec["connection_usd"]

    def own_capex(self, fac: Facility) -> float:
        """What building ``fac`` costs the operator, net of the capital subsidy."""
        return fac.capex_usd * (1.0 - self.model.sc.government.capex_subsidy_share)

    def can_pay(self, fac: Facility) -> bool:
        """Cash plus the credit line covers the operator's share of the capex."""
        return self.cash_usd + self.cfg.credit_line_usd >= self.own_capex(fac) - 1e-9

    def _appraise(self, park: ParkNow, t: int) -> None:
        """In its first month from build_step on, and every 12 months after, the operator
        appraises each facility it is not mandated to build: NPV of the net fees the firms
        that would connect now would pay, over costs.horizon_months at costs.annual_interest,
        against its capex net of the capital subsidy. It builds when NPV > 0 and it can pay
        (cash + credit line)."""
        econ = self.model.econ
        for i, (fac, mandated) in enumerate(zip(self.facilities, self.mandated, strict=True)):
            due = self._next_appraisal.get(i, fac.build_step)
            if mandated or fac.built or t < due:
                continue
            self._next_appraisal[i] = t + 12
            npv = fac.npv(park, econ)
            build = npv > 0 and self.can_pay(fac)
            self.appraisals.append((t, fac.kind, npv, build))
            if build:
                self._build(fac)

    # -- shared land (operator.shared_land_target) -------------------------------------------
    @property
    def plot_land_share(self) -> float:
        """Share of park land one plot is: plots are the park's land outside its planned
        shared land (park.shared_land_share)."""
        m = self.model
        return (1.0 - m.sc.park.shared_land_share) / m.park.n_plots

    @property
    def converted_land_share(self) -> float:
        return float(np.count_nonzero(self.shared_plots)) * self.plot_land_share

    def shared_land_share(self) -> float:
        """The park's shared land now: planned, facilities' and converted plots."""
        fac = sum(f.land_share for f in self.facilities if f.built)
        return self.model.sc.park.shared_land_share + fac + self.converted_land_share

    def _convert_land(self, target: float) -> None:
        """Turn vacant plots into green space, roads or shared services until the park's
        shared land reaches ``target``, those nearest the bottom edge (where the shared
        facilities stand) first. A converted plot is never leased again: its rent is
        forgone for good."""
        st = self.model.state
        short = target - self.shared_land_share()
        if short <= 1e-12:
            return
        n = int(np.ceil(short / self.plot_land_share - 1e-9))
        free = np.flatnonzero(~st.alive & ~self.shared_plots)
        self.shared_plots[free[::-1][:n]] = True

    def _update_platform(self, t: int) -> None:
        p, st = self.cfg.platform, self.model.state
        self.platform_active = p.enabled and t >= p.launch_step
        if not self.platform_active:
            st.listed[:] = False
            self.platform_effective = False
            return
        limit = p.anonymised_listing_limit if p.anonymised else p.listing_limit
        has_streams = (st.base_supply.sum(axis=1) + st.base_demand.sum(axis=1)) > 0
        st.listed[:] = behaviour.lists_on_platform(st.alive, has_streams, st.conf, limit)
        n_alive = max(int(st.alive.sum()), 1)
        self.usage_share = float(st.listed.sum()) / n_alive
        # Network effect (Fraccascia 2020): below a minimum usage nobody consults it; above,
        # the chance a firm browses grows with the share of firms listed.
        self.platform_effective = self.usage_share >= p.min_usage_share
        if self.platform_effective:
            self._browsing = st.alive & (self.model.rng.random(st.alive.size) < self.usage_share)

    def platform_view(self) -> tuple[BoolArray, BoolArray] | None:
        if not self.platform_effective or self._browsing is None:
            return None
        return self.model.state.listed, self._browsing

    def shares_cost_data(self) -> bool:
        return self.platform_effective and self.cfg.platform.shares_cost_data

    def hold_event(self) -> None:
        """A matchmaking event: attendees meet a few others, learn of them and trust them a
        little more; attending also raises trust in the operator."""
        m, st, tr = self.model, self.model.state, self.model.sc.trust
        att = np.flatnonzero(st.alive & (m.rng.random(st.alive.size) < self.cfg.event_attendance))
        self.events_held += 1
        self.last_event_attendance = int(att.size)
        if att.size < 2:
            return
        k = min(self.cfg.contacts_per_event, att.size - 1)
        a = np.repeat(att, k)
        b = att[m.rng.integers(0, att.size, size=a.size)]
        keep = a != b
        a, b = a[keep], b[keep]
        st.known[a, b] = st.known[b, a] = True
        m.trust.raise_toward_one(a, b, tr.event_boost)
        m.trust.raise_toward_one(b, a, tr.event_boost)
        st.trust_op[att] += tr.event_boost * (1.0 - st.trust_op[att])

    def _screen(self) -> None:
        """RECP screening (DEEP C screened 26 firms): screened firms become aware, and the
        assessment finds cheaper options (cost factor x 0.8, assumed)."""
        self._screen_quota += self.cfg.recp_screening_per_year / 12.0
        k = int(self._screen_quota)
        if k == 0:
            return
        self._screen_quota -= k
        m, st = self.model, self.model.state
        pool = np.flatnonzero(st.alive & ~st.recp_applied)
        if pool.size == 0:
            return
        pick = m.rng.choice(pool, size=min(k, pool.size), replace=False)
        self.firms_screened += int(pick.size)
        st.recp_aware[pick] = True
        st.recp_cost_factor[pick] *= 0.8

    def run_facilities(self, park: ParkNow) -> Flows:
        """Each built facility connects willing firms and operates; users' trust in the
        operator grows with the service."""
        total = Flows.empty(park.res_supply.shape[1])
        st, tr, econ = self.model.state, self.model.sc.trust, self.model.econ
        if not all(self.mandated):
            self._appraise(park, self.model.steps)
        for fac in self.facilities:
            fl = fac.step(park, econ)
            total.recovered += fl.recovered
            total.intake += fl.intake
            total.solar_mwh += fl.solar_mwh
            total.benefit_usd += fl.benefit_usd
            self.cash_usd += fl.revenue_usd - fl.opex_usd
            if fac.built and fac.users:
                users = fac.user_slots()
                st.trust_op[users] += 0.5 * tr.delivery_gain * (1.0 - st.trust_op[users])
        return total

    def fit_score(self, sector: str, size: float = 1.0) -> float:
        """Share of a prospect's streams for which some current tenant would be a paying
        partner (B > 0 at threshold trust, with the operator's facilitation, at a typical
        distance in the park). Streams, not volumes, count: water would swamp the rest."""
        m, cat = self.model, self.model.catalogue
        s = cat.sector_index(sector)
        sup, dem = cat.supply[s] * size, cat.demand[s] * size
        streams = [(k, True) for k in np.flatnonzero(sup)] + [
            (k, False) for k in np.flatnonzero(dem)
        ]
        if not streams:
            return 0.0
        free_sup, free_dem = m.uncommitted()
        mats, qs = [], []
        for k, supplies in streams:
            partner_q = free_dem[:, k] if supplies else free_sup[:, k]
            own = sup[k] if supplies else dem[k]
            q = np.minimum(partner_q[partner_q > 0], own)
            mats.append(np.full(q.size, k))
            qs.append(q)
        mat, q = np.concatenate(mats), np.concatenate(qs)
        if q.size == 0:
            return 0.0
        stream_of = np.repeat(np.arange(len(streams)), [x.size for x in qs])
        park = m.park
        d = np.full(q.size, 0.5 * np.hypot(park.width, park.height) * park.plot_size_km)
        thr = np.full(q.size, m.sc.trust.threshold)
        half = np.full(q.size, 0.5)
        none = np.zeros(q.size, dtype=np.int64)
        c = Candidates(none, none, mat, q, d, thr, thr, half, half, np.ones(q.size, bool))
        e = pair_economics(m.econ, c, m.standard, m.connection_usd)
        matched = np.zeros(len(streams), dtype=bool)
        matched[stream_of[e.benefit > 0]] = True
        return float(matched.mean())

    def _solid_intensity(self) -> FloatArray:
        """Each sector's solid-waste generation, t a month for a firm of size 1: its supply
        of materials in tonnes that are neither piped nor products."""
        cat = self.model.catalogue
        mat = cat.mat
        product = mat["product"] if "product" in mat else np.isin(cat.materials, PRODUCTS)
        solid = (mat["unit"] == "t") & ~mat["piped"] & ~product
        out: FloatArray = cat.supply[:, solid].sum(axis=1)
        return out

    def waste_intensive(self, sector: str) -> bool:
        """The screen of operator.max_waste_intensity (Hai Phong's board screens out
        waste-intensive tenants): the sector's solid waste per unit of size exceeds it."""
        cap = self.cfg.max_waste_intensity
        s = self.model.catalogue.sector_index(sector)
        return cap is not None and bool(self._solid_per_size[s] > cap + 1e-12)

    def recruit(self) -> None:
        """Prospective tenants arrive; the operator admits those whose symbiosis fit reaches its
        selectivity. Selective parks fill slower and earn less rent (brief, obstacle 7). With
        operator.max_waste_intensity it first rejects waste-intensive prospects."""
        m, st = self.model, self.model.state
        k = int(m.rng.poisson(self.cfg.arrivals_per_year / 12.0))
        for _ in range(k):
            if (st.alive | self.shared_plots | m.reserved_plots).all():
                return
            sector, nat, size = m.draw_profile()
            if self.waste_intensive(sector):
                self.rejected_waste_intensive += 1
                m.rejected_prospects += 1
                continue
            selective = self.cfg.tenant_selectivity > 0  # else every prospect fits
            if selective and self.fit_score(sector, size) + 1e-12 < self.cfg.tenant_selectivity:
                m.rejected_prospects += 1
                continue
            m.add_firm(sector, nat, size)
