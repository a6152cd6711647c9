"""Provenance in every statistic: how many of the values behind a result are official, compiled, reported,
a researcher's own (user) or derived (computed by the project, e.g. the 63 -> 34 aggregation), the
`exclude_reliability` parameter the notebooks share, and how scatter plots mark each kind of point.

Typical use in a notebook (one row per correlation, model or trend):

    panel = provenance.exclude(panel, exclude_reliability)       # validated parameter
    rel = wide_reliability(...)                                    # same shape as the values
    row |= provenance.pair_counts(rel[x], rel[y], both_present)    # n_official, n_compiled, ...
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from ..errors import DataError
from ..manifest import RELIABILITY_ORDER

LEVELS = list(RELIABILITY_ORDER)
"""official, compiled, reported, user, derived: from the publisher's own file to the project's computation."""
COLUMNS = [f"n_{level}" for level in LEVELS]

# How a point is drawn: the publisher's values (official, compiled) as filled circles; everything else in a
# shape and colour of its own, so a reader sees at once which points are not the publisher's.
MARKERS = {
    "official": {"marker": "o", "color": "#1f6f8b", "label": "official / compiled"},
    "compiled": {"marker": "o", "color": "#1f6f8b", "label": "official / compiled"},
    "reported": {"marker": "^", "color": "#d35400", "label": "reported (press, articles)"},
    "user": {"marker": "s", "color": "#8e44ad", "label": "researcher's table (user)"},
    "derived": {"marker": "D", "color": "#27ae60", "label": "derived (63 → 34 aggregation)"},
}
MARKER_LABELS_VI = {
    "official": "số liệu chính thức / tổng hợp", "compiled": "số liệu chính thức / tổng hợp",
    "reported": "số liệu báo chí đưa tin", "user": "số liệu do người nghiên cứu bổ sung",
    "derived": "số liệu suy ra (gộp 63 → 34 tỉnh)",
}
"""The legend of MARKERS in Vietnamese (the researcher's own values worded as the maps word them)."""


def marker_label(kind: str, language: str = "en") -> str:
    """The legend text of one kind of point in `language` ("en" or "vi"): the one convention every figure uses."""
    if kind not in MARKERS:
        raise DataError("unknown reliability level", value=kind, hint=f"Known levels: {', '.join(LEVELS)}")
    return MARKER_LABELS_VI[kind] if language == "vi" else MARKERS[kind]["label"]


def check_levels(levels: Iterable[str], parameter: str = "exclude_reliability") -> list[str]:
    """A notebook parameter listing reliability levels, checked: unknown names are an error, not ignored."""
    levels = list(levels)
    bad = [lv for lv in levels if lv not in RELIABILITY_ORDER]
    if bad:
        raise DataError(f"unknown reliability in {parameter}", column=parameter, value=bad[0],
                        hint=f"Known levels: {', '.join(LEVELS)}")
    return levels


def exclude(rows: pd.DataFrame, levels: Iterable[str]) -> pd.DataFrame:
    """`rows` without the reliability levels named (the `exclude_reliability` parameter)."""
    levels = check_levels(levels)
    return rows[~rows["reliability"].isin(levels)] if levels else rows


def counts(reliability: Iterable[str]) -> dict[str, int]:
    """{n_official: …, n_compiled: …, n_reported: …, n_user: …, n_derived: …} over the given values (every
    key present, zeros included, so result tables have the same columns whatever the data)."""
    s = pd.Series(list(reliability), dtype="object").dropna()
    unknown = set(s) - set(LEVELS)
    if unknown:
        raise DataError("unknown reliability level in data", value=sorted(unknown)[0])
    vc = s.value_counts()
    return {f"n_{level}": int(vc.get(level, 0)) for level in LEVELS}


def pair_counts(rel_x: pd.Series, rel_y: pd.Series, used: pd.Series | None = None) -> dict[str, int]:
    """Provenance of the values a two-variable statistic used: both values of every complete pair (so the
    counts add up to 2 N). `used` marks the pairs that entered (default: both reliabilities present)."""
    if used is None:
        used = rel_x.notna() & rel_y.notna()
    return counts(list(rel_x[used]) + list(rel_y[used]))


def weakest(*rels: pd.Series) -> pd.Series:
    """Per row, the least direct provenance among several values (a point of official x and reported y is a
    reported point): what a scatter plot marks."""
    order = pd.concat([r.map(RELIABILITY_ORDER) for r in rels], axis=1).max(axis=1)
    back = {v: k for k, v in RELIABILITY_ORDER.items()}
    return order.map(back)


def summary(c: dict[str, int]) -> str:
    """'official 34, compiled 34' — the non-zero counts in reading order, for captions and printed output."""
    return ", ".join(f"{k.removeprefix('n_')} {v}" for k, v in c.items() if v) or "no values"
