"""A sweep's report: figures plus a Markdown and an HTML page with the manifest.

The report is what a policy researcher reads: outcomes over time per policy package, final
outcomes per lever value, a lever x lever map, failures, and, when present, the
sensitivity indices and scenario-discovery boxes computed on the same folder.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eipsim.errors import UserError
from eipsim.experiments.analysis import plots
from eipsim.experiments.framework.design import PACKAGE_COLUMN
from eipsim.experiments.framework.store import Sweep, load
from eipsim.runs.files import atomic_write_bytes

HEATMAP_OUTCOME = "adoption_share"


@dataclass
class Report:
    markdown: Path
    html: Path
    figures: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def final_outcome(sweep: Sweep, runs: pd.DataFrame, outcome: str) -> pd.Series | None:
    """Final value per run: the summary indicator, else the last timeseries step."""
    if outcome in runs.columns:
        return runs[outcome]
    ts = sweep.timeseries
    if not ts.empty and outcome in ts.columns:
        last = ts.sort_values("step").groupby("run_id")[outcome].last()
        return runs["run_id"].map(last)
    return None


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return ""
        return f"{v:.4g}"
    return str(v)


def md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = (" ".join(_fmt(v).split()).replace("|", "\\|") for v in r)
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in r) + "</tr>"
        for _, r in df.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def group_table(runs: pd.DataFrame, y: pd.Series, by: str | None) -> pd.DataFrame:
    key = plots.as_levels(runs[by]) if by else pd.Series("all runs", index=runs.index)
    g = pd.DataFrame({"group": key, "y": y}).dropna().groupby("group")["y"]
    from scipy import stats

    n = g.size()
    sem: pd.Series = g.std(ddof=1) / np.sqrt(n)
    half = sem * stats.t.ppf(0.975, np.maximum(n - 1, 1))
    t = pd.DataFrame(
        {
            "runs": n,
            "mean": g.mean(),
            "ci95_low": g.mean() - half,
            "ci95_high": g.mean() + half,
            "sd": g.std(ddof=1),
            "p10": g.quantile(0.1),
            "p90": g.quantile(0.9),
        }
    )
    t.index.name = by or "group"
    if by and pd.api.types.is_numeric_dtype(runs[by]) and runs[by].nunique() <= plots.MAX_LEVELS:
        return t.sort_index().reset_index()  # lever values in order
    return t.sort_values("mean", ascending=False).reset_index()  # packages ranked


def main_effects(runs: pd.DataFrame, levers: list[str], y: pd.Series) -> pd.DataFrame:
    """For each lever: the best and worst value's mean outcome and their difference with a
    95 % (Welch) interval, largest effects first. A first answer, averaged over the rest."""
    from scipy import stats

    rows = []
    for lever in levers:
        lv = plots.as_levels(runs[lever])
        g = pd.DataFrame({"v": lv, "y": y}).dropna().groupby("v")["y"]
        means = g.mean()
        if len(means) < 2:
            continue
        hi, lo = means.idxmax(), means.idxmin()
        a = g.get_group(hi).to_numpy()
        b = g.get_group(lo).to_numpy()
        diff = a.mean() - b.mean()
        va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
        se = float(np.sqrt(va + vb))
        if se > 0:
            dof = (va + vb) ** 2 / (va**2 / max(len(a) - 1, 1) + vb**2 / max(len(b) - 1, 1))
            half = float(stats.t.ppf(0.975, dof)) * se
        else:
            half = 0.0
        rows.append(
            {
                "lever": lever,
                "best value": hi,
                "mean at best": a.mean(),
                "worst value": lo,
                "mean at worst": b.mean(),
                "difference": diff,
                "ci95_low": diff - half,
                "ci95_high": diff + half,
            }
        )
    df = pd.DataFrame(rows)
    return df.sort_values("difference", ascending=False) if len(df) else df


def manifest_table(m: dict[str, Any], n_ok: int, n_failed: int, n_done: int) -> pd.DataFrame:
    v = m.get("versions", {})
    rows = [
        ("experiment", m.get("name")),
        ("description", m.get("description") or ""),
        ("experiment file", m.get("experiment_file")),
        ("base scenario", m.get("scenario_file")),
        ("experiment hash", m.get("experiment_hash")),
        ("design", f"{m.get('design_kind')}: {', '.join(m.get('levers', [])) or '-'}"),
        (
            "runs",
            f"{m.get('n_points')} points x {m.get('replicates')} replicates = "
            f"{m.get('n_runs')} runs of {m.get('steps')} months",
        ),
        ("finished", f"{n_ok} ok, {n_failed} failed; {n_done} of {m.get('n_chunks')} chunks"),
        ("root seed", m.get("root_seed")),
        ("created / updated", f"{m.get('created')} / {m.get('updated')}"),
        ("git commit", m.get("git_commit")),
        ("python / platform", f"{m.get('python')} / {m.get('platform')}"),
        ("versions", ", ".join(f"{k} {x}" for k, x in v.items())),
    ]
    for i, s in enumerate(m.get("sessions", [])):
        rows.append(
            (
                f"session {i + 1}",
                f"{s.get('command_line')} [{s.get('backend')}, {s.get('workers')} workers]",
            )
        )
    return pd.DataFrame(rows, columns=["item", "value"])


def _report_settings(sweep: Sweep) -> dict[str, Any]:
    """``report:`` of the experiment file if it still names this experiment (it is analysis
    only, so editing it after the sweep should count), else the one stored in the manifest."""
    from eipsim.experiments.framework.spec import read_experiment_file

    stored = (sweep.manifest.get("experiment") or {}).get("report") or {}
    path = sweep.manifest.get("experiment_file")
    if path and Path(path).is_file():
        try:
            spec, _ = read_experiment_file(path)
        except UserError:
            return stored
        if spec.name == sweep.manifest.get("name"):
            return spec.report.model_dump()
    return stored


def make_report(
    sweep_dir: str | Path,
    outcomes: list[str] | None = None,
    by: str | None = None,
    out: str | Path | None = None,
) -> Report:
    """Draw the figures and write report.md and report.html into ``out``."""
    root = Path(sweep_dir)
    sweep = load(root)
    out_dir = Path(out) if out else root / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    levers = sweep.levers
    settings = _report_settings(sweep)
    by = by or settings.get("by")
    outcomes = outcomes or settings.get("outcomes")
    if by is None:
        by = PACKAGE_COLUMN if PACKAGE_COLUMN in levers else (levers[0] if levers else None)
    elif by not in sweep.design.columns:
        raise UserError(f"--by {by!r}: not a design column; choose one of {', '.join(levers)}")
    runs_all = sweep.runs
    if runs_all.empty:
        raise UserError(f"{root}: no finished runs yet")
    runs = runs_all[runs_all["status"] == "ok"].reset_index(drop=True)
    n_ok, n_failed = len(runs), int((runs_all["status"] != "ok").sum())
    if not sweep.complete:
        warnings.append(
            f"the sweep is not complete ({len(sweep.status)} of "
            f"{sweep.manifest.get('n_chunks')} chunks); the report shows what is done"
        )
    outcomes = outcomes or [HEATMAP_OUTCOME]
    ts = sweep.timeseries_with_levers() if not sweep.timeseries.empty else pd.DataFrame()
    if not ts.empty:
        ok_ids = set(runs["run_id"])
        ts = ts[ts["run_id"].isin(ok_ids)]

    md: list[str] = []
    hb: list[str] = []
    figs: list[Path] = []
    title = f"Sweep report: {sweep.manifest.get('name')}"
    md += [f"# {title}", ""]
    if sweep.manifest.get("description"):
        md += [str(sweep.manifest["description"]).strip(), ""]
        hb.append(f"<p>{html.escape(str(sweep.manifest['description']))}</p>")

    def add_fig(path: Path, caption: str) -> None:
        rel = os.path.relpath(path, out_dir)
        figs.append(path)
        md.extend([f"![{caption}]({rel})", "", f"*{caption}*", ""])
        hb.append(
            f'<figure><img src="{html.escape(rel)}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    def add_table(df: pd.DataFrame, heading: str | None = None) -> None:
        if heading:
            md.extend([f"### {heading}", ""])
            hb.append(f"<h3>{html.escape(heading)}</h3>")
        md.extend([md_table(df), ""])
        hb.append(html_table(df))

    def add_heading(text: str, level: int = 2) -> None:
        md.extend([f"{'#' * level} {text}", ""])
        hb.append(f"<h{level}>{html.escape(text)}</h{level}>")

    glance = []
    for outcome in outcomes:
        y = final_outcome(sweep, runs, outcome)
        if y is not None:
            eff = main_effects(runs, [lv for lv in levers if runs[lv].nunique() > 1], y)
            if len(eff):
                glance.append((outcome, eff))
    if glance:
        add_heading("At a glance: which lever values matter")
        text = (
            "For each lever, the value with the highest and the lowest mean final outcome, "
            "averaged over all other levers and replicates, and the difference with a 95 % "
            "interval (an interval that excludes 0 is a difference the replicates support)."
        )
        md.extend([text, ""])
        hb.append(f"<p>{html.escape(text)}</p>")
        for outcome, eff in glance:
            add_table(eff, f"final {outcome}")

    # issue 9: a sweep over a posterior; how much spread the parameter uncertainty adds
    from eipsim.experiments.analysis.posterior import spread_table

    spreads = [
        t
        for o in outcomes
        if (yo := final_outcome(sweep, runs, o)) is not None
        and (t := spread_table(runs, yo, o)) is not None
    ]
    if spreads:
        add_heading("Parameter uncertainty: runs over posterior draws")
        text = (
            "Replicates ran at draws from a calibration's posterior (replicate r at draw r mod "
            "the number of draws). Per design point, the spread between replicates splits into "
            "the model's noise (seeds of one draw) and the parameter uncertainty (between "
            "draws); the table gives root-mean variances over points. The intervals above "
            "include both."
        )
        md.extend([text, ""])
        hb.append(f"<p>{html.escape(text)}</p>")
        add_table(pd.concat(spreads, ignore_index=True))

    for outcome in outcomes:
        y = final_outcome(sweep, runs, outcome)
        if y is None:
            raise UserError(
                f"unknown outcome {outcome!r}; summary indicators: "
                f"{', '.join(sweep.manifest.get('summary_keys') or [])}"
            )
        add_heading(f"{outcome}")
        add_table(group_table(runs, y, by), f"final {outcome} by {by or 'run'}")
        if not ts.empty and outcome in ts.columns:
            p = plots.outcome_over_time(ts, outcome, by, out_dir / f"over_time_{outcome}.png")
            add_fig(p, f"{outcome} over time by {by or 'run'}: mean and 10-90 % band of runs")
        box_levers = [lv for lv in levers if runs[lv].nunique() > 1]
        if box_levers:
            tmp = runs.assign(**{outcome: y.to_numpy()})
            p = plots.lever_boxplots(tmp, box_levers, outcome, out_dir / f"box_{outcome}.png")
            add_fig(p, f"final {outcome} per lever value")

    hm = HEATMAP_OUTCOME if final_outcome(sweep, runs, HEATMAP_OUTCOME) is not None else outcomes[0]
    y = final_outcome(sweep, runs, hm)
    assert y is not None
    var_levers = [lv for lv in levers if runs[lv].nunique() > 1]
    pairs = [
        (var_levers[i], var_levers[j])
        for i in range(len(var_levers))
        for j in range(i + 1, len(var_levers))
    ][:3]
    if pairs:
        add_heading(f"Lever x lever: final {hm}")
        tmp = runs.assign(**{hm: y.to_numpy()})
        for k, (a, b) in enumerate(pairs):
            p = plots.lever_heatmap(tmp, a, b, hm, out_dir / f"heatmap_{k + 1}.png")
            add_fig(p, f"mean final {hm}: {a} x {b}")
    else:
        warnings.append("fewer than two varied levers: no lever x lever heat map")

    sens = root / "sensitivity" / "indices.csv"
    if sens.is_file():
        add_heading("Sensitivity indices")
        add_table(pd.read_csv(sens))
        meta = root / "sensitivity" / "sensitivity.json"
        if meta.is_file():
            for w in json.loads(meta.read_text()).get("warnings", []):
                md.extend([f"- warning: {w}"])
                hb.append(f"<p class='warn'>warning: {html.escape(w)}</p>")
            md.append("")
        for f in sorted((root / "sensitivity").glob("*.png")):
            add_fig(f, f.stem.replace("_", " "))
    disc = root / "discovery" / "summary.txt"
    if disc.is_file():
        add_heading("Scenario discovery")
        text = disc.read_text()
        md.extend(["```", text.rstrip(), "```", ""])
        hb.append(f"<pre>{html.escape(text)}</pre>")
        for f in sorted((root / "discovery").glob("*.png")):
            add_fig(f, f.stem.replace("_", " "))

    failed = runs_all[runs_all["status"] != "ok"]
    if len(failed):
        add_heading(f"Failed runs ({len(failed)})")
        cols = [c for c in ("run_id", "point", "replicate", "seed", "error") if c in failed]
        add_table(failed[cols].head(20))
    add_heading("Manifest")
    add_table(manifest_table(sweep.manifest, n_ok, n_failed, len(sweep.status)))

    md_path = out_dir / "report.md"
    html_path = out_dir / "report.html"
    atomic_write_bytes(md_path, "\n".join(md).encode())
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:left;font-size:14px}img{max-width:100%}"
        "figcaption{color:#555;font-size:13px}.warn{color:#a50}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>" + "\n".join(hb) + "</body></html>"
    )
    atomic_write_bytes(html_path, page.encode())
    return Report(md_path, html_path, figs, warnings)
