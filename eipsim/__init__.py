"""eipsim: agent-based simulation of industrial symbiosis adoption in eco-industrial parks."""

from eipsim.config import Scenario, load_scenario
from eipsim.errors import UserError
from eipsim.simulation import RunResult, run

__version__ = "0.1.0"
__all__ = ["RunResult", "Scenario", "UserError", "load_scenario", "run", "__version__"]
