"""Where a plan's inputs came from, and the words that name the area, the terrain and the run.

Shared by the workbook, the printed map and the metadata: the area (Kemendagri code and name),
the terrain text (SYNTHETIC named as such), the input sources with their registry checksums and
licences, the map title, and the software and time of the run.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from blankspot._version import __version__
from blankspot.io.datasets import DESA_FILE, KECAMATAN_CSV_FILE, PLACES_FILE, REGISTRY
from blankspot.reporting.summary import served_targets, terrain_note
from blankspot.reporting.tables import phrase
from blankspot.units import format_idr

if TYPE_CHECKING:
    from blankspot.plan import PlanResult

PASER_KABUPATEN = ("64.01", "Kabupaten Paser, Kalimantan Timur")
"""Kemendagri code and name of the kabupaten the Paser dataset covers."""

PASER_SOURCES: dict[str, dict[str, str]] = {
    "paser_desa.geojson": {
        "role": "desa/kelurahan boundaries, kode wilayah, names; 2010 census population",
        "origin": "cahyadsn/wilayah_boundaries and cahyadsn/wilayah (Kemendagri codes, "
        "Kepmendagri 300.2.2-2138/2025), MIT; BPS Sensus Penduduk 2010 "
        "(digitalheir/Indonesia-Census-2010); BPS crosswalk (ArrayAccess/Indonesia-Postal-And-Area)",
        "phrase": "source_desa",
    },
    "paser_kecamatan.csv": {
        "role": "kecamatan population totals the desa figures are projected to",
        "origin": "BPS SP2010 sums; Dukcapil Visualisasi Data Kependudukan 2020",
        "phrase": "source_kecamatan",
    },
    "paser_places_geonames.csv": {
        "role": "settlement locations: the one settlement of a desa where a place lies inside it",
        "origin": "GeoNames populated places (CC-BY-4.0) joined to the desa polygons",
        "phrase": "source_places",
    },
    "paser_dem_demo_1s_synthetic.tif": {
        "role": "terrain (SYNTHETIC 1 arc-second demo DEM)",
        "origin": "real 5 arc-minute Mapzen terrain relief (via pvlib, BSD-3-Clause) plus "
        "invented detail below 10 km; not survey data",
        "phrase": "source_dem_synthetic",
    },
    "paser_dem_demo_3s_synthetic.tif": {
        "role": "terrain (SYNTHETIC 3 arc-second demo DEM, embedded in blankspot)",
        "origin": "mean of 3x3 blocks of the SYNTHETIC 1 arc-second demo DEM (real 5 arc-minute "
        "Mapzen terrain relief via pvlib, BSD-3-Clause, plus invented detail below 10 km); "
        "not survey data",
        "phrase": "source_dem_synthetic",
    },
}
"""What each Paser input is and where it came from (after ``SOURCES.md`` of the dataset);
``phrase`` names its short credit in :data:`blankspot.reporting.tables.PHRASES`."""

PASER_PERIOD = {
    "tahun_sensus": 2010,
    "tahun_penduduk": 2020,
    "tahun_kode_wilayah": 2025,
}


def input_sources(result: PlanResult) -> list[dict[str, object]]:
    """The inputs of a run: file, role, SHA-256 and licence from the data registry, origin.

    Paser inputs are recognised by name in :data:`blankspot.io.datasets.REGISTRY`; any other
    terrain is listed by the name it was read from.
    """

    terrain_file = str(result.terrain_source).split(" ")[0]
    names = []
    if is_paser(result):
        names += [DESA_FILE, KECAMATAN_CSV_FILE]
        if "GeoNames place" in str(result.demand_model):
            names.append(PLACES_FILE)
    if terrain_file in REGISTRY:
        names.append(terrain_file)
    out: list[dict[str, object]] = []
    for name in names:
        entry = REGISTRY[name]
        note = PASER_SOURCES.get(name, {})
        out.append({
            "file": f"{entry.relpath}",
            "role": note.get("role", ""),
            "origin": note.get("origin", ""),
            "sha256": entry.sha256,
            "licence": entry.licence,
            "registry": f"data/{entry.kind}/registry.txt",
            "synthetic": entry.licence.startswith("synthetic"),
        })
    if terrain_file not in REGISTRY:
        out.append({
            "file": Path(terrain_file).name,
            "role": "terrain",
            "origin": str(result.terrain_source),
            "sha256": None,
            "licence": None,
            "synthetic": bool(result.terrain_synthetic),
        })
    if is_paser(result):
        out.append({"file": "boundaries/SOURCES.md",
                    "role": "provenance of every Paser file (origin, processing, known gaps)",
                    "origin": "dataset notes", "sha256": REGISTRY["SOURCES.md"].sha256,
                    "licence": REGISTRY["SOURCES.md"].licence})
    for fetched in result.data_sources:  # public data from `blankspot data fetch`
        out.append({"file": fetched.get("file"),
                     "role": f"{fetched.get('source')} ({fetched.get('kind')})",
                     "origin": fetched.get("title") or fetched.get("url"),
                     "url": fetched.get("url"), "bytes": fetched.get("bytes"),
                     "sha256": fetched.get("sha256"), "date": fetched.get("date"),
                     "licence": fetched.get("licence"), "attribution": fetched.get("attribution")})
    return out


def now_iso() -> str:
    """Now as ISO 8601 in UTC, or ``$SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return when.replace(microsecond=0).isoformat()


def version() -> str:
    return __version__


def software() -> dict[str, str]:
    import rasterio

    return {"blankspot": __version__, "python": sys.version.split()[0], "numpy": np.__version__,
            "pandas": pd.__version__, "rasterio": rasterio.__version__,
            "gdal": rasterio.__gdal_version__}


def is_paser(result: PlanResult) -> bool:
    ids = result.villages.index.astype(str)
    return len(ids) > 0 and bool(ids.str.startswith(PASER_KABUPATEN[0] + ".").all())


def area_of(result: PlanResult) -> tuple[str, str]:
    """(Kemendagri code, name) of the area the villages cover: Paser, or the common prefix."""
    if is_paser(result):
        return PASER_KABUPATEN
    ids = result.villages.index.astype(str)
    prefixes = {".".join(i.split(".")[:2]) for i in ids}
    code = prefixes.pop() if len(prefixes) == 1 else ""
    return code, (f"Kabupaten/Kota {code}" if code else "study area")


def crs_label(result: PlanResult) -> str:
    crs = result.coverage.crs
    epsg = crs.to_epsg()
    return f"{crs.name} (EPSG:{epsg})" if epsg else crs.name


def terrain_text(result: PlanResult, lang: str) -> str:

    if result.terrain_synthetic:
        return phrase("synthetic_terrain", lang)
    return terrain_note(result)


def short_sources(result: PlanResult, lang: str) -> list[str]:
    out = []
    for s in input_sources(result):
        name = Path(str(s["file"])).name
        if name in PASER_SOURCES:
            out.append(phrase(PASER_SOURCES[name]["phrase"], lang))
        elif s["role"] == "terrain":
            out.append(f"DEM: {s['origin']}")
    return out


def map_title(result: PlanResult, lang: str) -> str:
    cfg = result.config
    return phrase(
        "map_title", lang, n=len(result.ranking), cost=format_idr(result.total_cost_idr),
        budget=format_idr(cfg.budget_idr),
        people=f"{result.people_covered:,.0f}".replace(",", "." if lang == "id" else ","),
        n_target=len(result.target_ids), n_served=len(served_targets(result)),
    )
