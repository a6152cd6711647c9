"""Methodology breaks seen from the data, and like-for-like comparisons around the recorded ones.

The codebook (`data/codebook.yml`, `analysis.panel.codebook.breaks`) is the reviewed record of every
break; this module is how candidates are found. `screen` compares every pair of consecutive years of an
indicator on the share of its maximum (so a pure rescale does not count) and raises four kinds of flag:
the provincial spread changes by more than a factor of two, the mean moves by more than two pooled
standard deviations in one year, many provinces pile up at one floor value, or the provinces change places
far more than the series' own record allows ('rank reshuffle', `rank_stability`). The last is a test with a
stated error rate; the first three are rules of thumb. A flag is a reason to look, not a verdict: the
codebook records what the evidence supports (a documented change, or a pattern the data show broadly and
lastingly), and a flag with neither stays a flag.

The rank-reshuffle test. A series' year-to-year rank correlations vary for real reasons (PAPI's
participation items ask about the same election for several rounds), so a step is judged against the
other steps with a spread that includes that variation: on Fisher's z scale, sqrt(SE^2 + tau^2 +
Var(median)), SE the step's Bonett-Wright sampling error, tau^2 the between-step variance of the other
steps (DerSimonian-Laird) and Var(median) the uncertainty of their median. The score's null distribution
depends on how many other steps there are and how noisy tau is with so few, so its p-value comes from a
parametric bootstrap of the same series under no break (`judge`), and the false discovery rate is controlled
(Benjamini-Hochberg) over every step the screen judges at once; `screen(...).attrs` says how many flags
chance alone may have raised. A robust cut-off of -3.5 MADs, this module's earlier rule, flagged 11 of
545 steps with about 1-4 expected by chance alone (Φ(-3.5) is 0.02% per step, but the real rate is 0.4-2%
at the between-step variation PAPI and PCI show).

A single low step is not yet a break: a one-year outlier (a bad wave) lowers the correlations *into and
out of* that year, a lasting change lowers every correlation *across* the step. So each step also gets the
lag-2 check: the rank correlations of the year before the step with the year after it, and of the year
before with the second year after it, judged the same way against the series' other lag-2 correlations
(`lasting`: both low, one-sided p below `LASTING_ALPHA` each). `step_summary` adds the breadth: how many
indicators of the index are flagged or lasting at each step, and the median score of its leaf parts. PAPI
2020 -> 2021 is where all three agree.

`like_for_like` answers the question a report card asks across a caveated break of a composite score:
which of its leaf parts may be compared between two years."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..notebook import SEED
from ..panel import codebook
from .common import annual, share_of_max

SD_RATIO = 2.0  # flag when the provincial SD changes by more than this factor in one year
MEAN_SHIFT = 2.0  # flag when the mean moves by more than this many pooled SDs in one year
FLOOR = 5  # flag when this many more provinces share the lowest value than in the other year
FDR_Q = 0.05  # false discovery rate of the rank-reshuffle flags over everything one screen judges
DRAWS = 20_000  # bootstrap draws per step: p-values down to 5e-5, below BH's first threshold over ~550 steps
LASTING_ALPHA = 0.05  # each lag-2 correlation across a step must be this unlikely for the change to count as lasting
LASTING_DRAWS = 4_000  # the lag-2 check needs p near 0.05 only
MIN_RANK_REFERENCE = 4  # other steps needed before a step's rank correlation is judged at all
MIN_LAG2_REFERENCE = 3  # other lag-2 pairs needed for the lasting check (the bootstrap prices in how few they are)


def spearman_se(rho: float, n: int) -> float:
    """Standard error of a Spearman correlation on Fisher's z scale (Bonett and Wright 2000):
    sqrt((1 + rho^2 / 2) / (n - 3)). The sampling noise a step's rank correlation has at its N."""
    return float(np.sqrt((1 + rho**2 / 2) / (n - 3))) if n > 3 else float("nan")


def between_step_variance(z: np.ndarray, v: np.ndarray) -> np.ndarray:
    """DerSimonian-Laird estimate of tau^2, the variance of the true Fisher-z rank correlations between
    steps, from estimates `z` (last axis: steps; any leading axes are independent replicates) with sampling
    variances `v` (one per step). Zero when the steps agree no more than sampling noise predicts."""
    w = 1.0 / np.asarray(v, float)
    sw = w.sum()
    mu = z @ w / sw
    q = (z * z) @ w - sw * mu**2  # sum w (z - mu)^2
    return np.maximum(0.0, (q - (len(w) - 1)) / (sw - (w**2).sum() / sw))


def _median(z: np.ndarray) -> np.ndarray:
    s = np.sort(z, axis=-1)
    m = s.shape[-1]
    return s[..., m // 2] if m % 2 else (s[..., m // 2 - 1] + s[..., m // 2]) / 2


def _score(z_t: np.ndarray | float, v_t: float, z_ref: np.ndarray, v_ref: np.ndarray) -> tuple:
    """(z_t - median of z_ref) / sqrt(v_t + tau^2 + Var(median)); Var(median) by the normal approximation
    pi/2 x (mean sampling variance + tau^2) / m. Vectorised over leading axes of z_ref."""
    med = _median(z_ref)
    tau2 = between_step_variance(z_ref, v_ref)
    spread = np.sqrt(v_t + tau2 + np.pi / 2 * (v_ref.mean() + tau2) / len(v_ref))
    return (z_t - med) / spread, med, spread, tau2


def judge(rho: float, n: int, rho_ref: np.ndarray, n_ref: np.ndarray, draws: int, rng: np.random.Generator) -> dict:
    """One rank correlation judged against reference ones of the same series: the reference median
    (as a correlation), tau (between-step SD, z scale), the spread, the score and its one-sided p-value
    (how often a score this low arises when the step is one more draw from the reference's own
    distribution). The p-value is a parametric bootstrap: every reference z and the judged z are drawn
    from N(median, SE^2 + tau^2), with the SEs at the reference median and each step's N, and the score is
    recomputed, tau and median included, `draws` times. p = (1 + #{draw <= observed}) / (draws + 1)."""
    z_ref = np.arctanh(np.clip(np.asarray(rho_ref, float), -0.999999, 0.999999))
    z_t = float(np.arctanh(np.clip(rho, -0.999999, 0.999999)))
    r0 = float(np.tanh(np.median(z_ref)))
    v_ref = (1 + r0**2 / 2) / (np.asarray(n_ref, float) - 3)
    v_t = (1 + r0**2 / 2) / (n - 3)
    score, med, spread, tau2 = _score(z_t, v_t, z_ref, v_ref)
    sim_ref = rng.standard_normal((draws, len(v_ref))) * np.sqrt(v_ref + tau2)
    sim_t = rng.standard_normal(draws) * np.sqrt(v_t + tau2)
    null = _score(sim_t, v_t, sim_ref, v_ref)[0]
    p = (1 + int(np.sum(null <= score))) / (draws + 1)
    return {"reference": float(np.tanh(med)), "tau": float(np.sqrt(tau2)), "spread": float(spread), "score": float(score), "p": p}


def _rng(seed: int, *key: str) -> np.random.Generator:
    """One generator per series, so a series' p-values do not depend on which other series are screened."""
    return np.random.default_rng([seed, zlib.crc32("|".join(key).encode())])


def rank_stability(rho: pd.Series, n: pd.Series, reference: pd.Series, draws: int = DRAWS, seed: int = SEED,
                   key: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each step's year-to-year rank correlation judged against the other steps of the same series
    (`judge`). `reference` marks the steps that may serve as reference: a step across a break the codebook
    already records as not comparable is judged, but never used to judge others. With fewer than
    `MIN_RANK_REFERENCE` reference steps a step is not judged (NaN). Returns, aligned with `rho`: the
    reference median rho, tau, the spread (z scale), the score and its bootstrap p-value (one-sided:
    rank stability rising is no break). Not yet corrected for multiplicity: `screen` does that."""
    rng = _rng(seed, *key)
    r, m, ref = rho.to_numpy(float), n.to_numpy(float), reference.to_numpy(bool)
    out = np.full((len(r), 5), np.nan)
    for k in range(len(r)):
        others = ref.copy()
        others[k] = False
        if others.sum() < MIN_RANK_REFERENCE or not np.isfinite(r[k]):
            continue
        j = judge(r[k], int(m[k]), r[others], m[others], draws, rng)
        out[k] = (j["reference"], j["tau"], j["spread"], j["score"], j["p"])
    return pd.DataFrame(out, index=rho.index, columns=["rank_rho_reference", "rank_tau_z", "rank_spread_z", "rank_z", "rank_p"])


def lasting(lag2: pd.DataFrame, steps: pd.DataFrame, draws: int = LASTING_DRAWS, seed: int = SEED, key: tuple[str, ...] = ()) -> pd.DataFrame:
    """The lag-2 check of every step of one series. `steps` has one row per consecutive pair of years (k:
    years[k] -> years[k+1]) with `comparable`; `lag2` one row per pair years[i] -> years[i+2] with
    `spearman_rho` and `n`. For step k the pairs across it are 'before' (years[k-1] -> years[k+1]) and
    'after' (years[k] -> years[k+2]); each is judged against the lag-2 pairs that span neither step k nor a
    recorded non-comparable step, and is itself not judged if it spans another such step. `lasting` holds
    where both are low (`LASTING_ALPHA`; an intersection-union test, valid however the two depend on each
    other); None where either cannot be judged (a step at the end of a series cannot show that it lasts)."""
    rng = _rng(seed, "lag2", *key)
    ok = steps["comparable"].to_numpy(bool)
    k_steps = len(ok)
    rho, n = lag2["spearman_rho"].to_numpy(float), lag2["n"].to_numpy(float)
    eligible = np.array([ok[i] and ok[i + 1] for i in range(len(rho))], bool)
    rows = []
    for k in range(k_steps):
        row: dict = {}
        for side, i, other_step in (("before", k - 1, k - 1), ("after", k, k + 1)):
            row[f"lag2_rho_{side}"] = rho[i] if 0 <= i < len(rho) else np.nan
            row[f"lag2_z_{side}"] = row[f"lag2_p_{side}"] = np.nan
            if not (0 <= i < len(rho)) or not np.isfinite(rho[i]) or not ok[other_step]:
                continue
            refs = eligible.copy()
            refs[[j for j in (k - 1, k) if 0 <= j < len(refs)]] = False
            if refs.sum() < MIN_LAG2_REFERENCE:
                continue
            j = judge(rho[i], int(n[i]), rho[refs], n[refs], draws, rng)
            row[f"lag2_z_{side}"], row[f"lag2_p_{side}"] = j["score"], j["p"]
        both = [row["lag2_p_before"], row["lag2_p_after"]]
        row["lasting_p"] = max(both) if all(np.isfinite(both)) else np.nan
        row["lasting"] = None if not np.isfinite(row["lasting_p"]) else bool(row["lasting_p"] < LASTING_ALPHA)
        rows.append(row)
    out = pd.DataFrame(rows, index=steps.index)
    out["lasting"] = out["lasting"].astype("boolean")
    return out


def _pair(values: np.ndarray, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns i and j of a province x year array, over the provinces with a value in both."""
    both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
    return values[both, i], values[both, j]


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])


def mean_abs_percentile_change(a: pd.Series | np.ndarray, b: pd.Series | np.ndarray) -> float:
    """Mean absolute change of percentile rank (100 = first, 0 = last; ties share the average rank) of the
    provinces in both years: how far a typical province moved, in percent of the field."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    n = len(a)
    if n < 2:
        return float("nan")
    pa = 100 * (n - stats.rankdata(-a)) / (n - 1)
    pb = 100 * (n - stats.rankdata(-b)) / (n - 1)
    return float(np.abs(pb - pa).mean())


def screen(panel: pd.DataFrame, indices: list[str] | None = None, min_provinces: int = 10, q: float = FDR_Q,
           draws: int = DRAWS, seed: int = SEED) -> pd.DataFrame:
    """One row per indicator and pair of consecutive years with at least `min_provinces` provinces in both:
    N, Spearman rho of province values across the two years and its judgement against the series' other
    steps (`rank_stability`: reference rho, tau, spread, score, bootstrap p and the BH-adjusted `rank_q`
    over every step judged here), the lag-2 check (`lasting`), the mean absolute change of percentile rank,
    SD ratio, standardized mean shift (both on the share of the maximum), how many provinces share the
    minimum in each year, the flags raised ('spread', 'mean shift', 'floor', 'rank reshuffle' where
    rank_q <= q) and the codebook breaks recorded between the two years.

    `attrs`: `q`, `judged` (steps with a rank p-value), `rank_flags`, and `expected_false_rank_flags`
    (q x rank_flags: BH keeps the expected share of chance flags among the flags at or below q)."""
    a = annual(panel)
    a = a[~a["indicator"].str.endswith("_rank") & a["scale_max"].notna()]
    if indices:
        a = a[a["index"].isin(indices)]
    a = a.assign(share=share_of_max(a))
    frames = []
    for (index, indicator), g in a.groupby(["index", "indicator"], sort=True):
        wide = g.pivot_table(index="province_code", columns="year", values="share", aggfunc="first")
        years = sorted(wide.columns)
        values = wide.to_numpy(float)
        rows = []
        for i in range(len(years) - 1):
            x0, x1 = _pair(values, i, i + 1)
            if len(x0) < min_provinces:
                continue
            y0, y1 = years[i], years[i + 1]
            sd0, sd1 = x0.std(ddof=1), x1.std(ddof=1)
            pooled = np.sqrt((sd0**2 + sd1**2) / 2)
            ratio = sd1 / sd0 if sd0 > 0 else np.inf
            shift = (x1.mean() - x0.mean()) / pooled if pooled > 0 else 0.0
            floor0, floor1 = int(np.isclose(x0, x0.min()).sum()), int(np.isclose(x1, x1.min()).sum())
            flags = [name for name, hit in [
                ("spread", ratio > SD_RATIO or ratio < 1 / SD_RATIO),
                ("mean shift", abs(shift) > MEAN_SHIFT),
                ("floor", abs(floor1 - floor0) >= FLOOR),
            ] if hit]
            ok, found = codebook.comparable(index, indicator, y0, y1, relative=True)
            rows.append({
                "index": index, "indicator": indicator, "year_from": int(y0), "year_to": int(y1), "n": len(x0),
                "spearman_rho": _spearman(x0, x1),
                "mean_abs_pct_rank_change": mean_abs_percentile_change(x0, x1), "sd_ratio": float(ratio),
                "mean_shift_sd": float(shift), "at_floor_from": floor0, "at_floor_to": floor1,
                "flagged": ", ".join(flags), "recorded": bool(found), "comparable": ok,
                "codebook": "; ".join(f"{b.year} {b.kind}{b.scope_text()}" for b in found),
            })
        if not rows:
            continue
        steps = pd.DataFrame(rows)
        steps = steps.join(rank_stability(steps["spearman_rho"], steps["n"], steps["comparable"], draws, seed, (index, indicator)))
        # lag-2 pairs in the order of the steps: pair i spans steps i and i + 1 (consecutive steps only)
        lag2 = []
        for i in range(len(steps) - 1):
            a_, b_ = steps.iloc[i], steps.iloc[i + 1]
            if a_["year_to"] == b_["year_from"]:
                x0, x1 = _pair(values, years.index(a_["year_from"]), years.index(b_["year_to"]))
                lag2.append({"spearman_rho": _spearman(x0, x1) if len(x0) >= min_provinces else np.nan, "n": len(x0)})
            else:
                lag2.append({"spearman_rho": np.nan, "n": 0})
        steps = steps.join(lasting(pd.DataFrame(lag2, columns=["spearman_rho", "n"]), steps, seed=seed, key=(index, indicator)))
        frames.append(steps)
    cols = ["index", "indicator", "year_from", "year_to", "n", "spearman_rho", "rank_rho_reference", "rank_tau_z", "rank_spread_z",
            "rank_z", "rank_p", "rank_q", "lag2_rho_before", "lag2_rho_after", "lag2_z_before", "lag2_z_after", "lag2_p_before",
            "lag2_p_after", "lasting_p", "lasting", "mean_abs_pct_rank_change", "sd_ratio", "mean_shift_sd", "at_floor_from",
            "at_floor_to", "flagged", "recorded", "comparable", "codebook"]
    if not frames:  # no pair of years with `min_provinces` in both (an index known from a few press reports): nothing judged
        out = pd.DataFrame({c: pd.Series(dtype=object if c in ("index", "indicator", "flagged", "codebook", "lasting") else float)
                            for c in cols})
        out.attrs.update(q=q, judged=0, rank_flags=0, expected_false_rank_flags=0.0, draws=draws)
        return out
    out = pd.concat(frames, ignore_index=True)
    judged = out["rank_p"].notna()
    out["rank_q"] = np.nan
    if judged.any():
        out.loc[judged, "rank_q"] = multipletests(out.loc[judged, "rank_p"], alpha=q, method="fdr_bh")[1]
    hit = out["rank_q"] <= q
    out.loc[hit, "flagged"] = [", ".join(filter(None, [f, "rank reshuffle"])) for f in out.loc[hit, "flagged"]]
    out = out[cols]
    flags = int(hit.sum())
    out.attrs.update(q=q, judged=int(judged.sum()), rank_flags=flags, expected_false_rank_flags=q * flags, draws=draws)
    return out


def step_summary(screened: pd.DataFrame) -> pd.DataFrame:
    """Per index and step, the breadth of the evidence: indicators judged, flagged as a reshuffle, judged
    lasting (and how many could be), and the median rank score of the index's leaf indicators (those
    without parts in the codebook that year; all indicators where none are leaves). A break of a whole
    survey shows at one step across most parts at once; a chance flag shows in one series."""
    rows = []
    cols = ["index", "year_from", "year_to", "indicators", "judged", "rank_flags", "lasting", "lasting_judged", "median_leaf_rank_z"]
    for (index, y0, y1), g in screened.groupby(["index", "year_from", "year_to"], sort=True):
        leaf = g[[codebook.parts(index, ind, int(y1)) is None for ind in g["indicator"]]]
        leaf = leaf if leaf["rank_z"].notna().any() else g
        rows.append({"index": index, "year_from": y0, "year_to": y1, "indicators": len(g), "judged": int(g["rank_z"].notna().sum()),
                     "rank_flags": int(g["flagged"].str.contains("rank reshuffle").sum()),
                     "lasting": int((g["lasting"] == True).sum()),  # noqa: E712 (nullable boolean)
                     "lasting_judged": int(g["lasting"].notna().sum()), "median_leaf_rank_z": float(leaf["rank_z"].median())})
    return pd.DataFrame(rows, columns=cols)  # the columns even when no step was screened


def like_for_like(index: str, indicator: str, year_a: int, year_b: int) -> tuple[list[str], list[str]]:
    """The leaf parts of a composite score that may be compared between two years, and those that may not.

    A leaf is comparable when it exists in both years and no non-comparable break lies between them. A
    pure rescale of a leaf keeps it comparable as a share of its maximum only: a caller that sums leaves
    must first put both years on one scale (value / max that year x max in the other year), or the rescale
    itself reads as a change. For an indicator with no parts the answer is the indicator itself."""
    lo, hi = sorted((int(year_a), int(year_b)))

    def leaves(ind: str, year: int) -> list[str]:
        sub = codebook.parts(index, ind, year)
        return [leaf for p in sub for leaf in leaves(p, year)] if sub else [ind]

    both = [p for p in leaves(indicator, hi) if p in set(leaves(indicator, lo))]
    keep = [p for p in both if codebook.comparable(index, p, lo, hi, relative=True)[0]]
    dropped = sorted((set(leaves(indicator, lo)) | set(leaves(indicator, hi))) - set(keep))
    return keep, dropped


def like_for_like_series(s_leaves: pd.DataFrame, index: str, indicator: str, segments: list[list[int]]) -> tuple[pd.DataFrame, dict]:
    """A composite rebuilt like for like within each comparable segment: for every segment, the leaf parts
    comparable between its first and last year (`like_for_like`), each as its share of its maximum times
    its maximum in the segment's first year, summed per province and year where every kept leaf is present.
    `s_leaves` are annual rows of the leaves (index, indicator, province_code, province, year, value,
    scale_max, reliability). Returns rows shaped like `stats.common.series` (scale_max = the kept leaves'
    maxima) and, per segment, the parts left out: the sensitivity check of a trend on a total whose parts
    break inside a segment that is comparable only 'as published'."""
    frames, dropped = [], {}
    for seg in segments:
        keep, out = like_for_like(index, indicator, seg[0], seg[-1])
        dropped[f"{seg[0]}-{seg[-1]}"] = out
        if not keep:
            continue
        rows = s_leaves[s_leaves["year"].isin(seg) & s_leaves["indicator"].isin(keep)]
        base = {leaf: codebook.expected_scale_max(index, leaf, seg[0]) for leaf in keep}
        rows = rows.assign(v=share_of_max(rows) / 100 * rows["indicator"].map(base))
        wide = rows.pivot_table(index=["province_code", "year"], columns="indicator", values="v", aggfunc="first").reindex(columns=keep)
        total = wide.dropna().sum(axis=1).rename("value").reset_index()
        meta = rows.groupby(["province_code", "year"]).agg(province=("province", "first"), reliability=("reliability", "first")).reset_index()
        frames.append(total.merge(meta, on=["province_code", "year"]).assign(index=index, indicator=indicator,
                                                                              scale_max=float(sum(base.values()))))
    cols = ["index", "indicator", "province_code", "province", "year", "value", "scale_max", "reliability"]
    return (pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)), dropped
