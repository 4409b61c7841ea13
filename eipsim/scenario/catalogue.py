"""Sector, material and facility catalogues as arrays indexed by material.

The economics is vectorised over candidate pairs, so per-material constants live in
numpy arrays (one entry per material) rather than in dicts looked up per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

import numpy as np
import yaml


@dataclass(frozen=True)
class Catalogue:
    materials: tuple[str, ...]
    sectors: tuple[str, ...]
    sector_labels: dict[str, str]
    facilities: dict[str, dict[str, Any]]
    criteria: dict[str, dict[str, Any]]
    # per-material columns of data/materials.yaml, shape (M,): every numeric column as
    # float, every yes/no column as bool, text columns (unit) as object arrays
    mat: dict[str, np.ndarray]
    # per-sector matrices, shape (S, M): units per month for a firm of size 1
    supply: np.ndarray
    demand: np.ndarray
    recp_capex: np.ndarray
    recp_saving: np.ndarray
    recp_reduction: np.ndarray
    # per-sector transform (-1 / 0 where a sector transforms nothing), shape (S,)
    transform_in: np.ndarray
    transform_out: np.ndarray
    transform_yield: np.ndarray
    transform_residue: np.ndarray
    transform_residue_yield: np.ndarray
    transform_cost: np.ndarray

    @cached_property
    def is_energy(self) -> np.ndarray:
        """Materials measured in MWh (kept out of tonnage balances)."""
        return np.asarray(self.mat["unit"] == "MWh", dtype=bool)

    @property
    def piped(self) -> np.ndarray:
        return self.mat["piped"]

    @property
    def needs_standard(self) -> np.ndarray:
        return self.mat["needs_standard"]

    @property
    def needs_cost_disclosure(self) -> np.ndarray:
        return self.mat["needs_cost_disclosure"]

    def material_index(self, name: str) -> int:
        return self.materials.index(name)

    def sector_index(self, name: str) -> int:
        return self.sectors.index(name)


def _read(name: str) -> dict:
    text = resources.files("eipsim.scenario.data").joinpath(name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def material_columns(mats: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Every column of the material table as one array over materials, by its values' kind:
    yes/no -> bool, numbers -> float, text -> object. A new field is a new YAML column; every
    material must give it (an omission is an error naming the material and the field)."""
    names = list(mats)
    columns: list[str] = []
    for m in names:
        columns += [c for c in mats[m] if c not in columns]
    out: dict[str, np.ndarray] = {}
    for c in columns:
        missing = [m for m in names if c not in mats[m]]
        if missing:
            raise ValueError(f"materials.yaml: {missing[0]}: missing field {c!r}")
        values = [mats[m][c] for m in names]
        if all(isinstance(v, bool) for v in values):
            out[c] = np.array(values, dtype=bool)
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[c] = np.array([float(v) for v in values])
        else:
            out[c] = np.array([str(v) for v in values], dtype=object)
    return out


@cache
def load_catalogue() -> Catalogue:
    """Load the shipped catalogues once per process (they are read-only)."""
    mats = _read("materials.yaml")["materials"]
    secs = _read("sectors.yaml")["sectors"]
    facs = _read("facilities.yaml")["facilities"]
    crit = _read("criteria.yaml")["criteria"]
    names = tuple(mats)
    arr = material_columns(mats)
    sector_names = tuple(secs)
    supply = np.zeros((len(sector_names), len(names)))
    demand = np.zeros_like(supply)
    for s, sec in enumerate(sector_names):
        for m, v in (secs[sec].get("supplies") or {}).items():
            supply[s, names.index(m)] = v
        for m, v in (secs[sec].get("demands") or {}).items():
            demand[s, names.index(m)] = v
    recp = [secs[s]["recp"] for s in sector_names]
    S = len(sector_names)
    t_in, t_out, t_res = (np.full(S, -1, dtype=np.int64) for _ in range(3))
    t_yield, t_res_yield, t_cost = np.zeros(S), np.zeros(S), np.zeros(S)
    for k, sec in enumerate(sector_names):
        tr = secs[sec].get("transforms")
        if tr:
            t_in[k], t_out[k] = names.index(tr["input"]), names.index(tr["output"])
            t_yield[k], t_cost[k] = float(tr["yield"]), float(tr.get("processing_usd_per_t", 0.0))
            if tr.get("residue"):
                t_res[k], t_res_yield[k] = names.index(tr["residue"]), float(tr["residue_yield"])
    return Catalogue(
        materials=names,
        sectors=sector_names,
        sector_labels={s: secs[s].get("label", s) for s in sector_names},
        facilities=facs,
        criteria=crit,
        mat=arr,
        supply=supply,
        demand=demand,
        recp_capex=np.array([r["capex_usd"] for r in recp], dtype=float),
        recp_saving=np.array([r["saving_usd_per_month"] for r in recp], dtype=float),
        recp_reduction=np.array([r["waste_reduction"] for r in recp], dtype=float),
        transform_in=t_in,
        transform_out=t_out,
        transform_yield=t_yield,
        transform_residue=t_res,
        transform_residue_yield=t_res_yield,
        transform_cost=t_cost,
    )
