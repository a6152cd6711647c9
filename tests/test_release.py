"""The data release: deterministic version and bytes, a valid Frictionless package, corruption caught,
and CHANGES.csv against a previous release."""

from __future__ import annotations

import hashlib
import shutil

import frictionless
import pandas as pd
import pytest
import yaml

from analysis import paths
from analysis.release import build_release, changes


def digest(folder):
    files = sorted(p for p in folder.parent.rglob("*") if p.is_file())
    return {str(p.relative_to(folder.parent)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return build_release(dist=tmp_path_factory.mktemp("dist"))


def test_two_builds_are_byte_identical(release, tmp_path):
    again = build_release(dist=tmp_path / "dist")
    assert again.name == release.name
    assert digest(again) == digest(release)
    assert again.with_suffix(".zip").read_bytes() == release.with_suffix(".zip").read_bytes()


def test_release_contents(release):
    names = {p.name for p in release.iterdir()}
    assert {"indicators.csv", "provinces.csv", "codebook.csv", "conflicts.csv", "datapackage.json", "README.md"} <= names
    pkg = frictionless.Package(str(release / "datapackage.json"))
    assert pkg.get_resource("indicators").schema.primary_key == ["province_code", "vintage", "year", "index", "indicator", "date"]
    assert pkg.get_resource("provinces").schema.primary_key == ["vintage", "province_code"]
    raw = pkg.to_dict()["raw_inputs"]
    assert len(raw) >= 56 and all(len(r["sha256"]) == 64 for r in raw)
    readme = (release / "README.md").read_text()
    assert release.name.split("-")[-1] in readme and "CECODES" in readme and "VCCI" in readme


def test_frictionless_validate_passes(release):
    report = frictionless.validate(str(release / "datapackage.json"))
    assert report.valid, report.flatten(["type", "fieldName", "note"])[:5]


def test_corrupted_value_is_caught(release, tmp_path):
    copy = tmp_path / release.name
    shutil.copytree(release, copy)
    path = copy / "indicators.csv"
    text = path.read_text(encoding="utf-8")
    row = text.splitlines()[1]
    fields = row.split(",")
    value_at = 6  # province_code, vintage, province, year, index, indicator, value
    fields[value_at] = str(float(fields[value_at]) + 1)
    path.write_text(text.replace(row, ",".join(fields), 1), encoding="utf-8")
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert not report.valid
    assert {"hash-count"} <= {e[0] for e in report.flatten(["type"])}


def test_changes_lists_added_removed_revised(release, tmp_path):
    old_dir = tmp_path / "old"
    old_dir.mkdir()
    new = pd.read_csv(release / "indicators.csv", dtype={"province_code": str, "date": str}, keep_default_na=False, na_values=[""])
    old = new.copy()
    old.loc[0, "value"] = old.loc[0, "value"] + 0.5  # revised
    old = old.drop(index=1)  # added in the new release
    extra = old.iloc[[2]].copy()
    extra["indicator"] = "retired_indicator"  # removed in the new release
    pd.concat([old, extra]).to_csv(old_dir / "indicators.csv", index=False)
    ch = changes(old_dir, new)
    assert ch["change"].value_counts().to_dict() == {"revised": 1, "added": 1, "removed": 1}


def test_citation_cff():
    cff = yaml.safe_load((paths.project_root() / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"].startswith("1.2") and cff["title"] and cff["authors"] and cff["license"]


def test_release_starts_from_an_empty_folder(release, tmp_path):
    """An old CHANGES.csv (or any stray file) must not survive into a release built without --previous."""
    dist = tmp_path / "dist"
    first = build_release(dist=dist, previous=release)
    assert (first / "CHANGES.csv").exists()
    (first / "stray.txt").write_text("left over")
    again = build_release(dist=dist)
    assert again == first
    assert not (again / "CHANGES.csv").exists() and not (again / "stray.txt").exists()
    import zipfile

    with zipfile.ZipFile(again.with_suffix(".zip")) as zf:
        assert not any(n.endswith(("CHANGES.csv", "stray.txt")) for n in zf.namelist())
    assert (again / "indicators.csv").read_bytes() == (release / "indicators.csv").read_bytes()
    assert {p.name for p in dist.iterdir()} == {again.name, again.with_suffix(".zip").name}


def test_a_release_with_user_rows_names_their_file_and_sha256(hostile_build, tmp_path, monkeypatch):
    """Issue 17, item 7: a release built with a researcher's rows carried them in indicators.csv but listed no
    user file and no sha256 in datapackage.json."""
    import json

    from conftest import HOSTILE_FILE

    from analysis.manifest import sha256_file

    processed, _ = hostile_build
    monkeypatch.setenv("VNGOV_PROCESSED_DIR", str(processed))
    folder = build_release(dist=tmp_path / "dist")
    indicators = pd.read_csv(folder / "indicators.csv", dtype=str, keep_default_na=False)
    sid = f"user:{HOSTILE_FILE}"
    released = int((indicators["source_id"] == sid).sum())
    assert released > 0
    package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
    raw = {r["id"]: r for r in package["raw_inputs"]}
    assert raw[sid]["sha256"] == sha256_file(processed.parent / "user" / HOSTILE_FILE)
    assert raw[sid]["rows_released"] == released and raw[sid]["role"] == "user"
    assert sid in {s["source_id"] for s in package["sources"]}
    assert HOSTILE_FILE in (folder / "README.md").read_text(encoding="utf-8")
    assert frictionless.validate(str(folder / "datapackage.json")).valid
