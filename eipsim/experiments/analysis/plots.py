"""The pictures a policy researcher wants from a sweep (PNG, matplotlib without pyplot).

Figures are built with ``matplotlib.figure.Figure`` directly, so plotting never touches
pyplot's global state or needs a display.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eipsim.runs.files import atomic_write_bytes

if TYPE_CHECKING:
    from eipsim.experiments.analysis.sensitivity import SensitivityResult

MAX_LEVELS = 8  # more distinct values than this: bin into quintiles
BAND = (0.1, 0.9)


def _save(fig: Figure, path: Path, dpi: int = 120) -> Path:
    """Save a figure as PNG atomically (a reader never sees half an image)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue(), fsync=False)
    return path


def _annotate_cells(ax: Any, vals: np.ndarray, dark: np.ndarray) -> None:
    """Write each finite value of a heat map in its cell, white where the cell is dark."""
    for i, j in zip(*np.nonzero(np.isfinite(vals)), strict=True):
        ax.text(
            j,
            i,
            f"{vals[i, j]:.2f}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if dark[i, j] else "black",
        )


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1] if "." in name else name


def as_levels(s: pd.Series) -> pd.Series:
    """Discrete levels for grouping: values as they are, or quintile bins of many values."""
    if s.nunique(dropna=False) <= MAX_LEVELS or not pd.api.types.is_numeric_dtype(s):
        return s.astype(str) if not pd.api.types.is_numeric_dtype(s) else s
    return pd.qcut(s, 5, duplicates="drop").astype(str)


def _ordered(values: pd.Series) -> list[Any]:
    """Numbers ascending; names in design order (packages as written in the file)."""
    u = list(pd.unique(values))
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in u):
        return sorted(u)
    if all(isinstance(v, str) and v.startswith(("(", "[")) for v in u):  # quintile bins
        try:
            return sorted(u, key=lambda v: float(v[1:].split(",")[0]))
        except ValueError:
            return u
    return u


def outcome_over_time(ts: pd.DataFrame, outcome: str, by: str | None, path: Path) -> Path:
    """Mean and 10-90 % band across runs, one line per value of ``by`` (e.g. package)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    key = by if by else "_all"
    df = ts[["step", outcome, *([by] if by else [])]].copy()
    if not by:
        df[key] = "all runs"
    else:
        df[key] = as_levels(df[key])
    groups = _ordered(df[key])
    colors = [f"C{i % 10}" for i in range(len(groups))]
    for g, c in zip(groups, colors, strict=True):
        sub = df[df[key] == g].groupby("step")[outcome]
        m = sub.mean()
        lo, hi = sub.quantile(BAND[0]), sub.quantile(BAND[1])
        ax.plot(m.index, m.to_numpy(), color=c, label=str(g), lw=1.8)
        ax.fill_between(m.index, lo.to_numpy(), hi.to_numpy(), color=c, alpha=0.18, lw=0)
    ax.set_xlabel("month")
    ax.set_ylabel(outcome)
    title = f"{outcome} over time" + (f" by {_short(by)}" if by else "")
    ax.set_title(f"{title}\nline: mean over runs; band: {BAND[0]:.0%}-{BAND[1]:.0%} of runs")
    ax.grid(alpha=0.3)
    if len(groups) > 1:
        ax.legend(title=_short(by) if by else None, fontsize=8, loc="best")
    return _save(fig, path)


def lever_boxplots(runs: pd.DataFrame, levers: list[str], outcome: str, path: Path) -> Path:
    """Final outcome per lever value, one panel per lever."""
    levers = levers[:6]
    n = len(levers)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.2 * cols, 3.6 * rows))
    for i, lever in enumerate(levers):
        ax = fig.add_subplot(rows, cols, i + 1)
        lv = as_levels(runs[lever])
        order = _ordered(lv)
        data = [runs.loc[lv == v, outcome].dropna().to_numpy() for v in order]
        ax.boxplot(data, showmeans=True, meanprops={"marker": "^", "markersize": 5})
        ax.set_xticks(range(1, len(order) + 1), [str(v) for v in order], rotation=30, ha="right")
        ax.set_title(_short(lever), fontsize=10)
        ax.set_ylabel(outcome if i % cols == 0 else "")
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(f"final {outcome} per lever value (box: quartiles; triangle: mean)")
    fig.tight_layout()
    return _save(fig, path)


def lever_heatmap(runs: pd.DataFrame, a: str, b: str, outcome: str, path: Path) -> Path:
    """Mean final outcome for each combination of two levers."""
    df = pd.DataFrame({"a": as_levels(runs[a]), "b": as_levels(runs[b]), "y": runs[outcome]})
    table = df.groupby(["b", "a"])["y"].mean().unstack("a")
    table = table.reindex(index=_ordered(df["b"]), columns=_ordered(df["a"]))
    fig = Figure(figsize=(1.3 * len(table.columns) + 3, 0.7 * len(table.index) + 2.2))
    ax = fig.add_subplot()
    vals = table.to_numpy(dtype=float)
    im = ax.imshow(vals, cmap="viridis", aspect="auto", origin="lower")
    ax.set_xticks(
        range(len(table.columns)), [str(c) for c in table.columns], rotation=30, ha="right"
    )
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.set_xlabel(_short(a))
    ax.set_ylabel(_short(b))
    finite = vals[np.isfinite(vals)]
    mid = float(np.mean(finite)) if finite.size else 0.0
    _annotate_cells(ax, vals, dark=vals < mid)
    fig.colorbar(im, ax=ax, label=f"mean final {outcome}")
    ax.set_title(f"final {outcome}: {_short(a)} x {_short(b)}")
    return _save(fig, path)


def sensitivity_plots(res: SensitivityResult, out: Path) -> list[Path]:
    """Bar chart per outcome, heat map parameters x outcomes, and S2 heat maps."""
    files = []
    df = res.indices
    if res.method == "morris":
        bars = [("mu_star", "mu_star_conf", "mu*"), ("sigma", None, "sigma")]
        heat_col, heat_label = "mu_star", "mu* / max mu* of the outcome"
    else:
        bars = [("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST")]
        heat_col, heat_label = "ST", "total-order index ST"
    for outcome, sub in df.groupby("outcome", sort=False):
        fig = Figure(figsize=(max(6, 0.9 * len(sub) + 2), 4.2))
        ax = fig.add_subplot()
        x = np.arange(len(sub))
        w = 0.38
        for k, (col, conf, label) in enumerate(bars):
            err = sub[conf].to_numpy() if conf else None
            ax.bar(x + (k - 0.5) * w, sub[col].to_numpy(), w, yerr=err, capsize=3, label=label)
        ax.set_xticks(x, [_short(p) for p in sub["parameter"]], rotation=30, ha="right")
        ax.axhline(0, color="black", lw=0.6)
        ax.set_title(f"{res.method} sensitivity of {outcome} (bars: {res.conf_level:.0%} CI)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
        files.append(_save(fig, out / f"indices_{outcome}.png"))
    table = df.pivot(index="parameter", columns="outcome", values=heat_col)
    table = table.reindex(index=list(dict.fromkeys(df["parameter"])))
    if res.method == "morris":
        table = table / table.max(axis=0).replace(0, np.nan)
    fig = Figure(figsize=(1.6 * len(table.columns) + 4, 0.5 * len(table.index) + 2))
    ax = fig.add_subplot()
    vals = table.to_numpy(dtype=float)
    im = ax.imshow(
        vals, cmap="magma_r", vmin=0, vmax=max(1.0, float(np.nanmax(vals))), aspect="auto"
    )
    ax.set_xticks(range(len(table.columns)), list(table.columns), rotation=30, ha="right")
    ax.set_yticks(range(len(table.index)), [_short(p) for p in table.index])
    _annotate_cells(ax, vals, dark=vals > 0.5)  # magma_r is dark at the top
    fig.colorbar(im, ax=ax, label=heat_label)
    ax.set_title(f"{res.method}: {heat_label}")
    files.append(_save(fig, out / "indices_heatmap.png"))
    if res.second_order is not None:
        for outcome, sub in res.second_order.groupby("outcome", sort=False):
            names = list(dict.fromkeys(list(sub["parameter_1"]) + list(sub["parameter_2"])))
            m = pd.DataFrame(np.nan, index=names, columns=names)
            for _, r in sub.iterrows():
                m.loc[r["parameter_1"], r["parameter_2"]] = r["S2"]
                m.loc[r["parameter_2"], r["parameter_1"]] = r["S2"]
            fig = Figure(figsize=(0.7 * len(names) + 3, 0.6 * len(names) + 2))
            ax = fig.add_subplot()
            im = ax.imshow(m.to_numpy(dtype=float), cmap="coolwarm", vmin=-0.3, vmax=0.3)
            ax.set_xticks(range(len(names)), [_short(n) for n in names], rotation=40, ha="right")
            ax.set_yticks(range(len(names)), [_short(n) for n in names])
            fig.colorbar(im, ax=ax, label="second-order index S2")
            ax.set_title(f"Sobol second-order interactions: {outcome}")
            files.append(_save(fig, out / f"second_order_{outcome}.png"))
    return files
