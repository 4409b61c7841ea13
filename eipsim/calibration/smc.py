"""ABC-SMC with pyabc over a calibration file's parameters, against its patterns.

pyabc does the inference (ABCSMC, its transitions, median epsilon schedule, History
database); eipsim supplies the model (a particle's parameters -> the fitted patterns' values,
each the mean over ``seeds_per_particle`` runs per arm), the prior and the distance (the
weighted sum of normalised gaps to the pattern targets; 0 when every pattern is met).

Seeds and reproducibility
-------------------------
* Model seeds: the runs of a particle use seeds spawned from the calibration's root seed and
  a hash of the particle's parameter values, so any particle can be re-run exactly, whoever
  evaluated it, wherever.
* pyabc draws proposals from numpy's *global* random state. With ``--workers 1`` eipsim uses
  pyabc's ``SingleCoreSampler`` and seeds numpy's global state at the start of every
  generation from ``SeedSequence(root, generation)``: the calibration is then bit-for-bit
  reproducible from its root seed, and a calibration killed and resumed (``--resume``)
  gives exactly the uninterrupted result (tested).
* With more workers (pyabc's ``MulticoreEvalParallelSampler``) or ``--backend dask``
  (``DaskDistributedSampler``), pyabc reseeds every worker process from the operating
  system's entropy (``np.random.seed()`` in its worker loop, by design), so the proposals
  differ between runs: the posterior is then reproducible in distribution only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from eipsim.calibration.patterns import Evaluator, Pattern, distance, replicate_seeds
from eipsim.calibration.spec import ResolvedCalibration, load_calibration
from eipsim.errors import UserError

DB_NAME = "abc.db"
MANIFEST = "calibration.json"
_GEN_TAG = 0xABC5_5EED


def safe_name(key: str) -> str:
    """pyabc parameter name of a dotted key (pyabc's tables do not like dots)."""
    return key.replace(".", "__")


def dotted_name(name: str) -> str:
    return name.replace("__", ".")


def particle_seeds(root: int, params: dict[str, float], n: int) -> list[int]:
    """Seeds of a particle's runs: spawned from the root seed and its parameter values."""
    blob = b"".join(k.encode() + struct.pack("<d", float(params[k])) for k in sorted(params))
    words = np.frombuffer(hashlib.sha256(blob).digest()[:16], dtype="<u4")
    return replicate_seeds(root, n, salt=[int(w) for w in words])


_CACHE: dict[tuple[str, str], ResolvedCalibration] = {}


def _resolved(path: str, cli: dict[str, Any]) -> ResolvedCalibration:
    key = (path, json.dumps(cli, sort_keys=True))
    cal = _CACHE.get(key)
    if cal is None:
        cal = load_calibration(path, **cli)
        _CACHE.clear()
        _CACHE[key] = cal
    return cal


class ParticleModel:
    """pyabc model: a particle's parameters -> {pattern id: mean value over seeds}.

    It carries only the calibration file's path and the command-line settings, so it pickles
    small and each worker process (or Dask worker) reads the files once.
    """

    def __init__(self, path: str, cli: dict[str, Any]):
        self.path = path
        self.cli = cli

    def overrides(self, cal: ResolvedCalibration, par: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in cal.spec.parameters:
            v = float(par[safe_name(key)])
            out[key] = int(round(v)) if cal.integer.get(key) else v
        return out

    def __call__(self, par: Any) -> dict[str, float]:
        cal = _resolved(self.path, self.cli)
        ov = self.overrides(cal, par)
        seeds = particle_seeds(
            cal.spec.seed, {k: float(v) for k, v in ov.items()}, cal.spec.seeds_per_particle
        )
        ev = Evaluator({**cal.spec.overrides, **ov}, steps=cal.spec.steps)
        out: dict[str, float] = {}
        for p in cal.fit:
            try:
                vals = np.asarray(ev.values(p, seeds), dtype=float)
            except Exception as err:  # noqa: BLE001 - a failing particle is a rejected one
                print(f"warning: pattern {p.id} failed at {ov}: {err}", file=sys.stderr)
                vals = np.array([math.nan])
            fin = vals[np.isfinite(vals)]
            out[p.id] = float(fin.mean()) if len(fin) else math.nan
        return out


class PatternDistance:
    """Weighted sum of normalised gaps of the patterns' values to their targets."""

    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns

    def __call__(self, x: dict[str, float], x0: dict[str, float]) -> float:  # noqa: ARG002
        return distance(x, self.patterns)


def observed(patterns: list[Pattern]) -> dict[str, float]:
    """A stand-in observation for pyabc's database: each target's middle (or finite end)."""
    out = {}
    for p in patterns:
        lo, hi = p.spec.target.low, p.spec.target.high
        if lo is not None and hi is not None:
            out[p.id] = (lo + hi) / 2
        else:
            out[p.id] = float(lo if lo is not None else hi)  # type: ignore[arg-type]
    return out


def prior(cal: ResolvedCalibration) -> Any:
    """pyabc Distribution of the parameters' priors (the experiment files' distributions)."""
    import pyabc

    rvs = {}
    for key, par in cal.spec.parameters.items():
        lo, hi = par.low, par.high
        if par.dist == "unif":
            assert lo is not None and hi is not None
            rv = pyabc.RV("uniform", lo, hi - lo)
        elif par.dist == "logunif":
            rv = pyabc.RV("loguniform", lo, hi)
        elif par.dist == "triang":
            assert lo is not None and hi is not None and par.peak is not None
            rv = pyabc.RV("triang", (par.peak - lo) / (hi - lo), lo, hi - lo)
        elif par.dist == "norm":
            rv = pyabc.RV("norm", par.mean, par.sd)
        elif par.dist == "truncnorm":
            assert lo is not None and hi is not None and par.mean is not None and par.sd
            rv = pyabc.RV(
                "truncnorm", (lo - par.mean) / par.sd, (hi - par.mean) / par.sd, par.mean, par.sd
            )
        else:  # lognorm
            assert par.mean is not None and par.sd is not None
            rv = pyabc.RV("lognorm", par.sd, 0, math.exp(par.mean))
        rvs[safe_name(key)] = rv
    return pyabc.Distribution(**rvs)


def generation_seed(root: int, t: int) -> int:
    ss = np.random.SeedSequence([int(root), _GEN_TAG, int(t) + 2])  # t >= -2
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def _single_core_sampler(root: int) -> Any:
    from pyabc.sampler import SingleCoreSampler

    class SeededSingleCoreSampler(SingleCoreSampler):
        """pyabc's single-core sampler, numpy's global state seeded per generation."""

        def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **kw: Any) -> Any:
            np.random.seed(generation_seed(root, t))  # noqa: NPY002 - pyabc draws from it
            return super().sample_until_n_accepted(n, simulate_one, t, **kw)

    s = SeededSingleCoreSampler()
    s.show_progress = False
    return s


@contextlib.contextmanager
def make_sampler(
    backend: str, workers: int, scheduler: str | None, root: int
) -> Iterator[tuple[Any, str]]:
    """pyabc sampler for the backend; a Dask LocalCluster on 127.0.0.1 is closed on exit."""
    if backend == "local":
        if scheduler:
            raise UserError("--scheduler needs --backend dask")
        if workers <= 1:
            yield _single_core_sampler(root), "pyabc SingleCoreSampler (seeded per generation)"
            return
        from pyabc.sampler import MulticoreEvalParallelSampler

        yield (
            MulticoreEvalParallelSampler(n_procs=workers),
            f"pyabc MulticoreEvalParallelSampler ({workers} processes)",
        )
        return
    try:
        from dask.distributed import Client, LocalCluster
        from pyabc.sampler import DaskDistributedSampler
    except ImportError as err:
        raise UserError(
            f"--backend dask needs dask.distributed: pip install 'eipsim[cluster]' ({err})"
        ) from None
    cluster = None
    try:
        if scheduler:
            try:
                client = Client(scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise UserError(f"--scheduler {scheduler}: cannot connect ({err})") from None
            what = f"pyabc DaskDistributedSampler on {scheduler}"
        else:
            cluster = LocalCluster(
                n_workers=max(1, workers),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            client = Client(cluster)
            what = f"pyabc DaskDistributedSampler on a LocalCluster ({max(1, workers)} workers)"
        try:
            yield DaskDistributedSampler(dask_client=client, batch_size=1), what
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


@dataclass
class CalibrationRun:
    out: Path
    generations_run: int
    generations_done: int
    resumed: bool
    wall_s: float
    sampler: str
    notes: list[str] = field(default_factory=list)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def calibrate(
    path: str | Path,
    out: str | Path | None = None,
    *,
    backend: str = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    population: int | None = None,
    generations: int | None = None,
    steps: int | None = None,
    seeds_per_particle: int | None = None,
    quiet: bool = False,
) -> CalibrationRun:
    """Run (or resume) a calibration into ``out``; returns what was done. Outputs are
    written by ``eipsim.calibration.report.write_outputs``."""
    cli = {
        k: v
        for k, v in {
            "population": population,
            "generations": generations,
            "steps": steps,
            "seeds_per_particle": seeds_per_particle,
        }.items()
        if v is not None
    }
    cal = load_calibration(path, **cli)  # bad files fail before pyabc is imported
    try:
        import pyabc
    except ImportError as err:
        raise UserError(f"eipsim calibrate needs pyabc: pip install pyabc ({err})") from None
    out_dir = Path(out) if out is not None else Path("results/calibration") / cal.name
    db = out_dir / DB_NAME
    manifest_path = out_dir / MANIFEST
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"{out_dir}: exists and is not a folder")
    if db.exists() and not resume:
        raise UserError(
            f"{out_dir}: already holds a calibration; add --resume to continue it, or give "
            "another --out"
        )
    if resume and manifest_path.is_file():
        try:
            old = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UserError(f"{manifest_path}: unreadable; cannot resume this folder") from None
        if old.get("hash") != cal.hash:
            raise UserError(
                f"{out_dir}: holds a different calibration (hash {old.get('hash')} vs "
                f"{cal.hash}); give another --out"
            )
    elif out_dir.is_dir() and any(out_dir.iterdir()) and not manifest_path.is_file():
        raise UserError(
            f"{out_dir}: exists and is not a calibration folder (no {MANIFEST}); choose "
            "another --out"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    n_workers = int(workers) if workers else _cores()
    manifest: dict[str, Any] = {
        "name": cal.name,
        "hash": cal.hash,
        "file": str(cal.path),
        "patterns_file": str(cal.pattern_set.path),
        "root_seed": cal.spec.seed,
        "resolved": cal.spec.model_dump(mode="json"),
        "fit": [p.id for p in cal.fit],
        "validate": [p.id for p in cal.validate],
        "notes": cal.notes,
        "pyabc": pyabc.__version__,
        "python": sys.version.split()[0],
        "sessions": [],
    }
    if manifest_path.is_file():
        with contextlib.suppress(OSError, ValueError):
            manifest["sessions"] = json.loads(manifest_path.read_text(encoding="utf-8")).get(
                "sessions", []
            )
    if not quiet:
        logging.getLogger("ABC").setLevel(logging.INFO)
    else:
        for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
            logging.getLogger(name).setLevel(logging.WARNING)

    model = ParticleModel(str(Path(path).resolve()), cli)
    dist = PatternDistance(cal.fit)
    t0 = time.perf_counter()
    np.random.seed(generation_seed(cal.spec.seed, -2))  # noqa: NPY002 - pyabc draws from it
    with make_sampler(backend, n_workers, scheduler, cal.spec.seed) as (sampler, what):
        abc = pyabc.ABCSMC(
            model,
            prior(cal),
            dist,
            population_size=cal.spec.abc.population_size,
            sampler=sampler,
        )
        url = f"sqlite:///{db.resolve()}"
        resumed = False
        done = 0
        if db.exists() and resume:
            try:
                h = abc.load(url, 1)
                done = max(0, int(h.max_t) + 1)
                resumed = True
            except Exception:  # noqa: BLE001 - a database killed before its first write
                db.unlink()
        if not resumed:
            abc.new(url, observed(cal.fit), meta_info={"eipsim_hash": cal.hash})
        manifest["sessions"].append(
            {
                "command": ["eipsim", *sys.argv[1:]],
                "backend": backend,
                "workers": n_workers,
                "sampler": what,
                "resumed_at_generation": done if resumed else None,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        _write_json(manifest_path, manifest)
        todo = cal.spec.abc.generations - done
        if todo > 0:
            kw: dict[str, Any] = {
                "max_nr_populations": todo,
                "minimum_epsilon": cal.spec.abc.minimum_epsilon,
            }
            if cal.spec.abc.max_walltime_s:
                kw["max_walltime"] = timedelta(seconds=cal.spec.abc.max_walltime_s)
            h = abc.run(**kw)
        else:
            h = abc.history
        n_done = int(h.max_t) + 1
    wall = time.perf_counter() - t0
    manifest["sessions"][-1]["wall_s"] = round(wall, 2)
    manifest["sessions"][-1]["generations_done"] = n_done
    _write_json(manifest_path, manifest)
    return CalibrationRun(
        out=out_dir,
        generations_run=max(0, n_done - done),
        generations_done=n_done,
        resumed=resumed,
        wall_s=wall,
        sampler=what,
        notes=cal.notes,
    )


def _cores() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
