"""One site's coverage as a GeoTIFF on the DEM's own grid (``blankspot coverage``).

Every output is a window of the input DEM's lattice: the DEM's CRS and cell size, cell edges on
the DEM's cell edges, clipped to the DEM's extent (tiles sharing one lattice count as one DEM).

- A DEM with square cells in a projected CRS in metres (UTM, say) is computed on its own cells:
  nothing is resampled on the way in or out (:func:`blankspot.io.terrain.read_terrain_native`).
- Anything else (a geographic DEM such as SRTM at 1 arc-second, or a ``res_m`` other than the
  DEM's) is computed on square ``res_m`` cells in a metric CRS (the DEM's own when it is metric,
  else the WGS 84 / UTM zone of the site; the elevations are read bilinearly), then written back
  onto the DEM's lattice with nearest resampling: each DEM cell takes the value of the analysis
  cell that holds its centre. A written value therefore belongs to a point at most half an
  analysis cell's diagonal (21 m at 30 m) from the DEM cell's centre; LOS stays a 0/1 mask and
  path loss stays a value the model computed. The ``analysis_grid`` tag says which case ran.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine
from pyproj import CRS

from blankspot.coverage import site_footprint
from blankspot.crs import WGS84, is_metric, utm_crs_for
from blankspot.errors import DataError, UnitsError, raise_if_problems
from blankspot.io.outputs import write_raster
from blankspot.io.terrain import dem_grid, read_terrain, read_terrain_native
from blankspot.propagation.los import viewshed
from blankspot.propagation.models import free_space_loss_db
from blankspot.units import DEFAULT_K_FACTOR

if TYPE_CHECKING:
    from blankspot.io.terrain import DemGrid

MODELS = ("los", "fspl", "itm", "p1812")
LOS_NODATA = 255
_LATTICE_TOL = 1e-6
"""Tolerance, in DEM cells, for a grid origin to count as lying on the DEM lattice."""


@dataclass(frozen=True, eq=False)
class SiteRaster:
    """A single-band raster of one site's coverage.

    ``values``: path loss in dB (float32, NaN = not computed: beyond the radius, nodata, or past
    the model's loss limit), or for ``model="los"`` a uint8 visibility mask (1 visible, 0 hidden,
    255 outside the radius or on nodata).
    """

    values: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float
    model: str
    tags: dict[str, str]

    @property
    def units(self) -> str:
        return "visible (1) / hidden (0)" if self.model == "los" else "dB path loss"


def _check(model: str, lon: float, lat: float, height_agl_m: float, rx_height_agl_m: float,
           freq_mhz: float, radius_m: float, k_factor: float) -> None:
    problems: list[str] = []
    if model not in MODELS:
        problems.append(f"model must be one of {', '.join(MODELS)}; received {model!r}.")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(f"lon/lat must be degrees (lon −180..180, lat −90..90); received {lon}, {lat}.")
    for name, v in (("height_agl_m", height_agl_m), ("rx_height_agl_m", rx_height_agl_m)):
        if not np.isfinite(v) or v < 0:
            problems.append(f"{name} must be ≥ 0 metres above ground; received {v!r}.")
    if not np.isfinite(freq_mhz) or freq_mhz <= 0:
        problems.append(f"freq_mhz must be > 0; received {freq_mhz!r}.")
    if not np.isfinite(radius_m) or radius_m <= 0:
        problems.append(f"radius must be > 0; received {radius_m!r} m.")
    if not np.isfinite(k_factor) or k_factor <= 0:
        problems.append(f"k_factor must be > 0; received {k_factor!r}.")
    raise_if_problems("coverage inputs", problems, UnitsError)


def site_raster(
    dem_paths: str | os.PathLike[str] | list[str | os.PathLike[str]],
    lon: float,
    lat: float,
    *,
    height_agl_m: float,
    freq_mhz: float = 900.0,
    radius_m: float = 30_000.0,
    model: str = "itm",
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    res_m: float | None = None,
    **model_options: Any,
) -> SiteRaster:
    """Path loss (or the LOS mask) of one site on the DEM's grid.

    Parameters
    ----------
    dem_paths
        DEM file(s) as for :func:`blankspot.io.read_terrain`.
    lon, lat
        Site position, WGS 84 degrees.
    height_agl_m, rx_height_agl_m
        Antenna and handset heights above ground, metres.
    freq_mhz, radius_m, k_factor
        Carrier, maximum distance, effective-earth-radius factor (LOS and P.1812; ITM derives
        its own from N_0).
    model
        ``los`` (visibility mask), ``fspl`` (free-space loss, terrain ignored), ``itm``, ``p1812``.
    res_m
        Analysis cell size; default from the DEM (1 arc-second → 30 m).
    model_options
        Passed to :func:`blankspot.coverage.site_footprint` (e.g. ``itm_params``, ``clutter``).
    """
    from pyproj import Transformer


    _check(model, lon, lat, height_agl_m, rx_height_agl_m, freq_mhz, radius_m, k_factor)
    paths = [dem_paths] if isinstance(dem_paths, (str, bytes)) or hasattr(dem_paths, "__fspath__") else list(dem_paths)
    grid = dem_grid(paths)
    native = grid.shared and grid.square_metric and (
        res_m is None or abs(res_m - grid.transform.a) <= 1e-9 * grid.transform.a)
    work_crs = grid.crs if is_metric(grid.crs) else utm_crs_for(lon, lat, lon, lat)
    x, y = Transformer.from_crs(WGS84, work_crs, always_xy=True).transform(lon, lat)
    margin = radius_m + 200.0
    aoi = (x - margin, y - margin, x + margin, y + margin)
    if native:  # the DEM's own cells: nothing to resample, on the way in or out
        terrain = read_terrain_native(paths, aoi)
    else:
        terrain = read_terrain(paths, bounds=aoi, bounds_crs=work_crs, crs=work_crs, res_m=res_m)

    if model in ("los", "fspl"):
        vs = viewshed(terrain, x, y, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
                      radius_m=radius_m, k_factor=k_factor)
        if model == "los":
            win = np.where(vs.visible, 1, 0).astype(np.uint8)
            win[~np.isfinite(vs.distance_m)] = LOS_NODATA
        else:
            win = np.asarray(free_space_loss_db(np.asarray(vs.distance_m, dtype=float), freq_mhz),
                             dtype=np.float32)
        row_off, col_off = vs.row_off, vs.col_off
    else:
        fp = site_footprint(terrain, "site", x, y, height_agl_m, freq_mhz=freq_mhz, model=model,
                            radius_m=radius_m, rx_height_agl_m=rx_height_agl_m, k_factor=k_factor,
                            **model_options)
        win, row_off, col_off = fp.path_loss_db.astype(np.float32), fp.row_off, fp.col_off
    nodata = float(LOS_NODATA) if model == "los" else float("nan")
    work_transform = terrain.transform @ Affine.translation(col_off, row_off)
    tags = {
        "model": model,
        "units": "visible=1 hidden=0" if model == "los" else "dB (basic transmission loss)",
        "site_lon_lat": f"{lon:.6f},{lat:.6f}",
        "height_agl_m": f"{height_agl_m:g}",
        "rx_height_agl_m": f"{rx_height_agl_m:g}",
        "freq_mhz": f"{freq_mhz:g}",
        "radius_m": f"{radius_m:g}",
        "k_factor": f"{k_factor:g}",
        "analysis_grid": (f"the DEM's own cells ({grid.crs.to_string()})" if native else
                          f"{terrain.res_m:g} m cells in {work_crs.to_string()}, "
                          "resampled onto the DEM's grid (nearest)"),
        "terrain": terrain.source + (" (SYNTHETIC relief, not survey data)" if terrain.synthetic else ""),
    }
    values, transform = _onto_dem_grid(win, work_transform, work_crs, nodata, grid)
    return SiteRaster(values, transform, grid.crs, nodata, model, tags)


def _lattice_offset(transform: Affine, grid: DemGrid) -> tuple[int, int] | None:
    """(col, row) of ``transform``'s origin on the DEM lattice, or None when it is not a window of it."""
    g = grid.transform
    if not (math.isclose(transform.a, g.a, rel_tol=1e-9) and math.isclose(transform.e, g.e, rel_tol=1e-9)
            and transform.b == 0 and transform.d == 0 and g.b == 0 and g.d == 0):
        return None
    c, r = (transform.c - g.c) / g.a, (transform.f - g.f) / g.e
    if abs(c - round(c)) > _LATTICE_TOL or abs(r - round(r)) > _LATTICE_TOL:
        return None
    return round(c), round(r)


def _onto_dem_grid(
    win: np.ndarray, work_transform: Affine, work_crs: CRS, nodata: float, grid: DemGrid
) -> tuple[np.ndarray, Affine]:
    """``win`` (on ``work_transform`` in ``work_crs``) as a window of the DEM lattice ``grid``.

    A window already on the lattice is cropped to the DEM's extent, its values untouched. Anything
    else (a geographic DEM computed in UTM, or a ``res_m`` other than the DEM's) is resampled with
    nearest: each DEM cell takes the value of the analysis cell holding its centre.
    """
    import rasterio.warp
    from rasterio.enums import Resampling

    h, w = win.shape
    g = grid.transform
    if work_crs == grid.crs and (off := _lattice_offset(work_transform, grid)) is not None:
        c0, r0 = off
        a0, a1 = max(c0, 0), min(c0 + w, grid.width)
        b0, b1 = max(r0, 0), min(r0 + h, grid.height)
        if a0 >= a1 or b0 >= b1:
            raise DataError("the computed area lies outside the DEM.")
        out = win[b0 - r0 : b1 - r0, a0 - c0 : a1 - c0]
        return np.ascontiguousarray(out), g @ Affine.translation(a0, b0)
    # the DEM cells whose extent meets the computed area, clipped to the DEM
    x0, y0 = work_transform.c, work_transform.f + h * work_transform.e
    x1, y1 = work_transform.c + w * work_transform.a, work_transform.f
    if work_crs != grid.crs:
        x0, y0, x1, y1 = rasterio.warp.transform_bounds(work_crs, grid.crs, x0, y0, x1, y1, densify_pts=21)
    inv = ~g
    cols, rows = zip(*(inv @ (x, y) for x in (x0, x1) for y in (y0, y1)), strict=True)
    a0 = max(math.floor(min(cols) + _LATTICE_TOL), 0)
    a1 = min(math.ceil(max(cols) - _LATTICE_TOL), grid.width)
    b0 = max(math.floor(min(rows) + _LATTICE_TOL), 0)
    b1 = min(math.ceil(max(rows) - _LATTICE_TOL), grid.height)
    if a0 >= a1 or b0 >= b1:
        raise DataError("the computed area lies outside the DEM.")
    dst_transform = g @ Affine.translation(a0, b0)
    dst = np.full((b1 - b0, a1 - a0), nodata, dtype=win.dtype)
    rasterio.warp.reproject(
        win, dst, src_transform=work_transform, src_crs=work_crs, src_nodata=nodata,
        dst_transform=dst_transform, dst_crs=grid.crs, dst_nodata=nodata, resampling=Resampling.nearest,
    )
    return dst, dst_transform


def write_site_raster(raster: SiteRaster, path: str | os.PathLike[str]) -> None:
    """Write a :class:`SiteRaster` as a GeoTIFF (atomically)."""
    write_raster(path, raster.values, transform=raster.transform, crs=raster.crs,
                 nodata=raster.nodata, description=f"{raster.model}: {raster.units}", tags=raster.tags)
