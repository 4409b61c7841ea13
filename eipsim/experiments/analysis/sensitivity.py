"""Global sensitivity analysis of a finished sobol/morris/fast sweep.

The model is stochastic, so replicates are averaged per design point before SALib's
analysers see them; the spread between replicates is reported next to the indices, and the
analysis warns when intervals are wide or indices leave their range (too few samples or
too few replicates).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eipsim.errors import UserError
from eipsim.experiments.framework.design import sample_unit, unit_problem
from eipsim.experiments.framework.seeds import analysis_seed
from eipsim.experiments.framework.spec import SENSITIVITY_KINDS, Experiment, parse_experiment
from eipsim.experiments.framework.store import Sweep, load
from eipsim.runs.files import atomic_write_bytes, json_text

NOISE_WARN = 0.2  # replicate noise share of the variance of point means


@dataclass
class SensitivityResult:
    method: str
    indices: pd.DataFrame  # outcome, parameter, index columns with *_conf
    second_order: pd.DataFrame | None
    noise: pd.DataFrame
    warnings: list[str]
    out: Path
    conf_level: float = 0.95
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """A short table for the terminal."""
        lines = [f"{self.method} indices ({len(self.noise)} outcome(s))"]
        cols = {
            "sobol": ["S1", "S1_conf", "ST", "ST_conf"],
            "fast": ["S1", "S1_conf", "ST", "ST_conf"],
            "morris": ["mu_star", "mu_star_conf", "sigma"],
        }[self.method]
        for outcome, df in self.indices.groupby("outcome", sort=False):
            lines.append(f"\n  {outcome}")
            lines.append("    " + f"{'parameter':<42}" + "".join(f"{c:>13}" for c in cols))
            for _, r in df.iterrows():
                vals = "".join(f"{r[c]:>13.4g}" for c in cols)
                lines.append(f"    {r['parameter']:<42}{vals}")
        return "\n".join(lines)


def experiment_of(sweep: Sweep) -> Experiment:
    """The experiment spec stored in a sweep's manifest."""
    d = dict(sweep.manifest.get("experiment") or {})
    for k in ("base_scenario", "adapter", "hash"):
        d.pop(k, None)
    return parse_experiment(d, source=f"{sweep.root}/manifest.json")


def point_outcomes(sweep: Sweep, outcome: str, n_points: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Mean outcome per design point over successful replicates, and the spread per point."""
    runs = sweep.summary
    if outcome not in runs.columns:
        known = [c for c in runs.columns if c not in ("run_id", "point", "replicate", "seed")]
        raise UserError(f"unknown outcome {outcome!r}; summary indicators: {', '.join(known)}")
    ok = runs[runs["status"] == "ok"]
    g = ok.groupby("point")[outcome]
    stats = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.size()})
    stats = stats.reindex(range(n_points))
    missing = int(stats["mean"].isna().sum())
    if missing:
        raise UserError(
            f"{missing} of {n_points} design points have no successful run for {outcome!r}; "
            "the sensitivity estimators need every point (see failed runs in the status files)"
        )
    return stats["mean"].to_numpy(dtype=float), stats


def _noise_row(outcome: str, stats: pd.DataFrame) -> dict[str, Any]:
    between = float(np.var(stats["mean"], ddof=1)) if len(stats) > 1 else 0.0
    within = float(np.nanmean(stats["sd"] ** 2)) if stats["n"].max() > 1 else float("nan")
    reps = float(stats["n"].mean())
    share = (within / reps) / between if between > 0 and np.isfinite(within) else float("nan")
    return {
        "outcome": outcome,
        "points": len(stats),
        "mean_replicates": reps,
        "mean_between_points_sd": float(np.sqrt(between)),
        "mean_within_point_sd": float(np.sqrt(within)) if np.isfinite(within) else float("nan"),
        "noise_share": share,
    }


def _names(problem: dict[str, Any]) -> list[str]:
    if problem.get("groups"):
        return list(dict.fromkeys(problem["groups"]))
    return list(problem["names"])


def _analyse_one(
    method: str,
    spec: Experiment,
    problem: dict[str, Any],
    unit: np.ndarray,
    y: np.ndarray,
    num_resamples: int,
    conf_level: float,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    seed = analysis_seed(spec.seed)
    names = _names(problem)
    d = spec.design
    if method == "sobol":
        from SALib.analyze import sobol

        si = sobol.analyze(
            problem,
            y,
            calc_second_order=d.second_order,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        df = pd.DataFrame(
            {
                "parameter": names,
                "S1": si["S1"],
                "S1_conf": si["S1_conf"],
                "ST": si["ST"],
                "ST_conf": si["ST_conf"],
            }
        )
        s2 = None
        if d.second_order:
            rows = []
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    rows.append(
                        {
                            "parameter_1": names[i],
                            "parameter_2": names[j],
                            "S2": si["S2"][i, j],
                            "S2_conf": si["S2_conf"][i, j],
                        }
                    )
            s2 = pd.DataFrame(rows)
        return df, s2
    if method == "morris":
        from SALib.analyze import morris

        si = morris.analyze(
            problem,
            unit,
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=d.num_levels,
            seed=seed,
        )
        df = pd.DataFrame(
            {
                "parameter": list(si["names"]),
                "mu": np.asarray(si["mu"], dtype=float),
                "mu_star": np.asarray(si["mu_star"], dtype=float),
                "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
                "sigma": np.asarray(si["sigma"], dtype=float),
            }
        )
        return df, None
    if method == "fast":
        from SALib.analyze import fast

        # SALib's eFAST reseeds numpy's global generator; keep the caller's state intact.
        state = np.random.get_state()  # noqa: NPY002 - saving, not drawing
        try:
            with warnings.catch_warnings():
                # SALib: eFAST bootstrap CIs are indicative only; analyse_sweep says so once
                warnings.simplefilter("ignore", UserWarning)
                si = fast.analyze(
                    problem,
                    y,
                    M=d.interference,
                    num_resamples=num_resamples,
                    conf_level=conf_level,
                    seed=seed,
                )
        finally:
            np.random.set_state(state)  # noqa: NPY002
        df = pd.DataFrame(
            {
                "parameter": names,
                "S1": si["S1"],
                "S1_conf": si["S1_conf"],
                "ST": si["ST"],
                "ST_conf": si["ST_conf"],
            }
        )
        return df, None
    raise UserError(f"sensitivity needs a sobol, morris or fast design (this one is {method})")


def check_indices(
    method: str, outcome: str, df: pd.DataFrame, wide_ci: float, y_scale: float
) -> list[str]:
    """Warnings for wide intervals and indices outside [0, 1] (signs of too few samples)."""
    out: list[str] = []
    if method in ("sobol", "fast"):
        for idx in ("S1", "ST"):
            wide = df[df[f"{idx}_conf"] > wide_ci]
            if len(wide):
                out.append(
                    f"{outcome}: {idx} confidence half-width above {wide_ci} for "
                    f"{', '.join(wide['parameter'])}; increase design.samples or replicates"
                )
            low = df[df[idx] + df[f"{idx}_conf"] < 0]
            high = df[df[idx] - df[f"{idx}_conf"] > 1]
            if len(low) or len(high):
                bad = ", ".join(list(low["parameter"]) + list(high["parameter"]))
                out.append(
                    f"{outcome}: {idx} outside [0, 1] beyond its interval for {bad}; "
                    "too few samples for this model's noise"
                )
        over = df[df["S1"] > df["ST"] + df["S1_conf"] + df["ST_conf"]]
        if len(over):
            out.append(
                f"{outcome}: S1 > ST for {', '.join(over['parameter'])}; estimates not converged"
            )
    elif method == "morris" and y_scale > 0:
        rel = df["mu_star_conf"] / max(df["mu_star"].max(), 1e-300)
        wide = df[rel > 0.5]
        if len(wide):
            out.append(
                f"{outcome}: mu* intervals wider than half the largest mu* for "
                f"{', '.join(wide['parameter'])}; add trajectories or replicates"
            )
    return out


def analyse_sweep(
    sweep_dir: str | Path,
    outcomes: list[str] | None = None,
    num_resamples: int | None = None,
    conf_level: float | None = None,
    out: str | Path | None = None,
    plots: bool = True,
) -> SensitivityResult:
    """Indices with confidence intervals for each outcome, written as CSV, Parquet and PNG."""
    sweep = load(sweep_dir, timeseries=False)
    spec = experiment_of(sweep)
    method = spec.design.kind
    if method not in SENSITIVITY_KINDS:
        raise UserError(
            f"{sweep_dir}: a {method} design has no sensitivity indices; "
            "use a sobol, morris or fast experiment"
        )
    if not sweep.complete:
        raise UserError(f"{sweep_dir}: the sweep is not complete; resume it first")
    settings = spec.sensitivity
    outcomes = outcomes or list(settings.outcomes)
    num_resamples = num_resamples or settings.num_resamples
    conf_level = conf_level or settings.conf_level
    if not 0 < conf_level < 1:
        raise UserError(f"--conf-level must be between 0 and 1 (got {conf_level})")
    problem = unit_problem(spec)
    unit = sample_unit(spec)
    n_points = int(sweep.manifest["n_points"])
    if unit.shape[0] != n_points:
        raise UserError(
            f"{sweep_dir}: the design has {n_points} points but the sampler now gives "
            f"{unit.shape[0]} (different SALib version?); re-run the sweep"
        )
    frames, s2frames, noise, warns = [], [], [], []
    for outcome in outcomes:
        y, stats = point_outcomes(sweep, outcome, n_points)
        noise.append(_noise_row(outcome, stats))
        if np.nanstd(y) == 0:
            warns.append(f"{outcome}: constant across the design; its indices are undefined")
            continue
        df, s2 = _analyse_one(method, spec, problem, unit, y, num_resamples, conf_level)
        df.insert(0, "outcome", outcome)
        frames.append(df)
        if s2 is not None:
            s2.insert(0, "outcome", outcome)
            s2frames.append(s2)
        warns += check_indices(method, outcome, df, settings.wide_ci, float(np.std(y)))
        share = noise[-1]["noise_share"]
        if spec.common_random_numbers:
            pass  # the replicate spread is shared by all points and cancels in the estimators
        elif np.isfinite(share) and share > NOISE_WARN:
            warns.append(
                f"{outcome}: replicate noise is {share:.0%} of the variance of the point means; "
                "add replicates"
            )
        elif not np.isfinite(noise[-1]["mean_within_point_sd"]):
            warns.append(
                f"{outcome}: one replicate per point, so the model's noise is not separated from "
                "the parameters' effects; use replicates >= 2"
            )
    if spec.common_random_numbers:
        warns.append(
            "common random numbers: replicate r uses one seed at every point, so the seed's "
            "effect largely cancels in the estimators; judge precision by the intervals "
            "(noise.csv's noise_share does not apply)"
        )
    if method == "fast":
        warns.append(
            "eFAST confidence intervals come from a bootstrap that SALib marks as indicative only"
        )
    if not frames:
        raise UserError("no outcome varies across the design; nothing to analyse")
    indices = pd.concat(frames, ignore_index=True)
    second = pd.concat(s2frames, ignore_index=True) if s2frames else None
    noise_df = pd.DataFrame(noise)
    out_dir = Path(out) if out else Path(sweep_dir) / "sensitivity"
    res = SensitivityResult(method, indices, second, noise_df, warns, out_dir, conf_level)
    _write(res, conf_level, num_resamples)
    if plots:
        from eipsim.experiments.analysis.plots import sensitivity_plots

        res.files += sensitivity_plots(res, out_dir)
    return res


def _write(res: SensitivityResult, conf_level: float, num_resamples: int) -> None:
    import pyarrow as pa

    from eipsim.experiments.framework.parquet import encode

    res.out.mkdir(parents=True, exist_ok=True)
    tables = {"indices": res.indices, "noise": res.noise}
    if res.second_order is not None:
        tables["second_order"] = res.second_order
    for name, df in tables.items():
        csv = res.out / f"{name}.csv"
        atomic_write_bytes(csv, df.to_csv(index=False).encode())
        pq = res.out / f"{name}.parquet"
        atomic_write_bytes(pq, encode(pa.Table.from_pandas(df, preserve_index=False)))
        res.files += [csv, pq]
    meta = {
        "method": res.method,
        "conf_level": conf_level,
        "num_resamples": num_resamples,
        "warnings": res.warnings,
    }
    atomic_write_bytes(res.out / "sensitivity.json", json_text(meta).encode())
