"""Tests of blankspot.candidates: high points, grid candidates and combining with user sites."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.warp import Resampling, reproject, transform_bounds
from rasterio.windows import Window

from blankspot.candidates import combine_sites, empty_sites, generate_candidates
from blankspot.crs import PASER_CRS, WGS84
from blankspot.errors import ConfigError, CRSError, InputError, SchemaError, UnitsError
from blankspot.terrain import Terrain
from blankspot.testing import ZOO_ORIGIN, ZOO_RES_M, make_terrain

SITE_DTYPES = {"height_agl_m": "float64", "cost_idr": "Int64"}


def whole(terrain: Terrain, inset_m: float = 0.0):
    return shapely.box(*terrain.bounds).buffer(-inset_m, join_style="mitre")


def three_peaks() -> tuple[Terrain, list[tuple[int, int, float]]]:
    """64x64 cells of 30 m: base 100 m plus three Gaussian hills of known height and place."""
    peaks = [(10, 10, 300.0), (10, 50, 250.0), (50, 30, 200.0)]
    rows, cols = np.mgrid[0:64, 0:64]
    elev = np.full((64, 64), 100.0)
    for r, c, h in peaks:
        elev += (h - 100.0) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * 6.0**2))
    t = Terrain(
        elevation_m=elev.astype(np.float32),
        transform=Affine(ZOO_RES_M, 0, ZOO_ORIGIN[0], 0, -ZOO_RES_M, ZOO_ORIGIN[1]),
        crs=PASER_CRS,
        source="test:three_peaks",
        synthetic=True,
    )
    return t, peaks


def assert_sites_schema(sites: gpd.GeoDataFrame, terrain: Terrain):
    assert sites.index.name == "site_id"
    assert sites.index.is_unique
    for col, dtype in SITE_DTYPES.items():
        assert str(sites[col].dtype) == dtype
    assert sites["cost_idr"].isna().all()
    assert set(sites["source"]) <= {"high_point", "grid"}
    assert sites.crs == terrain.crs
    assert (sites.geometry.geom_type == "Point").all()
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    assert terrain.contains(x, y).all()
    assert np.isfinite(terrain.elevation_at(x, y)).all()


def test_three_known_peaks_are_found():
    t, peaks = three_peaks()
    sites = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=10_000)
    assert_sites_schema(sites, t)
    hp = sites[sites["source"] == "high_point"]
    assert hp.index.tolist() == ["c_hp_001", "c_hp_002", "c_hp_003"]
    expected = [t.xy(r, c) for r, c, _ in peaks]  # ranked by elevation: 300, 250, 200 m
    np.testing.assert_allclose(np.column_stack([hp.geometry.x, hp.geometry.y]), expected)
    assert hp["height_agl_m"].eq(72.0).all()


def test_n_high_points_limits_and_keeps_the_highest():
    t, _peaks = three_peaks()
    sites = generate_candidates(t, whole(t), n_high_points=2, search_buffer_m=0)
    hp = sites[sites["source"] == "high_point"]
    assert len(hp) == 2
    np.testing.assert_allclose(t.elevation_at(hp.geometry.x, hp.geometry.y), [300.0, 250.0])


def test_two_valleys_high_points_on_the_ridge():
    t = make_terrain("two_valleys")
    sites = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=600)
    assert_sites_schema(sites, t)
    hp = sites[sites["source"] == "high_point"]
    assert len(hp) == 2  # a 1.92 km ridge holds two points 1 km apart
    ridge_x = t.xy(0, 32)[0]
    np.testing.assert_allclose(hp.geometry.x, ridge_x)
    assert np.hypot(*np.diff(np.column_stack([hp.geometry.x, hp.geometry.y]), axis=0)[0]) >= 1000
    grid = sites[sites["source"] == "grid"]
    assert len(grid) > 0
    # grid points keep min_separation_m / 2 from every high point
    d = grid.geometry.apply(lambda p: hp.distance(p).min())
    assert (d > 500).all()


def test_flat_terrain_has_no_high_points_only_grid():
    t = make_terrain("flat")
    sites = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=300)
    assert (sites["source"] == "grid").all()
    assert sites.index[0] == "c_grid_001"
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    np.testing.assert_allclose(x % 300, 0)
    np.testing.assert_allclose(y % 300, 0)
    # ids run north to south, then west to east
    assert np.all(np.diff(y) <= 0)
    assert len(sites) == 36  # 6 x 6 multiples of 300 m strictly inside the 1.92 km square


def test_rough_separation_area_and_determinism():
    t = make_terrain("rough", seed=3)
    area = shapely.Point(t.xy(32, 32)).buffer(400)
    kwargs = dict(min_separation_m=300.0, search_buffer_m=300.0, grid_spacing_m=240.0)
    a = generate_candidates(t, area, **kwargs)
    b = generate_candidates(t, gpd.GeoSeries([area], crs=t.crs), **kwargs)
    pd.testing.assert_frame_equal(a, b)
    assert_sites_schema(a, t)
    hp = a[a["source"] == "high_point"]
    assert len(hp) >= 1
    xy = np.column_stack([hp.geometry.x, hp.geometry.y])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert (d[np.triu_indices(len(xy), 1)] >= 300.0).all()
    assert a.geometry.within(area.buffer(300.0 + 1e-6)).all()
    # each high point is the highest ground within a few cells
    for p in hp.geometry:
        r, c = (round(float(v)) for v in t.rowcol(p.x, p.y))
        win = t.elevation_m[max(r - 3, 0) : r + 4, max(c - 3, 0) : c + 4]
        assert t.elevation_m[r, c] == np.nanmax(win)
    elev = t.elevation_at(hp.geometry.x, hp.geometry.y)
    assert np.all(np.diff(elev) <= 0)  # ranked highest first


def test_nodata_cells_are_skipped():
    t = make_terrain("nodata_hole")
    # (481200, 9798750) is a multiple of 150 m inside the nodata block (rows/cols 37-41)
    assert np.isnan(t.elevation_at(481_200.0, 9_798_750.0)[0])
    sites = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=150)
    assert_sites_schema(sites, t)
    pts = set(zip(sites.geometry.x, sites.geometry.y, strict=True))
    assert (481_200.0, 9_798_750.0) not in pts
    assert (481_050.0, 9_798_750.0) in pts


def test_prefix_and_id_width():
    t = make_terrain("flat")
    sites = generate_candidates(t, whole(t), grid_spacing_m=50, search_buffer_m=0, prefix="paser")
    assert len(sites) > 999
    assert sites.index[0] == "paser_grid_0001"
    assert list(sites.index) == sorted(sites.index)


def test_area_crs_mismatch_and_off_grid():
    t = make_terrain("rough")
    area = gpd.GeoDataFrame(geometry=[whole(t, 300)], crs=PASER_CRS).to_crs(WGS84)
    with pytest.raises(CRSError, match="EPSG:4326"):
        generate_candidates(t, area)
    with pytest.raises(CRSError, match="no CRS"):
        generate_candidates(t, gpd.GeoSeries([whole(t, 300)]))
    with pytest.raises(CRSError, match="does not overlap"):
        generate_candidates(t, shapely.box(0, 0, 1000, 1000), search_buffer_m=0)
    with pytest.raises(SchemaError, match="area must be"):
        generate_candidates(t, "Paser")


def test_parameters_checked_all_at_once():
    t = make_terrain("flat")
    # n_high_points (input) outranks the distances and height (units); all four are listed
    with pytest.raises(InputError, match="4 problems") as info:
        generate_candidates(
            t, whole(t), height_agl_m=-1, n_high_points=2.5, grid_spacing_m=0, search_buffer_m=-5
        )
    msg = str(info.value)
    for name in ("height_agl_m", "n_high_points", "grid_spacing_m", "search_buffer_m"):
        assert name in msg
    with pytest.raises(UnitsError, match="3 problems"):
        generate_candidates(t, whole(t), height_agl_m=-1, grid_spacing_m=0, search_buffer_m=-5)
    with pytest.raises(ConfigError, match="prefix must be a non-empty string"):
        generate_candidates(t, whole(t), prefix="")


# --- combine_sites ---------------------------------------------------------------------------


def user_sites(ids, crs=PASER_CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "height_agl_m": np.full(len(ids), 42.0),
            "cost_idr": pd.array([1_700_000_000] * len(ids), dtype="Int64"),
            "source": ["user"] * len(ids),
        },
        geometry=gpd.points_from_xy([481_000.0] * len(ids), [9_799_000.0] * len(ids)),
        index=pd.Index(ids, name="site_id"),
        crs=crs,
    )


def test_combine_sites():
    t = make_terrain("flat")
    gen = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=600)
    out = combine_sites(user_sites(["hibah_1", "hibah_2"]), gen)
    assert out.index.tolist()[:2] == ["hibah_1", "hibah_2"]
    assert len(out) == 2 + len(gen)
    assert str(out["cost_idr"].dtype) == "Int64"
    assert out["cost_idr"].iloc[0] == 1_700_000_000 and out["cost_idr"].iloc[2] is pd.NA
    assert out.crs == PASER_CRS and out.index.name == "site_id"
    pd.testing.assert_frame_equal(combine_sites(None, gen), gen)
    assert len(combine_sites(empty_sites(PASER_CRS), gen)) == len(gen)


def test_combine_sites_collisions_and_crs():
    t = make_terrain("flat")
    gen = generate_candidates(t, whole(t), search_buffer_m=0, grid_spacing_m=600)
    with pytest.raises(SchemaError) as info:
        combine_sites(user_sites(["c_grid_001", "x", "x"]), gen)
    msg = str(info.value)
    assert "c_grid_001" in msg and "repeat site_id x" in msg and "prefix=" in msg
    with pytest.raises(CRSError):
        combine_sites(user_sites(["a"]).to_crs(WGS84), gen)


# --- the Paser demo DEM ----------------------------------------------------------------------


def demo_terrain_around(source_dir, geom, margin_m=3000.0, res_m=30.0) -> Terrain:
    """The synthetic demo DEM around ``geom`` (EPSG:32750), reprojected to ``res_m`` cells."""
    xmin, ymin, xmax, ymax = geom.buffer(margin_m).bounds
    xmin, ymin = np.floor(xmin / res_m) * res_m, np.floor(ymin / res_m) * res_m
    xmax, ymax = np.ceil(xmax / res_m) * res_m, np.ceil(ymax / res_m) * res_m
    width, height = round((xmax - xmin) / res_m), round((ymax - ymin) / res_m)
    dst_transform = Affine(res_m, 0, xmin, 0, -res_m, ymax)
    dst = np.full((height, width), np.nan, dtype=np.float32)
    with rasterio.open(source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif") as src:
        lon0, lat0, lon1, lat1 = transform_bounds(PASER_CRS, src.crs, xmin, ymin, xmax, ymax)
        pad = 0.005
        st = src.transform  # north-up lon/lat grid
        c0 = int(np.floor((lon0 - pad - st.c) / st.a))
        r0 = int(np.floor((lat1 + pad - st.f) / st.e))
        c1 = int(np.ceil((lon1 + pad - st.c) / st.a))
        r1 = int(np.ceil((lat0 - pad - st.f) / st.e))
        win = Window(c0, r0, c1 - c0, r1 - r0)
        win_transform = Affine(st.a, 0, st.c + c0 * st.a, 0, st.e, st.f + r0 * st.e)
        data = src.read(1, window=win).astype(np.float32)
        data[data == src.nodata] = np.nan
        reproject(
            data,
            dst,
            src_transform=win_transform,
            src_crs=src.crs,
            src_nodata=np.nan,
            dst_transform=dst_transform,
            dst_crs=PASER_CRS,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return Terrain(dst, dst_transform, PASER_CRS, source="demo DEM window", synthetic=True)


@pytest.mark.paser
def test_paser_demo_dem_around_muara_payang(paser_source_dir):
    desa = gpd.read_file(paser_source_dir / "paser_desa.geojson").set_index("kode")
    desa = desa.to_crs(PASER_CRS).loc[["64.01.07.2009"]]  # Muara Payang, ~12 km across
    terrain = demo_terrain_around(paser_source_dir, desa.geometry.iloc[0], margin_m=3000.0)
    assert max(terrain.shape) < 700
    sites = generate_candidates(terrain, desa, search_buffer_m=2000.0)
    assert_sites_schema(sites, terrain)
    hp = sites[sites["source"] == "high_point"]
    assert len(hp) == 40
    assert (sites["source"] == "grid").sum() > 5
    search = desa.geometry.iloc[0].buffer(2000.0 + 1e-6)
    assert sites.geometry.within(search).all()
    xy = np.column_stack([hp.geometry.x, hp.geometry.y])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert (d[np.triu_indices(len(xy), 1)] >= 1000.0).all()
    elev = terrain.elevation_at(hp.geometry.x, hp.geometry.y)
    assert np.all(np.diff(elev) <= 0)
    ground = terrain.elevation_m[~terrain.nodata_mask]
    assert elev[0] > np.percentile(ground, 99)
    again = generate_candidates(terrain, desa, search_buffer_m=2000.0)
    pd.testing.assert_frame_equal(sites, again)
