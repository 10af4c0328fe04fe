"""Demand where people live (blankspot.demand.demand_layer), the settlement files it reads
(blankspot.io.settlements) and the clutter at the handset of a settlement
(blankspot.clutter.settlement_clutter, PlanConfig.clutter_model)."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from blankspot.cache import input_key
from blankspot.clutter import SETTLEMENT_CLASS, ClutterModel, loss_for_class, settlement_clutter
from blankspot.config import PlanConfig
from blankspot.crs import PASER_CRS, WGS84
from blankspot.demand import DEMAND_MODELS, demand_layer
from blankspot.errors import BlankspotWarning, ConfigError, CRSError, SchemaError
from blankspot.io.settlements import read_geonames_places, read_settlements
from blankspot.reporting.summary import demand_text
from blankspot.testing import ZOO_ORIGIN, make_terrain

X0, Y0 = ZOO_ORIGIN[0], ZOO_ORIGIN[1] - 1920.0  # lower-left of the 64 x 30 m zoo terrain


def villages(geoms, populations) -> gpd.GeoDataFrame:
    ids = [f"64.99.01.20{i:02d}" for i in range(1, len(geoms) + 1)]
    return gpd.GeoDataFrame({"name": [f"Desa {i}" for i in range(1, len(geoms) + 1)],
                             "population": populations},
                            geometry=list(geoms), index=pd.Index(ids, name="village_id"),
                            crs=PASER_CRS)


def points(xy, name=None, population=None, source="settlement file") -> gpd.GeoDataFrame:
    n = len(xy)
    return gpd.GeoDataFrame(
        {"name": name or [f"P{i}" for i in range(n)],
         "population": population if population is not None else [np.nan] * n,
         "source": [source] * n},
        geometry=[shapely.Point(x, y) for x, y in xy], crs=PASER_CRS)


# two 1 km squares side by side and a third one to the east
A = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
B = shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
C = shapely.box(X0 + 3000, Y0, X0 + 4000, Y0 + 1000)


def by_desa(layer):
    return layer.cells.groupby("village_id")["population"].sum()


# --- one settlement per desa ---------------------------------------------------------------------


def test_one_per_desa_at_a_place_inside_else_the_representative_point():
    v = villages([A, B], [300.0, 500.0])
    places = points([(X0 + 5000, Y0 + 500), (X0 + 200, Y0 + 300), (X0 + 700, Y0 + 700)],
                    name=["Far", "Kampung A", "Second A"], source="GeoNames place")
    layer = demand_layer(v, places=places)
    cells = layer.cells
    assert layer.model == "settlements" and len(cells) == 2
    assert cells["population"].tolist() == [300.0, 500.0]
    # desa A: the first place inside it; desa B: its polygon's representative point
    assert (cells.loc[0, "x_m"], cells.loc[0, "y_m"]) == (X0 + 200, Y0 + 300)
    assert cells.loc[0, "settlement"] == "Kampung A" and cells.loc[0, "source"] == "GeoNames place"
    rep = B.representative_point()
    assert (cells.loc[1, "x_m"], cells.loc[1, "y_m"]) == (rep.x, rep.y)
    assert cells.loc[1, "settlement"] == "Desa 2" and cells.loc[1, "source"] == "representative point"
    assert layer.label == "settlements: 1 per desa (GeoNames place 1, representative point 1)"
    assert list(cells.columns) == ["village_id", "population", "x_m", "y_m", "settlement",
                                   "source", "geometry"]


def test_one_per_desa_without_places():
    v = villages([A, B, C], [1.0, 2.0, 3.0])
    layer = demand_layer(v, model="settlements")
    assert layer.label == "settlements: 1 per desa (representative point 3)"
    assert layer.cells["population"].tolist() == [1.0, 2.0, 3.0]
    assert layer.settlement_points().shape[0] == 3


# --- settlement points ---------------------------------------------------------------------------


def test_settlement_points_share_the_desa_population():
    v = villages([A, B, C], [1000.0, 1200.0, 90.0])
    pts = points([(X0 + 100, Y0 + 100), (X0 + 300, Y0 + 300), (X0 + 500, Y0 + 500),
                  (X0 + 1100, Y0 + 100), (X0 + 1500, Y0 + 500), (X0 + 1900, Y0 + 900)],
                 population=[100.0, np.nan, np.nan, 800.0, 400.0, np.nan])
    layer = demand_layer(v, settlements=pts)
    cells = layer.cells
    # A: 100 given, the other two share the 900 left; B: the given 1200 exceed nothing left:
    # the one without a figure gets 0; C has no point: one settlement with its 90 people
    np.testing.assert_allclose(cells["population"], [100, 450, 450, 800, 400, 0, 90])
    assert cells["village_id"].tolist() == [v.index[0]] * 3 + [v.index[1]] * 3 + [v.index[2]]
    assert cells["settlement"].tolist()[:6] == [f"P{i}" for i in range(6)]
    assert cells["source"].tolist() == ["settlement file"] * 6 + ["representative point"]
    assert layer.label == ("settlements: settlement file 6 in 2 desa; 1 per desa for 1 "
                           "(representative point 1)")
    by = by_desa(layer)
    assert by.tolist() == pytest.approx([1000.0, 1200.0, 90.0])


def test_given_populations_are_scaled_to_the_desa_total():
    v = villages([A], [1000.0])
    pts = points([(X0 + 100, Y0 + 100), (X0 + 300, Y0 + 300)], population=[30.0, 10.0])
    cells = demand_layer(v, settlements=pts).cells
    np.testing.assert_allclose(cells["population"], [750.0, 250.0])


def test_points_outside_every_desa_or_in_other_desa_are_ignored_and_counted():
    v = villages([A, B], [10.0, 20.0])
    pts = points([(X0 + 100, Y0 + 100), (X0 + 1500, Y0 + 500), (X0 + 9000, Y0 + 500)])
    with pytest.warns(BlankspotWarning, match="1 of 3 settlement points lie outside"):
        layer = demand_layer(v, settlements=pts)
    assert layer.ignored == 1 and "1 outside every desa ignored" in layer.label
    # with only desa A selected, the point in B is outside every selected desa too
    with pytest.warns(BlankspotWarning, match="2 of 3"):
        layer = demand_layer(v, settlements=pts, village_ids=[v.index[0]])
    assert layer.ignored == 2 and layer.cells["village_id"].unique().tolist() == [v.index[0]]
    assert layer.cells["population"].sum() == 10.0


@settings(max_examples=40, deadline=None)
@given(
    xs=st.lists(st.floats(0, 4000), min_size=0, max_size=12),
    pops=st.lists(st.one_of(st.none(), st.floats(0, 1e4)), min_size=12, max_size=12),
    desa_pop=st.lists(st.floats(0, 1e5), min_size=3, max_size=3),
)
def test_population_is_kept_per_desa(xs, pops, desa_pop):
    v = villages([A, B, C], desa_pop)
    pts = points([(X0 + x, Y0 + 500) for x in xs],
                 population=[np.nan if p is None else p for p in pops[: len(xs)]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BlankspotWarning)
        layer = demand_layer(v, settlements=pts)
    by = by_desa(layer).reindex(v.index, fill_value=0.0)
    np.testing.assert_allclose(by.to_numpy(), desa_pop, rtol=1e-9, atol=1e-6)
    assert (layer.cells["population"] >= 0).all()
    # every desa has at least one demand point
    assert set(layer.cells["village_id"]) == set(v.index)


# --- land cover ----------------------------------------------------------------------------------


def landcover_scene():
    terrain = make_terrain("flat", size=64)  # 30 m cells, 1920 m square
    codes = np.full(terrain.shape, 10, dtype=np.int16)
    codes[60:63, 2:5] = 50  # 9 built-up cells in the south-west corner (desa A)
    codes[40, 10] = 40  # one cropland cell in desa A, 600 m further north
    v = villages([A, B], [100.0, 50.0])  # B holds no built-up or cropland cell
    return terrain, codes, v


def test_landcover_demand_on_built_up_and_cropland_cells():
    terrain, codes, v = landcover_scene()
    layer = demand_layer(v, landcover=codes, terrain=terrain)
    assert layer.model == "landcover"
    cells = layer.cells
    a = cells[cells["village_id"] == v.index[0]]
    # two demand cells: the cropland cell (north) and the built-up block (south), by pixel count
    assert len(a) == 2
    np.testing.assert_allclose(a["population"], [10.0, 90.0])
    rows, cols = terrain.rowcol(a["x_m"].to_numpy(), a["y_m"].to_numpy())
    on = codes[np.rint(rows).astype(int), np.rint(cols).astype(int)]
    assert set(on) == {40, 50}
    assert (a["source"] == "land cover").all()
    b = cells[cells["village_id"] == v.index[1]]
    assert len(b) == 1 and b["population"].item() == 50.0
    assert b["source"].item() == "representative point"
    assert layer.label == ("land cover: built-up and cropland cells in 1 desa; 1 per desa for 1 "
                           "(representative point 1)")


def test_landcover_grid_of_another_shape_is_refused():
    terrain, codes, v = landcover_scene()
    with pytest.raises(SchemaError, match="shape"):
        demand_layer(v, landcover=codes[:10], terrain=terrain)


# --- the order of sources --------------------------------------------------------------------------


def test_auto_takes_the_best_source_at_hand(tmp_path):
    terrain, codes, v = landcover_scene()
    pts = points([(X0 + 100, Y0 + 100)])
    raster = tmp_path / "pop.tif"
    with rasterio.open(raster, "w", driver="GTiff", height=4, width=4, count=1, dtype="float32",
                       crs=PASER_CRS, transform=Affine(500.0, 0, X0, 0, -500.0, Y0 + 2000)) as dst:
        dst.write(np.ones((1, 4, 4), dtype=np.float32))
    full = {"population_raster": raster, "landcover": codes, "terrain": terrain,
            "settlements": pts}
    assert demand_layer(v, **full).model == "raster"
    assert demand_layer(v, **{**full, "population_raster": None}).model == "landcover"
    assert demand_layer(v, settlements=pts).label.startswith("settlements: settlement file 1")
    assert demand_layer(v).label.startswith("settlements: 1 per desa")
    # a named model wins over a better source
    uniform = demand_layer(v, model="uniform", **full)
    assert uniform.model == "uniform" and uniform.label == "uniform: 250 m cells over each desa"
    assert (uniform.cells["source"] == "uniform grid").all()
    assert uniform.settlement_points().empty
    assert demand_layer(v, model="settlements", **full).model == "settlements"
    assert demand_layer(v, **full).label == "population raster: pop.tif on 250 m cells"


def test_a_named_source_that_is_missing_is_an_error():
    v = villages([A], [1.0])
    with pytest.raises(ConfigError, match="population raster"):
        demand_layer(v, model="raster")
    with pytest.raises(ConfigError, match="land-cover raster"):
        demand_layer(v, model="landcover")
    with pytest.raises(ConfigError, match="demand_model must be one of"):
        demand_layer(v, model="census")
    with pytest.raises(ValueError, match="demand_model must be one of"):
        PlanConfig(demand_model="census")
    assert PlanConfig().demand_model == "auto" and "auto" in DEMAND_MODELS


def test_points_in_another_crs_are_refused():
    v = villages([A], [1.0])
    with pytest.raises(CRSError, match="to_crs"):
        demand_layer(v, settlements=points([(X0, Y0)]).to_crs(WGS84))


def test_bad_villages_are_reported_as_for_demand_cells():
    v = villages([A, B], [np.nan, -1.0])
    with pytest.raises(SchemaError, match=r"(?s)demand_layer\(\).*population unknown.*negative"):
        demand_layer(v)


# --- reading settlement files --------------------------------------------------------------------


def test_read_settlements_csv(tmp_path):
    f = tmp_path / "dusun.csv"
    f.write_text("Name,Longitude,Latitude,Population\nDusun A,116.30,-2.30,120\n"
                 "Dusun B,116.31,-2.31,\n", encoding="utf-8")
    s = read_settlements(f, PASER_CRS)
    assert s["name"].tolist() == ["Dusun A", "Dusun B"]
    assert s["population"].iloc[0] == 120.0 and np.isnan(s["population"].iloc[1])
    assert (s["source"] == "settlement file").all() and s.crs == PASER_CRS
    back = s.to_crs(WGS84)
    assert back.geometry.x.round(6).tolist() == [116.30, 116.31]


def test_read_settlements_point_file(tmp_path):
    f = tmp_path / "kampung.geojson"
    gpd.GeoDataFrame({"name": ["K1"]}, geometry=[shapely.Point(116.3, -2.3)],
                     crs=WGS84).to_file(f)
    s = read_settlements(f, PASER_CRS)
    assert s["name"].tolist() == ["K1"] and np.isnan(s["population"].item())


def test_read_settlements_lists_every_problem(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("name,lon,lat,population\nA,116.3,-2.3,-5\nB,east,-2.3,1\nC,,-2.3,2\n"
                 "D,-2.3,116.3,x\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_settlements(f, PASER_CRS)
    problems = info.value.problems
    text = "\n".join(problems)
    assert "negative population in row 2 (A)" in text
    assert "population is not a number in row 5 (D)" in text
    assert "coordinates are not numbers in row 3 (B)" in text
    assert "missing coordinates in row 4 (C)" in text
    assert "outside lon -180..180 / lat -90..90 in row 5 (D)" in text and "swapped" in text
    assert len(problems) == 5


def test_read_settlements_missing_columns(tmp_path):
    f = tmp_path / "cols.csv"
    f.write_text("nama,x_coord,lat\nA,116.3,-2.3\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_settlements(f, PASER_CRS)
    text = str(info.value)
    assert "no 'name' column (columns: nama, x_coord, lat)" in text
    assert "no coordinate columns" in text and "'lon' and 'lat'" in text


def test_read_settlements_refuses_lines_and_files_without_crs(tmp_path):
    f = tmp_path / "lines.geojson"
    gpd.GeoDataFrame({"name": ["L", "P"]},
                     geometry=[shapely.LineString([(116.3, -2.3), (116.4, -2.3)]),
                               shapely.Point(116.3, -2.3)], crs=WGS84).to_file(f)
    with pytest.raises(SchemaError, match=r"not points in row 1 \(L\)"):
        read_settlements(f, PASER_CRS)
    f = tmp_path / "nocrs.csv"
    with pytest.raises(Exception, match="not found"):
        read_settlements(f, PASER_CRS)


def test_geonames_places_table(paser_source_dir):
    places = read_geonames_places(paser_source_dir / "paser_places_geonames.csv", PASER_CRS)
    assert len(places) == 25 and places["population"].isna().all()
    assert (places["source"] == "GeoNames place").all()


# --- clutter at the handset ----------------------------------------------------------------------


def test_settlement_clutter_marks_the_cells_of_the_points():
    terrain = make_terrain("flat", size=16)
    x, y = terrain.xy(np.array([3, 7, 7]), np.array([4, 9, 9]))
    # a point off the terrain is skipped; points on a cell's edge go to one cell
    c = settlement_clutter(terrain, np.r_[x, -1e6], np.r_[y, 0.0])
    expected = np.full(terrain.shape, 10, dtype=np.int16)
    expected[3, 4] = expected[7, 9] = SETTLEMENT_CLASS
    np.testing.assert_array_equal(c.landcover, expected)
    assert c.name == "paser-worldcover-settlements"
    assert c.classes[SETTLEMENT_CLASS].name == "built_up"
    assert c.classes[SETTLEMENT_CLASS].height_m == 8.0


def test_clutter_auto_builds_the_settlement_grid_without_land_cover():
    terrain = make_terrain("flat", size=16)
    xy = terrain.xy(np.array([5]), np.array([6]))
    cfg = PlanConfig()
    grid = cfg.clutter_model(terrain=terrain, settlement_xy=xy)
    assert grid.landcover[5, 6] == SETTLEMENT_CLASS and (grid.landcover == 10).sum() == 255
    # no points: tropical forest everywhere, as before
    assert cfg.clutter_model(terrain=terrain, settlement_xy=(np.zeros(0), np.zeros(0))
                             ).uniform_class == 10
    # a land-cover grid wins: a settlement gets the class of its own cell
    codes = np.full(terrain.shape, 40, dtype=np.int16)
    assert cfg.clutter_model(codes, terrain=terrain, settlement_xy=xy).landcover[5, 6] == 40
    # uniform forest stays available; line of sight has no clutter
    assert cfg.replace(clutter="tree").clutter_model(terrain=terrain, settlement_xy=xy
                                                      ).uniform_class == 10
    assert cfg.replace(model="los").clutter_model(terrain=terrain, settlement_xy=xy) is None
    # p1812 takes the same grid along the path
    p = cfg.replace(model="p1812").clutter_model(terrain=terrain, settlement_xy=xy)
    np.testing.assert_array_equal(p.landcover, grid.landcover)


def test_the_settlement_grid_enters_the_footprint_key():
    terrain = make_terrain("flat", size=16)
    cfg = PlanConfig()
    keys = set()
    for xy in ((np.zeros(0), np.zeros(0)), terrain.xy([5], [6]), terrain.xy([5], [7])):
        keys.add(input_key(cfg.coverage_settings(terrain=terrain, settlement_xy=xy).key_parts()))
    assert len(keys) == 3
    label = cfg.coverage_settings(terrain=terrain, settlement_xy=terrain.xy([5], [6])).label(90.0)
    assert "tree clutter, built-up at settlements" in label


def test_settlement_clutter_lowers_the_loss_at_the_settlement_only():
    terrain = make_terrain("flat", size=64)
    sites = gpd.GeoDataFrame({"height_agl_m": [30.0]}, geometry=[shapely.Point(*terrain.xy(32, 32))],
                             index=pd.Index(["s"], name="site_id"), crs=PASER_CRS)
    xy = terrain.xy(np.array([32]), np.array([50]))
    cfg = PlanConfig(radius_m=900.0)
    forest = cfg.coverage_settings().compute(terrain, sites).footprints[0]
    kampung = cfg.coverage_settings(terrain=terrain, settlement_xy=xy).compute(terrain, sites
                                                                                ).footprints[0]
    r0, c0 = forest.row_off, forest.col_off
    a, b = forest.path_loss_db, kampung.path_loss_db
    here = (32 - r0, 50 - c0)
    # 8 m built-up instead of 20 m forest at the handset: the P.2108 losses of the two classes
    classes = ClutterModel.paser().classes
    step = (loss_for_class(classes[10], 900.0, 1.5)
            - loss_for_class(classes[SETTLEMENT_CLASS], 900.0, 1.5))
    assert step > 5.0
    assert a[here] - b[here] == pytest.approx(step, abs=1e-3)
    other = np.isfinite(a) & np.isfinite(b)
    other[here] = False
    np.testing.assert_array_equal(a[other], b[other])


# --- words ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("label", [
    "settlements: 1 per desa (GeoNames place 7, representative point 137)",
    "settlements: settlement file 6 in 2 desa; 1 per desa for 1 (representative point 1); "
    "1 outside every desa ignored",
    "land cover: built-up and cropland cells in 1 desa; 1 per desa for 1 (representative point 1)",
    "uniform: 250 m cells over each desa",
    "population raster: pop.tif on 250 m cells",
    "settlements: OSM place 4 in 3 desa",
])
def test_every_demand_label_reads_in_bahasa_indonesia(label):
    class R:
        demand_model = label

    text = demand_text(R(), "id")
    english = ("settlement", "place", "representative", "outside", "ignored", "land cover",
               "cropland", "uniform", "cells", "each", "population", " in ", " on ")
    assert not any(w in text for w in english), text
    assert demand_text(R(), "en") == label


def full(fp, shape):
    out = np.full(shape, np.nan, dtype=np.float32)
    r, c = fp.path_loss_db.shape
    out[fp.row_off : fp.row_off + r, fp.col_off : fp.col_off + c] = fp.path_loss_db
    return out


def test_the_loss_cut_off_takes_the_smallest_class_present_and_loses_no_cell():
    """The sweep may stop at the cut-off less the smallest terminal loss of the classes in the
    grid (built-up here, not the 0 dB of water that no cell has): every cell within the cut-off
    is the cell an uncut run gives, bit for bit."""
    from blankspot.coverage import _resolve_clutter, site_footprint

    terrain = make_terrain("rough", size=64)
    rows = np.arange(4, 64, 9)
    x, y = terrain.xy(np.repeat(rows, len(rows)), np.tile(rows, len(rows)))
    clutter = settlement_clutter(terrain, x, y)
    resolved = _resolve_clutter(clutter, terrain)
    classes = clutter.classes
    assert resolved.min_terminal_loss_db(900.0, 1.5) == pytest.approx(
        loss_for_class(classes[SETTLEMENT_CLASS], 900.0, 1.5))
    assert min(loss_for_class(c, 900.0, 1.5) for c in classes.values()) < (
        resolved.min_terminal_loss_db(900.0, 1.5) - 5.0)
    sx, sy = terrain.xy(31.3, 30.6)
    kw = dict(model="itm", radius_m=900.0, freq_mhz=900.0, clutter=clutter)
    uncut = full(site_footprint(terrain, "s", sx, sy, 25.0, **kw), terrain.shape)
    for cut in (115.0, 125.0):
        got = full(site_footprint(terrain, "s", sx, sy, 25.0, max_loss_db=cut, **kw),
                   terrain.shape)
        want = np.where(uncut > cut, np.float32(np.nan), uncut)
        np.testing.assert_array_equal(got, want)
        assert np.isfinite(got).sum() > 100 and np.isnan(got).sum() > 100
