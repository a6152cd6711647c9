"""Execute a run config: parallel workers with warm kernels, one output folder per notebook run, HTML,
a manifest with provenance, and `reports/latest` moved only when every notebook succeeded.

A run reads one snapshot of the data from start to end: `data/processed/current` is resolved once, when the run
starts, and every reader of the run (the manifest's provenance, each worker and kernel through
`VNGOV_PROCESSED_DIR`, which `load_panel` reads, and the site) is given that build folder, pinned so that builds
made meanwhile cannot prune it. A `make data` during a run therefore changes the next run, never this one."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil
from filelock import FileLock, Timeout
from tqdm import tqdm

from .. import environment, paths
from ..errors import DataError
from ..limits import WORKER_MEMORY_BYTES
from ..panel.io import current_build, pin
from ..site import finish_site, start_site
from .config import Job, RunConfig
from .pool import START_METHOD, Outcome, Task, prestart, run_tasks
from .worker import execute_job

KERNEL_NAME = "vngov-indices"
PACKAGES = ["pandas", "numpy", "scipy", "statsmodels", "linearmodels", "pymannkendall", "matplotlib", "geopandas",
            "papermill", "nbconvert", "pandera", "python-calamine", "vngov-indices"]


def reports_dir() -> Path:
    return Path(os.environ.get("VNGOV_REPORTS_DIR", paths.project_root() / "reports"))


def _git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.project_root(), capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.project_root(),
                               capture_output=True, text=True, check=True, timeout=30).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _data_provenance(build: Path) -> dict[str, Any]:
    from ..panel import load_build_info

    parquet = build / "indicators.parquet"
    if not parquet.exists():
        raise DataError("processed data not found; run `make data` first", file=parquet)
    info = load_build_info(build)
    # a researcher's table is an input like any raw file: file, sha256 and rows (and its mapping file)
    return {"indicators_sha256": hashlib.sha256(parquet.read_bytes()).hexdigest(), "raw_fingerprint": info["raw_fingerprint"],
            "raw_sources": info["sources"], "user_tables": info.get("user_tables", []), "build": build.name}


def worker_count(requested: int | None, n_jobs: int, available_bytes: int | None = None) -> tuple[int, str | None]:
    """Workers for a run, and why fewer than asked when memory decides. Each worker and its kernel take about
    `WORKER_MEMORY_BYTES` at their peak (`--jobs 12` peaked at 7.2 GiB), so the count is capped by the memory
    available now; at least one worker always runs."""
    wanted = max(1, min(requested or (os.cpu_count() or 1) + 1, n_jobs))
    available = psutil.virtual_memory().available if available_bytes is None else available_bytes
    fits = max(1, available // WORKER_MEMORY_BYTES)
    if fits >= wanted:
        return wanted, None
    return int(fits), (f"{wanted} workers asked, {fits} run: {available / 1024**3:.1f} GiB of memory available and each worker "
                       f"with its kernel takes up to {WORKER_MEMORY_BYTES / 1024**3:.2f} GiB")


def _require_kernel(name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel as exc:
        raise DataError(f"Jupyter kernel {name!r} is not installed", hint="Run `make setup` to register it") from exc


def _swap_latest(reports: Path, run_dir: Path) -> None:
    latest = reports / "latest"
    tmp = reports / f".latest-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(run_dir, reports), tmp)
    os.replace(tmp, latest)


def _prune(reports: Path, keep: int) -> list[str]:
    runs = sorted((p for p in (reports / "runs").iterdir() if p.is_dir()), key=lambda p: p.name)
    latest = (reports / "latest").resolve() if (reports / "latest").exists() else None
    removed = []
    for p in runs[: max(0, len(runs) - keep)]:
        if latest is not None and p.resolve() == latest:
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p.name)
    return removed


class _StopSignal:
    """SIGTERM/SIGINT during a run set a flag instead of raising wherever the main thread happens to be: the
    worker loop and every wait look at it within half a second, then stop workers and kernels, mark the run
    interrupted and release the lock. Installed only in the main thread (signals are delivered there)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _StopSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.signum = self.signum or signum

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)

    def __call__(self) -> bool:
        return self.signum is not None


def _in_thread(fn: Any, *args: Any) -> Future:
    """Run `fn` in a daemon thread: a caller can stop waiting for it (with a limit) and the process can still
    exit if it never returns (a ThreadPoolExecutor thread would be joined at exit, without a limit)."""
    fut: Future = Future()

    def target() -> None:
        if fut.set_running_or_notify_cancel():
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:
                fut.set_exception(exc)

    threading.Thread(target=target, name=f"vngov-{fn.__name__}", daemon=True).start()
    return fut


def _wait(fut: Future, deadline: float, stop: _StopSignal) -> Any:
    """The future's result, waiting until `deadline` (monotonic) at most and less if a stop signal arrives."""
    while True:
        if stop():
            raise _Stopped
        try:
            return fut.result(timeout=max(0.0, min(0.5, deadline - time.monotonic())))
        except FutureTimeout:
            if time.monotonic() >= deadline:
                raise
            continue


class _Stopped(Exception):
    pass


def _result(job: Job, o: Outcome, config: RunConfig, signum: int | None) -> dict[str, Any]:
    """The manifest entry of one notebook run, from the pool's outcome."""
    if o.kind == "done":
        return o.value
    status, ename, evalue = {
        "timeout": ("timeout", "NotebookTimeout", f"over notebook_timeout={job.notebook_timeout} s: {o.detail}"),
        "budget": ("timeout", "RunTimeout", f"still running when the run passed max_run_seconds={config.max_run_seconds}: {o.detail}"),
        "died": ("failed", "WorkerDied", o.detail),
        "interrupted": ("interrupted", "Interrupted", f"run stopped by {_signame(signum)}: {o.detail}"),
        "not_started": ("not_run", "NotRun", "the run stopped before this notebook started"),
    }[o.kind]
    return {"name": job.name, "notebook": job.notebook.name, "parameters": job.parameters, "status": status,
            "error": {"ename": ename, "evalue": evalue}, "duration_s": o.seconds, "outputs": []}


def _signame(signum: int | None) -> str:
    return signal.Signals(signum).name if signum else "a stop request"


def execute(config: RunConfig, jobs: int | None = None, engine: str | None = "vngov-warm", progress: bool = True,
            kernel_name: str = KERNEL_NAME, site: bool = True, publish: bool = True) -> tuple[Path, dict[str, Any]]:
    """Run every job; returns the run folder and its manifest. Refuses to start while another run holds the lock.
    `site=False` skips the report site (for internal runs whose outputs are not published). `publish=False`
    makes a partial run: a success leaves `reports/latest` (the published site) and the older runs as they
    were; the CLI passes `config.full` (see `config`'s docstring).

    Manifest `status`: ok, failed (a notebook or the site failed), timeout (a notebook passed its limit or the
    run passed `max_run_seconds`), interrupted (SIGTERM/SIGINT; `signal` names it). Only `ok` moves latest."""
    prestart()  # the forkserver's imports overlap with what follows
    reports = reports_dir()
    lock = FileLock(str(reports / ".run.lock"))
    try:
        (reports / "runs").mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise DataError("another run is in progress (lock held); wait for it to finish", file=reports / ".run.lock") from exc
    except OSError as exc:
        raise DataError(f"cannot write the reports: {exc.strerror or exc}", file=getattr(exc, "filename", None) or reports,
                        hint="The reports folder must be writable and its disk not full") from None
    try:
        build = current_build()
        saved = os.environ.get("VNGOV_PROCESSED_DIR")
        os.environ["VNGOV_PROCESSED_DIR"] = str(build)  # before any thread or worker starts: all of them read this
        try:
            with pin(build), _StopSignal() as stop:
                return _execute_locked(config, reports, stop, jobs, engine, progress, kernel_name, site, build, publish)
        finally:
            if saved is None:
                os.environ.pop("VNGOV_PROCESSED_DIR", None)
            else:
                os.environ["VNGOV_PROCESSED_DIR"] = saved
    finally:
        lock.release()


def _execute_locked(config: RunConfig, reports: Path, stop: _StopSignal, jobs: int | None, engine: str | None,
                    progress: bool, kernel_name: str, site: bool, build: Path, publish: bool) -> tuple[Path, dict[str, Any]]:
    t0 = time.perf_counter()
    deadline = time.monotonic() + config.max_run_seconds
    _require_kernel(kernel_name)
    provenance = _data_provenance(build)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    commit = _git_commit()
    run_id = f"{stamp}-{commit[:7]}"
    run_dir = reports / "runs" / run_id
    try:
        run_dir.mkdir(parents=True)
    except OSError as exc:
        raise DataError(f"cannot write the run folder: {exc.strerror or exc}", file=run_dir,
                        hint="The reports folder must be writable and its disk not full") from None
    # A worker and its kernel take turns (papermill/HTML, then the cells), so one worker more than the
    # number of cores keeps every core busy: measured 50 s with 2 workers, 40 s with 3, 42 s with 4.
    n_workers, memory_note = worker_count(jobs or config.default_jobs, len(config.jobs))
    if memory_note:
        print(f"note: {memory_note}", file=sys.stderr)
    order = sorted(config.jobs, key=lambda j: (j.notebook.stem.startswith("06_"), j.name))  # long analyses first
    # province pages need only the panel: build them while the notebooks run
    site_start = _in_thread(start_site, run_dir, run_id, provenance["indicators_sha256"]) if site else None
    # On a terminal a bar; in a log (stderr redirected) one line per finished notebook, so that every other line
    # (an error, a worker's warning) starts a line of its own instead of trailing a bar's last frame.
    live = progress and sys.stderr.isatty()
    bar = tqdm(total=len(order), desc=f"run {run_id}", unit="nb", disable=not live)
    finished = [0]

    def tick(o: Outcome) -> None:
        state = o.value["status"] if o.kind == "done" else o.kind
        finished[0] += 1
        if live:
            bar.set_postfix_str(f"{o.key}: {state}")
            bar.update()
        elif progress:
            print(f"run {run_id}: {finished[0]}/{len(order)} {o.key}: {state}", file=sys.stderr, flush=True)

    tasks = [Task(j.name, execute_job, (j, str(run_dir), kernel_name, engine, config.max_output_bytes), j.notebook_timeout)
             for j in order]
    try:
        outcomes = {o.key: o for o in run_tasks(tasks, n_workers, deadline, stop, tick)}
    finally:  # an error leaves the bar's line finished, so the message printed next has a line of its own
        bar.close()
    results = sorted((_result(j, outcomes[j.name], config, stop.signum) for j in order), key=lambda r: r["name"])
    over_budget = any(o.kind == "budget" for o in outcomes.values())
    statuses = {r["status"] for r in results}
    status = ("interrupted" if stop() else "timeout" if over_budget or "timeout" in statuses
              else "ok" if statuses == {"ok"} else "failed")
    manifest = {
        "run_id": run_id, "config": str(config.path), "status": status, "full": publish, "git_commit": commit,
        "data": provenance, "environment": environment.summary(), "packages": _versions(), "engine": engine or "papermill default (new kernel per notebook)",
        "workers": n_workers, "workers_note": memory_note, "start_method": START_METHOD,
        "limits": {"timeout_per_cell": sorted({j.timeout for j in config.jobs}),
                   "notebook_timeout": sorted({j.notebook_timeout for j in config.jobs}),
                   "max_run_seconds": config.max_run_seconds, "max_output_mb": config.max_output_mb},
        "duration_s": round(time.perf_counter() - t0, 2), "notebooks": results,
        "jobs": [asdict(j) | {"notebook": j.notebook.name} for j in config.jobs],
    }
    if stop():
        manifest["signal"] = _signame(stop.signum)
    if site_start is None:
        manifest["site"] = {"skipped": True}
    elif stop() or over_budget:
        manifest["site"] = {"skipped": f"run {status}"}
    else:
        try:
            start_seconds = _wait(site_start, deadline, stop)
            manifest["site"] = _wait(_in_thread(finish_site, run_dir, manifest), deadline, stop) | {"start_seconds": start_seconds}
            manifest["site"]["seconds"] = round(start_seconds + manifest["site"]["finish_seconds"], 2)
        except _Stopped:
            manifest["site"] = {"skipped": "run interrupted"}
            manifest["status"] = "interrupted"
            manifest["signal"] = _signame(stop.signum)
        except FutureTimeout:
            manifest["site"] = {"error": f"site not finished within max_run_seconds={config.max_run_seconds}"}
            manifest["status"] = "timeout"
        except Exception as exc:  # a run without its site is not a good run: keep latest where it is
            manifest["site"] = {"error": f"{type(exc).__name__}: {exc}"}
            manifest["status"] = "failed"
    manifest["duration_s"] = round(time.perf_counter() - t0, 2)
    _write_manifest(run_dir, manifest)
    if manifest["status"] == "ok" and not stop() and publish:  # a partial run never moves latest nor prunes
        try:
            _swap_latest(reports, run_dir)
        except OSError as exc:
            raise DataError(f"the run finished but reports/latest could not be moved to it: {exc.strerror or exc}", file=run_dir,
                            hint="reports/latest still points to the last successful run") from None
        manifest["pruned"] = _prune(reports, config.keep)
    return run_dir, manifest


def _write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    """The manifest, written whole or not at all (a full disk must not leave a 0-byte manifest.json that
    reads as a run). JSON escapes what UTF-8 cannot hold (`ensure_ascii` off for Vietnamese, surrogates escaped)."""
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str)
    data = text.encode("utf-8", "backslashreplace")
    tmp = run_dir / f".manifest-{os.getpid()}.json"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, run_dir / "manifest.json")
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write the run manifest: {exc.strerror or exc}", file=run_dir / "manifest.json",
                        hint="The run is not published; reports/latest still points to the last successful run") from None


def _strip_volatile(nb: Any) -> Any:
    """Remove papermill's timing metadata so committed notebooks change only when results change."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)  # ipywidgets state: random model ids, and of no use without a live kernel
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            raise DataError("refresh must run notebooks with their default parameters")
    return nb


def refresh_notebooks(names: list[str] | None = None, jobs: int | None = None) -> dict[str, Any]:
    """Re-execute the committed notebooks with their defaults and write the outputs back (for nbval)."""
    import tempfile

    import nbformat

    nb_dir = paths.project_root() / "notebooks"
    committed = [*nb_dir.glob("[0-9][0-9]_*.ipynb"), nb_dir / "explore.ipynb"]  # the explorer shows its default selection too
    notebooks = sorted(p for p in committed if not names or any(p.stem.startswith(n) for n in names))
    config = RunConfig(nb_dir, [Job(p.stem, p) for p in notebooks])
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("VNGOV_REPORTS_DIR")
        os.environ["VNGOV_REPORTS_DIR"] = tmp
        try:
            run_dir, manifest = execute(config, jobs=jobs, progress=True, site=False)
        finally:
            if old is None:
                os.environ.pop("VNGOV_REPORTS_DIR", None)
            else:
                os.environ["VNGOV_REPORTS_DIR"] = old
        if manifest["status"] != "ok":
            failed = [r["name"] for r in manifest["notebooks"] if r["status"] != "ok"]
            raise DataError(f"refresh failed; committed notebooks left unchanged: {failed}")
        for p in notebooks:
            nb = nbformat.read(run_dir / p.stem / f"{p.stem}.ipynb", as_version=4)
            nbformat.write(_strip_volatile(nb), p)
    return manifest
