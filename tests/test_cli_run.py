"""`eipsim run`: the results folder, its re-runnable resolved scenario, atomic writing."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import SCENARIOS

import eipsim
from eipsim.domain.indicators import SUMMARY_KEYS, TIMESERIES_COLUMNS
from eipsim.runs import output

FILES = {
    "timeseries.parquet",
    "links.parquet",
    "summary.json",
    "assessment.json",
    "scenario.yaml",
    "manifest.json",
}
PNGS = {"adoption.png", "flows.png", "trust.png", "eip.png"}


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory):
    """One `eipsim run` of the baseline for 12 months with an override and a seed."""
    from conftest import run_cli

    out = tmp_path_factory.mktemp("runs") / "base12"
    r = run_cli(
        "run",
        SCENARIOS / "baseline.yaml",
        "--steps",
        "12",
        "--seed",
        "7",
        "--set",
        "government.landfill_tax_usd_per_t=25",
        "--set",
        "operator.platform.enabled=true",
        "--out",
        out,
    )
    return r, out


def test_run_writes_the_results_folder(baseline_run):
    r, out = baseline_run
    assert r.returncode == 0, r.stderr
    names = {p.name for p in out.iterdir()}
    assert names >= FILES | PNGS
    for png in PNGS:
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["step"].tolist() == list(range(1, 13))
    assert list(ts.columns) == list(TIMESERIES_COLUMNS)
    links = pd.read_parquet(out / "links.parquet")
    assert {"supplier_id", "user_id", "material", "start_step", "end_step", "tonnes"} <= set(
        links.columns
    ) and {"reason_ended", "formed_step"} <= set(links.columns)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == set(SUMMARY_KEYS)
    assert summary["steps"] == 12 and summary["seed"] == 7
    man = json.loads((out / "manifest.json").read_text())
    assert man["seed"] == 7 and man["steps"] == 12
    assert man["overrides"] == {
        "government.landfill_tax_usd_per_t": 25,
        "operator.platform.enabled": True,
    }
    assert {"numpy", "mesa", "pandas", "python"} <= set(man["versions"])
    assert "git_commit" in man and "run" in man["command_line"]
    assessment = json.loads((out / "assessment.json").read_text())
    assert all("source" in v and "met" in v for v in assessment.values())
    # the short summary table and where the results went
    assert "adoption share" in r.stdout and str(out) in r.stdout
    assert "Traceback" not in r.stderr
    # no temporary folders left beside the target
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_resolved_scenario_reruns_to_the_same_results(baseline_run):
    _, out = baseline_run
    sc = eipsim.load_scenario(out / "scenario.yaml")
    assert sc.government.landfill_tax_usd_per_t == 25 and sc.operator.platform.enabled
    seed = json.loads((out / "manifest.json").read_text())["seed"]
    res = eipsim.run(sc, seed=seed, steps=12)
    pd.testing.assert_frame_equal(
        res.timeseries, pd.read_parquet(out / "timeseries.parquet"), check_exact=True
    )
    pd.testing.assert_frame_equal(
        res.links, pd.read_parquet(out / "links.parquet"), check_exact=True
    )


def test_roster_scenario_folder_reruns_on_its_own(tmp_path, cli):
    """A relative roster path travels with the resolved scenario (bug: it did not)."""
    out = tmp_path / "ncc"
    r = cli("run", SCENARIOS / "nam_cau_kien.yaml", "--steps", "3", "--out", out)
    assert r.returncode == 0, r.stderr
    sc = eipsim.load_scenario(out / "scenario.yaml")
    assert sc.roster_path().parent == out
    assert len(sc.load_roster()) == len(
        eipsim.load_scenario(SCENARIOS / "nam_cau_kien.yaml").load_roster()
    )
    res = eipsim.run(sc, steps=3)
    pd.testing.assert_frame_equal(
        res.timeseries, pd.read_parquet(out / "timeseries.parquet"), check_exact=True
    )


def test_failed_write_leaves_no_folder(tmp_path, small, monkeypatch):
    res = eipsim.run(small, steps=2)
    target = tmp_path / "never"

    def boom(*a, **k):
        raise RuntimeError("disk full")

    from eipsim.runs import plots

    monkeypatch.setattr(plots, "run_plots", boom)  # fails after the data files are written
    with pytest.raises(RuntimeError, match="disk full"):
        output.write_run(res, target)
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # the temporary folder is gone too


def test_failed_write_keeps_an_empty_target_usable(tmp_path, small, monkeypatch):
    res = eipsim.run(small, steps=2)
    target = tmp_path / "empty"
    target.mkdir()
    monkeypatch.setattr(pd.DataFrame, "to_parquet", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        output.write_run(res, target)
    assert list(target.iterdir()) == [] and len(list(tmp_path.iterdir())) == 1
    monkeypatch.undo()
    output.write_run(res, target)  # an empty existing folder is accepted
    assert (target / "timeseries.parquet").is_file()


def test_non_empty_out_refused(tmp_path, cli):
    out = tmp_path / "full"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    r = cli("run", SCENARIOS / "baseline.yaml", "--steps", "2", "--out", out)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "not empty" in r.stderr and str(out) in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "precious"


def test_write_run_refuses_non_empty_folder(tmp_path, small):
    res = eipsim.run(small, steps=2)
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(eipsim.UserError, match="not empty"):
        output.write_run(res, tmp_path)


def test_default_out_is_a_new_folder_under_results(tmp_path, capsys, monkeypatch):
    from eipsim.cli.commands import main

    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["run", str(SCENARIOS / "baseline.yaml"), "--steps", "2"]) == 0
    runs = sorted((tmp_path / "results").iterdir())
    assert len(runs) == 2 and all(p.name.startswith("baseline-") for p in runs)
    assert all((p / "summary.json").is_file() for p in runs)
    assert "results written to" in capsys.readouterr().out
