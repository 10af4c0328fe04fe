"""Antenna patterns in coverage: per-cell elevation angles, coupling loss, sites schema, dask path."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from blankspot import distributed as bd
from blankspot.coverage import (
    ANTENNA_COLUMNS,
    compute_coverage,
    site_antennas,
    site_footprint,
)
from blankspot.errors import InputError, SchemaError, UnitsError
from blankspot.footprints import SparseFootprint
from blankspot.io.terrain_source import TerrainSource
from blankspot.propagation import LinkBudget, _kernels, free_space_loss_db, viewshed
from blankspot.propagation.antenna import (
    Omni,
    PatternTable,
    Sector,
    SectorSite,
    elevation_angle_deg,
)
from blankspot.propagation.los import radial_plan, sweep_window
from blankspot.propagation.radial import radial_path_loss
from blankspot.terrain import Terrain
from blankspot.testing import cell_centre, make_terrain
from blankspot.units import effective_earth_radius_m
from reference.los import profile_elevation_angle_deg, radial_sweep

K = 1.51
AE_M = effective_earth_radius_m(K)
# MAPL 93.2 dB: free space reaches about 1.2 km at 900 MHz, past a 900 m radius
LOOSE = LinkBudget(threshold_dbm=-70.0)


def _site(terrain, row, col, d_row=0.0, d_col=0.0):
    x, y = cell_centre(terrain, row, col)
    return x + d_col * terrain.res_m, y - d_row * terrain.res_m


def _kernel_args(terrain, x, y, height_agl_m, radius_m, rx_height_agl_m=1.5):
    row0, col0 = (float(v) for v in terrain.rowcol(x, y))
    n_radials, n_levels, step = radial_plan(radius_m, terrain.res_m)
    row_off, col_off, rows, cols = sweep_window(row0, col0, radius_m / terrain.res_m, terrain.shape)
    return (
        terrain.elevation_m,
        terrain.nodata_mask,
        bool(terrain.nodata_mask.any()),
        row0,
        col0,
        float(terrain.elevation_at(x, y)[0]) + height_agl_m,
        rx_height_agl_m,
        terrain.res_m,
        radius_m,
        1.0 / (2.0 * AE_M),
        n_radials,
        n_levels,
        step,
        row_off,
        col_off,
        rows,
        cols,
    )


def _sites(terrain, cells, ids=None, heights=None, **columns):
    ids = ids or [f"S{i}" for i in range(len(cells))]
    return gpd.GeoDataFrame(
        {"height_agl_m": heights or [30.0] * len(cells), **columns},
        geometry=[Point(cell_centre(terrain, r, c)) for r, c in cells],
        index=gpd.pd.Index(ids, name="site_id"),
        crs=terrain.crs,
    )


def _same(fp_a, fp_b):
    """Two footprints hold the same window and the same bits."""
    assert (fp_a.row_off, fp_a.col_off) == (fp_b.row_off, fp_b.col_off)
    assert fp_a.path_loss_db.tobytes() == fp_b.path_loss_db.tobytes()


def _grid_azimuth_deg(fp, x, y, terrain):
    row0, col0 = (float(v) for v in terrain.rowcol(x, y))
    rows, cols = np.mgrid[0 : fp.window_shape[0], 0 : fp.window_shape[1]]
    north = row0 - (rows + fp.row_off)
    east = cols + fp.col_off - col0
    return np.degrees(np.arctan2(east, north)) % 360.0


# --- the kernel's tangent: its slow twin, and the straight-profile angle ----------------------

TANGENT_CASES = [
    # kind, site row, col, offset (rows, cols), height, radius
    ("flat", 32, 32, (0.13, 0.23), 30.0, 1400.0),
    ("tilted_plane", 32, 32, (0.13, 0.23), 30.0, 1400.0),
    ("knife_edge", 32, 32, (0.0, 0.0), 30.0, 1400.0),  # on a cell centre: distance 0 there
    ("knife_edge", 32, 32, (-0.31, 0.4), 200.0, 450.0),  # fast path
    ("pit", 32, 32, (0.13, 0.23), 30.0, 1400.0),
    ("nodata_hole", 32, 32, (0.0, 0.0), 5.0, 450.0),  # nodata near: checked path
    ("two_valleys", 63, 20, (0.2, 0.0), 100.0, 2000.0),
    ("edge_site", 0, 0, (-0.45, -0.45), 30.0, 900.0),
    ("rough", 32, 32, (0.0, 0.0), 10.0, 450.0),
    ("tiny_1x1", 0, 0, (0.3, -0.2), 30.0, 500.0),
    ("flat", 32, 32, (0.0, 0.0), 0.0, 300.0),  # antenna at the receiver's height
]


@pytest.mark.parametrize(("kind", "row", "col", "offset", "height", "radius"), TANGENT_CASES)
def test_tangent_kernel_equals_its_slow_twin(kind, row, col, offset, height, radius):
    terrain = make_terrain(kind)
    x, y = _site(terrain, row, col, *offset)
    args = _kernel_args(terrain, x, y, height, radius)
    vis, dist = _kernels.los_radial_sweep(*args)
    vis_t, dist_t, tan_t = _kernels.los_radial_sweep_tangent(*args)
    # the LOS outputs are untouched by asking for the angle
    np.testing.assert_array_equal(vis_t, vis)
    assert dist_t.tobytes() == dist.tobytes()
    vis_r, dist_r, tan_r = radial_sweep(*args, with_tangent=True)
    np.testing.assert_array_equal(vis_t, vis_r)
    assert dist_t.tobytes() == dist_r.tobytes()
    assert tan_t.dtype == np.float32
    assert tan_t.tobytes() == tan_r.tobytes()
    assert np.array_equal(np.isnan(tan_t), np.isnan(dist_t))
    # the wrapper returns the same angles
    vs = viewshed(terrain, x, y, height_agl_m=height, radius_m=radius, with_elevation_angle=True)
    want = np.degrees(np.arctan(tan_r.astype(np.float64))).astype(np.float32)
    assert vs.elevation_angle_deg.tobytes() == want.tobytes()
    np.testing.assert_array_equal(vs.visible, vis_r.astype(bool))


def test_viewshed_without_angle_is_unchanged():
    terrain = make_terrain("rough")
    x, y = _site(terrain, 30, 33, 0.2, -0.1)
    plain = viewshed(terrain, x, y, height_agl_m=20.0, radius_m=900.0)
    with_angle = viewshed(terrain, x, y, height_agl_m=20.0, radius_m=900.0,
                          with_elevation_angle=True)  # fmt: skip
    assert plain.elevation_angle_deg is None
    np.testing.assert_array_equal(plain.visible, with_angle.visible)
    assert plain.distance_m.tobytes() == with_angle.distance_m.tobytes()


def _profile_angles(terrain, x, y, height, radius):
    args = _kernel_args(terrain, x, y, height, radius)
    ours = viewshed(terrain, x, y, height_agl_m=height, radius_m=radius, k_factor=K,
                    with_elevation_angle=True).elevation_angle_deg  # fmt: skip
    e, m, _, row0, col0, z_obs, rx, res, _, _, _, _, _, r_off, c_off, rows, cols = args
    ref = profile_elevation_angle_deg(e, m, row0, col0, z_obs, rx, res, radius, K, r_off, c_off,
                                      rows, cols)  # fmt: skip
    assert np.array_equal(np.isnan(ours), np.isnan(ref))
    has = ~np.isnan(ref)
    return np.abs(ours[has].astype(np.float64) - ref[has])


# Tolerances against the straight profile sampled at the DEM resolution, measured over the
# heights and offsets below (and 10-200 m, two offsets, in development):
# - planes and flat ground with a void: identical up to the float32 tangent (< 1e-5 degrees);
# - smooth relief (rough, pit): 98.7-100 % of cells within 0.1 degrees, all within 2 degrees;
# - one-cell crests (knife_edge's wall, two_valleys' ridge, 100-400 m high): the kernel samples
#   its radials once per cell and interpolates between them, the profile samples the straight
#   line once per cell, and each can fall up to half a cell off the crest (100 m lower on the
#   wall's bilinear tent), which moves the horizon of every cell behind it: 57-67 % within
#   0.1 degrees, 77-90 % within 1 degree, at most 10 degrees. A profile sampled ten times a
#   cell disagrees with either as much (both are sampling noise, not bias).
EXACT_KINDS = ["flat", "tilted_plane", "nodata_hole", "edge_site", "tiny_1x1"]


@pytest.mark.parametrize("kind", EXACT_KINDS)
def test_angle_equals_straight_profile_on_plain_terrain(kind):
    terrain = make_terrain(kind)
    row, col = (0, 0) if kind in ("tiny_1x1", "edge_site") else (32, 32)
    x, y = _site(terrain, row, col, 0.13, 0.23)
    err = _profile_angles(terrain, x, y, 30.0, 1400.0)
    assert err.max() < 1e-4


@pytest.mark.parametrize(("kind", "seed", "height", "within_0p1", "max_deg"), [
    ("rough", 0, 10.0, 0.995, 0.25),
    ("rough", 1, 100.0, 0.995, 0.25),
    ("pit", 0, 30.0, 0.98, 2.0),
    ("pit", 0, 200.0, 0.98, 2.0),
])  # fmt: skip
def test_angle_agrees_with_straight_profile_on_relief(kind, seed, height, within_0p1, max_deg):
    terrain = make_terrain(kind, seed=seed)
    x, y = _site(terrain, 32, 32, -0.31, 0.4)
    err = _profile_angles(terrain, x, y, height, 1400.0)
    assert np.mean(err <= 0.1) >= within_0p1
    assert err.max() <= max_deg


@pytest.mark.parametrize(("kind", "row", "col", "height"), [
    ("knife_edge", 32, 32, 10.0),
    ("knife_edge", 32, 32, 100.0),
    ("two_valleys", 40, 20, 30.0),
    ("two_valleys", 40, 20, 100.0),
])  # fmt: skip
def test_angle_near_one_cell_crests_is_sampling_limited(kind, row, col, height):
    terrain = make_terrain(kind)
    x, y = _site(terrain, row, col, 0.13, 0.23)
    err = _profile_angles(terrain, x, y, height, 1400.0)
    assert np.mean(err <= 0.1) >= 0.55
    assert np.mean(err <= 1.0) >= 0.75
    assert err.max() <= 10.0


def test_angle_behind_the_wall_is_the_crest_angle():
    # along the site's row the radial runs through the wall's crest: the angle behind it is
    # atan((200 - z_obs) / (8 res) - 8 res / (2 a_e)), in front the angle toward each receiver
    terrain = make_terrain("knife_edge")
    x, y = cell_centre(terrain, 32, 32)
    vs = viewshed(terrain, x, y, height_agl_m=30.0, radius_m=1400.0, with_elevation_angle=True)
    row = vs.elevation_angle_deg[32 - vs.row_off]
    res = terrain.res_m
    crest = math.degrees(math.atan(70.0 / (8 * res) - 8 * res / (2 * AE_M)))
    for col in range(41, 64):
        assert row[col - vs.col_off] == pytest.approx(crest, abs=1e-5)
    for col in range(33, 40):
        d = (col - 32) * res
        want = math.degrees(math.atan(-28.5 / d - d / (2 * AE_M)))
        assert row[col - vs.col_off] == pytest.approx(want, abs=1e-5)
    assert row[32 - vs.col_off] == -90.0  # straight down on the mast's own cell


# --- coupling loss in site_footprint ------------------------------------------------------------


def test_east_sector_covers_the_east_and_not_the_west():
    terrain = make_terrain("flat")
    sites = _sites(terrain, [(32, 32)], ids=["A"])
    omni = compute_coverage(terrain, sites, budget=LOOSE, radius_m=900.0)
    east = Sector(azimuth_deg=90.0)
    sector = compute_coverage(terrain, sites, budget=LOOSE, radius_m=900.0,
                              antennas={"A": east})  # fmt: skip
    covered_omni = omni.covered_mask()
    covered = sector.covered_mask()
    assert covered_omni[32, 52] and covered_omni[32, 12]  # 600 m east and west
    assert covered[32, 52] and not covered[32, 12]
    # behind the mast only the first few hundred metres (25 dB front-to-back on ~70 dB)
    rows, cols = np.nonzero(covered)
    dist_m = np.hypot(rows - 32, cols - 32) * terrain.res_m
    assert dist_m[cols < 32].max() < 300.0
    assert covered[:, 33:].sum() > 3 * covered[:, :32].sum()
    # the pattern only ever adds loss
    fp_o, fp_s = omni.footprint("A"), sector.footprint("A")
    _, both_o, both_s = _overlap(fp_o, fp_s)
    assert np.all(both_s >= both_o)


def _overlap(fp_a, fp_b):
    """The two windows pasted on one grid (NaN outside)."""
    shape = (
        max(fp_a.row_off + fp_a.window_shape[0], fp_b.row_off + fp_b.window_shape[0]),
        max(fp_a.col_off + fp_a.window_shape[1], fp_b.col_off + fp_b.window_shape[1]),
    )
    a = np.full(shape, np.nan, dtype=np.float32)
    b = np.full(shape, np.nan, dtype=np.float32)
    a[fp_a.window] = fp_a.path_loss_db
    b[fp_b.window] = fp_b.path_loss_db
    has = np.isfinite(a) & np.isfinite(b)
    return has, a[has], b[has]


@pytest.mark.parametrize("model", ["los", "itm", "p1812"])
def test_boresight_cells_equal_the_omni_result(model):
    # sidelobe_level_db=0 flattens the vertical pattern: on the boresight the relative gain is 0
    terrain = make_terrain("rough")
    x, y = cell_centre(terrain, 32, 20)
    kw = dict(radius_m=900.0, model=model)
    omni = site_footprint(terrain, "A", x, y, 30.0, **kw)
    sector = site_footprint(terrain, "A", x, y, 30.0, antenna=Sector(90.0, sidelobe_level_db=0.0),
                            **kw)  # fmt: skip
    east = slice(21, 50)
    got = sector.sample(np.full(29, 32), np.arange(east.start, east.stop))
    want = omni.sample(np.full(29, 32), np.arange(east.start, east.stop))
    assert np.isfinite(want).sum() > 5
    assert got.tobytes() == want.tobytes()
    # a cell off the boresight reads the horizontal pattern: 12 (phi / 65)^2 dB
    phi = math.degrees(math.atan2(10.0, 10.0))  # cell (22, 30): 10 rows north, 10 cols east
    off = float(sector.sample(22, 30)) - float(omni.sample(22, 30))
    assert off == pytest.approx(12.0 * ((90.0 - phi) / 65.0) ** 2, abs=1e-4)


def test_cell_behind_the_ridge_reads_the_pattern_at_the_horizon_angle():
    # knife_edge: ground 100 m, a 200 m wall at column 40; antenna top 130 m at (32, 32). The
    # cell (32, 45) is 13 cells east, behind the wall: ITM reaches it by diffraction, and the
    # pattern is read toward the crest, 8 cells out, not toward the receiver.
    terrain = make_terrain("knife_edge")
    x, y = cell_centre(terrain, 32, 32)
    res = terrain.res_m
    crest_deg = math.degrees(math.atan((200.0 - 130.0) / (8 * res) - 8 * res / (2 * AE_M)))
    rx_deg = math.degrees(math.atan((101.5 - 130.0) / (13 * res) - 13 * res / (2 * AE_M)))
    assert crest_deg == pytest.approx(16.26, abs=0.01)
    # the same angle by the rule of elevation_angle_deg on the straight profile
    profile = terrain.elevation_m[32, 32:46].astype(float)
    assert elevation_angle_deg(130.0, profile, res, K) == pytest.approx(crest_deg, abs=1e-9)
    antenna = Sector(90.0, v_beamwidth_deg=30.0, electrical_downtilt_deg=0.0)
    kw = dict(model="itm", radius_m=900.0)
    basic = site_footprint(terrain, "A", x, y, 30.0, **kw)
    coupled = site_footprint(terrain, "A", x, y, 30.0, antenna=antenna, **kw)
    extra_db = float(coupled.sample(32, 45)) - float(basic.sample(32, 45))
    assert extra_db == pytest.approx(12.0 * (crest_deg / 30.0) ** 2, abs=2e-3)  # 3.52 dB
    # read toward the receiver instead, it would have been 0.24 dB
    assert 12.0 * (rx_deg / 30.0) ** 2 < extra_db - 3.0


@settings(max_examples=25, deadline=None)
@given(
    tilt_deg=st.floats(0.0, 10.0),
    more_deg=st.floats(0.0, 10.0),
    electrical_deg=st.floats(1.5, 8.0),
    v_beamwidth_deg=st.floats(3.0, 30.0),
    height_agl_m=st.floats(5.0, 30.0),
)
@example(tilt_deg=0.0, more_deg=4.0, electrical_deg=2.0, v_beamwidth_deg=7.0, height_agl_m=30.0)
def test_more_downtilt_never_raises_gain_at_the_far_horizon(
    tilt_deg, more_deg, electrical_deg, v_beamwidth_deg, height_agl_m
):
    # far boresight cells lie less than 1.4 degrees below the horizontal, above the beam's
    # peak at -(mechanical + electrical) <= -1.5 degrees: tilting further only moves away
    terrain = make_terrain("flat")
    x, y = cell_centre(terrain, 32, 2)
    cols = np.arange(42, 64)  # 1200-1830 m east

    def far_loss(mechanical_deg):
        antenna = Sector(90.0, v_beamwidth_deg=v_beamwidth_deg,
                         mechanical_downtilt_deg=mechanical_deg,
                         electrical_downtilt_deg=electrical_deg)  # fmt: skip
        fp = site_footprint(terrain, "A", x, y, height_agl_m, radius_m=1900.0, antenna=antenna)
        return fp.sample(np.full(cols.size, 32), cols).astype(np.float64)

    before, after = far_loss(tilt_deg), far_loss(tilt_deg + more_deg)
    assert np.isfinite(before).all()
    assert np.all(after >= before - 1e-4)


def test_pattern_table_path():
    table = PatternTable.from_arrays(
        [0, 30, 60, 90, 180, 270, 300, 330], [0, -3, -10, -20, -30, -20, -10, -3],
        [-90, -10, -5, 0, 5, 90], [-25, -6, -1, 0, -2, -25], gain_dbi=15.0, azimuth_deg=45.0,
    )  # fmt: skip
    terrain = make_terrain("flat")
    x, y = cell_centre(terrain, 32, 32)
    basic = site_footprint(terrain, "A", x, y, 30.0, radius_m=900.0)
    coupled = site_footprint(terrain, "A", x, y, 30.0, radius_m=900.0, antenna=table)
    assert (coupled.row_off, coupled.col_off) == (basic.row_off, basic.col_off)
    # on flat ground every cell is visible, so its angle is the one toward the receiver
    az = _grid_azimuth_deg(basic, x, y, terrain)
    rows, cols = np.mgrid[0 : basic.window_shape[0], 0 : basic.window_shape[1]]
    d_m = np.hypot(rows + basic.row_off - 32, cols + basic.col_off - 32) * terrain.res_m
    with np.errstate(divide="ignore"):
        el = np.degrees(np.arctan(-28.5 / d_m - d_m / (2 * AE_M)))
    has = np.isfinite(basic.path_loss_db)
    want = basic.path_loss_db[has] - table.relative_gain_db(az[has], el[has])
    np.testing.assert_allclose(coupled.path_loss_db[has], want, atol=2e-3)
    assert np.array_equal(np.isfinite(coupled.path_loss_db), has)


def test_sector_site_is_the_best_sector():
    terrain = make_terrain("flat")
    x, y = cell_centre(terrain, 32, 32)
    site = SectorSite.three_sector(azimuth0_deg=0.0)
    fps = [site_footprint(terrain, "A", x, y, 30.0, radius_m=600.0, antenna=a)
           for a in (site, *site.sectors)]  # fmt: skip
    best = np.fmin(np.fmin(fps[1].path_loss_db, fps[2].path_loss_db), fps[3].path_loss_db)
    np.testing.assert_allclose(fps[0].path_loss_db, best, atol=1e-4)


@pytest.mark.parametrize("model", ["itm", "p1812"])
def test_max_loss_cut_off_stays_sound_with_a_pattern(model):
    # the terrain models drop cells above max_loss_db before the pattern; the pattern only adds
    # loss, so a run with a cut-off keeps exactly the cells of a run without one that are
    # within the cut-off after the pattern
    terrain = make_terrain("rough")
    x, y = cell_centre(terrain, 32, 32)
    antenna = SectorSite.three_sector(azimuth0_deg=20.0, mechanical_downtilt_deg=3.0)
    kw = dict(model=model, radius_m=900.0, antenna=antenna)
    full = site_footprint(terrain, "A", x, y, 20.0, **kw)
    cut_db = float(np.nanpercentile(full.path_loss_db, 40))
    capped = site_footprint(terrain, "A", x, y, 20.0, max_loss_db=cut_db, **kw)
    rows, cols = np.nonzero(np.isfinite(full.path_loss_db))
    got = capped.sample(rows + full.row_off, cols + full.col_off)
    want = full.path_loss_db[rows, cols]
    keep = want <= cut_db
    assert keep.sum() > 50
    assert got[keep].tobytes() == want[keep].tobytes()
    assert np.isnan(got[~keep]).all()


# --- sites without antennas: bit for bit as before ----------------------------------------------


@pytest.mark.parametrize("model", ["los", "itm"])
def test_sites_without_antenna_columns_are_bit_identical(model):
    terrain = make_terrain("rough")
    cells = [(20, 20), (40, 44)]
    plain = _sites(terrain, cells)
    kw = dict(budget=LOOSE, radius_m=900.0, model=model, n_threads=1)
    want = compute_coverage(terrain, plain, **kw)
    # antenna columns present, empty for S0 (S1 has three sectors)
    mixed = _sites(terrain, cells, sectors=[None, 3], azimuth_deg=[np.nan, 10.0])
    got = compute_coverage(terrain, mixed, **kw)
    _same(got.footprint("S0"), want.footprint("S0"))
    assert not np.array_equal(got.footprint("S1").path_loss_db, want.footprint("S1").path_loss_db)
    # no antenna, or a flat omni, in antennas=
    for antennas in ({}, {"S0": None, "S1": None}, {"S0": Omni(), "S1": Omni(gain_dbi=9.0)}):
        got = compute_coverage(terrain, plain, antennas=antennas, **kw)
        for sid in ("S0", "S1"):
            _same(got.footprint(sid), want.footprint(sid))
    # and what the models give on their own, without coverage.py
    x, y = cell_centre(terrain, 20, 20)
    fp = want.footprint("S0")
    if model == "los":
        vs = viewshed(terrain, x, y, height_agl_m=30.0, radius_m=900.0)
        loss = np.full(vs.shape, np.nan, dtype=np.float32)
        loss[vs.visible] = free_space_loss_db(vs.distance_m[vs.visible], LOOSE.freq_mhz)
        sl = (slice(fp.row_off - vs.row_off, fp.row_off - vs.row_off + fp.window_shape[0]),
              slice(fp.col_off - vs.col_off, fp.col_off - vs.col_off + fp.window_shape[1]))  # fmt: skip
        assert loss[sl].tobytes() == fp.path_loss_db.tobytes()
    else:
        sw = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0,
                              max_loss_db=LOOSE.max_path_loss_db + 20.0)  # fmt: skip
        rows, cols = np.nonzero(np.isfinite(fp.path_loss_db))
        got = sw.path_loss_db[rows + fp.row_off - sw.row_off, cols + fp.col_off - sw.col_off]
        assert got.tobytes() == fp.path_loss_db[rows, cols].tobytes()


# --- the sites schema ---------------------------------------------------------------------------


def test_antenna_columns_build_the_antennas():
    terrain = make_terrain("flat")
    sites = _sites(
        terrain, [(10, 10), (20, 20), (30, 30), (40, 40)],
        sectors=[3, 1, 2, None], azimuth_deg=[30.0, None, 0.0, None],
        mechanical_downtilt_deg=[2.0, None, None, None],
        electrical_downtilt_deg=[None, 4.0, 6.0, None],
        v_beamwidth_deg=[None, 10.0, 12.0, None], h_beamwidth_deg=[90.0, None, None, None],
    )  # fmt: skip
    three, omni, two, none = site_antennas(sites)
    assert three == SectorSite.three_sector(30.0, mechanical_downtilt_deg=2.0,
                                            h_beamwidth_deg=90.0)  # fmt: skip
    assert omni == Omni(v_beamwidth_deg=10.0, electrical_downtilt_deg=4.0)
    assert two == SectorSite((Sector(0.0, electrical_downtilt_deg=6.0, v_beamwidth_deg=12.0),
                              Sector(180.0, electrical_downtilt_deg=6.0, v_beamwidth_deg=12.0)))  # fmt: skip
    assert none is None
    assert set(ANTENNA_COLUMNS) <= set(sites.columns)
    # the columns and the same antennas passed by id give the same footprints
    kw = dict(budget=LOOSE, radius_m=600.0, n_threads=1)
    by_columns = compute_coverage(terrain, sites, **kw)
    by_mapping = compute_coverage(
        terrain, sites[["height_agl_m", "geometry"]],
        antennas={"S0": three, "S1": omni, "S2": two}, **kw,
    )  # fmt: skip
    for sid in sites.index:
        _same(by_columns.footprint(sid), by_mapping.footprint(sid))


def test_antenna_problems_are_listed_at_once():
    terrain = make_terrain("flat")
    sites = _sites(
        terrain, [(10, 10), (20, 20), (30, 30), (40, 40), (50, 50), (12, 50)],
        sectors=[None, 1, 3, 2.5, 3, "three"], azimuth_deg=[45.0, None, None, 0.0, 0.0, 0.0],
        h_beamwidth_deg=[None, 60.0, None, None, 0.0, None],
    )  # fmt: skip
    with pytest.raises(SchemaError) as err:
        compute_coverage(terrain, sites, radius_m=600.0,
                         antennas={"S1": Sector(0.0), "nope": Sector(0.0), "S5": "dipole"})  # fmt: skip
    msg = str(err.value)
    for part in (
        "site 'S0': sectors is empty",  # azimuth without sectors
        "sectors=1 is an omnidirectional antenna, which takes no h_beamwidth_deg",
        "site 'S2': 3 sectors need azimuth_deg",
        "received 2.5",  # not a whole number
        "h_beamwidth_deg is a half-power",  # the Sector's own check
        "sectors must be a number",  # 'three'
        "'nope'",  # an id not in the table
        "both in antennas= and in the antenna columns",  # S1
        "antennas['S5'] is a str",
    ):
        assert part in msg, part


def test_site_footprint_refuses_a_non_antenna():
    terrain = make_terrain("flat")
    with pytest.raises(UnitsError, match="antenna must be None or an antenna"):
        site_footprint(terrain, "A", *cell_centre(terrain, 32, 32), 30.0, radius_m=300.0,
                       antenna={"azimuth_deg": 90.0})  # fmt: skip


# --- the distributed path -----------------------------------------------------------------------

DEM_TRANSFORM = Affine(30.0, 0.0, 480_000.0, 0.0, -30.0, 9_800_010.0)  # on 30 m multiples


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    elev = make_terrain("rough", size=64).elevation_m
    path = tmp_path_factory.mktemp("dem") / "rough.tif"
    with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=1, dtype="float32",
                       crs="EPSG:32750", transform=DEM_TRANSFORM) as dst:  # fmt: skip
        dst.write(elev, 1)
    terrain = Terrain(elevation_m=elev, transform=DEM_TRANSFORM, crs="EPSG:32750")
    source = TerrainSource(str(path), crs="EPSG:32750", res_m=30.0)
    return source, source.grid(), terrain


def test_antennas_travel_to_the_tasks_and_enter_the_cache_key(dem, tmp_path):
    source, grid, terrain = dem
    sites = gpd.GeoDataFrame(
        {"height_agl_m": [30.0, 25.0, 40.0], "sectors": [3, None, None],
         "azimuth_deg": [15.0, None, None]},
        geometry=[Point(DEM_TRANSFORM @ (c + 0.3, r + 0.6)) for r, c in ((20, 20), (40, 30),
                                                                         (30, 45))],
        index=gpd.pd.Index(["A", "B", "C"], name="site_id"), crs="EPSG:32750",
    )  # fmt: skip
    antennas = {"B": Sector(200.0, mechanical_downtilt_deg=4.0)}
    kw = dict(grid=grid, radius_m=600.0, model="itm", max_path_loss_db=140.0)
    got = bd.compute_footprints(source, sites, scheduler="threads", antennas=antennas,
                                cache_dir=tmp_path, **kw)  # fmt: skip
    cov = compute_coverage(terrain, sites, budget=LinkBudget(), model="itm", radius_m=600.0,
                           max_loss_db=140.0, antennas=antennas, n_threads=1)  # fmt: skip
    for sparse, fp in zip(got, cov.footprints, strict=True):
        want = SparseFootprint.from_footprint(fp, grid.grid_id, max_path_loss_db=140.0)
        for name, array in want.to_arrays().items():
            assert np.array_equal(sparse.to_arrays()[name], array), name
    # a rerun reads the cache: the same footprints
    again = bd.compute_footprints(source, sites, scheduler="threads", antennas=antennas,
                                  cache_dir=tmp_path, **kw)  # fmt: skip
    for a, b in zip(got, again, strict=True):
        assert a.to_arrays().keys() == b.to_arrays().keys()
        assert all(np.array_equal(a.to_arrays()[k], b.to_arrays()[k]) for k in a.to_arrays())

    def keys(antennas, sites=sites):
        _, tasks = bd._tasks(source, sites, grid, model="itm", radius_m=600.0,
                             max_path_loss_db=140.0, cache_dir=tmp_path,
                             model_options={"antennas": antennas})  # fmt: skip
        return [t.key for t in tasks], tasks

    base, tasks = keys(antennas)
    assert tasks[1].antenna == antennas["B"] and tasks[2].antenna is None
    assert isinstance(tasks[0].antenna, SectorSite)
    # tasks travel to dask workers pickled, measured patterns included
    table = PatternTable.from_arrays([0, 90, 180, 270], [0, -10, -25, -10], [-90, 0, 90],
                                     [-20, 0, -20], gain_dbi=15.0, azimuth_deg=30.0)  # fmt: skip
    task = replace(tasks[1], antenna=table)
    back = pickle.loads(pickle.dumps(task))
    np.testing.assert_array_equal(back.antenna.gain_db([0.0, 75.0], [0.0, -5.0]),
                                  table.gain_db([0.0, 75.0], [0.0, -5.0]))  # fmt: skip
    table_key, _ = keys({"B": table})
    assert len({table_key[1], base[1]}) == 2
    tilted, _ = keys({"B": Sector(200.0, mechanical_downtilt_deg=5.0)})
    assert tilted[1] != base[1] and tilted[0] == base[0] and tilted[2] == base[2]
    # a site without an antenna keeps the key it had before antennas existed
    no_columns, _ = keys(None, sites[["height_agl_m", "geometry"]])
    assert no_columns[2] == base[2] and no_columns[0] != base[0]
    with pytest.raises(InputError, match="antennas="):
        bd.compute_footprints(source, sites, scheduler="threads", antenna=Sector(0.0), **kw)
