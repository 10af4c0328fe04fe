"""The public data providers behind ``blankspot data fetch``: URL layouts, file names, formats.

Each provider's base URL is a setting: the module constant below, overridden by an environment
variable (named in :data:`PROVIDERS`) or by the ``base_urls`` argument of
:func:`blankspot.io.fetch.fetch_area`. Tests point them at a local server.

=============  ======================================================  ==========================
source         files (relative to the base URL)                         licence
=============  ======================================================  ==========================
``dem``        ``tileList.txt``; ``{tile}/{tile}.tif`` with tile         Copernicus DEM licence
               ``Copernicus_DSM_COG_10_S02_00_E116_00_DEM`` (1°x1°,     (free, attribution)
               named by the south-west corner)
``landcover``  ``v200/2021/esa_worldcover_grid.geojson``;                CC BY 4.0
               ``v200/2021/map/ESA_WorldCover_10m_2021_v200_S03E114_Map.tif``
               (3°x3°, named by the south-west corner)
``population`` ``GIS/Population/Global_2000_2020_Constrained/2020/BSGM/  CC BY 4.0
               IDN/idn_ppp_2020_constrained.tif`` (one file per country)
``osm``        the Overpass API ``interpreter``: POST ``data=<query>``,  ODbL 1.0
               ``[out:json]`` answer
``towers``     ``ocid/downloads?token=...&type=mcc&file=510.csv.gz``     CC BY-SA 4.0
               (OpenCelliD, every cell of one MCC, gzipped CSV)
=============  ======================================================  ==========================
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Bounds = tuple[float, float, float, float]
"""(lon_min, lat_min, lon_max, lat_max) in degrees, WGS 84."""


@dataclass(frozen=True)
class Provider:
    """One source of ``blankspot data fetch``."""

    source: str
    """The name on the command line: ``dem``, ``landcover``, ``population``, ``osm``, ``towers``."""
    title: str
    """The product, e.g. "Copernicus DEM GLO-30"."""
    base_url: str
    """Default base URL (no trailing slash)."""
    env: str
    """Environment variable that overrides :attr:`base_url`."""
    licence: str
    """Licence token, as in the Paser registry (e.g. ``CC-BY-4.0``)."""
    attribution: str
    """The credit line the licence asks for."""
    margin_km: float
    """Margin added around the area: signals cross its edge, so terrain reaches 30 km beyond."""
    size_note: str
    """What a download costs, for the README and ``--help``."""

    def url(self, base_urls: Mapping[str, str] | None = None) -> str:
        """The base URL in effect: ``base_urls[source]``, else ``$ENV``, else the default."""
        if base_urls and base_urls.get(self.source):
            return base_urls[self.source].rstrip("/")
        return os.environ.get(self.env, self.base_url).rstrip("/")


PROVIDERS: dict[str, Provider] = {
    "dem": Provider(
        "dem",
        "Copernicus DEM GLO-30 (1 arc-second DSM, 2021 release)",
        "https://copernicus-dem-30m.s3.amazonaws.com",
        "BLANKSPOT_COPERNICUS_URL",
        "Copernicus-DEM",
        "Copernicus DEM GLO-30 © DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH "
        "2014-2018, provided under COPERNICUS by the European Union and ESA; all rights reserved",
        30.0,
        "about 10-40 MB per 1°x1° tile (Paser with its margin: 6 tiles, ~150 MB)",
    ),
    "landcover": Provider(
        "landcover",
        "ESA WorldCover 10 m 2021 v200",
        "https://esa-worldcover.s3.eu-central-1.amazonaws.com",
        "BLANKSPOT_WORLDCOVER_URL",
        "CC-BY-4.0",
        "© ESA WorldCover project 2021 / Contains modified Copernicus Sentinel data (2021) "
        "processed by ESA WorldCover consortium",
        30.0,
        "about 50-150 MB per 3°x3° tile (Paser: 1 tile)",
    ),
    "population": Provider(
        "population",
        "WorldPop 2020 constrained population counts, 100 m (Indonesia)",
        "https://data.worldpop.org",
        "BLANKSPOT_WORLDPOP_URL",
        "CC-BY-4.0",
        "WorldPop (www.worldpop.org, School of Geography and Environmental Science, University "
        "of Southampton) and CIESIN, Columbia University (2020): Global High Resolution "
        "Population Denominators Project, doi:10.5258/SOTON/WP00685",
        0.0,
        "one national file, about 100 MB for Indonesia (shared by every area)",
    ),
    "osm": Provider(
        "osm",
        "OpenStreetMap roads, power lines and settlements (Overpass API)",
        "https://overpass-api.de/api/interpreter",
        "BLANKSPOT_OVERPASS_URL",
        "ODbL-1.0",
        "© OpenStreetMap contributors, available under the Open Database License (ODbL)",
        0.0,
        "one query per area, a few MB for a kabupaten",
    ),
    "towers": Provider(
        "towers",
        "OpenCelliD cells (MCC 510, Indonesia)",
        "https://opencellid.org",
        "BLANKSPOT_OPENCELLID_URL",
        "CC-BY-SA-4.0",
        "OpenCelliD Project (opencellid.org), licensed under CC BY-SA 4.0",
        30.0,
        "one national file, about 10-30 MB gzipped for MCC 510; needs a free API token",
    ),
}
"""Every source of ``blankspot data fetch``, by name."""

SOURCES: tuple[str, ...] = tuple(PROVIDERS)

OPENCELLID_KEY_ENV = "OPENCELLID_API_KEY"
"""Environment variable holding the OpenCelliD API token."""

INDONESIA_MCC = 510
"""Mobile country code of Indonesia."""


# --- Copernicus DEM GLO-30 -----------------------------------------------------------------------
COPERNICUS_TILE_LIST = "tileList.txt"
"""The bucket's list of every tile that exists (sea tiles do not)."""


def _ns(lat: int) -> str:
    return f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"


def _ew(lon: int) -> str:
    return f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}"


def copernicus_tile(lat: int, lon: int) -> str:
    """The GLO-30 tile whose south-west corner is (``lat``, ``lon``).

    >>> copernicus_tile(-2, 116)
    'Copernicus_DSM_COG_10_S02_00_E116_00_DEM'
    """
    return f"Copernicus_DSM_COG_10_{_ns(lat)}_00_{_ew(lon)}_00_DEM"


def copernicus_tile_path(tile: str) -> str:
    """``{tile}/{tile}.tif``, the tile's path under the bucket."""
    return f"{tile}/{tile}.tif"


def _cells(bounds: Bounds, step: int) -> list[tuple[int, int]]:
    """South-west corners (lat, lon) of the ``step``-degree cells that ``bounds`` overlaps."""
    lon_min, lat_min, lon_max, lat_max = bounds
    lats = range(math.floor(lat_min / step) * step, math.ceil(lat_max / step) * step, step)
    lons = range(math.floor(lon_min / step) * step, math.ceil(lon_max / step) * step, step)
    return [(lat, lon) for lat in lats for lon in lons]


def copernicus_tiles(bounds: Bounds) -> list[str]:
    """Every GLO-30 tile name that ``bounds`` overlaps (existing or not), south to north.

    >>> copernicus_tiles((115.5, -1.5, 116.2, -0.5))
    ['Copernicus_DSM_COG_10_S02_00_E115_00_DEM', 'Copernicus_DSM_COG_10_S02_00_E116_00_DEM', \
'Copernicus_DSM_COG_10_S01_00_E115_00_DEM', 'Copernicus_DSM_COG_10_S01_00_E116_00_DEM']
    """
    return [copernicus_tile(lat, lon) for lat, lon in _cells(bounds, 1)]


def parse_copernicus_tile_list(text: str) -> set[str]:
    """Tile names from ``tileList.txt`` (one per line, with or without ``.tif``)."""
    names = set()
    for line in text.splitlines():
        name = line.strip().rsplit("/", 1)[-1]
        if name:
            names.add(name.removesuffix(".tif"))
    return names


# --- ESA WorldCover ------------------------------------------------------------------------------
WORLDCOVER_GRID = "v200/2021/esa_worldcover_grid.geojson"
"""GeoJSON of every existing 3°x3° tile, with its name in the property ``ll_tile``."""


def worldcover_tile(lat: int, lon: int) -> str:
    """The WorldCover tile id whose south-west corner is (``lat``, ``lon``), multiples of 3.

    >>> worldcover_tile(-3, 114)
    'S03E114'
    """
    return f"{_ns(lat)}{_ew(lon)}"


def worldcover_tiles(bounds: Bounds) -> list[str]:
    """Every 3°x3° WorldCover tile id that ``bounds`` overlaps (existing or not).

    >>> worldcover_tiles((115.3, -2.7, 116.9, -0.6))
    ['S03E114']
    """
    return [worldcover_tile(lat, lon) for lat, lon in _cells(bounds, 3)]


def worldcover_tile_path(tile: str) -> str:
    """``v200/2021/map/ESA_WorldCover_10m_2021_v200_{tile}_Map.tif``."""
    return f"v200/2021/map/ESA_WorldCover_10m_2021_v200_{tile}_Map.tif"


def parse_worldcover_grid(grid: Mapping[str, Any]) -> set[str]:
    """Tile ids (``ll_tile``) of the WorldCover grid GeoJSON."""
    return {
        str(f["properties"]["ll_tile"])
        for f in grid.get("features", [])
        if f.get("properties", {}).get("ll_tile")
    }


# --- WorldPop ------------------------------------------------------------------------------------
def worldpop_path(iso3: str = "IDN") -> str:
    """The constrained 2020 100 m population counts of one country, under the base URL.

    >>> worldpop_path()
    'GIS/Population/Global_2000_2020_Constrained/2020/BSGM/IDN/idn_ppp_2020_constrained.tif'
    """
    iso3 = iso3.upper()
    return (
        f"GIS/Population/Global_2000_2020_Constrained/2020/BSGM/{iso3}/"
        f"{iso3.lower()}_ppp_2020_constrained.tif"
    )


# --- OpenStreetMap via Overpass ------------------------------------------------------------------
OSM_ROAD_CLASSES = (
    "motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential",
    "living_street", "service", "track", "road",
    "motorway_link", "trunk_link", "primary_link", "secondary_link", "tertiary_link",
)
OSM_POWER = ("line", "minor_line")
OSM_PLACES = ("town", "village", "hamlet", "isolated_dwelling")


def overpass_query(bounds: Bounds, timeout_s: int = 180) -> str:
    """The Overpass QL query for roads, power lines and settlement places in ``bounds``.

    Ways come with their geometry (``out geom``), so the answer needs no node lookups.
    """
    lon_min, lat_min, lon_max, lat_max = bounds
    bbox = f"({lat_min:.6f},{lon_min:.6f},{lat_max:.6f},{lon_max:.6f})"
    roads = "|".join(OSM_ROAD_CLASSES)
    power = "|".join(OSM_POWER)
    places = "|".join(OSM_PLACES)
    return (
        f"[out:json][timeout:{int(timeout_s)}];\n(\n"
        f'  way["highway"~"^({roads})$"]{bbox};\n'
        f'  way["power"~"^({power})$"]{bbox};\n'
        f'  node["place"~"^({places})$"]{bbox};\n'
        ");\nout geom;\n"
    )


def overpass_layers(answer: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Split an Overpass JSON answer into ``roads``, ``power`` and ``places`` records.

    Each record has ``osm_id``, the relevant tags and ``coords``: a list of (lon, lat) for ways,
    one (lon, lat) for nodes. Ways with fewer than two points are dropped.
    """
    layers: dict[str, list[dict[str, Any]]] = {"roads": [], "power": [], "places": []}
    for el in answer.get("elements", []):
        tags = el.get("tags", {}) or {}
        if el.get("type") == "way":
            coords = [(p["lon"], p["lat"]) for p in el.get("geometry", []) or [] if p]
            if len(coords) < 2:
                continue
            if tags.get("highway") in OSM_ROAD_CLASSES:
                layers["roads"].append({
                    "osm_id": el["id"], "highway": tags.get("highway"), "name": tags.get("name"),
                    "surface": tags.get("surface"), "coords": coords,
                })
            elif tags.get("power") in OSM_POWER:
                layers["power"].append({
                    "osm_id": el["id"], "power": tags.get("power"),
                    "voltage": tags.get("voltage"), "name": tags.get("name"), "coords": coords,
                })
        elif el.get("type") == "node" and tags.get("place") in OSM_PLACES:
            layers["places"].append({
                "osm_id": el["id"], "place": tags.get("place"), "name": tags.get("name"),
                "population": tags.get("population"), "coords": (el["lon"], el["lat"]),
            })
    return layers


# --- OpenCelliD ----------------------------------------------------------------------------------
OPENCELLID_COLUMNS = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)
"""Columns of the OpenCelliD cell export (the per-country files have no header row)."""


def opencellid_query(mcc: int = INDONESIA_MCC) -> str:
    """The path and query of the per-country export, without the token.

    >>> opencellid_query()
    'ocid/downloads?type=mcc&file=510.csv.gz'
    """
    return f"ocid/downloads?type=mcc&file={int(mcc)}.csv.gz"


def opencellid_file(mcc: int = INDONESIA_MCC) -> str:
    """The export's file name, e.g. ``510.csv.gz``."""
    return f"{int(mcc)}.csv.gz"
