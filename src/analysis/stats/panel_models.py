"""Within-province (fixed-effects) regressions with province-clustered standard errors, that never
identify a coefficient from a methodology break.

A province's intercept is allowed to change at every break of any variable in the model: the entity is
the province within a comparable segment (`analysis.panel.codebook.segments`, joined over y and the
x's), so only changes *within* a segment identify the slope and a jump at PAPI's 2018 redesign, PCI's
2009/2013 revisions or the 2020 e-responsiveness discontinuity cannot masquerade as covariation. Errors
are clustered by province (the segment entities of one province share a cluster), never by year: ~63
province clusters against 7-9 year clusters.

Small-sample corrections, stated once: `fe_regression` multiplies the cluster sandwich by
G/(G-1) * (N-1)/(N-k), with k the slopes only. The province-within-segment effects are nested in the
province clusters, and counting effects nested in clusters in the degrees-of-freedom correction
over-corrects (Cameron and Miller 2015, section VI.B: Stata's `xtreg, fe vce(cluster)` convention, not
`areg`'s); the year effects (at most nine) are not counted either, which changes no standard error by more
than about 2%. The statsmodels dummy-variable regression in `fe_statsmodels` applies
G/(G-1) * (N-1)/(N-K) with K counting every dummy (`use_correction=True`); the tests convert one into the
other by sqrt((N-K)/(N-k)) and require agreement to 1e-6. Intervals and p-values use Student's t
with G - 1 degrees of freedom (G = province clusters), not N - K: a cluster-robust variance estimated from
G clusters has about G - 1 degrees of freedom, however many province-years there are."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from linearmodels.panel import PanelOLS
from scipy import stats

from ..errors import DataError
from ..notebook import SEED
from ..panel import codebook
from .common import TOO_FEW_VALUES, provenance
from .correlation import wide


def joint_segments(variables: list[str], years: list[int], relative: bool) -> dict[int, int]:
    """Segment number of each year: a new segment starts wherever any variable's series breaks."""
    starts = {min(years)}
    for var in variables:
        index, indicator = var.split(":", 1)
        starts |= {seg[0] for seg in codebook.segments(index, indicator, years, relative=relative)}
    out, k = {}, -1
    for y in sorted(years):
        k += y in starts
        out[y] = k
    return out


def model_data(panel: pd.DataFrame, y: str, xs: list[str], years: list[int], standardize: bool) -> pd.DataFrame:
    """Complete cases indexed by (entity, year) where the entity is 'province|segment', with columns y,
    xs, `province_code`, `segment` and one `reliability:<variable>` column per variable. With
    `standardize`, every variable is a within-year z-score (a change of scale is then not a break)."""
    variables = [y, *xs]
    data, rel = wide(panel, variables, years, reliability=True)
    if standardize:
        data = data.groupby(level="year").transform(lambda c: (c - c.mean()) / c.std(ddof=1)).replace([np.inf, -np.inf], np.nan)
    data = data.reindex(columns=variables).dropna()
    seg = joint_segments(variables, sorted(set(data.index.get_level_values("year"))), relative=standardize) if len(data) else {}
    out = data.reset_index()
    out["segment"] = out["year"].map(seg)
    out["entity"] = out["province_code"].astype(str) + "|" + out["segment"].astype(str)
    rel = rel.reindex(index=data.index, columns=variables)
    for var in variables:
        out[f"reliability:{var}"] = rel[var].to_numpy()
    return out.set_index(["entity", "year"]).sort_index()


def _drop_singletons(d: pd.DataFrame) -> pd.DataFrame:
    """An entity seen once contributes nothing within it: drop it (and say so through n_obs)."""
    counts = d.groupby(level="entity").size()
    return d[d.index.get_level_values("entity").isin(counts[counts > 1].index)]


MIN_CLUSTERS = 3
"""Province clusters a model needs: the t reference has G - 1 degrees of freedom, and a cluster-robust variance
from two clusters is no variance estimate at all."""


def not_estimable(d: pd.DataFrame, y: str, xs: list[str], time_effects: bool = True) -> str | None:
    """Why a within-province model cannot be estimated on `d` (complete cases of `model_data`), or None: fewer
    than MIN_CLUSTERS provinces seen twice within one comparable segment, or an x with no variation left once
    the province-segment (and year) means are removed. An index known from a few press reports (PAR INDEX,
    SIPAS: a handful of provinces a year, rarely the same ones) ends here with the reason, not in the solver."""
    d = _drop_singletons(d)
    g = int(d["province_code"].nunique()) if len(d) else 0
    if g < MIN_CLUSTERS:
        return (f"{TOO_FEW_VALUES}: {len(d)} province-years of {g} provinces with {y} and {', '.join(xs)} in at least two years of one "
                f"comparable segment; a within-province model needs {MIN_CLUSTERS} such provinces")
    ent, yr = d.index.get_level_values("entity"), d.index.get_level_values("year")
    for x in xs:
        v = d[x].astype(float)
        within = _two_way_within(v, ent, yr) if time_effects else v - v.groupby(ent).transform("mean")
        if float(within.abs().max()) <= 1e-9 * max(1.0, float(v.abs().max())):
            return (f"{TOO_FEW_VALUES}: {x} does not vary within provinces once province{' and year' if time_effects else ''} means are "
                    f"removed ({len(d)} province-years of {g} provinces)")
    return None


def fe_regression(d: pd.DataFrame, y: str, xs: list[str], time_effects: bool = True) -> dict:
    """PanelOLS with entity (province within segment) and year effects, province-clustered errors and
    the CR1 correction (see the module docstring). Returns coefficients, N, provinces, segments used.
    A sample the model cannot be estimated on (`not_estimable`) is a DataError that starts 'too few values'."""
    why = not_estimable(d, y, xs, time_effects)
    if why:
        raise DataError(why, column="models", value=f"{y} ~ {' + '.join(xs)}", hint="Choose indicators with values for more provinces and years")
    d = _drop_singletons(d)
    clusters = pd.DataFrame({"province": pd.Categorical(d["province_code"]).codes}, index=d.index)
    model = PanelOLS(d[y], d[xs], entity_effects=True, time_effects=time_effects, drop_absorbed=True)
    res = model.fit(cov_type="clustered", clusters=clusters, debiased=True, group_debias=True, auto_df=False, count_effects=False)
    g = int(d["province_code"].nunique())
    q = stats.t.ppf(0.975, g - 1)
    coefs = pd.DataFrame({"coef": res.params, "se": res.std_errors, "ci_low": res.params - q * res.std_errors,
                          "ci_high": res.params + q * res.std_errors, "p": 2 * stats.t.sf((res.params / res.std_errors).abs(), g - 1),
                          "df": g - 1})
    return {
        "coefficients": coefs, "n_obs": int(res.nobs), "n_provinces": int(d["province_code"].nunique()),
        "n_entities": int(res.entity_info["total"]), "n_years": int(res.time_info["total"]),
        "segments": sorted(int(s) for s in d["segment"].unique()), "years": sorted(int(t) for t in d.index.get_level_values("year").unique()),
        "r2_within": float(res.rsquared_within), "reliability": provenance(d[[c for c in d if c.startswith("reliability:")]].stack()),
        "result": res,
    }


def fe_statsmodels(d: pd.DataFrame, y: str, xs: list[str], time_effects: bool = True) -> pd.DataFrame:
    """The same model as least-squares dummy variables in statsmodels: entity and year dummies, errors
    clustered by province with statsmodels' G/(G-1)*(N-1)/(N-K) correction (K counting every dummy:
    `attrs` carry N and K so a caller can convert to the slopes-only correction)."""
    d = _drop_singletons(d).reset_index()
    safe = {c: f"v{i}" for i, c in enumerate([y, *xs])}
    d = d.rename(columns=safe)
    d["entity"] = d["entity"].astype(str).to_numpy(dtype=object)  # patsy needs numpy dtypes
    d["year"] = d["year"].astype(int)
    rhs = " + ".join(safe[x] for x in xs) + " + C(entity)" + (" + C(year)" if time_effects else "")
    groups = pd.Categorical(d["province_code"]).codes
    with warnings.catch_warnings():
        # entity dummies of one segment sum to that segment's year dummies: a known, harmless rank deficiency
        # (statsmodels solves by pseudo-inverse and counts K as the rank); the slopes are identified
        warnings.filterwarnings("ignore", message="The design matrix is rank-deficient")
        fit = smf.ols(f"{safe[y]} ~ {rhs}", data=d).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": True})
    back = {v: k for k, v in safe.items()}
    names = [safe[x] for x in xs]
    out = pd.DataFrame({"coef": fit.params[names], "se": fit.bse[names]}).rename(index=back)
    out.attrs.update(n=int(fit.nobs), k=int(fit.model.exog.shape[1]))  # statsmodels counts columns, not the rank
    return out


def variants(d: pd.DataFrame, y: str, xs: list[str], drop_years: list[int], time_effects: bool = True) -> dict[str, dict]:
    """The main model and robustness variants that change the sample: without `drop_years` (COVID-19),
    and within the longest comparable segment only. A variant whose sample equals the main model's is
    not estimated again; its entry says why instead, so no row repeats the main model under another name."""
    main = fe_regression(d, y, xs, time_effects)
    out = {"main": main}
    years = set(main["years"])
    hit = sorted(years & set(drop_years))
    name = f"without {', '.join(map(str, drop_years))}"
    rest = d[~d.index.get_level_values("year").isin(drop_years)]
    out[name] = {"skipped": f"no year of {drop_years} in the model's years"} if not hit else \
        {"skipped": why} if (why := not_estimable(rest, y, xs, time_effects)) else fe_regression(rest, y, xs, time_effects)
    used = d[d["segment"].isin(main["segments"])]
    sizes = used.groupby("segment").apply(lambda g: g.index.get_level_values("year").nunique())
    if len(sizes) > 1:
        longest = int(sizes.idxmax())
        yrs = sorted(int(t) for t in used[used["segment"] == longest].index.get_level_values("year").unique())
        one = used[used["segment"] == longest]
        why = not_estimable(one, y, xs, time_effects)
        out[f"longest segment only ({yrs[0]}-{yrs[-1]})"] = {"skipped": why} if why else fe_regression(one, y, xs, time_effects)
    else:
        out["longest segment only"] = {"skipped": "the model already uses one comparable segment"}
    return out


def identification(d: pd.DataFrame) -> dict[str, list[int]]:
    """Which years identify the slopes: the years of comparable segments with at least two years (the
    within-segment changes the estimator uses), and the years left out because their segment has one year
    (a province's intercept changes at every break, so a one-year segment has no within variation)."""
    years = d.reset_index().groupby("segment")["year"].agg(lambda y: sorted(int(v) for v in y.unique()))
    return {"identifying_years": sorted(y for ys in years if len(ys) > 1 for y in ys),
            "one_year_segments": sorted(y for ys in years if len(ys) == 1 for y in ys)}


def _two_way_within(v: pd.Series, entity: pd.Index, year: pd.Index, tol: float = 1e-12) -> pd.Series:
    """v with entity and year means removed (alternating projections until the change is below `tol`)."""
    for _ in range(1000):
        new = v - v.groupby(entity).transform("mean")
        new = new - new.groupby(year).transform("mean")
        if float((new - v).abs().max()) < tol:
            return new
        v = new
    return v


def shared_error_bias(d: pd.DataFrame, y: str, x: str, se: pd.DataFrame, beta_hat: float, se_multiplier: float = 1.0) -> dict:
    """How far sampling error can move a within-province slope when y and x are means over the same
    respondents (two PAPI dimensions of one province-year). With errors a (in x) and b (in y), independent
    across province-years, the fixed-effects slope tends to

        beta_hat = lambda * beta + rho * shared,   lambda = 1 - f * mean(se_x^2) / S_xx,
                                                    shared = f * mean(se_x * se_y) / S_xx

    S_xx: the mean square of x after removing province-segment and year means (what identifies the slope);
    f: the share of an independent error's variance that survives that (1 - 1/T for an entity seen T times);
    lambda: the reliability of that within variation (attenuation); rho: the correlation of a and b, which
    the publisher does not give. `se` holds each province's `se_y` and `se_x` (province_code index), scaled by
    `se_multiplier` (the SEs of the model's years as a multiple of those given). Returns lambda, shared, and
    the slope beta the estimate implies for rho = -1, 0, 1 (None where lambda <= 0: the within variation is
    no larger than the noise). A statement of size conditional on the SEs, not a correction: for PAPI they
    are the 2019 ones, carried to other years (`shared_error_table` varies both unknowns;
    `reliability_from_autocorrelation` asks the data which noise level fits)."""
    d = _drop_singletons(d)
    ent, yr = d.index.get_level_values("entity"), d.index.get_level_values("year")
    xt = _two_way_within(d[x].astype(float), ent, yr)
    s_xx = float((xt**2).mean())
    t = pd.Series(ent).map(pd.Series(ent).value_counts()).to_numpy(float)
    f = 1 - 1 / t
    sx = se_multiplier * d["province_code"].map(se["se_x"]).to_numpy(float)
    sy = se_multiplier * d["province_code"].map(se["se_y"]).to_numpy(float)
    lam = float(1 - np.mean(f * sx**2) / s_xx)
    shared = float(np.mean(f * sx * sy) / s_xx)
    implied = {rho: ((beta_hat - rho * shared) / lam if lam > 0 else None) for rho in (-1, 0, 1)}
    return {"reliability": lam, "shared_per_rho": shared, "beta_if_rho_minus_1": implied[-1], "beta_if_rho_0": implied[0],
            "beta_if_rho_1": implied[1], "within_sd_x": float(np.sqrt(s_xx)), "rms_se_x": float(np.sqrt(np.mean(sx**2))), "n_obs": len(d),
            "se_multiplier": se_multiplier}


def shared_error_table(d: pd.DataFrame, y: str, x: str, se: pd.DataFrame, beta_hat: float,
                       multipliers: tuple[float, ...] = (0.5, 0.75, 1.0), rhos: tuple[float, ...] = (-1.0, 0.0, 1.0)) -> pd.DataFrame:
    """The slope `shared_error_bias` implies over a grid of the two unknowns: the SEs of the model's years
    as a multiple of the given ones (rows) and the correlation of the two errors (columns `rho=...`), with
    the reliability of the within variation of x per row. None where the noise would exceed the variation."""
    rows = []
    for m in multipliers:
        r = shared_error_bias(d, y, x, se, beta_hat, m)
        lam, shared = r["reliability"], r["shared_per_rho"]
        rows.append({"se_multiplier": m, "reliability": lam,
                     **{f"rho={rho:+.2f}": ((beta_hat - rho * shared) / lam if lam > 0 else None) for rho in rhos}})
    return pd.DataFrame(rows).set_index("se_multiplier")


def _within_operator(d: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The matrix that removes entity and year means (the residual maker of entity and year dummies, as
    the fixed-effects estimator sees x), and the positions of consecutive years within an entity."""
    d = _drop_singletons(d)
    ent = pd.Categorical(d.index.get_level_values("entity"))
    yr = pd.Categorical(d.index.get_level_values("year"))
    dummies = np.column_stack([np.eye(len(ent.categories))[ent.codes], np.eye(len(yr.categories))[yr.codes]])
    resid = np.eye(len(d)) - dummies @ np.linalg.pinv(dummies)
    years = np.asarray(d.index.get_level_values("year"), int)
    codes = ent.codes
    order = np.lexsort((years, codes))
    a, b = order[:-1], order[1:]
    consecutive = (codes[a] == codes[b]) & (years[b] - years[a] == 1)
    return resid, a[consecutive], b[consecutive]


def within_lag1(d: pd.DataFrame, x: str) -> float:
    """Lag-1 autocorrelation of x after province-segment and year means are removed (the variation a
    fixed-effects slope rests on), over consecutive years of one entity. Pure noise gives about
    -1 / (T - 1) (-0.33 for four years): removing an entity's mean makes its deviations sum to zero; a
    signal that persists from year to year pulls it up."""
    resid, a, b = _within_operator(d)
    v = resid @ _drop_singletons(d)[x].to_numpy(float)
    return float(np.corrcoef(v[a], v[b])[0, 1])


def reliability_from_autocorrelation(d: pd.DataFrame, x: str, reliabilities: np.ndarray | None = None, draws: int = 2000,
                                     seed: int = SEED) -> pd.DataFrame:
    """What within-province reliability of x the data's own persistence allows. For each reliability
    lambda (the share of x's within variation that is signal, the rest independent sampling noise) and two
    kinds of signal that persist (a random walk within each province, or a province's own linear trend),
    simulate x on the model's entities and years, remove entity and year means, and compute `within_lag1`:
    its mean and central 95% range over `draws`. `attrs["observed"]` holds the data's value and
    `attrs["consistent"]`, per signal, the reliabilities whose 95% range contains it. The check assumes the
    signal persists; a signal that itself jumps from year to year would look like noise."""
    reliabilities = np.round(np.arange(0.05, 1.0, 0.05), 2) if reliabilities is None else np.asarray(reliabilities, float)
    resid, a, b = _within_operator(d)
    dd = _drop_singletons(d)
    codes = pd.Categorical(dd.index.get_level_values("entity")).codes
    years = np.asarray(dd.index.get_level_values("year"), float)
    n_ent = codes.max() + 1
    rng = np.random.default_rng(seed)
    order = np.lexsort((years, codes))

    def demeaned_unit(z: np.ndarray) -> np.ndarray:
        v = z @ resid.T
        return v / v.std(axis=1, keepdims=True)

    noise = demeaned_unit(rng.standard_normal((draws, len(dd))))
    walk = np.empty((draws, len(dd)))
    steps = rng.standard_normal((draws, len(dd)))
    walk[:, order] = steps[:, order]
    for k in range(1, len(order)):  # cumulative sum within each entity, in year order
        i, j = order[k - 1], order[k]
        if codes[i] == codes[j]:
            walk[:, j] += walk[:, i]
    slope = rng.standard_normal((draws, n_ent))[:, codes] * (years - years.mean())
    signals = {"random walk": demeaned_unit(walk), "trend": demeaned_unit(slope)}
    rows = []
    for name, sig in signals.items():
        for lam in reliabilities:
            v = np.sqrt(lam) * sig + np.sqrt(1 - lam) * noise
            va, vb = v[:, a] - v[:, a].mean(axis=1, keepdims=True), v[:, b] - v[:, b].mean(axis=1, keepdims=True)
            r1 = (va * vb).sum(axis=1) / np.sqrt((va**2).sum(axis=1) * (vb**2).sum(axis=1))
            rows.append({"signal": name, "reliability": float(lam), "lag1_mean": float(r1.mean()),
                         "lag1_low": float(np.quantile(r1, 0.025)), "lag1_high": float(np.quantile(r1, 0.975))})
    out = pd.DataFrame(rows)
    obs = within_lag1(d, x)
    ok = out[(out["lag1_low"] <= obs) & (obs <= out["lag1_high"])]
    out.attrs.update(observed=obs, consistent={k: sorted(g["reliability"]) for k, g in ok.groupby("signal")})
    return out
