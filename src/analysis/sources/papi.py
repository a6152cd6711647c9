"""PAPI adapters: the combined official workbook (2011-2019, one sheet a year), the per-year official
workbooks, and the 29 sub-dimension compilation (2011-2024).

Indicator codes follow the 2018 numbering and keep one meaning across years: before 2018 the poverty-list
score is `d2.2`, as from 2018, even though it sat in the first transparency column. Sub-dimensions PAPI
dropped in 2016/2018 get codes of their own (`d3.4` People's Inspection Boards, `d3.5` Community
Investment Boards), so a series never silently changes meaning."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..errors import DataError
from ..manifest import Source
from ..panel import codebook
from .common import Context, obs_frame, parse_number, read_sheet

DIMENSION_LABELS = {
    "Participation at Local Levels": "d1",
    "Transparency": "d2",
    "Vertical Accountability": "d3",
    "Control of Corruption": "d4",
    "Public Administrative Procedures": "d5",
    "Public Service Delivery": "d6",
    "Environmental Governance": "d7",
    "E-Governance": "d8",
}
SUBDIMENSION_LABELS = {
    "Civic Knowledge": "d1.1",
    "Opportunities for Participation": "d1.2",
    "Quality of Elections": "d1.3",
    "Quality of Local Elections": "d1.3",
    "Voluntary Contributions": "d1.4",
    "Access to Information": "d2.1",
    "Poverty Lists": "d2.2",
    "Communal Budget and Expenditure": "d2.3",
    "Land-Use Plans/Price Frames": "d2.4",
    "Interactions With Local Authorities": "d3.1",
    "Responsive to Citizen Actions": "d3.2",
    "Local Government’s Response to Citizens’ Appeals": "d3.2",
    "Access to Justice Services": "d3.3",
    "People's Inspection Boards": "d3.4",
    "Community Investment Boards": "d3.5",
    "Limits on Public Sector Corruption": "d4.1",
    "Limits on Corruption in Service Delivery": "d4.2",
    "Equity in Employment": "d4.3",
    "Willingness to Fight Corruption": "d4.4",
    "Certification Procedures": "d5.1",
    "Construction Permits": "d5.2",
    "Land-Use Rights Procedures": "d5.3",
    "Personal Procedures": "d5.4",
    "Public Health": "d6.1",
    "Public Primary Education": "d6.2",
    "Basic Infrastructure": "d6.3",
    "Law and Order": "d6.4",
    "Seriousness in Environment Protection": "d7.1",
    "Quality of Air": "d7.2",
    "Quality of Water": "d7.3",
    "Access to E-government Portals": "d8.1",
    "Access to the Internet": "d8.2",
    "E-Reponsiveness": "d8.3",
}
TOTAL_LABELS = {"Un-weighted2015PAPI", "Unweighted PAPI Score"}


def method_version(year: int) -> str:
    return "papi-2011" if year < 2018 else "papi-2018"


def total_max(year: int) -> float:
    return float(codebook.expected_scale_max("PAPI", "total", year) or 0.0)


def structure(year: int) -> dict[str, list[str]]:
    """The sub-dimensions PAPI published in `year`, by dimension (meaning-stable codes), as the codebook
    source (`data/codebook.yml`) records them."""
    return {dim: list(codebook.parts("PAPI", dim, year) or []) for dim in codebook.parts("PAPI", "total", year) or []}


def positional_code(dim: int, pos: int, year: int) -> str:
    """Meaning-stable code of the `pos`-th sub-dimension column of dimension `dim` in files that number
    columns by position with 2018 labels (SC21..SC83, or '2.1: ...' headers)."""
    if dim == 2 and year < 2018:
        return {1: "d2.2", 2: "d2.3", 3: "d2.4"}.get(pos, f"d2.{pos}?")
    if dim == 3 and pos in (2, 3):
        if year <= 2015:
            return {2: "d3.4", 3: "d3.5"}[pos]
        if year <= 2017:
            return {2: "d3.2", 3: "d3.4"}[pos]
    return f"d{dim}.{pos}"


def _scale(year: int, indicator: str) -> float | None:
    return codebook.expected_scale_max("PAPI", indicator, year)


def _record(name: str, year: int, indicator: str, value: float, file: str, row: int, column: str, note: str = "") -> dict[str, Any]:
    return {
        "province_raw": name, "year": year, "index": "PAPI", "indicator": indicator, "value": value,
        "scale_max": _scale(year, indicator), "method_version": method_version(year), "note": note,
        "source_ref": file.rsplit("/", 1)[-1], "_file": file, "_row": row, "_column": column, "_tol": 1e-3,
    }


def _check_expected(codes: set[str], year: int, file: str, column: str, value: object) -> None:
    expected = {c for subs in structure(year).values() for c in subs} | set(structure(year)) | {"total"}
    if not codes <= expected:
        raise DataError(f"PAPI {year} did not publish {sorted(codes - expected)}", file=file, column=column, value=value)


def add_sums(records: list[dict[str, Any]], year: int, note: str, dims_from_subs: bool) -> None:
    """Dimensions as the sum of their sub-dimensions and the total as the sum of dimensions, only where
    every part is present (a partial sum would look like a low score)."""
    by_prov: dict[str, dict[str, dict[str, Any]]] = {}
    for r in records:
        by_prov.setdefault(r["province_raw"], {})[r["indicator"]] = r
    for name, vals in by_prov.items():
        first = next(iter(vals.values()))
        if dims_from_subs:
            for dim, subs in structure(year).items():
                if dim not in vals and all(s in vals for s in subs):
                    vals[dim] = _record(name, year, dim, sum(vals[s]["value"] for s in subs), first["_file"],
                                        first["_row"], "(sum of sub-dimensions)", note)
                    records.append(vals[dim])
        dims = list(structure(year))
        if "total" not in vals and all(d in vals for d in dims):
            records.append(_record(name, year, "total", sum(vals[d]["value"] for d in dims), first["_file"],
                                   first["_row"], "(sum of dimensions)", note))


def _drop_unpublished_total(values: dict[str, float | None], src: Source, ctx: Context, file: str, row: int, name: object) -> None:
    """The official 2014 workbook writes a total of 0 for the two provinces it did not score (all
    dimensions blank). That 0 means 'not published'; any other 0 stays and fails validation."""
    if values.get("total") == 0 and all(v is None for k, v in values.items() if k != "total"):
        values["total"] = None
        ctx.exclude(src.id, file, row, "total written as 0 for a province with no published dimension scores", name)


def read_combined(src: Source, ctx: Context) -> pd.DataFrame:
    """`PAPI 2011-2019.xlsx`: row 1 English headers, row 2 Vietnamese, then 63 provinces and a
    'Highest' row (tinhid 999). Columns are identified by their English label."""
    file = str(src.local_path)
    out: list[dict[str, Any]] = []
    for year in range(2011, 2020):
        sheet = f"{year}_PAPI"
        rows = read_sheet(src.local_path, sheet)
        header = [str(h).strip() if h is not None else "" for h in rows[0]]
        if header[:3] != ["tinhid", "tentinh_eng", "tentinh_vie"]:
            raise DataError("unexpected PAPI header", file=f"{file}[{sheet}]", row=1, value=header[:3])
        cols: dict[int, str] = {}
        for j, label in enumerate(header[3:], start=3):
            code = DIMENSION_LABELS.get(label) or SUBDIMENSION_LABELS.get(label) or ("total" if label in TOTAL_LABELS else None)
            if code is None:
                raise DataError("unknown PAPI column label", file=f"{file}[{sheet}]", row=1, column=label)
            cols[j] = code
        _check_expected(set(cols.values()), year, f"{file}[{sheet}]", "header", None)
        recs: list[dict[str, Any]] = []
        for i, row in enumerate(rows[2:], start=3):
            tid = parse_number(row[0], file=file, row=i, column="tinhid")
            if tid is None or tid >= 999:
                continue
            values = {
                code: parse_number(row[j] if j < len(row) else None, file=f"{file}[{sheet}]", row=i, column=header[j])
                for j, code in cols.items()
            }
            _drop_unpublished_total(values, src, ctx, f"{file}[{sheet}]", i, row[2])
            for j, code in cols.items():
                if values[code] is not None:
                    recs.append(_record(row[2], year, code, values[code], f"{file}[{sheet}]", i, header[j]))
        add_sums(recs, year, "total = sum of the official dimension scores", dims_from_subs=False)
        out.extend(recs)
    return obs_frame(out)


_POS_HEADER = re.compile(r"^\s*(\d)(?:\.(\d))?\s*:")


def read_yearly(src: Source, ctx: Context) -> pd.DataFrame:
    """`PAPI <year> eng.xlsx`, first sheet: province names in column A, then '1: …', '1.1: …' headers.
    Before 2018 these headers carry 2018 labels over older data, so columns are mapped by position."""
    year = int(src.year or 0)
    file = f"{src.local_path}[sheet 1]"
    rows = read_sheet(src.local_path, 0)
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    cols: dict[int, str] = {}
    for j, label in enumerate(header[1:], start=1):
        if label in TOTAL_LABELS:
            cols[j] = "total"
            continue
        m = _POS_HEADER.match(label)
        if not m:
            if label:
                raise DataError("unknown PAPI column label", file=file, row=1, column=label)
            continue
        dim, pos = int(m.group(1)), m.group(2)
        cols[j] = f"d{dim}" if pos is None else positional_code(dim, int(pos), year)
    _check_expected(set(cols.values()), year, file, "header", None)
    recs: list[dict[str, Any]] = []
    for i, row in enumerate(rows[1:], start=2):
        name = row[0]
        if name is None or not str(name).strip():
            continue
        values = {code: parse_number(row[j] if j < len(row) else None, file=file, row=i, column=header[j]) for j, code in cols.items()}
        _drop_unpublished_total(values, src, ctx, file, i, name)
        for j, code in cols.items():
            if values[code] is not None:
                recs.append(_record(str(name).strip(), year, code, values[code], file, i, header[j]))
    add_sums(recs, year, "total = sum of the official dimension scores", dims_from_subs=False)
    return obs_frame(recs)


def read_subdims(src: Source, ctx: Context) -> pd.DataFrame:
    """hnks `csv/<year>.csv`: Province P01-P63 (GSO order) and SC11-SC83 by position. Dimensions and the
    total are computed here, only where all parts were published."""
    year = int(src.year or 0)
    file = str(src.local_path)
    names = pd.read_csv(ctx.raw["papi_subdims_provinces"], dtype=str).set_index("Variable_Code")["Variable_Name"]
    df = pd.read_csv(src.local_path, dtype=str, keep_default_na=False)
    if "Province" not in df.columns:
        raise DataError("missing column", file=file, row=1, column="Province")
    expected = {c for subs in structure(year).values() for c in subs}
    recs: list[dict[str, Any]] = []
    for i, row in enumerate(df.itertuples(index=False), start=2):
        pid = row.Province
        if pid not in names.index:
            raise DataError("unknown province id", file=file, row=i, column="Province", value=pid)
        for col in df.columns[1:]:
            m = re.fullmatch(r"SC(\d)(\d)", col)
            if not m:
                raise DataError("unexpected column", file=file, row=1, column=col)
            v = parse_number(getattr(row, col), file=file, row=i, column=col)
            if v is None:
                continue
            code = positional_code(int(m.group(1)), int(m.group(2)), year)
            if code not in expected:
                raise DataError(f"value in a sub-dimension PAPI did not publish in {year}", file=file, row=i, column=col, value=v)
            recs.append(_record(names[pid], year, code, v, file, i, col))
    add_sums(recs, year, "computed from the published sub-dimensions", dims_from_subs=True)
    return obs_frame(recs)


UNCERTAINTY_COLUMNS = ["province_raw", "year", "index", "indicator", "value", "se", "ci_low_published", "ci_high_published",
                       "ci_level_published", "n_respondents", "source_ref", "note", "_file", "_row", "_column"]
UNCERTAINTY_SHEETS = {"2019_PAPI_Provincial_indicators2019_VIE_ENG.xlsx": "2019PAPI_Indicators_ENG (2)"}  # else the first sheet
_DIM_VARIANCE = re.compile(r"^Variance \(Dimension (\d)\)$")


def read_uncertainty(src: Source, ctx: Context) -> pd.DataFrame:
    """Standard errors of the 2019 provincial scores: the `PAPI 2019 FULL vie.xlsx` layout (also sheet
    `2019PAPI_Indicators_ENG (2)` of the 2019 indicator workbook), one row per province.

    The total comes with 'Unweighted Standard Error' and an interval headed '95% CI'; every interval in
    the file is the score plus or minus 1.645 standard errors, so it is a 90% interval whatever its
    heading says, and `ci_level_published` records the level the numbers imply. A dimension comes with
    'Variance (Dimension k)', the sampling variance of the provincial mean (its square root, times the
    square root of 'Observations', gives a respondent-level SD of 0.3-7 points on a 10-point scale,
    which is what a variance of the mean implies and a respondent variance would not), so its standard
    error is the square root. The 2018 indicator workbook has point estimates only; no year but 2019 has
    standard errors in the mirror."""
    from scipy.stats import norm

    year = int(src.year or 0)
    sheet = UNCERTAINTY_SHEETS.get(src.local_path.name, 0)
    file = f"{src.local_path}[{sheet if isinstance(sheet, str) else 'sheet 1'}]"
    rows = read_sheet(src.local_path, sheet)
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    where = {h: j for j, h in enumerate(header)}
    need = ["Unweighted PAPI Score", "Unweighted Standard Error", "Unweighted 95% CI Low", "Unweighted 95% CI High"]
    for name in need:
        if name not in where:
            raise DataError("missing column in the PAPI uncertainty workbook", file=file, row=1, column=name)
    dims = {int(m.group(1)): j for j, h in enumerate(header) if (m := _DIM_VARIANCE.match(h))}
    if sorted(dims) != list(range(1, 9)):
        raise DataError("expected 'Variance (Dimension 1)' ... '(Dimension 8)'", file=file, row=1, value=sorted(dims))
    for k, j in dims.items():
        if header[j + 1] != f"Observations (Dimension {k})":
            raise DataError("a dimension's variance must be followed by its observations", file=file, row=1, column=header[j + 1])
    recs: list[dict[str, Any]] = []
    for i, row in enumerate(rows[1:], start=2):
        name = row[1] if len(row) > 1 else None
        if name is None or not str(name).strip():
            continue

        def num(j: int, i: int = i, row: list[Any] = row) -> float | None:
            return parse_number(row[j] if j < len(row) else None, file=file, row=i, column=header[j])

        value, se, lo, hi = (num(where[c]) for c in need)
        if None in (value, se, lo, hi) or se <= 0:
            raise DataError("a province needs its score, a positive standard error and both interval ends", file=file, row=i,
                            column="Unweighted Standard Error", value=se)
        level = float(round(2 * norm.cdf((hi - lo) / (2 * se)) - 1, 3))
        note = f"interval headed '95% CI' in the workbook; its half-width is {(hi - lo) / (2 * se):.3f} standard errors"
        recs.append({"province_raw": str(name).strip(), "year": year, "index": "PAPI", "indicator": "total", "value": value, "se": se,
                     "ci_low_published": lo, "ci_high_published": hi, "ci_level_published": level, "n_respondents": None,
                     "source_ref": src.local_path.name, "note": note, "_file": file, "_row": i, "_column": "Unweighted Standard Error"})
        for k, j in dims.items():
            var, n, est = num(j), num(j + 1), num(j - 1)
            if var is None or est is None or var <= 0:
                raise DataError("a dimension needs its score and a positive variance", file=file, row=i, column=header[j], value=var)
            recs.append({"province_raw": str(name).strip(), "year": year, "index": "PAPI", "indicator": f"d{k}", "value": est,
                         "se": var ** 0.5, "ci_low_published": None, "ci_high_published": None, "ci_level_published": None,
                         "n_respondents": n, "source_ref": src.local_path.name, "note": "standard error = square root of the published variance",
                         "_file": file, "_row": i, "_column": header[j]})
    return pd.DataFrame.from_records(recs, columns=UNCERTAINTY_COLUMNS)
