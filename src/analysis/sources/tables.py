"""Reading a researcher's file (CSV or XLSX in data/raw/user/) into rows of cells, as the researcher sees them,
within the limits of `analysis.limits`.

Both the long template (`user.py`) and mapped tables (`mapping.py`) read through here, so both get the same
guarantees:

- sizes are checked before a parser runs: the file on disk, a workbook's zip members (declared uncompressed
  size and ratio: a zip bomb is refused from the archive's directory, and Python's zip reader, which openpyxl
  uses, never inflates a member past its declared size), then rows, columns and cells while streaming;
- a worksheet is read by its real cells (openpyxl's streaming parser), not by the range it declares: one
  styled cell at XFD1048576 costs one cell, not 17 billion;
- a cell is read as it is shown: a number formatted as a percentage that shows 84.5% is 84.5, `0.0,,` (millions)
  shows the number divided by a million, `[$%-409]` is a currency sign, not a percentage; a number the format
  hides (`;;;`), a minus sign the format hides, a conditional format, a formula with no saved result and a
  formula whose saved result may be stale (the workbook asks to be recalculated when opened, or calculates
  only by hand) are `BadCell`s, refused with their reason when the reader uses them;
- hidden rows are reported with the sheet (`Sheet.hidden`), so that the readers can refuse a hidden data row
  instead of reading it without a word;
- text is Unicode NFC (a header typed on a Mac in NFD equals the same header typed elsewhere), and a file
  whose columns are separated by tabs, pipes or semicolons is named as such."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .. import files
from ..errors import DataError
from ..limits import (
    FIELD_MAX_CHARS,
    TABLE_FILE_MAX_BYTES,
    TABLE_MAX_CELLS,
    TABLE_MAX_COLUMNS,
    TABLE_MAX_ROWS,
    XLSX_MAX_PARSED_CELLS,
    XLSX_MEMBER_MAX_RATIO,
    XLSX_RATIO_FLOOR_BYTES,
    XLSX_UNCOMPRESSED_MAX_BYTES,
)
from .common import BadCell


@dataclass(frozen=True)
class Skipped:
    """A file in the user folder (or a row of a mapped table) that is not read, and why (reported, never
    silent)."""

    path: Path
    reason: str
    row: int | None = None
    content: str = ""


@dataclass(frozen=True)
class Sheet:
    """One worksheet: `rows[i]` is spreadsheet row i + 1, each as long as its last cell with a value; `hidden`
    holds the numbers of hidden rows."""

    name: str
    rows: list[list[Any]]
    hidden: frozenset[int] = frozenset()


def nfc(value: Any) -> Any:
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


# ---- CSV -----------------------------------------------------------------------------------------------------

_OTHER_SEPARATORS = {"\t": "tab", "|": "pipe", ";": "semicolon"}


def read_csv_rows(path: Path) -> list[list[str]]:
    """Every record of a UTF-8, comma-separated file, fields in NFC, within the size limits."""
    data = files.read_bytes(path, TABLE_FILE_MAX_BYTES, "table")
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
    _check_separator(path, text)
    # newline="" lets the csv module see \r\n, \n and the bare \r of classic Mac Excel as line ends
    reader = csv.reader(io.StringIO(text, newline=""))
    # The limit is process-wide and other libraries raise it (frictionless sets it to sys.maxsize on import):
    # set ours for this read and give the previous one back.
    previous_limit = csv.field_size_limit(FIELD_MAX_CHARS)
    rows: list[list[str]] = []
    cells = 0
    line = 0
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) >= TABLE_MAX_ROWS:
                raise DataError(f"more than {TABLE_MAX_ROWS:,} rows", file=path, row=len(rows) + 1, hint="See 'Limits' in the README")
            if len(row) > TABLE_MAX_COLUMNS:
                raise DataError(f"a row of {len(row):,} fields, more than {TABLE_MAX_COLUMNS} columns", file=path, row=len(rows) + 1,
                                hint="See 'Limits' in the README")
            cells += len(row)
            if cells > TABLE_MAX_CELLS:
                raise DataError(f"more than {TABLE_MAX_CELLS:,} cells", file=path, row=len(rows) + 1, hint="See 'Limits' in the README")
            rows.append([nfc(f) for f in row])
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise DataError(f"a field is longer than {FIELD_MAX_CHARS // 1024} KB", file=path, row=len(rows) + 1,
                            column=_oversized_column(text, line, rows[0] if rows else []),
                            hint="A cell this long is almost always a broken quote (an opening \" never closed)") from exc
        raise DataError(f"not a readable CSV file: {exc}", file=path, row=len(rows) + 1) from exc
    finally:
        csv.field_size_limit(previous_limit)
    return rows


def _check_separator(path: Path, text: str) -> None:
    """A file whose first lines hold no comma but tabs, pipes or semicolons is another kind of table: say which,
    rather than report its whole first line as one missing column."""
    head = [line for line in text.lstrip("\r\n").splitlines()[:20] if line.strip()]
    if not head or any("," in line for line in head):
        return
    for sep, name in _OTHER_SEPARATORS.items():
        if sep in head[0]:
            hint = "Use commas between columns" + (" and points for decimals" if sep == ";" else "") + \
                   " (in Excel: Save As > CSV UTF-8 (Comma delimited))"
            raise DataError(f"{name}-separated file", file=path, row=1, value=head[0][:80], hint=hint)


def _oversized_column(text: str, start_line: int, header: list[str]) -> str | None:
    """The column of the first over-long field in the record starting at physical line `start_line`
    (pandas' parser has no field limit, so it can read the record the csv module refused)."""
    import pandas as pd

    rest = "".join(io.StringIO(text, newline="").readlines()[start_line:])
    try:
        record = pd.read_csv(io.StringIO(rest), header=None, nrows=1, dtype=str, keep_default_na=False).iloc[0]
    except Exception:  # only used to name the column in the message
        return None
    for i, field in enumerate(record):
        if len(field) >= FIELD_MAX_CHARS:
            return header[i] if i < len(header) else f"column {i + 1}"
    return None


# ---- XLSX ----------------------------------------------------------------------------------------------------


def check_zip(path: Path) -> None:
    """A workbook's zip members within the limits, from the archive's directory (nothing is inflated)."""
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataError(f"cannot read workbook: not a valid .xlsx (zip) file ({exc})", file=path) from None
    total = 0
    for m in members:
        total += m.file_size
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > XLSX_RATIO_FLOOR_BYTES and ratio > XLSX_MEMBER_MAX_RATIO:
            raise DataError(f"workbook part {m.filename!r} inflates {ratio:,.0f} times ({m.file_size / 1e6:,.0f} MB): "
                            f"over the limit of {XLSX_MEMBER_MAX_RATIO} (a zip bomb?)", file=path, hint="See 'Limits' in the README")
    if total > XLSX_UNCOMPRESSED_MAX_BYTES:
        raise DataError(f"workbook is {total / 1e6:,.0f} MB uncompressed, over the limit of {XLSX_UNCOMPRESSED_MAX_BYTES / 1e6:,.0f} MB",
                        file=path, hint="See 'Limits' in the README")


def _calculation_note(path: Path) -> str | None:
    """Why the saved results of formulas in this workbook may be out of date, or None. A program that writes
    formulas without calculating them (openpyxl, xlsxwriter) sets `fullCalcOnLoad`; a workbook in manual
    calculation mode may have been saved without recalculating."""
    try:
        with zipfile.ZipFile(path) as zf:
            root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError):
        return None
    calc = next((el for el in root.iter() if el.tag.endswith("}calcPr") or el.tag == "calcPr"), None)
    if calc is None:
        return None
    if calc.get("fullCalcOnLoad") in ("1", "true"):
        return "the workbook asks to be recalculated when opened (it was written by a program that does not calculate)"
    if calc.get("calcMode") == "manual":
        return "the workbook calculates only by hand (manual calculation), so it may have been saved before recalculating"
    return None


def _open(path: Path) -> Any:
    """The workbook opened for streaming, after the file and zip checks."""
    import openpyxl

    files.checked_size(path, TABLE_FILE_MAX_BYTES, "table")
    check_zip(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not a workbook at all (truncated, wrong format, encrypted)
        raise DataError(f"cannot read workbook: {type(exc).__name__}: {exc}", file=path) from None


def sheet_names(path: Path) -> list[str]:
    """The names of a workbook's sheets, in order."""
    wb = _open(path)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def read_workbook(path: Path, wanted: str | int | None = None) -> tuple[list[str], list[Sheet]]:
    """The workbook's sheet names, and its sheets as the researcher sees them (every sheet, or only `wanted`,
    a name or a 0-based position)."""
    wb = _open(path)
    stale = _calculation_note(path)
    try:
        names = list(wb.sheetnames)
        sheets = []
        budget = [TABLE_MAX_CELLS]
        for i, ws in enumerate(wb.worksheets):
            if wanted is not None and wanted not in (i, ws.title):
                continue
            sheets.append(_read_sheet(path, wb, ws, stale, budget))
        return names, sheets
    except DataError:
        raise
    except Exception as exc:  # a damaged part inside a valid zip
        raise DataError(f"cannot read workbook: {type(exc).__name__}: {exc}", file=path) from None
    finally:
        wb.close()


def _read_sheet(path: Path, wb: Any, ws: Any, stale: str | None, budget: list[int]) -> Sheet:
    """One worksheet streamed cell by cell through openpyxl's own worksheet parser (the read-only reader pads
    every row to the declared range; this keeps only cells that are there)."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)  # data_only: the saved result of a formula
            cell["formula"] = element.find(FORMULA_TAG) is not None
            return cell

    label = f"{path}, sheet {ws.title!r}"
    rows: list[list[Any]] = []
    hidden: set[int] = set()
    parsed = 0
    with ws._get_source() as src:  # noqa: SLF001 - openpyxl's streaming pattern (ReadOnlyWorksheet._cells_by_row)
        parser = Parser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,  # noqa: SLF001
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)  # noqa: SLF001
        for r, cells in parser.parse():
            parsed += len(cells)
            if parsed > XLSX_MAX_PARSED_CELLS:
                raise DataError(f"the sheet holds more than {XLSX_MAX_PARSED_CELLS:,} cells", file=label, hint="See 'Limits' in the README")
            values: dict[int, Any] = {}
            for cell in cells:
                formula = cell.pop("formula")
                if cell["value"] is None and not formula:
                    continue  # an empty (perhaps styled) cell
                if cell["column"] > TABLE_MAX_COLUMNS:
                    raise DataError(f"a value in column {cell['column']:,}, beyond the limit of {TABLE_MAX_COLUMNS} columns",
                                    file=label, row=r, hint="See 'Limits' in the README")
                values[cell["column"]] = _shown(ReadOnlyCell(ws, **cell), formula, stale)
            if not values:
                continue
            if r > TABLE_MAX_ROWS:
                raise DataError(f"a value in row {r:,}, beyond the limit of {TABLE_MAX_ROWS:,} rows", file=label,
                                hint="See 'Limits' in the README")
            width = max(values)
            budget[0] -= width + max(0, r - 1 - len(rows))
            if budget[0] < 0:
                raise DataError(f"the workbook holds more than {TABLE_MAX_CELLS:,} cells", file=label, row=r,
                                hint="See 'Limits' in the README")
            rows.extend([] for _ in range(r - 1 - len(rows)))
            rows.append([values.get(c) for c in range(1, width + 1)])
            if (parser.row_dimensions.get(str(r)) or {}).get("hidden") in ("1", "true"):
                hidden.add(r)
    return Sheet(ws.title, rows, frozenset(hidden))


def _shown(cell: Any, formula: bool, stale: str | None) -> Any:
    """A cell's value as the sheet shows it: text in NFC, dates as ISO text, numbers through their format."""
    v = cell.value
    if formula and v is None:
        return BadCell("a formula without a saved result (the file was written by a program that does not calculate)",
                       hint="Open and save the file in Excel or LibreOffice, or paste the values (Paste Special > Values)")
    if formula and stale:
        return BadCell(f"a formula whose saved result may be out of date: {stale}", shown=v,
                       hint="Recalculate and save the file in Excel or LibreOffice, or paste the values (Paste Special > Values)")
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int | float) and not isinstance(v, bool):
        return shown_number(v, cell.number_format)
    return nfc(v)


# ---- number formats --------------------------------------------------------------------------------------------

_LITERALS = re.compile(r'"[^"]*"|\\.|_.|\*.')  # quoted text, an escaped character, a space as wide as x, a fill
_BRACKETS = re.compile(r"\[[^\]]*\]")  # [Red], [$€-409], [$-42A], [>=100]
_CONDITION = re.compile(r"\[\s*(<=|>=|<>|<|>|=)")
_PLACEHOLDER = re.compile(r"[0#?]")


def _sections(fmt: str) -> list[str]:
    """The `;`-separated sections of a number format, ignoring `;` inside quotes and brackets."""
    out, cur, quoted, bracket, i = [], [], False, False, 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "\\" and not quoted and i + 1 < len(fmt):
            cur.append(fmt[i : i + 2])
            i += 2
            continue
        if ch == '"' and not bracket:
            quoted = not quoted
        elif ch == "[" and not quoted:
            bracket = True
        elif ch == "]" and not quoted:
            bracket = False
        if ch == ";" and not quoted and not bracket:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    out.append("".join(cur))
    return out


def shown_number(value: float | int, fmt: str | None) -> Any:
    """The number a cell shows under its number format (as exact decimal text when the format scales it), or a
    `BadCell` when the format hides or changes what the number is. Scaling: each `%` multiplies by 100; each
    comma after the last digit placeholder (`0.0,,`) divides by 1 000. Brackets ([Red], [$€-409], [$%-409]) are
    colours and currency or locale tags, never operators."""
    if not fmt or fmt == "General" or fmt == "@":
        return value
    sections = _sections(fmt)
    if any(_CONDITION.search(s) for s in sections):
        return BadCell(f"a number format with conditions ({fmt}), which changes what is shown by the value",
                       shown=value, hint="Give the cell a plain number format")
    chosen = 1 if value < 0 and len(sections) >= 2 else 2 if value == 0 and len(sections) >= 3 else 0
    section = sections[chosen]
    literal = "".join(m.group() for m in _LITERALS.finditer(section))
    core = _BRACKETS.sub("", _LITERALS.sub("", section))
    if "general" not in core.lower() and not _PLACEHOLDER.search(core):
        seen = "empty" if not literal.strip('"\\_* ') else "like text"
        return BadCell(f"a number format ({fmt}) that does not show the number: the cell looks {seen}", shown=value,
                       hint="Give the cell a plain number format, or delete the value if it is not meant to be read")
    if value < 0 and chosen == 1 and "-" not in literal + core and "(" not in literal + core:
        return BadCell(f"a number format ({fmt}) that shows this negative number without its minus sign", shown=value,
                       hint="Give the cell a plain number format")
    percent = core.count("%")
    thousands = sum(len(m.group()) for m in re.finditer(r",+", core)
                    if m.start() > 0 and core[m.start() - 1] in "0#?." and not _PLACEHOLDER.match(core[m.end():m.end() + 1]))
    if not percent and not thousands:
        return value
    scaled = Decimal(repr(float(value))) * Decimal(100) ** percent / Decimal(1000) ** thousands
    text = format(scaled, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
