"""Reading an input file without waiting for ever or reading without end.

`Path.read_text()` on a named pipe waits for a writer that never comes, and on a 20 GB sparse file reads 20 GB.
Every user-supplied file (tables, mapping files, run configs) is opened here: without blocking, checked to be a
regular file of at most a given size from the open descriptor (no window between the check and the read), and
read to that size at most."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import DataError


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def checked_size(path: Path, limit: int, what: str) -> int:
    """The size of `path` after checking that it is a regular file (not a pipe, socket, device or folder;
    links followed) of at most `limit` bytes; a DataError naming the file otherwise."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DataError(f"cannot read the {what}: {exc.strerror or exc}", file=path) from None
    _check(st, path, limit, what)
    return st.st_size


def _check(st: os.stat_result, path: Path, limit: int, what: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"a folder stands where the {what} was expected", file=path)
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"the {what} is not a regular file (a pipe, socket or device)", file=path,
                        hint="Give the file itself: reading a pipe would wait for ever")
    if st.st_size > limit:
        raise DataError(f"the {what} is {_mb(st.st_size)}, over the limit of {_mb(limit)}", file=path,
                        hint="See 'Limits' in the README")


def read_bytes(path: Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (see `checked_size`)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DataError(f"cannot read the {what}: {exc.strerror or exc}", file=path) from None
    with os.fdopen(fd, "rb") as fh:
        _check(os.fstat(fd), Path(path), limit, what)
        data = fh.read(limit + 1)
    if len(data) > limit:  # grew after the check
        raise DataError(f"the {what} is over the limit of {_mb(limit)}", file=path)
    return data


def read_text(path: Path, limit: int, what: str) -> str:
    """UTF-8 text of a regular file of at most `limit` bytes; a clear error for another encoding."""
    data = read_bytes(path, limit, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(f"the {what} is not UTF-8 text (a byte {data[exc.start:exc.start + 1]!r} at line {line})", file=path,
                        row=line, hint="Save it as UTF-8 text") from None
