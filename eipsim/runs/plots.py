"""PNG plots of a single run: adoption, flows, trust and the EIP score over time.

Figures are built with ``matplotlib.figure.Figure`` directly: no pyplot state and no
backend selection, so importing this module changes nothing for the caller.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


def _figure(height: float = 4.0) -> Figure:
    return Figure(figsize=(7, height))


def run_plots(ts: pd.DataFrame, out: Path, title: str = "") -> list[Path]:
    months = ts["step"]
    figs = []

    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(months, ts["adoption_share"], label="adoption share (firms in symbiosis)")
    ax.set_ylabel("share of firms")
    ax2 = ax.twinx()
    ax2.plot(months, ts["active_links"], color="tab:orange", label="active links")
    ax2.set_ylabel("links")
    ax.set_xlabel("month")
    ax.set_title(f"Adoption - {title}")
    fig.legend(loc="upper left", bbox_to_anchor=(0.1, 0.9))
    figs.append(("adoption.png", fig))

    # Solids, water and energy on their own axes: never one "waste" total.
    fig = _figure(height=8.0)
    ax, wx, ex = fig.subplots(3, 1, sharex=True)
    ax.stackplot(
        months,
        ts["solid_exchanged_t"] / 1e3,
        ts["solid_sold_off_park_t"] / 1e3,
        (ts["solid_landfilled_t"] - ts["solid_sold_off_park_t"]).clip(lower=0) / 1e3,
        labels=["exchanged in the park", "sold off-park (scrap)", "landfilled"],
        alpha=0.8,
    )
    ax.set_ylabel("solids, kt/month")
    ax.set_title(f"Material flows - {title}")
    ax.legend(loc="upper left", fontsize=8)
    wx.plot(months, ts["water_reused_m3"] / 1e3, label="reused by firms")
    wx.plot(months, ts["water_greening_m3"] / 1e3, label="greening", linestyle="--")
    wx.set_ylabel("water, 1000 m3/month")
    wx.legend(loc="upper left", fontsize=8)
    ex.plot(months, ts["energy_exchanged_mwh"], label="energy exchanged")
    ex.plot(months, ts["solar_mwh"], label="solar", linestyle="--")
    ex.set_ylabel("MWh/month")
    ex.set_xlabel("month")
    ex.legend(loc="upper left", fontsize=8)
    figs.append(("flows.png", fig))

    fig = _figure()
    ax = fig.add_subplot()
    ax.plot(months, ts["mean_trust_same_nationality"], label="within nationality")
    ax.plot(months, ts["mean_trust_cross_nationality"], label="across nationalities")
    ax.plot(months, ts["mean_trust_in_operator"], label="in the operator", linestyle="--")
    ax.set_ylim(0, 1)
    ax.set_ylabel("mean trust")
    ax.set_xlabel("month")
    ax.set_title(f"Trust - {title}")
    ax.legend()
    figs.append(("trust.png", fig))

    fig = _figure()
    ax = fig.add_subplot()
    ax.step(months, ts["eip_score"], where="post", label="share of EIP criteria met")
    ax.axhline(1.0, color="grey", linestyle=":", label="certification (all criteria)")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("month")
    ax.set_title(f"EIP assessment - {title}")
    ax.legend()
    figs.append(("eip.png", fig))

    paths = []
    for name, f in figs:
        f.tight_layout()
        p = out / name
        f.savefig(p, dpi=110)
        paths.append(p)
    return paths
