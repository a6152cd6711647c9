"""A report card as a Word document (python-docx) that a provincial office pastes into its báo cáo: the
card's text, its table, its notes, the other indices and its charts, in Times New Roman as Vietnamese
administrative documents use (Decree 30/2020/NĐ-CP), with numbers as `analysis.i18n` writes them.

The text is the same as the Markdown card (`report_card`): the same sentences, table cells and notes,
without Markdown escapes."""

from __future__ import annotations

import io
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .report_card import (
    TEXT,
    Card,
    card_figure,
    footnotes,
    other_lines,
    paragraphs,
    plain,
    records,
    table_cells,
    title_text,
)

if TYPE_CHECKING:
    from docx.document import Document as Docx
    from docx.oxml.xmlchemy import BaseOxmlElement
    from docx.section import Section

FONT = "Times New Roman"
CHART_DPI = 90  # a 10 x 4.6 inch chart: 900 x 414 px, sharp at 16 cm and small in the file
CREATOR = "vngov-indices"

# The layout of Decree 30/2020/NĐ-CP on clerical work (5 March 2020), Appendix I, Part I ("Thể thức và kỹ
# thuật trình bày văn bản hành chính"): I = quy định chung, II = the parts of a document; each setting names
# the clause it follows.
PAGE_MM = (210.0, 297.0)  # I.1 khổ giấy: A4, 210 mm x 297 mm (python-docx's template is US Letter)
# I.3 định lề: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm. The low end of each range: the widest
# text block the decree allows (165 mm), which the ten-column PAPI table needs.
MARGINS_MM = {"top": 20.0, "bottom": 20.0, "left": 30.0, "right": 15.0}
HEADER_MM = 10.0  # I.7: the page number sits "trong phần lề trên", so the header starts inside the 20 mm margin
BODY_PT = 13  # II.6 nội dung văn bản: cỡ chữ từ 13 đến 14, chữ đứng, canh đều hai lề
TITLE_PT = 14  # II.5 trích yếu nội dung: cỡ chữ 14, chữ đứng, đậm (the card's title is its trích yếu)
HEADING_PT = 13  # II.6, the title of a phần, chương or mục: cỡ chữ 13-14, đứng, đậm
PAGE_NUMBER_PT = 13  # I.7 số trang: chữ số Ả Rập, cỡ chữ 13-14, đứng, canh giữa ở lề trên, không hiện ở trang 1
FIRST_LINE_CM = 1.0  # II.6: khi xuống dòng, chữ đầu dòng lùi vào 1 cm hoặc 1,27 cm
SPACE_AFTER_PT = 6  # II.6: khoảng cách giữa các đoạn văn tối thiểu 6 pt; giữa các dòng từ dòng đơn đến 1,5 dòng
# Tables: the body size when the table fits the text width at it; 12 pt only when a label's longest word does
# not fit at 13 (the English ten-column table); when it fits neither, the table gets a landscape page, as
# I.2 (kiểu trình bày) allows for a document with tables: "có thể được trình bày theo chiều rộng".
TABLE_PT = (13, 12)
CELL_PAD_MM = 1.0  # left and right inside each cell (Word's default is 1.9 mm), so the numbers keep their room
BLACK = "000000"  # I.4 phông chữ: Times New Roman, Unicode (TCVN 6909:2001), màu đen
LANGUAGE = {"vi": "vi-VN", "en": "en-US"}


def chart_png(card: Card, lang: str = "vi") -> bytes | None:
    """The card's charts as PNG bytes (`card_figure`), or None when the card has nothing to chart."""
    import matplotlib.pyplot as plt

    if not records(card) and card.history.dropna(subset=["rank"]).empty:
        return None
    fig = card_figure(card, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def compact_png(data: bytes, colours: int = 64) -> bytes:
    """A chart PNG with a palette of `colours` (Pillow's quantize): a bar chart has few colours, and the file
    shrinks about threefold (62 -> 21 KB, 20 ms), which keeps a Word file per province small enough for the site."""
    from PIL import Image

    out = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=colours, method=Image.Quantize.FASTOCTREE).save(out, "PNG")
    return out.getvalue()


@lru_cache(maxsize=2)
def _times_widths(bold: bool) -> dict[str, int]:
    """Advance widths (1/1000 em) of Adobe Times, Roman or Bold, from the AFM files matplotlib ships: Times New
    Roman (and Liberation Serif, LibreOffice's stand-in) has the same widths to within a few per cent, which
    is what sizing a table's columns needs without the font installed."""
    import matplotlib

    name = "ptmb8a.afm" if bold else "ptmr8a.afm"
    widths: dict[str, int] = {}
    glyphs = {"endash": "\u2013", "emdash": "\u2014", "quoteright": "\u2019", "quoteleft": "\u2018"}
    for line in (Path(matplotlib.get_data_path()) / "fonts" / "afm" / name).read_text("latin-1").splitlines():
        if not line.startswith("C "):
            continue
        fields = dict(part.strip().split(" ", 1) for part in line.split(";") if part.strip())
        code, glyph = int(fields["C"]), fields["N"]
        if glyph in glyphs:
            widths[glyphs[glyph]] = int(fields["WX"])
        elif 32 <= code < 127 and code not in (39, 96):  # Adobe StandardEncoding is ASCII here but for the quotes
            widths[chr(code)] = int(fields["WX"])
    widths["'"], widths["`"] = 180, 333
    return widths


def text_width_mm(text: str, pt: float, bold: bool = False) -> float:
    """The width of `text` on one line in Times at `pt`, in mm. A Vietnamese letter is as wide as its base
    letter (the marks sit above or below it; đ/Đ as d/D); a character Times lacks counts a full em."""
    widths = _times_widths(bold)
    base = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    units = sum(widths.get(c, 1000) for c in base if not unicodedata.combining(c))
    return units / 1000 * pt * 25.4 / 72


def column_widths(header: list[str], rows: list[list[str]], pt: float, width_mm: float) -> list[float] | None:
    """Column widths (mm) that fill `width_mm` with no word wider than its column, or None when the longest
    words alone do not fit. Each column gets at least its longest word (a number never breaks); the room left
    goes to the columns whose text would otherwise wrap most, in proportion to their one-line width (the
    automatic table layout of HTML and Word, made fixed here so that no viewer can widen the table past the
    margin). 4% spare on every measurement covers the difference between Times and Times New Roman."""
    spare, pad = 1.04, 2 * CELL_PAD_MM
    columns = [[(head, True)] + [(row[j], False) for row in rows] for j, head in enumerate(header)]
    least = [max(text_width_mm(word, pt, bold) for text, bold in col for word in text.split() or [""]) * spare + pad
             for col in columns]
    natural = [max(text_width_mm(text, pt, bold) for text, bold in col) * spare + pad for col in columns]
    if sum(least) > width_mm:
        return None
    if sum(natural) <= width_mm:
        return [w * width_mm / sum(natural) for w in natural]
    room = width_mm - sum(least)
    wrap = [n - m for n, m in zip(natural, least, strict=True)]
    return [m + room * w / sum(wrap) for m, w in zip(least, wrap, strict=True)]


def _set_fonts(rpr: BaseOxmlElement, size_pt: float | None = None) -> None:
    """Times New Roman in all four font slots of a run's properties (ascii, hAnsi, East-Asian and complex
    script: Word picks the slot by character, and a theme font left in any slot would override the name), and
    the size for Latin and complex script alike."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:  # second in the schema's order, after an optional w:rStyle
        fonts = OxmlElement("w:rFonts")
        rpr.insert(1 if len(rpr) and rpr[0].tag == qn("w:rStyle") else 0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), FONT)
    if size_pt is not None:
        size = rpr.find(qn("w:sz"))
        if size is None:
            size = OxmlElement("w:sz")
            rpr.append(size)
        size.set(qn("w:val"), str(round(size_pt * 2)))
        complex_size = rpr.find(qn("w:szCs"))
        if complex_size is None:
            complex_size = OxmlElement("w:szCs")
            size.addnext(complex_size)  # w:szCs directly after w:sz, as the schema orders them
        complex_size.set(qn("w:val"), str(round(size_pt * 2)))


def _styles(doc: Docx, lang: str) -> None:
    """Every style in Times New Roman and black (I.4), the body at 13 pt justified with 6 pt between
    paragraphs (II.6), headings bold and black instead of the template's blue Calibri Light, the language of
    the card for spelling and hyphenation."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    root = doc.styles.element
    defaults = root.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(defaults, BODY_PT)
    lang_el = defaults.find(qn("w:lang"))
    if lang_el is None:
        lang_el = OxmlElement("w:lang")
        defaults.append(lang_el)
    lang_el.set(qn("w:val"), LANGUAGE[lang])
    lang_el.set(qn("w:eastAsia"), LANGUAGE[lang])
    for colour in root.iter(qn("w:color")):  # and theme colours (the headings' blue)
        for attr in ("themeColor", "themeShade", "themeTint"):
            colour.attrib.pop(qn(f"w:{attr}"), None)
        colour.set(qn("w:val"), BLACK)
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(BODY_PT)
    fmt = normal.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.space_before, fmt.space_after, fmt.line_spacing = Pt(0), Pt(SPACE_AFTER_PT), 1.0
    for name, size, align in (("Heading 1", TITLE_PT, WD_ALIGN_PARAGRAPH.CENTER), ("Heading 2", HEADING_PT, WD_ALIGN_PARAGRAPH.LEFT)):
        style = doc.styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(size), True
        style.font.color.rgb = RGBColor.from_string(BLACK)
        _set_fonts(style.element.get_or_add_rPr(), size)
        style.paragraph_format.alignment = align
        style.paragraph_format.space_before = Pt(0 if name == "Heading 1" else 12)
        style.paragraph_format.space_after = Pt(12 if name == "Heading 1" else SPACE_AFTER_PT)
    for fonts in root.iter(qn("w:rFonts")):  # last: the template's theme fonts, and python-docx's ascii/hAnsi only
        _set_fonts(fonts.getparent())


def _page(section: Section, landscape: bool = False) -> None:
    """A4 and the margins of I.3, upright (I.2) or, for a table too wide for the upright page, across."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    short, long = PAGE_MM
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(long), Mm(short)) if landscape else (Mm(short), Mm(long))
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    section.header_distance = Mm(HEADER_MM)


def _page_numbers(section: Section) -> None:
    """The page number as a PAGE field, centred in the top margin, Arabic, 13 pt upright; the first page shows
    none (I.7): a first-page header of its own, left empty."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    section.different_first_page_header_footer = True
    section.header.is_linked_to_previous = False
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.first_line_indent = 0
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "2"), ("end", None)):
        run = p.add_run()
        if kind:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text  # shown until the viewer updates the field
        _set_fonts(run._r.get_or_add_rPr(), PAGE_NUMBER_PT)
    section.first_page_header.is_linked_to_previous = False


def _table(doc: Docx, header: list[str], rows: list[list[str]]) -> None:
    """The card's table, fixed to the text width: 13 pt when its words fit the upright page, else 12 pt,
    else 13 pt on a page of its own across the sheet (I.2), followed by the upright pages again. Header row
    bold and repeated on every page, rows not split across pages."""
    from docx.enum.section import WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    short, long = PAGE_MM
    upright = short - MARGINS_MM["left"] - MARGINS_MM["right"]
    across = long - MARGINS_MM["left"] - MARGINS_MM["right"]
    landscape = False
    pt, widths = next(((pt, w) for pt in TABLE_PT if (w := column_widths(header, rows, pt, upright))), (TABLE_PT[0], None))
    if widths is None:
        landscape = True
        pt, widths = next(((pt, w) for pt in TABLE_PT if (w := column_widths(header, rows, pt, across))),
                          (TABLE_PT[-1], [across / len(header)] * len(header)))  # words longer than a line: Word breaks them
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        _page(section, landscape=True)
        section.different_first_page_header_footer = False  # the number shows on this page (never page 1)
    twips = [int(Mm(w).twips) for w in widths]  # rounded down: the sum never passes the text width
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed: Word and LibreOffice keep the widths whatever the content
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:w"), str(sum(twips)))
    tbl_w.set(qn("w:type"), "dxa")
    margins = OxmlElement("w:tblCellMar")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(Mm(CELL_PAD_MM).twips) if side in ("left", "right") else 0))
        el.set(qn("w:type"), "dxa")
        margins.append(el)
    tbl_pr.find(qn("w:tblLayout")).addnext(margins)  # the schema's order (tblLayout, tblCellMar, tblLook): Word and LibreOffice ignore it elsewhere
    for col, w in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), twips, strict=True):
        col.set(qn("w:w"), str(w))
    for row_cells in [header, *rows]:
        cells = table.rows[0].cells if row_cells is header else table.add_row().cells
        for j, (cell, text) in enumerate(zip(cells, row_cells, strict=True)):
            cell.width = Mm(widths[j])
            cell._tc.get_or_add_tcPr().get_or_add_tcW().set(qn("w:w"), str(twips[j]))
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.first_line_indent = 0
            p.paragraph_format.space_after = Pt(0)
            run = p.add_run(_nfc(text))
            run.bold = row_cells is header
            run.font.size = Pt(pt)
            _set_fonts(run._r.get_or_add_rPr(), pt)
    for i, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if i == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))
    if landscape:
        _page(doc.add_section(WD_SECTION.NEW_PAGE))
        doc.sections[-1].different_first_page_header_footer = False


def _nfc(text: str) -> str:
    """Vietnamese letters precomposed (NFC): a base letter followed by combining marks can render its marks
    misplaced in Times New Roman and in some PDF viewers."""
    return unicodedata.normalize("NFC", text)


def _properties(doc: Docx, card: Card, lang: str) -> None:
    """The file's own properties: the card's title, the project as author, the card's language and the
    time of writing (the template carries python-docx's 2013-12-23 and author 'python-docx')."""
    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)  # python-docx writes it as given, with "Z"
    props = doc.core_properties
    props.title = _nfc(title_text(card, lang))
    props.subject = f"{card.index} {card.year}"
    props.author = props.last_modified_by = CREATOR
    props.language = LANGUAGE[lang]
    props.comments = ""
    props.keywords = ""
    props.created = props.modified = now
    props.revision = 1


def write_docx(card: Card, path: Path | str, lang: str = "vi", png: bytes | Path | None = None, chart: bool = True) -> Path:
    """Write the card to `path` (.docx), laid out as Decree 30/2020/NĐ-CP asks of an administrative document
    (A4, its margins, Times New Roman 13-14, black headings, page numbers from page 2), so that a provincial
    office can put it in a báo cáo unchanged. `png`: the chart already drawn (bytes or a file), else it is
    drawn here when `chart` is true."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Mm, Pt

    t = TEXT[lang]
    doc = Document()
    _styles(doc, lang)
    _page(doc.sections[0])
    _page_numbers(doc.sections[0])
    _properties(doc, card, lang)
    doc.add_heading(_nfc(title_text(card, lang)), level=1)
    indent = Cm(FIRST_LINE_CM)
    for sentence in paragraphs(card, lang):
        doc.add_paragraph(_nfc(plain(sentence))).paragraph_format.first_line_indent = indent
    if records(card):
        _table(doc, *table_cells(card, lang))
    for i, note in enumerate(footnotes(card, lang)):
        p = doc.add_paragraph()
        p.paragraph_format.first_line_indent = indent
        if i == 0:
            p.paragraph_format.space_before = Pt(SPACE_AFTER_PT)  # apart from the table's last row
        p.add_run(_nfc(plain(note))).italic = True
    image = png.read_bytes() if isinstance(png, Path) else png
    if image is None and chart:
        image = chart_png(card, lang)
    if image:
        text_mm = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]
        doc.add_picture(io.BytesIO(compact_png(image)), width=Mm(min(160.0, text_mm)))
        doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER  # no first-line indent: the chart keeps the margin
    doc.add_heading(_nfc(t["other"]), level=2)
    lines = other_lines(card, lang)
    for line in lines:  # flush left: a justified line before a long web address would open wide gaps
        doc.add_paragraph(_nfc(plain(line)), style="List Bullet").alignment = WD_ALIGN_PARAGRAPH.LEFT
    if not lines:
        doc.add_paragraph(_nfc(t["none"].format(year=card.year))).paragraph_format.first_line_indent = indent
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
