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
    assert "Đạt 79,35/100 điểm, xếp thứ 61/63" in text
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
