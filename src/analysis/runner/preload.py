"""Imported once by the forkserver (pool.py), so each forked worker starts with papermill, nbconvert (its
templates loaded), jupyter_client and the warm engine already in memory.

A process may only fork while it has one thread: pool.py starts the forkserver with OpenBLAS and
jemalloc's background thread switched off. `THREADS` records the thread count after these imports; a test
asserts, from inside a worker, that it is 1."""

import os

import papermill  # noqa: F401

from . import engine  # noqa: F401
from .worker import _exporter

_exporter()
THREADS = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else 1


def threads_at_fork() -> int:
    """The forkserver's thread count after preloading, as a forked worker inherited it."""
    return THREADS
