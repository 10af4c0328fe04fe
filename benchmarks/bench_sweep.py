"""Time the ITM and P.1812 radial sweeps of one 30 km site, serial and parallel.

    python benchmarks/bench_sweep.py [--dem PATH] [--res 30] [--repeat 5] [--src DIR ...]

One 72 m site at 116.05 E, 1.85 S on the Paser demo DEM (SYNTHETIC relief), 900 MHz, 1.5 m
receivers, the whole 30 km disc (no loss cut-off), ITM and P.1812 (no clutter) with the Paser
defaults, ``radial_path_loss(..., parallel=False)`` and ``parallel=True``. Times the engine
alone (the terrain window is read once), numba cache warm: each configuration is run once on a
2 km disc before timing.

Each ``--src`` names a source folder (``src`` of a checkout; default this checkout's) and gets
its own worker process. The runs alternate between the workers (configuration by
configuration, repetition by repetition), so two versions of the code are timed back to back
under the same load on a shared machine. Prints one JSON line per source and configuration:
median and minimum wall seconds and CPU seconds (``time.process_time``: all threads of the
worker) over ``--repeat`` runs, and the cells computed.

Run from the repository root (the DEM defaults to the registered Paser file).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LON, LAT = 116.05, -1.85
HEIGHT_AGL_M = 72.0
RX_HEIGHT_AGL_M = 1.5
FREQ_MHZ = 900.0
RADIUS_M = 30_000.0
CONFIGS = ("itm serial", "itm parallel", "p1812 serial", "p1812 parallel")


def _worker(dem: str | None, res_m: float) -> None:
    """Answer ``CONFIG`` lines on stdin with one JSON line of timings each."""
    import numpy as np
    from pyproj import Transformer

    from blankspot.io import DEMO_DEM_FILE, paser_path, read_terrain
    from blankspot.propagation.radial import radial_path_loss, site_latitude_deg

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True).transform(LON, LAT)
    pad = RADIUS_M + 2 * res_m
    terrain = read_terrain(
        dem or paser_path(DEMO_DEM_FILE), bounds=(x - pad, y - pad, x + pad, y + pad),
        bounds_crs="EPSG:32750", crs="EPSG:32750", res_m=res_m,
    )  # fmt: skip
    lat_deg = site_latitude_deg(terrain, x, y)

    def run(config: str, radius_m: float) -> int:
        model, mode = config.split()
        sweep = radial_path_loss(
            terrain, x, y, height_agl_m=HEIGHT_AGL_M, rx_height_agl_m=RX_HEIGHT_AGL_M,
            freq_mhz=FREQ_MHZ, model=model, radius_m=radius_m, lat_deg=lat_deg,
            parallel=mode == "parallel",
        )  # fmt: skip
        return int(np.isfinite(sweep.path_loss_db).sum())

    for config in CONFIGS:
        run(config, 2_000.0)  # compile or load the cached kernels
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        config = line.strip()
        if not config:
            break
        w, c = time.perf_counter(), time.process_time()
        cells = run(config, RADIUS_M)
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        print(json.dumps({"wall_s": wall, "cpu_s": cpu, "cells": cells}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--dem", default=None, help="demo DEM (default: registered file)")
    ap.add_argument("--res", type=float, default=30.0, help="cell size, metres")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per configuration")
    ap.add_argument("--src", nargs="+", default=[str(ROOT / "src")], help="source folders")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.dem, args.res)
        return

    workers = []
    for src in args.src:
        env = dict(os.environ, PYTHONPATH=str(Path(src).resolve()))
        cmd = [sys.executable, __file__, "--worker", "--res", str(args.res)]
        if args.dem:
            cmd += ["--dem", args.dem]
        proc = subprocess.Popen(
            cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        workers.append(proc)
    for proc in workers:
        assert proc.stdout is not None
        json.loads(proc.stdout.readline())  # ready
    times: dict[tuple[int, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        for config in CONFIGS:
            for k, proc in enumerate(workers):
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(config + "\n")
                proc.stdin.flush()
                times.setdefault((k, config), []).append(json.loads(proc.stdout.readline()))
    for proc in workers:
        assert proc.stdin is not None
        proc.stdin.write("\n")
        proc.stdin.close()
        proc.wait()
    for config in CONFIGS:
        for k, src in enumerate(args.src):
            runs = times[(k, config)]
            walls = [r["wall_s"] for r in runs]
            cpus = [r["cpu_s"] for r in runs]
            print(json.dumps({
                "src": src, "config": config, "res_m": args.res, "runs": len(runs),
                "wall_median_s": round(statistics.median(walls), 2),
                "wall_min_s": round(min(walls), 2),
                "cpu_median_s": round(statistics.median(cpus), 2),
                "cpu_min_s": round(min(cpus), 2),
                "cells": runs[0]["cells"],
            }))  # fmt: skip


if __name__ == "__main__":
    main()
