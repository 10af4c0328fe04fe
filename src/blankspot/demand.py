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

Demand where people live
------------------------
:func:`demand_layer` picks the source of the demand points, by ``model`` (``PlanConfig.demand_model``):

1. ``"raster"``: a population raster, as above.
2. ``"landcover"``: the built-up (WorldCover 50) and cropland (40) cells of a land-cover grid
   on the terrain grid. Each desa's population is shared equally among those of its land-cover
   cells whose centres lie inside it, gathered per demand cell of ``cell_size_m`` (weight: the
   number of such land-cover cells); the point of a demand cell is its land-cover cell nearest
   the mean of them, so the point stands on built-up land or cropland.
3. ``"settlements"``: settlement points (a planner's file of dusun or kampung points, or the
   OpenStreetMap place nodes): each point belongs to the desa whose polygon holds it. Points
   with a population keep it as their weight, the points of a desa without one share what is
   left of the desa's population equally (OSM place ranks are not used), and the desa's
   population is then shared in proportion to those weights, so desa totals still rule. Points
   outside every selected desa are ignored and counted.
4. The last resort, and every desa the chosen source leaves empty: one settlement per desa with
   its whole population, at the first place of the places table (GeoNames) that lies inside the
   desa, else at the polygon's representative point.

``"auto"`` takes the first source at hand in that order; ``"uniform"`` keeps the even grid.
Every row names its ``settlement`` (place or desa name; empty for grid cells) and its
``source``; :attr:`DemandLayer.label` names the model and its sources in words.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from blankspot.crs import require_metric
from blankspot.errors import (
    BlankspotWarning,
    ConfigError,
    CRSError,
    SchemaError,
    UnitsError,
    raise_if_problems,
)
from blankspot.options import check_memory

__all__ = [
    "BLANKSPOT_FLAGS",
    "DEMAND_MODELS",
    "SETTLEMENT_LANDCOVER_CODES",
    "DemandLayer",
    "demand_cells",
    "demand_layer",
    "select_villages",
]

DEMAND_MODELS = ("auto", "raster", "landcover", "settlements", "uniform")
"""Values of ``PlanConfig.demand_model``: the best source at hand, or one named (module docstring)."""

SETTLEMENT_LANDCOVER_CODES = (50, 40)
"""ESA WorldCover classes where people live: built-up (50) and cropland (40)."""

SOURCE_UNIFORM = "uniform grid"
SOURCE_RASTER = "population raster"
SOURCE_LANDCOVER = "land cover"
SOURCE_REPRESENTATIVE = "representative point"

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


def _selected(villages: gpd.GeoDataFrame, village_ids: Iterable[str] | None, cell_size_m: float,
              caller: str) -> tuple[CRS, float, gpd.GeoDataFrame, pd.Series]:
    """The CRS, cell size, selected villages and their population, every problem listed."""
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
    what = f"{caller}: villages"
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

    return crs, size, sel, pop


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
    crs, size, sel, pop = _selected(villages, village_ids, cell_size_m, "demand_cells()")
    geoms = sel.geometry
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
    source = SOURCE_UNIFORM if population_raster is None else SOURCE_RASTER
    return _frame(np.repeat(np.asarray(vids, dtype=object), n), cell_pop, x_all, y_all,
                  np.full(len(x_all), "", dtype=object), np.full(len(x_all), source, dtype=object),
                  crs)


def _frame(vids: np.ndarray, population: np.ndarray, x_m: np.ndarray, y_m: np.ndarray,
           settlement: np.ndarray, source: np.ndarray, crs: Any) -> gpd.GeoDataFrame:
    """The demand frame: index ``cell_id``; village_id, population, x_m, y_m, settlement, source."""
    return gpd.GeoDataFrame(
        {
            "village_id": np.asarray(vids, dtype=object),
            "population": np.asarray(population, dtype=float),
            "x_m": np.asarray(x_m, dtype=float),
            "y_m": np.asarray(y_m, dtype=float),
            "settlement": np.asarray(settlement, dtype=object),
            "source": np.asarray(source, dtype=object),
        },
        geometry=gpd.points_from_xy(x_m, y_m, crs=crs),
        index=pd.RangeIndex(len(x_m), name="cell_id"),
    )


@dataclass(frozen=True, eq=False)
class DemandLayer:
    """Demand points and how they were made.

    Attributes
    ----------
    cells
        The demand frame (see :func:`demand_cells`), with ``settlement`` and ``source``.
    model
        The model that ran: ``"raster"``, ``"landcover"``, ``"settlements"`` or ``"uniform"``.
    label
        The model and its sources in words, e.g. ``"settlements: 1 per desa (GeoNames place 7,
        representative point 137)"``; shown on every output.
    ignored
        Settlement points that lie outside every selected desa (not used).
    """

    cells: gpd.GeoDataFrame
    model: str
    label: str
    ignored: int = 0

    def settlement_points(self) -> gpd.GeoDataFrame:
        """The rows that stand at a settlement (not grid cells of a uniform or raster spread)."""
        keep = ~self.cells["source"].isin([SOURCE_UNIFORM, SOURCE_RASTER]).to_numpy()
        return self.cells.loc[keep]


def _counts(sources: pd.Series) -> str:
    """``"GeoNames place 7, representative point 137"``: rows per source, in order of first use
    (representative points last)."""
    order = sorted(dict.fromkeys(sources), key=lambda s: s == SOURCE_REPRESENTATIVE)
    counts = sources.value_counts()
    return ", ".join(f"{s} {int(counts[s])}" for s in order)


def _one_per_desa(sel: gpd.GeoDataFrame, places: gpd.GeoDataFrame | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x, y, settlement name and source of one settlement per desa: the first place of
    ``places`` inside the desa, else the polygon's representative point."""
    n = len(sel)
    x, y = np.zeros(n), np.zeros(n)
    name = np.empty(n, dtype=object)
    source = np.empty(n, dtype=object)
    found = np.full(n, -1, dtype=np.int64)
    if places is not None and len(places):
        where = _owner_of_points(places, sel)
        for k in np.nonzero(where >= 0)[0][::-1]:  # the first place of a desa wins
            found[where[k]] = k
    desa_names = sel["name"].astype(str).to_numpy() if "name" in sel.columns \
        else sel.index.astype(str).to_numpy()
    for i, geom in enumerate(sel.geometry.to_numpy()):
        if found[i] >= 0:
            row = places.iloc[int(found[i])]  # type: ignore[union-attr]
            x[i], y[i] = row.geometry.x, row.geometry.y
            given = row.get("name", "")
            name[i] = desa_names[i] if pd.isna(given) or not str(given).strip() else str(given)
            source[i] = str(row.get("source", "place"))
        else:
            p = geom.representative_point()
            x[i], y[i] = p.x, p.y
            name[i] = desa_names[i]
            source[i] = SOURCE_REPRESENTATIVE
    return x, y, name, source


def _shares(owner: np.ndarray, weight: np.ndarray, n_desa: int) -> np.ndarray:
    """Each row's share of its desa: ``weight`` normalised per desa (equal where all are 0)."""
    counts = np.bincount(owner, minlength=n_desa)
    wsum = np.bincount(owner, weights=weight, minlength=n_desa)
    ok = wsum[owner] > 0
    return np.where(ok, weight / np.where(ok, wsum[owner], 1.0), 1.0 / counts[owner])


def _settlement_weights(owner: np.ndarray, given: np.ndarray, desa_pop: np.ndarray) -> np.ndarray:
    """Weights of settlement points: a given population, else an equal share of what the given
    ones leave of the desa's population (nothing when they leave nothing)."""
    n_desa = len(desa_pop)
    has = np.isfinite(given)
    given_sum = np.bincount(owner, weights=np.where(has, given, 0.0), minlength=n_desa)
    n_missing = np.bincount(owner, weights=(~has).astype(float), minlength=n_desa)
    rest = np.maximum(desa_pop - given_sum, 0.0)
    each = np.where(n_missing > 0, rest / np.maximum(n_missing, 1.0), 0.0)
    return np.where(has, given, each[owner])


def _owner_of_points(points: gpd.GeoDataFrame, sel: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``sel`` of the desa holding each point (-1: none; the first where polygons
    overlap)."""
    owner = np.full(len(points), -1, dtype=np.int64)
    if len(points) == 0 or len(sel) == 0:
        return owner
    left = gpd.GeoDataFrame(geometry=points.geometry.reset_index(drop=True))
    right = gpd.GeoDataFrame(geometry=sel.geometry.reset_index(drop=True))
    joined = gpd.sjoin(left, right, how="inner", predicate="within")
    first = joined.groupby(level=0)["index_right"].min()
    owner[first.index.to_numpy()] = first.to_numpy()
    return owner


def _landcover_points(sel: gpd.GeoDataFrame, terrain: Any, landcover: np.ndarray,
                      cell_size_m: float) -> tuple[np.ndarray, ...]:
    """Owner, x, y and weight of the built-up/cropland demand points of each desa."""
    codes = np.asarray(landcover)
    if codes.shape != tuple(terrain.shape):
        raise SchemaError(
            f"the land-cover grid has shape {codes.shape} but the terrain {tuple(terrain.shape)}; "
            "read it onto the terrain grid with blankspot.clutter.landcover_classes(terrain, path)."
        )
    rows, cols = np.nonzero(np.isin(codes, SETTLEMENT_LANDCOVER_CODES))
    t = terrain.transform
    px = t.c + (cols + 0.5) * t.a
    py = t.f + (rows + 0.5) * t.e
    owners, xs, ys, ws = [], [], [], []
    for k, geom in enumerate(sel.geometry.to_numpy()):
        xmin, ymin, xmax, ymax = geom.bounds
        box = (px >= xmin) & (px <= xmax) & (py >= ymin) & (py <= ymax)
        if not box.any():
            continue
        bx, by = px[box], py[box]
        shapely.prepare(geom)
        inside = shapely.contains_xy(geom, bx, by)
        if not inside.any():
            continue
        bx, by = bx[inside], by[inside]
        cell = pd.DataFrame({"i": np.floor(bx / cell_size_m).astype(np.int64),
                             "j": np.floor(by / cell_size_m).astype(np.int64), "x": bx, "y": by})
        groups = cell.groupby(["j", "i"], sort=True)
        mean = groups[["x", "y"]].transform("mean")
        cell["d2"] = (cell["x"] - mean["x"]) ** 2 + (cell["y"] - mean["y"]) ** 2
        pick = cell.loc[cell.groupby(["j", "i"], sort=True)["d2"].idxmin()]
        pick = pick.sort_values(["j", "i"], ascending=[False, True])
        owners.append(np.full(len(pick), k, dtype=np.int64))
        xs.append(pick["x"].to_numpy())
        ys.append(pick["y"].to_numpy())
        ws.append(groups.size().loc[list(zip(pick["j"], pick["i"], strict=True))].to_numpy(float))
    if not owners:
        return (np.zeros(0, np.int64),) + (np.zeros(0),) * 3
    return (np.concatenate(owners), np.concatenate(xs), np.concatenate(ys), np.concatenate(ws))


def demand_layer(
    villages: gpd.GeoDataFrame,
    *,
    model: str = "auto",
    cell_size_m: float = 250.0,
    village_ids: Iterable[str] | None = None,
    population_raster: str | os.PathLike[str] | None = None,
    landcover: np.ndarray | None = None,
    terrain: Any = None,
    settlements: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> DemandLayer:
    """Demand points from the best source at hand, or the one ``model`` names.

    See the module docstring for the sources and their order.

    Parameters
    ----------
    villages
        Villages frame, as for :func:`demand_cells`.
    model
        One of :data:`DEMAND_MODELS`.
    cell_size_m
        Demand grid cell, metres (uniform and raster spreads; land-cover cells are gathered on it).
    village_ids
        Desa to include; all by default.
    population_raster
        Persons per pixel (``"raster"``).
    landcover, terrain
        WorldCover codes on the grid of ``terrain`` (``"landcover"``).
    settlements
        Settlement points in the villages' CRS with ``name``, ``population`` (NaN where
        unknown) and ``source`` (e.g. from :func:`blankspot.io.settlements.read_settlements`).
    places
        Known places (``name``, ``source``) used for the one settlement of a desa that has no
        other, e.g. the GeoNames table of the Paser dataset.

    Returns
    -------
    DemandLayer
        Rows in the villages' order, then north to south, west to east (grid cells) or in the
        settlement file's order; the population of each selected desa is kept exactly.

    Raises
    ------
    ConfigError
        ``model`` is unknown, or names a source that was not given.
    CRSError, UnitsError, SchemaError
        As :func:`demand_cells`; settlements or places in another CRS.
    """
    if model not in DEMAND_MODELS:
        raise ConfigError(
            f"demand_model must be one of {', '.join(map(repr, DEMAND_MODELS))}; received "
            f"{model!r}."
        )
    have = {"raster": population_raster is not None,
            "landcover": landcover is not None and terrain is not None,
            "settlements": True, "uniform": True}
    if model == "auto":
        model = next(m for m in ("raster", "landcover", "settlements") if have[m])
    elif not have[model]:
        hint = ("name a population raster ([data] population = ...)" if model == "raster"
                else "name a land-cover raster ([data] landcover = ...)")
        raise ConfigError(f"demand_model={model!r} needs its data: {hint}, or use "
                          "demand_model='auto'.")
    if model in ("uniform", "raster"):
        cells = demand_cells(villages, cell_size_m=cell_size_m, village_ids=village_ids,
                             population_raster=population_raster if model == "raster" else None)
        label = (f"uniform: {cell_size_m:g} m cells over each desa" if model == "uniform"
                 else f"population raster: {os.path.basename(os.fspath(population_raster))} "  # type: ignore[arg-type]
                      f"on {cell_size_m:g} m cells")
        return DemandLayer(cells, model, label)

    crs, size, sel, pop = _selected(villages, village_ids, cell_size_m, "demand_layer()")
    for what, frame in (("settlements", settlements), ("places", places)):
        if frame is not None and frame.crs is not None and CRS(frame.crs) != CRS(crs):
            raise CRSError(f"{what} are in {CRS(frame.crs).to_string()} but the villages in "
                           f"{CRS(crs).to_string()}; reproject them with .to_crs(villages.crs).")
    desa_pop = pop.to_numpy(dtype=float)
    n_desa = len(sel)
    ignored = 0
    if model == "landcover":
        owner, x, y, weight = _landcover_points(sel, terrain, landcover, size)  # type: ignore[arg-type]
        name = np.full(len(owner), "", dtype=object)
        source = np.full(len(owner), SOURCE_LANDCOVER, dtype=object)
    else:
        pts = settlements
        if pts is not None and len(pts):
            where = _owner_of_points(pts, sel)
            ignored = int((where < 0).sum())
            if ignored:
                warnings.warn(
                    f"{ignored} of {len(pts)} settlement points lie outside every selected desa "
                    "and were ignored.", BlankspotWarning, stacklevel=2)
            keep = where >= 0
            owner = where[keep]
            kept = pts.loc[keep]
            x, y = kept.geometry.x.to_numpy(), kept.geometry.y.to_numpy()
            given = pd.to_numeric(kept["population"], errors="coerce").to_numpy(dtype=float) \
                if "population" in kept.columns else np.full(len(kept), np.nan)
            weight = _settlement_weights(owner, given, desa_pop)
            name = kept["name"].fillna("").astype(str).to_numpy(dtype=object) \
                if "name" in kept.columns else np.full(len(kept), "", dtype=object)
            source = kept["source"].astype(str).to_numpy(dtype=object) \
                if "source" in kept.columns else np.full(len(kept), "settlement", dtype=object)
        else:
            owner, x, y, weight = (np.zeros(0, np.int64),) + (np.zeros(0),) * 3
            name = source = np.zeros(0, dtype=object)
    main = _counts(pd.Series(source, dtype=object))
    # every desa the source leaves empty: one settlement with the whole population
    empty = np.setdiff1d(np.arange(n_desa), owner)
    fx, fy, fname, fsource = _one_per_desa(sel.iloc[empty], places)
    fallback = _counts(pd.Series(fsource, dtype=object))
    owner = np.concatenate([owner, empty])
    x, y = np.concatenate([x, fx]), np.concatenate([y, fy])
    weight = np.concatenate([weight, np.ones(len(empty))])
    name, source = np.concatenate([name, fname]), np.concatenate([source, fsource])
    order = np.argsort(owner, kind="stable")
    owner, x, y, weight, name, source = (a[order] for a in (owner, x, y, weight, name, source))
    population = desa_pop[owner] * _shares(owner, weight, n_desa)
    vids = sel.index.astype(str).to_numpy(dtype=object)[owner]
    cells = _frame(vids, population, x, y, name, source, crs)
    rest = f"; 1 per desa for {len(empty)} ({fallback})" if len(empty) else ""
    dropped = f"; {ignored} outside every desa ignored" if ignored else ""
    if model == "landcover":
        label = f"land cover: built-up and cropland cells in {n_desa - len(empty)} desa{rest}"
    elif len(empty) < n_desa:
        label = f"settlements: {main} in {n_desa - len(empty)} desa{rest}{dropped}"
    else:
        label = f"settlements: 1 per desa ({fallback}){dropped}"
    return DemandLayer(cells, model, label, ignored)
