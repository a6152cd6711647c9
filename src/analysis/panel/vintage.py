"""Province vintages in analyses: keep the 63 and the 34 apart, and the one rule that carries a 63-province
value to the 34 provinces of 2025.

Codes of the two vintages collide (2025 "24" is Bắc Ninh, 63-province "24" is Bắc Giang), so anything that
pivots, groups or joins by `province_code` first selects one vintage: `in_63` for analyses across the 63
provinces (Hà Tây's gso-1991 rows and national rows included, as before the 2025 codes existed), `in_34`
for the 34 provinces of 2025.

`to_2025` is the aggregation rule, computed on demand and never stored: the panel holds observed values
only. A derived row never stands in for a published 2025 value of the same key.

The weights are the GSO's 2020 average population of all ages, the only population by province in the
raw mirror (`letung3105-coviddata`; the province catalogue has none). PAPI samples adults (18 and over),
so adult population would be the right weight for it; the mirror has no age structure by province, so
the choice is stated instead (`derived_caveat`): provinces with more children weigh slightly more than
their adults would. Every derived row, whatever the index, shares two limits the caller must print
where it is used (`derived_caveat`, also in the result's `attrs["caveat"]`): it carries no standard error,
and a merged province's value, a mean of 2 or 3 former provinces, varies less than an unmerged one's
(`n_merged` says which is which)."""

from __future__ import annotations

import pandas as pd

from ..errors import DataError
from ..messages import t
from ..registry import NATIONAL_CODE, VINTAGE_34, VINTAGE_63
from .codebook import indicator_info
from .schema import KEY

VINTAGES_63 = ("gso-2008", "gso-1991", "national")
AGGREGATION_RULE = ("population-weighted mean (GSO 2020 average population) of the 63-province values of the provinces "
                    "merged into each 2025 province; computed only where every merged province has a value")
AGGREGATION_RULE_VI = ("trung bình có trọng số dân số (dân số trung bình 2020, GSO) của các tỉnh cũ hợp nhất thành mỗi tỉnh "
                       "năm 2025; chỉ tính khi mọi tỉnh cũ đều có giá trị")
NOT_AGGREGATED_UNITS = {"rank", "count"}
"""A mean of ranks or counts is not a rank or count of the merged province: such indicators are not carried over."""


def derived_caveat(lang: str = "en") -> str:
    """What a reader of derived 34-province values must be told, in `lang`: the weights (all ages, for want
    of adult population) and the limits (no standard error; merged provinces are means, so smoother)."""
    return f"{t('stats.derived_2025.weights', lang)} {t('stats.derived_2025.caveat', lang)}"


def in_63(panel: pd.DataFrame) -> pd.DataFrame:
    """Rows coded in the 63-province vintage (with Hà Tây and the national rows): what every analysis across
    the 63 provinces, and every pivot by province_code over years up to 2025, must start from."""
    return panel[panel["vintage"].isin(VINTAGES_63)]


def in_34(panel: pd.DataFrame) -> pd.DataFrame:
    """Rows coded in the 2025 vintage (the 34 provinces from 1 July 2025)."""
    return panel[panel["vintage"] == VINTAGE_34]


def _aggregable(index: str, indicator: str) -> bool:
    unit = (indicator_info(index, indicator) or {}).get("unit")
    return not indicator.endswith("_rank") and unit not in NOT_AGGREGATED_UNITS


def to_2025(rows: pd.DataFrame, provinces: pd.DataFrame, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """63-province values (panel rows of vintage gso-2008) carried to the 34 provinces of 2025 by one rule:
    the population-weighted mean of the merged provinces, only where all of them have a value (a 2025
    province is never represented by part of its population). One row per 2025 province and key, in the
    panel's columns, with `reliability` "derived", vintage gso-2025, the rule and its inputs in `note`, and
    `n_merged` / `n_with_value`. Ranks and counts are not aggregated; Hà Tây's and national rows are not
    inputs. A derived row whose key (province, vintage, year, index, indicator, date) has a published value
    in `published` (default: `rows` itself) is dropped: published values win. `attrs["caveat"]` holds
    `derived_caveat()` (weights, no SE, merged units smoother), for the caller to print."""
    p = provinces[provinces["vintage"] == VINTAGE_63][["province_code", "province", "code_2025", "population_2020"]]
    names = provinces[provinces["vintage"] == VINTAGE_34].set_index("province_code")["province"]
    if len(p) != 63 or p["population_2020"].isna().any() or len(names) != 34:
        raise DataError("the province table lacks the 63 -> 34 merger or the 2020 population; rebuild with `make data`")
    src = rows[(rows["vintage"] == VINTAGE_63) & (rows["province_code"] != NATIONAL_CODE)]
    keep = [_aggregable(i, k) for i, k in zip(src["index"], src["indicator"], strict=True)]
    src = src[keep]
    cols = [c for c in rows.columns if c not in ("province_code", "province", "vintage")]
    if src.empty:
        empty = pd.DataFrame(columns=["province_code", "vintage", "province", *cols, "n_merged", "n_with_value"])
        empty.attrs["caveat"] = derived_caveat()
        return empty
    if src.duplicated(KEY).any():
        raise DataError("to_2025 needs one value per key (select one snapshot or source first)")
    m = src.merge(p, on="province_code", how="left", suffixes=("", "_63"))
    m["date"] = m["date"].fillna("")
    group = ["code_2025", "year", "index", "indicator", "date"]
    size = p.groupby("code_2025").size().rename("n_merged")
    m["w"] = m["population_2020"].astype(float)
    m["wv"] = m["w"] * m["value"]
    g = m.groupby(group, sort=True)
    out = g.agg(value_w=("wv", "sum"), weight=("w", "sum"), n_with_value=("value", "size"), scale_max=("scale_max", "first"),
                method_version=("method_version", "first"), sources=("source_id", lambda s: ", ".join(sorted(set(map(str, s))))),
                reliabilities=("reliability", lambda s: ", ".join(sorted(set(map(str, s))))),
                inputs=("province", lambda s: ", ".join(s))).reset_index()
    out = out.merge(size, left_on="code_2025", right_index=True)
    out = out[out["n_with_value"] == out["n_merged"]].copy()
    out["value"] = out["value_w"] / out["weight"]
    out["province_code"] = out["code_2025"]
    out["vintage"] = VINTAGE_34
    out["province"] = out["province_code"].map(names)
    out["reliability"] = "derived"
    out["source_id"] = "derived:to_2025(" + out["sources"] + ")"
    out["note"] = "derived: " + AGGREGATION_RULE + "; inputs (" + out["reliabilities"] + "): " + out["inputs"]
    out["source_ref"] = ""
    for c in cols:
        if c not in out:
            out[c] = pd.NA
    out = out[["province_code", "vintage", "province", *cols, "n_merged", "n_with_value"]]
    pub = rows if published is None else published
    pub = pub[pub["vintage"] == VINTAGE_34]
    if len(pub):
        have = pd.MultiIndex.from_frame(pub[KEY].assign(date=pub["date"].fillna("")).astype(str))
        mine = pd.MultiIndex.from_frame(out[KEY].astype(str))
        out = out[~mine.isin(have)]
    for c in ("rank", "rank_of", "quartile", "year"):
        if c in out:
            out[c] = out[c].astype("Int64")
    out["value"] = out["value"].astype(float)
    out = out.reset_index(drop=True)
    out.attrs["caveat"] = derived_caveat()
    return out

