"""Interrupted time series for a change that hit every province at once (Decree 45/2020, effective
22 May 2020). Province-level segmented regression with province fixed effects:

    y_it = a_i + b*t + c*post_t + d*(t - t0)*post_t + e_it,   errors clustered by province.

With yearly PAPI data there are only two pre-reform years (2018-2019) for the e-governance measures,
and COVID-19 moved services online in the same months, so `c` and `d` describe a break in the series,
not the decree's causal effect."""

from __future__ import annotations

import pandas as pd
from linearmodels.panel import PanelOLS


def segmented(s: pd.DataFrame, break_year: int) -> dict:
    d = s[["province_code", "year", "value"]].dropna().copy()
    d["t"] = d["year"] - break_year
    d["post"] = (d["year"] >= break_year).astype(float)
    d["t_post"] = d["t"] * d["post"]
    d = d.set_index(["province_code", "year"]).sort_index()
    res = PanelOLS(d["value"], d[["t", "post", "t_post"]], entity_effects=True).fit(cov_type="clustered", cluster_entity=True)
    ci = res.conf_int()
    coefs = pd.DataFrame({"coef": res.params, "se": res.std_errors, "ci_low": ci["lower"], "ci_high": ci["upper"], "p": res.pvalues})
    coefs.index = ["pre-trend per year", "level change at break", "trend change after break"]
    years = sorted(d.index.get_level_values("year").unique())
    return {"coefficients": coefs, "n_obs": int(res.nobs), "n_provinces": int(res.entity_info["total"]),
            "pre_years": [y for y in years if y < break_year], "post_years": [y for y in years if y >= break_year]}


def snapshot_dates(year: pd.Series, date: pd.Series) -> pd.Series:
    """A plotting date for each observation: its own date where given ('2020-08-06', or '2020-06' as the
    15th), else the middle of its reference year."""
    text = date.fillna("").astype(str)
    full = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")), errors="coerce")
    month = pd.to_datetime(text.where(text.str.fullmatch(r"\d{4}-\d{2}")) + "-15", errors="coerce")
    mid = pd.to_datetime(year.astype(int).astype(str) + "-07-01")
    return full.fillna(month).fillna(mid)
