"""Property tests: any valid scenario, drawn from the ranges of the main keys, loads, runs a
few months and keeps the invariants."""

from __future__ import annotations

import numpy as np
from conftest import invariant_violations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eipsim
from eipsim.domain.indicators import SUMMARY_KEYS, TIMESERIES_COLUMNS
from eipsim.scenario.catalogue import load_catalogue
from eipsim.scenario.schema import FACILITY_KINDS, scenario_from_dict

CAT = load_catalogue()
NATS = ["VN", "JP", "KR", "CN", "TW", "EU"]

share = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def mixes(draw, keys, min_size=1):
    chosen = draw(
        st.lists(st.sampled_from(keys), min_size=min_size, max_size=len(keys), unique=True)
    )
    w = np.array([draw(st.floats(0.05, 1.0)) for _ in chosen])
    w = w / w.sum()
    mix = {k: float(x) for k, x in zip(chosen, w, strict=True)}
    # rounding: make the shares sum to 1 within the validator's tolerance
    mix[chosen[-1]] = 1.0 - sum(v for k, v in mix.items() if k != chosen[-1])
    return mix


@st.composite
def scenarios(draw):
    nat_mix = draw(mixes(NATS))
    conf = {n: draw(share) for n in nat_mix if draw(st.booleans())}
    facilities = draw(st.lists(st.sampled_from(FACILITY_KINDS), unique=True, max_size=4))
    standards = draw(st.lists(st.sampled_from(CAT.materials), unique=True, max_size=4))
    return {
        "name": "drawn",
        "steps": draw(st.integers(1, 6)),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "park": {
            "placement": draw(
                st.sampled_from(
                    ["random", "nationality_clusters", "sector_clusters", "chain_clusters"]
                )
            ),
            "initial_occupancy": draw(st.floats(0.3, 1.0)),
            "zones_x": draw(st.integers(1, 4)),
            "zones_y": draw(st.integers(1, 4)),
            "plot_size_m": draw(st.floats(50.0, 1000.0)),
        },
        "firms": {
            "count": draw(st.integers(2, 60)),
            "sector_mix": draw(mixes(list(CAT.sectors))),
            "nationality_mix": nat_mix,
            "confidentiality_by_nationality": conf,
            "search_probability": draw(share),
            "hurdle_mean": draw(share),
            "exit_rate_per_year": draw(st.floats(0.0, 0.5)),
        },
        "trust": {
            "initial_same_nationality": draw(share),
            "initial_cross_nationality": draw(share),
            "threshold": draw(share),
            "diffusion": draw(share),
        },
        "costs": {
            "transport_usd_per_t_km": draw(st.floats(0.0, 5.0)),
            "transaction_usd": draw(st.floats(0.0, 200000.0)),
            "bargaining": draw(st.sampled_from(["nash", "proportional"])),
            "contract_months": draw(st.integers(0, 24)),
            "horizon_months": draw(st.integers(1, 120)),
            "annual_interest": draw(st.floats(0.0, 0.3)),
        },
        "operator": {
            "platform": {
                "enabled": draw(st.booleans()),
                "launch_step": draw(st.integers(0, 6)),
                "anonymised": draw(st.booleans()),
                "shares_cost_data": draw(st.booleans()),
                "min_usage_share": draw(share),
            },
            "matchmaking_events_per_year": draw(st.integers(0, 12)),
            "tenant_selectivity": draw(share),
            "arrivals_per_year": draw(st.floats(0.0, 100.0)),
            "recp_screening_per_year": draw(st.integers(0, 30)),
            "shared_infrastructure": [
                {"kind": k, "build_step": draw(st.integers(0, 4))} for k in facilities
            ],
        },
        "government": {
            "landfill_tax_usd_per_t": draw(st.floats(0.0, 200.0)),
            "exchange_subsidy_usd_per_t": draw(st.floats(0.0, 100.0)),
            "capex_subsidy_share": draw(share),
            "reuse_standards": [
                {"material": m, "step": draw(st.integers(0, 4))} for m in standards
            ],
            "brokering_per_year": draw(st.integers(0, 40)),
            "permit_support": draw(share),
        },
    }


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
def test_any_valid_scenario_runs_and_keeps_invariants(data):
    sc = scenario_from_dict(data, source="<drawn>")
    res = eipsim.run(sc)
    ts = res.timeseries
    assert len(ts) == data["steps"]
    assert set(TIMESERIES_COLUMNS) <= set(ts.columns)
    assert not invariant_violations(ts, res.links), invariant_violations(ts, res.links)
    assert ts["firms"].iloc[0] >= 1
    assert set(res.summary) == set(SUMMARY_KEYS)


@settings(max_examples=15, deadline=None)
@given(scenarios())
def test_drawn_scenario_round_trips_through_yaml_dict(data):
    sc = scenario_from_dict(data, source="<drawn>")
    again = scenario_from_dict(sc.to_yaml_dict(), source="<again>")
    assert again.to_yaml_dict() == sc.to_yaml_dict()
