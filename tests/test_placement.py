"""Placement of tenants: random, nationality clusters, sector clusters, roster plots."""

from __future__ import annotations

import numpy as np
import pytest

import eipsim
from eipsim.domain.model import EIPModel
from eipsim.domain.park import Park, choose_plot


def rng(seed=0):
    return np.random.default_rng(seed)


def share_in_own_block(m, blocks, key_of) -> float:
    """Share of firms sitting in the block of their own key (nationality or sector)."""
    hits, n = 0, 0
    for f in m.firms:
        block = blocks.get(key_of(f))
        if block is None:
            continue
        n += 1
        hits += f.slot in set(block.tolist())
    return hits / n


def nat_blocks(m):
    return m.park.cluster_blocks(m.sc.firms.nationality_mix)


def same_nat_neighbour_share(m) -> float:
    a, b = m.park.neighbour_pairs(1)
    st = m.state
    occ = st.alive[a] & st.alive[b]
    return float((st.nat[a[occ]] == st.nat[b[occ]]).mean())


# -- the park geometry -----------------------------------------------------------------------


def test_park_slots_zones_and_distance():
    p = Park(4, 3, 2, 1, 250.0)
    assert p.n_plots == 12
    assert p.xy(5) == (1, 1)  # slot = y * width + x
    assert p.zone_of.tolist() == [0, 0, 1, 1] * 3
    assert p.zone_names == ["Zone A", "Zone B"]
    d = p.distance_km(np.array([0, 0]), np.array([3, 11]))
    assert d.tolist() == pytest.approx([0.75, np.hypot(3, 2) * 0.25])
    assert p.distance_km(np.array([0]), np.array([0]), minimum=0.2)[0] == 0.2


def test_a_firm_sits_in_its_plots_cell():
    """``Park.xy`` (slot -> (x, y)) agrees with the plot arrays, and every firm's Mesa cell
    is its plot's."""
    p = Park(5, 4, 1, 1, 100.0)
    assert [p.xy(i) for i in range(p.n_plots)] == list(zip(p.x.tolist(), p.y.tolist(), strict=True))
    m = EIPModel(eipsim.load_scenario("scenarios/baseline.yaml"), seed=1)
    for f in m.firms:
        assert f.cell.coordinate == m.park.xy(f.slot) and f in f.cell.agents


def test_neighbour_pairs_are_distinct_and_within_radius():
    p = Park(5, 4, 1, 1, 100.0)
    a, b = p.neighbour_pairs(1)
    assert (a != b).all()
    assert (np.maximum(abs(p.x[a] - p.x[b]), abs(p.y[a] - p.y[b])) == 1).all()
    assert (a == 0).sum() == 3 and (a == 6).sum() == 8  # a corner plot and an inner plot


def test_cluster_blocks_partition_the_park_by_share():
    p = Park(10, 10, 2, 2, 100.0)
    blocks = p.cluster_blocks({"VN": 0.5, "JP": 0.3, "KR": 0.2})
    sizes = {k: v.size for k, v in blocks.items()}
    assert sizes == {"VN": 50, "JP": 30, "KR": 20}
    allplots = np.concatenate(list(blocks.values()))
    assert sorted(allplots.tolist()) == list(range(100))
    # VN's half of the park fills zones A and B (the top two quarters) exactly
    assert set(p.zone_of[blocks["VN"]].tolist()) == {0, 1}


def test_cluster_blocks_round_to_whole_plots():
    p = Park(3, 3, 1, 1, 100.0)
    blocks = p.cluster_blocks({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    assert sorted(v.size for v in blocks.values()) == [3, 3, 3]


# -- choose_plot ----------------------------------------------------------------------------------


def test_choose_plot_clustered_prefers_its_block():
    p = Park(6, 6, 1, 1, 100.0)
    blocks = p.cluster_blocks({"A": 0.5, "B": 0.5})
    vacant = np.ones(36, bool)
    for seed in range(20):
        assert choose_plot(p, vacant, "nationality_clusters", "A", blocks, rng(seed)) in set(
            blocks["A"].tolist()
        )


def test_choose_plot_full_block_takes_nearest_vacant_plot():
    p = Park(6, 1, 1, 1, 100.0)  # a row of six plots
    blocks = {"A": np.array([0, 1]), "B": np.array([2, 3, 4, 5])}
    vacant = np.array([False, False, False, True, True, True])
    # A's block (x = 0, 1; centre 0.5) is full: the nearest vacant plot is 3
    assert choose_plot(p, vacant, "nationality_clusters", "A", blocks, rng()) == 3


def test_choose_plot_random_or_unknown_key_uses_any_vacant_plot():
    p = Park(6, 6, 1, 1, 100.0)
    blocks = p.cluster_blocks({"A": 0.5, "B": 0.5})
    vacant = np.zeros(36, bool)
    vacant[[1, 35]] = True
    got = {choose_plot(p, vacant, "random", "A", blocks, rng(s)) for s in range(30)}
    assert got == {1, 35}
    got = {choose_plot(p, vacant, "nationality_clusters", "ZZ", blocks, rng(s)) for s in range(30)}
    assert got == {1, 35}
    with pytest.raises(ValueError):
        choose_plot(p, np.zeros(36, bool), "random", "A", blocks, rng())


# -- in the model ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def park100(baseline):
    return baseline.with_overrides({"steps": 12})


def test_nationality_clusters_put_nationalities_in_their_blocks(park100):
    m = EIPModel(park100.with_overrides({"park.placement": "nationality_clusters"}), seed=7)
    share = share_in_own_block(m, nat_blocks(m), lambda f: f.nationality)
    assert share >= 0.9  # a block holds ~1/0.638 times its expected firms; overflow is rare
    r = EIPModel(park100, seed=7)
    assert share_in_own_block(r, nat_blocks(r), lambda f: f.nationality) < 0.5
    assert same_nat_neighbour_share(m) > same_nat_neighbour_share(r) + 0.3


def test_new_tenants_also_join_their_cluster(park100):
    sc = park100.with_overrides(
        {"park.placement": "nationality_clusters", "operator.arrivals_per_year": 60}
    )
    m = EIPModel(sc, seed=2)
    before = {f.unique_id for f in m.firms}
    for _ in range(12):
        m.step()
    newcomers = [f for f in m.firms if f.unique_id not in before]
    assert len(newcomers) >= 10
    blocks = nat_blocks(m)
    inside = [f.slot in set(blocks[f.nationality].tolist()) for f in newcomers]
    assert np.mean(inside) >= 0.8


def test_sector_clusters(park100):
    m = EIPModel(park100.with_overrides({"park.placement": "sector_clusters"}), seed=7)
    blocks = m.park.cluster_blocks(m.sc.firms.sector_mix)
    assert share_in_own_block(m, blocks, lambda f: f.sector) >= 0.85
    r = EIPModel(park100, seed=7)
    assert share_in_own_block(r, blocks, lambda f: f.sector) < 0.4


def test_random_placement_spreads_firms_and_depends_on_seed(park100):
    a, b = EIPModel(park100, seed=1), EIPModel(park100, seed=2)
    for m in (a, b):
        slots = [f.slot for f in m.firms]
        assert len(slots) == len(set(slots)) == 100
        assert (m.state.alive.sum(), len(m.firms)) == (100, 100)
        # every zone is used
        assert set(m.park.zone_of[slots].tolist()) == set(range(len(m.park.zone_names)))
        for f in m.firms:
            assert m.firm_at[f.slot] is f and m.state.uid[f.slot] == f.unique_id
    assert {f.slot for f in a.firms} != {f.slot for f in b.firms}


def write_roster(tmp_path, rows, header="name,sector,nationality,size,plot"):
    path = tmp_path / "roster.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "placement", ["random", "nationality_clusters", "sector_clusters", "chain_clusters"]
)
def test_roster_plots_are_honoured(tmp_path, baseline, placement):
    roster = write_roster(
        tmp_path,
        [
            "Mill,steel,JP,1.5,0",
            "Grinder,building_materials,VN,1.0,1",
            "Recycler,plastics_recycling,KR,0.8,40",
            "Floating,electronics,DE,2.0,",
        ],
    )
    sc = baseline.with_overrides(
        {
            "firms.count": 30,
            "firms.roster": str(roster),
            "park.placement": placement,
            "firms.nationality_mix.DE": 0.0,  # a roster nationality must be in the mix
        }
    )
    m = EIPModel(sc, seed=3)
    for slot, name, sector, nat, size in [
        (0, "Mill", "steel", "JP", 1.5),
        (1, "Grinder", "building_materials", "VN", 1.0),
        (40, "Recycler", "plastics_recycling", "KR", 0.8),
    ]:
        f = m.firm_at[slot]
        assert (f.name, f.sector, f.nationality, f.size) == (name, sector, nat, size)
    floating = [f for f in m.firms if f.name == "Floating"]
    assert len(floating) == 1 and floating[0].nationality == "DE"  # drawn with share 0
    assert floating[0].slot not in (0, 1, 40)
    assert len(m.firms) == 30


def test_roster_path_is_relative_to_the_scenario_file(tmp_path, baseline):
    write_roster(tmp_path, ["Mill,steel,JP,1.5,7"])
    data = baseline.with_overrides({"firms.count": 20}).to_yaml_dict()
    data["firms"]["roster"] = "roster.csv"
    import yaml

    (tmp_path / "sc.yaml").write_text(yaml.safe_dump(data))
    m = EIPModel(eipsim.load_scenario(tmp_path / "sc.yaml"), seed=1)
    assert m.firm_at[7].name == "Mill"


def test_roster_saved_by_a_spreadsheet_with_a_byte_order_mark(tmp_path, baseline):
    """Excel's "CSV UTF-8" starts with a BOM; the first column must still be recognised."""
    path = tmp_path / "bom.csv"
    path.write_bytes("sector,nationality,size,plot\nsteel,VN,1.5,4\n".encode("utf-8-sig"))
    sc = baseline.with_overrides({"firms.count": 20, "firms.roster": str(path)})
    assert sc.load_roster()[0]["sector"] == "steel"
    assert EIPModel(sc, seed=1).firm_at[4].sector == "steel"


def test_roster_firms_enter_in_their_month_on_their_reserved_plot(tmp_path, baseline):
    """A roster firm with entry_month 5 is absent before month 5, nobody else takes its
    plot meanwhile (arrivals are frequent here), and it is there from month 5."""
    roster = write_roster(
        tmp_path,
        ["Mill,steel,JP,1.5,0,0", "Latecomer,building_materials,VN,1.0,7,5"],
        header="name,sector,nationality,size,plot,entry_month",
    )
    sc = baseline.with_overrides(
        {"firms.count": 30, "firms.roster": str(roster), "operator.arrivals_per_year": 400}
    )
    m = EIPModel(sc, seed=3)
    for month in range(1, 7):
        m.step()
        f = m.firm_at[7]
        if month < 5:
            assert f is None and m.reserved_plots[7]
        else:
            assert f is not None and f.name == "Latecomer" and f.sector == "building_materials"
    assert not m.reserved_plots.any()


def test_a_bad_entry_month_names_the_row(tmp_path, baseline):
    from eipsim.errors import UserError

    roster = write_roster(
        tmp_path,
        ["Mill,steel,JP,1.5,0,soon"],
        header="name,sector,nationality,size,plot,entry_month",
    )
    with pytest.raises(UserError, match=r"row 2: entry_month must be a whole number"):
        baseline.with_overrides({"firms.count": 30, "firms.roster": str(roster)})
