"""Per-month indicators, their totals, the run summary, and the DataCollector reporters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from eipsim.domain.economics import PairEconomics
    from eipsim.domain.facilities import Flows
    from eipsim.domain.model import EIPModel

# Viet Nam grid emission factor 2022, 0.6766 t CO2/MWh (MONRE, Department of Climate Change).
GRID_CO2_T_PER_MWH = 0.6766

TIMESERIES_COLUMNS = (
    "step",
    "firms",
    "occupancy",
    "firms_in_symbiosis",
    "firms_in_links",
    "adoption_share",
    "active_links",
    "pending_links",
    "links_formed_total",
    "links_ended_total",
    "waste_generated_t",
    "exchanged_t",
    "exchanged_links_t",
    "exchanged_facilities_t",
    "landfilled_t",
    "diversion_rate",
    "heat_exchanged_mwh",
    "solar_mwh",
    "co2_avoided_t",
    "net_benefit_usd",
    "mean_trust_same_nationality",
    "mean_trust_cross_nationality",
    "mean_trust_in_operator",
    "platform_listings",
    "recp_aware_share",
    "recp_applied_share",
    "facilities_built",
    "facility_users",
    "operator_cash_usd",
    "government_budget_usd",
    "eip_score",
    "eip_certified",
)

SUMMARY_KEYS = (
    "steps",
    "seed",
    "firms",
    "occupancy",
    "adoption_share",
    "firms_in_symbiosis",
    "active_links",
    "links_formed",
    "links_ended",
    "diversion_rate",
    "total_waste_generated_t",
    "total_exchanged_t",
    "total_landfilled_t",
    "total_heat_exchanged_mwh",
    "total_solar_mwh",
    "total_co2_avoided_t",
    "total_net_benefit_usd",
    "mean_adoption_share",
    "first_link_step",
    "step_adoption_10pct",
    "eip_score",
    "eip_certified",
    "first_certified_step",
    "mean_trust_same_nationality",
    "mean_trust_cross_nationality",
    "operator_cash_usd",
    "government_budget_usd",
)


def metric(model: EIPModel, key: str) -> Any:
    """DataCollector reporter: this month's value of one indicator."""
    return model.metrics[key]


@dataclass
class LinkView:
    supplier: Any
    user: Any
    material: str
    tonnes_last: float
    start_step: int


@dataclass
class LinkFlows:
    """What the active links moved this month."""

    out: np.ndarray  # (N, M) delivered by supplier
    inn: np.ndarray  # (N, M) received by user
    by_material: np.ndarray  # (M,)
    benefit_usd: float = 0.0

    @classmethod
    def empty(cls, n: int, m: int) -> LinkFlows:
        return cls(np.zeros((n, m)), np.zeros((n, m)), np.zeros(m))

    def add(self, s, u, m, delivered, e: PairEconomics) -> None:
        n, M = self.out.shape
        self.out += np.bincount(s * M + m, delivered, n * M).reshape(n, M)
        self.inn += np.bincount(u * M + m, delivered, n * M).reshape(n, M)
        self.by_material += np.bincount(m, delivered, M)
        self.benefit_usd += float(e.benefit.sum())


@dataclass
class Totals:
    """Running totals over the run."""

    links_formed: int = 0
    closures: int = 0
    arrivals: int = 0
    rejected_prospects: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, metrics: dict[str, Any]) -> None:
        for k in (
            "waste_generated_t",
            "exchanged_t",
            "landfilled_t",
            "heat_exchanged_mwh",
            "solar_mwh",
            "co2_avoided_t",
            "net_benefit_usd",
        ):
            self.sums[k] = self.sums.get(k, 0.0) + float(metrics[k])


def symbiosis_facilities(model: EIPModel) -> list:
    """Built facilities that carry a symbiosis (Circular 05/2025 (b), shared production
    infrastructure) and have users: the steam network, and the central wastewater plant
    whose users are the firms taking reuse water. Sending residues to the materials-recovery
    facility is waste management (it counts in exchanged_t, not in adoption), and the solar
    micro-grid is energy self-supply (reported as solar_mwh)."""
    return [
        f
        for f in model.operator.facilities
        if f.built and f.users and f.kind in ("steam_network", "wastewater_treatment")
    ]


def symbiosis_members(model: EIPModel) -> tuple[np.ndarray, np.ndarray]:
    """Firms in symbiosis in the sense of Circular 05/2025: (a) exchanging with another firm,
    or (b) using shared production infrastructure. Returns (in any, in links)."""
    n = model.park.n_plots
    L = model.links
    rows = L.rows(1)
    in_links = np.zeros(n, dtype=bool)
    in_links[L.s[rows]] = True
    in_links[L.u[rows]] = True
    members = in_links.copy()
    for fac in symbiosis_facilities(model):
        members[np.fromiter(fac.users, dtype=int)] = True
    alive = model.state.alive
    return members & alive, in_links & alive


def compute(
    model: EIPModel,
    supply: np.ndarray,
    links: LinkFlows,
    fac: Flows,
    res_supply: np.ndarray,
) -> dict[str, Any]:
    cat, st = model.catalogue, model.state
    ton = ~cat.is_energy
    generated = float(supply[:, ton].sum())
    ex_links = float(links.by_material[ton].sum())
    ex_fac = float(fac.recovered[ton].sum())
    exchanged = ex_links + ex_fac
    landfilled = float(res_supply[:, ton].sum() + (fac.intake - fac.recovered)[ton].sum())
    heat = float(links.by_material[~ton].sum() + fac.recovered[~ton].sum())
    co2 = float((links.by_material + fac.recovered) @ cat.mat["co2_t_per_unit"])
    co2 += fac.solar_mwh * GRID_CO2_T_PER_MWH
    firms = int(st.alive.sum())
    members, in_links = symbiosis_members(model)
    same, cross = model.trust.mean_by_group(st.alive, st.nat)
    alive = st.alive
    L = model.links
    return {
        "step": model.month,
        "firms": firms,
        "occupancy": firms / model.park.n_plots,
        "firms_in_symbiosis": int(members.sum()),
        "firms_in_links": int(in_links.sum()),
        "adoption_share": float(members.sum() / firms) if firms else 0.0,
        "active_links": int(L.rows(1).size),
        "pending_links": int(L.rows(0).size),
        "links_formed_total": int(model.totals.links_formed),
        "links_ended_total": int(L.rows(2).size),
        "waste_generated_t": generated,
        "exchanged_t": exchanged,
        "exchanged_links_t": ex_links,
        "exchanged_facilities_t": ex_fac,
        "landfilled_t": landfilled,
        "diversion_rate": exchanged / generated if generated > 0 else 0.0,
        "heat_exchanged_mwh": heat,
        "solar_mwh": float(fac.solar_mwh),
        "co2_avoided_t": co2,
        "net_benefit_usd": float(links.benefit_usd + fac.benefit_usd),
        "mean_trust_same_nationality": same,
        "mean_trust_cross_nationality": cross,
        "mean_trust_in_operator": float(st.trust_op[alive].mean()) if firms else float("nan"),
        "platform_listings": int(st.listed[alive].sum()),
        "recp_aware_share": float(st.recp_aware[alive].mean()) if firms else 0.0,
        "recp_applied_share": float(st.recp_applied[alive].mean()) if firms else 0.0,
        "facilities_built": sum(f.built for f in model.operator.facilities),
        "facility_users": sum(len(f.users) for f in model.operator.facilities if f.built),
        "operator_cash_usd": float(model.operator.cash_usd),
        "government_budget_usd": float(model.government.budget_usd),
        "eip_score": float(model.government.score),
        "eip_certified": bool(model.government.certified),
    }


def _first_step(ts: pd.DataFrame, mask: pd.Series) -> int:
    hit = ts.loc[mask, "step"]
    return int(hit.iloc[0]) if len(hit) else -1


def summarise(model: EIPModel, ts: pd.DataFrame) -> dict[str, Any]:
    """Final indicators of a run; -1 marks 'never happened' for first-step keys."""
    last = ts.iloc[-1]
    sums = model.totals.sums
    gen = sums.get("waste_generated_t", 0.0)
    return {
        "steps": int(last["step"]),
        "seed": int(model.seed_used),
        "firms": int(last["firms"]),
        "occupancy": float(last["occupancy"]),
        "adoption_share": float(last["adoption_share"]),
        "firms_in_symbiosis": int(last["firms_in_symbiosis"]),
        "active_links": int(last["active_links"]),
        "links_formed": int(model.totals.links_formed),
        "links_ended": int(last["links_ended_total"]),
        "diversion_rate": float(sums.get("exchanged_t", 0.0) / gen) if gen > 0 else 0.0,
        "total_waste_generated_t": gen,
        "total_exchanged_t": sums.get("exchanged_t", 0.0),
        "total_landfilled_t": sums.get("landfilled_t", 0.0),
        "total_heat_exchanged_mwh": sums.get("heat_exchanged_mwh", 0.0),
        "total_solar_mwh": sums.get("solar_mwh", 0.0),
        "total_co2_avoided_t": sums.get("co2_avoided_t", 0.0),
        "total_net_benefit_usd": sums.get("net_benefit_usd", 0.0),
        "mean_adoption_share": float(ts["adoption_share"].mean()),
        "first_link_step": _first_step(ts, ts["active_links"] > 0),
        "step_adoption_10pct": _first_step(ts, ts["adoption_share"] >= 0.10),
        "eip_score": float(last["eip_score"]),
        "eip_certified": bool(last["eip_certified"]),
        "first_certified_step": _first_step(ts, ts["eip_certified"].astype(bool)),
        "mean_trust_same_nationality": float(last["mean_trust_same_nationality"]),
        "mean_trust_cross_nationality": float(last["mean_trust_cross_nationality"]),
        "operator_cash_usd": float(last["operator_cash_usd"]),
        "government_budget_usd": float(last["government_budget_usd"]),
    }
