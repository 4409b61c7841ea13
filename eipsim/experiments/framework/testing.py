"""A tiny stand-in model for testing the experiment machinery quickly.

It reads a real scenario (so key checking is real) but replaces the simulation with a few
lines of arithmetic. Two switches inject faults: ``government.brokering_per_year == 13``
raises an exception in the run; ``== 66`` kills the worker process outright.
``EIPSIM_FAKE_DELAY`` (seconds per run) slows runs down so a test can kill a sweep mid-way.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from eipsim.experiments.framework.worker import ModelAdapter, _eipsim_scenario

TS_COLUMNS = ["step", "firms", "adoption_share", "active_links", "exchanged_t", "eip_certified"]
SUMMARY_KEYS = ["adoption_share", "active_links", "exchanged_t", "eip_certified"]
FAIL_BROKERING = 13
CRASH_BROKERING = 66


def fake_run(sc: Any, seed: int, steps: int | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Adoption rises towards a lever-dependent plateau, plus seeded noise."""
    delay = float(os.environ.get("EIPSIM_FAKE_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)
    g = sc.government
    if g.brokering_per_year == FAIL_BROKERING:
        raise RuntimeError("injected failure")
    if g.brokering_per_year == CRASH_BROKERING:
        os._exit(7)
    n = int(steps or sc.steps)
    rng = np.random.default_rng(seed)
    drive = (
        0.004 * g.landfill_tax_usd_per_t
        + 0.6 * g.capex_subsidy_share
        + 0.01 * g.exchange_subsidy_usd_per_t
        + 0.02 * g.brokering_per_year
        + 0.3 * sc.trust.initial_cross_nationality
        + (0.15 if sc.park.placement == "nationality_clusters" else 0.0)
        + (0.1 if sc.operator.platform.enabled else 0.0)
    )
    plateau = 1.0 - np.exp(-drive - 0.1)
    t = np.arange(1, n + 1)
    adoption = np.clip(plateau * (1 - np.exp(-t / 24)) + rng.normal(0, 0.02, n), 0, 1)
    links = np.rint(adoption * sc.firms.count / 2).astype(np.int64)
    exchanged = links * 10.0 * rng.uniform(0.8, 1.2, n)
    certified = adoption > 0.3
    ts = pd.DataFrame(
        {
            "step": t.astype(np.int64),
            "firms": np.full(n, sc.firms.count, dtype=np.int64),
            "adoption_share": adoption,
            "active_links": links,
            "exchanged_t": exchanged,
            "eip_certified": certified,
        }
    )
    summary = {
        "adoption_share": float(adoption[-1]),
        "active_links": int(links[-1]),
        "exchanged_t": float(exchanged.sum()),
        "eip_certified": bool(certified[-1]),
    }
    return ts, summary


FAKE = ModelAdapter(
    fake_run, lambda: list(SUMMARY_KEYS), lambda: list(TS_COLUMNS), _eipsim_scenario
)


FAKE_ADAPTER = "eipsim.experiments.framework.testing:FAKE"


def baseline_scenario() -> Path:
    """The shipped baseline scenario (tests run from a source checkout)."""
    return Path(__file__).resolve().parents[3] / "scenarios" / "baseline.yaml"


def write_experiment(path: Path, **fields: Any) -> Path:
    """Write a small experiment file: baseline park of 20 firms, 6 months, unless overridden."""
    data: dict[str, Any] = {
        "name": "test",
        "scenario": str(baseline_scenario()),
        "overrides": {"firms.count": 20},
        "steps": 6,
        "seed": 11,
        "replicates": 2,
        "design": {
            "kind": "grid",
            "factors": {
                "government.landfill_tax_usd_per_t": [0, 20],
                "park.placement": ["random", "nationality_clusters"],
            },
        },
    }
    data.update(fields)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
