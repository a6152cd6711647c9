"""The provincial Digital Transformation Index (DTI) 2022-2024 of all 63 provinces: the total and four of the
eight main indices, as dti.gov.vn published them (`dti_2022_2024_pmnm/bang_1.csv`, a dashboard's
transcription checked against the ministry's 2022 rank list and its 2023 and 2024 national means).

One row per province and year; every cell is a score on 0-1. The file has no rank column: ranks are computed
by the build among these rows (the codebook's `computed_ranks`) and compared with the published 2022 rank list
and the press's ranks in crosschecks.csv. Names are the 63 provinces' (2024 rows are the pre-merger
provinces, not the ministry's 34-province headline ranking of 2024)."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from ..errors import DataError
from ..manifest import Source
from .common import Context, decimals_tolerance, obs_frame, parse_number, read_csv_table, validate_table

PROVINCE, YEAR = "TinhThanh", "Nam"
COLUMNS = {
    "DTI_Tong": "total",
    "DTI_ChinhQuyenSo": "digital_government_activity",
    "DTI_KinhTeSo": "digital_economy_activity",
    "DTI_XaHoiSo": "digital_society_activity",
    "HaTangSo": "digital_infrastructure",
}
METHOD_VERSION = "dti-2022"
"""The ministry's framework of 2022 (Quyết định 922/QĐ-BTTTT), whose eight main indices every year of the file
names; changes of indicators or weights between 2022, 2023 and 2024 are not documented in the mirror (codebook)."""
_SCORE = pa.Column(float, pa.Check.in_range(0, 1), nullable=True)
SCHEMA = pa.DataFrameSchema(
    {PROVINCE: pa.Column(str, pa.Check.str_length(min_value=2)),
     YEAR: pa.Column(int, pa.Check.in_range(2020, 2030)),
     **{c: _SCORE for c in COLUMNS}},
    unique=[PROVINCE, YEAR], report_duplicates="exclude_first", name="DTI table (0-1 scores, one row per province and year)",
)


def read_dti_yearly(src: Source, ctx: Context) -> pd.DataFrame:
    file = str(src.local_path)
    raw = read_csv_table(src.local_path, [PROVINCE, *COLUMNS, YEAR])
    parsed = pd.DataFrame({PROVINCE: raw[PROVINCE].str.strip()})
    for c in COLUMNS:
        parsed[c] = [parse_number(v, file=file, row=i, column=c) for i, v in enumerate(raw[c], start=2)]
        parsed[c] = parsed[c].astype(float)
    years = [parse_number(v, file=file, row=i, column=YEAR) for i, v in enumerate(raw[YEAR], start=2)]
    for i, y in enumerate(years, start=2):
        if y is None or y != int(y):
            raise DataError("the year must be a whole number", file=file, row=i, column=YEAR, value=raw[YEAR].iloc[i - 2])
    parsed[YEAR] = [int(y) for y in years]
    validate_table(parsed, SCHEMA, file)
    recs = []
    for i, r in enumerate(parsed.to_dict("records"), start=2):
        for col, code in COLUMNS.items():
            if pd.isna(r[col]):  # a blank cell: not published
                ctx.exclude(src.id, file, i, f"blank {col}: not published", r[PROVINCE])
                continue
            recs.append({
                "province_raw": r[PROVINCE], "vintage": None, "year": r[YEAR], "index": "DTI", "indicator": code, "value": r[col],
                "scale_max": 1.0, "method_version": METHOD_VERSION, "date": None, "rank": None, "rank_of": None, "grade": None,
                "note": "", "source_ref": f"{src.upstream.get('path', src.path)} (dti.gov.vn, {r[YEAR]})", "_file": file, "_row": i,
                "_column": col, "_tol": decimals_tolerance(raw.at[i - 2, col]),
            })
    if not recs:
        raise DataError("no DTI rows", file=file)
    return obs_frame(recs)
