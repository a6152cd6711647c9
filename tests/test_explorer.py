"""Explorer logic, checked against an independent computation on the panel."""

from __future__ import annotations

import pytest

from analysis import load_table
from analysis.explorer import explore_figure, options, series_view


def test_options_cover_the_panels(panel):
    opts = options(panel)
    assert opts["PAPI"][0] == "total" and "d8" in opts["PAPI"] and "total" in opts["PCI"]
    assert "SIPAS" not in opts  # scattered reported values: fewer than 10 provinces in any year


def test_series_view_against_independent_means(panel):
    provinces = load_table("provinces")
    view = series_view(panel, provinces, "binh duong", "PAPI", "total", (2011, 2024)).set_index("year")
    assert view.loc[2020, "value"] == pytest.approx(40.76, abs=0.01)
    assert (view.loc[2020, "rank"], view.loc[2020, "rank_of"]) == (57, 63)
    t = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & (panel["year"] == 2020)]
    southeast = set(provinces.loc[provinces["region"] == "Đông Nam Bộ", "province_code"])
    assert view.loc[2020, "national_mean"] == pytest.approx(t["value"].mean())
    assert view.loc[2020, "region_mean"] == pytest.approx(t[t["province_code"].isin(southeast)]["value"].mean())
    assert view.loc[2023, "value"] != view.loc[2023, "value"]  # not published in 2023: a gap, not a number
    assert view.attrs["province"] == "Bình Dương"


def test_figure_builds(panel):
    import matplotlib

    matplotlib.use("Agg")
    view = series_view(panel, load_table("provinces"), "Huế", "PAPI", "d8")
    fig = explore_figure(view, panel)
    assert len(fig.axes) >= 3
