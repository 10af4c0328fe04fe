"""Scenario files: one TOML file names the data, radio, costs, demand and siting of a plan.

A scenario is every input of one run, written down so that it can be shared, rerun and
compared. :class:`ScenarioSpec` reads it (``ScenarioSpec.from_toml``), checks it (every problem
at once), derives variants (:meth:`ScenarioSpec.replace`) and names it by a hash;
:func:`run` runs it and returns a :class:`ScenarioResult`: the :class:`~blankspot.plan.PlanResult`
with every intermediate object, plus provenance (the resolved scenario, the SHA-256 of every
input file, package versions, start time and timings).

File layout
-----------
Top-level ``name`` and ``description``, then six tables; a key left out takes its default, and
the defaults are those of :class:`~blankspot.plan.PlanConfig` (the single source of every
science parameter), so an empty file is the Paser demo::

    name = "Paser, Rp 12 B, 52 m towers"

    [data]        # data_dir, villages, village_columns, kecamatan_totals, dem, sites, existing,
                  # settlements, bounds, crs         (relative paths: from the file's folder)
    [radio]       # model, clutter, height_agl_m, rx_height_agl_m, freq_mhz, tx_power_dbm,
                  # bandwidth_mhz, tx_gain_dbi, feeder_loss_db, rx_gain_dbi, body_loss_db,
                  # location_margin_db, threshold_dbm, k_factor, radius_m, terrain_res_m
    [costs]       # budget_idr, tower_cost_idr, cost_parameters_file, cost_parameters = {...}
    [demand]      # targets, demand_model, cell_size_m
    [siting]      # generate_candidates, n_high_points, grid_spacing_m, min_separation_m,
                  # search_buffer_m, solver, max_towers, certify, exact_time_limit_s,
                  # curve_budgets_idr, stability_threshold_db, batch_size
    [outputs]     # out_dir, lang

TOML has no null: ``"none"`` switches off a value whose default is set (``terrain_res_m =
"none"`` keeps the DEM's own cell size; ``stability_threshold_db = "none"`` skips the
stability check). :func:`scenario_keys` lists every key with its table and meaning.

Examples
--------
>>> spec = ScenarioSpec.from_dict({"costs": {"budget_idr": 12_000_000_000}})
>>> spec.budget_idr, spec.replace(height_agl_m=52.0).height_agl_m
(12000000000, 52.0)
>>> ScenarioSpec.from_dict({"radio": {"treshold_dbm": -110.0}})
Traceback (most recent call last):
...
blankspot.errors.SchemaError: scenario: 1 problem found
  1. [radio] unknown key 'treshold_dbm'; did you mean 'threshold_dbm'?
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import time
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from blankspot.cache import input_key
from blankspot.calibration import read_calibration
from blankspot.config import COVERAGE_MODES, OBJECTIVES, TARGET_KEYWORDS, PlanConfig
from blankspot.costs import CostParameters
from blankspot.coverage import MODELS
from blankspot.crs import PASER_CRS, as_crs, require_metric
from blankspot.demand import DEMAND_MODELS
from blankspot.errors import (
    BlankspotError,
    ConfigError,
    DataError,
    Problems,
    SchemaError,
    format_problems,
)
from blankspot.io import DESA_FILE, PASER_VILLAGE_COLUMNS, paser_path, read_villages, sha256_file
from blankspot.io.inputs import InputSpec, read_inputs
from blankspot.io.providers import SOURCES
from blankspot.plan import PlanResult, plan_inputs
from blankspot.reporting.maps import plan_map, scenarios_map
from blankspot.reporting.outputs import write_outputs
from blankspot.reporting.summary import plan_folium_map, summary_html, terrain_note
from blankspot.siting import DEFAULT_RESOLVED_SHARE, available_solvers
from blankspot.units import format_idr

__all__ = [
    "SECTIONS",
    "ScenarioResult",
    "ScenarioSpec",
    "compare",
    "compare_map",
    "map_from_outputs",
    "package_versions",
    "parse_overrides",
    "run",
    "scenario_keys",
]

SECTIONS = ("data", "radio", "costs", "demand", "siting", "outputs")
"""The tables of a scenario file, in the order they are written."""

VERSION_PACKAGES = (
    "blankspot", "numpy", "pandas", "scipy", "numba", "geopandas", "shapely", "pyproj",
    "pyogrio", "rasterio", "folium", "highspy", "click", "tqdm",
)
"""Packages whose versions go into the provenance of a run."""

_PLAN = PlanConfig()
_LINK = _PLAN.link


def _model_names() -> tuple[str, ...]:
    return tuple(MODELS)


def _solver_names() -> tuple[str, ...]:
    return tuple(available_solvers())


def _village_keys() -> tuple[str, ...]:
    return tuple(PASER_VILLAGE_COLUMNS)


def _key(section: str, kind: str, default: Any, doc: str, **meta: Any) -> Any:
    return field(default=default, metadata={"section": section, "kind": kind, "doc": doc, **meta})


@dataclass(frozen=True)
class ScenarioSpec:
    """Every input of one plan, as read from a scenario file (see the module docstring).

    Build it with :meth:`from_toml` or :meth:`from_dict`; each attribute is one key of the file
    (:func:`scenario_keys` gives its table and meaning). Lists are held as tuples and tables as
    sorted tuples of pairs, so a spec never changes once made; :meth:`replace` returns a new
    one. Construction checks every value and reports every problem at once
    (:class:`~blankspot.errors.SchemaError`).

    ``source`` is the file the spec was read from (not part of the scenario or its hash).
    """

    # --- top level ---------------------------------------------------------------------------
    name: str = _key("", "str", "", "label of the scenario in tables and maps")
    description: str = _key("", "str", "", "free text")
    # --- [data] ------------------------------------------------------------------------------
    data_dir: str | None = _key(
        "data", "path", None, "Paser dataset folder; default $BLANKSPOT_DATA_DIR or ./data",
        nullable=True, example="data")
    villages: str | None = _key(
        "data", "path", None, "villages (desa) polygons; default the Paser desa", nullable=True,
        example="desa.gpkg")
    village_columns: tuple = _key(
        "data", "str_map", (), "our field -> column of the villages file (village_id, name, "
        "kecamatan, kecamatan_id, population)", example={"village_id": "kode", "name": "nama"})
    kecamatan_totals: str | None = _key(
        "data", "path", None, "kecamatan population totals (CSV); default the Paser totals "
        "when the villages are the Paser desa", nullable=True, example="kecamatan.csv")
    dem: tuple | None = _key(
        "data", "paths", None, "DEM file or list of tiles; default the Paser demo DEM "
        "(SYNTHETIC)", nullable=True, example=["S02E116.hgt"])
    sites: str | None = _key(
        "data", "path", None, "your own candidate sites (CSV with lon/lat or a point file)",
        nullable=True, example="sites.csv")
    existing: str | None = _key(
        "data", "path", None, "existing towers: people they serve are removed from the demand",
        nullable=True, example="opencellid.csv")
    bounds: tuple | None = _key(
        "data", "bounds", None, "lon_min, lat_min, lon_max, lat_max of the terrain read; default "
        "the target desa plus the coverage radius", nullable=True,
        example=[116.22, -2.42, 116.5, -2.17])
    crs: str | None = _key(
        "data", "crs", None, "analysis CRS (projected, metres); default EPSG:32750 for Paser, "
        "else the UTM zone of the villages", nullable=True, example="EPSG:32750")
    landcover: str | None = _key(
        "data", "path", None, "land-cover raster (ESA WorldCover classes): the clutter under "
        "each handset, cell by cell (with clutter = \"auto\")", nullable=True,
        example="landcover.tif")
    population: str | None = _key(
        "data", "path", None, "population raster (persons per pixel): where people live within "
        "each desa", nullable=True, example="population.tif")
    osm: str | None = _key(
        "data", "path", None, "GeoPackage with roads and power line layers: measured distances "
        "in the cost model (and a places layer: settlement points)", nullable=True,
        example="osm.gpkg")
    settlements: str | None = _key(
        "data", "path", None, "settlement points (dusun, kampung): CSV with name, lon, lat and "
        "optional population, or a point vector file; where people live within each desa",
        nullable=True, example="dusun.csv")
    area: str | None = _key(
        "data", "str", None, "an area fetched with `blankspot data fetch ... --area AREA` (a "
        "folder of the data directory): its DEM, land cover, population, OSM and towers are "
        "used", nullable=True, example="64.01")
    fetched: tuple | None = _key(
        "data", "sources", None, "which fetched sources of the area the run uses; default all "
        "(dem, landcover, population, osm, towers)", nullable=True,
        example=["dem", "landcover", "population", "osm"])
    # --- [radio] -----------------------------------------------------------------------------
    model: str = _key("radio", "choice", _PLAN.model, "propagation model",
                      choices=_model_names)
    clutter: str | int | None = _key(
        "radio", "clutter", _PLAN.clutter, "clutter for itm (at the handset) or p1812 (along the "
        "path): \"auto\" (tropical forest for itm/p1812, none for los), a class name (tree, "
        "oil_palm, ...) or WorldCover code, or \"none\"", nullable=True, example="tree")
    height_agl_m: float = _key("radio", "float", _PLAN.height_agl_m,
                               "tower (antenna) height above ground, m")
    rx_height_agl_m: float = _key("radio", "float", _PLAN.rx_height_agl_m,
                                  "handset height above ground, m")
    freq_mhz: float = _key("radio", "float", _LINK.freq_mhz, "carrier frequency, MHz")
    tx_power_dbm: float = _key("radio", "float", _LINK.tx_power_dbm,
                               "transmit power per antenna port over the channel, dBm")
    bandwidth_mhz: float = _key("radio", "float", _LINK.bandwidth_mhz,
                                "LTE channel bandwidth, MHz")
    tx_gain_dbi: float = _key("radio", "float", _LINK.tx_gain_dbi, "base-station antenna gain")
    feeder_loss_db: float = _key("radio", "float", _LINK.feeder_loss_db, "feeder/jumper loss")
    rx_gain_dbi: float = _key("radio", "float", _LINK.rx_gain_dbi, "handset antenna gain")
    body_loss_db: float = _key("radio", "float", _LINK.body_loss_db, "body loss")
    location_margin_db: float = _key("radio", "float", _LINK.location_margin_db,
                                     "margin for location variability")
    threshold_dbm: float = _key("radio", "float", _LINK.threshold_dbm,
                                "RSRP a place needs (after the margin) to count as covered",
                                min=-156.0, max=-31.0, unit=" dBm",
                                why="LTE reports RSRP from -156 to -31 dBm (3GPP TS 36.133); "
                                    "a threshold is negative, e.g. -110. ")
    k_factor: float = _key("radio", "float", _PLAN.k_factor, "effective earth radius factor")
    radius_m: float = _key("radio", "float", _PLAN.radius_m, "coverage radius per site, m")
    terrain_res_m: float | None = _key("radio", "float", _PLAN.terrain_res_m,
                                       "terrain cell size, m (\"none\": the DEM's own)",
                                       nullable=True)
    coverage: str = _key(
        "radio", "choice", _PLAN.coverage, "\"threshold\": a point is served at RSRP − "
        "location margin ≥ the threshold; \"probability\": it is served with probability "
        "Q((threshold − median RSRP) / sigma_l_db), the margin not applied",
        choices=lambda: COVERAGE_MODES)
    sigma_l_db: float = _key(
        "radio", "float", _PLAN.sigma_l_db, "location variability σ_L of coverage = "
        "\"probability\", dB (ITU-R P.1546-6 §12)")
    probability_floor: float = _key(
        "radio", "float", _PLAN.probability_floor, "coverage = \"probability\": "
        "probabilities below this are dropped from the coverage matrix")
    calibration: str | None = _key(
        "radio", "path", None, "calibration TOML written by `blankspot calibrate`: its fitted "
        "offset, slope and class losses correct every itm footprint", nullable=True,
        example="calibration.toml")
    evaluate_at: str = _key(
        "radio", "choice", _PLAN.evaluate_at, "where the siting matrix and the tables take "
        "their losses: \"points\" (exact paths to the demand points; itm and los), \"raster\" "
        "(each demand point's cell of the full footprints) or \"auto\" (points where the model "
        "has them, else raster)", choices=lambda: ("auto", "points", "raster"))
    # --- [costs] -----------------------------------------------------------------------------
    budget_idr: int = _key("costs", "idr", _PLAN.budget_idr, "budget, whole Rupiah")
    tower_cost_idr: int | None = _key(
        "costs", "idr", _PLAN.tower_cost_idr, "one flat price per tower instead of the cost "
        "model", nullable=True, example=1_700_000_000)
    cost_parameters_file: str | None = _key(
        "costs", "path", None, "cost-parameter TOML laid over the packaged defaults",
        nullable=True, example="costs.toml")
    cost_parameters: tuple = _key(
        "costs", "param_map", (), "cost-model values changed here (names of "
        "blankspot.costs.CostParameters)", example={"tower_72m_idr": 2_250_000_000})
    # --- [demand] ----------------------------------------------------------------------------
    targets: str | tuple = _key(
        "demand", "targets", _PLAN.targets, "target desa: blankspot, blankspot_2021, "
        "blankspot_2022, all, or a list of kode", example=["64.01.09.2003"])
    demand_model: str = _key(
        "demand", "choice", _PLAN.demand_model, "where people live within each desa: auto (the "
        "best source at hand: population raster, land cover, settlement points, one settlement "
        "per desa), raster, landcover, settlements or uniform", choices=lambda: DEMAND_MODELS)
    cell_size_m: float = _key("demand", "float", _PLAN.cell_size_m, "demand cell size, m")
    # --- [siting] ----------------------------------------------------------------------------
    generate_candidates: bool = _key("siting", "bool", _PLAN.generate_candidates,
                                     "generate candidates (high points and a grid)")
    n_high_points: int = _key("siting", "int", _PLAN.n_high_points,
                              "local high points taken as candidates", min=0)
    grid_spacing_m: float = _key("siting", "float", _PLAN.grid_spacing_m,
                                 "spacing of the candidate grid, m")
    min_separation_m: float = _key("siting", "float", _PLAN.min_separation_m,
                                   "least distance between candidates, m")
    search_buffer_m: float = _key("siting", "float", _PLAN.search_buffer_m,
                                  "candidates are searched this far around the target desa, m")
    objective: str = _key(
        "siting", "choice", _PLAN.objective, "what the plan maximises: \"desa\" (target desa "
        "served, then people) or \"people\" (people served)", choices=lambda: OBJECTIVES)
    served_share: float = _key(
        "siting", "float", _PLAN.served_share, "β: a desa is served when this share of its "
        "people is served (expected share with coverage = \"probability\")")
    solver: str = _key("siting", "choice", _PLAN.solver, "siting solver",
                       choices=_solver_names)
    max_towers: int | None = _key("siting", "int", _PLAN.max_towers, "most towers to build",
                                  nullable=True, min=1, example=5)
    certify: bool = _key("siting", "bool", _PLAN.certify,
                         "solve the exact MILP too and report how far the plan is from it")
    exact_time_limit_s: float = _key("siting", "float", _PLAN.exact_time_limit_s,
                                     "time limit of the exact solver, s")
    curve_budgets_idr: tuple | None = _key(
        "siting", "idr_list", _PLAN.curve_budgets_idr, "budgets of the cost-coverage curve; "
        "default 0 to twice the budget", nullable=True,
        example=[0, 4_250_000_000, 8_500_000_000])
    stability_threshold_db: float | None = _key(
        "siting", "float", _PLAN.stability_threshold_db, "threshold shift of the stability "
        "check, dB (\"none\": skip it)", nullable=True)
    batch_size: int = _key("siting", "int", _PLAN.batch_size,
                           "sites whose footprints are held at once", min=1)
    # --- [outputs] ---------------------------------------------------------------------------
    out_dir: str | None = _key("outputs", "path", None,
                               "output folder when none is given on the command line",
                               nullable=True, example="out/scenario")
    lang: str = _key("outputs", "choice", "en", "language of the tables, workbook, printed map "
                     "and metadata: \"en\" or \"id\" (Bahasa Indonesia)",
                     choices=lambda: ("en", "id"))

    source: str | None = field(default=None, compare=False, metadata={"section": None})

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in _FIELDS}
        normalized, problems = _check_values(values)
        _raise_if_problems(problems, self.source)
        for name, value in normalized.items():
            object.__setattr__(self, name, value)

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> ScenarioSpec:
        """Read a scenario file; relative paths in it are taken from the file's folder.

        Raises
        ------
        DataError
            The file is missing or unreadable.
        SchemaError
            The file is not valid TOML, or has unknown keys, wrong types or bad values (all
            listed at once).
        """
        p = Path(path)
        try:
            text = p.read_bytes().decode("utf-8")
        except FileNotFoundError:
            raise DataError(f"scenario file not found: {os.fspath(path)}. Check the path.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError(f"scenario file {os.fspath(path)} cannot be read: {exc}.") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SchemaError(
                f"scenario file {os.fspath(path)} is not valid TOML: {exc}. Strings need quotes "
                '(model = "itm"), money is a whole number (budget_idr = 8_500_000_000) and each '
                "key sits under its table ([radio], [costs], ...)."
            ) from None
        return cls.from_dict(data, base_dir=p.parent, source=os.fspath(path))

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        source: str | None = None,
    ) -> ScenarioSpec:
        """A spec from the tables of a scenario (as :func:`tomllib.load` returns them).

        ``base_dir``: folder that relative paths are taken from (default: as given, i.e. from
        the working directory). Every problem (unknown tables or keys, with the closest known
        names; keys in the wrong table; wrong types; out-of-range values) is reported at once.
        """
        problems: list[str] = []
        values: dict[str, Any] = {}
        if not isinstance(data, Mapping):
            raise SchemaError(format_problems(_what(source), [
                f"a scenario is a table of tables; received {type(data).__name__}."]))
        for top, content in data.items():
            if top in SECTIONS:
                if not isinstance(content, Mapping):
                    problems.append(
                        f"[{top}] must be a table of keys; received {content!r} "
                        f"({type(content).__name__}). Write it as a [{top}] header with keys below."
                    )
                    continue
                for key, value in content.items():
                    f = _BY_NAME.get(key)
                    if f is None:
                        problems.append(_unknown_key(key, top))
                    elif _section(f) != top:
                        problems.append(
                            f"[{top}] {key!r} belongs in {_where(f)}; move it there."
                        )
                    else:
                        values[key] = value
            elif top in _BY_NAME and _section(_BY_NAME[top]) == "":
                values[top] = content
            elif top in _BY_NAME:
                problems.append(
                    f"{top!r} at the top level belongs in {_where(_BY_NAME[top])}; write it under "
                    f"that table."
                )
            else:
                problems.append(_unknown_key(top, None))
        if base_dir is not None:
            values = _with_base_dir(values, Path(base_dir))
        normalized, more = _check_values(values)
        _raise_if_problems(problems + more, source)
        return cls(**normalized, source=source)

    # --- views -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario: every key with its value (defaults filled in), by table.

        Tuples become lists and pairs tables; unset optional values are None.
        """
        out: dict[str, Any] = {}
        for f in _FIELDS:
            if _section(f) == "":
                out[f.name] = _plain(getattr(self, f.name), f)
        for section in SECTIONS:
            out[section] = {f.name: _plain(getattr(self, f.name), f)
                            for f in _FIELDS if _section(f) == section}
        return out

    def to_toml(self, *, absolute_paths: bool = False) -> str:
        """The resolved scenario as a TOML file that reads back to an equal spec.

        ``absolute_paths=True`` writes every path as an absolute one, so the file finds the
        same inputs wherever it is read from (:meth:`from_toml` takes relative paths from the
        file's own folder): the ``scenario.toml`` of an output folder.
        """
        lines = [
            "# blankspot scenario, resolved: every key with the value used (defaults filled in).",
            f"# spec_hash = {self.spec_hash}",
        ]
        for f in _FIELDS:
            if _section(f) == "":
                lines.append(f"{f.name} = {_toml_value(getattr(self, f.name), f)}")
        for section in SECTIONS:
            lines += ["", f"[{section}]"]
            for f in _FIELDS:
                if _section(f) != section:
                    continue
                value = getattr(self, f.name)
                if absolute_paths:
                    value = _absolute_paths(value, f)
                lines.append(f"# {f.metadata['doc']}")
                if value is None and f.default is None:
                    lines.append(f"# {f.name} = (not set)")
                else:
                    lines.append(f"{f.name} = {_toml_value(value, f)}")
        return "\n".join(lines) + "\n"

    @property
    def spec_hash(self) -> str:
        """SHA-256 (hex) of the resolved scenario, ``name`` and ``description`` left out.

        Two specs that ask for the same computation have the same hash, in any process and on
        any machine with the same paths, however their files were written (order, defaults
        written out or left out, comments).
        """
        d = self.to_dict()
        return input_key({k: v for k, v in d.items() if k not in ("name", "description")})

    @property
    def label(self) -> str:
        """``name``, or ``scenario <first 8 characters of the hash>``."""
        return self.name or f"scenario {self.spec_hash[:8]}"

    @property
    def uses_paser_data(self) -> bool:
        """True when villages, population totals and DEM all come from the Paser dataset."""
        return self.villages is None and self.kecamatan_totals is None and self.dem is None \
            and self.crs is None and self.area is None

    # --- variants ----------------------------------------------------------------------------
    def replace(self, **changes: Any) -> ScenarioSpec:
        """A new spec with some keys changed, checked again; this one is never changed.

        Keys are the flat names (``budget_idr``, ``threshold_dbm``, ...); each goes to its
        table. Unknown names are a :class:`~blankspot.errors.SchemaError` naming the closest.

        >>> spec = ScenarioSpec()
        >>> spec.replace(threshold_dbm=-110.0).threshold_dbm, spec.threshold_dbm
        (-110.0, -105.0)
        """
        problems = [_unknown_key(k, None, flat=True) for k in changes if k not in _BY_NAME]
        _raise_if_problems(problems, "replace()")
        data = self.to_dict()
        for key, value in changes.items():
            section = _section(_BY_NAME[key])
            if section == "":
                data[key] = value
            else:
                data[section][key] = value
        return type(self).from_dict(data, source=self.source)

    # --- to the plan -------------------------------------------------------------------------
    def link_budget(self):
        """The :class:`~blankspot.propagation.budget.LinkBudget` of the [radio] table."""
        return _link_budget(self.__dict__)

    def input_spec(self) -> InputSpec:
        """The inputs of the [data] table, as :func:`blankspot.io.inputs.read_inputs` takes them."""
        return InputSpec(
            data_dir=self.data_dir,
            villages=self.villages,
            village_columns=dict(self.village_columns),
            kecamatan_totals=self.kecamatan_totals,
            crs=self.crs,
            dem=None if self.dem is None else tuple(self.dem),
            bounds=None if self.bounds is None else tuple(self.bounds),
            sites=self.sites,
            existing=self.existing,
            landcover=self.landcover,
            population=self.population,
            osm=self.osm,
            settlements=self.settlements,
            area=self.area,
            fetched=None if self.fetched is None else tuple(self.fetched),
            where=f"{_what(self.source)} [data]",
        )

    def to_plan_config(self) -> PlanConfig:
        """The :class:`~blankspot.plan.PlanConfig` this scenario asks for.

        Reads ``cost_parameters_file`` when given (a missing file is a
        :class:`~blankspot.errors.DataError`).
        """
        return _plan_config(self.__dict__, read_files=True)


# --- the schema ---------------------------------------------------------------------------------

_FIELDS = tuple(f for f in fields(ScenarioSpec) if f.metadata.get("section") is not None)
_BY_NAME = {f.name: f for f in _FIELDS}
_LINK_KEYS = ("freq_mhz", "tx_power_dbm", "bandwidth_mhz", "tx_gain_dbi", "feeder_loss_db",
              "rx_gain_dbi", "body_loss_db", "location_margin_db", "threshold_dbm")
_PLAN_FIELD_KEYS = {
    "link": _LINK_KEYS,
    "cost_params": ("cost_parameters_file", "cost_parameters"),
}
"""PlanConfig fields filled from keys of another name; every other field has a key of its own."""
_NOT_PLAN = ("name", "description", "data_dir", "villages", "village_columns", "kecamatan_totals",
             "dem", "sites", "existing", "bounds", "crs", "landcover", "population", "osm",
             "settlements", "area", "fetched", "out_dir")
"""Keys naming data and outputs, not PlanConfig values."""


def scenario_keys() -> pd.DataFrame:
    """Every key of a scenario file: ``table``, ``default`` and ``meaning``, indexed by name."""
    rows = [{"name": f.name, "table": _section(f) or "(top level)", "default": _plain(f.default, f),
             "meaning": f.metadata["doc"]} for f in _FIELDS]
    return pd.DataFrame(rows).set_index("name")


def _section(f) -> str:
    return f.metadata["section"]


def _where(f) -> str:
    return f"[{_section(f)}]" if _section(f) else "the top level"


def _what(source: str | None) -> str:
    return f"scenario {source}" if source else "scenario"


def _raise_if_problems(problems: list[str], source: str | None) -> None:
    """Raise one :class:`~blankspot.errors.SchemaError` listing every problem, if any."""
    if problems:
        raise SchemaError(format_problems(_what(source), problems))


def _unknown_key(key: Any, section: str | None, *, flat: bool = False) -> str:
    """The message for an unknown key, with the closest known names (difflib)."""
    key = str(key)
    if flat:
        what, pool = "unknown scenario key", list(_BY_NAME)
    elif section is None:
        what = "unknown table or top-level key"
        pool = [*SECTIONS, *(f.name for f in _FIELDS if _section(f) == "")]
    else:
        what, pool = f"[{section}] unknown key", [f.name for f in _FIELDS if _section(f) == section]
    close = difflib.get_close_matches(key, pool, n=3, cutoff=0.6)
    other = difflib.get_close_matches(key, list(_BY_NAME), n=1, cutoff=0.75)
    if close:
        hint = f"did you mean {', '.join(map(repr, close))}?"
    elif other and not flat:  # a key of another table
        hint = f"did you mean {other[0]!r} in {_where(_BY_NAME[other[0]])}?"
    elif section is None and not flat:
        hint = f"the tables are {', '.join(f'[{s}]' for s in SECTIONS)}."
    else:
        hint = f"known keys: {', '.join(pool)}."
    return f"{what} {key!r}; {hint}"


def _with_base_dir(values: dict[str, Any], base: Path) -> dict[str, Any]:
    out = dict(values)
    for name, value in values.items():
        kind = _BY_NAME[name].metadata["kind"]
        if kind == "path" and isinstance(value, str) and value.lower() != "none":
            out[name] = _join(base, value)
        elif kind == "paths":
            if isinstance(value, str) and value.lower() != "none":
                out[name] = _join(base, value)
            elif isinstance(value, (list, tuple)):
                out[name] = [_join(base, v) if isinstance(v, str) else v for v in value]
    return out


def _absolute_paths(value: Any, f) -> Any:
    """A path value (or list of them) made absolute (from the working folder)."""
    if f.metadata["kind"] not in ("path", "paths") or value is None:
        return value

    def absolute(v: Any) -> Any:
        if not isinstance(v, str) or v.lower() == "none":
            return v
        return os.path.abspath(os.path.expanduser(v))

    return [absolute(v) for v in value] if isinstance(value, (list, tuple)) else absolute(value)


def _join(base: Path, value: str) -> str:
    p = Path(value).expanduser()
    return os.fspath(p if p.is_absolute() else base / p)


# --- checking values ---------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _received(v: Any) -> str:
    return f"received {v!r} ({type(v).__name__})"


def _fix(f) -> str:
    example = f.metadata.get("example", f.default)
    return f"Write it as {f.name} = {_toml_value(_normalize_example(example), f)}."


def _normalize_example(v: Any) -> Any:
    if isinstance(v, Mapping):
        return tuple(sorted(v.items()))
    if isinstance(v, list):
        return tuple(v)
    return v


_MAX_IDR = 10**15
"""The largest amount of Rupiah a scenario key takes (Rp 1,000 trillion): sums of a few
thousand such prices still fit in int64."""


def _check_one(f, value: Any) -> tuple[Any, str | None]:
    """(normalized value, problem or None) for one key."""
    kind, meta = f.metadata["kind"], f.metadata
    where = f"[{_section(f)}] " if _section(f) else ""
    bad = f"{where}{f.name}"
    if meta.get("nullable") and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None, None
    if value is None:
        return value, f"{bad} must be set; received nothing (None). {_fix(f)}"
    if kind == "float":
        if not _is_number(value):
            return value, f"{bad} must be a number; {_received(value)}. {_fix(f)}"
        if not math.isfinite(float(value)):
            return value, f"{bad} must be finite; {_received(value)}. {_fix(f)}"
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and float(value) < lo) or (hi is not None and float(value) > hi):
            return value, (f"{bad} must be within {lo:g} .. {hi:g}{meta.get('unit', '')}; "
                           f"{_received(value)}. {meta.get('why', '')}{_fix(f)}")
        return float(value), None
    if kind in ("int", "idr"):
        if not isinstance(value, int) or isinstance(value, bool):
            what = "a whole number of Rupiah, without quotes or decimals" if kind == "idr" \
                else "a whole number"
            return value, f"{bad} must be {what}; {_received(value)}. {_fix(f)}"
        lowest = meta.get("min", 0 if kind == "idr" else None)
        if lowest is not None and value < lowest:
            return value, f"{bad} must be ≥ {lowest}; {_received(value)}. {_fix(f)}"
        if kind == "idr" and value > _MAX_IDR:
            return value, (f"{bad} is too large: at most {_MAX_IDR:_} Rupiah (sums of prices must "
                           f"fit in 64-bit integers); {_received(value)}. {_fix(f)}")
        return int(value), None
    if kind == "bool":
        if not isinstance(value, bool):
            return value, f"{bad} must be true or false; {_received(value)}. {_fix(f)}"
        return value, None
    if kind == "clutter":
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            return value, (f"{bad} must be \"auto\", a class name in quotes or a WorldCover code; "
                           f"{_received(value)}. {_fix(f)}")
        return value, None
    if kind in ("str", "crs"):
        if not isinstance(value, str):
            return value, f"{bad} must be a string in quotes; {_received(value)}. {_fix(f)}"
        return value, None
    if kind == "choice":
        choices = meta["choices"]()
        if not isinstance(value, str) or value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            return value, (f"{bad} must be one of {', '.join(map(repr, choices))}; "
                           f"{_received(value)}.{hint}")
        return value, None
    if kind == "path":
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value:
            return value, f"{bad} must be a file or folder path in quotes; {_received(value)}. {_fix(f)}"
        return value, None
    if kind == "paths":
        items = [value] if isinstance(value, (str, os.PathLike)) else value
        if not isinstance(items, (list, tuple)) or not items or not all(
                isinstance(v, (str, os.PathLike)) and os.fspath(v) for v in items):
            return value, (f"{bad} must be a path or a list of paths in quotes; "
                           f"{_received(value)}. {_fix(f)}")
        return tuple(os.fspath(v) for v in items), None
    if kind == "bounds":
        if not isinstance(value, (list, tuple)) or len(value) != 4 or not all(map(_is_number, value)):
            return value, (f"{bad} must be four numbers [lon_min, lat_min, lon_max, lat_max] in "
                           f"degrees; {_received(value)}. {_fix(f)}")
        x0, y0, x1, y1 = (float(v) for v in value)
        lons = [v for v in (x0, x1) if not -180 <= v <= 180]
        lats = [v for v in (y0, y1) if not -90 <= v <= 90]
        if lons or lats:
            what = "; ".join(
                [f"longitude {v:g} out of range -180..180" for v in lons]
                + [f"latitude {v:g} out of range -90..90" for v in lats])
            return value, (f"{bad}: {what}; received {list(value)!r}. The order is [lon_min, "
                           "lat_min, lon_max, lat_max] in degrees (Paser: about [115.5, -2.6, "
                           "116.7, -1.0]).")
        if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
            return value, (f"{bad} must be [lon_min, lat_min, lon_max, lat_max] with min < max, "
                           f"longitudes in -180..180 and latitudes in -90..90; received "
                           f"{list(value)!r}. Is the order lon, lat?")
        return (x0, y0, x1, y1), None
    if kind == "targets":
        if isinstance(value, str) and value:
            return value, None
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) and v for v in value):
            return tuple(value), None
        return value, (f"{bad} must be one of {', '.join(map(repr, TARGET_KEYWORDS))} or a list "
                       f"of kode in quotes; {_received(value)}. {_fix(f)}")
    if kind == "sources":
        known = tuple(SOURCES)
        if not isinstance(value, (list, tuple)) or not all(v in known for v in value):
            return value, (f"{bad} must be a list of {', '.join(map(repr, known))}; "
                           f"{_received(value)}. {_fix(f)}")
        return tuple(value), None
    if kind == "idr_list":
        if not isinstance(value, (list, tuple)) or not value or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            return value, (f"{bad} must be a list of whole numbers of Rupiah ≥ 0; "
                           f"{_received(value)}. {_fix(f)}")
        return tuple(int(v) for v in value), None
    if kind == "str_map":
        pairs = _pairs(value)
        if pairs is None or not all(isinstance(v, str) for _k, v in pairs):
            return value, (f"{bad} must be a table of names to column names in quotes; "
                           f"{_received(value)}. {_fix(f)}")
        known = _village_keys()
        unknown = [k for k, _v in pairs if k not in known]
        if unknown:
            hints = []
            for k in unknown:
                close = difflib.get_close_matches(k, known, n=1, cutoff=0.6)
                hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            return value, (f"{bad} has unknown field(s) {', '.join(hints)}; known fields: "
                           f"{', '.join(known)}.")
        return pairs, None
    if kind == "param_map":
        pairs = _pairs(value, flatten=True)
        if pairs is None:
            return value, (f"{bad} must be a table of cost-parameter names to values; "
                           f"{_received(value)}. {_fix(f)}")
        return pairs, None
    raise AssertionError(f"unknown kind {kind!r}")  # pragma: no cover


def _pairs(value: Any, *, flatten: bool = False) -> tuple | None:
    """A mapping (or tuple of pairs) as a sorted tuple of (str, value) pairs; None if neither."""
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)
    if not isinstance(value, Mapping):
        return None
    flat: dict[str, Any] = {}
    for k, v in value.items():
        if flatten and isinstance(v, Mapping):  # one level of grouping, as in a cost TOML file
            flat.update({str(kk): vv for kk, vv in v.items()})
        else:
            flat[str(k)] = v
    return tuple(sorted(flat.items()))


def _check_values(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Normalized values and every problem: types first, then ranges and combinations."""
    problems: list[str] = []
    normalized: dict[str, Any] = {}
    bad: set[str] = set()
    for name, value in values.items():
        f = _BY_NAME[name]
        v, problem = _check_one(f, value)
        if problem:
            problems.append(problem)
            bad.add(name)
        else:
            normalized[name] = v
    # the values a run would use: defaults where a key is missing or wrong
    full = {f.name: f.default for f in _FIELDS}
    full.update(normalized)
    problems += _semantic_problems(full, bad)
    return normalized, problems


def _problem_lines(exc: BlankspotError) -> list[str]:
    """The individual problems a blankspot error carries."""
    return list(exc.problems)


def _tagged(problem: str) -> str:
    """Prefix a problem that starts with a key's name with its table."""
    name = re.match(r"^\w+", problem)
    f = _BY_NAME.get(name.group(0)) if name else None
    return f"[{_section(f)}] {problem}" if f is not None and _section(f) else problem


def _semantic_problems(v: dict[str, Any], bad: set[str]) -> list[str]:
    problems: list[str] = []
    try:
        _link_budget(v)
    except BlankspotError as exc:
        problems += [_tagged(p) for p in _problem_lines(exc)]
    if v["crs"] is not None and "crs" not in bad:
        try:
            require_metric(as_crs(v["crs"]), "[data] crs")
        except Exception as exc:  # blankspot's or pyproj's CRSError
            problems.append(f"[data] crs = {v['crs']!r} is not a projected CRS in metres: {exc}")
    if v["cost_parameters"] and "cost_parameters" not in bad:
        try:
            _cost_params(v, read_files=False)
        except BlankspotError as exc:
            problems += [f"[costs] cost_parameters: {p}" for p in _problem_lines(exc)]
    try:  # ranges: keys with a wrong type take their default here, so none is reported twice
        _plan_config(v, read_files=False, cost=False)
    except BlankspotError as exc:
        problems += [_tagged(p) for p in _problem_lines(exc)]
    return problems


# --- to PlanConfig ------------------------------------------------------------------------------


def _link_budget(v: Mapping[str, Any]):
    return _LINK.replace(**{k: v[k] for k in _LINK_KEYS})


def _cost_params(v: Mapping[str, Any], *, read_files: bool):
    path = v["cost_parameters_file"]
    overrides = dict(v["cost_parameters"] or ())
    if path is None and not overrides:
        return None  # PlanConfig's own default
    params = CostParameters.from_toml(path) if (path is not None and read_files) \
        else CostParameters.default()
    if overrides:
        params = params.updated(overrides, what="[costs] cost_parameters")
    return params


def _plan_config(v: Mapping[str, Any], *, read_files: bool, cost: bool = True) -> PlanConfig:
    """PlanConfig from resolved values (``cost=False``: without building the cost parameters).

    The clutter goes as written (``"auto"``, a class name or code, None): PlanConfig resolves
    and checks it.
    """
    try:
        link = _link_budget(v)
    except BlankspotError:
        if read_files:
            raise
        link = _LINK
    targets = v["targets"]
    return PlanConfig(
        budget_idr=v["budget_idr"],
        tower_cost_idr=v["tower_cost_idr"],
        cost_params=_cost_params(v, read_files=read_files) if cost else None,
        height_agl_m=v["height_agl_m"],
        rx_height_agl_m=v["rx_height_agl_m"],
        radius_m=v["radius_m"],
        k_factor=v["k_factor"],
        link=link,
        model=v["model"],
        clutter=v["clutter"],
        targets=list(targets) if isinstance(targets, tuple) else targets,
        demand_model=v["demand_model"],
        cell_size_m=v["cell_size_m"],
        terrain_res_m=v["terrain_res_m"],
        n_high_points=v["n_high_points"],
        grid_spacing_m=v["grid_spacing_m"],
        min_separation_m=v["min_separation_m"],
        search_buffer_m=v["search_buffer_m"],
        generate_candidates=v["generate_candidates"],
        max_towers=v["max_towers"],
        batch_size=v["batch_size"],
        solver=v["solver"],
        certify=v["certify"],
        exact_time_limit_s=v["exact_time_limit_s"],
        curve_budgets_idr=v["curve_budgets_idr"],
        stability_threshold_db=v["stability_threshold_db"],
        calibration=_calibration(v) if read_files else None,
        objective=v["objective"],
        served_share=v["served_share"],
        coverage=v["coverage"],
        sigma_l_db=v["sigma_l_db"],
        probability_floor=v["probability_floor"],
        evaluate_at=v["evaluate_at"],
    )


def _calibration(v: Mapping[str, Any]):
    """The calibration the ``[radio] calibration`` file holds, or None."""
    if v.get("calibration") is None:
        return None
    return read_calibration(v["calibration"])


# --- writing values back ------------------------------------------------------------------------


def _plain(value: Any, f) -> Any:
    """A value as plain TOML/JSON data: tuples as lists, pairs as tables."""
    kind = f.metadata["kind"]
    if value is None:
        return None
    if kind in ("str_map", "param_map"):
        return {k: v for k, v in value}
    if isinstance(value, tuple):
        return list(value)
    return value


def _toml_value(value: Any, f=None) -> str:
    if f is not None:
        if value is None:
            return '"none"'
        value = _plain(value, f)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} ({type(value).__name__}) as TOML")  # pragma: no cover


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


# --- command-line overrides ---------------------------------------------------------------------


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["budget_idr=12_000_000_000", "radio.model=itm"]`` as keyword arguments of
    :meth:`ScenarioSpec.replace`.

    Each value is read as a TOML value (``12_000_000_000``, ``-110.0``, ``true``,
    ``["64.01.09.2003"]``, ``"none"``); one that is not valid TOML is taken as a string, so
    ``model=itm`` works without quotes. A key may name its table (``radio.threshold_dbm``).
    Every problem is reported at once.

    >>> parse_overrides(["budget_idr=12_000_000_000", "radio.model=itm"])
    {'budget_idr': 12000000000, 'model': 'itm'}
    """
    out: dict[str, Any] = {}
    problems: list[str] = []
    for item in items:
        key, sep, text = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            problems.append(f"--set {item!r} must be KEY=VALUE, e.g. --set budget_idr=12_000_000_000.")
            continue
        section, _dot, name = key.rpartition(".")
        f = _BY_NAME.get(name)
        if f is None:
            problems.append(_unknown_key(name, None, flat=True))
            continue
        if section and section != _section(f):
            problems.append(f"{key!r}: {name!r} belongs in {_where(f)}, not [{section}].")
            continue
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[name] = value
    _raise_if_problems(problems, "overrides")
    return out


# --- running ------------------------------------------------------------------------------------


def _as_spec(spec: Any) -> ScenarioSpec:
    if isinstance(spec, ScenarioSpec):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return ScenarioSpec.from_toml(spec)
    if isinstance(spec, Mapping):
        return ScenarioSpec.from_dict(spec)
    raise TypeError(
        f"expected a ScenarioSpec, a scenario file path or a scenario dict; received "
        f"{type(spec).__name__}."
    )


def _input_paths(spec: ScenarioSpec) -> dict[str, Path]:
    """Every input file the run reads, by role; missing files are reported together."""
    problems = Problems()
    paths: dict[str, Path] = {}
    try:
        paths.update(spec.input_spec().paths())
    except DataError as exc:
        problems.extend_from(exc)
    if spec.cost_parameters_file is not None:
        p = Path(spec.cost_parameters_file)
        if not p.is_file():
            problems.add(f"[costs] cost_parameters_file: file not found: {p}. Check the path.",
                         DataError)
        paths["cost_parameters_file"] = p
    if spec.calibration is not None:
        _calibration_problems(spec, problems)
        paths["calibration"] = Path(spec.calibration)
    problems.raise_if_any(f"{_what(spec.source)}: input files")
    if spec.source is not None and Path(spec.source).is_file():
        paths = {"scenario": Path(spec.source), **paths}
    return paths


def _calibration_problems(spec: ScenarioSpec, problems: Problems) -> None:
    """``[radio] calibration``: a missing file is a DataError, a file that is not a calibration
    of the scenario's model a ConfigError, listed with the other problems."""
    assert spec.calibration is not None
    p = Path(spec.calibration)
    if not p.is_file():
        problems.add(f"[radio] calibration: file not found: {p}. Write one with `blankspot "
                     "calibrate`, or check the path.", DataError)
        return
    if spec.model != "itm":
        problems.add(f"[radio] calibration corrects the 'itm' prediction, but model = "
                     f"{spec.model!r}; set [radio] model = \"itm\" or drop the calibration.",
                     ConfigError)
    try:
        cal = read_calibration(p)
    except BlankspotError as exc:
        for line in _problem_lines(exc) or [str(exc)]:
            problems.add(f"[radio] calibration: {line}", ConfigError)
        return
    if math.isfinite(cal.freq_mhz) and abs(cal.freq_mhz - float(spec.freq_mhz)) > 1.0:
        problems.add(f"[radio] calibration was fitted at {cal.freq_mhz:g} MHz, but freq_mhz = "
                     f"{spec.freq_mhz:g}; calibrate with measurements at {spec.freq_mhz:g} MHz "
                     "(the clutter loss depends on the frequency).", ConfigError)


def _file_record(path: Path) -> dict[str, Any]:
    return {"path": os.fspath(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}


def package_versions() -> dict[str, str | None]:
    """Versions of Python, the packages in :data:`VERSION_PACKAGES`, GDAL and PROJ."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": platform.python_version()}
    for pkg in VERSION_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        import rasterio

        out["gdal"] = rasterio.__gdal_version__
    except ImportError:  # pragma: no cover
        out["gdal"] = None
    try:
        import pyproj

        out["proj"] = pyproj.proj_version_str
    except ImportError:  # pragma: no cover
        out["proj"] = None
    return out


def run(
    spec: ScenarioSpec | str | os.PathLike[str] | Mapping[str, Any],
    *,
    progress: bool = False,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    client: Any = None,
    scheduler: str | None = None,
) -> ScenarioResult:
    """Run a scenario: read its data, plan, and record where every number came from.

    Parameters
    ----------
    spec
        A :class:`ScenarioSpec`, a scenario file, or a scenario dict.
    progress
        Show progress bars (coverage of the candidates).
    cache_dir
        Keep per-site footprints on disk here (True: the default cache folder, see
        :mod:`blankspot.cache`), so a sweep over budgets or costs computes each footprint once.
    client, scheduler
        Compute candidate coverage on dask (as :func:`blankspot.plan.plan`).

    Returns
    -------
    ScenarioResult

    Raises
    ------
    DataError
        An input file is missing (all are listed) or a Paser file fails its checksum.
    SchemaError, CRSError, UnitsError
        As the readers and :func:`blankspot.plan.plan` raise them.
    """
    spec = _as_spec(spec)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    t0 = time.perf_counter()
    paths = _input_paths(spec)
    config = spec.to_plan_config()
    t = time.perf_counter()
    inputs = read_inputs(spec.input_spec(), config, paths)
    result = plan_inputs(inputs, config=config, progress=progress, scheduler=scheduler,
                         client=client, cache_dir=cache_dir)
    plan_s = time.perf_counter() - t
    t = time.perf_counter()
    files = {role: _file_record(p) for role, p in paths.items()}
    hash_s = time.perf_counter() - t
    timings = {"plan_s": plan_s, "input_checksums_s": hash_s,
               **{f"plan.{k}": v for k, v in result.timings_s.items()},
               "total_s": time.perf_counter() - t0}
    return ScenarioResult(
        spec=spec,
        plan=result,
        scenario=spec.to_dict(),
        spec_hash=spec.spec_hash,
        input_files=files,
        versions=package_versions(),
        started_utc=started,
        timings_s=timings,
    )


@dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A plan and its provenance: what was asked, what was read, with what, when.

    Attributes
    ----------
    spec
        The :class:`ScenarioSpec` that was run.
    plan
        The :class:`~blankspot.plan.PlanResult`: every intermediate object of the run.
    scenario
        The resolved scenario (:meth:`ScenarioSpec.to_dict`).
    spec_hash
        :attr:`ScenarioSpec.spec_hash`.
    input_files
        Every input file read, by role: ``{"path", "sha256", "bytes"}``.
    versions
        Python, packages, GDAL and PROJ (:func:`package_versions`).
    started_utc
        Start of the run, ISO 8601 in UTC.
    timings_s
        Seconds per step (``plan.*`` are the plan's own steps).
    """

    spec: ScenarioSpec
    plan: PlanResult
    scenario: dict
    spec_hash: str
    input_files: dict
    versions: dict
    started_utc: str
    timings_s: dict

    # --- convenience -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.label

    @property
    def ranking(self) -> pd.DataFrame:
        return self.plan.ranking

    @property
    def desa(self) -> pd.DataFrame:
        return self.plan.desa

    @property
    def kecamatan(self) -> pd.DataFrame:
        return self.plan.kecamatan

    @property
    def people_covered(self) -> float:
        return self.plan.people_covered

    @property
    def total_cost_idr(self) -> int:
        return self.plan.total_cost_idr

    @property
    def desa_resolved(self) -> int:
        """Target desa with at least :data:`~blankspot.siting.DEFAULT_RESOLVED_SHARE` of their
        people covered."""
        d = self.plan.desa
        return int((d["target"] & (d["share_covered"] >= DEFAULT_RESOLVED_SHARE)).sum())

    @property
    def provenance(self) -> dict[str, Any]:
        """What ``provenance.json`` holds."""
        return {
            "scenario": self.name,
            "spec_hash": self.spec_hash,
            "started_utc": self.started_utc,
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
            "input_files": self.input_files,
            "versions": self.versions,
            "terrain": terrain_note(self.plan),
            "footprint_cache": self.plan.footprint_cache,
            **({"calibration": self.calibration_record} if self.calibration_record else {}),
        }

    @property
    def calibration_record(self) -> dict[str, Any] | None:
        """The ``[radio] calibration`` file of the run: path, SHA-256 and fitted values
        (:meth:`blankspot.calibration.Calibration.record`); None without one. In
        ``provenance.json``, and in ``metadata.json`` under ``parameter.calibration``."""
        cal = self.plan.config.calibration
        return None if cal is None else cal.record()

    # --- outputs -----------------------------------------------------------------------------
    def write(self, out_dir: str | os.PathLike[str], **options: Any) -> dict[str, Path]:
        """Write the plan's outputs (:func:`blankspot.plan.write_outputs`, which gets
        ``options``, e.g. ``lang="id"``), ``scenario.toml`` (the resolved scenario) and
        ``provenance.json``, all as one set (a failure leaves the previous set as it was).
        Returns {name: path}."""
        out = Path(out_dir)
        options.setdefault("lang", self.spec.lang)
        extra = {"scenario.toml": self.spec.to_toml(absolute_paths=True),
                 "provenance.json": json.dumps(self.provenance, indent=2, ensure_ascii=False,
                                               default=str)}
        return dict(write_outputs(self.plan, out, extra_text=extra, **options))

    def explore(self, measurements=None):
        """The interactive folium map of the plan (the ``map.html`` written by :meth:`write`);
        ``measurements``: points with a residual (``blankspot.calibration.predict_at_points``),
        drawn coloured by measured − predicted RSRP."""
        return plan_folium_map(self.plan, measurements=measurements)

    def _repr_html_(self) -> str:
        return summary_html(
            self.plan,
            heading=f"blankspot scenario: {self.name}",
            rows=(("spec hash", self.spec_hash[:16]), ("started (UTC)", self.started_utc)),
        )


# --- comparing scenarios ------------------------------------------------------------------------


def _named(items: Any) -> list[tuple[str | None, Any]]:
    if isinstance(items, Mapping):
        return [(str(k), v) for k, v in items.items()]
    if isinstance(items, (ScenarioResult, ScenarioSpec, str, os.PathLike)):
        items = [items]
    return [(None, v) for v in items]


def _results(items: Any, *, cache_dir=None) -> list[tuple[str, ScenarioResult]]:
    out: list[tuple[str, ScenarioResult]] = []
    seen: dict[str, int] = {}
    for name, item in _named(items):
        result = item if isinstance(item, ScenarioResult) else run(item, cache_dir=cache_dir)
        label = name or result.name
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:
            label = f"{label} ({seen[label]})"
        out.append((label, result))
    return out


def compare(results_or_specs: Any, *, cache_dir=None) -> pd.DataFrame:
    """The headline figures of several scenarios side by side, one column per scenario.

    ``results_or_specs``: :class:`ScenarioResult` objects, specs or scenario files (those are
    run first, sharing ``cache_dir``), as a list or a {name: ...} dict. Columns are named by
    the dict keys or the scenarios' names (repeats numbered). Rows: budget, towers, cost,
    people covered, target desa resolved (≥ 80 % of people covered), model, threshold, height,
    radius, solver and the spec hash.
    """

    columns = {}
    for label, r in _results(results_or_specs, cache_dir=cache_dir):
        cfg = r.plan.config
        columns[label] = {
            "budget_idr": int(cfg.budget_idr),
            "towers": len(r.ranking),
            "total_cost_idr": r.total_cost_idr,
            "people_covered": round(r.people_covered, 1),
            "target_desa": len(r.plan.target_ids),
            "desa_resolved": r.desa_resolved,
            "model": r.plan.model_label(),
            "threshold_dbm": cfg.link.threshold_dbm,
            "height_agl_m": cfg.height_agl_m,
            "radius_m": cfg.radius_m,
            "solver": r.plan.solution.solver,
            "spec_hash": r.spec_hash[:16],
        }
    return pd.DataFrame(columns, dtype=object)


def compare_map(results: Any, *, cache_dir=None):
    """One folium map with each scenario's ranked towers as a layer that can be switched on
    and off. Desa are coloured by the first scenario's coverage (the title says so)."""
    named = _results(results, cache_dir=cache_dir)
    if not named:
        raise SchemaError("compare_map() needs at least one scenario result; received none.")
    first_label, first = named[0]
    notes = {terrain_note(r.plan) for _l, r in named}
    note = next((n for n in notes if "SYNTHETIC" in n), sorted(notes)[0])
    return scenarios_map(
        first.plan.villages,
        {label: r.ranking for label, r in named},
        title=f"blankspot: {len(named)} scenarios compared (desa coloured by {first_label})",
        terrain_note=note,
    )


# --- maps from written outputs ------------------------------------------------------------------


def map_from_outputs(out_dir: str | os.PathLike[str], *, data_dir: str | os.PathLike[str] | None = None):
    """The folium map of a plan already written to ``out_dir`` (by ``blankspot run`` or ``demo``).

    Reads ``ranking.csv``, ``desa.csv``, ``summary.json`` and ``coverage.tif`` (when present);
    the desa boundaries come from the villages of ``scenario.toml`` when the folder has one,
    else from the Paser dataset in ``data_dir``. Nothing is recomputed.

    Raises
    ------
    DataError
        A required file is missing (all are listed) or the villages cannot be read.
    """

    out = Path(out_dir)
    missing = [n for n in ("ranking.csv", "desa.csv", "summary.json") if not (out / n).is_file()]
    if missing:
        raise DataError(format_problems(
            f"output folder {os.fspath(out)}",
            [f"{n} is missing; write the plan first with blankspot run or blankspot demo."
             for n in missing]))
    spec = ScenarioSpec.from_toml(out / "scenario.toml") if (out / "scenario.toml").is_file() else None
    if spec is not None and spec.villages is not None:
        villages = read_villages(spec.villages, columns=dict(spec.village_columns) or None,
                                 crs=spec.crs)
    else:
        folder = data_dir if data_dir is not None else (spec.data_dir if spec else None)
        villages = read_villages(paser_path(DESA_FILE, folder), crs=(spec and spec.crs) or PASER_CRS)
    def damaged(name: str, exc: BaseException) -> DataError:
        return DataError(
            f"{os.fspath(out / name)} cannot be read as blankspot wrote it ({type(exc).__name__}: "
            f"{exc}); write the outputs again with blankspot run or blankspot demo."
        )

    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        _ = (summary["total_cost_idr"], summary["budget_idr"], summary["people_covered"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise damaged("summary.json", exc) from None
    try:
        desa = pd.read_csv(out / "desa.csv", dtype={"kode": str}).set_index("kode")
        desa_cols = desa[["population", "population_covered", "share_covered", "target"]]
    except (OSError, ValueError, KeyError) as exc:
        raise damaged("desa.csv", exc) from None
    try:
        ranking = pd.read_csv(out / "ranking.csv", dtype={"site_id": str})
        for col in ("rank", "lon", "lat"):
            ranking[col] = pd.to_numeric(ranking[col], errors="raise")
        # the CSV neutralises text a spreadsheet would run as a formula ('=x); the map shows =x
        ranking["site_id"] = ranking["site_id"].astype(str).str.replace(
            r"^'(?=[=+\-@\t\r])", "", regex=True)
    except (OSError, ValueError, KeyError) as exc:
        raise damaged("ranking.csv", exc) from None
    v = villages.drop(columns=[c for c in ("population", "population_covered", "share_covered",
                                           "target") if c in villages.columns])
    v = v.join(desa_cols[["population", "population_covered", "share_covered"]], how="left")
    v["target"] = v.index.isin(desa.index[desa_cols["target"].astype(bool)])
    rsrp = transform = crs = None
    if (out / "coverage.tif").is_file():
        import rasterio

        try:
            with rasterio.open(out / "coverage.tif") as src:
                rsrp, transform, crs = src.read(1), src.transform, src.crs
        except (rasterio.errors.RasterioError, OSError, ValueError) as exc:
            raise damaged("coverage.tif", exc) from None
    title = (
        f"blankspot plan: {len(ranking)} towers, {format_idr(summary['total_cost_idr'])} of "
        f"{format_idr(summary['budget_idr'])}, {summary['people_covered']:,.0f} people newly "
        f"covered in {len(summary.get('target_desa', []))} target desa ({summary.get('model', '')}, "
        f"RSRP ≥ {summary.get('threshold_dbm', float('nan')):g} dBm)"
    )
    return plan_map(v, ranking=ranking, rsrp_dbm=rsrp, rsrp_transform=transform, rsrp_crs=crs,
                    title=title, terrain_note=str(summary.get("terrain", "")))
