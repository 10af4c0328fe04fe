"""Tiny specimens with answers known on paper, for tests and examples (public, like geopandas.testing).

All zoo terrains are at most 64x64 cells of 30 m in EPSG:32750 (UTM 50S), origin near Paser.
"""

from __future__ import annotations

import numpy as np
from affine import Affine

from blankspot.crs import PASER_CRS
from blankspot.terrain import Terrain

ZOO_RES_M = 30.0
ZOO_ORIGIN = (480_000.0, 9_800_000.0)  # upper-left corner, metres in EPSG:32750
ZOO_KINDS = (
    "flat",
    "tilted_plane",
    "knife_edge",
    "pit",
    "nodata_hole",
    "two_valleys",
    "tiny_1x1",
    "edge_site",
    "rough",
)


def make_terrain(kind: str = "flat", *, size: int = 64, res_m: float = ZOO_RES_M, seed: int = 0) -> Terrain:
    """A zoo terrain.

    - ``flat``: 100 m everywhere.
    - ``tilted_plane``: rises 1 m per cell eastward from 100 m.
    - ``knife_edge``: flat 100 m with a 1-cell wide north-south wall of 200 m at column size//2 + 8.
    - ``pit``: flat 100 m with a 40 m deep square pit of 9x9 cells centred 12 cells east of centre.
    - ``nodata_hole``: flat 100 m with a 5x5 nodata block.
    - ``two_valleys``: two valleys separated by a 400 m ridge along the centre column.
    - ``tiny_1x1``: a single 100 m cell.
    - ``edge_site``: flat, intended for sites on the grid's edge.
    - ``rough``: seeded random hills (smooth noise, 0-150 m) for parity tests.
    """
    if kind not in ZOO_KINDS:
        raise ValueError(f"unknown zoo terrain {kind!r}; choose one of {', '.join(ZOO_KINDS)}.")
    if kind == "tiny_1x1":
        size = 1
    elev = np.full((size, size), 100.0, dtype=np.float32)
    mask = np.zeros((size, size), dtype=bool)
    _rows, cols = np.mgrid[0:size, 0:size]
    c = size // 2
    if kind == "tilted_plane":
        elev = (100.0 + cols).astype(np.float32)
    elif kind == "knife_edge":
        elev[:, min(c + 8, size - 1)] = 200.0
    elif kind == "pit":
        pc = min(c + 12, size - 5)
        elev[c - 4 : c + 5, pc - 4 : pc + 5] = 60.0
    elif kind == "nodata_hole":
        mask[c + 5 : c + 10, c + 5 : c + 10] = True
    elif kind == "two_valleys":
        dist = np.abs(cols - c).astype(np.float32)
        elev = (100.0 + 400.0 * np.exp(-((dist / 2.0) ** 2))).astype(np.float32)
    elif kind == "rough":
        rng = np.random.default_rng(seed)
        noise = rng.normal(size=(size // 8 + 2, size // 8 + 2))
        from scipy.ndimage import zoom

        hills = zoom(noise, 8, order=3)[:size, :size]
        hills = (hills - hills.min()) / max(np.ptp(hills), 1e-9)
        elev = (150.0 * hills).astype(np.float32)
    transform = Affine(res_m, 0.0, ZOO_ORIGIN[0], 0.0, -res_m, ZOO_ORIGIN[1])
    return Terrain(
        elevation_m=elev,
        transform=transform,
        crs=PASER_CRS,
        nodata_mask=mask,
        source=f"zoo:{kind}",
        synthetic=True,
    )


def cell_centre(terrain: Terrain, row: int, col: int) -> tuple[float, float]:
    """Map (x, y) of a cell centre."""
    x, y = terrain.xy(row, col)
    return float(x), float(y)
