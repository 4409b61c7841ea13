"""Calibration files: which parameters (dotted scenario keys with priors) are fitted to
which patterns, with which ABC-SMC settings and root seed. Validated like experiment files:
every key is checked and one message names the file and key."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from eipsim.calibration.patterns import MAX_SEEDS, Pattern, PatternSet, load_patterns
from eipsim.errors import UserError
from eipsim.experiments.framework.spec import Parameter, is_integer_key
from eipsim.scenario.schema import MAX_SEED, MAX_STEPS, NAME_PATTERN, format_validation
from eipsim.scenario.strict import Strict
from eipsim.scenario.yamlio import read_yaml

MAX_POPULATION = 100_000
MAX_GENERATIONS = 1_000


class AbcSettings(Strict):
    population_size: int = Field(20, ge=2, le=MAX_POPULATION)
    generations: int = Field(3, ge=1, le=MAX_GENERATIONS, description="max_nr_populations")
    minimum_epsilon: float = Field(0.0, ge=0, description="stop once epsilon reaches this")
    max_walltime_s: float | None = Field(None, gt=0, description="stop after this many seconds")


class Calibration(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    patterns: str = Field("patterns.yaml", description="pattern file, relative to this file")
    fit: list[str] | Literal["fit"] = Field(
        "fit", description="pattern ids to fit, or 'fit': every pattern with use: fit"
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed of the calibration")
    seeds_per_particle: int = Field(2, ge=1, le=MAX_SEEDS, description="runs per arm and particle")
    steps: int | None = Field(None, ge=1, le=MAX_STEPS, description="months of every run")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="fixed for every pattern run (e.g. the mechanisms)"
    )
    parameters: dict[str, Parameter]
    abc: AbcSettings = Field(default_factory=lambda: AbcSettings.model_validate({}))
    validate_draws: int = Field(
        8, ge=0, le=10_000, description="posterior draws to evaluate the held-back patterns at"
    )

    @model_validator(mode="after")
    def _check(self) -> Calibration:
        if not self.parameters:
            raise ValueError("parameters: name at least one dotted scenario key with a prior")
        for key, par in self.parameters.items():
            if par.levels is not None:
                raise ValueError(
                    f"parameters.{key}: categorical levels cannot be calibrated by ABC-SMC "
                    "here; fix it under overrides, or calibrate once per level"
                )
            if par.group is not None:
                raise ValueError(f"parameters.{key}: group applies to sensitivity designs only")
        clash = set(self.parameters) & set(self.overrides)
        if clash:
            raise ValueError(
                f"keys both fixed (overrides) and calibrated: {', '.join(sorted(clash))}"
            )
        return self


@dataclass
class ResolvedCalibration:
    spec: Calibration
    path: Path
    pattern_set: PatternSet
    fit: list[Pattern]
    validate: list[Pattern]
    integer: dict[str, bool]
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    def hashed_content(self) -> dict[str, Any]:
        spec = self.spec.model_dump(mode="json")
        spec.pop("description", None)
        spec.pop("validate_draws", None)
        spec["abc"].pop("generations", None)  # more generations continue the same calibration
        spec["abc"].pop("max_walltime_s", None)
        spec.pop("patterns", None)
        return {
            "calibration": spec,
            "fit_patterns": [p.spec.model_dump(mode="json") for p in self.fit],
        }

    @property
    def hash(self) -> str:
        blob = json.dumps(self.hashed_content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _format(err: ValidationError, source: str) -> str:
    known = (
        list(Calibration.model_fields)
        + list(AbcSettings.model_fields)
        + list(Parameter.model_fields)
    )
    return format_validation(err, source, known, match_last=True)


def parse_calibration(data: Any, source: str) -> Calibration:
    if not isinstance(data, dict):
        raise UserError(f"{source}: a calibration file must be a YAML mapping of keys to values")
    try:
        return Calibration.model_validate(data)
    except ValidationError as err:
        raise UserError(_format(err, source)) from None


def load_calibration(
    path: str | Path,
    *,
    population: int | None = None,
    generations: int | None = None,
    steps: int | None = None,
    seeds_per_particle: int | None = None,
) -> ResolvedCalibration:
    """Read a calibration file, its pattern file and every scenario the fitted patterns use;
    check every key and prior end before anything runs."""
    data, p = read_yaml(path, "calibration")
    source = str(p)
    if isinstance(data, dict):
        data = dict(data)
        abc = (
            dict(data.get("abc") or {})
            if isinstance(data.get("abc", {}), dict)
            else data.get("abc")
        )
        if isinstance(abc, dict):
            if population is not None:
                abc["population_size"] = population
            if generations is not None:
                abc["generations"] = generations
            data["abc"] = abc
        if steps is not None:
            data["steps"] = steps
        if seeds_per_particle is not None:
            data["seeds_per_particle"] = seeds_per_particle
    spec = parse_calibration(data, source)
    pat_path = Path(spec.patterns)
    if not pat_path.is_absolute():
        pat_path = p.resolve().parent / pat_path
    if not pat_path.is_file():
        raise UserError(f"{source}: patterns: file not found: {pat_path}")
    ps = load_patterns(pat_path)
    notes: list[str] = []
    if spec.fit == "fit":
        fit = [q for q in ps.patterns if q.spec.use == "fit"]
    else:
        try:
            fit = ps.by_id(spec.fit)
        except UserError as err:
            raise UserError(f"{source}: fit: {err}") from None
    usable = []
    for q in fit:
        if q.skip_reason:
            notes.append(f"pattern {q.id}: {q.skip_reason}")
        elif q.spec.status != "computable":
            notes.append(f"pattern {q.id}: not computable ({q.spec.reason}); not fitted")
        else:
            usable.append(q)
    if not usable:
        raise UserError(f"{source}: no computable pattern to fit")
    validate = [q for q in ps.patterns if q not in usable]

    from eipsim.calibration.patterns import Evaluator, unmet_requirements
    from eipsim.scenario.overrides import check_key
    from eipsim.scenario.schema import known_keys

    keys = known_keys()
    for where, names in (("overrides", spec.overrides), ("parameters", spec.parameters)):
        for k in names:
            try:
                check_key(k, keys)
            except UserError as err:
                raise UserError(f"{source}: {where}: {err}") from None
    ev = Evaluator(spec.overrides, steps=spec.steps)
    integer: dict[str, bool] = {}
    kept = []
    for q in usable:
        try:
            arms = ev.scenarios(q)
        except UserError as err:
            raise UserError(f"{source}: overrides: {err}") from None
        why = unmet_requirements(q, {a: sc for a, (_, sc) in arms.items()})
        if why:
            notes.append(f"pattern {q.id}: {why}; not fitted")
            validate.append(q)
            continue
        kept.append(q)
        for _, sc in arms.values():
            _check_priors(spec, sc, source, integer)
    if not kept:
        raise UserError(f"{source}: no computable pattern to fit")
    return ResolvedCalibration(
        spec=spec, path=p, pattern_set=ps, fit=kept, validate=validate, integer=integer, notes=notes
    )


def _check_priors(spec: Calibration, sc: Any, source: str, integer: dict[str, bool]) -> None:
    """Both ends and the middle of every prior must be values the scenario accepts."""
    import numpy as np

    from eipsim.experiments.framework.design import transform

    for key, par in spec.parameters.items():
        integer[key] = par.integer if par.integer is not None else is_integer_key(sc, key)
        for u, end in ((1e-9, "lowest"), (0.5, "median"), (1 - 1e-9, "highest")):
            v = transform(par, np.array([u]), integer[key])[0]
            if isinstance(v, float) and not math.isfinite(v):
                raise UserError(f"{source}: parameters.{key}: the prior has no finite {end} value")
            try:
                sc.with_overrides({key: v})
            except UserError as err:
                msg = str(err).replace("\n", "; ")
                raise UserError(
                    f"{source}: parameters.{key}: the prior can draw {v:g} (its {end} value), "
                    f"which the scenario refuses: {msg}"
                ) from None
