"""Make ``gdal_viewshed_rough.tif``: the GDAL viewshed oracle for ``tests/test_los.py``.

Run from the repository root (needs the GDAL command-line tools and the package installed)::

    python tests/data/gdal_viewshed_rough.py

The input DEM is not stored: it is ``blankspot.testing.make_terrain("rough", size=200, seed=0)``,
written to a temporary GeoTIFF. ``gdal_viewshed_rough.json`` records the parameters and a SHA-256
of the DEM so the test notices if the zoo ever changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import rasterio

from blankspot.testing import make_terrain
from blankspot.units import EARTH_RADIUS_M

HERE = Path(__file__).resolve().parent
TIF = HERE / "gdal_viewshed_rough.tif"
SIDECAR = HERE / "gdal_viewshed_rough.json"

PARAMS = {
    "kind": "rough",
    "size": 200,
    "seed": 0,
    "row": 100,
    "col": 100,
    "height_agl_m": 30.0,
    "rx_height_agl_m": 1.5,
    "radius_m": 2900.0,
    "k_factor": 1.51,
}

WGS84_SEMI_MAJOR_M = 6_378_137.0


def terrain():
    """The DEM the oracle was computed on."""
    return make_terrain(PARAMS["kind"], size=PARAMS["size"], seed=PARAMS["seed"])


def dem_sha256() -> str:
    """SHA-256 of the DEM's float32 elevation bytes (C order)."""
    elev = np.ascontiguousarray(terrain().elevation_m, dtype=np.float32)
    return hashlib.sha256(elev.tobytes()).hexdigest()


def curvature_coefficient(k_factor: float) -> float:
    """gdal_viewshed ``-cc`` that reproduces an effective earth radius of k * 6371 km.

    gdal_viewshed lowers the terrain by ``cc * d**2 / (2 * a)`` with ``a`` the semi-major axis of
    the raster's ellipsoid (6378137 m for WGS 84 / UTM), so ``cc = a / (k * 6371 km)``; plain
    ``1/k`` would model an earth 0.11 % larger.
    """
    return WGS84_SEMI_MAJOR_M / (k_factor * EARTH_RADIUS_M)


def command(dem_path: Path, out_path: Path) -> list[str]:
    """The gdal_viewshed command line."""
    t = terrain()
    x, y = (float(v) for v in t.xy(PARAMS["row"], PARAMS["col"]))
    return [
        "gdal_viewshed",
        "-q",
        "-ox", repr(x),
        "-oy", repr(y),
        "-oz", repr(PARAMS["height_agl_m"]),
        "-tz", repr(PARAMS["rx_height_agl_m"]),
        "-md", repr(PARAMS["radius_m"]),
        "-cc", repr(curvature_coefficient(PARAMS["k_factor"])),
        "-vv", "1",
        "-iv", "0",
        "-ov", "0",
        "-co", "COMPRESS=DEFLATE",
        str(dem_path),
        str(out_path),
    ]  # fmt: skip


def generate(out_path: Path) -> list[str]:
    """Write the DEM to a temporary GeoTIFF and run gdal_viewshed into ``out_path``."""
    if shutil.which("gdal_viewshed") is None:
        raise SystemExit("gdal_viewshed is not on PATH; install the GDAL command-line tools.")
    t = terrain()
    with tempfile.TemporaryDirectory() as tmp:
        dem_path = Path(tmp) / "rough_dem.tif"
        rows, cols = t.shape
        with rasterio.open(
            dem_path, "w", driver="GTiff", width=cols, height=rows, count=1,
            dtype="float32", crs=t.crs.to_wkt(), transform=t.transform,
        ) as ds:  # fmt: skip
            ds.write(t.elevation_m, 1)
        cmd = command(dem_path, out_path)
        subprocess.run(cmd, check=True)
    return cmd


def main() -> None:
    cmd = generate(TIF)
    version = subprocess.run(["gdalinfo", "--version"], capture_output=True, text=True).stdout
    record = {
        "params": PARAMS,
        "curvature_coefficient": curvature_coefficient(PARAMS["k_factor"]),
        "dem_sha256": dem_sha256(),
        "gdal_version": version.strip(),
        "command": " ".join(
            "DEM.tif" if a.endswith("rough_dem.tif") else Path(a).name if a.endswith(".tif") else a
            for a in cmd
        ),
    }
    SIDECAR.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {TIF.name} and {SIDECAR.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
