"""One value of a researcher's table, checked and turned into an observation: the checks every researcher's
row passes, whether it comes from the long template (`user.py`) or from a table read through a mapping file
(`mapping.py`)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from .. import textcheck
from ..errors import DataError
from ..panel.schema import FIRST_YEAR, LAST_YEAR
from .common import BadCell, decimals_tolerance, parse_number

REQUIRED = ["province", "year", "index", "indicator", "value", "unit", "source", "note"]
OPTIONAL = ["scale_max", "date", "vintage"]
VINTAGES = ("gso-2008", "gso-2025")
INDEX = re.compile(r"^[A-Z][A-Z0-9_]*$")
INDICATOR = re.compile(r"^[a-z0-9][a-z0-9_.]*$")
MISSING_WORDS = {"na", "nan", "null", "none", "nil", "n_a"}
"""Names pandas, R and spreadsheets read as a missing value: an index or indicator called so would vanish from
the CSV files the build writes."""
MAX_RANK_OF = 63  # the most provinces any index has ranked (63 until June 2025, 34 after)
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def known_indicators_hint(index: str, year: int | None = None) -> str | None:
    """The indicator codes an index with a closed list (PAPI, PCI, PAR_INDEX, SIPAS) defines, for a message."""
    from ..panel.codebook import defined_indicators

    years = [year] if year is not None else range(FIRST_YEAR, LAST_YEAR + 1)
    codes: set[str] = set()
    for y in years:
        codes |= defined_indicators(index, y) or set()
    codes = {c for c in codes if not c.endswith("_rank")}
    if not codes:
        return None
    return (f"{index} indicators: {', '.join(sorted(codes))} (and <indicator>_rank); "
            "use your own index name (e.g. MY_SURVEY) for other measures")


def name_problem(kind: str, name: str) -> str | None:
    """Why `name` cannot be an index (kind 'index') or indicator name, or None."""
    pattern, example = (INDEX, "upper case letters, digits and _ (e.g. PAR_INDEX)") if kind == "index" else \
        (INDICATOR, "lower case letters, digits, _ and . (e.g. total, d8)")
    if not pattern.match(name):
        return f"{kind} must be {example}"
    if name.lower() in MISSING_WORDS:
        return f"{kind} {name!r} reads as a missing value in pandas, R and spreadsheets; choose another name"
    return None


def cell_text(v: Any, *, file: object, row: int, column: str) -> str:
    """A cell as text (NFC, stripped); a cell that cannot be read as shown is refused with its reason."""
    if isinstance(v, BadCell):
        raise v.error(file=file, row=row, column=column)
    return "" if v is None else unicodedata.normalize("NFC", str(v)).strip()


def clean_text(cells: dict[str, Any], field: str, *, file: object, row: int, column: str) -> str:
    """A text cell every output can hold (`textcheck`): a vertical tab pasted from Word, U+FFFF or a
    right-to-left override is invisible in a spreadsheet but breaks the Word card of every later run or
    reorders a page, so it is refused here, by cell."""
    text = cell_text(cells.get(field), file=file, row=row, column=column)
    bad = textcheck.problem(text, name=field == "province")
    if bad:
        raise DataError(f"{field} contains {bad}", file=file, row=row, column=column, value=text,
                        hint="Retype the cell or paste it as plain text")
    return text


def valid_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    parts = [int(p) for p in text.split("-")] + [1, 1]
    try:
        dt.date(*parts[:3])
    except ValueError:
        return False
    return True


def date_problem(date: str, year: int) -> str | None:
    """Why a value's date cannot go with its year: a snapshot is dated within its year or, for a figure
    published after it, the next year; never before the year and never in the future."""
    if not valid_date(date):
        return "date must be YYYY, YYYY-MM or YYYY-MM-DD"
    first = dt.date(*([int(p) for p in date.split("-")] + [1, 1])[:3])
    if first > dt.date.today():
        return f"date {date} is in the future"
    if not year <= first.year <= year + 1:
        return f"date {date} does not go with the year {year}: a value's date is in its year or the next"
    return None


def validate_record(cells: dict[str, Any], *, file: str, row: int, where: dict[str, str] | None = None,
                    decimal: str = ".") -> dict[str, Any]:
    """One value of a researcher's table, checked and turned into an observation. `cells` holds the template
    fields (province, year, index, indicator, value, unit, source, note; optionally scale_max, date, vintage,
    and rank / rank_of from a mapping); `where` names the table's own column of each field, so a message
    about a mapped wide table points at its column ("Điểm 2022"), not at the template's name ("value").
    `decimal` is how the table writes decimals in text cells ("." or ",", from a mapping file)."""
    where = where or {}

    def col(field: str) -> str:
        return where.get(field, field)

    year_v = parse_number(cells.get("year"), file=file, row=row, column=col("year"))
    if year_v is None or not FIRST_YEAR <= year_v <= LAST_YEAR or year_v != int(year_v):
        raise DataError(f"year must be a whole number between {FIRST_YEAR} and {LAST_YEAR}", file=file, row=row, column=col("year"),
                        value=cells.get("year"))
    index = cell_text(cells.get("index"), file=file, row=row, column=col("index"))
    if bad := name_problem("index", index):
        raise DataError(bad, file=file, row=row, column=col("index"), value=index)
    indicator = cell_text(cells.get("indicator"), file=file, row=row, column=col("indicator"))
    if bad := name_problem("indicator", indicator):
        raise DataError(bad, file=file, row=row, column=col("indicator"), value=indicator, hint=known_indicators_hint(index, int(year_v)))
    value = parse_number(cells.get("value"), file=file, row=row, column=col("value"), decimal=decimal)
    if value is None:
        raise DataError("value is empty", file=file, row=row, column=col("value"),
                        hint="Leave out rows with no published value; never write 0 for missing")
    text = {f: clean_text(cells, f, file=file, row=row, column=col(f)) for f in ("province", "unit", "source", "note")}
    for field in ("unit", "source"):
        if not text[field]:
            raise DataError(f"{field} is empty", file=file, row=row, column=col(field))
    date = cell_text(cells.get("date"), file=file, row=row, column=col("date"))
    if date and (bad := date_problem(date, int(year_v))):
        raise DataError(bad, file=file, row=row, column=col("date"), value=cells.get("date"))
    vintage = cell_text(cells.get("vintage"), file=file, row=row, column=col("vintage"))
    if vintage and vintage not in VINTAGES:
        raise DataError(f"vintage must be {' or '.join(VINTAGES)} (or empty)", file=file, row=row, column=col("vintage"),
                        value=cells.get("vintage"), hint="gso-2008: the 63 provinces until 30 June 2025; gso-2025: the 34 from 1 July 2025")
    scale = parse_number(cells.get("scale_max"), file=file, row=row, column=col("scale_max"), decimal=decimal)
    rank = parse_number(cells.get("rank"), file=file, row=row, column=col("rank"), decimal=decimal)
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
        "_file": file, "_row": row, "_column": col("value"), "_tol": decimals_tolerance(cells.get("value"), decimal),
    }
