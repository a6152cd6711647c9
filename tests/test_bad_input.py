"""Bad input gets one clear error naming file, row, column and value (issue 2 asks for at least 15)."""

from __future__ import annotations

import pandas as pd
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


# ---- issue 8: odd tables get the clear message, never a traceback ------------------------------------


@pytest.mark.parametrize("year", ["1e309", "-1e309", "1e300", "2.5e3", "inf", "nan"])
def test_huge_or_non_finite_year(tmp_path, ingest_user, year):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("2022", year)), "row 2", "'year'", year)


def test_infinite_value(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", "1e309")), "not finite", "row 2", "'value'", "1e309")


def test_cr_only_line_endings_are_read(tmp_path, ingest_user):
    """Excel for Mac's 'CSV (Macintosh)' ends lines with a bare CR."""
    text = (HEADER + GOOD + "TP HCM,2022,MY_SURVEY,trust,-0.4,z-score,own survey,\n").replace("\n", "\r")
    df = ingest_user(write(tmp_path, text))
    assert list(df["province_code"]) == ["74", "79"] and list(df["value"]) == [84.5, -0.4]


def test_crlf_line_endings_are_read(tmp_path, ingest_user):
    df = ingest_user(write(tmp_path, (HEADER + GOOD).replace("\n", "\r\n")))
    assert list(df["province_code"]) == ["74"] and df["note"].iloc[0] == "percent"


def test_field_over_128_kb(tmp_path, ingest_user):
    big = "x" * 200_000
    text = expect(ingest_user, write(tmp_path, HEADER + GOOD + GOOD.replace("test,", f"test,{big}")), "longer than 128 KB", "row 3",
                  "'note'")
    assert len(text) < 2000


def test_unclosed_quote_swallowing_the_file(tmp_path, ingest_user):
    rows = "".join(GOOD.replace("2022", str(y)) for y in range(2010, 2020))
    text = HEADER + GOOD.replace("test,", 'test,"never closed') + rows * 700
    expect(ingest_user, write(tmp_path, text), "row 2")


def test_bad_date(tmp_path, ingest_user):
    text = HEADER.replace("note\n", "note,date\n") + GOOD.replace(",\n", ",,2020-13-01\n")
    expect(ingest_user, write(tmp_path, text), "date must be", "row 2", "'date'", "2020-13-01")


def test_folder_named_like_a_table(tmp_path, ingest_user):
    (tmp_path / "t.csv").mkdir()
    expect(ingest_user, tmp_path / "t.csv", "a folder")


@pytest.mark.parametrize("char", ["\x0b", "\x01", "\x0c"])
def test_control_character_in_a_text_cell(tmp_path, ingest_user, char):
    """A vertical tab pasted from Word would break every later Word card and XML file: refused by cell."""
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace(",test,", f",te{char}st,")), "control character", "row 2", "'source'")


def test_pipe_and_broken_link_in_the_user_folder_are_refused_not_waited_on(tmp_path):
    import os

    from analysis.sources.user import list_user_files

    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(DataError, match="not a regular file") as err:
        list_user_files(tmp_path)
    assert "pipe.csv" in str(err.value)
    (tmp_path / "pipe.csv").unlink()
    (tmp_path / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(DataError, match="broken or looping link"):
        list_user_files(tmp_path)


def test_rank_of_above_the_number_of_provinces(tmp_path, ingest_user):
    from analysis.sources.user import validate_record

    cells = dict(zip(HEADER.strip().split(","), GOOD.strip().split(",") + [""], strict=False)) | {"rank": 1, "rank_of": 1000}
    with pytest.raises(DataError, match="rank_of must be at most 63"):
        validate_record(cells, file="t.csv", row=2)


def test_old_xls_workbook(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, b"\xd0\xcf\x11\xe0 old excel", name="t.xls"), ".xls", "Save it as .xlsx")


# ---- issue 8: researcher rows cannot stand in for official results -----------------------------------


def test_province_after_it_ceased_to_exist(tmp_path, ingest_user):
    """Hà Tây was merged into Hà Nội in 2008; a PAPI 2020 value for it cannot be real."""
    expect(ingest_user, write(tmp_path, HEADER + "Hà Tây,2020,PAPI,total,40,points,test,\n"), "did not exist", "row 2",
           "'year'", "Hà Tây", "2008")


def test_province_of_the_63_after_the_2025_merger(tmp_path, ingest_user):
    expect(ingest_user, write(tmp_path, HEADER + GOOD.replace("2022", "2026")), "did not exist", "row 2", "'year'")


def test_ha_tay_in_its_own_years_is_fine(tmp_path, ingest_user):
    df = ingest_user(write(tmp_path, HEADER + "Ha Tay,2007,MY_SURVEY,score,4,points,test,\n"))
    assert df["province_code"].iloc[0] == "28"


@pytest.mark.parametrize(("row", "indicator"), [
    ("Bình Dương,2020,PAPI,d9,5,points,test,", "d9"),  # no ninth dimension
    ("Bình Dương,2022,PAPI,d5.2,1.5,points,test,", "d5.2"),  # construction permits not published from 2021
    ("Bình Dương,2015,PAPI,d3.3,1.5,points,test,", "d3.3"),  # access to justice only from 2018
    ("Bình Dương,2016,PCI,happiness,5,points,test,", "happiness"),  # no such PCI sub-index
])
def test_indicator_an_official_index_does_not_define(tmp_path, ingest_user, row, indicator):
    expect(ingest_user, write(tmp_path, HEADER + row + "\n"), "defines no indicator", "row 2", "'indicator'", indicator)


def test_defined_official_indicators_are_fine(tmp_path, ingest_user):
    rows = "Bình Dương,2019,PAPI,d5.2,1.5,points,test,\nBình Dương,2016,PCI,total_rank,5,rank,test,\n"
    df = ingest_user(write(tmp_path, HEADER + rows))
    assert list(df["indicator"]) == ["d5.2", "total_rank"]


# ---- issue 8: duplicates are found after names are resolved --------------------------------------------


def test_duplicate_across_spellings_and_sources(tmp_path, ingest_user):
    other = GOOD.replace("Bình Dương", "Binh Duong").replace("test", "another source")
    text = expect(ingest_user, write(tmp_path, HEADER + GOOD + other), "duplicate", "row 3", "'province'", "Binh Duong")
    assert "row 2" in text  # names the first row too


def test_duplicate_across_two_user_files(tmp_path, registry):
    from analysis.panel.build import prepare
    from analysis.sources.user import read_user_table

    a = write(tmp_path, HEADER + GOOD, name="a.csv")
    b = write(tmp_path, HEADER + "TP HCM,2022,SIPAS,total,80,percent,x,\n" + GOOD.replace("Bình Dương", "BINH DUONG"), name="b.csv")
    frames = []
    for p in (a, b):
        df = read_user_table(p)
        df["source_id"], df["reliability"], df["priority"] = f"user:{p.name}", "user", 1000
        df["source_ref"], df["date"] = df["source_ref"].fillna(""), df["date"].fillna("")
        frames.append(df)
    with pytest.raises(DataError) as err:
        prepare(pd.concat(frames, ignore_index=True), registry)
    text = str(err.value)
    assert "duplicate" in text and str(a) in text and str(b) in text and "row 3" in text and "row 2" in text


# ---- issue 8: workbooks -------------------------------------------------------------------------------


def _workbook(path, sheets):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return wb


def test_xlsx_every_template_sheet_is_read(tmp_path, ingest_user):
    cols = HEADER.strip().split(",")
    _workbook(tmp_path / "t.xlsx", {
        "2021": [cols, ["Thua Thien Hue", 2021, "SIPAS", "total", 79.1, "percent", "test", None]],
        "Notes": [["These are my notes"], ["nothing tabular"]],
        "2022": [cols, ["Bình Dương", 2022, "SIPAS", "total", 81.2, "percent", "test", None]],
    })
    notes = []
    from analysis.sources.user import read_user_table

    df = ingest_user(tmp_path / "t.xlsx")
    assert list(df["year"]) == [2021, 2022] and list(df["value"]) == [79.1, 81.2]
    read_user_table(tmp_path / "t.xlsx", notes=notes)
    assert [("Notes" in str(n.path), "ignored" in n.reason) for n in notes] == [(True, True)]


def test_xlsx_sheet_with_some_template_columns(tmp_path, ingest_user):
    cols = HEADER.strip().split(",")
    _workbook(tmp_path / "t.xlsx", {
        "good": [cols, ["Bình Dương", 2022, "SIPAS", "total", 81.2, "percent", "test", None]],
        "typo": [[c if c != "value" else "valeu" for c in cols], ["Bình Dương", 2023, "SIPAS", "total", 82.0, "percent", "t", None]],
    })
    expect(ingest_user, tmp_path / "t.xlsx", "sheet 'typo'", "some of the template's columns", "'value'")


def test_xlsx_percent_cells_are_read_as_shown(tmp_path, ingest_user):
    import openpyxl

    cols = HEADER.strip().split(",")
    _workbook(tmp_path / "t.xlsx", {"data": [cols, ["Bình Dương", 2022, "PAR_INDEX", "total", 0.845, "percent", "test", None],
                                             ["TP HCM", 2022, "PAR_INDEX", "total", 0.9123, "percent", "test", None],
                                             ["Hà Nội", 2022, "PAR_INDEX", "total", 88.5, "percent", "test", None]]})
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    wb["data"]["E2"].number_format = "0.0%"
    wb["data"]["E3"].number_format = "0.00%"
    wb["data"]["E4"].number_format = '0.0"%"'  # a literal percent sign: the number is shown as stored
    wb.save(tmp_path / "t.xlsx")
    df = ingest_user(tmp_path / "t.xlsx").set_index("province_code")
    assert df.loc["74", "value"] == 84.5 and df.loc["79", "value"] == 91.23 and df.loc["01", "value"] == 88.5


def test_xlsx_dates_become_iso_text(tmp_path, ingest_user):
    import datetime

    cols = HEADER.strip().split(",") + ["date"]
    _workbook(tmp_path / "t.xlsx", {"data": [cols, ["Bình Dương", 2020, "ONLINE_SERVICES", "online_dossier_share", 40.5, "percent", "t",
                                                    None, datetime.date(2020, 6, 2)]]})
    assert ingest_user(tmp_path / "t.xlsx")["date"].iloc[0] == "2020-06-02"


def test_lock_and_temporary_files_are_listed_as_ignored(tmp_path):
    from analysis.sources.user import list_user_files

    for name in ("~$mine.xlsx", ".~lock.mine.csv#", "._mine.csv", ".DS_Store", "mine.csv~", "readme.txt", "mine.csv", "b.xlsx"):
        (tmp_path / name).write_text("x")
    (tmp_path / "old").mkdir()
    tables, skipped = list_user_files(tmp_path)
    assert [p.name for p in tables] == ["b.xlsx", "mine.csv"]
    assert sorted(s.path.name for s in skipped) == sorted([".DS_Store", "._mine.csv", ".~lock.mine.csv#", "mine.csv~", "old", "readme.txt",
                                                           "~$mine.xlsx"])


# ---- issue 8: a fuzzer over the user-table reader: every failure is a DataError ---------------------------


def _mutate(rng, text):
    alphabet = [",", '"', "\r", "\n", "\r\n", "\x00", ";", "=", "-", "1e309", "Ư", "\ufeff", " ", "\t", "9" * 30, "\u2028", "'", "nan"]
    chars = list(text)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        i = rng.randrange(len(chars) + 1)
        if op < 0.4:
            chars.insert(i, rng.choice(alphabet))
        elif op < 0.7 and chars:
            del chars[min(i, len(chars) - 1)]
        elif chars:
            chars[min(i, len(chars) - 1)] = rng.choice(alphabet)
    return "".join(chars)


def _check(ingest_user, path, payload):
    try:
        ingest_user(path)
    except DataError:
        pass
    except Exception as exc:  # the defect this test exists for
        pytest.fail(f"{type(exc).__name__}: {exc} for input {payload!r}")


def test_fuzz_csv_reader(tmp_path, ingest_user):
    import random

    rng = random.Random(8)
    base = HEADER.replace("note\n", "note,scale_max,date\n") + GOOD.replace(",\n", ",,100,2022-05\n") + \
        "TP HCM,2022,MY_SURVEY,trust,-0.4,z-score,own survey,,,\n"
    for i in range(250):
        if i % 5 == 0:
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            path = write(tmp_path, payload, name=f"f{i}.csv")
        else:
            payload = _mutate(rng, base)
            path = write(tmp_path, payload.encode("utf-8", "surrogatepass"), name=f"f{i}.csv")
        _check(ingest_user, path, payload)


def test_fuzz_xlsx_reader(tmp_path, ingest_user):
    import datetime
    import random

    rng = random.Random(9)
    cols = HEADER.strip().split(",")
    cells = [None, "", "Bình Dương", "TP HCM", "Hà Tây", 2022, 2022.5, -1, 0, 1e308, "1e309", True, "=1+1", "PAPI", "d9", "total",
             "SIPAS", 84.5, "84,5", datetime.datetime(2020, 1, 1), "x" * 300, "#N/A", "PCI", "MY_INDEX", "Ha Noi"]
    for i in range(40):
        rows = [list(cols) if rng.random() < 0.8 else [rng.choice(cols + ["junk"]) for _ in cols]]
        for _ in range(rng.randint(0, 4)):
            rows.append([rng.choice(cells) for _ in range(rng.randint(1, 10))])
        sheets = {"a": rows}
        if rng.random() < 0.3:
            sheets["b"] = [[rng.choice(cells) for _ in range(3)]]
        path = tmp_path / f"f{i}.xlsx"
        _workbook(path, sheets)
        _check(ingest_user, path, sheets)
