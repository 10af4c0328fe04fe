"""Time the plan of two commits in one run, on the same machine, alternating.

    python benchmarks/bench_commits.py --base 48932ec [--repeat 3] [--bounds LON LAT LON LAT]
                                       [--village KODE ...] [--demo] [--data-dir DIR]

The base commit is checked out with ``git worktree`` into a temporary folder; each run is a
child process with ``PYTHONPATH`` set to one tree's ``src``, so both use the same installed
packages and only blankspot differs. A first run per tree compiles numba's cache (not counted);
then the trees alternate ``--repeat`` times. Each run plans the Paser demo with its default
configuration on the window given (default: Segendang and the terrain around it; ``--demo``:
the whole demo, every blank-spot desa of the kabupaten, as ``blankspot demo`` plans it), and
reports wall seconds, CPU seconds of the process (user + system, all threads), and the
coverage step's wall and CPU seconds (``coverage_matrix_streamed``, all threads). Each tree
plans with its own defaults, so where the defaults changed between the commits (demand model,
objective, where losses are taken) the plans may differ; the script says whether they do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import blankspot.plan as bp
from blankspot.plan import plan_paser
try:
    from blankspot.config import PlanConfig
except ImportError:  # older trees: the config lived in plan.py
    from blankspot.plan import PlanConfig
bounds, villages, data_dir = json.loads(sys.argv[1])
inner, coverage_cpu = bp.coverage_matrix_streamed, [0.0]

def timed(*args, **kwargs):  # the coverage step's CPU seconds, all threads of the process
    c = time.process_time()
    try:
        return inner(*args, **kwargs)
    finally:
        coverage_cpu[0] += time.process_time() - c

bp.coverage_matrix_streamed = timed
t = time.perf_counter()
r = plan_paser(data_dir, config=PlanConfig(), bounds=None if bounds is None else tuple(bounds),
               village_ids=villages)
wall = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall_s": wall, "cpu_s": use.ru_utime + use.ru_stime,
                  "coverage_s": r.timings_s.get("coverage_s"), "coverage_cpu_s": coverage_cpu[0],
                  "towers": list(r.solution.site_ids), "people": float(r.people_covered),
                  "candidates": len(r.sites), "demand_points": len(r.demand)}))
"""


def _run(src: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    payload = json.dumps([args.bounds, args.village, str(args.data_dir) if args.data_dir else None])
    out = subprocess.run([sys.executable, "-c", CHILD, payload], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the commit to compare with (e.g. 48932ec)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--bounds", nargs=4, type=float, default=[116.22, -2.42, 116.50, -2.17])
    ap.add_argument("--village", nargs="+", default=["64.01.09.2003"])
    ap.add_argument("--demo", action="store_true",
                    help="plan the whole demo (no window, the default targets)")
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()
    if args.demo:
        args.bounds, args.village = None, None
    tmp = Path(tempfile.mkdtemp(prefix="blankspot-base-"))
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tmp / "tree"),
                    args.base], check=True, capture_output=True)
    trees = {"base " + args.base: tmp / "tree" / "src", "this tree": REPO / "src"}
    try:
        for src in trees.values():  # numba compile, not counted
            _run(src, args)
        runs: dict[str, list[dict]] = {k: [] for k in trees}
        for _ in range(args.repeat):
            for label, src in trees.items():
                runs[label].append(_run(src, args))
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                        str(tmp / "tree")], check=False, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; window {args.bounds}, {args.repeat} runs")
    print(f"{'tree':<22}{'wall s':>10}{'CPU s':>10}{'coverage wall s':>17}"
          f"{'coverage CPU s':>16}   (medians)")
    medians, coverage = {}, {}
    for label, rs in runs.items():
        wall = statistics.median(r["wall_s"] for r in rs)
        cpu = statistics.median(r["cpu_s"] for r in rs)
        cov = statistics.median(r["coverage_s"] for r in rs)
        cov_cpu = statistics.median(r["coverage_cpu_s"] for r in rs)
        medians[label], coverage[label] = cpu, cov_cpu
        print(f"{label:<22}{wall:>10.2f}{cpu:>10.2f}{cov:>17.2f}{cov_cpu:>16.2f}")
    base, this = (runs[k][0] for k in trees)
    same = base["towers"] == this["towers"] and abs(base["people"] - this["people"]) < 1e-6
    a, b = medians.values()
    ca, cb = coverage.values()
    print(f"CPU ratio base/this: whole run {a / b:.2f}, coverage step {ca / max(cb, 1e-9):.2f}")
    for label, r in zip(trees, (base, this), strict=True):
        print(f"  {label}: {r['candidates']} candidates, {r['demand_points']} demand points, "
              f"towers {', '.join(r['towers'])}, {r['people']:.1f} people")
    print(f"same plan: {same}")


if __name__ == "__main__":
    main()
