"""Sensitivity analysis, scenario discovery, plots and the report (stand-in model)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from eipsim.cli import experiments as xcli
from eipsim.errors import UserError
from eipsim.experiments.analysis.discovery import discover
from eipsim.experiments.analysis.report import make_report
from eipsim.experiments.analysis.sensitivity import analyse_sweep
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, write_experiment

# the stand-in model ignores transport cost: its indices must be ~0
PARAMS = {
    "government.landfill_tax_usd_per_t": {"low": 0, "high": 200},
    "trust.initial_cross_nationality": {"low": 0.1, "high": 0.6},
    "costs.transport_usd_per_t_km": {"low": 0.05, "high": 0.25},
}


def _sweep(tmp_path, name, **fields):
    path = write_experiment(tmp_path / f"{name}.yaml", name=name, **fields)
    out = tmp_path / name
    run_sweep(load_experiment(path, adapter=FAKE_ADAPTER), out, workers=2, progress=False)
    return out


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sobol")
    design = {"kind": "sobol", "samples": 64, "second_order": True, "parameters": PARAMS}
    sens = {"outcomes": ["adoption_share", "exchanged_t"], "num_resamples": 50}
    return _sweep(tmp, "sob", design=design, replicates=2, steps=24, sensitivity=sens)


def test_sobol_indices_with_intervals(sobol_dir):
    res = analyse_sweep(sobol_dir)
    idx = res.indices.set_index(["outcome", "parameter"])
    a = idx.loc["adoption_share"]
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(a.columns)
    assert (a["S1_conf"] > 0).all() and (a["ST_conf"] > 0).all()
    tax = a.loc["government.landfill_tax_usd_per_t"]
    dummy = a.loc["costs.transport_usd_per_t_km"]
    assert tax["ST"] > 0.5 and abs(dummy["ST"]) < 0.05
    assert res.second_order is not None and len(res.second_order) == 2 * 3
    noise = res.noise.set_index("outcome")
    assert noise.loc["adoption_share", "mean_replicates"] == 2
    assert 0 < noise.loc["adoption_share", "noise_share"] < 1
    for f in (
        "indices.csv",
        "indices.parquet",
        "second_order.csv",
        "noise.csv",
        "indices_heatmap.png",
        "indices_adoption_share.png",
        "second_order_adoption_share.png",
        "sensitivity.json",
    ):
        assert (sobol_dir / "sensitivity" / f).is_file(), f
    pd.testing.assert_frame_equal(
        pd.read_parquet(sobol_dir / "sensitivity/indices.parquet"), res.indices
    )
    assert "government.landfill_tax_usd_per_t" in res.text()


def test_too_few_samples_warns(tmp_path):
    design = {"kind": "sobol", "samples": 4, "parameters": PARAMS}
    out = _sweep(tmp_path, "few", design=design, replicates=1)
    res = analyse_sweep(out)
    text = " ".join(res.warnings)
    assert "confidence half-width" in text or "outside [0, 1]" in text
    assert "replicates >= 2" in text


@pytest.mark.parametrize(
    "kind, extra, cols",
    [
        ("morris", {"samples": 10}, ["mu_star", "mu_star_conf", "sigma"]),
        ("fast", {"samples": 65}, ["S1", "ST", "S1_conf", "ST_conf"]),
    ],
)
def test_morris_and_fast(tmp_path, kind, extra, cols):
    out = _sweep(tmp_path, kind, design={"kind": kind, "parameters": PARAMS, **extra})
    state = np.random.get_state()  # noqa: NPY002 - checking the global state is left alone
    res = analyse_sweep(out)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(state[1], after[1])
    a = res.indices[res.indices["outcome"] == "adoption_share"].set_index("parameter")
    assert set(cols) <= set(a.columns)
    main = cols[0]
    assert (
        a.loc["government.landfill_tax_usd_per_t", main]
        > a.loc["costs.transport_usd_per_t_km", main]
    )
    assert (out / "sensitivity" / "indices_heatmap.png").is_file()


def test_sensitivity_refuses_a_grid(tmp_path):
    out = _sweep(tmp_path, "grid")
    with pytest.raises(UserError, match="no sensitivity indices"):
        analyse_sweep(out)


@pytest.fixture(scope="module")
def grid_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid")
    design = {
        "kind": "grid",
        "packages": {"none": {}, "platform": {"operator.platform.enabled": True}},
        "factors": {
            "government.landfill_tax_usd_per_t": [0, 100, 200],
            "park.placement": ["random", "nationality_clusters"],
        },
    }
    return _sweep(tmp, "pol", design=design, replicates=4, steps=24)


def test_discovery_prim_and_cart(grid_dir):
    runs = pd.read_parquet(grid_dir / "summary")
    thr = float(np.quantile(runs["adoption_share"], 0.75))
    res = discover(grid_dir, outcome="adoption_share", threshold=thr)
    assert res.n_cases == 48 and 0 < res.n_interest < 48
    assert res.box_stats["density"] >= 0.8
    assert "government.landfill_tax_usd_per_t" in set(res.box["lever"])
    assert res.leaves["density"].iloc[0] >= res.leaves["density"].iloc[-1]
    assert "landfill_tax" in res.leaves["rule"].iloc[0]
    for f in ("prim_box.csv", "prim_trajectory.csv", "cart_leaves.csv", "cart_tree.txt"):
        assert (grid_dir / "discovery" / f).is_file()
    assert (grid_dir / "discovery" / "cart_tree.png").stat().st_size > 1000
    meta = json.loads((grid_dir / "discovery" / "discovery.json").read_text())
    assert meta["cases_of_interest"] == res.n_interest
    per_point = discover(
        grid_dir, outcome="adoption_share", threshold=thr, per_point=True, out=grid_dir / "disc_pp"
    )
    assert per_point.n_cases == 12


def test_discovery_bad_inputs(grid_dir):
    with pytest.raises(UserError, match="no case has adoption_share > 5"):
        discover(grid_dir, outcome="adoption_share", threshold=5)
    with pytest.raises(UserError, match="--threshold is needed"):
        discover(grid_dir, outcome="adoption_share")
    with pytest.raises(UserError, match="unknown outcome 'adoption'"):
        discover(grid_dir, outcome="adoption", threshold=0.1)
    # a yes/no outcome gets threshold 0.5 by default
    try:
        discover(grid_dir, outcome="eip_certified", out=grid_dir / "d2")
    except UserError as err:
        assert "case has eip_certified > 0.5" in str(err)


def test_report(grid_dir):
    rep = make_report(grid_dir)
    md = rep.markdown.read_text()
    assert "# Sweep report: pol" in md and "## Manifest" in md and "root seed" in md
    assert "final adoption_share by package" in md
    names = {p.name for p in rep.figures}
    assert {"over_time_adoption_share.png", "box_adoption_share.png", "heatmap_1.png"} <= names
    for p in rep.figures:
        assert p.is_file() and p.stat().st_size > 1000
    html = rep.html.read_text()
    assert html.startswith("<!doctype html>") and "heatmap_1.png" in html
    with pytest.raises(UserError, match="--by 'nope'"):
        make_report(grid_dir, by="nope")


def test_cli_end_to_end(tmp_path, capsys):
    path = write_experiment(tmp_path / "e.yaml", name="cli")
    out = tmp_path / "sw"
    base = ["--adapter", FAKE_ADAPTER, "--quiet", "--workers", "2", "--out", str(out)]
    assert xcli.main(["sweep", str(path), *base]) == 0
    assert "8 runs (8 ok, 0 failed)" in capsys.readouterr().out
    assert xcli.main(["sweep", str(path), *base]) == 0  # again: resumes, nothing to do
    assert "nothing to run" in capsys.readouterr().out
    assert xcli.main(["plot", str(out)]) == 0
    assert (out / "report" / "report.html").is_file()
    assert (
        xcli.main(["discover", str(out), "--outcome", "adoption_share", "--threshold", "0.05"]) == 0
    )
    assert "PRIM box" in capsys.readouterr().out
    assert xcli.main(["discover", str(out), "--outcome", "nope", "--threshold", "1"]) == 2
    assert xcli.main(["plot", str(tmp_path)]) == 2
    design = {"kind": "morris", "samples": 4, "parameters": PARAMS}
    sp = write_experiment(tmp_path / "m.yaml", name="m", design=design)
    args = [
        "sensitivity",
        str(sp),
        "--adapter",
        FAKE_ADAPTER,
        "--quiet",
        "--out",
        str(tmp_path / "m"),
    ]
    assert xcli.main(args) == 0
    assert "morris indices" in capsys.readouterr().out
    assert xcli.main(["sensitivity", str(tmp_path / "m"), "--outcome", "exchanged_t"]) == 0
