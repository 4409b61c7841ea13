"""The eipsim browser app: ``solara run eipsim/viz/app.py`` or ``eipsim viz [SCENARIO]``.

It follows Mesa's SolaraViz (a reactive model, Step / Play / Reset, a "Time:" read-out, a
sidebar of parameters) but has its own controller, because the levers are scenario keys
validated when applied, the seed field must answer bad input with a message, runs are
compared with a kept reference and over seeds, and every label switches between English
and Vietnamese. The map, the network and the charts are also offered as components for
Mesa's own ``SolaraViz`` (``eipsim/viz/mesa_components.py``).

Each browser page gets its own model: the model is created inside ``Page`` (per session),
never at module level, where Solara would share it between all visitors.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import time
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
import solara
import solara.lab
import solara.server.settings

from eipsim.errors import UserError
from eipsim.scenario.schema import Scenario
from eipsim.viz import ensemble as E
from eipsim.viz.components import (
    ChartData,
    Charts,
    FirmPanel,
    MaterialFilter,
    NetworkGraph,
    ParkMap,
    Summary,
    SvgBox,
    bold,
    certification_line,
    html,
    model_frame,
)
from eipsim.viz.drawing import Layer, Marker, chart_svg
from eipsim.viz.i18n import LANGUAGES, facility_name, kpi_name, material_name, num, t
from eipsim.viz.levers import (
    BY_KEY,
    LEVERS,
    SEED_MAX,
    Choice,
    Lever,
    Levers,
    Schedule,
    SeedError,
    Slider,
    Toggle,
    default_scenario_path,
    lever_label,
    levers_from_query,
    parse_seed,
    random_seed,
    run_header,
    scenario_choices,
    scenario_yaml,
    short_name,
    timeseries_csv,
)
from eipsim.viz.panels import DEFAULT_PANELS, Panel, panel_table, schedule_markers

# No usage reports to Solara's telemetry service, also under a plain `solara run` (serve()
# switches it off before the server starts; this covers what is sent after this import).
solara.server.settings.telemetry.mixpanel_enable = False
solara.server.settings.theme.show_banner = False  # no "runs on Solara" over the charts

CSS = """
.eip-head{display:flex;align-items:center;gap:12px;padding:4px 10px;background:#1f4e79;
  color:#fff;min-height:44px;flex-wrap:wrap}
.eip-head .eip-title{font-size:16px;font-weight:bold;flex:1;min-width:180px}
.eip-shell{display:flex;height:calc(100vh - 52px);overflow:hidden}
.eip-side{width:340px;flex:none;overflow-y:auto;overflow-x:hidden;border-right:1px solid #ddd;padding:0 6px 12px 6px;
  background:#fafafa}
.eip-main{flex:1;overflow:auto;padding:6px;min-width:0}
.eip-runbar{position:sticky;top:0;z-index:3;background:#fafafa;padding:4px 0;
  border-bottom:1px solid #ddd}
.eip-top{display:grid;grid-template-columns:minmax(0,0.9fr) minmax(0,1.1fr);gap:6px}
.eip-row2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:6px;margin-top:6px}
.eip-chart-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:2px 6px}
.eip-box{border:1px solid #ddd;border-radius:4px;padding:4px 6px;background:#fff;min-width:0}
.eip-box-title{font-weight:bold;font-size:14px;margin-bottom:2px}
.eip-lever{padding:2px 4px;margin:2px 0;border-left:3px solid transparent}
.eip-changed{background:#fff3cd;border-left:3px solid #e0a800}
.eip-lever .v-input{margin-top:0;padding-top:0}
.eip-lever-label{font-size:13px}
.eip-exact{max-width:86px;flex:none}
.eip-pendingbox{background:#fff3cd;border:1px solid #e0a800;border-radius:4px;padding:4px;
  margin:4px 0;font-size:12px}
.eip-diff td{font-weight:bold;background:#fff3cd}
.eip-side .v-card{margin-bottom:6px}
@media (max-width:1100px){.eip-side{width:300px}}
@media (max-width:900px){.eip-side{width:280px}.eip-top,.eip-row2{grid-template-columns:minmax(0,1fr)}
  .eip-chart-grid{grid-template-columns:minmax(0,1fr)}}
"""

OUTCOMES = (  # compared at the last month; those the model does not report are left out
    "adoption_share",
    "active_links",
    "solid_exchanged_t",
    "solid_landfilled_t",
    "solid_diversion_rate",
    "exchanged_t",
    "landfilled_t",
    "water_reused_m3",
    "co2_avoided_t",
    "net_benefit_usd",
    "social_benefit_usd",
    "government_budget_usd",
    "eip_score",
)


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


@dataclass(frozen=True)
class Kept:
    """A run pinned for comparison: its settings and its timeseries when it was kept."""

    label: str
    levers: Levers
    scenario: Scenario
    seed: int
    frame: pd.DataFrame = field(compare=False)

    @property
    def step(self) -> int:
        return int(self.frame["step"].iloc[-1]) if len(self.frame) else 0


def build_run(levers: Levers, base: Scenario) -> Run:
    """A fresh model for these levers; SeedError / UserError go back to the caller."""
    seed = parse_seed(levers.seed_text)
    if seed is None:
        seed = random_seed()
    sc = levers.scenario(base, seed=seed)
    model = _model_class()(sc, seed=seed)
    return Run(model=model, scenario=sc, seed=seed, levers=levers)


def lever_value_text(lever: Lever, value: Any, lang: str) -> str:
    """A lever's value as the summary and the comparison show it."""
    if isinstance(lever, Toggle):
        return t("on" if value else "off", lang)
    if isinstance(lever, Choice):
        return lever.option_label(value, lang)
    if isinstance(lever, Schedule):
        if not value:
            return "–"
        name = facility_name if lever.item_key == "kind" else material_name
        return ", ".join(
            f"{name(i, lang)}" + (f" ({t('scheduled', lang, step=s)})" if s else "")
            for i, s in value
        )
    return num(value, lang, 0 if lever.integer else None, trim=not lever.integer)


def run_lines(run: Run, lang: str) -> list[str]:
    """The settings the running model was built with, read back from its scenario."""
    sc = getattr(run.model, "sc", run.scenario)
    now = Levers.from_scenario(sc, run.levers.scenario_path)
    out = [f"{t('scenario', lang)}: {sc.name} ({short_name(run.levers.scenario_path)})"]
    for lv in LEVERS:
        out.append(f"{lever_label(lv, lang)}: {lever_value_text(lv, now[lv.key], lang)}")
    out.append(t("seed_used", lang, seed=run.seed))
    return out


def markers_of(sc: Scenario, lang: str) -> list[Marker]:
    return [Marker(m, label) for m, label in schedule_markers(sc, lang)]


# --- run controls -------------------------------------------------------------------------------


@solara.component
def Controller(
    run: solara.Reactive[Run],
    levers: solara.Reactive[Levers],
    base: solara.Reactive[Scenario],
    tick: solara.Reactive[int],
    on_new_run: Any,
    lang: str,
):
    """Time, Step / Play / Run to end / Reset, "Apply and reset" when levers changed, and
    how often the page redraws while running."""
    playing = solara.use_reactive(False)
    to_end = solara.use_reactive(False)
    interval = solara.use_reactive(300)
    every = solara.use_reactive(1)
    message = solara.use_reactive("")
    timing = solara.use_reactive((0.0, 0.0))
    tick.value  # noqa: B018  (re-render the time read-out after each step)
    current = run.value
    horizon = current.scenario.steps
    done = current.model.steps >= horizon
    changed = levers.value.changed(current.levers)

    def advance(n: int) -> None:
        r = run.value
        t0 = time.perf_counter()
        try:
            for _ in range(max(1, n)):
                if r.model.steps >= r.scenario.steps:
                    break
                r.model.step()
        except Exception as exc:  # the page must survive a model error and say what it was
            playing.set(False)
            message.set(t("step_error", lang, msg=f"{type(exc).__name__}: {exc}"))
            return
        t1 = time.perf_counter()
        tick.set(tick.value + 1)  # re-renders the panels (synchronously, in this thread)
        t2 = time.perf_counter()
        timing.set(((t2 - t0) * 1000, (t1 - t0) * 1000))

    def do_step() -> None:
        if run.value.model.steps < run.value.scenario.steps:
            advance(1)

    def play_loop() -> None:
        while playing.value:
            if not to_end.value:
                time.sleep(interval.value / 1000)
            if not playing.value:
                break
            r = run.value
            if r.model.steps >= r.scenario.steps:
                playing.set(False)
                break
            advance(every.value)

    solara.lab.use_task(play_loop, dependencies=[playing.value], prefer_threaded=True)

    def start(run_to_end: bool) -> None:
        to_end.set(run_to_end)
        playing.set(not playing.value)

    def new_run(apply: bool) -> None:
        playing.set(False)
        lv = levers.value if apply else current.levers
        try:
            new = build_run(lv, base.value if apply else current_base(current))
        except SeedError as exc:
            message.set(t("seed_error", lang, max=SEED_MAX, text=str(exc)))
            return
        except UserError as exc:
            message.set(t("settings_error", lang, msg=str(exc)))
            return
        message.set("")
        run.set(new)
        tick.set(tick.value + 1)
        on_new_run(new)

    with solara.Row(style="align-items:baseline;gap:6px"):
        solara.Text(
            f"{t('time', lang)} {current.model.steps}",
            classes=["eip-time"],
            style="font-size:20px;font-weight:bold",
        )
        solara.Text(
            t("months_done", lang, step=current.model.steps, steps=horizon),
            style="font-size:13px;color:#555",
        )
    with solara.Row(style="flex-wrap:wrap;gap:4px"):
        solara.Button(
            t("step", lang),
            color="primary",
            on_click=do_step,
            disabled=playing.value or done,
            classes=["eip-step"],
        )
        solara.Button(
            t("pause", lang) if playing.value and not to_end.value else t("play", lang),
            color="primary",
            on_click=lambda: start(False),
            disabled=(done and not playing.value) or (playing.value and to_end.value),
            classes=["eip-play"],
        )
        solara.Button(
            t("pause", lang) if playing.value and to_end.value else t("run_to_end", lang),
            color="primary",
            on_click=lambda: start(True),
            disabled=(done and not playing.value) or (playing.value and not to_end.value),
            classes=["eip-run-end"],
        )
        solara.Button(
            t("reset", lang),
            on_click=lambda: new_run(False),
            classes=["eip-reset"],
            outlined=True,
        )
    if changed:
        names = [_change_name(k, lang) for k in changed]
        with solara.Div(classes=["eip-pendingbox"]):
            solara.Text(
                t("changed_n", lang, n=len(names), names=", ".join(names)),
                classes=["eip-pending"],
            )
            solara.Button(
                t("apply_reset", lang),
                color="warning",
                on_click=lambda: new_run(True),
                classes=["eip-apply"],
            )
    with solara.Row(style="gap:8px;align-items:flex-end;flex-wrap:wrap"):
        with solara.Div(style="flex:1;min-width:150px"):
            html(
                f"{t('play_interval', lang)}: <b>{interval.value}</b>",
                style="font-size:12px;color:#444",
            )
            solara.SliderInt("", value=interval, min=0, max=2000, step=50)
        solara.InputInt(
            t("update_every", lang),
            value=every,
            continuous_update=False,
            classes=["eip-every"],
            style="max-width:130px",
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


def current_base(run: Run) -> Scenario:
    """The scenario a run's levers apply to: the run's own (its levers are all in it)."""
    return run.scenario


def _change_name(key: str, lang: str) -> str:
    if key == "seed":
        return t("seed", lang).split(" (")[0]
    if key == "scenario":
        return t("scenario", lang)
    return lever_label(BY_KEY[key], lang).split(" (")[0]


# --- levers -------------------------------------------------------------------------------------


@solara.component
def LeverControl(lever: Lever, value: Any, applied: Any, lang: str, on_value: Any):
    """One lever's control, highlighted when it differs from the run on screen."""
    cls = ["eip-lever", "eip-lever-" + lever.key.replace(".", "-").replace("_", "-")]
    if value != applied:
        cls.append("eip-changed")
    label = lever_label(lever, lang)
    with solara.Div(classes=cls):
        if isinstance(lever, Toggle):
            solara.Checkbox(label=label, value=bool(value), on_value=on_value, style="margin:0")
        elif isinstance(lever, Choice):
            labels = {lever.option_label(o, lang): o for o in lever.options}
            solara.Select(
                label,
                values=list(labels),
                value=lever.option_label(value, lang),
                on_value=lambda v: on_value(labels.get(v, value)),
                dense=True,
            )
        elif isinstance(lever, Slider):
            shown = lever_value_text(lever, value, lang)
            html(f"{label}: <b>{shown}</b>", classes=["eip-lever-label"])
            with solara.Row(style="align-items:center;gap:4px;margin-top:-6px"):
                with solara.Div(style="flex:1;min-width:0"):
                    if lever.integer:
                        solara.SliderInt(
                            "",
                            value=int(min(max(value, lever.lo), lever.hi)),
                            min=int(lever.lo),
                            max=int(lever.hi),
                            step=int(lever.step),
                            on_value=on_value,
                        )
                    else:
                        solara.SliderFloat(
                            "",
                            value=float(min(max(value, lever.lo), lever.hi)),
                            min=float(lever.lo),
                            max=float(lever.hi),
                            step=float(lever.step),
                            on_value=on_value,
                        )
                Exact(lever, value, on_value)
        elif isinstance(lever, Schedule):
            ScheduleControl(lever, value, lang, on_value)


@solara.component
def Exact(lever: Slider, value: Any, on_value: Any):
    """Exact numeric entry next to a slider (the value is checked on Apply)."""
    text = solara.use_reactive(lever.to_text(value))
    if text.value != lever.to_text(value) and _parses(lever, text.value) != value:
        text.set(lever.to_text(value))

    def commit(s: str) -> None:
        text.set(s)
        v = _parses(lever, s)
        if v is not None:
            on_value(v)

    solara.InputText(
        "",
        value=text.value,
        on_value=commit,
        continuous_update=False,
        classes=["eip-exact"],
        dense=True,
    )


def _parses(lever: Slider, s: str) -> Any:
    try:
        return lever.parse(s.replace(",", ".").strip())
    except (ValueError, TypeError):
        return None


@solara.component
def ScheduleControl(lever: Schedule, value: Any, lang: str, on_value: Any):
    """Items switched on at a month: a checkbox and the month for each."""
    html(lever_label(lever, lang), classes=["eip-lever-label"])
    have = dict(value)
    items = list(lever.choices) or []
    for i, _s in value:
        if i not in items:
            items.append(i)
    name = facility_name if lever.item_key == "kind" else material_name
    for item in items:

        def toggle(on: bool, item: str = item) -> None:
            d = dict(value)
            if on:
                d[item] = d.get(item, 0)
            else:
                d.pop(item, None)
            on_value(tuple(d.items()))

        def set_month(m: int | None, item: str = item) -> None:
            d = dict(value)
            d[item] = max(0, int(m or 0))
            on_value(tuple(d.items()))

        with solara.Row(style="align-items:center;gap:4px;margin:0"):
            with solara.Div(style="flex:1;min-width:0"):
                solara.Checkbox(
                    label=name(item, lang), value=item in have, on_value=toggle, style="margin:0"
                )
            if item in have:
                solara.InputInt(
                    t("month", lang),
                    value=int(have[item]),
                    on_value=set_month,
                    continuous_update=False,
                    classes=["eip-exact", "eip-month"],
                    dense=True,
                )


@solara.component
def LeverPanel(
    levers: solara.Reactive[Levers], base: solara.Reactive[Scenario], run: Run, lang: str
):
    """The levers; they change the next run (on Apply and reset), never the running one."""
    lv = levers.value
    seed_problem = ""
    try:
        parse_seed(lv.seed_text)
    except SeedError:
        seed_problem = t("seed_error", lang, max=SEED_MAX, text=lv.seed_text)
    load_problem = solara.use_reactive("")
    pending_switch = solara.use_reactive("")
    shown = solara.use_reactive("")  # what the picker shows: the file in use, or the pick
    paths: dict[str, str] = {}
    for p in scenario_choices(lv.scenario_path):
        paths.setdefault(short_name(p), p)  # one file per name: the one in use first

    def load(path: str) -> None:
        pending_switch.set("")
        try:
            new_levers, sc = Levers.load(path)
        except UserError as exc:
            load_problem.set(str(exc))
            return
        load_problem.set("")
        base.set(sc)
        levers.set(new_levers)

    def pick_scenario(label: str) -> None:
        shown.set(label)
        path = paths.get(label)
        if path is None or path == levers.value.scenario_path:
            return
        if [k for k in levers.value.changed(run.levers) if k != "scenario"]:
            pending_switch.set(path)  # ask first: loading drops the edits
        else:
            load(path)

    def cancel_switch() -> None:
        pending_switch.set("")
        shown.set(short_name(levers.value.scenario_path))

    solara.Select(
        t("scenario", lang),
        values=list(paths),
        value=shown.value if pending_switch.value else short_name(lv.scenario_path),
        on_value=pick_scenario,
        classes=["eip-scenario"]
        + (["eip-changed"] if lv.scenario_path != run.levers.scenario_path else []),
    )
    if pending_switch.value:
        n = len([k for k in lv.changed(run.levers) if k != "scenario"])
        with solara.Div(classes=["eip-pendingbox", "eip-switch-confirm"]):
            solara.Text(t("switch_confirm", lang, name=short_name(pending_switch.value), n=n))
            with solara.Row():
                solara.Button(
                    t("switch_ok", lang),
                    color="warning",
                    on_click=lambda: load(pending_switch.value),
                    classes=["eip-switch-ok"],
                )
                solara.Button(
                    t("cancel", lang),
                    text=True,
                    on_click=cancel_switch,
                    classes=["eip-switch-cancel"],
                )
    if load_problem.value:
        solara.Error(load_problem.value)
    for lever in LEVERS:

        def set_value(v: Any, key: str = lever.key) -> None:
            with contextlib.suppress(ValueError, TypeError):
                levers.set(levers.value.with_(key, v))

        LeverControl(lever, lv[lever.key], run.levers[lever.key], lang, set_value)
    seed_cls = ["eip-seed"] + (["eip-changed"] if "seed" in lv.changed(run.levers) else [])
    solara.InputText(
        t("seed", lang),
        value=lv.seed_text,
        on_value=lambda v: levers.set(levers.value.with_seed(v)),
        continuous_update=True,
        classes=seed_cls,
    )
    if seed_problem:
        solara.Error(seed_problem, classes=["eip-seed-error"])


# --- export ---------------------------------------------------------------------------------


@solara.component
def ExportPanel(run: Run, tick: solara.Reactive[int], file_levers: Levers, lang: str):
    """The run on screen: its timeseries (CSV, headed by its scenario, seed and levers), its
    scenario file (YAML, with its seed) and a link that reopens it."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = run.scenario.name

    def csv_data() -> str:
        return timeseries_csv(
            run.model, header=run_header(run.scenario, run.seed, run.levers.scenario_path)
        )

    def yaml_data() -> str:
        return scenario_yaml(run.scenario, note=f"saved from eipsim viz {stamp}, seed {run.seed}")

    solara.FileDownload(
        csv_data,
        filename=f"{name}-seed{run.seed}-timeseries-{stamp}.csv",
        label=t("download_csv", lang),
        mime_type="text/csv",
    )
    solara.FileDownload(
        yaml_data,
        filename=f"{name}-seed{run.seed}-settings-{stamp}.yaml",
        label=t("download_yaml", lang),
        mime_type="application/x-yaml",
    )
    solara.Text(t("yaml_hint", lang), style="font-size:12px;color:#666")
    query = run.levers.query(file_levers, seed=run.seed, lang=lang)
    html(
        f'<a class="eip-permalink" href="?{query}" target="_blank">{t("permalink", lang)}</a>'
        f'<div style="font-size:11px;color:#666">{t("permalink_hint", lang)}</div>',
        style="margin-top:6px;font-size:13px",
    )
    solara.Text(t("export_hint", lang), style="font-size:12px;color:#666")


# --- compare and ensembles ----------------------------------------------------------------------


@solara.component
def ComparePanel(run: Run, tick: solara.Reactive[int], kept: list[Kept], lang: str):
    """Any two runs side by side: their levers (differences highlighted) and their
    indicators at the same month, with B − A."""
    tick.value  # noqa: B018
    options = [t("this_run", lang)] + [k.label for k in kept]
    a_label = solara.use_reactive("")
    b_label = solara.use_reactive("")
    if not kept:
        solara.Text(t("no_reference", lang), style="font-size:12px", classes=["eip-no-reference"])
        return
    a = a_label.value if a_label.value in options else kept[-1].label
    b = b_label.value if b_label.value in options else options[0]
    with solara.Row(style="gap:8px"):
        solara.Select(
            t("compare_a", lang), values=options, value=a, on_value=a_label.set, dense=True
        )
        solara.Select(
            t("compare_b", lang), values=options, value=b, on_value=b_label.set, dense=True
        )

    def pick(label: str) -> tuple[Levers, Scenario, int, pd.DataFrame]:
        if label == options[0]:
            return run.levers, run.scenario, run.seed, model_frame(run.model)
        k = next(k for k in kept if k.label == label)
        return k.levers, k.scenario, k.seed, k.frame

    la, sa, seed_a, fa = pick(a)
    lb, sb, seed_b, fb = pick(b)
    va = Levers.from_scenario(sa, la.scenario_path)
    vb = Levers.from_scenario(sb, lb.scenario_path)
    rows = [
        (t("scenario", lang), short_name(la.scenario_path), short_name(lb.scenario_path)),
        (t("seed", lang).split(" (")[0], str(seed_a), str(seed_b)),
    ] + [
        (
            lever_label(lv, lang),
            lever_value_text(lv, va[lv.key], lang),
            lever_value_text(lv, vb[lv.key], lang),
        )
        for lv in LEVERS
    ]
    body = "".join(
        f"<tr class='{'eip-diff' if x != y else ''}'><td>{n}</td><td>{x}</td><td>{y}</td></tr>"
        for n, x, y in rows
    )
    bold(t("levers", lang))
    html(
        f"<tr><th></th><th>A: {a}</th><th>B: {b}</th></tr>{body}",
        classes=["eip-compare-levers"],
        style="font-size:12px;border-collapse:separate;border-spacing:6px 1px;width:100%",
        tag="table",
    )
    month = min(_last(fa), _last(fb))
    bold(f"{t('outcome', lang)}: {t('month', lang)} {month}")
    out = []
    for c in OUTCOMES:
        x, y = _at(fa, c, month), _at(fb, c, month)
        if x is None and y is None:
            continue
        d = (y - x) if x is not None and y is not None else None
        sign = "+" if d is not None and d > 0 else ""
        out.append(
            f"<tr><td>{kpi_name(c, lang)}</td><td style='text-align:right'>{_n(x, lang)}</td>"
            f"<td style='text-align:right'>{_n(y, lang)}</td><td style='text-align:right'>"
            f"<b>{sign}{_n(d, lang)}</b></td></tr>"
        )
    html(
        f"<tr><th></th><th>A</th><th>B</th><th>B − A</th></tr>{''.join(out)}",
        classes=["eip-compare-outcomes"],
        style="font-size:12px;border-collapse:separate;border-spacing:6px 1px;width:100%",
        tag="table",
    )


def _last(df: pd.DataFrame) -> int:
    return int(df["step"].iloc[-1]) if len(df) and "step" in df else 0


def _at(df: pd.DataFrame, col: str, month: int) -> float | None:
    if col not in df.columns or not len(df):
        return None
    rows = df[df["step"] == month]
    if not len(rows):
        return None
    return float(rows[col].iloc[-1])


def _n(v: float | None, lang: str) -> str:
    if v is None:
        return "–"
    return num(v, lang) if abs(v) >= 1 or v == 0 else num(v, lang, 3, trim=True)


def _spread_text(s: E.Spread | None, lang: str, signed: bool = False) -> str:
    if s is None:
        return "–"
    sign = "+" if signed and s.median > 0 else ""
    return f"{sign}{_n(s.median, lang)} [{_n(s.q25, lang)} … {_n(s.q75, lang)}]"


@solara.component
def EnsemblePanel(
    run: Run,
    reference: Kept | None,
    state: solara.Reactive[dict[str, Any] | None],
    ens_tick: solara.Reactive[int],
    lang: str,
):
    """Run N seeds in the background; progress, then the spread at the last month and,
    with a reference, the paired difference."""
    n = solara.use_reactive(8)
    ens_tick.value  # noqa: B018
    st = state.value

    def go() -> None:
        old = state.value
        if old:
            for e in (old.get("current"), old.get("reference")):
                if e is not None:
                    e.cancel()
        count = max(2, min(int(n.value or 8), 64))
        seeds = E.seeds_for(run.seed, count)
        cur = E.start(run.scenario, seeds, run.scenario.steps, t("this_run", lang))
        ref = (
            E.start(reference.scenario, seeds, reference.scenario.steps, t("reference", lang))
            if reference is not None
            else None
        )
        state.set({"current": cur, "reference": ref, "t0": time.perf_counter(), "t1": None})

    def clear() -> None:
        old = state.value
        if old:
            for e in (old.get("current"), old.get("reference")):
                if e is not None:
                    e.cancel()
        state.set(None)

    with solara.Row(style="align-items:center;gap:6px;flex-wrap:wrap"):
        solara.InputInt(
            t("n_seeds", lang),
            value=n,
            continuous_update=False,
            classes=["eip-nseeds"],
            style="max-width:90px",
        )
        solara.Button(
            t("run_seeds", lang, n=n.value),
            color="primary",
            on_click=go,
            classes=["eip-run-seeds"],
        )
        if st:
            solara.Button(t("clear_ensemble", lang), text=True, on_click=clear)
    solara.Text(t("ensemble_hint", lang), style="font-size:11px;color:#666")
    if not st:
        return
    cur, ref = st["current"], st.get("reference")
    total = len(cur.seeds) + (len(ref.seeds) if ref else 0)
    done = cur.done + (ref.done if ref else 0)
    secs = (st["t1"] or time.perf_counter()) - st["t0"]
    solara.Text(
        t("ensemble_progress", lang, done=done, total=total, secs=num(secs, lang, 1)),
        classes=["eip-ens-progress"] + (["eip-ens-done"] if st["t1"] else []),
        style="font-size:12px",
    )
    errors = cur.errors + (ref.errors if ref else [])
    if errors:
        solara.Error(t("ensemble_error", lang, n=len(errors), msg=errors[0]))


@solara.component
def EnsembleTable(
    state: solara.Reactive[dict[str, Any] | None],
    ens_tick: solara.Reactive[int],
    panels: list[Panel],
    horizon: int,
    lang: str,
):
    """The spread at the last month over the seeds and, with a reference, the difference
    seed by seed (median and interquartile range)."""
    ens_tick.value  # noqa: B018
    st = state.value
    if not st:
        return
    cur, ref = st["current"], st.get("reference")
    bold(f"{t('ensemble', lang)}: {t('median', lang)} [25 % … 75 %], n = {len(cur.frames)}")
    rows = E.summary_rows(cur, ref, OUTCOMES)
    head = f"<tr><th></th><th>{t('this_run', lang)}</th>"
    if ref is not None:
        head += f"<th>{t('reference', lang)}</th><th>{t('difference_ens', lang)}</th>"
    body = ""
    for r in rows:
        if r["current"] is None and r.get("reference") is None:
            continue
        body += (
            f"<tr><td>{kpi_name(r['column'], lang)}</td><td>{_spread_text(r['current'], lang)}</td>"
        )
        if ref is not None:
            body += (
                f"<td>{_spread_text(r['reference'], lang)}</td>"
                f"<td><b>{_spread_text(r['difference'], lang, signed=True)}</b></td>"
            )
        body += "</tr>"
    html(
        head + "</tr>" + body,
        classes=["eip-ens-table"],
        style="font-size:12px;border-collapse:separate;border-spacing:6px 1px;width:100%",
        tag="table",
    )
    if ref is not None and ref.frames and cur.frames:
        DifferenceCharts(cur, ref, panels, horizon, lang)


@solara.component
def DifferenceCharts(
    cur: E.Ensemble, ref: E.Ensemble, panels: list[Panel], horizon: int, lang: str
):
    """This run minus the reference over the months, seed by seed: the median difference
    and its interquartile band, around a zero line."""
    bold(t("difference_charts", lang))
    name = f"{t('this_run', lang)} − {t('reference', lang)}"
    with solara.Div(classes=["eip-chart-grid", "eip-diff-charts"]):
        for p in panels:
            col, label = p.series(lang)[0]
            band = E.difference_band(ref, cur, col)
            kind = "usd" if p.kind in ("share", "count") else p.kind  # a difference may be < 0
            svg = chart_svg(
                f"{p.title(lang)}: {t('difference', lang)}",
                [(col, label)],
                kind,
                [Layer(name, None, {col: band})],
                lang,
                horizon,
                css=f"eip-diff-{p.key.replace('_', '-')}",
            )
            SvgBox(svg=svg, filename=f"difference-{p.key}", box_class="eip-chart")


def use_ensemble_poll(
    state: solara.Reactive[dict[str, Any] | None], ens_tick: solara.Reactive[int]
) -> None:
    """Collect finished runs in a thread, bumping ``ens_tick`` as they arrive."""
    st = state.value

    def poll() -> None:
        if not st:
            return
        cur, ref = st["current"], st.get("reference")
        while state.value is st:
            got = E.collect(cur, timeout=0.25)
            if ref is not None:
                got = E.collect(ref, timeout=0.01) or got
            finished = cur.finished and (ref is None or ref.finished)
            if finished:
                st["t1"] = time.perf_counter()
            if got or finished:
                ens_tick.set(ens_tick.value + 1)
            if finished:
                return

    solara.lab.use_task(poll, dependencies=[id(st) if st else 0], prefer_threaded=True)


def bands_of(ens: E.Ensemble | None, panels: list[Panel]) -> dict[str, pd.DataFrame] | None:
    if ens is None or not ens.frames:
        return None
    frames = list(ens.frames.values())
    return {c: E.band(frames, c) for p in panels for c in p.columns}


@solara.component
def LiveCharts(
    run: Run,
    tick: solara.Reactive[int],
    reference: Kept | None,
    ens_state: solara.Reactive[dict[str, Any] | None],
    ens_tick: solara.Reactive[int],
    panels: list[Panel],
    lang: str,
):
    tick.value  # noqa: B018
    n_ens = ens_tick.value
    st = ens_state.value
    bands = solara.use_memo(
        lambda: bands_of(st["current"] if st else None, panels),
        [n_ens, id(st), tuple(p.key for p in panels)],
    )
    ref_bands = solara.use_memo(
        lambda: bands_of(st.get("reference") if st else None, panels),
        [n_ens, id(st), tuple(p.key for p in panels)],
    )
    data = ChartData(
        current=model_frame(run.model),
        reference=reference.frame if reference is not None else None,
        bands=bands,
        ref_bands=ref_bands,
    )
    markers = markers_of(run.scenario, lang)
    if reference is not None:
        have = {(m.month, m.label) for m in markers}
        markers += [
            Marker(m.month, f"{m.label} ({t('reference', lang)})")
            for m in markers_of(reference.scenario, lang)
            if (m.month, m.label) not in have
        ]
    Charts(
        data,
        panels,
        lang,
        run.scenario.steps,
        markers,
        certification=certification_line(run.model),
        stem=f"{run.scenario.name}-seed{run.seed}",
    )


# --- the page -----------------------------------------------------------------------------------


def _initial(search: str | None) -> tuple[Levers, Scenario, Run, Levers, str]:
    """This session's first model: from a permalink in the URL, else $EIPSIM_VIZ_SCENARIO
    or scenarios/baseline.yaml. Returns the levers, the base scenario, the run, the file's
    own levers and a message about parts of the link that could not be used."""
    note = ""
    got = None
    try:
        got = levers_from_query(search)
    except UserError as exc:
        note = str(exc)
    if got is not None:
        levers, sc, problems = got
        file_levers = Levers.from_scenario(sc, levers.scenario_path)
        if problems:
            note = ", ".join(problems)
        try:
            return levers, sc, build_run(levers, sc), file_levers, note
        except (UserError, SeedError) as exc:
            note = str(exc)
    path = default_scenario_path()
    levers, sc = Levers.load(path)
    return levers, sc, build_run(levers, sc), levers, note


@solara.component
def Page():
    router = solara.use_router()
    first = solara.use_memo(lambda: _initial(router.search), [])  # per page (session)
    query_lang = dict(p.split("=", 1) for p in (router.search or "").split("&") if "=" in p).get(
        "lang", "en"
    )
    lang = solara.use_reactive(query_lang if query_lang in LANGUAGES else "en")
    mode = solara.use_reactive("nationality")
    levers = solara.use_reactive(first[0])
    base = solara.use_reactive(first[1])
    run = solara.use_reactive(first[2])
    tick = solara.use_reactive(0)
    selected = solara.use_reactive(cast(int | None, None))
    materials = solara.use_reactive(cast(frozenset[str] | None, None))
    chosen = solara.use_reactive(list(DEFAULT_PANELS))
    kept = solara.use_reactive(cast(list[Kept], []))
    reference_label = solara.use_reactive("")
    ens_state = solara.use_reactive(cast(dict[str, Any] | None, None))
    ens_tick = solara.use_reactive(0)
    L = lang.value
    r = run.value
    table = solara.use_memo(panel_table, [])
    panels = [table[k] for k in chosen.value if k in table]
    reference = next((k for k in kept.value if k.label == reference_label.value), None)
    file_levers = solara.use_memo(
        lambda: (
            Levers.from_scenario(base.value, levers.value.scenario_path)
            if base.value is not None
            else first[3]
        ),
        [levers.value.scenario_path, base.value],
    )
    use_ensemble_poll(ens_state, ens_tick)
    solara.use_effect(E.warm_up, [])  # start the model processes before they are needed

    def on_new_run(new: Run) -> None:
        # the address bar follows the run on screen: a reload or a copied URL reopens it
        fl = Levers.from_scenario(base.value, new.levers.scenario_path)
        router.push(f"{router.path or '/'}?{new.levers.query(fl, seed=new.seed, lang=lang.value)}")
        selected.set(None)
        st = ens_state.value
        if st is not None:  # the spread belonged to the old run's levers
            st["current"].cancel()
            if st.get("reference") is not None:
                st["reference"].cancel()
            ens_state.set(None)

    def keep() -> None:
        cur = run.value
        label = f"{chr(ord('A') + len(kept.value) % 26)}{'' if len(kept.value) < 26 else len(kept.value) // 26}"
        k = Kept(
            label=f"{label}: {cur.scenario.name}, {t('seed', 'en').split(' (')[0].lower()} {cur.seed}",
            levers=cur.levers,
            scenario=cur.scenario,
            seed=cur.seed,
            frame=model_frame(cur.model).copy(),
        )
        kept.set([*kept.value, k][-8:])
        reference_label.set(k.label)

    solara.Title("eipsim")
    solara.Style(CSS)
    with solara.Div(classes=["eip-head"]):
        html(escape_text(t("title", L)), classes=["eip-title"])
        with solara.ToggleButtonsSingle(
            value=L, on_value=lang.set, classes=["eip-lang"], dense=True
        ):
            for code, name in LANGUAGES.items():
                solara.Button(name, value=code, text=True)
    if first[4]:
        solara.Warning(
            t("link_problem", L, what=first[4]), dense=True, classes=["eip-link-problem"]
        )
    with solara.Div(classes=["eip-shell"]):
        with solara.Div(classes=["eip-side"]):
            with solara.Div(classes=["eip-runbar"]):
                Controller(run, levers, base, tick, on_new_run, L)
            with solara.Card(t("compare", L), margin=0, elevation=1):
                with solara.Row(style="gap:4px;flex-wrap:wrap"):
                    solara.Button(
                        t("keep_reference", L),
                        on_click=keep,
                        classes=["eip-keep"],
                        outlined=True,
                    )
                    if reference is not None:
                        solara.Button(
                            t("clear_reference", L),
                            on_click=lambda: reference_label.set(""),
                            text=True,
                            classes=["eip-clear-ref"],
                        )
                if kept.value:
                    solara.Select(
                        t("reference", L),
                        values=[k.label for k in kept.value],
                        value=reference.label if reference else "",
                        on_value=lambda v: reference_label.set(v or ""),
                        dense=True,
                        classes=["eip-reference"],
                    )
            with solara.Card(t("ensemble", L), margin=0, elevation=1):
                EnsemblePanel(r, reference, ens_state, ens_tick, L)
            with solara.Card(t("levers", L), margin=0, elevation=1):
                LeverPanel(levers, base, r, L)
            with solara.Card(t("export", L), margin=0, elevation=1):
                ExportPanel(r, tick, file_levers, L)
        with solara.Div(classes=["eip-main"]):
            with solara.Div(classes=["eip-top"]):
                with solara.Div(classes=["eip-box", "eip-map-card"]):
                    with solara.Row(style="align-items:center;gap:6px;flex-wrap:wrap"):
                        html(t("map", L), classes=["eip-box-title"])
                        with solara.ToggleButtonsSingle(
                            value=mode.value,
                            on_value=mode.set,
                            dense=True,
                            classes=["eip-colour-by"],
                        ):
                            solara.Button(t("by_nationality", L), value="nationality", text=True)
                            solara.Button(t("by_sector", L), value="sector", text=True)
                    ParkMap(
                        r.model,
                        r.scenario,
                        tick,
                        L,
                        mode.value,
                        selected.value,
                        materials.value,
                        on_select=selected.set,
                    )
                    solara.Text(t("map_hint", L), style="font-size:11px;color:#666")
                with solara.Div(classes=["eip-box", "eip-charts-card"]):
                    html(t("charts", L), classes=["eip-box-title"])
                    LiveCharts(r, tick, reference, ens_state, ens_tick, panels, L)
                    labels = {table[k].title(L): k for k in table}
                    solara.SelectMultiple(
                        t("choose_charts", L),
                        values=[table[k].title(L) for k in chosen.value if k in table],
                        all_values=list(labels),
                        on_value=lambda vs: chosen.set([labels[v] for v in vs if v in labels]),
                        dense=True,
                        classes=["eip-choose-charts"],
                    )
            with solara.Div(classes=["eip-row2"]):
                with solara.Div(classes=["eip-box", "eip-network-card"]):
                    html(t("network", L), classes=["eip-box-title"])
                    NetworkGraph(
                        r.model,
                        r.scenario,
                        tick,
                        L,
                        mode.value,
                        selected.value,
                        materials.value,
                        on_select=selected.set,
                    )
                    solara.Text(t("network_hint", L), style="font-size:11px;color:#666")
                    MaterialFilter(materials, L)
                with solara.Div(classes=["eip-box", "eip-firm-card"]):
                    if selected.value is None:
                        html(t("inspect", L), classes=["eip-box-title"])
                        solara.Text(t("inspect_hint", L), style="font-size:12px")
                    else:
                        with solara.Div(classes=["eip-firm-panel"]):
                            FirmPanel(
                                r.model, tick, int(selected.value), L, lambda: selected.set(None)
                            )
            with solara.Div(classes=["eip-row2"]):
                with solara.Div(classes=["eip-box", "eip-compare-card"]):
                    html(t("compare", L), classes=["eip-box-title"])
                    ComparePanel(r, tick, kept.value, L)
                    EnsembleTable(ens_state, ens_tick, panels, r.scenario.steps, L)
                with solara.Div(classes=["eip-box", "eip-summary-card"]):
                    html(t("summary", L), classes=["eip-box-title"])
                    Summary(r.model, tick, L, run_lines(r, L))


def escape_text(s: str) -> str:
    from html import escape

    return escape(s)


__all__ = ["Kept", "Page", "Run", "build_run", "run_lines"]
