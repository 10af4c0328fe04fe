"""Candidate tower sites generated from the terrain: local high points plus a regular grid.

:func:`generate_candidates` proposes sites in and around a study area (e.g. the union of the
target desa) for the siting step to choose from; :func:`combine_sites` adds them to sites a
planner already has (land grants on offer, existing towers to upgrade).

How the candidates are chosen
-----------------------------
The *search area* is ``area`` buffered by ``search_buffer_m``: a tower just outside a desa can
serve it best. Only terrain cells whose centres fall inside the search area and hold data are
considered.

- **High points** (``source="high_point"``): cells that are the maximum of the square window of
  ``2 * round(min_separation_m / res_m / 2) + 1`` cells (at least 3), about ``min_separation_m``
  wide, centred on them (``scipy.ndimage.maximum_filter``; nodata counts as
  lower than anything) and strictly higher than the lowest valid cell of that window, so flat
  ground yields none. They are ranked by ground elevation, highest first (ties by row, then
  column), and kept greedily while at least ``min_separation_m`` from every point already
  kept, up to ``n_high_points``. Each sits at its cell centre. Ground beyond the edge of the
  terrain grid counts as lower, so a slope rising off the grid can put a high point on its
  edge; give a terrain reaching well past the search area to avoid that.
- **Grid** (``source="grid"``): points at every multiple of ``grid_spacing_m`` in x and y
  (the same lattice for any area) inside the search area, whose terrain cell holds data, and
  more than ``min_separation_m / 2`` from every kept high point (a grid point that close adds
  little next to the high point). The grid makes sure flat or gently sloping parts of the
  area get candidates too.

Ids are ``{prefix}_hp_001`` … in rank order and ``{prefix}_grid_001`` … from north to south,
west to east, so the same inputs always give the same ids. Every site gets the same
``height_agl_m`` and an unknown ``cost_idr`` (``<NA>``; the cost model fills it).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from blankspot.crs import as_crs, require_same
from blankspot.errors import (
    ConfigError,
    CRSError,
    InputError,
    Problems,
    SchemaError,
    UnitsError,
    raise_if_problems,
)
from blankspot.terrain import Terrain

__all__ = ["SITE_COLUMNS", "combine_sites", "empty_sites", "generate_candidates"]

SITE_COLUMNS = ("height_agl_m", "cost_idr", "source")
"""Columns of the sites schema besides geometry (index ``site_id``)."""


def empty_sites(crs: object) -> gpd.GeoDataFrame:
    """A sites frame with no rows, in ``crs``."""
    return _sites_frame([], np.zeros(0), np.zeros(0), 72.0, [], crs)


def _sites_frame(
    ids: Sequence[str],
    x_m: npt.ArrayLike,
    y_m: npt.ArrayLike,
    height_agl_m: float,
    sources: Sequence[str],
    crs: object,
) -> gpd.GeoDataFrame:
    n = len(ids)
    return gpd.GeoDataFrame(
        {
            "height_agl_m": np.full(n, float(height_agl_m), dtype=np.float64),
            "cost_idr": pd.array([pd.NA] * n, dtype="Int64"),
            "source": pd.array([str(s) for s in sources], dtype=str),
        },
        geometry=gpd.points_from_xy(np.asarray(x_m, float), np.asarray(y_m, float), crs=crs),
        index=pd.Index(list(ids), dtype=object, name="site_id"),
    )


def _area_geometry(
    area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries, terrain_crs: CRS
) -> BaseGeometry:
    """One shapely geometry from a geometry, GeoSeries or GeoDataFrame in the terrain's CRS."""
    if isinstance(area, BaseGeometry):
        geom = area
    elif isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        if area.crs is None:
            raise CRSError(
                "area has no CRS; the terrain is in "
                f"{terrain_crs.to_string()}. Call area.set_crs(...) with its true CRS, then "
                ".to_crs(terrain.crs)."
            )
        require_same(area.crs, terrain_crs, "the area polygons", "the terrain")
        geom = area.geometry.union_all() if len(area) else shapely.Polygon()
    else:
        raise SchemaError(
            f"area must be a shapely (Multi)Polygon, GeoSeries or GeoDataFrame; received "
            f"{type(area).__name__}."
        )
    if geom is None or geom.is_empty:
        raise SchemaError("area is empty; pass the polygons of the desa to search around.")
    if geom.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise SchemaError(f"area must be polygonal; received a {geom.geom_type}.")
    return geom


def _high_points(
    elev: np.ndarray, valid: np.ndarray, in_area: np.ndarray, half_cells: int
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of window maxima inside ``in_area``, ranked by elevation (highest first)."""
    from scipy.ndimage import maximum_filter, minimum_filter

    size = 2 * half_cells + 1
    hi = np.where(valid, elev, -np.inf)
    lo = np.where(valid, elev, np.inf)
    maxf = maximum_filter(hi, size=size, mode="constant", cval=-np.inf)
    minf = minimum_filter(lo, size=size, mode="constant", cval=np.inf)
    peak = valid & in_area & (hi >= maxf) & (hi > minf)
    rows, cols = np.nonzero(peak)
    order = np.lexsort((cols, rows, -elev[rows, cols]))
    return rows[order], cols[order]


def _greedy_separated(x_m: np.ndarray, y_m: np.ndarray, n_max: int, min_sep_m: float) -> np.ndarray:
    """Indices of points kept in order while ≥ ``min_sep_m`` from all kept, at most ``n_max``."""
    kept: list[int] = []
    kx = np.empty(max(n_max, 0))
    ky = np.empty(max(n_max, 0))
    sep2 = min_sep_m * min_sep_m
    for i in range(x_m.size):
        if len(kept) >= n_max:
            break
        k = len(kept)
        if k and np.min((kx[:k] - x_m[i]) ** 2 + (ky[:k] - y_m[i]) ** 2) < sep2:
            continue
        kx[k], ky[k] = x_m[i], y_m[i]
        kept.append(i)
    return np.asarray(kept, dtype=np.int64)


def _shifted(t: Affine, row_off: int, col_off: int) -> Affine:
    """The transform of a window starting at (row_off, col_off)."""
    return Affine(
        t.a, t.b, t.c + col_off * t.a + row_off * t.b, t.d, t.e, t.f + col_off * t.d + row_off * t.e
    )


def _ids(prefix: str, kind: str, n: int) -> list[str]:
    width = max(3, len(str(n)))
    return [f"{prefix}_{kind}_{i:0{width}d}" for i in range(1, n + 1)]


def generate_candidates(
    terrain: Terrain,
    area: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    height_agl_m: float = 72.0,
    n_high_points: int = 40,
    grid_spacing_m: float = 3000.0,
    min_separation_m: float = 1000.0,
    search_buffer_m: float = 3000.0,
    prefix: str = "c",
) -> gpd.GeoDataFrame:
    """Candidate sites on high points and a regular grid in and around ``area``.

    The rules are in the module docstring.

    Parameters
    ----------
    terrain
        Terrain the sites stand on; candidates are placed only on cells with data.
    area
        Study area: a shapely (Multi)Polygon in the terrain's CRS, or a GeoSeries or
        GeoDataFrame (their union is used) whose CRS must equal the terrain's.
    height_agl_m
        Tower height given to every candidate, metres above ground.
    n_high_points
        Most high points to keep.
    grid_spacing_m
        Spacing of the grid points in metres.
    min_separation_m
        Least distance between two high points; also about the side of the local-maximum
        window, and twice the clearance of grid points around high points.
    search_buffer_m
        How far beyond ``area`` to look, in metres.
    prefix
        Start of every ``site_id``.

    Returns
    -------
    geopandas.GeoDataFrame
        Sites schema: index ``site_id``; ``height_agl_m`` (float64), ``cost_idr`` (Int64, all
        ``<NA>``), ``source`` ("high_point" or "grid"); Point geometry in the terrain's CRS.
        High points come first, in rank order.

    Raises
    ------
    UnitsError
        A distance or height is out of range; every problem is listed at once.
    InputError
        ``n_high_points`` is not a whole number ≥ 0 (listed with any unit problems).
    ConfigError
        ``prefix`` is empty or not a string (listed with any other problems).
    CRSError
        ``area`` is in another CRS than the terrain, or lies entirely off the terrain grid.
    SchemaError
        ``area`` is empty or not polygonal.

    Examples
    --------
    >>> from blankspot.testing import make_terrain
    >>> t = make_terrain("two_valleys")
    >>> xmin, ymin, xmax, ymax = t.bounds
    >>> sites = generate_candidates(t, shapely.box(xmin, ymin, xmax, ymax), search_buffer_m=0,
    ...                             grid_spacing_m=600)
    >>> sites.loc["c_hp_001", "source"], float(t.elevation_at(*sites.geometry.iloc[0].xy)[0])
    ('high_point', 500.0)
    """
    from rasterio.features import geometry_mask

    problems = Problems()

    def _positive(name: str, value: float, allow_zero: bool = False) -> None:
        ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        ok = ok and np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
        if not ok:
            need = "≥ 0" if allow_zero else "> 0"
            problems.add(
                f"{name} must be a finite number of metres {need}; received {value!r}.", UnitsError
            )

    _positive("height_agl_m", height_agl_m)
    _positive("grid_spacing_m", grid_spacing_m)
    _positive("min_separation_m", min_separation_m, allow_zero=True)
    _positive("search_buffer_m", search_buffer_m, allow_zero=True)
    if (
        isinstance(n_high_points, bool)
        or not isinstance(n_high_points, int | np.integer)
        or n_high_points < 0
    ):
        problems.add(
            f"n_high_points must be a whole number ≥ 0; received {n_high_points!r}.", InputError
        )
    if not isinstance(prefix, str) or not prefix:
        problems.add(f"prefix must be a non-empty string; received {prefix!r}.", ConfigError)
    problems.raise_if_any("generate_candidates() parameters")

    crs = as_crs(terrain.crs)
    geom = _area_geometry(area, crs)
    search = geom.buffer(float(search_buffer_m)) if search_buffer_m > 0 else geom
    shapely.prepare(search)
    res = terrain.res_m
    rows, cols = terrain.shape

    # terrain window around the search area, with a margin for the maximum filter
    half = max(1, round(float(min_separation_m) / res / 2.0))
    sx0, sy0, sx1, sy1 = search.bounds
    r_top, c_left = terrain.rowcol(sx0, sy1)
    r_bot, c_right = terrain.rowcol(sx1, sy0)
    r0 = max(0, int(np.floor(r_top)) - half)
    r1 = min(rows, int(np.ceil(r_bot)) + half + 1)
    c0 = max(0, int(np.floor(c_left)) - half)
    c1 = min(cols, int(np.ceil(c_right)) + half + 1)
    if r1 <= r0 or c1 <= c0:
        tb = ", ".join(f"{v:.0f}" for v in terrain.bounds)
        ab = ", ".join(f"{v:.0f}" for v in search.bounds)
        raise CRSError(
            f"the search area (bounds {ab}) does not overlap the terrain grid (bounds {tb}) in "
            f"{crs.to_string()}; is the area in the terrain's CRS, and does the terrain cover it?"
        )
    elev = terrain.elevation_m[r0:r1, c0:c1]
    valid = ~terrain.nodata_mask[r0:r1, c0:c1]
    in_area = geometry_mask(
        [search],
        out_shape=elev.shape,
        transform=_shifted(terrain.transform, r0, c0),
        invert=True,
    )

    # high points
    hp_x = np.zeros(0)
    hp_y = np.zeros(0)
    if n_high_points > 0:
        pr, pc = _high_points(elev, valid, in_area, half)
        px, py = terrain.xy(pr + r0, pc + c0)
        keep = _greedy_separated(px, py, int(n_high_points), float(min_separation_m))
        hp_x, hp_y = px[keep], py[keep]

    # grid on multiples of the spacing
    g = float(grid_spacing_m)
    xs = np.arange(np.ceil(sx0 / g), np.floor(sx1 / g) + 1) * g
    ys = np.arange(np.floor(sy1 / g), np.ceil(sy0 / g) - 1, -1) * g
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    ok = shapely.contains_xy(search, gx, gy) if gx.size else np.zeros(0, bool)
    ok &= terrain.contains(gx, gy)
    ok &= np.isfinite(terrain.elevation_at(gx, gy))
    gx, gy = gx[ok], gy[ok]
    if hp_x.size and gx.size:
        from scipy.spatial import cKDTree

        d, _ = cKDTree(np.column_stack([hp_x, hp_y])).query(np.column_stack([gx, gy]))
        far = d > float(min_separation_m) / 2.0
        gx, gy = gx[far], gy[far]

    ids = _ids(prefix, "hp", hp_x.size) + _ids(prefix, "grid", gx.size)
    sources = ["high_point"] * hp_x.size + ["grid"] * gx.size
    return _sites_frame(
        ids,
        np.concatenate([hp_x, gx]),
        np.concatenate([hp_y, gy]),
        height_agl_m,
        sources,
        crs,
    )


def combine_sites(
    user_sites: gpd.GeoDataFrame | None, generated: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Planner's sites followed by generated candidates, as one sites frame.

    Parameters
    ----------
    user_sites
        Sites frame (index ``site_id``) the planner supplied, or None.
    generated
        Sites frame from :func:`generate_candidates`.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: ``user_sites`` rows first, then ``generated``; ``cost_idr`` stays Int64.

    Raises
    ------
    CRSError
        The two frames are in different CRSs.
    SchemaError
        A ``site_id`` occurs in both frames or twice in one, or schema columns are missing;
        every problem is listed at once.
    """
    if user_sites is None or len(user_sites) == 0:
        if user_sites is not None and user_sites.crs is not None and generated.crs is not None:
            require_same(user_sites.crs, generated.crs, "the user sites", "the generated sites")
        return generated.copy()
    require_same(user_sites.crs, generated.crs, "the user sites", "the generated sites")
    problems: list[str] = []
    for what, frame in (("user sites", user_sites), ("generated sites", generated)):
        missing = [c for c in SITE_COLUMNS if c not in frame.columns]
        if missing:
            problems.append(f"{what} lack column(s) {', '.join(map(repr, missing))}.")
        dup = frame.index[frame.index.duplicated()].unique()
        if len(dup):
            problems.append(f"{what} repeat site_id {', '.join(map(str, dup))}.")
    clash = sorted(set(map(str, user_sites.index)) & set(map(str, generated.index)))
    if clash:
        problems.append(
            f"site_id used by both the user sites and the generated sites: {', '.join(clash)}. "
            "Rename the user sites or pass another prefix= to generate_candidates()."
        )
    raise_if_problems("combine_sites()", problems)
    out = pd.concat([user_sites, generated], axis=0)
    out = gpd.GeoDataFrame(out, geometry=user_sites.geometry.name, crs=user_sites.crs)
    out.index = pd.Index(list(map(str, out.index)), dtype=object, name="site_id")
    out["height_agl_m"] = out["height_agl_m"].astype(np.float64)
    out["cost_idr"] = out["cost_idr"].astype("Int64")
    return out
