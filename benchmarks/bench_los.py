"""Line of sight: blankspot's radial sweep against ``gdal_viewshed``, one 30 km site, same run.

    python benchmarks/bench_los.py [--data-dir DIR] [--lon 116.05 --lat -1.85] [--radius-km 30]

Reads the Paser demo DEM (SYNTHETIC relief) around the site into UTM 50S at 30 m, writes that
grid to a temporary GeoTIFF, then times (best of ``--repeat``):
- ``viewshed()`` after its JIT warm-up (the numba cache makes later processes start warm too);
- the ``gdal_viewshed`` command on the same GeoTIFF with the same observer, target height,
  radius and curvature (``-cc`` = 6378137 / (k · 6371000): GDAL scales by the WGS 84 equatorial
  radius, we by the 6371 km mean radius), including its process start and file output.
Prints both times, the ratio and the agreement of the two visibility maps within the radius.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio

from blankspot.crs import PASER_CRS, WGS84
from blankspot.io import DEMO_DEM_FILE, paser_path, read_terrain, write_raster
from blankspot.propagation import viewshed
from blankspot.units import DEFAULT_K_FACTOR, EARTH_RADIUS_M


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--lon", type=float, default=116.05)
    ap.add_argument("--lat", type=float, default=-1.85)
    ap.add_argument("--height-agl-m", type=float, default=52.0)
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--res-m", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("gdal_viewshed") is None:
        raise SystemExit("gdal_viewshed not found: apt-get install gdal-bin")

    from pyproj import Transformer

    x, y = Transformer.from_crs(WGS84, PASER_CRS, always_xy=True).transform(args.lon, args.lat)
    r = args.radius_km * 1000.0 + 4 * args.res_m
    terrain = read_terrain(paser_path(DEMO_DEM_FILE, args.data_dir), bounds=(x - r, y - r, x + r, y + r),
                           bounds_crs=PASER_CRS, crs=PASER_CRS, res_m=args.res_m)
    # put the observer on a cell centre so both tools see the same geometry
    row, col = (round(float(v)) for v in terrain.rowcol(x, y))
    x, y = (float(v) for v in terrain.xy(row, col))
    kw = dict(height_agl_m=args.height_agl_m, rx_height_agl_m=1.5, radius_m=args.radius_km * 1000.0,
              k_factor=DEFAULT_K_FACTOR)
    viewshed(terrain, x, y, **kw)  # JIT warm-up
    ours = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        vs = viewshed(terrain, x, y, **kw)
        ours.append(time.perf_counter() - t)

    with tempfile.TemporaryDirectory() as tmp:
        dem = Path(tmp) / "dem.tif"
        write_raster(dem, np.where(terrain.nodata_mask, -32768, terrain.elevation_m).astype(np.float32),
                     transform=terrain.transform, crs=terrain.crs, nodata=-32768)
        out = Path(tmp) / "vs.tif"
        cc = 6378137.0 / (DEFAULT_K_FACTOR * EARTH_RADIUS_M)
        cmd = ["gdal_viewshed", "-q", "-ox", str(x), "-oy", str(y), "-oz", str(args.height_agl_m),
               "-tz", "1.5", "-md", str(args.radius_km * 1000.0), "-cc", f"{cc:.6f}",
               "-vv", "1", "-iv", "0", "-ov", "0", str(dem), str(out)]
        gdal = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            gdal.append(time.perf_counter() - t)
        # gdal_viewshed crops its output to the radius: place it back on the terrain grid
        g = np.zeros(terrain.shape, dtype=bool)
        with rasterio.open(out) as src:
            r0 = round((terrain.transform.f - src.transform.f) / terrain.res_m)
            c0 = round((src.transform.c - terrain.transform.c) / terrain.res_m)
            band = src.read(1).astype(bool)
            g[r0 : r0 + band.shape[0], c0 : c0 + band.shape[1]] = band

    ours_full = vs.visible_on_grid(terrain.shape)
    rows, cols = np.indices(terrain.shape)
    d = np.hypot((rows - row) * terrain.res_m, (cols - col) * terrain.res_m)
    inside = (d <= args.radius_km * 1000.0 - terrain.res_m) & ~terrain.nodata_mask
    agree = float((ours_full[inside] == g[inside]).mean())
    print(json.dumps({
        "site": [args.lon, args.lat], "radius_km": args.radius_km, "res_m": args.res_m,
        "grid": list(terrain.shape), "cells_in_radius": int(inside.sum()),
        "blankspot_s": round(min(ours), 4), "gdal_viewshed_s": round(min(gdal), 4),
        "speedup_vs_gdal": round(min(gdal) / min(ours), 2),
        "agreement": round(agree, 4),
        "visible_share_blankspot": round(float(ours_full[inside].mean()), 4),
        "visible_share_gdal": round(float(g[inside].mean()), 4),
        "terrain": "SYNTHETIC Paser demo DEM",
    }))


if __name__ == "__main__":
    main()
