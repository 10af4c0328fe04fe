"""One site's coverage as a GeoTIFF on the DEM's own grid (``blankspot coverage``).

The computation runs in a projected metric CRS (the DEM's own when it is metric, else the UTM zone
of the site); the result is resampled back onto the DEM's grid (nearest) so any GIS can overlay
it on the DEM it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

from blankspot.crs import WGS84, as_crs, is_metric, utm_crs_for
from blankspot.errors import UnitsError, raise_if_problems
from blankspot.units import DEFAULT_K_FACTOR

MODELS = ("los", "fspl", "itm", "p1812")
LOS_NODATA = 255


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
    tags: dict

    @property
    def units(self) -> str:
        return "visible (1) / hidden (0)" if self.model == "los" else "dB path loss"


def _check(model, lon, lat, height_agl_m, rx_height_agl_m, freq_mhz, radius_m, k_factor):
    problems = []
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
    dem_paths,
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
    **model_options,
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
    import rasterio
    import rasterio.warp
    from pyproj import Transformer
    from rasterio.enums import Resampling
    from rasterio.windows import Window, from_bounds

    from blankspot.io import read_terrain
    from blankspot.propagation import free_space_loss_db, viewshed

    _check(model, lon, lat, height_agl_m, rx_height_agl_m, freq_mhz, radius_m, k_factor)
    paths = [dem_paths] if isinstance(dem_paths, (str, bytes)) or hasattr(dem_paths, "__fspath__") else list(dem_paths)
    with rasterio.open(paths[0]) as src:
        dem_crs = as_crs(src.crs.to_wkt()) if src.crs else None
        dem_transform = src.transform
        dem_shape = (src.height, src.width)
    work_crs = dem_crs if dem_crs is not None and is_metric(dem_crs) else utm_crs_for(lon, lat, lon, lat)
    x, y = Transformer.from_crs(WGS84, work_crs, always_xy=True).transform(lon, lat)
    margin = radius_m + 200.0
    terrain = read_terrain(paths, bounds=(x - margin, y - margin, x + margin, y + margin),
                           bounds_crs=work_crs, crs=work_crs, res_m=res_m)

    if model in ("los", "fspl"):
        vs = viewshed(terrain, x, y, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
                      radius_m=radius_m, k_factor=k_factor)
        if model == "los":
            win = np.where(vs.visible, 1, 0).astype(np.uint8)
            win[~np.isfinite(vs.distance_m)] = LOS_NODATA
        else:
            win = free_space_loss_db(np.asarray(vs.distance_m, dtype=float), freq_mhz).astype(np.float32)
        row_off, col_off = vs.row_off, vs.col_off
    else:
        from blankspot.coverage import site_footprint

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
        "terrain": terrain.source + (" (SYNTHETIC relief, not survey data)" if terrain.synthetic else ""),
    }
    if dem_crs is None or dem_crs == work_crs:
        return SiteRaster(win, work_transform, work_crs, nodata, model, tags)

    # back onto the DEM's grid: the DEM window that holds the computed area
    h, w = win.shape
    bounds = rasterio.warp.transform_bounds(
        work_crs, dem_crs, work_transform.c, work_transform.f + h * work_transform.e,
        work_transform.c + w * work_transform.a, work_transform.f, densify_pts=21,
    )
    window = from_bounds(*bounds, transform=dem_transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, dem_shape[1], dem_shape[0]))
    dst_transform = rasterio.windows.transform(window, dem_transform)
    dst = np.full((int(window.height), int(window.width)), nodata, dtype=win.dtype)
    rasterio.warp.reproject(
        win, dst, src_transform=work_transform, src_crs=work_crs, src_nodata=nodata,
        dst_transform=dst_transform, dst_crs=dem_crs, dst_nodata=nodata, resampling=Resampling.nearest,
    )
    return SiteRaster(dst, dst_transform, dem_crs, nodata, model, tags)


def write_site_raster(raster: SiteRaster, path) -> None:
    """Write a :class:`SiteRaster` as a GeoTIFF (atomically)."""
    from blankspot.io.outputs import write_raster

    write_raster(path, raster.values, transform=raster.transform, crs=raster.crs,
                 nodata=raster.nodata, description=f"{raster.model}: {raster.units}", tags=raster.tags)
