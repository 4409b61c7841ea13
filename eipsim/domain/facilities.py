"""Shared facilities the park operator builds and runs (brief, obstacle 5 and levers).

A facility takes what is left of its materials after firm-to-firm links, from the firms
connected to it, and turns a share into reuse. Firms connect only if it pays and if they
trust the operator enough (and, where cost data must be disclosed, more than their
parent company's confidentiality).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FacilityContext:
    """What a facility needs to see of the park this month."""

    alive: np.ndarray
    res_supply: np.ndarray  # (N, M), reduced in place by intake
    res_demand: np.ndarray  # (N, M), reduced in place by deliveries
    trust_op: np.ndarray
    conf: np.ndarray
    size: np.ndarray
    standard: np.ndarray  # (M,) bool
    threshold: float
    annuity: float
    capex_subsidy: float
    landfill_tax: float
    taxable: np.ndarray  # (M,)
    disposal: np.ndarray  # (M,)
    virgin: np.ndarray  # (M,)
    gamma: np.ndarray  # (M,)


@dataclass
class Flows:
    recovered: np.ndarray  # (M,) units reused (t or MWh)
    intake: np.ndarray  # (M,) units taken in
    solar_mwh: float = 0.0
    benefit_usd: float = 0.0  # firms' net saving this month
    revenue_usd: float = 0.0  # operator's fees this month
    opex_usd: float = 0.0


@dataclass
class Facility:
    kind: str
    spec: dict[str, Any]
    materials: tuple[int, ...]
    build_step: int
    slot: int
    built: bool = False
    users: set[int] = field(default_factory=set)
    throughput_last: float = 0.0
    needs_disclosure: bool = False

    @property
    def label(self) -> str:
        return self.spec.get("label", self.kind)

    def _monthly_connection(self, ctx: FacilityContext) -> float:
        return self.spec["connection_usd"] * (1.0 - ctx.capex_subsidy) * ctx.annuity

    def _willing(self, ctx: FacilityContext, saving: np.ndarray) -> np.ndarray:
        """Alive, unconnected firms for which connecting pays and the operator is trusted."""
        ok = ctx.alive & (saving > self._monthly_connection(ctx)) & (ctx.trust_op >= ctx.threshold)
        if self.needs_disclosure:
            ok &= ctx.trust_op >= ctx.conf
        return ok

    def connect(self, ctx: FacilityContext) -> None:
        saving = self._expected_saving(ctx)
        new = np.flatnonzero(self._willing(ctx, saving))
        self.users.update(int(i) for i in new)

    def drop(self, slot: int) -> None:
        self.users.discard(slot)

    def _expected_saving(self, ctx: FacilityContext) -> np.ndarray:
        k, sp = self.kind, self.spec
        if k == "solar_microgrid":
            kwh = sp["kwp_per_firm"] * sp["kwh_per_kwp_month"] * ctx.size
            return kwh * (sp["grid_price_usd_per_kwh"] - sp["solar_price_usd_per_kwh"])
        m = np.array(self.materials)
        fee = sp["opex_usd_per_unit"]
        if k == "wastewater_treatment":  # reuse users: buy treated water instead of mains water
            if not ctx.standard[m[0]]:
                return np.zeros(ctx.alive.size)
            return ctx.res_demand[:, m[0]] * (ctx.virgin[m[0]] * ctx.gamma[m[0]] - fee)
        if k == "steam_network":
            price = ctx.virgin[m[0]] * ctx.gamma[m[0]]
            as_user = ctx.res_demand[:, m[0]] * (price - fee)
            as_supplier = (
                ctx.res_supply[:, m[0]] * 0.3 * price
            )  # assumed: heat sold at 30 % of value
            return np.maximum(as_user, as_supplier)
        # materials recovery: cheaper than disposal plus tax
        unit = ctx.disposal[m] + ctx.landfill_tax * ctx.taxable[m] - fee
        return ctx.res_supply[:, m] @ unit

    def step(self, ctx: FacilityContext) -> Flows:
        M = ctx.res_supply.shape[1]
        fl = Flows(recovered=np.zeros(M), intake=np.zeros(M))
        if not self.built:
            return fl
        self.connect(ctx)
        users = np.fromiter(self.users, dtype=int) if self.users else np.zeros(0, dtype=int)
        users = users[ctx.alive[users]] if users.size else users
        takers = users
        if self.kind == "wastewater_treatment":
            # Dischargers must connect to the central plant (treatment is disposal, not
            # symbiosis); ``users`` are the firms that opted in to take reuse water.
            takers = np.flatnonzero(ctx.alive & (ctx.res_supply[:, self.materials[0]] > 0))
        sp = self.spec
        if self.kind == "solar_microgrid":
            kwh = sp["kwp_per_firm"] * sp["kwh_per_kwp_month"] * ctx.size[users]
            fl.solar_mwh = float(kwh.sum() / 1000.0)
            fl.benefit_usd = float(
                kwh.sum() * (sp["grid_price_usd_per_kwh"] - sp["solar_price_usd_per_kwh"])
            )
            fl.revenue_usd = users.size * self._monthly_connection(ctx)
            self.throughput_last = fl.solar_mwh
            return fl
        cap, rec, fee = sp["capacity_per_month"], sp["recovery_share"], sp["opex_usd_per_unit"]
        m = np.array(self.materials)
        offered = ctx.res_supply[np.ix_(takers, m)]
        total = offered.sum()
        take = min(1.0, cap / total) if total > 0 else 0.0
        intake = offered * take
        ctx.res_supply[np.ix_(takers, m)] -= intake
        fl.intake[m] = intake.sum(axis=0)
        if self.kind == "materials_recovery":
            fl.recovered[m] = rec * fl.intake[m]
            unit = ctx.disposal[m] + ctx.landfill_tax * ctx.taxable[m] - fee
            fl.benefit_usd = float(intake.sum(axis=0) @ unit)
        else:
            w = m[0]
            reusable = rec * fl.intake[w]
            if self.kind == "wastewater_treatment" and not ctx.standard[w]:
                reusable = 0.0
            demand = ctx.res_demand[users, w]
            greening = 0.1 * fl.intake[w] if self.kind == "wastewater_treatment" else 0.0
            delivered = min(reusable, demand.sum() + greening)
            to_firms = min(delivered, demand.sum())
            if demand.sum() > 0:
                ctx.res_demand[users, w] -= demand * (to_firms / demand.sum())
            fl.recovered[w] = delivered
            fl.benefit_usd = float(to_firms * (ctx.virgin[w] * ctx.gamma[w] - fee))
        fl.opex_usd = float(fl.intake.sum() * fee)
        fl.revenue_usd = float(users.size * self._monthly_connection(ctx) + fl.intake.sum() * fee)
        self.throughput_last = float(fl.intake.sum())
        return fl


def make_facility(
    kind: str, spec: dict[str, Any], materials: tuple[str, ...], build_step: int, slot: int
) -> Facility:
    names = spec.get("materials") or [spec["material"]]
    idx = tuple(materials.index(n) for n in names if n in materials)
    return Facility(
        kind=kind,
        spec=spec,
        materials=idx,
        build_step=build_step,
        slot=slot,
        needs_disclosure=kind == "steam_network",
    )
