"""Interrupted time series for a change that hit every province at once (Decree 45/2020, effective
22 May 2020), on yearly data.

Because every province is treated in the same year, the time terms are identified only by the yearly
national means: province-level regressions with province-clustered errors treat 60 x 7 values as
independent evidence about 7 points in time and ignore every shock common to a year (COVID-19 among
them). The honest test aggregates to the level at which the treatment varies (Donald and Lang 2007):
the yearly mean over provinces, then the segmented regression

    m_t = a + b*(t - t0) + c*post_t + d*(t - t0)*post_t + e_t

by OLS on the T yearly means with T - 4 residual degrees of freedom and t-based intervals. Nothing is
estimated from fewer than three pre-years (`min_pre`): a line through two points fits them exactly, so the
pre-trend, and with it the counterfactual the level change is measured against, cannot be checked. Where
the fit is refused, `interrupted` still returns a description without a test: the step into the break
year against the earlier year-on-year steps (`before_after`). The level
term is confounded by design with everything else that changed in the break year (COVID-19, and for PAPI
the switch to the compiled files): `CONFOUNDED` names those, and p-values are adjusted (Holm) across
every term of every indicator fitted together (`adjust`). Nothing here is a causal effect.

The series is the share of the maximum (a pure rescale, such as PAPI d8.1 going from 5 to 3.33 points in
2019, then changes nothing), and only over years the codebook says are comparable with the break year *for a
national mean* (`codebook.comparable(..., comparison="national")`): `comparable_window` drops every year
across a composition change or a discontinuity that reaches national levels, and if fewer than `min_pre`
pre-years or `min_post` post-years remain, nothing is estimated and the reason is returned. A break scoped
to province comparisons only (PAPI 2021: the provinces change places, the evidence says nothing against the
national level) stays inside the window as a caveat the output prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from ..errors import DataError
from ..panel import codebook
from .common import holm, provenance, share_of_max

TERMS = ["pre-trend per year", "level change at break", "trend change after break"]
MIN_PRE = 3
CONFOUNDED = {2020: "Decree 45/2020, COVID-19 distancing and (PAPI) the switch from official workbooks to compiled files"}


COMPARISON = "national"  # the ITS compares yearly national means


def comparable_window(index: str, indicator: str, years: list[int], break_year: int) -> tuple[list[int], list]:
    """The years of `years` whose national means (on the share of the maximum) are comparable with
    `break_year`'s, and the breaks that cut the others off."""
    segs = codebook.segments(index, indicator, years, relative=True, comparison=COMPARISON)
    mine = next((s for s in segs if break_year in s), [])
    cut = []
    for y in sorted(years):
        if y not in mine:
            ok, found = codebook.comparable(index, indicator, y, break_year, relative=True, comparison=COMPARISON)
            cut += [b for b in found if not b.comparable_for(COMPARISON) and b.kind != "scale" and b not in cut]
    return mine, cut


def yearly_means(s: pd.DataFrame, balanced: bool = True) -> pd.DataFrame:
    """Mean share of the maximum over provinces by year, with N provinces and the provenance of the values.
    `balanced` keeps only provinces with a value in every year, so a year's mean does not move because
    three provinces went unscored (PAPI 2021)."""
    if balanced and not s.empty:
        counts = s.groupby("province_code")["year"].nunique()
        s = s[s["province_code"].isin(counts[counts == s["year"].nunique()].index)]
    s = s.assign(share=share_of_max(s))
    g = s.groupby("year")
    return pd.DataFrame({"mean_share": g["share"].mean(), "sd_share": g["share"].std(ddof=1), "n_provinces": g["province_code"].nunique(),
                         "reliability": g["reliability"].agg(provenance)})


def segmented_means(means: pd.Series, break_year: int, alpha: float = 0.05) -> pd.DataFrame:
    """OLS of the segmented model on yearly means (index = year). Returns the three terms with estimate,
    SE, t-based (1 - alpha) interval, p and residual df = T - 4; with df < 1 only the estimates."""
    t = means.index.to_numpy(int) - break_year
    post = (t >= 0).astype(float)
    X = sm.add_constant(np.column_stack([t, post, t * post]), has_constant="add")
    fit = sm.OLS(means.to_numpy(float), X).fit()
    df = int(fit.df_resid)
    out = pd.DataFrame({"coef": fit.params[1:]}, index=TERMS)
    if df >= 1:
        ci = fit.conf_int(alpha)[1:]
        out = out.assign(se=fit.bse[1:], ci_low=ci[:, 0], ci_high=ci[:, 1], p=fit.pvalues[1:])
    else:
        out = out.assign(se=np.nan, ci_low=np.nan, ci_high=np.nan, p=np.nan)
    out["df"] = df
    return out


def interrupted(s: pd.DataFrame, index: str, indicator: str, break_year: int, years: list[int] | None = None,
                min_pre: int = MIN_PRE, min_post: int = 2, alpha: float = 0.05, balanced: bool = True) -> dict:
    """The whole ITS for one indicator: comparable window, yearly means, and the segmented fit, or the
    reason it is not estimated. Always returns the yearly means it used, so the figure shows the data,
    and the documented breaks inside the window that national means may cross as caveats: PAPI's switch
    from the official workbooks to the compiled files falls exactly on 2020, so a level change there is also
    a change of source; PAPI's 2021 reordering of provinces."""
    if min_pre < 2 or min_post < 2:  # fewer points than the segment's parameters: the "trend" would be the step itself
        raise DataError("an interrupted time series needs at least 2 comparable years on each side of the break "
                        "(3 before it by default)", column="min_pre_years" if min_pre < 2 else "min_post_years",
                        value=min_pre if min_pre < 2 else min_post)
    years = sorted(years or s["year"].unique())
    window, cut = comparable_window(index, indicator, [y for y in years if y in set(s["year"])], break_year)
    means = yearly_means(s[s["year"].isin(window)], balanced) if window else pd.DataFrame()
    pre, post = [y for y in window if y < break_year], [y for y in window if y >= break_year]
    caveats = codebook.comparable(index, indicator, window[0], window[-1], relative=True, comparison=COMPARISON)[1] if window else []
    out = {"window": window, "pre_years": pre, "post_years": post, "means": means, "cut_by": cut, "caveats": caveats,
           "coefficients": None, "reason": "", "before_after": before_after(means, break_year)}
    if len(pre) < min_pre or len(post) < min_post or means.empty:
        why = "; ".join(f"{b.year} {b.kind}: {b.note}" for b in cut)
        why = f"; cut by {why}" if why else "" if window else "; no data"
        if window and means.empty:  # values, but no province with one in every comparable year (press reports of a few)
            why += "; no province has a value in every comparable year"
        out["reason"] = f"not estimated: {len(pre)} comparable year(s) before {break_year} and {len(post)} from it (need {min_pre} and {min_post}){why}"
        return out
    out["coefficients"] = segmented_means(means["mean_share"], break_year, alpha)
    return out


def means_table(fits: dict[str, dict]) -> pd.DataFrame:
    """The yearly means of several `interrupted` results in one long table (indicator, year, mean_share,
    sd_share, n_provinces, reliability): the data behind the national-series figure. Indicators without means
    are left out; with none at all, the columns without rows (a figure of indices known only from a few press
    reports has no line, and says so, rather than failing)."""
    frames = {v: r["means"] for v, r in fits.items() if len(r["means"])}
    if not frames:
        return pd.DataFrame(columns=["mean_share", "sd_share", "n_provinces", "reliability"],
                            index=pd.MultiIndex.from_arrays([[], []], names=["indicator", "year"]))
    return pd.concat(frames, names=["indicator"])


def before_after(means: pd.DataFrame, break_year: int) -> dict | None:
    """The step into the break year set against the steps before it, as a description with no test: the
    mean share of the maximum in each comparable year, its year-on-year changes, the change from the last
    pre-year to the break year, the mean of the earlier year-on-year changes (the pre-existing drift; one
    step when there are two pre-years) and the difference between the two. Pooled before/after means
    would hide a steady trend inside the difference; this shows it. Whatever else changed in the break
    year (COVID-19, a change of source) is in the step as well."""
    if means.empty:
        return None
    m = means["mean_share"].sort_index()
    if break_year not in m.index or (break_year - 1) not in m.index:
        return None
    steps = m.diff().dropna()
    earlier = steps[steps.index < break_year]
    if earlier.empty:
        return None
    at = float(m[break_year] - m[break_year - 1])
    return {"years": f"{int(m.index.min())}-{int(m.index.max())}", "means": {int(y): float(v) for y, v in m.items()},
            "steps": {int(y): float(v) for y, v in steps.items()}, "step_into_break": at,
            "earlier_steps_mean": float(earlier.mean()), "n_earlier_steps": len(earlier),
            "step_minus_drift": at - float(earlier.mean())}


def adjust(table: pd.DataFrame, alpha: float = 0.05) -> pd.Series:
    """Holm-adjusted p over every row of `table` with a p-value (all terms of all indicators fitted in one
    analysis are one family: a reader scanning them is making that many tests)."""
    if "p" not in table:
        return pd.Series(np.nan, index=table.index, name="p_holm")
    return holm(table["p"], alpha).rename("p_holm")


def snapshot_dates(year: pd.Series, date: pd.Series) -> pd.Series:
    """A plotting date for each observation: its own date where given ('2020-08-06', or '2020-06' as the
    15th), else the middle of its reference year."""
    text = date.fillna("").astype(str)
    full = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), errors="coerce")
    month = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}")) + "-15", errors="coerce")
    mid = pd.to_datetime(year.astype(int).astype(str) + "-07-01")
    return full.fillna(month).fillna(mid)
