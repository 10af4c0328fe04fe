"""Read villages and sites into schema-checked GeoDataFrames in a metric CRS.

Both readers check everything before returning and report every problem in one exception, so a
planner fixes a file in one pass. Identifiers are always strings (``"64.01.01.2009"`` never becomes
a number). Geometries are reprojected to the analysis CRS on read: ``crs=`` if given, else the
WGS 84 / UTM zone of the data (EPSG:32750 for Paser).

Sites schema
------------
The frame every sites consumer relies on (:func:`read_sites`, :func:`sites_frame`,
:func:`validate_sites`):

=============== ================ =====================================================
name            dtype            meaning
=============== ================ =====================================================
index site_id   str              unique, non-empty identifier
height_agl_m    float64          antenna height above ground level, metres, >= 0
cost_idr        Int64 (nullable) cost in Rupiah, integer >= 0; ``<NA>`` when not given
source          str              where the site came from (``"user"`` for files)
geometry        Point            in a projected CRS with metre axes
=============== ================ =====================================================

Other columns of the file are kept after these.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.validation import explain_validity

from blankspot.crs import WGS84, as_crs, is_metric, require_metric, utm_crs_for
from blankspot.errors import CRSError, DataError, Problems, SchemaError, UnitsError, listing

if TYPE_CHECKING:
    import numpy.typing as npt

    from blankspot.terrain import Terrain

__all__ = [
    "PASER_VILLAGE_COLUMNS",
    "SITE_COLUMNS",
    "read_sites",
    "read_villages",
    "sites_frame",
    "validate_sites",
]

PASER_VILLAGE_COLUMNS: dict[str, str] = {
    "village_id": "kode",
    "name": "nama",
    "kecamatan": "nama_kec",
    "kecamatan_id": "kode_kec",
    "population": "penduduk_2010",
}
"""Our village fields -> columns of ``paser_desa.geojson``; the default of :func:`read_villages`."""

_VILLAGE_REQUIRED = ("village_id", "name")
_VILLAGE_KEYS = ("village_id", "name", "kecamatan", "kecamatan_id", "population")

SITE_COLUMNS = ("height_agl_m", "cost_idr", "source")
MAX_COST_IDR = 10**15
"""The largest cost of one site, in Rupiah (Rp 1,000 trillion): sums stay within int64."""
"""Columns of the sites schema, in order (the index is ``site_id``; geometry comes last)."""

_SITE_DEFAULTS: dict[str, tuple[str, ...]] = {
    "site_id": ("site_id", "id"),
    "height_agl_m": ("height_agl_m",),
    "cost_idr": ("cost_idr",),
}
_COORD_DEFAULTS = (("lon", "lat"), ("longitude", "latitude"), ("x", "y"))
_SITE_KEYS = ("site_id", "height_agl_m", "cost_idr", "lon", "lat")
_TABLE_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}


# --- shared helpers ----------------------------------------------------------------------------
def _read_vector(
    path: str | os.PathLike[str], layer: str | int | None, what: str
) -> gpd.GeoDataFrame:
    path_s = os.fspath(path)
    if not Path(path_s).exists() and "://" not in path_s and not path_s.startswith("/vsi"):
        raise DataError(f"{what} file not found: {path_s}. Check the path.")
    try:
        return gpd.read_file(path_s, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise DataError(
            f"could not read {what} file {path_s} ({type(exc).__name__}: {exc}). Is it a vector "
            "format GDAL reads (GeoPackage, GeoJSON, Shapefile, ...)? For several layers pass "
            "layer=."
        ) from exc


def _as_id_strings(raw: pd.Series) -> pd.Series:
    """Identifiers as stripped strings; NaN where missing or blank. Whole floats lose the ``.0``."""
    if pd.api.types.is_float_dtype(raw):
        out = pd.Series(np.nan, index=raw.index, dtype=object)
        ok = raw.notna()
        vals = raw[ok].to_numpy(dtype=float)
        whole = np.isfinite(vals) & (vals == np.round(vals))
        out.loc[ok] = [  # type: ignore[call-overload]  # pandas-stubs: object values in .loc
            str(int(v)) if w else repr(v) for v, w in zip(vals, whole, strict=True)
        ]
        return out
    ok = raw.notna()
    out = pd.Series(np.nan, index=raw.index, dtype=object)
    out.loc[ok] = raw[ok].astype(str).str.strip()  # type: ignore[assignment]  # pandas-stubs
    return out.where(out.astype(str) != "", np.nan)


def _labels(ids: pd.Series) -> list[str]:
    """How a row is named in messages: its id, else its 1-based row number."""
    return [repr(v) if isinstance(v, str) else f"row {i}" for i, v in enumerate(ids, 1)]


def _id_problems(ids: pd.Series, key: str, column: str, problems: Problems) -> None:
    missing = ids.isna().to_numpy()
    if missing.any():
        rows = [f"row {i}" for i in np.flatnonzero(missing) + 1]
        problems.add(
            f"{missing.sum()} {key} value(s) in column {column!r} are missing or empty: "
            f"{listing(rows)}. Every feature needs a unique {key}."
        )
    dup = ids[~missing]
    dup = dup[dup.duplicated(keep=False)]
    if len(dup):
        counts = dup.value_counts()
        problems.add(
            f"{len(counts)} {key} value(s) in column {column!r} occur more than once: "
            f"{listing(f'{v!r} ({n}x)' for v, n in counts.items())}. Ids must be unique."
        )


def _numeric(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Values as float64 (NaN where missing) and a mask of non-missing values that are not numbers."""
    if pd.api.types.is_bool_dtype(raw):
        return pd.Series(np.nan, index=raw.index), raw.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(raw):
        return raw.astype("float64"), np.zeros(len(raw), dtype=bool)
    blank = raw.isna() | (raw.astype(str).str.strip() == "")
    num = pd.to_numeric(raw.where(~blank, np.nan), errors="coerce").astype("float64")
    return num, (~blank & num.isna()).to_numpy()


def _crs_of_bounds_in_utm(geoms: gpd.GeoSeries) -> CRS:
    """The UTM CRS for the lon/lat bounds of ``geoms`` (which must have a CRS)."""
    bounds = geoms.total_bounds
    if geoms.crs.is_geographic:
        lon_min, lat_min, lon_max, lat_max = bounds
    else:
        tr = Transformer.from_crs(geoms.crs, WGS84, always_xy=True)
        left, bottom, right, top = bounds
        lon_min, lat_min, lon_max, lat_max = tr.transform_bounds(
            left, bottom, right, top, densify_pts=21
        )
    return utm_crs_for(lon_min, lat_min, lon_max, lat_max)


def _resolve_columns(
    columns: Mapping[str, str | None] | None,
    defaults: Mapping[str, tuple[str, ...]],
    keys: tuple[str, ...],
    present: list[str],
    problems: Problems,
) -> tuple[dict[str, str | None], set[str]]:
    """Pick the file column for each key: the user's choice, else the first default present.

    Returns ({key: column or None}, keys the user named explicitly).
    """
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(keys))
    if unknown:
        problems.add(
            f"columns= has unknown key(s) {listing(map(repr, unknown))}; the keys are "
            f"{listing(map(repr, keys))} (ours), mapped to column names of the file."
        )
    lower = {c.lower(): c for c in present}
    chosen: dict[str, str | None] = {}
    for key in keys:
        if key in columns:
            chosen[key] = columns[key]
        else:
            hit = next((c for c in defaults.get(key, ()) if c in present), None)
            hit = hit or next(
                (lower[c.lower()] for c in defaults.get(key, ()) if c.lower() in lower), None
            )
            chosen[key] = hit
    return chosen, {k for k in columns if k in keys}


def _name_clashes(
    use: Mapping[str, str], present: Sequence[object], index_key: str, problems: Problems
) -> None:
    """A file column that has one of our names but is not the column mapped to it."""
    for key, col in use.items():
        if key != col and key in present and key not in use.values():
            verb = "becomes the index" if key == index_key else "is filled"
            problems.add(
                f"the file has a column {key!r}, but {key} {verb} from column {col!r}; rename "
                f"the file's {key!r} column or map it with columns={{{key!r}: {key!r}}}."
            )


def _geometry_problems(
    geoms: gpd.GeoSeries,
    labels: list[str],
    allowed: tuple[str, ...],
    problems: Problems,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Report null, empty and wrong-type geometries; return the mask of usable ones."""
    skip = np.zeros(len(geoms), dtype=bool) if skip is None else skip
    arr = geoms.to_numpy()
    null = shapely.is_missing(arr) & ~skip
    empty = ~null & ~skip & shapely.is_empty(arr)
    if null.any():
        problems.add(
            f"{null.sum()} feature(s) have no geometry (null): "
            f"{listing(np.asarray(labels)[null])}."
        )
    if empty.any():
        problems.add(
            f"{empty.sum()} feature(s) have an empty geometry: "
            f"{listing(np.asarray(labels)[empty])}."
        )
    usable = ~(null | empty | skip)
    types = np.asarray(shapely.get_type_id(arr))
    type_names = {
        0: "Point",
        1: "LineString",
        2: "LinearRing",
        3: "Polygon",
        4: "MultiPoint",
        5: "MultiLineString",
        6: "MultiPolygon",
        7: "GeometryCollection",
    }
    allowed_ids = [k for k, v in type_names.items() if v in allowed]
    wrong = usable & ~np.isin(types, allowed_ids)
    if wrong.any():
        offenders = [
            f"{lab} ({type_names.get(int(t), t)})"
            for lab, t in zip(np.asarray(labels)[wrong], types[wrong], strict=True)
        ]
        problems.add(
            f"{wrong.sum()} geometr{'y is' if wrong.sum() == 1 else 'ies are'} not "
            f"{' or '.join(allowed)}: {listing(offenders)}."
        )
    ok: np.ndarray = usable & ~wrong
    return ok


# --- villages -------------------------------------------------------------------------------
def read_villages(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str | None] | None = None,
    crs: object = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read village (desa) polygons into a schema-checked GeoDataFrame in a metric CRS.

    Parameters
    ----------
    path
        Any vector file GDAL reads (GeoJSON, GeoPackage, Shapefile, ...).
    columns
        Our field -> the file's column: ``village_id`` and ``name`` (required), ``kecamatan``,
        ``kecamatan_id``, ``population`` (optional). A key not given here is looked up as its
        :data:`PASER_VILLAGE_COLUMNS` column, then under its own name (``village_id``, ``name``,
        ...); optional ones the file lacks are skipped, while columns named here must exist. Map
        a key to ``None`` to skip it.
    crs
        Target CRS (projected, metres). Default: the WGS 84 / UTM zone of the data's lon/lat
        bounds (EPSG:32750 for Paser).
    layer
        Layer name or index for multi-layer files.

    Returns
    -------
    geopandas.GeoDataFrame
        Index ``village_id`` (str); columns ``name``, ``kecamatan`` and ``kecamatan_id`` (str,
        when mapped), ``population`` (float64 persons; NaN where unknown or not mapped), then
        every other column of the file, then ``geometry`` (Polygon/MultiPolygon) in ``crs``.

    Raises
    ------
    DataError
        The file is missing or unreadable.
    CRSError
        The file has no CRS, or ``crs`` is not metric (other problems are listed with it).
    SchemaError
        Every other problem, all at once: empty file, missing columns, missing/empty/duplicate
        ids, null/empty/non-polygon/invalid geometries, non-numeric or negative population.
    """
    target = None if crs is None else require_metric(crs, "the target crs of read_villages()")
    what = f"villages file {os.fspath(path)}"
    gdf = _read_vector(path, layer, "villages")
    problems = Problems()
    if len(gdf) == 0:
        problems.add("the file has no features; expected one polygon per village.")
        problems.raise_if_any(what)
    if gdf.crs is None:
        problems.add(
            "the file declares no CRS, so its coordinates cannot be placed. Add one (e.g. the "
            ".prj of a shapefile, or `ogr2ogr -a_srs EPSG:4326`), or use GeoJSON/GeoPackage.",
            CRSError,
        )
    present = [c for c in gdf.columns if c != gdf.geometry.name]
    defaults = {k: (v, k) for k, v in PASER_VILLAGE_COLUMNS.items()}
    chosen, explicit = _resolve_columns(columns, defaults, _VILLAGE_KEYS, present, problems)
    use: dict[str, str] = {}
    for key in _VILLAGE_KEYS:
        col = chosen.get(key)
        if col is not None and col in present:
            use[key] = col
        elif key in explicit and col is not None:
            problems.add(
                f"column {col!r} for {key} is not in the file; it has columns "
                f"{listing(map(repr, present), limit=30)}. Pass columns={{{key!r}: '<column>'}}."
            )
        elif key in explicit and key in _VILLAGE_REQUIRED:
            problems.add(f"{key} is required but was mapped to None in columns=.")
        elif key in _VILLAGE_REQUIRED:
            problems.add(
                f"no column for {key}: looked for {listing(map(repr, defaults[key]))} but the "
                f"file has columns {listing(map(repr, present), limit=30)}. Pass "
                f"columns={{{key!r}: '<column>'}}."
            )
    _name_clashes(use, present, "village_id", problems)

    ids = (
        _as_id_strings(gdf[use["village_id"]])
        if "village_id" in use
        else pd.Series(np.nan, index=gdf.index, dtype=object)
    )
    if "village_id" in use:
        _id_problems(ids, "village_id", use["village_id"], problems)
    labels = _labels(ids)

    usable = _geometry_problems(gdf.geometry, labels, ("Polygon", "MultiPolygon"), problems)
    arr = gdf.geometry.to_numpy()
    invalid = usable & ~shapely.is_valid(arr)
    if invalid.any():
        reasons = [
            f"{lab}: {explain_validity(g)}"
            for lab, g in zip(np.asarray(labels)[invalid], arr[invalid], strict=True)
        ]
        problems.add(
            f"{invalid.sum()} polygon(s) are invalid: {listing(reasons)}. Repair them, e.g. "
            "with shapely.make_valid() / GeoSeries.make_valid(), or `ogr2ogr -makevalid`."
        )

    population = pd.Series(np.nan, index=gdf.index, dtype="float64")
    if "population" in use:
        col = use["population"]
        population, non_numeric = _numeric(gdf[col])
        if non_numeric.any():
            bad = [
                f"{lab}={v!r}"
                for lab, v in zip(
                    np.asarray(labels)[non_numeric], gdf[col][non_numeric], strict=True
                )
            ]
            problems.add(
                f"{non_numeric.sum()} population value(s) in column {col!r} are not "
                f"numbers: {listing(bad)}. Use plain numbers; leave unknown ones empty."
            )
        vals = population.to_numpy()
        bad_mask = ~np.isnan(vals) & ((vals < 0) | ~np.isfinite(vals))
        if bad_mask.any():
            bad = [
                f"{lab}={v:g}"
                for lab, v in zip(np.asarray(labels)[bad_mask], vals[bad_mask], strict=True)
            ]
            problems.add(
                f"{bad_mask.sum()} population value(s) in column {col!r} are negative "
                f"or infinite: {listing(bad)}. Population is a count of persons >= 0."
            )
    problems.raise_if_any(what)

    out = gdf.drop(columns=[use["village_id"]])
    rename = {use[k]: k for k in ("name", "kecamatan", "kecamatan_id") if k in use}
    if "population" in use:
        out = out.drop(columns=[use["population"]])
    out = out.rename(columns=rename)
    out["name"] = out["name"].astype(str)
    for key in ("kecamatan", "kecamatan_id"):
        if key in out:
            out[key] = _as_id_strings(out[key]).astype(str).to_numpy()
    out["population"] = population.to_numpy()
    lead = ["name", *[k for k in ("kecamatan", "kecamatan_id") if k in out], "population"]
    geom_name = out.geometry.name
    rest = [c for c in out.columns if c not in lead and c != geom_name]
    out = out[[*lead, *rest, geom_name]]
    out.index = pd.Index(ids.astype(str).to_numpy(), name="village_id", dtype=str)
    if target is None:
        target = _crs_of_bounds_in_utm(out.geometry)
    return out.to_crs(target)


# --- sites ----------------------------------------------------------------------------------
def _site_value_problems(
    height_raw: pd.Series | None,
    cost_raw: pd.Series | None,
    labels: list[str],
    problems: Problems,
    *,
    height_column: str = "height_agl_m",
    cost_column: str = "cost_idr",
    default_height_agl_m: float | None = None,
    height_required: bool = True,
) -> tuple[np.ndarray, pd.arrays.IntegerArray]:
    """Check heights and costs; return height_agl_m (float64) and cost_idr (Int64)."""
    n = len(labels)
    lab = np.asarray(labels, dtype=object)
    if height_raw is None:
        height = np.full(n, np.nan if default_height_agl_m is None else default_height_agl_m)
        if default_height_agl_m is None and n and height_required:
            problems.add(
                f"no {height_column!r} column and no default height; add the column "
                "(metres above ground) or pass default_height_agl_m=."
            )
    else:
        num, non_numeric = _numeric(height_raw)
        height = num.to_numpy(dtype=float).copy()
        if non_numeric.any():
            bad = [
                f"{la}={v!r}"
                for la, v in zip(lab[non_numeric], height_raw[non_numeric], strict=True)
            ]
            problems.add(
                f"{non_numeric.sum()} height(s) in column {height_column!r} are not "
                f"numbers: {listing(bad)}. Give metres above ground, e.g. 42."
            )
        missing = np.isnan(height) & ~non_numeric
        if default_height_agl_m is not None:
            height[missing] = default_height_agl_m
        elif missing.any():
            problems.add(
                f"{missing.sum()} height(s) in column {height_column!r} are missing: "
                f"{listing(lab[missing])}. Fill them in or pass default_height_agl_m=."
            )
        bad_mask = ~np.isnan(height) & ((height < 0) | ~np.isfinite(height))
        if bad_mask.any():
            bad = [f"{la}={v:g}" for la, v in zip(lab[bad_mask], height[bad_mask], strict=True)]
            problems.add(
                f"{bad_mask.sum()} height(s) in column {height_column!r} are negative or "
                f"infinite: {listing(bad)}. height_agl_m is metres above ground, >= 0."
            )

    cost = pd.array([pd.NA] * n, dtype="Int64")
    if cost_raw is not None:
        if pd.api.types.is_signed_integer_dtype(cost_raw):
            cost = pd.array(cost_raw.to_numpy(), dtype="Int64")
            vals = cost.to_numpy(dtype="float64", na_value=np.nan)
            negative = vals < 0  # NaN (<NA>) is not negative
            huge = vals > MAX_COST_IDR
            non_numeric = np.zeros(n, dtype=bool)
            fractional = np.zeros(n, dtype=bool)
        else:
            num, non_numeric = _numeric(cost_raw)
            vals = num.to_numpy(dtype=float)
            finite = np.isfinite(vals)
            fractional = finite & (vals != np.round(vals))
            negative = (~np.isnan(vals) & (vals < 0)) | (np.isinf(vals))
            huge = finite & ~negative & (vals > MAX_COST_IDR)
            ok = finite & ~fractional & ~negative & ~huge
            ints = np.zeros(n, dtype=np.int64)
            ints[ok] = np.round(vals[ok]).astype(np.int64)
            cost = pd.array(ints, dtype="Int64")
            cost[~ok] = pd.NA
        if non_numeric.any():
            bad = [
                f"{la}={v!r}" for la, v in zip(lab[non_numeric], cost_raw[non_numeric], strict=True)
            ]
            problems.add(
                f"{non_numeric.sum()} cost(s) in column {cost_column!r} are not numbers: "
                f"{listing(bad)}. Write whole Rupiah as plain digits without thousands "
                "separators, e.g. 1700000000; leave unknown costs empty."
            )
        if fractional.any():
            bad = [f"{la}={v:g}" for la, v in zip(lab[fractional], vals[fractional], strict=True)]
            problems.add(
                f"{fractional.sum()} cost(s) in column {cost_column!r} are not whole "
                f"Rupiah: {listing(bad)}. cost_idr is an integer number of Rupiah."
            )
        if huge.any():
            bad = [f"{la}={v:.6g}" for la, v in zip(lab[huge], vals[huge], strict=True)]
            problems.add(
                f"{huge.sum()} cost(s) in column {cost_column!r} are larger than "
                f"{MAX_COST_IDR:,} Rupiah: {listing(bad)}. Sums of such prices do not fit in "
                "64-bit integers; check the unit (whole Rupiah, not sen) and the digits."
            )
        if negative.any():
            bad = [f"{la}={v:g}" for la, v in zip(lab[negative], vals[negative], strict=True)]
            problems.add(
                f"{negative.sum()} cost(s) in column {cost_column!r} are negative or "
                f"infinite: {listing(bad)}. cost_idr must be >= 0."
            )
    return height, cost


def _terrain_problems(
    geoms: gpd.GeoSeries,
    labels: list[str],
    usable: np.ndarray,
    terrain: Terrain | None,
    problems: Problems,
) -> None:
    if terrain is None or not usable.any():
        return
    if geoms.crs is None or as_crs(geoms.crs) != terrain.crs:
        got = "no CRS" if geoms.crs is None else as_crs(geoms.crs).to_string()
        problems.add(
            f"sites are in {got} but the terrain is in {terrain.crs.to_string()}; read "
            "the sites with crs=terrain.crs (or terrain=terrain), or call "
            ".to_crs(terrain.crs) first.",
            CRSError,
        )
        return
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    pts = geoms.to_numpy()[usable]
    x[usable], y[usable] = shapely.get_x(pts), shapely.get_y(pts)
    inside = np.zeros(len(geoms), dtype=bool)
    inside[usable] = terrain.contains(x[usable], y[usable])
    outside = usable & ~inside
    lab = np.asarray(labels, dtype=object)
    xmin, ymin, xmax, ymax = terrain.bounds
    if outside.any():
        where = [
            f"{la} at ({xx:.0f}, {yy:.0f})"
            for la, xx, yy in zip(lab[outside], x[outside], y[outside], strict=True)
        ]
        problems.add(
            f"{outside.sum()} site(s) are outside the terrain grid (x {xmin:.0f}..{xmax:.0f},"
            f" y {ymin:.0f}..{ymax:.0f} m, {terrain.crs.to_string()}): {listing(where)}. "
            "Read the terrain with bounds that cover every site, or drop these sites."
        )
    nodata = np.zeros(len(geoms), dtype=bool)
    if inside.any():
        nodata[inside] = np.isnan(terrain.elevation_at(x[inside], y[inside]))
    if nodata.any():
        where = [
            f"{la} at ({xx:.0f}, {yy:.0f})"
            for la, xx, yy in zip(lab[nodata], x[nodata], y[nodata], strict=True)
        ]
        problems.add(
            f"{nodata.sum()} site(s) stand on terrain cells without elevation (nodata): "
            f"{listing(where)}. Move them onto land covered by the DEM, or fill the "
            "DEM's voids."
        )


def _assemble_sites(
    ids: pd.Series,
    height: np.ndarray,
    cost: pd.arrays.IntegerArray,
    source: Sequence[str] | np.ndarray,
    geoms: gpd.GeoSeries,
    extra: pd.DataFrame | None,
) -> gpd.GeoDataFrame:
    data = {
        "height_agl_m": np.asarray(height, dtype="float64"),
        "cost_idr": pd.array(cost, dtype="Int64"),
        "source": pd.array(np.asarray(source, dtype=object), dtype=str),
    }
    out = gpd.GeoDataFrame(data, geometry=geoms.to_numpy(), crs=geoms.crs)
    if extra is not None and len(extra.columns):
        extra = extra.reset_index(drop=True)
        out = pd.concat([out.drop(columns="geometry"), extra], axis=1)
        out = gpd.GeoDataFrame(out, geometry=geoms.to_numpy(), crs=geoms.crs)
    out.index = pd.Index(np.asarray(ids, dtype=object).astype(str), name="site_id", dtype=str)
    return out


def validate_sites(sites: gpd.GeoDataFrame, *, terrain: Terrain | None = None) -> gpd.GeoDataFrame:
    """Check a frame against the sites schema (see the module docstring); return a normalised copy.

    Dtypes are normalised (heights to float64, costs to Int64, ids and source to str); values are
    never changed. ``terrain`` adds checks that every site stands on a cell with elevation.

    Raises
    ------
    CRSError
        No CRS, a CRS not in metres, or a CRS other than the terrain's (listed with the rest).
    SchemaError
        Every other problem at once: missing columns, bad ids, heights, costs or geometries,
        sites outside the terrain or on nodata cells.
    """
    problems = Problems()
    if not isinstance(sites, gpd.GeoDataFrame):
        raise SchemaError(
            f"sites must be a GeoDataFrame; received {type(sites).__name__}. Build "
            "one with blankspot.io.sites_frame() or read_sites()."
        )
    if sites.crs is None:
        problems.add(
            "sites have no CRS; build them with crs= in metres (e.g. EPSG:32750).", CRSError
        )
    elif not is_metric(as_crs(sites.crs)):
        problems.add(
            f"sites are in {as_crs(sites.crs).to_string()}, not a projected CRS in "
            "metres; call .to_crs('EPSG:32750') (or the terrain's CRS) first.",
            CRSError,
        )
    if sites.index.name != "site_id":
        problems.add(
            f"the index must be named 'site_id'; it is {sites.index.name!r}. Use "
            "sites.set_index('site_id') or sites.rename_axis('site_id')."
        )
    missing_cols = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing_cols:
        problems.add(
            f"missing column(s) {listing(map(repr, missing_cols))}; the sites schema "
            f"needs {listing(map(repr, SITE_COLUMNS))}."
        )
    ids = _as_id_strings(pd.Series(sites.index, dtype=object))
    labels = _labels(ids)
    _id_problems(ids, "site_id", "the index", problems)
    height, cost = _site_value_problems(
        sites["height_agl_m"] if "height_agl_m" in sites else None,
        sites["cost_idr"] if "cost_idr" in sites else None,
        labels,
        problems,
        height_required=False,
    )
    source = sites["source"] if "source" in sites else pd.Series("", index=sites.index)
    bad_source = source.isna().to_numpy() | (source.astype(str).str.strip() == "").to_numpy()
    if "source" in sites and bad_source.any():
        problems.add(
            f"{bad_source.sum()} site(s) have no 'source': "
            f"{listing(np.asarray(labels)[bad_source])}."
        )
    usable = _geometry_problems(sites.geometry, labels, ("Point",), problems)
    _terrain_problems(sites.geometry, labels, usable, terrain, problems)
    problems.raise_if_any("sites")
    extra = sites.drop(columns=[c for c in (*SITE_COLUMNS, sites.geometry.name) if c in sites])
    return _assemble_sites(ids, height, cost, source.astype(str).to_numpy(), sites.geometry, extra)


def sites_frame(
    site_ids: npt.ArrayLike,
    x_m: npt.ArrayLike,
    y_m: npt.ArrayLike,
    height_agl_m: npt.ArrayLike,
    *,
    crs: object,
    cost_idr: npt.ArrayLike | None = None,
    source: str = "user",
) -> gpd.GeoDataFrame:
    """Build a validated sites frame from arrays (see the sites schema in the module docstring).

    Parameters
    ----------
    site_ids
        Unique identifiers (converted to str).
    x_m, y_m
        Coordinates in ``crs`` (metres).
    height_agl_m
        Antenna heights above ground (metres): one per site or a single value for all.
    crs
        Projected CRS in metres.
    cost_idr
        Whole Rupiah per site, a single value for all, or None (``<NA>``).
    source
        What made these sites, e.g. ``"user"`` or ``"candidate"``.

    Raises
    ------
    CRSError, SchemaError
        As :func:`validate_sites`, plus arrays of different lengths.

    Examples
    --------
    >>> s = sites_frame(["a", "b"], [500000.0, 501000.0], [9790000.0, 9790000.0], 42.0,
    ...                 crs="EPSG:32750", cost_idr=1_700_000_000)
    >>> s.loc["b", "cost_idr"], s.crs.to_epsg()
    (np.int64(1700000000), 32750)
    """
    crs = require_metric(crs, "sites_frame(crs=)")
    ids = np.atleast_1d(np.asarray(site_ids, dtype=object))
    x = np.atleast_1d(np.asarray(x_m, dtype=float))
    y = np.atleast_1d(np.asarray(y_m, dtype=float))
    n = len(ids)
    problems = Problems()
    height = np.atleast_1d(np.asarray(height_agl_m, dtype=float))
    cost: pd.api.extensions.ExtensionArray | pd.Series
    if cost_idr is None:
        cost = pd.array([pd.NA] * n, dtype="Int64")
    elif np.ndim(cost_idr) == 0:
        cost = pd.array([cast("int", cost_idr)] * n, dtype="Int64")  # a scalar: ndim 0
    else:
        cost = pd.Series(list(cast("Iterable[int | None]", cost_idr)))
    lengths = {
        "site_ids": n,
        "x_m": len(x),
        "y_m": len(y),
        "height_agl_m": len(height),
        "cost_idr": len(cost),
    }
    if height.size == 1:
        height = np.full(n, height[0])
        lengths["height_agl_m"] = n
    wrong = {k: v for k, v in lengths.items() if v != n}
    if wrong:
        problems.add(
            f"arrays differ in length: {lengths}; give one value per site (heights and "
            "costs may also be a single value)."
        )
        problems.raise_if_any("sites_frame()")
    bad_xy = ~(np.isfinite(x) & np.isfinite(y))
    if bad_xy.any():
        problems.add(
            f"{bad_xy.sum()} site(s) have non-finite coordinates: {listing(ids[bad_xy])}."
        )
        problems.raise_if_any("sites_frame()")
    geoms = gpd.GeoSeries(shapely.points(x, y), crs=crs)
    frame = gpd.GeoDataFrame(
        {"height_agl_m": height, "cost_idr": pd.Series(cost).to_numpy(), "source": [source] * n},
        geometry=geoms.to_numpy(),
        crs=crs,
        index=pd.Index(ids, name="site_id"),
    )
    return validate_sites(frame)


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def sniff_table(path: str | os.PathLike[str], what: str, sep: str = ",") -> tuple[str, str]:
    """The text encoding and column separator of a CSV table, or a :class:`DataError` naming them.

    A byte-order mark gives UTF-8 or UTF-16 (Excel's "Unicode text"); without one the file
    must be UTF-8. A header with no ``sep`` but semicolons (Excel in a locale whose decimal
    mark is a comma) or tabs is read with that separator.
    """
    path_s = os.fspath(path)
    with open(path_s, "rb") as f:
        head = f.read(65536)
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
    if encoding is None:
        if b"\x00" in head[:4096]:
            raise DataError(
                f"{what} table {path_s} holds NUL bytes: it is UTF-16 without a byte-order mark, "
                "or not a text file. Save it as \"CSV UTF-8\" (Excel: Save As > CSV UTF-8)."
            )
        encoding = "utf-8"
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as exc:
        if len(head) == 65536 and exc.start > len(head) - 4:
            text = head[: exc.start].decode(encoding)
        else:
            raise DataError(
                f"{what} table {path_s} is not UTF-8 text (byte {head[exc.start]:#04x} at "
                f"position {exc.start}); it may be Windows-1252 or Latin-1. Save it as "
                "\"CSV UTF-8\" (Excel: Save As > CSV UTF-8) and read it again."
            ) from None
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if sep not in header:
        for other in (";", "\t", "|"):
            if other != sep and other in header:
                sep = other
                break
    return encoding, sep


def _read_table(
    path: str | os.PathLike[str], what: str, id_column: str | None = None
) -> pd.DataFrame:
    path_s = os.fspath(path)
    if not Path(path_s).exists():
        raise DataError(f"{what} file not found: {path_s}. Check the path.")
    sep = _TABLE_SUFFIXES.get(Path(path_s).suffix.lower(), ",")
    try:
        encoding, sep = sniff_table(path_s, what, sep)
    except DataError:
        raise
    except OSError as exc:
        raise DataError(f"could not read {what} table {path_s}: {exc.strerror or exc}.") from None
    try:
        header = pd.read_csv(path_s, sep=sep, nrows=0, encoding=encoding).columns
        id_cols = [c for c in header if c.lower() in ("site_id", "id") or c == id_column]
        return pd.read_csv(path_s, sep=sep, encoding=encoding, dtype=dict.fromkeys(id_cols, str))
    except Exception as exc:
        raise DataError(
            f"could not read {what} table {path_s} ({type(exc).__name__}: {exc}; read as "
            f"{encoding}, separator {sep!r}). Save it as a comma-separated CSV UTF-8 file."
        ) from exc


OPENCELLID_COLUMNS = ("radio", "mcc", "net", "area", "cell", "lon", "lat")
"""Columns that mark an OpenCelliD cell export (``cell_towers.csv``)."""


def opencellid_sites(df: pd.DataFrame) -> pd.DataFrame:
    """Sites from an OpenCelliD cell export: one row per site, ``site_id`` ``MCC-NET-AREA-SITE``.

    OpenCelliD lists cells, not towers. An LTE cell id is eNodeB × 256 + sector, so the cells
    of one eNodeB are one site (its position the mean of theirs); for other radios each cell
    is a site. ``radio`` and ``cells`` (how many cells) are kept.

    >>> df = pd.DataFrame({"radio": ["LTE", "LTE", "GSM"], "mcc": 510, "net": 10, "area": 7,
    ...                    "cell": [256 * 40 + 1, 256 * 40 + 2, 31], "lon": [116.0, 116.2, 116.5],
    ...                    "lat": -2.0})
    >>> sites = opencellid_sites(df)
    >>> sites["site_id"].tolist(), sites["lon"].round(2).tolist(), sites["cells"].tolist()
    (['510-10-7-31', '510-10-7-40'], [116.5, 116.1], [1, 2])
    """
    cell = pd.to_numeric(df["cell"], errors="coerce").astype("Int64")
    lte = df["radio"].astype(str).str.upper().isin(["LTE", "NR"])
    site = cell.where(~lte, cell // 256)
    ids = (df["mcc"].astype(str) + "-" + df["net"].astype(str) + "-" + df["area"].astype(str)
           + "-" + site.astype(str))
    frame = df.assign(site_id=ids.to_numpy(), lon=pd.to_numeric(df["lon"], errors="coerce"),
                      lat=pd.to_numeric(df["lat"], errors="coerce"))
    grouped = frame.groupby("site_id", sort=True)
    out = grouped.agg(lon=("lon", "mean"), lat=("lat", "mean"), radio=("radio", "first"),
                      cells=("lon", "size")).reset_index()
    return out


def read_sites(
    path: str | os.PathLike[str],
    *,
    columns: Mapping[str, str | None] | None = None,
    crs: object = None,
    coords_crs: object = "EPSG:4326",
    default_height_agl_m: float | None = None,
    layer: str | int | None = None,
    terrain: Terrain | None = None,
) -> gpd.GeoDataFrame:
    """Read tower sites from a CSV with coordinate columns or from a point vector file.

    Parameters
    ----------
    path
        ``.csv`` / ``.tsv`` / ``.txt`` table with coordinate columns, or any point vector file
        GDAL reads (GeoPackage, GeoJSON, Shapefile, ...).
    columns
        Our field -> the file's column, for ``site_id``, ``height_agl_m``, ``cost_idr``, ``lon``
        and ``lat``. Defaults (case-insensitive): ``site_id`` or ``id``; ``height_agl_m``;
        ``cost_idr``; ``lon``/``lat``, ``longitude``/``latitude`` or ``x``/``y``.
    crs
        Target CRS (projected, metres). Default: ``terrain.crs`` when ``terrain`` is given, else
        the WGS 84 / UTM zone of the sites' lon/lat bounds.
    coords_crs
        CRS of the coordinate columns of a table (default WGS 84 lon/lat degrees).
    default_height_agl_m
        Height for sites whose height is empty, or for all when the file has no height column.
    layer
        Layer name or index for multi-layer vector files.
    terrain
        A :class:`blankspot.terrain.Terrain`; every site must stand on one of its cells that has
        elevation.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites schema (module docstring): index ``site_id``; ``height_agl_m`` (float64),
        ``cost_idr`` (Int64), ``source`` (``"user"``), the file's other columns (coordinate
        columns of a table are dropped; a ``source`` column of the file is kept as
        ``source_in_file``), Point geometry in ``crs``.

    Raises
    ------
    DataError
        Missing or unreadable file.
    CRSError
        A vector file without CRS, a non-metric ``crs``, or ``crs`` differing from
        ``terrain.crs`` (listed with every other problem).
    SchemaError
        Every other problem at once: missing columns, missing/duplicate ids, missing or
        out-of-range coordinates, non-point or empty geometries, bad heights or costs, sites
        outside the terrain or on nodata.
    """
    if default_height_agl_m is not None and not (
        np.isfinite(default_height_agl_m) and default_height_agl_m >= 0
    ):
        raise UnitsError(
            f"default_height_agl_m must be a finite number of metres >= 0; received "
            f"{default_height_agl_m!r}."
        )
    target = _sites_target_crs(crs, terrain)
    what = f"sites file {os.fspath(path)}"
    df, geoms = _read_site_rows(path, columns, layer)
    problems = Problems()
    if len(df) == 0:
        problems.add("the file has no rows; expected one site per row.")
        problems.raise_if_any(what)
    use = _site_columns(df, columns, geoms is None, problems)

    ids = (
        _as_id_strings(df[use["site_id"]])
        if "site_id" in use
        else pd.Series(np.nan, index=df.index, dtype=object)
    )
    labels = _labels(ids)
    if "site_id" in use:
        _id_problems(ids, "site_id", use["site_id"], problems)
    height, cost = _site_value_problems(
        df[use["height_agl_m"]] if "height_agl_m" in use else None,
        df[use["cost_idr"]] if "cost_idr" in use else None,
        labels,
        problems,
        height_column=use.get("height_agl_m", "height_agl_m"),
        cost_column=use.get("cost_idr", "cost_idr"),
        default_height_agl_m=default_height_agl_m,
    )

    skip = np.zeros(len(df), dtype=bool)
    if geoms is None:
        geoms, skip = _points_from_columns(df, use, labels, coords_crs, problems)
        df = df.drop(columns=[use[k] for k in ("lon", "lat") if k in use])
    elif geoms.crs is None:
        problems.add(
            "the file declares no CRS, so the sites cannot be placed. Add one (e.g. the "
            ".prj of a shapefile), or give a CSV with lon/lat columns.",
            CRSError,
        )
    geoms = _place_sites(geoms, labels, skip, target, terrain, problems)
    problems.raise_if_any(what)

    extra = df.drop(columns=[use[k] for k in ("site_id", "height_agl_m", "cost_idr") if k in use])
    if "source" in extra:
        extra = extra.rename(columns={"source": "source_in_file"})
    return _assemble_sites(ids, height, cost, ["user"] * len(df), geoms, extra)


def _sites_target_crs(crs: object, terrain: Terrain | None) -> CRS | None:
    """The CRS :func:`read_sites` returns: ``crs=``, else the terrain's (None: from the data)."""
    target = None if crs is None else require_metric(crs, "the target crs of read_sites()")
    if terrain is not None:
        if target is None:
            target = terrain.crs
        elif target != terrain.crs:
            raise CRSError(
                f"read_sites(crs={target.to_string()!r}) differs from the terrain's CRS "
                f"{terrain.crs.to_string()}; sites are checked against the terrain in its own "
                "CRS. Pass crs=None (the terrain's CRS is then used) or the terrain's CRS."
            )
    return target


def _read_site_rows(
    path: str | os.PathLike[str],
    columns: Mapping[str, str | None] | None,
    layer: str | int | None,
) -> tuple[pd.DataFrame, gpd.GeoSeries | None]:
    """The attribute rows of a sites file, and its geometries (None: a table, or a vector file
    without any geometry, whose coordinates come from columns)."""
    if Path(os.fspath(path)).suffix.lower() in _TABLE_SUFFIXES:
        table = _read_table(path, "sites", (columns or {}).get("site_id"))
        lower = {str(c).lower() for c in table.columns}
        if (not columns or "site_id" not in columns) and set(OPENCELLID_COLUMNS) <= lower and \
                not lower & {"site_id", "id"}:
            table = opencellid_sites(table.rename(columns=str.lower))
        return table, None
    gdf = _read_vector(path, layer, "sites")
    has_geom = (
        isinstance(gdf, gpd.GeoDataFrame)
        and not shapely.is_missing(gdf.geometry.to_numpy()).all()
    )
    df = (
        pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        if isinstance(gdf, gpd.GeoDataFrame)
        else pd.DataFrame(gdf)
    )
    return df, (gdf.geometry if has_geom else None)


def _site_columns(
    df: pd.DataFrame,
    columns: Mapping[str, str | None] | None,
    from_coordinates: bool,
    problems: Problems,
) -> dict[str, str]:
    """The file column of each sites key found (``lon``/``lat`` too when ``from_coordinates``);
    missing, unknown and clashing columns are problems."""
    present = list(df.columns)
    defaults = dict(_SITE_DEFAULTS)
    if from_coordinates:
        pair = next(
            ((lo, la) for lo, la in _COORD_DEFAULTS if {lo, la} <= {c.lower() for c in present}),
            None,
        )
        if pair is None:  # no complete pair: accept any of the names for each axis
            defaults.update(
                lon=tuple(p[0] for p in _COORD_DEFAULTS), lat=tuple(p[1] for p in _COORD_DEFAULTS)
            )
        else:
            defaults.update(lon=(pair[0],), lat=(pair[1],))
    chosen, _ = _resolve_columns(columns, defaults, _SITE_KEYS, present, problems)
    needed = ["site_id"] + (["lon", "lat"] if from_coordinates else [])
    for key in _SITE_KEYS:
        col = chosen.get(key)
        if col is not None and col not in present:
            problems.add(
                f"column {col!r} for {key} is not in the file; it has columns "
                f"{listing(map(repr, present), limit=30)}."
            )
            chosen[key] = None
        elif col is None and key in needed:
            tried = defaults.get(key, ())
            problems.add(
                f"no column for {key}: looked for {listing(map(repr, tried))} but the "
                f"file has {listing(map(repr, present), limit=30)}. Pass "
                f"columns={{{key!r}: '<column>'}}."
            )
    use = {k: v for k, v in chosen.items() if v is not None}
    _name_clashes(
        {k: v for k, v in use.items() if k in ("site_id", *SITE_COLUMNS)},
        present,
        "site_id",
        problems,
    )
    return use


def _points_from_columns(
    df: pd.DataFrame,
    use: Mapping[str, str],
    labels: list[str],
    coords_crs: object,
    problems: Problems,
) -> tuple[gpd.GeoSeries, np.ndarray]:
    """Point geometries in ``coords_crs`` from the ``lon``/``lat`` columns, and the mask of
    rows without a usable point (non-numeric, missing or out-of-range coordinates: problems)."""
    src_crs = as_crs(coords_crs)
    if not ("lon" in use and "lat" in use):
        return gpd.GeoSeries([None] * len(df), crs=src_crs), np.ones(len(df), dtype=bool)
    lab = np.asarray(labels, dtype=object)
    lon_values, lon_bad = _numeric(df[use["lon"]])
    lat_values, lat_bad = _numeric(df[use["lat"]])
    lon, lat = lon_values.to_numpy(dtype=float), lat_values.to_numpy(dtype=float)
    non_numeric = lon_bad | lat_bad
    if non_numeric.any():
        bad = [
            f"{la}=({a!r}, {b!r})"
            for la, a, b in zip(
                lab[non_numeric],
                df[use["lon"]][non_numeric],
                df[use["lat"]][non_numeric],
                strict=True,
            )
        ]
        problems.add(
            f"{non_numeric.sum()} site(s) have coordinates that are not numbers "
            f"in columns {use['lon']!r}/{use['lat']!r}: {listing(bad)}. Use "
            "decimal degrees with a point, e.g. 116.05, -1.85."
        )
    missing = ~non_numeric & (np.isnan(lon) | np.isnan(lat))
    if missing.any():
        problems.add(
            f"{missing.sum()} site(s) have missing coordinates in columns "
            f"{use['lon']!r}/{use['lat']!r}: {listing(lab[missing])}."
        )
    skip = non_numeric | missing
    if src_crs.is_geographic:
        skip = skip | _lonlat_range_problems(lon, lat, skip, lab, problems)
    xy = np.where(skip, 0.0, lon), np.where(skip, 0.0, lat)
    pts = shapely.points(*xy)
    pts[skip] = None
    return gpd.GeoSeries(pts, crs=src_crs), skip


def _lonlat_range_problems(
    lon: np.ndarray, lat: np.ndarray, skip: np.ndarray, lab: np.ndarray, problems: Problems
) -> np.ndarray:
    """Mask of rows (not already skipped) whose lon/lat are not valid degrees; a problem
    naming them, with a hint when they look swapped."""
    out_of_range: np.ndarray = ~skip & (
        (np.abs(lon) > 180) | (np.abs(lat) > 90) | ~np.isfinite(lon) | ~np.isfinite(lat)
    )
    if out_of_range.any():
        swapped = out_of_range & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        hint = (
            (
                " Some look like lat/lon swapped: lon is the easting (about 116 "
                "for Paser), lat the northing (about -1.8)."
            )
            if swapped.any()
            else ""
        )
        bad = [
            f"{la}=({a:g}, {b:g})"
            for la, a, b in zip(
                lab[out_of_range], lon[out_of_range], lat[out_of_range], strict=True
            )
        ]
        problems.add(
            f"{out_of_range.sum()} site(s) have lon/lat outside valid "
            f"degrees (lon -180..180, lat -90..90): {listing(bad)}.{hint} "
            "If the columns are projected coordinates, pass coords_crs=."
        )
    return out_of_range


def _place_sites(
    geoms: gpd.GeoSeries,
    labels: list[str],
    skip: np.ndarray,
    target: CRS | None,
    terrain: Terrain | None,
    problems: Problems,
) -> gpd.GeoSeries:
    """The geometries checked (points, not empty) and reprojected to ``target`` (default: the
    UTM zone of the usable ones), then checked against the terrain."""
    geoms = geoms.reset_index(drop=True)
    usable = _geometry_problems(geoms, labels, ("Point",), problems, skip=skip)
    if geoms.crs is not None:
        if target is None and usable.any():
            target = _crs_of_bounds_in_utm(geoms[usable])
        if target is not None:
            geoms = geoms.to_crs(target)
        _terrain_problems(geoms, labels, usable, terrain, problems)
    return geoms
