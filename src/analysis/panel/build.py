"""Build the harmonized panel: run every adapter, resolve provinces, validate, keep one value per
province-year-indicator by a documented priority, record every cross-source comparison, rank, and
write the processed files atomically."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import paths
from ..errors import DataError
from ..manifest import RELIABILITY_ORDER, Source, fetch_all, load_manifest, raw_fingerprint, sha256_file
from ..registry import NATIONAL_CODE, Registry, build_provinces
from ..sources import ADAPTERS, UNCERTAINTY_ADAPTERS
from ..sources.common import Context
from ..sources.user import list_user_files, read_user_table
from .codebook import (
    MIN_QUARTILE_N,
    RANKED_INDICES,
    RANKING_RELIABILITY,
    build_codebook,
    defined_indicators,
    expected_scale_max,
)
from .io import write_processed
from .schema import KEY, validate_candidates, validate_panel

PANEL_COLUMNS = [
    "province_code", "province", "year", "index", "indicator", "value", "scale_max", "method_version",
    "source_id", "reliability", "grade", "date", "rank", "rank_of", "quartile", "rank_basis", "source_ref", "note",
]
GRADE_ORDER = {"A": 0, "article": 1, "B": 2, "C": 3}


@dataclass
class BuildResult:
    panel: pd.DataFrame
    provinces: pd.DataFrame
    codebook: pd.DataFrame
    crosschecks: pd.DataFrame
    conflicts: pd.DataFrame
    excluded: pd.DataFrame
    info: dict = field(default_factory=dict)
    uncertainty: pd.DataFrame = field(default_factory=pd.DataFrame)


PROJECT_TABLES = {
    "articles": ("articles.csv", 45, "vngov-indices transcription of five Vietnamese provincial reports (data/reported/SOURCES.md)",
                 "provincial People's Committees and newspapers"),
    "press_papi_pci": ("press_papi_pci.csv", 46, "Published PAPI and PCI figures quoted in the raw mirror's notes, transcribed by vngov-indices",
                       "CECODES/UNDP (PAPI), VCCI (PCI), as quoted in the press"),
}


def project_sources() -> list[Source]:
    """The project's own committed tables (data/reported/), read like manifest sources."""
    out = []
    for sid, (name, priority, citation, publisher) in PROJECT_TABLES.items():
        path = paths.reported_dir() / name
        out.append(Source(id=sid, path=str(path), sha256=sha256_file(path) if path.is_file() else "0" * 64, role="indicator",
                          licence="CC-BY-4.0 (project transcription of public figures)", citation=citation, publisher=publisher,
                          adapter="reported_table", reliability="reported", priority=priority, base="/"))
    return out


def collect(sources: list[Source], ctx: Context, progress: bool) -> pd.DataFrame:
    """Run every indicator adapter and the researcher's own tables."""
    frames = []
    todo = [s for s in sources if s.role == "indicator"] + project_sources()
    user_files, skipped = list_user_files(paths.user_dir())
    bar = tqdm(total=len(todo) + len(user_files), desc="read sources", unit="file", disable=not progress)
    for src in todo:
        if not src.local_path.is_file():
            what = "a folder stands where" if src.local_path.is_dir() else "missing:"
            raise DataError(f"{what} the input file of source {src.id}", file=src.local_path)
        if src.adapter not in ADAPTERS:
            raise DataError("manifest names an unknown adapter", file=paths.manifest_path(), column="adapter", value=src.adapter)
        df = ADAPTERS[src.adapter](src, ctx)
        df["source_id"], df["reliability"], df["priority"] = src.id, src.reliability, src.priority
        frames.append(df)
        bar.update()
    for path in user_files:
        df = read_user_table(path, notes=skipped)
        df["source_id"], df["reliability"], df["priority"] = f"user:{path.name}", "user", 1000
        frames.append(df)
        bar.update()
    bar.close()
    for s in skipped:  # recorded in excluded.csv: nothing in the user folder is passed over silently
        ctx.exclude("user", s.path, None, s.reason, "")
    out = pd.concat(frames, ignore_index=True)
    out["source_ref"] = out["source_ref"].fillna("").astype("string")
    out["date"] = out["date"].fillna("").astype("string")
    return out


UNCERTAINTY_KEY = ["province_code", "year", "index", "indicator"]


def collect_uncertainty(sources: list[Source], ctx: Context, registry: Registry, panel: pd.DataFrame) -> pd.DataFrame:
    """Standard errors published beside the scores (manifest role `uncertainty`). Provinces are resolved
    like any observation; where two files give the same key their numbers must agree, and every published
    estimate must equal the panel's value, so a standard error can never attach to the wrong province or
    indicator. One row per key, from the file with the lowest manifest priority."""
    frames = []
    for src in (s for s in sources if s.role == "uncertainty"):
        if src.adapter not in UNCERTAINTY_ADAPTERS:
            raise DataError("manifest names an unknown adapter", file=paths.manifest_path(), column="adapter", value=src.adapter)
        df = UNCERTAINTY_ADAPTERS[src.adapter](src, ctx)
        df["source_id"], df["reliability"], df["priority"] = src.id, src.reliability, src.priority
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*UNCERTAINTY_KEY, "value", "se", "source_id"])
    unc = resolve_provinces(pd.concat(frames, ignore_index=True), registry).sort_values("priority", kind="mergesort")
    first = unc.drop_duplicates(UNCERTAINTY_KEY)
    other = unc[unc.duplicated(UNCERTAINTY_KEY)].merge(first[[*UNCERTAINTY_KEY, "value", "se"]], on=UNCERTAINTY_KEY, suffixes=("", "_kept"))
    bad = other[((other["value"] - other["value_kept"]).abs() > 1e-6) | ((other["se"] - other["se_kept"]).abs() > 1e-9)]
    if not bad.empty:
        r = bad.iloc[0]
        raise DataError("two files give different standard errors for the same score", file=r["_file"], row=int(r["_row"]),
                        column=r["_column"], value=r["se"])
    mine = first.merge(panel[UNCERTAINTY_KEY + ["value"]], on=UNCERTAINTY_KEY, how="left", suffixes=("", "_panel"))
    off = mine[~((mine["value"] - mine["value_panel"]).abs() <= 1e-4)]
    if not off.empty:
        r = off.iloc[0]
        raise DataError(f"published estimate does not match the panel value {r['value_panel']}", file=r["_file"], row=int(r["_row"]),
                        column=r["_column"], value=r["value"])
    mine["province"] = mine["province_code"].map(registry.name)
    cols = [*UNCERTAINTY_KEY[:1], "province", *UNCERTAINTY_KEY[1:], "value", "se", "ci_low_published", "ci_high_published",
            "ci_level_published", "n_respondents", "source_id", "reliability", "source_ref", "note"]
    return mine[cols].sort_values(UNCERTAINTY_KEY).reset_index(drop=True)


def resolve_provinces(obs: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Map every spelling to its GSO code; the first row of an unknown name is named in the error."""
    firsts = obs.drop_duplicates("province_raw")
    mapping = {}
    for r in firsts[["province_raw", "_file", "_row"]].to_dict("records"):
        row = None if pd.isna(r["_row"]) else int(r["_row"])
        mapping[r["province_raw"]] = registry.resolve(r["province_raw"], file=r["_file"], row=row, column="province")
    obs["province_code"] = obs["province_raw"].map(mapping).astype("string")
    return obs


def record_spellings(provinces: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """Add every spelling a raw file used for a province to its aliases, so provinces.csv documents them."""
    seen = {c: set(map(str, g)) for c, g in obs.groupby("province_code")["province_raw"]}
    out = provinces.copy()
    out["aliases"] = [
        "|".join(sorted((set(filter(None, str(a).split("|"))) | seen.get(c, set())) - {name}))
        for c, name, a in zip(out["province_code"], out["province"], out["aliases"], strict=True)
    ]
    return out


def _fail_at(obs: pd.DataFrame, bad: pd.Series, message: str, column: str, hint: str | None = None) -> None:
    """Raise for the first observation flagged in `bad`, naming its file, row, column and value."""
    if not bad.any():
        return
    r = obs[bad.to_numpy()].iloc[0]
    value = r[column].item() if hasattr(r[column], "item") else r[column]
    raise DataError(f"{message} [{r['index']} {r['indicator']} {r['year']}, {r['province_raw']}]", file=r["_file"],
                    row=None if pd.isna(r["_row"]) else int(r["_row"]), column=column, value=value, hint=hint)


def check_existence(obs: pd.DataFrame, registry: Registry) -> None:
    """A value for a province after its code stopped existing (Hà Tây after 2008; any province of the
    63 after the 2025 merger) cannot be a real observation. The 63 codes also carry the years before 2008
    (PCI 2005-2007), so only the end of a code's life is checked."""
    active_to = obs["province_code"].map(registry.table["active_to"]).astype("Float64")
    bad = (obs["year"].astype("Float64") > active_to).fillna(False)
    if bad.any():
        code = obs.loc[bad.to_numpy(), "province_code"].iloc[0]
        info = registry.table.loc[code]
        _fail_at(obs, bad, f"province did not exist in that year: {info['province']} existed until {info['active_to']}", "year",
                 hint=str(info["note"]) or "The 63 provinces were merged into 34 in July 2025")


def check_defined_indicators(obs: pd.DataFrame) -> None:
    """PAPI and PCI define their indicators (PAPI by year): anything else is not a value of that index."""
    pairs = obs[["index", "indicator", "year"]].drop_duplicates()
    undefined = {
        (i, k, int(y)) for i, k, y in zip(pairs["index"], pairs["indicator"], pairs["year"], strict=True)
        if (codes := defined_indicators(i, int(y))) is not None and k not in codes
    }
    if undefined:
        bad = pd.Series([(i, k, int(y)) in undefined for i, k, y in zip(obs["index"], obs["indicator"], obs["year"], strict=True)],
                        index=obs.index)
        r = obs[bad.to_numpy()].iloc[0]
        known = sorted(defined_indicators(r["index"], int(r["year"])) or [])
        _fail_at(obs, bad, f"{r['index']} defines no indicator {r['indicator']!r} in {r['year']}", "indicator",
                 hint=f"{r['index']} {r['year']} indicators: {', '.join(k for k in known if not k.endswith('_rank'))} "
                      "(and <indicator>_rank); use your own index name for other measures")


def check_user_duplicates(obs: pd.DataFrame) -> None:
    """One value per province-year-index-indicator-date across all of a researcher's tables, checked after
    name resolution: "Bình Dương" and "Binh Duong" are one province whatever the source column says."""
    user = obs[obs["reliability"] == "user"]
    again = user.duplicated(KEY, keep="first")
    if not again.any():
        return
    b = user[again].iloc[0]
    same = (user[KEY] == b[KEY]).all(axis=1)
    a = user[same].iloc[0]
    raise DataError(
        f"duplicate row: same province, year, index, indicator and date as {a['_file']} row {a['_row']} "
        f"({a['province_raw']!r}, source {a['source_ref']!r})",
        file=b["_file"], row=int(b["_row"]), column="province", value=b["province_raw"],
        hint="Keep one of the two rows (different spellings of a province are the same province)",
    )


def prepare(obs: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Resolve provinces, fill each index's own maximum and validate: the one path every observation takes."""
    obs = resolve_provinces(obs, registry)
    check_existence(obs, registry)
    check_defined_indicators(obs)
    check_user_duplicates(obs)
    keys = list(zip(obs["index"], obs["indicator"], obs["year"], strict=True))
    scales = {key: expected_scale_max(key[0], key[1], int(key[2])) for key in set(keys)}
    # float even when no row has a known scale (None -> NaN)
    obs["expected_scale_max"] = pd.Series([scales[key] for key in keys], index=obs.index, dtype="float64")
    obs["scale_max"] = obs["scale_max"].fillna(obs["expected_scale_max"])
    validate_candidates(obs)
    return obs


def choose(obs: pd.DataFrame, tol_floor: float = 1e-3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep one observation per key: official > compiled > reported > user, then manifest priority, then
    reliability grade, then file order. Every other observation of the key is compared with the kept one."""
    obs = obs.copy()
    obs["_rel"] = obs["reliability"].map(RELIABILITY_ORDER)
    obs["_grade"] = obs["grade"].map(GRADE_ORDER).fillna(9)
    obs["_ord"] = np.arange(len(obs))
    obs = obs.sort_values([*KEY, "_rel", "priority", "_grade", "_ord"], kind="mergesort")
    first = ~obs.duplicated(KEY, keep="first")
    kept = obs[first]
    others = obs[~first]
    cmp = others.merge(kept[[*KEY, "value", "source_id", "source_ref", "_tol", "reliability"]], on=KEY, suffixes=("", "_kept"))
    tol = np.maximum(np.maximum(cmp["_tol"].fillna(tol_floor), cmp["_tol_kept"].fillna(tol_floor)), 1e-9)
    diff = (cmp["value"] - cmp["value_kept"]).abs()
    checks = pd.DataFrame({
        **{k: cmp[k] for k in KEY}, "kind": "value",
        "kept_source_id": cmp["source_id_kept"], "kept_reliability": cmp["reliability_kept"], "kept_value": cmp["value_kept"],
        "other_source_id": cmp["source_id"], "other_reliability": cmp["reliability"], "other_value": cmp["value"],
        "other_source_ref": cmp["source_ref"], "other_note": cmp["note"], "difference": diff, "tolerance": tol,
        "status": np.where(diff <= tol + 1e-12, "agree", "conflict"),
    })
    return kept.drop(columns=["_rel", "_grade", "_ord"]), checks


def add_ranks(panel: pd.DataFrame) -> pd.DataFrame:
    """Ranks (1 = best, ties share the better rank) and quartile groups (1 = top) among the provinces with
    a published score, for the full panels; reported ranks are kept as published for the other indices.
    Only the publisher's own rows are ranked (official, compiled): a reported or user value of PAPI or PCI
    gets no computed rank and cannot move a published one. No quartile below four ranked units."""
    panel["rank_basis"] = pd.Series(pd.NA, index=panel.index, dtype="string")
    has_rep = panel["rank"].notna()
    panel.loc[has_rep, "rank_basis"] = "reported"
    ranked = (panel["index"].isin(RANKED_INDICES) & panel["reliability"].isin(RANKING_RELIABILITY)
              & (panel["province_code"] != NATIONAL_CODE) & ~panel["indicator"].str.endswith("_rank"))
    grp = panel[ranked].groupby(["index", "indicator", "year", "date"])["value"]
    panel.loc[ranked, "rank"] = grp.rank(method="min", ascending=False).astype("Int64")
    panel.loc[ranked, "rank_of"] = grp.transform("count").astype("Int64")
    panel.loc[ranked, "rank_basis"] = "computed"
    r, n = panel["rank"].astype("Float64"), panel["rank_of"].astype("Float64")
    q = (4 * r / n).where(n >= MIN_QUARTILE_N).map(lambda x: math.ceil(x) if pd.notna(x) else pd.NA)
    panel["quartile"] = q.astype("Int64")
    return panel


def rank_checks(panel: pd.DataFrame, reported: pd.DataFrame) -> pd.DataFrame:
    """Compare published ranks (reported rows with a rank, and `<indicator>_rank` rows) with the ranks
    computed from the panel."""
    rep = reported[reported["rank"].notna()].copy()
    rep["base"] = rep["indicator"].str.replace(r"_rank$", "", regex=True)
    comp = panel[panel["rank_basis"] == "computed"][["province_code", "year", "index", "indicator", "date", "rank", "rank_of", "source_id"]]
    m = rep.merge(comp, left_on=["province_code", "year", "index", "base", "date"], right_on=["province_code", "year", "index", "indicator", "date"],
                  suffixes=("", "_c"))
    if m.empty:
        return pd.DataFrame()
    same_rank = m["rank"] == m["rank_c"]
    same_n = m["rank_of"].isna() | (m["rank_of"] == m["rank_of_c"])
    status = np.select([same_rank & same_n, same_rank], ["agree", "rank agrees, ranked out of a different N"], "conflict")
    return pd.DataFrame({
        "province_code": m["province_code"], "year": m["year"], "index": m["index"], "indicator": m["indicator"], "date": m["date"],
        "kind": "rank", "kept_source_id": m["source_id_c"], "kept_reliability": "computed",
        "kept_value": m["rank_c"].astype(float), "other_source_id": m["source_id"], "other_reliability": m["reliability"],
        "other_value": m["rank"].astype(float), "other_source_ref": m["source_ref"], "other_note": m["note"],
        "difference": (m["rank"] - m["rank_c"]).abs().astype(float), "tolerance": 0.0,
        "status": status,
        "rank_of_reported": m["rank_of"], "rank_of_computed": m["rank_of_c"],
    })


def build(progress: bool = True, write: bool = True, fetch: bool = True) -> BuildResult:
    t0 = time.perf_counter()
    sources = load_manifest()
    if fetch:
        fetch_all(sources, progress=progress)
    folders = [s for s in sources if s.local_path.is_dir()]
    if folders:
        raise DataError("a folder stands where a raw file should be; remove it and run `python -m analysis data fetch`",
                        file=folders[0].local_path)
    missing = [s for s in sources if not s.local_path.is_file()]
    if missing:
        raise DataError(f"{len(missing)} raw files missing; run `python -m analysis data fetch`", file=missing[0].local_path)
    ctx = Context(raw={s.id: s.local_path for s in sources})
    provinces = build_provinces(ctx.raw)
    registry = Registry(provinces)
    obs = collect(sources, ctx, progress)
    obs = prepare(obs, registry)
    provinces = record_spellings(provinces, obs)
    kept, checks = choose(obs)
    kept = kept.copy()
    kept["province"] = kept["province_code"].map(registry.name).astype("string")
    kept = add_ranks(kept)
    reported_rows = obs[obs["reliability"].isin(["reported", "user"])]
    checks = pd.concat([checks, rank_checks(kept, reported_rows)], ignore_index=True)
    checks.insert(1, "province", checks["province_code"].map(registry.name))
    panel = kept[PANEL_COLUMNS].sort_values(["index", "indicator", "year", "province_code", "date"]).reset_index(drop=True)
    for c in ("method_version", "grade", "note"):
        panel[c] = panel[c].fillna("").astype("string")
    validate_panel(panel)
    conflicts = checks[checks["status"] != "agree"].copy()
    conflicts["resolution"] = np.where(
        conflicts["kind"] == "rank", "published rank differs from the rank computed from the panel (" + conflicts["status"] + "); panel kept",
        "kept " + conflicts["kept_source_id"] + " (" + conflicts["kept_reliability"] + ") over " + conflicts["other_source_id"]
        + " (" + conflicts["other_reliability"] + "): official > compiled > reported > user, then manifest priority",
    )
    codebook = build_codebook(panel)
    uncertainty = collect_uncertainty(sources, ctx, registry, panel)
    excluded = pd.DataFrame(ctx.excluded, columns=["source_id", "file", "row", "reason", "content"])
    info = {
        "raw_fingerprint": raw_fingerprint(sources),
        "sources": {s.id: s.sha256 for s in sources},
        "project_tables": {s.id: s.sha256 for s in project_sources()},
        "n_observations": len(panel), "n_candidates": len(obs), "n_crosschecks": len(checks),
        "n_conflicts": len(conflicts), "n_excluded": len(excluded),
        "user_files_ignored": [f"{Path(r.file).name}: {r.reason}" for r in excluded[excluded["source_id"] == "user"].itertuples()],
        "papi_structure_note": "sub-dimension codes follow the 2018 numbering with stable meaning; see codebook.csv",
        "build_seconds": None,
    }
    info["n_uncertainty"] = len(uncertainty)
    result = BuildResult(panel, provinces, codebook, checks, conflicts, excluded, info, uncertainty)
    info["build_seconds"] = round(time.perf_counter() - t0, 2)
    if write:
        write_processed(result)
    return result
