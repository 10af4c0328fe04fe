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

The profile computations are numba kernels of plain arrays in
:mod:`blankspot.propagation._p1812_kernels` (shared with the radial coverage engine); this module
validates one profile's inputs and wraps the kernel's output.

Distances are in km, heights in metres, frequency in GHz, angles in mrad inside the kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from blankspot.errors import UnitsError, format_problems
from blankspot.propagation._p1812_kernels import (
    N_RESULT_FIELDS,
    POL_HORIZONTAL,
    POL_VERTICAL,
    RESULT_FIELDS,
    VALID_ZONES,
    ZONE_COASTAL_LAND,
    ZONE_INLAND,
    ZONE_SEA,
    p1812_kernel,
)
from blankspot.units import EARTH_RADIUS_KM

__all__ = [
    "DEFAULT_COAST_DISTANCE_KM",
    "N_RESULT_FIELDS",
    "POL_HORIZONTAL",
    "POL_VERTICAL",
    "RESULT_FIELDS",
    "VALID_ZONES",
    "ZONE_COASTAL_LAND",
    "ZONE_INLAND",
    "ZONE_SEA",
    "P1812Result",
    "p1812_bl",
    "path_centre_latitude_deg",
]

DEFAULT_COAST_DISTANCE_KM = 500.0
"""Default distance over land from each terminal to the coast (the reference code's value)."""


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
# Public wrapper
# --------------------------------------------------------------------------------------------


def path_centre_latitude_deg(
    lat_tx_deg: float, lon_tx_deg: float, lat_rx_deg: float, lon_rx_deg: float, dist_km: float
) -> float:
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


def _profile_array(
    name: str, value: Any, n: int | None, problems: list[str], *, allow_scalar: bool
) -> npt.NDArray[np.float64] | None:
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


def _check_range(
    problems: list[str], name: str, value: Any, lo: float, hi: float, unit: str, why: str, *,
    lo_open: bool = False, hi_open: bool = False,
) -> float | None:  # fmt: skip
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
    f_ghz: float,
    p_pct: float,
    d_km: npt.ArrayLike,
    h_m: npt.ArrayLike,
    r_m: npt.ArrayLike,
    zone: npt.ArrayLike,
    h_tx_agl_m: float,
    h_rx_agl_m: float,
    pol: int | str,
    *,
    delta_n: float,
    n0: float,
    lat_tx_deg: float | None = None,
    lon_tx_deg: float | None = None,
    lat_rx_deg: float | None = None,
    lon_rx_deg: float | None = None,
    lat_path_deg: float | None = None,
    pl_pct: float = 50.0,
    sigma_l_db: float = 0.0,
    dct_km: float = DEFAULT_COAST_DISTANCE_KM,
    dcr_km: float = DEFAULT_COAST_DISTANCE_KM,
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
        lat_t, lat_r = lats
        lon_t, lon_r = lons
        if (
            lat_t is not None and lat_r is not None and lon_t is not None and lon_r is not None
            and d is not None and d.size >= 2
        ):  # fmt: skip
            phi = path_centre_latitude_deg(lat_t, lon_t, lat_r, lon_r, 0.5 * float(d[-1]))
    else:
        problems.append(
            "the path-centre latitude is needed: pass lat_path_deg, or all of lat_tx_deg, "
            f"lon_tx_deg, lat_rx_deg and lon_rx_deg; received lat/lon {coords!r}."
        )

    if problems:
        raise UnitsError(format_problems("p1812_bl() inputs", problems))
    # without problems every input above was checked and set
    assert d is not None and h is not None and r is not None and z is not None
    assert f is not None and p is not None and htg is not None and hrg is not None
    assert pol_code is not None and phi is not None and dn is not None and n0_v is not None
    assert dct is not None and dcr is not None and pl is not None and sig is not None

    out = np.empty(N_RESULT_FIELDS, dtype=np.float64)
    p1812_kernel(
        d, h, r, z.astype(np.int64), f, p, htg, hrg, pol_code, phi, dn, n0_v, dct, dcr, pl, sig,
        out,
    )  # fmt: skip
    values: list[Any] = [float(v) for v in out]
    values[-1] = bool(out[-1])  # transhorizon, the last field
    return P1812Result(*values)
