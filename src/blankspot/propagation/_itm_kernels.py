"""numba kernels for the Irregular Terrain Model (Longley-Rice), ITM v1.4 semantics.

Scalars and plain float64 arrays in, tuples of scalars out: no validation, no Python objects,
no warnings. :mod:`blankspot.propagation.itm` validates input and wraps the results.

The computation is split in two so a coverage engine can reuse the expensive part:

1. **Profile analysis** (:func:`quick_pfl`, built from :func:`find_horizons`,
   :func:`least_squares_fit` and :func:`compute_delta_h`): horizon angles and distances,
   effective heights and the terrain irregularity Δh of one terrain profile.
2. **Core** (:func:`itm_core`): the reference attenuation (:func:`longley_rice`), free-space
   loss and variability from those statistics alone, with no array access.

Conventions
-----------
- A profile is ``z`` (float64, ``n + 1`` heights above mean sea level, metres, transmitter at
  ``z[0]``) with ``n`` intervals of ``xi`` metres; NTIA's PFL array is
  ``[n, xi, z[0], ..., z[n]]``.
- Distances and heights in metres, frequency in MHz, angles in radians, losses in dB.
- Terminal pairs are passed as two scalars, transmitter first; ITM is not reciprocal.
- ``warnings`` are NTIA's bit flags (``WARN_*``); ``err`` is 0 or one of NTIA's error codes
  (``ERR_*``) for the conditions that only the computation itself can detect.

Numerical order follows NTIA's implementation (running sums, strict ``>`` tie-breaking in the
horizon search, the same resampling for Δh) so results agree to the last printed decimal.
"""

from __future__ import annotations

import cmath
import math

import numpy as np
import numpy.typing as npt
from numba import njit

# --- codes shared with the NTIA implementation -------------------------------------------------

WARN_TX_TERMINAL_HEIGHT = 0x0001
WARN_RX_TERMINAL_HEIGHT = 0x0002
WARN_FREQUENCY = 0x0004
WARN_PATH_DISTANCE_TOO_BIG_1 = 0x0008
WARN_PATH_DISTANCE_TOO_BIG_2 = 0x0010
WARN_PATH_DISTANCE_TOO_SMALL_1 = 0x0020
WARN_PATH_DISTANCE_TOO_SMALL_2 = 0x0040
WARN_TX_HORIZON_ANGLE = 0x0080
WARN_RX_HORIZON_ANGLE = 0x0100
WARN_TX_HORIZON_DISTANCE_1 = 0x0200
WARN_RX_HORIZON_DISTANCE_1 = 0x0400
WARN_TX_HORIZON_DISTANCE_2 = 0x0800
WARN_RX_HORIZON_DISTANCE_2 = 0x1000
WARN_EXTREME_VARIABILITIES = 0x2000
WARN_SURFACE_REFRACTIVITY = 0x4000

ERR_GROUND_IMPEDANCE = 1013
ERR_EFFECTIVE_EARTH = 1016
ERR_SURFACE_REFRACTIVITY_SMALL = 1021
ERR_SURFACE_REFRACTIVITY_LARGE = 1022

F64 = npt.NDArray[np.float64]
ItmOutput = tuple[
    float, int, int, int, float, float, float, float, float, float, float, float, float, float,
    float,
]  # fmt: skip
"""``(loss_db, warnings, err, prop_mode, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m,
h_e_rx_m, n_s, delta_h_m, a_ref_db, a_fs_db, d_m)`` of :func:`p2p_tls` and :func:`area_tls`."""

MODE_NOT_SET = 0
MODE_LINE_OF_SIGHT = 1
MODE_DIFFRACTION = 2
MODE_TROPOSCATTER = 3

CALC_P2P = 0
CALC_AREA = 1

MDVAR_SINGLE_MESSAGE = 0
MDVAR_ACCIDENTAL = 1
MDVAR_MOBILE = 2
MDVAR_BROADCAST = 3

# --- physical constants used by the model ------------------------------------------------------

GAMMA_A_PER_M = 157e-9
"""Curvature of the actual earth, 1/m (about 1 / 6370 km)."""
A_0_M = 6370e3
"""Earth radius used by Vogler's smooth-earth diffraction, metres."""
A_9000_M = 9000e3
"""Effective earth radius used for the variability's effective distance, metres."""
THIRD = 1.0 / 3.0
SQRT2 = math.sqrt(2.0)

# --- climate tables (TN101 Fig. 10.13 curve fits), columns = climates 1..7 ---------------------

_V_MED = np.array(
    [
        [-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15],
        [12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9],
        [144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3],
        [190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3],
        [133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3],
    ]
)
# sigma_T- (below the median) and sigma_T+ (above it): c1, c2, x1, x2, x3 per climate
_SIGMA_T_MINUS = np.array(
    [
        [2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51],
        [159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8],
        [762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3],
        [123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3],
        [94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3],
    ]
)
_SIGMA_T_PLUS = np.array(
    [
        [2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43],
        [102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19],
        [636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3],
        [134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3],
        [95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3],
    ]
)
_C_D = np.array([1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518])
_Z_D = np.array([1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282])
# frequency factors g-(f) and g+(f): b1 + b2 / ((b3 * ln(0.133 k))^2 + 1)
_G_MINUS = np.array(
    [
        [1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0],
        [0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0],
    ]
)
_G_PLUS = np.array(
    [
        [1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0],
        [0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0],
        [0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0],
    ]
)
# H_0 curve coefficients for eta_s = 1..5
_H0_A = np.array([25.0, 80.0, 177.0, 395.0, 705.0])
_H0_B = np.array([24.0, 45.0, 68.0, 80.0, 105.0])


# =================================================================================================
# Small helpers
# =================================================================================================


@njit(nogil=True, cache=True)
def _dim(x: float, y: float) -> float:
    """Positive difference: ``x - y`` when ``x > y``, else 0 (C's ``fdim``)."""
    return x - y if x > y else 0.0


@njit(nogil=True, cache=True)
def inverse_ccdf(q: float) -> float:
    """Inverse complementary normal CDF, Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4).

    ``q`` is a fraction in (0, 1); returns the standard normal deviate z with Q(z) = q.
    """
    x = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    z = t - zeta
    return -z if q > 0.5 else z


@njit(nogil=True, cache=True)
def free_space_loss(d_m: float, f_mhz: float) -> float:
    """Free-space basic transmission loss in dB for distance in metres and frequency in MHz."""
    return 32.45 + 20.0 * math.log10(f_mhz) + 20.0 * math.log10(d_m / 1000.0)


@njit(nogil=True, cache=True)
def terrain_roughness(d_m: float, delta_h_m: float) -> float:
    """Δh(d), the irregularity seen over a path of ``d_m`` metres, in metres."""
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


@njit(nogil=True, cache=True)
def sigma_h(delta_h_m: float) -> float:
    """RMS terrain deviation within the first Fresnel zone, metres, from Δh in metres."""
    return 0.78 * delta_h_m * math.exp(-0.5 * delta_h_m**0.25)


@njit(nogil=True, cache=True)
def fresnel_knife_edge(v2: float) -> float:
    """Approximate knife-edge loss A(v, 0) in dB from the squared Fresnel parameter v²."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@njit(nogil=True, cache=True)
def surface_refractivity(n0: float, h_sys_m: float) -> tuple[float, float]:
    """``(n_s, gamma_e)``: surface refractivity (N-units) at the mean path elevation ``h_sys_m``
    (metres above sea level) and the effective-earth curvature (1/m) it gives."""
    n_s = n0 if h_sys_m == 0.0 else n0 * math.exp(-h_sys_m / 9460.0)
    gamma_e = GAMMA_A_PER_M * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    return n_s, gamma_e


@njit(nogil=True, cache=True)
def initialize_point_to_point(
    f_mhz: float, h_sys_m: float, n0: float, pol: int, epsilon: float, sigma: float
) -> tuple[complex, float, float]:
    """Ground impedance, effective-earth curvature and surface refractivity.

    Returns ``(z_g, gamma_e, n_s)``: complex ground impedance (vertical polarisation when
    ``pol == 1``), curvature in 1/m and N_s in N-units, with ``h_sys_m`` the mean path
    elevation above sea level in metres.
    """
    n_s, gamma_e = surface_refractivity(n0, h_sys_m)
    ep_r = complex(epsilon, 18000.0 * sigma / f_mhz)
    z_g = cmath.sqrt(ep_r - 1.0)
    if pol == 1:
        z_g = z_g / ep_r
    return z_g, gamma_e, n_s


@njit(nogil=True, cache=True)
def input_warnings(h_tx_m: float, h_rx_m: float, f_mhz: float) -> int:
    """Warning bits for terminal heights outside 1-1000 m and frequency outside 40-10000 MHz."""
    w = 0
    if h_tx_m < 1.0 or h_tx_m > 1000.0:
        w |= WARN_TX_TERMINAL_HEIGHT
    if h_rx_m < 1.0 or h_rx_m > 1000.0:
        w |= WARN_RX_TERMINAL_HEIGHT
    if f_mhz < 40.0 or f_mhz > 10000.0:
        w |= WARN_FREQUENCY
    return w


# =================================================================================================
# Profile analysis
# =================================================================================================


@njit(nogil=True, cache=True)
def mean_path_height(z: F64, n: int) -> float:
    """Mean elevation in metres of the profile, skipping the first and last 10 % of points."""
    p10 = int(0.1 * n)
    total = 0.0
    for i in range(p10, n - p10 + 1):
        total += z[i]
    return total / (n - 2 * p10 + 1)


@njit(nogil=True, cache=True)
def find_horizons(
    z: F64, n: int, xi: float, a_e_m: float, h_tx_m: float, h_rx_m: float
) -> tuple[float, float, float, float]:
    """Radio horizons of both terminals over the profile.

    Returns ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m)``: horizon elevation angles in radians
    and horizon distances in metres. A terminal that sees the other end keeps the straight-path
    angle and the full path length. Later samples replace a horizon only when strictly higher.
    """
    d = n * xi
    z_tx = z[0] + h_tx_m
    z_rx = z[n] + h_rx_m
    two_a = 2.0 * a_e_m
    theta_tx = (z_rx - z_tx) / d - d / two_a
    theta_rx = -(z_rx - z_tx) / d - d / two_a
    d_tx_hzn = d
    d_rx_hzn = d
    d_tx = 0.0
    d_rx = d
    for i in range(1, n):
        d_tx += xi
        d_rx -= xi
        t_tx = (z[i] - z_tx) / d_tx - d_tx / two_a
        t_rx = -(z_rx - z[i]) / d_rx - d_rx / two_a
        if t_tx > theta_tx:
            theta_tx = t_tx
            d_tx_hzn = d_tx
        if t_rx > theta_rx:
            theta_rx = t_rx
            d_rx_hzn = d_rx
    return theta_tx, theta_rx, d_tx_hzn, d_rx_hzn


@njit(nogil=True, cache=True)
def fit_span(n: int, xi: float, d_start_m: float, d_end_m: float) -> tuple[int, int]:
    """First and last sample ``(i_start, i_end)`` of the line fit between two distances on a
    profile of ``n`` intervals of ``xi`` metres (at least one interval apart)."""
    i_start = int(_dim(d_start_m / xi, 0.0))
    i_end = n - int(_dim(float(n), d_end_m / xi))
    if i_end <= i_start:
        i_start = int(_dim(float(i_start), 1.0))
        i_end = n - int(_dim(float(n), i_end + 1.0))
    return i_start, i_end


@njit(nogil=True, cache=True)
def least_squares_fit(
    z: F64, n: int, xi: float, d_start_m: float, d_end_m: float
) -> tuple[float, float]:
    """Straight line fitted to the profile between two distances (trapezoid-weighted).

    Returns the fitted heights in metres at the start (``x = 0``) and the end (``x = n * xi``)
    of the whole profile.
    """
    i_start, i_end = fit_span(n, xi, d_start_m, d_end_m)
    x_len = float(i_end - i_start)
    mid = -0.5 * x_len
    mid_end = i_end + mid
    sum_y = 0.5 * (z[i_start] + z[i_end])
    scaled = 0.5 * (z[i_start] - z[i_end]) * mid
    i = i_start
    for _ in range(2, i_end - i_start + 1):
        i += 1
        mid += 1.0
        sum_y += z[i]
        scaled += z[i] * mid
    sum_y = sum_y / x_len
    scaled = scaled * 12.0 / ((x_len * x_len + 2.0) * x_len)
    return sum_y - scaled * mid_end, sum_y + scaled * (n - mid_end)


@njit(nogil=True, cache=True)
def compute_delta_h(z: F64, n: int, xi: float, d_start_m: float, d_end_m: float) -> float:
    """Terrain irregularity Δh in metres between two distances along the profile.

    The span is resampled to ``10 * p10 - 5`` points (at most 245), a line is fitted, and the
    interdecile range of the residuals is scaled up to its asymptotic value. Returns 0 when the
    span covers fewer than two intervals.
    """
    x_start = d_start_m / xi
    x_end = d_end_m / xi
    if x_end - x_start < 2.0:
        return 0.0
    p10 = int(0.1 * (x_end - x_start + 8.0))
    p10 = min(max(4, p10), 25)
    n_s = 10 * p10 - 5
    p90 = n_s - p10
    last = float(n_s - 1)
    step = (x_end - x_start) / last
    i = int(x_start)
    x = x_start - (i + 1.0)
    s = np.empty(n_s)
    for j in range(n_s):
        while x > 0.0 and i + 1 < n:
            x -= 1.0
            i += 1
        s[j] = z[i + 1] + (z[i + 1] - z[i]) * x
        x += step
    y, y_end = least_squares_fit(s, n_s - 1, 1.0, 0.0, last)
    slope = (y_end - y) / last
    diffs = np.empty(n_s)
    for j in range(n_s):
        diffs[j] = s[j] - y
        y += slope
    diffs.sort()
    # p10-th largest minus (p90 + 1)-th largest residual
    q10 = diffs[n_s - p10]
    q90 = diffs[n_s - 1 - p90]
    delta_h: float = (q10 - q90) / (1.0 - 0.8 * math.exp(-(d_end_m - d_start_m) / 50e3))
    return delta_h


@njit(nogil=True, cache=True)
def effective_heights(
    fit_tx: float, fit_rx: float, z_tx_m: float, z_rx_m: float, h_tx_m: float, h_rx_m: float
) -> tuple[float, float]:
    """Effective antenna heights: structural height plus the ground's height above the fitted
    line at each end (``z_*_m`` the terminals' ground, ``fit_*`` the line there), metres."""
    return h_tx_m + _dim(z_tx_m, fit_tx), h_rx_m + _dim(z_rx_m, fit_rx)


@njit(nogil=True, cache=True)
def smooth_earth_horizons(
    fit_tx: float, fit_rx: float, z_tx_m: float, z_rx_m: float, h_tx_m: float, h_rx_m: float,
    delta_h_m: float, a_e_m: float, d_m: float,
) -> tuple[float, float, float, float, float, float]:  # fmt: skip
    """Horizons of a path well within line of sight, from the fitted effective heights.

    ITM's ``QuickPfl`` branch for horizon distances summing to more than 1.5 times the path
    length: the smooth-earth horizon distances of the effective heights (reduced by Δh), scaled
    up when they do not reach across the path. Returns ``(theta_tx, theta_rx, d_hzn_tx_m,
    d_hzn_rx_m, h_e_tx_m, h_e_rx_m)``.
    """
    a_e = a_e_m
    d = d_m
    delta_h = delta_h_m
    he_tx, he_rx = effective_heights(fit_tx, fit_rx, z_tx_m, z_rx_m, h_tx_m, h_rx_m)
    dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he_tx, 5.0)))
    dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(-0.07 * math.sqrt(delta_h / max(he_rx, 5.0)))
    combined = dh_tx + dh_rx
    if combined <= d:
        q: float = (d / combined) ** 2
        he_tx = he_tx * q
        he_rx = he_rx * q
        dh_tx = math.sqrt(2.0 * he_tx * a_e) * math.exp(
            -0.07 * math.sqrt(delta_h / max(he_tx, 5.0))
        )
        dh_rx = math.sqrt(2.0 * he_rx * a_e) * math.exp(
            -0.07 * math.sqrt(delta_h / max(he_rx, 5.0))
        )
    q = math.sqrt(2.0 * he_tx * a_e)
    theta_tx = (0.65 * delta_h * (q / dh_tx - 1.0) - 2.0 * he_tx) / q
    q = math.sqrt(2.0 * he_rx * a_e)
    theta_rx = (0.65 * delta_h * (q / dh_rx - 1.0) - 2.0 * he_rx) / q
    return theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx


@njit(nogil=True, cache=True)
def quick_pfl(
    z: F64, n: int, xi: float, gamma_e: float, h_tx_m: float, h_rx_m: float
) -> tuple[float, float, float, float, float, float, float, float]:
    """Profile statistics for point-to-point mode.

    Returns ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, delta_h_m, d_m)``:
    horizon angles (rad) and distances (m), effective heights (m), terrain irregularity (m) and
    path length (m).
    """
    d = n * xi
    a_e = 1.0 / gamma_e
    theta_tx, theta_rx, dh_tx, dh_rx = find_horizons(z, n, xi, a_e, h_tx_m, h_rx_m)
    d_start = min(15.0 * h_tx_m, 0.1 * dh_tx)
    d_end = d - min(15.0 * h_rx_m, 0.1 * dh_rx)
    delta_h = compute_delta_h(z, n, xi, d_start, d_end)

    if dh_tx + dh_rx > 1.5 * d:
        # well within line of sight: smooth-earth horizons from the fitted effective heights
        fit_tx, fit_rx = least_squares_fit(z, n, xi, d_start, d_end)
        theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx = smooth_earth_horizons(
            fit_tx, fit_rx, z[0], z[n], h_tx_m, h_rx_m, delta_h, a_e, d
        )
    else:
        fit_tx = least_squares_fit(z, n, xi, d_start, 0.9 * dh_tx)[0]
        fit_rx = least_squares_fit(z, n, xi, d - 0.9 * dh_rx, d_end)[1]
        he_tx, he_rx = effective_heights(fit_tx, fit_rx, z[0], z[n], h_tx_m, h_rx_m)
    return theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h, d


@njit(nogil=True, cache=True)
def _area_terminal(
    site: int, h_m: float, gamma_e: float, delta_h_m: float
) -> tuple[float, float, float]:
    """(theta, d_hzn_m, h_e_m) of one terminal in area mode."""
    if site == 0:
        h_e = h_m
    else:
        b = 4.0 if site == 1 else 9.0
        if h_m < 5.0:
            b = b * math.sin(0.1 * math.pi * h_m)
        h_e = h_m + (1.0 + b) * math.exp(-min(20.0, 2.0 * h_m / max(1e-3, delta_h_m)))
    d_ls = math.sqrt(2.0 * h_e / gamma_e)
    d_hzn = d_ls * math.exp(-0.07 * math.sqrt(delta_h_m / max(h_e, 5.0)))
    theta = (0.65 * delta_h_m * (d_ls / d_hzn - 1.0) - 2.0 * h_e) / d_ls
    return theta, d_hzn, h_e


@njit(nogil=True, cache=True)
def initialize_area(
    site_tx: int, site_rx: int, gamma_e: float, delta_h_m: float, h_tx_m: float, h_rx_m: float
) -> tuple[float, float, float, float, float, float]:
    """Effective heights, horizon distances and angles for area mode.

    ``site_*`` is the siting criterion (0 random, 1 careful, 2 very careful). Returns
    ``(theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m)``.
    """
    th_tx, dh_tx, he_tx = _area_terminal(site_tx, h_tx_m, gamma_e, delta_h_m)
    th_rx, dh_rx, he_rx = _area_terminal(site_rx, h_rx_m, gamma_e, delta_h_m)
    return th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx


# =================================================================================================
# Reference attenuation
# =================================================================================================


@njit(nogil=True, cache=True)
def knife_edge_diffraction(
    d_m: float, f_mhz: float, a_e_m: float, theta_los: float, dh_tx: float, dh_rx: float
) -> float:
    """Double knife-edge diffraction loss in dB at distance ``d_m`` beyond the horizons."""
    d_ml = dh_tx + dh_rx
    theta_nlos = d_m / a_e_m - theta_los
    d_nlos = d_m - d_ml
    c = 0.0795775 * (f_mhz / 47.7) * theta_nlos * theta_nlos * d_nlos
    v1 = c * dh_tx / (d_nlos + dh_tx)
    v2 = c * dh_rx / (d_nlos + dh_rx)
    return fresnel_knife_edge(v1) + fresnel_knife_edge(v2)


@njit(nogil=True, cache=True)
def height_function(x_km: float, k: float) -> float:
    """Vogler's height-gain function F(x, K) in dB."""
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w**3 > 5495.0:
            result = -117.0
            if x_km > 1.0:
                result = 17.372 * math.log(x_km) + result
        else:
            result = 2.5e-5 * x_km * x_km / k - 8.686 * w - 15.0
    else:
        result = 0.05751 * x_km - 4.343 * math.log(x_km)
        if x_km < 2000.0:
            w = 0.0134 * x_km * math.exp(-0.005 * x_km)
            result = (1.0 - w) * result + w * (17.372 * math.log(x_km) - 117.0)
    return result


@njit(nogil=True, cache=True)
def smooth_earth_diffraction(
    d_m: float, f_mhz: float, a_e_m: float, theta_los: float, dh_tx: float, dh_rx: float,
    he_tx: float, he_rx: float, z_g: complex,
) -> float:  # fmt: skip
    """Smooth-earth diffraction loss in dB (Vogler's three-radii method)."""
    theta_nlos = d_m / a_e_m - theta_los
    d_ml = dh_tx + dh_rx
    abs_zg = abs(z_g)
    f_third = f_mhz**THIRD
    f_mthird = f_mhz ** (-THIRD)
    # path radius and the two terminal radii, with the matching distances
    a0 = (d_m - d_ml) / (d_m / a_e_m - theta_los)
    a1 = 0.5 * dh_tx * dh_tx / he_tx
    a2 = 0.5 * dh_rx * dh_rx / he_rx
    d0_km = a0 * theta_nlos / 1000.0
    d1_km = dh_tx / 1000.0
    d2_km = dh_rx / 1000.0

    c0 = ((4.0 / 3.0) * A_0_M / a0) ** THIRD
    c1 = ((4.0 / 3.0) * A_0_M / a1) ** THIRD
    c2 = ((4.0 / 3.0) * A_0_M / a2) ** THIRD
    k0 = 0.017778 * c0 * f_mthird / abs_zg
    k1 = 0.017778 * c1 * f_mthird / abs_zg
    k2 = 0.017778 * c2 * f_mthird / abs_zg
    b0 = 1.607 - k0
    b1 = 1.607 - k1
    b2 = 1.607 - k2

    x1 = b1 * c1 * c1 * f_third * d1_km
    x2 = b2 * c2 * c2 * f_third * d2_km
    x0 = b0 * c0 * c0 * f_third * d0_km + x1 + x2

    g_x = 0.05751 * x0 - 10.0 * math.log10(x0)
    loss: float = g_x - height_function(x1, k1) - height_function(x2, k2) - 20.0
    return loss


@njit(nogil=True, cache=True)
def diffraction_loss(
    d_m: float, dh_tx: float, dh_rx: float, he_tx: float, he_rx: float, z_g: complex,
    a_e_m: float, delta_h_m: float, h_tx_m: float, h_rx_m: float, calc_mode: int,
    theta_los: float, d_sml_m: float, f_mhz: float,
) -> float:  # fmt: skip
    """Diffraction loss in dB: knife edge and smooth earth blended by roughness, plus clutter."""
    a_k = knife_edge_diffraction(d_m, f_mhz, a_e_m, theta_los, dh_tx, dh_rx)
    a_se = smooth_earth_diffraction(d_m, f_mhz, a_e_m, theta_los, dh_tx, dh_rx, he_tx, he_rx, z_g)

    sigma_h_d = sigma_h(terrain_roughness(d_sml_m, delta_h_m))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * h_tx_m * h_rx_m * f_mhz * sigma_h_d))

    delta_h_d = terrain_roughness(d_m, delta_h_m)
    q = h_tx_m * h_rx_m
    qk = he_tx * he_rx - q
    if calc_mode == CALC_P2P:
        q += 10.0
    term1 = math.sqrt(1.0 + qk / q)
    d_ml = dh_tx + dh_rx
    q = (term1 + (-theta_los * a_e_m + d_ml) / d_m) * min(delta_h_d * f_mhz / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * a_se + (1.0 - w) * a_k + a_fo


@njit(nogil=True, cache=True)
def line_of_sight_loss(
    d_m: float, he_tx: float, he_rx: float, z_g: complex, delta_h_m: float, m_d: float,
    a_d0: float, d_sml_m: float, f_mhz: float,
) -> float:  # fmt: skip
    """Line-of-sight loss in dB: rough-earth two-ray blended with the extended diffraction line."""
    sigma_h_d = sigma_h(terrain_roughness(d_m, delta_h_m))
    wn = f_mhz / 47.7
    he_sum = he_tx + he_rx
    sin_psi = he_sum / math.sqrt(d_m * d_m + he_sum * he_sum)
    r_e = (sin_psi - z_g) / (sin_psi + z_g) * math.exp(-min(10.0, wn * sigma_h_d * sin_psi))
    q = r_e.real * r_e.real + r_e.imag * r_e.imag
    if q < 0.25 or q < sin_psi:
        r_e = r_e * math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * he_tx * he_rx / d_m
    if delta_phi > math.pi / 2.0:
        delta_phi = math.pi - (math.pi / 2.0) ** 2 / delta_phi
    rr = complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e
    a_t = -10.0 * math.log10(rr.real * rr.real + rr.imag * rr.imag)
    a_d = m_d * d_m + a_d0
    w = 1.0 / (1.0 + f_mhz * delta_h_m / max(10e3, d_sml_m))
    return w * a_t + (1.0 - w) * a_d


@njit(nogil=True, cache=True)
def _f_function(td: float) -> float:
    """Troposcatter attenuation function F(θd) in dB, θd in metres (radian·metre)."""
    if td <= 10e3:
        return 133.4 + 0.332e-3 * td - 10.0 * math.log10(td)
    if td <= 70e3:
        return 104.6 + 0.212e-3 * td - 2.5 * math.log10(td)
    return 71.8 + 0.157e-3 * td + 5.0 * math.log10(td)


@njit(nogil=True, cache=True)
def _h0_curve(j: int, r: float) -> float:
    inv = 1.0 / r
    return 10.0 * math.log10(1.0 + _H0_A[j] * inv**4 + _H0_B[j] * inv * inv)


@njit(nogil=True, cache=True)
def h0_function(r: float, eta_s: float) -> float:
    """Troposcatter frequency-gain function H_0 in dB, interpolated between the eta_s curves."""
    eta_s = min(max(eta_s, 1.0), 5.0)
    i = int(eta_s)
    q = eta_s - i
    result = _h0_curve(i - 1, r)
    if q != 0.0:
        result = (1.0 - q) * result + q * _h0_curve(i, r)
    return result


@njit(nogil=True, cache=True)
def troposcatter_loss(
    d_m: float, theta_tx: float, theta_rx: float, dh_tx: float, dh_rx: float, he_tx: float,
    he_rx: float, a_e_m: float, n_s: float, f_mhz: float, theta_los: float, h0_in: float,
) -> tuple[float, float]:  # fmt: skip
    """Troposcatter loss in dB at ``d_m``.

    ``h0_in`` carries H_0 between the two calls at d_5 and d_6 (start with -1). Returns
    ``(loss_db, h0)``; a loss of 1001 means the scatter function is undefined there.
    """
    wn = f_mhz / 47.7
    if h0_in > 15.0:
        h_0 = h0_in
    else:
        ad = dh_tx - dh_rx
        rr = he_rx / he_tx
        if ad < 0.0:
            ad = -ad
            rr = 1.0 / rr
        theta = theta_tx + theta_rx + d_m / a_e_m
        r_1 = 2.0 * wn * theta * he_tx
        r_2 = 2.0 * wn * theta * he_rx
        if r_1 < 0.2 and r_2 < 0.2:
            return 1001.0, h0_in
        s = (d_m - ad) / (d_m + ad)
        q = min(max(0.1, rr / s), 10.0)
        s = max(0.1, s)
        h_0_m = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m
        eta_s = (h_0_m / 1.7556e3) * (
            1.0
            + (0.031 - n_s * 2.32e-3 + n_s * n_s * 5.67e-6)
            * math.exp(-(min(1.7, h_0_m / 8.0e3) ** 6))
        )
        h_00 = (h0_function(r_1, eta_s) + h0_function(r_2, eta_s)) / 2.0
        delta_h0 = min(
            h_00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s) * math.log10(q)
        )
        h_0 = max(h_00 + delta_h0, 0.0)
        if eta_s < 1.0:
            h_0 = eta_s * h_0 + (1.0 - eta_s) * 10.0 * math.log10(
                ((1.0 + SQRT2 / r_1) * (1.0 + SQRT2 / r_2)) ** 2
                * (r_1 + r_2)
                / (r_1 + r_2 + 2.0 * SQRT2)
            )
        if h_0 > 15.0 and h0_in >= 0.0:
            h_0 = h0_in
    th = d_m / a_e_m - theta_los
    loss = (
        _f_function(th * d_m)
        + 10.0 * math.log10(wn * 47.7 * th**4)
        - 0.1 * (n_s - 301.0) * math.exp(-th * d_m / 40e3)
        + h_0
    )
    return loss, h_0


@njit(nogil=True, cache=True)
def longley_rice(
    theta_tx: float, theta_rx: float, f_mhz: float, z_g: complex, dh_tx: float, dh_rx: float,
    he_tx: float, he_rx: float, gamma_e: float, n_s: float, delta_h_m: float, h_tx_m: float,
    h_rx_m: float, d_m: float, calc_mode: int,
) -> tuple[float, int, int, int]:  # fmt: skip
    """Reference attenuation (loss relative to free space) in dB.

    Returns ``(a_ref_db, prop_mode, warnings, err)`` with ``prop_mode`` 1 line of sight,
    2 diffraction, 3 troposcatter (defined against the smooth-earth horizons), NTIA warning bits
    and an error code (0 on success; then ``a_ref_db`` is NaN).
    """
    w = 0
    a_e = 1.0 / gamma_e
    ds_tx = math.sqrt(2.0 * he_tx * a_e)
    ds_rx = math.sqrt(2.0 * he_rx * a_e)
    d_sml = ds_tx + ds_rx
    d_ml = dh_tx + dh_rx
    theta_los = -max(theta_tx + theta_rx, -d_ml / a_e)

    if abs(theta_tx) > 200e-3:
        w |= WARN_TX_HORIZON_ANGLE
    if abs(theta_rx) > 200e-3:
        w |= WARN_RX_HORIZON_ANGLE
    if dh_tx < 0.1 * ds_tx:
        w |= WARN_TX_HORIZON_DISTANCE_1
    if dh_rx < 0.1 * ds_rx:
        w |= WARN_RX_HORIZON_DISTANCE_1
    if dh_tx > 3.0 * ds_tx:
        w |= WARN_TX_HORIZON_DISTANCE_2
    if dh_rx > 3.0 * ds_rx:
        w |= WARN_RX_HORIZON_DISTANCE_2

    if n_s < 150.0:
        return math.nan, MODE_NOT_SET, w, ERR_SURFACE_REFRACTIVITY_SMALL
    if n_s > 400.0:
        return math.nan, MODE_NOT_SET, w, ERR_SURFACE_REFRACTIVITY_LARGE
    if n_s < 250.0:
        w |= WARN_SURFACE_REFRACTIVITY
    if a_e < 4000000.0 or a_e > 13333333.0:
        return math.nan, MODE_NOT_SET, w, ERR_EFFECTIVE_EARTH
    if z_g.real <= abs(z_g.imag):
        return math.nan, MODE_NOT_SET, w, ERR_GROUND_IMPEDANCE

    scale = (a_e * a_e / f_mhz) ** THIRD
    d_3 = max(d_sml, d_ml + 5.0 * scale)
    d_4 = d_3 + 10.0 * scale
    a_3 = diffraction_loss(
        d_3, dh_tx, dh_rx, he_tx, he_rx, z_g, a_e, delta_h_m, h_tx_m, h_rx_m, calc_mode,
        theta_los, d_sml, f_mhz,
    )  # fmt: skip
    a_4 = diffraction_loss(
        d_4, dh_tx, dh_rx, he_tx, he_rx, z_g, a_e, delta_h_m, h_tx_m, h_rx_m, calc_mode,
        theta_los, d_sml, f_mhz,
    )  # fmt: skip
    m_d = (a_4 - a_3) / (d_4 - d_3)
    a_d0 = a_3 - m_d * d_3

    d_min = abs(he_tx - he_rx) / 200e-3
    if d_m < d_min:
        w |= WARN_PATH_DISTANCE_TOO_SMALL_1
    if d_m < 1e3:
        w |= WARN_PATH_DISTANCE_TOO_SMALL_2
    if d_m > 1000e3:
        w |= WARN_PATH_DISTANCE_TOO_BIG_1
    if d_m > 2000e3:
        w |= WARN_PATH_DISTANCE_TOO_BIG_2

    if d_m < d_sml:
        # line of sight: A_o + k1 d + k2 ln d through three fitted points
        a_sml = d_sml * m_d + a_d0
        d_0 = 0.04 * f_mhz * he_tx * he_rx
        if a_d0 >= 0.0:
            d_0 = min(d_0, 0.5 * d_ml)
            d_1 = d_0 + 0.25 * (d_ml - d_0)
        else:
            d_1 = max(-a_d0 / m_d, 0.25 * d_ml)
        a_1 = line_of_sight_loss(d_1, he_tx, he_rx, z_g, delta_h_m, m_d, a_d0, d_sml, f_mhz)
        flag = False
        k_1 = 0.0
        k_2 = 0.0
        if d_0 < d_1:
            a_0 = line_of_sight_loss(d_0, he_tx, he_rx, z_g, delta_h_m, m_d, a_d0, d_sml, f_mhz)
            q = math.log(d_sml / d_0)
            k_2 = max(
                0.0,
                ((d_sml - d_0) * (a_1 - a_0) - (d_1 - d_0) * (a_sml - a_0))
                / ((d_sml - d_0) * math.log(d_1 / d_0) - (d_1 - d_0) * q),
            )
            flag = a_d0 > 0.0 or k_2 > 0.0
            if flag:
                k_1 = (a_sml - a_0 - k_2 * q) / (d_sml - d_0)
                if k_1 < 0.0:
                    k_1 = 0.0
                    k_2 = _dim(a_sml, a_0) / q
                    if k_2 == 0.0:
                        k_1 = m_d
        if not flag:
            k_1 = _dim(a_sml, a_1) / (d_sml - d_1)
            k_2 = 0.0
            if k_1 == 0.0:
                k_1 = m_d
        a_o = a_sml - k_1 * d_sml - k_2 * math.log(d_sml)
        a_ref = a_o + k_1 * d_m + k_2 * math.log(d_m)
        mode = MODE_LINE_OF_SIGHT
    elif d_m <= max(d_sml, d_ml + 1.088 * scale * math.log(f_mhz)):
        # the diffraction-to-scatter crossover d_x below is at least this far out, so the path
        # is in diffraction whatever the scatter terms: skip computing them (same result)
        a_ref = m_d * d_m + a_d0
        mode = MODE_DIFFRACTION
    else:
        d_5 = d_ml + 200e3
        d_6 = d_ml + 400e3
        a_6, h0 = troposcatter_loss(
            d_6, theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx, a_e, n_s, f_mhz, theta_los, -1.0
        )
        a_5, h0 = troposcatter_loss(
            d_5, theta_tx, theta_rx, dh_tx, dh_rx, he_tx, he_rx, a_e, n_s, f_mhz, theta_los, h0
        )
        if a_5 < 1000.0:
            m_s = (a_6 - a_5) / 200e3
            d_x = max(
                max(d_sml, d_ml + 1.088 * scale * math.log(f_mhz)),
                (a_5 - a_d0 - m_s * d_5) / (m_d - m_s),
            )
            a_s0 = (m_d - m_s) * d_x + a_d0
        else:
            m_s = m_d
            a_s0 = a_d0
            d_x = 10e6
        if d_m > d_x:
            a_ref = m_s * d_m + a_s0
            mode = MODE_TROPOSCATTER
        else:
            a_ref = m_d * d_m + a_d0
            mode = MODE_DIFFRACTION
    return max(a_ref, 0.0), mode, w, 0


# =================================================================================================
# Variability
# =================================================================================================


@njit(nogil=True, cache=True)
def _curve(c1: float, c2: float, x1: float, x2: float, x3: float, d_e_m: float) -> float:
    r = (d_e_m / x1) ** 2
    return (c1 + c2 / (1.0 + ((d_e_m - x2) / x3) ** 2)) * r / (1.0 + r)


@njit(nogil=True, cache=True)
def variability(
    time_pct: float, location_pct: float, situation_pct: float, he_tx: float, he_rx: float,
    delta_h_m: float, f_mhz: float, d_m: float, a_ref_db: float, climate: int, mdvar: int,
) -> tuple[float, int]:  # fmt: skip
    """Loss in excess of free space, in dB, at the requested time/location/situation quantiles.

    Returns ``(loss_db, warnings)``; percentages are in (0, 100).
    """
    w = 0
    z_t = inverse_ccdf(time_pct / 100.0)
    z_l = inverse_ccdf(location_pct / 100.0)
    z_s = inverse_ccdf(situation_pct / 100.0)
    c = climate - 1
    wn = f_mhz / 47.7

    d_ex = (
        math.sqrt(2.0 * A_9000_M * he_tx)
        + math.sqrt(2.0 * A_9000_M * he_rx)
        + (575.7e12 / wn) ** THIRD
    )
    if d_m < d_ex:
        d_e = 130e3 * d_m / d_ex
    else:
        d_e = 130e3 + d_m - d_ex

    md = mdvar
    plus20 = md >= 20
    if plus20:
        md -= 20
    sigma_s = 0.0 if plus20 else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    plus10 = md >= 10
    if plus10:
        md -= 10

    v_med = _curve(_V_MED[0, c], _V_MED[1, c], _V_MED[2, c], _V_MED[3, c], _V_MED[4, c], d_e)

    if md == MDVAR_SINGLE_MESSAGE:
        z_t = z_s
        z_l = z_s
    elif md == MDVAR_ACCIDENTAL:
        z_l = z_s
    elif md == MDVAR_MOBILE:
        z_l = z_t

    if abs(z_t) > 3.10 or abs(z_l) > 3.10 or abs(z_s) > 3.10:
        w |= WARN_EXTREME_VARIABILITIES

    if plus10:
        sigma_l = 0.0
    else:
        dhd = terrain_roughness(d_m, delta_h_m)
        sigma_l = 10.0 * wn * dhd / (wn * dhd + 13.0)
    y_l = sigma_l * z_l

    q = math.log(0.133 * wn)
    g_minus = _G_MINUS[0, c] + _G_MINUS[1, c] / ((_G_MINUS[2, c] * q) ** 2 + 1.0)
    g_plus = _G_PLUS[0, c] + _G_PLUS[1, c] / ((_G_PLUS[2, c] * q) ** 2 + 1.0)
    t = _SIGMA_T_MINUS
    sigma_t_minus = _curve(t[0, c], t[1, c], t[2, c], t[3, c], t[4, c], d_e) * g_minus
    t = _SIGMA_T_PLUS
    sigma_t_plus = _curve(t[0, c], t[1, c], t[2, c], t[3, c], t[4, c], d_e) * g_plus
    sigma_td = _C_D[c] * sigma_t_plus
    tgtd = (sigma_t_plus - sigma_td) * _Z_D[c]
    if z_t < 0.0:
        sigma_t = sigma_t_minus
    elif z_t <= _Z_D[c]:
        sigma_t = sigma_t_plus
    else:
        sigma_t = sigma_td + tgtd / z_t
    y_t = sigma_t * z_t

    y_s_temp = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)
    if md == MDVAR_SINGLE_MESSAGE:
        y_r = 0.0
        y_s = math.sqrt(sigma_t**2 + sigma_l**2 + y_s_temp) * z_s
    elif md == MDVAR_ACCIDENTAL:
        y_r = y_t
        y_s = math.sqrt(sigma_l**2 + y_s_temp) * z_s
    elif md == MDVAR_MOBILE:
        y_r = math.sqrt(sigma_t**2 + sigma_l**2) * z_t
        y_s = math.sqrt(y_s_temp) * z_s
    else:
        y_r = y_t + y_l
        y_s = math.sqrt(y_s_temp) * z_s

    result = a_ref_db - v_med - y_r - y_s
    if result < 0.0:
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result, w


# =================================================================================================
# Entry points
# =================================================================================================


@njit(nogil=True, cache=True)
def itm_core(
    theta_tx: float, theta_rx: float, d_hzn_tx_m: float, d_hzn_rx_m: float, h_e_tx_m: float,
    h_e_rx_m: float, delta_h_m: float, d_m: float, h_tx_m: float, h_rx_m: float, f_mhz: float,
    z_g: complex, gamma_e: float, n_s: float, calc_mode: int, climate: int, mdvar: int,
    time_pct: float, location_pct: float, situation_pct: float,
) -> tuple[float, float, float, int, int, int]:  # fmt: skip
    """Basic transmission loss from precomputed path statistics (no array access).

    Inputs are the outputs of :func:`quick_pfl` (or :func:`initialize_area`) and of
    :func:`initialize_point_to_point`, plus the structural heights AGL in metres, frequency in
    MHz and the variability settings. ``calc_mode`` is :data:`CALC_P2P` or :data:`CALC_AREA`.

    Returns ``(loss_db, a_ref_db, a_fs_db, prop_mode, warnings, err)``; ``warnings`` includes the
    height and frequency bits of :func:`input_warnings`. On ``err != 0`` the losses are NaN.
    """
    w = input_warnings(h_tx_m, h_rx_m, f_mhz)
    a_ref, mode, w_lr, err = longley_rice(
        theta_tx, theta_rx, f_mhz, z_g, d_hzn_tx_m, d_hzn_rx_m, h_e_tx_m, h_e_rx_m, gamma_e,
        n_s, delta_h_m, h_tx_m, h_rx_m, d_m, calc_mode,
    )  # fmt: skip
    w |= w_lr
    if err != 0:
        return math.nan, math.nan, math.nan, mode, w, err
    a_fs = free_space_loss(d_m, f_mhz)
    a_var, w_var = variability(
        time_pct, location_pct, situation_pct, h_e_tx_m, h_e_rx_m, delta_h_m, f_mhz, d_m, a_ref,
        climate, mdvar,
    )  # fmt: skip
    w |= w_var
    return a_var + a_fs, a_ref, a_fs, mode, w, 0


@njit(nogil=True, cache=True)
def p2p_tls(
    h_tx_m: float, h_rx_m: float, z: F64, n: int, xi: float, climate: int, n0: float,
    f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int, time_pct: float,
    location_pct: float, situation_pct: float,
) -> ItmOutput:  # fmt: skip
    """Point-to-point ITM on one profile (heights ``z`` AMSL, ``n`` intervals of ``xi`` m).

    Inputs must already be valid (see ``blankspot.propagation.itm``). Returns
    ``(loss_db, warnings, err, prop_mode, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m,
    h_e_tx_m, h_e_rx_m, n_s, delta_h_m, a_ref_db, a_fs_db, d_m)``.
    """
    h_sys = mean_path_height(z, n)
    z_g, gamma_e, n_s = initialize_point_to_point(f_mhz, h_sys, n0, pol, epsilon, sigma)
    th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h, d = quick_pfl(
        z, n, xi, gamma_e, h_tx_m, h_rx_m
    )
    loss, a_ref, a_fs, mode, w, err = itm_core(
        th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h, d, h_tx_m, h_rx_m, f_mhz, z_g,
        gamma_e, n_s, CALC_P2P, climate, mdvar, time_pct, location_pct, situation_pct,
    )  # fmt: skip
    return (
        loss, w, err, mode, th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, n_s, delta_h, a_ref,
        a_fs, d,
    )  # fmt: skip


@njit(nogil=True, cache=True)
def area_tls(
    h_tx_m: float, h_rx_m: float, site_tx: int, site_rx: int, d_m: float, delta_h_m: float,
    climate: int, n0: float, f_mhz: float, pol: int, epsilon: float, sigma: float, mdvar: int,
    time_pct: float, location_pct: float, situation_pct: float,
) -> ItmOutput:  # fmt: skip
    """Area-mode ITM for a path of ``d_m`` metres over terrain of irregularity ``delta_h_m``.

    Inputs must already be valid. Returns the same tuple as :func:`p2p_tls`.
    """
    z_g, gamma_e, n_s = initialize_point_to_point(f_mhz, 0.0, n0, pol, epsilon, sigma)
    th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx = initialize_area(
        site_tx, site_rx, gamma_e, delta_h_m, h_tx_m, h_rx_m
    )
    loss, a_ref, a_fs, mode, w, err = itm_core(
        th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h_m, d_m, h_tx_m, h_rx_m, f_mhz, z_g,
        gamma_e, n_s, CALC_AREA, climate, mdvar, time_pct, location_pct, situation_pct,
    )  # fmt: skip
    return (
        loss, w, err, mode, th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, n_s, delta_h_m, a_ref,
        a_fs, d_m,
    )  # fmt: skip
