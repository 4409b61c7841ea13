"""Argument parsing shared by every eipsim subcommand."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from eipsim.errors import UserError


def nonneg_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {v}")
    return v


def pos_int(text: str) -> int:
    v = nonneg_int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {v}")
    return v


def real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed subcommand: a UserError is one line on stderr and exit code 2."""
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs to a dict; values parsed with YAML rules."""
    from eipsim.scenario.schema import parse_value

    out: dict[str, Any] = {}
    for p in pairs or []:
        if "=" not in p:
            raise UserError(
                f"--set {p!r}: expected KEY=VALUE, e.g. government.landfill_tax_usd_per_t=20"
            )
        k, v = p.split("=", 1)
        out[k.strip()] = parse_value(v)
    return out
