"""Cross-source agreement and conflict recording."""

from __future__ import annotations

import pytest

from analysis import load_table


def test_papi_totals_from_subdimensions_equal_official_2011_2019(crosschecks):
    c = crosschecks[(crosschecks["index"] == "PAPI") & (crosschecks["kind"] == "value")]
    sub = c[c["other_source_id"].str.startswith("papi_subdims_") & (c["indicator"] == "total")]
    assert set(sub["year"]) == set(range(2011, 2020))
    assert len(sub) >= 9 * 61
    assert (sub["kept_source_id"] == "papi_official_2011_2019").all()
    assert (sub["difference"] <= 1e-3).all()
    assert (sub["status"] == "agree").all()


def test_every_official_papi_cell_agrees_between_layouts(crosschecks):
    c = crosschecks[crosschecks["other_source_id"].str.startswith(("papi_official_", "papi_subdims_"))]
    assert len(c) > 30000
    assert (c["status"] == "agree").all()


def test_pci_2014_errata_recorded_and_official_kept(panel):
    conflicts = load_table("conflicts")
    pci = conflicts[(conflicts["index"] == "PCI") & (conflicts["year"] == 2014)]
    assert len(pci) == 5
    assert set(pci["other_source_id"]) == {"pci_cleaned"}
    # correct values from sheet Summary_VN of PCI 2014.xlsx (mirror SOURCE.md errata)
    expected = {"Đà Nẵng": 66.86679, "Đồng Tháp": 65.27975, "Đắk Lắk": 58.76272, "Đồng Nai": 57.25858, "Đắk Nông": 53.89758}
    t = panel[(panel["index"] == "PCI") & (panel["indicator"] == "total") & (panel["year"] == 2014)].set_index("province")
    for province, value in expected.items():
        assert t.loc[province, "value"] == pytest.approx(value, abs=1e-5)
        assert t.loc[province, "source_id"] == "pci_official_2014"
    assert pci["other_note"].str.contains("errata").all()


def test_pci_two_sources_agree_elsewhere(crosschecks):
    c = crosschecks[crosschecks["other_source_id"].isin(["pci_cleaned", "pci_vietnamdata"])]
    bad = c[c["status"] == "conflict"]
    assert len(c) > 15000
    assert set(zip(bad["year"], bad["indicator"], strict=True)) == {(2014, "total")}


def test_reported_conflict_kept_by_grade(panel):
    conflicts = load_table("conflicts")
    hp = conflicts[(conflicts["province"] == "Hải Phòng") & (conflicts["index"] == "PAR_INDEX") & (conflicts["year"] == 2023)]
    assert len(hp) == 1
    assert {hp.iloc[0]["kept_value"], hp.iloc[0]["other_value"]} == {91.87, 91.81}


def test_article_values_checked_against_panel(crosschecks):
    art = crosschecks[crosschecks["other_source_id"] == "articles"]
    bd = art[(art["province"] == "Bình Dương") & (art["year"] == 2020) & (art["index"] == "PAPI")]
    assert set(bd["kind"]) == {"value", "rank"}
    assert (bd["status"] == "agree").all()
    pci = art[(art["index"] == "PCI") & (art["kind"] == "rank")]
    assert pci.iloc[0]["status"] == "agree"  # Bình Phước PCI 2019 61/63


def test_nothing_dropped_silently():
    excluded = load_table("excluded")
    assert len(excluded) > 0
    assert excluded["reason"].str.len().gt(10).all()
    zeros = excluded[excluded["reason"].str.contains("written as 0")]
    assert len(zeros) == 2  # PAPI 2014 Bắc Giang, Đồng Tháp
