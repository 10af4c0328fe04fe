"""numba kernels of the radial coverage engine: ITM and P.1812 path loss for every cell of a disc.

No CRS, geometry, I/O, logging or warnings here; :mod:`blankspot.propagation.radial` validates
and wraps. The slow twins are in ``tests/reference/radial.py``.

How one site is computed
------------------------
1. **Cells to radials.** Every data cell of the window within the radius is given its nearest
   radial (azimuth ``2*pi*i/n_radials`` clockwise from grid north) and its ring
   ``k = ceil(d) - 1`` (``d`` the distance in cells): the number of terrain samples strictly
   closer to the site than the cell centre. Cells are sorted by radial, then by ring
   (:func:`assign_cells`).
2. **One profile per radial.** Each radial is sampled once, every cell length, with bilinear
   interpolation between cell centres (the LOS kernel's rule), out to the farthest ring any of
   its cells needs. The radial stops at the grid edge or at the first sample touching nodata.
3. **One path per cell.** The path from the site to a cell has ``n = ceil(d)`` intervals of
   ``xi = d_m / n`` metres, the shape of the straight profile "sampled at the DEM resolution".
   Its first height is the site's ground elevation and its last the cell's own. The
   intermediate heights ``j >= j0 = max(1, n - near_cells + 1)`` (the last ``near_cells`` cells
   before the receiver) are sampled bilinearly on the straight line at ``j * d / n`` cells (the
   "tail"). Those below ``j0`` are the nearest radial's samples ``j`` cells out, at most half a
   cell to the side and one cell along the path from the exact points. The receiver end is where
   ITM and P.1812 are sensitive to such offsets, which is why the tail is exact.
4. **Statistics reused along the radial**, so a cell costs about one evaluation of the model's
   closed-form part plus O(``near_cells``) for its tail, independent of the path length:

   - sums and moments of the heights as prefix sums (ITM's mean path height and least-squares
     terrain fits, P.1812's smooth-earth surface) in O(1);
   - transmitter-side horizons as running maxima (first occurrence, as ITM and P.1812 search);
   - receiver-side horizons as the tangent from the receiver to the upper convex hull of the
     curvature-corrected heights ``y_j = h_j - x_j**2 / (2 a)``, kept incrementally (samples up
     to ``j0 - 1``) and queried by binary search;
   - both computed with the radial's sample spacing and one effective earth radius per radial;
     the winning sample is then evaluated again with the cell's exact spacing and radius (and,
     for the receiver side, its two hull neighbours too), so only a near tie between two
     samples can resolve differently from the direct search. The tail is searched directly.
   - ITM's terrain irregularity Δh (``ComputeDeltaH``: the span resampled to ``10 p10 - 5 <=
     245`` points, a line fit and the interdecile range of the residuals) is the one statistic
     of the whole profile that cannot be updated incrementally. With ``dh_every > 0`` it is
     computed exactly (on the radial's own profile) at anchor rings: every ring up to
     ``dh_every``, then every ``ring // dh_every`` rings, and the last. Between them it is
     interpolated linearly in distance. With ``dh_every == 0``, and for every path of at most
     ``near_cells`` intervals, it is computed exactly on the cell's path.
   - P.1812's largest diffraction parameter ν on line-of-sight paths is a full scan of the path
     (the one O(n) step left, for line-of-sight cells only); on the smooth-earth profile ν is
     unimodal and found by binary search. The terrain roughness h_m between the two horizons is
     a plain scan too.

Structure
---------
Each model has one sweep body (:func:`_itm_sweep`, :func:`_p1812_sweep`), inlined into two
entry points: ``itm_sweep`` / ``p1812_sweep`` compiled serial, and ``*_parallel`` compiled with
``parallel=True``, where the ``prange`` over radials is spread over numba's thread pool (radials
write disjoint cells, so both give the same result bit for bit). Inputs travel as records
(:class:`SweepGrid`, :class:`SweepSite`, :class:`ItmSweepParams`, :class:`P1812SweepParams`);
a cell's closed-form model steps come from the kernel modules of the point-to-point models
(:mod:`~blankspot.propagation._itm_kernels`, :mod:`~blankspot.propagation._p1812_kernels`), so
the radial engine and the single-profile functions share one implementation of each formula.

Units: metres, MHz (ITM) or GHz (P.1812), dB. Heights are above the DEM datum.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from numba import njit, prange

import blankspot.propagation._itm_kernels as _itm
import blankspot.propagation._p1812_kernels as _p1812
from blankspot.propagation._kernels import F32, F64, TWO_PI, Heights, Mask, approx_azimuth
from blankspot.propagation.diffraction import _knife_edge_approx_db as knife_edge_db
from blankspot.units import EARTH_RADIUS_KM, EARTH_RADIUS_M

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]


# =================================================================================================
# Parameter records (numba passes them as one struct; fields are read by name)
# =================================================================================================


class SweepGrid(NamedTuple):
    """The terrain grid: elevation (metres, C-contiguous), nodata mask, and whether the mask
    needs checking (False only when it is all False within a cell of the window)."""

    elevation_m: Heights
    nodata_mask: Mask
    check_nodata: bool


class SweepSite(NamedTuple):
    """Where and how far one sweep runs, in grid cells and metres.

    Site at fractional (``row0``, ``col0``) with ground ``z0_m`` and antenna ``h_tx_m`` above
    it; receivers ``h_rx_m`` above their cell; cell size ``res_m``; ``radius_m``;
    ``n_radials`` radials; window origin (``row_off``, ``col_off``) and shape (``win_rows``,
    ``win_cols``); the last ``near_cells`` cells of each path sampled on the straight line.
    """

    row0: float
    col0: float
    z0_m: float
    h_tx_m: float
    h_rx_m: float
    res_m: float
    radius_m: float
    n_radials: int
    row_off: int
    col_off: int
    win_rows: int
    win_cols: int
    near_cells: int


class ItmSweepParams(NamedTuple):
    """ITM's inputs to a sweep: frequency (MHz), climate, N_0, polarisation (0 horizontal, 1
    vertical), ground, variability mode and percentages; ``dh_every`` sets the Δh anchors (0:
    exact Δh for every cell); a finite ``cut_db`` with ``headroom_db`` enables the knife-edge
    prefilter (:func:`itm_loss_floor_db`). ``sweep_k`` 0 evaluates ITM at every cell (the exact
    sweep); above 0, segments of at most ``sweep_k`` cells between breakpoints are interpolated
    where their midpoint is within ``sweep_tol_db`` of the interpolation
    (:func:`_itm_radial_adaptive`)."""

    f_mhz: float
    climate: int
    n0: float
    pol: int
    epsilon: float
    sigma: float
    mdvar: int
    time_pct: float
    location_pct: float
    situation_pct: float
    dh_every: int
    cut_db: float
    headroom_db: float
    sweep_k: int
    sweep_tol_db: float


class P1812SweepParams(NamedTuple):
    """P.1812's inputs to a sweep: frequency (GHz), time and location percentages,
    polarisation (1 horizontal, 2 vertical), path-centre latitude (degrees), ΔN (N-units/km),
    N_0, one radio-climatic zone (1 sea, 3 coastal land, 4 inland), distances to the coast (km)
    and σ_L (dB)."""

    f_ghz: float
    p_pct: float
    pol: int
    phi_deg: float
    delta_n: float
    n0: float
    zone: int
    dct_km: float
    dcr_km: float
    pl_pct: float
    sigma_l_db: float


class P1812Radial(NamedTuple):
    """One radial's P.1812 statistics (see :func:`p1812_cell_loss`)."""

    z: F64
    gr: F64
    p0: F64
    p1: F64
    arg_a: I64
    arg_b: I64
    arg_c: I64
    hull_a: I64
    hull_b: I64
    hull_c: I64
    hy_b: F64
    hy_c: F64
    inv_two_ae_m: float


# =================================================================================================
# Cells to radials
# =================================================================================================


@njit(nogil=True, cache=True)
def assign_cells(grid: SweepGrid, site: SweepSite) -> tuple[I32, I64]:
    """Window cells within the radius of the site, grouped for the sweep.

    Returns ``(cells, start)``: ``cells`` (int32) are flat window indices sorted by nearest
    radial and, within a radial, by ring (``ceil(d) - 1``, ``d`` the distance in cells);
    ``cells[start[i]:start[i + 1]]`` belong to radial ``i``. Nodata cells and a cell at distance
    0 (the site on its centre) are left out.
    """
    nodata_mask = grid.nodata_mask
    check_nodata = grid.check_nodata
    row0 = site.row0
    col0 = site.col0
    radius_cells = site.radius_m / site.res_m
    n_radials = site.n_radials
    row_off = site.row_off
    col_off = site.col_off
    win_rows = site.win_rows
    win_cols = site.win_cols
    n_all = win_rows * win_cols
    idx = np.empty(n_all, dtype=np.int32)
    rad = np.empty(n_all, dtype=np.int32)
    ring = np.empty(n_all, dtype=np.int32)
    scale = n_radials / TWO_PI
    m = 0
    n_rings = math.ceil(radius_cells) + 1
    for wr in range(win_rows):
        dr = row_off + wr - row0
        for wc in range(win_cols):
            dc = col_off + wc - col0
            d = math.sqrt(dr * dr + dc * dc)
            if d > radius_cells:
                continue
            if check_nodata and nodata_mask[row_off + wr, col_off + wc]:
                continue
            if d == 0.0:
                continue
            i = int(approx_azimuth(dc, -dr) * scale + 0.5)
            if i >= n_radials:
                i -= n_radials
            k = math.ceil(d - 1e-9) - 1
            k = min(max(k, 0), n_rings - 1)
            idx[m] = wr * win_cols + wc
            rad[m] = i
            ring[m] = k
            m += 1
    # stable counting sort by ring, then by radial: sorted by (radial, ring)
    count = np.zeros(n_rings + 1, dtype=np.int64)
    for t in range(m):
        count[ring[t] + 1] += 1
    for r in range(n_rings):
        count[r + 1] += count[r]
    tmp = np.empty(m, dtype=np.int32)
    for t in range(m):
        r = ring[t]
        tmp[count[r]] = t
        count[r] += 1
    start = np.zeros(n_radials + 1, dtype=np.int64)
    for t in range(m):
        start[rad[t] + 1] += 1
    for i in range(n_radials):
        start[i + 1] += start[i]
    pos = start[:-1].copy()
    cells = np.empty(m, dtype=np.int32)
    for u in range(m):
        t = tmp[u]
        i = rad[t]
        cells[pos[i]] = idx[t]
        pos[i] += 1
    return cells, start


# =================================================================================================
# One radial's profile and its running statistics
# =================================================================================================


@njit(nogil=True, cache=True)
def sample_radial(
    grid: SweepGrid, row0: float, col0: float, d_row: float, d_col: float, n_samples: int,
    z0_m: float, z: F64,
) -> int:  # fmt: skip
    """Fill ``z[0] = z0_m`` and ``z[j]``, the bilinear terrain ``j`` cells out, for ``j <= n``.

    Positions between the outermost cell centres and the grid edge clamp to the edge cells, as
    in the LOS sweep. Sampling stops before a position outside the grid or touching nodata.
    Returns the last valid sample index (0 if none).
    """
    elevation_m = grid.elevation_m
    nodata_mask = grid.nodata_mask
    check_nodata = grid.check_nodata
    n_rows, n_cols = elevation_m.shape
    z[0] = z0_m
    for j in range(1, n_samples + 1):
        r = row0 + j * d_row
        c = col0 + j * d_col
        if r < -0.5 or r > n_rows - 0.5 or c < -0.5 or c > n_cols - 0.5:
            return j - 1
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
            return j - 1
        a00 = np.float64(elevation_m[r0, c0])
        a01 = np.float64(elevation_m[r0, c1])
        a10 = np.float64(elevation_m[r1, c0])
        a11 = np.float64(elevation_m[r1, c1])
        top = a00 + fc * (a01 - a00)
        bot = a10 + fc * (a11 - a10)
        z[j] = top + fr * (bot - top)
    return n_samples


@njit(nogil=True, cache=True)
def sample_radial_nearest(
    values: Heights, row0: float, col0: float, d_row: float, d_col: float, n_samples: int,
    out: F64,
) -> None:  # fmt: skip
    """``out[j]`` = ``values`` of the cell containing the point ``j`` cells out (``out[0]`` too)."""
    n_rows, n_cols = values.shape
    for j in range(n_samples + 1):
        r = min(max(math.floor(row0 + j * d_row + 0.5), 0), n_rows - 1)
        c = min(max(math.floor(col0 + j * d_col + 0.5), 0), n_cols - 1)
        out[j] = values[r, c]


@njit(nogil=True, cache=True)
def prefix_sums(z: F64, n: int, p0: F64, p1: F64) -> None:
    """``p0[j] = sum(z[:j])`` and ``p1[j] = sum(i * z[i] for i < j)`` for ``j <= n + 1``."""
    p0[0] = 0.0
    p1[0] = 0.0
    for j in range(n + 1):
        p0[j + 1] = p0[j] + z[j]
        p1[j + 1] = p1[j] + j * z[j]


@njit(nogil=True, cache=True, inline="always")
def _zp(z: F64, j0: int, tail: F64, j: int) -> float:
    """Height ``j`` of a cell's path: radial sample ``j`` below ``j0``, else from ``tail``."""
    h: float = z[j] if j < j0 else tail[j - j0]
    return h


@njit(nogil=True, cache=True, inline="always")
def _sum0(p0: F64, j0: int, tp0: F64, a: int, b: int) -> float:
    """Sum of the path heights ``a..b`` (inclusive) from the radial and tail prefix sums."""
    total = 0.0
    if a < j0:
        total += p0[min(b, j0 - 1) + 1] - p0[a]
    if b >= j0:
        total += tp0[b - j0 + 1] - tp0[max(a, j0) - j0]
    return total


@njit(nogil=True, cache=True, inline="always")
def _sum1(p1: F64, j0: int, tp1: F64, a: int, b: int) -> float:
    """Sum of ``j * height_j`` over ``a..b`` (inclusive), as :func:`_sum0`."""
    total = 0.0
    if a < j0:
        total += p1[min(b, j0 - 1) + 1] - p1[a]
    if b >= j0:
        total += tp1[b - j0 + 1] - tp1[max(a, j0) - j0]
    return total


@njit(nogil=True, cache=True)
def tail_sums(tail: F64, j0: int, n_tail: int, tp0: F64, tp1: F64) -> None:
    """Prefix sums of the tail heights (path indices ``j0 .. j0 + n_tail - 1``)."""
    tp0[0] = 0.0
    tp1[0] = 0.0
    for t in range(n_tail):
        tp0[t + 1] = tp0[t] + tail[t]
        tp1[t + 1] = tp1[t] + (j0 + t) * tail[t]


@njit(nogil=True, cache=True)
def bilinear_at(grid: SweepGrid, r: float, c: float) -> float:
    """Bilinear height at fractional (``r``, ``c``), the rule of :func:`sample_radial`; NaN
    outside the grid or touching nodata."""
    elevation_m = grid.elevation_m
    nodata_mask = grid.nodata_mask
    check_nodata = grid.check_nodata
    n_rows, n_cols = elevation_m.shape
    if r < -0.5 or r > n_rows - 0.5 or c < -0.5 or c > n_cols - 0.5:
        return math.nan
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
        return math.nan
    a00 = np.float64(elevation_m[r0, c0])
    a01 = np.float64(elevation_m[r0, c1])
    a10 = np.float64(elevation_m[r1, c0])
    a11 = np.float64(elevation_m[r1, c1])
    top = a00 + fc * (a01 - a00)
    bot = a10 + fc * (a11 - a10)
    return top + fr * (bot - top)


@njit(nogil=True, cache=True)
def running_argmax(y: F64, n: int, ref: float, inv_two_a: float, argmax: I64) -> None:
    """``argmax[j]``: first ``i`` in ``1..j`` maximising ``(y[i] - ref) / i - i * inv_two_a``.

    The transmitter's horizon search over samples ``spacing`` apart: ``(y - ref) / (i * spacing)
    - i * spacing / (2 a)`` times ``spacing``, so ``inv_two_a = spacing**2 / (2 a)``; for every
    ``j <= n``, ``argmax[0] = 0``.
    """
    argmax[0] = 0
    best = -np.inf
    arg = 0
    for j in range(1, n + 1):
        t = (y[j] - ref) / j - j * inv_two_a
        if t > best:
            best = t
            arg = j
        argmax[j] = arg


@njit(nogil=True, cache=True, inline="always")
def hull_push(hull: I64, hn: int, hy: F64, j: int) -> int:
    """Append point ``(j, hy[j])`` to the upper hull ``hull[:hn]`` (x increasing); new length.

    Collinear middle points are dropped, so of several samples tied on a tangent the hull keeps
    the outermost two.
    """
    yj = hy[j]
    while hn >= 2:
        a = hull[hn - 2]
        b = hull[hn - 1]
        if (b - a) * (yj - hy[a]) - (hy[b] - hy[a]) * (j - a) >= 0.0:
            hn -= 1
        else:
            break
    hull[hn] = j
    return hn + 1


@njit(nogil=True, cache=True, inline="always")
def hull_tangent(hull: I64, hn: int, hy: F64, xr: float, yr: float) -> int:
    """Position in ``hull`` of the vertex seen highest from ``(xr, yr)``, right of every vertex.

    The vertex maximising ``(hy[j] - yr) / (xr - j)`` (the first of equals): binary search for
    the first edge no steeper than the line from its left vertex to the query point.
    """
    lo = 0
    hi = hn - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        a = hull[mid]
        b = hull[mid + 1]
        if (hy[b] - hy[a]) * (xr - a) <= (yr - hy[a]) * (b - a):
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(nogil=True, cache=True, inline="always")
def hull_support(hull: I64, hn: int, hy: F64, slope: float) -> int:
    """Position in ``hull`` of the vertex maximising ``hy[j] - slope * j``."""
    lo = 0
    hi = hn - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        a = hull[mid]
        b = hull[mid + 1]
        if hy[b] - hy[a] <= slope * (b - a):
            hi = mid
        else:
            lo = mid + 1
    return lo


# =================================================================================================
# ITM
# =================================================================================================


@njit(nogil=True, cache=True)
def _select(a: F64, lo: int, hi: int, kth: int) -> float:
    """``a[kth]`` after partially ordering ``a[lo:hi + 1]`` (Hoare quickselect, in place)."""
    while hi > lo:
        x = a[lo]
        y = a[(lo + hi) >> 1]
        w = a[hi]
        if x > y:
            x, y = y, x
        if y > w:
            y = w
            if x > y:
                y = x
        pivot = y
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            break
    value: float = a[kth]
    return value


@njit(nogil=True, cache=True)
def delta_h(
    z: F64, j0: int, tl: F64, n: int, xi: float, d_start: float, d_end: float, s: F64, diffs: F64
) -> float:
    """ITM's ``ComputeDeltaH`` on a cell's path (see :func:`_zp` for the heights).

    The same resampling, fit and interdecile range as ``_itm_kernels.compute_delta_h``, the two
    order statistics found by selection instead of a full sort; ``s`` and ``diffs`` are
    scratch arrays of at least 245 values. Returns Δh in metres.
    """
    x_start = d_start / xi
    x_end = d_end / xi
    if x_end - x_start < 2.0:
        return 0.0
    tail = tl[0]
    p10 = int(0.1 * (x_end - x_start + 8.0))
    p10 = min(max(4, p10), 25)
    n_s = 10 * p10 - 5
    p90 = n_s - p10
    last = float(n_s - 1)
    step = (x_end - x_start) / last
    i = int(x_start)
    x = x_start - (i + 1.0)
    for j in range(n_s):
        while x > 0.0 and i + 1 < n:
            x -= 1.0
            i += 1
        z1 = _zp(z, j0, tail, i + 1)
        s[j] = z1 + (z1 - _zp(z, j0, tail, i)) * x
        x += step
    y, y_end = _itm.least_squares_fit(s, n_s - 1, 1.0, 0.0, last)
    slope = (y_end - y) / last
    for j in range(n_s):
        diffs[j] = s[j] - y
        y += slope
    q10 = _select(diffs, 0, n_s - 1, n_s - p10)
    q90 = _select(diffs, 0, n_s - 1, n_s - 1 - p90)
    return (q10 - q90) / (1.0 - 0.8 * math.exp(-(d_end - d_start) / 50e3))


@njit(nogil=True, cache=True)
def least_squares_fit(
    p0: F64, p1: F64, z: F64, j0: int, tl: F64, n: int, xi: float, d_start: float, d_end: float
) -> tuple[float, float]:
    """ITM's trapezoid-weighted line fit between two distances, from prefix sums (O(1)).

    Same index rules as ``_itm_kernels.least_squares_fit``; returns the fitted heights at
    ``x = 0`` and ``x = n * xi``.
    """
    i_start, i_end = _itm.fit_span(n, xi, d_start, d_end)
    x_len = float(i_end - i_start)
    za = _zp(z, j0, tl[0], i_start)
    zb = _zp(z, j0, tl[0], i_end)
    t0 = _sum0(p0, j0, tl[1], i_start, i_end) - 0.5 * (za + zb)
    t1 = _sum1(p1, j0, tl[2], i_start, i_end) - 0.5 * (i_start * za + i_end * zb)
    mid = 0.5 * (i_start + i_end)
    sum_y = t0 / x_len
    scaled = (t1 - mid * t0) * 12.0 / ((x_len * x_len + 2.0) * x_len)
    return sum_y - scaled * mid, sum_y + scaled * (n - mid)


@njit(nogil=True, cache=True)
def itm_horizons(
    z: F64, p0: F64, j0: int, tl: F64, n: int, d: float, txarg: I64, hull: I64, hn: int,
    hy: F64, inv_two_a_ref_m: float, site: SweepSite, n0: float,
) -> tuple[float, float, float, float, float, float]:  # fmt: skip
    """Curvature and horizons of a cell's path, as ITM's ``FindHorizons`` finds them.

    Returns ``(gamma_e, n_s, theta_tx, theta_rx, d_hzn_tx_m, d_hzn_rx_m)``. The path has ``n``
    intervals; heights ``j < j0`` are radial samples, the others ``tl[0, j - j0]``.
    ``txarg[j0 - 1]`` is the radial's running horizon sample and ``hull[:hn]`` the upper hull
    of ``hy`` (the antenna top at index 0, then ``z[j] - (j * res_m)**2 * inv_two_a_ref_m``)
    over samples ``1..j0 - 1``.
    """
    tail = tl[0]
    res_m = site.res_m
    xi = d / n
    d = n * xi
    p10 = int(0.1 * n)
    h_sys = _sum0(p0, j0, tl[1], p10, n - p10) / (n - 2 * p10 + 1)
    n_s, gamma_e = _itm.surface_refractivity(n0, h_sys)
    two_a = 2.0 / gamma_e
    z_tx = z[0] + site.h_tx_m
    z_end = tail[n - j0]
    z_rx = z_end + site.h_rx_m
    th_tx = (z_rx - z_tx) / d - d / two_a
    th_rx = -(z_rx - z_tx) / d - d / two_a
    dh_tx = d
    dh_rx = d
    j_tx = 0
    j_rx = 0
    # transmitter side: the radial's running maximum, then the tail (first maximum wins)
    if j0 > 1:
        j = txarg[j0 - 1]
        dj = j * xi
        t = (z[j] - z_tx) / dj - dj / two_a
        if t > th_tx:
            th_tx = t
            dh_tx = dj
            j_tx = j
    for j in range(j0, n):
        dj = j * xi
        t = (tail[j - j0] - z_tx) / dj - dj / two_a
        if t > th_tx:
            th_tx = t
            dh_tx = dj
            j_tx = j
    # receiver side: tangent to the radial's hull (and its neighbours), then the tail
    if j0 > 1:
        dn = n * res_m
        q = hull_tangent(hull, hn, hy, float(n), z_rx - dn * dn * inv_two_a_ref_m)
        for qq in range(max(q - 1, 0), min(q + 2, hn)):
            j = hull[qq]
            if j == 0:
                continue
            dr = d - j * xi
            t = -(z_rx - z[j]) / dr - dr / two_a
            if t > th_rx:
                th_rx = t
                dh_rx = dr
                j_rx = j
    for j in range(j0, n):
        dr = d - j * xi
        t = -(z_rx - tail[j - j0]) / dr - dr / two_a
        if t > th_rx:
            th_rx = t
            dh_rx = dr
            j_rx = j
    # ITM accumulates its horizon distances (d_tx += xi, d_rx -= xi). Where they meet an
    # integer truncation exactly (the fit and Δh spans start or end on a sample at 0.1 or 0.9
    # of a horizon distance, or the 1.5 d test), repeat that sum so the rounding agrees.
    if j_tx > 0 or j_rx > 0:
        m_tx = j_tx if j_tx > 0 else n
        m_rx = n - j_rx if j_rx > 0 else n
        if (
            (j_tx > 0 and j_tx % 10 == 0)
            or (j_rx > 0 and m_rx % 10 == 0)
            or (2 * (m_tx + m_rx) == 3 * n)
        ):
            acc = 0.0
            for _ in range(j_tx):
                acc += xi
            if j_tx > 0:
                dh_tx = acc
            acc = d
            for _ in range(j_rx):
                acc -= xi
            if j_rx > 0:
                dh_rx = acc
    return gamma_e, n_s, th_tx, th_rx, dh_tx, dh_rx


@njit(nogil=True, cache=True)
def itm_cell_loss(
    z: F64, p0: F64, p1: F64, j0: int, tl: F64, n: int, d: float,
    horizons: tuple[float, float, float, float, float, float], delta_h_m: float, exact_dh: bool,
    s: F64, diffs: F64, site: SweepSite, params: ItmSweepParams, z_g: complex,
) -> float:  # fmt: skip
    """ITM basic transmission loss (dB) of one cell's path: ``quick_pfl`` then ``itm_core``.

    ``horizons`` is the tuple of :func:`itm_horizons`. With ``exact_dh`` the terrain
    irregularity is computed for this path, else ``delta_h_m`` is used. NaN on an ITM error.
    """
    loss: float = itm_cell_loss_mode(
        z, p0, p1, j0, tl, n, d, horizons, delta_h_m, exact_dh, s, diffs, site, params, z_g
    )[0]
    return loss


@njit(nogil=True, cache=True)
def itm_cell_loss_mode(
    z: F64, p0: F64, p1: F64, j0: int, tl: F64, n: int, d: float,
    horizons: tuple[float, float, float, float, float, float], delta_h_m: float, exact_dh: bool,
    s: F64, diffs: F64, site: SweepSite, params: ItmSweepParams, z_g: complex,
) -> tuple[float, int]:  # fmt: skip
    """:func:`itm_cell_loss` and ITM's propagation mode (1 line of sight, 2 diffraction, 3
    troposcatter; 0 on an error)."""
    h_tx_m = site.h_tx_m
    h_rx_m = site.h_rx_m
    gamma_e, n_s, th_tx, th_rx, dh_tx, dh_rx = horizons
    xi = d / n
    d = n * xi
    a_e = 1.0 / gamma_e
    z0 = z[0]
    z_end = tl[0, n - j0]
    d_start = min(15.0 * h_tx_m, 0.1 * dh_tx)
    d_end = d - min(15.0 * h_rx_m, 0.1 * dh_rx)
    if exact_dh:
        delta_h_m = delta_h(z, j0, tl, n, xi, d_start, d_end, s, diffs)
    if dh_tx + dh_rx > 1.5 * d:
        fit_tx, fit_rx = least_squares_fit(p0, p1, z, j0, tl, n, xi, d_start, d_end)
        th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx = _itm.smooth_earth_horizons(
            fit_tx, fit_rx, z0, z_end, h_tx_m, h_rx_m, delta_h_m, a_e, d
        )
    else:
        fit_tx = least_squares_fit(p0, p1, z, j0, tl, n, xi, d_start, 0.9 * dh_tx)[0]
        fit_rx = least_squares_fit(p0, p1, z, j0, tl, n, xi, d - 0.9 * dh_rx, d_end)[1]
        he_tx, he_rx = _itm.effective_heights(fit_tx, fit_rx, z0, z_end, h_tx_m, h_rx_m)
    p = params
    loss, _a_ref, _a_fs, mode, _w, err = _itm.itm_core(
        th_tx, th_rx, dh_tx, dh_rx, he_tx, he_rx, delta_h_m, d, h_tx_m, h_rx_m, p.f_mhz, z_g,
        gamma_e, n_s, _itm.CALC_P2P, p.climate, p.mdvar, p.time_pct, p.location_pct,
        p.situation_pct,
    )  # fmt: skip
    if err != 0:
        return math.nan, 0
    return loss, mode


# =================================================================================================
# Walking one radial
# =================================================================================================


@njit(nogil=True, cache=True)
def _radial_setup(
    i: int, cells: I32, start: I64, grid: SweepGrid, site: SweepSite
) -> tuple[F64, int]:
    """Sample radial ``i`` as far as its cells need; ``(z, n_valid)`` (see :func:`sample_radial`)."""
    last_cell = cells[start[i + 1] - 1]
    d_last = _cell_distance(last_cell, site)[2]
    n_samp = math.ceil(d_last - 1e-9)
    az = TWO_PI * i / site.n_radials
    d_row = -math.cos(az)
    d_col = math.sin(az)
    z = np.empty(n_samp + 1)
    n_valid = sample_radial(grid, site.row0, site.col0, d_row, d_col, n_samp, site.z0_m, z)
    return z, n_valid


@njit(nogil=True, cache=True, inline="always")
def _cell_distance(cell: int, site: SweepSite) -> tuple[int, int, float]:
    """Window row and column of a flat window index, and its distance from the site in cells."""
    wr = cell // site.win_cols
    wc = cell - wr * site.win_cols
    dr = site.row_off + wr - site.row0
    dc = site.col_off + wc - site.col0
    return wr, wc, math.sqrt(dr * dr + dc * dc)


@njit(nogil=True, cache=True)
def _fill_tail(
    grid: SweepGrid, row0: float, col0: float, dr: float, dc: float, n: int, j0: int,
    z_end: float, tl: F64,
) -> bool:  # fmt: skip
    """Exact straight-line heights of path indices ``j0 .. n - 1`` and the cell's own, with their
    prefix sums, into ``tl``; False when one touches nodata or leaves the grid."""
    for j in range(j0, n):
        v = bilinear_at(grid, row0 + j * dr / n, col0 + j * dc / n)
        if math.isnan(v):
            return False
        tl[0, j - j0] = v
    tl[0, n - j0] = z_end
    tail_sums(tl[0], j0, n - j0 + 1, tl[1], tl[2])
    return True


@njit(nogil=True, cache=True)
def _itm_radial(
    i: int, cells: I32, start: I64, grid: SweepGrid, site: SweepSite, params: ItmSweepParams,
    z_g: complex, out: F32,
) -> None:  # fmt: skip
    """All cells of radial ``i``: sample, sweep the statistics, evaluate each cell into ``out``.

    With a finite ``params.cut_db``, a cell whose lower bound (:func:`itm_loss_floor_db`)
    exceeds it is left NaN without a model call.
    """
    a = start[i]
    b = start[i + 1]
    if a == b:
        return
    elevation_m = grid.elevation_m
    row0 = site.row0
    col0 = site.col0
    h_tx_m = site.h_tx_m
    h_rx_m = site.h_rx_m
    res_m = site.res_m
    row_off = site.row_off
    col_off = site.col_off
    near_cells = site.near_cells
    n0 = params.n0
    dh_every = params.dh_every
    cut_db = params.cut_db
    headroom_db = params.headroom_db
    z, n_valid = _radial_setup(i, cells, start, grid, site)
    p0 = np.empty(n_valid + 2)
    p1 = np.empty(n_valid + 2)
    prefix_sums(z, n_valid, p0, p1)
    # one reference earth radius per radial, from the mean height of its whole profile
    p10 = int(0.1 * n_valid)
    h_ref = (p0[n_valid - p10 + 1] - p0[p10]) / (n_valid - 2 * p10 + 1)
    inv_two_a_ref = 0.5 * _itm.surface_refractivity(n0, h_ref)[1]
    z_tx = site.z0_m + h_tx_m
    txarg = np.empty(n_valid + 1, dtype=np.int64)
    running_argmax(z, n_valid, z_tx, res_m * res_m * inv_two_a_ref, txarg)
    hy = np.empty(n_valid + 1)
    hy[0] = z_tx
    for j in range(1, n_valid + 1):
        dj = j * res_m
        hy[j] = z[j] - dj * dj * inv_two_a_ref
    hull = np.empty(n_valid + 1, dtype=np.int64)
    s = np.empty(245)
    diffs = np.empty(245)
    tl = np.empty((3, near_cells + 2))
    anchored = dh_every > 0

    # Δh anchors, computed on demand by walk 2 (cells the prefilter skips never ask, so a
    # radial whose far part is all shadow computes no anchors there): exact Δh at anchor
    # rings, each anchor sample taken as the receiver, with its own hull of the samples before
    dh_ring = np.zeros(n_valid + 1)
    hull_a = np.empty(n_valid + 1, dtype=np.int64)
    hull_a[0] = 0
    ast = np.array([1, 0, 1, 0], dtype=np.int64)  # hull length, previous, next, done anchor

    # walk 2: the cells, in ring order
    hull[0] = 0
    hn = 1
    pushed = 0
    prefilter = cut_db < math.inf
    lam_m = 299.792458 / params.f_mhz
    fs0_db = 32.45 + 20.0 * math.log10(params.f_mhz) - 60.0
    for t in range(a, b):
        cell = cells[t]
        wr, wc, d_cells = _cell_distance(cell, site)
        n = math.ceil(d_cells - 1e-9)
        j0 = max(1, n - near_cells + 1)
        if j0 - 1 > n_valid:
            break
        r = row_off + wr
        c = col_off + wc
        while pushed < j0 - 1:
            pushed += 1
            hn = hull_push(hull, hn, hy, pushed)
        if prefilter and j0 > 1:
            d_m = d_cells * res_m
            z_rx = elevation_m[r, c] + h_rx_m
            if _beyond_cut(z, txarg, j0, hull, hn, hy, res_m, d_m, z_tx, z_rx, inv_two_a_ref,
                           lam_m, fs0_db, headroom_db, cut_db):  # fmt: skip
                continue
        exact_dh = not anchored or n <= near_cells
        # (before the cell's tail: the anchors use tl as scratch)
        if not exact_dh:
            _dh_anchors_to(
                n, z, p0, n_valid, txarg, hy, inv_two_a_ref, hull_a, ast, dh_ring, s, diffs,
                tl, site, params,
            )  # fmt: skip
        if not _fill_tail(
            grid, row0, col0, r - row0, c - col0, n, j0, np.float64(elevation_m[r, c]), tl
        ):
            continue
        d = d_cells * res_m
        hz = itm_horizons(z, p0, j0, tl, n, d, txarg, hull, hn, hy, inv_two_a_ref, site, n0)
        dh = 0.0
        if not exact_dh:
            if n <= n_valid:
                dh = dh_ring[n - 1] + (d_cells - (n - 1)) * (dh_ring[n] - dh_ring[n - 1])
            else:
                dh = dh_ring[n_valid]
        out[wr, wc] = itm_cell_loss(
            z, p0, p1, j0, tl, n, d, hz, dh, exact_dh, s, diffs, site, params, z_g
        )


@njit(nogil=True, cache=True)
def _dh_anchors_to(
    n: int, z: F64, p0: F64, n_valid: int, txarg: I64, hy: F64, inv_two_a_ref: float,
    hull_a: I64, ast: I64, dh_ring: F64, s: F64, diffs: F64, tl: F64, site: SweepSite,
    params: ItmSweepParams,
) -> None:  # fmt: skip
    """Compute the Δh anchors of a radial on demand, up to ring ``min(n, n_valid)``.

    The anchor walk of :func:`_itm_radial` (the same anchors, values and linear interpolation
    into ``dh_ring``), its state kept in ``ast`` = (hull length, previous anchor, next anchor,
    last anchor done) so that several walkers of one radial share it; ``tl`` is scratch.
    """
    res_m = site.res_m
    dh_every = params.dh_every
    hn_a = ast[0]
    a_prev = ast[1]
    a_next = ast[2]
    a_done = ast[3]
    while a_done < min(n, n_valid):
        s_a = a_next
        d_a = s_a * res_m
        tl[0, 0] = z[s_a]
        tail_sums(tl[0], s_a, 1, tl[1], tl[2])
        hz = itm_horizons(
            z, p0, s_a, tl, s_a, d_a, txarg, hull_a, hn_a, hy, inv_two_a_ref, site, params.n0
        )
        d_start = min(15.0 * site.h_tx_m, 0.1 * hz[4])
        d_end = d_a - min(15.0 * site.h_rx_m, 0.1 * hz[5])
        dh_ring[s_a] = delta_h(z, s_a, tl, s_a, res_m, d_start, d_end, s, diffs)
        for q in range(a_prev + 1, s_a):  # linear between anchors
            w = (q - a_prev) / (s_a - a_prev)
            dh_ring[q] = dh_ring[a_prev] + w * (dh_ring[s_a] - dh_ring[a_prev])
        a_done = s_a
        if s_a == n_valid:
            break
        nxt = min(s_a + max(1, s_a // dh_every), n_valid)
        for j in range(s_a, nxt):
            hn_a = hull_push(hull_a, hn_a, hy, j)
        a_prev = s_a
        a_next = nxt
    ast[0] = hn_a
    ast[1] = a_prev
    ast[2] = a_next
    ast[3] = a_done


class _ItmRadial(NamedTuple):
    """One radial's ITM statistics, shared by the walkers of :func:`_itm_radial_adaptive`."""

    z: F64
    p0: F64
    p1: F64
    n_valid: int
    txarg: I64
    hy: F64
    inv_two_a_ref: float
    hull_a: I64
    ast: I64
    dh_ring: F64
    s: F64
    diffs: F64
    tl: F64


@njit(nogil=True, cache=True)
def _itm_walker_cell(
    cell: int, rad: _ItmRadial, hull: I64, hw: I64, grid: SweepGrid, site: SweepSite,
    params: ItmSweepParams, z_g: complex,
) -> tuple[float, int]:  # fmt: skip
    """ITM loss and mode of one cell, as :func:`_itm_radial` computes it, by a walker whose
    upper hull ``hull`` (length ``hw[0]``, samples pushed ``hw[1]``) only moves outwards."""
    z = rad.z
    n_valid = rad.n_valid
    hy = rad.hy
    tl = rad.tl
    res_m = site.res_m
    wr, wc, d_cells = _cell_distance(cell, site)
    n = math.ceil(d_cells - 1e-9)
    j0 = max(1, n - site.near_cells + 1)
    hn = hw[0]
    pushed = hw[1]
    while pushed < j0 - 1:
        pushed += 1
        hn = hull_push(hull, hn, hy, pushed)
    hw[0] = hn
    hw[1] = pushed
    exact_dh = params.dh_every <= 0 or n <= site.near_cells
    if not exact_dh:
        _dh_anchors_to(
            n, z, rad.p0, n_valid, rad.txarg, hy, rad.inv_two_a_ref, rad.hull_a, rad.ast,
            rad.dh_ring, rad.s, rad.diffs, tl, site, params,
        )  # fmt: skip
    r = site.row_off + wr
    c = site.col_off + wc
    row0 = site.row0
    col0 = site.col0
    z_end = np.float64(grid.elevation_m[r, c])
    if not _fill_tail(grid, row0, col0, r - row0, c - col0, n, j0, z_end, tl):
        return math.nan, 0
    d = d_cells * res_m
    hz = itm_horizons(
        z, rad.p0, j0, tl, n, d, rad.txarg, hull, hn, hy, rad.inv_two_a_ref, site, params.n0
    )
    dh = 0.0
    if not exact_dh:
        dh_ring = rad.dh_ring
        if n <= n_valid:
            dh = dh_ring[n - 1] + (d_cells - (n - 1)) * (dh_ring[n] - dh_ring[n - 1])
        else:
            dh = dh_ring[n_valid]
    return itm_cell_loss_mode(
        z, rad.p0, rad.p1, j0, tl, n, d, hz, dh, exact_dh, rad.s, rad.diffs, site, params, z_g
    )


ADAPTIVE_K_MIN = 4
"""The shortest segment :func:`_itm_radial_adaptive` checks by its midpoint (shorter ones are
computed cell by cell)."""


SHADOW_MARGIN_DB = 10.0
"""Adaptive ITM sweep with a finite ``cut_db``: a segment whose ends and midpoint all exceed
``cut_db`` by more than this is left NaN inside (beyond the cut-off, as the prefilter leaves a
cell)."""


@njit(nogil=True, cache=True)
def _itm_radial_adaptive(
    i: int, cells: I32, start: I64, grid: SweepGrid, site: SweepSite, params: ItmSweepParams,
    z_g: complex, out: F32,
) -> None:  # fmt: skip
    """All cells of radial ``i``, ITM evaluated at breakpoints and checked segments only.

    1. **Breakpoints.** One pass over the radial's cells (in ring order) applies the knife-edge
       prefilter exactly as :func:`_itm_radial` does and gives each remaining cell a key: -1
       when the radial's transmitter horizon up to the cell (``txarg``) does not rise above the
       line to the receiver, else the pair (that horizon sample, the receiver-side horizon
       vertex of the radial's hull up to the cell). A run is a stretch of consecutive cells
       with one key; a skipped cell (or one whose path touches nodata) ends a run, and every
       path of at most ``near_cells`` intervals is a run of its own (computed exactly). The
       Δh anchors do not cut runs: Δh is linear in distance between them, so the loss only
       bends there, and cutting at them (every ring near the site, every 20 rings at 30 km on
       90 m cells) left no run long enough to interpolate.
    2. **Segments.** In each run ITM is evaluated at both ends, and the run is cut into
       segments of at most ``k`` cells (``k`` starts at ``params.sweep_k``). A segment's
       midpoint is evaluated too; when the three share ITM's mode and the midpoint lies within
       ``params.sweep_tol_db`` of the line through the ends, the cells of each half are
       interpolated linearly in log-distance between their evaluated ends, and ``k`` doubles
       (up to ``sweep_k``); otherwise every cell of the segment is evaluated, and ``k`` halves
       (down to :data:`ADAPTIVE_K_MIN`).

    Evaluated cells get the exact sweep's value bit for bit: three walkers (the breakpoint
    pass, the ends and midpoints, the cells of failed segments) each keep their own upper hull,
    which only ever moves outwards, and share the radial's Δh anchors.
    """
    a = start[i]
    b = start[i + 1]
    if a == b:
        return
    elevation_m = grid.elevation_m
    res_m = site.res_m
    h_rx_m = site.h_rx_m
    near_cells = site.near_cells
    n0 = params.n0
    cut_db = params.cut_db
    headroom_db = params.headroom_db
    k_max = max(params.sweep_k, ADAPTIVE_K_MIN)
    tol_db = params.sweep_tol_db
    z, n_valid = _radial_setup(i, cells, start, grid, site)
    p0 = np.empty(n_valid + 2)
    p1 = np.empty(n_valid + 2)
    prefix_sums(z, n_valid, p0, p1)
    p10 = int(0.1 * n_valid)
    h_ref = (p0[n_valid - p10 + 1] - p0[p10]) / (n_valid - 2 * p10 + 1)
    inv_two_a_ref = 0.5 * _itm.surface_refractivity(n0, h_ref)[1]
    z_tx = site.z0_m + site.h_tx_m
    txarg = np.empty(n_valid + 1, dtype=np.int64)
    running_argmax(z, n_valid, z_tx, res_m * res_m * inv_two_a_ref, txarg)
    hy = np.empty(n_valid + 1)
    hy[0] = z_tx
    for j in range(1, n_valid + 1):
        dj = j * res_m
        hy[j] = z[j] - dj * dj * inv_two_a_ref
    hull_a = np.empty(n_valid + 1, dtype=np.int64)
    hull_a[0] = 0
    ast = np.array([1, 0, 1, 0], dtype=np.int64)
    rad = _ItmRadial(
        z, p0, p1, n_valid, txarg, hy, inv_two_a_ref, hull_a, ast, np.zeros(n_valid + 1),
        np.empty(245), np.empty(245), np.empty((3, near_cells + 2)),
    )  # fmt: skip

    # 1. breakpoints: prefilter and keys, one walker with the prefilter's hull (samples before
    # the tail) and one with the radial's hull up to the sample before the cell
    m = b - a
    live = np.zeros(m, dtype=np.bool_)
    key = np.empty(m, dtype=np.int64)
    x_log = np.empty(m)
    hull_p = np.empty(n_valid + 1, dtype=np.int64)
    hull_k = np.empty(n_valid + 1, dtype=np.int64)
    hull_p[0] = 0
    hull_k[0] = 0
    hn_p = 1
    hn_k = 1
    pushed_p = 0
    pushed_k = 0
    prefilter = cut_db < math.inf
    lam_m = 299.792458 / params.f_mhz
    fs0_db = 32.45 + 20.0 * math.log10(params.f_mhz) - 60.0
    tl = rad.tl
    m_end = m
    for u in range(m):
        cell = cells[a + u]
        wr, wc, d_cells = _cell_distance(cell, site)
        n = math.ceil(d_cells - 1e-9)
        j0 = max(1, n - near_cells + 1)
        if j0 - 1 > n_valid:
            m_end = u
            break
        r = site.row_off + wr
        c = site.col_off + wc
        d_m = d_cells * res_m
        z_rx = elevation_m[r, c] + h_rx_m
        while pushed_p < j0 - 1:
            pushed_p += 1
            hn_p = hull_push(hull_p, hn_p, hy, pushed_p)
        if prefilter and j0 > 1 and _beyond_cut(
            z, txarg, j0, hull_p, hn_p, hy, res_m, d_m, z_tx, z_rx, inv_two_a_ref, lam_m, fs0_db,
            headroom_db, cut_db,
        ):  # fmt: skip
            continue
        if grid.check_nodata and not _fill_tail(
            grid, site.row0, site.col0, r - site.row0, c - site.col0, n, j0, 0.0, tl
        ):
            continue
        live[u] = True
        x_log[u] = math.log(d_m)
        if n <= near_cells:
            key[u] = -2 - u  # a run of its own
            continue
        jn = min(n - 1, n_valid)
        while pushed_k < jn:
            pushed_k += 1
            hn_k = hull_push(hull_k, hn_k, hy, pushed_k)
        jt = txarg[jn]
        t_los = (z_rx - z_tx) / d_m - d_m * inv_two_a_ref
        dj = jt * res_m
        if jt == 0 or (z[jt] - z_tx) / dj - dj * inv_two_a_ref <= t_los:
            key[u] = -1
        else:
            dn = n * res_m
            jr = hull_k[hull_tangent(hull_k, hn_k, hy, float(n), z_rx - dn * dn * inv_two_a_ref)]
            key[u] = jt * (n_valid + 1) + jr

    # 2. runs and segments: walker e evaluates ends and midpoints, walker f failed segments
    hull_e = np.empty(n_valid + 1, dtype=np.int64)
    hull_f = np.empty(n_valid + 1, dtype=np.int64)
    hull_e[0] = 0
    hull_f[0] = 0
    hw_e = np.array([1, 0], dtype=np.int64)
    hw_f = np.array([1, 0], dtype=np.int64)
    win_cols = site.win_cols
    shadow_db = cut_db + SHADOW_MARGIN_DB
    k = k_max
    u = 0
    while u < m_end:
        if not live[u]:
            u += 1
            continue
        r1 = u
        while r1 + 1 < m_end and live[r1 + 1] and key[r1 + 1] == key[u]:
            r1 += 1
        cell = cells[a + u]
        loss_a, mode_a = _itm_walker_cell(cell, rad, hull_e, hw_e, grid, site, params, z_g)
        out[cell // win_cols, cell % win_cols] = loss_a
        ia = u
        while ia < r1:
            ib = min(ia + k, r1)
            if ib - ia < ADAPTIVE_K_MIN:
                for v in range(ia + 1, ib + 1):
                    cell = cells[a + v]
                    loss_a, mode_a = _itm_walker_cell(
                        cell, rad, hull_e, hw_e, grid, site, params, z_g
                    )
                    out[cell // win_cols, cell % win_cols] = loss_a
                ia = ib
                continue
            im = (ia + ib) // 2
            cell_m = cells[a + im]
            cell_b = cells[a + ib]
            loss_m, mode_m = _itm_walker_cell(cell_m, rad, hull_e, hw_e, grid, site, params, z_g)
            loss_b, mode_b = _itm_walker_cell(cell_b, rad, hull_e, hw_e, grid, site, params, z_g)
            out[cell_m // win_cols, cell_m % win_cols] = loss_m
            out[cell_b // win_cols, cell_b % win_cols] = loss_b
            xa = x_log[ia]
            xm = x_log[im]
            xb = x_log[ib]
            line_m = loss_a if xb - xa <= 0.0 else loss_a + (loss_b - loss_a) * (xm - xa) / (xb - xa)
            shadow = min(loss_a, loss_m, loss_b) > shadow_db
            ok = shadow or (
                mode_a == mode_m and mode_m == mode_b and abs(loss_m - line_m) <= tol_db
            )
            for v in range(ia + 1, ib):
                if v == im:
                    continue
                cell = cells[a + v]
                if shadow:
                    loss_v = math.nan
                elif ok:
                    if v < im:
                        x0, x1, l0, l1 = xa, xm, loss_a, loss_m
                    else:
                        x0, x1, l0, l1 = xm, xb, loss_m, loss_b
                    w = 0.0 if x1 - x0 <= 0.0 else (x_log[v] - x0) / (x1 - x0)
                    w = min(max(w, 0.0), 1.0)
                    loss_v = l0 + w * (l1 - l0)
                else:
                    loss_v = _itm_walker_cell(cell, rad, hull_f, hw_f, grid, site, params, z_g)[0]
                out[cell // win_cols, cell % win_cols] = loss_v
            k = min(2 * k, k_max) if ok else max(k // 2, ADAPTIVE_K_MIN)
            loss_a = loss_b
            mode_a = mode_b
            ia = ib
        u = r1 + 1


@njit(nogil=True, cache=True, inline="always")
def _beyond_cut(
    z: F64, txarg: I64, j0: int, hull: I64, hn: int, hy: F64, res_m: float, d_m: float,
    z_tx: float, z_rx: float, inv_two_a_ref: float, lam_m: float, fs0_db: float,
    headroom_db: float, cut_db: float,
) -> bool:  # fmt: skip
    """Whether a cell's loss is surely above the cut, from two edges of the radial before its
    tail: the transmitter horizon ``txarg[j0 - 1]``, and the vertex of the hull (``hull[:hn]``)
    highest above the line between the antenna tops (a support query); each gives a floor of
    the loss (:func:`itm_loss_floor_db`), and the cell is skipped when the larger one, less
    ``headroom_db``, exceeds ``cut_db``. Shared by the exact and the adaptive sweep."""
    slope = res_m * ((z_rx - z_tx) / d_m - d_m * inv_two_a_ref)
    j_top = hull[hull_support(hull, hn, hy, slope)]
    floor_db = max(
        itm_loss_floor_db(z, txarg[j0 - 1], res_m, d_m, z_tx, z_rx, inv_two_a_ref, lam_m, fs0_db),
        itm_loss_floor_db(z, j_top, res_m, d_m, z_tx, z_rx, inv_two_a_ref, lam_m, fs0_db),
    )
    return floor_db - headroom_db > cut_db


@njit(nogil=True, cache=True, inline="always")
def itm_loss_floor_db(
    z: F64, j_edge: int, res_m: float, d_m: float, z_tx_m: float, z_rx_m: float,
    inv_two_a_m: float, lam_m: float, fs0_db: float,
) -> float:  # fmt: skip
    """Free-space loss plus the P.526 knife-edge loss J(ν) of one terrain sample, in dB.

    The sample is ``z[j_edge]``, ``j_edge * res_m`` metres out (the radial's transmitter
    horizon), ν taken against the straight line between the antenna tops ``z_tx_m`` and
    ``z_rx_m`` over an earth of curvature ``2 * inv_two_a_m``; ``fs0_db + 20 log10(d_m)`` is
    free space. The prefilter compares this, less a headroom, with the loss cut-off: ITM's
    loss over a path blocked by that edge is not lower (tested against the exact sweep).
    """
    fs_db = fs0_db + 20.0 * math.log10(d_m)
    x = j_edge * res_m
    if j_edge <= 0 or x >= d_m:
        return fs_db
    h = z[j_edge] - (z_tx_m + (z_rx_m - z_tx_m) * x / d_m) + x * (d_m - x) * inv_two_a_m
    if h <= 0.0:
        return fs_db
    nu = h * math.sqrt(2.0 * d_m / (lam_m * x * (d_m - x)))
    floor_db: float = fs_db + knife_edge_db(nu)
    return floor_db


@njit(nogil=True, cache=True, inline="always")
def _itm_sweep(grid: SweepGrid, site: SweepSite, params: ItmSweepParams) -> F32:
    """The body of :func:`itm_sweep` (documented there), inlined into both entry points: the
    radial loop is a ``prange``, a plain loop in the serial one and spread over numba's thread
    pool in :func:`itm_sweep_parallel` (radials write disjoint cells)."""
    cells, start = assign_cells(grid, site)
    out = np.full((site.win_rows, site.win_cols), np.nan, dtype=np.float32)
    p = params
    z_g = _itm.initialize_point_to_point(p.f_mhz, 0.0, p.n0, p.pol, p.epsilon, p.sigma)[0]
    adaptive = params.sweep_k > 0
    for i in prange(site.n_radials):
        if adaptive:
            _itm_radial_adaptive(i, cells, start, grid, site, params, z_g, out)
        else:
            _itm_radial(i, cells, start, grid, site, params, z_g, out)
    return out


@njit(nogil=True, cache=True)
def itm_sweep(grid: SweepGrid, site: SweepSite, params: ItmSweepParams) -> F32:
    """ITM basic transmission loss (dB, float32) from one site to every cell within the radius.

    ``grid``, ``site`` and ``params`` are described with their records (:class:`SweepGrid`,
    :class:`SweepSite`, :class:`ItmSweepParams`). NaN beyond the radius, on nodata and where a
    path touches nodata or leaves the grid. The cell at distance 0 is NaN here (ITM needs a
    path); the wrapper fills it.
    """
    return _itm_sweep(grid, site, params)


@njit(nogil=True, cache=True, parallel=True)
def itm_sweep_parallel(grid: SweepGrid, site: SweepSite, params: ItmSweepParams) -> F32:
    """:func:`itm_sweep` with the radials spread over numba's thread pool (same result)."""
    return _itm_sweep(grid, site, params)


# =================================================================================================
# P.1812
# =================================================================================================


@njit(nogil=True, cache=True, inline="always")
def _nu(g: float, di: float, dtot: float, hts: float, hrs: float, ce: float, lam: float) -> float:
    """P.1812 diffraction parameter of a point ``g`` metres high ``di`` km along the path."""
    v = g + 500.0 * ce * di * (dtot - di) - (hts * (dtot - di) + hrs * di) / dtot
    return v * math.sqrt(0.002 * dtot / (lam * di * (dtot - di)))


@njit(nogil=True, cache=True, inline="always")
def _nu_scan(
    h: F64, lo: int, hi: int, off: int, xk: float, dtot: float, a: float, hts: float,
    slope: float, best: float, arg: int,
) -> tuple[float, int]:  # fmt: skip
    """Best ``v * |v| / q`` over path indices ``lo..hi - 1`` read at ``h[i - off]``."""
    for i in range(lo, hi):
        di = i * xk
        q = di * (dtot - di)
        v = h[i - off] + a * q - hts - slope * di
        key = v * abs(v) / q
        if key >= best:
            best = key
            arg = i
    return best, arg


@njit(nogil=True, cache=True)
def nu_max(
    z: F64, j0: int, tail: F64, n: int, xi_m: float, hts: float, hrs: float, ce: float,
    lam: float,
) -> tuple[float, int]:  # fmt: skip
    """Largest ν over the interior of a path and the last index reaching it (a full scan).

    ν = v * sqrt(0.002 D / (λ q)) with clearance ``v`` and ``q = d (D - d)``; the scan ranks
    points by ``v * |v| / q`` (the same order, without a square root per point).
    """
    dtot = n * xi_m / 1000.0
    xk = xi_m / 1000.0
    a = 500.0 * ce
    slope = (hrs - hts) / dtot
    best, arg = _nu_scan(z, 1, min(j0, n), 0, xk, dtot, a, hts, slope, -np.inf, 1)
    best, arg = _nu_scan(tail, j0, n, j0, xk, dtot, a, hts, slope, best, arg)
    if n < 2:
        return -np.inf, arg
    return _nu(_zp(z, j0, tail, arg), arg * xi_m / 1000.0, dtot, hts, hrs, ce, lam), arg


@njit(nogil=True, cache=True, inline="always")
def _line_excess_scan(h: F64, lo: int, hi: int, off: int, slope_i: float, best: float) -> float:
    """``max(best, h[i - off] - slope_i * i)`` over path indices ``lo..hi - 1``."""
    for i in range(lo, hi):
        v = h[i - off] - slope_i * i
        if v > best:
            best = v
    return best


@njit(nogil=True, cache=True)
def smooth_bullington_db(
    n: int, xi_m: float, h_te: float, h_re: float, ap_km: float, f_ghz: float
) -> float:
    """P.1812 Bullington loss of the smooth profile (zero heights, antennas ``h_te``, ``h_re``).

    Same result as ``_p1812_kernels.bullington_db(..., smooth=True)`` on ``n`` intervals of ``xi_m``,
    without scanning the path: both slope maxima are concave in distance (their optimum is
    next to the continuous one) and ν along the smooth profile is unimodal (binary search on
    its discrete differences).
    """
    dtot = n * xi_m / 1000.0
    ce = 1.0 / ap_km
    lam = 0.2998 / f_ghz
    if n < 2:
        luc: float = 0.0
        return _p1812.bullington_total_db(luc, dtot)
    xk = xi_m / 1000.0
    stim = -np.inf
    i_star = math.sqrt(h_te / (500.0 * ce)) / xk
    i_lo = min(max(int(i_star), 1), n - 1)
    for i in range(i_lo, min(i_lo + 2, n)):
        di = i * xi_m / 1000.0
        stim = max(stim, (500.0 * ce * di * (dtot - di) - h_te) / di)
    str_ = (h_re - h_te) / dtot
    if stim < str_:
        lo = 1
        hi = n - 1
        while lo < hi:  # first i whose successor is no higher: the peak
            mid = (lo + hi) >> 1
            a = _nu(0.0, mid * xi_m / 1000.0, dtot, h_te, h_re, ce, lam)
            b = _nu(0.0, (mid + 1) * xi_m / 1000.0, dtot, h_te, h_re, ce, lam)
            if b <= a:
                hi = mid
            else:
                lo = mid + 1
        luc = knife_edge_db(_nu(0.0, lo * xi_m / 1000.0, dtot, h_te, h_re, ce, lam))
    else:
        srim = -np.inf
        i_star = (dtot - math.sqrt(h_re / (500.0 * ce))) / xk
        i_lo = min(max(int(i_star), 1), n - 1)
        for i in range(i_lo, min(i_lo + 2, n)):
            di = i * xi_m / 1000.0
            srim = max(srim, (500.0 * ce * di * (dtot - di) - h_re) / (dtot - di))
        luc = _p1812.bullington_breakpoint_db(h_te, h_re, stim, srim, dtot, lam)
    return _p1812.bullington_total_db(luc, dtot)


@njit(nogil=True, cache=True)
def bullington_scan_db(
    g: F64, j0: int, gtail: F64, n: int, xi_m: float, hts: float, hrs: float, ap_km: float,
    f_ghz: float, smooth: bool,
) -> float:  # fmt: skip
    """``_p1812_kernels.bullington_db`` on a cell's path by full scans (used off the median, at a_β)."""
    dtot = n * xi_m / 1000.0
    ce = 1.0 / ap_km
    lam = 0.2998 / f_ghz
    stim = -np.inf
    for i in range(1, n):
        di = i * xi_m / 1000.0
        gi = 0.0 if smooth else _zp(g, j0, gtail, i)
        stim = max(stim, (gi + 500.0 * ce * di * (dtot - di) - hts) / di)
    str_ = (hrs - hts) / dtot
    if stim < str_:
        numax = -np.inf
        for i in range(1, n):
            gi = 0.0 if smooth else _zp(g, j0, gtail, i)
            numax = max(numax, _nu(gi, i * xi_m / 1000.0, dtot, hts, hrs, ce, lam))
        luc: float = knife_edge_db(numax)
    else:
        srim = -np.inf
        for i in range(1, n):
            di = i * xi_m / 1000.0
            gi = 0.0 if smooth else _zp(g, j0, gtail, i)
            srim = max(srim, (gi + 500.0 * ce * di * (dtot - di) - hrs) / (dtot - di))
        luc = _p1812.bullington_breakpoint_db(hts, hrs, stim, srim, dtot, lam)
    return _p1812.bullington_total_db(luc, dtot)


@njit(nogil=True, cache=True)
def p1812_cell_loss(
    rad: P1812Radial, hn_a: int, hn_b: int, hn_c: int, j0: int, tl: F64, n: int, d_m: float,
    site: SweepSite, params: P1812SweepParams, has_clutter: bool,
) -> float:  # fmt: skip
    """P.1812 basic transmission loss (dB) of one cell's path, as ``_p1812_kernels.p1812_kernel``.

    The radial's statistics ``rad``: bare heights ``z`` (radial, ``j < j0``; ``tl[0]`` the
    tail), clutter-raised heights ``gr`` (``tl[3]`` the tail; terminals excluded), prefix sums
    of the bare heights; running maxima ``arg_a`` (bare, flat), ``arg_b`` (bare, curved),
    ``arg_c`` (clutter, curved) and upper hulls A (bare, ``z``), B (bare, ``hy_b``), C
    (clutter, ``hy_c``) of lengths ``hn_a``, ``hn_b``, ``hn_c`` over samples ``1..j0 - 1``,
    curved with ``inv_two_ae_m`` = 1 / (2 a_e) in 1/m. One radio-climatic zone for the whole
    path; ``params.phi_deg`` the path-centre latitude. Without clutter (``has_clutter`` False)
    the clutter-raised heights equal the bare ones and one ν scan serves both uses.
    """
    z = rad.z
    gr = rad.gr
    p0 = rad.p0
    p1 = rad.p1
    arg_a = rad.arg_a
    arg_b = rad.arg_b
    arg_c = rad.arg_c
    hull_a = rad.hull_a
    hull_b = rad.hull_b
    hull_c = rad.hull_c
    hy_b = rad.hy_b
    hy_c = rad.hy_c
    inv_two_ae_m = rad.inv_two_ae_m
    res_m = site.res_m
    f_ghz = params.f_ghz
    p_pct = params.p_pct
    pol = params.pol
    zone = params.zone
    dct_km = params.dct_km
    dcr_km = params.dcr_km
    tail = tl[0]
    gtail = tl[3]
    xi = d_m / n
    xk = xi / 1000.0
    dtot = n * xi / 1000.0
    h0 = z[0]
    h_n = tail[n - j0]
    hts = h0 + site.h_tx_m
    hrs = h_n + site.h_rx_m
    if zone == _p1812.ZONE_SEA:
        dtm = 0.0
        dlm = 0.0
        omega = 1.0
        dct_km = 0.0
        dcr_km = 0.0
    elif zone == _p1812.ZONE_COASTAL_LAND:
        dtm = dtot
        dlm = 0.0
        omega = 0.0
    else:
        dtm = dtot
        dlm = dtot
        omega = 0.0
    b0 = _p1812.beta0(params.phi_deg, dtm, dlm)
    ae = EARTH_RADIUS_KM * 157.0 / (157.0 - params.delta_n)
    ab = EARTH_RADIUS_KM * 3.0
    ce = 1.0 / ae
    lam = 0.2998 / f_ghz

    # --- path-profile analysis, Attachment 1 (bare terrain) ---
    s0 = _sum0(p0, j0, tl[1], 0, n)
    s1 = _sum1(p1, j0, tl[2], 0, n)
    v1 = xk * (2.0 * s0 - h0 - h_n)
    v2 = xk * xk * (6.0 * s1 - 3.0 * n * h_n + h0 - h_n)
    hst_fit = (2.0 * v1 * dtot - v2) / (dtot * dtot)
    hsr_fit = (v2 - v1 * dtot) / (dtot * dtot)

    beta = (hrs - hts) / n
    hobs = -np.inf
    a_obt = -np.inf
    a_obr = -np.inf
    if j0 > 1:
        q = hull_support(hull_a, hn_a, z, beta)
        for qq in range(max(q - 1, 0), min(q + 2, hn_a)):
            j = hull_a[qq]
            hobs = max(hobs, z[j] - beta * j)
        j = arg_a[j0 - 1]
        a_obt = (z[j] - hts) / j
        q = hull_tangent(hull_a, hn_a, z, float(n), hrs)
        for qq in range(max(q - 1, 0), min(q + 2, hn_a)):
            j = hull_a[qq]
            a_obr = max(a_obr, (z[j] - hrs) / (n - j))
    for j in range(j0, n):
        h = tail[j - j0]
        hobs = max(hobs, h - beta * j)
        a_obt = max(a_obt, (h - hts) / j)
        a_obr = max(a_obr, (h - hrs) / (n - j))
    hobs -= hts
    if hobs <= 0.0:
        hstp = hst_fit
        hsrp = hsr_fit
    else:
        alpha_obt = a_obt - beta
        alpha_obr = a_obr + beta
        gt = alpha_obt / (alpha_obt + alpha_obr)
        gr_ = alpha_obr / (alpha_obt + alpha_obr)
        hstp = hst_fit - hobs * gt
        hsrp = hsr_fit - hobs * gr_
    hstd = h0 if hstp >= h0 else hstp
    hsrd = h_n if hsrp > h_n else hsrp

    arg_max = -np.inf
    lt = 1
    if j0 > 1:
        j = arg_b[j0 - 1]
        di = j * xi / 1000.0
        arg_max = (z[j] - hts) / (1000.0 * di) - di / (2.0 * ae)
        lt = j
    for j in range(j0, n):
        di = j * xi / 1000.0
        arg = (tail[j - j0] - hts) / (1000.0 * di) - di / (2.0 * ae)
        if arg > arg_max:
            arg_max = arg
            lt = j
    theta_max = 1000.0 * math.atan(arg_max)
    theta_td = 1000.0 * math.atan((hrs - hts) / (1000.0 * dtot) - dtot / (2.0 * ae))
    theta_rd = 1000.0 * math.atan((hts - hrs) / (1000.0 * dtot) - dtot / (2.0 * ae))
    transhorizon = theta_max > theta_td
    theta_t = max(theta_max, theta_td)
    nu_bare = -np.inf
    if transhorizon:
        dlt = lt * xi / 1000.0
        arg_max = -np.inf
        lr = n - 1
        if j0 > 1:
            dn = n * res_m
            q = hull_tangent(hull_b, hn_b, hy_b, float(n), hrs - dn * dn * inv_two_ae_m)
            for qq in range(max(q - 1, 0), min(q + 2, hn_b)):
                j = hull_b[qq]
                dr = dtot - j * xi / 1000.0
                arg = (z[j] - hrs) / (1000.0 * dr) - dr / (2.0 * ae)
                if arg >= arg_max:
                    arg_max = arg
                    lr = j
        for j in range(j0, n):
            dr = dtot - j * xi / 1000.0
            arg = (tail[j - j0] - hrs) / (1000.0 * dr) - dr / (2.0 * ae)
            if arg >= arg_max:
                arg_max = arg
                lr = j
        theta_r = 1000.0 * math.atan(arg_max)
        dlr = dtot - lr * xi / 1000.0
    else:
        theta_r = theta_rd
        nu_bare, lt = nu_max(z, j0, tail, n, xi, hts, hrs, ce, lam)
        dlt = lt * xi / 1000.0
        dlr = dtot - dlt
        lr = lt
    theta = 1e3 * dtot / ae + theta_t + theta_r
    hst = min(hst_fit, h0)
    hsr = min(hsr_fit, h_n)
    slope = (hsr - hst) / dtot
    hte = site.h_tx_m + h0 - hst
    hre = site.h_rx_m + h_n - hsr
    # terrain roughness h_m: the highest point above the smooth surface between the horizons
    slope_i = slope * xk
    hm = _line_excess_scan(z, lt, min(lr + 1, j0), 0, slope_i, -np.inf)
    hm = _line_excess_scan(tail, max(lt, j0), lr + 1, j0, slope_i, hm) - hst

    lbfs, lb0p, lb0b = _p1812.line_of_sight_db(f_ghz, dtot, hts, hrs, dlt, dlr, p_pct, b0)

    # --- delta-Bullington at the median radius (clutter-raised profile) ---
    stim = -np.inf
    if j0 > 1:
        j = arg_c[j0 - 1]
        di = j * xi / 1000.0
        stim = (gr[j] + 500.0 * ce * di * (dtot - di) - hts) / di
    for j in range(j0, n):
        di = j * xi / 1000.0
        stim = max(stim, (gtail[j - j0] + 500.0 * ce * di * (dtot - di) - hts) / di)
    str_ = (hrs - hts) / dtot
    if stim < str_:
        if has_clutter or transhorizon:
            nu_bare = nu_max(gr, j0, gtail, n, xi, hts, hrs, ce, lam)[0]
        luc = knife_edge_db(nu_bare)
    else:
        srim = -np.inf
        if j0 > 1:
            dn = n * res_m
            q = hull_tangent(hull_c, hn_c, hy_c, float(n), hrs - dn * dn * inv_two_ae_m)
            for qq in range(max(q - 1, 0), min(q + 2, hn_c)):
                j = hull_c[qq]
                di = j * xi / 1000.0
                srim = max(srim, (gr[j] + 500.0 * ce * di * (dtot - di) - hrs) / (dtot - di))
        for j in range(j0, n):
            di = j * xi / 1000.0
            srim = max(srim, (gtail[j - j0] + 500.0 * ce * di * (dtot - di) - hrs) / (dtot - di))
        luc = _p1812.bullington_breakpoint_db(hts, hrs, stim, srim, dtot, lam)
    lbulla = _p1812.bullington_total_db(luc, dtot)
    h_te = hts - hstd
    h_re = hrs - hsrd
    lbulls = smooth_bullington_db(n, xi, h_te, h_re, ae, f_ghz)
    ldsph = _p1812.spherical_earth_db(dtot, h_te, h_re, ae, f_ghz, omega, pol)
    ld50 = lbulla + max(ldsph - lbulls, 0.0)
    ldp = ld50
    if p_pct != 50.0:
        ldb = bullington_scan_db(gr, j0, gtail, n, xi, hts, hrs, ab, f_ghz, False)
        ldb += max(
            _p1812.spherical_earth_db(dtot, h_te, h_re, ab, f_ghz, omega, pol)
            - bullington_scan_db(gr, j0, gtail, n, xi, h_te, h_re, ab, f_ghz, True),
            0.0,
        )
        ldp = _p1812.diffraction_at_p_db(ld50, ldb, p_pct, b0)

    # --- the rest of the method, as in _p1812_kernels.p1812_kernel ---
    lbd50 = lbfs + ld50
    lbd = lb0p + ldp
    lminb0p = _p1812.minimum_los_db(lb0p, lb0b, ldp, lbd50, omega, p_pct, b0)[0]
    lba = _p1812.anomalous_db(
        dtot, dlt, dlr, dct_km, dcr_km, dlm, hts, hrs, hte, hre, hm,
        theta_t, theta_r, f_ghz, p_pct, omega, ae, b0,
    )  # fmt: skip
    lbs = _p1812.troposcatter_db(f_ghz, dtot, theta, params.n0, p_pct)
    f_j, f_k = _p1812.interpolation_factors(theta, dtot)
    return _p1812.blend_db(
        lb0p, lbd, lminb0p, lba, lbs, f_j, f_k, zone, params.pl_pct, params.sigma_l_db
    )[0]


@njit(nogil=True, cache=True)
def _fill_tail_clutter(
    clutter_m: Heights, row0: float, col0: float, dr: float, dc: float, n: int, j0: int, tl: F64
) -> None:
    """``tl[3]``: the tail heights raised by the clutter of the cell under each point (not the
    receiver's own)."""
    n_rows, n_cols = clutter_m.shape
    for j in range(j0, n):
        r = min(max(math.floor(row0 + j * dr / n + 0.5), 0), n_rows - 1)
        c = min(max(math.floor(col0 + j * dc / n + 0.5), 0), n_cols - 1)
        tl[3, j - j0] = tl[0, j - j0] + clutter_m[r, c]
    tl[3, n - j0] = tl[0, n - j0]


@njit(nogil=True, cache=True)
def _p1812_radial(
    i: int, cells: I32, start: I64, grid: SweepGrid, site: SweepSite, params: P1812SweepParams,
    clutter_m: Heights, has_clutter: bool, out: F32,
) -> None:  # fmt: skip
    """All cells of radial ``i`` for P.1812 (see :func:`_itm_radial`)."""
    a = start[i]
    b = start[i + 1]
    if a == b:
        return
    elevation_m = grid.elevation_m
    row0 = site.row0
    col0 = site.col0
    res_m = site.res_m
    near_cells = site.near_cells
    z, n_valid = _radial_setup(i, cells, start, grid, site)
    az = TWO_PI * i / site.n_radials
    gr = np.empty(n_valid + 1)
    if has_clutter:
        sample_radial_nearest(clutter_m, row0, col0, -math.cos(az), math.sin(az), n_valid, gr)
        for j in range(1, n_valid + 1):
            gr[j] += z[j]
    else:
        gr[:] = z[: n_valid + 1]
    gr[0] = z[0]
    p0 = np.empty(n_valid + 2)
    p1 = np.empty(n_valid + 2)
    prefix_sums(z, n_valid, p0, p1)
    ae_m = EARTH_RADIUS_M * 157.0 / (157.0 - params.delta_n)
    inv_two_ae = 0.5 / ae_m
    curv = res_m * res_m * inv_two_ae
    hts = site.z0_m + site.h_tx_m
    arg_a = np.empty(n_valid + 1, dtype=np.int64)
    arg_b = np.empty(n_valid + 1, dtype=np.int64)
    arg_c = np.empty(n_valid + 1, dtype=np.int64)
    running_argmax(z, n_valid, hts, 0.0, arg_a)
    running_argmax(z, n_valid, hts, curv, arg_b)
    running_argmax(gr, n_valid, hts, curv, arg_c)
    hy_b = np.empty(n_valid + 1)
    hy_c = np.empty(n_valid + 1)
    for j in range(n_valid + 1):
        dj = j * res_m
        hy_b[j] = z[j] - dj * dj * inv_two_ae
        hy_c[j] = gr[j] - dj * dj * inv_two_ae
    hull_a = np.empty(n_valid + 1, dtype=np.int64)
    hull_b = np.empty(n_valid + 1, dtype=np.int64)
    hull_c = np.empty(n_valid + 1, dtype=np.int64)
    rad = P1812Radial(
        z, gr, p0, p1, arg_a, arg_b, arg_c, hull_a, hull_b, hull_c, hy_b, hy_c, inv_two_ae
    )
    hn_a = 0
    hn_b = 0
    hn_c = 0
    pushed = 0
    tl = np.empty((4, near_cells + 2))
    for t in range(a, b):
        cell = cells[t]
        wr, wc, d_cells = _cell_distance(cell, site)
        n = math.ceil(d_cells - 1e-9)
        j0 = max(1, n - near_cells + 1)
        if j0 - 1 > n_valid:
            break
        while pushed < j0 - 1:
            pushed += 1
            hn_a = hull_push(hull_a, hn_a, z, pushed)
            hn_b = hull_push(hull_b, hn_b, hy_b, pushed)
            hn_c = hull_push(hull_c, hn_c, hy_c, pushed)
        r = site.row_off + wr
        c = site.col_off + wc
        if not _fill_tail(
            grid, row0, col0, r - row0, c - col0, n, j0, np.float64(elevation_m[r, c]), tl
        ):
            continue
        if has_clutter:
            _fill_tail_clutter(clutter_m, row0, col0, r - row0, c - col0, n, j0, tl)
        else:
            tl[3, : n - j0 + 1] = tl[0, : n - j0 + 1]
        out[wr, wc] = p1812_cell_loss(
            rad, hn_a, hn_b, hn_c, j0, tl, n, d_cells * res_m, site, params, has_clutter
        )


@njit(nogil=True, cache=True, inline="always")
def _p1812_sweep(
    grid: SweepGrid, site: SweepSite, params: P1812SweepParams, clutter_m: Heights,
    has_clutter: bool,
) -> F32:  # fmt: skip
    """The body of :func:`p1812_sweep`, inlined into both entry points (see :func:`_itm_sweep`)."""
    cells, start = assign_cells(grid, site)
    out = np.full((site.win_rows, site.win_cols), np.nan, dtype=np.float32)
    for i in prange(site.n_radials):
        _p1812_radial(i, cells, start, grid, site, params, clutter_m, has_clutter, out)
    return out


@njit(nogil=True, cache=True)
def p1812_sweep(
    grid: SweepGrid, site: SweepSite, params: P1812SweepParams, clutter_m: Heights,
    has_clutter: bool,
) -> F32:  # fmt: skip
    """P.1812 basic transmission loss (dB, float32) from one site to every cell within the radius.

    As :func:`itm_sweep`, with P.1812's inputs (:class:`P1812SweepParams`). ``clutter_m``
    (used when ``has_clutter``) holds the representative clutter height of each grid cell,
    added to the path between the terminals.
    """
    return _p1812_sweep(grid, site, params, clutter_m, has_clutter)


@njit(nogil=True, cache=True, parallel=True)
def p1812_sweep_parallel(
    grid: SweepGrid, site: SweepSite, params: P1812SweepParams, clutter_m: Heights,
    has_clutter: bool,
) -> F32:  # fmt: skip
    """:func:`p1812_sweep` with the radials spread over numba's thread pool (same result)."""
    return _p1812_sweep(grid, site, params, clutter_m, has_clutter)
