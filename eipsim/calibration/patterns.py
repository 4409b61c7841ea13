"""Patterns as data: what a credible model must reproduce, and how to measure it in a run.

A pattern file (``calibration/patterns.yaml``) lists patterns. Each names the scenario it
applies to (a path relative to the file, plus dotted overrides, or several named *arms* for
a comparison such as "with the landfill tax minus without"), how to compute its quantity
from a run (a simple expression over ``summary``, ``timeseries`` and ``links``, or a
registered function), a target range and a weight, and whether it is used to fit
(``use: fit``) or kept back to validate (``use: validate``).

Every arm of a pattern runs with the same seeds (common random numbers), so a comparison
is seed by seed; the pattern's value is the mean over seeds, with a t-interval.
A pattern whose scenario file does not exist yet is skipped with a message; a pattern whose
quantity the model cannot compute (``status: not_computable``, or ``requires`` a mechanism
that is switched off) is reported as such, never as met.
"""

from __future__ import annotations

import ast
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from eipsim.errors import UserError
from eipsim.scenario.overrides import get_dotted
from eipsim.scenario.schema import MAX_SEED, MAX_STEPS, format_validation
from eipsim.scenario.strict import Strict
from eipsim.scenario.yamlio import read_yaml

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
DEFAULT_ARM = "run"
NAN_GAP = 10.0  # normalised distance of a pattern whose value could not be computed
MAX_SEEDS = 10_000


# --------------------------------------------------------------------------- schema


class Target(Strict):
    """A target range; either bound may be open (null)."""

    low: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Target:
        if self.low is None and self.high is None:
            raise ValueError("a target needs low, high or both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"target low {self.low} is above high {self.high}")
        return self

    def contains(self, v: float) -> bool:
        if not math.isfinite(v):
            return False
        return (self.low is None or v >= self.low) and (self.high is None or v <= self.high)

    def text(self) -> str:
        if self.low is not None and self.high is not None:
            return f"[{_fmt(self.low)}, {_fmt(self.high)}]"
        if self.low is not None:
            return f">= {_fmt(self.low)}"
        return f"<= {_fmt(self.high)}"


class FunctionCall(Strict):
    """``compute: {function: NAME, args: {...}, arm: NAME}``: a registered function."""

    function: str
    args: dict[str, Any] = Field(default_factory=dict)
    arm: str | None = None


class PatternSpec(Strict):
    """One pattern of the file."""

    id: str = Field(pattern=ID_PATTERN)
    sentence: str
    source: str
    use: Literal["fit", "validate"]
    scenario: str | None = Field(None, description="scenario YAML, relative to the file")
    overrides: dict[str, Any] = Field(default_factory=dict)
    arms: dict[str, dict[str, Any]] | None = Field(
        None, description="named runs of the scenario, each with its own overrides"
    )
    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="months per run")
    compute: str | FunctionCall | None = None
    target: Target
    unit: str = ""
    weight: float = Field(1.0, ge=0)
    scale: float | None = Field(None, gt=0, description="distance scale (default: target width)")
    status: Literal["computable", "not_computable"] = "computable"
    reason: str = ""
    requires: dict[str, Any] = Field(
        default_factory=dict, description="scenario keys the quantity needs (value or 'nonzero')"
    )

    @field_validator("target", mode="before")
    @classmethod
    def _target_list(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            if len(v) != 2:
                raise ValueError("a target list is [low, high] (null for an open end)")
            return {"low": v[0], "high": v[1]}
        return v

    @model_validator(mode="after")
    def _check(self) -> PatternSpec:
        if self.status == "not_computable":
            if not self.reason.strip():
                raise ValueError("a not_computable pattern needs a reason")
            return self
        if self.scenario is None:
            raise ValueError("a computable pattern needs a scenario")
        if self.compute is None:
            raise ValueError("a computable pattern needs compute (an expression or a function)")
        if self.arms is not None:
            if not self.arms:
                raise ValueError("arms is empty")
            for name in self.arms:
                if not name.isidentifier() or name.startswith("_"):
                    raise ValueError(f"arm name {name!r} must be a plain identifier")
        return self

    def arm_names(self) -> list[str]:
        return list(self.arms) if self.arms else [DEFAULT_ARM]


class PatternFile(Strict):
    version: int = 1
    description: str = ""
    seeds: int = Field(5, ge=1, le=MAX_SEEDS, description="seeds per pattern (eipsim patterns)")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed of the pattern runs")
    patterns: list[PatternSpec]

    @model_validator(mode="after")
    def _unique(self) -> PatternFile:
        seen: set[str] = set()
        for p in self.patterns:
            if p.id in seen:
                raise ValueError(f"pattern id {p.id!r} is used twice")
            seen.add(p.id)
        return self


# --------------------------------------------------------------------------- runs


@dataclass
class RunData:
    """What a pattern reads from one run: summary, timeseries, links (a RunResult's tables)."""

    summary: dict[str, Any]
    timeseries: pd.DataFrame = field(default_factory=pd.DataFrame)
    links: pd.DataFrame = field(default_factory=pd.DataFrame)

    @classmethod
    def from_result(cls, res: Any) -> RunData:
        return cls(summary=dict(res.summary), timeseries=res.timeseries, links=res.links)


class _Summary:
    """``run.summary.adoption_share``: attribute access to the summary, with a clear error."""

    def __init__(self, d: dict[str, Any]):
        self._d = d

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        try:
            return self._d[key]
        except KeyError:
            raise PatternError(f"summary has no key {key!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self.__getattr__(key)


class _RunView:
    def __init__(self, run: RunData):
        self.summary = _Summary(run.summary)
        self.timeseries = run.timeseries
        self.links = run.links
        self._run = run


class PatternError(Exception):
    """A pattern's quantity could not be computed from a run."""


# --------------------------------------------------------------------------- functions

FUNCTIONS: dict[str, Callable[..., float]] = {}


def pattern_function(name: str) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Register a function usable in expressions and as ``compute: {function: name}``."""

    def deco(fn: Callable[..., float]) -> Callable[..., float]:
        FUNCTIONS[name] = fn
        return fn

    return deco


def _links(run: Any) -> pd.DataFrame:
    r = run._run if isinstance(run, _RunView) else run
    return r.links


def _select_links(
    links: pd.DataFrame,
    supplier: str | list[str] | None,
    user: str | list[str] | None,
    supplier_sector: str | list[str] | None,
    user_sector: str | list[str] | None,
    material: str | list[str] | None,
    status: str,
    delivered: bool,
) -> pd.DataFrame:
    if links.empty:
        return links
    keep = np.ones(len(links), dtype=bool)

    def starts(col: str, names: str | list[str] | None) -> None:
        nonlocal keep
        if names is None:
            return
        names = [names] if isinstance(names, str) else list(names)
        vals = links[col].astype(str)
        keep &= np.asarray(vals.map(lambda s: any(s.startswith(n) for n in names)), dtype=bool)

    def isin(col: str, vals: str | list[str] | None) -> None:
        nonlocal keep
        if vals is None:
            return
        vals = [vals] if isinstance(vals, str) else list(vals)
        keep &= links[col].isin(vals).to_numpy()

    starts("supplier_name", supplier)
    starts("user_name", user)
    isin("supplier_sector", supplier_sector)
    isin("user_sector", user_sector)
    isin("material", material)
    if status == "active":
        keep &= (links["status"] == "active").to_numpy()
    elif status != "ever":
        raise PatternError(f"status must be 'active' or 'ever', got {status!r}")
    if delivered:
        keep &= (links["tonnes"] > 0).to_numpy()
    return links.loc[keep]


@pattern_function("count_links")
def count_links(
    run: Any,
    supplier: str | list[str] | None = None,
    user: str | list[str] | None = None,
    supplier_sector: str | list[str] | None = None,
    user_sector: str | list[str] | None = None,
    material: str | list[str] | None = None,
    status: str = "active",
    delivered: bool = False,
) -> float:
    """Links whose supplier/user names start with the given names (roster firms), sectors and
    material match; ``status`` 'active' (at the end) or 'ever'; ``delivered``: moved > 0."""
    sel = _select_links(
        _links(run), supplier, user, supplier_sector, user_sector, material, status, delivered
    )
    return float(len(sel))


@pattern_function("partners")
def partners(run: Any, status: str = "active", delivered: bool = False) -> float:
    """Distinct firms in the selected links."""
    sel = _select_links(_links(run), None, None, None, None, None, status, delivered)
    if sel.empty:
        return 0.0
    return float(len(set(sel["supplier_id"]) | set(sel["user_id"])))


@pattern_function("hub_is")
def hub_is(run: Any, name: str, status: str = "active") -> float:
    """1 if the firm with the most link partners has ``name`` in its name (any case), else 0."""
    sel = _select_links(_links(run), None, None, None, None, None, status, False)
    if sel.empty:
        return 0.0
    pairs = pd.concat(
        [
            sel[["supplier_name", "user_name"]].set_axis(["a", "b"], axis=1),
            sel[["user_name", "supplier_name"]].set_axis(["a", "b"], axis=1),
        ]
    ).drop_duplicates()
    deg = pairs.groupby("a").size().sort_values(ascending=False, kind="stable")
    return float(name.lower() in str(deg.index[0]).lower())


@pattern_function("formed_by")
def formed_by(run: Any, step: int) -> float:
    """Links formed by month ``step``."""
    links = _links(run)
    if links.empty:
        return 0.0
    return float((links["formed_step"] <= step).sum())


@pattern_function("share_formed_by")
def share_formed_by(run: Any, step: int) -> float:
    """Share of all links formed in the run that had formed by month ``step`` (pace)."""
    links = _links(run)
    if links.empty:
        return float("nan")
    return float((links["formed_step"] <= step).mean())


@pattern_function("at")
def at(run: Any, column: str, step: int = -1) -> float:
    """A timeseries column at month ``step`` (1 = first month; negative counts from the end)."""
    ts = run._run.timeseries if isinstance(run, _RunView) else run.timeseries
    if column not in ts.columns:
        raise PatternError(f"timeseries has no column {column!r}")
    if step < 0:
        return float(ts[column].iloc[step])
    rows = (
        ts.loc[ts["step"] == step, column] if "step" in ts.columns else ts[column].iloc[[step - 1]]
    )
    if rows.empty:
        raise PatternError(f"timeseries has no month {step}")
    return float(rows.iloc[0])


def _mean(x: Iterable[float]) -> float:
    return float(np.mean(list(x)))


SAFE_BUILTINS: dict[str, Any] = {
    "abs": abs,
    "min": min,
    "max": max,
    "len": len,
    "sum": sum,
    "float": float,
    "int": int,
    "round": round,
    "mean": _mean,
    "True": True,
    "False": False,
    "None": None,
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.keyword,
    ast.Load,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)
# methods an expression may call on a column or frame (no I/O, no eval)
_ALLOWED_METHODS = {"mean", "sum", "max", "min", "count", "nunique", "median", "std", "iloc"}


def compile_expression(expr: str, names: Iterable[str], where: str) -> Any:
    """Check and compile a pattern expression: arithmetic, comparisons, attribute access to
    the arms' ``summary``/``timeseries``/``links``, registered functions and a few builtins."""
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise UserError(f"{where}: compute: not a valid expression ({err.msg}): {expr!r}") from None
    allowed_names = set(names) | set(FUNCTIONS) | set(SAFE_BUILTINS)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise UserError(
                f"{where}: compute: {type(node).__name__} is not allowed in a pattern expression"
            )
        if isinstance(node, ast.Name) and node.id not in allowed_names:
            raise UserError(
                f"{where}: compute: unknown name {node.id!r} (arms: {', '.join(names)}; "
                f"functions: {', '.join(sorted(FUNCTIONS))})"
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise UserError(f"{where}: compute: private attribute {node.attr!r} is not allowed")
        if isinstance(node, ast.Call):
            f = node.func
            ok = (isinstance(f, ast.Name) and f.id in allowed_names) or (
                isinstance(f, ast.Attribute) and f.attr in _ALLOWED_METHODS
            )
            if not ok:
                raise UserError(f"{where}: compute: only registered functions may be called")
    return compile(tree, where, "eval")


# --------------------------------------------------------------------------- loading


@dataclass
class Pattern:
    """A pattern with its scenario resolved and its expression compiled."""

    spec: PatternSpec
    scenario_path: Path | None
    skip_reason: str = ""  # non-empty: the scenario file is missing (skipped)
    code: Any = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def computable(self) -> bool:
        return self.spec.status == "computable" and not self.skip_reason

    def arms(self, extra: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """Overrides of every arm: the calibration's/command line's, then the pattern's own,
        then the arm's."""
        base = {**(extra or {}), **self.spec.overrides}
        if not self.spec.arms:
            return {DEFAULT_ARM: base}
        return {name: {**base, **ov} for name, ov in self.spec.arms.items()}

    def value(self, runs: dict[str, RunData]) -> float:
        """The pattern's quantity in one replicate (one run per arm, same seed)."""
        c = self.spec.compute
        views = {name: _RunView(r) for name, r in runs.items()}
        try:
            if isinstance(c, FunctionCall):
                fn = FUNCTIONS[c.function]
                arm = c.arm or self.spec.arm_names()[0]
                v = fn(views[arm], **c.args)
            else:
                v = eval(self.code, {"__builtins__": {}, **SAFE_BUILTINS, **FUNCTIONS}, views)  # noqa: S307 - checked AST
        except PatternError:
            raise
        except (ArithmeticError, KeyError, IndexError, TypeError, ValueError) as err:
            raise PatternError(f"{type(err).__name__}: {err}") from None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise PatternError(f"the quantity is not a number: {v!r}") from None


@dataclass
class PatternSet:
    file: PatternFile
    path: Path | None
    patterns: list[Pattern]

    def by_id(self, ids: Iterable[str]) -> list[Pattern]:
        index = {p.id: p for p in self.patterns}
        out = []
        for i in ids:
            if i not in index:
                raise UserError(f"unknown pattern {i!r}; the file has {', '.join(index) or 'none'}")
            out.append(index[i])
        return out

    def for_scenario(self, scenario: Path) -> list[Pattern]:
        """Patterns whose scenario is this file (patterns with no scenario are left out)."""
        target = scenario.resolve()
        return [
            p for p in self.patterns if p.scenario_path is not None and p.scenario_path == target
        ]


def parse_patterns(data: Any, source: str, base_dir: Path) -> PatternSet:
    if not isinstance(data, dict):
        raise UserError(f"{source}: a pattern file must be a YAML mapping (with a patterns list)")
    try:
        pf = PatternFile.model_validate(data)
    except ValidationError as err:
        known = list(PatternFile.model_fields) + list(PatternSpec.model_fields)
        msg = format_validation(err, source, known, match_last=True)
        raise UserError(_name_pattern(msg, data)) from None
    from eipsim.scenario.overrides import check_key
    from eipsim.scenario.schema import known_keys

    keys = known_keys()
    out: list[Pattern] = []
    for i, spec in enumerate(pf.patterns):
        where = f"{source}: patterns[{i}] ({spec.id})"
        for ov in [spec.overrides, spec.requires, *(spec.arms or {}).values()]:
            for k in ov:
                try:
                    check_key(k, keys)
                except UserError as err:
                    raise UserError(f"{where}: {err}") from None
        sc_path: Path | None = None
        skip = ""
        if spec.scenario is not None:
            sc_path = Path(spec.scenario)
            if not sc_path.is_absolute():
                sc_path = base_dir / sc_path
            sc_path = sc_path.resolve()
            if not sc_path.is_file():
                skip = f"scenario {spec.scenario} does not exist yet ({sc_path}); skipped"
        code = None
        if spec.status == "computable":
            if isinstance(spec.compute, FunctionCall):
                if spec.compute.function not in FUNCTIONS:
                    raise UserError(
                        f"{where}: compute.function {spec.compute.function!r} is not registered "
                        f"(known: {', '.join(sorted(FUNCTIONS))})"
                    )
                if spec.compute.arm and spec.compute.arm not in spec.arm_names():
                    raise UserError(f"{where}: compute.arm {spec.compute.arm!r} is not an arm")
            else:
                assert isinstance(spec.compute, str)
                code = compile_expression(spec.compute, spec.arm_names(), where)
        out.append(Pattern(spec=spec, scenario_path=sc_path, skip_reason=skip, code=code))
    return PatternSet(file=pf, path=None, patterns=out)


def _name_pattern(msg: str, data: Any) -> str:
    """Say which pattern id a 'patterns.N.field' error is about."""
    import re

    m = re.search(r"patterns\.(\d+)", msg)
    pats = data.get("patterns") if isinstance(data, dict) else None
    if m and isinstance(pats, list) and int(m.group(1)) < len(pats):
        entry = pats[int(m.group(1))]
        if isinstance(entry, dict) and "id" in entry:
            return f"{msg} (pattern {entry['id']})"
    return msg


def load_patterns(path: str | Path) -> PatternSet:
    data, p = read_yaml(path, "pattern")
    ps = parse_patterns(data, str(p), p.resolve().parent)
    ps.path = p
    return ps


# --------------------------------------------------------------------------- evaluation


def replicate_seeds(root: int, n: int, salt: Iterable[int] = ()) -> list[int]:
    """Seeds of replicates 0..n-1: ``SeedSequence(root, spawn_key=(*salt, k))`` (63 bits)."""
    out = []
    for k in range(n):
        ss = np.random.SeedSequence(int(root), spawn_key=(*[int(s) for s in salt], k))
        out.append(int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return out


def _t_interval(values: np.ndarray, conf: float) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return (math.nan, math.nan)
    m = float(v.mean())
    if len(v) < 2:
        return (m, m)
    sd = float(v.std(ddof=1))
    if sd == 0:
        return (m, m)
    from scipy import stats

    lo, hi = stats.t.interval(conf, len(v) - 1, loc=m, scale=sd / math.sqrt(len(v)))
    return (float(lo), float(hi))


def scale_of(spec: PatternSpec) -> float:
    """Normalising scale of a pattern's distance: ``scale``, else the target's width, else
    the size of its finite bound (at least 1)."""
    if spec.scale is not None:
        return float(spec.scale)
    lo, hi = spec.target.low, spec.target.high
    if lo is not None and hi is not None and hi > lo:
        return float(hi - lo)
    bound = lo if lo is not None else hi
    return max(abs(float(bound or 0.0)), 1.0)


def gap(spec: PatternSpec, value: float) -> float:
    """Normalised distance of a value from the target range (0 inside it)."""
    if not math.isfinite(value):
        return NAN_GAP
    lo, hi = spec.target.low, spec.target.high
    d = 0.0
    if lo is not None and value < lo:
        d = lo - value
    elif hi is not None and value > hi:
        d = value - hi
    return d / scale_of(spec)


@dataclass
class PatternResult:
    id: str
    use: str
    sentence: str
    source: str
    status: str  # met | not met | not computable | skipped | failed
    target: str
    unit: str = ""
    weight: float = 1.0
    value: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    n: int = 0
    share_in_target: float = math.nan
    values: list[float] = field(default_factory=list)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        d = self.__dict__.copy()
        for k in ("value", "ci_low", "ci_high", "share_in_target"):
            d[k] = None if not math.isfinite(d[k]) else d[k]
        d["values"] = [None if not math.isfinite(v) else v for v in d["values"]]
        return d


def unmet_requirements(p: Pattern, scenarios: dict[str, Any]) -> str:
    """Why the pattern's quantity cannot be computed in this configuration ('' if it can)."""
    missing = []
    for key, want in p.spec.requires.items():
        for sc in scenarios.values():
            have = get_dotted(sc.to_yaml_dict(), key)
            ok = bool(have) if want == "nonzero" else have == want
            if not ok:
                missing.append(f"{key} = {want} (here {have})")
                break
    if not missing:
        return ""
    return "needs " + ", ".join(missing) + "; switch the mechanism on to compute it"


def summarise(
    p: Pattern, values: list[float], conf: float = 0.95, message: str = ""
) -> PatternResult:
    arr = np.asarray(values, dtype=float)
    fin = arr[np.isfinite(arr)]
    mean = float(fin.mean()) if len(fin) else math.nan
    lo, hi = _t_interval(arr, conf)
    met = p.spec.target.contains(mean)
    return PatternResult(
        id=p.id,
        use=p.spec.use,
        sentence=p.spec.sentence,
        source=p.spec.source,
        status="met" if met else "not met",
        target=p.spec.target.text(),
        unit=p.spec.unit,
        weight=p.spec.weight,
        value=mean,
        ci_low=lo,
        ci_high=hi,
        n=int(len(fin)),
        share_in_target=float(np.mean([p.spec.target.contains(v) for v in arr]))
        if len(arr)
        else math.nan,
        values=[float(v) for v in arr],
        message=message,
    )


def _blank(p: Pattern, status: str, message: str) -> PatternResult:
    return PatternResult(
        id=p.id,
        use=p.spec.use,
        sentence=p.spec.sentence,
        source=p.spec.source,
        status=status,
        target=p.spec.target.text(),
        unit=p.spec.unit,
        weight=p.spec.weight,
        message=message,
    )


RunFn = Callable[[Any, int, int | None], RunData]


def default_run(scenario: Any, seed: int, steps: int | None) -> RunData:
    from eipsim.domain.simulation import run

    return RunData.from_result(run(scenario, seed=seed, steps=steps))


class Evaluator:
    """Runs patterns' arms over seeds, caching runs shared by several patterns."""

    def __init__(
        self,
        extra_overrides: dict[str, Any] | None = None,
        steps: int | None = None,
        run_fn: RunFn | None = None,
    ):
        self.extra = dict(extra_overrides or {})
        self.steps = steps
        self.run_fn = run_fn or default_run
        self._scenarios: dict[str, Any] = {}
        self._runs: dict[tuple[str, int, int | None], RunData] = {}

    def scenarios(self, p: Pattern) -> dict[str, tuple[str, Any]]:
        """Each arm's cache key and scenario (the pattern's scenario with its overrides)."""
        from eipsim.scenario.schema import load_scenario

        assert p.scenario_path is not None
        out: dict[str, tuple[str, Any]] = {}
        for arm, ov in p.arms(self.extra).items():
            key = json.dumps([str(p.scenario_path), ov], sort_keys=True, default=str)
            sc = self._scenarios.get(key)
            if sc is None:
                base = self._scenarios.get(str(p.scenario_path))
                if base is None:
                    base = load_scenario(p.scenario_path)
                    self._scenarios[str(p.scenario_path)] = base
                try:
                    sc = base.with_overrides(ov) if ov else base
                except UserError as err:
                    raise UserError(f"pattern {p.id}, arm {arm}: {err}") from None
                self._scenarios[key] = sc
            out[arm] = (key, sc)
        return out

    def values(self, p: Pattern, seeds: list[int]) -> list[float]:
        arms = self.scenarios(p)
        # a pattern's own horizon (Kalundborg's 40 years) wins over a calibration's
        steps = p.spec.steps if p.spec.steps is not None else self.steps
        vals = []
        for seed in seeds:
            runs = {}
            for arm, (key, sc) in arms.items():
                ck = (key, seed, steps)
                r = self._runs.get(ck)
                if r is None:
                    r = self.run_fn(sc, seed, steps)
                    self._runs[ck] = r
                runs[arm] = r
            try:
                vals.append(p.value(runs))
            except PatternError:
                vals.append(math.nan)
        return vals

    def evaluate(
        self, patterns: list[Pattern], seeds: list[int], conf: float = 0.95
    ) -> list[PatternResult]:
        out = []
        for p in patterns:
            if p.skip_reason:
                out.append(_blank(p, "skipped", p.skip_reason))
                continue
            if p.spec.status == "not_computable":
                out.append(_blank(p, "not computable", p.spec.reason))
                continue
            scs = {a: sc for a, (_, sc) in self.scenarios(p).items()}
            why = unmet_requirements(p, scs)
            if why:
                out.append(_blank(p, "not computable", why))
                continue
            vals = self.values(p, seeds)
            res = summarise(p, vals, conf)
            if res.n < len(vals):
                res.message = f"{len(vals) - res.n} of {len(vals)} seeds gave no value"
                if res.n == 0:
                    res.status = "failed"
            out.append(res)
        return out


def distance(results: dict[str, float], patterns: list[Pattern]) -> float:
    """Weighted sum of normalised gaps to the targets (0 when every pattern is met)."""
    return float(sum(p.spec.weight * gap(p.spec, results.get(p.id, math.nan)) for p in patterns))


def _fmt(v: float | None) -> str:
    if v is None or not math.isfinite(v):
        return "-"
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.3g}"
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:,.1f}"


fmt = _fmt
