"""A papermill engine that keeps one warm kernel per worker process.

Starting a kernel and importing pandas, matplotlib and the package costs seconds per notebook run; with
70 runs that dominates. This engine reuses the worker's kernel: before each run it clears the user
namespace (`%reset -f`), closes figures and moves to the run's output folder; after a failure or a
timeout the kernel is restarted, so a broken run cannot leak state into the next one. Execution counts
are renumbered from 1, so outputs match a fresh-kernel run.

The kernel is started through `pool.parent_death_cmd()`: it gets SIGKILL when its worker dies, however the
worker dies (ipykernel's own parent poller would notice only after a second, and only for its parent). When
the kernel is shut down (restart after a failure, end of the worker), its whole process tree goes with it:
a process a notebook started in its own session (`start_new_session=True`) is outside the kernel's process
group, so jupyter_client's kill would miss it."""

from __future__ import annotations

import multiprocessing.util
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import Engine, papermill_engines
from papermill.log import logger

from .pool import kill_descendants, parent_death_cmd

ENGINE_NAME = "vngov-warm"
_KM: AsyncKernelManager | None = None

# Clears every user variable (what `%reset -f` does, without its full garbage collection, which costs
# 40 ms per run once pandas, matplotlib and geopandas are loaded).
RESET = """\
_ip = get_ipython()
for _k in [k for k in _ip.user_ns if not k.startswith('_') and k not in _ip.user_ns_hidden]:
    del _ip.user_ns[_k]
del _ip
import os as _os, matplotlib.pyplot as _plt
_plt.close('all')
_os.environ['VNGOV_OUTPUT_DIR'] = {out!r}
_os.chdir({out!r})
del _os, _plt
"""


class KernelManager(AsyncKernelManager):
    """A kernel manager whose kernels die with the worker that started them and whose ZMQ transport is
    encrypted with manager-provisioned CurveZMQ keys (the project's kernelspec declares `curve` support):
    code and outputs are not sent in plain text over local TCP, and ipykernel no longer prints its "running
    over TCP without encryption" warning into every run's output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("transport_encryption", "auto")
        super().__init__(**kwargs)

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return parent_death_cmd() + super().format_kernel_cmd(extra_arguments)


def _shutdown() -> None:
    """Stop the kernel and every process it started (in a worker, the worker's only descendants)."""
    global _KM
    if _KM is not None and _KM.has_kernel:
        run_sync(_KM.shutdown_kernel)(now=True)
        kill_descendants()
    _KM = None


START_ATTEMPTS = 3


def _start(kernel_name: str, startup_timeout: float) -> AsyncKernelManager:
    """A started kernel that has answered `kernel_info`. A kernel can die while starting (seen once in
    ~100 starts on a busy machine: "Kernel died before replying to kernel_info", e.g. when another process
    takes a TCP port between jupyter_client choosing it and the kernel binding it); that is the machine's
    fault, not the notebook's, so it is retried. Each attempt waits `startup_timeout` seconds at most."""
    for attempt in range(1, START_ATTEMPTS + 1):
        km = KernelManager(kernel_name=kernel_name)
        run_sync(km.start_kernel)()
        kc = km.client()
        kc.start_channels()
        try:
            run_sync(kc.wait_for_ready)(timeout=startup_timeout)
            return km
        except RuntimeError:
            run_sync(km.shutdown_kernel)(now=True)
            if attempt == START_ATTEMPTS:
                raise
        finally:
            kc.stop_channels()
    raise AssertionError("unreachable")


def kernel(kernel_name: str, startup_timeout: float = 60) -> AsyncKernelManager:
    """The worker's kernel, started on first use (nbclient needs an async manager for its timeouts)."""
    global _KM
    if _KM is None or not _KM.has_kernel or not run_sync(_KM.is_alive)():
        _shutdown()
        _KM = _start(kernel_name, startup_timeout)
        multiprocessing.util.Finalize(None, _shutdown, exitpriority=10)
    return _KM


def restart() -> None:
    """Fresh kernel after a failed or timed-out run."""
    _shutdown()


class WarmKernelEngine(Engine):
    @classmethod
    def execute_managed_notebook(  # noqa: ANN206 - papermill's engine signature
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        output_dir: str | None = None,
        **kwargs: Any,
    ):
        km = kernel(kernel_name, start_timeout)
        # The reset runs as the head of the first code cell (no extra client connection) and is removed
        # from the stored notebook afterwards.
        first = next(c for c in nb_man.nb.cells if c.cell_type == "code")
        original = first.source
        first.source = RESET.format(out=str(Path(output_dir))) + original
        client = PapermillNotebookClient(
            nb_man, km=km, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
            log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
        )
        try:
            nb = client.execute()
        finally:
            first.source = original
        count = 0
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.get("execution_count") is not None:
                count += 1
                cell.execution_count = count
                for out in cell.get("outputs", []):
                    if "execution_count" in out:
                        out["execution_count"] = count
        return nb


papermill_engines.register(ENGINE_NAME, WarmKernelEngine)
