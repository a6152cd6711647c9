"""Shared fixtures. Tests on real data read the processed panel that `make data` built (make test runs it
first); tests of bad input work in temporary folders and never touch data/processed."""

from __future__ import annotations

import pytest

from analysis import load_panel, load_table
from analysis.manifest import load_manifest
from analysis.panel.build import prepare
from analysis.registry import Registry, build_provinces
from analysis.sources.common import Context
from analysis.sources.user import read_user_table


@pytest.fixture(scope="session")
def panel():
    return load_panel()


@pytest.fixture(scope="session")
def crosschecks():
    return load_table("crosschecks")


@pytest.fixture(scope="session")
def raw_ctx():
    sources = load_manifest()
    return Context(raw={s.id: s.local_path for s in sources})


@pytest.fixture(scope="session")
def registry(raw_ctx):
    return Registry(build_provinces(raw_ctx.raw))


@pytest.fixture
def ingest_user(registry):
    """Run a researcher's table through the same read + resolve + validate path as a build."""

    def run(path):
        df = read_user_table(path)
        df["source_id"], df["reliability"], df["priority"] = f"user:{path.name}", "user", 1000
        df["source_ref"] = df["source_ref"].fillna("")
        df["date"] = df["date"].fillna("")
        return prepare(df, registry)

    return run
