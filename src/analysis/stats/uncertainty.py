"""A province's own standard errors, and what the published uncertainty columns are.

PAPI published standard errors for one year in the mirror, 2019 (`data/processed/uncertainty.csv`, read
from `PAPI 2019 FULL vie.xlsx`): for the total an 'Unweighted Standard Error' (its interval, headed 95%,
is +-1.645 SE), for each dimension a 'Variance (Dimension k)' with 'Observations'.

What the dimension column is (checked against the raw workbook, `dimension_variance_check`): the sampling
variance of the province's mean dimension score, on the dimension's own 10-point scale, so its square root
is the dimension's standard error. Of four readings only this one fits every province: read as standard
errors, the 8 columns of every one of the 63 provinces sum to less than its total SE, which even perfectly
correlated dimensions cannot give; read as variances of a 0-1 score (x 100 on the 10-point scale), the
total SE would need an average correlation between the dimension estimates below -1/7, impossible for 8
equally correlated estimates, in all 63; read as respondent-level variances (SE = sqrt(var / n)) they are
again far too small for the total. As sampling variances of the means they imply an average correlation
between a province's 8 dimension estimates of -0.14 to 0.86 (median 0.04): feasible everywhere. The
total's variance carries the covariances, so the total SE is below sqrt(sum of dimension variances) where
they are negative (26 of 63 provinces): not an error, but a reason never to build a total's SE from the
dimensions or a dimension's from the total. The implied respondent-level SD (SE x sqrt(observations))
varies ninefold between provinces for the same dimension (0.5-4.7 for participation), which a simple
random sample would not give: these are design-based estimates over a few sampled districts and communes,
so each province's SE itself rests on few degrees of freedom.

`own_se` is the one place that says which SE a province-year-indicator has and where it comes from."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..panel import codebook
from ..panel.codebook import RANKING_RELIABILITY
from .common import annual

SE_SOURCES = {
    "published": "the publisher's standard error of this province, year and indicator",
    "carried": ("the province's published standard error of the nearest year that has one, rescaled to this year's maximum: "
                "a proxy resting on the province's sample (about 200 respondents, 720 in the five largest provinces) "
                "being drawn the same way each year; `comparable_with_se_year` says whether the indicator measures "
                "the same thing in both years"),
    "none": "no standard error of this province and indicator was published in any year",
}


def published_se(uncertainty: pd.DataFrame, index: str = "PAPI") -> pd.DataFrame:
    """The publisher's standard errors of `index`: province_code, year, indicator, se, n_respondents."""
    u = uncertainty[uncertainty["index"] == index]
    out = u[["province_code", "year", "indicator", "se", "n_respondents"]].copy()
    return out.astype({"year": int, "se": float, "n_respondents": float}).reset_index(drop=True)


def own_se(panel: pd.DataFrame, uncertainty: pd.DataFrame, index: str = "PAPI") -> pd.DataFrame:
    """Per province, year and indicator of `index` that has a published score (official or compiled
    annual rows) and a published SE in some year: value, se, `se_source` ('published', 'carried' or
    'none'; see `SE_SOURCES`), `se_year` (the year the SE was published), `scale_ratio` (this year's
    maximum over that year's) and `comparable_with_se_year` (no non-comparable break between the two years,
    a change of scale aside). A carried SE is a statement about the province's sample, not about its
    items: across a break it is still that province's best available measure of sampling noise (better
    than another province's or a national median, which also come from 2019), but the caller must say it
    is carried and, where `comparable_with_se_year` is False, across a break."""
    pub = published_se(uncertainty, index)
    have = set(pub["indicator"])
    a = annual(panel)
    rows = a[(a["index"] == index) & a["indicator"].isin(have) & a["reliability"].isin(RANKING_RELIABILITY)]
    rows = rows[["province_code", "province", "year", "indicator", "value", "scale_max"]].astype({"year": int})
    years_of = pub.groupby(["province_code", "indicator"])["year"].agg(lambda y: sorted(int(v) for v in y)).to_dict()
    se_of = {(c, int(y), i): float(s) for c, y, i, s in zip(pub["province_code"], pub["year"], pub["indicator"], pub["se"], strict=True)}
    out = []
    for code, year, ind, scale in zip(rows["province_code"], rows["year"], rows["indicator"], rows["scale_max"], strict=True):
        years = years_of.get((code, ind), [])
        if not years:
            out.append((np.nan, "none", pd.NA, np.nan, pd.NA))
            continue
        y = min(years, key=lambda v: (abs(v - year), -v))  # the nearest year with an SE; the later one on a tie
        at = codebook.expected_scale_max(index, ind, y) or float(scale)
        ratio = float(scale) / at
        ok = codebook.comparable(index, ind, y, year, relative=True)[0]
        out.append((se_of[(code, y, ind)] * ratio, "published" if y == year else "carried", y, ratio, ok))
    extra = pd.DataFrame(out, index=rows.index, columns=["se", "se_source", "se_year", "scale_ratio", "comparable_with_se_year"])
    result = pd.concat([rows, extra], axis=1).sort_values(["year", "indicator", "province_code"]).reset_index(drop=True)
    return result.astype({"se_year": "Int64", "comparable_with_se_year": "boolean"})


def dimension_variance_check(uncertainty: pd.DataFrame, index: str = "PAPI", year: int = 2019) -> pd.DataFrame:
    """Per province, the published total SE against the published dimension variances under the reading
    'sampling variance of the dimension mean' (see the module text): sqrt of their sum (the total SE if the
    dimension estimates were uncorrelated), the sum of their square roots (the largest total SE any
    correlation allows), the average correlation between the dimension estimates that the total SE implies,
    whether that is feasible (between -1/(K-1) and 1), and the implied respondent-level SD of each dimension
    (SE x sqrt(observations))."""
    u = uncertainty[(uncertainty["index"] == index) & (uncertainty["year"] == year)]
    total = u[u["indicator"] == "total"].set_index("province_code")["se"].astype(float)
    dims = u[u["indicator"] != "total"]
    sd = dims.pivot_table(index="province_code", columns="indicator", values="se").reindex(total.index).to_numpy(float)
    n = dims.groupby("province_code")["n_respondents"].first().reindex(total.index).to_numpy(float)
    k = sd.shape[1]
    s1, s2 = sd.sum(axis=1), (sd**2).sum(axis=1)
    pairs = (s1**2 - s2) / 2  # sum over j < k of sd_j sd_k
    implied = (total.to_numpy() ** 2 - s2) / (2 * pairs)
    out = pd.DataFrame({"total_se": total.to_numpy(), "se_if_uncorrelated": np.sqrt(s2), "se_if_perfectly_correlated": s1,
                        "implied_mean_correlation": implied, "feasible": (implied >= -1 / (k - 1)) & (implied <= 1),
                        "respondent_sd_min": np.nanmin(sd * np.sqrt(n)[:, None], axis=1),
                        "respondent_sd_max": np.nanmax(sd * np.sqrt(n)[:, None], axis=1)}, index=total.index)
    return out
