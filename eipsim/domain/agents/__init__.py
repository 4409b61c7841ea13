"""Mesa agents: firms, the park operator and the government coordinator."""

from eipsim.domain.agents.firm import Firm
from eipsim.domain.agents.government import Government
from eipsim.domain.agents.operator import Operator

__all__ = ["Firm", "Government", "Operator"]
