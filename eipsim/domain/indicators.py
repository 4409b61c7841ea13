"""Indicators: one registry of what a run reports each month and in its summary.

Each month ``MonthLog.record`` keeps a few raw numbers of a read-only ``MonthView`` of the
park (arrays, link table, facility state, this month's flows): ``MonthScalars`` and the
month's flows by material. Each ``Indicator`` names a timeseries column, its unit, how the
column is computed from those raw numbers (``Months``), for all months at once when the
columns are read, and how it enters the run summary (last value, run total, mean, first
month a condition holds). ``TIMESERIES_COLUMNS``, ``SUMMARY_KEYS``, the collector's columns
and docs/INDICATORS.md are all derived from ``INDICATORS``: a new indicator is one entry here
(and a raw number, if it needs one no other reads).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from itertools import chain
from typing import Any, NamedTuple

import numpy as np

from eipsim.domain import network
from eipsim.domain.facilities import Facility, Flows
from eipsim.domain.links import (
    ACTIVE,
    ENDED,
    PENDING,
    REASONS,
    STATUS_NAMES,
    ActiveLinks,
    LinkFlows,
    LinkTable,
)
from eipsim.domain.network import NetworkMeasures
from eipsim.domain.state import FirmState
from eipsim.domain.trust import TrustMatrix
from eipsim.domain.types import BoolArray, FloatArray, IntArray
from eipsim.scenario.catalogue import Catalogue

# Viet Nam grid emission factor 2022, 0.6766 t CO2/MWh (MONRE, Department of Climate Change).
GRID_CO2_T_PER_MWH = 0.6766
# Products (sold goods, not waste) while the catalogue has no ``product`` column.
PRODUCTS = ("recycled_pellets",)


# the month's flows by material (M,) each, kept by ``MonthLog.record``: moved by links,
# recovered by facilities, their deliveries to firms and to outside uses, generated, left
# (not exchanged: the residual after links and facilities, and the facilities' unrecovered
# intake), and the facilities' unrecovered intake
LINKS, RECOVERED, TO_FIRMS, OUTSIDE, GENERATED, LEFT, UNRECOVERED = range(7)
# the material sets the flows are summed over (``Months.total``, ``MaterialSets.index``)
TONNES, ENERGY, SOLID, SOLID_SOLD, WATER = range(5)


@dataclass(eq=False)
class MonthView:
    """A read-only view of the park at the end of a month: what indicators and the EIP
    assessment are computed from (never the model object itself). Nothing writes to it
    (``dataclasses.replace`` makes a changed one); it is not a frozen dataclass because the
    model builds one every month and a frozen one takes four times as long to build."""

    step: int
    n_plots: int
    catalogue: Catalogue
    state: FirmState
    links: LinkTable
    trust: TrustMatrix
    facilities: Sequence[Facility]
    supply: FloatArray  # (N, M) realised supply this month
    res_supply: FloatArray  # (N, M) left after links and facilities: landfilled
    link_flows: LinkFlows
    fac_flows: Flows
    base_shared_land: float  # the park plan's land for green space, roads, shared services
    operator_cash_usd: float
    platform_active: bool
    events_held: int
    government_budget_usd: float
    eip_score: float
    eip_certified: bool
    # plots the operator turned into shared land (operator.shared_land_target), as a share
    # of park land
    government_spending_usd: float = 0.0  # subsidies paid so far
    government_revenue_usd: float = 0.0  # levies collected so far
    converted_land: float = 0.0
    last_event_attendance: int = 0  # firms at the latest matchmaking event
    firms_screened: int = 0  # RECP screenings by the operator so far
    # the catalogue's material sets (``material_sets``): the model builds them once a run
    sets: MaterialSets | None = None
    # the link terms of earlier months (``LinkTermsMemo``): the model keeps one a run
    memo: LinkTermsMemo | None = None

    @cached_property
    def alive(self) -> BoolArray:
        return self.state.alive

    @cached_property
    def firms(self) -> int:
        return int(np.count_nonzero(self.alive))

    @cached_property
    def link_terms(self) -> LinkTerms:
        """What the indicators read of the link table (kept between months by ``memo``)."""
        if self.memo is None:
            return link_terms(self.links, self.state.nat, self.n_plots)
        n_mat = len(self.catalogue.materials)
        return self.memo.link_terms(self.links, self.state.nat, self.n_plots, n_mat)

    @property
    def active_rows(self) -> IntArray:
        """Rows of the active links."""
        return self.link_terms.active_rows

    @cached_property
    def members(self) -> tuple[BoolArray, BoolArray]:
        """Firms in symbiosis in the sense of Circular 05/2025: (a) exchanging with another
        firm, or (b) using shared production infrastructure. Returns (in any, in links):
        the same array when no facility carries a symbiosis."""
        in_links = self.link_terms.in_links
        shared = symbiosis_facilities(self.facilities)
        if not shared:
            alive_in_links = in_links & self.alive
            return alive_in_links, alive_in_links
        members = in_links.copy()
        for fac in shared:
            members[fac.user_slots()] = True
        return members & self.alive, in_links & self.alive

    @cached_property
    def trust_by_nationality(self) -> tuple[float, float]:
        return self.trust.mean_by_group(self.alive, self.state.nat)

    @cached_property
    def material_sets(self) -> MaterialSets:
        return material_sets(self.catalogue) if self.sets is None else self.sets

    @property
    def solid(self) -> BoolArray:
        """Solid by-products: tonnes, not piped (water), not products (sold goods)."""
        return self.material_sets.solid

    @cached_property
    def fac_parts(self) -> tuple[FloatArray, FloatArray, float]:
        """This month's facility deliveries (M,) to firms and to outside uses (greening), and
        the levies the facilities' users avoided, summed over the facilities' own flows.
        Only what the month's total shows was recovered or taken in counts, so a view with
        no flows (``EIPModel.view``) has none."""
        M = self.fac_flows.recovered.size
        to_firms, outside, levy = np.zeros(M), np.zeros(M), 0.0
        if not self.facilities:
            return to_firms, outside, levy
        for f in self.facilities:
            fl = f.flows_last
            if fl is None or fl.to_firms.size != M:
                continue
            to_firms += fl.to_firms
            outside += fl.outside
            levy += fl.levy_avoided_usd
        moved = self.fac_flows.recovered > 0
        if not self.fac_flows.intake.any():
            levy = 0.0
        return to_firms * moved, outside * moved, levy


@dataclass(frozen=True)
class LinkTerms:
    """What the indicators read of the link table, found in one pass."""

    active_rows: IntArray
    by_status: tuple[int, ...]  # links pending, active and ended (indexed by status code)
    in_links: BoolArray  # (n_plots,) slots with an active link
    network: NetworkMeasures  # of the active links
    cross_national: float  # share of the active links between nationalities
    mean_lifetime: float  # network.mean_lifetime of the ended links that delivered


def link_terms(
    links: LinkTable, nat: IntArray, n_plots: int, active: ActiveLinks | None = None
) -> LinkTerms:
    """The ``LinkTerms`` of ``links`` (nationalities ``nat`` by slot; ``active``: the
    table's ``LinkTable.active``, when the caller has it)."""
    if active is None:
        rows: IntArray = links.rows(ACTIVE)
        s, u = links.s[rows], links.u[rows]
    else:
        rows, s, u = active.rows, active.s, active.u
    in_links = np.zeros(n_plots, dtype=bool)
    in_links[s] = True
    in_links[u] = True
    # a count over a count: the value of the flags' mean, without its Python wrapper
    cross = np.count_nonzero(nat[s] != nat[u]) / rows.size if rows.size else 0.0
    by_status, lifetime = _status_terms(links)
    return LinkTerms(
        active_rows=rows,
        by_status=by_status,
        in_links=in_links,
        network=network.measures(s, u),
        cross_national=cross,
        mean_lifetime=lifetime,
    )


def _status_terms(links: LinkTable) -> tuple[tuple[int, ...], float]:
    """The ``LinkTerms`` that follow the statuses alone: the links by status and the mean
    lifetime of the ended links that delivered (a row's start never changes; its end and
    reason are written with its status, by ``LinkTable.end_links``)."""
    n = links.n
    status = links.status[:n]
    ended = status == ENDED
    for why in network.NEVER_STARTED:
        ended &= links.reason[:n] != REASONS.index(why)
    by_status = tuple(np.bincount(status, minlength=len(STATUS_NAMES)).tolist())
    return by_status, network.mean_lifetime(links.start[:n], links.end[:n], ended)


class LinkTermsMemo:
    """The ``LinkTerms`` of the last month, kept until a status changes (most months none
    does): a row's partners and start never change, and its end and reason change only with
    its status. Of them, the active links' part (in-links, network measures, cross-national
    share) is kept while ``LinkTable.active`` returns the same object, which it does while
    the active rows are the same (a link added as pending, or refused its permit, changes
    only the counts and lifetimes). (They also read the nationality of active links'
    partners, which are alive firms: a firm's nationality does not change while it is in
    the park.)"""

    def __init__(self) -> None:
        self._table: LinkTable | None = None
        self._key = b""  # the statuses the terms are of
        self._active: ActiveLinks | None = None  # the active links they are of
        self._terms: LinkTerms | None = None

    def link_terms(self, links: LinkTable, nat: IntArray, n_plots: int, n_mat: int) -> LinkTerms:
        """The ``LinkTerms`` of ``links`` (``n_mat``: the material count the model asks
        ``LinkTable.active`` with, so that both share its object)."""
        key = links.status[: links.n].tobytes()
        terms = self._terms
        if terms is not None and links is self._table and key == self._key:
            return terms
        active = links.active(n_mat)
        if terms is not None and links is self._table and active is self._active:
            by_status, lifetime = _status_terms(links)
            terms = replace(terms, by_status=by_status, mean_lifetime=lifetime)
        else:
            terms = link_terms(links, nat, n_plots, active)
        self._table, self._key, self._active, self._terms = links, key, active, terms
        return terms


@dataclass(frozen=True)
class MaterialSets:
    """The sets of materials the indicators sum over, and the CO2 credits per unit: fixed
    for a run, so the model builds them once (``material_sets``), not every month."""

    tonnage: BoolArray  # counted in tonnes (energy, in MWh, is reported apart)
    energy: BoolArray
    solid: BoolArray  # solid by-products: tonnes, not piped (water), not products
    solid_sold: BoolArray  # of the solids, the streams sold off-park today (disposal < 0)
    water: BoolArray  # piped media counted in tonnes (m3): treated wastewater
    co2: FloatArray  # CO2 per unit moved (co2_t_per_unit)
    co2_credit: FloatArray  # CO2 per unit credited against the counterfactual

    @cached_property
    def index(self) -> tuple[IntArray, ...]:
        """The materials of each set, ``TONNES`` .. ``WATER``."""
        sets = (self.tonnage, self.energy, self.solid, self.solid_sold, self.water)
        return tuple(np.flatnonzero(s) for s in sets)


def material_sets(catalogue: Catalogue) -> MaterialSets:
    """The catalogue's ``MaterialSets``."""
    mat = catalogue.mat
    tonnage = ~catalogue.is_energy
    product = mat["product"] if "product" in mat else _named(catalogue.materials)
    solid = np.asarray(tonnage & ~mat["piped"] & ~product, dtype=bool)
    return MaterialSets(
        tonnage=tonnage,
        energy=~tonnage,
        solid=solid,
        solid_sold=solid & (mat["disposal_usd"] < 0),
        water=np.asarray(mat["piped"] & tonnage, dtype=bool),
        co2=mat["co2_t_per_unit"],
        co2_credit=mat["co2_t_per_unit"] * (mat["disposal_usd"] >= 0),
    )


@cache
def _named(materials: tuple[str, ...]) -> BoolArray:
    """Materials named in PRODUCTS."""
    return np.isin(np.asarray(materials), PRODUCTS)


def symbiosis_facilities(facilities: Sequence[Facility]) -> list[Facility]:
    """Built facilities that carry a symbiosis (Circular 05/2025 (b), shared production
    infrastructure) and have users: the steam network, and the central wastewater plant
    whose users are the firms taking reuse water. Sending residues to the materials-recovery
    facility is waste management (it counts in exchanged_t, not in adoption), and the solar
    micro-grid is energy self-supply (reported as solar_mwh)."""
    return [f for f in facilities if f.built and f.users and f.symbiosis]


class MonthScalars(NamedTuple):
    """A month's raw numbers that the indicators' columns are computed from, kept by
    ``MonthLog.record`` (the flows by material are kept apart, as arrays)."""

    step: int
    firms: int  # alive firms
    in_symbiosis: int  # alive firms in symbiosis (``MonthView.members``)
    in_links: int  # alive firms in links
    pending: int  # links by status
    active: int
    ended: int
    formed: int  # links formed so far: the link table's rows
    attendance: int  # firms at the latest matchmaking event
    screened: int  # RECP screenings by the operator so far
    listed: int  # alive firms listed on the platform
    recp_aware: int  # alive firms aware of RECP
    recp_applied: int  # alive firms applying RECP
    facilities_built: int
    facility_users: int  # firms connected to built facilities
    solar_kwp: float  # rooftop solar on the micro-grid's alive users
    solar_mwh: float
    link_benefit_usd: float
    facility_benefit_usd: float
    link_levy_avoided_usd: float  # transfers within the links' benefit
    link_subsidy_usd: float
    facility_levy_avoided_usd: float  # levies the facilities' users avoided (``fac_parts``)
    trust_same: float  # mean trust within and across nationalities (NaN below two firms)
    trust_cross: float
    trust_in_operator: float  # summed over the alive firms
    operator_cash_usd: float
    government_budget_usd: float
    government_spending_usd: float
    government_revenue_usd: float
    eip_score: float
    eip_certified: bool
    cross_national: float  # share of the active links between nationalities
    mean_degree: float  # of the link graph (``network.measures``)
    hub_degree: int
    largest_component: int
    mean_lifetime: float  # months delivered by the ended links, -1 if none


_SCALAR = {name: k for k, name in enumerate(MonthScalars._fields)}


class Months:
    """The raw numbers of consecutive months (``MonthLog``), a row a month: each indicator's
    column is computed from them for all the months at once."""

    def __init__(
        self, scalars: Sequence[MonthScalars], flows: FloatArray, n_plots: int, sets: MaterialSets
    ) -> None:
        # (flattened by fromiter: a third faster than ``np.array`` of the tuples)
        self._scalars = np.fromiter(
            chain.from_iterable(scalars), dtype=float, count=len(scalars) * len(_SCALAR)
        ).reshape(len(scalars), len(_SCALAR))
        self.flows = flows  # (months, 7, M): the month's flows by material, ``LINKS`` ..
        self.n_plots = n_plots
        self.sets = sets

    def __getitem__(self, name: str) -> FloatArray:
        """One ``MonthScalars`` field for each month (as floats: counts are exact)."""
        return self._scalars[:, _SCALAR[name]]

    @cached_property
    def _sums(self) -> list[FloatArray]:
        """(months, 7) for each material set (``TONNES`` .. ``WATER``): each flow summed over
        the set's materials. A row of the C-ordered ``take`` is summed pairwise like the
        month's masked 1-D flow alone, so each sum has the bits of ``flow[set].sum()``."""
        return [self.flows.take(idx, axis=2).sum(axis=2) for idx in self.sets.index]

    def total(self, materials: int, flow: int) -> FloatArray:
        """Each month's ``flow`` (``LINKS`` ..) summed over a material set (``TONNES`` ..)."""
        return self._sums[materials][:, flow]

    def flow(self, flow: int) -> FloatArray:
        """(months, M): each month's ``flow`` (``LINKS`` ..) by material."""
        return self.flows[:, flow]


def _weighed(by_material: FloatArray, weights: FloatArray) -> FloatArray:
    """Each month's flows (months, M) weighed by material, a dot product a month: one
    ``matmul`` call over the stack of (1, M) @ (M, 1) products runs the same inner loop as
    ``month @ weights`` for each month (a (months, M) @ (M,) product would add them in
    another order)."""
    product: FloatArray = (by_material[:, None, :] @ weights[:, None])[:, 0, 0]
    return product


def _ratio(num: FloatArray, den: FloatArray, otherwise: float = 0.0) -> FloatArray:
    """num / den for the months den > 0 (counts and tonnes are never negative), else
    ``otherwise``."""
    out = np.full(num.shape, otherwise)
    return np.divide(num, den, out=out, where=den > 0)


class MonthLog:
    """Each month's raw numbers (``MonthScalars``, and the flows by material): what the
    indicators' columns are computed from, for all months at once when they are read, not
    month by month (``columns``, ``latest``)."""

    def __init__(self, n_plots: int, n_materials: int, sets: MaterialSets) -> None:
        self.n_plots = n_plots
        self.sets = sets
        self._scalars: list[MonthScalars] = []
        self._flows = np.zeros((12, 7, n_materials))  # grows by doubling

    def __len__(self) -> int:
        return len(self._scalars)

    def record(self, v: MonthView) -> None:
        """Keep this month's raw numbers."""
        t = len(self._scalars)
        if t == len(self._flows):
            self._flows = np.concatenate([self._flows, np.zeros_like(self._flows)])
        flows, fl, lf = self._flows[t], v.fac_flows, v.link_flows
        flows[LINKS] = lf.by_material
        flows[RECOVERED] = fl.recovered
        facility_levy = 0.0
        if v.facilities:  # without, their deliveries are the rows' zeros
            flows[TO_FIRMS], flows[OUTSIDE], facility_levy = v.fac_parts
        # (``np.add.reduce``: ``sum`` without its Python wrapper, the same reduction)
        np.add.reduce(v.supply, axis=0, out=flows[GENERATED])
        np.subtract(fl.intake, fl.recovered, out=flows[UNRECOVERED])
        np.add(np.add.reduce(v.res_supply, axis=0), flows[UNRECOVERED], out=flows[LEFT])
        st, alive, terms = v.state, v.alive, v.link_terms
        members, in_links = v.members
        firms_in_links = int(np.count_nonzero(in_links))
        in_symbiosis = firms_in_links if members is in_links else int(np.count_nonzero(members))
        same, cross = v.trust_by_nationality
        self._scalars.append(
            MonthScalars(
                step=v.step,
                firms=v.firms,
                in_symbiosis=in_symbiosis,
                in_links=firms_in_links,
                pending=terms.by_status[PENDING],
                active=terms.by_status[ACTIVE],
                ended=terms.by_status[ENDED],
                formed=v.links.n,
                attendance=v.last_event_attendance,
                screened=v.firms_screened,
                listed=int(np.count_nonzero(st.listed & alive)),
                recp_aware=int(np.count_nonzero(st.recp_aware & alive)),
                recp_applied=int(np.count_nonzero(st.recp_applied & alive)),
                facilities_built=sum(f.built for f in v.facilities),
                facility_users=sum(len(f.users) for f in v.facilities if f.built),
                solar_kwp=_solar_kwp(v),
                solar_mwh=fl.solar_mwh,
                link_benefit_usd=lf.benefit_usd,
                facility_benefit_usd=fl.benefit_usd,
                link_levy_avoided_usd=lf.levy_avoided_usd,
                link_subsidy_usd=lf.subsidy_usd,
                facility_levy_avoided_usd=facility_levy,
                trust_same=same,
                trust_cross=cross,
                trust_in_operator=float(st.trust_op[alive].sum()),
                operator_cash_usd=v.operator_cash_usd,
                government_budget_usd=v.government_budget_usd,
                government_spending_usd=v.government_spending_usd,
                government_revenue_usd=v.government_revenue_usd,
                eip_score=v.eip_score,
                eip_certified=v.eip_certified,
                cross_national=terms.cross_national,
                mean_degree=terms.network.mean_degree,
                hub_degree=terms.network.max_degree,
                largest_component=terms.network.largest_component,
                mean_lifetime=terms.mean_lifetime,
            )
        )

    def columns(self) -> dict[str, np.ndarray]:
        """Every indicator's column over the months so far."""
        return self._columns_from(0)

    def latest(self) -> dict[str, Any]:
        """Every indicator's value in the last month (none before the first)."""
        if not self._scalars:
            return {}
        last = len(self._scalars) - 1
        return {name: col.tolist()[0] for name, col in self._columns_from(last).items()}

    def _columns_from(self, start: int) -> dict[str, np.ndarray]:
        stop = len(self._scalars)
        months = Months(self._scalars[start:], self._flows[start:stop], self.n_plots, self.sets)
        return {i.name: np.asarray(i.column(months), dtype=i.dtype) for i in INDICATORS}


def _solar_kwp(v: MonthView) -> float:
    """Rooftop solar installed on the alive users of built facilities that size it."""
    kwp = 0.0
    for f in v.facilities:
        if f.built and f.users and "kwp_per_firm" in f.spec:
            users = f.user_slots()
            users = users[v.alive[users]]
            kwp += float(f.spec["kwp_per_firm"]) * float(v.state.size[users].sum())
    return kwp


# -- summary reducers: (the run's columns, the indicator's column name) -> summary value ------
Columns = Mapping[str, np.ndarray]  # the timeseries: one array per column, a row per month
Reducer = Callable[[Columns, str], Any]


def last(ts: Columns, col: str) -> Any:
    return ts[col][-1]


def total(ts: Columns, col: str) -> float:
    """Run total, summed month by month in order: the last running sum (``cumsum`` adds one
    month at a time; + 0.0 gives a total of zeros the sign of a sum that starts at 0.0)."""
    column = ts[col]
    if not column.size:
        return 0.0
    return float(np.cumsum(column, dtype=float)[-1]) + 0.0


def mean(ts: Columns, col: str) -> float:
    """Mean over the months without a NaN (as pandas' mean: the NaN months count as 0 in
    the sum, and not in the count)."""
    return float(np.nanmean(ts[col]))


def first_step(condition: Callable[[np.ndarray], np.ndarray]) -> Reducer:
    """The first month the condition holds, -1 if never."""

    def reduce(ts: Columns, col: str) -> int:
        hit = condition(ts[col]).nonzero()[0]
        return int(ts["step"][hit[0]]) if hit.size else -1

    return reduce


def ratio_of_totals(numerator: str, denominator: str) -> Reducer:
    def reduce(ts: Columns, col: str) -> float:
        den = total(ts, denominator)
        return total(ts, numerator) / den if den > 0 else 0.0

    return reduce


@dataclass(frozen=True)
class Indicator:
    """A monthly indicator: its column, unit, kind of value, how its column is computed from
    the months' raw numbers (all months at once), and the summary keys it yields."""

    name: str
    unit: str  # "count", "share", "t", "MWh", "t CO2", "USD", "trust 0-1", "month", "0-1 score"
    label: str
    column: Callable[[Months], FloatArray]
    dtype: type = float  # int for counts, bool for yes/no; the summary casts to it
    summary: dict[str, Reducer] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """What a chart needs to know: "count" (integer axis), "share", or the unit."""
        return "count" if self.dtype is int else self.unit


LAST = last


def _exchanged(m: Months) -> FloatArray:
    return m.total(TONNES, LINKS) + m.total(TONNES, RECOVERED)


def _energy_exchanged(m: Months) -> FloatArray:
    """Energy moved by links and facilities (two indicators report it)."""
    return m.total(ENERGY, LINKS) + m.total(ENERGY, RECOVERED)


def _co2(m: Months) -> FloatArray:
    moved = m.flow(LINKS) + m.flow(RECOVERED)
    return _weighed(moved, m.sets.co2) + m["solar_mwh"] * GRID_CO2_T_PER_MWH


def _net_benefit(m: Months) -> FloatArray:
    """Firms' benefit from links and facilities, levies avoided and subsidies included."""
    return m["link_benefit_usd"] + m["facility_benefit_usd"]


# -- honest indicators (issue 8, item 10; docs/ODD.md §7.17) -------------------------------
def _solid_exchanged(m: Months) -> FloatArray:
    """Solids exchanged by links or recovered by facilities (read by two indicators)."""
    return m.total(SOLID, LINKS) + m.total(SOLID, RECOVERED)


def _co2_counterfactual(m: Months) -> FloatArray:
    """Against what happens without the park's exchange: a stream sold off-park today is
    recycled anyway (no credit: the transport saved is not counted); the rest is credited
    e_m per unit put to use by a firm (links, facility deliveries to firms, recovered
    secondary material); greening water and solar are left out."""
    fac_used = m.flow(RECOVERED) - m.flow(OUTSIDE)  # all recovered but outside uses
    return _weighed(m.flow(LINKS) + fac_used, m.sets.co2_credit)


def _social_benefit(m: Months) -> FloatArray:
    transfers = m["link_levy_avoided_usd"] + m["link_subsidy_usd"]
    return _net_benefit(m) - (transfers + m["facility_levy_avoided_usd"])


HONEST: tuple[Indicator, ...] = (
    Indicator(
        "solid_generated_t",
        "t",
        "solid by-products generated (not water, energy or products)",
        lambda m: m.total(SOLID, GENERATED),
        summary={"total_solid_generated_t": total},
    ),
    Indicator(
        "solid_exchanged_t",
        "t",
        "solids exchanged by links or recovered by facilities",
        _solid_exchanged,
        summary={"total_solid_exchanged_t": total},
    ),
    Indicator(
        "solid_landfilled_t",
        "t",
        "solids not exchanged: landfilled, or sold off-park (solid_sold_off_park_t)",
        lambda m: m.total(SOLID, LEFT),
        summary={"total_solid_landfilled_t": total},
    ),
    Indicator(
        "solid_sold_off_park_t",
        "t",
        "of solids not exchanged: streams sold off-park today (scrap), not landfilled",
        lambda m: m.total(SOLID_SOLD, LEFT),
        summary={"total_solid_sold_off_park_t": total},
    ),
    Indicator(
        "solid_diversion_rate",
        "share",
        "solid diversion rate (solid exchanged / solid generated)",
        lambda m: _ratio(_solid_exchanged(m), m.total(SOLID, GENERATED)),
        summary={"solid_diversion_rate": ratio_of_totals("solid_exchanged_t", "solid_generated_t")},
    ),
    Indicator(
        "water_reused_m3",
        "m3",
        "treated water reused by firms (links and the central plant)",
        lambda m: m.total(WATER, LINKS) + m.total(WATER, TO_FIRMS),
        summary={"total_water_reused_m3": total},
    ),
    Indicator(
        "water_greening_m3",
        "m3",
        "treated water used for greening by the central plant",
        lambda m: m.total(WATER, OUTSIDE),
        summary={"total_water_greening_m3": total},
    ),
    Indicator(
        "energy_exchanged_mwh",
        "MWh",
        "energy exchanged by links and networks (solar apart)",
        _energy_exchanged,
        summary={"total_energy_exchanged_mwh": total},
    ),
    Indicator(
        "solar_capacity_kwp",
        "kWp",
        "rooftop solar installed on the micro-grid's users",
        lambda m: m["solar_kwp"],
        summary={"solar_capacity_kwp": LAST},
    ),
    Indicator(
        "co2_avoided_counterfactual_t",
        "t CO2",
        "CO2 avoided against the counterfactual (no credit for streams sold today; no solar)",
        _co2_counterfactual,
        summary={"total_co2_avoided_counterfactual_t": total},
    ),
    Indicator(
        "co2_avoided_solar_t",
        "t CO2",
        "CO2 avoided by solar (grid factor)",
        lambda m: m["solar_mwh"] * GRID_CO2_T_PER_MWH,
        summary={"total_co2_avoided_solar_t": total},
    ),
    Indicator(
        "private_benefit_usd",
        "USD",
        "firms' benefit, levies avoided and subsidies included",
        _net_benefit,
        summary={"total_private_benefit_usd": total},
    ),
    Indicator(
        "social_benefit_usd",
        "USD",
        "benefit to society: firms' benefit less levies avoided and subsidies (transfers)",
        _social_benefit,
        summary={"total_social_benefit_usd": total},
    ),
    Indicator(
        "cross_national_link_share",
        "share",
        "active links between firms of different nationalities",
        lambda m: m["cross_national"],
        summary={"cross_national_link_share": LAST},
    ),
    Indicator(
        "mean_degree",
        "partners",
        "mean partners per firm in links",
        lambda m: m["mean_degree"],
        summary={"mean_degree": LAST},
    ),
    Indicator(
        "hub_degree",
        "count",
        "partners of the top hub (the largest degree)",
        lambda m: m["hub_degree"],
        int,
        {"hub_degree": LAST},
    ),
    Indicator(
        "largest_component_share",
        "share",
        "firms in the largest linked component / firms in symbiosis",
        lambda m: _ratio(m["largest_component"], m["in_symbiosis"]),
        summary={"largest_component_share": LAST},
    ),
    Indicator(
        "mean_link_lifetime_months",
        "month",
        "mean months delivered by ended links (-1 if none)",
        lambda m: m["mean_lifetime"],
        summary={"mean_link_lifetime_months": LAST},
    ),
)

INDICATORS: tuple[Indicator, ...] = (
    Indicator("step", "month", "month", lambda m: m["step"], int, {"steps": LAST}),
    Indicator("firms", "count", "firms in the park", lambda m: m["firms"], int, {"firms": LAST}),
    Indicator(
        "occupancy",
        "share",
        "share of plots occupied",
        lambda m: m["firms"] / m.n_plots,
        summary={"occupancy": LAST},
    ),
    Indicator(
        "firms_in_symbiosis",
        "count",
        "firms in symbiosis (links or shared infrastructure)",
        lambda m: m["in_symbiosis"],
        int,
        {"firms_in_symbiosis": LAST},
    ),
    Indicator("firms_in_links", "count", "firms in links", lambda m: m["in_links"], int),
    Indicator(
        "adoption_share",
        "share",
        "adoption share (firms in symbiosis)",
        lambda m: _ratio(m["in_symbiosis"], m["firms"]),
        summary={
            "adoption_share": LAST,
            "mean_adoption_share": mean,
            "step_adoption_10pct": first_step(lambda s: s >= 0.10),
        },
    ),
    Indicator(
        "active_links",
        "count",
        "active links",
        lambda m: m["active"],
        int,
        {"active_links": LAST, "first_link_step": first_step(lambda s: s > 0)},
    ),
    Indicator("pending_links", "count", "links awaiting a permit", lambda m: m["pending"], int),
    Indicator(
        "last_event_attendance",
        "count",
        "firms at the latest matchmaking event (0 before the first)",
        lambda m: m["attendance"],
        int,
        {"last_event_attendance": LAST},
    ),
    Indicator(
        "recp_firms_screened",
        "count",
        "firms the operator has screened for RECP so far",
        lambda m: m["screened"],
        int,
        {"recp_firms_screened": LAST},
    ),
    Indicator(
        "links_formed_total",
        "count",
        "links formed so far",
        lambda m: m["formed"],
        int,
        {"links_formed": LAST},
    ),
    Indicator(
        "links_ended_total",
        "count",
        "links ended so far",
        lambda m: m["ended"],
        int,
        {"links_ended": LAST},
    ),
    Indicator(
        "waste_generated_t",
        "t",
        "waste generated, all tonnage streams (water m3 ~ t)",
        lambda m: m.total(TONNES, GENERATED),
        summary={"total_waste_generated_t": total},
    ),
    Indicator(
        "exchanged_t",
        "t",
        "exchanged or reused, all tonnage streams",
        _exchanged,
        summary={"total_exchanged_t": total},
    ),
    Indicator(
        "exchanged_links_t",
        "t",
        "exchanged by firm-to-firm links",
        lambda m: m.total(TONNES, LINKS),
    ),
    Indicator(
        "exchanged_facilities_t",
        "t",
        "reused via shared facilities",
        lambda m: m.total(TONNES, RECOVERED),
    ),
    Indicator(
        "landfilled_t",
        "t",
        "landfilled or discharged",
        lambda m: m.total(TONNES, LEFT),
        summary={"total_landfilled_t": total},
    ),
    Indicator(
        "diversion_rate",
        "share",
        "diversion rate (exchanged / generated)",
        lambda m: _ratio(_exchanged(m), m.total(TONNES, GENERATED)),
        summary={"diversion_rate": ratio_of_totals("exchanged_t", "waste_generated_t")},
    ),
    Indicator(
        "heat_exchanged_mwh",
        "MWh",
        "heat exchanged",
        _energy_exchanged,
        summary={"total_heat_exchanged_mwh": total},
    ),
    Indicator(
        "solar_mwh",
        "MWh",
        "solar micro-grid output",
        lambda m: m["solar_mwh"],
        summary={"total_solar_mwh": total},
    ),
    Indicator(
        "co2_avoided_t",
        "t CO2",
        "CO2 avoided",
        _co2,
        summary={"total_co2_avoided_t": total},
    ),
    Indicator(
        "net_benefit_usd",
        "USD",
        "firms' net benefit from links and facilities",
        _net_benefit,
        summary={"total_net_benefit_usd": total},
    ),
    Indicator(
        "mean_trust_same_nationality",
        "trust 0-1",
        "mean trust within a nationality",
        lambda m: m["trust_same"],
        summary={"mean_trust_same_nationality": LAST},
    ),
    Indicator(
        "mean_trust_cross_nationality",
        "trust 0-1",
        "mean trust across nationalities",
        lambda m: m["trust_cross"],
        summary={"mean_trust_cross_nationality": LAST},
    ),
    Indicator(
        "mean_trust_in_operator",
        "trust 0-1",
        "mean trust in the operator",
        # (sum / count: the same value as .mean(), without its Python wrapper)
        lambda m: _ratio(m["trust_in_operator"], m["firms"], otherwise=float("nan")),
    ),
    Indicator(
        "platform_listings",
        "count",
        "firms listed on the platform",
        lambda m: m["listed"],
        int,
    ),
    Indicator(
        "recp_aware_share",
        "share",
        "firms aware of RECP",
        lambda m: _ratio(m["recp_aware"], m["firms"]),
    ),
    Indicator(
        "recp_applied_share",
        "share",
        "firms applying RECP",
        lambda m: _ratio(m["recp_applied"], m["firms"]),
    ),
    Indicator(
        "facilities_built",
        "count",
        "shared facilities built",
        lambda m: m["facilities_built"],
        int,
    ),
    Indicator(
        "facility_users",
        "count",
        "firms connected to shared facilities",
        lambda m: m["facility_users"],
        int,
    ),
    Indicator(
        "operator_cash_usd",
        "USD",
        "operator's cash",
        lambda m: m["operator_cash_usd"],
        summary={"operator_cash_usd": LAST},
    ),
    Indicator(
        "government_budget_usd",
        "USD",
        "net public spending (subsidies paid minus levies collected)",
        lambda m: m["government_budget_usd"],
        summary={"government_budget_usd": LAST},
    ),
    Indicator(
        "government_spending_usd",
        "USD",
        "public spending so far: exchange, capital and RECP subsidies",
        lambda m: m["government_spending_usd"],
        summary={"government_spending_usd": LAST},
    ),
    Indicator(
        "government_revenue_usd",
        "USD",
        "public revenue so far: landfill tax and carbon price",
        lambda m: m["government_revenue_usd"],
        summary={"government_revenue_usd": LAST},
    ),
    Indicator(
        "eip_score",
        "0-1 score",
        "share of EIP criteria met",
        lambda m: m["eip_score"],
        summary={"eip_score": LAST},
    ),
    Indicator(
        "eip_certified",
        "yes/no",
        "EIP certified",
        lambda m: m["eip_certified"],
        bool,
        {"eip_certified": LAST, "first_certified_step": first_step(lambda s: s.astype(bool))},
    ),
    *HONEST,
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}
TIMESERIES_COLUMNS: tuple[str, ...] = tuple(i.name for i in INDICATORS)
RUN_KEYS = ("seed",)  # summary keys that describe the run, not an indicator
SUMMARY_KEYS: tuple[str, ...] = RUN_KEYS + tuple(k for i in INDICATORS for k in i.summary)


def compute(view: MonthView) -> dict[str, Any]:
    """Every indicator's value in ``view``, taken as a month of its own."""
    log = MonthLog(view.n_plots, view.fac_flows.recovered.size, view.material_sets)
    log.record(view)
    return log.latest()


def summarise(ts: Columns, seed: int) -> dict[str, Any]:
    """Final indicators of a run from its timeseries' columns (``IndicatorCollector.columns``);
    -1 marks 'never happened' for first-step keys."""
    out: dict[str, Any] = {"seed": int(seed)}
    for ind in INDICATORS:
        for key, reduce in ind.summary.items():
            value = reduce(ts, ind.name)
            out[key] = ind.dtype(value) if reduce is LAST else value
    return out
