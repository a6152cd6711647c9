"""Runs that cannot hang or leave processes behind (issue 8, items 1, 2 and 9): a per-notebook wall-clock
limit and a whole-run budget kill the stuck worker and its kernel; SIGTERM, SIGINT and SIGKILL of the runner
leave no worker or kernel alive; an oversized notebook output fails that notebook. Real processes only:
the runner is started as the CLI and its descendants are checked with psutil."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import write_config as config
from filelock import FileLock

from analysis import paths
from analysis.runner import pool, preload
from analysis.runner.config import load_config
from analysis.runner.run import execute


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids, seconds: float) -> list[int]:
    """The pids still alive after `seconds` (polling)."""
    end = time.monotonic() + seconds
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < end:
        time.sleep(0.2)
    return left


def stuck_pids(run_root: Path) -> list[tuple[int, int]]:
    """(kernel pid, worker pid) written by each started stuck.ipynb."""
    return [tuple(int(x) for x in p.read_text().split()) for p in run_root.glob("runs/*/*/pids-*.txt")]


def lock_free(reports: Path) -> bool:
    lock = FileLock(str(reports / ".run.lock"))
    lock.acquire(timeout=0)
    lock.release()
    return True


def test_notebook_wall_clock_limit_kills_worker_and_kernel(workdir):
    """The cell timeout is 600 s; the notebook limit (15 s) ends it, and the next notebook gets a new worker."""
    reports = workdir / "reports"
    good_dir, good = execute(load_config(config(workdir, [{"notebook": "ok.ipynb"}])), jobs=1, progress=False, site=False)
    assert good["status"] == "ok"
    cfg = load_config(config(workdir, [{"notebook": "stuck.ipynb", "name": "a-stuck", "notebook_timeout": 15},
                                       {"notebook": "ok.ipynb"}], timeout=600))
    t0 = time.monotonic()
    run_dir, manifest = execute(cfg, jobs=1, progress=False, site=False)
    status = {r["name"]: r for r in manifest["notebooks"]}
    assert status["a-stuck"]["status"] == "timeout"
    assert "notebook_timeout=15" in status["a-stuck"]["error"]["evalue"] and "killed" in status["a-stuck"]["error"]["evalue"]
    assert status["ok"]["status"] == "ok"
    assert manifest["status"] == "timeout"
    assert time.monotonic() - t0 < 15 + 60
    started = stuck_pids(reports)  # empty only if the kernel had not even started within 15 s
    assert len(started) <= 1 and not wait_gone([pid for pair in started for pid in pair], 5)
    assert (reports / "latest").resolve() == good_dir.resolve()
    assert lock_free(reports)
    assert json.loads((run_dir / "manifest.json").read_text())["status"] == "timeout"


def test_run_budget_ends_a_stuck_run(workdir):
    reports = workdir / "reports"
    cfg = load_config(config(workdir, [{"notebook": "stuck.ipynb", "name": "a-stuck"}, {"notebook": "ok.ipynb"}],
                             timeout=600, max_run_seconds=12))
    t0 = time.monotonic()
    _, manifest = execute(cfg, jobs=1, progress=False, site=False)
    assert time.monotonic() - t0 < 12 + 30
    status = {r["name"]: r for r in manifest["notebooks"]}
    assert status["a-stuck"]["status"] == "timeout" and "max_run_seconds=12" in status["a-stuck"]["error"]["evalue"]
    assert status["ok"]["status"] == "not_run"
    assert manifest["status"] == "timeout" and manifest["limits"]["max_run_seconds"] == 12
    assert not wait_gone([pid for pair in stuck_pids(reports) for pid in pair], 5)
    assert not (reports / "latest").exists()
    assert lock_free(reports)


def test_output_over_the_cap_fails_that_notebook_only(workdir):
    cfg = load_config(config(workdir, [{"notebook": "big.ipynb", "parameters": {"mb": 2}}, {"notebook": "ok.ipynb"}],
                             max_output_mb=1))
    run_dir, manifest = execute(cfg, jobs=1, progress=False, site=False)
    status = {r["name"]: r for r in manifest["notebooks"]}
    assert status["big"]["status"] == "output_too_large"
    assert "over the cap of 1 MB" in status["big"]["error"]["evalue"]
    assert not (run_dir / "big" / "big.ipynb").exists() and not (run_dir / "big" / "big.html").exists()
    assert status["ok"]["status"] == "ok"
    assert manifest["status"] == "failed"
    small = load_config(config(workdir, [{"notebook": "big.ipynb", "parameters": {"mb": 2}}], max_output_mb=5))
    assert execute(small, jobs=1, progress=False, site=False)[1]["status"] == "ok"  # under the cap it passes


def _start_cli_with_stuck_kernels(workdir, n=3):
    cfg = config(workdir, [{"notebook": "stuck.ipynb", "name": f"stuck-{k}"} for k in range(n)], timeout=600)
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "run", "--config", str(cfg), "--jobs", str(n), "-q"],
                            cwd=paths.project_root(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 120
    while len(stuck_pids(workdir / "reports")) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "kernels did not start within 120 s"
        time.sleep(0.3)
    descendants = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    kernels = [k for k, _ in stuck_pids(workdir / "reports")]
    assert set(kernels) <= set(descendants)
    return proc, descendants


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_workers_and_kernels_cleanly(workdir, sig):
    reports = workdir / "reports"
    proc, descendants = _start_cli_with_stuck_kernels(workdir)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"interrupted by {sig.name}" in err and "Traceback" not in err
    assert not wait_gone(descendants, 10)
    manifest = json.loads(next(reports.glob("runs/*/manifest.json")).read_text())
    assert manifest["status"] == "interrupted" and manifest["signal"] == sig.name
    assert {r["status"] for r in manifest["notebooks"]} == {"interrupted"}
    assert not (reports / "latest").exists()
    assert lock_free(reports)


def test_sigkill_of_the_runner_leaves_no_worker_or_kernel(workdir):
    proc, descendants = _start_cli_with_stuck_kernels(workdir)
    proc.kill()
    proc.communicate(timeout=30)
    survivors = wait_gone(descendants, 10)
    assert not survivors, [psutil.Process(p).cmdline() for p in survivors if alive(p)]
    assert lock_free(workdir / "reports")


def test_workers_are_forked_from_a_single_threaded_forkserver():
    """The runner never forks itself; the forkserver it forks from has one thread (no OpenBLAS or jemalloc
    threads) after preloading papermill, nbconvert and the engine."""
    assert pool.START_METHOD == "forkserver"
    task = pool.Task("threads", preload.threads_at_fork, (), 120)
    (outcome,) = pool.run_tasks([task], 1, time.monotonic() + 120, lambda: False)
    assert (outcome.kind, outcome.value) == ("done", 1)


FLAKY_KERNEL = """\
import os, sys
marker = sys.argv[1]
if not os.path.exists(marker):  # the first start dies before answering, as a kernel that lost its port
    open(marker, "w").close()
    sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[2]])
"""


def test_a_kernel_that_dies_while_starting_is_started_again(workdir, monkeypatch):
    spec = workdir / "jupyter" / "kernels" / "flaky"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": [sys.executable, "-c", FLAKY_KERNEL, str(workdir / "died-once"),
                                                            "{connection_file}"], "display_name": "flaky", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(workdir / "jupyter"))
    _, manifest = execute(load_config(config(workdir, [{"notebook": "ok.ipynb"}])), jobs=1, progress=False, site=False,
                          kernel_name="flaky")
    assert (workdir / "died-once").exists()  # the first start did die
    assert manifest["notebooks"][0]["status"] == "ok", manifest["notebooks"][0]["error"]


# ---- issue 17, item 9: nothing a notebook starts outlives the run -------------------------------------------


@pytest.mark.parametrize("plain", [False, True])
def test_a_process_started_in_a_new_session_dies_with_the_run(workdir, plain):
    """A notebook's child in its own session (start_new_session=True) is outside the kernel's process group;
    it used to outlive the run. The worker adopts it (subreaper) and kills the kernel's whole tree."""
    run_dir, manifest = execute(load_config(config(workdir, [{"notebook": "orphan.ipynb"}])), jobs=1, progress=False, site=False,
                                engine=None if plain else "vngov-warm")
    assert manifest["status"] == "ok", manifest["notebooks"]
    pid = int((run_dir / "orphan" / "orphan.pid").read_text())
    assert wait_gone([pid], 15) == [], f"the notebook's child {pid} outlived the run"


def test_workers_are_capped_by_the_memory_available():
    from analysis.limits import WORKER_MEMORY_BYTES
    from analysis.runner.run import worker_count

    assert worker_count(12, 70, available_bytes=100 * WORKER_MEMORY_BYTES) == (12, None)
    n, note = worker_count(12, 70, available_bytes=int(3.5 * WORKER_MEMORY_BYTES))
    assert n == 3 and "12 workers asked, 3 run" in note and "GiB of memory available" in note
    assert worker_count(12, 70, available_bytes=10)[0] == 1  # at least one
    assert worker_count(12, 2, available_bytes=100 * WORKER_MEMORY_BYTES) == (2, None)  # never more than the notebooks


def test_the_memory_cap_is_said_and_recorded(workdir, monkeypatch, capsys):
    from analysis.limits import WORKER_MEMORY_BYTES

    class Memory:
        available = 2 * WORKER_MEMORY_BYTES

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory)
    cfg = load_config(config(workdir, [{"notebook": "ok.ipynb", "name": f"ok-{i}"} for i in range(4)]))
    _, manifest = execute(cfg, jobs=4, progress=False, site=False)
    assert manifest["status"] == "ok" and manifest["workers"] == 2
    assert "4 workers asked, 2 run" in manifest["workers_note"] and "4 workers asked, 2 run" in capsys.readouterr().err
