"""Sector, material and facility catalogues as arrays indexed by material.

The economics is vectorised over candidate pairs, so per-material constants live in
numpy arrays (one entry per material) rather than in dicts looked up per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import yaml

_MATERIAL_FIELDS = (
    "disposal_usd",
    "virgin_price_usd",
    "substitution_ratio",
    "treatment_usd",
    "transport_factor",
    "permit_cost_usd",
    "permit_delay_months",
    "permit_refusal_prob",
    "co2_t_per_unit",
    "variability",
)


@dataclass(frozen=True)
class Catalogue:
    materials: tuple[str, ...]
    sectors: tuple[str, ...]
    sector_labels: dict[str, str]
    facilities: dict[str, dict[str, Any]]
    criteria: dict[str, dict[str, Any]]
    # per-material arrays, shape (M,)
    mat: dict[str, np.ndarray]
    is_energy: np.ndarray
    piped: np.ndarray
    needs_standard: np.ndarray
    needs_cost_disclosure: np.ndarray
    # per-sector matrices, shape (S, M): units per month for a firm of size 1
    supply: np.ndarray
    demand: np.ndarray
    recp_capex: np.ndarray
    recp_saving: np.ndarray
    recp_reduction: np.ndarray

    def material_index(self, name: str) -> int:
        return self.materials.index(name)

    def sector_index(self, name: str) -> int:
        return self.sectors.index(name)


def _read(name: str) -> dict:
    text = resources.files("eipsim.scenario.data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@cache
def load_catalogue() -> Catalogue:
    """Load the shipped catalogues once per process (they are read-only)."""
    mats = _read("materials.yaml")["materials"]
    secs = _read("sectors.yaml")["sectors"]
    facs = _read("facilities.yaml")["facilities"]
    crit = _read("criteria.yaml")["criteria"]
    names = tuple(mats)
    arr = {f: np.array([float(mats[m][f]) for m in names]) for f in _MATERIAL_FIELDS}
    flags = {
        f: np.array([bool(mats[m][f]) for m in names])
        for f in ("piped", "needs_standard", "needs_cost_disclosure")
    }
    sector_names = tuple(secs)
    supply = np.zeros((len(sector_names), len(names)))
    demand = np.zeros_like(supply)
    for s, sec in enumerate(sector_names):
        for m, v in (secs[sec].get("supplies") or {}).items():
            supply[s, names.index(m)] = v
        for m, v in (secs[sec].get("demands") or {}).items():
            demand[s, names.index(m)] = v
    recp = [secs[s]["recp"] for s in sector_names]
    return Catalogue(
        materials=names,
        sectors=sector_names,
        sector_labels={s: secs[s].get("label", s) for s in sector_names},
        facilities=facs,
        criteria=crit,
        mat=arr,
        is_energy=np.array([mats[m]["unit"] == "MWh" for m in names]),
        piped=flags["piped"],
        needs_standard=flags["needs_standard"],
        needs_cost_disclosure=flags["needs_cost_disclosure"],
        supply=supply,
        demand=demand,
        recp_capex=np.array([r["capex_usd"] for r in recp], dtype=float),
        recp_saving=np.array([r["saving_usd_per_month"] for r in recp], dtype=float),
        recp_reduction=np.array([r["waste_reduction"] for r in recp], dtype=float),
    )
