"""Terrain path loss from one site to every cell of a disc: ITM and ITU-R P.1812 by radial sweep.

A point-to-point model run once per cell is slow: there are about 3.1 million cells within
30 km at 30 m, so at ITM's 100 µs or so per kernel call a site takes 5 minutes, and 95 minutes
through the validating public functions. :func:`radial_path_loss` computes the same losses in
seconds by sharing work along radials (details in
``blankspot.propagation._radial_kernels``):

- every cell is served by its nearest radial; ``N >= 2*pi*radius/res`` radials keep neighbours
  at most one cell apart at the radius (:func:`~blankspot.propagation.los.radial_plan`);
- a cell's path has ``n = ceil(d / res)`` intervals of ``d / n`` (the straight profile
  "sampled at the DEM resolution"). Its last ``near_cells`` cells before the receiver are
  sampled exactly on the straight line, bilinearly; farther heights come from the nearest
  radial's samples, one per cell;
- horizons, mean heights and least-squares fits come from running maxima, convex hulls and
  prefix sums kept along each radial, so a cell costs about one closed-form model evaluation;
- ITM's terrain irregularity Δh is computed exactly at anchor rings along each radial and
  interpolated in between (``dh_every``), and exactly for paths up to ``near_cells`` long.

Accuracy and speed, against one full point-to-point call per cell on the exact straight profile
(``tests/reference/radial.py``), for 600 random cells within 30 km of a 72 m tower at 900 MHz on
the Paser demo DEM, two sites (115.95 E 1.45 S; 116.05 E 1.85 S), as printed by
``benchmarks/bench_radial_accuracy.py``:

=========================== =============== =============== ==================================
model                       median |Δ| (dB) p95 |Δ| (dB)    s per 30 km site (1 thread)
=========================== =============== =============== ==================================
ITM, 30 m cells             0.14 / 0.08     0.68 / 0.81     8.5-9 (Δh exact per cell: 31)
P.1812, 30 m                0.01 / 0.03     0.14 / 0.43     8-9
P.1812, 20 m trees, 30 m    0.01 / 0.03     0.10 / 0.30     8.5-9
ITM, 90 m cells             0.16 / 0.08     0.81 / 0.73     1.2
P.1812, 90 m                0.05 / 0.03     0.30 / 0.66     0.8
=========================== =============== =============== ==================================

``parallel=True`` halves the wall time on two cores. Most of the remaining error comes from the heights taken from the
radial. Taking the whole path from the nearest radial (no exact tail) gives a median of 0.7-1.2
dB and a p95 of 7-11 dB on this rough relief: ITM and P.1812 are sensitive to where the samples
next to the receiver lie. Hence the exact tail. Δh anchors instead of exact Δh cost 0.03-0.06
dB of median and 0.2-0.3 dB of p95.

``itm_sweep="adaptive"`` evaluates ITM only where the loss can change fast: at both ends of
every run of cells whose horizons (the radial's transmitter horizon and, behind it, the
receiver-side hull vertex) do not change, and on segments of at most :data:`SWEEP_K` cells
whose midpoint lies within :data:`SWEEP_TOL_DB` of the line through their ends in
log-distance; the rest is interpolated. On the 1.5 m handset of the Paser demo relief the loss
changes from one cell to the next by several dB (the receiver's own horizon), so few segments
pass and it interpolates 2-4 % of the cells, no faster than the exact sweep; on smooth terrain
(the test zoo's planes and valleys) it interpolates a third to a half.
``benchmarks/bench_coverage.py`` measures both. ``"exact"`` (the default) evaluates every cell.

Both models run from the site to the cell (ITM is not reciprocal). Heights are metres above
the DEM datum; the site's ground is the elevation of the cell holding it, the receiver's its
own cell's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

import blankspot.propagation._itm_kernels as _itm_kernels
import blankspot.propagation._radial_kernels as _radial_kernels
from blankspot.crs import require_metric
from blankspot.errors import UnitsError, format_problems
from blankspot.propagation._p1812_kernels import inv_cum_norm
from blankspot.propagation.los import _check_site_inputs, radial_plan, sweep_window
from blankspot.propagation.models import free_space_loss_db
from blankspot.terrain import Terrain

__all__ = ["ItmParams", "P1812Params", "RadialSweep", "radial_path_loss"]

MODELS = ("itm", "p1812")

NEAR_CELLS = 32
"""Cells before the receiver sampled exactly on the straight path (the rest from the radial)."""

DH_EVERY = 16
"""Δh anchors: every ring out to this ring, then every ``ring // DH_EVERY`` rings."""

ITM_SWEEPS = ("adaptive", "exact")
"""How the ITM sweep evaluates cells: ``"adaptive"`` at breakpoints and checked segments with
log-distance interpolation in between, ``"exact"`` at every cell."""

SWEEP_K = 16
"""Adaptive ITM sweep: the longest segment of cells between two evaluations."""

SWEEP_TOL_DB = 0.25
"""Adaptive ITM sweep: a segment is interpolated when its midpoint lies within this of the line
through its ends (in log-distance), else computed cell by cell."""

PREFILTER_MARGIN_DB = 3.0
"""ITM knife-edge prefilter: a cell is skipped (NaN) when free space plus the knife-edge loss
J(ν) of its radial's transmitter horizon, less the model's free-space headroom and less this
margin, still exceeds ``max_loss_db``. On the Paser demo DEM (three sites, 32-72 m, cut-offs
110-148 dB, 30 m and 90 m cells) the cells the floor alone would skip all had an ITM loss at
least 7.4 dB above the cut-off; this margin is kept on top. ``tests/test_radial.py`` checks
that the prefilter drops no cell within ``max_loss_db``."""


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value)) and not isinstance(value, bool)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class ItmParams:
    """ITM (Longley-Rice) settings, with the defaults for Kabupaten Paser.

    Attributes
    ----------
    climate:
        Radio climate code 1-7; 1 (equatorial) for Paser.
    n0:
        Sea-level surface refractivity N_0, N-units, 250-400; 360 for Paser (the ITM table
        value for the equatorial climate).
    pol:
        ITM polarisation code: 0 horizontal, 1 vertical (default; P.1812's codes differ).
    epsilon, sigma:
        Ground relative permittivity (>= 1) and conductivity (S/m, > 0); 15 and 0.005 for
        farmland and forest.
    mdvar:
        Mode of variability (0-3, plus 10 and/or 20); 2, mobile. At the median percentages it
        has no effect.
    time_pct, location_pct, situation_pct:
        Percentages strictly between 0 and 100; 50/50/50 gives the median loss. Location
        variability is normally carried by the link budget's margin: keep 50 then.
    """

    climate: int = 1
    n0: float = 360.0
    pol: int = 1
    epsilon: float = 15.0
    sigma: float = 0.005
    mdvar: int = 2
    time_pct: float = 50.0
    location_pct: float = 50.0
    situation_pct: float = 50.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.climate not in range(1, 8) or isinstance(self.climate, bool):
            problems.append(f"climate must be an ITM climate code 1-7 (1 equatorial for Paser); "
                            f"received {self.climate!r}.")  # fmt: skip
        if not (_finite(self.n0) and 250.0 <= float(self.n0) <= 400.0):
            problems.append(f"n0 must be 250-400 N-units (360 for Paser); received {self.n0!r}.")
        if self.pol not in (0, 1) or isinstance(self.pol, bool):
            problems.append(
                f"pol must be ITM's code 0 (horizontal) or 1 (vertical); received {self.pol!r}. "
                "P.1812's code 2 for vertical is not ITM's."
            )
        if not (_finite(self.epsilon) and float(self.epsilon) >= 1.0):
            problems.append(f"epsilon must be a relative permittivity >= 1 (15 for farmland and "
                            f"forest); received {self.epsilon!r}.")  # fmt: skip
        if not (_finite(self.sigma) and float(self.sigma) > 0.0):
            problems.append(f"sigma must be a conductivity > 0 S/m (0.005 for farmland and "
                            f"forest); received {self.sigma!r}.")  # fmt: skip
        valid_mdvar = {b + k for b in (0, 10, 20, 30) for k in range(4)}
        if self.mdvar not in valid_mdvar or isinstance(self.mdvar, bool):
            problems.append(f"mdvar must be 0-3 plus 10 and/or 20 (0-3, 10-13, 20-23, 30-33); "
                            f"received {self.mdvar!r}.")  # fmt: skip
        for name in ("time_pct", "location_pct", "situation_pct"):
            value = getattr(self, name)
            if not (_finite(value) and 0.0 < float(value) < 100.0):
                problems.append(f"{name} must be strictly between 0 and 100 (50 for the median); "
                                f"received {value!r}.")  # fmt: skip
        if problems:
            raise UnitsError(format_problems("ItmParams", problems))
        for f in fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, int(value) if f.type == "int" else float(value))

    @property
    def is_median(self) -> bool:
        """True when time, location and situation are all 50 %."""
        return self.time_pct == self.location_pct == self.situation_pct == 50.0

    def describe(self) -> str:
        """Compact ``name=value`` listing, as recorded in coverage results."""
        return ", ".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))


@dataclass(frozen=True)
class P1812Params:
    """ITU-R P.1812 settings, with the defaults for Kabupaten Paser.

    Attributes
    ----------
    p_pct:
        Time percentage, 1-50; 50 (the median).
    pl_pct:
        Location percentage, 1-99; 50. Location variability is normally carried by the link
        budget's margin; with ``sigma_l_db = 0`` (the default) ``pl_pct`` has no effect.
    delta_n:
        Average refractivity lapse rate ΔN through the lowest 1 km, N-units/km; 53 for Paser.
    n0:
        Sea-level surface refractivity N_0, N-units; 360.
    zone:
        Radio-climatic zone for the whole path: 1 sea, 3 coastal land, 4 inland (default).
    pol:
        P.1812 polarisation code: 1 horizontal, 2 vertical (default; ITM's codes differ).
    sigma_l_db:
        Location-variability standard deviation, dB, >= 0; 0.
    dct_km, dcr_km:
        Distance over land from the transmitter / receiver to the coast, km; 500 (far inland,
        the reference code's default).
    """

    p_pct: float = 50.0
    pl_pct: float = 50.0
    delta_n: float = 53.0
    n0: float = 360.0
    zone: int = 4
    pol: int = 2
    sigma_l_db: float = 0.0
    dct_km: float = 500.0
    dcr_km: float = 500.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        checks = (
            ("p_pct", 1.0, 50.0, "a time percentage of P.1812, 1-50"),
            ("pl_pct", 1.0, 99.0, "a location percentage, 1-99"),
            ("delta_n", 1e-9, 157.0 - 1e-9, "a positive lapse rate below 157, e.g. 53"),
            ("n0", 1e-9, 500.0, "N-units, e.g. 360"),
            ("sigma_l_db", 0.0, math.inf, "a standard deviation >= 0 dB"),
            ("dct_km", 0.0, math.inf, "a distance >= 0 km"),
            ("dcr_km", 0.0, math.inf, "a distance >= 0 km"),
        )
        for name, lo, hi, what in checks:
            value = getattr(self, name)
            if not (_finite(value) and lo <= float(value) <= hi):
                problems.append(f"{name} must be {what}; received {value!r}.")
        if self.zone not in (1, 3, 4) or isinstance(self.zone, bool):
            problems.append(f"zone must be a P.1812 radio-climatic zone: 1 sea, 3 coastal land or "
                            f"4 inland; received {self.zone!r}.")  # fmt: skip
        if self.pol not in (1, 2) or isinstance(self.pol, bool):
            problems.append(f"pol must be P.1812's code 1 (horizontal) or 2 (vertical); received "
                            f"{self.pol!r}. ITM's codes 0/1 differ.")  # fmt: skip
        if problems:
            raise UnitsError(format_problems("P1812Params", problems))
        for f in fields(self):
            value = getattr(self, f.name)
            object.__setattr__(self, f.name, int(value) if f.type == "int" else float(value))

    def describe(self) -> str:
        """Compact ``name=value`` listing, as recorded in coverage results."""
        return ", ".join(f"{f.name}={getattr(self, f.name):g}" for f in fields(self))


@dataclass(frozen=True, eq=False)
class RadialSweep:
    """Path loss from one site on a window of the terrain grid.

    Attributes
    ----------
    row_off, col_off:
        Position of the window's first cell in the terrain grid.
    path_loss_db:
        float32 (rows, cols) basic transmission loss in dB. NaN beyond ``radius_m``, on
        nodata, where a path touches nodata or leaves the grid, and where the model fails.
    model:
        ``"itm"`` or ``"p1812"``.
    radius_m:
        Radius actually swept: the requested one, or less where even free space (minus the
        model's headroom) exceeds ``max_loss_db``.
    n_radials:
        Radials used.
    """

    row_off: int
    col_off: int
    path_loss_db: np.ndarray
    model: str
    radius_m: float
    n_radials: int

    @property
    def window(self) -> tuple[slice, slice]:
        """Slices selecting the window from a full terrain-grid array."""
        rows, cols = self.path_loss_db.shape
        return (
            slice(self.row_off, self.row_off + rows),
            slice(self.col_off, self.col_off + cols),
        )


def _itm_vmed_max_db(climate: int) -> float:
    """Largest climatic median adjustment V_med of ITM for a climate (dB, >= 0)."""
    c = climate - 1
    v = _itm_kernels._V_MED
    d_e = np.geomspace(1.0, 1e7, 4000)
    r = (d_e / v[2, c]) ** 2
    curve = (v[0, c] + v[1, c] / (1.0 + ((d_e - v[3, c]) / v[4, c]) ** 2)) * r / (1.0 + r)
    return max(0.0, float(curve.max()))


def free_space_headroom_db(model: str, params: ItmParams | P1812Params) -> float:
    """How far below free space the model's loss can go, in dB (inf: no bound known).

    ITM's reference attenuation is never negative, so at the median percentages its loss is at
    least free space minus the climate's largest V_med. P.1812's loss is at least its
    line-of-sight loss, free space at p = 50 % (minus up to 2.6·|log10(p/50)| dB of multipath
    enhancement below that) and minus the location term when p_L < 50 %.
    """
    if isinstance(params, ItmParams):
        return _itm_vmed_max_db(params.climate) + 0.1 if params.is_median else math.inf
    headroom = 0.1 + 2.6 * max(0.0, -math.log10(params.p_pct / 50.0))
    if params.pl_pct < 50.0:
        headroom += float(-inv_cum_norm(params.pl_pct / 100.0)) * params.sigma_l_db
    return headroom


def _free_space_reach_m(max_loss_db: float, freq_mhz: float, headroom_db: float) -> float:
    """Distance (m) beyond which free space minus ``headroom_db`` exceeds ``max_loss_db``."""
    if not math.isfinite(max_loss_db) or not math.isfinite(headroom_db):
        return math.inf
    reach_m: float = 1000.0 * 10.0 ** (
        (max_loss_db + headroom_db - 32.45 - 20.0 * math.log10(freq_mhz)) / 20.0
    )
    return reach_m


def radial_path_loss(
    terrain: Terrain,
    x_m: float,
    y_m: float,
    *,
    height_agl_m: float,
    rx_height_agl_m: float = 1.5,
    freq_mhz: float = 900.0,
    model: str = "itm",
    radius_m: float = 30_000.0,
    max_loss_db: float | None = None,
    itm_params: ItmParams | None = None,
    p1812_params: P1812Params | None = None,
    clutter_height_m: np.ndarray | None = None,
    lat_deg: float | None = None,
    near_cells: int = NEAR_CELLS,
    dh_every: int = DH_EVERY,
    parallel: bool = False,
    prefilter_margin_db: float | None = PREFILTER_MARGIN_DB,
    itm_sweep: str = "exact",
) -> RadialSweep:
    """Basic transmission loss from one site to every cell within ``radius_m``.

    Parameters
    ----------
    terrain
        The grid, in a projected metric CRS.
    x_m, y_m
        Site position in the terrain CRS.
    height_agl_m
        Antenna height above the ground of the site's cell, metres (ITM 0.5-3000, P.1812
        1-3000).
    rx_height_agl_m
        Receiver height above its cell's ground, metres (same ranges).
    freq_mhz
        Frequency, MHz (ITM 20-20000, P.1812 30-6000).
    model
        ``"itm"`` or ``"p1812"``.
    radius_m
        Radius of the computation, metres.
    max_loss_db
        Cells farther than the distance where free space (less the model's headroom, see
        :func:`free_space_headroom_db`) exceeds this are not computed (NaN). None: no limit.
        For ITM, cells proven costlier than this by the knife-edge prefilter
        (``prefilter_margin_db``) are NaN too; other cells whose computed loss exceeds it are
        kept, and the caller decides.
    itm_params, p1812_params
        Model settings (default: the Paser defaults).
    clutter_height_m
        P.1812 only: representative clutter height R of every grid cell (metres, >= 0, shape of
        the terrain, or 1x1 for one height everywhere). It raises the path between the
        terminals; the terminals' own clutter is not added (no P.2108 on top).
    lat_deg
        P.1812 only: path-centre latitude (degrees) used for every path; default the site's
        latitude from the terrain CRS.
    near_cells
        Cells before the receiver sampled exactly on the straight path (>= 1).
    dh_every
        ITM only: Δh anchor spacing (see :data:`DH_EVERY`); 0 computes Δh for every cell
        (about 3-4 times slower).
    parallel
        Spread the radials over numba's thread pool. Off by default: coverage runs sites in
        parallel instead, and two pools would compete.
    prefilter_margin_db
        ITM with ``max_loss_db`` only: skip a cell without a model call when free space plus the
        knife-edge loss of its radial's transmitter horizon, less the model's headroom and this
        margin, exceeds ``max_loss_db`` (see :data:`PREFILTER_MARGIN_DB`). None: no prefilter.
    itm_sweep
        ITM only: ``"adaptive"`` evaluates ITM where the loss can change fast (where the
        horizons, the Δh anchor interval or ITM's mode change) and on segments of at most
        :data:`SWEEP_K` cells whose midpoint checks within :data:`SWEEP_TOL_DB`, interpolating
        the rest in log-distance; ``"exact"`` evaluates every cell.

    Returns
    -------
    RadialSweep

    Raises
    ------
    TypeError
        ``terrain`` is not a :class:`~blankspot.terrain.Terrain`.
    CRSError
        The terrain CRS is not projected in metres.
    UnitsError
        Every problem with the inputs at once.

    Examples
    --------
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("flat")
    >>> sw = radial_path_loss(t, *cell_centre(t, 32, 32), height_agl_m=30.0, radius_m=600.0)
    >>> round(float(sw.path_loss_db[32 - sw.row_off, 52 - sw.col_off]), 1)  # 600 m, ITM
    87.1
    """
    if not isinstance(terrain, Terrain):
        raise TypeError(
            f"terrain must be a blankspot Terrain; received {type(terrain).__name__}. Read one "
            "with blankspot.io.read_terrain() or build it with blankspot.testing.make_terrain()."
        )
    require_metric(terrain.crs, "terrain")
    clutter = check_radial_inputs(
        terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
        freq_mhz=freq_mhz, model=model, radius_m=radius_m, max_loss_db=max_loss_db,
        itm_params=itm_params, p1812_params=p1812_params, clutter_height_m=clutter_height_m,
        near_cells=near_cells, dh_every=dh_every, itm_sweep=itm_sweep,
    )
    return _radial_path_loss(
        terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
        freq_mhz=freq_mhz, model=model, radius_m=radius_m, max_loss_db=max_loss_db,
        itm_params=itm_params, p1812_params=p1812_params, clutter=clutter, lat_deg=lat_deg,
        near_cells=near_cells, dh_every=dh_every, parallel=parallel,
        prefilter_margin_db=prefilter_margin_db, itm_sweep=itm_sweep,
    )


def check_radial_inputs(
    terrain: Terrain,
    x_m: float,
    y_m: float,
    *,
    height_agl_m: float,
    rx_height_agl_m: float,
    freq_mhz: float,
    model: str,
    radius_m: float,
    max_loss_db: float | None,
    itm_params: ItmParams | None,
    p1812_params: P1812Params | None,
    clutter_height_m: np.ndarray | None,
    near_cells: int = NEAR_CELLS,
    dh_every: int = DH_EVERY,
    itm_sweep: str = "exact",
) -> np.ndarray | None:
    """Check one sweep's inputs, raising every problem at once as a :class:`UnitsError`; return
    the clutter heights as float32 (or None) for :func:`_radial_path_loss`."""
    problems = _check_site_inputs(
        terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
        radius_m=radius_m, k_factor=1.0,
    )  # fmt: skip
    problems += model_input_problems(
        model, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m, freq_mhz=freq_mhz
    )
    if itm_params is not None and not isinstance(itm_params, ItmParams):
        problems.append(f"itm_params must be an ItmParams; received {type(itm_params).__name__}.")
    if p1812_params is not None and not isinstance(p1812_params, P1812Params):
        problems.append(
            f"p1812_params must be a P1812Params; received {type(p1812_params).__name__}."
        )
    if max_loss_db is not None and not (_finite(max_loss_db) or max_loss_db == math.inf):
        problems.append(f"max_loss_db must be a number of dB or None; received {max_loss_db!r}.")
    for name, value, lo in (("near_cells", near_cells, 1), ("dh_every", dh_every, 0)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
            problems.append(f"{name} must be a whole number >= {lo}; received {value!r}.")
    if itm_sweep not in ITM_SWEEPS:
        problems.append(f"itm_sweep must be one of {', '.join(map(repr, ITM_SWEEPS))}; "
                        f"received {itm_sweep!r}.")
    clutter = None
    if clutter_height_m is not None:
        if model == "itm":
            problems.append(
                "clutter_height_m is for P.1812, whose path carries the clutter; ITM has no "
                "clutter (add a P.2108 terminal correction to its loss instead)."
            )
        clutter = np.asarray(clutter_height_m, dtype=np.float32)
        if clutter.shape != terrain.shape and clutter.shape != (1, 1):
            problems.append(
                f"clutter_height_m must have the terrain's shape {terrain.shape} (or (1, 1) for "
                f"one height everywhere); received {clutter.shape}."
            )
        elif not (np.isfinite(clutter).all() and (clutter >= 0).all()):
            problems.append(
                "clutter_height_m must be finite heights >= 0 m; it has "
                f"{int((~np.isfinite(clutter) | (clutter < 0)).sum())} other value(s)."
            )
    if problems:
        raise UnitsError(format_problems("radial_path_loss() inputs", problems))
    return clutter


def _radial_path_loss(
    terrain: Terrain,
    x_m: float,
    y_m: float,
    *,
    height_agl_m: float,
    rx_height_agl_m: float,
    freq_mhz: float,
    model: str,
    radius_m: float,
    max_loss_db: float | None,
    itm_params: ItmParams | None,
    p1812_params: P1812Params | None,
    clutter: np.ndarray | None,
    lat_deg: float | None = None,
    near_cells: int = NEAR_CELLS,
    dh_every: int = DH_EVERY,
    parallel: bool = False,
    prefilter_margin_db: float | None = PREFILTER_MARGIN_DB,
    itm_sweep: str = "exact",
) -> RadialSweep:
    """:func:`radial_path_loss` on inputs already checked (by it, or once for a whole sites
    table by :func:`blankspot.coverage.compute_coverage`); ``clutter``: float32 heights of the
    terrain's shape or (1, 1), or None."""
    x_m, y_m = float(x_m), float(y_m)
    h_tx, h_rx = float(height_agl_m), float(rx_height_agl_m)
    res_m = terrain.res_m
    row0, col0 = (float(v) for v in terrain.rowcol(x_m, y_m))
    z0 = float(terrain.elevation_at(x_m, y_m)[0])
    params = (itm_params or ItmParams()) if model == "itm" else (p1812_params or P1812Params())
    reach = math.inf
    cut_db = math.inf
    headroom_db = free_space_headroom_db(model, params)
    if max_loss_db is not None:
        reach = _free_space_reach_m(float(max_loss_db), float(freq_mhz), headroom_db)
        if prefilter_margin_db is not None and math.isfinite(headroom_db):
            cut_db = float(max_loss_db)
            headroom_db += float(prefilter_margin_db)
    radius = min(float(radius_m), reach)
    n_radials = radial_plan(max(radius, res_m), res_m)[0]
    row_off, col_off, win_rows, win_cols = sweep_window(row0, col0, radius / res_m, terrain.shape)
    near = terrain.nodata_mask[
        max(0, row_off - 1) : row_off + win_rows + 1, max(0, col_off - 1) : col_off + win_cols + 1
    ]
    check_nodata = bool(near.any())
    grid = _radial_kernels.SweepGrid(
        np.ascontiguousarray(terrain.elevation_m), np.ascontiguousarray(terrain.nodata_mask),
        check_nodata,
    )  # fmt: skip
    site = _radial_kernels.SweepSite(
        row0, col0, z0, h_tx, h_rx, float(res_m), radius, int(n_radials), int(row_off),
        int(col_off), int(win_rows), int(win_cols), int(near_cells),
    )  # fmt: skip
    if isinstance(params, ItmParams):
        p = params
        itm_params_k = _radial_kernels.ItmSweepParams(
            float(freq_mhz), p.climate, p.n0, p.pol, p.epsilon, p.sigma, p.mdvar, p.time_pct,
            p.location_pct, p.situation_pct, int(dh_every), cut_db, headroom_db,
            SWEEP_K if itm_sweep == "adaptive" else 0, SWEEP_TOL_DB,
        )  # fmt: skip
        if parallel:
            loss = _radial_kernels.itm_sweep_parallel(grid, site, itm_params_k)
        else:
            loss = _radial_kernels.itm_sweep(grid, site, itm_params_k)
    else:
        q = params
        if lat_deg is None:
            lat_deg = site_latitude_deg(terrain, x_m, y_m)
        p1812_params_k = _radial_kernels.P1812SweepParams(
            float(freq_mhz) / 1000.0, q.p_pct, q.pol, float(lat_deg), q.delta_n, q.n0, q.zone,
            q.dct_km, q.dcr_km, q.pl_pct, q.sigma_l_db,
        )  # fmt: skip
        has_clutter = clutter is not None
        clutter_arr = np.ascontiguousarray(
            clutter if clutter is not None else np.zeros((1, 1), dtype=np.float32)
        )
        if parallel:
            loss = _radial_kernels.p1812_sweep_parallel(
                grid, site, p1812_params_k, clutter_arr, has_clutter
            )
        else:
            loss = _radial_kernels.p1812_sweep(grid, site, p1812_params_k, clutter_arr, has_clutter)
    own_r = math.floor(row0 + 0.5) - row_off
    own_c = math.floor(col0 + 0.5) - col_off
    if 0 <= own_r < win_rows and 0 <= own_c < win_cols and np.isnan(loss[own_r, own_c]):
        # the site's own cell (distance 0 when the site is on its centre): free space at 1 m
        dist = math.hypot(own_r + row_off - row0, own_c + col_off - col0) * res_m
        loss[own_r, own_c] = free_space_loss_db(dist, float(freq_mhz))
    return RadialSweep(
        row_off=row_off, col_off=col_off, path_loss_db=loss, model=model, radius_m=radius,
        n_radials=n_radials,
    )  # fmt: skip


def model_input_problems(
    model: str, *, height_agl_m: Any, rx_height_agl_m: Any, freq_mhz: Any
) -> list[str]:
    """The problems of heights and frequency for a terrain model, as sentences."""
    if model not in MODELS:
        return [f"model must be one of {', '.join(repr(m) for m in MODELS)}; received {model!r}."]
    h_lo, f_lo, f_hi = (0.5, 20.0, 20_000.0) if model == "itm" else (1.0, 30.0, 6_000.0)
    name = "ITM" if model == "itm" else "P.1812"
    problems = []
    for what, value in (("height_agl_m", height_agl_m), ("rx_height_agl_m", rx_height_agl_m)):
        if _finite(value) and not h_lo <= float(value) <= 3000.0:
            problems.append(
                f"{what} must be {h_lo:g}-3000 m for {name}; received {value!r}. Antennas lower "
                f"than {h_lo:g} m are outside the model."
            )
    if not (_finite(freq_mhz) and f_lo <= float(freq_mhz) <= f_hi):
        problems.append(
            f"freq_mhz must be {f_lo:g}-{f_hi:g} MHz for {name}; received {freq_mhz!r}."
        )
    return problems


def site_latitude_deg(terrain: Terrain, x_m: float, y_m: float) -> float:
    """Latitude (degrees, WGS 84) of a point given in the terrain CRS."""
    from pyproj import Transformer

    to_geo = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)
    return float(to_geo.transform(x_m, y_m)[1])
