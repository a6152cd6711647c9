"""Partial correlation of x and y given control variables z, by residual regression: regress x and y on z
(with an intercept) by least squares and correlate the residuals. Spearman's version does the same on ranks.

The test uses k = number of controls: t = r sqrt((n - 2 - k) / (1 - r^2)) with n - 2 - k degrees of
freedom, and the confidence interval is Fisher's z with standard error 1 / sqrt(n - 3 - k) (for Spearman
the Bonett-Wright factor sqrt(1 + r^2 / 2), as in `correlation.correlate`). The tests check it against the
precision-matrix formula -P_xy / sqrt(P_xx P_yy), an independent computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def partial_correlation(x: pd.Series, y: pd.Series, z: pd.DataFrame | pd.Series, method: str = "pearson",
                        alpha: float = 0.05, min_n: int = 10) -> dict:
    """r of x and y given z on the complete cases, with its (1 - alpha) CI, p and N; below min_n only N."""
    if method not in ("pearson", "spearman"):
        raise ValueError(f"method must be 'pearson' or 'spearman', not {method!r}")
    zf = z.to_frame() if isinstance(z, pd.Series) else z
    d = pd.concat([x.rename("_x"), y.rename("_y"), zf], axis=1).dropna()
    n, k = len(d), zf.shape[1]
    res = {"n": n, "controls": k, "r": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan}
    if n < max(min_n, k + 4):
        return res
    if method == "spearman":
        d = d.rank()
    design = np.column_stack([np.ones(n), d[zf.columns].to_numpy(float)])
    resid = {}
    for c in ("_x", "_y"):
        v = d[c].to_numpy(float)
        beta, *_ = np.linalg.lstsq(design, v, rcond=None)
        resid[c] = v - design @ beta
    if np.ptp(resid["_x"]) == 0 or np.ptp(resid["_y"]) == 0:
        return res
    r = float(np.corrcoef(resid["_x"], resid["_y"])[0, 1])
    dof = n - 2 - k
    t = r * np.sqrt(dof / max(1 - r**2, 1e-300))
    p = float(2 * stats.t.sf(abs(t), dof))
    se = 1 / np.sqrt(n - 3 - k)
    if method == "spearman":
        se *= np.sqrt(1 + r**2 / 2)
    zr = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = stats.norm.ppf(1 - alpha / 2)
    res.update(r=r, p=p, ci_low=float(np.tanh(zr - q * se)), ci_high=float(np.tanh(zr + q * se)))
    return res
