"""The whole chain, terrain to a ranked tower plan: :func:`plan` (any data) and :func:`plan_paser`.

    villages + population ──► demand cells of the target desa
    terrain + candidates  ──► per-site coverage (LOS + free-space link budget), streamed per batch
                          ──► coverage matrix (demand × site, sparse) ──► SitingProblem ──► solve
    chosen towers         ──► coverage raster, per-desa table, ranking, map
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot.errors import UnitsError, raise_if_problems
from blankspot.propagation.budget import LinkBudget
from blankspot.units import DEFAULT_K_FACTOR

PASER_BUDGET_IDR = 8_500_000_000
"""APBD 2022 of Kabupaten Paser for blank-spot towers (planning-parameters §1)."""
PASER_TOWER_COST_IDR = 1_700_000_000
"""SSH unit price of one 72 m four-leg tower in 2022 (planning-parameters §1)."""


@dataclass(frozen=True)
class PlanConfig:
    """Every number the chain uses, with units in the names. Derive variants with :meth:`replace`.

    Costs come from :class:`blankspot.costs.CostModel` with ``cost_params`` (default
    :meth:`CostParameters.default`, which prices a 72 m tower on a land grant with PLN at the desa
    at the 2022 SSH of Rp 1.7 B); ``tower_cost_idr`` replaces that with one flat price per tower.
    A cost given on a user's site is always kept.

    Propagation defaults to ITM (Longley-Rice) with Paser's tropical forest under every handset
    (``clutter="auto"``: WorldCover tree cover, R = 20 m, its P.2108 terminal loss; along the
    path for ``"p1812"``; none for ``"los"``), on terrain resampled to 90 m cells
    (``terrain_res_m``) so that screening every candidate stays within a minute or two.
    ``clutter`` also takes None, a class name or WorldCover code (``"oil_palm"``, 40), a
    :class:`blankspot.clutter.ClutterModel` or a grid (see :func:`blankspot.compute_coverage`).
    """

    budget_idr: int = PASER_BUDGET_IDR
    tower_cost_idr: int | None = None
    cost_params: object = None
    height_agl_m: float = 72.0
    rx_height_agl_m: float = 1.5
    radius_m: float = 30_000.0
    k_factor: float = DEFAULT_K_FACTOR
    link: LinkBudget = field(default_factory=LinkBudget)
    model: str = "itm"
    clutter: object = "auto"
    targets: object = "blankspot"
    cell_size_m: float = 250.0
    terrain_res_m: float | None = 90.0
    n_high_points: int = 40
    grid_spacing_m: float = 5_000.0
    min_separation_m: float = 1_000.0
    search_buffer_m: float = 3_000.0
    generate_candidates: bool = True
    max_towers: int | None = None
    batch_size: int = 8
    solver: str = "greedy"
    certify: bool = True
    exact_time_limit_s: float = 60.0
    curve_budgets_idr: tuple[int, ...] | None = None
    stability_threshold_db: float | None = 5.0

    def __post_init__(self):
        problems = []
        for name in ("budget_idr", "tower_cost_idr"):
            v = getattr(self, name)
            if v is None and name == "tower_cost_idr":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                problems.append(f"{name} must be a whole number of Rupiah ≥ 0; received {v!r}.")
        for name in ("height_agl_m", "rx_height_agl_m"):
            v = getattr(self, name)
            if not np.isfinite(v) or v < 0:
                problems.append(f"{name} must be ≥ 0 metres above ground; received {v!r}.")
        for name in ("radius_m", "cell_size_m", "k_factor", "grid_spacing_m"):
            v = getattr(self, name)
            if not np.isfinite(v) or v <= 0:
                problems.append(f"{name} must be > 0; received {v!r}.")
        if self.terrain_res_m is not None and not self.terrain_res_m > 0:
            problems.append(f"terrain_res_m must be > 0 or None; received {self.terrain_res_m!r}.")
        if not self.exact_time_limit_s > 0:
            problems.append(f"exact_time_limit_s must be > 0; received {self.exact_time_limit_s!r}.")
        if self.stability_threshold_db is not None and not self.stability_threshold_db > 0:
            problems.append(
                f"stability_threshold_db must be > 0 or None; received {self.stability_threshold_db!r}."
            )
        if self.batch_size < 1:
            problems.append(f"batch_size must be ≥ 1; received {self.batch_size!r}.")
        if self.model not in ("los", "itm", "p1812"):
            problems.append(f"model must be 'los', 'itm' or 'p1812'; received {self.model!r}.")
        elif isinstance(self.clutter, str | int) and self.clutter != "auto":
            if self.model == "los":
                problems.append(
                    f"clutter={self.clutter!r} needs model 'itm' or 'p1812': line of sight has no "
                    "clutter term. Use clutter=None (or 'auto') with model='los'."
                )
            else:
                try:
                    self.clutter_model()
                except ValueError as exc:
                    problems.append(f"clutter: {exc}")
        raise_if_problems("PlanConfig", problems, UnitsError)

    def clutter_model(self):
        """The clutter the coverage models get (None, a ClutterModel or a grid).

        ``"auto"`` is Paser's tropical forest everywhere for ``"itm"`` and ``"p1812"``
        (:meth:`blankspot.clutter.ClutterModel.uniform` ``("tree")``) and none for ``"los"``; a
        class name or code is that class everywhere.
        """
        from blankspot.clutter import ClutterModel

        c = self.clutter
        if isinstance(c, str) and c == "auto":
            return None if self.model == "los" else ClutterModel.uniform("tree")
        if isinstance(c, str | int) and not isinstance(c, bool):
            return ClutterModel.uniform(c)
        return c

    def replace(self, **changes) -> PlanConfig:
        """A new config with some values changed (unknown names are an error)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise UnitsError(
                f"PlanConfig has no field(s) {', '.join(unknown)}; known fields: {', '.join(sorted(known))}."
            )
        return replace(self, **changes)


@dataclass(frozen=True, eq=False)
class PlanResult:
    """Every intermediate object of one run of the chain."""

    config: PlanConfig
    villages: object  # GeoDataFrame with population estimates, coverage summary and target flag
    target_ids: tuple[str, ...]
    demand: object  # demand cells of the target desa
    sites: object  # all candidate sites
    matrix: object  # CoverageMatrix (target demand × candidates)
    problem: object  # SitingProblem
    solution: object  # SitingResult
    coverage: object  # CoverageResult of the chosen towers (full footprints)
    ranking: pd.DataFrame
    desa: pd.DataFrame
    kecamatan: pd.DataFrame
    site_costs: pd.DataFrame
    people_served_existing: float  # people in target desa already served by existing towers
    certificate: object  # SitingResult of the exact solver, or None
    curve: pd.DataFrame | None
    stability: pd.DataFrame | None
    terrain_source: str
    terrain_synthetic: bool
    timings_s: dict
    footprint_cache: dict | None = None  # {"folder", "hits", "misses"} when run with cache_dir

    @property
    def total_cost_idr(self) -> int:
        return int(self.solution.total_cost_idr)

    @property
    def people_covered(self) -> float:
        return float(self.solution.covered_weight)

    def _repr_html_(self) -> str:
        return summary_html(self)

    def explore(self):
        """The interactive folium map of this plan (the ``map.html`` of :func:`write_outputs`)."""
        return plan_folium_map(self)


def _progress_bar(*, total, desc, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="site", leave=False)


def coverage_matrix_streamed(terrain, sites, demand, *, config: PlanConfig, progress=False, budgets=None,
                             cache=None):
    """The demand × site coverage matrix, computing footprints a batch at a time.

    Only the sparse columns are kept, so memory does not grow with the number of candidates.
    With ``budgets`` (a list of :class:`LinkBudget`, e.g. the threshold ± 5 dB), one matrix per
    budget is built from the same footprints and a list is returned. ``cache`` (a
    :class:`FootprintCache`) reads stored footprints instead of computing them.
    """
    from blankspot.aggregate import CoverageMatrix, build_coverage_matrix

    many = budgets is not None
    budgets = list(budgets) if many else [config.link]
    columns = [[] for _ in budgets]
    batches = [sites.iloc[i : i + config.batch_size] for i in range(0, len(sites), config.batch_size)]
    bar = _progress_bar(total=len(sites), desc="coverage", enabled=progress)
    for batch in batches:
        cov = _coverage(terrain, batch, config, cache)
        for cols, budget in zip(columns, budgets, strict=True):
            cols.append(build_coverage_matrix(cov, demand, budget=budget).matrix)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    out = []
    for cols in columns:
        matrix = sp.hstack(cols, format="csc") if cols else sp.csc_matrix((len(demand), 0))
        out.append(
            CoverageMatrix(
                matrix=matrix.tocsc(),
                demand=pd.DataFrame(demand[["village_id", "population"]]),
                site_ids=tuple(str(s) for s in sites.index),
            )
        )
    return out if many else out[0]


def coverage_matrices_distributed(terrain, terrain_source, sites, demand, *, config: PlanConfig,
                                  budgets, client=None, scheduler="local", cache_dir=None,
                                  progress=False):
    """The same matrices as :func:`coverage_matrix_streamed`, computed on dask workers.

    Each site is one task running the same per-site function; workers read only their terrain
    window from ``terrain_source`` (a :class:`blankspot.distributed.TerrainSource`) and footprints
    come back sparse (and are cached on disk under ``cache_dir``). ``scheduler``: ``"local"`` (a
    LocalCluster for this call), ``"threads"``, or ``"tcp://HOST:PORT"``.
    """
    from blankspot.aggregate import CoverageMatrix
    from blankspot.distributed import DemandIndex, Grid, compute_footprints

    grid = Grid.from_terrain(terrain)
    footprints = compute_footprints(
        terrain_source,
        sites,
        grid=grid,
        model=config.model,
        radius_m=config.radius_m,
        max_path_loss_db=max(b.max_path_loss_db for b in budgets),
        client=client,
        scheduler=None if scheduler == "local" else scheduler,
        cache_dir=cache_dir,
        progress=progress,
        freq_mhz=config.link.freq_mhz,
        rx_height_agl_m=config.rx_height_agl_m,
        k_factor=config.k_factor,
        **_model_options(config),
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


def _coverage(terrain, sites, config: PlanConfig, cache=None):
    """Coverage of ``sites`` with the radio settings of ``config`` (one place for all three uses).

    With ``cache`` (a :class:`FootprintCache`), stored footprints are read and only the missing
    ones computed (and stored).
    """
    if cache is not None and len(sites):
        return cache.coverage(terrain, sites, config)
    return _compute_coverage(terrain, sites, config)


def _compute_coverage(terrain, sites, config: PlanConfig):
    from blankspot.coverage import compute_coverage

    return compute_coverage(
        terrain,
        sites,
        budget=config.link,
        model=config.model,
        radius_m=config.radius_m,
        rx_height_agl_m=config.rx_height_agl_m,
        k_factor=config.k_factor,
        **_model_options(config),
    )


def _model_options(config: PlanConfig) -> dict:
    """Keyword options the coverage models take beyond the common ones."""
    clutter = config.clutter_model()
    return {} if clutter is None else {"clutter": clutter}


def default_curve_budgets_idr(budget_idr: int, step_idr: int) -> tuple[int, ...]:
    """Budgets from 0 to twice ``budget_idr`` in steps of one tower price (at most 41 points)."""
    step = max(int(step_idr), 1)
    top = 2 * int(budget_idr)
    n = min(top // step, 40)
    values = {i * step for i in range(n + 1)} | {int(budget_idr), top}
    return tuple(sorted(values))


def _desa_newly_served(matrix, order, demand, names) -> list[list[str]]:
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


def plan(
    villages,
    terrain,
    *,
    config: PlanConfig = PlanConfig(),
    user_sites=None,
    existing_sites=None,
    kecamatan_totals=None,
    progress: bool = False,
    scheduler: str | None = None,
    client=None,
    terrain_source=None,
    cache_dir=None,
) -> PlanResult:
    """Run the chain on any data already read into the analysis CRS.

    Candidate coverage runs in this process unless ``scheduler`` (``"local"``, ``"threads"`` or
    ``"tcp://HOST:PORT"``) or a dask ``client`` is given; then each site is a task on the
    cluster, reading its window from ``terrain_source`` (the DEM files, see
    :class:`blankspot.distributed.TerrainSource`). The science is the same code either way, and
    so are the results.

    ``existing_sites`` (sites schema; e.g. operators' towers from an OpenCelliD export) are
    modelled with the same radio settings; demand cells they already serve are removed before
    siting, and the per-desa tables count them as covered.

    ``villages`` follows the villages schema (index ``village_id``; ``name``, ``kecamatan``,
    ``population``); when ``kecamatan_totals`` is given, missing and dated figures are estimated
    with :func:`blankspot.population.estimate_population` first.
    """
    from blankspot.aggregate import build_coverage_matrix, village_summary
    from blankspot.candidates import combine_sites, generate_candidates
    from blankspot.crs import require_same
    from blankspot.demand import demand_cells, select_villages
    from blankspot.population import estimate_population
    from blankspot.report import desa_table, kecamatan_table, ranking_table
    from blankspot.siting import (
        SitingProblem,
        cost_coverage_curve,
        solve,
        stability_from_problems,
    )

    timings = {}
    t0 = time.perf_counter()
    require_same(villages.crs, terrain.crs, "villages", "the terrain")
    if kecamatan_totals is not None:
        villages = estimate_population(villages, kecamatan_totals)
    targets = select_villages(villages, config.targets)
    demand = demand_cells(villages, cell_size_m=config.cell_size_m, village_ids=targets)
    timings["demand_s"] = time.perf_counter() - t0

    fp_cache = FootprintCache.create(cache_dir, terrain, config)
    existing_cov = None
    people_served_existing = 0.0
    if existing_sites is not None and len(existing_sites):
        t = time.perf_counter()
        existing_cov = _coverage(terrain, existing_sites, config, fp_cache)
        served = np.asarray(build_coverage_matrix(existing_cov, demand).matrix.sum(axis=1)).ravel() > 0
        people_served_existing = float(demand["population"].to_numpy()[served].sum())
        demand = demand.loc[~served]
        timings["existing_s"] = time.perf_counter() - t

    t = time.perf_counter()
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
        raise UnitsError(
            "no candidate sites: pass user_sites or keep generate_candidates=True in the PlanConfig."
        )
    timings["candidates_s"] = time.perf_counter() - t

    t = time.perf_counter()
    from blankspot.costs import CostModel, CostParameters

    model = CostModel(config.cost_params or CostParameters.default())
    site_costs = model.site_costs(sites)
    if config.tower_cost_idr is not None:
        estimate = pd.Series(config.tower_cost_idr, index=sites.index, dtype="Int64")
    else:
        estimate = pd.Series(site_costs["capex_idr"].to_numpy(), index=sites.index, dtype="Int64")
    given = sites["cost_idr"].astype("Int64")
    sites = sites.assign(cost_idr=given.fillna(estimate).astype("Int64"))
    site_costs = site_costs.assign(cost_idr=sites["cost_idr"].astype(np.int64),
                                   cost_from=np.where(given.notna(), "site file",
                                                      "flat price" if config.tower_cost_idr is not None
                                                      else "cost model"))
    timings["costs_s"] = time.perf_counter() - t

    t = time.perf_counter()
    budgets = [config.link]
    if config.stability_threshold_db:
        d = config.stability_threshold_db
        budgets += [config.link.replace(threshold_dbm=config.link.threshold_dbm - d),
                    config.link.replace(threshold_dbm=config.link.threshold_dbm + d)]
    if scheduler is not None or client is not None:
        if terrain_source is None:
            raise UnitsError(
                "a distributed run needs terrain_source=TerrainSource(paths, crs, res_m): workers "
                "read the DEM files themselves; no elevation array is shipped."
            )
        matrices = coverage_matrices_distributed(
            terrain, terrain_source, sites, demand, config=config, budgets=budgets, client=client,
            scheduler=scheduler or "local", cache_dir=cache_dir, progress=progress,
        )
    else:
        matrices = coverage_matrix_streamed(terrain, sites, demand, config=config,
                                            progress=progress, budgets=budgets, cache=fp_cache)
    matrix = matrices[0]
    timings["coverage_s"] = time.perf_counter() - t

    t = time.perf_counter()
    costs = sites["cost_idr"].astype(np.int64).to_numpy()

    def problem_for(m):
        return SitingProblem.from_matrix(
            m.matrix,
            demand["population"].to_numpy(dtype=float),
            costs,
            config.budget_idr,
            site_ids=list(m.site_ids),
            max_towers=config.max_towers,
            groups=demand["village_id"].to_numpy(),
        )

    problem = problem_for(matrix)
    solution = solve(problem, solver=config.solver)
    timings["siting_s"] = time.perf_counter() - t

    certificate = None
    if config.certify and len(sites):
        t = time.perf_counter()
        certificate = solve(problem, solver="exact", time_limit_s=config.exact_time_limit_s)
        timings["certify_s"] = time.perf_counter() - t

    t = time.perf_counter()
    step = int(np.median(costs)) if len(costs) else config.budget_idr or 1
    budgets_idr = config.curve_budgets_idr or default_curve_budgets_idr(config.budget_idr, step)
    curve = cost_coverage_curve(problem, budgets_idr, lp_bound=False)
    stability = None
    if config.stability_threshold_db:
        d = config.stability_threshold_db
        scenarios = {
            "base": problem,
            "cost x0.6": problem.with_costs(np.round(costs * 0.6).astype(np.int64)),
            "cost x1.4": problem.with_costs(np.round(costs * 1.4).astype(np.int64)),
            f"threshold -{d:g} dB": problem_for(matrices[1]),
            f"threshold +{d:g} dB": problem_for(matrices[2]),
        }
        stability = stability_from_problems(scenarios, lp_bound=False)
    timings["curve_stability_s"] = time.perf_counter() - t

    t = time.perf_counter()
    chosen = sites.loc[list(solution.site_ids)]
    coverage = _coverage(terrain, chosen, config, fp_cache)
    # per-desa figures over every desa, not only the targets
    all_cells = demand_cells(villages, cell_size_m=config.cell_size_m)
    covered_all = np.zeros(len(all_cells), dtype=bool)
    for cov in (coverage, existing_cov):
        if cov is not None and len(cov.footprints):
            all_matrix = build_coverage_matrix(cov, all_cells).matrix
            covered_all |= np.asarray(all_matrix.sum(axis=1)).ravel() > 0
    summary = village_summary(villages, all_cells, covered_all)
    names = villages["name"].astype(str).to_dict()
    newly = _desa_newly_served(matrix.matrix, solution.order, demand, names)
    ranking = ranking_table(solution, sites, desa_new=newly, site_costs=site_costs)
    desa = desa_table(villages, summary, targets=targets)
    kec = kecamatan_table(desa)
    enriched = villages.join(summary[["population_covered", "share_covered"]], how="left")
    enriched["target"] = enriched.index.isin(list(targets))
    timings["report_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0

    return PlanResult(
        config=config,
        villages=enriched,
        target_ids=tuple(targets),
        demand=demand,
        sites=sites,
        matrix=matrix,
        problem=problem,
        solution=solution,
        coverage=coverage,
        ranking=ranking,
        desa=desa,
        kecamatan=kec,
        site_costs=site_costs,
        people_served_existing=people_served_existing,
        certificate=certificate,
        curve=curve,
        stability=stability,
        terrain_source=terrain.source,
        terrain_synthetic=bool(terrain.synthetic),
        timings_s=timings,
        footprint_cache=None if fp_cache is None else fp_cache.stats(),
    )


def _clip_to_raster(bounds_xy, crs, raster_path):
    """``bounds_xy`` (in ``crs``) shrunk to lie inside a raster's footprint, so no cell is off the DEM.

    The raster's edges are sampled, reprojected, and the innermost coordinate of each edge kept
    (a lon/lat rectangle is slightly rotated in UTM), less one source cell for interpolation.
    """
    import rasterio
    from pyproj import Transformer

    with rasterio.open(raster_path) as src:
        b, res = src.bounds, max(src.res)
        t = Transformer.from_crs(src.crs, crs, always_xy=True)
    n = 101
    xs, ys = np.linspace(b.left + res, b.right - res, n), np.linspace(b.bottom + res, b.top - res, n)
    left = t.transform(np.full(n, b.left + res), ys)[0].max()
    right = t.transform(np.full(n, b.right - res), ys)[0].min()
    bottom = t.transform(xs, np.full(n, b.bottom + res))[1].max()
    top = t.transform(xs, np.full(n, b.top - res))[1].min()
    xmin, ymin, xmax, ymax = bounds_xy
    return (max(xmin, left), max(ymin, bottom), min(xmax, right), min(ymax, top))


def paser_inputs(data_dir=None, *, config: PlanConfig = PlanConfig(), bounds=None):
    """Read the Paser villages, kecamatan totals and the demo terrain from the data directory.

    ``bounds`` (lon_min, lat_min, lon_max, lat_max) limits the terrain read; by default the
    target desa plus the coverage radius.
    """
    from blankspot.crs import PASER_CRS, WGS84
    from blankspot.demand import select_villages
    from blankspot.io import (
        DEMO_DEM_FILE,
        DESA_FILE,
        KECAMATAN_CSV_FILE,
        paser_path,
        read_terrain,
        read_villages,
    )
    from blankspot.population import read_kecamatan_totals

    villages = read_villages(paser_path(DESA_FILE, data_dir), crs=PASER_CRS)
    dem = paser_path(DEMO_DEM_FILE, data_dir)
    totals = read_kecamatan_totals(paser_path(KECAMATAN_CSV_FILE, data_dir))
    if bounds is None:
        targets = select_villages(villages, config.targets)
        area = villages.loc[list(targets)].geometry.buffer(config.radius_m + 2 * config.cell_size_m)
        bounds_xy, bounds_crs = _clip_to_raster(tuple(area.total_bounds), PASER_CRS, dem), PASER_CRS
    else:
        bounds_xy, bounds_crs = tuple(bounds), WGS84
    terrain = read_terrain(
        dem,
        bounds=bounds_xy,
        bounds_crs=bounds_crs,
        crs=PASER_CRS,
        res_m=config.terrain_res_m,
    )
    return villages, totals, terrain


def terrain_source_on_grid(terrain, folder=None):
    """Write ``terrain`` once as a GeoTIFF on its own grid and describe it for workers.

    Workers then read their windows without warping, so each window is bit for bit the same
    cells as ``terrain`` and a distributed run gives exactly the single-process result. The file
    goes to ``folder`` (e.g. the cache directory, which workers on other machines must also
    reach) or a temporary folder on this machine.
    """
    import tempfile
    from pathlib import Path

    from blankspot.distributed import Grid, TerrainSource
    from blankspot.io.outputs import write_raster

    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="blankspot-terrain-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"terrain-{Grid.from_terrain(terrain).grid_id}.tif"
    if not path.exists():
        write_raster(path, terrain.elevation_m.astype(np.float32), transform=terrain.transform,
                     crs=terrain.crs, nodata=np.nan, description="elevation, m")
    return TerrainSource(paths=(str(path),), crs=terrain.crs, res_m=terrain.res_m)


EXISTING_DEFAULT_HEIGHT_AGL_M = 30.0
"""Antenna height assumed for an existing tower whose file gives none (typical rooftop/monopole)."""


def read_existing_sites(path, terrain):
    """Existing towers from a sites file, keeping those on the terrain (others cannot matter).

    Files such as an OpenCelliD export cover far more than one kabupaten, so towers off the
    terrain grid are dropped with a warning rather than refused; a missing height is
    :data:`EXISTING_DEFAULT_HEIGHT_AGL_M`.
    """
    import warnings

    from blankspot.errors import BlankspotWarning
    from blankspot.io import read_sites

    sites = read_sites(path, crs=terrain.crs, default_height_agl_m=EXISTING_DEFAULT_HEIGHT_AGL_M)
    inside = terrain.contains(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy())
    inside &= np.isfinite(terrain.elevation_at(sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()))
    if not inside.all():
        warnings.warn(
            f"{int((~inside).sum())} of {len(sites)} existing towers in {path} lie outside the terrain "
            "window and were ignored.",
            BlankspotWarning,
            stacklevel=2,
        )
    return sites.loc[inside]


def plan_paser(
    data_dir=None,
    *,
    config: PlanConfig = PlanConfig(),
    bounds=None,
    village_ids: Iterable[str] | None = None,
    user_sites=None,
    existing_sites=None,
    progress: bool = False,
    scheduler: str | None = None,
    client=None,
    cache_dir=None,
) -> PlanResult:
    """The Paser demo: 144 desa, the synthetic demo DEM, Rp 8.5 B at Rp 1.7 B per 72 m tower.

    ``bounds`` (lon_min, lat_min, lon_max, lat_max) and ``village_ids`` shrink the run (tests
    use a small window); villages outside the terrain are still reported with zero coverage.
    ``user_sites`` (a sites file, see :func:`blankspot.io.read_sites`, or a sites GeoDataFrame)
    adds the planner's own candidates; a missing height takes ``config.height_agl_m``.
    """
    t = time.perf_counter()
    if village_ids is not None:
        config = config.replace(targets=list(village_ids))
    villages, totals, terrain = paser_inputs(data_dir, config=config, bounds=bounds)
    if user_sites is not None and not hasattr(user_sites, "geometry"):
        from blankspot.io import read_sites

        user_sites = read_sites(
            user_sites, crs=terrain.crs, terrain=terrain, default_height_agl_m=config.height_agl_m
        )
    terrain_source = None
    if scheduler is not None or client is not None:
        terrain_source = terrain_source_on_grid(terrain, cache_dir)
    if existing_sites is not None and not hasattr(existing_sites, "geometry"):
        existing_sites = read_existing_sites(existing_sites, terrain)
    read_s = time.perf_counter() - t
    result = plan(
        villages,
        terrain,
        config=config,
        user_sites=user_sites,
        existing_sites=existing_sites,
        kecamatan_totals=totals,
        progress=progress,
        scheduler=scheduler,
        client=client,
        terrain_source=terrain_source,
        cache_dir=cache_dir,
    )
    timings = {"read_s": read_s, **result.timings_s}
    timings["total_s"] = timings["total_s"] + read_s
    return replace(result, timings_s=timings)


def _model_label(cfg: PlanConfig) -> str:
    names = {"los": "LOS + free space", "itm": "ITM (Longley-Rice)", "p1812": "ITU-R P.1812"}
    label = names.get(cfg.model, cfg.model)
    clutter = cfg.clutter_model()
    if clutter is not None:
        where = "at the handset (P.2108)" if cfg.model == "itm" else "along the path"
        label += f" with {getattr(clutter, 'name', 'grid')} clutter {where}"
    if cfg.terrain_res_m is not None:
        label += f", {cfg.terrain_res_m:g} m terrain"
    return label


def terrain_note(result: PlanResult) -> str:
    """How the terrain must be described wherever the result is shown."""
    if result.terrain_synthetic:
        return (
            "Terrain: SYNTHETIC demo DEM (real coarse relief + invented detail below 10 km); "
            "not survey data. Real planning needs a real DEM."
        )
    return f"Terrain: {result.terrain_source}"


def plan_summary(result: PlanResult) -> dict:
    """The headline figures of a plan and how far it is from optimal, for ``summary.json``."""
    sol, cert, cfg = result.solution, result.certificate, result.config
    summary = {
        "towers": list(sol.site_ids),
        "total_cost_idr": int(sol.total_cost_idr),
        "budget_idr": int(cfg.budget_idr),
        "people_covered": round(float(sol.covered_weight), 1),
        "people_in_target_desa_not_yet_served": round(float(result.problem.total_weight), 1),
        "people_in_target_desa_served_by_existing_towers": round(result.people_served_existing, 1),
        "target_desa": list(result.target_ids),
        "solver": sol.solver,
        "status": sol.status,
        "bound_people": None if sol.bound is None else round(float(sol.bound), 1),
        "model": result.coverage.model,
        "threshold_dbm": cfg.link.threshold_dbm,
        "terrain": terrain_note(result),
        "timings_s": {k: round(v, 2) for k, v in result.timings_s.items()},
    }
    if cert is not None:
        exact = float(cert.covered_weight)
        summary["certificate"] = {
            "solver": cert.solver,
            "status": cert.status,
            "optimum_people": round(exact, 1),
            "gap": None if cert.gap is None else round(float(cert.gap), 6),
            "plan_share_of_optimum": round(float(sol.covered_weight) / exact, 4) if exact > 0 else 1.0,
            "optimal_towers": list(cert.site_ids),
        }
    return summary


def write_outputs(result: PlanResult, out_dir, *, lang: str = "en") -> dict:
    """Write the map, the tables, the coverage raster and a summary into ``out_dir``.

    ``map.html``, ``ranking.csv`` (with each tower's cost breakdown), ``desa.csv``,
    ``kecamatan.csv``, ``costs.csv`` (every candidate), ``curve.csv`` (cost–coverage curve),
    ``stability.csv`` (ranking under costs ×0.6/×1.4 and threshold ±5 dB), ``summary.json``
    (headline figures and the exact solver's certificate) and ``coverage.tif``.

    Each file is written under a temporary name and renamed, so an interrupted run never leaves
    a half-written file. Returns {name: path}.
    """
    from pathlib import Path

    from blankspot.io.outputs import write_csv, write_raster, write_text

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    cfg = result.config
    cov = result.coverage
    rsrp = _best_rsrp_dbm(result)
    note = terrain_note(result)
    paths["coverage.tif"] = out / "coverage.tif"
    write_raster(
        paths["coverage.tif"],
        rsrp.astype(np.float32),
        transform=cov.transform,
        crs=cov.crs,
        nodata=np.nan,
        description="best-server RSRP of the chosen towers, dBm (NaN: no signal)",
        tags={
            "units": "dBm",
            "model": result.coverage.model,
            "threshold_dbm": str(cfg.link.threshold_dbm),
            "terrain": note,
            "towers": ",".join(result.solution.site_ids),
        },
    )
    paths["ranking.csv"] = out / "ranking.csv"
    write_csv(result.ranking, paths["ranking.csv"], index=False)
    paths["desa.csv"] = out / "desa.csv"
    write_csv(result.desa, paths["desa.csv"], index=False)
    paths["kecamatan.csv"] = out / "kecamatan.csv"
    write_csv(result.kecamatan, paths["kecamatan.csv"], index=False)
    paths["costs.csv"] = out / "costs.csv"
    write_csv(result.site_costs, paths["costs.csv"], index_label="site_id")
    if result.curve is not None:
        paths["curve.csv"] = out / "curve.csv"
        write_csv(result.curve, paths["curve.csv"], index=False)
    if result.stability is not None:
        paths["stability.csv"] = out / "stability.csv"
        write_csv(result.stability, paths["stability.csv"], index_label="site_id")
    paths["summary.json"] = out / "summary.json"
    write_text(json.dumps(plan_summary(result), indent=2, ensure_ascii=False, default=str),
               paths["summary.json"])

    fmap = plan_folium_map(result, rsrp_dbm=rsrp)
    paths["map.html"] = out / "map.html"
    write_text(fmap.get_root().render(), paths["map.html"])

    # report.xlsx, plan.gpkg, the COGs, map.png, metadata (see blankspot.export); lang="id"
    # rewrites the four tables above with Indonesian headers
    from blankspot.export import write_reports

    paths.update(write_reports(result, out, lang=lang, other_outputs=paths))
    return paths


# --- footprint cache of the single-process path -------------------------------------------

FOOTPRINT_CACHE_FORMAT = 1
"""Layout of the entries :class:`FootprintCache` stores; part of every key."""


class FootprintCache:
    """Per-site footprints of the single-process path, stored on disk (:mod:`blankspot.cache`).

    The key of a footprint holds everything it depends on: the terrain (SHA-256 of the
    elevation and nodata arrays, transform and CRS), the site's position and antenna height,
    the model, the whole :class:`LinkBudget` (its frequency sets the loss, its MAPL where the
    terrain models stop), the clutter, ``k_factor``, radius, receiver height and the blankspot
    version. The site id is not part of it: a site moved into another candidate list keeps its
    footprint. A budget sweep thus computes each footprint once; :meth:`stats` counts the hits
    (read) and misses (computed, then stored). Entries are exact: a plan read from the cache
    equals the plan computed.
    """

    def __init__(self, folder, terrain, config: PlanConfig):
        from blankspot import __version__
        from blankspot.cache import input_key
        from blankspot.coverage import MAX_LOSS_MARGIN_DB

        self.folder = folder
        self.hits = 0
        self.misses = 0
        terrain_key = input_key({
            "elevation_m": terrain.elevation_m,
            "nodata_mask": terrain.nodata_mask,
            "transform": list(terrain.transform)[:6],
            "crs": terrain.crs,
        })
        self._base = {
            "what": "footprint",
            "format": FOOTPRINT_CACHE_FORMAT,
            "blankspot": __version__,
            "terrain": terrain_key,
            "model": config.model,
            "radius_m": float(config.radius_m),
            "rx_height_agl_m": float(config.rx_height_agl_m),
            "k_factor": float(config.k_factor),
            "link": config.link,
            "clutter": config.clutter_model(),
            "max_loss_margin_db": MAX_LOSS_MARGIN_DB,
        }
        input_key(self._base)  # fail early on a clutter that cannot enter a key

    @classmethod
    def create(cls, cache_dir, terrain, config: PlanConfig):
        """A cache in ``cache_dir`` (see :func:`blankspot.cache.resolve_cache_dir`), or None."""
        from blankspot.cache import resolve_cache_dir

        folder = resolve_cache_dir(cache_dir)
        return None if folder is None else cls(folder, terrain, config)

    def stats(self) -> dict:
        """``{"folder", "hits", "misses"}``: footprints read from and computed into the cache."""
        return {"folder": str(self.folder), "hits": self.hits, "misses": self.misses}

    def key(self, x_m: float, y_m: float, height_agl_m: float, antenna=None) -> str:
        """The cache key of a site's footprint (its antenna too, when it has one)."""
        from blankspot.cache import input_key

        site = {"x_m": float(x_m), "y_m": float(y_m), "height_agl_m": float(height_agl_m)}
        if antenna is not None:
            site["antenna"] = antenna
        return input_key({**self._base, "site": site})

    def coverage(self, terrain, sites, config: PlanConfig):
        """:func:`blankspot.coverage.compute_coverage` of ``sites``, computing only what is missing."""
        from blankspot.cache import read_entry, write_entry
        from blankspot.coverage import CoverageResult, Footprint
        from blankspot.crs import require_same
        from blankspot.distributed import SparseFootprint

        require_same(sites.crs, terrain.crs, "sites", "the terrain")
        ids = [str(s) for s in sites.index]
        xs, ys = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
        hs = sites["height_agl_m"].to_numpy(dtype=float)
        from blankspot.coverage import site_antennas

        antennas = site_antennas(sites)
        keys = [self.key(x, y, h, a) for x, y, h, a in zip(xs, ys, hs, antennas, strict=True)]
        footprints: list = [None] * len(ids)
        label = None
        missing = []
        for j, key in enumerate(keys):
            arrays = read_entry(self.folder, key)
            if arrays is None or int(arrays.get("format", -1)) != FOOTPRINT_CACHE_FORMAT:
                missing.append(j)
                continue
            r0, c0 = int(arrays["row_off"]), int(arrays["col_off"])
            loss = np.full(tuple(int(v) for v in arrays["shape"]), np.nan, dtype=np.float32)
            sparse = SparseFootprint.from_arrays(arrays)
            loss[sparse.rows - r0, sparse.cols - c0] = sparse.path_loss_db
            footprints[j] = Footprint(site_id=ids[j], row_off=r0, col_off=c0, path_loss_db=loss)
            label = str(arrays["model"])
        self.hits += len(ids) - len(missing)
        if missing:
            computed = _compute_coverage(terrain, sites.iloc[missing], config)
            label = computed.model
            for j, fp in zip(missing, computed.footprints, strict=True):
                footprints[j] = fp
                sparse = SparseFootprint.from_footprint(fp, "")
                write_entry(self.folder, keys[j], {
                    **sparse.to_arrays(),
                    "format": np.int32(FOOTPRINT_CACHE_FORMAT),
                    "model": np.str_(label),
                    "row_off": np.int64(fp.row_off),
                    "col_off": np.int64(fp.col_off),
                    "shape": np.asarray(fp.path_loss_db.shape, dtype=np.int64),
                })
            self.misses += len(missing)
        return CoverageResult(
            footprints=tuple(footprints),
            transform=terrain.transform,
            crs=terrain.crs,
            shape=terrain.shape,
            budget=config.link,
            model=label,
            k_factor=float(config.k_factor),
            radius_m=float(config.radius_m),
            rx_height_agl_m=float(config.rx_height_agl_m),
        )


# --- views of a result: map and summary table ------------------------------------------------


def _best_rsrp_dbm(result: PlanResult) -> np.ndarray:
    cov = result.coverage
    if len(cov.footprints):
        return cov.best_rsrp_dbm()
    return np.full(cov.shape, np.nan, np.float32)


def plan_folium_map(result: PlanResult, *, rsrp_dbm=None):
    """The folium map of a plan, as written to ``map.html`` (``rsrp_dbm``: precomputed raster)."""
    from blankspot.maps import plan_map
    from blankspot.report import format_idr

    cfg, cov = result.config, result.coverage
    title = (
        f"blankspot plan: {len(result.ranking)} towers, {format_idr(result.total_cost_idr)} of "
        f"{format_idr(cfg.budget_idr)}, {result.people_covered:,.0f} people newly covered in "
        f"{len(result.target_ids)} target desa ({_model_label(cfg)}, "
        f"RSRP ≥ {cfg.link.threshold_dbm:g} dBm)"
    )
    return plan_map(
        result.villages,
        ranking=result.ranking,
        candidates=result.sites,
        rsrp_dbm=_best_rsrp_dbm(result) if rsrp_dbm is None else rsrp_dbm,
        rsrp_transform=cov.transform,
        rsrp_crs=cov.crs,
        title=title,
        terrain_note=terrain_note(result),
        best_server=cov.best_server(covered_only=True) if len(cov.footprints) else None,
        best_server_ids=cov.site_ids,
    )


def summary_html(result: PlanResult, *, heading: str = "blankspot plan", rows=()) -> str:
    """A compact HTML table of a plan's headline figures (notebooks show it for a result).

    ``rows`` are extra (label, value) pairs put first. Every string is HTML-escaped.
    """
    import html

    from blankspot.report import format_idr

    cfg, sol, cert = result.config, result.solution, result.certificate
    share = result.total_cost_idr / cfg.budget_idr if cfg.budget_idr else 0.0
    table = [
        *rows,
        ("towers", f"{len(result.ranking)} of {len(result.sites)} candidates"),
        ("cost", f"{format_idr(result.total_cost_idr)} of {format_idr(cfg.budget_idr)} "
                 f"({share:.0%} of the budget)"),
        ("people newly covered", f"{result.people_covered:,.0f} of "
                                 f"{float(result.problem.total_weight):,.0f} in "
                                 f"{len(result.target_ids)} target desa"),
        ("model", f"{_model_label(cfg)}, RSRP ≥ {cfg.link.threshold_dbm:g} dBm, "
                  f"{cfg.height_agl_m:g} m towers"),
        ("solver", f"{sol.solver} ({sol.status})"),
    ]
    if cert is not None and cert.covered_weight > 0:
        table.append(("exact optimum", f"{float(cert.covered_weight):,.0f} people; this plan reaches "
                                       f"{result.people_covered / float(cert.covered_weight):.1%}"))
    table.append(("terrain", terrain_note(result)))
    cells = []
    for label, value in table:
        style = ' style="color:#b2182b;font-weight:bold"' if "SYNTHETIC" in str(value) else ""
        cells.append(f"<tr><th style=\"text-align:left\">{html.escape(str(label))}</th>"
                     f"<td style=\"text-align:left\"{style}>{html.escape(str(value))}</td></tr>")
    return (f"<table><caption style=\"text-align:left\"><b>{html.escape(heading)}</b></caption>"
            f"{''.join(cells)}</table>")
