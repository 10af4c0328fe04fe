"""Benchmark the siting solvers on synthetic Paser-sized instances; prints JSON lines.

    python benchmarks/bench_siting.py [--part greedy|curve|exact|spopt|all] [--quick]

Instances are random but disc-like: candidates on a grid of 100 m cells, each covering the cells
within its radius (1.5–4 km) except where one of 16 sectors is shadowed short of it, so
footprints have the ragged shape terrain gives them. Demand weights are clustered (most people
in few cells). Parts:

``greedy``
    10,000 candidates × 1,000,000 demand cells (a 1,000 × 1,000 grid, 100 km square): time and
    peak memory of building the problem and of ``solve(solver="greedy")``.
``curve``
    ``cost_coverage_curve`` over 12 budgets on the same instance (one reused greedy run), against
    12 fresh greedy runs; the plans must be equal.
``exact``
    5,000 candidates × 100,000 cells (a 316 × 316 grid of 300 m cells) at a 10-tower budget:
    the LP relaxation, ``solver="quality"`` and ``solver="exact"`` with a 60 s limit,
    warm-started from the greedy; reports status, gap and how far the greedy was from the
    MILP's answer and from the LP bound.
``spopt``
    PySAL spopt's MCLP (``MCLP.from_cost_matrix``, p facilities) against ``solver="exact"`` on an
    instance both handle, with equal costs so that budget / cost = p: objective, time and peak
    memory of each (spopt is not a dependency of blankspot; install it to run this part).

Each part runs in a child process of its own, so its peak resident memory (ru_maxrss, which
includes HiGHS's C++ allocations) is its own; ``rss_before_mib`` is the child's peak before the
timed call. For the greedy the tracemalloc peak of a second, traced call is given too (numpy
and scipy allocations only). Times are of untraced calls. Not a test: nothing here fails on a
slow machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from blankspot.siting import SitingProblem, cost_coverage_curve, lp_relaxation_bound, solve

TOWER_IDR = 1_700_000_000


def disc_coverage(
    n_sites: int,
    side_cells: int,
    cell_m: float,
    *,
    radius_m: tuple[float, float] = (1500.0, 4000.0),
    seed: int = 0,
) -> tuple[sp.csc_array, np.ndarray]:
    """A (cells × sites) 0/1 CSC matrix of ragged discs, and the site costs in Rupiah."""
    rng = np.random.default_rng(seed)
    r_max = int(np.ceil(radius_m[1] / cell_m))
    dy, dx = np.mgrid[-r_max : r_max + 1, -r_max : r_max + 1]
    dist = np.hypot(dx, dy).ravel() * cell_m
    inside = dist <= radius_m[1]
    dx, dy, dist = dx.ravel()[inside], dy.ravel()[inside], dist[inside]
    sector = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * 16).astype(np.int64) % 16
    order = np.argsort(dist, kind="stable")
    dx, dy, dist, sector = dx[order], dy[order], dist[order], sector[order]
    cx = rng.integers(0, side_cells, size=n_sites)
    cy = rng.integers(0, side_cells, size=n_sites)
    radius = rng.uniform(*radius_m, size=n_sites)
    indptr = np.zeros(n_sites + 1, dtype=np.int64)
    chunks = []
    for j in range(n_sites):
        reach = radius[j] * rng.uniform(0.3, 1.0, size=16)
        keep = dist <= reach[sector]
        x = cx[j] + dx[keep]
        y = cy[j] + dy[keep]
        ok = (x >= 0) & (x < side_cells) & (y >= 0) & (y < side_cells)
        cells = np.sort((y[ok] * side_cells + x[ok]).astype(np.int32))
        chunks.append(cells)
        indptr[j + 1] = indptr[j] + cells.size
    indices = np.concatenate(chunks)
    matrix = sp.csc_array(
        (np.ones(indices.size, dtype=bool), indices, indptr),
        shape=(side_cells * side_cells, n_sites),
    )
    costs = (TOWER_IDR * rng.uniform(0.6, 1.4, size=n_sites)).round(-6).astype(np.int64)
    return matrix, costs


def clustered_weights(n_cells: int, *, seed: int = 1) -> np.ndarray:
    """Persons per cell: most cells nearly empty, a few dense (about 0.3 M people in all)."""
    rng = np.random.default_rng(seed)
    w = rng.gamma(0.25, 1.2, size=n_cells)
    return np.round(w, 2)


def timed(fn: Any) -> tuple[Any, float]:
    """Run ``fn()``; return its value and wall seconds."""
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def traced_peak_mib(fn: Any) -> float:
    """The tracemalloc peak of ``fn()`` in MiB (numpy/scipy allocations, not C++ ones)."""
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(**record: Any) -> None:
    record.setdefault("machine", f"{platform.machine()}, Python {platform.python_version()}")
    print(json.dumps(record), flush=True)


# ---------------------------------------------------------------------- parts


def big_problem(quick: bool) -> tuple[SitingProblem, dict[str, Any]]:
    n_sites, side = (2_000, 400) if quick else (10_000, 1_000)
    matrix, costs = disc_coverage(n_sites, side, 100.0, seed=0)
    weights = clustered_weights(side * side)
    budget = 20 * TOWER_IDR
    rss0 = rss_mib()
    problem, wall = timed(lambda: SitingProblem.from_matrix(matrix, weights, costs, budget))
    info = {
        "candidates": n_sites,
        "demand_cells": side * side,
        "nnz": int(matrix.nnz),
        "merged_rows": problem.n_demand,
        "people": round(float(weights.sum())),
        "build_problem_s": round(wall, 2),
        "rss_after_build_mib": round(max(rss0, rss_mib()), 0),
    }
    return problem, info


def part_greedy(quick: bool) -> dict[str, Any]:
    problem, info = big_problem(quick)
    rss0 = rss_mib()
    result, wall = timed(lambda: solve(problem, solver="greedy", lp_bound=False))
    peak = rss_mib()
    traced = traced_peak_mib(lambda: solve(problem, solver="greedy", lp_bound=False))
    return dict(
        part="greedy",
        **info,
        budget_idr=problem.budget_idr,
        towers=result.n_sites,
        covered_weight=round(result.covered_weight, 1),
        share=round(result.covered_weight / problem.total_weight, 4),
        bound=_num(result.bound, 1),
        gap=_num(result.gap, 4),
        greedy_s=round(wall, 3),
        greedy_traced_peak_mib=round(traced, 0),
        rss_before_mib=round(rss0, 0),
        peak_rss_mib=round(peak, 0),
    )


def part_curve(quick: bool) -> dict[str, Any]:
    problem, info = big_problem(quick)
    budgets = [int(b * TOWER_IDR) for b in np.linspace(1, 40, 12)]
    curve, wall = timed(
        lambda: cost_coverage_curve(problem, budgets, lp_bound=False, monotone=False)
    )
    fresh, fresh_s = timed(
        lambda: [
            solve(problem.with_constraints(budget_idr=b), solver="greedy", lp_bound=False)
            for b in budgets
        ]
    )
    same = all(tuple(r.site_ids) == row for r, row in zip(fresh, curve["site_ids"], strict=True))
    truncated_equal = 0
    longest = fresh[-1]
    for b, r in zip(budgets, fresh, strict=True):
        # the naive shortcut: the largest budget's ranking cut where its cumulative cost passes b
        k = int(np.searchsorted(np.asarray(longest.cumulative_cost_idr), b, side="right"))
        truncated_equal += tuple(longest.site_ids[:k]) == tuple(r.site_ids)
    return dict(
        part="curve",
        candidates=info["candidates"],
        demand_cells=info["demand_cells"],
        budgets=len(budgets),
        curve_s=round(wall, 3),
        fresh_greedy_runs_s=round(fresh_s, 3),
        speedup=round(fresh_s / wall, 2),
        plans_equal_fresh_runs=bool(same),
        truncated_ranking_equals_fresh_run=f"{truncated_equal} of {len(budgets)}",
        towers=curve["n_towers"].tolist(),
        share=[round(float(x), 4) for x in curve["share"]],
        peak_rss_mib=round(rss_mib(), 0),
    )


def part_exact(quick: bool, time_limit_s: float) -> dict[str, Any]:
    n_sites, side = (1_000, 150) if quick else (5_000, 316)
    matrix, costs = disc_coverage(n_sites, side, 300.0, seed=2)
    weights = clustered_weights(side * side, seed=3) * 9.0  # 300 m cells hold 9 of the 100 m ones
    budget = 10 * TOWER_IDR
    problem = SitingProblem.from_matrix(matrix, weights, costs, budget)
    greedy, g_wall = timed(lambda: solve(problem, solver="greedy", lp_bound=False))
    quality, q_wall = timed(lambda: solve(problem, solver="quality", lp_bound=False))
    lp, lp_wall = timed(lambda: lp_relaxation_bound(problem, time_limit_s=time_limit_s))
    rss0 = rss_mib()
    # the LP is cached by now, so this times HiGHS's MILP (plus the warm-start greedy)
    result, wall = timed(
        lambda: solve(problem, solver="exact", time_limit_s=time_limit_s, lp_bound=True)
    )
    peak_warm = rss_mib()
    cold, cold_wall = timed(
        lambda: solve(
            problem, solver="exact", time_limit_s=time_limit_s, lp_bound=True, warm_start=False
        )
    )
    return dict(
        part="exact",
        candidates=n_sites,
        demand_cells=side * side,
        nnz=int(matrix.nnz),
        merged_rows=problem.n_demand,
        budget_idr=budget,
        time_limit_s=time_limit_s,
        exact_s=round(wall, 1),
        exact_cold_start_s=round(cold_wall, 1),
        cold_start_status=cold.status,
        status=result.status,
        towers=result.n_sites,
        covered_weight=round(result.covered_weight, 1),
        bound=_num(result.bound, 1),
        gap=_num(result.gap, 5),
        lp_bound=_num(lp, 1),
        lp_s=round(lp_wall, 1),
        greedy_s=round(g_wall, 3),
        greedy_covered_weight=round(greedy.covered_weight, 1),
        greedy_share_of_exact=round(greedy.covered_weight / result.covered_weight, 4),
        greedy_share_of_lp_bound=_num(greedy.covered_weight / lp if lp else None, 4),
        quality_s=round(q_wall, 2),
        quality_covered_weight=round(quality.covered_weight, 1),
        quality_improvement_over_greedy=_num(quality.improvement, 4),
        rss_before_mib=round(rss0, 0),
        peak_rss_mib=round(peak_warm, 0),
        peak_rss_after_cold_start_mib=round(rss_mib(), 0),
        note=result.note,
    )


def _num(x: float | None, digits: int) -> float | None:
    """Rounded, or None (JSON has no NaN)."""
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def spopt_instance(quick: bool) -> tuple[sp.csc_array, np.ndarray, int]:
    n_sites, side, p = (300, 60, 5) if quick else (500, 80, 8)
    matrix, _ = disc_coverage(n_sites, side, 300.0, seed=4)
    weights = clustered_weights(side * side, seed=5) * 9.0
    return matrix, weights, p


def part_spopt_blankspot(quick: bool) -> dict[str, Any]:
    matrix, weights, p = spopt_instance(quick)
    rss0 = rss_mib()

    def run() -> Any:
        costs = np.full(matrix.shape[1], TOWER_IDR, dtype=np.int64)  # budget / cost = p
        problem = SitingProblem.from_matrix(matrix, weights, costs, p * TOWER_IDR)
        return solve(problem, solver="exact", mip_rel_gap=0.0, lp_bound=False)

    result, wall = timed(run)
    peak = rss_mib()
    traced = traced_peak_mib(run)
    return dict(value=result.covered_weight, s=wall, rss_before=rss0, peak=peak, traced=traced)


def part_spopt_spopt(quick: bool) -> dict[str, Any]:
    import pulp
    from spopt.locate import MCLP

    matrix, weights, p = spopt_instance(quick)
    rss0 = rss_mib()

    def run() -> Any:
        # spopt takes a dense (clients × facilities) cost matrix and a service radius:
        # cost 0 where covered, 2 elsewhere, radius 1.
        dense = np.where(matrix.toarray(), 0.0, 2.0)
        model = MCLP.from_cost_matrix(dense, weights, service_radius=1.0, p_facilities=p)
        solver = pulp.HiGHS(msg=False) if "HiGHS" in pulp.listSolvers(onlyAvailable=True) else None
        model.solve(solver or pulp.PULP_CBC_CMD(msg=False))
        return model, solver is not None

    (model, highs), wall = timed(run)
    peak = rss_mib()
    traced = traced_peak_mib(run)
    chosen = [
        j for j, var in enumerate(model.fac_vars) if var.value() is not None and var.value() > 0.5
    ]
    covered = np.asarray(matrix[:, chosen].sum(axis=1)).ravel() > 0
    return dict(
        value=float(weights[covered].sum()),
        s=wall,
        rss_before=rss0,
        peak=peak,
        traced=traced,
        solver="HiGHS via PuLP" if highs else "CBC via PuLP",
    )


def part_spopt(quick: bool) -> dict[str, Any]:
    try:
        import spopt  # noqa: F401
    except ImportError:
        return dict(part="spopt", skipped="spopt is not installed (pip install spopt)")
    ours = child("spopt-blankspot", quick)
    theirs = child("spopt-spopt", quick)
    n_sites, side, p = (300, 60, 5) if quick else (500, 80, 8)
    return dict(
        part="spopt",
        candidates=n_sites,
        demand_cells=side * side,
        p_facilities=p,
        blankspot_exact_value=round(ours["value"], 3),
        spopt_mclp_value=round(theirs["value"], 3),
        same_objective=bool(
            abs(ours["value"] - theirs["value"]) <= 1e-6 * max(1.0, theirs["value"])
        ),
        blankspot_s=round(ours["s"], 2),
        spopt_s=round(theirs["s"], 2),
        time_ratio_spopt_over_blankspot=round(theirs["s"] / ours["s"], 1),
        blankspot_traced_peak_mib=round(ours["traced"], 1),
        spopt_traced_peak_mib=round(theirs["traced"], 1),
        memory_ratio_spopt_over_blankspot=round(theirs["traced"] / max(ours["traced"], 0.1), 1),
        blankspot_process_peak_rss_mib=round(ours["peak"], 0),
        spopt_process_peak_rss_mib=round(theirs["peak"], 0),
        spopt_solver=theirs["solver"],
    )


CHILD_PARTS = {
    "greedy": lambda a: part_greedy(a.quick),
    "curve": lambda a: part_curve(a.quick),
    "exact": lambda a: part_exact(a.quick, a.time_limit_s),
    "spopt-blankspot": lambda a: part_spopt_blankspot(a.quick),
    "spopt-spopt": lambda a: part_spopt_spopt(a.quick),
}


def child(part: str, quick: bool, time_limit_s: float = 60.0) -> dict[str, Any]:
    """Run one part in a fresh Python process and return its JSON record."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", part]
    cmd += ["--time-limit-s", str(time_limit_s)] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--part", default="all", choices=["greedy", "curve", "exact", "spopt", "all"])
    ap.add_argument("--quick", action="store_true", help="small instances (a smoke run)")
    ap.add_argument("--time-limit-s", type=float, default=60.0)
    ap.add_argument("--child", choices=sorted(CHILD_PARTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(CHILD_PARTS[args.child](args)), flush=True)
        return
    parts = ["greedy", "curve", "exact", "spopt"] if args.part == "all" else [args.part]
    for part in parts:
        record = (
            part_spopt(args.quick)
            if part == "spopt"
            else child(part, args.quick, args.time_limit_s)
        )
        emit(**record)


if __name__ == "__main__":
    main()
