"""Build the harmonized panel: run every adapter, resolve provinces, validate, keep one value per
province-year-indicator by a documented priority, record every cross-source comparison, rank, and
write the processed files atomically."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from .. import paths, textcheck
from ..errors import DataError
from ..limits import TEXT_MAX_TOTAL_CHARS
from ..manifest import RELIABILITY_ORDER, Source, fetch_all, load_manifest, raw_fingerprint, sha256_file
from ..registry import (
    ALIAS_SEPARATOR,
    MERGER_DATE,
    NATIONAL_CODE,
    VINTAGE_34,
    VINTAGE_63,
    Registry,
    build_provinces,
)
from ..sources import ADAPTERS, UNCERTAINTY_ADAPTERS
from ..sources.common import Context
from ..sources.user import list_user_files, read_user_table, user_table_inputs
from .codebook import (
    COMPUTED_RANK_INDICES,
    MIN_QUARTILE_N,
    RANKING_RELIABILITY,
    YEAR_TO_DATE_INDICES,
    build_codebook,
    defined_indicators,
    expected_scale_max,
)
from .io import BuildResult, write_processed
from .schema import KEY, validate_candidates, validate_panel

PANEL_COLUMNS = [
    "province_code", "vintage", "province", "year", "index", "indicator", "value", "scale_max", "method_version",
    "source_id", "reliability", "grade", "date", "rank", "rank_of", "quartile", "rank_basis", "source_ref", "note", "identity",
]
GRADE_ORDER = {"A": 0, "article": 1, "B": 2, "C": 3}
CUTOFF_STATUS = "different cut-off"
"""Status of a comparison between two snapshots of a year-to-date index at different dates: a later
measurement, not a second opinion on the same value, so never a conflict."""


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


def collect(sources: list[Source], ctx: Context, progress: bool) -> tuple[pd.DataFrame, list[dict]]:
    """Run every indicator adapter and the researcher's own tables. Returns the observations and, for each
    user table, what went in (file, sha256, rows; its mapping file if it has one) for the run's provenance."""
    frames = []
    todo = [s for s in sources if s.role == "indicator"] + project_sources()
    user_files, skipped = list_user_files(paths.user_dir())
    # closed on an error too: the message printed next starts a line of its own, not the bar's last frame
    with tqdm(total=len(todo) + len(user_files), desc="read sources", unit="file", disable=not progress) as bar:
        for src in todo:
            if not src.local_path.is_file():
                what = "a folder stands where" if src.local_path.is_dir() else "missing:"
                raise DataError(f"{what} the input file of source {src.id}", file=src.local_path)
            if src.adapter not in ADAPTERS:
                raise DataError("manifest names an unknown adapter", file=paths.manifest_path(), column="adapter", value=src.adapter)
            df = ADAPTERS[src.adapter](src, ctx)
            df["vintage"] = df["vintage"].fillna(src.vintage)  # the coding the source declares for its names
            df["source_id"], df["reliability"], df["priority"] = src.id, src.reliability, src.priority
            frames.append(df)
            bar.update()
        user_tables = []
        for path in user_files:
            df = read_user_table(path, notes=skipped)
            df["source_id"], df["reliability"], df["priority"] = f"user:{path.name}", "user", 1000
            frames.append(df)
            user_tables.append(user_table_inputs(path, len(df)))
            bar.update()
    for s in skipped:  # recorded in excluded.csv: nothing in the user folder is passed over silently
        ctx.exclude("user", s.path, s.row, s.reason, s.content)
    out = pd.concat(frames, ignore_index=True)
    out["source_ref"] = out["source_ref"].fillna("").astype("string")
    out["date"] = out["date"].fillna("").astype("string")
    out["identity"] = out["identity"].fillna("").astype("string") if "identity" in out else pd.Series("", index=out.index, dtype="string")
    return out, user_tables


def after_merger(year: int, date: str) -> bool | None:
    """Whether a value describes a time after the 2025 merger (1 July 2025): True from 2026 or with a date
    from July 2025, False up to 2024 or with an earlier 2025 date, None for 2025 without a month (either)."""
    if year >= 2026:
        return True
    if year <= 2024:
        return False
    return date[:7] >= MERGER_DATE[:7] if len(date) >= 7 else None


def assign_vintages(obs: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Rows that declare no vintage (a researcher's table without the `vintage` column) take the one their
    time implies: the 63 provinces before 1 July 2025, the 34 after. A 2025 value without a month could be
    either; it is accepted only when its name exists in one vintage (Bắc Giang: the 63; the national row),
    otherwise the build stops and asks for the column: "Bắc Ninh 2025" is code 27 before the merger and the
    larger code 24 after it."""
    todo = obs["vintage"].isna() | (obs["vintage"] == "")
    if not todo.any():
        return obs
    sub = obs.loc[todo, ["province_raw", "year", "date", "_file", "_row"]]
    implied: dict[tuple, str] = {}
    out = obs["vintage"].astype("object").where(~todo)
    for i, (name, year, date, file, row) in zip(sub.index, sub.itertuples(index=False), strict=True):
        after = after_merger(int(year), str(date))
        key = (name, after)
        if key not in implied:
            row = None if pd.isna(row) else int(row)
            implied[key] = _implied_vintage(registry, name, int(year), after, file, row)
        out.at[i] = implied[key]
    obs["vintage"] = out.astype("string")
    return obs


def _implied_vintage(registry: Registry, name: object, year: int, after: bool | None, file: object, row: int | None) -> str:
    old, new = registry.find(name, VINTAGE_63), registry.find(name, VINTAGE_34)
    if after is False:
        return VINTAGE_63
    if after is True:
        if new is None and old is not None and old != NATIONAL_CODE:
            info = registry.table.loc[old]
            raise DataError(
                f"province did not exist in that year: {info['province']} (63-province code {old}) existed until 30 June 2025; "
                f"from 1 July 2025 it is part of {info['name_2025']} (2025 code {info['code_2025']})",
                file=file, row=row, column="year", value=year,
                hint="Values after the merger name one of the 34 provinces of 2025; for a value from before it give a date "
                     "before 2025-07 or add a `vintage` column (gso-2008)")
        return VINTAGE_34
    if old is not None and new is not None and not (old == new == NATIONAL_CODE):
        raise DataError(
            f"2025 without a month: {name!r} is a province of the 63 (code {old}) and of the 34 of 2025 (code {new}); "
            "which one is meant?", file=file, row=row, column="vintage", value=name,
            hint="Add a `vintage` column (gso-2008 for values before 1 July 2025, gso-2025 after) or a date (YYYY-MM)")
    return VINTAGE_34 if old is None and new is not None else VINTAGE_63


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
        df["vintage"] = src.vintage or VINTAGE_63  # the coding of the file's province names
        if "date" not in df:
            df["date"] = ""
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
    same_coding = panel[panel["vintage"] == VINTAGE_63]  # the publisher's standard errors are for the 63
    mine = first.merge(same_coding[UNCERTAINTY_KEY + ["value"]], on=UNCERTAINTY_KEY, how="left", suffixes=("", "_panel"))
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
    """Map every spelling to its GSO code within the row's vintage; the first row of an unknown name is named
    in the error. The row's vintage becomes its code's (Hà Tây gso-1991, the national row `national`)."""
    obs = assign_vintages(obs, registry)
    domain = obs["vintage"].where(obs["vintage"] == VINTAGE_34, VINTAGE_63)
    firsts = obs.assign(_domain=domain).drop_duplicates(["province_raw", "_domain"])
    mapping, vintages = {}, {}
    for r in firsts[["province_raw", "_domain", "_file", "_row"]].to_dict("records"):
        row = None if pd.isna(r["_row"]) else int(r["_row"])
        code = registry.resolve(r["province_raw"], vintage=r["_domain"], file=r["_file"], row=row, column="province")
        mapping[(r["province_raw"], r["_domain"])] = code
        vintages[(r["province_raw"], r["_domain"])] = registry.vintage(code, r["_domain"])
    keys = list(zip(obs["province_raw"], domain, strict=True))
    obs["province_code"] = pd.array([mapping[k] for k in keys], dtype="string")
    obs["vintage"] = pd.array([vintages[k] for k in keys], dtype="string")
    return obs


def record_spellings(provinces: pd.DataFrame, obs: pd.DataFrame) -> pd.DataFrame:
    """Add every spelling a raw file used for a province to its aliases (within its vintage), so provinces.csv
    documents them."""
    seen = {k: {n for n in map(str, g) if ALIAS_SEPARATOR not in n} for k, g in obs.groupby(["vintage", "province_code"])["province_raw"]}
    out = provinces.copy()
    out["aliases"] = [
        "|".join(sorted((set(filter(None, str(a).split("|"))) | seen.get((v, c), set())) - {name}))
        for c, v, name, a in zip(out["province_code"], out["vintage"], out["province"], out["aliases"], strict=True)
    ]
    return out


def _names(df: pd.DataFrame, registry: Registry) -> pd.Series:
    """Province names by code within each row's vintage (2025 "24" is Bắc Ninh, 63-province "24" Bắc Giang)."""
    pairs = {(c, v): registry.name(c, v) for c, v in set(zip(df["province_code"], df["vintage"], strict=True))}
    return pd.Series([pairs[(c, v)] for c, v in zip(df["province_code"], df["vintage"], strict=True)], index=df.index, dtype="string")


def _fail_at(obs: pd.DataFrame, bad: pd.Series, message: str, column: str, hint: str | None = None) -> None:
    """Raise for the first observation flagged in `bad`, naming its file, row, column and value."""
    if not bad.any():
        return
    r = obs[bad.to_numpy()].iloc[0]
    value = r[column].item() if hasattr(r[column], "item") else r[column]
    raise DataError(f"{message} [{r['index']} {r['indicator']} {r['year']}, {r['province_raw']}]", file=r["_file"],
                    row=None if pd.isna(r["_row"]) else int(r["_row"]), column=column, value=value, hint=hint)


def check_existence(obs: pd.DataFrame, registry: Registry) -> None:
    """A value for a province outside its lifetime cannot be a real observation: Hà Tây after 2008, any of the
    63 after 30 June 2025, any of the 34 before 1 July 2025. The 63 codes also carry the years before 2008
    (PCI 2005-2007), so only the end of their life is checked."""
    old = obs["vintage"] != VINTAGE_34
    t63, t34 = registry.table, registry.tables[VINTAGE_34]
    active_to = obs["province_code"].map(t63["active_to"]).astype("Float64").where(old)
    late = (obs["year"].astype("Float64") > active_to).fillna(False)
    dated_late = old & (obs["vintage"] == VINTAGE_63) & (obs["year"] == 2025) & (obs["date"].str.slice(0, 7) >= MERGER_DATE[:7])
    if late.any() or dated_late.any():
        bad = late if late.any() else dated_late
        code = obs.loc[bad.to_numpy(), "province_code"].iloc[0]
        info = t63.loc[code]
        until = "until 30 June 2025" if info["vintage"] == VINTAGE_63 else f"until {info['active_to']}"
        succ = f"; from 1 July 2025 part of {info['name_2025']} (2025 code {info['code_2025']}, vintage gso-2025)" \
            if info["vintage"] == VINTAGE_63 else ""
        _fail_at(obs, bad, f"province did not exist in that year: {info['province']} existed {until}{succ}",
                 "year" if late.any() else "date", hint=str(info["note"]) or "The 63 provinces were merged into 34 in July 2025")
    new = obs["vintage"] == VINTAGE_34
    early = new & ((obs["year"] < 2025) | ((obs["year"] == 2025) & (obs["date"].str.len() >= 7)
                                          & (obs["date"].str.slice(0, 7) < MERGER_DATE[:7])))
    if early.fillna(False).any():
        code = obs.loc[early.fillna(False).to_numpy(), "province_code"].iloc[0]
        _fail_at(obs, early.fillna(False), f"the 34 provinces of 2025 exist from 1 July 2025: {t34.at[code, 'province']} "
                 f"(2025 code {code}) did not exist then", "year",
                 hint="A value from before the merger names one of the 63 provinces (vintage gso-2008)")


def check_defined_indicators(obs: pd.DataFrame) -> None:
    """Indices with a closed list of indicators (`closed: true` in the codebook: PAPI by year, PCI, PAR_INDEX, SIPAS)
    define them: anything else is not a value of that index, and the message lists the codes."""
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


TEXT_COLUMNS = {"province_raw": True, "note": False, "source_ref": False, "date": True, "grade": True, "method_version": True,
                "_file": True}
"""Text columns of an observation, and whether each is a name (no tabs or line breaks either)."""


def check_text(obs: pd.DataFrame) -> None:
    """Every text of every observation, whatever its source, is one the outputs can hold (`textcheck`): a U+FFFF
    in a note would pass the build and then fail every Word card of every later run without naming its row."""
    present = [c for c in TEXT_COLUMNS if c in obs and c != "_file"]
    if present and "_file" in obs:  # a short text repeated on many rows adds up: the sum per file is bounded too
        lengths = sum(obs[c].astype(object).map(lambda v: len(v) if isinstance(v, str) else 0) for c in present)
        per_file = lengths.groupby(obs["_file"].astype(str)).sum()
        if len(per_file) and per_file.max() > TEXT_MAX_TOTAL_CHARS:
            raise DataError(f"the rows of this file carry {int(per_file.max()):,} characters of text, more than "
                            f"{TEXT_MAX_TOTAL_CHARS:,} (README, Limits)", file=per_file.idxmax(), column="source, note",
                            hint="A long source or note is copied into every row it applies to: shorten it")
    for column, name in TEXT_COLUMNS.items():
        if column not in obs:
            continue
        values = obs[column].astype(object)
        bad = [isinstance(v, str) and textcheck.problem(v, name=name) is not None for v in values]
        if any(bad):
            r = obs[pd.Series(bad, index=obs.index).to_numpy()].iloc[0]
            where = "province" if column == "province_raw" else column.lstrip("_")
            raise DataError(f"{where} contains {textcheck.problem(str(r[column]), name=name)}",
                            file=r.get("_file"), row=None if pd.isna(r.get("_row")) else int(r["_row"]), column=where,
                            value=r[column], hint="Retype the text as plain text")


def prepare(obs: pd.DataFrame, registry: Registry) -> pd.DataFrame:
    """Check text, resolve provinces, fill each index's own maximum and validate: the one path every observation
    takes."""
    check_text(obs)
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
    ranked = (panel["index"].isin(COMPUTED_RANK_INDICES) & panel["reliability"].isin(RANKING_RELIABILITY)
              & (panel["province_code"] != NATIONAL_CODE) & ~panel["indicator"].str.endswith("_rank"))
    # the 63 (with Hà Tây in PCI 2005-2007) and the 34 of 2025 are never ranked together
    era = (panel["vintage"] == VINTAGE_34).rename("_era")
    grp = panel[ranked].groupby(["index", "indicator", "year", "date", era[ranked]])["value"]
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
    comp = panel[panel["rank_basis"] == "computed"][["province_code", "vintage", "year", "index", "indicator", "date", "rank", "rank_of",
                                                     "source_id"]]
    m = rep.merge(comp, left_on=["province_code", "vintage", "year", "index", "base", "date"],
                  right_on=["province_code", "vintage", "year", "index", "indicator", "date"], suffixes=("", "_c"))
    if m.empty:
        return pd.DataFrame()
    same_rank = m["rank"] == m["rank_c"]
    same_n = m["rank_of"].isna() | (m["rank_of"] == m["rank_of_c"])
    status = np.select([same_rank & same_n, same_rank], ["agree", "rank agrees, ranked out of a different N"], "conflict")
    return pd.DataFrame({
        "province_code": m["province_code"], "vintage": m["vintage"], "year": m["year"], "index": m["index"], "indicator": m["indicator"],
        "date": m["date"], "kind": "rank", "kept_source_id": m["source_id_c"], "kept_reliability": "computed",
        "kept_value": m["rank_c"].astype(float), "other_source_id": m["source_id"], "other_reliability": m["reliability"],
        "other_value": m["rank"].astype(float), "other_source_ref": m["source_ref"], "other_note": m["note"],
        "difference": (m["rank"] - m["rank_c"]).abs().astype(float), "tolerance": 0.0,
        "status": status,
        "rank_of_reported": m["rank_of"], "rank_of_computed": m["rank_of_c"],
    })


def cutoff_checks(panel: pd.DataFrame) -> pd.DataFrame:
    """Every snapshot of a year-to-date index (DVC766) against the reference snapshot of the same province,
    vintage, year and indicator: the publisher's own data (official, compiled) at its latest cut-off. The two
    766 workbooks (cut-offs 11 and 16 October 2025) and the press values (other days of 2025) measure the same
    running score at other dates, so the difference is recorded with the status "different cut-off", never
    as agreement or conflict. Published ranks (`<indicator>_rank` rows and ranks on value rows) likewise."""
    ytd = panel[panel["index"].isin(YEAR_TO_DATE_INDICES) & (panel["date"] != "")].copy()
    if ytd.empty:
        return pd.DataFrame()
    ytd["base"] = ytd["indicator"].str.replace(r"_rank$", "", regex=True)
    ytd["_rel"] = ytd["reliability"].map(RELIABILITY_ORDER)
    group = ["province_code", "vintage", "year", "index", "base"]
    values = ytd[~ytd["indicator"].str.endswith("_rank")]
    ref = (values[values["reliability"].isin(["official", "compiled"])].sort_values(["_rel", "date"], ascending=[True, False])
           .drop_duplicates(group))
    m = ytd.merge(ref[[*group, "date", "value", "rank", "rank_of", "source_id", "reliability"]], on=group, suffixes=("", "_ref"))
    m = m[(m["date"] != m["date_ref"]) | (m["source_id"] != m["source_id_ref"])]
    rows = []
    for kind, part in (("value", m[~m["indicator"].str.endswith("_rank")]), ("rank", m[m["rank"].notna() & m["rank_ref"].notna()])):
        mine = part["rank"].astype(float) if kind == "rank" else part["value"]
        theirs = part["rank_ref"].astype(float) if kind == "rank" else part["value_ref"]
        rows.append(pd.DataFrame({
            "province_code": part["province_code"], "vintage": part["vintage"], "year": part["year"], "index": part["index"],
            "indicator": part["base"], "date": part["date_ref"], "kind": kind, "kept_source_id": part["source_id_ref"],
            "kept_reliability": part["reliability_ref"], "kept_value": theirs, "other_source_id": part["source_id"],
            "other_reliability": part["reliability"], "other_value": mine, "other_source_ref": part["source_ref"],
            "other_note": part["note"], "difference": (mine - theirs).abs(), "tolerance": np.nan, "status": CUTOFF_STATUS,
            "other_date": part["date"], "rank_of_reported": part["rank_of"], "rank_of_computed": part["rank_of_ref"],
        }))
    return pd.concat(rows, ignore_index=True)


def user_tables_info(user_tables: list[dict], panel: pd.DataFrame) -> list[dict]:
    """Each researcher's table as it went into the run: file, sha256, rows read, rows kept in the panel (the
    rest are second opinions on an official value, in crosschecks.csv), and its mapping file if any."""
    kept = panel["source_id"].value_counts()
    return [t | {"rows_in_panel": int(kept.get(f"user:{t['file']}", 0))} for t in user_tables]


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
    ctx.registry = registry  # adapters that resolve a name themselves (the 766 yearly table) use the build's registry
    obs, user_tables = collect(sources, ctx, progress)
    obs = prepare(obs, registry)
    provinces = record_spellings(provinces, obs)
    kept, checks = choose(obs)
    kept = kept.copy()
    kept["province"] = _names(kept, registry)
    kept = add_ranks(kept)
    reported_rows = obs[obs["reliability"].isin(["reported", "user"])]
    checks = pd.concat([checks, rank_checks(kept, reported_rows), cutoff_checks(kept)], ignore_index=True)
    checks.insert(1, "province", _names(checks, registry))
    checks["other_date"] = checks["other_date"].fillna("") if "other_date" in checks else ""
    panel = kept[PANEL_COLUMNS].sort_values(["index", "indicator", "year", "province_code", "date"]).reset_index(drop=True)
    for c in ("method_version", "grade", "note", "identity"):
        panel[c] = panel[c].fillna("").astype("string")
    validate_panel(panel)
    conflicts = checks[~checks["status"].isin(["agree", CUTOFF_STATUS])].copy()
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
        "user_tables": user_tables_info(user_tables, panel),
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
