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

from pathlib import Path
from typing import Any

import pandas as pd

from .. import textcheck
from ..errors import DataError
from ..manifest import sha256_file
from .common import obs_frame
from .mapping import read_mapped_table
from .records import OPTIONAL, REQUIRED, validate_record
from .tables import Sheet, Skipped, read_csv_rows, read_workbook

__all__ = ["Skipped", "list_user_files", "mapping_for", "read_user_table", "user_table_inputs", "validate_record"]
MAPPING_SUFFIXES = (".mapping.yml", ".mapping.yaml")
TABLE_SUFFIXES = (".csv", ".xlsx")


def mapping_for(path: Path) -> Path | None:
    """The mapping file beside a table (`x.xlsx` -> `x.mapping.yml`, the suffix in any case: `x.MAPPING.YML`
    from a Windows tool is the same file), if there is one; two are an error."""
    wanted = {(path.stem + s).casefold() for s in MAPPING_SUFFIXES}
    try:
        found = sorted(p for p in path.parent.iterdir() if p.name.casefold() in wanted and not p.is_dir())
    except OSError:
        return None
    if len(found) > 1:
        raise DataError("two mapping files for one table", file=path, value=[p.name for p in found], hint="Keep one of them")
    return found[0] if found else None


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
    entries = sorted(folder.iterdir())
    for path in entries:
        name = path.name
        if bad := textcheck.problem(name, name=True):
            raise DataError(f"a file name in the user folder holds {bad}", file=folder, value=name,
                            hint="Rename the file: its name is shown on the report site and in every run's manifest")
        if name.lower().endswith(MAPPING_SUFFIXES) and not name.startswith((".", "~")):
            stem = name[: name.lower().rindex(".mapping.")]
            found = [p for p in entries if p.name.casefold() in {(stem + s).casefold() for s in TABLE_SUFFIXES} and p.is_file()]
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


def _header(rows: list[list[Any]]) -> list[str]:
    return [str(h).strip() if h is not None else "" for h in rows[0]] if rows else []


def _tables(path: Path, notes: list[Skipped] | None) -> list[tuple[str, Sheet]]:
    """(label used in messages, rows) of every table in the file. A workbook contributes every sheet whose
    first row has the template's columns; a sheet with some of them but not all is an error (a misspelt
    column would otherwise drop the sheet silently); sheets with none are noted and skipped."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return [(str(path), Sheet(path.name, read_csv_rows(path)))]
    if suffix == ".xls":
        raise DataError("old Excel .xls workbook", file=path, value=path.suffix,
                        hint="Save it as .xlsx (File > Save As > Excel Workbook) or as CSV UTF-8; the reader needs the cells' formats")
    if suffix != ".xlsx":
        raise DataError("unsupported file type (use .csv or .xlsx)", file=path, value=path.suffix)
    _, sheets = read_workbook(path)
    out = []
    for sheet in sheets:
        name, rows = sheet.name, sheet.rows
        label = f"{path}, sheet {name!r}"
        present = [c for c in REQUIRED if c in _header(rows)]
        if len(present) == len(REQUIRED):
            out.append((label, sheet))
        elif present:
            missing = [c for c in REQUIRED if c not in present]
            raise DataError("sheet has some of the template's columns but not all", file=label, row=1, column=missing[0],
                            hint=f"The template columns are {', '.join(REQUIRED)}")
        elif notes is not None and any(v not in (None, "") for r in rows for v in r):
            notes.append(Skipped(Path(label), "sheet without the template's columns; ignored"))
    if not out:
        if not any(v not in (None, "") for sheet in sheets for r in sheet.rows for v in r):
            raise DataError("empty workbook", file=path)
        raise DataError("no sheet has the template's columns", file=path, value=[sheet.name for sheet in sheets],
                        hint=f"The first row of a data sheet names the columns {', '.join(REQUIRED)}")
    return out


def _records(path: Path, label: str, sheet: Sheet) -> list[dict[str, Any]]:
    rows = sheet.rows
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
        if r in sheet.hidden:
            raise DataError("the row is hidden in the workbook; hidden rows are neither read nor dropped without a word",
                            file=label, row=r, hint="Unhide the row to read it, or delete it")
        cells = {col: (row[i] if i < len(row) else None) for col, i in pos.items()}
        recs.append(validate_record(cells, file=label, row=r))
    return recs


def _regular_file(path: Path) -> bool:
    """A file that can be read to its end: not a FIFO (a reader would block), socket or device, and not a
    broken or looping link."""
    import stat

    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def read_user_table(path: Path, notes: list[Skipped] | None = None) -> pd.DataFrame:
    """Read and validate one table (every data sheet of a workbook, or what its mapping file names); the
    observations carry source id `user:<file name>`. Sheets that are not tables, and rows a mapping skips,
    are appended to `notes`."""
    if path.is_dir():
        raise DataError("a folder stands where a table was expected", file=path)
    mapping = mapping_for(path)
    if mapping is not None:
        return read_mapped_table(path, mapping, notes)
    recs = [rec for label, sheet in _tables(path, notes) for rec in _records(path, label, sheet)]
    if not recs:
        raise DataError("table has a header but no data rows", file=path)
    return obs_frame(recs)
