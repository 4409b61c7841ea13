"""The app's levers as plain data, and the exports, kept free of Solara so they can be tested.

A ``Levers`` value is what the sidebar shows. ``Levers.scenario`` turns it into a validated
``eipsim.scenario.schema.Scenario`` with ``Scenario.with_overrides`` (so the model and the saved YAML
see exactly the same keys that ``eipsim run`` reads).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from eipsim.errors import UserError
from eipsim.scenario.schema import FACILITY_KINDS, Scenario, load_scenario

SCENARIO_ENV = "EIPSIM_VIZ_SCENARIO"  # set by eipsim.viz.server.serve, read by app.py
SEED_MAX = 2**63 - 1  # the experiment store keeps seeds as int64
PLACEMENTS = ("random", "nationality_clusters", "sector_clusters")


class SeedError(ValueError):
    """What a person typed in the seed field is not a seed."""


def parse_seed(text: str | None) -> int | None:
    """A seed from the text field: a whole number in [0, SEED_MAX], or None for empty.

    The field gives a string (Mesa's note: the seed comes back as a string once edited), and
    people type spaces, ``1_000`` or ``+7``; anything that is not a whole number in range is a
    ``SeedError`` that the app shows as a message instead of crashing."""
    s = (text or "").strip().replace("_", "").replace(",", "")
    if not s:
        return None
    if s.startswith("+"):
        s = s[1:]
    if not s.isdecimal():
        raise SeedError(text)
    value = int(s)
    if value > SEED_MAX:
        raise SeedError(text)
    return value


def random_seed() -> int:
    """A fresh seed for an empty field; short enough for a person to note and retype."""
    return secrets.randbelow(2**31)


def repo_scenarios_dir() -> Path:
    """``scenarios/`` next to the package (an editable install or a checkout)."""
    return Path(__file__).resolve().parents[2] / "scenarios"


def scenario_choices(extra: str | os.PathLike | None = None) -> list[str]:
    """Scenario files the picker offers: the repository's ``scenarios/*.yaml``, those in
    ``./scenarios`` when run elsewhere, and the one given on the command line."""
    found: dict[str, None] = {}
    if extra:
        found[str(Path(extra).resolve())] = None
    for d in (repo_scenarios_dir(), Path.cwd() / "scenarios"):
        if d.is_dir():
            for p in sorted(d.glob("*.y*ml")):
                found[str(p.resolve())] = None
    return list(found)


def default_scenario_path() -> str:
    """The scenario the app opens with: $EIPSIM_VIZ_SCENARIO, else baseline, else the first."""
    env = os.environ.get(SCENARIO_ENV)
    if env:
        return str(Path(env).resolve())
    choices = scenario_choices()
    for c in choices:
        if Path(c).stem == "baseline":
            return c
    if not choices:
        raise UserError("no scenario files found; pass one: eipsim viz FILE")
    return choices[0]


def short_name(path: str) -> str:
    """What the picker shows for a scenario file."""
    return Path(path).name


@dataclass(frozen=True)
class Levers:
    """The settings a person can change in the sidebar (applied on Reset)."""

    scenario_path: str
    placement: str
    platform: bool
    anonymised: bool
    events_per_year: int
    selectivity: float
    facilities: tuple[str, ...]
    landfill_tax: float
    exchange_subsidy: float
    capex_subsidy: float
    brokering_per_year: int
    trust_same: float
    trust_cross: float
    seed_text: str

    @classmethod
    def from_scenario(cls, sc: Scenario, path: str) -> Levers:
        """The levers as the scenario file sets them (picking a scenario resets them)."""
        op, gov = sc.operator, sc.government
        return cls(
            scenario_path=path,
            placement=sc.park.placement,
            platform=op.platform.enabled,
            anonymised=op.platform.anonymised,
            events_per_year=op.matchmaking_events_per_year,
            selectivity=op.tenant_selectivity,
            facilities=tuple(f.kind for f in op.shared_infrastructure),
            landfill_tax=gov.landfill_tax_usd_per_t,
            exchange_subsidy=gov.exchange_subsidy_usd_per_t,
            capex_subsidy=gov.capex_subsidy_share,
            brokering_per_year=gov.brokering_per_year,
            trust_same=sc.trust.initial_same_nationality,
            trust_cross=sc.trust.initial_cross_nationality,
            seed_text=str(sc.seed),
        )

    @classmethod
    def load(cls, path: str) -> tuple[Levers, Scenario]:
        sc = load_scenario(path)
        return cls.from_scenario(sc, path), sc

    def with_(self, **changes: Any) -> Levers:
        return replace(self, **changes)

    def overrides(self, base: Scenario) -> dict[str, Any]:
        """Dotted scenario keys for these levers. A facility the base file schedules keeps
        its build month; one switched on here is built at month 0."""
        planned = {f.kind: f.build_step for f in base.operator.shared_infrastructure}
        infra = [
            {"kind": k, "build_step": planned.get(k, 0)}
            for k in FACILITY_KINDS
            if k in self.facilities
        ]
        return {
            "park.placement": self.placement,
            "operator.platform.enabled": self.platform,
            "operator.platform.anonymised": self.anonymised,
            "operator.matchmaking_events_per_year": int(self.events_per_year),
            "operator.tenant_selectivity": float(self.selectivity),
            "operator.shared_infrastructure": infra,
            "government.landfill_tax_usd_per_t": float(self.landfill_tax),
            "government.exchange_subsidy_usd_per_t": float(self.exchange_subsidy),
            "government.capex_subsidy_share": float(self.capex_subsidy),
            "government.brokering_per_year": int(self.brokering_per_year),
            "trust.initial_same_nationality": float(self.trust_same),
            "trust.initial_cross_nationality": float(self.trust_cross),
        }

    def scenario(self, base: Scenario, seed: int | None = None) -> Scenario:
        """The base scenario with these levers (and ``seed`` if given); UserError if invalid."""
        over = self.overrides(base)
        if seed is not None:
            over["seed"] = int(seed)
        return base.with_overrides(over)


def scenario_yaml(sc: Scenario, note: str = "") -> str:
    """A scenario file ``eipsim run`` accepts. A relative roster path is made absolute,
    since the file is saved somewhere else than the scenario it came from."""
    data = sc.to_yaml_dict()
    roster = sc.roster_path()
    if roster is not None:
        data["firms"]["roster"] = str(roster.resolve())
    if note:
        data["description"] = (data.get("description") or "").rstrip() + f" ({note})"
    head = "# Saved from the eipsim browser app. Run it with: eipsim run THIS_FILE\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def timeseries_frame(model: Any) -> pd.DataFrame:
    """The run so far, one row per month, like ``RunResult.timeseries``."""
    df = model.datacollector.get_model_vars_dataframe().copy()
    df = df.reset_index(drop=True)
    if "step" not in df.columns:
        # the last row is the current month; earlier rows count back from it
        df.insert(0, "step", range(model.steps - len(df) + 1, model.steps + 1))
    return df


def timeseries_csv(model: Any) -> str:
    return timeseries_frame(model).to_csv(index=False)
