"""Argument parsing shared by every eipsim subcommand, and the exit codes.

Exit codes (docs/GUARANTEES.md): 0 success; 2 a user error (bad file, key, value or
argument), printed as one ``error: ...`` line; 3 a sweep that finished but some of its runs
failed (their errors are in the sweep folder); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from eipsim.errors import UserError
from eipsim.scenario.overrides import parse_overrides

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_RUNS_FAILED",
    "EXIT_USER_ERROR",
    "MAX_WORKERS",
    "add_backend_options",
    "bounded_int",
    "dispatch",
    "nonneg_int",
    "parse_overrides",
    "pos_int",
    "real",
]

EXIT_OK = 0
EXIT_USER_ERROR = 2
EXIT_RUNS_FAILED = 3
EXIT_INTERRUPTED = 130
MAX_WORKERS = 4096


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def nonneg_int(text: str) -> int:
    v = _whole(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {v}")
    return v


def pos_int(text: str) -> int:
    v = nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for a whole number in [low, high]; the bound is in the message."""

    def parse(text: str) -> int:
        v = _whole(text)
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {low} to {high:,}, got {v:,}"
                if abs(v) < 10**30
                else f"expected a whole number from {low} to {high:,}, got a {len(str(v))}-digit number"
            )
        return v

    parse.__name__ = "whole number"
    return parse


def real(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed subcommand: a UserError is one line on stderr and exit code 2."""
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as err:  # a full disk, a read-only or vanished folder: the user's to fix
        where = f"{err.filename}: " if err.filename else ""
        print(f"error: {where}{err.strerror or err}", file=sys.stderr)
        return EXIT_USER_ERROR


def add_backend_options(p: argparse.ArgumentParser) -> None:
    """Where the runs go (sweeps, sensitivity and calibration alike): how many local worker
    processes, or a dask.distributed cluster."""
    p.add_argument(
        "--workers",
        type=bounded_int(1, MAX_WORKERS),
        metavar="N",
        help="worker processes (default: all cores)",
    )
    p.add_argument(
        "--backend",
        choices=("local", "dask"),
        default="local",
        help="local processes (default) or dask.distributed (pip install 'eipsim[cluster]')",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a LocalCluster)",
    )
