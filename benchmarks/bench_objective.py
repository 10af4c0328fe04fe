"""Time the plan under each objective and coverage mode; prints one JSON line per run.

    python benchmarks/bench_objective.py [--window] [--repeat N] [--cache-dir DIR]

Runs :func:`blankspot.plan.plan_paser` with the demo's defaults (``objective="desa"``,
``coverage="threshold"``), then ``objective="people"``, then ``coverage="probability"``: on
the whole demo (the nine blank-spot desa, 30 km) or, with ``--window``, on the small Segendang
window the tests use. Each line gives wall and CPU seconds of the whole plan and of its steps,
the towers, the people (expected people with probabilities), the target desa served and the
coverage matrix's entries, with the machine and its load average. With ``--cache-dir`` the
footprints are kept in a footprint store, so the people run reads the default run's footprints
(its coverage time is then reading, not propagation; probability mode has footprints of its own,
computed with a longer loss cut-off). Not a test: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from _machine import cpu_model  # benchmarks/_machine.py, beside this script

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", action="store_true", help="the small Segendang window")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache-dir", default=None, help="footprint store shared by the runs")
    args = parser.parse_args()

    from blankspot.config import PlanConfig
    from blankspot.plan import plan_paser

    if args.window:
        from paser_window import SEGENDANG, SMALL, WINDOW

        base, kwargs = SMALL, {"bounds": WINDOW, "village_ids": [SEGENDANG]}
    else:
        base, kwargs = PlanConfig(), {}
    runs = {
        "desa, threshold (default)": base,
        "people, threshold": base.replace(objective="people"),
        "desa, probability": base.replace(coverage="probability"),
    }
    for label, cfg in runs.items():
        for _ in range(args.repeat):
            load_before = os.getloadavg()
            wall, cpu = time.perf_counter(), time.process_time()
            r = plan_paser(config=cfg, cache_dir=args.cache_dir, **kwargs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            desa = r.desa
            served = desa[(desa["served"] == "yes") & desa["target"].astype(bool)]["kode"]
            print(json.dumps({
                "run": label,
                "area": "window" if args.window else "demo",
                "wall_s": round(wall, 1),
                "cpu_s": round(cpu, 1),
                "steps_s": {k: round(v, 2) for k, v in r.timings_s.items()},
                "towers": list(r.solution.site_ids),
                "people": round(r.people_covered, 1),
                "people_in_target_desa": round(float(r.problem.total_weight), 1),
                "target_desa_served": f"{len(served)} of {len(r.target_ids)}",
                "n_desa_served_new": [int(v) for v in r.ranking["n_desa_served_new"]],
                "certificate_gap": None if r.certificate is None else r.certificate.gap,
                "certificate_people": (None if r.certificate is None
                                       else round(float(r.certificate.covered_weight), 1)),
                "certificate_desa_served": (None if r.certificate is None
                                            else r.certificate.desa_resolved),
                "note": r.solution.note,
                "footprint_cache": None if r.footprint_cache is None else {
                    k: v for k, v in r.footprint_cache.items() if k in ("hits", "misses")},
                "matrix_nnz": int(r.matrix.matrix.nnz),
                "cpu": cpu_model(),
                "load_avg_1m_before_after": [round(load_before[0], 2),
                                             round(os.getloadavg()[0], 2)],
                "date": time.strftime("%Y-%m-%d"),
            }), flush=True)


if __name__ == "__main__":
    main()
