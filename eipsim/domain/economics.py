"""Link economics in the enterprise input-output form, vectorised over candidate pairs.

``EconParams`` is the one economics context: every price the model uses, with each
material's avoided cost and levy computed once, read by links and facilities alike.
Every function here takes arrays with one entry per candidate (supplier s, user u,
material m) and returns arrays; nothing loops over pairs in Python. Equations and
symbols are those of docs/ODD.md, "Link economics".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np

from eipsim.domain.state import EVERY_PLOT, Slots, pair_block
from eipsim.domain.types import BoolArray, FloatArray, IntArray
from eipsim.scenario.schema import CostsConfig, GovernmentConfig


def annuity_factor(annual_interest: float, horizon_months: int) -> float:
    """Monthly capital charge per USD of capital, a = r / (1 - (1 + r)^-H), r monthly.

    1 - (1 + r)^-H is computed via expm1/log1p: exact for tiny r, where the naive form is
    0 / 0."""
    r = annual_interest / 12.0
    H = horizon_months
    return 1.0 / H if r == 0 else r / -math.expm1(-H * math.log1p(r))


class MaterialTerms(NamedTuple):
    """The per-material terms of the link economics, each an array over materials, or over
    candidates once gathered (``MaterialTable.at``; flags are then 1.0 or 0.0)."""

    gamma: FloatArray  # substitution ratio
    virgin: FloatArray  # USD per unit of virgin input this month (``EconParams.virgin_price``)
    avoided: FloatArray  # ``EconParams.avoided``
    avoided_floor: FloatArray  # max(avoided, 0): what a refused stream costs its supplier
    piped: np.ndarray  # True where the material is piped
    trucked: np.ndarray  # True where it is not
    transport_factor: FloatArray
    treatment: FloatArray  # USD per unit
    permit: FloatArray  # monthly permit cost: the catalogue's over the horizon, 0 under a standard
    connection: FloatArray  # the operator network's connection fee; NaN where none serves
    private_pipe: np.ndarray  # True where no network serves the material: a private pipe is laid
    taxable: np.ndarray  # True for the landfilled solids (``EconParams.taxable``)
    levy: FloatArray  # ``EconParams.levy``


@dataclass(frozen=True)
class MaterialTable:
    """``MaterialTerms`` as one (terms, M) array, so that the candidates' terms are one
    gather: built per ``EconParams`` for the reuse standards and connection fees in force."""

    rows: FloatArray
    any_network: bool  # some material is served by an operator network

    def at(self, m: IntArray) -> MaterialTerms:
        """The terms of each candidate's material."""
        return MaterialTerms._make(self.rows.take(m, axis=1))


@dataclass(frozen=True)
class EconParams:
    """Prices and policy instruments, per material where they differ by material.

    ``mat`` holds the catalogue's material columns (data/materials.yaml); ``costs`` and
    ``government`` are the scenario's sections. The derived arrays are the only place where
    an instrument that prices landfill enters the economics: a new one (like the carbon
    price) is one term in ``levy``."""

    mat: Mapping[str, np.ndarray]
    costs: CostsConfig
    government: GovernmentConfig
    taxable: BoolArray  # (M,) landfilled solids: the landfill tax and exchange subsidy apply
    levy: FloatArray  # (M,) USD the government charges per unit landfilled or discharged
    avoided: FloatArray  # (M,) USD a supplier saves per unit not landfilled: disposal + levy
    annuity: float
    nash: bool
    contract: bool
    price_index: float = 1.0  # virgin-input price index this month (market turbulence)
    # the material tables built so far, by the reuse standards and connection fees they were
    # built under (``material_table``; a new EconParams, as a new price index makes, starts
    # empty)
    _tables: dict[tuple[bytes, bytes], MaterialTable] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def build(
        cls, mat: Mapping[str, np.ndarray], costs: CostsConfig, government: GovernmentConfig
    ) -> EconParams:
        disposal = mat["disposal_usd"]
        energy = mat["unit"] == "MWh"
        # landfilled solids: not energy, not piped water, not scraps sold off-park
        taxable = ~energy & ~mat["piped"] & (disposal > 0)
        levy = government.landfill_tax_usd_per_t * taxable
        levy = levy + government.carbon_price_usd_per_t_co2 * mat["landfill_co2e_t_per_t"]
        return cls(
            mat=mat,
            costs=costs,
            government=government,
            taxable=taxable,
            levy=levy,
            avoided=disposal + levy,
            annuity=annuity_factor(costs.annual_interest, costs.horizon_months),
            nash=costs.bargaining == "nash",
            contract=costs.contract_months > 0,
        )

    @property
    def virgin_price(self) -> FloatArray:
        """(M,) USD per unit of virgin input this month: catalogue price x price index."""
        price: FloatArray = self.mat["virgin_price_usd"] * self.price_index
        return price

    def contract_cover(self, contract: BoolArray | bool) -> np.ndarray | float:
        """The share of a failure's cost a side bears, 1 - contract_exposure_cut x contract
        (a written contract's penalty covers the rest): for ``BOTH_OPTIONS``, which every
        search with per-link contracts prices, kept with the parameters."""
        if contract is BOTH_OPTIONS:
            return self._both_options_cover
        return 1.0 - self.costs.contract_exposure_cut * contract

    @cached_property
    def _both_options_cover(self) -> np.ndarray:
        return 1.0 - self.costs.contract_exposure_cut * BOTH_OPTIONS

    def contract_markup(self, contract: BoolArray | bool) -> np.ndarray | float:
        """The transaction cost's factor for a written contract, 1 + contract_cost_markup x
        contract: for ``BOTH_OPTIONS`` kept with the parameters (as ``contract_cover``)."""
        if contract is BOTH_OPTIONS:
            return self._both_options_markup
        return 1.0 + self.costs.contract_cost_markup * contract

    @cached_property
    def _both_options_markup(self) -> np.ndarray:
        return 1.0 + self.costs.contract_cost_markup * BOTH_OPTIONS

    def material_table(self, standard: BoolArray, connection_usd: FloatArray) -> MaterialTable:
        """The per-material terms (``MaterialTerms``) under the reuse standards in force
        (``standard[m]``) and the operator networks' connection fees (``connection_usd[m]``,
        NaN where none): built once, and again when either changes (both are arrays the
        model updates in place, so they are keyed by their bytes)."""
        key = standard.tobytes(), connection_usd.tobytes()
        table = self._tables.get(key)
        if table is None:
            mat, piped = self.mat, self.mat["piped"]
            private_pipe = np.isnan(connection_usd)
            terms = MaterialTerms(
                gamma=mat["substitution_ratio"],
                virgin=self.virgin_price,
                avoided=self.avoided,
                avoided_floor=np.maximum(self.avoided, 0.0),
                piped=piped,
                trucked=~piped,
                transport_factor=mat["transport_factor"],
                treatment=mat["treatment_usd"],
                permit=np.where(standard, 0.0, mat["permit_cost_usd"]) / self.costs.horizon_months,
                connection=connection_usd,
                private_pipe=private_pipe,
                taxable=self.taxable,
                levy=self.levy,
            )
            table = MaterialTable(np.array(terms, dtype=float), not private_pipe.all())
            if len(self._tables) >= 4:  # (standards and fees change a few times a run)
                self._tables.clear()
            self._tables[key] = table
        return table


def with_institutions(trust: FloatArray, inst: FloatArray) -> FloatArray:
    """Trust with institutional trust (a broker's guarantee, a standard, a contract) added
    as an independent source of assurance: 1 - (1 - T)(1 - I)."""
    result: FloatArray = 1.0 - (1.0 - trust) * (1.0 - inst)
    return result


@dataclass
class Candidates:
    """Candidate links (one entry each): who, what, how much, and what each side sees."""

    s: IntArray  # supplier slot
    u: IntArray  # user slot
    m: IntArray  # material
    q: FloatArray  # units per month
    dist_km: FloatArray
    trust_su: FloatArray  # supplier's trust in the user
    trust_us: FloatArray  # user's trust in the supplier
    conf_s: FloatArray  # confidentiality of each side
    conf_u: FloatArray
    facilitated: BoolArray  # introduced by a broker, or cost data shared on the platform
    # Beliefs about failures (monthly rates) and the user's re-sourcing lead time; zero
    # where they do not matter (a running link re-priced each month).
    fail_s: FloatArray | None = None  # the user's belief that the supplier fails a month
    fail_u: FloatArray | None = None  # the supplier's belief that the user fails an uptake
    lead_u: FloatArray | None = None  # months the user pays a premium after a failure
    inst: FloatArray | None = None  # institutional trust: broker, standard, contract
    # under a written contract (None: the scenario's rule); ``BOTH_OPTIONS`` prices each
    # candidate informal and signed in one pass (``chosen_option`` picks one per candidate)
    contract: BoolArray | None = None

    def effective_trust(self) -> FloatArray:
        """Each side's trust in the other with the pair's institutional trust added
        (``with_institutions``): a row the supplier's trust in the user, a row the user's
        in the supplier (one array, so that a rule applies to both sides at once)."""
        trust: FloatArray = np.array([self.trust_su, self.trust_us])
        return trust if self.inst is None else with_institutions(trust, self.inst)

    def __len__(self) -> int:
        return int(self.q.size)

    def take(self, idx: IntArray) -> Candidates:
        """The candidates at ``idx``, in that order (every per-candidate column gathered;
        ``contract``, when not per candidate, kept as it is)."""
        cols: dict[str, Any] = {
            f.name: None if (v := getattr(self, f.name)) is None else v[idx]
            for f in fields(self)
            if f.name != "contract"
        }
        contract = self.contract
        if contract is not None and contract is not BOTH_OPTIONS:
            contract = contract[idx]
        return Candidates(**cols, contract=contract)


# Candidates.contract for both options at once: a row informal, a row signed (broadcast
# against the candidates, each element computed exactly as in a pass of its own).
BOTH_OPTIONS: BoolArray = np.array([[False], [True]])


@dataclass
class PairEconomics:
    """Monthly economics of candidate links (all arrays of the candidates' length)."""

    q: FloatArray
    saving_s: FloatArray  # S_i: supplier's avoided disposal and levies
    saving_u: FloatArray  # S_j: user's avoided virgin purchase
    cost: FloatArray  # C: added costs net of the exchange subsidy
    capital: FloatArray  # capital charge part of C (for exposure)
    transaction: FloatArray  # transaction part of C (for exposure)
    benefit: FloatArray  # B = S_i + S_j - C
    benefit_s: FloatArray  # B_i
    benefit_u: FloatArray  # B_j
    alpha: FloatArray  # supplier's share of C
    expected_s: FloatArray  # trust-weighted expected gain of the supplier
    expected_u: FloatArray


def chosen_option(x: np.ndarray, signed: BoolArray) -> np.ndarray:
    """Of a value priced with ``Candidates.contract = BOTH_OPTIONS`` (a row informal, a row
    signed), candidate by candidate the signed option where ``signed`` holds and the
    informal one elsewhere."""
    return np.where(signed, x[1], x[0])


@dataclass(frozen=True)
class LinkCosts:
    """The terms of a set of candidates' (or links') economics that change only with the
    candidates and the material table (``link_costs``), not with the quantities or trust:
    running links keep theirs from month to month."""

    table: MaterialTable  # the table they were priced under
    terms: MaterialTerms  # of each candidate's material
    contract: BoolArray | bool  # under a written contract
    # the transaction cost's factors other than trust: facilitation, confidentiality, contract
    facilitation: np.ndarray  # (float: a flag scaled)
    confidentiality: FloatArray
    contract_markup: np.ndarray | float
    pipe: FloatArray  # the pipe's capital before the capital subsidy (``_pipe_usd``)
    capital: FloatArray  # its monthly capital charge, zero where not piped


def link_costs(
    p: EconParams,
    m: IntArray,
    dist_km: FloatArray,
    conf_s: FloatArray,
    conf_u: FloatArray,
    facilitated: BoolArray,
    contract: BoolArray | bool | None,
    standard: BoolArray,
    connection_usd: FloatArray,
) -> LinkCosts:
    """The ``LinkCosts`` of candidates (their ``Candidates`` columns of these names) under
    the reuse standards and connection fees in force (as ``pair_economics``). Running links
    keep theirs while ``EconParams.material_table`` returns the table they were priced
    under (``LinkCosts.table``)."""
    table = p.material_table(standard, connection_usd)
    k, r = p.costs, table.at(m)  # every material term of the candidates in one gather
    contract = p.contract if contract is None else contract
    pipe = _pipe_usd(p, dist_km, r, table.any_network)
    capex_subsidy = p.government.capex_subsidy_share
    return LinkCosts(
        table=table,
        terms=r,
        contract=contract,
        facilitation=1.0 - k.facilitation_discount * facilitated,
        confidentiality=1.0 + 0.5 * np.maximum(conf_s, conf_u),
        contract_markup=p.contract_markup(contract),
        pipe=pipe,
        capital=np.where(r.piped, pipe * (1.0 - capex_subsidy) * p.annuity, 0.0),
    )


class Priced(NamedTuple):
    """The terms of ``pair_economics`` before the risk weighing (``pair_prices``; shared
    with ``running_economics``, which needs no more)."""

    terms: MaterialTerms  # of each candidate's material
    contract: BoolArray | bool
    pipe: FloatArray
    S_s: FloatArray
    S_u: FloatArray
    C: FloatArray
    capital: FloatArray
    transaction: FloatArray
    permit: FloatArray
    B: FloatArray
    B_s: FloatArray
    B_u: FloatArray


def _price(p: EconParams, c: Candidates, fixed: LinkCosts, paid_off: BoolArray | None) -> Priced:
    """Savings, costs, benefit and its split (arguments as ``pair_economics``, with the
    candidates' ``link_costs``)."""
    q, k, r = c.q, p.costs, fixed.terms
    S_s = q * r.avoided
    S_u = r.gamma * q * r.virgin
    transport = q * k.transport_usd_per_t_km * c.dist_km * r.transport_factor
    if k.handling_usd_per_trip > 0:  # per-trip handling of trucked by-products (ODD §7.5)
        trips = np.ceil(q / k.truck_capacity_t) * r.trucked
        transport = transport + trips * k.handling_usd_per_trip
    treat = q * r.treatment
    # the discount on the pair's mean trust, its halving folded into the rate (exact: a
    # product by 0.5 is exact whichever factor takes it)
    transaction = (
        k.transaction_usd
        * (1.0 - 0.5 * k.trust_discount * (c.trust_su + c.trust_us))
        * fixed.facilitation
        * fixed.confidentiality
        * fixed.contract_markup
        / k.horizon_months
    )
    capital = fixed.capital
    permit = r.permit
    if paid_off is not None and paid_off.any():  # (none paid off: each where keeps all)
        transaction = np.where(paid_off, 0.0, transaction)
        capital = np.where(paid_off, 0.0, capital)
        permit = np.where(paid_off, 0.0, permit)
    C = transport + treat + transaction + capital + permit
    if p.government.exchange_subsidy_usd_per_t:  # (none: C less +0.0 is C, bit for bit)
        # The per-tonne subsidy, like the landfill tax, covers solid by-products only.
        C = C - p.government.exchange_subsidy_usd_per_t * q * r.taxable
    B = S_s + S_u - C
    if p.nash:  # generalised Nash over the status quo: the supplier gets beta of B
        B_s = k.supplier_bargaining_power * B
    else:
        # in proportion to the value each side brings: the stream's outside value for the
        # supplier (|S_i|, even when it is a forgone sale), the virgin input for the user
        abs_s, abs_u = np.abs(S_s), np.abs(S_u)
        tot = abs_s + abs_u
        B_s = B * np.divide(abs_s, tot, out=np.full_like(B, 0.5), where=tot > 0)
    B_u = B - B_s
    return Priced(
        r, fixed.contract, fixed.pipe, S_s, S_u, C, capital, transaction, permit, B, B_s, B_u
    )  # fmt: skip


def pair_prices(
    p: EconParams,
    c: Candidates,
    standard: BoolArray,
    connection_usd: FloatArray,
    paid_off: BoolArray | None = None,
) -> Priced:
    """The first half of ``pair_economics`` (same arguments): savings, costs, benefit and
    its split, which read no beliefs about failures. A search learns from them whether any
    candidate carries a benefit before it looks the beliefs up."""
    fixed = link_costs(
        p, c.m, c.dist_km, c.conf_s, c.conf_u, c.facilitated, c.contract, standard, connection_usd
    )
    return _price(p, c, fixed, paid_off)


def pair_economics(
    p: EconParams,
    c: Candidates,
    standard: BoolArray,
    connection_usd: FloatArray,
    paid_off: BoolArray | None = None,
    priced: Priced | None = None,
) -> PairEconomics:
    """Monthly benefit of each candidate and its split.

    ``standard[m]`` is True where a reuse standard is in force (no permit cost);
    ``connection_usd[m]`` is the operator network's connection fee for piped media
    (NaN where no network serves the material, so a private pipe is laid). Where
    ``paid_off`` is True (a running link past its amortisation horizon) the one-off costs
    (transaction, capital, permit) are paid and drop out. ``priced``: the candidates'
    ``pair_prices`` under these arguments, when the caller has them."""
    q, k = c.q, p.costs
    x = pair_prices(p, c, standard, connection_usd, paid_off) if priced is None else priced
    gamma, virgin, contract = x.terms.gamma, x.terms.virgin, x.contract
    S_s, S_u, C, capital, transaction, permit = (
        x.S_s,
        x.S_u,
        x.C,
        x.capital,
        x.transaction,
        x.permit,
    )
    B, B_s, B_u = x.B, x.B_s, x.B_u
    alpha = np.divide(S_s - B_s, C, out=np.full_like(B, 0.5), where=np.abs(C) > 1e-12)
    if k.risk_model == "monthly_share":
        # The first version's exposure (docs/ODD.md, "Known limitations"): a share of the
        # replaced input's value at risk every month, weighted by distrust.
        cover = p.contract_cover(contract)
        stranded_m = 0.5 * (capital + transaction)
        X_s = stranded_m * cover
        X_u = (q * gamma * virgin * k.emergency_premium + stranded_m) * cover
        E_s = c.trust_su * B_s - (1.0 - c.trust_su) * X_s
        E_u = c.trust_us * B_u - (1.0 - c.trust_us) * X_u
        return PairEconomics(q, S_s, S_u, C, capital, transaction, B, B_s, B_u, alpha, E_s, E_u)
    # Risk, per failure event (docs/ODD.md, "Risk and reliability"): with monthly failure
    # rate p, a side expects (1 - p) B_i - p X_i, X_i being what one failure costs it: the
    # user buys virgin input at a premium for the lead time, the supplier disposes of its
    # stream for the lead time, and with some chance the link ends and the unamortised
    # one-off costs are stranded. A written contract's penalty covers part of X.
    fail_s, fail_u, lead_u = c.fail_s, c.fail_u, c.lead_u
    if fail_s is None or fail_u is None or lead_u is None:  # zero where not given
        zero = np.zeros_like(q)
        fail_s = zero if fail_s is None else fail_s
        fail_u = zero if fail_u is None else fail_u
        lead_u = zero if lead_u is None else lead_u
    cover = p.contract_cover(contract)
    one_off = (capital + transaction + permit) * k.horizon_months
    # (np.clip without its wrapper: they differ only on -0.0, which every decision that
    # reads the exposures compares as 0)
    share_s = np.minimum(np.maximum(alpha, 0.0), 1.0)
    stranded = 0.5 * one_off * k.breakdown_after_failure
    X_u = lead_u * k.emergency_premium * gamma * q * virgin + (1.0 - share_s) * stranded
    X_s = k.resourcing_lead_time_months * q * x.terms.avoided_floor + share_s * stranded
    E_s = (1.0 - fail_u) * B_s - fail_u * X_s * cover
    E_u = (1.0 - fail_s) * B_u - fail_s * X_u * cover
    return PairEconomics(q, S_s, S_u, C, capital, transaction, B, B_s, B_u, alpha, E_s, E_u)


def running_economics(
    p: EconParams, c: Candidates, fixed: LinkCosts, paid_off: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, Transfers | None]:
    """What running links earn this month, (B, B_i, B_j), and its transfers: the terms of
    ``pair_economics`` and ``transfers`` (same values) without the risk weighing, which
    only a decision to form a link needs, priced once a month. ``fixed``: the links'
    ``link_costs``, under the permits they have paid (a running link pays no permit). The
    transfers are None when no instrument makes any (no levy, no subsidy): every one would
    be zero."""
    x = _price(p, c, fixed, paid_off)
    g = p.government
    if g.exchange_subsidy_usd_per_t == 0 and g.capex_subsidy_share == 0 and not p.levy.any():
        return x.B, x.B_s, x.B_u, None
    return x.B, x.B_s, x.B_u, _transfers(p, c, x.terms, x.pipe, paid_off)


def _pipe_usd(
    p: EconParams, dist_km: FloatArray, r: MaterialTerms, any_network: bool
) -> FloatArray:
    """Capital of a link's pipe before the capital subsidy: the operator network's
    connection fee where one serves the material, else a private pipe over the distance
    (used only where the material is piped). ``r``: the candidates' material terms;
    ``any_network``: whether a network serves any material (if none, every pipe is
    private)."""
    private: FloatArray = dist_km * 1000.0 * p.costs.pipe_usd_per_m
    return np.where(r.private_pipe, private, r.connection) if any_network else private


# -- transfers (honest indicators, issue 8 item 10) ---------------------------------------
@dataclass
class Transfers:
    """The parts of each link's monthly benefit B that are transfers between the firms and
    the government, not gains to society (docs/ODD.md, §7.17 "Money")."""

    levy_avoided: FloatArray  # q * levy[m]: landfill tax and carbon price no longer paid
    exchange_subsidy: FloatArray  # subsidy * q * taxable[m]
    capex_subsidy: FloatArray  # capex_subsidy_share * pipe * annuity (piped, not paid off)

    @property
    def total(self) -> FloatArray:
        return self.levy_avoided + self.exchange_subsidy + self.capex_subsidy


def transfers(
    p: EconParams,
    c: Candidates,
    connection_usd: FloatArray,
    paid_off: BoolArray | None = None,
) -> Transfers:
    """Each link's transfers as ``pair_economics`` counts them in B (same arguments)."""
    # (the transfers read no permit, the only term the reuse standards set: any will do)
    table = p.material_table(np.ones(p.levy.size, dtype=bool), connection_usd)
    r = table.at(c.m)
    return _transfers(p, c, r, _pipe_usd(p, c.dist_km, r, table.any_network), paid_off)


def _transfers(
    p: EconParams, c: Candidates, r: MaterialTerms, pipe: FloatArray, paid_off: BoolArray | None
) -> Transfers:
    """``transfers`` given the candidates' material terms and pipe capital."""
    q = c.q
    capex = np.where(r.piped, pipe * p.government.capex_subsidy_share * p.annuity, 0.0)
    if paid_off is not None:
        capex = np.where(paid_off, 0.0, capex)
    return Transfers(
        levy_avoided=q * r.levy,
        exchange_subsidy=p.government.exchange_subsidy_usd_per_t * q * r.taxable,
        capex_subsidy=capex,
    )


def space_of_cooperation(e: PairEconomics) -> tuple[FloatArray, FloatArray]:
    """Cost shares alpha under which both sides gain (Yazan & Fraccascia 2020):
    alpha in [(C - S_j) / C, S_i / C] for C > 0; empty where the lower bound exceeds the upper."""
    C = np.where(np.abs(e.cost) > 1e-12, e.cost, np.nan)
    return (C - e.saving_u) / C, e.saving_s / C


def candidate_pairs(
    res_supply: FloatArray,
    res_demand: FloatArray,
    allowed: Callable[[Slots, Slots], BoolArray],
    min_q: float,
    active: BoolArray | None = None,
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Candidates indexed by material: for each material, suppliers with residual supply
    times users with residual demand, kept where ``allowed(suppliers, users)`` (a boolean
    block: they know of each other), which must be False for a firm with itself (no firm
    knows of, or is introduced to, itself: the callers leave out what else could pair a
    firm with itself, the platform and the broker's unknown pairs). With ``active`` (the firms
    searching this month) only pairs with at least one active side are built: active
    suppliers with any firm, then inactive suppliers with active users; ``allowed`` must
    then be symmetric (who knows of whom works both ways), so the searching firms' column
    block is read as the transpose of their row block.

    ``allowed`` does not depend on the material, so it is asked once per block of firms
    (``EVERY_PLOT`` for a side that is every plot), and the pairs it allows are then
    matched material by material. Candidates come material by material, each block's pairs
    in row-major order. Returns (s, u, m, q) with q = min(residual supply, residual
    demand)."""
    if active is None:
        # every pair: the firms with some residual stream of a material both sides trade
        has_supply, has_demand = res_supply >= min_q, res_demand >= min_q
        mats = has_supply.any(axis=0) & has_demand.any(axis=0)
        sup = (has_supply & mats).any(axis=1).nonzero()[0]
        use = (has_demand & mats).any(axis=1).nonzero()[0]
        if sup.size == 0 or use.size == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e, np.zeros(0)
        # each material's pairs are its suppliers' rows against its users' columns of the
        # allowed block, in its row-major order (the order of the searching firms' pairs
        # below), without a pairs x materials table over every allowed pair (the broker's
        # run to thousands)
        block = allowed(sup, use)
        sup_has, use_has = has_supply[sup], has_demand[use]
        parts_s, parts_u, parts_m = [], [], []
        for mat in mats.nonzero()[0]:
            i, j = sup_has[:, mat].nonzero()[0], use_has[:, mat].nonzero()[0]
            pi, pj = pair_block(block, i, j).nonzero()
            parts_s.append(sup[i[pi]])
            parts_u.append(use[j[pj]])
            parts_m.append(np.full(pi.size, mat))
        s, u, mm = np.concatenate(parts_s), np.concatenate(parts_u), np.concatenate(parts_m)
    else:
        # the searching firms are few: their rows against every plot (whose residual
        # streams the material match below reads anyway), then their columns: the same
        # block transposed (``allowed`` is symmetric)
        searching = active.nonzero()[0]
        rows = allowed(searching, EVERY_PLOT)
        pi, u_any = rows.nonzero()
        s_idle, pj = (rows.T & ~active[:, None]).nonzero()
        s = np.concatenate([searching[pi], s_idle])
        u = np.concatenate([u_any, searching[pj]])
        # the allowed pairs in block order, then which materials each trades: nonzero of
        # the transpose lists them material by material, in that order within a material
        trades = (res_supply.take(s, axis=0) >= min_q) & (res_demand.take(u, axis=0) >= min_q)
        mm, p = trades.T.nonzero()
        s, u = s[p], u[p]
    return s, u, mm, np.minimum(res_supply[s, mm], res_demand[u, mm])
