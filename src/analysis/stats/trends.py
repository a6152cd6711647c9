"""Trends per province within comparable segments, and rank mobility that states what ranks are out of.

A trend never runs across a methodology break. `province_trends` splits each series at the codebook's
breaks (`analysis.panel.codebook.segments`) and runs a stratified Mann-Kendall test: the Kendall S
statistic and its variance are summed over segments (pairs of years are compared only within a
segment), and Sen's slope is the median of the within-segment pairwise slopes (Hirsch, Slack and Smith
1982, the seasonal Kendall test with segments as strata). A step at each break is thereby allowed and
never read as a trend. p-values are adjusted across provinces (Benjamini-Hochberg by default), and the
counts before and after adjustment are both reported.

Within-year z-scores measure a province's *relative standing* (distance from that year's provincial
mean in SDs): they remove a change of scale and the national trend, not a change of what is measured."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pymannkendall as mk
from scipy import stats
from statsmodels.stats.multitest import multipletests

from ..panel import codebook
from .common import provenance, series, share_of_max

__all__ = ["ADJUST", "attainable", "count_trends", "joined_segment", "mann_kendall", "mobility_span", "percentile_rank", "province_trends",
           "rank_changes", "resegment", "series", "split_change", "stratified_mann_kendall", "zscores"]

ADJUST = {"bh": "fdr_bh", "holm": "holm", "none": None}
MEASURES = ("z", "share", "level")


def zscores(s: pd.DataFrame) -> pd.Series:
    """Within-year z-score: distance from that year's provincial mean in standard deviations (relative
    standing)."""
    g = s.groupby("year")["value"]
    return (s["value"] - g.transform("mean")) / g.transform("std", ddof=1)


def mann_kendall(values: pd.Series, years: pd.Series, min_n: int = 5) -> dict:
    """Mann-Kendall test and Sen slope (units per year) on one unbroken yearly series."""
    return stratified_mann_kendall(values, years, pd.Series(0, index=values.index), min_n)


def stratified_mann_kendall(values: pd.Series, years: pd.Series, segment: pd.Series, min_n: int = 5, alpha: float = 0.05) -> dict:
    """Mann-Kendall across segments: S and Var(S) summed over segments, normal approximation with the
    continuity correction, Sen slope = median of within-segment pairwise slopes per year of difference.
    `min_n` counts the years that take part in some within-segment pair (segments of one year do not)."""
    d = pd.DataFrame({"v": values.to_numpy(float), "y": years.to_numpy(int), "g": segment.to_numpy()}).dropna().sort_values(["g", "y"])
    s_total, var_total, slopes, used, n_segments = 0.0, 0.0, [], 0, 0
    for _, g in d.groupby("g", sort=False):
        if len(g) < 2:
            continue
        v, y = g["v"].to_numpy(), g["y"].to_numpy()
        r = mk.original_test(v)  # Kendall S and its tie-corrected variance for this segment
        s, var = float(r.s), float(r.var_s)
        s_total, var_total, used, n_segments = s_total + s, var_total + var, used + len(g), n_segments + 1
        i, j = np.triu_indices(len(v), 1)
        slopes.append((v[j] - v[i]) / (y[j] - y[i]))
    out = {"n": int(len(d)), "n_used": used, "segments": n_segments, "s": s_total, "var_s": var_total,
           "z": np.nan, "p": np.nan, "sen_slope": np.nan, "trend": f"too few years (N < {min_n})"}
    if used < min_n or var_total <= 0:
        return out
    z = (s_total - np.sign(s_total)) / np.sqrt(var_total)
    p = float(2 * stats.norm.sf(abs(z)))
    slope = float(np.median(np.concatenate(slopes)))
    trend = "no trend" if p >= alpha else ("increasing" if z > 0 else "decreasing")
    return out | {"z": float(z), "p": p, "sen_slope": slope, "trend": trend}


def province_trends(s: pd.DataFrame, index: str, indicator: str, measure: str = "z", min_n: int = 5, adjust: str = "bh",
                    alpha: float = 0.05, segments: list[list[int]] | None = None) -> pd.DataFrame:
    """One row per province: the trend within comparable segments of `index`/`indicator` on `measure`
    ('z' = within-year z-score, relative standing; 'share' = % of the maximum; 'level' = the published
    value), raw and adjusted p-values, and the provenance of the values used.

    Segments come from the codebook: for 'z' and 'share' a pure change of scale does not split a series
    (relative=True), for 'level' it does. `segments` overrides them for a sensitivity analysis only
    (`resegment`): the main result always follows the codebook."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, not {measure!r}")
    if adjust not in ADJUST:
        raise ValueError(f"adjust must be one of {sorted(ADJUST)}, not {adjust!r}")
    s = s.copy()
    s["y"] = zscores(s) if measure == "z" else share_of_max(s) if measure == "share" else s["value"].astype(float)
    segs = segments or codebook.segments(index, indicator, sorted(s["year"].unique()), relative=measure != "level")
    seg_of = {y: k for k, seg in enumerate(segs) for y in seg}
    s["segment"] = s["year"].map(seg_of)
    rows = []
    for code, g in s.groupby("province_code", sort=True):
        r = stratified_mann_kendall(g["y"], g["year"], g["segment"], min_n, alpha)
        rows.append({"province_code": code, "province": g["province"].iloc[0], **r, "reliability": provenance(g["reliability"])})
    out = pd.DataFrame(rows)
    out["p_adjusted"] = np.nan
    tested = out["p"].notna()
    if tested.any():
        out.loc[tested, "p_adjusted"] = (multipletests(out.loc[tested, "p"], alpha=alpha, method=ADJUST[adjust])[1]
                                         if ADJUST[adjust] else out.loc[tested, "p"])
    out["trend_adjusted"] = np.where(~tested, out["trend"], np.where(out["p_adjusted"] < alpha, out["trend"], "no trend"))
    out.attrs.update(segments=segs, measure=measure, adjust=adjust, alpha=alpha)
    return out


def resegment(segments: list[list[int]], year: int) -> list[list[int]]:
    """The other segmenting at `year`, for a sensitivity analysis: if a segment starts at `year` (the
    codebook records a break there), it is joined to the one before; otherwise the segment holding `year`
    is split there. Segments without `year` come back unchanged."""
    out = [list(g) for g in segments]
    for k, g in enumerate(out):
        if g[0] == year and k > 0:
            return out[: k - 1] + [out[k - 1] + g] + out[k + 1:]
        if year in g and g[0] != year:  # at a segment's first year there is nothing to split off (nor to join at k = 0)
            at = g.index(year)
            return out[:k] + [g[:at], g[at:]] + out[k + 1:]
    return out


def joined_segment(segments: list[list[int]], other: list[list[int]], year: int) -> list[int] | None:
    """Of two segmentings that differ at `year` (the codebook's and `resegment`'s), the segment that runs
    across `year` (starts before it and holds it): the joined one, whichever segmenting joins there (the
    codebook splits PAPI's total at 2021, so `resegment` joins; it does not split PAR INDEX there, so the
    codebook's own segment is the joined one). None when neither segmenting runs across `year`."""
    for segs in (other, segments):
        for g in segs:
            if year in g and g[0] < year:
                return list(g)
    return None


def mobility_span(s: pd.DataFrame, segment: list[int], min_ranked: int = 2) -> tuple[int, int] | None:
    """The ends of a rank-mobility comparison inside `segment`: the latest year, and the earliest year before
    it, that share a published rank for at least `min_ranked` provinces (the whole segment when every year is
    ranked, as PAPI's are). An index known from press reports has years quoted without a rank (PAR INDEX
    2024) or ranks of different provinces in different years; they cannot end one. None when no two years of
    the segment share `min_ranked` ranked provinces."""
    ranked = s[s["rank"].notna() & s["year"].isin(segment)]
    by_year = {int(y): set(g["province_code"]) for y, g in ranked.groupby("year")}
    years = sorted(by_year)
    for last in reversed(years):
        for first in years:
            if first < last and len(by_year[first] & by_year[last]) >= min_ranked:
                return first, last
    return None


def split_change(s: pd.DataFrame, joined: list[int], year: int) -> pd.DataFrame | None:
    """The percentile change over a segment that runs across `year` (`joined_segment`) split into three parts:
    first year -> year before, year before -> `year`, `year` -> last year, for the provinces ranked at both ends
    (`rank_changes`). Each year's percentile is the province's rank among those of them ranked that year, so the
    parts add up to the total where all are ranked every year. Rows with a missing part are dropped; sorted by
    the total change, largest gain first. None when `year` or the year before it has no values at all (nothing
    to split); with fewer than two provinces ranked at both ends, the columns without rows. `attrs["mid"]` holds
    the two middle years."""
    present = set(int(y) for y in s["year"].unique())
    mid = [y for y in (year - 1, year) if y in present]
    if len(mid) < 2 or not joined:
        return None
    first, last = joined[0], joined[-1]
    cols = ["province", "total change", f"{first}->{mid[0]}", f"{mid[0]}->{mid[1]}", f"{mid[1]}->{last}"]
    ends = rank_changes(s, first, last)
    if ends.empty:
        out = pd.DataFrame(columns=cols)
    else:
        ranked = s[s["province_code"].isin(ends.index) & s["rank"].notna()]
        w = ranked.pivot_table(index="province_code", columns="year", values="rank").reindex(columns=sorted({first, *mid, last}))
        common = w.rank(method="min")  # each year's rank among these provinces, out of those ranked that year
        n_year = common.notna().sum()
        pct = 100 * (n_year - common) / (n_year - 1).where(n_year >= 2)  # no percentile among fewer than two
        out = pd.DataFrame({cols[0]: ends["province"], cols[1]: ends["pct_change"], cols[2]: pct[mid[0]] - pct[first],
                            cols[3]: pct[mid[1]] - pct[mid[0]], cols[4]: pct[last] - pct[mid[1]]}).dropna()
        out = out.sort_values("total change", ascending=False)
    out.attrs["mid"] = mid
    return out


def attainable(segments: list[list[int]], n_tests: int, alpha: float = 0.05, adjust: str = "bh") -> dict:
    """What a stratified Mann-Kendall run on these segments can find at all, for a province observed in
    every year. A segment of n years adds n(n-1)(2n+5)/18 to Var(S) and n(n-1)/2 pairwise slopes to Sen's
    median, so short segments weigh little; and a test has a smallest p it can ever give, reached when every
    segment is perfectly monotone in the same direction: (normal approximation with the continuity
    correction, as `stratified_mann_kendall` computes it) 2 x sf((S_max - 1) / sqrt(Var S)), exactly
    2 / prod(n_k!) under the permutation distribution (n = 3 alone: 0.33; n = 4: 0.083). When that minimum
    is above the adjusted threshold, no province can be significant, whatever the data.

    Returns `segments` (years, n, share of Var(S), share of Sen's pairwise slopes), `min_p` (normal, what
    the test reports), `min_p_exact`, `threshold` (the strictest adjusted threshold over `n_tests`
    provinces: alpha / n_tests for BH and Holm, alpha unadjusted), and `provinces_needed`: how many
    provinces would all have to reach `min_p` before the adjustment can flag any (BH flags the k smallest
    when the k-th is at most k x alpha / n_tests; Holm needs min_p <= alpha / n_tests, so 1 or none).
    `provinces_needed` is None when even that cannot happen (min_p above alpha)."""
    if adjust not in ADJUST:
        raise ValueError(f"adjust must be one of {sorted(ADJUST)}, not {adjust!r}")
    n = np.array([len(g) for g in segments], float)
    use = n >= 2
    var = np.where(use, n * (n - 1) * (2 * n + 5) / 18, 0.0)
    pairs = np.where(use, n * (n - 1) / 2, 0.0)
    rows = [{"segment": f"{g[0]}-{g[-1]}" if len(g) > 1 else str(g[0]), "years": len(g),
             "share_var_s": float(v / var.sum()) if var.sum() else float("nan"),
             "share_sen_pairs": float(k / pairs.sum()) if pairs.sum() else float("nan")} for g, v, k in zip(segments, var, pairs, strict=True)]
    if not var.sum():
        return {"segments": rows, "min_p": float("nan"), "min_p_exact": float("nan"), "threshold": float("nan"), "provinces_needed": None}
    min_p = float(2 * stats.norm.sf((pairs.sum() - 1) / np.sqrt(var.sum())))
    min_p_exact = float(min(1.0, 2 / np.prod([math.factorial(int(k)) for k in n[use]])))
    m = max(int(n_tests), 1)
    threshold = alpha if ADJUST[adjust] is None else alpha / m
    if min_p > alpha:
        needed = None
    elif adjust == "bh":
        needed = int(max(1, math.ceil(m * min_p / alpha - 1e-12)))
    else:
        needed = 1 if min_p <= threshold else None
    return {"segments": rows, "min_p": min_p, "min_p_exact": min_p_exact, "threshold": threshold, "provinces_needed": needed}


def count_trends(t: pd.DataFrame) -> dict:
    """Counts of one `province_trends` table: provinces tested, significant up and down before and after
    the adjustment, the number expected by chance alone at its alpha, and what the run could find at all
    (`attainable`: the smallest attainable p, the strictest adjusted threshold and how many provinces would
    have to reach that minimum together)."""
    tested = t[t["p"].notna()]
    alpha = t.attrs.get("alpha", 0.05)
    segs = [list(map(int, g)) for g in t.attrs.get("segments", [])]
    reach = attainable(segs, len(tested), alpha, t.attrs.get("adjust", "bh")) if segs else {}
    return {"segments": segs, "tested": len(tested),
            "up": int((tested["trend"] == "increasing").sum()), "down": int((tested["trend"] == "decreasing").sum()),
            "up_adjusted": int((tested["trend_adjusted"] == "increasing").sum()),
            "down_adjusted": int((tested["trend_adjusted"] == "decreasing").sum()), "expected_by_chance": alpha * len(tested),
            "adjust": t.attrs.get("adjust"), "min_attainable_p": reach.get("min_p"), "strictest_threshold": reach.get("threshold"),
            "provinces_needed": reach.get("provinces_needed"), "segment_shares": reach.get("segments", [])}


def percentile_rank(rank: pd.Series, rank_of: pd.Series) -> pd.Series:
    """Position as the percentage of the other ranked provinces a province is ahead of: 100 = first, 0 =
    last, whatever the number ranked. Comparable between years ranked out of different totals."""
    return 100 * (rank_of.astype(float) - rank.astype(float)) / (rank_of.astype(float) - 1)


def rank_changes(s: pd.DataFrame, first: int, last: int, index: str | None = None, indicator: str | None = None) -> pd.DataFrame:
    """Published rank in `first` and `last` (1 = best) and out of how many, and the change counted among
    the provinces ranked in both years: both years re-ranked within that common set (the published order
    kept), so places and percentiles never compare ranks among different provinces (PAPI 2023 and 2024
    both rank 61, but not the same 61). With `index`/`indicator` the two years must be comparable for
    relative measures (a change of scale is fine for ranks; a change of what is measured is not) or a
    ValueError says which break is between. Only rows with a published rank count (an index known from
    press reports has values quoted without one); fewer than two provinces ranked in both years give the
    columns without rows (`attrs["ranked_both"]` says how many there were)."""
    if index and indicator:
        ok, found = codebook.comparable(index, indicator, first, last, relative=True)
        if not ok:
            blocking = "; ".join(f"{b.year} {b.kind}: {b.note}" for b in found if not b.comparable and b.kind != "scale")
            raise ValueError(f"{index} {indicator} ranks of {first} and {last} are not comparable: {blocking}")
    ranked = s[s["rank"].notna() & s["rank_of"].notna()]  # a value quoted without its rank (a press report) has no place
    a = ranked[ranked["year"] == first].set_index("province_code")
    b = ranked[ranked["year"] == last].set_index("province_code")
    both = a.index.intersection(b.index)
    out = pd.DataFrame({
        "province": b.loc[both, "province"],
        f"rank_{first}": a.loc[both, "rank"].astype(int), f"rank_of_{first}": a.loc[both, "rank_of"].astype(int),
        f"rank_{last}": b.loc[both, "rank"].astype(int), f"rank_of_{last}": b.loc[both, "rank_of"].astype(int),
    })
    n = len(both)
    if n < 2:  # no order among fewer than two provinces: the columns, without rows
        out = out.iloc[0:0].assign(**{c: pd.Series(dtype=float) for c in ["n_both", f"rank_among_both_{first}", f"rank_among_both_{last}",
                                                                        "places_gained", f"pct_{first}", f"pct_{last}", "pct_change"]})
        out.attrs["ranked_both"] = n
        return out
    common_first = out[f"rank_{first}"].rank(method="min").astype(int)
    common_last = out[f"rank_{last}"].rank(method="min").astype(int)
    out["n_both"] = n
    out.attrs["ranked_both"] = n
    out[f"rank_among_both_{first}"], out[f"rank_among_both_{last}"] = common_first, common_last
    out["places_gained"] = (common_first - common_last).astype("Int64")
    out[f"pct_{first}"] = percentile_rank(common_first, pd.Series(n, index=out.index))
    out[f"pct_{last}"] = percentile_rank(common_last, pd.Series(n, index=out.index))
    out["pct_change"] = out[f"pct_{last}"] - out[f"pct_{first}"]
    return out.sort_values("pct_change", ascending=False)

