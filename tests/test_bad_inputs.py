"""Bad input gets one readable message naming the file and the key or row, exit code 2, and
no traceback: on the command line (a fresh interpreter) and through the Python API."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from conftest import SCENARIOS

import eipsim
from eipsim.cli.commands import main
from eipsim.errors import UserError

BASE = yaml.safe_load((SCENARIOS / "baseline.yaml").read_text(encoding="utf-8"))
ROSTER_OK = "name,sector,nationality,size,plot\nMill,steel,JP,1.5,3\n"


def variant(tmp_path: Path, edit=None, text: str | None = None, name="bad.yaml") -> Path:
    """Write a scenario file: the baseline edited by ``edit(data)``, or raw ``text``."""
    path = tmp_path / name
    if text is None:
        data = copy.deepcopy(BASE)
        if edit:
            edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def set_key(dotted: str, value):
    def edit(d):
        node = d
        *head, last = dotted.split(".")
        for k in head:
            node = node.setdefault(k, {})
        node[last] = value

    return edit


def rename_key(section: str, old: str, new: str):
    def edit(d):
        d[section][new] = d[section].pop(old)

    return edit


# name -> (how to make the file, fragments the message must contain)
FILE_CASES = {
    "malformed_yaml": (
        {"text": "name: x\nfirms: [a, b\nsteps: 3\n"},
        ["bad.yaml", "malformed YAML", "line"],
    ),
    "wrong_type": (
        {"edit": set_key("firms.count", "many")},
        ["bad.yaml", "firms.count", "integer", "'many'"],
    ),
    "unknown_key_suggests": (
        {"edit": rename_key("operator", "tenant_selectivity", "tenant_selectivty")},
        ["bad.yaml", "operator.tenant_selectivty", "unknown key", "operator.tenant_selectivity"],
    ),
    "mix_not_summing_to_one": (
        {"edit": set_key("firms.nationality_mix", {"VN": 0.5, "JP": 0.6})},
        ["bad.yaml", "firms.nationality_mix", "sum to 1", "1.1"],
    ),
    "negative_landfill_tax": (
        {"edit": set_key("government.landfill_tax_usd_per_t", -5)},
        ["bad.yaml", "government.landfill_tax_usd_per_t", "greater than or equal to 0", "-5"],
    ),
    "negative_transport_cost": (
        {"edit": set_key("costs.transport_usd_per_t_km", -0.1)},
        ["bad.yaml", "costs.transport_usd_per_t_km", "greater than or equal to 0"],
    ),
    "unknown_sector_in_mix": (
        {"edit": set_key("firms.sector_mix", {"steal": 1.0})},
        ["bad.yaml", "firms.sector_mix", "unknown sector 'steal'", "steel"],
    ),
    "missing_required_key": (
        {"edit": lambda d: d.pop("firms")},
        ["bad.yaml", "firms", "required key is missing"],
    ),
    "not_a_mapping": ({"text": "- a\n- b\n"}, ["bad.yaml", "YAML mapping"]),
    "empty_file": ({"text": ""}, ["bad.yaml", "YAML mapping"]),
    "unknown_material_standard": (
        {"edit": set_key("government.reuse_standards", ["unobtainium"])},
        ["bad.yaml", "government.reuse_standards", "unknown material 'unobtainium'"],
    ),
    "unknown_facility": (
        {"edit": set_key("operator.shared_infrastructure", ["fusion_reactor"])},
        ["bad.yaml", "operator.shared_infrastructure", "wastewater_treatment"],
    ),
    "share_above_one": (
        {"edit": set_key("government.capex_subsidy_share", 1.5)},
        ["bad.yaml", "government.capex_subsidy_share", "less than or equal to 1"],
    ),
    "confidentiality_for_absent_nationality": (
        {"edit": set_key("firms.confidentiality_by_nationality", {"XX": 0.5})},
        ["bad.yaml", "firms.confidentiality_by_nationality.XX", "not in firms.nationality_mix"],
    ),
}

# name -> (roster CSV text, fragments; "ROSTER" stands for the CSV's path)
ROSTER_CASES = {
    "roster_missing_column": (
        "name,sector,nationality,plot\nMill,steel,JP,3\n",
        ["ROSTER", "missing column", "size"],
    ),
    "roster_unknown_sector": (
        ROSTER_OK + "Oops,steal,VN,1.0,4\n",
        ["ROSTER", "row 3", "unknown sector 'steal'"],
    ),
    "roster_bad_size": (ROSTER_OK + "Tiny,steel,VN,-1,4\n", ["ROSTER", "row 3", "size", "> 0"]),
    "roster_plot_twice": (ROSTER_OK + "Twin,steel,VN,1,3\n", ["ROSTER", "row 3", "plot 3"]),
    "roster_plot_outside": (ROSTER_OK + "Far,steel,VN,1,99999\n", ["ROSTER", "row 3", "99999"]),
    "roster_missing_file": (None, ["bad.yaml", "firms.roster", "not found"]),
}


def make_case(tmp_path: Path, name: str) -> tuple[Path, list[str]]:
    if name in FILE_CASES:
        how, frags = FILE_CASES[name]
        return variant(tmp_path, **how), frags
    csv_text, frags = ROSTER_CASES[name]
    roster = tmp_path / "roster.csv"
    if csv_text is not None:
        roster.write_text(csv_text, encoding="utf-8")
    path = variant(tmp_path, set_key("firms.roster", "roster.csv"))
    return path, [str(roster) if f == "ROSTER" else f for f in frags]


ALL_CASES = [*FILE_CASES, *ROSTER_CASES]
# the list: `eipsim run` in a fresh interpreter; the rest in-process through cli.main
SUBPROCESS_CASES = {
    "malformed_yaml",
    "wrong_type",
    "unknown_key_suggests",
    "mix_not_summing_to_one",
    "negative_landfill_tax",
    "roster_missing_column",
    "roster_unknown_sector",
}


def assert_one_clear_message(stderr: str, frags: list[str]) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert 1 <= len(lines) <= 2, stderr
    assert lines[0].startswith("error: ")
    for f in frags:
        assert f in stderr, f"{f!r} not in {stderr!r}"


@pytest.mark.parametrize("name", ALL_CASES)
def test_api_raises_user_error(tmp_path, name):
    path, frags = make_case(tmp_path, name)
    with pytest.raises(UserError) as err:
        eipsim.load_scenario(path)
    for f in frags:
        assert f in str(err.value)


@pytest.mark.parametrize("name", ALL_CASES)
def test_cli_validate_and_run_refuse(tmp_path, cli, capsys, name):
    path, frags = make_case(tmp_path, name)
    out = tmp_path / "out"
    assert main(["validate", str(path)]) == 2
    assert_one_clear_message(capsys.readouterr().err, frags)
    if name in SUBPROCESS_CASES:
        r = cli("run", path, "--steps", "2", "--out", out, cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert_one_clear_message(r.stderr, frags)
    else:
        assert main(["run", str(path), "--steps", "2", "--out", str(out)]) == 2
        assert_one_clear_message(capsys.readouterr().err, frags)
    assert not out.exists()  # nothing written


def test_unknown_set_key_suggests(cli):
    r = cli("validate", SCENARIOS / "baseline.yaml", "--set", "government.landfil_tax=3")
    assert r.returncode == 2
    assert_one_clear_message(
        r.stderr, ["'government.landfil_tax'", "did you mean government.landfill_tax_usd_per_t"]
    )


@pytest.mark.parametrize(
    ("setting", "frags"),
    [
        ("firms.count=abc", ["baseline.yaml", "firms.count", "'abc'"]),
        ("government.landfill_tax_usd_per_t=-1", ["government.landfill_tax_usd_per_t"]),
        ("firms.sector_mix.steel=0.5", ["firms.sector_mix", "sum to 1"]),
        ("novalue", ["--set 'novalue'", "KEY=VALUE"]),
    ],
)
def test_bad_set_values(capsys, setting, frags):
    assert main(["validate", str(SCENARIOS / "baseline.yaml"), "--set", setting]) == 2
    assert_one_clear_message(capsys.readouterr().err, frags)


@pytest.mark.parametrize("steps", ["abc", "0", "-3", "1.5"])
def test_bad_steps(cli, tmp_path, steps):
    r = cli("run", SCENARIOS / "baseline.yaml", "--steps", steps, "--out", tmp_path / "o")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert "--steps" in last and "expected" in last
    assert not (tmp_path / "o").exists()


def test_bad_seed(capsys, tmp_path):
    with pytest.raises(SystemExit) as ex:
        main(["run", str(SCENARIOS / "baseline.yaml"), "--seed", "-1", "--out", str(tmp_path)])
    assert ex.value.code == 2
    assert "--seed" in capsys.readouterr().err


def test_missing_scenario_file(cli, tmp_path):
    r = cli("validate", tmp_path / "nope.yaml")
    assert r.returncode == 2
    assert_one_clear_message(r.stderr, ["nope.yaml", "not found"])


def test_non_utf8_file(tmp_path, capsys):
    p = tmp_path / "latin1.yaml"
    p.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert main(["validate", str(p)]) == 2
    assert_one_clear_message(capsys.readouterr().err, ["latin1.yaml", "UTF-8"])


def test_api_overrides_unknown_key(baseline):
    with pytest.raises(UserError, match=r"did you mean firms\.count"):
        baseline.with_overrides({"firms.cout": 3})
    with pytest.raises(UserError, match="government.landfill_tax_usd_per_t"):
        baseline.with_overrides({"government.landfill_tax_usd_per_t": -2})


def test_roster_larger_than_count(tmp_path):
    rows = "".join(f"F{i},steel,VN,1,{i}\n" for i in range(5))
    (tmp_path / "roster.csv").write_text("name,sector,nationality,size,plot\n" + rows)
    path = variant(tmp_path, lambda d: d["firms"].update({"roster": "roster.csv", "count": 3}))
    with pytest.raises(UserError, match=r"firms\.count = 3 is smaller than the roster"):
        eipsim.load_scenario(path)


@pytest.mark.parametrize(("kw", "frag"), [({"steps": 0}, "steps"), ({"seed": -1}, "seed")])
def test_api_run_bad_steps_or_seed(small, kw, frag):
    with pytest.raises(UserError, match=frag):
        eipsim.run(small, **kw)
