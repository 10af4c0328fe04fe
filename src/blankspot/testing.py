"""Tiny specimens with answers known on paper, for tests and examples (public, like geopandas.testing).

All zoo terrains are at most 64x64 cells of 30 m in EPSG:32750 (UTM 50S), origin near Paser.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from affine import Affine

from blankspot.calibration import predict_at_points
from blankspot.crs import PASER_CRS
from blankspot.io.vectors import sites_frame
from blankspot.terrain import Terrain

ZOO_RES_M = 30.0
ZOO_ORIGIN = (480_000.0, 9_800_000.0)  # upper-left corner, metres in EPSG:32750
ZOO_KINDS = (
    "flat",
    "tilted_plane",
    "knife_edge",
    "pit",
    "nodata_hole",
    "two_valleys",
    "tiny_1x1",
    "edge_site",
    "rough",
)


def make_terrain(kind: str = "flat", *, size: int = 64, res_m: float = ZOO_RES_M, seed: int = 0) -> Terrain:
    """A zoo terrain.

    - ``flat``: 100 m everywhere.
    - ``tilted_plane``: rises 1 m per cell eastward from 100 m.
    - ``knife_edge``: flat 100 m with a 1-cell wide north-south wall of 200 m at column size//2 + 8.
    - ``pit``: flat 100 m with a 40 m deep square pit of 9x9 cells centred 12 cells east of centre.
    - ``nodata_hole``: flat 100 m with a 5x5 nodata block.
    - ``two_valleys``: two valleys separated by a 400 m ridge along the centre column.
    - ``tiny_1x1``: a single 100 m cell.
    - ``edge_site``: flat, intended for sites on the grid's edge.
    - ``rough``: seeded random hills (smooth noise, 0-150 m) for parity tests.
    """
    if kind not in ZOO_KINDS:
        raise ValueError(f"unknown zoo terrain {kind!r}; choose one of {', '.join(ZOO_KINDS)}.")
    if kind == "tiny_1x1":
        size = 1
    elev = np.full((size, size), 100.0, dtype=np.float32)
    mask = np.zeros((size, size), dtype=bool)
    _rows, cols = np.mgrid[0:size, 0:size]
    c = size // 2
    if kind == "tilted_plane":
        elev = (100.0 + cols).astype(np.float32)
    elif kind == "knife_edge":
        elev[:, min(c + 8, size - 1)] = 200.0
    elif kind == "pit":
        pc = min(c + 12, size - 5)
        elev[c - 4 : c + 5, pc - 4 : pc + 5] = 60.0
    elif kind == "nodata_hole":
        mask[c + 5 : c + 10, c + 5 : c + 10] = True
    elif kind == "two_valleys":
        dist = np.abs(cols - c).astype(np.float32)
        elev = (100.0 + 400.0 * np.exp(-((dist / 2.0) ** 2))).astype(np.float32)
    elif kind == "rough":
        rng = np.random.default_rng(seed)
        noise = rng.normal(size=(size // 8 + 2, size // 8 + 2))
        from scipy.ndimage import zoom

        hills = zoom(noise, 8, order=3)[:size, :size]
        hills = (hills - hills.min()) / max(np.ptp(hills), 1e-9)
        elev = (150.0 * hills).astype(np.float32)
    transform = Affine(res_m, 0.0, ZOO_ORIGIN[0], 0.0, -res_m, ZOO_ORIGIN[1])
    return Terrain(
        elevation_m=elev,
        transform=transform,
        crs=PASER_CRS,
        nodata_mask=mask,
        source=f"zoo:{kind}",
        synthetic=True,
    )


def cell_centre(terrain: Terrain, row: int, col: int) -> tuple[float, float]:
    """Map (x, y) of a cell centre."""
    x, y = terrain.xy(row, col)
    return float(x), float(y)


# --- a calibration scene: measurements made from the prediction with known errors ----------
SCENE_OFFSET_DB = 6.0
"""Measured minus predicted RSRP everywhere in :func:`make_calibration_scene`, dB."""
SCENE_FOREST_LOSS_DB = 18.0
"""True terminal loss of tree cover (WorldCover 10) in the scene, dB (P.2108: 25.1 dB)."""
SCENE_SIGMA_L_DB = 7.0
"""Log-normal location variability of the scene's measurements, dB."""
SCENE_OUTLIER_SHARE = 0.03
"""Share of the scene's measurements that are gross outliers ..."""
SCENE_OUTLIER_DB = 25.0
"""... this many dB too strong (a phone by a window, another operator's cell)."""


def make_calibration_scene(n_points: int = 3000, seed: int = 7) -> dict[str, Any]:
    """A 3.8 km square of rough terrain with 4 sites, forest and grassland in 480 m blocks, and
    measurements made from :func:`blankspot.calibration.predict_at_points` with the known
    errors above (offset, forest loss, σ_L, outliers).

    Returns ``{"terrain", "sites", "landcover" (int16 WorldCover codes on the terrain grid),
    "points" (the prediction with ``rsrp_dbm`` and ``residual_db``), "outlier" (bool per
    point)}``.
    """
    terrain = make_terrain("rough", size=128, seed=3)
    rng = np.random.default_rng(seed)
    blocks = rng.random((8, 8)) < 0.5
    landcover = np.where(np.kron(blocks, np.ones((16, 16), bool)), 10, 30).astype(np.int16)
    xmin, ymin, xmax, ymax = terrain.bounds
    sx = xmin + np.array([0.25, 0.75, 0.3, 0.7]) * (xmax - xmin)
    sy = ymin + np.array([0.25, 0.3, 0.75, 0.7]) * (ymax - ymin)
    sites = sites_frame(["A", "B", "C", "D"], sx, sy, [30.0, 35.0, 40.0, 30.0], crs=terrain.crs)
    px = rng.uniform(xmin + 60, xmax - 60, n_points)
    py = rng.uniform(ymin + 60, ymax - 60, n_points)
    d = np.hypot(px[:, None] - sx[None], py[:, None] - sy[None])
    keep = d.min(axis=1) > 150.0
    near = d.argmin(axis=1)[keep]
    pts = gpd.GeoDataFrame(
        {"site_id": np.array(["A", "B", "C", "D"], dtype=object)[near]},
        geometry=shapely.points(px[keep], py[keep]),
        crs=terrain.crs,
    )
    points = predict_at_points(terrain, sites, pts, landcover=landcover)
    forest = points["landcover_class"].to_numpy() == 10
    outlier = rng.random(len(points)) < SCENE_OUTLIER_SHARE
    true_rsrp = (
        points["predicted_rsrp_dbm"].to_numpy()
        + SCENE_OFFSET_DB
        + np.where(forest, points["terminal_loss_db"].to_numpy() - SCENE_FOREST_LOSS_DB, 0.0)
    )
    measured = (true_rsrp + rng.normal(0.0, SCENE_SIGMA_L_DB, len(points))
                + SCENE_OUTLIER_DB * outlier)  # fmt: skip
    points["rsrp_dbm"] = measured
    points["residual_db"] = measured - points["predicted_rsrp_dbm"]
    return {"terrain": terrain, "sites": sites, "landcover": landcover, "points": points,
            "outlier": outlier}  # fmt: skip


def _write_grid(path: Path, array: np.ndarray, terrain: Terrain, nodata: float | None) -> None:
    profile = {"driver": "GTiff", "height": array.shape[0], "width": array.shape[1], "count": 1,
               "dtype": str(array.dtype), "crs": terrain.crs, "transform": terrain.transform,
               "nodata": nodata}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)


def write_calibration_scene(
    folder: str | os.PathLike[str], scene: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Write :func:`make_calibration_scene` as files ``blankspot calibrate`` reads.

    ``dem.tif`` and ``landcover.tif`` (GeoTIFFs in EPSG:32750), ``sites.csv`` (``site_id``,
    ``lon``, ``lat``, ``height_agl_m``), ``measurements.csv`` (``lat``, ``lon``, ``rsrp``,
    ``site_id``; a generic drive-test export, without the few points stronger than a phone
    reports, -31 dBm) and ``scenario.toml`` (the DEM, the sites, the
    scene's bounds, the DEM's own 30 m cells). Returns ``{name: path}``.
    """
    scene = scene if scene is not None else make_calibration_scene()
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    terrain: Terrain = scene["terrain"]
    paths = {name: out / name for name in
             ("dem.tif", "landcover.tif", "sites.csv", "measurements.csv", "scenario.toml")}
    _write_grid(paths["dem.tif"], terrain.elevation_m.astype(np.float32), terrain, -9999.0)
    _write_grid(paths["landcover.tif"], scene["landcover"].astype(np.int16), terrain, 0)
    sites = scene["sites"].to_crs("EPSG:4326")
    pd.DataFrame({"site_id": sites.index, "lon": sites.geometry.x.round(8),
                  "lat": sites.geometry.y.round(8),
                  "height_agl_m": scene["sites"]["height_agl_m"].to_numpy()}
                 ).to_csv(paths["sites.csv"], index=False)  # fmt: skip
    # a phone reports -156 ... -31 dBm: the few points stronger than that (next to a mast)
    # are not in the file
    points = scene["points"]
    points = points[points["rsrp_dbm"].between(-156.0, -31.0)]
    pts = points.to_crs("EPSG:4326")
    pd.DataFrame({"lat": pts.geometry.y.round(8), "lon": pts.geometry.x.round(8),
                  "rsrp": points["rsrp_dbm"].round(2), "site_id": points["site_id"]}
                 ).to_csv(paths["measurements.csv"], index=False)  # fmt: skip
    lon0, lat0, lon1, lat1 = gpd.GeoSeries(
        [shapely.box(*terrain.bounds)], crs=terrain.crs
    ).to_crs("EPSG:4326").total_bounds
    pad = 0.0005  # degrees, inside the DEM
    bounds = [round(float(v), 6) for v in (lon0 + pad, lat0 + pad, lon1 - pad, lat1 - pad)]
    paths["scenario.toml"].write_text(
        "name = \"calibration scene\"\n"
        "description = \"synthetic terrain, 4 sites, measurements with known errors\"\n\n"
        f"[data]\ndem = \"dem.tif\"\nsites = \"sites.csv\"\nbounds = {json.dumps(bounds)}\n"
        "crs = \"EPSG:32750\"\n\n[radio]\nmodel = \"itm\"\nterrain_res_m = \"none\"\n"
        "radius_m = 5000.0\n",
        encoding="utf-8",
    )
    return paths
