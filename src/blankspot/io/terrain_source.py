"""Where dask workers read terrain: DEM files plus the analysis CRS and cell size.

A :class:`TerrainSource` is small and picklable: this, not an elevation array, is what a task
carries; each task reads only its window (:meth:`TerrainSource.read_window`), checked to lie
exactly on the analysis :class:`~blankspot.footprints.Grid`. :func:`terrain_source_on_grid`
writes a terrain held in memory once as a GeoTIFF on its own grid, so that workers read the
very cells the single-process path uses.
"""

from __future__ import annotations

import math
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import CRS

from blankspot import cache as _cache
from blankspot.crs import as_crs, require_metric
from blankspot.errors import BlankspotWarning, CRSError, UnitsError, format_problems
from blankspot.footprints import _ALIGN_TOL_CELLS, Grid, _positive, terrain_key
from blankspot.io.outputs import write_raster
from blankspot.io.terrain import read_terrain
from blankspot.terrain import Terrain

__all__ = ["TerrainSource", "terrain_source_on_grid"]

_READ_LOCK = threading.Lock()
"""One window read at a time per process: ``warnings.catch_warnings``, used here and inside
rasterio's ``reproject``, swaps process-wide state and is unsafe in concurrent threads."""


@dataclass(frozen=True)
class TerrainSource:
    """Where workers read terrain: DEM files plus the analysis CRS and cell size.

    Small and picklable: this, not an elevation array, is what a task carries. Each task
    reads only its window with :func:`blankspot.io.read_terrain`.

    Attributes
    ----------
    paths
        GeoTIFF / COG / VRT / SRTM ``.hgt`` paths as GDAL opens them (``/vsicurl/`` URLs too),
        readable under the same names by the caller and every worker. A UTM GeoTIFF or COG on
        the analysis grid reads fastest (no warping), and is bit-for-bit what a
        :class:`~blankspot.terrain.Terrain` of the same file holds.
    crs
        Analysis CRS, projected in metres (e.g. ``"EPSG:32750"``).
    res_m
        Cell size in metres.
    resampling
        Resampling when the files are on another grid (a rasterio ``Resampling`` name).
    checksum
        Identify the files in cache keys by the SHA-256 of their content (default; computed
        once per file and process), or, with False, by (path, size, modification time) only.

    Examples
    --------
    >>> src = TerrainSource("dem_utm50s.tif", crs="EPSG:32750", res_m=30.0)  # doctest: +SKIP
    >>> grid = src.grid()                                                     # doctest: +SKIP
    """

    paths: tuple[str, ...]
    crs: CRS
    res_m: float
    resampling: str = "bilinear"
    checksum: bool = True

    def __post_init__(self) -> None:
        # the field says what it holds after this; callers may also pass one path or PathLikes
        given: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] = self.paths
        listed = (given,) if isinstance(given, (str, os.PathLike)) else given
        paths = tuple(os.fspath(p) for p in listed)
        problems: list[str] = []
        if not paths:
            problems.append("paths is empty; give the DEM file(s) workers read.")
        crs = as_crs(self.crs)
        if not crs.is_projected:
            problems.append(
                f"crs {crs.to_string()} is not projected; the analysis CRS must be in metres, "
                "e.g. crs='EPSG:32750' (UTM 50S, Paser)."
            )
        try:
            res_m = _positive(self.res_m, "res_m")
        except UnitsError as exc:
            problems.append(str(exc))
            res_m = math.nan
        from rasterio.enums import Resampling

        if str(self.resampling) not in Resampling.__members__:
            problems.append(
                f"resampling must be a rasterio Resampling name such as 'bilinear' or "
                f"'nearest'; received {self.resampling!r}."
            )
        if problems:
            raise UnitsError(format_problems("TerrainSource", problems))
        require_metric(crs, "the terrain source's analysis CRS")
        object.__setattr__(self, "paths", paths)
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "res_m", res_m)
        object.__setattr__(self, "resampling", str(self.resampling))
        object.__setattr__(self, "checksum", bool(self.checksum))

    def grid(self, bounds: Sequence[float] | None = None, *, bounds_crs: Any = None) -> Grid:
        """The analysis grid over ``bounds`` (in ``bounds_crs``, default the source CRS), or
        over the files' whole extent; nothing but metadata is read."""
        if bounds is None:
            import rasterio
            from rasterio.warp import transform_bounds

            boxes = []
            dst = self.crs.to_wkt()
            for p in self.paths:
                with rasterio.open(p) as src:
                    boxes.append(transform_bounds(src.crs, dst, *src.bounds, densify_pts=21))
            bounds = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            bounds_crs = None
        return Grid.from_bounds(bounds, crs=self.crs, res_m=self.res_m, bounds_crs=bounds_crs)

    def fingerprint(self) -> list[list[Any]]:
        """The files as identified in cache keys (:func:`blankspot.cache.file_fingerprint`)."""
        return _cache.file_fingerprint(self.paths, checksum=self.checksum)

    def content_key(self) -> str:
        """The terrain part of a footprint's cache key: the files' content and the resampling."""
        return _cache.input_key({"files": self.fingerprint(), "resampling": self.resampling})

    def read_window(self, grid: Grid, row_off: int, col_off: int, rows: int, cols: int) -> Any:
        """The terrain of a window of ``grid``, checked to lie exactly on it.

        Cells without elevation in the window (sea, voids, the DEM's edge) come back in the
        terrain's ``nodata_mask``; the warning :func:`~blankspot.io.read_terrain` gives for
        them is not repeated for every site. Reads within one process take turns (warning
        filters are process-wide state); the computing after them runs in parallel.

        Raises
        ------
        CRSError
            The cells read do not lie on ``grid`` (another CRS, cell size or origin).
        """
        res = grid.res_m
        t = grid.window_transform(row_off, col_off)
        bounds = (t.c, t.f - rows * res, t.c + cols * res, t.f)
        with _READ_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", BlankspotWarning)
            terrain = read_terrain(
                list(self.paths),
                bounds=bounds,
                bounds_crs=grid.crs,
                crs=grid.crs,
                res_m=res,
                resampling=self.resampling,
            )
        got = terrain.transform
        if (
            terrain.crs != grid.crs
            or terrain.shape != (rows, cols)
            or abs(got.a - res) > _ALIGN_TOL_CELLS * res
            or abs(got.c - t.c) > _ALIGN_TOL_CELLS * res
            or abs(got.f - t.f) > _ALIGN_TOL_CELLS * res
        ):
            raise CRSError(
                f"the window read from {', '.join(self.paths)} does not lie on the analysis "
                f"grid {grid.grid_id}: expected {rows}x{cols} cells from x={t.c!r}, y={t.f!r} "
                f"at {res:g} m in {grid.crs.to_string()}, received {terrain.shape[0]}x"
                f"{terrain.shape[1]} cells from x={got.c!r}, y={got.f!r} at {got.a:g} m in "
                f"{terrain.crs.to_string()}. Build the grid with TerrainSource.grid() or "
                "Grid.from_bounds() so its origin is a multiple of the cell size."
            )
        return replace(terrain, transform=t)


def terrain_source_on_grid(terrain: Terrain, folder: str | os.PathLike[str] | None = None
                           ) -> TerrainSource:
    """Write ``terrain`` once as a GeoTIFF on its own grid and describe it for workers.

    Workers then read their windows without warping, so each window is bit for bit the same
    cells as ``terrain`` and a distributed run gives exactly the single-process result. The file
    is named by the terrain's content (:func:`blankspot.footprints.terrain_key`), so another DEM
    on the same grid never reuses it. It goes to ``folder`` (e.g. the cache directory, which
    workers on other machines must also reach) or a temporary folder on this machine, which the
    caller removes (see :func:`blankspot.plan.plan`).
    """
    where = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="blankspot-terrain-"))
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"terrain-{terrain_key(terrain)[:24]}.tif"
    if not path.exists():
        write_raster(path, terrain.elevation_m.astype(np.float32), transform=terrain.transform,
                     crs=terrain.crs, nodata=np.nan, description="elevation, m")
    return TerrainSource(paths=(str(path),), crs=terrain.crs, res_m=terrain.res_m)
