"""Model benchmark: time and memory of single runs as the park grows (prints figures).

    python benchmarks/bench_model.py                  # baseline + 30 100 300 1000 3000 firms
    python benchmarks/bench_model.py --quick          # baseline + 300 1000 firms, fewer repeats
    python benchmarks/bench_model.py --profile        # top functions: baseline and 1000 firms
    python benchmarks/bench_model.py --trust reference  # the same with the old dense trust code
    python benchmarks/bench_model.py --sizes 30 100 3000 --steps 60 --repeats 1
    python benchmarks/bench_model.py --first-version  # under the first version's rules
    python benchmarks/bench_model.py --set costs.risk_model=per_event --set ...

Each size runs in a fresh interpreter, so its peak resident memory is its own. Measured per
size, on the baseline scenario with ``firms.count`` overridden:

  * wall time of ``eipsim.run`` (the model build is included; its tables are built when
    first read, and the time to read them is printed apart): for each of ``--seeds``
    seeds (from ``--seed`` on; one seed from 1000 firms up) the best of ``--repeats`` runs,
    then the mean over the seeds. The machine may be shared, so each seed's best-of-N
    counts, and the slowest seed's is printed too. A run's path and so its work depend on
    the seed (links formed, arrivals): one seed's time says little about a change that
    alters the random stream, a mean over seeds does. Also the process's CPU time the same
    way (all its threads, BLAS included), which other users of the machine disturb less;
  * time per firm-step (wall time / (firms x months));
  * peak memory: the process's maximum resident set (``resource.getrusage``, includes the
    interpreter and libraries); with ``--traced`` also the run's own peak allocation
    (``tracemalloc``, numpy arrays included, in a separate untimed run);
  * the growth exponent k in time ~ N^k between consecutive sizes, and the two the issue
    sets targets for: 300 -> 1000 and 1000 -> 3000 firms.

Targets (issue 7, "A faster month"): baseline (100 firms, 120 months) <= 80 ms; growth
exponent <= 1.5 from 300 to 1000 firms and from 1000 to 3000; memory at 3000 firms < 1 GB.
This is a benchmark, not a test.

``--trust reference`` swaps in the trust code as it was before the rewrite
(``benchmarks/trust_reference.py``), for before/after figures on the same tree;
``--trust dense`` / ``--trust incremental`` the current code with the bit-identical dense
group means or the kept per-row group sums (``TrustMatrix(n, incremental_means=...)``);
``current`` is whatever the model builds.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BASELINE = REPO / "scenarios" / "baseline.yaml"
TARGETS = {"baseline_s": 0.080, "memory_mb": 1024.0, "exponent": 1.5}
SIZES = [30, 100, 300, 1000, 3000]
QUICK_SIZES = [300, 1000]
EXPONENT_PAIRS = [(300, 1000), (1000, 3000)]
TRUST_IMPLS = ("current", "incremental", "dense", "reference")
# the variables that set how many threads the BLAS libraries numpy may use start
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def use_trust(impl: str) -> None:
    """Make the model build its trust matrix with ``impl`` (in this process)."""
    if impl == "current":
        return
    import functools

    import eipsim.domain.trust as trust_mod

    if impl == "reference":
        sys.path.insert(0, str(REPO / "benchmarks"))
        from trust_reference import ReferenceTrustMatrix

        cls = ReferenceTrustMatrix
    else:
        incremental = impl == "incremental"
        cls = functools.partial(trust_mod.TrustMatrix, incremental_means=incremental)
    for name, mod in list(sys.modules.items()):
        if name.startswith("eipsim") and getattr(mod, "TrustMatrix", None) is not None:
            mod.TrustMatrix = cls


def scenario(count: int | None, sets: list[str] | None = None):
    """The baseline scenario with ``--set KEY=VALUE`` overrides and, given, ``firms.count``."""
    import eipsim
    from eipsim.scenario.overrides import parse_overrides

    sc = eipsim.load_scenario(BASELINE)
    overrides = parse_overrides(sets)
    if count is not None:
        overrides["firms.count"] = count
    return sc.with_overrides(overrides) if overrides else sc


def first_version_sets() -> list[str]:
    """``--set`` pairs of the first version's rules (``eipsim.scenario.presets``)."""
    from eipsim.scenario.presets import FIRST_VERSION

    return [f"{k}={json.dumps(v)}" for k, v in FIRST_VERSION.items()]


def measure(
    count: int | None,
    steps: int,
    repeats: int,
    seeds: list[int],
    traced: bool,
    sets: list[str],
) -> dict:
    """Time one park size in this process (called in a child interpreter): per seed the
    best of ``repeats`` runs, wall and CPU; ``seconds`` is the mean of the seeds' bests."""
    import eipsim

    t0 = time.perf_counter()
    sc = scenario(count, sets)
    load_s = time.perf_counter() - t0
    # The tables' cost is measured on the baseline alone (count None), after a first read
    # of a month's tables (pandas' first frame of a process costs more than the next): a
    # second park in the process would raise its peak memory, which the larger sizes report.
    tables = count is None
    if tables:
        first = eipsim.run(sc, seed=seeds[0], steps=1)
        first.timeseries, first.links  # noqa: B018 - built on first read
    times, cpu, res = [], [], None
    for seed in seeds:
        wall_s, cpu_s = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            res = eipsim.run(sc, seed=seed, steps=steps)
            wall_s.append(time.perf_counter() - t0)
            cpu_s.append(time.process_time() - c0)
        times.append(min(wall_s))
        cpu.append(min(cpu_s))
    assert res is not None
    # the run's tables are built when first read (a Sobol sweep reads neither): their cost
    timeseries_s = links_s = float("nan")
    if tables:
        t0 = time.perf_counter()
        res.timeseries  # noqa: B018 - built on first read
        timeseries_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res.links  # noqa: B018
        links_s = time.perf_counter() - t0
    seed = seeds[-1]
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    traced_peak = float("nan")
    if traced:
        tracemalloc.start()
        eipsim.run(sc, seed=seed, steps=steps)
        traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    w, h = sc.grid_shape()
    return {
        "firms": sc.firms.count,
        "plots": w * h,
        "steps": steps,
        "seeds": seeds,
        "seconds": sum(times) / len(times),
        "seconds_all": times,  # per seed, each the best of its repeats
        "cpu_seconds": sum(cpu) / len(cpu),
        "cpu_seconds_all": cpu,
        "load_seconds": load_s,
        "timeseries_seconds": timeseries_s,
        "links_seconds": links_s,
        "links_formed": res.summary["links_formed"],
        "firms_at_end": res.summary["firms"],
        "peak_rss_mb": rss_kb / 1024.0 if sys.platform != "darwin" else rss_kb / 2**20,
        "traced_peak_mb": traced_peak,
    }


def profile(count: int | None, steps: int, seed: int, top: int, sets: list[str]) -> None:
    """cProfile one run (after an untimed warm-up run) and print the top functions."""
    import cProfile
    import pstats

    import eipsim

    sc = scenario(count, sets)
    eipsim.run(sc, seed=seed, steps=min(steps, 3))  # imports and caches out of the way
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    eipsim.run(sc, seed=seed, steps=steps)
    pr.disable()
    wall = time.perf_counter() - t0
    label = "baseline.yaml" if count is None else f"firms.count={count}"
    print(f"== profile: {label}, {steps} months, {wall:.3f} s under cProfile ==")
    st = pstats.Stats(pr, stream=sys.stdout)
    st.strip_dirs()
    print("-- by own time (tottime) --")
    st.sort_stats("tottime").print_stats(top)
    print("-- by cumulative time, eipsim functions --")
    st.sort_stats("cumulative").print_stats(r"eipsim|trust|model|economics|indicators", top)


def seeds_for(n: int | None, a: argparse.Namespace) -> int:
    """``--seeds`` below 1000 firms; one seed for the big parks (slow, and a single run's
    work varies less with the seed there)."""
    return a.seeds if n is None or n < 1000 else 1


def child_cmd(a: argparse.Namespace, count: int | None, repeats: int) -> list[str]:
    cmd = [sys.executable, __file__, "--child", "--steps", str(a.steps), "--seed", str(a.seed)]
    cmd += ["--seeds", str(seeds_for(count, a))]
    cmd += ["--repeats", str(repeats), "--trust", a.trust, *set_args(a)]
    if a.traced:
        cmd.append("--traced")
    if count is not None:
        cmd += ["--sizes", str(count)]
    return cmd


def set_args(a: argparse.Namespace) -> list[str]:
    """The scenario overrides as arguments for a child interpreter."""
    return [arg for kv in a.set for arg in ("--set", kv)]


def child_env(a: argparse.Namespace) -> dict[str, str]:
    env = dict(os.environ)
    if a.blas_threads > 0:
        for var in BLAS_THREAD_VARS:
            env[var] = str(a.blas_threads)
    return env


def run_child(a: argparse.Namespace, count: int | None, repeats: int) -> dict:
    out = subprocess.run(
        child_cmd(a, count, repeats),
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env=child_env(a),
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark child failed for firms.count={count}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(a: dict, b: dict, key: str = "seconds") -> float:
    return math.log(b[key] / a[key]) / math.log(b["firms"] / a["firms"])


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def repeats_for(n: int | None, a: argparse.Namespace) -> int:
    """Best of --repeats below 1000 firms; big parks are slow and their time is stabler."""
    if n is None or n < 1000:
        return a.repeats
    return max(1, a.repeats - 1) if n < 3000 else max(1, a.repeats - 2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", help=f"firms.count values {SIZES}")
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per size (best counts)")
    ap.add_argument("--seed", type=int, default=0, help="the first seed")
    ap.add_argument(
        "--seeds", type=int, default=8, help="seeds timed below 1000 firms (the mean counts)"
    )
    ap.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, 3 repeats")
    ap.add_argument("--profile", action="store_true", help="cProfile baseline and 1000 firms")
    ap.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    ap.add_argument("--traced", action="store_true", help="also tracemalloc's peak (slow)")
    ap.add_argument("--trust", choices=TRUST_IMPLS, default="current")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads in the runs (default 1: idle BLAS threads spin, which on a shared "
        "2-core machine slows the run and inflates its CPU time); 0 leaves the environment",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a dotted scenario key in every run (repeatable)",
    )
    ap.add_argument(
        "--first-version",
        action="store_true",
        help="the first version's rules (eipsim.scenario.presets.FIRST_VERSION)",
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--profile-child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.first_version:
        a.set = [*first_version_sets(), *a.set]

    if a.child or a.profile_child:
        sys.path.insert(0, str(REPO))  # benchmark the tree this script lives in
        import eipsim  # noqa: F401  (import the model before swapping its trust class)

        use_trust(a.trust)
        count = a.sizes[0] if a.sizes else None  # no --sizes: the baseline file as it is
        if a.profile_child:
            profile(count, a.steps, a.seed, a.top, a.set)
        else:
            seeds = list(range(a.seed, a.seed + a.seeds))
            print(json.dumps(measure(count, a.steps, a.repeats, seeds, a.traced, a.set)))
        return 0

    if a.profile:
        for count in (None, *(a.sizes or [1000])):
            cmd = [sys.executable, __file__, "--profile-child", "--steps", str(a.steps)]
            cmd += ["--seed", str(a.seed), "--top", str(a.top), "--trust", a.trust, *set_args(a)]
            if count is not None:
                cmd += ["--sizes", str(count)]
            subprocess.run(cmd, check=True, cwd=REPO, env=child_env(a))
            print()
        return 0

    if a.quick:
        sizes = a.sizes or QUICK_SIZES
        a.repeats = min(a.repeats, 3)
    else:
        sizes = a.sizes or SIZES

    print(f"eipsim model benchmark: {platform.python_version()} on {platform.platform()}")
    print(
        f"  {os.cpu_count()} CPUs (possibly shared: times are best of N); {a.steps} months per "
        f"run; below 1000 firms the mean over seeds {a.seed}-{a.seed + a.seeds - 1} of each "
        f"seed's best of {a.repeats}, above seed {a.seed} and fewer repeats; "
        f"trust code: {a.trust}; BLAS threads: {a.blas_threads or 'as the environment says'}"
    )
    if a.set:
        print(f"  overrides: {' '.join(a.set)}")
    print()
    base = run_child(a, None, repeats_for(None, a))
    base["label"] = "baseline.yaml"
    rows = []
    for n in sorted(set(sizes)):
        r = run_child(a, n, repeats_for(n, a))
        r["label"] = f"firms.count={n}"
        rows.append(r)

    head = (
        f"{'park':<18}{'firms':>6}{'plots':>7}{'seeds':>6}{'mean s':>9}{'worst s':>9}{'cpu s':>8}"
        f"{'us/firm-step':>14}{'links':>7}{'peak RSS MB':>13}"
    )
    if a.traced:
        head += f"{'traced MB':>11}"
    print(head)
    print("-" * len(head))
    for r in [base, *rows]:
        per = r["seconds"] / (r["firms"] * r["steps"]) * 1e6
        line = (
            f"{r['label']:<18}{r['firms']:>6}{r['plots']:>7}{len(r['seconds_all']):>6}"
            f"{r['seconds']:>9.3f}{max(r['seconds_all']):>9.3f}{r['cpu_seconds']:>8.3f}{per:>14.1f}"
            f"{r['links_formed']:>7}{r['peak_rss_mb']:>13.0f}"
        )
        if a.traced:
            line += f"{r['traced_peak_mb']:>11.1f}"
        print(line)
    print()
    print("growth exponent k (time ~ N^k), consecutive sizes:")
    for x, y in zip(rows, rows[1:], strict=False):
        print(
            f"  {x['firms']:>5} -> {y['firms']:<5} k = {exponent(x, y):.2f} (wall), "
            f"{exponent(x, y, 'cpu_seconds'):.2f} (cpu)"
        )
    print()

    by_n = {r["firms"]: r for r in rows}
    print("targets (issue 7):")
    ms = base["seconds"] * 1e3
    print(
        f"  baseline (100 firms, {a.steps} months) <= {TARGETS['baseline_s'] * 1e3:.0f} ms: "
        f"{ms:.1f} ms per run ({base['seconds'] / (base['firms'] * base['steps']) * 1e6:.2f} "
        f"us per firm-step)  {verdict(base['seconds'] <= TARGETS['baseline_s'])}"
    )
    print(
        f"    (eipsim.run builds its tables when they are first read, as a sweep that keeps "
        f"no timeseries never does; reading them adds {base['timeseries_seconds'] * 1e3:.1f} "
        f"ms (timeseries) + {base['links_seconds'] * 1e3:.1f} ms (links))"
    )
    print(
        "    (an absolute time measures the machine too; benchmarks/bench_against.py gives the "
        "speed-up over the tree the target was set on, side by side: docs/ARCHITECTURE.md)"
    )
    ks = {}
    for lo, hi in EXPONENT_PAIRS:
        if lo in by_n and hi in by_n:
            k = ks[(lo, hi)] = exponent(by_n[lo], by_n[hi])
            kc = exponent(by_n[lo], by_n[hi], "cpu_seconds")
            print(
                f"  growth exponent {lo} -> {hi} firms <= {TARGETS['exponent']}: k = {k:.2f} "
                f"(wall; {kc:.2f} by cpu time)  {verdict(k <= TARGETS['exponent'])}"
            )
        else:
            print(f"  growth exponent {lo} -> {hi} firms: not measured (add both sizes)")
    if 3000 in by_n:
        mem = by_n[3000]["peak_rss_mb"]
        print(
            f"  peak RSS at 3000 firms < {TARGETS['memory_mb']:.0f} MB: {mem:.0f} MB  "
            f"{verdict(mem < TARGETS['memory_mb'])}"
        )
    else:
        print("  peak RSS at 3000 firms: not measured (add --sizes ... 3000)")
    if a.steps != 120:
        print(f"  (note: targets assume 120 months; this run used {a.steps})")
    if a.json:
        a.json.write_text(
            json.dumps(
                {
                    "trust": a.trust,
                    "baseline": base,
                    "sizes": rows,
                    "exponents": {f"{lo}->{hi}": k for (lo, hi), k in ks.items()},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
