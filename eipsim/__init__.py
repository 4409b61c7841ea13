"""eipsim: agent-based simulation of industrial symbiosis adoption in eco-industrial parks."""

from eipsim.domain.simulation import RunResult, run
from eipsim.errors import UserError
from eipsim.scenario.schema import Scenario, load_scenario

__version__ = "0.1.0"
__all__ = ["RunResult", "Scenario", "UserError", "load_scenario", "run", "__version__"]
