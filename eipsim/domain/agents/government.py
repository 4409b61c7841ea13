"""The government coordinator: taxes and subsidies, standards, brokering, EIP assessment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from eipsim.domain.economics import candidate_pairs, pair_economics
from eipsim.domain.indicators import symbiosis_facilities

if TYPE_CHECKING:
    from eipsim.domain.model import EIPModel


class Government(mesa.Agent):
    def __init__(self, model: EIPModel):
        super().__init__(model)
        self.budget_usd = 0.0  # net public spending: subsidies paid minus landfill tax collected
        self.score = 0.0
        self.certified = False
        self.introductions = 0
        self._broker_quota = 0.0
        cat = model.catalogue
        self._standards = [
            (cat.material_index(s.material), s.step) for s in model.sc.government.reuse_standards
        ]

    @property
    def cfg(self):
        return self.model.sc.government

    def begin_month(self, t: int) -> None:
        for m_idx, step in self._standards:
            if t >= step:
                self.model.standard[m_idx] = True

    def broker(self, t: int) -> None:
        """Introduce the pairs with the largest joint benefit that do not yet know each other.
        The coordinator sees what firms hide from each other (it is trusted with the data),
        and an introduction raises the pair's trust and cuts their transaction cost."""
        self._broker_quota += self.cfg.brokering_per_year / 12.0
        k = int(self._broker_quota)
        if k == 0:
            return
        self._broker_quota -= k
        m, st = self.model, self.model.state
        res_s, res_d = m.uncommitted()
        s, u, mat, q = candidate_pairs(res_s, res_d, lambda a, b: ~st.known[np.ix_(a, b)], 1.0)
        if s.size == 0:
            return
        thr = np.full(s.size, m.sc.trust.threshold)
        e = pair_economics(
            m.econ,
            mat,
            q,
            m.park.distance_km(s, u, m.sc.costs.min_distance_km),
            thr,
            thr,
            st.conf[s],
            st.conf[u],
            m.standard,
            np.ones(s.size, dtype=bool),
            m.connection_usd,
        )
        order = np.argsort(-e.benefit, kind="stable")
        order = order[e.benefit[order] > 0]
        done: set[tuple[int, int]] = set()
        boost = m.sc.trust.introduction_boost
        for i in order:
            a, b = int(s[i]), int(u[i])
            if (a, b) in done:
                continue
            done.add((a, b))
            st.known[a, b] = st.known[b, a] = True
            st.facilitated[a, b] = st.facilitated[b, a] = True
            m.trust.raise_toward_one(np.array([a, b]), np.array([b, a]), boost)
            self.introductions += 1
            if len(done) >= k:
                break

    def account(self, exchanged_links_t: float, landfilled_taxable_t: float) -> None:
        self.budget_usd += self.cfg.exchange_subsidy_usd_per_t * exchanged_links_t
        self.budget_usd -= self.cfg.landfill_tax_usd_per_t * landfilled_taxable_t

    def criteria_values(self, t: int) -> dict[str, float]:
        m, st = self.model, self.model.state
        alive = st.alive
        n = max(int(alive.sum()), 1)
        ops = m.operator
        built = {f.kind for f in ops.facilities if f.built}
        land = m.sc.park.shared_land_share + sum(
            f.spec.get("land_share", 0.0) for f in ops.facilities if f.built
        )
        members = m.metrics_members()
        planning = (members | m.pending_members() | m._planning) & alive
        return {
            "recp_aware_share": float(st.recp_aware[alive].sum()) / n,
            "recp_applied_share": float(st.recp_applied[alive].sum()) / n,
            "shared_land_share": float(land),
            "implemented_links": float(m.links.rows(1).size + len(symbiosis_facilities(m))),
            "planning_share": float(planning.sum()) / n,
            "years_compliant": t / 12.0,
            "wastewater_treatment": float("wastewater_treatment" in built),
            "symbiosis_services": float(ops.platform_active or ops.events_held > 0),
            "information_sharing": float(ops.platform_active),
        }

    def assess(self, t: int) -> dict[str, tuple[float, float, bool, str]]:
        """Yearly EIP assessment against the configured criteria (each cites its source)."""
        values = self.criteria_values(t)
        out = {}
        for c in self.cfg.assessment.criteria:
            v = values[c.metric]
            out[c.metric] = (v, c.threshold, bool(v >= c.threshold - 1e-12), c.source)
        met = [r[2] for r in out.values()]
        self.score = sum(met) / len(met) if met else 0.0
        self.certified = bool(met) and all(met)
        return out
