"""Run the Kalundborg validation scenario over seeds and compare what it grows with the record.

    python scripts/kalundborg_compare.py [--scenario scenarios/kalundborg.yaml]
        [--seeds 5] [--steps N] [--write docs/VALIDATION_KALUNDBORG.md]

The record is the brief's section 7 (the 1994 National Academy of Engineering account,
Ehrenfeld & Gertler 1997, Gertler & Ehrenfeld 1996, Nordregio 2011): the dated exchanges
1961-1993, about 10 of them by 1993, 18 physical linkages in 1996 and 20-30 projects in
later accounts, the power station as hub. Month 1 of the run is January 1961.

It prints two tables and, with ``--write``, a Markdown report:
- measures: exchanges over time, partners, the hub, first link and links by decade, each
  against the record (mean and range over seeds);
- exchanges: each dated exchange of the record, and when (in how many seeds) the model
  formed the same supplier-user-material link.

Nothing here fits the scenario: it is run as written. ``compare()`` is what the
calibration work can call (it stays in ``scripts/``: it reads the record of one case).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import eipsim
from eipsim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "kalundborg.yaml"
REPORT = ROOT / "docs" / "VALIDATION_KALUNDBORG.md"
START_YEAR = 1961  # month 1 of the run
HUB_SECTOR = "power_station"


@dataclass(frozen=True)
class Exchange:
    year: int  # year the exchange began (the record's)
    when: str  # as the record gives it
    supplier: str  # sector of the scenario
    user: str
    material: str
    text: str


# Brief section 7, "How it grew" (dates of the 1994 account and Ehrenfeld & Gertler 1997).
# "1980s" is placed at 1985 and "~1990" at 1990 for the year arithmetic.
RECORD: tuple[Exchange, ...] = (
    Exchange(1961, "1961", "municipal_utility", "oil_refinery", "surface_water",
             "water from Lake Tisso to the refinery"),
    Exchange(1972, "1972", "oil_refinery", "plasterboard", "refinery_gas",
             "surplus refinery gas to Gyproc"),
    Exchange(1976, "1976", "enzymes", "farms", "biological_sludge",
             "Novo's biological sludge to farms"),
    Exchange(1979, "1979", "power_station", "cement", "fly_ash",
             "fly ash to cement makers"),
    Exchange(1981, "1981", "power_station", "municipal_utility", "district_heat",
             "district heating for the town"),
    Exchange(1982, "1982", "power_station", "pharma_insulin", "steam",
             "steam to Novo Nordisk"),
    Exchange(1982, "1982", "power_station", "oil_refinery", "steam",
             "steam to the refinery"),
    Exchange(1985, "1980s", "power_station", "fish_farm", "warm_water",
             "warm cooling water to the fish farm"),
    Exchange(1990, "~1990", "oil_refinery", "sulphuric_acid", "sulphur",
             "recovered sulphur to an acid maker"),
    Exchange(1991, "1991", "oil_refinery", "power_station", "refinery_effluent",
             "treated refinery effluent to the power station"),
    Exchange(1993, "1993", "power_station", "plasterboard", "gypsum",
             "desulphurisation gypsum to Gyproc"),
)  # fmt: skip
# counts of the record (brief section 7)
RECORD_BY_1993 = "~10 (11 dated in the brief)"
RECORD_LATER = "18 physical linkages (Gertler & Ehrenfeld 1996); 20-30 projects later"
RECORD_PARTNERS = "5 in 1994 (NAE); about 9-17 later; municipality + 7 companies in 2012"
CHECK_YEARS = (1970, 1980, 1993, 2000)
DECADES = ((1961, 1969), (1970, 1979), (1980, 1989), (1990, 2000))
MEASURE_COLUMNS = ["measure", "record", "model_mean", "model_min", "model_max"]
EXCHANGE_COLUMNS = [
    "record_year",
    "exchange",
    "seeds_formed",
    "model_year_median",
    "model_year_first",
    "years_early",
]


def year_of(step: int | float) -> float:
    """Calendar year (fractional) of the start of month ``step`` (1 = January 1961)."""
    return START_YEAR + (float(step) - 1.0) / 12.0


def step_of_year_end(year: int) -> int:
    """The last month of ``year``."""
    return (year - START_YEAR + 1) * 12


def _delivered(links: pd.DataFrame) -> pd.DataFrame:
    """Links that started delivering (a refused permit never did)."""
    return links[(links["start_step"] > 0) & (links["reason_ended"] != "permit_refused")]


def _active_at(links: pd.DataFrame, step: int) -> pd.DataFrame:
    ok = (links["start_step"] <= step) & ((links["end_step"] < 0) | (links["end_step"] > step))
    return links[ok]


def run_measures(links: pd.DataFrame, steps: int) -> dict[str, float]:
    """The measures of one run from its links table."""
    lk = _delivered(links)
    out: dict[str, float] = {}
    for y in CHECK_YEARS:
        s = step_of_year_end(y)
        out[f"exchanges active end {y}"] = (
            float(len(_active_at(lk, s))) if s <= steps else float("nan")
        )
    out["exchanges ever formed"] = float(len(lk))
    firms = pd.concat([lk["supplier_name"], lk["user_name"]])
    out["partners in exchanges"] = float(firms.nunique())
    # hub: the firm with the most distinct partners over all links ever delivered
    pairs = lk[["supplier_name", "user_name"]].drop_duplicates()
    deg = pd.concat([pairs["supplier_name"], pairs["user_name"]]).value_counts()
    hub_names = lk.loc[lk["supplier_sector"] == HUB_SECTOR, "supplier_name"].tolist()
    hub_names += lk.loc[lk["user_sector"] == HUB_SECTOR, "user_name"].tolist()
    hub_deg = float(deg.get(hub_names[0], 0)) if hub_names else 0.0
    out["power station degree"] = hub_deg
    out["power station is the hub"] = float(bool(len(deg)) and hub_deg == deg.max())
    out["first link (year)"] = (
        float(np.floor(year_of(lk["start_step"].min()))) if len(lk) else float("nan")
    )
    years = np.floor([year_of(s) for s in lk["start_step"]])
    for a, b in DECADES:
        out[f"links begun {a}-{b}"] = float(((years >= a) & (years <= b)).sum())
    half = np.sort(years)[(len(years) - 1) // 2] if len(years) else np.nan
    out["median start year"] = float(half)
    return out


def record_measures() -> dict[str, str]:
    years = np.array([e.year for e in RECORD])
    rec: dict[str, str] = {
        "exchanges active end 1970": str(int((years <= 1970).sum())),
        "exchanges active end 1980": str(int((years <= 1980).sum())),
        "exchanges active end 1993": RECORD_BY_1993,
        "exchanges active end 2000": RECORD_LATER,
        "exchanges ever formed": RECORD_LATER,
        "partners in exchanges": RECORD_PARTNERS,
        "power station degree": "6 partners by 1993 (refinery, Gyproc, Novo, town, cement, fish farm)",
        "power station is the hub": "yes (1 = in every seed)",
        "first link (year)": "1961",
        "median start year": str(int(np.median(years))),
    }
    for a, b in DECADES:
        rec[f"links begun {a}-{b}"] = str(int(((years >= a) & (years <= b)).sum()))
    return rec


def exchange_table(runs: list[pd.DataFrame]) -> pd.DataFrame:
    """For each dated exchange of the record: in how many seeds the model formed it, and when."""
    rows = []
    for e in RECORD:
        ys = []
        for lk in runs:
            d = _delivered(lk)
            hit = d[
                (d["supplier_sector"] == e.supplier)
                & (d["user_sector"] == e.user)
                & (d["material"] == e.material)
            ]
            if len(hit):
                ys.append(float(np.floor(year_of(hit["start_step"].min()))))
        med = float(np.median(ys)) if ys else float("nan")
        rows.append(
            {
                "record_year": e.when,
                "exchange": e.text,
                "seeds_formed": f"{len(ys)}/{len(runs)}",
                "model_year_median": med,
                "model_year_first": min(ys) if ys else float("nan"),
                "years_early": e.year - med if ys else float("nan"),
            }
        )
    return pd.DataFrame(rows, columns=EXCHANGE_COLUMNS)


@dataclass
class Comparison:
    scenario: Scenario
    seeds: list[int]
    steps: int
    per_seed: pd.DataFrame  # one row per seed, one column per measure
    measures: pd.DataFrame  # MEASURE_COLUMNS
    exchanges: pd.DataFrame  # EXCHANGE_COLUMNS
    extra: pd.DataFrame  # links the model grew that the record does not date


def compare(
    scenario: str | Path | Scenario = SCENARIO,
    seeds: int | list[int] = 5,
    steps: int | None = None,
) -> Comparison:
    """Run the scenario over ``seeds`` (a count from the scenario's seed, or a list) for
    ``steps`` months (default: the scenario's) and compare with the record."""
    sc = scenario if isinstance(scenario, Scenario) else eipsim.load_scenario(scenario)
    seed_list = list(range(sc.seed, sc.seed + seeds)) if isinstance(seeds, int) else seeds
    n = sc.steps if steps is None else int(steps)
    runs, rows = [], []
    for seed in seed_list:
        res = eipsim.run(sc, seed=seed, steps=n)
        runs.append(res.links)
        rows.append({"seed": seed, **run_measures(res.links, n)})
    per_seed = pd.DataFrame(rows).set_index("seed")
    rec = record_measures()
    table = []
    for col in per_seed.columns:
        v = per_seed[col]
        table.append(
            {
                "measure": col,
                "record": rec.get(col, ""),
                "model_mean": float(v.mean()),
                "model_min": float(v.min()),
                "model_max": float(v.max()),
            }
        )
    measures = pd.DataFrame(table, columns=MEASURE_COLUMNS)
    dated = {(e.supplier, e.user, e.material) for e in RECORD}
    extra_rows = []
    for seed, lk in zip(seed_list, runs, strict=True):
        d = _delivered(lk)
        for _, r in d.iterrows():
            key = (r["supplier_sector"], r["user_sector"], r["material"])
            if key not in dated:
                extra_rows.append(
                    {
                        "seed": seed,
                        "supplier": r["supplier_name"],
                        "user": r["user_name"],
                        "material": r["material"],
                        "start_year": int(np.floor(year_of(r["start_step"]))),
                    }
                )
    extra = pd.DataFrame(extra_rows, columns=["seed", "supplier", "user", "material", "start_year"])
    return Comparison(sc, seed_list, n, per_seed, measures, exchange_table(runs), extra)


# -- output -----------------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if np.isnan(v):
            return "-"
        return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"
    return str(v)


def markdown_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(_fmt(r[c]) for c in cols) + " |")
    return "\n".join(lines)


def extra_summary(extra: pd.DataFrame, n_seeds: int) -> pd.DataFrame:
    if extra.empty:
        return pd.DataFrame(columns=["supplier", "user", "material", "seeds", "median_start_year"])
    g = extra.groupby(["supplier", "user", "material"])
    out = g.agg(seeds=("seed", "nunique"), median_start_year=("start_year", "median"))
    out["seeds"] = out["seeds"].map(lambda k: f"{k}/{n_seeds}")
    return out.reset_index()


def findings(c: Comparison) -> list[str]:
    """Plain sentences on the measured figures (written into the report)."""
    m = c.measures.set_index("measure")
    ex = c.exchanges
    formed = ex["seeds_formed"].map(lambda s: int(s.split("/")[0]))
    always = int((formed == len(c.seeds)).sum())
    never = ex.loc[formed == 0, "exchange"].tolist()
    early = ex["years_early"].dropna()
    out = [
        f"Exchanges active at the end of 1993: {_fmt(m.loc['exchanges active end 1993', 'model_mean'])} "
        f"on average (range {_fmt(m.loc['exchanges active end 1993', 'model_min'])}-"
        f"{_fmt(m.loc['exchanges active end 1993', 'model_max'])}); the record has about 10.",
        f"Of the {len(ex)} dated exchanges, {always} form in every seed"
        + (f"; never formed in any seed: {', '.join(never)}." if never else "."),
        f"First link: {_fmt(m.loc['first link (year)', 'model_mean'])} (record 1961). Median "
        f"start year of the model's links: {_fmt(m.loc['median start year', 'model_mean'])} "
        f"(record: {record_measures()['median start year']}).",
    ]
    partial = [
        f"{t} ({k}/{len(c.seeds)})"
        for t, k in zip(ex["exchange"], formed, strict=True)
        if 0 < k < len(c.seeds)
    ]
    if partial:
        out.append(f"Formed in some seeds only: {'; '.join(partial)}.")
    late = ex.dropna(subset=["model_year_median"]).sort_values("model_year_median").tail(1)
    if len(late):
        r = late.iloc[0]
        out.append(
            f"The latest of them in the model: {r['exchange']} (median {_fmt(r['model_year_median'])}, "
            f"record {r['record_year']})."
        )
    if len(early):
        out.append(
            f"The dated exchanges the model forms begin on average {early.mean():.0f} years "
            f"before the record's date (median {early.median():.0f} years)."
        )
    out.append(
        f"Links begun by decade (mean): 1960s {_fmt(m.loc['links begun 1961-1969', 'model_mean'])}, "
        f"1970s {_fmt(m.loc['links begun 1970-1979', 'model_mean'])}, "
        f"1980s {_fmt(m.loc['links begun 1980-1989', 'model_mean'])}, "
        f"1990s {_fmt(m.loc['links begun 1990-2000', 'model_mean'])}; record 1, 3, 4, 3."
    )
    hub = float(c.per_seed["power station is the hub"].sum())
    out.append(
        f"The power station is the hub (most partners) in {hub:.0f} of "
        f"{len(c.seeds)} seeds, with {_fmt(m.loc['power station degree', 'model_mean'])} partners "
        f"on average (record: 6 by 1993)."
    )
    return out


LIMITATIONS = """\
## What the model cannot reproduce, and why

- **The pace of growth.** Partners now enter when they came (the roster's `entry_month`:
  Novo's plant 1969, Gyproc 1972, the fish farm in the 1980s, Soilrem 1998; dates from
  general accounts, not the brief: check before citing), which moves the model's median
  start year from the 1960s to about 1970. But a partner's streams exist from its entry:
  the power station's desulphurisation gypsum (1993 in the record) and the refinery's
  recovered sulphur (about 1990) are there from the start, and energy prices do not follow
  the oil shocks that made district heating and steam pay (1981-82). With high trust and
  near-certain acquaintance every link that pays forms within a few years of both partners
  being there, so the 1980s and 1990s of the record, when streams and prices changed, stay
  nearly empty in the model. Dated stream changes and a dated price path would let the
  model represent them; that is a domain change, not a scenario choice.
- **Late links come from prices, not history.** The one dated exchange the model forms
  late, warm water to the fish farm, is marginal at the scenario's prices (assumed: 0.03
  USD/m3 of warmth): when this report was written `EIPModel.explain_candidates` showed it
  failing on economics until the random price index rose, so its model date is chance,
  not the 1980s of the record. Sulphur, which the refinery could sell anyway, is marginal
  in the same way.
- **Knowing each other is drawn once.** Partners that are not plot neighbours and do not
  draw an acquaintance on arrival (10 % of Danish pairs, 20 % with the refinery, here)
  learn of each other only through events, a platform or a broker, none of which
  Kalundborg had. A profitable link between two such partners never forms in that seed:
  when this report was written, that was why most dated exchanges missing in a seed were
  missing; the others (warm water to the fish farm, and sulphur in some seeds) failed on
  their economics (`EIPModel.explain_candidates` after 480 months).
- **Prices and policy do not follow the dates.** The oil shocks of 1973 and 1979 are only
  the random price index; Denmark's waste tax (1987) and stricter discharge rules are not
  dated, so the scenario sets no landfill tax.
- **Geography.** Farms, the cement works and the acid maker are off site (tens to
  hundreds of km) but sit on the park's grid, so their haulage is understated.
- **Counting.** The record counts projects (one "water" project may be several pipes);
  the model counts supplier-user-material links. Links the record does not date (the
  refinery's cooling water to the power station, yeast slurry to farms, waste to Kara,
  sewage sludge to Soilrem) are real exchanges of later accounts, listed apart above.
"""


def report(c: Comparison) -> str:
    sc = c.scenario
    lines = [
        "# Kalundborg validation",
        "",
        "Generated by `python scripts/kalundborg_compare.py --write` from "
        f"`scenarios/kalundborg.yaml` ({c.steps} months from January {START_YEAR}, seeds "
        f"{c.seeds[0]}-{c.seeds[-1]}, {len(c.seeds)} runs). The scenario is a validation "
        'case: its values come from the record (brief, section 7) or are marked "assumed" '
        "in the file, and none was adjusted to reproduce the record. Re-run the script after "
        "a change of the model; the figures below are what it measured.",
        "",
        f"The scenario: {sc.firms.count} partners (the roster), "
        f"{len(sc.materials)} materials and {len(sc.sectors)} sectors of its own, the "
        "calibrated behaviour of the package defaults (ODD §7.18), partners entering at "
        "their roster entry_month, trust priors "
        f"{sc.trust.initial_same_nationality} / {sc.trust.initial_cross_nationality} and "
        f"acquaintance {sc.trust.acquaintance_same_nationality} / "
        f'{sc.trust.acquaintance_cross_nationality} ("short mental distance").',
        "",
        "## Findings",
        "",
        *[f"- {s}" for s in findings(c)],
        "",
        "## Measures against the record",
        "",
        'Links counted once they deliver; "active end Y": delivering in December of Y.',
        "",
        markdown_table(c.measures),
        "",
        "## The dated exchanges",
        "",
        "`years_early`: record year minus the model's median year (positive: the model is early).",
        "",
        markdown_table(c.exchanges),
        "",
        "## Links the model grows that the record does not date",
        "",
        markdown_table(extra_summary(c.extra, len(c.seeds))),
        "",
        LIMITATIONS,
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(SCENARIO))
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (from the scenario's)")
    ap.add_argument("--steps", type=int, default=None, help="months (default: the scenario's)")
    ap.add_argument(
        "--write",
        nargs="?",
        const=str(REPORT),
        default=None,
        help=f"write the Markdown report (default path {REPORT.relative_to(ROOT)})",
    )
    a = ap.parse_args(argv)
    if a.seeds < 1:
        ap.error("--seeds must be >= 1")
    c = compare(a.scenario, a.seeds, a.steps)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(c.measures.to_string(index=False))
        print()
        print(c.exchanges.to_string(index=False))
    if a.write:
        Path(a.write).write_text(report(c) + "\n", encoding="utf-8")
        print(f"\nwrote {a.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
