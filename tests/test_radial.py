"""Radial ITM / P.1812 engine: parity with the slow twin, accuracy against exact point-to-point
paths on the Paser demo DEM, properties, and the coverage integration."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from blankspot.coverage import MAX_LOSS_MARGIN_DB, compute_coverage, site_footprint
from blankspot.errors import SchemaError, UnitsError
from blankspot.propagation import LinkBudget
from blankspot.propagation.models import free_space_loss_db
from blankspot.propagation.radial import (
    ItmParams,
    P1812Params,
    free_space_headroom_db,
    radial_path_loss,
)
from blankspot.testing import cell_centre, make_terrain
from reference.radial import itm_exact, p1812_exact

PASER_SITE_LONLAT = (115.95, -1.45)
"""A 72 m tower on the demo relief (the benchmark's first site)."""


def _site(terrain, row, col, d_row=0.0, d_col=0.0):
    x, y = cell_centre(terrain, row, col)
    x, y = x + d_col * terrain.res_m, y - d_row * terrain.res_m
    row0, col0 = (float(v) for v in terrain.rowcol(x, y))
    return x, y, row0, col0, float(terrain.elevation_at(x, y)[0])


def _cells(sweep, n=None, seed=0):
    """Absolute (row, col) of finite cells of a sweep, all or ``n`` at random."""
    ok = np.argwhere(np.isfinite(sweep.path_loss_db))
    if n is not None and n < len(ok):
        ok = ok[np.random.default_rng(seed).choice(len(ok), n, replace=False)]
    cells = [(sweep.row_off + int(a), sweep.col_off + int(b)) for a, b in ok]
    got = np.array([sweep.path_loss_db[r - sweep.row_off, c - sweep.col_off] for r, c in cells])
    return cells, got


# --- kernel == slow twin (same paths, one full model call per cell) ---------------------------
# near_cells=3 takes almost every height from the radials, so the hulls, running maxima and
# prefix sums do the work; the twin runs the public models on the same paths. The kernel's
# float32 output limits the agreement to about 1e-5 dB.


@pytest.mark.parametrize("kind", ["rough", "knife_edge", "pit", "two_valleys", "tilted_plane"])
def test_itm_kernel_equals_radial_twin(kind):
    terrain = make_terrain(kind)
    x, y, row0, col0, z0 = _site(terrain, 30, 27, 0.3, -0.2)
    sweep = radial_path_loss(
        terrain, x, y, height_agl_m=25.0, radius_m=840.0, near_cells=3, dh_every=0
    )
    cells, got = _cells(sweep, n=160)
    ref = itm_exact(
        terrain, row0, col0, z0, cells, h_tx_m=25.0, h_rx_m=1.5, freq_mhz=900.0,
        params=ItmParams(), path="radial", n_radials=sweep.n_radials, near_cells=3,
    )  # fmt: skip
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("rough", P1812Params()),
        ("knife_edge", P1812Params(p_pct=10.0, pl_pct=90.0, sigma_l_db=5.5, zone=3)),
        ("two_valleys", P1812Params()),
        ("pit", P1812Params(pol=1, zone=1)),
    ],
)
def test_p1812_kernel_equals_radial_twin(kind, params):
    terrain = make_terrain(kind)
    clutter = np.random.default_rng(1).choice([0.0, 1.0, 8.0, 20.0], size=terrain.shape)
    clutter = clutter.astype(np.float32)
    x, y, row0, col0, z0 = _site(terrain, 30, 27, 0.3, -0.2)
    sweep = radial_path_loss(
        terrain, x, y, height_agl_m=25.0, radius_m=840.0, model="p1812", p1812_params=params,
        clutter_height_m=clutter, lat_deg=-1.85, near_cells=3,
    )  # fmt: skip
    cells, got = _cells(sweep, n=120)
    ref = p1812_exact(
        terrain, row0, col0, z0, cells, h_tx_m=25.0, h_rx_m=1.5, freq_mhz=900.0,
        params=params, lat_deg=-1.85, clutter_m=clutter, path="radial",
        n_radials=sweep.n_radials, near_cells=3,
    )  # fmt: skip
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-3)


def test_short_paths_are_exact_on_the_zoo():
    # Within near_cells of the site the whole path is the straight one: the kernel equals one
    # exact point-to-point call per cell (ITM with anchored Δh too: short paths take exact Δh).
    terrain = make_terrain("rough", seed=3)
    x, y, row0, col0, z0 = _site(terrain, 32, 32)
    for model, exact in (("itm", itm_exact), ("p1812", p1812_exact)):
        sweep = radial_path_loss(terrain, x, y, height_agl_m=20.0, radius_m=600.0, model=model)
        cells, got = _cells(sweep, n=80)
        extra = {"lat_deg": sweep_lat(terrain, x, y)} if model == "p1812" else {}
        params = ItmParams() if model == "itm" else P1812Params()
        ref = exact(
            terrain, row0, col0, z0, cells, h_tx_m=20.0, h_rx_m=1.5, freq_mhz=900.0,
            params=params, **extra,
        )  # fmt: skip
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-3)


def sweep_lat(terrain, x, y):
    from blankspot.propagation.radial import site_latitude_deg

    return site_latitude_deg(terrain, x, y)


def test_parallel_radials_give_the_same_result():
    # ITM only: P.1812's prange wrapper runs the same per-radial function (and its compile
    # would add seconds to a cold run)
    terrain = make_terrain("rough")
    x, y = cell_centre(terrain, 20, 40)
    a = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0)
    b = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0, parallel=True)
    np.testing.assert_array_equal(a.path_loss_db, b.path_loss_db)


def test_kernel_layer_imports_its_modules_directly():
    # a submodule importing from the package __init__ would be an import cycle
    import ast
    from pathlib import Path

    import blankspot.propagation.radial as radial_module

    root = Path(radial_module.__file__).parent
    for name in ("_kernels", "_itm_kernels", "_p1812_kernels", "_radial_kernels", "itm", "p1812",
                 "radial"):  # fmt: skip
        tree = ast.parse((root / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "blankspot.propagation", f"{name}.py line {node.lineno}"


def test_nodata_and_grid_edge():
    terrain = make_terrain("nodata_hole")
    x, y = cell_centre(terrain, 32, 32)
    sweep = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0)
    full = np.full(terrain.shape, np.nan, dtype=np.float32)
    full[sweep.window] = sweep.path_loss_db
    assert np.isnan(full[terrain.nodata_mask]).all()
    assert np.isnan(full[45, 45])  # its path crosses the hole (rows/cols 37-41)
    assert np.isfinite(full[32, 20])  # away from it
    # own cell: free space at 1 m
    assert full[32, 32] == pytest.approx(free_space_loss_db(1.0, 900.0), abs=1e-4)


# --- accuracy against exact straight paths on the Paser demo DEM -------------------------------


@pytest.fixture(scope="module")
def paser_window(paser_source_dir):
    from pyproj import Transformer

    from blankspot.io import read_terrain

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True).transform(
        *PASER_SITE_LONLAT
    )
    half = 10_500.0
    terrain = read_terrain(
        paser_source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif",
        bounds=(x - half, y - half, x + half, y + half),
        bounds_crs="EPSG:32750",
        crs="EPSG:32750",
        res_m=30.0,
    )
    return terrain, x, y


# Measured on these 60 random cells within 10 km of the 72 m tower (seed 0): ITM median |Δ|
# 0.17 dB, 95th percentile 0.57 dB (max 4.6); P.1812 median 0.04 dB, 95th percentile 0.37 dB
# (max 1.5). The benchmark (benchmarks/bench_radial_accuracy.py) runs 600 cells within 30 km
# of two sites.
@pytest.mark.paser
@pytest.mark.parametrize("model", ["itm", "p1812"])
def test_accuracy_against_exact_paths_on_paser_demo(paser_window, model):
    terrain, x, y = paser_window
    sweep = radial_path_loss(terrain, x, y, height_agl_m=72.0, radius_m=10_000.0, model=model)
    cells, got = _cells(sweep, n=60, seed=0)
    row0, col0 = (float(v) for v in terrain.rowcol(x, y))
    z0 = float(terrain.elevation_at(x, y)[0])
    if model == "itm":
        ref = itm_exact(
            terrain, row0, col0, z0, cells, h_tx_m=72.0, h_rx_m=1.5, freq_mhz=900.0,
            params=ItmParams(),
        )  # fmt: skip
    else:
        ref = p1812_exact(
            terrain, row0, col0, z0, cells, h_tx_m=72.0, h_rx_m=1.5, freq_mhz=900.0,
            params=P1812Params(), lat_deg=sweep_lat(terrain, x, y),
        )  # fmt: skip
    err = np.abs(got - ref)
    assert np.isfinite(err).all()
    assert np.median(err) <= 0.5
    assert np.percentile(err, 95) <= 2.0


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 50),
    height=st.floats(2.0, 120.0),
    rx=st.floats(1.0, 10.0),
    model=st.sampled_from(["itm", "p1812"]),
)
@example(seed=0, height=30.0, rx=1.5, model="itm")
def test_never_below_free_space_headroom(seed, height, rx, model):
    # The max_loss_db cut skips cells where free space minus this headroom already exceeds the
    # limit; it is sound because no computed loss falls further below free space. ITM's
    # reference attenuation is never negative (at the median percentages the loss is at least
    # free space minus the climate's largest V_med); P.1812's loss is at least its line-of-sight
    # loss, free space along the slant path at p = 50 %.
    terrain = make_terrain("rough", seed=seed)
    x, y = cell_centre(terrain, 32, 32)
    sweep = radial_path_loss(
        terrain, x, y, height_agl_m=height, rx_height_agl_m=rx, radius_m=900.0, model=model
    )
    rows, cols = np.mgrid[0 : sweep.path_loss_db.shape[0], 0 : sweep.path_loss_db.shape[1]]
    d = np.hypot(rows + sweep.row_off - 32, cols + sweep.col_off - 32) * terrain.res_m
    params = ItmParams() if model == "itm" else P1812Params()
    floor = free_space_loss_db(d, 900.0) - free_space_headroom_db(model, params)
    ok = np.isfinite(sweep.path_loss_db)
    assert ok.sum() > 2000
    assert (sweep.path_loss_db[ok] >= floor[ok] - 1e-3).all()


@settings(max_examples=10, deadline=None)
@given(
    kind=st.sampled_from(["flat", "tilted_plane"]),
    low=st.floats(2.0, 100.0),
    extra=st.floats(0.5, 60.0),
    model=st.sampled_from(["itm", "p1812"]),
)
@example(kind="flat", low=2.0, extra=60.0, model="p1812")
def test_taller_tower_on_a_plane_costs_at_most_the_longer_slant_path(kind, low, extra, model):
    # "A taller tower never increases the loss" is not true of either model: P.1812 counts free
    # space along the slant path (a cell at the foot of a 120 m mast is 4x farther from the
    # antenna than from a 2 m one: +12 dB), and ITM's line-of-sight loss can rise by a few
    # tenths of a dB with height (0.34 dB at most in a sweep of 2-120 m over 1-333 cells of flat
    # ground). What holds on smooth ground: raising the tower costs no more than the longer
    # slant path's free-space increase (measured excess: 0.003 dB at most), so here within
    # 0.5 dB, and the mean loss over the disc does not grow by more than that either.
    terrain = make_terrain(kind)
    x, y = cell_centre(terrain, 32, 30)
    a = radial_path_loss(terrain, x, y, height_agl_m=low, radius_m=900.0, model=model)
    b = radial_path_loss(terrain, x, y, height_agl_m=low + extra, radius_m=900.0, model=model)
    rows, cols = np.mgrid[0 : a.path_loss_db.shape[0], 0 : a.path_loss_db.shape[1]]
    d = np.hypot(rows + a.row_off - 32, cols + a.col_off - 30) * terrain.res_m
    z_cell = terrain.elevation_m[a.window].astype(float)
    dz_a = float(terrain.elevation_m[32, 30]) + low - z_cell - 1.5
    dz_b = dz_a + extra
    slant = 10.0 * np.log10((d**2 + dz_b**2) / (d**2 + dz_a**2))
    excess = b.path_loss_db - a.path_loss_db - slant
    assert np.nanmax(excess) <= 0.5


def test_max_loss_cut_is_sound():
    terrain = make_terrain("rough", seed=5)
    x, y = cell_centre(terrain, 32, 32)
    full = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0)
    cut = radial_path_loss(terrain, x, y, height_agl_m=30.0, radius_m=900.0, max_loss_db=85.0)
    assert cut.radius_m < 900.0
    assert cut.path_loss_db.shape < full.path_loss_db.shape
    big = np.full(full.path_loss_db.shape, np.nan, dtype=np.float32)
    r0, c0 = cut.row_off - full.row_off, cut.col_off - full.col_off
    big[r0 : r0 + cut.path_loss_db.shape[0], c0 : c0 + cut.path_loss_db.shape[1]] = cut.path_loss_db
    both = np.isfinite(big)
    np.testing.assert_array_equal(big[both], full.path_loss_db[both])
    dropped = np.isfinite(full.path_loss_db) & ~both
    assert dropped.any() and (full.path_loss_db[dropped] > 85.0).all()


@pytest.mark.parametrize("kind", ["knife_edge", "two_valleys", "rough"])
def test_knife_edge_prefilter_drops_nothing_within_the_cut(kind):
    terrain = make_terrain(kind, size=64) if kind != "rough" else make_terrain("rough", seed=3)
    x, y = cell_centre(terrain, 32, 20)
    # near_cells=4: the prefilter works on paths longer than near_cells, so short ones here
    kw = dict(height_agl_m=12.0, radius_m=900.0, max_loss_db=95.0, near_cells=4)
    plain = radial_path_loss(terrain, x, y, prefilter_margin_db=None, **kw).path_loss_db
    fast = radial_path_loss(terrain, x, y, prefilter_margin_db=0.0, **kw).path_loss_db
    kept = np.isfinite(fast)
    np.testing.assert_array_equal(fast[kept], plain[kept])  # computed cells: same bits
    skipped = np.isfinite(plain) & ~kept
    assert skipped.sum() > 200  # the shadows behind the edge, the ridge or the rough hills
    assert (plain[skipped] > 95.0).all()


@pytest.mark.paser
def test_knife_edge_prefilter_on_paser_demo(paser_window):
    """The floor (free space + J(ν) of the transmitter horizon) stays below ITM's loss: with no
    margin at all, no cell within the cut is skipped, and the shadowed ones are."""
    terrain, x, y = paser_window
    kw = dict(height_agl_m=72.0, radius_m=10_000.0, max_loss_db=123.0)
    plain = radial_path_loss(terrain, x, y, prefilter_margin_db=None, **kw).path_loss_db
    fast = radial_path_loss(terrain, x, y, prefilter_margin_db=0.0, **kw).path_loss_db
    skipped = np.isfinite(plain) & ~np.isfinite(fast)
    assert skipped.sum() > 0.3 * np.isfinite(plain).sum()
    assert plain[skipped].min() > 123.0 + 3.0  # the default margin is spare


# --- inputs ------------------------------------------------------------------------------------


def test_params_validate_everything_at_once():
    with pytest.raises(UnitsError) as info:
        ItmParams(climate=9, n0=100.0, pol=2, time_pct=0.0)
    assert "4 problems" in str(info.value) and "P.1812" in str(info.value)
    with pytest.raises(UnitsError) as info:
        P1812Params(p_pct=60.0, zone=2, pol=0)
    assert "3 problems" in str(info.value) and "ITM" in str(info.value)
    assert ItmParams().is_median and "climate=1" in ItmParams().describe()


def test_radial_inputs_are_checked():
    terrain = make_terrain("flat")
    x, y = cell_centre(terrain, 32, 32)
    with pytest.raises(UnitsError) as info:
        radial_path_loss(
            terrain, x, y, height_agl_m=0.2, rx_height_agl_m=0.7, freq_mhz=7000.0,
            model="p1812", near_cells=0,
        )  # fmt: skip
    msg = str(info.value)
    assert "4 problems" in msg and "P.1812" in msg and "near_cells" in msg
    with pytest.raises(UnitsError, match=r"clutter_height_m is for P\.1812"):
        radial_path_loss(terrain, x, y, height_agl_m=30.0, clutter_height_m=np.zeros((1, 1)))
    with pytest.raises(UnitsError, match="model must be one of"):
        radial_path_loss(terrain, x, y, height_agl_m=30.0, model="hata")


# --- coverage integration ----------------------------------------------------------------------


def _sites(terrain, cells, heights):
    return gpd.GeoDataFrame(
        {"height_agl_m": heights},
        geometry=[Point(cell_centre(terrain, r, c)) for r, c in cells],
        index=gpd.pd.Index([f"S{i}" for i in range(len(cells))], name="site_id"),
        crs=terrain.crs,
    )


@pytest.mark.parametrize("model", ["itm", "p1812"])
def test_compute_coverage_with_terrain_models(model):
    terrain = make_terrain("two_valleys")
    budget = LinkBudget(threshold_dbm=-70.0)  # MAPL 98.2 dB: cells across the ridge drop out
    sites = _sites(terrain, [(32, 12), (32, 52)], [30.0, 30.0])
    cov = compute_coverage(terrain, sites, budget=budget, model=model, radius_m=900.0)
    max_loss = budget.max_path_loss_db + MAX_LOSS_MARGIN_DB
    assert cov.model.startswith(f"{model}(") and f"max_loss_db={max_loss:g}" in cov.model
    fp = cov.footprint("S0")
    direct = site_footprint(
        terrain, "S0", *cell_centre(terrain, 32, 12), 30.0, model=model, radius_m=900.0,
        max_loss_db=max_loss,
    )  # fmt: skip
    np.testing.assert_array_equal(fp.path_loss_db, direct.path_loss_db)
    assert np.nanmax(fp.path_loss_db) <= max_loss
    # each valley is served from its own side of the ridge
    server = cov.best_server(covered_only=True)
    assert cov.site_ids[server[32, 6]] == "S0" and cov.site_ids[server[32, 58]] == "S1"
    assert fp.covered(budget).any() and not fp.covered(budget).all()


def test_compute_coverage_terrain_model_inputs():
    terrain = make_terrain("flat")
    sites = _sites(terrain, [(10, 10), (20, 20)], [0.2, 30.0])
    with pytest.raises(SchemaError, match="site 'S0'"):
        compute_coverage(terrain, sites, model="itm", radius_m=300.0)
    ok = _sites(terrain, [(10, 10)], [30.0])
    with pytest.raises(UnitsError) as info:
        compute_coverage(
            terrain, ok, model="p1812", radius_m=300.0, rx_height_agl_m=0.7,
            itm_params=P1812Params(),
        )  # fmt: skip
    assert "2 problems" in str(info.value)
    with pytest.raises(UnitsError, match="terrain models only"):
        compute_coverage(terrain, ok, model="los", radius_m=300.0, clutter=np.zeros((64, 64)))
    cov = compute_coverage(terrain, ok, model="itm", radius_m=300.0, max_loss_db=math.inf)
    assert "max_loss_db=inf" in cov.model
