"""One sha256 per run of the shipped scenarios, to check that a speed-up changes nothing.

Each digest covers a run's full timeseries, links table and summary (floats by their
bits), for the five shipped scenarios x seeds 1, 2, as shipped and under the first
version's rules (``eipsim.scenario.presets.FIRST_VERSION``).

    python benchmarks/digest_runs.py | diff benchmarks/reference/run_digests.txt -

``benchmarks/reference/run_digests.txt`` holds the digests of the tree the speed work
started from; a change that alters results on purpose re-writes it and says so.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from eipsim.scenario.presets import FIRST_VERSION, SHIPPED_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = SHIPPED_SCENARIOS
SEEDS = (1, 2)


def _frame_bytes(frame: pd.DataFrame) -> bytes:
    """A table's column names and exact values (numbers by their float64 bits)."""
    parts = []
    for c in frame.columns:
        v = frame[c].to_numpy()
        parts.append(str(c).encode())
        if v.dtype.kind in "fiub":
            parts.append(np.ascontiguousarray(v.astype(np.float64)).tobytes())
        else:
            parts.append("\x1f".join(map(str, v.tolist())).encode())
    return b"\x1e".join(parts)


def digest(name: str, seed: int, overrides: dict[str, Any]) -> str:
    import eipsim

    sc = eipsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    if overrides:
        sc = sc.with_overrides(overrides)
    res = eipsim.run(sc, seed=seed, steps=120)
    h = hashlib.sha256()
    h.update(_frame_bytes(res.timeseries))
    h.update(_frame_bytes(res.links))
    h.update(repr(sorted(res.summary.items())).encode())
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--only", choices=("shipped", "first_version"), help="one configuration")
    a = ap.parse_args()
    configs = {"shipped": {}, "first_version": FIRST_VERSION}
    for label, ov in configs.items():
        if a.only and a.only != label:
            continue
        for name in SCENARIOS:
            for seed in SEEDS:
                print(f"{label:<14}{name:<24}{seed:>2} {digest(name, seed, ov)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
