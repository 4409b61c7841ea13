"""Mesa agents: firms, the park operator and the government coordinator."""

from eipsim.agents.firm import Firm
from eipsim.agents.government import Government
from eipsim.agents.operator import Operator

__all__ = ["Firm", "Government", "Operator"]
