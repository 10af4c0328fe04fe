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
