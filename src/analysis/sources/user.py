"""A researcher's own tables in the documented long-format template (CSV or XLSX in data/raw/user/).

Validation is strict because a silently misread table would corrupt every analysis downstream: UTF-8
without BOM, comma-separated, decimal points, the template's columns and nothing else, one row per
province-year-index-indicator, and a value on every row (leave a row out rather than write 0)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from .common import decimals_tolerance, obs_frame, parse_number, read_sheet

REQUIRED = ["province", "year", "index", "indicator", "value", "unit", "source", "note"]
OPTIONAL = ["scale_max", "date"]
_INDEX = re.compile(r"^[A-Z][A-Z0-9_]*$")
_INDICATOR = re.compile(r"^[a-z0-9][a-z0-9_.]*$")


def _read_csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if not data.strip():
        raise DataError("empty file", file=path)
    if data.startswith(b"\xef\xbb\xbf"):
        raise DataError("file starts with a byte-order mark (BOM)", file=path, row=1,
                        hint="Save as 'CSV UTF-8' without BOM (in Excel: CSV (Comma delimited) then re-encode, or use LibreOffice)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError("file is not UTF-8 (perhaps Windows-1258/cp1258 or another legacy encoding)", file=path, row=line,
                        value=data[exc.start : exc.start + 8], hint="Re-save the file as UTF-8") from exc
    first = text.splitlines()[0]
    if ";" in first and "," not in first:
        raise DataError("semicolon-separated file", file=path, row=1, value=first[:80],
                        hint="Use commas between columns and points for decimals")
    return list(csv.reader(io.StringIO(text)))


def _read_xlsx_rows(path: Path) -> list[list[Any]]:
    rows = read_sheet(path, 0)
    if not rows or not any(c not in (None, "") for c in rows[0]):
        raise DataError("empty workbook", file=path)
    return rows


def read_user_table(path: Path) -> pd.DataFrame:
    """Read and validate one table; the observations carry source id `user:<file name>`."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv_rows(path)
    elif suffix in (".xlsx", ".xls"):
        rows = _read_xlsx_rows(path)
    else:
        raise DataError("unsupported file type (use .csv or .xlsx)", file=path, value=path.suffix)
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    for col in REQUIRED:
        if col not in header:
            raise DataError("missing column", file=path, row=1, column=col, hint=f"The template columns are {', '.join(REQUIRED)}")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        raise DataError("unknown column", file=path, row=1, column=unknown[0],
                        hint=f"Allowed columns: {', '.join(REQUIRED + OPTIONAL)}")
    if len(set(header)) != len(header):
        raise DataError("duplicate column name", file=path, row=1)
    pos = {h: i for i, h in enumerate(header)}
    recs: list[dict[str, Any]] = []
    seen: dict[tuple[str, ...], int] = {}
    for r, row in enumerate(rows[1:], start=2):
        if not any(c not in (None, "") and str(c).strip() for c in row):
            continue
        if len(row) > len(header):
            raise DataError(f"row has {len(row)} fields, header has {len(header)}", file=path, row=r,
                            hint="Check for a decimal comma or an unquoted comma inside a field")

        def cell(col: str, row: list[Any] = row) -> Any:
            i = pos.get(col)
            return row[i] if i is not None and i < len(row) else None

        year_v = parse_number(cell("year"), file=path, row=r, column="year")
        if year_v is None or year_v != int(year_v) or not 1990 <= year_v <= 2100:
            raise DataError("year must be a whole number between 1990 and 2100", file=path, row=r, column="year", value=cell("year"))
        index = str(cell("index") or "").strip()
        if not _INDEX.match(index):
            raise DataError("index must be upper case letters, digits and _ (e.g. PAR_INDEX)", file=path, row=r, column="index", value=index)
        indicator = str(cell("indicator") or "").strip()
        if not _INDICATOR.match(indicator):
            raise DataError("indicator must be lower case letters, digits, _ and . (e.g. total, d8)", file=path, row=r,
                            column="indicator", value=indicator)
        value = parse_number(cell("value"), file=path, row=r, column="value")
        if value is None:
            raise DataError("value is empty", file=path, row=r, column="value",
                            hint="Leave out rows with no published value; never write 0 for missing")
        for col in ("unit", "source"):
            if not str(cell(col) or "").strip():
                raise DataError(f"{col} is empty", file=path, row=r, column=col)
        key = (str(cell("province")).strip(), str(int(year_v)), index, indicator, str(cell("date") or ""))
        if key in seen:
            raise DataError(f"duplicate row: same province, year, index and indicator as row {seen[key]}", file=path, row=r,
                            column="province", value=key[0])
        seen[key] = r
        scale = parse_number(cell("scale_max"), file=path, row=r, column="scale_max")
        recs.append({
            "province_raw": key[0], "year": int(year_v), "index": index, "indicator": indicator, "value": value,
            "scale_max": scale, "method_version": "", "date": str(cell("date") or "") or None, "rank": None, "rank_of": None,
            "grade": None, "note": f"{cell('unit')}; {cell('note') or ''}".strip("; "), "source_ref": str(cell("source")),
            "_file": str(path), "_row": r, "_column": "value", "_tol": decimals_tolerance(cell("value")),
        })
    if not recs:
        raise DataError("table has a header but no data rows", file=path)
    return obs_frame(recs)
