"""One slope with nuisance dummies (fixed effects, year effects), province-clustered errors, and the wild
cluster bootstrap a referee expects when the clusters are few (11 to 63 provinces here).

The model is y = D a + b x + e, with D the dummies the design absorbs. By Frisch-Waugh-Lovell b is the slope of
M y on M x, M = I - D D^+ the annihilator of D (computed once, exactly, also for unbalanced panels).

Cluster-robust errors (CR1) use the project's convention (`stats.panel_models`): the sandwich times
G/(G-1) * (N-1)/(N-k) with k = 1 (the slope; dummies nested in the clusters are not counted, Cameron and Miller
2015 VI.B), and intervals and p-values from Student's t with G - 1 degrees of freedom.

The wild cluster bootstrap is the restricted one (WCR, the null imposed: Cameron, Gelbach and Miller 2008;
MacKinnon and Webb 2018), with Webb's six-point weights, which behave well even with ten or so clusters. A
bootstrap draw multiplies the restricted residuals of each cluster by one weight; the bootstrap t uses the same
CR1 error. Everything is vectorised over the draws: for a null b0 the draws' slopes and cluster scores are
linear in the weights, beta*_b - b0 = a' w_b / Sxx and score_b = (S_y - b0 S_x) w_b - h (beta*_b - b0), with
G x G matrices S computed once per design, so a p-value costs one G x G by G x B product. The interval is the
set of b0 the test does not reject at 5% (test inversion, as boottest and fwildclusterboot), found by bisection
on each side with the same draws (to a fiftieth of the CR1 error). The tests check the p-value against a loop that refits every draw with
statsmodels, and the slope and CR1 error against linearmodels' PanelOLS."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def webb_weights(g: int, b: int, seed: int) -> np.ndarray:
    """G x B Webb weights (one per cluster and draw), reproducible from `seed`."""
    return np.random.default_rng(seed).choice(WEBB, size=(g, b))


def annihilator(d: np.ndarray) -> np.ndarray:
    """M = I - D D^+: residuals of a regression on the dummies (rank-deficient D allowed)."""
    n = d.shape[0]
    if d.size == 0:
        return np.eye(n)
    return np.eye(n) - d @ np.linalg.pinv(d)


@dataclass
class SlopeFit:
    """The slope, its CR1 error and t(G-1) interval, and the wild bootstrap's p-value and interval."""

    beta: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    g: int
    df: int
    p_wild: float = float("nan")
    ci_wild_low: float = float("nan")
    ci_wild_high: float = float("nan")
    draws: int = 0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class Design:
    """Data of one regression, partialled out once: `boot` and `fit` reuse the G x G matrices."""

    def __init__(self, y: np.ndarray, x: np.ndarray, dummies: np.ndarray, clusters: np.ndarray, alpha: float = 0.05) -> None:
        y, x = np.asarray(y, float), np.asarray(x, float)
        m = annihilator(np.asarray(dummies, float))
        self.yt, self.xt = m @ y, m @ x
        codes, self.cluster = np.unique(np.asarray(clusters), return_inverse=True)
        self.n, self.g = len(y), len(codes)
        self.alpha = alpha
        e = np.zeros((self.n, self.g))
        e[np.arange(self.n), self.cluster] = 1.0
        self.sxx = float(self.xt @ self.xt)
        self.h = e.T @ (self.xt**2)  # sum of x~^2 by cluster
        self.a_y = e.T @ (self.xt * self.yt)  # sum of x~ y~ by cluster
        ex = e.T * self.xt  # G x N: x~ within each cluster
        self.s_y = ex @ m @ (self.yt[:, None] * e)  # S for y~; S(b0) = S_y - b0 S_x
        self.s_x = ex @ m @ (self.xt[:, None] * e)
        self.c = self.g / (self.g - 1) * (self.n - 1) / (self.n - 1)  # CR1 with k = 1 slope
        self.beta = float(self.xt @ self.yt / self.sxx) if self.sxx > 0 else float("nan")
        u = self.yt - self.beta * self.xt
        score = e.T @ (self.xt * u)
        self.se = float(np.sqrt(self.c * (score**2).sum()) / self.sxx) if self.sxx > 0 else float("nan")

    def fit(self) -> SlopeFit:
        df = self.g - 1
        q = stats.t.ppf(1 - self.alpha / 2, df)
        t = self.beta / self.se if self.se > 0 else float("nan")
        return SlopeFit(self.beta, self.se, self.beta - q * self.se, self.beta + q * self.se, float(2 * stats.t.sf(abs(t), df)),
                        self.n, self.g, df)

    def _prepare(self, w: np.ndarray) -> None:
        """The draws' products that do not depend on b0, once per set of weights: S_y W, S_x W, a_y'W, h'W."""
        if getattr(self, "_w", None) is not w:
            self._w = w
            self._syw, self._sxw = self.s_y @ w, self.s_x @ w
            self._ayw, self._hw = self.a_y @ w, self.h @ w

    def p_value(self, b0: float, w: np.ndarray) -> float:
        """Wild cluster bootstrap p-value (symmetric, two-sided) of H0: slope = b0, with weights `w` (G x B).
        Each b0 costs O(G B): the G x G products are taken once per weights (`_prepare`)."""
        self._prepare(w)
        t0 = (self.beta - b0) / self.se
        step = (self._ayw - b0 * self._hw) / self.sxx  # beta*_b - b0 = (a_y - b0 h)'w_b / Sxx, shape (B,)
        score = self._syw - b0 * self._sxw - self.h[:, None] * step[None, :]
        se = np.sqrt(self.c * (score**2).sum(axis=0)) / self.sxx
        with np.errstate(divide="ignore", invalid="ignore"):
            tb = np.where(se > 0, step / se, 0.0)
        return float(np.mean(np.abs(tb) >= abs(t0) - 1e-12))

    def boot(self, draws: int = 9999, seed: int = 20201, interval: bool = True) -> SlopeFit:
        """The CR1 fit with the wild bootstrap's p-value of slope = 0 and, with `interval`, the 95% interval by
        test inversion (bisection to a hundredth of the CR1 error)."""
        out = self.fit()
        if not np.isfinite(self.se) or self.se <= 0 or self.g < 2:
            return out
        w = webb_weights(self.g, draws, seed)
        out.p_wild, out.draws = self.p_value(0.0, w), draws
        if interval:
            out.ci_wild_low, out.ci_wild_high = self._bound(w, -1), self._bound(w, +1)
        return out

    def _bound(self, w: np.ndarray, side: int) -> float:
        """Bisection between a b0 the test keeps and one it rejects, bracketed around the CR1 bound (the
        bootstrap bound is usually within a factor of two of it), to a fiftieth of the CR1 error."""
        q = float(stats.t.ppf(1 - self.alpha / 2, self.g - 1)) * self.se
        inside, outside = self.beta + side * 0.7 * q, self.beta + side * 1.6 * q
        if self.p_value(inside, w) <= self.alpha:
            inside, outside = self.beta, inside
        else:
            for _ in range(12):  # widen until rejected (a heavy-tailed bootstrap distribution)
                if self.p_value(outside, w) <= self.alpha:
                    break
                inside, outside = outside, self.beta + 2 * (outside - self.beta)
            else:
                return float(side * np.inf)
        while abs(outside - inside) > 0.02 * self.se:
            mid = (inside + outside) / 2
            if self.p_value(mid, w) > self.alpha:
                inside = mid
            else:
                outside = mid
        return float((inside + outside) / 2)


def dummies(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One 0/1 column per level of each column (all levels: the annihilator handles the collinearity) plus a
    constant: the effects a design absorbs."""
    parts = [np.ones((len(frame), 1))]
    for c in columns:
        parts.append(pd.get_dummies(frame[c].astype(str)).to_numpy(float))
    return np.hstack(parts)


def leave_one_out(y: np.ndarray, x: np.ndarray, crossing: np.ndarray, clusters: np.ndarray, within_cluster: bool) -> pd.Series:
    """The slope with each cluster left out, all at once. With `within_cluster` the design has a fixed effect per
    cluster (province): demeaning within clusters absorbs it, and leaving a cluster out leaves the others'
    demeaned values unchanged, so only the effects crossing clusters (`crossing`: year dummies, constant) are
    partialled out again per left-out cluster, from per-cluster cross-products (Frisch-Waugh-Lovell):
    b = (x'x - x'C (C'C)^+ C'x)^-1 (x'y - x'C (C'C)^+ C'y) over the kept clusters, C the crossing dummies."""
    y, x, c = np.array(y, float), np.array(x, float), np.asarray(crossing, float)  # copies: demeaned in place
    codes, idx = np.unique(np.asarray(clusters), return_inverse=True)
    if within_cluster:
        counts = np.bincount(idx)
        for v in (y, x):
            v -= (np.bincount(idx, weights=v) / counts)[idx]
        c = c - np.stack([np.bincount(idx, weights=col, minlength=len(codes)) / counts for col in c.T], axis=1)[idx]
    z = np.column_stack([x, y])
    g = len(codes)
    cc = np.zeros((g, c.shape[1], c.shape[1]))
    cz = np.zeros((g, c.shape[1], 2))
    zz = np.zeros((g, 2, 2))
    np.add.at(cc, idx, c[:, :, None] * c[:, None, :])
    np.add.at(cz, idx, c[:, :, None] * z[:, None, :])
    np.add.at(zz, idx, z[:, :, None] * z[:, None, :])
    cc, cz, zz = cc.sum(0) - cc, cz.sum(0) - cz, zz.sum(0) - zz  # totals over the kept clusters
    resid = zz - np.einsum("lki,lkj,ljm->lim", cz, np.linalg.pinv(cc), cz)
    return pd.Series(resid[:, 0, 1] / resid[:, 0, 0], index=codes)
