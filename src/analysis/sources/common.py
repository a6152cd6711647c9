"""What every adapter shares: the observation columns, strict number parsing and workbook reading that
turn a broken file into an error naming the file, row, column and value."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from python_calamine import CalamineWorkbook

from ..errors import DataError
from ..manifest import Source

# Columns every adapter returns. `province_raw` is the spelling in the file (resolved later by the
# registry) within its `vintage` (gso-2008 or gso-2025; empty = the source's declared vintage, or for a
# researcher's row the vintage its date implies); `_file`, `_row`, `_column` locate the value for error
# messages; `_tol` is the absolute tolerance the value's precision allows when compared with another source.
# `identity` says how sure the source is of which province a row is, where the file names its rows by another
# vintage's units (the 766 yearly table names 2022-2024 rows by the 34 provinces of 2025): `certain` (the unit
# was not merged, so it is that province), `assumed` (a merged unit taken to be the pre-merger province of the
# same name), empty for every row whose source names the province itself (IDENTITIES).
OBS_COLUMNS = [
    "province_raw", "vintage", "year", "index", "indicator", "value", "scale_max", "method_version", "date",
    "rank", "rank_of", "grade", "note", "source_ref", "identity", "_file", "_row", "_column", "_tol",
]
IDENTITIES = ("", "certain", "assumed")

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


@dataclass(frozen=True)
class BadCell:
    """A workbook cell that cannot be read as it is shown (a number its format hides, a formula without a saved
    result, ...): kept in place of the value, and refused with `reason` by whoever reads that cell, so a cell no
    one reads (a notes column) stops nothing."""

    reason: str
    shown: Any = None
    hint: str | None = None

    def error(self, *, file: object, row: int | None, column: str | None) -> DataError:
        return DataError(f"cannot read the cell: {self.reason}", file=file, row=row, column=column, value=self.shown, hint=self.hint)


@dataclass
class Context:
    """Paths of every fetched manifest file, by source id, for adapters that need a companion file."""

    raw: dict[str, Path]
    excluded: list[dict[str, Any]] = field(default_factory=list)
    registry: Any = None  # the build's province registry; adapters that resolve names themselves use `provinces()`

    def provinces(self) -> Any:
        """The province registry (both vintages): the build's own, or one built from the raw crosswalks once."""
        if self.registry is None:
            from ..registry import Registry, build_provinces

            self.registry = Registry(build_provinces(self.raw))
        return self.registry

    def exclude(self, source_id: str, file: object, row: int | None, reason: str, text: object) -> None:
        """Record a row that cannot enter the panel, so nothing is dropped silently."""
        self.excluded.append({"source_id": source_id, "file": str(file), "row": row, "reason": reason, "content": str(text)})


Adapter = Callable[[Source, Context], pd.DataFrame]


_VI_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def parse_number(value: Any, *, file: object, row: int | None, column: str | None, decimal: str = ".") -> float | None:
    """A float, or None for a blank cell. Text that is not a plain number (decimal comma, units, '-')
    is an error rather than a silent NaN, because a blank cell means 'not published' and nothing else.
    `decimal=","` reads text as Vietnamese offices write it: 92,18 and 1.234,5 (a point groups thousands)."""
    if isinstance(value, BadCell):
        raise value.error(file=file, row=row, column=column)
    if value is None:
        return None
    if isinstance(value, bool):
        raise DataError("expected a number, found a boolean", file=file, row=row, column=column, value=value)
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return None
        if math.isinf(value):
            raise DataError("infinite value", file=file, row=row, column=column, value=value)
        return float(value)
    text = str(value).strip().replace("\u00a0", "")
    if text == "":
        return None
    if decimal == ",":
        if not _VI_NUMBER.match(text):
            raise DataError("not a number written with a decimal comma", file=file, row=row, column=column, value=value,
                            hint="With `decimal: \",\"` a comma marks decimals and a point groups thousands: 92,18 or 1.234,5")
        return float(text.replace(".", "").replace(",", "."))
    if _DECIMAL_COMMA.match(text):
        raise DataError(
            "decimal comma in a number", file=file, row=row, column=column, value=value,
            hint="Write decimals with a point (40.76, not 40,76), or read the table through a mapping file with `decimal: \",\"`",
        )
    if not _NUMBER.match(text):
        raise DataError("not a number", file=file, row=row, column=column, value=value)
    number = float(text)
    if not math.isfinite(number):  # "1e309" overflows to infinity
        raise DataError("number too large (not finite)", file=file, row=row, column=column, value=value)
    return number


def decimals_tolerance(text: Any, decimal: str = ".") -> float:
    """Half a unit of the last printed digit: 40.76 -> 0.005, 87 -> 0.5 (with `decimal=","`: 40,76 -> 0.005).
    Used when comparing a rounded published figure with a full-precision one."""
    s = str(text).strip()
    if decimal == "," and isinstance(text, str):
        s = s.replace(".", "").replace(",", ".")
    if "." not in s:
        return 0.5
    return 0.5 * 10 ** -(len(s.split(".", 1)[1]))


def read_sheet(path: Path, sheet: str | int) -> list[list[Any]]:
    """All cells of one sheet as Python values, rows from spreadsheet row 1. Uses calamine (fast, reads
    .xls and .xlsx) and falls back to openpyxl for workbooks whose dimension record calamine rejects."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # not a workbook at all (truncated, wrong format)
        raise DataError(f"cannot read workbook: {exc}", file=path) from exc
    names = wb.sheet_names
    if isinstance(sheet, str) and sheet not in names:
        raise DataError(f"workbook has no sheet {sheet!r} (sheets: {names})", file=path)
    if isinstance(sheet, int) and not 0 <= sheet < len(names):
        raise DataError(f"workbook has no sheet number {sheet + 1} (it has {len(names)})", file=path)
    try:
        ws = wb.get_sheet_by_index(sheet) if isinstance(sheet, int) else wb.get_sheet_by_name(sheet)
        return ws.to_python(skip_empty_area=False)
    except Exception as first:  # calamine raises its own error types; try the second reader before giving up
        if str(path).lower().endswith(".xlsx"):
            try:
                import openpyxl

                wb2 = openpyxl.load_workbook(path, read_only=True, data_only=True)
                ws2 = wb2.worksheets[sheet] if isinstance(sheet, int) else wb2[sheet]
                rows = [list(r) for r in ws2.iter_rows(values_only=True)]
                wb2.close()
                return rows
            except Exception as second:
                raise DataError(f"cannot read workbook sheet {sheet!r}: {second}", file=path) from second
        raise DataError(f"cannot read workbook sheet {sheet!r}: {first}", file=path) from first


def obs_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Observations as a DataFrame with every contract column present and stable dtypes."""
    df = pd.DataFrame.from_records(records, columns=OBS_COLUMNS)
    df["year"] = df["year"].astype("Int64")
    for c in ("value", "scale_max", "_tol"):
        df[c] = df[c].astype("float64")
    for c in ("rank", "rank_of", "_row"):
        df[c] = df[c].astype("Int64")
    for c in ("province_raw", "vintage", "index", "indicator", "method_version", "date", "grade", "note", "source_ref", "identity",
              "_file", "_column"):
        df[c] = df[c].astype("string")
    df["identity"] = df["identity"].fillna("")
    return df


def read_csv_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """A small published CSV read as text (UTF-8, a BOM allowed), with its header checked: a missing column is
    an error naming the file, row 1 and the column, because a renamed column means the layout changed."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read CSV: {exc}", file=path) from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError("missing column", file=path, row=1, column=missing[0], hint=f"Expected columns: {', '.join(columns)}")
    return df


def validate_table(df: pd.DataFrame, schema: Any, file: object) -> None:
    """Check a parsed source table against its pandera schema; the first failure becomes a DataError naming
    the file, the row (as in the file: header = row 1), the column and the value."""
    from pandera.errors import SchemaErrors

    try:
        schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        first = fc.iloc[0]
        idx = first["index"]
        row = int(idx) + 2 if idx is not None and not (isinstance(idx, float) and math.isnan(idx)) else None
        column = first["column"] if isinstance(first["column"], str) else None
        raise DataError(f"{schema.name}: {first['check']}", file=file, row=row, column=column, value=first["failure_case"]) from exc
