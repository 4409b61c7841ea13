"""The experiment commands: ``eipsim sweep | sensitivity | discover | plot``.

``add_subcommands`` registers them on the main CLI's subparsers; each handler raises
``UserError`` for bad input, which the main CLI prints as one line with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from eipsim.cli.args import (
    EXIT_RUNS_FAILED,
    add_backend_options,
    bounded_int,
    dispatch,
    parse_overrides,
    pos_int,
    real,
)
from eipsim.errors import UserError
from eipsim.experiments.framework.spec import MAX_REPLICATES
from eipsim.scenario.schema import MAX_STEPS

BIG_SWEEP = 20_000  # runs: say so before planning


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    add_backend_options(p)
    p.add_argument(
        "--out", metavar="DIR", help="sweep folder (default: results/sweeps/<experiment name>)"
    )
    p.add_argument("--resume", action="store_true", help="finish an interrupted sweep in --out")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="fix a scenario key for every run (repeatable; changes the experiment)",
    )
    p.add_argument(
        "--steps",
        type=bounded_int(1, MAX_STEPS),
        metavar="N",
        help=f"months per run, at most {MAX_STEPS} (changes the experiment)",
    )
    p.add_argument(
        "--replicates",
        type=bounded_int(1, MAX_REPLICATES),
        metavar="N",
        help="runs per point (changes it too)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(  # issue 9
        "--posterior",
        metavar="DIR",
        help="calibration folder (eipsim calibrate): replicate r of every point runs at "
        "posterior draw r, so the spread carries parameter uncertainty (changes the experiment)",
    )
    p.add_argument("--no-fsync", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--adapter", help=argparse.SUPPRESS)  # tests: a stand-in model


def _resolve(a: argparse.Namespace) -> Any:
    from eipsim.experiments.framework.spec import load_experiment

    if getattr(a, "out", None) is not None and not a.out.strip():
        raise UserError("--out is empty; give a folder name (or leave --out out)")

    res = load_experiment(
        a.experiment,
        overrides=parse_overrides(a.set),
        steps=a.steps,
        replicates=a.replicates,
        adapter=a.adapter,
        posterior=getattr(a, "posterior", None),
    )
    for note in res.notes:
        _err(f"note: {note}")
    return res


def _sweep(a: argparse.Namespace, res: Any) -> Any:
    from eipsim.experiments.framework.runner import run_sweep

    if a.backend == "local" and a.scheduler:
        raise UserError("--scheduler needs --backend dask")
    from eipsim.experiments.framework.spec import design_points

    n_runs = design_points(res.spec.design) * res.spec.replicates
    if n_runs >= BIG_SWEEP:  # planning seeds and chunks takes a while before the first run
        _err(f"note: sweep {res.name!r} has {n_runs:,} runs; planning them before the first starts")
    try:
        rep = run_sweep(
            res,
            a.out,
            workers=a.workers,
            backend=a.backend,
            scheduler=a.scheduler,
            resume=a.resume,
            progress=not a.quiet,
            command=["eipsim", *sys.argv[1:]] if sys.argv else None,
            fsync=not a.no_fsync,
        )
    except KeyboardInterrupt:
        out = a.out or f"results/sweeps/{res.name}"
        _err(
            f"interrupted; finished chunks are kept in {out}. Run the same command again "
            "(or add --resume) to finish the sweep."
        )
        raise SystemExit(130) from None
    for w in rep.warnings:
        _err(f"warning: {w}")
    if rep.chunks_run == 0 and rep.resumed:
        print(f"{rep.out}: all {rep.n_chunks} chunks were already finished; nothing to run")
    else:
        how = f"resumed ({rep.chunks_skipped} of {rep.n_chunks} chunks were done)"
        print(
            f"sweep {res.name!r}: {rep.runs_ok + rep.runs_failed} runs "
            f"({rep.runs_ok} ok, {rep.runs_failed} failed) in {rep.wall_s:.1f} s"
            + (f", {how}" if rep.resumed else "")
        )
        for e in sorted(rep.errors, key=lambda e: e["run_id"])[:5]:
            print(f"  failed run {e['run_id']} (seed {e['seed']}): {e['error']}")
        if rep.runs_failed > 5:
            print(f"  ... and {rep.runs_failed - 5} more (see {rep.out}/status/)")
    if rep.failed_total:
        _err(
            f"warning: {rep.failed_total} run(s) of this sweep failed; their errors are in "
            f"{rep.out}/status/ (exit code {EXIT_RUNS_FAILED})"
        )
    print(f"results in {rep.out}/  (read with eipsim.experiments.load({str(rep.out)!r}))")
    return rep


def cmd_sweep(a: argparse.Namespace) -> int:
    """Run an experiment's sweep, resumable, into a folder of Parquet part files."""
    res = _resolve(a)
    rep = _sweep(a, res)
    if not a.quiet and rep.complete:
        print(
            f"next: eipsim discover {rep.out} --outcome adoption_share --threshold X, "
            f"then eipsim plot {rep.out} (the report includes the discovery results)"
        )
    return EXIT_RUNS_FAILED if rep.failed_total else 0


def cmd_sensitivity(a: argparse.Namespace) -> int:
    """Run a Sobol/Morris/FAST design (unless given a finished sweep folder), then analyse it."""
    from eipsim.experiments.analysis.sensitivity import analyse_sweep
    from eipsim.experiments.framework.store import MANIFEST

    target = Path(a.experiment)
    if target.is_dir():
        if not (target / MANIFEST).is_file():
            raise UserError(f"{target}: not a sweep folder (no {MANIFEST})")
        sweep_dir = target
    else:
        from eipsim.experiments.framework.spec import SENSITIVITY_KINDS

        res = _resolve(a)
        if res.spec.design.kind not in SENSITIVITY_KINDS:
            raise UserError(
                f"{a.experiment}: design.kind is {res.spec.design.kind!r}; sensitivity needs "
                "sobol, morris or fast (use `eipsim sweep` for the others)"
            )
        rep = _sweep(a, res)
        if not rep.complete:
            raise UserError(f"{rep.out}: the sweep is not complete; resume it first")
        sweep_dir = rep.out
    result = analyse_sweep(
        sweep_dir,
        outcomes=a.outcome,
        num_resamples=a.resamples,
        conf_level=a.conf_level,
        out=a.analysis_out,
    )
    print(result.text())
    for w in result.warnings:
        _err(f"warning: {w}")
    print(f"indices written to {result.out}/")
    from eipsim.experiments.framework.store import failed_runs

    return EXIT_RUNS_FAILED if failed_runs(sweep_dir) else 0


def cmd_discover(a: argparse.Namespace) -> int:
    """PRIM boxes and a CART tree: which levers and conditions reach the outcome threshold."""
    from eipsim.experiments.analysis.discovery import discover

    res = discover(
        a.sweep_dir,
        outcome=a.outcome,
        threshold=a.threshold,
        below=a.below,
        per_point=a.per_point,
        peel_alpha=a.peel_alpha,
        min_density=a.min_density,
        max_depth=a.max_depth,
        out=a.out,
    )
    print(res.text())
    print(f"discovery results written to {res.out}/")
    return 0


def cmd_plot(a: argparse.Namespace) -> int:
    """Figures and a Markdown + HTML report of a sweep folder."""
    from eipsim.experiments.analysis.report import make_report

    rep = make_report(a.sweep_dir, outcomes=a.outcome, by=a.by, out=a.out)
    for w in rep.warnings:
        _err(f"note: {w}")
    print(f"report: {rep.markdown}  and  {rep.html}")
    return 0


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register sweep, sensitivity, discover and plot on the main CLI's subparsers."""
    s = subparsers.add_parser(
        "sweep",
        help="run an experiment: many runs over a design, resumable, to Parquet",
        description="Run every design point and replicate of an experiment file. Results "
        "stream into a folder of Parquet part files; re-running the same command (or "
        "--resume) finishes an interrupted sweep.",
    )
    s.add_argument("experiment", help="experiment YAML, e.g. experiments/policy_mix.yaml")
    _add_run_options(s)
    s.set_defaults(func=cmd_sweep)

    g = subparsers.add_parser(
        "sensitivity",
        help="global sensitivity analysis (Sobol, Morris, eFAST) of an experiment",
        description="Run a sobol/morris/fast experiment through the sweep runner (or take a "
        "finished sweep folder) and write indices with confidence intervals and plots.",
    )
    g.add_argument("experiment", help="experiment YAML, or a finished sweep folder")
    _add_run_options(g)
    g.add_argument(
        "--outcome",
        action="append",
        help="summary indicator to analyse (repeatable; default: the experiment's list)",
    )
    g.add_argument("--resamples", type=pos_int, help="bootstrap resamples for the CIs")
    g.add_argument("--conf-level", type=real, help="confidence level (default 0.95)")
    g.add_argument(
        "--analysis-out", help="folder for the indices (default: <sweep folder>/sensitivity)"
    )
    g.set_defaults(func=cmd_sensitivity)

    d = subparsers.add_parser(
        "discover",
        help="scenario discovery (PRIM boxes, CART tree) on a sweep folder",
        description="Which combinations of levers and conditions give an outcome above (or "
        "below) a threshold? PRIM (EMA Workbench) and a CART tree (scikit-learn).",
    )
    d.add_argument("sweep_dir", help="a sweep folder written by `eipsim sweep`")
    d.add_argument("--outcome", required=True, help="e.g. adoption_share or eip_certified")
    d.add_argument(
        "--threshold",
        type=real,
        help="cases of interest have outcome > threshold (default 0.5 for yes/no outcomes)",
    )
    d.add_argument("--below", action="store_true", help="cases of interest are below it")
    d.add_argument(
        "--per-point", action="store_true", help="average replicates per design point first"
    )
    d.add_argument("--peel-alpha", type=real, default=0.05, help="PRIM peeling share")
    d.add_argument(
        "--min-density", type=real, default=0.8, help="PRIM: density the chosen box must reach"
    )
    d.add_argument("--max-depth", type=pos_int, default=3, help="CART tree depth")
    d.add_argument("--out", help="output folder (default: <sweep folder>/discovery)")
    d.set_defaults(func=cmd_discover)

    p = subparsers.add_parser(
        "plot",
        help="figures and a report (Markdown + HTML) of a sweep folder",
        description="Outcome over time per policy package, box plots per lever value, a "
        "lever x lever heat map of the final adoption share, and a report with the manifest.",
    )
    p.add_argument("sweep_dir", help="a sweep folder written by `eipsim sweep`")
    p.add_argument(
        "--outcome", action="append", help="indicator to plot (repeatable; default adoption_share)"
    )
    p.add_argument("--by", help="design column to group lines by (default: package or 1st lever)")
    p.add_argument("--out", help="output folder (default: <sweep folder>/report)")
    p.set_defaults(func=cmd_plot)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m eipsim``); the main CLI is ``eipsim``."""
    parser = argparse.ArgumentParser(prog="python -m eipsim")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    return dispatch(parser.parse_args(argv))
