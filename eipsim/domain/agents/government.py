"""The government coordinator: levies and subsidies, standards, brokering, EIP assessment.

The government owns the public budget. Other agents file claims on it (the operator's
capital subsidy, a firm's RECP subsidy); it collects levies on what is landfilled.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import mesa
import numpy as np

from eipsim.domain import assessment, behaviour
from eipsim.domain.economics import Candidates, candidate_pairs, pair_economics, pair_prices
from eipsim.domain.facilities import Flows
from eipsim.domain.indicators import MonthView
from eipsim.domain.links import LinkFlows
from eipsim.domain.state import Slots, pair_block
from eipsim.domain.types import BoolArray, FloatArray, IntArray
from eipsim.scenario.schema import GovernmentConfig

if TYPE_CHECKING:
    from eipsim.domain.model import EIPModel


# Candidates a broker weighs the risks of at a time, best first (``Government._introducible``):
# a month's few introductions are usually among the first.
BROKER_SLICE = 32


class Ledger:
    """Public money by purpose, and the running net spending (spending minus revenue)."""

    def __init__(self) -> None:
        self.net_spending_usd = 0.0
        self.spending_usd = 0.0  # subsidies paid, so far
        self.revenue_usd = 0.0  # levies collected, so far
        self.by_purpose: dict[str, float] = {}

    def spend(self, purpose: str, usd: float) -> None:
        self.net_spending_usd += usd
        self.spending_usd += usd
        self.by_purpose[purpose] = self.by_purpose.get(purpose, 0.0) + usd

    def collect(self, purpose: str, usd: float) -> None:
        self.net_spending_usd -= usd
        self.revenue_usd += usd
        self.by_purpose[purpose] = self.by_purpose.get(purpose, 0.0) - usd


class Government(mesa.Agent):
    model: EIPModel

    def __init__(self, model: EIPModel):
        super().__init__(model)
        self.cfg: GovernmentConfig = model.sc.government
        self.ledger = Ledger()
        self.score = 0.0
        self.certified = False
        self.introductions = 0
        self._broker_quota = 0.0
        cat = model.catalogue
        self._standards = [
            (cat.material_index(s.material), s.step) for s in self.cfg.reuse_standards
        ]
        assessment.check_criteria(self.cfg.assessment.criteria)

    @property
    def budget_usd(self) -> float:
        """Net public spending: subsidies paid minus levies collected."""
        return self.ledger.net_spending_usd

    # -- claims filed by other agents ---------------------------------------------------------
    def pay_capex_subsidy(self, capex_usd: float) -> float:
        """The government's share of a shared facility's capital cost; returns it."""
        paid = capex_usd * self.cfg.capex_subsidy_share
        self.ledger.spend("capex_subsidy", paid)
        return paid

    def pay_recp_subsidy(self, capex_usd: FloatArray) -> None:
        self.ledger.spend("recp_subsidy", float((capex_usd * self.cfg.recp_subsidy_share).sum()))

    # -- monthly ------------------------------------------------------------------------------
    def begin_month(self, t: int) -> None:
        for m_idx, step in self._standards:
            if t >= step:
                self.model.standard[m_idx] = True

    def broker(self) -> None:
        """Introduce the pairs with the largest joint benefit that do not yet know each other
        and that can actually negotiate: with the broker's guarantee added to their trust,
        both sides would negotiate and gain after weighing each other's reliability. The
        coordinator sees what firms hide from each other (it is trusted with the data); an
        introduction raises the pair's trust, cuts their transaction cost, and its guarantee
        stays as institutional trust between them."""
        self._broker_quota += self.cfg.brokering_per_year / 12.0
        k = int(self._broker_quota)
        if k == 0:
            return
        self._broker_quota -= k
        m, st = self.model, self.model.state
        res_s, res_d = m.uncommitted()
        every = np.arange(st.alive.size)

        def unknown(a: Slots, b: Slots) -> BoolArray:  # pairs of two firms (not one with itself)
            rows, cols = every[a], every[b]
            return ~pair_block(st.known, a, b) & (rows[:, None] != cols[None, :])

        s, u, mat, q = candidate_pairs(res_s, res_d, unknown, 1.0)
        if s.size == 0:
            return
        done: set[tuple[int, int]] = set()
        boost = m.sc.trust.introduction_boost
        for a, b in self._introducible(s, u, mat, q, res_s):
            if (a, b) in done:
                continue
            done.add((a, b))
            st.known[a, b] = st.known[b, a] = True
            st.facilitated[a, b] = st.facilitated[b, a] = True
            m.trust.raise_toward_one(np.array([a, b]), np.array([b, a]), boost)
            self.introductions += 1
            if len(done) >= k:
                break

    def _introducible(
        self, s: IntArray, u: IntArray, mat: IntArray, q: FloatArray, res_s: FloatArray
    ) -> Iterator[tuple[int, int]]:
        """The candidate pairs (supplier, user) the broker can introduce, largest joint
        benefit B first (ties in candidate order). A park's unknown pairs run to thousands
        and the broker makes a few introductions a month, so the figures are worked out
        only as far as they are read: whether a pair would negotiate reads no economics,
        and B no beliefs about failures; only a pair with B > 0 can gain, and those weigh
        their risks (``behaviour.both_gain``) in slices of ``BROKER_SLICE``, best first.
        Each candidate's figures are its own and were read before any introduction (its
        trust is gathered at once), so the pairs come as from pricing all at once."""
        m, st, tr = self.model, self.model.state, self.model.sc.trust
        yes = np.ones(s.size, dtype=bool)
        negotiable = self.cfg.broker_selects == "negotiable"
        if negotiable:  # with the broker's guarantee in their trust, both sides negotiate
            c = m.meeting(s, u, mat, q, yes, yes)
            c = c.take(behaviour.negotiates(m.econ, c, tr.threshold, 0.0, None).nonzero()[0])
        else:  # the first version's broker: joint benefit at threshold trust
            thr = np.full(s.size, tr.threshold)
            c = Candidates(s, u, mat, q, m.distance_km(s, u), thr, thr, st.conf[s], st.conf[u], yes)
        B = pair_prices(m.econ, c, m.standard, m.connection_usd).B
        order = (B > 0).nonzero()[0]
        order = order[np.argsort(-B[order], kind="stable")]
        if not negotiable:
            yield from zip(c.s[order].tolist(), c.u[order].tolist(), strict=True)
            return
        for start in range(0, order.size, BROKER_SLICE):
            best = c.take(order[start : start + BROKER_SLICE])
            m.weigh_risks(best, res_s)
            e = pair_economics(m.econ, best, m.standard, m.connection_usd)
            gain = behaviour.both_gain(e, st.hurdle[best.s], st.hurdle[best.u])
            yield from zip(best.s[gain].tolist(), best.u[gain].tolist(), strict=True)

    def account(self, flows: LinkFlows, res_supply: FloatArray, fac: Flows) -> None:
        """This month's exchange subsidy, paid on the taxable by-products links moved, and
        the levies collected on what is landfilled or discharged (what neither links nor
        facilities took, and facilities' unrecovered intake): the landfill tax on taxable
        tonnes, the carbon price on their CO2e. A rate of 0 books 0 without its base (rate
        x base is 0 for any finite base; many scenarios set no subsidy, tax or price)."""
        cfg, tax = self.cfg, self.model.econ.taxable
        subsidy = 0.0
        if cfg.exchange_subsidy_usd_per_t:
            moved = float(flows.by_material[tax].sum())
            subsidy = cfg.exchange_subsidy_usd_per_t * moved
        self.ledger.spend("exchange_subsidy", subsidy)
        unrecovered = fac.intake - fac.recovered
        landfill_tax = 0.0
        if cfg.landfill_tax_usd_per_t:
            landfilled_taxable = res_supply[:, tax].sum() + unrecovered[tax].sum()
            landfill_tax = cfg.landfill_tax_usd_per_t * float(landfilled_taxable)
        self.ledger.collect("landfill_tax", landfill_tax)
        carbon = 0.0
        if cfg.carbon_price_usd_per_t_co2:
            landfilled = res_supply.sum(axis=0) + unrecovered
            co2e = float(landfilled @ self.model.catalogue.mat["landfill_co2e_t_per_t"])
            carbon = cfg.carbon_price_usd_per_t_co2 * co2e
        self.ledger.collect("carbon_price", carbon)

    def assess(self, view: MonthView) -> dict[str, tuple[float, float, bool, str]]:
        """The EIP assessment against the configured criteria (each cites its source)."""
        out = assessment.assess(view, self.cfg.assessment.criteria)
        met = [r[2] for r in out.values()]
        self.score = sum(met) / len(met) if met else 0.0
        self.certified = bool(met) and all(met)
        return out
