"""Seed derivation and design generation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eipsim.experiments.framework.design import build_design, default_chunk_size, runs_table
from eipsim.experiments.framework.seeds import run_seed, run_seed_sequence, run_seeds
from eipsim.experiments.framework.spec import design_points, load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, write_experiment


def _res(tmp_path, **fields):
    return load_experiment(write_experiment(tmp_path / "e.yaml", **fields), adapter=FAKE_ADAPTER)


def test_seed_is_the_spawn_tree_child():
    root = 20240601
    tree = np.random.SeedSequence(root).spawn(7)[5].spawn(3)[2]
    assert np.array_equal(tree.generate_state(4), run_seed_sequence(root, 5, 2).generate_state(4))


def test_seed_depends_only_on_root_point_replicate():
    a = run_seeds(1, 4, 3)
    b = run_seeds(1, 10, 3)  # more points: the first points keep their seeds
    assert np.array_equal(a, b[: len(a)])
    assert run_seed(1, 3, 2) == a[3 * 3 + 2]
    assert len(set(b.tolist())) == len(b)  # all distinct
    assert run_seed(2, 3, 2) != run_seed(1, 3, 2)
    assert all(0 <= s < 2**63 for s in b.tolist())


def test_common_random_numbers_share_seeds_across_points():
    s = run_seeds(5, 4, 2, common_random_numbers=True).reshape(4, 2)
    assert (s == s[0]).all() and s[0, 0] != s[0, 1]


def test_grid_order_labels_and_overrides(tmp_path):
    design = {
        "kind": "grid",
        "packages": {"none": {}, "platform": {"operator.platform.enabled": True}},
        "factors": {
            "government.landfill_tax_usd_per_t": [0, 20],
            "firms.confidentiality_by_nationality": {
                "low": {"VN": 0.1},
                "high": {"VN": 0.8},
            },
        },
    }
    d = build_design(_res(tmp_path, design=design))
    assert d.n_points == 8
    assert d.levers == [
        "package",
        "government.landfill_tax_usd_per_t",
        "firms.confidentiality_by_nationality",
    ]
    p = d.points
    assert list(p["package"]) == ["none"] * 4 + ["platform"] * 4
    assert list(p["government.landfill_tax_usd_per_t"][:4]) == [0, 0, 20, 20]
    assert list(p["firms.confidentiality_by_nationality"][:2]) == ["low", "high"]
    assert d.overrides[5] == {
        "operator.platform.enabled": True,
        "government.landfill_tax_usd_per_t": 0,
        "firms.confidentiality_by_nationality": {"VN": 0.8},
    }


def test_list_valued_factor_gets_json_label(tmp_path):
    design = {
        "kind": "grid",
        "factors": {"operator.shared_infrastructure": [[], ["steam_network"]]},
    }
    d = build_design(_res(tmp_path, design=design))
    assert list(d.points["operator.shared_infrastructure"]) == ["[]", '["steam_network"]']


def test_lhs_ranges_integers_levels_and_determinism(tmp_path):
    design = {
        "kind": "lhs",
        "samples": 50,
        "parameters": {
            "government.landfill_tax_usd_per_t": {"low": 5, "high": 25},
            "government.brokering_per_year": {"low": 0, "high": 4},
            "park.placement": {"levels": ["random", "nationality_clusters"]},
            "trust.threshold": {"low": 0.3, "high": 0.7, "dist": "triang", "peak": 0.4},
        },
    }
    res = _res(tmp_path, design=design)
    d = build_design(res)
    p = d.points
    assert d.n_points == 50 and d.unit.shape == (50, 4)
    tax = p["government.landfill_tax_usd_per_t"]
    assert tax.between(5, 25).all()
    # LHS: each of the 50 strata of the range holds exactly one value
    assert sorted(np.floor((tax - 5) / 20 * 50).astype(int)) == list(range(50))
    brok = p["government.brokering_per_year"]
    assert brok.dtype == np.int64 and set(brok) == {0, 1, 2, 3, 4}
    assert set(p["park.placement"]) == {"random", "nationality_clusters"}
    assert p["trust.threshold"].between(0.3, 0.7).all()
    again = build_design(res)
    assert again.points.equals(p)
    other = build_design(_res(tmp_path, design=design, seed=99))
    assert not other.points.equals(p)


@pytest.mark.parametrize(
    "kind, extra, expected",
    [
        ("sobol", {"samples": 8}, 8 * (3 + 2)),
        ("sobol", {"samples": 8, "second_order": True}, 8 * (2 * 3 + 2)),
        ("morris", {"samples": 5}, 5 * (3 + 1)),
        ("fast", {"samples": 70}, 70 * 3),
    ],
)
def test_salib_design_sizes(tmp_path, kind, extra, expected):
    params = {
        "government.landfill_tax_usd_per_t": {"low": 0, "high": 30},
        "trust.initial_cross_nationality": {"low": 0.1, "high": 0.6},
        # a norm here could draw a negative share: refused before any run (issue 10, item 4)
        "government.capex_subsidy_share": {
            "mean": 0.2,
            "sd": 0.05,
            "low": 0,
            "high": 1,
            "dist": "truncnorm",
        },
    }
    res = _res(tmp_path, design={"kind": kind, "parameters": params, **extra})
    d = build_design(res)
    assert d.n_points == expected == design_points(res.spec.design)
    assert d.problem["num_vars"] == 3
    assert d.unit.min() >= 0 and d.unit.max() <= 1


def test_groups_reach_salib(tmp_path):
    params = {
        "government.landfill_tax_usd_per_t": {"low": 0, "high": 30, "group": "prices"},
        "government.exchange_subsidy_usd_per_t": {"low": 0, "high": 5, "group": "prices"},
        "trust.initial_cross_nationality": {"low": 0.1, "high": 0.6},
    }
    d = build_design(_res(tmp_path, design={"kind": "sobol", "samples": 8, "parameters": params}))
    assert d.problem["groups"] == ["prices", "prices", "trust.initial_cross_nationality"]
    assert d.n_points == 8 * (2 + 2)  # two groups


def test_runs_table_chunks_do_not_depend_on_workers(tmp_path):
    res = _res(tmp_path, replicates=3, chunk_size=5)
    d = build_design(res)
    runs = runs_table(res, d)
    assert list(runs.columns[:5]) == ["run_id", "point", "replicate", "seed", "chunk"]
    assert len(runs) == 12
    assert list(runs["chunk"]) == [0] * 5 + [1] * 5 + [2] * 2
    assert json.loads(runs["overrides"][4]) == d.overrides[1]
    assert default_chunk_size(200) == 4 and default_chunk_size(10) == 1
    assert default_chunk_size(10**6) == 64
