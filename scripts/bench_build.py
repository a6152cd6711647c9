"""Benchmark `data build` from the mirror on this machine (issue 2 target: <= 15 s on 2 cores).

Each run starts from an empty raw folder (so the fetch from the mirror with sha256 checks is timed too)
and writes to a temporary processed folder. Prints the runs and the median."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    times = []
    for i in range(RUNS):
        with tempfile.TemporaryDirectory() as tmp:
            env = os.environ | {"VNGOV_RAW_DIR": f"{tmp}/raw", "VNGOV_PROCESSED_DIR": f"{tmp}/processed",
                                "VNGOV_USER_DIR": f"{tmp}/user"}
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "analysis", "data", "build", "-q"], cwd=root, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t0)
            print(f"run {i + 1}: {times[-1]:.2f} s (fetch from mirror + build, including interpreter start)")
    print(f"median of {RUNS}: {statistics.median(times):.2f} s on {os.cpu_count()} cores; target <= 15 s")


if __name__ == "__main__":
    main()
