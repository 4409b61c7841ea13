"""Pairwise trust: initialisation, raising and lowering, diffusion, group means."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eipsim.domain.links import REASONS
from eipsim.domain.model import EIPModel
from eipsim.domain.trust import TrustMatrix

# The trust code as it was before the incremental rewrite: the new code must give its values.
_spec = importlib.util.spec_from_file_location(
    "trust_reference", Path(__file__).resolve().parents[1] / "benchmarks" / "trust_reference.py"
)
assert _spec is not None and _spec.loader is not None
trust_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(trust_reference)
ReferenceTrustMatrix = trust_reference.ReferenceTrustMatrix


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


def test_opening_tenants_in_bulk_by_hand_and_by_distribution():
    nat = np.array([0, 0, 1, 7, 1, 0])
    slots = np.array([0, 1, 2, 4])  # plots 3 and 5 vacant
    tm = TrustMatrix(6)
    tm.init_firms(slots, nat, same=0.6, cross=0.35, noise=0.0, rng=rng())
    expected = np.zeros((6, 6))
    for i in slots:
        for j in slots:
            if i != j:
                expected[i, j] = 0.6 if nat[i] == nat[j] else 0.35
    assert np.array_equal(tm.T, expected)
    assert np.array_equal(tm.group_sums(), tm.recomputed_group_sums())
    with pytest.raises(ValueError):  # only before any firm has trust
        tm.init_firms(slots, nat, same=0.6, cross=0.35, noise=0.0, rng=rng())
    # with noise: clipped, centred on the priors, the same spread as init_firm's, in blocks
    n = 1200
    nat = np.r_[np.zeros(600, int), np.ones(600, int)]
    tm = TrustMatrix(n)
    tm.init_firms(np.arange(n), nat, same=0.6, cross=0.35, noise=0.05, rng=rng(4))
    T = tm.T
    assert T.min() >= 0.0 and T.max() <= 1.0 and not np.diag(T).any()
    off = ~np.eye(600, dtype=bool)
    assert T[:600, :600][off].mean() == pytest.approx(0.6, abs=0.002)
    assert T[:600, 600:].mean() == pytest.approx(0.35, abs=0.002)
    assert T[:600, 600:].std() == pytest.approx(0.05, rel=0.05)
    assert np.allclose(tm.group_sums(), tm.recomputed_group_sums())


def test_opening_tenants_know_each_other_with_the_acquaintance_chances(small):
    sc = small.with_overrides(
        {
            "firms.count": 120,
            "trust.acquaintance_same_nationality": 0.5,
            "trust.acquaintance_cross_nationality": 0.1,
            "trust.neighbours_know_streams": False,
        }
    )
    m = EIPModel(sc, seed=5)
    st = m.state
    idx = np.flatnonzero(st.alive)
    K = st.known[np.ix_(idx, idx)]
    assert np.array_equal(K, K.T) and not np.diag(K).any()  # mutual, nobody knows itself
    same = st.nat[idx][:, None] == st.nat[idx][None, :]
    off = ~np.eye(idx.size, dtype=bool)
    assert K[same & off].mean() == pytest.approx(0.5, abs=0.05)
    assert K[~same].mean() == pytest.approx(0.1, abs=0.02)
    assert not st.known[~st.alive].any()


# -- raise and lower ---------------------------------------------------------------------------


def test_raise_toward_one_and_lower():
    tm = TrustMatrix(3)
    tm.set_pairs(np.array([0, 1]), np.array([1, 0]), 0.5)
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
    tm = TrustMatrix.from_array(np.full((3, 3), 0.5))
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
    tm = TrustMatrix.from_array(T0)
    tm.diffuse(np.array(src, dtype=int), np.array(dst, dtype=int), w)
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


@pytest.mark.parametrize("incremental", [True, False])
def test_mean_by_group_by_hand(incremental):
    nat = np.array([0, 0, 1, 1])
    tm = TrustMatrix.from_array(T0, nat, incremental_means=incremental)
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
    m.trust.set_pairs(np.array([u, s]), np.array([s, u]), 0.6)
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
    # a tenth delivered, a shortfall beyond the stream's tolerance: the user lowers its
    # trust by shortfall_loss x 0.9
    assert tr.delivery_tolerance_sd * m.catalogue.mat["variability"][mat] < 0.9
    supply[s, mat] = 0.1 * q
    m._deliver(supply, ones)
    assert m.trust.T[u, s] == pytest.approx(before * (1 - tr.shortfall_loss * 0.9))
    assert m.links.status[0] == 1  # still above break_below


def test_trust_collapse_breaks_the_link_with_a_penalty(small):
    m, s, u, mat, q, supply = _one_link(small)
    tr = small.trust
    m.trust.set_pairs(np.array([u]), np.array([s]), 0.32)
    supply[s, mat] = 0.1 * q  # 0.32 x (1 - 0.3 x 0.9) = 0.234 < break_below 0.3
    m._deliver(supply, np.ones_like(supply))
    assert m.links.status[0] == 2
    assert REASONS[m.links.reason[0]] == "trust_collapse"
    t_us = 0.32 * (1 - tr.shortfall_loss * 0.9)
    assert m.trust.T[u, s] == pytest.approx(t_us * (1 - tr.break_penalty))
    t_su = 0.6 + tr.delivery_gain * 0.4  # the supplier saw full uptake, then the break
    assert m.trust.T[s, u] == pytest.approx(t_su * (1 - tr.break_penalty))


def test_timeseries_trust_same_above_cross(small):
    from eipsim import run

    ts = run(small, seed=2).timeseries
    assert (ts["mean_trust_same_nationality"] > ts["mean_trust_cross_nationality"]).all()


# -- the incremental structures -----------------------------------------------------------------


def test_T_is_read_only_and_follows_updates():
    tm = TrustMatrix(3)
    T = tm.T
    with pytest.raises(ValueError):
        T[0, 1] = 0.5  # write through the methods, so the kept sums stay true
    tm.set_pairs(np.array([0]), np.array([1]), 0.5)
    assert T[0, 1] == 0.5  # the same buffer, not a copy


def test_group_sums_by_hand_through_each_update():
    """R[i, g] = sum of firm i's trust in firms of nationality g (column 0: unknown)."""
    tm = TrustMatrix(3, incremental_means=True)
    nat = np.array([0, 0, 1])
    alive = np.ones(3, bool)
    for slot in range(3):
        tm.init_firm(slot, nat, alive, same=0.6, cross=0.3, noise=0.0, rng=rng())
    # T = [[0, .6, .3], [.6, 0, .3], [.3, .3, 0]]; nationality 0 -> column 1, 1 -> column 2
    np.testing.assert_allclose(
        tm.group_sums(), [[0, 0.6, 0.3], [0, 0.6, 0.3], [0, 0.6, 0.0]], atol=1e-12
    )
    assert tm.mean_by_group(alive, nat) == pytest.approx((0.6, 0.3))
    tm.raise_toward_one(np.array([0]), np.array([2]), 0.5)  # T02 = .3 + .5 x .7 = .65
    tm.lower(np.array([2]), np.array([0]), 0.5)  # T20 = .3 - .5 x .3 = .15
    np.testing.assert_allclose(
        tm.group_sums(), [[0, 0.6, 0.65], [0, 0.6, 0.3], [0, 0.45, 0.0]], atol=1e-12
    )
    # same: T01, T10 = .6, .6; cross: T02 T12 T20 T21 = .65 .3 .15 .3
    assert tm.mean_by_group(alive, nat) == pytest.approx((0.6, 1.4 / 4))
    tm.clear(1)
    alive[1] = False
    np.testing.assert_allclose(tm.group_sums(), [[0, 0, 0.65], [0, 0, 0], [0, 0.15, 0]], atol=1e-12)
    assert tm.live_slots().tolist() == [0, 2]
    s, c = tm.mean_by_group(alive, nat)
    assert np.isnan(s) and c == pytest.approx(0.4)  # no same-nationality pair left


def test_group_sums_after_diffusion_by_hand():
    tm = TrustMatrix.from_array(T0, np.array([0, 0, 1, 1]), incremental_means=True)
    tm.diffuse(np.array([0, 0, 1, 2]), np.array([1, 2, 0, 0]), 0.5)
    # rows of EXPECTED summed over nationality 0 (slots 0, 1) and 1 (slots 2, 3)
    want = [[0, 0.55, 0.9], [0, 0.8, 1.1], [0, 0.85, 0.15], [0, 1.0, 0.5]]
    np.testing.assert_allclose(tm.group_sums(), want, atol=1e-12)


def test_group_means_fall_back_to_dense_sums_when_the_kept_ones_do_not_apply():
    tm = TrustMatrix.from_array(T0, incremental_means=True)  # nationalities never seen
    assert tm.mean_by_group(np.ones(4, bool), np.array([0, 0, 1, 1])) == pytest.approx(
        (0.45, 4.2 / 8)
    )
    tm = TrustMatrix.from_array(T0, np.array([0, 0, 1, 1]), incremental_means=True)
    # a nationality other than the one recorded: dense sums with the nationalities given
    s, c = tm.mean_by_group(np.ones(4, bool), np.array([0, 1, 1, 1]))
    assert s == pytest.approx((0.5 + 0.1 + 0.5 + 0.9 + 0.7 + 0.5) / 6)


def _ops():
    slot = st.integers(0, 7)
    pairs = st.lists(st.tuples(slot, slot), min_size=0, max_size=12)
    rate = st.floats(0.0, 1.5, allow_nan=False)
    return st.lists(
        st.one_of(
            st.tuples(st.just("init"), slot, st.integers(0, 2), st.integers(0, 2**16)),
            st.tuples(st.just("clear"), slot),
            st.tuples(st.just("raise"), pairs, rate),
            st.tuples(st.just("lower"), pairs, rate),
            st.tuples(st.just("diffuse"), pairs, st.floats(0.0, 1.0, allow_nan=False)),
        ),
        min_size=1,
        max_size=25,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops(), noise=st.sampled_from([0.0, 0.05, 0.4]))
def test_kept_structures_equal_a_recomputation_and_values_equal_the_old_code(ops, noise):
    """After any sequence of updates: T is bit-identical to the old dense code, non-live slots
    have zero rows and columns, the kept group sums equal a from-scratch recomputation, the
    dense group means equal the old ones exactly and the incremental ones to rounding (and
    to their own bits with the kept pair counts worked out afresh)."""
    n = 8
    fast = TrustMatrix(n, incremental_means=True)
    dense = TrustMatrix(n, incremental_means=False)
    ref = ReferenceTrustMatrix(n)
    nat = np.full(n, -1)
    alive = np.zeros(n, bool)
    for op in ops:
        kind = op[0]
        if kind == "init":
            _, s, g, seed = op
            alive[s] = True
            nat[s] = g
            for tm in (fast, dense, ref):
                tm.init_firm(s, nat, alive, 0.6, 0.35, noise, np.random.default_rng(seed))
        elif kind == "clear":
            alive[op[1]] = False
            for tm in (fast, dense, ref):
                tm.clear(op[1])
        else:
            i = np.array([p[0] for p in op[1]], dtype=int)
            j = np.array([p[1] for p in op[1]], dtype=int)
            if kind == "diffuse":
                keep = i != j  # a firm is not its own partner
                i, j = i[keep], j[keep]
                src, dst = np.concatenate([i, j]), np.concatenate([j, i])
                for tm in (fast, dense, ref):
                    tm.diffuse(src, dst, op[2])
            else:
                for tm in (fast, dense, ref):
                    getattr(tm, "raise_toward_one" if kind == "raise" else "lower")(i, j, op[2])
        np.testing.assert_array_equal(fast.T, ref.T)
        np.testing.assert_array_equal(dense.T, ref.T)
        dead = np.setdiff1d(np.arange(n), fast.live_slots())
        assert not fast.T[dead].any() and not fast.T[:, dead].any()
        np.testing.assert_allclose(fast.group_sums(), fast.recomputed_group_sums(), atol=1e-12)
        oh = fast._oh  # the kept one-hot of each slot's group column
        assert (oh.sum(axis=1) == 1).all() and (oh[np.arange(n), fast._gcol] == 1).all()
        want = ref.mean_by_group(alive, nat)
        np.testing.assert_array_equal(dense.mean_by_group(alive, nat), want)
        got = fast.mean_by_group(alive, nat)
        np.testing.assert_allclose(got, want, rtol=1e-12)
        fast._pairs_key = None  # the kept pair counts, worked out afresh: the same bits
        np.testing.assert_array_equal(fast.mean_by_group(alive, nat), got)


@pytest.mark.parametrize("block", [None, 64])
@pytest.mark.parametrize("n", [5, 40, 300])
def test_diffusion_is_bit_identical_to_the_old_code(n, block, monkeypatch):
    """Random matrices and partner sets, including many partners per firm and repeated links;
    also with rows worked in blocks of 8 (as in big parks)."""
    import eipsim.domain.trust as trust_mod

    if block is not None:
        monkeypatch.setattr(trust_mod, "_BLOCK_ELEMENTS", block)
    g = rng(n)
    for _ in range(10):
        T = g.random((n, n)) * (g.random((n, n)) < 0.7)
        np.fill_diagonal(T, 0.0)
        e = int(g.integers(1, 4 * n))
        src, dst = g.integers(0, n, e), g.integers(0, n, e)
        src, dst = src[src != dst], dst[src != dst]
        w = float(g.random())
        ref = ReferenceTrustMatrix(n)
        ref.T[:] = T
        ref.diffuse(src, dst, w)
        tm = TrustMatrix.from_array(T)
        tm.diffuse(src, dst, w)
        np.testing.assert_array_equal(tm.T, ref.T)


@pytest.mark.parametrize("n", [10, 300, 700])
def test_dense_group_means_are_bit_identical_to_the_old_code(n):
    g = rng(n + 1)
    T = g.random((n, n))
    np.fill_diagonal(T, 0.0)
    alive = g.random(n) < 0.65
    T[~alive] = 0.0
    T[:, ~alive] = 0.0
    nat = g.integers(0, 4, n)
    ref = ReferenceTrustMatrix(n)
    ref.T[:] = T
    dense = TrustMatrix.from_array(T, incremental_means=False)
    assert dense.mean_by_group(alive, nat) == ref.mean_by_group(alive, nat)
    fast = TrustMatrix.from_array(T, np.where(alive, nat, -1), incremental_means=True)
    np.testing.assert_allclose(fast.mean_by_group(alive, nat), ref.mean_by_group(alive, nat))


def _run_with(trust_cls, sc, seed, monkeypatch):
    import eipsim
    import eipsim.domain.model as model_mod

    monkeypatch.setattr(model_mod, "TrustMatrix", trust_cls)
    return eipsim.run(sc, seed=seed)


def test_model_run_matches_the_old_trust_code(lively, monkeypatch):
    """A whole run with the old trust code: everything equal, the two group-mean indicators
    to rounding (they sum in another order; nothing reads them back). The old code knows
    only diffusion over partners' whole rows (trust.diffusion_source: partners, the first
    version's rule); experience diffusion came later and has its own tests."""
    from functools import partial

    sc = lively.with_overrides(
        {"firms.count": 60, "steps": 48, "trust.diffusion_source": "partners"}
    )
    old = _run_with(ReferenceTrustMatrix, sc, 4, monkeypatch)
    new = _run_with(partial(TrustMatrix, incremental_means=True), sc, 4, monkeypatch)
    dense = _run_with(partial(TrustMatrix, incremental_means=False), sc, 4, monkeypatch)
    means = ["mean_trust_same_nationality", "mean_trust_cross_nationality"]
    assert isinstance(old, type(new)) and old.summary["links_formed"] > 0
    assert old.links.equals(new.links)
    assert old.timeseries.drop(columns=means).equals(new.timeseries.drop(columns=means))
    np.testing.assert_allclose(new.timeseries[means], old.timeseries[means], rtol=1e-12)
    assert old.timeseries.equals(dense.timeseries) and old.links.equals(dense.links)


def test_model_run_incremental_and_dense_means_agree_with_experience_diffusion(lively, monkeypatch):
    """The default diffusion (over partners' experience), which the old code lacks: the
    incremental group means give the dense code's run, the means themselves to rounding."""
    from functools import partial

    sc = lively.with_overrides({"firms.count": 60, "steps": 48})
    assert sc.trust.diffusion_source == "experience"
    new = _run_with(partial(TrustMatrix, incremental_means=True), sc, 4, monkeypatch)
    dense = _run_with(partial(TrustMatrix, incremental_means=False), sc, 4, monkeypatch)
    means = ["mean_trust_same_nationality", "mean_trust_cross_nationality"]
    assert new.summary["links_formed"] > 0
    assert new.links.equals(dense.links)
    assert new.timeseries.drop(columns=means).equals(dense.timeseries.drop(columns=means))
    np.testing.assert_allclose(new.timeseries[means], dense.timeseries[means], rtol=1e-12)


@given(st.lists(st.integers(-3, 5000), min_size=1, max_size=40))
def test_codes_equal_unique(values):
    from eipsim.domain.trust import _codes

    v = np.array(values)
    codes, inv = _codes(v)
    want_codes, want_inv = np.unique(v, return_inverse=True)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(inv, want_inv)


@pytest.mark.parametrize("reverse", [False, True])
def test_all_kept_month_raises_each_pair_once_per_side(small, reverse):
    """Two links s -> u (a pair judged twice by each side) raise T[u, s] and T[s, u] once;
    a link u -> s as well makes each side judge the pair from both ends: raised twice. The
    kept raises (``_LinkTerms.all_kept_raises``) are over distinct pairs."""
    m, s, u, mat, q, supply = _one_link(small)
    st, g = m.state, small.trust.delivery_gain
    extra_s, extra_u = ([s, u], [u, s]) if reverse else ([s], [u])
    k = len(extra_s)
    m.links.add(
        np.array(extra_s),
        np.array(extra_u),
        np.full(k, mat),
        np.full(k, 0.1 * q),
        0,
        np.zeros(k, dtype=int),
        st.uid[extra_s],
        st.uid[extra_u],
        np.zeros(k, dtype=bool),
    )
    supply[:] = 1e9  # every link delivers in full and is taken up
    m._deliver(supply, np.ones_like(supply))
    once = 0.6 + g * (1.0 - 0.6)
    expected = once + g * (1.0 - once) if reverse else once
    assert m.trust.T[u, s] == expected and m.trust.T[s, u] == expected
    for pairs in m._link_terms.all_kept_raises:
        np.testing.assert_array_equal(pairs.cell, pairs.i * m.trust.n + pairs.j)
        assert np.unique(pairs.cell).size == pairs.cell.size


def test_kept_pairs_raise_as_raise_toward_one_through_arrivals_and_exits():
    """``raise_kept`` gives the values, live slots and group sums of ``raise_toward_one``,
    also after the kept group cells went stale: a new nationality widens the group sums,
    a cleared slot stops being live (a raise makes it live again), a slot changes group."""
    n, g = 6, 0.25
    nat = np.array([0, 0, 1, 1, 0, 2])
    alive = np.array([True, True, True, True, False, False])
    kept, plain = TrustMatrix(n), TrustMatrix(n)
    i, j = np.array([0, 1, 2, 3, 5]), np.array([1, 2, 3, 0, 0])
    pairs = kept.kept_pairs(i, j)

    def both(step):
        for tm in (kept, plain):
            step(tm)

    def check():
        kept.raise_kept(pairs, g)
        plain.raise_toward_one(i, j, g, distinct=True)
        np.testing.assert_array_equal(kept.T, plain.T)
        np.testing.assert_array_equal(kept.live_slots(), plain.live_slots())
        np.testing.assert_array_equal(kept.group_sums(), plain.group_sums())
        np.testing.assert_allclose(kept.group_sums(), kept.recomputed_group_sums(), atol=1e-12)

    for slot in range(4):
        both(lambda tm, s=slot: tm.init_firm(s, nat, alive, 0.6, 0.3, 0.0, rng()))
    check()  # slot 5 not live yet: the raise makes it live
    check()
    alive[5] = True
    both(lambda tm: tm.init_firm(5, nat, alive, 0.6, 0.3, 0.0, rng()))  # a new group column
    check()
    both(lambda tm: tm.clear(2))
    check()  # slot 2 live again through the raise
    nat[3] = 2
    both(lambda tm: tm.init_firm(3, nat, alive, 0.6, 0.3, 0.0, rng()))  # slot 3 changes group
    check()
