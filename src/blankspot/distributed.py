"""Coverage past one machine: per-site footprints computed where the terrain is read.

:func:`compute_coverage` needs the whole DEM in one process. Here each site is one task that
reads only the terrain it needs (the site ± the model radius) from the DEM files, computes its
footprint with :func:`blankspot.coverage.site_footprint` and returns a compact
:class:`SparseFootprint`, or, for :func:`coverage_matrix_distributed`, only the indices of the
demand cells it covers. No DEM array is pickled or shipped; a task carries a
:class:`TerrainSource` (file paths, analysis CRS and cell size), the :class:`Grid` and one
site.

The per-site function (:func:`sparse_site_footprint`) is pure, and the same function runs on
every engine, so the engines give bit-for-bit the same footprints:

- ``scheduler=None`` (default): a ``dask.distributed.LocalCluster`` of ``n_workers`` processes
  (default: one per CPU core), one thread each, created and closed for the call
  (:func:`local_cluster` makes the same cluster to keep across calls);
- ``scheduler="tcp://HOST:PORT"``: a running dask scheduler (``dask scheduler`` and
  ``dask worker`` started on the machines);
- ``client=``: a ``dask.distributed.Client`` the caller already holds (used through
  ``client.get_executor()``; it is not closed);
- ``scheduler="threads"``: a ``ThreadPoolExecutor`` of ``n_workers`` threads in this process,
  no dask needed. Window reads take turns within a process (warning filters, which rasterio
  and this module set around a read, are process-wide), so on many cores prefer processes.

dask is an optional extra: ``pip install 'blankspot[dask]'``.

One grid for every window
-------------------------
The analysis grid (CRS, transform, shape) is fixed before any task runs, with origin and cell
size on multiples of the cell size, as :func:`blankspot.io.read_terrain` snaps its windows.
Each task asks :func:`~blankspot.io.read_terrain` for the bounds of its window of that grid and
checks that the cells come back exactly there (:class:`~blankspot.errors.CRSError` otherwise),
so windows read on different machines align. Every site runs on the window
:func:`blankspot.coverage.site_window` picks on that grid, here and in
:func:`~blankspot.coverage.compute_coverage` on a grid held in memory, so the window's origin,
and the site's position within it, are the same floats on both paths: footprints are identical
bit for bit, whatever the model, the engine or the number of workers (tested for ``"los"``,
``"itm"`` and ``"p1812"`` with sites off cell centres).

A land-cover clutter (a :class:`~blankspot.clutter.ClutterModel` with a grid of class codes on
the analysis grid) travels with every task whole and is cut there to the task's window, as
:func:`~blankspot.coverage.compute_coverage` cuts it in memory, so both paths give the same
bits; a bare array of codes or heights is refused (wrap codes with ``with_landcover``).

Faults and memory
-----------------
dask reruns the tasks of a worker that dies (the ``LocalCluster`` nanny starts a new worker
process); as tasks are pure, the rerun gives the same result. Results are streamed back as they
complete, with at most a few tasks per worker thread in flight, so memory does not grow with
the number of sites: a worker thread holds one terrain window, its viewshed and one footprint at
a time, about 30 bytes per window cell (``(2 radius_m / res_m)**2`` cells: 120 MB at 30 km on
a 30 m grid), plus GDAL's block cache (``GDAL_CACHEMAX``, by default 5 % of the machine's memory
per process) and the process itself (about 330 MB with numba, rasterio and dask loaded).
Measured on the Paser demo DEM at 30 km (``benchmarks/bench_scaling.py``): a peak of 450-460 MB
per worker over 50 sites and 495-500 MB over 500. Worker processes should run with
:data:`WORKER_MALLOC_ENV` (:func:`local_cluster` sets it): dask's default malloc setting makes
each site fault its window's memory in afresh, a third slower.

Caching
-------
With ``cache_dir=`` every footprint is stored under a hash of its inputs
(:mod:`blankspot.cache`) by the worker that computed it; tasks whose footprint is stored read it
instead of computing it, so a rerun computes nothing and an interrupted run resumes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from blankspot import cache as _cache
from blankspot._deprecated import moved_names
from blankspot.aggregate import CoverageMatrix
from blankspot.clutter import ClutterModel
from blankspot.coverage import (
    MAX_LOSS_MARGIN_DB,
    MODELS,
    TERRAIN_MODELS,
    PointTerminal,
    _check_calibration,
    _resolve_clutter,
    losses_to_csc,
    point_terminal,
    site_antennas,
    site_footprint,
    site_point_losses,
    validate_site_table,
)
from blankspot.errors import InputError, SchemaError, UnitsError, format_problems
from blankspot.footprints import DemandIndex as _DemandIndex
from blankspot.footprints import FootprintStore, _positive, read_footprint, write_footprint
from blankspot.footprints import Grid as _Grid
from blankspot.footprints import SparseFootprint as _SparseFootprint
from blankspot.io.terrain_source import TerrainSource as _TerrainSource
from blankspot.propagation.budget import LinkBudget
from blankspot.units import DEFAULT_K_FACTOR

__all__ = [
    "DASK_INSTALL_HINT",
    "WORKER_MALLOC_ENV",
    "compute_footprints",
    "coverage_matrix_distributed",
    "local_cluster",
    "point_path_loss_distributed",
    "sparse_site_footprint",
]

DASK_INSTALL_HINT = "pip install 'blankspot[dask]'"

_SCHEDULER_PREFIXES = ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")

_MOVED = {
    "Grid": "blankspot.footprints",
    "SparseFootprint": "blankspot.footprints",
    "DemandIndex": "blankspot.footprints",
    "FOOTPRINT_FORMAT": "blankspot.footprints",
    "TerrainSource": "blankspot.io.terrain_source",
}


__getattr__ = moved_names(__name__, _MOVED)


# --- the per-site function -----------------------------------------------------------------


def sparse_site_footprint(
    terrain_source: _TerrainSource,
    grid: _Grid,
    site_id: str,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    *,
    model: str = "los",
    radius_m: float = 30_000.0,
    max_path_loss_db: float | None = None,
    **model_options: Any,
) -> _SparseFootprint:
    """One site's footprint, reading only the terrain it needs (pure; the unit of work).

    Reads the window of ``grid`` within ``radius_m`` (plus :data:`WINDOW_MARGIN_CELLS`) of the
    site from ``terrain_source``, runs :func:`blankspot.coverage.site_footprint` on it with
    ``model``, ``radius_m`` and ``model_options`` (``freq_mhz``, ``rx_height_agl_m``,
    ``k_factor``, the site's ``antenna``, and whatever else the model takes), and keeps the
    cells with path loss at most ``max_path_loss_db``.

    Returns
    -------
    SparseFootprint
        Rows and columns of ``grid``.
    """
    r0, c0, rows, cols = grid.window_around(x_m, y_m, radius_m)
    terrain = terrain_source.read_window(grid, r0, c0, rows, cols)
    clutter = model_options.get("clutter")
    if isinstance(clutter, ClutterModel) and clutter.landcover is not None:
        if clutter.landcover.shape != tuple(grid.shape):
            raise UnitsError(
                f"the clutter's land-cover grid has shape {clutter.landcover.shape} but the "
                f"analysis grid {tuple(grid.shape)}; read it onto that grid with "
                "blankspot.clutter.landcover_classes(terrain, path)."
            )
        window = clutter.landcover[r0 : r0 + rows, c0 : c0 + cols]
        model_options = {**model_options, "clutter": ClutterModel(
            classes=clutter.classes, landcover=window, name=clutter.name)}
    fp = site_footprint(
        terrain,
        site_id,
        x_m,
        y_m,
        height_agl_m,
        model=model,
        radius_m=radius_m,
        **model_options,
    )
    return _SparseFootprint.from_footprint(
        fp, grid.grid_id, offset=(r0, c0), max_path_loss_db=max_path_loss_db
    )


@dataclass(frozen=True)
class _SiteTask:
    """Everything one task needs: small and picklable."""

    source: _TerrainSource
    grid: _Grid
    site_id: str
    x_m: float
    y_m: float
    height_agl_m: float
    model: str
    radius_m: float
    options: tuple[tuple[str, Any], ...]
    max_path_loss_db: float | None
    cache_dir: str | None
    key: str | None
    antenna: Any = None


def _run_task(task: _SiteTask, demand: _DemandIndex | None = None) -> Any:
    """The task run on a worker: stored or computed footprint, or its matrix column."""
    fp = None
    if task.cache_dir is not None and task.key is not None:
        fp = read_footprint(task.cache_dir, task.key, task.site_id, task.max_path_loss_db)
    if fp is None:
        fp = sparse_site_footprint(
            task.source,
            task.grid,
            task.site_id,
            task.x_m,
            task.y_m,
            task.height_agl_m,
            model=task.model,
            radius_m=task.radius_m,
            max_path_loss_db=task.max_path_loss_db,
            **dict(task.options),
            **({} if task.antenna is None else {"antenna": task.antenna}),
        )
        if task.cache_dir is not None and task.key is not None:
            write_footprint(task.cache_dir, task.key, fp)
    if demand is None:
        return fp
    return fp.column(demand, max_path_loss_db=task.max_path_loss_db)


# --- engines -------------------------------------------------------------------------------


def _require_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "running on a dask cluster needs dask.distributed, an optional dependency of "
            f"blankspot: {DASK_INSTALL_HINT}. On one machine without dask, pass "
            "scheduler='threads'."
        ) from exc
    return distributed


WORKER_MALLOC_ENV = {"MALLOC_TRIM_THRESHOLD_": "268435456", "MALLOC_MMAP_THRESHOLD_": "33554432"}
"""glibc malloc settings for worker processes (set before they start).

dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` by default, which hands every freed terrain
window back to the kernel, so the next site faults its pages in again: on a 30 km site that is
about ten times the page faults and a third more time. These settings keep windows (up to
32 MiB each) in the heap for reuse and return free memory above 256 MiB. For workers started
with ``dask worker``, put them under ``distributed.nanny.pre-spawn-environ`` in the dask
configuration file."""


def local_cluster(n_workers: int | None = None, **cluster_kwargs: Any) -> Any:
    """A ``dask.distributed.LocalCluster`` set up for footprints, to reuse across calls.

    ``n_workers`` processes (default one per CPU core) of one thread each, the dashboard on a
    free port and :data:`WORKER_MALLOC_ENV`; ``cluster_kwargs`` override any of these. Close
    it when done (``with local_cluster() as cluster, Client(cluster) as client: ...``).

    Raises
    ------
    ImportError
        dask.distributed is not installed (``pip install 'blankspot[dask]'``).
    """
    dd = _require_distributed()
    import dask

    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise UnitsError(f"n_workers must be None or a whole number >= 1; received {n_workers!r}.")
    kwargs = {
        "n_workers": n_workers or os.cpu_count() or 1,
        "threads_per_worker": 1,
        "processes": True,
        "dashboard_address": ":0",
        **cluster_kwargs,
    }
    environ = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC_ENV.items()}
    with dask.config.set(environ):
        return dd.LocalCluster(**kwargs)


@dataclass
class _Engine:
    executor: Executor
    slots: Callable[[], int]
    client: Any = None


@contextmanager
def _engine(client: Any, scheduler: str | None, n_workers: int | None) -> Iterator[_Engine]:
    if n_workers is not None and (
        isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1
    ):
        raise UnitsError(f"n_workers must be None or a whole number >= 1; received {n_workers!r}.")
    if client is not None and scheduler is not None:
        raise UnitsError(
            f"pass either client= or scheduler=, not both; received client={client!r} and "
            f"scheduler={scheduler!r}."
        )
    if scheduler == "threads":
        n = n_workers or os.cpu_count() or 1
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="blankspot") as pool:
            yield _Engine(pool, lambda: n)
        return
    if scheduler is not None and not (
        isinstance(scheduler, str) and scheduler.startswith(_SCHEDULER_PREFIXES)
    ):
        raise UnitsError(
            f"scheduler must be None (a LocalCluster for this call), 'threads', or a dask "
            f"scheduler address such as 'tcp://10.0.0.5:8786'; received {scheduler!r}."
        )
    dd = _require_distributed()

    def slots_of(c: Any) -> Callable[[], int]:
        return lambda: max(1, sum(c.nthreads().values()))

    if client is not None:
        yield _Engine(client.get_executor(pure=False), slots_of(client), client)
        return
    if scheduler is not None:
        with dd.Client(scheduler) as c:
            yield _Engine(c.get_executor(pure=False), slots_of(c), c)
        return
    with local_cluster(n_workers) as cluster, dd.Client(cluster) as c:
        yield _Engine(c.get_executor(pure=False), slots_of(c), c)


_IN_FLIGHT_PER_SLOT = 2
_SLOTS_REFRESH = 64


def _stream(
    engine: _Engine, tasks: Sequence[Any], extra: tuple[Any, ...] = (),
    run: Callable[..., Any] | None = None,
) -> Iterator[tuple[int, Any]]:
    """(site position, result) as tasks complete, with a bounded number in flight."""
    pending: dict[Future[Any], int] = {}
    nxt = 0
    limit = _IN_FLIGHT_PER_SLOT * engine.slots()
    done_count = 0
    try:
        while True:
            while nxt < len(tasks) and len(pending) < limit:
                pending[engine.executor.submit(run or _run_task, tasks[nxt], *extra)] = nxt
                nxt += 1
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                j = pending.pop(f)
                yield j, f.result()
                done_count += 1
                if done_count % _SLOTS_REFRESH == 0:
                    limit = _IN_FLIGHT_PER_SLOT * engine.slots()
    finally:
        for f in pending:
            f.cancel()


# --- inputs --------------------------------------------------------------------------------


def _check_common(
    terrain_source: Any,
    grid: Any,
    model: str,
    radius_m: Any,
    max_path_loss_db: Any,
) -> float:
    problems: list[str] = []
    if not isinstance(terrain_source, _TerrainSource):
        problems.append(
            f"terrain_source must be a TerrainSource (DEM paths + analysis CRS and cell size); "
            f"received {type(terrain_source).__name__}."
        )
    if not isinstance(grid, _Grid):
        problems.append(
            f"grid must be a Grid (e.g. terrain_source.grid(bounds)); received "
            f"{type(grid).__name__}."
        )
    if isinstance(terrain_source, _TerrainSource) and isinstance(grid, _Grid):
        if terrain_source.crs != grid.crs:
            problems.append(
                f"the terrain source reads into {terrain_source.crs.to_string()} but the grid is "
                f"in {grid.crs.to_string()}; build the grid with terrain_source.grid()."
            )
        if not math.isclose(terrain_source.res_m, grid.res_m, rel_tol=1e-9):
            problems.append(
                f"the terrain source reads {terrain_source.res_m:g} m cells but the grid has "
                f"{grid.res_m:g} m cells; build the grid with terrain_source.grid()."
            )
    if model not in MODELS:
        problems.append(
            f"unknown propagation model {model!r}; available: {', '.join(map(repr, MODELS))}."
        )
    try:
        radius = _positive(radius_m, "radius_m")
    except UnitsError as exc:
        problems.append(str(exc))
        radius = math.nan
    if max_path_loss_db is not None:
        try:
            ok = math.isfinite(float(max_path_loss_db))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.append(
                f"max_path_loss_db must be None or a finite loss in dB; received "
                f"{max_path_loss_db!r}."
            )
    if problems:
        raise UnitsError(format_problems("inputs", problems))
    return radius


def _model_options(
    model: str, model_options: dict[str, Any], max_path_loss_db: float | None
) -> dict[str, Any]:
    """``model_options`` checked for what cannot travel with a window, with the terrain
    models' ``max_loss_db`` defaulting to the cap (cells costlier than it are not computed)."""
    options = dict(model_options)
    clutter = options.get("clutter")
    if isinstance(clutter, np.ndarray):
        raise InputError(
            "clutter given as a bare grid (land-cover codes or heights on the terrain grid) "
            "cannot be cut to each site's window here; distributed runs take a ClutterModel "
            "(uniform, or ClutterModel.paser().with_landcover(codes)) or none."
        )
    if model in TERRAIN_MODELS and max_path_loss_db is not None:
        options.setdefault("max_loss_db", float(max_path_loss_db))
    return options


def _tasks(
    terrain_source: _TerrainSource,
    sites: Any,
    grid: _Grid,
    *,
    model: str,
    radius_m: float,
    max_path_loss_db: float | None,
    cache_dir: Any,
    model_options: dict[str, Any],
    terrain_key: str | None = None,
) -> tuple[list[str], list[_SiteTask]]:
    """One task per site; with ``cache_dir``, each keyed by the :class:`FootprintStore`
    scheme (``terrain_key``: the terrain's content key, default the source files' content)."""
    ids, xs, ys, hs = validate_site_table(sites, crs=grid.crs, bounds=grid.bounds,
                                          where="the grid")
    model_options = dict(model_options)
    if "antenna" in model_options:
        raise InputError(
            "pass antennas as antennas={site_id: antenna} (or the sites table's antenna "
            "columns), not antenna=: each site has its own."
        )
    site_antenna = site_antennas(sites, model_options.pop("antennas", None))
    options = tuple(sorted(_model_options(model, model_options, max_path_loss_db).items()))
    store = None
    folder = _cache.resolve_cache_dir(cache_dir)
    if folder is not None:
        key_parts = {"model": model, "radius_m": float(radius_m), "options": dict(options)}
        store = FootprintStore(folder, grid=grid, settings=key_parts,
                               terrain_key=terrain_key or terrain_source.content_key())
    tasks = []
    for sid, x, y, h, antenna in zip(ids, xs, ys, hs, site_antenna, strict=True):
        tasks.append(
            _SiteTask(
                source=terrain_source,
                grid=grid,
                site_id=sid,
                x_m=float(x),
                y_m=float(y),
                height_agl_m=float(h),
                model=model,
                radius_m=radius_m,
                options=options,
                max_path_loss_db=None if max_path_loss_db is None else float(max_path_loss_db),
                cache_dir=None if store is None else str(store.folder),
                key=None if store is None else store.key(x, y, h, antenna),
                antenna=antenna,
            )
        )
    return ids, tasks


def _bar(total: int, desc: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="site", disable=not enabled)


# --- public entry points -------------------------------------------------------------------


def compute_footprints(
    terrain_source: _TerrainSource,
    sites: Any,
    *,
    grid: _Grid,
    model: str = "los",
    radius_m: float = 30_000.0,
    max_path_loss_db: float | None = None,
    client: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    progress: bool = False,
    terrain_key: str | None = None,
    **model_options: Any,
) -> tuple[_SparseFootprint, ...]:
    """Footprints of every site, one task per site, on a dask cluster or local threads.

    Parameters
    ----------
    terrain_source
        Where tasks read terrain (:class:`TerrainSource`).
    sites
        GeoDataFrame indexed by ``site_id`` (strings) with Points in the grid's CRS and
        ``height_agl_m`` (see :mod:`blankspot.coverage`).
    grid
        The analysis grid (``terrain_source.grid(bounds)``).
    model, radius_m
        Propagation model and radius, as in :func:`blankspot.coverage.site_footprint`.
    max_path_loss_db
        Keep only cells with path loss at most this (e.g. a budget's ``max_path_loss_db``)
        to ship and store less; None keeps every cell with signal. For the terrain models it
        is also the default ``max_loss_db``, so costlier cells are not computed at all.
    client
        A ``dask.distributed.Client`` to run on (not closed afterwards).
    scheduler
        None: a ``LocalCluster`` of ``n_workers`` processes for this call; ``"threads"``: a
        thread pool in this process (no dask); ``"tcp://HOST:PORT"``: a running scheduler.
    n_workers
        Worker processes of the ``LocalCluster``, or threads with ``scheduler="threads"``;
        default one per CPU core.
    cache_dir
        None: no cache. True: :func:`blankspot.cache.default_cache_dir`. A folder: there.
        Workers read and write it, so it must be reachable from each of them. Entries are
        those of :class:`blankspot.footprints.FootprintStore`.
    progress
        Show a progress bar.
    terrain_key
        The terrain's part of the cache keys when the caller knows it (the plan passes the
        content key of the terrain it holds); default the SHA-256 of the DEM files.
    **model_options
        Passed to :func:`blankspot.coverage.site_footprint`: ``freq_mhz``,
        ``rx_height_agl_m``, ``k_factor`` and any option of the model; and ``antennas``
        (``{site_id: antenna}``, as in :func:`blankspot.coverage.compute_coverage`), each
        site's antenna travelling with its task and entering its cache key. The sites
        table's antenna columns are read too.

    Returns
    -------
    tuple of SparseFootprint
        In the order of ``sites``.

    Raises
    ------
    ImportError
        dask.distributed is needed (every engine but ``"threads"``) and not installed.
    SchemaError
        Everything wrong with the sites table, at once.
    CRSError
        Sites, grid and terrain source disagree on the CRS, or a window read off the grid.
    UnitsError
        Bad radius, cap, model, engine choice or ``n_workers``.

    Examples
    --------
    >>> fps = compute_footprints(src, sites, grid=grid, radius_m=30_000.0,
    ...                          scheduler="tcp://10.0.0.5:8786")        # doctest: +SKIP
    """
    radius = _check_common(terrain_source, grid, model, radius_m, max_path_loss_db)
    ids, tasks = _tasks(
        terrain_source,
        sites,
        grid,
        model=model,
        radius_m=radius,
        max_path_loss_db=max_path_loss_db,
        cache_dir=cache_dir,
        model_options=model_options,
        terrain_key=terrain_key,
    )
    out: list[_SparseFootprint | None] = [None] * len(ids)
    if not tasks:
        return ()
    with (
        _engine(client, scheduler, n_workers) as engine,
        _bar(len(tasks), "footprints", progress) as bar,
    ):
        for j, fp in _stream(engine, tasks):
            out[j] = fp
            bar.update(1)
    return tuple(out)  # type: ignore[arg-type]


def coverage_matrix_distributed(
    terrain_source: _TerrainSource,
    sites: Any,
    demand_cells: Any,
    *,
    grid: _Grid,
    budget: Any = None,
    model: str = "los",
    radius_m: float = 30_000.0,
    client: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    progress: bool = False,
    terrain_key: str | None = None,
    **model_options: Any,
) -> Any:
    """The demand × site coverage matrix, each task returning only its column.

    Like :func:`compute_footprints`, but a task sends back just the indices of the demand
    cells its site covers (path loss within ``budget.max_path_loss_db``), 4 bytes per covered
    cell, and the matrix is assembled as columns arrive. The budget's frequency is the
    model's ``freq_mhz``.

    Parameters
    ----------
    demand_cells
        GeoDataFrame of Point demand cells with ``village_id`` and ``population``, in the
        grid's CRS (:func:`blankspot.demand.demand_cells`).
    budget
        :class:`~blankspot.propagation.LinkBudget`; default ``LinkBudget()``.
    cache_dir
        As in :func:`compute_footprints`; footprints are stored with the budget's MAPL as
        cap, and serve any later budget with the same frequency and a MAPL no higher.

    Other parameters are those of :func:`compute_footprints`.

    Returns
    -------
    blankspot.aggregate.CoverageMatrix
        Rows in the order of ``demand_cells``, columns in the order of ``sites``; equal to
        :func:`blankspot.aggregate.build_coverage_matrix` on the same footprints.
    """
    budget = LinkBudget() if budget is None else budget
    if not isinstance(budget, LinkBudget):
        raise TypeError(f"budget must be a LinkBudget; received {type(budget).__name__}.")
    if "freq_mhz" in model_options and float(model_options["freq_mhz"]) != budget.freq_mhz:
        raise UnitsError(
            f"freq_mhz={model_options['freq_mhz']!r} differs from the budget's "
            f"{budget.freq_mhz:g} MHz; the budget sets the frequency, leave freq_mhz out."
        )
    model_options["freq_mhz"] = budget.freq_mhz
    cap = float(budget.max_path_loss_db)
    radius = _check_common(terrain_source, grid, model, radius_m, cap)
    missing = [c for c in ("village_id", "population") if c not in demand_cells.columns]
    if missing:
        raise SchemaError(
            f"demand_cells lacks column(s) {missing}; it needs village_id and population "
            "(see blankspot.demand.demand_cells)."
        )
    population = pd.to_numeric(demand_cells["population"], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(population) | (population < 0)
    if bad.any():
        raise UnitsError(
            f"population must be finite persons >= 0; {int(bad.sum())} demand cell(s) are not "
            f"(index {', '.join(map(repr, demand_cells.index[bad][:5]))})."
        )
    index = _DemandIndex.from_cells(demand_cells, grid)
    ids, tasks = _tasks(
        terrain_source,
        sites,
        grid,
        model=model,
        radius_m=radius,
        max_path_loss_db=cap,
        cache_dir=cache_dir,
        model_options=model_options,
        terrain_key=terrain_key,
    )
    columns: list[np.ndarray] = [np.zeros(0, dtype=np.int32)] * len(ids)
    if tasks:
        with (
            _engine(client, scheduler, n_workers) as engine,
            _bar(len(tasks), "coverage", progress) as bar,
        ):
            demand_arg: Any = index
            if engine.client is not None:
                [demand_arg] = engine.client.scatter([index], broadcast=True, hash=False)
            for j, col in _stream(engine, tasks, (demand_arg,)):
                columns[j] = col
                bar.update(1)
    lengths = np.array([c.size for c in columns], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
    matrix = sp.csc_array(
        (np.ones(indices.size, dtype=bool), indices, indptr),
        shape=(len(demand_cells), len(ids)),
    )
    demand = pd.DataFrame(
        {"village_id": demand_cells["village_id"].to_numpy(), "population": population},
        index=demand_cells.index.copy(),
    )
    return CoverageMatrix(matrix=matrix, demand=demand, site_ids=tuple(ids), max_path_loss_db=cap)


# --- losses at points ------------------------------------------------------------------------


@dataclass(frozen=True)
class _PointTask:
    """One site and the points within its radius (indices into the caller's points)."""

    source: _TerrainSource
    grid: _Grid
    x_m: float
    y_m: float
    height_agl_m: float
    index: np.ndarray
    px: np.ndarray
    py: np.ndarray
    terminal: PointTerminal
    options: tuple[tuple[str, Any], ...]
    antenna: Any = None


def _run_point_task(task: _PointTask) -> tuple[np.ndarray, np.ndarray]:
    """The task run on a worker: read the site's window, then the losses at its points."""
    r0, c0, rows, cols = task.grid.window_around(task.x_m, task.y_m, dict(task.options)["radius_m"])
    window = task.source.read_window(task.grid, r0, c0, rows, cols)
    local, loss = site_point_losses(
        window, task.x_m, task.y_m, task.height_agl_m, task.px, task.py, task.terminal,
        antenna=task.antenna, **dict(task.options),
    )  # fmt: skip
    return task.index[local], loss


def point_path_loss_distributed(
    terrain_source: _TerrainSource,
    sites: Any,
    points_xy: Any,
    *,
    grid: _Grid,
    budget: LinkBudget | None = None,
    model: str = "itm",
    radius_m: float = 30_000.0,
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    clutter: Any = None,
    max_loss_db: float | None = None,
    calibration: Any = None,
    antennas: Any = None,
    client: Any = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    progress: bool = False,
) -> sp.csc_array:
    """:func:`blankspot.coverage.point_path_loss` with one task per site, each reading only
    its window of ``grid`` from ``terrain_source``.

    Every task runs :func:`blankspot.coverage.site_point_losses` on the window
    :func:`blankspot.coverage.site_window` picks, as the in-process function does on the grid
    in memory, so both return the same matrix bit for bit. A task carries only the points
    within its site's radius, with their terminal loss worked out here (clutter: uniform,
    a land-cover ClutterModel on ``grid``, or none). Engines (``client``, ``scheduler``, ``n_workers``) as in
    :func:`compute_footprints`.

    Returns
    -------
    scipy.sparse.csc_array
        float64 (points × sites) coupling loss in dB, as
        :func:`~blankspot.coverage.point_path_loss`.

    Raises
    ------
    ConfigError
        ``model="p1812"``.
    InputError
        A bare clutter grid (wrap codes with ``ClutterModel.with_landcover``), or a land
        cover not on ``grid``.
    SchemaError, CRSError, UnitsError
        As :func:`compute_footprints`, and points that are not an (n, 2) array of finite
        numbers.
    """
    from blankspot.errors import ConfigError

    if model == "p1812":
        raise ConfigError(
            "model 'p1812' is not available on exact point paths yet; evaluate it on the raster "
            "(evaluate_at='raster'), or use model 'itm' or 'los'."
        )
    budget = budget if budget is not None else LinkBudget()
    radius = _check_common(terrain_source, grid, model, radius_m, max_loss_db)
    _model_options(model, {"clutter": clutter}, None)  # refuses a bare clutter grid
    xy = np.asarray(points_xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2 or not np.isfinite(xy).all():
        raise UnitsError(
            "points_xy must be an (n, 2) array of finite x, y metres in the grid's CRS; "
            f"received shape {xy.shape}."
        )
    ids, xs, ys, hs = validate_site_table(sites, crs=grid.crs, bounds=grid.bounds,
                                          where="the grid")  # fmt: skip
    site_antenna = site_antennas(sites, antennas)
    correction = _check_calibration(calibration, model)
    cap = None
    if model == "itm":
        cap = float(budget.max_path_loss_db + MAX_LOSS_MARGIN_DB if max_loss_db is None
                    else max_loss_db)  # fmt: skip
    px, py = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    if isinstance(clutter, ClutterModel) and clutter.landcover is not None and tuple(
            clutter.landcover.shape) != tuple(grid.shape):
        raise InputError(
            f"the clutter's land-cover grid has shape {clutter.landcover.shape} but the grid "
            f"{tuple(grid.shape)}; read it onto the grid with "
            "blankspot.clutter.landcover_classes(terrain, path)."
        )
    # each point's terminal loss is that of its own cell, read here from the whole land cover:
    # the tasks carry it, so they need no clutter and give the in-process bits
    terminal = point_terminal(_resolve_clutter(clutter, grid, with_heights=False), grid, px, py,
                              model=model,
                              freq_mhz=float(budget.freq_mhz),
                              rx_height_agl_m=float(rx_height_agl_m))  # fmt: skip
    options = (
        ("calibration", correction), ("freq_mhz", float(budget.freq_mhz)),
        ("itm_params", None), ("k_factor", float(k_factor)), ("max_loss_db", cap),
        ("model", model), ("radius_m", radius), ("rx_height_agl_m", float(rx_height_agl_m)),
    )  # fmt: skip
    tasks = []
    for x, y, h, antenna in zip(xs, ys, hs, site_antenna, strict=True):
        near = np.flatnonzero(np.hypot(px - x, py - y) <= radius)
        tasks.append(_PointTask(
            source=terrain_source, grid=grid, x_m=float(x), y_m=float(y), height_agl_m=float(h),
            index=near.astype(np.int64), px=px[near], py=py[near],
            terminal=PointTerminal(terminal.loss_db[near], terminal.codes[near]),
            options=options, antenna=antenna,
        ))  # fmt: skip
    columns: list[Any] = [None] * len(ids)
    if tasks:
        with (
            _engine(client, scheduler, n_workers) as engine,
            _bar(len(tasks), "points", progress) as bar,
        ):
            for j, col in _stream(engine, tasks, run=_run_point_task):
                columns[j] = col
                bar.update(1)
    return losses_to_csc(columns, px.size)
