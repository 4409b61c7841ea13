"""Indicators: one registry of what a run reports each month and in its summary.

Each ``Indicator`` names a timeseries column, its unit, how it is computed from a
read-only ``MonthView`` of the park (arrays, link table, facility state, this month's
flows), and how it enters the run summary (last value, run total, mean, first month a
condition holds). ``TIMESERIES_COLUMNS``, ``SUMMARY_KEYS``, the DataCollector reporters and
docs/INDICATORS.md are all derived from ``INDICATORS``: a new indicator is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any

import numpy as np

from eipsim.domain import network
from eipsim.domain.facilities import Facility, Flows
from eipsim.domain.links import (
    ACTIVE,
    ENDED,
    PENDING,
    REASONS,
    STATUS_NAMES,
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


# rows of ``MonthView.sums``: the month's flows by material (M,) each
LINKS, RECOVERED, TO_FIRMS, OUTSIDE, GENERATED, LEFT, UNRECOVERED = range(7)
# columns of ``MonthView.sums``: the material sets (``MaterialSets.by_set``)
TONNES, ENERGY, SOLID, SOLID_SOLD, WATER = range(5)


@dataclass(frozen=True)
class MonthView:
    """A read-only view of the park at the end of a month: what indicators and the EIP
    assessment are computed from (never the model object itself)."""

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
        return self.memo.link_terms(self.links, self.state.nat, self.n_plots)

    @property
    def active_rows(self) -> IntArray:
        """Rows of the active links."""
        return self.link_terms.active_rows

    @property
    def links_by_status(self) -> tuple[int, ...]:
        """Links pending, active and ended (indexed by the status codes)."""
        return self.link_terms.by_status

    @cached_property
    def members(self) -> tuple[BoolArray, BoolArray]:
        """Firms in symbiosis in the sense of Circular 05/2025: (a) exchanging with another
        firm, or (b) using shared production infrastructure. Returns (in any, in links)."""
        in_links = self.link_terms.in_links
        members = in_links
        shared = symbiosis_facilities(self.facilities)
        if shared:
            members = in_links.copy()
            for fac in shared:
                members[fac.user_slots()] = True
        return members & self.alive, in_links & self.alive

    @cached_property
    def in_symbiosis(self) -> int:
        """Firms in symbiosis (``members``), counted once for the indicators that read it."""
        return int(np.count_nonzero(self.members[0]))

    @cached_property
    def trust_by_nationality(self) -> tuple[float, float]:
        return self.trust.mean_by_group(self.alive, self.state.nat)

    @cached_property
    def material_sets(self) -> MaterialSets:
        return material_sets(self.catalogue) if self.sets is None else self.sets

    @property
    def tonnage(self) -> BoolArray:
        """Materials counted in tonnes (energy, in MWh, is reported apart)."""
        return self.material_sets.tonnage

    @cached_property
    def generated_t(self) -> float:
        return float(self.supply[:, self.tonnage].sum())

    @cached_property
    def flows_by_material(self) -> FloatArray:
        """(7, M): the month's flows by material, one row each (``LINKS`` .. ``UNRECOVERED``):
        moved by links, recovered by facilities, their deliveries to firms and to outside
        uses, generated, left (not exchanged: the residual after links and facilities, and
        the facilities' unrecovered intake), and the facilities' unrecovered intake."""
        fl = self.fac_flows
        flows = np.empty((7, fl.recovered.size))
        flows[LINKS] = self.link_flows.by_material
        flows[RECOVERED] = fl.recovered
        flows[TO_FIRMS], flows[OUTSIDE] = self.fac_parts[:2]
        self.supply.sum(axis=0, out=flows[GENERATED])
        np.subtract(fl.intake, fl.recovered, out=flows[UNRECOVERED])
        np.add(self.res_supply.sum(axis=0), flows[UNRECOVERED], out=flows[LEFT])
        return flows

    @cached_property
    def sums(self) -> list[list[float]]:
        """``sums[set][flow]``: each of the month's flows by material (``flows_by_material``)
        summed over each material set (``TONNES`` .. ``WATER``), two array operations a set
        for some twenty sums. A row of the C-ordered ``take`` is summed like the masked 1-D
        flow alone (the same numbers, pairwise in the same order), so each sum has the bits
        of ``flow[set].sum()``."""
        flows = self.flows_by_material
        return [flows.take(idx, axis=1).sum(axis=1).tolist() for idx in self.material_sets.index]

    @cached_property
    def exchanged_links_t(self) -> float:
        return self.sums[TONNES][LINKS]

    @cached_property
    def exchanged_facilities_t(self) -> float:
        return self.sums[TONNES][RECOVERED]

    @cached_property
    def energy_exchanged_mwh(self) -> float:
        """Energy moved by links and facilities (two indicators report it)."""
        return self.sums[ENERGY][LINKS] + self.sums[ENERGY][RECOVERED]

    # -- honest indicators (issue 8, item 10) ---------------------------------------------
    @property
    def solid(self) -> BoolArray:
        """Solid by-products: tonnes, not piped (water), not products (sold goods)."""
        return self.material_sets.solid

    @property
    def solid_generated_t(self) -> float:
        """Solids generated (read by two indicators)."""
        return self.sums[SOLID][GENERATED]

    @cached_property
    def solid_exchanged_t(self) -> float:
        """Solids exchanged by links or recovered by facilities (read by two indicators)."""
        return self.sums[SOLID][LINKS] + self.sums[SOLID][RECOVERED]

    @property
    def water(self) -> BoolArray:
        """Piped media counted in tonnes (m3): treated wastewater."""
        return self.material_sets.water

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

    @property
    def network(self) -> NetworkMeasures:
        return self.link_terms.network

    def share_of_firms(self, flags: BoolArray) -> float:
        """Share of the alive firms with ``flags`` (a count over a count: the same value as
        the mean of the flags over alive firms)."""
        return np.count_nonzero(flags & self.alive) / self.firms if self.firms else 0.0


@dataclass(frozen=True)
class LinkTerms:
    """What the indicators read of the link table, found in one pass."""

    active_rows: IntArray
    by_status: tuple[int, ...]  # links pending, active and ended (indexed by status code)
    in_links: BoolArray  # (n_plots,) slots with an active link
    network: NetworkMeasures  # of the active links
    cross_national: float  # share of the active links between nationalities
    mean_lifetime: float  # network.mean_lifetime of the ended links that delivered


def link_terms(links: LinkTable, nat: IntArray, n_plots: int) -> LinkTerms:
    """The ``LinkTerms`` of ``links`` (nationalities ``nat`` by slot)."""
    n = links.n
    status = links.status[:n]
    rows: IntArray = (status == ACTIVE).nonzero()[0]
    s, u = links.s[rows], links.u[rows]
    in_links = np.zeros(n_plots, dtype=bool)
    in_links[s] = True
    in_links[u] = True
    # a count over a count: the value of the flags' mean, without its Python wrapper
    cross = np.count_nonzero(nat[s] != nat[u]) / rows.size if rows.size else 0.0
    ended = status == ENDED
    for why in network.NEVER_STARTED:
        ended &= links.reason[:n] != REASONS.index(why)
    return LinkTerms(
        active_rows=rows,
        by_status=tuple(np.bincount(status, minlength=len(STATUS_NAMES)).tolist()),
        in_links=in_links,
        network=network.measures(s, u),
        cross_national=cross,
        mean_lifetime=network.mean_lifetime(links.start[:n], links.end[:n], ended),
    )


class LinkTermsMemo:
    """The ``LinkTerms`` of the last month, kept until a link is added or one of the columns
    they read changes (most months none does): keyed on those columns' bytes. (They also
    read the nationality of active links' partners, which are alive firms: a firm's
    nationality does not change while it is in the park.)"""

    def __init__(self) -> None:
        self._table: LinkTable | None = None
        self._key = b""
        self._terms: LinkTerms | None = None

    def link_terms(self, links: LinkTable, nat: IntArray, n_plots: int) -> LinkTerms:
        n = links.n
        columns = (links.status, links.s, links.u, links.start, links.end, links.reason)
        key = b"".join([c[:n].tobytes() for c in columns])
        if self._terms is None or links is not self._table or key != self._key:
            self._table, self._key = links, key
            self._terms = link_terms(links, nat, n_plots)
        return self._terms


@dataclass(frozen=True)
class MaterialSets:
    """The sets of materials the indicators sum over, and the CO2 credits per unit: fixed
    for a run, so the model builds them once (``material_sets``), not every month."""

    tonnage: BoolArray  # counted in tonnes (energy, in MWh, is reported apart)
    energy: BoolArray
    solid: BoolArray  # solid by-products: tonnes, not piped (water), not products
    solid_sold: BoolArray  # of the solids, the streams sold off-park today (disposal < 0)
    water: BoolArray  # piped media counted in tonnes (m3): treated wastewater
    co2_credit: FloatArray  # CO2 per unit credited against the counterfactual

    @cached_property
    def index(self) -> tuple[IntArray, ...]:
        """The materials of each set, in the order of ``MonthView.sums``' columns."""
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


# -- summary reducers: (the run's columns, the indicator's column name) -> summary value ------
Columns = Mapping[str, np.ndarray]  # the timeseries: one array per column, a row per month
Reducer = Callable[[Columns, str], Any]


def last(ts: Columns, col: str) -> Any:
    return ts[col][-1]


def total(ts: Columns, col: str) -> float:
    """Run total, summed month by month in order."""
    s = 0.0
    for v in ts[col].tolist():
        s += float(v)
    return s


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
    """A monthly indicator: its column, unit, kind of value, how it is computed, and the
    summary keys it yields."""

    name: str
    unit: str  # "count", "share", "t", "MWh", "t CO2", "USD", "trust 0-1", "month", "0-1 score"
    label: str
    compute: Callable[[MonthView], Any]
    dtype: type = float  # int for counts, bool for yes/no; the summary casts to it
    summary: dict[str, Reducer] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """What a chart needs to know: "count" (integer axis), "share", or the unit."""
        return "count" if self.dtype is int else self.unit


def _links(status: int) -> Callable[[MonthView], int]:
    return lambda v: v.links_by_status[status]


def _generated(v: MonthView) -> float:
    return v.generated_t


def _ex_links(v: MonthView) -> float:
    return v.exchanged_links_t


def _ex_fac(v: MonthView) -> float:
    return v.exchanged_facilities_t


def _landfilled(v: MonthView) -> float:
    return float(v.res_supply[:, v.tonnage].sum()) + v.sums[TONNES][UNRECOVERED]


def _diversion(v: MonthView) -> float:
    gen = _generated(v)
    return (_ex_links(v) + _ex_fac(v)) / gen if gen > 0 else 0.0


def _heat(v: MonthView) -> float:
    return v.energy_exchanged_mwh


def _co2(v: MonthView) -> float:
    moved = v.link_flows.by_material + v.fac_flows.recovered
    co2 = float(moved @ v.catalogue.mat["co2_t_per_unit"])
    return co2 + v.fac_flows.solar_mwh * GRID_CO2_T_PER_MWH


LAST = last


# -- honest indicators (issue 8, item 10; docs/ODD.md §7.17) -------------------------------
def _solid_generated(v: MonthView) -> float:
    return v.solid_generated_t


def _solid_exchanged(v: MonthView) -> float:
    return v.solid_exchanged_t


def _solid_landfilled(v: MonthView) -> float:
    return v.sums[SOLID][LEFT]


def _solid_sold_off_park(v: MonthView) -> float:
    """Of the solids not exchanged, the streams sold off-park today (disposal_usd < 0)."""
    return v.sums[SOLID_SOLD][LEFT]


def _solid_diversion(v: MonthView) -> float:
    gen = _solid_generated(v)
    return _solid_exchanged(v) / gen if gen > 0 else 0.0


def _water_reused(v: MonthView) -> float:
    return v.sums[WATER][LINKS] + v.sums[WATER][TO_FIRMS]


def _water_greening(v: MonthView) -> float:
    return v.sums[WATER][OUTSIDE]


def _solar_kwp(v: MonthView) -> float:
    kwp = 0.0
    for f in v.facilities:
        if f.built and f.users and "kwp_per_firm" in f.spec:
            users = f.user_slots()
            users = users[v.alive[users]]
            kwp += float(f.spec["kwp_per_firm"]) * float(v.state.size[users].sum())
    return kwp


def _co2_counterfactual(v: MonthView) -> float:
    """Against what happens without the park's exchange: a stream sold off-park today is
    recycled anyway (no credit: the transport saved is not counted); the rest is credited
    e_m per unit put to use by a firm (links, facility deliveries to firms, recovered
    secondary material); greening water and solar are left out."""
    fac_used = v.fac_flows.recovered - v.fac_parts[1]  # all recovered but outside uses
    moved = v.link_flows.by_material + fac_used
    return float(moved @ v.material_sets.co2_credit)


def _private_benefit(v: MonthView) -> float:
    return float(v.link_flows.benefit_usd + v.fac_flows.benefit_usd)


def _social_benefit(v: MonthView) -> float:
    lf = v.link_flows
    transfers = lf.levy_avoided_usd + lf.subsidy_usd + v.fac_parts[2]
    return _private_benefit(v) - transfers


def _largest_component_share(v: MonthView) -> float:
    members = v.in_symbiosis
    return v.network.largest_component / members if members else 0.0


HONEST: tuple[Indicator, ...] = (
    Indicator(
        "solid_generated_t",
        "t",
        "solid by-products generated (not water, energy or products)",
        _solid_generated,
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
        _solid_landfilled,
        summary={"total_solid_landfilled_t": total},
    ),
    Indicator(
        "solid_sold_off_park_t",
        "t",
        "of solids not exchanged: streams sold off-park today (scrap), not landfilled",
        _solid_sold_off_park,
        summary={"total_solid_sold_off_park_t": total},
    ),
    Indicator(
        "solid_diversion_rate",
        "share",
        "solid diversion rate (solid exchanged / solid generated)",
        _solid_diversion,
        summary={"solid_diversion_rate": ratio_of_totals("solid_exchanged_t", "solid_generated_t")},
    ),
    Indicator(
        "water_reused_m3",
        "m3",
        "treated water reused by firms (links and the central plant)",
        _water_reused,
        summary={"total_water_reused_m3": total},
    ),
    Indicator(
        "water_greening_m3",
        "m3",
        "treated water used for greening by the central plant",
        _water_greening,
        summary={"total_water_greening_m3": total},
    ),
    Indicator(
        "energy_exchanged_mwh",
        "MWh",
        "energy exchanged by links and networks (solar apart)",
        _heat,
        summary={"total_energy_exchanged_mwh": total},
    ),
    Indicator(
        "solar_capacity_kwp",
        "kWp",
        "rooftop solar installed on the micro-grid's users",
        _solar_kwp,
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
        lambda v: float(v.fac_flows.solar_mwh) * GRID_CO2_T_PER_MWH,
        summary={"total_co2_avoided_solar_t": total},
    ),
    Indicator(
        "private_benefit_usd",
        "USD",
        "firms' benefit, levies avoided and subsidies included",
        _private_benefit,
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
        lambda v: v.link_terms.cross_national,
        summary={"cross_national_link_share": LAST},
    ),
    Indicator(
        "mean_degree",
        "partners",
        "mean partners per firm in links",
        lambda v: float(v.network.mean_degree),
        summary={"mean_degree": LAST},
    ),
    Indicator(
        "hub_degree",
        "count",
        "partners of the top hub (the largest degree)",
        lambda v: int(v.network.max_degree),
        int,
        {"hub_degree": LAST},
    ),
    Indicator(
        "largest_component_share",
        "share",
        "firms in the largest linked component / firms in symbiosis",
        _largest_component_share,
        summary={"largest_component_share": LAST},
    ),
    Indicator(
        "mean_link_lifetime_months",
        "month",
        "mean months delivered by ended links (-1 if none)",
        lambda v: v.link_terms.mean_lifetime,
        summary={"mean_link_lifetime_months": LAST},
    ),
)

LAST = last
INDICATORS: tuple[Indicator, ...] = (
    Indicator("step", "month", "month", lambda v: v.step, int, {"steps": LAST}),
    Indicator("firms", "count", "firms in the park", lambda v: v.firms, int, {"firms": LAST}),
    Indicator(
        "occupancy",
        "share",
        "share of plots occupied",
        lambda v: v.firms / v.n_plots,
        summary={"occupancy": LAST},
    ),
    Indicator(
        "firms_in_symbiosis",
        "count",
        "firms in symbiosis (links or shared infrastructure)",
        lambda v: v.in_symbiosis,
        int,
        {"firms_in_symbiosis": LAST},
    ),
    Indicator(
        "firms_in_links",
        "count",
        "firms in links",
        lambda v: int(np.count_nonzero(v.members[1])),
        int,
    ),
    Indicator(
        "adoption_share",
        "share",
        "adoption share (firms in symbiosis)",
        lambda v: v.in_symbiosis / v.firms if v.firms else 0.0,
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
        _links(ACTIVE),
        int,
        {"active_links": LAST, "first_link_step": first_step(lambda s: s > 0)},
    ),
    Indicator("pending_links", "count", "links awaiting a permit", _links(PENDING), int),
    Indicator(
        "last_event_attendance",
        "count",
        "firms at the latest matchmaking event (0 before the first)",
        lambda v: v.last_event_attendance,
        int,
        {"last_event_attendance": LAST},
    ),
    Indicator(
        "recp_firms_screened",
        "count",
        "firms the operator has screened for RECP so far",
        lambda v: v.firms_screened,
        int,
        {"recp_firms_screened": LAST},
    ),
    Indicator(
        "links_formed_total",
        "count",
        "links formed so far",
        lambda v: int(v.links.n),
        int,
        {"links_formed": LAST},
    ),
    Indicator(
        "links_ended_total",
        "count",
        "links ended so far",
        _links(ENDED),
        int,
        {"links_ended": LAST},
    ),
    Indicator(
        "waste_generated_t",
        "t",
        "waste generated, all tonnage streams (water m3 ~ t)",
        _generated,
        summary={"total_waste_generated_t": total},
    ),
    Indicator(
        "exchanged_t",
        "t",
        "exchanged or reused, all tonnage streams",
        lambda v: _ex_links(v) + _ex_fac(v),
        summary={"total_exchanged_t": total},
    ),
    Indicator("exchanged_links_t", "t", "exchanged by firm-to-firm links", _ex_links),
    Indicator("exchanged_facilities_t", "t", "reused via shared facilities", _ex_fac),
    Indicator(
        "landfilled_t",
        "t",
        "landfilled or discharged",
        _landfilled,
        summary={"total_landfilled_t": total},
    ),
    Indicator(
        "diversion_rate",
        "share",
        "diversion rate (exchanged / generated)",
        _diversion,
        summary={"diversion_rate": ratio_of_totals("exchanged_t", "waste_generated_t")},
    ),
    Indicator(
        "heat_exchanged_mwh",
        "MWh",
        "heat exchanged",
        _heat,
        summary={"total_heat_exchanged_mwh": total},
    ),
    Indicator(
        "solar_mwh",
        "MWh",
        "solar micro-grid output",
        lambda v: float(v.fac_flows.solar_mwh),
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
        lambda v: float(v.link_flows.benefit_usd + v.fac_flows.benefit_usd),
        summary={"total_net_benefit_usd": total},
    ),
    Indicator(
        "mean_trust_same_nationality",
        "trust 0-1",
        "mean trust within a nationality",
        lambda v: v.trust_by_nationality[0],
        summary={"mean_trust_same_nationality": LAST},
    ),
    Indicator(
        "mean_trust_cross_nationality",
        "trust 0-1",
        "mean trust across nationalities",
        lambda v: v.trust_by_nationality[1],
        summary={"mean_trust_cross_nationality": LAST},
    ),
    Indicator(
        "mean_trust_in_operator",
        "trust 0-1",
        "mean trust in the operator",
        # (sum / count: the same value as .mean(), without its Python wrapper)
        lambda v: float(v.state.trust_op[v.alive].sum() / v.firms) if v.firms else float("nan"),
    ),
    Indicator(
        "platform_listings",
        "count",
        "firms listed on the platform",
        lambda v: int(np.count_nonzero(v.state.listed & v.alive)),
        int,
    ),
    Indicator(
        "recp_aware_share",
        "share",
        "firms aware of RECP",
        lambda v: v.share_of_firms(v.state.recp_aware),
    ),
    Indicator(
        "recp_applied_share",
        "share",
        "firms applying RECP",
        lambda v: v.share_of_firms(v.state.recp_applied),
    ),
    Indicator(
        "facilities_built",
        "count",
        "shared facilities built",
        lambda v: sum(f.built for f in v.facilities),
        int,
    ),
    Indicator(
        "facility_users",
        "count",
        "firms connected to shared facilities",
        lambda v: sum(len(f.users) for f in v.facilities if f.built),
        int,
    ),
    Indicator(
        "operator_cash_usd",
        "USD",
        "operator's cash",
        lambda v: float(v.operator_cash_usd),
        summary={"operator_cash_usd": LAST},
    ),
    Indicator(
        "government_budget_usd",
        "USD",
        "net public spending (subsidies paid minus levies collected)",
        lambda v: float(v.government_budget_usd),
        summary={"government_budget_usd": LAST},
    ),
    Indicator(
        "government_spending_usd",
        "USD",
        "public spending so far: exchange, capital and RECP subsidies",
        lambda v: float(v.government_spending_usd),
        summary={"government_spending_usd": LAST},
    ),
    Indicator(
        "government_revenue_usd",
        "USD",
        "public revenue so far: landfill tax and carbon price",
        lambda v: float(v.government_revenue_usd),
        summary={"government_revenue_usd": LAST},
    ),
    Indicator(
        "eip_score",
        "0-1 score",
        "share of EIP criteria met",
        lambda v: float(v.eip_score),
        summary={"eip_score": LAST},
    ),
    Indicator(
        "eip_certified",
        "yes/no",
        "EIP certified",
        lambda v: bool(v.eip_certified),
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
    """This month's value of every indicator."""
    return {i.name: i.compute(view) for i in INDICATORS}


def summarise(ts: Columns, seed: int) -> dict[str, Any]:
    """Final indicators of a run from its timeseries' columns (``IndicatorCollector.columns``);
    -1 marks 'never happened' for first-step keys."""
    out: dict[str, Any] = {"seed": int(seed)}
    for ind in INDICATORS:
        for key, reduce in ind.summary.items():
            value = reduce(ts, ind.name)
            out[key] = ind.dtype(value) if reduce is LAST else value
    return out
