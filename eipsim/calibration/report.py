"""What a calibration writes from pyabc's History: the posterior (all generations), the
accepted particles' pattern values, marginal and pair plots, the held-back patterns at
posterior draws, and ``report.md``: every pattern's fit and what the patterns identify."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eipsim.calibration.patterns import Evaluator, PatternResult, fmt, gap
from eipsim.calibration.smc import DB_NAME, MANIFEST, dotted_name, particle_seeds, safe_name
from eipsim.calibration.spec import ResolvedCalibration, load_calibration
from eipsim.errors import UserError

POSTERIOR = "posterior.parquet"
ACCEPTED = "accepted.parquet"
VALIDATION = "validation.json"


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _atomic_text(path: Path, text: str) -> None:
    _atomic_bytes(path, text.encode("utf-8"))


def _parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def read_history(out: Path) -> Any:
    import pyabc

    db = out / DB_NAME
    if not db.is_file():
        raise UserError(f"{out}: no {DB_NAME}; not a calibration folder")
    return pyabc.History(f"sqlite:///{db.resolve()}", _id=1)


def posterior_frame(h: Any, keys: list[str]) -> pd.DataFrame:
    frames = []
    for t in range(int(h.max_t) + 1):
        df, w = h.get_distribution(m=0, t=t)
        f = pd.DataFrame({"generation": t, "particle": df.index.to_numpy(), "weight": w})
        for k in keys:
            f[k] = df[safe_name(k)].to_numpy(dtype=float)
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _tidy_population(long: pd.DataFrame) -> pd.DataFrame:
    """One row per particle (in order of first appearance) from pyabc's long population
    frame, with ``par_*`` and ``sumstat_*`` columns. pyabc's own ``tidy=True`` drops
    duplicate (distance, weight) rows, so two particles that share both (eps 0, equal
    weights) lose one of them."""
    df = long.set_index("particle_id")
    frame = df.loc[~df.index.duplicated(), ["distance", "w"]]
    for prefix, name, value in (
        ("par_", "par_name", "par_val"),
        ("sumstat_", "sumstat_name", "sumstat_val"),
    ):
        wide = (
            df[[name, value]]
            .reset_index()
            .drop_duplicates(subset=["particle_id", name])
            .pivot(index="particle_id", columns=name, values=value)
        )
        wide.columns = [prefix + str(c) for c in wide.columns]
        frame = frame.merge(wide, left_index=True, right_index=True)
    return frame


def accepted_frame(h: Any, keys: list[str], ids: list[str]) -> pd.DataFrame:
    frames = []
    pops = h.get_all_populations().set_index("t")
    for t in range(int(h.max_t) + 1):
        pop = _tidy_population(h.get_population_extended(m=0, t=t, tidy=False))
        f = pd.DataFrame(
            {
                "generation": t,
                "particle": pop.index.to_numpy(),
                "weight": pop["w"].to_numpy(dtype=float),
                "distance": pop["distance"].to_numpy(dtype=float),
                "epsilon": float(pops.loc[t, "epsilon"]),
            }
        )
        for k in keys:
            f[k] = pop[f"par_{safe_name(k)}"].to_numpy(dtype=float)
        for i in ids:
            col = f"sumstat_{i}"
            f[i] = pop[col].to_numpy(dtype=float) if col in pop.columns else np.nan
        frames.append(f)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    x, w = x[order], w[order]
    c = np.cumsum(w) / w.sum()
    return float(np.interp(q, c - w / (2 * w.sum()), x))


def _prior_stats(cal: ResolvedCalibration, key: str, n: int = 20000) -> tuple[float, float, float]:
    from eipsim.experiments.framework.design import transform

    u = (np.arange(n) + 0.5) / n
    x = np.asarray(transform(cal.spec.parameters[key], u, False), dtype=float)
    return float(x.std()), float(np.quantile(x, 0.05)), float(np.quantile(x, 0.95))


@dataclass
class Identification:
    key: str
    prior_sd: float
    post_mean: float
    post_sd: float
    post_q05: float
    post_q95: float
    prior_q05: float
    prior_q95: float

    @property
    def ratio(self) -> float:
        return self.post_sd / self.prior_sd if self.prior_sd > 0 else math.nan

    @property
    def verdict(self) -> str:
        r = self.ratio
        if not math.isfinite(r):
            return "-"
        if r < 0.5:
            return "identified"
        if r < 0.8:
            return "weakly identified"
        return "not identified"


def identification(cal: ResolvedCalibration, post: pd.DataFrame) -> list[Identification]:
    last = post[post.generation == post.generation.max()]
    w = last.weight.to_numpy(dtype=float)
    out = []
    for k in cal.spec.parameters:
        x = last[k].to_numpy(dtype=float)
        m = float(np.average(x, weights=w))
        sd = float(math.sqrt(np.average((x - m) ** 2, weights=w)))
        psd, p05, p95 = _prior_stats(cal, k)
        out.append(
            Identification(
                k,
                psd,
                m,
                sd,
                weighted_quantile(x, w, 0.05),
                weighted_quantile(x, w, 0.95),
                p05,
                p95,
            )
        )
    return out


def draws(post: pd.DataFrame, keys: list[str], n: int, seed: int) -> list[dict[str, float]]:
    """``n`` particles of the last generation drawn by weight (with replacement)."""
    last = post[post.generation == post.generation.max()].reset_index(drop=True)
    if last.empty or n <= 0:
        return []
    w = last.weight.to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0xD4A3]))
    idx = rng.choice(len(last), size=n, replace=True, p=w / w.sum())
    return [{k: float(last.loc[i, k]) for k in keys} for i in idx]


def plots(cal: ResolvedCalibration, post: pd.DataFrame, out: Path) -> list[str]:
    """Marginals (prior band, each generation's weighted histogram) and a pair plot of the
    last generation; matplotlib Figure objects, no pyplot state."""
    from matplotlib.figure import Figure

    keys = list(cal.spec.parameters)
    written = []
    n = len(keys)
    fig = Figure(figsize=(3.2 * min(n, 3), 2.6 * math.ceil(n / 3)), layout="constrained")
    axes = fig.subplots(math.ceil(n / 3), min(n, 3), squeeze=False).ravel()
    gens = sorted(post.generation.unique())
    for ax, k in zip(axes, keys, strict=False):
        _, p05, p95 = _prior_stats(cal, k)
        ax.axvspan(p05, p95, color="0.9", label="prior 90 %")
        for t in gens:
            g = post[post.generation == t]
            ax.hist(
                g[k],
                weights=g.weight,
                bins=15,
                density=True,
                histtype="step",
                alpha=0.4 + 0.6 * (t + 1) / len(gens),
                label=f"generation {t}",
            )
        ax.set_title(k, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[n:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=6)
    fig.suptitle(f"{cal.name}: posterior marginals", fontsize=9)
    fig.savefig(out / "marginals.png", dpi=110)
    written.append("marginals.png")

    last = post[post.generation == post.generation.max()]
    fig = Figure(figsize=(2.2 * n, 2.2 * n), layout="constrained")
    axes2 = fig.subplots(n, n, squeeze=False)
    for i, ki in enumerate(keys):
        for j, kj in enumerate(keys):
            ax = axes2[i, j]
            if i == j:
                ax.hist(last[ki], weights=last.weight, bins=12, color="0.4")
            else:
                ax.scatter(
                    last[kj], last[ki], s=12 * last.weight / last.weight.max() + 2, alpha=0.6
                )
            if i == n - 1:
                ax.set_xlabel(kj, fontsize=6)
            if j == 0:
                ax.set_ylabel(ki, fontsize=6)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"{cal.name}: last generation, pairs", fontsize=9)
    fig.savefig(out / "pairs.png", dpi=100)
    written.append("pairs.png")
    return written


def validate_at_posterior(
    cal: ResolvedCalibration, post: pd.DataFrame, n_draws: int
) -> list[PatternResult]:
    """Every pattern (fitted and held back) over posterior draws, one seed per draw per arm:
    the value's spread then carries the parameter uncertainty and the model's noise."""
    from eipsim.calibration.patterns import summarise, unmet_requirements

    keys = list(cal.spec.parameters)
    ds = draws(post, keys, n_draws, cal.spec.seed)
    results: list[PatternResult] = []
    todo = []
    for p in [*cal.fit, *cal.validate]:
        if p.skip_reason:
            results.append(_plain(p, "skipped", p.skip_reason))
        elif p.spec.status != "computable":
            results.append(_plain(p, "not computable", p.spec.reason))
        else:
            todo.append(p)
    values: dict[str, list[float]] = {p.id: [] for p in todo}
    why: dict[str, str] = {}
    for d in ds:
        ov = {k: (int(round(v)) if cal.integer.get(k) else v) for k, v in d.items()}
        ev = Evaluator({**cal.spec.overrides, **ov}, steps=cal.spec.steps)
        seed = particle_seeds(cal.spec.seed + 1, d, 1)
        for p in todo:
            if p.id in why:
                continue
            w = unmet_requirements(p, {a: sc for a, (_, sc) in ev.scenarios(p).items()})
            if w:
                why[p.id] = w
                continue
            values[p.id].extend(ev.values(p, seed))
    for p in todo:
        if p.id in why:
            results.append(_plain(p, "not computable", why[p.id]))
        elif ds:
            results.append(summarise(p, values[p.id]))
    order = {p.id: i for i, p in enumerate([*cal.fit, *cal.validate])}
    results.sort(key=lambda r: order[r.id])
    return results


def _plain(p: Any, status: str, message: str) -> PatternResult:
    s = p.spec
    return PatternResult(
        s.id, s.use, s.sentence, s.source, status, s.target.text(), unit=s.unit, message=message
    )


@dataclass
class Written:
    out: Path
    files: list[str] = field(default_factory=list)
    identification: list[Identification] = field(default_factory=list)
    validation: list[PatternResult] = field(default_factory=list)


def write_outputs(
    out: str | Path,
    *,
    calibration_path: str | Path | None = None,
    validate: bool = True,
    cli: dict[str, Any] | None = None,
) -> Written:
    out = Path(out)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    cal = load_calibration(calibration_path or manifest["file"], **(cli or {}))
    h = read_history(out)
    keys = list(cal.spec.parameters)
    post = posterior_frame(h, keys)
    if post.empty:
        raise UserError(f"{out}: the calibration has no finished generation yet; resume it")
    ids = [p.id for p in cal.fit]
    acc = accepted_frame(h, keys, ids)
    _parquet(post, out / POSTERIOR)
    _parquet(acc, out / ACCEPTED)
    files = [POSTERIOR, ACCEPTED, *plots(cal, post, out)]
    ident = identification(cal, post)
    val = validate_at_posterior(cal, post, cal.spec.validate_draws) if validate else []
    if val:
        _atomic_text(out / VALIDATION, json.dumps([r.as_dict() for r in val], indent=2))
        files.append(VALIDATION)
    pops = h.get_all_populations()
    _atomic_text(out / "report.md", report_md(cal, manifest, post, acc, ident, val, pops))
    files.append("report.md")
    return Written(out=out, files=files, identification=ident, validation=val)


def report_md(
    cal: ResolvedCalibration,
    manifest: dict[str, Any],
    post: pd.DataFrame,
    acc: pd.DataFrame,
    ident: list[Identification],
    val: list[PatternResult],
    pops: pd.DataFrame,
) -> str:
    s = cal.spec
    last_t = int(post.generation.max())
    last = acc[acc.generation == last_t]
    w = last.weight.to_numpy(dtype=float)
    lines = [
        f"# Calibration `{cal.name}`",
        "",
        s.description.strip(),
        "",
        "## Method and settings",
        "",
        f"ABC-SMC (pyabc {manifest.get('pyabc')}), population {s.abc.population_size}, "
        f"{last_t + 1} generation(s) done of {s.abc.generations}, median-epsilon schedule, "
        f"distance = sum of weight x normalised gap to each fitted pattern's target "
        f"(0 = every pattern met). Root seed {s.seed}; {s.seeds_per_particle} run(s) per arm "
        f"and particle" + (f", {s.steps} months per run" if s.steps else "") + ".",
        "",
        f"Sampler(s): {', '.join(sorted({x.get('sampler', '?') for x in manifest.get('sessions', [])}))}.",
        "",
        "Fixed overrides (the mechanisms switched on for every run):",
        "",
        "```yaml",
        *(f"{k}: {json.dumps(v)}" for k, v in s.overrides.items()),
        "```",
        "",
        "| generation | epsilon | samples | particles |",
        "|---|---|---|---|",
    ]
    for _, r in pops[pops.t >= 0].iterrows():
        lines.append(
            f"| {int(r.t)} | {fmt(float(r.epsilon))} | {int(r.samples)} | {int(r.particles)} |"
        )
    lines += [
        "",
        "## Fit of the fitted patterns (last generation's accepted particles)",
        "",
        "Weighted mean and 5-95 % range of each pattern's value over the accepted particles, and "
        "the weighted share of particles meeting it.",
        "",
        "| pattern | target | value | 5-95 % | share met | weight |",
        "|---|---|---|---|---|---|",
    ]
    for p in cal.fit:
        x = last[p.id].to_numpy(dtype=float)
        ok = np.isfinite(x)
        if not ok.any():
            lines.append(f"| {p.id} | {p.spec.target.text()} | - | - | - | {p.spec.weight:g} |")
            continue
        m = float(np.average(x[ok], weights=w[ok]))
        q5, q95 = weighted_quantile(x[ok], w[ok], 0.05), weighted_quantile(x[ok], w[ok], 0.95)
        share = float(
            np.sum(w[ok] * (np.array([gap(p.spec, v) for v in x[ok]]) == 0)) / w[ok].sum()
        )
        lines.append(
            f"| {p.id} | {p.spec.target.text()} | {fmt(m)} | {fmt(q5)} to {fmt(q95)} | "
            f"{share:.0%} | {p.spec.weight:g} |"
        )
    lines += [
        "",
        "## What the patterns identify",
        "",
        "Posterior (last generation, weighted) against the prior. `sd ratio` = posterior sd / "
        "prior sd: below 0.5 the patterns pin the parameter (identified), 0.5-0.8 weakly, "
        "above 0.8 they say little about it (not identified).",
        "",
        *(
            [
                f"With a population of {s.abc.population_size} these spreads are rough: a "
                "small population can look identified by chance. Read the verdicts as "
                "preliminary below a population of about 50.",
                "",
            ]
            if s.abc.population_size < 50
            else []
        ),
        "| parameter | prior 5-95 % | posterior mean | posterior 5-95 % | sd ratio | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for i in ident:
        lines.append(
            f"| `{i.key}` | {fmt(i.prior_q05)} to {fmt(i.prior_q95)} | {fmt(i.post_mean)} | "
            f"{fmt(i.post_q05)} to {fmt(i.post_q95)} | {i.ratio:.2f} | {i.verdict} |"
        )
    if val:
        lines += [
            "",
            f"## Every pattern at {s.validate_draws} posterior draws (one seed each)",
            "",
            "Fitted and held-back (`validate`) patterns side by side; the interval is a 95 % "
            "t-interval of the mean over draws, so it carries parameter uncertainty and noise.",
            "",
            "| pattern | use | target | value | 95 % interval | status | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for res in val:
            ci = f"{fmt(res.ci_low)} to {fmt(res.ci_high)}" if res.n else "-"
            lines.append(
                f"| {res.id} | {res.use} | {res.target} | {fmt(res.value)} | {ci} | {res.status} | "
                f"{res.message.replace('|', '/')} |"
            )
    if cal.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in cal.notes)]
    lines += [
        "",
        "Files: `posterior.parquet` (generation, particle, weight, parameters), "
        "`accepted.parquet` (each accepted particle's pattern values and distance), "
        "`marginals.png`, `pairs.png`, `validation.json`, pyabc's `abc.db`.",
        "",
    ]
    return "\n".join(lines)


def read_posterior(folder: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """The last generation of a calibration folder's posterior and its parameter keys."""
    p = Path(folder) / POSTERIOR
    if not p.is_file():
        raise UserError(f"{folder}: no {POSTERIOR}; give a folder written by `eipsim calibrate`")
    df = pd.read_parquet(p)
    keys = [c for c in df.columns if c not in ("generation", "particle", "weight")]
    return df, [dotted_name(k) for k in keys]
