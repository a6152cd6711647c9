"""A citable, versioned data release: `dist/vngov-indices-data-<version>/` and its zip.

The version is the first 12 hex digits of a sha256 over the released tables, so the same raw inputs and
code give the same version and byte-identical files, and any changed value gives a new version. The
Frictionless `datapackage.json` declares every table's schema, sha256 and size, the licences and sources,
and the sha256 of every raw input; `frictionless validate` therefore also catches a corrupted copy."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from . import paths
from .environment import LOCK_NAME, lock_sha256
from .errors import DataError
from .manifest import load_manifest
from .panel import load_build_info, load_panel, load_table
from .panel.build import project_sources
from .panel.io import write_csv

TABLES = ["indicators", "provinces", "codebook", "conflicts"]
KEY = ["province_code", "vintage", "year", "index", "indicator", "date"]
RELEASE_LICENCE = {"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/",
                   "title": "Creative Commons Attribution 4.0 (the compilation; each source keeps its own terms)"}
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

FIELD_DOCS = {
    "province_code": ("string", "2-digit GSO code in the row's vintage; 00 = national"),
    "vintage": ("string", "the coding of province_code: gso-2008 (63 provinces, 2008 - June 2025), gso-2025 (34 provinces from "
                          "July 2025; codes reuse old codes of other provinces), gso-1991 (Hà Tây), national"),
    "province": ("string", "Vietnamese name with diacritics"),
    "year": ("integer", "reference year of the value"),
    "index": ("string", "PAPI, PCI, PAR_INDEX, SIPAS, DTI, ICT_INDEX, MIC_EGOV, ONLINE_SERVICES, DVC766"),
    "indicator": ("string", "total, PAPI d1..d8 and d1.1.., PCI sub-indices, ...; see codebook.csv"),
    "value": ("number", "the observed value; missing values are absent rows"),
    "scale_max": ("number", "maximum of the scale for that index, indicator and year"),
    "method_version": ("string", "methodology vintage, e.g. papi-2011 (max 60), papi-2018 (max 80)"),
    "source_id": ("string", "the source the kept value comes from (datapackage sources / raw_inputs)"),
    "reliability": ("string", "official, compiled, reported or user (derived values are computed on demand, never released)"),
    "grade": ("string", "press reliability grade A/B/C, or 'article'"),
    "date": ("string", "date of a sub-annual snapshot (a year-to-date index's cut-off; YYYY alone: a day of that year not "
                       "stated); empty for annual values"),
    "rank": ("integer", "rank, 1 = best"),
    "rank_of": ("integer", "number of provinces ranked"),
    "quartile": ("integer", "quartile group, 1 = top"),
    "rank_basis": ("string", "computed (among provinces with a published score) or reported (as published)"),
    "source_ref": ("string", "file or page address"),
    "note": ("string", "quote or remark"),
    "identity": ("string", "which province a row is where the source names it by a unit of another vintage (the 766 yearly table "
                           "names 2022-2024 rows by the 34 provinces of 2025): certain (an unmerged province), assumed (a merged "
                           "unit taken to be the pre-merger province of the same name, not verified); empty: as the source names it"),
}


def _csv_bytes(df: pd.DataFrame) -> bytes:
    return (write_csv(df) or "").encode("utf-8")


def _frames() -> dict[str, pd.DataFrame]:
    panel = load_panel().sort_values(KEY).reset_index(drop=True)
    out = {"indicators": panel}
    for name in TABLES[1:]:
        out[name] = load_table(name)
    return out


def _type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "number"
    return "string"


def _schema(name: str, df: pd.DataFrame) -> dict[str, Any]:
    fields = []
    for col in df.columns:
        ftype, desc = FIELD_DOCS.get(col, (_type(df[col]), "")) if name == "indicators" else (_type(df[col]), "")
        field: dict[str, Any] = {"name": col, "type": ftype}
        if desc:
            field["description"] = desc
        if col == "province_code":
            field["constraints"] = {"pattern": r"\d{2}"}
        if name == "indicators" and col in ("province_code", "year", "index", "indicator", "value", "source_id", "reliability"):
            field.setdefault("constraints", {})["required"] = True
        fields.append(field)
    schema: dict[str, Any] = {"fields": fields, "missingValues": [""]}
    if name == "indicators":
        schema["primaryKey"] = KEY
    if name == "provinces":
        schema["primaryKey"] = ["vintage", "province_code"]
    return schema


def _user_sources(info: dict[str, Any], panel: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A researcher's table in the build is an input of the release like any raw file: its file, sha256 and rows
    (and its mapping file's), as the build recorded them, so a release with user rows says whose they are."""
    sources, raw = [], []
    for t in info.get("user_tables", []):
        sid = f"user:{t['file']}"
        rows = int((panel["source_id"] == sid).sum())
        raw.append({"id": sid, "path": f"data/raw/user/{t['file']}", "sha256": t["sha256"], "role": "user",
                    "rows_read": t.get("rows"), "rows_released": rows, "mapping": t.get("mapping"),
                    "licence": "the researcher's own table (not a publisher's)", "citation": f"researcher's table {t['file']}"})
        sources.append({"title": f"Researcher's own table {t['file']} (reliability `user`, {rows} rows; sha256 {t['sha256']})",
                        "path": f"data/raw/user/{t['file']}", "licence": "the researcher's own table", "publisher": "the researcher",
                        "source_id": sid})
    return sources, raw


def _sources() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    manifest = load_manifest() + project_sources()
    sources, raw = [], []
    for s in manifest:
        up = s.upstream or {}
        where = up.get("url") or (f"https://github.com/{up['repository']}/blob/{up['commit']}/{up['path']}" if up.get("repository") else s.path)
        raw.append({"id": s.id, "path": Path(s.path).name if s.base else s.path, "sha256": s.sha256, "role": s.role,
                    "upstream": where, "licence": s.licence, "citation": s.citation})
        if s.role == "indicator" or s.id in ("gso_units", "vietnamcode", "provinces_2025", "boundaries_63"):
            sources.append({"title": s.citation, "path": where, "licence": s.licence, "publisher": s.publisher, "source_id": s.id})
    return sources, raw


def _readme(version: str, sources: list[dict[str, Any]], counts: dict[str, int]) -> str:
    lines = [
        f"# vngov-indices data release {version}", "",
        "Harmonized panel of Vietnam's provincial governance indices (PAPI, PCI, PAR INDEX, SIPAS, DTI / ICT Index,",
        "online public services): one row per observed value, with its source, reliability, rank and provenance.", "",
        "## Cite this release", "",
        f"vngov-indices contributors ({version}). *vngov-indices harmonized provincial governance panel*, data release {version}.",
        "Built from the sources below; cite them too.", "",
        "## Files", "",
        f"- `indicators.csv` ({counts['indicators']} rows): the panel (schema in `datapackage.json`)",
        f"- `provinces.csv` ({counts['provinces']} rows): codes, names, aliases, regions, 2025 successors",
        f"- `codebook.csv` ({counts['codebook']} rows): labels (vi, en), scales, years, meaning changes",
        f"- `conflicts.csv` ({counts['conflicts']} rows): source disagreements, both values, which was kept",
        "- `datapackage.json`: Frictionless descriptor with schemas, sha256 of every file and of every raw input",
        "- `CHANGES.csv` (when built against a previous release): added, removed and revised values", "",
        "The version is a hash of the tables: same inputs and code, same version and bytes.", "",
        f"Built in the environment pinned by `{LOCK_NAME}` of the vngov-indices repository, sha256 `{lock_sha256()}`.", "",
        "## Sources and licences", "",
    ]
    for s in sources:
        lines.append(f"- **{s['source_id']}**: {s['title']} — {s['licence']}. <{s['path']}>")
    lines += ["", f"Compilation licence: {RELEASE_LICENCE['title']}. The underlying PAPI and PCI data are published by",
              "CECODES/VFF-CRT/RTA/UNDP and VCCI/USAID, who reserve their rights: cite them and check their terms before",
              "redistributing.", ""]
    return "\n".join(lines)


def changes(old_dir: Path, new: pd.DataFrame) -> pd.DataFrame:
    """Added, removed and revised values of `indicators` against a previous release folder."""
    path = Path(old_dir) / "indicators.csv"
    if not path.exists():
        raise DataError("previous release has no indicators.csv", file=path)
    old = pd.read_csv(path, dtype={"province_code": str, "date": str}, keep_default_na=False, na_values=[""])
    cur = new.copy()
    for d in (old, cur):
        d["date"] = d["date"].fillna("").astype(str)
        d["year"] = d["year"].astype(int)
    m = old[[*KEY, "value"]].merge(cur[[*KEY, "value"]], on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    m["change"] = m["_merge"].map({"left_only": "removed", "right_only": "added", "both": "same"}).astype(str)
    revised = (m["change"] == "same") & ~((m["value_old"] - m["value_new"]).abs() <= 1e-12)
    m.loc[revised, "change"] = "revised"
    return m[m["change"] != "same"].drop(columns="_merge").sort_values(KEY).reset_index(drop=True)


def _zip(folder: Path, target: Path) -> Path:
    """A deterministic zip of `folder` (fixed timestamps and modes), its entries under the folder's name."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                info = zipfile.ZipInfo(f"{folder.name}/{f.relative_to(folder).as_posix()}", date_time=ZIP_DATE)
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, f.read_bytes(), compresslevel=9)
    return target


def build_release(dist: Path | None = None, previous: Path | None = None) -> Path:
    """Write the release folder and zip; returns the folder. Both are written from an empty staging folder
    and moved into place at the end, so nothing of an earlier release of the same version (an old
    CHANGES.csv) survives, and a failed release leaves the previous one as it was."""
    dist = Path(dist or paths.project_root() / "dist")
    frames = _frames()
    blobs = {name: _csv_bytes(df) for name, df in frames.items()}
    digest = hashlib.sha256()
    for name in TABLES:
        digest.update(name.encode() + b"\0" + blobs[name])
    version = digest.hexdigest()[:12]
    final = dist / f"vngov-indices-data-{version}"
    dist.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=dist, prefix=".release-"))
    try:
        folder = stage / final.name
        folder.mkdir()
        _write_release(folder, version, frames, blobs, previous)
        _zip(folder, stage / f"{final.name}.zip")
        if final.exists():
            shutil.rmtree(final)
        os.replace(folder, final)
        os.replace(stage / f"{final.name}.zip", final.with_suffix(".zip"))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return final


def _write_release(folder: Path, version: str, frames: dict[str, pd.DataFrame], blobs: dict[str, bytes],
                   previous: Path | None) -> None:
    if previous is not None:
        ch = changes(previous, frames["indicators"])
        blobs["CHANGES"] = _csv_bytes(ch)
    sources, raw = _sources()
    info = load_build_info()
    user_sources, user_raw = _user_sources(info, frames["indicators"])
    sources, raw = sources + user_sources, raw + user_raw
    resources = []
    for name, blob in blobs.items():
        (folder / f"{name}.csv").write_bytes(blob)
        df = frames.get(name)
        schema = _schema(name, df) if df is not None else {"fields": [
            *({"name": k, "type": "integer" if k == "year" else "string"} for k in KEY),
            {"name": "value_old", "type": "number"}, {"name": "value_new", "type": "number"}, {"name": "change", "type": "string"}],
            "missingValues": [""]}
        resources.append({"name": name.lower(), "path": f"{name}.csv", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
                          "hash": "sha256:" + hashlib.sha256(blob).hexdigest(), "bytes": len(blob), "schema": schema,
                          "licenses": [RELEASE_LICENCE]})
    package = {
        "name": "vngov-indices-data", "title": "vngov-indices: harmonized panel of Vietnam's provincial governance indices",
        "version": version, "licenses": [RELEASE_LICENCE], "sources": sources, "resources": resources,
        "raw_inputs": raw, "raw_fingerprint": info["raw_fingerprint"], "environment": {"lock": LOCK_NAME, "lock_sha256": lock_sha256()},
        "contributors": [{"title": "vngov-indices contributors", "role": "author"}],
        "keywords": ["Vietnam", "governance", "PAPI", "PCI", "PAR INDEX", "SIPAS", "provinces"],
    }
    (folder / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(_readme(version, sources, {k: len(v) for k, v in frames.items()}), encoding="utf-8")
