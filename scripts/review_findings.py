"""The peer review's findings, each measured under the first version's rules and under the
defaults (docs/ODD.md §9): "a run that shows it", over several seeds.

    python scripts/review_findings.py [--seeds 4] [--markdown]

Each finding runs the shipped scenario twice per seed: with ``FIRST_VERSION`` (the first
version's rules and trust and cost values, ``eipsim.scenario.presets``) and as shipped. It prints the
mean and range over seeds of the figure the review quoted.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import eipsim
from eipsim.scenario.presets import FIRST_VERSION

ROOT = Path(__file__).resolve().parents[1]

# scenarios whose own files set contracts for everyone under the first version
FIRST_VERSION_CONTRACTS = {"nam_cau_kien": 24}

Run = eipsim.RunResult


def _links(r: Run) -> pd.DataFrame:
    return r.links


def pellet_links(r: Run) -> float:
    lf = _links(r)
    ok = (
        (lf.status == "active")
        & (lf.material == "recycled_pellets")
        & lf.supplier_name.str.startswith("Plastics recycler")
        & lf.user_name.str.startswith("Plastic products maker")
    )
    return float(ok.sum())


def ended(reason: str) -> Callable[[Run], float]:
    def f(r: Run) -> float:
        return float((_links(r).reason_ended == reason).sum())

    return f


def summary(key: str) -> Callable[[Run], float]:
    def f(r: Run) -> float:
        return float(r.summary[key])

    return f


def brokered_cross(r: Run) -> float:
    lf = _links(r)
    b = lf[lf.facilitated]
    return float((b.supplier_nationality != b.user_nationality).sum())


def brokered(r: Run) -> float:
    return float(_links(r).facilitated.sum())


def min_cash_musd(r: Run) -> float:
    return float(r.timeseries["operator_cash_usd"].min()) / 1e6


@dataclass(frozen=True)
class Finding:
    finding: str
    scenario: str
    figure: str
    measure: Callable[[Run], float]
    overrides: dict[str, Any]


FINDINGS = (
    Finding(
        "risk: pellet links never form",
        "nam_cau_kien",
        "active pellet links, roster recyclers -> makers",
        pellet_links,
        {},
    ),
    Finding(
        "bookkeeping ends links",
        "nam_cau_kien",
        "links ended by trust collapse",
        ended("trust_collapse"),
        {},
    ),
    Finding(
        "the economic exit never fires",
        "baseline",
        "links ended as unprofitable",
        ended("unprofitable"),
        {},
    ),
    Finding(
        "the economic exit never fires",
        "baseline",
        "links ended as unprofitable, virgin-price volatility 0.2 a year",
        ended("unprofitable"),
        {"market.virgin_price_volatility": 0.2},
    ),
    Finding(
        "cross-national links are rare",
        "deepc_dinhvu",
        "cross-national share of active links",
        summary("cross_national_link_share"),
        {},
    ),
    Finding(
        "brokered links are never cross-national",
        "deepc_dinhvu",
        "brokered links formed",
        brokered,
        {},
    ),
    Finding(
        "brokered links are never cross-national",
        "deepc_dinhvu",
        "cross-national brokered links formed",
        brokered_cross,
        {},
    ),
    Finding(
        "nationality clustering doubles adoption",
        "baseline",
        "adoption, random placement",
        summary("adoption_share"),
        {},
    ),
    Finding(
        "nationality clustering doubles adoption",
        "nationality_clusters",
        "adoption, nationality clusters",
        summary("adoption_share"),
        {},
    ),
    Finding(
        "trust in the operator flips shared infrastructure",
        "shared_infrastructure",
        "adoption, trust in operator 0.40",
        summary("adoption_share"),
        {"trust.in_operator": 0.40},
    ),
    Finding(
        "trust in the operator flips shared infrastructure",
        "shared_infrastructure",
        "adoption, trust in operator 0.55",
        summary("adoption_share"),
        {"trust.in_operator": 0.55},
    ),
    Finding(
        "the operator builds deep in debt",
        "shared_infrastructure",
        "lowest operator cash (M USD)",
        min_cash_musd,
        {},
    ),
    Finding(
        "solar ten times DEEP C's",
        "deepc_dinhvu",
        "rooftop solar at month 120 (kWp; real 3,048.72)",
        summary("solar_capacity_kwp"),
        {},
    ),
    Finding(
        "a landfill tax is counted as a gain",
        "baseline",
        "social benefit, tax 30 USD/t (M USD)",
        lambda r: r.summary["total_social_benefit_usd"] / 1e6,
        {"government.landfill_tax_usd_per_t": 30},
    ),
    Finding(
        "a landfill tax is counted as a gain",
        "baseline",
        "private benefit, tax 30 USD/t (M USD)",
        lambda r: r.summary["total_private_benefit_usd"] / 1e6,
        {"government.landfill_tax_usd_per_t": 30},
    ),
    Finding(
        "the baseline is not rosy",
        "baseline",
        "active links after 10 years",
        summary("active_links"),
        {},
    ),
)


def measure(f: Finding, first: bool, seeds: list[int]) -> list[float]:
    sc = eipsim.load_scenario(ROOT / "scenarios" / f"{f.scenario}.yaml")
    ov = dict(f.overrides)
    if first:
        ov = {**FIRST_VERSION, **ov}
        ov["costs.contract_months"] = FIRST_VERSION_CONTRACTS.get(f.scenario, 0)
    sc = sc.with_overrides(ov)
    return [f.measure(eipsim.run(sc, seed=s)) for s in seeds]


def fmt(vals: list[float]) -> str:
    m = statistics.fmean(vals)
    return f"{m:.3g} ({min(vals):.3g} to {max(vals):.3g})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    print(f"mean (min to max) over seeds 0-{args.seeds - 1}\n")
    print("| finding | scenario | figure | first version | now |")
    print("|---|---|---|---|---|")
    for f in FINDINGS:
        old, new = measure(f, True, seeds), measure(f, False, seeds)
        print(f"| {f.finding} | {f.scenario} | {f.figure} | {fmt(old)} | {fmt(new)} |")


if __name__ == "__main__":
    main()
