"""Vietnamese conventions (issue 11): one number formatter, lists that keep names whole, labels instead of
codes, rank labels without a scale."""

from __future__ import annotations

import re

import pytest

from analysis.i18n import axis_formatter, fmt_number, index_title, join, relabel
from analysis.panel import codebook


@pytest.mark.parametrize(("value", "lang", "decimals", "sign", "expected"), [
    (40.76, "vi", 2, False, "40,76"), (40.76, "en", 2, False, "40.76"),
    (1603, "vi", None, False, "1.603"), (1603, "en", None, False, "1,603"),
    (1234567.891, "vi", 2, False, "1.234.567,89"), (-2.06, "vi", 2, True, "-2,06"), (1.05, "vi", 2, True, "+1,05"),
    (0.659, "vi", None, False, "0,659"), (79.35, "vi", None, False, "79,35"), (9.5, "vi", 4, False, "9,5000"),
    (float("nan"), "vi", 2, False, ""), (None, "en", 2, False, ""),
])
def test_fmt_number(value, lang, decimals, sign, expected):
    assert fmt_number(value, lang, decimals, sign) == expected


def test_fmt_number_keeps_reported_digits():
    assert fmt_number(7.775, "vi", 4, strip=True) == "7,775" and fmt_number(10.0, "vi", 4, strip=True) == "10"


def test_axis_formatter_uses_the_same_convention():
    f = axis_formatter("vi")
    assert [f(v) for v in (0, 2.5, 1072, 62.5)] == ["0", "2,5", "1.072", "62,5"]
    assert axis_formatter("en")(1072) == "1,072"


def test_lists_of_names_keep_names_with_commas_whole():
    names = ["Công khai, minh bạch", "Thủ tục hành chính công"]
    assert join(names) == "Công khai, minh bạch; Thủ tục hành chính công"
    assert join(names).split("; ") == names


def test_relabel_replaces_codes_in_text_and_leaves_words():
    assert relabel("PAPI:d8", "en") == "PAPI: E-governance"
    assert relabel("parts changed: added d7, d8", "en") == "parts changed: added Environmental governance; E-governance"
    assert relabel("online_payment_share", "vi") == "Tỷ lệ thanh toán trực tuyến (%)"
    assert relabel("total time", "en") == "total time"  # codes that are ordinary words stay words
    assert relabel("2021-2024", "en") == "2021-2024" and relabel(3.5, "en") == 3.5


def test_every_code_like_indicator_has_a_label_that_is_not_its_code():
    cb = codebook.load_codebook()
    for (index, indicator) in cb.indicators:
        for code in (indicator, f"{indicator}_rank"):
            vi, en = codebook.label(index, code)
            assert vi and en and code not in (vi, en), (index, code)
            assert not vi.rstrip().endswith(":") and not re.search(r"Thứ hạng công bố:\s*$", vi)


@pytest.mark.parametrize("index", ["DTI", "ICT_INDEX", "MIC_EGOV", "PAR_INDEX", "SIPAS", "PAPI", "PCI"])
def test_rank_labels_carry_no_scale(index):
    vi, en = codebook.label(index, "total_rank")
    assert "0-1" not in vi + en and "%" not in vi + en and "điểm tối đa" not in vi, (vi, en)
    assert vi.startswith("Thứ hạng công bố: ") and len(vi) > len("Thứ hạng công bố: ") + 3


def test_index_titles_show_acronyms_only_where_they_are_names():
    assert index_title("PAR_INDEX", "vi") == "PAR INDEX — Chỉ số cải cách hành chính"
    assert "ONLINE_SERVICES" not in index_title("ONLINE_SERVICES", "en") and "MIC_EGOV" not in index_title("MIC_EGOV", "vi")


def test_dates_follow_the_language():
    from analysis.i18n import fmt_date

    assert fmt_date("2025-10-16", "vi") == "16/10/2025" and fmt_date("2025-10", "vi") == "10/2025"
    assert fmt_date("2025-10-16", "en") == "2025-10-16" and fmt_date("", "vi") == "" and fmt_date("2025", "vi") == "2025"


def test_vietnamese_alphabetical_order():
    """Issue 19.5: provinces listed as a Vietnamese reader expects: syllable by syllable, ă â after a, đ after d, ê after e,
    ô ơ after o, ư after u, tones deciding only ties; "TP. Hồ Chí Minh" under H."""
    from analysis.i18n import vi_sort_key

    names = ["Yên Bái", "TP. Hồ Chí Minh", "Đà Nẵng", "Bình Định", "Dak Nông", "Bạc Liêu", "Hà Nội", "Hải Phòng", "Cao Bằng",
             "Cà Mau", "Bà Rịa - Vũng Tàu", "Ấp Bắc", "An Giang", "Hậu Giang", "Ơ Ri", "Ô Môn", "Ong", "Ưu", "Uông Bí"]
    expected = ["An Giang", "Ấp Bắc", "Bà Rịa - Vũng Tàu", "Bạc Liêu", "Bình Định", "Cà Mau", "Cao Bằng", "Dak Nông", "Đà Nẵng",
                "Hà Nội", "Hải Phòng", "Hậu Giang", "TP. Hồ Chí Minh", "Ong", "Ô Môn", "Ơ Ri", "Uông Bí", "Ưu", "Yên Bái"]
    assert sorted(names, key=vi_sort_key) == expected
    assert sorted(names) != expected  # code-point order is not it


def test_the_city_is_named_as_a_city(panel):
    """Issue 19.5: "TP. Hồ Chí Minh" in every output (bare "Hồ Chí Minh" reads as the person); the old spelling still resolves."""
    from analysis import load_table
    from analysis.registry import Registry

    provinces = load_table("provinces")
    assert set(provinces.loc[provinces["province_code"] == "79", "province"]) == {"TP. Hồ Chí Minh"}
    assert set(panel.loc[panel["province_code"] == "79", "province"]) == {"TP. Hồ Chí Minh"}
    assert Registry(provinces).resolve("Hồ Chí Minh") == "79" and Registry(provinces).resolve("tp hcm") == "79"
