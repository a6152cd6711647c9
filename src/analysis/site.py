"""The report site of a run: `reports/runs/<run-id>/site/`, static and self-contained (opens from disk, no
server, no CDN, no web fonts). Home page in Vietnamese (index.html) and English (index-en.html) with run
status, data version and sources; one page per province in each language with every report card of every
year (PAPI, and PAR INDEX / SIPAS where reported), their Word files, charts, every index's series and a data
download; the analysis notebooks as pages with inputs hidden, every table with its full CSV and every figure
with its data as CSV. Numbers and labels follow the page's language (`analysis.i18n`).

Named pieces other sections add to: `PAGE_TEXT` / `HOME_TEXT` (texts per language), the province template's
blocks `cards` and `series`, the home template's block `sources` (fed by `sources` in `finish_site`), the
base template's block `footer`."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import paths
from .citation import cite
from .docx_card import write_docx
from .errors import DataError
from .i18n import (
    fmt_date,
    fmt_number,
    fmt_rank,
    index_short,
    index_title,
    join,
    relabel,
    reliability,
    vi_sort_key,
)
from .manifest import load_manifest
from .panel import load_build_info, load_panel, load_table
from .panel.build import project_sources
from .panel.codebook import INDEX_LABELS, PUBLISHED_RELIABILITY, index_info, label, parts
from .panel.codebook import publisher as codebook_publisher
from .panel.io import write_csv
from .panel.vintage import in_34, in_63
from .registry import normalize_name
from .report_card import (
    INDEX_ORDER,
    TEXT,
    Card,
    all_cards,
    footnotes,
    other_lines,
    paragraphs,
    plain,
    records,
    table_cells,
    title_text,
)
from .runner.offline import EXTERNAL as _EXTERNAL

ASSETS = Path(__file__).parent / "site_assets"
CARD_INDICES = ("PAPI", "PAR_INDEX", "SIPAS")  # the indices a province page offers report cards of, every year
HEADLINE = [
    ("01_data_overview", "coverage_index_year", "Số tỉnh có giá trị chính của từng chỉ số, theo năm",
     "Coverage: provinces with a headline value, by index and year"),
    ("03_trends", "distribution_by_year", "Tổng điểm PAPI: phân bố giữa các tỉnh theo năm (đánh dấu thay đổi phương pháp năm 2018)",
     "PAPI total: distribution over provinces by year (2018 method change marked)"),
    ("07_maps", "choropleth", "Tổng điểm PAPI trên bản đồ 63 tỉnh và 34 tỉnh từ năm 2025", "PAPI total on the 63 provinces and the 34 provinces of 2025"),
    ("08_validation", "agreement_by_family", "Mức khớp giữa các nguồn số liệu", "Agreement between sources"),
    ("09_online_services_2025", "scatter_mdhl", "Chỉ số phục vụ theo Quyết định 766 năm 2025, 34 tỉnh: các thành phần trực tuyến và mức độ hài lòng",
     "Decision 766 index 2025, 34 provinces: online measures against satisfaction"),
]
ANALYSIS_TITLES = {  # the analyses by name; their pages are in English (the notebooks' language)
    "01_data_overview": ("Tổng quan dữ liệu: độ phủ, năm thiếu, thay đổi phương pháp", "Data overview: coverage, gaps, method changes"),
    "02_correlation": ("Tương quan giữa chính quyền điện tử và kết quả hành chính", "Correlation: e-government and administrative outcomes"),
    "03_trends": ("Xu hướng PAPI theo tỉnh", "PAPI trends by province"),
    "03_trends-pci": ("Xu hướng PCI theo tỉnh", "PCI trends by province"),
    "04_panel_models": ("Mô hình dữ liệu bảng (tác động cố định)", "Panel models (fixed effects)"),
    "05_online_services": ("Dịch vụ công trực tuyến và Nghị định 45/2020", "Online public services and Decree 45/2020"),
    "07_maps": ("Bản đồ", "Maps"),
    "08_validation": ("Kiểm chứng các nguồn số liệu", "Validation of the sources"),
    "09_online_services_2025": ("Chỉ số 766 năm 2025: dịch vụ trực tuyến và mức độ hài lòng",
                                "The 766 index of 2025: online services and satisfaction"),
    "10_online_services_trends": ("Dịch vụ trực tuyến qua các năm và kết quả hành chính (bản tiếng Anh)",
                                  "Online services over time and administrative outcomes"),
    "10_online_services_trends-vi": ("Dịch vụ trực tuyến qua các năm và kết quả hành chính",
                                     "Online services over time and administrative outcomes (in Vietnamese)"),
}
ANSWER_NOTEBOOK = "10_online_services_trends.ipynb"  # the notebook whose results.json holds the home pages' answer box
# Every text of the province pages and the footer, per language (one named piece other page sections add to).
PAGE_TEXT = {
    "vi": {"region": "Vùng", "code": "Mã GSO", "successor": "Từ 07/2025 thuộc",
           "successor_head": "Từ 07/2025 thuộc {name}: {index} năm {year} của {name}",
           "successor_note": "Các giá trị dưới đây là của {name} (mã 2025: {code}), tỉnh, thành phố hợp nhất từ {merged}; không phải của riêng {province} (mã {old} trong 63 tỉnh). {when}",
           "successor_same": "Các giá trị dưới đây là của {name} (mã 2025: {code}), có cùng địa giới với {province} (mã {old} trong 63 tỉnh). {when}",
           "successor_when": "Lũy kế đến ngày chốt {date}.", "max": "Tối đa", "download": "Tải dữ liệu của tỉnh (CSV)",
           "cards": "Thẻ báo cáo", "cards_intro": "Chọn chỉ số và năm; mỗi thẻ có bản Word (DOCX) để dùng trong báo cáo.",
           "no_card": "Không có điểm công bố cho tỉnh này.", "series": "Chuỗi số liệu các chỉ số",
           "year": "Năm", "indicator": "Chỉ tiêu", "value": "Giá trị", "rank": "Hạng", "source": "Nguồn", "data_csv": "dữ liệu (CSV)",
           "dims": "Các nội dung PAPI {year}: tỉnh, vùng và cả nước", "ranks": "Thứ hạng PAPI qua các năm (1 = cao nhất)",
           "other": "English", "country": "Cả nước", "points": "điểm", "rank_of": "thứ {rank}", "reported": "số liệu trích dẫn",
           "docx": "Tải thẻ (Word, DOCX)", "docx_lang": "", "docx_cmd": "Bản Word của thẻ này: tạo bằng lệnh",
           "home": "Trang chủ",
           "footer": "Số liệu trong lần chạy này:", "footer_link": "nguồn liệt kê tại trang chủ",
           "built": "Tạo bởi vngov-indices từ phiên bản dữ liệu"},
    "en": {"region": "Region", "code": "GSO code", "successor": "From 07/2025 part of",
           "successor_head": "From 07/2025 part of {name}: {index} {year} of {name}",
           "successor_note": "The values below are {name}'s (2025 code {code}), the province merged from {merged}; not those of {province} (code {old} of the 63) alone. {when}",
           "successor_same": "The values below are {name}'s (2025 code {code}), with the same territory as {province} (code {old} of the 63). {when}",
           "successor_when": "Year to date at the cut-off {date}.", "max": "Maximum", "download": "Download the province's data (CSV)",
           "cards": "Report cards", "cards_intro": "Choose an index and a year; each card has a Word version (DOCX) for reports.",
           "no_card": "No published score for this province.", "series": "Series of every index",
           "year": "Year", "indicator": "Indicator", "value": "Value", "rank": "Rank", "source": "Source", "data_csv": "data (CSV)",
           "dims": "PAPI dimensions {year}: province, region and country", "ranks": "PAPI rank over the years (1 = best)",
           "other": "Tiếng Việt", "country": "Country", "points": "points", "rank_of": "rank {rank}", "reported": "reported",
           "docx": "Download the card (Word, DOCX)", "docx_lang": " (in Vietnamese)", "docx_cmd": "A Word version of this card: make it with",
           "home": "Home",
           "footer": "Data in this run:", "footer_link": "sources as listed on the home page",
           "built": "Built by vngov-indices from data version"},
}
HOME_TEXT = {
    "vi": {"title": "Các chỉ số quản trị cấp tỉnh của Việt Nam", "page": "index.html", "other_page": "index-en.html", "other": "English",
           "run": "Lần chạy", "run_status": "trạng thái", "run_ok": "{n_ok}/{n_total} notebook chạy thành công",
           "version": "Phiên bản dữ liệu", "version_note": "(sha256 của bảng dữ liệu), dữ liệu gốc",
           "find": "Tìm tỉnh, thành phố", "search_label": "Tỉnh, thành phố (viết có dấu hoặc không dấu)",
           "search_placeholder": "ví dụ: binh duong, TP HCM, Huế", "all": "Tất cả {n} tỉnh, thành phố",
           "headline": "Biểu đồ chính", "data_csv": "dữ liệu (CSV)", "analyses": "Các phân tích",
           "analyses_note": "Trang phân tích viết bằng tiếng Anh, trừ những trang ghi bằng tiếng Việt; bảng đầy đủ có tệp CSV kèm theo.",
           "notebook": "Phân tích", "status": "Trạng thái", "seconds": "Giây", "cards": "Thẻ báo cáo",
           "cards_text": "{ok}/{total} lần chạy thẻ báo cáo thành công{failed}. Trang mỗi tỉnh có thẻ PAPI của mọi năm có điểm công bố, "
                         "thẻ PAR INDEX và SIPAS khi có số liệu, và bản Word (DOCX).",
           "failed": "; không thành công: {names}", "sources": "Nguồn dữ liệu",
           "download": "Tải bảng dữ liệu:", "lang_page": "vi",
           "environment": "môi trường", "environment_note": "sha256 của", "environment_drift": "các gói đã cài khác với tệp này",
           "sources_note": "Nguồn của số liệu trong lần chạy này: mọi tệp có giá trị trong bảng dữ liệu hoặc trong một phép đối chiếu.",
           "user_tables": "Bảng riêng của nhà nghiên cứu trong lần chạy này", "user_rows": "đọc {rows} giá trị, {in_panel} giá trị trong bảng dữ liệu",
           "user_mapping": "đọc qua tệp ánh xạ", "reference": "Tệp tham chiếu (danh mục tỉnh, sáp nhập 2025, bản đồ ranh giới, dân số)",
           "unused": "Các mục trong danh mục nguồn không có giá trị nào trong lần chạy này (không ghi nguồn):",
           "answer": "Câu trả lời của lần chạy này", "answer_figure": "Chỉ số trực tuyến so với kết quả, theo từng năm: ρ Spearman và N trong tiêu đề mỗi ô",
           "answer_params": "Tính từ số liệu của lần chạy này: các năm {years}; {units}; {draws} lượt bootstrap hoang dã.",
           "units_all": "mọi đơn vị (kể cả các đơn vị được giả định là tỉnh cùng tên trước sáp nhập)",
           "units_certain": "chỉ các đơn vị chắc chắn (không sáp nhập)",
           "answer_more": "Toàn bộ phân tích (bảng, khoảng tin cậy, các thiết kế trong từng tỉnh)",
           "answer_missing": "Lần chạy này không có phân tích dịch vụ trực tuyến (notebook 10_online_services_trends) chạy thành công, nên chưa có câu trả lời từ số liệu. Chạy lệnh make reports để có câu trả lời.",
           "answer_failed": "Lần chạy không thành công:"},
    "en": {"title": "Vietnam provincial governance indices", "page": "index-en.html", "other_page": "index.html", "other": "Tiếng Việt",
           "run": "Run", "run_status": "status", "run_ok": "{n_ok} of {n_total} notebook runs succeeded",
           "version": "Data version", "version_note": "(sha256 of the panel), raw inputs",
           "find": "Find a province", "search_label": "Province (any spelling, with or without diacritics)",
           "search_placeholder": "e.g. binh duong, TP HCM, Huế", "all": "All {n} provinces",
           "headline": "Headline figures", "data_csv": "data (CSV)", "analyses": "Analyses",
           "analyses_note": "Every table of an analysis page has its full data as CSV.",
           "notebook": "Analysis", "status": "Status", "seconds": "Seconds", "cards": "Report cards",
           "cards_text": "{ok} of {total} report-card runs succeeded{failed}. Every province page carries the PAPI card of every year "
                         "with a published score, PAR INDEX and SIPAS cards where values exist, and Word versions (DOCX).",
           "failed": "; failed: {names}", "sources": "Data sources", "download": "Download the panel:", "lang_page": "en",
           "environment": "environment", "environment_note": "sha256 of", "environment_drift": "the installed packages differ from it",
           "sources_note": "The sources of this run's data: every file with a value in the panel or in a cross-source comparison.",
           "user_tables": "Researchers' own tables in this run", "user_rows": "{rows} values read, {in_panel} in the panel",
           "user_mapping": "read through", "reference": "Reference files (province registry, 2025 merger, boundaries, population)",
           "unused": "Manifest entries with no value in this run's data (not credited):",
           "answer": "What this run's data say", "answer_figure": "Online measure against outcome, per year: Spearman's ρ and N in each panel's title",
           "answer_params": "Computed from this run's data: years {years}; {units}; {draws} wild bootstrap draws.",
           "units_all": "all units (including those assumed to be the same-named pre-merger province)",
           "units_certain": "the certain (unmerged) units only",
           "answer_more": "The full analysis (tables, intervals, the within-province designs)",
           "answer_missing": "This run has no successful online-services analysis (notebook 10_online_services_trends), so there is no answer from the data yet. Run make reports for one.",
           "answer_failed": "Runs that failed:"},
}
_TAGS = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>|<[^>]+>)", re.S | re.I)
_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=\s]+)"')


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(ASSETS)), autoescape=select_autoescape(["html"]), trim_blocks=False)


def _script_json(data: Any) -> str:
    """JSON safe inside an HTML <script> element: <, > and & as \\u escapes, so no text can close the
    element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def svg_bars(d: pd.DataFrame, series: list[tuple[str, str, str]], title: str, lang: str) -> str:
    """Grouped horizontal bars, one group per dimension with its full name above it (no codes, names of any
    length fit), the value at the end of each bar in the language's number format. `series`: (column,
    colour, name) per bar; the legend is HTML beside the SVG (it wraps on a narrow screen)."""
    name_col = "label_vi" if lang == "vi" else "label_en"
    w, left, right, top, bar, name_h, gap = 640, 6, 52, 8, 9, 15, 9
    group = name_h + bar * len(series) + gap
    h = top + group * max(len(d), 1) + 24
    xmax = float(d["max"].max()) if len(d) else 10.0
    x = lambda v: left + (w - left - right) * (v / xmax)  # noqa: E731
    bottom = h - 20
    desc = "; ".join(f"{r[name_col]}: " + ", ".join(f"{name} {fmt_number(r[col], lang, 2)}" for col, _, name in series)
                     for r in d.to_dict("records"))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="t-bars d-bars">',
             f'<title id="t-bars">{html.escape(title)}</title>', f'<desc id="d-bars">{html.escape(desc)}</desc>']
    step = 2 if xmax <= 12 else 10 ** math.floor(math.log10(xmax))
    tick = 0.0
    while tick <= xmax + 1e-9:
        parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{bottom}" stroke="#e3e8eb"/>'
                     f'<text x="{x(tick):.1f}" y="{h - 6}" font-size="10" text-anchor="middle">{fmt_number(tick, lang, 0)}</text>')
        tick += step
    for i, r in enumerate(d.to_dict("records")):
        y0 = top + i * group
        parts.append(f'<text x="{left}" y="{y0 + 11}" font-size="12">{html.escape(str(r[name_col]))}</text>')
        for j, (col, colour, _) in enumerate(series):
            v = float(r[col])
            yb = y0 + name_h + j * bar
            parts.append(f'<rect x="{left}" y="{yb}" width="{x(v) - left:.1f}" height="{bar - 1}" fill="{colour}"/>'
                         f'<text x="{x(v) + 3:.1f}" y="{yb + bar - 1.5}" font-size="9">{fmt_number(v, lang, 2)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def svg_rank_line(hist: pd.DataFrame, title: str) -> str:
    """Rank over the years, 1 at the top; unpublished years leave a gap; the 2018 method change is marked."""
    w, h, left, bottom, top = 640, 220, 34, 26, 12
    years = list(range(int(hist["year"].min()), int(hist["year"].max()) + 1)) if len(hist) else []
    rmax = int(hist["rank_of"].max()) if len(hist) else 63
    x = lambda yr: left + (w - left - 16) * ((yr - years[0]) / max(len(years) - 1, 1))  # noqa: E731
    y = lambda r: top + (h - top - bottom) * ((r - 1) / max(rmax - 1, 1))  # noqa: E731
    by_year = dict(zip(hist["year"].astype(int), hist["rank"].astype(int), strict=True))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="t-rank d-rank">',
             f'<title id="t-rank">{html.escape(title)}</title>',
             '<desc id="d-rank">' + html.escape("; ".join(f"{yr}: {by_year[yr]}" for yr in years if yr in by_year)) + "</desc>"]
    for r in (1, 16, 32, 48, rmax):
        parts.append(f'<line x1="{left}" x2="{w - 10}" y1="{y(r):.1f}" y2="{y(r):.1f}" stroke="#e3e8eb"/>'
                     f'<text x="{left - 4}" y="{y(r) + 4:.1f}" font-size="10" text-anchor="end">{r}</text>')
    if years and years[0] < 2018 <= years[-1]:
        parts.append(f'<line x1="{x(2017.5):.1f}" x2="{x(2017.5):.1f}" y1="{top}" y2="{h - bottom}" stroke="#999" stroke-dasharray="4 3"/>')
    segment: list[str] = []
    for yr in years + [None]:
        if yr is not None and yr in by_year:
            segment.append(f"{x(yr):.1f},{y(by_year[yr]):.1f}")
            parts.append(f'<circle cx="{x(yr):.1f}" cy="{y(by_year[yr]):.1f}" r="3" fill="#1f6f8b"/>')
        elif segment:
            parts.append(f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1f6f8b" stroke-width="2"/>')
            segment = []
        if yr is not None:
            parts.append(f'<text x="{x(yr):.1f}" y="{h - 8}" font-size="10" text-anchor="middle">{yr}</text>')
    parts.append("</svg>")
    return "".join(parts)


def series_rows(panel: pd.DataFrame) -> pd.DataFrame:
    """The rows shown in the province pages' series tables, formatted once for all provinces in both
    languages: headline values and published ranks of every index, every reported value, and all
    online-service measures."""
    keep = ((panel["indicator"] == "total") | panel["indicator"].str.endswith("_rank") | (panel["index"] == "ONLINE_SERVICES")
            | ~panel["reliability"].isin(["official", "compiled"]))
    s = panel[keep].sort_values(["province_code", "index", "year", "date", "indicator"]).copy()
    pairs = {(i, k): label(i, k) for i, k in set(zip(s["index"], s["indicator"], strict=True))}
    s["label_vi"] = [pairs[(i, k)][0] for i, k in zip(s["index"], s["indicator"], strict=True)]
    s["label_en"] = [pairs[(i, k)][1] for i, k in zip(s["index"], s["indicator"], strict=True)]
    ranks = s["indicator"].str.endswith("_rank")
    theirs = ~s["reliability"].isin(PUBLISHED_RELIABILITY)  # a researcher's (or derived) rank is not "published"
    for lang, col in (("vi", "label_vi"), ("en", "label_en")):
        own = USER_RANK_LABEL[lang]
        s.loc[ranks & theirs, col] = s.loc[ranks & theirs, col].str.replace(PUBLISHED_RANK_PREFIX[lang], own, regex=False)
    # as a reader cites it: publisher and year, the page's address for a quoted value (no paths inside the mirror)
    keys = list(zip(s["source_id"], s["source_ref"], s["index"], s["year"], strict=True))
    cited = {(k, lang): cite(k[0], k[1], short=True, index=k[2], year=k[3], lang=lang) for k in set(keys) for lang in ("vi", "en")}
    for lang in ("vi", "en"):
        s[f"value_{lang}"] = [fmt_number(v, lang) for v in s["value"]]
        s[f"source_{lang}"] = [f"{cited[(k, lang)]} ({reliability(rel, lang)})" for k, rel in zip(keys, s["reliability"], strict=True)]
    s.loc[ranks, ["value_vi", "value_en"]] = ""  # a published rank is its rank, shown once in the rank column
    has_rank = s["rank"].notna() & s["rank_of"].notna()
    s["rank_text"] = ""
    s.loc[has_rank, "rank_text"] = s.loc[has_rank, "rank"].astype(int).astype(str) + "/" + s.loc[has_rank, "rank_of"].astype(int).astype(str)
    for lang in ("vi", "en"):  # the rank column too says whose rank it is
        s[f"rank_text_{lang}"] = s["rank_text"]
        mark = has_rank & theirs
        s.loc[mark, f"rank_text_{lang}"] = s.loc[mark, "rank_text"] + " (" + s.loc[mark, "reliability"].map(lambda r, lang=lang: reliability(r, lang)) + ")"
    return s


def _series(rows: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    out = []
    present = set(rows["index"])
    for index in [i for i in INDEX_ORDER if i in present] + sorted(present - set(INDEX_ORDER)):
        g = rows[rows["index"] == index]
        out.append({"index": index, "label": index_title(index, lang), "rows": [
            {"year": int(y), "date": d, "indicator": k, "indicator_label": lab, "value": v, "rank": r, "source": src}
            for y, d, k, lab, v, r, src in zip(g["year"], g["date"], g["indicator"], g[f"label_{lang}"], g[f"value_{lang}"],
                                               g[f"rank_text_{lang}"], g[f"source_{lang}"], strict=True)]})
    return out


def _card_summary(card: Card, lang: str) -> str:
    """One line naming a card in the year list: "PAPI 2020: 40,76/80 điểm, thứ 57/63"."""
    t, tot = PAGE_TEXT[lang], card.total
    parts = []
    if tot["value"] is not None:
        parts.append(f"{fmt_number(tot['value'], lang, 2)}/{fmt_number(tot['scale'] or 100, lang)} {t['points']}")
    if tot["rank"] is not None:
        parts.append(t["rank_of"].format(rank=fmt_rank(tot["rank"], tot["rank_of"])))
    if card.kind == "reported":
        parts.append(f"({t['reported']})")
    return f"{index_short(card.index) or card.index} {card.year}: {', '.join(parts)}".replace(", (", " (")


def docx_name(code: str, index: str, year: int, lang: str) -> str:
    """The site's name of a card's Word file (provinces/docx/<name>)."""
    return f"{code}-{index}-{year}-{lang}.docx"


def docx_command(card: Card, lang: str) -> str:
    """The documented command that writes a card's Word file (for the years the site carries no DOCX of)."""
    return (f"python -m analysis card --province {card.province_code} --year {card.year} --index {card.index} "
            f"--language {lang} --format docx")


def _cards_html(cards: list[Card], lang: str, charts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The card sections of a province page, newest first within each index: the first one open, each with
    its Word file (a placeholder the finished run replaces with a link when the file exists)."""
    out = []
    for i, card in enumerate(cards):
        cid = f"card-{card.index}-{card.year}"
        out.append({"id": cid, "index": card.index, "year": card.year, "summary": _card_summary(card, lang), "html": card_html(card, lang),
                    "open": i == 0, "docx_id": f"docx-{card.index}-{card.year}", "command": docx_command(card, "vi"),
                    "charts": charts if i == 0 else []})
    return out


def card_html(card: Card, lang: str) -> Markup:
    """The card as HTML: the same sentences, table and notes as its Markdown (`report_card.render`), put
    through the autoescaping card template (text from data is shown as typed), headings one level below
    the page's "report cards" heading."""
    header, rows = table_cells(card, lang) if records(card) else ([], [])
    t = TEXT[lang]
    return Markup(_card_template().render(
        title=title_text(card, lang), paragraphs=[plain(p) for p in paragraphs(card, lang)], header=header,
        rows=rows, notes=[plain(n) for n in footnotes(card, lang)], other=t["other"],
        others=[plain(o) for o in other_lines(card, lang)], none=t["none"].format(year=card.year)))


@lru_cache(maxsize=1)
def _card_template() -> Any:
    return _env().get_template("card.html")


def _cards_nav(cards: list[Card], lang: str) -> list[dict[str, Any]]:
    """The year selector: per index, its years (newest first) linking to their cards."""
    nav: dict[str, list[dict[str, Any]]] = {}
    for c in cards:
        nav.setdefault(c.index, []).append({"year": c.year, "id": f"card-{c.index}-{c.year}"})
    return [{"index": i, "label": index_short(i) or index_title(i, lang), "years": ys} for i, ys in nav.items()]


def _relabel_html(body: str) -> str:
    """Codes in the visible text of an analysis page replaced by their labels (tags, scripts and styles left
    alone); the page's CSVs keep the codes."""
    parts = _TAGS.split(body)
    for i in range(0, len(parts), 2):
        if parts[i].strip():
            parts[i] = html.escape(relabel(html.unescape(parts[i]), "en"), quote=False)
    return "".join(parts)


def _link_figures(body: str, figures: Path) -> str:
    """An embedded PNG that is one of the page's figure files becomes a link to that file: the page is not
    made twice as heavy by carrying every figure twice."""
    if not figures.exists():
        return body
    files = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in figures.glob("*.png")}

    def one(m: re.Match[str]) -> str:
        data = base64.b64decode(re.sub(r"\s+", "", m.group(1)))
        name = files.get(hashlib.sha256(data).hexdigest())
        return f'src="figures/{name}"' if name else m.group(0)

    return _PNG.sub(one, body)


def analysis_language(result: dict[str, Any]) -> str:
    """The language an analysis run was written in: its `language` parameter, English by default."""
    return "vi" if (result.get("parameters") or {}).get("language") == "vi" else "en"


def _analysis_page(run_dir: Path, result: dict[str, Any], site: Path, exporter: Any, common: dict[str, Any]) -> str | None:
    """An executed notebook as a page of the site: its outputs (inputs hidden) in the site's own page and
    style (nbconvert's `basic` template, not 280 KB of JupyterLab CSS per page), figures as the files beside
    it, codes in the text replaced by labels, its figures/ and tables/ (full tables as CSV) copied."""
    name = result["name"]
    nb_path = run_dir / name / f"{name}.ipynb"
    if not nb_path.exists():
        return None
    body, _ = exporter.from_filename(str(nb_path))
    body = _EXTERNAL.sub("", body)
    # analysis/<name>/index.html with figures/ and tables/ beside it: the figure and table links the notebook
    # printed ("figures/<name>.csv", "tables/<name>.csv") work unchanged
    dest = site / "analysis" / name
    dest.mkdir(parents=True, exist_ok=True)
    for folder in ("figures", "tables"):
        if (run_dir / name / folder).exists():
            shutil.copytree(run_dir / name / folder, dest / folder, dirs_exist_ok=True)
    body = _relabel_html(_link_figures(body, dest / "figures"))
    lang = analysis_language(result)
    titles = ANALYSIS_TITLES.get(name)
    title = (titles[0] if lang == "vi" else titles[1]) if titles else f'{name.replace("_", " ")}: analysis'
    alt = f"Biểu đồ của phân tích: {title}" if lang == "vi" else f"figure from {title}"
    body = re.sub(r'<img src="(data:image/png|figures/)', rf'<img alt="{html.escape(alt)}" src="\1', body)
    page = _env().get_template("analysis.html").render(**common, lang=lang, root="../../", title=title,
                                                       home=HOME_TEXT[lang]["page"], t=PAGE_TEXT[lang], body=Markup(body))
    (dest / "index.html").write_text(page, encoding="utf-8")
    return f"analysis/{name}/index.html"


def successor_blocks(panel: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """For each 2025 province (code of vintage gso-2025), its published 2025 values for the pages of the 63
    provinces it merged: per index, the headline (`total`) and its parts at the latest snapshot of the
    publisher's own rows (official, compiled). Never a 63-province value, never a derived one."""
    new = in_34(panel)
    new = new[new["reliability"].isin(["official", "compiled"]) & (new["province_code"] != "00")]
    out: dict[str, list[dict[str, Any]]] = {}
    for (code, index, year), g in new.groupby(["province_code", "index", "year"], sort=True):
        tot = g[g["indicator"] == "total"]
        if tot.empty:
            continue
        date = str(tot["date"].max())
        own = [*(["total"]), *(parts(index, "total", int(year)) or [])]
        snap = g[(g["date"] == date) & g["indicator"].isin(own)].set_index("indicator")
        rows = []
        for ind in own:
            if ind in snap.index:
                r = snap.loc[ind]
                vi, en = label(index, ind)
                rank = f"{int(r['rank'])}/{int(r['rank_of'])}" if pd.notna(r["rank"]) and pd.notna(r["rank_of"]) else ""
                rows.append({"indicator": ind, "label_vi": vi, "label_en": en, "value": float(r["value"]),
                             "max": float(r["scale_max"]) if pd.notna(r["scale_max"]) else None, "rank": rank,
                             "source": {lang: cite(r["source_id"], r["source_ref"], short=True, index=index, year=year, lang=lang)
                                        for lang in ("vi", "en")},
                             "reliability": str(r["reliability"])})
        vi, en = INDEX_LABELS.get(index, (index, index))
        out.setdefault(str(code), []).append({"index": index, "label_vi": vi, "label_en": en, "year": int(year), "date": date,
                                              "year_to_date": bool((index_info(index) or {}).get("year_to_date")), "rows": rows})
    return out


PUBLISHED_RANK_PREFIX = {"vi": "Thứ hạng công bố", "en": "Published rank"}  # codebook.label of a `*_rank` indicator
USER_RANK_LABEL = {"vi": "Thứ hạng không do cơ quan công bố đưa ra", "en": "Rank not given by the publisher"}
REPORTED_MARK = "*"  # an index with values quoted on official pages, in the press or in provincial reports
CREDIT_TEXT = {
    "vi": {"none": "chưa ghi nhà công bố", "reported": "kèm số liệu trích dẫn từ trang chính thức, báo chí và báo cáo của tỉnh",
           "user": "bảng của nhà nghiên cứu: {files}"},
    "en": {"none": "publisher not recorded", "reported": "with values quoted on official pages, in the press and in provincial reports",
           "user": "researcher's tables: {files}"},
}


def credits(panel: pd.DataFrame, lang: str = "en") -> list[str]:
    """Who the run's data comes from, for the footer of every page: per index in the panel, its publisher
    when the publisher's own values are in it, "quoted in the press" for reported values, and the file names
    of researchers' tables. A publisher whose values are not in the run is not credited."""
    c = CREDIT_TEXT[lang]
    out = []
    for index, g in panel.groupby("index", sort=False):
        rel = set(g["reliability"])
        who = []
        publisher = codebook_publisher(index, lang)
        if rel & {"official", "compiled"}:
            who.append(publisher or c["none"])
        if "reported" in rel and not who and publisher:  # only quoted: the publisher is still the one credited
            who.append(publisher)
        if "user" in rel:
            files = sorted({s.removeprefix("user:") for s in g.loc[g["reliability"] == "user", "source_id"]})
            who.append(c["user"].format(files=", ".join(files)))
        mark = REPORTED_MARK if "reported" in rel else ""  # said once, after the list, not once per index
        out.append((index, f"{index_short(index) or index_title(index, lang)}{mark} ({'; '.join(who) or c['none']})"))
    order = {k: i for i, k in enumerate(INDEX_ORDER)}
    texts = [text for _, text in sorted(out, key=lambda c: (order.get(c[0], len(order)), c[0]))]
    if any(REPORTED_MARK in text for text in texts):
        texts.append(f"{REPORTED_MARK} {c['reported']}")
    return texts


def used_sources(panel: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """The sources of this run's data: manifest and project entries with a value in the panel or in a
    comparison (crosschecks.csv), the researcher's tables (file, sha256, rows; from build_info.json), and the
    reference files every build uses (registry, boundaries, population)."""
    checks = load_table("crosschecks")
    ids = set(panel["source_id"]) | set(checks["kept_source_id"].dropna()) | set(checks["other_source_id"].dropna())
    entries = load_manifest() + project_sources()
    data = [{"id": s.id, "citation": s.citation, "licence": s.licence, "sha256": s.sha256}
            for s in entries if s.role == "indicator" and s.id in ids]
    reference = [{"id": s.id, "citation": s.citation, "licence": s.licence, "sha256": s.sha256}
                 for s in entries if s.role in ("crosswalk", "geometry")]
    user = [t | {"id": f"user:{t['file']}"} for t in load_build_info().get("user_tables", [])]
    unused = sorted(s.id for s in entries if s.role == "indicator" and s.id not in ids)
    return {"data": data, "user": user, "reference": reference, "unused": unused}


def start_site(run_dir: Path, run_id: str, data_sha256: str) -> float:
    """The part of the site that needs only the panel (assets, data, the 126 province pages with every card
    of every year). The runner starts it with the notebooks, on cores the notebook workers leave idle.
    Returns its seconds."""
    t0 = time.perf_counter()
    site = run_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    (site / "assets").mkdir(parents=True)
    (site / "provinces" / "docx").mkdir(parents=True)
    (site / "analysis").mkdir()
    (site / "data").mkdir()
    (site / "figures").mkdir()
    for f in ("site.css", "site.js"):
        shutil.copy(ASSETS / f, site / "assets" / f)
    for name in ("indicators.csv", "provinces.csv", "codebook.csv", "conflicts.csv"):
        src = paths.processed_dir() / name
        if not src.exists():
            raise DataError("processed data missing; run `make data`", file=src)
        shutil.copy(src, site / "data" / name)
    env = _env()
    full = load_panel()
    successors = successor_blocks(full)
    credits_by = {lang: credits(full, lang) for lang in ("vi", "en")}
    full = in_63(full)  # the 63 provinces' pages: their own coding only (2025 codes reuse old codes)
    # plain Python strings for the row-by-row work (iterating Arrow-backed strings is slow)
    panel = full.astype({c: object for c in full.columns if pd.api.types.is_string_dtype(full[c])})
    provinces = load_table("provinces")
    p63 = provinces[provinces["vintage"] == "gso-2008"].sort_values("province", key=lambda s: s.map(vi_sort_key))
    merged_into = {c: list(g["province"]) for c, g in p63.sort_values("province_code").groupby("code_2025")}
    cards_by: dict[str, list[Card]] = {}
    for index in CARD_INDICES:  # every year of every index, built once for all provinces
        cards = all_cards(panel, provinces, index)
        for (code, _), card in sorted(cards.items(), key=lambda kv: -kv[0][1]):
            cards_by.setdefault(code, []).append(card)
    rows_by = {k: g for k, g in panel.groupby("province_code")}
    series_by = {k: g for k, g in series_rows(panel).groupby("province_code")}
    tpl = env.get_template("province.html")
    for p in p63.itertuples():
        code = p.province_code
        rows = rows_by[code]
        write_csv(rows, site / "provinces" / f"{code}.csv")
        cards = cards_by.get(code, [])
        latest = next((c for c in cards if c.index == "PAPI"), None)
        if latest is not None:
            write_csv(latest.history, site / "provinces" / f"{code}-papi-rank.csv")
            write_csv(latest.dimensions, site / "provinces" / f"{code}-papi-dimensions-{latest.year}.csv")
        for card in {c.index: c for c in reversed(cards) if c.kind == "reported"}.values():  # each reported index's latest card
            write_docx(card, site / "provinces" / "docx" / docx_name(code, card.index, card.year, "vi"), "vi", chart=bool(records(card)))
        for lang in ("vi", "en"):
            t = PAGE_TEXT[lang]
            name = p.province if lang == "vi" else f"{p.province} ({p.province_en})"
            region = p.region if lang == "vi" else p.region_en
            charts = []
            if latest is not None and not latest.dimensions.empty:
                series = [("value", "#1f6f8b", p.province), ("region_mean", "#99c5d1", region), ("national_mean", "#b8b8b8", t["country"])]
                charts.append({"svg": Markup(svg_bars(latest.dimensions, series, t["dims"].format(year=latest.year), lang)),
                               "legend": [{"colour": c, "name": n} for _, c, n in series],
                               "caption": t["dims"].format(year=latest.year), "csv": f"{code}-papi-dimensions-{latest.year}.csv"})
            if latest is not None:
                charts.append({"svg": Markup(svg_rank_line(latest.history, t["ranks"])), "legend": [], "caption": t["ranks"],
                               "csv": f"{code}-papi-rank.csv"})
            other = "en" if lang == "vi" else "vi"
            merged = merged_into.get(p.code_2025, [])
            note = t["successor_same"] if len(merged) == 1 else t["successor_note"]
            succ = [{"head": t["successor_head"].format(name=p.name_2025, index=b[f"label_{lang}"], year=b["year"]),
                     "note": note.format(name=p.name_2025, code=p.code_2025, province=p.province, old=code, merged=join(merged),
                                         when=t["successor_when"].format(date=fmt_date(b["date"], lang)) if b["year_to_date"] else ""),
                     "index": b["index"],
                     "rows": [{"indicator": r["indicator"], "label": r[f"label_{lang}"], "value": fmt_number(r["value"], lang),
                               "max": fmt_number(r["max"], lang), "rank": r["rank"],
                              "source": f"{r['source'][lang]} ({reliability(r['reliability'], lang)})"} for r in b["rows"]]}
                    for b in successors.get(str(p.code_2025), [])]
            page = tpl.render(run_id=run_id, data_version=data_sha256[:12], credits=credits_by[lang], lang=lang, root="../", title=name,
                              name=name, code=code, region=region, successor=p.name_2025, successor_code=p.code_2025,
                              successor_blocks=succ, t=t, cards=_cards_html(cards, lang, charts), cards_nav=_cards_nav(cards, lang),
                              series=_series(series_by.get(code, rows.iloc[0:0]), lang), other_lang_page=f"{code}-{other}.html",
                              other_lang=other, other_lang_label=t["other"], home=HOME_TEXT[lang]["page"])
            (site / "provinces" / f"{code}-{lang}.html").write_text(page, encoding="utf-8")
    return round(time.perf_counter() - t0, 2)


def _link_docx(run_dir: Path, manifest: dict[str, Any], site: Path) -> int:
    """The Word files the card notebooks wrote, copied beside the province pages and linked from them (the
    pages were written before the notebooks finished; each card section holds a placeholder)."""
    docx = site / "provinces" / "docx"
    made: dict[str, set[tuple[str, int, str]]] = {}
    for r in manifest["notebooks"]:
        out = run_dir / r["name"]
        if not r["notebook"].startswith("06_") or r["status"] != "ok" or not (out / "card.docx").exists():
            continue
        res = json.loads((out / "results.json").read_text(encoding="utf-8"))
        key = (str(res["index"]), int(res["year"]), str(res.get("language", "vi")))
        shutil.copy(out / "card.docx", docx / docx_name(res["province_code"], *key))
        made.setdefault(res["province_code"], set()).add(key)
    for f in docx.glob("*.docx"):  # the reported cards' files the site wrote itself
        code, index, year, lang = f.stem.rsplit("-", 3)[0], *f.stem.rsplit("-", 3)[1:]
        made.setdefault(code, set()).add((index, int(year), lang))
    for code, keys in made.items():
        for lang in ("vi", "en"):
            page = site / "provinces" / f"{code}-{lang}.html"
            if not page.exists():
                continue
            text = page.read_text(encoding="utf-8")
            best: dict[tuple[str, int], str] = {}
            for index, year, file_lang in sorted(keys, key=lambda k: k[2] != lang):  # the page's language wins
                best.setdefault((index, year), file_lang)
            for (index, year), file_lang in best.items():
                t = PAGE_TEXT[lang]
                note = "" if file_lang == lang else (t["docx_lang"] if file_lang == "vi" else " (English)")
                link = (f'<p class="docx" id="docx-{index}-{year}"><a href="docx/{docx_name(code, index, year, file_lang)}" '
                        f'download>{html.escape(t["docx"])}</a>{html.escape(note)}</p>')
                text = re.sub(rf'<p class="docx" id="docx-{re.escape(index)}-{year}">.*?</p>', lambda _m, link=link: link, text, count=1,
                              flags=re.S)
            page.write_text(text, encoding="utf-8")
    return sum(len(k) for k in made.values())


def answer_box(run_dir: Path, manifest: dict[str, Any], site: Path, pages: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The home pages' first screen, per language: the question and the answer as notebook 10 wrote it in this
    run (`up_front` of its results.json: sentences computed from the run's own numbers and parameters, never
    fixed text), its summary figure in that language where the run made one, the parameters the answer rests
    on and a link to the full analysis. When the run has no successful notebook 10, the box says so instead."""
    runs = [r for r in manifest["notebooks"] if r["notebook"] == ANSWER_NOTEBOOK]
    ok = [r for r in runs if r["status"] == "ok" and (run_dir / r["name"] / "results.json").exists()]
    out: dict[str, dict[str, Any]] = {}
    for lang in ("vi", "en"):
        mine = sorted(ok, key=lambda r: (r["parameters"] or {}).get("language", "en") != lang)
        if not mine:
            out[lang] = {"missing": True, "failed": [r["name"] for r in runs]}
            continue
        chosen = mine[0]
        res = json.loads((run_dir / chosen["name"] / "results.json").read_text(encoding="utf-8"))
        text = res["up_front"][lang]
        box = {"missing": False, "question": text["question"], "sentences": text["sentences"], "untestable": text["untestable"],
               "pointer": text["pointer"], "page": pages.get(chosen["name"]), "parameters": res["parameters"]}
        png = run_dir / chosen["name"] / "figures" / "summary.png"
        if png.exists():
            for suffix in (".png", ".csv"):
                if png.with_suffix(suffix).exists():
                    shutil.copy(png.with_suffix(suffix), site / "figures" / f"answer-{lang}{suffix}")
            box |= {"png": f"figures/answer-{lang}.png", "csv": f"figures/answer-{lang}.csv"}
        out[lang] = box
    return out


def _answer_params(box: dict[str, Any], lang: str) -> str:
    """The parameters the answer box rests on, in words: years, units and the bootstrap draws."""
    if box.get("missing"):
        return ""
    p = box["parameters"]
    units = HOME_TEXT[lang]["units_" + ("certain" if p.get("units") == "certain" else "all")]
    return HOME_TEXT[lang]["answer_params"].format(years=", ".join(str(y) for y in p.get("years", [])), units=units,
                                                    draws=fmt_number(p.get("draws", 0), lang, 0))


def finish_site(run_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The part that needs the finished run: analysis pages, the cards' Word files, headline figures and
    the home page in Vietnamese (index.html) and English (index-en.html)."""
    from nbconvert import HTMLExporter

    t0 = time.perf_counter()
    site = run_dir / "site"
    env = _env()
    panel = load_panel()
    provinces = load_table("provinces")
    p63 = provinces[provinces["vintage"] == "gso-2008"].sort_values("province", key=lambda s: s.map(vi_sort_key))
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            embed_images=True)
    common = {"run_id": manifest["run_id"], "data_version": manifest["data"]["indicators_sha256"][:12]}
    analyses = []
    cards = [r for r in manifest["notebooks"] if r["notebook"].startswith("06_")]
    for r in manifest["notebooks"]:
        if r in cards:
            continue
        page = _analysis_page(run_dir, r, site, exporter, common) if r["status"] == "ok" else None
        analyses.append({"name": r["name"], "status": r["status"], "duration": r.get("duration_s"), "page": page, "lang": analysis_language(r),
                         "titles": ANALYSIS_TITLES.get(r["name"], (r["name"], r["name"]))})
    n_docx = _link_docx(run_dir, manifest, site)
    answers = answer_box(run_dir, manifest, site, {a["name"]: a["page"] for a in analyses if a["page"]})
    headline = []
    for nb, fig, caption_vi, caption_en in HEADLINE:
        png = run_dir / nb / "figures" / f"{fig}.png"
        if png.exists():
            for suffix in (".png", ".csv"):
                if png.with_suffix(suffix).exists():
                    shutil.copy(png.with_suffix(suffix), site / "figures" / f"{nb}-{fig}{suffix}")
            item = {"png": f"figures/{nb}-{fig}.png", "csv": f"figures/{nb}-{fig}.csv", "vi": caption_vi, "en": caption_en}
            vi_png = run_dir / f"{nb}-vi" / "figures" / f"{fig}.png"  # a Vietnamese version of the figure, where the run made one
            if vi_png.exists():
                for suffix in (".png", ".csv"):
                    if vi_png.with_suffix(suffix).exists():
                        shutil.copy(vi_png.with_suffix(suffix), site / "figures" / f"{nb}-vi-{fig}{suffix}")
                item |= {"png_vi": f"figures/{nb}-vi-{fig}.png", "csv_vi": f"figures/{nb}-vi-{fig}.csv"}
            headline.append(item)
    search = [{"code": p.province_code, "name": p.province, "keys": sorted({normalize_name(a) for a in
               [p.province, p.province_ascii, p.province_en, p.full_name, *str(p.aliases).split("|")] if a and str(a) != "nan"})}
              for p in p63.itertuples()]
    sources = used_sources(panel)
    ok = [r for r in manifest["notebooks"] if r["status"] == "ok"]
    for lang in ("vi", "en"):
        h = HOME_TEXT[lang]
        failed = [r["name"] for r in cards if r["status"] != "ok"]
        page = env.get_template("index.html").render(
            **common, credits=credits(panel, lang), lang=lang, root="", title=h["title"], environment=manifest.get("environment"),
            h=h, t=PAGE_TEXT[lang], home=h["page"], run_date=manifest["run_id"][:8], status=manifest["status"],
            run_ok=h["run_ok"].format(n_ok=len(ok), n_total=len(manifest["notebooks"])),
            raw_fingerprint=manifest["data"]["raw_fingerprint"],
            provinces=[{"code": p.province_code, "name": p.province} for p in p63.itertuples()],
            search_index=Markup(_script_json(search)), headline=headline, analyses=analyses, answer=answers[lang],
            answer_params=_answer_params(answers[lang], lang),
            duration=lambda v, lang=lang: fmt_number(v, lang, 1),
            cards_text=h["cards_text"].format(ok=sum(r["status"] == "ok" for r in cards), total=len(cards),
                                              failed=h["failed"].format(names=join(failed)) if failed else ""),
            sources=sources)
        (site / h["page"]).write_text(page, encoding="utf-8")
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    return {"finish_seconds": round(time.perf_counter() - t0, 2), "bytes": size, "pages": len(list(site.rglob("*.html"))),
            "docx": n_docx}
