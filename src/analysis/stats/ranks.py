"""Confidence intervals for ranks, from the published standard errors.

A rank is a function of every province's score, so its uncertainty depends on all their standard errors
at once. The method is that of Mogstad, Romano, Shaikh and Wilhelm (2024, "Inference for ranks with
applications to mobility across neighbourhoods and academic achievement across countries", Review of
Economic Studies 91(1)): for province i, simultaneous confidence intervals for the differences
theta_j - theta_i with every other province j; the provinces whose difference is surely positive are
surely ahead of i, those whose difference is surely negative surely behind, so

    rank_i lies in [1 + #{j surely ahead}, N - #{j surely behind}]        (1 = best)

with probability at least `level` (a *marginal* interval: for one province at a time, the question a
province's card asks). With `simultaneous=True` the differences are covered for all pairs at once, so the
intervals of all provinces hold together (the question of a league table read as a whole); they are wider.
Both are the *single-step* versions: one critical value, without the stepwise refinement the paper also
gives (which drops comparisons already decided and shrinks the intervals), so they are valid and somewhat
conservative.

The differences' joint distribution is simulated (independent normal estimates, x_j ~ N(theta_j, se_j^2),
as a survey's provinces are sampled independently): the critical value is the `level` quantile of the
largest standardized difference |e_j - e_i| / sqrt(se_i^2 + se_j^2) over the comparisons made, from `draws`
seeded draws, vectorised in blocks. A Bonferroni critical value would need no simulation but is wider;
the tests use it as a bound."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import DataError
from ..notebook import SEED
from .uncertainty import year_se

LEVEL = 0.95
DRAWS = 10_000
_BLOCK = 500  # draws per block: 500 x 63 x 63 doubles = 16 MB


def _max_abs_t(se: np.ndarray, draws: int, rng: np.random.Generator, simultaneous: bool) -> np.ndarray:
    """Per draw, the largest |e_j - e_i| / sigma_ij: over j for each i (draws x n), or over all pairs (draws)."""
    n = len(se)
    sigma = np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    np.fill_diagonal(sigma, np.inf)  # a province is not compared with itself
    out = []
    for start in range(0, draws, _BLOCK):
        e = rng.standard_normal((min(_BLOCK, draws - start), n)) * se
        t = np.abs(e[:, None, :] - e[:, :, None]) / sigma  # [b, i, j]
        m = t.max(axis=2)
        out.append(m.max(axis=1) if simultaneous else m)
    return np.concatenate(out)


def rank_intervals(values: pd.Series, se: pd.Series, level: float = LEVEL, simultaneous: bool = False, draws: int = DRAWS,
                   seed: int = SEED) -> pd.DataFrame:
    """Rank (1 = highest value) and its confidence interval for every unit of `values`, whose standard
    errors are `se` (same index). Returns one row per unit, in the order of `values`: value, se, rank
    (ties share the best rank), rank_low, rank_high (the best and the worst rank the data allow), the
    critical value used, n, level and whether the intervals are simultaneous. Seeded: the same inputs give
    the same intervals."""
    if not 0 < level < 1:
        raise DataError("a confidence level is a number between 0 and 1", column="level", value=level)
    x = values.astype(float)
    s = se.reindex(x.index).astype(float)
    bad = x.isna() | s.isna() | ~(s > 0)
    if bad.any():
        first = x.index[bad.to_numpy()][0]
        raise DataError("every unit needs a value and a positive standard error to be ranked with uncertainty",
                        column="se", row=str(first), value=s.get(first))
    n = len(x)
    if n < 2:
        raise DataError("ranks need at least two units", value=n)
    xv, sv = x.to_numpy(), s.to_numpy()
    rng = np.random.default_rng(seed)
    m = _max_abs_t(sv, draws, rng, simultaneous)
    crit = np.full(n, float(np.quantile(m, level))) if simultaneous else np.quantile(m, level, axis=0)
    diff = xv[None, :] - xv[:, None]  # [i, j] = x_j - x_i
    sigma = np.sqrt(sv[:, None] ** 2 + sv[None, :] ** 2)
    np.fill_diagonal(diff, 0.0)
    ahead = (diff - crit[:, None] * sigma > 0).sum(axis=1)
    behind = (diff + crit[:, None] * sigma < 0).sum(axis=1)
    rank = pd.Series(xv, index=x.index).rank(ascending=False, method="min").astype(int)
    return pd.DataFrame({"value": xv, "se": sv, "rank": rank.to_numpy(), "rank_low": 1 + ahead, "rank_high": n - behind,
                         "critical_value": crit, "n": n, "level": level, "simultaneous": simultaneous}, index=x.index)


def papi_rank_intervals(own: pd.DataFrame, year: int, indicator: str = "total", level: float = LEVEL, simultaneous: bool = False,
                        draws: int = DRAWS, seed: int = SEED) -> pd.DataFrame:
    """Single-step rank intervals of one PAPI year and indicator among the provinces with a published
    score, from `stats.uncertainty.own_se` rows (`own`) through `year_se`: the published SEs in 2019, the
    one pooled SE (median 2019 SE, rescaled) for every province in any other year. The result keeps
    province, `se_source`, `se_year` and `comparable_with_se_year`, so a reader is told when the intervals
    rest on a pooled SE (every year but 2019) and whether a break lies between."""
    g = year_se(own, year, indicator)
    if g.empty:
        raise DataError(f"no PAPI {indicator} scores with standard errors in {year}", column="year", value=year)
    out = rank_intervals(g["value"], g["se"], level=level, simultaneous=simultaneous, draws=draws, seed=seed)
    return out.join(g[["province", "se_source", "se_year", "comparable_with_se_year"]]).assign(year=int(year), indicator=indicator)
