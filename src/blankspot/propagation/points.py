"""Exact point-to-point paths from one site to many receiver points (numba-batched).

The radial sweep (:mod:`blankspot.propagation.radial`) computes every cell of a disc and
approximates the start of each path by its nearest radial. Where only a few receivers matter
(the demand points of a plan), :func:`point_path_loss` computes each path exactly instead: the
profile :func:`blankspot.diagnostics.terrain_profile` samples (one sample per cell length,
bilinear between cell centres, at least 10 intervals, both ends included: the site's ground
is interpolated too, where the sweep takes the site's cell), then NTIA ITM point-to-point on
it, the loss :func:`blankspot.propagation.itm.p2p_tls` returns on
:func:`~blankspot.propagation.itm.make_pfl` of that profile, bit for bit. ``model="los"`` is
free space where the receiver sees the antenna over the profile (effective earth radius of
``k_factor``), nothing where the terrain hides it. P.1812 is not available here yet.

>>> from blankspot.testing import make_terrain, cell_centre
>>> t = make_terrain("flat")
>>> x, y = cell_centre(t, 32, 32)
>>> out = point_path_loss(t, x, y, 30.0, [x + 300.0, x + 600.0], [y, y], model="los")
>>> [round(float(v), 2) for v in out.loss_db]  # free space at 300 and 600 m, 900 MHz
[81.08, 87.1]
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from blankspot.errors import ConfigError, InputError, Problems, UnitsError
from blankspot.propagation import _point_kernels
from blankspot.propagation.los import _check_site_inputs
from blankspot.propagation.radial import ItmParams, model_input_problems
from blankspot.terrain import Terrain
from blankspot.units import DEFAULT_K_FACTOR

__all__ = ["POINT_MODELS", "PointLosses", "point_path_loss"]

POINT_MODELS = ("itm", "los")
"""The models :func:`point_path_loss` evaluates."""


class PointLosses(NamedTuple):
    """What :func:`point_path_loss` returns, one value per point (float64).

    Attributes
    ----------
    loss_db
        Basic transmission loss, dB; NaN where the path touches nodata, ITM reports an error,
        or (``"los"``) the terrain hides the receiver.
    elevation_deg
        Angle at which the path leaves the antenna, degrees above the horizontal: toward the
        receiver or its highest obstruction
        (:func:`blankspot.propagation.antenna.elevation_angle_deg`); NaN where the path touches
        nodata, -90 for a point within 1 m of the site.
    distance_m
        Horizontal distance from the site, metres.
    """

    loss_db: npt.NDArray[np.float64]
    elevation_deg: npt.NDArray[np.float64]
    distance_m: npt.NDArray[np.float64]


def point_path_loss(
    terrain: Terrain,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    points_x_m: npt.ArrayLike,
    points_y_m: npt.ArrayLike,
    *,
    freq_mhz: float = 900.0,
    model: str = "itm",
    rx_height_agl_m: float = 1.5,
    k_factor: float = DEFAULT_K_FACTOR,
    itm_params: ItmParams | None = None,
    parallel: bool = False,
) -> PointLosses:
    """Loss from one site to each point, on the exact straight path (module docstring).

    Parameters
    ----------
    terrain
        The grid, in a projected metric CRS; the points are in its CRS.
    x_m, y_m, height_agl_m
        The site and its antenna height above ground, metres.
    points_x_m, points_y_m
        Receiver positions (1-D, same length), inside the terrain.
    freq_mhz
        Carrier frequency, MHz.
    model
        ``"itm"`` or ``"los"`` (free space where visible).
    rx_height_agl_m
        Handset height above ground, metres.
    k_factor
        Effective earth radius factor: the line-of-sight test and the elevation angles (ITM
        derives its own from the surface refractivity).
    itm_params
        ITM settings (default the Paser ones, as in the radial sweep).
    parallel
        Spread the points over numba's thread pool (same result).

    Returns
    -------
    PointLosses

    Raises
    ------
    ConfigError
        ``model="p1812"``, not available on exact paths yet.
    InputError
        The site or a point outside the terrain, the site on nodata.
    UnitsError
        Anything else wrong, all listed at once: heights, frequency, k-factor, points that are
        not finite 1-D arrays of one length, ``itm_params``.
    """
    problems = Problems()
    if model == "p1812":
        problems.add(
            "model 'p1812' is not available on exact point paths yet; use evaluate_at='raster' "
            "for P.1812, or model 'itm' or 'los' here.",
            ConfigError,
        )
    elif model not in POINT_MODELS:
        problems.add(
            f"model must be one of {', '.join(map(repr, POINT_MODELS))}; received {model!r}.",
            UnitsError,
        )
    if not isinstance(terrain, Terrain):
        raise TypeError(f"terrain must be a blankspot Terrain; received {type(terrain).__name__}.")
    for p in _check_site_inputs(
        terrain, x_m, y_m, height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m,
        radius_m=terrain.res_m, k_factor=k_factor,
    ):  # fmt: skip
        problems.add(p, InputError if "terrain" in p else UnitsError)
    if model == "itm":
        for p in model_input_problems(
            "itm", height_agl_m=height_agl_m, rx_height_agl_m=rx_height_agl_m, freq_mhz=freq_mhz
        ):
            problems.add(p, UnitsError)
    elif not (isinstance(freq_mhz, int | float) and math.isfinite(freq_mhz) and freq_mhz > 0):
        problems.add(f"freq_mhz must be a frequency > 0 MHz; received {freq_mhz!r}.", UnitsError)
    if itm_params is not None and not isinstance(itm_params, ItmParams):
        problems.add(
            f"itm_params must be an ItmParams; received {type(itm_params).__name__}.", UnitsError
        )
    try:
        px = np.asarray(points_x_m, dtype=np.float64)
        py = np.asarray(points_y_m, dtype=np.float64)
    except (TypeError, ValueError):
        problems.add(
            "points_x_m and points_y_m must be numbers (metres in the terrain CRS); received "
            f"{type(points_x_m).__name__} and {type(points_y_m).__name__}.",
            UnitsError,
        )
        px = py = np.zeros(0)
    if px.ndim != 1 or px.shape != py.shape:
        problems.add(
            "points_x_m and points_y_m must be 1-D arrays of one length; received shapes "
            f"{px.shape} and {py.shape}.",
            UnitsError,
        )
    elif not (np.isfinite(px).all() and np.isfinite(py).all()):
        bad = np.flatnonzero(~(np.isfinite(px) & np.isfinite(py)))
        problems.add(
            f"point coordinates must be finite; {bad.size} are not (first at index {bad[0]}).",
            UnitsError,
        )
    elif px.size and not terrain.contains(px, py).all():
        bad = np.flatnonzero(~terrain.contains(px, py))
        xmin, ymin, xmax, ymax = terrain.bounds
        problems.add(
            f"{bad.size} point(s) lie outside the terrain (x {xmin:.1f}..{xmax:.1f}, y "
            f"{ymin:.1f}..{ymax:.1f}), first at index {bad[0]}; leave them out or read a larger "
            "terrain.",
            InputError,
        )
    problems.raise_if_any("point_path_loss() inputs")
    return _point_path_loss(
        terrain, float(x_m), float(y_m), float(height_agl_m), px, py, freq_mhz=float(freq_mhz),
        model=model, rx_height_agl_m=float(rx_height_agl_m), k_factor=float(k_factor),
        itm_params=itm_params, parallel=parallel,
    )  # fmt: skip


def _point_path_loss(
    terrain: Terrain,
    x_m: float,
    y_m: float,
    height_agl_m: float,
    px: npt.NDArray[np.float64],
    py: npt.NDArray[np.float64],
    *,
    freq_mhz: float,
    model: str,
    rx_height_agl_m: float,
    k_factor: float,
    itm_params: ItmParams | None,
    parallel: bool,
) -> PointLosses:
    """:func:`point_path_loss` on inputs already checked."""
    p = itm_params or ItmParams()
    t = terrain.transform
    kernel = _point_kernels.point_losses_parallel if parallel else _point_kernels.point_losses
    loss, elevation = kernel(
        np.ascontiguousarray(terrain.elevation_m, dtype=np.float32), float(t.c), float(t.f),
        float(terrain.res_m), float(t.e), x_m, y_m, height_agl_m,
        np.ascontiguousarray(px), np.ascontiguousarray(py), rx_height_agl_m,
        _point_kernels.MODEL_ITM if model == "itm" else _point_kernels.MODEL_LOS, k_factor,
        freq_mhz, int(p.climate), float(p.n0), int(p.pol), float(p.epsilon), float(p.sigma),
        int(p.mdvar), float(p.time_pct), float(p.location_pct), float(p.situation_pct),
    )  # fmt: skip
    return PointLosses(loss, elevation, np.hypot(px - x_m, py - y_m))
