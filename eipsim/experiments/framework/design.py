"""Design generation: which scenario settings each design point uses.

Sampled designs (lhs, sobol, morris, fast) are drawn by SALib on the unit hypercube and then
mapped through each parameter's distribution, levels or integer rounding here, so every
sampler treats distributions the same way and the unit sample is kept for the analysers.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from eipsim.errors import UserError
from eipsim.experiments.framework.seeds import design_seed, run_seeds
from eipsim.experiments.framework.spec import (
    SAMPLED_KINDS,
    Experiment,
    Parameter,
    ResolvedExperiment,
    is_integer_key,
)

PACKAGE_COLUMN = "package"
_EPS = 1e-12


@dataclass
class Design:
    """Design points of an experiment and what each point overrides."""

    kind: str
    points: pd.DataFrame  # one row per point: point, [package], one column per varied key
    overrides: list[dict[str, Any]]  # per point: every dotted override it applies
    levers: list[str]  # design columns that vary (package first, if any)
    problem: dict[str, Any] | None = None  # SALib problem on the unit hypercube
    unit: np.ndarray | None = None  # unit sample, (n_points, n_parameters)

    @property
    def n_points(self) -> int:
        return len(self.overrides)


def label_of(value: Any) -> Any:
    """A scalar that stands for a value in a table column (JSON for lists and mappings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _column(values: list[Any]) -> pd.Series:
    """A typed column: numbers stay numbers, everything else becomes text."""
    if all(isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="bool")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="int64")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pd.Series(values, dtype="float64")
    return pd.Series([str(v) if v is not None else "null" for v in values], dtype="object")


def _grid(res: ResolvedExperiment) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    d = res.spec.design
    axes: list[list[tuple[str, Any, Any]]] = []  # per factor: (key, label, value)
    for key, values in d.factors.items():
        if isinstance(values, dict):
            axes.append([(key, str(lbl), v) for lbl, v in values.items()])
        else:
            axes.append([(key, label_of(v), v) for v in values])
    packages: list[tuple[str | None, dict[str, Any]]] = list((d.packages or {}).items()) or [
        (None, {})
    ]
    overrides: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {k: [] for k in d.factors}
    if d.packages:
        cols = {PACKAGE_COLUMN: [], **cols}
    for pname, pov in packages:
        for combo in itertools.product(*axes):
            ov = dict(pov)
            if d.packages:
                cols[PACKAGE_COLUMN].append(pname)
            for key, lbl, v in combo:
                ov[key] = v
                cols[key].append(lbl)
            overrides.append(ov)
    return overrides, cols


def unit_problem(spec: Experiment) -> dict[str, Any]:
    """The SALib problem on [0, 1]^D; distributions are applied afterwards by ``transform``."""
    params = spec.design.parameters
    prob: dict[str, Any] = {
        "num_vars": len(params),
        "names": list(params),
        "bounds": [[0.0, 1.0]] * len(params),
    }
    groups = [p.group for p in params.values()]
    if any(groups):
        prob["groups"] = [g or name for g, name in zip(groups, params, strict=True)]
    return prob


def sample_unit(spec: Experiment) -> np.ndarray:
    """Draw the unit-hypercube sample with the SALib sampler of the design kind.

    It depends on the design and the root seed only, so the analysers can redraw it.
    """
    d = spec.design
    prob = unit_problem(spec)
    seed = design_seed(spec.seed)
    n = int(d.samples or 0)
    if d.kind == "lhs":
        from SALib.sample import latin

        return latin.sample(prob, n, seed=seed)
    if d.kind == "sobol":
        from SALib.sample import sobol

        return sobol.sample(
            prob, n, calc_second_order=d.second_order, scramble=d.scramble, seed=seed
        )
    if d.kind == "morris":
        from SALib.sample import morris

        return morris.sample(
            prob,
            n,
            num_levels=d.num_levels,
            optimal_trajectories=d.optimal_trajectories,
            local_optimization=True,
            seed=seed,
        )
    if d.kind == "fast":
        from SALib.sample import fast_sampler

        return fast_sampler.sample(prob, n, M=d.interference, seed=seed)
    raise ValueError(f"not a sampled design: {d.kind}")


def transform(par: Parameter, u: np.ndarray, integer: bool) -> list[Any]:
    """Map unit values to the parameter's scale (distribution, levels, integers)."""
    u = np.asarray(u, dtype=float)
    if par.levels is not None:
        k = len(par.levels)
        idx = np.minimum(np.floor(u * k).astype(int), k - 1)
        return [par.levels[i] for i in idx]
    uc = np.clip(u, _EPS, 1 - _EPS)
    # the schema guarantees the fields each distribution needs (Parameter._check)
    low, high = float(par.low or 0.0), float(par.high or 0.0)
    peak, mean, sd = float(par.peak or 0.0), float(par.mean or 0.0), float(par.sd or 1.0)
    if par.dist == "unif":
        if integer:
            lo, hi = math.ceil(low), math.floor(high)
            x = np.minimum(np.floor(lo + u * (hi - lo + 1)), hi)
            return [int(v) for v in x]
        x = low + u * (high - low)
    elif par.dist == "logunif":
        x = stats.loguniform.ppf(uc, low, high)
    elif par.dist == "triang":
        width = high - low
        x = stats.triang.ppf(u, c=(peak - low) / width, loc=low, scale=width)
    elif par.dist == "norm":
        x = stats.norm.ppf(uc, loc=mean, scale=sd)
    elif par.dist == "truncnorm":
        a, b = (low - mean) / sd, (high - mean) / sd
        x = stats.truncnorm.ppf(u, a, b, loc=mean, scale=sd)
    elif par.dist == "lognorm":
        x = np.exp(stats.norm.ppf(uc, loc=mean, scale=sd))
    else:  # pragma: no cover - the schema forbids it
        raise ValueError(par.dist)
    if integer:
        return [int(v) for v in np.rint(x)]
    return [float(v) for v in x]


def _sampled(res: ResolvedExperiment) -> tuple[list[dict[str, Any]], dict[str, list[Any]], Any]:
    d = res.spec.design
    unit = sample_unit(res.spec)
    values: dict[str, list[Any]] = {}
    for j, (key, par) in enumerate(d.parameters.items()):
        integer = par.integer if par.integer is not None else is_integer_key(res.base, key)
        values[key] = transform(par, unit[:, j], integer)
    n = unit.shape[0]
    packages: list[tuple[str | None, dict[str, Any]]] = list((d.packages or {}).items()) or [
        (None, {})
    ]
    overrides: list[dict[str, Any]] = []
    cols: dict[str, list[Any]] = {k: [] for k in d.parameters}
    if d.packages:
        cols = {PACKAGE_COLUMN: [], **cols}
    for pname, pov in packages:
        for i in range(n):
            ov = dict(pov)
            if d.packages:
                cols[PACKAGE_COLUMN].append(pname)
            for key in d.parameters:
                ov[key] = values[key][i]
                cols[key].append(label_of(values[key][i]))
            overrides.append(ov)
    if d.packages:
        unit = np.tile(unit, (len(packages), 1))
    return overrides, cols, unit


def build_design(res: ResolvedExperiment) -> Design:
    """All design points of an experiment, in a fixed order (the point index)."""
    d = res.spec.design
    if d.kind in SAMPLED_KINDS:
        try:
            overrides, cols, unit = _sampled(res)
        except ValueError as err:  # SALib's own checks
            raise UserError(f"{res.path or '<experiment>'}: design: {err}") from None
        problem = unit_problem(res.spec)
    else:
        overrides, cols = _grid(res)
        unit, problem = None, None
    points = pd.DataFrame({"point": np.arange(len(overrides), dtype=np.int64)})
    for key, vals in cols.items():
        points[key] = _column(vals).to_numpy()
    return Design(
        kind=d.kind,
        points=points,
        overrides=overrides,
        levers=list(cols),
        problem=problem,
        unit=unit,
    )


def default_chunk_size(n_runs: int) -> int:
    """Runs per chunk: about 50 chunks, at most 64 runs; fixed by the experiment, not workers."""
    return max(1, min(64, math.ceil(n_runs / 50)))


def chunk_size_of(res: ResolvedExperiment, n_runs: int) -> int:
    return int(res.spec.chunk_size or default_chunk_size(n_runs))


def runs_table(res: ResolvedExperiment, design: Design) -> pd.DataFrame:
    """One row per run: run id, point, replicate, seed, chunk, the levers and the overrides."""
    reps = res.spec.replicates
    n = design.n_points * reps
    cs = chunk_size_of(res, n)
    run_id = np.arange(n, dtype=np.int64)
    point = run_id // reps
    df = pd.DataFrame(
        {
            "run_id": run_id,
            "point": point,
            "replicate": (run_id % reps).astype(np.int64),
            "seed": run_seeds(res.spec.seed, design.n_points, reps, res.spec.common_random_numbers),
            "chunk": (run_id // cs).astype(np.int64),
        }
    )
    for col in design.levers:
        df[col] = design.points[col].to_numpy()[point]
    ov_json = [json.dumps(o, sort_keys=True, separators=(",", ":")) for o in design.overrides]
    df["overrides"] = np.asarray(ov_json, dtype=object)[point]
    if res.posterior:  # issue 9: replicate r of every point runs at posterior draw r
        draw = df["replicate"].to_numpy() % len(res.posterior)
        df["posterior_draw"] = draw.astype(np.int64)
        df["overrides"] = np.asarray(
            [
                json.dumps(
                    {**res.posterior[d], **design.overrides[p]},
                    sort_keys=True,
                    separators=(",", ":"),
                )
                for p, d in zip(point, draw, strict=True)
            ],
            dtype=object,
        )
    return df
