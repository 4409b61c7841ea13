"""Fault injection: a sweep killed (SIGKILL) at many moments, then resumed, loses and
duplicates no run, and ends byte-identical to an uninterrupted sweep.

Some kills are aimed: the sweep process kills itself at a chosen point of its commit
protocol (half-way through writing a part file, after a part file but before the chunk's
status file, half-way through the status file or the manifest). Others fall at random
moments, from start-up to the last write. The small version runs in CI; the slow one kills
a bigger sweep many more times.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import eipsim
import eipsim.experiments as ex
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, write_experiment
from eipsim.runs.files import is_locked

PKG_ROOT = Path(eipsim.__file__).resolve().parents[1]

# Runs the sweep command; with an injection point it SIGKILLs itself there.
LAUNCHER = r"""
import os, signal, sys
from eipsim.runs import files
from eipsim.experiments.framework import store
from eipsim.cli.commands import main

exp, out, kind, mode, nth = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
real = files.atomic_write_bytes
seen = {"n": 0}

def kind_of(path):
    p = str(path)
    for k in ("summary", "timeseries", "status"):
        if f"/{k}/" in p:
            return k
    return "manifest" if p.endswith("manifest.json") else "other"

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def injected(path, data, fsync=True):
    if kind_of(path) == kind:
        seen["n"] += 1
        if seen["n"] == nth:
            if mode == "mid":  # the state a kill during the write leaves: half a temp file
                with open(path.with_name(files._tmp_name(path.name)), "wb") as fh:
                    fh.write(data[: len(data) // 2])
                die()
            if mode == "after":
                real(path, data, fsync)
                die()
    return real(path, data, fsync)

files.atomic_write_bytes = injected
store.atomic_write_bytes = injected
sys.exit(main(["sweep", exp, "--out", out, "--workers", "1", "--adapter",
               "eipsim.experiments.framework.testing:FAKE", "--quiet"]))
"""


def _launch(exp: Path, out: Path, kind: str = "none", mode: str = "none", nth: int = 0):
    env = {**os.environ, "PYTHONPATH": str(PKG_ROOT), "EIPSIM_FAKE_DELAY": "0.02"}
    log = open(exp.parent / "sweep.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(exp), str(out), kind, mode, str(nth)],
        env=env,
        cwd=exp.parent,
        start_new_session=True,
        stdout=log,
        stderr=log,
    )


def _finish(
    proc: subprocess.Popen, out: Path | None = None, after_chunks: int = 0, delay: float = -1
) -> int:
    """Wait for the sweep to end; or, with ``delay >= 0``, kill it (workers and all, as a
    node failure would) ``delay`` seconds after ``after_chunks`` chunks have committed."""
    try:
        if delay < 0:
            proc.wait(timeout=180)
        else:
            t0 = time.monotonic()
            while out is not None and _n_done(out) < after_chunks and proc.poll() is None:
                if time.monotonic() - t0 > 120:
                    break
                time.sleep(0.01)
            proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        pass
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    return proc.returncode


def _n_done(out: Path) -> int:
    d = out / "status"
    return len(list(d.glob("chunk-*.json"))) if d.is_dir() else 0


def _files(root: Path) -> dict[str, bytes]:
    out = {"design.parquet": (root / "design.parquet").read_bytes()}
    for sub in ("summary", "timeseries"):
        for f in sorted((root / sub).glob("part-*.parquet")):
            out[f"{sub}/{f.name}"] = f.read_bytes()
    return out


def _assert_no_lost_or_duplicate_run(ref: Path, out: Path, n_runs: int) -> None:
    a, b = ex.load(ref), ex.load(out)
    assert b.complete
    ids = b.summary["run_id"].tolist()
    assert sorted(ids) == list(range(n_runs)), "lost or duplicated runs"
    assert b.timeseries.groupby("run_id").size().nunique() == 1
    assert _files(ref) == _files(out)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")], "temporaries left"
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not is_locked(out)


def _experiment(tmp_path: Path, replicates: int) -> tuple[Path, Path, int]:
    exp = write_experiment(
        tmp_path / "e.yaml",
        replicates=replicates,
        chunk_size=2,
        design={
            "kind": "grid",
            "factors": {
                "government.landfill_tax_usd_per_t": [0, 20],
                "park.placement": ["random", "nationality_clusters"],
            },
        },
    )
    ref = tmp_path / "reference"
    rep = run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), ref, workers=1, progress=False)
    assert rep.complete
    return exp, ref, rep.n_runs


# Aimed kills: (file kind, where, the how-many-th such write of the session)
AIMED = [
    ("summary", "mid", 2),  # during the commit of a part file
    ("summary", "after", 1),  # a part file written, its chunk not committed
    ("timeseries", "mid", 1),
    ("status", "mid", 1),  # during the commit marker itself
    ("status", "after", 2),  # committed, manifest not yet updated
    ("manifest", "mid", 2),  # during a manifest update
]


def _kill_and_resume(
    exp: Path, out: Path, aimed: list[tuple[str, str, int]], random_kills: list[tuple[int, float]]
) -> list[int]:
    """Aimed kills, then kills at random moments (``delay`` s after ``n`` more chunks have
    committed), then one last resume that must finish the sweep cleanly."""
    codes = []
    for kind, mode, nth in aimed:
        codes.append(_finish(_launch(exp, out, kind, mode, nth)))
    for more_chunks, delay in random_kills:
        proc = _launch(exp, out)
        codes.append(_finish(proc, out, _n_done(out) + more_chunks, delay))
    code = _finish(_launch(exp, out))
    log = (exp.parent / "sweep.log").read_text(errors="replace")
    assert code == 0, log  # the last resume finishes the sweep
    assert "Traceback" not in log, log
    return codes


def test_sweep_killed_at_aimed_and_random_moments_resumes_exactly(tmp_path):
    exp, ref, n = _experiment(tmp_path, replicates=4)  # 16 runs, 8 chunks
    out = tmp_path / "killed"
    rng = random.Random(20261129)
    aimed = [AIMED[i] for i in (0, 1, 3, 5)]  # part file, commit marker, manifest
    random_kills = [(0, rng.uniform(0.0, 1.5)), (1, rng.uniform(0.0, 0.1))]
    codes = _kill_and_resume(exp, out, aimed, random_kills)
    assert codes[: len(aimed)] == [-signal.SIGKILL] * len(aimed)  # each aimed kill happened
    _assert_no_lost_or_duplicate_run(ref, out, n)


@pytest.mark.slow
def test_sweep_killed_many_times_resumes_exactly(tmp_path):
    exp, ref, n = _experiment(tmp_path, replicates=12)  # 48 runs, 24 chunks
    out = tmp_path / "killed"
    rng = random.Random()
    aimed = [(k, m, rng.randint(1, 3)) for k, m, _ in AIMED for _ in range(2)]
    rng.shuffle(aimed)
    random_kills = [(rng.randint(0, 2), rng.uniform(0.0, 0.5)) for _ in range(12)]
    _kill_and_resume(exp, out, aimed, random_kills)
    _assert_no_lost_or_duplicate_run(ref, out, n)
