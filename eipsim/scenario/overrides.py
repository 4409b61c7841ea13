"""Dotted scenario keys (``government.landfill_tax_usd_per_t``) and ``--set KEY=VALUE``.

The command line, experiment files and the browser all change a scenario through these, so
a value given on the command line is parsed and checked exactly like one in a file.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import yaml

from eipsim.errors import UserError
from eipsim.scenario.yamlio import parse_yaml

# dict-valued leaves whose entries may be set one by one, e.g. firms.sector_mix.steel
OPEN_MAPPINGS = ("_mix", "_by_nationality")


def check_key(key: str, keys: Iterable[str]) -> None:
    """Refuse an unknown dotted key, suggesting close matches."""
    keys = list(keys)
    if key in keys:
        return
    if any(key.startswith(k + ".") and k.endswith(OPEN_MAPPINGS) for k in keys):
        return
    close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise UserError(f"unknown scenario key {key!r}{hint}")


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """Set ``a.b.c`` in nested dicts, creating (or replacing non-dict) parents."""
    parts = key.split(".")
    node = data
    for p in parts[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[parts[-1]] = value


def get_dotted(data: dict[str, Any], key: str) -> Any:
    """The value at ``a.b.c`` in nested dicts, or None."""
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def parse_value(text: str) -> Any:
    """Parse a CLI value with YAML rules: 20 -> int, true -> bool, [a, b] -> list.

    Text that is not valid YAML stays text; the schema then says what it expected.
    """
    try:
        return parse_yaml(text)
    except (yaml.YAMLError, RecursionError):
        return text


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs to a dict; values parsed with YAML rules."""
    out: dict[str, Any] = {}
    for p in pairs or []:
        k, eq, v = p.partition("=")
        if not eq or not k.strip():
            raise UserError(
                f"--set {p!r}: expected KEY=VALUE, e.g. government.landfill_tax_usd_per_t=20"
            )
        key = k.strip()
        if key in out:
            raise UserError(f"--set {key}: given twice")
        out[key] = parse_value(v)
    return out
