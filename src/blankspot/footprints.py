"""Footprints as the engine keeps them: the analysis grid, sparse footprints, demand on the
grid, and the one on-disk store of footprints.

- :class:`Grid`: the analysis grid every window and footprint refers to.
- :class:`SparseFootprint`: one site's path loss on the cells that have it, as runs along rows.
- :class:`DemandIndex`: demand cells placed on the grid, for fast coverage-matrix columns.
- :class:`FootprintStore`: per-site footprints on disk under a key of everything they depend
  on (the terrain's content, the grid, the :class:`~blankspot.settings.CoverageSettings`, the
  site and its antenna). The single-process plan and the dask workers read and write the same
  entries with the same keys, so one cache folder serves both.

The single-process path (:mod:`blankspot.plan`) and the dask engine
(:mod:`blankspot.distributed`) both build on these types.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from pyproj import CRS

from blankspot import cache as _cache
from blankspot._version import __version__
from blankspot.coverage import (
    WINDOW_MARGIN_CELLS,
    CoverageResult,
    Footprint,
    site_antennas,
    site_window,
)
from blankspot.crs import as_crs, require_metric, require_same
from blankspot.errors import (
    BlankspotWarning,
    CRSError,
    InputError,
    SchemaError,
    UnitsError,
    format_problems,
)
from blankspot.options import check_memory
from blankspot.settings import CoverageSettings

__all__ = [
    "FOOTPRINT_FORMAT",
    "DemandIndex",
    "FootprintStore",
    "Grid",
    "SparseFootprint",
    "terrain_key",
]

FOOTPRINT_FORMAT = 2
"""Version of the stored footprint layout, part of every cache key (2: entries carry their key)."""

_ALIGN_TOL_CELLS = 1e-6


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
        # a plan holds a few float32 and index arrays over the grid
        check_memory(f"the analysis grid of {shape[0]:,} x {shape[1]:,} cells of {t.a:g} m",
                     16.0 * shape[0] * shape[1],
                     "choose smaller bounds or a larger res_m (terrain_res_m)")
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
        starts: np.ndarray = np.cumsum(self.run_lengths, dtype=np.int64) - self.run_lengths
        return starts

    @property
    def rows(self) -> np.ndarray:
        """int32 grid row of every cell, aligned with :attr:`path_loss_db`."""
        rows: np.ndarray = np.repeat(self.run_rows, self.run_lengths)
        return rows

    @property
    def cols(self) -> np.ndarray:
        """int32 grid column of every cell, aligned with :attr:`path_loss_db`."""
        within = np.arange(self.n_cells, dtype=np.int64) - np.repeat(
            self._run_starts(), self.run_lengths
        )
        cols: np.ndarray = (np.repeat(self.run_cols, self.run_lengths) + within).astype(np.int32)
        return cols

    def to_footprint(self) -> Footprint:
        """The dense :class:`~blankspot.coverage.Footprint` on the smallest window holding
        every kept cell (NaN elsewhere); without a cap, exactly the footprint it came from."""
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
    def to_arrays(self) -> dict[str, np.ndarray | np.generic]:
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


# --- the footprint store -------------------------------------------------------------------


def terrain_key(terrain: Any) -> str:
    """Content hash of a :class:`~blankspot.terrain.Terrain`: elevation, nodata, grid, CRS.

    Two terrains with the same grid but other elevations get other keys, so a cache never
    serves footprints of one DEM for another.
    """
    return _cache.input_key({
        "elevation_m": terrain.elevation_m,
        "nodata_mask": terrain.nodata_mask,
        "transform": list(terrain.transform)[:6],
        "crs": terrain.crs,
    })


def read_footprint(
    folder: str | os.PathLike[str], key: str, site_id: str, max_path_loss_db: float | None
) -> SparseFootprint | None:
    """The footprint stored under ``key`` for ``site_id``, or None to compute it.

    An entry is used only when the key stored inside it is ``key`` (a file copied or renamed
    over another key is refused with a :class:`BlankspotWarning` and recomputed), it reads
    whole, and it was stored with a cap no tighter than ``max_path_loss_db``.
    """
    arrays = _cache.read_entry(folder, key)
    if arrays is None:
        return None
    stored = str(arrays.get("key", ""))
    if stored != key:
        warnings.warn(
            f"footprint cache entry {_cache.entry_path(folder, key)} was stored for other inputs "
            f"(key {stored[:12] or 'none'}…, wanted {key[:12]}…); site {site_id!r} is computed "
            "again and the entry replaced.",
            BlankspotWarning,
            stacklevel=2,
        )
        return None
    try:
        fp = SparseFootprint.from_arrays(arrays)
    except (KeyError, ValueError, TypeError, SchemaError):
        return None
    if fp.max_path_loss_db is not None and (
        max_path_loss_db is None or max_path_loss_db > fp.max_path_loss_db
    ):
        return None  # stored with a tighter cap than this request needs
    return replace(fp.capped(max_path_loss_db), site_id=str(site_id))


def write_footprint(folder: str | os.PathLike[str], key: str, fp: SparseFootprint) -> None:
    """Store ``fp`` under ``key``, with the key inside the entry (atomic)."""
    _cache.write_entry(folder, key, {**fp.to_arrays(), "key": np.str_(key)})


class FootprintStore:
    """Per-site footprints on disk, one key scheme for the single-process and dask paths.

    The key of a footprint holds everything it depends on: the terrain's content
    (:func:`terrain_key`, or the SHA-256 of the DEM files for a
    :class:`~blankspot.io.terrain_source.TerrainSource`), the analysis grid, the window margin,
    the :class:`~blankspot.settings.CoverageSettings` (model, radius, heights, k-factor,
    frequency, loss cut-off, clutter), the site's position, height and antenna, the entry format
    and the blankspot version. The site id is not part of it: a site moved into another
    candidate list keeps its footprint. Each entry stores its own key, compared on read.

    :meth:`coverage` is the single-process use: stored footprints are read, the missing ones
    computed and stored; :attr:`hits` and :attr:`misses` count them. Footprints read back
    equal those computed, so a plan from the cache equals the plan computed.

    >>> from blankspot.testing import make_terrain
    >>> store = FootprintStore.open(None, make_terrain("flat"), CoverageSettings(model="los"))
    >>> store is None  # no folder, no store (and the terrain is not hashed)
    True
    """

    def __init__(
        self, folder: str | os.PathLike[str], *, terrain_key: str, grid: Grid,
        settings: CoverageSettings | Mapping[str, Any],
    ) -> None:
        self.folder = Path(folder)
        self.grid = grid
        self.settings = settings if isinstance(settings, CoverageSettings) else None
        self.hits = 0
        self.misses = 0
        self._base: dict[str, Any] = {
            "what": "footprint",
            "format": FOOTPRINT_FORMAT,
            "blankspot": __version__,
            "terrain": terrain_key,
            "grid": grid.grid_id,
            "window_margin_cells": WINDOW_MARGIN_CELLS,
            **(settings.key_parts() if isinstance(settings, CoverageSettings) else settings),
        }
        _cache.input_key(self._base)  # fail early on a setting that cannot enter a key
        _cache.check_cache_dir(self.folder)  # and on a folder that cannot be written

    @classmethod
    def open(
        cls, cache_dir: str | os.PathLike[str] | bool | None, terrain: Any,
        settings: CoverageSettings,
    ) -> FootprintStore | None:
        """A store in ``cache_dir`` (see :func:`blankspot.cache.resolve_cache_dir`) for footprints
        on ``terrain``, or None. The terrain's content is hashed only when there is a store."""
        folder = _cache.resolve_cache_dir(cache_dir)
        if folder is None:
            return None
        return cls(folder, terrain_key=terrain_key(terrain), grid=Grid.from_terrain(terrain),
                   settings=settings)

    def stats(self) -> dict[str, Any]:
        """``{"folder", "hits", "misses"}``: footprints read from and computed into the store."""
        return {"folder": str(self.folder), "hits": self.hits, "misses": self.misses}

    def key(self, x_m: float, y_m: float, height_agl_m: float, antenna: Any = None) -> str:
        """The key of a site's footprint (its antenna too, when it has one)."""
        site: dict[str, Any] = {
            "x_m": float(x_m), "y_m": float(y_m), "height_agl_m": float(height_agl_m),
        }
        if antenna is not None:
            site["antenna"] = antenna
        return _cache.input_key({**self._base, "site": site})

    def read(self, key: str, site_id: str, max_path_loss_db: float | None = None
             ) -> SparseFootprint | None:
        """The stored footprint, or None (:func:`read_footprint`)."""
        return read_footprint(self.folder, key, site_id, max_path_loss_db)

    def write(self, key: str, fp: SparseFootprint) -> None:
        """Store a footprint under ``key``."""
        write_footprint(self.folder, key, fp)

    def coverage(self, terrain: Any, sites: Any, *, progress: bool = False) -> CoverageResult:
        """The settings' coverage of ``sites``, computing only the footprints not stored."""
        if self.settings is None:
            raise InputError("this store was opened with key parts only; open it with "
                             "CoverageSettings to compute coverage.")
        if Grid.from_terrain(terrain).grid_id != self.grid.grid_id:
            raise CRSError(f"the terrain is not on the store's grid {self.grid.grid_id}.")
        require_same(sites.crs, terrain.crs, "sites", "the terrain")
        ids = [str(s) for s in sites.index]
        xs, ys = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
        hs = sites["height_agl_m"].to_numpy(dtype=float)
        antennas = site_antennas(sites)
        keys = [self.key(x, y, h, a) for x, y, h, a in zip(xs, ys, hs, antennas, strict=True)]
        footprints: list[Footprint | None] = [None] * len(ids)
        missing = []
        for j, key in enumerate(keys):
            sparse = self.read(key, ids[j])
            if sparse is None:
                missing.append(j)
            else:
                footprints[j] = _dense(sparse, terrain, xs[j], ys[j])
        self.hits += len(ids) - len(missing)
        computed = self.settings.compute(terrain, sites.iloc[missing], progress=progress)
        for j, fp in zip(missing, computed.footprints, strict=True):
            footprints[j] = fp
            self.write(keys[j], SparseFootprint.from_footprint(fp, self.grid.grid_id))
        self.misses += len(missing)
        return replace(computed, footprints=tuple(footprints))  # type: ignore[arg-type]


def _dense(sparse: SparseFootprint, terrain: Any, x_m: float, y_m: float) -> Footprint:
    """The dense footprint of a stored one; a footprint with no cell is the site's own cell
    without signal, as :func:`blankspot.coverage.site_footprint` returns it."""
    if sparse.n_cells:
        return sparse.to_footprint()
    r0, c0 = (int(v) for v in np.rint(terrain.rowcol(float(x_m), float(y_m))))
    return Footprint(sparse.site_id, r0, c0, np.full((1, 1), np.nan, dtype=np.float32))
