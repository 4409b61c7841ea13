"""Command line: eipsim run | validate | viz | sweep | sensitivity | discover | plot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eipsim.cli.args import bounded_int, dispatch, parse_overrides
from eipsim.errors import UserError
from eipsim.scenario.schema import MAX_SEED, MAX_STEPS

if TYPE_CHECKING:
    from eipsim.scenario.schema import Scenario


def _note(msg: str) -> None:
    print(f"note: {msg}", file=sys.stderr)


def _load(path: str, sets: list[str] | None) -> Scenario:
    from eipsim.scenario.schema import load_scenario

    sc = load_scenario(path)
    ov = parse_overrides(sets)
    return sc.with_overrides(ov) if ov else sc


def cmd_validate(a: argparse.Namespace) -> int:
    sc = _load(a.scenario, a.set)
    w, h = sc.grid_shape()
    roster = sc.load_roster()
    print(
        f"{a.scenario}: OK - scenario {sc.name!r}, {sc.firms.count} firms "
        f"({len(roster)} from roster) on {w}x{h} plots, {sc.steps} months, seed {sc.seed}"
    )
    return 0


def _summary_table(summary: dict[str, Any]) -> str:
    rows = [
        ("firms at end", f"{summary['firms']}"),
        ("adoption share (firms in symbiosis)", f"{summary['adoption_share']:.1%}"),
        (
            "active links / formed / ended",
            f"{summary['active_links']} / {summary['links_formed']} / {summary['links_ended']}",
        ),
        ("first link (month)", f"{summary['first_link_step']}"),
        ("cross-national share of links", f"{summary['cross_national_link_share']:.1%}"),
        ("solids diverted (whole run)", f"{summary['solid_diversion_rate']:.1%}"),
        ("solids exchanged (kt, whole run)", f"{summary['total_solid_exchanged_t'] / 1e3:,.1f}"),
        ("water reused by firms (1000 m3)", f"{summary['total_water_reused_m3'] / 1e3:,.0f}"),
        ("energy exchanged (MWh)", f"{summary['total_energy_exchanged_mwh']:,.0f}"),
        (
            "CO2 avoided (t): exchanges / solar",
            f"{summary['total_co2_avoided_counterfactual_t']:,.0f} / "
            f"{summary['total_co2_avoided_solar_t']:,.0f}",
        ),
        (
            "benefit (USD M): private / social",
            f"{summary['total_private_benefit_usd'] / 1e6:,.2f} / "
            f"{summary['total_social_benefit_usd'] / 1e6:,.2f}",
        ),
        (
            "EIP score / certified",
            f"{summary['eip_score']:.2f} / {'yes' if summary['eip_certified'] else 'no'}",
        ),
    ]
    w = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{w}}  {v}" for k, v in rows)


def cmd_run(a: argparse.Namespace) -> int:
    from eipsim.domain.simulation import run
    from eipsim.runs.files import check_out_dir, clean_leftovers
    from eipsim.runs.output import default_out_dir, write_run

    sc = _load(a.scenario, a.set)
    steps = sc.steps if a.steps is None else a.steps
    if a.out is not None and not a.out.strip():
        raise UserError("--out is empty; give a folder name (or leave --out out)")
    out = Path(a.out) if a.out is not None else default_out_dir(sc.name)
    # every path is checked before the simulation runs, so a bad --out loses no work
    check_out_dir(out)
    for note in clean_leftovers(out.absolute().parent):
        _note(note)
    bar = None
    try:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=sc.name, unit="month", disable=None, leave=False)
    except ImportError:  # pragma: no cover
        pass
    result = run(
        sc, seed=a.seed, steps=steps, progress=(lambda i, n: bar.update(1)) if bar else None
    )
    if bar is not None:
        bar.close()
    try:
        write_run(result, out, {"overrides": parse_overrides(a.set), "steps": steps})
    except OSError as err:  # a full disk, a folder removed under us: nothing half-written
        raise UserError(
            f"{out}: cannot write the results ({err.strerror or err}); nothing was written"
        ) from None
    print(f"scenario {sc.name!r}, seed {result.seed}, {steps} months")
    print(_summary_table(result.summary))
    print(f"results written to {out}/")
    return 0


def cmd_viz(a: argparse.Namespace) -> int:
    try:
        from eipsim.viz.server import serve
    except ImportError as err:
        raise UserError(
            f"the browser app needs the viz extra: pip install 'eipsim[viz]' ({err})"
        ) from None
    if a.scenario:
        _load(a.scenario, [])  # fail early on a bad file
    return serve(a.scenario, host=a.host, port=a.port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="eipsim",
        description="Industrial symbiosis adoption in eco-industrial parks (Mesa ABM).",
    )
    from eipsim import __version__

    p.add_argument("--version", action="version", version=f"eipsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run one scenario and write a results folder")
    r.add_argument("scenario", help="scenario YAML file, e.g. scenarios/baseline.yaml")
    r.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a dotted key (repeatable)"
    )
    r.add_argument(
        "--seed", type=bounded_int(0, MAX_SEED), help="random seed (default: the scenario's)"
    )
    r.add_argument(
        "--steps",
        type=bounded_int(1, MAX_STEPS),
        help=f"months to run, at most {MAX_STEPS} (default: the scenario's)",
    )
    r.add_argument("--out", help="output folder (default: a new folder under results/)")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("scenario")
    v.add_argument("--set", action="append", metavar="KEY=VALUE")
    v.set_defaults(func=cmd_validate)

    z = sub.add_parser("viz", help="open the browser visualisation (SolaraViz)")
    z.add_argument("scenario", nargs="?", help="scenario YAML to start with")
    z.add_argument(
        "--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)"
    )
    z.add_argument(
        "--port", type=bounded_int(0, 65535), default=None, help="port (default: a free one)"
    )
    z.set_defaults(func=cmd_viz)

    try:
        from eipsim.cli.experiments import add_subcommands
    except ImportError:
        pass
    else:
        add_subcommands(sub)
    # calibration (issue 9): eipsim patterns | calibrate
    from eipsim.cli.calibration import add_subcommands as add_calibration

    add_calibration(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    return dispatch(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
