"""Okumura-Hata and COST-231 Hata median path loss, for sanity checks only.

These are curve fits to measurements in Japanese and European cities. blankspot uses them to
cross-check terrain models and radii, never to draw coverage: in Paser, terrain and canopy set
the radius, and no formula sees them.

Two points where public code often goes wrong, both handled here:

- every logarithm is log10 (not ln);
- the mobile-antenna correction a(h_m) takes the **mobile** height above local ground, not
  the base-station height and not ground AMSL plus mast.

Validity ranges (violations raise :class:`~blankspot.errors.UnitsError`): Hata 150-1500 MHz,
COST-231 1500-2000 MHz; both d 1-20 km, base height 30-200 m, mobile height 1-10 m above
ground. An unknown environment or city size raises :class:`~blankspot.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from blankspot.errors import InputError, Problems, UnitsError, format_problems

HATA_ENVIRONMENTS = ("urban", "suburban", "open")
CITY_SIZES = ("medium", "large")

FloatArray = npt.NDArray[np.float64]


def _check(
    name: str,
    value: object,
    lo: float,
    hi: float,
    unit: str,
    model: str,
    problems: list[str],
) -> FloatArray | None:
    try:
        arr: FloatArray = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(
            f"{name} must be a number or an array of numbers in {unit}; received {value!r}."
        )
        return None
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if np.any(bad):
        shown = (
            value
            if arr.ndim == 0
            else f"{int(bad.sum())} value(s), e.g. {float(arr[bad].flat[0])!r}"
        )
        problems.append(
            f"{name} must be within {lo:g}-{hi:g} {unit} for {model}; received {shown}."
        )
        return None
    return arr


def _choice(name: str, value: object, allowed: Sequence[str], problems: Problems) -> None:
    if value not in allowed:
        problems.add(
            f"{name} must be one of {', '.join(map(repr, allowed))}; received {value!r}.",
            InputError,
        )


def _mobile_correction_db(f_mhz: FloatArray, h_mobile_m: FloatArray, city: str) -> FloatArray:
    """a(h_m) in dB: the mobile-antenna height correction, h_m above local ground."""
    log_f = np.log10(f_mhz)
    if city == "large":
        low = 8.29 * np.log10(1.54 * h_mobile_m) ** 2 - 1.1  # f <= 200 MHz in Hata's paper
        high = 3.2 * np.log10(11.75 * h_mobile_m) ** 2 - 4.97  # f >= 400 MHz
        return np.where(f_mhz < 300.0, low, high)
    return (1.1 * log_f - 0.7) * h_mobile_m - (1.56 * log_f - 0.8)


def _result(arr: FloatArray) -> float | FloatArray:
    return float(arr) if np.ndim(arr) == 0 else arr


def hata_loss_db(
    f_mhz: npt.ArrayLike,
    d_km: npt.ArrayLike,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike,
    *,
    environment: str = "urban",
    city: str = "medium",
) -> float | FloatArray:
    """Okumura-Hata median path loss in dB.

    .. math::
        L_U = 69.55 + 26.16 \\log_{10} f - 13.82 \\log_{10} h_b - a(h_m)
              + (44.9 - 6.55 \\log_{10} h_b) \\log_{10} d

    with a(h_m) = (1.1 log10 f - 0.7) h_m - (1.56 log10 f - 0.8) for a medium city, and
    3.2 (log10 11.75 h_m)² - 4.97 (8.29 (log10 1.54 h_m)² - 1.1 below 300 MHz) for a large
    one. Suburban: L_U - 2 (log10(f/28))² - 5.4. Open: L_U - 4.78 (log10 f)² + 18.33 log10 f
    - 40.94.

    Parameters
    ----------
    f_mhz
        Frequency in MHz, 150-1500.
    d_km
        Distance in km, 1-20.
    h_base_m
        Base-station antenna height above ground, metres, 30-200.
    h_mobile_m
        Mobile antenna height above local ground, metres, 1-10.
    environment
        ``"urban"`` (default), ``"suburban"`` or ``"open"``.
    city
        ``"medium"`` (default; Hata's small/medium city) or ``"large"``, which selects a(h_m).
        The suburban and open corrections apply to the urban loss of the chosen city size.

    Returns
    -------
    float or numpy.ndarray
        Median path loss in dB, broadcast over the numeric inputs.

    Raises
    ------
    UnitsError
        Any input outside its range; all are listed.
    InputError
        An unknown environment or city, listed with any inputs out of range.

    Examples
    --------
    >>> round(hata_loss_db(900.0, 10.0, 30.0, 1.5), 2)
    161.63
    >>> round(hata_loss_db(900.0, 7.4, 32.0, 1.5, environment="open"), 1)
    128.0
    """
    problems = Problems()
    model = "Okumura-Hata"
    f = _check(
        "f_mhz", f_mhz, 150.0, 1500.0, "MHz", model + " (COST-231 covers 1500-2000)", problems
    )
    d = _check("d_km", d_km, 1.0, 20.0, "km", model, problems)
    hb = _check("h_base_m", h_base_m, 30.0, 200.0, "m above ground", model, problems)
    hm = _check("h_mobile_m", h_mobile_m, 1.0, 10.0, "m above local ground", model, problems)
    _choice("environment", environment, HATA_ENVIRONMENTS, problems)
    _choice("city", city, CITY_SIZES, problems)
    if problems:
        error = problems.error_type(UnitsError)
        raise error(format_problems("hata_loss_db() inputs", problems), problems=list(problems))
    assert f is not None and d is not None and hb is not None and hm is not None  # or raised

    log_f = np.log10(f)
    log_hb = np.log10(hb)
    loss = (
        69.55
        + 26.16 * log_f
        - 13.82 * log_hb
        - _mobile_correction_db(f, hm, city)
        + (44.9 - 6.55 * log_hb) * np.log10(d)
    )
    if environment == "suburban":
        loss = loss - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif environment == "open":
        loss = loss - 4.78 * log_f**2 + 18.33 * log_f - 40.94
    return _result(loss)


def cost231_hata_loss_db(
    f_mhz: npt.ArrayLike,
    d_km: npt.ArrayLike,
    h_base_m: npt.ArrayLike,
    h_mobile_m: npt.ArrayLike,
    *,
    city: str = "medium",
) -> float | FloatArray:
    """COST-231 Hata median path loss in dB, 1500-2000 MHz.

    .. math::
        L = 46.3 + 33.9 \\log_{10} f - 13.82 \\log_{10} h_b - a(h_m)
            + (44.9 - 6.55 \\log_{10} h_b) \\log_{10} d + C_m

    with Hata's a(h_m) for the city size, and C_m = 0 dB for medium cities and suburban
    centres, 3 dB for metropolitan centres (``city="large"``).

    Parameters
    ----------
    f_mhz
        Frequency in MHz, 1500-2000.
    d_km
        Distance in km, 1-20.
    h_base_m
        Base-station antenna height above ground, metres, 30-200.
    h_mobile_m
        Mobile antenna height above local ground, metres, 1-10.
    city
        ``"medium"`` (default) or ``"large"`` (metropolitan centre).

    Returns
    -------
    float or numpy.ndarray
        Median path loss in dB, broadcast over the numeric inputs.

    Raises
    ------
    UnitsError
        Any input outside its range; all are listed.
    InputError
        An unknown city size, listed with any inputs out of range.

    Examples
    --------
    >>> round(cost231_hata_loss_db(1800.0, 5.0, 30.0, 1.5), 2)
    160.82
    """
    problems = Problems()
    model = "COST-231 Hata"
    f = _check("f_mhz", f_mhz, 1500.0, 2000.0, "MHz", model + " (Hata covers 150-1500)", problems)
    d = _check("d_km", d_km, 1.0, 20.0, "km", model, problems)
    hb = _check("h_base_m", h_base_m, 30.0, 200.0, "m above ground", model, problems)
    hm = _check("h_mobile_m", h_mobile_m, 1.0, 10.0, "m above local ground", model, problems)
    _choice("city", city, CITY_SIZES, problems)
    if problems:
        error = problems.error_type(UnitsError)
        raise error(
            format_problems("cost231_hata_loss_db() inputs", problems), problems=list(problems)
        )
    assert f is not None and d is not None and hb is not None and hm is not None  # or raised

    log_hb = np.log10(hb)
    c_m = 3.0 if city == "large" else 0.0
    loss = (
        46.3
        + 33.9 * np.log10(f)
        - 13.82 * log_hb
        - _mobile_correction_db(f, hm, city)
        + (44.9 - 6.55 * log_hb) * np.log10(d)
        + c_m
    )
    return _result(loss)
