"""Experiment files: validation and the bad inputs that must give one readable message."""

from __future__ import annotations

import sys

import pytest

from eipsim.cli import experiments as xcli
from eipsim.errors import UserError
from eipsim.experiments.framework.runner import run_sweep
from eipsim.experiments.framework.spec import load_experiment
from eipsim.experiments.framework.testing import FAKE_ADAPTER, write_experiment


def _load(tmp_path, **fields):
    return load_experiment(write_experiment(tmp_path / "exp.yaml", **fields), adapter=FAKE_ADAPTER)


def test_valid_experiment_resolves(tmp_path):
    res = _load(tmp_path)
    assert res.base.firms.count == 20
    assert res.steps == 6
    assert len(res.hash) == 16


def test_unknown_experiment_key_is_named_with_suggestion(tmp_path):
    with pytest.raises(UserError, match=r"replicatse: unknown key; did you mean replicates"):
        _load(tmp_path, replicatse=3)


def test_unknown_scenario_key_in_design_is_named(tmp_path):
    design = {"kind": "grid", "factors": {"government.landfill_tax_usd": [0, 10]}}
    with pytest.raises(UserError) as e:
        _load(tmp_path, design=design)
    msg = str(e.value)
    assert "government.landfill_tax_usd" in msg
    assert "did you mean government.landfill_tax_usd_per_t" in msg


def test_unknown_scenario_key_in_overrides_and_parameters(tmp_path):
    with pytest.raises(UserError, match="firms.cuont"):
        _load(tmp_path, overrides={"firms.cuont": 20})
    design = {"kind": "lhs", "samples": 4, "parameters": {"trust.nope": {"low": 0, "high": 1}}}
    with pytest.raises(UserError, match=r"design.parameters: unknown scenario key 'trust.nope'"):
        _load(tmp_path, design=design)
    design = {"kind": "packages", "packages": {"p": {"operator.platfrom.enabled": True}}}
    with pytest.raises(UserError, match="operator.platfrom.enabled"):
        _load(tmp_path, design=design)


def test_invalid_value_for_a_key_is_caught_before_running(tmp_path):
    design = {"kind": "grid", "factors": {"park.placement": ["random", "by_colour"]}}
    with pytest.raises(UserError, match=r"design.factors.park.placement.*park.placement"):
        _load(tmp_path, design=design)


def test_range_low_above_high(tmp_path):
    design = {
        "kind": "lhs",
        "samples": 4,
        "parameters": {"government.landfill_tax_usd_per_t": {"low": 30, "high": 10}},
    }
    with pytest.raises(UserError, match="low bound 30.0 is above its high bound 10.0"):
        _load(tmp_path, design=design)


def test_sobol_n_not_power_of_two_is_rounded_up_with_a_note(tmp_path):
    design = {
        "kind": "sobol",
        "samples": 20,
        "parameters": {"government.landfill_tax_usd_per_t": {"low": 0, "high": 10}},
    }
    res = _load(tmp_path, design=design)
    assert res.spec.design.samples == 32
    assert any("not a power of 2" in n and "32" in n for n in res.notes)


@pytest.mark.parametrize(
    "design, message",
    [
        ({"kind": "grid"}, "needs factors or packages"),
        ({"kind": "sobol", "parameters": {"trust.threshold": {"low": 0, "high": 1}}}, "samples"),
        (
            {
                "kind": "sobol",
                "samples": 8,
                "packages": {"a": {}},
                "parameters": {"trust.threshold": {"low": 0, "high": 1}},
            },
            "cannot be crossed with packages",
        ),
        (
            {
                "kind": "fast",
                "samples": 10,
                "parameters": {"trust.threshold": {"low": 0, "high": 1}},
            },
            "fast needs samples > 4",
        ),
        (
            {"kind": "lhs", "samples": 4, "parameters": {"trust.threshold": {"dist": "norm"}}},
            "needs mean, sd",
        ),
        (
            {
                "kind": "grid",
                "packages": {"tax": {"government.landfill_tax_usd_per_t": 5}},
                "factors": {"government.landfill_tax_usd_per_t": [0, 1]},
            },
            "also varies",
        ),
    ],
)
def test_design_rules(tmp_path, design, message):
    with pytest.raises(UserError, match=message):
        _load(tmp_path, design=design)


def test_missing_scenario_and_malformed_yaml(tmp_path):
    with pytest.raises(UserError, match="file not found"):
        _load(tmp_path, scenario="nowhere.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndesign: [unclosed\n")
    with pytest.raises(UserError, match="malformed YAML"):
        load_experiment(bad)


def test_cli_bad_input_exit_code_2(tmp_path, capsys):
    path = write_experiment(tmp_path / "e.yaml", replicatse=2)
    assert xcli.main(["sweep", str(path), "--adapter", FAKE_ADAPTER, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "replicatse" in err
    assert err.count("\n") == 1


def test_main_cli_registers_the_commands(tmp_path, capsys):
    from eipsim.cli import commands as cli

    path = write_experiment(tmp_path / "e.yaml", design={"kind": "grid", "factors": {"x.y": [1]}})
    assert cli.main(["sweep", str(path), "--quiet"]) == 2
    assert "unknown scenario key 'x.y'" in capsys.readouterr().err


def test_folder_with_a_different_experiment_is_refused(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(_load(tmp_path), out, workers=1, progress=False)
    other = _load(tmp_path, seed=12)
    with pytest.raises(UserError, match="different experiment"):
        run_sweep(other, out, workers=1, progress=False)


def test_non_sweep_folder_and_resume_nothing(tmp_path):
    res = _load(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x.txt").write_text("mine")
    with pytest.raises(UserError, match="not a sweep folder"):
        run_sweep(res, tmp_path / "busy", workers=1, progress=False)
    with pytest.raises(UserError, match="nothing to resume"):
        run_sweep(res, tmp_path / "new", workers=1, progress=False, resume=True)


def test_scheduler_needs_dask_backend(tmp_path, capsys):
    path = write_experiment(tmp_path / "e.yaml")
    argv = ["sweep", str(path), "--scheduler", "tcp://x:1", "--adapter", FAKE_ADAPTER]
    assert xcli.main(argv) == 2
    assert "--scheduler needs --backend dask" in capsys.readouterr().err


def test_dask_missing_gives_install_hint(tmp_path, monkeypatch):
    from eipsim.experiments.framework.backends import make_backend

    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(UserError, match=r"pip install 'eipsim\[cluster\]'"):
        make_backend("dask")
