"""Writers that never leave a half-written file: write to a temporary name, then rename.

Every writer goes through :func:`atomic_path`: the data is written to a hidden temporary file in
the destination folder and moved into place with :func:`os.replace`, which is atomic on POSIX and
Windows when both names are on the same file system. A crash or an exception leaves the previous
file (if any) untouched and no temporary file behind. Before the rename each writer checks what it
wrote (:func:`check_written`: not empty, and a raster, GeoPackage or workbook opens again), so a
full disk that GDAL reports only on close never replaces a good file with a broken one.

A folder of outputs is committed as a set with :func:`output_set`: every file is written into a
hidden staging folder beside the destination, which is then swapped in whole. Temporary names
carry the id of the process that made them, so :func:`remove_stale_temporaries` can remove those
of processes that no longer run (a run killed by SIGKILL) and never those of a live one.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from blankspot.errors import DataError, InputError, UnitsError

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd
    from affine import Affine
    from matplotlib.figure import Figure
    from rasterio.crs import CRS as RioCRS

ColumnFormat: TypeAlias = "str | list[str | None] | tuple[str | None, ...] | None"
"""A column's Excel number format in :func:`write_xlsx`: one for the column, or one per row."""

_TILE = 256
"""Block size of tiled GeoTIFFs; rasters with a side of at least 2 blocks are tiled."""


def _token() -> str:
    """A unique part of a temporary name: the process id, then random hex."""
    return f"{os.getpid()}-{secrets.token_hex(4)}"


_TEMP_NAME = re.compile(r"^\..+\.(?:tmp|staging|old)-(\d+)-[0-9a-f]{8}(?:\.[^.]*)?$")
"""Hidden temporary names made by this module: ``.NAME.tmp-PID-HEX.SUFFIX``, ``.NAME.staging-PID-HEX``."""


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files and folders in ``folder`` left by processes that no longer run.

    Only names this module makes (``.NAME.tmp-PID-HEX``, ``.NAME.staging-PID-HEX``,
    ``.NAME.old-PID-HEX``) are touched, and only when process PID is gone: a writer killed
    without a chance to clean up (SIGKILL, power loss) leaves them, and the next run removes
    them. Returns what was removed; a folder that cannot be listed is left alone.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".map.html.tmp-999999999-0123abcd.html").write_text("half")
    >>> [p.name for p in remove_stale_temporaries(d)]
    ['.map.html.tmp-999999999-0123abcd.html']
    """
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_NAME.match(entry.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def _write_failed(path: Path, why: str) -> DataError:
    return DataError(
        f"writing {os.fspath(path)} failed: {why}. The previous file, if any, is kept. Check that "
        "the disk has free space and the folder is writable, then run again."
    )


def check_written(tmp: str | os.PathLike[str], final: str | os.PathLike[str] | None = None, *,
                  expected_bytes: int | None = None) -> None:
    """Check a freshly written file before it is renamed into place; raise :class:`DataError`.

    The file must exist and not be empty (or hold exactly ``expected_bytes``); a GeoTIFF
    (``.tif``) must open and read, a GeoPackage (``.gpkg``) must list its layers, and a workbook
    (``.xlsx``) must be a sound zip archive. ``final`` is the name shown in the message.
    """
    tmp = Path(tmp)
    shown = Path(final) if final is not None else tmp
    try:
        size = tmp.stat().st_size
    except OSError as exc:
        raise _write_failed(shown, f"the written file is not there ({exc.strerror})") from exc
    if expected_bytes is not None and size != expected_bytes:
        raise _write_failed(shown, f"{size} bytes were written, {expected_bytes} expected")
    if expected_bytes is None and size == 0:
        raise _write_failed(shown, "0 bytes were written")
    suffix = shown.suffix.lower()
    try:
        if suffix in (".tif", ".tiff"):
            import rasterio

            with rasterio.open(tmp) as src:
                for band in range(1, src.count + 1):
                    src.read(band)
        elif suffix == ".gpkg":
            import pyogrio

            if len(pyogrio.list_layers(tmp)) == 0:
                raise ValueError("it holds no layer")
        elif suffix == ".xlsx":
            import zipfile

            with zipfile.ZipFile(tmp) as z:
                bad = z.testzip()
            if bad is not None:
                raise ValueError(f"its part {bad} is corrupt")
    except DataError:
        raise
    except Exception as exc:  # any failure to read back is a bad write
        raise _write_failed(shown, f"the written file does not read back ({exc})") from exc


@contextmanager
def atomic_path(
    final_path: str | os.PathLike[str],
    *,
    check: Callable[[Path], None] | None = None,
) -> Iterator[Path]:
    """Yield a temporary path next to ``final_path``; check it and rename it into place on success.

    The temporary name keeps the suffix (``map.html`` is written as
    ``.map.html.tmp-PID-XXXXXXXX.html``) so writers that choose a format from the suffix still
    work. The file is not created: the body of the ``with`` block must write it. Parent folders
    are created. Before the rename, ``check(tmp)`` runs (default :func:`check_written`: not empty,
    and rasters, GeoPackages and workbooks read back), so a write that failed silently (a full
    disk) never replaces the previous file.

    On an exception the temporary file is removed and the exception re-raised; the final path is
    not touched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "sub" / "note.txt"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> out.read_text()
    'hello'
    """
    final = Path(final_path)
    _make_parent(final)
    tmp = final.with_name(f".{final.name}.tmp-{_token()}{final.suffix}")
    try:
        yield tmp
        if check is None:
            check_written(tmp, final)
        else:
            check(tmp)
        os.replace(tmp, final)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if _is_write_error(exc):
            raise _write_failed(final, f"{type(exc).__name__}: {exc}") from exc
        raise


def _is_write_error(exc: BaseException) -> bool:
    """An error of the file system or of a writing library (GDAL through rasterio or pyogrio),
    not of blankspot or of the caller."""
    from blankspot.errors import BlankspotError

    if isinstance(exc, BlankspotError) or not isinstance(exc, Exception):
        return False
    return isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in (
        "rasterio", "pyogrio", "fiona", "openpyxl", "zipfile")


def _make_parent(final: Path) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise InputError(
            f"cannot write {os.fspath(final)}: a part of its folder {os.fspath(final.parent)} is a "
            "file, not a folder; choose another output folder or move that file."
        ) from exc
    except OSError as exc:
        raise DataError(
            f"cannot create the folder {os.fspath(final.parent)} for {final.name}: "
            f"{exc.strerror or exc}; choose a writable output folder."
        ) from exc


def check_output_dir(out_dir: str | os.PathLike[str], *, min_free_bytes: int = 50_000_000) -> Path:
    """Check, before any computing, that ``out_dir`` can receive a set of outputs; return it.

    The folder (or its nearest existing parent) must be a folder, writable, and the file system
    must have at least ``min_free_bytes`` free (a rough guard: a plan's outputs are a few MB).
    A failure is an :class:`InputError` (the path names a file) or a :class:`DataError` (not
    writable, disk full) saying what to change.

    >>> import tempfile, pathlib
    >>> check_output_dir(pathlib.Path(tempfile.mkdtemp()) / "new" / "out").name
    'out'
    """
    out = Path(out_dir).expanduser()
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise InputError(
            f"output folder {os.fspath(out)}: {os.fspath(probe)} is a file, not a folder; give "
            "--out a folder (new or holding earlier outputs), or move that file."
        )
    # the set is staged beside the folder, so its parent must be writable too
    parent = probe if probe != out else out.parent if out.parent.exists() else probe
    for folder in dict.fromkeys((probe, parent)):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise DataError(
                f"output folder {os.fspath(out)}: {os.fspath(folder)} is not writable; choose a "
                "writable folder with --out (or [outputs] out_dir), or change its permissions."
            )
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        free = None
    if free is not None and free < min_free_bytes:
        raise DataError(
            f"output folder {os.fspath(out)}: only {free / 1e6:.1f} MB free on its disk, "
            f"{min_free_bytes / 1e6:.0f} MB needed; free some space or choose another folder."
        )
    return out


def _replace_files(stage: Path, out: Path, known: set[str]) -> None:
    """Move every file of ``stage`` into ``out`` (each atomically) and remove the outputs of
    ``out`` (names in ``known``) that ``stage`` does not have."""
    new = {p.name for p in stage.iterdir()}
    for name in sorted(new):
        if (out / name).is_dir() and not (out / name).is_symlink():
            shutil.rmtree(out / name)  # a folder of outputs (profiles/) is replaced whole
        os.replace(stage / name, out / name)
    for name in known - new:
        if (out / name).is_dir() and not (out / name).is_symlink():
            shutil.rmtree(out / name)
        else:
            (out / name).unlink(missing_ok=True)


@contextmanager
def output_set(out_dir: str | os.PathLike[str], *, known: Iterable[str] = ()) -> Iterator[Path]:
    """Write a folder of outputs as one set: yield a staging folder, then swap it in whole.

    The staging folder is hidden beside ``out_dir`` (so on the same file system). When the body
    of the ``with`` block succeeds, the previous folder (if any) is renamed aside, the staging
    folder renamed to ``out_dir``, entries of the previous folder that are not outputs (names
    not in ``known``) moved into the new one, and the previous folder removed. When the body
    fails (an error, Ctrl-C, SIGTERM), the staging folder is removed and ``out_dir`` is left
    exactly as it was. So a reader sees either the previous complete set or the new one, never
    a mix, and an output the new run does not write (``stability.csv``) does not linger. Where
    the folder itself cannot be renamed (a mount point), its files are replaced one by one
    instead, each atomically, once all are written and checked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "plan"
    >>> with output_set(out) as stage:
    ...     _ = (stage / "a.txt").write_text("new")
    >>> sorted(p.name for p in out.iterdir())
    ['a.txt']
    """
    out = Path(out_dir).expanduser()
    if out.is_symlink():
        out = out.resolve()
    out = Path(os.path.abspath(out))
    if out == Path(os.path.abspath(os.getcwd())) or out in Path(os.getcwd()).resolve().parents:
        raise InputError(
            f"output folder {os.fspath(out)} is the current folder or holds it; outputs replace "
            "their folder as a whole, so give a subfolder, e.g. --out out/plan."
        )
    check_output_dir(out, min_free_bytes=0)
    _make_parent(out)
    remove_stale_temporaries(out.parent)
    if out.is_dir():
        remove_stale_temporaries(out)
    known = set(known)
    stage = out.with_name(f".{out.name}.staging-{_token()}")
    old: Path | None = None
    try:
        stage.mkdir()
    except OSError as exc:
        raise DataError(
            f"cannot create a staging folder beside {os.fspath(out)}: {exc.strerror or exc}; choose a "
            "writable output folder."
        ) from exc
    try:
        yield stage
        if out.exists():
            old = out.with_name(f".{out.name}.old-{_token()}")
            try:
                os.replace(out, old)
            except OSError:
                # the folder itself cannot move (a mount point, a folder we may not rename):
                # replace its files one by one, each atomically
                old = None
                _replace_files(stage, out, known)
                shutil.rmtree(stage, ignore_errors=True)
                return
        try:
            os.replace(stage, out)
        except BaseException:
            if old is not None:
                os.replace(old, out)
            raise
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if old is not None:
        for entry in old.iterdir():
            if entry.name in known or _TEMP_NAME.match(entry.name) or (out / entry.name).exists():
                continue
            try:
                os.replace(entry, out / entry.name)
            except OSError:
                continue
        shutil.rmtree(old, ignore_errors=True)


def write_text(text: str, path: str | os.PathLike[str], *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    return write_bytes(text.encode(encoding), path)


def write_bytes(data: bytes, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` to ``path`` atomically (checked to hold exactly those bytes); return the path."""
    path = Path(path)
    with atomic_path(path, check=lambda tmp: check_written(tmp, path, expected_bytes=len(data))) as tmp:
        tmp.write_bytes(data)
    return path


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)."""


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def neutralize_formula(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'``
    in front (the OWASP guidance for CSV files opened in a spreadsheet); numbers, and text that
    is a plain number (``"-105"``), are left as they are.

    >>> neutralize_formula("=1+2"), neutralize_formula(-105.0), neutralize_formula("-105")
    ("'=1+2", -105.0, '-105')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _is_number_text(value):
        return "'" + value
    return value


def neutralize_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells (and text index) pass through :func:`neutralize_formula`."""
    import pandas as pd

    def texty(dtype: Any) -> bool:
        return pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)

    out = df.copy(deep=False)
    for col in out.columns:
        if texty(out[col].dtype):
            out[col] = out[col].map(neutralize_formula)
    if texty(out.index.dtype) and not isinstance(out.index, pd.MultiIndex):
        out.index = out.index.map(neutralize_formula)
    return out


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], *, formula_safe: bool = False,
              **kwargs: Any) -> Path:
    """Write a DataFrame with :meth:`pandas.DataFrame.to_csv` atomically; return the path.

    ``kwargs`` go to ``to_csv`` (``index=True`` by default, as in pandas); UTF-8 unless
    ``encoding`` is given. ``formula_safe=True`` (for tables people open in a spreadsheet)
    prefixes text that a spreadsheet would run as a formula with an apostrophe
    (:func:`neutralize_formula`); numbers stay numbers.
    """
    path = Path(path)
    kwargs.setdefault("encoding", "utf-8")
    if formula_safe:
        df = neutralize_formulas(df)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)
    return path


def _rasterio_crs(crs: object) -> RioCRS:
    from rasterio.crs import CRS as RioCRS

    from blankspot.crs import as_crs

    return RioCRS.from_wkt(as_crs(crs).to_wkt())


def write_raster(
    path: str | os.PathLike[str],
    array: npt.ArrayLike,
    *,
    transform: Affine,
    crs: object,
    nodata: float | None = None,
    dtype: npt.DTypeLike | None = None,
    description: str | list[str] | None = None,
    tags: Mapping[str, object] | None = None,
) -> Path:
    """Write a 2-D (rows, cols) or 3-D (bands, rows, cols) array as a GeoTIFF, atomically.

    Deflate-compressed (with a predictor), tiled in 256 × 256 blocks when a side is at least 512
    cells, BigTIFF when needed.

    Parameters
    ----------
    path
        Destination ``.tif``.
    array
        Values; NaN is fine for float rasters (give ``nodata=np.nan``).
    transform
        :class:`affine.Affine` of the grid (cell corners).
    crs
        Anything :func:`blankspot.crs.as_crs` accepts.
    nodata
        Value marking cells without data (``np.nan`` for float rasters).
    dtype
        Output data type; default the array's.
    description
        Band description (one string, or one per band).
    tags
        Dataset metadata, e.g. ``{"units": "dBm"}``; values are written as strings.

    Returns
    -------
    Path

    Raises
    ------
    UnitsError
        If the array is not 2-D or 3-D, or ``nodata`` cannot be stored in ``dtype``.
    """
    import rasterio

    arr = np.asarray(array)
    if arr.ndim == 2:
        arr = arr[np.newaxis]
    if arr.ndim != 3 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise UnitsError(
            f"write_raster needs a 2-D (rows, cols) or 3-D (bands, rows, cols) array; received "
            f"shape {np.shape(array)}."
        )
    out_dtype = np.dtype(dtype) if dtype is not None else arr.dtype
    if out_dtype == np.bool_:
        out_dtype = np.dtype(np.uint8)
    arr = arr.astype(out_dtype, copy=False)
    if nodata is not None and np.isnan(nodata) and out_dtype.kind != "f":
        raise UnitsError(
            f"nodata=NaN cannot be stored in a {out_dtype} raster; pass dtype='float32' or an "
            "integer nodata value."
        )
    count, height, width = arr.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": count,
        "dtype": out_dtype.name,
        "crs": _rasterio_crs(crs),
        "transform": transform,
        "nodata": nodata,
        "compress": "deflate",
        "predictor": 3 if out_dtype.kind == "f" else 2,
        "BIGTIFF": "IF_SAFER",
    }
    if max(height, width) >= 2 * _TILE:
        profile.update(tiled=True, blockxsize=_TILE, blockysize=_TILE)
    path = Path(path)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(arr)
            if description is not None:
                descriptions = (
                    [description] * count if isinstance(description, str) else description
                )
                for band, text in enumerate(descriptions, 1):
                    dst.set_band_description(band, text)
            if tags:
                dst.update_tags(**{str(k): str(v) for k, v in tags.items()})
    return path


def write_cog(
    path: str | os.PathLike[str],
    array: npt.ArrayLike,
    *,
    transform: Affine,
    crs: object,
    nodata: float | None = None,
    dtype: npt.DTypeLike | None = None,
    description: str | None = None,
    tags: Mapping[str, object] | None = None,
    resampling: str = "average",
    blocksize: int = _TILE,
) -> Path:
    """Write a 2-D array as a Cloud-Optimised GeoTIFF (GDAL's COG driver), atomically.

    The raster is built in memory and copied with the COG driver: tiled ``blocksize`` ×
    ``blocksize``, deflate with a predictor, overviews halving until they fit in one tile
    (``resampling``: ``"average"`` for continuous values, ``"nearest"`` or ``"mode"`` for
    classes), IFDs before the data (``LAYOUT=COG``), BigTIFF when needed.

    Parameters
    ----------
    path
        Destination ``.tif``.
    array
        2-D values (rows, cols); NaN is fine for float rasters with ``nodata=np.nan``.
    transform, crs, nodata, dtype, description, tags
        As in :func:`write_raster`.
    resampling
        Overview resampling, a GDAL name (``average``, ``nearest``, ``mode``, ...).
    blocksize
        Tile side in cells (a multiple of 16).

    Returns
    -------
    Path

    Raises
    ------
    UnitsError
        If the array is not 2-D or ``nodata`` cannot be stored in ``dtype``.
    """
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    arr = np.asarray(array)
    if arr.ndim != 2 or 0 in arr.shape:
        raise UnitsError(
            f"write_cog needs a 2-D (rows, cols) array; received shape {np.shape(array)}."
        )
    out_dtype = np.dtype(dtype) if dtype is not None else arr.dtype
    if out_dtype == np.bool_:
        out_dtype = np.dtype(np.uint8)
    if nodata is not None and np.isnan(nodata) and out_dtype.kind != "f":
        raise UnitsError(
            f"nodata=NaN cannot be stored in a {out_dtype} raster; pass dtype='float32' or an "
            "integer nodata value."
        )
    arr = arr.astype(out_dtype, copy=False)
    height, width = arr.shape
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": 1,
        "dtype": out_dtype.name,
        "crs": _rasterio_crs(crs),
        "transform": transform,
        "nodata": nodata,
    }
    path = Path(path)
    with MemoryFile() as mem:
        with mem.open(**profile) as ds:
            ds.write(arr, 1)
            if description is not None:
                ds.set_band_description(1, description)
            if tags:
                ds.update_tags(**{str(k): str(v) for k, v in tags.items()})
        with mem.open() as src, atomic_path(path) as tmp:
            rasterio.shutil.copy(
                src,
                tmp,
                driver="COG",
                COMPRESS="DEFLATE",
                PREDICTOR="YES",
                BLOCKSIZE=int(blocksize),
                OVERVIEWS="AUTO",
                OVERVIEW_RESAMPLING=resampling.upper(),
                BIGTIFF="IF_SAFER",
            )
    return path


def write_geopackage(layers: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write several GeoDataFrames as the layers of one GeoPackage, atomically.

    All layers go into a temporary file that is renamed into place once the last is written, so
    the GeoPackage either holds every layer or is not there (an older file is replaced whole).
    Each layer keeps its frame's CRS, which GeoPackage records in ``gpkg_spatial_ref_sys``.

    Parameters
    ----------
    layers
        ``{layer name: GeoDataFrame}``, written in order. The index is written as a column when
        it is named (``village_id``, ``site_id``, ...).
    path
        Destination ``.gpkg``.

    Returns
    -------
    Path

    Raises
    ------
    CRSError
        If a layer has no CRS.
    """
    from blankspot.errors import CRSError

    missing = [name for name, frame in layers.items() if frame.crs is None]
    if missing:
        raise CRSError(f"GeoPackage layer(s) {', '.join(missing)} have no CRS; set one first.")
    path = Path(path)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            out = frame.reset_index() if frame.index.name is not None else frame
            out.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_xlsx(
    sheets: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    number_formats: Mapping[str, Sequence[ColumnFormat]] | None = None,
    max_width_chars: int = 60,
) -> Path:
    """Write DataFrames as the sheets of one Excel workbook (openpyxl), atomically.

    Each sheet has a bold header row that stays frozen when scrolling, an autofilter, and
    columns as wide as their content (at most ``max_width_chars``). Cells keep their types:
    strings stay text (a desa name starting with ``=`` is a text cell, never a formula), integers stay whole numbers (Rupiah are never floats), NaN and NA are
    left empty.

    Parameters
    ----------
    sheets
        ``{sheet name: DataFrame}``, written in order; the index is not written.
    path
        Destination ``.xlsx``.
    number_formats
        ``{sheet name: [format per column]}``: an Excel number format (``"#,##0"``,
        ``"0.0%"``) or ``"@"`` for text, None for the default, or a list with one such entry
        per row (for a column of mixed values). A text column is written as strings, so a code
        such as ``64.01.09.2003`` or ``007`` is kept exactly.
    max_width_chars
        Widest column, in characters.

    Returns
    -------
    Path
    """
    import pandas as pd
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    number_formats = number_formats or {}
    wb = Workbook()
    wb.remove(wb.active)
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE6F0")
    for name, frame in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        formats = list(number_formats.get(name) or [None] * frame.shape[1])
        ws.append([str(c) for c in frame.columns])
        _as_text_cells(ws[1])
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        widths = [len(str(c)) for c in frame.columns]
        for i, row in enumerate(frame.itertuples(index=False, name=None)):
            ws.append([_xlsx_value(v, text=_cell_format(formats, j, i) == "@", pd=pd)
                       for j, v in enumerate(row)])
            _as_text_cells(ws[ws.max_row])
        for j in range(1, len(formats) + 1):
            column = ws.iter_rows(min_row=2, min_col=j, max_col=j)
            for i, (cell,) in enumerate(column):
                fmt = _cell_format(formats, j - 1, i)
                if fmt is not None and cell.value is not None:
                    cell.number_format = fmt
                if cell.value is not None:
                    shown = cell.value if not isinstance(cell.value, float) else f"{cell.value:,.2f}"
                    widths[j - 1] = max(widths[j - 1], len(str(shown)) + 2)
        for j, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), max_width_chars)
        ws.freeze_panes = "A2"
        if frame.shape[1]:
            ws.auto_filter.ref = f"A1:{get_column_letter(frame.shape[1])}{max(ws.max_row, 1)}"
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _as_text_cells(cells: Iterable[Any]) -> None:
    """Keep every string a text cell: openpyxl would store ``=...`` as a live formula."""
    for cell in cells:
        if isinstance(cell.value, str) and cell.data_type != "s":
            cell.data_type = "s"


def _cell_format(formats: Sequence[ColumnFormat], j: int, i: int) -> str | None:
    """Number format of column ``j``, row ``i``: one per column, or one per row of the column."""
    fmt = formats[j]
    return fmt[i] if isinstance(fmt, list | tuple) else fmt


def _xlsx_value(v: object, *, text: bool, pd: ModuleType) -> object:
    """A cell value openpyxl stores with the right type: Python int/float/bool/str or None."""
    if v is None or (not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v)):
        return None
    if text:
        return str(v)
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer | int):
        return int(v)
    if isinstance(v, np.floating | float):
        return float(v)
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return v if isinstance(v, str) else str(v)


def write_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: float = 150, **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically; the format follows the suffix (``.png``, ``.pdf``).

    ``kwargs`` go to :meth:`matplotlib.figure.Figure.savefig` (e.g. ``metadata``).
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".") or "png", **kwargs)
    return path
