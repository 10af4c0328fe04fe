"""Coverage of a set of sites: per-site path-loss footprints on one terrain grid.

The per-site function :func:`site_footprint` is pure (terrain and one site in, one
:class:`Footprint` out) and is the only unit of parallel work; :func:`compute_coverage` runs it
across sites on a thread pool (the kernels release the GIL). Footprints hold path loss only:
RSRP, coverage, best server and overlap are derived from them with a :class:`LinkBudget`, so a
new threshold or margin needs no new propagation run (:meth:`CoverageResult.with_budget`).

Models
------
- ``"los"``: free-space loss (ITU-R P.525) where the receiver sees the antenna, nothing where
  the terrain hides it (:func:`blankspot.propagation.viewshed`).
- ``"itm"``: the Irregular Terrain Model, point-to-point from the site to every cell, by
  radial sweep (:func:`blankspot.propagation.radial.radial_path_loss`). With clutter, each
  cell adds the P.2108 §3.1 terminal loss of its land-cover class
  (:func:`blankspot.clutter.terminal_loss_db`).
- ``"p1812"``: ITU-R P.1812 by the same sweep. With clutter, each point between the terminals
  is raised by its class's clutter height and nothing is added on top (the handset's canopy
  loss comes out of the diffraction; adding P.2108 would count the trees twice).

For the terrain models a cell is computed only while its loss can stay within ``max_loss_db``
(default: the budget's MAPL plus :data:`MAX_LOSS_MARGIN_DB`); cells costlier than that are NaN,
so :meth:`Footprint.covered` and :meth:`CoverageResult.with_budget` work unchanged for any
threshold up to that margin looser.

Antennas
--------
A site may carry an antenna pattern (:mod:`blankspot.propagation.antenna`): given as
``antennas={site_id: antenna}`` or by the antenna columns of the sites table (below). Its
footprint then holds the *coupling* loss: the basic loss (plus the ITM terminal clutter loss)
minus the pattern's relative gain toward each cell, ``relative_gain_db(azimuth, elevation)``,
which is at most 0 dB. The :class:`LinkBudget`'s ``tx_gain_dbi`` stays the peak (boresight)
gain, so a cell in the beam's peak keeps the loss it had without a pattern; the antenna's own
``gain_dbi`` is not used. Per cell:

- the azimuth is that of the cell centre seen from the site, degrees clockwise from *grid*
  north of the analysis CRS, the frame of the antenna's ``azimuth_deg``. Grid north is not
  true north: in UTM they differ by the meridian convergence γ ≈ Δλ · sin φ, under 0.1° over
  Paser (UTM 50S, 1-2.7° S, 115.6-116.8° E) and under 2° anywhere in Indonesia's UTM zones.
  It is not corrected: convert azimuths surveyed from true north if that matters;
- the elevation is the angle at which the path leaves the antenna, taken toward the first
  obstruction: ``atan(max(horizon, target))`` over the bare terrain with the effective earth
  radius of ``k_factor`` (:func:`blankspot.propagation.antenna.elevation_angle_deg`, computed
  for every cell by the line-of-sight sweep, :func:`blankspot.propagation.viewshed`). It uses
  ``k_factor`` for every model, and ignores clutter, also for ``"p1812"``.

The pattern is applied after the models' ``max_loss_db`` cut-off, where ITM's terminal
clutter loss is: a cell the sweep dropped for exceeding ``max_loss_db`` would only lose more
with the pattern, and a cell the pattern pushes past ``max_loss_db`` is dropped like any other.
A site without an antenna gets exactly the footprint it got before antennas existed.

Calibration
-----------
With ``calibration`` (a :class:`blankspot.calibration.Calibration` read from the TOML file
``blankspot calibrate`` writes, or its :class:`~blankspot.calibration.CalibrationCorrection`),
``"itm"`` only: after the P.2108 terminal loss is added and before the ``max_loss_db`` cut,
each cell's loss gets the fitted corrections (:func:`blankspot.calibration.apply_calibration`):
minus the offset, minus the slope times log10 of the cell centre's distance from the site over
d_ref, plus (fitted − P.2108) terminal loss for the cell's land-cover class when that class was
fitted (the class of a uniform clutter is the uniform one; without clutter no class term). The
sweep's own cut-off is raised by the most the correction can lower a loss, so no cell it
brings within ``max_loss_db`` is skipped.

Sites schema
------------
A GeoDataFrame indexed by ``site_id`` (unique strings), with Point geometries in the terrain's
CRS, a float column ``height_agl_m`` (antenna height above ground, metres, >= 0) and optionally
``cost_idr`` (ignored here).

Optional antenna columns (:data:`ANTENNA_COLUMNS`); a site with all of them empty (or a table
without them) has no pattern:

- ``sectors``: 1 for one omnidirectional antenna (:class:`~blankspot.propagation.antenna.Omni`,
  shaped only vertically by ``v_beamwidth_deg`` and ``electrical_downtilt_deg`` when given);
  n >= 2 for n identical :class:`~blankspot.propagation.antenna.Sector` antennas at
  ``azimuth_deg + k * 360 / n`` (3: :meth:`SectorSite.three_sector
  <blankspot.propagation.antenna.SectorSite.three_sector>`), best-server. Required when any
  other antenna column is filled.
- ``azimuth_deg``: boresight of the first sector, degrees clockwise from grid north; required
  for sectors.
- ``mechanical_downtilt_deg``, ``electrical_downtilt_deg``: degrees, positive down; default
  0 and 2 (sectors), 0 (omni, whose mechanical downtilt must stay empty or 0).
- ``h_beamwidth_deg``, ``v_beamwidth_deg``: half-power beamwidths, degrees; default 65 and 7
  (sectors). An omni takes no ``h_beamwidth_deg``, and without ``v_beamwidth_deg`` has a flat
  vertical pattern (then ``electrical_downtilt_deg`` must stay empty).

Front-to-back ratio and side-lobe floor are the :class:`~blankspot.propagation.antenna.Sector`
defaults (25 and 20 dB). A single directional sector, a measured pattern
(:class:`~blankspot.propagation.antenna.PatternTable`) or any other antenna goes in
``antennas=``; a site may not have both.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from affine import Affine
from pyproj import CRS

from blankspot.calibration import Calibration, CalibrationCorrection
from blankspot.clutter import ClutterModel, loss_for_class
from blankspot.crs import require_same
from blankspot.errors import (
    ConfigError,
    CRSError,
    InputError,
    Problems,
    SchemaError,
    UnitsError,
    format_problems,
)
from blankspot.propagation.antenna import Antenna, Omni, Sector, SectorSite
from blankspot.propagation.budget import LinkBudget
from blankspot.propagation.los import _check_site_inputs, _viewshed, viewshed
from blankspot.propagation.models import free_space_loss_db
from blankspot.propagation.points import _point_path_loss
from blankspot.propagation.radial import (
    ITM_SWEEPS,
    ItmParams,
    P1812Params,
    _radial_path_loss,
    check_radial_inputs,
    model_input_problems,
)
from blankspot.terrain import Terrain
from blankspot.units import DEFAULT_K_FACTOR

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

MODELS = {"los": "los+fspl", "itm": "itm", "p1812": "p1812"}
"""Available propagation models: argument value -> name recorded in results (module docstring).

Results record the name with the model's parameters, e.g. ``"itm(climate=1, ...)"``."""

PLANNED_MODELS: tuple[str, ...] = ()

TERRAIN_MODELS = ("itm", "p1812")

MAX_LOSS_MARGIN_DB = 20.0
"""dB above the budget's MAPL still computed by the terrain models (default ``max_loss_db``).

A threshold, margin or gain change of up to this much can be read from the same footprints
with :meth:`CoverageResult.with_budget`; beyond it, costlier cells are missing (NaN)."""

DEFAULT_BUDGET = LinkBudget()

ANTENNA_COLUMNS = (
    "sectors",
    "azimuth_deg",
    "mechanical_downtilt_deg",
    "electrical_downtilt_deg",
    "h_beamwidth_deg",
    "v_beamwidth_deg",
)
"""Optional columns of the sites table describing each site's antenna (module docstring)."""


@dataclass(frozen=True, eq=False)
class Footprint:
    """Path loss from one site on a window of the terrain grid.

    Attributes
    ----------
    site_id:
        The site's id.
    row_off, col_off:
        Position of the window's first cell in the terrain grid.
    path_loss_db:
        float32 (rows, cols) path loss in dB used for RSRP: the coupling loss, i.e. the
        model's basic transmission loss, plus the terminal clutter loss for ITM with clutter,
        minus the antenna pattern's relative gain toward the cell when the site has an antenna
        (``relative_gain_db`` <= 0, so never below the basic loss, and equal to it in the
        beam's peak: the budget's ``tx_gain_dbi`` is the peak gain). Without an antenna it is
        the basic loss (plus clutter), as for an omni of gain ``tx_gain_dbi``. NaN where there
        is no signal (hidden by terrain for ``"los"``, beyond the model radius or
        ``max_loss_db``, nodata).
    """

    site_id: str
    row_off: int
    col_off: int
    path_loss_db: np.ndarray

    def __post_init__(self) -> None:
        loss = np.asarray(self.path_loss_db, dtype=np.float32).view()
        if loss.ndim != 2:
            raise UnitsError(
                f"path_loss_db must be a 2-D window; received shape {loss.shape} for site "
                f"{self.site_id!r}."
            )
        loss.setflags(write=False)
        object.__setattr__(self, "path_loss_db", loss)
        object.__setattr__(self, "row_off", int(self.row_off))
        object.__setattr__(self, "col_off", int(self.col_off))

    @property
    def window_shape(self) -> tuple[int, int]:
        """Shape of the window, (rows, cols)."""
        return self.path_loss_db.shape

    @property
    def window(self) -> tuple[slice, slice]:
        """Slices selecting the window from a full terrain-grid array."""
        rows, cols = self.path_loss_db.shape
        return (
            slice(self.row_off, self.row_off + rows),
            slice(self.col_off, self.col_off + cols),
        )

    def rsrp_dbm(self, budget: LinkBudget) -> np.ndarray:
        """Median RSRP window in dBm (float32, NaN where there is no signal)."""
        return np.asarray(budget.rsrp_dbm(self.path_loss_db)).astype(np.float32)

    def covered(self, budget: LinkBudget) -> np.ndarray:
        """bool window: path loss within the budget's MAPL."""
        return np.asarray(budget.covered(self.path_loss_db))

    def sample(self, rows: npt.ArrayLike, cols: npt.ArrayLike) -> np.ndarray:
        """Path loss (dB, float32) at absolute grid ``rows``/``cols``; NaN outside the window."""
        rows = np.asarray(rows)
        cols = np.asarray(cols)
        if not (np.issubdtype(rows.dtype, np.integer) and np.issubdtype(cols.dtype, np.integer)):
            raise UnitsError(
                f"rows and cols must be integer grid indices; received {rows.dtype} and "
                f"{cols.dtype}. Use Terrain.rowcol() and round to cells first."
            )
        rows, cols = np.broadcast_arrays(rows, cols)
        r = rows - self.row_off
        c = cols - self.col_off
        n_rows, n_cols = self.path_loss_db.shape
        inside = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
        out = np.full(rows.shape, np.nan, dtype=np.float32)
        out[inside] = self.path_loss_db[r[inside], c[inside]]
        return out


@dataclass(frozen=True, eq=False)
class CoverageResult:
    """Footprints of every site on one grid, with the budget used to read them.

    Attributes
    ----------
    footprints:
        One :class:`Footprint` per site, in the order of the sites table.
    transform, crs, shape:
        The terrain grid the windows refer to.
    budget:
        The :class:`LinkBudget` turning path loss into RSRP and coverage.
    model:
        Propagation model name, e.g. ``"los+fspl"``; for the terrain models with their
        parameters, ``max_loss_db`` and clutter, e.g. ``"itm(climate=1, ...)+p2108(...)"``.
    k_factor, radius_m, rx_height_agl_m:
        The propagation inputs (``k_factor`` is used by ``"los"``, and for the antenna
        patterns' elevation angles: ITM derives its curvature from the surface refractivity,
        P.1812 from ΔN).
    """

    footprints: tuple[Footprint, ...]
    transform: Affine
    crs: CRS
    shape: tuple[int, int]
    budget: LinkBudget
    model: str
    k_factor: float
    radius_m: float
    rx_height_agl_m: float
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "footprints", tuple(self.footprints))
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        object.__setattr__(self, "_index", {fp.site_id: i for i, fp in enumerate(self.footprints)})

    @property
    def site_ids(self) -> tuple[str, ...]:
        """Site ids in footprint order (the index of :meth:`best_server`)."""
        return tuple(fp.site_id for fp in self.footprints)

    def footprint(self, site_id: str) -> Footprint:
        """The footprint of ``site_id``."""
        try:
            return self.footprints[self._index[site_id]]
        except KeyError:
            shown = ", ".join(repr(s) for s in self.site_ids[:5])
            more = ", ..." if len(self.site_ids) > 5 else ""
            raise KeyError(
                f"no site {site_id!r} in this coverage result; it has {len(self.site_ids)} "
                f"sites: {shown}{more}"
            ) from None

    def best_path_loss_db(self) -> np.ndarray:
        """Lowest path loss over all sites, full grid float32 (NaN where no site reaches)."""
        best = np.full(self.shape, np.nan, dtype=np.float32)
        for fp in self.footprints:
            view = best[fp.window]
            np.fmin(view, fp.path_loss_db, out=view)
        return best

    def best_rsrp_dbm(self) -> np.ndarray:
        """Strongest median RSRP over all sites, full grid float32 in dBm (NaN: no signal)."""
        return np.asarray(self.budget.rsrp_dbm(self.best_path_loss_db())).astype(np.float32)

    def best_server(self, *, covered_only: bool = False) -> np.ndarray:
        """Index into :attr:`site_ids` of the strongest site per cell; int32, -1 where none.

        Ties go to the site listed first. With ``covered_only=True`` a cell whose strongest
        signal is not within the budget's MAPL also gets -1.
        """
        best = np.full(self.shape, np.inf, dtype=np.float32)
        server = np.full(self.shape, -1, dtype=np.int32)
        for i, fp in enumerate(self.footprints):
            b = best[fp.window]
            better = fp.path_loss_db < b  # NaN never wins
            b[better] = fp.path_loss_db[better]
            server[fp.window][better] = i
        if covered_only:
            server[~np.asarray(self.budget.covered(best))] = -1
        return server

    def overlap_count(self) -> np.ndarray:
        """Number of sites covering each cell at the budget's MAPL; full grid int32."""
        count = np.zeros(self.shape, dtype=np.int32)
        for fp in self.footprints:
            count[fp.window] += fp.covered(self.budget)
        return count

    def covered_mask(self) -> np.ndarray:
        """bool full grid: at least one site covers the cell."""
        return np.asarray(self.budget.covered(self.best_path_loss_db()))

    def with_budget(self, budget: LinkBudget) -> CoverageResult:
        """The same footprints read with another budget (a new threshold, margin, gains).

        Raises
        ------
        UnitsError
            ``budget`` has another frequency: path loss depends on it, so coverage must be
            computed again.
        """
        if not isinstance(budget, LinkBudget):
            raise TypeError(f"budget must be a LinkBudget; received {type(budget).__name__}.")
        if budget.freq_mhz != self.budget.freq_mhz:
            raise UnitsError(
                f"the footprints were computed at {self.budget.freq_mhz:g} MHz but the new "
                f"budget is at {budget.freq_mhz:g} MHz; path loss depends on frequency, so run "
                "compute_coverage() again with the new budget."
            )
        return replace(self, budget=budget)


def _check_model(model: str) -> str:
    if model in MODELS:
        return MODELS[model]
    available = ", ".join(f"{k!r} ({v})" for k, v in MODELS.items())
    planned = " It is planned but not available yet." if model in PLANNED_MODELS else ""
    raise UnitsError(
        f"unknown propagation model {model!r}.{planned} Available models: {available}."
    )


WINDOW_MARGIN_CELLS = 3
"""Cells read beyond the model radius around a site (the LOS sweep samples up to one cell past
its last ring, and interpolates bilinearly between cell centres)."""


def site_window(
    shape: tuple[int, int],
    transform: Affine,
    x_m: float,
    y_m: float,
    radius_m: float,
    *,
    margin_cells: int = WINDOW_MARGIN_CELLS,
) -> tuple[int, int, int, int]:
    """(row_off, col_off, rows, cols): the cells of a grid within ``radius_m`` of a point, plus
    ``margin_cells``, clipped to the grid (may be empty: rows or cols ≤ 0).

    Every per-site computation runs on this window, whether the whole grid is in memory
    (:func:`compute_coverage`) or a worker reads only the window
    (:func:`blankspot.distributed.sparse_site_footprint`). The window's transform is then the
    same float value on both paths, so is the site's position within it, and footprints are
    bit-identical.
    """
    col = (float(x_m) - transform.c) / transform.a - 0.5
    row = (float(y_m) - transform.f) / transform.e - 0.5
    reach = float(radius_m) / abs(transform.a) + margin_cells
    n_rows, n_cols = shape
    r0, r1 = max(0, math.floor(row - reach)), min(n_rows, math.ceil(row + reach) + 1)
    c0, c1 = max(0, math.floor(col - reach)), min(n_cols, math.ceil(col + reach) + 1)
    return r0, c0, r1 - r0, c1 - c0


@dataclass(frozen=True, eq=False)
class _Clutter:
    """Clutter resolved once for a coverage run: class codes and/or clutter heights.

    ``codes`` (integer grid or None) with ``model``; ``uniform`` code; ``heights`` float32 grid
    of the terrain's shape or (1, 1) for one height everywhere.
    """

    model: ClutterModel | None
    uniform: int | None
    codes: np.ndarray | None
    heights: np.ndarray
    label: str

    def window(self, row_off: int, col_off: int, rows: int, cols: int) -> _Clutter:
        """The same clutter on a window of the grid (itself when it is one value everywhere)."""
        if self.codes is None and self.heights.shape == (1, 1):
            return self
        sl = (slice(row_off, row_off + rows), slice(col_off, col_off + cols))
        heights = self.heights if self.heights.shape == (1, 1) else self.heights[sl]
        codes = None if self.codes is None else self.codes[sl]
        return replace(self, codes=codes, heights=heights)

    def _loss_table(self, freq_mhz: float, rx_height_agl_m: float) -> dict[int, float]:
        """P.2108 terminal loss (dB) of every class of the model."""
        assert self.model is not None  # callers check: heights-only clutter has no classes
        return {
            code: loss_for_class(cls, freq_mhz, rx_height_agl_m)
            for code, cls in self.model.classes.items()
        }

    def min_terminal_loss_db(self, freq_mhz: float, rx_height_agl_m: float) -> float:
        """The smallest terminal loss any cell can get: the uniform class's, else that of the
        classes present in the grid (a window of tree cover with a few built-up cells gets the
        built-up loss, not the 0 dB of water that lies elsewhere)."""
        if self.model is None:
            return 0.0
        table = self._loss_table(freq_mhz, rx_height_agl_m)
        if self.uniform is not None:
            return float(table[self.uniform])
        if self.codes is None or self.codes.size == 0:
            return float(min(table.values()))
        return float(min(table[int(c)] for c in np.unique(self.codes)))

    def terminal_loss_db(
        self, window: tuple[Any, Any] | None, freq_mhz: float, rx_height_agl_m: float
    ) -> np.float32 | npt.NDArray[np.float32]:
        """P.2108 terminal loss over a window of the grid (float32), or a scalar; ``window``
        may also be a pair of row and column index arrays (cells picked one by one)."""
        if self.model is None:
            raise UnitsError(
                "ITM needs land-cover classes for the P.2108 terminal correction, but the "
                "clutter was given as heights only. Pass a ClutterModel (uniform, or with "
                "with_landcover(codes)) or an integer grid of land-cover codes."
            )
        table = self._loss_table(freq_mhz, rx_height_agl_m)
        if self.uniform is not None:
            return np.float32(table[self.uniform])
        keys = np.array(sorted(table), dtype=np.int64)
        vals = np.array([table[k] for k in keys], dtype=np.float32)
        assert self.codes is not None  # a model that is not uniform comes with its codes
        return vals[np.searchsorted(keys, self.codes[window].astype(np.int64))]


ClutterLike: TypeAlias = ClutterModel | _Clutter | npt.ArrayLike | None
"""What ``clutter=`` takes (:func:`site_footprint`); a resolved ``_Clutter`` passes through."""


class _Lattice(Protocol):
    """What clutter needs of a grid: its shape and where points fall on it (a
    :class:`~blankspot.terrain.Terrain` or a :class:`~blankspot.footprints.Grid`)."""

    @property
    def shape(self) -> tuple[int, int]: ...

    def rowcol(self, x_m: Any, y_m: Any) -> tuple[Any, Any]: ...


def _resolve_clutter(clutter: ClutterLike, terrain: _Lattice, *,
                     with_heights: bool = True) -> _Clutter | None:
    """The clutter argument as a :class:`_Clutter` (None for no clutter). ``with_heights=False``
    skips the clutter-height grid of a land cover (NaN in its place): for callers that read
    only the classes at some points, as the terminal loss of exact point paths does (the
    lookup over a whole kabupaten at 30 m costs about 0.2 s a call)."""
    if clutter is None or isinstance(clutter, _Clutter):
        return clutter
    if isinstance(clutter, ClutterModel):
        if clutter.uniform_class is not None:
            code = clutter.uniform_class
            height = clutter.classes[code].height_m
            return _Clutter(
                clutter, code, None, np.full((1, 1), height, dtype=np.float32), clutter.name
            )
        if clutter.landcover is None:
            raise UnitsError(
                "this ClutterModel is neither uniform nor carries a land-cover grid, so it "
                "does not say where the classes are. Use ClutterModel.uniform('tree') or "
                "model.with_landcover(blankspot.clutter.landcover_classes(terrain, path))."
            )
        model, codes = clutter, clutter.landcover
    else:
        arr = np.asarray(clutter)
        if arr.shape != terrain.shape:
            raise UnitsError(
                f"a clutter grid must have the terrain's shape {terrain.shape}; received "
                f"{arr.shape}."
            )
        if np.issubdtype(arr.dtype, np.integer):
            model, codes = ClutterModel.paser().with_landcover(arr), arr
        elif np.issubdtype(arr.dtype, np.floating):
            heights = np.ascontiguousarray(arr, dtype=np.float32)
            if not (np.isfinite(heights).all() and (heights >= 0).all()):
                raise UnitsError("clutter heights must be finite and >= 0 m.")
            return _Clutter(None, None, None, heights, "heights")
        else:
            raise UnitsError(
                f"clutter must be None, a ClutterModel, an integer grid of land-cover codes or a "
                f"float grid of clutter heights (m); received an array of {arr.dtype}."
            )
    if codes.shape != terrain.shape:
        raise UnitsError(
            f"the land-cover grid has shape {codes.shape} but the terrain {terrain.shape}; read "
            "it onto the terrain grid with blankspot.clutter.landcover_classes(terrain, path)."
        )
    grid = (np.ascontiguousarray(model.heights_m(codes)) if with_heights
            else np.full((1, 1), np.nan, dtype=np.float32))
    return _Clutter(model, None, np.asarray(codes), grid, model.name)


def _model_label(
    model: str, params: ItmParams | P1812Params, max_loss_db: float, clutter: _Clutter | None
) -> str:
    if model == "los":
        return MODELS["los"]
    label = f"{model}({params.describe()}, max_loss_db={max_loss_db:g})"
    if clutter is not None:
        label += f"+p2108({clutter.label})" if model == "itm" else f"+clutter({clutter.label})"
    return label


def _column_values(
    sites: pd.DataFrame, name: str, problems: list[str]
) -> npt.NDArray[np.float64]:
    """Column ``name`` of the sites as float64 (NaN where empty); non-numbers are problems."""
    import pandas as pd

    raw = sites[name]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        shown = ", ".join(f"{sid!r} ({v!r})" for sid, v in zip(sites.index[bad][:5], raw[bad][:5],
                                                             strict=False))  # fmt: skip
        problems.append(f"{name} must be a number; {int(bad.sum())} site(s) are not: {shown}.")
    return values


def _antenna_from_row(
    sid: object, given: dict[str, float], problems: list[str]
) -> Antenna | None:
    """The antenna described by the filled antenna columns ``given`` of one site."""
    what = f"site {sid!r}"
    given = dict(given)
    n = given.pop("sectors", None)
    if n is None:
        problems.append(
            f"{what}: sectors is empty but {', '.join(given)} is filled; say how many antennas "
            "the site has (1 omni, 3 three sectors, ...)."
        )
        return None
    if n != int(n) or n < 1:
        problems.append(
            f"{what}: sectors must be a whole number >= 1 (1 omni, 3 three sectors); received "
            f"{n!r}."
        )
        return None
    n = int(n)
    try:
        if n == 1:
            extra: list[str] = [k for k in ("azimuth_deg", "h_beamwidth_deg") if k in given]
            if given.get("mechanical_downtilt_deg", 0.0) != 0.0:
                extra.append("mechanical_downtilt_deg")
            if "electrical_downtilt_deg" in given and "v_beamwidth_deg" not in given:
                extra.append("electrical_downtilt_deg without v_beamwidth_deg")
            if extra:
                problems.append(
                    f"{what}: sectors=1 is an omnidirectional antenna, which takes no "
                    f"{', '.join(extra)}; leave them empty, give sectors >= 2, or pass a single "
                    "directional Sector in antennas=."
                )
                return None
            return Omni(
                v_beamwidth_deg=given.get("v_beamwidth_deg"),
                electrical_downtilt_deg=given.get("electrical_downtilt_deg", 0.0),
            )
        if "azimuth_deg" not in given:
            problems.append(
                f"{what}: {n} sectors need azimuth_deg, the first sector's boresight (degrees "
                "clockwise from grid north)."
            )
            return None
        az0 = given.pop("azimuth_deg")
        return SectorSite(tuple(Sector(az0 + k * 360.0 / n, **given) for k in range(n)))
    except UnitsError as exc:
        problems.append(f"{what}: {exc}")
        return None


def _site_antennas(
    sites: pd.DataFrame, antennas: Mapping[str, Antenna | None] | None
) -> tuple[list[Antenna | None], list[str]]:
    """Per-site antennas (None: no pattern) from ``antennas=`` and the antenna columns, and
    every problem found, as sentences."""
    problems: list[str] = []
    ids = list(sites.index)
    out: list[Antenna | None] = [None] * len(ids)
    filled = [False] * len(ids)
    cols = [c for c in ANTENNA_COLUMNS if c in sites.columns]
    if cols:
        values = {c: _column_values(sites, c, problems) for c in cols}
        for j, sid in enumerate(ids):
            given = {c: float(values[c][j]) for c in cols if not np.isnan(values[c][j])}
            if given:
                filled[j] = True
                out[j] = _antenna_from_row(sid, given, problems)
    if antennas is None:
        return out, problems
    if not isinstance(antennas, Mapping):
        problems.append(
            f"antennas must be a mapping {{site_id: antenna}}; received {type(antennas).__name__}."
        )
        return out, problems
    position = {sid: j for j, sid in enumerate(ids)}
    unknown = [k for k in antennas if k not in position]
    if unknown:
        problems.append(
            f"antennas names site(s) not in the sites table: "
            f"{', '.join(repr(k) for k in unknown[:5])}{', ...' if len(unknown) > 5 else ''}."
        )
    for sid, antenna in antennas.items():
        if sid not in position:
            continue
        j = position[sid]
        if antenna is not None and not isinstance(antenna, Antenna):
            problems.append(
                f"antennas[{sid!r}] is a {type(antenna).__name__}, not an antenna with gain_db() "
                "and peak_gain_dbi (Omni, Sector, PatternTable, SectorSite)."
            )
        elif filled[j]:
            problems.append(
                f"site {sid!r} has an antenna both in antennas= and in the antenna columns "
                f"({', '.join(cols)}); give it in one place."
            )
        else:
            out[j] = antenna
    return out, problems


def site_antennas(
    sites: pd.DataFrame, antennas: Mapping[str, Antenna | None] | None = None
) -> list[Antenna | None]:
    """The antenna of each site, in the order of the sites table (None: no pattern).

    Parameters
    ----------
    sites
        GeoDataFrame following the sites schema, with or without the antenna columns
        (module docstring).
    antennas
        ``{site_id: antenna}`` for sites not described by the columns (any
        :class:`~blankspot.propagation.antenna.Antenna`, or None for none).

    Returns
    -------
    list
        One antenna or None per site.

    Raises
    ------
    SchemaError
        Every problem at once: unknown site ids in ``antennas``, a site given in both places,
        non-numeric or out-of-range column values, missing ``sectors`` or ``azimuth_deg``,
        columns that do not apply to an omni.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> sites = gpd.GeoDataFrame(
    ...     {"height_agl_m": [30.0, 30.0], "sectors": [3, None], "azimuth_deg": [10.0, None]},
    ...     geometry=[Point(0, 0), Point(1, 1)], index=["a", "b"], crs="EPSG:32750")
    >>> a, b = site_antennas(sites)
    >>> [s.azimuth_deg for s in a.sectors], b
    ([10.0, 130.0, 250.0], None)
    """
    out, problems = _site_antennas(sites, antennas)
    if problems:
        raise SchemaError(format_problems("site antennas", problems))
    return out


def _relative_gain_db(
    antenna: Antenna, azimuth_deg: np.ndarray, elevation_deg: np.ndarray
) -> npt.NDArray[np.float64]:
    """Pattern gain relative to its peak toward each direction, float64 dB, clipped to <= 0."""
    if hasattr(antenna, "relative_gain_db"):
        rel = antenna.relative_gain_db(azimuth_deg, elevation_deg)
    else:
        rel = np.asarray(antenna.gain_db(azimuth_deg, elevation_deg)) - antenna.peak_gain_dbi
    return np.minimum(np.asarray(rel, dtype=np.float64), 0.0)


def _cell_azimuth_deg(
    terrain: Terrain, x_m: float, y_m: float, rows: np.ndarray, cols: np.ndarray
) -> npt.NDArray[np.float64]:
    """Azimuth of the centres of grid cells (``rows``, ``cols``) seen from the site, degrees
    clockwise from grid north in [0, 360); 0 for a cell centred on the site."""
    row0, col0 = (float(v) for v in terrain.rowcol(float(x_m), float(y_m)))
    north = row0 - rows.astype(np.float64)
    east = cols.astype(np.float64) - col0
    return np.degrees(np.arctan2(east, north)) % 360.0


def _apply_pattern(
    loss: np.ndarray,
    row_off: int,
    col_off: int,
    antenna: Antenna,
    angle: tuple[int, int, np.ndarray | None],
    terrain: Terrain,
    x_m: float,
    y_m: float,
) -> np.ndarray:
    """``loss`` (a window at ``row_off``, ``col_off``) minus the pattern's relative gain toward
    each cell with a value; ``angle`` is (row_off, col_off, elevation angle window) of a
    viewshed covering every such cell. Returns float32."""
    has = np.isfinite(loss)
    if not has.any():
        return loss.astype(np.float32, copy=False)
    a_row, a_col, a_deg = angle
    if a_deg is None:  # the viewshed is asked for its angles whenever there is an antenna
        raise RuntimeError(
            "internal error: cells with a path loss but no elevation angle; please report it."
        )
    rows, cols = np.nonzero(has)
    ar, ac = rows + (row_off - a_row), cols + (col_off - a_col)
    inside = (ar >= 0) & (ar < a_deg.shape[0]) & (ac >= 0) & (ac < a_deg.shape[1])
    elevation = a_deg[ar[inside], ac[inside]].astype(np.float64)
    if not inside.all() or np.isnan(elevation).any():  # the viewshed is sized to prevent this
        raise RuntimeError(
            "internal error: cells with a path loss but no elevation angle; please report it."
        )
    azimuth = _cell_azimuth_deg(terrain, x_m, y_m, rows + row_off, cols + col_off)
    rel = _relative_gain_db(antenna, azimuth, elevation)
    out = loss.astype(np.float32, copy=True)
    out[rows, cols] = (loss[rows, cols].astype(np.float64) - rel).astype(np.float32)
    return out


def _check_calibration(
    calibration: Calibration | CalibrationCorrection | None, model: str
) -> CalibrationCorrection | None:
    """The correction to apply (None for none); a UnitsError for a wrong object or model."""
    if calibration is None:
        return None
    correction = calibration.correction() if isinstance(calibration, Calibration) else calibration
    if not isinstance(correction, CalibrationCorrection):
        raise UnitsError(
            "calibration must be None, a blankspot.calibration.Calibration (read_calibration) "
            f"or a CalibrationCorrection; received {type(calibration).__name__}."
        )
    if model != correction.model:
        raise UnitsError(
            f"the calibration is of the {correction.model!r} prediction (ITM plus P.2108 "
            f"terminal loss) and cannot correct model {model!r}; use model='itm' or drop the "
            "calibration."
        )
    return correction


def _calibrated(
    loss: np.ndarray,
    correction: CalibrationCorrection,
    terrain: Terrain,
    row_off: int,
    col_off: int,
    x_m: float,
    y_m: float,
    clutter: _Clutter | None,
) -> np.ndarray:
    """``loss`` (a window at ``row_off, col_off`` of ``terrain``) with the calibration applied:
    distance from the site to each cell centre, land-cover code of each cell (-1: none)."""
    rows, cols = loss.shape
    r = np.arange(row_off, row_off + rows, dtype=float)[:, None]
    c = np.arange(col_off, col_off + cols, dtype=float)[None, :]
    x, y = terrain.xy(r, c)
    distance = np.hypot(x - x_m, y - y_m)
    codes: np.ndarray
    if clutter is not None and clutter.uniform is not None:
        codes = np.full((1, 1), int(clutter.uniform), dtype=np.int64)
    elif clutter is not None and clutter.codes is not None:
        window = (slice(row_off, row_off + rows), slice(col_off, col_off + cols))
        codes = np.asarray(clutter.codes[window], dtype=np.int64)
    else:
        codes = np.full((1, 1), -1, dtype=np.int64)
    out = correction.apply(loss, distance, codes)
    return out.astype(np.float32, copy=False)


def site_footprint(
    terrain: Terrain,
    site_id: str,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    *,
    freq_mhz: float = DEFAULT_BUDGET.freq_mhz,
    model: str = "los",
    radius_m: float = 30_000.0,
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    clutter: ClutterLike = None,
    itm_params: ItmParams | None = None,
    p1812_params: P1812Params | None = None,
    max_loss_db: float | None = None,
    antenna: Antenna | None = None,
    parallel: bool = False,
    calibration: Calibration | CalibrationCorrection | None = None,
    itm_sweep: str = "exact",
) -> Footprint:
    """Path-loss footprint of one site (pure: no shared state, safe on threads or dask).

    With ``model="los"``, path loss is the free-space loss (ITU-R P.525) to each cell the
    antenna sees (:func:`blankspot.propagation.viewshed`) and NaN elsewhere. With ``"itm"`` or
    ``"p1812"`` every cell within the radius gets the model's loss
    (:func:`blankspot.propagation.radial.radial_path_loss`); see the module docstring for how
    clutter enters each. With an ``antenna``, the pattern's relative gain toward each cell is
    subtracted (the coupling loss; module docstring, "Antennas"). The window is cropped to the
    cells that have a value.

    Parameters
    ----------
    terrain
        The grid.
    site_id
        Id stored in the footprint.
    x_m, y_m
        Site position in the terrain CRS.
    height_agl_m
        Antenna height above ground, metres.
    freq_mhz
        Carrier frequency, MHz.
    model
        ``"los"``, ``"itm"`` or ``"p1812"``.
    radius_m, rx_height_agl_m, k_factor
        As in :func:`blankspot.propagation.viewshed` (``k_factor``: ``"los"``, and the
        pattern's elevation angles for every model).
    clutter
        Terrain models only. None; a :class:`~blankspot.clutter.ClutterModel` that is uniform
        or carries a land-cover grid; an integer grid of ESA WorldCover codes on the terrain
        grid (Paser classes); or, for ``"p1812"`` only, a float grid of clutter heights (m).
    itm_params, p1812_params
        Model settings; default the Paser defaults.
    max_loss_db
        Terrain models only: cells whose path loss (with the terminal clutter loss) exceeds
        this are NaN, and cells where even free space would exceed it are not computed.
        None: no limit.
    antenna
        The site's antenna (:class:`~blankspot.propagation.antenna.Sector`,
        :class:`~blankspot.propagation.antenna.SectorSite`, ...), pointed in grid azimuth; None:
        no pattern (an omni of the budget's ``tx_gain_dbi``).
    parallel
        ``"itm"`` / ``"p1812"``: spread this site's radials over numba's thread pool (for one
        site at a time, e.g. ``blankspot coverage``; many sites run in parallel instead).
    itm_sweep
        ``"itm"``: ``"exact"`` evaluates ITM at every cell, ``"adaptive"`` at breakpoints and
        checked segments only (:func:`blankspot.propagation.radial.radial_path_loss`).

    Returns
    -------
    Footprint

    Raises
    ------
    UnitsError
        Bad inputs for the model, or an ``antenna`` that is not an antenna.

    Examples
    --------
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("flat")
    >>> fp = site_footprint(t, "A", *cell_centre(t, 32, 32), 30.0, radius_m=300.0)
    >>> round(float(fp.sample(32, 42)), 2)  # 300 m at 900 MHz
    81.08
    >>> t = make_terrain("knife_edge")  # a 100 m wall 8 cells east of the site
    >>> site = cell_centre(t, 32, 32)
    >>> los = site_footprint(t, "A", *site, 30.0, radius_m=900.0)
    >>> itm = site_footprint(t, "A", *site, 30.0, radius_m=900.0, model="itm")
    >>> float(los.sample(32, 45)), round(float(itm.sample(32, 45)), 1)  # behind the wall
    (nan, 159.8)
    >>> from blankspot.propagation.antenna import Sector
    >>> east = Sector(azimuth_deg=90.0)  # 17 dBi, 65 degrees, 25 dB front-to-back
    >>> fp = site_footprint(t, "A", *site, 30.0, radius_m=900.0, antenna=east)
    >>> # on the boresight 180 m out, 9 degrees down: 7 degrees below the beam's 2 degree tilt
    >>> round(float(fp.sample(32, 38) - los.sample(32, 38)), 2)
    11.99
    >>> round(float(fp.sample(32, 26) - los.sample(32, 26)), 2)  # behind: 25 dB front-to-back
    25.0
    """
    return _site_footprint(
        terrain, site_id, x_m, y_m, height_agl_m, freq_mhz=freq_mhz, model=model,
        radius_m=radius_m, rx_height_agl_m=rx_height_agl_m, k_factor=k_factor, clutter=clutter,
        itm_params=itm_params, p1812_params=p1812_params, max_loss_db=max_loss_db,
        antenna=antenna, parallel=parallel, calibration=calibration, checked=False,
        itm_sweep=itm_sweep,
    )


def _site_footprint(
    terrain: Terrain,
    site_id: str,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    *,
    freq_mhz: float,
    model: str,
    radius_m: float,
    rx_height_agl_m: float,
    k_factor: float,
    clutter: ClutterLike,
    itm_params: ItmParams | None,
    p1812_params: P1812Params | None,
    max_loss_db: float | None,
    antenna: Antenna | None,
    parallel: bool,
    calibration: Calibration | CalibrationCorrection | None,
    checked: bool,
    itm_sweep: str = "exact",
) -> Footprint:
    """:func:`site_footprint`; with ``checked``, the site's inputs were checked already (once
    for the whole table by :func:`compute_coverage`), so the sweeps do not check them again."""
    _check_model(model)
    correction = _check_calibration(calibration, model)
    if antenna is not None and not isinstance(antenna, Antenna):
        raise UnitsError(
            f"antenna must be None or an antenna with gain_db() and peak_gain_dbi (Omni, "
            f"Sector, PatternTable, SectorSite); received {type(antenna).__name__}."
        )
    if model == "los":
        if clutter is not None:
            raise UnitsError(
                "clutter is used by the terrain models only: 'itm' (P.2108 terminal loss) and "
                "'p1812' (clutter along the path); 'los' is free space where visible."
            )
        vs = (_viewshed if checked else viewshed)(
            terrain,
            x_m,
            y_m,
            height_agl_m=height_agl_m,
            rx_height_agl_m=rx_height_agl_m,
            radius_m=radius_m,
            k_factor=k_factor,
            with_elevation_angle=antenna is not None,
        )
        loss = np.full(vs.shape, np.nan, dtype=np.float32)
        loss[vs.visible] = free_space_loss_db(vs.distance_m[vs.visible], freq_mhz)
        row_off, col_off = vs.row_off, vs.col_off
        if antenna is not None:
            angle = (vs.row_off, vs.col_off, vs.elevation_angle_deg)
            loss = _apply_pattern(loss, row_off, col_off, antenna, angle, terrain, x_m, y_m)
    else:
        resolved = _resolve_clutter(clutter, terrain)
        if model == "itm" and resolved is not None and resolved.model is None:
            resolved.terminal_loss_db(None, freq_mhz, rx_height_agl_m)  # raises: no classes
        sweep_max_loss_db = max_loss_db
        if model == "itm" and resolved is not None and max_loss_db is not None:
            # the terminal loss is added below: the basic loss may spend only what it leaves
            sweep_max_loss_db = float(max_loss_db) - resolved.min_terminal_loss_db(
                float(freq_mhz), float(rx_height_agl_m)
            )
        if correction is not None and sweep_max_loss_db is not None:
            # the correction may lower a loss: the sweep must reach that much further
            sweep_max_loss_db = float(sweep_max_loss_db) + correction.max_reduction_db(
                float(radius_m)
            )
        heights = resolved.heights if (model == "p1812" and resolved) else None
        if not checked:  # the public path checks this site's inputs (once), then sweeps
            check_radial_inputs(
                terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
                freq_mhz=freq_mhz, model=model, radius_m=radius_m, max_loss_db=sweep_max_loss_db,
                itm_params=itm_params, p1812_params=p1812_params, clutter_height_m=heights,
                itm_sweep=itm_sweep,
            )
        sweep = _radial_path_loss(
            terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
            freq_mhz=freq_mhz, model=model, radius_m=radius_m, max_loss_db=sweep_max_loss_db,
            itm_params=itm_params, p1812_params=p1812_params,
            clutter=None if heights is None else np.asarray(heights, dtype=np.float32),
            parallel=parallel, itm_sweep=itm_sweep,
        )
        loss = sweep.path_loss_db
        if model == "itm" and resolved is not None:
            # ITM has no clutter: add the handset's P.2108 terminal loss. P.1812 never gets
            # it, its profile already carries the clutter.
            loss = loss + resolved.terminal_loss_db(
                sweep.window, float(freq_mhz), float(rx_height_agl_m)
            )
        if correction is not None:
            loss = _calibrated(loss, correction, terrain, sweep.row_off, sweep.col_off,
                               float(x_m), float(y_m), resolved)  # fmt: skip
        if antenna is not None:
            # after the sweep's cut-off, like the terminal loss: the pattern only adds loss.
            # The angles come from the LOS sweep, a cell beyond the swept radius so that every
            # cell with a loss has one.
            vs = (_viewshed if checked else viewshed)(
                terrain,
                x_m,
                y_m,
                height_agl_m=height_agl_m,
                rx_height_agl_m=rx_height_agl_m,
                radius_m=min(float(radius_m), sweep.radius_m) + terrain.res_m,
                k_factor=k_factor,
                with_elevation_angle=True,
            )
            angle = (vs.row_off, vs.col_off, vs.elevation_angle_deg)
            loss = _apply_pattern(
                loss, sweep.row_off, sweep.col_off, antenna, angle, terrain, x_m, y_m
            )
        if max_loss_db is not None:
            with np.errstate(invalid="ignore"):
                loss = np.where(loss > max_loss_db, np.float32(np.nan), loss)
        loss = loss.astype(np.float32, copy=False)
        row_off, col_off = sweep.row_off, sweep.col_off
    has = np.isfinite(loss)
    rows = np.flatnonzero(has.any(axis=1))
    cols = np.flatnonzero(has.any(axis=0))
    if rows.size == 0:  # nothing within max_loss_db: keep the site's own cell, without signal
        r0, c0 = (int(v) for v in np.rint(terrain.rowcol(float(x_m), float(y_m))))
        return Footprint(str(site_id), r0, c0, np.full((1, 1), np.nan, dtype=np.float32))
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    return Footprint(
        site_id=str(site_id),
        row_off=row_off + r0,
        col_off=col_off + c0,
        path_loss_db=loss[r0:r1, c0:c1],
    )


def site_table_problems(
    sites: Any, *, crs: CRS, bounds: tuple[float, float, float, float] | None = None,
    where: str = "the terrain",
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The sites table checked against the sites schema: ``(ids, x, y, heights, problems)``.

    The one check of a sites table, shared by :func:`compute_coverage` and the dask engine:
    a GeoDataFrame in ``crs`` (else ``TypeError`` / :class:`CRSError` at once), string ids
    without repeats, ``height_agl_m`` finite and >= 0, non-empty Point geometries and, with
    ``bounds`` (xmin, ymin, xmax, ymax), every site inside them. Problems are returned, not
    raised, so a caller lists them with its own; x/y are NaN for bad geometries.
    """
    import geopandas as gpd

    if not isinstance(sites, gpd.GeoDataFrame):
        raise TypeError(
            f"sites must be a GeoDataFrame indexed by site_id; received {type(sites).__name__}. "
            "Read it with blankspot.io.read_sites()."
        )
    if sites.crs is None:
        raise CRSError(
            "sites have no CRS; blankspot does not guess. Set it with sites.set_crs(...) to the "
            f"CRS the coordinates are in, then sites.to_crs({crs.to_string()!r})."
        )
    require_same(sites.crs, crs, "sites", where)
    problems: list[str] = []
    index = sites.index
    bad_ids = [repr(v) for v in index if not isinstance(v, str)]
    if bad_ids:
        problems.append(
            f"site ids (the index) must be strings; received {', '.join(bad_ids[:5])}"
            f"{', ...' if len(bad_ids) > 5 else ''}. Use sites.index = sites.index.astype(str)."
        )
    dupes = index[index.duplicated()].unique()
    if len(dupes):
        problems.append(
            f"site ids must be unique; repeated: {', '.join(repr(v) for v in dupes[:5])}."
        )
    if "height_agl_m" in sites.columns:
        heights = np.asarray(sites["height_agl_m"], dtype=float)
        bad = ~np.isfinite(heights) | (heights < 0)
        if bad.any():
            problems.append(
                f"height_agl_m must be finite metres above ground, >= 0; {int(bad.sum())} "
                f"site(s) are not: {', '.join(map(repr, index[bad][:5]))}."
            )
    else:
        problems.append(
            "column 'height_agl_m' (antenna height above ground, metres) is missing; columns "
            f"are {list(sites.columns)}."
        )
        heights = np.full(len(sites), np.nan)
    geoms = sites.geometry
    ok = np.array(
        [g is not None and not g.is_empty and g.geom_type == "Point" for g in geoms], dtype=bool
    )
    if not ok.all():
        problems.append(
            f"geometries must be non-empty Points; {int((~ok).sum())} site(s) are not: "
            f"{', '.join(repr(s) for s in index[~ok][:5])}."
        )
    xs = np.array([g.x if k else np.nan for g, k in zip(geoms, ok, strict=True)], dtype=float)
    ys = np.array([g.y if k else np.nan for g, k in zip(geoms, ok, strict=True)], dtype=float)
    if bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        outside = ok & ~((xs >= xmin) & (xs < xmax) & (ys > ymin) & (ys <= ymax))
        if outside.any():
            problems.append(
                f"{int(outside.sum())} site(s) lie outside {where} (x {xmin:.1f}..{xmax:.1f}, y "
                f"{ymin:.1f}..{ymax:.1f} in {crs.to_string()}): "
                f"{', '.join(map(repr, index[outside][:5]))}."
            )
    return [str(v) for v in index], xs, ys, heights, problems


def validate_site_table(
    sites: Any, *, crs: CRS, bounds: tuple[float, float, float, float] | None = None,
    where: str = "the terrain",
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """:func:`site_table_problems`, raising a :class:`SchemaError` listing every problem."""
    ids, xs, ys, heights, problems = site_table_problems(sites, crs=crs, bounds=bounds,
                                                         where=where)
    if problems:
        raise SchemaError(format_problems("sites", problems), problems=problems)
    return ids, xs, ys, heights


def _check_sites(
    terrain: Terrain,
    sites: gpd.GeoDataFrame,
    *,
    rx_height_agl_m: float,
    radius_m: float,
    k_factor: float,
    antennas: Mapping[str, Antenna | None] | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[Antenna | None]]:
    """Validate the sites table against the schema and the terrain; return (ids, x, y, h,
    antennas)."""
    ids, xs, ys, heights, problems = site_table_problems(sites, crs=terrain.crs)
    has_height = "height_agl_m" in sites.columns
    for sid, x, y, h in zip(ids, xs, ys, heights, strict=True):
        if not np.isfinite(x):
            continue
        problems += _check_site_inputs(
            terrain,
            x,
            y,
            # a bad height is already listed once by site_table_problems
            height_agl_m=h if has_height and np.isfinite(h) and h >= 0 else 0.0,
            rx_height_agl_m=rx_height_agl_m,
            radius_m=radius_m,
            k_factor=k_factor,
            what=f"site {sid!r}",
        )
    site_antenna, antenna_problems = _site_antennas(sites, antennas)
    problems += antenna_problems
    problems = list(dict.fromkeys(problems))  # radius/k messages would repeat per site
    if problems:
        raise SchemaError(format_problems("sites", problems), problems=problems)
    return ids, xs, ys, heights, site_antenna


def compute_coverage(
    terrain: Terrain,
    sites: gpd.GeoDataFrame,
    *,
    budget: LinkBudget = DEFAULT_BUDGET,
    model: str = "los",
    radius_m: float = 30_000.0,
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    clutter: ClutterLike = None,
    itm_params: ItmParams | None = None,
    p1812_params: P1812Params | None = None,
    max_loss_db: float | None = None,
    n_threads: int | None = None,
    progress: bool = False,
    antennas: Mapping[str, Antenna] | None = None,
    calibration: Calibration | CalibrationCorrection | None = None,
    itm_sweep: str = "exact",
) -> CoverageResult:
    """Footprints of every site, computed in parallel across sites.

    Parameters
    ----------
    terrain
        The grid, in a projected metric CRS.
    sites
        GeoDataFrame following the sites schema (module docstring), in the terrain's CRS.
    budget
        Link budget; its frequency sets the path loss, the rest is applied on reading.
    model
        ``"los"`` (line of sight + free-space loss, recorded as ``"los+fspl"``), ``"itm"`` or
        ``"p1812"`` (module docstring).
    radius_m, rx_height_agl_m, k_factor
        As in :func:`blankspot.propagation.viewshed` (``k_factor``: ``"los"``, and the
        antenna patterns' elevation angles for every model).
    clutter, itm_params, p1812_params
        As in :func:`site_footprint`; the clutter is resolved once for all sites.
    max_loss_db
        Terrain models: cells costlier than this are NaN. Default
        ``budget.max_path_loss_db + MAX_LOSS_MARGIN_DB``.
    n_threads
        Threads running :func:`site_footprint`; default ``min(len(sites), os.cpu_count())``.
        1 runs serially.
    progress
        Show a progress bar (tqdm).
    antennas
        ``{site_id: antenna}`` for sites whose antenna the table's antenna columns do not
        describe (module docstring, "Antennas"); every other site without antenna columns has
        no pattern.
    calibration
        As in :func:`site_footprint` (``"itm"`` only; module docstring, "Calibration").
    itm_sweep
        As in :func:`site_footprint`: ``"exact"`` (every cell) or ``"adaptive"``.

    Returns
    -------
    CoverageResult

    Raises
    ------
    CRSError
        Sites have no CRS or another CRS than the terrain (never reprojected here).
    SchemaError
        Everything wrong with the sites table, at once: ids, missing column, geometries,
        heights (also outside the terrain model's range), sites outside the terrain or on
        nodata, antenna columns and ``antennas``.
    UnitsError
        Unknown model, bad radius, receiver height, frequency (for the model), k_factor,
        model parameters, clutter or ``n_threads``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("two_valleys")
    >>> sites = gpd.GeoDataFrame(
    ...     {"height_agl_m": [30.0, 30.0]},
    ...     geometry=[Point(cell_centre(t, 32, 10)), Point(cell_centre(t, 32, 54))],
    ...     index=["west", "east"], crs=t.crs,
    ... )
    >>> cov = compute_coverage(t, sites, radius_m=900.0)
    >>> server = cov.best_server()
    >>> cov.site_ids[server[32, 5]], cov.site_ids[server[32, 60]]
    ('west', 'east')
    """
    if not isinstance(terrain, Terrain):
        raise TypeError(f"terrain must be a blankspot Terrain; received {type(terrain).__name__}.")
    if not isinstance(budget, LinkBudget):
        raise TypeError(f"budget must be a LinkBudget; received {type(budget).__name__}.")
    model_name = _check_model(model)
    problems: list[str] = []
    if itm_sweep not in ITM_SWEEPS:
        problems.append(f"itm_sweep must be one of {', '.join(map(repr, ITM_SWEEPS))}; "
                        f"received {itm_sweep!r}.")
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1
    ):
        problems.append(f"n_threads must be None or a whole number >= 1; received {n_threads!r}.")
    for name, value, positive in (
        ("radius_m", radius_m, True),
        ("k_factor", k_factor, True),
        ("rx_height_agl_m", rx_height_agl_m, False),
    ):
        try:
            v = float(value)
            ok = math.isfinite(v) and (v > 0 if positive else v >= 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            need = "> 0" if positive else ">= 0"
            problems.append(f"{name} must be a finite number {need}; received {value!r}.")
    terrain_model = model in TERRAIN_MODELS
    if terrain_model:
        # receiver height and frequency for the model (site heights are checked per site)
        problems += model_input_problems(
            model, height_agl_m=10.0, rx_height_agl_m=rx_height_agl_m, freq_mhz=budget.freq_mhz
        )
        if max_loss_db is not None and not (
            isinstance(max_loss_db, int | float) and not math.isnan(max_loss_db)
        ):
            problems.append(
                f"max_loss_db must be a number of dB or None; received {max_loss_db!r}."
            )
        for name, param, kind in (
            ("itm_params", itm_params, ItmParams),
            ("p1812_params", p1812_params, P1812Params),
        ):
            if param is not None and not isinstance(param, kind):
                problems.append(
                    f"{name} must be a {kind.__name__}; received {type(param).__name__}."
                )
    elif clutter is not None:
        problems.append(
            "clutter is used by the terrain models only: 'itm' (P.2108 terminal loss) and "
            "'p1812' (clutter along the path); 'los' is free space where visible."
        )
    try:
        correction = _check_calibration(calibration, model)
    except UnitsError as exc:
        problems.append(str(exc))
        correction = None
    if problems:
        raise UnitsError(format_problems("compute_coverage() inputs", problems))
    ids, xs, ys, heights, site_antenna = _check_sites(
        terrain,
        sites,
        rx_height_agl_m=rx_height_agl_m,
        radius_m=radius_m,
        k_factor=k_factor,
        antennas=antennas,
    )
    itm: ItmParams | None = None
    p1812: P1812Params | None = None
    cap_db: float | None = None
    resolved = None
    if terrain_model:
        bad = [
            f"site {sid!r}: {p}"
            for sid, h in zip(ids, heights, strict=True)
            for p in model_input_problems(
                model, height_agl_m=float(h), rx_height_agl_m=10.0, freq_mhz=1000.0
            )
        ]
        if bad:
            raise SchemaError(format_problems("sites", bad))
        if max_loss_db is None:
            max_loss_db = budget.max_path_loss_db + MAX_LOSS_MARGIN_DB
        params: ItmParams | P1812Params
        if model == "itm":
            params = itm = itm_params or ItmParams()
        else:
            params = p1812 = p1812_params or P1812Params()
        cap_db = float(max_loss_db)
        resolved = _resolve_clutter(clutter, terrain)
        if model == "itm" and resolved is not None and resolved.model is None:
            resolved.terminal_loss_db(None, budget.freq_mhz, rx_height_agl_m)  # raises
        model_name = _model_label(model, params, cap_db, resolved)
        if correction is not None:
            model_name += f"+calibration(sha256={correction.sha256[:12]})"

    def one(j: int) -> Footprint:
        # the same window a distributed worker reads (site_window), so both give the same bits
        r0, c0, rows, cols = site_window(
            terrain.shape, terrain.transform, float(xs[j]), float(ys[j]), float(radius_m)
        )
        fp = _site_footprint(
            terrain.window(r0, c0, rows, cols),
            ids[j],
            float(xs[j]),
            float(ys[j]),
            float(heights[j]),
            freq_mhz=budget.freq_mhz,
            model=model,
            radius_m=float(radius_m),
            rx_height_agl_m=float(rx_height_agl_m),
            k_factor=float(k_factor),
            clutter=None if resolved is None else resolved.window(r0, c0, rows, cols),
            itm_params=itm,
            p1812_params=p1812,
            max_loss_db=cap_db,
            antenna=site_antenna[j],
            parallel=False,
            calibration=correction,
            checked=True,
            itm_sweep=itm_sweep,
        )
        return replace(fp, row_off=fp.row_off + r0, col_off=fp.col_off + c0)

    from tqdm import tqdm

    n = len(ids)
    workers = n_threads if n_threads is not None else min(max(n, 1), os.cpu_count() or 1)
    with tqdm(total=n, desc="coverage", unit="site", disable=not progress) as bar:
        if workers == 1 or n <= 1:
            footprints: list[Footprint] = []
            for j in range(n):
                footprints.append(one(j))
                bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(one, j) for j in range(n)]
                for _ in as_completed(futures):
                    bar.update(1)
                footprints = [f.result() for f in futures]
    return CoverageResult(
        footprints=tuple(footprints),
        transform=terrain.transform,
        crs=terrain.crs,
        shape=terrain.shape,
        budget=budget,
        model=model_name,
        k_factor=float(k_factor),
        radius_m=float(radius_m),
        rx_height_agl_m=float(rx_height_agl_m),
    )


class PointTerminal(NamedTuple):
    """What each demand point adds to the basic loss whatever the site: the P.2108 terminal
    loss of its land-cover class (dB, 0 without clutter) and that class's code (-1: none), the
    class of the grid cell the point lies in (:func:`point_terminal`)."""

    loss_db: npt.NDArray[np.float64]
    codes: npt.NDArray[np.int64]


def point_terminal(
    clutter: _Clutter | None,
    terrain: _Lattice | None,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    *,
    model: str,
    freq_mhz: float,
    rx_height_agl_m: float,
) -> PointTerminal:
    """The terminal loss and class of each point (``"itm"`` with clutter; else 0 dB and the
    class, -1 without one). The class is that of the point's cell (nearest cell centre), as
    :func:`blankspot.calibration.predict_at_points` takes it; points off the grid get -1.
    ``terrain`` (a Terrain, or the :class:`~blankspot.footprints.Grid` of the land cover) is
    needed for a land-cover grid only."""
    n = px.size
    codes = np.full(n, -1, dtype=np.int64)
    loss = np.zeros(n, dtype=np.float64)
    if clutter is None:
        return PointTerminal(loss, codes)
    if clutter.uniform is not None:
        codes[:] = int(clutter.uniform)
        if model == "itm":
            loss[:] = float(clutter.terminal_loss_db(None, freq_mhz, rx_height_agl_m))
        return PointTerminal(loss, codes)
    if clutter.codes is None:  # heights only: P.1812's, no classes
        return PointTerminal(loss, codes)
    if terrain is None:
        raise InputError(
            "a land-cover grid needs its terrain to find each point's cell; pass the terrain, "
            "or a uniform clutter."
        )
    row, col = terrain.rowcol(px, py)
    r = np.rint(row).astype(np.int64)
    c = np.rint(col).astype(np.int64)
    ok = (r >= 0) & (r < terrain.shape[0]) & (c >= 0) & (c < terrain.shape[1])
    codes[ok] = np.asarray(clutter.codes[r[ok], c[ok]], dtype=np.int64)
    if clutter.model is not None:  # unknown codes raise, here at the points' own cells
        clutter.model.heights_m(codes[ok])
    if model == "itm" and ok.any():
        loss[ok] = np.asarray(
            clutter.terminal_loss_db((r[ok], c[ok]), freq_mhz, rx_height_agl_m), dtype=np.float64
        )
    return PointTerminal(loss, codes)


def site_point_losses(
    window: Terrain,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    terminal: PointTerminal,
    *,
    freq_mhz: float,
    model: str,
    radius_m: float,
    rx_height_agl_m: float,
    k_factor: float,
    itm_params: ItmParams | None,
    max_loss_db: float | None,
    antenna: Antenna | None,
    calibration: CalibrationCorrection | None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """One site's coupling loss at the points within ``radius_m``: ``(indices into px, loss_db)``.

    The per-site unit of :func:`point_path_loss` (in a process and on dask workers alike):
    ``window`` is the site's :func:`site_window` of the terrain, so both paths give the same
    bits. Per point, as :func:`site_footprint` per cell: the exact path's basic loss
    (:func:`blankspot.propagation.points.point_path_loss`), plus the terminal loss, with the
    calibration (distance: the point's own), minus the antenna pattern's relative gain toward
    the point (azimuth from grid north, elevation toward the receiver or the highest
    obstruction), then points costlier than ``max_loss_db`` (or without a loss) left out.
    Inputs are checked by the caller.
    """
    d = np.hypot(px - x_m, py - y_m)
    idx = np.flatnonzero((d <= radius_m) & window.contains(px, py))
    if idx.size == 0:
        return idx.astype(np.int64), np.zeros(0, dtype=np.float64)
    out = _point_path_loss(
        window, x_m, y_m, height_agl_m, px[idx], py[idx], freq_mhz=freq_mhz, model=model,
        rx_height_agl_m=rx_height_agl_m, k_factor=k_factor, itm_params=itm_params,
        parallel=False,
    )  # fmt: skip
    loss = out.loss_db + terminal.loss_db[idx]
    if calibration is not None:
        loss = np.asarray(calibration.apply(loss, out.distance_m, terminal.codes[idx]), float)
    if antenna is not None:
        azimuth = np.degrees(np.arctan2(px[idx] - x_m, py[idx] - y_m)) % 360.0
        has = np.isfinite(loss)
        rel = np.zeros(idx.size)
        rel[has] = _relative_gain_db(antenna, azimuth[has], out.elevation_deg[has])
        loss = loss - rel
    keep = np.isfinite(loss)
    if max_loss_db is not None:
        keep &= loss <= max_loss_db
    return idx[keep].astype(np.int64), loss[keep]


def point_path_loss(
    terrain: Terrain,
    sites: gpd.GeoDataFrame,
    points_xy: npt.ArrayLike,
    *,
    budget: LinkBudget = DEFAULT_BUDGET,
    model: str = "itm",
    radius_m: float = 30_000.0,
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    clutter: ClutterLike = None,
    itm_params: ItmParams | None = None,
    max_loss_db: float | None = None,
    antennas: Mapping[str, Antenna] | None = None,
    calibration: Calibration | CalibrationCorrection | None = None,
    n_threads: int | None = None,
) -> sp.csc_array:
    """Coupling loss from every site to every point within its radius, on exact paths.

    What :func:`compute_coverage` computes for every cell, evaluated only at ``points_xy``
    (e.g. the demand points) and on each exact straight path instead of the radial sweep
    (:func:`site_point_losses`): the same model, clutter, calibration and antenna. A point is
    left out of a site's column when it lies beyond ``radius_m`` or off the terrain, when its
    path touches nodata (or ITM fails on it, or, for ``"los"``, the terrain hides it), and,
    for ``"itm"``, when its loss exceeds ``max_loss_db``.

    Parameters
    ----------
    terrain, sites, budget, radius_m, rx_height_agl_m, k_factor, clutter, itm_params, antennas,
    calibration, n_threads
        As in :func:`compute_coverage`.
    points_xy
        (n, 2) array of x, y in the terrain CRS, metres.
    model
        ``"itm"`` or ``"los"``; ``"p1812"`` is not available on exact paths yet.
    max_loss_db
        ``"itm"``: points costlier than this are left out. Default
        ``budget.max_path_loss_db + MAX_LOSS_MARGIN_DB``.

    Returns
    -------
    scipy.sparse.csc_array
        float64 (n points × n sites) coupling loss in dB, sites in the order of the table;
        an entry only where the point has one.

    Raises
    ------
    ConfigError
        ``model="p1812"``.
    CRSError, SchemaError
        As :func:`compute_coverage` for the sites table.
    UnitsError
        Bad model, radius, heights, frequency, k-factor, clutter, calibration, points
        (not an (n, 2) array of finite numbers) or ``n_threads``, all listed at once.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("flat")
    >>> x, y = cell_centre(t, 32, 32)
    >>> sites = gpd.GeoDataFrame({"height_agl_m": [30.0]}, geometry=[Point(x, y)],
    ...                          index=["A"], crs=t.crs)
    >>> loss = point_path_loss(t, sites, [[x + 300.0, y], [x + 5000.0, y]], radius_m=900.0)
    >>> loss.shape, loss.nnz  # the second point is beyond the radius
    ((2, 1), 1)
    """
    problems = Problems()
    if model == "p1812":
        problems.add(
            "model 'p1812' is not available on exact point paths yet; evaluate it on the "
            "raster (evaluate_at='raster'), or use model 'itm' or 'los'.",
            ConfigError,
        )
    elif model not in ("itm", "los"):
        problems.add(f"model must be 'itm' or 'los' for exact point paths; received {model!r}.",
                     UnitsError)  # fmt: skip
    if not isinstance(terrain, Terrain):
        raise TypeError(f"terrain must be a blankspot Terrain; received {type(terrain).__name__}.")
    if not isinstance(budget, LinkBudget):
        raise TypeError(f"budget must be a LinkBudget; received {type(budget).__name__}.")
    if n_threads is not None and (
        isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1
    ):
        problems.add(f"n_threads must be None or a whole number >= 1; received {n_threads!r}.",
                     UnitsError)  # fmt: skip
    for name, value, positive in (
        ("radius_m", radius_m, True), ("k_factor", k_factor, True),
        ("rx_height_agl_m", rx_height_agl_m, False),
    ):  # fmt: skip
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
            value) and (value > 0 if positive else value >= 0)  # fmt: skip
        if not ok:
            need = "> 0" if positive else ">= 0"
            problems.add(f"{name} must be a finite number {need}; received {value!r}.",
                         UnitsError)  # fmt: skip
    if model == "itm":
        for p in model_input_problems("itm", height_agl_m=10.0, rx_height_agl_m=rx_height_agl_m,
                                      freq_mhz=budget.freq_mhz):  # fmt: skip
            problems.add(p, UnitsError)
    if model == "los" and clutter is not None:
        problems.add("clutter is used by 'itm' only here (P.2108 terminal loss); 'los' is free "
                     "space where visible. Use clutter=None with model='los'.", UnitsError)
    if itm_params is not None and not isinstance(itm_params, ItmParams):
        problems.add(f"itm_params must be an ItmParams; received {type(itm_params).__name__}.",
                     UnitsError)  # fmt: skip
    if max_loss_db is not None and not (
        isinstance(max_loss_db, int | float) and not math.isnan(max_loss_db)
    ):
        problems.add(f"max_loss_db must be a number of dB or None; received {max_loss_db!r}.",
                     UnitsError)  # fmt: skip
    try:
        correction = _check_calibration(calibration, model)
    except UnitsError as exc:
        problems.add(str(exc), UnitsError)
        correction = None
    try:
        xy = np.asarray(points_xy, dtype=np.float64)
    except (TypeError, ValueError):
        xy = np.full((0, 0), np.nan)
    if xy.ndim != 2 or xy.shape[1] != 2:
        problems.add(
            f"points_xy must be an (n, 2) array of x, y metres in the terrain CRS; received "
            f"{'shape ' + str(xy.shape) if xy.size else type(points_xy).__name__}.",
            UnitsError,
        )
    elif not np.isfinite(xy).all():
        bad = np.flatnonzero(~np.isfinite(xy).all(axis=1))
        problems.add(f"points_xy must be finite; {bad.size} point(s) are not (first at index "
                     f"{bad[0]}).", UnitsError)  # fmt: skip
    problems.raise_if_any("point_path_loss() inputs")
    ids, xs, ys, heights, site_antenna = _check_sites(
        terrain, sites, rx_height_agl_m=rx_height_agl_m, radius_m=radius_m, k_factor=k_factor,
        antennas=antennas,
    )  # fmt: skip
    if model == "itm":
        bad_sites = [f"site {sid!r}: {p}" for sid, h in zip(ids, heights, strict=True)
                     for p in model_input_problems("itm", height_agl_m=float(h),
                                                   rx_height_agl_m=10.0, freq_mhz=1000.0)]  # fmt: skip
        if bad_sites:
            raise SchemaError(format_problems("sites", bad_sites), problems=bad_sites)
    cap: float | None = None
    if model == "itm":
        cap = float(budget.max_path_loss_db + MAX_LOSS_MARGIN_DB if max_loss_db is None
                    else max_loss_db)  # fmt: skip
    resolved = _resolve_clutter(clutter, terrain, with_heights=False)  # classes at the points only
    if model == "itm" and resolved is not None and resolved.model is None:
        resolved.terminal_loss_db(None, budget.freq_mhz, rx_height_agl_m)  # raises: no classes
    px = np.ascontiguousarray(xy[:, 0])
    py = np.ascontiguousarray(xy[:, 1])
    terminal = point_terminal(resolved, terrain, px, py, model=model,
                              freq_mhz=float(budget.freq_mhz),
                              rx_height_agl_m=float(rx_height_agl_m))  # fmt: skip

    def one(j: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        r0, c0, rows, cols = site_window(terrain.shape, terrain.transform, float(xs[j]),
                                         float(ys[j]), float(radius_m))  # fmt: skip
        return site_point_losses(
            terrain.window(r0, c0, rows, cols), float(xs[j]), float(ys[j]), float(heights[j]),
            px, py, terminal, freq_mhz=float(budget.freq_mhz), model=model,
            radius_m=float(radius_m), rx_height_agl_m=float(rx_height_agl_m),
            k_factor=float(k_factor), itm_params=itm_params, max_loss_db=cap,
            antenna=site_antenna[j], calibration=correction,
        )  # fmt: skip

    n = len(ids)
    workers = n_threads if n_threads is not None else min(max(n, 1), os.cpu_count() or 1)
    if workers == 1 or n <= 1:
        columns = [one(j) for j in range(n)]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            columns = list(pool.map(one, range(n)))
    return losses_to_csc(columns, px.size)


def losses_to_csc(
    columns: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]], n_points: int
) -> sp.csc_array:
    """The per-site ``(indices, loss_db)`` of :func:`site_point_losses` as one float64 CSC
    array (points × sites), rows sorted within each column."""
    lengths = np.array([idx.size for idx, _ in columns], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    indices = (np.concatenate([idx for idx, _ in columns]) if columns
               else np.zeros(0, np.int64))  # fmt: skip
    data = np.concatenate([v for _, v in columns]) if columns else np.zeros(0)
    return sp.csc_array((data.astype(np.float64), indices.astype(np.int64), indptr),
                        shape=(int(n_points), len(columns)))  # fmt: skip
