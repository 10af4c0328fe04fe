"""Signal measurements: read drive-test exports, check them, link them to sites, thin them.

:func:`read_measurements` reads a table of RSRP measurements into one tidy GeoDataFrame,
whatever app wrote it, and checks every row before returning: all problems of a file are
reported in one :class:`~blankspot.errors.SchemaError`. :func:`link_measurements` names the
serving site of every point, :func:`thin_measurements` averages the points into square bins of
equal area so that a slow drive does not weigh more than a fast one.

Measurements schema
-------------------
=============== ================== ==========================================================
column          dtype              meaning
=============== ================== ==========================================================
lon, lat        float64            WGS 84 degrees, as in the file
rsrp_dbm        float64            LTE reference signal received power, dBm (-156 ... -31)
site_id         str / NaN          serving site named by the file (site id), if any
cell_id         str / NaN          serving cell id (CI, ECI or the app's cell id), if any
node_id         str / NaN          eNodeB id (G-NetTrack ``Node``; ECI // 256 for OpenCelliD
                                   LTE cells), if any
time            datetime64[ns]     time of the sample as written (phone local time for the
                                   apps; UTC for OpenCelliD's epoch seconds); NaT if unknown
technology      str / NaN          ``"LTE"``, ``"NR"``, ``"UMTS"``, ``"GSM"``, ... (normalised)
operator        str / NaN          operator (name or MCC-MNC) where the file gives one
source_format   str                ``"generic"``, ``"gnettrack"``, ``"netmonster"``,
                                   ``"networkcellinfo"`` or ``"opencellid"``
source_line     int64              line of the file the row came from (header = line 1)
geometry        Point              in the analysis CRS (metres)
=============== ================== ==========================================================

The frame's ``attrs`` record how the file was read: ``encoding``, ``separator``,
``decimal_comma`` (True when numbers were written with a decimal comma) and ``source_path``.

Formats
-------
Column names are matched case-insensitively, ignoring spaces, ``_``, ``-`` and a unit in
brackets (``"RSRP (dBm)"`` matches ``rsrp``). Any key can be named explicitly with
``columns={"rsrp_dbm": "My column"}``.

``generic`` (CSV, any separator)
    ``lon`` / ``longitude`` / ``lng`` / ``x``; ``lat`` / ``latitude`` / ``y``; ``rsrp_dbm`` /
    ``rsrp`` / ``signal_dbm`` / ``level``; optional ``site_id`` / ``site``; ``cell_id`` /
    ``cell`` / ``cid`` / ``ci`` / ``eci``; ``node_id`` / ``enb`` / ``enodeb``; ``time`` /
    ``timestamp`` / ``datetime`` / ``date``; ``technology`` / ``tech`` / ``radio`` /
    ``network_type``.

``gnettrack``: G-NetTrack (Lite/Pro) log export, tab-separated ``.txt``
    Columns ``Timestamp, Longitude, Latitude, Speed, Operatorname, Operator, CGI, Cellname,
    Node, CellID, LAC, NetworkTech, NetworkMode, Level, Qual, SNR, CQI, LTERSSI, ARFCN, DL_bitrate,
    UL_bitrate, ...`` (more follow and are ignored). Mapping: ``Longitude`` → lon,
    ``Latitude`` → lat, ``Level`` → rsrp_dbm (RSRP on LTE rows; RxLev / RSCP on 2G / 3G rows,
    which are left out by the technology filter), ``CellID`` → cell_id, ``Node`` → node_id
    (eNodeB), ``Timestamp`` (``YYYY.MM.DD_hh.mm.ss``) → time, ``NetworkTech`` (else
    ``NetworkMode``) → technology, ``Operatorname`` (else ``Operator``) → operator. Sources:
    Gyokov Solutions' G-NetReport manual (gyokovsolutions.com/manual-g-netreport) lists the
    LTE serving-cell values (RSRP, RSRQ, SNR, eNodeBID, CELLID, PCI); the column order above is
    that of public parsers of the export (e.g. a G-NetTrack Pro TXT parser mapping Timestamp 0,
    Longitude 1, Latitude 2, ..., Node 8, CellID 9, LAC 10, NetworkTech 11, NetworkMode 12,
    Level 13, Qual 14, SNR 15). No column list from the vendor's own G-NetTrack manual was
    found; the reader uses the header names, not positions.

``netmonster``: NetMonster log export (CSV)
    No published description of the export's columns was found. Read by header names with the
    aliases ``Latitude``/``Longitude``, ``RSRP``, ``CID``/``CI``/``Cell ID``, ``eNB``,
    ``Technology``/``NetworkType``, ``Date``/``Timestamp``, ``Operator``. If a version names
    them otherwise, pass ``columns=``.

``networkcellinfo``: Network Cell Info (Lite) CSV export
    Likewise undocumented publicly; read by header names with the aliases ``latitude`` /
    ``longitude``, ``rsrp`` / ``dbm`` / ``signal``, ``cid`` / ``ci`` / ``cellid``, ``enb``,
    ``type`` / ``network`` / ``technology``, ``time`` / ``date``.

``opencellid``: OpenCelliD measurements CSV (``measurements_*.csv``)
    ``mcc,net,area,cell,lon,lat,signal,measured,created,rating,speed,direction,radio,ta,rnc,
    cid,psc,tac,pci,sid,nid,bid``. The OpenCelliD wiki page "Database format" describes the
    ``measurements_*`` CSV field by field; the copy consulted begins with ``mcc`` (MCC) and
    ``net`` (the MNC for GSM, UMTS and LTE; the system id for CDMA), and the OpenCelliD FAQ
    says that only the later files carry ``radio``. The rest of the column list was not checked
    against the page: the reader goes by the header names, not by positions. Mapping: ``lon``,
    ``lat``; ``signal`` (taken as dBm) → rsrp_dbm on LTE rows; ``cell`` (the 28-bit ECI for
    LTE) → cell_id, and ``cell // 256`` → node_id; ``radio`` → technology; ``measured`` (Unix
    time, seconds or milliseconds) → time; ``mcc-net`` → operator. Values of 0-97 would be
    ASU, not dBm: the RSRP range check reports them.

``format="auto"`` recognises G-NetTrack (``Level``, ``Qual``, ``Node`` and ``CellID`` in the
header) and OpenCelliD (``mcc``, ``net``, ``area``, ``cell`` and ``signal``); any other file is
read as ``generic`` with the aliases of all formats. Name ``netmonster`` or
``networkcellinfo`` to record the source.

Files may be UTF-8 (with or without BOM), UTF-16 (with BOM, as Excel's "Unicode text" writes
it, or without) or Windows-1252; separated by commas, semicolons or tabs (detected from the
header line); with a decimal point or, as Excel with Indonesian (or other European) regional
settings writes it, a decimal comma in a semicolon- or tab-separated file (detected, and
reported in a :class:`~blankspot.errors.BlankspotWarning`).
"""

from __future__ import annotations

import codecs
import io
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from blankspot.crs import WGS84, require_metric, utm_crs_for
from blankspot.errors import BlankspotWarning, DataError, Problems, SchemaError, UnitsError, listing
from blankspot.io.vectors import _as_id_strings

__all__ = [
    "FORMATS",
    "MEASUREMENT_COLUMNS",
    "RSRP_MAX_DBM",
    "RSRP_MIN_DBM",
    "link_measurements",
    "read_measurements",
    "thin_measurements",
]

FORMATS = ("auto", "generic", "gnettrack", "netmonster", "networkcellinfo", "opencellid")
"""Values of ``read_measurements(format=)`` (module docstring, "Formats")."""

MEASUREMENT_COLUMNS = (
    "lon",
    "lat",
    "rsrp_dbm",
    "site_id",
    "cell_id",
    "node_id",
    "time",
    "technology",
    "operator",
    "source_format",
    "source_line",
)
"""Columns of the measurements schema, in order (geometry comes last)."""

RSRP_MIN_DBM = -156.0
"""Lowest reportable RSRP, dBm (3GPP TS 36.133 §9.1.4, extended range RSRP_-17)."""
RSRP_MAX_DBM = -31.0
"""Highest reportable RSRP, dBm (3GPP TS 36.133 §9.1.4, extended range RSRP_113)."""

DEFAULT_MAX_SITE_DISTANCE_KM = 30.0
"""Points farther than this from every site are reported (the coverage radius default)."""

_KEYS = ("lon", "lat", "rsrp_dbm", "site_id", "cell_id", "node_id", "time", "technology",
         "operator")  # fmt: skip

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "generic": {
        "lon": ("lon", "longitude", "lng", "long", "x"),
        "lat": ("lat", "latitude", "y"),
        "rsrp_dbm": ("rsrpdbm", "rsrp", "signaldbm", "level", "signal", "dbm"),
        "site_id": ("siteid", "site"),
        "cell_id": ("cellid", "cell", "cid", "ci", "eci"),
        "node_id": ("nodeid", "enb", "enodeb", "enodebid", "enbid", "node"),
        "time": ("time", "timestamp", "datetime", "date", "measured"),
        "technology": ("technology", "tech", "radio", "networktype", "networktech", "rat"),
        "operator": ("operator", "operatorname", "carrier"),
    },
    "gnettrack": {
        "lon": ("longitude",),
        "lat": ("latitude",),
        "rsrp_dbm": ("level",),
        "cell_id": ("cellid",),
        "node_id": ("node",),
        "time": ("timestamp",),
        "technology": ("networktech", "networkmode"),
        "operator": ("operatorname", "operator"),
    },
    "netmonster": {
        "lon": ("longitude", "lon", "lng"),
        "lat": ("latitude", "lat"),
        "rsrp_dbm": ("rsrp", "signal", "dbm"),
        "cell_id": ("cid", "ci", "cellid", "eci"),
        "node_id": ("enb", "enodeb", "enbid"),
        "time": ("date", "timestamp", "time", "datetime"),
        "technology": ("technology", "networktype", "tech", "type"),
        "operator": ("operator", "network", "mccmnc"),
    },
    "networkcellinfo": {
        "lon": ("longitude", "lon", "lng"),
        "lat": ("latitude", "lat"),
        "rsrp_dbm": ("rsrp", "dbm", "signal", "signalstrength"),
        "cell_id": ("cid", "ci", "cellid", "eci"),
        "node_id": ("enb", "enodeb", "enbid"),
        "time": ("time", "date", "timestamp", "datetime"),
        "technology": ("type", "network", "technology", "networktype"),
        "operator": ("operator", "carrier", "mccmnc"),
    },
    "opencellid": {
        "lon": ("lon",),
        "lat": ("lat",),
        "rsrp_dbm": ("signal",),
        "cell_id": ("cell",),
        "time": ("measured",),
        "technology": ("radio",),
    },
}
_REQUIRED = ("lon", "lat", "rsrp_dbm")
_GNETTRACK_SIGNATURE = {"level", "qual", "node", "cellid"}
_OPENCELLID_SIGNATURE = {"mcc", "net", "area", "cell", "signal"}

_TECH_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(?:lte|4g|lte[-_ ]?a|lte\+|e[-_ ]?utra)\b", "LTE"),
    (r"\b(?:nr|5g|nr[-_ ]?sa|nr[-_ ]?nsa)\b", "NR"),
    (r"\b(?:umts|3g|hspa\+?|hsdpa|hsupa|wcdma|utran|td[-_ ]?scdma)\b", "UMTS"),
    (r"\b(?:gsm|2g|edge|gprs)\b", "GSM"),
    (r"\b(?:cdma|evdo|1xrtt)\b", "CDMA"),
)


# --- reading the text ---------------------------------------------------------------------
def _decode(raw: bytes) -> tuple[str, str]:
    """The file's text and a name of its encoding (BOMs and UTF-16 without BOM detected)."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "UTF-8 with BOM"
    head = raw[:400]
    if head and head.count(b"\x00") > len(head) // 4:
        little = head[1::2].count(0) >= head[0::2].count(0)
        enc = "utf-16-le" if little else "utf-16-be"
        return raw.decode(enc, errors="replace"), enc.upper() + " without BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), "Windows-1252"


def _norm(name: str) -> str:
    """A header name reduced for matching: lower case, no unit in brackets, no separators."""
    s = re.sub(r"[\(\[].*?[\)\]]", "", str(name)).strip().lower()
    return re.sub(r"[\s_\-./]+", "", s)


def _split_header(text: str) -> tuple[list[str], int, str]:
    """(lines, index of the header line, separator)."""
    lines = text.splitlines()
    idx = next((i for i, ln in enumerate(lines) if ln.strip() and not ln.startswith("#")), -1)
    if idx < 0:
        return lines, -1, ","
    header = lines[idx]
    if "\t" in header:
        sep = "\t"
    elif header.count(";") > header.count(","):
        sep = ";"
    else:
        sep = ","
    return lines, idx, sep


def _detect_format(normed: set[str]) -> str:
    if _GNETTRACK_SIGNATURE <= normed:
        return "gnettrack"
    if _OPENCELLID_SIGNATURE <= normed:
        return "opencellid"
    return "generic"


_COMMA_DECIMAL = re.compile(r"^\s*[-+−]?\d+,\d+\s*$")
_POINT_DECIMAL = re.compile(r"^\s*[-+−]?\d*\.\d+\s*$")


def _numbers(
    raw: pd.Series, column: str, lines: np.ndarray, problems: Problems
) -> tuple[np.ndarray, np.ndarray, int]:
    """Parse strings as floats: (values with NaN where blank or bad, mask of bad, comma count).

    A decimal comma (``-1,85``) is read as a decimal point; a column that mixes both is
    reported, as is any value that is not a number.
    """
    s = raw.fillna("").astype(str).str.strip().str.replace("−", "-", regex=False)
    s = s.str.replace(r"\s*(?:dbm|db|°)$", "", case=False, regex=True)  # "-79 dBm"
    blank = (s == "").to_numpy()
    comma = s.str.match(_COMMA_DECIMAL).to_numpy()
    point = s.str.match(_POINT_DECIMAL).to_numpy()
    if comma.any() and point.any():
        problems.add(
            f"column {column!r} mixes decimal commas ({comma.sum()} value(s), e.g. line "
            f"{lines[comma][0]}: {s[comma].iloc[0]!r}) and decimal points ({point.sum()}, e.g. "
            f"line {lines[point][0]}: {s[point].iloc[0]!r}). Save the file again with one "
            "regional setting (Excel: File > Options > Advanced > use system separators)."
        )
    fixed = s.where(~comma, s.str.replace(",", ".", regex=False))
    vals = pd.to_numeric(fixed.where(~blank, None), errors="coerce").to_numpy(dtype=float)
    bad = ~blank & np.isnan(vals)
    if bad.any():
        shown = [f"line {ln}: {v!r}" for ln, v in zip(lines[bad], s[bad], strict=True)]
        hint = ""
        if s[bad].str.contains(",").any():
            hint = (
                " Values with commas in a comma-separated file usually come from a decimal "
                "comma: save as semicolon-separated CSV, or use a decimal point."
            )
        problems.add(
            f"{bad.sum()} value(s) in column {column!r} are not numbers: {listing(shown)}.{hint}"
        )
    return vals, bad, int(comma.sum())


def _technology(raw: pd.Series) -> pd.Series:
    """Normalised technology names (LTE, NR, UMTS, GSM, CDMA), the raw text otherwise."""
    s = raw.fillna("").astype(str).str.strip()
    low = s.str.lower()
    out = np.full(len(s), None, dtype=object)
    for pattern, name in reversed(_TECH_PATTERNS):  # earlier patterns win
        hit = low.str.contains(pattern, regex=True).to_numpy(dtype=bool)
        out[hit] = name
    text = s.to_numpy(dtype=object)
    keep_raw = np.array([v is None for v in out]) & (text != "")
    out[keep_raw] = [str(t).upper() for t in text[keep_raw]]
    result = pd.Series(out, index=raw.index, dtype=object)
    return result.where(result.notna(), np.nan)


def _times(raw: pd.Series, fmt: str) -> tuple[pd.Series, int]:
    """Times as naive datetime64 (NaT where blank or unreadable) and the unreadable count."""
    s = raw.fillna("").astype(str).str.strip()
    blank = s == ""
    num = pd.to_numeric(s.mask(blank), errors="coerce")
    if num.notna().sum() and num.notna().sum() == (~blank).sum():
        if float(num.abs().max()) > 1e11:
            out = pd.to_datetime(num, unit="ms", errors="coerce")
        else:
            out = pd.to_datetime(num, unit="s", errors="coerce")
    else:
        out = pd.to_datetime(s.mask(blank), format="%Y.%m.%d_%H.%M.%S", errors="coerce")
        rest = out.isna() & ~blank
        if rest.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                other = pd.to_datetime(s[rest], errors="coerce", format="mixed")
            if getattr(other.dt, "tz", None) is not None:
                other = other.dt.tz_convert("UTC").dt.tz_localize(None)
            out = out.astype("datetime64[ns]")
            out[rest] = other.astype("datetime64[ns]")
    out = pd.Series(out, index=raw.index).astype("datetime64[ns]")
    return out, int((out.isna() & ~blank).sum())


def _resolve(
    fmt: str,
    present: list[str],
    columns: Mapping[str, str | None] | None,
    problems: Problems,
) -> dict[str, str]:
    """Our key -> the file's column, from ``columns=`` and then the format's aliases."""
    columns = dict(columns or {})
    unknown = sorted(set(columns) - set(_KEYS))
    if unknown:
        problems.add(
            f"columns= has unknown key(s) {listing(map(repr, unknown))}; the keys are "
            f"{listing(map(repr, _KEYS))}, mapped to column names of the file."
        )
    by_norm: dict[str, str] = {}
    for c in present:
        by_norm.setdefault(_norm(c), c)
    aliases = dict(_ALIASES["generic"]) if fmt == "generic" else {}
    aliases.update(_ALIASES[fmt])
    use: dict[str, str] = {}
    taken: set[str] = set()
    for key in _KEYS:
        if key in columns:
            col = columns[key]
            if col is None:
                continue
            if col in present:
                use[key] = col
                taken.add(col)
            else:
                import difflib

                close = difflib.get_close_matches(str(col), present, n=3, cutoff=0.6)
                hint = f" Did you mean {listing(map(repr, close))}?" if close else ""
                problems.add(
                    f"column {col!r} given for {key} is not in the file, which has "
                    f"{listing(map(repr, present), limit=30)}.{hint}"
                )
            continue
        for alias in aliases.get(key, ()):
            col = by_norm.get(alias)
            if col is not None and col not in taken:
                use[key] = col
                taken.add(col)
                break
    for key in _REQUIRED:
        if key not in use and key not in columns:
            import difflib

            tried = aliases.get(key, ())
            close = difflib.get_close_matches(
                key.split("_")[0], [c.lower() for c in present], n=3, cutoff=0.5
            )
            hint = f" Did you mean {listing(map(repr, close))}?" if close else ""
            problems.add(
                f"no column for {key}: looked for {listing(map(repr, tried))} (any case, "
                f"spaces and units ignored) but the file has "
                f"{listing(map(repr, present), limit=30)}.{hint} Pass "
                f"columns={{{key!r}: '<column>'}}."
            )
    return use


# --- the reader -------------------------------------------------------------------------------
def read_measurements(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    sites: gpd.GeoDataFrame | None = None,
    max_site_distance_km: float = DEFAULT_MAX_SITE_DISTANCE_KM,
    columns: Mapping[str, str | None] | None = None,
    crs: Any = None,
    technologies: Sequence[str] | None = ("LTE",),
    drop_duplicates: bool = False,
) -> gpd.GeoDataFrame:
    """Read RSRP measurements from a CSV or an app export into the measurements schema.

    Parameters
    ----------
    path
        The file: CSV / TXT / TSV (module docstring, "Formats").
    format
        One of :data:`FORMATS`; ``"auto"`` recognises G-NetTrack and OpenCelliD and reads
        anything else as ``"generic"``.
    sites
        A sites table (:func:`blankspot.io.read_sites`); when given, points farther than
        ``max_site_distance_km`` from every site are reported, and the result is in the
        sites' CRS.
    max_site_distance_km
        See ``sites``.
    columns
        Our key -> the file's column, for any of ``lon``, ``lat``, ``rsrp_dbm``, ``site_id``,
        ``cell_id``, ``node_id``, ``time``, ``technology``, ``operator``; a key mapped to None
        is not read.
    crs
        Analysis CRS (projected, metres) of the geometry. Default: the sites' CRS, else the
        WGS 84 / UTM zone of the points (EPSG:32750 for Paser).
    technologies
        Keep rows whose technology is one of these (after normalisation) or unknown; the
        others (2G RxLev, 3G RSCP are not RSRP) are left out with a warning. None keeps all.
    drop_duplicates
        Drop repeated rows (same time, place, RSRP and cell) with a warning instead of
        reporting them as a problem.

    Returns
    -------
    geopandas.GeoDataFrame
        The measurements schema (module docstring), index 0..n-1. Rows without coordinates or
        RSRP (no GPS fix, no service) are left out with a warning.

    Raises
    ------
    DataError
        The file is missing, unreadable or empty.
    CRSError
        ``crs`` is not metric.
    SchemaError
        Every problem of the file at once: missing columns, values that are not numbers,
        mixed decimal separators, coordinates out of range or swapped, RSRP outside
        -156 ... -31 dBm, duplicated rows, points far from every site.
    """
    if format not in FORMATS:
        import difflib

        close = difflib.get_close_matches(str(format), FORMATS, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise UnitsError(
            f"format must be one of {', '.join(map(repr, FORMATS))}; received {format!r}.{hint}"
        )
    target = None if crs is None else require_metric(crs, "read_measurements(crs=)")
    if target is None and sites is not None and sites.crs is not None:
        target = require_metric(sites.crs, "the sites table")
    path_s = os.fspath(path)
    p = Path(path_s)
    if not p.is_file():
        raise DataError(f"measurements file not found: {path_s}. Check the path.")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(f"could not read measurements file {path_s} ({exc}).") from exc
    text, encoding = _decode(raw)
    lines, hidx, sep = _split_header(text)
    what = f"measurements file {path_s}"
    if hidx < 0:
        raise DataError(f"{what} is empty; expected a header line and one row per sample.")
    try:
        df = pd.read_csv(
            io.StringIO("\n".join(lines[hidx:])),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            index_col=False,
        )
    except Exception as exc:
        hint = ""
        if sep == "," and "Expected" in str(exc):
            hint = (
                " A decimal comma in a comma-separated file splits a number into two fields: "
                "save it as semicolon-separated CSV (as Excel does with Indonesian regional "
                "settings) or use decimal points."
            )
        raise DataError(
            f"could not parse {what} as a table separated by {sep!r} ({type(exc).__name__}: "
            f"{exc}; lines counted from the header).{hint}"
        ) from exc
    df.columns = [str(c).strip() for c in df.columns]
    # blank lines keep their place so that line numbers stay right; drop them now
    empty = (df.apply(lambda c: c.astype(str).str.strip()) == "").all(axis=1).to_numpy()
    line_no = np.arange(len(df), dtype=np.int64) + hidx + 2
    df = df.loc[~empty].reset_index(drop=True)
    line_no = line_no[~empty]
    if len(df) == 0:
        raise DataError(f"{what} has a header but no rows of measurements.")
    present = list(df.columns)
    fmt = _detect_format({_norm(c) for c in present}) if format == "auto" else format
    problems = Problems()
    use = _resolve(fmt, present, columns, problems)

    n = len(df)
    nan = np.full(n, np.nan)
    commas = 0
    lon, bad_lon, c = (
        _numbers(df[use["lon"]], use["lon"], line_no, problems) if "lon" in use
        else (nan, np.zeros(n, bool), 0)
    )  # fmt: skip
    commas += c
    lat, bad_lat, c = (
        _numbers(df[use["lat"]], use["lat"], line_no, problems) if "lat" in use
        else (nan, np.zeros(n, bool), 0)
    )  # fmt: skip
    commas += c
    rsrp, bad_rsrp, c = (
        _numbers(df[use["rsrp_dbm"]], use["rsrp_dbm"], line_no, problems) if "rsrp_dbm" in use
        else (nan, np.zeros(n, bool), 0)
    )  # fmt: skip
    commas += c

    def ids(key: str) -> pd.Series:
        if key not in use:
            return pd.Series(np.nan, index=df.index, dtype=object)
        return _as_id_strings(df[use[key]])

    tech = (
        _technology(df[use["technology"]]) if "technology" in use
        else pd.Series(np.nan, index=df.index, dtype=object)
    )  # fmt: skip
    cell = ids("cell_id")
    node = ids("node_id")
    operator = ids("operator")
    if fmt == "opencellid":
        cell_num = pd.to_numeric(cell, errors="coerce")
        derive = node.isna() & (tech == "LTE") & (cell_num > 255)
        node = node.where(~derive, (cell_num // 256).astype("Int64").astype(str))
        cols = {_norm(c): c for c in present}
        if "mcc" in cols and "net" in cols:
            operator = (
                _as_id_strings(df[cols["mcc"]]).astype(str) + "-"
                + _as_id_strings(df[cols["net"]]).astype(str)
            )  # fmt: skip
    if "time" in use:
        time, bad_time = _times(df[use["time"]], fmt)
    else:
        time, bad_time = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"), 0
    if bad_time:
        warnings.warn(
            f"{what}: {bad_time} time value(s) in column {use['time']!r} could not be read "
            "as dates; they are left empty (NaT).",
            BlankspotWarning,
            stacklevel=2,
        )

    # rows the reader leaves out: no fix or no service, other technologies
    skipped_bad = bad_lon | bad_lat | bad_rsrp
    no_fix = ~skipped_bad & (np.isnan(lon) | np.isnan(lat) | ((lon == 0.0) & (lat == 0.0)))
    no_rsrp = ~skipped_bad & ~no_fix & np.isnan(rsrp)
    other_tech = np.zeros(n, dtype=bool)
    if technologies is not None:
        wanted = {str(t).upper() for t in technologies}
        other_tech = (tech.notna() & ~tech.astype(str).str.upper().isin(wanted)).to_numpy()
    keep = ~(skipped_bad | no_fix | no_rsrp | other_tech)
    notes = []
    if no_fix.any():
        notes.append(f"{no_fix.sum()} without coordinates (no GPS fix, or 0/0)")
    if no_rsrp.any():
        notes.append(f"{no_rsrp.sum()} without RSRP (no service)")
    if other_tech.any():
        kinds = ", ".join(sorted(set(tech[other_tech].astype(str))))
        notes.append(f"{other_tech.sum()} of other technologies ({kinds}; their level is not RSRP)")
    if notes and keep.any():
        warnings.warn(f"{what}: left out {'; '.join(notes)}.", BlankspotWarning, stacklevel=2)

    # coordinates
    lines_k = line_no
    out_of_range = keep & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if out_of_range.any():
        swapped = out_of_range & (np.abs(lat) <= 180) & (np.abs(lon) <= 90)
        hint = (
            " Some look like lat/lon swapped: lon is the easting (about 116 for Paser), lat "
            "the northing (about -1.8)."
            if swapped.any() else ""
        )  # fmt: skip
        shown = [f"line {ln}: ({a:g}, {b:g})" for ln, a, b in
                 zip(lines_k[out_of_range], lon[out_of_range], lat[out_of_range], strict=True)]  # fmt: skip
        problems.add(
            f"{out_of_range.sum()} point(s) have lon/lat outside valid degrees (lon -180..180, "
            f"lat -90..90): {listing(shown)}.{hint}"
        )
    # RSRP range
    rsrp_bad = keep & ((rsrp < RSRP_MIN_DBM) | (rsrp > RSRP_MAX_DBM))
    if rsrp_bad.any():
        vals = rsrp[rsrp_bad]
        hint = ""
        if np.all(vals >= 0) and np.all(vals <= 97):
            hint = (
                " The values look like ASU (0-97) or RSRP without its minus sign: RSRP (dBm) "
                "= ASU - 140."
            )
        elif np.all(vals > RSRP_MAX_DBM) and np.all(vals <= 0):
            hint = " Is the column RSSI rather than RSRP?"
        shown = [f"line {ln}: {v:g}" for ln, v in zip(lines_k[rsrp_bad], vals, strict=True)]
        problems.add(
            f"{rsrp_bad.sum()} RSRP value(s) outside {RSRP_MIN_DBM:g} ... {RSRP_MAX_DBM:g} dBm "
            f"(3GPP TS 36.133 reporting range): {listing(shown)}.{hint}"
        )
    # duplicates
    key = pd.DataFrame(
        {"t": time.astype("int64"), "lon": lon, "lat": lat, "r": rsrp, "c": cell.astype(str)}
    )
    dup = keep & key.duplicated(keep="first").to_numpy()
    if dup.any():
        if drop_duplicates:
            keep = keep & ~dup
            warnings.warn(
                f"{what}: dropped {dup.sum()} duplicated row(s) (same time, place, RSRP and "
                f"cell as an earlier row), e.g. line {lines_k[dup][0]}.",
                BlankspotWarning,
                stacklevel=2,
            )
        else:
            problems.add(
                f"{dup.sum()} row(s) repeat an earlier row (same time, place, RSRP and cell): "
                f"{listing(f'line {ln}' for ln in lines_k[dup])}. Was the file appended "
                "twice? Remove them, or pass drop_duplicates=True."
            )
    if not keep.any() and not problems:
        problems.add(
            "no usable rows: " + ("; ".join(notes) if notes else "every row lacks data") + "."
        )

    # geometry
    usable = keep & ~out_of_range
    lon_k, lat_k = lon[usable], lat[usable]
    if target is None and usable.any():
        target = utm_crs_for(float(lon_k.min()), float(lat_k.min()), float(lon_k.max()),
                             float(lat_k.max()))  # fmt: skip
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if usable.any() and target is not None:
        tr = Transformer.from_crs(WGS84, target, always_xy=True)
        x[usable], y[usable] = tr.transform(lon_k, lat_k)
    if sites is not None and usable.any():
        far = _far_from_sites(x, y, usable, sites, target, max_site_distance_km)
        if far is not None and far[0].any():
            mask, dist_km = far
            shown = [f"line {ln} ({d:.1f} km)" for ln, d in
                     zip(lines_k[mask], dist_km[mask], strict=True)]  # fmt: skip
            problems.add(
                f"{mask.sum()} point(s) lie farther than {max_site_distance_km:g} km from every "
                f"site: {listing(shown)}. Are they from another area or another operator's "
                "network? Remove them, or raise max_site_distance_km."
            )
    problems.raise_if_any(what)

    k = keep
    frame = pd.DataFrame(
        {
            "lon": lon[k],
            "lat": lat[k],
            "rsrp_dbm": rsrp[k],
            "site_id": ids("site_id")[k].to_numpy(dtype=object),
            "cell_id": cell[k].to_numpy(dtype=object),
            "node_id": node[k].to_numpy(dtype=object),
            "time": time[k].to_numpy(),
            "technology": tech[k].to_numpy(dtype=object),
            "operator": operator[k].to_numpy(dtype=object),
            "source_format": fmt,
            "source_line": line_no[k],
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=shapely.points(x[k], y[k]), crs=target)
    out.attrs.update(
        encoding=encoding,
        separator=sep,
        decimal_comma=commas > 0,
        source_path=path_s,
    )
    if commas:
        warnings.warn(
            f"{what}: read {commas} number(s) written with a decimal comma ({sep!r}-separated "
            "file, as Excel with Indonesian regional settings writes it).",
            BlankspotWarning,
            stacklevel=2,
        )
    return out


def _far_from_sites(
    x: np.ndarray,
    y: np.ndarray,
    usable: np.ndarray,
    sites: gpd.GeoDataFrame,
    target: CRS | None,
    max_km: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    if len(sites) == 0 or target is None:
        return None
    geoms = sites.geometry if sites.crs is None else sites.geometry.to_crs(target)
    sx = np.asarray(geoms.x, dtype=float)
    sy = np.asarray(geoms.y, dtype=float)
    d = np.full(x.shape, np.inf)
    for a, b in zip(sx, sy, strict=True):
        d = np.minimum(d, np.hypot(x - a, y - b))
    d_km = d / 1000.0
    return usable & (d_km > max_km), d_km


# --- linking ------------------------------------------------------------------------------
def _cell_map(
    sites: gpd.GeoDataFrame,
    cell_column: str | None,
    cell_sites: Mapping[Any, Any] | None,
) -> dict[str, str]:
    """cell id -> site id from a column of the sites table and/or an explicit mapping."""
    out: dict[str, str] = {}
    if cell_column is not None:
        if cell_column not in sites.columns:
            raise SchemaError(
                f"cell_column {cell_column!r} is not a column of the sites table; it has "
                f"{listing(map(repr, sites.columns), limit=30)}."
            )
        for sid, cells in sites[cell_column].items():
            if cells is None or (isinstance(cells, float) and math.isnan(cells)):
                continue
            for c in re.split(r"[;,\s|]+", str(cells).strip()):
                if c:
                    out[_id(c)] = str(sid)
    for c, s in dict(cell_sites or {}).items():
        out[_id(c)] = str(s)
    return out


def _id(value: Any) -> str:
    """An id as a string; whole floats lose their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    s = str(value).strip()
    return s[:-2] if re.fullmatch(r"-?\d+\.0", s) else s


def link_measurements(
    measurements: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    cell_column: str | None = None,
    cell_sites: Mapping[Any, Any] | None = None,
    terrain: Any = None,
    strongest_predicted: bool = True,
    max_distance_m: float = DEFAULT_MAX_SITE_DISTANCE_KM * 1000.0,
    **predict_kwargs: Any,
) -> gpd.GeoDataFrame:
    """Name the serving site of every measurement: by id where the file has one, else the
    site predicted strongest there.

    In order, a point is linked by id (``site_link = "id"``) when its ``site_id`` is a site of
    the table, its ``cell_id`` is a cell of a site (``cell_column`` / ``cell_sites``), or its
    ``node_id`` (eNodeB) is a site id or a listed cell. Otherwise, with a ``terrain``, it is
    linked to the site of highest predicted RSRP there (``site_link =
    "strongest_predicted"``; :func:`blankspot.calibration.predict_at_points` with
    ``predict_kwargs``): a guess, since the real server may be another operator's cell or a
    neighbour after a late handover. Points that stay unlinked have ``site_link`` ``"none"``.

    Parameters
    ----------
    measurements
        From :func:`read_measurements`.
    sites
        The sites table (index ``site_id``).
    cell_column
        A column of the sites table listing the cell ids of each site (one id, or several
        separated by ``;``, ``,``, ``|`` or spaces), e.g. ECIs.
    cell_sites
        An explicit mapping cell id -> site id (added to ``cell_column``'s).
    terrain
        A :class:`~blankspot.terrain.Terrain` for the strongest-predicted fallback; None
        leaves the rest unlinked.
    strongest_predicted
        False: never guess; unmatched points stay unlinked.
    max_distance_m
        For the fallback, only sites within this distance of a point are predicted (the
        coverage radius; it keeps the work to the sites that can serve the point).
    predict_kwargs
        Passed to :func:`~blankspot.calibration.predict_at_points` (``budget``,
        ``landcover``, ``clutter_model``, ``rx_height_agl_m``, ``itm_params``).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``site_id`` set (str, NaN when unlinked), ``site_id_in_file`` (the file's
        value) and ``site_link`` (``"id"``, ``"strongest_predicted"`` or ``"none"``). Ids the
        file names that the table lacks are listed in a
        :class:`~blankspot.errors.BlankspotWarning`.
    """
    out = measurements.copy()
    n = len(out)
    known = {str(s) for s in sites.index}
    cmap = _cell_map(sites, cell_column, cell_sites)
    in_file = out["site_id"] if "site_id" in out else pd.Series(np.nan, index=out.index)
    site = pd.Series(np.nan, index=out.index, dtype=object)
    unknown: set[str] = set()

    def strs(col: str) -> pd.Series:
        if col not in out:
            return pd.Series(np.nan, index=out.index, dtype=object)
        vals = [
            _id(v)
            if isinstance(v, (str, int, float)) and not (isinstance(v, float) and math.isnan(v))
            else np.nan
            for v in out[col]
        ]
        return pd.Series(vals, index=out.index, dtype=object)

    for col, lookup in (("site_id", None), ("cell_id", cmap), ("node_id", None)):
        vals = strs(col)
        todo = site.isna() & vals.notna()
        if not todo.any():
            continue
        if lookup is None:
            hit = vals[todo].map(lambda v: v if v in known else cmap.get(v, np.nan))
        else:
            hit = vals[todo].map(lambda v, lk=lookup: lk.get(v, np.nan))
        site[todo] = hit
    for col in ("site_id", "cell_id", "node_id"):
        vals = strs(col)
        unknown |= set(vals[site.isna() & vals.notna()].astype(str))
    link = pd.Series(np.where(site.notna(), "id", "none"), index=out.index, dtype=object)
    rest = site.isna().to_numpy()
    if rest.any() and terrain is not None and strongest_predicted and len(sites):
        from blankspot.calibration import predict_at_points

        best = np.full(n, -np.inf)
        best_site = np.full(n, None, dtype=object)
        crs = terrain.crs
        pts = out.geometry if out.crs == crs else out.geometry.to_crs(crs)
        px, py = np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)
        sg = sites.geometry if sites.crs == crs else sites.geometry.to_crs(crs)
        for sid, g in zip(sites.index, sg, strict=True):
            near = rest & (np.hypot(px - g.x, py - g.y) <= float(max_distance_m))
            if not near.any():
                continue
            pred = predict_at_points(
                terrain, sites, out.loc[near], site_id=str(sid), **predict_kwargs
            )
            r = pred["predicted_rsrp_dbm"].to_numpy(dtype=float)
            idx = np.flatnonzero(near)
            better = np.isfinite(r) & (r > best[idx])
            best[idx[better]] = r[better]
            best_site[idx[better]] = str(sid)
        got = rest & (best_site != None)  # noqa: E711 - elementwise on an object array
        site[got] = best_site[got]
        link[got] = "strongest_predicted"
    if unknown:
        warnings.warn(
            f"{len(unknown)} site/cell/eNodeB id(s) of the measurements match no site of the "
            f"table (nor a cell of the mapping): {listing(sorted(map(repr, unknown)))}; "
            "those points were linked as if they had no id.",
            BlankspotWarning,
            stacklevel=2,
        )
    out["site_id_in_file"] = in_file.to_numpy(dtype=object)
    out["site_id"] = site.to_numpy(dtype=object)
    out["site_link"] = link.to_numpy(dtype=object)
    return out


# --- thinning -----------------------------------------------------------------------------
def thin_measurements(
    measurements: gpd.GeoDataFrame,
    *,
    cell_m: float | None = None,
    wavelengths: float | None = None,
    freq_mhz: float | None = None,
    average: str = "linear",
    by_site: bool = True,
) -> gpd.GeoDataFrame:
    """One value per square bin of equal area, so that a slow drive does not weigh more.

    The bins are squares of ``cell_m`` metres in the frame's metric CRS, or of ``wavelengths``
    wavelengths at ``freq_mhz`` (Lee's criterion: 40 λ, 13.3 m at 900 MHz, averages the fast
    fading out and keeps the shadowing). Each bin's value is placed at the mean position of its
    samples.

    ``average="linear"`` (default) averages the power in milliwatts and converts back to dBm:
    the local mean power, which a median path-loss model predicts (Lee's method). Averaging in
    dB instead (``"db"``) estimates the local median, below the mean by up to 2.5 dB under
    Rayleigh fading; phones report RSRP already filtered over time, so the two differ little,
    and ``"db"`` is more robust to one spike.

    Parameters
    ----------
    measurements
        A measurements frame in a metric CRS.
    cell_m, wavelengths, freq_mhz
        Bin size: ``cell_m`` metres, or ``wavelengths`` wavelengths at ``freq_mhz``; give one.
    average
        ``"linear"`` or ``"db"``.
    by_site
        Bin each serving site separately (needs ``site_id``; rows without one form their own
        group), so that two servers of one place are not averaged together.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per bin: ``rsrp_dbm`` (the bin's value), ``n_samples``, ``rsrp_std_db`` (spread
        of the bin's samples in dB, NaN for one), ``bin_m``, ``lon``/``lat`` (mean), and the
        first sample's ``site_id``, ``cell_id``, ``node_id``, ``time``, ``technology``,
        ``operator``, ``source_format``, ``source_line``; geometry in the frame's CRS.
    """
    problems: list[str] = []
    if (cell_m is None) == (wavelengths is None):
        problems.append("give exactly one of cell_m (metres) or wavelengths (with freq_mhz).")
    size = math.nan
    if cell_m is not None:
        size = float(cell_m)
    elif wavelengths is not None:
        if freq_mhz is None or not (math.isfinite(float(freq_mhz)) and float(freq_mhz) > 0):
            problems.append(f"wavelengths needs freq_mhz > 0 (MHz); received {freq_mhz!r}.")
        else:
            size = float(wavelengths) * 299.792458 / float(freq_mhz)
    if not problems and not (math.isfinite(size) and size > 0):
        problems.append(f"the bin size must be > 0 m; received {size!r}.")
    if average not in ("linear", "db"):
        problems.append(f"average must be 'linear' or 'db'; received {average!r}.")
    crs = measurements.crs
    if crs is None or not CRS.from_user_input(crs).is_projected:
        problems.append(
            "the measurements must be in a projected CRS in metres (read_measurements returns "
            "one); call .to_crs() first."
        )
    if problems:
        raise UnitsError("thin_measurements(): " + " ".join(problems))
    g = measurements
    x = np.asarray(g.geometry.x, dtype=float)
    y = np.asarray(g.geometry.y, dtype=float)
    work = pd.DataFrame(
        {
            "ix": np.floor(x / size).astype(np.int64),
            "iy": np.floor(y / size).astype(np.int64),
            "x": x,
            "y": y,
            "rsrp": g["rsrp_dbm"].to_numpy(dtype=float),
            "mw": 10.0 ** (g["rsrp_dbm"].to_numpy(dtype=float) / 10.0),
            "pos": np.arange(len(g)),
        }
    )
    keys = ["ix", "iy"]
    if by_site and "site_id" in g:
        work["site"] = g["site_id"].astype(str).to_numpy()
        keys.append("site")
    grouped = work.groupby(keys, sort=False)
    agg = grouped.agg(
        x=("x", "mean"), y=("y", "mean"), rsrp_db=("rsrp", "mean"), mw=("mw", "mean"),
        std=("rsrp", "std"), n=("rsrp", "size"), first=("pos", "min"),
    ).reset_index(drop=True)  # fmt: skip
    value = 10.0 * np.log10(agg["mw"].to_numpy()) if average == "linear" else agg["rsrp_db"]
    first = agg["first"].to_numpy()
    carry = [c for c in MEASUREMENT_COLUMNS if c in g and c not in ("lon", "lat", "rsrp_dbm")]
    carry += [c for c in ("site_link", "site_id_in_file") if c in g]
    out = pd.DataFrame({c: g[c].to_numpy()[first] for c in carry})
    out.insert(0, "rsrp_dbm", np.asarray(value, dtype=float))
    out["n_samples"] = agg["n"].to_numpy(dtype=np.int64)
    out["rsrp_std_db"] = agg["std"].to_numpy(dtype=float)
    out["bin_m"] = size
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(agg["x"].to_numpy(), agg["y"].to_numpy())
    out.insert(0, "lat", lat)
    out.insert(0, "lon", lon)
    res = gpd.GeoDataFrame(out, geometry=shapely.points(agg["x"], agg["y"]), crs=crs)
    res.attrs.update(measurements.attrs)
    res.attrs["thinned"] = {"bin_m": size, "average": average, "n_in": len(g)}
    return res
