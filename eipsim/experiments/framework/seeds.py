"""Seeds of a sweep, derived so results never depend on worker count, backend or order.

Each run's seed comes from ``numpy.random.SeedSequence(root).spawn``: the child for design
point ``p`` and replicate ``r`` is the sequence with spawn key ``(p, r)``, i.e. exactly
``SeedSequence(root).spawn(P)[p].spawn(R)[r]`` for any ``P > p`` and ``R > r``. We build it
directly from the spawn key so that a run's seed costs O(1) and depends only on the root
seed, its point and its replicate, not on how many points or replicates the sweep has.
"""

from __future__ import annotations

import numpy as np

# Tag that separates the design sampler's stream from the runs' streams.
_DESIGN_TAG = 0x5EED_DE51


def run_seed_sequence(root: int, point: int, replicate: int) -> np.random.SeedSequence:
    """The SeedSequence of one run: ``SeedSequence(root).spawn(...)[point].spawn(...)[replicate]``."""
    return np.random.SeedSequence(int(root), spawn_key=(int(point), int(replicate)))


def run_seed(root: int, point: int, replicate: int, common_random_numbers: bool = False) -> int:
    """Integer model seed (63 bits, fits Parquet int64) of one run.

    With common random numbers every point of a replicate shares one seed, which lowers the
    noise in comparisons between points (a standard variance-reduction device).
    """
    p = 0 if common_random_numbers else point
    state = run_seed_sequence(root, p, replicate).generate_state(1, dtype=np.uint64)[0]
    return int(state >> np.uint64(1))


def run_seeds(
    root: int, n_points: int, n_replicates: int, common_random_numbers: bool = False
) -> np.ndarray:
    """Seeds of all runs, ordered by run id = point * n_replicates + replicate."""
    out = np.empty(n_points * n_replicates, dtype=np.int64)
    for p in range(n_points):
        for r in range(n_replicates):
            out[p * n_replicates + r] = run_seed(root, p, r, common_random_numbers)
    return out


def design_seed(root: int) -> int:
    """Seed for the design sampler (LHS, Saltelli scrambling, Morris trajectories, FAST phases)."""
    ss = np.random.SeedSequence([int(root), _DESIGN_TAG])
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def analysis_seed(root: int) -> int:
    """Seed for bootstrap resampling in the sensitivity analysers."""
    ss = np.random.SeedSequence([int(root), _DESIGN_TAG, 1])
    return int(ss.generate_state(1, dtype=np.uint32)[0])
