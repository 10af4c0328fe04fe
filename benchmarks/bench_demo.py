"""Time the Paser demo end to end and report its peak memory.

    python benchmarks/bench_demo.py [--out DIR] [--data-dir DIR]

Runs ``blankspot demo`` in a child process (so the JIT compile and imports are counted as a
planner would see them) and prints wall time and peak resident memory (ru_maxrss of the child).
Run it twice: the first run includes numba's one-off compile, cached for later runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="blankspot-bench-"))
    exe = shutil.which("blankspot") or str(Path(sys.executable).with_name("blankspot"))
    cmd = [exe, "--quiet", "demo", "--out", str(out)]
    if args.data_dir:
        cmd += ["--data-dir", str(args.data_dir)]
    for i in range(args.repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(json.dumps({
            "run": i + 1,
            "wall_s": round(wall, 1),
            "peak_rss_mib": round(max(peak_kib, before) / 1024, 0),
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "out": str(out),
        }))


if __name__ == "__main__":
    main()
