"""Space matters (issue 8, item 7; docs/ODD.md §7.1, §7.4.3, §7.5): distance-decayed
prospecting, per-trip handling of trucked by-products, and complementary co-location
(``park.placement: chain_clusters``). Every switch is off by default (tests/test_golden.py)."""

from __future__ import annotations

import numpy as np
import pytest

import eipsim
from eipsim.domain.economics import Candidates, EconParams, pair_economics
from eipsim.domain.model import EIPModel
from eipsim.domain.park import (
    Park,
    chain_order,
    complementarity,
    stream_value,
    within_reach,
)
from eipsim.scenario.schema import CostsConfig, GovernmentConfig

SEEDS = range(6)

# -- defaults --------------------------------------------------------------------------------


def test_switches_are_off_by_default(baseline):
    assert baseline.firms.prospect_distance_km is None
    assert baseline.costs.handling_usd_per_trip == 0.0
    assert baseline.costs.truck_capacity_t == 20.0
    assert baseline.park.placement == "random"
    sc = baseline.with_overrides(
        {
            "park.placement": "chain_clusters",
            "firms.prospect_distance_km": 1.5,
            "costs.handling_usd_per_trip": 25,
        }
    )
    assert sc.park.placement == "chain_clusters" and sc.firms.prospect_distance_km == 1.5


# -- per-trip handling, by hand ---------------------------------------------------------------

# Two materials: 0 slag (trucked, transport factor 1), 1 water (piped, factor 0).
MATERIALS = {
    "unit": np.array(["t", "t"], dtype=object),
    "disposal_usd": np.array([20.0, 0.45]),
    "virgin_price_usd": np.array([50.0, 0.6]),
    "substitution_ratio": np.array([0.8, 1.0]),
    "treatment_usd": np.array([5.0, 0.25]),
    "transport_factor": np.array([1.0, 0.0]),
    "piped": np.array([False, True]),
    "needs_cost_disclosure": np.array([False, False]),
    "permit_cost_usd": np.array([0.0, 0.0]),
    "landfill_co2e_t_per_t": np.array([0.0, 0.0]),
}


def _costs(handling: float) -> CostsConfig:
    return CostsConfig.model_validate(
        {
            "transport_usd_per_t_km": 0.12,
            "annual_interest": 0.0,
            "handling_usd_per_trip": handling,
            "truck_capacity_t": 20.0,
        }
    )


def _economics(handling: float, dist_km: float = 2.0):
    p = EconParams.build(MATERIALS, _costs(handling), GovernmentConfig.model_validate({}))
    m = np.array([0, 0, 0, 1])
    q = np.array([45.0, 40.0, 0.5, 45.0])
    n = m.size
    c = Candidates(
        s=np.zeros(n, dtype=np.int64),
        u=np.ones(n, dtype=np.int64),
        m=m,
        q=q,
        dist_km=np.full(n, dist_km),
        trust_su=np.full(n, 0.6),
        trust_us=np.full(n, 0.6),
        conf_s=np.zeros(n),
        conf_u=np.zeros(n),
        facilitated=np.zeros(n, dtype=bool),
    )
    return pair_economics(p, c, np.ones(2, dtype=bool), np.full(2, np.nan))


def test_handling_adds_ceil_q_over_capacity_trips_for_trucked_materials_only():
    base, handled = _economics(0.0), _economics(30.0)
    # 45 t -> ceil(45/20) = 3 trips x 30 = 90; 40 t -> 2 trips = 60; 0.5 t -> 1 trip = 30;
    # piped water: no trucks, no handling
    assert handled.cost - base.cost == pytest.approx([90.0, 60.0, 30.0, 0.0])
    assert base.benefit - handled.benefit == pytest.approx([90.0, 60.0, 30.0, 0.0])
    # the whole transport term of 45 t of slag over 2 km against none at 0 km:
    # q c_tkm d f + ceil(q / 20) h = 45 x 0.12 x 2 x 1 + 3 x 30 = 10.8 + 90 = 100.8
    assert handled.cost[0] - _economics(0.0, dist_km=0.0).cost[0] == pytest.approx(100.8)


# -- distance-decayed prospecting ------------------------------------------------------------


def test_within_reach_keeps_exp_minus_d_over_d0():
    rng = np.random.default_rng(3)
    d = np.repeat([0.0, 1.0, 3.0], 40_000)
    keep = within_reach(d, 1.5, rng).reshape(3, -1).mean(axis=1)
    assert keep == pytest.approx([1.0, np.exp(-1 / 1.5), np.exp(-2.0)], abs=0.01)


def test_no_acquaintance_link_forms_beyond_reach(small):
    """With d0 tiny, nobody prospects a partner on its own: no link forms without a broker
    or platform; with them (mediated discovery is not decayed) links still form."""
    busy = {"firms.search_probability": 0.5, "steps": 36}
    far = {**busy, "firms.prospect_distance_km": 1e-4}
    for seed in range(3):
        assert len(eipsim.run(small.with_overrides(far), seed=seed).links) == 0
    mediated = {
        **far,
        "government.brokering_per_year": 24,
        "operator.platform.enabled": True,
    }
    formed = sum(len(eipsim.run(small.with_overrides(mediated), seed=s).links) for s in range(3))
    assert formed > 0


def test_space_matters_with_prospecting_decay(baseline):
    """The directional check: with prospecting decay (d0 = 2 km), a park with a 3 km plot
    pitch forms fewer links than one with a 250 m pitch."""
    sc = baseline.with_overrides({"steps": 60, "firms.prospect_distance_km": 2.0})

    def links(pitch: float) -> int:
        return sum(
            len(eipsim.run(sc.with_overrides({"park.plot_size_m": pitch}), seed=s).links)
            for s in SEEDS
        )

    near, far = links(250.0), links(3000.0)
    assert far < 0.6 * near, (near, far)


# -- chain_clusters: complementary co-location -----------------------------------------------


def test_complementarity_by_hand():
    share = np.array([0.5, 0.5])
    supply = np.array([[10.0, 0.0], [0.0, 6.0]])
    demand = np.array([[0.0, 8.0], [4.0, 0.0]])
    value = np.array([2.0, 3.0])
    C = complementarity(share, supply, demand, value)
    # a -> b: min(0.5*10, 0.5*4) * 2 = 4; b -> a: min(0.5*6, 0.5*8) * 3 = 9; diagonal 0
    assert pytest.approx(np.array([[0.0, 4.0], [9.0, 0.0]])) == C


def test_stream_value_is_the_gross_saving_less_treatment():
    v = stream_value(MATERIALS)
    assert v == pytest.approx([20 + 0.8 * 50 - 5, 0.45 + 0.6 - 0.25])


def test_chain_order_puts_complementary_keys_next_to_each_other():
    # a supplies c, c supplies d; b is unrelated
    W = np.zeros((4, 4))
    W[0, 2], W[2, 3] = 5.0, 3.0
    order = chain_order(W)
    pos = {k: order.index(k) for k in range(4)}
    assert abs(pos[0] - pos[2]) == 1 and abs(pos[2] - pos[3]) == 1


def test_chain_blocks_partition_the_park_with_partners_adjacent():
    p = Park(6, 6, 1, 1, 100.0)
    shares = {"a": 0.25, "b": 0.25, "c": 0.25, "d": 0.25}
    W = np.zeros((4, 4))
    W[0, 3] = 10.0  # a supplies d: sector_clusters would put them at opposite ends
    blocks = p.chain_blocks(shares, W)
    assert sorted(np.concatenate(list(blocks.values())).tolist()) == list(range(36))
    assert {k: v.size for k, v in blocks.items()} == {"a": 9, "b": 9, "c": 9, "d": 9}
    order = list(blocks)
    assert abs(order.index("a") - order.index("d")) == 1


def test_chain_clusters_places_tenants_in_their_sector_block(baseline):
    m = EIPModel(baseline.with_overrides({"park.placement": "chain_clusters"}), seed=2)
    sector_of = m.catalogue.sectors
    inside = [f.slot in set(m.blocks[sector_of[m.state.sector[f.slot]]].tolist()) for f in m.firms]
    assert np.mean(inside) > 0.9


def complementary_distance(m: EIPModel) -> float:
    """Mean distance (km) between firms with a paying complementary stream: pairs whose
    shared streams, at catalogue value (``stream_value``), are worth more a month than the
    amortised set-up cost of a link. Distance-free, so it measures placement only."""
    st = m.state
    a = np.flatnonzero(st.alive)
    v = stream_value(m.catalogue.mat)
    val = (np.minimum(st.base_supply[a][:, None, :], st.base_demand[a][None, :, :]) * v).sum(2)
    np.fill_diagonal(val, 0.0)
    i, j = np.nonzero(val > m.sc.costs.transaction_usd / m.sc.costs.horizon_months)
    return float(m.park.distance_km(a[i], a[j]).mean())


def test_chain_clusters_bring_complementary_firms_closer(baseline):
    def mean_distance(placement: str) -> float:
        sc = baseline.with_overrides({"park.placement": placement})
        return float(np.mean([complementary_distance(EIPModel(sc, seed=s)) for s in range(8)]))

    chain = mean_distance("chain_clusters")
    assert chain < mean_distance("random")
    assert chain < mean_distance("sector_clusters")
