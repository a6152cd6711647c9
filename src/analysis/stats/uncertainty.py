"""A province's own standard errors, and what the published uncertainty columns can be.

PAPI published standard errors for one year in the mirror, 2019 (`data/processed/uncertainty.csv`, read
from `PAPI 2019 FULL vie.xlsx`): for the total an 'Unweighted Standard Error', for each dimension a
'Variance (Dimension k)' with 'Observations'.

Which interval level the SE column implies (what every caller of `own_se` must use). The workbook's
interval headed "95% CI" is exactly +-1.645 SE for every province: 1.645 is the 90% normal quantile. This
package reads the column as the standard error (so the publisher's "95%" interval is a 90% one, and a 95%
interval is +-1.96 SE, as the report cards draw it). The other reading, that the heading is right and the
column is the half-width / 1.645 of a true 95% interval, would make every SE 1.96 / 1.645 = 1.19 times too
large: margins and rank intervals built on it would be about 16% too wide (conservative; the 2019 median
95% rank interval of the total would span 35 places instead of 41). The mirror cannot settle which.

What the dimension column is (checked against the raw workbook, `dimension_variance_check`): of four
readings, only one is not ruled out: the sampling variance of the province's mean dimension score, on the
dimension's own 10-point scale, so that its square root is the dimension's standard error. This is the
reading the package uses; it is the only one consistent with the published total SEs, not one the
publisher documents. Read as standard errors, the 8 columns of every one of the 63 provinces sum to less
than its total SE, which even perfectly correlated dimensions cannot give; read as variances of a 0-1 score
(x 100 on the 10-point scale), the total SE would need an average correlation between the dimension
estimates below -1/7, impossible for 8 equally correlated estimates, in all 63; read as respondent-level
variances (SE = sqrt(var / n)) they are again far too small for the total. As sampling variances of the
means they imply an average correlation between a province's 8 dimension estimates of -0.14 to 0.86
(median 0.04): feasible everywhere, one province (-0.139) near the bound. The total's variance carries the
covariances, so the total SE is below sqrt(sum of dimension variances) where they are negative (26 of 63
provinces): a reason never to build a total's SE from the dimensions or a dimension's from the total. The
implied respondent-level SD (SE x sqrt(observations)) varies 5- to 11-fold between provinces for the same
dimension, and Hà Nội and Hồ Chí Minh City (about 720 respondents against about 200) lack the 3.7 times
smaller variances 1 / n predicts: these are design-based estimates over a few sampled districts and
communes, so each province's SE itself rests on few degrees of freedom.

`own_se` is the one place that says which SE a province-year-indicator has and where it comes from;
`year_se` the SEs a whole year is judged with (published, or one pooled SE where a year has none)."""

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
    "pooled": ("one SE for every province of a year without published SEs: the median of the indicator's published SEs "
               "(2019), rescaled to this year's maximum. A province's 2019 SE reflects the places sampled in 2019 (the "
               "province SEs vary 9-fold, 0.22-1.99 for the total) and the sample changed in 2021, so carrying each "
               "province's own SE would rank it with another year's luck of the draw; the median keeps only the typical "
               "precision of a provincial sample, which PAPI's design (about 200 respondents a province) kept"),
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
    a change of scale aside). A carried SE is a statement about the province's 2019 sample, not about its
    items or about a later sample: the caller must say it is carried and, where `comparable_with_se_year`
    is False, across a break. Whatever judges a whole year at once (rank intervals) uses `year_se`.

    Interval level: `se` is the standard error as the workbook's column gives it; a 95% interval is +-1.96
    se. The workbook's own interval headed "95% CI" is +-1.645 se (a 90% interval under this reading; see
    the module text for the other reading and what it would change)."""
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


def year_se(own: pd.DataFrame, year: int, indicator: str) -> pd.DataFrame:
    """The standard errors one year of `indicator` is judged with, from `own_se` rows: the published ones
    where the year has them, else the pooled SE (`SE_SOURCES["pooled"]`) for every province alike: the
    median of the indicator's SEs in the nearest published year, times this year's maximum over that year's.
    Rows as `own` (province_code, province, value, se, se_source, se_year, scale_ratio,
    comparable_with_se_year), indexed by province_code; empty if no SE exists for the indicator."""
    g = own[(own["year"] == int(year)) & (own["indicator"] == indicator) & (own["se_source"] != "none")].set_index("province_code")
    if g.empty or (g["se_source"] == "published").all():
        return g
    se_year = int(g["se_year"].dropna().iloc[0])
    ref = own[(own["year"] == se_year) & (own["indicator"] == indicator) & (own["se_source"] == "published")]
    ratio = g["scale_ratio"].astype(float)
    return g.assign(se=float(ref["se"].median()) * ratio, se_source="pooled")


def dimension_variance_check(uncertainty: pd.DataFrame, index: str = "PAPI", year: int = 2019) -> pd.DataFrame:
    """Per province, the published total SE against the published dimension variances under the reading
    'sampling variance of the dimension mean' (the only reading of four not ruled out; see the module text): sqrt of their sum (the total SE if the
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
