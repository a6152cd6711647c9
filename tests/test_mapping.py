"""Researchers' tables in any layout, read through a mapping file and no code (issue 9, part 4): two real
layouts give exactly what the adapters give, the README's worked example works, and a bad mapping is a
clear error that leaves the previous data untouched."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from test_atomic_build import run_cli

from analysis import load_panel, paths
from analysis.errors import DataError
from analysis.manifest import load_manifest
from analysis.sources.common import Context
from analysis.sources.dvc766 import read_workbook

MAPPING_766 = """
sheet: "Điểm năm"
header_rows: 1
province: TEN
year: 2025
date: 2025-10-16
vintage: gso-2025
source: "National Public Service Portal, 766 index, via truongquangphuc/new-766"
values:
  - {column: TONG_SCORE, index: DVC766, indicator: total, unit: points, scale_max: 100, rank_column: ROW_STT}
  - {column: TDGQ, index: DVC766, indicator: tdgq, unit: points, scale_max: 20}
  - {column: MDHL, index: DVC766, indicator: mdhl, unit: points, scale_max: 18}
  - {column: MDSH, index: DVC766, indicator: mdsh, unit: points, scale_max: 22}
  - {column: TTTT, index: DVC766, indicator: tttt, unit: points, scale_max: 10}
  - {column: CLGQ, index: DVC766, indicator: clgq, unit: points, scale_max: 12}
  - {column: CKMB, index: DVC766, indicator: ckmb, unit: points, scale_max: 18}
"""

MAPPING_PCI = """
sheet: Summary
header_rows: 1
last_row: 64            # below: a blank row, Hà Nội repeated, then Min / Median / Max
province: Province
year: 2019
source: "VCCI and USAID, PCI 2019 (workbook via mdtrinh/vietnam_elections)"
values:
  - {column: "The Weighted PCI Score", index: PCI, indicator: total, unit: points, scale_max: 100, rank_column: Rank}
  - {column: "Sub-Index 1: Entry Costs", index: PCI, indicator: entry, unit: points}
  - {column: "Sub-Index 2: Land Access & Tenure", index: PCI, indicator: land, unit: points}
  - {column: "Sub-Index 3: Transparency", index: PCI, indicator: transparency, unit: points}
  - {column: "Sub-Index 4: Time Costs", index: PCI, indicator: time, unit: points}
  - {column: "Sub-Index 5: Informal Charges", index: PCI, indicator: informal, unit: points}
  - {column: "Sub-Index 6: Policy Bias", index: PCI, indicator: equal_competition, unit: points}
  - {column: "Sub-Index 7: Proactivity", index: PCI, indicator: proactivity, unit: points}
  - {column: "Sub-Index 8: Business Support Services", index: PCI, indicator: business_support, unit: points}
  - {column: "Sub-Index 9: Labor Policy", index: PCI, indicator: labor, unit: points}
  - {column: "Sub-Index 10: Law & Order", index: PCI, indicator: legal, unit: points}
"""

KEY = ["province_code", "vintage", "year", "index", "indicator", "date"]


def table_with_mapping(tmp_path, raw_path, name, mapping):
    shutil.copy(paths.raw_dir() / raw_path, tmp_path / name)
    (tmp_path / name).chmod(0o644)
    (tmp_path / (name.rsplit(".", 1)[0] + ".mapping.yml")).write_text(mapping, encoding="utf-8")
    return tmp_path / name


def test_mapping_reads_the_766_workbook_exactly_as_its_adapter(tmp_path, ingest_user, registry):
    from analysis.panel.build import prepare

    mapped = ingest_user(table_with_mapping(tmp_path, "dvc766_2025_truongquangphuc/bao_cao_T10_2025.xlsx", "dvc766.xlsx", MAPPING_766))
    src = next(s for s in load_manifest() if s.id == "dvc766_2025_t10")
    adapter = read_workbook(src, Context(raw={}))
    adapter = adapter[adapter["date"] == "2025-10-16"].copy()  # the year-to-date sheet
    adapter["source_id"], adapter["reliability"], adapter["priority"] = src.id, src.reliability, src.priority
    adapter["source_ref"] = adapter["source_ref"].fillna("")
    adapter = prepare(adapter, registry)
    cols = [*KEY, "value", "rank", "rank_of", "scale_max"]
    a = adapter[cols].sort_values(KEY).reset_index(drop=True)
    m = mapped[cols].sort_values(KEY).reset_index(drop=True)
    assert len(m) == 34 * 7
    pd.testing.assert_frame_equal(m.astype(str), a.astype(str))
    assert set(mapped["reliability"]) == {"user"}


def test_mapping_reads_an_official_pci_sheet_as_the_panel_has_it(tmp_path, ingest_user):
    mapped = ingest_user(table_with_mapping(tmp_path, "mdtrinh_vietnam_elections/PCI/PCI 2019.xlsx", "pci_2019.xlsx", MAPPING_PCI))
    assert len(mapped) == 63 * 11 and mapped["province_code"].nunique() == 63
    panel = load_panel()
    official = panel[(panel["index"] == "PCI") & (panel["year"] == 2019) & (panel["source_id"] == "pci_official_2019")]
    both = mapped.merge(official, on=KEY, suffixes=("_mapped", "_panel"))
    assert len(both) == len(mapped)  # every mapped value has its official counterpart
    assert (both["value_mapped"] - both["value_panel"]).abs().max() < 1e-9
    total = both[both["indicator"] == "total"]
    assert (total["rank_mapped"].astype(int) == total["rank_panel"].astype(int)).all()  # the sheet's ranks = the computed ones


def readme_example(name):
    text = (paths.project_root() / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- example: {re.escape(name)} -->\n```\w+\n(.*?)```", text, re.S)
    assert m, f"README has no example {name}"
    return m.group(1)


def test_readme_worked_example(tmp_path, ingest_user):
    (tmp_path / "par_index_2022.csv").write_text(readme_example("par_index_2022.csv"), encoding="utf-8")
    (tmp_path / "par_index_2022.mapping.yml").write_text(readme_example("par_index_2022.mapping.yml"), encoding="utf-8")
    df = ingest_user(tmp_path / "par_index_2022.csv")
    assert len(df) == 4 and set(df["province_code"]) == {"06"} and set(df["vintage"]) == {"gso-2008"}
    total = df[df["indicator"] == "total"].iloc[0]
    assert (total["rank"], total["rank_of"]) == (61, 63)
    # no invented values: each equals the provincial report's value already in the panel
    art = pd.read_csv(paths.reported_dir() / "articles.csv")
    art = art[(art["province"] == "Bắc Kạn") & (art["year"] == 2022)].set_index("indicator")["value"]
    for r in df.itertuples():
        assert r.value == art[r.indicator]


def expect_mapping_error(ingest_user, table, *parts):
    with pytest.raises(DataError) as err:
        ingest_user(table)
    text = str(err.value)
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"
    return text


CSV = "STT,Tỉnh,Năm,Điểm\n1,Bắc Kạn,2022,79.35\n2,Bình Dương,2022,84.5\n"
MAP = "province: Tỉnh\nyear: {column: Năm}\nsource: test\nvalues:\n  - {column: Điểm, index: PAR_INDEX, indicator: total, unit: percent}\n"


def write_pair(tmp_path, csv=CSV, mapping=MAP, name="t.csv"):
    (tmp_path / name).write_text(csv, encoding="utf-8")
    (tmp_path / (name.rsplit(".", 1)[0] + ".mapping.yml")).write_text(mapping, encoding="utf-8")
    return tmp_path / name


def test_small_wide_csv_is_read(tmp_path, ingest_user):
    df = ingest_user(write_pair(tmp_path))
    assert list(df["province_code"]) == ["06", "74"] and list(df["value"]) == [79.35, 84.5]


def test_mapping_names_an_unknown_column(tmp_path, ingest_user):
    expect_mapping_error(ingest_user, write_pair(tmp_path, mapping=MAP.replace("column: Điểm", "column: Diem")),
                         "t.mapping.yml", "values[1].column", "'Diem'", "no column", "'Điểm'")


def test_mapping_names_an_unknown_sheet(tmp_path, ingest_user):
    table = table_with_mapping(tmp_path, "dvc766_2025_truongquangphuc/bao_cao_T10_2025.xlsx", "dvc766.xlsx",
                               MAPPING_766.replace("Điểm năm", "Diem nam"))
    expect_mapping_error(ingest_user, table, "dvc766.mapping.yml", "'sheet'", "'Diem nam'", "no such sheet", "Điểm tháng")


def test_year_column_with_text(tmp_path, ingest_user):
    text = expect_mapping_error(ingest_user, write_pair(tmp_path, csv=CSV.replace("1,Bắc Kạn,2022", "1,Bắc Kạn,năm 2022")),
                                "t.csv", "row 2", "'Năm'", "'năm 2022'", "not a number")
    assert "column 'year'" not in text  # the table's own column is named, not the template's


def test_value_cell_checked_like_a_template_row(tmp_path, ingest_user):
    expect_mapping_error(ingest_user, write_pair(tmp_path, csv=CSV.replace("84.5", '"84,5"')), "t.csv", "row 3", "'Điểm'",
                         "decimal comma")
    expect_mapping_error(ingest_user, write_pair(tmp_path, csv=CSV.replace("84.5", "184.5")), "outside 0..scale_max", "row 3", "184.5")
    expect_mapping_error(ingest_user, write_pair(tmp_path, csv=CSV.replace("Bình Dương", "Binh Zuong")), "unknown province", "row 3")


@pytest.mark.parametrize(("mapping", "parts"), [
    (MAP + "sheets: 1\n", ["unknown key", "'sheets'"]),
    (MAP.replace("values:\n", "values:\n  - {column: STT, index: PAR_INDEX, indicator: rank, unit: n, colour: red}\n"),
     ["values[1].colour", "unknown key"]),
    ("header_rows: one\n" + MAP, ["'header_rows'", "row number"]),
    (MAP.replace("year: {column: Năm}", "year: twenty"), ["'year'", "whole number"]),
    (MAP.replace("index: PAR_INDEX", "index: par index"), ["values[1].index", "upper case"]),
    (MAP.replace("unit: percent", "unit: 5"), ["values[1].unit", "expected text"]),
    (MAP.replace("source: test\n", ""), ["values[1].source", "no source"]),
    ("- just a list\n", ["(top level)"]),
    ("province: [\n", ["not valid YAML"]),
    (MAP + "vintage: 2025\n", ["'vintage'", "gso-2008 or gso-2025"]),
    # a billion-laughs note: refused by type before it is ever turned into text
    (MAP + "note: [&a [x, x, x, x], &b [*a, *a, *a, *a], [*b, *b, *b, *b]]\n", ["'note'", "expected text"]),
    (MAP + "province: Tỉnh\n", ["not valid YAML", "found the key 'province' twice"]),
    (MAP.replace("unit: percent}", "unit: percent, rank_column: Điểm, rank_of: 1000}"), ["values[1].rank_of", "at most 63"]),
])
def test_mapping_file_errors(tmp_path, ingest_user, mapping, parts):
    expect_mapping_error(ingest_user, write_pair(tmp_path, mapping=mapping), "t.mapping.yml", *parts)


def test_blank_value_cells_and_skipped_rows_are_noted(tmp_path):
    from analysis.sources.user import read_user_table

    csv = CSV + "3,Trung bình,2022,82.1\n4,Cà Mau,2022,\n"
    notes = []
    df = read_user_table(write_pair(tmp_path, csv=csv, mapping=MAP + "skip: [Trung bình]\n"), notes=notes)
    assert len(df) == 2
    assert [(n.row, n.content) for n in notes] == [(4, "Trung bình"), (5, "Cà Mau")]
    assert "skip" in notes[0].reason and "not published" in notes[1].reason


def test_mapping_without_its_table(tmp_path):
    from analysis.sources.user import list_user_files

    (tmp_path / "lonely.mapping.yml").write_text(MAP, encoding="utf-8")
    with pytest.raises(DataError, match="mapping file with no table"):
        list_user_files(tmp_path)


def test_bad_mapping_stops_the_build_and_keeps_the_previous_data(tmp_path):
    previous = tmp_path / "processed"
    previous.mkdir()
    (previous / "indicators.csv").write_text("previous good data\n")
    user = tmp_path / "user"
    user.mkdir()
    write_pair(user, mapping=MAP.replace("column: Điểm", "column: Diem"))
    res = run_cli(tmp_path, "build")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "t.mapping.yml" in res.stderr and "Diem" in res.stderr and "values[1].column" in res.stderr
    assert (previous / "indicators.csv").read_text() == "previous good data\n"


# ---- issue 19, item 9: tables as Vietnamese offices write them -------------------------------------------------

VI_TABLE = 'STT,"Tỉnh, thành phố",Điểm PAR INDEX,Dân số\n1,Bắc Kạn,"79,35","313.905"\n2,Bình Dương,"92,18","2.426.561"\n'
VI_MAP = """province: "Tỉnh, thành phố"
year: 2022
source: "Bộ Nội vụ, PAR INDEX 2022"
decimal: ","
values:
  - {column: "Điểm PAR INDEX", index: PAR_INDEX, indicator: total, unit: "% of maximum", scale_max: 100}
  - {column: "Dân số", index: MY_SURVEY, indicator: population, unit: persons}
"""


def test_decimal_comma_and_dot_thousands_with_the_mapping_option(tmp_path, ingest_user):
    (tmp_path / "vi.csv").write_text(VI_TABLE, encoding="utf-8")
    (tmp_path / "vi.mapping.yml").write_text(VI_MAP, encoding="utf-8")
    df = ingest_user(tmp_path / "vi.csv").set_index(["province_code", "indicator"])
    assert df.loc[("06", "total"), "value"] == 79.35 and df.loc[("74", "total"), "value"] == 92.18
    assert df.loc[("74", "population"), "value"] == 2_426_561
    assert df.loc[("06", "total"), "_tol"] == 0.005  # two printed decimals, as with a decimal point


def test_without_the_option_a_decimal_comma_points_to_it(tmp_path, ingest_user):
    (tmp_path / "vi.csv").write_text(VI_TABLE, encoding="utf-8")
    (tmp_path / "vi.mapping.yml").write_text(VI_MAP.replace('decimal: ","\n', ""), encoding="utf-8")
    expect_mapping_error(ingest_user, tmp_path / "vi.csv", "decimal comma", "79,35", 'decimal: ","')


@pytest.mark.parametrize(("value", "words"), [("92.18", ["decimal comma", "92.18"]), ("92,1,8", ["92,1,8"])])
def test_with_the_option_a_decimal_point_is_refused(tmp_path, ingest_user, value, words):
    (tmp_path / "vi.csv").write_text(VI_TABLE.replace('"92,18"', f'"{value}"'), encoding="utf-8")
    (tmp_path / "vi.mapping.yml").write_text(VI_MAP, encoding="utf-8")
    expect_mapping_error(ingest_user, tmp_path / "vi.csv", *words)


@pytest.mark.parametrize(("index", "indicator"), [("PAR_INDEX", "e_government"), ("PAR_INDEX", "e government"), ("SIPAS", "trust")])
def test_unknown_par_index_and_sipas_indicators_are_refused_with_the_codes(tmp_path, ingest_user, index, indicator):
    (tmp_path / "vi.csv").write_text(VI_TABLE, encoding="utf-8")
    mapping = VI_MAP.replace("index: PAR_INDEX, indicator: total", f'index: {index}, indicator: "{indicator}"')
    (tmp_path / "vi.mapping.yml").write_text(mapping, encoding="utf-8")
    text = expect_mapping_error(ingest_user, tmp_path / "vi.csv", "values[1].indicator", indicator, f"{index} indicators:")
    assert ("egov" in text) if index == "PAR_INDEX" else ("procedures" in text)


def test_unknown_par_index_indicator_in_the_template_is_refused(tmp_path, ingest_user):
    table = tmp_path / "t.csv"
    table.write_text("province,year,index,indicator,value,unit,source,note\nBắc Kạn,2022,PAR_INDEX,e_government,80,percent,s,\n")
    with pytest.raises(DataError, match="PAR_INDEX defines no indicator 'e_government'") as err:
        ingest_user(table)
    assert "egov_pct_of_max" in str(err.value)


def test_readme_lists_the_par_index_and_sipas_codes():
    from analysis.panel.codebook import defined_indicators

    readme = (paths.project_root() / "README.md").read_text(encoding="utf-8")
    for index in ("PAR_INDEX", "SIPAS"):
        for code in defined_indicators(index, 2022):
            if not code.endswith("_rank"):
                assert f"`{code}`" in readme, f"README does not list {index} {code}"
    assert 'decimal: ","' in readme
