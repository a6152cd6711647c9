"""Where things live. Every path can be moved with an environment variable so tests and CI can work in
temporary directories without touching the project's own data."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The project root: $VNGOV_ROOT, else the folder holding `data/sources.yml` above this package."""
    env = os.environ.get("VNGOV_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "data" / "sources.yml").exists():
            return parent
    return Path.cwd()


def manifest_path() -> Path:
    return Path(os.environ.get("VNGOV_MANIFEST", project_root() / "data" / "sources.yml"))


def mirror_dir() -> Path:
    """The read-only raw-data mirror; `../shared/data/raw` beside the project unless $VNGOV_DATA_MIRROR says otherwise."""
    env = os.environ.get("VNGOV_DATA_MIRROR")
    return Path(env).resolve() if env else (project_root().parent / "shared" / "data" / "raw").resolve()


def raw_dir() -> Path:
    return Path(os.environ.get("VNGOV_RAW_DIR", project_root() / "data" / "raw"))


def user_dir() -> Path:
    """A researcher's own long-format tables (CSV or XLSX); validated on every build."""
    return Path(os.environ.get("VNGOV_USER_DIR", raw_dir() / "user"))


def processed_dir() -> Path:
    return Path(os.environ.get("VNGOV_PROCESSED_DIR", project_root() / "data" / "processed"))


def reported_dir() -> Path:
    """The project's own transcriptions (committed): values read from the provincial articles."""
    return project_root() / "data" / "reported"
