"""ITM coverage of one 30 km site: blankspot's radial engine against SPLAT!, in the same run.

    python benchmarks/bench_coverage.py [--data-dir DIR] [--skip-hd]

On the Paser demo DEM (SYNTHETIC relief), one 52 m site at 116.05 E, 1.85 S, 900 MHz, 1.5 m
handset, 30 km: times blankspot ITM (``site_raster``: read, radial engine, resample onto the DEM
grid) at 30 m and 90 m analysis cells, on one core with the exact sweep and with the adaptive
one (``itm_sweep="adaptive"``; its median / p95 |Δ| against the exact sweep, i.e. exact ITM at
every cell, and the share of cells it interpolated are printed too), and with the exact sweep's
radials spread over all cores (``parallel=True``, engine only), then SPLAT! through ``../shared/bench/splat_peer.py``
(``splat-hd`` on 1 arc-second tiles and ``splat`` on 3 arc-second tiles; its wall time counts the
splat process alone, as the peer script reports it). Both use ITM with climate 1 (equatorial),
N_0 = 301, ε 15, σ 0.005 S/m, vertical polarisation, 50 % time/situations, no clutter. Prints
JSON lines with each time, the ratios, and the median / p95 |Δ| dB over cells both computed.

Each case runs twice. ``grid: demo`` is the demo DEM as it is (cell edges on whole arc-seconds):
SPLAT!'s tiles put cell centres on whole arc-seconds, so its terrain is the DEM resampled half a
cell over, and each of its points (a whole arc-second) lies on a corner of four DEM cells, where
the peer script files it. ``grid: srtm`` first resamples the demo DEM (bilinear, once, rounded to
whole metres as SPLAT!'s tiles are) onto the SRTM lattice (cell centres on whole arc-seconds) and
gives that file to both: SPLAT!'s tiles are then that file exactly, every SPLAT! point lies on
one cell's centre, and blankspot writes on that lattice too (it still reads the file onto its own
UTM analysis grid, bilinear, and resamples back, nearest, as for any geographic DEM).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio

from blankspot.io import DEMO_DEM_FILE, paser_path
from blankspot.propagation.radial import ItmParams
from blankspot.site_raster import site_raster

REPO = Path(__file__).resolve().parents[1]
SPLAT_PEER = REPO.parent / "shared" / "bench" / "splat_peer.py"
LON, LAT, H_M, F_MHZ, R_KM = 116.05, -1.85, 52.0, 900.0, 30.0
MAPL_DB = 128.2
"""The Paser LTE budget's maximum allowable path loss (blankspot.propagation.LinkBudget)."""


def _ours(dem, res_m, itm_sweep="exact"):
    """One site on one core: the raster, its wall seconds and its CPU seconds."""
    params = ItmParams(n0=301.0)
    site_raster(dem, LON, LAT, height_agl_m=H_M, freq_mhz=F_MHZ, radius_m=2_000.0, model="itm",
                res_m=res_m, itm_params=params, itm_sweep=itm_sweep)  # JIT warm-up
    t = time.perf_counter()
    c = time.process_time()
    r = site_raster(dem, LON, LAT, height_agl_m=H_M, freq_mhz=F_MHZ, radius_m=R_KM * 1000.0,
                    model="itm", res_m=res_m, itm_params=params, max_loss_db=250.0,
                    itm_sweep=itm_sweep)
    return r, time.perf_counter() - t, time.process_time() - c


def _sweep_agreement(adaptive, exact):
    """|Δ| of the adaptive sweep against the exact one (exact ITM at every cell)."""
    both = np.isfinite(adaptive.values) & np.isfinite(exact.values)
    d = np.abs(adaptive.values[both] - exact.values[both])
    return {
        "adaptive_vs_exact_median_abs_db": round(float(np.median(d)), 3),
        "adaptive_vs_exact_p95_abs_db": round(float(np.percentile(d, 95)), 3),
        "adaptive_share_interpolated": round(float(np.mean(d > 0.0)), 4),
    }


def _ours_parallel(dem, res_m):
    """The same site with the radials spread over all cores (numba ``parallel=True``): read the
    window, run the engine; no resampling back onto the DEM grid."""
    from pyproj import Transformer

    from blankspot.io import read_terrain
    from blankspot.propagation.radial import radial_path_loss

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32750", always_xy=True).transform(LON, LAT)
    params = ItmParams(n0=301.0)

    def once(radius_m):
        m = radius_m + 200.0
        t = read_terrain(dem, crs="EPSG:32750", res_m=res_m, bounds=(x - m, y - m, x + m, y + m))
        return radial_path_loss(t, x, y, height_agl_m=H_M, freq_mhz=F_MHZ, radius_m=radius_m,
                                itm_params=params, parallel=True)

    once(2_000.0)  # JIT warm-up
    t0 = time.perf_counter()
    once(R_KM * 1000.0)
    return time.perf_counter() - t0


def _srtm_lattice_dem(dem, out):
    """The demo DEM around the site, resampled (bilinear) onto the SRTM lattice, whole metres."""
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin
    from rasterio.warp import reproject

    step = 1.0 / 3600.0
    half_deg = R_KM / 111.0 + 0.06
    west = math.floor((LON - half_deg) * 3600.0) / 3600.0  # a whole arc-second: a cell centre
    north = math.ceil((LAT + half_deg) * 3600.0) / 3600.0
    n = math.ceil(2.0 * half_deg * 3600.0) + 1
    transform = from_origin(west - step / 2.0, north + step / 2.0, step, step)
    z = np.full((n, n), np.nan, dtype=np.float32)
    with rasterio.open(dem) as src:
        reproject(rasterio.band(src, 1), z, dst_transform=transform, dst_crs="EPSG:4326",
                  dst_nodata=np.nan, resampling=Resampling.bilinear)
    with rasterio.open(out, "w", driver="GTiff", width=n, height=n, count=1, dtype="float32",
                       crs="EPSG:4326", transform=transform, nodata=np.nan) as dst:
        dst.write(np.round(z), 1)
    return out


def _splat(dem, hd, out):
    cmd = [sys.executable, str(SPLAT_PEER), str(dem), "--lat", str(LAT), "--lon", str(LON),
           "--height-agl-m", str(H_M), "--freq-mhz", str(F_MHZ), "--radius-km", str(R_KM),
           "--rx-height-agl-m", "1.5", "--out", str(out)] + (["--hd"] if hd else [])
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _compare(ours, splat_tif):
    with rasterio.open(splat_tif) as src:
        peer = src.read(1)
        t = src.transform
    r0 = round((ours.transform.f - t.f) / t.e)
    c0 = round((ours.transform.c - t.c) / t.a)
    h, w = ours.values.shape
    sub = peer[r0 : r0 + h, c0 : c0 + w]
    both = np.isfinite(sub) & np.isfinite(ours.values) & (sub > 0)
    a, b = ours.values[both], sub[both]
    d = np.abs(a - b)
    # where planning decides: SPLAT!'s loss within 20 dB of the demo's MAPL, and the covered /
    # not covered verdict at that MAPL
    near = np.abs(b - MAPL_DB) <= 20.0
    # registration: how far SPLAT!'s value lies outside the range of our values in the 3 x 3
    # pixels around it (0 when inside), and how much our own map changes from a pixel to the next
    from scipy.ndimage import maximum_filter, minimum_filter

    lo = minimum_filter(np.nan_to_num(ours.values, nan=1e9), size=3)
    hi = maximum_filter(np.nan_to_num(ours.values, nan=-1e9), size=3)
    outside = np.where(sub < lo, lo - sub, np.where(sub > hi, sub - hi, 0.0))[both]
    v = ours.values
    pair = np.isfinite(v[1:, :]) & np.isfinite(v[:-1, :])
    return {
        "median_outside_3x3_db": round(float(np.median(outside)), 2),
        "p95_outside_3x3_db": round(float(np.percentile(outside, 95)), 2),
        "own_map_next_pixel_median_abs_diff_db": round(
            float(np.median(np.abs(v[1:, :] - v[:-1, :])[pair])), 2),
        "common_cells": int(both.sum()),
        "median_abs_diff_db": round(float(np.median(d)), 2),
        "p95_abs_diff_db": round(float(np.percentile(d, 95)), 2),
        "mean_diff_db": round(float(np.mean(a - b)), 2),
        "median_abs_diff_within_20db_of_mapl_db": round(float(np.median(d[near])), 2),
        "mean_diff_within_20db_of_mapl_db": round(float(np.mean((a - b)[near])), 2),
        "same_verdict_at_mapl": round(float(np.mean((a <= MAPL_DB) == (b <= MAPL_DB))), 4),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--skip-hd", action="store_true", help="skip splat-hd (1 arc-second, about a minute)")
    args = ap.parse_args()
    demo = paser_path(DEMO_DEM_FILE, args.data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        srtm = _srtm_lattice_dem(demo, Path(tmp) / "demo_synthetic_on_srtm_lattice.tif")
        for hd, res_m in ((False, 90.0), (True, 30.0)):
            if hd and args.skip_hd:
                continue
            for grid, dem in (("demo", demo), ("srtm", srtm)):
                ours, ours_s, ours_cpu = _ours(dem, res_m, "exact")
                adaptive, adaptive_s, adaptive_cpu = _ours(dem, res_m, "adaptive")
                par_s = _ours_parallel(dem, res_m)
                out = Path(tmp) / f"splat_{'hd' if hd else 'sd'}_{grid}.tif"
                peer = _splat(dem, hd, out)
                agreement = _compare(ours, out)
                print(json.dumps({
                    "dem": "SYNTHETIC Paser demo DEM", "grid": grid,
                    "splat": peer["peer"], "splat_tiles": "1 arcsec" if hd else "3 arcsec",
                    "blankspot_res_m": res_m, "blankspot_s": round(ours_s, 2),
                    "blankspot_cpu_s": round(ours_cpu, 2), "splat_s": peer["wall_s"],
                    "speedup_vs_splat": round(peer["wall_s"] / ours_s, 2),
                    "blankspot_adaptive_s": round(adaptive_s, 2),
                    "blankspot_adaptive_cpu_s": round(adaptive_cpu, 2),
                    "speedup_adaptive_vs_splat": round(peer["wall_s"] / adaptive_s, 2),
                    "speedup_adaptive_vs_exact": round(ours_s / adaptive_s, 2),
                    **_sweep_agreement(adaptive, ours),
                    "blankspot_parallel_s": round(par_s, 2),
                    "speedup_parallel_vs_splat": round(peer["wall_s"] / par_s, 2),
                    **agreement,
                }), flush=True)

if __name__ == "__main__":
    main()
