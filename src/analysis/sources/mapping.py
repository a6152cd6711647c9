"""A researcher's table in any layout, read through a mapping file beside it: no code, no reshaping.

`data/raw/user/par_index_2022.xlsx` with `data/raw/user/par_index_2022.mapping.yml`:

    sheet: "PAR INDEX 2022"       # a workbook's sheet name, or its number from 1 (not for CSV)
    header_rows: 1                # the row with the column names; [3, 4] for names spread over two rows
    last_row: 64                  # optional: the last data row (default: the end of the sheet)
    province: "Tỉnh, thành phố"   # the column with the province names
    year: 2022                    # a constant, or {column: "Năm"}
    date: "2022-12-31"            # optional: a constant or {column: ...}
    vintage: gso-2008             # optional: gso-2008 (the 63) or gso-2025 (the 34 of 2025)
    source: "Bộ Nội vụ (2023), Báo cáo PAR INDEX 2022"
    note: "…"                     # optional, on every value
    skip: ["Trung bình"]          # optional: province cells of rows that are not provinces
    decimal: ","                  # optional: text numbers written 92,18 and 1.234,5 (default ".": 92.18)
    values:
      - column: "PAR INDEX 2022 (%)"
        index: PAR_INDEX
        indicator: total
        unit: "% of maximum"
        scale_max: 100
        rank_column: "Xếp hạng"   # optional: the publisher's rank of this value (rank_of: optional)

The mapping is validated like data (unknown keys, wrong types, an unknown sheet or column, a year column
with text: a DataError naming the file, the key or row, the column and the value), and every mapped value
then passes through exactly the per-value checks of the long template (`user.validate_record`) and the
build's province, existence, scale and duplicate checks. A blank value cell means "not published": no row,
and a note in excluded.csv. Column names are compared in Unicode NFC, so a header typed on a Mac (NFD) matches
the same name typed in the mapping file. The table itself is read by `tables` (limits, cells as shown)."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd

from .. import textcheck, yamlio
from ..errors import DataError
from ..panel.schema import FIRST_YEAR, LAST_YEAR
from .common import obs_frame
from .records import MAX_RANK_OF, VINTAGES, known_indicators_hint, name_problem, valid_date, validate_record
from .tables import Sheet, Skipped, read_csv_rows, read_workbook, sheet_names

TOP_KEYS = {"sheet", "header_rows", "first_row", "last_row", "province", "year", "date", "vintage", "source", "note", "skip", "values",
            "decimal"}
DECIMALS = (".", ",")
VALUE_KEYS = {"column", "index", "indicator", "unit", "scale_max", "source", "note", "rank_column", "rank_of"}
REQUIRED_VALUE_KEYS = ("column", "index", "indicator", "unit")


def _fail(mapping: Path, key: str, message: str, value: Any = None, hint: str | None = None) -> DataError:
    return DataError(f"mapping: {message}", file=mapping, column=key, value=value, hint=hint)


def _positive_int(m: Path, key: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _fail(m, key, "expected a row number from 1", v)
    return v


def _text(m: Path, key: str, v: Any, required: bool = True) -> str | None:
    """A text value of the mapping, in NFC, that every output can hold."""
    if v is None and not required:
        return None
    if isinstance(v, int | float | dt.date) and not isinstance(v, bool):
        raise _fail(m, key, "expected text", v, hint=f"YAML reads {v} as a {type(v).__name__}: quote it, e.g. {key.rpartition('.')[2]}: \"{v}\"")
    if not isinstance(v, str) or not v.strip():
        raise _fail(m, key, "expected text", v if isinstance(v, str | bool) or v is None else type(v).__name__)
    return _safe(m, key, unicodedata.normalize("NFC", v.strip()))


def _safe(m: Path, key: str, text: str) -> str:
    if bad := textcheck.problem(text):
        raise _fail(m, key, f"the text holds {bad}", text, hint="Retype it as plain text")
    return text


def _note(m: Path, key: str, v: Any) -> str:
    """A note as text. Anything else is refused before it is turned into text: a nested YAML structure built
    from aliases is small in the file and can be gigabytes as text."""
    if v is None:
        return ""
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise _fail(m, key, "expected text", type(v).__name__)
    return _safe(m, key, unicodedata.normalize("NFC", str(v)))


def _constant_or_column(m: Path, key: str, v: Any) -> tuple[str, Any]:
    """`2022` (a constant) or `{column: "Năm"}` -> ("constant", 2022) or ("column", "Năm")."""
    if isinstance(v, dict):
        if set(v) != {"column"}:
            raise _fail(m, key, "expected a constant or {column: <name>}", v)
        return "column", _text(m, f"{key}.column", v["column"])
    if isinstance(v, dt.date):  # YAML reads an unquoted 2025-10-16 as a date
        v = v.isoformat()
    if v is None or isinstance(v, bool | list):
        raise _fail(m, key, "expected a constant or {column: <name>}", v)
    return "constant", v


def load_mapping(mapping: Path) -> dict[str, Any]:
    """Read and check a mapping file; returns the normalised spec. Errors name the mapping file and key."""
    doc = yamlio.load_file(mapping, "mapping file")  # a regular file within the YAML limits, UTF-8
    if not isinstance(doc, dict):  # named by its kind, never quoted: a link to another file would print all of it
        raise _fail(mapping, "(top level)", f"expected keys such as sheet, province, year, values; the file holds a {type(doc).__name__}",
                    hint="A mapping file is YAML with one key per line (see the README)")
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise _fail(mapping, unknown[0], "unknown key", hint=f"Allowed keys: {', '.join(sorted(TOP_KEYS))}")
    for key in ("province", "year", "values"):
        if key not in doc:
            raise _fail(mapping, key, "missing key", hint="A mapping names the province column, the year and the values")
    spec: dict[str, Any] = {"sheet": doc.get("sheet"), "province": _text(mapping, "province", doc["province"])}
    if isinstance(spec["sheet"], str):
        spec["sheet"] = _safe(mapping, "sheet", unicodedata.normalize("NFC", spec["sheet"]))
    spec["decimal"] = doc.get("decimal", ".")
    if spec["decimal"] not in DECIMALS:
        raise _fail(mapping, "decimal", 'expected "." (92.18) or "," (92,18 with a point grouping thousands: 1.234,5)', spec["decimal"])
    if spec["sheet"] is not None and (isinstance(spec["sheet"], bool) or not isinstance(spec["sheet"], str | int)):
        raise _fail(mapping, "sheet", "expected a sheet name or number", spec["sheet"])
    header = doc.get("header_rows", 1)
    header = [header] if not isinstance(header, list) else header
    if not header:
        raise _fail(mapping, "header_rows", "expected a row number or a list of row numbers", header)
    spec["header_rows"] = [_positive_int(mapping, "header_rows", h) for h in header]
    if spec["header_rows"] != sorted(set(spec["header_rows"])):
        raise _fail(mapping, "header_rows", "header rows must be increasing", header)
    spec["first_row"] = _positive_int(mapping, "first_row", doc.get("first_row", max(spec["header_rows"]) + 1))
    if spec["first_row"] <= max(spec["header_rows"]):
        raise _fail(mapping, "first_row", "the first data row must come after the header", spec["first_row"])
    spec["last_row"] = None if doc.get("last_row") is None else _positive_int(mapping, "last_row", doc["last_row"])
    if spec["last_row"] is not None and spec["last_row"] < spec["first_row"]:
        raise _fail(mapping, "last_row", "the last data row comes before the first", spec["last_row"])
    spec["year"] = _constant_or_column(mapping, "year", doc["year"])
    if spec["year"][0] == "constant":
        y = spec["year"][1]
        if isinstance(y, bool) or not isinstance(y, int) or not FIRST_YEAR <= y <= LAST_YEAR:
            raise _fail(mapping, "year", f"year must be a whole number between {FIRST_YEAR} and {LAST_YEAR}, or {{column: <name>}}", y)
    spec["date"] = None if doc.get("date") is None else _constant_or_column(mapping, "date", doc["date"])
    if spec["date"] and spec["date"][0] == "constant" and not valid_date(str(spec["date"][1])):
        raise _fail(mapping, "date", "date must be YYYY, YYYY-MM or YYYY-MM-DD", spec["date"][1])
    spec["vintage"] = doc.get("vintage")
    if spec["vintage"] is not None and spec["vintage"] not in VINTAGES:
        raise _fail(mapping, "vintage", f"vintage must be {' or '.join(VINTAGES)}", spec["vintage"],
                    hint="gso-2008: the 63 provinces until 30 June 2025; gso-2025: the 34 from 1 July 2025")
    spec["source"] = _text(mapping, "source", doc.get("source"), required=False)
    spec["note"] = _note(mapping, "note", doc.get("note"))
    skip = doc.get("skip") or []
    if not isinstance(skip, list) or not all(isinstance(x, str) for x in skip):
        raise _fail(mapping, "skip", "expected a list of province cells to skip", skip)
    spec["skip"] = {unicodedata.normalize("NFC", x.strip()) for x in skip}
    values = doc["values"]
    if not isinstance(values, list) or not values:
        raise _fail(mapping, "values", "expected a list of value columns", values)
    spec["values"] = []
    for i, v in enumerate(values, start=1):
        where = f"values[{i}]"
        if not isinstance(v, dict):
            raise _fail(mapping, where, "expected column, index, indicator, unit …", v)
        bad = sorted(set(v) - VALUE_KEYS)
        if bad:
            raise _fail(mapping, f"{where}.{bad[0]}", "unknown key", hint=f"Allowed keys: {', '.join(sorted(VALUE_KEYS))}")
        for key in REQUIRED_VALUE_KEYS:
            if key not in v:
                raise _fail(mapping, f"{where}.{key}", "missing key")
        entry = {k: _text(mapping, f"{where}.{k}", v[k]) for k in REQUIRED_VALUE_KEYS}
        for kind in ("index", "indicator"):
            if bad := name_problem(kind, entry[kind]):
                raise _fail(mapping, f"{where}.{kind}", bad, entry[kind],
                            hint=known_indicators_hint(entry["index"]) if kind == "indicator" else None)
        if (known := known_indicators_hint(entry["index"])) and not _defined_in_some_year(entry["index"], entry["indicator"]):
            raise _fail(mapping, f"{where}.indicator", f"{entry['index']} defines no indicator {entry['indicator']!r}",
                        entry["indicator"], hint=known)
        scale = v.get("scale_max")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0):
            raise _fail(mapping, f"{where}.scale_max", "expected a positive number", scale)
        entry["scale_max"] = scale
        entry["source"] = _text(mapping, f"{where}.source", v.get("source"), required=False) or spec["source"]
        if entry["source"] is None:
            raise _fail(mapping, f"{where}.source", "no source: give `source` for the table or for this value")
        entry["note"] = _note(mapping, f"{where}.note", v.get("note")) or spec["note"]
        entry["rank_column"] = _text(mapping, f"{where}.rank_column", v.get("rank_column"), required=False)
        rank_of = v.get("rank_of")
        if rank_of is not None:
            _positive_int(mapping, f"{where}.rank_of", rank_of)
            if rank_of > MAX_RANK_OF:
                raise _fail(mapping, f"{where}.rank_of", f"rank_of must be at most {MAX_RANK_OF} (the provinces an index can rank)", rank_of)
        entry["rank_of"] = rank_of
        entry["key"] = where
        spec["values"].append(entry)
    pairs = [(e["index"], e["indicator"]) for e in spec["values"]]
    dup = next((p for p in pairs if pairs.count(p) > 1), None)
    if dup:
        raise _fail(mapping, "values", "two value columns map to the same index and indicator", f"{dup[0]} {dup[1]}")
    return spec


def _defined_in_some_year(index: str, indicator: str) -> bool:
    """Whether a closed index defines `indicator` in any year (the year may come from a column; the build then
    checks each row's year)."""
    from ..panel.codebook import defined_indicators

    return any(indicator in (defined_indicators(index, y) or {indicator}) for y in range(FIRST_YEAR, LAST_YEAR + 1))


def _sheet(table: Path, mapping: Path, sheet: Any) -> tuple[str, Sheet]:
    """The mapped sheet (or the CSV) as the template reader reads it (a cell shown as 84.5% is 84.5), and the
    label messages use. Only that sheet is read."""
    if table.suffix.lower() == ".csv":
        if sheet is not None:
            raise _fail(mapping, "sheet", "a CSV file has no sheets: remove `sheet`", sheet)
        return str(table), Sheet(table.name, read_csv_rows(table))
    if table.suffix.lower() != ".xlsx":
        raise DataError("unsupported file type (use .csv or .xlsx)", file=table, value=table.suffix)
    names = sheet_names(table)
    if sheet is None:
        if len(names) != 1:
            raise _fail(mapping, "sheet", "the workbook has several sheets: say which one", hint=f"Sheets: {', '.join(names)}")
        sheet = names[0]
    if isinstance(sheet, int):
        if not 1 <= sheet <= len(names):
            raise _fail(mapping, "sheet", f"the workbook has {len(names)} sheets", sheet, hint=f"Sheets: {', '.join(names)}")
        wanted: str | int = sheet - 1
    else:
        by_nfc = {unicodedata.normalize("NFC", n): n for n in names}
        if sheet not in by_nfc:
            raise _fail(mapping, "sheet", "the workbook has no such sheet", sheet, hint=f"Sheets: {', '.join(names)}")
        wanted = by_nfc[sheet]
    _, (found,) = read_workbook(table, wanted=wanted)
    return f"{table}, sheet {found.name!r}", found


def _column_names(rows: list[list[Any]], header_rows: list[int], label: str) -> list[str]:
    """Column names from one header row, or from several joined with " / " (a label merged across the
    columns below it is carried to the right, as the sheet shows it)."""
    if len(rows) < max(header_rows):
        raise DataError(f"the header row {max(header_rows)} is past the end of the table ({len(rows)} rows)", file=label)
    width = max(len(rows[h - 1]) for h in header_rows)
    parts: list[list[str]] = []
    for n, h in enumerate(header_rows):
        cells = [("" if c is None else unicodedata.normalize("NFC", str(c)).strip()) for c in rows[h - 1]] + [""] * (width - len(rows[h - 1]))
        if n < len(header_rows) - 1:  # merged labels of upper header rows span the columns to their right
            last = ""
            for j, c in enumerate(cells):
                last = c or last
                cells[j] = last
        parts.append(cells)
    return [" / ".join(dict.fromkeys(p for p in col if p)) for col in zip(*parts, strict=True)]


def read_mapped_table(table: Path, mapping: Path, notes: list[Skipped] | None = None) -> pd.DataFrame:
    """The observations of a table read through its mapping, each checked by `user.validate_record`."""
    spec = load_mapping(mapping)
    label, sheet = _sheet(table, mapping, spec["sheet"])
    rows = sheet.rows
    names = _column_names(rows, spec["header_rows"], label)
    header_row = max(spec["header_rows"])

    def position(key: str, name: str) -> int:
        hits = [j for j, n in enumerate(names) if n == name]
        if len(hits) != 1:
            what = "no column" if not hits else f"{len(hits)} columns"
            raise _fail(mapping, key, f"the table has {what} named so in row {header_row} of {label}", name,
                        hint=f"Columns: {', '.join(repr(n) for n in names if n)}")
        return hits[0]

    pos = {"province": position("province", spec["province"])}
    constants: dict[str, Any] = {"vintage": spec["vintage"]}
    where = {"province": spec["province"]}
    for field in ("year", "date"):
        rule = spec[field]
        if rule is None:
            continue
        if rule[0] == "column":
            pos[field] = position(f"{field}.column", rule[1])
            where[field] = rule[1]
        else:
            constants[field] = rule[1]
            where[field] = f"{field} (mapping {mapping.name})"
    for v in spec["values"]:
        v["_pos"] = position(f"{v['key']}.column", v["column"])
        v["_rank"] = None if v["rank_column"] is None else position(f"{v['key']}.rank_column", v["rank_column"])
    last = len(rows) if spec["last_row"] is None else min(spec["last_row"], len(rows))
    body = [(i, rows[i - 1]) for i in range(spec["first_row"], last + 1)]

    def cell(row: list[Any], j: int | None) -> Any:
        return None if j is None or j >= len(row) else row[j]

    def blank(v: Any) -> bool:
        return v is None or (isinstance(v, str) and not v.strip())

    used = [j for j in [*pos.values(), *(v["_pos"] for v in spec["values"]), *(v["_rank"] for v in spec["values"])] if j is not None]
    data = []
    for i, row in body:
        if all(blank(cell(row, j)) for j in used):
            continue
        province = cell(row, pos["province"])
        if not blank(province) and unicodedata.normalize("NFC", str(province)).strip() in spec["skip"]:
            if notes is not None:
                notes.append(Skipped(Path(label), f"row skipped by the mapping ({mapping.name}: skip)", i, str(province)))
            continue
        if i in sheet.hidden:
            raise DataError("the row is hidden in the workbook; hidden rows are neither read nor dropped without a word", file=label,
                            row=i, hint=f"Unhide the row to read it, delete it, or list its province cell under `skip` in {mapping.name}")
        data.append((i, row))
    ranked = {v["key"]: sum(not blank(cell(row, v["_rank"])) for _, row in data) for v in spec["values"] if v["_rank"] is not None}
    recs: list[dict[str, Any]] = []
    for i, row in data:
        base = {"province": cell(row, pos["province"]), **constants}
        for field in ("year", "date"):
            if field in pos:
                value = cell(row, pos[field])
                base[field] = value.isoformat()[:10] if isinstance(value, dt.date) else value
        for v in spec["values"]:
            value = cell(row, v["_pos"])
            if blank(value):
                if notes is not None:
                    notes.append(Skipped(Path(label), f"blank cell in column {v['column']!r}: not published, no value", i,
                                         str(base["province"])))
                continue
            rank = cell(row, v["_rank"])
            cells = base | {"index": v["index"], "indicator": v["indicator"], "value": value, "unit": v["unit"], "source": v["source"],
                            "note": v["note"], "scale_max": v["scale_max"], "rank": None if blank(rank) else rank,
                            "rank_of": v["rank_of"] or ranked.get(v["key"])}
            recs.append(validate_record(cells, file=label, row=i, decimal=spec["decimal"],
                                        where=where | {"value": v["column"], "rank": v["rank_column"] or "rank",
                                                       "index": f"{v['key']}.index", "indicator": f"{v['key']}.indicator"}))
    if not recs:
        raise DataError("the mapping finds no values in the table", file=label,
                        hint=f"Check header_rows, first_row and last_row in {mapping.name}")
    return obs_frame(recs)

