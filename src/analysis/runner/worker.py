"""What a worker process does for one notebook run: papermill, the output cap, HTML (without CDN scripts). Kept apart from
run.py so a worker (and the forkserver that preloads it) imports only what it needs, not the site builder."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .config import Job
from .offline import offline
from .params import use_python_parameters_in_papermill

_HTML = None


def _exporter() -> Any:
    """One HTML exporter per worker: building it loads the templates, which costs more than a conversion."""
    global _HTML
    if _HTML is None:
        from nbconvert import HTMLExporter

        _HTML = HTMLExporter(embed_images=True)
    return _HTML


def execute_job(job: Job, run_dir: str, kernel_name: str, engine: str | None, max_output_bytes: int) -> dict[str, Any]:
    """Run one notebook with papermill and export HTML. Never raises: the status says what happened.

    An executed notebook larger than `max_output_bytes` fails with status `output_too_large` and is
    deleted, so a runaway print is not kept, converted to HTML and copied into the site."""
    import papermill as pm

    from . import engine as warm

    use_python_parameters_in_papermill()  # no "Passed unknown parameter" for a parameter that is applied
    out = Path(run_dir) / job.name
    out.mkdir(parents=True, exist_ok=True)
    nb_out = out / f"{job.name}.ipynb"
    t0 = time.perf_counter()
    executed = None
    result: dict[str, Any] = {"name": job.name, "notebook": job.notebook.name, "parameters": job.parameters,
                              "status": "ok", "error": None}
    try:
        kwargs: dict[str, Any] = ({"output_dir": str(out)} if engine == warm.ENGINE_NAME
                                  else {"cwd": str(out), "kernel_manager_class": warm.KernelManager})
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
    size = nb_out.stat().st_size if nb_out.exists() else 0
    if size > max_output_bytes:
        nb_out.unlink()
        executed = None
        result.update(status="output_too_large", error={
            "ename": "OutputTooLarge",
            "evalue": f"executed notebook is {size / 1e6:.1f} MB, over the cap of {max_output_bytes / 1e6:g} MB "
                      "(max_output_mb in the run config); deleted, no HTML, not in the site"})
        warm.restart()  # the kernel holds the output too
    if nb_out.exists():
        try:
            html, _ = _exporter().from_notebook_node(executed) if executed is not None else _exporter().from_filename(str(nb_out))
            (out / f"{job.name}.html").write_text(offline(html), encoding="utf-8")  # opens from disk, no CDN
        except Exception as exc:  # a notebook that failed half-way may not convert; say so
            result.setdefault("warnings", []).append(f"HTML export failed: {exc}")
    result["duration_s"] = round(time.perf_counter() - t0, 2)
    result["outputs"] = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return result
