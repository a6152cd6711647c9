"""The DTI 2022-2024 table, the 766 index's yearly table 2022-2024 and the press supplement (issue 16, item 1):
values against an independent read of the raw files, the identity of each 766 row as data, the takeover of
the 2022 DTI rank list, the conflicts the supplement settles, and bad input named by file, row, column, value."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from analysis import DataError, load_table, paths
from analysis.manifest import load_manifest
from analysis.panel.build import prepare
from analysis.panel.codebook import comparable, label, parts
from analysis.registry import normalize_name
from analysis.sources import dti, dvc766, reported

DTI_FILE = "dti_2022_2024_pmnm/bang_1.csv"
DVC_FILE = "dvc766_2022_2024_pmnm/bang_3.csv"
UNMERGED = {"Hà Nội", "Thừa Thiên Huế", "Quảng Ninh", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Lạng Sơn", "Cao Bằng", "Lai Châu", "Điện Biên",
            "Sơn La"}  # SOURCE.md: the 11 provinces not merged in 2025


def raw_rows(name):
    with (paths.raw_dir() / name).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def key(name):
    """The raw file's spelling to a comparable key, without the registry: 'TP. Huế' is Thừa Thiên Huế."""
    n = name.removeprefix("UBND ").removeprefix("tỉnh ").removeprefix("Thành phố ").removeprefix("TP. ")
    return normalize_name("Thừa Thiên Huế" if n == "Huế" else n)


def source(sid):
    return next(s for s in load_manifest() if s.id == sid)


# ---- DTI 2022-2024 --------------------------------------------------------------------------------------


def test_dti_totals_for_63_provinces_each_year_and_the_published_means(panel):
    t = panel[(panel["index"] == "DTI") & (panel["indicator"] == "total") & (panel["source_id"] == "dti_2022_2024")]
    assert t.groupby("year")["province_code"].nunique().to_dict() == {2022: 63, 2023: 63, 2024: 63}
    means = t.groupby("year")["value"].mean()
    assert round(means[2023], 4) == 0.6783 and round(means[2024], 4) == 0.6961  # dti.gov.vn's national means
    assert set(t["reliability"]) == {"compiled"} and set(t["vintage"]) == {"gso-2008"}


def test_dti_values_equal_an_independent_read_of_the_file(panel):
    rows = raw_rows(DTI_FILE)
    assert len(rows) == 189
    d = panel[(panel["index"] == "DTI") & (panel["source_id"] == "dti_2022_2024")]
    got = {(normalize_name(p), int(y), k): v for p, y, k, v in zip(d["province"], d["year"], d["indicator"], d["value"], strict=True)}
    columns = {"DTI_Tong": "total", "DTI_ChinhQuyenSo": "digital_government_activity", "DTI_KinhTeSo": "digital_economy_activity",
               "DTI_XaHoiSo": "digital_society_activity", "HaTangSo": "digital_infrastructure"}
    for r in rows:
        for col, code in columns.items():
            assert got[(key(r["TinhThanh"]), int(r["Nam"]), code)] == pytest.approx(float(r[col])), (r["TinhThanh"], r["Nam"], col)
    assert len(got) == 189 * 5


def test_dti_takes_over_from_the_2022_rank_list_where_they_agree(panel, crosschecks):
    """The 63 published 2022 ranks (and the five top scores) against the ranks computed from the table: all agree,
    the tie at 15 included; no DTI conflict; the table's values are the ones kept."""
    c = crosschecks[(crosschecks["index"] == "DTI") & (crosschecks["other_source_id"] == "dti_2022")]
    ranks = c[(c["kind"] == "rank") & (c["indicator"] == "total_rank")]  # the rank list's rows
    assert ranks["province_code"].nunique() == 63 and set(ranks["status"]) == {"agree"}
    values = c[c["kind"] == "value"]
    assert len(values) == 25 and set(values["status"]) == {"agree"} and set(values["kept_source_id"]) == {"dti_2022_2024"}
    assert not (load_table("conflicts")["index"] == "DTI").any()
    t = panel[(panel["index"] == "DTI") & (panel["indicator"] == "total") & (panel["year"] == 2022)
              & (panel["source_id"] == "dti_2022_2024")].set_index("province")
    assert t.loc["Thanh Hóa", "rank"] == t.loc["Yên Bái", "rank"] == 15 and t.loc["Trà Vinh", "rank"] == 25
    assert set(t["rank_basis"]) == {"computed"} and set(t["rank_of"]) == {63}


def test_press_pillar_scores_are_another_measure_than_the_main_index(panel):
    tv = panel[(panel["province"] == "Trà Vinh") & (panel["index"] == "DTI") & (panel["year"] == 2022)].set_index("indicator")
    assert tv.loc["digital_government_pillar", "value"] == pytest.approx(0.6683)  # "chính quyền số 0,6683" (travinh.gov.vn)
    assert tv.loc["digital_government_activity", "value"] == pytest.approx(0.635)  # the table's main index
    assert label("DTI", "digital_government_pillar")[1] != label("DTI", "digital_government_activity")[1]


def test_dti_method_breaks_are_recorded():
    ok, found = comparable("DTI", "total", 2022, 2024)
    assert ok and {b.year for b in found} == {2023, 2024}  # documented caveats, not breaks
    assert not comparable("DTI", "total", 2021, 2022)[0]  # the 2022 framework


# ---- the 766 index, yearly 2022-2024 ---------------------------------------------------------------------


def test_766_yearly_totals_for_34_units_each_year(panel):
    t = panel[(panel["index"] == "DVC766") & (panel["indicator"] == "total") & (panel["source_id"] == "dvc766_2022_2024")]
    assert t.groupby("year").size().to_dict() == {2022: 34, 2023: 34, 2024: 34}
    tn = t[(t["province"] == "Thái Nguyên") & (t["year"] == 2024)].iloc[0]
    assert tn["value"] == pytest.approx(89.03) and tn["identity"] == "assumed" and tn["vintage"] == "gso-2008" and tn["date"] == ""
    assert t.groupby("year")["value"].mean().round(2).to_dict() == {2022: 55.52, 2023: 72.11, 2024: 79.63}  # SOURCE.md


def test_766_yearly_values_equal_an_independent_read(panel):
    rows = raw_rows(DVC_FILE)
    d = panel[(panel["index"] == "DVC766") & (panel["source_id"] == "dvc766_2022_2024")]
    got = {(normalize_name(p), int(y), k): v for p, y, k, v in zip(d["province"], d["year"], d["indicator"], d["value"], strict=True)}
    cols = {"TongDiem_DVC": "total", "CongKhaiMinhBach": "ckmb", "TienDoGiaiQuyet": "tdgq", "DichVuTrucTuyen": "online_22",
            "MucDoHaiLong": "mdhl", "SoHoaHoSo": "mdsh"}
    for r in rows:
        for col, code in cols.items():
            assert got[(key(r["TinhThanh"]), int(r["Nam"]), code)] == pytest.approx(float(r[col])), (r["TinhThanh"], col)
    assert len(got) == len(rows) * 6 == 612


def test_766_identity_is_data(panel):
    """Every yearly row says which province it is taken to be and whether that is certain: the 11 unmerged provinces
    are certain, the 23 merged units assumed; no other row of the panel claims either."""
    d = panel[(panel["source_id"] == "dvc766_2022_2024")]
    by = {p: set(g) for p, g in d.groupby("province")["identity"]}
    assert {p for p, s in by.items() if s == {"certain"}} == UNMERGED
    assert sum(s == {"assumed"} for s in by.values()) == 23
    assert set(panel.loc[panel["source_id"] != "dvc766_2022_2024", "identity"]) == {""}
    assert d["note"].str.contains("not verified").sum() == 23 * 3 * 6


def test_766_codebook_online_22_is_clgq_plus_tttt_and_2025_is_a_territory_break():
    assert parts("DVC766", "online_22", 2025) == ["clgq", "tttt"]
    assert parts("DVC766", "total", 2022) == ["tdgq", "mdhl", "mdsh", "online_22", "ckmb"]
    ok, found = comparable("DVC766", "online_22", 2024, 2025)
    assert not ok and [b.kind for b in found] == ["territory"]
    assert comparable("DVC766", "online_22", 2022, 2024)[0]


# ---- the press supplement ---------------------------------------------------------------------------------


def test_supplement_settles_par_2018_quang_ninh(panel):
    qn = panel[(panel["province"] == "Quảng Ninh") & (panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total")
               & (panel["year"] == 2018)].iloc[0]
    assert qn["value"] == pytest.approx(89.06) and qn["source_id"] == "news_reported_2" and qn["rank"] == 1
    conflict = load_table("conflicts")
    row = conflict[(conflict["index"] == "PAR_INDEX") & (conflict["year"] == 2018)].iloc[0]
    assert (row["kept_value"], row["other_value"]) == (pytest.approx(89.06), pytest.approx(89.6))


def test_par_2020_parts_with_their_names(panel):
    p = panel[(panel["index"] == "PAR_INDEX") & (panel["year"] == 2020) & (panel["source_id"] == "par_2020_parts")]
    assert p.groupby("indicator")["province_code"].nunique().to_dict() == {
        "appraisal_score": 10, "leaders_survey_points": 10, "sipas_points": 10, "socioeconomic_impact": 10, "total": 10}
    qn = p[p["province"] == "Quảng Ninh"].set_index("indicator")
    assert qn.loc["sipas_points", "value"] == pytest.approx(9.56) and qn.loc["total", "value"] == pytest.approx(91.04)
    assert qn.loc["total", "rank"] == 1 and set(p["grade"]) == {"C"}
    assert "SIPAS" in label("PAR_INDEX", "sipas_points")[0] and "Bộ Nội vụ" in label("PAR_INDEX", "appraisal_score")[0]
    last = panel[(panel["index"] == "PAR_INDEX") & (panel["year"] == 2020) & (panel["province"] == "Quảng Ngãi")
                 & (panel["indicator"] == "total")].iloc[0]
    assert (last["value"], last["rank"], last["grade"]) == (pytest.approx(73.25), 63, "C")


def test_766_2025_press_snapshot_with_its_day(panel):
    tn = panel[(panel["index"] == "DVC766") & (panel["source_id"] == "news_reported_2")].iloc[0]
    assert (tn["province"], tn["vintage"], tn["date"], tn["value"], tn["rank_of"]) == ("Thái Nguyên", "gso-2025", "2025-08-29", 86.97, 34)


# ---- bad input --------------------------------------------------------------------------------------------


def run(adapter, sid, tmp_path, text, raw_ctx, name="t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    src = dataclasses.replace(source(sid), path=str(path), base="/")
    return adapter(src, raw_ctx)


DTI_HEAD = "TinhThanh,DTI_Tong,DTI_ChinhQuyenSo,DTI_KinhTeSo,DTI_XaHoiSo,HaTangSo,Nam\n"


@pytest.mark.parametrize(("row", "column", "value", "message"), [
    ("Hà Nội,\"0,8\",0.9,0.8,0.7,0.6,2024", "DTI_Tong", "0,8", "decimal comma"),
    ("Hà Nội,1.8,0.9,0.8,0.7,0.6,2024", "DTI_Tong", 1.8, "in_range"),
    ("Hà Nội,0.8,0.9,0.8,0.7,0.6,2024.5", "Nam", "2024.5", "whole number"),
    ("Hà Nội,0.8,abc,0.8,0.7,0.6,2024", "DTI_ChinhQuyenSo", "abc", "not a number"),
])
def test_dti_bad_cells_are_named(tmp_path, raw_ctx, row, column, value, message):
    with pytest.raises(DataError, match=message) as e:
        run(dti.read_dti_yearly, "dti_2022_2024", tmp_path, DTI_HEAD + "Huế,0.7,0.8,0.6,0.3,0.6,2024\n" + row + "\n", raw_ctx)
    assert (e.value.row, e.value.column, e.value.value) == (3, column, value) and e.value.file.endswith("t.csv")


def test_dti_missing_column_and_duplicate_row(tmp_path, raw_ctx):
    with pytest.raises(DataError, match="missing column") as e:
        run(dti.read_dti_yearly, "dti_2022_2024", tmp_path, "TinhThanh,DTI_Tong,Nam\nHuế,0.7,2024\n", raw_ctx)
    assert (e.value.row, e.value.column) == (1, "DTI_ChinhQuyenSo")
    with pytest.raises(DataError, match="unique|duplicate") as e:
        run(dti.read_dti_yearly, "dti_2022_2024", tmp_path, DTI_HEAD + "Huế,0.7,0.8,0.6,0.3,0.6,2024\nHuế,0.7,0.8,0.6,0.3,0.6,2024\n",
            raw_ctx)
    assert e.value.row == 3


DVC_HEAD = "TinhThanh,TongDiem_DVC,CongKhaiMinhBach,TienDoGiaiQuyet,DichVuTrucTuyen,MucDoHaiLong,SoHoaHoSo,Nam\n"


def test_766_parts_must_add_up_and_units_must_be_known(tmp_path, raw_ctx):
    with pytest.raises(DataError, match="add up to 60.00, not the total") as e:
        run(dvc766.read_yearly, "dvc766_2022_2024", tmp_path, DVC_HEAD + "UBND tỉnh Sơn La,61.00,9,19,5,17,10,2022\n", raw_ctx)
    assert (e.value.row, e.value.column, e.value.value) == (2, "TongDiem_DVC", "61.00")
    with pytest.raises(DataError, match="unknown province name") as e:
        run(dvc766.read_yearly, "dvc766_2022_2024", tmp_path, DVC_HEAD + "UBND tỉnh Atlantis,60,9,19,5,17,10,2022\n", raw_ctx)
    assert (e.value.row, e.value.column) == (2, "TinhThanh")
    with pytest.raises(DataError, match="in_range") as e:  # satisfaction above its maximum of 18
        run(dvc766.read_yearly, "dvc766_2022_2024", tmp_path, DVC_HEAD + "UBND tỉnh Sơn La,63,9,19,5,20,10,2022\n", raw_ctx)
    assert (e.value.row, e.value.column, e.value.value) == (2, "MucDoHaiLong", 20.0)


def test_766_yearly_rows_pass_the_build_path_with_identity(tmp_path, raw_ctx, registry):
    obs = run(dvc766.read_yearly, "dvc766_2022_2024", tmp_path,
              DVC_HEAD + "UBND tỉnh Sơn La,60,9,19,5,17,10,2022\nUBND tỉnh Bắc Ninh,60,9,19,5,17,10,2022\n", raw_ctx)
    obs["source_id"], obs["reliability"], obs["priority"] = "t", "compiled", 1
    obs["source_ref"], obs["date"] = obs["source_ref"].fillna(""), obs["date"].fillna("")
    out = prepare(obs, registry).drop_duplicates("province_code").set_index("province_code")
    assert out.loc["14", "identity"] == "certain"  # Sơn La: not merged
    assert out.loc["27", "identity"] == "assumed"  # the 2025 Bắc Ninh (code 24, Bắc Giang's old code) taken to be the old Bắc Ninh


def test_supplement_needs_a_known_host_and_status(tmp_path, raw_ctx):
    head = "province,year,indicator,value,rank,rank_out_of,value_as_reported,source_url,status,note\n"
    with pytest.raises(DataError, match="no reliability grade") as e:
        run(reported.read_news_supplement, "news_reported_2", tmp_path, head + "Huế,2020,PAR_INDEX,80,,63,q,https://example.org/x,new,\n",
            raw_ctx)
    assert (e.value.row, e.value.column) == (2, "source_url")
    with pytest.raises(DataError, match="unknown status") as e:
        run(reported.read_news_supplement, "news_reported_2", tmp_path, head + "Huế,2020,PAR_INDEX,80,,63,q,https://viet-jo.com/x,guess,\n",
            raw_ctx)
    assert (e.value.row, e.value.column, e.value.value) == (2, "status", "guess")
