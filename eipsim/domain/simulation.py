"""One run of a scenario: ``eipsim.run(scenario) -> RunResult``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from eipsim.domain.indicators import summarise
from eipsim.domain.model import EIPModel
from eipsim.errors import UserError
from eipsim.scenario.schema import MAX_STEPS, Scenario


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    links: pd.DataFrame
    summary: dict[str, Any]
    assessment: dict[str, tuple[float, float, bool, str]]


def run(
    scenario: Scenario,
    seed: int | None = None,
    steps: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Run a scenario for ``steps`` months (default: scenario.steps) with ``seed``
    (default: scenario.seed). The same scenario and seed give bit-identical results."""
    n = scenario.steps if steps is None else int(steps)
    if not 1 <= n <= MAX_STEPS:
        raise UserError(f"steps must be a whole number from 1 to {MAX_STEPS:,} (got {steps!r})")
    if seed is not None and int(seed) < 0:
        raise UserError(f"seed must be a whole number >= 0 (got {seed!r})")
    model = EIPModel(scenario, seed=seed)
    for i in range(n):
        model.step()
        if progress is not None:
            progress(i + 1, n)
    columns = model.datacollector.columns()
    return RunResult(
        scenario=scenario,
        seed=model.seed_used,
        timeseries=pd.DataFrame(columns),
        links=model.links_frame(),
        summary=summarise(columns, model.seed_used),
        assessment=model.assessment,
    )
