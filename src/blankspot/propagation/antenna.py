"""Base-station antenna patterns: gain toward a direction, in dBi.

Every antenna here is a frozen dataclass with ``gain_db(azimuth_deg, elevation_deg)``, the gain
relative to an isotropic radiator toward a direction given by its azimuth (degrees clockwise
from grid north, the same frame as the antenna's own ``azimuth_deg``) and its elevation (degrees
above the local horizontal, negative below), vectorised over numpy arrays. The angles in the API
are degrees; radians appear only inside.

- :class:`Omni`: constant gain in azimuth, with an optional vertical beam.
- :class:`Sector`: the parametric pattern of 3GPP TR 36.814 Table A.2.1.1-2 / TR 38.901
  Table 7.3-1, pointed by azimuth and mechanical downtilt, with electrical downtilt.
- :class:`PatternTable`: a measured horizontal and vertical cut (e.g. a manufacturer's
  MSI/Planet file), combined into a 3-D pattern the same way as the parametric one.
- :class:`SectorSite`: several antennas on one mast; the gain toward a direction is that of the
  best-serving antenna.

:func:`elevation_angle_deg` gives the angle at which to read the vertical pattern for a path over
terrain: toward the receiver when the path is clear, toward the Tx horizon when it is not.

The link budget and the patterns
--------------------------------
:attr:`blankspot.propagation.LinkBudget.eirp_re_dbm` already contains ``tx_gain_dbi`` as the
*boresight* gain. With a pattern, add :meth:`Sector.relative_gain_db` (``gain_db - gain_dbi``,
never above 0 dB) to the RSRP of that budget, or set ``tx_gain_dbi=0`` and add ``gain_db``:

.. math:: \\mathrm{RSRP} = \\mathrm{EIRP_{RE}} + G_\\mathrm{pattern}(\\phi, \\theta) + G_\\mathrm{rx}
          - L_\\mathrm{body} - L_\\mathrm{path}

Coverage does the first: :func:`blankspot.coverage.site_footprint` with ``antenna=`` (and
:func:`~blankspot.coverage.compute_coverage` with ``antennas=`` or the sites' antenna columns)
subtracts ``relative_gain_db`` from each cell's loss, read at the cell's grid azimuth and at
:func:`elevation_angle_deg`'s angle, which the line-of-sight sweep finds for every cell.

Examples
--------
>>> s = Sector(azimuth_deg=120.0)
>>> float(s.gain_db(120.0, -2.0))  # boresight, at the electrical downtilt
17.0
>>> round(float(s.gain_db(120.0 + 32.5, -2.0)), 2)  # half the 65 degree beamwidth off
14.0
>>> round(float(s.gain_db(300.0, -2.0)), 2)  # straight behind: gain - front_to_back_db
-8.0
>>> site = SectorSite.three_sector(azimuth0_deg=0.0)
>>> [round(float(site.gain_db(a, -2.0)), 2) for a in (0.0, 60.0, 120.0)]
[17.0, 6.78, 17.0]
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from blankspot.errors import (
    DataError,
    InputError,
    Problems,
    SchemaError,
    UnitsError,
    format_problems,
)
from blankspot.units import DEFAULT_K_FACTOR, effective_earth_radius_m

__all__ = [
    "DBD_TO_DBI",
    "Antenna",
    "Omni",
    "PatternTable",
    "Sector",
    "SectorSite",
    "elevation_angle_deg",
    "three_sector",
]

DBD_TO_DBI = 2.15
"""Gain of a half-wave dipole over isotropic, dB (dBi = dBd + 2.15)."""

_MSI_GAIN = re.compile(r"(?P<value>[-+]?\d+(?:\.\d*)?|[-+]?\.\d+)\s*(?P<unit>dBi|dBd)?", re.I)


@runtime_checkable
class Antenna(Protocol):
    """Anything with a gain pattern (:class:`Omni`, :class:`Sector`, :class:`PatternTable`, ...)."""

    @property
    def peak_gain_dbi(self) -> float:
        """Highest gain of the pattern, dBi."""
        ...

    def gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain in dBi toward (azimuth, elevation) in degrees."""
        ...


# --- validation ---------------------------------------------------------------------------


def _finite(problems: list[str], name: str, value: Any, unit: str) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = math.nan
    if not math.isfinite(out):
        problems.append(f"{name} must be a finite number in {unit}; received {value!r}.")
        return None
    return out


def _beamwidth(problems: list[str], name: str, value: Any) -> float | None:
    out = _finite(problems, name, value, "degrees")
    if out is not None and not 0.0 < out <= 360.0:
        problems.append(
            f"{name} is a half-power (-3 dB) beamwidth and must be in (0, 360] degrees; received "
            f"{value!r}. Is it in radians, or the full null-to-null width?"
        )
        return None
    return out


def _tilt(problems: list[str], name: str, value: Any) -> float | None:
    out = _finite(problems, name, value, "degrees")
    if out is not None and not -90.0 <= out <= 90.0:
        problems.append(
            f"{name} must be within -90..90 degrees (positive tilts the beam down); received "
            f"{value!r}."
        )
        return None
    return out


def _non_negative_db(problems: list[str], name: str, value: Any, what: str) -> float | None:
    out = _finite(problems, name, value, "dB")
    if out is not None and out < 0.0:
        problems.append(
            f"{name} is {what} in dB and must be >= 0 (a positive number of dB below the peak); "
            f"received {value!r}."
        )
        return None
    return out


def _azimuth(problems: list[str], name: str, value: Any) -> float | None:
    out = _finite(problems, name, value, "degrees clockwise from grid north")
    return None if out is None else out % 360.0


def _set(obj: Any, name: str, value: Any) -> None:
    if value is not None:
        object.__setattr__(obj, name, value)


def _raise(what: str, problems: Problems) -> None:
    """Raise every problem at once: UnitsError for quantities alone, else the most serious kind."""
    if problems:
        error = problems.error_type(UnitsError)
        raise error(format_problems(what, problems), problems=list(problems))


# --- direction arithmetic -----------------------------------------------------------------


def _directions(azimuth_deg: Any, elevation_deg: Any) -> tuple[np.ndarray, np.ndarray]:
    """Broadcast float64 arrays of the two angles; elevations must lie in [-90, 90]."""
    try:
        az = np.asarray(azimuth_deg, dtype=np.float64)
        el = np.asarray(elevation_deg, dtype=np.float64)
        az, el = np.broadcast_arrays(az, el)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"gain_db(): azimuth_deg and elevation_deg must be numbers or arrays of numbers that "
            f"broadcast together; received {azimuth_deg!r} and {elevation_deg!r} ({exc})."
        ) from None
    with np.errstate(invalid="ignore"):
        bad = np.abs(el) > 90.0
    if np.any(bad):
        raise UnitsError(
            f"gain_db(): elevation_deg must be within -90..90 degrees (above the horizontal is "
            f"positive); received {int(bad.sum())} value(s) outside, e.g. "
            f"{float(el[bad].flat[0])!r}. Are they zenith angles (elevation = 90 - zenith)?"
        )
    return az, el


def _wrap180(angle_deg: np.ndarray) -> np.ndarray:
    """Angles folded into [-180, 180)."""
    return (angle_deg + 180.0) % 360.0 - 180.0


def _antenna_frame(
    azimuth_deg: np.ndarray, elevation_deg: np.ndarray, pointing_deg: float, downtilt_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Azimuth off boresight and elevation in the frame of a mechanically tilted antenna.

    The antenna's boresight points at azimuth ``pointing_deg`` and ``downtilt_deg`` below the
    horizontal (TR 38.901 §7.1.1 with bearing α, downtilt β and slant γ = 0). A direction is
    rotated into the antenna frame, so mechanical tilt lowers the beam along the boresight but
    barely changes the gain at 90 degrees off it (where tilting the mast only rolls the pattern).
    Returns ``(phi_deg, theta_deg)``: the azimuth off boresight in [-180, 180), positive
    clockwise, and the elevation above the antenna's own horizontal plane, both in degrees.
    """
    phi = _wrap180(azimuth_deg - pointing_deg)
    if downtilt_deg == 0.0:
        return phi, elevation_deg
    phi_r = np.radians(phi)
    el_r = np.radians(elevation_deg)
    beta = math.radians(downtilt_deg)
    # Unit vector in a frame with u along the horizontal boresight, v to its right, w up.
    u = np.cos(el_r) * np.cos(phi_r)
    v = np.cos(el_r) * np.sin(phi_r)
    w = np.sin(el_r)
    # Rotate about v by +beta so the tilted boresight (cos b, 0, -sin b) maps to (1, 0, 0).
    u_t = u * math.cos(beta) - w * math.sin(beta)
    w_t = u * math.sin(beta) + w * math.cos(beta)
    theta = np.degrees(np.arcsin(np.clip(w_t, -1.0, 1.0)))
    phi_t = np.degrees(np.arctan2(v, u_t))
    return _wrap180(phi_t), theta


def _vertical_attenuation_db(
    theta_deg: np.ndarray, beamwidth_deg: float, electrical_downtilt_deg: float, sla_db: float
) -> np.ndarray:
    """3GPP vertical attenuation min(12((θ - θ_tilt)/θ_3dB)², SLA_v), θ measured downward."""
    offset = (-theta_deg - electrical_downtilt_deg) / beamwidth_deg
    return np.minimum(12.0 * offset * offset, sla_db)


def _out(value: np.ndarray) -> Any:
    return float(value) if value.ndim == 0 else value


# --- parametric antennas ------------------------------------------------------------------


@dataclass(frozen=True)
class Omni:
    """An omnidirectional antenna: the same gain at every azimuth.

    Attributes
    ----------
    gain_dbi
        Peak gain, dBi (0 for an isotropic radiator; collinear omnis reach about 8-11 dBi).
    v_beamwidth_deg
        Vertical half-power beamwidth, degrees, or None for a flat vertical pattern (the same
        gain at every elevation). With a beamwidth the vertical pattern is the 3GPP one used by
        :class:`Sector`: ``-min(12((θ - θ_tilt)/θ_3dB)², sidelobe_level_db)``.
    electrical_downtilt_deg
        Electrical downtilt of the vertical beam, degrees (positive down).
    sidelobe_level_db
        Floor of the vertical pattern below the peak, dB (SLA_v).

    Examples
    --------
    >>> float(Omni(gain_dbi=2.15).gain_db(123.0, -30.0))
    2.15
    >>> round(float(Omni(gain_dbi=9.0, v_beamwidth_deg=12.0).gain_db(0.0, 6.0)), 2)
    6.0
    """

    gain_dbi: float = 0.0
    v_beamwidth_deg: float | None = None
    electrical_downtilt_deg: float = 0.0
    sidelobe_level_db: float = 20.0

    def __post_init__(self) -> None:
        problems = Problems()
        _set(self, "gain_dbi", _finite(problems, "gain_dbi", self.gain_dbi, "dBi"))
        if self.v_beamwidth_deg is not None:
            _set(self, "v_beamwidth_deg", _beamwidth(problems, "v_beamwidth_deg",
                                                     self.v_beamwidth_deg))  # fmt: skip
        _set(self, "electrical_downtilt_deg",
             _tilt(problems, "electrical_downtilt_deg", self.electrical_downtilt_deg))  # fmt: skip
        _set(self, "sidelobe_level_db", _non_negative_db(
            problems, "sidelobe_level_db", self.sidelobe_level_db, "the side-lobe floor"))  # fmt: skip
        _raise("Omni", problems)

    @property
    def peak_gain_dbi(self) -> float:
        """Highest gain of the pattern, dBi."""
        return self.gain_dbi

    def relative_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain relative to the peak, dB (<= 0); see :meth:`gain_db`."""
        az, el = _directions(azimuth_deg, elevation_deg)
        if self.v_beamwidth_deg is None:
            rel = np.where(np.isnan(az) | np.isnan(el), np.nan, 0.0)
        else:
            rel = np.where(np.isnan(az), np.nan, -_vertical_attenuation_db(
                el, self.v_beamwidth_deg, self.electrical_downtilt_deg, self.sidelobe_level_db))  # fmt: skip
        return _out(np.asarray(rel, dtype=np.float64))

    def gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain in dBi toward each (azimuth, elevation), degrees; NaN in gives NaN out."""
        return _out(self.gain_dbi + np.asarray(self.relative_gain_db(azimuth_deg, elevation_deg)))


@dataclass(frozen=True)
class Sector:
    """A sector antenna with the 3GPP parametric pattern (TR 36.814 A.2.1.1, TR 38.901 7.3).

    With φ the azimuth off boresight and θ the angle below the antenna's horizontal plane, both
    in degrees (after the mechanical downtilt has rotated the direction into the antenna frame):

    .. math::

        A_H(\\phi) = -\\min\\left[12 (\\phi/\\phi_{3dB})^2, A_m\\right] \\qquad
        A_V(\\theta) = -\\min\\left[12 ((\\theta - \\theta_{etilt})/\\theta_{3dB})^2,
            \\mathrm{SLA}_V\\right]

        G(\\phi, \\theta) = G_\\mathrm{max} - \\min\\left[-(A_H + A_V), A_m\\right]

    with A_m = ``front_to_back_db`` and SLA_V = ``sidelobe_level_db``. The defaults are the
    planning parameters' 17 dBi, 65° HPBW sector with 2° electrical downtilt; 3GPP's own values
    are A_m = SLA_V = 20 dB (TR 36.814) or 30 dB (TR 38.901).

    Mechanical downtilt is applied as a rotation of the whole pattern about the horizontal axis
    across the boresight, not by adding it to θ_etilt: along the boresight the two agree exactly,
    but 60° off it a mechanical tilt lowers the beam by only cos(60°) of the tilt, which is why
    planners prefer electrical tilt for sector antennas. Behind the antenna the mechanical tilt
    raises the back lobe.

    Attributes
    ----------
    azimuth_deg
        Boresight azimuth, degrees clockwise from grid north; wrapped to [0, 360).
    gain_dbi
        Boresight (peak) gain, dBi.
    h_beamwidth_deg, v_beamwidth_deg
        Horizontal and vertical half-power beamwidths φ_3dB, θ_3dB, degrees, in (0, 360].
    mechanical_downtilt_deg, electrical_downtilt_deg
        Downtilts, degrees within ±90, positive down.
    front_to_back_db
        A_m: maximum attenuation of the whole pattern, dB >= 0.
    sidelobe_level_db
        SLA_V: the floor of the vertical pattern, dB >= 0.
    """

    azimuth_deg: float
    gain_dbi: float = 17.0
    h_beamwidth_deg: float = 65.0
    v_beamwidth_deg: float = 7.0
    mechanical_downtilt_deg: float = 0.0
    electrical_downtilt_deg: float = 2.0
    front_to_back_db: float = 25.0
    sidelobe_level_db: float = 20.0

    def __post_init__(self) -> None:
        problems = Problems()
        _set(self, "azimuth_deg", _azimuth(problems, "azimuth_deg", self.azimuth_deg))
        _set(self, "gain_dbi", _finite(problems, "gain_dbi", self.gain_dbi, "dBi"))
        for name in ("h_beamwidth_deg", "v_beamwidth_deg"):
            _set(self, name, _beamwidth(problems, name, getattr(self, name)))
        for name in ("mechanical_downtilt_deg", "electrical_downtilt_deg"):
            _set(self, name, _tilt(problems, name, getattr(self, name)))
        _set(self, "front_to_back_db", _non_negative_db(
            problems, "front_to_back_db", self.front_to_back_db, "the front-to-back ratio"))  # fmt: skip
        _set(self, "sidelobe_level_db", _non_negative_db(
            problems, "sidelobe_level_db", self.sidelobe_level_db, "the side-lobe floor"))  # fmt: skip
        _raise("Sector", problems)

    @property
    def peak_gain_dbi(self) -> float:
        """Highest gain of the pattern (the boresight gain), dBi."""
        return self.gain_dbi

    @property
    def boresight_elevation_deg(self) -> float:
        """Elevation of the beam peak along the boresight azimuth: -(mechanical + electrical)."""
        return -(self.mechanical_downtilt_deg + self.electrical_downtilt_deg)

    def relative_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain relative to the boresight gain, dB (<= 0); see :meth:`gain_db`."""
        az, el = _directions(azimuth_deg, elevation_deg)
        phi, theta = _antenna_frame(az, el, self.azimuth_deg, self.mechanical_downtilt_deg)
        a_h = np.minimum(12.0 * (phi / self.h_beamwidth_deg) ** 2, self.front_to_back_db)
        a_v = _vertical_attenuation_db(
            theta, self.v_beamwidth_deg, self.electrical_downtilt_deg, self.sidelobe_level_db
        )
        return _out(-np.minimum(a_h + a_v, self.front_to_back_db))

    def gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain in dBi toward each (azimuth, elevation), degrees; NaN in gives NaN out.

        Parameters
        ----------
        azimuth_deg
            Direction azimuth, degrees clockwise from grid north (any finite value; wrapped).
        elevation_deg
            Direction elevation above the horizontal at the antenna, degrees in [-90, 90]; for
            a terrain path use :func:`elevation_angle_deg`.

        Returns
        -------
        float or numpy.ndarray
            Gain in dBi, never above :attr:`gain_dbi`; a float for scalar input.

        Raises
        ------
        UnitsError
            Elevations outside [-90, 90] degrees.
        InputError
            Inputs that are not numbers, or arrays that do not broadcast together.
        """
        return _out(self.gain_dbi + np.asarray(self.relative_gain_db(azimuth_deg, elevation_deg)))


# --- measured patterns --------------------------------------------------------------------


def _cut(problems: Problems, name: str, angle: Any, gain: Any) -> tuple[Any, Any]:
    try:
        a = np.asarray(angle, dtype=np.float64).ravel()
        g = np.asarray(gain, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        problems.add(f"the {name} cut's angles and gains must be arrays of numbers.", InputError)
        return None, None
    if a.size != g.size or a.size < 2:
        problems.add(
            f"the {name} cut needs at least 2 (angle, gain) pairs of equal length; received "
            f"{a.size} angles and {g.size} gains.",
            InputError,
        )
        return None, None
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(g))):
        problems.add(
            f"the {name} cut holds NaN or infinite angles or gains; fill or drop them.", UnitsError
        )
        return None, None
    return a, g


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class PatternTable:
    """A measured pattern from a horizontal and a vertical cut, pointed like a :class:`Sector`.

    The two cuts are stored relative to their own maxima (0 dB at the peak). Between table
    points the gain is interpolated linearly in angle (periodically in azimuth; the vertical
    cut is held at its end values beyond its range). The cuts are combined into a 3-D pattern
    by adding their attenuations, capped at ``max_attenuation_db``, exactly as the 3GPP
    parametric :class:`Sector` does:

    .. math:: G(\\phi, \\theta) = G_\\mathrm{max} - \\min\\left[A_H(\\phi) + A_V(\\theta),
              A_\\mathrm{max}\\right]

    which reproduces the horizontal cut at the elevation of the vertical peak and the vertical
    cut along the boresight. The vertical cut is its front half (elevations -90..90 toward the
    boresight); behind the antenna the same vertical attenuation is used, as in the 3GPP model.
    Mechanical downtilt rotates the pattern (see :class:`Sector`); the electrical tilt is
    already in the vertical cut.

    Attributes
    ----------
    h_azimuth_deg, h_gain_db
        Horizontal cut: azimuth off boresight (degrees, clockwise, any range; stored sorted in
        [0, 360)) and gain in dB (any reference: shifted so the maximum is 0 dB).
    v_elevation_deg, v_gain_db
        Vertical cut along the boresight: elevation (degrees, -90..90, positive up; stored
        sorted) and gain in dB (shifted so the maximum is 0 dB).
    gain_dbi
        Peak gain, dBi.
    azimuth_deg
        Boresight azimuth, degrees clockwise from grid north; wrapped to [0, 360).
    mechanical_downtilt_deg
        Mechanical downtilt, degrees within ±90, positive down.
    max_attenuation_db
        Cap of the combined attenuation, dB; None takes the deepest point of either cut.
    name
        Free text (the antenna model).
    """

    h_azimuth_deg: np.ndarray
    h_gain_db: np.ndarray
    v_elevation_deg: np.ndarray
    v_gain_db: np.ndarray
    gain_dbi: float
    azimuth_deg: float = 0.0
    mechanical_downtilt_deg: float = 0.0
    max_attenuation_db: float | None = None
    name: str = field(default="")

    def __post_init__(self) -> None:
        problems = Problems()
        _set(self, "gain_dbi", _finite(problems, "gain_dbi", self.gain_dbi, "dBi"))
        _set(self, "azimuth_deg", _azimuth(problems, "azimuth_deg", self.azimuth_deg))
        _set(self, "mechanical_downtilt_deg",
             _tilt(problems, "mechanical_downtilt_deg", self.mechanical_downtilt_deg))  # fmt: skip
        h_az, h_g = _cut(problems, "horizontal", self.h_azimuth_deg, self.h_gain_db)
        v_el, v_g = _cut(problems, "vertical", self.v_elevation_deg, self.v_gain_db)
        if h_az is not None:
            h_az = h_az % 360.0
            order = np.argsort(h_az, kind="stable")
            h_az, h_g = h_az[order], h_g[order]
            dup = np.diff(h_az) == 0.0
            if np.any(dup & (np.diff(h_g) != 0.0)):
                problems.add(
                    "the horizontal cut gives two different gains for the same azimuth (after "
                    "wrapping to 0..360, e.g. both 0 and 360); keep one of them.",
                    InputError,
                )
            keep = np.concatenate([[True], ~dup])
            h_az, h_g = h_az[keep], h_g[keep]
            if h_az.size < 2:
                problems.add("the horizontal cut needs at least 2 distinct azimuths.", InputError)
        if v_el is not None:
            if np.any(np.abs(v_el) > 90.0):
                problems.append(
                    f"the vertical cut's elevations must be within -90..90 degrees (its front "
                    f"half, positive up); received {v_el.min():g}..{v_el.max():g}. Convert "
                    f"MSI-style 0..359 angles with PatternTable.from_msi()."
                )
            order = np.argsort(v_el, kind="stable")
            v_el, v_g = v_el[order], v_g[order]
            if np.any(np.diff(v_el) == 0.0):
                problems.add("the vertical cut repeats an elevation; keep one of them.", InputError)
        if self.max_attenuation_db is not None:
            _set(self, "max_attenuation_db", _non_negative_db(
                problems, "max_attenuation_db", self.max_attenuation_db,
                "the deepest attenuation of the pattern"))  # fmt: skip
        _raise("PatternTable", problems)
        h_g = h_g - h_g.max()
        v_g = v_g - v_g.max()
        object.__setattr__(self, "h_azimuth_deg", _read_only(h_az))
        object.__setattr__(self, "h_gain_db", _read_only(h_g))
        object.__setattr__(self, "v_elevation_deg", _read_only(v_el))
        object.__setattr__(self, "v_gain_db", _read_only(v_g))
        if self.max_attenuation_db is None:
            deepest = float(max(-h_g.min(), -v_g.min()))
            object.__setattr__(self, "max_attenuation_db", deepest)
        object.__setattr__(self, "name", str(self.name))

    # --- constructors ---------------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        az_deg: Any,
        h_gain_db: Any,
        el_deg: Any,
        v_gain_db: Any,
        *,
        gain_dbi: float,
        azimuth_deg: float = 0.0,
        mechanical_downtilt_deg: float = 0.0,
        max_attenuation_db: float | None = None,
        name: str = "",
    ) -> PatternTable:
        """A pattern from two cuts given as arrays; see the class for the conventions.

        Examples
        --------
        >>> t = PatternTable.from_arrays([0, 90, 180, 270], [0, -10, -25, -10],
        ...                              [-90, 0, 90], [-20, 0, -20], gain_dbi=15.0)
        >>> float(t.gain_db(45.0, 0.0)), float(t.gain_db(0.0, -45.0))
        (10.0, 5.0)
        """
        return cls(az_deg, h_gain_db, el_deg, v_gain_db, gain_dbi, azimuth_deg,
                   mechanical_downtilt_deg, max_attenuation_db, name)  # fmt: skip

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        *,
        gain_dbi: float,
        azimuth_deg: float = 0.0,
        mechanical_downtilt_deg: float = 0.0,
        max_attenuation_db: float | None = None,
    ) -> PatternTable:
        """Read both cuts from one CSV file with columns ``cut,angle_deg,gain_db``.

        ``cut`` is ``horizontal`` (or ``h``) with ``angle_deg`` the azimuth off boresight,
        clockwise, or ``vertical`` (or ``v``) with ``angle_deg`` the elevation, positive up,
        -90..90. ``gain_db`` is the gain in dB on any reference (each cut is shifted so its
        maximum is 0 dB); ``gain_dbi`` gives the peak.

        Raises
        ------
        DataError
            The file cannot be read.
        SchemaError
            Missing columns, unknown cut names or non-numeric values, all listed at once.
        UnitsError
            Angles or gains out of range (see the class).
        InputError
            A cut with fewer than 2 points, or two gains for one angle (see the class).
        """
        rows = _read_text(path).splitlines()
        reader = csv.DictReader(rows)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ("cut", "angle_deg", "gain_db") if c not in header]
        if missing:
            raise SchemaError(
                f"PatternTable.from_csv(): {path!s} lacks column(s) {', '.join(missing)}; "
                f"found {header}. The file needs a header line 'cut,angle_deg,gain_db'."
            )
        cuts: dict[str, list[tuple[float, float]]] = {"h": [], "v": []}
        problems: list[str] = []
        for line_no, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            kind = row["cut"].lower()[:1]
            if row["cut"].lower() not in ("h", "v", "horizontal", "vertical"):
                problems.append(
                    f"line {line_no}: cut must be 'horizontal' or 'vertical'; received "
                    f"{row['cut']!r}."
                )
                continue
            try:
                cuts[kind].append((float(row["angle_deg"]), float(row["gain_db"])))
            except ValueError:
                problems.append(
                    f"line {line_no}: angle_deg and gain_db must be numbers; received "
                    f"{row['angle_deg']!r}, {row['gain_db']!r}."
                )
        for kind, label in (("h", "horizontal"), ("v", "vertical")):
            if not cuts[kind]:
                problems.append(f"no '{label}' rows: the file needs both cuts.")
        if problems:
            raise SchemaError(format_problems(f"PatternTable.from_csv({str(path)!r})", problems))
        h = np.array(cuts["h"])
        v = np.array(cuts["v"])
        return cls.from_arrays(
            h[:, 0], h[:, 1], v[:, 0], v[:, 1], gain_dbi=gain_dbi, azimuth_deg=azimuth_deg,
            mechanical_downtilt_deg=mechanical_downtilt_deg,
            max_attenuation_db=max_attenuation_db, name=Path(path).stem,
        )  # fmt: skip

    @classmethod
    def from_msi(
        cls,
        path: str | Path,
        *,
        azimuth_deg: float = 0.0,
        mechanical_downtilt_deg: float = 0.0,
        horizontal_clockwise: bool = True,
        max_attenuation_db: float | None = None,
    ) -> PatternTable:
        """Read an MSI/Planet antenna file (``.msi``, ``.pln``, often ``.txt``).

        The format is text: keyword lines (``NAME``, ``MAKE``, ``FREQUENCY``, ``GAIN``,
        ``TILT``, ...) then ``HORIZONTAL n`` and ``VERTICAL n``, each followed by ``n`` lines
        ``angle attenuation``. Conventions applied here:

        - ``GAIN`` is in dBd unless followed by ``dBi`` (dBi = dBd + 2.15).
        - Attenuations are dB below the peak, written without a sign; a value written with a
          minus sign is read as the same attenuation.
        - Horizontal angles are degrees off boresight, clockwise seen from above; pass
          ``horizontal_clockwise=False`` for a file counting the other way (vendors differ; a
          symmetric sector pattern reads the same either way).
        - Vertical angles are 0 at the horizon toward the boresight, increasing downward
          (90 is the nadir, 270 the zenith). Only the front half (270..359 and 0..90) is used;
          see the class for the back half.

        Raises
        ------
        DataError
            The file cannot be read.
        SchemaError
            No ``GAIN`` line, a missing or short ``HORIZONTAL``/``VERTICAL`` block, or
            non-numeric values, all listed at once.
        """
        lines = [ln.strip() for ln in _read_text(path).splitlines()]
        problems: list[str] = []
        name = ""
        gain: float | None = None
        blocks: dict[str, np.ndarray] = {}
        i = 0
        while i < len(lines):
            parts = lines[i].split()
            i += 1
            if not parts:
                continue
            key = parts[0].upper()
            if key == "NAME":
                name = " ".join(parts[1:])
            elif key == "GAIN":
                match = _MSI_GAIN.fullmatch(lines[i - 1][4:].strip())
                if match is None:
                    problems.append(
                        f"line {i}: GAIN needs a number and an optional unit dBi or dBd (e.g. "
                        f"'GAIN 17.0 dBi'); received {lines[i - 1]!r}."
                    )
                    continue
                gain = float(match["value"])
                gain += 0.0 if (match["unit"] or "dbd").lower() == "dbi" else DBD_TO_DBI
            elif key in ("HORIZONTAL", "VERTICAL"):
                try:
                    n = int(float(parts[1]))
                except (IndexError, ValueError):
                    problems.append(f"line {i}: {key} needs a point count; got {lines[i - 1]!r}.")
                    continue
                rows = [ln.replace(",", " ").split() for ln in lines[i : i + n]]
                try:
                    data = np.array([[float(r[0]), float(r[1])] for r in rows])
                except (IndexError, ValueError):
                    problems.append(
                        f"lines {i + 1}..{i + n}: the {key} block needs {n} lines "
                        "'angle attenuation' of numbers."
                    )
                    data = None
                if data is not None and data.shape[0] != n:
                    problems.append(f"the {key} block announces {n} points but holds {len(data)}.")
                elif data is not None:
                    blocks[key] = data
                i += n
        if gain is None:
            problems.append("no GAIN line (e.g. 'GAIN 17.0 dBi').")
        for key in ("HORIZONTAL", "VERTICAL"):
            if key not in blocks and not any(key in p for p in problems):
                problems.append(f"no {key} block (e.g. '{key} 360' then 360 lines).")
        if problems:
            raise SchemaError(format_problems(f"PatternTable.from_msi({str(path)!r})", problems))
        assert gain is not None  # a missing GAIN line is one of the problems raised above
        h = blocks["HORIZONTAL"]
        v = blocks["VERTICAL"]
        h_az = h[:, 0] % 360.0 if horizontal_clockwise else (-h[:, 0]) % 360.0
        v_ang = v[:, 0] % 360.0
        front = (v_ang <= 90.0) | (v_ang >= 270.0)
        v_el = np.where(v_ang <= 90.0, -v_ang, 360.0 - v_ang)[front]
        v_rel = -np.abs(v[front, 1])
        if v_el.size != np.unique(v_el).size:  # 90 and 270 both map to ±90 only; drop repeats
            v_el, idx = np.unique(v_el, return_index=True)
            v_rel = v_rel[idx]
        return cls.from_arrays(
            h_az, -np.abs(h[:, 1]), v_el, v_rel, gain_dbi=gain, azimuth_deg=azimuth_deg,
            mechanical_downtilt_deg=mechanical_downtilt_deg,
            max_attenuation_db=max_attenuation_db, name=name or Path(path).stem,
        )  # fmt: skip

    # --- evaluation -----------------------------------------------------------------------
    @property
    def peak_gain_dbi(self) -> float:
        """Highest gain of the pattern, dBi."""
        return self.gain_dbi

    def relative_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain relative to the peak, dB (<= 0); see :meth:`gain_db`."""
        az, el = _directions(azimuth_deg, elevation_deg)
        phi, theta = _antenna_frame(az, el, self.azimuth_deg, self.mechanical_downtilt_deg)
        a_h = -np.interp(phi % 360.0, self.h_azimuth_deg, self.h_gain_db, period=360.0)
        a_v = -np.interp(theta, self.v_elevation_deg, self.v_gain_db)
        cap = self.max_attenuation_db
        assert cap is not None  # __post_init__ fills in the deepest attenuation of the cuts
        rel = -np.minimum(a_h + a_v, cap)
        return _out(np.where(np.isnan(phi) | np.isnan(theta), np.nan, rel))

    def gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Gain in dBi toward each (azimuth, elevation), degrees; NaN in gives NaN out."""
        return _out(self.gain_dbi + np.asarray(self.relative_gain_db(azimuth_deg, elevation_deg)))


def _read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        raise DataError(
            f"cannot read the antenna pattern file {str(path)!r}: {exc.strerror or exc}. Check "
            "the path."
        ) from exc


# --- several antennas on one mast ---------------------------------------------------------


@dataclass(frozen=True)
class SectorSite:
    """Several antennas on one mast; the gain toward a direction is the best sector's.

    Each sector of a site is its own LTE cell, and a handset camps on the strongest one, so the
    gain that sets the RSRP in a direction is the maximum over the sectors (best-server), not
    the sum of their powers. The overlap between two 65° sectors 120° apart (60° off each
    boresight) then sits about 10 dB below the peak, the usual sector-edge dip.

    Attributes
    ----------
    sectors
        The antennas, a non-empty tuple of :class:`Sector` (or any :class:`Antenna`, such as a
        :class:`PatternTable`).
    """

    sectors: tuple[Any, ...]

    def __post_init__(self) -> None:
        sectors = tuple(self.sectors) if isinstance(self.sectors, Iterable) else ()
        problems = Problems()
        if not sectors:
            problems.add(
                f"sectors must be a non-empty tuple of antennas; received {self.sectors!r}.",
                InputError,
            )
        for i, s in enumerate(sectors):
            if not isinstance(s, Antenna):
                problems.add(
                    f"sectors[{i}] is a {type(s).__name__}, not an antenna with gain_db() and "
                    "peak_gain_dbi (Sector, PatternTable, Omni).",
                    InputError,
                )
        _raise("SectorSite", problems)
        object.__setattr__(self, "sectors", sectors)

    @classmethod
    def three_sector(cls, azimuth0_deg: float = 0.0, **sector_kwargs: Any) -> SectorSite:
        """Three identical :class:`Sector` antennas at ``azimuth0_deg`` + 0, 120 and 240°.

        ``sector_kwargs`` go to every :class:`Sector` (gain, beamwidths, tilts, ...).
        """
        if "azimuth_deg" in sector_kwargs:
            raise InputError(
                "SectorSite.three_sector(): pass the first sector's azimuth as azimuth0_deg, "
                "not azimuth_deg; the others follow at +120 and +240 degrees."
            )
        problems = Problems()
        az0 = _azimuth(problems, "azimuth0_deg", azimuth0_deg)
        _raise("SectorSite.three_sector", problems)
        assert az0 is not None  # a bad azimuth raised above
        return cls(tuple(Sector(az0 + k * 120.0, **sector_kwargs) for k in range(3)))

    @property
    def peak_gain_dbi(self) -> float:
        """Highest peak gain among the sectors, dBi."""
        return max(float(s.peak_gain_dbi) for s in self.sectors)

    def _stack(self, azimuth_deg: Any, elevation_deg: Any) -> np.ndarray:
        az, el = _directions(azimuth_deg, elevation_deg)
        return np.stack([np.asarray(s.gain_db(az, el), dtype=np.float64) for s in self.sectors])

    def gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Best sector's gain in dBi toward each (azimuth, elevation), degrees."""
        return _out(np.max(self._stack(azimuth_deg, elevation_deg), axis=0))

    def relative_gain_db(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """:meth:`gain_db` relative to :attr:`peak_gain_dbi`, dB (<= 0)."""
        return _out(np.asarray(self.gain_db(azimuth_deg, elevation_deg)) - self.peak_gain_dbi)

    def best_sector(self, azimuth_deg: Any, elevation_deg: Any) -> Any:
        """Index of the serving (highest-gain) sector toward each direction; ties go to the first.

        Examples
        --------
        >>> SectorSite.three_sector(azimuth0_deg=30.0).best_sector([40.0, 170.0, 260.0], -2.0)
        array([0, 1, 2])
        """
        idx = np.argmax(self._stack(azimuth_deg, elevation_deg), axis=0)
        return int(idx) if idx.ndim == 0 else idx


def three_sector(azimuth0_deg: float = 0.0, **sector_kwargs: Any) -> SectorSite:
    """Shorthand for :meth:`SectorSite.three_sector`."""
    return SectorSite.three_sector(azimuth0_deg, **sector_kwargs)


# --- the elevation angle for a terrain path -----------------------------------------------


def elevation_angle_deg(
    tx_height_amsl_m: Any,
    profile_heights_m: Any,
    spacing_m: float,
    k_factor: float = DEFAULT_K_FACTOR,
    *,
    rx_height_agl_m: float = 1.5,
) -> Any:
    """Elevation angle at which a path leaves the antenna: toward the receiver, or its horizon.

    For a line-of-sight path this is the angle toward the receiving antenna. For an obstructed
    path it is the angle toward the highest obstruction as seen from the antenna (the Tx
    horizon angle of ITM and P.1812): the energy that reaches a shadowed receiver leaves the
    antenna toward the diffracting edge and bends down behind it, so the vertical pattern must
    be read at the edge's angle, not at the (lower) geometric angle to the receiver. Behind a
    ridge the difference is several degrees, i.e. many dB with a 7° vertical beam.

    Earth curvature enters through the effective radius a_e = k · 6371 km: a point at
    distance x appears x² / (2 a_e) lower, so its angle is

    .. math:: \\theta_i = \\arctan\\left(\\frac{h_i - z_\\mathrm{tx}}{x_i}
              - \\frac{x_i}{2 a_e}\\right)

    and the result is the largest of the θ_i over the intermediate points and the receiver
    (whose height includes ``rx_height_agl_m``).

    Parameters
    ----------
    tx_height_amsl_m
        Antenna height above mean sea level (ground plus mast), metres; a scalar or one per
        profile.
    profile_heights_m
        Surface heights along the path, metres AMSL, Tx ground first and Rx ground last
        (terrain plus any clutter between the terminals); 1-D, or 2-D with one profile per row.
    spacing_m
        Distance between consecutive heights, metres, > 0.
    k_factor
        Effective-earth-radius factor (1.51 for Paser).
    rx_height_agl_m
        Receiver height above the last profile point, metres.

    Returns
    -------
    float or numpy.ndarray
        Elevation angle in degrees (negative below the horizontal), one per profile.

    Raises
    ------
    UnitsError
        Non-finite heights or a non-positive spacing, all listed at once.
    InputError
        Heights that are not numbers, fewer than two per profile, or one transmitter height per
        profile with the wrong count; outranks UnitsError when both are found.

    Examples
    --------
    >>> flat = [100.0] * 11  # 10 intervals of 100 m
    >>> round(elevation_angle_deg(130.0, flat, 100.0, rx_height_agl_m=1.5), 3)  # to the Rx
    -1.635
    >>> wall = flat[:5] + [200.0] + flat[6:]  # a 200 m wall 500 m out
    >>> round(elevation_angle_deg(130.0, wall, 100.0), 3)  # to the top of the wall
    7.968
    """
    problems = Problems()
    try:
        h = np.asarray(profile_heights_m, dtype=np.float64)
    except (TypeError, ValueError):
        h = None
        problems.add("profile_heights_m must be an array of numbers (metres AMSL).", InputError)
    if h is not None:
        if h.ndim not in (1, 2) or h.shape[-1] < 2:
            problems.add(
                f"profile_heights_m must be 1-D (one profile) or 2-D (one per row) with at least "
                f"2 heights per profile; received shape {h.shape}.",
                InputError,
            )
        elif not np.all(np.isfinite(h)):
            problems.append(
                f"profile_heights_m holds {int((~np.isfinite(h)).sum())} NaN or infinite "
                "height(s); fill DEM voids before computing angles."
            )
    try:
        z_tx = np.asarray(tx_height_amsl_m, dtype=np.float64)
        if not np.all(np.isfinite(z_tx)):
            raise ValueError
    except (TypeError, ValueError):
        z_tx = None
        problems.append(
            f"tx_height_amsl_m must be finite metres above sea level; received {tx_height_amsl_m!r}."
        )
    dx = _finite(problems, "spacing_m", spacing_m, "metres")
    if dx is not None and dx <= 0.0:
        problems.append(f"spacing_m must be > 0 m; received {spacing_m!r}.")
    rx = _finite(problems, "rx_height_agl_m", rx_height_agl_m, "metres")
    k = _finite(problems, "k_factor", k_factor, "(dimensionless)")
    if k is not None and k <= 0.0:
        problems.append(f"k_factor must be > 0 (1.51 for Paser, 4/3 standard); received {k!r}.")
    if (
        not problems
        and h is not None
        and z_tx is not None
        and h.ndim == 2
        and z_tx.ndim > 0
        and z_tx.shape != (h.shape[0],)
    ):
        problems.add(
            f"tx_height_amsl_m must be a scalar or one value per profile ({h.shape[0]}); "
            f"received shape {z_tx.shape}.",
            InputError,
        )
    _raise("elevation_angle_deg()", problems)
    # every input parsed, or its problem raised above
    assert h is not None and z_tx is not None and dx is not None and rx is not None
    assert k is not None
    a_e = effective_earth_radius_m(k)
    n = h.shape[-1] - 1
    x = dx * np.arange(1, n + 1, dtype=np.float64)
    z = h[..., 1:].copy()
    z[..., -1] += rx
    zt = z_tx[..., None] if z_tx.ndim else z_tx
    tan_theta = (z - zt) / x - x / (2.0 * a_e)
    return _out(np.degrees(np.arctan(np.max(tan_theta, axis=-1))))
