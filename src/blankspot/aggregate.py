"""From coverage footprints and demand cells to the siting matrix, and back to desa figures.

:func:`build_coverage_matrix` turns per-site footprints (path loss on windows of the terrain
grid) and demand cells (points with population) into a sparse :class:`CoverageMatrix`, demand
cells × sites, which :meth:`blankspot.siting.SitingProblem.from_coverage` takes.
:func:`village_summary` adds the covered population up per desa.

A demand cell is covered by a site when the terrain pixel holding its point is covered in that
site's footprint: path loss known (not NaN) and within the link budget. Because footprints keep
path loss rather than a yes/no, a new threshold needs a new matrix but no new propagation run.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from blankspot.crs import require_same
from blankspot.errors import CRSError, SchemaError, UnitsError, raise_if_problems
from blankspot.propagation.budget import coverage_probability

__all__ = [
    "CoverageMatrix",
    "PointCoverage",
    "build_coverage_matrix",
    "matrix_from_point_losses",
    "points_xy",
    "village_summary",
]

_MAX_LISTED = 5


def _listing(items: list[Any]) -> str:
    shown = ", ".join(repr(x) for x in items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True, eq=False)
class CoverageMatrix:
    """Which demand cells each candidate site covers.

    Attributes
    ----------
    matrix
        CSC bool array, demand cells × sites; True where the site covers the cell. Never
        densified.
    demand
        one row per demand cell, indexed like the demand cells, with ``village_id`` and
        ``population`` (persons).
    site_ids
        one id per matrix column.
    max_path_loss_db
        the path-loss threshold the matrix was built with, when known.
    probability
        with ``sigma_l_db`` (:func:`build_coverage_matrix`): CSC float64 of the same pattern as
        ``matrix``, the probability that the site serves the cell; None for a 0/1 matrix.
    """

    matrix: sp.csc_array
    demand: pd.DataFrame
    site_ids: tuple[Hashable, ...]
    max_path_loss_db: float | None = None
    probability: sp.csc_array | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not sp.issparse(self.matrix):
            problems.append(
                f"matrix must be a scipy.sparse array; received {type(self.matrix).__name__}."
            )
        missing = [c for c in ("village_id", "population") if c not in self.demand.columns]
        if missing:
            problems.append(
                f"demand lacks column(s) {missing}; it needs village_id and population."
            )
        site_ids = tuple(self.site_ids)
        if sp.issparse(self.matrix):
            n_rows, n_cols = self.matrix.shape
            if n_rows != len(self.demand):
                problems.append(
                    f"matrix has {n_rows} rows but demand has {len(self.demand)} cells; they must "
                    "match one to one."
                )
            if n_cols != len(site_ids):
                problems.append(
                    f"matrix has {n_cols} columns but there are {len(site_ids)} site_ids."
                )
        raise_if_problems("CoverageMatrix", problems, SchemaError)
        if self.probability is not None:
            probability = sp.csc_array(self.probability, dtype=np.float64)
            probability.sort_indices()
            object.__setattr__(self, "probability", probability)
            matrix = sp.csc_array(probability > 0)
        else:
            matrix = sp.csc_array(self.matrix).astype(bool)
        matrix.sort_indices()
        object.__setattr__(self, "matrix", matrix)
        object.__setattr__(self, "site_ids", site_ids)

    @property
    def n_demand(self) -> int:
        """Number of demand cells (rows)."""
        return int(self.matrix.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of sites (columns)."""
        return int(self.matrix.shape[1])

    def covered_any(self) -> np.ndarray:
        """Bool per demand cell: covered by at least one site."""
        covered: np.ndarray = np.diff(self.matrix.tocsr().indptr) > 0
        return covered

    def __repr__(self) -> str:
        return (
            f"CoverageMatrix(n_demand={self.n_demand}, n_sites={self.n_sites}, "
            f"nnz={self.matrix.nnz}, max_path_loss_db={self.max_path_loss_db})"
        )


def matrix_from_point_losses(
    loss_db: Any, demand_cells: Any, site_ids: Any, *, budget: Any
) -> CoverageMatrix:
    """The coverage matrix from the losses at the demand points themselves.

    ``loss_db`` is the sparse (demand points × sites) coupling loss of
    :func:`blankspot.coverage.point_path_loss` (an entry only where there is one); a point is
    covered by a site where its entry is within ``budget`` (``budget.covered``). One loss
    matrix gives the matrices of any number of budgets at one frequency.

    >>> import geopandas as gpd, scipy.sparse as sp
    >>> from shapely.geometry import Point
    >>> from blankspot.propagation.budget import LinkBudget
    >>> cells = gpd.GeoDataFrame({"village_id": ["a", "a"], "population": [5.0, 7.0]},
    ...                          geometry=[Point(0, 0), Point(1, 0)], crs="EPSG:32750")
    >>> b = LinkBudget()
    >>> loss = sp.csc_array(([b.max_path_loss_db - 1.0, b.max_path_loss_db + 1.0], ([0, 1], [0, 0])),
    ...                     shape=(2, 1))
    >>> matrix_from_point_losses(loss, cells, ["s"], budget=b).matrix.toarray().ravel().tolist()
    [True, False]
    """
    csc = sp.csc_array(loss_db)
    if csc.shape[0] != len(demand_cells):
        raise SchemaError(
            f"the loss matrix has {csc.shape[0]} rows but there are {len(demand_cells)} demand "
            "cells; compute it at the demand cells' points, in their order."
        )
    covered = np.asarray(budget.covered(csc.data), dtype=bool)
    matrix = sp.csc_array((covered, csc.indices.copy(), csc.indptr.copy()), shape=csc.shape)
    matrix.eliminate_zeros()
    return CoverageMatrix(
        matrix=matrix, demand=pd.DataFrame(demand_cells[["village_id", "population"]]),
        site_ids=tuple(site_ids), max_path_loss_db=float(budget.max_path_loss_db),
    )  # fmt: skip


def points_xy(points: Any, crs: Any, what: str = "demand points") -> np.ndarray:
    """The (n, 2) float64 x, y metres of a GeoDataFrame of points, checked to be in ``crs``
    (the terrain's; ``what`` names the points in the error)."""
    require_same(getattr(points, "crs", None), crs, what, "the terrain")
    return np.column_stack([points.geometry.x.to_numpy(float), points.geometry.y.to_numpy(float)])


@dataclass(frozen=True, eq=False)
class PointCoverage:
    """Some sites' coupling losses at demand points, on the exact paths to the points.

    The points-mode counterpart of a :class:`blankspot.coverage.CoverageResult` wherever
    people are counted (``evaluate_at="points"``): the siting matrix, the desa tables, the
    RSRP at each desa's main settlement and the hindcast all read the same losses, so they
    agree with each other. Maps still draw the footprints. (Not to be confused with
    :class:`blankspot.propagation.points.PointLosses`: one site's basic loss on each path,
    before the terminal loss, calibration and antenna.)

    Attributes
    ----------
    site_ids
        one id per column, in the sites' order.
    loss_db
        float64 CSC array, points × sites, of :meth:`CoverageSettings.point_losses
        <blankspot.settings.CoverageSettings.point_losses>`: an entry only where the engine
        gives a loss (within the radius and the loss cut-off).
    budget
        the link budget the losses were computed for (its frequency), and the default one of
        :meth:`covered`.

    >>> import scipy.sparse as sp
    >>> from blankspot.propagation.budget import LinkBudget
    >>> b = LinkBudget()
    >>> p = PointCoverage(("s",), sp.csc_array(([b.max_path_loss_db - 1.0], ([1], [0])),
    ...                                      shape=(2, 1)), b)
    >>> p.covered_rows().tolist(), p.dense_db()[:, 0].round(1).tolist()[0]
    ([False, True], nan)
    """

    site_ids: tuple[str, ...]
    loss_db: sp.csc_array
    budget: Any

    @classmethod
    def compute(cls, terrain: Any, sites: Any, points: Any, settings: Any) -> PointCoverage:
        """The losses of ``sites`` at the ``points`` (a GeoDataFrame of points on ``terrain``'s
        CRS, e.g. demand cells), with ``settings`` (a
        :class:`~blankspot.settings.CoverageSettings`)."""
        xy = points_xy(points, terrain.crs)
        ids = tuple(str(s) for s in sites.index)
        if not len(sites):
            return cls(ids, sp.csc_array((len(points), 0)), settings.link)
        return cls(ids, sp.csc_array(settings.point_losses(terrain, sites, xy)), settings.link)

    def matrix(self, demand_cells: Any, budget: Any = None) -> CoverageMatrix:
        """The coverage matrix at ``budget`` (default: :attr:`budget`), rows those of
        ``demand_cells`` (:func:`matrix_from_point_losses`)."""
        return matrix_from_point_losses(self.loss_db, demand_cells, self.site_ids,
                                        budget=self.budget if budget is None else budget)

    def covered_rows(self, budget: Any = None) -> np.ndarray:
        """Whether any of the sites covers each point at ``budget`` (default :attr:`budget`)."""
        b = self.budget if budget is None else budget
        csc = sp.csc_array(self.loss_db)
        hit = np.asarray(b.covered(csc.data), dtype=bool)
        out = np.zeros(csc.shape[0], dtype=bool)
        out[csc.indices[hit]] = True
        return out

    def dense_db(self, rows: Any = None) -> np.ndarray:
        """The losses as a dense (points × sites) float array, NaN where there is none;
        ``rows``: only these point positions."""
        csc = sp.csc_array(self.loss_db)
        if rows is not None:
            csc = sp.csc_array(sp.csr_array(csc)[np.asarray(rows, dtype=np.int64)])
        out = np.full(csc.shape, np.nan)
        for j in range(csc.shape[1]):
            sl = slice(csc.indptr[j], csc.indptr[j + 1])
            out[csc.indices[sl], j] = csc.data[sl]
        return out


def build_coverage_matrix(
    coverage_result: Any, demand_cells: Any, *, budget: Any = None,
    sigma_l_db: float | None = None, probability_floor: float = 0.01,
) -> CoverageMatrix:
    """The demand × site coverage matrix from per-site footprints.

    Parameters
    ----------
    coverage_result
        a :class:`blankspot.coverage.CoverageResult`: ``footprints`` (each with ``site_id``,
        ``row_off``, ``col_off`` and a float ``path_loss_db`` window, NaN where there is no
        signal), ``transform``, ``shape`` and ``crs`` of the terrain grid, and ``budget``.
    demand_cells
        GeoDataFrame of Point demand cells with ``village_id`` and ``population``, in the
        coverage's CRS.
    budget
        a link budget with ``covered(path_loss_db) -> bool`` (and ``max_path_loss_db``);
        defaults to ``coverage_result.budget``. Pass another to try a new threshold without a
        new propagation run.
    sigma_l_db
        None (default): a cell is covered or not (``budget.covered``, the location margin
        included). A location variability σ_L in dB: each entry is instead the probability
        that RSRP reaches the threshold,
        :func:`blankspot.propagation.budget.coverage_probability` of the *median* RSRP
        (``budget.rsrp_dbm``, no location margin: the probability replaces the margin), kept in
        ``CoverageMatrix.probability`` where it is at least ``probability_floor``.
    probability_floor
        with ``sigma_l_db``, probabilities below this are dropped (default 0.01).

    Returns
    -------
    CoverageMatrix
        rows in the order of ``demand_cells``, columns in the order of the footprints.

    Raises
    ------
    CRSError
        the demand cells have no CRS or another one than the coverage.
    SchemaError
        columns or geometries are missing or wrong, site ids are duplicated, or no budget.
    UnitsError
        a population is negative or not finite.

    Notes
    -----
    Each cell's grid pixel is computed once (``col = floor((x − c)/a)``,
    ``row = floor((y − f)/e)`` from the transform); cells are sorted by pixel, and for each
    footprint the cells inside its window are found by binary search row by row. The work per
    footprint is proportional to its window's rows plus the cells inside it; there is no Python
    loop over cells.
    """
    budget = coverage_result.budget if budget is None else budget
    problems: list[str] = []
    if budget is None or not hasattr(budget, "covered"):
        problems.append(
            "no link budget: pass budget= (a LinkBudget with covered(path_loss_db)) or use a "
            "coverage result that carries one."
        )
    if getattr(demand_cells, "crs", None) is None:
        raise CRSError(
            "demand_cells has no CRS; it must be a GeoDataFrame in the coverage's CRS "
            f"({getattr(coverage_result.crs, 'to_string', lambda: coverage_result.crs)()}). "
            "Build it with blankspot.demand.demand_cells() or call .set_crs() first."
        )
    require_same(demand_cells.crs, coverage_result.crs, "demand cells", "the coverage")

    missing = [c for c in ("village_id", "population") if c not in demand_cells.columns]
    if missing:
        problems.append(
            f"demand_cells lacks column(s) {missing}; it needs village_id and population "
            "(see blankspot.demand.demand_cells)."
        )
    geoms = np.asarray(demand_cells.geometry.array, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero((types != 0) | shapely.is_empty(geoms))  # 0 = Point
    if bad.size:
        labels = demand_cells.index[bad].tolist()
        problems.append(
            f"demand_cells must hold non-empty Point geometries; {bad.size} do not (index "
            f"{_listing(labels)}). Use cell centres, e.g. .representative_point()."
        )
    population = None
    units: list[str] = []
    if "population" in demand_cells.columns:
        population = pd.to_numeric(demand_cells["population"], errors="coerce").to_numpy(float)
        bad_pop = np.flatnonzero(~np.isfinite(population) | (population < 0))
        if bad_pop.size:
            labels = demand_cells.index[bad_pop].tolist()
            units.append(
                f"population must be finite persons ≥ 0; {bad_pop.size} cell(s) are not (index "
                f"{_listing(labels)})."
            )
    t = coverage_result.transform
    if t.b != 0 or t.d != 0 or t.a == 0 or t.e == 0:
        problems.append(
            f"the coverage grid must be north-up (no rotation); received transform {tuple(t)[:6]}."
        )
    footprints = list(coverage_result.footprints)
    ids = [fp.site_id for fp in footprints]
    counts = pd.Series(ids, dtype=object).value_counts()
    dup = counts[counts > 1].index.tolist()
    if dup:
        problems.append(
            f"footprints repeat site id(s) {_listing(dup)}; give each site one footprint."
        )
    raise_if_problems(
        "build_coverage_matrix", problems + units, SchemaError if problems else UnitsError
    )

    n_cells = len(demand_cells)
    n_rows_grid, n_cols_grid = (int(v) for v in coverage_result.shape)
    if n_cells:
        x = shapely.get_x(geoms)
        y = shapely.get_y(geoms)
        col = np.floor((x - t.c) / t.a)
        row = np.floor((y - t.f) / t.e)
        inside = (row >= 0) & (row < n_rows_grid) & (col >= 0) & (col < n_cols_grid)
        cells_in = np.flatnonzero(inside)
        pixel = row[cells_in].astype(np.int64) * n_cols_grid + col[cells_in].astype(np.int64)
    else:
        cells_in = np.zeros(0, dtype=np.int64)
        pixel = np.zeros(0, dtype=np.int64)
    by_pixel = np.argsort(pixel, kind="stable")
    sorted_pixel = pixel[by_pixel]
    sorted_cell = cells_in[by_pixel]

    columns: list[np.ndarray] = []
    values: list[np.ndarray] = []
    for fp in footprints:
        cells, loss = _cell_losses(fp, sorted_pixel, sorted_cell, n_rows_grid, n_cols_grid)
        if sigma_l_db is None:
            hit = np.asarray(budget.covered(loss), dtype=bool) & np.isfinite(loss)
            columns.append(np.sort(cells[hit]))
            continue
        p = np.asarray(coverage_probability(budget.rsrp_dbm(loss), budget.threshold_dbm,
                                            sigma_l_db), dtype=np.float64).reshape(-1)
        keep = np.isfinite(loss) & (p >= probability_floor) & (p > 0)
        order = np.argsort(cells[keep], kind="stable")
        columns.append(cells[keep][order])
        values.append(p[keep][order])
    lengths = np.array([c.size for c in columns], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    probability = None
    if sigma_l_db is not None:
        data = np.concatenate(values) if values else np.zeros(0)
        probability = sp.csc_array((data, indices, indptr), shape=(n_cells, len(footprints)))
    matrix = sp.csc_array(
        (np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_cells, len(footprints))
    )
    demand = pd.DataFrame(
        {
            "village_id": demand_cells["village_id"].to_numpy(),
            "population": population if population is not None else np.zeros(n_cells),
        },
        index=demand_cells.index.copy(),
    )
    return CoverageMatrix(
        matrix=matrix,
        demand=demand,
        site_ids=tuple(ids),
        max_path_loss_db=_as_float(getattr(budget, "max_path_loss_db", None)),
        probability=probability,
    )


def _as_float(v: Any) -> float | None:
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def _cell_losses(
    fp: Any,
    sorted_pixel: np.ndarray,
    sorted_cell: np.ndarray,
    n_rows_grid: int,
    n_cols_grid: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The demand cells inside footprint ``fp``'s window and the path loss at each (NaN: no
    signal)."""
    loss = np.asarray(fp.path_loss_db)
    if loss.ndim != 2:
        raise SchemaError(
            f"footprint {fp.site_id!r} has path_loss_db of shape {loss.shape}; it must be a 2-D "
            "window of the terrain grid."
        )
    r0, c0 = int(fp.row_off), int(fp.col_off)
    h, w = loss.shape
    ra, rb = max(r0, 0), min(r0 + h, n_rows_grid)
    ca, cb = max(c0, 0), min(c0 + w, n_cols_grid)
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0))
    if ra >= rb or ca >= cb or sorted_pixel.size == 0:
        return empty
    rows = np.arange(ra, rb, dtype=np.int64) * n_cols_grid
    lo = np.searchsorted(sorted_pixel, rows + ca, side="left")
    hi = np.searchsorted(sorted_pixel, rows + cb, side="left")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return empty
    # positions lo[k] .. hi[k]-1 for every window row k, concatenated without a Python loop
    starts = np.repeat(lo - (np.cumsum(counts) - counts), counts)
    pos = starts + np.arange(total)
    pix = sorted_pixel[pos]
    values = np.asarray(loss[pix // n_cols_grid - r0, pix % n_cols_grid - c0], dtype=np.float64)
    return sorted_cell[pos], values


def village_summary(villages: Any, demand_cells: Any, covered_mask: Any) -> pd.DataFrame:
    """Population and covered population per desa.

    Parameters
    ----------
    villages
        one row per desa, indexed by ``village_id`` (or with a ``village_id`` column), and
        optionally ``population``, used for desa that hold no demand cell.
    demand_cells
        demand cells with ``village_id`` and ``population``.
    covered_mask
        bool per demand cell (an array in the cells' order, or a Series indexed like them),
        e.g. from :meth:`blankspot.siting.SitingResult.covered_mask`; or float probabilities
        in [0, 1] that each cell is served, giving the expected people covered.

    Returns
    -------
    pandas.DataFrame
        indexed by ``village_id`` in the villages' order, every desa present, with
        ``population`` (sum over its cells; the villages' figure when it has none),
        ``population_covered`` and ``share_covered`` (0..1; NaN when the population is 0).

    Raises
    ------
    SchemaError
        missing columns, duplicated desa ids, cells naming an unknown desa, or a mask of the
        wrong length or type.
    """
    problems: list[str] = []
    if "village_id" in getattr(villages, "columns", ()):
        ids = pd.Index(villages["village_id"].to_numpy(), name="village_id")
    else:
        ids = pd.Index(villages.index.to_numpy(), name="village_id")
    if not ids.is_unique:
        dups = ids[ids.duplicated()].unique().tolist()
        problems.append(f"villages repeat village_id(s) {_listing(dups)}.")
    missing = [c for c in ("village_id", "population") if c not in demand_cells.columns]
    if missing:
        problems.append(f"demand_cells lacks column(s) {missing}.")

    n = len(demand_cells)
    if isinstance(covered_mask, pd.Series):
        if not covered_mask.index.equals(demand_cells.index):
            absent = demand_cells.index.difference(covered_mask.index)
            if len(absent):
                problems.append(
                    f"covered_mask has no entry for {len(absent)} demand cell(s) (index "
                    f"{_listing(absent.tolist())})."
                )
            else:
                covered_mask = covered_mask.reindex(demand_cells.index)
        mask = covered_mask.to_numpy()
    else:
        mask = np.asarray(covered_mask)
    if mask.shape != (n,):
        problems.append(
            f"covered_mask must hold one value per demand cell ({n}); received shape {mask.shape}."
        )
    elif mask.dtype != bool:
        if mask.dtype.kind in "iu" and np.isin(mask, (0, 1)).all():
            mask = mask.astype(bool)
        elif mask.dtype.kind == "f" and bool(np.all((mask >= 0) & (mask <= 1))):
            pass  # probabilities of being served: the expected people served
        else:
            problems.append(
                f"covered_mask must be boolean, or probabilities in [0, 1]; received dtype "
                f"{mask.dtype}."
            )
    if not missing:
        unknown = pd.Index(demand_cells["village_id"].unique()).difference(ids)
        if len(unknown):
            problems.append(
                f"demand cells name {len(unknown)} village_id(s) not in villages: "
                f"{_listing(unknown.tolist())}."
            )
    raise_if_problems("village_summary", problems, SchemaError)

    pop = pd.to_numeric(demand_cells["population"], errors="coerce").to_numpy(float)
    vid = demand_cells["village_id"].to_numpy()
    frame = pd.DataFrame(
        {"village_id": vid, "population": pop,
         "covered": pop * mask if mask.dtype.kind == "f" else np.where(mask, pop, 0.0)}
    )
    sums = frame.groupby("village_id", sort=False)[["population", "covered"]].sum()
    has_cells = ids.isin(sums.index)
    population = sums["population"].reindex(ids).to_numpy(float)
    if "population" in getattr(villages, "columns", ()):
        fallback = pd.to_numeric(villages["population"], errors="coerce").to_numpy(float)
    else:
        fallback = np.zeros(len(ids))
    population = np.where(has_cells, population, fallback)
    covered = sums["covered"].reindex(ids).fillna(0.0).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(population > 0, covered / population, np.nan)
    return pd.DataFrame(
        {"population": population, "population_covered": covered, "share_covered": share},
        index=ids,
    )
