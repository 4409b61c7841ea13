"""Honest indicators (issue 8, item 10; docs/ODD.md §7.17): solids balance apart from water
and energy, water reused apart from greening, CO2 against the real counterfactual, social
benefit without transfers, cross-national links, and network measures of the link graph."""

from __future__ import annotations

from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from conftest import SCENARIOS

import eipsim
from eipsim.domain import indicators, network
from eipsim.domain.economics import Candidates, EconParams, pair_economics, transfers
from eipsim.domain.facilities import Flows, WastewaterTreatment
from eipsim.domain.indicators import GRID_CO2_T_PER_MWH, MonthView
from eipsim.domain.links import ACTIVE, ENDED, PENDING, LinkFlows
from eipsim.domain.model import EIPModel

SHIPPED = sorted(p.stem for p in SCENARIOS.glob("*.yaml"))


def _value(name: str, view: MonthView) -> float:
    return float(indicators.compute(view)[name])


# -- solids ------------------------------------------------------------------------------
def test_solids_are_neither_water_nor_energy_nor_products(baseline):
    v = EIPModel(baseline.with_overrides({"firms.count": 10})).view()
    solid = dict(zip(v.catalogue.materials, v.solid, strict=True))
    for m in ("scrap_metal", "steel_slag", "fly_ash", "plastic_scrap", "organic_waste"):
        assert solid[m], m
    for m in ("treated_wastewater", "waste_heat", "recycled_pellets"):
        assert not solid[m], m


@pytest.mark.parametrize("name", SHIPPED)
def test_solid_balance_holds_every_month(name):
    sc = eipsim.load_scenario(SCENARIOS / f"{name}.yaml")
    moved = 0.0
    for seed in (1, 2, 3):
        ts = eipsim.run(sc, seed=seed, steps=36).timeseries
        gen, ex, land = ts.solid_generated_t, ts.solid_exchanged_t, ts.solid_landfilled_t
        gap = (gen - ex - land).abs()
        assert (gap <= 1e-9 * np.maximum(gen, 1.0)).all(), gap.max()
        assert (ex >= 0).all() and (land >= -1e-9).all()
        # solids are a part of all tonnage (which is mostly water)
        assert (gen <= ts.waste_generated_t + 1e-9).all()
        assert (gen < 0.5 * ts.waste_generated_t).all()
        rate = np.where(gen > 0, ex / gen.where(gen > 0, 1.0), 0.0)
        assert np.allclose(ts.solid_diversion_rate, rate)
        moved += float(ex.sum())
    if name != "baseline":
        assert moved > 0  # the balance was tested with something exchanged


def test_solid_balance_counts_facility_rejects(lively):
    """The materials-recovery facility's unrecovered intake is landfilled: without it the
    balance would fail (so the test above can fail)."""
    m = EIPModel(lively, seed=3)
    rejects = 0.0
    for _ in range(24):
        m.step()
        v = m.metrics
        gen, ex, land = v["solid_generated_t"], v["solid_exchanged_t"], v["solid_landfilled_t"]
        assert gen == pytest.approx(ex + land, rel=1e-12, abs=1e-9)
        mrf = [f for f in m.operator.facilities if f.kind == "materials_recovery"]
        fl = mrf[0].flows_last
        if fl is not None:
            rejects += float((fl.intake - fl.recovered).sum())
    assert rejects > 0


# -- water and energy ----------------------------------------------------------------------
def test_water_reused_plus_greening_is_the_plants_reuse_plus_links(lively):
    m = EIPModel(lively, seed=2)
    w = m.catalogue.material_index("treated_wastewater")
    greened = 0.0
    for _ in range(24):
        m.step()
        plant = next(f for f in m.operator.facilities if isinstance(f, WastewaterTreatment))
        fl = plant.flows_last
        assert fl is not None
        assert fl.to_firms[w] + fl.outside[w] == pytest.approx(fl.recovered[w], abs=1e-6)
        L = m.links
        rows, delivered = m._last_delivered
        link_water = sum(d for r, d in zip(rows, delivered, strict=True) if L.m[r] == w)
        got = m.metrics["water_reused_m3"] + m.metrics["water_greening_m3"]
        assert got == pytest.approx(link_water + fl.recovered[w], rel=1e-12, abs=1e-6)
        assert m.metrics["water_greening_m3"] == pytest.approx(fl.outside[w])
        if plant.built and fl.intake[w] > 0 and fl.recovered[w] > 0:
            share = WastewaterTreatment.GREENING_SHARE
            assert fl.outside[w] <= share * fl.intake[w] + 1e-6
        greened += m.metrics["water_greening_m3"]
    assert greened > 0


def test_water_indicators_are_zero_in_a_view_without_flows(lively):
    m = EIPModel(lively, seed=2)
    for _ in range(8):
        m.step()
    v = m.view()
    assert _value("water_greening_m3", v) == 0.0
    assert _value("water_reused_m3", v) == 0.0
    assert _value("social_benefit_usd", v) == 0.0


def test_energy_exchanged_is_the_heat_and_solar_capacity_matches_output():
    sc = eipsim.load_scenario(SCENARIOS / "deepc_dinhvu.yaml")
    ts = eipsim.run(sc, seed=1, steps=36).timeseries
    assert (ts.energy_exchanged_mwh == ts.heat_exchanged_mwh).all()
    spec = eipsim.scenario.catalogue.load_catalogue().facilities["solar_microgrid"]
    # users may leave after the month's output, never join: capacity at the end <= output's
    mwh_from_kwp = ts.solar_capacity_kwp * spec["kwh_per_kwp_month"] / 1000.0
    assert (mwh_from_kwp <= ts.solar_mwh + 1e-6).all()
    on = ts.solar_mwh > 0
    assert on.any()
    assert np.isclose(mwh_from_kwp[on], ts.solar_mwh[on]).mean() > 0.5
    assert np.allclose(ts.co2_avoided_solar_t, ts.solar_mwh * GRID_CO2_T_PER_MWH)


# -- CO2 against the counterfactual ----------------------------------------------------------
def _view_with(model: EIPModel, moved: dict[str, float], greening: float = 0.0) -> MonthView:
    cat = model.catalogue
    n, M = model.park.n_plots, model.n_mat
    lf = LinkFlows.empty(n, M)
    for name, q in moved.items():
        lf.by_material[cat.material_index(name)] = q
    return replace(model.view(), link_flows=lf, fac_flows=Flows.empty(M))


def test_counterfactual_co2_gives_scrap_no_credit(baseline):
    m = EIPModel(baseline.with_overrides({"firms.count": 10}))
    for scrap in ("scrap_metal", "plastic_scrap", "recycled_pellets"):
        v = _view_with(m, {scrap: 100.0})
        assert _value("co2_avoided_t", v) == pytest.approx(150.0)  # the old credit, 1.5 t/t
        assert _value("co2_avoided_counterfactual_t", v) == 0.0
    v = _view_with(m, {"steel_slag": 100.0, "organic_waste": 10.0, "scrap_metal": 50.0})
    # slag 0.1 t/t, organic 0.5 t/t: landfilled today, so credited; scrap not
    assert _value("co2_avoided_counterfactual_t", v) == pytest.approx(10.0 + 5.0)
    assert _value("co2_avoided_t", v) == pytest.approx(10.0 + 5.0 + 75.0)


def test_counterfactual_co2_leaves_out_greening_and_solar(lively):
    m = EIPModel(lively, seed=2)
    e = m.catalogue.mat["co2_t_per_unit"]
    for _ in range(24):
        m.step()
    ts = m.datacollector.get_model_vars_dataframe()
    assert (ts.co2_avoided_counterfactual_t <= ts.co2_avoided_t + 1e-9).all()
    w = m.catalogue.material_index("treated_wastewater")
    gap = ts.co2_avoided_t - ts.co2_avoided_counterfactual_t - ts.co2_avoided_solar_t
    # what is left is the scrap credit (>= 0) plus the greening water's
    assert (gap >= ts.water_greening_m3 * e[w] - 1e-9).all()
    assert ts.co2_avoided_solar_t.iloc[-1] > 0


# -- private and social benefit ---------------------------------------------------------------
def _econ(baseline, **gov) -> EconParams:
    sc = baseline.with_overrides({f"government.{k}": v for k, v in gov.items()})
    cat = eipsim.scenario.catalogue.load_catalogue()
    return EconParams.build(cat.mat, sc.costs, sc.government)


def _one_link(material: str, q: float, dist_km: float = 1.0) -> Candidates:
    cat = eipsim.scenario.catalogue.load_catalogue()
    a = np.array
    return Candidates(
        a([0]),
        a([1]),
        a([cat.material_index(material)]),
        a([q]),
        a([dist_km]),
        a([0.6]),
        a([0.6]),
        a([0.3]),
        a([0.3]),
        a([False]),
    )


def test_social_benefit_of_one_link_excludes_tax_and_subsidy(baseline):
    """Steel slag, 100 t a month, landfill tax 20 USD/t, exchange subsidy 5 USD/t: the link's
    private benefit includes 100 x 20 = 2,000 USD of tax avoided and 100 x 5 = 500 USD of
    subsidy; the social benefit is the link's benefit with neither instrument."""
    M = len(eipsim.scenario.catalogue.load_catalogue().materials)
    conn = np.full(M, np.nan)
    std = np.ones(M, dtype=bool)
    c = _one_link("steel_slag", 100.0)
    p = _econ(baseline, landfill_tax_usd_per_t=20.0, exchange_subsidy_usd_per_t=5.0)
    p0 = _econ(baseline)
    tr = transfers(p, c, conn)
    assert tr.levy_avoided[0] == pytest.approx(2000.0)
    assert tr.exchange_subsidy[0] == pytest.approx(500.0)
    assert tr.capex_subsidy[0] == 0.0
    private = pair_economics(p, c, std, conn).benefit[0]
    social = private - tr.total[0]
    assert private - social == pytest.approx(2500.0)
    assert social == pytest.approx(pair_economics(p0, c, std, conn).benefit[0])
    # by hand: S_i = 100 x 12 (gate fee), S_j = 0.9 x 100 x 10, C = transport + 100 x 4
    k = baseline.costs
    transport = 100.0 * k.transport_usd_per_t_km * 1.0
    transaction = pair_economics(p0, c, std, conn).transaction[0]
    assert social == pytest.approx(1200.0 + 900.0 - transport - 400.0 - transaction)


def test_carbon_price_and_capital_subsidy_are_transfers(baseline):
    M = len(eipsim.scenario.catalogue.load_catalogue().materials)
    conn, std = np.full(M, np.nan), np.ones(M, dtype=bool)
    # carbon price 10 USD/t CO2e on combustible waste (0.45 t CO2e/t landfilled), 50 t
    c = _one_link("combustible_waste", 50.0)
    p = _econ(baseline, carbon_price_usd_per_t_co2=10.0, landfill_tax_usd_per_t=20.0)
    assert transfers(p, c, conn).levy_avoided[0] == pytest.approx(50.0 * (20.0 + 10.0 * 0.45))
    # a private pipe for treated wastewater: the subsidised share of its capital charge
    w = _one_link("treated_wastewater", 5000.0, dist_km=0.5)
    p3 = _econ(baseline, capex_subsidy_share=0.3)
    p0 = _econ(baseline)
    gross = 0.5 * 1000.0 * baseline.costs.pipe_usd_per_m * p0.annuity
    tr = transfers(p3, w, conn)
    assert tr.capex_subsidy[0] == pytest.approx(0.3 * gross)
    b3 = pair_economics(p3, w, std, conn).benefit[0]
    b0 = pair_economics(p0, w, std, conn).benefit[0]
    assert b3 - tr.total[0] == pytest.approx(b0 - transfers(p0, w, conn).total[0])
    # paid off: no capital charge, so no capital subsidy
    assert transfers(p3, w, conn, paid_off=np.array([True])).capex_subsidy[0] == 0.0


def test_model_books_the_transfers_of_a_delivered_link(baseline):
    """One hand-made slag link of 100 t in a park with a tax and a subsidy: the month's
    private and social benefit differ by exactly the tax and subsidy on 100 t."""
    sc = baseline.with_overrides(
        {
            "firms.count": 10,
            "government.landfill_tax_usd_per_t": 20.0,
            "government.exchange_subsidy_usd_per_t": 5.0,
        }
    )
    m = EIPModel(sc, seed=1)
    cat, n, M = m.catalogue, m.park.n_plots, m.n_mat
    slag = cat.material_index("steel_slag")
    a, b = np.flatnonzero(m.state.alive)[:2]
    st = m.state
    m.links.add(
        np.array([a]),
        np.array([b]),
        np.array([slag]),
        np.array([100.0]),
        0,
        np.array([0]),
        st.uid[[a]],
        st.uid[[b]],
        np.array([False]),
    )
    supply = np.zeros((n, M))
    supply[a, slag] = 1000.0
    flows = m._deliver(supply, np.ones((n, M)))
    assert flows.by_material[slag] == pytest.approx(100.0)
    assert flows.levy_avoided_usd == pytest.approx(2000.0)
    assert flows.subsidy_usd == pytest.approx(500.0)
    v = replace(m.view(), link_flows=flows)
    private, social = _value("private_benefit_usd", v), _value("social_benefit_usd", v)
    assert private == pytest.approx(flows.benefit_usd)
    assert private - social == pytest.approx(2500.0)
    frame = m.links_frame()
    assert frame.benefit_usd[0] - frame.social_benefit_usd[0] == pytest.approx(2500.0)


def test_private_equals_net_benefit_and_social_is_lower_with_a_tax():
    sc = eipsim.load_scenario(SCENARIOS / "nam_cau_kien.yaml")
    plain = eipsim.run(sc, seed=1, steps=36).summary
    assert plain["total_private_benefit_usd"] == plain["total_net_benefit_usd"]
    # no tax, subsidy or carbon price: nothing to take out
    assert plain["total_social_benefit_usd"] == pytest.approx(plain["total_private_benefit_usd"])
    taxed = eipsim.run(
        sc.with_overrides({"government.landfill_tax_usd_per_t": 20}), seed=1, steps=36
    ).summary
    assert taxed["total_social_benefit_usd"] < taxed["total_private_benefit_usd"]


# -- cross-national links and network measures -------------------------------------------------
def _hand_links(m: EIPModel, pairs: list[tuple[int, int]], status: int = ACTIVE) -> None:
    st = m.state
    s = np.array([p[0] for p in pairs])
    u = np.array([p[1] for p in pairs])
    rows = m.links.add(
        s,
        u,
        np.zeros(len(pairs), dtype=np.int64),
        np.ones(len(pairs)),
        0,
        np.zeros(len(pairs), dtype=np.int64),
        st.uid[s],
        st.uid[u],
        np.zeros(len(pairs), dtype=bool),
    )
    if status != ACTIVE:
        m.links.status[rows] = status


def _model_with_nationalities(baseline) -> tuple[EIPModel, list[int], list[int]]:
    m = EIPModel(baseline.with_overrides({"firms.count": 40}), seed=4)
    alive = np.flatnonzero(m.state.alive)
    nat = m.state.nat[alive]
    first = alive[nat == nat[0]]
    other = alive[nat != nat[0]]
    assert first.size >= 3 and other.size >= 3
    return m, [int(x) for x in first], [int(x) for x in other]


def test_cross_national_share_by_hand(baseline):
    m, same, other = _model_with_nationalities(baseline)
    assert _value("cross_national_link_share", m.view()) == 0.0  # no links: 0
    a, b, c = same[0], same[1], other[0]
    _hand_links(m, [(a, b), (a, c), (c, b)])
    _hand_links(m, [(other[1], same[2])], status=ENDED)  # ended: not counted
    assert _value("cross_national_link_share", m.view()) == pytest.approx(2.0 / 3.0)
    frame = m.links_frame()
    nats = m.nationalities
    for row in frame.itertuples():
        s_slot = int(m.links.s[row.link_id])
        u_slot = int(m.links.u[row.link_id])
        assert row.supplier_nationality == nats[m.state.nat[s_slot]]
        assert row.user_nationality == nats[m.state.nat[u_slot]]
        assert row.distance_km == pytest.approx(
            float(m.distance_km(np.array([s_slot]), np.array([u_slot]))[0])
        )
    assert (frame.supplier_nationality != frame.user_nationality).sum() == 3


def test_network_measures_on_a_hand_made_link_set():
    s = np.array([1, 1, 2, 5, 6, 1])
    u = np.array([2, 3, 3, 6, 5, 2])
    nm = network.measures(s, u)
    # pairs {1,2} {1,3} {2,3} {5,6}; degrees 2, 2, 2, 1, 1
    assert (nm.nodes, nm.edges, nm.max_degree, nm.hub, nm.largest_component) == (5, 4, 2, 1, 3)
    assert nm.mean_degree == pytest.approx(8.0 / 5.0)
    star = network.measures(np.array([7, 7, 7, 3]), np.array([1, 2, 3, 4]))
    assert (star.hub, star.max_degree, star.largest_component) == (7, 3, 5)
    assert network.measures(np.array([], dtype=int), np.array([], dtype=int)).hub == -1
    assert network.mean_lifetime(
        np.array([0, 2, 5]), np.array([10, 8, 5]), np.array([True, True, False])
    ) == pytest.approx(8.0)
    assert network.mean_lifetime(np.array([0]), np.array([3]), np.array([False])) == -1.0


def test_network_measures_agree_with_networkx():
    rng = np.random.default_rng(11)
    for _ in range(20):
        k = int(rng.integers(1, 60))
        s, u = rng.integers(0, 40, k), rng.integers(0, 40, k)
        nm = network.measures(s, u)
        g = network.link_graph(s, u)
        if g.number_of_nodes() == 0:
            assert nm.nodes == 0
            continue
        assert nm.nodes == g.number_of_nodes() and nm.edges == g.number_of_edges()
        assert nm.max_degree == max(d for _, d in g.degree)
        assert nm.largest_component == max(len(c) for c in nx.connected_components(g))


def test_network_indicators_on_a_constructed_model(baseline):
    m, same, other = _model_with_nationalities(baseline)
    a, b, c, d, e = same[0], same[1], same[2], other[0], other[1]
    _hand_links(m, [(a, b), (a, c), (a, d), (d, e)])
    _hand_links(m, [(b, e)], status=ENDED)
    L = m.links
    L.start[: L.n] = 2
    L.end[4] = 9  # the ended link delivered for 7 months
    v = m.view()
    assert _value("hub_degree", v) == 3
    assert _value("mean_degree", v) == pytest.approx(2 * 4 / 5)
    assert _value("largest_component_share", v) == pytest.approx(1.0)
    assert _value("mean_link_lifetime_months", v) == pytest.approx(7.0)
    _hand_links(m, [(other[2], other[3])])
    v = m.view()
    assert _value("largest_component_share", m.view()) == pytest.approx(5 / 7)
    fm = network.frame_measures(m.links_frame())
    hub = m.firm_at[a]
    assert hub is not None
    assert (fm["hub_name"], fm["hub_sector"], fm["max_degree"]) == (hub.name, hub.sector, 3)
    assert fm["mean_link_lifetime_months"] == pytest.approx(7.0)
    # a permit refused before any delivery has no lifetime: ended as the model ends it
    # (status, end and reason together: the indicators' terms are kept until a status changes)
    _hand_links(m, [(same[1], same[2])], status=PENDING)
    L.start[L.n - 1] = 2
    L.end_links(np.array([L.n - 1]), 9, "permit_refused")
    assert _value("mean_link_lifetime_months", m.view()) == pytest.approx(7.0)
    L.end_links(np.array([0]), 12, "unprofitable")  # 10 months from its start
    assert _value("mean_link_lifetime_months", m.view()) == pytest.approx((7 + 10) / 2)


def test_summary_keys_are_numeric(lively):
    """Sweeps store summaries as float columns: every new key must be a number."""
    res = eipsim.run(lively, seed=1, steps=12)
    new = [k for ind in indicators.HONEST for k in ind.summary]
    assert set(new) <= set(res.summary)
    for k in new:
        assert isinstance(res.summary[k], int | float), k
    assert {"supplier_nationality", "user_nationality", "distance_km"} <= set(res.links.columns)


def test_largest_component_share_is_over_all_firms_in_symbiosis(lively):
    """Users of shared infrastructure are in symbiosis but not in the link graph."""
    m = EIPModel(lively, seed=4)
    alive = [int(x) for x in np.flatnonzero(m.state.alive)]
    _hand_links(m, [(alive[0], alive[1]), (alive[1], alive[2])])
    assert _value("largest_component_share", m.view()) == pytest.approx(1.0)
    plant = next(f for f in m.operator.facilities if isinstance(f, WastewaterTreatment))
    plant.built = True
    plant.users = {alive[3]}
    assert _value("firms_in_symbiosis", m.view()) == 4
    assert _value("largest_component_share", m.view()) == pytest.approx(3 / 4)


def test_unsold_scrap_is_the_sold_off_park_part_of_solids_not_exchanged(baseline):
    m = EIPModel(baseline.with_overrides({"firms.count": 10}))
    cat = m.catalogue
    n, M = m.park.n_plots, m.n_mat
    res = np.zeros((n, M))
    res[0, cat.material_index("scrap_metal")] = 30.0
    res[1, cat.material_index("steel_slag")] = 70.0
    res[2, cat.material_index("recycled_pellets")] = 500.0  # a product: not a solid
    v = replace(m.view(), supply=res.copy(), res_supply=res)
    assert _value("solid_generated_t", v) == 100.0
    assert _value("solid_landfilled_t", v) == 100.0
    assert _value("solid_sold_off_park_t", v) == 30.0
