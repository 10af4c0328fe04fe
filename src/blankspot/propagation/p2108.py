"""Clutter loss after Rec. ITU-R P.2108 §3.1-3.3.

- :func:`p2108_terminal_correction_db` (§3.1): the height-gain correction for a terminal inside
  clutter, 0.03-3 GHz. It is the canopy add-on for models without clutter (ITM); P.1812 puts
  clutter in its profile instead, so never add this to a P.1812 loss.
- :func:`p2108_terrestrial_statistical_db` (§3.2): statistical loss for terrestrial paths in
  urban and suburban clutter, 0.5-67 GHz, d >= 0.25 km. Not a forest model.
- :func:`p2108_aeronautical_statistical_db` (§3.3): statistical loss for Earth-space and
  aeronautical paths, 10-100 GHz.

The functions follow the NTIA implementation (NTIA/p2108) and reproduce its test data; inputs
outside the Recommendation's ranges raise :class:`~blankspot.errors.UnitsError` naming the
range, an unknown clutter type :class:`~blankspot.errors.InputError`. They broadcast over array inputs and return a float for scalar input.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from blankspot.errors import InputError, Problems, UnitsError, format_problems

DEFAULT_STREET_WIDTH_M = 27.0
"""Street width w_s of §3.1, "27 m unless specific local values are available"."""

CLUTTER_TYPES = ("water_sea", "open_rural", "suburban", "urban", "trees_forest", "dense_urban")
"""§3.1 clutter types, in the order of NTIA's codes 1-6."""

NOMINAL_CLUTTER_HEIGHT_M = {
    "water_sea": 10.0,
    "open_rural": 10.0,
    "suburban": 10.0,
    "urban": 15.0,
    "trees_forest": 15.0,
    "dense_urban": 20.0,
}
"""Default representative clutter height R per type (P.2108 Table 2)."""

_ALIASES = {
    "water": "water_sea",
    "sea": "water_sea",
    "open": "open_rural",
    "rural": "open_rural",
    "trees": "trees_forest",
    "forest": "trees_forest",
}

FloatArray = npt.NDArray[np.float64]
_Check = tuple[str, FloatArray | None, object, Callable[[FloatArray], npt.NDArray[np.bool_]], str]
"""One range check: name, parsed values, raw input, predicate, expected range in words."""


def _clutter_type(value: object, problems: Problems) -> str | None:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if 1 <= int(value) <= len(CLUTTER_TYPES):
            return CLUTTER_TYPES[int(value) - 1]
    elif isinstance(value, str):
        key = value.strip().lower().replace("/", "_").replace("-", "_").replace(" ", "_")
        key = _ALIASES.get(key, key)
        if key in CLUTTER_TYPES:
            return key
    problems.add(
        f"clutter_type must be one of {', '.join(CLUTTER_TYPES)} (or NTIA's codes 1-6 in that "
        f"order); received {value!r}.",
        InputError,
    )
    return None


def _as_array(name: str, value: object, problems: list[str]) -> FloatArray | None:
    try:
        arr: FloatArray = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number or an array of numbers; received {value!r}.")
        return None
    return arr


def _range_problem(
    name: str, arr: FloatArray, raw: object, ok: npt.NDArray[np.bool_], expect: str
) -> str | None:
    """A message for the values of ``arr`` that fail ``ok``, or None."""
    bad = ~ok | ~np.isfinite(arr)
    if not np.any(bad):
        return None
    shown = (
        raw
        if arr.ndim == 0
        else f"{int(bad.sum())} value(s) out of range, e.g. {float(arr[bad].flat[0])!r}"
    )
    return f"{name} must be {expect}; received {shown}."


def _check_ranges(checks: list[_Check], problems: list[str]) -> None:
    """Append to ``problems`` a message for each parsed input that fails its range check."""
    for name, arr, raw, ok, expect in checks:
        if arr is not None:
            msg = _range_problem(name, arr, raw, ok(arr), expect)
            if msg:
                problems.append(msg)


def _result(arr: FloatArray) -> float | FloatArray:
    return float(arr) if np.ndim(arr) == 0 else arr


def _inverse_ccdf(q: npt.ArrayLike) -> FloatArray:
    """Inverse complementary normal CDF Q^-1(q), Abramowitz & Stegun 26.2.23 (as Rec. P.1057)."""
    q = np.asarray(q, dtype=np.float64)
    x = np.where(q > 0.5, 1.0 - q, q)
    t = np.sqrt(-2.0 * np.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515517) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return np.where(q > 0.5, -(t - zeta), t - zeta)


def p2108_terminal_correction_db(
    f_ghz: npt.ArrayLike,
    h_m: npt.ArrayLike,
    *,
    clutter_type: str | int,
    w_s_m: npt.ArrayLike = DEFAULT_STREET_WIDTH_M,
    R_m: npt.ArrayLike | None = None,
) -> float | FloatArray:
    """Height-gain terminal clutter correction A_h of P.2108 §3.1, in dB.

    For a terminal at ``h_m`` below the representative clutter height R: the knife-edge form
    (Eq. 2a, J(ν) - 6.03 with the P.526 closed form) for suburban, urban, trees/forest and
    dense urban, and -K_h2·log10(h/R) (Eq. 2b) for water/sea and open/rural. 0 dB when h >= R.

    Parameters
    ----------
    f_ghz
        Frequency in GHz, 0.03-3.
    h_m
        Antenna height above ground, metres, > 0.
    clutter_type
        One of ``water_sea``, ``open_rural``, ``suburban``, ``urban``, ``trees_forest``,
        ``dense_urban`` (``water``, ``sea``, ``open``, ``rural``, ``trees``, ``forest`` are
        accepted, and NTIA's codes 1-6).
    w_s_m
        Street width, metres, > 0 (default 27).
    R_m
        Representative clutter height, metres, > 0; default the nominal height of the type
        (:data:`NOMINAL_CLUTTER_HEIGHT_M`: 10 m water/sea, open/rural and suburban, 15 m urban
        and trees/forest, 20 m dense urban).

    Returns
    -------
    float or numpy.ndarray
        Clutter loss A_h in dB, broadcast over the numeric inputs.

    Raises
    ------
    UnitsError
        Frequency outside 0.03-3 GHz, non-positive height, street width or clutter height;
        every problem is listed.
    InputError
        An unknown clutter type, listed with any inputs out of range.

    Examples
    --------
    >>> round(p2108_terminal_correction_db(1.5, 2.0, clutter_type="dense_urban", R_m=20.0), 1)
    27.1
    >>> round(p2108_terminal_correction_db(0.9, 1.5, clutter_type="trees_forest", R_m=20.0), 1)
    25.1
    """
    problems = Problems()
    kind = _clutter_type(clutter_type, problems)
    if R_m is None and kind is not None:
        R_m = NOMINAL_CLUTTER_HEIGHT_M[kind]
    f = _as_array("f_ghz", f_ghz, problems)
    h = _as_array("h_m", h_m, problems)
    w = _as_array("w_s_m", w_s_m, problems)
    r = _as_array("R_m", R_m, problems) if R_m is not None else None
    with np.errstate(invalid="ignore"):
        checks: list[_Check] = [
            (
                "f_ghz",
                f,
                f_ghz,
                lambda a: (a >= 0.03) & (a <= 3.0),
                "within 0.03-3 GHz (P.2108 §3.1)",
            ),
            ("h_m", h, h_m, lambda a: a > 0, "an antenna height above ground > 0 m"),
            ("w_s_m", w, w_s_m, lambda a: a > 0, "a street width > 0 m (27 m if unknown)"),
            ("R_m", r, R_m, lambda a: a > 0, "a representative clutter height > 0 m"),
        ]
        _check_ranges(checks, problems)
    if problems:
        error = problems.error_type(UnitsError)
        raise error(
            format_problems("p2108_terminal_correction_db() inputs", problems),
            problems=list(problems),
        )

    # every input parsed (R_m defaults from a known clutter type), or problems raised above
    assert f is not None and h is not None and w is not None and r is not None
    f, h, w, r = np.broadcast_arrays(f, h, w, r)
    h_dif = r - h  # Eq. 2d
    if kind in ("water_sea", "open_rural"):
        k_h2 = 21.8 + 6.2 * np.log10(f)  # Eq. 2f
        loss = -k_h2 * np.log10(h / r)  # Eq. 2b
    else:
        theta_clut_deg = np.degrees(np.arctan(h_dif / w))  # Eq. 2e
        k_nu = 0.342 * np.sqrt(f)  # Eq. 2g
        nu = k_nu * np.sqrt(np.maximum(h_dif, 0.0) * np.maximum(theta_clut_deg, 0.0))  # Eq. 2c
        x = nu - 0.1
        j_nu = np.where(nu > -0.78, 6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x), 0.0)
        loss = j_nu - 6.03  # Eq. 2a
    loss = np.where(h >= r, 0.0, loss)
    return _result(loss)


def p2108_terrestrial_statistical_db(
    f_ghz: npt.ArrayLike, d_km: npt.ArrayLike, p_pct: npt.ArrayLike
) -> float | FloatArray:
    """Statistical clutter loss for terrestrial paths, P.2108 §3.2, in dB.

    L_ctt = -5·log10(10^(-0.2·L_l) + 10^(-0.2·L_s)) - σ_cb·Q^-1(p/100) (Eq. 3), capped at its
    value for 2 km (Eq. 6). Applies at one end of the path; for both ends, add it twice (the
    Recommendation then asks for d >= 1 km).

    Parameters
    ----------
    f_ghz
        Frequency in GHz, 0.5-67.
    d_km
        Path length in km, >= 0.25.
    p_pct
        Percentage of locations, 0 < p < 100.

    Returns
    -------
    float or numpy.ndarray
        Clutter loss in dB, broadcast over the inputs.

    Raises
    ------
    UnitsError
        Any input outside its range; every problem is listed.

    Examples
    --------
    >>> round(p2108_terrestrial_statistical_db(0.5, 0.25, 50.0), 1)
    17.4
    """
    problems: list[str] = []
    f = _as_array("f_ghz", f_ghz, problems)
    d = _as_array("d_km", d_km, problems)
    p = _as_array("p_pct", p_pct, problems)
    with np.errstate(invalid="ignore"):
        checks: list[_Check] = [
            (
                "f_ghz",
                f,
                f_ghz,
                lambda a: (a >= 0.5) & (a <= 67.0),
                "within 0.5-67 GHz (P.2108 §3.2)",
            ),
            ("d_km", d, d_km, lambda a: a >= 0.25, "a path length >= 0.25 km (P.2108 §3.2)"),
            (
                "p_pct",
                p,
                p_pct,
                lambda a: (a > 0) & (a < 100),
                "a percentage of locations in (0, 100) %",
            ),
        ]
        _check_ranges(checks, problems)
    if problems:
        raise UnitsError(format_problems("p2108_terrestrial_statistical_db() inputs", problems))

    assert f is not None and d is not None and p is not None  # parsed, or raised above

    def loss_at(dist_km: FloatArray | float) -> FloatArray:
        l_l = -2.0 * np.log10(10.0 ** (-5.0 * np.log10(f) - 12.5) + 10.0 ** (-16.5))  # Eq. 4a
        l_s = 32.98 + 23.9 * np.log10(dist_km) + 3.0 * np.log10(f)  # Eq. 5a
        w_l = 10.0 ** (-0.2 * l_l)
        w_s = 10.0 ** (-0.2 * l_s)
        sigma_cb = np.sqrt((4.0**2 * w_l + 6.0**2 * w_s) / (w_l + w_s))  # Eq. 3b
        loss: FloatArray = -5.0 * np.log10(w_l + w_s) - sigma_cb * _inverse_ccdf(p / 100.0)  # 3a
        return loss

    return _result(np.minimum(loss_at(d), loss_at(2.0)))  # Eq. 6


def p2108_aeronautical_statistical_db(
    f_ghz: npt.ArrayLike, theta_deg: npt.ArrayLike, p_pct: npt.ArrayLike
) -> float | FloatArray:
    """Statistical clutter loss for Earth-space and aeronautical paths, P.2108 §3.3, in dB.

    L_ces = (-K1·ln(1 - p/100)·cot(A1·(1 - θ/90) + πθ/180))^(0.5·(90 - θ)/90) - 1
    - 0.6·Q^-1(p/100) (Eq. 7), with A1 = 0.05 and K1 = 93·f^0.175.

    Parameters
    ----------
    f_ghz
        Frequency in GHz, 10-100.
    theta_deg
        Elevation angle in degrees, 0-90.
    p_pct
        Percentage of locations, 0 < p < 100.

    Returns
    -------
    float or numpy.ndarray
        Clutter loss in dB, broadcast over the inputs.

    Raises
    ------
    UnitsError
        Any input outside its range; every problem is listed.

    Examples
    --------
    >>> round(p2108_aeronautical_statistical_db(30.0, 2.0, 5.0), 1)
    7.7
    """
    problems: list[str] = []
    f = _as_array("f_ghz", f_ghz, problems)
    t = _as_array("theta_deg", theta_deg, problems)
    p = _as_array("p_pct", p_pct, problems)
    with np.errstate(invalid="ignore"):
        checks: list[_Check] = [
            (
                "f_ghz",
                f,
                f_ghz,
                lambda a: (a >= 10.0) & (a <= 100.0),
                "within 10-100 GHz (P.2108 §3.3)",
            ),
            (
                "theta_deg",
                t,
                theta_deg,
                lambda a: (a >= 0) & (a <= 90),
                "an elevation angle within 0-90 degrees",
            ),
            (
                "p_pct",
                p,
                p_pct,
                lambda a: (a > 0) & (a < 100),
                "a percentage of locations in (0, 100) %",
            ),
        ]
        _check_ranges(checks, problems)
    if problems:
        raise UnitsError(format_problems("p2108_aeronautical_statistical_db() inputs", problems))

    assert f is not None and t is not None and p is not None  # parsed, or raised above
    a1 = 0.05
    k1 = 93.0 * f**0.175
    angle = a1 * (1.0 - t / 90.0) + math.pi * t / 180.0
    base = -k1 * np.log(1.0 - p / 100.0) / np.tan(angle)
    loss = base ** (0.5 * (90.0 - t) / 90.0) - 1.0 - 0.6 * _inverse_ccdf(p / 100.0)
    return _result(loss)
