"""numba kernels of Rec. ITU-R P.1812-6: plain arrays and scalars in, scalars out.

No validation, no Python objects, no warnings: :mod:`blankspot.propagation.p1812` validates the
inputs of one profile and wraps :func:`p1812_kernel`'s output; the radial coverage engine
(:mod:`blankspot.propagation._radial_kernels`) calls the pieces per cell.

- :func:`bullington_db`: Bullington loss of a profile (§4.3.1), real or smooth;
- :func:`spherical_earth_db`: spherical-earth diffraction (§4.3.2-4.3.3);
- :func:`delta_bullington_db`: the combination of §4.3.4;
- :func:`smooth_earth_heights`: Attachment 1 §4-5;
- :func:`line_of_sight_db`, :func:`minimum_los_db`, :func:`troposcatter_db`,
  :func:`interpolation_factors` and :func:`blend_db`: the closed-form steps after the profile
  analysis (Eqs. 8-11, 40-44, 57-63 and the location term), shared by the whole-profile kernel
  and the radial engine;
- :func:`p1812_kernel`: the whole method, writing its results into a float64 array laid out as
  :data:`RESULT_FIELDS`.

Distances are in km (``d_km[0] == 0``, strictly increasing), heights in metres, frequency in GHz,
angles in mrad.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

from blankspot.propagation.diffraction import _knife_edge_approx_db as knife_edge_db
from blankspot.units import EARTH_RADIUS_KM

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

ZONE_SEA = 1
ZONE_COASTAL_LAND = 3
ZONE_INLAND = 4
VALID_ZONES = (ZONE_SEA, ZONE_COASTAL_LAND, ZONE_INLAND)
"""Radio-climatic zone codes of P.1812 Table 2: 1 sea, 3 coastal land, 4 inland."""

POL_HORIZONTAL = 1
POL_VERTICAL = 2
"""P.1812 polarisation codes (1 horizontal, 2 vertical). ITM codes them 0/1: do not mix them."""

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


@njit(nogil=True, cache=True, inline="always")
def bullington_breakpoint_db(
    h_ts: float, h_rs: float, stim: float, srim: float, dtot: float, lam: float
) -> float:
    """P.1812 Eqs. 18-19: knife-edge loss at the Bullington point of a transhorizon path, from
    the steepest slopes seen from the transmitter (``stim``) and receiver (``srim``)."""
    dbp = (h_rs - h_ts + srim * dtot) / (stim + srim)
    nub = (h_ts + stim * dbp - (h_ts * (dtot - dbp) + h_rs * dbp) / dtot) * math.sqrt(
        0.002 * dtot / (lam * dbp * (dtot - dbp))
    )
    return knife_edge_db(nub)


@njit(nogil=True, cache=True, inline="always")
def bullington_total_db(luc: float, dtot: float) -> float:
    """P.1812 Eq. 20: the Bullington diffraction loss from the knife-edge loss ``luc``."""
    return luc + (1.0 - math.exp(-luc / 6.0)) * (10.0 + 0.02 * dtot)


@njit(nogil=True, cache=True)
def inv_cum_norm(x: float) -> float:
    """Approximate inverse complementary cumulative normal I(x), P.1812 Attachment 2."""
    x = min(max(x, 1e-6), 0.999999)
    y = x if x <= 0.5 else 1.0 - x
    t = math.sqrt(-2.0 * math.log(y))
    c = ((0.010328 * t + 0.802853) * t + 2.515516698) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return t - c if x <= 0.5 else c - t


@njit(nogil=True, cache=True)
def bullington_db(
    d_km: F64, g_m: F64, h_ts_m: float, h_rs_m: float, ap_km: float, f_ghz: float, smooth: bool
) -> float:
    """Bullington diffraction loss in dB of a profile (P.1812 §4.3.1, Eqs. 12-21).

    ``g_m`` are the profile heights (terrain + clutter) in metres; with ``smooth`` True they
    are ignored and taken as zero (the smooth profile of §4.3.4). Antenna heights are in metres
    on the same datum, the effective earth radius ``ap_km`` in km, frequency in GHz.
    """
    n = d_km.size
    dtot: float = d_km[n - 1] - d_km[0]
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
        luc: float = knife_edge_db(numax)
    else:  # transhorizon: the Bullington point
        srim = -np.inf
        for i in range(1, n - 1):
            di = d_km[i]
            gi = 0.0 if smooth else g_m[i]
            s = (gi + 500.0 * ce * di * (dtot - di) - h_rs_m) / (dtot - di)
            if s > srim:
                srim = s
        luc = bullington_breakpoint_db(h_ts_m, h_rs_m, stim, srim, dtot, lam)
    return bullington_total_db(luc, dtot)


@njit(nogil=True, cache=True)
def first_term_db(
    eps_r: float, sigma_s_m: float, d_km: float, h_te_m: float, h_re_m: float, adft_km: float,
    f_ghz: float, pol: int,
) -> float:  # fmt: skip
    """First-term spherical-earth diffraction loss for one ground type (Eqs. 29-36)."""
    x18 = 18.0 * sigma_s_m / f_ghz
    k = 0.036 * (adft_km * f_ghz) ** (-1.0 / 3.0) * ((eps_r - 1.0) ** 2 + x18 * x18) ** (-0.25)
    if pol == POL_VERTICAL:
        k = k * math.sqrt(eps_r * eps_r + x18 * x18)
    k2 = k * k
    k4 = k2 * k2
    beta = (1.0 + 1.6 * k2 + 0.67 * k4) / (1.0 + 4.5 * k2 + 1.53 * k4)
    x: float = 21.88 * beta * (f_ghz / (adft_km * adft_km)) ** (1.0 / 3.0) * d_km
    y_factor: float = 0.9575 * beta * (f_ghz * f_ghz / adft_km) ** (1.0 / 3.0)
    fx: float
    if x >= 1.6:
        fx = 11.0 + 10.0 * math.log10(x) - 17.6 * x
    else:
        fx = -20.0 * math.log10(x) - 5.6488 * x**1.425
    g_min = 2.0 + 20.0 * math.log10(k)
    g_sum: float = 0.0
    for h in (h_te_m, h_re_m):
        b = beta * y_factor * h
        if b > 2.0:
            g = 17.6 * math.sqrt(b - 1.1) - 5.0 * math.log10(b - 1.1) - 8.0
        else:
            g = 20.0 * math.log10(b + 0.1 * b**3)
        g_sum += max(g, g_min)
    return -fx - g_sum


@njit(nogil=True, cache=True)
def first_term_mixed_db(
    d_km: float, h_te_m: float, h_re_m: float, adft_km: float, f_ghz: float, omega: float, pol: int
) -> float:
    """First-term loss mixed over land (ε 22, σ 0.003) and sea (ε 80, σ 5) by ω (Eq. 28)."""
    land = first_term_db(22.0, 0.003, d_km, h_te_m, h_re_m, adft_km, f_ghz, pol)
    sea = first_term_db(80.0, 5.0, d_km, h_te_m, h_re_m, adft_km, f_ghz, pol)
    return omega * sea + (1.0 - omega) * land


@njit(nogil=True, cache=True)
def spherical_earth_db(
    d_km: float, h_te_m: float, h_re_m: float, ap_km: float, f_ghz: float, omega: float, pol: int
) -> float:
    """Spherical-earth diffraction loss in dB (P.1812 §4.3.2, Eqs. 22-27).

    Path length in km, antenna heights in metres above the smooth surface, effective earth
    radius in km, frequency in GHz, ω the sea fraction, ``pol`` 1 horizontal or 2 vertical.
    """
    lam = 0.2998 / f_ghz
    dlos = math.sqrt(2.0 * ap_km) * (math.sqrt(0.001 * h_te_m) + math.sqrt(0.001 * h_re_m))
    if d_km >= dlos:
        return first_term_mixed_db(d_km, h_te_m, h_re_m, ap_km, f_ghz, omega, pol)
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
    ldft = max(first_term_mixed_db(d_km, h_te_m, h_re_m, aem, f_ghz, omega, pol), 0.0)
    return (1.0 - hse / hreq) * ldft


@njit(nogil=True, cache=True)
def delta_bullington_db(
    d_km: F64, g_m: F64, h_ts_m: float, h_rs_m: float, h_std_m: float, h_srd_m: float,
    ap_km: float, f_ghz: float, omega: float, pol: int,
) -> tuple[float, float, float, float]:  # fmt: skip
    """Delta-Bullington diffraction loss (P.1812 §4.3.4, Eqs. 37-39).

    Returns ``(l_d, l_bulla, l_bulls, l_dsph)`` in dB: the total, Bullington on the real profile
    ``g_m`` (terrain + clutter, metres AMSL), Bullington on the smooth profile with antennas at
    ``h_ts_m - h_std_m`` and ``h_rs_m - h_srd_m``, and the spherical-earth loss for those heights.
    """
    dtot = d_km[d_km.size - 1] - d_km[0]
    l_bulla = bullington_db(d_km, g_m, h_ts_m, h_rs_m, ap_km, f_ghz, False)
    h_te = h_ts_m - h_std_m
    h_re = h_rs_m - h_srd_m
    l_bulls = bullington_db(d_km, g_m, h_te, h_re, ap_km, f_ghz, True)
    l_dsph = spherical_earth_db(dtot, h_te, h_re, ap_km, f_ghz, omega, pol)
    return l_bulla + max(l_dsph - l_bulls, 0.0), l_bulla, l_bulls, l_dsph


@njit(nogil=True, cache=True)
def smooth_earth_heights(
    d_km: F64, h_m: F64, h_tx_agl_m: float, h_rx_agl_m: float, ae_km: float, f_ghz: float
) -> tuple[
    float, float, float, float, float, float, float, float, float, float, float, float, float,
    float, bool,
]:  # fmt: skip
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
def zone_sections(d_km: F64, zone: I64) -> tuple[float, float, float]:
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
def beta0(phi_deg: float, dtm_km: float, dlm_km: float) -> float:
    """β0 (%), the time percentage of refractivity lapse rates above 100 N/km (Eqs. 2-5)."""
    tau = 1.0 - math.exp(-4.12e-4 * dlm_km**2.41)
    mu1 = (10.0 ** (-dtm_km / (16.0 - 6.6 * tau)) + 10.0 ** (-5.0 * (0.496 + 0.354 * tau))) ** 0.2
    mu1 = min(mu1, 1.0)
    aphi = abs(phi_deg)
    if aphi <= 70.0:
        mu4 = mu1 ** (-0.935 + 0.0176 * aphi)
        b0: float = 10.0 ** (-0.015 * aphi + 1.67) * mu1 * mu4
        return b0
    mu4 = mu1**0.3
    b0 = 4.17 * mu1 * mu4
    return b0


@njit(nogil=True, cache=True)
def anomalous_db(
    dtot: float, dlt: float, dlr: float, dct: float, dcr: float, dlm: float, hts: float,
    hrs: float, hte: float, hre: float, hm: float, theta_t: float, theta_r: float, f: float,
    p: float, omega: float, ae: float, b0: float,
) -> float:  # fmt: skip
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
    lba: float = af + adp
    return lba


# --------------------------------------------------------------------------------------------
# Closed-form steps after the profile analysis, shared with the radial engine
# --------------------------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def line_of_sight_db(
    f_ghz: float, dtot: float, hts: float, hrs: float, dlt: float, dlr: float, p_pct: float,
    b0: float,
) -> tuple[float, float, float]:  # fmt: skip
    """Free space and line of sight with multipath/focusing (§4.2, Eqs. 8-11).

    Returns ``(l_bfs, l_b0p, l_b0b)`` in dB for a path of ``dtot`` km between antenna tops
    ``hts`` and ``hrs`` (m), horizon distances ``dlt`` and ``dlr`` (km).
    """
    lbfs = (
        92.4
        + 20.0 * math.log10(f_ghz)
        + 10.0 * math.log10(dtot * dtot + ((hts - hrs) / 1000.0) ** 2)
    )
    multipath = 2.6 * (1.0 - math.exp(-0.1 * (dlt + dlr)))
    lb0p = lbfs + multipath * math.log10(p_pct / 50.0)
    lb0b = lbfs + multipath * math.log10(b0 / 50.0)
    return lbfs, lb0p, lb0b


@njit(nogil=True, cache=True)
def diffraction_at_p_db(ld50: float, ldb: float, p_pct: float, b0: float) -> float:
    """Diffraction loss at p % from the median and the a_β losses (Eqs. 40-41)."""
    if p_pct == 50.0:
        return ld50
    fi_d = inv_cum_norm(p_pct / 100.0) / inv_cum_norm(b0 / 100.0) if p_pct > b0 else 1.0
    return ld50 + fi_d * (ldb - ld50)


@njit(nogil=True, cache=True)
def minimum_los_db(
    lb0p: float, lb0b: float, ldp: float, lbd50: float, omega: float, p_pct: float, b0: float
) -> tuple[float, float]:
    """Notional minimum loss for line of sight and sea sub-paths (Eq. 59); ``(l_minb0p, f_i)``."""
    f_i = 1.0
    lminb0p = lb0p + (1.0 - omega) * ldp
    if p_pct >= b0:
        f_i = inv_cum_norm(p_pct / 100.0) / inv_cum_norm(b0 / 100.0)
        lminb0p = lbd50 + (lb0b + (1.0 - omega) * ldp - lbd50) * f_i
    return lminb0p, f_i


@njit(nogil=True, cache=True)
def troposcatter_db(f_ghz: float, dtot: float, theta: float, n0: float, p_pct: float) -> float:
    """Troposcatter basic transmission loss L_bs (§4.4, Eq. 44)."""
    lf = 25.0 * math.log10(f_ghz) - 2.5 * math.log10(f_ghz / 2.0) ** 2
    lbs: float = (
        190.1
        + lf
        + 20.0 * math.log10(dtot)
        + 0.573 * theta
        - 0.15 * n0
        - 10.125 * math.log10(50.0 / p_pct) ** 0.7
    )
    return lbs


@njit(nogil=True, cache=True)
def interpolation_factors(theta: float, dtot: float) -> tuple[float, float]:
    """``(f_j, f_k)`` of Eqs. 57-58 for the path angular distance (mrad) and length (km)."""
    f_j = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.8 * (theta - 0.3) / 0.3))
    f_k = 1.0 - 0.5 * (1.0 + math.tanh(3.0 * 0.5 * (dtot - 20.0) / 20.0))
    return f_j, f_k


@njit(nogil=True, cache=True)
def blend_db(
    lb0p: float, lbd: float, lminb0p: float, lba: float, lbs: float, f_j: float, f_k: float,
    rx_zone: int, pl_pct: float, sigma_l_db: float,
) -> tuple[float, float, float, float, float, float]:  # fmt: skip
    """Eqs. 60-63 and the location term: the loss not exceeded for p % time and p_L % locations.

    Returns ``(l_b, l_minbap, l_bda, l_bam, l_bc, l_loc)``; the location term is 0 when the
    receiver's zone ``rx_zone`` is :data:`ZONE_SEA`.
    """
    eta = 2.5
    a = lba / eta
    b = lb0p / eta
    lminbap = eta * (max(a, b) + math.log1p(math.exp(-abs(a - b))))  # Eq. 60, overflow-safe
    lbda = lbd
    if lminbap <= lbd:
        lbda = lminbap + (lbd - lminbap) * f_k
    lbam = lbda + (lminb0p - lbda) * f_j
    lbc = -5.0 * math.log10(10.0 ** (-0.2 * lbs) + 10.0 ** (-0.2 * lbam))  # Eq. 63
    lloc = 0.0
    if rx_zone != ZONE_SEA:
        lloc = -inv_cum_norm(pl_pct / 100.0) * sigma_l_db
    return max(lb0p, lbc + lloc), lminbap, lbda, lbam, lbc, lloc


@njit(nogil=True, cache=True)
def p1812_kernel(
    d_km: F64,
    h_m: F64,
    r_m: F64,
    zone: I64,
    f_ghz: float,
    p_pct: float,
    h_tx_agl_m: float,
    h_rx_agl_m: float,
    pol: int,
    phi_path_deg: float,
    delta_n: float,
    n0: float,
    dct_km: float,
    dcr_km: float,
    pl_pct: float,
    sigma_l_db: float,
    out: F64,
) -> None:
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

    dtm, dlm, omega = zone_sections(d_km, zone)
    b0 = beta0(phi_path_deg, dtm, dlm)
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
    ) = smooth_earth_heights(d_km, h_m, h_tx_agl_m, h_rx_agl_m, ae, f_ghz)

    hts = h_m[0] + h_tx_agl_m
    hrs = h_m[n - 1] + h_rx_agl_m
    g = h_m + r_m  # representative clutter on the path, not at the terminals
    g[0] = h_m[0]
    g[n - 1] = h_m[n - 1]

    # line of sight (§4.2)
    lbfs, lb0p, lb0b = line_of_sight_db(f_ghz, dtot, hts, hrs, dlt, dlr, p_pct, b0)

    # diffraction (§4.3)
    ld50, lbulla, lbulls, ldsph = delta_bullington_db(
        d_km, g, hts, hrs, hstd, hsrd, ae, f_ghz, omega, pol
    )
    ldb = delta_bullington_db(d_km, g, hts, hrs, hstd, hsrd, ab, f_ghz, omega, pol)[0]
    ldp = diffraction_at_p_db(ld50, ldb, p_pct, b0)

    lbd50 = lbfs + ld50
    lbd = lb0p + ldp
    lminb0p, f_i = minimum_los_db(lb0p, lb0b, ldp, lbd50, omega, p_pct, b0)

    # ducting / layer reflection (§4.5), troposcatter (§4.4) and their combination (§4.6-4.8)
    lba = anomalous_db(
        dtot, dlt, dlr, dct_km, dcr_km, dlm, hts, hrs, hte, hre, hm,
        theta_t, theta_r, f_ghz, p_pct, omega, ae, b0,
    )  # fmt: skip
    lbs = troposcatter_db(f_ghz, dtot, theta, n0, p_pct)
    f_j, f_k = interpolation_factors(theta, dtot)
    lb, lminbap, lbda, lbam, lbc, lloc = blend_db(
        lb0p, lbd, lminb0p, lba, lbs, f_j, f_k, zone[n - 1], pl_pct, sigma_l_db
    )
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
