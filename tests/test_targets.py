"""Published facts the panel must reproduce (issue 2), each also recomputed independently from the raw
CSV with the standard library so a bug in the adapters cannot confirm itself."""

from __future__ import annotations

import csv

import pytest

from analysis import paths


def papi_total(panel, year):
    return panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total") & (panel["year"] == year)]


def one(df, province):
    row = df[df["province"] == province]
    assert len(row) == 1, f"expected one row for {province}, got {len(row)}"
    return row.iloc[0]


def test_papi_2020_binh_duong_total_and_rank(panel):
    bd = one(papi_total(panel, 2020), "Bình Dương")
    assert bd["value"] == pytest.approx(40.76, abs=0.01)
    assert (bd["rank"], bd["rank_of"]) == (57, 63)
    assert bd["quartile"] == 4


def test_papi_2020_binh_duong_independent_sum():
    """Second computation: sum the 29 sub-dimension columns of P47 straight from the raw CSV."""
    with open(paths.raw_dir() / "papi_hnks_ml_mcdm/csv/2020.csv", newline="") as fh:
        rows = {r["Province"]: r for r in csv.DictReader(fh)}
    totals = {p: sum(float(v) for k, v in r.items() if k != "Province" and v) for p, r in rows.items()}
    assert totals["P47"] == pytest.approx(40.76, abs=0.01)
    assert sorted(totals.values(), reverse=True).index(totals["P47"]) + 1 == 57


def test_binh_duong_2020_two_dimensions_up_six_down(panel):
    dims = panel[(panel["index"] == "PAPI") & (panel["province"] == "Bình Dương") & panel["indicator"].str.fullmatch(r"d\d")]
    wide = dims.pivot(index="indicator", columns="year", values="value")
    change = wide[2020] - wide[2019]
    assert sorted(change[change > 0].index) == ["d3", "d5"]  # vertical accountability; public administrative procedures
    assert (change < 0).sum() == 6


def test_papi_2019_binh_phuoc_rank_and_mean(panel):
    t = papi_total(panel, 2019)
    bp = one(t, "Bình Phước")
    assert (bp["rank"], bp["rank_of"]) == (30, 63)
    assert t["value"].mean() == pytest.approx(43.61, abs=0.01)
    assert len(t) == 63


def test_papi_2021_scored_for_60_provinces(panel):
    t = papi_total(panel, 2021)
    assert len(t) == 60
    assert t["rank_of"].eq(60).all()
    assert set(t["province"]) >= {"Thừa Thiên Huế"}
    assert one(t, "Thừa Thiên Huế")["rank"] == 1


def test_pci_2019_quang_ninh(panel):
    pci = panel[(panel["index"] == "PCI") & (panel["indicator"] == "total") & (panel["year"] == 2019)]
    qn = one(pci, "Quảng Ninh")
    assert qn["value"] == pytest.approx(73.40, abs=0.005)
    assert qn["rank"] == 1
    assert qn["source_id"] == "pci_official_2019"


def test_pci_coverage_by_era(panel):
    pci = panel[(panel["index"] == "PCI") & (panel["indicator"] == "total") & (panel["province_code"] != "00")]
    counts = pci.groupby("year")["province_code"].nunique()
    assert counts[2005] == 42
    assert counts[2006] == counts[2007] == counts[2008] == 64  # Hà Tây included
    assert (counts.loc[2009:2019] == 63).all()
    assert "Hà Tây" in set(pci[pci["year"] == 2007]["province"])


def test_2018_totals_only_where_all_dimensions(panel):
    t = papi_total(panel, 2018)
    assert len(t) == 61  # Quảng Ninh and Đồng Tháp lack two dimensions in the official release
    assert not {"Quảng Ninh", "Đồng Tháp"} & set(t["province"])
    assert one(t, "Thừa Thiên Huế")["value"] == pytest.approx(43.2, abs=0.05)


def test_no_zero_scores_and_scales(panel):
    scores = panel[panel["index"].isin(["PAPI", "PCI"])]
    assert (scores["value"] > 0).all()
    papi = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "total")]
    assert (papi.loc[papi["year"] < 2018, "value"] <= 60).all()
    assert (papi.loc[papi["year"] >= 2018, "value"] <= 80).all()
    assert set(papi.loc[papi["year"] < 2018, "method_version"]) == {"papi-2011"}
