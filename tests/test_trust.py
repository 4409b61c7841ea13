"""Pairwise trust: initialisation, raising and lowering, diffusion, group means."""

from __future__ import annotations

import numpy as np
import pytest

from eipsim.domain.links import REASONS
from eipsim.domain.model import EIPModel
from eipsim.domain.trust import TrustMatrix


def rng(seed=0):
    return np.random.default_rng(seed)


# -- initialisation -----------------------------------------------------------------------------


def test_init_same_vs_cross_nationality_without_noise():
    tm = TrustMatrix(5)
    nat = np.array([0, 0, 1, 1, 0])
    alive = np.array([True, True, True, False, True])
    tm.init_firm(0, nat, alive, same=0.6, cross=0.35, noise=0.0, rng=rng())
    # row: firm 0's trust toward the others; column: the others' trust toward firm 0
    assert tm.T[0].tolist() == [0.0, 0.6, 0.35, 0.0, 0.6]
    assert tm.T[:, 0].tolist() == [0.0, 0.6, 0.35, 0.0, 0.6]
    assert tm.T[3, 0] == 0.0 and tm.T[0, 3] == 0.0  # vacant plot 3


def test_init_noise_is_clipped_and_centred():
    n = 4001
    tm = TrustMatrix(n)
    nat = np.r_[np.zeros(2001, int), np.ones(2000, int)]
    alive = np.ones(n, bool)
    tm.init_firm(0, nat, alive, same=0.6, cross=0.35, noise=0.05, rng=rng(1))
    row = tm.T[0]
    assert row.min() >= 0.0 and row.max() <= 1.0
    assert row[1:2001].mean() == pytest.approx(0.6, abs=0.005)
    assert row[2001:].mean() == pytest.approx(0.35, abs=0.005)
    assert row[1:2001].std() == pytest.approx(0.05, rel=0.1)
    tm.init_firm(1, nat, alive, same=0.99, cross=0.0, noise=0.3, rng=rng(2))
    assert tm.T[1].min() >= 0.0 and tm.T[1].max() <= 1.0
    assert tm.T[1, 1] == 0.0


def test_model_initial_trust_by_nationality(small):
    sc = small.with_overrides({"trust.noise": 0.0})
    m = EIPModel(sc, seed=3)
    st, T = m.state, m.trust.T
    idx = np.flatnonzero(st.alive)
    sub = T[np.ix_(idx, idx)]
    same = st.nat[idx][:, None] == st.nat[idx][None, :]
    off = ~np.eye(idx.size, dtype=bool)
    # familiarity has not run yet: the initial values are exact
    assert np.all(sub[same & off] == sc.trust.initial_same_nationality)
    assert np.all(sub[~same] == sc.trust.initial_cross_nationality)
    assert np.all(np.diag(sub) == 0.0)
    vacant = np.flatnonzero(~st.alive)
    assert np.all(T[vacant] == 0) and np.all(T[:, vacant] == 0)


# -- raise and lower ---------------------------------------------------------------------------


def test_raise_toward_one_and_lower():
    tm = TrustMatrix(3)
    tm.T[0, 1] = 0.5
    tm.T[1, 0] = 0.5
    tm.raise_toward_one(np.array([0]), np.array([1]), 0.2)
    assert tm.T[0, 1] == pytest.approx(0.6)  # 0.5 + 0.2 x 0.5
    assert tm.T[1, 0] == 0.5  # directed
    tm.lower(np.array([1]), np.array([0]), 0.3)
    assert tm.T[1, 0] == pytest.approx(0.35)  # 0.5 - 0.3 x 0.5
    tm.lower(np.array([1]), np.array([0]), 1.7)  # a rate above 1 empties, never negative
    assert tm.T[1, 0] == 0.0
    tm.raise_toward_one(np.array([0, 1]), np.array([1, 0]), np.array([1.0, 0.5]))
    assert tm.T[0, 1] == 1.0 and tm.T[1, 0] == pytest.approx(0.5)


def test_clear_removes_a_firm():
    tm = TrustMatrix(3)
    tm.T[:] = 0.5
    tm.clear(1)
    assert tm.T[1].sum() == 0 and tm.T[:, 1].sum() == 0 and tm.T[0, 2] == 0.5


# -- diffusion ---------------------------------------------------------------------------------
#
# Firm 0 has partners 1 and 2; firms 1 and 2 have partner 0; firm 3 has none. w = 0.5.
#   T = [[0,   0.4, 0.6, 0.2],
#        [0.8, 0,   0.5, 0.9],
#        [0.3, 0.7, 0,   0.1],
#        [0.5, 0.5, 0.5, 0  ]]
# Firm 0's view of its partners' opinions: mean(T1, T2) = [0.55, 0.35, 0.25, 0.5], except that
# about partner 1 only partner 2 speaks (0.7) and about partner 2 only partner 1 (0.5):
#   opinion_0 = [0.55, 0.7, 0.5, 0.5] -> new row 0 = 0.5 T0 + 0.5 opinion = [*, 0.55, 0.55, 0.35]
# Firm 1's only partner is 0, whose self-view (0) is no opinion: T_10 stays 0.8.
#   opinion_1 = [0.8, 0.4, 0.6, 0.2] -> new row 1 = [0.8, *, 0.55, 0.55]
#   opinion_2 = [0.3, 0.4, 0.6, 0.2] -> new row 2 = [0.3, 0.55, *, 0.15]
# The diagonal stays 0 and firm 3 is untouched.

T0 = np.array(
    [
        [0.0, 0.4, 0.6, 0.2],
        [0.8, 0.0, 0.5, 0.9],
        [0.3, 0.7, 0.0, 0.1],
        [0.5, 0.5, 0.5, 0.0],
    ]
)
EXPECTED = np.array(
    [
        [0.0, 0.55, 0.55, 0.35],
        [0.8, 0.0, 0.55, 0.55],
        [0.3, 0.55, 0.0, 0.15],
        [0.5, 0.5, 0.5, 0.0],
    ]
)


def diffused(src, dst, w=0.5):
    tm = TrustMatrix(4)
    tm.T[:] = T0
    tm.diffuse(np.array(src), np.array(dst), w)
    return tm.T


def test_diffuse_toward_partners_by_hand():
    np.testing.assert_allclose(diffused([0, 0, 1, 2], [1, 2, 0, 0]), EXPECTED, atol=1e-12)


def test_diffuse_self_view_correction():
    """A partner's zero self-trust must not drag down the firm's trust in that partner."""
    T = diffused([0, 0, 1, 2], [1, 2, 0, 0])
    assert T[1, 0] == pytest.approx(0.8)  # not 0.5 x 0.8 + 0.5 x 0 = 0.4
    assert T[0, 1] == pytest.approx(0.55)  # partner 2's opinion of 1 (0.7), not mean(0, 0.7)


def test_diffuse_counts_a_partner_once_and_needs_weight():
    twice = diffused([0, 0, 0, 1, 2, 1], [1, 2, 1, 0, 0, 0])  # several links, same partners
    np.testing.assert_allclose(twice, EXPECTED, atol=1e-12)
    np.testing.assert_array_equal(diffused([0, 0, 1, 2], [1, 2, 0, 0], w=0.0), T0)
    np.testing.assert_array_equal(diffused([], []), T0)


def test_diffuse_full_weight_adopts_partner_opinion():
    T = diffused([3], [2], w=1.0)
    np.testing.assert_allclose(T[3], [0.3, 0.7, 0.5, 0.0])  # T2 with T_32 kept (0.5)
    np.testing.assert_array_equal(T[:3], T0[:3])


# -- group means -------------------------------------------------------------------------------


def test_mean_by_group_by_hand():
    tm = TrustMatrix(4)
    tm.T[:] = T0
    nat = np.array([0, 0, 1, 1])
    alive = np.array([True, True, True, True])
    same, cross = tm.mean_by_group(alive, nat)
    # same: T01, T10, T23, T32 = 0.4, 0.8, 0.1, 0.5 -> 0.45
    assert same == pytest.approx(0.45)
    # cross: T02 T03 T12 T13 T20 T21 T30 T31 = 0.6 .2 .5 .9 .3 .7 .5 .5 -> 4.2 / 8
    assert cross == pytest.approx(4.2 / 8)
    alive[3] = False  # only alive firms count
    same, cross = tm.mean_by_group(alive, nat)
    assert same == pytest.approx(0.6)  # T01, T10
    assert cross == pytest.approx((0.6 + 0.5 + 0.3 + 0.7) / 4)


def test_mean_by_group_degenerate():
    tm = TrustMatrix(3)
    s, c = tm.mean_by_group(np.array([True, False, False]), np.array([0, 0, 0]))
    assert np.isnan(s) and np.isnan(c)
    s, c = tm.mean_by_group(np.array([True, True, False]), np.array([0, 0, 0]))
    assert s == 0.0 and np.isnan(c)


# -- in the model -------------------------------------------------------------------------------


def _one_link(sc, seed=5):
    """A model with one hand-made active link s -> u of half the supplier's slag-like stream."""
    m = EIPModel(sc, seed=seed)
    st = m.state
    s = int(np.flatnonzero(st.alive & (st.base_supply.sum(axis=1) > 0))[0])
    mat = int(np.argmax(st.base_supply[s] * ~m.catalogue.is_energy))
    u = int(np.flatnonzero(st.alive & (np.arange(st.alive.size) != s))[0])
    q = 0.5 * st.base_supply[s, mat]
    m.links.add(
        np.array([s]),
        np.array([u]),
        np.array([mat]),
        np.array([q]),
        0,
        np.array([0]),
        st.uid[[s]],
        st.uid[[u]],
        np.array([False]),
    )
    m.month = 1
    m.trust.T[u, s] = m.trust.T[s, u] = 0.6
    supply = np.zeros_like(st.base_supply)
    return m, s, u, mat, q, supply


def test_kept_delivery_raises_and_shortfall_lowers_trust(small):
    m, s, u, mat, q, supply = _one_link(small)
    tr = small.trust
    ones = np.ones_like(supply)
    supply[s, mat] = q  # exactly what the user wants: kept on both sides
    m._deliver(supply, ones)
    assert m.trust.T[u, s] == pytest.approx(0.6 + tr.delivery_gain * 0.4)
    assert m.trust.T[s, u] == pytest.approx(0.6 + tr.delivery_gain * 0.4)
    before = m.trust.T[u, s]
    supply[s, mat] = 0.5 * q  # half delivered: the user lowers its trust by 0.3 x 0.5
    m._deliver(supply, ones)
    assert m.trust.T[u, s] == pytest.approx(before * (1 - tr.shortfall_loss * 0.5))
    assert m.links.status[0] == 1  # still above break_below


def test_trust_collapse_breaks_the_link_with_a_penalty(small):
    m, s, u, mat, q, supply = _one_link(small)
    tr = small.trust
    m.trust.T[u, s] = 0.32
    supply[s, mat] = 0.5 * q  # 0.32 x (1 - 0.15) = 0.272 < break_below 0.3
    m._deliver(supply, np.ones_like(supply))
    assert m.links.status[0] == 2
    assert REASONS[m.links.reason[0]] == "trust_collapse"
    t_us = 0.32 * (1 - tr.shortfall_loss * 0.5)
    assert m.trust.T[u, s] == pytest.approx(t_us * (1 - tr.break_penalty))
    t_su = 0.6 + tr.delivery_gain * 0.4  # the supplier saw full uptake, then the break
    assert m.trust.T[s, u] == pytest.approx(t_su * (1 - tr.break_penalty))


def test_timeseries_trust_same_above_cross(small):
    from eipsim import run

    ts = run(small, seed=2).timeseries
    assert (ts["mean_trust_same_nationality"] > ts["mean_trust_cross_nationality"]).all()
