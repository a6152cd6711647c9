"""The logic behind notebooks/explore.ipynb: a province's series for any index and indicator against its
region and the country, its rank over time, and a map of the selected year. The notebook only wires
ipywidgets to these functions, so everything here is tested without a browser."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .panel.codebook import label
from .panel.vintage import in_63
from .registry import Registry


def options(panel: pd.DataFrame, min_provinces: int = 10) -> dict[str, list[str]]:
    """Indicators per index that have annual values for at least `min_provinces` provinces in some year."""
    panel = in_63(panel)
    ann = panel[(panel["date"].fillna("") == "") & (panel["province_code"] != "00")]
    counts = ann.groupby(["index", "indicator", "year"])["province_code"].nunique().groupby(level=[0, 1]).max()
    ok = counts[counts >= min_provinces].reset_index()
    return {i: sorted(g["indicator"], key=lambda s: (s != "total", s)) for i, g in ok.groupby("index")}


def series_view(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, index: str, indicator: str,
                years: tuple[int, int] | None = None) -> pd.DataFrame:
    """One row per year: the province's value, its region's and the country's mean over provinces, its rank."""
    reg = Registry(provinces)
    code = reg.resolve(province, column="province")
    region = reg.table.at[code, "region"]
    panel = in_63(panel)
    s = panel[(panel["index"] == index) & (panel["indicator"] == indicator) & (panel["date"].fillna("") == "")
              & (panel["province_code"] != "00")]
    if years:
        s = s[s["year"].between(*years)]
    in_region = s["province_code"].map(reg.table["region"]) == region
    out = pd.DataFrame({
        "national_mean": s.groupby("year")["value"].mean(),
        "region_mean": s[in_region].groupby("year")["value"].mean(),
        "n_provinces": s.groupby("year")["province_code"].nunique(),
    })
    mine = s[s["province_code"] == code].set_index("year")
    out["value"] = mine["value"]
    out["rank"] = mine["rank"]
    out["rank_of"] = mine["rank_of"]
    out.attrs.update(province=reg.name(code), province_code=code, region=region, index=index, indicator=indicator)
    return out.reset_index().rename(columns={"index": "year"})[["year", "value", "region_mean", "national_mean", "rank", "rank_of", "n_provinces"]]


@lru_cache(maxsize=1)
def _boundaries() -> object:
    """The 63-province boundaries, read once per session (the explorer redraws on every widget change)."""
    from . import load_table, maps

    return maps.boundaries_63(Registry(load_table("provinces")))


def explore_figure(view: pd.DataFrame, panel: pd.DataFrame, year: int | None = None):  # noqa: ANN201 - a matplotlib Figure
    """Series against region and country, rank over time, and the map of `year` (default: the latest)."""
    import matplotlib.pyplot as plt

    from . import maps

    a = view.attrs
    vi, en = label(a["index"], a["indicator"])
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 4), gridspec_kw={"width_ratios": [3, 3, 2]})
    ax1.plot(view["year"], view["value"], marker="o", label=a["province"], color="#1f6f8b")
    ax1.plot(view["year"], view["region_mean"], ls="--", label=a["region"], color="#7aa9b8")
    ax1.plot(view["year"], view["national_mean"], ls=":", label="Cả nước / country", color="#888")
    ax1.set_title(f"{a['index']} {a['indicator']}: {en}", fontsize=9)
    ax1.legend(fontsize=7)
    if view["rank"].notna().any():
        ax2.plot(view["year"], view["rank"].astype(float), marker="o", color="#1f6f8b")
        ax2.invert_yaxis()
        ax2.set_title("rank (1 = best)", fontsize=9)
    else:
        ax2.text(0.5, 0.5, "no ranks for this indicator", ha="center", transform=ax2.transAxes)
    year = year or int(view.loc[view["value"].notna(), "year"].max())
    panel = in_63(panel)
    values = panel[(panel["index"] == a["index"]) & (panel["indicator"] == a["indicator"]) & (panel["year"] == year)
                   & (panel["date"].fillna("") == "") & (panel["province_code"] != "00")][["province_code", "value"]]
    geo = _boundaries()
    maps.choropleth(ax3, geo, values, "province_code", f"{year} (N = {len(values)})")
    geo[geo["province_code"] == a["province_code"]].boundary.plot(ax=ax3, color="red", linewidth=1.2)
    fig.tight_layout()
    return fig
