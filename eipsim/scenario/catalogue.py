"""Sector, material and facility catalogues as arrays indexed by material.

The economics is vectorised over candidate pairs, so per-material constants live in
numpy arrays (one entry per material) rather than in dicts looked up per pair.

``load_catalogue()`` is the package's catalogue (``data/*.yaml``), read once per process.
A scenario may bring its own materials and sectors (top-level ``materials:`` and
``sectors:``, entries in the format of ``data/materials.yaml`` and ``data/sectors.yaml``);
``scenario_catalogue`` merges them with the package's (or replaces it) for that scenario
only, and ``MaterialEntry`` / ``SectorEntry`` validate such entries. While a scenario is
validated, ``catalogue_names`` holds the material and sector names it may use, so the
schema's name checks (sector mix, reuse standards, facilities, roster) see the scenario's
own entries.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import Field, StrictBool, create_model, field_validator, model_validator

from eipsim.scenario.strict import Strict


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


@cache
def _package_raw() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The package's materials, sectors, facilities and criteria as read from data/ (not to
    be mutated: copy before changing)."""
    return (
        _read("materials.yaml")["materials"],
        _read("sectors.yaml")["sectors"],
        _read("facilities.yaml")["facilities"],
        _read("criteria.yaml")["criteria"],
    )


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


def build_catalogue(
    mats: Mapping[str, dict[str, Any]],
    secs: Mapping[str, dict[str, Any]],
    facs: dict[str, dict[str, Any]],
    crit: dict[str, dict[str, Any]],
) -> Catalogue:
    """A catalogue from material and sector entries in the format of data/*.yaml."""
    names = tuple(mats)
    arr = material_columns(dict(mats))
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
        sector_labels={s: secs[s].get("label") or s for s in sector_names},
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


@cache
def load_catalogue() -> Catalogue:
    """Load the shipped catalogues once per process (they are read-only)."""
    return build_catalogue(*_package_raw())


def scenario_catalogue(
    materials: Mapping[str, Mapping[str, Any]],
    sectors: Mapping[str, Mapping[str, Any]],
    replace: bool = False,
) -> Catalogue:
    """The package catalogue with a scenario's own materials and sectors (entries as
    ``MaterialEntry.entry()`` / ``SectorEntry.entry()`` give them): added after the package's
    (an entry with a package name takes that entry's place), or, with ``replace``, instead
    of them. Without entries (and without ``replace``) it is ``load_catalogue()`` itself."""
    if not materials and not sectors and not replace:
        return load_catalogue()
    p_mats, p_secs, facs, crit = _package_raw()
    mats = {} if replace else copy.deepcopy(p_mats)
    secs = {} if replace else copy.deepcopy(p_secs)
    mats.update({k: dict(v) for k, v in materials.items()})
    secs.update({k: dict(v) for k, v in sectors.items()})
    return build_catalogue(mats, secs, facs, crit)


# -- the names a scenario being validated may use ------------------------------------------
_NAMES: ContextVar[tuple[tuple[str, ...], tuple[str, ...]] | None] = ContextVar(
    "eipsim_catalogue_names", default=None
)


def catalogue_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(materials, sectors) a scenario may name: while a scenario is validated, the package's
    plus its own (or only its own with ``replace_catalogue``); else the package's."""
    names = _NAMES.get()
    if names is not None:
        return names
    cat = load_catalogue()
    return cat.materials, cat.sectors


def names_from_raw(data: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names a raw (not yet validated) scenario mapping defines, whatever its shape."""
    if not isinstance(data, Mapping):
        return catalogue_names()
    replace = data.get("replace_catalogue") is True
    cat = load_catalogue()
    out = []
    for key, base in (("materials", cat.materials), ("sectors", cat.sectors)):
        own = data.get(key)
        keys = [k for k in own if isinstance(k, str)] if isinstance(own, Mapping) else []
        start = () if replace else base
        out.append(tuple(start) + tuple(k for k in keys if k not in start))
    return out[0], out[1]


@contextlib.contextmanager
def scenario_names(data: Any) -> Iterator[None]:
    """Within: ``catalogue_names()`` answers with the names ``data`` (a raw scenario) defines."""
    token = _NAMES.set(names_from_raw(data))
    try:
        yield
    finally:
        _NAMES.reset(token)


def _check_materials(names: Any) -> None:
    known = catalogue_names()[0]
    for n in names:
        if n not in known:
            raise ValueError(f"unknown material {n!r}; known materials: {', '.join(known)}")


# -- entries a scenario brings -------------------------------------------------------------
# Bounds of the package's material columns; a column added to data/materials.yaml without
# an entry here is any finite number.
MATERIAL_BOUNDS: dict[str, tuple[float, float]] = {
    "disposal_usd": (-1e6, 1e6),  # negative: a sale forgone
    "virgin_price_usd": (0.0, 1e6),
    "substitution_ratio": (0.0, 100.0),
    "treatment_usd": (0.0, 1e6),
    "transport_factor": (0.0, 100.0),
    "permit_cost_usd": (0.0, 1e9),
    "permit_delay_months": (0.0, 1200.0),
    "permit_refusal_prob": (0.0, 1.0),
    "co2_t_per_unit": (-100.0, 100.0),
    "variability": (0.0, 10.0),
    "landfill_co2e_t_per_t": (0.0, 100.0),
}
UNITS = ("t", "MWh")


def _material_fields() -> dict[str, Any]:
    """One required field per column of the package's materials.yaml, typed by the column."""
    fields: dict[str, Any] = {}
    for col, arr in material_columns(_package_raw()[0]).items():
        if col == "unit":
            fields[col] = (
                Literal["t", "MWh"],
                Field(description="t (tonnes; water m3 ~ t) or MWh (energy)"),
            )
        elif arr.dtype == bool:
            fields[col] = (StrictBool, Field(description="yes or no"))
        elif arr.dtype.kind == "f":
            lo, hi = MATERIAL_BOUNDS.get(col, (-1e12, 1e12))
            fields[col] = (Annotated[float, Field(ge=lo, le=hi)], ...)
        else:
            fields[col] = (str, ...)
    return fields


class _MaterialBase(Strict):
    def entry(self) -> dict[str, Any]:
        """The entry as data/materials.yaml gives one."""
        return self.model_dump(mode="json")


if TYPE_CHECKING:
    MaterialEntry = _MaterialBase
else:
    MaterialEntry = create_model(
        "MaterialEntry",
        __base__=_MaterialBase,
        __doc__="A material: every column of data/materials.yaml, all required.",
        **_material_fields(),
    )

PerMonth = Annotated[float, Field(ge=0.0, le=1e9)]


class RecpEntry(Strict):
    capex_usd: float = Field(ge=0, le=1e10)
    saving_usd_per_month: float = Field(ge=0, le=1e9)
    waste_reduction: float = Field(ge=0, le=1)


class TransformEntry(Strict):
    """A processor's technical coefficients (sectors.yaml ``transforms``)."""

    input: str
    output: str
    yield_: float = Field(alias="yield", gt=0, le=100)
    residue: str | None = None
    residue_yield: float = Field(0.0, ge=0, le=100)
    processing_usd_per_t: float = Field(0.0, ge=0, le=1e6)

    model_config = {"serialize_by_alias": True, "validate_by_name": False}

    @field_validator("input", "output", "residue")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        if v is not None:
            _check_materials([v])
        return v

    @model_validator(mode="after")
    def _residue(self) -> TransformEntry:
        if self.residue is not None and self.residue_yield <= 0:
            raise ValueError("a residue needs residue_yield > 0")
        return self


class SectorEntry(Strict):
    """A sector as data/sectors.yaml gives one: units per month for a firm of size 1."""

    label: str = Field("", max_length=200)
    supplies: dict[str, PerMonth] = Field(default_factory=dict)
    demands: dict[str, PerMonth] = Field(default_factory=dict)
    recp: RecpEntry
    transforms: TransformEntry | None = None

    @field_validator("supplies", "demands")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        _check_materials(v)
        return v

    def entry(self) -> dict[str, Any]:
        """The entry as data/sectors.yaml gives one."""
        return self.model_dump(mode="json", exclude_none=True)
