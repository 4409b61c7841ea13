"""Patterns as data (issue 9): evaluation against hand-made runs, the file's checks, and the
``eipsim patterns`` command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from eipsim.calibration.patterns import (
    Evaluator,
    RunData,
    count_links,
    distance,
    gap,
    hub_is,
    load_patterns,
    parse_patterns,
    partners,
    replicate_seeds,
    share_formed_by,
    summarise,
)
from eipsim.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ROOT / "calibration" / "patterns.yaml"
SCENARIOS = ROOT / "scenarios"


def links(rows: list[tuple]) -> pd.DataFrame:
    cols = [
        "supplier_id", "user_id", "supplier_name", "user_name", "supplier_sector",
        "user_sector", "material", "status", "tonnes", "formed_step",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


LINKS = links(
    [
        (0, 1, "Plastics recycler A", "Plastic products maker A", "plastics_recycling", "plastic_products", "recycled_pellets", "active", 10.0, 5),
        (2, 1, "Plastics recycler B", "Plastic products maker A", "plastics_recycling", "plastic_products", "recycled_pellets", "ended", 3.0, 20),
        (2, 3, "Plastics recycler B", "Plastic products maker B", "plastics_recycling", "plastic_products", "recycled_pellets", "active", 0.0, 30),
        (4, 0, "Steel mill", "Plastics recycler A", "steel", "plastics_recycling", "waste_heat", "active", 5.0, 100),
        (4, 5, "Steel mill", "Slag cement grinding", "steel", "building_materials", "steel_slag", "active", 5.0, 200),
        (4, 6, "Steel mill", "Chemicals X", "steel", "chemicals", "waste_heat", "active", 5.0, 300),
    ]
)  # fmt: skip


def run(summary: dict | None = None, link_rows: pd.DataFrame | None = None) -> RunData:
    ts = pd.DataFrame({"step": [1, 2, 3], "firms": [10, 11, 12], "facility_users": [0, 1, 3]})
    return RunData(
        summary=summary or {}, timeseries=ts, links=LINKS if link_rows is None else link_rows
    )


def one(spec: dict, base: Path = SCENARIOS):
    data = {"patterns": [{"id": "X", "sentence": "s", "source": "s", "use": "fit", **spec}]}
    return parse_patterns(data, "<test>", base).patterns[0]


def test_registered_functions_by_hand():
    r = run()
    assert count_links(r, supplier="Plastics recycler", user="Plastic products maker") == 2
    assert count_links(r, supplier="Plastics recycler", status="ever") == 3
    assert count_links(r, supplier="Plastics recycler", delivered=True) == 1
    assert count_links(r, material="steel_slag") == 1
    assert count_links(r, supplier_sector="steel", user_sector=["plastics_recycling"]) == 1
    assert partners(r) == 7  # firms 0-6 in active links (2 only through an active one)
    assert hub_is(r, "steel") == 1.0  # the mill has 3 partners, recycler A 2
    assert hub_is(r, "cement") == 0.0
    assert share_formed_by(r, 30) == pytest.approx(3 / 6)
    assert count_links(run(link_rows=links([]))) == 0


def test_expression_over_summary_timeseries_links():
    p = one(
        {
            "scenario": "baseline.yaml",
            "compute": "run.summary.active_links / max(run.summary.firms, 1) * 100 + at(run, 'facility_users', 2)",
            "target": [0, 20],
        }
    )
    assert p.value({"run": run({"active_links": 3, "firms": 50})}) == pytest.approx(6 + 1)


def test_arms_are_compared_seed_by_seed():
    p = one(
        {
            "scenario": "baseline.yaml",
            "arms": {"taxed": {"government.landfill_tax_usd_per_t": 30}, "untaxed": {}},
            "compute": "taxed.summary.links_formed - untaxed.summary.links_formed",
            "target": [1, None],
        }
    )
    assert set(p.arms()) == {"taxed", "untaxed"}
    assert p.arms({"trust.threshold": 0.4})["taxed"] == {
        "trust.threshold": 0.4,
        "government.landfill_tax_usd_per_t": 30,
    }
    v = p.value({"taxed": run({"links_formed": 12}), "untaxed": run({"links_formed": 9})})
    assert v == 3


def test_summary_interval_met_and_distance():
    p = one({"scenario": "baseline.yaml", "compute": "run.summary.x", "target": [1, 3]})
    res = summarise(p, [1.0, 2.0, 3.0, 2.0])
    assert res.value == pytest.approx(2.0)
    # t-interval by hand: sd = 0.8165, se = 0.4082, t(0.975, 3) = 3.1824
    assert res.ci_low == pytest.approx(2 - 3.1824 * 0.40825, abs=1e-3)
    assert res.ci_high == pytest.approx(2 + 3.1824 * 0.40825, abs=1e-3)
    assert res.status == "met" and res.share_in_target == 1.0
    assert summarise(p, [5.0, 5.0]).status == "not met"
    # normalised gap: scale = target width 2
    assert gap(p.spec, 2.0) == 0 and gap(p.spec, 4.0) == pytest.approx(0.5)
    assert gap(p.spec, 0.0) == pytest.approx(0.5) and gap(p.spec, math.nan) == 10.0
    open_p = one(
        {
            "scenario": "baseline.yaml",
            "compute": "run.summary.x",
            "target": [0.05, None],
            "scale": 0.1,
        }
    )
    assert gap(open_p.spec, 0.0) == pytest.approx(0.5) and gap(open_p.spec, 9.0) == 0
    assert distance({"X": 4.0}, [p]) == pytest.approx(0.5)


def test_evaluator_with_hand_made_runs_and_common_seeds():
    calls = []

    def fake(sc, seed, steps):
        calls.append((sc.government.landfill_tax_usd_per_t, seed, steps))
        tax = sc.government.landfill_tax_usd_per_t
        return run({"links_formed": 10 + tax / 10 + seed % 3})

    p = one(
        {
            "scenario": "baseline.yaml",
            "arms": {"taxed": {"government.landfill_tax_usd_per_t": 30}, "untaxed": {}},
            "compute": "taxed.summary.links_formed - untaxed.summary.links_formed",
            "target": [1, None],
        }
    )
    seeds = replicate_seeds(7, 3)
    (res,) = Evaluator(run_fn=fake, steps=12).evaluate([p], seeds)
    assert res.values == [3.0, 3.0, 3.0]  # the seed's noise cancels: same seeds in both arms
    assert res.status == "met" and res.ci_low == res.ci_high == 3.0
    assert sorted({c[1] for c in calls}) == sorted(seeds) and {c[2] for c in calls} == {12}


def test_not_computable_missing_scenario_and_requires_say_so(tmp_path):
    data = {
        "patterns": [
            {"id": "A", "sentence": "s", "source": "s", "use": "validate", "status": "not_computable",
             "reason": "needs an indicator", "target": [1, 2]},
            {"id": "B", "sentence": "s", "source": "s", "use": "validate",
             "scenario": "does_not_exist_yet.yaml", "compute": "run.summary.x", "target": [1, 2]},
            {"id": "C", "sentence": "s", "source": "s", "use": "fit", "scenario": "baseline.yaml",
             "requires": {"market.virgin_price_volatility": "nonzero"}, "compute": "run.summary.x",
             "target": [1, 2]},
        ]
    }  # fmt: skip
    # C needs a lever the baseline leaves off (constant virgin prices)
    ps = parse_patterns(data, "<t>", SCENARIOS)

    def never(*a):
        raise AssertionError("nothing should run")

    res = Evaluator(run_fn=never).evaluate(ps.patterns, [1])
    assert [r.status for r in res] == ["not computable", "skipped", "not computable"]
    assert "needs an indicator" in res[0].message
    assert "does not exist yet" in res[1].message
    assert "market.virgin_price_volatility" in res[2].message
    (c,) = Evaluator(
        {"market.virgin_price_volatility": 0.3}, run_fn=lambda *a: run({"x": 1.5})
    ).evaluate([ps.patterns[2]], [1])
    assert c.status == "met"


def test_a_failing_expression_is_no_value_not_a_pass():
    p = one({"scenario": "baseline.yaml", "compute": "run.summary.nope", "target": [0, 1]})
    (res,) = Evaluator(run_fn=lambda *a: run({"x": 1})).evaluate([p], [1, 2])
    assert res.status == "failed" and res.n == 0


@pytest.mark.parametrize(
    "spec, msg",
    [
        ({"scenario": "baseline.yaml", "compute": "__import__('os')", "target": [0, 1]}, "registered functions"),
        ({"scenario": "baseline.yaml", "compute": "run.summary.__class__", "target": [0, 1]}, "private"),
        ({"scenario": "baseline.yaml", "compute": "lambda: 1", "target": [0, 1]}, "not allowed"),
        ({"scenario": "baseline.yaml", "compute": "run.summary.x +", "target": [0, 1]}, "not a valid expression"),
        ({"scenario": "baseline.yaml", "compute": "other.summary.x", "target": [0, 1]}, "unknown name 'other'"),
        ({"scenario": "baseline.yaml", "compute": {"function": "nope"}, "target": [0, 1]}, "not registered"),
        ({"scenario": "baseline.yaml", "compute": "run.summary.x", "target": [2, 1]}, "above high"),
        ({"scenario": "baseline.yaml", "compute": "run.summary.x", "target": [None, None]}, "low, high"),
        ({"scenario": "baseline.yaml", "compute": "run.summary.x", "target": [0, 1], "overrides": {"trust.nope": 1}}, "unknown scenario key"),
        ({"compute": "run.summary.x", "target": [0, 1]}, "needs a scenario"),
        ({"scenario": "baseline.yaml", "target": [0, 1], "status": "not_computable"}, "needs a reason"),
    ],
)  # fmt: skip
def test_bad_patterns_are_one_message(spec, msg):
    with pytest.raises(UserError, match=msg):
        one(spec)


def test_duplicate_ids_refused():
    p = {
        "id": "A",
        "sentence": "s",
        "source": "s",
        "use": "fit",
        "status": "not_computable",
        "reason": "r",
        "target": [0, 1],
    }
    with pytest.raises(UserError, match="used twice"):
        parse_patterns({"patterns": [p, p]}, "<t>", SCENARIOS)


def test_shipped_pattern_file_loads_and_quantifies_the_issue():
    ps = load_patterns(PATTERNS)
    ids = {p.id for p in ps.patterns}
    for need in ("P1_links", "P2_certified", "P3_shared_use", "P4_tax", "P4_subsidy", "P5_below_mass",
                 "P6_enforced", "P7_exchanges", "P7_hub", "NCK_pellets", "NCK_steel", "DC_firms",
                 "DC_recp_screened", "DC_workshop", "DC_solar"):  # fmt: skip
        assert need in ids
    assert {p.spec.use for p in ps.patterns} == {"fit", "validate"}
    assert all(p.spec.use == "validate" for p in ps.patterns if p.id.startswith("P7"))
    assert [p.id for p in ps.for_scenario(SCENARIOS / "nam_cau_kien.yaml")] == [
        "NCK_pellets", "NCK_residue", "NCK_steel",
    ]  # fmt: skip


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "eipsim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_patterns_command_writes_json_and_markdown(tmp_path):
    """Production coupling switched off: NCK_pellets (pellets exist only with coupling) is
    reported not computable rather than passing silently; the others are computed."""
    out = tmp_path / "p"
    r = cli(
        "patterns",
        "scenarios/nam_cau_kien.yaml",
        "--seeds",
        "2",
        "--steps",
        "12",
        "--set",
        "firms.production_coupling=false",
        "--out",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert "NCK_steel" in r.stdout and "not computable" in r.stdout  # pellets need coupling
    data = json.loads((out / "patterns.json").read_text())
    assert [x["id"] for x in data["results"]] == ["NCK_pellets", "NCK_residue", "NCK_steel"]
    status = {x["id"]: x["status"] for x in data["results"]}
    assert status["NCK_pellets"] == "not computable"
    assert status["NCK_steel"] in ("met", "not met")  # computed
    assert len(data["seeds"]) == 2
    assert "| NCK_steel |" in (out / "patterns.md").read_text()
    assert not list(out.glob(".*.tmp"))


@pytest.mark.parametrize(
    "args, msg",
    [
        (("patterns", "scenarios/nope.yaml"), "not found"),
        (("patterns", "scenarios/baseline.yaml", "--patterns", "nope.yaml"), "not found"),
        (("patterns", "scenarios/baseline.yaml", "--set", "trust.nope=1", "--steps", "2"), "unknown scenario key"),
        (("patterns", "scenarios/baseline.yaml", "--pattern", "P99"), "unknown pattern"),
        (("patterns", "scenarios/baseline.yaml", "--pattern", "NCK_steel"), "not to"),
        (("patterns", "scenarios/baseline.yaml", "--seeds", "0"), "expected a whole number"),
    ],
)  # fmt: skip
def test_patterns_command_bad_input_exits_2(args, msg, capsys, monkeypatch):
    from eipsim.cli.commands import main

    monkeypatch.chdir(ROOT)
    try:
        rc = main(list(args))
    except SystemExit as e:  # argparse's own errors
        rc = e.code
    err = capsys.readouterr().err
    assert rc == 2, err
    assert msg in err and "Traceback" not in err
