"""Benchmark the default run (issue 3 targets: <= 120 s and <= 0.25 x a plain sequential papermill loop).

1. `python -m analysis run` (runs/default.yaml) into an empty reports folder: warm kernels, 2 workers,
   executed notebooks + HTML + figures + results.json + manifest.
2. The same notebook runs with a plain sequential loop of `papermill.execute_notebook` (a new kernel per
   notebook, no HTML), as a researcher would script it.
Prints both times and the ratio. Set BENCH_SKIP_PLAIN=1 to time only the first."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from analysis.runner.config import load_config

    config = load_config(ROOT / "runs" / "default.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        env = os.environ | {"VNGOV_REPORTS_DIR": f"{tmp}/reports"}
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "analysis", "run", "-q"], cwd=ROOT, env=env, check=True, stderr=subprocess.DEVNULL)
        fast = time.perf_counter() - t0
        print(f"default run ({len(config.jobs)} notebook runs + site, {os.cpu_count()} cores): {fast:.1f} s  (target <= 120 s)")
        import json

        manifest = json.loads(next(Path(tmp, "reports", "runs").glob("*/manifest.json")).read_text())
        site = manifest["site"]
        print(f"  notebooks {manifest['duration_s']} s; site {site['seconds']} s, {site['bytes'] / 1e6:.1f} MB, {site['pages']} pages"
              "  (targets: site < 20 s, < 40 MB)")
        if os.environ.get("BENCH_SKIP_PLAIN"):
            return
        import papermill as pm

        t0 = time.perf_counter()
        for i, job in enumerate(config.jobs, start=1):
            out = Path(tmp) / "plain" / job.name
            out.mkdir(parents=True)
            os.environ["VNGOV_OUTPUT_DIR"] = str(out)
            pm.execute_notebook(str(job.notebook), str(out / f"{job.name}.ipynb"), parameters=job.parameters,
                                kernel_name="vngov-indices", progress_bar=False, cwd=str(out))
            if i % 10 == 0:
                print(f"  plain loop: {i}/{len(config.jobs)} after {time.perf_counter() - t0:.0f} s", flush=True)
        plain = time.perf_counter() - t0
        print(f"plain sequential papermill loop: {plain:.1f} s")
        print(f"ratio: {fast / plain:.3f}  (target <= 0.25)")


if __name__ == "__main__":
    main()
