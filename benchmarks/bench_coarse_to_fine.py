"""Coarse-to-fine planning (90 m → 30 m) over the whole of Paser: the margin, then the plan.

    python benchmarks/bench_coarse_to_fine.py [--margin-sites 40] [--candidates N]
        [--margin-db M] [--radius-km 30] [--data-dir DIR]

(a) For ``--margin-sites`` candidates drawn at random (seed 0), path loss at every demand cell
of the 144 desa at 90 m and at 30 m (ITM, tropical forest at the handset): the distribution of
|Δ| for pairs within 20 dB of the threshold (median, p95, p99, max) and the one-sided margins
the bracket needs (``need_upper_db``: the most the 90 m run understates the power at a cell
covered at 30 m; ``need_lower_db``: the most it overstates it at a cell not covered at 30 m).

(b) Candidates on a 2 km grid plus high points over the whole kabupaten (``--candidates N``
draws N of them at random, seed 1, for a scaled run), every desa a target, priced by the cost
model, the Paser budget: every candidate at 90 m, then :func:`coarse_to_fine_plan` with the
margin (default: the measured ``need_upper_db`` rounded up, plus 1 dB; ``--margin-quantile q``:
that quantile of the measured excess, rounded up, which makes the certificate conditional on
it). Prints the 90 m time,
how many candidates were recomputed at 30 m and their time, total wall and CPU time (all
threads), the certificate, the load average and the CPU model. Needs the 1 arc-second demo DEM
in the data directory (``blankspot data fetch --from DIR``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
from _machine import cpu_model  # benchmarks/_machine.py, beside this script


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--margin-sites", type=int, default=40)
    ap.add_argument("--candidates", type=int, default=None, help="draw this many (scaled run)")
    ap.add_argument("--margin-db", type=float, default=None)
    ap.add_argument("--lower-margin-db", type=float, default=None)
    ap.add_argument("--margin-quantile", type=float, default=None,
                    help="use this quantile of the measured one-sided excess as the margin "
                         "(the certificate is then conditional on it)")
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--skip-plan", action="store_true")
    args = ap.parse_args()

    from blankspot.candidates import generate_candidates
    from blankspot.coarse_to_fine import coarse_to_fine_plan, measure_margin
    from blankspot.config import PlanConfig
    from blankspot.costs import CostModel, CostParameters
    from blankspot.demand import demand_cells
    from blankspot.io.inputs import InputSpec, read_inputs
    from blankspot.io.terrain import read_terrain
    from blankspot.population import estimate_population

    print(json.dumps({"cpu": cpu_model(), "cores": os.cpu_count(),
                      "loadavg_start": os.getloadavg()}))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    config = PlanConfig(targets="all", radius_m=args.radius_km * 1000.0, terrain_res_m=90.0)
    inputs = read_inputs(InputSpec(data_dir=args.data_dir), config)
    coarse = inputs.terrain
    dem = inputs.paths["dem"]
    if "1s" not in str(dem):
        raise SystemExit(f"needs the 1 arc-second demo DEM; the data directory gives {dem}")
    b = coarse.bounds
    fine = read_terrain(dem, bounds=b, bounds_crs=coarse.crs, crs=coarse.crs, res_m=30.0)
    villages = estimate_population(inputs.villages, inputs.kecamatan_totals)
    demand = demand_cells(villages, cell_size_m=config.cell_size_m)
    settings = config.coverage_settings()
    sites = generate_candidates(coarse, villages.geometry.union_all(), height_agl_m=72.0,
                                n_high_points=200, grid_spacing_m=2_000.0,
                                min_separation_m=1_000.0, search_buffer_m=0.0)
    n_all = len(sites)
    print(json.dumps({"read_s": round(time.perf_counter() - wall0, 1),
                      "terrain_90m": coarse.elevation_m.shape, "terrain_30m": fine.elevation_m.shape,
                      "demand_cells": len(demand), "people": float(demand["population"].sum()),
                      "candidates_generated": n_all}))

    # (a) the margin
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(n_all, size=min(args.margin_sites, n_all), replace=False))
    t, c = time.perf_counter(), time.process_time()
    m = measure_margin(coarse, fine, sites.iloc[pick], demand, settings=settings)
    print(json.dumps({"margin": m.summary(), "wall_s": round(time.perf_counter() - t, 1),
                      "cpu_s": round(time.process_time() - c, 1),
                      "loadavg": os.getloadavg()}, default=float))
    if args.skip_plan:
        return

    # (b) the plan
    if args.candidates is not None and args.candidates < n_all:
        keep = np.sort(np.random.default_rng(1).choice(n_all, size=args.candidates, replace=False))
        sites = sites.iloc[keep]
    costs = CostModel(CostParameters.default()).site_costs(sites)["capex_idr"]
    sites = sites.assign(cost_idr=costs.to_numpy().astype(np.int64))
    if args.margin_db is not None:
        margin = args.margin_db
    elif args.margin_quantile is not None:
        margin = math.ceil(m.upper_quantile_db(args.margin_quantile))
    else:
        margin = math.ceil(m.need_upper_db) + 1.0
    if args.lower_margin_db is not None:
        lower = args.lower_margin_db
    else:
        lower = margin if math.isnan(m.need_lower_db) else math.ceil(m.need_lower_db) + 1.0
    t, c = time.perf_counter(), time.process_time()
    result = coarse_to_fine_plan(coarse, fine, sites, demand, settings=settings,
                                 budget_idr=config.budget_idr, margin_db=margin,
                                 lower_margin_db=lower,
                                 exact_options={"time_limit_s": 300.0})
    rounds = [{"upper": round(r.upper_bound, 1),
               "lower": None if r.lower_bound is None else round(r.lower_bound, 1),
               "new": r.chosen_unrefined} for r in result.refinement.rounds]
    print(json.dumps({
        "candidates": len(sites), "certificate": result.summary(), "rounds": rounds,
        "plan_wall_s": round(time.perf_counter() - t, 1),
        "plan_cpu_s": round(time.process_time() - c, 1),
        "total_wall_s": round(time.perf_counter() - wall0, 1),
        "total_cpu_s": round(time.process_time() - cpu0, 1),
        "loadavg_end": os.getloadavg(),
    }, default=float))


if __name__ == "__main__":
    main()
