"""Slow references for the radial ITM / P.1812 engine: one full point-to-point call per cell.

(a) :func:`straight_profile` is the exact path: from the site to the cell centre, ``n = ceil(d)``
    intervals (``d`` in cells, so the spacing is at most one cell), heights interpolated
    bilinearly on the straight line; the first height is the site's ground elevation and the
    last the cell's own. :func:`itm_exact` and :func:`p1812_exact` run the public models
    (``itm.p2p_tls``, ``p1812.p1812_bl``) on it. This is the accuracy oracle.
(b) :func:`radial_profile` is the kernel's path: the same ``n`` and the same heights over the
    last ``near_cells`` cells before the receiver, but farther ones are the samples of the
    nearest radial, ``j`` cells out. Running the same public models on it
    (``path="radial"``) must reproduce the kernel with exact Δh up to near ties between two
    horizon samples: this checks the incremental statistics (hulls, running maxima, prefix sums).

Everything is plain Python and numpy, one cell at a time.
"""

from __future__ import annotations

import math

import numpy as np

from blankspot.propagation import _p1812_kernels, itm, p1812
from blankspot.propagation.models import free_space_loss_db
from reference.los import approx_azimuth

TWO_PI = 2.0 * math.pi


def bilinear(elevation_m, nodata_mask, row, col):
    """Bilinear height at (row, col) clamped to the edge cells; NaN outside or touching nodata."""
    n_rows, n_cols = elevation_m.shape
    if row < -0.5 or row > n_rows - 0.5 or col < -0.5 or col > n_cols - 0.5:
        return math.nan
    r = min(max(row, 0.0), n_rows - 1.0)
    c = min(max(col, 0.0), n_cols - 1.0)
    r0, c0 = int(r), int(c)
    fr, fc = r - r0, c - c0
    r1 = r0 + 1 if fr > 0.0 else r0
    c1 = c0 + 1 if fc > 0.0 else c0
    if nodata_mask[r0, c0] or nodata_mask[r0, c1] or nodata_mask[r1, c0] or nodata_mask[r1, c1]:
        return math.nan
    a00, a01 = float(elevation_m[r0, c0]), float(elevation_m[r0, c1])
    a10, a11 = float(elevation_m[r1, c0]), float(elevation_m[r1, c1])
    top = a00 + fc * (a01 - a00)
    bot = a10 + fc * (a11 - a10)
    return top + fr * (bot - top)


def nearest(values, row, col):
    """Value of the cell containing (row, col), clamped to the grid."""
    n_rows, n_cols = values.shape
    r = min(max(math.floor(row + 0.5), 0), n_rows - 1)
    c = min(max(math.floor(col + 0.5), 0), n_cols - 1)
    return float(values[r, c])


def _intervals(d_cells):
    return max(1, math.ceil(d_cells - 1e-9))


def straight_profile(elevation_m, nodata_mask, row0, col0, z0_m, row, col):
    """(heights, sample positions (rows, cols), distance in cells) of the exact path to a cell."""
    dr, dc = row - row0, col - col0
    d_cells = math.hypot(dr, dc)
    n = _intervals(d_cells)
    z = np.empty(n + 1)
    rows = np.empty(n + 1)
    cols = np.empty(n + 1)
    z[0], z[n] = z0_m, float(elevation_m[row, col])
    rows[0], cols[0], rows[n], cols[n] = row0, col0, row, col
    for j in range(1, n):
        rows[j] = row0 + dr * j / n
        cols[j] = col0 + dc * j / n
        z[j] = bilinear(elevation_m, nodata_mask, rows[j], cols[j])
    return z, rows, cols, d_cells


def nearest_radial(row0, col0, row, col, n_radials):
    """Index of the radial nearest to the cell's azimuth (the kernel's rule)."""
    az = approx_azimuth(col - col0, -(row - row0))
    return int(az * n_radials / TWO_PI + 0.5) % n_radials


def radial_profile(elevation_m, nodata_mask, row0, col0, z0_m, row, col, n_radials, near_cells):
    """The kernel's path: as :func:`straight_profile`, except that heights ``j`` more than
    ``near_cells`` cells from the receiver are the samples of the nearest radial, ``j`` cells
    out from the site."""
    dr, dc = row - row0, col - col0
    d_cells = math.hypot(dr, dc)
    n = _intervals(d_cells)
    j0 = max(1, n - near_cells + 1)
    az = TWO_PI * nearest_radial(row0, col0, row, col, n_radials) / n_radials
    d_row, d_col = -math.cos(az), math.sin(az)
    z = np.empty(n + 1)
    rows = np.empty(n + 1)
    cols = np.empty(n + 1)
    z[0], z[n] = z0_m, float(elevation_m[row, col])
    rows[0], cols[0], rows[n], cols[n] = row0, col0, row, col
    for j in range(1, n):
        if j < j0:
            rows[j], cols[j] = row0 + j * d_row, col0 + j * d_col
        else:
            rows[j], cols[j] = row0 + j * dr / n, col0 + j * dc / n
        z[j] = bilinear(elevation_m, nodata_mask, rows[j], cols[j])
    return z, rows, cols, d_cells


def _profile(terrain, row0, col0, z0_m, row, col, path, n_radials, near_cells):
    if path == "straight":
        return straight_profile(
            terrain.elevation_m, terrain.nodata_mask, row0, col0, z0_m, row, col
        )
    return radial_profile(
        terrain.elevation_m,
        terrain.nodata_mask,
        row0,
        col0,
        z0_m,
        row,
        col,
        n_radials,
        near_cells,
    )


def itm_exact(terrain, row0, col0, z0_m, cells, *, h_tx_m, h_rx_m, freq_mhz, params,
              path="straight", n_radials=None, near_cells=None):  # fmt: skip
    """ITM loss (dB) per ``(row, col)`` in ``cells``: one ``itm.p2p_tls`` call per cell.

    ``params`` is an :class:`~blankspot.propagation.radial.ItmParams`. The cell at distance 0
    gets free space at 1 m; a path crossing nodata gets NaN.
    """
    out = np.full(len(cells), np.nan)
    for t, (row, col) in enumerate(cells):
        z, _rows, _cols, d_cells = _profile(
            terrain, row0, col0, z0_m, row, col, path, n_radials, near_cells
        )
        if d_cells == 0.0:
            out[t] = free_space_loss_db(0.0, freq_mhz)
            continue
        if not np.isfinite(z).all():
            continue
        n = len(z) - 1
        pfl = itm.make_pfl(z, d_cells * terrain.res_m / n)
        r = itm.p2p_tls(
            h_tx_m, h_rx_m, pfl, params.climate, params.n0, freq_mhz, params.pol,
            params.epsilon, params.sigma, params.mdvar, params.time_pct, params.location_pct,
            params.situation_pct,
        )  # fmt: skip
        out[t] = r.loss_db
    return out


def p1812_exact(terrain, row0, col0, z0_m, cells, *, h_tx_m, h_rx_m, freq_mhz, params,
                lat_deg, clutter_m=None, path="straight", n_radials=None,
                near_cells=None):  # fmt: skip
    """P.1812 loss (dB) per cell: one full P.1812 evaluation per cell.

    ``clutter_m`` is a grid of representative clutter heights (m), read at the cell containing
    each profile point; the terminals' values are not used (P.1812 excludes them).
    ``lat_deg`` is the path-centre latitude used for every path. Paths with fewer than 5 points
    go to the kernel directly (``p1812_bl`` asks for 5).
    """
    out = np.full(len(cells), np.nan)
    zone = np.int64(params.zone)
    for t, (row, col) in enumerate(cells):
        z, rows, cols, d_cells = _profile(
            terrain, row0, col0, z0_m, row, col, path, n_radials, near_cells
        )
        if d_cells == 0.0:
            out[t] = free_space_loss_db(0.0, freq_mhz)
            continue
        if not np.isfinite(z).all():
            continue
        n = len(z) - 1
        d_km = np.arange(n + 1) * (d_cells * terrain.res_m / n) / 1000.0
        r = np.zeros(n + 1)
        if clutter_m is not None:
            r = np.array([nearest(clutter_m, a, b) for a, b in zip(rows, cols, strict=True)])
        if n + 1 >= 5:
            res = p1812.p1812_bl(
                freq_mhz / 1000.0, params.p_pct, d_km, z, r, params.zone, h_tx_m, h_rx_m,
                p1812.POL_VERTICAL if params.pol == 2 else p1812.POL_HORIZONTAL,
                delta_n=params.delta_n, n0=params.n0, lat_path_deg=lat_deg,
                pl_pct=params.pl_pct, sigma_l_db=params.sigma_l_db,
            )  # fmt: skip
            out[t] = res.lb_db
        else:
            buf = np.empty(p1812.N_RESULT_FIELDS)
            _p1812_kernels.p1812_kernel(
                d_km, z, r, np.full(n + 1, zone), freq_mhz / 1000.0, params.p_pct, h_tx_m,
                h_rx_m, params.pol, lat_deg, params.delta_n, params.n0,
                p1812.DEFAULT_COAST_DISTANCE_KM, p1812.DEFAULT_COAST_DISTANCE_KM,
                params.pl_pct, params.sigma_l_db, buf,
            )  # fmt: skip
            out[t] = buf[0]
    return out
