"""Experiment files: a base scenario, a design and outputs, validated like scenarios.

An experiment file is YAML; every key is checked (unknown keys are errors), every design key
must exist in the scenario schema, and everything that decides the results is folded into a
hash so that a sweep folder is never mixed with results of another experiment.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from eipsim.errors import UserError
from eipsim.scenario.overrides import check_key, get_dotted
from eipsim.scenario.schema import MAX_SEED, MAX_STEPS, NAME_PATTERN, format_validation
from eipsim.scenario.strict import Strict as _Strict
from eipsim.scenario.yamlio import read_yaml

__all__ = ["get_dotted"]  # re-exported: it lived here before eipsim.scenario.overrides

SAMPLED_KINDS = ("lhs", "sobol", "morris", "fast")
SENSITIVITY_KINDS = ("sobol", "morris", "fast")
DEFAULT_ADAPTER = "eipsim.experiments.framework.worker:EIPSIM"
FORMAT = 1  # sweep-folder layout version; part of the experiment hash
# The largest design and sweep eipsim will plan: a million runs is about a day on 12 cores
# at 80 ms a run; larger studies are several experiments (e.g. one per package).
MAX_RUNS = 1_000_000
MAX_SAMPLES = 1_000_000
MAX_REPLICATES = 100_000
MAX_MORRIS_OPTIMISED = 5_000  # trajectories SALib's optimiser compares pairwise


class Parameter(_Strict):
    """One sampled input: a range with a distribution, or a list of levels."""

    low: float | None = None
    high: float | None = None
    dist: Literal["unif", "logunif", "triang", "norm", "truncnorm", "lognorm"] = "unif"
    peak: float | None = Field(None, description="triang: the mode, between low and high")
    mean: float | None = Field(None, description="norm/truncnorm; lognorm: mean of ln(x)")
    sd: float | None = Field(None, gt=0, description="norm/truncnorm; lognorm: sd of ln(x)")
    levels: list[Any] | None = Field(None, description="categorical: sampled uniformly")
    integer: bool | None = Field(None, description="round to integers; None = as the base value")
    group: str | None = Field(None, description="Sobol/Morris group name")

    @model_validator(mode="after")
    def _check(self) -> Parameter:
        if self.levels is not None:
            if len(self.levels) < 2:
                raise ValueError("levels needs at least two values")
            if self.low is not None or self.high is not None or self.dist != "unif":
                raise ValueError("give either levels or a range (low/high/dist), not both")
            return self
        need = {
            "unif": ("low", "high"),
            "logunif": ("low", "high"),
            "triang": ("low", "high", "peak"),
            "norm": ("mean", "sd"),
            "truncnorm": ("low", "high", "mean", "sd"),
            "lognorm": ("mean", "sd"),
        }[self.dist]
        missing = [k for k in need if getattr(self, k) is None]
        if missing:
            raise ValueError(f"dist {self.dist} needs {', '.join(missing)}")
        if "low" in need:
            assert self.low is not None and self.high is not None
            if self.low > self.high:
                raise ValueError(f"range low bound {self.low} is above its high bound {self.high}")
            if self.low == self.high:
                raise ValueError(f"range low bound equals high bound ({self.low}); use overrides")
        if self.dist == "logunif" and (self.low or 0.0) <= 0:
            raise ValueError("logunif needs low > 0")
        if self.dist == "triang" and not (self.low or 0.0) <= (self.peak or 0.0) <= (
            self.high or 0.0
        ):
            raise ValueError(
                f"peak {self.peak} must lie between low {self.low} and high {self.high}"
            )
        return self


GridValues = list[Any] | dict[str, Any]


class Design(_Strict):
    """What varies: a factorial grid, named policy packages, or a sampled design."""

    kind: Literal["grid", "packages", "lhs", "sobol", "morris", "fast"]
    packages: dict[str, dict[str, Any]] | None = Field(
        None, description="named policy packages (name -> dotted overrides), crossed with the rest"
    )
    factors: dict[str, GridValues] = Field(
        default_factory=dict, description="grid: key -> list of values, or label -> value"
    )
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    samples: int | None = Field(
        None,
        ge=1,
        le=MAX_SAMPLES,
        description="lhs: points; sobol: base N; morris: trajectories; fast: N",
    )
    second_order: bool = Field(False, description="sobol: also second-order indices")
    scramble: bool = Field(True, description="sobol: scrambled Sobol' sequence")
    num_levels: int = Field(4, ge=2, le=1000, description="morris: grid levels")
    optimal_trajectories: int | None = Field(None, ge=2, description="morris: keep the best k")
    interference: int = Field(4, ge=1, le=100, description="fast: interference factor M")

    @field_validator("factors")
    @classmethod
    def _factors(cls, v: dict[str, GridValues]) -> dict[str, GridValues]:
        for key, values in v.items():
            if len(values) == 0:
                raise ValueError(f"factor {key!r} has no values")
        return v

    @model_validator(mode="after")
    def _kind_rules(self) -> Design:
        k = self.kind
        if k in ("grid", "packages"):
            if self.parameters:
                raise ValueError(f"a {k} design takes factors (lists of values), not parameters")
            if not self.factors and not self.packages:
                raise ValueError(f"a {k} design needs factors or packages")
            if k == "packages" and not self.packages:
                raise ValueError("a packages design needs packages")
        else:
            if self.factors:
                raise ValueError(f"a {k} design takes parameters (ranges), not factors")
            if not self.parameters:
                raise ValueError(f"a {k} design needs parameters")
            if self.samples is None:
                raise ValueError(f"a {k} design needs samples")
            if k in SENSITIVITY_KINDS and self.packages:
                raise ValueError(
                    f"a {k} design cannot be crossed with packages; put fixed settings under "
                    "the experiment's overrides, or run one experiment per package"
                )
        if k != "sobol" and self.second_order:
            raise ValueError("second_order applies to sobol designs only")
        if k == "fast" and any(p.group for p in self.parameters.values()):
            raise ValueError("fast designs do not support groups")
        if k == "fast" and self.samples is not None:
            need = 4 * self.interference**2
            if self.samples <= need:
                raise ValueError(
                    f"fast needs samples > 4 * interference^2 = {need} (got {self.samples})"
                )
        if k == "morris" and self.samples is not None and self.samples < 2:
            raise ValueError("morris needs at least 2 trajectories")
        if (
            self.optimal_trajectories is not None
            and k == "morris"
            and (self.samples is None or self.optimal_trajectories >= self.samples)
        ):
            raise ValueError("optimal_trajectories must be smaller than samples")
        if (
            self.optimal_trajectories is not None
            and self.samples is not None
            and self.samples > MAX_MORRIS_OPTIMISED
        ):
            raise ValueError(
                f"with optimal_trajectories, samples may be at most {MAX_MORRIS_OPTIMISED:,} "
                f"(got {self.samples:,}): the optimiser compares every pair of trajectories"
            )
        if self.packages:
            for name, ov in self.packages.items():
                clash = set(ov) & (set(self.factors) | set(self.parameters))
                if clash:
                    raise ValueError(
                        f"package {name!r} sets {', '.join(sorted(clash))}, which the design "
                        "also varies"
                    )
        both = set(self.factors) & set(self.parameters)
        if both:
            raise ValueError(f"keys both in factors and parameters: {', '.join(sorted(both))}")
        return self

    def varied_keys(self) -> list[str]:
        """Dotted keys that get their own design column."""
        return list(self.factors) + list(self.parameters)


class Outputs(_Strict):
    """Which indicators are stored; thinning keeps big sweeps small on disk."""

    timeseries: list[str] | Literal["all", "none"] = "all"
    every: int = Field(
        1, ge=1, le=MAX_STEPS, description="keep every k-th step (the last step always)"
    )
    summary: list[str] | Literal["all"] = "all"


class SensitivitySettings(_Strict):
    """Analysis settings: they do not change the runs, so they are not part of the hash."""

    outcomes: list[str] = Field(default_factory=lambda: ["adoption_share"])
    num_resamples: int = Field(200, ge=10, le=100_000)
    conf_level: float = Field(0.95, gt=0, lt=1)
    wide_ci: float = Field(0.1, gt=0, description="warn when a CI half-width exceeds this")


class ReportSettings(_Strict):
    """What ``eipsim plot`` shows by default; not part of the hash either."""

    outcomes: list[str] = Field(default_factory=lambda: ["adoption_share"])
    by: str | None = Field(None, description="design column for lines (default: package)")


class Experiment(_Strict):
    """The experiment file's schema."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    scenario: str = Field(description="scenario YAML, relative to the experiment file")
    overrides: dict[str, Any] = Field(default_factory=dict, description="fixed for every run")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS)
    seed: int = Field(
        0, ge=0, le=MAX_SEED, description="root seed; every run's seed is spawned from it"
    )
    replicates: int = Field(1, ge=1, le=MAX_REPLICATES)
    common_random_numbers: bool = Field(
        False, description="replicate r uses the same seed at every design point"
    )
    chunk_size: int | None = Field(None, ge=1, le=100_000, description="runs per part file")
    design: Design
    outputs: Outputs = Field(default_factory=lambda: Outputs.model_validate({}))
    sensitivity: SensitivitySettings = Field(
        default_factory=lambda: SensitivitySettings.model_validate({})
    )
    report: ReportSettings = Field(default_factory=lambda: ReportSettings.model_validate({}))
    # issue 9: replicate r of every point runs at posterior draw r (framework/posterior.py)
    posterior: str | None = Field(
        None, description="calibration folder (eipsim calibrate), relative to this file"
    )
    posterior_draws: int | None = Field(
        None,
        ge=1,
        le=MAX_REPLICATES,
        description="posterior draws; replicate r runs at draw r mod this (default: half the "
        "replicates, so each draw has 2 seeds and noise and parameter spread can be told apart)",
    )

    @model_validator(mode="after")
    def _bounded(self) -> Experiment:
        points = design_points(self.design)
        runs = points * self.replicates
        if runs > MAX_RUNS:
            raise ValueError(
                f"the design has {points:,} points x {self.replicates:,} replicates = "
                f"{runs:,} runs; the largest sweep is {MAX_RUNS:,} runs "
                "(split it into several experiments)"
            )
        return self


def design_points(d: Design) -> int:
    """How many points a design has, computed without building it."""
    packages = max(1, len(d.packages or {}))
    if d.kind in ("grid", "packages"):
        return packages * math.prod(len(v) for v in d.factors.values())
    n = int(d.samples or 0)
    dims = len(d.parameters)
    groups = len({p.group or name for name, p in d.parameters.items()})
    if d.kind == "lhs":
        per = n
    elif d.kind == "sobol":
        n = next_power_of_two(n) if n else 0
        per = n * (2 * groups + 2 if d.second_order else groups + 2)
    elif d.kind == "morris":
        per = (d.optimal_trajectories or n) * (groups + 1)
    else:  # fast
        per = n * dims
    return packages * per


@dataclass
class ResolvedExperiment:
    """An experiment with its base scenario loaded and every key checked."""

    spec: Experiment
    path: Path | None
    scenario_path: Path
    base: Any  # eipsim.scenario.schema.Scenario (base scenario + fixed overrides)
    base_dict: dict[str, Any]
    adapter: str = DEFAULT_ADAPTER
    notes: list[str] = field(default_factory=list)
    posterior: list[dict[str, Any]] | None = None  # issue 9: replicate r at draw r mod len

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def steps(self) -> int:
        return int(self.spec.steps or self.base.steps)

    def hashed_content(self) -> dict[str, Any]:
        """Everything that decides the results (not the name, description or analysis)."""
        spec = self.spec.model_dump(mode="json")
        for k in ("name", "description", "scenario", "overrides", "sensitivity", "report"):
            spec.pop(k, None)
        spec["steps"] = self.steps
        out = {
            "experiment": spec,
            "base_scenario": self.base_dict,
            "adapter": self.adapter,
            "model_version": _model_version(),
            "store_format": FORMAT,
        }
        spec.pop("posterior_draws", None)  # issue 9: the draws (below) say how many
        if spec.pop("posterior", None) is not None:  # issue 9: the draws, not the folder name
            out["posterior_draws"] = self.posterior
        return out

    @property
    def hash(self) -> str:
        blob = json.dumps(self.hashed_content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def resolved_dict(self) -> dict[str, Any]:
        """The experiment as run: the file's content plus what was resolved from it."""
        d = self.spec.model_dump(mode="json")
        d["steps"] = self.steps
        d["scenario"] = str(self.scenario_path)
        d["base_scenario"] = self.base_dict
        d["adapter"] = self.adapter
        d["hash"] = self.hash
        return d


def _model_version() -> str:
    import eipsim

    return str(getattr(eipsim, "__version__", "unknown"))


def _format_validation(err: ValidationError, source: str) -> str:
    known = list(Experiment.model_fields) + list(Design.model_fields) + list(Parameter.model_fields)
    return format_validation(err, source, known, match_last=True)


def parse_experiment(data: Any, source: str = "<experiment>") -> Experiment:
    """Validate an experiment mapping; errors name the file and key."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: an experiment must be a YAML mapping of keys to values")
    try:
        return Experiment.model_validate(data)
    except ValidationError as err:
        raise UserError(_format_validation(err, source)) from None


def read_experiment_file(path: str | Path) -> tuple[Experiment, Path]:
    data, p = read_yaml(path, "experiment")
    return parse_experiment(data, source=str(p)), p


def next_power_of_two(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(n)))


def load_experiment(
    path: str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    steps: int | None = None,
    replicates: int | None = None,
    adapter: str | None = None,
    posterior: str | None = None,
) -> ResolvedExperiment:
    """Load an experiment file, its scenario, and check every key it names.

    ``overrides``/``steps``/``replicates`` come from the command line; they change the
    resolved experiment (and so its hash), as they change the results.
    """
    spec, p = read_experiment_file(path)
    if posterior is not None:  # --posterior: relative to the working directory
        spec = spec.model_copy(update={"posterior": str(Path(posterior).resolve())})
    return resolve(
        spec, p, overrides=overrides, steps=steps, replicates=replicates, adapter=adapter
    )


def resolve(
    spec: Experiment,
    path: Path | None,
    *,
    overrides: dict[str, Any] | None = None,
    steps: int | None = None,
    replicates: int | None = None,
    adapter: str | None = None,
) -> ResolvedExperiment:
    """Load the base scenario, apply fixed overrides and check the design against the schema."""
    from eipsim.scenario.schema import known_keys, load_scenario

    source = str(path) if path else "<experiment>"
    notes: list[str] = []
    upd: dict[str, Any] = {}
    if overrides:
        upd["overrides"] = {**spec.overrides, **overrides}
    if steps is not None:
        upd["steps"] = steps
    if replicates is not None:
        upd["replicates"] = replicates
    d = spec.design
    if d.kind == "sobol" and d.samples is not None and d.samples & (d.samples - 1):
        n2 = next_power_of_two(d.samples)
        notes.append(
            f"{source}: design.samples = {d.samples} is not a power of 2, which Sobol' "
            f"sequences need for their balance properties; rounded up to {n2}"
        )
        upd["design"] = d.model_copy(update={"samples": n2})
    if upd:
        spec = parse_experiment(spec.model_copy(update=upd).model_dump(mode="json"), source)

    base_dir = path.resolve().parent if path else Path.cwd()
    sc_path = Path(spec.scenario)
    if not sc_path.is_absolute():
        sc_path = (base_dir / sc_path).resolve()
    if not sc_path.is_file():
        raise UserError(f"{source}: scenario: file not found: {sc_path}")
    base = load_scenario(sc_path)
    keys = known_keys()
    _check_keys(spec.overrides.keys(), keys, source, "overrides")
    try:
        base = base.with_overrides(spec.overrides)
    except UserError as err:
        raise UserError(f"{source}: overrides: {err}") from None
    _check_design_keys(spec, base, keys, source)
    res = ResolvedExperiment(
        spec=spec,
        path=path,
        scenario_path=sc_path,
        base=base,
        base_dict=base.to_yaml_dict(),
        notes=notes,
    )
    if adapter:
        res.adapter = adapter
    if spec.posterior is not None:
        res.posterior = _posterior(spec, base_dir, base, keys, source)
        res.notes.append(
            f"{source}: replicate r of every point runs at posterior draw r mod "
            f"{len(res.posterior)} (draws from {spec.posterior})"
        )
    return res


def _posterior(
    spec: Experiment, base_dir: Path, base: Any, keys: list[str], source: str
) -> list[dict[str, Any]]:
    """Draws of the posterior (issue 9), checked against the scenario like any override."""
    from eipsim.experiments.framework.posterior import posterior_draws

    assert spec.posterior is not None
    folder = Path(spec.posterior)
    if not folder.is_absolute():
        folder = (base_dir / folder).resolve()
    n = spec.posterior_draws or max(1, spec.replicates // 2)
    draws = posterior_draws(folder, min(n, spec.replicates), spec.seed)
    varied = set(spec.design.varied_keys())
    out = []
    for d in draws:
        _check_keys(d, keys, source, "posterior")
        d = {
            k: int(round(v)) if is_integer_key(base, k) else v
            for k, v in d.items()
            if k not in varied  # a key the design varies is set by the design
        }
        _try(base, d, source, "posterior")
        out.append(d)
    return out


def _check_keys(names: Any, keys: list[str], source: str, where: str) -> None:
    for k in names:
        try:
            check_key(k, keys)
        except UserError as err:
            raise UserError(f"{source}: {where}: {err}") from None


def _check_design_keys(spec: Experiment, base: Any, keys: list[str], source: str) -> None:
    """Every key must exist, and every value must be valid on its own, before any run starts."""
    d = spec.design
    _check_keys(d.factors, keys, source, "design.factors")
    _check_keys(d.parameters, keys, source, "design.parameters")
    for name, ov in (d.packages or {}).items():
        _check_keys(ov, keys, source, f"design.packages.{name}")
        _try(base, ov, source, f"design.packages.{name}")
    for key, values in d.factors.items():
        vals = values.values() if isinstance(values, dict) else values
        for v in vals:
            _try(base, {key: v}, source, f"design.factors.{key}")
    for key, par in d.parameters.items():
        _check_parameter(base, key, par, source)


def _check_parameter(base: Any, key: str, par: Parameter, source: str) -> None:
    """Try the values the sampler can draw at the very ends of the distribution (and the
    middle), so an unbounded ``norm`` over a key that must be >= 0 is refused before any
    run rather than failing some of them."""
    import numpy as np

    from eipsim.experiments.framework.design import transform

    integer = par.integer if par.integer is not None else is_integer_key(base, key)
    where = f"design.parameters.{key}"
    if par.levels is not None:
        for v in par.levels:
            _try(base, {key: v}, source, where)
        return
    try:
        with np.errstate(all="ignore"):
            lo, mid, hi = transform(par, np.array([0.0, 0.5, 1.0]), integer)
    except (ValueError, OverflowError, ArithmeticError):  # e.g. int(inf) for an integer key
        raise UserError(
            f"{source}: {where}: dist {par.dist} with these settings draws values that are "
            "not finite numbers; narrow it"
        ) from None
    for v, end in ((lo, "lowest"), (hi, "highest"), (mid, "median")):
        if isinstance(v, float) and not math.isfinite(v):
            raise UserError(
                f"{source}: {where}: dist {par.dist} can draw {v} (its {end} value); "
                "give a distribution with finite values"
            )
        try:
            base.with_overrides({key: v})
        except UserError as err:
            msg = str(err).replace("\n", "; ")
            hint = (
                "; bound it: use truncnorm with low/high, or unif/triang"
                if par.dist in ("norm", "lognorm") and end != "median"
                else ""
            )
            raise UserError(
                f"{source}: {where}: dist {par.dist} can draw {v:g} (its {end} value), "
                f"which the scenario refuses: {msg}{hint}"
            ) from None


def _try(base: Any, ov: dict[str, Any], source: str, where: str) -> None:
    try:
        base.with_overrides(ov)
    except UserError as err:
        msg = str(err).replace("\n", "; ")
        raise UserError(f"{source}: {where}: {msg}") from None


def is_integer_key(base: Any, key: str) -> bool:
    """True when the scenario field is an integer (so sampled values are rounded)."""
    v = get_dotted(base.to_yaml_dict(), key)
    return isinstance(v, int) and not isinstance(v, bool)
