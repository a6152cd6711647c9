"""Each province page links the Word file in its own language when the run made the card in both."""

from __future__ import annotations

import json

from analysis.site import _link_docx, docx_name


def test_page_links_the_card_in_its_own_language(tmp_path):
    run, site = tmp_path / "run", tmp_path / "site"
    (site / "provinces" / "docx").mkdir(parents=True)
    notebooks = []
    for lang in ("vi", "en"):
        out = run / f"card-74-{lang}"
        out.mkdir(parents=True)
        (out / "card.docx").write_bytes(lang.encode())
        (out / "results.json").write_text(json.dumps({"index": "PAPI", "year": 2024, "language": lang, "province_code": "74"}))
        notebooks.append({"name": out.name, "notebook": "06_report_card.ipynb", "status": "ok"})
        placeholder = '<p class="docx" id="docx-PAPI-2024">make it with a command</p>'
        (site / "provinces" / f"74-{lang}.html").write_text(f"<html>{placeholder}</html>", encoding="utf-8")
    assert _link_docx(run, {"notebooks": notebooks}, site) == 2
    for lang in ("vi", "en"):
        page = (site / "provinces" / f"74-{lang}.html").read_text(encoding="utf-8")
        assert f'href="docx/{docx_name("74", "PAPI", 2024, lang)}"' in page, (lang, page)
        assert page.count('class="docx"') == 1
