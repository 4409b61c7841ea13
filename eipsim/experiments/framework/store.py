"""The sweep folder: Parquet part files per chunk, a manifest, and per-chunk status.

Layout of a sweep folder::

    manifest.json          resolved experiment, hash, seeds, versions, sessions, status
    experiment.yaml        the resolved experiment (human-readable)
    scenario.yaml          the resolved base scenario
    design.parquet         one row per run: run_id, point, replicate, seed, chunk, levers
    summary/part-NNNNN.parquet      one row per run of chunk NNNNN (status, error, KPIs)
    timeseries/part-NNNNN.parquet   one row per kept step of each successful run
    status/chunk-NNNNN.json         written last: the chunk's commit marker

Every file is written to a temporary name and renamed into place, and a chunk counts as
done only once its status file exists, so a sweep killed at any instant leaves no
half-written file that a reader or a resume would take for a result.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from eipsim.errors import UserError
from eipsim.experiments.framework.spec import FORMAT
from eipsim.experiments.framework.worker import PARQUET_OPTIONS, ChunkResult, encode

MANIFEST = "manifest.json"


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = True) -> None:
    """Write to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def _part(kind: str, chunk: int) -> str:
    return f"{kind}/part-{chunk:05d}.parquet"


def _status_name(chunk: int) -> str:
    return f"status/chunk-{chunk:05d}.json"


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "eipsim",
        "mesa",
        "numpy",
        "pandas",
        "pyarrow",
        "scipy",
        "SALib",
        "pydantic",
        "dask",
        "distributed",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def git_commit(cwd: Path | None = None) -> str | None:
    here = cwd or Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=here,
        capture_output=True,
        text=True,
        timeout=5,
    )
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "versions": package_versions(),
        "git_commit": git_commit(),
    }


@dataclass
class SweepStore:
    """A sweep folder opened for writing results of one experiment."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    fsync: bool = True

    # -- opening ------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        root: str | Path,
        *,
        experiment_hash: str,
        manifest: dict[str, Any],
        design: pd.DataFrame,
        experiment_yaml: dict[str, Any],
        scenario_yaml: dict[str, Any],
        resume: bool = False,
    ) -> tuple[SweepStore, bool]:
        """Create the folder, or reopen it when it holds this same experiment.

        Returns the store and whether it was resumed. A folder holding a different
        experiment, or anything that is not a sweep, is refused rather than mixed.
        """
        root = Path(root)
        mpath = root / MANIFEST
        if mpath.is_file():
            old = read_manifest(root)
            if old.get("experiment_hash") != experiment_hash:
                raise UserError(
                    f"{root} holds results of a different experiment "
                    f"({old.get('name')!r}, hash {old.get('experiment_hash')}; this one is "
                    f"{manifest.get('name')!r}, hash {experiment_hash}); "
                    "choose another --out folder or delete that one"
                )
            store = cls(root, old)
            store.cleanup()
            return store, True
        if resume:
            raise UserError(f"{root}: nothing to resume (no {MANIFEST} there)")
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UserError(
                f"{root} exists and is not a sweep folder (no {MANIFEST}); "
                "choose another --out folder"
            )
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=root.parent))
        try:
            for sub in ("summary", "timeseries", "status"):
                (tmp / sub).mkdir()
            table = pa.Table.from_pandas(design, preserve_index=False)
            atomic_write_bytes(tmp / "design.parquet", encode(table))
            (tmp / "experiment.yaml").write_text(
                yaml.safe_dump(experiment_yaml, sort_keys=False, allow_unicode=True)
            )
            (tmp / "scenario.yaml").write_text(
                yaml.safe_dump(scenario_yaml, sort_keys=False, allow_unicode=True)
            )
            atomic_write_json(tmp / MANIFEST, manifest)
            if root.exists():
                root.rmdir()  # empty, checked above
            os.replace(tmp, root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls(root, manifest), False

    # -- state ----------------------------------------------------------------------------
    def done_chunks(self) -> set[int]:
        return done_chunks(self.root)

    def cleanup(self) -> None:
        """Remove temporaries and part files of chunks that never committed."""
        done = self.done_chunks()
        for sub in ("summary", "timeseries", "status"):
            d = self.root / sub
            if not d.is_dir():
                d.mkdir(parents=True, exist_ok=True)
                continue
            for f in d.iterdir():
                if f.name.endswith(".tmp"):
                    f.unlink(missing_ok=True)
                elif sub != "status" and f.name.startswith("part-"):
                    chunk = int(f.name[5:10])
                    if chunk not in done:
                        f.unlink(missing_ok=True)
        for f in self.root.glob(".*.tmp"):
            f.unlink(missing_ok=True)

    # -- writing --------------------------------------------------------------------------
    def write_chunk(self, res: ChunkResult, extra: dict[str, Any] | None = None) -> None:
        """Write a chunk's part files, then its status file (the commit marker)."""
        summ = res.summary if isinstance(res.summary, bytes) else encode(res.summary)
        atomic_write_bytes(self.root / _part("summary", res.chunk), summ, self.fsync)
        if res.timeseries is not None:
            ts = res.timeseries if isinstance(res.timeseries, bytes) else encode(res.timeseries)
            atomic_write_bytes(self.root / _part("timeseries", res.chunk), ts, self.fsync)
        status = {
            "chunk": res.chunk,
            "first_run": min(res.run_ids),
            "last_run": max(res.run_ids),
            "runs": len(res.run_ids),
            "ok": res.ok,
            "failed": res.failed,
            "timeseries_rows": res.ts_rows,
            "elapsed_s": round(sum(res.run_elapsed_s), 6),
            "run_elapsed_s": [round(x, 6) for x in res.run_elapsed_s],
            "host": res.host,
            "pid": res.pid,
            "finished": _now(),
            "errors": res.errors,
            **(extra or {}),
        }
        atomic_write_json(self.root / _status_name(res.chunk), status)

    def update_manifest(self, **changes: Any) -> None:
        self.manifest.update(changes)
        self.manifest["updated"] = _now()
        atomic_write_json(self.root / MANIFEST, self.manifest)


# -- reading ------------------------------------------------------------------------------


def read_manifest(root: str | Path) -> dict[str, Any]:
    p = Path(root) / MANIFEST
    if not p.is_file():
        raise UserError(f"{root}: not a sweep folder (no {MANIFEST})")
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"{p}: unreadable manifest ({err})") from None


def done_chunks(root: str | Path) -> set[int]:
    d = Path(root) / "status"
    if not d.is_dir():
        return set()
    return {int(f.name[6:11]) for f in d.glob("chunk-*.json")}


def _read_parts(
    root: Path, kind: str, chunks: list[int], columns: list[str] | None
) -> pd.DataFrame:
    tables = []
    for c in chunks:
        f = root / _part(kind, c)
        if f.is_file():
            cols = columns
            if cols is not None:
                names = pq.read_schema(f).names
                cols = [c for c in cols if c in names]
            tables.append(pq.read_table(f, columns=cols))
    if not tables:
        return pd.DataFrame()
    return pa.concat_tables(tables, promote_options="permissive").to_pandas()


@dataclass
class Sweep:
    """A sweep read back into pandas (only chunks that committed)."""

    root: Path
    manifest: dict[str, Any]
    design: pd.DataFrame
    summary: pd.DataFrame
    timeseries: pd.DataFrame
    status: pd.DataFrame

    @property
    def levers(self) -> list[str]:
        """The design's varied columns (package first, when there are packages)."""
        return list(self.manifest.get("levers", []))

    @property
    def runs(self) -> pd.DataFrame:
        """Design joined with summary: one row per finished run, levers and outcomes."""
        if self.summary.empty:
            return self.design.iloc[0:0]
        left = self.design.drop(columns=["chunk", "overrides"], errors="ignore")
        right = self.summary.drop(columns=["point", "replicate", "seed"], errors="ignore")
        return left.merge(right, on="run_id", how="inner")

    @property
    def complete(self) -> bool:
        return len(self.status) == int(self.manifest.get("n_chunks", -1))

    def run_inputs(self, run_id: int) -> tuple[Any, int, int]:
        """Scenario, seed and months of one run, to re-run it alone:
        ``eipsim.run(*sweep.run_inputs(17))`` gives that run's results again."""
        from eipsim.scenario.schema import scenario_from_dict

        m = self.manifest
        src = m.get("scenario_file") or "<scenario>"
        base = scenario_from_dict(
            m["experiment"]["base_scenario"], source=src, source_dir=Path(src).parent
        )
        rows = self.design[self.design["run_id"] == run_id]
        if rows.empty:
            raise UserError(f"{self.root}: no run {run_id} (runs 0..{len(self.design) - 1})")
        row = rows.iloc[0]
        sc = base.with_overrides(json.loads(row["overrides"]))
        return sc, int(row["seed"]), int(m["steps"])

    def timeseries_with_levers(self) -> pd.DataFrame:
        cols = ["run_id", "point", "replicate", *self.levers]
        return self.timeseries.merge(self.design[cols], on="run_id", how="left")


def load(root: str | Path, *, timeseries: bool | list[str] = True, summary: bool = True) -> Sweep:
    """Read a sweep folder into pandas DataFrames with one call.

    ``timeseries`` may be False (skip it) or a list of columns to read; big sweeps can also
    be queried without loading, e.g. with DuckDB over ``DIR/timeseries/*.parquet``.
    """
    root = Path(root)
    manifest = read_manifest(root)
    if int(manifest.get("format", 0)) > FORMAT:
        raise UserError(
            f"{root}: written by a newer eipsim (sweep format {manifest.get('format')}); "
            "upgrade eipsim to read it"
        )
    design_path = root / "design.parquet"
    design = pq.read_table(design_path).to_pandas() if design_path.is_file() else pd.DataFrame()
    chunks = sorted(done_chunks(root))
    rows = []
    for c in chunks:
        st = json.loads((root / _status_name(c)).read_text())
        st.pop("run_elapsed_s", None)
        st["n_errors"] = len(st.pop("errors", []))
        rows.append(st)
    status = pd.DataFrame(rows)
    summ = _read_parts(root, "summary", chunks, None) if summary else pd.DataFrame()
    if timeseries is False:
        ts = pd.DataFrame()
    else:
        cols = None
        if isinstance(timeseries, list):
            cols = list(dict.fromkeys(["run_id", "step", *timeseries]))
        ts = _read_parts(root, "timeseries", chunks, cols)
    return Sweep(root, manifest, design, summ, ts, status)


__all__ = ["PARQUET_OPTIONS", "Sweep", "SweepStore", "load", "read_manifest"]
