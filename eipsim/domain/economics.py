"""Link economics in the enterprise input-output form, vectorised over candidate pairs.

Every function here takes arrays with one entry per candidate (supplier s, user u,
material m) and returns arrays; nothing loops over pairs in Python. Equations and
symbols are those of docs/ODD.md, "Link economics".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from eipsim.scenario.catalogue import Catalogue


@dataclass(frozen=True)
class EconParams:
    """Scenario values the economics needs, with the catalogue's per-material arrays."""

    disposal: np.ndarray  # (M,) USD per unit avoided by the supplier
    virgin_price: np.ndarray  # (M,) USD per unit of virgin input
    gamma: np.ndarray  # (M,) substitution ratio
    treatment: np.ndarray  # (M,) USD per unit to reach reuse quality
    transport_factor: np.ndarray  # (M,)
    piped: np.ndarray  # (M,) bool
    taxable: np.ndarray  # (M,) bool: landfill tax and exchange subsidy apply
    needs_disclosure: np.ndarray  # (M,) bool
    permit_cost: np.ndarray  # (M,)
    landfill_tax: float
    subsidy_per_unit: float
    capex_subsidy: float
    transport_per_t_km: float
    transaction_usd: float
    horizon_months: int
    annuity: float  # monthly capital charge per USD of capital
    pipe_usd_per_m: float
    trust_discount: float
    facilitation_discount: float
    emergency_premium: float
    nash: bool
    contract: bool
    contract_exposure_cut: float
    contract_cost_markup: float

    @classmethod
    def build(cls, cat: Catalogue, sc) -> EconParams:
        c, g = sc.costs, sc.government
        r = c.annual_interest / 12.0
        H = c.horizon_months
        # 1 - (1 + r)^-H via expm1/log1p: exact for tiny r, where the naive form is 0 / 0
        annuity = 1.0 / H if r == 0 else r / -math.expm1(-H * math.log1p(r))
        return cls(
            disposal=cat.mat["disposal_usd"],
            virgin_price=cat.mat["virgin_price_usd"],
            gamma=cat.mat["substitution_ratio"],
            treatment=cat.mat["treatment_usd"],
            transport_factor=cat.mat["transport_factor"],
            piped=cat.piped,
            # landfilled solids: not energy, not piped water, not scraps sold off-park
            taxable=~cat.is_energy & ~cat.piped & (cat.mat["disposal_usd"] > 0),
            needs_disclosure=cat.needs_cost_disclosure,
            permit_cost=cat.mat["permit_cost_usd"],
            landfill_tax=g.landfill_tax_usd_per_t,
            subsidy_per_unit=g.exchange_subsidy_usd_per_t,
            capex_subsidy=g.capex_subsidy_share,
            transport_per_t_km=c.transport_usd_per_t_km,
            transaction_usd=c.transaction_usd,
            horizon_months=H,
            annuity=annuity,
            pipe_usd_per_m=c.pipe_usd_per_m,
            trust_discount=c.trust_discount,
            facilitation_discount=c.facilitation_discount,
            emergency_premium=c.emergency_premium,
            nash=c.bargaining == "nash",
            contract=c.contract_months > 0,
            contract_exposure_cut=c.contract_exposure_cut,
            contract_cost_markup=c.contract_cost_markup,
        )


@dataclass
class PairEconomics:
    """Monthly economics of candidate links (all arrays of the candidates' length)."""

    q: np.ndarray
    saving_s: np.ndarray  # S_i: supplier's avoided disposal and tax
    saving_u: np.ndarray  # S_j: user's avoided virgin purchase
    cost: np.ndarray  # C: added costs net of the exchange subsidy
    capital: np.ndarray  # capital charge part of C (for exposure)
    transaction: np.ndarray  # transaction part of C (for exposure)
    benefit: np.ndarray  # B = S_i + S_j - C
    benefit_s: np.ndarray  # B_i
    benefit_u: np.ndarray  # B_j
    alpha: np.ndarray  # supplier's share of C
    expected_s: np.ndarray  # trust-weighted expected gain of the supplier
    expected_u: np.ndarray


def pair_economics(
    p: EconParams,
    m: np.ndarray,
    q: np.ndarray,
    dist_km: np.ndarray,
    trust_su: np.ndarray,
    trust_us: np.ndarray,
    conf_s: np.ndarray,
    conf_u: np.ndarray,
    standard: np.ndarray,
    facilitated: np.ndarray,
    connection_usd: np.ndarray,
    paid_off: np.ndarray | None = None,
) -> PairEconomics:
    """Monthly benefit of each candidate and its split.

    ``standard[m]`` is True where a reuse standard is in force (no permit cost);
    ``connection_usd[m]`` is the operator network's connection fee for piped media
    (NaN where no network serves the material, so a private pipe is laid). Where
    ``paid_off`` is True (a running link past its amortisation horizon) the one-off costs
    (transaction, capital, permit) are paid and drop out."""
    S_s = q * (p.disposal[m] + p.landfill_tax * p.taxable[m])
    S_u = p.gamma[m] * q * p.virgin_price[m]
    transport = q * p.transport_per_t_km * dist_km * p.transport_factor[m]
    treat = q * p.treatment[m]
    mean_trust = 0.5 * (trust_su + trust_us)
    transaction = (
        p.transaction_usd
        * (1.0 - p.trust_discount * mean_trust)
        * (1.0 - p.facilitation_discount * facilitated)
        * (1.0 + 0.5 * np.maximum(conf_s, conf_u))
        * (1.0 + p.contract_cost_markup * p.contract)
        / p.horizon_months
    )
    conn = connection_usd[m]
    pipe = np.where(np.isnan(conn), dist_km * 1000.0 * p.pipe_usd_per_m, conn)
    capital = np.where(p.piped[m], pipe * (1.0 - p.capex_subsidy) * p.annuity, 0.0)
    permit = np.where(standard[m], 0.0, p.permit_cost[m]) / p.horizon_months
    # The per-tonne subsidy, like the landfill tax, covers solid by-products only.
    subsidy = p.subsidy_per_unit * q * p.taxable[m]
    if paid_off is not None:
        transaction = np.where(paid_off, 0.0, transaction)
        capital = np.where(paid_off, 0.0, capital)
        permit = np.where(paid_off, 0.0, permit)
    C = transport + treat + transaction + capital + permit - subsidy
    B = S_s + S_u - C
    if p.nash:
        B_s = 0.5 * B
    else:
        # in proportion to savings; a negative saving (a scrap's forgone sale) weighs 0
        pos_s, pos_u = np.maximum(S_s, 0.0), np.maximum(S_u, 0.0)
        tot = pos_s + pos_u
        B_s = B * np.divide(pos_s, tot, out=np.full_like(B, 0.5), where=tot > 0)
    B_u = B - B_s
    alpha = np.divide(S_s - B_s, C, out=np.full_like(B, 0.5), where=np.abs(C) > 1e-12)
    # A written contract's penalty clauses cover part of what a failure would cost.
    cover = 1.0 - p.contract_exposure_cut * p.contract
    stranded = 0.5 * (capital + transaction)
    X_s = stranded * cover
    X_u = (q * p.gamma[m] * p.virgin_price[m] * p.emergency_premium + stranded) * cover
    E_s = trust_su * B_s - (1.0 - trust_su) * X_s
    E_u = trust_us * B_u - (1.0 - trust_us) * X_u
    return PairEconomics(q, S_s, S_u, C, capital, transaction, B, B_s, B_u, alpha, E_s, E_u)


def acceptable(
    e: PairEconomics,
    p: EconParams,
    m: np.ndarray,
    trust_su: np.ndarray,
    trust_us: np.ndarray,
    conf_s: np.ndarray,
    conf_u: np.ndarray,
    hurdle_s: np.ndarray,
    hurdle_u: np.ndarray,
    threshold: float,
) -> np.ndarray:
    """Both sides negotiate (trust >= threshold), both gain after weighing the partner's
    reliability (E_i >= h_i * B_i, so a firm with a higher hurdle needs more trust), and a
    material that needs cost disclosure is only exchanged where each side trusts the other
    at least as much as its parent company's confidentiality."""
    talks = (trust_su >= threshold) & (trust_us >= threshold)
    gains = (e.benefit > 0) & (e.expected_s >= hurdle_s * e.benefit_s)
    gains &= e.expected_u >= hurdle_u * e.benefit_u
    disclose = ~p.needs_disclosure[m] | ((conf_s <= trust_su) & (conf_u <= trust_us))
    return talks & gains & disclose & (e.q > 0)


def space_of_cooperation(e: PairEconomics) -> tuple[np.ndarray, np.ndarray]:
    """Cost shares alpha under which both sides gain (Yazan & Fraccascia 2020):
    alpha in [(C - S_j) / C, S_i / C] for C > 0; empty where the lower bound exceeds the upper."""
    C = np.where(np.abs(e.cost) > 1e-12, e.cost, np.nan)
    return (C - e.saving_u) / C, e.saving_s / C


def candidate_pairs(
    res_supply: np.ndarray,
    res_demand: np.ndarray,
    allowed: Callable[[np.ndarray, np.ndarray], np.ndarray],
    min_q: float,
    active: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates indexed by material: for each material, suppliers with residual supply
    times users with residual demand, kept where ``allowed(suppliers, users)`` (a boolean
    block: they know of each other) and not the same firm. With ``active`` (the firms
    searching this month) only pairs with at least one active side are built.

    Returns (s, u, m, q) with q = min(residual supply, residual demand)."""
    S, U, Ms, Q = [], [], [], []
    for m in range(res_supply.shape[1]):
        sup = np.flatnonzero(res_supply[:, m] >= min_q)
        if sup.size == 0:
            continue
        use = np.flatnonzero(res_demand[:, m] >= min_q)
        if use.size == 0:
            continue
        if active is None:
            blocks = [(sup, use)]
        else:
            blocks = [(sup[active[sup]], use), (sup[~active[sup]], use[active[use]])]
        ss, uu = [], []
        for a, b in blocks:
            if a.size and b.size:
                si, ui = np.nonzero(allowed(a, b))
                ss.append(a[si])
                uu.append(b[ui])
        if not ss:
            continue
        s, u = np.concatenate(ss), np.concatenate(uu)
        keep = s != u
        s, u = s[keep], u[keep]
        S.append(s)
        U.append(u)
        Ms.append(np.full(s.size, m))
        Q.append(np.minimum(res_supply[s, m], res_demand[u, m]))
    if not S:
        e = np.zeros(0, dtype=int)
        return e, e, e, np.zeros(0)
    return np.concatenate(S), np.concatenate(U), np.concatenate(Ms), np.concatenate(Q)
