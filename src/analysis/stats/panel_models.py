"""Within-province (fixed-effects) regressions with province-clustered standard errors.

Errors are clustered by province, never by year: with ~63 provinces and ~7-9 years there are enough
province clusters, while year clusters would be far too few. `fe_statsmodels` is an independent second
implementation (province and year dummies) used to check `fe_regression` in the tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from linearmodels.panel import PanelOLS


def design(data: pd.DataFrame, y: str, xs: list[str]) -> pd.DataFrame:
    """Complete cases indexed by (province_code, year), as linearmodels expects."""
    d = data[[y, *xs]].dropna()
    return d.sort_index()


def fe_regression(data: pd.DataFrame, y: str, xs: list[str], time_effects: bool = True, debiased: bool = True) -> dict:
    """PanelOLS with province (and year) effects and province-clustered errors. linearmodels scales the
    sandwich by N/(N - absorbed effects); `debiased` (default, more conservative) adds its small-sample
    correction on top."""
    d = design(data, y, xs)
    model = PanelOLS(d[y], d[xs], entity_effects=True, time_effects=time_effects, drop_absorbed=True)
    res = model.fit(cov_type="clustered", cluster_entity=True, debiased=debiased)
    ci = res.conf_int()
    coefs = pd.DataFrame({"coef": res.params, "se": res.std_errors, "ci_low": ci["lower"], "ci_high": ci["upper"], "p": res.pvalues})
    return {
        "coefficients": coefs, "n_obs": int(res.nobs), "n_provinces": int(res.entity_info["total"]),
        "n_years": int(res.time_info["total"]), "r2_within": float(res.rsquared_within), "result": res,
    }


def fe_statsmodels(data: pd.DataFrame, y: str, xs: list[str], time_effects: bool = True) -> pd.DataFrame:
    """Least-squares dummy-variable version: same slopes; cluster-robust errors by province."""
    d = design(data, y, xs).reset_index()
    safe = {c: f"v{i}" for i, c in enumerate([y, *xs])}
    d = d.rename(columns=safe)
    d["province_code"] = d["province_code"].astype(str).to_numpy(dtype=object)  # patsy needs numpy dtypes
    d["year"] = d["year"].astype(int)
    rhs = " + ".join(safe[x] for x in xs) + " + C(province_code)" + (" + C(year)" if time_effects else "")
    fit = smf.ols(f"{safe[y]} ~ {rhs}", data=d).fit(cov_type="cluster", cov_kwds={"groups": d["province_code"], "use_correction": False})
    back = {v: k for k, v in safe.items()}
    names = [safe[x] for x in xs]
    return pd.DataFrame({"coef": fit.params[names], "se": fit.bse[names]}).rename(index=back)


def to_wide_z(panel: pd.DataFrame, variables: list[str], years: list[int]) -> pd.DataFrame:
    """Within-year z-scores of each variable: comparable across scale changes (PAPI 60 -> 80)."""
    from .correlation import wide

    w = wide(panel, variables, years)
    return w.groupby(level="year").transform(lambda c: (c - c.mean()) / c.std(ddof=1)).replace([np.inf, -np.inf], np.nan)
