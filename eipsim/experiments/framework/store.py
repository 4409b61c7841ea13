"""The sweep folder: Parquet part files per chunk, a manifest, and per-chunk status.

Layout of a sweep folder::

    manifest.json          resolved experiment, hash, seeds, versions, sessions, status
    experiment.yaml        the resolved experiment (human-readable)
    scenario.yaml          the resolved base scenario
    design.parquet         one row per run: run_id, point, replicate, seed, chunk, levers
    summary/part-NNNNN.parquet      one row per run of chunk NNNNN (status, error, KPIs)
    timeseries/part-NNNNN.parquet   one row per kept step of each successful run
    status/chunk-NNNNN.json         written last: the chunk's commit marker

    .lock                           held (fcntl.flock) by the one process writing the sweep

Every file is written to a temporary name and renamed into place, and a chunk counts as
done only once its status file exists, so a sweep killed at any instant leaves no
half-written file that a reader or a resume would take for a result. One writer at a
time: a second ``eipsim sweep`` into the same folder is refused, naming the holder of the
lock; readers (``load``) need no lock.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from eipsim.errors import UserError
from eipsim.experiments.framework.parquet import PARQUET_OPTIONS, encode
from eipsim.experiments.framework.spec import FORMAT
from eipsim.runs.files import (
    FolderLock,
    atomic_write_bytes,
    atomic_write_json,
    make_temp_dir,
    publish_dir,
)
from eipsim.runs.provenance import git_commit, now_utc, provenance, versions

if TYPE_CHECKING:
    from eipsim.experiments.framework.worker import ChunkResult

MANIFEST = "manifest.json"
_PART = re.compile(r"^part-(\d{5})\.parquet$")
_STATUS = re.compile(r"^chunk-(\d{5})\.json$")

# re-exported: these lived here before they had a home of their own
__all__ = [
    "MANIFEST",
    "PARQUET_OPTIONS",
    "Sweep",
    "SweepStore",
    "atomic_write_bytes",
    "atomic_write_json",
    "environment",
    "git_commit",
    "load",
    "package_versions",
    "read_manifest",
]


def _now() -> str:
    return now_utc()


def _part(kind: str, chunk: int) -> str:
    return f"{kind}/part-{chunk:05d}.parquet"


def _status_name(chunk: int) -> str:
    return f"status/chunk-{chunk:05d}.json"


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that decide the results (not Python itself)."""
    return {k: v for k, v in versions().items() if k != "python" and v != "not installed"}


def environment() -> dict[str, Any]:
    """Provenance of a sweep session (eipsim.runs.provenance, shared with single runs)."""
    p = provenance()
    return {
        "python": p["python"],
        "platform": p["platform"],
        "machine": p["machine"],
        "versions": package_versions(),
        "git_commit": p["git_commit"],
        "git_dirty": p["git_dirty"],
    }


@dataclass
class SweepStore:
    """A sweep folder opened for writing results of one experiment (under its lock)."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    fsync: bool = True
    lock: FolderLock | None = None

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

        Returns the store (holding the folder's lock until ``close``) and whether it was
        resumed. A folder holding a different experiment, anything that is not a sweep,
        and a folder another process is writing are refused rather than mixed.
        """
        root = Path(root)
        for _ in range(2):  # a second pass when another writer created the folder first
            if (root / MANIFEST).is_file():
                return cls._reopen(root, experiment_hash, manifest), True
            if resume:
                raise UserError(f"{root}: nothing to resume (no {MANIFEST} there)")
            store = cls._create(root, manifest, design, experiment_yaml, scenario_yaml)
            if store is not None:
                return store, False
        raise UserError(f"{root}: another process is creating this sweep folder")

    @classmethod
    def _reopen(cls, root: Path, experiment_hash: str, manifest: dict[str, Any]) -> SweepStore:
        lock = FolderLock(root)
        try:
            lock.acquire(f"sweep {manifest.get('name')}")
        except PermissionError:
            raise UserError(f"{root}: not writable (permission denied)") from None
        try:
            old = read_manifest(root)
            if old.get("experiment_hash") != experiment_hash:
                raise UserError(
                    f"{root} holds results of a different experiment "
                    f"({old.get('name')!r}, hash {old.get('experiment_hash')}; this one is "
                    f"{manifest.get('name')!r}, hash {experiment_hash}); "
                    "choose another --out folder or delete that one"
                )
            store = cls(root, old, lock=lock)
            store.cleanup()
        except BaseException:
            lock.release()
            raise
        return store

    @classmethod
    def _create(
        cls,
        root: Path,
        manifest: dict[str, Any],
        design: pd.DataFrame,
        experiment_yaml: dict[str, Any],
        scenario_yaml: dict[str, Any],
    ) -> SweepStore | None:
        """Build the folder under a temporary name, locked, and rename it into place.

        None when another writer renamed its own folder into place first."""
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise UserError(
                f"{root} exists and is not a sweep folder (no {MANIFEST}); "
                "choose another --out folder"
            )
        try:
            root.parent.mkdir(parents=True, exist_ok=True)
            tmp = make_temp_dir(root.parent, root.name)
        except OSError as err:
            raise UserError(f"{root}: cannot create the sweep folder ({err.strerror})") from None
        lock = FolderLock(tmp)  # the lock file travels with the folder when renamed
        lock.try_acquire(f"sweep {manifest.get('name')}")
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
            if not publish_dir(tmp, root):
                if not (root / MANIFEST).is_file():
                    raise UserError(f"{root}: another process filled this folder meanwhile")
                shutil.rmtree(tmp, ignore_errors=True)  # lost the race to another writer
                lock.release()
                return None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            lock.release()
            raise
        lock.path = root / lock.path.name
        return cls(root, manifest, lock=lock)

    def close(self) -> None:
        """Release the folder's lock (the kernel also drops it if the process dies)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- state ----------------------------------------------------------------------------
    def done_chunks(self) -> set[int]:
        return done_chunks(self.root)

    def cleanup(self) -> None:
        """Remove temporaries and part files of chunks that never committed.

        Only files this store writes are touched; anything else a user put in the folder
        (``summary/part-old.parquet``, notes) is left alone and never read as a result.
        """
        done = self.done_chunks()
        for sub in ("summary", "timeseries", "status"):
            d = self.root / sub
            if not d.is_dir():
                if d.exists() or d.is_symlink():
                    raise UserError(f"{d}: expected a folder of the sweep, found a file")
                d.mkdir(parents=True, exist_ok=True)
                continue
            for f in d.iterdir():
                if f.is_file() and _is_leftover(f, sub, done):
                    f.unlink(missing_ok=True)
        for f in self.root.glob(".*.tmp"):
            if f.is_file():
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
        atomic_write_json(self.root / _status_name(res.chunk), status, self.fsync)

    def update_manifest(self, **changes: Any) -> None:
        self.manifest.update(changes)
        self.manifest["updated"] = _now()
        atomic_write_json(self.root / MANIFEST, self.manifest, self.fsync)


def _is_leftover(f: Path, sub: str, done: set[int]) -> bool:
    """A temporary file, or a part file of a chunk that never committed."""
    if f.name.startswith(".") and f.name.endswith(".tmp"):
        return True
    m = _PART.match(f.name)
    return sub != "status" and m is not None and int(m.group(1)) not in done


# -- reading ------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: unreadable {what} ({err})") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read the {what} ({err.strerror})") from None


def read_manifest(root: str | Path) -> dict[str, Any]:
    p = Path(root) / MANIFEST
    if not p.is_file():
        raise UserError(f"{root}: not a sweep folder (no {MANIFEST})")
    m = _read_json(p, "manifest")
    if not isinstance(m, dict):
        raise UserError(f"{p}: not a sweep manifest (expected a JSON object)")
    return m


def done_chunks(root: str | Path) -> set[int]:
    """Chunks whose status file (the commit marker) exists."""
    d = Path(root) / "status"
    if not d.is_dir():
        return set()
    return {int(m.group(1)) for f in d.iterdir() if (m := _STATUS.match(f.name))}


def failed_runs(root: str | Path) -> int:
    """Failed runs recorded by the committed chunks of a sweep folder."""
    total = 0
    for c in done_chunks(root):
        try:
            st = json.loads((Path(root) / _status_name(c)).read_text(encoding="utf-8"))
            total += int(st.get("failed", 0))
        except (OSError, ValueError, AttributeError, TypeError):
            continue
    return total


def _read_parts(
    root: Path, kind: str, chunks: list[int], columns: list[str] | None
) -> pd.DataFrame:
    tables = []
    for c in chunks:
        f = root / _part(kind, c)
        if f.is_file():
            cols = columns
            try:
                if cols is not None:
                    names = pq.read_schema(f).names
                    cols = [c for c in cols if c in names]
                tables.append(pq.read_table(f, columns=cols))
            except (OSError, pa.ArrowException) as err:
                raise UserError(f"{f}: unreadable part file ({err})") from None
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
    fmt = manifest.get("format", 0)
    if not isinstance(fmt, int) or isinstance(fmt, bool):
        raise UserError(f"{root / MANIFEST}: format must be a whole number (got {fmt!r})")
    if fmt > FORMAT:
        raise UserError(
            f"{root}: written by a newer eipsim (sweep format {manifest.get('format')}); "
            "upgrade eipsim to read it"
        )
    design_path = root / "design.parquet"
    try:
        design = pq.read_table(design_path).to_pandas() if design_path.is_file() else pd.DataFrame()
    except (OSError, pa.ArrowException) as err:
        raise UserError(f"{design_path}: unreadable design table ({err})") from None
    chunks = sorted(done_chunks(root))
    rows = []
    for c in chunks:
        st = _read_json(root / _status_name(c), "chunk status")
        if not isinstance(st, dict):
            raise UserError(f"{root / _status_name(c)}: not a chunk status (a JSON object)")
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
