"""The Decision 766 service index of the 34 provinces of 2025 (issue 9, part 1): the adapter's values against
an independent read of the workbook, what is not a province row, the two cut-offs and the press values."""

from __future__ import annotations

import openpyxl
import pytest

from analysis import load_table, paths
from analysis.panel.codebook import expected_scale_max, label

T10 = "dvc766_2025_truongquangphuc/bao_cao_T10_2025.xlsx"
THANG10 = "dvc766_2025_truongquangphuc/bao_cao_thang_10_2025.xlsx"
COMPONENTS = ["tdgq", "mdhl", "mdsh", "tttt", "clgq", "ckmb"]


def dvc(panel, indicator="total", date="2025-10-16"):
    d = panel[(panel["index"] == "DVC766") & (panel["indicator"] == indicator) & (panel["date"] == date)]
    return d.set_index("province")


def test_bac_ninh_first_and_khanh_hoa_last_year_to_date(panel):
    t = dvc(panel)
    assert len(t) == 34 and set(t["vintage"]) == {"gso-2025"} and set(t["rank_of"]) == {34}
    bn, kh = t.loc["Bắc Ninh"], t.loc["Khánh Hòa"]
    assert (bn["value"], bn["rank"], bn["province_code"]) == (pytest.approx(91.70), 1, "24")
    assert (kh["value"], kh["rank"], kh["province_code"]) == (pytest.approx(80.92), 34, "56")
    assert bn["year"] == 2025 and bn["source_id"] == "dvc766_2025_t10" and bn["reliability"] == "compiled"
    assert bn["rank_basis"] == "reported"  # the portal's rank, as published


def test_values_equal_an_independent_read_of_the_sheet(panel):
    """Second reader (openpyxl, by header name) over every province row and column of 'Điểm năm'."""
    wb = openpyxl.load_workbook(paths.raw_dir() / T10, read_only=True, data_only=True)
    rows = list(wb["Điểm năm"].iter_rows(values_only=True))
    wb.close()
    head = list(rows[0])
    sheet = {r[head.index("TEN")]: r for r in rows[1:]}
    assert len(sheet) == 34
    codes = {c: c.lower() for c in ["TDGQ", "MDHL", "MDSH", "TTTT", "CLGQ", "CKMB"]} | {"TONG_SCORE": "total"}
    d = panel[(panel["index"] == "DVC766") & (panel["date"] == "2025-10-16")]
    got = {(r.province_code, r.indicator): r.value for r in d.itertuples()}
    provinces = load_table("provinces")
    key = provinces[provinces["vintage"] == "gso-2025"].set_index("full_name")["province_code"]
    for name, r in sheet.items():
        code = key["Tỉnh " + name.removeprefix("UBND tỉnh ")] if "tỉnh" in name else key[name.removeprefix("UBND ")]
        for col, ind in codes.items():
            assert got[(code, ind)] == pytest.approx(float(r[head.index(col)])), (name, col)
        assert sum(float(r[head.index(c)]) for c in codes if c != "TONG_SCORE") == pytest.approx(float(r[head.index("TONG_SCORE")]), abs=0.035)


def test_month_scores_are_another_measure(panel):
    month = dvc(panel, "total_month", "2025-10")
    assert len(month) == 34 and month.loc["Bắc Ninh", "value"] == pytest.approx(91.52)
    assert month.loc["Huế", "rank"] == 34
    # never under the year-to-date indicator, whatever the date
    ytd = panel[(panel["index"] == "DVC766") & (panel["indicator"] == "total") & (panel["source_id"] == "dvc766_2025_t10")]
    assert set(ytd["date"]) == {"2025-10-16"}
    assert label("DVC766", "total_month")[1].startswith("Total score of one month")
    assert expected_scale_max("DVC766", "clgq", 2025) == 12 and expected_scale_max("DVC766", "mdsh", 2025) == 22


def test_departments_communes_and_trends_are_excluded_with_reasons():
    ex = load_table("excluded")
    mine = ex[ex["source_id"] == "dvc766_2025_t10"]
    reasons = mine["reason"].value_counts()
    assert reasons["a department of the province (Sở, Ban), not a province (LOAI_COQUAN 2)"] == 15
    assert reasons["a commune or ward, not a province (LOAI_COQUAN 3)"] == 102
    assert reasons["one province's (An Giang's) trend of totals, not a cross-section of provinces"] == 7
    assert mine["file"].str.contains("Sở Ban|Xã Phường|Xu hướng").all()


def test_the_two_workbooks_are_compared_as_different_cut_offs(panel, crosschecks):
    earlier = dvc(panel, date="2025-10-11")
    assert len(earlier) == 34 and earlier.loc["Bắc Ninh", "value"] == pytest.approx(91.64)
    c = crosschecks[(crosschecks["index"] == "DVC766") & (crosschecks["other_source_id"] == "dvc766_2025_thang10")]
    assert len(c[c["kind"] == "value"]) == 34 * 7 and len(c[c["kind"] == "rank"]) == 34
    assert set(c["status"]) == {"different cut-off"}
    assert set(c["date"]) == {"2025-10-16"} and set(c["other_date"]) == {"2025-10-11"}
    kh = c[(c["province"] == "Khánh Hòa") & (c["indicator"] == "total") & (c["kind"] == "value")].iloc[0]
    assert (kh["kept_value"], kh["other_value"]) == (pytest.approx(80.92), pytest.approx(73.87))
    conflicts = load_table("conflicts")
    assert not (conflicts["index"] == "DVC766").any()  # a later measurement is not a conflict


def test_press_values_rerouted_with_vintage_and_date(panel, crosschecks):
    press = panel[(panel["index"] == "DVC766") & (panel["source_id"] == "news_reported")]
    qt = press[(press["province"] == "Quảng Trị") & (press["indicator"] == "total")].iloc[0]
    assert (qt["vintage"], qt["province_code"], qt["date"], qt["value"], qt["rank"], qt["rank_of"]) == \
        ("gso-2025", "44", "2025-07-25", 77.65, 2, 34)
    sl = press[press["province"] == "Sơn La"].set_index("indicator")
    assert sl.loc["online_22", "value"] == 14.31 and sl.loc["online_22", "vintage"] == "gso-2025"  # same page as its 29/34
    bn = press[press["province"] == "Bắc Ninh"].set_index("indicator")
    assert bn.loc["clgq", "value"] == 8.53 and bn.loc["clgq", "province_code"] == "24"
    bp = press[(press["province"] == "Bình Phước")].iloc[0]  # 2024, ranked out of 63: the old province
    assert (bp["vintage"], bp["province_code"], bp["date"], bp["value"]) == ("gso-2008", "70", "2024", 88.2)
    assert not panel["indicator"].str.startswith("dvc766_").any()
    ex = load_table("excluded")
    assert not ex["reason"].str.contains("34 provinces after the July 2025 merger").any()
    c = crosschecks[(crosschecks["index"] == "DVC766") & (crosschecks["other_source_id"] == "news_reported")]
    sl_rank = c[(c["province"] == "Sơn La") & (c["kind"] == "rank")].iloc[0]
    assert (sl_rank["other_value"], sl_rank["kept_value"], sl_rank["status"]) == (29, 13, "different cut-off")
    assert len(c) == 6 and set(c["status"]) == {"different cut-off"}
