"""What every statistic shares: the annual provincial rows it may use, the share of the maximum that makes
a rescaled series comparable, and the provenance count each output row carries (how many of the values
behind it are official, compiled, reported or user-supplied)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..errors import DataError
from ..manifest import RELIABILITY_ORDER
from ..panel.vintage import in_63


def annual(panel: pd.DataFrame) -> pd.DataFrame:
    """Yearly provincial values of the 63 provinces: no national rows, no dated sub-annual snapshots, and one
    province coding (the 2025 codes reuse old codes of other provinces, so the two vintages never mix)."""
    panel = in_63(panel)
    return panel[(panel["date"].fillna("") == "") & (panel["province_code"] != "00")]


def holm(p: pd.Series, alpha: float = 0.05) -> pd.Series:
    """Holm-adjusted p-values of one family, aligned with `p`; a missing p (a test not run) stays missing
    and is not counted in the family."""
    out = pd.Series(np.nan, index=p.index, dtype=float)
    tested = p.notna()
    if tested.any():
        out[tested] = multipletests(p[tested].astype(float), alpha=alpha, method="holm")[1]
    return out


def series(panel: pd.DataFrame, index: str, indicator: str, years: list[int] | None = None) -> pd.DataFrame:
    """One indicator's annual provincial rows, optionally restricted to `years`."""
    s = annual(panel)
    s = s[(s["index"] == index) & (s["indicator"] == indicator)]
    if years:
        s = s[s["year"].isin(years)]
    return s


TOO_FEW_VALUES = "too few values"
"""The start of the message every analysis gives when its data cannot support it (tests look for it)."""


def require_values(s: pd.DataFrame, index: str, indicator: str, *, min_years: int = 2, min_provinces: int = 1,
                   purpose: str = "this analysis", parameter: str = "indicator") -> pd.DataFrame:
    """`s` (rows of `series`) back unchanged when it has at least `min_provinces` provinces in each of at least
    `min_years` years; otherwise a DataError that starts with TOO_FEW_VALUES and says what there is (values,
    years and provinces per year) and what `purpose` needs, naming the parameter to change. An index known
    only from a few press reports (ONLINE_SERVICES) or an indicator with no provincial values (a national
    figure, a name the index does not have) ends here, before any computation that would fail on nothing."""
    from ..panel.codebook import label

    per_year = s.groupby("year")["province_code"].nunique() if len(s) else pd.Series(dtype=int)
    enough = per_year[per_year >= min_provinces]
    if len(enough) >= min_years:
        return s
    have = ", ".join(f"{int(y)}: {int(n)}" for y, n in per_year.items()) or "none"
    raise DataError(f"{TOO_FEW_VALUES}: {label(index, indicator)[1]} ({index} {indicator}) has {len(s)} provincial values in the "
                    f"years chosen (provinces per year: {have}); {purpose} needs at least {min_provinces} {'province' if min_provinces == 1 else 'provinces'} in each of "
                    f"{min_years} years", column=parameter, value=f"{index}:{indicator}",
                    hint="Choose another indicator or index, or more years")


def share_of_max(s: pd.DataFrame) -> pd.Series:
    """Value as a percentage of its year's maximum. PAPI's ranges run from a tenth of the maximum to the
    maximum (10-80 for the total, 1-10 for a dimension, max/10-max for a sub-dimension), so the share is
    unchanged by a pure rescale such as d8.1 going from a maximum of 5 to 3.33 in 2019."""
    return 100 * s["value"].astype(float) / s["scale_max"].astype(float)


def provenance(reliability: pd.Series | list[str]) -> str:
    """'official 61; compiled 61': how many values of each reliability a statistic rests on, in the
    project's order of trust. Empty input gives ''."""
    counts = pd.Series(list(reliability), dtype="object").value_counts()
    order = sorted(counts.index, key=lambda r: (RELIABILITY_ORDER.get(r, 99), str(r)))
    return "; ".join(f"{r} {int(counts[r])}" for r in order)
