"""The one input path of a plan: which files, read into the analysis CRS, for the area asked.

:class:`InputSpec` names the inputs of a run (the ``[data]`` table of a scenario): the villages
and kecamatan totals (default: the Paser dataset), the DEM file(s) (default: the Paser demo DEM),
the planner's candidate sites and the existing towers, the analysis CRS and an optional lon/lat
window. :func:`read_inputs` checks that every file is there (all missing files listed at once),
reads them and returns :class:`Inputs`, which :func:`blankspot.plan.plan` takes. The Paser demo,
``blankspot demo``, ``blankspot run`` and :func:`blankspot.scenario.run` all go through here.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import rasterio
from pyproj import Transformer

from blankspot.crs import PASER_CRS, WGS84
from blankspot.demand import select_villages
from blankspot.errors import BlankspotWarning, DataError, Problems
from blankspot.io.datasets import DEMO_DEM_FILE, DESA_FILE, KECAMATAN_CSV_FILE, paser_path
from blankspot.io.terrain import read_terrain
from blankspot.io.vectors import read_sites, read_villages
from blankspot.population import read_kecamatan_totals
from blankspot.terrain import Terrain

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from blankspot.config import PlanConfig

__all__ = [
    "EXISTING_DEFAULT_HEIGHT_AGL_M",
    "InputSpec",
    "Inputs",
    "clip_to_raster",
    "read_existing_sites",
    "read_inputs",
]

EXISTING_DEFAULT_HEIGHT_AGL_M = 30.0
"""Antenna height assumed for an existing tower whose file gives none (typical rooftop/monopole)."""


@dataclass(frozen=True)
class InputSpec:
    """Which files a run reads (None: the Paser dataset's file for that role).

    Attributes
    ----------
    data_dir
        The data directory holding the Paser dataset (default ``$BLANKSPOT_DATA_DIR`` or
        ``./data``).
    villages, village_columns, crs
        A villages file, the mapping of its columns to the villages schema, and the analysis CRS
        (default: UTM 50S for Paser, else the UTM zone of the villages).
    kecamatan_totals
        Kecamatan population totals the desa figures are projected to.
    dem
        DEM file(s); several tiles are mosaicked.
    bounds
        (lon_min, lat_min, lon_max, lat_max) of terrain to read; default the target desa plus
        the coverage radius, within the DEM.
    sites, existing
        The planner's candidate sites, and existing towers (e.g. an OpenCelliD export).
    where
        How paths are named in messages, e.g. ``"scenario.toml [data]"``.
    """

    data_dir: str | os.PathLike[str] | None = None
    villages: str | os.PathLike[str] | None = None
    village_columns: Mapping[str, str] = field(default_factory=dict)
    kecamatan_totals: str | os.PathLike[str] | None = None
    crs: Any = None
    dem: tuple[str | os.PathLike[str], ...] | None = None
    bounds: tuple[float, float, float, float] | None = None
    sites: str | os.PathLike[str] | None = None
    existing: str | os.PathLike[str] | None = None
    where: str = "inputs"

    @property
    def uses_paser_data(self) -> bool:
        """True when villages or DEM come from the Paser dataset."""
        return self.villages is None or self.dem is None

    def paths(self) -> dict[str, Path]:
        """Every input file by role (``villages``, ``kecamatan_totals``, ``dem`` or ``dem[i]``,
        ``sites``, ``existing``), checked to exist; all missing files are listed at once.

        Raises
        ------
        DataError
            A file is missing, or a Paser file is missing or fails its checksum.
        """
        problems = Problems()
        paths: dict[str, Path] = {}

        def paser(role: str, name: str) -> None:
            try:
                paths[role] = paser_path(name, self.data_dir)
            except DataError as exc:
                problems.extend_from(exc)

        def given(role: str, value: str | os.PathLike[str] | None, key: str) -> None:
            if value is None:
                return
            p = Path(value)
            if not p.is_file():
                problems.add(f"{key}: file not found: {os.fspath(value)}. Check the path.",
                             DataError)
            paths[role] = p

        if self.villages is None:
            paser("villages", DESA_FILE)
            if self.kecamatan_totals is None:
                paser("kecamatan_totals", KECAMATAN_CSV_FILE)
        else:
            given("villages", self.villages, "villages")
        given("kecamatan_totals", self.kecamatan_totals, "kecamatan_totals")
        if self.dem is None:
            paser("dem", DEMO_DEM_FILE)
        else:
            for i, d in enumerate(self.dem):
                given("dem" if len(self.dem) == 1 else f"dem[{i}]", d, "dem")
        given("sites", self.sites, "sites")
        given("existing", self.existing, "existing")
        problems.raise_if_any(f"{self.where}: input files")
        return paths


@dataclass(frozen=True, eq=False)
class Inputs:
    """Everything read for a plan, in the analysis CRS.

    ``paths`` are the files read, by role (for provenance); ``read_s`` the seconds it took.
    """

    villages: gpd.GeoDataFrame
    terrain: Terrain
    kecamatan_totals: pd.DataFrame | None
    user_sites: gpd.GeoDataFrame | None
    existing_sites: gpd.GeoDataFrame | None
    paths: dict[str, Path]
    read_s: float


def read_inputs(spec: InputSpec, config: PlanConfig) -> Inputs:
    """Read the inputs ``spec`` names, for the targets and radius of ``config``.

    Villages are read into the analysis CRS; the terrain only for ``spec.bounds`` or the target
    desa plus the coverage radius (kept inside the DEM), resampled to
    ``config.terrain_res_m``; candidate sites without a height get ``config.height_agl_m``;
    existing towers off the terrain are dropped with a warning.
    """
    t = time.perf_counter()
    paths = spec.paths()
    crs = spec.crs or (PASER_CRS if spec.villages is None else None)
    villages = read_villages(paths["villages"], columns=dict(spec.village_columns) or None, crs=crs)
    totals = (read_kecamatan_totals(paths["kecamatan_totals"])
              if "kecamatan_totals" in paths else None)
    dems = [p for role, p in paths.items() if role.startswith("dem")]
    if spec.bounds is not None:
        bounds_xy, bounds_crs = tuple(spec.bounds), WGS84
    else:
        targets = select_villages(villages, config.targets)
        area = villages.loc[list(targets)].geometry.buffer(config.radius_m + 2 * config.cell_size_m)
        bounds_xy, bounds_crs = tuple(area.total_bounds), villages.crs
        if len(dems) == 1:
            bounds_xy = clip_to_raster(bounds_xy, villages.crs, dems[0])
    terrain = read_terrain([os.fspath(d) for d in dems] if len(dems) > 1 else dems[0],
                           bounds=bounds_xy, bounds_crs=bounds_crs, crs=villages.crs,
                           res_m=config.terrain_res_m)
    user_sites = None
    if "sites" in paths:
        user_sites = read_sites(paths["sites"], crs=terrain.crs, terrain=terrain,
                                default_height_agl_m=config.height_agl_m)
    existing = read_existing_sites(paths["existing"], terrain) if "existing" in paths else None
    return Inputs(villages=villages, terrain=terrain, kecamatan_totals=totals,
                  user_sites=user_sites, existing_sites=existing, paths=paths,
                  read_s=time.perf_counter() - t)


def clip_to_raster(bounds_xy: Sequence[float], crs: Any, raster_path: str | os.PathLike[str]
                   ) -> tuple[float, float, float, float]:
    """``bounds_xy`` (in ``crs``) shrunk to lie inside a raster's footprint, so no cell is off
    the DEM.

    The raster's edges are sampled, reprojected, and the innermost coordinate of each edge kept
    (a lon/lat rectangle is slightly rotated in UTM), less one source cell for interpolation.
    """
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


def read_existing_sites(path: str | os.PathLike[str], terrain: Terrain) -> gpd.GeoDataFrame:
    """Existing towers from a sites file, keeping those on the terrain (others cannot matter).

    Files such as an OpenCelliD export cover far more than one kabupaten, so towers off the
    terrain grid are dropped with a warning rather than refused; a missing height is
    :data:`EXISTING_DEFAULT_HEIGHT_AGL_M`.
    """
    sites = read_sites(path, crs=terrain.crs, default_height_agl_m=EXISTING_DEFAULT_HEIGHT_AGL_M)
    x, y = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
    inside = terrain.contains(x, y) & np.isfinite(terrain.elevation_at(x, y))
    if not inside.all():
        warnings.warn(
            f"{int((~inside).sum())} of {len(sites)} existing towers in {path} lie outside the "
            "terrain window and were ignored.",
            BlankspotWarning,
            stacklevel=2,
        )
    return sites.loc[inside]
