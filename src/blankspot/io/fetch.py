"""Real public data for an area in one command: download, verify, mosaic and clip.

:func:`fetch_area` gets each requested source (see :mod:`blankspot.io.providers`) for an area
given as a kode wilayah of the embedded boundaries (``64.01``, a kecamatan or a desa code) or as
lon/lat bounds, and writes into the data directory::

    <data_dir>/downloads/<provider>/...   the providers' files as published (tiles, national
                                          files, query answers), shared by every area
    <data_dir>/downloads/registry.json    URL, bytes, SHA-256 and date of every download
    <data_dir>/<area>/                    the products, clipped to the area (plus a margin)
    <data_dir>/<area>/sources.json        a registry entry for every file the area used

Downloads go through :mod:`pooch`: a file is written under a temporary name and moved into place
only once complete and its hash checked, so nothing half-written is ever left where data is
read. blankspot knows of no per-file checksums published by the five providers, so the
SHA-256 of a first download is recorded in ``downloads/registry.json`` and every later use checks
it (a file changed since is fetched again; a provider file that changed is reported). Transfers
are retried; an interrupted one resumes with an HTTP ``Range`` request from the bytes kept in
``downloads/.partial/`` (the only place partial bytes live). Products are written atomically.

:func:`fetched_sources` returns the registry entries of an area, for a run's ``metadata.json``.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import json
import logging
import math
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blankspot.errors import DataError, SchemaError, UnitsError, format_problems
from blankspot.io.datasets import sha256_file
from blankspot.io.providers import (
    COPERNICUS_TILE_LIST,
    INDONESIA_MCC,
    OPENCELLID_COLUMNS,
    OPENCELLID_KEY_ENV,
    PROVIDERS,
    SOURCES,
    WORLDCOVER_GRID,
    Bounds,
    copernicus_tile_path,
    copernicus_tiles,
    opencellid_file,
    opencellid_query,
    overpass_layers,
    overpass_query,
    parse_copernicus_tile_list,
    parse_worldcover_grid,
    worldcover_tile_path,
    worldcover_tiles,
    worldpop_path,
)
from blankspot.options import data_dir as _default_data_dir

log = logging.getLogger(__name__)

DOWNLOADS_DIR = "downloads"
"""Sub-folder of the data directory for the providers' files."""
PARTIAL_DIR = ".partial"
"""Sub-folder of :data:`DOWNLOADS_DIR` for the bytes of interrupted transfers (resumed later)."""
SOURCES_FILE = "sources.json"
"""The registry of an area folder."""
DOWNLOAD_REGISTRY = "registry.json"
"""The registry of the downloads folder."""

PRODUCT_FILES = {
    "dem": "dem_copernicus_glo30.tif",
    "landcover": "landcover_worldcover_2021.tif",
    "population": "population_worldpop_2020.tif",
    "osm": "osm.gpkg",
    "towers": "towers_opencellid.csv",
}
"""The file each source writes into the area folder."""

KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class Area:
    """Where to fetch: a name for the folder and lon/lat bounds."""

    name: str
    """Folder name under the data directory: the kode wilayah, or ``bbox_...`` for bounds."""
    bounds: Bounds
    """(lon_min, lat_min, lon_max, lat_max), WGS 84 degrees, without margin."""
    title: str = ""
    """E.g. "Kabupaten Paser"."""

    def with_margin(self, km: float) -> Bounds:
        """The bounds grown by ``km`` on every side."""
        if km <= 0:
            return self.bounds
        lon_min, lat_min, lon_max, lat_max = self.bounds
        dlat = km / KM_PER_DEGREE
        coslat = max(math.cos(math.radians(max(abs(lat_min), abs(lat_max)))), 0.01)
        dlon = km / (KM_PER_DEGREE * coslat)
        return (
            max(lon_min - dlon, -180.0), max(lat_min - dlat, -90.0),
            min(lon_max + dlon, 180.0), min(lat_max + dlat, 90.0),
        )


@dataclass
class FetchSettings:
    """How downloads behave; the defaults suit a real connection, tests shorten them."""

    timeout_s: float = 60.0
    """Connect and read timeout of one request."""
    retries: int = 4
    """Further attempts after a failed or interrupted transfer."""
    backoff_s: float = 2.0
    """Wait before the first retry, doubled each time (at most 60 s)."""
    progress: bool = True
    """Show a tqdm bar per file."""
    base_urls: dict[str, str] = field(default_factory=dict)
    """Base URL per source, over the environment and the defaults of :data:`PROVIDERS`."""
    overpass_timeout_s: int = 180
    """Time the Overpass server may take for the query; it sends nothing until done, so the
    read timeout of that request is ``timeout_s`` plus this."""
    user_agent: str = "blankspot data fetch"


# --- areas -----------------------------------------------------------------------------------------
def check_bounds(bounds: Sequence[float]) -> Bounds:
    """Validate lon/lat bounds; raise :class:`UnitsError` listing every problem."""
    problems = []
    if len(bounds) != 4:
        raise UnitsError(
            f"bounds need 4 numbers LON_MIN LAT_MIN LON_MAX LAT_MAX; received {list(bounds)}."
        )
    lon_min, lat_min, lon_max, lat_max = (float(b) for b in bounds)
    if not all(math.isfinite(v) for v in (lon_min, lat_min, lon_max, lat_max)):
        problems.append(f"every bound must be a finite number; received {list(bounds)}")
    if not (-180 <= lon_min < lon_max <= 180):
        problems.append(
            f"longitudes must satisfy -180 <= LON_MIN < LON_MAX <= 180 degrees east; received "
            f"{lon_min}, {lon_max} (give LON_MIN LAT_MIN LON_MAX LAT_MAX)"
        )
    if not (-90 <= lat_min < lat_max <= 90):
        problems.append(
            f"latitudes must satisfy -90 <= LAT_MIN < LAT_MAX <= 90 degrees north (south is "
            f"negative); received {lat_min}, {lat_max}"
        )
    if problems:
        raise UnitsError(format_problems("bounds", problems))
    return (lon_min, lat_min, lon_max, lat_max)


def resolve_area(
    area: str | None = None, bounds: Sequence[float] | None = None, *, name: str | None = None
) -> Area:
    """The :class:`Area` of a kode wilayah of the embedded boundaries, or of lon/lat bounds.

    Parameters
    ----------
    area
        A kabupaten (``64.01``), kecamatan (``64.01.09``) or desa (``64.01.09.2003``) code of the
        embedded Paser boundaries. Other kabupaten: pass ``bounds``.
    bounds
        (lon_min, lat_min, lon_max, lat_max) in degrees.
    name
        Folder name for ``bounds`` (default ``bbox_<lon_min>_<lat_min>_<lon_max>_<lat_max>``).

    Raises
    ------
    SchemaError
        Neither or both given, or an unknown code (the message lists the known ones).
    UnitsError
        Bounds out of range.
    """
    if (area is None) == (bounds is None):
        raise SchemaError(
            "give either an area code (--area 64.01) or bounds (--bounds LON_MIN LAT_MIN LON_MAX "
            f"LAT_MAX); received area={area!r}, bounds={None if bounds is None else list(bounds)}."
        )
    if bounds is not None:
        b = check_bounds(bounds)
        folder = name or "bbox_" + "_".join(f"{v:.3f}" for v in b)
        return Area(folder, b, title=f"bounds {', '.join(f'{v:g}' for v in b)}")
    assert area is not None
    code = area.strip()
    from blankspot.io.datasets import DESA_FILE, KABUPATEN_FILE, KECAMATAN_FILE, paser_path

    layers = ((KABUPATEN_FILE, "kode_kab", "nama_kab"), (KECAMATAN_FILE, "kode_kec", "nama_kec"),
              (DESA_FILE, "kode", "nama"))
    known: list[str] = []
    for file, code_field, name_field in layers:
        collection = json.loads(paser_path(file).read_text(encoding="utf-8"))
        for feature in collection["features"]:
            props = feature["properties"]
            if file != DESA_FILE:
                known.append(f"{props[code_field]} ({props[name_field]})")
            if props[code_field] == code:
                return Area(name or code, _geometry_bounds(feature["geometry"]),
                            title=str(props[name_field]))
    raise SchemaError(
        f"area {code!r} is not a kode wilayah of the embedded boundaries. Known: "
        f"{', '.join(known)}, and the 144 desa codes (e.g. 64.01.09.2003). For another "
        "kabupaten pass --bounds LON_MIN LAT_MIN LON_MAX LAT_MAX (and --name to name its folder)."
    )


def _geometry_bounds(geometry: Mapping[str, Any]) -> Bounds:
    xs: list[float] = []
    ys: list[float] = []

    def walk(c: Any) -> None:
        if isinstance(c[0], (int, float)):
            xs.append(float(c[0]))
            ys.append(float(c[1]))
        else:
            for part in c:
                walk(part)

    walk(geometry["coordinates"])
    return (min(xs), min(ys), max(xs), max(ys))


# --- registries -----------------------------------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"{path.as_posix()} is not readable JSON ({exc}). Delete it; the next fetch "
            "rebuilds it (downloads are then checked again)."
        ) from exc


def _write_json(path: Path, data: Any) -> None:
    from blankspot.io.outputs import write_text

    write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", path)


def _redact(url: str) -> str:
    """The URL without secrets (the OpenCelliD token)."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, "***" if k.lower() in {"token", "key", "api_key"} else v)
             for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


def fetched_sources(
    area: str, data_dir: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """The registry entries of the files fetched for ``area``: one dict per file.

    Every entry has ``source`` (``dem``, ``landcover``, ...), ``kind`` (``download``: a
    provider's file as published, or ``product``: the clipped file an analysis reads), ``file``
    (relative to the data directory), ``url`` (None for products; secrets redacted), ``bytes``,
    ``sha256``, ``date`` (UTC, ISO 8601), ``licence``, ``attribution`` and ``hash`` (for
    downloads: ``recorded``, the SHA-256 recorded at the first download and checked since).
    Products also list ``derived_from`` (files) and ``bounds``.

    Meant for a run's ``metadata.json``: the inputs of a run on fetched data, with provenance.
    Returns an empty list when nothing was fetched for ``area``.
    """
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    registry = _read_json(root / area / SOURCES_FILE, {})
    return list(registry.get("files", []))


def fetched_areas(data_dir: str | os.PathLike[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{area folder: fetched_sources(area)}`` for every area folder with a ``sources.json``."""
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    if not root.is_dir():
        return {}
    return {
        p.parent.name: fetched_sources(p.parent.name, root)
        for p in sorted(root.glob(f"*/{SOURCES_FILE}"))
    }


# --- downloading -----------------------------------------------------------------------------------
class DownloadFailed(Exception):
    """A transfer that did not complete; ``status`` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None, partial: bool = False):
        super().__init__(message)
        self.status = status
        self.partial = partial


class _Downloader:
    """A pooch downloader: retries, HTTP Range resume, timeouts and a tqdm bar.

    Bytes arrive in ``<partial_dir>/<name>.part``; when complete they are moved to the temporary
    file pooch gave, which pooch hash-checks and renames into place. A transfer cut short keeps
    its ``.part`` (and the server's validator in ``.part.json``) so the next attempt, in this
    run or a later one, asks only for the rest.
    """

    def __init__(self, name: str, partial_dir: Path, settings: FetchSettings,
                 method: str = "GET", data: Mapping[str, str] | None = None,
                 read_timeout_s: float | None = None):
        self.name = name
        self.read_timeout_s = read_timeout_s or settings.timeout_s
        self.partial_dir = partial_dir
        self.settings = settings
        self.method = method
        self.data = data
        self.part = partial_dir / f"{name}.part"
        self.meta = partial_dir / f"{name}.part.json"

    def __call__(self, url: str, output_file: Any, pooch: Any = None) -> None:
        import requests
        import urllib3

        s = self.settings
        last: DownloadFailed | None = None
        session = requests.Session()
        session.headers["User-Agent"] = s.user_agent
        session.headers["Accept-Encoding"] = "identity"  # byte offsets for Range = file offsets
        try:
            for attempt in range(s.retries + 1):
                if attempt:
                    wait = min(s.backoff_s * 2 ** (attempt - 1), 60.0)
                    log.info("retrying %s in %.1f s (%s)", _redact(url), wait, last)
                    time.sleep(wait)
                try:
                    self._attempt(session, url)
                    shutil.move(str(self.part), str(output_file))
                    self.meta.unlink(missing_ok=True)
                    return
                except DownloadFailed as exc:
                    last = exc
                    if exc.status is not None and exc.status < 500 and exc.status not in (408, 429):
                        break  # 404 and friends: retrying will not help
                except (requests.ConnectionError, requests.Timeout,
                        requests.exceptions.ChunkedEncodingError, urllib3.exceptions.HTTPError,
                        OSError) as exc:
                    timed_out = isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError,
                                                 TimeoutError))
                    kind = "timed out" if timed_out else "failed"
                    last = DownloadFailed(f"the connection {kind} ({type(exc).__name__})",
                                          partial=True)
        finally:
            session.close()
        assert last is not None
        if (last.status is not None and last.status < 500 and last.status not in (408, 429)) \
                or self.method != "GET":
            self._discard()  # the file is not there, or a POST answer cannot be resumed
        raise last

    def _discard(self) -> None:
        self.part.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)

    def _attempt(self, session: Any, url: str) -> None:
        s = self.settings
        have = self.part.stat().st_size if self.part.is_file() and self.method == "GET" else 0
        headers = {}
        if have:
            headers["Range"] = f"bytes={have}-"
            meta = _read_json(self.meta, {}) if self.meta.is_file() else {}
            if meta.get("validator"):
                headers["If-Range"] = meta["validator"]
        with session.request(self.method, url, headers=headers, data=self.data, stream=True,
                             timeout=(s.timeout_s, self.read_timeout_s)) as resp:
            if resp.status_code == 416 and have:  # nothing left to send, or a stale .part
                self._discard()
                raise DownloadFailed("the server refused the resume range; starting over",
                                     status=None, partial=True)
            if resp.status_code >= 400:
                raise DownloadFailed(f"HTTP {resp.status_code} {resp.reason}",
                                     status=resp.status_code)
            if resp.status_code == 206 and have:
                start = _range_start(resp.headers.get("Content-Range", ""))
                if start != have:
                    self._discard()
                    raise DownloadFailed(f"the server resumed at byte {start}, not {have}",
                                         partial=True)
                mode = "ab"
            else:
                have, mode = 0, "wb"
            length = resp.headers.get("Content-Length")
            total = have + int(length) if length and length.isdigit() else None
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            self.partial_dir.mkdir(parents=True, exist_ok=True)
            if validator and self.method == "GET":
                self.meta.write_text(json.dumps({"url": _redact(url), "validator": validator}))
            bar = _bar(self.name, total, have, s.progress)
            got = have
            try:
                # read the raw stream without urllib3's length check, which would drop the
                # bytes of a short last read: what arrived is kept, and its length is checked
                resp.raw.enforce_content_length = False
                with open(self.part, mode) as f:
                    for chunk in resp.raw.stream(1 << 16, decode_content=False):
                        if chunk:
                            f.write(chunk)
                            got += len(chunk)
                            bar.update(len(chunk))
            finally:
                bar.close()
            if total is not None and got < total:
                raise DownloadFailed(f"the connection closed after {got} of {total} bytes",
                                     partial=True)


def _range_start(content_range: str) -> int | None:
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _bar(name: str, total: int | None, initial: int, show: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not show, leave=False)


@dataclass
class _Fetcher:
    """Downloads into ``<data_dir>/downloads`` and keeps their registry."""

    root: Path
    settings: FetchSettings
    from_dir: Path | None = None

    def __post_init__(self) -> None:
        self.downloads = self.root / DOWNLOADS_DIR
        self.registry_path = self.downloads / DOWNLOAD_REGISTRY
        self.registry: dict[str, dict[str, Any]] = _read_json(self.registry_path, {})

    def get(self, source: str, url: str, relpath: str, *, method: str = "GET",
            data: Mapping[str, str] | None = None, refresh: bool = False,
            local_names: Iterable[str] = (), read_timeout_s: float | None = None) -> Path:
        """The provider file ``relpath`` (under downloads/), downloaded or handed over.

        ``local_names``: names to look for in ``from_dir`` instead of downloading.
        """
        import pooch

        provider = PROVIDERS[source]
        final = self.downloads / relpath
        entry = self.registry.get(relpath)
        if refresh:
            final.unlink(missing_ok=True)
            entry = None
        if self.from_dir is not None:
            return self._hand_over(source, url, relpath, local_names or [Path(relpath).name])
        # a recorded hash checks the copy on disk (pooch fetches it again when it differs) and
        # any new download; without one, the first download's hash is recorded below
        known = f"sha256:{entry['sha256']}" if entry else None
        pooch.get_logger().setLevel(logging.WARNING)
        partial = self.downloads / PARTIAL_DIR
        safe = relpath.replace("/", "__")
        downloader = _Downloader(safe, partial, self.settings, method=method, data=data,
                                 read_timeout_s=read_timeout_s)
        try:
            path = Path(pooch.retrieve(url, known_hash=known, fname=final.name, path=final.parent,
                                       downloader=downloader, progressbar=False))
        except DownloadFailed as exc:
            raise DataError(self._failure(source, url, str(exc), exc.status)) from exc
        except ValueError as exc:  # pooch: hash mismatch; the new download is not kept
            if final.is_file() and entry and sha256_file(final) != entry["sha256"]:
                final.unlink()  # nor a damaged copy already on disk
            raise DataError(
                f"{_redact(url)} does not match the SHA-256 recorded at its first download "
                f"({entry['sha256'] if entry else '?'}): {exc}. Either the download was corrupted "
                "(run the fetch again) or the provider changed the file: then fetch again with "
                "--refresh to accept the new version."
            ) from exc
        self._record(source, url, relpath, path, provider.licence)
        return path

    def _hand_over(self, source: str, url: str, relpath: str, names: Iterable[str]) -> Path:
        assert self.from_dir is not None
        final = self.downloads / relpath
        names = list(names)
        candidates = [self.from_dir / n for n in names]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise DataError(
                f"{source}: {names[0]} is not in {self.from_dir.as_posix()} (looked for "
                f"{', '.join(c.as_posix() for c in candidates)}). Download it from "
                f"{_redact(url)} and put it there."
            )
        from blankspot.io.outputs import atomic_path

        if not (final.is_file() and sha256_file(final) == sha256_file(found)):
            with atomic_path(final) as tmp:
                shutil.copyfile(found, tmp)
        self._record(source, url, relpath, final, PROVIDERS[source].licence,
                     handed_over=found.name)
        return final

    def _record(self, source: str, url: str, relpath: str, path: Path, licence: str,
                handed_over: str | None = None) -> None:
        sha = sha256_file(path)
        old = self.registry.get(relpath)
        if old and old["sha256"] == sha:
            return
        self.registry[relpath] = {
            "source": source, "kind": "download", "file": f"{DOWNLOADS_DIR}/{relpath}",
            "url": _redact(url), "bytes": path.stat().st_size, "sha256": sha, "date": _now(),
            "licence": licence, "attribution": PROVIDERS[source].attribution,
            "hash": "recorded", **({"handed_over": handed_over} if handed_over else {}),
        }
        _write_json(self.registry_path, self.registry)

    def forget(self, relpath: str) -> None:
        """Drop a downloaded file that proved unusable, and its registry entry."""
        (self.downloads / relpath).unlink(missing_ok=True)
        if self.registry.pop(relpath, None) is not None:
            _write_json(self.registry_path, self.registry)

    def _failure(self, source: str, url: str, why: str, status: int | None) -> str:
        what = {404: "not found (HTTP 404)"}.get(status or 0, why)
        hint = ""
        if source == "towers" and status in (401, 403):
            hint = f" Check the token in ${OPENCELLID_KEY_ENV}."
        return (
            f"could not download {_redact(url)}: {what}.{hint} Without a network, download the "
            f"files elsewhere and hand them over: blankspot data fetch {source} --area CODE "
            f"--from-dir DIR (DIR holding the files under the names the provider gives them)."
        )


# --- the sources -------------------------------------------------------------------------------------
def _open_raster_or_forget(fetcher: _Fetcher, relpath: str, url: str) -> None:
    import rasterio
    from rasterio.errors import RasterioIOError

    path = fetcher.downloads / relpath
    try:
        with rasterio.open(path) as src:
            src.read(1, window=((0, 1), (0, 1)))
    except (RasterioIOError, OSError, ValueError) as exc:
        fetcher.forget(relpath)
        raise DataError(
            f"{_redact(url)} gave a file that is not a readable GeoTIFF ({exc}); it was removed. "
            "The download was probably truncated or corrupted: run the fetch again."
        ) from exc


def _mosaic(paths: Sequence[Path], bounds: Bounds, out: Path, *, fill: float,
            nodata: float | None, dtype: str, tags: Mapping[str, str]) -> Path:
    """Mosaic ``paths`` over ``bounds`` (on their own grid) into a compressed tiled GeoTIFF."""
    import rasterio
    from rasterio.merge import merge

    from blankspot.io.outputs import atomic_path

    sources = [rasterio.open(p) for p in paths]
    try:
        array, transform = merge(sources, bounds=_snap(bounds, sources[0]), nodata=fill)
        crs = sources[0].crs
    finally:
        for s in sources:
            s.close()
    profile = {
        "driver": "GTiff", "width": array.shape[2], "height": array.shape[1], "count": 1,
        "dtype": dtype, "crs": crs, "transform": transform, "nodata": nodata, "compress": "deflate",
        "predictor": 3 if dtype.startswith("float") else 2, "tiled": True,
        "blockxsize": 256, "blockysize": 256, "BIGTIFF": "IF_SAFER",
    }
    with atomic_path(out) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(array[0].astype(dtype), 1)
            dst.update_tags(**tags)
    return out


def _snap(bounds: Bounds, src: Any) -> Bounds:
    """``bounds`` grown to whole cells of ``src``'s grid, so the mosaic loses no edge cell."""
    rx, ry = src.res
    ox, oy = src.transform.c, src.transform.f
    cells = [round(v, 9) for v in ((bounds[0] - ox) / rx, (oy - bounds[3]) / ry,
                                   (bounds[2] - ox) / rx, (oy - bounds[1]) / ry)]
    return (ox + math.floor(cells[0]) * rx, oy - math.ceil(cells[3]) * ry,
            ox + math.ceil(cells[2]) * rx, oy - math.floor(cells[1]) * ry)


def _fetch_dem(fetcher: _Fetcher, area: Area, out_dir: Path, refresh: bool) -> tuple[Path, list[str]]:
    provider = PROVIDERS["dem"]
    base = provider.url(fetcher.settings.base_urls)
    bounds = area.with_margin(provider.margin_km)
    wanted = copernicus_tiles(bounds)
    index_url = f"{base}/{COPERNICUS_TILE_LIST}"
    relpaths: list[str] = []
    if fetcher.from_dir is not None and not (fetcher.from_dir / COPERNICUS_TILE_LIST).is_file():
        existing = {t for t in wanted if (fetcher.from_dir / f"{t}.tif").is_file()
                    or (fetcher.from_dir / copernicus_tile_path(t)).is_file()}
    else:
        index = fetcher.get("dem", index_url, f"copernicus/{COPERNICUS_TILE_LIST}",
                            refresh=refresh)
        relpaths.append(f"copernicus/{COPERNICUS_TILE_LIST}")
        existing = parse_copernicus_tile_list(index.read_text(encoding="utf-8"))
    tiles = [t for t in wanted if t in existing]
    if not tiles:
        raise DataError(
            f"no Copernicus GLO-30 tile covers {_fmt(bounds)} (area {area.name} with a "
            f"{provider.margin_km:g} km margin; looked for {', '.join(wanted)} in "
            f"{COPERNICUS_TILE_LIST}): the area is sea, where GLO-30 has no tiles. Check the "
            "bounds (LON_MIN LAT_MIN LON_MAX LAT_MAX, south negative)."
        )
    sea = [t for t in wanted if t not in existing]
    if sea:
        log.info("no GLO-30 tile (sea, height 0) for %s", ", ".join(sea))
    files = []
    for tile in tiles:
        relpath = f"copernicus/{tile}.tif"
        url = f"{base}/{copernicus_tile_path(tile)}"
        fetcher.get("dem", url, relpath, refresh=refresh,
                    local_names=[f"{tile}.tif", copernicus_tile_path(tile)])
        _open_raster_or_forget(fetcher, relpath, url)
        files.append(fetcher.downloads / relpath)
        relpaths.append(relpath)
    out = _mosaic(files, bounds, out_dir / PRODUCT_FILES["dem"], fill=0.0, nodata=None,
                  dtype="float32", tags={
                      "DESCRIPTION": f"Copernicus DEM GLO-30 over {area.title or area.name} with a "
                      f"{provider.margin_km:g} km margin; cells without a tile are sea (0 m)",
                      "ATTRIBUTION": provider.attribution, "VERTICAL_UNITS": "metre",
                      "TILES": ",".join(tiles)})
    return out, relpaths


def _fetch_landcover(fetcher: _Fetcher, area: Area, out_dir: Path,
                     refresh: bool) -> tuple[Path, list[str]]:
    provider = PROVIDERS["landcover"]
    base = provider.url(fetcher.settings.base_urls)
    bounds = area.with_margin(provider.margin_km)
    wanted = worldcover_tiles(bounds)
    grid_name = Path(WORLDCOVER_GRID).name
    relpaths: list[str] = []
    if fetcher.from_dir is not None and not (fetcher.from_dir / grid_name).is_file():
        existing = {t for t in wanted if (fetcher.from_dir / Path(worldcover_tile_path(t)).name)
                    .is_file()}
    else:
        grid = fetcher.get("landcover", f"{base}/{WORLDCOVER_GRID}", f"worldcover/{grid_name}",
                           refresh=refresh)
        relpaths.append(f"worldcover/{grid_name}")
        try:
            existing = parse_worldcover_grid(json.loads(grid.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, KeyError, AttributeError) as exc:
            fetcher.forget(f"worldcover/{grid_name}")
            raise DataError(f"{base}/{WORLDCOVER_GRID} is not the WorldCover grid GeoJSON "
                            f"({exc}); it was removed: run the fetch again.") from exc
    tiles = [t for t in wanted if t in existing]
    if not tiles:
        raise DataError(
            f"no ESA WorldCover tile covers {_fmt(bounds)} (area {area.name}; looked for "
            f"{', '.join(wanted)}): the area is sea. Check the bounds."
        )
    files = []
    for tile in tiles:
        name = Path(worldcover_tile_path(tile)).name
        relpath = f"worldcover/{name}"
        url = f"{base}/{worldcover_tile_path(tile)}"
        fetcher.get("landcover", url, relpath, refresh=refresh,
                    local_names=[name, worldcover_tile_path(tile)])
        _open_raster_or_forget(fetcher, relpath, url)
        files.append(fetcher.downloads / relpath)
        relpaths.append(relpath)
    out = _mosaic(files, bounds, out_dir / PRODUCT_FILES["landcover"], fill=0, nodata=0,
                  dtype="uint8", tags={
                      "DESCRIPTION": f"ESA WorldCover 2021 v200 classes over "
                      f"{area.title or area.name} with a {provider.margin_km:g} km margin "
                      "(10 tree cover, 20 shrubland, 30 grassland, 40 cropland, 50 built-up, "
                      "60 bare, 70 snow, 80 water, 90 wetland, 95 mangroves, 100 moss; 0 no data)",
                      "ATTRIBUTION": provider.attribution, "TILES": ",".join(tiles)})
    return out, relpaths


def _fetch_population(fetcher: _Fetcher, area: Area, out_dir: Path,
                      refresh: bool) -> tuple[Path, list[str]]:
    import numpy as np
    import rasterio
    from rasterio.windows import from_bounds

    from blankspot.io.outputs import atomic_path

    provider = PROVIDERS["population"]
    base = provider.url(fetcher.settings.base_urls)
    path = worldpop_path("IDN")
    name = Path(path).name
    relpath = f"worldpop/{name}"
    url = f"{base}/{path}"
    fetcher.get("population", url, relpath, refresh=refresh)
    _open_raster_or_forget(fetcher, relpath, url)
    bounds = area.with_margin(provider.margin_km)
    with rasterio.open(fetcher.downloads / relpath) as src:
        sb = src.bounds
        if bounds[0] >= sb.right or bounds[2] <= sb.left or bounds[1] >= sb.top or bounds[3] <= sb.bottom:
            raise DataError(
                f"{name} ({_fmt((sb.left, sb.bottom, sb.right, sb.top))}) does not overlap "
                f"{_fmt(bounds)}: the area is outside Indonesia."
            )
        window = from_bounds(*bounds, transform=src.transform).round_offsets().round_lengths()
        data = src.read(1, window=window, boundless=True, fill_value=src.nodata)
        profile = {
            "driver": "GTiff", "width": data.shape[1], "height": data.shape[0], "count": 1,
            "dtype": "float32", "crs": src.crs, "transform": src.window_transform(window),
            "nodata": src.nodata, "compress": "deflate", "predictor": 3, "tiled": True,
            "blockxsize": 256, "blockysize": 256,
        }
    with atomic_path(out_dir / PRODUCT_FILES["population"]) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data.astype(np.float32), 1)
            dst.update_tags(DESCRIPTION=f"WorldPop 2020 constrained population (people per "
                            f"cell) over {area.title or area.name}",
                            ATTRIBUTION=provider.attribution)
    return out_dir / PRODUCT_FILES["population"], [relpath]


def _fetch_osm(fetcher: _Fetcher, area: Area, out_dir: Path,
               refresh: bool) -> tuple[Path, list[str]]:
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from blankspot.io.outputs import write_geopackage

    provider = PROVIDERS["osm"]
    url = provider.url(fetcher.settings.base_urls)
    bounds = area.with_margin(provider.margin_km)
    query = overpass_query(bounds, fetcher.settings.overpass_timeout_s)
    key = hashlib.sha256(overpass_query(bounds).encode()).hexdigest()[:12]
    relpath = f"overpass/overpass_{area.name}_{key}.json"
    fetcher.get("osm", url, relpath, method="POST", data={"data": query}, refresh=refresh,
                local_names=["overpass.json", Path(relpath).name],
                read_timeout_s=fetcher.settings.timeout_s + fetcher.settings.overpass_timeout_s)
    try:
        answer = json.loads((fetcher.downloads / relpath).read_text(encoding="utf-8"))
        if not isinstance(answer, dict) or "elements" not in answer:
            raise ValueError("no 'elements' in the answer")
    except (ValueError, UnicodeDecodeError) as exc:
        fetcher.forget(relpath)
        raise DataError(f"the Overpass answer from {url} is not Overpass JSON ({exc}); it was "
                        "removed: run the fetch again.") from exc
    if "error" in str(answer.get("remark", "")).lower():  # e.g. a timeout: elements incomplete
        fetcher.forget(relpath)
        raise DataError(f"the Overpass API at {url} answered with an error: {answer['remark']}. "
                        "Try again later or set BLANKSPOT_OVERPASS_URL to another instance.")
    layers = overpass_layers(answer)
    frames = {}
    for layer, records in layers.items():
        if not records:
            log.info("OSM: no %s in %s", layer, _fmt(bounds))
            continue
        geoms = [Point(r["coords"]) if layer == "places" else LineString(r["coords"])
                 for r in records]
        attrs = [{k: v for k, v in r.items() if k != "coords"} for r in records]
        frames[layer] = gpd.GeoDataFrame(attrs, geometry=geoms, crs="EPSG:4326")
    if not frames:
        raise DataError(f"OpenStreetMap has no roads, power lines or settlements in "
                        f"{_fmt(bounds)} (area {area.name}): is it sea? Check the bounds.")
    out = write_geopackage(frames, out_dir / PRODUCT_FILES["osm"])
    return out, [relpath]


def _read_cells(path: Path, bounds: Bounds, mcc: int | None) -> Any:
    """OpenCelliD cells (gzipped or plain CSV, with or without header) inside ``bounds``."""
    import pandas as pd

    opener: Callable[..., Any] = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as f:
            first = f.readline()
        header = "lon" in first.lower().split(",") or "lat" in first.lower().split(",")
        cells = pd.read_csv(path, header=0 if header else None,
                            names=None if header else list(OPENCELLID_COLUMNS),
                            compression="gzip" if _is_gzip(path) else None, low_memory=False)
    except (OSError, ValueError, pd.errors.ParserError, EOFError) as exc:
        raise DataError(f"{path.name} is not an OpenCelliD CSV ({exc}).") from exc
    cells.columns = [str(c).strip() for c in cells.columns]
    missing = [c for c in ("radio", "mcc", "net", "area", "cell", "lon", "lat") if c not in cells]
    if missing:
        raise DataError(
            f"{path.name} is not an OpenCelliD cell export: columns {', '.join(missing)} are "
            f"missing (received {', '.join(map(str, cells.columns[:14]))}). Expected "
            f"{','.join(OPENCELLID_COLUMNS)}."
        )
    lon = pd.to_numeric(cells["lon"], errors="coerce")
    lat = pd.to_numeric(cells["lat"], errors="coerce")
    inside = lon.between(bounds[0], bounds[2]) & lat.between(bounds[1], bounds[3])
    if mcc is not None:
        inside &= pd.to_numeric(cells["mcc"], errors="coerce") == mcc
    return cells[inside]


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _fetch_towers(fetcher: _Fetcher, area: Area, out_dir: Path, refresh: bool,
                  token: str | None, from_file: Path | None) -> tuple[Path, list[str]]:
    import pandas as pd

    from blankspot.io.outputs import write_csv

    provider = PROVIDERS["towers"]
    bounds = area.with_margin(provider.margin_km)
    relpaths: list[str] = []
    if from_file is not None:
        if not from_file.is_file():
            raise DataError(f"towers: --from-file {from_file.as_posix()} does not exist. Give the "
                            "path of an OpenCelliD CSV (e.g. 510.csv.gz from opencellid.org).")
        from blankspot.io.outputs import atomic_path

        relpath = f"opencellid/{from_file.name}"
        kept = fetcher.downloads / relpath
        if not (kept.is_file() and sha256_file(kept) == sha256_file(from_file)):
            with atomic_path(kept) as tmp:
                shutil.copyfile(from_file, tmp)
        fetcher._record("towers", f"file:{from_file.name}", relpath, kept, provider.licence,
                        handed_over=from_file.name)
        source_path, relpaths = kept, [relpath]
    else:
        base = provider.url(fetcher.settings.base_urls)
        url = f"{base}/{opencellid_query(INDONESIA_MCC)}"
        if fetcher.from_dir is None:
            token = token or os.environ.get(OPENCELLID_KEY_ENV)
            if not token:
                raise DataError(
                    f"towers: OpenCelliD needs an API token; none received. Register for a free "
                    f"token at opencellid.org and set {OPENCELLID_KEY_ENV}=..., or pass an export "
                    "you already have with --from-file FILE (e.g. 510.csv.gz)."
                )
            url += f"&token={token}"
        relpath = f"opencellid/{opencellid_file(INDONESIA_MCC)}"
        fetcher.get("towers", url, relpath, refresh=refresh,
                    local_names=[opencellid_file(INDONESIA_MCC), f"{INDONESIA_MCC}.csv"])
        source_path, relpaths = fetcher.downloads / relpath, [relpath]
        if not _is_gzip(source_path):
            text = source_path.read_text(encoding="utf-8", errors="replace")[:200].strip()
            first_line = text.splitlines()[0] if text else ""
            if "," not in first_line:
                fetcher.forget(relpath)
                raise DataError(
                    f"OpenCelliD answered {_redact(url)} with {text!r} instead of a cell export; "
                    f"it was removed. Check the token in ${OPENCELLID_KEY_ENV} (exports are "
                    "limited per token and day), or use --from-file FILE."
                )
    try:
        cells = _read_cells(source_path, bounds, INDONESIA_MCC)
    except DataError:
        if from_file is None:
            fetcher.forget(relpaths[0])
        raise
    table = pd.DataFrame({
        "site_id": [f"{r}-{n}-{a}-{c}" for r, n, a, c in
                    zip(cells["radio"], cells["net"], cells["area"], cells["cell"], strict=True)],
        "lon": pd.to_numeric(cells["lon"]), "lat": pd.to_numeric(cells["lat"]),
        "radio": cells["radio"], "mcc": cells["mcc"], "net": cells["net"],
        "area": cells["area"], "cell": cells["cell"],
        "range_m": cells["range"] if "range" in cells else None,
        "samples": cells["samples"] if "samples" in cells else None,
        "updated": pd.to_datetime(pd.to_numeric(cells["updated"], errors="coerce"), unit="s")
        .dt.strftime("%Y-%m-%d") if "updated" in cells else None,
    })
    out = write_csv(table, out_dir / PRODUCT_FILES["towers"], index=False)
    log.info("OpenCelliD: %d cells of MCC %d in %s", len(table), INDONESIA_MCC, _fmt(bounds))
    return out, relpaths


def _fmt(bounds: Sequence[float]) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in bounds) + ")"


# --- the entry point ----------------------------------------------------------------------------------
def fetch_area(
    sources: Iterable[str],
    area: str | None = None,
    *,
    bounds: Sequence[float] | None = None,
    name: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    from_dir: str | os.PathLike[str] | None = None,
    from_file: str | os.PathLike[str] | None = None,
    token: str | None = None,
    refresh: bool = False,
    settings: FetchSettings | None = None,
    base_urls: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Download, verify, mosaic and clip each of ``sources`` for an area into the data directory.

    Parameters
    ----------
    sources
        Any of ``dem`` (Copernicus GLO-30), ``landcover`` (ESA WorldCover 2021),
        ``population`` (WorldPop 2020 constrained), ``osm`` (roads, power lines, settlements
        from the Overpass API), ``towers`` (OpenCelliD cells, MCC 510); ``all`` for every one.
    area, bounds, name
        See :func:`resolve_area`: a kode wilayah of the embedded boundaries, or lon/lat bounds
        (and a folder name).
    data_dir
        Default :func:`blankspot.options.data_dir`. Products go to ``<data_dir>/<area>/``.
    from_dir
        Take the providers' files from this folder instead of downloading (no network): tiles
        and files under the names the providers give them (``Copernicus_DSM_COG_10_..._DEM.tif``,
        ``ESA_WorldCover_10m_2021_v200_..._Map.tif``, ``idn_ppp_2020_constrained.tif``,
        ``overpass.json``, ``510.csv.gz``).
    from_file
        An OpenCelliD CSV (plain or gzipped) the user already has, for ``towers``.
    token
        OpenCelliD API token (default ``$OPENCELLID_API_KEY``); never written anywhere.
    refresh
        Download again even when a verified copy is present (accepts a changed provider file).
    settings
        Timeouts, retries, progress bars; base URLs also via ``base_urls``.

    Returns
    -------
    dict
        ``{source: product path}``.

    Raises
    ------
    DataError
        A download failed (the message names the URL and how to hand the files over with
        ``--from-dir``), a file is corrupted, or the area has no data (sea).
    SchemaError, UnitsError
        An unknown source or area code, bad bounds.
    """
    settings = settings or FetchSettings()
    if base_urls:
        settings.base_urls = {**settings.base_urls, **base_urls}
    wanted = list(dict.fromkeys(sources))
    if "all" in wanted:
        wanted = list(SOURCES)
    unknown = [s for s in wanted if s not in SOURCES]
    if unknown or not wanted:
        raise SchemaError(
            f"unknown data source(s) {', '.join(map(repr, unknown)) or '(none given)'}; choose "
            f"from {', '.join(SOURCES)} or all."
        )
    the_area = resolve_area(area, bounds, name=name)
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    out_dir = root / the_area.name
    fetcher = _Fetcher(root, settings, Path(from_dir) if from_dir is not None else None)
    if fetcher.from_dir is not None and not fetcher.from_dir.is_dir():
        raise DataError(f"--from-dir {fetcher.from_dir.as_posix()} is not a folder.")
    results: dict[str, Path] = {}
    for source in wanted:
        log.info("%s: %s for %s", source, PROVIDERS[source].title, the_area.title or the_area.name)
        if source == "dem":
            out, used = _fetch_dem(fetcher, the_area, out_dir, refresh)
        elif source == "landcover":
            out, used = _fetch_landcover(fetcher, the_area, out_dir, refresh)
        elif source == "population":
            out, used = _fetch_population(fetcher, the_area, out_dir, refresh)
        elif source == "osm":
            out, used = _fetch_osm(fetcher, the_area, out_dir, refresh)
        else:
            out, used = _fetch_towers(fetcher, the_area, out_dir, refresh, token,
                                      Path(from_file) if from_file is not None else None)
        _register_product(root, the_area, source, out, used, fetcher)
        results[source] = out
    return results


def _register_product(root: Path, area: Area, source: str, out: Path, used: Sequence[str],
                      fetcher: _Fetcher) -> None:
    path = root / area.name / SOURCES_FILE
    registry = _read_json(path, {})
    provider = PROVIDERS[source]
    files = [e for e in registry.get("files", []) if e.get("source") != source]
    downloads = [fetcher.registry[r] for r in used if r in fetcher.registry]
    files += downloads
    files.append({
        "source": source, "kind": "product", "file": f"{area.name}/{out.name}", "url": None,
        "bytes": out.stat().st_size, "sha256": sha256_file(out), "date": _now(),
        "licence": provider.licence, "attribution": provider.attribution,
        "title": provider.title, "bounds": list(area.with_margin(provider.margin_km)),
        "derived_from": [d["file"] for d in downloads],
    })
    registry.update({"area": area.name, "title": area.title, "bounds": list(area.bounds),
                     "files": files})
    _write_json(path, registry)
