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
    Layer,
    MapStatic,
    Marker,
    NetworkLayout,
    axis_range,
    chart_svg,
    link_width,
    network_svg,
    nice_axis,
    park_svg,
    snapshot,
)
from eipsim.viz.levers import (
    BY_KEY,
    LEVERS,
    SEED_MAX,
    Levers,
    SeedError,
    levers_from_query,
    parse_seed,
    run_header,
    scenario_choices,
    scenario_yaml,
    timeseries_csv,
    timeseries_frame,
)
from eipsim.viz.panels import DEFAULT_PANELS, Indicator, panel_table, schedule_markers
from eipsim.viz.server import app_env, check_port, free_port, is_loopback, solara_args

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
    assert levers["park.placement"] == sc.park.placement
    assert levers["operator.platform.enabled"] == sc.operator.platform.enabled
    assert levers.seed_text == str(sc.seed)
    assert levers.scenario(sc).to_yaml_dict() == sc.to_yaml_dict()  # no change without edits


def test_saved_yaml_round_trips_through_load_scenario(tmp_path: Path) -> None:
    levers, base = Levers.load(str(BASELINE))
    changed = levers
    for key, value in {
        "park.placement": "nationality_clusters",
        "operator.platform.enabled": True,
        "operator.platform.launch_step": 6,
        "operator.platform.anonymised": True,
        "operator.matchmaking_events_per_year": 4,
        "operator.tenant_selectivity": 0.5,
        "operator.shared_infrastructure": (("wastewater_treatment", 0), ("solar_microgrid", 12)),
        "government.landfill_tax_usd_per_t": 25.5,
        "government.carbon_price_usd_per_t_co2": 30.0,
        "government.exchange_subsidy_usd_per_t": 5.0,
        "government.capex_subsidy_share": 0.3,
        "government.brokering_per_year": 6,
        "government.reuse_standards": (("treated_wastewater", 36),),
        "trust.initial_same_nationality": 0.7,
        "trust.initial_cross_nationality": 0.45,
    }.items():
        changed = changed.with_(key, value)
    assert set(changed.changed(levers)) == {lv.key for lv in LEVERS}
    sc = changed.scenario(base, seed=2024)
    out = tmp_path / "saved.yaml"
    out.write_text(scenario_yaml(sc, note="test"), encoding="utf-8")
    back = load_scenario(out)
    assert back.seed == 2024
    assert back.operator.platform.enabled and back.operator.platform.anonymised
    assert [(f.kind, f.build_step) for f in back.operator.shared_infrastructure] == list(
        changed["operator.shared_infrastructure"]
    )
    assert back.government.carbon_price_usd_per_t_co2 == 30.0
    again = Levers.from_scenario(back, str(out))
    assert again.values == changed.values
    # everything else is the base scenario's
    d_back, d_sc = back.to_yaml_dict(), sc.to_yaml_dict()
    d_back.pop("description"), d_sc.pop("description")
    assert d_back == d_sc


def test_invalid_lever_values_are_user_errors() -> None:
    levers, base = Levers.load(str(BASELINE))
    with pytest.raises(UserError):
        levers.with_("trust.initial_same_nationality", 1.5).scenario(base)


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
        used |= set(re.findall(r"""\bt\(\s*["'](\w+)["']\s*[,)]""", text))
    used |= {p.title_key for p in panel_table().values() if p.title_key}
    missing = sorted(k for k in used if k not in i18n.LABELS)
    assert not missing, missing


def test_domain_names_are_translated() -> None:
    cat = load_catalogue()
    assert set(cat.sectors) <= set(i18n.SECTORS_VI)
    assert set(cat.materials) <= set(i18n.MATERIALS_VI)
    assert set(FACILITY_KINDS) <= set(i18n.FACILITIES)
    missing = sorted(set(TIMESERIES_COLUMNS) - set(i18n.KPIS))
    assert not missing, (
        f"name these indicators in both languages in eipsim/viz/i18n.py KPIS: {missing}"
    )
    criteria = load_scenario(BASELINE).government.assessment.criteria
    assert {c.metric for c in criteria} <= set(i18n.KPIS)


# --- the lever table ----------------------------------------------------------------------------


def test_every_lever_is_one_line_with_both_languages_and_a_real_scenario_key() -> None:
    sc = load_scenario(BASELINE)
    keys = [lv.key for lv in LEVERS]
    assert len(keys) == len(set(keys))
    assert "government.carbon_price_usd_per_t_co2" in keys
    for lv in LEVERS:
        assert lv.label.strip() and lv.vi.strip(), lv.key
        lv.read(sc)  # the key exists in the scenario schema
    # no second list of lever labels anywhere else in the viz package
    for path in VIZ.glob("*.py"):
        if path.name not in ("levers.py", "mesa_example.py"):  # the example is user code
            assert "landfill_tax_usd_per_t" not in path.read_text(encoding="utf-8"), path


def test_permalink_round_trips_scenario_levers_and_seed() -> None:
    levers, sc = Levers.load(str(BASELINE))
    changed = levers.with_("government.landfill_tax_usd_per_t", 12.5).with_(
        "operator.shared_infrastructure", (("steam_network", 24),)
    )
    q = changed.query(levers, seed=2024, lang="vi")
    assert "scenario=baseline.yaml" in q and "seed=2024" in q and "lang=vi" in q
    assert "trust.initial_same_nationality" not in q  # unchanged levers stay out of the link
    back, _sc, problems = levers_from_query("?" + q)
    assert not problems
    assert back.values == changed.values and back.seed_text == "2024"
    _b, _s, problems = levers_from_query(q + "&government.brokering_per_year=lots&nonsense=1")
    assert problems == ["government.brokering_per_year=lots", "nonsense"]
    assert levers_from_query("") is None
    with pytest.raises(UserError):
        levers_from_query("scenario=nowhere.yaml")


def test_exports_name_the_run_seed_and_levers() -> None:
    levers, sc = Levers.load(str(BASELINE))
    run_sc = levers.with_("government.landfill_tax_usd_per_t", 7).scenario(sc, seed=99)
    head = run_header(run_sc, 99, levers.scenario_path)
    assert "seed: 99" in head and "government.landfill_tax_usd_per_t: 7" in head
    model = EIPModel(run_sc, seed=99)
    model.step()
    text = timeseries_csv(model, header=head)
    assert text.startswith("# scenario: baseline.yaml\n# seed: 99\n")
    import io

    import pandas as pd

    assert len(pd.read_csv(io.StringIO(text), comment="#")) == 1


def test_changed_lists_the_levers_that_differ() -> None:
    levers, _ = Levers.load(str(BASELINE))
    other = levers.with_("government.brokering_per_year", 3).with_seed("5")
    assert other.changed(levers) == ["government.brokering_per_year", "seed"]
    assert levers.changed(levers) == []
    assert BY_KEY["government.brokering_per_year"].clean(2.6) == 3


# --- charts: indicators, axes, markers ----------------------------------------------------------


def test_panels_come_from_the_indicator_table_and_money_is_never_a_bare_net_line() -> None:
    table = panel_table()
    assert set(DEFAULT_PANELS) <= set(table)
    assert table["active_links"].kind == "count"
    assert "co2_avoided_t" in table and "net_benefit_usd" in table
    public = table["public"]
    assert public.title_key in ("chart_public", "chart_public_net")
    fake = (
        Indicator("government_revenue_usd", "USD", "revenue", "usd"),
        Indicator("government_spending_usd", "USD", "spending", "usd"),
    )
    assert panel_table(fake)["public"].columns == (
        "government_revenue_usd",
        "government_spending_usd",
    )


def test_count_axes_are_whole_numbers_and_do_not_make_one_link_look_like_a_full_park() -> None:
    bottom, top, step = axis_range(0, 1, "count")
    assert bottom == 0 and top >= 4 and step >= 1 and float(step).is_integer()
    assert axis_range(0, 0.3, "share") == (0.0, 1.0, 0.25)
    b, t_, s = axis_range(-2.5e6, 1e6, "usd")
    assert b <= -2.5e6 and t_ >= 1e6
    assert nice_axis(0) == (1.0, 0.25)
    top, step = nice_axis(21)
    assert top >= 21 and math.isclose(top / step, round(top / step))
    assert link_width(0) == 1.0 and link_width(1e4) > link_width(10)


def test_schedules_become_markers() -> None:
    sc = load_scenario(ROOT / "scenarios" / "deepc_dinhvu.yaml")
    months = [m for m, _ in schedule_markers(sc, "en")]
    assert 24 in months and 36 in months  # platform launch, reuse standard


def test_vietnamese_numbers_and_firm_names() -> None:
    assert i18n.num(1234567.5, "vi", 1) == "1.234.567,5"
    assert i18n.num(1234567.5, "en", 1) == "1,234,567.5"
    assert (
        i18n.firm_name("food_processing-33", "food_processing", "en") == "Food processing firm 33"
    )
    assert "33" in i18n.firm_name("food_processing-33", "food_processing", "vi")
    assert i18n.firm_name("Vinh Hoa Steel", "steel", "vi") == "Vinh Hoa Steel"


# --- drawing ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_model() -> tuple[EIPModel, object]:
    """A park with the platform and every facility on, a few years in: links to draw."""
    levers, base = Levers.load(str(BASELINE))
    levers = levers.with_("operator.platform.enabled", True).with_(
        "operator.platform.launch_step", 0
    )
    levers = levers.with_("operator.shared_infrastructure", [(k, 0) for k in FACILITY_KINDS])
    sc = levers.scenario(base)
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
    net = ET.fromstring(network_svg(layout, snap, static.nat_colours, mode, lang))
    assert len(net.findall(".//{http://www.w3.org/2000/svg}circle[@data-slot]")) == len(snap.firms)


def test_selecting_a_firm_highlights_its_links_and_partners_in_both_views(busy_model) -> None:
    model, sc = busy_model
    snap = snapshot(model)
    assert snap.links, "the busy park should have links by month 30"
    slot = snap.links[0].s_slot
    mine = [lk for lk in snap.links if slot in (lk.s_slot, lk.u_slot)]
    partners = {lk.u_slot if lk.s_slot == slot else lk.s_slot for lk in mine}
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    svg = park_svg(static, snap, "nationality", "en", selected=slot)
    assert svg.count("eip-link-hl") == len(mine)
    assert svg.count("eip-selected") == 1 and svg.count("eip-partner") == len(partners - {slot})
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), "en")
    net = network_svg(layout, snap, static.nat_colours, "nationality", "en", selected=slot)
    assert net.count("eip-link-hl") == len(mine) and net.count("eip-selected") == 1
    # the material filter keeps only the chosen materials' links
    m = snap.links[0].material
    only = park_svg(static, snap, "nationality", "en", materials=frozenset({m}))
    assert only.count('class="eip-link') == sum(lk.material == m for lk in snap.links)


def test_tooltip_uses_readable_names(busy_model) -> None:
    model, sc = busy_model
    snap = snapshot(model)
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    svg = park_svg(static, snap, "nationality", "en")
    assert not re.search(r"<title>[a-z_]+-\d+\n", svg), "a tooltip starts with an internal id"
    assert re.search(r"<title>[A-Z][a-z]+( [a-z]+)* firm \d+\n", svg)  # "Steel firm 51"


def test_tooltip_never_shows_zero_point_zero_tonnes(busy_model) -> None:
    """A link formed this month has delivered nothing: it says so, never "0.00 t"."""
    model, sc = busy_model
    snap = snapshot(model)
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    svg = park_svg(static, snap, "nationality", "en")
    assert "0.00 t" not in svg
    if any(lk.tonnes <= 0 for lk in snap.links):
        assert "nothing delivered yet" in svg


def test_network_layout_does_not_move_between_months(busy_model) -> None:
    model, sc = busy_model
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), "en")
    before = dict(layout.pos)
    for _ in range(6):
        model.step()
        snap = snapshot(model)
        network_svg(layout, snap, {}, "nationality", "en")
    assert all(layout.pos[uid] == xy for uid, xy in before.items())


def test_charts_overlay_reference_band_and_markers(busy_model) -> None:
    model, _ = busy_model
    df = timeseries_frame(model)
    table = panel_table()
    band = df[["step"]].assign(q25=0.0, q50=1.0, q75=2.0)
    for key in DEFAULT_PANELS:
        p = table[key]
        layers = [
            Layer("this run", df, {c: band for c in p.columns}),
            Layer("reference", df, {c: band for c in p.columns}, dashed=True),
        ]
        svg = chart_svg(p.title("vi"), p.series("vi"), p.kind, layers, "vi", 120, [Marker(24, "x")])
        root = ET.fromstring(svg)
        assert root.get("data-points") == str(len(df))
        assert "eip-ref-line" in svg and "eip-band" in svg and "eip-marker" in svg
    links = table["active_links"]
    svg = chart_svg(links.title("en"), links.series("en"), "count", [Layer("r", df)], "en", 120)
    ticks = re.findall(r'class="eip-ytick">([^<]+)<', svg)
    assert all(x.replace(",", "").isdigit() for x in ticks), ticks


def test_a_month_redraws_well_under_a_second(busy_model) -> None:
    """Model step plus everything the page redraws (map, network, four charts)."""
    model, sc = busy_model
    static = MapStatic(model, list(sc.firms.nationality_mix), list(sc.firms.sector_mix), "en")
    layout = NetworkLayout(model, dict(sc.firms.sector_mix), "en")
    table = panel_table()
    t0 = time.perf_counter()
    model.step()
    snap = snapshot(model)
    park_svg(static, snap, "nationality", "en")
    network_svg(layout, snap, static.nat_colours, "nationality", "en")
    df = timeseries_frame(model)
    for key in DEFAULT_PANELS:
        p = table[key]
        chart_svg(p.title("en"), p.series("en"), p.kind, [Layer("r", df)], "en", 120)
    assert time.perf_counter() - t0 < 0.5


# --- ensembles ------------------------------------------------------------------------------------


def test_ensemble_statistics() -> None:
    import pandas as pd

    from eipsim.viz import ensemble as E

    frames = {
        s: pd.DataFrame({"step": [1.0, 2.0], "x": [float(s), float(2 * s)]}) for s in (1, 2, 3, 4)
    }
    b = E.band(list(frames.values()), "x")
    assert b["q50"].tolist() == [2.5, 5.0]
    cur = E.Ensemble(scenario=None, seeds=[1, 2, 3, 4], steps=2, frames=frames)  # type: ignore[arg-type]
    ref = E.Ensemble(
        scenario=None,  # type: ignore[arg-type]
        seeds=[1, 2, 3, 4],
        steps=2,
        frames={s: f.assign(x=f["x"] - 1) for s, f in frames.items()},
    )
    d = E.paired_difference(ref, cur, "x")
    assert d is not None and d.median == 1.0 and d.q25 == 1.0 and d.n == 4
    assert E.seeds_for(42, 3) == E.seeds_for(42, 8)[:3]
    diff = E.difference_band(ref, cur, "x")
    assert diff["q50"].tolist() == [1.0, 1.0]


def test_ensemble_runs_in_worker_processes() -> None:
    from eipsim.viz import ensemble as E

    sc = load_scenario(BASELINE)
    ens = E.start(sc, E.seeds_for(1, 2), 3)
    deadline = time.monotonic() + 120
    while not ens.finished and time.monotonic() < deadline:
        E.collect(ens, timeout=1)
    assert not ens.errors and len(ens.frames) == 2
    assert all(len(f) == 3 for f in ens.frames.values())


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


def test_bad_and_busy_ports_are_one_line_user_errors() -> None:
    import socket

    with pytest.raises(UserError, match="70000"):
        check_port("127.0.0.1", 70000)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(UserError, match=f"port {port} .*already in use"):
            check_port("127.0.0.1", port)


def test_cli_port_errors_exit_2_without_a_traceback() -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "eipsim", "viz", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    last = r.stderr.strip().splitlines()[-1]
    assert "error" in last and ("70000" in last or "70,000" in last), r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2  # argparse may print its usage line first
    assert "Traceback" not in r.stderr + r.stdout


def test_app_builds_a_model_per_call() -> None:
    pytest.importorskip("solara")
    from eipsim.viz.app import build_run

    levers, base = Levers.load(str(BASELINE))
    a, b = build_run(levers, base), build_run(levers, base)
    assert a.model is not b.model and a.seed == b.seed == base.seed
    r = build_run(levers.with_seed(""), base)  # empty: a random seed, recorded
    assert r.scenario.seed == r.seed
    with pytest.raises(SeedError):
        build_run(levers.with_seed("x"), base)
