"""The indicators' columns are computed from the months' raw numbers (``MonthLog``) for all
months at once when read: they must equal each month's own values, whenever read."""

from __future__ import annotations

import math

import numpy as np

import eipsim
from eipsim.domain import indicators
from eipsim.domain.links import ACTIVE
from eipsim.domain.model import EIPModel


def _same(a: object, b: object) -> bool:
    """Equal, NaN equal to NaN, and of the same Python type."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def test_columns_are_each_months_values_whenever_read(lively):
    m = EIPModel(lively, seed=4)
    assert m.metrics == {}
    empty = m.datacollector.get_model_vars_dataframe()
    assert list(empty.columns) == list(indicators.TIMESERIES_COLUMNS) and len(empty) == 0
    months = []
    for t in range(1, 19):
        m.step()
        months.append(m.metrics)
        if t in (1, 6, 7):  # read mid-run: the next month must not find the frame stale
            ts = m.datacollector.get_model_vars_dataframe()
            assert len(ts) == t and ts["step"].iloc[-1] == t
    ts = m.datacollector.get_model_vars_dataframe()
    assert list(ts.columns) == list(indicators.TIMESERIES_COLUMNS)
    for ind in indicators.INDICATORS:
        assert ts[ind.name].dtype == np.dtype(ind.dtype), ind.name
    for t, values in enumerate(months):
        assert list(values) == list(indicators.TIMESERIES_COLUMNS)
        row = ts.iloc[t]
        for name, value in values.items():
            assert _same(value, row[name].item()), (t, name, value, row[name])
    # something moved, so the flows' columns were tested with numbers in them
    assert ts["exchanged_t"].sum() > 0 and ts["water_greening_m3"].sum() > 0
    assert ts["facility_users"].max() > 0


def test_a_view_alone_is_a_month_of_its_own(lively):
    """``indicators.compute`` of a view: the month's values of what does not depend on the
    flows, and no flows (``EIPModel.view`` has none)."""
    m = EIPModel(lively, seed=4)
    for _ in range(6):
        m.step()
    values = indicators.compute(m.view())
    assert list(values) == list(indicators.TIMESERIES_COLUMNS)
    for name in ("step", "firms", "active_links", "firms_in_symbiosis", "mean_degree"):
        assert _same(values[name], m.metrics[name]), name
    for name in ("mean_trust_same_nationality", "operator_cash_usd", "facility_users"):
        assert _same(values[name], m.metrics[name]), name
    assert values["exchanged_t"] == 0.0 and values["waste_generated_t"] == 0.0


def test_link_terms_memo_follows_the_statuses_and_the_active_links():
    """The memo's terms equal fresh ones after every kind of status change: a link added
    as pending (the active part kept), a pending one started, one ended, one refused its
    permit; and a memo whose active part outlived its links would fail here."""
    from eipsim.domain.links import LinkTable

    L, nat, n_plots, n_mat = LinkTable(), np.array([0, 0, 1, 1, 0]), 5, 3
    memo = indicators.LinkTermsMemo()

    def add(s: int, u: int, start: int) -> None:
        L.add(
            np.array([s]),
            np.array([u]),
            np.array([0]),
            np.array([5.0]),
            0,
            np.array([start]),
            np.array([s]),
            np.array([u]),
            np.array([False]),
        )

    def check() -> indicators.LinkTerms:
        got, fresh = memo.link_terms(L, nat, n_plots, n_mat), indicators.link_terms(L, nat, n_plots)
        assert got.active_rows.tolist() == fresh.active_rows.tolist()
        assert got.in_links.tolist() == fresh.in_links.tolist()
        assert (got.by_status, got.network) == (fresh.by_status, fresh.network)
        assert (got.cross_national, got.mean_lifetime) == (
            fresh.cross_national,
            fresh.mean_lifetime,
        )
        return got

    add(0, 1, 0)
    first = check()
    assert memo.link_terms(L, nat, n_plots, n_mat) is first  # nothing changed: kept
    add(1, 2, 4)  # pending: the counts change, the active links do not
    assert check().network is first.network
    L.status[1] = ACTIVE  # started: a cross-national link joins the network
    assert check().network.edges == 2
    add(3, 4, 6)
    L.end_links(np.array([2]), 6, "permit_refused")  # never delivered: no lifetime
    assert check().mean_lifetime == -1.0
    L.end_links(np.array([0]), 9, "unprofitable")
    assert check().mean_lifetime == 9.0


def test_mesa_batch_run_reads_the_indicators(baseline):
    """Mesa's ``batch_run`` collects from the model's DataCollector: each month's row holds
    the same indicator values as the run's timeseries."""
    from mesa.batchrunner import batch_run

    from eipsim.domain.model import EIPModel

    rows = batch_run(
        EIPModel,
        parameters={"scenario": [baseline]},
        number_processes=1,
        data_collection_period=1,
        max_steps=8,
        display_progress=False,
        rng=[3],
    )
    ts = eipsim.run(baseline, seed=3, steps=8).timeseries
    by_step = {int(r["Step"]): r for r in rows}
    for month in range(1, 9):
        row = by_step[month]
        for col in ("adoption_share", "active_links", "solid_generated_t"):
            assert row[col] == ts[col].iloc[month - 1]


def test_weighed_months_are_each_months_own_dot_product():
    """``_weighed`` in one call has the bits of one ``month @ weights`` a month, whatever
    the material count (BLAS dot kernels unroll by 4, 8, 16) and for a strided flow column."""
    rng = np.random.default_rng(7)
    for n_mat in (1, 3, 8, 11, 17, 40):
        flows = rng.lognormal(0.0, 4.0, (30, 7, n_mat)) * rng.choice([0.0, 1.0], (30, 7, n_mat))
        weights = rng.standard_normal(n_mat)
        by_material = flows[:, 2]  # (months, M) rows of a (months, 7, M) log: strided
        each = np.array([month @ weights for month in by_material], dtype=float)
        assert indicators._weighed(by_material, weights).tobytes() == each.tobytes()
        assert indicators._weighed(by_material[:0], weights).shape == (0,)
