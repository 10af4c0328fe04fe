"""CRS helpers: make a :class:`pyproj.CRS` once, at the edge, and check it is metric."""

from __future__ import annotations

import math

from pyproj import CRS

from blankspot.errors import CRSError

WGS84 = CRS.from_epsg(4326)
PASER_CRS = CRS.from_epsg(32750)
"""WGS 84 / UTM zone 50S, the analysis CRS for Kabupaten Paser."""


def as_crs(value: object) -> CRS:
    """A :class:`pyproj.CRS` from anything pyproj accepts ("EPSG:32750", 32750, WKT, a CRS)."""
    if value is None:
        raise CRSError("a CRS is required but None was given; pass e.g. crs='EPSG:32750'.")
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises its own CRSError
        raise CRSError(
            f"could not understand CRS {value!r} ({exc}); pass an EPSG code such as 'EPSG:32750'."
        ) from exc


def is_metric(crs: CRS) -> bool:
    """True when ``crs`` is projected with metre axes."""
    if not crs.is_projected:
        return False
    return all(
        axis.unit_conversion_factor is not None and abs(axis.unit_conversion_factor - 1.0) < 1e-12
        for axis in crs.axis_info[:2]
    )


def require_metric(crs: object, what: str = "data") -> CRS:
    """Return ``crs`` as a CRS, or raise :class:`CRSError` if it is not projected in metres."""
    out = as_crs(crs)
    if not is_metric(out):
        kind = "geographic, degrees" if out.is_geographic else "not in metres"
        raise CRSError(
            f"{what} is in {out.to_string()} ({kind}) but a projected CRS in metres is needed for "
            f"distances and heights. Read it with blankspot.io using crs='EPSG:32750' (UTM 50S, "
            f"Paser) or let the reader choose a UTM zone, or call .to_crs() first."
        )
    return out


def utm_crs_for(lon_min: float, lat_min: float, lon_max: float, lat_max: float) -> CRS:
    """The WGS 84 / UTM CRS whose zone holds the centre of a lon/lat box.

    >>> utm_crs_for(115.6, -2.4, 116.6, -0.97).to_epsg()
    32750
    """
    lon = (lon_min + lon_max) / 2.0
    lat = (lat_min + lat_max) / 2.0
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise CRSError(
            f"cannot choose a UTM zone for centre lon {lon}, lat {lat}: not valid degrees. "
            "Is the data's CRS declared correctly?"
        )
    zone = min(math.floor((lon + 180.0) / 6.0) + 1, 60)
    return CRS.from_epsg((32700 if lat < 0 else 32600) + zone)


def require_same(crs_a: object, crs_b: object, what_a: str, what_b: str) -> None:
    """Raise :class:`CRSError` when two CRSs differ; compute functions never reproject silently."""
    a, b = as_crs(crs_a), as_crs(crs_b)
    if a != b:
        raise CRSError(
            f"{what_a} are in {a.to_string()} but {what_b} is in {b.to_string()}; blankspot does "
            f"not reproject inside computations. Read both with blankspot.io using the same crs=, "
            f"or call .to_crs() on {what_a} first."
        )
