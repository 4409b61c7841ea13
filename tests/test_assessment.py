"""The yearly EIP assessment (Decree 82/2018 and Decree 35/2022 criteria) on a constructed
situation whose values are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from eipsim import run
from eipsim.domain.assessment import CRITERIA, criteria_values
from eipsim.domain.model import EIPModel
from eipsim.scenario.schema import _default_criteria

FIXED = {
    "park.shared_land_share": 0.2,
    "operator.shared_infrastructure": ["wastewater_treatment"],
    # the plant is built in month 1 whatever the operator's cash (the default credit line
    # of 0 would make it wait for the rent to pay for it)
    "operator.credit_line_usd": 1e10,
    "operator.platform.enabled": True,
    "operator.arrivals_per_year": 0.0,
    "firms.exit_rate_per_year": 0.0,
}


def situation(sc, **over):
    """30 firms, all aware of RECP, 6 applying it (0.2), one active link between two firms,
    three more firms planning a link (5 of 30 in or planning = 0.167), the central wastewater
    plant built (land 0.20 + 0.02 = 0.22) and the platform running."""
    m = EIPModel(sc.with_overrides({**FIXED, **over}), seed=1)
    m.operator.begin_month(1)
    st = m.state
    alive = np.flatnonzero(st.alive)
    assert alive.size == 30
    st.recp_aware[alive] = True
    st.recp_applied[:] = False
    st.recp_applied[alive[:6]] = True
    s, u = alive[0], alive[1]
    m.links.add(
        np.array([s]),
        np.array([u]),
        np.array([0]),
        np.array([10.0]),
        1,
        np.array([1]),
        st.uid[[s]],
        st.uid[[u]],
        np.array([False]),
    )
    st.planning[:] = False
    st.planning[alive[2:5]] = True
    return m


def test_criteria_values_by_hand(small):
    m = situation(small)
    v = criteria_values(m.view(step=36))
    assert v == pytest.approx(
        {
            "recp_aware_share": 1.0,
            "recp_applied_share": 0.2,
            "shared_land_share": 0.22,
            "implemented_links": 1.0,
            "planning_share": 5 / 30,
            "years_compliant": 3.0,
            "wastewater_treatment": 1.0,
            "symbiosis_services": 1.0,
            "information_sharing": 1.0,
        }
    )


def test_one_criterion_short_means_no_certification(small):
    m = situation(small)
    res = m.government.assess(m.view(step=36))
    unmet = [k for k, (_, _, met, _) in res.items() if not met]
    assert unmet == ["shared_land_share"]  # 0.22 < 0.25 (Decree 82)
    assert res["shared_land_share"][:3] == pytest.approx((0.22, 0.25, False))
    assert m.government.score == pytest.approx(8 / 9)
    assert not m.government.certified


def test_certified_only_when_all_met(small):
    m = situation(small, **{"park.shared_land_share": 0.25})
    res = m.government.assess(m.view(step=36))
    assert all(met for _, _, met, _ in res.values())
    assert m.government.score == 1.0 and m.government.certified
    # a year earlier the park has not been compliant for 3 years (Decree 35)
    res = m.government.assess(m.view(step=24))
    assert not res["years_compliant"][2]
    assert not m.government.certified and m.government.score == pytest.approx(8 / 9)


def test_services_without_information_sharing(small):
    """Matchmaking events are a symbiosis service but not an information-sharing mechanism."""
    m = situation(small, **{"operator.platform.enabled": False})
    m.operator.hold_event()
    v = criteria_values(m.view(step=36))
    assert v["symbiosis_services"] == 1.0 and v["information_sharing"] == 0.0
    m = situation(small, **{"operator.platform.enabled": False})
    assert criteria_values(m.view(step=36))["symbiosis_services"] == 0.0


def test_planning_share_counts_pending_and_exploring_firms(small):
    m = situation(small)
    m.state.planning[:] = False
    assert criteria_values(m.view(step=36))["planning_share"] == pytest.approx(2 / 30)
    res = m.government.assess(m.view(step=36))
    assert not res["planning_share"][2]  # 0.067 < 0.1


def test_thresholds_and_sources_come_from_config(small):
    rule = {"metric": "implemented_links", "threshold": 2, "source": "Test rule 1/2025"}
    m = situation(small, **{"government.assessment.criteria": [rule]})
    res = m.government.assess(m.view(step=36))
    assert res == {"implemented_links": (1.0, 2.0, False, "Test rule 1/2025")}
    assert m.government.score == 0.0 and not m.government.certified
    m = situation(small, **{"government.assessment.criteria": [{**rule, "threshold": 1}]})
    assert m.government.assess(m.view(step=36))["implemented_links"][2]
    assert m.government.certified


def test_default_criteria_cite_their_decrees(small):
    crit = {c.metric: c for c in small.government.assessment.criteria}
    assert len(crit) == 9
    for key in ("recp_aware_share", "recp_applied_share", "shared_land_share"):
        assert "Decree 82/2018" in crit[key].source
    for key in ("years_compliant", "wastewater_treatment", "information_sharing"):
        assert "Decree 35/2022" in crit[key].source
    assert (crit["recp_aware_share"].threshold, crit["shared_land_share"].threshold) == (0.9, 0.25)
    assert all(c.source for c in _default_criteria())


def test_assessment_runs_on_schedule_in_the_model(small):
    sc = small.with_overrides({"government.assessment.every_months": 6})
    m = EIPModel(sc, seed=1)
    for _ in range(5):
        m.step()
    assert m.assessment == {}
    m.step()
    assert set(m.assessment) == {c.metric for c in sc.government.assessment.criteria}
    met = [r[2] for r in m.assessment.values()]
    assert m.metrics["eip_score"] == pytest.approx(sum(met) / len(met))
    assert m.assessment["years_compliant"][0] == pytest.approx(0.5)


def test_run_result_carries_the_assessment(small):
    res = run(small, steps=12)
    assert set(res.assessment) == {c.metric for c in small.government.assessment.criteria}
    ts = res.timeseries
    assert (ts.loc[ts.step < 12, "eip_score"] == 0).all()  # before the first assessment
    assert ts["eip_certified"].sum() == 0  # baseline: no platform, no plant, 1 year


def test_every_criterion_in_the_data_has_a_measurement():
    """The registry of data/criteria.yaml and the domain's measurements are the same set."""
    from eipsim.scenario.schema import CRITERIA as DECLARED

    assert set(DECLARED) == set(CRITERIA)


def test_carbon_price_is_collected_on_landfilled_co2e(small):
    """Revenue = price x CO2e of what is landfilled or discharged: residual supply plus the
    facilities' unrecovered intake, each material at its landfill emission factor."""
    from eipsim.domain.facilities import Flows
    from eipsim.domain.links import LinkFlows

    sc = small.with_overrides({"government.carbon_price_usd_per_t_co2": 30.0})
    m = EIPModel(sc, seed=2)
    e = m.catalogue.mat["landfill_co2e_t_per_t"]
    M, n = m.n_mat, m.park.n_plots
    organic = m.catalogue.material_index("organic_waste")
    res = np.zeros((n, M))
    res[3, organic] = 100.0  # 100 t landfilled by one firm
    fac = Flows.empty(M)
    fac.intake[organic], fac.recovered[organic] = 50.0, 20.0  # 30 t unrecovered
    m.government.account(LinkFlows.empty(n, M), res, fac)
    assert m.government.ledger.by_purpose["carbon_price"] == pytest.approx(
        -30.0 * 130.0 * e[organic]
    )
    assert e[organic] == pytest.approx(0.6)
    m0 = EIPModel(small, seed=2)
    m0.government.account(LinkFlows.empty(n, M), res, fac)
    assert m0.government.ledger.by_purpose["carbon_price"] == 0.0


def test_public_money_revenue_and_spending_add_up_to_the_budget_every_month(small):
    sc = small.with_overrides(
        {
            "government.landfill_tax_usd_per_t": 20,
            "government.exchange_subsidy_usd_per_t": 5,
            "government.recp_subsidy_share": 0.3,
            "government.carbon_price_usd_per_t_co2": 10,
        }
    )
    ts = run(sc, seed=3, steps=36).timeseries
    net = ts["government_spending_usd"] - ts["government_revenue_usd"]
    assert np.allclose(net, ts["government_budget_usd"], rtol=1e-9, atol=1e-6)
    assert (ts["government_revenue_usd"].diff().dropna() >= 0).all()
    assert ts["government_revenue_usd"].iloc[-1] > 0 and ts["government_spending_usd"].iloc[-1] > 0
