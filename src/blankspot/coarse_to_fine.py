"""Coarse-to-fine planning: screen every candidate on a coarse terrain, certify on a fine one.

Every candidate's coverage is computed on the coarse terrain (90 m in a plan). With margins on
the received power at the demand cells, measured by :func:`measure_margin` — ``M`` dB, the most
the coarse run understates the power at a cell the fine run covers, and ``M_low`` dB, the most it
overstates it at a cell the fine run does not cover — each candidate's fine covering set lies
between

* ``L_j``: cells the coarse run covers with the threshold raised by ``M_low`` (and within the
  radius less two fine cells), and
* ``U_j``: cells the coarse run covers with the threshold lowered by ``M`` (computed with the
  radius plus two coarse cells, and a loss cut-off at least ``M`` above the budget's MAPL, so no
  cell of ``U_j`` is lost to the sweep's own limits; site and cells are read at their pixels'
  centres, up to half a diagonal from the true points on each grid).

The two margins differ: fine terrain detail mostly adds obstacles, so the fine run covers less
than the coarse one far more often than more. Only ``M`` enters the certificate; ``M_low`` only
the lower bounds reported on the way.

:func:`coarse_to_fine_plan` hands both to :func:`blankspot.siting.refine_plan`, which solves
the budgeted problem exactly with fine sets where computed and upper sets else, recomputes on
the fine terrain only the candidates the relaxed optimum picks, and stops when it picks refined
candidates only: that plan is optimal on the fine terrain, with the relaxed optimum as its
certificate. The certificate holds as far as the margin does for the candidates left at the
coarse resolution; the refined ones are checked (``margin_exceeded``).

>>> s = CoverageSettings(model="itm")
>>> round(margin_cutoff_db(s, 30.0) - s.link.max_path_loss_db, 1)  # MAPL + margin + 1 dB
31.0
>>> round(margin_cutoff_db(s, 5.0) - s.link.max_path_loss_db, 1)  # the default cut-off, 20 dB
20.0
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot.aggregate import CoverageMatrix, build_coverage_matrix
from blankspot.coverage import CoverageResult
from blankspot.crs import require_same
from blankspot.errors import InputError, Problems, UnitsError
from blankspot.settings import CoverageSettings
from blankspot.siting import Refinement, refine_plan
from blankspot.terrain import Terrain

__all__ = [
    "CoarseToFine",
    "MarginMeasurement",
    "coarse_to_fine_plan",
    "coarse_upper_lower",
    "loss_at_cells",
    "margin_cutoff_db",
    "measure_margin",
]


def _res_m(terrain: Terrain) -> float:
    return float(abs(terrain.transform.a))


def margin_cutoff_db(settings: CoverageSettings, margin_db: float) -> float:
    """The loss cut-off a coarse run needs so that its upper sets are complete: the settings'
    own cut-off, raised to the budget's MAPL plus ``margin_db`` plus 1 dB where that is more."""
    own = settings.effective_max_loss_db()
    need = float(settings.link.max_path_loss_db) + float(margin_db) + 1.0
    return need if own is None else max(float(own), need)


def _coarse_settings(settings: CoverageSettings, coarse: Terrain, margin_db: float
                     ) -> CoverageSettings:
    """The coarse run's settings: radius two coarse cells longer, cut-off above MAPL + margin."""
    changes: dict[str, Any] = {"radius_m": float(settings.radius_m) + 2 * _res_m(coarse)}
    if settings.terrain_model:
        changes["max_loss_db"] = margin_cutoff_db(settings, margin_db)
    return settings.replace(**changes)


def _check(coarse: Terrain, fine: Terrain, sites: Any, demand: Any, margin_db: float) -> None:
    problems = Problems()
    if not (isinstance(margin_db, int | float) and np.isfinite(margin_db) and margin_db >= 0):
        problems.add(f"margin_db must be a finite number of dB ≥ 0; received {margin_db!r}. "
                     "Measure it with measure_margin().", UnitsError)
    if _res_m(fine) > _res_m(coarse):
        problems.add(f"the fine terrain ({_res_m(fine):g} m) is coarser than the coarse one "
                     f"({_res_m(coarse):g} m); pass the coarse terrain first.", InputError)
    for name in ("village_id", "population"):
        if name not in demand.columns:
            problems.add(f"demand lacks column {name!r}; build it with "
                         "blankspot.demand.demand_cells().")
    if "cost_idr" not in sites.columns:
        problems.add("sites lack a cost_idr column; price them first (blankspot.costs).")
    elif sites["cost_idr"].isna().any():
        missing = sites.index[sites["cost_idr"].isna()].tolist()
        problems.add(f"{len(missing)} site(s) have no cost_idr (e.g. {missing[:3]}); price "
                     "them first (blankspot.costs).")
    problems.raise_if_any("coarse_to_fine_plan")
    require_same(fine.crs, coarse.crs, "the fine terrain", "the coarse terrain")
    require_same(demand.crs, coarse.crs, "demand cells", "the terrain")
    require_same(sites.crs, coarse.crs, "sites", "the terrain")


def _within(matrix: sp.csc_array, sites: Any, demand: Any, radius_m: float) -> sp.csc_array:
    """``matrix`` keeping, in each column, only demand cells within ``radius_m`` of the site."""
    dx = np.asarray(demand.geometry.x, dtype=float)
    dy = np.asarray(demand.geometry.y, dtype=float)
    sx = np.asarray(sites.geometry.x, dtype=float)
    sy = np.asarray(sites.geometry.y, dtype=float)
    m = sp.csc_array(matrix)
    cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))
    keep = np.hypot(dx[m.indices] - sx[cols], dy[m.indices] - sy[cols]) <= radius_m
    out = sp.csc_array((np.ones(int(keep.sum()), dtype=bool), (m.indices[keep], cols[keep])),
                       shape=m.shape)
    out.sort_indices()
    return out


def coarse_upper_lower(
    coarse: Terrain, sites: Any, demand: Any, *, settings: CoverageSettings, margin_db: float,
    lower_margin_db: float, fine_res_m: float, batch_size: int = 8,
) -> tuple[CoverageMatrix, CoverageMatrix]:
    """The upper and lower covering sets of every site from one coarse run.

    Upper: covered with the threshold ``margin_db`` lower (radius two coarse cells longer,
    cut-off from :func:`margin_cutoff_db`). Lower: covered with the threshold
    ``lower_margin_db`` higher, within the radius less two ``fine_res_m``.
    """
    run = _coarse_settings(settings, coarse, margin_db)
    thr = float(settings.link.threshold_dbm)
    budgets = [settings.link.replace(threshold_dbm=thr - margin_db),
               settings.link.replace(threshold_dbm=thr + lower_margin_db)]
    columns: list[list[Any]] = [[], []]
    for i in range(0, len(sites), batch_size):
        cov = run.compute(coarse, sites.iloc[i : i + batch_size])
        for cols, budget in zip(columns, budgets, strict=True):
            cols.append(build_coverage_matrix(cov, demand, budget=budget).matrix)
    ids = tuple(str(s) for s in sites.index)
    frame = pd.DataFrame(demand[["village_id", "population"]])

    def stack(cols: list[Any]) -> sp.csc_array:
        if not cols:
            return sp.csc_array((len(demand), 0), dtype=bool)
        return sp.csc_array(sp.hstack(cols, format="csc"))

    upper = CoverageMatrix(stack(columns[0]), frame, ids)
    lower_m = _within(stack(columns[1]), sites, demand, float(settings.radius_m) - 2 * fine_res_m)
    return upper, CoverageMatrix(lower_m, frame, ids)


@dataclass(frozen=True, eq=False)
class CoarseToFine:
    """A plan made by :func:`coarse_to_fine_plan`, with its certificate.

    Attributes
    ----------
    refinement
        the plan, its bound and the candidates refined (:class:`blankspot.siting.Refinement`).
    margin_db, lower_margin_db
        the margins the coarse upper and lower sets were read with.
    coarse_res_m, fine_res_m
        the two terrain resolutions.
    upper, lower
        the coarse upper and lower covering sets of every candidate.
    coarse_s, fine_s, solve_s
        seconds in the coarse run, in the fine recomputations and in the solvers.
    """

    refinement: Refinement
    margin_db: float
    lower_margin_db: float
    coarse_res_m: float
    fine_res_m: float
    upper: CoverageMatrix
    lower: CoverageMatrix
    coarse_s: float
    fine_s: float
    solve_s: float

    @property
    def site_ids(self) -> tuple[str, ...]:
        """The plan's sites, in rank order."""
        return tuple(str(s) for s in self.refinement.site_ids)

    @property
    def refined_ids(self) -> tuple[str, ...]:
        """The candidates recomputed on the fine terrain."""
        ids = self.upper.site_ids
        return tuple(str(ids[j]) for j in self.refinement.refined)

    def summary(self) -> dict[str, Any]:
        """The certificate and the timings as plain numbers."""
        return {
            **self.refinement.summary(),
            "margin_db": self.margin_db,
            "lower_margin_db": self.lower_margin_db,
            "coarse_res_m": self.coarse_res_m,
            "fine_res_m": self.fine_res_m,
            "coarse_s": round(self.coarse_s, 2),
            "fine_s": round(self.fine_s, 2),
            "solve_s": round(self.solve_s, 2),
        }


def coarse_to_fine_plan(
    coarse: Terrain,
    fine: Terrain,
    sites: Any,
    demand: Any,
    *,
    settings: CoverageSettings,
    budget_idr: int,
    margin_db: float,
    lower_margin_db: float | None = None,
    batch_size: int = 8,
    exact_options: dict[str, Any] | None = None,
    **problem_options: Any,
) -> CoarseToFine:
    """The optimal plan on the ``fine`` terrain, recomputing there only what can enter it.

    Parameters
    ----------
    coarse, fine
        the same area on two grids of one CRS (e.g. 90 m and 30 m, both from ``read_terrain``).
    sites
        priced candidate sites (sites schema with ``cost_idr``), in the terrain CRS.
    demand
        demand cells (``village_id``, ``population``, Point geometry) in the terrain CRS.
    settings
        the radio settings, the same for both runs.
    budget_idr
        the budget in Rupiah.
    margin_db
        the most the coarse run understates the received power at a demand cell the fine run
        covers (``need_upper_db`` of :func:`measure_margin`, or a bound on
        ``|RSRP_fine − RSRP_coarse|``); the certificate is as sound as this number.
    lower_margin_db
        the most the coarse run overstates it at a cell the fine run does not cover
        (``need_lower_db``); only the lower bounds reported use it. Default ``margin_db``.
    exact_options
        options of the exact solver (``time_limit_s``, ``mip_rel_gap``).
    **problem_options
        the objective and constraints of :meth:`blankspot.siting.SitingProblem.from_matrix`
        (``max_towers``, ``objective``, ``groups``, ``forced_in``, ...). With
        ``objective="desa"`` and no ``groups``, the demand cells' ``village_id`` are used.

    Returns
    -------
    CoarseToFine
        the plan, its certificate, the candidates recomputed and the timings.
    """
    low = margin_db if lower_margin_db is None else lower_margin_db
    _check(coarse, fine, sites, demand, margin_db)
    _check(coarse, fine, sites, demand, low)
    fine_res = _res_m(fine)
    t = time.perf_counter()
    upper, lower = coarse_upper_lower(coarse, sites, demand, settings=settings,
                                      margin_db=float(margin_db), lower_margin_db=float(low),
                                      fine_res_m=fine_res, batch_size=batch_size)
    coarse_s = time.perf_counter() - t

    def fine_columns(indices: Sequence[int]) -> Any:
        cols = []
        for i in range(0, len(indices), batch_size):
            batch = sites.iloc[list(indices[i : i + batch_size])]
            cols.append(build_coverage_matrix(settings.compute(fine, batch), demand).matrix)
        return sp.hstack(cols, format="csc")

    options = dict(problem_options)
    options.setdefault("site_ids", list(upper.site_ids))
    if options.get("groups") is None and options.get("objective") not in (None, "people"):
        options["groups"] = demand["village_id"].to_numpy()
    t = time.perf_counter()
    refinement = refine_plan(
        upper.matrix, fine_columns, demand["population"].to_numpy(dtype=float),
        sites["cost_idr"].astype(np.int64).to_numpy(), budget_idr, lower=lower.matrix,
        exact_options=exact_options, **options,
    )
    total = time.perf_counter() - t
    return CoarseToFine(
        refinement=refinement, margin_db=float(margin_db), lower_margin_db=float(low),
        coarse_res_m=_res_m(coarse),
        fine_res_m=fine_res, upper=upper, lower=lower, coarse_s=coarse_s,
        fine_s=refinement.fine_seconds, solve_s=total - refinement.fine_seconds,
    )


def loss_at_cells(coverage: CoverageResult, demand: Any) -> np.ndarray:
    """Path loss (dB) of every footprint at every demand cell: float32 (cells × sites), NaN
    where the footprint has none (outside its window, no signal, beyond the cut-off).

    A demand cell reads the grid pixel holding its point, as :func:`build_coverage_matrix` does.
    """
    t = coverage.transform
    x = np.asarray(demand.geometry.x, dtype=float)
    y = np.asarray(demand.geometry.y, dtype=float)
    col = np.floor((x - t.c) / t.a).astype(np.int64)
    row = np.floor((y - t.f) / t.e).astype(np.int64)
    out = np.full((len(x), len(coverage.footprints)), np.nan, dtype=np.float32)
    for k, fp in enumerate(coverage.footprints):
        h, w = fp.path_loss_db.shape
        r = row - fp.row_off
        c = col - fp.col_off
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        out[inside, k] = fp.path_loss_db[r[inside], c[inside]]
    return out


@dataclass(frozen=True)
class MarginMeasurement:
    """How far coarse and fine received power differ at demand cells (:func:`measure_margin`).

    ``abs_diff_db`` holds ``|RSRP_fine − RSRP_coarse|`` (= the loss difference) of every pair
    (demand cell, site) where both runs have a value and at least one is within ``window_db``
    of the threshold. ``censored`` counts such pairs where the other run has no value within
    the extended cut-off (its difference is then at least ``extra_db − window_db``).

    ``need_upper_db`` is the smallest margin under which every cell the fine run covers is in
    the coarse upper set (max of ``L_coarse − MAPL`` over cells covered fine; a cell without a
    coarse value counts ``extra_db``); ``need_lower_db`` the smallest under which every cell of
    the coarse lower set is covered fine (max of ``MAPL − L_coarse`` over cells not covered
    fine). Both are NaN without such cells. ``upper_excess_db`` holds every
    ``L_coarse − MAPL`` of a cell covered fine, for its quantiles.
    """

    n_sites: int
    n_pairs: int
    censored: int
    median_db: float
    p95_db: float
    p99_db: float
    max_db: float
    need_upper_db: float
    need_lower_db: float
    window_db: float
    extra_db: float
    abs_diff_db: np.ndarray
    upper_excess_db: np.ndarray

    def upper_quantile_db(self, q: float) -> float:
        """The ``q`` quantile of ``upper_excess_db`` (NaN when empty)."""
        d = self.upper_excess_db
        return float(np.quantile(d, q)) if d.size else float("nan")

    def summary(self) -> dict[str, Any]:
        """The figures as plain numbers (the differences left out)."""
        out = {k: getattr(self, k) for k in (
            "n_sites", "n_pairs", "censored", "median_db", "p95_db", "p99_db", "max_db",
            "need_upper_db", "need_lower_db", "window_db", "extra_db")}
        out["n_covered_fine"] = int(self.upper_excess_db.size)
        for q in (0.99, 0.999):
            out[f"upper_p{q * 100:g}_db"] = self.upper_quantile_db(q)
        return out


def measure_margin(
    coarse: Terrain, fine: Terrain, sites: Any, demand: Any, *, settings: CoverageSettings,
    window_db: float = 20.0, extra_db: float = 40.0, batch_size: int = 8,
) -> MarginMeasurement:
    """Compare coarse and fine path loss at the demand cells for ``sites``.

    Both runs use the settings with a loss cut-off ``extra_db`` above the MAPL, so that few
    pairs lose their value to the cut-off; a pair counts when either loss is within
    ``window_db`` of the MAPL (RSRP within ``window_db`` of the threshold). The coarse run
    reaches two coarse cells further, as in :func:`coarse_upper_lower`, and pairs are compared
    within the radius less two coarse cells, so the edge of the disc is no difference; the
    one-sided figures take every cell the fine run covers.
    """
    mapl = float(settings.link.max_path_loss_db)
    run = settings.replace(max_loss_db=mapl + extra_db) if settings.terrain_model else settings
    run_coarse = run.replace(radius_m=float(settings.radius_m) + 2 * _res_m(coarse))
    reach = float(settings.radius_m) - 2 * _res_m(coarse)
    dx = np.asarray(demand.geometry.x, dtype=float)
    dy = np.asarray(demand.geometry.y, dtype=float)
    diffs, need_up, need_low = [], [], []
    censored = 0
    for i in range(0, len(sites), batch_size):
        batch = sites.iloc[i : i + batch_size]
        lc = loss_at_cells(run_coarse.compute(coarse, batch), demand)
        lf = loss_at_cells(run.compute(fine, batch), demand)
        sx = np.asarray(batch.geometry.x, dtype=float)
        sy = np.asarray(batch.geometry.y, dtype=float)
        near = np.hypot(dx[:, None] - sx[None, :], dy[:, None] - sy[None, :]) <= reach
        fc, ff = np.isfinite(lc), np.isfinite(lf)
        close = near & ((fc & (lc <= mapl + window_db)) | (ff & (lf <= mapl + window_db)))
        both = close & fc & ff
        censored += int((close & ~both).sum())
        diffs.append(np.abs(lf[both] - lc[both]).astype(np.float64))
        covered_fine = ff & (lf <= mapl)
        # a cell covered fine with no coarse value is beyond the extended cut-off
        need_up.append(np.where(fc[covered_fine], lc[covered_fine] - mapl, extra_db))
        not_fine = near & ~covered_fine & fc
        need_low.append(mapl - lc[not_fine])
    d = np.concatenate(diffs) if diffs else np.zeros(0)
    up = np.concatenate(need_up) if need_up else np.zeros(0)
    low = np.concatenate(need_low) if need_low else np.zeros(0)

    def q(p: float) -> float:
        return float(np.quantile(d, p)) if d.size else float("nan")

    return MarginMeasurement(
        n_sites=len(sites), n_pairs=int(d.size), censored=censored, median_db=q(0.5),
        p95_db=q(0.95), p99_db=q(0.99), max_db=float(d.max()) if d.size else float("nan"),
        need_upper_db=float(up.max()) if up.size else float("nan"),
        need_lower_db=float(low.max()) if low.size else float("nan"),
        window_db=float(window_db), extra_db=float(extra_db), abs_diff_db=d,
        upper_excess_db=up,
    )
