"""Methodology breaks seen from the data, and like-for-like comparisons around the recorded ones.

The codebook (`data/codebook.yml`, `analysis.panel.codebook.breaks`) is the reviewed record of every
break; this module is how new ones are found and how the record is kept honest. `screen` compares every
pair of consecutive years of an indicator on the share of its maximum (so a pure rescale does not count)
and flags a pair whose provincial spread changes by more than a factor of two, whose mean moves by more
than two pooled standard deviations in one year, or where many provinces pile up at one floor value.
Real governance changes rarely do any of these in a year; changed questions, items or sources do. A
flag is a prompt for review, not a verdict: each flagged pair is recorded in the codebook either as a
break or as a caveat with the reason (tests/test_stats.py enforces that).

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


def screen(panel: pd.DataFrame, indices: list[str] | None = None, min_provinces: int = 10) -> pd.DataFrame:
    """One row per indicator and pair of consecutive years with at least `min_provinces` provinces in both:
    N, Spearman rho of province values across the two years, SD ratio, standardized mean shift (both on
    the share of the maximum), how many provinces share the minimum in each year, the flags raised and
    the codebook breaks recorded between the two years."""
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
                "spearman_rho": float(d[y0].corr(d[y1], method="spearman")), "sd_ratio": float(ratio),
                "mean_shift_sd": float(shift), "at_floor_from": floor0, "at_floor_to": floor1,
                "flagged": ", ".join(flags), "recorded": bool(found), "comparable": ok,
                "codebook": "; ".join(f"{b.year} {b.kind}{'' if b.comparable else ' (not comparable)'}" for b in found),
            })
    return pd.DataFrame(rows)


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
