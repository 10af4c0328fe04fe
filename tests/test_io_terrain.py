"""read_terrain: windows, mosaics of tiles, VRT, SRTM .hgt, nodata, and every error at once."""

from __future__ import annotations

import shutil
import subprocess
import time
import warnings

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window, from_bounds

from blankspot.errors import BlankspotWarning, CRSError, DataError, UnitsError
from blankspot.io import default_res_m, read_terrain

DEMO = "terrain/paser_dem_demo_1s_synthetic.tif"
# a 0.2° x 0.2° block of the demo DEM, cut into tiles below (720 x 720 cells of 1")
BLOCK = (115.95, -1.95, 116.15, -1.75)
INNER = (116.0, -1.9, 116.1, -1.8)  # well inside BLOCK


@pytest.fixture(scope="module")
def demo_dem(paser_source_dir):
    return paser_source_dir / DEMO


def _cut(src_path, dst_path, bounds, *, crs=None, nodata_box=None, bands=1, drop_crs=False):
    """Write the ``bounds`` (lon/lat) window of a GeoTIFF as a new GeoTIFF."""
    with rasterio.open(src_path) as src:
        win = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=win)
        profile = src.profile | {
            "width": data.shape[1],
            "height": data.shape[0],
            "count": bands,
            "transform": src.transform @ Affine.translation(win.col_off, win.row_off),
            "tiled": False,
            "compress": "deflate",
        }
        profile.pop("blockxsize", None)
        profile.pop("blockysize", None)
    if nodata_box is not None:
        r0, c0, r1, c1 = nodata_box
        data = data.copy()
        data[r0:r1, c0:c1] = -32768
    if drop_crs:
        profile["crs"] = None
    with rasterio.open(dst_path, "w", **profile) as dst:
        for b in range(1, bands + 1):
            dst.write(data, b)
    return dst_path


@pytest.fixture(scope="module")
def tiles(demo_dem, tmp_path_factory):
    """West and east halves of BLOCK as separate GeoTIFFs, plus the whole block as one file."""
    d = tmp_path_factory.mktemp("tiles")
    mid = (BLOCK[0] + BLOCK[2]) / 2
    west = _cut(demo_dem, d / "west.tif", (BLOCK[0], BLOCK[1], mid, BLOCK[3]))
    east = _cut(demo_dem, d / "east.tif", (mid, BLOCK[1], BLOCK[2], BLOCK[3]))
    whole = _cut(demo_dem, d / "whole.tif", BLOCK)
    return west, east, whole


# --- the Paser demo DEM -------------------------------------------------------------------------
def test_paser_window_20km(demo_dem):
    lon, lat, d = 116.05, -1.85, 0.09  # ±10 km
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_terrain(demo_dem, bounds=(lon - d, lat - d, lon + d, lat + d))
    elapsed = time.perf_counter() - t0
    assert t.crs.to_epsg() == 32750
    assert t.res_m == 30.0
    assert t.transform.c % 30 == 0 and t.transform.f % 30 == 0
    rows, cols = t.shape
    assert 650 <= rows <= 700 and 650 <= cols <= 700
    assert t.synthetic is True
    assert "SYNTHETIC" in t.source and "paser_dem_demo_1s_synthetic.tif" in t.source
    assert not t.nodata_mask.any()
    assert t.elevation_m.dtype == np.float32
    assert 0.0 <= float(t.elevation_m.min()) and float(t.elevation_m.max()) < 1600.0
    assert float(t.elevation_m.std()) > 1.0
    assert elapsed < 5.0  # about 0.05 s on a laptop


def test_paser_full_demo_dem(demo_dem):
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cells outside the source's lon/lat box are not "holes"
        t = read_terrain(demo_dem)
    elapsed = time.perf_counter() - t0
    assert t.crs.to_epsg() == 32750 and t.res_m == 30.0
    assert t.shape[0] > 5000 and t.shape[1] > 4000
    assert 0.0 <= np.nanmin(t.elevation_m) and np.nanmax(t.elevation_m) <= 1525.0
    assert elapsed < 20.0  # about 2 s on 2 cores


def test_bounds_in_metres_and_explicit_res(demo_dem):
    b = (390_010.0, 9_790_020.0, 392_990.0, 9_791_970.0)
    t = read_terrain(demo_dem, bounds=b, crs="EPSG:32750", res_m=100)
    assert t.bounds == (390_000.0, 9_790_000.0, 393_000.0, 9_792_000.0)
    assert t.shape == (20, 30)
    t2 = read_terrain(demo_dem, bounds=b, bounds_crs=32750, crs=32750, resampling="nearest")
    assert t2.res_m == 30.0


def test_real_coarse_dem_warns_about_sea_nodata(paser_source_dir):
    with pytest.warns(BlankspotWarning, match=r"cells .* have no elevation") as rec:
        t = read_terrain(paser_source_dir / "paser_dem_mapzen_pvlib.tif")
    assert t.res_m == 9000.0
    assert t.nodata_mask.any() and not t.synthetic
    assert "EPSG:32750" in str(rec[0].message)


# --- mosaics, VRT, .hgt ------------------------------------------------------------------------
def test_tiles_equal_single_file(tiles, demo_dem):
    west, east, whole = tiles
    one = read_terrain(demo_dem, bounds=INNER)
    two = read_terrain([west, east], bounds=INNER)
    rev = read_terrain([east, west], bounds=INNER)
    blk = read_terrain(whole, bounds=INNER)
    for other in (two, rev, blk):
        assert other.transform == one.transform and other.shape == one.shape
        np.testing.assert_array_equal(other.elevation_m, one.elevation_m)
    assert not two.nodata_mask.any()
    assert two.synthetic is False
    assert two.source == "west.tif, east.tif"
    assert read_terrain([west, east], bounds=INNER, synthetic=True).synthetic is True


@pytest.mark.skipif(shutil.which("gdalbuildvrt") is None, reason="gdalbuildvrt not installed")
def test_vrt_equals_single_file(tiles, demo_dem, tmp_path):
    west, east, _ = tiles
    vrt = tmp_path / "mosaic.vrt"
    subprocess.run(["gdalbuildvrt", "-q", str(vrt), str(west), str(east)], check=True)
    one = read_terrain(demo_dem, bounds=INNER)
    v = read_terrain(vrt, bounds=INNER)
    np.testing.assert_array_equal(v.elevation_m, one.elevation_m)


def test_tiles_in_different_crs_are_mosaicked(tiles, demo_dem, tmp_path):
    west, east, _ = tiles
    # warp the east tile to UTM: a second grid, warped separately and used to fill the holes
    east_utm = tmp_path / "east_utm.tif"
    with rasterio.open(east) as src:
        x0, y0, x1, y1 = transform_bounds(src.crs, "EPSG:32750", *src.bounds)
        tr = Affine(30.0, 0.0, x0 // 30 * 30, 0.0, -30.0, y1 // 30 * 30 + 30)
        w, h = int((x1 - x0) // 30) + 2, int((y1 - y0) // 30) + 2
        out = np.full((h, w), -32768, dtype=np.int16)
        reproject(
            rasterio.band(src, 1), out, dst_transform=tr, dst_crs="EPSG:32750", dst_nodata=-32768
        )
        profile = src.profile | {"crs": "EPSG:32750", "transform": tr, "width": w, "height": h}
    with rasterio.open(east_utm, "w", **profile) as dst:
        dst.write(out, 1)
    b = (116.02, -1.88, 116.08, -1.82)
    ref = read_terrain(demo_dem, bounds=b)
    mixed = read_terrain([west, east_utm], bounds=b)
    assert not mixed.nodata_mask.any()
    diff = np.abs(mixed.elevation_m - ref.elevation_m)
    assert float(np.median(diff)) < 2.0  # two resamplings vs one


def test_srtm_hgt(tmp_path):
    n = 1201  # 3 arc-second SRTM tile; SRTMHGT also accepts 3601 x 3601 and 1801 x 3601
    rows = np.arange(n, dtype=np.int16)[:, None]
    cols = np.arange(n, dtype=np.int16)[None, :]
    elev = (rows + cols).astype(">i2")
    elev[600:610, 600:610] = -32768  # a void
    path = tmp_path / "S02E116.hgt"  # covers lat -2..-1, lon 116..117
    elev.tofile(path)
    with rasterio.open(path) as src:
        assert src.driver == "SRTMHGT"
    with pytest.warns(BlankspotWarning, match="no elevation"):
        t = read_terrain(path, bounds=(116.45, -1.55, 116.55, -1.45))
    assert t.crs.to_epsg() == 32750
    assert t.res_m == 90.0  # 3" = 92.6 m, rounded down
    assert t.nodata_mask.any() and not t.nodata_mask.all()
    ok = t.elevation_m[~t.nodata_mask]
    assert 1000 < ok.min() and ok.max() < 1400  # rows+cols near the tile's centre
    assert "S02E116.hgt" in t.source


def test_nodata_hole_warns_with_where(demo_dem, tmp_path):
    path = _cut(demo_dem, tmp_path / "holey.tif", BLOCK, nodata_box=(300, 300, 340, 340))
    with pytest.warns(BlankspotWarning) as rec:
        t = read_terrain(path, bounds=INNER)
    msg = str(rec[0].message)
    assert "have no elevation" in msg and "within x" in msg and "nodata_mask" in msg
    assert 1000 < int(t.nodata_mask.sum()) < 2500  # 40" x 40" = ~1.5 km square ~ 1700 cells
    assert np.isnan(t.elevation_m[t.nodata_mask]).all()


def test_multiband_uses_band_one(demo_dem, tmp_path):
    path = _cut(demo_dem, tmp_path / "two.tif", INNER, bands=2)
    t = read_terrain(path)
    assert "band 1 of 2" in t.source


# --- errors ------------------------------------------------------------------------------------
def test_errors_reported_together(tmp_path, demo_dem):
    with pytest.raises(DataError) as info:
        read_terrain(
            [tmp_path / "missing.tif", demo_dem], crs="EPSG:4326", res_m=-5, resampling="magic"
        )
    msg = str(info.value)
    assert "4 problems" in msg
    assert "missing.tif does not exist" in msg
    assert (
        "EPSG:4326 is geographic, degrees: a DEM in degrees handed to a metric computation" in msg
    )
    assert "res_m must be a cell size in metres > 0; received -5" in msg
    assert "unknown resampling 'magic'" in msg


def test_geographic_crs_alone_is_a_crs_error(demo_dem):
    with pytest.raises(CRSError, match="a DEM in degrees handed to a metric computation"):
        read_terrain(demo_dem, crs=4326)


def test_source_without_crs_and_unreadable(demo_dem, tmp_path):
    no_crs = _cut(demo_dem, tmp_path / "nocrs.tif", INNER, drop_crs=True)
    junk = tmp_path / "junk.tif"
    junk.write_text("not a raster")
    with pytest.raises(DataError) as info:
        read_terrain([no_crs, junk])
    msg = str(info.value)
    assert "nocrs.tif declares no CRS" in msg
    assert "junk.tif could not be read as a raster" in msg
    with pytest.raises(CRSError, match="declares no CRS"):
        read_terrain(no_crs)


def test_bad_bounds(demo_dem):
    with pytest.raises(UnitsError, match="empty or reversed"):
        read_terrain(demo_dem, bounds=(116.1, -1.8, 116.0, -1.9))
    with pytest.raises(UnitsError, match=r"latitude 116 out of range -90\.\.90"):
        read_terrain(demo_dem, bounds=(-1.9, 116.0, -1.8, 116.1))
    with pytest.raises(UnitsError, match="four finite numbers"):
        read_terrain(demo_dem, bounds=(1, 2, 3))
    with pytest.raises(UnitsError):
        read_terrain(demo_dem, res_m=0)


def test_bounds_outside_every_source(demo_dem):
    with pytest.raises(DataError) as info:
        read_terrain(demo_dem, bounds=(110.0, -5.0, 110.1, -4.9))
    msg = str(info.value)
    assert "do not intersect any source" in msg
    assert "(110, -5, 110.1, -4.9)" in msg
    assert "(115.55, -2.45, 116.65, -0.92) for paser_dem_demo_1s_synthetic.tif" in msg


def test_all_nodata_is_an_error(demo_dem, tmp_path):
    path = _cut(demo_dem, tmp_path / "void.tif", INNER, nodata_box=(0, 0, 10_000, 10_000))
    with pytest.raises(DataError, match="every cell in the requested bounds"):
        read_terrain(path)


def test_default_res_m():
    assert default_res_m(1 / 3600, "EPSG:4326") == 30.0
    assert default_res_m(3 / 3600, "EPSG:4326") == 90.0
    assert default_res_m(5 / 60, "EPSG:4326") == 9000.0
    assert default_res_m(0.5 / 3600, "EPSG:4326") == 15.0
    assert default_res_m(10.0, "EPSG:32750") == 10.0
    assert default_res_m(25.0, "EPSG:32750") == 25.0
    assert default_res_m(1.0, "EPSG:32750") == 1.0


def test_terrain_window_affine_is_north_up(demo_dem):
    t = read_terrain(demo_dem, bounds=INNER)
    assert isinstance(t.transform, Affine)
    assert t.transform.a == -t.transform.e == 30.0
    assert Window(0, 0, 1, 1).width == 1
