"""Print the README's scenario table: means over seeds 0-7 at each scenario's horizon.

    python scripts/scenario_table.py [--seeds 8] [--set KEY=VALUE ...]

Solid, water and energy figures are reported apart (never added); CO2 against the real
counterfactual with solar apart; benefits private (transfers in) and social (out).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import eipsim
from eipsim.scenario.overrides import parse_value
from eipsim.scenario.presets import SHIPPED_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = SHIPPED_SCENARIOS
COLUMNS = (
    ("adoption", "adoption_share", "{:.2f}"),
    ("active links", "active_links", "{:.0f}"),
    ("cross-national share", "cross_national_link_share", "{:.2f}"),
    ("solid diversion", "solid_diversion_rate", "{:.1%}"),
    ("water reused (M m3)", "total_water_reused_m3", "{:.2f}"),
    ("energy exchanged (GWh)", "total_energy_exchanged_mwh", "{:.0f}"),
    ("CO2 avoided, counterfactual (kt)", "total_co2_avoided_counterfactual_t", "{:.0f}"),
    ("CO2 avoided, solar (kt)", "total_co2_avoided_solar_t", "{:.0f}"),
    (
        "private / social benefit (M USD)",
        ("total_private_benefit_usd", "total_social_benefit_usd"),
        "{:.1f} / {:.1f}",
    ),
    ("EIP score", "eip_score", "{:.2f}"),
)
SCALE = {
    "total_water_reused_m3": 1e-6,
    "total_energy_exchanged_mwh": 1e-3,
    "total_co2_avoided_counterfactual_t": 1e-3,
    "total_co2_avoided_solar_t": 1e-3,
    "total_private_benefit_usd": 1e-6,
    "total_social_benefit_usd": 1e-6,
}


def mean(runs: list[dict], key: str) -> float:
    return statistics.fmean(r[key] for r in runs) * SCALE.get(key, 1.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    a = ap.parse_args()
    over = {k: parse_value(v) for k, v in (p.split("=", 1) for p in a.set)}
    print("| scenario | " + " | ".join(c[0] for c in COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for name in SCENARIOS:
        sc = eipsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml").with_overrides(over)
        runs = [eipsim.run(sc, seed=s).summary for s in range(a.seeds)]
        cells = []
        for _, key, fmt in COLUMNS:
            keys = key if isinstance(key, tuple) else (key,)
            cells.append(fmt.format(*(mean(runs, k) for k in keys)))
        print(f"| `{name}.yaml` | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
