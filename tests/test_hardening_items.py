"""Regression tests for issue 10 ("Hardening"), one or more per numbered item.

Each test fails on the code before the fix (commit 2086a03): it reproduces the reported
behaviour through the command line (in-process ``main``) or the public Python API.
Item 7 (the browser app's exits) belongs to the browser app and is tested there.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import SCENARIOS

import eipsim
import eipsim.experiments as ex
from eipsim.cli.commands import main
from eipsim.errors import UserError
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import FAIL_BROKERING, FAKE_ADAPTER, write_experiment

PKG_ROOT = Path(eipsim.__file__).resolve().parents[1]  # the eipsim under test
BASE = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text(encoding="utf-8"))


def cli(capsys, *args: object) -> tuple[int, str, str]:
    """Run ``eipsim ARGS`` in-process; argparse errors count as their exit code."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out, err
    return code, out, err


def scenario_file(tmp_path: Path, fname: str = "s.yaml", text: str | None = None, **edit) -> Path:
    data = json.loads(json.dumps(BASE))
    for dotted, value in edit.items():
        node = data
        *head, last = dotted.split("__")
        for k in head:
            node = node.setdefault(k, {})
        node[last] = value
    p = tmp_path / fname
    p.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
    return p


@pytest.fixture
def no_simulation(monkeypatch):
    """Any simulation started by the CLI is a test failure: checks must come first."""
    import eipsim.domain.simulation as simulation

    def forbidden(*a, **k):
        raise AssertionError("the simulation ran before the input was checked")

    monkeypatch.setattr(simulation, "run", forbidden)


def _sweep_cmd(exp: Path, out: Path, delay: str) -> subprocess.Popen:
    env = {**os.environ, "EIPSIM_FAKE_DELAY": delay, "PYTHONPATH": str(PKG_ROOT)}
    cmd = [sys.executable, "-m", "eipsim", "sweep", str(exp), "--out", str(out)]
    cmd += ["--workers", "1", "--adapter", FAKE_ADAPTER, "--quiet"]
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=exp.parent,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(pred, timeout: float = 60.0) -> bool:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.02)
    return False


def _n_done(out: Path) -> int:
    d = out / "status"
    return len(list(d.glob("chunk-*.json"))) if d.is_dir() else 0


SMALL_GRID = {
    "replicates": 4,
    "chunk_size": 2,
    "design": {"kind": "grid", "factors": {"government.landfill_tax_usd_per_t": [0, 10, 20]}},
}


# -- 1. a second sweep into the same folder ---------------------------------------------------


def test_1_second_writer_is_refused_naming_the_holder(tmp_path, capsys):
    exp = write_experiment(tmp_path / "e.yaml", **SMALL_GRID)
    out = tmp_path / "sweep"
    first = _sweep_cmd(exp, out, delay="0.1")
    try:
        assert _wait_for(lambda: _n_done(out) >= 1), "the first sweep made no progress"
        code, _, err = cli(capsys, "sweep", exp, "--out", out, "--adapter", FAKE_ADAPTER, "--quiet")
        assert code == 2, err
        assert f"pid {first.pid}" in err and "another eipsim process" in err
        assert len(err.strip().splitlines()) == 1
        part = ex.load(out)  # reading while it runs stays allowed
        assert not part.complete
        _, ferr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode == 0, ferr.decode()
    done = ex.load(out)
    assert done.complete and sorted(done.summary["run_id"]) == list(range(12))
    man = json.loads((out / "manifest.json").read_text())
    assert len(man["sessions"]) == 1  # the refused writer recorded nothing


def test_1_lock_is_released_when_the_holder_is_killed(tmp_path):
    from eipsim.runs.files import FolderLock, is_locked

    code = (
        "import sys, time; from eipsim.runs.files import FolderLock; "
        "FolderLock(sys.argv[1]).acquire('test'); print('locked', flush=True); time.sleep(60)"
    )
    env = {**os.environ, "PYTHONPATH": str(PKG_ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)], env=env, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout.readline().strip() == b"locked"
        assert is_locked(tmp_path)
        with pytest.raises(UserError, match=f"pid {holder.pid} on host"):
            FolderLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()
    assert not is_locked(tmp_path)
    with FolderLock(tmp_path) as lock:
        lock.acquire()
        assert lock.held


# -- 2. a scenario name that leaves results/ ---------------------------------------------------


@pytest.mark.parametrize("name", ["../../../X", "/tmp/escape", "a/b", "..", ".hidden", "x\x00y"])
def test_2_scenario_name_must_be_one_safe_path_component(tmp_path, capsys, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "inner").mkdir()
    p = scenario_file(tmp_path / "inner", name=name)
    code, _, err = cli(capsys, "run", p, "--steps", "1")
    assert code == 2 and "name" in err
    assert sorted(x.name for x in tmp_path.rglob("*")) == ["inner", "s.yaml"]


def test_2_python_api_refuses_unsafe_names():
    bad = {**BASE, "name": "../up"}
    with pytest.raises(UserError, match="name"):
        eipsim.scenario.schema.scenario_from_dict(bad)


# -- 3. a bad --out found only after the run ---------------------------------------------------


def test_3_out_under_a_file_is_refused_before_the_run(tmp_path, capsys, no_simulation):
    (tmp_path / "afile").write_text("x")
    code, _, err = cli(
        capsys, "run", SCENARIOS / "baseline.yaml", "--out", tmp_path / "afile" / "sub"
    )
    assert code == 2 and "afile" in err and "is a file" in err


def test_3_out_that_is_a_file_is_refused(tmp_path, capsys, no_simulation):
    (tmp_path / "afile").write_text("keep")
    code, _, err = cli(capsys, "run", SCENARIOS / "baseline.yaml", "--out", tmp_path / "afile")
    assert code == 2 and "existing file" in err
    assert (tmp_path / "afile").read_text() == "keep"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_3_read_only_parent_is_refused_before_the_run(tmp_path, capsys, no_simulation):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = cli(capsys, "run", SCENARIOS / "baseline.yaml", "--out", ro / "x")
    finally:
        ro.chmod(0o755)
    assert code == 2 and "not writable" in err


def test_3_sweep_out_under_a_file_is_refused(tmp_path, capsys):
    exp = write_experiment(tmp_path / "e.yaml")
    (tmp_path / "afile").write_text("x")
    code, _, err = cli(
        capsys, "sweep", exp, "--out", tmp_path / "afile" / "s", "--adapter", FAKE_ADAPTER
    )
    assert code == 2 and "is a file" in err


# -- 4. values that crash or poison a run -------------------------------------------------------


@pytest.mark.parametrize(
    "setting, frag",
    [
        ("operator.arrivals_per_year=1e22", "less than or equal to 1200"),
        ("government.landfill_tax_usd_per_t=inf", "finite"),
        ("government.landfill_tax_usd_per_t=.inf", "finite"),
        ("government.exchange_subsidy_usd_per_t=.nan", "finite"),
        ("costs.transaction_usd=-.inf", "finite"),
        ("firms.size_sigma=50", "less than or equal to 3"),
        ("seed=100000000000000000000000000000", "less than or equal to"),
    ],
)
def test_4_non_finite_and_out_of_range_values_are_refused(capsys, no_simulation, setting, frag):
    code, _, err = cli(capsys, "run", SCENARIOS / "baseline.yaml", "--set", setting)
    assert code == 2 and frag in err, err


def test_4_derived_park_size_is_bounded(capsys, no_simulation):
    code, _, err = cli(
        capsys,
        "validate",
        SCENARIOS / "baseline.yaml",
        "--set",
        "firms.count=5000",
        "--set",
        "park.initial_occupancy=0.001",
    )
    assert code == 2 and "largest park is 10,000 plots" in err


def test_4_park_too_large_to_run_is_refused(capsys, no_simulation):
    code, _, err = cli(
        capsys,
        "validate",
        SCENARIOS / "baseline.yaml",
        "--set",
        "park.width=200",
        "--set",
        "park.height=200",
    )
    assert code == 2 and "200 x 200 = 40,000 plots" in err


def test_4_summary_json_is_always_valid_json():
    from eipsim.runs.files import json_text

    text = json_text({"a": float("-inf"), "b": [float("nan"), 1.5]})
    assert json.loads(text) == {"a": None, "b": [None, 1.5]}


def _exp(tmp_path: Path, **fields) -> Path:
    return write_experiment(tmp_path / "e.yaml", **fields)


def test_4_infinite_sampling_range_is_refused(tmp_path):
    p = _exp(
        tmp_path,
        design={
            "kind": "lhs",
            "samples": 8,
            "parameters": {"government.landfill_tax_usd_per_t": {"low": 0, "high": ".inf"}},
        },
    )
    p.write_text(p.read_text().replace("high: .inf", "high: .inf").replace("'.inf'", ".inf"))
    with pytest.raises(UserError, match="finite"):
        load_experiment(p, adapter=FAKE_ADAPTER)


def test_4_norm_that_can_draw_negative_taxes_is_refused_before_any_run(tmp_path):
    p = _exp(
        tmp_path,
        design={
            "kind": "lhs",
            "samples": 32,
            "parameters": {
                "government.landfill_tax_usd_per_t": {"dist": "norm", "mean": 10, "sd": 8}
            },
        },
    )
    with pytest.raises(UserError, match=r"dist norm can draw -.*truncnorm") as e:
        load_experiment(p, adapter=FAKE_ADAPTER)
    assert "design.parameters.government.landfill_tax_usd_per_t" in str(e.value)


def test_4_truncated_norm_is_accepted(tmp_path):
    p = _exp(
        tmp_path,
        design={
            "kind": "lhs",
            "samples": 8,
            "parameters": {
                "government.landfill_tax_usd_per_t": {
                    "dist": "truncnorm",
                    "mean": 10,
                    "sd": 8,
                    "low": 0,
                    "high": 40,
                }
            },
        },
    )
    load_experiment(p, adapter=FAKE_ADAPTER)


# -- 5. no cap on design size --------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {
            "design": {
                "kind": "lhs",
                "samples": 1_000_000_000,
                "parameters": {"government.landfill_tax_usd_per_t": {"low": 0, "high": 9}},
            }
        },
        {
            "design": {
                "kind": "grid",
                "factors": {
                    f"trust.{k}": [0.1 * i for i in range(10)]
                    for k in (
                        "noise",
                        "delivery_gain",
                        "shortfall_loss",
                        "break_penalty",
                        "diffusion",
                        "event_boost",
                        "introduction_boost",
                        "familiarity_per_month",
                        "break_below",
                    )
                },
            }
        },
        {
            "replicates": 100_000,
            "design": {
                "kind": "grid",
                "factors": {"government.landfill_tax_usd_per_t": list(range(11))},
            },
        },
    ],
    ids=["lhs-1e9", "grid-1e9", "replicates-1e5"],
)
def test_5_design_size_is_capped_with_the_bound_in_the_message(tmp_path, fields):
    p = _exp(tmp_path, **fields)
    t0 = time.monotonic()
    with pytest.raises(UserError, match=r"1,?000,?000") as e:
        load_experiment(p, adapter=FAKE_ADAPTER)
    assert time.monotonic() - t0 < 10
    assert str(p) in str(e.value)


# -- 6. --steps beyond the limit -------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["run", "sweep"])
def test_6_cli_steps_are_capped_like_scenario_files(tmp_path, capsys, no_simulation, cmd):
    target = SCENARIOS / "baseline.yaml" if cmd == "run" else _exp(tmp_path)
    code, _, err = cli(capsys, cmd, target, "--steps", "100000", "--out", tmp_path / "o")
    assert code == 2 and "2,400" in err


# -- 8. duplicate YAML keys --------------------------------------------------------------------------


def test_8_duplicate_yaml_keys_are_refused_naming_file_and_lines(tmp_path, capsys):
    text = (SCENARIOS / "baseline.yaml").read_text(encoding="utf-8")
    text = text.replace("\nseed:", "\nseed: 7\nseed:", 1)
    assert text.count("\nseed:") == 2
    p = scenario_file(tmp_path, text=text)
    code, _, err = cli(capsys, "validate", p)
    assert code == 2
    assert str(p) in err and "duplicate key 'seed'" in err and "line" in err


def test_8_duplicate_nested_and_experiment_keys(tmp_path):
    p = tmp_path / "e.yaml"
    write_experiment(p)
    p.write_text(p.read_text() + "seed: 3\n")
    with pytest.raises(UserError, match="duplicate key 'seed'"):
        load_experiment(p, adapter=FAKE_ADAPTER)
    from eipsim.scenario.overrides import parse_value

    assert parse_value("{a: 1, a: 2}") == "{a: 1, a: 2}"  # stays text: the schema refuses it


# -- 9. a roster named like an output file -----------------------------------------------------------


@pytest.mark.parametrize("roster_name", ["summary.json", "manifest.json", "scenario.yaml"])
def test_9_roster_named_like_an_output_does_not_overwrite_it(tmp_path, capsys, roster_name):
    (tmp_path / roster_name).write_text("name,sector,nationality,size,plot\nMill,steel,JP,1.5,3\n")
    p = scenario_file(tmp_path, firms__roster=roster_name, firms__count=20)
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", p, "--steps", "2", "--out", out)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert "adoption_share" in summary
    assert json.loads((out / "manifest.json").read_text())["seed"] is not None
    again = eipsim.load_scenario(out / "scenario.yaml")  # the folder re-runs on its own
    assert [r["name"] for r in again.load_roster()] == ["Mill"]


# -- 10. leftover temporary folders of a killed run ----------------------------------------------------


def test_10_killed_run_leftover_is_removed_by_the_next_run(tmp_path, capsys):
    out = tmp_path / "first"
    script = (
        "import sys, time\n"
        "import eipsim\n"
        "from eipsim.runs import output, plots\n"
        "plots.run_plots = lambda *a, **k: (print('writing', flush=True), time.sleep(60))\n"
        "sc = eipsim.load_scenario(sys.argv[1]).with_overrides({'firms.count': 20})\n"
        "output.write_run(eipsim.run(sc, steps=1), sys.argv[2])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PKG_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(SCENARIOS / "baseline.yaml"), str(out)],
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline().strip() == b"writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = [p for p in tmp_path.iterdir() if p.name.startswith(".first.")]
    assert len(left) == 1 and left[0].is_dir() and not out.exists()
    code, _, err = cli(
        capsys,
        "run",
        SCENARIOS / "baseline.yaml",
        "--steps",
        "1",
        "--set",
        "firms.count=20",
        "--out",
        tmp_path / "second",
    )
    assert code == 0, err
    assert not left[0].exists()
    assert "interrupted run" in err and left[0].name in err


def test_10_old_style_leftover_is_removed_and_live_ones_kept(tmp_path, capsys):
    from eipsim.runs.files import FolderLock

    old = tmp_path / ".base12.tmp-ab12cd34"  # eipsim <= 0.1's name for it
    old.mkdir()
    (old / "summary.json").write_text("{}")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    live = tmp_path / ".busy.0a1b2c3d.tmp"
    live.mkdir()
    mine = tmp_path / ".notes.tmp"  # not one of ours: never touched
    mine.mkdir()
    with FolderLock(live) as lock:
        lock.acquire()
        code, _, err = cli(
            capsys,
            "run",
            SCENARIOS / "baseline.yaml",
            "--steps",
            "1",
            "--set",
            "firms.count=20",
            "--out",
            tmp_path / "new",
        )
        assert code == 0, err
        assert not old.exists() and live.exists() and mine.exists()


# -- 11. stray files in a sweep folder ----------------------------------------------------------------


@pytest.fixture
def small_sweep(tmp_path):
    exp = write_experiment(tmp_path / "e.yaml", **SMALL_GRID)
    out = tmp_path / "sw"
    run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=1, progress=False)
    return exp, out


def test_11_stray_part_file_is_left_alone_and_not_read(small_sweep, capsys):
    exp, out = small_sweep
    stray = out / "summary" / "part-old.parquet"
    stray.write_bytes(b"not parquet")
    (out / "status" / "chunk-00001.json").unlink()  # so the resume has work to do
    code, _, err = cli(capsys, "sweep", exp, "--out", out, "--adapter", FAKE_ADAPTER, "--quiet")
    assert code == 0, err
    assert stray.read_bytes() == b"not parquet"
    sw = ex.load(out)
    assert sw.complete and sorted(sw.summary["run_id"]) == list(range(12))


@pytest.mark.parametrize("content", ["[1, 2]", "{broken", '"text"', '{"format": "x"}'])
def test_11_manifest_that_is_not_an_object_is_a_user_error(small_sweep, capsys, content):
    exp, out = small_sweep
    (out / "manifest.json").write_text(content)
    with pytest.raises(UserError, match="manifest"):
        ex.load(out)
    for args in (
        ("sweep", exp, "--out", out, "--adapter", FAKE_ADAPTER, "--quiet"),
        ("plot", out),
    ):
        code, _, err = cli(capsys, *args)
        assert code == 2 and "manifest" in err, err


def test_11_corrupt_status_file_is_a_user_error(small_sweep):
    _, out = small_sweep
    (out / "status" / "chunk-00000.json").write_text("{half")
    with pytest.raises(UserError, match="chunk-00000.json"):
        ex.load(out)


# -- 12. smaller issues ---------------------------------------------------------------------------------


def _roster_scenario(tmp_path: Path, csv_text: str) -> Path:
    (tmp_path / "r.csv").write_text(csv_text)
    return scenario_file(tmp_path, firms__roster="r.csv", firms__count=20)


def test_12_roster_nationality_missing_from_the_mix_is_refused(tmp_path):
    p = _roster_scenario(tmp_path, "name,sector,nationality,size\nMill,steel,XX,1.5\n")
    with pytest.raises(UserError, match=r"row 2: nationality 'XX' is not in firms.nationality_mix"):
        eipsim.load_scenario(p)


def test_12_roster_header_with_spaces_is_read(tmp_path):
    p = _roster_scenario(
        tmp_path, "name, sector, nationality, size, plot\nMill, steel, JP, 1.5, 3\n"
    )
    rows = eipsim.load_scenario(p).load_roster()
    assert rows == [
        {"name": "Mill", "sector": "steel", "nationality": "JP", "size": 1.5, "plot": 3}
    ]


@pytest.mark.parametrize(
    "setting",
    [
        "government.landfill_tax_usd_per_t=true",
        "firms.count=false",
        "firms.sector_mix.steel=yes",
    ],
)
def test_12_yes_no_for_a_number_is_refused(capsys, no_simulation, setting):
    code, _, err = cli(capsys, "validate", SCENARIOS / "baseline.yaml", "--set", setting)
    assert code == 2 and "yes/no" in err


def test_12_empty_out_is_refused(capsys, tmp_path, no_simulation, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(capsys, "run", SCENARIOS / "baseline.yaml", "--out", "")
    assert code == 2 and "--out is empty" in err
    assert not (tmp_path / "results").exists()
    code, _, err = cli(capsys, "sweep", _exp(tmp_path), "--out", "", "--adapter", FAKE_ADAPTER)
    assert code == 2 and "--out is empty" in err


def test_12_folder_given_as_scenario(capsys, tmp_path):
    code, _, err = cli(capsys, "validate", tmp_path)
    assert code == 2 and "is a folder" in err and "not found" not in err


def test_12_sweep_with_failed_runs_exits_3(tmp_path, capsys):
    exp = _exp(
        tmp_path,
        replicates=1,
        design={"kind": "grid", "factors": {"government.brokering_per_year": [0, FAIL_BROKERING]}},
    )
    out = tmp_path / "sw"
    code, _, err = cli(capsys, "sweep", exp, "--out", out, "--adapter", FAKE_ADAPTER, "--quiet")
    assert code == 3 and "1 run(s) of this sweep failed" in err
    code, _, err = cli(capsys, "sweep", exp, "--out", out, "--adapter", FAKE_ADAPTER, "--quiet")
    assert code == 3  # a re-run that has nothing to do still reports the failures


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(root: Path) -> set[tuple[str, int]]:
    return {
        ("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode))
        for p in [root, *root.rglob("*")]
        if p.name != ".lock"
    }


def test_12_run_output_respects_the_umask(tmp_path, capsys, umask_022):
    out = tmp_path / "run"
    code, _, err = cli(
        capsys,
        "run",
        SCENARIOS / "baseline.yaml",
        "--steps",
        "1",
        "--set",
        "firms.count=20",
        "--out",
        out,
    )
    assert code == 0, err
    assert _modes(out) == {("dir", 0o755), ("file", 0o644)}


def test_12_sweep_folder_respects_the_umask(tmp_path, umask_022):
    exp = _exp(tmp_path)
    out = tmp_path / "sw"
    run_sweep(load_experiment(exp, adapter=FAKE_ADAPTER), out, workers=1, progress=False)
    assert _modes(out) == {("dir", 0o755), ("file", 0o644)}
    assert len(list((out / "summary").glob("*.parquet"))) > 0


# -- architecture (issue 7, application layer) ----------------------------------------------------------


def test_provenance_is_written_once_for_runs_and_sweeps(tmp_path):
    from eipsim.experiments.framework import store
    from eipsim.runs import output, provenance

    run_m = output.manifest()
    sweep_m = store.environment()
    assert run_m["git_commit"] == sweep_m["git_commit"]
    assert "git_dirty" in run_m and "git_dirty" in sweep_m
    if run_m["git_dirty"]:
        assert run_m["git_commit"].endswith("-dirty")
    assert output.git_commit is provenance.git_commit is store.git_commit


def test_one_home_for_shared_pieces():
    from eipsim.experiments.framework import parquet, spec, store, worker
    from eipsim.runs import files, output
    from eipsim.scenario import schema, strict

    assert not hasattr(spec, "DISTS") and not hasattr(output, "write_atomic_text")
    assert store.encode is parquet.encode and worker.encode is parquet.encode
    assert store.atomic_write_bytes is files.atomic_write_bytes
    assert schema._Strict is strict.Strict and issubclass(spec.Experiment, strict.Strict)


def test_plot_modules_select_no_backend():
    code = (
        "import matplotlib; matplotlib.use('pdf'); "
        "import eipsim.runs.plots, eipsim.experiments.analysis.plots; "
        "assert matplotlib.get_backend() == 'pdf', matplotlib.get_backend()"
    )
    env = {**os.environ, "PYTHONPATH": str(PKG_ROOT)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_schema_names_stay_importable():
    from eipsim.scenario.schema import (  # noqa: F401
        CRITERIA,
        FACILITY_KINDS,
        ROSTER_COLUMNS,
        Scenario,
        _check_key,
        _default_criteria,
        _roster_row,
        _set_dotted,
        _Strict,
        format_validation,
        known_keys,
        load_scenario,
        parse_value,
        read_roster,
        read_yaml,
        scenario_from_dict,
    )


@pytest.mark.parametrize(
    "par",
    [
        {"dist": "lognorm", "mean": 800, "sd": 1},
        {"dist": "truncnorm", "mean": 1e300, "sd": 1e-300, "low": 0, "high": 10},
        {"dist": "norm", "mean": 5, "sd": 1e300},
    ],
)
def test_4_distribution_drawing_non_finite_values_is_refused(tmp_path, par):
    p = _exp(
        tmp_path,
        design={
            "kind": "lhs",
            "samples": 8,
            "parameters": {"government.brokering_per_year": par},
        },
    )
    with pytest.raises(UserError, match=r"design.parameters.government.brokering_per_year"):
        load_experiment(p, adapter=FAKE_ADAPTER)


def test_5_big_sweep_says_so_before_planning(tmp_path, capsys, monkeypatch):
    from eipsim.experiments.framework import runner

    def stop(*a, **k):
        raise UserError("stopped before planning")

    monkeypatch.setattr(runner, "run_sweep", stop)
    p = _exp(
        tmp_path,
        replicates=25_000,
        design={"kind": "grid", "factors": {"government.landfill_tax_usd_per_t": [0, 1]}},
    )
    code, _, err = cli(capsys, "sweep", p, "--adapter", FAKE_ADAPTER, "--out", tmp_path / "o")
    assert code == 2 and "has 50,000 runs" in err
