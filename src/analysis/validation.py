"""How far the panel agrees with the publishers and the press: every cross-source comparison grouped
into families (official layouts, compiled vs official, press vs panel), with agreement rates. Snapshots of a
year-to-date index at different cut-offs (status "different cut-off") are a family of their own and never
enter an agreement rate: a later measurement is not a second opinion on the same value."""

from __future__ import annotations

import numpy as np
import pandas as pd

FAMILY_ORDER = [
    "PAPI sub-dimension compilation vs official workbook",
    "PAPI per-year workbook vs combined official workbook",
    "PCI cleaned panels vs official workbooks",
    "press and articles vs panel",
    "press vs press",
    "snapshots at another cut-off (year-to-date index)",
]
CUTOFF_STATUS = "different cut-off"


def family(row: pd.Series) -> str:
    other, kept = str(row["other_source_id"]), str(row["kept_source_id"])
    if row.get("status") == CUTOFF_STATUS:
        return FAMILY_ORDER[5]
    if other.startswith("papi_subdims_"):
        return FAMILY_ORDER[0]
    if other.startswith("papi_official_"):
        return FAMILY_ORDER[1]
    if other in ("pci_cleaned", "pci_vietnamdata"):
        return FAMILY_ORDER[2]
    if row["other_reliability"] in ("reported", "user") and row.get("kept_reliability") in ("reported", "user"):
        return FAMILY_ORDER[4]
    if row["other_reliability"] in ("reported", "user"):
        return FAMILY_ORDER[3]
    return f"{kept} vs {other}"


def with_families(checks: pd.DataFrame) -> pd.DataFrame:
    out = checks.copy()
    out["family"] = out.apply(family, axis=1) if len(out) else pd.Series(dtype=str)
    out["agrees"] = out["status"] == "agree"
    out["comparable"] = out["status"] != CUTOFF_STATUS  # a same-key comparison (agreement test)
    return out


def agreement(checks: pd.DataFrame) -> pd.DataFrame:
    """Comparisons, agreements and the agreement rate per family, index, kind and source."""
    c = with_families(checks)
    c = c[c["comparable"]]
    c["source"] = c["other_source_id"].str.replace(r"_\d{4}$", "_YYYY", regex=True)
    g = c.groupby(["family", "index", "kind", "source"], sort=False)
    out = g.agg(compared=("agrees", "size"), agree=("agrees", "sum")).reset_index()
    out["rate"] = out["agree"] / out["compared"]
    out["family"] = pd.Categorical(out["family"], [*FAMILY_ORDER, *sorted(set(out["family"]) - set(FAMILY_ORDER))], ordered=True)
    return out.sort_values(["family", "index", "kind", "source"]).reset_index(drop=True)


def reported_papi_pci(checks: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Every PAPI and PCI value or rank reported in the press or the articles, with its status against the
    panel; reported values the panel cannot check (national figures, years outside coverage) are listed too."""
    c = with_families(checks)
    rep = c[(c["family"] == FAMILY_ORDER[3]) & c["index"].isin(["PAPI", "PCI"])]
    compared = rep[["province", "year", "index", "indicator", "kind", "other_value", "kept_value", "kept_source_id", "other_source_id",
                    "other_source_ref", "status"]].rename(columns={"other_value": "reported", "kept_value": "panel",
                                                                    "kept_source_id": "panel_source", "other_source_id": "source"})
    own = panel[panel["index"].isin(["PAPI", "PCI"]) & (panel["reliability"] == "reported")]
    unchecked = own.assign(kind="value", reported=own["value"], panel=np.nan, panel_source="", source=own["source_id"],
                           other_source_ref=own["source_ref"], status="no panel value to compare")
    unchecked = unchecked[~unchecked["indicator"].str.endswith("_rank") | ~unchecked.set_index(
        ["province", "year", "index", "indicator"]).index.isin(compared.set_index(["province", "year", "index", "indicator"]).index)]
    cols = list(compared.columns)
    return pd.concat([compared, unchecked[cols]], ignore_index=True).sort_values(["index", "year", "province", "indicator", "kind"])


def cutoff_summary(checks: pd.DataFrame) -> pd.DataFrame:
    """The snapshots of a year-to-date index compared at different cut-offs: per source pair, kind and
    indicator, how many, and the median and largest absolute difference (points, or places for ranks)."""
    c = checks[checks["status"] == CUTOFF_STATUS]
    if c.empty:
        return pd.DataFrame(columns=["index", "kind", "kept_source_id", "other_source_id", "indicator", "compared",
                                     "median_abs_difference", "max_abs_difference"])
    g = c.groupby(["index", "kind", "kept_source_id", "other_source_id", "indicator"], sort=True)["difference"]
    out = g.agg(compared="size", median_abs_difference="median", max_abs_difference="max").reset_index()
    return out
