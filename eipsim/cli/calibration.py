"""The calibration commands: ``eipsim patterns | calibrate`` (issue 9).

``add_subcommands`` registers them on the main CLI; bad input raises ``UserError``, which
the main CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from eipsim.cli.args import add_backend_options, bounded_int, parse_overrides, pos_int
from eipsim.errors import UserError
from eipsim.runs.files import atomic_write_text
from eipsim.scenario.schema import MAX_SEED, MAX_STEPS

DEFAULT_PATTERNS = "calibration/patterns.yaml"


def _fmt(v: float) -> str:
    from eipsim.calibration.patterns import fmt

    return fmt(v)


def _results_table(results: list[Any]) -> str:
    head = ("pattern", "use", "value", "95 % interval", "target", "status")
    rows = []
    for r in results:
        ci = f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}" if r.n else "-"
        rows.append((r.id, r.use, _fmt(r.value) if r.n else "-", ci, r.target, r.status))
    w = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head))]
    out = ["  ".join(str(h).ljust(w[i]) for i, h in enumerate(head))]
    out += ["  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) for r in rows]
    notes = [f"  {r.id}: {r.message}" for r in results if r.message]
    return "\n".join(out + (["notes:", *notes] if notes else []))


def _markdown(
    scenario: str, seeds: list[int], results: list[Any], overrides: dict[str, Any]
) -> str:
    lines = [
        f"# Patterns of `{scenario}`",
        "",
        f"{len(seeds)} seed(s) per pattern; every arm of a pattern runs with the same seeds. "
        "Value = mean over seeds; interval = 95 % t-interval of the mean.",
        "",
    ]
    if overrides:
        lines += [
            "Overrides: " + ", ".join(f"`{k}={json.dumps(v)}`" for k, v in overrides.items()),
            "",
        ]
    lines += [
        "| pattern | use | sentence | value | 95 % interval | target | status | source |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ci = f"{_fmt(r.ci_low)} to {_fmt(r.ci_high)}" if r.n else "-"
        note = f" ({r.message})" if r.message else ""
        lines.append(
            f"| {r.id} | {r.use} | {r.sentence}{note} | {_fmt(r.value) if r.n else '-'} {r.unit} | "
            f"{ci} | {r.target} | {r.status} | {r.source} |".replace("\n", " ")
        )
    return "\n".join(lines) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    atomic_write_text(path, text)


def cmd_patterns(a: argparse.Namespace) -> int:
    """Run a scenario over seeds and say, for every pattern that applies, if it is met."""
    from eipsim.calibration.patterns import Evaluator, load_patterns, replicate_seeds
    from eipsim.scenario.schema import load_scenario

    if a.out is not None and not a.out.strip():
        raise UserError("--out is empty; give a folder name (or leave --out out)")
    load_scenario(a.scenario)  # a bad scenario file fails here, with its own message
    ps = load_patterns(a.patterns)
    applicable = ps.for_scenario(Path(a.scenario))
    if a.pattern:
        chosen = ps.by_id(a.pattern)
        for p in chosen:
            if p not in applicable:
                raise UserError(f"pattern {p.id} applies to {p.spec.scenario}, not to {a.scenario}")
        applicable = chosen
    if not applicable:
        raise UserError(
            f"no pattern in {a.patterns} applies to {a.scenario} (patterns name their scenario; "
            f"those named are {', '.join(sorted({str(p.spec.scenario) for p in ps.patterns}))})"
        )
    out = Path(a.out) if a.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    n = a.seeds or ps.file.seeds
    root = ps.file.seed if a.seed is None else a.seed
    seeds = replicate_seeds(root, n)
    overrides = parse_overrides(a.set)
    ev = Evaluator(overrides, steps=a.steps)
    for p in applicable:
        if p.computable:
            ev.scenarios(p)  # every arm's overrides checked before anything runs
    results = ev.evaluate(applicable, seeds)
    print(f"{a.scenario}: {len(applicable)} pattern(s), {n} seed(s) each (root seed {root})")
    print(_results_table(results))
    met = sum(r.status == "met" for r in results)
    judged = sum(r.status in ("met", "not met") for r in results)
    print(f"{met} of {judged} computable patterns met")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        data = {
            "scenario": a.scenario,
            "patterns_file": str(a.patterns),
            "root_seed": root,
            "seeds": seeds,
            "overrides": overrides,
            "steps": a.steps,
            "results": [r.as_dict() for r in results],
        }
        _write_atomic(out / "patterns.json", json.dumps(data, indent=2, allow_nan=False))
        _write_atomic(out / "patterns.md", _markdown(a.scenario, seeds, results, overrides))
        print(f"written: {out}/patterns.json and {out}/patterns.md")
    return 0


def cmd_calibrate(a: argparse.Namespace) -> int:
    """ABC-SMC (pyabc) of a calibration file's parameters against its patterns."""
    from eipsim.calibration.report import write_outputs
    from eipsim.calibration.smc import calibrate

    if a.out is not None and not a.out.strip():
        raise UserError("--out is empty; give a folder name (or leave --out out)")
    if a.backend == "local" and a.scheduler:
        raise UserError("--scheduler needs --backend dask")
    cli = {
        "population": a.population,
        "generations": a.generations,
        "steps": a.steps,
        "seeds_per_particle": a.seeds_per_particle,
    }
    run = calibrate(
        a.calibration,
        a.out,
        backend=a.backend,
        workers=a.workers,
        scheduler=a.scheduler,
        resume=a.resume,
        quiet=a.quiet,
        **cli,
    )
    for n in run.notes:
        print(f"note: {n}", file=sys.stderr)
    how = " (resumed)" if run.resumed else ""
    print(
        f"calibration: {run.generations_run} generation(s) run{how}, {run.generations_done} "
        f"done, {run.wall_s:.1f} s, {run.sampler}"
    )
    w = write_outputs(
        run.out,
        calibration_path=a.calibration,
        validate=not a.no_validate,
        cli={k: v for k, v in cli.items() if v is not None},
    )
    for i in w.identification:
        ratio = f"{i.ratio:.2f}" if math.isfinite(i.ratio) else "-"
        print(
            f"  {i.key}: posterior {i.post_mean:.4g} ({i.post_q05:.4g} to {i.post_q95:.4g}), "
            f"sd ratio {ratio}: {i.verdict}"
        )
    print(f"written to {run.out}/: {', '.join(w.files)}")
    return 0


def add_subcommands(sub: Any) -> None:
    p = sub.add_parser(
        "patterns",
        help="run a scenario over seeds and check the patterns that apply to it",
        description="For every pattern of the pattern file whose scenario is SCENARIO: its "
        "value (mean over seeds), a 95 % interval, the target and whether it is met.",
    )
    p.add_argument("scenario", help="scenario YAML, e.g. scenarios/nam_cau_kien.yaml")
    p.add_argument(
        "--patterns", default=DEFAULT_PATTERNS, metavar="FILE", help=f"default {DEFAULT_PATTERNS}"
    )
    p.add_argument("--seeds", type=bounded_int(1, 10_000), metavar="N", help="seeds per pattern")
    p.add_argument("--seed", type=bounded_int(0, MAX_SEED), help="root seed (default: the file's)")
    p.add_argument("--steps", type=bounded_int(1, MAX_STEPS), metavar="N", help="months per run")
    p.add_argument(
        "--pattern", action="append", metavar="ID", help="only these patterns (repeatable)"
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a key in every run (repeatable)",
    )
    p.add_argument("--out", metavar="DIR", help="also write patterns.json and patterns.md here")
    p.set_defaults(func=cmd_patterns)

    c = sub.add_parser(
        "calibrate",
        help="ABC-SMC (pyabc) of a calibration file's parameters against the patterns",
        description="Fit the parameters named in CALIBRATION.yaml (dotted scenario keys with "
        "priors) to its patterns with pyabc's ABC-SMC; write the posterior, plots and a report.",
    )
    c.add_argument("calibration", help="calibration YAML, e.g. calibration/quick.yaml")
    add_backend_options(c)
    c.add_argument("--out", metavar="DIR", help="default: results/calibration/<name>")
    c.add_argument(
        "--resume", action="store_true", help="continue from the folder's pyabc database"
    )
    c.add_argument("--population", type=pos_int, help=argparse.SUPPRESS)  # tests, CI
    c.add_argument("--generations", type=pos_int, help="generations (default: the file's)")
    c.add_argument("--steps", type=bounded_int(1, MAX_STEPS), help=argparse.SUPPRESS)
    c.add_argument("--seeds-per-particle", type=pos_int, help=argparse.SUPPRESS)
    c.add_argument("--no-validate", action="store_true", help="skip the posterior-draw evaluation")
    c.add_argument("--quiet", action="store_true", help="no pyabc log")
    c.set_defaults(func=cmd_calibrate)
