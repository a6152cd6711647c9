"""The Decision 766 service index workbooks (National Public Service Portal scores exported by the
truongquangphuc/new-766 dashboard): one row per unit, six component scores, their total and the rank.

Which rows are provinces is read from the file, not assumed: `LOAI_COQUAN` 1 is a province's People's
Committee; 2 (departments) and 3 (communes and wards) are An Giang's own units and go to excluded.csv, as
do the trend sheets (one province's monthly and quarterly totals). Which measure a sheet holds is read from
its name: the year-to-date sheets ("Điểm năm", "Báo cáo 766") give the indicators `total`, `tdgq`, ... dated
with the file's cut-off from the manifest; the month sheet ("Điểm tháng") gives `total_month`, ... dated
with the month, because a month's score and a year-to-date score are different measures. Names are 2025
names (vintage gso-2025 in the manifest). An unknown sheet or column is an error: the layout changed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import DataError
from ..manifest import Source
from .common import Context, decimals_tolerance, obs_frame, parse_number, read_sheet

COMPONENTS = {"TDGQ": "tdgq", "MDHL": "mdhl", "MDSH": "mdsh", "TTTT": "tttt", "CLGQ": "clgq", "CKMB": "ckmb"}
TOTAL = "TONG_SCORE"
RANK = "ROW_STT"
YEAR_TO_DATE_SHEETS = {"Điểm năm", "Báo cáo 766"}
MONTH_SHEETS = {"Điểm tháng"}
TREND_SHEETS = {"Xu hướng tháng", "Xu hướng quý"}
UNIT_SHEETS = {"Sở Ban", "Xã Phường"}  # one province's (An Giang's) departments and communes
UNIT_LEVEL = {"1": "province", "2": "a department of the province (Sở, Ban), not a province",
              "3": "a commune or ward, not a province"}
SUM_TOLERANCE = 0.035  # six components rounded to 2 decimals


def _rows(path: str, sheet: str) -> tuple[list[str], list[list[Any]]]:
    rows = read_sheet(path, sheet)
    header = [str(h).strip() if h is not None else "" for h in rows[0]] if rows else []
    return header, rows[1:]


def read_workbook(src: Source, ctx: Context) -> pd.DataFrame:
    if src.date is None or src.year is None:
        raise DataError("a 766 workbook needs `year` and the cut-off `date` in the manifest", file=src.local_path, value=src.id)
    from python_calamine import CalamineWorkbook

    path = str(src.local_path)
    try:
        sheets = CalamineWorkbook.from_path(path).sheet_names
    except Exception as exc:
        raise DataError(f"cannot read workbook: {exc}", file=path) from exc
    recs: list[dict[str, Any]] = []
    for sheet in sheets:
        label = f"{path}, sheet {sheet!r}"
        header, body = _rows(path, sheet)
        if sheet in TREND_SHEETS:
            for i, r in enumerate(body, start=2):
                if any(v not in (None, "") for v in r):
                    ctx.exclude(src.id, label, i, "one province's (An Giang's) trend of totals, not a cross-section of provinces", r)
            continue
        if sheet in YEAR_TO_DATE_SHEETS:
            suffix, date, what = "", src.date, f"2025 year to date, cut-off on or before {src.date}"
        elif sheet in MONTH_SHEETS:
            suffix, date, what = "_month", src.date[:7], f"the month {src.date[:7]} up to a cut-off on or before {src.date}"
        elif sheet in UNIT_SHEETS:
            suffix = date = what = None
        elif {"TEN", TOTAL} <= set(header):
            raise DataError("unknown sheet in a 766 workbook: say in sources/dvc766.py whether it is year to date or one month",
                            file=path, value=sheet)
        else:
            raise DataError("unknown sheet in a 766 workbook", file=path, value=sheet)
        missing = [c for c in ["TEN", "LOAI_COQUAN", *COMPONENTS, TOTAL, RANK] if c not in header]
        if missing:
            raise DataError("missing column", file=label, row=1, column=missing[0])
        pos = {h: j for j, h in enumerate(header)}
        provinces = []
        for i, r in enumerate(body, start=2):
            if not any(v not in (None, "") for v in r):
                continue
            level = str(r[pos["LOAI_COQUAN"]]).strip()
            if level not in UNIT_LEVEL:
                raise DataError("unknown unit level (LOAI_COQUAN)", file=label, row=i, column="LOAI_COQUAN", value=level)
            if level != "1":
                ctx.exclude(src.id, label, i, f"{UNIT_LEVEL[level]} (LOAI_COQUAN {level})", r[pos["TEN"]])
                continue
            if suffix is None:
                raise DataError("a province row on a sheet of one province's own units", file=label, row=i, column="TEN",
                                value=r[pos["TEN"]])
            provinces.append((i, r))
        for i, r in provinces:
            name = r[pos["TEN"]]
            parts = {c: parse_number(r[pos[c]], file=label, row=i, column=c) for c in COMPONENTS}
            total = parse_number(r[pos[TOTAL]], file=label, row=i, column=TOTAL)
            if total is None or any(v is None for v in parts.values()):
                raise DataError("a province row without every score", file=label, row=i, column="TEN", value=name)
            if abs(sum(parts.values()) - total) > SUM_TOLERANCE:
                raise DataError(f"the six components add up to {sum(parts.values()):.2f}, not the total", file=label, row=i,
                                column=TOTAL, value=r[pos[TOTAL]])
            rank = parse_number(r[pos[RANK]], file=label, row=i, column=RANK)
            if rank is None or rank != int(rank) or not 1 <= rank <= len(provinces):
                raise DataError(f"rank must be a whole number from 1 to {len(provinces)}", file=label, row=i, column=RANK,
                                value=r[pos[RANK]])
            for col, code in [(TOTAL, "total"), *COMPONENTS.items()]:
                is_total = col == TOTAL
                recs.append({
                    "province_raw": name, "vintage": src.vintage, "year": src.year, "index": "DVC766",
                    "indicator": code + suffix, "value": total if is_total else parts[col], "scale_max": None,
                    "method_version": "", "date": date, "rank": int(rank) if is_total else None,
                    "rank_of": len(provinces) if is_total else None, "grade": None, "note": what,
                    "source_ref": f"{src.upstream.get('path', src.path)}, sheet {sheet}", "_file": label, "_row": i,
                    "_column": col, "_tol": decimals_tolerance(r[pos[col]]),
                })
    if not recs:
        raise DataError("no province rows in the 766 workbook", file=path)
    return obs_frame(recs)


# ---------------------------------------------------------------------------------------------------------------
# The yearly table 2022-2024 (dvc766_2022_2024_pmnm/bang_3.csv): the portal's scores of whole years, returned in
# November 2025 and named by the 34 units of 2025.

YEARLY_COLUMNS = {
    "TongDiem_DVC": "total",
    "CongKhaiMinhBach": "ckmb",
    "TienDoGiaiQuyet": "tdgq",
    "DichVuTrucTuyen": "online_22",  # CLGQ (of 12) + TTTT (of 10): the 22-point component of the portal's five-part layout
    "MucDoHaiLong": "mdhl",
    "SoHoaHoSo": "mdsh",
}
YEARLY_PARTS = [c for c in YEARLY_COLUMNS if c != "TongDiem_DVC"]
UNIT, YEARLY_YEAR = "TinhThanh", "Nam"
CERTAIN, ASSUMED = "certain", "assumed"
_YEARLY_SCHEMA = None


def _yearly_schema() -> Any:
    import pandera.pandas as pa

    global _YEARLY_SCHEMA
    if _YEARLY_SCHEMA is None:
        maxima = {"TongDiem_DVC": 100, "CongKhaiMinhBach": 18, "TienDoGiaiQuyet": 20, "DichVuTrucTuyen": 22, "MucDoHaiLong": 18,
                  "SoHoaHoSo": 22}
        _YEARLY_SCHEMA = pa.DataFrameSchema(
            {UNIT: pa.Column(str, pa.Check.str_length(min_value=2)), YEARLY_YEAR: pa.Column(int, pa.Check.in_range(2022, 2024)),
             **{c: pa.Column(float, pa.Check.in_range(0, m)) for c, m in maxima.items()}},
            unique=[UNIT, YEARLY_YEAR], report_duplicates="exclude_first",
            name="766 yearly table (parts within their maxima, one row per unit and year, years 2022-2024)",
        )
    return _YEARLY_SCHEMA


def unit_identity(registry: Any, name: str, *, file: object, row: int) -> tuple[str, str, str, str]:
    """Which 63-province a row named by a 2025 unit is taken to be: (63-province code, identity, 2025 code,
    note). An unmerged unit is its province (`certain`); a merged unit is taken to be the pre-merger province
    of the same name, which SOURCE.md's evidence supports but nothing confirms (`assumed`). A 2025 unit with
    no same-named province among those it merges is an error: the assumption would have nothing to rest on."""
    from ..registry import VINTAGE_34, VINTAGE_63

    code_34 = registry.resolve(name, vintage=VINTAGE_34, file=file, row=row, column=UNIT)
    info = registry.tables[VINTAGE_34].loc[code_34]
    merged = [c for c in str(info["merged_codes"]).split("|") if c]
    same = registry.find(info["province"], VINTAGE_63)
    if same is None or same not in merged:
        raise DataError(f"the 2025 unit {info['province']} (2025 code {code_34}) merges 63-province codes {', '.join(merged)}, none of "
                        "the same name: which pre-merger province its row is cannot be assumed", file=file, row=row, column=UNIT, value=name)
    if len(merged) == 1:
        return same, CERTAIN, code_34, f"unit {name!r}: not merged in 2025, so the same province"
    others = ", ".join(f"{registry.name(c)} ({c})" for c in merged if c != same)
    return same, ASSUMED, code_34, (f"unit {name!r} (2025 code {code_34}, merging {registry.name(same)} with {others}): taken to be "
                                    f"the pre-merger {registry.name(same)} ({same}), not verified")


def read_yearly(src: Source, ctx: Context) -> pd.DataFrame:
    """One row per unit and year; the five parts must add up to the total. Every row becomes values of the
    63-province vintage (the years are before the merger) for the province it is taken to be, with `identity`
    certain or assumed and the reasoning in `note`."""
    from .common import read_csv_table, validate_table

    file = str(src.local_path)
    raw = read_csv_table(src.local_path, [UNIT, *YEARLY_COLUMNS, YEARLY_YEAR])
    parsed = pd.DataFrame({UNIT: raw[UNIT].str.strip()})
    for c in YEARLY_COLUMNS:
        parsed[c] = pd.Series([parse_number(v, file=file, row=i, column=c) for i, v in enumerate(raw[c], start=2)], dtype=float)
    for i, v in enumerate(raw[YEARLY_YEAR], start=2):
        y = parse_number(v, file=file, row=i, column=YEARLY_YEAR)
        if y is None or y != int(y):
            raise DataError("the year must be a whole number", file=file, row=i, column=YEARLY_YEAR, value=v)
    parsed[YEARLY_YEAR] = [int(float(v)) for v in raw[YEARLY_YEAR]]
    blank = parsed[list(YEARLY_COLUMNS)].isna()
    if blank.any().any():
        i, col = next((i, c) for i, r in blank.iterrows() for c in YEARLY_COLUMNS if r[c])
        raise DataError("a unit-year without every score (the parts must add up to the total)", file=file, row=int(i) + 2, column=col,
                        value="")
    validate_table(parsed, _yearly_schema(), file)
    registry = ctx.provinces()
    recs: list[dict[str, Any]] = []
    for i, r in enumerate(parsed.to_dict("records"), start=2):
        parts = sum(r[c] for c in YEARLY_PARTS)
        if abs(parts - r["TongDiem_DVC"]) > SUM_TOLERANCE:
            raise DataError(f"the five parts add up to {parts:.2f}, not the total", file=file, row=i, column="TongDiem_DVC",
                            value=raw.at[i - 2, "TongDiem_DVC"])
        code_63, identity, _, why = unit_identity(registry, r[UNIT], file=file, row=i)
        for col, code in YEARLY_COLUMNS.items():
            recs.append({
                "province_raw": registry.name(code_63), "vintage": "gso-2008", "year": r[YEARLY_YEAR], "index": "DVC766", "indicator": code,
                "value": r[col], "scale_max": None, "method_version": "", "date": None, "rank": None, "rank_of": None, "grade": None,
                "note": f"score of the whole year {r[YEARLY_YEAR]} (portal, retrieved November 2025); {why}", "identity": identity,
                "source_ref": f"{src.upstream.get('path', src.path)}, {r[UNIT]}, {r[YEARLY_YEAR]}", "_file": file, "_row": i,
                "_column": col, "_tol": decimals_tolerance(raw.at[i - 2, col]),
            })
    if not recs:
        raise DataError("no rows in the 766 yearly table", file=file)
    return obs_frame(recs)
