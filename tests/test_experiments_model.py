"""The experiment machinery with the real model, on small parks and short runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import eipsim.experiments as ex
from eipsim.experiments.analysis.discovery import discover
from eipsim.experiments.analysis.report import make_report
from eipsim.experiments.analysis.sensitivity import analyse_sweep
from eipsim.experiments.framework.runner import plan, run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import write_experiment

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "experiments").glob("*.yaml"))
SMALL = {"firms.count": 20}


def test_the_five_experiments_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {
        "nationality_clustering",
        "shared_infrastructure",
        "information_platform",
        "policy_mix",
        "sobol_baseline",
    } <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiment_validates_and_plans(path):
    res = load_experiment(path)
    design, runs, chunk = plan(res)
    assert res.notes == []  # no rounding needed in shipped files
    assert design.n_points >= 2 and len(runs) == design.n_points * res.spec.replicates
    assert res.scenario_path.is_file()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_experiment_runs_first_points(path, tmp_path):
    """Every shipped experiment's first runs go through the real model (short, small park)."""
    res = load_experiment(path, overrides=SMALL, steps=3, replicates=1)
    design, runs, _ = plan(res)
    # a sub-experiment: only the first three points of the design, run through the model
    from eipsim.experiments.framework.worker import ChunkTask, run_chunk

    task = ChunkTask(
        chunk=0,
        adapter=res.adapter,
        base=res.base_dict,
        source=str(res.scenario_path),
        source_dir=str(res.scenario_path.parent),
        steps=3,
        ts_columns=["step", "adoption_share"],
        every=1,
        summary_keys=["adoption_share"],
        runs=[
            tuple(r)
            for r in runs[["run_id", "point", "replicate", "seed", "overrides"]]
            .head(3)
            .itertuples(index=False)
        ],
        encode=False,
    )
    out = run_chunk(task)
    assert out.failed == 0, out.errors
    assert out.ts_rows == 3 * 3


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("model")
    res = load_experiment(
        REPO / "experiments/nationality_clustering.yaml", overrides=SMALL, steps=8, replicates=2
    )
    out = tmp / "nc"
    rep = run_sweep(res, out, workers=2, progress=False)
    assert rep.complete and rep.runs_failed == 0, rep.errors
    return res, out


def test_real_sweep_one_vs_two_workers(small_sweep, tmp_path):
    res, out = small_sweep
    out1 = tmp_path / "one"
    run_sweep(res, out1, workers=1, progress=False)
    for sub in ("summary", "timeseries"):
        for f in sorted((out / sub).glob("*.parquet")):
            assert f.read_bytes() == (out1 / sub / f.name).read_bytes()


def test_a_run_reproduces_alone(small_sweep):
    import eipsim

    _, out = small_sweep
    s = ex.load(out)
    row = s.runs.iloc[13]
    sc, seed, steps = s.run_inputs(int(row["run_id"]))
    alone = eipsim.run(sc, seed=seed, steps=steps)
    assert alone.summary["adoption_share"] == row["adoption_share"]
    assert alone.summary["total_exchanged_t"] == row["total_exchanged_t"]
    ts = s.timeseries[s.timeseries["run_id"] == row["run_id"]].reset_index(drop=True)
    assert list(alone.timeseries["adoption_share"]) == list(ts["adoption_share"])


def test_real_sweep_plot_and_discover(small_sweep):
    _, out = small_sweep
    s = ex.load(out)
    assert len(s.runs) == 36 and s.timeseries["step"].max() == 8
    rep = make_report(out)
    assert rep.html.is_file() and len(rep.figures) >= 3
    y = s.runs["adoption_share"]
    if y.nunique() > 1:
        thr = float(y.quantile(0.5))
        if (y > thr).any():
            res = discover(out, outcome="adoption_share", threshold=thr)
            assert res.n_cases == 36


def test_real_sobol_small(tmp_path):
    design = {
        "kind": "sobol",
        "samples": 8,
        "parameters": {
            "government.landfill_tax_usd_per_t": {"low": 0, "high": 40},
            "trust.initial_cross_nationality": {"low": 0.15, "high": 0.6},
            "government.brokering_per_year": {"low": 0, "high": 12},
        },
    }
    path = write_experiment(tmp_path / "s.yaml", name="s", design=design, replicates=1)
    res = load_experiment(path, steps=12)
    run_sweep(res, tmp_path / "s", workers=2, progress=False)
    sa = analyse_sweep(tmp_path / "s", outcomes=["adoption_share", "eip_score"])
    assert len(sa.indices) > 0 and {"S1_conf", "ST_conf"} <= set(sa.indices.columns)
    assert sa.warnings  # N = 8 is too small: the analysis must say so


def _n_done(out: Path) -> int:
    d = out / "status"
    return len(list(d.glob("chunk-*.json"))) if d.is_dir() else 0


@pytest.mark.slow
def test_real_sweep_killed_and_resumed_is_identical(tmp_path):
    """SIGKILL a real `eipsim sweep` mid-way, resume it, compare with an uninterrupted one."""
    exp = REPO / "experiments/policy_mix.yaml"
    args = ["--set", "firms.count=40", "--steps", "36", "--replicates", "2", "--quiet"]
    out = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "eipsim.cli", "sweep", str(exp), "--out", str(out), *args]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        t0 = time.monotonic()
        while _n_done(out) < 3 and time.monotonic() - t0 < 120:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert 3 <= _n_done(out) < 14
    subprocess.run([*cmd, "--resume"], env=env, check=True)
    ref = tmp_path / "ref"
    subprocess.run(
        [*cmd[: -len(args) - 2], "--out", str(ref), *args, "--workers", "1"], env=env, check=True
    )
    for sub in ("summary", "timeseries"):
        names = sorted(p.name for p in (ref / sub).glob("*.parquet"))
        assert names == sorted(p.name for p in (out / sub).glob("*.parquet"))
        for n in names:
            assert (ref / sub / n).read_bytes() == (out / sub / n).read_bytes()


@pytest.mark.slow
def test_sobol_baseline_shortened(tmp_path):
    """The shipped Sobol experiment end to end on a shortened horizon."""
    res = load_experiment(REPO / "experiments/sobol_baseline.yaml", steps=24, overrides=SMALL)
    rep = run_sweep(res, tmp_path / "sob", workers=2, progress=False)
    assert rep.complete
    sa = analyse_sweep(tmp_path / "sob")
    assert set(sa.indices["outcome"]) <= set(res.spec.sensitivity.outcomes)


def test_a_run_builds_its_tables_when_read_and_a_sweep_only_those_it_keeps(monkeypatch):
    """RunResult's tables are built on first read, equal to the model's own; the worker
    builds a run's timeseries only when the sweep keeps one (a Sobol sweep keeps none)."""
    import pandas as pd

    import eipsim
    from eipsim.domain.model import EIPModel
    from eipsim.experiments.framework import worker

    sc = eipsim.load_scenario(Path(__file__).parents[1] / "scenarios" / "baseline.yaml")
    sc = sc.with_overrides({"firms.count": 20})
    res = eipsim.run(sc, seed=4, steps=24)
    assert "timeseries" not in vars(res) and "links" not in vars(res)  # nothing built yet
    m = EIPModel(sc, seed=4)
    for _ in range(24):
        m.step()
    pd.testing.assert_frame_equal(res.links, m.links_frame())
    pd.testing.assert_frame_equal(res.timeseries, m.datacollector.get_model_vars_dataframe())

    built: list[int] = []

    def counting_run(scenario, seed, steps):  # the eipsim adapter's run, counting builds
        ts, summary = worker._eipsim_run(scenario, seed, steps)
        return (lambda: built.append(seed) or ts()), summary

    adapter = worker.ModelAdapter(counting_run, *list(vars(worker.EIPSIM).values())[1:])
    task = worker.ChunkTask(
        chunk=0, adapter="", base={}, source="", source_dir="", steps=6, ts_columns=None,
        every=1, summary_keys=[], runs=[],
    )  # fmt: skip
    run = (0, 0, 0, 7, "{}")
    row, ts, _, err = worker.run_one(adapter, sc, task, run)
    assert err is None and row["status"] == "ok" and ts is None and built == []
    kept = worker.ChunkTask(**{**vars(task), "ts_columns": ["adoption_share"]})
    row, ts, _, err = worker.run_one(adapter, sc, kept, run)
    assert err is None and built == [7] and list(ts.columns) == ["run_id", "step", "adoption_share"]
