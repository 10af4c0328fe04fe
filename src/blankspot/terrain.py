"""The :class:`Terrain` grid every computation runs on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
from affine import Affine
from pyproj import CRS

from blankspot.crs import as_crs, require_metric
from blankspot.errors import CRSError, InputError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Terrain:
    """Elevation on a north-up grid of square cells in a projected metric CRS.

    Attributes
    ----------
    elevation_m:
        float32 (rows, cols), metres above the DEM's vertical datum (EGM96/EGM2008 geoid for
        SRTM/Copernicus). NaN where ``nodata_mask`` is True.
    transform:
        affine transform of the grid (cell corners), ``transform.a == -transform.e``.
    crs:
        projected CRS with metre axes (checked on construction).
    nodata_mask:
        bool (rows, cols), True where the source had no data.
    source:
        human-readable description of where the elevation came from.
    synthetic:
        True for invented relief (the Paser demo DEM); maps and reports say so.
    """

    elevation_m: np.ndarray
    transform: Affine
    crs: CRS
    # None derives the mask from the NaNs of elevation_m; __post_init__ always stores an array
    nodata_mask: np.ndarray = field(default=None)  # type: ignore[arg-type]
    source: str = ""
    synthetic: bool = False

    def __post_init__(self) -> None:
        crs = require_metric(as_crs(self.crs), "terrain")
        object.__setattr__(self, "crs", crs)
        elev = np.asarray(self.elevation_m, dtype=np.float32)
        if elev.ndim != 2 or elev.size == 0:
            raise InputError(f"elevation_m must be a non-empty 2-D array; received shape {elev.shape}.")
        t = self.transform
        if t.b != 0 or t.d != 0 or t.e >= 0 or not np.isclose(t.a, -t.e, rtol=1e-6):
            raise CRSError(
                f"terrain must be north-up with square cells; received transform {tuple(t)[:6]}. "
                "Read it with blankspot.io.read_terrain(), which resamples to square cells."
            )
        mask = ~np.isfinite(elev)
        if self.nodata_mask is not None:
            given = np.asarray(self.nodata_mask, dtype=bool)
            if given.shape != elev.shape:
                raise InputError(
                    f"nodata_mask shape {given.shape} differs from elevation_m shape {elev.shape}."
                )
            mask = given | mask
        if mask.any():
            elev = np.where(mask, np.float32(np.nan), elev)
        elev.setflags(write=False)
        mask.setflags(write=False)
        object.__setattr__(self, "elevation_m", elev)
        object.__setattr__(self, "nodata_mask", mask)

    # --- geometry of the grid -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        return self.elevation_m.shape

    @property
    def res_m(self) -> float:
        """Cell size in metres."""
        return float(self.transform.a)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the terrain CRS."""
        rows, cols = self.shape
        x0, y0 = self.transform.c, self.transform.f
        return (x0, y0 + rows * self.transform.e, x0 + cols * self.transform.a, y0)

    def rowcol(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Fractional (row, col) of map coordinates; cell centres sit at integer + 0.5 - 0.5 = int.

        Returns float arrays where the centre of cell (r, c) maps to exactly (r, c).
        """
        x = np.asarray(x_m, dtype=float)
        y = np.asarray(y_m, dtype=float)
        col: FloatArray = (x - self.transform.c) / self.transform.a - 0.5
        row: FloatArray = (y - self.transform.f) / self.transform.e - 0.5
        return row, col

    def xy(self, row: npt.ArrayLike, col: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Map coordinates of cell centres (row, col may be fractional)."""
        r = np.asarray(row, dtype=float)
        c = np.asarray(col, dtype=float)
        return (self.transform.c + (c + 0.5) * self.transform.a,
                self.transform.f + (r + 0.5) * self.transform.e)

    def contains(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where points fall inside the grid (not checking nodata)."""
        row, col = self.rowcol(x_m, y_m)
        rows, cols = self.shape
        return (row >= -0.5) & (row < rows - 0.5) & (col >= -0.5) & (col < cols - 0.5)

    def elevation_at(self, x_m: npt.ArrayLike, y_m: npt.ArrayLike) -> FloatArray:
        """Elevation of the cell containing each point (nearest cell); NaN outside or nodata."""
        row, col = self.rowcol(x_m, y_m)
        r = np.rint(np.atleast_1d(row)).astype(np.int64)
        c = np.rint(np.atleast_1d(col)).astype(np.int64)
        rows, cols = self.shape
        ok = (r >= 0) & (r < rows) & (c >= 0) & (c < cols)
        out = np.full(r.shape, np.nan, dtype=float)
        out[ok] = self.elevation_m[r[ok], c[ok]]
        return out

    def window(self, row_off: int, col_off: int, height: int, width: int) -> Terrain:
        """A copy of a rectangular part of the grid (clipped to the grid)."""
        rows, cols = self.shape
        r0, c0 = max(0, row_off), max(0, col_off)
        r1, c1 = min(rows, row_off + height), min(cols, col_off + width)
        if r1 <= r0 or c1 <= c0:
            raise InputError(
                f"window rows {row_off}..{row_off + height}, cols {col_off}..{col_off + width} "
                f"does not overlap the {rows}x{cols} terrain grid."
            )
        return replace(
            self,
            elevation_m=self.elevation_m[r0:r1, c0:c1].copy(),
            nodata_mask=self.nodata_mask[r0:r1, c0:c1].copy(),
            transform=self.transform @ Affine.translation(c0, r0),
        )

    def __repr__(self) -> str:
        rows, cols = self.shape
        tag = ", SYNTHETIC" if self.synthetic else ""
        return (
            f"Terrain({rows}x{cols} cells of {self.res_m:g} m, {self.crs.to_string()}, "
            f"{int(self.nodata_mask.sum())} nodata{tag}, source={self.source!r})"
        )
