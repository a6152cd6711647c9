"""PCI adapters: the official VCCI workbooks 2005-2019 read through the layout guide `PCI_Import.csv`
(sheet, first/last row and 1-based column of every sub-index per year), and the cleaned long panels."""

from __future__ import annotations

import csv
from typing import Any

import pandas as pd

from ..errors import DataError
from ..manifest import Source
from .common import Context, obs_frame, parse_number, read_sheet

LAYOUT_COLUMNS = {
    "Entry Costs": "entry",
    "Land Access and Security of Tenure": "land",
    "Transparency and Access to Information": "transparency",
    "Time Costs and Regulatory Compliance": "time",
    "Informal Charges": "informal",
    "Implementation and Consistency of Policies": "implementation",
    "Policy Bias - SOEs only": "soe_bias",
    "Policy Bias": "equal_competition",
    "Proactivity of Provincial Leadership": "proactivity",
    "Business Support Services": "business_support",
    "Labor and Training": "labor",
    "Legal Institutions": "legal",
    "Weighted Col": "total",
}
CLEANED_COLUMNS = {
    "pci_entry": "entry", "pci_land": "land", "pci_transparency": "transparency", "pci_time": "time",
    "pci_informal": "informal", "pci_implement": "implementation", "pci_bias_old": "soe_bias",
    "pci_proactive": "proactivity", "pci_support": "business_support", "pci_labor": "labor",
    "pci_legal": "legal", "pci_weighted": "total",
}
# Documented errata (mirror SOURCE.md): in PCI_cleaned the 2014 weighted scores of five provinces whose
# Vietnamese names start with Đ were swapped by the cleaning script. The official workbook is right.
ERRATA_2014_SWAPPED = {"Da Nang", "Dong Thap", "Dak Lak", "Dong Nai", "Dak Nong"}


def method_version(year: int) -> str:
    if year == 2005:
        return "pci-2005"
    if year <= 2008:
        return "pci-2006"
    if year <= 2012:
        return "pci-2009"
    return "pci-2013"


def _record(name: str, year: int, indicator: str, value: float, file: str, row: int, column: str, note: str = "") -> dict[str, Any]:
    return {
        "province_raw": name, "year": year, "index": "PCI", "indicator": indicator, "value": value,
        "scale_max": 100.0 if indicator == "total" else 10.0, "method_version": method_version(year), "note": note,
        "source_ref": file.rsplit("/", 1)[-1], "_file": file, "_row": row, "_column": column, "_tol": 1e-3,
    }


def read_workbook(src: Source, ctx: Context) -> pd.DataFrame:
    year = int(src.year or 0)
    layout_path = ctx.raw["pci_layout"]
    with open(layout_path, encoding="utf-8") as fh:
        layout = {int(r["Year"]): r for r in csv.DictReader(fh)}
    if year not in layout:
        raise DataError("no layout for this year", file=layout_path, column="Year", value=year)
    lay = layout[year]
    sheet = int(lay["Sheet"]) - 1
    rows = read_sheet(src.local_path, sheet)
    file = f"{src.local_path}[sheet {sheet + 1}]"
    first, last = int(lay["Begin Row"]), int(lay["End Row"])
    if len(rows) < last:
        raise DataError(f"sheet ends at row {len(rows)}, layout expects data to row {last}", file=file)
    province_col = int(lay["Province"])
    recs: list[dict[str, Any]] = []
    for label, code in LAYOUT_COLUMNS.items():
        col = lay.get(label, "").strip()
        if not col:
            continue
        c = int(col) - 1
        name_c = province_col - 1 if province_col > 0 else c - 1  # 0: (province, score) pairs sorted by rank
        seen: set[str] = set()
        for r in range(first, last + 1):
            row = rows[r - 1]
            name = row[name_c] if name_c < len(row) else None
            value = parse_number(row[c] if c < len(row) else None, file=file, row=r, column=f"{label} (col {c + 1})")
            if name is None or not str(name).strip():
                if value is not None:
                    raise DataError("score without a province name", file=file, row=r, column=f"col {name_c + 1}", value=value)
                continue
            name = str(name).strip()
            if name in seen:
                raise DataError("province listed twice in one column", file=file, row=r, column=f"col {name_c + 1}", value=name)
            seen.add(name)
            if value is not None:
                recs.append(_record(name, year, code, value, file, r, label))
    return obs_frame(recs)


def read_cleaned(src: Source, ctx: Context) -> pd.DataFrame:
    """A cleaned long panel (prov, year, pci_*). In the R-package copy `pci_bias` is the SOE-bias index
    to 2008 and the equal-competition index from 2013; `pci_unweighted` is not a real total and is skipped."""
    file = str(src.local_path)
    df = pd.read_csv(src.local_path, dtype=str, keep_default_na=False)
    for col in ("prov", "year", "pci_weighted"):
        if col not in df.columns:
            raise DataError("missing column", file=file, row=1, column=col)
    recs: list[dict[str, Any]] = []
    for i, row in enumerate(df.to_dict("records"), start=2):
        year = int(row["year"])
        if not row["prov"].strip():  # the R-package copy lost the names of 50 PCI 2013 rows
            ctx.exclude(src.id, file, i, "province name missing in the source", row)
            continue
        for col, raw in row.items():
            if col == "pci_bias":
                code = "soe_bias" if year <= 2008 else "equal_competition"
            else:
                code = CLEANED_COLUMNS.get(col)
            if code is None:
                continue
            v = parse_number(raw, file=file, row=i, column=col)
            if v is None:
                continue
            note = ""
            if src.id == "pci_cleaned" and year == 2014 and code == "total" and row["prov"] in ERRATA_2014_SWAPPED:
                note = "known errata: 2014 weighted score swapped by the cleaning script (mirror SOURCE.md); official value kept"
            recs.append(_record(row["prov"], year, code, v, file, i, col, note))
    return obs_frame(recs)
