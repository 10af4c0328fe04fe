"""Clutter: WorldCover classes, P.2108 terminal losses, land-cover rasters, and clutter counted
once in coverage (P.2108 on ITM, heights along the path for P.1812)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import Transformer
from shapely.geometry import Point

from blankspot.clutter import (
    OIL_PALM,
    PASER_CLASSES,
    ClutterClass,
    ClutterModel,
    clutter_heights_m,
    landcover_classes,
    terminal_loss_db,
)
from blankspot.coverage import compute_coverage, site_footprint
from blankspot.errors import ConfigError, CRSError, InputError, UnitsError
from blankspot.propagation import LinkBudget
from blankspot.propagation.radial import radial_path_loss
from blankspot.testing import cell_centre, make_terrain


def test_paser_class_table():
    expected = {
        10: (20.0, "trees_forest"),
        20: (3.0, "open_rural"),
        30: (1.0, "open_rural"),
        40: (1.0, "open_rural"),
        50: (8.0, "suburban"),
        80: (0.0, "water_sea"),
        95: (10.0, "trees_forest"),
    }
    for code, (height, kind) in expected.items():
        assert (PASER_CLASSES[code].height_m, PASER_CLASSES[code].p2108_type) == (height, kind)
    assert set(PASER_CLASSES) == {10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100}
    assert ClutterModel.paser(tree_cover="oil_palm").classes[10] == OIL_PALM
    assert OIL_PALM.height_m == 10.0
    codes = np.array([[10, 80], [50, 95]], dtype=np.uint8)
    np.testing.assert_array_equal(ClutterModel.paser().heights_m(codes), [[20, 0], [8, 10]])


# planning parameters §2, "Terminal clutter loss for a 1.5 m handset" (0.05 dB: printed to 0.1)
@pytest.mark.parametrize(
    ("code", "height_m", "freq_mhz", "loss_db"),
    [
        (10, 20.0, 900.0, 25.1),
        (10, 20.0, 1800.0, 28.1),
        (10, 15.0, 900.0, 22.6),
        (10, 15.0, 1800.0, 25.6),
        (10, 12.0, 900.0, 20.5),
        (10, 10.0, 900.0, 18.8),
        (10, 10.0, 1800.0, 21.8),
        (20, 4.0, 900.0, 9.2),
        (20, 4.0, 1800.0, 10.0),
    ],
)
def test_terminal_loss_matches_planning_table(code, height_m, freq_mhz, loss_db):
    model = ClutterModel.paser().with_class(code, height_m=height_m)
    assert float(terminal_loss_db(freq_mhz, 1.5, code, model=model)) == pytest.approx(
        loss_db, abs=0.05
    )


def test_terminal_loss_grid_and_low_clutter():
    codes = np.array([[10, 30], [80, 50]], dtype=np.int16)
    loss = terminal_loss_db(900.0, 1.5, codes)
    assert loss.dtype == np.float32 and loss.shape == (2, 2)
    assert loss[0, 0] == pytest.approx(25.1, abs=0.05)
    assert loss[0, 1] == 0.0 and loss[1, 0] == 0.0  # grass 1 m and water: below the handset
    assert loss[1, 1] > 0.0
    with pytest.raises(InputError, match="integer"):
        terminal_loss_db(900.0, 1.5, np.zeros((2, 2)))
    with pytest.raises(UnitsError, match="2 problems"):
        terminal_loss_db(6000.0, 0.0, codes)


def test_uniform_class():
    terrain = make_terrain("flat")
    assert ClutterModel.uniform("tree").uniform_class == 10
    assert ClutterModel.uniform(95).uniform_class == 95
    np.testing.assert_array_equal(clutter_heights_m(terrain, uniform_class="mangrove"), 10.0)
    oil = clutter_heights_m(terrain, uniform_class="oil_palm")
    assert oil.dtype == np.float32 and oil.shape == terrain.shape and (oil == 10.0).all()
    assert (clutter_heights_m(terrain, model=ClutterModel.uniform("forest")) == 20.0).all()
    with pytest.raises(ConfigError, match="unknown clutter class 'jungle'"):
        ClutterModel.uniform("jungle")
    with pytest.raises(ConfigError, match="exactly one"):
        clutter_heights_m(terrain)
    with pytest.raises(ConfigError, match="exactly one"):
        clutter_heights_m(terrain, "x.tif", uniform_class="tree")


def test_class_tables_and_model_settings_are_checked():
    with pytest.raises(UnitsError, match="height_m must be a clutter height"):
        ClutterClass("tall", -1.0, "urban")
    with pytest.raises(InputError) as info:  # an unknown type outranks the negative height
        ClutterClass("odd", -1.0, "jungle")
    assert len(info.value.problems) == 2
    with pytest.raises(InputError, match="map integer codes to ClutterClass"):
        ClutterModel(classes={10: 20.0})
    with pytest.raises(InputError, match="give both height_m and p2108_type"):
        ClutterModel.paser().with_class(255, height_m=5.0)
    with pytest.raises(InputError, match="2-D grid of integer class codes"):
        ClutterModel.paser().with_landcover(np.zeros((2, 2)))
    with pytest.raises(ConfigError, match="tree_cover must be"):
        ClutterModel.paser(tree_cover="rubber")
    with pytest.raises(ConfigError, match="not both"):
        ClutterModel(uniform_class=10, landcover=np.full((2, 2), 10))
    with pytest.raises(ConfigError, match="uniform_class 7 is not a class"):
        ClutterModel(uniform_class=7)


def _write_lonlat_raster(path, terrain, fill, *, margin_deg=0.002, res_deg=1e-4, crs="EPSG:4326"):
    """A land-cover GeoTIFF in lon/lat around the terrain; ``fill(lon, lat)`` gives the codes."""
    to_geo = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)
    xmin, ymin, xmax, ymax = terrain.bounds
    lon0, lat0 = to_geo.transform(xmin, ymax)
    lon1, lat1 = to_geo.transform(xmax, ymin)
    west, north = min(lon0, lon1) - margin_deg, max(lat0, lat1) + margin_deg
    width = int((abs(lon1 - lon0) + 2 * margin_deg) / res_deg) + 1
    height = int((abs(lat1 - lat0) + 2 * margin_deg) / res_deg) + 1
    lon = west + (np.arange(width) + 0.5) * res_deg
    lat = north - (np.arange(height) + 0.5) * res_deg
    codes = fill(*np.meshgrid(lon, lat)).astype(np.uint8)
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8",
                   transform=Affine(res_deg, 0, west, 0, -res_deg, north), nodata=0)  # fmt: skip
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(codes, 1)


def test_landcover_in_another_crs_is_reprojected_at_read(tmp_path):
    terrain = make_terrain("flat")  # EPSG:32750
    x_mid = terrain.bounds[0] + 32 * terrain.res_m  # edge between columns 31 and 32
    lon_mid = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True).transform(
        x_mid, terrain.bounds[1] + 32 * terrain.res_m
    )[0]
    path = tmp_path / "worldcover_lonlat.tif"
    _write_lonlat_raster(path, terrain, lambda lon, lat: np.where(lon < lon_mid, 10, 80))
    codes = landcover_classes(terrain, path)
    assert codes.shape == terrain.shape and codes.dtype == np.int16
    assert (codes[:, :30] == 10).all() and (codes[:, 34:] == 80).all()
    heights = clutter_heights_m(terrain, path)
    assert (heights[:, :30] == 20.0).all() and (heights[:, 34:] == 0.0).all()


def test_unknown_and_missing_classes_are_listed(tmp_path):
    terrain = make_terrain("flat")
    to_geo = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)
    lon_q, lat_mid = to_geo.transform(
        terrain.bounds[0] + 16 * terrain.res_m, terrain.bounds[1] + 32 * terrain.res_m
    )
    path = tmp_path / "odd.tif"
    # code 255 in the west quarter, 0 (WorldCover no data) in the south, tree cover elsewhere
    _write_lonlat_raster(
        path, terrain, lambda lon, lat: np.where(lon < lon_q, 255, np.where(lat > lat_mid, 10, 0))
    )
    codes = landcover_classes(terrain, path)
    assert (codes == 0).any() and (codes == 255).any() and (codes == 10).any()
    with pytest.raises(InputError) as info:
        clutter_heights_m(terrain, path)
    msg = str(info.value)
    assert f"255: {(codes == 255).sum()} cell(s)" in msg
    assert f"0 (WorldCover no data): {(codes == 0).sum()} cell(s)" in msg
    assert "Known codes" in msg and "with_class" in msg
    model = ClutterModel.paser().with_class(255, height_m=5.0, p2108_type="suburban")
    with pytest.raises(InputError, match="shape"):
        clutter_heights_m(terrain, model=model.with_landcover(np.full((3, 3), 10)))


def test_raster_without_crs_or_missing(tmp_path):
    terrain = make_terrain("flat")
    path = tmp_path / "nocrs.tif"
    _write_lonlat_raster(path, terrain, lambda lon, lat: np.full(lon.shape, 10), crs=None)
    with pytest.raises(CRSError, match="declares no CRS"):
        landcover_classes(terrain, path)
    with pytest.raises(OSError, match="could not be read"):
        landcover_classes(terrain, tmp_path / "missing.tif")


# --- counted once in coverage -------------------------------------------------------------------


def _one_site(terrain, row=32, col=32):
    return gpd.GeoDataFrame(
        {"height_agl_m": [30.0]},
        geometry=[Point(cell_centre(terrain, row, col))],
        index=gpd.pd.Index(["A"], name="site_id"),
        crs=terrain.crs,
    )


def test_itm_adds_the_p2108_terminal_loss():
    terrain = make_terrain("rough")
    site = cell_centre(terrain, 32, 32)
    bare = site_footprint(terrain, "A", *site, 30.0, model="itm", radius_m=600.0)
    trees = site_footprint(
        terrain, "A", *site, 30.0, model="itm", radius_m=600.0, clutter=ClutterModel.uniform(10)
    )
    assert bare.window == trees.window
    inside = np.isfinite(bare.path_loss_db)
    np.testing.assert_array_equal(np.isfinite(trees.path_loss_db), inside)
    np.testing.assert_allclose(
        trees.path_loss_db[inside] - bare.path_loss_db[inside], 25.1, atol=0.05
    )
    # a land-cover grid: each cell gets its own class's loss
    codes = np.where(np.arange(64)[None, :] < 32, 10, 30).repeat(64, axis=0).astype(np.int16)
    mixed = site_footprint(terrain, "A", *site, 30.0, model="itm", radius_m=600.0, clutter=codes)
    added = (mixed.path_loss_db - bare.path_loss_db)[inside]
    expected = terminal_loss_db(900.0, 1.5, codes[mixed.window])[inside]
    np.testing.assert_allclose(added, expected, atol=1e-3)
    assert (expected == 0.0).any() and (expected > 25.0).any()


def test_p1812_puts_clutter_on_the_path_and_adds_nothing_on_top():
    terrain = make_terrain("rough")
    site = cell_centre(terrain, 32, 32)
    fp = site_footprint(
        terrain, "A", *site, 30.0, model="p1812", radius_m=600.0,
        clutter=ClutterModel.uniform("tree"),
    )  # fmt: skip
    sweep = radial_path_loss(
        terrain, *site, height_agl_m=30.0, radius_m=600.0, model="p1812",
        clutter_height_m=np.full((1, 1), 20.0, dtype=np.float32),
    )  # fmt: skip
    ref = np.full(terrain.shape, np.nan, dtype=np.float32)
    ref[sweep.window] = sweep.path_loss_db
    np.testing.assert_array_equal(fp.path_loss_db, ref[fp.window])  # no P.2108 added
    bare = site_footprint(terrain, "A", *site, 30.0, model="p1812", radius_m=600.0)
    assert np.nanmedian(fp.path_loss_db - bare.path_loss_db) > 10.0  # the canopy costs
    heights = np.full(terrain.shape, 20.0, dtype=np.float32)
    by_heights = site_footprint(
        terrain, "A", *site, 30.0, model="p1812", radius_m=600.0, clutter=heights
    )
    np.testing.assert_array_equal(by_heights.path_loss_db, fp.path_loss_db)


def test_coverage_clutter_argument():
    terrain = make_terrain("rough")
    sites = _one_site(terrain)
    budget = LinkBudget()
    cov = compute_coverage(
        terrain, sites, budget=budget, model="itm", radius_m=600.0,
        clutter=ClutterModel.uniform("tree"),
    )  # fmt: skip
    assert cov.model.endswith("+p2108(uniform-tree)")
    cov = compute_coverage(
        terrain, sites, model="p1812", radius_m=600.0, clutter=ClutterModel.uniform("tree")
    )
    assert cov.model.endswith("+clutter(uniform-tree)")
    with pytest.raises(UnitsError, match="land-cover classes"):
        compute_coverage(
            terrain, sites, model="itm", radius_m=600.0,
            clutter=np.full(terrain.shape, 20.0, dtype=np.float32),
        )  # fmt: skip
    with pytest.raises(UnitsError, match="neither uniform"):
        compute_coverage(terrain, sites, model="itm", radius_m=600.0, clutter=ClutterModel.paser())
    with pytest.raises(UnitsError, match="shape"):
        compute_coverage(
            terrain, sites, model="p1812", radius_m=600.0, clutter=np.zeros((3, 3), np.int16)
        )


def test_models_pickle_for_worker_processes():
    import pickle

    for model in (
        ClutterModel.uniform("oil_palm"),
        ClutterModel.paser().with_landcover(np.full((2, 2), 95, dtype=np.int16)),
    ):
        back = pickle.loads(pickle.dumps(model))
        assert dict(back.classes) == dict(model.classes) and back.name == model.name
        assert back.uniform_class == model.uniform_class
    assert (back.landcover == 95).all() and not back.landcover.flags.writeable
