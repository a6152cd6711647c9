"""Report cards: the provincial article's facts survive, and the card now says what a sample survey
and a changing method allow it to say (each rule recomputed here from the tables, not from the card)."""

from __future__ import annotations

import math
import re

import pandas as pd
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


def _own_se(province, indicator):
    """The province's own standard error published for PAPI 2019, recomputed from the table."""
    u = load_table("uncertainty")
    return float(u.loc[(u["province"] == province) & (u["indicator"] == indicator), "se"].iloc[0])


def test_changes_are_judged_by_the_provinces_own_standard_error(binh_duong_2020):
    """2020 has no published SEs: the margin uses Bình Dương's own 2019 SE for both years (same scale),
    1.96 x sqrt(2) x se, not the median of all provinces'."""
    d = binh_duong_2020.dimensions.set_index("indicator")
    for ind, r in d.iterrows():
        if r["status"] == "nc":
            continue
        t = 1.959963984540054 * math.sqrt(2) * _own_se("Bình Dương", ind)
        assert r["margin"] == pytest.approx(t, rel=1e-9)
        assert r["status"] == ("flat" if abs(r["change"]) < t else "up" if r["change"] > 0 else "down"), ind
    assert d.loc["d3", "status"] == "flat"  # +0.07 points of a sample survey is not "up"
    total = 1.959963984540054 * math.sqrt(2) * _own_se("Bình Dương", "total")
    assert total != pytest.approx(_threshold("total"), abs=0.01)  # the province's own margin differs from the median's
    assert binh_duong_2020.change["margin"] == pytest.approx(total) and binh_duong_2020.change["margin_basis"] == "own_proxy"
    en = render(binh_duong_2020, "en")
    assert f"±{total:.2f}" in en and "the province's 2019 standard error" in en


def test_a_pre_2018_card_falls_back_to_the_threshold_across_the_redesign(panel, provinces):
    """The 2019 SEs belong to the 2018+ survey: a 2016 -> 2017 change is judged by the stated threshold
    (rescaled to 60 points), not by a 2019 SE carried across the redesign."""
    card = build_card(panel, provinces, "binh duong", 2017)
    assert card.change["margin_basis"] == "threshold"
    assert card.change["margin"] == pytest.approx(_threshold("total") * 60 / 80, rel=1e-9)
    assert card.uncertainty["band_basis"] == "threshold"


def test_like_for_like_total_drops_the_broken_part(panel, binh_duong_2020):
    lfl = binh_duong_2020.change["like_for_like"]
    assert lfl["dropped"] == ["d8.3"] and lfl["rescaled"] == []
    sub = panel[(panel["index"] == "PAPI") & (panel["province"] == "Bình Dương") & (panel["indicator"] == "d8.3")].set_index("year")["value"]
    assert lfl["now"] == pytest.approx(40.76 - sub[2020], abs=0.01)
    assert lfl["change"] == pytest.approx(binh_duong_2020.change["change"] - (sub[2020] - sub[2019]), abs=1e-6)  # 2019 totals sum float32 dimensions


@pytest.mark.parametrize(("prev", "year", "rescaled"), [(2018, 2019, ["d8.1", "d8.2"])])
def test_like_for_like_puts_a_rescaled_part_on_the_earlier_scale(panel, provinces, prev, year, rescaled):
    """A part the publisher rescaled (d8.1, d8.2 5 -> 3.33 in 2019 when d8.3 was added) enters the later sum
    as share of its maximum x the earlier maximum: recomputed here leaf by leaf from the panel and the
    codebook's maxima. (The d5 leaves, rescaled 2.5 -> 3.33 in 2021, fall on the 2021 reshuffle, across which
    nothing is compared: no like-for-like total, every dimension not comparable.)"""
    if year == 2019:
        across = build_card(panel, provinces, "binh duong", 2021)
        assert across.change["like_for_like"] is None and set(across.dimensions["status"]) == {"nc"}
    card = build_card(panel, provinces, "binh duong", year)
    lfl = card.change["like_for_like"]
    assert lfl["rescaled"] == rescaled
    bd = panel[(panel["index"] == "PAPI") & (panel["province_code"] == "74") & panel["indicator"].str.fullmatch(r"d\d\.\d")]
    v = bd.pivot_table(index="indicator", columns="year", values="value")[[prev, year]].dropna()
    keep = [i for i in v.index if i not in lfl["dropped"]]  # leaves published in both years, less the broken ones
    assert len(keep) >= 25
    now = sum(v.loc[i, year] / cb.expected_scale_max("PAPI", i, year) * cb.expected_scale_max("PAPI", i, prev) for i in keep)
    raw = sum(v.loc[i, year] for i in keep)
    assert lfl["before"] == pytest.approx(sum(v.loc[i, prev] for i in keep), abs=1e-4)
    assert lfl["now"] == pytest.approx(now, abs=1e-4) and abs(now - raw) > 0.1  # the rescale would otherwise read as a change


def test_card_leads_with_margin_counts_and_like_for_like_rank(binh_duong_2020):
    en = render(binh_duong_2020, "en")
    assess = en.index("beyond the margin of error: up 1, down 3; not distinguishable from 2019 3; not comparable 1")
    raw = en.index("Raw changes, ignoring the margin")
    assert assess < raw and "down 6; of these, not comparable 1 (E-governance)" in en
    lfl, published = en.index("Like for like with 2019"), en.index("As published: 2019")
    assert lfl < published and "rank 36 → 56 among the 63 provinces with these parts in both years (down 20 places)" in en
    assert "this rank change includes the break in E-responsiveness" in en
    assert "Source change: the 2019 scores are official, the 2020 scores compiled" in en
    # the verdict is on the like-for-like change; the published change, which contains the break, gets none
    assert "-1.69; national +0.01; margin ±1.10, that of the full total: down" in en and "it contains the break, so no up or down" in en


def test_the_total_verdict_follows_the_like_for_like_change(panel, provinces):
    """Hà Giang 2019: the published total falls 1.31 points, but 1.31 includes three broken parts; like
    for like it rises. The verdict is the like-for-like one, recomputed here against the same margin."""
    card = build_card(panel, provinces, "Hà Giang", 2019)
    lfl, margin = card.change["like_for_like"], card.change["margin"]
    assert card.change["change"] < -1 and lfl["change"] > 0
    expected = "flat" if abs(lfl["change"]) < margin else "up"
    assert card.change["status"] == lfl["status"] == expected and card.change["verdict_on"] == "like_for_like"


def test_rank_changes_are_among_the_provinces_scored_in_both_years(panel, provinces):
    """2023 and 2024 both rank 61 provinces, but not the same 61: Tây Ninh's place change is counted among
    the 59 scored in both years (recomputed here), not as 60th of 61 -> 2nd of 61."""
    card = build_card(panel, provinces, "Tây Ninh", 2024)
    t = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & panel["year"].isin([2023, 2024])
              & (panel["province_code"] != "00")].pivot_table(index="province_code", columns="year", values="value").dropna()
    r = t.rank(ascending=False, method="min").astype(int)
    code = card.province_code
    assert len(t) == 59 and not card.previous["same_provinces"]
    assert (card.previous["rank_both_before"], card.previous["rank_both_now"]) == (r.loc[code, 2023], r.loc[code, 2024])
    before, now = r.loc[code, 2023], r.loc[code, 2024]
    en, vi = render(card, "en"), render(card, "vi")
    assert f"Re-ranked among the 59 provinces scored in both 2023 and 2024: {before} → {now}, up {before - now} places." in en
    assert f"(up {card.previous['rank'] - card.total['rank']} places)" not in en
    # issue 19.5: one ranking base per sentence (the published rank of 61, then the re-ranking among 59)
    for text in (en, vi):
        for sentence in re.split(r"(?<=\.)\s", text):
            assert not ("/61" in sentence and "59" in sentence) and not (" of 61" in sentence and " 59 " in sentence), sentence


def test_footnotes_name_the_rows_each_margin_rule_applied_to(panel, provinces):
    """Bình Dương 2022: no published SEs; every judged dimension borrows the province's own 2019 SE (issue 18.2: across
    the 2021 reshuffle and changes of content too, the survey design being the same), so the footnotes carry the
    own-SE rule only. Bình Dương 2016 (before the 2018 redesign): every row takes the median-SE threshold, and the
    footnote names each row it judged with its threshold, and no row it did not judge."""
    card = build_card(panel, provinces, "binh duong", 2022)
    d = card.dimensions.set_index("indicator")
    used = d[~d["status"].isin(["nc", ""])]
    assert len(used) >= 5
    for ind, r in used.iterrows():
        assert r["margin_basis"] == "own_proxy", ind
        assert r["margin"] == pytest.approx(1.959963984540054 * math.sqrt(2) * _own_se("Bình Dương", ind), rel=1e-9), ind
    en = render(card, "en")
    assert "uses the province's 2019 standard error" in en and "_Margin of error: a change smaller than the threshold" not in en
    old = build_card(panel, provinces, "binh duong", 2016)
    d = old.dimensions.set_index("indicator")
    used = d[~d["status"].isin(["nc", ""])]
    assert len(used) >= 3 and set(used["margin_basis"]) == {"threshold"}
    en = render(old, "en")
    threshold = next(line for line in en.splitlines() if line.startswith("_Margin of error: a change smaller than the threshold"))
    for ind, r in used.iterrows():  # each row it judged, with its own threshold
        assert f"{cb.label('PAPI', ind)[1]} {r['margin']:.2f}" in threshold
    for ind in d.index[d["status"] == "nc"]:  # a row no rule judged gets no threshold
        assert f"{cb.label('PAPI', ind)[1]} " not in threshold


def test_rank_band_and_published_rank(panel, binh_duong_2020):
    lo, hi = binh_duong_2020.uncertainty["rank_band"]
    assert binh_duong_2020.uncertainty["band_basis"] == "se_proxy"
    u = load_table("uncertainty")
    se = u[u["indicator"] == "total"].set_index("province")["se"]
    t = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & (panel["year"] == 2020)].sort_values("value", ascending=False)
    t = t.reset_index(drop=True)
    pos = t.index[t["province"] == "Bình Dương"][0]
    limit = 1.959963984540054 * (se["Bình Dương"] ** 2 + t["province"].map(se) ** 2) ** 0.5
    within = (t["value"] - t.loc[pos, "value"]).abs() < limit
    assert lo < 57 < hi and within[lo - 1: hi].all() and not within[lo - 2] and not within[hi]
    assert binh_duong_2020.published_rank == {"rank": 57, "rank_of": 63, "source_ref": "articles/000_9680da4873b20577.txt",
                                              "source_id": "articles"}
    # cited as a reader cites it (issue 19.3), not by the transcription's file
    assert "57/63 (Báo cáo tại cuộc họp của UBND tỉnh Bình Dương về kết quả PAPI 2020, 26/10/2021)" in render(binh_duong_2020, "vi")


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
    assert "places" not in en and "beyond the margin" not in en and "Raw changes" not in en and "changed method between 2017 and 2018" in en


def test_quartile_rule_is_documented(binh_duong_2020):
    q = binh_duong_2020.total
    assert q["quartile"] == math.ceil(4 * q["rank"] / q["rank_of"])
    assert "ceil(4 × rank / number ranked)" in render(binh_duong_2020, "en")
    assert "4 × thứ hạng / số tỉnh" in render(binh_duong_2020, "vi")


# Issue 11: Vietnamese conventions, other indices at their latest year, cards of every year and of the
# indices known from reported values.

def test_vietnamese_card_writes_numbers_and_lists_the_vietnamese_way(binh_duong_2020):
    vi, en = render(binh_duong_2020, "vi"), render(binh_duong_2020, "en")
    assert "40,76/80" in vi and "40.76" not in vi and "40.76 of 80" in en
    assert "-3,21" in vi and "±1,10" in vi  # total change and the margin
    # the two dimensions up, as one list of names that contain commas themselves
    assert "(Trách nhiệm giải trình với người dân; Thủ tục hành chính công)" in vi
    assert not re.search(r"\d\.\d\d(?!\d)", vi.split("### ")[0].replace("1,96 × √2", "")), "English decimals in the Vietnamese card"


def test_other_indices_show_their_latest_value_with_its_year(panel, provinces):
    card = build_card(panel, provinces, "Bình Dương", 2024)
    others = card.others.set_index("index")
    assert others.loc["PCI", "year"] == 2019 and others.loc["MIC_EGOV", "year"] == 2017
    online = card.others[card.others["index"] == "ONLINE_SERVICES"]
    assert set(online["year"]) == {2024} and len(online) >= 2
    vi = render(card, "vi")
    assert "Không có chỉ số khác" not in vi and "năm 2019: 67,38; thứ hạng 13/63" in vi
    assert "ONLINE_SERVICES" not in vi  # an index without an acronym is named in full


def test_par_index_card_of_bac_kan_2022_reproduces_its_article(panel, provinces):
    card = build_card(panel, provinces, "Bắc Kạn", 2022, "PAR_INDEX")
    assert card.kind == "reported" and card.total["value"] == pytest.approx(79.35)
    assert (card.total["rank"], card.total["rank_of"]) == (61, 63)
    fields = card.dimensions.set_index("indicator")
    assert len(fields) == 7 and fields.loc["egov", "share"] == pytest.approx(72.2)
    assert fields.loc["direction_and_management", "value"] == pytest.approx(7.775)
    assert fields.loc["direction_and_management", "share"] == pytest.approx(100 * 7.775 / 9.5)  # points / its maximum
    assert (fields.loc["socioeconomic_impact", "rank"], fields.loc["socioeconomic_impact", "rank_of"]) == (34, 63)
    res = card_results(card)
    assert res["weakest"] == ["egov", "socioeconomic_impact", "public_finance_reform"]  # as the article lists them
    vi = render(card, "vi")
    assert "Đạt 79,35%, xếp thứ 61/63" in vi and "/100" not in vi.split("|")[0] and "61/63" in vi and "7,775" in vi and "9,5" in vi and "72,2%" in vi
    assert "Số liệu trích dẫn" in vi and "articles/001" not in vi.replace("\\", "") and "tỉnh Bắc Kạn" in vi
    assert "PAR\\_INDEX" not in vi and "PAR_INDEX" not in vi


def test_sipas_card_states_the_reported_national_mean_and_the_previous_rank(panel, provinces):
    card = build_card(panel, provinces, "Quảng Ninh", 2022, "SIPAS")
    assert card.total["value"] == pytest.approx(87.59) and card.total["rank"] == 1
    assert card.national["value"] == pytest.approx(80.08)
    assert card.previous["year"] == 2020 and card.previous["rank"] == 1
    en = render(card, "en")
    assert "National mean 2022: 80.08" in en and "same rank" in en and "compares ranks across years, not scores" in en


def test_all_cards_give_the_same_cards_as_one_at_a_time(panel, provinces):
    from analysis.report_card import all_cards

    every = all_cards(panel, provinces, "PAPI")
    years = sorted({y for _, y in every})
    assert years == sorted(set(panel.loc[(panel["index"] == "PAPI") & (panel["indicator"] == "total")
                                          & panel["reliability"].isin(["official", "compiled"]), "year"]))
    assert sum(1 for c, _ in every if c == "74") == 13  # Bình Dương: every year with a published score
    for code, year in [("74", 2020), ("75", 2019), ("46", 2018), ("06", 2024)]:
        one = build_card(panel, provinces, code, year)
        assert render(every[(code, year)], "vi") == render(one, "vi")
        assert card_results(every[(code, year)]) == card_results(one)
    assert all(not c.notes or not any(n.startswith("fallback") for n in c.notes) for c in every.values())


def test_a_researchers_row_is_never_credited_to_the_publisher(panel, provinces):
    """A user row of a reported index (PAR INDEX) is not what the Ministry published: it gives no card year
    of its own and never appears as the card's score or rank."""
    from analysis.report_card import build_cards, card_years

    par = panel[(panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total") & (panel["province_code"] == "06")
                & (panel["year"] == 2022)].iloc[0]
    mine = par.copy()
    mine[["value", "rank", "rank_of", "reliability", "source_ref", "year"]] = [99.9, 1, 63, "user", "my survey", 2023]
    other = mine.copy()
    other[["province_code", "province", "year"]] = ["74", "Bình Dương", 2016]  # a province-year the Ministry never scored
    with_user = pd.concat([panel, pd.DataFrame([mine, other])], ignore_index=True)
    years = card_years(with_user, "PAR_INDEX")
    assert 2023 not in years.get("06", []) and 2016 not in years.get("74", [])
    card = build_cards(with_user, provinces, 2022, "PAR_INDEX", codes=["06"])["06"]
    text = render(card, "en")
    assert "99.90" not in text and "my survey" not in text and "79.35" in text


def test_official_cards_carry_publishers_values_and_ranks_only(panel, provinces):
    """Issue 17, items 1 and 2: a researcher's PAR INDEX 2023 row, an index the researcher invented, and a rank
    column in the researcher's PAPI table. The official Bình Dương card keeps the published PAR INDEX 2020 value
    (86,93, reported by the press), shows neither user value, and prints no user rank as published."""
    from analysis.panel.codebook import PUBLISHED_RELIABILITY
    from analysis.report_card import published_ranks

    base = panel[(panel["province_code"] == "74") & (panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total")].iloc[0]
    user = pd.DataFrame([base.to_dict() | {"year": 2023, "value": 99.5, "reliability": "user", "source_id": "user_par",
                                           "rank": pd.NA, "rank_of": pd.NA, "quartile": pd.NA, "source_ref": "my notes"},
                         base.to_dict() | {"index": "MY_OWN_INDEX", "year": 2024, "value": 5.25, "reliability": "user",
                                           "source_id": "user_mine", "rank": pd.NA, "rank_of": pd.NA, "quartile": pd.NA}])
    mixed = pd.concat([panel, user], ignore_index=True)
    x = load_table("crosschecks")
    fake = x[x["kind"] == "rank"].iloc[[0]].assign(province_code="74", year=2024, index="PAPI", indicator="total_rank",
                                                    other_reliability="user", other_value=63.0, other_source_ref="my notes (user)",
                                                    other_source_id="user_papi")
    crosschecks = pd.concat([fake, x], ignore_index=True)
    pub = published_ranks(crosschecks)
    assert set(x.loc[x["kind"] == "rank", "other_reliability"]) <= PUBLISHED_RELIABILITY | {"user"}
    assert not pub["source_ref"].str.contains("my notes").any()
    card = build_card(mixed, provinces, "Bình Dương", 2024, crosschecks=crosschecks)
    for lang in ("vi", "en"):
        text = render(card, lang)
        assert "99,50" not in text and "99.50" not in text and "my notes" not in text, lang
        assert "MY_OWN_INDEX" not in text and "5,25" not in text and "5.25" not in text, lang
        assert ("86,93" if lang == "vi" else "86.93") in text, lang
    assert card.published_rank is None or "my notes" not in str(card.published_rank)
    assert set(card.others["reliability"]) <= PUBLISHED_RELIABILITY


def test_a_dimension_not_comparable_with_2019_keeps_the_provinces_own_margin(panel, provinces):
    """Issue 18.2: Bình Dương 2024 against 2022, e-governance +0,40. 2024 and 2022 have no published SEs and d8 is not
    comparable with 2019; the margin still uses the province's own 2019 SE (same survey design), 1.96 x sqrt(2) x
    se = 0,73, not the national median (0,36): the change is 'not distinguishable', not 'up'."""
    card = build_card(panel, provinces, "Bình Dương", 2024)
    d8 = card.dimensions.set_index("indicator").loc["d8"]
    own = 1.959963984540054 * math.sqrt(2) * _own_se("Bình Dương", "d8")
    assert card.previous["year"] == 2022 and d8["change"] == pytest.approx(0.40, abs=0.005)
    assert d8["margin"] == pytest.approx(own, rel=1e-9) and own > 0.7 and _threshold("d8") < 0.4
    assert d8["status"] == "flat" and d8["margin_basis"] == "own_proxy"
    assert "| E-governance | 4.06 | 3.66 | +0.40 | +0.37 | not distinguishable |" in render(card, "en")
    assert "không phân biệt được" in render(card, "vi") and "gần như không đổi" not in render(card, "vi")


def test_cards_state_their_multiplicity_with_holm_recomputed(panel, provinces):
    """Issue 18.2: the card says how many false flags 5% per dimension gives (k x 0.05, 1 - 0.95^k) and how many
    changes stay beyond the margin under Holm's adjustment within the card (recomputed here by hand)."""
    from scipy.stats import norm

    card = build_card(panel, provinces, "Bình Dương", 2024)
    d = card.dimensions[card.dimensions["status"].isin(["up", "down", "flat"])]
    k = len(d)
    p = sorted(2 * norm.sf(abs(c) / (m / 1.959963984540054)) for c, m in zip(d["change"], d["margin"], strict=True))
    holm = 0
    for i, v in enumerate(p):  # step-down: stop at the first p above alpha / (k - i)
        if v > 0.05 / (k - i):
            break
        holm += 1
    en = render(card, "en")
    assert k == 8 and f"with {k} dimensions, even if none really changed, {0.05 * k:.2f} would be marked" in en
    assert f"{round(100 * (1 - 0.95 ** k))}% of cards would show at least one" in en
    assert f"with Holm's adjustment within the card: {holm} beyond the margin" in en
    assert holm <= int(d["status"].isin(["up", "down"]).sum())


def test_card_rank_interval_matches_an_independent_simulation(panel, provinces):
    """Issue 18.3: the card's 95% rank interval (2019: every province's published SE) against a loop written here:
    for Bình Dương, the 95% quantile of max_j |e_j - e_i| / sqrt(se_i^2 + se_j^2) over 20 000 fresh draws, and the
    provinces surely ahead and behind. The two simulations may differ by one rank at the edge."""
    import numpy as np

    card = build_card(panel, provinces, "Bình Dương", 2019)
    lo, hi, n = card.uncertainty["rank_interval"]
    u = load_table("uncertainty")
    u = u[(u["year"] == 2019) & (u["indicator"] == "total")].set_index("province_code")["se"]
    tot = panel[(panel["index"] == "PAPI") & (panel["year"] == 2019) & (panel["indicator"] == "total")
                & panel["reliability"].isin(["official", "compiled"]) & (panel["province_code"] != "00")].set_index("province_code")["value"]
    se = u.reindex(tot.index).to_numpy(float)
    x = tot.to_numpy(float)
    i = list(tot.index).index("74")
    rng = np.random.default_rng(20261208)
    worst = []
    for _ in range(20):
        e = rng.standard_normal((1000, len(x))) * se
        worst.append(np.max(np.abs(np.delete(e, i, axis=1) - e[:, [i]]) / np.sqrt(se[i] ** 2 + np.delete(se, i) ** 2), axis=1))
    crit = np.quantile(np.concatenate(worst), 0.95)
    diff, sig = np.delete(x, i) - x[i], np.sqrt(se[i] ** 2 + np.delete(se, i) ** 2)
    expected = (1 + int((diff - crit * sig > 0).sum()), len(x) - int((diff + crit * sig < 0).sum()))
    assert n == len(x) == 63
    assert abs(lo - expected[0]) <= 1 and abs(hi - expected[1]) <= 1, ((lo, hi), expected)
    assert lo < card.total["rank"] < hi
    vi = render(card, "vi")
    assert f"Khoảng tin cậy 95% của thứ hạng: thứ {lo}–{hi} trong 63 tỉnh" in vi


def test_card_holm_count_equals_statsmodels_over_many_cards(panel, provinces):
    """The card's fast Holm count (`report_card._holm_beyond`) against statsmodels' Holm on the same p-values, for every
    PAPI card of 2024 and 2019."""
    from scipy.stats import norm
    from statsmodels.stats.multitest import multipletests

    from analysis.report_card import _holm_beyond, build_cards

    checked = 0
    for year in (2019, 2024):
        for card in build_cards(panel, provinces, year).values():
            rows = [r for r in card.rows if r["status"] in ("up", "down", "flat")]
            if not rows:
                continue
            p = [2 * norm.sf(abs(r["change"]) / (r["margin"] / 1.959963984540054)) for r in rows]
            assert _holm_beyond(rows) == int(multipletests(p, alpha=0.05, method="holm")[0].sum())
            checked += 1
    assert checked > 100
