"""Sweep benchmarks: eipsim sweep vs Mesa's batch_run vs a serial loop (prints figures).

    python benchmarks/bench_sweep.py                 # 200 baseline runs, 2 workers
    python benchmarks/bench_sweep.py --runs 50 --quick

Measured, on the same runs (the baseline scenario, 120 months, one seed per run):
  * a serial loop of ``eipsim.run``;
  * ``eipsim sweep`` on the local backend with N workers (Parquet written, full timeseries);
  * ``mesa.batch_run`` with N processes (full timeseries collected, held in memory);
  * ``eipsim sweep`` on a dask LocalCluster with N workers;
  * the framework's own overhead per run, with a model that does nothing;
  * the parent process's peak memory as the number of runs grows (streaming, not accumulating).

This is a benchmark, not a timed test: it prints figures for docs/EXPERIMENTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def write_experiment(path: Path, runs: int, **extra) -> Path:
    data = {
        "name": path.stem,
        "scenario": str(REPO / "scenarios" / "baseline.yaml"),
        "seed": 1,
        "replicates": runs,
        "design": {"kind": "packages", "packages": {"baseline": {}}},
        **extra,
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def run_serial(sc, seeds, steps: int) -> tuple[float, dict[int, float]]:
    import eipsim

    t0 = time.perf_counter()
    out = {}
    for s in seeds:
        r = eipsim.run(sc, seed=int(s), steps=steps)
        out[int(s)] = float(r.summary["adoption_share"])
    return time.perf_counter() - t0, out


def run_eipsim(res, out: Path, workers: int, backend: str = "local") -> tuple[float, dict]:
    from eipsim.experiments.framework.runner import run_sweep

    t0 = time.perf_counter()
    rep = run_sweep(res, out, workers=workers, backend=backend, progress=False)
    wall = time.perf_counter() - t0
    assert rep.complete and rep.runs_failed == 0, rep.errors
    compute = 0.0
    for f in (out / "status").glob("chunk-*.json"):
        compute += sum(json.loads(f.read_text())["run_elapsed_s"])
    m = json.loads((out / "manifest.json").read_text())
    return wall, {"compute_s": compute, "rss_mb": m["sessions"][-1]["parent_peak_rss_mb"]}


def run_batch(sc, seeds, workers: int, steps: int) -> tuple[float, list]:
    from mesa.batchrunner import batch_run

    from eipsim.domain.model import EIPModel

    t0 = time.perf_counter()
    rows = batch_run(
        EIPModel,
        parameters={"scenario": [sc]},
        number_processes=workers,
        data_collection_period=1,
        max_steps=steps,
        display_progress=False,
        rng=[int(s) for s in seeds],
    )
    return time.perf_counter() - t0, rows


def peak_rss_subprocess(exp: Path, out: Path, workers: int, adapter: str | None) -> dict:
    cmd = [sys.executable, "-m", "eipsim", "sweep", str(exp), "--out", str(out)]
    cmd += ["--workers", str(workers), "--quiet"]
    if adapter:
        cmd += ["--adapter", adapter]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env={**os.environ})
    wall = time.perf_counter() - t0
    m = json.loads((out / "manifest.json").read_text())
    return {"wall_s": wall, "rss_mb": m["sessions"][-1]["parent_peak_rss_mb"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=None, help="months per run (default 120)")
    ap.add_argument(
        "--repeat", type=int, default=2, help="rounds of the timed methods; the best is kept"
    )
    ap.add_argument("--quick", action="store_true", help="skip batch_run, dask and scaling")
    ap.add_argument("--scaling", default="250,1000,4000,16000", help="runs for the memory curve")
    a = ap.parse_args()

    from eipsim.experiments import load
    from eipsim.experiments.framework.design import build_design, runs_table
    from eipsim.experiments.framework.spec import load_experiment

    tmp = Path(tempfile.mkdtemp(prefix="eipsim-bench-"))
    extra = {"steps": a.steps} if a.steps else {}
    exp = write_experiment(tmp / "bench.yaml", a.runs, **extra)
    res = load_experiment(exp)
    seeds = runs_table(res, build_design(res))["seed"].tolist()
    sc = res.base
    steps = res.steps
    n, w = a.runs, a.workers
    print(
        f"{n} runs of the baseline scenario ({sc.firms.count} firms, {steps} months), "
        f"{w} workers, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {os.getloadavg()[0]:.2f}; best of {a.repeat} rounds"
    )
    times: dict[str, list[float]] = {"serial": [], "local": [], "batch_run": [], "dask": []}
    info: dict[str, dict] = {}
    same = {}
    for k in range(a.repeat):
        t, serial = run_serial(sc, seeds, steps)
        times["serial"].append(t)
        out = tmp / f"local{k}"
        t, info_k = run_eipsim(res, out, w)
        times["local"].append(t)
        if t == min(times["local"]):
            info["local"] = info_k
        ours = load(out, timeseries=False).runs.set_index("seed")["adoption_share"]
        same["local"] = all(abs(ours[s] - v) < 1e-12 for s, v in serial.items())
        if a.quick:
            continue
        t, rows = run_batch(sc, seeds, w, steps)
        times["batch_run"].append(t)
        last = {int(r["seed"]): float(r["adoption_share"]) for r in rows if r["Step"] == steps}
        same["batch_run"] = len(last) == n and all(
            abs(last[s] - v) < 1e-12 for s, v in serial.items()
        )
        del rows
        t, _ = run_eipsim(res, tmp / f"dask{k}", w, backend="dask")
        times["dask"].append(t)
        same["dask"] = _same(tmp / "local0", tmp / f"dask{k}")

    best = {m: min(v) for m, v in times.items() if v}
    ser = best["serial"]

    def line(label: str, m: str, extra: str = "") -> None:
        t = best[m]
        runs = ", ".join(f"{x:.1f}" for x in times[m])
        print(
            f"  {label:<22} {t:8.2f} s  {n / t:6.2f} runs/s  efficiency {ser / (w * t):6.1%}"
            f"  (rounds: {runs} s){extra}"
        )

    print(f"  {'serial loop':<22} {ser:8.2f} s  {n / ser:6.2f} runs/s  {1000 * ser / n:.1f} ms/run")
    line("eipsim sweep (local)", "local", f"  same results as serial: {same['local']}")
    loc = best["local"]
    comp = info["local"]["compute_s"]
    print(
        f"      per-run overhead: wall - serial/{w} = {1000 * (loc - ser / w) / n:.1f} ms; "
        f"({w} x wall - time inside runs) / runs = {1000 * (w * loc - comp) / n:.1f} ms "
        f"(both include pool start-up and the idle tail); parent peak RSS "
        f"{info['local']['rss_mb']} MB"
    )
    if a.quick:
        print(f"(scratch folder: {tmp})")
        return
    line(
        "mesa batch_run",
        "batch_run",
        f"  eipsim/batch_run time {loc / best['batch_run']:.2f}; same: {same['batch_run']}",
    )
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=w, threads_per_worker=1, dashboard_address=None) as cl:
        Client(cl).close()
    t_start = time.perf_counter() - t0
    line("eipsim sweep (dask)", "dask", f"  same files as local: {same['dask']}")
    print(
        f"      LocalCluster start-up {t_start:.1f} s; dask overhead per run beyond the local "
        f"backend: {1000 * (best['dask'] - loc) / n:.1f} ms"
    )

    # framework overhead alone: a model that returns at once
    from eipsim.experiments.framework.testing import FAKE_ADAPTER

    noop = write_experiment(tmp / "noop.yaml", 4000, steps=1)
    r0 = load_experiment(noop, adapter=FAKE_ADAPTER)
    t_noop, _ = run_eipsim(r0, tmp / "noop", w)
    print(
        f"  no-op model, 4000 runs {t_noop:8.2f} s  framework cost "
        f"{1000 * t_noop / 4000:.2f} ms per run (wall, {w} workers, start-up included)"
    )
    print("  parent peak memory vs runs (stand-in model, 120 months x 6 columns per run):")
    for k in [int(x) for x in a.scaling.split(",")]:
        e = write_experiment(tmp / f"mem{k}.yaml", k)
        r = peak_rss_subprocess(e, tmp / f"mem{k}", w, FAKE_ADAPTER)
        print(
            f"      {k:6d} runs: parent peak RSS {r['rss_mb']:6.1f} MB   "
            f"(sweep {r['wall_s']:.1f} s)"
        )
    print(f"load average at the end {os.getloadavg()[0]:.2f}; scratch folder: {tmp}")


def _same(a: Path, b: Path) -> bool:
    for sub in ("summary", "timeseries"):
        fa = sorted((a / sub).glob("*.parquet"))
        fb = sorted((b / sub).glob("*.parquet"))
        if [f.name for f in fa] != [f.name for f in fb]:
            return False
        if any(x.read_bytes() != y.read_bytes() for x, y in zip(fa, fb, strict=True)):
            return False
    return True


if __name__ == "__main__":
    main()
