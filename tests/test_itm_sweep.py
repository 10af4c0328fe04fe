"""The adaptive ITM sweep (``itm_sweep="adaptive"``) against the exact sweep (ITM at every cell)
and against exact point-to-point ITM, on the test terrains and a Paser demo DEM window; the
exact sweep stays the default, and the setting keeps cached footprints of the two apart."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blankspot.errors import ConfigError, UnitsError
from blankspot.propagation.radial import ItmParams, radial_path_loss
from blankspot.settings import CoverageSettings
from blankspot.testing import cell_centre, make_terrain
from reference.radial import itm_exact

PASER_SITE_LONLAT = (116.05, -1.85)
"""The 52 m site of ``benchmarks/bench_coverage.py`` on the demo relief."""


def _abs_diff(a, b):
    both = np.isfinite(a) & np.isfinite(b)
    return np.abs(a[both].astype(np.float64) - b[both])


@pytest.fixture(scope="module")
def paser_window(paser_source_dir):
    from pyproj import Transformer

    from blankspot.io import read_terrain

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True).transform(
        *PASER_SITE_LONLAT
    )
    half = 12_500.0
    terrain = read_terrain(
        paser_source_dir / "terrain" / "paser_dem_demo_1s_synthetic.tif",
        bounds=(x - half, y - half, x + half, y + half),
        bounds_crs="EPSG:32750",
        crs="EPSG:32750",
        res_m=90.0,
    )
    return terrain, x, y


@pytest.fixture(scope="module")
def paser_sweeps(paser_window):
    terrain, x, y = paser_window
    kw = dict(height_agl_m=52.0, radius_m=12_000.0, itm_params=ItmParams(n0=301.0))
    exact = radial_path_loss(terrain, x, y, itm_sweep="exact", **kw)
    adaptive = radial_path_loss(terrain, x, y, itm_sweep="adaptive", **kw)
    return exact, adaptive


def test_exact_is_the_default_and_bit_identical():
    terrain = make_terrain("tilted_plane", size=128, seed=2)
    x, y = cell_centre(terrain, 60, 70)
    kw = dict(height_agl_m=30.0, radius_m=1_800.0, near_cells=4)
    default = radial_path_loss(terrain, x, y, **kw).path_loss_db
    exact = radial_path_loss(terrain, x, y, itm_sweep="exact", **kw).path_loss_db
    np.testing.assert_array_equal(default, exact)
    adaptive = radial_path_loss(terrain, x, y, itm_sweep="adaptive", **kw).path_loss_db
    assert not np.array_equal(adaptive, exact, equal_nan=True)  # it does interpolate here


@pytest.mark.parametrize("kind", ["rough", "two_valleys", "tilted_plane", "knife_edge", "pit"])
def test_adaptive_against_exact_sweep_on_the_zoo(kind):
    # 128 x 128 cells and a short exact tail, so most paths are long enough to interpolate
    terrain = make_terrain(kind, size=128, seed=1)
    x, y = cell_centre(terrain, 61, 66)
    kw = dict(height_agl_m=25.0, radius_m=1_800.0, near_cells=4)
    exact = radial_path_loss(terrain, x, y, itm_sweep="exact", **kw).path_loss_db
    adaptive = radial_path_loss(terrain, x, y, itm_sweep="adaptive", **kw).path_loss_db
    np.testing.assert_array_equal(np.isfinite(adaptive), np.isfinite(exact))
    err = _abs_diff(adaptive, exact)
    assert np.median(err) <= 0.2
    assert np.percentile(err, 95) <= 1.0


@pytest.mark.paser
def test_adaptive_against_exact_sweep_on_paser_demo(paser_sweeps):
    exact, adaptive = (s.path_loss_db for s in paser_sweeps)
    np.testing.assert_array_equal(np.isfinite(adaptive), np.isfinite(exact))
    err = _abs_diff(adaptive, exact)
    assert np.median(err) <= 0.2
    assert np.percentile(err, 95) <= 1.0
    # the cells it evaluates are the exact sweep's, bit for bit
    assert np.mean(adaptive == exact) > 0.5


@pytest.mark.paser
def test_adaptive_against_exact_p2p_on_paser_demo(paser_window, paser_sweeps):
    terrain, x, y = paser_window
    adaptive = paser_sweeps[1]
    ok = np.argwhere(np.isfinite(adaptive.path_loss_db))
    pick = ok[np.random.default_rng(0).choice(len(ok), 80, replace=False)]
    cells = [(adaptive.row_off + int(a), adaptive.col_off + int(b)) for a, b in pick]
    got = np.array([adaptive.path_loss_db[a, b] for a, b in pick], dtype=np.float64)
    row0, col0 = (float(v) for v in terrain.rowcol(x, y))
    z0 = float(terrain.elevation_at(x, y)[0])
    ref = itm_exact(
        terrain, row0, col0, z0, cells, h_tx_m=52.0, h_rx_m=1.5, freq_mhz=900.0,
        params=ItmParams(n0=301.0),
    )  # fmt: skip
    err = np.abs(got - ref)
    assert np.isfinite(err).all()
    assert np.median(err) <= 0.2
    assert np.percentile(err, 95) <= 1.0


@pytest.mark.paser
def test_adaptive_with_a_cut_off_keeps_the_cells_within_it(paser_window):
    # segments whose ends and midpoint are all well beyond the cut-off are left NaN inside;
    # cells within the cut-off keep their loss
    terrain, x, y = paser_window
    cut = 135.0
    kw = dict(height_agl_m=52.0, radius_m=12_000.0, itm_params=ItmParams(n0=301.0),
              max_loss_db=cut)
    exact = radial_path_loss(terrain, x, y, itm_sweep="exact", **kw).path_loss_db
    adaptive = radial_path_loss(terrain, x, y, itm_sweep="adaptive", **kw).path_loss_db
    within = np.isfinite(exact) & (exact <= cut)
    kept = np.isfinite(adaptive) & (adaptive <= cut)
    assert within.sum() > 1000
    assert (within & ~kept).sum() <= 0.005 * within.sum()
    assert (kept & ~within).sum() <= 0.005 * within.sum()


def test_adaptive_parallel_equals_serial():
    terrain = make_terrain("rough", size=128, seed=4)
    x, y = cell_centre(terrain, 64, 64)
    kw = dict(height_agl_m=30.0, radius_m=1_800.0, near_cells=4, itm_sweep="adaptive")
    a = radial_path_loss(terrain, x, y, **kw).path_loss_db
    b = radial_path_loss(terrain, x, y, parallel=True, **kw).path_loss_db
    np.testing.assert_array_equal(a, b)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 40),
    height=st.floats(5.0, 80.0),
    row=st.integers(30, 98),
    col=st.integers(30, 98),
)
def test_adaptive_computes_exactly_the_cells_the_exact_sweep_computes(seed, height, row, col):
    terrain = make_terrain("rough", size=128, seed=seed)
    x, y = cell_centre(terrain, row, col)
    kw = dict(height_agl_m=height, radius_m=1_500.0, near_cells=4)
    exact = radial_path_loss(terrain, x, y, itm_sweep="exact", **kw).path_loss_db
    adaptive = radial_path_loss(terrain, x, y, itm_sweep="adaptive", **kw).path_loss_db
    np.testing.assert_array_equal(np.isfinite(adaptive), np.isfinite(exact))


def test_itm_sweep_is_checked_and_keys_the_footprints():
    terrain = make_terrain("flat")
    x, y = cell_centre(terrain, 32, 32)
    with pytest.raises(UnitsError, match="itm_sweep must be one of 'adaptive', 'exact'"):
        radial_path_loss(terrain, x, y, height_agl_m=30.0, itm_sweep="fast")
    with pytest.raises(ConfigError, match="received 'fast'"):
        CoverageSettings(itm_sweep="fast")
    exact = CoverageSettings()
    adaptive = CoverageSettings(itm_sweep="adaptive")
    assert exact.itm_sweep == "exact" and "itm_sweep" not in exact.key_parts()["options"]
    assert adaptive.key_parts()["options"]["itm_sweep"] == "adaptive"
    assert adaptive.key_parts() != exact.key_parts()
    assert "adaptive sweep" in adaptive.label()
    # line of sight has no ITM sweep: the setting does not split its keys
    los = CoverageSettings(model="los")
    assert los.key_parts() == los.replace(itm_sweep="adaptive").key_parts()
