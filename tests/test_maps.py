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
