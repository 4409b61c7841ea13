"""Incremental versus dense trust group means on the shipped scenarios (prints figures).

``TrustMatrix(n, incremental_means=True)`` keeps per-row sums of trust by nationality and
adds each update to them, instead of forming ``G^T T G`` every month. The sums are taken in
another order, so ``mean_trust_same_nationality`` and ``mean_trust_cross_nationality`` can
differ from the dense ones in the last bits. Nothing in the model reads them back, so every
other column of the run must be bit-identical. This script checks that and prints, per
scenario, the largest absolute and relative difference of the two indicators.

    python benchmarks/compare_trust_means.py              # 5 scenarios x seeds 1..8
    python benchmarks/compare_trust_means.py --seeds 32
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import numpy as np

from eipsim.scenario.presets import SHIPPED_SCENARIOS

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = SHIPPED_SCENARIOS
MEANS = ["mean_trust_same_nationality", "mean_trust_cross_nationality"]


def run(name: str, seed: int, incremental: bool):
    import eipsim
    import eipsim.domain.model as model_mod
    from eipsim.domain.trust import TrustMatrix

    cls = functools.partial(TrustMatrix, incremental_means=incremental)
    model_mod.TrustMatrix = cls  # type: ignore[misc,assignment]
    sc = eipsim.load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return eipsim.run(sc, seed=seed, steps=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    print(f"{'scenario':<24}{'runs':>5}{'other columns':>15}{'max |diff|':>12}{'max rel':>10}")
    ok = True
    for name in SCENARIOS:
        same_rest, dmax, rmax = True, 0.0, 0.0
        for seed in range(1, a.seeds + 1):
            d = run(name, seed, incremental=False)
            i = run(name, seed, incremental=True)
            same_rest &= d.timeseries.drop(columns=MEANS).equals(i.timeseries.drop(columns=MEANS))
            same_rest &= d.links.equals(i.links)
            x, y = d.timeseries[MEANS].to_numpy(), i.timeseries[MEANS].to_numpy()
            assert np.array_equal(np.isnan(x), np.isnan(y))
            diff = np.abs(x - y)[~np.isnan(x)]
            dmax = max(dmax, float(diff.max(initial=0.0)))
            rmax = max(rmax, float((diff / np.abs(x[~np.isnan(x)])).max(initial=0.0)))
        ok &= same_rest
        print(
            f"{name:<24}{a.seeds:>5}{'identical' if same_rest else 'DIFFERENT':>15}"
            f"{dmax:>12.1e}{rmax:>10.1e}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
