"""Issue 8's hang, by repetition: 20 consecutive short runs (3 notebooks, 3 workers) while a thread of the
runner's process keeps module import locks held (tests/fixtures/runner/stress_runs.py). With workers forked
from that process they hang for ever: the runner before issue 8 (ProcessPoolExecutor, fork) finished 3 runs
and hung in the 4th. Workers forked from the single-threaded forkserver must finish every run within its
limit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from analysis import paths
from analysis.runner.pool import kill_tree

FIXTURES = Path(__file__).parent / "fixtures" / "runner"
RUNS = 20
PER_RUN = 90  # seconds; a run takes about 5-15 s on a busy 2-core machine


def test_twenty_consecutive_runs_with_import_locks_held_all_finish(tmp_path):
    shutil.copy(FIXTURES / "ok.ipynb", tmp_path / "ok.ipynb")
    proc = subprocess.Popen([sys.executable, str(FIXTURES / "stress_runs.py"), str(tmp_path), str(RUNS), "--limits"],
                            cwd=paths.project_root(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=RUNS * PER_RUN)
    finally:
        if proc.poll() is None:  # a hang: do not leave it behind
            kill_tree(proc.pid)
            proc.communicate(timeout=30)
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(runs) == RUNS, f"only {len(runs)} of {RUNS} runs finished: {runs[-3:]}"
    assert all(r["status"] == "ok" and set(r["notebooks"].values()) == {"ok"} for r in runs), runs
    assert max(r["seconds"] for r in runs) < PER_RUN
    assert proc.returncode == 0
