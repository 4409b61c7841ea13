"""One run of a scenario: ``eipsim.run(scenario) -> RunResult``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from eipsim.domain.indicators import summarise
from eipsim.domain.model import EIPModel
from eipsim.errors import UserError
from eipsim.scenario.schema import MAX_STEPS, Scenario


@dataclass
class RunResult:
    """A finished run: its summary and EIP assessment, and its tables. The tables are built
    when first read (``timeseries`` from the indicators' ``columns``, ``links`` by
    ``EIPModel.deferred_links_frame``): a sweep that keeps neither, as a sensitivity
    analysis does (``outputs.timeseries: none``), does not pay for them."""

    scenario: Scenario
    seed: int
    columns: dict[str, np.ndarray]  # the indicators' monthly values, one array each
    summary: dict[str, Any]
    assessment: dict[str, tuple[float, float, bool, str]]
    links_frame: Callable[[], pd.DataFrame] = field(repr=False)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per month, one column per indicator (``indicators.TIMESERIES_COLUMNS``)."""
        return pd.DataFrame(self.columns)

    @cached_property
    def links(self) -> pd.DataFrame:
        """One row per link ever formed (``EIPModel.links_frame``)."""
        return self.links_frame()


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
        columns=columns,
        summary=summarise(columns, model.seed_used),
        assessment=model.assessment,
        links_frame=model.deferred_links_frame(),
    )
