"""numba kernels of exact point-to-point paths from one site to many receiver points.

No CRS, geometry, I/O, logging or warnings here; :mod:`blankspot.propagation.points`
validates and wraps. The slow twin is :func:`blankspot.diagnostics.terrain_profile` followed
by :func:`blankspot.propagation.itm.p2p_tls` on :func:`~blankspot.propagation.itm.make_pfl`.

Each path is sampled exactly as :func:`blankspot.diagnostics.terrain_profile` samples it: ``n =
max(MIN_INTERVALS, ceil(d / res - 1e-9))`` equal intervals from the site to the point, both
ends included, heights interpolated bilinearly between cell centres (held at the edge cells'
values in the outer half cell); a sample next to nodata is NaN and the point gets no loss. ITM
then runs point-to-point on that profile with the closed-form steps of
:mod:`~blankspot.propagation._itm_kernels` (the kernel ``p2p_tls`` calls), so the loss is the
one :func:`~blankspot.propagation.itm.p2p_tls` returns, bit for bit. ``model`` 0 is line of
sight: free space where the receiver sees the antenna over the curved profile, NaN elsewhere.

Every point also gets the elevation angle (degrees) at which its path leaves the antenna
(:func:`blankspot.propagation.antenna.elevation_angle_deg`: toward the receiver, or the highest
obstruction, with the effective earth radius of ``k_factor``), for antenna patterns.

One body (:func:`_points`), inlined into ``point_losses`` (serial) and ``point_losses_parallel``
(``parallel=True``, points spread over numba's thread pool; each point writes its own slot, so
both give the same result bit for bit).

Units: metres, MHz, dB, degrees. Heights are above the DEM datum.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

import blankspot.propagation._itm_kernels as _itm
from blankspot.propagation._kernels import F32, F64
from blankspot.units import EARTH_RADIUS_M

MIN_INTERVALS = 10
"""A path has at least this many intervals (``blankspot.diagnostics.MIN_INTERVALS``)."""

MODEL_LOS = 0
MODEL_ITM = 1


@njit(nogil=True, cache=True, inline="always")
def _bilinear(z: F32, row: float, col: float) -> float:
    """``blankspot.diagnostics._bilinear`` at one position (NaN next to nodata)."""
    rows, cols = z.shape
    r = min(max(row, 0.0), rows - 1.0)
    c = min(max(col, 0.0), cols - 1.0)
    r0 = min(math.floor(r), max(rows - 2, 0))
    c0 = min(math.floor(c), max(cols - 2, 0))
    r1 = min(r0 + 1, rows - 1)
    c1 = min(c0 + 1, cols - 1)
    wr = r - r0
    wc = c - c0
    top = float(z[r0, c0]) * (1.0 - wc) + float(z[r0, c1]) * wc
    bottom = float(z[r1, c0]) * (1.0 - wc) + float(z[r1, c1]) * wc
    value: float = top * (1.0 - wr) + bottom * wr
    return value


@njit(nogil=True, cache=True, inline="always")
def _profile(
    z: F32, x0: float, y0: float, x1: float, y1: float, gx0: float, gy0: float, res_m: float,
    e_m: float, d_m: float, out: F64,
) -> int:
    """Fill ``out[:n + 1]`` with the path's heights; return ``n`` (the number of intervals).

    Positions as ``terrain_profile``: ``t = i * (1 / n)`` (1 at the end), ``x = x0 + t * (x1 -
    x0)``, then the fractional cell ``((y - gy0) / e - 0.5, (x - gx0) / res - 0.5)`` of a
    north-up grid whose top-left corner is (``gx0``, ``gy0``), ``e`` = -``res``."""
    n = max(MIN_INTERVALS, math.ceil(d_m / res_m - 1e-9))
    step = 1.0 / n
    for i in range(n + 1):
        t = 1.0 if i == n else i * step
        x = x0 + t * (x1 - x0)
        y = y0 + t * (y1 - y0)
        out[i] = _bilinear(z, (y - gy0) / e_m - 0.5, (x - gx0) / res_m - 0.5)
    return n


@njit(nogil=True, cache=True, inline="always")
def _points(
    z: F32, gx0: float, gy0: float, res_m: float, e_m: float, x0: float, y0: float, h_tx_m: float,
    xs: F64, ys: F64, h_rx_m: float, model: int, k_factor: float, f_mhz: float, climate: int,
    n0: float, pol: int, epsilon: float, sigma: float, mdvar: int, time_pct: float,
    location_pct: float, situation_pct: float,
) -> tuple[F64, F64]:  # fmt: skip
    """The body of :func:`point_losses` (documented there)."""
    m = xs.size
    loss = np.full(m, np.nan)
    elevation = np.full(m, np.nan)
    longest = 0.0
    for i in range(m):
        longest = max(longest, math.hypot(xs[i] - x0, ys[i] - y0))
    n_max = max(MIN_INTERVALS, math.ceil(longest / res_m - 1e-9))
    inv_two_ae = 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)
    for i in prange(m):
        d = math.hypot(xs[i] - x0, ys[i] - y0)
        if d < 1.0:  # on the site: free space at 1 m, straight down the mast
            loss[i] = _itm.free_space_loss(1.0, f_mhz)
            elevation[i] = -90.0
            continue
        h = np.empty(n_max + 1)
        n = _profile(z, x0, y0, xs[i], ys[i], gx0, gy0, res_m, e_m, d, h)
        ok = True
        for j in range(n + 1):
            if not math.isfinite(h[j]):
                ok = False
                break
        if not ok:
            continue
        xi = d * (1.0 / n)
        # elevation angle: the highest of the intermediate points and the receiver (tangents)
        z_tx = h[0] + h_tx_m
        best = (h[n] + h_rx_m - z_tx) / d - d * inv_two_ae
        target = best
        for j in range(1, n):
            x = j * xi
            best = max(best, (h[j] - z_tx) / x - x * inv_two_ae)
        elevation[i] = math.degrees(math.atan(best))
        if model == MODEL_LOS:
            if best <= target:
                loss[i] = _itm.free_space_loss(d, f_mhz)
            continue
        h_sys = _itm.mean_path_height(h, n)
        z_g, gamma_e, n_s = _itm.initialize_point_to_point(f_mhz, h_sys, n0, pol, epsilon, sigma)
        th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h, dd = _itm.quick_pfl(
            h, n, xi, gamma_e, h_tx_m, h_rx_m
        )
        a, _a_ref, _a_fs, _mode, _w, err = _itm.itm_core(
            th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h, dd, h_tx_m, h_rx_m, f_mhz, z_g,
            gamma_e, n_s, _itm.CALC_P2P, climate, mdvar, time_pct, location_pct, situation_pct,
        )  # fmt: skip
        if err == 0:
            loss[i] = a
    return loss, elevation


@njit(nogil=True, cache=True)
def point_losses(
    z: F32, gx0: float, gy0: float, res_m: float, e_m: float, x0: float, y0: float, h_tx_m: float,
    xs: F64, ys: F64, h_rx_m: float, model: int, k_factor: float, f_mhz: float, climate: int,
    n0: float, pol: int, epsilon: float, sigma: float, mdvar: int, time_pct: float,
    location_pct: float, situation_pct: float,
) -> tuple[F64, F64]:  # fmt: skip
    """Basic transmission loss (dB) and elevation angle (degrees) from one site to each point.

    ``z``: elevation (float32, NaN at nodata) of a north-up grid with square cells of
    ``res_m`` (``e_m`` = -``res_m``, the transform's ``e``) and top-left corner (``gx0``,
    ``gy0``); the site at (``x0``, ``y0``) with its
    antenna ``h_tx_m`` above the ground; the points at (``xs``, ``ys``) with the receiver
    ``h_rx_m`` above the ground. ``model``: :data:`MODEL_ITM` (the ITM settings after it) or
    :data:`MODEL_LOS`. Both outputs are NaN for a path touching nodata (and the loss where
    ITM reports an error, or for ``MODEL_LOS`` where the receiver is hidden). A point within
    1 m of the site gets free space at 1 m and the angle -90.
    """
    return _points(
        z, gx0, gy0, res_m, e_m, x0, y0, h_tx_m, xs, ys, h_rx_m, model, k_factor, f_mhz, climate, n0,
        pol, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct,
    )  # fmt: skip


@njit(nogil=True, cache=True, parallel=True)
def point_losses_parallel(
    z: F32, gx0: float, gy0: float, res_m: float, e_m: float, x0: float, y0: float, h_tx_m: float,
    xs: F64, ys: F64, h_rx_m: float, model: int, k_factor: float, f_mhz: float, climate: int,
    n0: float, pol: int, epsilon: float, sigma: float, mdvar: int, time_pct: float,
    location_pct: float, situation_pct: float,
) -> tuple[F64, F64]:  # fmt: skip
    """:func:`point_losses` with the points spread over numba's thread pool (same result)."""
    return _points(
        z, gx0, gy0, res_m, e_m, x0, y0, h_tx_m, xs, ys, h_rx_m, model, k_factor, f_mhz, climate, n0,
        pol, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct,
    )  # fmt: skip
