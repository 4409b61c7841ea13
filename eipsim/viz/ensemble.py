"""Ensembles in the browser: one scenario over N seeds in a background process pool.

The runs go through ``eipsim.run`` in worker processes of the experiment framework's
start method (forkserver, with the model preloaded), never in the page's thread. Seeds come
from the framework's ``run_seed(root, 0, replicate)``, so an ensemble and a reference
ensemble with the same root share their seeds (common random numbers): their difference is
taken seed by seed. No Solara here.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from eipsim.experiments.framework.backends import default_workers, mp_context
from eipsim.experiments.framework.seeds import run_seed
from eipsim.scenario.schema import Scenario

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_ctx: mp.context.BaseContext | None = None


def context() -> mp.context.BaseContext:
    """The experiment framework's start method (forkserver with the model preloaded)."""
    global _ctx
    if _ctx is None:
        _ctx = mp_context(["eipsim.domain.model", "eipsim.domain.simulation"])
    return _ctx


def _worker_init(server_pid: int) -> None:
    # Ctrl-C in the terminal reaches the whole process group: the server stops the pool,
    # the workers must not print tracebacks of their own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # A worker started by the forkserver holds both ends of its task queue, so it would
    # wait forever if the server died without stopping the pool (SIGKILL, a crash): it
    # leaves as soon as the server is gone.
    def watch() -> None:
        while True:
            time.sleep(2.0)
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:  # the pid was taken by another user's process
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="eipsim-server-watch").start()


def prestart() -> None:
    """Start the forkserver now, from the main thread, with Ctrl-C ignored while it starts
    (it inherits that, so its model preload and its workers are never interrupted by a
    Ctrl-C meant for the server). ``eipsim viz`` calls this before serving."""
    ctx = context()
    if ctx.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)


def pool() -> ProcessPoolExecutor:
    """The server's one pool of model processes, shared by all sessions, started on first
    use and kept warm (starting the processes costs more than an ensemble)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=default_workers(),
                mp_context=context(),
                initializer=_worker_init,
                initargs=(os.getpid(),),
            )
            atexit.register(shutdown)
        return _pool


def _ready() -> bool:
    import eipsim.domain.simulation  # noqa: F401  (already there from the forkserver)

    return True


def warm_up() -> None:
    """Start the pool's processes now (in the background), so the first ensemble does not
    wait for them."""

    def go() -> None:
        with contextlib.suppress(Exception):  # a pool that cannot start says so on use
            ex = pool()
            for _ in range(default_workers()):
                ex.submit(_ready)

    threading.Thread(target=go, daemon=True).start()


def shutdown() -> None:
    """Stop the pool and its processes now (running ensembles are dropped)."""
    global _pool
    with _lock:
        if _pool is not None:
            procs = list((getattr(_pool, "_processes", None) or {}).values())
            _pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                with contextlib.suppress(Exception):
                    p.terminate()
            for p in procs:
                with contextlib.suppress(Exception):
                    p.join(timeout=2)
            _pool = None


def seeds_for(root: int, n: int) -> list[int]:
    """The seeds of an ensemble of ``n`` runs rooted at ``root`` (the run's own seed)."""
    return [run_seed(int(root), 0, r) for r in range(int(n))]


def member(sc: Scenario, seed: int, steps: int) -> pd.DataFrame:
    """One run of the ensemble, in a worker process: its timeseries (numbers only)."""
    from eipsim.domain.simulation import run

    ts = run(sc, seed=seed, steps=steps).timeseries.reset_index(drop=True)
    if "step" not in ts.columns:
        ts.insert(0, "step", range(1, len(ts) + 1))
    return ts.apply(pd.to_numeric, errors="coerce").astype("float64")


@dataclass
class Ensemble:
    """An ensemble on its way: the futures of its runs and the timeseries of those done."""

    scenario: Scenario
    seeds: list[int]
    steps: int
    label: str = ""
    futures: list[Future[pd.DataFrame]] = field(default_factory=list)
    frames: dict[int, pd.DataFrame] = field(default_factory=dict)  # seed -> timeseries
    errors: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.frames) + len(self.errors)

    @property
    def finished(self) -> bool:
        return self.done >= len(self.seeds)

    def cancel(self) -> None:
        for f in self.futures:
            f.cancel()


def start(sc: Scenario, seeds: Sequence[int], steps: int, label: str = "") -> Ensemble:
    """Submit the runs; collect them with ``collect``."""
    ens = Ensemble(scenario=sc, seeds=list(seeds), steps=int(steps), label=label)
    ex = pool()
    ens.futures = [ex.submit(member, sc, s, int(steps)) for s in ens.seeds]
    return ens


def collect(ens: Ensemble, timeout: float | None = None) -> bool:
    """Move finished runs into ``ens.frames``; True if any arrived."""
    from concurrent.futures import FIRST_COMPLETED, wait

    pending = [f for f in ens.futures if not f.done()]
    if pending and timeout:
        wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
    got = False
    for seed, fut in zip(ens.seeds, ens.futures, strict=True):
        if seed in ens.frames or not fut.done() or fut.cancelled():
            continue
        exc = fut.exception()
        key = f"seed {seed}"
        if exc is not None:
            if not any(e.startswith(key) for e in ens.errors):
                ens.errors.append(f"{key}: {type(exc).__name__}: {exc}")
                got = True
            continue
        ens.frames[seed] = fut.result()
        got = True
    return got


def band(frames: Sequence[pd.DataFrame], column: str) -> pd.DataFrame:
    """Per month: the 25th, 50th and 75th percentile of ``column`` over the runs."""
    cols = [f.set_index("step")[column] for f in frames if column in f.columns]
    if not cols:
        return pd.DataFrame(columns=["step", "q25", "q50", "q75"])
    wide = pd.concat(cols, axis=1)
    q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
    q.columns = ["q25", "q50", "q75"]
    return q.reset_index(names="step")


def difference_band(ref: Ensemble, cur: Ensemble, column: str) -> pd.DataFrame:
    """Per month: percentiles (25, 50, 75) of this run's ``column`` minus the reference's,
    seed by seed, over the seeds both ensembles finished."""
    pairs = [
        cur.frames[s].set_index("step")[column] - ref.frames[s].set_index("step")[column]
        for s in ref.frames
        if s in cur.frames and column in cur.frames[s] and column in ref.frames[s]
    ]
    if not pairs:
        return pd.DataFrame(columns=["step", "q25", "q50", "q75"])
    wide = pd.concat(pairs, axis=1)
    q = wide.quantile([0.25, 0.5, 0.75], axis=1).T
    q.columns = ["q25", "q50", "q75"]
    return q.reset_index(names="step").dropna()


def final_values(frames: dict[int, pd.DataFrame], column: str) -> dict[int, float]:
    return {s: float(f[column].iloc[-1]) for s, f in frames.items() if column in f and len(f)}


@dataclass(frozen=True)
class Spread:
    """The median and interquartile range of a set of values; n of them."""

    median: float
    q25: float
    q75: float
    n: int


def spread(values: Sequence[float]) -> Spread | None:
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if v.size == 0:
        return None
    q25, q50, q75 = np.quantile(v, [0.25, 0.5, 0.75])
    return Spread(float(q50), float(q25), float(q75), int(v.size))


def paired_difference(ref: Ensemble, cur: Ensemble, column: str) -> Spread | None:
    """Current minus reference, seed by seed (the seeds both ensembles finished)."""
    a, b = final_values(ref.frames, column), final_values(cur.frames, column)
    return spread([b[s] - a[s] for s in a if s in b])


def summary_rows(
    cur: Ensemble, ref: Ensemble | None, columns: Sequence[str]
) -> list[dict[str, Any]]:
    """Per indicator, its last-month spread in each ensemble and their paired difference."""
    rows = []
    for c in columns:
        row: dict[str, Any] = {
            "column": c,
            "current": spread(list(final_values(cur.frames, c).values())),
        }
        if ref is not None:
            row["reference"] = spread(list(final_values(ref.frames, c).values()))
            row["difference"] = paired_difference(ref, cur, c)
        rows.append(row)
    return rows
