"""data/processed/ is in every clone (its README is committed) while builds still swap in one rename."""

from __future__ import annotations

import os
import subprocess
from types import SimpleNamespace

import pandas as pd

from analysis import load_panel, load_table, paths
from analysis.panel import io


def _git(*args):
    return subprocess.run(["git", *args], cwd=paths.project_root(), capture_output=True, text=True, timeout=30)


def test_processed_folder_is_committed_and_its_tables_ignored():
    assert _git("ls-files", "data/processed").stdout.split() == ["data/processed/README.md"]
    ignored = _git("check-ignore", "--no-index", "data/processed/current", "data/processed/indicators.csv").stdout.split()
    assert ignored == ["data/processed/current", "data/processed/indicators.csv"]
    assert _git("check-ignore", "--no-index", "data/processed/README.md").returncode == 1  # not ignored


def _result(tag: str) -> SimpleNamespace:
    panel = pd.DataFrame({"province_code": ["74"], "year": [2020], "value": [1.0], "note": [tag]})
    table = pd.DataFrame({"x": [tag]})
    return SimpleNamespace(panel=panel, provinces=table.assign(province_code="74"), codebook=table, conflicts=table,
                           crosschecks=table, excluded=table, info={"tag": tag})


def test_builds_swap_current_and_keep_the_readme(tmp_path):
    processed = tmp_path / "processed"
    processed.mkdir()
    (processed / "README.md").write_text("kept\n")
    io.write_processed(_result("first"), processed)
    first = os.readlink(processed / "current")
    assert load_panel(processed)["note"].tolist() == ["first"]
    io.write_processed(_result("second"), processed)
    assert os.readlink(processed / "current") != first and (processed / "current").is_symlink()
    assert load_panel(processed)["note"].tolist() == ["second"]
    assert load_table("conflicts", processed)["x"].tolist() == ["second"]
    assert (processed / "README.md").read_text() == "kept\n"
    tables = ["indicators.parquet", "indicators.csv", "provinces.csv", "codebook.csv", "conflicts.csv", "crosschecks.csv",
              "excluded.csv", "build_info.json"]
    assert sorted(p.name for p in processed.iterdir()) == sorted([*tables, "current", "README.md"])
    assert all(os.readlink(processed / t) == f"current/{t}" for t in tables)


def test_former_layout_is_migrated(tmp_path):
    """Where data/processed was itself the swapped link, the next build turns it into the folder."""
    builds = tmp_path / ".builds" / "build-old"
    builds.mkdir(parents=True)
    (builds / "indicators.csv").write_text("old\n")
    processed = tmp_path / "processed"
    processed.symlink_to(".builds/build-old")
    io.write_processed(_result("new"), processed)
    assert processed.is_dir() and not processed.is_symlink()
    assert load_panel(processed)["note"].tolist() == ["new"]
