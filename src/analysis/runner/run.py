"""Execute a run config: parallel workers with warm kernels, one output folder per notebook run, HTML,
a manifest with provenance, and `reports/latest` moved only when every notebook succeeded."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from .. import paths
from ..errors import DataError
from ..site import finish_site, start_site
from .config import Job, RunConfig

KERNEL_NAME = "vngov-indices"
PACKAGES = ["pandas", "numpy", "scipy", "statsmodels", "linearmodels", "pymannkendall", "matplotlib", "geopandas",
            "papermill", "nbconvert", "pandera", "python-calamine", "vngov-indices"]


def reports_dir() -> Path:
    return Path(os.environ.get("VNGOV_REPORTS_DIR", paths.project_root() / "reports"))


def _git_commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=paths.project_root(), capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.project_root(),
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for p in PACKAGES:
        try:
            out[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            out[p] = "not installed"
    return out


def _data_provenance() -> dict[str, Any]:
    from ..panel import load_build_info

    parquet = paths.processed_dir() / "indicators.parquet"
    if not parquet.exists():
        raise DataError("processed data not found; run `make data` first", file=parquet)
    info = load_build_info()
    # a researcher's table is an input like any raw file: file, sha256 and rows (and its mapping file)
    return {"indicators_sha256": hashlib.sha256(parquet.read_bytes()).hexdigest(), "raw_fingerprint": info["raw_fingerprint"],
            "raw_sources": info["sources"], "user_tables": info.get("user_tables", [])}


_HTML = None


def _exporter() -> Any:
    """One HTML exporter per worker: building it loads the templates, which costs more than a conversion."""
    global _HTML
    if _HTML is None:
        from nbconvert import HTMLExporter

        _HTML = HTMLExporter(embed_images=True)
    return _HTML


def execute_job(job: Job, run_dir: str, kernel_name: str, engine: str | None) -> dict[str, Any]:
    """Worker: run one notebook with papermill and export HTML. Never raises: the status says what happened."""
    import papermill as pm

    from . import engine as warm

    out = Path(run_dir) / job.name
    out.mkdir(parents=True, exist_ok=True)
    nb_out = out / f"{job.name}.ipynb"
    t0 = time.perf_counter()
    executed = None
    result: dict[str, Any] = {"name": job.name, "notebook": job.notebook.name, "parameters": job.parameters,
                              "status": "ok", "error": None}
    try:
        kwargs: dict[str, Any] = {"output_dir": str(out)} if engine == warm.ENGINE_NAME else {"cwd": str(out)}
        if engine != warm.ENGINE_NAME:
            os.environ["VNGOV_OUTPUT_DIR"] = str(out)
        executed = pm.execute_notebook(str(job.notebook), str(nb_out), parameters=job.parameters, kernel_name=kernel_name,
                            engine_name=engine, execution_timeout=job.timeout, progress_bar=False, log_output=False,
                            report_mode=False, request_save_on_cell_execute=False, **kwargs)
    except pm.PapermillExecutionError as exc:
        result.update(status="failed", error={"cell": exc.cell_index + 1, "execution_count": exc.exec_count,
                                              "ename": exc.ename, "evalue": str(exc.evalue)[:500]})
        warm.restart()
    except Exception as exc:  # timeouts and kernel deaths: report and keep going with a fresh kernel
        timeout = "Timeout" in type(exc).__name__ or isinstance(exc, TimeoutError)
        result.update(status="timeout" if timeout else "failed", error={"ename": type(exc).__name__, "evalue": str(exc)[:500]})
        warm.restart()
    if nb_out.exists():
        try:
            html, _ = _exporter().from_notebook_node(executed) if executed is not None else _exporter().from_filename(str(nb_out))
            (out / f"{job.name}.html").write_text(html, encoding="utf-8")
        except Exception as exc:  # a notebook that failed half-way may not convert; say so
            result.setdefault("warnings", []).append(f"HTML export failed: {exc}")
    result["duration_s"] = round(time.perf_counter() - t0, 2)
    result["outputs"] = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return result


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


def execute(config: RunConfig, jobs: int | None = None, engine: str | None = "vngov-warm", progress: bool = True,
            kernel_name: str = KERNEL_NAME, site: bool = True) -> tuple[Path, dict[str, Any]]:
    """Run every job; returns the run folder and its manifest. Refuses to start while another run holds the lock.
    `site=False` skips the report site (for internal runs whose outputs are not published)."""
    reports = reports_dir()
    (reports / "runs").mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(reports / ".run.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout as exc:
        raise DataError("another run is in progress (lock held); wait for it to finish", file=reports / ".run.lock") from exc
    try:
        _require_kernel(kernel_name)
        provenance = _data_provenance()
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        commit = _git_commit()
        run_id = f"{stamp}-{commit[:7]}"
        run_dir = reports / "runs" / run_id
        run_dir.mkdir(parents=True)
        # A worker and its kernel take turns (papermill/HTML, then the cells), so one worker more than the
        # number of cores keeps every core busy: measured 50 s with 2 workers, 40 s with 3, 42 s with 4.
        n_workers = max(1, min(jobs or config.default_jobs or (os.cpu_count() or 1) + 1, len(config.jobs)))
        order = sorted(config.jobs, key=lambda j: (j.notebook.stem.startswith("06_"), j.name))  # long analyses first
        t0 = time.perf_counter()
        # province pages need only the panel: build them while the notebooks run
        site_pool = ThreadPoolExecutor(max_workers=1)
        site_start = site_pool.submit(start_site, run_dir, run_id, provenance["indicators_sha256"]) if site else None
        results: list[dict[str, Any]] = []
        bar = tqdm(total=len(order), desc=f"run {run_id}", unit="nb", disable=not progress)
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = {pool.submit(execute_job, j, str(run_dir), kernel_name, engine): j for j in order}
            for fut in as_completed(futures):
                r = fut.result()
                results.append(r)
                bar.set_postfix_str(f"{r['name']}: {r['status']}")
                bar.update()
        bar.close()
        results.sort(key=lambda r: r["name"])
        ok = all(r["status"] == "ok" for r in results)
        manifest = {
            "run_id": run_id, "config": str(config.path), "status": "ok" if ok else "failed", "git_commit": commit,
            "data": provenance, "packages": _versions(), "engine": engine or "papermill default (new kernel per notebook)",
            "workers": n_workers, "duration_s": round(time.perf_counter() - t0, 2), "notebooks": results,
            "jobs": [asdict(j) | {"notebook": j.notebook.name} for j in config.jobs],
        }
        if site_start is None:
            manifest["site"] = {"skipped": True}
        else:
            try:
                start_seconds = site_start.result()
                manifest["site"] = finish_site(run_dir, manifest) | {"start_seconds": start_seconds}
                manifest["site"]["seconds"] = round(start_seconds + manifest["site"]["finish_seconds"], 2)
            except Exception as exc:  # a run without its site is not a good run: keep latest where it is
                manifest["site"] = {"error": f"{type(exc).__name__}: {exc}"}
                manifest["status"] = "failed"
                ok = False
        site_pool.shutdown()
        (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        if ok:
            _swap_latest(reports, run_dir)
            manifest["pruned"] = _prune(reports, config.keep)
        return run_dir, manifest
    finally:
        lock.release()


def _strip_volatile(nb: Any) -> Any:
    """Remove papermill's timing metadata so committed notebooks change only when results change."""
    nb.metadata.pop("papermill", None)
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
    notebooks = sorted(p for p in nb_dir.glob("[0-9][0-9]_*.ipynb") if not names or any(p.stem.startswith(n) for n in names))
    config = RunConfig(nb_dir, [Job(p.stem, p, {}, 600) for p in notebooks])
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
