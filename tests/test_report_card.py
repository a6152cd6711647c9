"""Report cards: the provincial article's facts survive, and the card now says what a sample survey
and a changing method allow it to say (each rule recomputed here from the tables, not from the card)."""

from __future__ import annotations

import math

import pytest

from analysis import load_table
from analysis.panel import codebook as cb
from analysis.report_card import build_card, card_results, render


@pytest.fixture(scope="module")
def provinces():
    return load_table("provinces")


@pytest.fixture(scope="module")
def binh_duong_2020(panel, provinces):
    return build_card(panel, provinces, "binh duong", 2020)


def _threshold(indicator):
    """1.96 x sqrt(2) x the median standard error published for that score (PAPI 2019), recomputed."""
    u = load_table("uncertainty")
    return 1.959963984540054 * math.sqrt(2) * float(u.loc[u["indicator"] == indicator, "se"].median())


def test_article_facts_still_hold(binh_duong_2020):
    card, res = binh_duong_2020, card_results(binh_duong_2020)
    assert card.total["value"] == pytest.approx(40.76, abs=0.01)
    assert (card.total["rank"], card.total["rank_of"]) == (57, 63)
    assert res["dimensions_up"] == ["d3", "d5"] and len(res["dimensions_down"]) == 6  # as the province's report says


def test_e_governance_fall_is_not_comparable(binh_duong_2020):
    d = binh_duong_2020.dimensions.set_index("indicator")
    assert d.loc["d8", "status"] == "nc" and d.loc["d8", "change"] < -1  # the largest fall on the card
    assert not cb.comparable("PAPI", "d8", 2019, 2020)[0]
    assert card_results(binh_duong_2020)["dimensions_not_comparable"] == ["d8"]
    for lang, words in (("vi", "không so sánh được"), ("en", "not comparable")):
        text = render(binh_duong_2020, lang)
        assert words in text and ("Phúc đáp" in text if lang == "vi" else "E-responsiveness" in text)


def test_changes_are_set_against_the_national_change(panel, binh_duong_2020):
    d = binh_duong_2020.dimensions.set_index("indicator")
    papi = panel[(panel["index"] == "PAPI") & (panel["province_code"] != "00")]
    w = papi[papi["indicator"] == "d1"].pivot_table(index="province_code", columns="year", values="value")[[2019, 2020]].dropna()
    assert d.loc["d1", "national_change"] == pytest.approx((w[2020] - w[2019]).mean(), abs=1e-12)
    t = papi[papi["indicator"] == "total"].pivot_table(index="province_code", columns="year", values="value")[[2019, 2020]].dropna()
    assert binh_duong_2020.change["national_change"] == pytest.approx((t[2020] - t[2019]).mean(), abs=1e-12)
    assert "cả nước" in render(binh_duong_2020, "vi") and "National change" in render(binh_duong_2020, "en")


def test_small_changes_are_about_unchanged_by_the_stated_threshold(binh_duong_2020):
    d = binh_duong_2020.dimensions.set_index("indicator")
    for ind, r in d.iterrows():
        if r["status"] == "nc":
            continue
        t = _threshold(ind)
        assert r["margin"] == pytest.approx(t, rel=1e-9)
        assert r["status"] == ("flat" if abs(r["change"]) < t else "up" if r["change"] > 0 else "down"), ind
    assert d.loc["d3", "status"] == "flat"  # +0.07 points of a sample survey is not "up"
    assert f"{_threshold('total'):.2f}" in render(binh_duong_2020, "en")


def test_like_for_like_total_drops_the_broken_part(panel, binh_duong_2020):
    lfl = binh_duong_2020.change["like_for_like"]
    assert lfl["dropped"] == ["d8.3"]
    sub = panel[(panel["index"] == "PAPI") & (panel["province"] == "Bình Dương") & (panel["indicator"] == "d8.3")].set_index("year")["value"]
    assert lfl["now"] == pytest.approx(40.76 - sub[2020], abs=0.01)
    assert lfl["change"] == pytest.approx(binh_duong_2020.change["change"] - (sub[2020] - sub[2019]), abs=1e-6)  # 2019 totals sum float32 dimensions


def test_rank_band_and_published_rank(panel, binh_duong_2020):
    lo, hi = binh_duong_2020.uncertainty["rank_band"]
    t = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & (panel["year"] == 2020)].sort_values("value", ascending=False)
    t = t.reset_index(drop=True)
    pos = t.index[t["province"] == "Bình Dương"][0]
    within = (t["value"] - t.loc[pos, "value"]).abs() < _threshold("total")
    assert lo < 57 < hi and within[lo - 1: hi].all() and not within[lo - 2] and not within[hi]
    assert binh_duong_2020.published_rank == {"rank": 57, "rank_of": 63, "source_ref": "articles/000_9680da4873b20577.txt"}
    assert "57/63 (articles/000_9680da4873b20577.txt)" in render(binh_duong_2020, "vi")


def test_a_2019_card_uses_the_published_standard_errors(panel, provinces):
    card = build_card(panel, provinces, "Bình Phước", 2019)
    u = load_table("uncertainty")
    se = float(u[(u["province"] == "Bình Phước") & (u["indicator"] == "total")]["se"].iloc[0])
    assert card.uncertainty["se"] == pytest.approx(se)
    low, high = card.uncertainty["ci95"]
    assert (high - low) / 2 == pytest.approx(1.959963984540054 * se)
    assert card.uncertainty["band_basis"] == "se"
    assert "95%" in render(card, "en") and f"{low:.2f}" in render(card, "en")


def test_fewer_provinces_and_official_rank_are_stated(panel, provinces):
    card = build_card(panel, provinces, "Thua Thien Hue", 2018)
    assert (card.total["rank"], card.total["rank_of"]) == (43, 61)
    assert card.published_rank["rank"] == 43 and card.published_rank["rank_of"] == 63
    en = render(card, "en")
    assert "only 61 of 63" in en and "Quảng Ninh" in en and "Đồng Tháp" in en and "Published rank: 43 of 63" in en
    # across the 2018 redesign nothing is compared: no places up or down, no dimension ups and downs
    assert "places" not in en and "dimensions up" not in en and "changed method between 2017 and 2018" in en


def test_quartile_rule_is_documented(binh_duong_2020):
    q = binh_duong_2020.total
    assert q["quartile"] == math.ceil(4 * q["rank"] / q["rank_of"])
    assert "ceil(4 × rank / number ranked)" in render(binh_duong_2020, "en")
    assert "4 × thứ hạng / số tỉnh" in render(binh_duong_2020, "vi")
