"""Shared fixtures for the core model tests: small fast scenarios, a CLI runner and the
invariants every run must keep."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eipsim

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"

# A park small and short enough that a run takes a few hundredths of a second.
SMALL = {"firms.count": 30, "steps": 24}

# The small park with every lever on, so that links, facilities and the platform all act
# within a few months (used wherever a test needs flows to exist).
LEVERS = {
    "firms.search_probability": 0.3,
    "operator.platform.enabled": True,
    "operator.matchmaking_events_per_year": 6,
    "operator.shared_infrastructure": [
        "wastewater_treatment",
        "steam_network",
        "materials_recovery",
        {"kind": "solar_microgrid", "build_step": 3},
    ],
    # facilities are built on their build_step (the operator borrows), not when 30 firms'
    # rent has paid for them (the default credit line of 0)
    "operator.credit_line_usd": 1e10,
    "operator.recp_screening_per_year": 12,
    "government.landfill_tax_usd_per_t": 40,
    "government.exchange_subsidy_usd_per_t": 20,
    "government.capex_subsidy_share": 0.3,
    "government.reuse_standards": ["treated_wastewater", "steel_slag", "fly_ash"],
    "government.brokering_per_year": 12,
}


@pytest.fixture(scope="session")
def baseline() -> eipsim.Scenario:
    return eipsim.load_scenario(SCENARIOS / "baseline.yaml")


@pytest.fixture(scope="session")
def small(baseline) -> eipsim.Scenario:
    """The baseline park cut to 30 firms and 24 months."""
    return baseline.with_overrides(SMALL)


@pytest.fixture(scope="session")
def lively(baseline) -> eipsim.Scenario:
    """The small park with all levers on: links, facilities, platform and events act."""
    return baseline.with_overrides({**SMALL, **LEVERS})


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``python -m eipsim ARGS`` in a fresh interpreter, text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "eipsim", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    return run_cli


def invariant_violations(ts: pd.DataFrame, links: pd.DataFrame) -> list[str]:
    """Every broken invariant of a run's outputs, as readable lines (empty when all hold)."""
    bad: list[str] = []
    gen, ex, lf = ts["waste_generated_t"], ts["exchanged_t"], ts["landfilled_t"]
    gap = (gen - ex - lf).abs()
    tol = 1e-9 * np.maximum(gen.abs(), 1.0)
    for step in ts.loc[gap > tol, "step"]:
        row = ts.loc[ts["step"] == step].iloc[0]
        bad.append(
            f"month {step}: generated {row.waste_generated_t} != exchanged "
            f"{row.exchanged_t} + landfilled {row.landfilled_t}"
        )
    if not np.allclose(ex, ts["exchanged_links_t"] + ts["exchanged_facilities_t"], rtol=1e-12):
        bad.append("exchanged_t != exchanged_links_t + exchanged_facilities_t")
    for col in ("waste_generated_t", "exchanged_t", "landfilled_t", "heat_exchanged_mwh"):
        if (ts[col] < -1e-9).any():
            bad.append(f"{col} negative")
    if not ts["occupancy"].between(0, 1).all():
        bad.append("occupancy outside [0, 1]")
    if not ts["adoption_share"].between(0, 1).all():
        bad.append("adoption_share outside [0, 1]")
    if not ts["diversion_rate"].between(0, 1 + 1e-12).all():
        bad.append("diversion_rate outside [0, 1]")
    if (ts["firms_in_symbiosis"] > ts["firms"]).any():
        bad.append("more firms in symbiosis than firms")
    if (ts["firms_in_links"] > ts["firms_in_symbiosis"]).any():
        bad.append("firms in links not counted as firms in symbiosis")
    if ts["step"].tolist() != list(range(1, len(ts) + 1)):
        bad.append("steps are not 1..n")
    if not ts["eip_score"].between(0, 1).all():
        bad.append("eip_score outside [0, 1]")
    if len(links):
        if (links["supplier_id"] == links["user_id"]).any():
            bad.append("a link between a firm and itself")
        if (links["tonnes"] < 0).any():
            bad.append("negative link tonnes")
        ended = links["status"] == "ended"
        if (links.loc[ended, "end_step"] < links.loc[ended, "formed_step"]).any():
            bad.append("a link ended before it formed")
        if (links.loc[~ended, "reason_ended"] != "").any():
            bad.append("a live link has a reason_ended")
        if (links.loc[ended, "reason_ended"] == "").any():
            bad.append("an ended link has no reason_ended")
        if (links["start_step"] < links["formed_step"]).any():
            bad.append("a link started before it formed")
    return bad


@pytest.fixture(scope="session")
def check_invariants() -> Callable[[eipsim.RunResult], None]:
    """Assert the run-level invariants on a RunResult (session-scoped for hypothesis)."""

    def check(res: eipsim.RunResult) -> None:
        bad = invariant_violations(res.timeseries, res.links)
        assert not bad, "\n".join(bad)

    return check
