"""Correlations across provinces, one year at a time, with Fisher-z confidence intervals, Holm or
Benjamini-Hochberg adjusted p-values across the whole table, and the smallest correlation the test can
detect at the threshold the adjustment actually applied.

Part-whole pairs are not correlated as they stand: when one variable is a component of the other (a
PAPI dimension or sub-dimension against the PAPI total, a sub-dimension against its dimension), the
whole is replaced by the whole minus the component that contains the part, labelled as such
('PAPI:total − d8'), so the coefficient no longer counts the part twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..panel import codebook
from .common import annual, provenance

ADJUST = {"holm": "holm", "bh": "fdr_bh"}
MINUS = " − "


def wide(panel: pd.DataFrame, variables: list[str], years: list[int], reliability: bool = False) -> pd.DataFrame:
    """Province x year rows, one column per 'INDEX:indicator' variable (annual values only). With
    `reliability=True`, a second frame of the same shape holds each value's reliability."""
    a = annual(panel)
    key = a["index"] + ":" + a["indicator"]
    sub = a[key.isin(variables) & a["year"].isin(years)].assign(variable=key)
    out = sub.pivot_table(index=["province_code", "year"], columns="variable", values="value", aggfunc="first")
    out = out.reindex(columns=[v for v in variables if v in out.columns])
    if not reliability:
        return out
    rel = sub.pivot_table(index=["province_code", "year"], columns="variable", values="reliability", aggfunc="first")
    return out, rel.reindex(index=out.index, columns=out.columns)


def _chain(index: str, indicator: str, year: int) -> list[str]:
    """The indicator and every composite above it in `year`, innermost first."""
    out = [indicator]
    while (up := codebook.parent(index, out[-1], year)) is not None:
        out.append(up)
    return out


def part_whole(x: str, y: str, year: int) -> tuple[str, str] | None:
    """If one of two 'INDEX:indicator' variables contains the other in `year`, (whole, component to
    subtract): the component is the part of the whole that contains the other variable. Else None."""
    (ix, cx), (iy, cy) = x.split(":", 1), y.split(":", 1)
    if ix != iy:
        return None
    for part, whole in ((cx, cy), (cy, cx)):
        chain = _chain(ix, part, year)
        if whole in chain[1:]:
            return f"{ix}:{whole}", f"{ix}:{chain[chain.index(whole) - 1]}"
    return None


def display_label(variable: str) -> str:
    """'PAPI:total − d8' as 'PAPI: PAPI (unweighted, 10-80) − E-governance': full English labels for figures."""
    whole, _, minus = variable.partition(MINUS)
    index, indicator = whole.split(":", 1)
    text = f"{index}: {codebook.label(index, indicator)[1]}"
    return f"{text} − {codebook.label(index, minus)[1]}" if minus else text


def min_detectable_r(n: int, alpha: float = 0.05, power: float = 0.8, method: str = "pearson") -> float:
    """Smallest |r| a two-sided test at `alpha` detects with `power` at sample size n (Fisher z). For
    Spearman the test itself is set under the null (SE 1/sqrt(n - 3), as scipy's p-value), but under the
    alternative z spreads with the Bonett-Wright sqrt((1 + r^2/2)/(n - 3)):
    atanh r = (z_{alpha/2} + z_power * sqrt(1 + r^2/2)) / sqrt(n - 3), solved by fixed-point iteration
    (a contraction: a few steps)."""
    if n <= 3:
        return float("nan")
    za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    r = float(np.tanh((za + zb) / np.sqrt(n - 3)))
    if method == "spearman":
        for _ in range(100):
            nxt = float(np.tanh((za + zb * np.sqrt(1 + r**2 / 2)) / np.sqrt(n - 3)))
            if abs(nxt - r) < 1e-12:
                break
            r = nxt
    return r


def effective_alpha(p: pd.Series | np.ndarray, alpha: float = 0.05, adjust: str = "holm") -> float:
    """The per-test threshold the adjustment applied in this table: a p-value is significant after
    adjustment exactly when it is at most this. Holm stops at the first p above alpha/(m - k) with k
    rejections so far, so the threshold is alpha/(m - R); Benjamini-Hochberg rejects every p at most
    alpha * R / m. With no rejection both are alpha / m, the strictest step."""
    p = np.asarray(p, dtype=float)
    p = p[~np.isnan(p)]
    m = len(p)
    if m == 0:
        return float("nan")
    rejected = int(multipletests(p, alpha=alpha, method=ADJUST[adjust])[0].sum())
    if adjust == "holm":
        return alpha / (m - rejected) if rejected < m else alpha
    return alpha * max(rejected, 1) / m


def fisher_ci(r: float, n: int, level: float, method: str = "pearson") -> tuple[float, float]:
    """Confidence interval for r (Fisher z; Spearman with the Bonett-Wright standard error)."""
    se = 1 / np.sqrt(n - 3) if method == "pearson" else np.sqrt((1 + r**2 / 2) / (n - 3))
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = stats.norm.ppf(1 - (1 - level) / 2)
    return float(np.tanh(z - q * se)), float(np.tanh(z + q * se))


def correlate(x: pd.Series, y: pd.Series, method: str = "pearson", min_n: int = 10, alpha: float = 0.05) -> dict:
    """r, its (1-alpha) CI, p and N on the complete pairs; below min_n only N is returned."""
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
    ok = x.notna() & y.notna()
    n = int(ok.sum())
    res = {"n": n, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    if n < max(min_n, 4):
        return res
    xa, ya = x[ok].to_numpy(float), y[ok].to_numpy(float)
    if np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return res
    r, p = stats.pearsonr(xa, ya) if method == "pearson" else stats.spearmanr(xa, ya)
    lo, hi = fisher_ci(float(r), n, 1 - alpha, method)
    return res | {"r": float(r), "p": float(p), "ci_low": lo, "ci_high": hi}


def components(xs: list[str], ys: list[str], years: list[int]) -> list[str]:
    """The components a part-whole pair among xs x ys subtracts in some year (they must be in the data)."""
    found = {pw[1] for year in years for x in xs for y in ys if x != y and (pw := part_whole(x, y, int(year)))}
    return sorted(found - set(xs) - set(ys))


def correlations(panel: pd.DataFrame, xs: list[str], ys: list[str], years: list[int], method: str = "pearson", min_n: int = 10,
                 adjust: str = "holm", alpha: float = 0.05) -> pd.DataFrame:
    """`correlation_table` straight from the panel, with the components part-whole pairs need and the
    provenance of every value used."""
    data, rel = wide(panel, [*xs, *ys, *components(xs, ys, years)], years, reliability=True)
    return correlation_table(data, [v for v in xs if v in data], [v for v in ys if v in data], method, min_n, adjust, alpha, rel)


def correlation_table(data: pd.DataFrame, xs: list[str], ys: list[str], method: str = "pearson", min_n: int = 10,
                      adjust: str = "holm", alpha: float = 0.05, reliability: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every x-y pair in every year of `data` (from `wide`). A part-whole pair correlates x with the whole
    minus the component containing the part (columns `x_used`/`y_used`, and `x_minus`/`y_minus` name the
    component subtracted). Pairs below min_n keep their N and no
    statistic. p-values are adjusted across all computed pairs; `alpha_effective` is the threshold the
    adjustment applied, `ci_*_adjusted` the intervals at that level and `min_detectable_r` the smallest
    |r| detectable there with 80% power; `ci_low`/`ci_high` are unadjusted (1 - alpha) intervals."""
    if adjust not in ADJUST:
        raise ValueError(f"adjust must be one of {sorted(ADJUST)}, not {adjust!r}")
    rows = []
    for year, g in data.groupby(level="year"):
        for x in xs:
            for y in ys:
                if x == y or x not in g or y not in g:
                    continue
                xv, yv, x_used, y_used, cols = g[x], g[y], x, y, [x, y]
                minus = {"x_minus": "", "y_minus": ""}
                pw = part_whole(x, y, int(year))
                if pw is not None:
                    whole, component = pw
                    label = f"{whole}{MINUS}{component.split(':', 1)[1]}"
                    if component not in g:
                        rows.append({"year": int(year), "x": x, "y": y, "x_used": x_used, "y_used": y_used, "n": 0,
                                     "status": f"part-whole pair: {component} not in the data"})
                        continue
                    cols.append(component)
                    if whole == x:
                        xv, x_used, minus["x_minus"] = g[x] - g[component], label, component
                    else:
                        yv, y_used, minus["y_minus"] = g[y] - g[component], label, component
                res = correlate(xv, yv, method, min_n, alpha)
                ok = xv.notna() & yv.notna()
                rel = provenance(reliability.loc[ok[ok].index, list(dict.fromkeys(cols))].stack()) if reliability is not None else ""
                rows.append({"year": int(year), "x": x, "y": y, "x_used": x_used, "y_used": y_used, **minus, **res, "reliability": rel})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    for c in ("r", "ci_low", "ci_high", "p"):
        if c not in table:
            table[c] = np.nan
    tested = table["p"].notna()
    table["status"] = np.where(tested, "tested", table.get("status", pd.Series(index=table.index, dtype=object)).fillna(
        f"too few provinces (N < {min_n})"))
    table["p_adjusted"] = np.nan
    table["alpha_effective"] = np.nan
    table["ci_low_adjusted"] = np.nan
    table["ci_high_adjusted"] = np.nan
    table["min_detectable_r"] = np.nan
    if tested.any():
        table.loc[tested, "p_adjusted"] = multipletests(table.loc[tested, "p"], alpha=alpha, method=ADJUST[adjust])[1]
        a_eff = effective_alpha(table.loc[tested, "p"], alpha, adjust)
        table.loc[tested, "alpha_effective"] = a_eff
        cis = [fisher_ci(r, int(n), 1 - a_eff, method) for r, n in zip(table.loc[tested, "r"], table.loc[tested, "n"], strict=True)]
        table.loc[tested, "ci_low_adjusted"] = [c[0] for c in cis]
        table.loc[tested, "ci_high_adjusted"] = [c[1] for c in cis]
        table.loc[tested, "min_detectable_r"] = [min_detectable_r(int(n), a_eff, method=method) for n in table.loc[tested, "n"]]
    table["part_whole"] = (table["x_used"] != table["x"]) | (table["y_used"] != table["y"])
    table.attrs.update(adjust=adjust, alpha=alpha, method=method)
    return table


def bootstrap_ci(x: pd.Series, y: pd.Series, method: str = "pearson", draws: int = 9999, level: float = 0.95,
                 seed: int = 20201) -> tuple[float, float]:
    """Percentile bootstrap interval of r over provinces (pairs resampled with replacement), all draws at once:
    an index matrix of draws x N, ranks taken along each row for Spearman, and Pearson's formula on the rows.
    Beside Fisher's interval it shows what a bunched or capped variable does to r's sampling distribution, which
    Fisher's normal approximation assumes away. Seeded: the same data give the same interval."""
    ok = x.notna() & y.notna()
    xa, ya = x[ok].to_numpy(float), y[ok].to_numpy(float)
    n = len(xa)
    if n < 4:
        return float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, n, size=(draws, n))
    xs, ys = xa[idx], ya[idx]
    if method == "spearman":
        xs, ys = stats.rankdata(xs, axis=1), stats.rankdata(ys, axis=1)
    xs = xs - xs.mean(axis=1, keepdims=True)
    ys = ys - ys.mean(axis=1, keepdims=True)
    den = np.sqrt((xs**2).sum(axis=1) * (ys**2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (xs * ys).sum(axis=1) / den
    r = r[np.isfinite(r)]  # a draw with one distinct value has no r
    lo, hi = np.quantile(r, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)
