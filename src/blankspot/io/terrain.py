"""Read DEMs (GeoTIFF, SRTM ``.hgt``, VRT, several tiles) into a metric :class:`Terrain` window.

Only the part of each file that the area of interest needs is read. The sources are mosaicked on
their own grid when they share one (SRTM/Copernicus tiles do), then warped once into the analysis
grid: square cells of ``res_m`` in a projected CRS, snapped to multiples of ``res_m``. Reading a
window of tiles therefore gives exactly the same array as reading the same window of one file
that holds them all.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from pyproj import CRS, Transformer
from rasterio.crs import CRS as RioCRS
from rasterio.enums import MaskFlags, Resampling
from rasterio.warp import reproject, transform_bounds
from rasterio.windows import Window

from blankspot.crs import WGS84, as_crs, is_metric, utm_crs_for
from blankspot.errors import BlankspotWarning, CRSError, DataError, Problems, UnitsError
from blankspot.options import check_memory
from blankspot.terrain import Terrain

__all__ = ["DemGrid", "default_res_m", "dem_grid", "read_terrain", "read_terrain_native"]

_MARGIN_CELLS = 4
"""Source cells read beyond the area of interest, so resampling kernels see their neighbours."""
_ALIGN_TOL = 1e-6
"""Tolerance (in source cells) for two sources to count as sharing one grid."""
_METRES_PER_DEGREE = math.pi / 180.0 * 6_371_008.8
"""Length of one degree of latitude on the mean Earth sphere (about 111.2 km)."""
ELEVATION_RANGE_M = (-500.0, 9_000.0)
"""Plausible elevations on Earth (the Dead Sea shore is -430 m, Everest 8,849 m); values outside
are read as nodata, with a warning: a 1e30 spike or an undeclared nodata value is no hill."""


@dataclass
class _Source:
    path: str
    crs: CRS
    transform: Affine
    width: int
    height: int
    nodata: float | None
    count: int

    @property
    def res(self) -> tuple[float, float]:
        return abs(self.transform.a), abs(self.transform.e)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        xs = (t.c, t.c + self.width * t.a)
        ys = (t.f, t.f + self.height * t.e)
        return min(xs), min(ys), max(xs), max(ys)


def _rio(crs: CRS) -> RioCRS:
    return RioCRS.from_wkt(crs.to_wkt())


def default_res_m(source_res: float, source_crs: object) -> float:
    """The analysis cell size for a source resolution: its size in metres, rounded down to a nice value.

    A geographic source's cell height (degrees of latitude) is converted with 111.2 km per degree;
    a projected source's with its axis unit. The result is rounded down to a multiple of
    5 × 10^(k−1), k being the number of integer digits: 1 arc-second (30.9 m) → 30 m,
    3 arc-seconds (92.6 m) → 90 m, 5 arc-minutes (9.27 km) → 9000 m, 10 m → 10 m.

    >>> default_res_m(1 / 3600, "EPSG:4326"), default_res_m(3 / 3600, "EPSG:4326")
    (30.0, 90.0)
    >>> default_res_m(12.5, "EPSG:32750")
    10.0
    """
    crs = as_crs(source_crs)
    if crs.is_geographic:
        metres = source_res * _METRES_PER_DEGREE
    else:
        metres = source_res * (crs.axis_info[0].unit_conversion_factor or 1.0)
    if not (metres > 0 and math.isfinite(metres)):
        raise UnitsError(f"cannot derive a cell size from source resolution {source_res!r}.")
    step = 5 * 10.0 ** (math.floor(math.log10(metres)) - 1)
    return float(max(step, math.floor(metres / step + 1e-9) * step))


def _open_sources(paths: Sequence[str], problems: Problems) -> list[_Source]:
    sources = []
    for path in paths:
        if not Path(path).exists() and not path.startswith("/vsi") and "://" not in path:
            problems.add(
                f"{path} does not exist; check the path (or fetch the data: blankspot "
                "data fetch --from PATH/TO/paser).",
                DataError,
            )
            continue
        try:
            with warnings.catch_warnings():
                # a file without georeferencing is reported below as "declares no CRS"
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                src = rasterio.open(path)
            with src:
                if src.crs is None:
                    problems.add(
                        f"{path} declares no CRS, so its cells cannot be placed; assign "
                        "one, e.g. `gdal_translate -a_srs EPSG:4326`.",
                        CRSError,
                    )
                    continue
                if src.width < 3 or src.height < 3:
                    problems.add(
                        f"{path} has only {src.width} x {src.height} cells; a DEM needs at least "
                        "3 x 3 cells to give a terrain (and far more to plan on). Is this the "
                        "right file, or was it cut too small?",
                        DataError,
                    )
                    continue
                sources.append(
                    _Source(
                        path=path,
                        crs=CRS.from_wkt(src.crs.to_wkt()),
                        transform=src.transform,
                        width=src.width,
                        height=src.height,
                        nodata=src.nodata,
                        count=src.count,
                    )
                )
                if src.transform.b != 0 or src.transform.d != 0:
                    problems.add(
                        f"{path} has a rotated grid; warp it to a north-up grid first (gdalwarp).",
                        DataError,
                    )
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            size = Path(path).stat().st_size if Path(path).is_file() else None
            problems.add(
                f"{path} could not be read as a raster ({exc}"
                f"{'; the file is empty' if size == 0 else ''}). Is it a GeoTIFF, an SRTM .hgt "
                "or a .vrt? Download or copy it again if it was cut short.",
                DataError,
            )
    return sources


_Box = tuple[float, float, float, float]
"""(xmin, ymin, xmax, ymax)."""


def _lonlat_bounds(bounds: Sequence[float], crs: CRS) -> _Box:
    if crs.is_geographic:
        x0, y0, x1, y1 = bounds
        return (x0, y0, x1, y1)
    return _transform_bounds(crs, WGS84, bounds)


def _transform_bounds(src_crs: CRS, dst_crs: CRS, bounds: Sequence[float]) -> _Box:
    """``bounds`` in ``dst_crs``, densified along the edges (rasterio, 21 points per edge)."""
    x0, y0, x1, y1 = transform_bounds(_rio(src_crs), _rio(dst_crs), *bounds, densify_pts=21)
    return (x0, y0, x1, y1)


def _union(boxes: Iterable[Sequence[float]]) -> _Box:
    boxes = list(boxes)
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _groups(sources: list[_Source]) -> list[list[_Source]]:
    """Sources sharing CRS, cell size and grid alignment, in input order (first group first)."""
    groups: list[list[_Source]] = []
    for s in sources:
        for g in groups:
            ref = g[0]
            if ref.crs != s.crs or not np.allclose(ref.res, s.res, rtol=1e-9, atol=0):
                continue
            if (ref.transform.a > 0) != (s.transform.a > 0) or (ref.transform.e > 0) != (
                s.transform.e > 0
            ):
                continue
            dx = (s.transform.c - ref.transform.c) / ref.transform.a
            dy = (s.transform.f - ref.transform.f) / ref.transform.e
            if abs(dx - round(dx)) < _ALIGN_TOL and abs(dy - round(dy)) < _ALIGN_TOL:
                g.append(s)
                break
        else:
            groups.append([s])
    return groups


def _read_band1(path: str, window: Window) -> np.ndarray:
    """Band 1 of ``window`` as float32 with NaN where the file has no data or an implausible
    elevation (outside :data:`ELEVATION_RANGE_M`, counted in a warning)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            src = rasterio.open(path)
        with src:
            values: np.ndarray = src.read(1, window=window, out_dtype=np.float32)
            if src.nodata is not None and not np.isnan(src.nodata):
                values[values == np.float32(src.nodata)] = np.nan
            if MaskFlags.per_dataset in src.mask_flag_enums[0]:
                values[src.read_masks(1, window=window) == 0] = np.nan
    except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
        raise DataError(
            f"{path} could not be read ({exc}); the file is damaged or truncated. Download or "
            "copy it again (blankspot data fetch), or check it with gdalinfo -checksum."
        ) from None
    lo, hi = ELEVATION_RANGE_M
    with np.errstate(invalid="ignore"):
        wild = ~np.isnan(values) & ((values < lo) | (values > hi))
    n = int(wild.sum())
    if n:
        worst = float(values[wild][np.argmax(np.abs(values[wild]))])
        values[wild] = np.nan
        warnings.warn(
            f"{n} cell(s) of {path} hold elevations outside the plausible {lo:g} .. {hi:g} m "
            f"(e.g. {worst:.6g}); they are read as nodata. Set the file's nodata value or "
            "repair the DEM if these are meant as something else.",
            BlankspotWarning,
            stacklevel=2,
        )
    return values


def _mosaic_window(
    group: list[_Source], need_bounds: Sequence[float]
) -> tuple[np.ndarray, Affine] | None:
    """Read the cells of a same-grid group covering ``need_bounds`` (source CRS) into one array.

    NaN where no source has data; the first source wins where they overlap. None if no overlap.
    """
    ref = group[0].transform
    ux0, uy0, ux1, uy1 = _union(s.bounds for s in group)
    bx0, by0 = max(need_bounds[0], ux0), max(need_bounds[1], uy0)
    bx1, by1 = min(need_bounds[2], ux1), min(need_bounds[3], uy1)
    if bx0 >= bx1 or by0 >= by1:
        return None
    # columns/rows on the reference grid, grown by a margin, clipped to the group's extent
    inv = ~ref
    c_a, r_a = inv @ (bx0, by1)
    c_b, r_b = inv @ (bx1, by0)
    c0, c1 = sorted((c_a, c_b))
    r0, r1 = sorted((r_a, r_b))
    gc_a, gr_a = inv @ (ux0, uy1)
    gc_b, gr_b = inv @ (ux1, uy0)
    gc0, gc1 = sorted((round(gc_a), round(gc_b)))
    gr0, gr1 = sorted((round(gr_a), round(gr_b)))
    col0 = max(gc0, math.floor(c0) - _MARGIN_CELLS)
    col1 = min(gc1, math.ceil(c1) + _MARGIN_CELLS)
    row0 = max(gr0, math.floor(r0) - _MARGIN_CELLS)
    row1 = min(gr1, math.ceil(r1) + _MARGIN_CELLS)
    check_memory(f"the window of {row1 - row0:,} x {col1 - col0:,} cells read from "
                 f"{group[0].path}", 9.0 * max(row1 - row0, 0) * max(col1 - col0, 0),
                 "choose smaller bounds, or resample the DEM to coarser cells first (gdalwarp -tr)")
    out = np.full((row1 - row0, col1 - col0), np.nan, dtype=np.float32)
    filled = np.zeros(out.shape, dtype=bool)
    for s in group:
        # offset of this source's grid on the reference grid
        sc = round((s.transform.c - ref.c) / ref.a)
        sr = round((s.transform.f - ref.f) / ref.e)
        a0, a1 = max(col0, sc), min(col1, sc + s.width)
        b0, b1 = max(row0, sr), min(row1, sr + s.height)
        if a0 >= a1 or b0 >= b1:
            continue
        values = _read_band1(s.path, Window(a0 - sc, b0 - sr, a1 - a0, b1 - b0))
        region = out[b0 - row0 : b1 - row0, a0 - col0 : a1 - col0]
        done = filled[b0 - row0 : b1 - row0, a0 - col0 : a1 - col0]
        if not done.any():
            region[...] = values
        else:
            np.copyto(region, values, where=~done)
        done |= ~np.isnan(region)
    t = ref @ Affine.translation(col0, row0)
    return out, Affine(t.a, 0.0, _canonical(t.c, t.a), 0.0, t.e, _canonical(t.f, t.e))


def _canonical(origin: float, res: float) -> float:
    """``origin`` recomputed as (k or k + 1/2) x ``res`` when it is one, so that the same grid read
    through different tiles (whose origins differ in the last bits) warps bit for bit alike."""
    k2 = round(2.0 * origin / res)
    return k2 / 2.0 * res if abs(2.0 * origin / res - k2) < 1e-6 else origin


def _as_resampling(resampling: object) -> Resampling:
    if isinstance(resampling, Resampling):
        return resampling
    try:
        return Resampling[str(resampling)]
    except KeyError:
        names = ", ".join(r.name for r in Resampling if r.value < 8)
        raise UnitsError(f"unknown resampling {resampling!r}; use one of {names}.") from None


def _check_bounds(bounds: Iterable[float], bounds_crs: CRS, problems: Problems) -> _Box | None:
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError):
        problems.add(
            f"bounds must be four numbers (xmin, ymin, xmax, ymax); received {bounds!r}.",
            UnitsError,
        )
        return None
    if len(b) != 4 or not all(math.isfinite(v) for v in b):
        problems.add(
            f"bounds must be four finite numbers (xmin, ymin, xmax, ymax); received {bounds!r}.",
            UnitsError,
        )
        return None
    if not (b[0] < b[2] and b[1] < b[3]):
        problems.add(
            f"bounds {b} are empty or reversed: need xmin < xmax and ymin < ymax "
            "(order xmin, ymin, xmax, ymax; for lon/lat: lon_min, lat_min, lon_max, "
            "lat_max).",
            UnitsError,
        )
        return None
    if bounds_crs.is_geographic:
        wrong = [f"longitude {v:g} out of range -180..180" for v in (b[0], b[2])
                 if not -180 <= v <= 180]
        wrong += [f"latitude {v:g} out of range -90..90" for v in (b[1], b[3])
                  if not -90 <= v <= 90]
        if wrong:
            problems.add(
                f"bounds {b}: {'; '.join(wrong)} ({bounds_crs.to_string()}). The order is "
                "lon_min, lat_min, lon_max, lat_max in degrees; give bounds_crs= if they are "
                "projected coordinates.",
                UnitsError,
            )
            return None
    return (b[0], b[1], b[2], b[3])


def _fmt(b: Iterable[float]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in b) + ")"


def read_terrain(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    bounds: Sequence[float] | None = None,
    bounds_crs: object = None,
    crs: object = None,
    res_m: float | None = None,
    resampling: str | Resampling = "bilinear",
    synthetic: bool | None = None,
) -> Terrain:
    """Read the area of interest of one or more DEM files into a :class:`Terrain` in metres.

    Parameters
    ----------
    paths
        One path or a list: GeoTIFF, SRTM ``.hgt`` (1201² or 3601² cells, named like
        ``S02E116.hgt``), ``.vrt``, or several tiles to mosaic (the first listed wins where they
        overlap). Band 1 is read.
    bounds
        Area of interest (xmin, ymin, xmax, ymax) in ``bounds_crs``. Default: the union of the
        sources.
    bounds_crs
        CRS of ``bounds``. Default: ``crs`` if given, else WGS 84 lon/lat.
    crs
        Analysis CRS, projected in metres. Default: the WGS 84 / UTM zone of the area's centre
        (EPSG:32750 for Paser).
    res_m
        Cell size in metres. Default: the finest source cell size in metres, rounded down to a
        nice value (:func:`default_res_m`; 1 arc-second → 30 m).
    resampling
        A :class:`rasterio.enums.Resampling` name: ``"bilinear"`` (default), ``"nearest"``,
        ``"cubic"``, ...
    synthetic
        Whether the relief is invented. Default: True when any file name contains "synthetic"
        (the Paser demo DEM).

    Returns
    -------
    Terrain
        float32 elevations (metres, the source's vertical datum) on a north-up grid of square
        ``res_m`` cells whose edges are multiples of ``res_m``, covering ``bounds``;
        ``nodata_mask`` is True where no source has data.

    Raises
    ------
    DataError
        A file is missing or unreadable, the bounds miss every source, or every cell is nodata.
    CRSError
        A source has no CRS, or ``crs`` is geographic ("a DEM in degrees handed to a metric
        computation").
    UnitsError
        ``res_m`` <= 0, bad ``bounds`` or ``resampling``.

    Every problem found before reading is listed in one exception (the most serious class wins:
    DataError, then CRSError, then UnitsError).

    Warns
    -----
    BlankspotWarning
        When cells inside ``bounds`` have no elevation (sea, voids, the DEM's edge): how many and
        where.
    """
    request = _checked_request(paths, bounds, bounds_crs, crs, res_m, resampling)
    grid = _destination_grid(request)
    elevation, overlapped = _warp_sources(request.sources, grid, request.resampling)
    names = [Path(p).name for p in request.path_list]
    nodata = _require_data(elevation, overlapped, grid, request.sources, names)
    _warn_holes(nodata, grid.transform, grid.crs, grid.bounds, grid.bounds_crs)
    if synthetic is None:
        synthetic = any("synthetic" in n.lower() for n in names)
    return Terrain(
        elevation_m=elevation,
        transform=grid.transform,
        crs=grid.crs,
        nodata_mask=nodata,
        source=_source_label(names, request.sources, synthetic),
        synthetic=bool(synthetic),
    )


@dataclass(frozen=True)
class _Request:
    """The checked arguments of :func:`read_terrain`, with its sources opened."""

    path_list: list[str]
    sources: list[_Source]
    bounds: _Box | None
    bounds_crs: CRS | None
    dst_crs: CRS | None
    res_m: float | None
    resampling: Resampling


@dataclass(frozen=True)
class _DestGrid:
    """The analysis grid :func:`read_terrain` warps into, and the area it was asked for."""

    crs: CRS
    transform: Affine
    width: int
    height: int
    res_m: float
    dst_bounds: _Box
    bounds: _Box
    bounds_crs: CRS
    aoi_lonlat: _Box


def _analysis_crs(crs: object, problems: Problems) -> CRS | None:
    """``crs=`` as a metric CRS (None: not given, or a problem recorded)."""
    if crs is None:
        return None
    try:
        dst_crs = as_crs(crs)
    except CRSError as exc:
        problems.add(str(exc), CRSError)
        return None
    if not is_metric(dst_crs):
        kind = "geographic, degrees" if dst_crs.is_geographic else "not in metres"
        problems.add(
            f"crs {dst_crs.to_string()} is {kind}: a DEM in degrees handed to a metric "
            "computation gives wrong slopes and distances. Pass a projected CRS in "
            "metres, e.g. crs='EPSG:32750' (UTM 50S, Paser), or leave crs=None to use "
            "the UTM zone of the area.",
            CRSError,
        )
    return dst_crs


def _checked_request(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    bounds: Sequence[float] | None,
    bounds_crs: object,
    crs: object,
    res_m: float | None,
    resampling: str | Resampling,
) -> _Request:
    """Every argument checked and every source opened; one exception listing all problems."""
    path_list = (
        [os.fspath(paths)]
        if isinstance(paths, (str, os.PathLike))
        else [os.fspath(p) for p in paths]
    )
    problems = Problems()
    if not path_list:
        problems.add("no DEM path given; pass one path or a list of tiles.", DataError)
    dst_crs = _analysis_crs(crs, problems)
    if res_m is not None and not (
        isinstance(res_m, (int, float)) and math.isfinite(res_m) and res_m > 0
    ):
        problems.add(f"res_m must be a cell size in metres > 0; received {res_m!r}.", UnitsError)
    resampling_: Resampling | None = None
    try:
        resampling_ = _as_resampling(resampling)
    except UnitsError as exc:
        problems.add(str(exc), UnitsError)
    b_crs: CRS | None = None
    checked_bounds: _Box | None = None
    if bounds is not None:
        try:
            b_crs = as_crs(bounds_crs) if bounds_crs is not None else (dst_crs or WGS84)
        except CRSError as exc:
            problems.add(str(exc), CRSError)
        else:
            checked_bounds = _check_bounds(bounds, b_crs, problems)
    sources = _open_sources(path_list, problems)
    problems.raise_if_any("read_terrain()")
    assert resampling_ is not None  # else a problem was raised above
    return _Request(path_list, sources, checked_bounds, b_crs, dst_crs, res_m, resampling_)


def _destination_grid(request: _Request) -> _DestGrid:
    """The area of interest (default: the sources' union) and the grid of ``res_m`` cells
    snapped to multiples of ``res_m`` that covers it in the analysis CRS."""
    sources = request.sources
    bounds, b_crs = request.bounds, request.bounds_crs
    if bounds is None:
        crss = {s.crs for s in sources}
        if len(crss) == 1:
            b_crs = sources[0].crs
            bounds = _union(s.bounds for s in sources)
        else:
            b_crs = WGS84
            bounds = _union(_lonlat_bounds(s.bounds, s.crs) for s in sources)
    assert b_crs is not None  # checked bounds always come with their CRS
    aoi_lonlat = _lonlat_bounds(bounds, b_crs)
    dst_crs = request.dst_crs if request.dst_crs is not None else utm_crs_for(*aoi_lonlat)
    res_m = request.res_m
    if res_m is None:
        res_m = min(default_res_m(min(s.res), s.crs) for s in sources)
    res_m = float(res_m)
    dxy = bounds if b_crs == dst_crs else _transform_bounds(b_crs, dst_crs, bounds)
    x0 = math.floor(dxy[0] / res_m + 1e-9) * res_m
    y0 = math.floor(dxy[1] / res_m + 1e-9) * res_m
    x1 = math.ceil(dxy[2] / res_m - 1e-9) * res_m
    y1 = math.ceil(dxy[3] / res_m - 1e-9) * res_m
    width, height = round((x1 - x0) / res_m), round((y1 - y0) / res_m)
    # float32 elevation, its warp buffer and the nodata mask
    check_memory(f"the terrain grid of {height:,} x {width:,} cells of {res_m:g} m",
                 9.0 * width * height,
                 "choose smaller bounds (--bounds, [data] bounds) or a larger res_m "
                 "(--res-m, terrain_res_m)")
    return _DestGrid(
        crs=dst_crs,
        transform=Affine(res_m, 0.0, x0, 0.0, -res_m, y1),
        width=width,
        height=height,
        res_m=res_m,
        dst_bounds=(x0, y0, x1, y1),
        bounds=bounds,
        bounds_crs=b_crs,
        aoi_lonlat=aoi_lonlat,
    )


def _warp_sources(
    sources: list[_Source], grid: _DestGrid, resampling: Resampling
) -> tuple[np.ndarray, bool]:
    """float32 elevations on ``grid`` (NaN: no data) and whether any source overlapped it.

    Each same-grid group is mosaicked on its own grid, then warped once; a later group fills
    only the cells the earlier ones left empty.
    """
    height, width = grid.height, grid.width
    elevation = np.full((height, width), np.nan, dtype=np.float32)
    threads = max(1, min(4, os.cpu_count() or 1))
    overlapped = False
    groups = _groups(sources)
    for group in groups:
        src_crs = group[0].crs
        need = (
            grid.dst_bounds
            if src_crs == grid.crs
            else _transform_bounds(grid.crs, src_crs, grid.dst_bounds)
        )
        window = _mosaic_window(group, need)
        if window is None:
            continue
        overlapped = True
        src_array, src_transform = window
        # a single grid warps straight into the result; several fill only its remaining holes
        part = elevation if len(groups) == 1 else np.full((height, width), np.nan, np.float32)
        reproject(
            source=src_array,
            destination=part,
            src_transform=src_transform,
            src_crs=_rio(src_crs),
            src_nodata=np.nan,
            dst_transform=grid.transform,
            dst_crs=_rio(grid.crs),
            dst_nodata=np.nan,
            resampling=resampling,
            num_threads=threads,
        )
        if part is not elevation:
            np.copyto(elevation, part, where=np.isnan(elevation))
    return elevation, overlapped


def _require_data(
    elevation: np.ndarray,
    overlapped: bool,
    grid: _DestGrid,
    sources: list[_Source],
    names: list[str],
) -> npt.NDArray[np.bool_]:
    """The nodata mask; raise :class:`DataError` when no source overlaps the bounds or every
    cell is nodata."""
    bounds, b_crs = grid.bounds, grid.bounds_crs
    described = "; ".join(
        f"{_fmt(_lonlat_bounds(s.bounds, s.crs))} for {Path(s.path).name}" for s in sources
    )
    if not overlapped:
        raise DataError(
            f"the requested bounds {_fmt(bounds)} ({b_crs.to_string()}; lon/lat "
            f"{_fmt(grid.aoi_lonlat)}) do not intersect any source: source lon/lat bounds are "
            f"{described}. Choose bounds inside the DEM, or give the tiles that cover them."
        )
    nodata: npt.NDArray[np.bool_] = np.isnan(elevation)
    if nodata.all():
        raise DataError(
            f"every cell in the requested bounds {_fmt(bounds)} ({b_crs.to_string()}) is nodata "
            f"in {', '.join(names)} (source lon/lat bounds: {described}). Choose bounds with "
            "land data, or check the files' nodata value."
        )
    return nodata


def _source_label(names: list[str], sources: list[_Source], synthetic: bool) -> str:
    """The terrain's ``source``: file names, the band read of multi-band files, and whether
    the relief is invented."""
    source = ", ".join(
        n + (f" (band 1 of {s.count})" if s.count > 1 else "")
        for n, s in zip(names, sources, strict=True)
    )
    if synthetic:
        source += " (SYNTHETIC demo relief)"
    return source


@dataclass(frozen=True)
class DemGrid:
    """The lattice of a DEM: the first file's grid, extended over the files that share it."""

    crs: CRS
    transform: Affine
    width: int
    height: int
    shared: bool
    """True when every file lies on this one lattice (same CRS, cell size and alignment)."""

    @property
    def square_metric(self) -> bool:
        """North-up square cells in a projected CRS in metres (a grid the engines can run on)."""
        t = self.transform
        return (is_metric(self.crs) and t.b == 0 and t.d == 0 and t.a > 0 and t.e < 0
                and math.isclose(t.a, -t.e, rel_tol=1e-9))


def dem_grid(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> DemGrid:
    """The lattice outputs "on the DEM's grid" are written on (no cell is read)."""
    path_list = ([os.fspath(paths)] if isinstance(paths, (str, os.PathLike))
                 else [os.fspath(p) for p in paths])
    problems = Problems()
    if not path_list:
        problems.add("no DEM path given; pass one path or a list of tiles.", DataError)
    sources = _open_sources(path_list, problems)
    problems.raise_if_any("dem_grid()")
    groups = _groups(sources)
    group = groups[0]
    ref = group[0].transform
    inv = ~ref
    cols, rows = [], []
    for s in group:
        x0, y0, x1, y1 = s.bounds
        for x, y in ((x0, y0), (x1, y1)):
            c, r = inv @ (x, y)
            cols.append(round(c))
            rows.append(round(r))
    c0, r0 = min(cols), min(rows)
    return DemGrid(crs=group[0].crs, transform=ref @ Affine.translation(c0, r0),
                   width=max(cols) - c0, height=max(rows) - r0, shared=len(groups) == 1)


def read_terrain_native(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    bounds: Sequence[float],
    *,
    synthetic: bool | None = None,
) -> Terrain:
    """The cells of the DEM covering ``bounds`` (its own CRS), read on its own lattice.

    Unlike :func:`read_terrain` nothing is resampled: the window's cell edges are the DEM's,
    clipped to its extent. The files must share one lattice of square cells in a projected CRS
    in metres (:attr:`DemGrid.square_metric`); else use :func:`read_terrain`.
    """
    path_list = ([os.fspath(paths)] if isinstance(paths, (str, os.PathLike))
                 else [os.fspath(p) for p in paths])
    grid = dem_grid(path_list)
    if not (grid.shared and grid.square_metric):
        raise CRSError(
            f"read_terrain_native() needs files on one lattice of square cells in metres; "
            f"{grid.crs.to_string()} with transform {tuple(grid.transform)[:6]} "
            f"({'one lattice' if grid.shared else 'several lattices'}). Use read_terrain()."
        )
    problems = Problems()
    b = _check_bounds(bounds, grid.crs, problems)
    problems.raise_if_any("read_terrain_native()")
    assert b is not None  # checked just above
    sources = _open_sources(path_list, problems)
    window = _mosaic_window(sources, b)
    if window is None:
        raise DataError(f"the bounds {_fmt(b)} ({grid.crs.to_string()}) do not intersect "
                        f"{', '.join(Path(p).name for p in path_list)}.")
    elevation, transform = window
    nodata = np.isnan(elevation)
    if nodata.all():
        raise DataError(f"every cell in the bounds {_fmt(b)} ({grid.crs.to_string()}) is nodata.")
    _warn_holes(nodata, transform, grid.crs, b, grid.crs)
    names = [Path(p).name for p in path_list]
    if synthetic is None:
        synthetic = any("synthetic" in n.lower() for n in names)
    source = ", ".join(names) + (" (SYNTHETIC demo relief)" if synthetic else "")
    return Terrain(elevation_m=elevation, transform=transform, crs=grid.crs, nodata_mask=nodata,
                   source=source, synthetic=bool(synthetic))


def _warn_holes(
    nodata: np.ndarray, transform: Affine, crs: CRS, bounds: Sequence[float], bounds_crs: CRS
) -> None:
    """Warn about nodata cells whose centres lie inside the requested bounds."""
    if not nodata.any():
        return
    rows, cols = np.nonzero(nodata)
    xs = transform.c + (cols + 0.5) * transform.a
    ys = transform.f + (rows + 0.5) * transform.e
    if bounds_crs == crs:
        bx, by = xs, ys
    else:
        bx, by = Transformer.from_crs(crs, bounds_crs, always_xy=True).transform(xs, ys)
    inside = (bx >= bounds[0]) & (bx <= bounds[2]) & (by >= bounds[1]) & (by <= bounds[3])
    n = int(inside.sum())
    if n == 0:
        return
    res = transform.a
    hx0, hx1 = xs[inside].min() - res / 2, xs[inside].max() + res / 2
    hy0, hy1 = ys[inside].min() - res / 2, ys[inside].max() + res / 2
    total = nodata.size
    warnings.warn(
        f"{n} of {total} terrain cells ({100.0 * n / total:.2g} %) inside the requested bounds "
        f"have no elevation (sea, voids or the DEM's edge), within x {hx0:.0f}..{hx1:.0f}, "
        f"y {hy0:.0f}..{hy1:.0f} m ({crs.to_string()}). They are marked in Terrain.nodata_mask; "
        "sites and demand there are not computed. Fill the DEM or choose bounds inside it.",
        BlankspotWarning,
        stacklevel=3,
    )
