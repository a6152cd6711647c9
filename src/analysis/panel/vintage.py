"""Province vintages in analyses: keep the 63 and the 34 apart, and the one rule that carries a 63-province
value to the 34 provinces of 2025.

Codes of the two vintages collide (2025 "24" is Bắc Ninh, 63-province "24" is Bắc Giang), so anything that
pivots, groups or joins by `province_code` first selects one vintage: `in_63` for analyses across the 63
provinces (Hà Tây's gso-1991 rows and national rows included, as before the 2025 codes existed), `in_34`
for the 34 provinces of 2025.

`to_2025` carries 63-province values to the 34 provinces of 2025, computed on demand and never stored: the
panel holds observed values only. A derived row never stands in for a published 2025 value of the same key.

A merged province's value is a weighted mean of its former provinces' values only where a weight exists
that makes it the merged province's value, and the weight depends on what the index averages (`WEIGHTS`):

- PAPI is a mean over the adults sampled in each province: the merged province's mean is the
  population-weighted mean of its parts. The weights are the GSO's 2020 average population of all ages,
  the only population by province in the raw mirror (`letung3105-coviddata`); adult population would be
  better, and the mirror has no age structure by province, so the choice is stated (`derived_caveat`). For
  PAPI 2024 totals, population against equal weights moves a merged value by 0.08 points (median, largest
  1.0), against a provincial SD of 1.8: the all-ages proxy is a second-order issue.
- Every other index is not derived, with the reason (`NOT_DERIVED`, `not_derived_reason`): PCI averages
  firms (weights: firms, not in the mirror), online-service shares average dossiers (weights: dossiers, not
  in the mirror; counts are never averaged), SIPAS averages service users, and DTI, the ICT Index, the
  e-government ranking, the PAR INDEX and the 766 index score a provincial government, which no mean of the
  former governments' scores gives. A researcher's own index is derived only if the caller names its weight
  (`weights={"MY_SURVEY": "population"}`).

Standard errors: where every merged province has one (`se`, e.g. PAPI's published 2019 SEs or the pooled SE
of `stats.uncertainty.year_se`), the derived value has sqrt(sum w_i^2 se_i^2) with the normalised weights,
the provinces' samples being independent. Every derived row shares one more limit the caller must print
(`derived_caveat`, also in the result's `attrs["caveat"]`): a merged province's value, a mean of 2 or 3
former provinces, varies less than an unmerged one's (`n_merged` says which is which)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from ..messages import t
from ..registry import NATIONAL_CODE, VINTAGE_34, VINTAGE_63
from .codebook import index_label, indicator_info
from .schema import KEY

VINTAGES_63 = ("gso-2008", "gso-1991", "national")
AGGREGATION_RULE = ("population-weighted mean (GSO 2020 average population) of the 63-province values of the provinces "
                    "merged into each 2025 province, for indices that are means over residents (PAPI); computed only where "
                    "every merged province has a value; other indices are not derived (to_2025(...).attrs['not_derived'])")
AGGREGATION_RULE_VI = ("trung bình có trọng số dân số (dân số trung bình 2020, GSO) của các tỉnh cũ hợp nhất thành mỗi tỉnh "
                       "năm 2025, cho các chỉ số là trung bình trên người dân (PAPI); chỉ tính khi mọi tỉnh cũ đều có giá trị; "
                       "các chỉ số khác không được suy ra")
WEIGHTS = {"PAPI": "population"}
"""Indices whose merged value is a weighted mean of the former provinces', and the weight. 'population': a
mean over a province's residents (adults, for PAPI)."""
WEIGHT_BASIS = {"population": "GSO 2020 average population (all ages)"}
NOT_DERIVED = {
    "PCI": "stats.derived_2025.not_derived.firms",
    "ONLINE_SERVICES": "stats.derived_2025.not_derived.dossiers",
    "SIPAS": "stats.derived_2025.not_derived.users",
    "DTI": "stats.derived_2025.not_derived.government",
    "ICT_INDEX": "stats.derived_2025.not_derived.government",
    "MIC_EGOV": "stats.derived_2025.not_derived.government",
    "PAR_INDEX": "stats.derived_2025.not_derived.government",
    "DVC766": "stats.derived_2025.not_derived.government",
}
"""Indices with no sensible weight in the mirror, each with the id of its reason in the 'stats' catalog;
any index neither here nor in `WEIGHTS` gets `stats.derived_2025.not_derived.unknown`."""
NOT_AGGREGATED_UNITS = {"rank", "count"}
"""A mean of ranks or counts is not a rank or count of the merged province: such indicators are not carried over."""


def derived_caveat(lang: str = "en") -> str:
    """What a reader of derived 34-province values must be told, in `lang`: the weights (all ages, for want
    of adult population) and the limits (a standard error only where the merged provinces have one; merged
    provinces are means, so smoother)."""
    return f"{t('stats.derived_2025.weights', lang)} {t('stats.derived_2025.caveat', lang)}"


def weighting(index: str, weights: dict[str, str] | None = None) -> str | None:
    """The weight a merged province's value of `index` is computed with ('population'), or None where no
    sensible weight exists in the mirror (`not_derived_reason` says why). `weights` adds or overrides rules
    for a researcher's own indices."""
    rule = {**WEIGHTS, **(weights or {})}.get(index)
    if rule is not None and rule not in WEIGHT_BASIS:
        raise DataError(f"unknown weight for {index}: use one of {sorted(WEIGHT_BASIS)}", column="weights", value=rule)
    return rule


def not_derived_reason(index: str, lang: str = "en") -> str:
    """Why no 2025 value of `index` is derived, in `lang`, for the caller to print beside an empty map or table."""
    vi, en = index_label(index)
    return t(NOT_DERIVED.get(index, "stats.derived_2025.not_derived.unknown"), lang, index=vi if lang == "vi" else en)


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


def to_2025(rows: pd.DataFrame, provinces: pd.DataFrame, published: pd.DataFrame | None = None, se: pd.DataFrame | None = None,
            weights: dict[str, str] | None = None) -> pd.DataFrame:
    """63-province values (panel rows of vintage gso-2008) carried to the 34 provinces of 2025: the weighted
    mean of the merged provinces (`weighting`: population for PAPI), only where all of them have a value (a
    2025 province is never represented by part of its population). One row per 2025 province and key, in the
    panel's columns, with `reliability` "derived", vintage gso-2025, the rule and its inputs in `note`,
    `n_merged` / `n_with_value`, `weight_basis`, and `se` / `se_basis`: sqrt(sum w^2 se^2) over the merged
    provinces where `se` (province_code, year, index, indicator, se[, se_source]) gives every one of them a
    standard error, else NaN. Ranks and counts are not aggregated; Hà Tây's and national rows are not inputs;
    rows of an index without a sensible weight are not derived, and `attrs["not_derived"]` maps each such
    index of the input to its reason (English; `not_derived_reason(index, lang)` for readers). A derived row
    whose key (province, vintage, year, index, indicator, date) has a published value in `published`
    (default: `rows` itself) is dropped: published values win. `attrs["caveat"]` holds `derived_caveat()`
    (weights, SEs, merged units smoother), `attrs["weights"]` the weight used per index."""
    p = provinces[provinces["vintage"] == VINTAGE_63][["province_code", "province", "code_2025", "population_2020"]]
    names = provinces[provinces["vintage"] == VINTAGE_34].set_index("province_code")["province"]
    if len(p) != 63 or p["population_2020"].isna().any() or len(names) != 34:
        raise DataError("the province table lacks the 63 -> 34 merger or the 2020 population; rebuild with `make data`")
    src = rows[(rows["vintage"] == VINTAGE_63) & (rows["province_code"] != NATIONAL_CODE)]
    keep = pd.Series([_aggregable(i, k) for i, k in zip(src["index"], src["indicator"], strict=True)], index=src.index, dtype=bool)
    src = src[keep]  # a Series, not a list: an empty list would select no columns
    rule = {i: weighting(i, weights) for i in sorted(set(src["index"]))}
    not_derived = {i: not_derived_reason(i) for i, r in rule.items() if r is None}
    src = src[src["index"].map(rule).notna()]
    cols = [c for c in rows.columns if c not in ("province_code", "province", "vintage")]
    extra = ["n_merged", "n_with_value", "weight_basis", "se", "se_basis"]
    attrs = {"caveat": derived_caveat(), "not_derived": not_derived, "weights": {i: WEIGHT_BASIS[r] for i, r in rule.items() if r}}
    if src.empty:
        empty = pd.DataFrame(columns=["province_code", "vintage", "province", *cols, *extra])
        empty.attrs.update(attrs)
        return empty
    if src.duplicated(KEY).any():
        raise DataError("to_2025 needs one value per key (select one snapshot or source first)")
    m = src.merge(p, on="province_code", how="left", suffixes=("", "_63"))
    m["date"] = m["date"].fillna("")
    group = ["code_2025", "year", "index", "indicator", "date"]
    size = p.groupby("code_2025").size().rename("n_merged")
    m["w"] = m["population_2020"].astype(float)  # every rule in WEIGHT_BASIS is population so far
    m["wv"] = m["w"] * m["value"]
    se_cols = ["province_code", "year", "index", "indicator"]
    if se is not None and len(se):
        s_in = se.assign(se_source=se.get("se_source", "given"))[[*se_cols, "se", "se_source"]].astype({"year": int})
        m = m.merge(s_in.rename(columns={"se": "se_in"}), on=se_cols, how="left")
    else:
        m = m.assign(se_in=np.nan, se_source=pd.NA)
    m["w2s2"] = m["w"] ** 2 * m["se_in"].astype(float) ** 2
    g = m.groupby(group, sort=True)
    out = g.agg(value_w=("wv", "sum"), weight=("w", "sum"), n_with_value=("value", "size"), scale_max=("scale_max", "first"),
                w2s2=("w2s2", lambda v: v.sum(min_count=len(v))), se_basis=("se_source", lambda v: ", ".join(sorted(set(map(str, v.dropna()))))),
                method_version=("method_version", "first"), sources=("source_id", lambda s: ", ".join(sorted(set(map(str, s))))),
                reliabilities=("reliability", lambda s: ", ".join(sorted(set(map(str, s))))),
                inputs=("province", lambda s: ", ".join(s))).reset_index()
    out = out.merge(size, left_on="code_2025", right_index=True)
    out = out[out["n_with_value"] == out["n_merged"]].copy()
    out["value"] = out["value_w"] / out["weight"]
    out["se"] = np.sqrt(out["w2s2"].astype(float)) / out["weight"]  # NaN unless every merged province has an SE
    out.loc[out["se"].isna(), "se_basis"] = ""
    out["weight_basis"] = out["index"].map(lambda i: WEIGHT_BASIS[rule[i]])
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
    out = out[["province_code", "vintage", "province", *cols, *extra]]
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
    out.attrs.update(attrs)
    return out

