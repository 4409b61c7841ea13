"""Run an experiment's sweep: chunks to a backend, results streamed to the sweep folder.

Run ids, seeds and chunk boundaries follow from the experiment alone, so a sweep gives the
same part files whatever the number of workers, the backend, the order chunks finish in,
or how many times it was interrupted and resumed.
"""

from __future__ import annotations

import contextlib
import math
import shlex
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from eipsim.errors import UserError
from eipsim.experiments.framework.backends import (
    DaskBackend,
    LocalBackend,
    WorkerDied,
    make_backend,
)
from eipsim.experiments.framework.design import Design, build_design, chunk_size_of, runs_table
from eipsim.experiments.framework.spec import DEFAULT_ADAPTER, FORMAT, ResolvedExperiment
from eipsim.experiments.framework.store import (
    MANIFEST,
    SweepStore,
    _now,
    environment,
    failed_runs,
)
from eipsim.experiments.framework.worker import (
    SUMMARY_ID_COLUMNS,
    ChunkResult,
    ChunkTask,
    get_adapter,
    summary_table,
    timeseries_table,
)
from eipsim.runs.files import check_out_dir

MAX_REPORTED_ERRORS = 100


@dataclass
class SweepReport:
    """What a call to ``run_sweep`` did."""

    out: Path
    n_runs: int
    n_chunks: int
    chunks_run: int
    chunks_skipped: int
    runs_ok: int
    runs_failed: int
    wall_s: float
    resumed: bool
    complete: bool
    errors: list[dict[str, Any]] = field(default_factory=list)
    failed_total: int = 0  # failed runs in the whole folder, this session and earlier ones
    warnings: list[str] = field(default_factory=list)


def _peak_rss_mb() -> float | None:
    """Peak resident memory of this (parent) process; workers are not counted."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def default_out(res: ResolvedExperiment) -> Path:
    """results/sweeps/<name>: fixed, so that re-running the same command resumes."""
    return Path("results") / "sweeps" / res.name


def check_sweep_out(out: Path) -> None:
    """Refuse a sweep folder that cannot be written, before any work starts: an existing
    file, a non-empty folder that is not a sweep, a parent that is a file or read-only."""
    if not str(out).strip():
        raise UserError("--out is empty; give a folder name")
    if (out / MANIFEST).is_file():
        return  # an existing sweep: SweepStore checks it is this experiment's
    if out.is_dir() and any(out.iterdir()):
        raise UserError(
            f"{out} exists and is not a sweep folder (no {MANIFEST}); choose another --out folder"
        )
    check_out_dir(out)


def _columns(res: ResolvedExperiment, adapter: Any) -> tuple[list[str] | None, list[str]]:
    out = res.spec.outputs
    known_ts = adapter.timeseries_columns()
    known_sum = adapter.summary_keys()
    src = res.path or "<experiment>"
    if out.timeseries == "none":
        ts = None
    elif out.timeseries == "all":
        ts = list(known_ts)
    else:
        bad = [c for c in out.timeseries if c not in known_ts]
        if bad:
            raise UserError(
                f"{src}: outputs.timeseries: unknown column(s) {', '.join(bad)}; "
                f"known: {', '.join(known_ts)}"
            )
        ts = list(dict.fromkeys(["step", *out.timeseries]))
    if out.summary == "all":
        sm = [k for k in known_sum if k not in SUMMARY_ID_COLUMNS]
    else:
        bad = [c for c in out.summary if c not in known_sum]
        if bad:
            raise UserError(
                f"{src}: outputs.summary: unknown key(s) {', '.join(bad)}; "
                f"known: {', '.join(known_sum)}"
            )
        sm = list(out.summary)
    return ts, sm


def plan(res: ResolvedExperiment) -> tuple[Design, pd.DataFrame, int]:
    """The design, the runs table and the chunk size of an experiment."""
    design = build_design(res)
    runs = runs_table(res, design)
    return design, runs, chunk_size_of(res, len(runs))


def _tasks(
    res: ResolvedExperiment,
    runs: pd.DataFrame,
    chunks: list[int],
    ts_cols: list[str] | None,
    sum_keys: list[str],
) -> Iterator[ChunkTask]:
    by_chunk = runs.groupby("chunk", sort=True).indices
    cols = [runs[c].to_numpy() for c in ("run_id", "point", "replicate", "seed", "overrides")]
    for c in chunks:
        idx = by_chunk[c]
        yield ChunkTask(
            chunk=int(c),
            adapter=res.adapter,
            base=res.base_dict,
            source=str(res.scenario_path),
            source_dir=str(res.scenario_path.parent),
            steps=res.steps,
            ts_columns=ts_cols,
            every=res.spec.outputs.every,
            summary_keys=sum_keys,
            runs=[
                (
                    int(cols[0][i]),
                    int(cols[1][i]),
                    int(cols[2][i]),
                    int(cols[3][i]),
                    str(cols[4][i]),
                )
                for i in idx
            ],
        )


def _split_runs(
    task: ChunkTask, backend: LocalBackend | DaskBackend, summary_keys: list[str]
) -> ChunkResult:
    """Run a worker-killing chunk run by run; runs that kill their worker are failures."""
    singles = [
        ChunkTask(**{**task.__dict__, "runs": [r], "encode": False, "chunk": task.chunk})
        for r in task.runs
    ]
    by_run: dict[int, Any] = {}
    for t, r in backend.run(singles):
        by_run[t.runs[0][0]] = (t, r)
    summaries, frames, elapsed, errors = [], [], [], []
    ok = 0
    for run in task.runs:
        t, r = by_run[run[0]]
        if isinstance(r, WorkerDied):
            row: dict[str, Any] = dict(
                zip(("run_id", "point", "replicate", "seed"), run[:4], strict=True)
            )
            row |= {
                "status": "failed",
                "error": "WorkerDied: the worker process died during this run",
            }
            summaries.append(summary_table([row], summary_keys))
            errors.append({"run_id": run[0], "seed": run[3], "error": row["error"]})
            elapsed.append(0.0)
        else:
            summaries.append(r.summary)
            if r.timeseries is not None:
                frames.append(r.timeseries)
            ok += r.ok
            elapsed += r.run_elapsed_s
            errors += r.errors
    import pyarrow as pa

    summ = pa.concat_tables(summaries).combine_chunks()
    ts = pa.concat_tables(frames, promote_options="permissive") if frames else None
    if ts is not None:  # same types as a chunk that ran in one piece
        ts = timeseries_table([ts.to_pandas()])
    return ChunkResult(
        chunk=task.chunk,
        run_ids=[r[0] for r in task.runs],
        ok=ok,
        failed=len(task.runs) - ok,
        summary=summ,
        timeseries=ts,
        ts_rows=0 if ts is None else ts.num_rows,
        run_elapsed_s=elapsed,
        errors=errors,
    )


def run_sweep(
    res: ResolvedExperiment,
    out: str | Path | None = None,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    progress: bool = True,
    command: list[str] | None = None,
    fsync: bool = True,
) -> SweepReport:
    """Run (or finish) the sweep of an experiment into ``out``; see the module docstring."""
    t_start = time.perf_counter()
    adapter = get_adapter(res.adapter)
    ts_cols, sum_keys = _columns(res, adapter)
    out = Path(out) if out is not None else default_out(res)
    check_sweep_out(out)  # before the design is built or any worker started
    design, runs, cs = plan(res)
    n_runs = len(runs)
    n_chunks = math.ceil(n_runs / cs)
    preload = [res.adapter.partition(":")[0]]
    if res.adapter == DEFAULT_ADAPTER:
        preload.append("eipsim.domain.simulation")
    be = make_backend(backend, workers, scheduler, preload)
    env = environment()
    cmd = command if command is not None else sys.argv
    manifest = {
        "format": FORMAT,
        "name": res.name,
        "description": res.spec.description,
        "experiment_hash": res.hash,
        "experiment_file": str(res.path) if res.path else None,
        "scenario_file": str(res.scenario_path),
        "root_seed": res.spec.seed,
        "design_kind": design.kind,
        "levers": design.levers,
        "n_points": design.n_points,
        "replicates": res.spec.replicates,
        "n_runs": n_runs,
        "steps": res.steps,
        "chunk_size": cs,
        "n_chunks": n_chunks,
        "timeseries_columns": ts_cols,
        "summary_keys": sum_keys,
        "experiment": res.resolved_dict(),
        "created": _now(),
        "status": "running",
        **env,
        "sessions": [],
    }
    exp_yaml = res.spec.model_dump(mode="json") | {"steps": res.steps, "hash": res.hash}
    store, resumed = SweepStore.open(
        out,
        experiment_hash=res.hash,
        manifest=manifest,
        design=runs,
        experiment_yaml=exp_yaml,
        scenario_yaml=res.base_dict,
        resume=resume,
    )
    try:
        store.fsync = fsync
        done = store.done_chunks()
        todo = [c for c in range(n_chunks) if c not in done]
        warns: list[str] = []
        first_commit = store.manifest.get("git_commit")
        if resumed and todo and first_commit != env["git_commit"]:
            warns.append(
                f"the code changed since this sweep started (git {first_commit} -> "
                f"{env['git_commit']}); if the model changed, finished and new chunks may differ"
            )
        session = {
            "started": _now(),
            "command_line": shlex.join(cmd),
            **be.describe(),
            "chunks_before": len(done),
            **({"git_commit": env["git_commit"]} if resumed else {}),
        }
        sessions = [*store.manifest.get("sessions", []), session]
        store.update_manifest(status="running", sessions=sessions)
        todo_runs = int(runs["chunk"].isin(todo).sum())
        bar = None
        if progress and todo:
            from tqdm.auto import tqdm

            bar = tqdm(
                total=todo_runs, unit="run", desc=res.name, dynamic_ncols=True, smoothing=0.1
            )
        ok = failed = 0
        errors: list[dict[str, Any]] = []  # the first few, for the summary; all are on disk
        try:
            if isinstance(be, DaskBackend) and todo:
                be.start()
                session.update(be.describe())
            tasks = _tasks(res, runs, todo, ts_cols, sum_keys)
            for task, r in be.run(tasks) if todo else ():
                extra = None
                if isinstance(r, WorkerDied):
                    r = _split_runs(task, be, sum_keys)
                    extra = {"isolated": True}
                try:
                    store.write_chunk(r, extra)
                except OSError as err:  # e.g. a full disk: what is committed stays valid
                    raise UserError(
                        f"{out}: cannot write chunk {r.chunk} ({err.strerror or err}); the "
                        f"{len(store.done_chunks())} chunks already committed are kept. Free "
                        "space (or fix the folder) and run the same command to resume"
                    ) from None
                ok += r.ok
                failed += r.failed
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.extend(
                        {k: e[k] for k in ("run_id", "seed", "error") if k in e} for e in r.errors
                    )
                if bar is not None:
                    bar.update(len(r.run_ids))
                    if failed:
                        bar.set_postfix(failed=failed, refresh=False)
        finally:
            if bar is not None:
                bar.close()
            be.close()
            all_done = store.done_chunks()
            complete = len(all_done) == n_chunks
            status = "complete" if complete else "interrupted"
            session.update(finished=_now(), chunks_run=len(all_done) - len(done), runs_ok=ok)
            session.update(runs_failed=failed, wall_s=round(time.perf_counter() - t_start, 3))
            session.update(parent_peak_rss_mb=_peak_rss_mb())
            with contextlib.suppress(OSError):  # the status files are the record that counts
                store.update_manifest(status=status, sessions=sessions, chunks_done=len(all_done))
        return SweepReport(
            out=out,
            n_runs=n_runs,
            n_chunks=n_chunks,
            chunks_run=len(todo),
            chunks_skipped=len(done),
            runs_ok=ok,
            runs_failed=failed,
            wall_s=time.perf_counter() - t_start,
            resumed=resumed,
            complete=complete,
            errors=errors,
            warnings=warns,
            failed_total=failed_runs(out),
        )
    finally:
        store.close()  # the lock; a killed process loses it to the kernel
