"""A scenario's own materials and sectors (issue 9, item 4): added to the package catalogue
(or replacing it) for that scenario only, validated with messages naming the file and the
key, used by the schema's name checks, the roster and the model, and written back by
``to_yaml_dict`` so that a results folder's scenario.yaml re-runs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import SCENARIOS

import eipsim
from eipsim.errors import UserError
from eipsim.scenario.catalogue import (
    MaterialEntry,
    SectorEntry,
    _package_raw,
    catalogue_names,
    load_catalogue,
)
from eipsim.scenario.schema import load_scenario, scenario_from_dict

STEAM: dict[str, Any] = {
    "unit": "MWh",
    "disposal_usd": 0,
    "virgin_price_usd": 45,
    "substitution_ratio": 0.9,
    "treatment_usd": 2,
    "transport_factor": 0.0,
    "piped": True,
    "needs_standard": False,
    "permit_cost_usd": 0,
    "permit_delay_months": 0,
    "permit_refusal_prob": 0.0,
    "needs_cost_disclosure": False,
    "co2_t_per_unit": 0.3,
    "variability": 0.1,
    "product": False,
    "landfill_co2e_t_per_t": 0.0,
}
RECP = {"capex_usd": 10000, "saving_usd_per_month": 300, "waste_reduction": 0.05}
SECTORS: dict[str, Any] = {
    "boiler_house": {
        "label": "Boiler house",
        "supplies": {"steam": 3000},
        "demands": {},
        "recp": RECP,
    },
    "dairy": {"label": "Dairy", "supplies": {"organic_waste": 20}, "demands": {"steam": 2000}, "recp": RECP},
}  # fmt: skip


def own_scenario(**extra: Any) -> dict[str, Any]:
    """A small park of a boiler house and dairies trading steam, a material of its own."""
    d: dict[str, Any] = {
        "name": "own_catalogue",
        "steps": 24,
        "seed": 3,
        "firms": {
            "count": 8,
            "sector_mix": {"boiler_house": 0.5, "dairy": 0.5},
            "nationality_mix": {"DK": 1.0},
            "confidentiality_default": 0.1,
            "confidentiality_spread": 0.0,
            "search_probability": 0.5,
        },
        "trust": {"initial_same_nationality": 0.8, "acquaintance_same_nationality": 1.0},
        "materials": {"steam": copy.deepcopy(STEAM)},
        "sectors": copy.deepcopy(SECTORS),
    }
    d.update(extra)
    return d


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(UserError) as err:
        scenario_from_dict(data, source="own.yaml")
    return str(err.value)


# -- the catalogue -----------------------------------------------------------------------------
def test_without_own_entries_the_package_catalogue_is_used(baseline):
    assert baseline.catalogue() is load_catalogue()
    d = baseline.to_yaml_dict()
    assert not {"materials", "sectors", "replace_catalogue"} & set(d)


def test_own_entries_are_added_after_the_package_ones():
    sc = scenario_from_dict(own_scenario())
    cat, pkg = sc.catalogue(), load_catalogue()
    assert cat.materials == (*pkg.materials, "steam")
    assert cat.sectors == (*pkg.sectors, "boiler_house", "dairy")
    assert sc.catalogue() is cat  # cached per scenario object
    m, s = cat.material_index("steam"), cat.sector_index("boiler_house")
    assert cat.supply[s, m] == 3000 and cat.mat["virgin_price_usd"][m] == 45
    assert cat.is_energy[m] and cat.piped[m]
    assert cat.sector_labels["dairy"] == "Dairy"
    # package columns of package materials are untouched, and the global catalogue too
    k = pkg.material_index("fly_ash")
    assert cat.mat["virgin_price_usd"][k] == pkg.mat["virgin_price_usd"][k]
    assert "steam" not in load_catalogue().materials
    assert catalogue_names() == (pkg.materials, pkg.sectors)  # outside validation


def test_an_entry_with_a_package_name_replaces_that_entry_in_place():
    fly = dict(STEAM, unit="t", piped=False, virgin_price_usd=99.0, transport_factor=1.0)
    sc = scenario_from_dict(own_scenario(materials={"steam": STEAM, "fly_ash": fly}))
    cat, pkg = sc.catalogue(), load_catalogue()
    k = pkg.material_index("fly_ash")
    assert cat.material_index("fly_ash") == k
    assert cat.mat["virgin_price_usd"][k] == 99.0 != pkg.mat["virgin_price_usd"][k]


def own_only(**extra: Any) -> dict[str, Any]:
    """The park with nothing of the package's catalogue."""
    d = own_scenario(replace_catalogue=True, **extra)
    if isinstance(d.get("sectors"), dict) and "dairy" in d["sectors"]:
        d["sectors"]["dairy"]["supplies"] = {}
    return d


def test_replace_catalogue_keeps_only_the_scenario_entries():
    sc = scenario_from_dict(own_only())
    assert sc.catalogue().materials == ("steam",)
    assert sc.catalogue().sectors == ("boiler_house", "dairy")
    res = eipsim.run(sc, steps=6)
    assert len(res.timeseries) == 6
    # a package sector or material is then unknown, named where it is used
    d = own_only()
    d["firms"]["sector_mix"] = {"boiler_house": 0.5, "steel": 0.5}
    assert "firms.sector_mix: unknown sector 'steel'" in error_of(d)
    d = own_only()
    d["sectors"]["dairy"]["supplies"] = {"organic_waste": 20}
    assert "sectors.dairy.supplies: unknown material 'organic_waste'" in error_of(d)
    d = own_only()
    d["operator"] = {"shared_infrastructure": ["steam_network"]}
    assert "operator.shared_infrastructure.0.kind" in error_of(d)
    d = own_only(materials={}, sectors={})
    assert (
        "firms.sector_mix: unknown sector 'boiler_house'; known sectors: \n" in error_of(d) + "\n"
    )


def test_own_sector_with_a_transform():
    acid = dict(STEAM, unit="t", piped=False, product=True, transport_factor=1.0)
    d = own_scenario()
    d["materials"]["acid"] = acid
    d["sectors"]["acid_maker"] = {
        "supplies": {"acid": 300},
        "demands": {"steam": 100},
        "transforms": {"input": "steam", "output": "acid", "yield": 3.0},
        "recp": RECP,
    }
    cat = scenario_from_dict(d).catalogue()
    k = cat.sector_index("acid_maker")
    assert cat.transform_in[k] == cat.material_index("steam")
    assert cat.transform_out[k] == cat.material_index("acid")
    assert cat.transform_yield[k] == 3.0 and cat.transform_residue[k] == -1
    assert cat.sector_labels["acid_maker"] == "acid_maker"  # no label: the name


def test_the_package_entries_pass_the_entry_models():
    mats, secs, _, _ = _package_raw()
    for v in mats.values():
        MaterialEntry.model_validate(v)
    for v in secs.values():
        SectorEntry.model_validate(v)
    assert set(MaterialEntry.model_fields) == set(load_catalogue().mat)


# -- the model uses it ---------------------------------------------------------------------------
def test_own_material_flows_through_links():
    sc = scenario_from_dict(own_scenario())
    res = eipsim.run(sc)
    steam = res.links[res.links["material"] == "steam"]
    assert len(steam) > 0
    assert set(steam["supplier_sector"]) == {"boiler_house"}
    assert set(steam["user_sector"]) == {"dairy"}
    assert steam["tonnes"].sum() > 0
    # energy stays out of the tonnage balance: only the dairies' organic waste is generated
    assert res.timeseries["waste_generated_t"].gt(0).all()


def test_reuse_standard_on_an_own_material():
    sc = scenario_from_dict(own_scenario(government={"reuse_standards": ["steam"]}))
    assert sc.government.reuse_standards[0].material == "steam"
    assert "unknown material 'stem'" in error_of(
        own_scenario(government={"reuse_standards": ["stem"]})
    )


def test_roster_with_own_sectors(tmp_path: Path):
    (tmp_path / "roster.csv").write_text(
        "name,sector,nationality,size,plot\nBoiler,boiler_house,DK,1,0\nDairy A,dairy,DK,1,1\n",
        encoding="utf-8",
    )
    d = own_scenario()
    d["firms"]["roster"] = "roster.csv"
    sc = scenario_from_dict(d, source="own.yaml", source_dir=tmp_path)
    assert [r["sector"] for r in sc.load_roster()] == ["boiler_house", "dairy"]
    (tmp_path / "roster.csv").write_text(
        "name,sector,nationality,size\nX,boiler_hose,DK,1\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match="row 2: unknown sector 'boiler_hose'"):
        scenario_from_dict(d, source="own.yaml", source_dir=tmp_path)


# -- writing it back ------------------------------------------------------------------------------
def test_to_yaml_dict_round_trips_and_a_results_folder_reruns(tmp_path: Path):
    from eipsim.runs.output import write_run

    sc = scenario_from_dict(own_scenario(steps=6))
    d = sc.to_yaml_dict()
    assert d["materials"]["steam"]["unit"] == "MWh"
    again = scenario_from_dict(yaml.safe_load(yaml.safe_dump(d)), source="again")
    assert again.to_yaml_dict() == d
    for k, v in sc.catalogue().mat.items():
        assert np.array_equal(again.catalogue().mat[k], v), k
    assert np.array_equal(again.catalogue().supply, sc.catalogue().supply)
    res = eipsim.run(sc)
    out = write_run(res, tmp_path / "run")
    rerun = eipsim.run(load_scenario(out / "scenario.yaml"))
    assert rerun.summary.keys() == res.summary.keys()
    for k, v in res.summary.items():
        assert v == rerun.summary[k] or (v != v and rerun.summary[k] != rerun.summary[k]), k


def test_with_overrides_keeps_the_own_catalogue():
    sc = scenario_from_dict(own_scenario()).with_overrides({"firms.count": 6})
    assert "steam" in sc.catalogue().materials and sc.firms.count == 6


# -- bad entries: one readable line each, naming the file and the key ------------------------------
def test_missing_column_is_named():
    d = own_scenario()
    del d["materials"]["steam"]["virgin_price_usd"]
    assert error_of(d) == "own.yaml: materials.steam.virgin_price_usd: required key is missing"


def test_misspelt_column_gets_a_suggestion():
    d = own_scenario()
    d["materials"]["steam"]["varability"] = d["materials"]["steam"].pop("variability")
    msg = error_of(d)
    assert "own.yaml: materials.steam.varability: unknown key; did you mean " in msg
    assert "materials.steam.variability" in msg
    assert "own.yaml: materials.steam.variability: required key is missing" in msg


@pytest.mark.parametrize(
    ("where", "value", "expect"),
    [
        (("materials", "steam", "unit"), "kg", "materials.steam.unit: Input should be 't' or 'MWh'"),
        (("materials", "steam", "piped"), "yes please", "materials.steam.piped: Input should be a valid boolean"),
        (("materials", "steam", "virgin_price_usd"), True, "materials.steam.virgin_price_usd: expected a number"),
        (("materials", "steam", "permit_refusal_prob"), 1.5, "materials.steam.permit_refusal_prob: Input should be less than or equal to 1"),
        (("materials", "steam", "variability"), float("nan"), "materials.steam.variability: Input should be a finite number"),
        (("materials", "steam"), 3, "materials.steam: Input should be a valid dictionary"),
        (("sectors", "dairy", "demands"), {"stem": 5}, "sectors.dairy.demands: unknown material 'stem'"),
        (("sectors", "dairy", "demands"), {"steam": -5}, "sectors.dairy.demands.steam: Input should be greater than or equal to 0"),
        (("sectors", "dairy", "recp"), None, "sectors.dairy.recp: Input should be a valid dictionary"),
        (("sectors", "dairy", "transforms"), {"input": "steam", "output": "gold", "yield": 1}, "sectors.dairy.transforms.output: unknown material 'gold'"),
        (("sectors", "dairy", "colour"), "red", "sectors.dairy.colour: unknown key"),
    ],
)  # fmt: skip
def test_bad_entries_give_one_readable_line(where, value, expect):
    d = own_scenario()
    node = d
    for k in where[:-1]:
        node = node[k]
    node[where[-1]] = value
    msg = error_of(d)
    assert f"own.yaml: {expect}" in msg
    assert len(msg.splitlines()) == 1, msg
    assert "Traceback" not in msg


@pytest.mark.parametrize("junk", [5, "steam", [1, 2], None, {1: {}}])
def test_sections_of_the_wrong_shape(junk):
    d = own_scenario(materials=junk)
    msg = error_of(d)
    assert msg.startswith("own.yaml: ")


def test_unknown_own_sector_in_the_mix():
    d = own_scenario()
    d["firms"]["sector_mix"] = {"boiler_house": 0.5, "diary": 0.5}
    msg = error_of(d)
    assert msg.startswith("own.yaml: firms.sector_mix: unknown sector 'diary'")
    assert "dairy" in msg


def test_cli_validate_exits_2_with_the_message(cli, tmp_path: Path):
    d = own_scenario()
    del d["materials"]["steam"]["virgin_price_usd"]
    p = tmp_path / "own.yaml"
    p.write_text(yaml.safe_dump(d), encoding="utf-8")
    r = cli("validate", p)
    assert r.returncode == 2
    assert "materials.steam.virgin_price_usd: required key is missing" in r.stderr
    assert "Traceback" not in r.stderr
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(own_scenario()), encoding="utf-8")
    assert cli("validate", good).returncode == 0


def test_kalundborg_file_uses_its_own_entries():
    sc = load_scenario(SCENARIOS / "kalundborg.yaml")
    assert "steam" in sc.materials and "power_station" in sc.sectors


def test_dotted_overrides_reach_own_entries():
    sc = scenario_from_dict(own_scenario())
    sc2 = sc.with_overrides(
        {"materials.steam.virgin_price_usd": 60, "sectors.dairy.demands.steam": 500}
    )
    cat = sc2.catalogue()
    assert cat.mat["virgin_price_usd"][cat.material_index("steam")] == 60
    assert cat.demand[cat.sector_index("dairy"), cat.material_index("steam")] == 500
    assert sc.catalogue().mat["virgin_price_usd"][cat.material_index("steam")] == 45
    with pytest.raises(UserError, match="did you mean materials.steam.virgin_price_usd"):
        sc.with_overrides({"materials.steam.virgin_price": 60})
    with pytest.raises(UserError, match="materials.steam.virgin_price_usd: Input should be"):
        sc.with_overrides({"materials.steam.virgin_price_usd": -1})
