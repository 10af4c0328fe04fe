"""Cost model: parameters, per-site Rupiah costs, the Paser 2022/2023 calibration, planner table."""

from __future__ import annotations

import dataclasses
import doctest
import tomllib
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import example, given, settings
from hypothesis import strategies as st

import blankspot.costs
from blankspot.costs import (
    COMPONENTS,
    CostModel,
    CostParameters,
    breakdown_table,
    hop_is_clear,
)
from blankspot.errors import CRSError, DataError, InputError, SchemaError, UnitsError
from blankspot.io import sites_frame
from blankspot.testing import cell_centre, make_terrain

CRS = "EPSG:32750"
X0, Y0 = 500_000.0, 9_790_000.0
BN = 1_000_000_000
JT = 1_000_000


def one_site(height_agl_m: float = 72.0, x: float = X0, y: float = Y0) -> gpd.GeoDataFrame:
    return sites_frame(["s1"], [x], [y], height_agl_m, crs=CRS)


def lines(*coords, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.LineString(c) for c in coords], crs=crs)


def points(xy, crs=CRS, **columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[shapely.Point(p) for p in xy], crs=crs)


# --- parameters ----------------------------------------------------------------------------------
def test_defaults_load_from_the_packaged_toml_and_equal_the_dataclass_defaults():
    packaged = CostParameters.default()
    assert packaged == CostParameters()
    text = resources.files("blankspot.data").joinpath("cost_defaults.toml").read_text("utf-8")
    keys = {k for table in tomllib.loads(text).values() for k in table}
    assert keys == {f.name for f in dataclasses.fields(CostParameters)}
    assert packaged.tower_72m_idr == 1_700_000_000
    assert packaged.road_idr_per_km == 500_000_000
    assert packaged.offgrid_solar_idr == 600_000_000
    assert packaged.microwave_link_idr == 310_000_000
    assert packaged.discount_rate_per_year == 0.05
    assert packaged.npv_horizon_years == 10
    assert packaged.annuity_factor() == pytest.approx(7.7217, abs=1e-4)


def test_every_parameter_has_a_tag_and_a_source_and_estimates_are_marked():
    table = CostParameters().describe()
    assert set(table["tag"]) <= {"S", "D", "E", "S/E", "E/S"}
    assert (table["source"].str.len() > 0).all()
    assert not table["user_set"].any()
    p = CostParameters()
    assert p.is_estimate("road_idr_per_km") and p.is_estimate("tower_42m_idr")
    assert not p.is_estimate("tower_72m_idr") and not p.is_estimate("microwave_link_idr")
    # a value the user sets is theirs, no longer our estimate
    mine = p.replace(road_idr_per_km=750_000_000)
    assert mine.tag("road_idr_per_km") == "U" and not mine.is_estimate("road_idr_per_km")


def test_overrides_from_a_flat_or_grouped_dict_return_new_objects():
    base = CostParameters.default()
    flat = base.updated({"road_idr_per_km": 800_000_000, "contingency_fraction": 0.1})
    grouped = base.updated(
        {
            "land_and_road": {"road_idr_per_km": 800_000_000},
            "contingency": {"contingency_fraction": 0.1},
        }
    )
    assert flat == grouped == base.replace(road_idr_per_km=800_000_000, contingency_fraction=0.1)
    assert flat.road_idr_per_km == 800_000_000 and base.road_idr_per_km == 500_000_000
    assert isinstance(flat.contingency_fraction, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.land_idr = 5  # type: ignore[misc]


def test_overrides_from_a_user_toml_file(tmp_path):
    path = tmp_path / "costs.toml"
    path.write_text(
        "tower_72m_idr = 2_250_000_000\n[power]\noffgrid_solar_idr = 800_000_000\n"
        "[backhaul]\ninclude_backhaul = true\n",
        encoding="utf-8",
    )
    p = CostParameters.from_toml(path)
    assert p.tower_72m_idr == 2_250_000_000
    assert p.offgrid_solar_idr == 800_000_000
    assert p.include_backhaul is True
    assert p.road_idr_per_km == CostParameters().road_idr_per_km  # untouched defaults


def test_unknown_keys_are_listed_with_close_matches():
    with pytest.raises(SchemaError) as err:
        CostParameters.default().updated({"road_idr_per_kn": 1, "power": {"offgrid_solr_idr": 2}})
    msg = str(err.value)
    assert "2 problems" in msg
    assert "'road_idr_per_kn'" in msg and "did you mean 'road_idr_per_km'" in msg
    assert "'offgrid_solr_idr' (in [power])" in msg and "'offgrid_solar_idr'" in msg


def test_negative_costs_wrong_types_and_unknown_keys_are_reported_together():
    with pytest.raises(SchemaError) as err:  # the most serious kind names the error
        CostParameters().replace(
            land_idr=-1, tower_72m_idr=1.7e9, include_backhaul="yes", towr_72m_idr=1
        )
    msg = str(err.value)
    assert "4 problems" in msg
    assert "land_idr must be >= 0 Rupiah; received -1" in msg
    assert "tower_72m_idr must be whole Rupiah" in msg and "write 1_700_000_000" in msg
    assert "include_backhaul must be true or false" in msg
    assert "did you mean 'tower_72m_idr'" in msg


def test_a_negative_value_alone_is_a_units_error():
    with pytest.raises(UnitsError, match="road_idr_per_km must be >= 0"):
        CostParameters(road_idr_per_km=-500_000_000)
    with pytest.raises(UnitsError, match="default_grid_distance_m must be >= 0 metres"):
        CostParameters.default().replace(default_grid_distance_m=-1.0)


def test_toml_file_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        CostParameters.from_toml(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("tower_72m_idr = = 1\n", encoding="utf-8")
    with pytest.raises(DataError, match="not valid TOML"):
        CostParameters.from_toml(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[tower]\ntower_72m_idr = -5\n", encoding="utf-8")
    with pytest.raises(UnitsError, match=r"tower_72m_idr \(in \[tower\]\) must be >= 0"):
        CostParameters.from_toml(wrong)


# --- the Paser calibration -------------------------------------------------------------------------
def test_paser_2022_ssh_is_reproduced_by_the_defaults():
    """72 m four-leg tower, hibah land, beside the desa road, PLN at the desa: Rp 1.7 bn exactly.

    The SSH is read as the passive tower as built with its PLN connection; the operator supplies
    backhaul and RAN; no contingency. Explicit zero distances and the documented default
    distances (0 m road, 0 m grid) give the same figure.
    """
    model = CostModel()
    explicit = model.site_costs(one_site(72.0), road_distance_m=0.0, grid_distance_m=0.0)
    defaults = model.site_costs(one_site(72.0))
    for costs in (explicit, defaults):
        row = costs.loc["s1"]
        assert row["capex_idr"] == 1_700_000_000
        assert row["tower_idr"] == 1_700_000_000 and row["tower_type"] == "sst_four_leg"
        assert [row[f"{c}_idr"] for c in COMPONENTS if c != "tower"] == [0] * 6
        assert row["power_option"] == "pln"
    assert (
        defaults.loc["s1", "road_distance_default"] and defaults.loc["s1", "grid_distance_default"]
    )
    # if the SSH did not include the PLN connection, it would add Rp 15 jt
    apart = CostModel(CostParameters().replace(pln_connection_in_tower_price=False))
    assert apart.site_costs(one_site(72.0)).loc["s1", "capex_idr"] == 1_715_000_000


@pytest.mark.parametrize(
    ("tender_idr", "road_m", "grid_m"),
    [
        (2_080_000_000, 600.0, 660.0),  # Muara Toyu bid (PK413806)
        (2_120_000_000, 600.0, 740.0),  # Muara Toyu HPS
        (2_300_000_000, 800.0, 900.0),  # Belimbing HPS
        (2_310_000_000, 800.0, 920.0),  # Muara Payang (NS35028)
    ],
)
def test_paser_2023_tenders_are_reproduced_at_plausible_distances(tender_idr, road_m, grid_m):
    """1.70 bn + 0.5 bn/km of road + 0.5 bn/km of 20 kV line beyond the first 0.5 km."""
    costs = CostModel().site_costs(one_site(72.0), road_distance_m=road_m, grid_distance_m=grid_m)
    assert costs.loc["s1", "capex_idr"] == tender_idr


def test_paser_2023_tenders_lie_within_the_range_for_road_and_grid_of_half_to_one_km():
    model = CostModel()
    low = model.cost_table(
        ["s"], 72.0, road_distance_m=500.0, grid_distance_m=500.0, backhaul_distance_m=5_000.0
    )["capex_idr"].iloc[0]
    high = model.cost_table(
        ["s"], 72.0, road_distance_m=1_000.0, grid_distance_m=1_000.0, backhaul_distance_m=5_000.0
    )["capex_idr"].iloc[0]
    assert (low, high) == (1_950_000_000, 2_450_000_000)
    assert all(low <= t <= high for t in (2.08 * BN, 2.12 * BN, 2.30 * BN, 2.31 * BN))


# --- components ----------------------------------------------------------------------------------
def test_every_money_column_is_int64_and_capex_is_the_exact_sum():
    params = CostParameters().replace(
        include_backhaul=True, include_equipment=True, contingency_fraction=0.1
    )
    sites = sites_frame(
        ["a", "b", "c"], [X0, X0 + 10, X0 + 20], [Y0] * 3, [30.0, 45.0, 72.0], crs=CRS
    )
    costs = CostModel(params).site_costs(
        sites,
        road_distance_m=[333.3, 1_234.5, 0.7],
        grid_distance_m=[777.7, 5_500.0, 501.0],
        backhaul_distance_m=[12.3, 40_000.0, 3_000.0],
        include_opex=True,
    )
    money = [c for c in costs.columns if c.endswith(("_idr", "_idr_per_year"))]
    assert set(money) >= {f"{c}_idr" for c in COMPONENTS} | {"capex_idr", "npv_10y_idr"}
    assert all(costs[c].dtype == np.int64 for c in money)
    parts = costs[[f"{c}_idr" for c in COMPONENTS]].sum(axis=1)
    assert (parts == costs["capex_idr"]).all()
    subtotal = parts - costs["contingency_idr"]
    assert (costs["contingency_idr"] == np.floor(subtotal * 0.1 + 0.5).astype(np.int64)).all()
    assert list(costs["tower_height_m"]) == [32.0, 52.0, 72.0]
    assert costs.index.name == "site_id" and list(costs.index) == ["a", "b", "c"]


def test_amounts_are_rounded_half_up_to_whole_rupiah():
    params = CostParameters().replace(road_idr_per_km=3, mv_line_idr_per_km=5)
    costs = CostModel(params).cost_table(
        ["s"], 72.0, road_distance_m=500.0, grid_distance_m=600.0, backhaul_distance_m=1_000.0
    )
    assert costs.loc["s", "road_idr"] == 2  # 1.5 -> 2
    assert costs.loc["s", "power_idr"] == 1  # 0.5 -> 1


def test_tower_menu_and_heights_above_it():
    costs = CostModel().cost_table(
        ["a", "b", "c", "d"],
        [0.0, 32.0, 40.0, 52.5],
        road_distance_m=0.0,
        grid_distance_m=0.0,
        backhaul_distance_m=0.0,
    )
    assert list(costs["tower_height_m"]) == [32.0, 32.0, 42.0, 72.0]
    assert list(costs["tower_idr"]) == [350 * JT, 350 * JT, 690 * JT, 1_700 * JT]
    sites = sites_frame(
        ["ok", "tall", "taller"], [X0] * 3, [Y0, Y0 + 1, Y0 + 2], [72.0, 80.0, 100.0], crs=CRS
    )
    with pytest.raises(UnitsError) as err:
        CostModel().site_costs(sites)
    msg = str(err.value)
    assert "'tall' (80 m)" in msg and "'taller' (100 m)" in msg and "'ok'" not in msg


def test_flags_say_which_distances_came_from_defaults():
    model = CostModel()
    roads = lines([(X0 + 300, Y0 - 1_000), (X0 + 300, Y0 + 1_000)])
    costs = model.site_costs(one_site(), roads=roads, backhaul_distance_m=2_000.0)
    row = costs.loc["s1"]
    assert row["road_distance_m"] == pytest.approx(300.0)
    assert not row["road_distance_default"] and not row["backhaul_distance_default"]
    assert row["grid_distance_default"]
    assert row["grid_distance_m"] == CostParameters().default_grid_distance_m
    assert "power" in row["estimated_components"].split(",")
    none = model.site_costs(one_site())
    assert none.loc[
        "s1", ["road_distance_default", "grid_distance_default", "backhaul_distance_default"]
    ].all()
    assert none.loc["s1", "backhaul_distance_m"] == CostParameters().default_backhaul_distance_m


def test_distances_are_measured_from_line_and_point_layers():
    sites = sites_frame(["a", "b"], [X0, X0 + 5_000], [Y0, Y0], 42.0, crs=CRS)
    roads = lines([(X0 - 1_000, Y0 + 400), (X0 + 1_000, Y0 + 400)])  # 400 m north of a
    grid = lines([(X0 + 5_000, Y0 - 900), (X0 + 6_000, Y0 - 900)])  # 900 m south of b
    pops = points([(X0 + 3_000, Y0 + 4_000)])
    costs = CostModel().site_costs(sites, roads=roads, grid=grid, backhaul_points=pops)
    assert costs.loc["a", "road_distance_m"] == pytest.approx(400.0)
    assert costs.loc["b", "road_distance_m"] == pytest.approx(np.hypot(4_000, 400))
    assert costs.loc["b", "grid_distance_m"] == pytest.approx(900.0)
    assert costs.loc["a", "backhaul_distance_m"] == pytest.approx(5_000.0)
    assert costs.loc["a", "road_idr"] == 200_000_000
    assert costs.loc["b", "power_idr"] == 200_000_000  # 0.4 km of 20 kV line


def test_cheaper_power_option_is_chosen():
    model = CostModel()
    costs = model.cost_table(
        ["near", "tie", "far", "beyond"],
        72.0,
        road_distance_m=0.0,
        grid_distance_m=[1_000.0, 1_700.0, 1_701.0, 6_000.0],
        backhaul_distance_m=0.0,
    )
    # grid: 0.5 bn/km beyond 0.5 km (connection in the tower price); off-grid: 0.6 bn
    assert list(costs["power_option"]) == ["pln", "pln", "off_grid_solar", "off_grid_solar"]
    assert list(costs["power_idr"]) == [250 * JT, 600 * JT, 600 * JT, 600 * JT]
    # beyond max_grid_distance_m the grid is not considered, however cheap
    cheap_line = CostModel(CostParameters().replace(mv_line_idr_per_km=1))
    far = cheap_line.cost_table(
        ["x"], 72.0, road_distance_m=0.0, grid_distance_m=6_000.0, backhaul_distance_m=0.0
    )
    assert far.loc["x", "power_option"] == "off_grid_solar"
    # a dearer off-grid system moves the break-even out
    pricey = CostModel(CostParameters().replace(offgrid_solar_idr=1_200_000_000))
    mid = pricey.cost_table(
        ["x"], 72.0, road_distance_m=0.0, grid_distance_m=2_000.0, backhaul_distance_m=0.0
    )
    assert mid.loc["x", "power_option"] == "pln" and mid.loc["x", "power_idr"] == 750 * JT


def test_backhaul_microwave_when_a_hub_is_in_range_else_fibre_or_vsat():
    params = CostParameters().replace(include_backhaul=True)
    model = CostModel(params)
    sites = sites_frame(
        ["hub_near", "pop_close", "remote"],
        [X0, X0 + 50_000, X0 + 100_000],
        [Y0] * 3,
        42.0,
        crs=CRS,
    )
    towers = points([(X0 + 8_000, Y0)], height_agl_m=[52.0])
    pops = points([(X0 + 50_030, Y0), (X0 + 200_000, Y0)])
    costs = model.site_costs(
        sites,
        existing_towers=towers,
        backhaul_points=pops,
        road_distance_m=0.0,
        grid_distance_m=0.0,
    )
    assert list(costs["backhaul_option"]) == ["microwave", "fibre", "vsat"]
    assert costs.loc["hub_near", "microwave_hop_m"] == pytest.approx(8_000.0)
    assert costs.loc["hub_near", "backhaul_idr"] == 310 * JT
    assert costs.loc["pop_close", "backhaul_idr"] == 4_650_000  # 30 m x Rp 155 jt/km
    assert costs.loc["remote", "backhaul_idr"] == 8_500_000
    assert np.isnan(costs.loc["remote", "microwave_hop_m"])
    # fibre to a point of presence 1 km away beats a 310 jt microwave link
    short = model.cost_table(
        ["s"], 42.0, road_distance_m=0.0, grid_distance_m=0.0, backhaul_distance_m=1_000.0
    )
    assert (
        short.loc["s", "backhaul_option"] == "fibre" and short.loc["s", "backhaul_idr"] == 155 * JT
    )
    # in the default (Paser) scope the operator pays: option reported, cost 0
    scope = CostModel().site_costs(sites, existing_towers=towers, backhaul_points=pops)
    assert list(scope["backhaul_option"]) == ["microwave", "fibre", "vsat"]
    assert (scope["backhaul_idr"] == 0).all()


def test_microwave_hops_are_checked_on_the_terrain():
    params = CostParameters().replace(include_backhaul=True)
    sites_xy = {k: cell_centre(make_terrain("flat"), 32, 10) for k in ("flat", "knife_edge")}
    hub_xy = cell_centre(make_terrain("flat"), 32, 60)  # 1.5 km east, past the wall at col 40
    hub = points([hub_xy], height_agl_m=[42.0])
    for kind, expected in (("flat", "microwave"), ("knife_edge", "vsat")):
        terrain = make_terrain(kind)
        site = sites_frame(["s"], [sites_xy[kind][0]], [sites_xy[kind][1]], 42.0, crs=CRS)
        costs = CostModel(params).site_costs(
            site, existing_towers=hub, terrain=terrain, road_distance_m=0.0, grid_distance_m=0.0
        )
        assert costs.loc["s", "backhaul_option"] == expected, kind
    # a callable replaces the terrain check; it sees the tower top and the hub height
    seen = []

    def blocked(a, ha, b, hb):
        seen.append((ha, hb))
        return False

    site = sites_frame(["s"], [hub_xy[0] - 1_500], [hub_xy[1]], 40.0, crs=CRS)
    costs = CostModel(params).site_costs(site, existing_towers=hub, line_of_sight=blocked)
    assert costs.loc["s", "backhaul_option"] == "vsat" and seen == [(42.0, 42.0)]


def test_hop_is_clear_on_the_zoo():
    flat, wall = make_terrain("flat"), make_terrain("knife_edge")
    a, b = cell_centre(flat, 32, 10), cell_centre(flat, 32, 60)
    assert hop_is_clear(flat, a, 1.0, b, 1.0)
    assert not hop_is_clear(wall, a, 42.0, b, 42.0)
    assert hop_is_clear(wall, a, 101.0, b, 101.0)  # 1 m above the 200 m crest
    outside = (a[0] - 10_000.0, a[1])
    assert not hop_is_clear(flat, outside, 42.0, b, 42.0)


def test_crs_mismatches_are_errors():
    roads_other = lines([(X0, Y0), (X0 + 1, Y0)], crs="EPSG:32749")
    with pytest.raises(CRSError, match="roads layer is in EPSG:32749"):
        CostModel().site_costs(one_site(), roads=roads_other)
    terrain = make_terrain("flat")
    other = sites_frame(["s"], [X0], [Y0], 42.0, crs="EPSG:32749")
    with pytest.raises(CRSError, match="terrain is in EPSG:32750"):
        CostModel().site_costs(other, terrain=terrain)
    with pytest.raises(CRSError):
        CostModel().site_costs(one_site().to_crs("EPSG:4326"))


def test_input_problems_are_reported_together():
    sites = sites_frame(["a", "b"], [X0, X0 + 1], [Y0, Y0], 42.0, crs=CRS)
    roads = lines([(X0, Y0), (X0 + 1, Y0)])
    with pytest.raises(SchemaError) as err:
        CostModel().site_costs(
            sites,
            road_distance_m=[1.0, 2.0],
            roads=roads,
            grid_distance_m=[1.0, 2.0, 3.0],
            backhaul_points=roads,
        )
    msg = str(err.value)
    assert "3 problems" in msg
    assert "both road_distance_m= and roads=" in msg
    assert "grid_distance_m has shape (3,) but there are 2 sites" in msg
    assert "backhaul_points layer must hold Point" in msg
    with pytest.raises(UnitsError, match=r"'b' \(-5\)"):
        CostModel().site_costs(sites, road_distance_m=pd.Series({"a": 1.0, "b": -5.0}))


def test_menu_heights_missing_is_an_input_error_listed_with_heights_too_tall():
    ids = pd.Index(["a", "b", "c"])
    with pytest.raises(UnitsError, match="taller than the tallest tower"):
        blankspot.costs._menu_heights([30.0, 80.0, 42.0], ids)
    with pytest.raises(InputError, match="have no height_agl_m") as info:
        blankspot.costs._menu_heights([np.nan, 80.0, 42.0], ids)
    assert len(info.value.problems) == 2


def test_cost_table_names_a_missing_distance():
    with pytest.raises(SchemaError, match="road_distance_m is required"):
        CostModel().cost_table(
            ["a"], 72.0, road_distance_m=None, grid_distance_m=0.0, backhaul_distance_m=0.0
        )


def test_opex_and_npv():
    costs = CostModel().cost_table(
        ["grid", "solar"],
        72.0,
        road_distance_m=0.0,
        grid_distance_m=[0.0, 10_000.0],
        backhaul_distance_m=0.0,
        include_opex=True,
    )
    # PLN energy 25 jt + 10 % of capex; off-grid energy 150 jt + 10 % of capex
    assert list(costs["opex_idr_per_year"]) == [195 * JT, 150 * JT + 230 * JT]
    annuity = sum(1.05**-t for t in range(1, 11))
    expected = 1_700 * JT + int(np.floor(195 * JT * annuity + 0.5))
    assert costs.loc["grid", "npv_10y_idr"] == expected
    twenty = CostModel(CostParameters().replace(npv_horizon_years=20))
    assert (
        twenty.npv_column
        in twenty.cost_table(
            ["x"],
            72.0,
            road_distance_m=0.0,
            grid_distance_m=0.0,
            backhaul_distance_m=0.0,
            include_opex=True,
        ).columns
    )
    assert "opex_idr_per_year" not in CostModel().site_costs(one_site()).columns


def test_fill_costs_keeps_given_costs():
    sites = sites_frame(
        ["given", "missing"], [X0, X0 + 1], [Y0, Y0], 72.0, crs=CRS, cost_idr=[123, None]
    )
    filled = CostModel().fill_costs(sites)
    assert list(filled["cost_idr"]) == [123, 1_700_000_000]
    assert str(filled["cost_idr"].dtype) == "Int64"
    assert sites["cost_idr"].isna().sum() == 1  # the input is untouched


# --- planner table -------------------------------------------------------------------------------
def test_breakdown_table_labels_estimates_perkiraan_in_both_languages():
    costs = CostModel().site_costs(
        one_site(42.0), road_distance_m=600.0, grid_distance_m=0.0, include_opex=True
    )
    en = breakdown_table(costs, lang="en")
    idn = breakdown_table(costs, lang="id")
    assert list(en.columns) == [
        "site_id",
        "component",
        "item",
        "basis",
        "amount_idr",
        "amount",
        "estimate",
        "note",
    ]
    assert list(idn.columns[:2]) == ["id_kandidat", "komponen"]
    assert en["amount_idr"].dtype == np.int64 and idn["jumlah_rp"].dtype == np.int64
    by = idn.set_index("komponen")
    assert by.loc["tower", "jumlah"] == "Rp 690.000.000 (perkiraan)"  # 42 m price is [E]
    assert by.loc["road", "jumlah"] == "Rp 300.000.000 (perkiraan)"
    assert by.loc["land", "jumlah"] == "Rp 0" and not by.loc["land", "perkiraan"]
    assert by.loc["capex", "jumlah_rp"] == costs.loc["s1", "capex_idr"]
    assert by.loc["capex", "keterangan"] == "perkiraan"
    assert list(en["component"]) == [*COMPONENTS, "capex", "opex", "npv"]
    assert en.set_index("component").loc["tower", "basis"].startswith("42 m")
    with pytest.raises(SchemaError, match="lang must be"):
        breakdown_table(costs, lang="fr")


def test_a_user_figure_is_not_labelled_perkiraan():
    params = CostParameters().replace(
        tower_42m_idr=700 * JT,
        contingency_fraction=0.05,
        pln_connection_in_tower_price=False,
        pln_connection_idr=20 * JT,
    )
    costs = CostModel(params).cost_table(
        ["s"], 42.0, road_distance_m=0.0, grid_distance_m=0.0, backhaul_distance_m=0.0
    )
    assert costs.loc["s", "estimated_components"] == ""
    table = breakdown_table(costs)
    assert not table["estimate"].any()
    assert "perkiraan" not in " ".join(table["amount"])


def test_docstring_examples_run():
    result = doctest.testmod(blankspot.costs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# --- property --------------------------------------------------------------------------------------
distance = st.floats(min_value=0.0, max_value=50_000.0, allow_nan=False)
step = st.floats(min_value=0.0, max_value=20_000.0, allow_nan=False)


@st.composite
def parameters(draw):
    return CostParameters().replace(
        road_idr_per_km=draw(st.integers(0, 2 * BN)),
        mv_line_idr_per_km=draw(st.integers(0, 2 * BN)),
        offgrid_solar_idr=draw(st.integers(0, 2 * BN)),
        max_grid_distance_m=draw(st.floats(0.0, 20_000.0)),
        pln_connection_in_tower_price=draw(st.booleans()),
        contingency_fraction=draw(st.floats(0.0, 0.5)),
        include_backhaul=draw(st.booleans()),
        fibre_idr_per_km=draw(st.integers(0, BN)),
    )


@settings(max_examples=150, deadline=None)
@given(
    params=parameters(),
    road=distance,
    grid=distance,
    backhaul=distance,
    hop=distance,
    extra=step,
    which=st.sampled_from(["road", "grid", "backhaul"]),
)
@example(
    params=CostParameters(),
    road=0.0,
    grid=1_700.0,
    backhaul=100.0,
    hop=5_000.0,
    extra=1.0,
    which="grid",
)
def test_capex_never_decreases_when_a_distance_increases(
    params, road, grid, backhaul, hop, extra, which
):
    """Road and grid distances, and the fibre distance for a given set of clear hops."""
    model = CostModel(params)
    base = {"road_distance_m": road, "grid_distance_m": grid, "backhaul_distance_m": backhaul}
    longer = dict(base)
    longer[f"{which}_distance_m"] += extra
    a, b = (
        model.cost_table(["s"], 72.0, microwave_hop_m=hop, include_opex=True, **d)
        for d in (base, longer)
    )
    assert b.loc["s", "capex_idr"] >= a.loc["s", "capex_idr"]
