"""The eipsim browser app: ``solara run eipsim/viz/app.py`` or ``eipsim viz [SCENARIO]``.

It follows Mesa's SolaraViz (a reactive model, Step / Play / Reset, a "Time:" read-out, a
sidebar of parameters) but has its own controller, because the levers are scenario keys
validated on Reset, the seed field must answer bad input with a message, and every label
must switch between English and Vietnamese.

Each browser page gets its own model: the model is created inside ``Page`` (per session),
never at module level, where Solara would share it between all visitors.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import Any

import solara
import solara.lab
import solara.server.settings

from eipsim.errors import UserError
from eipsim.scenario.schema import FACILITY_KINDS, Scenario
from eipsim.viz.components import Charts, MaterialLegend, NetworkGraph, ParkMap, Summary, bold
from eipsim.viz.i18n import LANGUAGES, facility_name, t
from eipsim.viz.levers import (
    PLACEMENTS,
    SEED_MAX,
    Levers,
    SeedError,
    default_scenario_path,
    parse_seed,
    random_seed,
    scenario_choices,
    scenario_yaml,
    short_name,
    timeseries_csv,
)

# No usage reports to Solara's telemetry service, also under a plain `solara run` (serve()
# switches it off before the server starts; this covers what is sent after this import).
solara.server.settings.telemetry.mixpanel_enable = False


def _model_class() -> type:
    from eipsim.domain.model import EIPModel

    return EIPModel


@dataclass(frozen=True)
class Run:
    """One model and what it was built from (shown in the summary, used by exports)."""

    model: Any
    scenario: Scenario
    seed: int
    levers: Levers


def build_run(levers: Levers, base: Scenario) -> Run:
    """A fresh model for these levers; SeedError / UserError go back to the caller."""
    seed = parse_seed(levers.seed_text)
    if seed is None:
        seed = random_seed()
    sc = levers.scenario(base, seed=seed)
    model = _model_class()(sc, seed=seed)
    return Run(model=model, scenario=sc, seed=seed, levers=levers)


def run_lines(run: Run, lang: str) -> list[str]:
    """The settings the running model was built with, read back from the model itself."""
    sc = getattr(run.model, "sc", run.scenario)
    on = {"en": ("on", "off"), "vi": ("bật", "tắt")}[lang]
    yes = on[0] if sc.operator.platform.enabled else on[1]
    anon = f" ({t('anonymised', lang).lower()})" if sc.operator.platform.anonymised else ""
    facs = ", ".join(facility_name(f.kind, lang) for f in sc.operator.shared_infrastructure)
    return [
        f"{t('scenario', lang)}: {sc.name} ({short_name(run.levers.scenario_path)})",
        f"{t('placement', lang)}: {t('placement_' + sc.park.placement, lang)}",
        f"{t('platform', lang)}: {yes}{anon}",
        f"{t('facilities', lang)}: {facs or '–'}",
        f"{t('landfill_tax', lang)}: {sc.government.landfill_tax_usd_per_t:g}; "
        f"{t('exchange_subsidy', lang)}: {sc.government.exchange_subsidy_usd_per_t:g}",
        t("seed_used", lang, seed=run.seed),
    ]


@solara.component
def Controller(
    run: solara.Reactive[Run],
    levers: solara.Reactive[Levers],
    base: solara.Reactive[Scenario],
    tick: solara.Reactive[int],
    lang: str,
):
    """Step / Play / Reset, the time read-out and the update timing."""
    playing = solara.use_reactive(False)
    interval = solara.use_reactive(300)
    message = solara.use_reactive("")
    timing = solara.use_reactive((0.0, 0.0))
    tick.value  # noqa: B018  (re-render the time read-out after each step)
    current = run.value
    horizon = current.scenario.steps
    done = current.model.steps >= horizon

    def do_step() -> None:
        r = run.value
        if r.model.steps >= r.scenario.steps:
            playing.set(False)
            return
        t0 = time.perf_counter()
        try:
            r.model.step()
        except Exception as exc:  # the page must survive a model error and say what it was
            playing.set(False)
            message.set(t("step_error", lang, msg=f"{type(exc).__name__}: {exc}"))
            return
        t1 = time.perf_counter()
        tick.set(tick.value + 1)  # re-renders the panels (synchronously, in this thread)
        t2 = time.perf_counter()
        timing.set(((t2 - t0) * 1000, (t1 - t0) * 1000))

    def play_loop() -> None:
        while playing.value:
            time.sleep(interval.value / 1000)
            if not playing.value:
                break
            do_step()

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def do_reset() -> None:
        playing.set(False)
        try:
            new = build_run(levers.value, base.value)
        except SeedError as exc:
            message.set(t("seed_error", lang, max=SEED_MAX, text=str(exc)))
            return
        except UserError as exc:
            message.set(t("settings_error", lang, msg=str(exc)))
            return
        message.set("")
        run.set(new)
        tick.set(tick.value + 1)

    solara.Text(
        f"{t('time', lang)} {current.model.steps}",
        classes=["eip-time"],
        style="font-size:20px;font-weight:bold",
    )
    solara.Text(
        " " + t("months_done", lang, step=current.model.steps, steps=horizon),
        style="font-size:13px;color:#555",
    )
    with solara.Row(justify="space-between"):
        solara.Button(t("reset", lang), color="primary", on_click=do_reset, classes=["eip-reset"])
        solara.Button(
            t("pause", lang) if playing.value else t("play", lang),
            color="primary",
            on_click=lambda: playing.set(not playing.value),
            disabled=done and not playing.value,
            classes=["eip-play"],
        )
        solara.Button(
            t("step", lang),
            color="primary",
            on_click=do_step,
            disabled=playing.value or done,
            classes=["eip-step"],
        )
    solara.SliderInt(
        f"{t('play_interval', lang)}: {interval.value}", value=interval, min=50, max=2000, step=50
    )
    if done:
        solara.Info(t("finished", lang), dense=True)
    page_ms, model_ms = timing.value
    if page_ms:
        solara.Text(
            t("update_time", lang, ms=f"{page_ms:.0f}", model_ms=f"{model_ms:.0f}"),
            classes=["eip-timing"],
            style="font-size:12px;color:#666",
        )
    if message.value:
        solara.Error(message.value, classes=["eip-message"])


@solara.component
def LeverPanel(
    levers: solara.Reactive[Levers], base: solara.Reactive[Scenario], run: Run, lang: str
):
    """The levers; they change the next run (on Reset), never the running one."""
    lv = levers.value
    seed_problem = ""
    try:
        parse_seed(lv.seed_text)
    except SeedError:
        seed_problem = t("seed_error", lang, max=SEED_MAX, text=lv.seed_text)
    load_problem = solara.use_reactive("")

    def set_(**changes: Any) -> None:
        levers.set(levers.value.with_(**changes))

    def pick_scenario(label: str) -> None:
        path = paths.get(label)
        if path is None:
            return
        try:
            new_levers, sc = Levers.load(path)
        except UserError as exc:
            load_problem.set(str(exc))
            return
        load_problem.set("")
        base.set(sc)
        levers.set(new_levers)

    def lab(key: str, value: float) -> str:
        """Slider label with its value: Vuetify shows the number only while dragging."""
        return f"{t(key, lang)}: {value:g}"

    paths = {short_name(p): p for p in scenario_choices(lv.scenario_path)}
    placement_labels = {t("placement_" + p, lang): p for p in PLACEMENTS}
    solara.Select(
        t("scenario", lang),
        values=list(paths),
        value=short_name(lv.scenario_path),
        on_value=pick_scenario,
        classes=["eip-scenario"],
    )
    if load_problem.value:
        solara.Error(load_problem.value)
    solara.Select(
        t("placement", lang),
        values=list(placement_labels),
        value=t("placement_" + lv.placement, lang),
        on_value=lambda v: set_(placement=placement_labels.get(v, lv.placement)),
    )
    with solara.Div(classes=["eip-platform"]):
        solara.Checkbox(
            label=t("platform", lang), value=lv.platform, on_value=lambda v: set_(platform=v)
        )
    solara.Checkbox(
        label=t("anonymised", lang),
        value=lv.anonymised,
        on_value=lambda v: set_(anonymised=v),
        disabled=not lv.platform,
    )
    solara.SliderInt(
        lab("events", lv.events_per_year),
        value=lv.events_per_year,
        min=0,
        max=12,
        on_value=lambda v: set_(events_per_year=v),
    )
    solara.SliderFloat(
        lab("selectivity", lv.selectivity),
        value=lv.selectivity,
        min=0.0,
        max=1.0,
        step=0.05,
        on_value=lambda v: set_(selectivity=v),
    )
    solara.Text(t("selectivity_hint", lang), style="font-size:11px;color:#666")
    bold(t("facilities", lang))
    for kind in FACILITY_KINDS:

        def toggle(on: bool, kind: str = kind) -> None:
            have = set(levers.value.facilities)
            have = have | {kind} if on else have - {kind}
            set_(facilities=tuple(k for k in FACILITY_KINDS if k in have))

        solara.Checkbox(
            label=facility_name(kind, lang),
            value=kind in lv.facilities,
            on_value=toggle,
            style="margin-top:0",
        )
    solara.SliderFloat(
        lab("landfill_tax", lv.landfill_tax),
        value=lv.landfill_tax,
        min=0.0,
        max=100.0,
        step=1.0,
        on_value=lambda v: set_(landfill_tax=v),
    )
    solara.SliderFloat(
        lab("exchange_subsidy", lv.exchange_subsidy),
        value=lv.exchange_subsidy,
        min=0.0,
        max=50.0,
        step=1.0,
        on_value=lambda v: set_(exchange_subsidy=v),
    )
    solara.SliderFloat(
        lab("capex_subsidy", lv.capex_subsidy),
        value=lv.capex_subsidy,
        min=0.0,
        max=1.0,
        step=0.05,
        on_value=lambda v: set_(capex_subsidy=v),
    )
    solara.SliderInt(
        lab("brokering", lv.brokering_per_year),
        value=lv.brokering_per_year,
        min=0,
        max=24,
        on_value=lambda v: set_(brokering_per_year=v),
    )
    solara.SliderFloat(
        lab("trust_same", lv.trust_same),
        value=lv.trust_same,
        min=0.0,
        max=1.0,
        step=0.05,
        on_value=lambda v: set_(trust_same=v),
    )
    solara.SliderFloat(
        lab("trust_cross", lv.trust_cross),
        value=lv.trust_cross,
        min=0.0,
        max=1.0,
        step=0.05,
        on_value=lambda v: set_(trust_cross=v),
    )
    solara.InputText(
        t("seed", lang),
        value=lv.seed_text,
        on_value=lambda v: set_(seed_text=v),
        continuous_update=True,
        classes=["eip-seed"],
    )
    if seed_problem:
        solara.Error(seed_problem, classes=["eip-seed-error"])
    if lv != run.levers:
        solara.Text(
            t("pending", lang), classes=["eip-pending"], style="font-size:12px;color:#a15c00"
        )


@solara.component
def ExportPanel(
    run: Run, levers_rv: solara.Reactive[Levers], base_rv: solara.Reactive[Scenario], lang: str
):
    """CSV of the run so far; the levers as a scenario file ``eipsim run`` accepts."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = run.scenario.name

    def csv_data() -> str:
        return timeseries_csv(run.model)

    def yaml_data() -> str:
        levers, base = levers_rv.value, base_rv.value
        try:
            seed = parse_seed(levers.seed_text)
        except SeedError:
            seed = None
        sc = levers.scenario(base, seed=run.seed if seed is None else seed)
        return scenario_yaml(sc, note=f"saved from eipsim viz {stamp}")

    solara.FileDownload(
        csv_data,
        filename=f"{name}-timeseries-{stamp}.csv",
        label=t("download_csv", lang),
        mime_type="text/csv",
    )
    solara.FileDownload(
        yaml_data,
        filename=f"{name}-settings-{stamp}.yaml",
        label=t("download_yaml", lang),
        mime_type="application/x-yaml",
    )
    solara.Text(t("yaml_hint", lang), style="font-size:12px;color:#666")


def _initial() -> tuple[Levers, Scenario, Run]:
    """This session's first model, from $EIPSIM_VIZ_SCENARIO or scenarios/baseline.yaml."""
    path = default_scenario_path()
    levers, sc = Levers.load(path)
    return levers, sc, build_run(levers, sc)


@solara.component
def Page():
    first = solara.use_memo(_initial, [])  # per page: each browser session builds its own
    lang = solara.use_reactive("en")
    mode = solara.use_reactive("nationality")
    levers = solara.use_reactive(first[0])
    base = solara.use_reactive(first[1])
    run = solara.use_reactive(first[2])
    tick = solara.use_reactive(0)
    L = lang.value
    r = run.value

    solara.Title("eipsim")
    with solara.AppBar():
        solara.AppBarTitle(t("title", L))
        with solara.ToggleButtonsSingle(value=L, on_value=lang.set, classes=["eip-lang"]):
            for code, name in LANGUAGES.items():
                solara.Button(name, value=code, text=True)
    with solara.Sidebar():
        with solara.Card(t("run", L), margin=0, elevation=1):
            Controller(run, levers, base, tick, L)
        with solara.Card(t("levers", L), margin=0, elevation=1):
            LeverPanel(levers, base, r, L)
        with solara.Card(t("export", L), margin=0, elevation=1):
            ExportPanel(r, levers, base, L)

    with solara.Column(style="padding:8px"):
        with solara.Columns([3, 2]):
            with solara.Card(t("map", L), margin=0):
                with solara.Row(style="align-items:center"):
                    solara.Text(t("colour_by", L), style="font-size:13px")
                    with solara.ToggleButtonsSingle(
                        value=mode.value, on_value=mode.set, dense=True, classes=["eip-colour-by"]
                    ):
                        solara.Button(t("by_nationality", L), value="nationality", text=True)
                        solara.Button(t("by_sector", L), value="sector", text=True)
                ParkMap(r.model, r.scenario, tick, L, mode.value)
                solara.Text(t("map_hint", L), style="font-size:12px;color:#666")
            with solara.Card(t("network", L), margin=0):
                NetworkGraph(r.model, r.scenario, tick, L, mode.value)
                solara.Text(t("network_hint", L), style="font-size:12px;color:#666")
                bold(t("materials", L))
                MaterialLegend(L)
        with solara.Card(t("charts", L), margin=0):
            Charts(r.model, tick, L, r.scenario.steps)
        with solara.Card(t("summary", L), margin=0):
            Summary(r.model, tick, L, run_lines(r, L))


__all__ = ["Page", "Run", "build_run"]
