"""The sweep runner and store: determinism, failures, resume after a kill, readers, dask."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import eipsim.experiments as ex
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import (
    CRASH_BROKERING,
    FAIL_BROKERING,
    FAKE_ADAPTER,
    write_experiment,
)

REPO = Path(__file__).resolve().parents[1]


def _res(tmp_path, name="e.yaml", **fields):
    return load_experiment(write_experiment(tmp_path / name, **fields), adapter=FAKE_ADAPTER)


def _result_files(root: Path) -> dict[str, bytes]:
    files = {"design.parquet": (root / "design.parquet").read_bytes()}
    for sub in ("summary", "timeseries"):
        for f in sorted((root / sub).glob("*.parquet")):
            files[f"{sub}/{f.name}"] = f.read_bytes()
    return files


def assert_same_results(a: Path, b: Path) -> None:
    fa, fb = _result_files(a), _result_files(b)
    assert sorted(fa) == sorted(fb)
    for k in fa:
        assert fa[k] == fb[k], f"{k} differs"
    la, lb = ex.load(a), ex.load(b)
    pd.testing.assert_frame_equal(la.summary, lb.summary)
    pd.testing.assert_frame_equal(la.timeseries, lb.timeseries)


BIG = {
    "replicates": 10,
    "chunk_size": 2,
    "design": {
        "kind": "grid",
        "factors": {
            "government.landfill_tax_usd_per_t": [0, 20],
            "park.placement": ["random", "nationality_clusters"],
        },
    },
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted sweep with one worker, the yardstick for the others."""
    tmp = tmp_path_factory.mktemp("ref")
    exp = write_experiment(tmp / "big.yaml", **BIG)
    out = tmp / "ref"
    rep = run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=1, progress=False)
    assert rep.complete and rep.runs_ok == 40
    return exp, out


def test_one_and_two_workers_give_identical_files(reference, tmp_path):
    exp, ref = reference
    out = tmp_path / "two"
    run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=2, progress=False)
    assert_same_results(ref, out)


def test_rerun_of_a_complete_sweep_does_nothing(reference):
    exp, ref = reference
    before = _result_files(ref)
    rep = run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), ref, workers=2, progress=False)
    assert rep.chunks_run == 0 and rep.chunks_skipped == 20 and rep.resumed
    assert _result_files(ref) == before


def test_resume_after_lost_chunks(reference, tmp_path):
    """Chunks whose status never got written are re-run; orphans and temporaries go away."""
    exp, ref = reference
    out = tmp_path / "partial"
    res = load_experiment(exp, adapter=FAKE_ADAPTER)
    run_sweep(res, out, workers=2, progress=False)
    for c in (3, 7, 19):
        (out / f"status/chunk-{c:05d}.json").unlink()  # as if killed before the commit
    (out / "summary/part-00007.parquet").write_bytes(b"half-written")
    (out / "timeseries/.part-00011.parquet.abc.tmp").write_bytes(b"junk")
    part = ex.load(out)
    assert not part.complete and len(part.summary) == 34
    rep = run_sweep(res, out, workers=2, progress=False, resume=True)
    assert rep.chunks_run == 3 and rep.complete
    assert not list(out.rglob("*.tmp"))
    assert_same_results(ref, out)


def _wait_for(pred, timeout=60.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _sweep_proc(exp: Path, out: Path, delay: str) -> subprocess.Popen:
    env = {**os.environ, "EIPSIM_FAKE_DELAY": delay, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "eipsim", "sweep", str(exp), "--out", str(out)]
    cmd += ["--workers", "2", "--adapter", FAKE_ADAPTER, "--quiet"]
    return subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _n_done(out: Path) -> int:
    d = out / "status"
    return len(list(d.glob("chunk-*.json"))) if d.is_dir() else 0


def test_sigkilled_sweep_resumes_to_identical_results(reference, tmp_path):
    exp, ref = reference
    out = tmp_path / "killed"
    proc = _sweep_proc(exp, out, delay="0.05")
    try:
        assert _wait_for(lambda: _n_done(out) >= 4), "sweep made no progress"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its workers, no clean-up
        proc.wait(timeout=30)
    done = _n_done(out)
    assert 4 <= done < 20
    part = ex.load(out)
    assert not part.complete
    assert set(part.summary["run_id"]) == set(
        part.design.query("chunk in @part.status.chunk").run_id
    )
    rep = run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=2, progress=False)
    assert rep.resumed and rep.chunks_skipped == done and rep.complete
    assert_same_results(ref, out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["sessions"]) == 2


def test_ctrl_c_stops_cleanly_and_resume_finishes(reference, tmp_path):
    exp, ref = reference
    out = tmp_path / "interrupted"
    proc = _sweep_proc(exp, out, delay="0.05")
    try:
        assert _wait_for(lambda: _n_done(out) >= 2)
        os.kill(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"Traceback" not in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=2, progress=False)
    assert_same_results(ref, out)


def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path):
    design = {
        "kind": "grid",
        "factors": {"government.brokering_per_year": [0, FAIL_BROKERING, 1]},
    }
    out = tmp_path / "fail"
    rep = run_sweep(_res(tmp_path, design=design, chunk_size=4), out, workers=2, progress=False)
    assert rep.complete and rep.runs_ok == 4 and rep.runs_failed == 2
    s = ex.load(out)
    failed = s.runs[s.runs["status"] == "failed"]
    assert list(failed["government.brokering_per_year"]) == [FAIL_BROKERING] * 2
    assert (failed["error"] == "RuntimeError: injected failure").all()
    assert failed["seed"].tolist() == s.design.set_index("run_id").loc[[2, 3], "seed"].tolist()
    assert failed["adoption_share"].isna().all()
    assert not s.timeseries["run_id"].isin(failed["run_id"]).any()
    status = json.loads((out / "status/chunk-00000.json").read_text())
    err = status["errors"][0]
    assert err["seed"] == int(failed["seed"].iloc[0]) and "injected failure" in err["traceback"]


def test_worker_crash_is_isolated_to_its_runs(tmp_path):
    design = {
        "kind": "grid",
        "factors": {"government.brokering_per_year": [0, CRASH_BROKERING, 1]},
    }
    out = tmp_path / "crash"
    rep = run_sweep(_res(tmp_path, design=design, chunk_size=3), out, workers=2, progress=False)
    assert rep.complete
    s = ex.load(out)
    runs = s.runs.set_index("run_id")
    assert list(runs["status"]) == ["ok", "ok", "failed", "failed", "ok", "ok"]
    assert runs.loc[2, "error"].startswith("WorkerDied")
    # the good runs of the crashing chunks equal those of a sweep without the crash
    clean = {"kind": "grid", "factors": {"government.brokering_per_year": [0, 2, 1]}}
    out2 = tmp_path / "clean"
    run_sweep(_res(tmp_path, "c.yaml", design=clean, chunk_size=3), out2, workers=1, progress=False)
    s2 = ex.load(out2).runs.set_index("run_id")
    for rid in (0, 1, 4, 5):
        assert runs.loc[rid, "adoption_share"] == s2.loc[rid, "adoption_share"]


def test_readers_and_manifest(reference):
    _, ref = reference
    s = ex.load(ref, timeseries=["adoption_share"])
    assert list(s.timeseries.columns) == ["run_id", "step", "adoption_share"]
    assert len(s.timeseries) == 40 * 6
    assert s.complete and s.levers == ["government.landfill_tax_usd_per_t", "park.placement"]
    runs = s.runs
    assert len(runs) == 40 and {"park.placement", "adoption_share", "seed"} <= set(runs.columns)
    assert ex.load(ref, timeseries=False).timeseries.empty
    m = s.manifest
    for key in ("experiment", "root_seed", "versions", "python", "platform", "git_commit"):
        assert key in m
    assert m["sessions"][0]["command_line"]
    assert m["experiment"]["base_scenario"]["firms"]["count"] == 20
    ts = s.timeseries_with_levers()
    assert "park.placement" in ts.columns


def test_duckdb_query(reference):
    duckdb = pytest.importorskip("duckdb")
    _, ref = reference
    q = f"""
        SELECT d."park.placement" AS placement, count(*) AS runs, avg(s.adoption_share) AS mean
        FROM read_parquet('{ref}/summary/*.parquet') s
        JOIN read_parquet('{ref}/design.parquet') d USING (run_id)
        GROUP BY 1 ORDER BY 1
    """
    df = duckdb.sql(q).df()
    assert list(df["runs"]) == [20, 20]
    runs = ex.load(ref).runs
    expect = runs.groupby("park.placement")["adoption_share"].mean().sort_index()
    assert np.allclose(df["mean"], expect.to_numpy())


def test_thinning_and_column_selection(tmp_path):
    out = tmp_path / "thin"
    outputs = {"timeseries": ["adoption_share"], "every": 4, "summary": ["adoption_share"]}
    run_sweep(_res(tmp_path, outputs=outputs, steps=10), out, workers=1, progress=False)
    s = ex.load(out)
    assert sorted(s.timeseries["step"].unique()) == [4, 8, 10]
    assert list(s.timeseries.columns) == ["run_id", "step", "adoption_share"]
    assert list(s.summary.columns)[-1] == "adoption_share"


def test_local_and_dask_give_identical_files(reference, tmp_path):
    pytest.importorskip("dask.distributed")
    exp, ref = reference
    out = tmp_path / "dask"
    rep = run_sweep(
        load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=2, backend="dask", progress=False
    )
    assert rep.complete
    assert_same_results(ref, out)
    m = json.loads((out / "manifest.json").read_text())
    assert m["sessions"][0]["backend"] == "dask"
