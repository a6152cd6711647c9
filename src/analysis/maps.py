"""Choropleths on the 63 provinces (2008-2025) and on the 34 provinces of 2025. Boundaries come from the
manifest (Open Development Vietnam via TaliaCao/Vietnam-Shape-Map) and are joined by name through the
registry, because the boundary files carry no GSO codes.

Values of the 63 are carried to the 34 by the one aggregation rule of the package,
`analysis.panel.vintage.to_2025`.

Both boundary files draw Hoàng Sa (inside TP Đà Nẵng) and Trường Sa (inside Khánh Hòa) as parts of those
provinces' multipolygons. A map of Vietnam without them cannot be used in an official publication, so every
map is framed to include them and names them.

`vintage_maps` draws the figure a provincial office can print: both vintages side by side on the text width
of an A4 page (17 cm), one colour scale shared by both panels with one colour bar and its unit, provinces
without a value hatched and named in the legend, and the data's source (publisher, title and year, from the
manifest's citation, never a file path) and the derivation note under the map. `save_map` writes it as a
300 dpi PNG and an SVG."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from .i18n import axis_formatter, fmt_number
from .manifest import load_manifest
from .panel.codebook import index_info, index_label, indicator_info, label
from .registry import VINTAGE_34, VINTAGE_63, Registry

# The archipelagos: bounding box (lon_min, lat_min, lon_max, lat_max) around the parts the boundary files draw,
# and the name printed beside them in each language.
ARCHIPELAGOS: dict[str, tuple[tuple[float, float, float, float], dict[str, str]]] = {
    "hoang_sa": ((111.0, 15.7, 113.0, 17.2), {"vi": "Quần đảo Hoàng Sa", "en": "Hoang Sa (Paracel) Islands"}),
    "truong_sa": ((111.5, 6.5, 117.5, 11.7), {"vi": "Quần đảo Trường Sa", "en": "Truong Sa (Spratly) Islands"}),
}
# The frame of every map: the mainland and both archipelagos (the files reach 102.14-116.95°E, 6.95-23.39°N).
EXTENT = (101.8, 6.4, 117.6, 23.7)
# Boundaries are simplified to 0.005° (about 500 m): on a map 16° wide one pixel is about 0.02°, so nothing
# visible changes, but the SVG of a map falls from 5 MB to under 1 MB (the site must stay under 40 MB).
# Topology is preserved, so no islet of either archipelago disappears (tests/test_maps.py counts them).
SIMPLIFY_DEG = 0.005
# Print size: the text width of an A4 portrait page with the narrowest margins of Decree 30/2020/NĐ-CP
# (21 cm less 3 cm left and 1,5 cm right = 16,5 cm; a landscape page is wider), at 300 dpi, the resolution
# printers ask for; the SVG beside the PNG scales to any size.
A4_TEXT_WIDTH_CM = 16.5
PRINT_DPI = 300
# Provinces without a value: hatched grey on white, dark enough to read in print and in grey scale (a
# near-white fill, the geopandas default, reads as "low value" on most colour maps).
NO_DATA_STYLE = {"facecolor": "#ffffff", "edgecolor": "#8a8a8a", "hatch": "///", "linewidth": 0.3}
# The texts of a map, per language (the archipelagos' names are in ARCHIPELAGOS).
TEXT: dict[str, dict[str, str]] = {
    "vi": {"no_data": "Không có số liệu", "source": "Nguồn số liệu", "base_map": "Bản đồ nền", "via": "qua",
           "compiled": "bản tổng hợp: {where}", "reported": "số liệu trích dẫn trên báo chí và cổng thông tin điện tử",
           "user": "số liệu do người nghiên cứu bổ sung", "scale": "thang {lo}–{hi}", "and": "và",
           "title": "{name}, năm {year}", "panel_63": "63 tỉnh, thành phố (N\u00a0=\u00a0{n})",
           "panel_34": "34 tỉnh, thành phố từ 01/7/2025, giá trị suy ra (N\u00a0=\u00a0{n})",
           "panel_34_none": "34 tỉnh, thành phố từ 01/7/2025: không suy ra được",
           "derived_note": "Bản đồ bên phải: giá trị suy ra từ 63 tỉnh cũ (bình quân gia quyền theo dân số năm 2020), "
                           "không phải số liệu công bố.",
           "not_derived_note": "Bản đồ bên phải: chỉ số này không được quy đổi sang 34 tỉnh, thành phố vì nguồn số liệu không có trọng số phù hợp.",
           "level_63": "63 tỉnh, thành phố (đến 06/2025)", "level_34": "34 tỉnh, thành phố (từ 07/2025), giá trị suy ra",
           "derived_from": "suy ra từ số liệu của các tỉnh cũ: {cited}"},
    "en": {"no_data": "No data", "source": "Data", "base_map": "Base map", "via": "via",
           "compiled": "compiled in {where}", "reported": "values quoted in the press and on government portals",
           "user": "the researcher's own values", "scale": "scale {lo}–{hi}", "and": "and",
           "title": "{name}, {year}", "panel_63": "63 provinces (N\u00a0=\u00a0{n})",
           "panel_34": "34 provinces from 1 July 2025, derived values (N\u00a0=\u00a0{n})",
           "panel_34_none": "34 provinces from 1 July 2025: not derived",
           "derived_note": "Right-hand map: values derived from the 63 former provinces (population-weighted mean, 2020 "
                           "population), not published values.",
           "not_derived_note": "Right-hand map: this index is not carried to the 34 provinces, for want of a suitable weight in the sources.",
           "level_63": "63 provinces (to June 2025)", "level_34": "34 provinces (from July 2025), derived values",
           "derived_from": "derived from the former provinces' values: {cited}"},
}
UNITS = {  # the colour bar's label per codebook unit (analysis.panel.codebook.UNITS)
    "points": ("Điểm", "Points"), "percent": ("Tỷ lệ (%)", "Percent"), "percent_of_max": ("% của điểm tối đa", "% of the maximum"),
    "index_0_1": ("Chỉ số (0–1)", "Index (0–1)"), "count": ("Số lượng", "Count"), "rank": ("Thứ hạng (1 = cao nhất)", "Rank (1 = highest)"),
}
# Indices cited by the name their publishers print on the report ("PAPI 2024"); the others by their full name.
BRAND = {"PAPI": "PAPI", "PCI": "PCI", "DTI": "DTI", "PAR_INDEX": "PAR INDEX", "SIPAS": "SIPAS"}


def _path(source_id: str) -> str:
    return str({s.id: s for s in load_manifest()}[source_id].local_path)


def boundaries_63(registry: Registry) -> gpd.GeoDataFrame:
    g = gpd.read_file(_path("boundaries_63"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), file="boundaries_63", column="ten_tinh")
                          for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 63:
        raise ValueError("63-province boundaries do not match 63 distinct provinces")
    return _simplified(g)


def boundaries_34(registry: Registry) -> gpd.GeoDataFrame:
    """The 34 provinces of 2025, `province_code` in vintage gso-2025 (resolved within that vintage)."""
    g = gpd.read_file(_path("boundaries_34"))
    g["province_code"] = [registry.resolve(n.replace("oà", "òa").replace("oá", "óa"), vintage=VINTAGE_34, file="boundaries_34",
                                           column="ten_tinh") for n in g["ten_tinh"]]
    if g["province_code"].nunique() != 34:
        raise ValueError("34-province boundaries do not match 34 distinct provinces")
    return _simplified(g)


def _simplified(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    g = g[["province_code", "geometry"]].set_crs("EPSG:4326", allow_override=True)
    return g.assign(geometry=g.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True))


@contextmanager
def _one_draw(fig):  # noqa: ANN001, ANN202
    """geopandas redraws the whole figure after each plot call (`canvas.draw_idle`, which draws at once on
    the non-interactive backends); a map of several layers would be drawn several times for nothing. The
    figure is drawn once, when it is saved or shown."""
    fig.canvas.draw_idle = lambda *args, **kwargs: None
    try:
        yield
    finally:
        del fig.canvas.draw_idle


def choropleth(ax, geo: gpd.GeoDataFrame, values: pd.DataFrame, key: str, title: str, cmap: str = "viridis",  # noqa: ANN001
               language: str = "en", highlight: str | None = None, vmin: float | None = None, vmax: float | None = None,
               colorbar: bool = True) -> None:
    """Draw on `ax`; provinces without a value are hatched (`NO_DATA_STYLE`), not coloured as zero. The frame
    holds the mainland and both archipelagos; their islets, a few pixels each, get a dark outline so they stay
    visible, and each archipelago is named in `language` ("vi" or "en"). `highlight`: a `key` value outlined
    in red. `vmin`/`vmax` fix the colour scale (panels compared side by side must share one, `vintage_maps`);
    `colorbar=False` leaves the colour bar to the caller (one for several panels). The title is wrapped to the
    panel's width, so titles of panels side by side never run into each other."""
    if language not in ("vi", "en"):
        raise ValueError(f"language must be 'vi' or 'en', not {language!r}")
    d = geo.merge(values[[key, "value"]], on=key, how="left")
    parts = d[["geometry"]].explode(index_parts=False)
    islands = pd.concat([parts[parts.intersects(box(*bbox))] for bbox, _ in ARCHIPELAGOS.values()])
    with _one_draw(ax.figure):
        before = set(ax.figure.axes)
        d.plot(column="value", ax=ax, cmap=cmap, legend=colorbar, linewidth=0.2, edgecolor="white", vmin=vmin, vmax=vmax,
               missing_kwds={**NO_DATA_STYLE, "label": TEXT[language]["no_data"]}, legend_kwds={"shrink": 0.6})
        for cax in set(ax.figure.axes) - before:  # the colour bar
            cax.yaxis.set_major_formatter(axis_formatter(language))
        islands.boundary.plot(ax=ax, color="#444444", linewidth=0.5)
        if highlight is not None:
            d[d[key] == highlight].boundary.plot(ax=ax, color="red", linewidth=1.2)
    for (x0, _, x1, y1), names in ARCHIPELAGOS.values():
        ax.text((x0 + x1) / 2, y1 + 0.25, names[language], ha="center", va="bottom", fontsize=6.5,
                style="italic", color="#333333")
    ax.set_xlim(EXTENT[0], EXTENT[2])
    ax.set_ylim(EXTENT[1], EXTENT[3])
    ax.set_axis_off()
    ax.set_xlabel("")  # geopandas labels the axes with the CRS's English names; the axes are not drawn
    ax.set_ylabel("")
    ax.set_title(title, fontsize=9)
    _fit(ax.title, ax.get_position().width * ax.figure.get_figwidth())


def _fit(text: Any, width_in: float) -> None:
    """Wrap `text` (a matplotlib Text) at word boundaries so its rendered width is at most `width_in` inches,
    measured with the figure's renderer (letters differ in width, and Vietnamese diacritics do not change it)."""
    fig = text.get_figure()
    renderer = fig.canvas.get_renderer()
    limit = width_in * fig.dpi * 0.98  # a little room for the renderers of the SVG's readers
    lines: list[str] = []
    for paragraph in text.get_text().split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            text.set_text(trial)
            if line and text.get_window_extent(renderer).width > limit:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    text.set_text("\n".join(lines))


def latest_year(panel: pd.DataFrame, index: str, indicator: str) -> int:
    """The latest year with a value of `index`/`indicator` for a province of the 63 (annual rows, not the
    cut-offs of a year in progress): what a map shows when no year is asked for."""
    rows = panel[(panel["vintage"] == VINTAGE_63) & (panel["index"] == index) & (panel["indicator"] == indicator)
                 & (panel["date"].fillna("") == "") & panel["value"].notna()]
    if rows.empty:
        raise ValueError(f"no 63-province value of {index}/{indicator} in the panel")
    return int(rows["year"].max())


def unit_label(index: str, indicator: str, scale_max: Any, language: str) -> str:
    """The colour bar's label: the indicator's unit and, for points, its scale ("Điểm (thang 0–80)")."""
    unit = (indicator_info(index, indicator) or {}).get("unit", "points")
    name = UNITS.get(unit, UNITS["points"])[0 if language == "vi" else 1]
    if unit == "points" and scale_max is not None and pd.notna(scale_max):
        name += " (" + TEXT[language]["scale"].format(lo=0, hi=fmt_number(float(scale_max), language, 0)) + ")"
    return name


def _vi_names(text: str) -> str:
    """A publisher as the Vietnamese text names it: "Bộ Nội vụ (Ministry of Home Affairs)" -> "Bộ Nội vụ";
    "CECODES, VFF-CRT, RTA and UNDP" -> "CECODES, VFF-CRT, RTA và UNDP" (acronyms stay as printed)."""
    text = re.sub(r" \((?:Ministry|Government|National)[^)]*\)", "", text)
    return text.replace(" and ", " và ")


def citation(source_id: str, year: int, index: str, language: str) -> str:
    """One source as a reader cites it: publisher, title and year, the address where the manifest gives one,
    and who compiled it for a compiled source ("CECODES, VFF-CRT, RTA và UNDP, PAPI 2024, https://papi.org.vn
    (bản tổng hợp: GitHub hnks-gh/ml-mcdm)"). From the manifest's citation, publisher and upstream fields
    and the codebook's publisher, never a file path."""
    sources = {s.id: s for s in load_manifest()}
    text = TEXT[language]
    s = sources.get(source_id)
    if s is None:  # a researcher's own table: no manifest entry, no publisher to credit
        return text["user"]
    if s.reliability == "reported":
        return text["reported"]
    publisher = str((index_info(index) or {}).get("publisher") or s.citation.split(" (")[0])
    publisher = _vi_names(publisher) if language == "vi" else re.sub(r"^[^()]*\((.*)\)$", r"\1", publisher)
    title = f"{BRAND[index]} {year}" if index in BRAND else f"{index_label(index)[0 if language == 'vi' else 1]} {year}"
    out = f"{publisher}, {title}"
    url = re.search(r"https?://[^\s]+", s.citation)
    if url:
        out += ", " + url.group(0).rstrip(".,")
    if s.reliability == "compiled" and s.upstream:
        out += " (" + text["compiled"].format(where="GitHub " + s.upstream["repository"]) + ")"
    return out


def source_line(rows: pd.DataFrame, language: str) -> str:
    """The line under a map: every source of the plotted 63-province rows (`source_id`, `year`, `index`; a
    researcher's rows have user source ids) cited once, then the base map's source."""
    text = TEXT[language]
    cited = []
    for (sid, year, index), _ in rows.groupby(["source_id", "year", "index"], sort=True):
        c = citation(str(sid), int(year), str(index), language)
        if c not in cited:
            cited.append(c)
    geo = {s.id: s for s in load_manifest()}["boundaries_63"].citation  # 'Open Development Vietnam, "Địa phận tỉnh" (...), via ...'
    name, via = geo.split(" (")[0], geo.split("via ")[-1].rstrip(".")
    if language == "vi":  # Vietnamese quotation marks
        name = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", name)
    return f"{text['source']}: {'; '.join(cited)}. {text['base_map']}: {name}, {text['via']} {via}."


def map_table(values_63: pd.DataFrame, values_34: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The data of `vintage_maps` as a reader's table: level, province, value, `reliability` (the panel's
    official / compiled / reported / user for the 63; "derived" for the 34) and the cited source of every row
    (`citation`; a derived row cites the sources of its inputs). No row has an empty reliability or source."""
    text = TEXT[language]
    a = values_63[["province_code", "province", "value", "reliability", "source_id", "year", "index"]].copy()
    a["source"] = [citation(str(s), int(y), str(i), language) for s, y, i in zip(a["source_id"], a["year"], a["index"], strict=True)]
    a.insert(0, "level", text["level_63"])
    b = values_34.copy()
    if len(b):
        inputs = b["source_id"].astype(str).str.extract(r"^derived:to_2025\((.*)\)$")[0]
        b["source"] = [text["derived_from"].format(cited="; ".join(citation(s, int(y), str(i), language) for s in str(ids).split(", ")))
                       for ids, y, i in zip(inputs, b["year"], b["index"], strict=True)]
    else:
        b = b.assign(source=pd.Series(dtype=str))
    b.insert(0, "level", text["level_34"])
    cols = ["level", "province_code", "province", "value", "reliability", "source"]
    parts = [f.reindex(columns=cols).sort_values("value", ascending=False, kind="stable") for f in (a, b)]
    return pd.concat(parts, ignore_index=True)


def vintage_maps(values_63: pd.DataFrame, values_34: pd.DataFrame, registry: Registry, index: str, indicator: str, year: int,
                 language: str = "en", cmap: str = "viridis", derived: bool = True) -> Any:
    """The two maps of one indicator and year, ready for an A4 page: the 63 provinces (`values_63`: the panel's
    rows, with `province_code`, `value`, `source_id`, `year`, `index`, `scale_max`) and the 34 of 2025
    (`values_34`: `vintage.to_2025`'s derived rows; `derived=False` when the index is not derived, and the
    right-hand panel says so). One figure title, one title per panel wrapped to its width, one colour scale
    (the same vmin/vmax and colour map on both panels) with one colour bar labelled with the unit, provinces
    without a value hatched and named in the legend, and under the map the source line (`source_line`) and
    what the right-hand values are. Returns the figure (saved, 16.5 cm wide: `A4_TEXT_WIDTH_CM`)."""
    import matplotlib.pyplot as plt
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    if language not in TEXT:
        raise ValueError(f"language must be 'vi' or 'en', not {language!r}")
    text = TEXT[language]
    both = pd.concat([values_63["value"], values_34["value"]]).astype(float).dropna()
    vmin, vmax = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    gap, side = 0.12, 0.04
    width = A4_TEXT_WIDTH_CM / 2.54 - 2 * 0.1 + 2 * side  # saved with the tight box: `side` off, savefig's 0.1 in pad on
    # drawn at the print resolution: text widths measured at a screen's 80 dpi (hinted glyphs) are narrower than
    # printed, and the wrapped titles and notes must fit the page as printed
    fig = plt.figure(figsize=(width, 6.0), dpi=PRINT_DPI)
    name = label(index, indicator)[0 if language == "vi" else 1]
    title = fig.text(0.5, 1.0, text["title"].format(name=name, year=year), ha="center", va="top", fontsize=10, fontweight="bold")
    _fit(title, width - 2 * side)  # a long indicator name takes two lines
    # Inches from the top: figure title, panel titles (up to 2 lines), the two maps (their frame is 15.8° by
    # 17.3°, drawn with geopandas' aspect of 1/cos(latitude)), then colour bar and legend, then the notes.
    map_w = (width - 2 * side - gap) / 2
    map_h = map_w * (EXTENT[3] - EXTENT[1]) / (EXTENT[2] - EXTENT[0]) * 1.035
    head, titles, bar, notes = 0.16 + 0.2 * (title.get_text().count("\n") + 1), 0.4, 0.62, 0.62
    height = head + titles + map_h + bar + notes
    fig.set_size_inches(width, height)
    title.set_y(1 - 0.06 / height)

    def frac(left: float, top: float, w: float, h: float) -> list[float]:
        return [left / width, 1 - (top + h) / height, w / width, h / height]

    axes = [fig.add_axes(frac(side, head + titles, map_w, map_h)), fig.add_axes(frac(side + map_w + gap, head + titles, map_w, map_h))]
    with_value = values_34["value"].notna().sum() if len(values_34) else 0
    panel_titles = (text["panel_63"].format(n=int(values_63["value"].notna().sum())),
                    text["panel_34"].format(n=int(with_value)) if derived else text["panel_34_none"])
    boundaries = (boundaries_63(registry), boundaries_34(registry))
    for ax, geo, vals, t in zip(axes, boundaries, (values_63, values_34), panel_titles, strict=True):
        vals = vals if len(vals) else pd.DataFrame({"province_code": pd.Series(dtype=str), "value": pd.Series(dtype=float)})
        choropleth(ax, geo, vals, "province_code", t, cmap, language, vmin=vmin, vmax=vmax, colorbar=False)
        # hung from the same height, so a one-line and a two-line title start level
        ax.set_title(t, fontsize=8.5, y=1 + (titles - 0.04) / map_h, va="top")
        _fit(ax.title, map_w)
    # one colour bar for both panels, with the unit; the no-data patch in the legend beside it
    bar_top = head + titles + map_h + 0.12
    cax = fig.add_axes(frac(side + 0.35 * width / 2, bar_top, width * 0.42, 0.11))
    scale = ScalarMappable(Normalize(vmin, vmax), cmap)
    cb = fig.colorbar(scale, cax=cax, orientation="horizontal")
    cb.ax.xaxis.set_major_formatter(axis_formatter(language))
    cb.ax.tick_params(labelsize=7)
    cb.ax.grid(False)  # the notebooks' style grids every axes; a grid on a colour bar reads as steps
    scales = values_63["scale_max"].dropna().unique() if "scale_max" in values_63 else []
    cb.set_label(unit_label(index, indicator, scales[0] if len(scales) == 1 else None, language), fontsize=7.5)
    n_missing = sum(int((~geo["province_code"].isin(v.loc[v["value"].notna(), "province_code"])).sum())
                    for geo, v in zip(boundaries, (values_63, values_34), strict=True))
    if n_missing:
        fig.legend(handles=[Patch(**NO_DATA_STYLE, label=text["no_data"])], loc="upper left", fontsize=7.5, frameon=False,
                   bbox_to_anchor=((side + 0.35 * width / 2 + width * 0.42 + 0.2) / width, 1 - (bar_top - 0.06) / height),
                   handlelength=2.2, handleheight=1.4)
    note = source_line(values_63, language) + " " + (text["derived_note"] if derived else text["not_derived_note"])
    foot = fig.text(side / width, 1 - (bar_top + bar - 0.05) / height, note, ha="left", va="top", fontsize=6.5, color="#333333")
    _fit(foot, width - 2 * side)
    return fig


@contextmanager
def print_quality():  # noqa: ANN201
    """Figures saved inside this block are written at `PRINT_DPI` (the notebooks' default is 110 dpi, enough for
    a screen); `analysis.notebook.save_figure` writes the SVG beside the PNG either way."""
    import matplotlib

    with matplotlib.rc_context({"savefig.dpi": PRINT_DPI}):
        yield


def save_map(fig: Any, name: str, notebook: str, data: Any, display: bool = True) -> None:
    """`save_figure` at print quality: a 300 dpi PNG and an SVG, the figure's data as CSV and its layout
    checked (`figure_layout.json`)."""
    from .notebook import save_figure

    with print_quality():
        save_figure(fig, name, notebook, data=data, display=display)
