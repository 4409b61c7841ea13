"""How much spread running over a posterior adds (issue 9).

In a sweep over a posterior (``--posterior DIR``), replicate r of every design point runs at
posterior draw ``r mod K``, so each draw has several seeds at each point. A one-way analysis
of variance per point splits the replicates' spread into the model's noise (between seeds
of one draw) and the parameter uncertainty (between draws):
``var_param = max(var(draw means) - var_within / m, 0)`` with m seeds per draw.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

DRAW_COLUMN = "posterior_draw"


def spread_table(runs: pd.DataFrame, y: pd.Series, outcome: str) -> pd.DataFrame | None:
    """One row: the outcome's mean sd between replicates at a point, and its noise and
    parameter parts (root mean variances over points); None without posterior draws."""
    if DRAW_COLUMN not in runs.columns:
        return None
    df = pd.DataFrame(
        {"point": runs["point"].to_numpy(), "draw": runs[DRAW_COLUMN].to_numpy(), "y": y.to_numpy()}
    ).dropna()
    tot, noise, param = [], [], []
    for _, g in df.groupby("point"):
        if len(g) < 2:
            continue
        tot.append(float(g["y"].var(ddof=1)))
        per = g.groupby("draw")["y"]
        m = float(per.size().mean())
        within = per.var(ddof=1).dropna()
        w = float(within.mean()) if len(within) else math.nan
        b = float(per.mean().var(ddof=1)) if per.ngroups > 1 else math.nan
        noise.append(w)
        param.append(max(b - w / m, 0.0) if math.isfinite(b) and math.isfinite(w) else math.nan)
    if not tot:
        return None

    def rms(v: list[float]) -> float:
        a = np.asarray(v, dtype=float)
        a = a[np.isfinite(a)]
        return float(math.sqrt(a.mean())) if len(a) else math.nan

    t, n, p = rms(tot), rms(noise), rms(param)
    share = (
        p**2 / (p**2 + n**2) if math.isfinite(p) and math.isfinite(n) and p + n > 0 else math.nan
    )
    return pd.DataFrame(
        [
            {
                "outcome": outcome,
                "draws": int(df["draw"].nunique()),
                "sd between replicates": round(t, 4),
                "noise sd (seeds of one draw)": round(n, 4),
                "parameter sd (between draws)": round(p, 4),
                "parameter share of variance": round(share, 3) if math.isfinite(share) else None,
            }
        ]
    )
