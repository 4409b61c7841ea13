"""The EIP assessment: a registry of criteria, each a function of a read-only month view.

The criteria a park is judged on, their thresholds and sources are data
(scenario/data/criteria.yaml, or a scenario's own ``government.assessment.criteria``);
here each criterion's value is computed. A new criterion is one YAML entry plus one
``@criterion`` function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from eipsim.domain.indicators import MonthView, symbiosis_facilities
from eipsim.domain.links import PENDING
from eipsim.errors import UserError
from eipsim.scenario.schema import Criterion

CriterionValue = Callable[[MonthView], float]
CRITERIA: dict[str, CriterionValue] = {}


def criterion(name: str) -> Callable[[CriterionValue], CriterionValue]:
    """Register how a criterion of data/criteria.yaml is measured."""

    def register(f: CriterionValue) -> CriterionValue:
        CRITERIA[name] = f
        return f

    return register


def _per_firm(view: MonthView, count: float) -> float:
    return count / max(view.firms, 1)


@criterion("recp_aware_share")
def _recp_aware(v: MonthView) -> float:
    return _per_firm(v, float(v.state.recp_aware[v.alive].sum()))


@criterion("recp_applied_share")
def _recp_applied(v: MonthView) -> float:
    return _per_firm(v, float(v.state.recp_applied[v.alive].sum()))


@criterion("shared_land_share")
def _shared_land(v: MonthView) -> float:
    """The park plan's shared land, built facilities' land and the plots the operator
    turned into shared land (operator.shared_land_target)."""
    return float(v.base_shared_land + sum(f.land_share for f in v.facilities if f.built)) + (
        v.converted_land
    )


@criterion("implemented_links")
def _implemented(v: MonthView) -> float:
    return float(v.active_rows.size + len(symbiosis_facilities(v.facilities)))


@criterion("planning_share")
def _planning(v: MonthView) -> float:
    """Firms in a symbiosis, with a link awaiting its permit, or that saw a paying
    candidate this month."""
    L = v.links
    pending = np.zeros(v.n_plots, dtype=bool)
    rows = L.rows(PENDING)
    pending[L.s[rows]] = True
    pending[L.u[rows]] = True
    planning = (v.members[0] | pending | v.state.planning) & v.alive
    return _per_firm(v, float(planning.sum()))


@criterion("years_compliant")
def _years(v: MonthView) -> float:
    return v.step / 12.0


@criterion("wastewater_treatment")
def _wwtp(v: MonthView) -> float:
    return float(any(f.built and f.kind == "wastewater_treatment" for f in v.facilities))


@criterion("symbiosis_services")
def _services(v: MonthView) -> float:
    return float(v.platform_active or v.events_held > 0)


@criterion("information_sharing")
def _information(v: MonthView) -> float:
    return float(v.platform_active)


@dataclass(frozen=True)
class CriterionResult:
    value: float
    threshold: float
    met: bool
    source: str

    def as_tuple(self) -> tuple[float, float, bool, str]:
        return (self.value, self.threshold, self.met, self.source)


def check_criteria(criteria: Sequence[Criterion]) -> None:
    """Every configured criterion must have a registered measurement."""
    missing = [c.metric for c in criteria if c.metric not in CRITERIA]
    if missing:
        raise UserError(f"government.assessment.criteria: no measurement for {missing[0]!r}")


def criteria_values(view: MonthView) -> dict[str, float]:
    """Every registered criterion's value in this view."""
    return {name: f(view) for name, f in CRITERIA.items()}


def assess(
    view: MonthView, criteria: Sequence[Criterion]
) -> dict[str, tuple[float, float, bool, str]]:
    """Each configured criterion's (value, threshold, met, source)."""
    out = {}
    for c in criteria:
        v = CRITERIA[c.metric](view)
        out[c.metric] = CriterionResult(
            v, c.threshold, bool(v >= c.threshold - 1e-12), c.source
        ).as_tuple()
    return out
