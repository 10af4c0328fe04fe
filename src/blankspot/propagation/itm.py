"""The Irregular Terrain Model (ITM, Longley-Rice), point-to-point and area mode.

Semantics follow NTIA's ITM v1.4 (github.com/NTIA/itm): the same inputs, the same warning bits,
the same intermediate values, and results that match NTIA's published test vectors to the
decimals they print. The four entry points mirror NTIA's ``ITM_P2P_TLS``, ``ITM_P2P_CR``,
``ITM_AREA_TLS`` and ``ITM_AREA_CR``, with units in the argument names:

- :func:`p2p_tls` / :func:`p2p_cr`: a terrain profile in PFL form (see :func:`make_pfl`);
- :func:`area_tls` / :func:`area_cr`: a distance and a terrain irregularity Δh instead.

``*_tls`` take time, location and situation percentages; ``*_cr`` take confidence and
reliability (reliability is the time percentage, confidence the situation percentage and
location is fixed at 50 %).

Inputs outside the model's domain raise :class:`~blankspot.errors.UnitsError` listing every
problem at once. Conditions the model tolerates but flags (a path under 1 km, a terminal below
1 m, large horizon angles, ...) are returned as NTIA's bit flags in :attr:`ItmResult.warnings`;
:attr:`ItmResult.warning_flags` names them.

ITM is not reciprocal: always run transmitter (the site) to receiver. ``mode`` is defined against
the smooth-earth horizon distances and is not a terrain line-of-sight flag.

For bulk work (one call per pixel), call the numba kernels in
``blankspot.propagation._itm_kernels`` directly: ``quick_pfl`` for the profile statistics and
``itm_core`` for the loss from them, both ``nogil``.
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

import blankspot.propagation._itm_kernels as _k
from blankspot.errors import UnitsError, raise_if_problems

__all__ = [
    "PASER_DEFAULTS",
    "Climate",
    "ItmMode",
    "ItmResult",
    "ItmWarning",
    "Polarization",
    "SitingCriteria",
    "area_cr",
    "area_tls",
    "make_pfl",
    "p2p_cr",
    "p2p_tls",
]


class Climate(enum.IntEnum):
    """ITM radio climate codes."""

    EQUATORIAL = 1
    CONTINENTAL_SUBTROPICAL = 2
    MARITIME_SUBTROPICAL = 3
    DESERT = 4
    CONTINENTAL_TEMPERATE = 5
    MARITIME_TEMPERATE_OVER_LAND = 6
    MARITIME_TEMPERATE_OVER_SEA = 7


class Polarization(enum.IntEnum):
    """ITM polarisation codes (not P.1812's, which are 1 horizontal / 2 vertical)."""

    HORIZONTAL = 0
    VERTICAL = 1


class SitingCriteria(enum.IntEnum):
    """Area-mode terminal siting criteria."""

    RANDOM = 0
    CAREFUL = 1
    VERY_CAREFUL = 2


class ItmMode(enum.IntEnum):
    """Propagation mode, relative to the smooth-earth horizon distances."""

    LINE_OF_SIGHT = _k.MODE_LINE_OF_SIGHT
    DIFFRACTION = _k.MODE_DIFFRACTION
    TROPOSCATTER = _k.MODE_TROPOSCATTER


class ItmWarning(enum.IntFlag):
    """NTIA ITM warning bits; the result is still returned when any is set."""

    TX_TERMINAL_HEIGHT = _k.WARN_TX_TERMINAL_HEIGHT
    """Transmitter height outside 1-1000 m (allowed down to 0.5 and up to 3000 m)."""
    RX_TERMINAL_HEIGHT = _k.WARN_RX_TERMINAL_HEIGHT
    """Receiver height outside 1-1000 m (allowed down to 0.5 and up to 3000 m)."""
    FREQUENCY = _k.WARN_FREQUENCY
    """Frequency outside 40-10000 MHz (allowed from 20 to 20000 MHz)."""
    PATH_DISTANCE_TOO_BIG_1 = _k.WARN_PATH_DISTANCE_TOO_BIG_1
    """Path longer than 1000 km."""
    PATH_DISTANCE_TOO_BIG_2 = _k.WARN_PATH_DISTANCE_TOO_BIG_2
    """Path longer than 2000 km; take care with the result."""
    PATH_DISTANCE_TOO_SMALL_1 = _k.WARN_PATH_DISTANCE_TOO_SMALL_1
    """Path shorter than |h_e,tx - h_e,rx| / 0.2 (steep path)."""
    PATH_DISTANCE_TOO_SMALL_2 = _k.WARN_PATH_DISTANCE_TOO_SMALL_2
    """Path shorter than 1 km (normal next to the mast); take care with the result."""
    TX_HORIZON_ANGLE = _k.WARN_TX_HORIZON_ANGLE
    """Transmitter horizon angle above 200 mrad; small-angle approximations may break down."""
    RX_HORIZON_ANGLE = _k.WARN_RX_HORIZON_ANGLE
    """Receiver horizon angle above 200 mrad; small-angle approximations may break down."""
    TX_HORIZON_DISTANCE_1 = _k.WARN_TX_HORIZON_DISTANCE_1
    """Transmitter horizon closer than 1/10 of its smooth-earth horizon distance."""
    RX_HORIZON_DISTANCE_1 = _k.WARN_RX_HORIZON_DISTANCE_1
    """Receiver horizon closer than 1/10 of its smooth-earth horizon distance."""
    TX_HORIZON_DISTANCE_2 = _k.WARN_TX_HORIZON_DISTANCE_2
    """Transmitter horizon farther than 3 times its smooth-earth horizon distance."""
    RX_HORIZON_DISTANCE_2 = _k.WARN_RX_HORIZON_DISTANCE_2
    """Receiver horizon farther than 3 times its smooth-earth horizon distance."""
    EXTREME_VARIABILITIES = _k.WARN_EXTREME_VARIABILITIES
    """A requested percentage lies far in its distribution's tail (|z| > 3.1)."""
    SURFACE_REFRACTIVITY = _k.WARN_SURFACE_REFRACTIVITY
    """Surface refractivity N_s below 250 N-units (a high path); take care with the result."""


PASER_DEFAULTS: MappingProxyType[str, Any] = MappingProxyType(
    {
        "climate": Climate.EQUATORIAL,
        "n0": 360.0,
        "pol": Polarization.VERTICAL,
        "epsilon": 15.0,
        "sigma": 0.005,
    }
)
"""Climate and ground for Kabupaten Paser: equatorial climate, N_0 = 360 N-units, vertical
polarisation, farmland/forest ground (relative permittivity 15, conductivity 0.005 S/m).
Pass as keywords: ``p2p_tls(..., **PASER_DEFAULTS, ...)``."""


@dataclass(frozen=True, slots=True)
class ItmResult:
    """Basic transmission loss and NTIA's intermediate values for one ITM run.

    Pairs are ``(transmitter, receiver)``.

    Attributes
    ----------
    loss_db
        Basic transmission loss A, dB.
    warnings
        NTIA warning bit flags (0 for none); see :class:`ItmWarning`.
    mode
        Propagation mode: 1 line of sight, 2 diffraction, 3 troposcatter (:class:`ItmMode`),
        defined against the smooth-earth horizons, not terrain line of sight.
    theta_hzn
        Horizon elevation angles, radians.
    d_hzn_m
        Horizon distances, metres.
    h_e_m
        Effective terminal heights, metres.
    n_s
        Surface refractivity, N-units.
    delta_h_m
        Terrain irregularity parameter Δh, metres.
    a_ref_db
        Reference attenuation (median loss relative to free space), dB.
    a_fs_db
        Free-space basic transmission loss, dB.
    d_km
        Path distance, km.
    """

    loss_db: float
    warnings: int
    mode: ItmMode
    theta_hzn: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    n_s: float
    delta_h_m: float
    a_ref_db: float
    a_fs_db: float
    d_km: float

    @property
    def warning_flags(self) -> ItmWarning:
        """:attr:`warnings` as named flags (iterate it to list the ones set)."""
        return ItmWarning(self.warnings)


def make_pfl(heights_m: Any, spacing_m: float) -> np.ndarray:
    """Build NTIA's PFL array ``[n_intervals, spacing_m, h_0, ..., h_n]`` from heights.

    Parameters
    ----------
    heights_m
        Terrain heights above mean sea level along the path, metres, transmitter first; at
        least two points, all finite.
    spacing_m
        Distance between consecutive heights, metres, > 0.

    Returns
    -------
    numpy.ndarray
        float64 array of length ``len(heights_m) + 2``.

    Raises
    ------
    UnitsError
        Too few or non-finite heights, or a non-positive spacing.

    Examples
    --------
    >>> make_pfl([10.0, 12.0, 11.0], 30.0).tolist()
    [2.0, 30.0, 10.0, 12.0, 11.0]
    """
    problems: list[str] = []
    try:
        h = np.asarray(heights_m, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UnitsError(
            f"make_pfl(): heights_m must be numbers (metres above sea level); could not read "
            f"them as floats ({exc}). Pass a 1-D sequence or array of heights."
        ) from None
    if h.ndim != 1 or h.size < 2:
        problems.append(
            f"heights_m must be a 1-D sequence of at least 2 heights; received shape {h.shape}."
        )
    else:
        problems += _nonfinite_height_problems(h, offset=0)
    spacing_problem = _finite_problem("spacing_m", spacing_m, "m")
    if spacing_problem:
        problems.append(spacing_problem)
    elif float(spacing_m) <= 0.0:
        problems.append(
            f"spacing_m must be > 0 m (the distance between heights); received {spacing_m!r}."
        )
    raise_if_problems("make_pfl()", problems, UnitsError)
    pfl = np.empty(h.size + 2)
    pfl[0] = h.size - 1
    pfl[1] = float(spacing_m)
    pfl[2:] = h
    return pfl


# =================================================================================================
# Public entry points
# =================================================================================================


def p2p_tls(
    h_tx_m: float,
    h_rx_m: float,
    pfl: Any,
    climate: int,
    n0: float,
    f_mhz: float,
    pol: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
) -> ItmResult:
    """ITM point-to-point loss with time/location/situation variability (NTIA ``ITM_P2P_TLS``).

    Parameters
    ----------
    h_tx_m, h_rx_m
        Structural heights of the transmitter and receiver above ground, metres, 0.5-3000
        (a warning bit is set outside 1-1000).
    pfl
        Terrain profile in PFL form ``[n_intervals, spacing_m, h_0, ..., h_n]``, heights above
        mean sea level in metres, transmitter at ``h_0``; see :func:`make_pfl`.
    climate
        Radio climate 1-7 (:class:`Climate`); 1 equatorial for Paser.
    n0
        Sea-level surface refractivity N_0, N-units, 250-400.
    f_mhz
        Frequency, MHz, 20-20000 (a warning bit is set outside 40-10000).
    pol
        Polarisation, 0 horizontal or 1 vertical (:class:`Polarization`).
    epsilon
        Relative permittivity of the ground, >= 1 (15 for farmland and forest).
    sigma
        Ground conductivity, S/m, > 0 (0.005 for farmland and forest).
    mdvar
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast; add 10 to
        drop location variability and 20 to drop direct situation variability (0-3, 10-13,
        20-23, 30-33).
    time_pct, location_pct, situation_pct
        Percentages, strictly between 0 and 100.

    Returns
    -------
    ItmResult

    Raises
    ------
    UnitsError
        Any input outside ITM's domain, all listed at once; a NaN or infinite profile height
        (the message names its index); or a path too high for ITM's refractivity model.

    Examples
    --------
    >>> pfl = make_pfl([100.0] * 101, 30.0)
    >>> r = p2p_tls(30.0, 1.5, pfl, 1, 360.0, 900.0, 1, 15.0, 0.005, 12, 50.0, 50.0, 50.0)
    >>> r.mode, round(r.d_km, 3)
    (<ItmMode.LINE_OF_SIGHT: 1>, 3.0)
    """
    values = _ScalarInputs.validate(
        "p2p_tls()",
        h_tx_m, h_rx_m, climate, n0, f_mhz, pol, epsilon, sigma, mdvar,
        (("time_pct", time_pct), ("location_pct", location_pct), ("situation_pct", situation_pct)),
        pfl=pfl,
    )  # fmt: skip
    return _run_p2p("p2p_tls()", values)


def p2p_cr(
    h_tx_m: float,
    h_rx_m: float,
    pfl: Any,
    climate: int,
    n0: float,
    f_mhz: float,
    pol: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    confidence_pct: float,
    reliability_pct: float,
) -> ItmResult:
    """ITM point-to-point loss with confidence/reliability variability (NTIA ``ITM_P2P_CR``).

    ``reliability_pct`` is used as the time percentage, ``confidence_pct`` as the situation
    percentage, and location is fixed at 50 %. Both must be strictly between 0 and 100. The
    other parameters, the result and the errors are as for :func:`p2p_tls`.

    Examples
    --------
    >>> pfl = make_pfl([100.0] * 101, 30.0)
    >>> r = p2p_cr(30.0, 1.5, pfl, 1, 360.0, 900.0, 1, 15.0, 0.005, 1, 50.0, 50.0)
    >>> r.warnings
    0
    """
    values = _ScalarInputs.validate(
        "p2p_cr()",
        h_tx_m, h_rx_m, climate, n0, f_mhz, pol, epsilon, sigma, mdvar,
        (("reliability_pct", reliability_pct), (None, 50.0), ("confidence_pct", confidence_pct)),
        pfl=pfl,
    )  # fmt: skip
    return _run_p2p("p2p_cr()", values)


def area_tls(
    h_tx_m: float,
    h_rx_m: float,
    tx_siting_criteria: int,
    rx_siting_criteria: int,
    d_km: float,
    delta_h_m: float,
    climate: int,
    n0: float,
    f_mhz: float,
    pol: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    time_pct: float,
    location_pct: float,
    situation_pct: float,
) -> ItmResult:
    """ITM area-mode loss with time/location/situation variability (NTIA ``ITM_AREA_TLS``).

    Parameters
    ----------
    h_tx_m, h_rx_m
        Structural heights above ground, metres, 0.5-3000 (warning outside 1-1000).
    tx_siting_criteria, rx_siting_criteria
        0 random, 1 careful, 2 very careful (:class:`SitingCriteria`).
    d_km
        Path distance, km, > 0.
    delta_h_m
        Terrain irregularity parameter Δh, metres, >= 0 (about 90 for rolling plains, 0 over
        water).
    climate, n0, f_mhz, pol, epsilon, sigma, mdvar, time_pct, location_pct, situation_pct
        As for :func:`p2p_tls`.

    Returns
    -------
    ItmResult

    Raises
    ------
    UnitsError
        Any input outside ITM's domain, all listed at once.

    Examples
    --------
    >>> r = area_tls(15.0, 3.0, 0, 0, 10.0, 20.0, 5, 301.0, 3500.0, 1, 15.0, 0.005, 1,
    ...              50.0, 50.0, 50.0)
    >>> round(r.loss_db, 1)
    134.5
    """
    values = _ScalarInputs.validate(
        "area_tls()",
        h_tx_m, h_rx_m, climate, n0, f_mhz, pol, epsilon, sigma, mdvar,
        (("time_pct", time_pct), ("location_pct", location_pct), ("situation_pct", situation_pct)),
        area=(tx_siting_criteria, rx_siting_criteria, d_km, delta_h_m),
    )  # fmt: skip
    return _run_area("area_tls()", values)


def area_cr(
    h_tx_m: float,
    h_rx_m: float,
    tx_siting_criteria: int,
    rx_siting_criteria: int,
    d_km: float,
    delta_h_m: float,
    climate: int,
    n0: float,
    f_mhz: float,
    pol: int,
    epsilon: float,
    sigma: float,
    mdvar: int,
    confidence_pct: float,
    reliability_pct: float,
) -> ItmResult:
    """ITM area-mode loss with confidence/reliability variability (NTIA ``ITM_AREA_CR``).

    ``reliability_pct`` is used as the time percentage, ``confidence_pct`` as the situation
    percentage, and location is fixed at 50 %. The other parameters are as for
    :func:`area_tls`.

    Examples
    --------
    >>> r = area_cr(3.0, 3.0, 0, 0, 1.0, 0.0, 5, 301.0, 10000.0, 1, 15.0, 0.005, 3, 77.0, 90.0)
    >>> round(r.loss_db, 1), r.mode
    (118.3, <ItmMode.LINE_OF_SIGHT: 1>)
    """
    values = _ScalarInputs.validate(
        "area_cr()",
        h_tx_m, h_rx_m, climate, n0, f_mhz, pol, epsilon, sigma, mdvar,
        (("reliability_pct", reliability_pct), (None, 50.0), ("confidence_pct", confidence_pct)),
        area=(tx_siting_criteria, rx_siting_criteria, d_km, delta_h_m),
    )  # fmt: skip
    return _run_area("area_cr()", values)


# =================================================================================================
# Validation
# =================================================================================================

_MDVAR_HELP = (
    "use 0 single message, 1 accidental, 2 mobile or 3 broadcast, plus 10 to drop location "
    "variability and/or 20 to drop direct situation variability (valid: 0-3, 10-13, 20-23, "
    "30-33)"
)


@dataclass(frozen=True, slots=True)
class _ScalarInputs:
    h_tx_m: float
    h_rx_m: float
    climate: int
    n0: float
    f_mhz: float
    pol: int
    epsilon: float
    sigma: float
    mdvar: int
    time_pct: float
    location_pct: float
    situation_pct: float
    z: np.ndarray | None = None
    n: int = 0
    spacing_m: float = 0.0
    tx_siting: int = 0
    rx_siting: int = 0
    d_m: float = 0.0
    delta_h_m: float = 0.0

    @classmethod
    def validate(
        cls,
        what: str,
        h_tx_m: Any,
        h_rx_m: Any,
        climate: Any,
        n0: Any,
        f_mhz: Any,
        pol: Any,
        epsilon: Any,
        sigma: Any,
        mdvar: Any,
        percentages: tuple[tuple[str | None, Any], ...],
        *,
        pfl: Any = None,
        area: tuple[Any, Any, Any, Any] | None = None,
    ) -> _ScalarInputs:
        """Check every input, raise one UnitsError listing all problems, else return floats."""
        problems: list[str] = []

        def real(name: str, value: Any, unit: str, lo: float, hi: float, hint: str) -> float:
            bad = _finite_problem(name, value, unit)
            if bad:
                problems.append(bad)
                return math.nan
            x = float(value)
            if not lo <= x <= hi:
                problems.append(
                    f"{name} must be {lo:g}-{hi:g} {unit} for ITM; received {value!r}. {hint}"
                )
            return x

        h_tx = real(
            "h_tx_m", h_tx_m, "m", 0.5, 3000.0,
            "Give the transmitter's structural height above ground in metres.",
        )  # fmt: skip
        h_rx = real(
            "h_rx_m", h_rx_m, "m", 0.5, 3000.0,
            "Give the receiver's structural height above ground in metres (a handset is 1.5).",
        )  # fmt: skip
        n0_f = real(
            "n0", n0, "N-units", 250.0, 400.0,
            "Use the sea-level surface refractivity N_0 (301 temperate, 360 for Paser).",
        )  # fmt: skip
        f = real(
            "f_mhz", f_mhz, "MHz", 20.0, 20000.0,
            "Give the frequency in MHz (e.g. 900.0), not Hz or GHz.",
        )  # fmt: skip

        climate_i = _integer_code(
            problems, "climate", climate, {c.value for c in Climate},
            "use 1 equatorial (Paser), 2 continental subtropical, 3 maritime subtropical, "
            "4 desert, 5 continental temperate, 6 maritime temperate over land or 7 maritime "
            "temperate over sea",
        )  # fmt: skip
        pol_i = _integer_code(
            problems, "pol", pol, {0, 1},
            "use ITM's codes 0 horizontal or 1 vertical (P.1812's 2 for vertical is not ITM's)",
        )  # fmt: skip
        mdvar_valid = {b + k for b in (0, 10, 20, 30) for k in range(4)}
        mdvar_i = _integer_code(problems, "mdvar", mdvar, mdvar_valid, _MDVAR_HELP)

        eps_bad = _finite_problem("epsilon", epsilon, "(relative permittivity)")
        if eps_bad:
            problems.append(eps_bad)
            eps = math.nan
        else:
            eps = float(epsilon)
            if eps < 1.0:
                problems.append(
                    f"epsilon (relative permittivity of the ground) must be >= 1; received "
                    f"{epsilon!r}. Use 15 for farmland/forest, 80 for water."
                )
        sig_bad = _finite_problem("sigma", sigma, "S/m")
        if sig_bad:
            problems.append(sig_bad)
            sig = math.nan
        else:
            sig = float(sigma)
            if sig <= 0.0:
                problems.append(
                    f"sigma (ground conductivity, S/m) must be > 0; received {sigma!r}. Use "
                    f"0.005 for farmland/forest, 0.01 for fresh water, 5 for sea water."
                )
        ground_known = (
            math.isfinite(eps) and eps >= 1.0 and math.isfinite(sig) and sig > 0.0
            and math.isfinite(f) and 20.0 <= f <= 20000.0 and pol_i in (0, 1)
        )  # fmt: skip
        if ground_known:
            # ground impedance check (NTIA error 1013), knowable before any terrain work
            ep_r = complex(eps, 18000.0 * sig / f)
            z_g = (ep_r - 1.0) ** 0.5
            if pol_i == 1:
                z_g = z_g / ep_r
            if not z_g.real > abs(z_g.imag):
                problems.append(
                    f"epsilon={eps:g}, sigma={sig:g} S/m at f_mhz={f:g} with pol={pol_i} give a "
                    f"ground impedance whose imaginary part is not smaller than its real part, "
                    f"which ITM rejects. Use a realistic ground, e.g. epsilon=15, sigma=0.005."
                )

        pct = []
        for name, value in percentages:
            if name is None:
                pct.append(float(value))
                continue
            bad = _finite_problem(name, value, "%")
            if bad:
                problems.append(bad)
                pct.append(math.nan)
                continue
            x = float(value)
            if not 0.0 < x < 100.0:
                problems.append(
                    f"{name} must be strictly between 0 and 100 (a percentage); received "
                    f"{value!r}. Use e.g. 50 for the median, 90 for 90 %, not 0.9."
                )
            pct.append(x)

        extra: dict[str, Any] = {}
        if pfl is not None:
            extra = _validate_pfl(problems, pfl)
        if area is not None:
            tx_site, rx_site, d_km, delta_h = area
            sites = {s.value for s in SitingCriteria}
            site_help = "use 0 random, 1 careful or 2 very careful"
            extra["tx_siting"] = _integer_code(
                problems, "tx_siting_criteria", tx_site, sites, site_help
            )
            extra["rx_siting"] = _integer_code(
                problems, "rx_siting_criteria", rx_site, sites, site_help
            )
            bad = _finite_problem("d_km", d_km, "km")
            if bad:
                problems.append(bad)
            elif float(d_km) <= 0.0:
                problems.append(
                    f"d_km (path distance) must be > 0 km; received {d_km!r}. Give the "
                    f"transmitter-receiver distance in kilometres."
                )
            else:
                extra["d_m"] = float(d_km) * 1000.0
            bad = _finite_problem("delta_h_m", delta_h, "m")
            if bad:
                problems.append(bad)
            elif float(delta_h) < 0.0:
                problems.append(
                    f"delta_h_m (terrain irregularity) must be >= 0 m; received {delta_h!r}. "
                    f"Use 0 over water, about 30 for plains, 90 for rolling hills, 200+ for "
                    f"mountains."
                )
            else:
                extra["delta_h_m"] = float(delta_h)

        raise_if_problems(what, problems, UnitsError)
        return cls(
            h_tx, h_rx, climate_i, n0_f, f, pol_i, eps, sig, mdvar_i, pct[0], pct[1], pct[2],
            **extra,
        )  # fmt: skip


def _finite_problem(name: str, value: Any, unit: str) -> str | None:
    """A problem string when ``value`` is not a finite real number, else None."""
    if isinstance(value, bool | np.bool_):
        return f"{name} must be a number in {unit}; received the boolean {value!r}."
    try:
        x = float(value)
    except (TypeError, ValueError):
        return f"{name} must be a number in {unit}; received {value!r} ({type(value).__name__})."
    if not math.isfinite(x):
        return f"{name} must be a finite number in {unit}; received {value!r}."
    return None


def _integer_code(problems: list[str], name: str, value: Any, valid: set[int], hint: str) -> int:
    """An integer code from ``valid``; otherwise record a problem and return -1."""
    if isinstance(value, bool | np.bool_):
        problems.append(f"{name} must be an integer code; received the boolean {value!r}; {hint}.")
        return -1
    try:
        code = operator.index(value)
    except TypeError:
        problems.append(
            f"{name} must be an integer code; received {value!r} ({type(value).__name__}); {hint}."
        )
        return -1
    if code not in valid:
        problems.append(f"{name}={code} is not a valid ITM code; {hint}.")
        return -1
    return int(code)


def _nonfinite_height_problems(h: np.ndarray, offset: int) -> list[str]:
    bad = np.flatnonzero(~np.isfinite(h))
    if bad.size == 0:
        return []
    shown = ", ".join(str(int(i)) for i in bad[:10])
    more = f" and {bad.size - 10} more" if bad.size > 10 else ""
    where = f" (PFL array positions {offset}+index)" if offset else ""
    return [
        f"terrain heights must be finite; {bad.size} NaN or infinite height(s) at height "
        f"index {shown}{more}{where}. Fill the DEM's nodata (or shorten the path) before "
        f"calling ITM; a missing height is not sea level."
    ]


def _validate_pfl(problems: list[str], pfl: Any) -> dict[str, Any]:
    """Check a PFL array; return ``z``, ``n`` and ``spacing_m`` for the kernel when valid."""
    hint = "Build it with make_pfl(heights_m, spacing_m)."
    try:
        arr = np.asarray(pfl, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(
            f"pfl must be numbers [n_intervals, spacing_m, h_0, ..., h_n]; could not read "
            f"{type(pfl).__name__} as floats. {hint}"
        )
        return {}
    if arr.ndim != 1 or arr.size < 4:
        problems.append(
            f"pfl must be a 1-D array [n_intervals, spacing_m, h_0, ..., h_n] with at least "
            f"2 heights; received shape {arr.shape}. {hint}"
        )
        return {}
    n_f, spacing = float(arr[0]), float(arr[1])
    ok = True
    if not (math.isfinite(n_f) and n_f >= 1.0 and n_f == int(n_f)):
        problems.append(
            f"pfl[0] must be the number of intervals, a whole number >= 1; received {arr[0]!r}. "
            f"{hint}"
        )
        ok = False
    elif arr.size != int(n_f) + 3:
        problems.append(
            f"pfl[0] = {int(n_f)} intervals needs {int(n_f) + 1} heights (array length "
            f"{int(n_f) + 3}), but the array has {arr.size - 2} heights (length {arr.size}). "
            f"{hint}"
        )
        ok = False
    if not (math.isfinite(spacing) and spacing > 0.0):
        problems.append(
            f"pfl[1] must be the spacing between heights in metres, > 0; received {arr[1]!r}. "
            f"{hint}"
        )
        ok = False
    z = arr[2:]
    if not np.isfinite(z).all():
        problems += _nonfinite_height_problems(z, offset=2)
        ok = False
    if not ok:
        return {}
    return {"z": np.ascontiguousarray(z), "n": int(n_f), "spacing_m": spacing}


# =================================================================================================
# Running the kernels
# =================================================================================================


def _run_p2p(what: str, v: _ScalarInputs) -> ItmResult:
    assert v.z is not None  # set by the profile's validation
    out = _k.p2p_tls(
        v.h_tx_m, v.h_rx_m, v.z, v.n, v.spacing_m, v.climate, v.n0, v.f_mhz, v.pol, v.epsilon,
        v.sigma, v.mdvar, v.time_pct, v.location_pct, v.situation_pct,
    )  # fmt: skip
    return _wrap(what, out, v)


def _run_area(what: str, v: _ScalarInputs) -> ItmResult:
    out = _k.area_tls(
        v.h_tx_m, v.h_rx_m, v.tx_siting, v.rx_siting, v.d_m, v.delta_h_m, v.climate, v.n0,
        v.f_mhz, v.pol, v.epsilon, v.sigma, v.mdvar, v.time_pct, v.location_pct,
        v.situation_pct,
    )  # fmt: skip
    return _wrap(what, out, v)


def _wrap(what: str, out: Sequence[Any], v: _ScalarInputs) -> ItmResult:
    (loss, warnings, err, mode, th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, n_s, delta_h, a_ref,
     a_fs, d_m) = out  # fmt: skip
    if err:
        raise UnitsError(_late_error_message(what, int(err), float(n_s), v))
    return ItmResult(
        loss_db=float(loss),
        warnings=int(warnings),
        mode=ItmMode(int(mode)),
        theta_hzn=(float(th_tx), float(th_rx)),
        d_hzn_m=(float(dh_tx), float(dh_rx)),
        h_e_m=(float(he_tx), float(he_rx)),
        n_s=float(n_s),
        delta_h_m=float(delta_h),
        a_ref_db=float(a_ref),
        a_fs_db=float(a_fs),
        d_km=float(d_m) / 1000.0,
    )


def _late_error_message(what: str, err: int, n_s: float, v: _ScalarInputs) -> str:
    """Message for the errors ITM can only detect during the computation."""
    if err in (_k.ERR_SURFACE_REFRACTIVITY_SMALL, _k.ERR_SURFACE_REFRACTIVITY_LARGE):
        limit = "below ITM's minimum of 150" if n_s < 150 else "above ITM's maximum of 400"
        return (
            f"{what}: the surface refractivity N_s = N_0 * exp(-h_sys / 9460 m) = {n_s:.1f} "
            f"N-units, from n0={v.n0:g} and the path's mean elevation h_sys, is {limit}. The "
            f"path is too high above sea level for ITM; check that the profile heights are in "
            f"metres above sea level (not feet) and that n0 is the sea-level value."
        )
    if err == _k.ERR_GROUND_IMPEDANCE:
        return (
            f"{what}: epsilon={v.epsilon:g}, sigma={v.sigma:g} S/m at f_mhz={v.f_mhz:g} give a "
            f"ground impedance ITM rejects (imaginary part not smaller than the real part). Use "
            f"a realistic ground, e.g. epsilon=15, sigma=0.005."
        )
    return (
        f"{what}: ITM rejected the computed effective earth radius (error {err}); n0={v.n0:g} "
        f"and the path's mean elevation give a radius outside 4000-13333 km. Check n0 (250-400) "
        f"and that the profile heights are metres above sea level."
    )
