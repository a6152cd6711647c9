"""One error type for bad input, so every failure names the file, row, column and value the user must fix.

A message is also safe to print: a value is cut to a few hundred characters (a 120 KB cell or a whole file
is not echoed), and characters a terminal or a reader cannot see (ANSI escapes, bidirectional overrides,
lone surrogates) are written as escapes."""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

from .limits import MESSAGE_MAX_CHARS, MESSAGE_VALUE_MAX_CHARS
from .textcheck import visible


def shorten(text: str, limit: int = MESSAGE_VALUE_MAX_CHARS) -> str:
    """`text` cut to `limit` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters in all)"


class DataError(Exception):
    """Bad input. `row` is the 1-based row as a spreadsheet program shows it (header = row 1)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.value = value.item() if hasattr(value, "item") and getattr(value, "ndim", 1) == 0 else value  # 95.0, not np.float64(95.0)
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"file {visible(shorten(self.file), name=True)}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {shorten(repr(self.column))}")
        if self.value is not None:
            where.append(f"value {_quote(self.value)}")
        text = shorten(f"{self.message}", MESSAGE_MAX_CHARS // 2) + (f" ({', '.join(where)})" if where else "")
        if self.hint:
            text += f". {shorten(self.hint, MESSAGE_MAX_CHARS // 4)}"
        return visible(text)


def _quote(value: Any) -> str:
    """repr of a value, cut before it is built in full when it is a long text (repr of a 120 KB string costs
    little, of a nested structure from YAML aliases a great deal)."""
    if isinstance(value, str | bytes) and len(value) > MESSAGE_VALUE_MAX_CHARS:
        return f"{value[:MESSAGE_VALUE_MAX_CHARS]!r}… ({len(value):,} {'characters' if isinstance(value, str) else 'bytes'} in all)"
    if isinstance(value, list | tuple | dict | set):
        return shorten(reprlib_repr(value))
    return shorten(repr(value))


def reprlib_repr(value: Any) -> str:
    """A bounded repr of a container (reprlib stops after a few items and levels)."""
    r = reprlib.Repr()
    r.maxstring, r.maxother, r.maxlist, r.maxdict, r.maxlevel = 120, 120, 20, 20, 4
    return r.repr(value)
