"""Firm decisions (eipsim/domain/behaviour.py) by hand, and the candidate explanations the
browser's firm panel shows."""

from __future__ import annotations

import numpy as np
import pytest

from eipsim.domain import behaviour
from eipsim.domain.model import EIPModel


def test_keeps_link_contract_then_losses_then_trust():
    loss = np.array([3, 3, 0, 0, 5])
    running = np.array([5, 12, 12, 12, 12])
    t_us = np.array([0.9, 0.9, 0.2, 0.9, 0.1])
    t_su = np.array([0.9, 0.9, 0.9, 0.9, 0.9])
    unprofitable, collapsed = behaviour.keeps_link(loss, running, t_us, t_su, 12, 3, 0.3)
    # link 0 is still under its 12-month contract; link 1 lost 3 months in a row; link 2's
    # user no longer trusts its supplier; link 3 is fine; link 4 is both: counted unprofitable
    assert unprofitable.tolist() == [False, True, False, False, True]
    assert collapsed.tolist() == [False, False, True, False, False]


def test_connects_to_facility_needs_saving_trust_and_for_disclosure_more_trust():
    saving = np.array([100.0, 100.0, 10.0, 100.0])
    alive = np.array([True, True, True, False])
    trust_op = np.array([0.6, 0.45, 0.9, 0.9])
    conf = np.array([0.7, 0.1, 0.1, 0.1])
    plain = behaviour.connects_to_facility(saving, 50.0, alive, trust_op, conf, 0.5, False)
    assert plain.tolist() == [True, False, False, False]
    disclosing = behaviour.connects_to_facility(saving, 50.0, alive, trust_op, conf, 0.5, True)
    assert disclosing.tolist() == [False, False, False, False]  # 0.6 < confidentiality 0.7


def test_lists_on_platform_up_to_the_confidentiality_limit():
    alive = np.array([True, True, True])
    streams = np.array([True, True, False])
    conf = np.array([0.5, 0.51, 0.1])
    assert behaviour.lists_on_platform(alive, streams, conf, 0.5).tolist() == [True, False, False]


def test_adopts_recp_by_payback_net_of_subsidy():
    # capex 24,000, saving 1,000 a month: payback 2 years, 1 year with a 50 % subsidy
    capex, saving = np.array([24000.0, 24000.0]), np.array([1000.0, 1000.0])
    years = np.array([1.5, 2.0])
    assert behaviour.adopts_recp(capex, saving, 0.0, years).tolist() == [False, True]
    assert behaviour.adopts_recp(capex, saving, 0.5, years).tolist() == [True, True]


def test_tells_about_streams_needs_trust_above_confidentiality_both_ways():
    t_ab, t_ba = np.array([0.6, 0.6]), np.array([0.6, 0.4])
    c_a, c_b = np.array([0.5, 0.5]), np.array([0.5, 0.5])
    assert behaviour.tells_about_streams(t_ab, t_ba, c_a, c_b).tolist() == [True, False]


def test_who_knows_whom_stays_symmetric(lively):
    """The search reads the searching firms' columns of who knows of (or was introduced
    to) whom as the transpose of their rows (``candidate_pairs``): every writer of
    ``known`` and ``facilitated`` (acquaintances, arrivals and exits, brokers,
    matchmaking events, neighbours) must set both ways, and never a firm with itself."""
    sc = lively.with_overrides(
        {"trust.neighbours_know_streams": True, "firms.exit_rate_per_year": 0.2}
    )
    m = EIPModel(sc, seed=3)
    st = m.state
    seen_known, seen_facilitated = set(), set()
    for _ in range(sc.steps):
        m.step()
        assert np.array_equal(st.known, st.known.T)
        assert np.array_equal(st.facilitated, st.facilitated.T)
        # nor knows of, or is introduced to, itself (``candidate_pairs`` pairs no firm
        # with itself on this)
        assert not st.known.diagonal().any() and not st.facilitated.diagonal().any()
        seen_known.add(st.known.tobytes())
        seen_facilitated.add(st.facilitated.tobytes())
    # the writers acted: the flags changed along the run, introductions among them
    assert len(seen_known) > 2 and len(seen_facilitated) > 2 and st.facilitated.any()


@pytest.fixture
def pair_model(small):
    """A small park with one steel mill and one building-materials maker side by side."""
    m = EIPModel(small.with_overrides({"firms.exit_rate_per_year": 0.0}), seed=4)
    return m


def test_explain_candidates_names_the_first_obstacle(pair_model):
    m, st = pair_model, pair_model.state
    res_s, res_d = m.uncommitted()
    # a supplier and a user of the same material
    mat = int(np.flatnonzero((res_s >= 1).any(axis=0) & (res_d >= 1).any(axis=0))[0])
    s = int(np.flatnonzero(res_s[:, mat] >= 1)[0])
    u = int(next(i for i in np.flatnonzero(res_d[:, mat] >= 1) if i != s))

    def reason():
        rows = [
            r
            for r in m.explain_candidates(s)
            if r["partner_slot"] == u
            and r["role"] == "supplies"
            and r["material"] == m.catalogue.materials[mat]
        ]
        assert len(rows) == 1
        return rows[0]["reason"]

    st.known[s, u] = st.known[u, s] = False
    st.facilitated[s, u] = st.facilitated[u, s] = False
    assert reason() == "not known"
    st.facilitated[s, u] = st.facilitated[u, s] = True  # a broker introduced them
    m.trust.set_pairs(np.array([s]), np.array([u]), 0.1)
    assert reason() == "trust"
    m.trust.set_pairs(np.array([s, u]), np.array([u, s]), 1.0)
    assert reason() in ("ok", "economics", "permit", "confidentiality")
    assert m.explain_candidates(int(np.flatnonzero(~st.alive)[0])) == []
