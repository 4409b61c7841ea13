"""Indicators: one registry of what a run reports each month and in its summary.

Each ``Indicator`` names a timeseries column, its unit, how it is computed from a
read-only ``MonthView`` of the park (arrays, link table, facility state, this month's
flows), and how it enters the run summary (last value, run total, mean, first month a
condition holds). ``TIMESERIES_COLUMNS``, ``SUMMARY_KEYS``, the DataCollector reporters and
docs/INDICATORS.md are all derived from ``INDICATORS``: a new indicator is one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from eipsim.domain.facilities import Facility, Flows
from eipsim.domain.links import ACTIVE, ENDED, PENDING, LinkFlows, LinkTable
from eipsim.domain.state import FirmState
from eipsim.domain.trust import TrustMatrix
from eipsim.domain.types import BoolArray, FloatArray
from eipsim.scenario.catalogue import Catalogue

# Viet Nam grid emission factor 2022, 0.6766 t CO2/MWh (MONRE, Department of Climate Change).
GRID_CO2_T_PER_MWH = 0.6766


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

    @cached_property
    def alive(self) -> BoolArray:
        return self.state.alive

    @cached_property
    def firms(self) -> int:
        return int(self.alive.sum())

    @cached_property
    def members(self) -> tuple[BoolArray, BoolArray]:
        """Firms in symbiosis in the sense of Circular 05/2025: (a) exchanging with another
        firm, or (b) using shared production infrastructure. Returns (in any, in links)."""
        L = self.links
        rows = L.rows(ACTIVE)
        in_links = np.zeros(self.n_plots, dtype=bool)
        in_links[L.s[rows]] = True
        in_links[L.u[rows]] = True
        members = in_links.copy()
        for fac in symbiosis_facilities(self.facilities):
            members[fac.user_slots()] = True
        return members & self.alive, in_links & self.alive

    @cached_property
    def trust_by_nationality(self) -> tuple[float, float]:
        return self.trust.mean_by_group(self.alive, self.state.nat)

    @cached_property
    def tonnage(self) -> BoolArray:
        """Materials counted in tonnes (energy, in MWh, is reported apart)."""
        return ~self.catalogue.is_energy

    @cached_property
    def generated_t(self) -> float:
        return float(self.supply[:, self.tonnage].sum())

    @cached_property
    def exchanged_links_t(self) -> float:
        return float(self.link_flows.by_material[self.tonnage].sum())

    @cached_property
    def exchanged_facilities_t(self) -> float:
        return float(self.fac_flows.recovered[self.tonnage].sum())

    def share_of_firms(self, flags: BoolArray) -> float:
        return float(flags[self.alive].mean()) if self.firms else 0.0


def symbiosis_facilities(facilities: Sequence[Facility]) -> list[Facility]:
    """Built facilities that carry a symbiosis (Circular 05/2025 (b), shared production
    infrastructure) and have users: the steam network, and the central wastewater plant
    whose users are the firms taking reuse water. Sending residues to the materials-recovery
    facility is waste management (it counts in exchanged_t, not in adoption), and the solar
    micro-grid is energy self-supply (reported as solar_mwh)."""
    return [f for f in facilities if f.built and f.users and f.symbiosis]


# -- summary reducers: (timeseries, the indicator's column name) -> summary value -----------
Reducer = Callable[[pd.DataFrame, str], Any]


def last(ts: pd.DataFrame, col: str) -> Any:
    return ts[col].iloc[-1]


def total(ts: pd.DataFrame, col: str) -> float:
    """Run total, summed month by month in order."""
    s = 0.0
    for v in ts[col].tolist():
        s += float(v)
    return s


def mean(ts: pd.DataFrame, col: str) -> float:
    return float(ts[col].mean())


def first_step(condition: Callable[[pd.Series], pd.Series]) -> Reducer:
    """The first month the condition holds, -1 if never."""

    def reduce(ts: pd.DataFrame, col: str) -> int:
        hit = ts.loc[condition(ts[col]), "step"]
        return int(hit.iloc[0]) if len(hit) else -1

    return reduce


def ratio_of_totals(numerator: str, denominator: str) -> Reducer:
    def reduce(ts: pd.DataFrame, col: str) -> float:
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
    return lambda v: int(v.links.rows(status).size)


def _generated(v: MonthView) -> float:
    return v.generated_t


def _ex_links(v: MonthView) -> float:
    return v.exchanged_links_t


def _ex_fac(v: MonthView) -> float:
    return v.exchanged_facilities_t


def _landfilled(v: MonthView) -> float:
    fl, ton = v.fac_flows, v.tonnage
    return float(v.res_supply[:, ton].sum() + (fl.intake - fl.recovered)[ton].sum())


def _diversion(v: MonthView) -> float:
    gen = _generated(v)
    return (_ex_links(v) + _ex_fac(v)) / gen if gen > 0 else 0.0


def _heat(v: MonthView) -> float:
    ton = v.tonnage
    return float(v.link_flows.by_material[~ton].sum() + v.fac_flows.recovered[~ton].sum())


def _co2(v: MonthView) -> float:
    moved = v.link_flows.by_material + v.fac_flows.recovered
    co2 = float(moved @ v.catalogue.mat["co2_t_per_unit"])
    return co2 + v.fac_flows.solar_mwh * GRID_CO2_T_PER_MWH


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
        lambda v: int(v.members[0].sum()),
        int,
        {"firms_in_symbiosis": LAST},
    ),
    Indicator("firms_in_links", "count", "firms in links", lambda v: int(v.members[1].sum()), int),
    Indicator(
        "adoption_share",
        "share",
        "adoption share (firms in symbiosis)",
        lambda v: float(v.members[0].sum() / v.firms) if v.firms else 0.0,
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
        lambda v: float(v.state.trust_op[v.alive].mean()) if v.firms else float("nan"),
    ),
    Indicator(
        "platform_listings",
        "count",
        "firms listed on the platform",
        lambda v: int(v.state.listed[v.alive].sum()),
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
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}
TIMESERIES_COLUMNS: tuple[str, ...] = tuple(i.name for i in INDICATORS)
RUN_KEYS = ("seed",)  # summary keys that describe the run, not an indicator
SUMMARY_KEYS: tuple[str, ...] = RUN_KEYS + tuple(k for i in INDICATORS for k in i.summary)


def compute(view: MonthView) -> dict[str, Any]:
    """This month's value of every indicator."""
    return {i.name: i.compute(view) for i in INDICATORS}


def summarise(ts: pd.DataFrame, seed: int) -> dict[str, Any]:
    """Final indicators of a run; -1 marks 'never happened' for first-step keys."""
    out: dict[str, Any] = {"seed": int(seed)}
    for ind in INDICATORS:
        for key, reduce in ind.summary.items():
            value = reduce(ts, ind.name)
            out[key] = ind.dtype(value) if reduce is LAST else value
    return out
