"""Every size limit on input, in one place (README, "Limits").

A small file can ask for a lot: a 500-byte YAML file whose aliases expand to a billion nodes, a 5 KB workbook
that declares 17 billion cells, a 3 MB zip that inflates to gigabytes, a sparse CSV of 20 GB. Each limit below
is checked before the parser that it protects runs (file size from `stat`, zip members from the archive's
directory, YAML nodes from the event stream), or while streaming (rows and cells), so the reader stops
early with a message instead of exhausting memory. The values leave one to two orders of magnitude between
the largest real input (a 63-province ministry table; the project's own configs and codebook) and the limit."""

from __future__ import annotations

MB = 1_000_000

# ---- a researcher's tables (data/raw/user/) --------------------------------------------------------------
TABLE_FILE_MAX_BYTES = 32 * MB
"""Size of one CSV or XLSX file on disk (the largest real workbook in the mirror is 0.6 MB)."""
XLSX_UNCOMPRESSED_MAX_BYTES = 128 * MB
"""Sum of the uncompressed sizes of a workbook's zip members (the largest real one: 4.6 MB)."""
XLSX_MEMBER_MAX_RATIO = 200
"""Uncompressed/compressed size of one zip member over 1 MB (real workbooks: at most 55; zip bombs: ~1000)."""
XLSX_RATIO_FLOOR_BYTES = 1 * MB
TABLE_MAX_ROWS = 100_000
"""Rows of one CSV file or worksheet, counted to the last row holding a value (63 provinces x 20 years x 50
indicators fits)."""
TABLE_MAX_COLUMNS = 512
"""Columns of one row, counted to the last cell holding a value."""
TABLE_MAX_CELLS = 5_000_000
"""Cells of one file as the reader holds them (rows x their widths)."""
XLSX_MAX_PARSED_CELLS = 20_000_000
"""Cell elements a worksheet may contain, values or not (styled empty cells cost parsing time too)."""
FIELD_MAX_CHARS = 131_072
"""One CSV field (the csv module's own limit); longer is almost always an unclosed quote."""
TEXT_MAX_CHARS = 4_000
"""One text a row carries (source, note, name, date), from any path: a CSV or XLSX cell, a mapping file's
`source` or `note` (the longest real note is 280 characters). A mapping's text is copied into every row it
maps, so an 800 KB note would otherwise make a 3 KB table half a gigabyte of output."""
TEXT_MAX_TOTAL_CHARS = 8_000_000
"""All text the rows of one file carry, summed over rows (the largest real source carries 0.5 million)."""

# ---- YAML (mapping files, run configs, the manifest and the codebook) -------------------------------------
YAML_MAX_BYTES = 1 * MB
"""Size of one YAML file (data/sources.yml, the largest, is 42 KB)."""
YAML_MAX_NODES = 100_000
"""Nodes after expanding every alias: an alias bomb is refused before any object is built."""
YAML_MAX_DEPTH = 64
"""Nesting of lists and mappings (PyYAML's composer recurses and would fail deep inside)."""
YAML_MAX_NUMBER_DIGITS = 20
"""Digits of one number (larger numbers are no count, limit or year this project reads)."""

# ---- messages ----------------------------------------------------------------------------------------
MESSAGE_VALUE_MAX_CHARS = 300
"""A value quoted in an error message is cut to this many characters (a 120 KB cell is not echoed)."""
MESSAGE_MAX_CHARS = 2_000
"""A whole error message, hint included."""

# ---- runs ---------------------------------------------------------------------------------------------
WORKER_MEMORY_BYTES = 700 * 1024**2
"""Memory one notebook worker and its kernel take at their peak (measured 0.6 GiB with the default run);
`--jobs` is capped to the memory available divided by this."""
RUN_LIMIT_MAX = {"timeout": 86_400, "notebook_timeout": 86_400, "max_run_seconds": 7 * 86_400, "max_output_mb": 2_000,
                 "keep": 1_000, "jobs": 64}
"""Upper bounds of a run config's limits (seconds, MB, runs kept, workers); larger is a typo."""
