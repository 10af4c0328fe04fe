"""Scaling of distributed coverage: workers, many sites, worker memory.

    python benchmarks/bench_scaling.py [--data-dir DIR] [--sites 100] [--radius-km 30]
        [--synthetic-sites 10000] [--synthetic-radius-km 5] [--memory-sites 50 500]
        [--skip paser synthetic memory]

Run from the repository root (the Paser demo DEM is found with ``blankspot.io.paser_path``).
Prints one JSON line per measurement:

1. ``paser_scaling``: the SYNTHETIC Paser demo DEM (1 arc-second, EPSG:4326) read once into
   UTM 50S at 30 m and written to a tiled GeoTIFF on that grid, which every worker reads its
   windows from. ``--sites`` random sites on land, 52 m, ``--radius-km`` LOS, computed by
   ``compute_footprints`` on a ``LocalCluster`` of 1 and then 2 worker processes (one thread
   each) and on 1 and 2 local threads, best of ``--repeat`` runs. Cluster start-up and a
   warm-up task per worker are timed apart. Speed-up = wall time on 1 worker / wall time on 2.
   CPU seconds per site (workers' user + system time) are reported too: on a shared machine
   they move less than wall time, and the 1-minute load average before each run says how busy
   it was.
2. ``footprint_size``: bytes of the sparse footprints of that run against the dense float32
   window of a ``coverage.Footprint``.
3. ``synthetic_many_sites``: ``--synthetic-sites`` sites on a synthetic rough terrain
   (``blankspot.testing.make_terrain("rough")``, 30 m cells) at ``--synthetic-radius-km``,
   through ``coverage_matrix_distributed`` (columns only) on 2 workers; wall time and time per
   site.
4. ``worker_memory``: peak resident memory of each worker (Linux ``VmHWM``, reset after the
   warm-up) during ``coverage_matrix_distributed`` over ``--memory-sites`` Paser sites (30 km)
   and 40,000 demand cells, each count on a fresh 2-worker cluster, with each worker's memory
   after the warm-up for reference.

Time per site is worker-seconds per site: wall time x workers / sites.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from affine import Affine
from shapely.geometry import Point

from blankspot.crs import PASER_CRS
from blankspot.distributed import (
    compute_footprints,
    coverage_matrix_distributed,
    local_cluster,
    sparse_site_footprint,
)
from blankspot.footprints import SparseFootprint
from blankspot.io import DEMO_DEM_FILE, paser_path, read_terrain
from blankspot.io.terrain_source import TerrainSource
from blankspot.propagation import LinkBudget
from blankspot.testing import make_terrain

HEIGHT_AGL_M = 52.0


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def write_grid_tiff(path: Path, elevation: np.ndarray, transform: Affine) -> Path:
    rows, cols = elevation.shape
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float32",
        crs=PASER_CRS.to_wkt(),
        transform=transform,
        nodata=float("nan"),
        tiled=True,
        blockxsize=512,
        blockysize=512,
    ) as dst:
        dst.write(elevation.astype(np.float32), 1)
    return path


def random_sites(terrain, n: int, rng, prefix: str) -> gpd.GeoDataFrame:
    """``n`` sites on cell centres with elevation."""
    rows, cols = np.nonzero(~terrain.nodata_mask)
    pick = rng.choice(rows.size, size=n, replace=False)
    x, y = terrain.xy(rows[pick], cols[pick])
    return gpd.GeoDataFrame(
        {"height_agl_m": np.full(n, HEIGHT_AGL_M)},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        index=[f"{prefix}{i:05d}" for i in range(n)],
        crs=terrain.crs,
    )


def random_demand(grid, n: int, rng) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = grid.bounds
    x, y = rng.uniform(xmin, xmax, n), rng.uniform(ymin, ymax, n)
    return gpd.GeoDataFrame(
        {"village_id": [f"V{i % 500}" for i in range(n)], "population": rng.uniform(0, 100, n)},
        geometry=[Point(a, b) for a, b in zip(x, y, strict=True)],
        crs=grid.crs,
    )


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (Linux), in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def worker_rss(client, *, reset_peak: bool = False) -> dict:
    """Each worker's resident memory now and its peak (VmHWM) since start or the last reset.

    VmHWM belongs to the process's own address space, unlike ru_maxrss, which a spawned
    worker inherits from the (large) process that forked it.
    """

    def probe():
        out = {"rss_mb": _status_mb("VmRSS"), "peak_rss_mb": _status_mb("VmHWM")}
        if reset_peak:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # reset VmHWM to the current RSS
        return out

    return client.run(probe)


def cluster(n_workers: int):
    import distributed

    t = time.perf_counter()
    c = local_cluster(n_workers)
    client = distributed.Client(c)
    return c, client, time.perf_counter() - t


def warm_up(client, source, grid, sites, radius_m) -> float:
    """One task per worker so imports and the numba cache load are not timed."""
    t = time.perf_counter()
    n = len(client.nthreads())
    compute_footprints(source, sites.iloc[:n], grid=grid, radius_m=radius_m, client=client)
    return time.perf_counter() - t


def paser(args, work: Path, rng):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DEM's edge is nodata in UTM
        terrain = read_terrain(paser_path(DEMO_DEM_FILE, args.data_dir), crs=PASER_CRS, res_m=30.0)
    path = write_grid_tiff(work / "paser_utm50s_30m.tif", terrain.elevation_m, terrain.transform)
    source = TerrainSource(str(path), crs=PASER_CRS, res_m=30.0)
    grid = source.grid()
    assert grid.transform == terrain.transform and grid.shape == terrain.shape
    emit(
        bench="paser_prepare",
        seconds=round(time.perf_counter() - t, 2),
        grid_rows=grid.shape[0],
        grid_cols=grid.shape[1],
        res_m=30.0,
        crs="EPSG:32750",
        terrain="SYNTHETIC demo DEM",
    )
    return terrain, source, grid


def worker_cpu_s(client) -> float:
    """User + system CPU seconds used so far by all worker processes together."""

    def probe():
        import resource

        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    return float(sum(client.run(probe).values()))


def own_cpu_s() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def paser_scaling(args, terrain, source, grid, rng):
    """Best of ``--repeat`` wall times per engine and worker count; CPU seconds per site too,
    which other load on the machine disturbs less than wall time."""
    radius_m = args.radius_km * 1000.0
    sites = random_sites(terrain, args.sites, rng, "P")
    spare = random_sites(terrain, 4, rng, "W")
    # compile or load the kernels once in this process (workers then load numba's cache)
    row = spare.iloc[0]
    sparse_site_footprint(
        source, grid, "w", row.geometry.x, row.geometry.y, HEIGHT_AGL_M, radius_m=radius_m
    )
    walls = {}
    result = None
    for n in (1, 2):
        c, client, start_s = cluster(n)
        try:
            warm_s = warm_up(client, source, grid, spare, radius_m)
            runs = []
            for _ in range(args.repeat):
                load = os.getloadavg()[0]
                cpu0, t = worker_cpu_s(client), time.perf_counter()
                result = compute_footprints(
                    source, sites, grid=grid, radius_m=radius_m, client=client
                )
                runs.append((time.perf_counter() - t, worker_cpu_s(client) - cpu0, load))
        finally:
            client.close()
            c.close()
        wall, cpu, load = min(runs)
        walls[("dask", n)] = wall
        emit(
            bench="paser_scaling",
            engine="dask LocalCluster",
            workers=n,
            sites=len(sites),
            radius_m=radius_m,
            wall_s=round(wall, 2),
            wall_s_all=[round(r[0], 2) for r in runs],
            sites_per_s=round(len(sites) / wall, 2),
            worker_s_per_site=round(wall * n / len(sites), 4),
            worker_cpu_s_per_site=round(cpu / len(sites), 4),
            load_avg_1min_before=load,
            cluster_start_s=round(start_s, 2),
            warm_up_s=round(warm_s, 2),
        )
    for n in (1, 2):
        runs = []
        for _ in range(args.repeat):
            load = os.getloadavg()[0]
            cpu0, t = own_cpu_s(), time.perf_counter()
            compute_footprints(
                source, sites, grid=grid, radius_m=radius_m, scheduler="threads", n_workers=n
            )
            runs.append((time.perf_counter() - t, own_cpu_s() - cpu0, load))
        wall, cpu, load = min(runs)
        walls[("threads", n)] = wall
        emit(
            bench="paser_scaling",
            engine="threads",
            workers=n,
            sites=len(sites),
            radius_m=radius_m,
            wall_s=round(wall, 2),
            wall_s_all=[round(r[0], 2) for r in runs],
            sites_per_s=round(len(sites) / wall, 2),
            worker_s_per_site=round(wall * n / len(sites), 4),
            cpu_s_per_site=round(cpu / len(sites), 4),
            load_avg_1min_before=load,
        )
    emit(
        bench="paser_speedup_1_to_2",
        dask=round(walls[("dask", 1)] / walls[("dask", 2)], 2),
        threads=round(walls[("threads", 1)] / walls[("threads", 2)], 2),
        cpus=os.cpu_count(),
    )
    return result


def footprint_size(footprints: tuple[SparseFootprint, ...]):
    sparse = np.array([fp.nbytes for fp in footprints], dtype=float)
    dense = []
    for fp in footprints:
        rows, cols = fp.rows, fp.cols
        dense.append(4 * (int(np.ptp(rows)) + 1) * (int(np.ptp(cols)) + 1) if fp.n_cells else 0)
    dense = np.array(dense, dtype=float)
    cells = np.array([fp.n_cells for fp in footprints], dtype=float)
    runs = np.array([fp.n_runs for fp in footprints], dtype=float)
    emit(
        bench="footprint_size",
        footprints=len(footprints),
        sparse_mean_mb=round(sparse.mean() / 1e6, 3),
        sparse_median_mb=round(float(np.median(sparse)) / 1e6, 3),
        sparse_max_mb=round(sparse.max() / 1e6, 3),
        dense_window_mean_mb=round(dense.mean() / 1e6, 3),
        mean_cells=int(cells.mean()),
        mean_runs=int(runs.mean()),
        bytes_per_cell=round(float(sparse.sum() / max(cells.sum(), 1)), 2),
    )


def synthetic(args, work: Path, rng):
    size = args.synthetic_size
    t = time.perf_counter()
    zoo = make_terrain("rough", size=size, seed=1)
    transform = Affine(30.0, 0.0, 480_000.0, 0.0, -30.0, 9_800_010.0)
    path = write_grid_tiff(work / "synthetic_rough.tif", zoo.elevation_m, transform)
    source = TerrainSource(str(path), crs=PASER_CRS, res_m=30.0)
    grid = source.grid()
    from blankspot.terrain import Terrain

    terrain = Terrain(zoo.elevation_m, transform, PASER_CRS)
    sites = random_sites(terrain, args.synthetic_sites, rng, "S")
    demand = random_demand(grid, args.synthetic_demand, rng)
    prep = time.perf_counter() - t
    radius_m = args.synthetic_radius_km * 1000.0
    c, client, start_s = cluster(2)
    try:
        warm_s = warm_up(client, source, grid, sites.iloc[-4:], radius_m)
        worker_rss(client, reset_peak=True)
        t = time.perf_counter()
        matrix = coverage_matrix_distributed(
            source,
            sites,
            demand,
            grid=grid,
            budget=LinkBudget(),
            radius_m=radius_m,
            client=client,
        )
        wall = time.perf_counter() - t
        mem = worker_rss(client)
    finally:
        client.close()
        c.close()
    emit(
        bench="synthetic_many_sites",
        engine="dask LocalCluster",
        workers=2,
        sites=len(sites),
        radius_m=radius_m,
        grid_rows=size,
        grid_cols=size,
        demand_cells=len(demand),
        wall_s=round(wall, 1),
        sites_per_s=round(len(sites) / wall, 1),
        worker_s_per_site=round(wall * 2 / len(sites), 4),
        matrix_nnz=int(matrix.matrix.nnz),
        prepare_s=round(prep, 1),
        cluster_start_s=round(start_s, 2),
        warm_up_s=round(warm_s, 2),
        worker_peak_rss_mb=[round(v["peak_rss_mb"]) for v in mem.values()],
    )


def memory(args, terrain, source, grid, rng):
    radius_m = args.radius_km * 1000.0
    demand = random_demand(grid, 40_000, rng)
    spare = random_sites(terrain, 4, rng, "W")
    for n_sites in args.memory_sites:
        sites = random_sites(terrain, n_sites, rng, "M")
        c, client, _ = cluster(2)
        try:
            warm_up(client, source, grid, spare, radius_m)
            start = worker_rss(client, reset_peak=True)
            t = time.perf_counter()
            coverage_matrix_distributed(
                source, sites, demand, grid=grid, radius_m=radius_m, client=client
            )
            wall = time.perf_counter() - t
            end = worker_rss(client)
        finally:
            client.close()
            c.close()
        emit(
            bench="worker_memory",
            sites=n_sites,
            radius_m=radius_m,
            workers=2,
            wall_s=round(wall, 1),
            rss_after_warm_up_mb=[round(v["rss_mb"]) for v in start.values()],
            peak_rss_mb=[round(v["peak_rss_mb"]) for v in end.values()],
            rss_at_end_mb=[round(v["rss_mb"]) for v in end.values()],
        )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--synthetic-sites", type=int, default=10_000)
    ap.add_argument("--synthetic-radius-km", type=float, default=5.0)
    ap.add_argument("--synthetic-size", type=int, default=3000, help="cells per side")
    ap.add_argument("--synthetic-demand", type=int, default=100_000)
    ap.add_argument("--memory-sites", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--skip", nargs="*", default=[], choices=["paser", "synthetic", "memory"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="runs per scaling point (best kept)")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    import dask
    import numba

    emit(
        bench="machine",
        cpus=os.cpu_count(),
        machine=platform.machine(),
        processor=platform.processor(),
        python=platform.python_version(),
        numba=numba.__version__,
        dask=dask.__version__,
        rasterio=rasterio.__version__,
        gdal=rasterio.__gdal_version__,
    )
    with tempfile.TemporaryDirectory(prefix="blankspot-scaling-") as tmp:
        work = Path(tmp)
        if not {"paser", "memory"} <= set(args.skip):
            terrain, source, grid = paser(args, work, rng)
            if "paser" not in args.skip:
                footprint_size(paser_scaling(args, terrain, source, grid, rng))
            if "memory" not in args.skip:
                memory(args, terrain, source, grid, rng)
        if "synthetic" not in args.skip:
            synthetic(args, work, rng)


if __name__ == "__main__":
    main()
