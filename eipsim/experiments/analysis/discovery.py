"""Scenario discovery: which levers and conditions give an outcome above (or below) X?

PRIM comes from EMA Workbench (``ema_workbench.analysis.prim``) and the classification tree
from scikit-learn (``DecisionTreeClassifier``); this module only prepares the cases, picks a
box on the peeling trajectory, and writes readable tables and figures.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from eipsim.errors import UserError
from eipsim.experiments.analysis.plots import _save as save_png
from eipsim.experiments.framework.store import Sweep, load
from eipsim.runs.files import atomic_write_bytes, json_text


@dataclass
class DiscoveryResult:
    outcome: str
    rule: str
    n_cases: int
    n_interest: int
    box: pd.DataFrame  # restricted levers of the chosen PRIM box
    box_stats: dict[str, float]
    trajectory: pd.DataFrame
    leaves: pd.DataFrame  # CART leaves: rule, n, density, coverage
    out: Path
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [
            f"cases of interest: {self.n_interest} of {self.n_cases} ({self.rule})",
            "",
            f"PRIM box: coverage {self.box_stats['coverage']:.2f}, density "
            f"{self.box_stats['density']:.2f}, mass {self.box_stats['mass']:.2f}, "
            f"{int(self.box_stats['res_dim'])} restricted lever(s)",
        ]
        for _, r in self.box.iterrows():
            lines.append(f"  {r['lever']}: {r['range']}")
        if self.box.empty:
            lines.append("  (no restriction: the whole design)")
        lines.append("")
        lines.append("CART leaves with the most cases of interest (density = share of interest):")
        for _, r in self.leaves.head(4).iterrows():
            lines.append(
                f"  density {r['density']:.2f}, coverage {r['coverage']:.2f}, n {r['n']}: "
                f"{r['rule']}"
            )
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def cases(sweep: Sweep, outcome: str, per_point: bool = False) -> tuple[pd.DataFrame, pd.Series]:
    """Lever values (X) and outcome (y) of each successful run, or of each design point."""
    runs = sweep.runs
    if outcome not in runs.columns:
        known = list(sweep.manifest.get("summary_keys") or [])
        raise UserError(f"unknown outcome {outcome!r}; summary indicators: {', '.join(known)}")
    levers = sweep.levers
    if not levers:
        raise UserError(f"{sweep.root}: the design varies nothing; nothing to discover")
    runs = runs[runs["status"] == "ok"]
    if runs.empty:
        raise UserError(f"{sweep.root}: no successful run to analyse")
    if per_point:
        y = runs.groupby("point")[outcome].mean()
        x = runs.groupby("point")[levers].first().loc[y.index]
    else:
        x, y = runs[levers], runs[outcome]
    return x.reset_index(drop=True), y.reset_index(drop=True)


def _prep_x(x: pd.DataFrame) -> pd.DataFrame:
    x = x.copy()
    for c in x.columns:
        if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c]):
            x[c] = x[c].astype(str).astype("category")
        elif pd.api.types.is_integer_dtype(x[c]):
            x[c] = x[c].astype("int64")
        else:
            x[c] = x[c].astype("float64")
    return x


def run_prim(
    x: pd.DataFrame, y: np.ndarray, peel_alpha: float, min_density: float
) -> tuple[pd.DataFrame, dict[str, float], pd.DataFrame, list[str]]:
    """One PRIM box; the chosen box has the best coverage among those dense enough."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    notes: list[str] = []
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(int), peel_alpha=peel_alpha)
        box = p.find_box()
    traj = box.peeling_trajectory.copy()
    base = float(traj.loc[0, "density"])
    target = min_density
    if base >= min_density:  # the whole design is already dense: ask for half the remainder
        target = base + 0.5 * (1 - base)
        notes.append(
            f"{base:.0%} of all cases are of interest already; a higher threshold gives a "
            "sharper answer"
        )
    dense = traj[(traj["density"] >= target) & (traj["res_dim"] >= 1)]
    if len(dense):
        i = int(dense.sort_values(["coverage", "density"], ascending=False).index[0])
    else:
        best = traj.sort_values(["density", "coverage"], ascending=False)
        i = int(best.index[0])
        notes.append(
            f"no PRIM box reaches density {target:.2f}; showing the densest "
            f"({traj.loc[i, 'density']:.2f})"
        )
    # Read the box limits directly: EMA's inspect(style="data") fails on categorical
    # levers under pandas 3 (it writes sets into a float frame).
    from ema_workbench.analysis import scenario_discovery_util as sdutil

    lims = box.box_lims[i]
    restricted = sdutil._determine_restricted_dims(lims, p.box_init)
    qps = box.p_values[i] if i < len(box.p_values) else {}
    rows = []
    for lever in restricted:
        lo, hi = lims[lever].iloc[0], lims[lever].iloc[1]
        qp = [np.nan if v == -1 else v for v in qps.get(lever, [])] + [np.nan, np.nan]
        if isinstance(lo, set | frozenset):
            rng = "one of {" + ", ".join(sorted(map(str, lo))) + "}"
            lo = hi = ", ".join(sorted(map(str, lo)))
        else:
            rng = f"{lo:.4g} .. {hi:.4g}"
        rows.append(
            {
                "lever": lever,
                "range": rng,
                "min": str(lo),
                "max": str(hi),
                "qp_low": qp[0],
                "qp_high": qp[1],
            }
        )
    stats = {k: float(traj.loc[i, k]) for k in ("coverage", "density", "mass", "res_dim")}
    stats["box_index"] = i
    cols = ["lever", "range", "min", "max", "qp_low", "qp_high"]
    return pd.DataFrame(rows, columns=cols), stats, traj, notes


def run_cart(
    x: pd.DataFrame, y: np.ndarray, max_depth: int, seed: int
) -> tuple[pd.DataFrame, Any, list[str]]:
    """A scikit-learn tree on one-hot levers; each leaf becomes a readable rule."""
    from sklearn.tree import DecisionTreeClassifier

    nominal = [c for c in x.columns if isinstance(x[c].dtype, pd.CategoricalDtype)]
    levels = {c: [str(v) for v in x[c].cat.categories] for c in nominal}
    xd = pd.get_dummies(x, columns=nominal, prefix_sep="=", dtype=float)
    n = len(y)
    clf = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(3, n // 50), random_state=seed
    )
    clf.fit(xd.to_numpy(dtype=float), y.astype(int))
    names = list(xd.columns)
    t = clf.tree_
    total = max(int(y.sum()), 1)
    leaves = []
    node_idx = clf.apply(xd.to_numpy(dtype=float))

    def walk(node: int, conds: list[tuple[str, str, float]]) -> None:
        if t.children_left[node] == -1:
            inside = node_idx == node
            k = int(y[inside].sum())
            m = int(inside.sum())
            leaves.append(
                {
                    "rule": _rule_text(conds, levels),
                    "n": m,
                    "k": k,
                    "density": k / max(m, 1),
                    "coverage": k / total,
                    "node": node,
                }
            )
            return
        f, thr = names[t.feature[node]], float(t.threshold[node])
        walk(t.children_left[node], [*conds, (f, "<=", thr)])
        walk(t.children_right[node], [*conds, (f, ">", thr)])

    walk(0, [])
    df = pd.DataFrame(leaves).sort_values(["density", "coverage"], ascending=False)
    return df.reset_index(drop=True), clf, names


def _rule_text(conds: list[tuple[str, str, float]], levels: dict[str, list[str]]) -> str:
    """A leaf's path as one readable rule: tightest numeric bounds, allowed category sets."""
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    allowed: dict[str, set[str]] = {}
    for f, op, thr in conds:
        base, _, val = f.partition("=")
        if base in levels and val:
            cur = allowed.setdefault(base, set(levels[base]))
            allowed[base] = cur - {val} if op == "<=" else cur & {val}
        elif op == "<=":
            highs[f] = min(highs.get(f, np.inf), thr)
        else:
            lows[f] = max(lows.get(f, -np.inf), thr)
    parts: list[str] = []
    for base, vals in allowed.items():
        order = [v for v in levels[base] if v in vals]
        if len(order) == 1:
            parts.append(f"{base} == {order[0]}")
        else:
            parts.append(f"{base} in {{{', '.join(order)}}}")
    for f in dict.fromkeys(list(lows) + list(highs)):
        lo, hi = lows.get(f), highs.get(f)
        if lo is not None and hi is not None:
            parts.append(f"{lo:.4g} < {f} <= {hi:.4g}")
        elif lo is not None:
            parts.append(f"{f} > {lo:.4g}")
        else:
            parts.append(f"{f} <= {hi:.4g}")
    return " and ".join(parts) if parts else "(all cases)"


def discover(
    sweep_dir: str | Path,
    outcome: str,
    threshold: float | None = None,
    below: bool = False,
    per_point: bool = False,
    peel_alpha: float = 0.05,
    min_density: float = 0.8,
    max_depth: int = 3,
    out: str | Path | None = None,
) -> DiscoveryResult:
    """Find the lever ranges where the outcome crosses the threshold; write CSV and PNG."""
    if not 0 < peel_alpha < 0.5:
        raise UserError(f"--peel-alpha must be between 0 and 0.5 (got {peel_alpha})")
    if not 0 < min_density <= 1:
        raise UserError(f"--min-density must be in (0, 1] (got {min_density})")
    sweep = load(sweep_dir, timeseries=False)
    x, yv = cases(sweep, outcome, per_point)
    vals = yv.dropna()
    if threshold is None:
        if set(np.unique(vals)) <= {0.0, 1.0}:
            threshold = 0.5
        else:
            raise UserError(
                f"--threshold is needed for {outcome} (it ranges from {vals.min():.4g} "
                f"to {vals.max():.4g} in this sweep)"
            )
    ok = yv.notna().to_numpy()
    x, yv = x[ok].reset_index(drop=True), yv[ok].reset_index(drop=True)
    y = ((yv < threshold) if below else (yv > threshold)).to_numpy(dtype=bool)
    rule = f"{outcome} {'<' if below else '>'} {threshold:g}" + (
        ", replicates averaged per point" if per_point else ""
    )
    k = int(y.sum())
    if k == 0 or k == len(y):
        what = "no" if k == 0 else "every"
        raise UserError(
            f"{what} case has {rule} ({outcome} ranges from {yv.min():.4g} to {yv.max():.4g}); "
            "choose a threshold inside that range"
        )
    xp = _prep_x(x)
    box, stats, traj, notes = run_prim(xp, y, peel_alpha, min_density)
    seed = int(sweep.manifest.get("root_seed", 0))
    leaves, clf, names = run_cart(xp, y, max_depth, seed)
    out_dir = Path(out) if out else Path(sweep_dir) / "discovery"
    res = DiscoveryResult(outcome, rule, len(y), k, box, stats, traj, leaves, out_dir, notes)
    _write(res, clf, names)
    return res


def _write(res: DiscoveryResult, clf: Any, names: list[str]) -> None:
    from sklearn.tree import export_text, plot_tree

    out = res.out
    out.mkdir(parents=True, exist_ok=True)
    for name, df in (
        ("prim_box", res.box),
        ("prim_trajectory", res.trajectory),
        ("cart_leaves", res.leaves),
    ):
        atomic_write_bytes(out / f"{name}.csv", df.to_csv(index=False).encode())
    atomic_write_bytes(out / "cart_tree.txt", export_text(clf, feature_names=names).encode())
    meta = {
        "outcome": res.outcome,
        "rule": res.rule,
        "cases": res.n_cases,
        "cases_of_interest": res.n_interest,
        "prim_box": res.box_stats,
        "notes": res.notes,
    }
    atomic_write_bytes(out / "discovery.json", json_text(meta).encode())
    atomic_write_bytes(out / "summary.txt", (res.text() + "\n").encode())

    fig = Figure(figsize=(6, 4.5))
    ax = fig.add_subplot()
    tr = res.trajectory
    sc = ax.scatter(tr["coverage"], tr["density"], c=tr["res_dim"], cmap="viridis", s=22)
    i = int(res.box_stats["box_index"])
    ax.scatter(
        tr["coverage"].to_numpy()[[i]],
        tr["density"].to_numpy()[[i]],
        s=140,
        facecolors="none",
        edgecolors="red",
        lw=1.6,
        label="chosen box",
    )
    fig.colorbar(sc, ax=ax, label="restricted levers")
    ax.set_xlabel("coverage (share of cases of interest inside)")
    ax.set_ylabel("density (share inside that are of interest)")
    ax.set_title(f"PRIM peeling trajectory: {res.rule}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_png(fig, out / "prim_tradeoff.png", dpi=120)

    depth = clf.get_depth()
    fig = Figure(figsize=(max(8, 3.2 * 2 ** min(depth, 4) / 2), 2.2 * depth + 2))
    ax = fig.add_subplot()
    with contextlib.suppress(Exception):  # a tree with a single leaf has nothing to draw
        plot_tree(
            clf,
            feature_names=names,
            class_names=["other", "of interest"],
            filled=True,
            impurity=False,
            proportion=False,
            fontsize=7,
            ax=ax,
        )
    ax.set_title(f"CART: {res.rule}")
    save_png(fig, out / "cart_tree.png", dpi=110)
