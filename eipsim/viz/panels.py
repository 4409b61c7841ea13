"""Which indicators the app can chart, how they group into charts, and the schedule markers.

The indicators come from the model's registry ``eipsim.domain.indicators.INDICATORS`` (name,
unit, label, kind); ``indicator_table`` is the one place that reads it, and falls back to
the timeseries columns with kinds guessed from their names while the registry is not there.
No Solara here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eipsim.viz.i18n import KPIS, facility_name, kpi_name, material_name, t, unit


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    label: str
    kind: str  # "count", "share", "t", "m3", "MWh", "usd", ...


def _guess(name: str) -> Indicator:
    counts = {
        "firms", "firms_in_symbiosis", "firms_in_links", "active_links", "pending_links",
        "links_formed_total", "links_ended_total", "platform_listings", "facilities_built",
        "facility_users",
    }  # fmt: skip
    if name in counts:
        kind, u = "count", ""
    elif name.endswith("_t"):
        kind, u = "t", "t"
    elif name.endswith("_mwh"):
        kind, u = "MWh", "MWh"
    elif name.endswith("_m3"):
        kind, u = "m3", "m3"
    elif name.endswith("_usd"):
        kind, u = "usd", "USD"
    else:  # shares, trust, scores, flags
        kind, u = "share", ""
    return Indicator(name, u, kpi_name(name, "en"), kind)


NOT_UNITS = {"count", "share", "trust 0-1", "0-1 score", "yes/no", "month", "partners", ""}


def _kind(kind: str) -> str:
    """The registry's kind as the charts use it: "count", "share" (a 0..1 axis), "bool"
    (not charted) or a unit such as "t" or "usd"."""
    if kind in ("share", "trust 0-1", "0-1 score") or "0-1" in kind:
        return "share"
    if kind == "yes/no":
        return "bool"
    return "usd" if kind == "USD" else kind


def indicator_table() -> tuple[Indicator, ...]:
    """The chartable indicators: the model's registry ``INDICATORS`` when it has one, else
    the timeseries columns (the switch to the registry is this function)."""
    from eipsim.domain import indicators as ind

    reg = getattr(ind, "INDICATORS", None)
    if reg:
        out = tuple(
            Indicator(
                str(i.name),
                "" if str(i.unit) in NOT_UNITS else str(i.unit),
                str(i.label),
                _kind(str(i.kind)),
            )
            for i in reg
            if str(i.name) != "step"
        )
    else:
        out = tuple(_guess(c) for c in ind.TIMESERIES_COLUMNS if c != "step")
    LABELS_EN.update({i.name: i.label for i in out})
    return out


LABELS_EN: dict[str, str] = {}  # the registry's labels, for indicators i18n does not name


def indicator_name(name: str, lang: str) -> str:
    """An indicator's name: ours in both languages, else the registry's English label."""
    if name in KPIS:
        return kpi_name(name, lang)
    return LABELS_EN.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class Panel:
    """One chart: a title and the indicators it draws (of one kind, so one y axis)."""

    key: str
    columns: tuple[str, ...]
    kind: str
    unit: str
    title_key: str = ""  # an i18n label; else the first indicator's name

    def title(self, lang: str) -> str:
        if self.title_key:
            return t(self.title_key, lang)
        u = unit(self.unit, lang)
        name = indicator_name(self.columns[0], lang)
        return name if not u or "(" in name else f"{name} ({u})"

    def series(self, lang: str) -> list[tuple[str, str]]:
        labels = {
            "government_revenue_usd": t("public_revenue", lang),
            "government_spending_usd": t("public_spending", lang),
            "government_budget_usd": t("public_net", lang),
            "exchanged_t": t("tonnes_exchanged", lang),
            "landfilled_t": t("tonnes_landfilled", lang),
            "solid_exchanged_t": t("tonnes_exchanged", lang),
            "solid_landfilled_t": t("tonnes_not_exchanged", lang),
            "mean_trust_same_nationality": t("trust_within", lang),
            "mean_trust_cross_nationality": t("trust_across", lang),
        }
        return [(c, labels.get(c) or indicator_name(c, lang)) for c in self.columns]


def panel_table(indicators: tuple[Indicator, ...] | None = None) -> dict[str, Panel]:
    """The charts a person can choose, grouped charts first, then one per indicator.
    Public money is never one net line: revenue and spending are drawn apart when the model
    reports them; until then the net line says which sign is which."""
    ind = {i.name: i for i in (indicators if indicators is not None else indicator_table())}
    out: dict[str, Panel] = {}

    def add(key: str, cols: tuple[str, ...], title_key: str = "") -> None:
        cols = tuple(c for c in cols if c in ind)
        if cols:
            first = ind[cols[0]]
            out[key] = Panel(key, cols, first.kind, first.unit, title_key)

    add("adoption_share", ("adoption_share",))
    add("active_links", ("active_links",), "chart_links")
    if "solid_exchanged_t" in ind and "solid_landfilled_t" in ind:  # water would swamp them
        add("tonnes", ("solid_exchanged_t", "solid_landfilled_t"), "chart_solid")
    else:
        add("tonnes", ("exchanged_t", "landfilled_t"), "chart_tonnes")
    add("eip_score", ("eip_score",), "chart_eip")
    add("trust", ("mean_trust_same_nationality", "mean_trust_cross_nationality"), "chart_trust")
    add("water", ("water_reused_m3", "water_greening_m3"), "chart_water")
    add("benefits", ("private_benefit_usd", "social_benefit_usd"), "chart_benefits")
    if "government_revenue_usd" in ind and "government_spending_usd" in ind:
        add("public", ("government_revenue_usd", "government_spending_usd"), "chart_public")
    else:
        add("public", ("government_budget_usd",), "chart_public_net")
    grouped = {c for p in out.values() for c in p.columns} | {"government_budget_usd"}
    for name, i in ind.items():
        if name not in grouped and i.kind != "bool":
            out[name] = Panel(name, (name,), i.kind, i.unit)
    return out


DEFAULT_PANELS = (
    "adoption_share",
    "active_links",
    "tonnes",
    "eip_score",
    "co2_avoided_t",
    "public",
)


def schedule_markers(sc: Any, lang: str) -> list[tuple[int, str]]:
    """(month, label) of the scenario's timed settings after month 0: the platform's
    launch, each facility's build month, each reuse standard's start."""
    out: list[tuple[int, str]] = []
    p = sc.operator.platform
    if p.enabled and p.launch_step > 0:
        out.append((int(p.launch_step), t("marker_platform", lang)))
    for f in sc.operator.shared_infrastructure:
        if f.build_step > 0:
            out.append(
                (int(f.build_step), t("marker_facility", lang, what=facility_name(f.kind, lang)))
            )
    for s in sc.government.reuse_standards:
        if s.step > 0:
            out.append(
                (int(s.step), t("marker_standard", lang, what=material_name(s.material, lang)))
            )
    return sorted(out)
