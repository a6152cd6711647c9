"""The Word card (issue 11): opened with python-docx it holds the card's total, rank, table and chart in
Vietnamese conventions; the documented command writes any province-year on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from analysis import load_table
from analysis.docx_card import write_docx
from analysis.report_card import build_card


@pytest.fixture(scope="module")
def provinces():
    return load_table("provinces")


def _text(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs)


def test_papi_card_docx_has_total_rank_table_and_chart(panel, provinces, tmp_path):
    card = build_card(panel, provinces, "binh duong", 2020)
    path = write_docx(card, tmp_path / "card.docx", "vi")
    doc = Document(str(path))
    text = _text(doc)
    assert "Bình Dương" in doc.paragraphs[0].text and "năm 2020" in doc.paragraphs[0].text
    assert "Tổng điểm 40,76/80, xếp thứ 57/63" in text
    assert "Trách nhiệm giải trình với người dân; Thủ tục hành chính công" in text
    assert len(doc.tables) == 1
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0][:3] == ["Nội dung", "Điểm", "Năm trước"] and len(rows) == 1 + 8
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Quản trị điện tử"][5] == "không so sánh được"  # the e-governance break, as on the card
    assert all("," in r[1] and "." not in r[1] for r in rows[1:])  # decimal comma
    assert len(doc.inline_shapes) == 1  # the chart
    assert "\\" not in text  # no Markdown escapes
    assert all(p.style.font.name == "Times New Roman" for p in doc.paragraphs if p.style.name == "Normal")


def test_par_index_card_docx_for_bac_kan(panel, provinces, tmp_path):
    card = build_card(panel, provinces, "Bắc Kạn", 2022, "PAR_INDEX")
    doc = Document(str(write_docx(card, tmp_path / "par.docx", "vi")))
    text = _text(doc)
    assert "Đạt 79,35%, xếp thứ 61/63" in text
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[[r[0] for r in rows].index("Công tác chỉ đạo, điều hành")][:4] == ["Công tác chỉ đạo, điều hành", "7,775", "9,5", "81,8%"]


def test_card_command_writes_a_docx_on_demand(tmp_path):
    out = tmp_path / "bd.docx"
    run = subprocess.run([sys.executable, "-m", "analysis", "card", "--province", "Binh Duong", "--year", "2020", "--output", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "40,76/80" in _text(Document(str(out)))
    bad = subprocess.run([sys.executable, "-m", "analysis", "card", "--province", "Binh Duong", "--year", "2005"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "2011" in bad.stderr


def test_card_command_refuses_a_year_without_a_value_and_outputs_over_the_project(tmp_path):
    """2023 has no PAPI score for Bình Dương: status 2 with the years that have one (no silent other year);
    an --output inside the published reports or data is refused, and an unwritable one is a clear error."""
    from analysis.runner.run import reports_dir

    def card(*extra):
        return subprocess.run([sys.executable, "-m", "analysis", "card", "--province", "Binh Duong", *extra],
                              capture_output=True, text=True, timeout=300)

    missing = card("--year", "2023", "--output", str(tmp_path / "x.docx"))
    assert missing.returncode == 2 and "no published PAPI value for Bình Dương in 2023" in missing.stderr and "2022, 2024" in missing.stderr
    assert not (tmp_path / "x.docx").exists()
    target = reports_dir() / "latest" / "site" / "index.docx"
    over = card("--year", "2020", "--output", str(target))
    assert over.returncode == 2 and "inside the project's data or published reports" in over.stderr and not target.exists()
    for bad, words in ((tmp_path / "x.md", ".docx"), (Path("/proc/x.docx"), "cannot write the card")):
        r = card("--year", "2020", "--output", str(bad))
        assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


# Issue 19.2: the card laid out as Decree 30/2020/NĐ-CP (Appendix I) asks of an administrative document.
# Every check reads the saved file back and recomputes from the XML; the table's words are measured with
# matplotlib's own AFM reader, not with the module's width function.

MM_PER_TWIP = 25.4 / 1440


@pytest.fixture(scope="module")
def decree_cards(panel, provinces, tmp_path_factory):
    """Bình Dương PAPI 2020 in Vietnamese and English, and Bắc Kạn PAR INDEX 2022 (another table), as written
    by write_docx, with the time of writing."""
    from datetime import UTC, datetime

    folder = tmp_path_factory.mktemp("decree")
    written = datetime.now(UTC)
    bd = build_card(panel, provinces, "binh duong", 2020)
    par = build_card(panel, provinces, "Bắc Kạn", 2022, "PAR_INDEX")
    cards = {"vi": (bd, "vi"), "en": (bd, "en"), "par": (par, "vi")}
    return {key: (Document(str(write_docx(card, folder / f"{key}.docx", lang, chart=False))), card, lang, written)
            for key, (card, lang) in cards.items()}


def _effective(paragraph, run, attr: str):
    """A run's font name or size as Word resolves it: the run, then the paragraph's style and its bases, then
    the document defaults."""
    from docx.oxml.ns import qn

    value = getattr(run.font, attr)
    style = paragraph.style
    while value is None and style is not None:
        value, style = getattr(style.font, attr), style.base_style
    if value is None:
        rpr = paragraph.part.document.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
        if attr == "size":
            from docx.shared import Pt

            value = Pt(int(rpr.find(qn("w:sz")).get(qn("w:val"))) / 2)
        else:
            value = rpr.find(qn("w:rFonts")).get(qn("w:ascii"))
    return value


def _section_of(doc, element):
    """The section an element of the body belongs to: the first section break (w:sectPr) after it."""
    from docx.oxml.ns import qn
    from docx.section import Section

    for el in element.itersiblings():
        sect = el.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") if el.tag == qn("w:p") else (el if el.tag == qn("w:sectPr") else None)
        if sect is not None:
            return Section(sect, doc.part)
    raise AssertionError("no section after the element")


@pytest.mark.parametrize("key", ["vi", "en", "par"])
def test_docx_is_a4_with_the_decree_margins(decree_cards, key):
    """I.1 A4 (210 x 297 mm), I.3 margins: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm, within
    0.5 mm; the first page upright (I.2), a landscape page only for a table."""
    doc = decree_cards[key][0]
    first = doc.sections[0]
    assert abs(first.page_width.mm - 210) <= 0.5 and abs(first.page_height.mm - 297) <= 0.5, (first.page_width.mm, first.page_height.mm)
    for s in doc.sections:
        assert sorted([round(s.page_width.mm, 1), round(s.page_height.mm, 1)]) == pytest.approx([210, 297], abs=0.5)
        for side, (low, high) in {"top": (20, 25), "bottom": (20, 25), "left": (30, 35), "right": (15, 20)}.items():
            mm = getattr(s, f"{side}_margin").mm
            assert low - 0.5 <= mm <= high + 0.5, (side, mm)


@pytest.mark.parametrize("key", ["vi", "en", "par"])
def test_docx_text_is_times_new_roman_13_to_14(decree_cards, key):
    """I.4 and II.6: every run of body text in Times New Roman at 13-14 pt (the title 14), table text at
    12-13 pt; all four font slots of every style and of the defaults name Times New Roman (no theme font left
    to win for East-Asian or complex-script characters); the text precomposed (NFC) and the document's
    language that of the card."""
    import unicodedata

    from docx.oxml.ns import qn

    doc, _, lang, _ = decree_cards[key]
    runs = [(p, r) for p in doc.paragraphs for r in p.runs if r.text.strip()]
    assert len(runs) > 10
    for p, r in runs:
        assert _effective(p, r, "name") == "Times New Roman", (p.style.name, r.text[:40])
        assert 13 <= _effective(p, r, "size").pt <= 14, (p.style.name, _effective(p, r, "size").pt, r.text[:40])
        assert unicodedata.is_normalized("NFC", r.text)
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for r in p.runs:
                        assert _effective(p, r, "name") == "Times New Roman" and 12 <= _effective(p, r, "size").pt <= 13
    styles = doc.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        assert all(fonts.get(qn(f"w:{slot}")) == "Times New Roman" for slot in ("ascii", "hAnsi", "eastAsia", "cs")), fonts.attrib
        assert not any(qn(f"w:{a}") in fonts.attrib for a in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"))
    defaults = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert defaults.find(qn("w:lang")).get(qn("w:val")) == {"vi": "vi-VN", "en": "en-US"}[lang]


def test_docx_headings_are_black_bold_times(decree_cards):
    """I.4 màu đen: the headings black and bold (python-docx's template draws them in blue Calibri Light),
    the title at 14 pt; no theme colour left in any style."""
    from docx.oxml.ns import qn
    from docx.shared import RGBColor

    doc = decree_cards["vi"][0]
    headings = [p for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert {p.style.name for p in headings} == {"Heading 1", "Heading 2"}
    for p in headings:
        assert p.style.font.color.rgb == RGBColor(0, 0, 0) and p.style.font.color.theme_color is None, p.style.name
        assert p.style.font.bold and p.style.font.name == "Times New Roman"
    assert doc.styles["Heading 1"].font.size.pt == 14
    assert all(c.get(qn("w:themeColor")) is None and c.get(qn("w:val")) == "000000" for c in doc.styles.element.iter(qn("w:color")))


@pytest.mark.parametrize("key", ["vi", "en"])
def test_docx_properties_are_the_cards(decree_cards, key):
    """The file says when it was written (not python-docx's 2013-12-23), what it is, by whom, in which language."""
    from datetime import UTC

    from analysis.report_card import title_text

    doc, card, lang, written = decree_cards[key]
    props = doc.core_properties
    for when in (props.created, props.modified):
        assert abs((when.replace(tzinfo=when.tzinfo or UTC) - written).total_seconds()) < 60, when
    assert props.title == title_text(card, lang) and props.author == props.last_modified_by == "vngov-indices"
    assert props.language == {"vi": "vi-VN", "en": "en-US"}[lang]
    assert "python-docx" not in (props.comments or "")


@pytest.mark.parametrize("key", ["vi", "en"])
def test_docx_page_numbers_from_page_two(decree_cards, key):
    """I.7: a PAGE field centred in the header (inside the top margin), 13-14 pt, none on the first page;
    a later section (the English table's landscape page) numbers its first page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn

    doc = decree_cards[key][0]
    first = doc.sections[0]
    assert first.different_first_page_header_footer
    assert "PAGE" not in "".join(t.text or "" for t in first.first_page_header._element.iter(qn("w:instrText")))
    p = first.header.paragraphs[0]
    assert [t.text.strip() for t in p._p.iter(qn("w:instrText"))] == ["PAGE"]
    assert [c.get(qn("w:fldCharType")) for c in p._p.iter(qn("w:fldChar"))] == ["begin", "separate", "end"]
    assert p.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert all(13 <= r.font.size.pt <= 14 and r.font.name == "Times New Roman" for r in p.runs)
    assert first.header_distance.mm < first.top_margin.mm
    for later in doc.sections[1:]:
        assert not later.different_first_page_header_footer and later.header.is_linked_to_previous


@pytest.mark.parametrize("key", ["vi", "en", "par"])
def test_docx_table_fits_the_text_width(decree_cards, key):
    """The table is fixed (w:tblLayout fixed: an automatic table grows with its content past the margin in
    Word), its columns and its stated width add up to no more than the text width of its page, and no word of
    any cell is wider than its column inside the cell margins (measured with matplotlib's AFM reader of Adobe
    Times, whose widths Times New Roman shares), so nothing is clipped or broken mid-number. The Vietnamese
    table stays on the upright page at 13 pt."""
    import unicodedata

    import matplotlib
    from docx.oxml.ns import qn
    from matplotlib._afm import AFM

    afm = Path(matplotlib.get_data_path()) / "fonts" / "afm"
    with open(afm / "ptmr8a.afm", "rb") as regular, open(afm / "ptmb8a.afm", "rb") as bold:
        fonts = {False: AFM(regular), True: AFM(bold)}

    def width_mm(word: str, pt: float, is_bold: bool) -> float:
        base = [c for c in unicodedata.normalize("NFD", word.replace("đ", "d").replace("Đ", "D")) if not unicodedata.combining(c)]
        total = 0.0
        for c in base:
            try:
                total += fonts[is_bold].get_width_char(ord(c))
            except KeyError:
                total += 1000
        return total / 1000 * pt * 25.4 / 72

    doc = decree_cards[key][0]
    (table,) = doc.tables
    tbl = table._tbl
    layout = tbl.tblPr.find(qn("w:tblLayout"))
    assert layout is not None and layout.get(qn("w:type")) == "fixed", "an automatic table can grow past the margin"
    section = _section_of(doc, tbl)
    text_mm = section.page_width.mm - section.left_margin.mm - section.right_margin.mm
    grid = [int(c.get(qn("w:w"))) * MM_PER_TWIP for c in tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) <= text_mm + 0.01, (sum(grid), text_mm)
    tbl_w = tbl.tblPr.find(qn("w:tblW"))
    assert tbl_w.get(qn("w:type")) == "dxa" and int(tbl_w.get(qn("w:w"))) * MM_PER_TWIP <= text_mm + 0.01
    margins = tbl.tblPr.find(qn("w:tblCellMar"))
    pad = sum(int(margins.find(qn(f"w:{side}")).get(qn("w:w"))) for side in ("left", "right")) * MM_PER_TWIP
    for row in table.rows:
        for j, cell in enumerate(row.cells):
            assert int(cell._tc.tcPr.tcW.get(qn("w:w"))) * MM_PER_TWIP <= grid[j] + 0.01
            for p in cell.paragraphs:
                for r in p.runs:
                    for word in r.text.split():
                        assert width_mm(word, r.font.size.pt, bool(r.bold)) <= grid[j] - pad, (word, grid[j])
    if key != "en":
        assert section.page_width.mm < section.page_height.mm  # upright
        assert {r.font.size.pt for row in table.rows for c in row.cells for r in c.paragraphs[0].runs} == {13}
