"""One error type for bad input, so every failure names the file, row, column and value the user must fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any


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
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.value is not None:
            where.append(f"value {self.value!r}")
        text = f"{self.message}" + (f" ({', '.join(where)})" if where else "")
        if self.hint:
            text += f". {self.hint}"
        return text
