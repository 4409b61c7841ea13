"""Solara components of the app: park map, network, charts, summary.

Each component takes the session's model and a ``tick`` reactive that the controller bumps
after every step (the model changes in place), so only these panels re-render each month,
not the sidebar. What does not change within a run is memoised per model.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd
import solara

from eipsim.scenario.catalogue import load_catalogue
from eipsim.viz.drawing import (
    MapStatic,
    NetworkLayout,
    Snapshot,
    chart_svg,
    material_colour,
    network_svg,
    park_svg,
    snapshot,
)
from eipsim.viz.i18n import kpi_name, material_name, t


def use_snapshot(model: Any, tick: int) -> Snapshot:
    """One read of the model per month, shared by the map and the network."""
    return solara.use_memo(lambda: snapshot(model), [model, tick])


@solara.component
def Legend(items: list[tuple[str, str]], shape: str = "square"):
    """A row of colour swatches (HTML, so it wraps with the page width)."""
    radius = "50%" if shape == "dot" else "2px"
    height = "3px" if shape == "line" else "11px"
    html = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:0 10px 2px 0;'
        f'font-size:12px"><span style="display:inline-block;width:12px;height:{height};'
        f'background:{c};border-radius:{radius};margin-right:4px"></span>{escape(label)}</span>'
        for c, label in items
    )
    solara.HTML(tag="div", unsafe_innerHTML=html, style="line-height:1.4")


@solara.component
def ParkMap(model: Any, scenario: Any, tick: solara.Reactive[int], lang: str, mode: str):
    snap = use_snapshot(model, tick.value)
    static = solara.use_memo(
        lambda: MapStatic(
            model,
            list(scenario.firms.nationality_mix),
            list(scenario.firms.sector_mix),
            lang,
        ),
        [model, lang],
    )
    svg = park_svg(static, snap, mode, lang)
    present = sorted({(f.sector if mode == "sector" else f.nationality) for f in snap.firms})
    if mode == "sector":
        order = list(load_catalogue().sectors)
        present.sort(key=lambda s: order.index(s) if s in order else len(order))
    solara.HTML(tag="div", unsafe_innerHTML=svg, classes=["eip-map-box"])
    Legend(static.legend_items(mode, present) + [("#e4e4e4", t("vacant", lang))])


@solara.component
def MaterialLegend(lang: str):
    cat = load_catalogue()
    Legend([(material_colour(m), material_name(m, lang)) for m in cat.materials], shape="line")


@solara.component
def NetworkGraph(model: Any, scenario: Any, tick: solara.Reactive[int], lang: str, mode: str):
    snap = use_snapshot(model, tick.value)
    layout = solara.use_memo(
        lambda: NetworkLayout(model, dict(scenario.firms.sector_mix), lang), [model, lang]
    )
    static = solara.use_memo(
        lambda: MapStatic(
            model, list(scenario.firms.nationality_mix), list(scenario.firms.sector_mix), lang
        ),
        [model, lang],
    )
    colours = static.sector_colours if mode == "sector" else static.nat_colours
    solara.HTML(
        tag="div",
        unsafe_innerHTML=network_svg(layout, snap, colours, mode, lang),
        classes=["eip-network-box"],
    )


def certification_line(model: Any) -> float | None:
    """Where the EIP score counts as certifiable: the model's own line if it states one,
    else all criteria met (score 1)."""
    for name in ("certification_line", "eip_certification_score"):
        v = getattr(model, name, None)
        if isinstance(v, int | float):
            return float(v)
    return 1.0


@solara.component
def Chart(key: str, df: pd.DataFrame, lang: str, horizon: int, certification: float | None = None):
    svg = chart_svg(key, df, lang, horizon, certification=certification)
    solara.HTML(
        tag="div", unsafe_innerHTML=svg, classes=["eip-chart", f"eip-{key.replace('_', '-')}"]
    )


def bold(text: str) -> Any:
    """A small heading without solara.Markdown, which fetches KaTeX from a CDN."""
    return solara.HTML(
        tag="div", unsafe_innerHTML=f"<b>{escape(text)}</b>", style="margin:6px 0 2px 0"
    )


@solara.component
def Charts(model: Any, tick: solara.Reactive[int], lang: str, horizon: int):
    tick.value  # noqa: B018  (subscribe: re-render after each step)
    df = model.datacollector.get_model_vars_dataframe()
    if "step" not in df.columns:
        df = df.reset_index(drop=True)
        df.insert(0, "step", range(model.steps - len(df) + 1, model.steps + 1))
    df = df[df["step"] >= 1] if len(df) else df
    if df.empty:
        solara.Info(t("no_data", lang))
    with solara.Columns([1, 1]):
        Chart("chart_adoption", df, lang, horizon)
        Chart("chart_tonnes", df, lang, horizon)
    with solara.Columns([1, 1]):
        Chart("chart_trust", df, lang, horizon)
        Chart("chart_eip", df, lang, horizon, certification=certification_line(model))


def _kpi_value(v: Any) -> str:
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return str(v)


@solara.component
def Summary(model: Any, tick: solara.Reactive[int], lang: str, run_lines: list[str]):
    """Current KPIs, the last EIP assessment (criterion by criterion) and this run's settings."""
    tick.value  # noqa: B018
    metrics = dict(getattr(model, "metrics", {}) or {})
    assessment = dict(getattr(model, "assessment", {}) or {})
    rows = "".join(
        f"<tr><td>{kpi_name(k, lang)}</td><td style='text-align:right'>{_kpi_value(v)}</td></tr>"
        for k, v in metrics.items()
        if k != "step"
    )
    with solara.Columns([1, 1]):
        with solara.Column():
            bold(t("kpis", lang))
            solara.HTML(
                tag="table",
                unsafe_innerHTML=rows,
                classes=["eip-kpis"],
                style="font-size:13px;border-collapse:separate;border-spacing:8px 1px;width:100%",
            )
        with solara.Column():
            bold(t("criteria", lang))
            if not assessment:
                every = _assessment_every(model)
                solara.Text(t("criteria_none", lang, every=every), classes=["eip-criteria-none"])
            else:
                met = sum(1 for v in assessment.values() if _crit(v)[2])
                solara.Text(
                    t("criteria_count", lang, met=met, total=len(assessment)),
                    classes=["eip-criteria-count"],
                )
                body = "".join(_criterion_row(k, v, lang) for k, v in assessment.items())
                head = (
                    f"<tr><th style='text-align:left'>{t('criterion', lang)}</th><th>"
                    f"{t('value', lang)}</th><th>{t('threshold', lang)}</th><th></th></tr>"
                )
                solara.HTML(
                    tag="table",
                    unsafe_innerHTML=head + body,
                    classes=["eip-criteria"],
                    style="font-size:13px;border-collapse:separate;border-spacing:8px 1px;width:100%",
                )
            items = "".join(f"<li>{escape(line)}</li>" for line in run_lines)
            solara.HTML(
                tag="ul",
                unsafe_innerHTML=items,
                classes=["eip-run-settings"],
                style="font-size:13px;margin-top:8px",
            )


def _assessment_every(model: Any) -> int:
    for name in ("scenario_config", "config", "sc", "eip_scenario"):
        sc = getattr(model, name, None)
        if sc is not None and hasattr(sc, "government"):
            return int(sc.government.assessment.every_months)
    return 12


def _crit(v: Any) -> tuple[Any, Any, bool, str]:
    """An assessment entry as (value, threshold, met, source), tolerating dict entries."""
    if isinstance(v, dict):
        return v.get("value"), v.get("threshold"), bool(v.get("met")), str(v.get("source", ""))
    value, threshold, met, *rest = tuple(v) + ("",) * 4
    return value, threshold, bool(met), str(rest[0] if rest else "")


def _criterion_row(name: str, v: Any, lang: str) -> str:
    value, threshold, met, source = _crit(v)
    mark = (
        f"<span style='color:#2e7d32'>✓ {t('met', lang)}</span>"
        if met
        else f"<span style='color:#c62828'>✗ {t('not_met', lang)}</span>"
    )
    return (
        f"<tr title='{escape(source, quote=True)}'><td>{kpi_name(name, lang)}</td>"
        f"<td style='text-align:right'>{_kpi_value(value)}</td>"
        f"<td style='text-align:right'>{_kpi_value(threshold)}</td><td>{mark}</td></tr>"
    )
