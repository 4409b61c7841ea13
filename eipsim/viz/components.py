"""Solara components of the app: park map, network, charts, firm panel, comparison, summary.

Each component takes the session's model and a ``tick`` reactive that the controller bumps
when the page should show the model's new month (the model changes in place), so only these
panels re-render, not the sidebar. What does not change within a run is memoised per model.
The map, the network and the charts are SVG strings drawn in ``drawing.py``, shown by one
small Vue component (``svgbox.vue``) that reports clicks on firms and saves charts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
import solara

from eipsim.scenario.catalogue import load_catalogue
from eipsim.viz.drawing import (
    Layer,
    MapStatic,
    Marker,
    NetworkLayout,
    Snapshot,
    chart_svg,
    material_colour,
    network_svg,
    park_svg,
    quantity,
    snapshot,
    width_legend_svg,
)
from eipsim.viz.i18n import (
    facility_name,
    firm_name,
    kpi_name,
    material_name,
    num,
    sector_name,
    t,
)
from eipsim.viz.panels import Panel


@solara.component_vue(str(Path(__file__).with_name("svgbox.vue")))
def SvgBox(
    svg: str,
    clickable: bool = False,
    filename: str = "",
    box_class: str = "",
    event_select: Callable[[int], None] | None = None,
):
    """An SVG; clicks on ``data-slot`` elements call ``event_select(slot)``; with a
    ``filename`` it offers SVG and PNG downloads."""


def tick_value(tick: Any) -> int:
    """The month counter: a reactive (read, so the component re-renders when it changes;
    Mesa's ``update_counter`` works too) or a plain number."""
    return int(tick.value) if hasattr(tick, "value") else int(tick)


def use_snapshot(model: Any, tick: Any) -> Snapshot:
    """One read of the model per month, shared by the map, the network and the panel."""
    n = tick_value(tick)
    return solara.use_memo(lambda: snapshot(model), [model, n])


def html(text: str, classes: list[str] | None = None, style: str = "", tag: str = "div") -> Any:
    return solara.HTML(tag=tag, unsafe_innerHTML=text, classes=classes or [], style=style)


def bold(text: str) -> Any:
    """A small heading without solara.Markdown, which fetches KaTeX from a CDN."""
    return html(f"<b>{escape(text)}</b>", style="margin:6px 0 2px 0")


@solara.component
def Legend(items: list[tuple[str, str]], shape: str = "square"):
    """A row of colour swatches (HTML, so it wraps with the page width)."""
    radius = "50%" if shape == "dot" else "2px"
    height = "3px" if shape == "line" else "11px"
    text = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:0 10px 2px 0;'
        f'font-size:12px"><span style="display:inline-block;width:12px;height:{height};'
        f'background:{c};border-radius:{radius};margin-right:4px"></span>{escape(label)}</span>'
        for c, label in items
    )
    html(text, style="line-height:1.4")


def _static(model: Any, scenario: Any, lang: str) -> MapStatic:
    return MapStatic(
        model, list(scenario.firms.nationality_mix), list(scenario.firms.sector_mix), lang
    )


@solara.component
def ParkMap(
    model: Any,
    scenario: Any,
    tick: Any,
    lang: str,
    mode: str,
    selected: int | None = None,
    materials: frozenset[str] | None = None,
    on_select: Callable[[int], None] | None = None,
):
    snap = use_snapshot(model, tick)
    static = solara.use_memo(lambda: _static(model, scenario, lang), [model, lang])
    svg = park_svg(static, snap, mode, lang, selected=selected, materials=materials)
    present = sorted({(f.sector if mode == "sector" else f.nationality) for f in snap.firms})
    if mode == "sector":
        order = list(load_catalogue().sectors)
        present.sort(key=lambda s: order.index(s) if s in order else len(order))
    SvgBox(svg=svg, clickable=True, box_class="eip-map-box", event_select=on_select)
    Legend(static.legend_items(mode, present) + [("#e4e4e4", t("vacant", lang))])


@solara.component
def NetworkGraph(
    model: Any,
    scenario: Any,
    tick: Any,
    lang: str,
    mode: str,
    selected: int | None = None,
    materials: frozenset[str] | None = None,
    on_select: Callable[[int], None] | None = None,
):
    snap = use_snapshot(model, tick)
    layout = solara.use_memo(
        lambda: NetworkLayout(model, dict(scenario.firms.sector_mix), lang), [model, lang]
    )
    static = solara.use_memo(lambda: _static(model, scenario, lang), [model, lang])
    colours = static.sector_colours if mode == "sector" else static.nat_colours
    SvgBox(
        svg=network_svg(layout, snap, colours, mode, lang, selected=selected, materials=materials),
        clickable=True,
        box_class="eip-network-box",
        event_select=on_select,
    )


@solara.component
def MaterialFilter(materials: solara.Reactive[frozenset[str] | None], lang: str):
    """Which materials' links the map and network show; and the key to line width."""
    cat = load_catalogue()
    names = {material_name(m, lang): m for m in cat.materials}
    chosen = [material_name(m, lang) for m in (materials.value or ())]

    def pick(labels: list[str]) -> None:
        ms = frozenset(names[x] for x in labels if x in names)
        materials.set(ms or None)

    solara.SelectMultiple(
        f"{t('filter_materials', lang)} ({t('all_materials', lang)} = ∅)",
        values=chosen,
        all_values=list(names),
        on_value=pick,
        dense=True,
        classes=["eip-material-filter"],
    )
    Legend([(material_colour(m), material_name(m, lang)) for m in cat.materials], shape="line")
    html(
        f"<div style='font-size:12px'>{escape(t('line_width', lang))}</div>"
        + width_legend_svg(lang),
        classes=["eip-width-key"],
    )


def certification_line(model: Any) -> float | None:
    """Where the EIP score counts as certifiable: the model's own line if it states one,
    else all criteria met (score 1)."""
    for name in ("certification_line", "eip_certification_score"):
        v = getattr(model, name, None)
        if isinstance(v, int | float):
            return float(v)
    return 1.0


def model_frame(model: Any) -> pd.DataFrame:
    df = model.datacollector.get_model_vars_dataframe()
    if "step" not in df.columns:
        df = df.reset_index(drop=True)
        df.insert(0, "step", range(model.steps - len(df) + 1, model.steps + 1))
    return df[df["step"] >= 1] if len(df) else df


@dataclass
class ChartData:
    """What the charts overlay: this run, the reference run, and their ensembles' bands."""

    current: pd.DataFrame
    reference: pd.DataFrame | None = None
    bands: dict[str, pd.DataFrame] | None = None
    ref_bands: dict[str, pd.DataFrame] | None = None


@solara.component
def Charts(
    data: ChartData,
    panels: list[Panel],
    lang: str,
    horizon: int,
    markers: list[Marker],
    certification: float | None = 1.0,
    stem: str = "eipsim",
):
    if data.current.empty and data.reference is None and not data.bands:
        solara.Info(t("no_data", lang), dense=True)
    layers = [Layer(t("this_run", lang), data.current, data.bands or {})]
    if data.reference is not None or data.ref_bands:
        layers.append(Layer(t("reference", lang), data.reference, data.ref_bands or {}, True))
    with solara.Div(classes=["eip-chart-grid"]):
        for p in panels:
            svg = chart_svg(
                p.title(lang),
                p.series(lang),
                p.kind,
                layers,
                lang,
                horizon,
                markers,
                certification=certification if p.key == "eip_score" else None,
                css=f"eip-chart-{p.key.replace('_', '-')}",
            )
            SvgBox(
                svg=svg,
                filename=f"{stem}-{p.key}",
                box_class=f"eip-chart eip-{p.key.replace('_', '-')}",
            )


def _kpi_value(v: Any, lang: str) -> str:
    if isinstance(v, bool):
        return "✓" if v else "✗"
    if isinstance(v, int):
        return num(v, lang, 0)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "–"
        return num(v, lang) if abs(v) >= 1 else num(v, lang, 3, trim=True)
    return str(v)


def _table(head: list[str], rows: list[list[str]], classes: list[str]) -> Any:
    th = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return html(
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody>",
        classes=classes,
        style="font-size:12px;border-collapse:separate;border-spacing:6px 1px;width:100%",
        tag="table",
    )


@solara.component
def FirmPanel(model: Any, tick: Any, slot: int, lang: str, on_close: Callable[[], None]):
    """Everything about one firm: who it is, its streams, trust toward its partners, its
    links with material, tonnes and benefit, and why its candidate links did not form."""
    snap = use_snapshot(model, tick)
    firm = next((f for f in snap.firms if f.slot == slot), None)
    with solara.Row(style="align-items:center"):
        bold(firm_name(firm.name, firm.sector, lang) if firm else f"#{slot}")
        solara.Button(t("close", lang), text=True, on_click=on_close, classes=["eip-close"])
    if firm is None:
        solara.Text(t("vacant", lang))
        return
    cat = load_catalogue()
    sec = sector_name(firm.sector, cat.sector_labels.get(firm.sector, firm.sector), lang)
    lines = [
        f"{t('sector', lang)}: {sec}",
        f"{t('nationality', lang)}: {firm.nationality}",
        f"{t('size', lang)}: {num(firm.size, lang, 2)}",
    ]
    if firm.listed:
        lines.append(t("listed", lang))
    if firm.recp:
        lines.append(t("recp", lang))
    for fc in snap.facilities:
        if fc.built and firm.slot in fc.users:
            lines.append(f"{t('facility', lang)}: {facility_name(fc.kind, lang)}")
    html("<br>".join(escape(x) for x in lines), style="font-size:13px")
    st = snap.streams.get(slot) or {}
    rows = []
    for key in ("supplies", "demands"):
        for m, q in (st.get(key) or {}).items():
            rows.append(
                [escape(t(key, lang)), escape(material_name(m, lang)), quantity(q, m, lang)]
            )
    bold(t("streams", lang))
    _table(
        [t("direction", lang), t("material", lang), t("last_month", lang)], rows, ["eip-streams"]
    )

    mine = [lk for lk in snap.links if slot in (lk.s_slot, lk.u_slot)]
    benefit = _benefits(model)
    link_rows, partners = [], {}
    for lk in mine:
        out = lk.s_slot == slot
        oname = firm_name(*((lk.u_name, lk.u_sector) if out else (lk.s_name, lk.s_sector)), lang)
        oslot = lk.u_slot if out else lk.s_slot
        partners[oslot] = oname
        b = benefit.get((lk.s_uid, lk.u_uid, lk.material))
        link_rows.append(
            [
                ("→ " if out else "← ") + escape(oname),
                escape(material_name(lk.material, lang)),
                quantity(lk.tonnes, lk.material, lang),
                num(b, lang, 0) if b is not None else "–",
            ]
        )
    bold(f"{t('links', lang)} ({len(mine)})")
    if link_rows:
        _table(
            [
                t("partner", lang),
                t("material", lang),
                t("last_month", lang),
                t("benefit_so_far", lang),
            ],
            link_rows,
            ["eip-firm-links"],
        )
    else:
        solara.Text(t("no_links", lang), style="font-size:12px")
    if partners and snap.trust is not None:
        bold(t("trust", lang))
        _table(
            [t("partner", lang), t("trust_in_them", lang), t("their_trust", lang)],
            [
                [
                    escape(n),
                    num(float(snap.trust[slot, p]), lang, 2),
                    num(float(snap.trust[p, slot]), lang, 2),
                ]
                for p, n in partners.items()
            ],
            ["eip-firm-trust"],
        )
    bold(t("candidates", lang))
    explain = getattr(model, "explain_candidates", None)
    if explain is None:
        solara.Text(t("not_available", lang), classes=["eip-candidates-na"], style="font-size:12px")
        return
    try:
        cands = list(explain(slot))
    except Exception as exc:  # the panel must not break the page
        solara.Text(f"{t('not_available', lang)} ({type(exc).__name__})", style="font-size:12px")
        return
    if not cands:
        solara.Text(t("no_candidates", lang), style="font-size:12px")
        return
    names = {f.slot: firm_name(f.name, f.sector, lang) for f in snap.firms}
    order = ["ok", "trust", "confidentiality", "economics", "permit", "not known"]
    counts: dict[str, int] = {}
    for c in cands:
        counts[str(c.get("reason", ""))] = counts.get(str(c.get("reason", "")), 0) + 1
    solara.Text(
        ", ".join(
            f"{_reason(r, lang)}: {n}"
            for r, n in sorted(
                counts.items(), key=lambda p: order.index(p[0]) if p[0] in order else 99
            )
        ),
        classes=["eip-candidates-summary"],
        style="font-size:12px",
    )
    ranked = sorted(
        cands,
        key=lambda c: (
            order.index(str(c.get("reason"))) if c.get("reason") in order else 99,
            -float(c.get("benefit_usd", 0.0) or 0.0),
        ),
    )
    crow = []
    for c in ranked[:25]:
        role = str(c.get("role", ""))
        crow.append(
            [
                escape(names.get(int(c.get("partner_slot", -1)), str(c.get("partner_name", "")))),
                escape(t(f"role_{role}", lang) if role in ("supplies", "uses") else role),
                escape(material_name(str(c.get("material", "")), lang)),
                num(float(c.get("benefit_usd", math.nan)), lang, 0),
                escape(_reason(str(c.get("reason", "")), lang)),
            ]
        )
    _table(
        [t("partner", lang), t("role", lang), t("material", lang), "USD", t("reason", lang)],
        crow,
        ["eip-candidates"],
    )


def _reason(reason: str, lang: str) -> str:
    key = f"reason_{reason}"
    return t(key, lang) if key in _REASONS else reason


_REASONS = {
    "reason_ok",
    "reason_trust",
    "reason_confidentiality",
    "reason_economics",
    "reason_permit",
    "reason_not known",
}


def _benefits(model: Any) -> dict[tuple[int, int, str], float]:
    """Benefit so far of each active link, keyed by (supplier uid, user uid, material)."""
    df = None
    for attr in ("firm_registry", "uid_names"):  # the model's firm table, old or new name
        firms = getattr(model, attr, None)
        if firms is None:
            continue
        try:
            df = model.links.to_frame(firms, model.catalogue.materials)
            break
        except Exception:  # a model whose link table reads differently: no benefit column
            df = None
    if df is None or df.empty or "benefit_usd" not in df:
        return {}
    df = df[df["status"] == "active"] if "status" in df else df
    return {
        (int(s), int(u), str(m)): float(b)
        for s, u, m, b in zip(
            df["supplier_id"], df["user_id"], df["material"], df["benefit_usd"], strict=True
        )
    }


@solara.component
def Summary(model: Any, tick: Any, lang: str, run_lines: list[str]):
    """Current KPIs, the last EIP assessment (criterion by criterion) and this run's settings."""
    tick_value(tick)
    metrics = dict(getattr(model, "metrics", {}) or {})
    assessment = dict(getattr(model, "assessment", {}) or {})
    rows = "".join(
        f"<tr><td>{escape(kpi_name(k, lang))}</td><td style='text-align:right'>"
        f"{_kpi_value(v, lang)}</td></tr>"
        for k, v in metrics.items()
        if k != "step"
    )
    with solara.Columns([1, 1]):
        with solara.Column():
            bold(t("kpis", lang))
            html(
                rows,
                classes=["eip-kpis"],
                style="font-size:13px;border-collapse:separate;border-spacing:8px 1px;width:100%",
                tag="table",
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
                html(
                    head + body,
                    classes=["eip-criteria"],
                    style="font-size:13px;border-collapse:separate;border-spacing:8px 1px;width:100%",
                    tag="table",
                )
            items = "".join(f"<li>{escape(line)}</li>" for line in run_lines)
            html(
                items, classes=["eip-run-settings"], style="font-size:13px;margin-top:8px", tag="ul"
            )


def _assessment_every(model: Any) -> int:
    for name in ("sc", "scenario_config", "config", "eip_scenario"):
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
        f"<tr title='{escape(source, quote=True)}'><td>{escape(kpi_name(name, lang))}</td>"
        f"<td style='text-align:right'>{_kpi_value(value, lang)}</td>"
        f"<td style='text-align:right'>{_kpi_value(threshold, lang)}</td><td>{mark}</td></tr>"
    )
