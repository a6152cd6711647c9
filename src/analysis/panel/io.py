"""Atomic writes and one-call loading of the processed data.

`data/processed/` is a committed folder (its README.md says what a build puts there, so a clean clone has
it). `data/processed/current` is a symbolic link to a complete build folder under `data/.builds/`; a new
build is written beside the others and `current` is swapped with one rename, so readers see either the
old or the new data, never a mix, and a failed build leaves the last good data untouched. Each table has a
fixed link `data/processed/<table> -> current/<table>`, so the documented paths
(`data/processed/indicators.parquet`, ...) stay valid.

Two layouts that are not links are met in practice and handled: a project copied by a tool that follows links
(`scp -r`, `shutil.copytree`, a zip made on another system, a synced folder) turns `current` into a real folder,
which the next build keeps as a legacy build under `data/.builds/` before swapping as usual; where links cannot
be made at all (some Windows set-ups), `current` is a pointer file holding the build folder's name, replaced in
one rename too, and readers follow it (`current_build`).

A run reads one snapshot: it resolves `current` once (`current_build`) and pins that folder (`pin`) so that
builds made during the run neither change what it reads nor prune the folder it reads from."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock, Timeout

from .. import paths
from ..errors import DataError


@dataclass
class BuildResult:
    """Everything one build produces; `write_processed` writes it. Defined here, beside its writer, so that the
    build imports the writer and never the other way round."""

    panel: pd.DataFrame
    provinces: pd.DataFrame
    codebook: pd.DataFrame
    crosschecks: pd.DataFrame
    conflicts: pd.DataFrame
    excluded: pd.DataFrame
    info: dict = field(default_factory=dict)
    uncertainty: pd.DataFrame = field(default_factory=pd.DataFrame)


KEEP_BUILDS = 3
COMPLETE_MARKER = ".complete"
POINTER_PREFIX = "vngov-build: "
"""First bytes of a `current` pointer file (where links cannot be made); the build folder's name follows."""
PIN_PREFIX = ".pin-"
"""`<build>/.pin-<pid>`: a run reading this build; pruning leaves a build with a live pin alone."""
LOCK_TIMEOUT_S = 120
_BUILD_NAME = re.compile(r"^build-(\d+)-")
DTYPES = {"province_code": "string", "year": "Int64", "rank": "Int64", "rank_of": "Int64", "quartile": "Int64"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP)."""


def _neutral(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _neutral_series(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if not pd.api.types.is_string_dtype(s.dtype):
        return s  # numbers (a negative value stays a number), dates, booleans
    if s.dtype == object:  # may mix text with other values
        mask = s.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).astype(bool)
    else:
        mask = s.str.startswith(FORMULA_START, na=False).astype(bool)
    return s.mask(mask, s[mask].map(lambda v: "'" + v)) if mask.any() else s


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell (and text header or index label) that a spreadsheet would run as a
    formula prefixed with a single quote, which spreadsheets show as text (OWASP's advice against CSV
    injection): a researcher's `=HYPERLINK(...)` in a note opens as text, not as a live link. Numeric columns
    are never touched, so -0.4 stays a number; the exact text is kept in `indicators.parquet`."""
    out = df.copy(deep=False)
    for i in range(out.shape[1]):
        out.isetitem(i, _neutral_series(out.iloc[:, i]))
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = [_neutral(c) for c in out.columns]
    if not isinstance(out.index, pd.RangeIndex | pd.MultiIndex) and pd.api.types.is_string_dtype(out.index.dtype):
        out.index = out.index.map(_neutral)
    return out


def write_csv(df: pd.DataFrame, target: str | Path | None = None, **kwargs: Any) -> str | None:
    """Every CSV the package writes goes through here (processed data, site, figure data, release):
    formula-looking text neutralised, UTF-8, `\\n` line ends. Returns the text when `target` is None."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    return neutralise_formulas(df).to_csv(target, encoding="utf-8", **kwargs)


def _builds_dir(processed: Path) -> Path:
    return processed.parent / ".builds"


def _owner_alive(pid: int) -> bool:
    """Whether the process that started a build folder still runs (a reused pid only delays the cleanup)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_complete(folder: Path) -> bool:
    if (folder / COMPLETE_MARKER).exists():
        return True
    # folders of older versions carry no marker and no pid; their build_info.json was written last
    return not _BUILD_NAME.match(folder.name) and (folder / "build_info.json").exists()


def _prune(builds: Path, processed: Path, current: Path) -> None:
    """Keep the current build and the KEEP_BUILDS - 1 most recently completed others; remove older complete
    builds and partial folders whose owner process is gone (a killed build). A partial folder whose owner
    still runs is another build at work and is never touched. Runs under the builds lock."""
    keep = {current.resolve()}
    if processed.is_symlink():
        keep.add(processed.resolve())
    complete, stale = [], []
    for folder in builds.glob("build-*"):
        if not folder.is_dir() or folder.resolve() in keep or _pinned(folder):
            continue
        if _is_complete(folder):
            complete.append(folder)
        else:
            m = _BUILD_NAME.match(folder.name)
            if m is None or not _owner_alive(int(m.group(1))):
                stale.append(folder)
    complete.sort(key=lambda f: (f / COMPLETE_MARKER).stat().st_mtime if (f / COMPLETE_MARKER).exists() else f.stat().st_mtime)
    for folder in complete[: max(0, len(complete) - (KEEP_BUILDS - 1))] + stale:
        shutil.rmtree(folder, ignore_errors=True)
    for link in builds.glob(".link-*"):  # left by a build killed during its swap
        pid = link.name.removeprefix(".link-")
        if pid.isdigit() and not _owner_alive(int(pid)):
            link.unlink(missing_ok=True)


def _pinned(folder: Path) -> bool:
    """Whether a run still reads this build (a pin whose process is alive)."""
    for pin in folder.glob(f"{PIN_PREFIX}*"):
        pid = pin.name.removeprefix(PIN_PREFIX)
        if pid.isdigit() and _owner_alive(int(pid)):
            return True
    return False


@contextlib.contextmanager
def pin(build: Path) -> Iterator[None]:
    """Keep `build` from being pruned while the caller reads it (a run: notebooks, kernels and site)."""
    marker = build / f"{PIN_PREFIX}{os.getpid()}"
    try:
        marker.write_text("", encoding="utf-8")
    except OSError:  # a read-only data folder cannot be pruned by anyone either
        marker = None
    try:
        yield
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)


def current_build(processed: Path | None = None) -> Path:
    """The folder holding the processed tables now: the target of `current` (a link, a pointer file or, in a
    copied project, a real folder), or `processed` itself when it holds the tables directly. Resolved once, it
    names one snapshot: later builds swap `current`, never the folder's contents."""
    processed = processed or paths.processed_dir()
    current = processed / "current"
    if current.is_symlink() or current.is_dir():
        target = current.resolve()
        if target.is_dir():
            return target
    elif current.is_file():
        target = _pointer_target(processed, current)
        if target is not None:
            return target
    if (processed / "indicators.parquet").exists():
        return processed.resolve()
    raise DataError("processed data not found; run `make data` (python -m analysis data build)", file=current)


def _pointer_target(processed: Path, pointer: Path) -> Path | None:
    try:
        text = pointer.read_text(encoding="utf-8")[:300]
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith(POINTER_PREFIX):
        return None
    name = text.removeprefix(POINTER_PREFIX).strip()
    target = _builds_dir(processed) / name
    return target if "/" not in name and "\\" not in name and target.is_dir() else None


def write_processed(result: BuildResult, processed: Path | None = None) -> Path:
    """Write a complete build folder, then, under a lock shared by every build of this data folder, mark it
    complete, point `processed` at it in one rename and prune old folders. Concurrent builds therefore
    never delete each other's unfinished folders, and a killed build's folder is removed by a later one.
    A full disk or a read-only folder is a DataError, and the previous data stays in place."""
    processed = processed or paths.processed_dir()
    builds = _builds_dir(processed)
    try:
        builds.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=builds, prefix=f"build-{os.getpid()}-"))
    except OSError as exc:
        raise DataError(f"cannot write the processed data: {exc.strerror or exc}", file=builds,
                        hint="The folder must be writable and its disk not full") from None
    lock = FileLock(builds / ".lock", timeout=LOCK_TIMEOUT_S)
    try:
        result.panel.to_parquet(tmp / "indicators.parquet", index=False)
        for name in ("panel", "provinces", "codebook", "conflicts", "crosschecks", "excluded", "uncertainty"):
            if hasattr(result, name):
                write_csv(getattr(result, name), tmp / f"{'indicators' if name == 'panel' else name}.csv")
        (tmp / "build_info.json").write_text(json.dumps(result.info, indent=2, sort_keys=True), encoding="utf-8")
        try:
            lock.acquire()
        except Timeout as exc:
            raise DataError(f"another build kept the lock of the processed data for {LOCK_TIMEOUT_S} s", file=lock.lock_file) from exc
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise DataError(f"cannot write the processed data: {exc.strerror or exc}", file=getattr(exc, "filename", None) or tmp,
                            hint="The folder must be writable and its disk not full; the previous data is unchanged") from None
        raise
    try:
        try:
            (tmp / COMPLETE_MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
            if processed.is_symlink():  # the former layout, where data/processed itself was the swapped link
                processed.unlink()
            processed.mkdir(parents=True, exist_ok=True)
            _keep_legacy_current(processed, builds)
            linked = _swap_current(processed, builds, tmp)
            if linked:
                _link_tables(processed, builds, tmp)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise DataError(f"cannot switch the processed data to the new build: {exc.strerror or exc}",
                                file=getattr(exc, "filename", None) or processed,
                                hint="The folder must be writable and its disk not full; the previous data is unchanged") from None
            raise
        _prune(builds, processed, tmp)
    finally:
        lock.release()
    return tmp


def _keep_legacy_current(processed: Path, builds: Path) -> None:
    """A `current` that is a real folder (a copy made by a tool that follows links) is moved to
    `data/.builds/build-<pid>-legacy-current/` and marked complete: its data is kept as an older build (pruned like
    one), and `current` can be swapped again."""
    current = processed / "current"
    if current.is_symlink() or not current.is_dir():
        return
    legacy = builds / f"build-{os.getpid()}-legacy-current"
    os.rename(current, legacy)
    (legacy / COMPLETE_MARKER).write_text("legacy: a copied data/processed/current\n", encoding="utf-8")


def _swap_current(processed: Path, builds: Path, build: Path) -> bool:
    """Point `current` at `build` in one rename: a link where links can be made (returns True), else a pointer
    file holding the build's name (False)."""
    tmp = builds / f".link-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(build, processed), tmp)
        linked = True
    except (OSError, NotImplementedError):  # no links here (Windows without the privilege, some file systems)
        tmp.write_text(f"{POINTER_PREFIX}{build.name}\n", encoding="utf-8")
        linked = False
    os.replace(tmp, processed / "current")
    return linked


def _link_tables(processed: Path, builds: Path, build: Path) -> None:
    """The fixed links `<table> -> current/<table>` for every table of the build (a later build swaps only
    `current`); links to tables a build no longer writes are removed. A real file in a link's place (a copy
    left by hand) is moved to data/.builds, never deleted."""
    names = {p.name for p in build.iterdir() if p.is_file() and not p.name.startswith(".")}
    for link in processed.iterdir():
        if link.is_symlink() and link.name != "current" and link.name not in names and os.readlink(link).startswith("current/"):
            link.unlink()
    for name in sorted(names):
        link = processed / name
        if link.is_symlink() and os.readlink(link) == f"current/{name}":
            continue
        if link.exists() or link.is_symlink():
            link.rename(builds / f"legacy-{os.getpid()}-{name}")
        os.symlink(f"current/{name}", link)


def _require(processed: Path, name: str) -> Path:
    """A processed table: through its fixed link when there is one, else in the current build (a pointer file)."""
    path = processed / name
    if path.exists():
        return path
    try:
        found = current_build(processed) / name
    except DataError:
        found = path
    if not found.exists():
        raise DataError("processed data not found; run `make data` (python -m analysis data build)", file=path)
    return found


def load_panel(processed: Path | None = None) -> pd.DataFrame:
    """The harmonized panel, one row per observed value (see the data contract in README). Returns a copy
    of a cached read (keyed by the file's identity), so repeated calls in one process are cheap."""
    path = _require(processed or paths.processed_dir(), "indicators.parquet").resolve()
    stat = path.stat()
    return _read_panel(str(path), stat.st_mtime_ns, stat.st_size).copy()


@lru_cache(maxsize=2)
def _read_panel(path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    df = pd.read_parquet(path)
    return df.astype({k: v for k, v in DTYPES.items() if k in df.columns})


def load_table(name: str, processed: Path | None = None) -> pd.DataFrame:
    """Another processed table: 'provinces', 'codebook', 'conflicts', 'crosschecks', 'excluded' or
    'uncertainty' (published standard errors)."""
    processed = processed or paths.processed_dir()
    allowed = {"provinces", "codebook", "conflicts", "crosschecks", "excluded", "uncertainty"}
    if name not in allowed:
        raise DataError(f"unknown table; choose one of {sorted(allowed)}", value=name)
    # nullable dtypes keep whole-number columns with gaps (pci_id of the national row) as integers
    text = {c: str for c in ("province_code", "code_2025", "merged_codes", "date", "other_date", "vintage")}
    return pd.read_csv(_require(processed, f"{name}.csv"), dtype=text, dtype_backend="numpy_nullable")


def load_build_info(processed: Path | None = None) -> dict:
    processed = processed or paths.processed_dir()
    return json.loads(_require(processed, "build_info.json").read_text(encoding="utf-8"))
