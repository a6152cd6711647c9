"""Issue 17: nothing a researcher drops in can poison the runs or exhaust the machine, and a table is read as it
is shown or refused with the reason. Items 3 (text every output can hold), 4 (limits checked before parsing),
and the groups "tracebacks and unclear messages" and "wrong but silent" for tables and mapping files. Each
input here made the reader fail, hang, exhaust memory or read a wrong value before."""

from __future__ import annotations

import os
import time
import zipfile

import openpyxl
import pytest
from openpyxl.styles import Font

from analysis.errors import DataError
from analysis.limits import MESSAGE_MAX_CHARS, TABLE_FILE_MAX_BYTES
from analysis.sources.user import list_user_files, read_user_table

HEADER = "province,year,index,indicator,value,unit,source,note\n"
GOOD = "Bình Dương,2022,PAR_INDEX,total,84.5,percent,test,\n"
COLS = HEADER.strip().split(",")
MAPPED = "STT,Tỉnh,Điểm\n1,Bình Dương,84.5\n"
MAP = "province: Tỉnh\nyear: 2022\nsource: Bộ Nội vụ\nvalues:\n  - {column: Điểm, index: PAR_INDEX, indicator: total, unit: percent}\n"


def write(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return p


def refused(run, path, *parts):
    with pytest.raises(DataError) as err:
        run(path)
    text = str(err.value)
    for part in parts:
        assert part in text, f"{part!r} not in {text!r}"
    assert len(text) <= MESSAGE_MAX_CHARS + 500
    return text


def workbook(path, rows, setup=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "data"
    for r in rows:
        ws.append(r)
    if setup:
        setup(ws)
    wb.save(path)
    return path


# ---- item 3: text cells every output format can hold ---------------------------------------------------------


@pytest.mark.parametrize(("char", "what"), [("\uffff", "U+FFFF"), ("\ufffe", "U+FFFE"), ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
                                            ("\x1b[31m", "ANSI escape"), ("\x85", "U+0085")])
def test_a_character_no_word_file_can_hold_is_refused_by_cell(tmp_path, ingest_user, char, what):
    """U+FFFF in a `source` cell was accepted, and every later run then failed in the DOCX writer."""
    refused(ingest_user, write(tmp_path, HEADER + GOOD.replace(",test,", f",te{char}st,")), what, "row 2", "'source'")


def test_a_lone_surrogate_from_a_mapping_is_refused(tmp_path, ingest_user):
    """YAML can write a lone surrogate ("\\udc80"); UTF-8 cannot hold it."""
    write(tmp_path, MAPPED)
    (tmp_path / "t.mapping.yml").write_text(MAP.replace("source: Bộ Nội vụ", 'source: "Bộ Nội vụ \\udc80"'), encoding="utf-8")
    refused(ingest_user, tmp_path / "t.csv", "U+DC80", "source")


def test_unsafe_text_in_a_workbook_cell_is_refused(tmp_path, ingest_user):
    """A workbook's XML can hold a right-to-left override (it cannot hold U+FFFE: that is a broken workbook)."""
    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", 84.5, "percent", "srcXX", None]])
    out = tmp_path / "u.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename).replace(b"srcXX", "src\u202etxt.exe".encode()))
    refused(ingest_user, out, "U+202E", "row 2", "'source'")


@pytest.mark.parametrize("name", ["a\x1b[2Jb.csv", "evil\u202etxt.csv", "bad\udcff.csv"])
def test_a_file_name_with_an_escape_or_override_is_refused(tmp_path, name):
    (tmp_path / name.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")).write_text(HEADER + GOOD)
    with pytest.raises(DataError, match="a file name in the user folder holds") as err:
        list_user_files(tmp_path)
    assert "\x1b" not in str(err.value) and "\u202e" not in str(err.value)  # quoted as escapes, not sent to the terminal


def test_text_from_any_source_is_checked_when_it_enters_the_build(registry):
    """Not only researchers' rows: every observation's text (an adapter's note, a file name) is checked once
    in `prepare`, naming file, row and column."""
    from analysis.panel.build import prepare
    from analysis.sources.common import obs_frame

    obs = obs_frame([{"province_raw": "Bình Dương", "vintage": "gso-2008", "year": 2022, "index": "MY_INDEX", "indicator": "total",
                      "value": 1.0, "note": "quoted \ufffe", "source_ref": "page", "date": "", "_file": "news.csv", "_row": 7,
                      "_column": "value", "_tol": 0.5}])
    obs["source_id"], obs["reliability"], obs["priority"] = "news", "reported", 1
    with pytest.raises(DataError) as err:
        prepare(obs, registry)
    assert "U+FFFE" in str(err.value) and "news.csv" in str(err.value) and "row 7" in str(err.value) and "'note'" in str(err.value)


# ---- item 4: resource exhaustion from small files -----------------------------------------------------------------

BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['x'] * 9)}]\n"
               for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True))


def test_the_yaml_alias_bomb_is_under_600_bytes():
    assert len(BOMB) < 600 and "*h" in BOMB


def test_an_alias_bomb_in_a_mapping_is_refused_at_once(tmp_path, ingest_user):
    write(tmp_path, "STT,Tỉnh,Điểm\n1,Bình Dương,84.5\n")
    (tmp_path / "t.mapping.yml").write_text(BOMB + "province: Tỉnh\nyear: 2022\nsource: s\nnote: *i\nvalues: []\n")
    t0 = time.monotonic()
    refused(ingest_user, tmp_path / "t.csv", "t.mapping.yml", "aliases", "100,000")
    assert time.monotonic() - t0 < 5  # was a MemoryError after 68 s


def test_a_workbook_declaring_17_billion_cells_reads_its_three(tmp_path, ingest_user):
    """One styled empty cell at XFD1048576 makes the declared range 16 384 x 1 048 576 cells (file: 5 KB)."""
    def styled_corner(ws):
        ws["XFD1048576"].font = Font(bold=True)

    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", 84.5, "percent", "test", None]], styled_corner)
    assert path.stat().st_size < 10_000
    with zipfile.ZipFile(path) as zf:
        assert b'ref="A1:XFD1048576"' in zf.read("xl/worksheets/sheet1.xml")
    t0 = time.monotonic()
    df = ingest_user(path)
    assert list(df["value"]) == [84.5] and time.monotonic() - t0 < 10  # was a MemoryError after 97 s


def test_a_value_beyond_the_row_limit_is_refused_while_streaming(tmp_path, ingest_user):
    def far_value(ws):
        ws["A1048576"] = "far away"

    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", 84.5, "percent", "test", None]], far_value)
    refused(ingest_user, path, "row 1,048,576", "beyond the limit of 100,000 rows")


def test_a_zip_bomb_named_xlsx_is_refused_from_its_directory(tmp_path, ingest_user):
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("xl/worksheets/sheet1.xml", "w") as member:
        for _ in range(20):
            member.write(b"\0" * 1_000_000)
    assert path.stat().st_size < 100_000
    t0 = time.monotonic()
    refused(ingest_user, path, "inflates", "zip bomb")
    assert time.monotonic() - t0 < 2


def test_a_sparse_20_gb_csv_is_refused_before_reading(tmp_path, ingest_user):
    path = write(tmp_path, HEADER + GOOD)
    with path.open("r+b") as fh:
        fh.truncate(20 * 10**9)  # sparse: takes no disk space
    t0 = time.monotonic()
    refused(ingest_user, path, "20,000.0 MB", f"{TABLE_FILE_MAX_BYTES / 1e6:,.1f} MB")
    assert time.monotonic() - t0 < 2


def test_row_and_cell_limits_of_a_csv(tmp_path, ingest_user, monkeypatch):
    from analysis.sources import tables

    monkeypatch.setattr(tables, "TABLE_MAX_ROWS", 5)
    refused(ingest_user, write(tmp_path, HEADER + GOOD * 6), "more than 5 rows")
    monkeypatch.setattr(tables, "TABLE_MAX_COLUMNS", 4)
    refused(ingest_user, write(tmp_path, HEADER + GOOD), "more than 4 columns")


# ---- tracebacks and unclear messages --------------------------------------------------------------------------------



@pytest.mark.parametrize(("mapping", "parts"), [
    ("? [a, b]\n: 1\n" + MAP, ["list as a key"]),
    ("note: " + "[" * 3000 + "]" * 3000 + "\n" + MAP, ["nested more than 64 levels"]),
    ("date: 2025-02-30\n" + MAP, ["2025-02-30", "not a real date"]),
    ("base: &b {column: Điểm}\n" + MAP.replace("{column: Điểm,", "{<<: *b,"), ["merge key (<<)", "write the keys out"]),
    (MAP.replace("year: 2022", "year: " + "2" * 400), ["number of 400 digits"]),
    (MAP.replace("unit: percent}", "unit: percent, scale_max: .nan}"), [".nan", "not a finite number"]),
    (MAP.replace("column: Điểm", "column: 2022"), ["expected text", 'quote it, e.g. column: "2022"']),
])
def test_odd_yaml_in_a_mapping_is_a_clear_error(tmp_path, ingest_user, mapping, parts):
    write(tmp_path, MAPPED)
    (tmp_path / "t.mapping.yml").write_text(mapping, encoding="utf-8")
    refused(ingest_user, tmp_path / "t.csv", "t.mapping.yml", *parts)


def test_a_mapping_linked_to_another_file_is_not_printed(tmp_path, ingest_user):
    secret = tmp_path / "notes.txt"
    secret.write_text("SECRET-LINE " * 20_000)
    write(tmp_path, MAPPED)
    (tmp_path / "t.mapping.yml").symlink_to(secret)
    text = refused(ingest_user, tmp_path / "t.csv", "holds a str")
    assert "SECRET" not in text


def test_a_120_kb_cell_is_cut_in_the_message(tmp_path, ingest_user):
    text = refused(ingest_user, write(tmp_path, HEADER + GOOD.replace("84.5", '"' + "9x" * 60_000 + '"')), "not a number", "characters in all")
    assert len(text) < 1000


def test_a_mapping_with_an_upper_case_suffix_is_read(tmp_path, ingest_user):
    write(tmp_path, MAPPED)
    (tmp_path / "t.MAPPING.YML").write_text(MAP, encoding="utf-8")
    tables, _ = list_user_files(tmp_path)
    assert [p.name for p in tables] == ["t.csv"]
    assert list(ingest_user(tmp_path / "t.csv")["value"]) == [84.5]


def test_an_nfd_header_matches_its_nfc_name(tmp_path, ingest_user):
    import unicodedata

    write(tmp_path, unicodedata.normalize("NFD", MAPPED))
    (tmp_path / "t.mapping.yml").write_text(MAP, encoding="utf-8")
    df = ingest_user(tmp_path / "t.csv")
    assert list(df["value"]) == [84.5] and list(df["province_code"]) == ["74"]


@pytest.mark.parametrize(("sep", "name"), [("\t", "tab"), ("|", "pipe")])
def test_tab_and_pipe_separated_files_are_named(tmp_path, ingest_user, sep, name):
    refused(ingest_user, write(tmp_path, (HEADER + GOOD).replace(",", sep)), f"{name}-separated file", "row 1")


def test_a_formula_without_a_saved_result_is_named(tmp_path, ingest_user):
    path = workbook(tmp_path / "t.xlsx", [COLS + ["scale_max"], ["Bình Dương", 2022, "PAR_INDEX", "total", "=I2*0.845", "percent", "test",
                                                                 None, 100]])
    refused(ingest_user, path, "formula without a saved result", "row 2", "'value'", "paste the values")


def test_a_config_pointing_at_a_fifo_is_refused_not_waited_on(tmp_path):
    from analysis.runner.config import load_config

    os.mkfifo(tmp_path / "cfg.yaml")
    t0 = time.monotonic()
    with pytest.raises(DataError, match="not a regular file"):
        load_config(tmp_path / "cfg.yaml")
    assert time.monotonic() - t0 < 5


# ---- wrong but silent: read as shown, or refused with the reason -----------------------------------------------


@pytest.mark.parametrize(("fmt", "stored", "read"), [
    ("0.0,,", 84_500_000, 84.5),  # millions
    ("#,##0,", 84_500, 84.5),  # thousands, with a thousands separator that does not scale
    ('[$%-409]0.0', 84.5, 84.5),  # a currency sign that happens to be %, not a percentage
    ("0.0%", 0.845, 84.5),
    ('0.0"%"', 84.5, 84.5),
    ("#,##0.00", 84.5, 84.5),
    ('[Red]0.0;[Blue]-0.0', 84.5, 84.5),
])
def test_number_formats_are_read_as_shown(tmp_path, ingest_user, fmt, stored, read):
    def formatted(ws):
        ws["E2"].number_format = fmt

    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", stored, "percent", "test", None]], formatted)
    assert ingest_user(path)["value"].tolist() == [read]


@pytest.mark.parametrize(("fmt", "stored", "reason"), [
    (";;;", 84.5, "looks empty"),
    ('"n/a"', 84.5, "looks like text"),
    ("[>=100]0;0.0", 84.5, "conditions"),
    ("0.0;0.0", -2.5, "without its minus sign"),
])
def test_number_formats_that_hide_the_number_are_refused(tmp_path, ingest_user, fmt, stored, reason):
    def formatted(ws):
        ws["E2"].number_format = fmt

    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "MY_INDEX", "total", stored, "points", "test", None]], formatted)
    refused(ingest_user, path, reason, "row 2", "'value'")


def _with_cached_result(path, cached, recalc):
    """openpyxl writes formulas without results; put in a saved result, with or without fullCalcOnLoad."""
    out = path.with_name("cached.xlsx")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v></v>", f"<v>{cached}</v>".encode())
            if item.filename == "xl/workbook.xml" and not recalc:
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            dst.writestr(item, data)
    return out


def test_a_stale_saved_formula_result_is_refused_and_a_calculated_one_read(tmp_path, ingest_user):
    rows = [COLS + ["scale_max"], ["Bình Dương", 2022, "PAR_INDEX", "total", "=I2*0.845", "percent", "test", None, 100]]
    path = workbook(tmp_path / "t.xlsx", rows)
    stale = _with_cached_result(path, 12.5, recalc=True)  # the file asks to be recalculated: 12.5 is not what it shows
    refused(ingest_user, stale, "may be out of date", "recalculated when opened", "row 2", "'value'")
    calculated = _with_cached_result(path, 84.5, recalc=False)  # as Excel saves it: the result is current
    assert ingest_user(calculated)["value"].tolist() == [84.5]


def test_hidden_rows_are_refused_not_read_silently(tmp_path, ingest_user):
    def hide(ws):
        ws.row_dimensions[3].hidden = True

    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", 84.5, "percent", "test", None],
                                          ["TP HCM", 2022, "PAR_INDEX", "total", 80.1, "percent", "test", None]], hide)
    refused(ingest_user, path, "row is hidden", "row 3", "Unhide")


@pytest.mark.parametrize(("column", "name"), [("index", "NA"), ("index", "NULL"), ("indicator", "nan"), ("indicator", "none")])
def test_names_that_read_as_missing_values_are_refused(tmp_path, ingest_user, column, name):
    row = GOOD.replace("PAR_INDEX", name) if column == "index" else GOOD.replace("total", name)
    refused(ingest_user, write(tmp_path, HEADER + row), "reads as a missing value", f"'{column}'", name)


@pytest.mark.parametrize(("date", "reason"), [("2099-01-01", "in the future"), ("2021-12-31", "does not go with the year 2022"),
                                              ("2024-03", "does not go with the year 2022")])
def test_a_date_that_cannot_go_with_its_year_is_refused(tmp_path, ingest_user, date, reason):
    text = HEADER.replace("note\n", "note,date\n") + GOOD.replace(",\n", f",,{date}\n")
    refused(ingest_user, write(tmp_path, text), reason, "row 2", "'date'")


def test_a_date_in_the_year_or_the_next_is_fine(tmp_path, ingest_user):
    text = HEADER.replace("note\n", "note,date\n") + GOOD.replace(",\n", ",,2023-04\n")
    assert ingest_user(write(tmp_path, text))["date"].tolist() == ["2023-04"]


def test_unsafe_names_survive_read_user_table_only_as_errors(tmp_path):
    """The user-table reader itself (not only the build) refuses: a notebook calling it directly gets the same."""
    with pytest.raises(DataError, match="U\\+FFFF"):
        read_user_table(write(tmp_path, HEADER + GOOD.replace("percent", "per\uffffcent")))


def test_the_readme_states_the_limits_of_limits_py():
    """The limits are documented where a researcher looks (README, "Limits") with the values the code uses."""
    import re

    from analysis import limits, paths

    text = (paths.project_root() / "README.md").read_text(encoding="utf-8")
    section = re.search(r"## Limits\n(.*?)\n## ", text, re.S).group(1)
    mb = limits.MB
    expected = [f"{limits.TABLE_FILE_MAX_BYTES // mb} MB", f"{limits.XLSX_UNCOMPRESSED_MAX_BYTES // mb} MB",
                f"{limits.XLSX_RATIO_FLOOR_BYTES // mb} MB may inflate more than {limits.XLSX_MEMBER_MAX_RATIO} times",
                f"{limits.TABLE_MAX_ROWS:,}", f"| {limits.TABLE_MAX_COLUMNS} ", f"{limits.TABLE_MAX_CELLS:,}",
                f"{limits.XLSX_MAX_PARSED_CELLS:,}", f"{limits.FIELD_MAX_CHARS:,} characters", f"{limits.YAML_MAX_BYTES // mb} MB",
                f"| {limits.YAML_MAX_NODES:,} |", f"{limits.YAML_MAX_DEPTH} levels", f"| {limits.YAML_MAX_NUMBER_DIGITS} |",
                f"{limits.MESSAGE_VALUE_MAX_CHARS} characters", f"the whole message {limits.MESSAGE_MAX_CHARS:,}",
                f"{limits.WORKER_MEMORY_BYTES / 1024**3:.1f} GiB"]
    top = limits.RUN_LIMIT_MAX
    expected += [f"≤ {top['timeout']:,} s", f"`max_run_seconds` ≤ {top['max_run_seconds'] // 86_400} days",
                 f"`max_output_mb` ≤ {top['max_output_mb']:,}", f"`keep` ≤ {top['keep']:,}", f"`jobs` ≤ {top['jobs']}"]
    missing = [e for e in expected if e not in section]
    assert not missing, missing


# ---- second adversary round (issue 17): amplification, overwrites, separators, whose rank ---------------------------


def test_a_long_mapping_note_copied_into_every_row_is_refused(tmp_path, ingest_user):
    """A 3 KB table with an 800 KB mapping note made a 510 MB indicators.csv: a text over TEXT_MAX_CHARS is refused
    where it is read, before any row carries it."""
    from analysis.limits import TEXT_MAX_CHARS

    write(tmp_path, MAPPED)
    (tmp_path / "t.mapping.yml").write_text(MAP + "note: \"" + "N" * (TEXT_MAX_CHARS + 1) + "\"\n", encoding="utf-8")
    t0 = time.monotonic()
    refused(ingest_user, tmp_path / "t.csv", "t.mapping.yml", f"{TEXT_MAX_CHARS + 1:,} characters")
    assert time.monotonic() - t0 < 5


def test_a_long_shared_string_in_a_workbook_is_refused_by_cell(tmp_path, ingest_user):
    from analysis.limits import TEXT_MAX_CHARS

    long = "S" * (TEXT_MAX_CHARS + 10)
    path = workbook(tmp_path / "t.xlsx", [COLS, ["Bình Dương", 2022, "PAR_INDEX", "total", 84.5, "percent", long, ""],
                                          ["Bình Phước", 2022, "PAR_INDEX", "total", 80.5, "percent", long, ""]])
    refused(ingest_user, path, "t.xlsx", "row 2", "'source'", f"{TEXT_MAX_CHARS + 10:,} characters")


def test_text_summed_over_a_files_rows_is_bounded(registry, monkeypatch):
    """Many rows each under the per-text limit still add up: the sum per file is checked in `prepare`."""
    from analysis.panel import build
    from analysis.panel.build import prepare
    from analysis.sources.common import obs_frame

    monkeypatch.setattr(build, "TEXT_MAX_TOTAL_CHARS", 5_000)
    rows = [{"province_raw": "Bình Dương", "vintage": "gso-2008", "year": 2010 + i, "index": "MY_INDEX", "indicator": "total",
             "value": 1.0, "note": "n" * 1_000, "source_ref": "page", "date": "", "_file": "mine.csv", "_row": i + 2,
             "_column": "value", "_tol": 0.5} for i in range(6)]
    obs = obs_frame(rows)
    obs["source_id"], obs["reliability"], obs["priority"] = "user:mine.csv", "user", 1000
    with pytest.raises(DataError) as err:
        prepare(obs, registry)
    assert "mine.csv" in str(err.value) and "characters of text" in str(err.value)
    prepare(obs.iloc[:4], registry)  # 4 000 characters: fine


@pytest.mark.parametrize("name", ["Bình;Dương", "Bình/Dương", "Bình, Dương", "Bình\uff5cDương", "Bình\u00a6Dương",
                                  "Bình\u200bDương", "Bình\u2060Dương"])
def test_a_province_name_holding_a_separator_is_unknown(registry, name):
    assert registry.find(name) is None
    with pytest.raises(DataError, match="unknown province name: a name cannot hold"):
        registry.resolve(name, file="t.csv", row=2, column="province")
    assert registry.find("Bà Rịa - Vũng Tàu") == "77" and registry.find("TP.HCM") == "79"


def test_card_output_never_replaces_an_existing_file_unless_forced(tmp_path):
    import subprocess
    import sys

    target = tmp_path / "README.md"
    target.write_text("the researcher's notes\n", encoding="utf-8")
    args = [sys.executable, "-m", "analysis", "card", "--province", "74", "--year", "2020", "--format", "md", "--output", str(target)]
    run = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and "the output file exists" in run.stderr and "--force" in run.stderr
    assert target.read_text(encoding="utf-8") == "the researcher's notes\n"
    forced = subprocess.run([*args, "--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0 and "Bình Dương" in target.read_text(encoding="utf-8")


def test_a_researchers_rank_is_not_labelled_published_on_province_pages():
    """A user `*_rank` row and a user rank shown in the series table say whose they are (the cards never show them)."""
    import pandas as pd

    from analysis.panel import load_panel
    from analysis.site import series_rows

    panel = load_panel()
    base = panel[(panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total_rank") & (panel["province_code"] == "74")].iloc[0]
    total = panel[(panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total") & (panel["province_code"] == "74")].iloc[0]
    mine = pd.DataFrame([base.to_dict() | {"year": 2023, "value": 1.0, "rank": 1, "rank_of": 63, "reliability": "user",
                                           "source_id": "user:mine.csv"},
                         total.to_dict() | {"year": 2023, "value": 97.5, "rank": 1, "rank_of": 63, "reliability": "user",
                                            "source_id": "user:mine.csv"}])
    s = series_rows(pd.concat([panel, mine], ignore_index=True))
    s = s[s["province_code"] == "74"]
    user_rank = s[(s["reliability"] == "user") & (s["indicator"] == "total_rank")]
    published = s[(s["reliability"] == "reported") & (s["indicator"] == "total_rank")]
    assert len(user_rank) == 1 and len(published) >= 1
    assert published["label_vi"].str.startswith("Thứ hạng công bố").all() and published["label_en"].str.startswith("Published rank").all()
    assert not user_rank["label_vi"].str.contains("công bố:").any() and not user_rank["label_en"].str.contains("Published").any()
    user_total = s[(s["reliability"] == "user") & (s["indicator"] == "total")]
    assert user_total["rank_text_vi"].iloc[0].startswith("1/63 (") and user_total["rank_text_en"].iloc[0].startswith("1/63 (")
    assert (published["rank_text_vi"] == published["rank_text"]).all()  # the publisher's ranks unmarked
