"""eipsim calibrate (issue 9): bad files exit 2 with one message, a tiny calibration is
reproducible from its root seed, and a calibration SIGKILLed mid-way and resumed gives the
uninterrupted result. The CI versions use a tiny population on 6-month runs; the slow ones
run calibration/quick.yaml itself, locally and on Dask."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pyabc")

from eipsim.calibration.report import write_outputs  # noqa: E402
from eipsim.calibration.smc import calibrate  # noqa: E402
from eipsim.calibration.spec import load_calibration  # noqa: E402
from eipsim.errors import UserError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"

# The tiny calibration's own patterns, written beside each calibration file. T_links asks
# for more live links than any 6-month run makes, so every particle is some distance from
# it: epsilon never reaches 0 and every generation runs (pyabc stops at minimum_epsilon 0,
# which the real patterns can reach in generation 0). T_tax is P4_tax of
# calibration/patterns.yaml; T_later is not computable.
TINY_PATTERNS = f"""
version: 1
seeds: 1
seed: 1
patterns:
  - id: T_links
    sentence: A tiny park keeps many live links.
    source: test
    scenario: {BASELINE}
    compute: run.summary.active_links / max(run.summary.firms, 1) * 100
    target: [1000, null]
    scale: 10
    use: fit
  - id: T_tax
    sentence: A landfill tax raises the number of links.
    source: test
    scenario: {BASELINE}
    arms:
      taxed: {{government.landfill_tax_usd_per_t: 30}}
      untaxed: {{}}
    compute: (taxed.summary.links_formed - untaxed.summary.links_formed) / max(untaxed.summary.links_formed, 1)
    target: [0.05, null]
    scale: 0.1
    use: fit
  - id: T_later
    sentence: Something the model cannot compute yet.
    source: test
    status: not_computable
    reason: needs an indicator
    target: [0, 1]
    use: fit
"""

TINY = """
name: tiny
patterns: patterns.yaml
fit: [T_links, T_tax]
seed: 7
seeds_per_particle: 1
steps: 6
overrides: {costs.risk_model: per_event, trust.negotiation_slope: 0.05}
parameters:
  trust.initial_cross_nationality: {low: 0.15, high: 0.6}
  costs.transaction_usd: {low: 10000, high: 300000, dist: logunif}
abc: {population_size: 3, generations: 2}
validate_draws: 0
"""


def write(tmp: Path, text: str, name: str = "cal.yaml") -> Path:
    """A calibration file in ``tmp``, with the tiny patterns beside it."""
    pat = tmp / "patterns.yaml"
    if not pat.exists():
        pat.write_text(TINY_PATTERNS, encoding="utf-8")
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eipsim", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=600, **kw,
    )  # fmt: skip


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    cal = write(d, TINY)
    calibrate(cal, d / "a", workers=1, quiet=True)
    write_outputs(d / "a", validate=False)
    return cal, d


@pytest.mark.parametrize(
    "edit, msg",
    [
        ("parameters: {}", "at least one"),
        ("parameters: {trust.nope: {low: 0, high: 1}}", "unknown scenario key 'trust.nope'"),
        ("parameters: {trust.threshold: {low: 0.8, high: 0.2}}", "above its high bound"),
        ("parameters: {trust.threshold: {low: 0.5, high: 3}}", "the scenario refuses"),
        ("parameters: {park.placement: {levels: [random, chain_clusters]}}", "categorical"),
        ("fit: [P99]", "unknown pattern"),
        ("fit: [T_later]", "no computable pattern"),
        ("patterns: nope.yaml", "file not found"),
        ("overrides: {costs.nope: 1}", "unknown scenario key"),
        ("abc: {population_size: 1}", "population_size"),
        ("popsize: 3", "popsize"),
        ("seed: -1", "seed"),
    ],
)
def test_bad_calibration_files_are_one_message(tmp_path, edit, msg):
    key = edit.split(":")[0]
    lines = [ln for ln in TINY.splitlines() if not ln.startswith(key + ":")]
    if key == "parameters":  # drop the two indented prior lines too
        lines = [ln for ln in lines if not ln.startswith("  ")]
    p = write(tmp_path, "\n".join([*lines, edit]) + "\n")
    with pytest.raises(UserError, match=msg):
        load_calibration(p)


def test_bad_calibration_exits_2_without_traceback(tmp_path):
    p = write(tmp_path, TINY.replace("trust.initial_cross_nationality", "trust.initial_cross"))
    r = cli("calibrate", str(p), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "unknown scenario key" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    from eipsim.cli.commands import main

    assert main(["calibrate", str(tmp_path / "missing.yaml")]) == 2
    assert main(["calibrate", str(p), "--scheduler", "tcp://127.0.0.1:1"]) == 2


def test_outputs_and_report(tiny):
    _, d = tiny
    out = d / "a"
    post = pd.read_parquet(out / "posterior.parquet")
    assert list(post.columns) == [
        "generation", "particle", "weight", "trust.initial_cross_nationality", "costs.transaction_usd",
    ]  # fmt: skip
    assert sorted(post.generation.unique()) == [0, 1]
    assert post.groupby("generation").weight.sum().round(9).eq(1).all()
    acc = pd.read_parquet(out / "accepted.parquet")
    assert {"distance", "T_links", "T_tax"} <= set(acc.columns) and len(acc) == 6
    md = (out / "report.md").read_text()
    assert "What the patterns identify" in md and "| T_links |" in md
    for f in ("marginals.png", "pairs.png", "calibration.json", "abc.db"):
        assert (out / f).is_file()


def test_reproducible_from_root_seed(tiny):
    cal, d = tiny
    calibrate(cal, d / "b", workers=1, quiet=True)
    write_outputs(d / "b", validate=False)
    a = pd.read_parquet(d / "a" / "posterior.parquet")
    b = pd.read_parquet(d / "b" / "posterior.parquet")
    pd.testing.assert_frame_equal(a.drop(columns="particle"), b.drop(columns="particle"))


def test_existing_folder_needs_resume(tiny):
    cal, d = tiny
    with pytest.raises(UserError, match="--resume"):
        calibrate(cal, d / "a", workers=1, quiet=True)
    # a folder that is not a calibration's is refused
    (d / "junk").mkdir(exist_ok=True)
    (d / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not a calibration folder"):
        calibrate(cal, d / "junk", workers=1, quiet=True)
    # a different calibration is refused rather than mixed in
    other = write(d, TINY.replace("seed: 7", "seed: 8"), "other.yaml")
    with pytest.raises(UserError, match="different calibration"):
        calibrate(other, d / "a", workers=1, quiet=True, resume=True)


def _generations_done(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as c:
            return int(c.execute("select count(*) from populations where t >= 0").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_resume_after_sigkill_gives_the_uninterrupted_result(tiny, tmp_path):
    cal, d = tiny
    out = tmp_path / "killed"
    three = write(tmp_path, TINY.replace("generations: 2", "generations: 3"), "three.yaml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "eipsim", "calibrate", str(three), "--workers", "1", "--quiet",
         "--no-validate", "--out", str(out)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while _generations_done(out / "abc.db") < 1 and proc.poll() is None:
            assert time.monotonic() < deadline, "the calibration never finished a generation"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    done_at_kill = _generations_done(out / "abc.db")
    r = cli("calibrate", str(three), "--workers", "1", "--quiet", "--no-validate", "--resume",
            "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "resumed" in r.stdout or done_at_kill == 3
    # the same calibration run uninterrupted, in a fresh folder
    calibrate(three, d / "a3", workers=1, quiet=True)
    write_outputs(d / "a3", validate=False)
    a = pd.read_parquet(d / "a3" / "posterior.parquet")
    b = pd.read_parquet(out / "posterior.parquet")
    assert sorted(b.generation.unique()) == [0, 1, 2]
    pd.testing.assert_frame_equal(a.drop(columns="particle"), b.drop(columns="particle"))


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "dask"])
def test_quick_calibration_runs_on_both_backends(tmp_path, backend):
    pytest.importorskip("dask.distributed")
    r = cli(
        "calibrate", "calibration/quick.yaml", "--backend", backend, "--workers", "2",
        "--generations", "2", "--out", str(tmp_path / backend), "--quiet",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    for f in ("posterior.parquet", "accepted.parquet", "report.md", "marginals.png", "pairs.png"):
        assert (tmp_path / backend / f).is_file()


def test_sweep_over_the_posterior(tiny, tmp_path):
    from eipsim.cli.commands import main
    from eipsim.experiments.framework.spec import load_experiment

    _, d = tiny
    plain = load_experiment(ROOT / "experiments" / "policy_mix.yaml")
    assert "posterior_draws" not in plain.hashed_content()  # old sweeps keep their hash
    out = tmp_path / "sw"
    rc = main(
        ["sweep", str(ROOT / "experiments" / "policy_mix.yaml"), "--posterior", str(d / "a"),
         "--set", "firms.count=20", "--steps", "6", "--replicates", "4", "--workers", "1",
         "--quiet", "--out", str(out)]
    )  # fmt: skip
    assert rc == 0
    design = pd.read_parquet(out / "design.parquet")
    per_point = design.groupby("point").posterior_draw.apply(list)
    assert all(list(v) == [0, 1, 0, 1] for v in per_point)
    import json

    ov = [json.loads(o) for o in design.overrides]
    post = pd.read_parquet(d / "a" / "posterior.parquet")
    last = post[post.generation == post.generation.max()]
    for o in ov:
        assert o["costs.risk_model"] == "per_event"  # the calibration's mechanisms come along
        assert o["trust.initial_cross_nationality"] in set(last["trust.initial_cross_nationality"])
    # the same draw at every point: paired comparisons
    assert (
        len(
            {
                o["costs.transaction_usd"]
                for o, r in zip(ov, design.replicate, strict=True)
                if r == 0
            }
        )
        == 1
    )
    assert main(["plot", str(out)]) == 0
    assert "Parameter uncertainty" in (out / "report" / "report.md").read_text()
    assert main(["sweep", str(ROOT / "experiments" / "policy_mix.yaml"), "--posterior",
                 str(tmp_path), "--out", str(tmp_path / "x")]) == 2  # fmt: skip
