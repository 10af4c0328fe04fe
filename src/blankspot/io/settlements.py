"""Settlement points for the demand layer: a planner's file, OpenStreetMap places, GeoNames places.

Every reader returns points in the analysis CRS with ``name``, ``population`` (persons; NaN
where unknown) and ``source`` (``"settlement file"``, ``"OSM place"``, ``"GeoNames place"``),
the columns :func:`blankspot.demand.demand_layer` takes.

A settlement file is a table (``.csv``, ``.tsv``, ``.txt``) with ``name``, ``lon`` and ``lat``
(or ``longitude``/``latitude``, ``x``/``y``; WGS 84 degrees) and an optional ``population``,
or any point vector file GDAL reads with ``name`` and optional ``population`` fields. Column
names are matched without regard to case. Every problem of a file is reported at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from blankspot.crs import WGS84
from blankspot.errors import CRSError, DataError, Problems, SchemaError, listing
from blankspot.io.vectors import _numeric, _read_table, _read_vector

__all__ = [
    "SOURCE_FILE",
    "SOURCE_GEONAMES",
    "SOURCE_OSM",
    "read_geonames_places",
    "read_osm_places",
    "read_settlements",
]

SOURCE_FILE = "settlement file"
SOURCE_OSM = "OSM place"
SOURCE_GEONAMES = "GeoNames place"

_TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
_COORDS = (("lon", "lat"), ("longitude", "latitude"), ("x", "y"))


def _frame(name: Any, population: Any, geometry: Any, source: str, crs: Any) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(
        {"name": np.asarray(name, dtype=object),
         "population": np.asarray(population, dtype=float),
         "source": np.full(len(geometry), source, dtype=object)},
        geometry=geometry,
    )
    return out.to_crs(crs) if crs is not None else out


def read_settlements(path: str | os.PathLike[str], crs: Any) -> gpd.GeoDataFrame:
    """Settlement points (dusun, kampung) from a planner's table or point vector file.

    Parameters
    ----------
    path
        A table with ``name``, ``lon``, ``lat`` and optional ``population``, or a point vector
        file with ``name`` and optional ``population`` (module docstring).
    crs
        The analysis CRS the points are returned in.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``population`` (NaN where empty), ``source`` = ``"settlement file"``, Point
        geometry in ``crs``, in the file's order.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    CRSError
        A vector file declares no CRS.
    SchemaError
        Every other problem at once: no rows, a missing ``name`` or coordinate column,
        coordinates that are not numbers, missing or outside -180..180 / -90..90, a population
        that is not a number or negative, geometries that are not points.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "dusun.csv"
    >>> _ = f.write_text("name,lon,lat,population\\nDusun A,116.3,-2.3,120\\nDusun B,116.31,-2.31,\\n")
    >>> s = read_settlements(f, "EPSG:32750")
    >>> s[["name", "population", "source"]].to_dict("list")
    {'name': ['Dusun A', 'Dusun B'], 'population': [120.0, nan], 'source': ['settlement file', 'settlement file']}
    """
    what = f"settlement file {os.fspath(path)}"
    problems = Problems()
    table = Path(os.fspath(path)).suffix.lower() in _TABLE_SUFFIXES
    if table:
        df = _read_table(path, "settlement")
        geoms = None
    else:
        gdf = _read_vector(path, None, "settlement")
        geoms = gdf.geometry
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if len(df) == 0:
        problems.add("the file has no rows; expected one settlement per row (name, lon, lat, "
                     "optional population).")
        problems.raise_if_any(what)
    lower = {str(c).strip().lower(): c for c in df.columns}
    columns = ", ".join(map(str, df.columns)) or "none"
    name_col = lower.get("name")
    if name_col is None:
        problems.add(f"no 'name' column (columns: {columns}); add the settlement's name.")
    labels = [f"row {i + 2 if table else i + 1}" for i in range(len(df))]
    if name_col is not None:
        labels = [f"{lab} ({n})" if isinstance(n, str) and n.strip() else lab
                  for lab, n in zip(labels, df[name_col], strict=True)]
    lab = np.asarray(labels, dtype=object)

    population = np.full(len(df), np.nan)
    pop_col = lower.get("population")
    if pop_col is not None:
        values, bad = _numeric(df[pop_col])
        population = values.to_numpy(dtype=float)
        if bad.any():
            problems.add(f"population is not a number in {listing(lab[bad])}; give persons, "
                         "e.g. 120, or leave it empty.")
        negative = ~bad & (population < 0)
        if negative.any():
            problems.add(f"negative population in {listing(lab[negative])}.")

    if geoms is None:
        pair = next(((lo, la) for lo, la in _COORDS if lo in lower and la in lower), None)
        if pair is None:
            problems.add(f"no coordinate columns (columns: {columns}); give 'lon' and 'lat' in "
                         "WGS 84 decimal degrees, e.g. 116.05, -1.85.")
            problems.raise_if_any(what)
            raise AssertionError  # unreachable: a problem was added
        lon_raw, lat_raw = df[lower[pair[0]]], df[lower[pair[1]]]
        lon_v, lon_bad = _numeric(lon_raw)
        lat_v, lat_bad = _numeric(lat_raw)
        lon, lat = lon_v.to_numpy(dtype=float), lat_v.to_numpy(dtype=float)
        bad = lon_bad | lat_bad
        if bad.any():
            shown = [f"{la}=({a!r}, {b!r})" for la, a, b in
                     zip(lab[bad], lon_raw[bad], lat_raw[bad], strict=True)]
            problems.add(f"coordinates are not numbers in {listing(shown)}; use decimal "
                         "degrees with a point, e.g. 116.05, -1.85.")
        missing = ~bad & (np.isnan(lon) | np.isnan(lat))
        if missing.any():
            problems.add(f"missing coordinates in {listing(lab[missing])}.")
        ok = ~bad & ~missing
        out_of_range = ok & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
        if out_of_range.any():
            shown = [f"{la}=({a:g}, {b:g})" for la, a, b in
                     zip(lab[out_of_range], lon[out_of_range], lat[out_of_range], strict=True)]
            swapped = np.abs(lat[out_of_range]) <= 180
            hint = (" Are lon and lat swapped?" if (np.abs(lon[out_of_range]) <= 90).all()
                    and swapped.all() else " Are they projected metres? Give WGS 84 degrees.")
            problems.add(f"coordinates outside lon -180..180 / lat -90..90 in {listing(shown)}."
                         + hint)
        problems.raise_if_any(what)
        geometry = gpd.GeoSeries(shapely.points(lon, lat), crs=WGS84)
    else:
        if geoms.crs is None:
            problems.add("the file declares no CRS, so the settlements cannot be placed; add "
                         "one, or give a CSV with lon/lat columns.", CRSError)
        kinds = shapely.get_type_id(geoms.to_numpy())
        not_point = (kinds != 0) | shapely.is_empty(geoms.to_numpy())
        if not_point.any():
            problems.add(f"geometries that are not points in {listing(lab[not_point])}; give "
                         "one point per settlement.")
        problems.raise_if_any(what)
        geometry = geoms
    names = df[name_col].fillna("").astype(str).str.strip() if name_col is not None else ""
    return _frame(names, population, geometry, SOURCE_FILE, crs)


def read_osm_places(path: str | os.PathLike[str], crs: Any) -> gpd.GeoDataFrame | None:
    """The ``places`` layer of an OSM GeoPackage (as ``blankspot data fetch osm`` writes it:
    place nodes tagged village, hamlet, isolated_dwelling or town), or None without one.

    A ``population`` tag that is not a number counts as unknown.
    """
    try:
        layers = set(pyogrio.list_layers(path)[:, 0])
    except Exception as exc:  # pyogrio raises its own DataSourceError for unreadable files
        raise DataError(f"{os.fspath(path)} is not a readable GeoPackage ({exc}); fetch it again "
                        "with: blankspot data fetch osm --area AREA --refresh") from exc
    if "places" not in layers:
        return None
    frame = gpd.read_file(path, layer="places")
    if len(frame) == 0:
        return None
    names = frame["name"] if "name" in frame.columns else pd.Series("", index=frame.index)
    population = (pd.to_numeric(frame["population"], errors="coerce")
                  if "population" in frame.columns else np.full(len(frame), np.nan))
    return _frame(names.fillna("").astype(str), population, frame.geometry, SOURCE_OSM, crs)


def read_geonames_places(path: str | os.PathLike[str], crs: Any) -> gpd.GeoDataFrame:
    """The GeoNames places table of the Paser dataset (``name``, ``lon``, ``lat``): the known
    location of a desa's one settlement when nothing better is at hand.

    Its populations are 0 for every Paser place (GeoNames does not know them), so they are not
    used: the population is NaN.
    """
    table = pd.read_csv(path)
    missing = [c for c in ("name", "lon", "lat") if c not in table.columns]
    if missing:
        raise SchemaError(f"places table {os.fspath(path)} lacks the column(s) "
                          f"{', '.join(missing)}; expected name, lon, lat (GeoNames).")
    geometry = gpd.GeoSeries(gpd.points_from_xy(table["lon"], table["lat"]), crs=WGS84)
    return _frame(table["name"].astype(str), np.full(len(table), np.nan), geometry,
                  SOURCE_GEONAMES, crs)
