"""Explorer logic, checked against an independent computation on the panel."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from conftest import drawn_points  # noqa: E402

from analysis import explorer, load_table  # noqa: E402
from analysis.explorer import explore_figure, explore_table, is_rank, options, series_view  # noqa: E402
from analysis.panel.codebook import index_label, label  # noqa: E402


@pytest.fixture(scope="module")
def provinces():
    return load_table("provinces")


def _annual(panel, index, indicator):
    return panel[(panel["index"] == index) & (panel["indicator"] == indicator) & (panel["date"] == "")
                 & (panel["province_code"] != "00")]


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in [*ax.texts, ax.title, ax.xaxis.label, ax.yaxis.label]] + \
           [t.get_text() for t in fig.texts] + [fig._suptitle.get_text() if fig._suptitle else ""] + \
           [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_options_offer_sparse_indices(panel):
    opts = options(panel)
    assert opts["PAPI"][0] == "total" and "d8" in opts["PAPI"] and "total" in opts["PCI"]
    assert "total" in opts["PAR_INDEX"] and "total" in opts["SIPAS"]  # sparse, shown as points with N
    assert "SIPAS" not in options(panel, min_provinces=10)


def test_series_view_against_independent_means(panel, provinces):
    view = series_view(panel, provinces, "binh duong", "PAPI", "total", (2011, 2024)).set_index("year")
    assert view.loc[2020, "value"] == pytest.approx(40.76, abs=0.01)
    assert (view.loc[2020, "rank"], view.loc[2020, "rank_of"]) == (57, 63)
    t = _annual(panel, "PAPI", "total")
    t = t[t["year"] == 2020]
    southeast = set(provinces.loc[provinces["region"] == "Đông Nam Bộ", "province_code"])
    assert view.loc[2020, "national_mean"] == pytest.approx(t["value"].mean())
    assert view.loc[2020, "region_mean"] == pytest.approx(t[t["province_code"].isin(southeast)]["value"].mean())
    assert (view.loc[2020, "n_provinces"], view.loc[2020, "n_of"]) == (63, 63)
    assert view.loc[2023, "value"] != view.loc[2023, "value"]  # not published in 2023: a gap, not a number
    assert view.attrs["province"] == "Bình Dương"


def test_country_mean_only_where_coverage_allows(panel, provinces):
    """PAR INDEX: 1-7 provinces a year, never a country mean; PCI 2005 (42 of 64) none, 2006 (64 of 64) one."""
    view = series_view(panel, provinces, "Bắc Kạn", "PAR_INDEX", "total").set_index("year")
    counts = _annual(panel, "PAR_INDEX", "total").groupby("year")["province_code"].nunique()
    assert view["national_mean"].isna().all()
    assert view.loc[counts.index, "n_provinces"].tolist() == counts.tolist()
    assert view.loc[2017, "n_provinces"] == 0  # a year without any value (2017: published ranks only) stays a row (a gap on the axis)
    pci = series_view(panel, provinces, "Huế", "PCI", "total").set_index("year")
    p = _annual(panel, "PCI", "total")
    assert (pci.loc[2005, "n_provinces"], pci.loc[2005, "n_of"]) == (42, 64)
    assert pci.loc[2005, "national_mean"] != pci.loc[2005, "national_mean"]
    assert pci.loc[2006, "national_mean"] == pytest.approx(p[p["year"] == 2006]["value"].mean())
    assert pci.loc[2010, "n_of"] == 63  # Hà Tây merged into Hà Nội in 2008


def test_never_a_mean_of_ranks(panel, provinces):
    assert is_rank("DTI", "total_rank") and is_rank("ONLINE_SERVICES", "online_payment_national_portal")
    assert not is_rank("PAPI", "total")
    view = series_view(panel, provinces, "Bình Dương", "DTI", "total_rank").set_index("year")
    assert view.loc[2022, "n_provinces"] == 63  # full coverage, still no mean: ranks are not averaged
    assert view["national_mean"].isna().all() and view["region_mean"].isna().all()


def test_year_axes_are_whole_years(panel, provinces):
    one = series_view(panel, provinces, "Bình Dương", "DTI", "total_rank", (2022, 2022))
    fig = explore_figure(one, panel)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert 2021 <= lo < 2022 < hi <= 2023  # one point, one year wide: not 1925-2125
    assert [t for t in ax.get_xticks() if lo <= t <= hi] == [2022]
    assert ax.yaxis_inverted()  # rank 1 on top
    plt.close(fig)
    fig = explore_figure(series_view(panel, provinces, "Bình Dương", "PAPI", "total"), panel)
    for ax in fig.axes[:2]:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    plt.close(fig)


def test_sparse_index_drawn_as_points_with_n(panel, provinces):
    view = series_view(panel, provinces, "Bắc Kạn", "PAR_INDEX", "total")
    fig = explore_figure(view, panel)
    ax = fig.axes[0]
    counts = _annual(panel, "PAR_INDEX", "total").groupby("year")["province_code"].nunique()
    assert {f"N={n}" for n in counts} <= set(_texts(fig))
    points = sum(len(c.get_offsets()) for c in ax.collections)
    assert points == counts.sum()  # every reported value is a point
    assert not [line for line in ax.get_lines() if "mean" in line.get_label()]  # no country or region line
    assert explorer.RULE["en"] in " ".join(t.replace("\n", " ") for t in _texts(fig))
    plt.close(fig)


def test_lines_never_cross_a_methodology_break(panel, provinces):
    fig = explore_figure(series_view(panel, provinces, "Bình Dương", "PAPI", "total"), panel)
    for ax in fig.axes[:2]:
        for line in ax.get_lines():
            xs = set(line.get_xdata())
            assert not {2017, 2018} <= xs, line.get_label()  # PAPI 2018: 6 to 8 dimensions, 60 to 80 points
    plt.close(fig)


@pytest.mark.parametrize("language", ["en", "vi"])
def test_full_labels_not_codes(panel, provinces, language):
    view = series_view(panel, provinces, "Bình Dương", "DTI", "total_rank")
    fig = explore_figure(view, panel, language=language)
    texts = " ".join(_texts(fig))
    k = 0 if language == "vi" else 1
    assert label("DTI", "total_rank")[k] in texts.replace("\n", " ") and index_label("DTI")[k] in texts
    assert "total_rank" not in texts and "DTI total" not in texts
    plt.close(fig)


def test_table_shows_n_and_the_rule(panel, provinces):
    view = series_view(panel, provinces, "Bắc Kạn", "PAR_INDEX", "total")
    styler = explore_table(view, "vi")
    table = styler.data
    assert table.loc["2022", "Bắc Kạn"] == pytest.approx(79.35)
    assert table["N (số tỉnh có giá trị)"].tolist() == view.loc[view["n_provinces"] > 0, "n_provinces"].tolist()
    assert "2017" not in table.index  # no value anywhere that year (2017: published ranks only)
    html = styler.to_html()
    assert "79,35" in html and "2.022" not in html and ">2022<" in html
    assert "80%" in html and "Chỉ số cải cách hành chính (% điểm tối đa)" in html
    en = explore_table(view, "en").to_html()
    assert "79.35" in en and "N (provinces with a value)" in en


def test_app_redraws_once_per_change(panel, provinces, monkeypatch):
    """Changing the index resets the indicator and draws once, never the stale index-indicator pair."""
    calls, maps = [], []
    monkeypatch.setattr(explorer, "display_selection", lambda *a, **k: calls.append(a[2:5]) or maps.append(a[6]))
    box = explorer.app(panel, provinces)
    assert calls == [("Bình Dương", "PAPI", "total")]
    w_province, w_index = box.children[0].children
    w_index.value = "SIPAS"
    assert calls[1:] == [("Bình Dương", "SIPAS", "total")]
    w_province.value = "Bắc Kạn"
    assert calls[-1] == ("Bắc Kạn", "SIPAS", "total") and len(calls) == 3
    assert dict((v, k) for k, v in w_index.options)["PAR_INDEX"] == index_label("PAR_INDEX")[1]
    assert set(maps) == {None}  # "latest" means the latest year with a value
    w_map = box.children[2].children[1]
    w_map.value = 2020
    assert maps[-1] == 2020 and w_map.options[0][0] == "latest"


def test_executed_notebook_html_has_figure_and_table(tmp_path, monkeypatch):
    """Run without a browser (as the runner and nbval run it), the explorer's HTML holds the default
    selection's figure and table, not only a widget that needs a live kernel."""
    import re

    from analysis import paths
    from analysis.runner.config import Job, RunConfig
    from analysis.runner.run import execute

    monkeypatch.setenv("VNGOV_REPORTS_DIR", str(tmp_path))
    nb_dir = paths.project_root() / "notebooks"
    run_dir, manifest = execute(RunConfig(nb_dir, [Job("explore", nb_dir / "explore.ipynb")]), jobs=1, progress=False,
                                site=False)
    assert manifest["status"] == "ok", manifest["notebooks"]
    html = (run_dir / "explore" / "explore.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) >= 1
    assert "N (provinces with a value)" in html and "45.39" in html  # Bình Dương, PAPI 2024


def test_vietnamese_axes_write_numbers_the_vietnamese_way(panel, provinces):
    view = series_view(panel, provinces, "Bình Phước", "ONLINE_SERVICES", "full_process_services")  # 1,067-1,072
    for language, mark, other in (("vi", "1.07", "1,07"), ("en", "1,07", "1.07")):
        fig = explore_figure(view, panel, language=language)
        fig.canvas.draw()
        ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        bar = [t.get_text() for t in fig.axes[-1].get_yticklabels()]  # the map's colour bar
        assert any(mark in t for t in ticks) and not any(other in t for t in ticks), ticks
        assert any(mark[:1] in t for t in bar) and not any(other in t for t in bar), bar
        plt.close(fig)


# ---- provenance marks (issue 19.6): a researcher's value is drawn and named as theirs ---------------------------------


def with_user_rows(panel, rows):
    """The panel with a researcher's PAR INDEX rows (province code, year, value) added as a build adds them."""
    import pandas as pd

    template = _annual(panel, "PAR_INDEX", "total").iloc[0]
    extra = pd.DataFrame([template.to_dict() | {"province_code": code, "year": year, "value": value, "reliability": "user",
                                                "source_id": "user:mine.csv", "rank": pd.NA, "rank_of": pd.NA, "grade": None}
                          for code, year, value in rows])
    return pd.concat([panel, extra.astype(panel.dtypes.to_dict())], ignore_index=True)


@pytest.mark.parametrize("language", ["en", "vi"])
def test_a_researchers_value_is_drawn_and_named_as_theirs(panel, provinces, language):
    """Bình Phước's PAR INDEX 2023 from the researcher's table (no published value that year) and another
    province's: each drawn in the user marker, the legend naming the researcher's values in the reader's
    language; every other point's marker matches its reliability."""
    from analysis.panel.provenance import marker_label
    from analysis.registry import Registry

    reg = Registry(provinces)
    bp, dn = reg.resolve("Bình Phước"), reg.resolve("Đồng Nai")
    ann = _annual(panel, "PAR_INDEX", "total")
    assert ann[(ann["province_code"].isin([bp, dn])) & (ann["year"] == 2023)].empty  # the researcher's values fill a gap
    p = with_user_rows(panel, [(bp, 2023, 81.25), (dn, 2023, 79.5)])
    fig = explore_figure(series_view(p, provinces, "Bình Phước", "PAR_INDEX", "total"), p, language=language)
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    user = marker_label("user", language)
    assert f"Bình Phước: {user}" in legend and explorer.TEXT[language]["others"] + user in legend
    assert not any("Reported values" in t or "Giá trị công bố" in t for t in legend)
    expected = {(float(r.year), float(r.value)): r.reliability for r in _annual(p, "PAR_INDEX", "total").itertuples()}
    points = drawn_points(ax)
    assert (2023.0, 81.25, frozenset({"user"})) in {(x, y, frozenset(k)) for x, y, k in points}
    for x, y, kinds in points:
        assert expected[(x, y)] in kinds, (x, y, expected[(x, y)], kinds)
    assert {expected[(x, y)] for x, y, _ in points} >= {"reported", "user"}
    plt.close(fig)
