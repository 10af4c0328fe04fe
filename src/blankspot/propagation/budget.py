"""The LTE downlink link budget: from path loss to RSRP and coverage.

Path loss comes from a propagation model; everything here is the arithmetic around it, so a new
threshold or margin needs no new propagation run. Defaults are the rural LTE 900 MHz values of
the planning parameters (section 2): 46 dBm per port in 10 MHz, 17 dBi antenna, 2 dB feeder,
0 dBi UE with 3 dB body loss, 7 dB location margin (1.2816 * sigma_L, sigma_L = 5.5 dB, 90 % of
locations) and an outdoor threshold of -105 dBm RSRP.

.. math::

    \\mathrm{EIRP_{RE}} = P_\\mathrm{port} - 10\\log_{10}(12 N_\\mathrm{RB}) + G_\\mathrm{tx}
        - L_\\mathrm{feeder}

    \\mathrm{RSRP} = \\mathrm{EIRP_{RE}} + G_\\mathrm{rx} - L_\\mathrm{body} - L_\\mathrm{path}

    \\mathrm{MAPL} = \\mathrm{EIRP_{RE}} + G_\\mathrm{rx} - L_\\mathrm{body} - M_\\mathrm{loc}
        - \\mathrm{RSRP_{thr}}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from dataclasses import replace as _replace

import numpy as np
import numpy.typing as npt

from blankspot.errors import UnitsError, format_problems

__all__ = [
    "DEFAULT_SIGMA_L_DB",
    "N_RB_BY_BANDWIDTH_MHZ",
    "SUBCARRIERS_PER_RB",
    "LinkBudget",
    "coverage_probability",
]

DEFAULT_SIGMA_L_DB = 5.5
"""σ_L, the location variability (dB) of the median field over a small area.

ITU-R P.1546-6, §12 (location variability in land area-coverage prediction): 5.5 dB for
digital systems with a bandwidth of 1 MHz or more, which a 10 MHz LTE carrier is. It is the
value behind :class:`LinkBudget`'s default 7 dB location margin (1.2816 · 5.5 dB, 90 % of
locations), so a probability computed with it agrees with the hard cut at the margin. Forested
or hilly terrain often shows more (8 dB and above in Okumura–Hata style measurements); pass a
calibrated σ_L (``blankspot.calibration`` estimates one from drive tests) where it is known.
"""

N_RB_BY_BANDWIDTH_MHZ = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}
"""Resource blocks per LTE channel bandwidth (3GPP TS 36.101 Table 5.6-1)."""

SUBCARRIERS_PER_RB = 12


def _n_rb(bandwidth_mhz: float) -> int | None:
    for bw, n in N_RB_BY_BANDWIDTH_MHZ.items():
        if math.isclose(bandwidth_mhz, bw, rel_tol=0.0, abs_tol=1e-9):
            return n
    return None


@dataclass(frozen=True)
class LinkBudget:
    """LTE downlink budget for one band (all powers per resource element).

    Attributes
    ----------
    freq_mhz:
        Carrier frequency, 30-6000 MHz.
    tx_power_dbm:
        Transmit power per antenna port over the whole channel.
    bandwidth_mhz:
        LTE channel bandwidth: 1.4, 3, 5, 10, 15 or 20 MHz.
    tx_gain_dbi, feeder_loss_db:
        Base-station antenna gain and feeder/jumper loss.
    rx_gain_dbi, body_loss_db:
        UE antenna gain and body loss.
    location_margin_db:
        Margin for location variability (1.2816 * sigma_L for 90 % of locations).
    threshold_dbm:
        RSRP a location needs (after the margin) to count as covered.

    Examples
    --------
    >>> b = LinkBudget()
    >>> round(b.eirp_re_dbm, 1), round(b.max_path_loss_db, 1)
    (33.2, 128.2)
    >>> round(b.replace(threshold_dbm=-110.0).max_path_loss_db, 1)
    133.2
    """

    freq_mhz: float = 900.0
    tx_power_dbm: float = 46.0
    bandwidth_mhz: float = 10.0
    tx_gain_dbi: float = 17.0
    feeder_loss_db: float = 2.0
    rx_gain_dbi: float = 0.0
    body_loss_db: float = 3.0
    location_margin_db: float = 7.0
    threshold_dbm: float = -105.0

    def __post_init__(self) -> None:
        problems: list[str] = []
        for f in fields(self):
            value = getattr(self, f.name)
            try:
                ok = math.isfinite(float(value))
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problems.append(f"{f.name} must be a finite number; received {value!r}.")
            else:
                object.__setattr__(self, f.name, float(value))
        bad = {p.split(" ", 1)[0] for p in problems}
        if "freq_mhz" not in bad and not 30.0 <= self.freq_mhz <= 6000.0:
            problems.append(
                f"freq_mhz must be within 30-6000 MHz (e.g. 900.0 for LTE band 8); received "
                f"{self.freq_mhz!r}. Is it in Hz or GHz?"
            )
        if "bandwidth_mhz" not in bad and _n_rb(self.bandwidth_mhz) is None:
            problems.append(
                f"bandwidth_mhz must be an LTE channel bandwidth, one of "
                f"{', '.join(f'{b:g}' for b in N_RB_BY_BANDWIDTH_MHZ)} MHz; received "
                f"{self.bandwidth_mhz!r}."
            )
        for name in ("feeder_loss_db", "body_loss_db", "location_margin_db"):
            if name not in bad and getattr(self, name) < 0:
                problems.append(
                    f"{name} is a loss or margin in dB and must be >= 0; received "
                    f"{getattr(self, name)!r}. Put gains in the *_gain_dbi fields."
                )
        if problems:
            raise UnitsError(format_problems("LinkBudget", problems))

    @property
    def n_rb(self) -> int:
        """Number of LTE resource blocks in the channel."""
        n = _n_rb(self.bandwidth_mhz)
        assert n is not None  # __post_init__ accepts only the bandwidths in the table
        return n

    @property
    def eirp_re_dbm(self) -> float:
        """EIRP per resource element, dBm: port power spread over 12 * N_RB subcarriers."""
        return (
            self.tx_power_dbm
            - 10.0 * math.log10(SUBCARRIERS_PER_RB * self.n_rb)
            + self.tx_gain_dbi
            - self.feeder_loss_db
        )

    @property
    def max_path_loss_db(self) -> float:
        """Maximum allowable path loss (MAPL) in dB for a location to be covered."""
        return (
            self.eirp_re_dbm
            + self.rx_gain_dbi
            - self.body_loss_db
            - self.location_margin_db
            - self.threshold_dbm
        )

    def rsrp_dbm(self, path_loss_db: npt.ArrayLike) -> float | npt.NDArray[np.float64]:
        """Median RSRP in dBm (no location margin) for a path loss in dB; NaN stays NaN."""
        value = self.eirp_re_dbm + self.rx_gain_dbi - self.body_loss_db - np.asarray(path_loss_db)
        return float(value) if np.ndim(value) == 0 else value

    def covered(self, path_loss_db: npt.ArrayLike) -> bool | npt.NDArray[np.bool_]:
        """True where ``path_loss_db <= max_path_loss_db`` (RSRP - margin >= threshold).

        NaN path loss (no signal) is never covered.
        """
        value = np.asarray(path_loss_db) <= self.max_path_loss_db
        return bool(value) if np.ndim(value) == 0 else value

    def replace(self, **changes: float) -> LinkBudget:
        """A copy with some fields changed, validated again."""
        return _replace(self, **changes)


def coverage_probability(
    rsrp_dbm: npt.ArrayLike,
    threshold_dbm: float = -105.0,
    sigma_l_db: float = DEFAULT_SIGMA_L_DB,
) -> float | npt.NDArray[np.float64]:
    """Probability that RSRP at a location reaches ``threshold_dbm``, under log-normal
    location variability.

    .. math::

        p = Q\\left(\\frac{T - \\mathrm{RSRP}}{\\sigma_L}\\right)
          = \\tfrac12 \\operatorname{erfc}\\left(\\frac{T - \\mathrm{RSRP}}{\\sigma_L \\sqrt 2}\\right)

    ``rsrp_dbm`` is the *median* RSRP (:meth:`LinkBudget.rsrp_dbm`, no location margin: the
    probability replaces the margin). NaN (no signal) gives probability 0.

    Parameters
    ----------
    rsrp_dbm
        median RSRP, dBm (scalar or array).
    threshold_dbm
        RSRP a location needs, dBm; -105 dBm by default (as :class:`LinkBudget`).
    sigma_l_db
        location variability σ_L in dB, > 0; default :data:`DEFAULT_SIGMA_L_DB` (5.5 dB,
        ITU-R P.1546-6 §12 for digital systems of 1 MHz bandwidth or more).

    Raises
    ------
    UnitsError
        ``sigma_l_db`` or ``threshold_dbm`` not finite, or ``sigma_l_db`` ≤ 0.

    Examples
    --------
    >>> coverage_probability(-105.0)
    0.5
    >>> round(coverage_probability(-105.0 + 1.2816 * 5.5), 3)
    0.9
    >>> coverage_probability([float("nan")]).tolist()
    [0.0]
    """
    problems: list[str] = []
    if not (isinstance(sigma_l_db, int | float) and math.isfinite(sigma_l_db) and sigma_l_db > 0):
        problems.append(f"sigma_l_db must be a finite number of dB > 0; received {sigma_l_db!r}.")
    if not (isinstance(threshold_dbm, int | float) and math.isfinite(threshold_dbm)):
        problems.append(f"threshold_dbm must be a finite number of dBm; received {threshold_dbm!r}.")
    if problems:
        raise UnitsError(format_problems("coverage_probability", problems))
    r = np.asarray(rsrp_dbm, dtype=np.float64)
    z = (float(threshold_dbm) - r) / (float(sigma_l_db) * math.sqrt(2.0))
    p = 0.5 * _erfc(np.where(np.isnan(z), np.inf, z))
    return float(p) if np.ndim(p) == 0 else p


def _erfc(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The complementary error function, elementwise (scipy's, exact in the tails)."""
    from scipy.special import erfc

    out: npt.NDArray[np.float64] = np.asarray(erfc(x), dtype=np.float64)
    return out
