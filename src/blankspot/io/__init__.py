"""Reading and writing: the only part of blankspot that touches disk.

- :mod:`blankspot.io.datasets`: the Paser data registry, :func:`fetch_paser`, :func:`paser_path`.
- :mod:`blankspot.io.fetch`: :func:`fetch_area` (real public data for an area, from the
  providers in :mod:`blankspot.io.providers`) and :func:`fetched_sources` (its registry).
- :mod:`blankspot.io.vectors`: :func:`read_villages`, :func:`read_sites` and the sites schema.
- :mod:`blankspot.io.terrain`: :func:`read_terrain` (GeoTIFF, SRTM ``.hgt``, VRT, tiles).
- :mod:`blankspot.io.outputs`: atomic writers (:func:`write_csv`, :func:`write_raster`,
  :func:`write_cog`, :func:`write_geopackage`, :func:`write_xlsx`, :func:`write_figure`, ...).

Submodules are imported on first use, so ``blankspot data status`` does not pay for geopandas
and rasterio.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "datasets": (
        "BOUNDARIES_DIR",
        "DEM_ETOPO5_FILE",
        "DEM_MAPZEN_FILE",
        "DEMO_DEM_3S_FILE",
        "DEMO_DEM_FILE",
        "DESA_CSV_FILE",
        "DESA_FILE",
        "KABUPATEN_FILE",
        "KECAMATAN_CSV_FILE",
        "KECAMATAN_FILE",
        "PLACES_FILE",
        "POPULATION_SP2010_FILE",
        "REGISTRY",
        "SOURCES_FILE",
        "TERRAIN_DIR",
        "RegistryEntry",
        "embedded_data_dir",
        "embedded_path",
        "fetch_paser",
        "paser_path",
        "sha256_file",
        "verify_paser",
    ),
    "fetch": ("FetchSettings", "fetch_area", "fetched_areas", "fetched_sources"),
    "vectors": (
        "PASER_VILLAGE_COLUMNS",
        "SITE_COLUMNS",
        "read_sites",
        "read_villages",
        "sites_frame",
        "validate_sites",
    ),
    "terrain": ("default_res_m", "read_terrain"),
    "outputs": (
        "atomic_path",
        "write_cog",
        "write_csv",
        "write_figure",
        "write_geopackage",
        "write_raster",
        "write_text",
        "write_xlsx",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "BOUNDARIES_DIR",
    "DEMO_DEM_3S_FILE",
    "DEMO_DEM_FILE",
    "DEM_ETOPO5_FILE",
    "DEM_MAPZEN_FILE",
    "DESA_CSV_FILE",
    "DESA_FILE",
    "KABUPATEN_FILE",
    "KECAMATAN_CSV_FILE",
    "KECAMATAN_FILE",
    "PASER_VILLAGE_COLUMNS",
    "PLACES_FILE",
    "POPULATION_SP2010_FILE",
    "REGISTRY",
    "SITE_COLUMNS",
    "SOURCES_FILE",
    "TERRAIN_DIR",
    "FetchSettings",
    "RegistryEntry",
    "atomic_path",
    "default_res_m",
    "embedded_data_dir",
    "embedded_path",
    "fetch_area",
    "fetch_paser",
    "fetched_areas",
    "fetched_sources",
    "paser_path",
    "read_sites",
    "read_terrain",
    "read_villages",
    "sha256_file",
    "sites_frame",
    "validate_sites",
    "verify_paser",
    "write_cog",
    "write_csv",
    "write_figure",
    "write_geopackage",
    "write_raster",
    "write_text",
    "write_xlsx",
]

if TYPE_CHECKING:  # pragma: no cover
    from blankspot.io.datasets import (
        BOUNDARIES_DIR,
        DEM_ETOPO5_FILE,
        DEM_MAPZEN_FILE,
        DEMO_DEM_3S_FILE,
        DEMO_DEM_FILE,
        DESA_CSV_FILE,
        DESA_FILE,
        KABUPATEN_FILE,
        KECAMATAN_CSV_FILE,
        KECAMATAN_FILE,
        PLACES_FILE,
        POPULATION_SP2010_FILE,
        REGISTRY,
        SOURCES_FILE,
        TERRAIN_DIR,
        RegistryEntry,
        embedded_data_dir,
        embedded_path,
        fetch_paser,
        paser_path,
        sha256_file,
        verify_paser,
    )
    from blankspot.io.fetch import FetchSettings, fetch_area, fetched_areas, fetched_sources
    from blankspot.io.outputs import (
        atomic_path,
        write_cog,
        write_csv,
        write_figure,
        write_geopackage,
        write_raster,
        write_text,
        write_xlsx,
    )
    from blankspot.io.terrain import default_res_m, read_terrain
    from blankspot.io.vectors import (
        PASER_VILLAGE_COLUMNS,
        SITE_COLUMNS,
        read_sites,
        read_villages,
        sites_frame,
        validate_sites,
    )


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'blankspot.io' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"blankspot.io.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
