"""A full disk and Ctrl-C: one readable line, nothing half-written, and a sweep that
resumes to the same results once there is space again (docs/GUARANTEES.md)."""

from __future__ import annotations

import errno

import pandas as pd
import pytest
from conftest import SCENARIOS

import eipsim.experiments as ex
from eipsim.cli.commands import main
from eipsim.experiments.framework import store
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, write_experiment

RUN = ["run", str(SCENARIOS / "baseline.yaml"), "--steps", "1", "--set", "firms.count=20"]


def _full(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_run_on_a_full_disk_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _full)
    code = main([*RUN, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "nothing was written" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # no results folder, no temporary folder


def test_ctrl_c_during_a_run_writes_nothing(tmp_path, capsys, monkeypatch):
    from eipsim.runs import plots

    def interrupt(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots, "run_plots", interrupt)
    code = main([*RUN, "--out", str(tmp_path / "out")])
    assert code == 130 and "interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_sweep_on_a_full_disk_keeps_what_it_committed_and_resumes(tmp_path, capsys, monkeypatch):
    exp = write_experiment(tmp_path / "e.yaml", replicates=3, chunk_size=2)  # 12 runs
    ref = tmp_path / "ref"
    run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), ref, workers=1, progress=False)
    real = store.atomic_write_bytes
    writes = {"n": 0}

    def fills_up(path, data, fsync=True):
        if "/summary/" in str(path):
            writes["n"] += 1
            if writes["n"] == 3:
                _full()
        return real(path, data, fsync)

    monkeypatch.setattr(store, "atomic_write_bytes", fills_up)
    out = tmp_path / "sw"
    args = ["sweep", str(exp), "--out", str(out), "--adapter", FAKE_ADAPTER, "--quiet"]
    assert main([*args, "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "2 chunks already committed" in err
    assert "Traceback" not in err
    part = ex.load(out)
    assert len(part.status) == 2 and sorted(part.summary["run_id"]) == [0, 1, 2, 3]
    monkeypatch.undo()
    assert main([*args, "--workers", "1"]) == 0
    a, b = ex.load(ref), ex.load(out)
    assert b.complete
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


@pytest.mark.parametrize("kind", ["summary", "status"])
def test_sweep_ctrl_c_mid_write_leaves_no_partial_file(tmp_path, monkeypatch, kind):
    exp = write_experiment(tmp_path / "e.yaml", replicates=2, chunk_size=2)
    real = store.atomic_write_bytes

    def interrupted(path, data, fsync=True):
        if f"/{kind}/" in str(path):
            raise KeyboardInterrupt
        return real(path, data, fsync)

    monkeypatch.setattr(store, "atomic_write_bytes", interrupted)
    if kind == "status":  # the commit marker goes through atomic_write_json
        from eipsim.runs import files

        monkeypatch.setattr(files, "atomic_write_bytes", interrupted)
    out = tmp_path / "sw"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=1, progress=False)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert ex.load(out).summary.empty
    monkeypatch.undo()
    rep = run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=1, progress=False)
    assert rep.complete and rep.resumed
