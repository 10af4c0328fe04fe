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

import geopandas as gpd
import numpy as np
import pyogrio
import rasterio
from pyproj import Transformer

from blankspot.clutter import landcover_classes
from blankspot.crs import PASER_CRS, WGS84
from blankspot.demand import select_villages
from blankspot.errors import BlankspotWarning, ConfigError, DataError, Problems
from blankspot.io.datasets import (
    DEMO_DEM_FILE,
    DESA_FILE,
    KECAMATAN_CSV_FILE,
    PLACES_FILE,
    paser_path,
)
from blankspot.io.fetch import PRODUCT_FILES, fetched_sources
from blankspot.io.providers import SOURCES
from blankspot.io.settlements import read_geonames_places, read_osm_places, read_settlements
from blankspot.io.terrain import read_terrain
from blankspot.io.vectors import read_sites, read_villages
from blankspot.options import data_dir as default_data_dir
from blankspot.population import read_kecamatan_totals
from blankspot.terrain import Terrain

if TYPE_CHECKING:
    import numpy.typing as npt
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

FETCHED_ROLES = {"dem": "dem", "landcover": "landcover", "population": "population",
                 "osm": "osm", "towers": "existing"}
"""The role in a run of each source ``blankspot data fetch`` gets."""

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
    landcover, population, osm
        A land-cover raster (ESA WorldCover classes: the clutter under each handset, cell by
        cell), a population raster (persons per pixel: where people live within each desa) and a
        GeoPackage with ``roads`` and ``power`` line layers (distances in the cost model) and,
        where fetched, a ``places`` layer of OSM settlement nodes (demand points).
    settlements
        Settlement points of the planner (dusun, kampung): a table with name, lon, lat and
        optional population, or a point vector file (:func:`blankspot.io.settlements.read_settlements`);
        they win over the OSM places.
    area, fetched
        An area fetched with ``blankspot data fetch SOURCE... --area AREA`` (a folder of the data
        directory), and which of its sources the run uses (default: all five, ``dem``,
        ``landcover``, ``population``, ``osm``, ``towers``). A source named here and not fetched
        is an error that gives the fetch command. A path given for the same role wins.
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
    landcover: str | os.PathLike[str] | None = None
    population: str | os.PathLike[str] | None = None
    osm: str | os.PathLike[str] | None = None
    settlements: str | os.PathLike[str] | None = None
    area: str | None = None
    fetched: tuple[str, ...] | None = None
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
            paser("places", PLACES_FILE)
            if self.kecamatan_totals is None:
                paser("kecamatan_totals", KECAMATAN_CSV_FILE)
        else:
            given("villages", self.villages, "villages")
        given("kecamatan_totals", self.kecamatan_totals, "kecamatan_totals")
        fetched = self.fetched_paths(problems) if self.area is not None else {}
        if self.dem is None and "dem" not in fetched:
            paser("dem", DEMO_DEM_FILE)
        elif self.dem is not None:
            for i, d in enumerate(self.dem):
                given("dem" if len(self.dem) == 1 else f"dem[{i}]", d, "dem")
        given("sites", self.sites, "sites")
        given("existing", self.existing, "existing")
        given("landcover", self.landcover, "landcover")
        given("population", self.population, "population")
        given("osm", self.osm, "osm")
        given("settlements", self.settlements, "settlements")
        for role, path in fetched.items():  # a path given for the role wins
            paths.setdefault(role, path)
        problems.raise_if_any(f"{self.where}: input files")
        return paths

    def fetched_paths(self, problems: Problems) -> dict[str, Path]:
        """The products of :attr:`area` this run uses, by role; missing ones go to ``problems``
        with the command that fetches them."""
        root = Path(self.data_dir) if self.data_dir is not None else default_data_dir()
        sources = tuple(SOURCES) if self.fetched is None else tuple(self.fetched)
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            problems.add(f"fetched: unknown source(s) {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(SOURCES)}.", ConfigError)
        found: dict[str, Path] = {}
        missing = []
        for source in (s for s in sources if s in SOURCES):
            path = root / str(self.area) / PRODUCT_FILES[source]
            if path.is_file():
                found[FETCHED_ROLES[source]] = path
            else:
                missing.append(source)
        if missing:
            where = "" if self.data_dir is None else f" --data-dir {os.fspath(self.data_dir)}"
            problems.add(
                f"area {self.area!r}: {', '.join(missing)} not fetched into {root / str(self.area)}. "
                f"Get {'it' if len(missing) == 1 else 'them'} with: blankspot data fetch "
                f"{' '.join(missing)} --area {self.area}{where}", DataError)
        return found


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
    landcover: npt.NDArray[np.int16] | None = None
    """ESA WorldCover class of every terrain cell, or None."""
    population_raster: Path | None = None
    roads: gpd.GeoDataFrame | None = None
    power_lines: gpd.GeoDataFrame | None = None
    data_sources: tuple[dict[str, Any], ...] = ()
    """Registry entries (URL, bytes, SHA-256, date, licence) of the fetched files used."""
    settlements: gpd.GeoDataFrame | None = None
    """Settlement points: the planner's file, else the OSM places layer, or None."""
    places: gpd.GeoDataFrame | None = None
    """Known places (the Paser GeoNames table): where a desa's one settlement stands."""


def read_inputs(spec: InputSpec, config: PlanConfig,
                paths: Mapping[str, Path] | None = None) -> Inputs:
    """Read the inputs ``spec`` names, for the targets and radius of ``config``.

    Villages are read into the analysis CRS; the terrain only for ``spec.bounds`` or the target
    desa plus the coverage radius (kept inside the DEM), resampled to
    ``config.terrain_res_m``; candidate sites without a height get ``config.height_agl_m``;
    existing towers off the terrain are dropped with a warning. ``paths``: the files of
    :meth:`InputSpec.paths` when the caller already resolved them.
    """
    t = time.perf_counter()
    paths = dict(spec.paths() if paths is None else paths)
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
    landcover = landcover_classes(terrain, paths["landcover"]) if "landcover" in paths else None
    roads = power = settlements = None
    if "osm" in paths:
        roads, power = read_osm_lines(paths["osm"], terrain.crs)
        settlements = read_osm_places(paths["osm"], terrain.crs)
    if "settlements" in paths:
        settlements = read_settlements(paths["settlements"], terrain.crs)
    places = read_geonames_places(paths["places"], terrain.crs) if "places" in paths else None
    sources: tuple[dict[str, Any], ...] = ()
    if spec.area is not None:
        used = {os.fspath(p) for p in paths.values()}
        root = Path(spec.data_dir) if spec.data_dir is not None else default_data_dir()
        entries = fetched_sources(spec.area, root)
        kept = {e["source"] for e in entries
                if e.get("kind") == "product" and os.fspath(root / e["file"]) in used}
        sources = tuple(e for e in entries if e.get("source") in kept)
    return Inputs(villages=villages, terrain=terrain, kecamatan_totals=totals,
                  user_sites=user_sites, existing_sites=existing, paths=paths,
                  read_s=time.perf_counter() - t, landcover=landcover,
                  population_raster=paths.get("population"), roads=roads, power_lines=power,
                  data_sources=sources, settlements=settlements, places=places)


def read_osm_lines(path: str | os.PathLike[str], crs: Any
                   ) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    """The ``roads`` and ``power`` line layers of an OSM GeoPackage (as ``blankspot data fetch
    osm`` writes it), in ``crs``; a layer the file lacks is None.

    Power lines stand for the PLN grid in the cost model: OpenStreetMap maps high-voltage lines
    (``power=line``) and, where mapped, distribution lines (``minor_line``); both are taken.
    """
    try:
        layers = set(pyogrio.list_layers(path)[:, 0])
    except Exception as exc:  # pyogrio raises its own DataSourceError for unreadable files
        raise DataError(f"{os.fspath(path)} is not a readable GeoPackage ({exc}); fetch it again "
                        "with: blankspot data fetch osm --area AREA --refresh") from exc
    out: list[gpd.GeoDataFrame | None] = []
    for name in ("roads", "power"):
        if name not in layers:
            out.append(None)
            continue
        frame = gpd.read_file(path, layer=name)
        out.append(frame.to_crs(crs) if len(frame) else None)
    return out[0], out[1]


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
