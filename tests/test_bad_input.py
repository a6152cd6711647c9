"""Bad input gets one clear error naming file, row, column and value (issue 2 asks for at least 15)."""

from __future__ import annotations

import pytest

from analysis.errors import DataError
from analysis.sources.common import parse_number, read_sheet

HEADER = "province,year,index,indicator,value,unit,source,note\n"
GOOD = "Bình Dương,2022,PAR_INDEX,total,84.5,percent,test,\n"


def write(tmp_path, text, name="t.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return p


def expect(run, path, *parts):
    with pytest.raises(DataError) as err:
        run(path)
    text = str(err.value)
    assert str(path) in text, text
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"
    return text


def test_good_table_is_accepted(tmp_path, ingest_user):
    df = ingest_user(write(tmp_path, HEADER + GOOD + "TP HCM,2022,MY_SURVEY,trust,-0.4,z-score,own survey,\n"))
    assert list(df["province_code"]) == ["74", "79"]
    assert df["scale_max"].iloc[0] == 100  # PAR INDEX maximum filled from the codebook


def test_unknown_province(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("Bình Dương", "Binh Zuong")), "unknown province", "row 2",
           "'province'", "Binh Zuong", "Bình Dương")


def test_duplicate_province_year(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD + GOOD.replace("Bình Dương", "Binh Duong")), "duplicate", "row 3")


def test_duplicate_exact_rows(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD + GOOD), "duplicate", "row 3", "'province'")


def test_value_out_of_range(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", "184.5")), "outside 0..scale_max", "row 2", "184.5")


def test_papi_total_above_60_before_2018(tmp_path, ingest_user):
    row = "Bình Dương,2016,PAPI,total,65.2,points,test,\n"
    expect(ingest_user, write(tmp_path, HEADER + row), "outside 0..scale_max", "row 2", "65.2")


def test_papi_total_up_to_80_after_2018_is_fine(tmp_path, ingest_user):
    df = ingest_user(write(tmp_path, HEADER + "Bình Dương,2019,PAPI,total,65.2,points,test,\n"))
    assert df["scale_max"].iloc[0] == 80


def test_zero_standing_for_missing(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", "0")), "exactly 0", "row 2")


def test_wrong_scale_max(tmp_path, ingest_user):
    text = HEADER.replace("note\n", "note,scale_max\n") + "Bình Dương,2016,PAPI,total,50,points,test,,80\n"
    expect(ingest_user, write(tmp_path, text), "scale_max differs", "row 2")


def test_decimal_comma(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + 'Bình Dương,2022,PAR_INDEX,total,"84,5",percent,test,\n'),
           "decimal comma", "row 2", "'value'", "84,5")


def test_unquoted_decimal_comma_shifts_columns(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + "Bình Dương,2022,PAR_INDEX,total,84,5,percent,test,\n"), "row 2", "fields")


def test_bom(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, b"\xef\xbb\xbf" + (HEADER + GOOD).encode()), "byte-order mark", "row 1")


def test_cp1258_encoding(tmp_path, ingest_user):
    text = HEADER + GOOD.replace("Bình Dương", "Binh Dương")
    expect(ingest_user, write(tmp_path, text, encoding="cp1258"), "not UTF-8", "row 2")


def test_semicolon_csv(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER.replace(",", ";") + GOOD.replace(",", ";")), "semicolon", "row 1")


def test_missing_column(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER.replace(",unit", "") + GOOD.replace(",percent", "")), "missing column", "'unit'")


def test_unknown_column(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER.replace("note\n", "note,weight\n") + GOOD.replace(",\n", ",,2\n")),
           "unknown column", "'weight'")


def test_empty_file(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, ""), "empty file")


def test_header_only(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER), "no data rows")


def test_empty_value(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", "")), "value is empty", "row 2", "never write 0")


def test_bad_year(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("2022", "22")), "year", "row 2", "'22'")


def test_bad_index_name(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("PAR_INDEX", "par index")), "index must be", "'par index'")


def test_text_in_value(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", "about 84")), "not a number", "row 2", "'about 84'")


def test_corrupt_workbook(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, b"PK\x03\x04 this is not really a zip", name="t.xlsx"), "cannot read workbook")


def test_xlsx_table_is_read(tmp_path, ingest_user):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER.strip().split(","))
    ws.append(["Thua Thien Hue", 2021, "SIPAS", "total", 79.1, "percent", "test", None])
    wb.save(tmp_path / "t.xlsx")
    df = ingest_user(tmp_path / "t.xlsx")
    assert df.iloc[0]["province_code"] == "46" and df.iloc[0]["value"] == 79.1


def test_unsupported_extension(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, "x", name="t.txt"), "unsupported file type")


@pytest.mark.parametrize("bad", ["40,76", "1.2.3", "n/a", "12%"])
def test_parse_number_rejects(bad):
    with pytest.raises(DataError) as err:
        parse_number(bad, file="f", row=3, column="c")
    assert "row 3" in str(err.value) and bad in str(err.value)


def test_missing_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.save(tmp_path / "w.xlsx")
    with pytest.raises(DataError, match="no sheet 'Summary'"):
        read_sheet(tmp_path / "w.xlsx", "Summary")
