"""The Paser sample-data registry: which files make up the dataset, their checksums, and fetching.

The small part of the Kabupaten Paser dataset that the demo needs is embedded: the boundaries
and tables, the two 5 arc-minute DEMs and a 3 arc-second SYNTHETIC demo DEM ship with blankspot
(the repository's ``data/`` folder, packaged as ``blankspot._demo_data``; see
:func:`embedded_data_dir`). The full dataset lives in a folder laid out like ``shared/data/paser``
(vector files and tables at the top, the 1 arc-second demo DEM under ``terrain/``);
:func:`fetch_paser` copies it into the data directory (``$BLANKSPOT_DATA_DIR`` or ``./data``),
verifying every SHA-256, and :func:`paser_path` finds a file there, falling back to the embedded
copy when the data directory lacks it.

The data directory is split by kind::

    <data_dir>/boundaries/   vector files and tables (desa, kecamatan, kabupaten, population, places)
    <data_dir>/terrain/      rasters (the two 5 arc-minute DEMs and the 1 arc-second demo DEM)

The registry is packaged knowledge: the canonical copy is :data:`REGISTRY_TEXT` in this module,
so it is available however blankspot is installed. The files ``data/boundaries/registry.txt`` and
``data/terrain/registry.txt`` in the repository hold the same lines for people browsing the tree
(``tests/test_io_datasets.py`` checks that they agree). Each line reads::

    file_name  sha256  source_path  licence

``source_path`` is relative to the dataset folder (the ``--from`` folder of
``blankspot data fetch``) and ``licence`` is one token without spaces (``;`` separates the
licence of a repository from the terms of the data it carries).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from blankspot.errors import (
    DataError,
    format_problems,
)
from blankspot.options import DATA_DIR_ENV
from blankspot.options import data_dir as _default_data_dir

log = logging.getLogger(__name__)

DESA_FILE = "paser_desa.geojson"
"""144 desa/kelurahan polygons with codes, names, 2010 population and blank-spot flags."""
DESA_CSV_FILE = "paser_desa.csv"
"""The attributes of :data:`DESA_FILE` without geometry."""
KECAMATAN_FILE = "paser_kecamatan.geojson"
"""10 kecamatan polygons with desa counts, area and population (2010 census, 2020 Dukcapil)."""
KECAMATAN_CSV_FILE = "paser_kecamatan.csv"
"""The attributes of :data:`KECAMATAN_FILE` without geometry."""
KABUPATEN_FILE = "paser_kabupaten.geojson"
"""The kabupaten outline with population and official area."""
POPULATION_SP2010_FILE = "paser_penduduk_desa_sp2010.csv"
"""BPS Sensus Penduduk 2010 population of the 125 villages of 2010, mapped to 2025 codes."""
PLACES_FILE = "paser_places_geonames.csv"
"""25 GeoNames populated places in and around Paser."""
SOURCES_FILE = "SOURCES.md"
"""Where every file came from, how it was processed, and its known gaps."""
DEM_MAPZEN_FILE = "paser_dem_mapzen_pvlib.tif"
"""Real 5 arc-minute (~9.2 km) relief, Mapzen-derived; far too coarse for line of sight."""
DEM_ETOPO5_FILE = "paser_dem_etopo5.tif"
"""Real 5 arc-minute ETOPO5 relief and bathymetry, kept for cross-checking."""
DEMO_DEM_FILE = "paser_dem_demo_1s_synthetic.tif"
"""SYNTHETIC 1 arc-second demo DEM: real coarse relief plus invented detail below 10 km.

Optional (``blankspot data fetch --from DIR``); :func:`paser_path` gives the embedded
:data:`DEMO_DEM_3S_FILE` for this name when it has not been fetched."""
DEMO_DEM_3S_FILE = "paser_dem_demo_3s_synthetic.tif"
"""SYNTHETIC 3 arc-second demo DEM, the mean of 3x3 blocks of :data:`DEMO_DEM_FILE`; embedded."""

BOUNDARIES_DIR = "boundaries"
TERRAIN_DIR = "terrain"

FETCH_HINT = (
    "Get it with: blankspot data fetch --from PATH/TO/paser (a folder laid out like "
    f"shared/data/paser, e.g. ../shared/data/paser), or set {DATA_DIR_ENV} to a folder that "
    "holds it."
)

EMBEDDED_PACKAGE = "blankspot._demo_data"
"""The package whose folder holds the embedded demo data (``boundaries/``, ``terrain/``)."""

_HEADER = (
    "# blankspot {kind} registry. Columns (whitespace separated): file_name sha256 "
    "source_path licence\n"
    "# source_path is relative to the dataset folder given to `blankspot data fetch --from`;\n"
    "# licence is one token (';' joins the repository licence and the terms of the data).\n"
    "# Canonical copy: REGISTRY_TEXT in src/blankspot/io/datasets.py (a test checks they agree).\n"
)

REGISTRY_TEXT: dict[str, str] = {
    BOUNDARIES_DIR: _HEADER.format(kind="Paser boundaries and tables")
    + """\
paser_desa.geojson	e268e852e28e3f90c6ed078b7022974e10e198d1ab643a2b6ad914897eeb5ad9	paser_desa.geojson	MIT;Apache-2.0;data:BPS
paser_desa.csv	3f2968066f76f92369315aefe204905a87b6c8ab765fd5371f2180e5059e5a84	paser_desa.csv	MIT;Apache-2.0;data:BPS
paser_kecamatan.geojson	1572b1d9c7a21299a2fe6d6bdc1abc0ab4a8ff48e54089d34beeeef7b6b2c2a1	paser_kecamatan.geojson	MIT;Apache-2.0;data:BPS,Dukcapil
paser_kecamatan.csv	bd7c59f6577793e9bd45396d4eee062e880500d8e218ef00017f54cf4d4d3b1f	paser_kecamatan.csv	MIT;Apache-2.0;data:BPS,Dukcapil
paser_kabupaten.geojson	983fc259288087f76063b4e7cebd524d9da5a2ac1186ed1bfb21e428a2b29cbc	paser_kabupaten.geojson	MIT;Apache-2.0;data:BPS,Dukcapil,BIG
paser_penduduk_desa_sp2010.csv	0edd7b53605b41890b11dc48b759bd058c041be096f6582250a10ee62801bcaf	paser_penduduk_desa_sp2010.csv	Apache-2.0;data:BPS
paser_places_geonames.csv	b87063b6ac239fa88cacda6dde23d62a1ed8cb635050cb85bbeeceb470023450	paser_places_geonames.csv	CC-BY-4.0;data:GeoNames
SOURCES.md	58f18a04f5d76dbe7a4bd5d2f069d6562b1f138df429238fc77594079e936c7b	SOURCES.md	dataset-notes
""",
    TERRAIN_DIR: _HEADER.format(kind="Paser terrain")
    + """\
paser_dem_mapzen_pvlib.tif	0196e672a6bf9959d6d7a992493f1fdcf7015cbdd70d1c4457ecf4cafe4d5bbb	paser_dem_mapzen_pvlib.tif	BSD-3-Clause;data:Mapzen
paser_dem_etopo5.tif	ff49acd3a4cb5aece7297edbfceac7b2bd8b2afa666e2c5b57d9dbb5a3246c16	paser_dem_etopo5.tif	public-domain;data:NOAA
paser_dem_demo_1s_synthetic.tif	581dcb099481c88afe7d6a4efb76fe56fb7490286db128d1f368affcb85a95e3	terrain/paser_dem_demo_1s_synthetic.tif	synthetic;BSD-3-Clause;data:Mapzen
paser_dem_demo_3s_synthetic.tif	f4d25852990290e8c268f85fbc7d80c40b79a3c6bd69897f2366c80711faeb9c	terrain/paser_dem_demo_3s_synthetic.tif	synthetic;BSD-3-Clause;data:Mapzen
""",
}
"""The text of ``data/<kind>/registry.txt`` for each kind (``boundaries``, ``terrain``)."""


@dataclass(frozen=True)
class RegistryEntry:
    """One registered file of the Paser dataset."""

    name: str
    """File name, unique across the dataset."""
    sha256: str
    """Expected SHA-256 of the file, lower-case hex."""
    source: str
    """Path relative to the dataset folder (the ``--from`` folder)."""
    licence: str
    """Licence token, e.g. ``MIT`` or ``BSD-3-Clause;data:Mapzen``."""
    kind: str
    """Sub-folder of the data directory: ``boundaries`` or ``terrain``."""

    @property
    def relpath(self) -> str:
        """Path relative to the data directory, e.g. ``boundaries/paser_desa.geojson``."""
        return f"{self.kind}/{self.name}"


def parse_registry(text: str, kind: str) -> dict[str, RegistryEntry]:
    """Parse registry lines (``file_name sha256 source_path licence``) into entries by name.

    Blank lines and lines starting with ``#`` are ignored.

    Raises
    ------
    DataError
        If a line does not have four fields or a checksum is not 64 hex digits.
    """
    entries: dict[str, RegistryEntry] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 4:
            problems.append(f"line {number} has {len(fields)} fields, expected 4: {line!r}")
            continue
        name, sha, source, licence = fields
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            problems.append(f"line {number}: {sha!r} is not a lower-case hex SHA-256")
        if name in entries:
            problems.append(f"line {number}: {name!r} is registered twice")
        entries[name] = RegistryEntry(name, sha, source, licence, kind)
    if problems:
        raise DataError(format_problems(f"{kind} registry", problems))
    return entries


REGISTRY: dict[str, RegistryEntry] = {
    name: entry
    for kind, text in REGISTRY_TEXT.items()
    for name, entry in parse_registry(text, kind).items()
}
"""Every registered file of the Paser dataset, by file name."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file, as lower-case hex.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_hashing(src: Path, dst: Path) -> str:
    """Copy ``src`` to ``dst`` (created new) and return the SHA-256 of the bytes written."""
    digest = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        for chunk in iter(lambda: fin.read(1 << 20), b""):
            digest.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return digest.hexdigest()


ProgressCallback = Callable[[str, str], None]


def _progress_reporter(progress: bool | ProgressCallback | None, total: int
                       ) -> tuple[ProgressCallback, Callable[[], None]]:
    """A ``(name, status)`` callback and a closer, from ``progress`` (None, bool or callable)."""
    if callable(progress):
        return progress, lambda: None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="file", desc="paser data")

        def report(name: str, status: str) -> None:
            bar.set_postfix_str(f"{status} {name}")
            bar.update(1)

        return report, bar.close
    return (lambda name, status: None), lambda: None


def fetch_paser(
    src_dir: str | os.PathLike[str],
    data_dir: str | os.PathLike[str] | None = None,
    *,
    progress: bool | ProgressCallback | None = None,
) -> list[Path]:
    """Copy the registered Paser files from ``src_dir`` into ``data_dir``, verifying each SHA-256.

    The copy is all-or-nothing: every file that needs copying is first written to a temporary
    name (``.<name>.tmp-XXXXXXXX``) next to its destination and its checksum checked. Only when
    every source exists and verifies are the temporary files renamed into place with
    :func:`os.replace`; on any problem they are all removed and the data directory is left
    exactly as it was. Files already present with the right checksum are skipped; a present file
    with a wrong checksum is replaced.

    Parameters
    ----------
    src_dir
        A folder laid out like ``shared/data/paser``: vector files and tables at the top, the
        demo DEM in ``terrain/``.
    data_dir
        Destination; default :func:`blankspot.options.data_dir` (``$BLANKSPOT_DATA_DIR`` or
        ``./data``). Files go to ``<data_dir>/boundaries/`` and ``<data_dir>/terrain/``.
    progress
        ``True`` for a tqdm bar, or a callable ``progress(file_name, status)`` called once per
        file with status ``"copied"`` or ``"skipped"`` (already present and verified). A file
        that ``src_dir`` lacks but blankspot embeds (the 3 arc-second demo DEM) is copied from
        the embedded copy.

    Returns
    -------
    list of Path
        The destination path of every registered file, in registry order.

    Raises
    ------
    DataError
        Listing every missing source file, checksum mismatch and copy failure at once.
    """
    src = Path(src_dir)
    dest_root = Path(data_dir) if data_dir is not None else _default_data_dir()
    if not src.is_dir():
        raise DataError(
            f"Paser source folder {str(src)!r} does not exist or is not a folder. Pass a folder "
            "laid out like shared/data/paser (e.g. --from ../shared/data/paser)."
        )
    problems: list[str] = []
    staged: list[tuple[Path, Path]] = []  # (temporary, final)
    skipped: list[str] = []
    destinations: list[Path] = []
    report, close = _progress_reporter(progress, len(REGISTRY))
    try:
        for entry in REGISTRY.values():
            final = dest_root / entry.kind / entry.name
            destinations.append(final)
            if final.is_file() and sha256_file(final) == entry.sha256:
                skipped.append(entry.name)
                report(entry.name, "skipped")
                continue
            source = src / entry.source
            if not source.is_file():
                source = embedded_path(entry.name) or source
            if not source.is_file():
                problems.append(f"{entry.source} is missing from {src}")
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp = final.parent / f".{final.name}.tmp-{secrets.token_hex(4)}"
            try:
                got = _copy_hashing(source, tmp)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                problems.append(f"could not copy {source} to {final.parent}: {exc}")
                continue
            staged.append((tmp, final))
            if got != entry.sha256:
                problems.append(
                    f"{entry.source} has SHA-256 {got}, expected {entry.sha256}: the source "
                    "file is corrupted or a different version; get a fresh copy of the dataset"
                )
                continue
            report(entry.name, "copied")
        if problems:
            raise DataError(
                format_problems(f"fetching the Paser dataset from {src}", problems)
                + "\nNothing was copied; fix the source folder and run the fetch again."
            )
        for tmp, final in staged:
            os.replace(tmp, final)
        staged.clear()
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        close()
    for name in skipped:
        log.info("%s already present and verified; skipped", name)
    log.info(
        "Paser dataset in %s: %d copied, %d already present",
        dest_root,
        len(destinations) - len(skipped),
        len(skipped),
    )
    return destinations


def embedded_data_dir() -> Path | None:
    """The folder of the embedded demo data (``boundaries/``, ``terrain/``), or None.

    Installed from a wheel, this is the folder of the package :data:`EMBEDDED_PACKAGE`, found with
    :mod:`importlib.resources`. Run from a source checkout without installing
    (``PYTHONPATH=src``), that package is a stub without data and the checkout's own ``data/``
    folder (next to ``src/``) is used. None when neither holds the embedded files.
    """
    import importlib.resources

    marker = Path(TERRAIN_DIR) / DEMO_DEM_3S_FILE
    try:
        # in a wheel the package has no __init__.py (it is data/), so files() may give a
        # MultiplexedPath: step down with joinpath, which gives a real path on disk
        terrain = importlib.resources.files(EMBEDDED_PACKAGE).joinpath(TERRAIN_DIR)
        found = Path(str(terrain.joinpath(DEMO_DEM_3S_FILE)))
    except (ModuleNotFoundError, TypeError, ValueError):  # pragma: no cover - no package data
        found = None
    if found is not None and found.is_file():
        return found.parents[1]
    checkout = Path(__file__).resolve().parents[3] / "data"
    if (checkout / marker).is_file() and (checkout.parent / "src" / "blankspot").is_dir():
        return checkout
    return None


def embedded_path(name: str) -> Path | None:
    """The embedded copy of a registered file, or None when it is not embedded.

    Every registered file ships but the 1 arc-second demo DEM (18 MB); in a checkout, the
    ``data/`` folder is also the default data directory, so a 1 arc-second DEM fetched there is
    data, never an embedded copy.
    """
    entry = _entry(name)
    root = embedded_data_dir()
    if root is None or entry.name == DEMO_DEM_FILE:
        return None
    path = root / entry.kind / entry.name
    return path if path.is_file() else None


_VERIFIED: dict[tuple[str, int, int], str] = {}
"""Checksums already computed in this process, keyed by (path, size, mtime_ns)."""


def cached_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file, computed once per process and file version (path, size, mtime)."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _VERIFIED:
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def _entry(name: str) -> RegistryEntry:
    base = Path(name).name
    if base not in REGISTRY:
        raise DataError(
            f"{name!r} is not a registered Paser file. Registered files: {', '.join(REGISTRY)}."
        )
    return REGISTRY[base]


def paser_path(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
    embedded: bool = True,
) -> Path:
    """The path of a registered Paser file: in the data directory, else its embedded copy.

    The data directory wins when it holds the file. Otherwise the copy embedded in blankspot
    (:func:`embedded_data_dir`) is used. :data:`DEMO_DEM_FILE` names the demo terrain: the
    1 arc-second DEM when it has been fetched into the data directory, else the embedded
    3 arc-second :data:`DEMO_DEM_3S_FILE` (a file with another name; both are SYNTHETIC).

    Parameters
    ----------
    name
        A registered file name, e.g. :data:`DESA_FILE` or :data:`DEMO_DEM_FILE`.
    data_dir
        Default :func:`blankspot.options.data_dir`.
    verify
        Check the SHA-256 (once per process and file version; the 18 MB demo DEM takes ~50 ms).
    embedded
        Fall back to the embedded copy (default). False: only the data directory counts.

    Raises
    ------
    DataError
        If the name is not registered, the file is missing from the data directory and not
        embedded (the message says how to fetch it), or its checksum does not match.
    """
    entry = _entry(name)
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    path = root / entry.kind / entry.name
    if not path.is_file() and embedded:
        fallback = embedded_path(entry.name)
        if fallback is None and entry.name == DEMO_DEM_FILE:
            fallback = embedded_path(DEMO_DEM_3S_FILE)
            if fallback is not None:
                log.info(
                    "%s is not in %s; using the embedded 3 arc-second SYNTHETIC demo DEM %s",
                    DEMO_DEM_FILE, (root / entry.kind).as_posix(), DEMO_DEM_3S_FILE,
                )
                entry = REGISTRY[DEMO_DEM_3S_FILE]
        if fallback is not None:
            path = fallback
    if not path.is_file():
        raise DataError(f"Paser dataset not found: {path.as_posix()} is missing. {FETCH_HINT}")
    if verify:
        got = cached_sha256(path)
        if got != entry.sha256:
            raise DataError(
                f"Paser file {path.as_posix()} has SHA-256 {got}, expected {entry.sha256}: it was "
                f"modified or is a different version. Delete it and fetch again. {FETCH_HINT}"
            )
    return path


def verify_paser(data_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The state of every registered file in the data directory.

    Returns
    -------
    dict
        ``{file_name: "ok" | "embedded" | "missing" | "mismatch"}`` in registry order;
        ``"embedded"`` means the data directory lacks the file and blankspot's embedded copy is
        used; ``"mismatch"`` means the file exists but its SHA-256 differs from the registry.
    """
    root = Path(data_dir) if data_dir is not None else _default_data_dir()
    status: dict[str, str] = {}
    for entry in REGISTRY.values():
        path = root / entry.kind / entry.name
        if not path.is_file():
            status[entry.name] = "embedded" if embedded_path(entry.name) else "missing"
        else:
            status[entry.name] = "ok" if cached_sha256(path) == entry.sha256 else "mismatch"
    return status
