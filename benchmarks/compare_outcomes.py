"""Do the shipped scenarios' outcomes have the same distribution as before a change?

Speed-ups that reorder floating-point sums change a run's path, so bit-identity cannot
be asked of them. This script runs the five shipped scenarios over 32 seeds and compares
each outcome with the stored reference by a two-sample Kolmogorov-Smirnov test and a
Mann-Whitney U test (scipy.stats), printing one line per scenario and outcome.

    python benchmarks/compare_outcomes.py            # compare with the reference
    python benchmarks/compare_outcomes.py --write    # store a new reference
    python benchmarks/compare_outcomes.py --first-version --reference before.csv --write
    python benchmarks/compare_outcomes.py --first-version --reference before.csv

``--first-version`` runs the scenarios under the first version's rules
(``eipsim.scenario.presets.FIRST_VERSION``); its reference is a file of one's own
(``--reference``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd
from scipy import stats

from eipsim.scenario.presets import SHIPPED_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "benchmarks" / "reference" / "scenario_outcomes.csv"
SCENARIOS = SHIPPED_SCENARIOS
OUTCOMES = (
    "adoption_share",
    "active_links",
    "links_formed",
    "diversion_rate",
    "eip_score",
    "total_co2_avoided_t",
    "total_net_benefit_usd",
)
SEEDS = range(100, 132)


def outcomes(overrides: dict[str, Any]) -> pd.DataFrame:
    import eipsim

    rows = []
    for name in SCENARIOS:
        sc = eipsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        if overrides:
            sc = sc.with_overrides(overrides)
        for seed in SEEDS:
            s = eipsim.run(sc, seed=seed, steps=120).summary
            rows.append({"scenario": name, "seed": seed, **{k: s[k] for k in OUTCOMES}})
    return pd.DataFrame(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="store a new reference")
    ap.add_argument("--reference", type=Path, default=REFERENCE, help="the reference CSV")
    ap.add_argument("--first-version", action="store_true", help="under the first version's rules")
    a = ap.parse_args()
    overrides: dict[str, Any] = {}
    if a.first_version:
        from eipsim.scenario.presets import FIRST_VERSION

        overrides = FIRST_VERSION
    now = outcomes(overrides)
    if a.write:
        a.reference.parent.mkdir(parents=True, exist_ok=True)
        now.to_csv(a.reference, index=False)
        print(f"wrote {a.reference} ({len(now)} runs)")
        return 0
    ref = pd.read_csv(a.reference)
    print(
        f"{'scenario':<22} {'outcome':<22} {'mean before':>12} {'mean after':>12} {'KS p':>7} {'MWU p':>7}"
    )
    worst = 1.0
    for name in SCENARIOS:
        for k in OUTCOMES:
            x = ref.loc[ref.scenario == name, k].to_numpy(float)
            y = now.loc[now.scenario == name, k].to_numpy(float)
            same = (x == y).all()
            ks = 1.0 if same else stats.ks_2samp(x, y).pvalue
            mw = 1.0 if same else stats.mannwhitneyu(x, y).pvalue
            worst = min(worst, ks, mw)
            print(f"{name:<22} {k:<22} {x.mean():>12.4g} {y.mean():>12.4g} {ks:>7.3f} {mw:>7.3f}")
    n_tests = 2 * len(SCENARIOS) * len(OUTCOMES)
    print(
        f"smallest p = {worst:.3f} over {n_tests} tests (Bonferroni 5 % level: {0.05 / n_tests:.4f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
