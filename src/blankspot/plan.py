"""The whole chain, terrain to a ranked tower plan: :func:`plan` (any data) and :func:`plan_paser`.

    inputs (io.inputs)    ──► villages + population ──► demand cells of the target desa
    terrain + candidates  ──► per-site coverage (CoverageSettings), streamed per batch or on dask,
                              read from and written to the footprint store
                          ──► coverage matrix (demand × site, sparse) ──► SitingProblem ──► solve
    chosen towers         ──► coverage raster, per-desa table, ranking (reporting writes them)

This module holds the chain only: the config is :mod:`blankspot.config`, reading is
:mod:`blankspot.io.inputs`, footprints are :mod:`blankspot.footprints`, and everything shown or
written is :mod:`blankspot.reporting`.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm import tqdm

from blankspot.aggregate import (
    CoverageMatrix,
    PointCoverage,
    build_coverage_matrix,
    matrix_from_point_losses,
    points_xy,
    village_summary,
)
from blankspot.cache import resolve_cache_dir
from blankspot.candidates import combine_sites, generate_candidates
from blankspot.config import PASER_BUDGET_IDR, PASER_TOWER_COST_IDR, PlanConfig
from blankspot.costs import CostModel, CostParameters
from blankspot.coverage import CoverageResult
from blankspot.crs import require_same
from blankspot.demand import demand_layer, select_villages
from blankspot.distributed import compute_footprints, point_path_loss_distributed
from blankspot.errors import ConfigError, InputError
from blankspot.footprints import DemandIndex, FootprintStore, Grid, terrain_key
from blankspot.hindcast import explain
from blankspot.io.inputs import Inputs, InputSpec, read_inputs
from blankspot.io.terrain_source import TerrainSource, terrain_source_on_grid
from blankspot.population import estimate_population
from blankspot.propagation.budget import LinkBudget
from blankspot.reporting.outputs import write_outputs
from blankspot.reporting.summary import plan_folium_map, plan_summary, summary_html, terrain_note
from blankspot.reporting.tables import (
    desa_service,
    desa_table,
    kecamatan_table,
    main_settlement_service,
    ranking_table,
)
from blankspot.settings import CoverageSettings
from blankspot.siting import (
    SitingProblem,
    SitingResult,
    cost_coverage_curve,
    solve,
    stability_from_problems,
)
from blankspot.terrain import Terrain

if TYPE_CHECKING:
    import os

    import folium
    import geopandas as gpd

__all__ = [
    "PASER_BUDGET_IDR",
    "PASER_TOWER_COST_IDR",
    "PlanConfig",
    "PlanResult",
    "coverage_matrices_distributed",
    "coverage_matrix_streamed",
    "default_curve_budgets_idr",
    "plan",
    "plan_inputs",
    "plan_paser",
    "plan_summary",
    "terrain_note",
    "write_outputs",
]


@dataclass(frozen=True, eq=False)
class PlanResult:
    """Every intermediate object of one run of the chain."""

    config: PlanConfig
    villages: gpd.GeoDataFrame  # population estimates, coverage summary and target flag
    target_ids: tuple[str, ...]
    demand: gpd.GeoDataFrame  # demand cells of the target desa
    sites: gpd.GeoDataFrame  # all candidate sites
    matrix: CoverageMatrix  # target demand × candidates
    problem: SitingProblem
    solution: SitingResult
    coverage: CoverageResult  # of the chosen towers (full footprints)
    ranking: pd.DataFrame
    desa: pd.DataFrame
    kecamatan: pd.DataFrame
    site_costs: pd.DataFrame
    people_served_existing: float  # people in target desa already served by existing towers
    certificate: SitingResult | None  # of the exact solver
    curve: pd.DataFrame | None
    stability: pd.DataFrame | None
    terrain_source: str
    terrain_synthetic: bool
    timings_s: dict[str, float]
    footprint_cache: dict[str, Any] | None = None  # {"folder", "hits", "misses"} when run with cache_dir
    demand_model: str = "uniform"
    """How people are placed within each desa, and from which source, in words
    (:attr:`blankspot.demand.DemandLayer.label`), e.g. ``settlements: 1 per desa (GeoNames
    place 7, representative point 137)``."""
    data_sources: tuple[dict[str, Any], ...] = ()
    """Registry entries of fetched public data the plan used (URL, bytes, SHA-256, licence)."""
    settings: CoverageSettings | None = None
    """The radio settings the coverage ran with (the clutter resolved, a land-cover grid too)."""
    hindcast: pd.DataFrame | None = None
    """The 2022 towers as built against this plan at the same budget
    (:func:`blankspot.hindcast.hindcast_2022`); None when no desa is flagged ``blankspot_2022``."""
    why_not: pd.DataFrame | None = None
    """Per target desa: served or not, and why not (:func:`blankspot.hindcast.why_not`)."""
    profiles_png: dict[str, bytes] | None = None
    """{kode: PNG} path profile from each unserved target desa's best candidate to its settlement."""

    def model_label(self) -> str:
        """The propagation model as it ran, in words (model, clutter, terrain resolution)."""
        if self.settings is None:
            return self.config.model_label()
        return self.settings.label(self.config.terrain_res_m)

    @property
    def total_cost_idr(self) -> int:
        return int(self.solution.total_cost_idr)

    @property
    def people_covered(self) -> float:
        return float(self.solution.covered_weight)

    def _repr_html_(self) -> str:
        return summary_html(self)

    def explore(self) -> folium.Map:
        """The interactive folium map of this plan (the ``map.html`` of :func:`write_outputs`)."""
        return plan_folium_map(self)


def _columns_to_matrix(cols: Sequence[sp.spmatrix | sp.sparray], demand: pd.DataFrame,
                       site_ids: tuple[str, ...], *, probability: bool = False) -> CoverageMatrix:
    matrix = sp.hstack(cols, format="csc") if cols else sp.csc_matrix((len(demand), 0))
    return CoverageMatrix(matrix=matrix.tocsc(),
                          demand=pd.DataFrame(demand[["village_id", "population"]]),
                          site_ids=site_ids,
                          probability=matrix.tocsc() if probability else None)


def coverage_matrix_streamed(
    terrain: Terrain, sites: gpd.GeoDataFrame, demand: pd.DataFrame, *,
    settings: CoverageSettings, budgets: Sequence[LinkBudget] | None = None,
    store: FootprintStore | None = None, batch_size: int = 8, progress: bool = False,
    sigma_l_db: float | None = None, probability_floor: float = 0.01,
) -> list[CoverageMatrix]:
    """Demand × site coverage matrices, computing footprints a batch of sites at a time.

    Only the sparse columns are kept, so memory does not grow with the number of candidates.
    One matrix per budget of ``budgets`` (default: the settings' link budget), all from the same
    footprints. With ``store`` stored footprints are read instead of computed. With
    ``sigma_l_db`` the matrices hold coverage probabilities (see
    :func:`blankspot.aggregate.build_coverage_matrix`), entries under ``probability_floor``
    dropped. With
    ``settings.evaluate_at == "points"`` no footprint is computed: each site's loss is computed
    on the exact path to each demand point within its radius
    (:meth:`CoverageSettings.point_losses`), and ``store`` is not used.
    """
    budgets = list(budgets) if budgets is not None else [settings.link]
    if settings.evaluate_at == "points":
        return _point_matrices(terrain, sites, demand, settings, budgets, batch_size, progress)
    columns: list[list[Any]] = [[] for _ in budgets]
    with tqdm(total=len(sites), desc="coverage", unit="site", leave=False,
              disable=not progress) as bar:
        for i in range(0, len(sites), batch_size):
            batch = sites.iloc[i : i + batch_size]
            cov = _coverage(terrain, batch, settings, store)
            for cols, budget in zip(columns, budgets, strict=True):
                built = build_coverage_matrix(cov, demand, budget=budget, sigma_l_db=sigma_l_db,
                                              probability_floor=probability_floor)
                cols.append(built.matrix if built.probability is None else built.probability)
            bar.update(len(batch))
    ids = tuple(str(s) for s in sites.index)
    return [_columns_to_matrix(cols, demand, ids, probability=sigma_l_db is not None)
            for cols in columns]


def _point_matrices(terrain: Terrain, sites: gpd.GeoDataFrame, demand: pd.DataFrame,
                    settings: CoverageSettings, budgets: Sequence[LinkBudget], batch_size: int,
                    progress: bool) -> list[CoverageMatrix]:
    """The matrices of :func:`coverage_matrix_streamed` from the losses at the demand points."""
    xy = points_xy(demand, terrain.crs, "demand cells")
    parts = []
    with tqdm(total=len(sites), desc="coverage", unit="site", leave=False,
              disable=not progress) as bar:
        for i in range(0, len(sites), batch_size):
            batch = sites.iloc[i : i + batch_size]
            parts.append(settings.point_losses(terrain, batch, xy))
            bar.update(len(batch))
    loss = sp.hstack(parts, format="csc") if parts else sp.csc_array((len(demand), 0))
    ids = tuple(str(s) for s in sites.index)
    return [matrix_from_point_losses(loss, demand, ids, budget=b) for b in budgets]


def coverage_matrices_distributed(
    terrain: Terrain, terrain_source: TerrainSource, sites: gpd.GeoDataFrame, demand: pd.DataFrame,
    *, settings: CoverageSettings, budgets: Sequence[LinkBudget], client: Any = None,
    scheduler: str = "local", cache_dir: Any = None, progress: bool = False,
) -> list[CoverageMatrix]:
    """The matrices of :func:`coverage_matrix_streamed`, computed on dask workers.

    Each site is one task running the same per-site function; workers read only their terrain
    window from ``terrain_source`` and footprints come back sparse (stored in the footprint
    store under ``cache_dir``, keyed on the content of ``terrain``). ``scheduler``: ``"local"``
    (a LocalCluster for this call), ``"threads"``, or ``"tcp://HOST:PORT"``.
    """
    grid = Grid.from_terrain(terrain)
    if settings.evaluate_at == "points":
        loss = point_path_loss_distributed(
            terrain_source, sites, points_xy(demand, terrain.crs, "demand cells"), grid=grid,
            client=client, scheduler=None if scheduler == "local" else scheduler,
            progress=progress, **settings.point_options(),
        )  # fmt: skip
        ids = tuple(str(s) for s in sites.index)
        return [matrix_from_point_losses(loss, demand, ids, budget=b) for b in budgets]
    footprints = compute_footprints(
        terrain_source,
        sites,
        grid=grid,
        model=settings.model,
        radius_m=settings.radius_m,
        max_path_loss_db=max(b.max_path_loss_db for b in budgets),
        client=client,
        scheduler=None if scheduler == "local" else scheduler,
        cache_dir=cache_dir,
        progress=progress,
        terrain_key=terrain_key(terrain),
        **settings.site_options(),
    )
    index = DemandIndex.from_cells(demand, grid)
    out = []
    for budget in budgets:
        cols = [fp.column(index, max_path_loss_db=budget.max_path_loss_db) for fp in footprints]
        indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])]).astype(np.int64)
        indices = np.concatenate(cols).astype(np.int32) if cols else np.zeros(0, np.int32)
        matrix = sp.csc_matrix((np.ones(len(indices), dtype=np.uint8), indices, indptr),
                               shape=(len(demand), len(footprints)))
        out.append(CoverageMatrix(matrix=matrix, demand=pd.DataFrame(demand[["village_id", "population"]]),
                                  site_ids=tuple(str(s) for s in sites.index)))
    return out


def _coverage(terrain: Terrain, sites: gpd.GeoDataFrame, settings: CoverageSettings,
              store: FootprintStore | None) -> CoverageResult:
    """Coverage of ``sites``: from the store where it has them, else computed."""
    if store is not None and len(sites):
        return store.coverage(terrain, sites)
    return settings.compute(terrain, sites)


def default_curve_budgets_idr(budget_idr: int, step_idr: int) -> tuple[int, ...]:
    """Budgets from 0 to twice ``budget_idr`` in steps of one tower price (at most 41 points)."""
    step = max(int(step_idr), 1)
    top = 2 * int(budget_idr)
    n = min(top // step, 40)
    values = {i * step for i in range(n + 1)} | {int(budget_idr), top}
    return tuple(sorted(values))


def _desa_newly_served(matrix: Any, order: Sequence[int], demand: pd.DataFrame,
                       names: dict[str, str]) -> list[list[str]]:
    """For each pick, the desa in which that pick newly covers people (in pick order)."""
    csc = sp.csc_matrix(matrix)
    covered = np.zeros(csc.shape[0], dtype=bool)
    vids = demand["village_id"].to_numpy()
    out = []
    for j in order:
        col = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        new = col[~covered[col]]
        covered[col] = True
        out.append(sorted({names.get(v, v) for v in vids[new]}))
    return out


def _candidates(villages: gpd.GeoDataFrame, targets: Sequence[str], terrain: Terrain,
                config: PlanConfig, user_sites: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Generated candidates around the target desa, plus the planner's own."""
    sites = None
    if config.generate_candidates:
        area = villages.loc[list(targets)].geometry.union_all()
        sites = generate_candidates(
            terrain,
            area,
            height_agl_m=config.height_agl_m,
            n_high_points=config.n_high_points,
            grid_spacing_m=config.grid_spacing_m,
            min_separation_m=config.min_separation_m,
            search_buffer_m=config.search_buffer_m,
        )
    if user_sites is not None:
        sites = user_sites if sites is None else combine_sites(user_sites, sites)
    if sites is None or len(sites) == 0:
        raise InputError(
            "no candidate sites: pass user_sites or keep generate_candidates=True in the PlanConfig."
        )
    return sites


def _priced(sites: gpd.GeoDataFrame, config: PlanConfig, *,
            roads: gpd.GeoDataFrame | None = None, power_lines: gpd.GeoDataFrame | None = None,
            ) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Sites with ``cost_idr`` filled (a given cost is kept), and every site's cost breakdown:
    road and grid distances measured from the ``roads`` and ``power_lines`` layers when given
    (their flags then say measured), else the cost model's default distances."""
    model = CostModel(config.cost_params or CostParameters.default())
    site_costs = model.site_costs(sites, roads=roads, grid=power_lines)
    if config.tower_cost_idr is not None:
        estimate = pd.Series(config.tower_cost_idr, index=sites.index, dtype="Int64")
    else:
        estimate = pd.Series(site_costs["capex_idr"].to_numpy(), index=sites.index, dtype="Int64")
    given = sites["cost_idr"].astype("Int64")
    sites = sites.assign(cost_idr=given.fillna(estimate).astype("Int64"))
    cost_from = np.where(given.notna(), "site file",
                         "flat price" if config.tower_cost_idr is not None else "cost model")
    site_costs = site_costs.assign(cost_idr=sites["cost_idr"].astype(np.int64), cost_from=cost_from)
    return sites, site_costs


def _probability_options(config: PlanConfig) -> dict[str, Any]:
    """The matrix options of ``config.coverage``: σ_L and the floor for probabilities."""
    if config.coverage != "probability":
        return {}
    return {"sigma_l_db": config.sigma_l_db, "probability_floor": config.probability_floor}


def _stability_budgets(config: PlanConfig) -> list[LinkBudget]:
    """The budget, then (with ``stability_threshold_db``) the threshold − d and + d."""
    budgets = [config.link]
    if config.stability_threshold_db:
        d = config.stability_threshold_db
        budgets += [config.link.replace(threshold_dbm=config.link.threshold_dbm - d),
                    config.link.replace(threshold_dbm=config.link.threshold_dbm + d)]
    return budgets


def _problem(matrix: CoverageMatrix, demand: pd.DataFrame, costs: np.ndarray,
             config: PlanConfig) -> SitingProblem:
    weights = demand["population"].to_numpy(dtype=float)
    probabilities = config.coverage == "probability"
    return SitingProblem.from_matrix(
        matrix.probability if probabilities and matrix.probability is not None else matrix.matrix,
        weights,
        costs,
        config.budget_idr,
        site_ids=list(matrix.site_ids),
        max_towers=config.max_towers,
        groups=demand["village_id"].to_numpy(),
        resolved_share=config.served_share,
        objective=config.siting_objective(float(weights.sum())),
        probabilities=probabilities,
        probability_floor=config.probability_floor,
    )


def _curve_and_stability(problem: SitingProblem, matrices: list[CoverageMatrix],
                         demand: pd.DataFrame, costs: np.ndarray, config: PlanConfig
                         ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The cost–coverage curve and, with ``stability_threshold_db``, the ranking stability."""
    step = int(np.median(costs)) if len(costs) else config.budget_idr or 1
    budgets_idr = config.curve_budgets_idr or default_curve_budgets_idr(config.budget_idr, step)
    curve = cost_coverage_curve(problem, budgets_idr, lp_bound=False)
    stability = None
    if config.stability_threshold_db:
        d = config.stability_threshold_db
        scenarios: dict[Hashable, SitingProblem] = {
            "base": problem,
            "cost x0.6": problem.with_costs(np.round(costs * 0.6).astype(np.int64)),
            "cost x1.4": problem.with_costs(np.round(costs * 1.4).astype(np.int64)),
            f"threshold -{d:g} dB": _problem(matrices[1], demand, costs, config),
            f"threshold +{d:g} dB": _problem(matrices[2], demand, costs, config),
        }
        stability = stability_from_problems(scenarios, lp_bound=False)
    return curve, stability


def plan(
    villages: gpd.GeoDataFrame,
    terrain: Terrain,
    *,
    config: PlanConfig = PlanConfig(),
    user_sites: gpd.GeoDataFrame | None = None,
    existing_sites: gpd.GeoDataFrame | None = None,
    kecamatan_totals: pd.DataFrame | None = None,
    progress: bool = False,
    scheduler: str | None = None,
    client: Any = None,
    terrain_source: TerrainSource | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    landcover: np.ndarray | None = None,
    population_raster: str | os.PathLike[str] | None = None,
    roads: gpd.GeoDataFrame | None = None,
    power_lines: gpd.GeoDataFrame | None = None,
    data_sources: Sequence[dict[str, Any]] = (),
    settlements: gpd.GeoDataFrame | None = None,
    places: gpd.GeoDataFrame | None = None,
) -> PlanResult:
    """Run the chain on any data already read into the analysis CRS.

    Candidate coverage runs in this process unless ``scheduler`` (``"local"``, ``"threads"`` or
    ``"tcp://HOST:PORT"``) or a dask ``client`` is given; then each site is a task on the
    cluster, reading its window from ``terrain_source`` (default: ``terrain`` written once to
    ``cache_dir``, or to a temporary folder removed afterwards). The science is the same code
    either way, and so are the results.

    ``existing_sites`` (sites schema; e.g. operators' towers from an OpenCelliD export) are
    modelled with the same radio settings; demand cells they already serve are removed before
    siting, and the per-desa tables count them as covered.

    ``villages`` follows the villages schema (index ``village_id``; ``name``, ``kecamatan``,
    ``population``); when ``kecamatan_totals`` is given, missing and dated figures are estimated
    with :func:`blankspot.population.estimate_population` first.

    Real data, where read (:func:`blankspot.io.inputs.read_inputs`): ``landcover``
    (WorldCover classes on the terrain grid) is the clutter under each handset with
    ``clutter="auto"``; ``population_raster``, ``landcover``, ``settlements`` (points with
    name, population, source) and ``places`` (known places) place each desa's people within it
    (:func:`blankspot.demand.demand_layer`, by ``config.demand_model``); without a land-cover
    grid the settlement points' cells are built-up among tree cover (``clutter="auto"``,
    :func:`blankspot.clutter.settlement_clutter`); ``roads``
    and ``power_lines`` give each candidate its measured road and grid distance in the cost
    model; ``data_sources`` (registry entries of fetched files) go into the metadata.
    """
    timings: dict[str, float] = {}
    t0 = t = time.perf_counter()
    require_same(villages.crs, terrain.crs, "villages", "the terrain")
    if kecamatan_totals is not None:
        villages = estimate_population(villages, kecamatan_totals)
    targets = select_villages(villages, config.targets)
    layer = demand_layer(villages, model=config.demand_model, cell_size_m=config.cell_size_m,
                         population_raster=population_raster, landcover=landcover,
                         terrain=terrain, settlements=settlements, places=places)
    is_target = layer.cells["village_id"].isin(list(targets)).to_numpy()
    demand = layer.cells.loc[is_target].reset_index(drop=True).rename_axis("cell_id")
    points = layer.settlement_points()
    settings = config.coverage_settings(
        landcover, terrain=terrain,
        settlement_xy=(points["x_m"].to_numpy(), points["y_m"].to_numpy()))
    store = FootprintStore.open(cache_dir, terrain, settings)
    timings["demand_s"] = time.perf_counter() - t

    at_points = settings.evaluate_at == "points"
    existing_cov: CoverageResult | PointCoverage | None = None
    people_served_existing = 0.0
    if existing_sites is not None and len(existing_sites):
        t = time.perf_counter()
        if at_points:
            existing_cov = PointCoverage.compute(terrain, existing_sites, layer.cells, settings)
            served = existing_cov.covered_rows(settings.link)[is_target]
        else:
            existing_cov = _coverage(terrain, existing_sites, settings, store)
            served = np.asarray(build_coverage_matrix(existing_cov, demand).matrix.sum(axis=1)).ravel() > 0
        people_served_existing = float(demand["population"].to_numpy()[served].sum())
        demand = demand.loc[~served]
        timings["existing_s"] = time.perf_counter() - t

    t = time.perf_counter()
    sites = _candidates(villages, targets, terrain, config, user_sites)
    timings["candidates_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sites, site_costs = _priced(sites, config, roads=roads, power_lines=power_lines)
    timings["costs_s"] = time.perf_counter() - t

    t = time.perf_counter()
    budgets = _stability_budgets(config)
    if scheduler is not None or client is not None:
        if config.coverage == "probability":
            raise ConfigError(
                "coverage='probability' runs in this process only for now: dask workers return "
                f"covered cells, not their path loss; received scheduler={scheduler!r}. Drop "
                "the scheduler (and client), or use coverage='threshold'."
            )
        matrices = _distributed_matrices(terrain, terrain_source, sites, demand, settings=settings,
                                         budgets=budgets, client=client, scheduler=scheduler,
                                         cache_dir=cache_dir, progress=progress)
    else:
        matrices = coverage_matrix_streamed(terrain, sites, demand, settings=settings,
                                            budgets=budgets, store=store,
                                            batch_size=config.batch_size, progress=progress,
                                            **_probability_options(config))
    matrix = matrices[0]
    timings["coverage_s"] = time.perf_counter() - t

    t = time.perf_counter()
    costs = sites["cost_idr"].astype(np.int64).to_numpy()
    problem = _problem(matrix, demand, costs, config)
    solution = solve(problem, solver=config.solver)
    timings["siting_s"] = time.perf_counter() - t

    certificate = None
    if config.certify and len(sites):
        t = time.perf_counter()
        certificate = solve(problem, solver="exact", time_limit_s=config.exact_time_limit_s)
        timings["certify_s"] = time.perf_counter() - t
        if config.objective == "desa" and (certificate.desa_resolved or 0) > (
                solution.desa_resolved or 0):
            # the greedy's capped desa shares missed a desa the exact plan serves: plan that
            solution = replace(certificate, note=(
                f"the exact plan serves {certificate.desa_resolved} target desa, the greedy "
                f"{solution.desa_resolved or 0}, so the plan is the exact one (ranked by gain "
                f"per Rupiah). {certificate.note}"))

    t = time.perf_counter()
    curve, stability = _curve_and_stability(problem, matrices, demand, costs, config)
    timings["curve_stability_s"] = time.perf_counter() - t

    t = time.perf_counter()
    chosen = sites.loc[list(solution.site_ids)]
    coverage = _coverage(terrain, chosen, settings, store)  # the map's raster, in either mode
    chosen_at = PointCoverage.compute(terrain, chosen, layer.cells, settings) if at_points else coverage
    tables = _tables(villages, targets, demand, sites, site_costs, matrix, solution, config,
                     (chosen_at, existing_cov), layer.cells)
    timings["report_s"] = time.perf_counter() - t

    result = PlanResult(
        config=config,
        villages=tables["villages"],
        target_ids=tuple(targets),
        demand=demand,
        sites=sites,
        matrix=matrix,
        problem=problem,
        solution=solution,
        coverage=coverage,
        ranking=tables["ranking"],
        desa=tables["desa"],
        kecamatan=tables["kecamatan"],
        site_costs=site_costs,
        people_served_existing=people_served_existing,
        certificate=certificate,
        curve=curve,
        stability=stability,
        terrain_source=terrain.source,
        terrain_synthetic=bool(terrain.synthetic),
        timings_s=timings,
        footprint_cache=None if store is None else store.stats(),
        demand_model=layer.label,
        data_sources=tuple(data_sources),
        settings=settings,
    )
    t = time.perf_counter()
    explained = explain(result, terrain, store=store)
    timings["hindcast_why_not_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    return replace(result, hindcast=explained.hindcast, why_not=explained.why_not,
                   profiles_png=dict(explained.profiles_png))


def _distributed_matrices(terrain: Terrain, terrain_source: TerrainSource | None,
                          sites: gpd.GeoDataFrame, demand: pd.DataFrame, *,
                          settings: CoverageSettings, budgets: list[LinkBudget], client: Any,
                          scheduler: str | None, cache_dir: Any, progress: bool
                          ) -> list[CoverageMatrix]:
    """Candidate coverage on dask; the terrain is written for workers when no source is given
    (into the cache folder, or a temporary folder removed afterwards)."""
    temporary = None
    if terrain_source is None:
        folder = resolve_cache_dir(cache_dir)
        terrain_source = terrain_source_on_grid(terrain, folder)
        if folder is None:
            temporary = Path(terrain_source.paths[0]).parent
    try:
        return coverage_matrices_distributed(
            terrain, terrain_source, sites, demand, settings=settings, budgets=budgets,
            client=client, scheduler=scheduler or "local", cache_dir=cache_dir, progress=progress,
        )
    finally:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def _tables(villages: gpd.GeoDataFrame, targets: Sequence[str], demand: pd.DataFrame,
            sites: gpd.GeoDataFrame, site_costs: pd.DataFrame, matrix: CoverageMatrix,
            solution: SitingResult, config: PlanConfig,
            coverages: tuple[CoverageResult | PointCoverage | None, ...],
            all_cells: pd.DataFrame) -> dict[str, Any]:
    """The ranking, per-desa and per-kecamatan tables, over every desa (not only the targets).

    ``coverages`` is (chosen towers in pick order, existing towers or None): their footprints,
    or, with ``evaluate_at="points"``, their losses at ``all_cells``' points."""
    options = _probability_options(config)
    n = len(all_cells)
    picks: list[np.ndarray] = []
    before = np.zeros(n)
    for k, cov in enumerate(coverages):
        if cov is None or not len(cov.site_ids):
            continue
        built = (cov.matrix(all_cells, config.link) if isinstance(cov, PointCoverage)
                 else build_coverage_matrix(cov, all_cells, budget=config.link, **options))
        m = sp.csc_array(built.matrix if built.probability is None else built.probability)
        for j in range(m.shape[1]):
            sl = slice(m.indptr[j], m.indptr[j + 1])
            col = np.zeros(n)
            col[m.indices[sl]] = m.data[sl]
            if k == 0:
                picks.append(col)  # the chosen towers, in pick order
            else:
                before = 1.0 - (1.0 - before) * (1.0 - col)  # existing towers
    service = desa_service(all_cells["village_id"].to_numpy(), all_cells["population"].to_numpy(),
                           before, picks, config.served_share)
    served_all = before
    for col in picks:
        served_all = 1.0 - (1.0 - served_all) * (1.0 - col)
    summary = village_summary(villages, all_cells,
                              served_all if options else served_all > 0.5)
    names = villages["name"].astype(str).to_dict()
    newly = _desa_newly_served(matrix.matrix, solution.order, demand, names)
    ranking = ranking_table(solution, sites, desa_new=newly, site_costs=site_costs,
                            service=service, names=names)
    rsrp_main, served_by = main_settlement_service(all_cells, [c for c in coverages if c is not None],
                                                   service, solution.site_ids)
    desa = desa_table(villages, summary, targets=targets, service=service,
                      rsrp_main_dbm=rsrp_main, served_by=served_by)
    enriched = villages.join(summary[["population_covered", "share_covered"]], how="left")
    enriched["target"] = enriched.index.isin(list(targets))
    return {"villages": enriched, "ranking": ranking, "desa": desa,
            "kecamatan": kecamatan_table(desa)}


def plan_paser(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    config: PlanConfig = PlanConfig(),
    bounds: tuple[float, float, float, float] | None = None,
    village_ids: Iterable[str] | None = None,
    user_sites: Any = None,
    existing_sites: Any = None,
    progress: bool = False,
    scheduler: str | None = None,
    client: Any = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> PlanResult:
    """The Paser demo: 144 desa, the synthetic demo DEM, Rp 8.5 B at Rp 1.7 B per 72 m tower.

    ``bounds`` (lon_min, lat_min, lon_max, lat_max) and ``village_ids`` shrink the run (tests
    use a small window); villages outside the terrain are still reported with zero coverage.
    ``user_sites`` (a sites file, see :func:`blankspot.io.read_sites`, or a sites GeoDataFrame)
    adds the planner's own candidates; a missing height takes ``config.height_agl_m``.
    ``existing_sites`` is a sites file or GeoDataFrame of existing towers.
    """
    if village_ids is not None:
        config = config.replace(targets=list(village_ids))
    spec = InputSpec(
        data_dir=data_dir, bounds=None if bounds is None else tuple(bounds),  # type: ignore[arg-type]
        sites=None if user_sites is None or hasattr(user_sites, "geometry") else user_sites,
        existing=None if existing_sites is None or hasattr(existing_sites, "geometry") else existing_sites,
    )
    return plan_inputs(
        read_inputs(spec, config), config=config,
        user_sites=user_sites if hasattr(user_sites, "geometry") else None,
        existing_sites=existing_sites if hasattr(existing_sites, "geometry") else None,
        progress=progress, scheduler=scheduler, client=client, cache_dir=cache_dir,
    )


def plan_inputs(inputs: Inputs, *, config: PlanConfig, user_sites: gpd.GeoDataFrame | None = None,
                existing_sites: gpd.GeoDataFrame | None = None, progress: bool = False,
                scheduler: str | None = None, client: Any = None,
                cache_dir: str | os.PathLike[str] | bool | None = None) -> PlanResult:
    """:func:`plan` on what :func:`blankspot.io.inputs.read_inputs` read (its time included)."""
    result = plan(
        inputs.villages,
        inputs.terrain,
        config=config,
        user_sites=user_sites if user_sites is not None else inputs.user_sites,
        existing_sites=existing_sites if existing_sites is not None else inputs.existing_sites,
        kecamatan_totals=inputs.kecamatan_totals,
        progress=progress,
        scheduler=scheduler,
        client=client,
        cache_dir=cache_dir,
        landcover=inputs.landcover,
        population_raster=inputs.population_raster,
        roads=inputs.roads,
        power_lines=inputs.power_lines,
        data_sources=inputs.data_sources,
        settlements=inputs.settlements,
        places=inputs.places,
    )
    timings = {"read_s": inputs.read_s, **result.timings_s}
    timings["total_s"] = timings["total_s"] + inputs.read_s
    return replace(result, timings_s=timings)
