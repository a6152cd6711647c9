"""The 2025 vintage, first class (issue 9, part 2): 2025 names resolve to 2025 codes and never to a code of
the 63; researchers' rows take the vintage their time implies or say it; the one 63 -> 34 rule, checked
against a second computation, never overrides a published 2025 value; 63-province consumers never see a
2025 code; the pages of the 63 show their successor's 2025 values, labelled as the successor's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import HOSTILE_FILE

from analysis import load_panel, load_table
from analysis.errors import DataError
from analysis.panel.vintage import AGGREGATION_RULE, in_34, in_63, to_2025

HEADER = "province,year,index,indicator,value,unit,source,note"


@pytest.mark.parametrize(("name", "code"), [
    ("UBND tỉnh Bắc Ninh", "24"), ("Bắc Ninh", "24"), ("UBND Thành phố Huế", "46"), ("Thành phố Huế", "46"),
    ("Thành phố Hồ Chí Minh", "79"), ("UBND Thành phố Hồ Chí Minh", "79"), ("TP HCM", "79"), ("Tây Ninh", "80"),
    ("UBND tỉnh Lâm Đồng", "68"), ("Ủy ban nhân dân tỉnh Gia Lai", "52"), ("Cả nước", "00"),
])
def test_2025_names_resolve_to_2025_codes(registry, name, code):
    assert registry.resolve(name, vintage="gso-2025") == code


def test_2025_codes_reuse_old_codes_of_other_provinces_and_never_mix(registry):
    assert registry.resolve("Bắc Ninh") == "27" and registry.resolve("Bắc Ninh", vintage="gso-2025") == "24"
    assert registry.name("24") == "Bắc Giang" and registry.name("24", "gso-2025") == "Bắc Ninh"
    assert registry.resolve("Long An") == "80" and registry.name("80", "gso-2025") == "Tây Ninh"
    with pytest.raises(DataError, match="merged into Bắc Ninh .2025 code 24"):
        registry.resolve("Bắc Giang", vintage="gso-2025")
    with pytest.raises(DataError, match="unknown province vintage"):
        registry.resolve("Bắc Ninh", vintage="gso-2030")


def test_province_table_has_the_34_with_merged_codes_and_population():
    p = load_table("provinces")
    new = p[p["vintage"] == "gso-2025"].set_index("province_code")
    old = p[p["vintage"] == "gso-2008"].set_index("province_code")
    assert len(new) == 34 and not p.duplicated(["vintage", "province_code"]).any()
    assert new.at["24", "merged_codes"] == "24|27" and new.at["79", "merged_codes"] == "74|77|79"
    for code, r in new.iterrows():  # second computation: the sum over the 63 that name it as successor
        merged = old[old["code_2025"] == code]
        assert sorted(merged.index) == r["merged_codes"].split("|")
        assert r["population_2020"] == merged["population_2020"].sum()
    assert new["population_2020"].sum() == old["population_2020"].sum()
    aliases = new.at["24", "aliases"].split("|")
    assert "UBND tỉnh Bắc Ninh" in aliases and "UBND Thành phố Huế" in new.at["46", "aliases"].split("|")
    assert "spans the regions" in new.at["68", "note"]  # Lâm Đồng merges Bình Thuận (coast) into the Highlands


def test_panel_vintages(panel):
    assert set(panel["vintage"]) == {"gso-2008", "gso-2025", "gso-1991", "national"}
    assert set(panel.loc[panel["province_code"] == "00", "vintage"]) == {"national"}
    assert set(panel.loc[panel["vintage"] == "gso-1991", "province"]) == {"Hà Tây"}
    new = in_34(panel)
    assert set(new["index"]) == {"DVC766"} and new["year"].min() == 2025
    assert "derived" not in set(panel["reliability"])  # derived values are computed on demand, never stored
    # one key, vintage included: code 24 in 2025 of two vintages can coexist
    assert not panel.duplicated(["province_code", "vintage", "year", "index", "indicator", "date"]).any()


# ---- researchers' rows: the vintage their time implies, or the column --------------------------------


def _write(tmp_path, rows, header=HEADER):
    p = tmp_path / "t.csv"
    p.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def test_user_row_after_the_merger_takes_the_2025_vintage(tmp_path, ingest_user):
    df = ingest_user(_write(tmp_path, ["Bắc Ninh,2026,MY_SURVEY,score,3,points,test,",
                                       "Bắc Giang,2024,MY_SURVEY,score,2,points,test,"]))
    assert list(zip(df["province_code"], df["vintage"], strict=True)) == [("24", "gso-2025"), ("24", "gso-2008")]


def test_user_row_dated_after_july_2025(tmp_path, ingest_user):
    header = HEADER + ",date"
    df = ingest_user(_write(tmp_path, ["Bắc Ninh,2025,MY_SURVEY,score,3,points,test,,2025-08",
                                       "Bắc Ninh,2025,MY_SURVEY,score,2,points,test,,2025-03-31"], header))
    assert list(zip(df["province_code"], df["vintage"], strict=True)) == [("24", "gso-2025"), ("27", "gso-2008")]


def test_2025_without_a_month_is_ambiguous_for_names_of_both_vintages(tmp_path, ingest_user):
    with pytest.raises(DataError) as err:
        ingest_user(_write(tmp_path, ["Bắc Ninh,2025,MY_SURVEY,score,3,points,test,"]))
    text = str(err.value)
    assert "t.csv" in text and "row 2" in text and "vintage" in text and "code 27" in text and "code 24" in text


def test_2025_without_a_month_is_fine_when_the_name_has_one_vintage(tmp_path, ingest_user):
    df = ingest_user(_write(tmp_path, ["Bắc Giang,2025,MY_SURVEY,score,3,points,test,", "Cả nước,2025,MY_SURVEY,score,2,points,test,"]))
    assert list(zip(df["province_code"], df["vintage"], strict=True)) == [("24", "gso-2008"), ("00", "national")]


def test_vintage_column(tmp_path, ingest_user):
    header = HEADER + ",vintage"
    df = ingest_user(_write(tmp_path, ["Bắc Ninh,2025,MY_SURVEY,score,3,points,test,,gso-2025",
                                       "Bắc Ninh,2025,MY_SURVEY,other,3,points,test,,gso-2008"], header))
    assert list(df["province_code"]) == ["24", "27"]
    with pytest.raises(DataError, match="vintage must be gso-2008 or gso-2025"):
        ingest_user(_write(tmp_path, ["Bắc Ninh,2025,MY_SURVEY,score,3,points,test,,2025"], header))
    with pytest.raises(DataError, match="34 provinces of 2025 exist from 1 July 2025"):
        ingest_user(_write(tmp_path, ["Bắc Ninh,2024,MY_SURVEY,score,3,points,test,,gso-2025"], header))
    with pytest.raises(DataError, match="merged into Bắc Ninh"):
        ingest_user(_write(tmp_path, ["Bắc Giang,2026,MY_SURVEY,score,3,points,test,,gso-2025"], header))


def test_a_63_province_after_the_merger_names_its_successor(tmp_path, ingest_user):
    with pytest.raises(DataError) as err:
        ingest_user(_write(tmp_path, ["Bình Dương,2026,MY_SURVEY,score,3,points,test,"]))
    assert "did not exist" in str(err.value) and "Thành phố Hồ Chí Minh" in str(err.value) and "'year'" in str(err.value)


# ---- the one 63 -> 34 rule ---------------------------------------------------------------------------


def _papi(panel, year=2024, indicator="d8"):
    p = in_63(panel)
    return p[(p["index"] == "PAPI") & (p["year"] == year) & (p["indicator"] == indicator) & (p["date"] == "")]


def test_to_2025_equals_a_second_computation(panel):
    provinces = load_table("provinces")
    rows = _papi(panel)
    d = to_2025(rows, provinces).set_index("province_code")
    old = provinces[provinces["vintage"] == "gso-2008"].set_index("province_code")
    values = rows.set_index("province_code")["value"]
    expected = {}
    for new, g in old.groupby("code_2025"):  # plain loop, numpy weights
        if set(g.index) <= set(values.index):
            w = g["population_2020"].astype(float).to_numpy()
            expected[new] = float(np.sum(w * values[g.index].to_numpy()) / np.sum(w))
    assert set(d.index) == set(expected) and len(d) == 32  # two 2025 provinces merge one PAPI did not score in 2024
    for code, v in expected.items():
        assert d.at[code, "value"] == pytest.approx(v, abs=1e-12)
    assert set(d["reliability"]) == {"derived"} and set(d["vintage"]) == {"gso-2025"}
    assert d["note"].str.contains(AGGREGATION_RULE, regex=False).all()
    assert (d["n_merged"] == d["n_with_value"]).all()
    assert d.at["24", "province"] == "Bắc Ninh" and "Bắc Giang" in d.at["24", "note"]


def test_to_2025_leaves_a_province_blank_unless_every_part_has_a_value(panel):
    provinces = load_table("provinces")
    rows = _papi(panel)
    without_bac_giang = rows[rows["province_code"] != "24"]
    d = to_2025(without_bac_giang, provinces)
    assert "24" not in set(d["province_code"])  # Bắc Ninh (2025) = Bắc Giang + Bắc Ninh: not from half of it
    assert len(d) == 31


def test_derived_rows_never_overwrite_published_ones(panel):
    provinces = load_table("provinces")
    rows = _papi(panel)
    published = pd.DataFrame([{**rows.iloc[0].to_dict(), "province_code": "24", "vintage": "gso-2025", "value": 1.0,
                               "reliability": "official", "source_id": "a 2025 PAPI"}])
    d = to_2025(pd.concat([rows, published], ignore_index=True), provinces)
    assert "24" not in set(d["province_code"]) and len(d) == 31
    d2 = to_2025(rows, provinces, published=published)  # or published elsewhere (the whole panel)
    assert "24" not in set(d2["province_code"])
    # a published 2025 value of another key does not block
    other = published.assign(indicator="d5")
    assert "24" in set(to_2025(rows, provinces, published=other)["province_code"])


def test_derived_rows_carry_their_caveat_and_merged_units_are_smoother(panel):
    """The caveat every caller prints: population of all ages as weights (no adult population by province in
    the mirror), no standard error, merged units smoother. Smoother, measured: PAPI 2024 totals of merged
    units spread less than those of the 11 unmerged ones."""
    from analysis.panel.vintage import derived_caveat

    d = to_2025(_papi(panel, indicator="total"), load_table("provinces"))
    assert d.attrs["caveat"] == derived_caveat("en") and "standard error only" in d.attrs["caveat"] and "adult" in d.attrs["caveat"]
    assert d["se"].isna().all() and (d["weight_basis"] == "GSO 2020 average population (all ages)").all()  # no SE given: none made up
    vi = derived_caveat("vi")
    assert "sai số chuẩn" in vi and "Tổng cục Thống kê" in vi and "n_merged" not in vi
    merged, single = d.loc[d["n_merged"] > 1, "value"], d.loc[d["n_merged"] == 1, "value"]
    assert len(single) == 11 and merged.std() < single.std()


def test_ranks_and_counts_are_not_averaged(panel):
    provinces = load_table("provinces")
    p = in_63(panel)
    ranks = p[(p["index"] == "DTI") & (p["indicator"] == "total_rank") & (p["year"] == 2022)]
    assert len(ranks) == 63 and to_2025(ranks, provinces).empty
    counts = p[(p["index"] == "ONLINE_SERVICES") & p["indicator"].str.endswith("_count")]
    assert len(counts) and to_2025(counts.drop_duplicates(["province_code", "year", "indicator", "date"]), provinces).empty


def test_to_2025_standard_error_of_a_weighted_mean(panel):
    """PAPI 2019 totals with the published SEs: sqrt(sum w_i^2 se_i^2) / sum w_i over the merged provinces,
    recomputed by a plain loop from the uncertainty table; a merged province one of whose parts has no SE
    gets none."""
    provinces = load_table("provinces")
    rows = _papi(panel, 2019, "total")
    u = load_table("uncertainty")
    se = u[(u["indicator"] == "total") & (u["year"] == 2019)][["province_code", "year", "index", "indicator", "se"]]
    d = to_2025(rows, provinces, se=se.assign(se_source="published")).set_index("province_code")
    old = provinces[provinces["vintage"] == "gso-2008"].set_index("province_code")
    s = se.set_index("province_code")["se"]
    for new, g in old.groupby("code_2025"):
        w = g["population_2020"].astype(float).to_numpy()
        expected = float(np.sqrt(np.sum(w**2 * s[g.index].to_numpy() ** 2)) / np.sum(w))
        assert d.at[new, "se"] == pytest.approx(expected, rel=1e-12) and d.at[new, "se_basis"] == "published"
    merged = d[d["n_merged"] > 1]
    assert (merged["se"] < merged["se"].max()).any() and len(d) == 34
    partial = to_2025(rows, provinces, se=se[se["province_code"] != "24"]).set_index("province_code")
    assert np.isnan(partial.at["24", "se"]) and partial.at["24", "se_basis"] == "" and partial["se"].notna().sum() == 33


def test_to_2025_derives_only_indices_with_a_sensible_weight(panel):
    """PAPI (a mean over residents) by population; PCI (firms), online-service shares (dossiers), DTI (a
    government's score) not at all, each with its reason in attrs and in both languages; a researcher's own
    index only when the caller names its weight."""
    from analysis.messages import t
    from analysis.panel.vintage import NOT_DERIVED, not_derived_reason

    provinces = load_table("provinces")
    p = in_63(panel)
    rows = p[(p["year"] == 2019) & (p["indicator"] == "total") & (p["date"] == "") & p["index"].isin(["PAPI", "PCI"])]
    d = to_2025(rows, provinces)
    assert set(d["index"]) == {"PAPI"} and len(d) == 34 and "firms" in d.attrs["not_derived"]["PCI"]
    assert d.attrs["weights"] == {"PAPI": "GSO 2020 average population (all ages)"}
    dti = p[(p["index"] == "DTI") & (p["year"] == 2022) & (p["date"] == "")]
    out = to_2025(dti[~dti["indicator"].str.endswith("_rank")], provinces)
    assert len(dti) > 63 and out.empty and "government" in out.attrs["not_derived"]["DTI"]
    assert {"province_code", "province", "value", "reliability", "n_merged", "n_with_value", "se"} <= set(out.columns)  # 07's columns
    online = p[(p["index"] == "ONLINE_SERVICES") & p["indicator"].str.contains("share")].drop_duplicates(["province_code", "year", "indicator", "date"])
    assert to_2025(online, provinces).empty and "dossiers" in to_2025(online, provinces).attrs["not_derived"]["ONLINE_SERVICES"]
    mine = _papi(panel, 2024, "d8").assign(index="MY_SURVEY")
    assert to_2025(mine, provinces).empty and "MY_SURVEY" in to_2025(mine, provinces).attrs["not_derived"]
    ours = to_2025(mine, provinces, weights={"MY_SURVEY": "population"})
    assert ours["value"].to_numpy() == pytest.approx(to_2025(_papi(panel, 2024, "d8"), provinces)["value"].to_numpy(), rel=1e-12)
    with pytest.raises(DataError, match="unknown weight"):
        to_2025(mine, provinces, weights={"MY_SURVEY": "firms"})
    for msgid in set(NOT_DERIVED.values()) | {"stats.derived_2025.not_derived.unknown"}:
        for lang in ("vi", "en"):
            assert t(msgid, lang, index="X").strip()
    assert "DTI" not in not_derived_reason("DTI", "vi") and "doanh nghiệp" in not_derived_reason("PCI", "vi")


# ---- consumers of the 63 never see a 2025 code --------------------------------------------------------


def test_63_province_consumers_select_their_vintage():
    from analysis.explorer import options, series_view
    from analysis.report_card import build_card
    from analysis.stats.correlation import wide
    from analysis.stats.trends import series

    panel, provinces = load_panel(), load_table("provinces")
    fake = panel[(panel["index"] == "PAPI") & (panel["year"] == 2024) & (panel["province_code"] == "24")].copy()
    assert len(fake) > 0
    # a 2025-vintage PAPI value for the new Bắc Ninh (code 24, the old code of Bắc Giang) in 2024's annual keys
    fake = fake.assign(vintage="gso-2025", value=fake["value"] * 0 + 0.5, province="Bắc Ninh")
    mixed = pd.concat([fake, panel], ignore_index=True)  # first, so a pivot taking the first value would take it
    w = wide(mixed, ["PAPI:d8"], [2024])
    assert w.loc[("24", 2024), "PAPI:d8"] != 0.5
    s = series(mixed, "PAPI", "d8", [2024])
    assert (s["value"] != 0.5).all() and set(s["vintage"]) == {"gso-2008"}
    v = series_view(mixed, provinces, "Bắc Giang", "PAPI", "d8").set_index("year")
    assert v.loc[2024, "value"] != 0.5
    card = build_card(mixed, provinces, "Bắc Giang", 2024)
    assert card.province == "Bắc Giang" and 0.5 not in set(card.dimensions["value"])
    # the 766 index is offered for the 63 only through its 2022-2024 yearly rows: the 2025-only parts are not
    assert "clgq" not in options(mixed).get("DVC766", []) and "online_22" in options(mixed)["DVC766"]


def test_province_pages_show_the_successors_2025_values(hostile_site):
    page = (hostile_site / "provinces" / "27-vi.html").read_text(encoding="utf-8")
    assert "Từ 07/2025 thuộc Bắc Ninh: Bộ chỉ số phục vụ người dân" in page
    assert "mã 2025: 24" in page and "Bắc Giang; Bắc Ninh" in page and "16/10/2025" in page
    block = page[page.index('class="successor"'):page.index("</section>")]
    assert "91,70" in block and "1/34" in block and "Văn phòng Chính phủ, Cổng Dịch vụ công quốc gia (2025)" in block
    assert "dvc766_2025_t10" not in block and "(compiled)" not in block  # cited, in Vietnamese (issue 19.3, 19.5)
    en = (hostile_site / "provinces" / "24-en.html").read_text(encoding="utf-8")
    assert "From 07/2025 part of Bắc Ninh" in en and "not those of Bắc Giang (code 24 of the 63) alone" in en
    same = (hostile_site / "provinces" / "04-vi.html").read_text(encoding="utf-8")  # Cao Bằng: same territory
    assert "có cùng địa giới với Cao Bằng" in same
    # the 63-province page's own data are the 63-province coding's: Bắc Giang's CSV holds no 2025 row of code 24
    csv = pd.read_csv(hostile_site / "provinces" / "24.csv", dtype=str)
    assert set(csv["vintage"]) == {"gso-2008"} and "DVC766" not in set(csv["index"]) or \
        set(csv.loc[csv["index"] == "DVC766", "vintage"]) == {"gso-2008"}
    assert HOSTILE_FILE  # the hostile build carries a user table (footer tested in test_provenance)
