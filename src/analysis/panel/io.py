"""Atomic writes and one-call loading of the processed data.

`data/processed` is a symbolic link to a complete build folder under `data/.builds/`; a new build is
written beside it and the link is swapped with one rename, so readers see either the old or the new
data, never a mix, and a failed build leaves the last good data untouched."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .. import paths
from ..errors import DataError

if TYPE_CHECKING:
    from .build import BuildResult

KEEP_BUILDS = 3
DTYPES = {"province_code": "string", "year": "Int64", "rank": "Int64", "rank_of": "Int64", "quartile": "Int64"}


def _builds_dir(processed: Path) -> Path:
    return processed.parent / ".builds"


def write_processed(result: BuildResult, processed: Path | None = None) -> Path:
    processed = processed or paths.processed_dir()
    builds = _builds_dir(processed)
    builds.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=builds, prefix="build-"))
    try:
        result.panel.to_parquet(tmp / "indicators.parquet", index=False)
        result.panel.to_csv(tmp / "indicators.csv", index=False)
        result.provinces.to_csv(tmp / "provinces.csv", index=False)
        result.codebook.to_csv(tmp / "codebook.csv", index=False)
        result.conflicts.to_csv(tmp / "conflicts.csv", index=False)
        result.crosschecks.to_csv(tmp / "crosschecks.csv", index=False)
        result.excluded.to_csv(tmp / "excluded.csv", index=False)
        result.uncertainty.to_csv(tmp / "uncertainty.csv", index=False)
        (tmp / "build_info.json").write_text(json.dumps(result.info, indent=2, sort_keys=True), encoding="utf-8")
        link_tmp = builds / f".link-{os.getpid()}"
        link_tmp.unlink(missing_ok=True)
        os.symlink(os.path.relpath(tmp, processed.parent), link_tmp)
        if processed.exists() and not processed.is_symlink():
            legacy = builds / f"legacy-{os.getpid()}"
            processed.rename(legacy)
        os.replace(link_tmp, processed)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    current = tmp.resolve()
    old = sorted((p for p in builds.glob("build-*") if p.resolve() != current), key=lambda p: p.stat().st_mtime)
    for p in old[: max(0, len(old) - (KEEP_BUILDS - 1))]:
        shutil.rmtree(p, ignore_errors=True)
    return tmp


def _require(processed: Path, name: str) -> Path:
    path = processed / name
    if not path.exists():
        raise DataError("processed data not found; run `make data` (python -m analysis data build)", file=path)
    return path


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
    return pd.read_csv(_require(processed, f"{name}.csv"), dtype={"province_code": str, "code_2025": str},
                       dtype_backend="numpy_nullable")


def load_build_info(processed: Path | None = None) -> dict:
    processed = processed or paths.processed_dir()
    return json.loads(_require(processed, "build_info.json").read_text(encoding="utf-8"))
