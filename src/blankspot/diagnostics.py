"""Diagnostics for one path: the terrain profile, its clearance and a model's loss, drawn.

:func:`profile_plot` is the picture a planner asks for when a pixel's prediction looks odd: the
terrain between a site and a receiver (with the earth bulge, so the line of sight is straight),
the clutter on top, the 0.6 first-Fresnel-zone clearance, both radio horizons, and the loss and
mode of the chosen propagation model. It returns the figure and a :class:`ProfileReport` with
the numbers. :func:`terrain_profile` samples the heights alone.

matplotlib is needed only here and is imported when the plot is drawn.
"""

from __future__ import annotations

import contextlib
import math
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from blankspot.errors import ConfigError, InputError, Problems, UnitsError, format_problems
from blankspot.propagation.antenna import elevation_angle_deg
from blankspot.propagation.itm import PASER_DEFAULTS, make_pfl, p2p_tls
from blankspot.propagation.models import free_space_loss_db
from blankspot.propagation.p1812 import POL_VERTICAL, ZONE_INLAND, p1812_bl
from blankspot.terrain import Terrain
from blankspot.units import DEFAULT_K_FACTOR, effective_earth_radius_m, wavelength_m

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["MODELS", "Horizon", "ProfileReport", "profile_plot", "terrain_profile"]

MODELS = ("itm", "p1812", "fspl")
"""Models :func:`profile_plot` can run: NTIA ITM, ITU-R P.1812 and free space (P.525)."""

MIN_INTERVALS = 10
"""A profile has at least this many intervals, however short the path (P.1812 needs 5 points)."""

FRESNEL_CLEARANCE_FRACTION = 0.6
"""The customary clearance criterion: 0.6 of the first Fresnel zone radius kept free."""


class Horizon(NamedTuple):
    """A terminal's radio horizon: where it is and how high it looks.

    Attributes
    ----------
    distance_m
        Distance from that terminal to its horizon, metres (the whole path length when the
        terminal sees the other end).
    elevation_deg
        Horizon elevation angle seen from the terminal, degrees, earth curvature included
        (for a line-of-sight path, the angle toward the other terminal).
    """

    distance_m: float
    elevation_deg: float


@dataclass(frozen=True)
class ProfileReport:
    """The numbers behind a :func:`profile_plot`.

    Attributes
    ----------
    model
        ``"itm"``, ``"p1812"`` or ``"fspl"``.
    distance_m
        Horizontal path length, metres.
    loss_db
        The model's basic transmission loss, dB (median: 50 % time, locations, situations).
    mode
        The model's own propagation mode: ITM's ``"line of sight"``, ``"diffraction"`` or
        ``"troposcatter"`` (relative to smooth-earth horizons, not a terrain line-of-sight
        flag), P.1812's ``"line of sight"`` or ``"transhorizon"``, or ``"free space"``.
    clearance_m
        Smallest clearance of the 0.6 first-Fresnel-zone lower edge over the surface (terrain
        plus clutter, earth bulge included) between the terminals, metres; negative when the
        surface intrudes into that zone.
    clearance_at_m
        Distance from the transmitter where that smallest clearance occurs, metres.
    obstructed
        True when the surface between the terminals rises above the straight line of sight.
    horizons
        ``(tx, rx)`` :class:`Horizon` of each terminal; for ``model="itm"`` ITM's own values
        (its effective earth radius comes from its refractivity, it sees no clutter, and on a
        line-of-sight path it reports smooth-earth horizon distances, which may exceed the
        path), else geometric ones over terrain plus clutter with ``k_factor``.
    tx_elevation_deg
        Angle at which the path leaves the transmitter: toward the receiver when clear, toward
        the Tx horizon when obstructed (see
        :func:`~blankspot.propagation.antenna.elevation_angle_deg`); read the antenna's
        vertical pattern here.
    freq_mhz, k_factor
        The frequency and effective-earth-radius factor used.
    """

    model: str
    distance_m: float
    loss_db: float
    mode: str
    clearance_m: float
    clearance_at_m: float
    obstructed: bool
    horizons: tuple[Horizon, Horizon]
    tx_elevation_deg: float
    freq_mhz: float
    k_factor: float


# --- sampling -----------------------------------------------------------------------------


def _bilinear(grid: np.ndarray, row: np.ndarray, col: np.ndarray) -> np.ndarray:
    """Bilinear interpolation between cell centres; positions beyond them clamp to the edge."""
    rows, cols = grid.shape
    r = np.clip(row, 0.0, rows - 1.0)
    c = np.clip(col, 0.0, cols - 1.0)
    r0 = np.minimum(np.floor(r).astype(np.int64), max(rows - 2, 0))
    c0 = np.minimum(np.floor(c).astype(np.int64), max(cols - 2, 0))
    r1 = np.minimum(r0 + 1, rows - 1)
    c1 = np.minimum(c0 + 1, cols - 1)
    wr = r - r0
    wc = c - c0
    g = grid.astype(np.float64, copy=False)
    top = g[r0, c0] * (1.0 - wc) + g[r0, c1] * wc
    bottom = g[r1, c0] * (1.0 - wc) + g[r1, c1] * wc
    values: np.ndarray = top * (1.0 - wr) + bottom * wr
    return values


def _point(problems: Problems, terrain: Terrain, name: str, xy: Any) -> tuple[float, float] | None:
    try:
        x, y = (float(v) for v in xy)
    except (TypeError, ValueError):
        problems.add(
            f"{name} must be an (x, y) pair of metres in the terrain CRS "
            f"({terrain.crs.to_string()}); received {xy!r}.",
            InputError,
        )
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        problems.add(f"{name} must be finite; received {xy!r}.", UnitsError)
        return None
    if not bool(terrain.contains(x, y)):
        xmin, ymin, xmax, ymax = terrain.bounds
        problems.add(
            f"{name} at ({x:.1f}, {y:.1f}) lies outside the terrain (x {xmin:.1f}..{xmax:.1f}, "
            f"y {ymin:.1f}..{ymax:.1f} in {terrain.crs.to_string()}). Are the coordinates in "
            "another CRS, or x and y swapped?",
            InputError,
        )
        return None
    return x, y


def _profile_positions(
    tx: tuple[float, float], rx: tuple[float, float], spacing_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = math.hypot(rx[0] - tx[0], rx[1] - tx[1])
    n = max(MIN_INTERVALS, math.ceil(d / spacing_m - 1e-9))
    t = np.linspace(0.0, 1.0, n + 1)
    return d * t, tx[0] + t * (rx[0] - tx[0]), tx[1] + t * (rx[1] - tx[1])


def terrain_profile(
    terrain: Terrain,
    tx_xy_m: tuple[float, float],
    rx_xy_m: tuple[float, float],
    *,
    spacing_m: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Terrain heights along the straight line from ``tx_xy_m`` to ``rx_xy_m``.

    Heights are interpolated bilinearly between cell centres (held at the edge cells' values
    in the outer half cell), at evenly spaced points no farther apart than ``spacing_m`` and at
    least :data:`MIN_INTERVALS` intervals, both ends included.

    Parameters
    ----------
    terrain
        The grid.
    tx_xy_m, rx_xy_m
        End points (x, y) in the terrain CRS, metres, inside the grid.
    spacing_m
        Largest step between samples, metres; the terrain resolution when None.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Distance from the transmitter (m) and terrain height (m, the DEM's vertical datum).

    Raises
    ------
    InputError
        Points that are not (x, y) pairs or are less than 1 m apart.
    UnitsError
        Points outside the grid or not finite, a bad spacing (all listed, with the problems
        above), or nodata along the path.

    Examples
    --------
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("tilted_plane")
    >>> d, h = terrain_profile(t, cell_centre(t, 10, 10), cell_centre(t, 10, 30))
    >>> float(d[-1]), float(h[0]), float(h[-1]), len(h)
    (600.0, 110.0, 130.0, 21)
    """
    problems = Problems()
    tx, rx = _endpoints(problems, terrain, tx_xy_m, rx_xy_m)
    step = terrain.res_m if spacing_m is None else spacing_m
    try:
        step = float(step)
    except (TypeError, ValueError):
        step = math.nan
    if not (math.isfinite(step) and step > 0.0):
        problems.add(
            f"spacing_m must be a positive number of metres; received {spacing_m!r}.", UnitsError
        )
    _raise("terrain_profile()", problems)
    dist, x, y = _profile_positions(tx, rx, step)
    row, col = terrain.rowcol(x, y)
    heights = _bilinear(terrain.elevation_m, row, col)
    if not np.all(np.isfinite(heights)):
        bad = dist[~np.isfinite(heights)]
        raise InputError(
            f"terrain_profile(): the path crosses nodata at {bad.size} sample(s), from "
            f"{bad.min():.0f} m to {bad.max():.0f} m from the transmitter; fill the DEM void "
            "(or choose another path) before computing a profile."
        )
    return dist, heights


def _raise(what: str, problems: Problems) -> None:
    """Raise every problem at once: UnitsError for quantities alone, else the most serious kind."""
    if problems:
        error = problems.error_type(UnitsError)
        raise error(format_problems(what, problems), problems=list(problems))


def _endpoints(
    problems: Problems, terrain: Terrain, tx_xy_m: Any, rx_xy_m: Any
) -> tuple[tuple[float, float], tuple[float, float]]:
    if not isinstance(terrain, Terrain):
        raise TypeError(
            f"terrain must be a blankspot Terrain (see blankspot.io.read_terrain); received "
            f"{type(terrain).__name__}."
        )
    tx = _point(problems, terrain, "tx_xy_m", tx_xy_m)
    rx = _point(problems, terrain, "rx_xy_m", rx_xy_m)
    if tx is not None and rx is not None and math.hypot(rx[0] - tx[0], rx[1] - tx[1]) < 1.0:
        problems.add(
            f"tx_xy_m and rx_xy_m are less than 1 m apart ({tx} and {rx}); a profile needs two "
            "distinct points.",
            InputError,
        )
    return tx or (0.0, 0.0), rx or (0.0, 0.0)


def _clutter_profile(
    problems: Problems, terrain: Terrain, clutter: Any, dist: np.ndarray, xy: tuple[Any, Any]
) -> np.ndarray:
    n = dist.size
    if clutter is None:
        return np.zeros(n)
    try:
        arr = np.asarray(clutter, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add(
            "clutter_height_m must be a number or an array of numbers (metres).", InputError
        )
        return np.zeros(n)
    if arr.ndim == 0:
        out = np.full(n, float(arr))
    elif arr.ndim == 1 and arr.size >= 2:
        # One value per profile point, or evenly spaced values from Tx to Rx, interpolated.
        out = arr if arr.size == n else np.interp(dist / dist[-1], np.linspace(0, 1, arr.size), arr)
    elif arr.ndim == 2 and arr.shape == terrain.shape:
        row, col = terrain.rowcol(*xy)
        out = _bilinear(arr, row, col)
    else:
        problems.add(
            f"clutter_height_m must be a scalar, a 1-D array along the path (>= 2 values, spread "
            f"evenly from Tx to Rx) or a 2-D grid shaped like the terrain {terrain.shape}; "
            f"received shape {arr.shape}.",
            InputError,
        )
        return np.zeros(n)
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        problems.add(
            "clutter_height_m must be finite and >= 0 metres above ground along the path; "
            f"received values from {np.nanmin(out)!r} to {np.nanmax(out)!r}.",
            UnitsError,
        )
        return np.zeros(n)
    return out


# --- models -------------------------------------------------------------------------------


def _run_itm(
    h: np.ndarray,
    spacing: float,
    tx_agl: float,
    rx_agl: float,
    freq_mhz: float,
    itm_kwargs: Mapping[str, Any] | None,
) -> tuple[float, str, tuple[Horizon, Horizon]]:
    kwargs: dict[str, Any] = dict(PASER_DEFAULTS)
    kwargs.update(mdvar=12, time_pct=50.0, location_pct=50.0, situation_pct=50.0)
    kwargs.update(itm_kwargs or {})
    res = p2p_tls(tx_agl, rx_agl, make_pfl(h, spacing), f_mhz=freq_mhz, **kwargs)
    mode = res.mode.name.lower().replace("_", " ")
    horizons = (
        Horizon(float(res.d_hzn_m[0]), math.degrees(res.theta_hzn[0])),
        Horizon(float(res.d_hzn_m[1]), math.degrees(res.theta_hzn[1])),
    )
    return float(res.loss_db), mode, horizons


def _path_centre_latitude_deg(
    terrain: Terrain, tx: tuple[float, float], rx: tuple[float, float]
) -> float:
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(terrain.crs, "EPSG:4326", always_xy=True)
    _lon, lat = to_wgs84.transform(0.5 * (tx[0] + rx[0]), 0.5 * (tx[1] + rx[1]))
    return float(lat)


def _run_p1812(
    terrain: Terrain,
    tx: tuple[float, float],
    rx: tuple[float, float],
    dist: np.ndarray,
    h: np.ndarray,
    clutter: np.ndarray,
    tx_agl: float,
    rx_agl: float,
    freq_mhz: float,
    k: float,
    p1812_kwargs: Mapping[str, Any] | None,
) -> tuple[float, str]:
    kwargs: dict[str, Any] = {
        "p_pct": 50.0,
        "zone": ZONE_INLAND,
        "pol": POL_VERTICAL,
        "delta_n": 157.0 * (1.0 - 1.0 / k),  # a_e = 6371 * 157 / (157 - DN) (P.1812 Eq. 7a)
        "n0": 360.0,
        "lat_path_deg": _path_centre_latitude_deg(terrain, tx, rx),
    }
    kwargs.update(p1812_kwargs or {})
    p_pct, zone, pol = kwargs.pop("p_pct"), kwargs.pop("zone"), kwargs.pop("pol")
    res = p1812_bl(freq_mhz / 1000.0, p_pct, dist / 1000.0, h, clutter, zone, tx_agl, rx_agl,
                   pol, **kwargs)  # fmt: skip
    mode = "transhorizon" if res.transhorizon else "line of sight"
    return float(res.lb_db), mode


def _geometric_horizons(
    dist: np.ndarray, surface: np.ndarray, z_tx: float, z_rx: float, a_e: float
) -> tuple[Horizon, Horizon]:
    """Both terminals' horizons over the surface, as ITM finds them (strictly higher wins)."""
    d = dist[-1]
    inner = slice(1, dist.size - 1)
    x_tx = dist[inner]
    x_rx = d - dist[inner]
    t_tx = (surface[inner] - z_tx) / x_tx - x_tx / (2.0 * a_e)
    t_rx = (surface[inner] - z_rx) / x_rx - x_rx / (2.0 * a_e)
    direct_tx = (z_rx - z_tx) / d - d / (2.0 * a_e)
    direct_rx = (z_tx - z_rx) / d - d / (2.0 * a_e)
    out = []
    for t, x, direct in ((t_tx, x_tx, direct_tx), (t_rx[::-1], x_rx[::-1], direct_rx)):
        i = int(np.argmax(t)) if t.size else -1
        if i >= 0 and t[i] > direct:
            out.append(Horizon(float(x[i]), math.degrees(math.atan(t[i]))))
        else:
            out.append(Horizon(float(d), math.degrees(math.atan(direct))))
    return out[0], out[1]


# --- the plot -----------------------------------------------------------------------------


def _check_scalars(
    problems: Problems,
    tx_agl: float,
    rx_agl: float,
    freq_mhz: float,
    k_factor: float,
    model: str,
) -> dict[str, float]:
    out: dict[str, float] = {}
    checks: tuple[tuple[str, float, Callable[[float], bool], str], ...] = (
        ("tx_height_agl_m", tx_agl, lambda v: v > 0, "metres above ground, > 0"),
        ("rx_height_agl_m", rx_agl, lambda v: v > 0, "metres above ground, > 0"),
        ("freq_mhz", freq_mhz, lambda v: v > 0, "MHz, > 0 (e.g. 900.0)"),
        ("k_factor", k_factor, lambda v: v > 0, "> 0 (1.51 for Paser, 4/3 standard)"),
    )
    for name, value, ok, hint in checks:
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if not (math.isfinite(v) and ok(v)):
            problems.add(
                f"{name} must be a finite number in {hint}; received {value!r}.", UnitsError
            )
        out[name] = v
    if model not in MODELS:
        problems.add(
            f"model must be one of {', '.join(map(repr, MODELS))}; received {model!r}.", ConfigError
        )
    return out


def profile_plot(
    terrain: Terrain,
    tx_xy_m: tuple[float, float],
    rx_xy_m: tuple[float, float],
    *,
    tx_height_agl_m: float,
    rx_height_agl_m: float = 1.5,
    freq_mhz: float = 900.0,
    k_factor: float = DEFAULT_K_FACTOR,
    clutter_height_m: Any = None,
    model: str = "itm",
    itm_kwargs: Mapping[str, Any] | None = None,
    p1812_kwargs: Mapping[str, Any] | None = None,
    out_path: str | os.PathLike[str] | None = None,
) -> tuple[Figure, ProfileReport]:
    """Draw a path's terrain profile with its clearance, horizons and a model's loss.

    The terrain is sampled bilinearly at the terrain resolution (:func:`terrain_profile`) and
    drawn with the earth bulge x(d − x) / (2 a_e) added, a_e = k · 6371 km, so that the line of
    sight between the antennas is a straight line. Clutter is drawn on top of the terrain.
    The 0.6 first-Fresnel-zone ellipse around the line of sight is shaded and its lower edge
    drawn; the clearance and the obstruction test use the surface (terrain plus clutter) at the
    points between the terminals, as P.1812 does (clutter at a terminal is its own
    terminal-clutter loss, not a path obstruction).

    Parameters
    ----------
    terrain
        The grid, in a projected metric CRS.
    tx_xy_m, rx_xy_m
        Transmitter (site) and receiver positions (x, y) in the terrain CRS, metres.
    tx_height_agl_m, rx_height_agl_m
        Antenna heights above the ground under each, metres.
    freq_mhz
        Frequency, MHz.
    k_factor
        Effective-earth-radius factor for the bulge, the Fresnel geometry, the geometric
        horizons and (as DN = 157 (1 − 1/k)) P.1812. ITM derives its own from the refractivity.
    clutter_height_m
        Representative clutter height above ground, metres: a scalar, a 1-D array along the
        path (one value per profile point, or values spread evenly from Tx to Rx and
        interpolated), or a 2-D grid shaped like the terrain. ITM ignores clutter (add P.2108
        to its loss); P.1812 uses it as its R profile; the plot and the clearance include it.
    model
        ``"itm"`` (NTIA ITM point-to-point, Paser climate and ground, 50 % time, location and
        situation), ``"p1812"`` (ITU-R P.1812, inland zone, vertical polarisation, 50 % time
        and locations, N0 = 360) or ``"fspl"`` (free space).
    itm_kwargs
        Overrides for :func:`blankspot.propagation.itm.p2p_tls` keywords (``climate``, ``n0``,
        ``pol``, ``epsilon``, ``sigma``, ``mdvar``, ``time_pct``, ...).
    p1812_kwargs
        Overrides for :func:`blankspot.propagation.p1812.p1812_bl` (``p_pct``, ``zone``,
        ``pol``, ``delta_n``, ``n0``, ``pl_pct``, ``sigma_l_db``, ...).
    out_path
        Where to save the figure as PNG, or None. The file is written under a temporary name in
        the same folder and then renamed over ``out_path``, so a reader never sees half a file.

    Returns
    -------
    (matplotlib.figure.Figure, ProfileReport)
        The figure (not registered with pyplot; display or save it as you like) and the numbers.

    Raises
    ------
    ConfigError
        An unknown model, listed with any other problem.
    InputError
        Points that are not (x, y) pairs or are less than 1 m apart, clutter that is not
        numbers or of another shape.
    UnitsError
        Points outside the grid, bad heights, frequency, k-factor or clutter heights, all
        listed at once; nodata along the path; or inputs outside the chosen model's domain.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> from blankspot.testing import make_terrain, cell_centre
    >>> t = make_terrain("knife_edge")
    >>> fig, rep = profile_plot(t, cell_centre(t, 32, 20), cell_centre(t, 32, 60),
    ...                         tx_height_agl_m=30.0)
    >>> rep.obstructed, rep.clearance_m < 0, rep.mode
    (True, True, 'line of sight')
    """
    problems = Problems()
    tx, rx = _endpoints(problems, terrain, tx_xy_m, rx_xy_m)
    v = _check_scalars(problems, tx_height_agl_m, rx_height_agl_m, freq_mhz, k_factor, model)
    _raise("profile_plot()", problems)
    tx_agl, rx_agl = v["tx_height_agl_m"], v["rx_height_agl_m"]
    freq, k = v["freq_mhz"], v["k_factor"]
    dist, h = terrain_profile(terrain, tx, rx)
    _d, xs, ys = _profile_positions(tx, rx, terrain.res_m)
    clutter = _clutter_profile(problems, terrain, clutter_height_m, dist, (xs, ys))
    _raise("profile_plot()", problems)

    # Geometry, in the frame where the earth bulge is added to the surface.
    d = float(dist[-1])
    spacing = d / (dist.size - 1)
    a_e = effective_earth_radius_m(k)
    bulge = dist * (d - dist) / (2.0 * a_e)
    path_clutter = clutter.copy()
    path_clutter[[0, -1]] = 0.0  # terminals: their own clutter is not a path obstruction
    surface = h + path_clutter
    z_tx = h[0] + tx_agl
    z_rx = h[-1] + rx_agl
    los = z_tx + (z_rx - z_tx) * dist / d
    f1 = np.sqrt(wavelength_m(freq) * dist * (d - dist) / d)
    lower = los - FRESNEL_CLEARANCE_FRACTION * f1
    inner = slice(1, dist.size - 1)
    clearance = lower[inner] - (surface[inner] + bulge[inner])
    i_min = int(np.argmin(clearance))
    obstructed = bool(np.any(los[inner] < surface[inner] + bulge[inner]))
    tx_elev = float(elevation_angle_deg(z_tx, surface, spacing, k, rx_height_agl_m=rx_agl))

    # The model.
    horizons = _geometric_horizons(dist, surface, z_tx, z_rx, a_e)
    if model == "itm":
        loss_db, mode, horizons = _run_itm(h, spacing, tx_agl, rx_agl, freq, itm_kwargs)
    elif model == "p1812":
        loss_db, mode = _run_p1812(terrain, tx, rx, dist, h, clutter, tx_agl, rx_agl, freq, k,
                                   p1812_kwargs)  # fmt: skip
    else:
        loss_db, mode = float(free_space_loss_db(d, freq)), "free space"

    report = ProfileReport(
        model=model,
        distance_m=d,
        loss_db=loss_db,
        mode=mode,
        clearance_m=float(clearance[i_min]),
        clearance_at_m=float(dist[inner][i_min]),
        obstructed=obstructed,
        horizons=horizons,
        tx_elevation_deg=tx_elev,
        freq_mhz=freq,
        k_factor=k,
    )
    fig = _draw(dist, h, clutter, bulge, los, f1, lower, z_tx, z_rx, report)
    if getattr(terrain, "synthetic", False):
        fig.text(0.01, 0.005, "Terrain: SYNTHETIC demo DEM, not survey data.", color="#b30000",
                 fontsize=8, ha="left", va="bottom")
    if out_path is not None:
        _save_png_atomically(fig, Path(out_path))
    return fig, report


_MODEL_LABELS = {"itm": "ITM", "p1812": "ITU-R P.1812", "fspl": "Free space"}


def _draw(
    dist: np.ndarray,
    h: np.ndarray,
    clutter: np.ndarray,
    bulge: np.ndarray,
    los: np.ndarray,
    f1: np.ndarray,
    lower: np.ndarray,
    z_tx: float,
    z_rx: float,
    rep: ProfileReport,
) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "profile_plot() draws with matplotlib, which is not installed: pip install matplotlib"
        ) from exc

    x_km = dist / 1000.0
    ground = h + bulge
    top = h + clutter + bulge
    fig = Figure(figsize=(10.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    base = float(np.min(ground)) - max(10.0, 0.1 * float(np.ptp(top)))
    ax.fill_between(x_km, base, ground, color="#b08d57", alpha=0.9, lw=0, label="terrain")
    ax.plot(x_km, ground, color="#6b4f2a", lw=1.0)
    if np.any(clutter > 0):
        ax.fill_between(x_km, ground, top, color="#3a7d3a", alpha=0.6, lw=0, label="clutter")
    ax.plot(x_km, base + bulge, color="0.5", lw=0.8, ls=":", label="earth curvature (bulge)")
    upper = los + FRESNEL_CLEARANCE_FRACTION * f1
    ax.fill_between(x_km, lower, upper, color="#4a90d9", alpha=0.15, lw=0,
                    label=f"{FRESNEL_CLEARANCE_FRACTION:g} F1 zone")  # fmt: skip
    ax.plot(
        x_km,
        lower,
        color="#4a90d9",
        lw=1.2,
        ls="--",
        label=f"{FRESNEL_CLEARANCE_FRACTION:g} F1 lower edge",
    )
    ax.plot(x_km, los, color="#c0392b" if rep.obstructed else "#1f6fb2", lw=1.5,
            label="line of sight" + (" (obstructed)" if rep.obstructed else ""))  # fmt: skip
    # Masts and antennas.
    ax.plot([0.0, 0.0], [ground[0], z_tx], color="k", lw=2.0)
    ax.plot([x_km[-1]] * 2, [ground[-1], z_rx], color="k", lw=2.0)
    ax.plot([0.0], [z_tx], marker="^", color="k", ms=8, ls="none", label="Tx / Rx antennas")
    ax.plot([x_km[-1]], [z_rx], marker="^", color="k", ms=8, ls="none")
    # Horizons: the point each terminal sees last, joined to its antenna.
    d = rep.distance_m
    for (hz, z0, x0, sign), label, color in (
        ((rep.horizons[0], z_tx, 0.0, 1.0), "Tx horizon", "#8e44ad"),
        ((rep.horizons[1], z_rx, d, -1.0), "Rx horizon", "#d35400"),
    ):
        if hz.distance_m >= d * (1.0 - 1e-9):
            continue  # sees the other end: the line of sight is its horizon ray
        xh = x0 + sign * hz.distance_m
        zh = float(np.interp(xh, dist, h + clutter * (dist > 0) * (dist < d) + bulge))
        ax.plot([x0 / 1000.0, xh / 1000.0], [z0, zh], color=color, lw=1.0, ls="-.")
        ax.plot([xh / 1000.0], [zh], marker="o", color=color, ms=6, ls="none",
                label=f"{label} ({hz.distance_m / 1000.0:.2f} km, {hz.elevation_deg:+.2f}°)")  # fmt: skip
    # The worst clearance.
    xw = rep.clearance_at_m
    zw = float(np.interp(xw, dist, lower))
    ax.annotate(
        f"{rep.clearance_m:+.1f} m",
        xy=(xw / 1000.0, zw),
        xytext=(0, 14),
        textcoords="offset points",
        ha="center",
        fontsize=8,
        arrowprops={"arrowstyle": "-", "color": "0.3", "lw": 0.8},
    )
    ax.set_xlim(-0.015 * x_km[-1], 1.015 * x_km[-1])
    ax.set_ylim(bottom=base)
    ax.set_xlabel("distance from Tx (km)")
    ax.set_ylabel("height AMSL + earth bulge (m)")
    ax.grid(True, lw=0.4, alpha=0.5)
    ax.set_title(
        f"{_MODEL_LABELS[rep.model]}: {rep.loss_db:.1f} dB, {rep.mode}  |  "
        f"{d / 1000.0:.2f} km, {rep.freq_mhz:g} MHz, k = {rep.k_factor:g}\n"
        f"0.6 F1 clearance {rep.clearance_m:+.1f} m at {xw / 1000.0:.2f} km"
        f" ({'obstructed' if rep.obstructed else 'line of sight clear'}); "
        f"Tx elevation {rep.tx_elevation_deg:+.2f}°",
        fontsize=10,
    )
    ax.legend(loc="best", fontsize=8, framealpha=0.85)
    return fig


def _save_png_atomically(fig: Figure, path: Path) -> None:
    """Write the figure to ``path`` as PNG via a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as fh:  # "x": never clobber; the umask sets the permissions
            fig.savefig(fh, format="png", dpi=120)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
