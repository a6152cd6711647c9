"""Sources as a reader cites them.

Rows carry where their value was read (`source_ref`): a file inside the mirror ("PCI 2019.xlsx[sheet 1]",
"articles/002_567fb38a445ee9fd.txt", a cross-check note), which a reader of a card or page cannot find or cite.
What a reader is shown instead is the source's citation from the manifest (publisher, year, title, address),
and, for a value quoted from a web page, that page's address."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1)
def _citations() -> dict[str, str]:
    from .manifest import load_manifest
    from .panel.build import project_sources

    return {s.id: s.citation for s in [*load_manifest(), *project_sources()]}


def _url(ref: str) -> str:
    m = re.search(r"https?://\S+", ref)
    return m.group().rstrip(").,;") if m else ""


ARTICLES = {  # the five provincial reports transcribed in data/reported/articles.csv (no address was kept with them)
    "000_9680da4873b20577": "Báo cáo tại cuộc họp của UBND tỉnh Bình Dương về kết quả PAPI 2020, 26/10/2021",
    "001_adb6e67c472372b3": "Bài viết về kết quả Chỉ số cải cách hành chính (PAR INDEX) 2022 của tỉnh Bắc Kạn",
    "002_567fb38a445ee9fd": "Bài viết tổng kết mười năm cải cách hành chính của tỉnh Bình Phước, 22/6/2021",
    "003_ec052904d3bd8b24": "Bài viết về hồ sơ trực tuyến của tỉnh Bình Phước sau Nghị định 45/2020/NĐ-CP, 31/8/2020",
    "004_469ec51c1b46772e": "Kết luận về PAR INDEX, SIPAS và PAPI 2021 của tỉnh Bình Thuận",
}
AUTHORS_VI = {  # authors as a Vietnamese reader names them, at the head of a citation (titles stay as published)
    "Ministry of Information and Communications": "Bộ Thông tin và Truyền thông",
    "Ministry of Home Affairs": "Bộ Nội vụ",
    "General Statistics Office of Viet Nam": "Tổng cục Thống kê",
    "CECODES, VFF-CRT, RTA and UNDP": "CECODES, VFF-CRT, RTA và UNDP",
    "VCCI and USAID": "VCCI và USAID",
}
OFFICIAL = {"PAPI": "papi_official_{year}", "PCI": "pci_official_{year}"}  # the publication a quoted PAPI/PCI figure is from


def cite(source_id: object, source_ref: object = "", short: bool = False, index: str = "", year: object = None,
         lang: str = "en") -> str:
    """How a reader cites the source of a row: the manifest's citation of `source_id` (with `short`, its author
    and year only: "VCCI and USAID (2019)"), followed by the address in `source_ref` when there is one; a page a
    value was quoted from is cited by its address; a figure transcribed from a provincial report by the report;
    a published PAPI or PCI figure quoted in notes (with `index` and `year`) by the publication it is from. A
    researcher's own table is named by its file. Internal paths of the mirror are never shown. With `lang="vi"`
    the author is named in Vietnamese (Bộ Nội vụ, not Ministry of Home Affairs)."""
    sid, ref = str(source_id or ""), str(source_ref or "")
    url = _url(ref)
    if sid.startswith("user:"):
        return sid.removeprefix("user:")
    if sid == "articles" and (m := re.search(r"(\d{3}_[0-9a-f]{16})", ref)) and m.group(1) in ARTICLES:
        return ARTICLES[m.group(1)]
    if sid == "press_papi_pci" and index in OFFICIAL and year is not None:
        sid = OFFICIAL[index].format(year=int(year)) if OFFICIAL[index].format(year=int(year)) in _citations() else sid
    text = _citations().get(sid, "")
    if not text or "see source_url" in text:  # a collection of quoted pages: each row's page is its source
        return url or text or sid
    m = re.match(r"^(.*?\(\d{4}(?:[-–]\d{4})?\))\.?\s*(.*)$", text)
    if short:
        text = m.group(1) if m else text.split(". ")[0]
    elif m:  # author (year). Title. Address: a mirror's transcription notes after them are for the manifest, not a reader
        title = re.split(r"(?<=[^A-Z\s])\.\s", m.group(2), maxsplit=1)[0].rstrip(".")
        address = _url(m.group(2))
        text = f"{m.group(1)}. {title}." + (f" {address}" if address and address not in title else "")
    if lang == "vi":
        for en, vi in AUTHORS_VI.items():
            if text.startswith(en):
                text = vi + text[len(en):]
                break
    return f"{text} {url}".strip() if url and url not in text else text
