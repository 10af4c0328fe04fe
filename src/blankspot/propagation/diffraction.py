"""Single knife-edge diffraction after Rec. ITU-R P.526: the parameter ν and the loss J(ν).

Two forms of J(ν) are given:

- :func:`knife_edge_loss_db`, the exact loss from the Fresnel integrals C(ν) and S(ν)
  (P.526 §4.1, Eq. 27),

  .. math:: J(\\nu) = -20 \\log_{10}\\left(
            \\frac{\\sqrt{(1 - C(\\nu) - S(\\nu))^2 + (C(\\nu) - S(\\nu))^2}}{2}\\right)

- :func:`knife_edge_loss_approx_db`, the closed form of P.526 Eq. 31, used by P.1812's
  Bullington construction and by P.2108 §3.1,

  .. math:: J(\\nu) = 6.9 + 20 \\log_{10}\\left(\\sqrt{(\\nu - 0.1)^2 + 1} + \\nu - 0.1\\right)
            \\quad (\\nu > -0.78), \\qquad 0 \\text{ otherwise.}

:func:`fresnel_nu` gives ν for an obstacle ``h_m`` above (positive) or below (negative) the
direct ray at distances ``d1_m`` and ``d2_m`` from the two ends (P.526 Eq. 26).

``_knife_edge_approx_db`` is the scalar numba twin of the closed form, shared by the P.1812 and
P.2108 kernels.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit
from scipy.special import fresnel

from blankspot.errors import UnitsError, format_problems

J_NU_CUTOFF = -0.78
"""Below this ν the closed-form knife-edge loss (P.526 Eq. 31) is taken as 0 dB."""

FloatArray = npt.NDArray[np.float64]


@njit(nogil=True, cache=True)
def _knife_edge_approx_db(nu: float) -> float:
    """Closed-form knife-edge loss J(ν) in dB (P.526 Eq. 31); 0 dB for ν <= -0.78."""
    if nu <= J_NU_CUTOFF:
        return 0.0
    x = nu - 0.1
    return 6.9 + 20.0 * math.log10(math.sqrt(x * x + 1.0) + x)


def _as_float_array(name: str, value: object, problems: list[str]) -> FloatArray | None:
    try:
        arr: FloatArray = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name} must be a number or an array of numbers; received {value!r}.")
        return None
    return arr


def _check_not_infinite(name: str, arr: FloatArray | None, problems: list[str], hint: str) -> None:
    if arr is not None and np.any(np.isinf(arr)):
        bad = arr[np.isinf(arr)]
        problems.append(
            f"{name} must be finite (NaN passes through as NaN); received {bad.size} infinite "
            f"value(s), e.g. {float(bad.flat[0])!r}. {hint}"
        )


def _scalar_or_array(arr: FloatArray) -> float | FloatArray:
    return float(arr) if arr.ndim == 0 else arr


def knife_edge_loss_db(nu: npt.ArrayLike) -> float | FloatArray:
    """Exact single knife-edge diffraction loss J(ν) from the Fresnel integrals (P.526 Eq. 27).

    Parameters
    ----------
    nu
        Dimensionless diffraction parameter ν, scalar or array. NaN gives NaN.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB, ≥ 0 for ν ≥ 0 (it oscillates slightly about 0 dB for ν well below 0).

    Raises
    ------
    UnitsError
        Infinite or non-numeric ν.

    Examples
    --------
    >>> round(knife_edge_loss_db(0.0), 2)
    6.02
    >>> round(knife_edge_loss_db(2.0), 2)
    19.09
    """
    problems: list[str] = []
    arr = _as_float_array("nu", nu, problems)
    _check_not_infinite("nu", arr, problems, "nu is dimensionless; see fresnel_nu().")
    if problems:
        raise UnitsError(format_problems("knife_edge_loss_db() inputs", problems))
    assert arr is not None  # parsed, or raised above
    s, c = fresnel(arr)  # scipy returns (S, C), both with the π t²/2 kernel that P.526 uses
    amplitude = np.sqrt((1.0 - c - s) ** 2 + (c - s) ** 2) / 2.0
    return _scalar_or_array(-20.0 * np.log10(amplitude))


def knife_edge_loss_approx_db(nu: npt.ArrayLike) -> float | FloatArray:
    """Closed-form knife-edge loss J(ν) of P.526 Eq. 31 (0 dB for ν <= -0.78).

    Within 0.13 dB of :func:`knife_edge_loss_db` for -0.7 <= ν <= 5; P.1812's Bullington
    method and P.2108 §3.1 are defined with this form.

    Parameters
    ----------
    nu
        Dimensionless diffraction parameter ν, scalar or array. NaN gives NaN.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB.

    Raises
    ------
    UnitsError
        Infinite or non-numeric ν.

    Examples
    --------
    >>> round(knife_edge_loss_approx_db(0.0), 2)
    6.03
    >>> knife_edge_loss_approx_db(-1.0)
    0.0
    """
    problems: list[str] = []
    arr = _as_float_array("nu", nu, problems)
    _check_not_infinite("nu", arr, problems, "nu is dimensionless; see fresnel_nu().")
    if problems:
        raise UnitsError(format_problems("knife_edge_loss_approx_db() inputs", problems))
    assert arr is not None  # parsed, or raised above
    x = arr - 0.1
    with np.errstate(invalid="ignore"):
        loss = np.where(
            arr > J_NU_CUTOFF,
            6.9 + 20.0 * np.log10(np.sqrt(x * x + 1.0) + x),
            np.where(np.isnan(arr), np.nan, 0.0),
        )
    return _scalar_or_array(loss)


def fresnel_nu(
    h_m: npt.ArrayLike, d1_m: npt.ArrayLike, d2_m: npt.ArrayLike, wavelength_m: npt.ArrayLike
) -> float | FloatArray:
    """Fresnel-Kirchhoff diffraction parameter ν = h·√(2(d1 + d2)/(λ·d1·d2)) (P.526 Eq. 26).

    Parameters
    ----------
    h_m
        Height of the edge above the straight line joining the two ends, metres; negative
        when the edge is below the line (clearance).
    d1_m, d2_m
        Distances from each end to the edge, metres, > 0.
    wavelength_m
        Wavelength in metres, > 0 (0.333 m at 900 MHz: ``SPEED_OF_LIGHT_M_S / 900e6``).

    Returns
    -------
    float or numpy.ndarray
        ν, dimensionless; broadcast over the inputs.

    Raises
    ------
    UnitsError
        Non-finite inputs, or distances or wavelength that are not positive.

    Examples
    --------
    >>> round(fresnel_nu(10.0, 1000.0, 1000.0, 1.0), 4)
    0.6325
    """
    problems: list[str] = []
    h = _as_float_array("h_m", h_m, problems)
    d1 = _as_float_array("d1_m", d1_m, problems)
    d2 = _as_float_array("d2_m", d2_m, problems)
    lam = _as_float_array("wavelength_m", wavelength_m, problems)
    if h is not None and not np.all(np.isfinite(h)):
        problems.append(f"h_m must be finite (metres above the direct ray); received {h_m!r}.")
    for name, arr, raw in (("d1_m", d1, d1_m), ("d2_m", d2, d2_m)):
        if arr is not None and (not np.all(np.isfinite(arr)) or np.any(arr <= 0)):
            problems.append(
                f"{name} must be a finite distance in metres, > 0 (the edge lies between the "
                f"ends); received {raw!r}."
            )
    if lam is not None and (not np.all(np.isfinite(lam)) or np.any(lam <= 0)):
        problems.append(
            f"wavelength_m must be a finite wavelength in metres, > 0 (e.g. 0.333 for 900 MHz); "
            f"received {wavelength_m!r}."
        )
    if problems:
        raise UnitsError(format_problems("fresnel_nu() inputs", problems))
    assert h is not None and d1 is not None and d2 is not None and lam is not None  # or raised
    nu = h * np.sqrt(2.0 * (d1 + d2) / (lam * d1 * d2))
    return _scalar_or_array(np.asarray(nu))
