"""The logic behind notebooks/explore.ipynb: a province's series for any index and indicator against its
region and the country, its rank over time, and a map of the selected year. The notebook only wires
ipywidgets to these functions, so everything here is tested without a browser.

Most indices other than PAPI and PCI are scattered reported values (a handful of provinces a year). A mean
over the few provinces that reported is not "the country", and a mean of ranks is not a rank, so:
- a country (region) mean is computed only for years in which at least `COVERAGE` of the provinces that
  existed that year (of the region's provinces) have a value, and never for rank-type indicators;
- in every other year each reported value is drawn as a point and the number of provinces N is written;
- series are drawn only within comparable segments of the codebook (methodology breaks are marked);
- every point is drawn by the one provenance convention of the figures (`figures.provenance_points`,
  `panel.provenance.MARKERS`): a researcher's own value is a purple square named as theirs in the legend, a
  press value an orange triangle, never a published-looking circle or a grey "reported value"."""

from __future__ import annotations

import html
import textwrap
from functools import lru_cache
from typing import TYPE_CHECKING

import pandas as pd

from .i18n import axis_formatter, fmt_number
from .panel.codebook import index_label, indicator_info, label, segments
from .panel.vintage import in_63
from .registry import Registry

if TYPE_CHECKING:
    from ipywidgets import VBox
    from pandas.io.formats.style import Styler

COVERAGE = 0.8  # share of the provinces existing in a year that must have a value for a country/region mean

RULE = {
    "en": (f"Country and region means only for years in which at least {COVERAGE:.0%} of the provinces existing "
           "that year (of the region's, for the region) have a value, and never for ranks; in other years every "
           "value of another province is a faint point in the marker of its provenance and N is the number of provinces "
           "with a value."),
    "vi": (f"Trung bình cả nước và vùng chỉ tính cho năm có ít nhất {COVERAGE:.0%} số tỉnh tồn tại năm đó (của vùng, với trung bình vùng) có giá trị, và không bao giờ "
           "tính cho thứ hạng; năm khác, mỗi giá trị của tỉnh khác là một điểm mờ theo ký hiệu nguồn số liệu và N là số tỉnh có giá trị."),
}
BREAK_NOTE = {"en": "red dotted line: methodology break (values on either side are not comparable)",
              "vi": "đường chấm đỏ: thay đổi phương pháp (không so sánh giá trị hai bên)"}
TEXT = {
    "en": {"country": "Country (mean)", "region": "{} (mean)", "others": "Other provinces: ",
           "rank": "Rank (1 = best)", "no_rank": "no ranks for this indicator",
           "is_rank": "the indicator is itself a rank (left)", "year": "Year", "of": "of", "n": "N (provinces with a value)",
           "existing": "provinces that year", "no_value": "{}: no value"},
    "vi": {"country": "Cả nước (trung bình)", "region": "{} (trung bình)", "others": "Tỉnh khác: ",
           "rank": "Thứ hạng (1 = cao nhất)", "no_rank": "chỉ tiêu này không có thứ hạng",
           "is_rank": "chỉ tiêu này chính là thứ hạng (bên trái)", "year": "Năm", "of": "trên", "n": "N (số tỉnh có giá trị)",
           "existing": "số tỉnh năm đó", "no_value": "{}: không có giá trị"},
}


def is_rank(index: str, indicator: str) -> bool:
    """Whether the values of an indicator are ranks (codebook unit `rank`, or a published `*_rank`)."""
    info = indicator_info(index, indicator) or {}
    return info.get("unit") == "rank" or indicator.endswith("_rank")


def _annual(panel: pd.DataFrame, index: str, indicator: str) -> pd.DataFrame:
    """Annual provincial values of one indicator of the 63 (no 2025 codes, no national rows, no sub-annual
    snapshots)."""
    panel = in_63(panel)
    return panel[(panel["index"] == index) & (panel["indicator"] == indicator) & (panel["date"].fillna("") == "")
                 & (panel["province_code"] != "00")]


def options(panel: pd.DataFrame, min_provinces: int = 1) -> dict[str, list[str]]:
    """Indicators per index with annual values for at least `min_provinces` provinces in some year. Sparse
    indices are offered too: the charts show them as points with their N rather than as a mean."""
    panel = in_63(panel)
    ann = panel[(panel["date"].fillna("") == "") & (panel["province_code"] != "00")]
    counts = ann.groupby(["index", "indicator", "year"])["province_code"].nunique().groupby(level=[0, 1]).max()
    ok = counts[counts >= min_provinces].reset_index()
    return {i: sorted(g["indicator"], key=lambda s: (s != "total", s)) for i, g in ok.groupby("index")}


def existing(provinces: pd.DataFrame, year: int) -> pd.Series:
    """Region of every province that existed in `year` (index: code). The 63 provinces of 2008-2025 are
    counted in every year (the panel keeps their codes), a province of an older vintage (Hà Tây) while it
    existed; the national row and the 34 provinces of 2025 (another coding) never."""
    p = provinces[~provinces["vintage"].isin(["national", "gso-2025"])]
    alive = (p["vintage"] == "gso-2008") | ((p["active_from"].fillna(0) <= year) & (p["active_to"].fillna(9999) >= year))
    return p.loc[alive].set_index("province_code")["region"]


def series_view(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, index: str, indicator: str,
                years: tuple[int, int] | None = None) -> pd.DataFrame:
    """One row per year from the first to the last year with any value (gaps kept as rows with N = 0): the
    province's value and rank, the region's and the country's mean where coverage allows (see `RULE`), and
    the counts behind them."""
    reg = Registry(provinces)
    code = reg.resolve(province, column="province")
    region = reg.table.at[code, "region"]
    s = _annual(panel, index, indicator)
    if years:
        s = s[s["year"].between(*years)]
    ranks = is_rank(index, indicator)
    rows = []
    for year in range(int(s["year"].min()), int(s["year"].max()) + 1) if len(s) else []:
        y = s[s["year"] == year]
        alive = existing(provinces, year)
        in_region = y[y["province_code"].map(alive) == region]
        n, n_of = y["province_code"].nunique(), len(alive)
        n_region, n_region_of = in_region["province_code"].nunique(), int((alive == region).sum())
        mine = y[y["province_code"] == code]
        rows.append({
            "year": year,
            "value": float(mine["value"].iloc[0]) if len(mine) else float("nan"),
            "reliability": mine["reliability"].iloc[0] if len(mine) else None,
            "region_mean": in_region["value"].mean() if not ranks and n_region >= COVERAGE * n_region_of else float("nan"),
            "national_mean": y["value"].mean() if not ranks and n >= COVERAGE * n_of else float("nan"),
            "rank": mine["rank"].iloc[0] if len(mine) else pd.NA,
            "rank_of": mine["rank_of"].iloc[0] if len(mine) else pd.NA,
            "n_region": n_region, "n_region_of": n_region_of, "n_provinces": n, "n_of": n_of,
        })
    cols = ["year", "value", "reliability", "region_mean", "national_mean", "rank", "rank_of", "n_region", "n_region_of", "n_provinces", "n_of"]
    out = pd.DataFrame(rows, columns=cols).astype({"year": int, "rank": "Int64", "rank_of": "Int64"})
    out.attrs.update(province=reg.name(code), province_code=code, region=region,
                     region_en=reg.table.at[code, "region_en"], index=index, indicator=indicator, is_rank=ranks)
    return out


def titles(index: str, indicator: str, language: str = "en") -> tuple[str, str]:
    """(index label, indicator label) from the codebook, never the raw codes."""
    k = 0 if language == "vi" else 1
    return index_label(index)[k], label(index, indicator)[k]


def explore_table(view: pd.DataFrame, language: str = "en") -> Styler:
    """The numbers under the charts, one row per year with a value anywhere, with N and the coverage rule as
    caption. Vietnamese uses decimal comma and dot thousands; years are labels, never formatted as numbers."""
    t, a = TEXT[language], view.attrs
    region = a["region"] if language == "vi" else a["region_en"]
    v = view[view["n_provinces"] > 0]
    table = pd.DataFrame({
        a["province"]: v["value"].to_numpy(),
        t["region"].format(region): v["region_mean"].to_numpy(),
        t["country"]: v["national_mean"].to_numpy(),
        t["rank"]: v["rank"].to_numpy(),
        t["of"]: v["rank_of"].to_numpy(),
        t["n"]: v["n_provinces"].to_numpy(),
        t["existing"]: v["n_of"].to_numpy(),
    }, index=pd.Index(v["year"].astype(str), name=t["year"]))
    ints = [t["rank"], t["of"], t["n"], t["existing"]]
    floats = [c for c in table.columns if c not in ints]
    caption = f"{' · '.join(titles(a['index'], a['indicator'], language))}. {RULE[language]}"
    return (table.style.set_uuid("explorer").format(lambda v: fmt_number(v, language, 2), na_rep="", subset=floats, escape="html")
            .format(lambda v: fmt_number(v, language, 0), na_rep="", subset=ints)
            .format_index(escape="html", axis=1)
            .set_caption(html.escape(caption)))


@lru_cache(maxsize=1)
def _boundaries() -> object:
    """The 63-province boundaries, read once per session (the explorer redraws on every widget change)."""
    from . import load_table, maps

    return maps.boundaries_63(Registry(load_table("provinces")))


def _plot(ax, view: pd.DataFrame, column: str, segs: list[list[int]], **kw: object) -> None:  # noqa: ANN001
    """A series drawn segment by segment (never across a methodology break), with markers so that a lone
    year shows as a point."""
    label_ = kw.pop("label", None)
    marker = kw.pop("marker", "o")
    for seg in segs:
        part = view[view["year"].isin(seg)]
        if part[column].notna().any():
            ax.plot(part["year"], part[column].astype(float), marker=marker, label=label_, **kw)
            label_ = None


def _year_axis(ax, view: pd.DataFrame, breaks: list[int]) -> None:  # noqa: ANN001
    """Whole years only, framed on the years shown (one year gets a frame of one year, not of a century)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlim(view["year"].min() - 0.5, view["year"].max() + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=7, min_n_ticks=1))
    for b in breaks:
        ax.axvline(b - 0.5, color="#c0392b", ls=":", lw=1)


def _rank_axis(ax, worst: float) -> None:  # noqa: ANN001
    """Rank 1 on top, the whole field (1 to the number ranked) shown, whole ranks only."""
    from matplotlib.ticker import MaxNLocator

    worst = int(worst)
    ax.set_ylim(worst + 0.5, 0.5)
    gap = max(2, worst // 8)  # keep the inner ticks clear of 1 and of the last rank
    ticks = [int(t) for t in MaxNLocator(integer=True, nbins=6).tick_values(1, worst) if 1 + gap <= t <= worst - gap]
    ax.set_yticks(sorted({1, worst, *ticks}))


def explore_figure(view: pd.DataFrame, panel: pd.DataFrame, year: int | None = None, language: str = "en"):  # noqa: ANN201 - a matplotlib Figure
    """Series against region and country, rank over time, and the map of `year` (default: the latest year
    with the province's value, else the latest with any value). Labels come from the codebook; the coverage
    rule is printed under the charts."""
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory

    from . import maps
    from .figures import provenance_points
    from .panel.provenance import MARKERS

    t, a = TEXT[language], view.attrs
    index, indicator, ranks = a["index"], a["indicator"], a["is_rank"]
    index_title, indicator_title = titles(index, indicator, language)
    region = a["region"] if language == "vi" else a["region_en"]
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(13, 4.6), gridspec_kw={"width_ratios": [3, 3, 2]})
    fig.suptitle(f"{a['province']} · {index_title}", fontsize=10)
    if view.empty:
        ax1.text(0.5, 0.5, t["no_value"].format(indicator_title), ha="center", transform=ax1.transAxes)
        return fig
    years = view["year"].tolist()
    segs = segments(index, indicator, years, relative=ranks)
    breaks = [s[0] for s in segs[1:]]

    # the faint points: every other province's value in a year without a mean, in the marker of its provenance, with N
    sparse = view.loc[(view["n_provinces"] > 0) & (view["n_provinces"] < COVERAGE * view["n_of"]), "year"].tolist()
    reported = _annual(panel, index, indicator)
    reported = reported[reported["year"].isin(sparse) & (reported["province_code"] != a["province_code"])]
    if len(reported):
        provenance_points(ax1, reported["year"].astype(float), reported["value"].astype(float), reported["reliability"], language,
                          prefix=t["others"], size=12, alpha=0.45, zorder=1)
    top = blended_transform_factory(ax1.transData, ax1.transAxes)
    for y in sparse:
        n = int(view.loc[view["year"] == y, "n_provinces"].iloc[0])
        ax1.text(y, 1.01, f"N={n}", transform=top, ha="center", va="bottom", fontsize=6.5, color="#555555")
    _plot(ax1, view, "national_mean", segs, ls=":", color="#888888", label=t["country"], markersize=3)
    _plot(ax1, view, "region_mean", segs, ls="--", color="#7aa9b8", label=t["region"].format(region), markersize=3)
    # the province: its line, the publisher's values as the line's circles, any other value in the marker of its kind
    own = view[view["value"].notna()]
    publisher = own["reliability"].isin(["official", "compiled"])
    _plot(ax1, view, "value", segs, color="#1f6f8b", label=a["province"], zorder=3, marker="none")
    ax1.scatter(own.loc[publisher, "year"], own.loc[publisher, "value"].astype(float), s=30, marker=MARKERS["official"]["marker"],
                color=MARKERS["official"]["color"], zorder=3)
    if (~publisher).any():
        provenance_points(ax1, own.loc[~publisher, "year"].astype(float), own.loc[~publisher, "value"].astype(float),
                          own.loc[~publisher, "reliability"], language, prefix=f"{a['province']}: ", size=40, zorder=4)
    if view["value"].isna().all():
        ax1.text(0.5, 0.5, t["no_value"].format(a["province"]), ha="center", transform=ax1.transAxes, color="#1f6f8b")
    ax1.set_title("\n".join(textwrap.wrap(indicator_title, 60)), fontsize=9, pad=14)
    ax1.set_xlabel(t["year"])
    if ranks:
        _rank_axis(ax1, max(view["value"].max(), view["rank_of"].max(skipna=True) if view["rank_of"].notna().any() else 1))
    _year_axis(ax1, view, breaks)
    ax1.yaxis.set_major_formatter(axis_formatter(language))
    ax1.legend(fontsize=7, loc="best")

    if ranks:
        ax2.text(0.5, 0.5, t["is_rank"], ha="center", transform=ax2.transAxes)
        ax2.set_axis_off()
    elif view["rank"].notna().any():
        rank_view = view.assign(rank=view["rank"].astype("Float64").astype(float))
        rank_segs = segments(index, indicator, years, relative=True)
        _plot(ax2, rank_view, "rank", rank_segs, color="#1f6f8b")
        quoted = rank_view[rank_view["rank"].notna() & ~rank_view["reliability"].isin(["official", "compiled"])]
        if len(quoted):  # a rank from the press or the researcher's table, marked as such over the line's circle
            provenance_points(ax2, quoted["year"].astype(float), quoted["rank"], quoted["reliability"], language,
                              prefix=f"{a['province']}: ", size=40, zorder=4)
            ax2.legend(fontsize=7, loc="best")
        _rank_axis(ax2, view["rank_of"].max())
        ax2.set_title(t["rank"], fontsize=9, pad=14)
        ax2.set_xlabel(t["year"])
        _year_axis(ax2, view, [s[0] for s in rank_segs[1:]])
    else:
        ax2.text(0.5, 0.5, t["no_rank"], ha="center", transform=ax2.transAxes)
        ax2.set_axis_off()

    with_value = view.loc[view["value"].notna(), "year"]
    if year is None or year not in set(view.loc[view["n_provinces"] > 0, "year"]):
        year = int(with_value.max()) if len(with_value) else int(view.loc[view["n_provinces"] > 0, "year"].max())
    values = _annual(panel, index, indicator)
    values = values[values["year"] == year][["province_code", "value"]]
    maps.choropleth(ax3, _boundaries(), values, "province_code", f"{year} (N = {len(values)})",
                    cmap="viridis_r" if ranks else "viridis", language=language, highlight=a["province_code"])

    note = RULE[language] + (f" {BREAK_NOTE[language].capitalize()}." if breaks else "")
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(note, 190)), fontsize=7, color="#444444", va="bottom")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def index_options(choices: dict[str, list[str]], language: str = "en") -> list[tuple[str, str]]:
    """(full label, code) of every index offered, for a dropdown."""
    return sorted(((titles(i, "total", language)[0], i) for i in choices), key=lambda o: o[0])


def indicator_options(choices: dict[str, list[str]], index: str, language: str = "en") -> list[tuple[str, str]]:
    """(full label, code) of the indicators of `index`, in the order of `options` (total first)."""
    return [(titles(index, i, language)[1], i) for i in choices[index]]


def display_selection(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, index: str, indicator: str,
                      years: tuple[int, int] | None = None, map_year: int | None = None, language: str = "en") -> None:
    """Display the figure and the table of one selection (what the widgets redraw, and the static copy a
    notebook shows where no kernel runs)."""
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    view = series_view(panel, provinces, province, index, indicator, years)
    fig = explore_figure(view, panel, map_year, language)
    display(fig)
    plt.close(fig)
    display(HTML(explore_table(view, language).to_html()))  # as HTML: no object address in the stored output


def app(panel: pd.DataFrame, provinces: pd.DataFrame, province: str = "Bình Dương", index: str = "PAPI",
        indicator: str = "total", language: str = "en") -> VBox:
    """Dropdowns for province, index and indicator, a year range and a map year, and an output area redrawn
    once per change (changing the index resets the indicator without drawing the stale pair first)."""
    import ipywidgets as widgets

    choices = options(panel)
    years = sorted(int(y) for y in panel["year"].dropna().unique())
    names = sorted(provinces.loc[provinces["vintage"] == "gso-2008", "province"])
    t = TEXT[language]
    wide = widgets.Layout(width="auto")
    registry = Registry(provinces)
    w_province = widgets.Dropdown(options=names, value=registry.name(registry.resolve(province)),
                                  description="Tỉnh" if language == "vi" else "Province")
    w_index = widgets.Dropdown(options=index_options(choices, language), value=index,
                               description="Chỉ số" if language == "vi" else "Index", layout=wide)
    w_indicator = widgets.Dropdown(options=indicator_options(choices, index, language), value=indicator,
                                   description="Chỉ tiêu" if language == "vi" else "Indicator", layout=wide)
    w_years = widgets.IntRangeSlider(value=(years[0], years[-1]), min=years[0], max=years[-1], description=t["year"],
                                     layout=widgets.Layout(width="26em"))
    latest = 0  # a dropdown shows no label for the value None
    w_map = widgets.Dropdown(options=[("mới nhất" if language == "vi" else "latest", latest)] + [(str(y), y) for y in years],
                             value=latest, description="Bản đồ" if language == "vi" else "Map year")
    out = widgets.Output()
    state = {"busy": False}

    def redraw(_: object = None) -> None:
        if state["busy"]:
            return
        with out:
            out.clear_output(wait=True)
            display_selection(panel, provinces, w_province.value, w_index.value, w_indicator.value,
                              tuple(w_years.value), w_map.value or None, language)

    def on_index(change: dict) -> None:
        state["busy"] = True
        try:
            w_indicator.options = indicator_options(choices, change["new"], language)
            w_indicator.value = w_indicator.options[0][1]
        finally:
            state["busy"] = False
        redraw()

    w_index.observe(on_index, names="value")
    for w in (w_province, w_indicator, w_years, w_map):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([w_province, w_index]), w_indicator, widgets.HBox([w_years, w_map]), out])
