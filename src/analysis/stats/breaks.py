"""Methodology breaks seen from the data, and like-for-like comparisons around the recorded ones.

The codebook (`data/codebook.yml`, `analysis.panel.codebook.breaks`) is the reviewed record of every
break; this module is how new ones are found and how the record is kept honest. `screen` compares every
pair of consecutive years of an indicator on the share of its maximum (so a pure rescale does not count)
and flags a pair whose provincial spread changes by more than a factor of two, whose mean moves by more
than two pooled standard deviations in one year, or where many provinces pile up at one floor value.
Those three see a change of the distribution; they cannot see a *reshuffle*, where the spread and the
mean stay but the provinces change places (PAPI 2020 -> 2021: Spearman 0.22 against 0.41-0.80 in every
other year). So the screen also judges each year-to-year rank correlation against the series' own
record (`rank_stability`). Real governance changes rarely do any of these in a year; changed questions,
items, samples or sources do. A flag is a prompt for review, not a verdict: each flagged pair is recorded
in the codebook either as a break or as a caveat with the reason (tests/test_stats.py enforces that).

`like_for_like` answers the question a report card asks across a caveated break of a composite score:
which of its leaf parts may be compared between two years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..panel import codebook
from .common import annual, share_of_max

SD_RATIO = 2.0  # flag when the provincial SD changes by more than this factor in one year
MEAN_SHIFT = 2.0  # flag when the mean moves by more than this many pooled SDs in one year
FLOOR = 5  # flag when this many more provinces share the lowest value than in the other year
RANK_Z = -3.5  # flag a step whose rank correlation lies this many robust SDs below the series' other steps
MIN_RANK_REFERENCE = 4  # other steps needed before a step's rank correlation is judged at all


def spearman_se(rho: float, n: int) -> float:
    """Standard error of a Spearman correlation on Fisher's z scale (Bonett and Wright 2000):
    sqrt((1 + rho^2 / 2) / (n - 3)). The sampling noise a step's rank correlation has at its N."""
    return float(np.sqrt((1 + rho**2 / 2) / (n - 3))) if n > 3 else float("nan")


def rank_stability(rho: pd.Series, n: pd.Series, reference: pd.Series) -> pd.DataFrame:
    """Each step's year-to-year rank correlation judged against the other steps of the same series.

    The rule: on Fisher's z scale, a step's modified z-score (Iglewicz and Hoaglin 1993) is its distance
    from the median of the *other* reference steps, divided by their spread, 1.4826 x the median absolute
    deviation, but never less than the step's own sampling SE (`spearman_se` at the reference median and
    the step's N), so that a series whose steps happen to agree closely does not flag a drop that sampling
    noise explains. A step is a reshuffle when that score is below `RANK_Z` (-3.5, their cut-off for
    outliers; one-sided: rank stability rising is no break). `reference` marks the steps that may serve as
    reference: a step across a break the codebook already records as not comparable is judged, but never
    used to judge others. With fewer than `MIN_RANK_REFERENCE` reference steps a step is not judged (NaN).
    Returns, aligned with `rho`: the reference median rho, the spread used (z scale) and the score."""
    z = np.arctanh(np.clip(rho.to_numpy(float), -0.999999, 0.999999))
    ref = reference.to_numpy(bool)
    out = np.full((len(z), 3), np.nan)
    for k in range(len(z)):
        others = ref.copy()
        others[k] = False
        if others.sum() < MIN_RANK_REFERENCE or not np.isfinite(z[k]):
            continue
        med = float(np.median(z[others]))
        spread = max(1.4826 * float(np.median(np.abs(z[others] - med))), spearman_se(float(np.tanh(med)), int(n.iloc[k])))
        out[k] = (np.tanh(med), spread, (z[k] - med) / spread)
    return pd.DataFrame(out, index=rho.index, columns=["rank_rho_reference", "rank_spread_z", "rank_z"])


def mean_abs_percentile_change(a: pd.Series, b: pd.Series) -> float:
    """Mean absolute change of percentile rank (100 = first, 0 = last; ties share the average rank) of the
    provinces in both years: how far a typical province moved, in percent of the field."""
    n = len(a)
    if n < 2:
        return float("nan")
    pa = 100 * (n - a.rank(ascending=False)) / (n - 1)
    pb = 100 * (n - b.rank(ascending=False)) / (n - 1)
    return float((pb - pa).abs().mean())


def screen(panel: pd.DataFrame, indices: list[str] | None = None, min_provinces: int = 10) -> pd.DataFrame:
    """One row per indicator and pair of consecutive years with at least `min_provinces` provinces in both:
    N, Spearman rho of province values across the two years and its judgement against the series' other
    steps (`rank_stability`: reference rho, spread, score), the mean absolute change of percentile rank,
    SD ratio, standardized mean shift (both on the share of the maximum), how many provinces share the
    minimum in each year, the flags raised ('spread', 'mean shift', 'floor', 'rank reshuffle') and the
    codebook breaks recorded between the two years."""
    a = annual(panel)
    a = a[~a["indicator"].str.endswith("_rank") & a["scale_max"].notna()]
    if indices:
        a = a[a["index"].isin(indices)]
    a = a.assign(share=share_of_max(a))
    rows = []
    for (index, indicator), g in a.groupby(["index", "indicator"], sort=True):
        wide = g.pivot_table(index="province_code", columns="year", values="share", aggfunc="first")
        years = sorted(wide.columns)
        for y0, y1 in zip(years[:-1], years[1:], strict=True):
            d = wide[[y0, y1]].dropna()
            if len(d) < min_provinces:
                continue
            sd0, sd1 = d[y0].std(ddof=1), d[y1].std(ddof=1)
            pooled = np.sqrt((sd0**2 + sd1**2) / 2)
            ratio = sd1 / sd0 if sd0 > 0 else np.inf
            shift = (d[y1].mean() - d[y0].mean()) / pooled if pooled > 0 else 0.0
            floor0, floor1 = int(np.isclose(d[y0], d[y0].min()).sum()), int(np.isclose(d[y1], d[y1].min()).sum())
            flags = [name for name, hit in [
                ("spread", ratio > SD_RATIO or ratio < 1 / SD_RATIO),
                ("mean shift", abs(shift) > MEAN_SHIFT),
                ("floor", abs(floor1 - floor0) >= FLOOR),
            ] if hit]
            ok, found = codebook.comparable(index, indicator, y0, y1, relative=True)
            rows.append({
                "index": index, "indicator": indicator, "year_from": int(y0), "year_to": int(y1), "n": len(d),
                "spearman_rho": float(d[y0].corr(d[y1], method="spearman")),
                "mean_abs_pct_rank_change": mean_abs_percentile_change(d[y0], d[y1]), "sd_ratio": float(ratio),
                "mean_shift_sd": float(shift), "at_floor_from": floor0, "at_floor_to": floor1,
                "flagged": ", ".join(flags), "recorded": bool(found), "comparable": ok,
                "codebook": "; ".join(f"{b.year} {b.kind}{'' if b.comparable else ' (not comparable)'}" for b in found),
            })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    judged = [rank_stability(g["spearman_rho"], g["n"], g["comparable"]) for _, g in out.groupby(["index", "indicator"], sort=False)]
    out = out.join(pd.concat(judged))
    hit = out["rank_z"] < RANK_Z
    out.loc[hit, "flagged"] = [", ".join(filter(None, [f, "rank reshuffle"])) for f in out.loc[hit, "flagged"]]
    cols = ["index", "indicator", "year_from", "year_to", "n", "spearman_rho", "rank_rho_reference", "rank_spread_z", "rank_z",
            "mean_abs_pct_rank_change", "sd_ratio", "mean_shift_sd", "at_floor_from", "at_floor_to", "flagged", "recorded",
            "comparable", "codebook"]
    return out[cols]


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
