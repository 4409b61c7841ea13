"""The browser app's logic without a browser: seeds, levers, exports, labels, drawing."""

from __future__ import annotations

import math
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from string import Formatter

import pytest

from eipsim.domain.indicators import TIMESERIES_COLUMNS
from eipsim.domain.model import EIPModel
from eipsim.errors import UserError
from eipsim.scenario.catalogue import load_catalogue
from eipsim.scenario.schema import FACILITY_KINDS, load_scenario
from eipsim.viz import i18n
from eipsim.viz.drawing import (
    CHART_SERIES,
    MapStatic,
    NetworkLayout,
    chart_svg,
    link_width,
    network_svg,
    nice_axis,
    park_svg,
    snapshot,
)
from eipsim.viz.levers import (
    SEED_MAX,
    Levers,
    SeedError,
    parse_seed,
    scenario_choices,
    scenario_yaml,
    timeseries_csv,
    timeseries_frame,
)
from eipsim.viz.server import app_env, free_port, is_loopback, solara_args

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
VIZ = ROOT / "eipsim" / "viz"


# --- seed field ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seed"),
    [("", None), ("   ", None), (None, None), ("42", 42), (" 7 ", 7), ("1_000", 1000),
     ("+5", 5), ("0", 0), (str(SEED_MAX), SEED_MAX)],
)  # fmt: skip
def test_seed_accepts_numbers_and_empty(text: str | None, seed: int | None) -> None:
    assert parse_seed(text) == seed


@pytest.mark.parametrize("text", ["abc", "-1", "1.5", "1e3", "0x10", str(SEED_MAX + 1), "4 2"])
def test_seed_rejects_the_rest_with_seed_error(text: str) -> None:
    with pytest.raises(SeedError):
        parse_seed(text)


def test_seed_error_message_is_readable_in_both_languages() -> None:
    for lang in i18n.LANGUAGES:
        msg = i18n.t("seed_error", lang, max=SEED_MAX, text="abc")
        assert "'abc'" in msg and str(SEED_MAX) in msg


# --- levers and exports ------------------------------------------------------------------------


def test_levers_read_back_what_the_scenario_sets() -> None:
    levers, sc = Levers.load(str(BASELINE))
    assert levers.placement == sc.park.placement
    assert levers.platform == sc.operator.platform.enabled
    assert levers.seed_text == str(sc.seed)
    assert levers.scenario(sc).to_yaml_dict() == sc.to_yaml_dict()  # no change without edits


def test_saved_yaml_round_trips_through_load_scenario(tmp_path: Path) -> None:
    levers, base = Levers.load(str(BASELINE))
    changed = levers.with_(
        placement="nationality_clusters",
        platform=True,
        anonymised=True,
        events_per_year=4,
        selectivity=0.5,
        facilities=("wastewater_treatment", "solar_microgrid"),
        landfill_tax=25.0,
        exchange_subsidy=5.0,
        capex_subsidy=0.3,
        brokering_per_year=6,
        trust_same=0.7,
        trust_cross=0.45,
    )
    sc = changed.scenario(base, seed=2024)
    out = tmp_path / "saved.yaml"
    out.write_text(scenario_yaml(sc, note="test"), encoding="utf-8")
    back = load_scenario(out)
    assert back.seed == 2024
    assert back.operator.platform.enabled and back.operator.platform.anonymised
    assert [f.kind for f in back.operator.shared_infrastructure] == list(changed.facilities)
    again = Levers.from_scenario(back, str(out))
    assert again.with_(scenario_path=changed.scenario_path, seed_text=changed.seed_text) == changed
    # everything else is the base scenario's
    d_back, d_sc = back.to_yaml_dict(), sc.to_yaml_dict()
    d_back.pop("description"), d_sc.pop("description")
    assert d_back == d_sc


def test_invalid_lever_values_are_user_errors() -> None:
    levers, base = Levers.load(str(BASELINE))
    with pytest.raises(UserError):
        levers.with_(trust_same=1.5).scenario(base)


def test_scenario_picker_lists_the_repository_scenarios() -> None:
    names = {Path(p).name for p in scenario_choices()}
    assert "baseline.yaml" in names


def test_timeseries_csv_has_one_row_per_month() -> None:
    model = EIPModel(load_scenario(BASELINE))
    for _ in range(4):
        model.step()
    df = timeseries_frame(model)
    assert df["step"].tolist() == [1, 2, 3, 4]
    lines = timeseries_csv(model).splitlines()
    assert len(lines) == 5 and lines[0].startswith("step,")


# --- labels -----------------------------------------------------------------------------------


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(text) if f}


def test_every_label_has_english_and_vietnamese_with_the_same_placeholders() -> None:
    for key, (en, vi) in i18n.LABELS.items():
        assert en.strip() and vi.strip(), key
        assert _fields(en) == _fields(vi), key
    for table in (i18n.KPIS, i18n.FACILITIES):
        for key, (en, vi) in table.items():
            assert en.strip() and vi.strip(), key


def test_every_label_the_app_uses_exists() -> None:
    used = set()
    for path in VIZ.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"""\b(?:t|lab)\(\s*["'](\w+)["']\s*[,)]""", text))
    used |= {f"placement_{p}" for p in ("random", "nationality_clusters", "sector_clusters")}
    used |= {label for series in CHART_SERIES.values() for _, label, _ in series}
    used |= set(CHART_SERIES)
    missing = sorted(k for k in used if k not in i18n.LABELS)
    assert not missing, missing


def test_domain_names_are_translated() -> None:
    cat = load_catalogue()
    assert set(cat.sectors) <= set(i18n.SECTORS_VI)
    assert set(cat.materials) <= set(i18n.MATERIALS_VI)
    assert set(FACILITY_KINDS) <= set(i18n.FACILITIES)
    assert set(TIMESERIES_COLUMNS) <= set(i18n.KPIS)
    criteria = load_scenario(BASELINE).government.assessment.criteria
    assert {c.metric for c in criteria} <= set(i18n.KPIS)


# --- drawing ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_model() -> tuple[EIPModel, object]:
    """A park with the platform and every facility on, a few years in: links to draw."""
    levers, base = Levers.load(str(BASELINE))
    sc = levers.with_(platform=True, facilities=FACILITY_KINDS).scenario(base)
    model = EIPModel(sc)
    for _ in range(30):
        model.step()
    return model, sc


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("mode", ["nationality", "sector"])
def test_map_and_network_are_well_formed_svg(busy_model, lang: str, mode: str) -> None:
    model, sc = busy_model
    snap = snapshot(model)
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), lang)
    svg = park_svg(static, snap, mode, lang)
    root = ET.fromstring(svg)
    firms = root.findall(".//{http://www.w3.org/2000/svg}rect[@data-slot]")
    assert len(firms) == len(snap.firms)
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), lang)
    ET.fromstring(network_svg(layout, snap, static.nat_colours, mode, lang))


def test_tooltip_names_firm_sector_nationality_streams_links_and_trust(busy_model) -> None:
    model, sc = busy_model
    snap = snapshot(model)
    assert snap.links, "the busy park should have links by month 30"
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    root = ET.fromstring(park_svg(static, snap, "nationality", "en"))
    ns = "{http://www.w3.org/2000/svg}"
    linked = {lk.s_slot for lk in snap.links}
    tips = {
        int(r.get("data-slot")): r.find(f"{ns}title").text
        for r in root.iter(f"{ns}rect")
        if r.get("data-slot")
    }
    tip = tips[next(iter(linked))]
    for word in ("Sector:", "Nationality:", "Supplies per month", "Links:", "→ to", "Trust:"):
        assert word in tip, (word, tip)


def test_network_layout_does_not_move_between_months(busy_model) -> None:
    model, sc = busy_model
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), "en")
    before = dict(layout.pos)
    for _ in range(6):
        model.step()
        snap = snapshot(model)
        network_svg(layout, snap, {}, "nationality", "en")
    assert all(layout.pos[uid] == xy for uid, xy in before.items())


def test_charts_are_svg_with_one_hover_band_per_month(busy_model) -> None:
    model, _ = busy_model
    df = timeseries_frame(model)
    for key in CHART_SERIES:
        svg = chart_svg(key, df, "vi", horizon=120, certification=1.0)
        root = ET.fromstring(svg)
        assert root.get("data-points") == str(len(df))


def test_axis_and_width_helpers() -> None:
    assert nice_axis(0) == (1.0, 0.25)
    top, step = nice_axis(21)
    assert top >= 21 and math.isclose(top / step, round(top / step))
    assert link_width(0) == 1.0 and link_width(1e4) > link_width(10)


def test_a_month_redraws_well_under_a_second(busy_model) -> None:
    """Model step plus everything the page redraws (map, network, four charts)."""
    model, sc = busy_model
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), "en")
    t0 = time.perf_counter()
    model.step()
    snap = snapshot(model)
    park_svg(static, snap, "nationality", "en")
    network_svg(layout, snap, static.nat_colours, "nationality", "en")
    df = timeseries_frame(model)
    for key in CHART_SERIES:
        chart_svg(key, df, "en", horizon=120)
    assert time.perf_counter() - t0 < 0.5


# --- server -----------------------------------------------------------------------------------


def test_server_helpers(tmp_path: Path) -> None:
    assert 0 < free_port() < 65536
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    env = app_env(str(BASELINE))
    assert Path(env["EIPSIM_VIZ_SCENARIO"]) == BASELINE.resolve()
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    with pytest.raises(UserError):
        app_env(str(tmp_path / "missing.yaml"))
    args = solara_args("127.0.0.1", 8765)
    assert args[0] == "run" and Path(args[1]).name == "app.py" and "--no-check-version" in args


def test_app_builds_a_model_per_call() -> None:
    pytest.importorskip("solara")
    from eipsim.viz.app import build_run

    levers, base = Levers.load(str(BASELINE))
    a, b = build_run(levers, base), build_run(levers, base)
    assert a.model is not b.model and a.seed == b.seed == base.seed
    r = build_run(levers.with_(seed_text=""), base)  # empty: a random seed, recorded
    assert r.scenario.seed == r.seed
    with pytest.raises(SeedError):
        build_run(levers.with_(seed_text="x"), base)
