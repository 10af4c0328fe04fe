"""Writers that never leave a half-written file: write to a temporary name, then rename.

Every writer goes through :func:`atomic_path`: the data is written to a hidden temporary file in
the destination folder and moved into place with :func:`os.replace`, which is atomic on POSIX and
Windows when both names are on the same file system. A crash or an exception leaves the previous
file (if any) untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from blankspot.errors import UnitsError

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


@contextmanager
def atomic_path(final_path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``final_path``; rename it into place on success.

    The temporary name keeps the suffix (``map.html`` is written as ``.map.html.tmp-XXXXXXXX.html``)
    so writers that choose a format from the suffix still work. The file is not created: the body
    of the ``with`` block must write it. Parent folders are created.

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
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp-{secrets.token_hex(4)}{final.suffix}")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(text: str, path: str | os.PathLike[str], *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)
    return path


def write_csv(df: pd.DataFrame, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a DataFrame with :meth:`pandas.DataFrame.to_csv` atomically; return the path.

    ``kwargs`` go to ``to_csv`` (``index=True`` by default, as in pandas); UTF-8 unless
    ``encoding`` is given.
    """
    path = Path(path)
    kwargs.setdefault("encoding", "utf-8")
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
    strings stay text, integers stay whole numbers (Rupiah are never floats), NaN and NA are
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
        for cell in ws[1]:
            cell.font = header_font
            cell.fill = header_fill
            cell.alignment = Alignment(vertical="top", wrap_text=True)
        widths = [len(str(c)) for c in frame.columns]
        for i, row in enumerate(frame.itertuples(index=False, name=None)):
            ws.append([_xlsx_value(v, text=_cell_format(formats, j, i) == "@", pd=pd)
                       for j, v in enumerate(row)])
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
