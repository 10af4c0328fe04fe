"""Coverage past one machine: per-site footprints computed where the terrain is read.

:func:`compute_coverage` needs the whole DEM in one process. Here each site is one task that
reads only the terrain it needs (the site ± the model radius) from the DEM files, computes its
footprint with :func:`blankspot.coverage.site_footprint` and returns a compact
:class:`SparseFootprint`, or, for :func:`coverage_matrix_distributed`, only the indices of the
demand cells it covers. No DEM array is pickled or shipped; a task carries a
:class:`TerrainSource` (file paths, analysis CRS and cell size), the :class:`Grid` and one
site.

The per-site function (:func:`sparse_site_footprint`) is pure, and the same function runs on
every engine, so the engines give bit-for-bit the same footprints:

- ``scheduler=None`` (default): a ``dask.distributed.LocalCluster`` of ``n_workers`` processes
  (default: one per CPU core), one thread each, created and closed for the call
  (:func:`local_cluster` makes the same cluster to keep across calls);
- ``scheduler="tcp://HOST:PORT"``: a running dask scheduler (``dask scheduler`` and
  ``dask worker`` started on the machines);
- ``client=``: a ``dask.distributed.Client`` the caller already holds (used through
  ``client.get_executor()``; it is not closed);
- ``scheduler="threads"``: a ``ThreadPoolExecutor`` of ``n_workers`` threads in this process,
  no dask needed. Window reads take turns within a process (warning filters, which rasterio
  and this module set around a read, are process-wide), so on many cores prefer processes.

dask is an optional extra: ``pip install 'blankspot[dask]'``.

One grid for every window
-------------------------
The analysis grid (CRS, transform, shape) is fixed before any task runs, with origin and cell
size on multiples of the cell size, as :func:`blankspot.io.read_terrain` snaps its windows.
Each task asks :func:`~blankspot.io.read_terrain` for the bounds of its window of that grid and
checks that the cells come back exactly there (:class:`~blankspot.errors.CRSError` otherwise),
so windows read on different machines align. Every site runs on the window
:func:`blankspot.coverage.site_window` picks on that grid, here and in
:func:`~blankspot.coverage.compute_coverage` on a grid held in memory, so the window's origin,
and the site's position within it, are the same floats on both paths: footprints are identical
bit for bit, whatever the model, the engine or the number of workers (tested for ``"los"``,
``"itm"`` and ``"p1812"`` with sites off cell centres).

Clutter grids are not cut to windows yet: pass a uniform clutter, or none.

Faults and memory
-----------------
dask reruns the tasks of a worker that dies (the ``LocalCluster`` nanny starts a new worker
process); as tasks are pure, the rerun gives the same result. Results are streamed back as they
complete, with at most a few tasks per worker thread in flight, so memory does not grow with
the number of sites: a worker thread holds one terrain window, its viewshed and one footprint at
a time, about 30 bytes per window cell (``(2 radius_m / res_m)**2`` cells: 120 MB at 30 km on
a 30 m grid), plus GDAL's block cache (``GDAL_CACHEMAX``, by default 5 % of the machine's memory
per process) and the process itself (about 330 MB with numba, rasterio and dask loaded).
Measured on the Paser demo DEM at 30 km (``benchmarks/bench_scaling.py``): a peak of 450-460 MB
per worker over 50 sites and 495-500 MB over 500. Worker processes should run with
:data:`WORKER_MALLOC_ENV` (:func:`local_cluster` sets it): dask's default malloc setting makes
each site fault its window's memory in afresh, a third slower.

Caching
-------
With ``cache_dir=`` every footprint is stored under a hash of its inputs
(:mod:`blankspot.cache`) by the worker that computed it; tasks whose footprint is stored read it
instead of computing it, so a rerun computes nothing and an interrupted run resumes.
"""

from __future__ import annotations

import math
import os
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from blankspot import cache as _cache
from blankspot.coverage import WINDOW_MARGIN_CELLS
from blankspot.crs import as_crs, require_metric, require_same
from blankspot.errors import (
    BlankspotWarning,
    CRSError,
    SchemaError,
    UnitsError,
    format_problems,
)

__all__ = [
    "DASK_INSTALL_HINT",
    "WORKER_MALLOC_ENV",
    "DemandIndex",
    "Grid",
    "SparseFootprint",
    "TerrainSource",
    "compute_footprints",
    "coverage_matrix_distributed",
    "local_cluster",
    "sparse_site_footprint",
]

DASK_INSTALL_HINT = "pip install 'blankspot[dask]'"


FOOTPRINT_FORMAT = 1
"""Version of the :class:`SparseFootprint` layout, part of every cache key."""

_ALIGN_TOL_CELLS = 1e-6
_READ_LOCK = threading.Lock()
"""One window read at a time per process: ``warnings.catch_warnings``, used here and inside
rasterio's ``reproject``, swaps process-wide state and is unsafe in concurrent threads."""
_SCHEDULER_PREFIXES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")


def _version() -> str:
    from blankspot import __version__

    return __version__


# --- the analysis grid ---------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """The analysis grid every window and footprint refers to.

    Attributes
    ----------
    crs
        Projected CRS in metres.
    transform
        North-up transform of square cells whose origin lies on a multiple of the cell size
        (as :func:`blankspot.io.read_terrain` snaps its grids).
    shape
        (rows, cols).
    grid_id
        Short hash of CRS, transform and shape; footprints carry it, so footprints from
        another grid are refused rather than misplaced.

    Examples
    --------
    >>> g = Grid.from_bounds((480_000, 9_798_000, 481_000, 9_800_000), crs="EPSG:32750",
    ...                      res_m=30.0)
    >>> g.shape, g.transform.c, g.transform.f
    ((67, 34), 480000.0, 9800010.0)
    """

    crs: CRS
    transform: Affine
    shape: tuple[int, int]
    grid_id: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        crs = require_metric(as_crs(self.crs), "the analysis grid")
        t = Affine(*tuple(self.transform)[:6])
        problems: list[str] = []
        if t.b != 0 or t.d != 0 or not t.a > 0 or not math.isclose(t.a, -t.e, rel_tol=1e-9):
            problems.append(
                f"the grid must be north-up with square cells; received transform {tuple(t)[:6]}."
            )
        else:
            for name, origin in (("x", t.c), ("y", t.f)):
                k = origin / t.a
                if abs(k - round(k)) > _ALIGN_TOL_CELLS:
                    problems.append(
                        f"the grid's {name} origin {origin!r} is not a multiple of its cell size "
                        f"{t.a:g} m; read_terrain() snaps windows to multiples of the cell size, "
                        "so windows could not align with it. Build the grid with "
                        "Grid.from_bounds() or TerrainSource.grid()."
                    )
        try:
            shape = tuple(int(v) for v in self.shape)
        except (TypeError, ValueError):
            shape = ()
        if len(shape) != 2 or min(shape) < 1:
            problems.append(f"shape must be (rows, cols), both >= 1; received {self.shape!r}.")
        if problems:
            raise CRSError(format_problems("Grid", problems))
        object.__setattr__(self, "crs", crs)
        object.__setattr__(self, "transform", t)
        object.__setattr__(self, "shape", shape)
        key = _cache.input_key(
            {"crs": crs.to_wkt(), "transform": list(tuple(t)[:6]), "shape": list(shape)}
        )
        object.__setattr__(self, "grid_id", key[:16])

    @classmethod
    def from_terrain(cls, terrain: Any) -> Grid:
        """The grid of a :class:`~blankspot.terrain.Terrain`."""
        return cls(crs=terrain.crs, transform=terrain.transform, shape=terrain.shape)

    @classmethod
    def from_bounds(
        cls, bounds: Sequence[float], *, crs: Any, res_m: float, bounds_crs: Any = None
    ) -> Grid:
        """The grid :func:`~blankspot.io.read_terrain` reads for ``bounds``.

        ``bounds`` (xmin, ymin, xmax, ymax) in ``bounds_crs`` (default ``crs``), grown outward
        to multiples of ``res_m`` in ``crs``.
        """
        dst = require_metric(as_crs(crs), "the analysis grid")
        res_m = _positive(res_m, "res_m")
        b_crs = dst if bounds_crs is None else as_crs(bounds_crs)
        b = tuple(float(v) for v in bounds)
        if len(b) != 4 or not (b[0] < b[2] and b[1] < b[3]):
            raise UnitsError(f"bounds must be (xmin, ymin, xmax, ymax); received {bounds!r}.")
        if b_crs != dst:
            from rasterio.crs import CRS as RioCRS
            from rasterio.warp import transform_bounds

            b = transform_bounds(
                RioCRS.from_wkt(b_crs.to_wkt()), RioCRS.from_wkt(dst.to_wkt()), *b, densify_pts=21
            )
        x0 = math.floor(b[0] / res_m + 1e-9) * res_m
        y0 = math.floor(b[1] / res_m + 1e-9) * res_m
        x1 = math.ceil(b[2] / res_m - 1e-9) * res_m
        y1 = math.ceil(b[3] / res_m - 1e-9) * res_m
        shape = (round((y1 - y0) / res_m), round((x1 - x0) / res_m))
        return cls(crs=dst, transform=Affine(res_m, 0.0, x0, 0.0, -res_m, y1), shape=shape)

    def __repr__(self) -> str:
        rows, cols = self.shape
        return (
            f"Grid({rows}x{cols} cells of {self.res_m:g} m, {self.crs.to_string()}, origin "
            f"x={self.transform.c!r}, y={self.transform.f!r}, grid_id={self.grid_id!r})"
        )

    @property
    def res_m(self) -> float:
        """Cell size in metres."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the grid CRS."""
        t = self.transform
        rows, cols = self.shape
        return (t.c, t.f + rows * t.e, t.c + cols * t.a, t.f)

    def rowcol(self, x_m: Any, y_m: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fractional (row, col) of map coordinates; cell centres land on integers."""
        t = self.transform
        col = (np.asarray(x_m, dtype=float) - t.c) / t.a - 0.5
        row = (np.asarray(y_m, dtype=float) - t.f) / t.e - 0.5
        return row, col

    def window_transform(self, row_off: int, col_off: int) -> Affine:
        """Transform of the window whose first cell is (``row_off``, ``col_off``)."""
        return self.transform @ Affine.translation(col_off, row_off)

    def window_around(
        self, x_m: float, y_m: float, radius_m: float, *, margin_cells: int = WINDOW_MARGIN_CELLS
    ) -> tuple[int, int, int, int]:
        """(row_off, col_off, rows, cols): cells within ``radius_m`` of a point, plus a margin,
        clipped to the grid."""
        from blankspot.coverage import site_window

        r0, c0, rows, cols = site_window(
            self.shape, self.transform, x_m, y_m, radius_m, margin_cells=margin_cells
        )
        if rows <= 0 or cols <= 0:
            xmin, ymin, xmax, ymax = self.bounds
            raise UnitsError(
                f"point x_m={x_m:.1f}, y_m={y_m:.1f} and its {radius_m:g} m radius miss the "
                f"grid (x {xmin:.1f}..{xmax:.1f}, y {ymin:.1f}..{ymax:.1f})."
            )
        return r0, c0, rows, cols


def _positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v > 0):
        raise UnitsError(f"{name} must be a finite number > 0; received {value!r}.")
    return v


# --- where workers read terrain ------------------------------------------------------------


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
        Identify the files in cache keys by SHA-256 of their content instead of (path, size,
        modification time).

    Examples
    --------
    >>> src = TerrainSource("dem_utm50s.tif", crs="EPSG:32750", res_m=30.0)  # doctest: +SKIP
    >>> grid = src.grid()                                                     # doctest: +SKIP
    """

    paths: tuple[str, ...]
    crs: CRS
    res_m: float
    resampling: str = "bilinear"
    checksum: bool = False

    def __post_init__(self) -> None:
        paths = self.paths
        if isinstance(paths, (str, os.PathLike)):
            paths = (paths,)
        paths = tuple(os.fspath(p) for p in paths)
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
        from blankspot.io.terrain import read_terrain

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


# --- compact footprints --------------------------------------------------------------------


def _ro(a: np.ndarray) -> np.ndarray:
    a = a.view()
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class SparseFootprint:
    """One site's path loss on the cells that have it, as runs along grid rows.

    The cells kept are those with a finite path loss at most ``max_path_loss_db`` (every finite
    one when it is None). Along each grid row they form runs of consecutive columns; run ``k``
    covers row ``run_rows[k]``, columns ``run_cols[k]`` to ``run_cols[k] + run_lengths[k] - 1``,
    and ``path_loss_db`` holds the cells' values run after run (row-major order).

    Size: 4 bytes per cell plus 12 per run (:attr:`nbytes`), against 4 per cell of the dense
    window, NaNs included, in a :class:`~blankspot.coverage.Footprint`: a line-of-sight
    footprint of 30 km on a 30 m grid over hills takes 1-4 MB. :attr:`rows` and :attr:`cols`
    give every cell's grid position (int32) when needed.

    Attributes
    ----------
    site_id
        The site's id.
    grid_id
        :attr:`Grid.grid_id` of the grid the rows and columns refer to.
    run_rows, run_cols, run_lengths
        int32 per run: grid row, first grid column, number of cells (>= 1).
    path_loss_db
        float32 per cell, dB.
    max_path_loss_db
        The cap applied when the footprint was made, or None.
    """

    site_id: str
    grid_id: str
    run_rows: np.ndarray
    run_cols: np.ndarray
    run_lengths: np.ndarray
    path_loss_db: np.ndarray
    max_path_loss_db: float | None = None

    def __post_init__(self) -> None:
        rr = np.asarray(self.run_rows, dtype=np.int32).ravel()
        rc = np.asarray(self.run_cols, dtype=np.int32).ravel()
        rl = np.asarray(self.run_lengths, dtype=np.int32).ravel()
        loss = np.asarray(self.path_loss_db, dtype=np.float32).ravel()
        problems = []
        if not (rr.size == rc.size == rl.size):
            problems.append(
                f"run_rows, run_cols and run_lengths differ in length ({rr.size}, {rc.size}, "
                f"{rl.size})."
            )
        elif int(rl.sum(dtype=np.int64)) != loss.size or (rl.size and rl.min() < 1):
            problems.append(
                f"run_lengths must be >= 1 and add up to the {loss.size} path-loss values; they "
                f"add up to {int(rl.sum(dtype=np.int64))}."
            )
        if problems:
            raise SchemaError(format_problems(f"SparseFootprint {self.site_id!r}", problems))
        cap = self.max_path_loss_db
        object.__setattr__(self, "site_id", str(self.site_id))
        object.__setattr__(self, "grid_id", str(self.grid_id))
        object.__setattr__(self, "run_rows", _ro(rr))
        object.__setattr__(self, "run_cols", _ro(rc))
        object.__setattr__(self, "run_lengths", _ro(rl))
        object.__setattr__(self, "path_loss_db", _ro(loss))
        object.__setattr__(self, "max_path_loss_db", None if cap is None else float(cap))

    # construction ---------------------------------------------------------------------------
    @classmethod
    def from_footprint(
        cls,
        footprint: Any,
        grid_id: str,
        *,
        offset: tuple[int, int] = (0, 0),
        max_path_loss_db: float | None = None,
    ) -> SparseFootprint:
        """Keep the cells of a :class:`~blankspot.coverage.Footprint` with finite path loss
        (at most ``max_path_loss_db``).

        ``offset`` (rows, cols) is added to the footprint's ``row_off``/``col_off``: the
        position of the terrain window it was computed on within the grid ``grid_id``.
        """
        loss = np.asarray(footprint.path_loss_db, dtype=np.float32)
        keep = np.isfinite(loss)
        if max_path_loss_db is not None:
            keep &= loss <= np.float32(max_path_loss_db)
        h, w = keep.shape
        edges = np.zeros((h, w + 2), dtype=np.int8)
        edges[:, 1:-1] = keep
        step = np.diff(edges, axis=1)
        start_r, start_c = np.nonzero(step == 1)
        _, end_c = np.nonzero(step == -1)
        r0 = int(footprint.row_off) + int(offset[0])
        c0 = int(footprint.col_off) + int(offset[1])
        return cls(
            site_id=footprint.site_id,
            grid_id=grid_id,
            run_rows=start_r + r0,
            run_cols=start_c + c0,
            run_lengths=end_c - start_c,
            path_loss_db=loss[keep],
            max_path_loss_db=max_path_loss_db,
        )

    # views ----------------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        """Number of cells kept."""
        return int(self.path_loss_db.size)

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.run_lengths.size)

    @property
    def nbytes(self) -> int:
        """Bytes of array data: 4 per cell plus 12 per run."""
        return int(
            self.path_loss_db.nbytes
            + self.run_rows.nbytes
            + self.run_cols.nbytes
            + self.run_lengths.nbytes
        )

    def _run_starts(self) -> np.ndarray:
        """Index in :attr:`path_loss_db` of each run's first cell."""
        return np.cumsum(self.run_lengths, dtype=np.int64) - self.run_lengths

    @property
    def rows(self) -> np.ndarray:
        """int32 grid row of every cell, aligned with :attr:`path_loss_db`."""
        return np.repeat(self.run_rows, self.run_lengths)

    @property
    def cols(self) -> np.ndarray:
        """int32 grid column of every cell, aligned with :attr:`path_loss_db`."""
        within = np.arange(self.n_cells, dtype=np.int64) - np.repeat(
            self._run_starts(), self.run_lengths
        )
        return (np.repeat(self.run_cols, self.run_lengths) + within).astype(np.int32)

    def to_footprint(self) -> Any:
        """The dense :class:`~blankspot.coverage.Footprint` on the smallest window holding
        every kept cell (NaN elsewhere); without a cap, exactly the footprint it came from."""
        from blankspot.coverage import Footprint

        if self.n_cells == 0:
            raise UnitsError(
                f"footprint {self.site_id!r} keeps no cell (cap {self.max_path_loss_db} dB), so "
                "it has no window; a Footprint always holds at least the site's own cell."
            )
        rows, cols = self.rows, self.cols
        r0, c0 = int(rows.min()), int(cols.min())
        h, w = int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1
        loss = np.full((h, w), np.nan, dtype=np.float32)
        loss[rows - r0, cols - c0] = self.path_loss_db
        return Footprint(site_id=self.site_id, row_off=r0, col_off=c0, path_loss_db=loss)

    def capped(self, max_path_loss_db: float | None) -> SparseFootprint:
        """The cells with path loss at most ``max_path_loss_db`` (self when None or no
        tighter than the cap already applied)."""
        if max_path_loss_db is None or (
            self.max_path_loss_db is not None and max_path_loss_db >= self.max_path_loss_db
        ):
            return self
        keep = self.path_loss_db <= np.float32(max_path_loss_db)
        # split runs where cells drop out: rebuild runs over kept cells of consecutive columns
        rows, cols = self.rows[keep], self.cols[keep]
        new_run = np.ones(rows.size, dtype=bool)
        if rows.size > 1:
            new_run[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1] + 1)
        starts = np.flatnonzero(new_run)
        lengths = np.diff(np.append(starts, rows.size))
        return SparseFootprint(
            site_id=self.site_id,
            grid_id=self.grid_id,
            run_rows=rows[starts],
            run_cols=cols[starts],
            run_lengths=lengths,
            path_loss_db=self.path_loss_db[keep],
            max_path_loss_db=float(max_path_loss_db),
        )

    def column(self, demand: DemandIndex, *, max_path_loss_db: float | None = None) -> np.ndarray:
        """Coverage-matrix column: sorted int32 indices of the demand cells this site covers.

        A demand cell is covered when its grid cell is kept with path loss at most
        ``max_path_loss_db`` (every kept cell when None), the rule of
        :func:`blankspot.aggregate.build_coverage_matrix`.

        Raises
        ------
        CRSError
            ``demand`` was indexed on another grid.
        """
        if demand.grid_id != self.grid_id:
            raise CRSError(
                f"footprint {self.site_id!r} is on grid {self.grid_id} but the demand cells were "
                f"indexed on grid {demand.grid_id}; build DemandIndex.from_cells() with the grid "
                "the footprints were computed on."
            )
        pixel = demand.pixel
        if self.n_runs == 0 or pixel.size == 0:
            return np.zeros(0, dtype=np.int32)
        p0 = self.run_rows.astype(np.int64) * demand.n_cols + self.run_cols
        lo = np.searchsorted(pixel, p0, side="left")
        hi = np.searchsorted(pixel, p0 + self.run_lengths, side="left")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int32)
        # positions lo[k] .. hi[k]-1 for every run k, concatenated without a Python loop
        run = np.repeat(np.arange(self.n_runs), counts)
        pos = lo[run] + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
        values = self.path_loss_db[self._run_starts()[run] + (pixel[pos] - p0[run])]
        hit = (
            np.ones(total, dtype=bool) if max_path_loss_db is None else (values <= max_path_loss_db)
        )
        return np.sort(demand.cell[pos[hit]]).astype(np.int32)

    # storage --------------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for an ``.npz`` (see :meth:`from_arrays`)."""
        return {
            "format": np.int32(FOOTPRINT_FORMAT),
            "site_id": np.str_(self.site_id),
            "grid_id": np.str_(self.grid_id),
            "run_rows": self.run_rows,
            "run_cols": self.run_cols,
            "run_lengths": self.run_lengths,
            "path_loss_db": self.path_loss_db,
            "max_path_loss_db": np.float64(
                np.nan if self.max_path_loss_db is None else self.max_path_loss_db
            ),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SparseFootprint:
        """Inverse of :meth:`to_arrays`."""
        if int(arrays["format"]) != FOOTPRINT_FORMAT:
            raise SchemaError(
                f"footprint arrays are in format {int(arrays['format'])}; this blankspot reads "
                f"format {FOOTPRINT_FORMAT}."
            )
        cap = float(arrays["max_path_loss_db"])
        return cls(
            site_id=str(arrays["site_id"]),
            grid_id=str(arrays["grid_id"]),
            run_rows=arrays["run_rows"],
            run_cols=arrays["run_cols"],
            run_lengths=arrays["run_lengths"],
            path_loss_db=arrays["path_loss_db"],
            max_path_loss_db=None if math.isnan(cap) else cap,
        )

    def __repr__(self) -> str:
        return (
            f"SparseFootprint({self.site_id!r}, grid {self.grid_id}, {self.n_cells} cells in "
            f"{self.n_runs} runs, {self.nbytes / 1e6:.2f} MB, cap {self.max_path_loss_db})"
        )


@dataclass(frozen=True, eq=False)
class DemandIndex:
    """Demand cells placed on the analysis grid, sorted by grid cell for fast column lookups.

    Attributes
    ----------
    grid_id, n_cols
        The grid's id and width.
    n_cells
        Number of demand cells indexed (rows of the coverage matrix).
    pixel
        int64 ``row * n_cols + col`` of every demand cell inside the grid, sorted.
    cell
        int32 position of each of those cells in the input order, aligned with ``pixel``.
    """

    grid_id: str
    n_cols: int
    n_cells: int
    pixel: np.ndarray
    cell: np.ndarray

    @classmethod
    def from_rowcol(cls, rows: Any, cols: Any, grid: Grid) -> DemandIndex:
        """From integer grid rows and columns, one per demand cell (cells off the grid are
        never covered)."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        cols = np.asarray(cols, dtype=np.int64).ravel()
        if rows.shape != cols.shape:
            raise UnitsError(f"rows and cols differ in length ({rows.size} and {cols.size}).")
        n_rows, n_cols = grid.shape
        inside = np.flatnonzero((rows >= 0) & (rows < n_rows) & (cols >= 0) & (cols < n_cols))
        pixel = rows[inside] * n_cols + cols[inside]
        order = np.argsort(pixel, kind="stable")
        return cls(
            grid_id=grid.grid_id,
            n_cols=int(n_cols),
            n_cells=int(rows.size),
            pixel=_ro(pixel[order]),
            cell=_ro(inside[order].astype(np.int32)),
        )

    @classmethod
    def from_cells(cls, demand_cells: Any, grid: Grid) -> DemandIndex:
        """From a GeoDataFrame of Point demand cells in the grid's CRS: each point's grid cell
        is ``floor((x - c) / a)``, ``floor((y - f) / e)``, as in
        :func:`blankspot.aggregate.build_coverage_matrix`."""
        import shapely

        if getattr(demand_cells, "crs", None) is None:
            raise CRSError(
                "demand_cells has no CRS; it must be a GeoDataFrame in the grid's CRS "
                f"({grid.crs.to_string()})."
            )
        require_same(demand_cells.crs, grid.crs, "demand cells", "the analysis grid")
        geoms = np.asarray(demand_cells.geometry.array, dtype=object)
        bad = np.flatnonzero((shapely.get_type_id(geoms) != 0) | shapely.is_empty(geoms))
        if bad.size:
            shown = ", ".join(repr(v) for v in demand_cells.index[bad][:5])
            raise SchemaError(
                f"demand_cells must hold non-empty Point geometries; {bad.size} do not (index "
                f"{shown}). Use cell centres, e.g. .representative_point()."
            )
        t = grid.transform
        col = np.floor((shapely.get_x(geoms) - t.c) / t.a)
        row = np.floor((shapely.get_y(geoms) - t.f) / t.e)
        return cls.from_rowcol(row.astype(np.int64), col.astype(np.int64), grid)


# --- the per-site function -----------------------------------------------------------------


def sparse_site_footprint(
    terrain_source: TerrainSource,
    grid: Grid,
    site_id: str,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    *,
    model: str = "los",
    radius_m: float = 30_000.0,
    max_path_loss_db: float | None = None,
    **model_options: Any,
) -> SparseFootprint:
    """One site's footprint, reading only the terrain it needs (pure; the unit of work).

    Reads the window of ``grid`` within ``radius_m`` (plus :data:`WINDOW_MARGIN_CELLS`) of the
    site from ``terrain_source``, runs :func:`blankspot.coverage.site_footprint` on it with
    ``model``, ``radius_m`` and ``model_options`` (``freq_mhz``, ``rx_height_agl_m``,
    ``k_factor``, the site's ``antenna``, and whatever else the model takes), and keeps the
    cells with path loss at most ``max_path_loss_db``.

    Returns
    -------
    SparseFootprint
        Rows and columns of ``grid``.
    """
    from blankspot.coverage import site_footprint

    r0, c0, rows, cols = grid.window_around(x_m, y_m, radius_m)
    terrain = terrain_source.read_window(grid, r0, c0, rows, cols)
    fp = site_footprint(
        terrain,
        site_id,
        x_m,
        y_m,
        height_agl_m,
        model=model,
        radius_m=radius_m,
        **model_options,
    )
    return SparseFootprint.from_footprint(
        fp, grid.grid_id, offset=(r0, c0), max_path_loss_db=max_path_loss_db
    )


@dataclass(frozen=True)
class _SiteTask:
    """Everything one task needs: small and picklable."""

    source: TerrainSource
    grid: Grid
    site_id: str
    x_m: float
    y_m: float
    height_agl_m: float
    model: str
    radius_m: float
    options: tuple[tuple[str, Any], ...]
    max_path_loss_db: float | None
    cache_dir: str | None
    key: str | None
    antenna: Any = None


def _cached(task: _SiteTask) -> SparseFootprint | None:
    arrays = _cache.read_entry(task.cache_dir, task.key)
    if arrays is None:
        return None
    try:
        fp = SparseFootprint.from_arrays(arrays)
    except (KeyError, ValueError, SchemaError):
        return None
    stored, wanted = fp.max_path_loss_db, task.max_path_loss_db
    if stored is not None and (wanted is None or wanted > stored):
        return None  # stored with a tighter cap than this request needs
    return replace(fp.capped(wanted), site_id=task.site_id)


def _run_task(task: _SiteTask, demand: DemandIndex | None = None) -> Any:
    """The task run on a worker: cached or computed footprint, or its matrix column."""
    fp = _cached(task) if task.cache_dir is not None else None
    if fp is None:
        fp = sparse_site_footprint(
            task.source,
            task.grid,
            task.site_id,
            task.x_m,
            task.y_m,
            task.height_agl_m,
            model=task.model,
            radius_m=task.radius_m,
            max_path_loss_db=task.max_path_loss_db,
            **dict(task.options),
            **({} if task.antenna is None else {"antenna": task.antenna}),
        )
        if task.cache_dir is not None:
            _cache.write_entry(task.cache_dir, task.key, fp.to_arrays())
    if demand is None:
        return fp
    return fp.column(demand, max_path_loss_db=task.max_path_loss_db)


# --- engines -------------------------------------------------------------------------------


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running on a dask cluster needs dask.distributed, an optional dependency of "
            f"blankspot: {DASK_INSTALL_HINT}. On one machine without dask, pass "
            "scheduler='threads'."
        ) from exc
    return distributed


WORKER_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "33554432"}
"""glibc malloc settings for worker processes (set before they start).

dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` by default, which hands every freed terrain
window back to the kernel, so the next site faults its pages in again: on a 30 km site that is
about ten times the page faults and a third more time. These settings keep windows (up to
32 MiB each) in the heap for reuse and return free memory above 256 MiB. For workers started
with ``dask worker``, put them under ``distributed.nanny.pre-spawn-environ`` in the dask
configuration file."""


def local_cluster(n_workers: int | None = None, **cluster_kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` set up for footprints, to reuse across calls.

    ``n_workers`` processes (default one per CPU core) of one thread each, the dashboard on a
    free port and :data:`WORKER_MALLOC_ENV`; ``cluster_kwargs`` override any of these. Close
    it when done (``with local_cluster() as cluster, Client(cluster) as client: ...``).

    Raises
    ------
    ImportError
        dask.distributed is not installed (``pip install 'blankspot[dask]'``).
    """
    dd = _require_distributed()
    import dask

    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise UnitsError(f"n_workers must be None or a whole number >= 1; received {n_workers!r}.")
    kwargs = {
        "n_workers": n_workers or os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": ":0",
        **cluster_kwargs,
    }
    environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC_ENV.items()}
    with dask.config.set(environ):
        return dd.LocalCluster(**kwargs)


@dataclass
class _Engine:
    executor: Executor
    slots: Callable[[], int]
    client: Any = None


@contextmanager
def _engine(client: Any, scheduler: str | None, n_workers: int | None) -> Iterator[_Engine]:
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise UnitsError(f"n_workers must be None or a whole number >= 1; received {n_workers!r}.")
    if client is not None and scheduler is not None:
        raise UnitsError(
            f"pass either client= or scheduler=, not both; received client={client!r} and "
            f"scheduler={scheduler!r}."
        )
    if scheduler == "threads":
        n = n_workers or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="blankspot") as pool:
            yield _Engine(pool, lambda: n)
        return
    if scheduler is not None and not (
        isinstance(scheduler, str) and scheduler.startswith(_SCHEDULER_PREFIXES)
    ):
        raise UnitsError(
            f"scheduler must be None (a LocalCluster for this call), 'threads', or a dask "
            f"scheduler address such as 'tcp://10.0.0.5:8786'; received {scheduler!r}."
        )
    dd = _require_distributed()

    def slots_of(c: Any) -> Callable[[], int]:
        return lambda: max(1, sum(c.nthreads().values()))

    if client is not None:
        yield _Engine(client.get_executor(pure=False), slots_of(client), client)
        return
    if scheduler is not None:
        with dd.Client(scheduler) as c:
            yield _Engine(c.get_executor(pure=False), slots_of(c), c)
        return
    with local_cluster(n_workers) as cluster, dd.Client(cluster) as c:
        yield _Engine(c.get_executor(pure=False), slots_of(c), c)


_IN_FLIGHT_PER_SLOT = 2
_SLOTS_REFRESH = 64


def _stream(
    engine: _Engine, tasks: Sequence[_SiteTask], extra: tuple[Any, ...] = ()
) -> Iterator[tuple[int, Any]]:
    """(site position, result) as tasks complete, with a bounded number in flight."""
    pending: dict[Future, int] = {}
    nxt = 0
    limit = _IN_FLIGHT_PER_SLOT * engine.slots()
    done_count = 0
    try:
        while True:
            while nxt < len(tasks) and len(pending) < limit:
                pending[engine.executor.submit(_run_task, tasks[nxt], *extra)] = nxt
                nxt += 1
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                j = pending.pop(f)
                yield j, f.result()
                done_count += 1
                if done_count % _SLOTS_REFRESH == 0:
                    limit = _IN_FLIGHT_PER_SLOT * engine.slots()
    finally:
        for f in pending:
            f.cancel()


# --- inputs --------------------------------------------------------------------------------


def _check_common(
    terrain_source: Any,
    grid: Any,
    model: str,
    radius_m: Any,
    max_path_loss_db: Any,
) -> float:
    problems: list[str] = []
    if not isinstance(terrain_source, TerrainSource):
        problems.append(
            f"terrain_source must be a TerrainSource (DEM paths + analysis CRS and cell size); "
            f"received {type(terrain_source).__name__}."
        )
    if not isinstance(grid, Grid):
        problems.append(
            f"grid must be a Grid (e.g. terrain_source.grid(bounds)); received "
            f"{type(grid).__name__}."
        )
    if isinstance(terrain_source, TerrainSource) and isinstance(grid, Grid):
        if terrain_source.crs != grid.crs:
            problems.append(
                f"the terrain source reads into {terrain_source.crs.to_string()} but the grid is "
                f"in {grid.crs.to_string()}; build the grid with terrain_source.grid()."
            )
        if not math.isclose(terrain_source.res_m, grid.res_m, rel_tol=1e-9):
            problems.append(
                f"the terrain source reads {terrain_source.res_m:g} m cells but the grid has "
                f"{grid.res_m:g} m cells; build the grid with terrain_source.grid()."
            )
    from blankspot import coverage

    models = getattr(coverage, "MODELS", None)
    if isinstance(models, dict) and model not in models:
        problems.append(
            f"unknown propagation model {model!r}; available: {', '.join(map(repr, models))}."
        )
    try:
        radius = _positive(radius_m, "radius_m")
    except UnitsError as exc:
        problems.append(str(exc))
        radius = math.nan
    if max_path_loss_db is not None:
        try:
            ok = math.isfinite(float(max_path_loss_db))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(
                f"max_path_loss_db must be None or a finite loss in dB; received "
                f"{max_path_loss_db!r}."
            )
    if problems:
        raise UnitsError(format_problems("inputs", problems))
    return radius


def _model_options(
    model: str, model_options: dict[str, Any], max_path_loss_db: float | None
) -> dict[str, Any]:
    """``model_options`` checked for what cannot travel with a window, with the terrain
    models' ``max_loss_db`` defaulting to the cap (cells costlier than it are not computed)."""
    options = dict(model_options)
    clutter = options.get("clutter")
    if isinstance(clutter, np.ndarray) or getattr(clutter, "landcover", None) is not None:
        raise UnitsError(
            "clutter given as a grid (land-cover codes or heights on the terrain grid) cannot be "
            "cut to each site's window here; distributed runs take a uniform clutter "
            "(blankspot.clutter.ClutterModel.uniform(...)) or none."
        )
    from blankspot import coverage

    terrain_models = getattr(coverage, "TERRAIN_MODELS", ())
    if model in terrain_models and max_path_loss_db is not None:
        options.setdefault("max_loss_db", float(max_path_loss_db))
    return options


def _site_table(sites: Any, grid: Grid) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(ids, x, y, heights) of a sites GeoDataFrame, every problem listed at once."""
    import geopandas as gpd

    if not isinstance(sites, gpd.GeoDataFrame):
        raise TypeError(
            f"sites must be a GeoDataFrame indexed by site_id; received {type(sites).__name__}. "
            "Read it with blankspot.io.read_sites()."
        )
    if sites.crs is None:
        raise CRSError(
            "sites have no CRS; blankspot does not guess. Set it with sites.set_crs(...), then "
            f"sites.to_crs({grid.crs.to_string()!r})."
        )
    require_same(sites.crs, grid.crs, "sites", "the analysis grid")
    problems: list[str] = []
    index = sites.index
    bad_ids = [repr(v) for v in index if not isinstance(v, str)]
    if bad_ids:
        problems.append(
            f"site ids (the index) must be strings; received {', '.join(bad_ids[:5])}. Use "
            "sites.index = sites.index.astype(str)."
        )
    dupes = index[index.duplicated()].unique()
    if len(dupes):
        problems.append(f"site ids must be unique; repeated: {', '.join(map(repr, dupes[:5]))}.")
    if "height_agl_m" in sites.columns:
        heights = np.asarray(sites["height_agl_m"], dtype=float)
        bad = ~np.isfinite(heights) | (heights < 0)
        if bad.any():
            problems.append(
                f"height_agl_m must be finite metres above ground, >= 0; {int(bad.sum())} site(s) "
                f"are not: {', '.join(map(repr, index[bad][:5]))}."
            )
    else:
        problems.append(
            "column 'height_agl_m' (antenna height above ground, metres) is missing; columns "
            f"are {list(sites.columns)}."
        )
        heights = np.zeros(len(sites))
    geoms = sites.geometry
    ok = np.array(
        [g is not None and not g.is_empty and g.geom_type == "Point" for g in geoms], dtype=bool
    )
    if not ok.all():
        problems.append(
            f"geometries must be non-empty Points; {int((~ok).sum())} site(s) are not: "
            f"{', '.join(map(repr, index[~ok][:5]))}."
        )
    xs = np.array([g.x if k else np.nan for g, k in zip(geoms, ok, strict=True)], dtype=float)
    ys = np.array([g.y if k else np.nan for g, k in zip(geoms, ok, strict=True)], dtype=float)
    xmin, ymin, xmax, ymax = grid.bounds
    outside = ok & ~((xs >= xmin) & (xs < xmax) & (ys > ymin) & (ys <= ymax))
    if outside.any():
        problems.append(
            f"{int(outside.sum())} site(s) lie outside the grid (x {xmin:.1f}..{xmax:.1f}, y "
            f"{ymin:.1f}..{ymax:.1f} in {grid.crs.to_string()}): "
            f"{', '.join(map(repr, index[outside][:5]))}."
        )
    if problems:
        raise SchemaError(format_problems("sites", problems))
    return [str(v) for v in index], xs, ys, heights


def _tasks(
    terrain_source: TerrainSource,
    sites: Any,
    grid: Grid,
    *,
    model: str,
    radius_m: float,
    max_path_loss_db: float | None,
    cache_dir: Any,
    model_options: dict[str, Any],
) -> tuple[list[str], list[_SiteTask]]:
    from blankspot.coverage import site_antennas

    ids, xs, ys, hs = _site_table(sites, grid)
    model_options = dict(model_options)
    if "antenna" in model_options:
        raise UnitsError(
            "pass antennas as antennas={site_id: antenna} (or the sites table's antenna "
            "columns), not antenna=: each site has its own."
        )
    site_antenna = site_antennas(sites, model_options.pop("antennas", None))
    folder = _cache.resolve_cache_dir(cache_dir)
    options = tuple(sorted(_model_options(model, model_options, max_path_loss_db).items()))
    base: dict[str, Any] | None = None
    if folder is not None:
        base = {
            "what": "sparse footprint",
            "format": FOOTPRINT_FORMAT,
            "blankspot": _version(),
            "terrain": terrain_source.fingerprint(),
            "resampling": terrain_source.resampling,
            "grid": grid.grid_id,
            "window_margin_cells": WINDOW_MARGIN_CELLS,
            "model": model,
            "radius_m": radius_m,
            "options": dict(options),
        }
        _cache.input_key(base)  # fail early on options that cannot enter a key
    tasks = []
    for sid, x, y, h, antenna in zip(ids, xs, ys, hs, site_antenna, strict=True):
        key = None
        if base is not None:
            site = {"x_m": float(x), "y_m": float(y), "height_agl_m": float(h)}
            if antenna is not None:  # every parameter of the pattern; no antenna: keys as before
                site["antenna"] = antenna
            key = _cache.input_key({**base, "site": site})
        tasks.append(
            _SiteTask(
                source=terrain_source,
                grid=grid,
                site_id=sid,
                x_m=float(x),
                y_m=float(y),
                height_agl_m=float(h),
                model=model,
                radius_m=radius_m,
                options=options,
                max_path_loss_db=None if max_path_loss_db is None else float(max_path_loss_db),
                cache_dir=None if folder is None else os.fspath(folder),
                key=key,
                antenna=antenna,
            )
        )
    return ids, tasks


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="site", disable=not enabled)


# --- public entry points -------------------------------------------------------------------


def compute_footprints(
    terrain_source: TerrainSource,
    sites: Any,
    *,
    grid: Grid,
    model: str = "los",
    radius_m: float = 30_000.0,
    max_path_loss_db: float | None = None,
    client: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    progress: bool = False,
    **model_options: Any,
) -> tuple[SparseFootprint, ...]:
    """Footprints of every site, one task per site, on a dask cluster or local threads.

    Parameters
    ----------
    terrain_source
        Where tasks read terrain (:class:`TerrainSource`).
    sites
        GeoDataFrame indexed by ``site_id`` (strings) with Points in the grid's CRS and
        ``height_agl_m`` (see :mod:`blankspot.coverage`).
    grid
        The analysis grid (``terrain_source.grid(bounds)``).
    model, radius_m
        Propagation model and radius, as in :func:`blankspot.coverage.site_footprint`.
    max_path_loss_db
        Keep only cells with path loss at most this (e.g. a budget's ``max_path_loss_db``)
        to ship and store less; None keeps every cell with signal. For the terrain models it
        is also the default ``max_loss_db``, so costlier cells are not computed at all.
    client
        A ``dask.distributed.Client`` to run on (not closed afterwards).
    scheduler
        None: a ``LocalCluster`` of ``n_workers`` processes for this call; ``"threads"``: a
        thread pool in this process (no dask); ``"tcp://HOST:PORT"``: a running scheduler.
    n_workers
        Worker processes of the ``LocalCluster``, or threads with ``scheduler="threads"``;
        default one per CPU core.
    cache_dir
        None: no cache. True: :func:`blankspot.cache.default_cache_dir`. A folder: there.
        Workers read and write it, so it must be reachable from each of them.
    progress
        Show a progress bar.
    **model_options
        Passed to :func:`blankspot.coverage.site_footprint`: ``freq_mhz``,
        ``rx_height_agl_m``, ``k_factor`` and any option of the model; and ``antennas``
        (``{site_id: antenna}``, as in :func:`blankspot.coverage.compute_coverage`), each
        site's antenna travelling with its task and entering its cache key. The sites
        table's antenna columns are read too.

    Returns
    -------
    tuple of SparseFootprint
        In the order of ``sites``.

    Raises
    ------
    ImportError
        dask.distributed is needed (every engine but ``"threads"``) and not installed.
    SchemaError
        Everything wrong with the sites table, at once.
    CRSError
        Sites, grid and terrain source disagree on the CRS, or a window read off the grid.
    UnitsError
        Bad radius, cap, model, engine choice or ``n_workers``.

    Examples
    --------
    >>> fps = compute_footprints(src, sites, grid=grid, radius_m=30_000.0,
    ...                          scheduler="tcp://10.0.0.5:8786")        # doctest: +SKIP
    """
    radius = _check_common(terrain_source, grid, model, radius_m, max_path_loss_db)
    ids, tasks = _tasks(
        terrain_source,
        sites,
        grid,
        model=model,
        radius_m=radius,
        max_path_loss_db=max_path_loss_db,
        cache_dir=cache_dir,
        model_options=model_options,
    )
    out: list[SparseFootprint | None] = [None] * len(ids)
    if not tasks:
        return ()
    with (
        _engine(client, scheduler, n_workers) as engine,
        _bar(len(tasks), "footprints", progress) as bar,
    ):
        for j, fp in _stream(engine, tasks):
            out[j] = fp
            bar.update(1)
    return tuple(out)  # type: ignore[arg-type]


def coverage_matrix_distributed(
    terrain_source: TerrainSource,
    sites: Any,
    demand_cells: Any,
    *,
    grid: Grid,
    budget: Any = None,
    model: str = "los",
    radius_m: float = 30_000.0,
    client: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    progress: bool = False,
    **model_options: Any,
) -> Any:
    """The demand × site coverage matrix, each task returning only its column.

    Like :func:`compute_footprints`, but a task sends back just the indices of the demand
    cells its site covers (path loss within ``budget.max_path_loss_db``), 4 bytes per covered
    cell, and the matrix is assembled as columns arrive. The budget's frequency is the
    model's ``freq_mhz``.

    Parameters
    ----------
    demand_cells
        GeoDataFrame of Point demand cells with ``village_id`` and ``population``, in the
        grid's CRS (:func:`blankspot.demand.demand_cells`).
    budget
        :class:`~blankspot.propagation.LinkBudget`; default ``LinkBudget()``.
    cache_dir
        As in :func:`compute_footprints`; footprints are stored with the budget's MAPL as
        cap, and serve any later budget with the same frequency and a MAPL no higher.

    Other parameters are those of :func:`compute_footprints`.

    Returns
    -------
    blankspot.aggregate.CoverageMatrix
        Rows in the order of ``demand_cells``, columns in the order of ``sites``; equal to
        :func:`blankspot.aggregate.build_coverage_matrix` on the same footprints.
    """
    import pandas as pd
    import scipy.sparse as sp

    from blankspot.aggregate import CoverageMatrix
    from blankspot.propagation.budget import LinkBudget

    budget = LinkBudget() if budget is None else budget
    if not isinstance(budget, LinkBudget):
        raise TypeError(f"budget must be a LinkBudget; received {type(budget).__name__}.")
    if "freq_mhz" in model_options and float(model_options["freq_mhz"]) != budget.freq_mhz:
        raise UnitsError(
            f"freq_mhz={model_options['freq_mhz']!r} differs from the budget's "
            f"{budget.freq_mhz:g} MHz; the budget sets the frequency, leave freq_mhz out."
        )
    model_options["freq_mhz"] = budget.freq_mhz
    cap = float(budget.max_path_loss_db)
    radius = _check_common(terrain_source, grid, model, radius_m, cap)
    missing = [c for c in ("village_id", "population") if c not in demand_cells.columns]
    if missing:
        raise SchemaError(
            f"demand_cells lacks column(s) {missing}; it needs village_id and population "
            "(see blankspot.demand.demand_cells)."
        )
    population = pd.to_numeric(demand_cells["population"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(population) | (population < 0)
    if bad.any():
        raise UnitsError(
            f"population must be finite persons >= 0; {int(bad.sum())} demand cell(s) are not "
            f"(index {', '.join(map(repr, demand_cells.index[bad][:5]))})."
        )
    index = DemandIndex.from_cells(demand_cells, grid)
    ids, tasks = _tasks(
        terrain_source,
        sites,
        grid,
        model=model,
        radius_m=radius,
        max_path_loss_db=cap,
        cache_dir=cache_dir,
        model_options=model_options,
    )
    columns: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(ids)
    if tasks:
        with (
            _engine(client, scheduler, n_workers) as engine,
            _bar(len(tasks), "coverage", progress) as bar,
        ):
            demand_arg: Any = index
            if engine.client is not None:
                [demand_arg] = engine.client.scatter([index], broadcast=True, hash=False)
            for j, col in _stream(engine, tasks, (demand_arg,)):
                columns[j] = col
                bar.update(1)
    lengths = np.array([c.size for c in columns], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
    matrix = sp.csc_array(
        (np.ones(indices.size, dtype=bool), indices, indptr),
        shape=(len(demand_cells), len(ids)),
    )
    demand = pd.DataFrame(
        {"village_id": demand_cells["village_id"].to_numpy(), "population": population},
        index=demand_cells.index.copy(),
    )
    return CoverageMatrix(matrix=matrix, demand=demand, site_ids=tuple(ids), max_path_loss_db=cap)
