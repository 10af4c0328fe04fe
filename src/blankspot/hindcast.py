"""The 2022 hindcast, and why a target desa is not served, from a finished plan.

:func:`hindcast_2022` evaluates, with the plan's own model and inputs, the plan Paser built in
2022: one 72 m tower in each ``blankspot_2022`` desa at the best candidate inside that desa, at
Rp 1.7 B each; and blankspot's plan at the same budget. :func:`why_not` says, for each target
desa, whether it is served, and if not what stands in the way (the rules are in
:func:`classify_obstacle`), with the path profile from its best candidate to its settlement
(:func:`blankspot.diagnostics.profile_plot`) as PNG bytes. :func:`explain` runs both on one
pool of candidates: the plan's, plus candidates generated inside each 2022 desa that holds none
(its local high points and a grid clipped to it, at the plan's tower height), computed with the
plan's coverage settings. Nothing is tuned: both plans are read off the same coverage matrix.

A desa is *served* when at least β (the config's ``served_share``) of the people of its
demand rows receive RSRP ≥ the threshold.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot.aggregate import PointCoverage, build_coverage_matrix
from blankspot.candidates import generate_candidates
from blankspot.clutter import ClutterModel, loss_for_class
from blankspot.config import PASER_TOWER_COST_IDR
from blankspot.diagnostics import profile_plot
from blankspot.errors import BlankspotError, InputError
from blankspot.siting import solve
from blankspot.siting.problem import resolved_mask

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd

    from blankspot.footprints import FootprintStore
    from blankspot.plan import PlanResult
    from blankspot.settings import CoverageSettings
    from blankspot.terrain import Terrain

__all__ = [
    "FLAG_2022",
    "OBSTACLES",
    "CandidatePool",
    "Explanation",
    "candidate_pool",
    "classify_obstacle",
    "explain",
    "hindcast_2022",
    "why_not",
]

FLAG_2022 = "blankspot_2022"
"""The villages column flagging the five desa Paser built towers in (2022)."""

OBSTACLES = ("no candidate", "cost", "canopy", "terrain", "distance")
"""What can stand between a target desa and service, in the order :func:`classify_obstacle`
tests them."""

PLAN_2022 = "2022 as built"
PLAN_BLANKSPOT = "blankspot"


@dataclass(frozen=True, eq=False)
class CandidatePool:
    """Every computed candidate: the plan's sites followed by the extra ones, and their coverage
    of the plan's demand rows (CSC, demand × ``sites``)."""

    sites: gpd.GeoDataFrame
    matrix: sp.csc_matrix
    n_plan_sites: int

    @property
    def extra(self) -> gpd.GeoDataFrame:
        """The candidates generated for the hindcast (not in the plan's candidate set)."""
        return self.sites.iloc[self.n_plan_sites:]


@dataclass(frozen=True, eq=False)
class Explanation:
    """What :func:`explain` returns: the hindcast table, the why-not table and the profiles."""

    hindcast: pd.DataFrame | None
    why_not: pd.DataFrame
    profiles_png: Mapping[str, bytes] = field(default_factory=dict)


def _coverage(terrain: Terrain, sites: gpd.GeoDataFrame, settings: CoverageSettings,
              store: FootprintStore | None) -> Any:
    if store is not None and len(sites):
        return store.coverage(terrain, sites)
    return settings.compute(terrain, sites)


def _flagged_2022(villages: gpd.GeoDataFrame) -> list[str]:
    if FLAG_2022 not in villages.columns:
        return []
    flag = villages[FLAG_2022].fillna(False).astype(bool)
    return [str(v) for v in villages.index[flag.to_numpy()]]


def _inside(sites: gpd.GeoDataFrame, polygon: Any) -> np.ndarray:
    import shapely

    if not len(sites):
        return np.zeros(0, dtype=bool)
    return np.asarray(shapely.contains_xy(polygon, sites.geometry.x.to_numpy(),
                                          sites.geometry.y.to_numpy()))


def candidate_pool(result: PlanResult, terrain: Terrain, *,
                   store: FootprintStore | None = None) -> CandidatePool:
    """The plan's candidates plus, for each ``blankspot_2022`` desa among the plan's demand that
    holds none of them, candidates inside that desa (its local high points and a grid at the
    plan's spacing, clipped to it, at the plan's tower height), computed with the plan's
    coverage settings over the plan's demand rows."""
    if result.settings is None:
        raise InputError("the plan carries no coverage settings (PlanResult.settings is None); "
                         "run it with blankspot.plan.plan(), which sets them.")
    cfg = result.config
    villages = result.villages
    demand_ids = set(result.demand["village_id"].astype(str))
    extra = []
    for kode in _flagged_2022(villages):
        if kode not in demand_ids:
            continue
        polygon = villages.geometry.loc[kode]
        if _inside(result.sites, polygon).any():
            continue
        try:
            sites = generate_candidates(
                terrain, polygon, height_agl_m=cfg.height_agl_m, n_high_points=cfg.n_high_points,
                grid_spacing_m=cfg.grid_spacing_m, min_separation_m=cfg.min_separation_m,
                search_buffer_m=0.0, prefix=f"desa_{kode}",
            )
        except BlankspotError:  # the desa lies off the terrain: nothing to place
            continue
        extra.append(sites[_inside(sites, polygon)])
    matrix = sp.csc_matrix(result.matrix.matrix)
    sites = result.sites
    n_plan = len(sites)
    extra_sites = pd.concat(extra) if extra else None
    if extra_sites is not None and len(extra_sites):
        extra_sites = extra_sites.assign(
            cost_idr=pd.array([PASER_TOWER_COST_IDR] * len(extra_sites), dtype="Int64"))
        if result.settings.evaluate_at == "points":
            cols = PointCoverage.compute(terrain, extra_sites, result.demand,
                                       result.settings).matrix(result.demand).matrix
        else:
            cov = _coverage(terrain, extra_sites, result.settings, store)
            cols = build_coverage_matrix(cov, result.demand, budget=result.settings.link).matrix
        matrix = sp.hstack([matrix, sp.csc_matrix(cols)], format="csc")
        keep = [c for c in sites.columns if c in extra_sites.columns]
        sites = pd.concat([sites, extra_sites[keep]])
    return CandidatePool(sites=sites, matrix=sp.csc_matrix(matrix, dtype=np.float64),
                         n_plan_sites=n_plan)


# --- shares ------------------------------------------------------------------------------


def _covered_rows(matrix: sp.csc_matrix, columns: Sequence[int]) -> np.ndarray:
    covered = np.zeros(matrix.shape[0], dtype=bool)
    for j in columns:
        covered[matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]] = True
    return covered


def _desa_people(demand: pd.DataFrame) -> pd.Series:
    return demand.groupby(demand["village_id"].astype(str))["population"].sum().astype(float)


def desa_shares(matrix: sp.csc_matrix, columns: Sequence[int], demand: pd.DataFrame) -> pd.Series:
    """Share of each desa's demand people covered by the sites ``columns`` of ``matrix``.

    Examples
    --------
    >>> m = sp.csc_matrix(np.array([[1, 0], [0, 1], [0, 0]]))
    >>> d = pd.DataFrame({"village_id": ["a", "a", "b"], "population": [3.0, 1.0, 2.0]})
    >>> desa_shares(m, [0], d).to_dict()
    {'a': 0.75, 'b': 0.0}
    """
    covered = _covered_rows(sp.csc_matrix(matrix), columns)
    people = demand["population"].to_numpy(dtype=float)
    vid = demand["village_id"].astype(str).to_numpy()
    got = pd.Series(people * covered).groupby(vid).sum()
    total = pd.Series(people).groupby(vid).sum()
    return (got / total.where(total > 0)).fillna(0.0)


def _reaches_share(share: float, beta: float) -> bool:
    """Whether a desa's covered share reaches β: :func:`blankspot.siting.problem.resolved_mask`,
    the one rule of a desa served, on the share (people covered over people, W = 1).

    >>> _reaches_share(0.8, 0.8), _reaches_share(0.8 - 1e-12, 0.8), _reaches_share(0.79, 0.8)
    (True, True, False)
    """
    return bool(resolved_mask(np.array([float(share)]), np.array([1.0]), float(beta))[0])


def _served(shares: pd.Series, beta: float) -> list[str]:
    return sorted(str(k) for k, s in shares.items() if _reaches_share(s, beta))


def _desa_site_people(matrix: sp.csc_matrix, demand: pd.DataFrame, kode: str) -> np.ndarray:
    """People of desa ``kode`` each site covers (one value per column)."""
    people = demand["population"].to_numpy(dtype=float)
    mask = (demand["village_id"].astype(str) == kode).to_numpy()
    return np.asarray(sp.csr_matrix(matrix)[mask].T @ people[mask]).ravel()


def _best_in_desa(pool: CandidatePool, demand: pd.DataFrame, kode: str, polygon: Any) -> int | None:
    """The candidate inside desa ``kode`` serving the most of its people (ties: more people
    overall, then the first); None when the desa holds no candidate."""
    inside = np.flatnonzero(_inside(pool.sites, polygon))
    if not inside.size:
        return None
    own = _desa_site_people(pool.matrix, demand, kode)[inside]
    overall = np.asarray(pool.matrix.T @ demand["population"].to_numpy(dtype=float)).ravel()[inside]
    order = np.lexsort((np.arange(inside.size), -overall, -own))
    return int(inside[order[0]])


# --- hindcast ----------------------------------------------------------------------------


def _names(villages: gpd.GeoDataFrame, codes: Sequence[str]) -> str:
    names = villages["name"].astype(str).to_dict() if "name" in villages.columns else {}
    return "; ".join(names.get(c, c) for c in codes)


def _plan_row(label: str, pool: CandidatePool, columns: Sequence[int], demand: pd.DataFrame,
              villages: gpd.GeoDataFrame, costs_idr: Sequence[int], budget_idr: int,
              beta: float) -> tuple[dict[str, Any], list[str]]:
    shares = desa_shares(pool.matrix, columns, demand)
    served = _served(shares, beta)
    covered = _covered_rows(pool.matrix, columns)
    site_ids = [str(pool.sites.index[j]) for j in columns]
    tower_desa = []
    for j in columns:
        point = pool.sites.geometry.iloc[j]
        hit = villages.index[villages.geometry.contains(point)]
        tower_desa.append(str(hit[0]) if len(hit) else "")
    row = {
        "plan": label,
        "budget_idr": int(budget_idr),
        "n_towers": len(columns),
        "site_ids": "; ".join(site_ids),
        "tower_desa": _names(villages, [d for d in tower_desa if d]),
        "cost_idr": int(sum(int(c) for c in costs_idr)),
        "people_covered": round(float(demand["population"].to_numpy(float)[covered].sum()), 1),
        "people_target": round(float(demand["population"].sum()), 1),
        "n_desa_served": len(served),
        "desa_served": _names(villages, served),
    }
    return row, served


def hindcast_2022(result: PlanResult, terrain: Terrain, *, store: FootprintStore | None = None,
                  pool: CandidatePool | None = None,
                  tower_cost_idr: int = PASER_TOWER_COST_IDR) -> pd.DataFrame | None:
    """The 2022 plan as built against blankspot's plan at the same budget.

    The 2022 plan is one tower in each ``blankspot_2022`` desa that has demand rows in the plan,
    at the candidate of the pool (:func:`candidate_pool`) inside that desa serving the most of
    its people (ties: more people overall), at ``tower_cost_idr`` each. blankspot's plan is the
    plan's own solution when its budget equals the 2022 cost, else the plan's siting problem
    solved again at that budget with the plan's solver. Both are read off the same matrix.

    Returns a DataFrame with one row per plan: ``plan``, ``budget_idr``, ``n_towers``,
    ``site_ids``, ``tower_desa``, ``cost_idr``, ``people_covered`` and ``people_target``
    (demand people of the target desa), ``n_desa_served``, ``desa_served``, ``served_only_here``
    (desa served by this plan and not the other) and ``desa_2022_not_evaluated`` (2022 desa
    without demand rows in this plan: outside the targets or the terrain). None when the
    villages flag no 2022 desa.
    """
    flagged = _flagged_2022(result.villages)
    if not flagged:
        return None
    pool = pool or candidate_pool(result, terrain, store=store)
    demand = result.demand
    beta = float(result.config.served_share)
    demand_ids = set(demand["village_id"].astype(str))
    cols_2022: list[int] = []
    missing = []
    for kode in flagged:
        best = (_best_in_desa(pool, demand, kode, result.villages.geometry.loc[kode])
                if kode in demand_ids else None)
        if best is None:
            missing.append(kode)
        else:
            cols_2022.append(best)
    budget = len(cols_2022) * int(tower_cost_idr)
    row_2022, served_2022 = _plan_row(PLAN_2022, pool, cols_2022, demand, result.villages,
                                      [tower_cost_idr] * len(cols_2022), budget, beta)

    problem = result.problem
    if int(problem.budget_idr) == budget:
        solution = result.solution
    else:
        solution = solve(problem.with_costs(problem.costs_idr, budget_idr=budget),
                         solver=result.config.solver)
    position = {str(s): j for j, s in enumerate(pool.sites.index)}
    cols_bs = [position[str(s)] for s in solution.site_ids]
    costs_bs = [int(problem.costs_idr[problem.index_of(s)]) for s in solution.site_ids]
    row_bs, served_bs = _plan_row(PLAN_BLANKSPOT, pool, cols_bs, demand, result.villages,
                                  costs_bs, budget, beta)
    only_2022, only_bs = set(served_2022) - set(served_bs), set(served_bs) - set(served_2022)
    row_2022["served_only_here"] = _names(result.villages, sorted(only_2022))
    row_bs["served_only_here"] = _names(result.villages, sorted(only_bs))
    for row in (row_2022, row_bs):
        row["desa_2022_not_evaluated"] = _names(result.villages, missing)
    return pd.DataFrame([row_2022, row_bs])


# --- why not -----------------------------------------------------------------------------


def classify_obstacle(*, within_radius: bool, best_share: float, beta: float,
                      rsrp_dbm: float, canopy_loss_db: float, obstructed: bool,
                      threshold_dbm: float) -> str:
    """What stands between an unserved desa and service, from its best candidate's path.

    ``rsrp_dbm`` is the median RSRP at the settlement and ``threshold_dbm`` the median RSRP a
    place needs to count as covered (the budget's threshold plus its location margin, i.e. the
    RSRP at the MAPL). The rules, tested in this order (:data:`OBSTACLES`):

    1. ``"no candidate"``: no computed candidate lies within the plan's radius of the desa
       (``within_radius`` false).
    2. ``"cost"``: the best candidate alone would serve the desa (``best_share`` ≥ β), but the
       budget went to other sites.
    3. ``"canopy"``: the terminal clutter loss is what pushes the settlement below the
       threshold: ``rsrp_dbm`` < threshold ≤ ``rsrp_dbm + canopy_loss_db``.
    4. ``"terrain"``: the terrain blocks the line of sight between the antennas
       (``obstructed``: the settlement lies beyond the site's radio horizon, the earth bulge
       included), so the signal reaches it only by diffraction.
    5. ``"distance"``: a clear line of sight, but the model's loss over it (free space and the
       ground's reflection, as ITM has it) exceeds the MAPL even without the canopy.

    The 0.6 first-Fresnel-zone clearance is reported beside it but does not decide: toward a
    handset 1.5 m above flat ground that zone is always entered near the handset.

    Examples
    --------
    >>> kw = dict(within_radius=True, best_share=0.3, beta=0.8, threshold_dbm=-98.0)
    >>> classify_obstacle(rsrp_dbm=-112.0, canopy_loss_db=25.0, obstructed=True, **kw)
    'canopy'
    >>> classify_obstacle(rsrp_dbm=-140.0, canopy_loss_db=25.0, obstructed=True, **kw)
    'terrain'
    >>> classify_obstacle(rsrp_dbm=-140.0, canopy_loss_db=25.0, obstructed=False, **kw)
    'distance'
    """
    if not within_radius:
        return "no candidate"
    if _reaches_share(best_share, beta):
        return "cost"
    if math.isfinite(rsrp_dbm) and rsrp_dbm < threshold_dbm <= rsrp_dbm + canopy_loss_db:
        return "canopy"
    if obstructed:
        return "terrain"
    return "distance"


def canopy_loss_db(settings: CoverageSettings, terrain: Terrain, x_m: float, y_m: float) -> float:
    """The P.2108 terminal clutter loss the plan's ITM adds at (x, y); 0 for other models and
    without classes (P.1812 puts its clutter along the path, line of sight has none)."""
    clutter = settings.clutter
    if settings.model != "itm" or clutter is None:
        return 0.0
    if not isinstance(clutter, ClutterModel):
        arr = np.asarray(clutter)
        if not np.issubdtype(arr.dtype, np.integer):
            return 0.0
        clutter = ClutterModel.paser().with_landcover(arr)
    if clutter.uniform_class is not None:
        code = clutter.uniform_class
    elif clutter.landcover is not None:
        row, col = terrain.rowcol(x_m, y_m)
        code = int(clutter.landcover[int(np.clip(np.rint(row), 0, terrain.shape[0] - 1)),
                                     int(np.clip(np.rint(col), 0, terrain.shape[1] - 1))])
    else:
        return 0.0
    cls = clutter.classes.get(code)
    if cls is None:
        return 0.0
    return float(loss_for_class(cls, settings.freq_mhz, settings.rx_height_agl_m))


def _footprints(result: PlanResult, terrain: Terrain, sites: gpd.GeoDataFrame,
                store: FootprintStore | None) -> dict[str, Any]:
    """{site id: footprint} of ``sites``: the plan's own for its chosen towers, the others
    computed in one run with the plan's settings (or read from the store)."""
    assert result.settings is not None
    have = set(result.coverage.site_ids)
    out = {s: result.coverage.footprint(s) for s in map(str, sites.index) if s in have}
    missing = sites[[str(s) not in have for s in sites.index]]
    if len(missing):
        cov = _coverage(terrain, missing, result.settings, store)
        out.update({fp.site_id: fp for fp in cov.footprints})
    return out


def _rsrp_at(footprint: Any, terrain: Terrain, link: Any, x_m: float, y_m: float) -> float:
    """Median RSRP (dBm) of ``footprint`` at the cell holding (x, y); NaN where the engine
    computed none (beyond its loss cut-off or radius)."""
    row, col = terrain.rowcol(x_m, y_m)
    loss = footprint.sample(np.rint(row).astype(np.int64).reshape(1),
                            np.rint(col).astype(np.int64).reshape(1))[0]
    return float(link.rsrp_dbm(float(loss))) if np.isfinite(loss) else math.nan


def _profile_model(settings: CoverageSettings) -> str:
    return settings.model if settings.model in ("itm", "p1812") else "fspl"


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


WHY_NOT_COLUMNS = (
    "kode", "nama", "population", "share_covered", "served", "obstacle", "best_site_id",
    "best_site_chosen", "best_site_share", "best_site_cost_idr", "distance_m",
    "settlement_people", "settlement_lon", "settlement_lat", "rsrp_dbm", "rsrp_needed_dbm",
    "canopy_loss_db", "clearance_m", "los_obstructed", "profile",
)
"""Columns of the why-not table, in order."""


def why_not(result: PlanResult, terrain: Terrain, *, store: FootprintStore | None = None,
            pool: CandidatePool | None = None) -> tuple[pd.DataFrame, dict[str, bytes]]:
    """Per target desa: served or not, and for each one not served, why.

    A desa is served when the plan covers at least β of its demand people. For one that is
    not:

    - its *best candidate* is, among the pool's sites (:func:`candidate_pool`) within the
      plan's radius of one of its demand rows, the one covering the largest share of its
      people (ties: more people overall; when none covers any, the nearest); none within the
      radius is ``"no candidate"``;
    - its *settlement* is the most populous demand row of the desa that the best candidate does
      not cover (all rows when it covers every one); ties, as between uniform demand cells, go
      to the row nearest the people-weighted centre of those rows: the people the plan would
      have to reach;
    - the path from the candidate to the settlement is drawn with
      :func:`blankspot.diagnostics.profile_plot` (the plan's model: ITM, P.1812 on the bare
      terrain, or free space for line of sight) and gives ``los_obstructed``, ``clearance_m``
      and ``distance_m``; a path that cannot be profiled (the site on the settlement itself)
      is taken as unobstructed and has no profile;
    - ``rsrp_dbm`` is the coverage engine's median RSRP of the best candidate at the
      settlement (canopy included: what decided the desa): on the exact path to the
      settlement with ``evaluate_at="points"``, else at the settlement's cell of the
      candidate's footprint; or, where the engine computed
      none (a loss beyond its cut-off), the budget's RSRP of the exact path's loss plus the
      canopy loss of :func:`canopy_loss_db`; ``rsrp_needed_dbm`` is the median RSRP a place
      needs (the threshold plus the location margin);
    - :func:`classify_obstacle` names the obstacle.

    On the raster, the footprints of best candidates the plan did not choose are computed in
    one run (read from ``store`` where it has them).

    Returns the table (columns :data:`WHY_NOT_COLUMNS`; ``profile`` is
    ``profiles/<kode>.png``, empty without a profile) and {kode: PNG bytes}.
    """
    import geopandas as gpd

    settings = result.settings
    if settings is None:
        raise InputError("the plan carries no coverage settings (PlanResult.settings is None); "
                         "run it with blankspot.plan.plan(), which sets them.")
    pool = pool or candidate_pool(result, terrain, store=store)
    demand = result.demand
    beta = float(result.config.served_share)
    link = settings.link
    needed_dbm = float(link.rsrp_dbm(link.max_path_loss_db))  # threshold + location margin
    position = {str(s): j for j, s in enumerate(pool.sites.index)}
    chosen = [position[str(s)] for s in result.solution.site_ids]
    shares = desa_shares(pool.matrix, chosen, demand)
    people = _desa_people(demand)
    names = result.villages["name"].astype(str).to_dict()
    overall = np.asarray(pool.matrix.T @ demand["population"].to_numpy(dtype=float)).ravel()
    sx = pool.sites.geometry.x.to_numpy()
    sy = pool.sites.geometry.y.to_numpy()
    rows: list[dict[str, Any]] = []
    pngs: dict[str, bytes] = {}
    todo: list[tuple[dict[str, Any], int, float, float, float, float]] = []
    for kode in (str(t) for t in result.target_ids):
        share = float(shares.get(kode, 0.0))
        row: dict[str, Any] = {c: None for c in WHY_NOT_COLUMNS}
        served = _reaches_share(share, beta) and kode in people
        row.update(kode=kode, nama=names.get(kode, kode),
                   population=round(float(people.get(kode, 0.0)), 1),
                   share_covered=round(share, 4), served=served, obstacle="", profile="")
        rows.append(row)
        if row["served"] or kode not in people:
            continue
        mask = (demand["village_id"].astype(str) == kode).to_numpy()
        idx = np.flatnonzero(mask)
        pop = demand["population"].to_numpy(dtype=float)[idx]
        dx = demand.geometry.x.to_numpy()[idx]
        dy = demand.geometry.y.to_numpy()[idx]
        own = _desa_site_people(pool.matrix, demand, kode)
        desa_share = own / people[kode] if people[kode] > 0 else own * 0.0
        near = (np.min(np.hypot(sx[:, None] - dx[None, :], sy[:, None] - dy[None, :]), axis=1)
                if len(sx) else np.zeros(0))
        eligible = np.flatnonzero(near <= settings.radius_m)
        if not eligible.size:
            row["obstacle"] = classify_obstacle(
                within_radius=False, best_share=0.0, beta=beta, rsrp_dbm=math.nan,
                canopy_loss_db=0.0, obstructed=False, threshold_dbm=needed_dbm)
            continue
        if desa_share[eligible].max() > 0:
            order = np.lexsort((eligible, -overall[eligible], -desa_share[eligible]))
        else:
            order = np.lexsort((eligible, near[eligible]))
        j = int(eligible[order[0]])
        column = pool.matrix.indices[pool.matrix.indptr[j]:pool.matrix.indptr[j + 1]]
        covered_here = np.isin(idx, column)
        rows_k = np.flatnonzero(~covered_here) if (~covered_here).any() else np.arange(idx.size)
        weights = pop[rows_k] if pop[rows_k].sum() > 0 else np.ones(rows_k.size)
        cx, cy = np.average(dx[rows_k], weights=weights), np.average(dy[rows_k], weights=weights)
        to_centre = np.hypot(dx[rows_k] - cx, dy[rows_k] - cy)
        k = int(rows_k[np.lexsort((to_centre, -pop[rows_k]))[0]])
        todo.append((row, j, float(desa_share[j]), float(pop[k]), float(dx[k]), float(dy[k])))

    at_points = settings.evaluate_at == "points"
    footprints = {} if at_points else _footprints(
        result, terrain, pool.sites.iloc[sorted({t[1] for t in todo})], store)
    for row, j, share_j, people_k, x, y in todo:
        site_id = str(pool.sites.index[j])
        kode = row["kode"]
        canopy = canopy_loss_db(settings, terrain, x, y)
        if at_points:  # the loss the plan counted: the exact path to the settlement
            loss = settings.point_losses(terrain, pool.sites.iloc[[j]], [[x, y]]).toarray()
            rsrp = float(link.rsrp_dbm(loss[0, 0])) if loss[0, 0] > 0 else math.nan
        else:
            rsrp = _rsrp_at(footprints[site_id], terrain, link, x, y)
        row.update(best_site_id=site_id, best_site_chosen=j in chosen,
                   best_site_share=round(share_j, 4),
                   best_site_cost_idr=int(pool.sites["cost_idr"].iloc[j]),
                   settlement_people=round(people_k, 2), rsrp_needed_dbm=round(needed_dbm, 1),
                   canopy_loss_db=round(canopy, 1))
        lonlat = gpd.GeoSeries(gpd.points_from_xy([x], [y]), crs=demand.crs).to_crs("EPSG:4326")
        row.update(settlement_lon=round(float(lonlat.x.iloc[0]), 6),
                   settlement_lat=round(float(lonlat.y.iloc[0]), 6))
        try:
            fig, rep = profile_plot(
                terrain, (float(sx[j]), float(sy[j])), (x, y),
                tx_height_agl_m=float(pool.sites["height_agl_m"].iloc[j]),
                rx_height_agl_m=settings.rx_height_agl_m, freq_mhz=settings.freq_mhz,
                k_factor=settings.k_factor, model=_profile_model(settings),
            )
        except BlankspotError:  # the site stands on the settlement, or nodata between them
            row.update(obstacle=classify_obstacle(
                within_radius=True, best_share=share_j, beta=beta, rsrp_dbm=rsrp,
                canopy_loss_db=canopy, obstructed=False, threshold_dbm=needed_dbm),
                rsrp_dbm=None if not math.isfinite(rsrp) else round(rsrp, 1))
            continue
        if not math.isfinite(rsrp):  # beyond the engine's cut-off: the exact path's
            rsrp = float(link.rsrp_dbm(rep.loss_db + canopy))
        fig.suptitle(f"{row['nama']} ({kode}): site {site_id}", fontsize=9)
        pngs[kode] = _png(fig)
        row.update(
            obstacle=classify_obstacle(within_radius=True, best_share=share_j, beta=beta,
                                       rsrp_dbm=rsrp, canopy_loss_db=canopy,
                                       obstructed=rep.obstructed, threshold_dbm=needed_dbm),
            distance_m=round(rep.distance_m, 1), rsrp_dbm=round(rsrp, 1),
            clearance_m=round(rep.clearance_m, 1), los_obstructed=rep.obstructed,
            profile=f"profiles/{kode}.png",
        )
    table = pd.DataFrame(rows, columns=list(WHY_NOT_COLUMNS))
    table["best_site_cost_idr"] = table["best_site_cost_idr"].astype("Int64")
    return table, pngs


def explain(result: PlanResult, terrain: Terrain, *,
            store: FootprintStore | None = None) -> Explanation:
    """:func:`hindcast_2022` and :func:`why_not` on one pool of candidates."""
    pool = candidate_pool(result, terrain, store=store)
    table, pngs = why_not(result, terrain, store=store, pool=pool)
    return Explanation(hindcast=hindcast_2022(result, terrain, pool=pool), why_not=table,
                       profiles_png=pngs)
