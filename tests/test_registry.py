"""Province registry: every spelling resolves; unknown names fail with suggestions; vintages kept apart."""

from __future__ import annotations

import pytest

from analysis.errors import DataError


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("TP HCM", "79"), ("TP. Hồ Chí Minh", "79"), ("Ho Chi Minh City", "79"), ("HCMC", "79"),
        ("Thua Thien Hue", "46"), ("Thừa Thiên - Huế", "46"), ("Huế", "46"), ("TT.Huế", "46"),
        ("Hoà Bình", "17"), ("Hòa Bình", "17"), ("Khánh Hoà", "56"), ("Thanh Hoá", "38"),
        ("BRVT", "77"), ("Bà Rịa - Vũng Tàu", "77"), ("Bắc Cạn", "06"), ("Đăk Nông", "67"),
        ("Đắk Lắk", "66"), ("binh duong", "74"), ("74", "74"), (" 01 ", "01"), ("Binh Phuoc", "70"), ("Hà Tây", "28"), ("Cần Thơn", "92"),
    ],
)
def test_spellings_resolve(registry, name, code):
    assert registry.resolve(name) == code


def test_unknown_name_lists_closest(registry):
    with pytest.raises(DataError) as err:
        registry.resolve("Binh Zuong", file="f.csv", row=7, column="province")
    text = str(err.value)
    assert "f.csv" in text and "row 7" in text and "'province'" in text and "Bình Dương" in text


def test_63_provinces_regions_and_2025_successors(registry):
    t = registry.table
    p63 = t[t["vintage"] == "gso-2008"]
    assert len(p63) == 63
    assert p63["region"].value_counts().to_dict()["Đồng bằng sông Hồng"] == 11
    assert t.at["22", "region"] == "Đồng bằng sông Hồng"  # Quảng Ninh
    assert p63["code_2025"].nunique() == 34
    # new codes reuse old codes of other provinces: Bắc Giang (24) -> Bắc Ninh (new 24), Bắc Ninh (27) -> 24
    assert t.at["24", "code_2025"] == "24" and t.at["27", "code_2025"] == "24"
    assert t.at["74", "name_2025"] == "Thành phố Hồ Chí Minh"
    assert t.at["46", "province"] == "Thừa Thiên Huế"
    assert p63["population_2020"].sum() == pytest.approx(97_582_600, rel=1e-6)
    assert p63["pci_id"].notna().all() and (p63["papi_id"].astype(int) == p63.index.astype(int)).all()


@pytest.mark.parametrize("name", ["Binh Duong Tay", "Quảng Nam - Đà Nẵng", "Atlantis", "Nam"])
def test_names_that_only_contain_a_province_are_rejected(registry, name):
    with pytest.raises(DataError, match="unknown province name"):
        registry.resolve(name)


def test_every_raw_spelling_is_recorded():
    from analysis import load_table

    provinces = load_table("provinces")
    aliases = provinces[provinces["vintage"] != "gso-2025"].set_index("province_code")["aliases"]
    for code, spelling in [("46", "TT.Huế"), ("46", "TT-Hue"), ("67", "Đak Nông"), ("79", "HCMC"), ("66", "Đắc Lắk"), ("74", "Binh Duong")]:
        assert spelling in aliases[code].split("|"), (code, spelling)


@pytest.mark.parametrize("name", ["Bình|Dương", "Binh Duong|x", "|Bình Dương"])
def test_a_name_with_the_alias_separator_is_unknown(registry, name):
    """Issue 17, item 8: "Bình|Dương" resolved to Bình Dương and added "Bình" and "Dương" as its aliases, after
    which `card --province Bình` answered Bình Dương."""
    with pytest.raises(DataError, match="cannot hold '\\|'"):
        registry.resolve(name, file="t.csv", row=2, column="province")
    assert registry.find(name) is None


def test_a_separator_never_becomes_aliases(registry, tmp_path, ingest_user):
    from analysis.panel.build import record_spellings

    table = tmp_path / "t.csv"
    table.write_text("province,year,index,indicator,value,unit,source,note\nBình|Dương,2022,MY_INDEX,total,1,points,s,\n")
    with pytest.raises(DataError, match="unknown province name"):
        ingest_user(table)
    import pandas as pd

    obs = pd.DataFrame({"vintage": ["gso-2008"], "province_code": ["74"], "province_raw": ["Bình|Dương"]})
    provinces = record_spellings(registry.table.reset_index(drop=True), obs)
    aliases = provinces.set_index("province_code").at["74", "aliases"].split("|")
    assert "Bình" not in aliases and "Dương" not in aliases
    assert registry.find("Bình") is None
