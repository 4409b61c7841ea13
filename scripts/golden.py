"""Write or check the golden summaries of fixed-seed runs of the shipped scenarios.

The architecture and speed work must not change what a run computes. This script stores,
for each shipped scenario and a few seeds, the run summary and a digest of every
timeseries and links column; ``tests/test_golden.py`` re-runs them and compares exactly.
Columns or keys added later are ignored: the golden file fixes only what it holds.

    python scripts/golden.py write     # after a deliberate, named change of results
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from eipsim.scenario.presets import SHIPPED_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "scenarios.json"
SCENARIOS = SHIPPED_SCENARIOS
SEEDS = (1, 2)
STEPS = 120


def digest(col: pd.Series) -> str:
    """A digest of a column's exact values (floats by their bits)."""
    v = col.to_numpy()
    if v.dtype.kind in "fiub":
        data = np.ascontiguousarray(v.astype(np.float64)).tobytes()
    else:
        data = "\x1f".join(map(str, v.tolist())).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def fingerprint(name: str, seed: int) -> dict:
    import eipsim

    sc = eipsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    res = eipsim.run(sc, seed=seed, steps=STEPS)
    return {
        "summary": {k: res.summary[k] for k in sorted(res.summary)},
        "timeseries": {c: digest(res.timeseries[c]) for c in res.timeseries.columns},
        "links": {c: digest(res.links[c]) for c in res.links.columns},
    }


def compute() -> dict:
    return {f"{n}/{s}": fingerprint(n, s) for n in SCENARIOS for s in SEEDS}


if __name__ == "__main__":
    if sys.argv[1:] != ["write"]:
        sys.exit("usage: python scripts/golden.py write")
    GOLDEN.write_text(json.dumps(compute(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
