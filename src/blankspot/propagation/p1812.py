"""Rec. ITU-R P.1812-6: path-specific point-to-area prediction over a terrain profile.

:func:`p1812_bl` follows the method as implemented by the ITU-R Study Group 3 reference code
(eeveetza/p1812, whose validation logs are the test vectors in ``tests/test_p1812.py``), and
returns the basic transmission loss, the field strength and every intermediate quantity of those
logs as a :class:`P1812Result`.

What the method does, in the order of the Recommendation:

- path geometry (Attachment 1): smooth-earth surface, horizon distances and angles, effective
  heights for diffraction and for ducting, terrain roughness; path-centre latitude, longest
  land and inland sections, sea fraction ω, β0 and the effective earth radii a_e and a_β;
- line of sight with multipath/focusing corrections (§4.2);
- delta-Bullington diffraction (§4.3): Bullington on the real profile, whose points carry their
  representative clutter height R (terminal points excluded), plus the spherical-earth loss in
  excess of Bullington on a smooth profile, L_d = L_bulla + max(L_dsph − L_bulls, 0), at the
  median a_e and at a_β, interpolated to p %;
- troposcatter (§4.4) and ducting/layer reflection (§4.5), combined as in §4.6;
- location variability (§4.8, p_L and σ_L) and the field strength for 1 kW e.r.p. (§4.9).

DN and N0 are passed in by the caller (the reference code reads them from its global maps when
omitted; for Kabupaten Paser DN ≈ 53 N-units/km and N0 ≈ 360 N-units). Building entry loss is
not included.

The profile computations are numba kernels of plain arrays, so a coverage sweep can call them
per pixel without Python overhead:

- ``_bullington_db``: Bullington loss of a profile (§4.3.1), real or smooth;
- ``_spherical_earth_db``: spherical-earth diffraction (§4.3.2-4.3.3);
- ``_delta_bullington_db``: the combination of §4.3.4;
- ``_smooth_earth_heights``: Attachment 1 §5;
- ``_p1812_kernel``: the whole method, writing its results into a float64 array laid out as
  :data:`RESULT_FIELDS`.

Distances are in km, heights in metres, frequency in GHz, angles in mrad inside the kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from blankspot.errors import UnitsError, format_problems
from blankspot.propagation.diffraction import _knife_edge_approx_db

EARTH_RADIUS_KM = 6371.0
"""Mean earth radius used by P.1812 (Eq. 7)."""

ZONE_SEA = 1
ZONE_COASTAL_LAND = 3
ZONE_INLAND = 4
VALID_ZONES = (ZONE_SEA, ZONE_COASTAL_LAND, ZONE_INLAND)
"""Radio-climatic zone codes of P.1812 Table 2: 1 sea, 3 coastal land, 4 inland."""

POL_HORIZONTAL = 1
POL_VERTICAL = 2
"""P.1812 polarisation codes (1 horizontal, 2 vertical). ITM codes them 0/1: do not mix them."""

DEFAULT_COAST_DISTANCE_KM = 500.0
"""Default distance over land from each terminal to the coast (the reference code's value)."""

# Order of the kernel's output array; P1812Result has these fields in this order.
RESULT_FIELDS = (
    "lb_db",
    "ep_dbuv_m",
    "d_km",
    "d_lt_km",
    "d_lr_km",
    "theta_t_mrad",
    "theta_r_mrad",
    "theta_mrad",
    "h_ts_m",
    "h_rs_m",
    "sea_fraction",
    "d_tm_km",
    "d_lm_km",
    "phi_path_deg",
    "beta0_pct",
    "a_e_km",
    "h_st_fit_m",
    "h_sr_fit_m",
    "h_st_m",
    "h_sr_m",
    "h_std_m",
    "h_srd_m",
    "h_ts_prime_m",
    "h_rs_prime_m",
    "h_te_m",
    "h_re_m",
    "h_roughness_m",
    "f_i",
    "f_j",
    "f_k",
    "l_bfs_db",
    "l_b0p_db",
    "l_b0b_db",
    "l_bulla_db",
    "l_bulls_db",
    "l_dsph_db",
    "l_d50_db",
    "l_d_beta_db",
    "l_dp_db",
    "l_bd50_db",
    "l_bd_db",
    "l_minb0p_db",
    "l_ba_db",
    "l_minbap_db",
    "l_bda_db",
    "l_bam_db",
    "l_bs_db",
    "l_bc_db",
    "l_loc_db",
    "transhorizon",
)
(
    _LB,
    _EP,
    _D,
    _DLT,
    _DLR,
    _THETA_T,
    _THETA_R,
    _THETA,
    _HTS,
    _HRS,
    _OMEGA,
    _DTM,
    _DLM,
    _PHI,
    _B0,
    _AE,
    _HST_FIT,
    _HSR_FIT,
    _HST,
    _HSR,
    _HSTD,
    _HSRD,
    _HTS_PRIME,
    _HRS_PRIME,
    _HTE,
    _HRE,
    _HM,
    _FI,
    _FJ,
    _FK,
    _LBFS,
    _LB0P,
    _LB0B,
    _LBULLA,
    _LBULLS,
    _LDSPH,
    _LD50,
    _LDB,
    _LDP,
    _LBD50,
    _LBD,
    _LMINB0P,
    _LBA,
    _LMINBAP,
    _LBDA,
    _LBAM,
    _LBS,
    _LBC,
    _LLOC,
    _TRANSHORIZON,
) = range(len(RESULT_FIELDS))
N_RESULT_FIELDS = len(RESULT_FIELDS)


@dataclass(frozen=True, slots=True)
class P1812Result:
    """Basic transmission loss of Rec. ITU-R P.1812 with the method's intermediate values.

    Equation numbers are those of P.1812-6 as cited in the reference code's logs. Losses are in
    dB, distances in km, heights in metres (above mean sea level unless said otherwise), angles
    in mrad. Diffraction terms (``l_bulla_db`` … ``l_dp_db`` and everything built on them) are
    for the requested polarisation.

    Attributes
    ----------
    lb_db
        Basic transmission loss not exceeded for p % time and p_L % locations (Eq. 69).
    ep_dbuv_m
        Field strength exceeded for p % time and p_L % locations, dB(µV/m), for 1 kW e.r.p.
        (Eq. 70); add 10·log10(P/1 kW) for another e.r.p.
    d_km
        Path length, last profile distance minus the first.
    d_lt_km, d_lr_km
        Horizon distances from Tx and Rx (Eqs. 78, 81a); on a line-of-sight path both are
        measured to the profile point with the largest ν.
    theta_t_mrad, theta_r_mrad, theta_mrad
        Tx and Rx horizon elevation angles and the path angular distance (Eq. 82).
    h_ts_m, h_rs_m
        Antenna heights above mean sea level: ground height plus height above ground.
    sea_fraction
        ω, the fraction of the path over sea (zone 1).
    d_tm_km, d_lm_km
        Longest continuous land (zones 3 + 4) and inland (zone 4) sections.
    phi_path_deg
        Path-centre latitude (Eq. 4).
    beta0_pct
        β0, the time percentage of anomalous refractivity gradients (Eq. 5).
    a_e_km
        Median effective earth radius 6371·157/(157 − DN) (Eq. 7a).
    h_st_fit_m, h_sr_fit_m
        Least-squares smooth-earth surface heights at Tx and Rx (Eqs. 85-86), uncorrected.
    h_st_m, h_sr_m
        The same, capped at the terminal ground heights (Eqs. 90a-b), used for ducting.
    h_std_m, h_srd_m
        Smooth-surface heights for the diffraction model (Eq. 89).
    h_ts_prime_m, h_rs_prime_m
        Antenna heights above that diffraction surface, h_ts − h_std and h_rs − h_srd (Eq. 37).
    h_te_m, h_re_m
        Effective antenna heights for the ducting/layer-reflection model (Eq. 92).
    h_roughness_m
        Terrain roughness h_m (Eq. 93).
    f_i, f_j, f_k
        Interpolation factors of Eqs. 40, 57 and 58.
    l_bfs_db
        Free-space basic transmission loss (Eq. 8).
    l_b0p_db, l_b0b_db
        Line-of-sight loss with multipath/focusing corrections at p % and β0 % (Eqs. 10-11).
    l_bulla_db, l_bulls_db, l_dsph_db
        Bullington loss on the real profile (with clutter), Bullington loss on the smooth
        profile and the spherical-earth loss, all for the median effective earth radius.
    l_d50_db, l_d_beta_db, l_dp_db
        Delta-Bullington diffraction loss at the median radius, at a_β and at p % (Eqs. 39, 41).
    l_bd50_db, l_bd_db
        Median and p % basic transmission loss associated with diffraction (Eqs. 42-43).
    l_minb0p_db
        Notional minimum loss for line of sight and over-sea sub-path diffraction (Eq. 59).
    l_ba_db
        Ducting/layer-reflection basic transmission loss (Eq. 46).
    l_minbap_db
        Notional minimum loss with line-of-sight and transhorizon enhancements (Eq. 60).
    l_bda_db, l_bam_db
        Diffraction loss blended with those enhancements (Eqs. 61-62).
    l_bs_db
        Troposcatter basic transmission loss (Eq. 44).
    l_bc_db
        Combined loss for p % time and 50 % locations (Eq. 63).
    l_loc_db
        Location-variability correction −I(p_L/100)·σ_L (0 when the receiver is at sea).
    transhorizon
        True when the path is transhorizon by the horizon-angle test of Attachment 1 (Eq. 76),
        on the terrain without clutter.
    """

    lb_db: float
    ep_dbuv_m: float
    d_km: float
    d_lt_km: float
    d_lr_km: float
    theta_t_mrad: float
    theta_r_mrad: float
    theta_mrad: float
    h_ts_m: float
    h_rs_m: float
    sea_fraction: float
    d_tm_km: float
    d_lm_km: float
    phi_path_deg: float
    beta0_pct: float
    a_e_km: float
    h_st_fit_m: float
    h_sr_fit_m: float
    h_st_m: float
    h_sr_m: float
    h_std_m: float
    h_srd_m: float
    h_ts_prime_m: float
    h_rs_prime_m: float
    h_te_m: float
    h_re_m: float
    h_roughness_m: float
    f_i: float
    f_j: float
    f_k: float
    l_bfs_db: float
    l_b0p_db: float
    l_b0b_db: float
    l_bulla_db: float
    l_bulls_db: float
    l_dsph_db: float
    l_d50_db: float
    l_d_beta_db: float
    l_dp_db: float
    l_bd50_db: float
    l_bd_db: float
    l_minb0p_db: float
    l_ba_db: float
    l_minbap_db: float
    l_bda_db: float
    l_bam_db: float
    l_bs_db: float
    l_bc_db: float
    l_loc_db: float
    transhorizon: bool


# --------------------------------------------------------------------------------------------
# Kernels: plain arrays and scalars. d in km (d[0] == 0, strictly increasing), heights in m,
# f in GHz, angles in mrad.
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _inv_cum_norm(x):
    """Approximate inverse complementary cumulative normal I(x), P.1812 Attachment 2."""
    x = min(max(x, 1e-6), 0.999999)
    y = x if x <= 0.5 else 1.0 - x
    t = math.sqrt(-2.0 * math.log(y))
    c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return t - c if x <= 0.5 else c - t


@njit(nogil=True, cache=True)
def _bullington_db(d_km, g_m, h_ts_m, h_rs_m, ap_km, f_ghz, smooth):
    """Bullington diffraction loss in dB of a profile (P.1812 §4.3.1, Eqs. 12-21).

    ``g_m`` are the profile heights (terrain + clutter) in metres; with ``smooth`` True they
    are ignored and taken as zero (the smooth profile of §4.3.4). Antenna heights are in metres
    on the same datum, the effective earth radius ``ap_km`` in km, frequency in GHz.
    """
    n = d_km.size
    dtot = d_km[n - 1] - d_km[0]
    ce = 1.0 / ap_km
    lam = 0.2998 / f_ghz
    stim = -np.inf
    for i in range(1, n - 1):
        di = d_km[i]
        gi = 0.0 if smooth else g_m[i]
        s = (gi + 500.0 * ce * di * (dtot - di) - h_ts_m) / di
        if s > stim:
            stim = s
    str_ = (h_rs_m - h_ts_m) / dtot
    if stim < str_:  # line of sight: the largest diffraction parameter
        numax = -np.inf
        for i in range(1, n - 1):
            di = d_km[i]
            gi = 0.0 if smooth else g_m[i]
            nu = gi + 500.0 * ce * di * (dtot - di) - (h_ts_m * (dtot - di) + h_rs_m * di) / dtot
            nu *= math.sqrt(0.002 * dtot / (lam * di * (dtot - di)))
            if nu > numax:
                numax = nu
        luc = _knife_edge_approx_db(numax)
    else:  # transhorizon: the Bullington point
        srim = -np.inf
        for i in range(1, n - 1):
            di = d_km[i]
            gi = 0.0 if smooth else g_m[i]
            s = (gi + 500.0 * ce * di * (dtot - di) - h_rs_m) / (dtot - di)
            if s > srim:
                srim = s
        dbp = (h_rs_m - h_ts_m + srim * dtot) / (stim + srim)
        nub = (h_ts_m + stim * dbp - (h_ts_m * (dtot - dbp) + h_rs_m * dbp) / dtot) * math.sqrt(
            0.002 * dtot / (lam * dbp * (dtot - dbp))
        )
        luc = _knife_edge_approx_db(nub)
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)


@njit(nogil=True, cache=True)
def _first_term_db(eps_r, sigma_s_m, d_km, h_te_m, h_re_m, adft_km, f_ghz, pol):
    """First-term spherical-earth diffraction loss for one ground type (Eqs. 29-36)."""
    x18 = 18.0 * sigma_s_m / f_ghz
    k = 0.036 * (adft_km * f_ghz) ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + x18 * x18) ** (-0.25)
    if pol == POL_VERTICAL:
        k = k * math.sqrt(eps_r * eps_r + x18 * x18)
    k2 = k * k
    k4 = k2 * k2
    beta = (1.0 + 1.6 * k2 + 0.67 * k4) / (1.0 + 4.5 * k2 + 1.53 * k4)
    x = 21.88 * beta * (f_ghz / (adft_km * adft_km)) ** (1.0 / 3.0) * d_km
    y_factor = 0.9575 * beta * (f_ghz * f_ghz / adft_km) ** (1.0 / 3.0)
    if x >= 1.6:
        fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x
    else:
        fx = -20.0 * math.log10(x) - 5.6488 * x**1.425
    g_min = 2.0 + 20.0 * math.log10(k)
    g_sum = 0.0
    for h in (h_te_m, h_re_m):
        b = beta * y_factor * h
        if b > 2.0:
            g = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
        else:
            g = 20.0 * math.log10(b + 0.1 * b**3)
        g_sum += max(g, g_min)
    return -fx - g_sum


@njit(nogil=True, cache=True)
def _first_term_mixed_db(d_km, h_te_m, h_re_m, adft_km, f_ghz, omega, pol):
    """First-term loss mixed over land (ε 22, σ 0.003) and sea (ε 80, σ 5) by ω (Eq. 28)."""
    land = _first_term_db(22.0, 0.003, d_km, h_te_m, h_re_m, adft_km, f_ghz, pol)
    sea = _first_term_db(80.0, 5.0, d_km, h_te_m, h_re_m, adft_km, f_ghz, pol)
    return omega * sea + (1.0 - omega) * land


@njit(nogil=True, cache=True)
def _spherical_earth_db(d_km, h_te_m, h_re_m, ap_km, f_ghz, omega, pol):
    """Spherical-earth diffraction loss in dB (P.1812 §4.3.2, Eqs. 22-27).

    Path length in km, antenna heights in metres above the smooth surface, effective earth
    radius in km, frequency in GHz, ω the sea fraction, ``pol`` 1 horizontal or 2 vertical.
    """
    lam = 0.2998 / f_ghz
    dlos = math.sqrt(2.0 * ap_km) * (math.sqrt(0.001 * h_te_m) + math.sqrt(0.001 * h_re_m))
    if d_km >= dlos:
        return _first_term_mixed_db(d_km, h_te_m, h_re_m, ap_km, f_ghz, omega, pol)
    c = (h_te_m - h_re_m) / (h_te_m + h_re_m)
    m = 250.0 * d_km * d_km / (ap_km * (h_te_m + h_re_m))
    b = (
        2.0
        * math.sqrt((m + 1.0) / (3.0 * m))
        * math.cos(math.pi / 3.0 + math.acos(1.5 * c * math.sqrt(3.0 * m / (m + 1.0) ** 3)) / 3.0)
    )
    dse1 = d_km / 2.0 * (1.0 + b)
    dse2 = d_km - dse1
    hse = (
        (h_te_m - 500.0 * dse1 * dse1 / ap_km) * dse2
        + (h_re_m - 500.0 * dse2 * dse2 / ap_km) * dse1
    ) / d_km
    hreq = 17.456 * math.sqrt(dse1 * dse2 * lam / d_km)
    if hse > hreq:
        return 0.0
    aem = 500.0 * (d_km / (math.sqrt(h_te_m) + math.sqrt(h_re_m))) ** 2
    ldft = max(_first_term_mixed_db(d_km, h_te_m, h_re_m, aem, f_ghz, omega, pol), 0.0)
    return (1.0 - hse / hreq) * ldft


@njit(nogil=True, cache=True)
def _delta_bullington_db(d_km, g_m, h_ts_m, h_rs_m, h_std_m, h_srd_m, ap_km, f_ghz, omega, pol):
    """Delta-Bullington diffraction loss (P.1812 §4.3.4, Eqs. 37-39).

    Returns ``(l_d, l_bulla, l_bulls, l_dsph)`` in dB: the total, Bullington on the real profile
    ``g_m`` (terrain + clutter, metres AMSL), Bullington on the smooth profile with antennas at
    ``h_ts_m - h_std_m`` and ``h_rs_m - h_srd_m``, and the spherical-earth loss for those heights.
    """
    dtot = d_km[d_km.size - 1] - d_km[0]
    l_bulla = _bullington_db(d_km, g_m, h_ts_m, h_rs_m, ap_km, f_ghz, False)
    h_te = h_ts_m - h_std_m
    h_re = h_rs_m - h_srd_m
    l_bulls = _bullington_db(d_km, g_m, h_te, h_re, ap_km, f_ghz, True)
    l_dsph = _spherical_earth_db(dtot, h_te, h_re, ap_km, f_ghz, omega, pol)
    return l_bulla + max(l_dsph - l_bulls, 0.0), l_bulla, l_bulls, l_dsph


@njit(nogil=True, cache=True)
def _smooth_earth_heights(d_km, h_m, h_tx_agl_m, h_rx_agl_m, ae_km, f_ghz):
    """Path-profile analysis of P.1812 Attachment 1 §4-5, on the terrain without clutter.

    Returns ``(hst_fit, hsr_fit, hst, hsr, hstd, hsrd, hte, hre, hm, dlt, dlr, theta_t,
    theta_r, theta, transhorizon)``.
    """
    n = d_km.size
    dtot = d_km[n - 1]
    hts = h_m[0] + h_tx_agl_m
    hrs = h_m[n - 1] + h_rx_agl_m

    # smooth-earth surface by least squares (Eqs. 85-86 and the two before them)
    v1 = 0.0
    v2 = 0.0
    for i in range(1, n):
        dd = d_km[i] - d_km[i - 1]
        v1 += dd * (h_m[i] + h_m[i - 1])
        v2 += dd * (
            h_m[i] * (2.0 * d_km[i] + d_km[i - 1]) + h_m[i - 1] * (d_km[i] + 2.0 * d_km[i - 1])
        )
    hst_fit = (2.0 * v1 * dtot - v2) / (dtot * dtot)
    hsr_fit = (v2 - v1 * dtot) / (dtot * dtot)

    # smooth-surface heights for the diffraction model (Eqs. 89)
    hobs = -np.inf
    alpha_obt = -np.inf
    alpha_obr = -np.inf
    for i in range(1, n - 1):
        hh = h_m[i] - (hts * (dtot - d_km[i]) + hrs * d_km[i]) / dtot
        hobs = max(hobs, hh)
        alpha_obt = max(alpha_obt, hh / d_km[i])
        alpha_obr = max(alpha_obr, hh / (dtot - d_km[i]))
    if hobs <= 0.0:
        hstp = hst_fit
        hsrp = hsr_fit
    else:
        gt = alpha_obt / (alpha_obt + alpha_obr)
        gr = alpha_obr / (alpha_obt + alpha_obr)
        hstp = hst_fit - hobs * gt
        hsrp = hsr_fit - hobs * gr
    hstd = h_m[0] if hstp >= h_m[0] else hstp
    hsrd = h_m[n - 1] if hsrp > h_m[n - 1] else hsrp

    # Tx horizon: the first profile point with the largest elevation angle. atan is monotonic,
    # so the search runs on its argument and atan is taken once.
    arg_max = -np.inf
    lt = 1
    for i in range(1, n - 1):
        arg = (h_m[i] - hts) / (1000.0 * d_km[i]) - d_km[i] / (2.0 * ae_km)
        if arg > arg_max:
            arg_max = arg
            lt = i
    theta_max = 1000.0 * math.atan(arg_max)
    theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae_km))
    theta_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae_km))
    transhorizon = theta_max > theta_td
    theta_t = max(theta_max, theta_td)
    if transhorizon:
        dlt = d_km[lt]
        arg_max = -np.inf
        lr = n - 2
        for i in range(1, n - 1):  # Rx horizon: the last point with the largest angle
            dr = dtot - d_km[i]
            arg = (h_m[i] - hrs) / (1000.0 * dr) - dr / (2.0 * ae_km)
            if arg >= arg_max:
                arg_max = arg
                lr = i
        theta_r = 1000.0 * math.atan(arg_max)
        dlr = dtot - d_km[lr]
    else:  # line of sight: the last point with the largest diffraction parameter
        theta_r = theta_rd
        lam = 0.2998 / f_ghz
        ce = 1.0 / ae_km
        numax = -np.inf
        for i in range(1, n - 1):
            di = d_km[i]
            nu = h_m[i] + 500.0 * ce * di * (dtot - di) - (hts * (dtot - di) + hrs * di) / dtot
            nu *= math.sqrt(0.002 * dtot / (lam * di * (dtot - di)))
            if nu >= numax:
                numax = nu
                lt = i
        dlt = d_km[lt]
        dlr = dtot - dlt
        lr = lt
    theta = 1e3 * dtot / ae_km + theta_t + theta_r

    # ducting/layer-reflection heights and terrain roughness (Eqs. 90-93)
    hst = min(hst_fit, h_m[0])
    hsr = min(hsr_fit, h_m[n - 1])
    slope = (hsr - hst) / dtot
    hte = h_tx_agl_m + h_m[0] - hst
    hre = h_rx_agl_m + h_m[n - 1] - hsr
    hm = -np.inf
    for i in range(lt, lr + 1):
        hm = max(hm, h_m[i] - (hst + slope * d_km[i]))
    return (
        hst_fit,
        hsr_fit,
        hst,
        hsr,
        hstd,
        hsrd,
        hte,
        hre,
        hm,
        dlt,
        dlr,
        theta_t,
        theta_r,
        theta,
        transhorizon,
    )


@njit(nogil=True, cache=True)
def _zone_sections(d_km, zone):
    """Longest land (3 + 4) section, longest inland (4) section and sea fraction, all in km/1."""
    n = d_km.size
    dtot = d_km[n - 1] - d_km[0]
    dtm = 0.0
    dlm = 0.0
    dsea = 0.0
    for which in range(3):
        i = 0
        while i < n:
            z = zone[i]
            inside = (
                (z == ZONE_COASTAL_LAND or z == ZONE_INLAND)
                if which == 0
                else (z == ZONE_INLAND if which == 1 else z == ZONE_SEA)
            )
            if not inside:
                i += 1
                continue
            start = i
            while i + 1 < n:
                z = zone[i + 1]
                nxt = (
                    (z == ZONE_COASTAL_LAND or z == ZONE_INLAND)
                    if which == 0
                    else (z == ZONE_INLAND if which == 1 else z == ZONE_SEA)
                )
                if not nxt:
                    break
                i += 1
            stop = i
            length = d_km[stop] - d_km[start]
            if d_km[stop] < d_km[n - 1]:
                length += (d_km[stop + 1] - d_km[stop]) / 2.0
            if d_km[start] > 0.0:
                length += (d_km[start] - d_km[start - 1]) / 2.0
            if which == 0:
                dtm = max(dtm, length)
            elif which == 1:
                dlm = max(dlm, length)
            else:
                dsea += length
            i += 1
    return dtm, dlm, dsea / dtot


@njit(nogil=True, cache=True)
def _beta0(phi_deg, dtm_km, dlm_km):
    """β0 (%), the time percentage of refractivity lapse rates above 100 N/km (Eqs. 2-5)."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km**2.41)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2
    mu1 = min(mu1, 1.0)
    aphi = abs(phi_deg)
    if aphi <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * aphi)
        return 10.0 ** (-0.015 * aphi + 1.67) * mu1 * mu4
    mu4 = mu1**0.3
    return 4.17 * mu1 * mu4


@njit(nogil=True, cache=True)
def _anomalous_db(
    dtot, dlt, dlr, dct, dcr, dlm, hts, hrs, hte, hre, hm, theta_t, theta_r, f, p, omega, ae, b0
):
    """Ducting/layer-reflection basic transmission loss L_ba in dB (P.1812 §4.5, Eqs. 46-56)."""
    alf = 45.375 - 137.0 * f + 92.5 * f * f if f < 0.5 else 0.0
    theta_t2 = theta_t - 0.1 * dlt
    theta_r2 = theta_r - 0.1 * dlr
    ast = 0.0
    asr = 0.0
    if theta_t2 > 0.0:
        ast = 20.0 * math.log10(
            1.0 + 0.361 * theta_t2 * math.sqrt(f * dlt)
        ) + 0.264 * theta_t2 * f ** (1.0 / 3.0)
    if theta_r2 > 0.0:
        asr = 20.0 * math.log10(
            1.0 + 0.361 * theta_r2 * math.sqrt(f * dlr)
        ) + 0.264 * theta_r2 * f ** (1.0 / 3.0)
    act = 0.0
    acr = 0.0
    if dct <= 5.0 and dct <= dlt and omega >= 0.75:
        act = -3.0 * math.exp(-0.25 * dct * dct) * (1.0 + math.tanh(0.07 * (50.0 - hts)))
    if dcr <= 5.0 and dcr <= dlr and omega >= 0.75:
        acr = -3.0 * math.exp(-0.25 * dcr * dcr) * (1.0 + math.tanh(0.07 * (50.0 - hrs)))
    gamma_d = 5e-5 * ae * f ** (1.0 / 3.0)
    theta_t1 = min(theta_t, 0.1 * dlt)
    theta_r1 = min(theta_r, 0.1 * dlr)
    theta1 = 1e3 * dtot / ae + theta_t1 + theta_r1
    d_i = min(dtot - dlt - dlr, 40.0)
    mu3 = math.exp(-4.6e-5 * (hm - 10.0) * (43.0 + 6.0 * d_i)) if hm > 10.0 else 1.0
    tau = 1.0 - math.exp(-4.12e-4 * dlm**2.41)
    alpha = max(-0.6 - 3.5e-9 * dtot**3.1 * tau, -3.4)
    mu2 = min((500.0 / ae * dtot * dtot / (math.sqrt(hte) + math.sqrt(hre)) ** 2) ** alpha, 1.0)
    beta = b0 * mu2 * mu3
    lb = math.log10(beta)
    gamma = (
        1.076
        / (2.0058 - lb) ** 1.012
        * math.exp(-(9.51 - 4.8 * lb + 0.198 * lb * lb) * 1e-6 * dtot**1.13)
    )
    ap = -12.0 + (1.2 + 3.7e-3 * dtot) * math.log10(p / beta) + 12.0 * (p / beta) ** gamma
    adp = gamma_d * theta1 + ap
    af = 102.45 + 20.0 * math.log10(f) + 20.0 * math.log10(dlt + dlr) + alf + ast + asr + act + acr
    return af + adp


@njit(nogil=True, cache=True)
def _p1812_kernel(
    d_km,
    h_m,
    r_m,
    zone,
    f_ghz,
    p_pct,
    h_tx_agl_m,
    h_rx_agl_m,
    pol,
    phi_path_deg,
    delta_n,
    n0,
    dct_km,
    dcr_km,
    pl_pct,
    sigma_l_db,
    out,
):
    """The whole of P.1812 for one profile; writes the values named in RESULT_FIELDS to ``out``.

    ``d_km`` strictly increasing from 0 (km), ``h_m`` terrain AMSL (m), ``r_m`` representative
    clutter heights (m), ``zone`` int codes 1/3/4, f in GHz, p and p_L in %, heights above ground
    in metres, ``pol`` 1 or 2, latitude in degrees, DN in N-units/km, N0 in N-units, coast
    distances in km, σ_L in dB. ``out`` is a float64 array of length N_RESULT_FIELDS.
    """
    n = d_km.size
    dtot = d_km[n - 1] - d_km[0]
    if zone[0] == ZONE_SEA:
        dct_km = 0.0
    if zone[n - 1] == ZONE_SEA:
        dcr_km = 0.0

    dtm, dlm, omega = _zone_sections(d_km, zone)
    b0 = _beta0(phi_path_deg, dtm, dlm)
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - delta_n)
    ab = EARTH_RADIUS_KM * 3.0

    (
        hst_fit,
        hsr_fit,
        hst,
        hsr,
        hstd,
        hsrd,
        hte,
        hre,
        hm,
        dlt,
        dlr,
        theta_t,
        theta_r,
        theta,
        transhorizon,
    ) = _smooth_earth_heights(d_km, h_m, h_tx_agl_m, h_rx_agl_m, ae, f_ghz)

    hts = h_m[0] + h_tx_agl_m
    hrs = h_m[n - 1] + h_rx_agl_m
    g = h_m + r_m  # representative clutter on the path, not at the terminals
    g[0] = h_m[0]
    g[n - 1] = h_m[n - 1]

    f_j = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))  # Eq. 57
    f_k = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))  # Eq. 58

    # line of sight (§4.2)
    lbfs = (
        92.4
        + 20.0 * math.log10(f_ghz)
        + 10.0 * math.log10(dtot * dtot + ((hts - hrs) / 1000.0) ** 2)
    )
    multipath = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + multipath * math.log10(p_pct / 50.0)
    lb0b = lbfs + multipath * math.log10(b0 / 50.0)

    # diffraction (§4.3)
    ld50, lbulla, lbulls, ldsph = _delta_bullington_db(
        d_km, g, hts, hrs, hstd, hsrd, ae, f_ghz, omega, pol
    )
    ldb = _delta_bullington_db(d_km, g, hts, hrs, hstd, hsrd, ab, f_ghz, omega, pol)[0]
    if p_pct == 50.0:
        ldp = ld50
    else:
        fi_d = _inv_cum_norm(p_pct / 100.0) / _inv_cum_norm(b0 / 100.0) if p_pct > b0 else 1.0
        ldp = ld50 + fi_d * (ldb - ld50)

    lbd50 = lbfs + ld50
    lbd = lb0p + ldp
    f_i = 1.0
    lminb0p = lb0p + (1.0 - omega) * ldp
    if p_pct >= b0:
        f_i = _inv_cum_norm(p_pct / 100.0) / _inv_cum_norm(b0 / 100.0)
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * f_i

    # ducting / layer reflection (§4.5)
    lba = _anomalous_db(
        dtot, dlt, dlr, dct_km, dcr_km, dlm, hts, hrs, hte, hre, hm,
        theta_t, theta_r, f_ghz, p_pct, omega, ae, b0,
    )  # fmt: skip
    eta = 2.5
    a = lba / eta
    b = lb0p / eta
    lminbap = eta * (max(a, b) + math.log1p(math.exp(-abs(a - b))))  # Eq. 60, overflow-safe

    lbda = lbd
    if lminbap <= lbd:
        lbda = lminbap + (lbd - lminbap) * f_k
    lbam = lbda + (lminb0p - lbda) * f_j

    # troposcatter (§4.4)
    lf = 25.0 * math.log10(f_ghz) - 2.5 * math.log10(f_ghz / 2.0) ** 2
    lbs = (
        190.1
        + lf
        + 20.0 * math.log10(dtot)
        + 0.573 * theta
        - 0.15 * n0
        - 10.125 * math.log10(50.0 / p_pct) ** 0.7
    )

    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # Eq. 63
    lloc = 0.0
    if zone[n - 1] != ZONE_SEA:
        lloc = -_inv_cum_norm(pl_pct / 100.0) * sigma_l_db
    lb = max(lb0p, lbc + lloc)
    ep = 199.36 + 20.0 * math.log10(f_ghz) - lb

    out[_LB] = lb
    out[_EP] = ep
    out[_D] = dtot
    out[_DLT] = dlt
    out[_DLR] = dlr
    out[_THETA_T] = theta_t
    out[_THETA_R] = theta_r
    out[_THETA] = theta
    out[_HTS] = hts
    out[_HRS] = hrs
    out[_OMEGA] = omega
    out[_DTM] = dtm
    out[_DLM] = dlm
    out[_PHI] = phi_path_deg
    out[_B0] = b0
    out[_AE] = ae
    out[_HST_FIT] = hst_fit
    out[_HSR_FIT] = hsr_fit
    out[_HST] = hst
    out[_HSR] = hsr
    out[_HSTD] = hstd
    out[_HSRD] = hsrd
    out[_HTS_PRIME] = hts - hstd
    out[_HRS_PRIME] = hrs - hsrd
    out[_HTE] = hte
    out[_HRE] = hre
    out[_HM] = hm
    out[_FI] = f_i
    out[_FJ] = f_j
    out[_FK] = f_k
    out[_LBFS] = lbfs
    out[_LB0P] = lb0p
    out[_LB0B] = lb0b
    out[_LBULLA] = lbulla
    out[_LBULLS] = lbulls
    out[_LDSPH] = ldsph
    out[_LD50] = ld50
    out[_LDB] = ldb
    out[_LDP] = ldp
    out[_LBD50] = lbd50
    out[_LBD] = lbd
    out[_LMINB0P] = lminb0p
    out[_LBA] = lba
    out[_LMINBAP] = lminbap
    out[_LBDA] = lbda
    out[_LBAM] = lbam
    out[_LBS] = lbs
    out[_LBC] = lbc
    out[_LLOC] = lloc
    out[_TRANSHORIZON] = 1.0 if transhorizon else 0.0


# --------------------------------------------------------------------------------------------
# Public wrapper
# --------------------------------------------------------------------------------------------


def path_centre_latitude_deg(lat_tx_deg, lon_tx_deg, lat_rx_deg, lon_rx_deg, dist_km):
    """Latitude (degrees) of the great-circle point ``dist_km`` from Tx towards Rx.

    Rec. ITU-R P.2001 Attachment H on a sphere of 6371 km, as P.1812 uses for the path centre
    (``dist_km`` = half the profile length).
    """
    rad = math.radians
    lat_t, lat_r = rad(lat_tx_deg), rad(lat_rx_deg)
    dlon = rad(lon_rx_deg - lon_tx_deg)
    r = math.sin(lat_t) * math.sin(lat_r) + math.cos(lat_t) * math.cos(lat_r) * math.cos(dlon)
    x1 = math.sin(lat_r) - r * math.sin(lat_t)
    y1 = math.cos(lat_t) * math.cos(lat_r) * math.sin(dlon)
    bearing = math.atan2(y1, x1) if (abs(x1) >= 1e-9 or abs(y1) >= 1e-9) else 0.0
    angle = dist_km / EARTH_RADIUS_KM
    s = math.sin(lat_t) * math.cos(angle) + math.cos(lat_t) * math.sin(angle) * math.cos(bearing)
    return math.degrees(math.asin(max(-1.0, min(1.0, s))))


def _profile_array(name, value, n, problems, *, allow_scalar):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name} must be numbers (one per profile point); received {value!r}.")
        return None
    if arr.ndim == 0 and allow_scalar and n is not None:
        return np.full(n, float(arr))
    if arr.ndim != 1:
        problems.append(
            f"{name} must be a 1-D array with one value per profile point; received an array of "
            f"shape {arr.shape}."
        )
        return None
    if n is not None and arr.size != n:
        problems.append(
            f"{name} has {arr.size} values but d_km has {n}; give one value per profile point."
        )
        return None
    if not np.all(np.isfinite(arr)):
        problems.append(
            f"{name} must be finite; received {int(np.sum(~np.isfinite(arr)))} NaN/inf value(s). "
            "Fill nodata before building the profile."
        )
        return None
    return arr


def _check_range(problems, name, value, lo, hi, unit, why, *, lo_open=False, hi_open=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number in {unit}; received {value!r}.")
        return None
    lo_ok = v > lo if lo_open else v >= lo
    hi_ok = v < hi if hi_open else v <= hi
    if not (math.isfinite(v) and lo_ok and hi_ok):
        if math.isinf(hi):
            span = f"{'>' if lo_open else '>='} {lo:g}"
        else:
            span = f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        problems.append(f"{name} must be {span} {unit} ({why}); received {value!r}.")
        return None
    return v


def p1812_bl(
    f_ghz,
    p_pct,
    d_km,
    h_m,
    r_m,
    zone,
    h_tx_agl_m,
    h_rx_agl_m,
    pol,
    *,
    delta_n,
    n0,
    lat_tx_deg=None,
    lon_tx_deg=None,
    lat_rx_deg=None,
    lon_rx_deg=None,
    lat_path_deg=None,
    pl_pct=50.0,
    sigma_l_db=0.0,
    dct_km=DEFAULT_COAST_DISTANCE_KM,
    dcr_km=DEFAULT_COAST_DISTANCE_KM,
) -> P1812Result:
    """Basic transmission loss of Rec. ITU-R P.1812-6 over a terrain profile, Tx to Rx.

    Parameters
    ----------
    f_ghz
        Frequency in GHz, 0.03-6.
    p_pct
        Time percentage for which the loss is not exceeded, 1-50 %.
    d_km
        Profile distances from the transmitter in km: starts at 0, strictly increasing, at
        least 5 points. The last point is the receiver.
    h_m
        Terrain height above mean sea level at each point, metres (bare earth: the clutter goes
        in ``r_m``).
    r_m
        Representative clutter height above ground at each point, metres, >= 0 (a scalar applies
        to every point). The terminal points' values are not used: P.1812 adds clutter to the
        path only, so the loss of a handset below the canopy comes out of the diffraction; do not
        add a P.2108 terminal correction on top.
    zone
        Radio-climatic zone per point (or one for all): 1 sea, 3 coastal land, 4 inland.
    h_tx_agl_m, h_rx_agl_m
        Antenna heights above ground level, metres, 1-3000.
    pol
        Polarisation, P.1812 codes: 1 horizontal, 2 vertical ("h"/"v" also accepted). ITM codes
        them 0/1; do not pass ITM's code here.
    delta_n
        DN, average radio-refractivity lapse rate through the lowest 1 km, N-units/km, positive
        (about 53 for Paser; the reference code's default is 45).
    n0
        N0, sea-level surface refractivity at the path centre, N-units (about 360 for Paser).
    lat_tx_deg, lon_tx_deg, lat_rx_deg, lon_rx_deg
        Terminal coordinates in degrees (WGS 84); used only for the path-centre latitude.
    lat_path_deg
        Path-centre latitude in degrees, instead of the four coordinates above.
    pl_pct
        Location percentage for which the loss is not exceeded, 1-99 % (default 50).
    sigma_l_db
        Location-variability standard deviation, dB, >= 0 (default 0, i.e. no location
        variability; use either this or a link-budget margin, not both).
    dct_km, dcr_km
        Distance over land from Tx / Rx to the coast along the path, km, >= 0 (default 500).
        Set to 0 automatically when the first / last profile point is at sea.

    Returns
    -------
    P1812Result
        ``lb_db``, ``ep_dbuv_m`` (for 1 kW e.r.p.) and the intermediate values.

    Raises
    ------
    UnitsError
        Listing every input that is out of range, mis-shaped or inconsistent.

    Examples
    --------
    >>> import numpy as np
    >>> d = np.linspace(0.0, 10.0, 101)
    >>> res = p1812_bl(0.9, 50.0, d, np.zeros_like(d), 0.0, 4, 30.0, 1.5, 2,
    ...                delta_n=53.0, n0=360.0, lat_path_deg=-1.85)
    >>> round(res.lb_db, 1)
    127.4
    """
    problems: list[str] = []
    f = _check_range(problems, "f_ghz", f_ghz, 0.03, 6.0, "GHz", "the P.1812 frequency range")
    p = _check_range(problems, "p_pct", p_pct, 1.0, 50.0, "%", "time percentage of P.1812")
    htg = _check_range(problems, "h_tx_agl_m", h_tx_agl_m, 1.0, 3000.0, "m", "above ground")
    hrg = _check_range(problems, "h_rx_agl_m", h_rx_agl_m, 1.0, 3000.0, "m", "above ground")
    pl = _check_range(problems, "pl_pct", pl_pct, 1.0, 99.0, "%", "location percentage")
    sig = _check_range(
        problems, "sigma_l_db", sigma_l_db, 0.0, math.inf, "dB", "a standard deviation"
    )
    dn = _check_range(
        problems, "delta_n", delta_n, 0.0, 157.0, "N-units/km",
        "positive lapse rate, e.g. 53 for Paser", lo_open=True, hi_open=True,
    )  # fmt: skip
    n0_v = _check_range(problems, "n0", n0, 0.0, 500.0, "N-units", "e.g. 360", lo_open=True)
    dct = _check_range(problems, "dct_km", dct_km, 0.0, math.inf, "km", "distance to the coast")
    dcr = _check_range(problems, "dcr_km", dcr_km, 0.0, math.inf, "km", "distance to the coast")

    pol_code = {1: 1, 2: 2, "h": 1, "v": 2, "horizontal": 1, "vertical": 2}.get(
        pol.lower() if isinstance(pol, str) else pol
    )
    if pol_code is None or isinstance(pol, bool):
        problems.append(
            f"pol must be 1 (horizontal) or 2 (vertical), the P.1812 codes; received {pol!r}. "
            "(ITM's codes 0/1 differ.)"
        )

    d = _profile_array("d_km", d_km, None, problems, allow_scalar=False)
    n = None
    if d is not None:
        n = d.size
        if n < 5:
            problems.append(f"d_km must have at least 5 profile points; received {n}.")
        elif d[0] != 0.0:
            problems.append(
                f"d_km must start at 0 (the transmitter); received d_km[0] = {float(d[0])!r}. "
                "Subtract d_km[0] from the distances."
            )
        if n >= 2 and np.any(np.diff(d) <= 0):
            problems.append(
                "d_km must be strictly increasing; received "
                f"{int(np.sum(np.diff(d) <= 0))} non-increasing step(s)."
            )
    h = _profile_array("h_m", h_m, n, problems, allow_scalar=False)
    r = _profile_array("r_m", r_m, n, problems, allow_scalar=True)
    if r is not None and np.any(r < 0):
        problems.append(
            f"r_m (clutter height above ground) must be >= 0 m; received {int(np.sum(r < 0))} "
            f"negative value(s), e.g. {float(r[r < 0][0])!r}."
        )
    z = _profile_array("zone", zone, n, problems, allow_scalar=True)
    if z is not None and not np.all(np.isin(z, VALID_ZONES)):
        bad = np.unique(z[~np.isin(z, VALID_ZONES)])
        problems.append(
            f"zone must hold the P.1812 codes 1 (sea), 3 (coastal land) or 4 (inland); received "
            f"{bad.tolist()}."
        )

    phi = None
    coords = (lat_tx_deg, lon_tx_deg, lat_rx_deg, lon_rx_deg)
    if lat_path_deg is not None:
        if any(c is not None for c in coords):
            problems.append(
                "give either lat_path_deg or the four terminal coordinates, not both; received "
                f"lat_path_deg={lat_path_deg!r} and lat/lon {coords!r}."
            )
        phi = _check_range(problems, "lat_path_deg", lat_path_deg, -80.0, 80.0, "degrees", "P.1812")
    elif all(c is not None for c in coords):
        lats = [
            _check_range(problems, nm, v, -80.0, 80.0, "degrees", "P.1812 latitude range")
            for nm, v in (("lat_tx_deg", lat_tx_deg), ("lat_rx_deg", lat_rx_deg))
        ]
        lons = [
            _check_range(problems, nm, v, -180.0, 360.0, "degrees", "longitude")
            for nm, v in (("lon_tx_deg", lon_tx_deg), ("lon_rx_deg", lon_rx_deg))
        ]
        if None not in lats and None not in lons and d is not None and d.size >= 2:
            phi = path_centre_latitude_deg(lats[0], lons[0], lats[1], lons[1], 0.5 * d[-1])
    else:
        problems.append(
            "the path-centre latitude is needed: pass lat_path_deg, or all of lat_tx_deg, "
            f"lon_tx_deg, lat_rx_deg and lon_rx_deg; received lat/lon {coords!r}."
        )

    if problems:
        raise UnitsError(format_problems("p1812_bl() inputs", problems))

    out = np.empty(N_RESULT_FIELDS, dtype=np.float64)
    _p1812_kernel(
        d, h, r, z.astype(np.int64), f, p, htg, hrg, pol_code, phi, dn, n0_v, dct, dcr, pl, sig,
        out,
    )  # fmt: skip
    values = [float(v) for v in out]
    values[_TRANSHORIZON] = bool(out[_TRANSHORIZON])
    return P1812Result(*values)
