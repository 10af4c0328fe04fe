"""Unit conversions and physical constants. Names carry their units."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blankspot.errors import UnitsError

SPEED_OF_LIGHT_M_S = 299_792_458.0
EARTH_RADIUS_M = 6_371_000.0
"""Mean earth radius (ITU-R P.1812 Eq. 7, P.2001 Attachment H, the k-factor radius)."""
EARTH_RADIUS_KM = EARTH_RADIUS_M / 1000.0
"""The same radius in kilometres, for the kernels that work in km."""
DEFAULT_K_FACTOR = 1.51
"""Effective-earth-radius factor for Paser (P.453 ΔN = −53 N/km gives k ≈ 1.51).

4/3 is the textbook standard atmosphere; pass ``k_factor=4/3`` to compare with SPLAT!/GDAL."""

FloatOrArray = np.float64 | npt.NDArray[np.float64]
"""What the conversions return: a numpy float for scalar input, else an array."""


def format_idr(amount_idr: int) -> str:
    """Rupiah with Indonesian thousands separators.

    >>> format_idr(1_700_000_000)
    'Rp 1.700.000.000'
    """
    return "Rp " + f"{int(amount_idr):,}".replace(",", ".")


def effective_earth_radius_m(k_factor: float) -> float:
    """Effective earth radius a_e = k · 6371 km, in metres."""
    if not np.isfinite(k_factor) or k_factor <= 0:
        raise UnitsError(
            f"k_factor must be a positive number (effective earth radius factor, e.g. 1.51 for "
            f"Paser or 4/3 for the standard atmosphere); received {k_factor!r}."
        )
    return k_factor * EARTH_RADIUS_M


def db_to_linear(value_db: npt.ArrayLike) -> FloatOrArray:
    """Power ratio from decibels."""
    return 10.0 ** (np.asarray(value_db) / 10.0)


def linear_to_db(ratio: npt.ArrayLike) -> FloatOrArray:
    """Decibels from a power ratio."""
    out: FloatOrArray = 10.0 * np.log10(np.asarray(ratio))
    return out


def watt_to_dbm(power_w: npt.ArrayLike) -> FloatOrArray:
    """dBm from watts (1 W = 30 dBm)."""
    out: FloatOrArray = 10.0 * np.log10(np.asarray(power_w)) + 30.0
    return out


def dbm_to_watt(power_dbm: npt.ArrayLike) -> FloatOrArray:
    """Watts from dBm."""
    return 10.0 ** ((np.asarray(power_dbm) - 30.0) / 10.0)


def wavelength_m(freq_mhz: float) -> float:
    """Free-space wavelength in metres for a frequency in MHz."""
    return SPEED_OF_LIGHT_M_S / (freq_mhz * 1e6)
