"""Fixed-seed runs of the five shipped scenarios are bit-identical to the stored golden
fingerprints (summaries and a digest of every timeseries and links column).

A deliberate change of results re-writes the file with ``python scripts/golden.py write``
and names the change in the commit message; the check covers only the keys and columns the
file holds, so added indicators do not break it."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(golden)
STORED = json.loads(golden.GOLDEN.read_text())


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@pytest.mark.parametrize("key", sorted(STORED))
def test_golden_run_is_unchanged(key):
    name, seed = key.split("/")
    now = golden.fingerprint(name, int(seed))
    want = STORED[key]
    diff = [k for k, v in want["summary"].items() if not _same(now["summary"].get(k), v)]
    assert not diff, {k: (want["summary"][k], now["summary"].get(k)) for k in diff}
    for table in ("timeseries", "links"):
        changed = [c for c, d in want[table].items() if now[table].get(c) != d]
        assert not changed, f"{table} columns changed: {changed}"
