"""The park map, the network graph and the charts as plain SVG strings.

No Solara here, so the drawing is testable and its cost measurable on its own. The map and
the network are SVG strings: hover tooltips are SVG ``<title>`` elements, which the browser
shows without any JavaScript or CDN, and a month's redraw of ~100 firms costs milliseconds.
What does not change between months (geometry, zone outlines, legends, the network layout)
is built once per model in ``MapStatic`` / ``NetworkLayout`` and reused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from eipsim.scenario.catalogue import load_catalogue
from eipsim.viz.i18n import facility_name, firm_name, material_name, num, sector_name, t, unit

CELL = 34  # px per plot on the map
VACANT = "#e4e4e4"
NATIONALITY_COLOURS = {
    "VN": "#e15759",
    "JP": "#4e79a7",
    "KR": "#59a14f",
    "CN": "#f28e2b",
    "TW": "#b07aa1",
}
PALETTE = [
    "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac", "#4e79a7", "#f28e2b", "#e15759",
    "#59a14f", "#b07aa1", "#86bcb6", "#d4a6c8", "#8cd17d", "#f1ce63", "#a0cbe8", "#ffbe7d",
]  # fmt: skip
SECTOR_COLOURS = [
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
    "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#bcbd22",
]  # fmt: skip
MATERIAL_COLOURS = {
    "scrap_metal": "#3d3d3d",
    "steel_slag": "#8c564b",
    "fly_ash": "#8a8a2e",
    "plastic_scrap": "#d6339b",
    "recycled_pellets": "#7b3fb5",
    "plastic_residue": "#c45ad6",
    "combustible_waste": "#e8710a",
    "organic_waste": "#2e8b2e",
    "spent_solvent": "#0fa3b1",
    "treated_wastewater": "#1f5fbf",
    "waste_heat": "#c2181b",
}
FACILITY_STYLE = {  # colour, one-letter mark
    "wastewater_treatment": ("#1f5fbf", "W"),
    "steam_network": ("#c2181b", "S"),
    "materials_recovery": ("#e8710a", "M"),
    "solar_microgrid": ("#d4a000", "☀"),
    "recycled_plastic_roads": ("#7b3fb5", "R"),
}


def material_colour(material: str) -> str:
    if material in MATERIAL_COLOURS:
        return MATERIAL_COLOURS[material]
    return PALETTE[hash(material) % len(PALETTE)]


def _fmt(v: float, lang: str = "en") -> str:
    """Quantities for people: 3 significant-ish digits, thousands separated (VI: 1.234,5)."""
    return num(v, lang)


def link_width(tonnes: float) -> float:
    """Stroke width on a fixed log scale, so a link's width does not jump as others grow."""
    return round(1.0 + 1.3 * math.log10(1.0 + max(tonnes, 0.0)), 2)


def unit_of(material: str, lang: str = "en") -> str:
    cat = load_catalogue()
    if material in cat.materials:
        return unit("MWh" if cat.is_energy[cat.material_index(material)] else "t", lang)
    return ""


# --- one month's view of the model ----------------------------------------------------------


@dataclass
class FirmView:
    uid: int
    slot: int
    name: str
    sector: str
    nationality: str
    size: float
    listed: bool
    recp: bool


@dataclass
class LinkView:
    s_uid: int
    u_uid: int
    s_slot: int
    u_slot: int
    s_name: str
    u_name: str
    s_sector: str
    u_sector: str
    material: str
    tonnes: float
    start: int


@dataclass
class FacilityView:
    kind: str
    slot: int
    built: bool
    users: frozenset[int]
    throughput: float
    build_step: int


@dataclass
class Snapshot:
    """What the drawings need of the model this month, read once."""

    step: int
    firms: list[FirmView]
    links: list[LinkView]
    facilities: list[FacilityView]
    trust_given: dict[int, float] = field(default_factory=dict)  # slot -> mean
    trust_received: dict[int, float] = field(default_factory=dict)
    trust: Any = None  # the (slots x slots) matrix, read-only here
    streams: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)


def model_firms(model: Any) -> list[Any]:
    """``model.firms`` (docs/ARCHITECTURE.md); the agents with a plot if a model lacks it."""
    firms = getattr(model, "firms", None)
    if firms is None:
        firms = [a for a in model.agents if hasattr(a, "slot") and hasattr(a, "nationality")]
    return list(firms)


def snapshot(model: Any) -> Snapshot:
    """Read the documented model internals (docs/ARCHITECTURE.md) into plain rows."""
    alive = model_firms(model)
    firms = [
        FirmView(
            uid=int(f.unique_id),
            slot=int(f.slot),
            name=str(f.name),
            sector=str(f.sector),
            nationality=str(f.nationality),
            size=float(f.size),
            listed=bool(getattr(f, "listed", False)),
            recp=bool(getattr(f, "recp_applied", False)),
        )
        for f in alive
    ]
    links = [
        LinkView(
            s_uid=int(lk.supplier.unique_id),
            u_uid=int(lk.user.unique_id),
            s_slot=int(lk.supplier.slot),
            u_slot=int(lk.user.slot),
            s_name=str(lk.supplier.name),
            u_name=str(lk.user.name),
            s_sector=str(lk.supplier.sector),
            u_sector=str(lk.user.sector),
            material=str(lk.material),
            tonnes=float(lk.tonnes_last),
            start=int(lk.start_step),
        )
        for lk in model.active_links()
    ]
    facs = [
        FacilityView(
            kind=str(fc.kind),
            slot=int(fc.slot),
            built=bool(fc.built),
            users=frozenset(int(u) for u in fc.users),
            throughput=float(fc.throughput_last),
            build_step=int(getattr(fc, "build_step", 0)),
        )
        for fc in model.operator.facilities
    ]
    snap = Snapshot(step=int(model.steps), firms=firms, links=links, facilities=facs)
    T = np.asarray(model.trust.T)
    snap.trust = T
    slots = np.array([f.slot for f in firms], dtype=int)
    if slots.size > 1:
        sub = T[np.ix_(slots, slots)]
        n1 = slots.size - 1
        off = sub.sum(axis=1) - np.diag(sub)
        inn = sub.sum(axis=0) - np.diag(sub)
        snap.trust_given = dict(zip(slots.tolist(), (off / n1).tolist(), strict=True))
        snap.trust_received = dict(zip(slots.tolist(), (inn / n1).tolist(), strict=True))
    for f in alive:
        if hasattr(f, "streams"):
            snap.streams[int(f.slot)] = f.streams()
    return snap


# --- colours ----------------------------------------------------------------------------------


def category_colours(keys: list[str], mode: str) -> dict[str, str]:
    """Stable colours: nationality codes keep theirs; sectors follow the catalogue order."""
    if mode == "sector":
        order = list(load_catalogue().sectors)
        extra = [k for k in keys if k not in order]
        return {k: SECTOR_COLOURS[i % len(SECTOR_COLOURS)] for i, k in enumerate(order + extra)}
    out, spare = {}, iter(PALETTE * 4)
    for k in keys:
        out[k] = NATIONALITY_COLOURS.get(k) or next(spare)
    return out


# --- the park map -------------------------------------------------------------------------------


class MapStatic:
    """Geometry, zone outlines and legends of one model's map; built once, reused monthly."""

    def __init__(self, model: Any, nationalities: list[str], sectors: list[str], lang: str):
        park = model.park
        self.w, self.h = int(park.width), int(park.height)
        self.lang = lang
        self.width_px, self.height_px = self.w * CELL + 2, self.h * CELL + 2
        zone = np.asarray(park.zone_of).reshape(self.h, self.w)
        self.nat_colours = category_colours(nationalities, "nationality")
        self.sector_colours = category_colours(sectors, "sector")
        # Zone outlines: an edge wherever the zone changes, and the park border.
        segs = []
        for y in range(self.h):
            for x in range(self.w):
                X, Y = 1 + x * CELL, 1 + y * CELL
                if x + 1 == self.w or zone[y, x + 1] != zone[y, x]:
                    segs.append(f"M{X + CELL} {Y}v{CELL}")
                if y + 1 == self.h or zone[y + 1, x] != zone[y, x]:
                    segs.append(f"M{X} {Y + CELL}h{CELL}")
                if x == 0:
                    segs.append(f"M{X} {Y}v{CELL}")
                if y == 0:
                    segs.append(f"M{X} {Y}h{CELL}")
        labels = []
        names = list(getattr(park, "zone_names", []))
        for z in np.unique(zone):
            ys, xs = np.nonzero(zone == z)
            name = names[z] if z < len(names) else f"{t('zone', lang)} {z + 1}"
            if lang == "vi" and name.startswith("Zone "):
                name = t("zone", lang) + name[4:]
            labels.append(
                f'<text x="{1 + xs.min() * CELL + 3}" y="{1 + ys.min() * CELL + 10}" '
                f'class="zl">{escape(name)}</text>'
            )
        self.outline = (
            f'<path d="{"".join(segs)}" fill="none" stroke="#333" stroke-width="2.5" '
            f'stroke-linecap="square" pointer-events="none"/>'
        )
        self.zone_labels = "".join(labels)
        self.head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width_px}" '
            f'height="{self.height_px}" viewBox="0 0 {self.width_px} {self.height_px}" '
            f'class="eip-map" style="width:100%;max-width:{int(1.6 * self.width_px)}px;height:auto;'
            f'font-family:sans-serif">'
            "<style>.zl{font-size:9px;fill:#222;paint-order:stroke;stroke:#fff;"
            "stroke-width:3px;pointer-events:none}.fm{font-size:13px;font-weight:bold;"
            "fill:#fff;pointer-events:none}</style>"
        )
        self._vacant_cells: dict[int, str] = {}  # slot -> cached vacant <rect>

    def centre(self, slot: int) -> tuple[float, float]:
        y, x = divmod(slot, self.w)
        return 1 + x * CELL + CELL / 2, 1 + y * CELL + CELL / 2

    def vacant_cell(self, slot: int) -> str:
        cell = self._vacant_cells.get(slot)
        if cell is None:
            y, x = divmod(slot, self.w)
            cell = (
                f'<rect x="{1 + x * CELL + 2}" y="{1 + y * CELL + 2}" width="{CELL - 4}" '
                f'height="{CELL - 4}" rx="3" fill="{VACANT}"><title>{t("vacant", self.lang)} '
                f"#{slot}</title></rect>"
            )
            self._vacant_cells[slot] = cell
        return cell

    def legend_items(self, mode: str, present: list[str]) -> list[tuple[str, str]]:
        """(colour, label) pairs of the plot colours in ``mode`` for the categories shown."""
        cat = load_catalogue()
        if mode == "sector":
            return [
                (
                    self.sector_colours.get(s, "#999"),
                    sector_name(s, cat.sector_labels.get(s, s), self.lang),
                )
                for s in present
            ]
        return [(self.nat_colours.get(n, "#999"), n) for n in present]


def firm_tooltip(f: FirmView, snap: Snapshot, lang: str, facs: list[str]) -> str:
    """The hover text of a plot: firm, sector, nationality and links (click for more)."""
    cat = load_catalogue()
    lines = [
        firm_name(f.name, f.sector, lang),
        f"{t('sector', lang)}: {sector_name(f.sector, cat.sector_labels.get(f.sector, f.sector), lang)}",
        f"{t('nationality', lang)}: {f.nationality}",
    ]
    mine = [lk for lk in snap.links if f.slot in (lk.s_slot, lk.u_slot)]
    lines.append(f"{t('links', lang)}:" + ("" if mine else f" {t('no_links', lang)}"))
    for lk in mine[:8]:
        out = lk.s_slot == f.slot
        other = firm_name(*((lk.u_name, lk.u_sector) if out else (lk.s_name, lk.s_sector)), lang)
        arrow = f"→ {t('to', lang)}" if out else f"← {t('from', lang)}"
        lines.append(
            f"  {arrow} {other}: {material_name(lk.material, lang)} "
            f"{delivered(lk, lang, '/' + t('month', lang))}"
        )
    if f.listed:
        lines.append("• " + t("listed", lang))
    if f.recp:
        lines.append("• " + t("recp", lang))
    for name in facs:
        lines.append(f"• {t('facility', lang)}: {name}")
    lines.append(t("click_for_details", lang))
    return escape("\n".join(lines))


def quantity(q: float, material: str, lang: str) -> str:
    """A monthly amount with its unit; tiny amounts say "< 0.01", never "0.00"."""
    u = unit_of(material, lang)
    if 0 < abs(q) < 0.01:
        return f"< {num(0.01, lang, 2)} {u}"
    return f"{num(q, lang)} {u}"


def delivered(lk: LinkView, lang: str, per: str) -> str:
    """Last month's delivery on a link with its unit and ``per``; a link that has delivered
    nothing yet (formed this month, or waiting for its permit) says so instead of "0.00"."""
    if lk.tonnes <= 0:
        return t("nothing_delivered", lang)
    return quantity(lk.tonnes, lk.material, lang) + per


def partners_of(snap: Snapshot, slot: int | None, links: list[LinkView]) -> set[int]:
    if slot is None:
        return set()
    out = set()
    for lk in links:
        if lk.s_slot == slot:
            out.add(lk.u_slot)
        elif lk.u_slot == slot:
            out.add(lk.s_slot)
    return out


def shown_links(snap: Snapshot, materials: frozenset[str] | None) -> list[LinkView]:
    """The links the material filter lets through (None: all)."""
    if materials is None:
        return snap.links
    return [lk for lk in snap.links if lk.material in materials]


def park_svg(
    static: MapStatic,
    snap: Snapshot,
    mode: str,
    lang: str,
    selected: int | None = None,
    materials: frozenset[str] | None = None,
) -> str:
    """The month's map: plots (colour by ``mode``), facilities, links, on the cached layers.
    ``selected``: a firm's plot, drawn with its links and partners highlighted and the rest
    faded. ``materials``: only links of these materials (None: all)."""
    colours = static.sector_colours if mode == "sector" else static.nat_colours
    links = shown_links(snap, materials)
    occupied = {f.slot for f in snap.firms}
    if selected not in occupied:
        selected = None
    partners = partners_of(snap, selected, links)
    fac_slots = {fc.slot for fc in snap.facilities}
    parts = [static.head]
    for slot in range(static.w * static.h):
        if slot not in occupied and slot not in fac_slots:
            parts.append(static.vacant_cell(slot))
    user_facs: dict[int, list[int]] = {}
    for i, fc in enumerate(snap.facilities):
        if fc.built:
            for u in fc.users:
                user_facs.setdefault(u, []).append(i)
    for f in snap.firms:
        y, x = divmod(f.slot, static.w)
        fill = colours.get(f.sector if mode == "sector" else f.nationality, "#999")
        facs = [facility_name(snap.facilities[i].kind, lang) for i in user_facs.get(f.slot, [])]
        tip = firm_tooltip(f, snap, lang, facs)
        stroke = ' stroke="#111" stroke-width="1.5"' if f.listed else ""
        cls = "eip-firm"
        if selected is not None:
            if f.slot == selected:
                stroke, cls = ' stroke="#000" stroke-width="4"', "eip-firm eip-selected"
            elif f.slot in partners:
                stroke = ' stroke="#000" stroke-width="2.5" stroke-dasharray="4 2"'
                cls = "eip-firm eip-partner"
            else:
                stroke += ' fill-opacity="0.3"'
        parts.append(
            f'<rect x="{1 + x * CELL + 2}" y="{1 + y * CELL + 2}" width="{CELL - 4}" '
            f'height="{CELL - 4}" rx="3" fill="{fill}"{stroke} data-slot="{f.slot}" '
            f'class="{cls}" style="cursor:pointer"><title>{tip}</title></rect>'
        )
        for k, i in enumerate(user_facs.get(f.slot, [])):
            colour = FACILITY_STYLE.get(snap.facilities[i].kind, ("#555", "?"))[0]
            parts.append(
                f'<rect x="{1 + x * CELL + 4 + 7 * k}" y="{1 + y * CELL + CELL - 10}" '
                f'width="5" height="5" fill="{colour}" stroke="#fff" stroke-width="0.8" '
                f'pointer-events="none"/>'
            )
    for fc in snap.facilities:
        y, x = divmod(fc.slot, static.w)
        colour, mark = FACILITY_STYLE.get(fc.kind, ("#555", "?"))
        if fc.built:
            state = (
                t("connected", lang, n=len(fc.users))
                + "\n"
                + t("throughput", lang, v=_fmt(fc.throughput, lang))
            )
        else:
            state = t("not_built", lang, step=fc.build_step)
        tip = escape(f"{t('facility', lang)}: {facility_name(fc.kind, lang)}\n{state}")
        dash = "" if fc.built else ' stroke-dasharray="3 2" fill-opacity="0.35"'
        parts.append(
            f'<g class="eip-facility"><rect x="{1 + x * CELL + 2}" y="{1 + y * CELL + 2}" '
            f'width="{CELL - 4}" height="{CELL - 4}" rx="8" fill="{colour}" stroke="#111" '
            f'stroke-width="1.5"{dash}><title>{tip}</title></rect>'
            f'<text x="{1 + x * CELL + CELL / 2}" y="{1 + y * CELL + CELL / 2 + 5}" '
            f'text-anchor="middle" class="fm">{mark}</text></g>'
        )
    parts.append(static.outline)
    parts.append(static.zone_labels)
    parts.append(_links_svg(static, links, lang, selected))
    # facilities stay readable above the links: their letters on top
    for fc in snap.facilities:
        y, x = divmod(fc.slot, static.w)
        mark = FACILITY_STYLE.get(fc.kind, ("#555", "?"))[1]
        parts.append(
            f'<text x="{1 + x * CELL + CELL / 2}" y="{1 + y * CELL + CELL / 2 + 5}" '
            f'text-anchor="middle" class="fm" style="stroke:#111;stroke-width:2px;'
            f'paint-order:stroke">{mark}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _link_tip(lk: LinkView, lang: str) -> str:
    s = firm_name(lk.s_name, lk.s_sector, lang)
    u = firm_name(lk.u_name, lk.u_sector, lang)
    return escape(
        f"{t('link', lang)}: {s} → {u}\n{material_name(lk.material, lang)}: "
        f"{delivered(lk, lang, ' ' + t('per_month', lang))}\n"
        f"{t('since', lang, step=lk.start)}"
    )


def _links_svg(static: MapStatic, links: list[LinkView], lang: str, selected: int | None) -> str:
    """Links as gently curved lines (so two materials between one pair stay apart)."""
    out = []
    seen: dict[tuple[int, int], int] = {}
    for lk in sorted(links, key=lambda k: -k.tonnes):
        x1, y1 = static.centre(lk.s_slot)
        x2, y2 = static.centre(lk.u_slot)
        key = (min(lk.s_slot, lk.u_slot), max(lk.s_slot, lk.u_slot))
        k = seen.get(key, 0)
        seen[key] = k + 1
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        bend = (0.12 + 0.1 * k) * d * (1 if k % 2 == 0 else -1)
        cx, cy = (x1 + x2) / 2 - dy / d * bend, (y1 + y2) / 2 + dx / d * bend
        mine = selected is not None and selected in (lk.s_slot, lk.u_slot)
        op = "0.85" if selected is None else ("1" if mine else "0.1")
        cls = "eip-link eip-link-hl" if mine else "eip-link"
        colour = material_colour(lk.material)
        out.append(
            f'<path d="M{x1:.1f} {y1:.1f}Q{cx:.1f} {cy:.1f} {x2:.1f} {y2:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="{link_width(lk.tonnes) + (1.5 if mine else 0)}" '
            f'stroke-opacity="{op}" stroke-linecap="round" class="{cls}" '
            f'data-link="{lk.s_slot}-{lk.u_slot}"><title>{_link_tip(lk, lang)}</title></path>'
            f'<circle cx="{x2:.1f}" cy="{y2:.1f}" r="3" fill="{colour}" fill-opacity="{op}" '
            f'pointer-events="none"/>'
        )
    return "".join(out)


def width_legend_svg(lang: str) -> str:
    """The key to line width: the tonnes per month a few widths stand for."""
    items = [1, 10, 100, 1000, 10000]
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="330" height="30" viewBox="0 0 330 30" '
        'class="eip-width-legend" style="max-width:100%;height:auto;font-family:sans-serif;'
        'font-size:10px">'
    ]
    x = 2
    for q in items:
        parts.append(
            f'<line x1="{x}" x2="{x + 22}" y1="10" y2="10" stroke="#555" '
            f'stroke-width="{link_width(q)}" stroke-linecap="round"/>'
            f'<text x="{x + 11}" y="26" text-anchor="middle" fill="#333">{num(q, lang, 0)}</text>'
        )
        x += 62
    parts.append("</svg>")
    return "".join(parts)


class NetworkLayout:
    """Node positions that never move: firms sit on a circle in arcs by sector, sized by the
    sector's share. Positions are computed once per firm and cached, so the graph does
    not jump between months; a firm that enters later takes a spot on an inner ring of its
    sector's arc."""

    SIZE = 430
    R = 170.0

    def __init__(self, model: Any, sector_mix: dict[str, float], lang: str):
        cat = load_catalogue()
        firms = sorted(model_firms(model), key=lambda f: (f.sector, f.slot))
        # An arc per sector, sized by the larger of its share in the mix (future entrants)
        # and among today's firms (a roster can bring sectors the mix does not draw).
        counts: dict[str, int] = {}
        for f in firms:
            counts[f.sector] = counts.get(f.sector, 0) + 1
        n = max(len(firms), 1)
        weight = {
            s: max(sector_mix.get(s, 0.0), counts.get(s, 0) / n) for s in {*sector_mix, *counts}
        }
        order = [s for s in cat.sectors if s in weight] + sorted(
            s for s in weight if s not in cat.sectors
        )
        total = sum(weight.values()) or 1.0
        gap = 0.02 * 2 * math.pi
        span_total = 2 * math.pi - gap * len(order)
        self.arcs: dict[str, tuple[float, float]] = {}
        a = -math.pi / 2
        for s in order:
            span = span_total * weight[s] / total
            self.arcs[s] = (a, span)
            a += span + gap
        self.pos: dict[int, tuple[float, float]] = {}
        self._late: dict[str, int] = {}
        by_sector: dict[str, list[Any]] = {}
        for f in firms:
            by_sector.setdefault(f.sector, []).append(f)
        c = self.SIZE / 2
        for s, fs in by_sector.items():
            a0, span = self._arc(s)
            for i, f in enumerate(fs):
                ang = a0 + span * (i + 0.5) / len(fs)
                self.pos[int(f.unique_id)] = (
                    c + self.R * math.cos(ang),
                    c + self.R * math.sin(ang),
                )
        labels = []
        for s, (a0, span) in self.arcs.items():
            # radial labels (as in chord diagrams), so the thin arcs of rare sectors stay legible
            mid = a0 + span / 2
            x, y = c + (self.R + 12) * math.cos(mid), c + (self.R + 12) * math.sin(mid)
            deg = math.degrees(mid)
            left = math.cos(mid) < 0
            rot = deg + 180 if left else deg
            full = sector_name(s, cat.sector_labels.get(s, s), lang)
            name = full
            labels.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{"end" if left else "start"}" '
                f'dominant-baseline="middle" transform="rotate({rot:.1f} {x:.1f} {y:.1f})" '
                f'class="nl">{escape(name)}<title>{escape(full)}</title></text>'
            )
        m = 235  # margin for the labels (full sector names, never cut)
        side = self.SIZE + 2 * m
        self.head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}" '
            f'viewBox="{-m} {-m} {side} {side}" class="eip-network" '
            f'style="width:100%;height:auto;font-family:sans-serif">'
            "<style>.nl{font-size:15px;fill:#333}</style>" + "".join(labels)
        )

    def _arc(self, sector: str) -> tuple[float, float]:
        if sector not in self.arcs:  # not in the mix nor at the start: near the top, unlabelled
            self.arcs[sector] = (-math.pi / 2 - 0.1, 0.2)
        return self.arcs[sector]

    def position(self, uid: int, sector: str) -> tuple[float, float]:
        """A firm's fixed position (an entrant's is computed on first sight, then kept)."""
        p = self.pos.get(uid)
        if p is None:
            a0, span = self._arc(sector)
            k = self._late.get(sector, 0)
            self._late[sector] = k + 1
            frac = (0.5 + k * 0.618034) % 1.0  # golden-ratio steps spread entrants out
            ang = a0 + span * frac
            r = self.R - 16 - 10 * (k % 3)
            c = self.SIZE / 2
            p = (c + r * math.cos(ang), c + r * math.sin(ang))
            self.pos[uid] = p
        return p


def network_svg(
    layout: NetworkLayout,
    snap: Snapshot,
    colours: dict[str, str],
    mode: str,
    lang: str,
    selected: int | None = None,
    materials: frozenset[str] | None = None,
) -> str:
    """Firms as nodes (bigger with more links), links as edges coloured by material;
    ``selected`` and ``materials`` as in ``park_svg``."""
    links = shown_links(snap, materials)
    degree: dict[int, int] = {}
    for lk in links:
        degree[lk.s_uid] = degree.get(lk.s_uid, 0) + 1
        degree[lk.u_uid] = degree.get(lk.u_uid, 0) + 1
    sector_of = {f.uid: f.sector for f in snap.firms}
    if selected not in {f.slot for f in snap.firms}:
        selected = None
    partners = partners_of(snap, selected, links)
    parts = [layout.head]
    for lk in links:
        x1, y1 = layout.position(lk.s_uid, sector_of.get(lk.s_uid, ""))
        x2, y2 = layout.position(lk.u_uid, sector_of.get(lk.u_uid, ""))
        mine = selected is not None and selected in (lk.s_slot, lk.u_slot)
        op = "0.7" if selected is None else ("1" if mine else "0.08")
        cls = ' class="eip-edge eip-link-hl"' if mine else ' class="eip-edge"'
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{material_colour(lk.material)}" '
            f'stroke-width="{link_width(lk.tonnes) + (1.5 if mine else 0)}" '
            f'stroke-opacity="{op}"{cls}><title>{_link_tip(lk, lang)}</title></line>'
        )
    cat = load_catalogue()
    for f in snap.firms:
        x, y = layout.position(f.uid, f.sector)
        deg = degree.get(f.uid, 0)
        fill = colours.get(f.sector if mode == "sector" else f.nationality, "#999")
        r = 6.0 + 2.5 * math.sqrt(deg)
        op = "1" if deg else "0.5"
        stroke, width, cls = "#333", 0.8 if deg else 0.4, "eip-node"
        if selected is not None:
            if f.slot == selected:
                stroke, width, cls, r = "#000", 4.0, "eip-node eip-selected", r + 3
            elif f.slot in partners:
                stroke, width, cls = "#000", 2.5, "eip-node eip-partner"
            else:
                op = "0.2"
        sec = sector_name(f.sector, cat.sector_labels.get(f.sector, f.sector), lang)
        tip = escape(
            f"{firm_name(f.name, f.sector, lang)}\n{sec}, {f.nationality}\n"
            f"{t('links', lang)}: {deg}\n{t('click_for_details', lang)}"
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" fill-opacity="{op}" '
            f'stroke="{stroke}" stroke-width="{width}" data-slot="{f.slot}" class="{cls}" '
            f'style="cursor:pointer"><title>{tip}</title></circle>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- charts ------------------------------------------------------------------------------------
# Plain SVG as well, drawn here: nothing to fetch, so the charts work offline.

SERIES_COLOURS = ("#4e79a7", "#e15759", "#59a14f", "#f28e2b")
CW, CH = 380, 200  # chart size in px
PAD_L, PAD_R, PAD_T, PAD_B = 54, 14, 46, 28


@dataclass
class Layer:
    """What one chart draws of one run: its timeseries and/or its ensemble's bands."""

    name: str  # shown in the legend ("this run", "reference")
    df: pd.DataFrame | None = None
    bands: dict[str, pd.DataFrame] = field(default_factory=dict)  # column -> step,q25,q50,q75
    dashed: bool = False


@dataclass(frozen=True)
class Marker:
    """A scheduled event drawn as a vertical line: the platform's launch, a standard..."""

    month: int
    label: str


def nice_step(v: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above ``v`` (tick steps that read well)."""
    if not math.isfinite(v) or v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 5, 10):
        if v <= m * e * 1.0000001:
            return m * e
    return 10 * e


def nice_axis(vmax: float, ticks: int = 4) -> tuple[float, float]:
    """(top, step) of an axis from 0 that holds ``vmax`` in about ``ticks`` round steps."""
    if not math.isfinite(vmax) or vmax <= 0:
        return 1.0, 0.25
    step = nice_step(vmax / ticks)
    return step * math.ceil(vmax / step - 1e-9), step


def axis_range(vmin: float, vmax: float, kind: str) -> tuple[float, float, float]:
    """(bottom, top, step) of a y axis for values in [vmin, vmax] of an indicator ``kind``:
    shares span 0 to 1; counts have whole-number ticks and at least 0 to 4, so one link
    does not look like a full park; other axes include 0 and may go below it."""
    if kind == "share":
        return 0.0, 1.0, 0.25
    lo = min(0.0, vmin) if math.isfinite(vmin) else 0.0
    hi = max(0.0, vmax) if math.isfinite(vmax) else 0.0
    if kind == "count":
        hi = max(hi, 4.0)
    span = hi - lo
    if span <= 0:
        return 0.0, 1.0, 0.25
    step = nice_step(span / 4)
    if kind == "count":
        step = max(1.0, round(step))
    bottom = step * math.floor(lo / step + 1e-9)
    top = step * math.ceil(hi / step - 1e-9)
    return bottom, top, step


def _tick(v: float, lang: str = "en") -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e9:
        return num(v / 1e9, lang, None, trim=True) + (" tỷ" if lang == "vi" else "G")
    if a >= 1e6:
        return num(v / 1e6, lang, None, trim=True) + (" tr" if lang == "vi" else "M")
    if a >= 1e4:
        return num(v / 1e3, lang, None, trim=True) + (" nghìn" if lang == "vi" else "k")
    return num(v, lang, None, trim=True)


def _polylines(points: list[tuple[float, float]], colour: str, width: float, dash: str) -> str:
    """Lines through finite points, broken where a value is missing."""
    out, seg = [], []
    for x, y in [*points, (math.nan, math.nan)]:
        if math.isfinite(x) and math.isfinite(y):
            seg.append(f"{x:.1f},{y:.1f}")
            continue
        if len(seg) == 1:
            cx, cy = seg[0].split(",")
            out.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"/>')
        elif seg:
            out.append(
                f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                f'stroke-width="{width}" stroke-linejoin="round"{dash}/>'
            )
        seg = []
    return "".join(out)


def chart_svg(
    title: str,
    series: list[tuple[str, str]],
    kind: str,
    layers: list[Layer],
    lang: str,
    horizon: int,
    markers: list[Marker] | tuple[Marker, ...] = (),
    certification: float | None = None,
    css: str = "",
) -> str:
    """One chart over months 0..horizon (a fixed x axis, so the lines grow rather than the
    axis moving), one y axis. ``series``: (column, label) pairs sharing the unit of ``kind``.
    Each layer draws its run as a line (dashed for a reference) and its ensemble as the
    median with the interquartile band. Hovering a month lists its values."""
    x0, x1 = PAD_L, CW - PAD_R
    y0, y1 = CH - PAD_B, PAD_T
    months_cur: list[int] = []
    if layers and layers[0].df is not None and "step" in layers[0].df.columns:
        months_cur = layers[0].df["step"].astype(int).tolist()
    last = max([horizon, 1, *months_cur[-1:]])
    xmax = float(last)

    def sx(m: float) -> float:
        return x0 + (x1 - x0) * m / xmax

    # values of every layer and series, for the axis
    vals: list[float] = []
    cols = [c for c, _ in series]
    for ly in layers:
        if ly.df is not None:
            for c in cols:
                if c in ly.df.columns:
                    vals += pd.to_numeric(ly.df[c], errors="coerce").astype(float).tolist()
        for c in cols:
            b = ly.bands.get(c)
            if b is not None and len(b):
                vals += b["q25"].tolist() + b["q75"].tolist()
    finite = [v for v in vals if math.isfinite(v)]
    bottom, top, ystep = axis_range(min(finite, default=0.0), max(finite, default=0.0), kind)

    def sy(v: float) -> float:
        return y0 - (y0 - y1) * (v - bottom) / (top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CW}" height="{CH}" '
        f'viewBox="0 0 {CW} {CH}" class="eip-chart-svg {css}" data-points="{len(months_cur)}" '
        f'data-top="{top:g}" data-step="{ystep:g}" '
        f'style="max-width:100%;height:auto;font-family:sans-serif;font-size:10px;'
        f'background:#fff">'
        f'<text x="{x0 - 44}" y="14" font-size="13" font-weight="bold">{escape(title)}</text>'
    ]
    n = round((top - bottom) / ystep)
    for k in range(n + 1):
        v = bottom + ystep * k
        y = sy(v)
        stroke = "#bbb" if abs(v) < 1e-12 else "#eee"
        out.append(
            f'<line x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}"/>'
            f'<text x="{x0 - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#444" '
            f'class="eip-ytick">{_tick(v, lang)}</text>'
        )
    step = max(1, nice_step(xmax / 6))
    m = 0.0
    while m <= xmax + 1e-9:
        out.append(
            f'<text x="{sx(m):.1f}" y="{y0 + 13}" text-anchor="middle" fill="#555">{m:g}</text>'
        )
        m += step
    out.append(
        f'<text x="{x1}" y="{CH - 2}" text-anchor="end" fill="#555">{t("month", lang)}</text>'
        f'<line x1="{x0}" x2="{x1}" y1="{y0}" y2="{y0}" stroke="#999"/>'
    )
    for k, mk in enumerate(sorted(markers, key=lambda m: m.month)):
        if 0 <= mk.month <= xmax:
            xm = sx(mk.month)
            ty = y1 + 6 + 10 * (k % 3)  # staggered, so close markers stay legible
            out.append(
                f'<g class="eip-marker"><line x1="{xm:.1f}" x2="{xm:.1f}" y1="{y1 - 4}" '
                f'y2="{y0}" stroke="#7a5200" stroke-width="1" stroke-dasharray="3 3"/>'
                f'<text x="{xm + 2:.1f}" y="{ty}" fill="#7a5200" font-size="9" '
                f'style="paint-order:stroke;stroke:#fff;stroke-width:3px">'
                f"{escape(mk.label)}</text><title>{escape(mk.label)}: {t('month', lang)} "
                f"{mk.month}</title></g>"
            )
    if certification is not None:
        yc = sy(certification)
        out.append(
            f'<line x1="{x0}" x2="{x1}" y1="{yc:.1f}" y2="{yc:.1f}" stroke="#2ca02c" '
            f'stroke-width="2" stroke-dasharray="6 4"><title>{t("certification_line", lang)}: '
            f"{certification:g}</title></line>"
        )
    # bands, then lines: the reference first so this run is drawn on top
    for ly in reversed(layers):
        for i, (c, _label) in enumerate(series):
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            b = ly.bands.get(c)
            if b is None or not len(b):
                continue
            steps = b["step"].astype(float).tolist()
            up = [f"{sx(m):.1f},{sy(v):.1f}" for m, v in zip(steps, b["q75"], strict=True)]
            dn = [f"{sx(m):.1f},{sy(v):.1f}" for m, v in zip(steps, b["q25"], strict=True)]
            dash = ' stroke-dasharray="5 3"' if ly.dashed else ""
            out.append(
                f'<polygon points="{" ".join(up + dn[::-1])}" fill="{colour}" '
                f'fill-opacity="{0.1 if ly.dashed else 0.22}" stroke="{colour}" '
                f'stroke-opacity="0.5" stroke-width="0.6"{dash} class="eip-band"/>'
            )
            pts = [(sx(m), sy(v)) for m, v in zip(steps, b["q50"], strict=True)]
            out.append(_polylines(pts, colour, 1.4, ' stroke-dasharray="2 2"'))
    for ly in reversed(layers):
        if ly.df is None or "step" not in ly.df.columns:
            continue
        months = ly.df["step"].astype(float).tolist()
        for i, (c, _label) in enumerate(series):
            if c not in ly.df.columns:
                continue
            colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
            vs = pd.to_numeric(ly.df[c], errors="coerce").astype(float).tolist()
            pts = [(sx(m), sy(v)) for m, v in zip(months, vs, strict=True)]
            dash = ' stroke-dasharray="6 4" class="eip-ref-line"' if ly.dashed else ""
            out.append(_polylines(pts, colour, 1.6 if ly.dashed else 2.2, dash))
    # legend: the series by colour, the layers by line style
    lx: float = x0 - 44
    ly_: float = 0.0  # legend row offset: a second row when the first is full

    def room(width: float) -> None:
        nonlocal lx, ly_
        if lx + width > CW and lx > x0 - 44:
            lx, ly_ = x0 - 44, ly_ + 10

    for i, (_c, label) in enumerate(series):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        room(24 + 5.2 * len(label))
        out.append(
            f'<rect x="{lx}" y="{22 + ly_}" width="12" height="3" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="{27 + ly_}" fill="#333">{escape(label)}</text>'
        )
        lx += 24 + 5.2 * len(label)
    if len(layers) > 1 or any(ly.bands for ly in layers):
        for ly in layers:
            dash = ' stroke-dasharray="6 4"' if ly.dashed else ""
            room(26 + 5.2 * len(ly.name))
            out.append(
                f'<line x1="{lx}" x2="{lx + 16}" y1="{24 + ly_}" y2="{24 + ly_}" stroke="#333" '
                f'stroke-width="1.6"{dash}/>'
                f'<text x="{lx + 19}" y="{27 + ly_}" fill="#333">{escape(ly.name)}</text>'
            )
            lx += 26 + 5.2 * len(ly.name)
    # hover bands: one per month, its <title> lists the values of every layer
    if months_cur or any(ly.bands for ly in layers):
        half = (x1 - x0) / xmax / 2
        lookup: list[tuple[str, str, dict[int, float]]] = []
        for ly in layers:
            for c, label in series:
                if ly.df is not None and c in ly.df.columns and "step" in ly.df.columns:
                    d = dict(
                        zip(
                            ly.df["step"].astype(int),
                            pd.to_numeric(ly.df[c], errors="coerce").astype(float),
                            strict=True,
                        )
                    )
                    lookup.append((f"{label} ({ly.name})", "", d))
                b = ly.bands.get(c)
                if b is not None and len(b):
                    d = dict(zip(b["step"].astype(int), b["q50"].astype(float), strict=True))
                    lookup.append((f"{label} ({ly.name}, {t('median', lang)})", "", d))
        all_months = sorted({m for _, _, d in lookup for m in d})
        for mth in all_months:
            rows = [f"{t('month', lang)} {mth}"] + [
                f"{label}: {_fmt(d[mth], lang)}" for label, _u, d in lookup if mth in d
            ]
            out.append(
                f'<rect x="{sx(mth) - half:.1f}" y="{y1}" width="{2 * half:.1f}" '
                f'height="{y0 - y1}" fill="transparent"><title>{escape(chr(10).join(rows))}'
                f"</title></rect>"
            )
    out.append("</svg>")
    return "".join(out)
