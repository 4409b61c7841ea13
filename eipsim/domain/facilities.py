"""Shared facilities the park operator builds and runs (brief, obstacle 5 and levers).

A facility takes what is left of its materials after firm-to-firm links, from the firms
connected to it, and turns a share into reuse. Firms connect only if it pays and if they
trust the operator enough (``behaviour.connects_to_facility``).

Each kind is a class registered under the key it has in data/facilities.yaml, carrying
its own behaviour: a new kind is one class here plus one YAML entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from eipsim.domain import behaviour
from eipsim.domain.economics import EconParams
from eipsim.domain.types import BoolArray, FloatArray, IntArray


@dataclass
class ParkNow:
    """What a facility sees of the park this month (residuals are reduced in place)."""

    alive: BoolArray
    res_supply: FloatArray  # (N, M) left after links; facility intake is taken from it
    res_demand: FloatArray  # (N, M) left after links; facility deliveries are taken from it
    trust_op: FloatArray
    conf: FloatArray
    size: FloatArray
    standard: BoolArray  # (M,) a reuse standard is in force
    # trust a firm needs to deal with the operator: one for all, or each firm's own
    threshold: float | FloatArray


@dataclass
class Flows:
    """What facilities moved this month, and who paid whom."""

    recovered: FloatArray  # (M,) units reused (t or MWh)
    intake: FloatArray  # (M,) units taken in
    solar_mwh: float = 0.0
    benefit_usd: float = 0.0  # firms' net saving this month
    revenue_usd: float = 0.0  # operator's fees this month
    opex_usd: float = 0.0
    # -- parts of the above, for the honest indicators (they change no existing flow) ----
    # (M,) of ``recovered``: delivered to connected firms, and to uses outside the firms
    # (the wastewater plant's greening); recovered without a delivery (the materials-recovery
    # facility's secondary material) is in neither
    to_firms: FloatArray = field(default_factory=lambda: np.zeros(0))
    outside: FloatArray = field(default_factory=lambda: np.zeros(0))
    levy_avoided_usd: float = 0.0  # of ``benefit_usd``: levies the firms no longer pay

    @classmethod
    def empty(cls, n_mat: int) -> Flows:
        return cls(
            recovered=np.zeros(n_mat),
            intake=np.zeros(n_mat),
            to_firms=np.zeros(n_mat),
            outside=np.zeros(n_mat),
        )


FACILITY_TYPES: dict[str, type[Facility]] = {}


def facility_kind(name: str) -> Callable[[type[Facility]], type[Facility]]:
    """Register a facility class under its key in data/facilities.yaml."""

    def register(cls: type[Facility]) -> type[Facility]:
        cls.kind = name
        FACILITY_TYPES[name] = cls
        return cls

    return register


@dataclass
class Facility:
    """A shared facility of one kind: its spec (data/facilities.yaml), its materials, the
    month it is due, its plot, and the firms connected to it."""

    kind: ClassVar[str] = ""
    symbiosis: ClassVar[bool] = False  # shared production infrastructure (Circular 05/2025 b)
    needs_disclosure: ClassVar[bool] = False  # connecting reveals cost data to the operator
    network: ClassVar[bool] = False  # a piped network: links may connect for a fee

    spec: dict[str, Any]
    materials: tuple[int, ...]
    build_step: int
    slot: int
    built: bool = False
    users: set[int] = field(default_factory=set)
    throughput_last: float = 0.0
    flows_last: Flows | None = None  # this facility's own flows in its last month

    @property
    def label(self) -> str:
        return str(self.spec.get("label", self.kind))

    @property
    def land_share(self) -> float:
        return float(self.spec.get("land_share", 0.0))

    @property
    def capex_usd(self) -> float:
        return float(self.spec.get("capex_usd", 0.0))

    def user_slots(self) -> IntArray:
        return np.fromiter(self.users, dtype=np.int64, count=len(self.users))

    def configure(self, options: dict[str, Any]) -> None:
        """Scenario options for this kind (from the operator); most kinds take none."""

    # -- the operator's appraisal (operator.shared_infrastructure[].mandated: false) --------
    def would_connect(self, park: ParkNow, econ: EconParams) -> BoolArray:
        """The firms that would connect now (the connection rule, without connecting)."""
        willing: BoolArray = behaviour.connects_to_facility(
            self.expected_saving(park, econ),
            self.monthly_connection(econ),
            park.alive,
            park.trust_op,
            park.conf,
            park.threshold,
            self.needs_disclosure,
        )
        return willing

    def expected_intake(self, park: ParkNow, takers: BoolArray) -> float:
        """Units a month the facility would take in from ``takers``, up to capacity."""
        m = np.array(self.materials, dtype=np.int64)
        if m.size == 0:
            return 0.0
        offered = float(park.res_supply[np.ix_(np.flatnonzero(takers), m)].sum())
        return min(offered, float(self.spec.get("capacity_per_month", 0.0)))

    def intake_takers(self, park: ParkNow, willing: BoolArray) -> BoolArray:
        """Whose residues it would take: the connected firms (the wastewater plant: all)."""
        return willing

    def expected_fees(self, park: ParkNow, econ: EconParams) -> tuple[float, float]:
        """(revenue, opex) a month if it ran now: connection charges of the firms that would
        connect and gate fees on what it would take in, against its operating cost."""
        willing = self.would_connect(park, econ)
        fee = float(self.spec.get("opex_usd_per_unit", 0.0))
        intake = self.expected_intake(park, self.intake_takers(park, willing))
        revenue = float(willing.sum()) * self.monthly_connection(econ) + fee * intake
        return revenue, fee * intake

    def npv(self, park: ParkNow, econ: EconParams) -> float:
        """The operator's NPV of building now: the monthly net fees over the horizon at the
        monthly rate r = i/12, i.e. divided by the annuity factor, minus the capex it pays
        after the government's capital subsidy."""
        revenue, opex = self.expected_fees(park, econ)
        own_capex = self.capex_usd * (1.0 - econ.government.capex_subsidy_share)
        return (revenue - opex) / econ.annuity - own_capex

    def monthly_connection(self, econ: EconParams) -> float:
        """A user's monthly charge for its connection, net of the capital subsidy."""
        share = econ.government.capex_subsidy_share
        return float(self.spec["connection_usd"] * (1.0 - share) * econ.annuity)

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        """Each firm's monthly saving if it used the facility."""
        raise NotImplementedError

    def connect(self, park: ParkNow, econ: EconParams) -> None:
        """The firms willing now connect (the same rule the appraisal counts)."""
        willing = self.would_connect(park, econ)
        self.users.update(int(i) for i in np.flatnonzero(willing))

    def drop(self, slot: int) -> None:
        self.users.discard(slot)

    def step(self, park: ParkNow, econ: EconParams) -> Flows:
        """Connect willing firms, then operate for a month."""
        fl = Flows.empty(park.res_supply.shape[1])
        self.flows_last = fl
        if not self.built:
            return fl
        self.connect(park, econ)
        users = self.user_slots()
        users = users[park.alive[users]] if users.size else users
        self.operate(park, econ, users, fl)
        return fl

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        raise NotImplementedError

    # -- shared by the kinds that take in a stream ------------------------------------------
    def take_in(self, park: ParkNow, takers: IntArray, fl: Flows) -> tuple[FloatArray, IntArray]:
        """Take residual supply from ``takers`` up to capacity, in proportion."""
        cap = self.spec["capacity_per_month"]
        m = np.array(self.materials)
        offered = park.res_supply[np.ix_(takers, m)]
        total = offered.sum()
        take = min(1.0, cap / total) if total > 0 else 0.0
        intake = offered * take
        park.res_supply[np.ix_(takers, m)] -= intake
        fl.intake[m] = intake.sum(axis=0)
        return intake, m

    def settle(self, econ: EconParams, users: IntArray, fl: Flows) -> None:
        fee = self.spec["opex_usd_per_unit"]
        fl.opex_usd = float(fl.intake.sum() * fee)
        fl.revenue_usd = float(users.size * self.monthly_connection(econ) + fl.intake.sum() * fee)
        self.throughput_last = float(fl.intake.sum())

    def deliver_reuse(
        self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows, extra_outlet: float
    ) -> None:
        """Deliver the reusable share of intake to connected users (and ``extra_outlet``
        units to uses outside the firms), the users' saving being virgin input avoided."""
        w = self.materials[0]
        fee = self.spec["opex_usd_per_unit"]
        reusable = self.spec["recovery_share"] * fl.intake[w]
        if not self.reuse_allowed(park):
            reusable = 0.0
        demand = park.res_demand[users, w]
        delivered = min(reusable, demand.sum() + extra_outlet)
        to_firms = min(delivered, demand.sum())
        if demand.sum() > 0:
            park.res_demand[users, w] -= demand * (to_firms / demand.sum())
        fl.recovered[w] = delivered
        fl.to_firms[w] = to_firms
        fl.outside[w] = delivered - to_firms
        fl.benefit_usd = float(to_firms * (self.reuse_value(econ) - fee))

    def reuse_allowed(self, park: ParkNow) -> bool:
        return True

    def reuse_value(self, econ: EconParams) -> float:
        """What a unit of the facility's output saves a user: the virgin input it replaces,
        at the catalogue's price (facilities do not follow the price index)."""
        w = self.materials[0]
        return float(econ.mat["virgin_price_usd"][w] * econ.mat["substitution_ratio"][w])


@facility_kind("wastewater_treatment")
class WastewaterTreatment(Facility):
    """Central treatment with reuse. Dischargers must connect (treatment is disposal, not
    symbiosis); ``users`` are the firms that opted in to take reuse water, which needs a
    reuse standard for treated wastewater."""

    symbiosis = True
    network = True
    GREENING_SHARE: ClassVar[float] = 0.1  # assumed: share of intake reused for greening

    def reuse_allowed(self, park: ParkNow) -> bool:
        return bool(park.standard[self.materials[0]])

    def intake_takers(self, park: ParkNow, willing: BoolArray) -> BoolArray:
        takers: BoolArray = park.alive & (park.res_supply[:, self.materials[0]] > 0)
        return takers

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        w = self.materials[0]
        if not park.standard[w]:
            return np.zeros(park.alive.size)
        fee = self.spec["opex_usd_per_unit"]
        return park.res_demand[:, w] * (self.reuse_value(econ) - fee)

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        w = self.materials[0]
        self.take_in(park, np.flatnonzero(self.intake_takers(park, park.alive)), fl)
        self.deliver_reuse(park, econ, users, fl, self.GREENING_SHARE * fl.intake[w])
        self.settle(econ, users, fl)


@facility_kind("steam_network")
class SteamNetwork(Facility):
    """A steam/heat network: suppliers of surplus heat feed it, users draw from it.
    Connecting means disclosing cost data to the operator."""

    symbiosis = True
    needs_disclosure = True
    network = True
    SUPPLIER_VALUE_SHARE: ClassVar[float] = 0.3  # assumed: heat sold at 30 % of its value

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        w = self.materials[0]
        price = self.reuse_value(econ)
        as_user = park.res_demand[:, w] * (price - self.spec["opex_usd_per_unit"])
        as_supplier = park.res_supply[:, w] * self.SUPPLIER_VALUE_SHARE * price
        return np.maximum(as_user, as_supplier)

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        self.take_in(park, users, fl)
        self.deliver_reuse(park, econ, users, fl, 0.0)
        self.settle(econ, users, fl)


@facility_kind("materials_recovery")
class MaterialsRecovery(Facility):
    """Takes mixed residues from connected firms for a gate fee cheaper than landfill."""

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        m = np.array(self.materials)
        unit = econ.avoided[m] - self.spec["opex_usd_per_unit"]
        saving: FloatArray = park.res_supply[:, m] @ unit
        return saving

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        intake, m = self.take_in(park, users, fl)
        fl.recovered[m] = self.spec["recovery_share"] * fl.intake[m]
        unit = econ.avoided[m] - self.spec["opex_usd_per_unit"]
        fl.benefit_usd = float(intake.sum(axis=0) @ unit)
        fl.levy_avoided_usd = float(intake.sum(axis=0) @ econ.levy[m])
        self.settle(econ, users, fl)


@facility_kind("solar_microgrid")
@dataclass
class SolarMicrogrid(Facility):
    """Rooftop solar on connected firms' roofs, sold to them below the grid price.

    Sizing (``operator.solar_sizing``): ``per_firm`` gives a firm of size z
    ``kwp_per_firm`` x z kWp (the first version); ``roof`` caps it by the firm's usable roof,
    ``roof_m2_per_firm`` x z x ``roof_usable_share`` x ``kwp_per_m2``. A firm that would
    connect waits ``government.solar_licence_months`` for its licence (brief, obstacle 6)."""

    sizing: str = "per_firm"
    # slot -> months its licence has still to wait (a firm applied, not yet connected)
    licensing: dict[int, int] = field(default_factory=dict)

    def configure(self, options: dict[str, Any]) -> None:
        self.sizing = str(options.get("solar_sizing", "per_firm"))
        if self.sizing == "roof":
            # the effective kWp per unit of firm size, so output and the capacity indicator
            # (which reads ``kwp_per_firm``) follow the roof cap
            self.spec = {**self.spec, "kwp_per_firm": self.kwp_per_size()}

    def kwp_per_size(self) -> float:
        """kWp on a firm of size 1: per firm, or capped by its usable roof."""
        sp = self.spec
        per_firm = float(sp["kwp_per_firm"])
        if self.sizing != "roof":
            return per_firm
        roof = float(sp["roof_m2_per_firm"]) * float(sp["roof_usable_share"])
        return min(per_firm, roof * float(sp["kwp_per_m2"]))

    def _kwh(self, size: FloatArray) -> FloatArray:
        return self.spec["kwp_per_firm"] * self.spec["kwh_per_kwp_month"] * size

    def _margin(self) -> float:
        sp = self.spec
        return float(sp["grid_price_usd_per_kwh"] - sp["solar_price_usd_per_kwh"])

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        return self._kwh(park.size) * self._margin()

    def connect(self, park: ParkNow, econ: EconParams) -> None:
        delay = econ.government.solar_licence_months
        if delay <= 0 and not self.licensing:
            super().connect(park, econ)
            return
        # licences granted this month connect (if the firm is still there); then new
        # applicants join the queue
        for slot, left in list(self.licensing.items()):
            if left <= 1:
                del self.licensing[slot]
                if park.alive[slot]:
                    self.users.add(slot)
            else:
                self.licensing[slot] = left - 1
        willing = self.would_connect(park, econ)
        for i in np.flatnonzero(willing):
            slot = int(i)
            if slot not in self.users and slot not in self.licensing:
                if delay <= 0:
                    self.users.add(slot)
                else:
                    self.licensing[slot] = delay

    def drop(self, slot: int) -> None:
        super().drop(slot)
        self.licensing.pop(slot, None)

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        kwh = self._kwh(park.size[users])
        fl.solar_mwh = float(kwh.sum() / 1000.0)
        fl.benefit_usd = float(kwh.sum() * self._margin())
        fl.revenue_usd = users.size * self.monthly_connection(econ)
        self.throughput_last = fl.solar_mwh


@facility_kind("recycled_plastic_roads")
@dataclass
class RecycledPlasticRoads(Facility):
    """The operator's own use of a by-product: park roads whose asphalt takes shredded
    plastic residue (DEEP C with Dow, 2019: a first 200 m section, then 1,200 m).

    Connected firms hand over their residual ``plastic_residue`` free of charge (they save
    its disposal); each section needs ``plastic_t_per_m`` x its length, gathered over as
    many months as it takes, and the next section starts ``section_gap_months`` after the
    last one is laid. It needs no reuse standard: a pilot the operator tests itself (DEEP C's
    mix was tested by Vietnam Maritime University)."""

    laid_m: float = 0.0
    section: int = 0  # index of the section being gathered or next due
    outstanding_t: float = 0.0  # plastic still needed for the section under way
    wait_months: int = 0  # months until the next section starts

    def sections(self) -> list[float]:
        return [float(x) for x in self.spec.get("sections_m", [])]

    def _gathering(self) -> bool:
        return self.outstanding_t > 0 or (
            self.section < len(self.sections()) and self.wait_months <= 0
        )

    def expected_saving(self, park: ParkNow, econ: EconParams) -> FloatArray:
        m = np.array(self.materials, dtype=np.int64)
        if not self._gathering():
            return np.zeros(park.alive.size)
        unit = econ.avoided[m] - float(self.spec.get("opex_usd_per_unit", 0.0))
        saving: FloatArray = park.res_supply[:, m] @ unit
        return saving

    def expected_intake(self, park: ParkNow, takers: BoolArray) -> float:
        need = self.outstanding_t or (
            self.sections()[self.section] * float(self.spec["plastic_t_per_m"])
            if self.section < len(self.sections())
            else 0.0
        )
        return min(need, super().expected_intake(park, takers))

    def operate(self, park: ParkNow, econ: EconParams, users: IntArray, fl: Flows) -> None:
        secs = self.sections()
        if self.outstanding_t <= 0:
            if self.section >= len(secs):
                return
            if self.wait_months > 0:
                self.wait_months -= 1
                return
            self.outstanding_t = secs[self.section] * float(self.spec["plastic_t_per_m"])
        m = np.array(self.materials, dtype=np.int64)
        offered = park.res_supply[np.ix_(users, m)]
        total = float(offered.sum())
        take = min(1.0, self.outstanding_t / total) if total > 0 else 0.0
        intake = offered * take
        park.res_supply[np.ix_(users, m)] -= intake
        fl.intake[m] = intake.sum(axis=0)
        fl.recovered[m] = fl.intake[m]  # all of it goes into the asphalt
        fl.outside[m] = fl.intake[m]  # a use outside the firms: the operator's roads
        unit = econ.avoided[m] - float(self.spec.get("opex_usd_per_unit", 0.0))
        fl.benefit_usd = float(intake.sum(axis=0) @ unit)
        fl.levy_avoided_usd = float(intake.sum(axis=0) @ econ.levy[m])
        self.outstanding_t -= float(fl.intake.sum())
        if self.outstanding_t <= 1e-9:
            self.outstanding_t = 0.0
            self.laid_m += secs[self.section]
            self.section += 1
            self.wait_months = int(self.spec.get("section_gap_months", 0))
        self.settle(econ, users, fl)


def make_facility(
    kind: str, spec: dict[str, Any], materials: tuple[str, ...], build_step: int, slot: int
) -> Facility:
    """A facility of a registered kind, its materials resolved to catalogue indices."""
    names = spec.get("materials") or [spec["material"]]
    idx = tuple(materials.index(n) for n in names if n in materials)
    return FACILITY_TYPES[kind](spec=spec, materials=idx, build_step=build_step, slot=slot)
