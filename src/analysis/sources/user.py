"""A researcher's own tables in the documented long-format template (CSV or XLSX in data/raw/user/).

Validation is strict because a silently misread table would corrupt every analysis downstream: UTF-8
without BOM, comma-separated, decimal points, the template's columns and nothing else, and a value on every
row (leave a row out rather than write 0). Workbooks are read cell by cell with their number formats, so a
cell that shows 84.5% is read as 84.5 (what the researcher sees), not as Excel's stored 0.845. Duplicate
rows are checked after province names are resolved (`panel.build.check_user_duplicates`), so two spellings
of one province are one key.

A table in another layout (a ministry's wide sheet: STT, province, score, rank, field scores) is read
through a mapping file beside it (`<table>.mapping.yml`, see `sources.mapping`); its rows pass through the
same per-value checks (`validate_record`) as the template's. Each row may declare the province `vintage`
(gso-2008 for the 63, gso-2025 for the 34 of 2025); without it the build infers it from the year and date
(`panel.build.assign_vintages`)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import stat
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError
from ..manifest import sha256_file
from ..panel.schema import FIRST_YEAR, LAST_YEAR
from .common import decimals_tolerance, obs_frame, parse_number

REQUIRED = ["province", "year", "index", "indicator", "value", "unit", "source", "note"]
OPTIONAL = ["scale_max", "date", "vintage"]
VINTAGES = ("gso-2008", "gso-2025")
MAPPING_SUFFIXES = (".mapping.yml", ".mapping.yaml")
TABLE_SUFFIXES = (".csv", ".xlsx")
_INDEX = re.compile(r"^[A-Z][A-Z0-9_]*$")
_INDICATOR = re.compile(r"^[a-z0-9][a-z0-9_.]*$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.')  # quoted text and escaped characters in an Excel number format


@dataclass(frozen=True)
class Skipped:
    """A file in the user folder (or a row of a mapped table) that is not read, and why (reported, never
    silent)."""

    path: Path
    reason: str
    row: int | None = None
    content: str = ""


def mapping_for(path: Path) -> Path | None:
    """The mapping file beside a table (`x.xlsx` -> `x.mapping.yml`), if there is one."""
    for suffix in MAPPING_SUFFIXES:
        m = path.with_name(path.stem + suffix)
        if m.is_file():
            return m
    return None


def user_table_inputs(path: Path, rows: int) -> dict[str, Any]:
    """What a user table contributed, for build_info.json and the run manifest: file, sha256, rows read, and
    its mapping file (name and sha256) when it was read through one."""
    mapping = mapping_for(path)
    return {"file": path.name, "sha256": sha256_file(path), "rows": int(rows),
            "mapping": None if mapping is None else {"file": mapping.name, "sha256": sha256_file(mapping)}}


def list_user_files(folder: Path) -> tuple[list[Path], list[Skipped]]:
    """The tables to read in `folder`, and the files left out with a reason: the lock and temporary files
    Excel and LibreOffice leave beside an open table (`~$x.xlsx`, `.~lock.x.csv#`), hidden files (macOS
    `._x.csv`), sub-folders and files that are not tables."""
    if not folder.is_dir():
        return [], []
    tables: list[Path] = []
    skipped: list[Skipped] = []
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.lower().endswith(MAPPING_SUFFIXES) and not name.startswith((".", "~")):
            stem = name[: name.lower().rindex(".mapping.")]
            found = [path.with_name(stem + s) for s in TABLE_SUFFIXES if path.with_name(stem + s).is_file()]
            if len(found) != 1:
                what = "no table" if not found else "two tables"
                raise DataError(f"mapping file with {what} beside it", file=path, value=name,
                                hint=f"A mapping describes exactly one table of the same name: {stem}.csv or {stem}.xlsx")
            continue  # read with its table
        if name.startswith("~$"):
            skipped.append(Skipped(path, "Excel lock file (the table is open in Excel); ignored"))
        elif name.startswith(".~lock.") or name.endswith(("#", "~")) or name.startswith("#"):
            skipped.append(Skipped(path, "editor lock or backup file; ignored"))
        elif name.startswith("."):
            skipped.append(Skipped(path, "hidden file; ignored"))
        elif path.is_dir():
            skipped.append(Skipped(path, "a folder: only files directly in the user folder are read; ignored"))
        elif not _regular_file(path):
            raise DataError("not a regular file: a pipe, socket, device or a broken or looping link", file=path, value=name,
                            hint="Copy the table itself into the user folder (reading a pipe would wait for ever)")
        elif path.suffix.lower() in (*TABLE_SUFFIXES, ".xls"):
            tables.append(path)
        else:
            skipped.append(Skipped(path, "not a table (.csv or .xlsx); ignored"))
    return tables, skipped


def _oversized_column(text: str, start_line: int, header: list[str]) -> str | None:
    """The column of the first over-long field in the record starting at physical line `start_line`
    (pandas' parser has no field limit, so it can read the record the csv module refused)."""
    rest = "".join(io.StringIO(text, newline="").readlines()[start_line:])
    try:
        record = pd.read_csv(io.StringIO(rest), header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]
    except Exception:  # only used to name the column in the message
        return None
    for i, field in enumerate(record):
        if len(field) >= csv.field_size_limit():
            return header[i] if i < len(header) else f"column {i + 1}"
    return None


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
    first = text.lstrip("\r\n").splitlines()[0]
    if ";" in first and "," not in first:
        raise DataError("semicolon-separated file", file=path, row=1, value=first[:80],
                        hint="Use commas between columns and points for decimals")
    # newline="" lets the csv module see \r\n, \n and the bare \r of classic Mac Excel as line ends
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[list[str]] = []
    line = 0
    try:
        for row in reader:
            rows.append(row)
            line = reader.line_num
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            limit = csv.field_size_limit()
            raise DataError(f"a field is longer than {limit // 1024} KB", file=path, row=len(rows) + 1,
                            column=_oversized_column(text, line, rows[0] if rows else []),
                            hint="A cell this long is almost always a broken quote (an opening \" never closed)") from exc
        raise DataError(f"not a readable CSV file: {exc}", file=path, row=len(rows) + 1) from exc
    return rows


def _is_percent_format(fmt: str | None) -> bool:
    return bool(fmt) and "%" in _FORMAT_LITERALS.sub("", str(fmt))


def _cell(cell: Any) -> Any:
    """A workbook cell as the researcher sees it: percent-formatted numbers scaled by 100 (as text, so the
    decimals shown set the comparison tolerance) and dates as ISO text."""
    v = cell.value
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float) and not isinstance(v, bool) and _is_percent_format(cell.number_format):
        text = format(Decimal(repr(v)) * 100, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return v


def _read_xlsx_sheets(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """Every worksheet as (name, rows of cell values). openpyxl, because the reader needs number formats."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # not a workbook at all (truncated, wrong format, encrypted)
        raise DataError(f"cannot read workbook: {exc}", file=path) from exc
    try:
        return [(ws.title, [[_cell(c) for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets]
    finally:
        wb.close()


def _header(rows: list[list[Any]]) -> list[str]:
    return [str(h).strip() if h is not None else "" for h in rows[0]] if rows else []


def _tables(path: Path, notes: list[Skipped] | None) -> list[tuple[str, list[list[Any]]]]:
    """(label used in messages, rows) of every table in the file. A workbook contributes every sheet whose
    first row has the template's columns; a sheet with some of them but not all is an error (a misspelt
    column would otherwise drop the sheet silently); sheets with none are noted and skipped."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [(str(path), _read_csv_rows(path))]
    if suffix == ".xls":
        raise DataError("old Excel .xls workbook", file=path, value=path.suffix,
                        hint="Save it as .xlsx (File > Save As > Excel Workbook) or as CSV UTF-8; the reader needs the cells' formats")
    if suffix != ".xlsx":
        raise DataError("unsupported file type (use .csv or .xlsx)", file=path, value=path.suffix)
    sheets = _read_xlsx_sheets(path)
    out = []
    for name, rows in sheets:
        label = f"{path}, sheet {name!r}"
        present = [c for c in REQUIRED if c in _header(rows)]
        if len(present) == len(REQUIRED):
            out.append((label, rows))
        elif present:
            missing = [c for c in REQUIRED if c not in present]
            raise DataError("sheet has some of the template's columns but not all", file=label, row=1, column=missing[0],
                            hint=f"The template columns are {', '.join(REQUIRED)}")
        elif notes is not None and any(v not in (None, "") for r in rows for v in r):
            notes.append(Skipped(Path(label), "sheet without the template's columns; ignored"))
    if not out:
        if not any(v not in (None, "") for _, rows in sheets for r in rows for v in r):
            raise DataError("empty workbook", file=path)
        raise DataError("no sheet has the template's columns", file=path, value=[n for n, _ in sheets],
                        hint=f"The first row of a data sheet names the columns {', '.join(REQUIRED)}")
    return out


def _records(path: Path, label: str, rows: list[list[Any]]) -> list[dict[str, Any]]:
    header = _header(rows)
    for col in REQUIRED:
        if col not in header:
            raise DataError("missing column", file=label, row=1, column=col, hint=f"The template columns are {', '.join(REQUIRED)}")
    unknown = [h for h in header if h not in REQUIRED + OPTIONAL]
    if unknown:
        raise DataError("unknown column", file=label, row=1, column=unknown[0],
                        hint=f"Allowed columns: {', '.join(REQUIRED + OPTIONAL)}")
    if len(set(header)) != len(header):
        raise DataError("duplicate column name", file=label, row=1)
    pos = {h: i for i, h in enumerate(header)}
    recs: list[dict[str, Any]] = []
    for r, row in enumerate(rows[1:], start=2):
        if not any(c not in (None, "") and str(c).strip() for c in row):
            continue
        # a CSV row with one field too many is a decimal comma or a stray comma even when the extra field is
        # empty; a worksheet's rows are as wide as its widest row, so only a filled extra cell counts there
        extra = row[len(header):]
        if extra and (label == str(path) or any(c not in (None, "") for c in extra)):
            raise DataError(f"row has {len(row)} fields, header has {len(header)}", file=label, row=r,
                            hint="Check for a decimal comma or an unquoted comma inside a field")
        cells = {col: (row[i] if i < len(row) else None) for col, i in pos.items()}
        recs.append(validate_record(cells, file=label, row=r))
    return recs


def _regular_file(path: Path) -> bool:
    """A file that can be read to its end: not a FIFO (a reader would block), socket or device, and not a
    broken or looping link."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_RANK_OF = 63  # the most provinces any index has ranked (63 until June 2025, 34 after)


def _text(v: Any) -> str:
    return "" if v is None else str(v).strip()


def _clean_text(cells: dict[str, Any], field: str, *, file: str, row: int, column: str) -> str:
    """A text cell without control characters: a vertical tab or form feed pasted from Word is invisible in
    a spreadsheet but breaks the Word card and XML of every later run, so it is refused here, by cell."""
    text = _text(cells.get(field))
    bad = _CONTROL.search(text)
    if bad:
        raise DataError(f"{field} contains a control character (U+{ord(bad.group()):04X})", file=file, row=row, column=column,
                        value=text, hint="Retype the cell or paste it as plain text")
    return text


def validate_record(cells: dict[str, Any], *, file: str, row: int, where: dict[str, str] | None = None) -> dict[str, Any]:
    """One value of a researcher's table, checked and turned into an observation. `cells` holds the template
    fields (province, year, index, indicator, value, unit, source, note; optionally scale_max, date, vintage,
    and rank / rank_of from a mapping); `where` names the table's own column of each field, so a message
    about a mapped wide table points at its column ("Điểm 2022"), not at the template's name ("value")."""
    where = where or {}

    def col(field: str) -> str:
        return where.get(field, field)

    year_v = parse_number(cells.get("year"), file=file, row=row, column=col("year"))
    if year_v is None or not FIRST_YEAR <= year_v <= LAST_YEAR or year_v != int(year_v):
        raise DataError(f"year must be a whole number between {FIRST_YEAR} and {LAST_YEAR}", file=file, row=row, column=col("year"),
                        value=cells.get("year"))
    index = _text(cells.get("index"))
    if not _INDEX.match(index):
        raise DataError("index must be upper case letters, digits and _ (e.g. PAR_INDEX)", file=file, row=row, column=col("index"),
                        value=index)
    indicator = _text(cells.get("indicator"))
    if not _INDICATOR.match(indicator):
        raise DataError("indicator must be lower case letters, digits, _ and . (e.g. total, d8)", file=file, row=row,
                        column=col("indicator"), value=indicator)
    value = parse_number(cells.get("value"), file=file, row=row, column=col("value"))
    if value is None:
        raise DataError("value is empty", file=file, row=row, column=col("value"),
                        hint="Leave out rows with no published value; never write 0 for missing")
    text = {f: _clean_text(cells, f, file=file, row=row, column=col(f)) for f in ("province", "unit", "source", "note")}
    for field in ("unit", "source"):
        if not text[field]:
            raise DataError(f"{field} is empty", file=file, row=row, column=col(field))
    date = _text(cells.get("date"))
    if date and not _valid_date(date):
        raise DataError("date must be YYYY, YYYY-MM or YYYY-MM-DD", file=file, row=row, column=col("date"), value=cells.get("date"))
    vintage = _text(cells.get("vintage"))
    if vintage and vintage not in VINTAGES:
        raise DataError(f"vintage must be {' or '.join(VINTAGES)} (or empty)", file=file, row=row, column=col("vintage"),
                        value=cells.get("vintage"), hint="gso-2008: the 63 provinces until 30 June 2025; gso-2025: the 34 from 1 July 2025")
    scale = parse_number(cells.get("scale_max"), file=file, row=row, column=col("scale_max"))
    rank = parse_number(cells.get("rank"), file=file, row=row, column=col("rank"))
    rank_of = cells.get("rank_of")
    if rank_of is not None and rank_of > MAX_RANK_OF:
        raise DataError(f"rank_of must be at most {MAX_RANK_OF} (the provinces an index can rank)", file=file, row=row,
                        column=col("rank_of"), value=rank_of)
    if rank is not None and (rank != int(rank) or rank < 1 or (rank_of is not None and rank > rank_of)):
        raise DataError(f"a rank must be a whole number from 1{f' to {rank_of}' if rank_of else ''}", file=file, row=row,
                        column=col("rank"), value=cells.get("rank"))
    return {
        "province_raw": text["province"], "vintage": vintage or None, "year": int(year_v), "index": index,
        "indicator": indicator, "value": value, "scale_max": scale, "method_version": "", "date": date or None,
        "rank": None if rank is None else int(rank), "rank_of": None if rank is None else rank_of, "grade": None,
        "note": f"{text['unit']}; {text['note']}".strip("; "), "source_ref": text["source"],
        "_file": file, "_row": row, "_column": col("value"), "_tol": decimals_tolerance(cells.get("value")),
    }


def _valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        return False
    return True


def read_user_table(path: Path, notes: list[Skipped] | None = None) -> pd.DataFrame:
    """Read and validate one table (every data sheet of a workbook, or what its mapping file names); the
    observations carry source id `user:<file name>`. Sheets that are not tables, and rows a mapping skips,
    are appended to `notes`."""
    if path.is_dir():
        raise DataError("a folder stands where a table was expected", file=path)
    mapping = mapping_for(path)
    if mapping is not None:
        from .mapping import read_mapped_table

        return read_mapped_table(path, mapping, notes)
    recs = [rec for label, rows in _tables(path, notes) for rec in _records(path, label, rows)]
    if not recs:
        raise DataError("table has a header but no data rows", file=path)
    return obs_frame(recs)
