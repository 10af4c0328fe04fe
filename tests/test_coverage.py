"""Coverage: footprints, best server, overlap, thresholds without recompute, validation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from blankspot.coverage import CoverageResult, Footprint, compute_coverage, site_footprint
from blankspot.errors import CRSError, SchemaError, UnitsError
from blankspot.propagation import LinkBudget, free_space_loss_db, viewshed
from blankspot.testing import cell_centre, make_terrain

# MAPL 83.2 dB: free-space range at 900 MHz is about 383 m, inside a 900 m model radius
TIGHT = LinkBudget(threshold_dbm=-60.0)


def _sites(terrain, cells, heights=None, ids=None, crs="same"):
    ids = ids or [f"S{i}" for i in range(len(cells))]
    heights = heights or [30.0] * len(cells)
    gdf = gpd.GeoDataFrame(
        {"height_agl_m": heights, "cost_idr": np.full(len(cells), 1_700_000_000, dtype=np.int64)},
        geometry=[Point(cell_centre(terrain, r, c)) for r, c in cells],
        index=gpd.pd.Index(ids, name="site_id"),
        crs=terrain.crs if crs == "same" else crs,
    )
    return gdf


def _distance_grid(terrain, row, col):
    rows, cols = np.mgrid[0 : terrain.shape[0], 0 : terrain.shape[1]]
    return np.hypot(rows - row, cols - col) * terrain.res_m


def test_footprint_is_free_space_loss_where_visible():
    terrain = make_terrain("knife_edge")
    x, y = cell_centre(terrain, 32, 32)
    fp = site_footprint(terrain, "A", x, y, 30.0, radius_m=900.0)
    vs = viewshed(terrain, x, y, height_agl_m=30.0, radius_m=900.0)
    full = np.full(terrain.shape, np.nan, dtype=np.float32)
    full[fp.window] = fp.path_loss_db
    vis = vs.visible_on_grid(terrain.shape)
    d = np.full(terrain.shape, np.nan)
    d[vs.window] = vs.distance_m
    expected = free_space_loss_db(d[vis], 900.0).astype(np.float32)
    np.testing.assert_array_equal(full[vis], expected)
    assert np.isnan(full[~vis]).all()
    assert fp.path_loss_db.dtype == np.float32 and not fp.path_loss_db.flags.writeable
    # own cell: 0 m is evaluated at 1 m
    assert full[32, 32] == pytest.approx(free_space_loss_db(1.0, 900.0), abs=1e-4)
    # cropped to the cells with signal: nothing east of the wall
    assert fp.col_off + fp.window_shape[1] - 1 == 40


def test_footprint_sample():
    terrain = make_terrain("flat")
    fp = site_footprint(terrain, "A", *cell_centre(terrain, 10, 10), 30.0, radius_m=150.0)
    rows = np.array([10, 10, 15, 60, -1])
    cols = np.array([10, 13, 10, 60, 10])
    got = fp.sample(rows, cols)
    assert got[0] == pytest.approx(free_space_loss_db(1.0, 900.0), abs=1e-4)
    assert got[1] == pytest.approx(free_space_loss_db(90.0, 900.0), abs=1e-4)
    assert got[2] == pytest.approx(free_space_loss_db(150.0, 900.0), abs=1e-4)
    assert np.isnan(got[3:]).all()
    with pytest.raises(UnitsError, match="integer"):
        fp.sample([1.5], [2.0])


def test_best_server_picks_the_stronger_site():
    terrain = make_terrain("flat")
    cells = [(20, 20), (20, 44), (50, 30)]
    cov = compute_coverage(terrain, _sites(terrain, cells), radius_m=1200.0, budget=TIGHT)
    server = cov.best_server()
    dists = np.stack([_distance_grid(terrain, r, c) for r, c in cells])
    nearest = np.argmin(dists, axis=0)
    sorted_d = np.sort(dists, axis=0)
    clear = (sorted_d[1] - sorted_d[0] > 1.0) & (sorted_d[0] <= 1200.0)
    np.testing.assert_array_equal(server[clear], nearest[clear])
    best = cov.best_rsrp_dbm()
    assert best.dtype == np.float32
    np.testing.assert_allclose(
        best[clear],
        TIGHT.rsrp_dbm(free_space_loss_db(np.maximum(sorted_d[0][clear], 1.0), 900.0)),
        atol=1e-3,
    )
    # covered_only drops cells beyond the 383 m range
    covered_server = cov.best_server(covered_only=True)
    assert (covered_server[sorted_d[0] > 400.0] == -1).all()
    assert (covered_server[sorted_d[0] < 370.0] >= 0).all()


def test_best_server_is_minus_one_where_no_signal():
    terrain = make_terrain("two_valleys")
    cov = compute_coverage(terrain, _sites(terrain, [(32, 8)]), radius_m=900.0)
    server = cov.best_server()
    assert server[32, 8] == 0
    assert (server[:, 40:] == -1).all()  # behind the ridge
    assert np.isnan(cov.best_rsrp_dbm()[:, 40:]).all()


def test_overlap_counts():
    terrain = make_terrain("flat")
    cells = [(32, 20), (32, 36), (32, 44)]
    cov = compute_coverage(terrain, _sites(terrain, cells), radius_m=900.0, budget=TIGHT)
    count = cov.overlap_count()
    assert count.dtype == np.int32
    range_m = 10 ** ((TIGHT.max_path_loss_db - free_space_loss_db(1000.0, 900.0)) / 20) * 1000
    assert 375.0 < range_m < 390.0
    within = np.stack([_distance_grid(terrain, r, c) <= range_m for r, c in cells])
    margin = np.stack([np.abs(_distance_grid(terrain, r, c) - range_m) < 1.0 for r, c in cells])
    sure = ~margin.any(axis=0)
    np.testing.assert_array_equal(count[sure], within.sum(axis=0)[sure])
    assert count[32, 32] == 3 and count[32, 40] == 2 and count[32, 10] == 1
    np.testing.assert_array_equal(cov.covered_mask(), count > 0)


def test_new_threshold_needs_no_recompute():
    terrain = make_terrain("rough")
    cov = compute_coverage(terrain, _sites(terrain, [(32, 32), (10, 50)]), radius_m=1400.0,
                           budget=TIGHT)  # fmt: skip
    looser = cov.with_budget(TIGHT.replace(threshold_dbm=-70.0))
    assert looser.footprints is cov.footprints
    assert looser.budget.threshold_dbm == -70.0 and cov.budget.threshold_dbm == -60.0
    assert looser.covered_mask().sum() > cov.covered_mask().sum()
    assert (looser.covered_mask() >= cov.covered_mask()).all()
    np.testing.assert_array_equal(looser.best_server(), cov.best_server())
    np.testing.assert_allclose(looser.best_rsrp_dbm(), cov.best_rsrp_dbm(), equal_nan=True)
    with pytest.raises(UnitsError, match="frequency"):
        cov.with_budget(TIGHT.replace(freq_mhz=1800.0))


def test_result_metadata_and_lookup():
    terrain = make_terrain("flat")
    cov = compute_coverage(terrain, _sites(terrain, [(5, 5), (50, 50)], ids=["a", "b"]),
                           radius_m=300.0, rx_height_agl_m=2.0, k_factor=4 / 3)  # fmt: skip
    assert isinstance(cov, CoverageResult)
    assert cov.site_ids == ("a", "b")
    assert cov.model == "los+fspl" and cov.shape == terrain.shape and cov.crs == terrain.crs
    assert cov.transform == terrain.transform
    assert (cov.radius_m, cov.rx_height_agl_m, cov.k_factor) == (300.0, 2.0, 4 / 3)
    assert isinstance(cov.footprint("b"), Footprint) and cov.footprint("b").site_id == "b"
    with pytest.raises(KeyError, match="no site 'c'"):
        cov.footprint("c")


def test_threaded_equals_serial():
    terrain = make_terrain("rough", seed=2)
    sites = _sites(terrain, [(10, 10), (20, 50), (40, 30), (60, 5), (32, 32)],
                   heights=[10.0, 20.0, 30.0, 40.0, 50.0])  # fmt: skip
    serial = compute_coverage(terrain, sites, radius_m=1400.0, n_threads=1)
    threaded = compute_coverage(terrain, sites, radius_m=1400.0, n_threads=4, progress=True)
    assert threaded.site_ids == serial.site_ids
    for a, b in zip(serial.footprints, threaded.footprints, strict=True):
        assert (a.row_off, a.col_off) == (b.row_off, b.col_off)
        np.testing.assert_array_equal(a.path_loss_db, b.path_loss_db)


def test_empty_sites():
    terrain = make_terrain("flat")
    cov = compute_coverage(terrain, _sites(terrain, []), radius_m=300.0)
    assert cov.site_ids == ()
    assert (cov.best_server() == -1).all() and not cov.covered_mask().any()


@settings(max_examples=20, deadline=None)
@given(h1=st.floats(0.0, 100.0), extra=st.floats(0.01, 100.0), seed=st.integers(0, 3))
@example(h1=10.0, extra=30.0, seed=0)
def test_taller_tower_never_covers_fewer_cells(h1, extra, seed):
    terrain = make_terrain("rough", seed=seed)
    low = compute_coverage(terrain, _sites(terrain, [(30, 30)], heights=[h1]), radius_m=1200.0,
                           budget=TIGHT)  # fmt: skip
    high = compute_coverage(terrain, _sites(terrain, [(30, 30)], heights=[h1 + extra]),
                            radius_m=1200.0, budget=TIGHT)  # fmt: skip
    assert not (low.covered_mask() & ~high.covered_mask()).any()


# --- validation -----------------------------------------------------------------------------


def test_crs_mismatch_is_an_error():
    terrain = make_terrain("flat")
    sites = _sites(terrain, [(5, 5)]).to_crs("EPSG:4326")
    with pytest.raises(CRSError, match="does not reproject"):
        compute_coverage(terrain, sites)
    sites = _sites(terrain, [(5, 5)]).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no CRS"):
        compute_coverage(terrain, sites)


def test_sites_problems_reported_at_once():
    terrain = make_terrain("nodata_hole")
    sites = _sites(terrain, [(5, 5), (39, 39), (5, 5)], heights=[-3.0, 30.0, 30.0],
                   ids=["ok", "hole", "ok"])  # fmt: skip
    sites.loc[sites.index[0], "geometry"] = Point(0.0, 0.0)
    with pytest.raises(SchemaError) as info:
        compute_coverage(terrain, sites)
    message = str(info.value)
    assert "4 problems" in message
    for part in ("unique", "outside the terrain", "nodata", "height_agl_m"):
        assert part in message


def test_missing_column_and_bad_geometry():
    terrain = make_terrain("flat")
    sites = _sites(terrain, [(5, 5), (6, 6)]).drop(columns="height_agl_m")
    sites.loc["S1", "geometry"] = Point(cell_centre(terrain, 6, 6)).buffer(10.0)
    with pytest.raises(SchemaError) as info:
        compute_coverage(terrain, sites)
    assert "height_agl_m" in str(info.value) and "Points" in str(info.value)
    with pytest.raises(TypeError, match="GeoDataFrame"):
        compute_coverage(terrain, [(1.0, 2.0)])


def test_models_and_global_inputs():
    terrain = make_terrain("flat")
    sites = _sites(terrain, [(5, 5)])
    with pytest.raises(UnitsError, match="Available models") as info:
        compute_coverage(terrain, sites, model="hata")
    assert "'los'" in str(info.value) and "'itm'" in str(info.value) and "'p1812'" in str(info.value)
    with pytest.raises(UnitsError) as info:
        compute_coverage(terrain, sites, radius_m=-1.0, k_factor=0.0, n_threads=0)
    assert "3 problems" in str(info.value)
    with pytest.raises(TypeError, match="LinkBudget"):
        compute_coverage(terrain, sites, budget={"freq_mhz": 900.0})


@pytest.mark.parametrize("model", ["los", "itm", "p1812"])
def test_each_site_is_checked_once_at_the_edge(model, monkeypatch):
    """compute_coverage checks the sites table once; the sweeps do not check each site again."""
    import blankspot.coverage as cov
    import blankspot.propagation.los as los
    import blankspot.propagation.radial as radial

    calls = []
    real = los._check_site_inputs

    def counting(*args, **kwargs):
        calls.append(kwargs.get("what", "site"))
        return real(*args, **kwargs)

    for module in (cov, los, radial):
        monkeypatch.setattr(module, "_check_site_inputs", counting)
    terrain = make_terrain("two_valleys")
    sites = _sites(terrain, [(32, 10), (32, 54), (20, 30)], heights=[30.0, 30.0, 40.0])
    compute_coverage(terrain, sites, model=model, radius_m=600.0, n_threads=1)
    assert len(calls) == len(sites)
    calls.clear()  # one site through the public per-site function: checked once too
    site_footprint(terrain, "A", *cell_centre(terrain, 32, 10), 30.0, model=model, radius_m=600.0)
    assert len(calls) == 1
