"""Maps of both vintages show Hoàng Sa and Trường Sa, drawn from the boundary files and named per language."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from analysis import load_table, maps  # noqa: E402
from analysis.panel.vintage import in_63, to_2025  # noqa: E402
from analysis.registry import Registry  # noqa: E402

# Approximate extents of the archipelagos, written independently of maps.ARCHIPELAGOS.
BOXES = {"hoang_sa": (111.0, 15.7, 113.0, 17.2), "truong_sa": (111.5, 6.5, 117.5, 11.5)}
LABELS = {"vi": {"hoang_sa": "Quần đảo Hoàng Sa", "truong_sa": "Quần đảo Trường Sa"},
          "en": {"hoang_sa": "Hoang Sa (Paracel) Islands", "truong_sa": "Truong Sa (Spratly) Islands"}}


@pytest.fixture(scope="module")
def vintages(panel):
    provinces = load_table("provinces")
    rows = in_63(panel)
    rows = rows[(rows["index"] == "PAPI") & (rows["indicator"] == "total") & (rows["year"] == 2021) & (rows["date"] == "")
                & (rows["province_code"] != "00")]
    values = rows[["province_code", "value"]]
    return {
        "63": (maps.boundaries_63(Registry(provinces)), values, "province_code"),
        "34": (maps.boundaries_34(Registry(provinces)), to_2025(rows, provinces), "province_code"),
    }


def _dark_pixels(fig, ax, bbox) -> int:
    """Pixels darker than the background inside `bbox` (data coordinates) of the rendered figure."""
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    (x0, y0), (x1, y1) = ax.transData.transform([(bbox[0], bbox[1]), (bbox[2], bbox[3])])
    h = img.shape[0]
    crop = img[int(h - y1):int(h - y0), int(x0):int(x1)]
    return int((crop.sum(axis=2) < 600).sum())


@pytest.mark.parametrize("vintage", ["63", "34"])
@pytest.mark.parametrize("language", ["vi", "en"])
def test_map_shows_and_names_both_archipelagos(vintages, vintage, language):
    geo, values, key = vintages[vintage]
    fig, ax = plt.subplots(figsize=(5, 7))
    try:
        maps.choropleth(ax, geo, values, key, "test", language=language)
        xlim, ylim = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        texts = {t.get_text() for t in ax.texts}
        for name, (x0, y0, x1, y1) in BOXES.items():
            # the boundary file has geometry there, and the drawn frame contains the whole box
            vertices = np.vstack([p.vertices for c in ax.collections for p in c.get_paths() if len(p.vertices)])
            inside = ((vertices[:, 0] >= x0) & (vertices[:, 0] <= x1) & (vertices[:, 1] >= y0) & (vertices[:, 1] <= y1))
            assert inside.sum() > 20, name
            assert xlim[0] <= x0 and x1 <= xlim[1] and ylim[0] <= y0 and y1 <= ylim[1], (name, xlim, ylim)
            assert _dark_pixels(fig, ax, (x0, y0, x1, y1)) > 10, f"{name} drawn but not visible"
            assert LABELS[language][name] in texts
        other = LABELS["en" if language == "vi" else "vi"]
        assert not texts & set(other.values())
    finally:
        plt.close(fig)


def test_unknown_language_is_refused(vintages):
    geo, values, key = vintages["63"]
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="language"):
        maps.choropleth(ax, geo, values, key, "test", language="fr")
    plt.close(fig)


def test_simplified_boundaries_keep_every_islet_and_stay_within_a_pixel():
    """The drawn boundaries are simplified (0.005°) to keep the site small: every part of the raw file
    inside the archipelago boxes is still there, and no boundary moves by a pixel (Hausdorff distance per province)."""
    import geopandas as gpd

    provinces = load_table("provinces")
    raw = gpd.read_file(maps._path("boundaries_63")).set_crs("EPSG:4326", allow_override=True)
    simple = maps.boundaries_63(Registry(provinces))
    raw_parts, simple_parts = raw.geometry.explode(index_parts=False), simple.geometry.explode(index_parts=False)
    for x0, y0, x1, y1 in BOXES.values():
        from shapely.geometry import box

        assert simple_parts.intersects(box(x0, y0, x1, y1)).sum() == raw_parts.intersects(box(x0, y0, x1, y1)).sum() > 10
    assert simple.geometry.count_coordinates().sum() < raw.geometry.count_coordinates().sum() / 4
    import warnings

    with warnings.catch_warnings():  # the distance is wanted in degrees, the unit of the tolerance and of the map's pixels
        warnings.filterwarnings("ignore", message="Geometry is in a geographic CRS")
        moved = raw.geometry.reset_index(drop=True).hausdorff_distance(simple.geometry.reset_index(drop=True))  # same rows, same order
    assert len(moved) == 63 and moved.max() < 0.02  # one pixel of a 16°-wide map is about 0.02°


# --- the A4 figure of notebook 07 (issue 19 item 1; the map table of item 6) ---------------------------------

@pytest.fixture(scope="module")
def year_rows(panel):
    """PAPI totals of the 63 provinces in 2021, the year whose Vietnamese titles overlapped, and the 34 derived."""
    from analysis.notebook import setup

    setup()  # the notebooks' style (the grid, 80 dpi on screen)
    provinces = load_table("provinces")
    rows = in_63(panel)
    rows = rows[(rows["index"] == "PAPI") & (rows["indicator"] == "total") & (rows["year"] == 2021) & (rows["date"] == "")
                & (rows["province_code"] != "00")]
    return rows, to_2025(rows, provinces, published=panel), Registry(provinces)


@pytest.fixture(scope="module", params=["vi", "en"])
def two_maps(request, year_rows):
    rows, merged, registry = year_rows
    fig = maps.vintage_maps(rows, merged, registry, "PAPI", "total", 2021, request.param)
    yield request.param, fig
    plt.close(fig)


def test_no_rendered_text_overlaps_and_each_panel_has_one_title(two_maps):
    from analysis.figures import layout_problems

    language, fig = two_maps
    assert layout_problems(fig) == [] and layout_problems(fig, tight=False) == []
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 2
    (a, b) = [ax.title.get_window_extent(fig.canvas.get_renderer()) for ax in panels]
    assert a.x1 <= b.x0  # the two titles side by side do not touch
    assert ("63 tỉnh, thành phố" if language == "vi" else "63 provinces") in panels[0].get_title()


def test_both_panels_share_one_colour_scale_with_one_colour_bar_and_its_unit(two_maps, year_rows):
    language, fig = two_maps
    rows, merged, _ = year_rows
    panels = [ax for ax in fig.axes if ax.get_title()]
    mapped = [c for ax in panels for c in ax.collections if c.get_array() is not None]
    assert len(mapped) == 2
    norms = {(c.norm.vmin, c.norm.vmax, c.get_cmap().name) for c in mapped}
    assert len(norms) == 1, norms  # the same vmin, vmax and colour map on both panels
    lo, hi = min(rows["value"].min(), merged["value"].min()), max(rows["value"].max(), merged["value"].max())
    ((vmin, vmax, cmap),) = norms
    assert (vmin, vmax, cmap) == (pytest.approx(lo), pytest.approx(hi), "viridis")
    bars = [ax for ax in fig.axes if not ax.get_title() and ax not in panels]
    assert len(bars) == 1  # one colour bar, for both panels
    assert bars[0].get_xlabel() == ("Điểm (thang 0–80)" if language == "vi" else "Points (scale 0–80)")
    ticks = [t.get_text() for t in bars[0].get_xticklabels() if t.get_text()]
    assert ticks and all("." not in t for t in ticks)  # decimal comma in vi, and whole points in both


def test_provinces_without_data_are_hatched_and_named_in_the_legend(two_maps):
    language, fig = two_maps
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["Không có số liệu" if language == "vi" else "No data"]
    (handle,) = legend.legend_handles
    assert handle.get_hatch() and handle.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    panels = [ax for ax in fig.axes if ax.get_title()]
    hatched = [c for ax in panels for c in ax.collections if c.get_hatch()]
    assert len(hatched) == 2  # Bắc Giang, Bắc Ninh, Quảng Ninh (2021) on the 63; two merged provinces on the 34


def test_source_line_names_publisher_title_and_year_not_a_path(two_maps):
    language, fig = two_maps
    (foot,) = [t for t in fig.texts if "CECODES" in t.get_text()]
    line = foot.get_text().replace("\n", " ")
    if language == "vi":
        assert line.startswith("Nguồn số liệu: CECODES, VFF-CRT, RTA và UNDP, PAPI 2021, https://papi.org.vn")
        assert "suy ra" in line and " and " not in line
    else:
        assert line.startswith("Data: CECODES, VFF-CRT, RTA and UNDP, PAPI 2021, https://papi.org.vn")
    assert ".csv" not in line and ".json" not in line and "papi_subdims" not in line


def test_saved_map_is_300_dpi_png_with_an_svg(year_rows, tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("VNGOV_OUTPUT_DIR", str(tmp_path))
    rows, merged, registry = year_rows
    fig = maps.vintage_maps(rows, merged, registry, "PAPI", "total", 2021, "vi")
    maps.save_map(fig, "choropleth", "07_maps", data=maps.map_table(rows, merged, "vi"), display=False)
    png, svg = tmp_path / "figures" / "choropleth.png", tmp_path / "figures" / "choropleth.svg"
    with Image.open(png) as img:
        assert img.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        width_cm = img.size[0] / 300 * 2.54
    assert 15.5 <= width_cm <= 17.0, width_cm  # the text width of an A4 page
    assert svg.exists() and "Quần đảo Trường Sa" in svg.read_text(encoding="utf-8")


def test_map_table_has_a_reliability_and_a_source_on_every_row(year_rows):
    rows, merged, _ = year_rows
    table = maps.map_table(rows, merged, "vi")
    assert len(table) == len(rows) + len(merged)
    assert table["reliability"].notna().all() and (table["reliability"].astype(str).str.len() > 0).all()
    assert set(table["reliability"]) == {"compiled", "derived"}  # PAPI 2021: compiled from the published dimensions
    assert table["source"].str.contains("CECODES").all()


def test_default_year_is_the_latest_with_data(panel):
    import nbformat

    from analysis import paths

    nb = nbformat.read(paths.project_root() / "notebooks" / "07_maps.ipynb", as_version=4)
    (params,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    scope: dict = {}
    exec(params.source, scope)  # noqa: S102 - the notebook's own parameters cell
    assert scope["year"] is None
    papi = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & (panel["vintage"] == "gso-2008")
                 & (panel["date"] == "") & panel["value"].notna()]
    latest = int(papi["year"].max())
    assert maps.latest_year(panel, "PAPI", "total") == latest >= 2024
    shown = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert f"year: {latest}" in shown  # the stored outputs are of the latest year
