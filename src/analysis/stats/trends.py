"""Trends per province (Mann-Kendall with Sen's slope), and ranks and z-scores that stay comparable
across methodology breaks such as PAPI's 2018 redesign."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymannkendall as mk

from ..panel.vintage import in_63


def series(panel: pd.DataFrame, index: str, indicator: str, years: list[int] | None = None) -> pd.DataFrame:
    panel = in_63(panel)  # one province coding: 2025 codes reuse old codes of other provinces
    s = panel[(panel["index"] == index) & (panel["indicator"] == indicator) & (panel["province_code"] != "00")
              & (panel["date"].fillna("") == "")]
    if years:
        s = s[s["year"].isin(years)]
    return s


def zscores(s: pd.DataFrame) -> pd.Series:
    """Within-year z-score: distance from that year's provincial mean in standard deviations."""
    g = s.groupby("year")["value"]
    return (s["value"] - g.transform("mean")) / g.transform("std", ddof=1)


def mann_kendall(values: pd.Series, years: pd.Series, min_n: int = 5) -> dict:
    """Mann-Kendall test and Sen slope (units per year) on one province's yearly series."""
    order = np.argsort(years.to_numpy())
    v, y = values.to_numpy(float)[order], years.to_numpy(int)[order]
    n = len(v)
    if n < min_n:
        return {"n": n, "trend": f"too few years (N < {min_n})", "p": np.nan, "tau": np.nan, "sen_slope": np.nan}
    if np.any(np.diff(y) != 1):
        # Sen slope per year on an irregular series: pairwise slopes over actual year gaps
        i, j = np.triu_indices(n, 1)
        slope = float(np.median((v[j] - v[i]) / (y[j] - y[i])))
    else:
        slope = None
    r = mk.original_test(v)
    return {"n": n, "trend": r.trend, "p": float(r.p), "tau": float(r.Tau), "sen_slope": float(r.slope if slope is None else slope)}


def province_trends(s: pd.DataFrame, min_n: int = 5) -> pd.DataFrame:
    rows = [{"province_code": code, "province": g["province"].iloc[0], **mann_kendall(g["value"], g["year"], min_n)}
            for code, g in s.groupby("province_code")]
    return pd.DataFrame(rows)


def rank_changes(s: pd.DataFrame, first: int, last: int) -> pd.DataFrame:
    """Rank in `first` and `last` (1 = best) and the places gained; comparable across scale changes."""
    a = s[s["year"] == first].set_index("province_code")
    b = s[s["year"] == last].set_index("province_code")
    both = a.index.intersection(b.index)
    out = pd.DataFrame({"province": b.loc[both, "province"], f"rank_{first}": a.loc[both, "rank"].astype(int),
                        f"rank_{last}": b.loc[both, "rank"].astype(int)})
    out["places_gained"] = out[f"rank_{first}"] - out[f"rank_{last}"]
    return out.sort_values("places_gained", ascending=False)
