"""A tenant firm on a plot.

The firm's numbers live in the model's per-slot arrays (so that the pair economics and
trust updates are vectorised) and its identity in the model's ``FirmRegistry``; the agent
is a readable view of both. Its decisions are in ``eipsim.domain.behaviour``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mesa.discrete_space import FixedAgent

from eipsim.domain.state import FirmIdentity

if TYPE_CHECKING:
    from eipsim.domain.model import EIPModel


class Firm(FixedAgent):
    model: EIPModel

    def __init__(self, model: EIPModel, slot: int):
        super().__init__(model)
        self.slot = slot
        self.cell = model.park.grid[model.park.xy(slot)]

    @property
    def identity(self) -> FirmIdentity:
        return self.model.firm_registry.identity(self.unique_id)

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def sector(self) -> str:
        return self.identity.sector

    @property
    def nationality(self) -> str:
        return self.identity.nationality

    @property
    def size(self) -> float:
        return float(self.model.state.size[self.slot])

    @property
    def confidentiality(self) -> float:
        return float(self.model.state.conf[self.slot])

    @property
    def hurdle(self) -> float:
        return float(self.model.state.hurdle[self.slot])

    @property
    def listed(self) -> bool:
        return bool(self.model.state.listed[self.slot])

    @property
    def recp_aware(self) -> bool:
        return bool(self.model.state.recp_aware[self.slot])

    @property
    def recp_applied(self) -> bool:
        return bool(self.model.state.recp_applied[self.slot])

    def streams(self) -> dict[str, dict[str, float]]:
        """Expected monthly supplies and demands by material (after RECP)."""
        st, mats = self.model.state, self.model.catalogue.materials
        sup, dem = st.base_supply[self.slot], st.base_demand[self.slot]
        return {
            "supplies": {mats[m]: float(sup[m]) for m in sup.nonzero()[0]},
            "demands": {mats[m]: float(dem[m]) for m in dem.nonzero()[0]},
        }

    def trust_in(self, other: Firm) -> float:
        return float(self.model.trust.T[self.slot, other.slot])

    def close(self) -> None:
        """Leave the park: links break, trust and acquaintance rows are cleared."""
        self.model.vacate(self)
