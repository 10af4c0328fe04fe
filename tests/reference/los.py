"""Slow line-of-sight references.

(a) :func:`radial_sweep` repeats the kernel's radial sweep in plain Python and numpy, ring by
    ring and then cell by cell in row order: same radials (with the same coarser inner levels),
    same samples, same bilinear interpolation, same azimuth interpolation and the same order of
    floating-point operations, so it must agree with ``_kernels.los_radial_sweep`` bit for bit.
    With ``with_tangent=True`` it also returns the tangent of each cell's path elevation angle,
    as ``_kernels.los_radial_sweep_tangent`` does, bit for bit.
(b) :func:`exact_los` is an independent check: for each target cell it walks the straight line
    from the observer to the cell centre in fine steps (a tenth of a cell) and tests every
    intermediate terrain sample against the sight line. No radials, no interpolation between
    them.
(c) :func:`profile_elevation_angle_deg` is the independent check of the elevation angle: for
    each cell it builds the straight profile from the site to the cell centre and calls
    :func:`blankspot.propagation.antenna.elevation_angle_deg` on it.
"""

from __future__ import annotations

import math

import numpy as np

from blankspot.propagation.antenna import elevation_angle_deg

TWO_PI = 2.0 * math.pi


def bilinear_rel(elevation_m, nodata_mask, row, col, z_ref_m):
    """Bilinear ``z - z_ref_m`` at (row, col), clamped to the edge cells; (value, ok)."""
    n_rows, n_cols = elevation_m.shape
    rc = min(max(row, 0.0), n_rows - 1.0)
    cc = min(max(col, 0.0), n_cols - 1.0)
    r0 = math.floor(rc)
    c0 = math.floor(cc)
    fr = rc - r0
    fc = cc - c0
    r1 = r0 + 1 if fr > 0.0 else r0
    c1 = c0 + 1 if fc > 0.0 else c0
    if nodata_mask[r0, c0] or nodata_mask[r0, c1] or nodata_mask[r1, c0] or nodata_mask[r1, c1]:
        return 0.0, False
    a00 = float(elevation_m[r0, c0]) - z_ref_m
    a01 = float(elevation_m[r0, c1]) - z_ref_m
    a10 = float(elevation_m[r1, c0]) - z_ref_m
    a11 = float(elevation_m[r1, c1]) - z_ref_m
    top = a00 + fc * (a01 - a00)
    bot = a10 + fc * (a11 - a10)
    return top + fr * (bot - top), True


def _inside(elevation_m, row, col):
    n_rows, n_cols = elevation_m.shape
    return -0.5 <= row <= n_rows - 0.5 and -0.5 <= col <= n_cols - 0.5


_ATAN_COEFFS = (0.9998660, -0.3302995, 0.1801410, -0.0851330, 0.0208351)


def approx_azimuth(east, north):
    """The kernel's fast azimuth (clockwise from north, radians), in the same operation order."""
    c1, c3, c5, c7, c9 = _ATAN_COEFFS
    ax, ay = abs(east), abs(north)
    if ax <= ay:
        t = ax / ay
        t2 = t * t
        a = t * (c1 + t2 * (c3 + t2 * (c5 + t2 * (c7 + t2 * c9))))
    else:
        t = ay / ax
        t2 = t * t
        a = 0.5 * math.pi - t * (c1 + t2 * (c3 + t2 * (c5 + t2 * (c7 + t2 * c9))))
    if east >= 0.0:
        return a if north >= 0.0 else math.pi - a
    return math.pi + a if north < 0.0 else TWO_PI - a


def ring_level(n_radials, n_levels, ring, step_cells):
    """Coarsest radial level whose radials are within half a cell one step past ``ring``."""
    level = n_levels - 1
    while level > 0 and (n_radials >> level) < TWO_PI * (ring + 1) * step_cells / 0.5:
        level -= 1
    return level


def horizon_between(h0, h1, w):
    """Linear in azimuth; the nearer side when the other has no terrain yet (-inf)."""
    if h0 == h1:
        return h0
    if math.isinf(h0) or math.isinf(h1):
        return h0 if w < 0.5 else h1
    return h0 + w * (h1 - h0)


def radial_sweep(
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
    *,
    with_tangent=False,
):
    """Same arguments and result as ``_kernels.los_radial_sweep``, written the slow way.

    Every ring's horizons are kept (a list of arrays indexed by radial), then the cells are
    visited in plain row order. ``check_nodata`` is accepted for the same signature; the mask
    is always consulted here. ``with_tangent=True`` adds a third result, the float32
    ``max(horizon, target)`` tangent of ``_kernels.los_radial_sweep_tangent``.
    """
    n_steps = math.ceil(radius_m / res_m / step_cells) + 1
    directions = [
        (-math.cos(TWO_PI * i / n_radials), math.sin(TWO_PI * i / n_radials))
        for i in range(n_radials)
    ]
    horizon = np.full(n_radials, -math.inf)
    stopped = np.zeros(n_radials, dtype=bool)
    level = n_levels - 1
    rings, levels = [], []
    for s in range(n_steps):
        new_level = ring_level(n_radials, n_levels, s, step_cells)
        while level > new_level:  # each joining radial starts from its neighbours' mean
            level -= 1
            stride = 1 << level
            for i in range(stride, n_radials, 2 * stride):
                horizon[i] = 0.5 * (horizon[i - stride] + horizon[(i + stride) % n_radials])
        if s > 0:
            dist_cells = s * step_cells
            d_m = dist_cells * res_m
            for i in range(0, n_radials, 1 << level):
                if stopped[i]:
                    continue
                d_row, d_col = directions[i]
                r = row0 + dist_cells * d_row
                c = col0 + dist_cells * d_col
                if not _inside(elevation_m, r, c):
                    stopped[i] = True
                    continue
                dz, ok = bilinear_rel(elevation_m, nodata_mask, r, c, z_obs_m)
                if ok:
                    tan = dz * (1.0 / d_m) - d_m * inv_two_ae_per_m
                    horizon[i] = max(horizon[i], tan)
        rings.append(horizon.copy())
        levels.append(level)

    visible = np.zeros((win_rows, win_cols), dtype=np.uint8)
    distance_m = np.full((win_rows, win_cols), np.nan, dtype=np.float32)
    tangent = np.full((win_rows, win_cols), np.nan, dtype=np.float32)
    own = (math.floor(row0 + 0.5), math.floor(col0 + 0.5))
    for wr in range(win_rows):
        for wc in range(win_cols):
            r, c = row_off + wr, col_off + wc
            d_row, d_col = r - row0, c - col0
            dist_cells = math.sqrt(d_row * d_row + d_col * d_col)
            d_m = dist_cells * res_m
            if (r, c) == own:  # nothing is closer than its centre: the target alone
                visible[wr, wc] = 1
                distance_m[wr, wc] = d_m
                dz = float(elevation_m[r, c]) - z_obs_m + rx_height_agl_m
                if d_m == 0.0:
                    tangent[wr, wc] = math.inf if dz > 0.0 else -math.inf
                else:
                    tangent[wr, wc] = dz * (1.0 / d_m) - d_m * inv_two_ae_per_m
                continue
            if d_m > radius_m or nodata_mask[r, c]:
                continue
            distance_m[wr, wc] = d_m
            k = min(max(math.ceil(dist_cells * (1.0 / step_cells) - 1e-9) - 1, 0), n_steps - 1)
            lv = levels[k]
            n_lv = n_radials >> lv
            pos = approx_azimuth(d_col, -d_row) * (n_lv / TWO_PI)
            j0 = math.floor(pos)
            w = pos - j0
            j0 %= n_lv
            j1 = (j0 + 1) % n_lv
            limit = horizon_between(rings[k][j0 << lv], rings[k][j1 << lv], w)
            dz = float(elevation_m[r, c]) - z_obs_m + rx_height_agl_m
            tan = dz * (1.0 / d_m) - d_m * inv_two_ae_per_m
            visible[wr, wc] = tan >= limit
            tangent[wr, wc] = max(tan, limit)
    if with_tangent:
        return visible, distance_m, tangent
    return visible, distance_m


def _bilinear_rel_many(elevation_m, nodata_mask, rows, cols, z_ref_m):
    """Vectorised :func:`bilinear_rel` for arrays of positions; (values, ok)."""
    n_rows, n_cols = elevation_m.shape
    rc = np.clip(rows, 0.0, n_rows - 1.0)
    cc = np.clip(cols, 0.0, n_cols - 1.0)
    r0 = np.floor(rc).astype(np.int64)
    c0 = np.floor(cc).astype(np.int64)
    fr = rc - r0
    fc = cc - c0
    r1 = np.where(fr > 0.0, r0 + 1, r0)
    c1 = np.where(fc > 0.0, c0 + 1, c0)
    ok = ~(nodata_mask[r0, c0] | nodata_mask[r0, c1] | nodata_mask[r1, c0] | nodata_mask[r1, c1])
    z = elevation_m.astype(np.float64)
    a00 = z[r0, c0] - z_ref_m
    a01 = z[r0, c1] - z_ref_m
    a10 = z[r1, c0] - z_ref_m
    a11 = z[r1, c1] - z_ref_m
    top = a00 + fc * (a01 - a00)
    bot = a10 + fc * (a11 - a10)
    return top + fr * (bot - top), ok


def exact_los(
    elevation_m,
    nodata_mask,
    row0,
    col0,
    z_obs_m,
    rx_height_agl_m,
    res_m,
    radius_m,
    inv_two_ae_per_m,
    *,
    fine_step_cells=0.1,
):
    """Visibility of every cell by its own straight sight line; full-grid bool array.

    For a cell at distance ``d`` (cell centre), terrain is sampled every ``fine_step_cells``
    along the segment observer -> cell centre, strictly between the two, with the same bilinear
    interpolation and effective-earth drop as the kernel. The cell is visible when no sample
    rises above the sight line to a point ``rx_height_agl_m`` above the cell. Samples touching
    nodata are skipped; nodata cells and cells beyond ``radius_m`` are not visible; the
    observer's own cell is visible.
    """
    n_rows, n_cols = elevation_m.shape
    out = np.zeros((n_rows, n_cols), dtype=bool)
    own = (math.floor(row0 + 0.5), math.floor(col0 + 0.5))
    for r in range(n_rows):
        for c in range(n_cols):
            if (r, c) == own:
                out[r, c] = True
                continue
            d_row, d_col = r - row0, c - col0
            dist_cells = math.hypot(d_row, d_col)
            d_m = dist_cells * res_m
            if d_m > radius_m or nodata_mask[r, c]:
                continue
            target = (
                float(elevation_m[r, c]) - z_obs_m + rx_height_agl_m - d_m * d_m * inv_two_ae_per_m
            ) / d_m
            t = np.arange(1, math.ceil(dist_cells / fine_step_cells)) * fine_step_cells
            t = t[t < dist_cells]
            if t.size == 0:
                out[r, c] = True
                continue
            dz, ok = _bilinear_rel_many(
                elevation_m,
                nodata_mask,
                row0 + d_row * t / dist_cells,
                col0 + d_col * t / dist_cells,
                z_obs_m,
            )
            s_m = t * res_m
            tan = (dz - s_m * s_m * inv_two_ae_per_m) / s_m
            out[r, c] = not np.any(ok & (tan > target))
    return out


NODATA_SAMPLE_M = -1.0e6
"""Height given to a profile sample touching nodata: it never sets the horizon (as the kernel
skips such samples)."""


def profile_elevation_angle_deg(
    elevation_m,
    nodata_mask,
    row0,
    col0,
    z_obs_m,
    rx_height_agl_m,
    res_m,
    radius_m,
    k_factor,
    row_off,
    col_off,
    win_rows,
    win_cols,
):
    """Path elevation angle of every window cell from its own straight profile; float64 degrees.

    The profile of a cell ``d`` cells away has ``n = ceil(d)`` intervals of ``d / n`` cells (the
    straight path sampled at the DEM resolution), heights interpolated bilinearly between cell
    centres; the last point is the cell centre (its own elevation). Samples touching nodata
    get :data:`NODATA_SAMPLE_M`. The angle is
    :func:`blankspot.propagation.antenna.elevation_angle_deg` of that profile, with the
    antenna top at ``z_obs_m`` and the receiver ``rx_height_agl_m`` above the cell. NaN beyond
    ``radius_m`` and on nodata; -90 (or 90) on a cell whose centre is the site.
    """
    out = np.full((win_rows, win_cols), np.nan)
    own = (math.floor(row0 + 0.5), math.floor(col0 + 0.5))
    for wr in range(win_rows):
        for wc in range(win_cols):
            r, c = row_off + wr, col_off + wc
            d_row, d_col = r - row0, c - col0
            dist_cells = math.hypot(d_row, d_col)
            d_m = dist_cells * res_m
            if (r, c) != own and (d_m > radius_m or nodata_mask[r, c]):
                continue
            if dist_cells == 0.0:
                above = float(elevation_m[r, c]) + rx_height_agl_m > z_obs_m
                out[wr, wc] = 90.0 if above else -90.0
                continue
            n = max(1, math.ceil(dist_cells - 1e-9))
            heights = [0.0]  # the site's ground: not used by elevation_angle_deg
            for i in range(1, n + 1):
                t = i / n
                z, ok = bilinear_rel(elevation_m, nodata_mask, row0 + t * d_row, col0 + t * d_col,
                                     0.0)  # fmt: skip
                heights.append(z if ok else NODATA_SAMPLE_M)
            heights[-1] = float(elevation_m[r, c])
            out[wr, wc] = elevation_angle_deg(
                z_obs_m, heights, d_m / n, k_factor, rx_height_agl_m=rx_height_agl_m
            )
    return out
