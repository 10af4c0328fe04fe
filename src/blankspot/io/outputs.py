"""Writers that never leave a half-written file: write to a temporary name, then rename.

Every writer goes through :func:`atomic_path`: the data is written to a hidden temporary file in
the destination folder and moved into place with :func:`os.replace`, which is atomic on POSIX and
Windows when both names are on the same file system. A crash or an exception leaves the previous
file (if any) untouched and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from blankspot.errors import UnitsError

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


def write_csv(df, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a DataFrame with :meth:`pandas.DataFrame.to_csv` atomically; return the path.

    ``kwargs`` go to ``to_csv`` (``index=True`` by default, as in pandas); UTF-8 unless
    ``encoding`` is given.
    """
    path = Path(path)
    kwargs.setdefault("encoding", "utf-8")
    with atomic_path(path) as tmp:
        df.to_csv(tmp, **kwargs)
    return path


def _rasterio_crs(crs):
    from rasterio.crs import CRS as RioCRS

    from blankspot.crs import as_crs

    return RioCRS.from_wkt(as_crs(crs).to_wkt())


def write_raster(
    path: str | os.PathLike[str],
    array,
    *,
    transform,
    crs,
    nodata: float | None = None,
    dtype=None,
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
