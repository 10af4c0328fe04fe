"""``blankspot coverage`` writes on the input DEM's own lattice (same CRS, cell size, cell edges).

Synthetic DEMs are written into tmp_path: projected (UTM 50S, 30 m, origins that are not
multiples of 30 m) and geographic (EPSG:4326, 1 arc-second), odd and even sizes, sites on and off
cell centres, radii inside and past the DEM's edge.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import rasterio
from affine import Affine
from click.testing import CliRunner
from pyproj import Geod, Transformer
from rasterio.transform import from_origin

from blankspot.cli import main
from blankspot.errors import BlankspotWarning
from blankspot.propagation import free_space_loss_db, viewshed
from blankspot.site_raster import LOS_NODATA, site_raster
from blankspot.terrain import Terrain

UTM = "EPSG:32750"
ARCSEC = 1.0 / 3600.0
TO_LONLAT = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)


def _relief(rows: int, cols: int) -> np.ndarray:
    r, c = np.mgrid[0:rows, 0:cols].astype(float)
    return (60.0 + 40.0 * np.sin(c / 23.0) * np.cos(r / 31.0) + 0.05 * c).astype(np.float32)


def _write_dem(path, transform: Affine, crs: str, rows: int, cols: int) -> np.ndarray:
    z = _relief(rows, cols)
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=1,
                       dtype="float32", crs=crs, transform=transform, nodata=-9999.0) as dst:
        dst.write(z, 1)
    return z


def _assert_on_lattice(out, dem) -> tuple[int, int]:
    """The output is a window of the DEM's lattice, inside the DEM; returns its (col, row) offset."""
    assert out.crs == dem.crs
    assert out.res == pytest.approx(dem.res, rel=1e-12)
    t, d = out.transform, dem.transform
    assert t.b == 0 and t.d == 0 and t.a == pytest.approx(d.a, rel=1e-12) and t.e == pytest.approx(d.e, rel=1e-12)
    c, r = (t.c - d.c) / d.a, (t.f - d.f) / d.e
    assert abs(c - round(c)) < 1e-9 and abs(r - round(r)) < 1e-9
    c, r = round(c), round(r)
    assert 0 <= c and c + out.width <= dem.width
    assert 0 <= r and r + out.height <= dem.height
    return c, r


def _run_cli(dem_path, lon, lat, radius_km, model, out_path, *extra):
    res = CliRunner().invoke(main, ["coverage", "--dem", str(dem_path), "--lon", repr(lon), "--lat", repr(lat),
                                    "--height-agl-m", "30", "--radius-km", str(radius_km),
                                    "--model", model, "--out", str(out_path), *extra])
    assert res.exit_code == 0, res.output
    return rasterio.open(out_path)


def test_issue_case_utm_601_at_30_m_is_written_on_the_dem_grid(tmp_path):
    """601 x 601 cells of 30 m at (400000, 9798030), 9 km LOS: once written 20 m east, a column short."""
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, from_origin(400_000.0, 9_798_030.0, 30.0, 30.0), UTM, 601, 601)
    x, y = 400_000.0 + 300.5 * 30.0, 9_798_030.0 - 300.5 * 30.0  # centre of cell (300, 300)
    lon, lat = TO_LONLAT.transform(x, y)
    with rasterio.open(dem_path) as dem, _run_cli(dem_path, lon, lat, 9.0, "los", tmp_path / "los.tif") as out:
        c, r = _assert_on_lattice(out, dem)
        v = out.read(1)
        assert v[300 - r, 300 - c] == 1
        # the 9 km disc spans the whole DEM (cell centres 300 cells from the site sit on the radius)
        assert out.width >= 600 and out.height >= 600
        # edge midpoints inside the radius are computed, the corners (12.7 km) are not
        assert v[300 - r, 1 - c] != LOS_NODATA and v[1 - r, 300 - c] != LOS_NODATA
        assert v[0, 0] == LOS_NODATA and v[-1, -1] == LOS_NODATA


@pytest.mark.parametrize("size", [(601, 601), (600, 598)])
@pytest.mark.parametrize("frac", [(0.5, 0.5), (0.13, 0.87)], ids=["centre", "off-centre"])
@pytest.mark.parametrize("radius_m", [2_500.0, 9_400.0], ids=["inside", "past-edge"])
def test_projected_dem_los_is_the_viewshed_on_the_dem_cells(tmp_path, size, frac, radius_m):
    rows, cols = size
    origin = (400_007.0, 9_798_013.0)  # not a multiple of 30 m either way
    transform = from_origin(*origin, 30.0, 30.0)
    dem_path = tmp_path / "dem.tif"
    z = _write_dem(dem_path, transform, UTM, rows, cols)
    sr, sc = rows // 2 - 7, cols // 2 + 11
    x = origin[0] + (sc + frac[1]) * 30.0
    y = origin[1] - (sr + frac[0]) * 30.0
    lon, lat = TO_LONLAT.transform(x, y)
    r = site_raster(dem_path, lon, lat, height_agl_m=30.0, radius_m=radius_m, model="los")
    with rasterio.open(dem_path) as dem:
        c0, r0 = _assert_on_lattice(_Meta(r), dem)
    assert r.values[sr - r0, sc - c0] == 1
    # no resampling: the same as the viewshed on the DEM's own cells
    x2, y2 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    vs = viewshed(Terrain(z, transform, UTM), x2, y2, height_agl_m=30.0, rx_height_agl_m=1.5,
                  radius_m=radius_m, k_factor=float(r.tags["k_factor"]))
    expect = np.where(vs.visible, 1, 0).astype(np.uint8)
    expect[~np.isfinite(vs.distance_m)] = LOS_NODATA
    full = np.full((rows, cols), LOS_NODATA, np.uint8)
    full[vs.window] = expect
    got = np.full((rows, cols), LOS_NODATA, np.uint8)
    got[r0 : r0 + r.values.shape[0], c0 : c0 + r.values.shape[1]] = r.values
    np.testing.assert_array_equal(got, full)
    assert 0.02 < (full == 1).sum() / (full != LOS_NODATA).sum() < 0.98
    if radius_m > 9_000.0:  # the disc is cut by the DEM's edge: the window stops there
        assert r0 == 0 or c0 == 0 or r0 + r.values.shape[0] == rows or c0 + r.values.shape[1] == cols


def test_projected_fspl_is_the_distance_to_each_dem_cell_centre(tmp_path):
    origin = (500_011.0, 9_800_029.0)
    transform = from_origin(*origin, 30.0, 30.0)
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, transform, UTM, 301, 300)
    x, y = origin[0] + 150.3 * 30.0, origin[1] - 140.8 * 30.0
    lon, lat = TO_LONLAT.transform(x, y)
    r = site_raster(dem_path, lon, lat, height_agl_m=30.0, radius_m=3_000.0, model="fspl")
    x, y = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(lon, lat)
    rows, cols = np.mgrid[0 : r.values.shape[0], 0 : r.values.shape[1]]
    cx = r.transform.c + (cols + 0.5) * r.transform.a
    cy = r.transform.f + (rows + 0.5) * r.transform.e
    d = np.hypot(cx - x, cy - y)
    ok = np.isfinite(r.values) & (d > 100.0)
    assert ok.sum() > 20_000
    np.testing.assert_allclose(r.values[ok], free_space_loss_db(d[ok], 900.0), atol=1e-3)


def test_projected_itm_runs_on_the_dem_cells(tmp_path):
    origin = (400_007.0, 9_798_013.0)
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, from_origin(*origin, 30.0, 30.0), UTM, 301, 300)
    lon, lat = TO_LONLAT.transform(origin[0] + 150.2 * 30.0, origin[1] - 150.7 * 30.0)
    with rasterio.open(dem_path) as dem, _run_cli(dem_path, lon, lat, 2.0, "itm", tmp_path / "itm.tif") as out:
        c, r = _assert_on_lattice(out, dem)
        v = out.read(1)
        assert v[150 - r, 150 - c] == np.nanmin(v) < 60.0  # the site's own cell: the least loss
        assert "DEM's own cells" in out.tags()["analysis_grid"]


def test_projected_dem_with_a_coarser_analysis_cell_is_written_back_on_the_dem_grid(tmp_path):
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, from_origin(400_007.0, 9_798_013.0, 30.0, 30.0), UTM, 401, 400)
    lon, lat = TO_LONLAT.transform(400_007.0 + 200.5 * 30.0, 9_798_013.0 - 200.5 * 30.0)
    with rasterio.open(dem_path) as dem, _run_cli(dem_path, lon, lat, 4.0, "fspl", tmp_path / "f.tif",
                                                  "--res-m", "90") as out:
        c, r = _assert_on_lattice(out, dem)
        v = out.read(1)
        assert np.isfinite(v[200 - r, 200 - c]) and v[200 - r, 200 - c] < 80.0
        assert "nearest" in out.tags()["analysis_grid"]


@pytest.mark.parametrize("size", [(901, 901), (900, 902)])
@pytest.mark.parametrize("frac", [(0.5, 0.5), (0.21, 0.71)], ids=["centre", "off-centre"])
@pytest.mark.parametrize("radius_m", [3_000.0, 16_000.0], ids=["inside", "past-edge"])
def test_geographic_dem_output_is_on_its_lon_lat_lattice(tmp_path, size, frac, radius_m):
    rows, cols = size
    lon0, lat0 = 116.0, -1.75  # cell edges on whole arc-seconds
    transform = from_origin(lon0, lat0, ARCSEC, ARCSEC)
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, transform, "EPSG:4326", rows, cols)
    sr, sc = rows // 2 + 3, cols // 2 - 5
    lon = lon0 + (sc + frac[1]) * ARCSEC
    lat = lat0 - (sr + frac[0]) * ARCSEC
    with rasterio.open(dem_path) as dem:
        ctx = pytest.warns(BlankspotWarning) if radius_m > 14_000.0 else contextlib.nullcontext()
        with ctx:
            out = _run_cli(dem_path, lon, lat, radius_m / 1000.0, "los", tmp_path / "los.tif")
        with out:
            assert out.crs.to_epsg() == 4326
            c0, r0 = _assert_on_lattice(out, dem)
            v = out.read(1)
            assert v[sr - r0, sc - c0] == 1  # the site's own cell
            inside = v != LOS_NODATA
            assert 0.02 < (v == 1).sum() / inside.sum() < 0.98
            if radius_m > 14_000.0:  # 450 cells of 30.9 m: the disc passes every edge
                assert (c0, r0, out.width, out.height) == (0, 0, cols, rows)
            else:  # the window holds the whole disc, one cell of slack at most
                cell_w = 30.92 * math.cos(math.radians(lat))  # 1 arc-second of longitude, metres
                assert abs(out.width - 2 * radius_m / cell_w) <= 4
                assert abs(out.height - 2 * radius_m / 30.71) <= 4


def test_geographic_fspl_is_resampled_nearest_from_the_metric_grid(tmp_path):
    """Each DEM cell carries the value of the 30 m UTM analysis cell holding its centre: the loss
    is that of a point at most half a UTM cell's diagonal (21 m) from the DEM cell's centre."""
    lon0, lat0 = 116.0, -1.75
    transform = from_origin(lon0, lat0, ARCSEC, ARCSEC)
    dem_path = tmp_path / "dem.tif"
    _write_dem(dem_path, transform, "EPSG:4326", 401, 400)
    lon, lat = lon0 + 200.37 * ARCSEC, lat0 - 190.62 * ARCSEC
    r = site_raster(dem_path, lon, lat, height_agl_m=30.0, radius_m=5_000.0, model="fspl")
    assert r.crs.to_epsg() == 4326 and "nearest" in r.tags["analysis_grid"]
    rows, cols = np.mgrid[0 : r.values.shape[0], 0 : r.values.shape[1]]
    clon = r.transform.c + (cols + 0.5) * r.transform.a
    clat = r.transform.f + (rows + 0.5) * r.transform.e
    _, _, d = Geod(ellps="WGS84").inv(np.full(clon.shape, lon), np.full(clon.shape, lat), clon, clat)
    ok = np.isfinite(r.values) & (d > 500.0)
    assert ok.sum() > 30_000
    # distance implied by the written loss, against the geodesic to the cell centre
    d_written = 10.0 ** ((r.values[ok] - free_space_loss_db(1000.0, 900.0)) / 20.0) * 1000.0
    err = np.abs(d_written - d[ok])
    assert err.max() < 15.0 * math.sqrt(2.0) + 1.0
    assert np.median(err) < 12.0


def test_geographic_tiles_give_one_lattice_across_the_seam(tmp_path):
    """Two 1 arc-second tiles side by side: the output spans both, on the first tile's lattice."""
    lon0, lat0 = 116.0, -1.75
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    _write_dem(a, from_origin(lon0, lat0, ARCSEC, ARCSEC), "EPSG:4326", 300, 300)
    _write_dem(b, from_origin(lon0 + 300 * ARCSEC, lat0, ARCSEC, ARCSEC), "EPSG:4326", 300, 300)
    lon, lat = lon0 + 299.5 * ARCSEC, lat0 - 150.5 * ARCSEC
    r = site_raster([a, b], lon, lat, height_agl_m=30.0, radius_m=3_000.0, model="los")
    c = (r.transform.c - lon0) / ARCSEC
    assert abs(c - round(c)) < 1e-6
    assert round(c) + r.values.shape[1] > 350  # well into the second tile
    assert r.values[150 - round((lat0 - r.transform.f) / ARCSEC), 299 - round(c)] == 1


class _Meta:
    """A SiteRaster seen through the attributes of a rasterio dataset."""

    def __init__(self, r):
        self.crs, self.transform = rasterio.crs.CRS.from_wkt(r.crs.to_wkt()), r.transform
        self.height, self.width = r.values.shape
        self.res = (r.transform.a, -r.transform.e)


def test_read_terrain_native_returns_the_dem_cells_unchanged(tmp_path):
    from blankspot.io.terrain import dem_grid, read_terrain_native

    origin = (400_007.0, 9_798_013.0)
    transform = from_origin(*origin, 30.0, 30.0)
    dem_path = tmp_path / "dem.tif"
    z = _write_dem(dem_path, transform, UTM, 101, 120)
    g = dem_grid(dem_path)
    assert g.shared and g.square_metric and (g.width, g.height) == (120, 101)
    assert g.transform.almost_equals(transform)
    # bounds running past the west and north edges: clipped there, on the DEM's cell edges
    t = read_terrain_native(dem_path, (origin[0] - 500.0, origin[1] - 1_000.0, origin[0] + 900.0, origin[1] + 500.0))
    c, r = (t.transform.c - origin[0]) / 30.0, (origin[1] - t.transform.f) / 30.0
    assert (c, r) == (0.0, 0.0)
    rows, cols = t.shape
    np.testing.assert_array_equal(t.elevation_m, z[:rows, :cols])
    assert cols * 30.0 >= 900.0 and rows * 30.0 >= 1_000.0
