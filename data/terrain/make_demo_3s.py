"""Make the embedded 3 arc-second demo DEM from the 1 arc-second SYNTHETIC demo DEM.

Each 3 arc-second cell is the mean of the 3x3 block of 1 arc-second cells it covers, counting
only cells that are not nodata (a block with no valid cell is nodata), rounded to whole metres.
The output is a tiled Int16 GeoTIFF (DEFLATE, predictor 2) on the same origin, with the source's
tags (which mark it SYNTHETIC) plus a note of how it was made. The result is deterministic::

    python data/terrain/make_demo_3s.py PATH/TO/paser/terrain/paser_dem_demo_1s_synthetic.tif

writes ``data/terrain/paser_dem_demo_3s_synthetic.tif`` next to this script (``--out`` to
change) and prints its SHA-256, which must match the registry entry in
``src/blankspot/io/datasets.py``.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine

FACTOR = 3
OUT_NAME = "paser_dem_demo_3s_synthetic.tif"


def block_mean(values: np.ndarray, nodata: float | None, factor: int = FACTOR) -> np.ndarray:
    """Nodata-aware mean of ``factor`` x ``factor`` blocks, rounded to int16 (nodata kept)."""
    rows, cols = values.shape
    if rows % factor or cols % factor:
        raise ValueError(f"shape {values.shape} is not a multiple of {factor}")
    v = values.astype(np.float64).reshape(rows // factor, factor, cols // factor, factor)
    valid = np.ones_like(v, dtype=bool) if nodata is None else v != nodata
    count = valid.sum(axis=(1, 3))
    total = np.where(valid, v, 0.0).sum(axis=(1, 3))
    fill = -32768 if nodata is None else int(nodata)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.rint(total / np.maximum(count, 1)), fill)
    return mean.astype(np.int16)


def make(src_path: Path, out_path: Path) -> str:
    """Write the averaged DEM to ``out_path`` and return its SHA-256."""
    with rasterio.open(src_path) as src:
        values = src.read(1)
        nodata = src.nodata
        t = src.transform
        tags = src.tags()
        profile = src.profile
    out = block_mean(values, nodata)
    transform = Affine(t.a * FACTOR, t.b, t.c, t.d, t.e * FACTOR, t.f)
    tags = {k: v for k, v in tags.items() if k != "AREA_OR_POINT"}
    tags["PROCESSING"] = (
        f"mean of {FACTOR}x{FACTOR} blocks (nodata-aware, rounded to whole metres) of "
        f"{src_path.name}; made by data/terrain/make_demo_3s.py"
    )
    profile.update(
        driver="GTiff", dtype="int16", width=out.shape[1], height=out.shape[0],
        transform=transform, nodata=-32768 if nodata is None else nodata, count=1,
        tiled=True, blockxsize=256, blockysize=256, compress="deflate", predictor=2, zlevel=9,
        interleave="band",
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    with rasterio.open(tmp, "w", **profile) as dst:
        dst.write(out, 1)
        dst.update_tags(**tags)
        dst.update_tags(AREA_OR_POINT="Area")
    tmp.replace(out_path)
    return hashlib.sha256(out_path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path, help="paser_dem_demo_1s_synthetic.tif")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name(OUT_NAME))
    args = parser.parse_args()
    sha = make(args.src, args.out)
    print(f"{args.out}  {args.out.stat().st_size} bytes  sha256 {sha}")


if __name__ == "__main__":
    main()
