"""The operator's waste-information platform: who lists under confidentiality, the
minimum-usage network effect, and the launch step."""

from __future__ import annotations

import numpy as np
import pytest

from eipsim import run
from eipsim.domain.model import EIPModel

# Two nationalities with fixed confidentiality: A's parent companies allow disclosure (0.3),
# B's forbid most of it (0.7). Listing limits default to 0.5 (open) and 0.8 (anonymised).
TWO_NATS = {
    "firms.nationality_mix": {"A": 0.5, "B": 0.5},
    "firms.confidentiality_by_nationality": {"A": 0.3, "B": 0.7},
    "firms.confidentiality_spread": 0.0,
    "operator.platform.enabled": True,
    "operator.platform.launch_step": 0,
    # a fixed population, so that who is listed at the start of a month is who is in the park
    "operator.arrivals_per_year": 0.0,
    "firms.exit_rate_per_year": 0.0,
}


@pytest.fixture(scope="module")
def two_nats(small):
    return small.with_overrides(TWO_NATS)


def nat_mask(m, name):
    return m.state.alive & (m.state.nat == m.nationalities.index(name))


def test_open_platform_lists_only_firms_whose_confidentiality_allows(two_nats):
    m = EIPModel(two_nats, seed=1)
    m.step()
    st = m.state
    a, b = nat_mask(m, "A"), nat_mask(m, "B")
    assert a.sum() > 0 and b.sum() > 0
    np.testing.assert_array_equal(st.listed, a)
    assert m.metrics["platform_listings"] == int(a.sum())


def test_anonymised_platform_lowers_the_barrier(two_nats):
    m = EIPModel(two_nats.with_overrides({"operator.platform.anonymised": True}), seed=1)
    m.step()
    np.testing.assert_array_equal(m.state.listed, m.state.alive)
    assert m.metrics["platform_listings"] == int(m.state.alive.sum())


def test_listing_limits_come_from_the_scenario(two_nats):
    sc = two_nats.with_overrides(
        {"operator.platform.anonymised": True, "operator.platform.anonymised_listing_limit": 0.5}
    )
    m = EIPModel(sc, seed=1)
    m.step()
    np.testing.assert_array_equal(m.state.listed, nat_mask(m, "A"))
    m = EIPModel(two_nats.with_overrides({"operator.platform.listing_limit": 0.2}), seed=1)
    m.step()
    assert not m.state.listed.any()
    assert m.operator.platform_view() is None


def test_firm_without_streams_is_not_listed(two_nats):
    m = EIPModel(two_nats.with_overrides({"operator.platform.anonymised": True}), seed=1)
    slot = int(np.flatnonzero(m.state.alive)[0])
    m.state.base_supply[slot] = 0.0
    m.state.base_demand[slot] = 0.0
    m.operator._update_platform(1)
    assert not m.state.listed[slot]
    assert m.state.listed.sum() == m.state.alive.sum() - 1


def test_min_usage_share_network_effect(two_nats):
    """Below the minimum listing share nobody consults the platform (Fraccascia 2020)."""
    m = EIPModel(two_nats, seed=1)
    share = nat_mask(m, "A").sum() / m.state.alive.sum()
    m.step()
    assert m.operator.usage_share == pytest.approx(share)
    assert m.operator.platform_effective and m.operator.platform_view() is not None

    above = EIPModel(
        two_nats.with_overrides({"operator.platform.min_usage_share": share + 0.01}), seed=1
    )
    above.step()
    assert above.operator.platform_active
    assert above.metrics["platform_listings"] > 0  # firms are listed ...
    assert not above.operator.platform_effective  # ... but nobody browses
    assert above.operator.platform_view() is None


def test_browsing_grows_with_usage_share(two_nats):
    """A firm browses with probability equal to the share of firms listed."""
    m = EIPModel(two_nats, seed=4)
    share = nat_mask(m, "A").sum() / m.state.alive.sum()
    seen = []
    for t in range(1, 201):
        m.operator._update_platform(t)
        listed, browsing = m.operator.platform_view()
        assert not (browsing & ~m.state.alive).any()
        seen.append(browsing[m.state.alive].mean())
    assert np.mean(seen) == pytest.approx(share, abs=0.03)
    m = EIPModel(two_nats.with_overrides({"operator.platform.anonymised": True}), seed=4)
    m.operator._update_platform(1)
    assert m.operator.platform_view()[1][m.state.alive].all()  # all listed: all browse


def test_launch_step(two_nats):
    ts = run(two_nats.with_overrides({"operator.platform.launch_step": 5}), steps=8).timeseries
    listings = ts.set_index("step")["platform_listings"]
    assert (listings.loc[1:4] == 0).all()
    assert (listings.loc[5:8] > 0).all()


def test_disabled_platform_lists_nobody(two_nats):
    m = EIPModel(two_nats.with_overrides({"operator.platform.enabled": False}), seed=1)
    for _ in range(3):
        m.step()
    assert not m.state.listed.any()
    assert not m.operator.platform_active
    assert m.operator.platform_view() is None


def test_platform_lets_strangers_find_each_other(small):
    """Without chance acquaintances, the platform brings partners together."""
    alone = {
        "trust.acquaintance_same_nationality": 0.0,
        "trust.acquaintance_cross_nationality": 0.0,
        "trust.familiarity_per_month": 0.0,
        "firms.search_probability": 0.5,
        "firms.confidentiality_by_nationality": {"VN": 0.0, "JP": 0.0, "KR": 0.0, "CN": 0.0},
        "firms.confidentiality_spread": 0.0,
        "trust.threshold": 0.3,
    }
    on = small.with_overrides({**alone, "operator.platform.enabled": True})
    off = small.with_overrides(alone)
    formed_on = sum(run(on, seed=s, steps=12).summary["links_formed"] for s in range(4))
    formed_off = sum(run(off, seed=s, steps=12).summary["links_formed"] for s in range(4))
    assert formed_on > formed_off
