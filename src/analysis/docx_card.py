"""A report card as a Word document (python-docx) that a provincial office pastes into its báo cáo: the
card's text, its table, its notes, the other indices and its charts, in Times New Roman as Vietnamese
administrative documents use (Decree 30/2020/NĐ-CP), with numbers as `analysis.i18n` writes them.

The text is the same as the Markdown card (`report_card`): the same sentences, table cells and notes,
without Markdown escapes."""

from __future__ import annotations

import io
from pathlib import Path

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

FONT = "Times New Roman"
CHART_DPI = 90  # a 10 x 4.6 inch chart: 900 x 414 px, sharp at 16 cm and small in the file


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


def write_docx(card: Card, path: Path | str, lang: str = "vi", png: bytes | Path | None = None, chart: bool = True) -> Path:
    """Write the card to `path` (.docx). `png`: the chart already drawn (bytes or a file), else it is drawn
    here when `chart` is true."""
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    t = TEXT[lang]
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(13)
    for name in ("Heading 1", "Heading 2", "Title"):
        doc.styles[name].font.name = FONT
    section = doc.sections[0]
    section.left_margin, section.right_margin = Cm(3), Cm(2)  # the margins of Decree 30/2020
    doc.core_properties.title = title_text(card, lang)
    doc.core_properties.author = "vngov-indices"
    doc.add_heading(title_text(card, lang), level=1)
    for sentence in paragraphs(card, lang):
        doc.add_paragraph(plain(sentence))
    if records(card):
        header, rows = table_cells(card, lang)
        table = doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
        for row in table.rows:  # a table of ten columns fits the page in a smaller size
            for cell in row.cells:
                for p in cell.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(9)
    for note in footnotes(card, lang):
        doc.add_paragraph().add_run(plain(note)).italic = True
    image = png.read_bytes() if isinstance(png, Path) else png
    if image is None and chart:
        image = chart_png(card, lang)
    if image:
        doc.add_picture(io.BytesIO(compact_png(image)), width=Cm(16))
    doc.add_heading(t["other"], level=2)
    lines = other_lines(card, lang)
    for line in lines:
        doc.add_paragraph(plain(line), style="List Bullet")
    if not lines:
        doc.add_paragraph(t["none"].format(year=card.year))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
