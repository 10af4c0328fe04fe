"""Propagation models: path loss from geometry and frequency.

Only free space (ITU-R P.525) for now; terrain models (ITM, P.1812) will join it here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from blankspot.errors import UnitsError, format_problems

MIN_DISTANCE_M = 1.0
"""Distances below this (including 0, the site's own cell) are evaluated at 1 m."""


def free_space_loss_db(
    distance_m: npt.ArrayLike, freq_mhz: npt.ArrayLike
) -> float | npt.NDArray[np.float64]:
    """Free-space basic transmission loss, ITU-R P.525.

    ``L = 32.45 + 20 log10(f_MHz) + 20 log10(d_km)``, vectorised over ``distance_m`` (and
    ``freq_mhz`` where it broadcasts).

    Parameters
    ----------
    distance_m
        Path length in metres, >= 0. Values below :data:`MIN_DISTANCE_M` are raised to it so
        the site's own cell gets a finite loss. NaN passes through as NaN ("no path").
    freq_mhz
        Frequency in MHz, finite and > 0.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB (float64), a float for scalar input.

    Raises
    ------
    UnitsError
        Negative or infinite distances, or a non-positive / non-finite frequency.

    Examples
    --------
    >>> round(float(free_space_loss_db(1_000.0, 1_000.0)), 2)
    92.45
    >>> round(float(free_space_loss_db(30_000.0, 900.0)), 2)
    121.08
    """
    d = np.asarray(distance_m, dtype=np.float64)
    f = np.asarray(freq_mhz, dtype=np.float64)
    problems: list[str] = []
    with np.errstate(invalid="ignore"):
        if np.any(d < 0) or np.any(np.isinf(d)):
            bad = d[(d < 0) | np.isinf(d)]
            problems.append(
                f"distance_m must be >= 0 and finite (metres); received {bad.size} bad value(s), "
                f"e.g. {bad.flat[0]!r}. NaN is allowed and means 'no path'."
            )
        if not np.all(np.isfinite(f)) or np.any(f <= 0):
            problems.append(
                f"freq_mhz must be a finite frequency in MHz, > 0 (e.g. 900.0); received "
                f"{freq_mhz!r}."
            )
    if problems:
        raise UnitsError(format_problems("free_space_loss_db() inputs", problems))
    d_km = np.maximum(d, MIN_DISTANCE_M) / 1000.0  # maximum keeps NaN as NaN
    loss = 32.45 + 20.0 * np.log10(f) + 20.0 * np.log10(d_km)
    return float(loss) if loss.ndim == 0 else loss
