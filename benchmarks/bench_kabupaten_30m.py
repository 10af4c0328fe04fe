"""The whole kabupaten at 30 m on exact paths, through :func:`blankspot.plan.plan_paser`, timed.

    python benchmarks/bench_kabupaten_30m.py [--terrain-res-m 30] [--grid-km 2]
        [--high-points 200] [--evaluate-at points|raster] [--no-compare-90m]
        [--data-dir DIR] [--out DIR]

Candidates on a 2 km grid plus 200 high points over the whole of Paser, every desa a target
(one settlement point per desa, ``demand_model="auto"``), ITM with the default clutter at the
handset (tropical forest, built-up at the settlement points), 30 km, the desa objective, the
Paser budget priced by the cost model. With ``evaluate_at="points"`` the siting matrix takes the
exact ITM path from every candidate to every demand point within its radius on the 30 m
terrain, so every candidate is computed at 30 m, and the exact solver (HiGHS, up to 300 s)
certifies the plan: gap 0 is the certificate.

Prints JSON lines: the CPU model, core count and load average; the plan's size (candidates,
demand points, terrain shape and cell size, non-zeros of the matrix); wall and process CPU
seconds (``time.process_time()``, all threads) in total and ``result.timings_s`` per step; the
plan (towers, desa served, people, cost) and the certificate (status, objective, bound, gap).
With ``--compare-90m`` (the default) the same plan at 90 m, and which desa and people differ.
``--out DIR`` also writes the outputs (map, tables, summary) with
:func:`blankspot.reporting.outputs.write_outputs` (``DIR/30m``, ``DIR/90m``). Needs the 1
arc-second demo DEM in the data directory (``blankspot data fetch --from DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _machine import cpu_model  # benchmarks/_machine.py, beside this script


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, default=float), flush=True)


def run_plan(data_dir: str | None, config: Any, label: str, out: str | None) -> dict[str, Any]:
    """One :func:`plan_paser` run, timed; its figures as a dict (printed as JSON lines)."""
    from blankspot.plan import plan_paser
    from blankspot.reporting.summary import served_targets

    load0 = os.getloadavg()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    result = plan_paser(data_dir, config=config)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    load1 = os.getloadavg()

    names = result.villages["name"].astype(str).to_dict()
    sol, cert = result.solution, result.certificate
    served_table = served_targets(result)  # the desa table: the chosen towers' footprints
    served = served_on_paths(result)  # the siting matrix: exact paths to the demand points
    cov = result.coverage
    sx, sy = result.sites.geometry.x.to_numpy(), result.sites.geometry.y.to_numpy()
    dx, dy = result.demand.geometry.x.to_numpy(), result.demand.geometry.y.to_numpy()
    within = int((np.hypot(sx[:, None] - dx[None, :], sy[:, None] - dy[None, :])
                  <= config.radius_m).sum())
    size = {
        "run": label, "candidates": len(result.sites), "demand_points": len(result.demand),
        "people_in_targets": round(float(result.demand["population"].sum()), 1),
        "target_desa": len(result.target_ids), "demand_model": result.demand_model,
        "terrain_shape": list(cov.shape), "cell_size_m": round(abs(cov.transform.a), 2),
        "terrain": result.terrain_source, "synthetic": result.terrain_synthetic,
        "propagation": result.model_label(), "evaluate_at": config.evaluate_at,
        "matrix_nnz": int(result.matrix.matrix.nnz),
        "pairs": len(result.sites) * len(result.demand), "pairs_within_radius": within,
        "candidates_computed": (f"all {len(result.sites)} at {config.terrain_res_m:g} m "
                                "(exhaustive)"),
    }
    timing = {
        "run": label, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
        "steps_s": {k: round(v, 2) for k, v in result.timings_s.items()},
        "loadavg_start": load0, "loadavg_end": load1,
    }
    plan = {
        "run": label, "towers": [str(s) for s in sol.site_ids], "solver": sol.solver,
        "status": sol.status, "total_cost_idr": int(sol.total_cost_idr),
        "budget_idr": int(config.budget_idr), "people_covered": round(float(sol.covered_weight), 1),
        "desa_resolved": sol.desa_resolved, "n_desa_served_on_paths": len(served),
        "n_desa_served_in_desa_table": len(served_table),
        "desa_served_on_paths": sorted(f"{k} {names.get(k, '')}".strip() for k in served),
        "table_only": sorted(set(served_table) - served),
        "paths_only": sorted(served - set(served_table)),
    }
    certificate = None if cert is None else {
        "run": label, "status": cert.status, "solver": cert.solver,
        "objective": cert.objective_value, "value": cert.value, "bound": cert.bound,
        "gap": cert.gap, "people": round(float(cert.covered_weight), 1),
        "desa_resolved": cert.desa_resolved, "towers": [str(s) for s in cert.site_ids],
        "runtime_s": round(cert.runtime_s, 2), "note": cert.note,
    }
    for rec in (size, timing, plan, {"certificate": certificate}):
        emit(rec)
    if out is not None:
        from blankspot.reporting.outputs import write_outputs

        t = time.perf_counter()
        written = write_outputs(result, Path(out) / label)
        emit({"run": label, "outputs": str(Path(out) / label), "files": len(written),
              "write_s": round(time.perf_counter() - t, 1)})
    return {"served": served, "names": names, "people": float(sol.covered_weight),
            "towers": list(plan["towers"]), "wall_s": wall, "cpu_s": cpu,
            "within": within, "coverage_s": result.timings_s.get("coverage_s"),
            "candidates": len(result.sites), "demand_points": len(result.demand)}


def served_on_paths(result: Any) -> set[str]:
    """The target desa the plan serves in the siting matrix (people covered ≥ β · W)."""
    from blankspot.siting.problem import resolved_mask

    covered = result.problem.covered_mask(result.solution.order)
    demand = result.demand
    people = demand["population"].to_numpy(dtype=float)
    vid = demand["village_id"].astype(str).to_numpy()
    w = pd.Series(people, index=vid).groupby(level=0).sum()
    c = pd.Series(people * covered, index=vid).groupby(level=0).sum().reindex(w.index)
    ok = resolved_mask(c.to_numpy(), w.to_numpy(), result.config.served_share) & (w > 0)
    return set(w.index[np.asarray(ok)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--terrain-res-m", type=float, default=30.0)
    ap.add_argument("--grid-km", type=float, default=2.0)
    ap.add_argument("--high-points", type=int, default=200)
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--evaluate-at", choices=("points", "raster"), default="points")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default=None, help="also write the outputs under this folder")
    ap.add_argument("--compare-90m", action=argparse.BooleanOptionalAction, default=True,
                    help="also plan at 90 m and print what the finer terrain changes")
    args = ap.parse_args()

    from blankspot.config import PlanConfig
    from blankspot.io.inputs import InputSpec

    dem = InputSpec(data_dir=args.data_dir).paths()["dem"]
    if "1s" not in Path(dem).name:
        raise SystemExit(f"needs the 1 arc-second demo DEM; the data directory gives {dem}")
    if args.evaluate_at == "raster" and args.terrain_res_m < 90:
        print(f"warning: evaluate_at='raster' computes a full footprint of every candidate at "
              f"{args.terrain_res_m:g} m: over the whole kabupaten that takes hours.",
              file=sys.stderr, flush=True)

    import numba

    emit({"cpu": cpu_model(), "cores": os.cpu_count(), "loadavg_start": os.getloadavg(),
          "python": platform.python_version(), "numba": numba.__version__,
          "dem": Path(dem).name})
    config = PlanConfig(
        targets="all", evaluate_at=args.evaluate_at, terrain_res_m=args.terrain_res_m,
        grid_spacing_m=args.grid_km * 1000.0, n_high_points=args.high_points,
        min_separation_m=1_000.0, radius_m=args.radius_km * 1000.0, certify=True,
        exact_time_limit_s=300.0,
    )
    label = f"{args.terrain_res_m:g}m"
    fine = run_plan(args.data_dir, config, label, args.out)
    if fine["coverage_s"]:
        emit({"run": label, "coverage_s": round(fine["coverage_s"], 2),
              "paths_within_radius": fine["within"],
              "ms_per_path_wall": round(1e3 * fine["coverage_s"] / max(fine["within"], 1), 3)})
    if not args.compare_90m or args.terrain_res_m == 90.0:
        return
    coarse = run_plan(args.data_dir, config.replace(terrain_res_m=90.0), "90m",
                      args.out)
    names = {**coarse["names"], **fine["names"]}
    emit({"compare": f"{label} vs 90m",
          "served_only_at_" + label: sorted(f"{k} {names.get(k, '')}"
                                            for k in fine["served"] - coarse["served"]),
          "served_only_at_90m": sorted(f"{k} {names.get(k, '')}"
                                       for k in coarse["served"] - fine["served"]),
          "n_served": {label: len(fine["served"]), "90m": len(coarse["served"])},
          "people": {label: round(fine["people"], 1), "90m": round(coarse["people"], 1)},
          "towers": {label: fine["towers"], "90m": coarse["towers"]},
          "towers_in_both": sorted(set(fine["towers"]) & set(coarse["towers"])),
          "wall_s": {label: round(fine["wall_s"], 1), "90m": round(coarse["wall_s"], 1)},
          "cpu_s": {label: round(fine["cpu_s"], 1), "90m": round(coarse["cpu_s"], 1)},
          "loadavg_end": os.getloadavg()})


if __name__ == "__main__":
    main()
