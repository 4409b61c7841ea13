"""Generated reference docs match the registries they are generated from."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_indicator_reference_is_current():
    mod = _script("indicator_docs")
    assert mod.OUT.read_text() == mod.render(), "run: python scripts/indicator_docs.py"


def test_every_indicator_has_a_unit_and_a_label():
    from eipsim.domain.indicators import INDICATORS, SUMMARY_KEYS, TIMESERIES_COLUMNS

    assert len(set(TIMESERIES_COLUMNS)) == len(TIMESERIES_COLUMNS)
    assert len(set(SUMMARY_KEYS)) == len(SUMMARY_KEYS)
    assert all(i.unit and i.label for i in INDICATORS)
