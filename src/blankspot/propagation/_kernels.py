"""numba kernels for propagation: arrays and scalars in, arrays out.

No CRS, geometry, I/O, logging or warnings here. Every kernel has a slow twin in
``tests/reference/`` that must give the same answer.

Conventions shared by the kernels
---------------------------------
- Grid positions are fractional (row, col) with the centre of cell (r, c) at exactly (r, c);
  rows grow southwards, columns eastwards (north-up grid).
- Elevations are metres above the DEM datum; nodata cells arrive as a boolean mask and their
  elevation is never read.
- Azimuth is measured clockwise from grid north, in radians.
- Heights are handled relative to the observer's antenna (``dz = z - z_obs``) before any other
  arithmetic, so adding a constant to the terrain (and the observer) changes no result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit

TWO_PI = 2.0 * math.pi

F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
Heights = npt.NDArray[np.floating[Any]]
"""Terrain heights as the grid holds them (float32 or float64)."""
Mask = npt.NDArray[np.bool_]


# Minimax polynomial for atan(t), 0 <= t <= 1; absolute error below 2e-5 rad (a fiftieth of the
# angle between radials at 30 km and 30 m cells). Cheaper than atan2 and reproducible anywhere:
# plain IEEE arithmetic in a fixed order, so the Python reference gets the same bits.
_ATAN_C1 = 0.9998660
_ATAN_C3 = -0.3302995
_ATAN_C5 = 0.1801410
_ATAN_C7 = -0.0851330
_ATAN_C9 = 0.0208351


@njit(nogil=True, cache=True, inline="always")
def approx_azimuth(east: float, north: float) -> float:
    """Azimuth of the vector (east, north), clockwise from north in [0, 2*pi), to about 2e-5 rad.

    Both components must not be zero together.
    """
    ax = abs(east)
    ay = abs(north)
    if ax <= ay:
        t = ax / ay
        t2 = t * t
        a = t * (_ATAN_C1 + t2 * (_ATAN_C3 + t2 * (_ATAN_C5 + t2 * (_ATAN_C7 + t2 * _ATAN_C9))))
    else:
        t = ay / ax
        t2 = t * t
        a = 0.5 * math.pi - t * (
            _ATAN_C1 + t2 * (_ATAN_C3 + t2 * (_ATAN_C5 + t2 * (_ATAN_C7 + t2 * _ATAN_C9)))
        )
    if east >= 0.0:
        return a if north >= 0.0 else math.pi - a
    return math.pi + a if north < 0.0 else TWO_PI - a


@njit(nogil=True, cache=True, inline="always")
def _step_index(dist_cells: float, inv_step: float, n_steps: int) -> int:
    """Number of radial samples strictly closer than ``dist_cells`` (clamped to the ring count)."""
    k = math.ceil(dist_cells * inv_step - 1e-9) - 1
    if k < 0:
        return 0
    if k > n_steps - 1:
        return n_steps - 1
    return k


INNER_SPACING_CELLS = 0.5
"""Largest gap between neighbouring radials, in cells, on rings swept with a subset of them."""


@njit(nogil=True, cache=True, inline="always")
def ring_level(n_radials: int, n_levels: int, ring: int, step_cells: float) -> int:
    """Radial level of ``ring``: the coarsest ``L < n_levels`` whose ``n_radials >> L`` radials
    stay within :data:`INNER_SPACING_CELLS` of each other one step beyond the ring. Level 0 (all
    radials) has no such limit; the caller sizes ``n_radials`` for the radius."""
    level = n_levels - 1
    reach = TWO_PI * (ring + 1) * step_cells / INNER_SPACING_CELLS
    while level > 0 and (n_radials >> level) < reach:
        level -= 1
    return level


@njit(nogil=True, cache=True, inline="always")
def _horizon_between(h0: float, h1: float, w: float) -> float:
    """Horizon a fraction ``w`` of the way from radial value ``h0`` to ``h1``.

    Linear in azimuth; when one side has no terrain yet (``-inf``) the nearer side is used.
    """
    if h0 == h1:
        return h0
    if h0 == -np.inf or h1 == -np.inf:
        return h0 if w < 0.5 else h1
    return h0 + w * (h1 - h0)


@njit(nogil=True, cache=True, inline="always")
def _sweep_ring_interior(
    flat_elevation_m: Heights,
    n_cols: int,
    row0: float,
    col0: float,
    z_obs_m: float,
    dist_cells: float,
    inv_d: float,
    drop: float,
    d_row: F64,
    d_col: F64,
    stride: int,
    prev: F64,
    cur: F64,
) -> None:
    """One ring of samples on radials ``0, stride, 2*stride, ...``, all at least one cell inside
    the grid and clear of nodata: the four neighbours always exist, and a zero weight on a
    finite neighbour changes nothing, so no clamping or index tests are needed.
    ``cur[i] = max(prev[i], tangent)``."""
    for i in range(0, prev.size, stride):
        r = row0 + dist_cells * d_row[i]
        c = col0 + dist_cells * d_col[i]
        r0 = int(r)
        c0 = int(c)
        fr = r - r0
        fc = c - c0
        base = r0 * n_cols + c0
        a00 = np.float64(flat_elevation_m[base]) - z_obs_m
        a01 = np.float64(flat_elevation_m[base + 1]) - z_obs_m
        a10 = np.float64(flat_elevation_m[base + n_cols]) - z_obs_m
        a11 = np.float64(flat_elevation_m[base + n_cols + 1]) - z_obs_m
        top = a00 + fc * (a01 - a00)
        bot = a10 + fc * (a11 - a10)
        tan = (top + fr * (bot - top)) * inv_d - drop
        h = prev[i]
        cur[i] = tan if tan > h else h


@njit(nogil=True, cache=True, inline="always")
def _sweep_ring_general(
    elevation_m: Heights,
    nodata_mask: Mask,
    check_nodata: bool,
    row0: float,
    col0: float,
    z_obs_m: float,
    dist_cells: float,
    inv_d: float,
    drop: float,
    d_row: F64,
    d_col: F64,
    stride: int,
    active: Mask,
    prev: F64,
    cur: F64,
) -> None:
    """One ring of samples anywhere: a radial leaving the grid stops (``active`` False) and
    keeps its value, positions past the outermost cell centres clamp to the edge cells, samples
    touching nodata are skipped. ``cur[i] = max(prev[i], tangent)``."""
    n_rows, n_cols = elevation_m.shape
    for i in range(0, prev.size, stride):
        h = prev[i]
        cur[i] = h
        if not active[i]:
            continue
        r = row0 + dist_cells * d_row[i]
        c = col0 + dist_cells * d_col[i]
        if r < -0.5 or r > n_rows - 0.5 or c < -0.5 or c > n_cols - 0.5:
            active[i] = False
            continue
        r = min(max(r, 0.0), n_rows - 1.0)
        c = min(max(c, 0.0), n_cols - 1.0)
        r0 = int(r)
        c0 = int(c)
        fr = r - r0
        fc = c - c0
        r1 = r0 + 1 if fr > 0.0 else r0
        c1 = c0 + 1 if fc > 0.0 else c0
        if check_nodata and (
            nodata_mask[r0, c0] or nodata_mask[r0, c1] or nodata_mask[r1, c0] or nodata_mask[r1, c1]
        ):
            continue
        a00 = np.float64(elevation_m[r0, c0]) - z_obs_m
        a01 = np.float64(elevation_m[r0, c1]) - z_obs_m
        a10 = np.float64(elevation_m[r1, c0]) - z_obs_m
        a11 = np.float64(elevation_m[r1, c1]) - z_obs_m
        top = a00 + fc * (a01 - a00)
        bot = a10 + fc * (a11 - a10)
        tan = (top + fr * (bot - top)) * inv_d - drop
        cur[i] = tan if tan > h else h


RING_BLOCK = 8
"""Rings of horizons kept at once while filling cells (8 x radials float64)."""


@njit(nogil=True, cache=True, inline="always")
def _los_sweep(
    elevation_m: Heights,
    nodata_mask: Mask,
    check_nodata: bool,
    row0: float,
    col0: float,
    z_obs_m: float,
    rx_height_agl_m: float,
    res_m: float,
    radius_m: float,
    inv_two_ae_per_m: float,
    n_radials: int,
    n_levels: int,
    step_cells: float,
    row_off: int,
    col_off: int,
    win_rows: int,
    win_cols: int,
    want_tangent: bool,
) -> tuple[U8, F32, F32]:
    """The body of :func:`los_radial_sweep` (documented there), inlined into both entry
    points; ``want_tangent`` is a constant at each, so the unused branch compiles away. Returns
    ``(visible, distance_m, tangent)``, ``tangent`` empty (0, 0) unless ``want_tangent``."""
    n_rows, n_cols = elevation_m.shape
    n_steps = math.ceil(radius_m / res_m / step_cells) + 1
    inv_step = 1.0 / step_cells

    d_row = np.empty(n_radials, dtype=np.float64)
    d_col = np.empty(n_radials, dtype=np.float64)
    for i in range(n_radials):
        az = TWO_PI * i / n_radials
        d_row[i] = -math.cos(az)
        d_col[i] = math.sin(az)
    active = np.ones(n_radials, dtype=np.bool_)
    block = np.empty((RING_BLOCK, n_radials), dtype=np.float64)
    block_level = np.empty(RING_BLOCK, dtype=np.int64)
    carry = np.full(n_radials, -np.inf, dtype=np.float64)  # horizons of the previous ring
    level = n_levels - 1

    visible = np.zeros((win_rows, win_cols), dtype=np.uint8)
    distance_m = np.full((win_rows, win_cols), np.nan, dtype=np.float32)
    tan_shape = (win_rows, win_cols) if want_tangent else (0, 0)
    tangent = np.full(tan_shape, np.nan, dtype=np.float32)

    # Each window row has two sides: columns >= col0 walked eastwards (even side id) and
    # columns < col0 walked westwards (odd). A side waits in the bucket of the block holding
    # the ring of its next cell; side_next chains the sides of one bucket.
    n_blocks = (n_steps + RING_BLOCK - 1) // RING_BLOCK
    n_sides = 2 * win_rows
    side_col = np.empty(n_sides, dtype=np.int64)
    side_dist = np.empty(n_sides, dtype=np.float64)
    side_next = np.full(n_sides, -1, dtype=np.int64)
    bucket = np.full(n_blocks, -1, dtype=np.int64)
    c_east = min(max(col_off, math.ceil(col0)), col_off + win_cols)
    for wr in range(win_rows):
        dr = row_off + wr - row0
        for side in range(2):
            sid = 2 * wr + side
            c = c_east if side == 0 else c_east - 1
            side_col[sid] = c
            if c < col_off or c >= col_off + win_cols:
                continue
            dc = c - col0
            dist_cells = math.sqrt(dr * dr + dc * dc)
            if dist_cells * res_m > radius_m:
                continue
            side_dist[sid] = dist_cells
            b = _step_index(dist_cells, inv_step, n_steps) // RING_BLOCK
            side_next[sid] = bucket[b]
            bucket[b] = sid

    reach = (n_steps - 1) * step_cells
    fast = (
        not check_nodata
        and row0 - reach >= 1.0
        and row0 + reach <= n_rows - 2.0
        and col0 - reach >= 1.0
        and col0 + reach <= n_cols - 2.0
    )
    flat = elevation_m.ravel()

    for b in range(n_blocks):
        s_first = b * RING_BLOCK
        s_end = min(s_first + RING_BLOCK, n_steps)
        for s in range(s_first, s_end):
            prev = carry if s == s_first else block[s - s_first - 1]
            cur = block[s - s_first]
            new_level = ring_level(n_radials, n_levels, s, step_cells)
            while level > new_level:  # radials joining at the finer level
                level -= 1
                stride = 1 << level
                for i in range(stride, n_radials, 2 * stride):
                    after = i + stride if i + stride < n_radials else 0
                    prev[i] = 0.5 * (prev[i - stride] + prev[after])
            block_level[s - s_first] = level
            stride = 1 << level
            if s == 0:
                for i in range(0, n_radials, stride):
                    cur[i] = -np.inf
                continue
            dist_cells = s * step_cells
            d_m = dist_cells * res_m
            inv_d = 1.0 / d_m
            drop = d_m * inv_two_ae_per_m
            if fast:
                _sweep_ring_interior(
                    flat,
                    n_cols,
                    row0,
                    col0,
                    z_obs_m,
                    dist_cells,
                    inv_d,
                    drop,
                    d_row,
                    d_col,
                    stride,
                    prev,
                    cur,
                )
            else:
                _sweep_ring_general(
                    elevation_m,
                    nodata_mask,
                    check_nodata,
                    row0,
                    col0,
                    z_obs_m,
                    dist_cells,
                    inv_d,
                    drop,
                    d_row,
                    d_col,
                    stride,
                    active,
                    prev,
                    cur,
                )
        last = block[s_end - 1 - s_first]
        for i in range(0, n_radials, 1 << level):
            carry[i] = last[i]

        sid = bucket[b]
        bucket[b] = -1
        while sid >= 0:
            following = side_next[sid]
            wr = sid >> 1
            r = row_off + wr
            dr = r - row0
            north = -dr
            if sid & 1:
                c_dir = -1
                c_stop = col_off - 1
            else:
                c_dir = 1
                c_stop = col_off + win_cols
            c = side_col[sid]
            dist_cells = side_dist[sid]
            b_next = n_blocks
            while True:
                if not (check_nodata and nodata_mask[r, c]):
                    d_m = dist_cells * res_m
                    wc = c - col_off
                    distance_m[wr, wc] = d_m
                    if d_m == 0.0:
                        visible[wr, wc] = 1
                        if want_tangent:
                            dz = np.float64(elevation_m[r, c]) - z_obs_m + rx_height_agl_m
                            tangent[wr, wc] = np.inf if dz > 0.0 else -np.inf
                    else:
                        k = _step_index(dist_cells, inv_step, n_steps) - s_first
                        lv = block_level[k]
                        n_lv = n_radials >> lv
                        pos = approx_azimuth(c - col0, north) * (n_lv / TWO_PI)
                        j0 = int(pos)
                        w = pos - j0
                        if j0 >= n_lv:
                            j0 -= n_lv
                        j1 = j0 + 1 if j0 + 1 < n_lv else 0
                        limit = _horizon_between(block[k, j0 << lv], block[k, j1 << lv], w)
                        dz = np.float64(elevation_m[r, c]) - z_obs_m + rx_height_agl_m
                        target = dz * (1.0 / d_m) - d_m * inv_two_ae_per_m
                        if target >= limit:
                            visible[wr, wc] = 1
                        if want_tangent:
                            tangent[wr, wc] = target if target > limit else limit
                c += c_dir
                if c == c_stop:
                    break
                dc = c - col0
                dist_cells = math.sqrt(dr * dr + dc * dc)
                if dist_cells * res_m > radius_m:
                    break
                k_new = _step_index(dist_cells, inv_step, n_steps)
                if k_new >= s_end:
                    b_next = k_new // RING_BLOCK
                    break
            if b_next < n_blocks:
                side_col[sid] = c
                side_dist[sid] = dist_cells
                side_next[sid] = bucket[b_next]
                bucket[b_next] = sid
            sid = following

    own_row = math.floor(row0 + 0.5)
    own_col = math.floor(col0 + 0.5)
    if row_off <= own_row < row_off + win_rows and col_off <= own_col < col_off + win_cols:
        dr = own_row - row0
        dc = own_col - col0
        visible[own_row - row_off, own_col - col_off] = 1
        d_m = math.sqrt(dr * dr + dc * dc) * res_m
        distance_m[own_row - row_off, own_col - col_off] = d_m
        if want_tangent:  # nothing lies closer than this cell's centre: its target's tangent
            dz = np.float64(elevation_m[own_row, own_col]) - z_obs_m + rx_height_agl_m
            if d_m == 0.0:
                own_tan = np.inf if dz > 0.0 else -np.inf
            else:
                own_tan = dz * (1.0 / d_m) - d_m * inv_two_ae_per_m
            tangent[own_row - row_off, own_col - col_off] = own_tan
    return visible, distance_m, tangent


@njit(nogil=True, cache=True)
def los_radial_sweep(
    elevation_m: Heights,
    nodata_mask: Mask,
    check_nodata: bool,
    row0: float,
    col0: float,
    z_obs_m: float,
    rx_height_agl_m: float,
    res_m: float,
    radius_m: float,
    inv_two_ae_per_m: float,
    n_radials: int,
    n_levels: int,
    step_cells: float,
    row_off: int,
    col_off: int,
    win_rows: int,
    win_cols: int,
) -> tuple[U8, F32]:
    """Line-of-sight viewshed of one observer by radial sweep, filled onto a grid window.

    Inputs: elevation (metres, C-contiguous) and nodata mask of the whole grid, and whether the
    mask needs checking (pass False only when it is all False within a cell of the window);
    observer at fractional (``row0``, ``col0``) with antenna top at ``z_obs_m`` (metres,
    terrain datum); targets ``rx_height_agl_m`` metres above their cell; cell size ``res_m``
    metres; ``radius_m`` metres; ``inv_two_ae_per_m`` = 1 / (2 a_e) in 1/metres (0 for a flat
    earth); ``n_radials`` radials (divisible by ``2**(n_levels - 1)``) sampled every
    ``step_cells`` cells; window origin (``row_off``, ``col_off``) and shape (``win_rows``,
    ``win_cols``) in grid cells.

    Radials: radial ``i`` leaves the observer at azimuth ``2*pi*i/n_radials``. Near the observer
    fewer are needed, so ring ``s`` (samples ``s*step_cells`` cells out) is swept on every
    ``2**L``-th radial only, ``L = ring_level(...)``: the coarsest level keeping those radials
    within half a cell of each other. When rings move to a finer level, each radial that joins
    starts from the mean of its two neighbours' horizons (what the fill would read there).

    Samples: the tangent of a terrain sample ``d_m`` metres out is
    ``(z - z_obs_m) / d_m - d_m * inv_two_ae_per_m`` (terrain dropped by ``d_m**2 / (2 a_e)``),
    with ``z`` interpolated bilinearly between cell centres (clamped to the edge cells between
    the outermost centres and the grid edge). A radial's horizon at ring ``s`` is the running
    maximum over its samples up to ``s`` (``-inf`` at ring 0). Samples touching nodata are
    skipped (they neither block nor count); a radial stops at the grid edge.

    Fill: a cell at distance ``d`` cells needs the horizon of the samples strictly closer than
    its centre, ring ``k = ceil(d / step) - 1``, interpolated linearly in azimuth between the
    two radials of that ring's level either side of it (:func:`_horizon_between`). It is
    visible when the tangent of its target point (its own elevation plus ``rx_height_agl_m``,
    its exact distance) is at least that horizon. Heights enter only as differences to
    ``z_obs_m``.

    Order of work: rings are swept outwards in blocks of :data:`RING_BLOCK`; after each block
    the cells whose ring falls in it are filled, walking each window row outwards from the
    observer's column on both sides (along such a half-row the ring never decreases). Memory is
    a block of horizons, not radials x rings.

    Returns ``(visible, distance_m)``: uint8 1/0 and float32 horizontal distance from the
    observer to each cell centre in metres; distance is NaN and visible 0 beyond ``radius_m`` and
    on nodata. The cell containing the observer is always visible.
    """
    visible, distance_m, _ = _los_sweep(
        elevation_m,
        nodata_mask,
        check_nodata,
        row0,
        col0,
        z_obs_m,
        rx_height_agl_m,
        res_m,
        radius_m,
        inv_two_ae_per_m,
        n_radials,
        n_levels,
        step_cells,
        row_off,
        col_off,
        win_rows,
        win_cols,
        False,
    )
    return visible, distance_m


@njit(nogil=True, cache=True)
def los_radial_sweep_tangent(
    elevation_m: Heights,
    nodata_mask: Mask,
    check_nodata: bool,
    row0: float,
    col0: float,
    z_obs_m: float,
    rx_height_agl_m: float,
    res_m: float,
    radius_m: float,
    inv_two_ae_per_m: float,
    n_radials: int,
    n_levels: int,
    step_cells: float,
    row_off: int,
    col_off: int,
    win_rows: int,
    win_cols: int,
) -> tuple[U8, F32, F32]:
    """:func:`los_radial_sweep`, also returning per cell the tangent of the elevation angle at
    which its path leaves the antenna (dimensionless, float32).

    The tangent is ``max(horizon, target)``: the horizon the fill reads for the cell (the
    running maximum of the samples closer than its centre, interpolated between radials) and
    the tangent of its target point, both with the same earth-curvature drop. Its arctangent is
    the angle of :func:`blankspot.propagation.antenna.elevation_angle_deg`: toward the receiver
    on a clear path, toward the highest obstruction otherwise. On a cell whose centre is the
    observer (distance 0) it is ``-inf`` (straight down; ``+inf`` when the target is above the
    antenna top). NaN where ``distance_m`` is NaN.

    Returns ``(visible, distance_m, tangent)``; the first two are bit for bit those of
    :func:`los_radial_sweep`.
    """
    return _los_sweep(
        elevation_m,
        nodata_mask,
        check_nodata,
        row0,
        col0,
        z_obs_m,
        rx_height_agl_m,
        res_m,
        radius_m,
        inv_two_ae_per_m,
        n_radials,
        n_levels,
        step_cells,
        row_off,
        col_off,
        win_rows,
        win_cols,
        True,
    )
