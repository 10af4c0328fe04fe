"""Time the demand layer of all 144 Paser desa under each model, and the settlement clutter grid.

    python benchmarks/bench_demand.py [--data-dir DIR] [--points N] [--repeat R]

Prints, per model, the best wall and CPU seconds of ``repeat`` runs of
:func:`blankspot.demand.demand_layer` over every desa (what a plan builds once), the number of
demand points and the label; then the time of :func:`blankspot.clutter.settlement_clutter` on
the 90 m terrain grid of the whole kabupaten. The settlement file is ``--points`` random points
over the kabupaten's bounds (about a fifth fall outside every desa); the land cover is a random
grid with 10 % built-up or cropland cells. With the machine's model, load average and date.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
from _machine import cpu_model  # benchmarks/_machine.py, beside this script

from blankspot.clutter import settlement_clutter
from blankspot.crs import PASER_CRS
from blankspot.demand import demand_layer
from blankspot.errors import BlankspotWarning
from blankspot.io.datasets import (
    DEMO_DEM_FILE,
    DESA_FILE,
    KECAMATAN_CSV_FILE,
    PLACES_FILE,
    paser_path,
)
from blankspot.io.settlements import read_geonames_places
from blankspot.io.terrain import read_terrain
from blankspot.io.vectors import read_villages
from blankspot.population import estimate_population, read_kecamatan_totals


def timed(fn, repeat: int):
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return out, best_wall, best_cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--points", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sites", type=int, default=4,
                    help="candidates of the demo whose 30 km ITM coverage is timed per clutter")
    args = ap.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {cpu_model()} · {os.cpu_count()} cores · "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    villages = read_villages(paser_path(DESA_FILE, args.data_dir), crs=PASER_CRS)
    villages = estimate_population(
        villages, read_kecamatan_totals(paser_path(KECAMATAN_CSV_FILE, args.data_dir)))
    places = read_geonames_places(paser_path(PLACES_FILE, args.data_dir), PASER_CRS)
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = villages.total_bounds
    pts = gpd.GeoDataFrame(
        {"name": [f"dusun {i}" for i in range(args.points)],
         "population": np.where(rng.random(args.points) < 0.5, rng.integers(20, 400, args.points),
                                np.nan),
         "source": "settlement file"},
        geometry=gpd.points_from_xy(rng.uniform(xmin, xmax, args.points),
                                    rng.uniform(ymin, ymax, args.points)), crs=PASER_CRS)
    t = time.perf_counter()
    terrain = read_terrain(paser_path(DEMO_DEM_FILE, args.data_dir), bounds=tuple(villages.total_bounds),
                           bounds_crs=PASER_CRS, crs=PASER_CRS, res_m=90.0)
    print(f"terrain {terrain.shape[0]} x {terrain.shape[1]} cells at 90 m, read in "
          f"{time.perf_counter() - t:.1f} s")
    codes = np.where(rng.random(terrain.shape) < 0.1, rng.choice([40, 50], terrain.shape),
                     10).astype(np.int16)

    runs = {
        "uniform": {"model": "uniform"},
        "settlements, 1 per desa": {"model": "settlements", "places": places},
        f"settlements, {args.points} points": {"settlements": pts, "places": places},
        "landcover (10 % of cells)": {"landcover": codes, "terrain": terrain, "places": places},
    }
    print("| model | demand points | wall s | CPU s | label |")
    print("|---|---:|---:|---:|---|")
    layers = {}
    for name, kw in runs.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BlankspotWarning)
            layer, wall, cpu = timed(lambda kw=kw: demand_layer(villages, **kw), args.repeat)
        layers[name] = layer
        assert abs(layer.cells["population"].sum() - villages["population"].sum()) < 1e-6
        print(f"| {name} | {len(layer.cells):,} | {wall:.3f} | {cpu:.3f} | {layer.label} |")
    points = layers[f"settlements, {args.points} points"].settlement_points()
    xy = (points["x_m"].to_numpy(), points["y_m"].to_numpy())
    _, wall, cpu = timed(lambda: settlement_clutter(terrain, *xy), args.repeat)
    print(f"settlement_clutter for {len(points):,} points on {terrain.shape[0]} x "
          f"{terrain.shape[1]} cells: {wall:.3f} s wall, {cpu:.3f} s CPU")

    if args.sites:
        coverage_cost(villages, terrain, layers["settlements, 1 per desa"], args.sites)


def coverage_cost(villages, terrain, layer, n_sites: int) -> None:
    """CPU seconds of the 30 km ITM coverage of the demo's first candidates (one thread), with
    forest under every handset and with the demo's settlement clutter grid."""
    from blankspot.candidates import generate_candidates
    from blankspot.config import PlanConfig
    from blankspot.demand import select_villages

    cfg = PlanConfig()
    targets = select_villages(villages, cfg.targets)
    sites = generate_candidates(terrain, villages.loc[targets].geometry.union_all(),
                                height_agl_m=cfg.height_agl_m, n_high_points=cfg.n_high_points,
                                grid_spacing_m=cfg.grid_spacing_m,
                                min_separation_m=cfg.min_separation_m,
                                search_buffer_m=cfg.search_buffer_m).iloc[:n_sites]
    points = layer.settlement_points()
    xy = (points["x_m"].to_numpy(), points["y_m"].to_numpy())
    for name, settings in (("forest everywhere", cfg.coverage_settings()),
                           ("settlements built-up", cfg.coverage_settings(terrain=terrain,
                                                                          settlement_xy=xy))):
        from blankspot.coverage import compute_coverage

        w, c = time.perf_counter(), time.process_time()
        cov = compute_coverage(terrain, sites, budget=settings.link, model=settings.model,
                               radius_m=settings.radius_m, clutter=settings.clutter,
                               max_loss_db=settings.effective_max_loss_db(), n_threads=1)
        cells = sum(int(np.isfinite(fp.path_loss_db).sum()) for fp in cov.footprints)
        print(f"ITM 30 km, {len(sites)} sites, {name}: {time.perf_counter() - w:.1f} s wall, "
              f"{(time.process_time() - c) / len(sites):.2f} CPU-s per site, {cells:,} cells "
              "within the cut-off")


if __name__ == "__main__":
    main()
