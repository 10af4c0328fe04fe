"""The low level of the footprint cache: content keys and atomic ``.npz`` entries.

Building coverage is the costly step of a plan, so every footprint computed (in this process or
on a dask worker) is stored by :class:`blankspot.footprints.FootprintStore` under a key derived
from its inputs: the terrain's content (its arrays, or the SHA-256 of the DEM files), the
analysis grid, the site's position, height and antenna, the propagation model and every one of
its parameters, and the blankspot version. This module computes such keys (:func:`input_key`,
:func:`file_fingerprint`) and reads and writes the entries. A rerun with the same inputs reads
the stored footprints and computes nothing; an interrupted run resumes where it stopped, because
each footprint is stored as soon as it is computed.

Layout and writes
-----------------
``<cache_dir>/footprints/<key[:2]>/<key>.npz``: one plain ``.npz`` (no pickles) per footprint.
Each file is written under a temporary name in the same folder and then renamed, so a reader
sees a whole file or none, and a process killed mid-write leaves at most a ``*.tmp`` file, which
is never read and which :func:`clear_cache` removes. Several processes may fill one cache at
once: two writers of one key write the same content, and the last rename wins.

Location
--------
``cache_dir=`` where a function takes it; else ``$BLANKSPOT_CACHE_DIR``; else
``$XDG_CACHE_HOME/blankspot`` or ``~/.cache/blankspot`` (:func:`default_cache_dir`). With a
dask cluster the cache is read and written by the workers, so it must be a folder every worker
can reach under the same path (local disk for a ``LocalCluster``, a shared filesystem for a
cluster of machines).

Eviction
--------
None: entries are never removed automatically, and a key changes whenever an input changes, so
a stale entry is never read, only left behind. Remove everything with :func:`clear_cache` (or
delete the folder). As a guide, a 30 km line-of-sight footprint on a 30 m grid takes 1-4 MB.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import secrets
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from blankspot.errors import DataError, InputError
from blankspot.io.datasets import cached_sha256
from blankspot.io.outputs import remove_stale_temporaries

__all__ = [
    "CACHE_DIR_ENV",
    "check_cache_dir",
    "clear_cache",
    "default_cache_dir",
    "entry_path",
    "file_fingerprint",
    "input_key",
    "read_entry",
    "resolve_cache_dir",
    "write_entry",
]

CACHE_DIR_ENV = "BLANKSPOT_CACHE_DIR"
"""Environment variable naming the cache folder."""

_FOOTPRINTS = "footprints"
_SKIP_SUFFIXES = (".aux.xml", ".ovr")
"""Side files GDAL lists with a raster that do not change full-resolution values."""


def default_cache_dir() -> Path:
    """The cache folder used when none is given.

    ``$BLANKSPOT_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/blankspot``, else
    ``~/.cache/blankspot``.
    """
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "blankspot"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | bool | None) -> Path | None:
    """The cache folder a ``cache_dir=`` argument asks for.

    ``None`` or ``False``: no cache. ``True``: :func:`default_cache_dir`. A path: that folder
    (``~`` expanded; created when first written).
    """
    if cache_dir is None or cache_dir is False:
        return None
    if cache_dir is True:
        return default_cache_dir()
    if isinstance(cache_dir, (str, os.PathLike)):
        return Path(cache_dir).expanduser()
    raise InputError(
        f"cache_dir must be None (no cache), True (the default folder, ${CACHE_DIR_ENV} or "
        f"~/.cache/blankspot) or a folder path; received {cache_dir!r}."
    )


def _is_local(path: str) -> bool:
    return not path.startswith("/vsi") and "://" not in path


def file_fingerprint(
    paths: Sequence[str | os.PathLike[str]], *, checksum: bool = False
) -> list[list[Any]]:
    """Identify raster files, and the files they read (a VRT's sources), for a cache key.

    Parameters
    ----------
    paths
        Raster paths as GDAL opens them.
    checksum
        ``True``: each file by the SHA-256 of its content (reads every byte, about 1 s per
        GB). ``False``: by absolute path, size in bytes and modification time in ns, which
        changes when a file is rewritten.

    Returns
    -------
    list
        One ``[path, size, mtime_ns]`` or ``[path, sha256]`` entry per file, sorted. Remote
        (``/vsicurl/``, ``s3://``) paths enter by name only and are assumed immutable.
    """
    import rasterio

    files: set[str] = set()
    for p in paths:
        p = os.fspath(p)
        if not _is_local(p):
            files.add(p)
            continue
        try:
            with rasterio.open(p) as src:
                listed = list(src.files) or [p]
        except rasterio.errors.RasterioIOError:
            listed = [p]  # missing or unreadable: the read itself will report it
        files.update(
            os.path.abspath(f) if _is_local(f) else f
            for f in listed
            if not f.lower().endswith(_SKIP_SUFFIXES)
        )
    out: list[list[Any]] = []
    for f in sorted(files):
        if not _is_local(f) or not os.path.exists(f):
            out.append([f, None, None])
        elif checksum:
            out.append([f, cached_sha256(f)])
        else:
            st = os.stat(f)
            out.append([f, st.st_size, st.st_mtime_ns])
    return out


def _canonical(value: Any, where: str) -> Any:
    """``value`` as plain JSON data, or a TypeError naming ``where``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if not math.isfinite(v):
            return repr(v)
        return v  # json writes repr(float), which round-trips exactly
    if isinstance(value, np.ndarray):
        return {
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest(),
        }
    if isinstance(value, Mapping):
        return {str(k): _canonical(v, f"{where}[{k!r}]") for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return {"__class__": type(value).__qualname__, **_canonical(fields, where)}
    if hasattr(value, "to_wkt"):  # a CRS
        return value.to_wkt()
    raise TypeError(
        f"{where} = {value!r} ({type(value).__name__}) cannot enter a cache key: only numbers, "
        "strings, booleans, None, arrays, lists, dicts and dataclasses of those can. Pass plain "
        "values, or run without cache_dir."
    )


def input_key(parts: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``parts`` written as canonical JSON (sorted keys, exact floats).

    >>> input_key({"a": 1, "b": [0.1, "x"]}) == input_key({"b": (0.1, "x"), "a": 1})
    True
    """
    text = json.dumps(_canonical(dict(parts), "key"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def entry_path(cache_dir: str | os.PathLike[str], key: str) -> Path:
    """Where the footprint stored under ``key`` lives."""
    return Path(cache_dir) / _FOOTPRINTS / key[:2] / f"{key}.npz"


def write_entry(cache_dir: str | os.PathLike[str], key: str, arrays: Mapping[str, Any]) -> Path:
    """Store ``arrays`` (numpy arrays or scalars; strings allowed) under ``key``, atomically.

    The file is written under a temporary name in the final folder (``.KEY.tmp-PID-HEX``) and
    renamed into place; temporaries that processes killed outright left in that folder are
    removed (:func:`blankspot.io.outputs.remove_stale_temporaries`).
    """
    path = entry_path(cache_dir, key)
    tmp = os.fspath(path.with_name(f".{key[:16]}.tmp-{os.getpid()}-{secrets.token_hex(4)}"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise _not_writable(cache_dir, exc) from None
    remove_stale_temporaries(path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]  # numpy stubs type **kwds as allow_pickle
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _not_writable(cache_dir, exc) from None
        raise
    return path


def _not_writable(cache_dir: str | os.PathLike[str], exc: OSError) -> DataError:
    return DataError(
        f"the footprint cache {os.fspath(cache_dir)} cannot be written ({exc.strerror or exc}); "
        "give a writable --cache-dir (or cache_dir=), free disk space, or run without a cache."
    )


def check_cache_dir(cache_dir: str | os.PathLike[str]) -> Path:
    """Check, before any computing, that footprints can be stored in ``cache_dir``; return its
    ``footprints`` folder. A folder that cannot be created or written is a :class:`DataError`
    saying how to fix it."""
    folder = Path(cache_dir) / _FOOTPRINTS
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _not_writable(cache_dir, exc) from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _not_writable(cache_dir, PermissionError(13, "Permission denied"))
    return folder


def read_entry(cache_dir: str | os.PathLike[str], key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key``, or None when there is no readable entry.

    A damaged file counts as missing (it is overwritten by the next write).
    """
    path = entry_path(cache_dir, key)
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        return None


def clear_cache(cache_dir: str | os.PathLike[str] | None = None) -> int:
    """Delete every cached footprint (and leftover temporary file); return how many files.

    Parameters
    ----------
    cache_dir
        The cache folder; default :func:`default_cache_dir`. Only its ``footprints/``
        subfolder is removed.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = root / _FOOTPRINTS
    if not folder.is_dir():
        return 0
    n = sum(1 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return n
