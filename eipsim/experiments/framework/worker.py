"""What runs inside a worker process: one chunk of runs, encoded as Parquet bytes.

Workers encode (and compress) their own part files so the parent only writes bytes to disk;
that keeps the parent's cost per run small and its memory flat however many runs there are.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from eipsim.experiments.framework.parquet import PARQUET_OPTIONS as PARQUET_OPTIONS
from eipsim.experiments.framework.parquet import encode

SUMMARY_ID_COLUMNS = ("run_id", "point", "replicate", "seed", "status", "error")


# A run's monthly table, or a function that builds it when the sweep keeps it
Timeseries = pd.DataFrame | Callable[[], pd.DataFrame]


@dataclass(frozen=True)
class ModelAdapter:
    """How the runner calls a model: ``run(scenario, seed, steps) -> (timeseries, summary)``,
    where the timeseries may also be a function that builds it, called only when the sweep
    keeps a timeseries (a sensitivity analysis keeps none)."""

    run: Callable[[Any, int, int | None], tuple[Timeseries, dict[str, Any]]]
    summary_keys: Callable[[], list[str]]
    timeseries_columns: Callable[[], list[str]]
    build_scenario: Callable[[dict[str, Any], str, str], Any]


def _eipsim_run(scenario: Any, seed: int, steps: int | None) -> tuple[Timeseries, dict]:
    import eipsim

    res = eipsim.run(scenario, seed=seed, steps=steps)
    return (lambda: res.timeseries), res.summary


def _eipsim_summary_keys() -> list[str]:
    from eipsim.domain.indicators import SUMMARY_KEYS

    return list(SUMMARY_KEYS)


def _eipsim_ts_columns() -> list[str]:
    from eipsim.domain.indicators import TIMESERIES_COLUMNS

    return list(TIMESERIES_COLUMNS)


def _eipsim_scenario(base: dict[str, Any], source: str, source_dir: str) -> Any:
    from eipsim.scenario.schema import scenario_from_dict

    return scenario_from_dict(base, source=source, source_dir=Path(source_dir))


EIPSIM = ModelAdapter(_eipsim_run, _eipsim_summary_keys, _eipsim_ts_columns, _eipsim_scenario)


def get_adapter(path: str) -> ModelAdapter:
    """Import an adapter named ``module:attribute``."""
    mod, _, attr = path.partition(":")
    return getattr(importlib.import_module(mod), attr)


@dataclass
class ChunkTask:
    """One chunk: consecutive runs that share one part file per table."""

    chunk: int
    adapter: str
    base: dict[str, Any]
    source: str
    source_dir: str
    steps: int
    ts_columns: list[str] | None  # None: no timeseries kept
    every: int
    summary_keys: list[str]
    runs: list[tuple[int, int, int, int, str]]  # run_id, point, replicate, seed, overrides json
    encode: bool = True


@dataclass
class ChunkResult:
    chunk: int
    run_ids: list[int]
    ok: int
    failed: int
    summary: bytes | pa.Table
    timeseries: bytes | pa.Table | None
    ts_rows: int
    run_elapsed_s: list[float]
    errors: list[dict[str, Any]] = field(default_factory=list)
    host: str = ""
    pid: int = 0


_SCENARIOS: dict[tuple[str, str], Any] = {}


def _base_scenario(task: ChunkTask, adapter: ModelAdapter) -> Any:
    key = (task.adapter, json.dumps(task.base, sort_keys=True))
    sc = _SCENARIOS.get(key)
    if sc is None:
        _SCENARIOS.clear()
        sc = adapter.build_scenario(task.base, task.source, task.source_dir)
        _SCENARIOS[key] = sc
    return sc


def init_worker(parent_pid: int | None = None) -> None:
    """Pool initializer: Ctrl-C is the parent's to handle, and a worker whose parent was
    killed (SIGKILL, out-of-memory) exits instead of waiting forever for work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def _watch_parent(pid: int, every: float = 0.5) -> None:
    while True:
        time.sleep(every)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # pid reused by another user's process: parent is gone
            os._exit(1)
        if _is_zombie(pid):  # killed, not yet reaped by its own parent
            os._exit(1)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # not Linux, or gone (the next os.kill tells)
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def summary_table(rows: list[dict[str, Any]], keys: list[str]) -> pa.Table:
    """Fixed schema for every chunk: ids, status, error, then each summary key as float64."""
    cols: dict[str, pa.Array] = {
        "run_id": pa.array([r["run_id"] for r in rows], pa.int64()),
        "point": pa.array([r["point"] for r in rows], pa.int64()),
        "replicate": pa.array([r["replicate"] for r in rows], pa.int64()),
        "seed": pa.array([r["seed"] for r in rows], pa.int64()),
        "status": pa.array([r["status"] for r in rows], pa.string()),
        "error": pa.array([r.get("error") for r in rows], pa.string()),
    }
    for k in keys:
        cols[k] = pa.array([_as_float(r.get("summary", {}).get(k)) for r in rows], pa.float64())
    return pa.table(cols)


def _as_float(v: Any) -> float | None:
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _thin(ts: pd.DataFrame, every: int) -> pd.DataFrame:
    if every <= 1 or "step" not in ts.columns or ts.empty:
        return ts
    step = ts["step"].to_numpy()
    keep = (step % every == 0) | (step == step.max())
    return ts.loc[keep]


def timeseries_table(frames: list[pd.DataFrame]) -> pa.Table:
    df = pd.concat(frames, ignore_index=True)
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_integer_dtype(s):
            df[c] = s.astype("int64")
        elif pd.api.types.is_float_dtype(s):
            df[c] = s.astype("float64")
    return pa.Table.from_pandas(df, preserve_index=False)


def run_one(
    adapter: ModelAdapter, base: Any, task: ChunkTask, run: tuple[int, int, int, int, str]
) -> tuple[dict[str, Any], pd.DataFrame | None, float, dict[str, Any] | None]:
    """One run; any exception becomes a failed row with its error, the sweep goes on."""
    run_id, point, replicate, seed, ov_json = run
    row: dict[str, Any] = {"run_id": run_id, "point": point, "replicate": replicate, "seed": seed}
    t0 = time.perf_counter()
    ts = None
    err = None
    try:
        ov = json.loads(ov_json)
        sc = base.with_overrides(ov) if ov else base
        ts_of_run, summary = adapter.run(sc, seed, task.steps)
        row.update(status="ok", error=None, summary=summary)
        if task.ts_columns is not None:
            ts_full = ts_of_run() if callable(ts_of_run) else ts_of_run
            cols = [c for c in task.ts_columns if c in ts_full.columns]
            if "step" not in cols and "step" in ts_full.columns:
                cols = ["step", *cols]
            ts = _thin(ts_full[cols], task.every).reset_index(drop=True)
            ts.insert(0, "run_id", np.int64(run_id))
    except Exception as exc:  # noqa: BLE001 - a failing run must not stop the sweep
        msg = f"{type(exc).__name__}: {exc}".strip()
        row.update(status="failed", error=msg)
        err = {
            "run_id": run_id,
            "point": point,
            "replicate": replicate,
            "seed": seed,
            "error": msg,
            "traceback": traceback.format_exc(limit=-8),
        }
    return row, ts, time.perf_counter() - t0, err


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run every run of a chunk and return its part files (encoded unless task.encode is off)."""
    adapter = get_adapter(task.adapter)
    rows: list[dict[str, Any]] = []
    frames: list[pd.DataFrame] = []
    elapsed: list[float] = []
    errors: list[dict[str, Any]] = []
    try:
        base = _base_scenario(task, adapter)
    except Exception as exc:  # noqa: BLE001 - recorded per run below
        base, base_err = None, f"{type(exc).__name__}: {exc}"
    else:
        base_err = ""
    for run in task.runs:
        if base is None:
            rows.append(
                dict(zip(("run_id", "point", "replicate", "seed"), run[:4], strict=True))
                | {"status": "failed", "error": base_err}
            )
            elapsed.append(0.0)
            errors.append({"run_id": run[0], "seed": run[3], "error": base_err})
            continue
        row, ts, dt, err = run_one(adapter, base, task, run)
        rows.append(row)
        elapsed.append(dt)
        if ts is not None:
            frames.append(ts)
        if err:
            errors.append(err)
    summ = summary_table(rows, task.summary_keys)
    ts_tab = timeseries_table(frames) if frames else None
    ok = sum(r["status"] == "ok" for r in rows)
    return ChunkResult(
        chunk=task.chunk,
        run_ids=[r[0] for r in task.runs],
        ok=ok,
        failed=len(rows) - ok,
        summary=encode(summ) if task.encode else summ,
        timeseries=(encode(ts_tab) if task.encode else ts_tab) if ts_tab is not None else None,
        ts_rows=0 if ts_tab is None else ts_tab.num_rows,
        run_elapsed_s=elapsed,
        errors=errors,
        host=socket.gethostname(),
        pid=os.getpid(),
    )
