"""Posterior draws for sweeps (issue 9): replicate r of every design point runs at draw r.

A calibration folder (written by ``eipsim calibrate``) holds ``posterior.parquet``:
generation, particle, weight and one column per calibrated dotted key. A sweep with
``posterior: DIR`` (or ``--posterior DIR``) draws ``replicates`` particles of the last
generation by weight, with a stream of its own from the experiment's root seed, adds the
calibration's fixed overrides (the mechanisms it switched on; the posterior is conditional
on them) from ``calibration.json``, and runs
replicate r of every point at draw r: the same draws at every point, so differences
between points are paired, and the spread between replicates now carries the parameter
uncertainty as well as the model's noise. The framework reads the Parquet file itself; it
does not import the calibration package (the layers in docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from eipsim.errors import UserError

POSTERIOR_FILE = "posterior.parquet"
CALIBRATION_MANIFEST = "calibration.json"
_DRAW_TAG = 0x9057_E410


def posterior_draws(folder: str | Path, n: int, root_seed: int) -> list[dict[str, Any]]:
    """``n`` particles of the posterior's last generation, drawn by weight with replacement."""
    import pandas as pd

    p = Path(folder) / POSTERIOR_FILE
    if not Path(folder).is_dir():
        raise UserError(f"posterior: {folder}: not a folder (give an `eipsim calibrate` output)")
    if not p.is_file():
        raise UserError(f"posterior: {folder}: no {POSTERIOR_FILE}; not a calibration folder")
    try:
        df = pd.read_parquet(p)
    except (OSError, ValueError) as err:
        raise UserError(f"posterior: {p}: unreadable ({err})") from None
    need = {"generation", "weight"}
    if not need <= set(df.columns) or df.empty:
        raise UserError(f"posterior: {p}: not a posterior table (needs generation, weight)")
    last = df[df["generation"] == df["generation"].max()].reset_index(drop=True)
    keys = [c for c in last.columns if c not in ("generation", "particle", "weight")]
    if not keys:
        raise UserError(f"posterior: {p}: no parameter columns")
    w = last["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise UserError(f"posterior: {p}: weights are not a distribution")
    rng = np.random.default_rng(np.random.SeedSequence([int(root_seed), _DRAW_TAG]))
    idx = rng.choice(len(last), size=int(n), replace=True, p=w / w.sum())
    fixed = fixed_overrides(folder)
    return [{**fixed, **{k: _plain(last.loc[int(i), k]) for k in keys}} for i in idx]


def fixed_overrides(folder: str | Path) -> dict[str, Any]:
    """The calibration's fixed overrides (the mechanisms it switched on): the posterior is
    conditional on them, so every run at a draw switches them on too."""
    import json

    m = Path(folder) / CALIBRATION_MANIFEST
    if not m.is_file():
        return {}
    try:
        data = json.loads(m.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"posterior: {m}: unreadable") from None
    ov = (data.get("resolved") or {}).get("overrides") or {}
    if not isinstance(ov, dict):
        raise UserError(f"posterior: {m}: resolved.overrides is not a mapping")
    return dict(ov)


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v
