"""Worker processes that cannot hang a run and cannot outlive it.

Why not `concurrent.futures.ProcessPoolExecutor`: on Linux it forks, and the runner forks while its site
thread is importing (pyarrow); a child that inherits a held import lock waits for it forever (issue 8).
It also cannot stop one stuck task: a future cannot be cancelled once it runs, and its worker cannot be
killed alone. This pool is small on purpose:

- workers are forked from a forkserver: a separate, single-threaded process started (by fork + exec) with
  papermill, nbconvert and the engine preloaded (preload.py), so the runner itself never forks; nothing is
  inherited from the runner's threads, and a worker starts in milliseconds instead of importing for seconds;
- each task has a wall-clock limit counted from the moment it is handed to a worker (so a worker that
  hangs while starting counts against it); past it the worker *and its kernel* are killed and replaced;
- the whole run has a deadline; past it, or when `stopped()` says so (SIGTERM/SIGINT), every worker tree is
  killed and the unfinished tasks are reported as such;
- a worker is its descendants' subreaper (`PR_SET_CHILD_SUBREAPER`, Linux): a process a notebook starts in a
  new session (`start_new_session=True`), whose parent exits, is adopted by the worker instead of init, so the
  worker still finds it and kills it with its kernel when it ends (`kill_descendants`); nothing a notebook
  starts outlives the run;
- a worker watches its pipe to the runner: when the runner dies (even by SIGKILL) the pipe hangs up and
  the worker kills its kernel and exits at once; it also asks the OS for SIGKILL when its parent dies
  (`PR_SET_PDEATHSIG`; the forkserver exits when the runner does), and kernels get the same request through
  `parent_death_cmd()` (see engine.py), so a runner killed with SIGKILL leaves nothing behind.

Every wait here has a limit. Results travel over one pipe per worker (small dicts)."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import select
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psutil

# forkserver and spawn are both safe. Measured on a 2-core machine: 3-notebook runs take 3.6 s with
# forkserver and 11-12 s with spawn (a spawned worker imports for seconds and exits through a full
# interpreter shutdown). VNGOV_START_METHOD=spawn exists only to measure the difference (bench_hangs.py).
START_METHOD = os.environ.get("VNGOV_START_METHOD", "forkserver")
if START_METHOD not in ("forkserver", "spawn"):
    raise ValueError(f"VNGOV_START_METHOD must be forkserver or spawn, not {START_METHOD!r}: workers are never forked from the runner")
POLL_SECONDS = 0.5  # how often the loop looks at the stop flag when nothing else happens
GRACE_SECONDS = 10.0  # a worker told to stop has this long to shut its kernel down before it is killed
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

# Run by the kernel launcher: ask for SIGKILL on parent death, check the parent is still the worker (it may
# have died before the request), then become the kernel. The setting survives execve.
_PDEATH_EXEC = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)\n"
    "os.getppid() == int(sys.argv[1]) or os._exit(1)\n"
    "os.execvp(sys.argv[2], sys.argv[2:])\n"
)


def set_parent_death_signal(expected_parent: int | None) -> None:
    """SIGKILL this process when its parent dies (Linux); exit now if the parent is already gone."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


def become_subreaper() -> None:
    """Adopt this process's orphaned descendants (Linux), so `kill_descendants` still sees them."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


def kill_descendants(timeout: float = 5.0) -> None:
    """SIGKILL every descendant of this process (a worker's kernel and whatever its notebooks started, in any
    session) and reap them, waiting at most `timeout` seconds."""
    procs = psutil.Process().children(recursive=True)
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=timeout)


def parent_death_cmd() -> list[str]:
    """Prefix for a child's command line that ties the child's life to this process (Linux; else empty)."""
    if not sys.platform.startswith("linux"):
        return []
    return [sys.executable, "-I", "-S", "-c", _PDEATH_EXEC, str(os.getpid())]


def kill_tree(pid: int, timeout: float = 5.0) -> None:
    """SIGKILL a process and every descendant (kernels run in their own session, so a process group would
    miss them); wait at most `timeout` seconds for them to go."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(procs, timeout=timeout)


def _worker_main(conn: multiprocessing.connection.Connection, parent: int | None, env: dict[str, str]) -> None:
    """Worker loop: run `(fn, args)` messages until `None` or until the runner's end of the pipe closes."""
    set_parent_death_signal(parent)
    become_subreaper()
    # after the kernel's own shutdown (engine.py registers it with exitpriority 10): what is left goes too
    multiprocessing.util.Finalize(None, kill_descendants, exitpriority=1)
    # A forked worker inherits the forkserver's "alive" pipe; the forkserver exits only when every holder
    # has closed it. Closed here, the forkserver goes when the runner goes, and takes its workers along
    # (their parent-death signal). Private to multiprocessing (3.11-3.13); test_runner_limits guards it.
    from multiprocessing import forkserver

    fd = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if START_METHOD == "forkserver" and fd is not None:
        os.close(fd)
        forkserver._forkserver._forkserver_alive_fd = None
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group; the runner decides
    os.environ.clear()  # the runner's environment now, not the one a forkserver was started with
    os.environ.update(env)
    threading.Thread(target=_watch_runner, args=(conn.fileno(),), name="vngov-watch-runner", daemon=True).start()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # runner gone
        if msg is None:
            return
        fn, args = msg
        conn.send(fn(*args))


# The forkserver must have one thread when it forks: no OpenBLAS pool (numpy) and no jemalloc background
# thread (pyarrow, imported by papermill). Set in its environment from its start, before the package's
# first import; workers take the runner's own environment back before running anything.
_FORKSERVER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "JE_ARROW_MALLOC_CONF": "background_thread:false"}


def _start_forkserver(ctx: Any) -> None:
    """Start this process's forkserver (or restart it if it died) with the worker modules preloaded and no
    extra threads; a no-op while it runs."""
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid
    with contextlib.suppress(psutil.NoSuchProcess):
        if pid is not None and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
            return  # running: do not touch the environment while other threads may read it
    ctx.set_forkserver_preload(["analysis.runner.preload"])
    saved = {k: os.environ.get(k) for k in _FORKSERVER_ENV}
    os.environ.update(_FORKSERVER_ENV)
    try:
        forkserver.ensure_running()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _watch_runner(fd: int) -> None:
    """In a worker: when the runner's end of the pipe closes (the runner died, even by SIGKILL), kill this
    worker's children (its kernel) and exit at once, while the main thread may be busy with a notebook.
    Polls for hang-up only, so it never takes a message from the main thread."""
    hangup = getattr(select, "POLLRDHUP", 0) | select.POLLHUP  # RDHUP: Linux, the peer closed its end
    poller = select.poll()
    poller.register(fd, hangup)
    while True:
        if any(ev & (hangup | select.POLLERR | select.POLLNVAL) for _, ev in poller.poll(1000)):
            for child in psutil.Process().children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            os._exit(1)


def prestart() -> None:
    """Start the forkserver now, so its imports overlap with the runner's own start (config, provenance,
    site). Best called before the caller starts any thread; a no-op when it already runs."""
    if START_METHOD == "forkserver":
        _start_forkserver(multiprocessing.get_context("forkserver"))


@dataclass(frozen=True)
class Task:
    key: str
    fn: Callable[..., Any]
    args: tuple
    limit: float  # wall-clock seconds from hand-off to result


@dataclass
class Outcome:
    """`kind`: done (value is the function's result), timeout (over its limit), died (worker exited),
    budget (running when the run deadline passed), interrupted (running when stopped), not_started."""

    key: str
    kind: str
    value: Any = None
    seconds: float = 0.0
    detail: str = ""


@dataclass
class _Slot:
    process: Any
    conn: multiprocessing.connection.Connection
    task: Task | None = None
    started: float = 0.0


def run_tasks(tasks: list[Task], n_workers: int, deadline: float, stopped: Callable[[], bool],
              on_outcome: Callable[[Outcome], None] = lambda o: None) -> list[Outcome]:
    """Run tasks on at most `n_workers` workers; `deadline` is a `time.monotonic()` value. Returns one
    outcome per task, in completion order (tasks never started come last)."""
    ctx = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        _start_forkserver(ctx)
    pending = deque(tasks)
    slots: list[_Slot] = []
    outcomes: list[Outcome] = []

    def finish(slot: _Slot, kind: str, value: Any = None, detail: str = "") -> None:
        assert slot.task is not None
        o = Outcome(slot.task.key, kind, value, round(time.monotonic() - slot.started, 2), detail)
        outcomes.append(o)
        slot.task = None
        on_outcome(o)

    def drop(slot: _Slot) -> None:
        kill_tree(slot.process.pid)
        slot.process.join(timeout=1)
        slot.conn.close()
        slots.remove(slot)

    def hand_out(slot: _Slot, task: Task) -> None:
        slot.task, slot.started = task, time.monotonic()
        try:
            slot.conn.send((task.fn, task.args))
        except (BrokenPipeError, OSError) as exc:
            finish(slot, "died", detail=f"worker unreachable: {exc}")
            drop(slot)

    stop_kind = None
    try:
        while pending or any(s.task for s in slots):
            if stopped():
                stop_kind = "interrupted"
                break
            if time.monotonic() >= deadline:
                stop_kind = "budget"
                break
            for slot in [s for s in slots if s.task is None]:
                if pending:
                    hand_out(slot, pending.popleft())
            while pending and len(slots) < n_workers:
                parent_end, child_end = ctx.Pipe()
                parent = os.getpid() if START_METHOD == "spawn" else None
                proc = ctx.Process(target=_worker_main, args=(child_end, parent, dict(os.environ)), daemon=True,
                                   name=f"vngov-worker-{len(slots)}")
                proc.start()
                child_end.close()
                slot = _Slot(proc, parent_end)
                slots.append(slot)
                hand_out(slot, pending.popleft())
            busy = [s for s in slots if s.task is not None]
            if not busy:
                continue
            now = time.monotonic()
            wake = min([deadline, now + POLL_SECONDS] + [s.started + s.task.limit for s in busy])
            multiprocessing.connection.wait([s.conn for s in busy] + [s.process.sentinel for s in busy],
                                            timeout=max(0.0, wake - now))
            for slot in busy:
                task = slot.task
                assert task is not None
                if slot.conn.poll():
                    try:
                        finish(slot, "done", slot.conn.recv())
                    except (EOFError, OSError) as exc:
                        finish(slot, "died", detail=f"worker pipe broke: {exc}")
                        drop(slot)
                elif not slot.process.is_alive():
                    finish(slot, "died", detail=f"worker exited with code {slot.process.exitcode}")
                    drop(slot)
                elif time.monotonic() >= slot.started + task.limit:
                    finish(slot, "timeout", detail=f"no result after {task.limit:g} s; worker and kernel killed")
                    drop(slot)
    finally:
        for slot in list(slots):
            if slot.task is not None:  # only when stopped or out of time (or on an error in this loop)
                finish(slot, stop_kind or "interrupted", detail="worker and kernel killed")
                drop(slot)
        for task in pending:
            o = Outcome(task.key, "not_started")
            outcomes.append(o)
            on_outcome(o)
        _shutdown(slots)
    return outcomes


def _shutdown(slots: list[_Slot]) -> None:
    """Ask idle workers to exit (they shut their kernels down), then kill whatever is left after the grace."""
    for slot in slots:
        with contextlib.suppress(OSError):
            slot.conn.send(None)
    end = time.monotonic() + GRACE_SECONDS
    for slot in slots:
        slot.process.join(timeout=max(0.0, end - time.monotonic()))
    for slot in slots:
        if slot.process.is_alive():
            kill_tree(slot.process.pid)
            slot.process.join(timeout=1)
        slot.conn.close()
