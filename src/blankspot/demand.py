"""Demand points: desa population spread over a regular grid of cells, and target-desa selection.

Coverage is judged on where people may live, not at a desa centroid (a desa can have signal at
one point and none in most of its RT). Without settlement data, :func:`demand_cells` spreads
each desa's population evenly over the grid cells whose centres fall inside its polygon; with a
gridded population layer (WorldPop, HRSL, ...) it spreads it in proportion to that layer.

The grid
--------
Cells are squares of ``cell_size_m`` whose edges lie on multiples of ``cell_size_m`` in the
villages' metric CRS, so cell centres sit at ``(i + 0.5) * cell_size_m`` and the same grid is
produced for any subset of desa. A desa owns every cell whose centre lies strictly inside its
polygon; a desa too small (or too thin) to contain any centre gets a single point at its
``representative_point()``. Where two desa polygons overlap (slivers of the boundary data) a
centre can belong to both and appears once for each; centres in gaps between desa belong to
none. Population is kept exact per desa either way.

Population per cell
-------------------
- *Uniform* (default): ``population / n_cells`` for each cell of the desa.
- *Weighted* (``population_raster``): the raster (persons per pixel, any CRS) is sampled at
  each cell centre, reprojected to the raster's CRS (nearest pixel; nodata, NaN, negative and
  off-raster values count as 0). The desa's population is then shared in proportion to those
  samples, so the raster only sets the pattern inside a desa and the desa totals still rule. A
  desa whose samples sum to 0 falls back to uniform.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Hashable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from blankspot.crs import require_metric
from blankspot.errors import SchemaError, UnitsError, raise_if_problems
from blankspot.options import check_memory

__all__ = ["BLANKSPOT_FLAGS", "demand_cells", "select_villages"]

BLANKSPOT_FLAGS = ("blankspot_2021", "blankspot_2022")
"""Boolean villages columns flagging desa named as blank spots (Paser press lists)."""

_NAMED_TARGETS = ("blankspot", "all", *BLANKSPOT_FLAGS)


def select_villages(
    villages: gpd.GeoDataFrame | pd.DataFrame, targets: str | Iterable[Hashable]
) -> list[str]:
    """The ``village_id`` values named by ``targets``, in the villages' order.

    Parameters
    ----------
    villages
        Villages frame indexed by ``village_id``.
    targets
        ``"blankspot"`` (desa flagged in ``blankspot_2021`` or ``blankspot_2022``; 9 in Paser),
        ``"blankspot_2021"``, ``"blankspot_2022"``, ``"all"``, or an iterable of ``village_id``
        (a single id string is accepted too).

    Returns
    -------
    list of str
        Selected ids, without repeats, in the order of ``villages``.

    Raises
    ------
    SchemaError
        A flag column is missing, or ids are unknown; every unknown id is listed with its
        nearest matches by code or desa name.

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"name": ["A", "B"], "blankspot_2021": [True, False],
    ...                   "blankspot_2022": [False, False]}, index=["64.01.01.2001", "64.01.01.2002"])
    >>> select_villages(v, "blankspot")
    ['64.01.01.2001']
    """
    ids = [str(i) for i in villages.index]
    if isinstance(targets, str) and targets in _NAMED_TARGETS:
        if targets == "all":
            return ids
        cols = BLANKSPOT_FLAGS if targets == "blankspot" else (targets,)
        missing = [c for c in cols if c not in villages.columns]
        raise_if_problems(
            f"select_villages({targets!r})",
            [
                f"villages lack the flag column {c!r}; pass a list of village_id instead."
                for c in missing
            ],
        )
        flag = np.zeros(len(villages), dtype=bool)
        for c in cols:
            flag |= villages[c].fillna(False).astype(bool).to_numpy()
        return [i for i, f in zip(ids, flag, strict=True) if f]
    wanted = [targets] if isinstance(targets, str) else [str(t) for t in targets]
    known = set(ids)
    unknown = list(dict.fromkeys(t for t in wanted if t not in known))
    if unknown:
        names = {}
        if "name" in villages.columns:
            names = {str(n).casefold(): i for i, n in zip(ids, villages["name"], strict=True)}
        label = dict(zip(ids, villages["name"], strict=True)) if "name" in villages.columns else {}
        problems = []
        for t in unknown:
            near = [names[t.casefold()]] if t.casefold() in names else []
            near += difflib.get_close_matches(t, ids, n=3, cutoff=0.6)
            near += [
                names[n]
                for n in difflib.get_close_matches(t.casefold(), list(names), n=3, cutoff=0.6)
            ]
            near = list(dict.fromkeys(near))[:3]
            hint = (
                "; did you mean "
                + " or ".join(f"{n} ({label[n]})" if n in label else n for n in near)
                + "?"
                if near
                else ""
            )
            problems.append(f"unknown village_id {t!r}{hint}")
        problems.append(f"targets may also be one of {', '.join(map(repr, _NAMED_TARGETS))}.")
        raise_if_problems("select_villages(): targets", problems)
    chosen = set(wanted)
    return [i for i in ids if i in chosen]


def _cell_centres(geom: BaseGeometry, cell_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of the aligned grid cells strictly inside ``geom`` (row-major, north first)."""
    xmin, ymin, xmax, ymax = geom.bounds
    i0 = int(np.floor(xmin / cell_size_m - 0.5))
    i1 = int(np.ceil(xmax / cell_size_m - 0.5))
    j0 = int(np.floor(ymin / cell_size_m - 0.5))
    j1 = int(np.ceil(ymax / cell_size_m - 0.5))
    # x, y, the inside mask and the kept copies: about 40 bytes a cell of the bounding box
    check_memory(f"the demand cells of {cell_size_m:g} m over a desa of "
                 f"{(xmax - xmin) / 1000:.1f} x {(ymax - ymin) / 1000:.1f} km",
                 40.0 * (i1 - i0 + 1) * (j1 - j0 + 1),
                 "use a larger cell_size_m ([demand] cell_size_m; 250 m is usual) or fewer desa")
    xs = (np.arange(i0, i1 + 1) + 0.5) * cell_size_m
    ys = (np.arange(j1, j0 - 1, -1) + 0.5) * cell_size_m
    xx, yy = np.meshgrid(xs, ys)
    xx, yy = xx.ravel(), yy.ravel()
    shapely.prepare(geom)
    inside = shapely.contains_xy(geom, xx, yy)
    return xx[inside], yy[inside]


def _sample_raster(
    path: str | os.PathLike[str], crs: CRS, x_m: np.ndarray, y_m: np.ndarray
) -> np.ndarray:
    """Raster values at points (nearest pixel); nodata, NaN, negative and outside count as 0."""
    import rasterio
    from pyproj import Transformer
    from rasterio.windows import Window

    out = np.zeros(x_m.shape, dtype=float)
    if x_m.size == 0:
        return out
    with rasterio.open(path) as src:
        if src.crs is None:
            raise SchemaError(
                f"population raster {os.fspath(path)!r} has no CRS; assign one (e.g. with "
                "gdal_edit.py -a_srs EPSG:4326) so cell centres can be placed on it."
            )
        tr = Transformer.from_crs(crs, src.crs, always_xy=True)
        px, py = tr.transform(x_m, y_m)
        px, py = np.asarray(px, dtype=float), np.asarray(py, dtype=float)
        ok = np.isfinite(px) & np.isfinite(py)
        if not ok.any():
            return out
        inv = ~src.transform
        cols = np.floor(inv.a * px[ok] + inv.b * py[ok] + inv.c).astype(np.int64)
        rows = np.floor(inv.d * px[ok] + inv.e * py[ok] + inv.f).astype(np.int64)
        inside = (rows >= 0) & (rows < src.height) & (cols >= 0) & (cols < src.width)
        vals = np.zeros(rows.shape, dtype=float)
        if inside.any():
            r0, r1 = int(rows[inside].min()), int(rows[inside].max()) + 1
            c0, c1 = int(cols[inside].min()), int(cols[inside].max()) + 1
            window = Window(c0, r0, c1 - c0, r1 - r0)
            data = src.read(1, window=window, masked=True).astype(float).filled(0.0)
            vals[inside] = data[rows[inside] - r0, cols[inside] - c0]
    vals[~np.isfinite(vals) | (vals < 0)] = 0.0
    out[ok] = vals
    return out


def demand_cells(
    villages: gpd.GeoDataFrame,
    *,
    cell_size_m: float = 250.0,
    population_raster: str | os.PathLike[str] | None = None,
    village_ids: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Demand points: each desa's population spread over grid cells inside it.

    See the module docstring for the grid and the weighting.

    Parameters
    ----------
    villages
        Villages frame indexed by ``village_id`` with ``population`` (persons; run
        :func:`blankspot.population.estimate_population` first to fill gaps) and (Multi)Polygon
        geometry in a projected metric CRS.
    cell_size_m
        Side of the grid cells in metres.
    population_raster
        Optional GeoTIFF of persons per pixel (any CRS) used as weights inside each desa.
    village_ids
        Desa to include (e.g. from :func:`select_villages`); all by default.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``cell_id`` (0..n-1: desa in the villages' order, cells north to south,
        west to east), with ``village_id``, ``population`` (float persons; sums per desa equal
        the desa population), ``x_m``, ``y_m`` and Point geometry at the cell centre, in the
        villages' CRS.

    Raises
    ------
    CRSError
        The villages are not in a projected metric CRS.
    UnitsError
        ``cell_size_m`` is not a positive finite number.
    SchemaError
        ``population`` is missing, unknown (NaN) or negative for a selected desa, a geometry is
        empty, or ``village_ids`` holds unknown ids; every problem is listed at once.
    """
    crs = require_metric(villages.crs, "villages")
    try:
        size = float(cell_size_m)
    except (TypeError, ValueError):
        size = float("nan")
    if not np.isfinite(size) or size <= 0:
        raise UnitsError(
            f"cell_size_m must be a positive number of metres; received {cell_size_m!r}. "
            "250 m is a usual demand grid."
        )
    ids = select_villages(villages, "all" if village_ids is None else list(village_ids))
    what = "demand_cells(): villages"
    if "population" not in villages.columns:
        raise_if_problems(
            what,
            [
                "villages lack a 'population' column; fill it with "
                "blankspot.population.estimate_population(villages, kecamatan_totals)."
            ],
        )
    if villages.index.has_duplicates:
        dup = villages.index[villages.index.duplicated()].unique()
        raise_if_problems(what, [f"village_id repeated: {', '.join(map(str, dup))}."])
    sel = villages.loc[ids] if len(ids) != len(villages) else villages
    pop = pd.to_numeric(sel["population"], errors="coerce").astype(float)
    problems = []
    unknown = sel.index[pop.isna().to_numpy()]
    if len(unknown):
        names = sel["name"] if "name" in sel.columns else pd.Series("", index=sel.index)
        listed = ", ".join(f"{i} ({names.loc[i]})" if names.loc[i] else str(i) for i in unknown)
        problems.append(
            f"population unknown for {len(unknown)} desa: {listed}. Estimate it with "
            "blankspot.population.estimate_population(villages, kecamatan_totals)."
        )
    negative = pop < 0
    if negative.any():
        problems.append(
            "negative population for "
            + ", ".join(f"{i} ({v:g})" for i, v in pop[negative].items())
            + "."
        )
    geoms = sel.geometry
    empty = geoms.isna() | geoms.is_empty
    if empty.any():
        problems.append(f"empty or missing geometry for {', '.join(map(str, sel.index[empty]))}.")
    raise_if_problems(what, problems)

    xs, ys, vids, counts = [], [], [], []
    for vid, geom in zip(sel.index, geoms.to_numpy(), strict=True):
        x, y = _cell_centres(geom, size)
        if x.size == 0:
            p = geom.representative_point()
            x, y = np.array([p.x]), np.array([p.y])
        xs.append(x)
        ys.append(y)
        counts.append(x.size)
        vids.append(str(vid))
    n = np.asarray(counts, dtype=np.int64)
    x_all = np.concatenate(xs) if xs else np.zeros(0)
    y_all = np.concatenate(ys) if ys else np.zeros(0)
    owner = np.repeat(np.arange(len(n)), n)
    desa_pop = pop.to_numpy()
    if population_raster is not None:
        w = _sample_raster(population_raster, crs, x_all, y_all)
        wsum = np.bincount(owner, weights=w, minlength=len(n))
        use_w = wsum[owner] > 0
        share = np.where(use_w, w / np.where(wsum[owner] > 0, wsum[owner], 1.0), 1.0 / n[owner])
    else:
        share = 1.0 / n[owner]
    cell_pop = desa_pop[owner] * share
    out = gpd.GeoDataFrame(
        {
            "village_id": np.repeat(np.asarray(vids, dtype=object), n),
            "population": cell_pop,
            "x_m": x_all,
            "y_m": y_all,
        },
        geometry=gpd.points_from_xy(x_all, y_all, crs=crs),
        index=pd.RangeIndex(len(x_all), name="cell_id"),
    )
    return out
