"""Distributed footprints: compact form, window alignment, engines agree bit for bit, faults."""

from __future__ import annotations

import os
import signal
import sys
import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point

from blankspot import distributed as bd
from blankspot.aggregate import build_coverage_matrix
from blankspot.clutter import ClutterModel
from blankspot.coverage import compute_coverage, site_footprint
from blankspot.distributed import (
    compute_footprints,
    coverage_matrix_distributed,
    sparse_site_footprint,
)
from blankspot.errors import (
    BlankspotWarning,
    ConfigError,
    CRSError,
    InputError,
    SchemaError,
    UnitsError,
)
from blankspot.footprints import DemandIndex, Grid, SparseFootprint
from blankspot.io import read_terrain
from blankspot.io.terrain_source import TerrainSource
from blankspot.propagation import LinkBudget
from blankspot.terrain import Terrain
from blankspot.testing import make_terrain

SIZE = 96
RES_M = 30.0
# the zoo origin's y (9 800 000) is not a multiple of 30 m; this one is, so the file's cells
# are the analysis grid's cells and a window read is an exact copy
TRANSFORM = Affine(RES_M, 0.0, 480_000.0, 0.0, -RES_M, 9_800_010.0)
CRS_ = "EPSG:32750"
RADIUS_M = 900.0
# MAPL 113.2 dB: free-space range at 900 MHz about 12 km, so every visible cell is covered
BUDGET = LinkBudget(threshold_dbm=-90.0)


@pytest.fixture(scope="module")
def dem(tmp_path_factory):
    """The rough zoo terrain as a GeoTIFF on the analysis grid, and as a Terrain."""
    elev = make_terrain("rough", size=SIZE).elevation_m
    path = tmp_path_factory.mktemp("dem") / "rough_utm50s.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="float32",
        crs=CRS_,
        transform=TRANSFORM,
        tiled=True,
        blockxsize=32,
        blockysize=32,
    ) as dst:
        dst.write(elev, 1)
    terrain = Terrain(elevation_m=elev, transform=TRANSFORM, crs=CRS_)
    source = TerrainSource(str(path), crs=CRS_, res_m=RES_M)
    return source, source.grid(), terrain


def make_sites(n, *, seed=0, heights=None):
    rng = np.random.default_rng(seed)
    # anywhere on the grid, off cell centres, some within the radius of an edge
    x = TRANSFORM.c + rng.uniform(0.3, SIZE - 0.3, n) * RES_M
    y = TRANSFORM.f - rng.uniform(0.3, SIZE - 0.3, n) * RES_M
    h = np.asarray(heights if heights is not None else rng.uniform(10.0, 60.0, n), dtype=float)
    return gpd.GeoDataFrame(
        {"height_agl_m": h},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        index=gpd.pd.Index([f"S{i:03d}" for i in range(n)], name="site_id"),
        crs=CRS_,
    )


def make_demand(terrain, n=600, seed=1):
    rng = np.random.default_rng(seed)
    x = TRANSFORM.c + rng.uniform(0, SIZE, n) * RES_M
    y = TRANSFORM.f - rng.uniform(0, SIZE, n) * RES_M
    return gpd.GeoDataFrame(
        {"village_id": [f"V{i % 7}" for i in range(n)], "population": rng.uniform(0, 50, n)},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        crs=terrain.crs,
    )


def assert_same_footprints(a, b):
    assert len(a) == len(b)
    for fa, fb in zip(a, b, strict=True):
        assert fa.site_id == fb.site_id
        assert fa.grid_id == fb.grid_id
        np.testing.assert_array_equal(fa.run_rows, fb.run_rows)
        np.testing.assert_array_equal(fa.run_cols, fb.run_cols)
        np.testing.assert_array_equal(fa.run_lengths, fb.run_lengths)
        assert fa.path_loss_db.tobytes() == fb.path_loss_db.tobytes()  # bit for bit


def reference(terrain, sites):
    """Footprints computed on the whole in-memory terrain, one process."""
    grid = Grid.from_terrain(terrain)
    out = []
    for sid, row in sites.iterrows():
        fp = site_footprint(
            terrain, sid, row.geometry.x, row.geometry.y, row.height_agl_m, radius_m=RADIUS_M
        )
        out.append(SparseFootprint.from_footprint(fp, grid.grid_id))
    return out


# --- grid ------------------------------------------------------------------------------------


def test_grid_snaps_to_cell_multiples_and_ids_differ():
    g = Grid.from_bounds((480_001.0, 9_797_000.5, 480_899.0, 9_799_999.0), crs=CRS_, res_m=30.0)
    assert (g.transform.c, g.transform.f) == (480_000.0, 9_800_010.0)
    assert g.shape == (101, 30)
    assert g.grid_id == Grid(crs=CRS_, transform=g.transform, shape=g.shape).grid_id
    other = Grid(crs=CRS_, transform=g.transform, shape=(101, 31))
    assert other.grid_id != g.grid_id


def test_grid_refuses_origin_off_cell_multiples_and_degrees():
    with pytest.raises(CRSError, match="not a multiple of its cell size"):
        Grid(crs=CRS_, transform=Affine(30.0, 0, 480_000.0, 0, -30.0, 9_800_000.0), shape=(4, 4))
    with pytest.raises(CRSError, match="metres"):
        Grid(crs="EPSG:4326", transform=Affine(1.0, 0, 115.0, 0, -1.0, -1.0), shape=(2, 2))


def test_window_around_is_clipped_to_the_grid(dem):
    _, grid, _ = dem
    x, y = TRANSFORM.c + 2.5 * RES_M, TRANSFORM.f - 50.5 * RES_M
    r0, c0, rows, cols = grid.window_around(x, y, 300.0)
    assert (r0, c0) == (50 - 10 - 3, 0)
    assert (rows, cols) == (2 * 13 + 1, 2 + 13 + 1)


# --- compact footprints ----------------------------------------------------------------------


def test_sparse_footprint_round_trips_a_footprint_exactly():
    terrain = make_terrain("knife_edge")
    grid = Grid.from_terrain(Terrain(terrain.elevation_m, TRANSFORM, CRS_))
    x, y = terrain.xy(32, 30)
    fp = site_footprint(terrain, "A", float(x), float(y), 30.0, radius_m=600.0)
    sp = SparseFootprint.from_footprint(fp, grid.grid_id)
    back = sp.to_footprint()
    assert (back.row_off, back.col_off) == (fp.row_off, fp.col_off)
    np.testing.assert_array_equal(back.path_loss_db, fp.path_loss_db)
    finite = np.isfinite(fp.path_loss_db)
    assert sp.n_cells == int(finite.sum())
    assert sp.nbytes == 4 * sp.n_cells + 12 * sp.n_runs
    # the wall splits rows into runs; rows/cols list every kept cell in row-major order
    rr, cc = np.nonzero(finite)
    np.testing.assert_array_equal(sp.rows, rr + fp.row_off)
    np.testing.assert_array_equal(sp.cols, cc + fp.col_off)
    np.testing.assert_array_equal(sp.path_loss_db, fp.path_loss_db[finite])


def test_capped_equals_capping_at_construction():
    terrain = make_terrain("rough")
    x, y = terrain.xy(20, 40)
    fp = site_footprint(terrain, "A", float(x), float(y), 20.0, radius_m=900.0)
    full = SparseFootprint.from_footprint(fp, "g")
    for cap in (80.0, 85.5, 95.0, 200.0):
        a = full.capped(cap)
        b = SparseFootprint.from_footprint(fp, "g", max_path_loss_db=cap)
        for name in ("run_rows", "run_cols", "run_lengths", "path_loss_db"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert a.max_path_loss_db == b.max_path_loss_db
    assert full.capped(None) is full


def test_sparse_footprint_rejects_inconsistent_runs():
    with pytest.raises(SchemaError, match="add up"):
        SparseFootprint("A", "g", [0], [0], [3], np.zeros(2, np.float32))


def test_column_matches_build_coverage_matrix():
    terrain = make_terrain("rough", size=64)
    sites = gpd.GeoDataFrame(
        {"height_agl_m": [25.0, 40.0, 15.0]},
        geometry=[Point(terrain.xy(r, c)) for r, c in ((10, 12), (40, 50), (60, 3))],
        index=["A", "B", "C"],
        crs=terrain.crs,
    )
    budget = LinkBudget(threshold_dbm=-60.0)  # MAPL 83.2 dB: about 383 m, inside the radius
    cov = compute_coverage(terrain, sites, budget=budget, radius_m=900.0)
    rng = np.random.default_rng(3)
    x0, y0 = terrain.transform.c, terrain.transform.f
    demand = gpd.GeoDataFrame(
        {"village_id": ["v"] * 400, "population": np.ones(400)},
        geometry=[
            Point(x0 + rng.uniform(-60, 64 * 30 + 60), y0 - rng.uniform(-60, 64 * 30 + 60))
            for _ in range(400)
        ],  # a few off the grid
        crs=terrain.crs,
    )
    want = build_coverage_matrix(cov, demand).matrix
    # grid_id only labels the grid, so the zoo's own origin is fine here
    grid_id, n_cols = "zoo", terrain.shape[1]
    t = terrain.transform
    col = np.floor((demand.geometry.x - t.c) / t.a).to_numpy().astype(np.int64)
    row = np.floor((demand.geometry.y - t.f) / t.e).to_numpy().astype(np.int64)
    inside = np.flatnonzero((row >= 0) & (row < 64) & (col >= 0) & (col < 64))
    pixel = row[inside] * n_cols + col[inside]
    order = np.argsort(pixel, kind="stable")
    index = DemandIndex(grid_id, n_cols, len(demand), pixel[order], inside[order].astype(np.int32))
    for j, fp in enumerate(cov.footprints):
        sp = SparseFootprint.from_footprint(fp, grid_id)
        got = sp.column(index, max_path_loss_db=budget.max_path_loss_db)
        expected = want.indices[want.indptr[j] : want.indptr[j + 1]]
        np.testing.assert_array_equal(got, expected)
        assert got.size > 0
    with pytest.raises(CRSError, match="indexed on grid"):
        SparseFootprint.from_footprint(cov.footprints[0], "other").column(index)


# --- one site, one window --------------------------------------------------------------------


def test_window_read_gives_the_whole_grid_footprint_bit_for_bit(dem):
    source, grid, terrain = dem
    sites = make_sites(12, seed=5)
    got = [
        sparse_site_footprint(
            source, grid, sid, r.geometry.x, r.geometry.y, r.height_agl_m, radius_m=RADIUS_M
        )
        for sid, r in sites.iterrows()
    ]
    assert_same_footprints(got, reference(terrain, sites))


def test_window_off_the_grid_is_refused(dem, monkeypatch):
    source, grid, _ = dem
    import blankspot.io.terrain_source as io_terrain

    real = io_terrain.read_terrain

    def shifted(*args, **kwargs):
        t = real(*args, **kwargs)
        return Terrain(t.elevation_m, t.transform @ Affine.translation(1, 0), t.crs)

    monkeypatch.setattr(io_terrain, "read_terrain", shifted)
    with pytest.raises(CRSError, match="does not lie on the analysis grid"):
        source.read_window(grid, 10, 10, 20, 20)


def test_nodata_in_windows_is_quiet_and_filters_are_restored(tmp_path):
    elev = make_terrain("rough", size=SIZE).elevation_m.copy()
    elev[40:50, 40:50] = np.nan
    path = tmp_path / "holed.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=SIZE,
        height=SIZE,
        count=1,
        dtype="float32",
        crs=CRS_,
        transform=TRANSFORM,
        nodata=float("nan"),
    ) as dst:
        dst.write(elev, 1)
    source = TerrainSource(str(path), crs=CRS_, res_m=RES_M)
    sites = make_sites(8, seed=2)
    sites.geometry = [
        Point(TRANSFORM @ (c + 0.5, r + 0.5))
        for r, c in ((30, 30), (35, 60), (60, 35), (55, 55), (20, 45), (45, 20), (70, 70), (38, 38))
    ]
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning from any window read would fail here
        got = compute_footprints(
            source, sites, grid=source.grid(), radius_m=RADIUS_M, scheduler="threads", n_workers=4
        )
    assert list(warnings.filters) == before
    for fp in got:  # nodata cells never get a signal
        in_hole = (fp.rows >= 40) & (fp.rows < 50) & (fp.cols >= 40) & (fp.cols < 50)
        assert not in_hole.any()
    # read_terrain itself still warns once the run is over
    x, y = TRANSFORM @ (45.0, 45.0)
    with pytest.warns(BlankspotWarning, match="no elevation"):
        read_terrain(str(path), bounds=(x - 300, y - 300, x + 300, y + 300), crs=CRS_, res_m=RES_M)


def test_source_and_grid_must_agree(dem):
    source, grid, _ = dem
    coarse = TerrainSource(source.paths, crs=CRS_, res_m=90.0)
    with pytest.raises(UnitsError, match="90 m cells"):
        compute_footprints(coarse, make_sites(2), grid=grid, scheduler="threads")


def test_site_problems_are_listed_at_once(dem):
    source, grid, _ = dem
    sites = make_sites(3)
    sites.index = ["A", "A", "B"]
    sites.loc["B", "height_agl_m"] = -1.0
    sites = gpd.GeoDataFrame(
        sites.drop(columns="geometry"),
        geometry=[Point(0, 0), sites.geometry.iloc[1], sites.geometry.iloc[2]],
        crs=CRS_,
    )
    with pytest.raises(SchemaError) as err:
        compute_footprints(source, sites, grid=grid, scheduler="threads")
    msg = str(err.value)
    assert "unique" in msg and "height_agl_m" in msg and "outside the grid" in msg
    with pytest.raises(CRSError):
        compute_footprints(source, sites.to_crs("EPSG:4326"), grid=grid, scheduler="threads")


def test_engine_choice_is_checked(dem):
    source, grid, _ = dem
    with pytest.raises(UnitsError, match="scheduler must be"):
        compute_footprints(source, make_sites(2), grid=grid, scheduler="processes")
    with pytest.raises(UnitsError, match="not both"):
        compute_footprints(source, make_sites(2), grid=grid, client=object(), scheduler="threads")


def test_missing_dask_names_the_extra(dem, monkeypatch):
    source, grid, terrain = dem
    monkeypatch.setitem(sys.modules, "distributed", None)
    sites = make_sites(3)
    with pytest.raises(ImportError, match=r"pip install 'blankspot\[dask\]'"):
        compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M)
    # threads need no dask
    got = compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M, scheduler="threads")
    assert_same_footprints(got, reference(terrain, sites))


def test_results_stream_back_with_a_bounded_number_in_flight(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(bd, "_run_task", lambda task: task)
    submitted = 0

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, *args):
            nonlocal submitted
            submitted += 1
            return super().submit(fn, *args)

    with Counting(max_workers=3) as pool:
        engine = bd._Engine(pool, lambda: 3)
        seen = []
        for consumed, (j, task) in enumerate(bd._stream(engine, list(range(100))), 1):
            assert submitted - consumed < bd._IN_FLIGHT_PER_SLOT * 3
            seen.append((j, task))
    assert sorted(seen) == [(i, i) for i in range(100)]


# --- engines agree ---------------------------------------------------------------------------

# part of the test extra (blankspot[dask]): a missing install fails here rather than skipping
import distributed  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with bd.local_cluster(2) as cluster, distributed.Client(cluster) as c:
        yield c


def test_threads_local_cluster_and_scheduler_address_agree_bit_for_bit(dem, client, tmp_path):
    source, grid, terrain = dem
    sites = make_sites(16, seed=7)
    want = reference(terrain, sites)
    threads = compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M, scheduler="threads")
    assert_same_footprints(threads, want)
    on_client = compute_footprints(
        source, sites, grid=grid, radius_m=RADIUS_M, client=client, cache_dir=tmp_path
    )
    assert_same_footprints(on_client, want)
    # the workers stored every footprint in the cache
    assert len(list((tmp_path / "footprints").rglob("*.npz"))) == len(sites)
    by_address = compute_footprints(
        source, sites, grid=grid, radius_m=RADIUS_M, scheduler=client.scheduler.address
    )
    assert_same_footprints(by_address, want)
    # workers run with the malloc settings that keep windows in the heap
    env = client.run(lambda: {k: os.environ.get(k) for k in bd.WORKER_MALLOC_ENV})
    assert all(e == bd.WORKER_MALLOC_ENV for e in env.values())


def test_terrain_models_agree_across_engines(dem, client):
    source, grid, _ = dem
    sites = make_sites(6, seed=12)
    kw = dict(grid=grid, radius_m=RADIUS_M, model="itm", max_path_loss_db=130.0)
    threads = compute_footprints(source, sites, scheduler="threads", **kw)
    assert_same_footprints(compute_footprints(source, sites, client=client, **kw), threads)
    assert all(fp.path_loss_db.max() <= 130.0 for fp in threads)


@pytest.mark.parametrize("model", ["los", "itm", "p1812"])
def test_in_memory_coverage_equals_window_reads_bit_for_bit(dem, model):
    """compute_coverage on the whole grid and workers reading windows run each site on the
    same window (coverage.site_window), so off-centre sites give the same bits both ways."""
    source, grid, terrain = dem
    sites = make_sites(5, seed=21)
    budget = LinkBudget(threshold_dbm=-90.0)
    kw = {"max_loss_db": 180.0} if model != "los" else {}
    cov = compute_coverage(terrain, sites, budget=budget, model=model, radius_m=RADIUS_M,
                           n_threads=1, **kw)
    whole = [SparseFootprint.from_footprint(fp, grid.grid_id) for fp in cov.footprints]
    windows = [
        sparse_site_footprint(source, grid, sid, r.geometry.x, r.geometry.y, r.height_agl_m,
                              model=model, radius_m=RADIUS_M, freq_mhz=budget.freq_mhz,
                              max_loss_db=kw.get("max_loss_db"))
        for sid, r in sites.iterrows()
    ]
    assert_same_footprints(windows, whole)


@pytest.mark.parametrize("model", ["itm", "p1812"])
def test_land_cover_clutter_is_cut_to_each_window_bit_for_bit(dem, model):
    """A ClutterModel with a land-cover grid travels with the tasks and is cut to each window
    there, as compute_coverage cuts it in memory: the same bits both ways."""
    source, grid, terrain = dem
    sites = make_sites(4, seed=5)
    codes = np.full(terrain.shape, 10, dtype=np.int16)
    codes[::3, ::2] = 50
    codes[5:9, :] = 40
    clutter = ClutterModel.paser().with_landcover(codes)
    budget = LinkBudget(threshold_dbm=-90.0)
    cov = compute_coverage(terrain, sites, budget=budget, model=model, radius_m=RADIUS_M,
                           n_threads=1, max_loss_db=180.0, clutter=clutter)
    whole = [SparseFootprint.from_footprint(fp, grid.grid_id) for fp in cov.footprints]
    got = compute_footprints(source, sites, grid=grid, model=model, radius_m=RADIUS_M,
                             scheduler="threads", max_path_loss_db=180.0,
                             freq_mhz=budget.freq_mhz, clutter=clutter)
    assert_same_footprints(got, whole)
    # and the grid matters: uniform forest gives other losses
    forest = compute_footprints(source, sites, grid=grid, model=model, radius_m=RADIUS_M,
                                scheduler="threads", max_path_loss_db=180.0,
                                freq_mhz=budget.freq_mhz, clutter=ClutterModel.uniform("tree"))
    assert any(not np.array_equal(a.path_loss_db, b.path_loss_db)
               for a, b in zip(got, forest, strict=True))
    with pytest.raises(UnitsError, match="land-cover grid has shape"):
        compute_footprints(source, sites, grid=grid, model=model, radius_m=RADIUS_M,
                           scheduler="threads", max_path_loss_db=180.0,
                           clutter=ClutterModel.paser().with_landcover(codes[:-1]))


def test_bare_clutter_grids_are_refused(dem):
    source, grid, terrain = dem
    with pytest.raises(InputError, match="bare grid"):
        compute_footprints(
            source,
            make_sites(2),
            grid=grid,
            model="p1812",
            scheduler="threads",
            clutter=np.zeros(terrain.shape, dtype=np.float32),
        )


def test_default_engine_is_a_local_cluster(dem):
    source, grid, terrain = dem
    sites = make_sites(6, seed=8)
    got = compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M, n_workers=2)
    assert_same_footprints(got, reference(terrain, sites))


def test_coverage_matrix_distributed_equals_build_coverage_matrix(dem, client):
    source, grid, terrain = dem
    sites = make_sites(10, seed=9)
    demand = make_demand(terrain)
    cov = compute_coverage(terrain, sites, budget=BUDGET, radius_m=RADIUS_M)
    want = build_coverage_matrix(cov, demand)
    for kwargs in ({"scheduler": "threads"}, {"client": client}):
        got = coverage_matrix_distributed(
            source, sites, demand, grid=grid, budget=BUDGET, radius_m=RADIUS_M, **kwargs
        )
        assert got.site_ids == want.site_ids
        assert got.max_path_loss_db == want.max_path_loss_db
        assert (got.matrix != want.matrix).nnz == 0
        assert got.matrix.nnz > 0
        assert got.demand.equals(want.demand)


@pytest.mark.parametrize("model", ["itm", "los", "itm-landcover"])
def test_point_losses_on_workers_equal_the_in_memory_ones_bit_for_bit(dem, client, model):
    """Each task reads its site's window and runs the same per-site function as
    coverage.point_path_loss does on the grid in memory: the same matrix, bit for bit. A
    land cover gives each point its own cell's class, read once before the tasks."""
    from blankspot.clutter import ClutterModel
    from blankspot.coverage import point_path_loss

    source, grid, terrain = dem
    sites = make_sites(7, seed=31)
    demand = make_demand(terrain, n=300, seed=4)
    xy = np.column_stack([demand.geometry.x, demand.geometry.y])
    kw = dict(budget=BUDGET, model=model.split("-")[0], radius_m=RADIUS_M)
    if model == "itm":
        kw["clutter"] = ClutterModel.uniform("tree")
    elif model == "itm-landcover":
        codes = np.full(terrain.shape, 10, np.int16)  # tree cover, with built-up and cropland
        codes[: terrain.shape[0] // 3] = 50
        codes[:, : terrain.shape[1] // 4] = 40
        kw["clutter"] = ClutterModel.paser().with_landcover(codes)
    want = point_path_loss(terrain, sites, xy, **kw)
    assert want.nnz > 50
    for engine in ({"scheduler": "threads"}, {"client": client}):
        got = bd.point_path_loss_distributed(source, sites, xy, grid=grid, **kw, **engine)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        assert got.data.tobytes() == want.data.tobytes()
    if model == "itm-landcover":  # the classes matter: uniform tree gives other losses
        tree = point_path_loss(terrain, sites, xy, **{**kw, "clutter": ClutterModel.uniform("tree")})
        assert tree.data.tobytes() != want.data.tobytes()
        with pytest.raises(InputError, match="land-cover grid has shape"):
            bd.point_path_loss_distributed(
                source, sites, xy, grid=grid, scheduler="threads",
                **{**kw, "clutter": ClutterModel.paser().with_landcover(codes[:-1])})


def test_plan_matrices_in_points_mode_are_the_same_locally_and_on_dask(dem, client):
    from blankspot.plan import coverage_matrices_distributed, coverage_matrix_streamed
    from blankspot.settings import CoverageSettings

    source, _, terrain = dem
    sites = make_sites(6, seed=32)
    demand = make_demand(terrain, n=200, seed=5)
    settings = CoverageSettings(radius_m=RADIUS_M, link=BUDGET, evaluate_at="points")
    budgets = [BUDGET, BUDGET.replace(threshold_dbm=-85.0)]
    local = coverage_matrix_streamed(terrain, sites, demand, settings=settings, budgets=budgets,
                                     batch_size=4)  # fmt: skip
    on_dask = coverage_matrices_distributed(terrain, source, sites, demand, settings=settings,
                                            budgets=budgets, client=client)  # fmt: skip
    for a, b in zip(local, on_dask, strict=True):
        assert a.site_ids == b.site_ids and a.matrix.nnz > 0
        assert (a.matrix != b.matrix).nnz == 0
    assert local[1].matrix.nnz < local[0].matrix.nnz  # a stricter threshold covers less
    with pytest.raises(ConfigError, match="p1812"):
        bd.point_path_loss_distributed(source, sites, np.zeros((1, 2)), grid=source.grid(),
                                       model="p1812", scheduler="threads")  # fmt: skip
    with pytest.raises(InputError, match="clutter"):
        bd.point_path_loss_distributed(source, sites, np.zeros((1, 2)), grid=source.grid(),
                                       clutter=np.zeros(terrain.shape, np.int16),
                                       scheduler="threads")  # fmt: skip


class KillOnce(distributed.WorkerPlugin):
    """Kills its worker process the first time any worker starts a task (marker file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing":
            try:
                fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_is_replaced_and_results_are_unchanged(dem, tmp_path):
    source, grid, _ = dem
    sites = make_sites(24, seed=11)
    want = compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M, scheduler="threads")
    marker = tmp_path / "killed"
    with bd.local_cluster(2) as cluster, distributed.Client(cluster) as c:
        before = set(c.run(os.getpid).values())
        c.register_plugin(KillOnce(marker), name="kill-once")
        got = compute_footprints(source, sites, grid=grid, radius_m=RADIUS_M, client=c)
        c.wait_for_workers(2, timeout=30)
        after = set(c.run(os.getpid).values())
    assert marker.exists()
    assert len(before & after) == 1  # one worker process was replaced
    assert_same_footprints(got, want)
