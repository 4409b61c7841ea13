"""Where chunks run: a local process pool, or a dask.distributed cluster.

Both backends yield ``(task, result)`` pairs as chunks finish, keeping only a bounded number
of chunks in flight (so the parent's memory does not grow with the sweep). A chunk whose
worker process died is retried; if it kills its worker again when run alone, the backend
yields ``(task, WorkerDied(...))`` and the runner records its runs one by one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from eipsim.errors import UserError
from eipsim.experiments.framework.worker import ChunkResult, ChunkTask, init_worker, run_chunk


@dataclass
class WorkerDied:
    """A chunk's worker process died (segfault, out-of-memory kill, os._exit) twice."""

    message: str


Outcome = tuple[ChunkTask, ChunkResult | WorkerDied]


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def mp_context(preload: list[str] | None = None) -> mp.context.BaseContext:
    """forkserver where available: fork-safe with threads (tqdm, dask) and cheap per worker."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["eipsim.experiments.framework.worker", *(preload or [])])
        return ctx
    return mp.get_context("spawn")


class LocalBackend:
    """A ProcessPoolExecutor; runs are bundled into chunks so overhead per run stays small."""

    name = "local"

    def __init__(self, workers: int | None = None, preload: list[str] | None = None) -> None:
        self.workers = max(1, int(workers or default_workers()))
        self._ctx = mp_context(preload)
        self._pools: list[ProcessPoolExecutor] = []

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "workers": self.workers,
            "start_method": self._ctx.get_start_method(),
        }

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            workers, mp_context=self._ctx, initializer=init_worker, initargs=(os.getpid(),)
        )
        self._pools.append(pool)
        return pool

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[Outcome]:
        """Yield (task, result) as chunks finish; may be nested (isolated re-runs)."""
        queue = iter(tasks)  # pulled lazily: tasks are built as the window frees up
        pending: ChunkTask | None = next(queue, None)
        suspects: deque[ChunkTask] = deque()
        window = 2 * self.workers
        pool = self._new_pool(self.workers)
        inflight: dict[Future, ChunkTask] = {}
        try:
            while pending is not None or inflight or suspects:
                if suspects and not inflight:
                    yield from self._run_alone(suspects.popleft())
                    continue
                while pending is not None and len(inflight) < window and not suspects:
                    inflight[pool.submit(run_chunk, pending)] = pending
                    pending = next(queue, None)
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                broken = False
                for f in done:
                    t = inflight.pop(f)
                    try:
                        r = f.result()
                    except BrokenProcessPool:
                        suspects.append(t)
                        broken = True
                    else:
                        yield t, r
                if broken:
                    # every chunk in flight failed with the pool; retry each one alone
                    suspects.extend(inflight.values())
                    inflight.clear()
                    self._stop(pool)
                    pool = self._new_pool(self.workers)
        finally:
            self._stop(pool)

    def _run_alone(self, task: ChunkTask) -> Iterator[Outcome]:
        """A suspect chunk in a pool of its own: a second death is its own doing."""
        pool = self._new_pool(1)
        try:
            r: ChunkResult | WorkerDied = pool.submit(run_chunk, task).result()
        except BrokenProcessPool:
            r = WorkerDied("worker process died while running this chunk")
        finally:
            self._stop(pool)
        yield task, r

    def _stop(self, pool: ProcessPoolExecutor) -> None:
        """Stop a pool now; on Ctrl-C running chunks are abandoned (a resume re-runs them)."""
        if pool in self._pools:
            self._pools.remove(pool)
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def close(self) -> None:
        for pool in list(self._pools):
            self._stop(pool)


def _import_dask() -> Any:
    try:
        import dask.distributed as dd
    except ImportError:
        raise UserError(
            "the dask backend needs dask.distributed; install it with "
            "`pip install 'eipsim[cluster]'` (or `pip install 'dask[distributed]'`)"
        ) from None
    return dd


class DaskBackend:
    """dask.distributed: a scheduler address (e.g. from dask-jobqueue on SLURM) or a LocalCluster."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None) -> None:
        self.dd = _import_dask()
        self.scheduler = scheduler
        self.workers = workers
        self.cluster = None
        self.client = None

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.name, "scheduler": self.scheduler}
        if self.client is not None:
            info["workers"] = len(self.client.scheduler_info().get("workers", {}))
            info["dashboard"] = self.client.dashboard_link
        return info

    def start(self) -> None:
        dd = self.dd
        if self.scheduler:
            try:
                self.client = dd.Client(self.scheduler, timeout="20s")
            except (OSError, TimeoutError) as err:
                raise UserError(
                    f"cannot reach the dask scheduler at {self.scheduler}: {err}"
                ) from None
        else:
            import dask

            n = max(1, int(self.workers or default_workers()))
            # Dask's statistical profiler samples every 10 ms; on a pure-Python model it
            # costs a few per cent (more on a busy machine), so our workers run without it.
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self.cluster = dd.LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
            self.client = dd.Client(self.cluster)

    def run(self, tasks: Iterable[ChunkTask]) -> Iterator[Outcome]:
        if self.client is None:
            self.start()
        dd = self.dd
        client = self.client
        assert client is not None
        nworkers = max(1, len(client.scheduler_info().get("workers", {})) or (self.workers or 1))
        window = 2 * nworkers + 2
        queue = iter(tasks)
        ac = dd.as_completed()
        inflight: dict[Any, ChunkTask] = {}

        def submit(t: ChunkTask) -> None:
            f = client.submit(run_chunk, t, pure=False, key=f"eipsim-chunk-{t.chunk}-{id(t)}")
            inflight[f] = t
            ac.add(f)

        def refill() -> None:
            while len(inflight) < window:
                t = next(queue, None)
                if t is None:
                    return
                submit(t)

        try:
            refill()
            for f in ac:
                t = inflight.pop(f)
                try:
                    res = f.result()
                except dd.KilledWorker:
                    res = WorkerDied("dask worker died repeatedly while running this chunk")
                f.release()
                yield t, res
                refill()
        finally:
            for f in list(inflight):
                f.cancel()
            inflight.clear()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None


def make_backend(
    backend: str,
    workers: int | None = None,
    scheduler: str | None = None,
    preload: list[str] | None = None,
) -> LocalBackend | DaskBackend:
    """``preload``: modules the local workers' fork server imports once for all workers."""
    if backend == "local":
        if scheduler:
            raise UserError("--scheduler needs --backend dask")
        return LocalBackend(workers, preload)
    if backend == "dask":
        return DaskBackend(scheduler, workers)
    raise UserError(f"unknown backend {backend!r}; choose local or dask")
