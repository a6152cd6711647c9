"""pandera schemas for the two stages of the panel: the candidate observations every source produced
(still carrying file and row for error messages) and the published table of the data contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..errors import DataError
from .codebook import SCORE_INDICES

INDEX_PATTERN = r"^[A-Z][A-Z0-9_]*$"
INDICATOR_PATTERN = r"^[a-z0-9][a-z0-9_.]*$"
KEY = ["province_code", "vintage", "year", "index", "indicator", "date"]
"""One value per key. The vintage is part of it: code 24 in 2025 is Bắc Giang (gso-2008, until June) or Bắc
Ninh (gso-2025, from July)."""
RELIABILITY = ["official", "compiled", "reported", "user"]
"""What a raw observation can be; `derived` (computed on demand, never stored) is PANEL_RELIABILITY's extra."""
PANEL_RELIABILITY = [*RELIABILITY, "derived"]
VINTAGES = ["gso-1991", "gso-2008", "gso-2025", "national"]


def _within_scale(df: pd.DataFrame) -> pd.Series:
    known = df["index"].isin(SCORE_INDICES | {"ONLINE_SERVICES", "DVC766"})
    below = df["scale_max"].isna() | (df["value"] <= df["scale_max"] * (1 + 1e-9) + 1e-9)
    nonneg = (df["value"] >= 0) | ~known
    return below & nonneg


def _no_zero_scores(df: pd.DataFrame) -> pd.Series:
    return ~(df["index"].isin(SCORE_INDICES) & (df["value"] == 0))


def _expected_scale(df: pd.DataFrame) -> pd.Series:
    exp = df["expected_scale_max"]
    return exp.isna() | np.isclose(df["scale_max"].fillna(exp), exp)


FIRST_YEAR, LAST_YEAR = 2005, 2030  # the first PCI year; a margin for the indices to come
CANDIDATES = pa.DataFrameSchema(
    {
        "province_code": pa.Column(str, pa.Check.str_matches(r"^\d{2}$")),
        "vintage": pa.Column(str, pa.Check.isin(VINTAGES)),
        "year": pa.Column("Int64", pa.Check.in_range(FIRST_YEAR, LAST_YEAR)),
        "index": pa.Column(str, pa.Check.str_matches(INDEX_PATTERN)),
        "indicator": pa.Column(str, pa.Check.str_matches(INDICATOR_PATTERN)),
        "value": pa.Column(float, pa.Check(np.isfinite, element_wise=True, error="value must be a finite number")),
        "scale_max": pa.Column(float, pa.Check.gt(0), nullable=True),
        "source_id": pa.Column(str),
        "reliability": pa.Column(str, pa.Check.isin(RELIABILITY)),
        "_file": pa.Column(str),
        "_row": pa.Column("Int64", nullable=True),
    },
    checks=[
        pa.Check(_within_scale, error="value outside 0..scale_max for its index and year"),
        pa.Check(_no_zero_scores, error="a score of exactly 0: a missing value written as 0?"),
        pa.Check(_expected_scale, error="scale_max differs from the index's own maximum for that year"),
    ],
    unique=[*KEY, "source_id", "source_ref"],
    report_duplicates="exclude_first",
    strict=False,
    coerce=False,
    name="candidate observations",
)

PANEL = pa.DataFrameSchema(
    {
        "province_code": pa.Column(str, pa.Check.str_matches(r"^\d{2}$")),
        "vintage": pa.Column(str, pa.Check.isin(VINTAGES)),
        "province": pa.Column(str, pa.Check.str_length(min_value=2)),
        "year": pa.Column("Int64", pa.Check.in_range(FIRST_YEAR, LAST_YEAR)),
        "index": pa.Column(str, pa.Check.str_matches(INDEX_PATTERN)),
        "indicator": pa.Column(str, pa.Check.str_matches(INDICATOR_PATTERN)),
        "value": pa.Column(float, pa.Check(np.isfinite, element_wise=True)),
        "scale_max": pa.Column(float, nullable=True),
        "method_version": pa.Column(str, nullable=True),
        "source_id": pa.Column(str),
        "reliability": pa.Column(str, pa.Check.isin(PANEL_RELIABILITY)),
        "rank": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "rank_of": pa.Column("Int64", pa.Check.ge(1), nullable=True),
        "quartile": pa.Column("Int64", pa.Check.in_range(1, 4), nullable=True),
        # which province a row is, where the source names it by another vintage's unit: certain / assumed ("" = as named)
        "identity": pa.Column(str, pa.Check.isin(["", "certain", "assumed"])),
    },
    checks=[pa.Check(lambda d: (d["rank"].isna() | d["rank_of"].isna() | (d["rank"] <= d["rank_of"])).all(), error="rank > rank_of")],
    unique=KEY,
    strict=False,
    name="indicators panel",
)


def validate_candidates(df: pd.DataFrame) -> None:
    """Raise a DataError naming the file, row, column and value of the first failing observation."""
    try:
        CANDIDATES.validate(df, lazy=True)
    except SchemaErrors as exc:
        fc = exc.failure_cases
        first = fc.iloc[0]
        idx = first["index"]
        wide = first.get("schema_context") == "DataFrameSchema"
        column = None if wide or not isinstance(first["column"], str) else first["column"]
        check = str(first["check"])
        if idx is None or (isinstance(idx, float) and np.isnan(idx)) or idx not in df.index:
            raise DataError(f"validation failed: {check}", value=first["failure_case"]) from exc
        row = df.loc[idx]
        col_name = column if column and column in df.columns else "value"
        message = check
        if "unique" in check or "duplicate" in check.lower():
            message = "duplicate observation: the same province, year, index and indicator appear twice in one source"
        raise DataError(
            f"{message} [{row['index']} {row['indicator']} {row['year']}, {row.get('province_raw', row['province_code'])}]",
            file=row["_file"], row=None if pd.isna(row["_row"]) else int(row["_row"]),
            column=str(row["_column"]) if col_name == "value" and not pd.isna(row["_column"]) else col_name,
            value=row.get(col_name),
        ) from exc


def validate_panel(df: pd.DataFrame) -> None:
    try:
        PANEL.validate(df, lazy=True)
    except SchemaErrors as exc:
        first = exc.failure_cases.iloc[0]
        raise DataError(f"processed panel failed validation: {first['check']}", column=str(first["column"]),
                        value=first["failure_case"]) from exc
