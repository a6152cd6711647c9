"""Correlations across provinces with Fisher-z confidence intervals, Holm or Benjamini-Hochberg adjusted
p-values across a matrix, and the smallest correlation detectable at the given N."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..panel.vintage import in_63

ADJUST = {"holm": "holm", "bh": "fdr_bh"}


def wide(panel: pd.DataFrame, variables: list[str], years: list[int]) -> pd.DataFrame:
    """Province x year rows, one column per 'INDEX:indicator' variable (annual values only)."""
    panel = in_63(panel)  # one province coding: 2025 codes reuse old codes of other provinces
    key = panel["index"] + ":" + panel["indicator"]
    sub = panel[key.isin(variables) & panel["year"].isin(years) & (panel["date"].fillna("") == "") & (panel["province_code"] != "00")]
    out = sub.assign(variable=key[sub.index]).pivot_table(index=["province_code", "year"], columns="variable", values="value", aggfunc="first")
    return out.reindex(columns=[v for v in variables if v in out.columns])


def min_detectable_r(n: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest |r| a two-sided test at `alpha` detects with `power` at sample size n (Fisher z)."""
    if n <= 3:
        return float("nan")
    z = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) / np.sqrt(n - 3)
    return float(np.tanh(z))


def correlate(x: pd.Series, y: pd.Series, method: str = "pearson", min_n: int = 10, alpha: float = 0.05) -> dict:
    """r, its (1-alpha) CI, p and N on the complete pairs; below min_n only N is returned."""
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
    ok = x.notna() & y.notna()
    n = int(ok.sum())
    res = {"n": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "min_detectable_r": min_detectable_r(n, alpha)}
    if n < max(min_n, 4):
        return res
    xa, ya = x[ok].to_numpy(float), y[ok].to_numpy(float)
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return res
    if method == "pearson":
        r, p = stats.pearsonr(xa, ya)
        se = 1 / np.sqrt(n - 3)
    else:
        r, p = stats.spearmanr(xa, ya)
        se = np.sqrt((1 + r**2 / 2) / (n - 3))  # Bonett & Wright (2000)
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = stats.norm.ppf(1 - alpha / 2)
    res.update(r=float(r), p=float(p), ci_low=float(np.tanh(z - q * se)), ci_high=float(np.tanh(z + q * se)))
    return res


def correlation_table(data: pd.DataFrame, xs: list[str], ys: list[str], method: str = "pearson", min_n: int = 10,
                      adjust: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """Every x-y pair in every year of `data` (from `wide`). Pairs below min_n keep their N and no statistic;
    p-values are adjusted across all computed pairs."""
    if adjust not in ADJUST:
        raise ValueError(f"adjust must be one of {sorted(ADJUST)}, not {adjust!r}")
    rows = []
    for year, g in data.groupby(level="year"):
        for x in xs:
            for y in ys:
                if x == y or x not in g or y not in g:
                    continue
                rows.append({"year": int(year), "x": x, "y": y, **correlate(g[x], g[y], method, min_n, alpha)})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["p_adjusted"] = np.nan
    tested = table["p"].notna()
    if tested.any():
        table.loc[tested, "p_adjusted"] = multipletests(table.loc[tested, "p"], alpha=alpha, method=ADJUST[adjust])[1]
    table["status"] = np.where(tested, "tested", f"too few provinces (N < {min_n})")
    return table
