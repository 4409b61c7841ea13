"""eipsim's park map, network and charts as components for Mesa's own ``SolaraViz``.

Mesa calls each component with the model and re-renders it after every step through its
``update_counter``; these components subscribe to that counter, so they can be composed
with a Mesa user's own components::

    from mesa.visualization import SolaraViz
    from eipsim.viz.mesa_components import ChartsView, NetworkView, ParkMapView, make_charts

    page = SolaraViz(model, components=[ParkMapView, NetworkView, make_charts(["tonnes"])])

``eipsim/viz/mesa_example.py`` is a complete page (``solara run eipsim/viz/mesa_example.py``).
Clicking a firm on the map opens its panel below the map, as in the eipsim app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import solara
from mesa.visualization.utils import update_counter

from eipsim.viz.components import (
    ChartData,
    Charts,
    FirmPanel,
    NetworkGraph,
    ParkMap,
    certification_line,
    model_frame,
    tick_value,
)
from eipsim.viz.drawing import Marker
from eipsim.viz.levers import BY_KEY, Choice, Slider, Toggle, lever_label
from eipsim.viz.panels import DEFAULT_PANELS, panel_table, schedule_markers

CSS = """
.eip-chart-grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:2px 6px}
.eip-mesa-map{max-width:430px}
"""


def scenario_of(model: Any) -> Any:
    """The eipsim scenario a model was built from."""
    return model.sc


@solara.component
def ParkMapView(model: Any, lang: str = "en", mode: str = "nationality"):
    """The park map; a click on a plot shows the firm's panel under it."""
    selected = solara.use_reactive(None)
    solara.Style(CSS)
    with (
        solara.Card("Park map" if lang == "en" else "Bản đồ khu công nghiệp"),
        solara.Div(classes=["eip-mesa-map"]),
    ):
        ParkMap(
            model,
            scenario_of(model),
            update_counter,
            lang,
            mode,
            selected.value,
            None,
            on_select=selected.set,
        )
        if selected.value is not None:
            FirmPanel(model, update_counter, int(selected.value), lang, lambda: selected.set(None))


@solara.component
def NetworkView(model: Any, lang: str = "en", mode: str = "nationality"):
    """The symbiosis network (firms by sector around a circle, links by material)."""
    with solara.Card("Symbiosis network" if lang == "en" else "Mạng lưới cộng sinh"):
        NetworkGraph(model, scenario_of(model), update_counter, lang, mode)


@solara.component
def ChartsView(model: Any, panels: Sequence[str] = DEFAULT_PANELS, lang: str = "en"):
    """Charts of the model's indicators over the months, with the scenario's schedules as
    markers (the platform's launch, facility build months, reuse standards)."""
    tick_value(update_counter)  # re-render after each step
    table = panel_table()
    sc = scenario_of(model)
    chosen = [table[k] for k in panels if k in table]
    markers = [Marker(m, label) for m, label in schedule_markers(sc, lang)]
    solara.Style(CSS)
    with solara.Card("Over time" if lang == "en" else "Theo thời gian"):
        Charts(
            ChartData(current=model_frame(model)),
            chosen,
            lang,
            int(sc.steps),
            markers,
            certification=certification_line(model),
            stem=f"{sc.name}-seed{getattr(model, 'seed_used', '')}",
        )


def make_charts(panels: Sequence[str], lang: str = "en") -> Callable[[Any], Any]:
    """A ``ChartsView`` with chosen charts (keys of ``eipsim.viz.panels.panel_table()``)."""

    def view(model: Any) -> Any:
        return ChartsView(model, panels=tuple(panels), lang=lang)

    return view


def mesa_param(key: str, value: Any, lang: str = "en") -> dict[str, Any]:
    """A SolaraViz ``model_params`` entry for an eipsim lever, from the one lever table."""
    lever = BY_KEY[key]
    label = lever_label(lever, lang)
    if isinstance(lever, Slider):
        kind = "SliderInt" if lever.integer else "SliderFloat"
        return {
            "type": kind,
            "value": value,
            "min": lever.lo,
            "max": lever.hi,
            "step": lever.step,
            "label": label,
        }
    if isinstance(lever, Toggle):
        return {"type": "Checkbox", "value": bool(value), "label": label}
    if isinstance(lever, Choice):
        return {"type": "Select", "value": value, "values": list(lever.options), "label": label}
    raise ValueError(f"{key}: a {lever.kind} lever has no SolaraViz input")
