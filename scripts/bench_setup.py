"""Benchmark set-up from nothing (issue 12): a fresh clone of a git ref, no `.venv`, empty installer caches.

Measurements (each in its own fresh clone under /work, so `../shared` resolves, deleted afterwards):
  setup    `make setup`                              target <= 20 s
  reports  `make setup`, `make data`, `make reports`  target <= 90 s in all (the three make up `make reports`)
  ci       `CI=true bash .ci/run`                     the CI job on a fresh clone

"Empty installer caches": UV_CACHE_DIR and PIP_CACHE_DIR point to new temporary folders, as on a new
machine (the machine's pip.conf, find-links and extra indexes stay as they are; MPLCONFIGDIR is fresh too).

    python scripts/bench_setup.py                       # HEAD: setup and reports
    python scripts/bench_setup.py --ref main --ref HEAD --what setup,reports,ci
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"setup": 20.0, "reports": 90.0}
LIMIT_S = {"setup": 900, "data": 900, "reports": 1800, "ci": 5400}


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str], limit: int, log: Path) -> tuple[float, float, int]:
    """Run `cmd` in its own process group with a time limit; the whole group is killed on timeout. Returns wall
    seconds, CPU seconds (user + system of every waited-for descendant: less sensitive to other load) and exit code."""
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            rc = -9
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
            raise
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return time.perf_counter() - t0, cpu, rc


def fresh_clone(ref: str) -> Path:
    sha = subprocess.run(["git", "rev-parse", ref], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    dest = ROOT.parent / f"bench-clone-{uuid.uuid4().hex[:8]}"  # beside the project, so ../shared resolves
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(ROOT), str(dest)], check=True, timeout=300)
    subprocess.run(["git", "checkout", "--quiet", "--detach", sha], cwd=dest, check=True, timeout=300)
    return dest


def measure(ref: str, what: str, logdir: Path) -> dict[str, object]:
    dest = fresh_clone(ref)
    caches = Path(tempfile.mkdtemp(prefix="bench-caches-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "VNGOV_", "UV_", "PIP_CACHE"))}
    env |= {"UV_CACHE_DIR": str(caches / "uv"), "PIP_CACHE_DIR": str(caches / "pip"), "MPLCONFIGDIR": str(caches / "mpl")}
    if what == "ci":
        env["CI"] = "true"
    log = logdir / f"{what}-{ref.replace('/', '_')}.log"
    log.unlink(missing_ok=True)
    steps = {"setup": [["make", "setup"]], "reports": [["make", "setup"], ["make", "data"], ["make", "reports"]],
             "ci": [["bash", ".ci/run"]]}[what]
    result: dict[str, object] = {"ref": ref, "what": what, "load_before": round(os.getloadavg()[0], 2), "log": str(log)}
    try:
        total = cpu_total = 0.0
        for cmd in steps:
            seconds, cpu, rc = run_timed(cmd, dest, env, LIMIT_S[cmd[-1] if cmd[0] == "make" else "ci"], log)
            total += seconds
            cpu_total += cpu
            result[" ".join(cmd)] = round(seconds, 1)
            if rc != 0:
                result["failed"] = f"{' '.join(cmd)} exited {rc}"
                break
        result["total_s"] = round(total, 1)
        result["cpu_s"] = round(cpu_total, 1)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(caches, ignore_errors=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", action="append", help="git ref to clone (repeatable; default HEAD)")
    ap.add_argument("--what", default="setup,reports", help="comma-separated: setup, reports, ci")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    logdir = Path(tempfile.gettempdir()) / "vngov-bench-setup"
    logdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; logs in {logdir}", flush=True)
    results = []
    for what in args.what.split(","):
        for ref in args.ref or ["HEAD"]:
            r = measure(ref, what, logdir)
            results.append(r)
            target = TARGETS.get(what)
            verdict = "" if target is None else f"  (target <= {target:.0f} s: {'met' if r['total_s'] <= target else 'MISSED'})"
            steps = ", ".join(f"{k} {v} s" for k, v in r.items() if k.startswith(("make", "bash")))
            print(f"{what:8s} {ref:12s} {r['total_s']:7.1f} s{verdict}  [{steps}; CPU {r['cpu_s']} s; load {r['load_before']}]"
                  + (f"  FAILED: {r['failed']}" if "failed" in r else ""), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if any("failed" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
