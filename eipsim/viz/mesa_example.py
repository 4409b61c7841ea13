"""eipsim in Mesa's own SolaraViz: ``solara run eipsim/viz/mesa_example.py``.

An example of composing eipsim's components (``eipsim.viz.mesa_components``) with Mesa's
``SolaraViz(model, components=[...])``: Mesa supplies the Step / Play / Reset controls, the
"Time:" read-out and the parameter inputs; eipsim supplies the park map (click a plot for
the firm's panel), the network and the charts. The scenario is $EIPSIM_VIZ_SCENARIO or
scenarios/baseline.yaml.

As in any SolaraViz page, the model built at module level is shared by every browser
session until someone presses Reset; use ``eipsim viz`` for one model per session.
"""

from __future__ import annotations

import solara.server.settings
from mesa.visualization import SolaraViz

from eipsim.domain.model import EIPModel
from eipsim.scenario.schema import load_scenario
from eipsim.viz.levers import default_scenario_path, parse_seed
from eipsim.viz.mesa_components import ChartsView, NetworkView, ParkMapView, mesa_param

solara.server.settings.telemetry.mixpanel_enable = False  # no usage reports
solara.server.settings.theme.show_banner = False

SCENARIO = default_scenario_path()
_BASE = load_scenario(SCENARIO)


class ParkModel(EIPModel):
    """``EIPModel`` with keyword arguments, because SolaraViz's Reset rebuilds the model as
    ``type(model)(**model_params)``."""

    def __init__(
        self,
        scenario_file: str = SCENARIO,
        seed: int | str = _BASE.seed,
        landfill_tax: float = _BASE.government.landfill_tax_usd_per_t,
        platform: bool = _BASE.operator.platform.enabled,
    ):
        sc = load_scenario(scenario_file).with_overrides(
            {
                "government.landfill_tax_usd_per_t": float(landfill_tax),
                "operator.platform.enabled": bool(platform),
            }
        )
        super().__init__(sc, seed=parse_seed(str(seed)))


model_params = {
    "scenario_file": SCENARIO,  # fixed
    "seed": {"type": "InputText", "value": str(_BASE.seed), "label": "Seed"},
    # inputs from eipsim's lever table, so labels and ranges match the eipsim app
    "landfill_tax": mesa_param(
        "government.landfill_tax_usd_per_t", _BASE.government.landfill_tax_usd_per_t
    ),
    "platform": mesa_param("operator.platform.enabled", _BASE.operator.platform.enabled),
}

model = ParkModel()
page = SolaraViz(
    model,
    components=[ParkMapView, NetworkView, ChartsView],
    model_params=model_params,
    name="eipsim in Mesa's SolaraViz",
)
