"""The default demo's coverage step with losses at the demand points vs full raster footprints.

    python benchmarks/bench_points.py [--agreement-sites N]

Reads the demo's inputs (default ``PlanConfig``: 90 m terrain, 30 km, ITM with the forest at
the handset), builds its demand cells and candidates as :func:`blankspot.plan.plan` does, and
times :func:`blankspot.plan.coverage_matrix_streamed` (the plan's coverage step: the matrices at
the threshold and ±5 dB) with ``evaluate_at="raster"`` (the default) and ``"points"``, wall
and process CPU seconds (all threads). numba compiles before the timed runs. Then the points
mode again with one point per desa (each target desa's representative point holding its
people), and with one point per desa for every desa of Paser, on the same candidates.

Agreement: for the first ``--agreement-sites`` candidates, the loss at each demand point from
the raster footprint (the point's cell) and on the exact path, where both have one: median
and 95th percentile of |Δ| dB; and over all candidates the share of demand × site entries and
of demand points whose covered flag differs between the two matrices.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import geopandas as gpd
import numpy as np
from _machine import cpu_model  # benchmarks/_machine.py, beside this script

from blankspot.config import PlanConfig
from blankspot.demand import demand_cells, select_villages
from blankspot.io.inputs import InputSpec, read_inputs
from blankspot.plan import _candidates, _stability_budgets, coverage_matrix_streamed
from blankspot.population import estimate_population


def timed(fn):
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)


def desa_points(villages: gpd.GeoDataFrame, ids) -> gpd.GeoDataFrame:
    """One demand point per desa: its representative point, holding all its people."""
    v = villages.loc[list(ids)]
    return gpd.GeoDataFrame(
        {"village_id": v.index.astype(str), "population": v["population"].to_numpy(float)},
        geometry=v.geometry.representative_point().to_numpy(), crs=villages.crs,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agreement-sites", type=int, default=12)
    args = ap.parse_args()
    config = PlanConfig()
    inputs = read_inputs(InputSpec(), config)
    terrain = inputs.terrain
    villages = estimate_population(inputs.villages, inputs.kecamatan_totals)
    targets = select_villages(villages, config.targets)
    demand = demand_cells(villages, cell_size_m=config.cell_size_m, village_ids=targets,
                          population_raster=inputs.population_raster)
    sites = _candidates(villages, targets, terrain, config, inputs.user_sites)
    budgets = _stability_budgets(config)
    raster = config.coverage_settings(inputs.landcover)
    points = raster.replace(evaluate_at="points")
    few = sites.iloc[:2]
    for s in (raster, points):  # numba compiles here, not in the timed runs
        coverage_matrix_streamed(terrain, few, demand, settings=s, budgets=budgets)

    def step(settings, cells):
        return lambda: coverage_matrix_streamed(terrain, sites, cells, settings=settings,
                                                budgets=budgets, batch_size=config.batch_size)

    load = os.getloadavg()
    m_raster, raster_wall, raster_cpu = timed(step(raster, demand))
    m_points, points_wall, points_cpu = timed(step(points, demand))
    one = desa_points(villages, targets)
    every = desa_points(villages, villages.index)
    _, one_wall, one_cpu = timed(step(points, one))
    _, all_wall, all_cpu = timed(step(points, every))
    load_after = os.getloadavg()

    a, b = m_raster[0].matrix.toarray(), m_points[0].matrix.toarray()
    # losses where both modes have one, on the first candidates
    sub = sites.iloc[: args.agreement_sites]
    cov = raster.compute(terrain, sub)
    xy = np.column_stack([demand.geometry.x.to_numpy(), demand.geometry.y.to_numpy()])
    t = terrain.transform
    rows = np.floor((xy[:, 1] - t.f) / t.e).astype(np.int64)
    cols = np.floor((xy[:, 0] - t.c) / t.a).astype(np.int64)
    exact = points.point_losses(terrain, sub, xy).toarray()
    # the same paths ending at the centre of each point's cell, where the raster is evaluated
    centre = points.point_losses(terrain, sub, np.column_stack(terrain.xy(rows, cols))).toarray()
    mapl = raster.link.max_path_loss_db
    deltas, deltas_c = [], []
    flags = {"raster": 0, "points": 0, "centres": 0, "differ_points": 0, "differ_centres": 0}
    for j, fp in enumerate(cov.footprints):
        r = fp.sample(rows, cols).astype(float)
        both = np.isfinite(r) & (exact[:, j] > 0)
        deltas.append(np.abs(exact[both, j] - r[both]))
        both = np.isfinite(r) & (centre[:, j] > 0)
        deltas_c.append(np.abs(centre[both, j] - r[both]))
        fr = np.isfinite(r) & (r <= mapl)
        fp_ = (exact[:, j] > 0) & (exact[:, j] <= mapl)
        fc = (centre[:, j] > 0) & (centre[:, j] <= mapl)
        flags["raster"] += int(fr.sum())
        flags["points"] += int(fp_.sum())
        flags["centres"] += int(fc.sum())
        flags["differ_points"] += int((fr != fp_).sum())
        flags["differ_centres"] += int((fr != fc).sum())
    delta = np.concatenate(deltas)
    delta_c = np.concatenate(deltas_c)
    print(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu_model(), "cores": os.cpu_count(),
        "load_avg_1_5_15_before": [round(v, 2) for v in load],
        "load_avg_1_5_15_after": [round(v, 2) for v in load_after],
        "terrain": f"{terrain.shape[0]}x{terrain.shape[1]} at {terrain.res_m:g} m",
        "candidates": len(sites), "demand_cells": len(demand),
        "raster": {"wall_s": raster_wall, "cpu_s": raster_cpu},
        "points": {"wall_s": points_wall, "cpu_s": points_cpu,
                   "cpu_ratio": round(raster_cpu / max(points_cpu, 1e-9), 1)},
        "points_one_per_target_desa": {"points": len(one), "wall_s": one_wall, "cpu_s": one_cpu},
        "points_one_per_desa_all": {"points": len(every), "wall_s": all_wall, "cpu_s": all_cpu},
        "agreement": {
            "entries_flag_differs": round(float((a != b).sum() / max(a.sum(), 1)), 4),
            "entries_flag_differs_of_all": round(float((a != b).mean()), 5),
            "entries_differing": int((a != b).sum()), "entries_covered_raster": int(a.sum()),
            "points_covered_any_differs": round(float((a.any(1) != b.any(1)).mean()), 4),
            "people_covered_any_raster": round(float(demand["population"].to_numpy()[a.any(1)].sum()), 1),
            "people_covered_any_points": round(float(demand["population"].to_numpy()[b.any(1)].sum()), 1),
            "sites_for_delta": len(sub), "pairs_for_delta": int(delta.size),
            "median_abs_delta_db": round(float(np.median(delta)), 2),
            "p95_abs_delta_db": round(float(np.percentile(delta, 95)), 2),
            "p99_abs_delta_db": round(float(np.percentile(delta, 99)), 2),
            "at_cell_centres_median_abs_delta_db": round(float(np.median(delta_c)), 4),
            "at_cell_centres_p99_abs_delta_db": round(float(np.percentile(delta_c, 99)), 2),
            "covered_entries_of_sites_for_delta": flags,
        },
    }, indent=1))


if __name__ == "__main__":
    main()
