"""Run the default config N times and count hangs (issue 8: 2 of 4 default runs never finished).

Each run is `python -m analysis run -q` in a fresh process, into its own empty reports folder, with an
outer wall-clock limit (`--limit`, default 600 s) as the judge of a hang: a run still alive then is killed
with its whole process tree and counted as a hang. The runner's own limits (notebook_timeout,
max_run_seconds) end a stuck run earlier with status `timeout`; that is counted as a timeout, not a
hang. Prints one line per run and a summary; exits 1 if any run hung, timed out or failed.

    python scripts/bench_hangs.py [--runs 10] [--limit 600] [--config runs/default.yaml] [--src DIR]

`--src` runs another checkout's package (e.g. the code before the fix) on this checkout's data."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def kill_tree(pid: int) -> None:
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)


def one_run(args: argparse.Namespace, i: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-hangs-") as tmp:
        env = os.environ | {"VNGOV_REPORTS_DIR": f"{tmp}/reports"}
        cwd = ROOT
        if args.src:
            env["PYTHONPATH"] = str(Path(args.src) / "src")
            cwd = Path(args.src)
        cmd = [sys.executable, "-m", "analysis", "run", "-q"] + (["--config", str(Path(args.config).resolve())] if args.config else [])
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            proc.communicate(timeout=args.limit)
            outcome = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            kill_tree(proc.pid)
            proc.communicate(timeout=30)
            outcome = "HANG"
        seconds = time.perf_counter() - t0
        manifests = list(Path(tmp, "reports", "runs").glob("*/manifest.json"))
        m = json.loads(manifests[0].read_text()) if manifests else {}
        status = m.get("status", "none")
        bad = [f"{r['name']}:{r['status']}" for r in m.get("notebooks", []) if r["status"] != "ok"]
        print(f"run {i:2d}: {seconds:6.1f} s  exit={outcome:8s} status={status:11s} notebooks={len(m.get('notebooks', []))} "
              f"site={m.get('site', {}).get('seconds', '-')} s {' '.join(bad[:5])}", flush=True)
        return {"seconds": seconds, "outcome": outcome, "status": status}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--limit", type=float, default=600.0, help="outer wall-clock limit per run (a run past it is a hang)")
    parser.add_argument("--config", help="run config (default: runs/default.yaml)")
    parser.add_argument("--src", help="another checkout whose src/ to run (its data/processed must exist)")
    args = parser.parse_args()
    print(f"{args.runs} default runs, {os.cpu_count()} cores, limit {args.limit:g} s per run, "
          f"start method {os.environ.get('VNGOV_START_METHOD', 'default')}, src {args.src or ROOT}", flush=True)
    runs = [one_run(args, i) for i in range(1, args.runs + 1)]
    hangs = sum(r["outcome"] == "HANG" for r in runs)
    timeouts = sum(r["status"] == "timeout" for r in runs)
    failed = sum(r["outcome"] != "ok" for r in runs) - hangs
    done = [r["seconds"] for r in runs if r["outcome"] != "HANG"]
    print(f"hangs: {hangs}  timeouts: {timeouts}  other failures: {failed - timeouts}  of {len(runs)} runs")
    if done:
        print(f"wall time of finished runs: median {statistics.median(done):.1f} s, min {min(done):.1f} s, max {max(done):.1f} s")
    return 1 if hangs or failed else 0


if __name__ == "__main__":
    sys.exit(main())
