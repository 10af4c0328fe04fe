"""Accuracy and speed of the radial ITM / P.1812 engine on the Paser demo DEM.

    python benchmarks/bench_radial_accuracy.py [--dem PATH] [--cells 600] [--res 30 90]

For each site (a 72 m tower at 115.95 E, 1.45 S and one at 116.05 E, 1.85 S) and each cell
size, the script reads a window of the demo DEM around the site, runs
``radial_path_loss`` out to 30 km, and compares ``--cells`` random cells within that radius
against one full point-to-point call per cell on the exact straight profile
(``tests/reference/radial.py``: ``itm.p2p_tls`` / ``p1812.p1812_bl`` on ``ceil(d / res)``
intervals, bilinear heights). It prints one JSON line per site, cell size and model with the
median, 95th and 99th percentile and maximum |Δ| in dB, and the seconds per site: wall time and
CPU time of the process (the latter is steadier on a shared machine), best of ``--repeat`` runs
after a warm-up run that compiles the kernels. ``--parallel`` times the radials spread over
numba's thread pool as well; ``--exact-dh`` times ITM with Δh computed for every cell.

Run from the repository root (the DEM defaults to the registered Paser file).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

SITES = {"A": (115.95, -1.45), "B": (116.05, -1.85)}
HEIGHT_AGL_M = 72.0
RX_HEIGHT_AGL_M = 1.5
FREQ_MHZ = 900.0
RADIUS_M = 30_000.0


def _timed(fn, repeat):
    fn()  # warm-up: JIT compile on the first run
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return result, best_wall, best_cpu


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dem", type=Path, default=None, help="demo DEM (default: registered file)")
    ap.add_argument("--cells", type=int, default=600, help="random cells per site and model")
    ap.add_argument("--res", type=float, nargs="+", default=[30.0, 90.0])
    ap.add_argument("--repeat", type=int, default=1, help="timed runs (best is reported)")
    ap.add_argument("--parallel", action="store_true", help="also time parallel=True")
    ap.add_argument("--exact-dh", action="store_true", help="also time ITM with exact Δh")
    ap.add_argument("--models", nargs="+", default=["itm", "p1812", "p1812+tree"])
    args = ap.parse_args()

    from pyproj import Transformer

    from blankspot.io import DEMO_DEM_FILE, paser_path, read_terrain
    from blankspot.propagation.radial import (
        ItmParams,
        P1812Params,
        radial_path_loss,
        site_latitude_deg,
    )
    from reference.radial import itm_exact, p1812_exact

    dem = args.dem or paser_path(DEMO_DEM_FILE)
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True)
    machine = f"{platform.machine()}, Python {platform.python_version()}"
    for res in args.res:
        for name, (lon, lat) in SITES.items():
            x, y = to_utm.transform(lon, lat)
            pad = RADIUS_M + 2 * res
            terrain = read_terrain(
                dem, bounds=(x - pad, y - pad, x + pad, y + pad), bounds_crs="EPSG:32750",
                crs="EPSG:32750", res_m=res,
            )  # fmt: skip
            row0, col0 = (float(v) for v in terrain.rowcol(x, y))
            z0 = float(terrain.elevation_at(x, y)[0])
            lat_deg = site_latitude_deg(terrain, x, y)
            for model_name in args.models:
                model, _, clutter = model_name.partition("+")
                heights = (
                    np.full((1, 1), 20.0, dtype=np.float32) if clutter == "tree" else None
                )  # uniform 20 m tropical forest along the path

                setup = dict(
                    terrain=terrain, x_m=x, y_m=y, height_agl_m=HEIGHT_AGL_M,
                    rx_height_agl_m=RX_HEIGHT_AGL_M, freq_mhz=FREQ_MHZ, model=model,
                    radius_m=RADIUS_M, clutter_height_m=heights, lat_deg=lat_deg,
                )  # fmt: skip

                def run(parallel=False, dh_every=None, setup=setup):
                    extra = {} if dh_every is None else {"dh_every": dh_every}
                    return radial_path_loss(**setup, parallel=parallel, **extra)

                sweep, wall, cpu = _timed(run, args.repeat)
                ok = np.argwhere(np.isfinite(sweep.path_loss_db))
                rng = np.random.default_rng(0)
                pick = ok[rng.choice(len(ok), min(args.cells, len(ok)), replace=False)]
                cells = [(sweep.row_off + int(a), sweep.col_off + int(b)) for a, b in pick]
                got = sweep.path_loss_db[pick[:, 0], pick[:, 1]].astype(float)
                t_ref = time.perf_counter()
                common = dict(h_tx_m=HEIGHT_AGL_M, h_rx_m=RX_HEIGHT_AGL_M, freq_mhz=FREQ_MHZ)
                if model == "itm":
                    ref = itm_exact(terrain, row0, col0, z0, cells, params=ItmParams(), **common)
                else:
                    ref = p1812_exact(
                        terrain, row0, col0, z0, cells, params=P1812Params(), lat_deg=lat_deg,
                        clutter_m=heights, **common,
                    )  # fmt: skip
                ref_s_per_cell = (time.perf_counter() - t_ref) / len(cells)
                err = np.abs(got - ref)
                line = {
                    "site": name,
                    "lon_lat": [lon, lat],
                    "res_m": res,
                    "model": model_name,
                    "cells_in_radius": len(ok),
                    "cells_compared": len(cells),
                    "median_abs_db": round(float(np.median(err)), 3),
                    "p95_abs_db": round(float(np.percentile(err, 95)), 3),
                    "p99_abs_db": round(float(np.percentile(err, 99)), 3),
                    "max_abs_db": round(float(err.max()), 2),
                    "bias_db": round(float(np.median(got - ref)), 3),
                    "site_wall_s": round(wall, 2),
                    "site_cpu_s": round(cpu, 2),
                    "naive_p2p_s": round(ref_s_per_cell * len(ok), 0),
                    "machine": machine,
                }
                if args.parallel:
                    line["parallel_wall_s"] = round(_timed(lambda: run(True), args.repeat)[1], 2)
                if args.exact_dh and model == "itm":
                    line["exact_dh_cpu_s"] = round(_timed(lambda: run(dh_every=0), 1)[2], 2)
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
