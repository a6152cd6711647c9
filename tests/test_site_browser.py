"""The report site of a real run, in headless Chromium (Debian's `chromium`, installed by .ci/run or
`make browser`): search "binh duong" from the home page, open the province page, find its 2020 PAPI total
and rank; no page requests anything outside the site; figures have alt text; headings are in order.
Issue 11: Vietnamese pages write 40,76; no page shows a raw indicator code; every year's card is reachable
by clicks (Bình Dương 2020, Bắc Kạn's PAR INDEX 2022) with its Word file; the home page exists in both
languages; every analysis table has its full CSV; chart legends do not overlap on a phone."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.runner.config import load_config
from analysis.runner.run import execute

CHROMIUM = shutil.which("chromium")  # the system's Chromium; None: Playwright's own (`make browser` installs it, no root)
ANSWER_PARAMS = {"years": [2023, 2024], "draws": 199}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("siterun")
    mp = pytest.MonkeyPatch()
    mp.setenv("VNGOV_REPORTS_DIR", str(tmp / "reports"))
    cfg = tmp / "site.yaml"
    cfg.write_text(yaml.safe_dump({"runs": [
        {"notebook": str(paths.project_root() / "notebooks" / "01_data_overview.ipynb")},
        {"notebook": str(paths.project_root() / "notebooks" / "02_correlation.ipynb")},
        {"notebook": str(paths.project_root() / "notebooks" / "08_validation.ipynb")},
        {"notebook": str(paths.project_root() / "notebooks" / "07_maps.ipynb")},
        {"notebook": str(paths.project_root() / "notebooks" / "07_maps.ipynb"), "name": "07_maps-vi", "parameters": {"language": "vi"}},
        {"notebook": str(paths.project_root() / "notebooks" / "06_report_card.ipynb"), "name": "card-74-vi",
         "parameters": {"province": "binh duong", "year": 2020}},
        # the answer box, from other years than the default (the prose must follow them) and few draws (time)
        {"notebook": str(paths.project_root() / "notebooks" / "10_online_services_trends.ipynb"), "parameters": ANSWER_PARAMS},
        {"notebook": str(paths.project_root() / "notebooks" / "10_online_services_trends.ipynb"), "name": "10_online_services_trends-vi",
         "parameters": ANSWER_PARAMS | {"language": "vi"}},
    ]}))
    run_dir, manifest = execute(load_config(cfg), progress=False)
    mp.undo()
    assert manifest["status"] == "ok", manifest["notebooks"]
    assert (tmp / "reports" / "latest" / "site" / "index.html").exists()
    return tmp / "reports" / "latest" / "site"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except Error as exc:
            pytest.fail(f"no Chromium that starts: `make browser` installs Playwright's own without root when no `chromium` "
                        f"is on PATH, and says which system libraries it needs ({str(exc).splitlines()[0]})")
        yield b
        b.close()


def test_search_click_province_shows_2020_papi(site, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((site / "index.html").as_uri())
    page.fill("#search", "binh duong")
    page.wait_for_selector("#results a.hit")
    page.click("#results a.hit >> nth=0")
    page.wait_for_load_state()
    assert page.url.endswith("provinces/74-vi.html")
    assert page.locator("h1").inner_text() == "Bình Dương"
    row = page.locator('tr[data-index="PAPI"][data-year="2020"][data-indicator="total"]')
    assert "40,76" in row.inner_text() and "57/63" in row.inner_text()  # Vietnamese decimal comma
    shots = paths.project_root() / "reports"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / "site-province-74.png"), full_page=True)
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert outside == []


def test_diacritic_search_and_english_page(site, browser):
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    page.fill("#search", "Thừa Thiên Huế")
    page.wait_for_selector("#results a.hit")
    assert "Thừa Thiên Huế" in page.locator("#results").inner_text()
    page.fill("#search", "tp hcm")
    page.wait_for_selector("#results a.hit")
    assert "Hồ Chí Minh" in page.locator("#results a.hit >> nth=0").inner_text()


def test_no_page_requests_outside_the_site_and_pages_are_accessible(site, browser):
    pages = [site / "index.html", site / "provinces" / "74-en.html", *sorted((site / "analysis").glob("*/index.html"))]
    assert len(pages) >= 4
    for path in pages:
        page = browser.new_page(viewport={"width": 375, "height": 800})
        requests: list[str] = []
        page.on("request", lambda r, requests=requests: requests.append(r.url))
        page.goto(path.as_uri())
        page.wait_for_load_state()
        outside = [u for u in requests if not u.startswith(("file://", "data:"))]
        assert outside == [], f"{path.name} requests {outside[:3]}"
        assert page.locator("img:not([alt])").count() == 0, f"{path.name}: image without alt text"
        levels = [int(t[1]) for t in page.eval_on_selector_all("h1,h2,h3,h4,h5,h6", "els => els.map(e => e.tagName)")]
        assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), f"{path.name}: heading levels skip: {levels}"
        if "analysis" not in path.parts:  # the site's own pages fit a phone-width window
            assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, f"{path.name} scrolls sideways"
        page.close()


def test_every_figure_has_its_data(site):
    for png in site.rglob("figures/*.png"):
        assert png.with_suffix(".csv").exists(), f"{png} has no CSV next to it"
    for page in (site / "analysis").glob("*/index.html"):
        text = page.read_text(encoding="utf-8")
        figures = sorted(p.stem for p in (page.parent / "figures").glob("*.png"))
        assert figures, f"{page} has no figures"
        for name in figures:  # the link sits right under the figure, relative to the page
            assert f'href="figures/{name}.csv"' in text, f"{page}: no data link for {name}"
    for html in (site / "provinces").glob("*-vi.html"):
        text = html.read_text(encoding="utf-8")
        assert text.count("<svg") == text.count(".csv\">") - 1  # each chart links its CSV, plus the province download


def test_injected_markup_in_a_researchers_row_is_shown_as_text(hostile_site, browser):
    """Issue 8, item 3: a <script> and an <img onerror> in the source of a researcher's row (and markup in
    the file name) never run; the file name reaches the province page as visible text. Issue 17, item 2: the
    user's rows are not on the official cards."""
    from conftest import HOSTILE_FILE, HOSTILE_IMG, HOSTILE_SCRIPT

    for lang in ("vi", "en"):
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        page.goto((hostile_site / "provinces" / f"74-{lang}.html").as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # an onerror handler would have fired by now
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.title().startswith("Bình Dương")
        assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
        text = page.locator("main").inner_text()
        cards = " ".join(page.locator("details.card").all_inner_texts())
        assert cards and "MY_SURVEY" not in cards and HOSTILE_SCRIPT not in cards and HOSTILE_IMG not in cards  # issue 17.2
        assert HOSTILE_FILE in text  # the series table names the user's file, as text, its rows marked
        assert errors == []
        page.close()


_TEXT = "() => { const b = document.body.cloneNode(true); b.querySelectorAll('script,style').forEach(e => e.remove()); return b.textContent; }"


def _codes() -> set[str]:
    """The codebook's indicator codes that look like codes (d1..d8.3, anything with an underscore) and their
    published ranks, from the build's codebook table."""
    with open(paths.processed_dir() / "codebook.csv", newline="", encoding="utf-8") as fh:
        codes = {r["indicator"] for r in csv.DictReader(fh)}
    codes |= {f"{c}_rank" for c in codes} | {"total_rank"}
    return {c for c in codes if "_" in c or re.fullmatch(r"d\d+(\.\d+)?", c)}


def test_no_page_shows_a_raw_indicator_code(site, browser):
    """Every page's text (collapsed cards and chart labels included) is scanned for codebook codes."""
    codes = _codes()
    assert {"online_payment_share", "d8", "total_rank", "dossier_digitization_share"} <= codes
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 126 + 2 + 3
    page = browser.new_page()
    found: dict[str, set[str]] = {}
    for path in pages:
        page.goto(path.as_uri())
        text = page.evaluate(_TEXT)
        hits = {t.strip(".") for t in re.findall(r"[A-Za-z0-9_.]+", text)} & codes
        if hits:
            found[str(path.relative_to(site))] = hits
        assert not re.search(r"Thứ hạng công bố:\s*($|[;,.)(])", text, re.M), f"{path.name}: empty published-rank label"
        assert not re.search(r"(Thứ hạng công bố|Published rank)[^;\n]{0,80}0-1", text), f"{path.name}: a rank labelled with a 0-1 scale"
    page.close()
    assert found == {}, f"raw codes on {len(found)} pages, e.g. {sorted(found.items())[:3]}"


def test_vietnamese_pages_write_numbers_the_vietnamese_way(site, browser):
    page = browser.new_page()
    page.goto((site / "provinces" / "74-vi.html").as_uri())
    card = page.locator("#card-PAPI-2024")
    assert card.get_attribute("open") is not None
    text = card.inner_text()
    numbers = re.sub(r"https?://\S+", "", text.replace("1,96 × √2", ""))  # a page address (http://211.88.39.63/...) is no number
    assert "45,39/80" in text and not re.search(r"\b\d+\.\d\d\b", numbers), "English decimals on a vi card"
    series = page.locator('tr[data-index="ONLINE_SERVICES"][data-indicator="procedures_total"]').inner_text()
    assert "1.928" in series  # dot thousands
    page.goto((site / "provinces" / "74-en.html").as_uri())
    assert "45.39 of 80" in page.locator("#card-PAPI-2024").inner_text()
    assert "1,928" in page.locator('tr[data-index="ONLINE_SERVICES"][data-indicator="procedures_total"]').inner_text()
    page.close()


def test_every_year_card_is_reachable_by_clicks_with_its_word_file(site, browser):
    from docx import Document

    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto((site / "index.html").as_uri())
    page.fill("#search", "binh duong")
    page.click("#results a.hit >> nth=0")
    page.wait_for_load_state()
    years = page.locator('a.card-year[data-index="PAPI"]').all_inner_texts()
    assert years[0] == "2024" and "2020" in years and "2011" in years and len(years) == 13
    card = page.locator("#card-PAPI-2020")
    assert not card.locator("table").is_visible()  # closed until chosen
    page.click('a.card-year[data-index="PAPI"][data-year="2020"]')
    assert card.locator("table").is_visible()
    text = card.inner_text()
    assert "40,76/80" in text and "57/63" in text and "Quản trị điện tử" in text
    link = card.locator("p.docx a")
    assert link.count() == 1  # the Word file the 2020 card run wrote
    doc = Document(str((site / "provinces" / link.get_attribute("href")).resolve()))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "40,76/80" in body and "57/63" in body and len(doc.tables) == 1
    # a year without a Word file in the site says how to make one
    assert "python -m analysis card --province 74 --year 2019" in page.locator("#card-PAPI-2019 p.docx").text_content()
    page.close()


def test_bac_kan_page_has_its_par_index_2022_card(site, browser):
    page = browser.new_page()
    page.goto((site / "provinces" / "06-vi.html").as_uri())
    page.click('a.card-year[data-index="PAR_INDEX"][data-year="2022"]')
    card = page.locator("#card-PAR_INDEX-2022")
    assert card.locator("table").is_visible()
    text = card.inner_text()
    assert "79,35%" in text and "61/63" in text and "Số liệu trích dẫn" in text
    assert "Chính quyền điện tử, chính quyền số" in text and "72,2%" in text
    href = card.locator("p.docx a").get_attribute("href")
    assert (site / "provinces" / href).is_file()
    page.close()


def test_home_page_in_both_languages(site, browser):
    page = browser.new_page()
    page.goto((site / "index.html").as_uri())
    assert page.locator("html").get_attribute("lang") == "vi" and "Tìm tỉnh, thành phố" in page.locator("main").inner_text()
    page.click('header a[href="index-en.html"]')
    page.wait_for_load_state()
    assert page.url.endswith("index-en.html") and page.locator("html").get_attribute("lang") == "en"
    page.fill("#search", "bac kan")
    page.click("#results a.hit >> nth=0")
    page.wait_for_load_state()
    assert page.url.endswith("provinces/06-en.html")
    page.goto((site / "index-en.html").as_uri())
    img = page.locator(".figures img").first  # headline figures are readable, not thumbnails
    assert img.bounding_box()["width"] >= 900
    page.close()


def test_every_analysis_table_has_its_full_csv(site):
    for page in (site / "analysis").glob("*/index.html"):
        text = page.read_text(encoding="utf-8")
        tables = text.count('class="dataframe')
        links = re.findall(r'href="tables/([^"]+\.csv)"', text)
        assert tables == len(links), f"{page.parent.name}: {tables} tables, {len(links)} CSV links"
        for name in links:
            assert (page.parent / "tables" / name).is_file(), f"{page.parent.name}: {name} missing"
    corr = site / "analysis" / "02_correlation"
    results = json.loads((site.parent / "02_correlation" / "results.json").read_text(encoding="utf-8"))
    tested = [r for r in results["table"] if r["status"] == "tested"]
    with open(corr / "tables" / "pairs_tested.csv", newline="", encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == len(tested) > 10
    html_table = (corr / "index.html").read_text(encoding="utf-8").split('class="dataframe')[1].split("</table>")[0]
    assert html_table.count("<tr") == len(tested) + 1  # shown in full, not 10 of them


def test_chart_legend_does_not_overlap_on_a_phone(site, browser):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto((site / "provinces" / "74-vi.html").as_uri())
    boxes = [page.locator(".legend li").nth(i).bounding_box() for i in range(page.locator(".legend li").count())]
    assert len(boxes) == 3
    for i, a in enumerate(boxes):
        assert a["x"] >= 0 and a["x"] + a["width"] <= 375 + 1
        for b in boxes[i + 1:]:
            apart = a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            assert apart, (a, b)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1
    labels = page.locator("#card-PAPI-2024 svg text").all_text_contents()
    assert "Công khai, minh bạch" in labels and "d2" not in labels  # dimension names, not codes
    page.close()


def test_home_pages_show_the_map_with_both_archipelagos_in_their_language(site, browser):
    """The map figure (drawn with Hoàng Sa and Trường Sa; tests/test_maps.py checks the pixels) is the
    Vietnamese one on the Vietnamese home page and the English one on the English page, and it loads."""
    page = browser.new_page()
    for name, expected in (("index.html", "07_maps-vi-choropleth.png"), ("index-en.html", "07_maps-choropleth.png")):
        page.goto((site / name).as_uri())
        img = page.locator(f'figure img[src="figures/{expected}"]')
        assert img.count() == 1, name
        assert img.evaluate("i => i.complete && i.naturalWidth > 500"), name
    page.close()
    results = json.loads((site.parent / "07_maps-vi" / "results.json").read_text(encoding="utf-8"))
    assert len(results["values_34_derived"]) == 32 and len(results["values_63"]) == 61  # 2024, the latest year (Vĩnh Phúc, Tiền Giang unscored)


def test_both_home_pages_open_with_the_answer_from_this_runs_numbers(site, browser):
    """Issue 16: the question, the answer in the reader's language (the sentences notebook 10 computed in this run,
    for the run's years 2023-2024, not the default years), what cannot be tested, the pointer to the no-code
    import and the summary figure, all on the first screen; the link to the full analysis works."""
    import analysis
    from analysis import online
    from analysis.messages import t

    panel, provinces = analysis.load_panel(), analysis.load_table("provinces")
    default = online.analyse(panel, provinces, draws=99, designs=("levels",))
    results = json.loads((site.parent / "10_online_services_trends" / "results.json").read_text(encoding="utf-8"))
    assert results["parameters"]["years"] == [2023, 2024]
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    for name, lang in (("index.html", "vi"), ("index-en.html", "en")):
        page.goto((site / name).as_uri())
        box = page.locator("#answer")
        assert box.locator("h2").inner_text() == t("online.question", lang)
        shown = box.locator("p.sentence").all_inner_texts()
        assert shown == results["up_front"][lang]["sentences"] and len(shown) >= 2
        assert all("2023" in s and "2022" not in s for s in shown[:2]), shown  # the run's years, not the default ones
        assert shown[:2] != online.headline(default, lang)[:2]  # other parameters, other prose
        assert "SIPAS" in box.locator("p.untestable").inner_text() and "PAR INDEX" in box.locator("p.untestable").inner_text()
        assert "data/raw/user" in box.locator("p.pointer").inner_text()
        img = box.locator("figure img")
        assert img.evaluate("i => i.complete && i.naturalWidth > 500"), name
        assert img.get_attribute("src") == f"figures/answer-{lang}.png"
        assert box.bounding_box()["y"] < 1000  # the box starts on the first screen
        assert "2023, 2024" in box.locator("p.params").inner_text()
        box.locator("p.params a").click()
        page.wait_for_load_state()
        assert page.url.endswith("/index.html") and "/analysis/10_online_services_trends" in page.url
        assert page.locator("html").get_attribute("lang") == lang
    page.close()
    assert results["up_front"]["vi"]["sentences"] != results["up_front"]["en"]["sentences"]


def test_province_pages_carry_the_rank_interval_of_each_card(site):
    """Issue 18.3: the cards on the province pages state the 95% rank interval (the card's own computation, whose
    test recomputes it by an independent simulation), in the page's language."""
    import analysis
    from analysis.report_card import build_card, card_years

    card = build_card(analysis.load_panel(), analysis.load_table("provinces"), "Bình Dương", 2019)
    lo, hi, n = card.uncertainty["rank_interval"]
    vi = (site / "provinces" / "74-vi.html").read_text(encoding="utf-8")
    en = (site / "provinces" / "74-en.html").read_text(encoding="utf-8")
    assert f"Khoảng tin cậy 95% của thứ hạng: thứ {lo}–{hi} trong {n} tỉnh" in vi
    assert f"95% confidence interval of the rank: {lo}–{hi} of {n}" in en
    years = [y for y in card_years(analysis.load_panel(), "PAPI")["74"] if y >= 2018]  # the 2018 design: SEs exist
    assert len(years) >= 6 and vi.count("Khoảng tin cậy 95% của thứ hạng") == len(years)  # one per PAPI card from 2018 on


_LINK = re.compile(r'\b(?:href|src)="([^"]+)"')


def test_every_internal_link_of_the_site_resolves(site, browser):
    """Issue 19.4: every href and src of every page, resolved as a browser resolves it (against the page's own
    address), names a file of the site, and every #fragment names an element of its target page. Then the
    browser follows the home and footer links of a province page in each language (252 of them were broken)."""
    from html import unescape
    from urllib.parse import unquote, urljoin, urlparse

    pages = sorted(site.rglob("*.html"))
    ids: dict[Path, set[str]] = {}
    broken, checked = [], 0
    for page in pages:
        for raw in _LINK.findall(page.read_text(encoding="utf-8")):
            link = unescape(raw)
            if link.startswith(("data:", "mailto:", "http://", "https://", "javascript:")):
                continue
            url = urlparse(urljoin(page.as_uri(), link))
            target = Path(unquote(url.path))
            checked += 1
            if not target.is_file():
                broken.append((str(page.relative_to(site)), link))
                continue
            if url.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = set(re.findall(r'\bid="([^"]+)"', target.read_text(encoding="utf-8")))
                if url.fragment not in ids[target]:
                    broken.append((str(page.relative_to(site)), link))
            assert site.resolve() in target.resolve().parents, (page, link)  # nothing outside the site
    assert checked > 1000 and not broken, (len(broken), broken[:10])
    page = browser.new_page()
    for lang, home in (("vi", "index.html"), ("en", "index-en.html")):
        page.goto((site / "provinces" / f"74-{lang}.html").as_uri())
        page.click("header.top > a")
        page.wait_for_load_state()
        assert page.url == (site / home).as_uri()
        page.goto((site / "provinces" / f"74-{lang}.html").as_uri())
        page.click("footer a")
        page.wait_for_load_state()
        assert page.url == (site / home).as_uri() + "#sources" and page.locator("#sources").count() == 1
    page.close()


_TAGS = re.compile(r"(<script\b.*?</script>|<style\b.*?</style>|<[^>]+>)", re.S | re.I)
# (a file named with its public repository, "PhamQuyNam/PMNM_HaUI.DNK_2025 (GitHub), Tapdulieu/bang_1.csv", is citable)
_INTERNAL = re.compile(r"articles/\d{3}_|CROSSCHECK|SOURCE\.md|SOURCES\.md|\.xlsx?\[|\[sheet |reports/bao_cao|mirror |"
                       r"data/reported|papi_official_|pci_official_|dvc766_20|news_reported|_subdims_")


def test_no_page_cites_an_internal_path(site):
    """Issue 19.3: every source a reader sees (cards, series tables, footers) is cited as a reader cites it (publisher,
    year, title, address), never by a file inside the mirror or a manifest id."""
    found = []
    for page in sorted(site.rglob("*.html")):
        if "/analysis/" in page.as_posix():
            continue  # the analyses' own tables (notebook outputs) are checked by their notebooks
        raw = page.read_text(encoding="utf-8")
        if page.name.startswith("index"):  # the home page's source list names each manifest id beside its citation and sha256,
            raw = raw.split('id="sources"')[0] + raw[raw.index("<footer>"):]  # for reproduction; its other text is checked
        text = _TAGS.sub(" ", raw)
        for m in _INTERNAL.finditer(text):
            found.append((page.name, text[max(0, m.start() - 60):m.end() + 40]))
    assert not found, found[:5]


def test_tables_fit_a_phone_and_a_printed_a4_page(site, browser):
    """Issue 19.5: on a 375 px phone no page is wider than the screen (wide tables scroll inside themselves), and
    printed (A4 portrait, 794 px at 96 dpi less margins) every table of a province page fits the page width."""
    page = browser.new_page(viewport={"width": 375, "height": 800})
    for name in ("provinces/74-vi.html", "provinces/06-en.html", "index.html"):
        page.goto((site / name).as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 376, name
    page.close()
    page = browser.new_page(viewport={"width": 718, "height": 1000})  # A4 minus 1,27 cm margins at 96 dpi
    page.emulate_media(media="print")
    for name in ("provinces/74-vi.html", "provinces/74-en.html"):
        page.goto((site / name).as_uri())
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        widths = page.evaluate("[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right)")
        assert widths and max(widths) <= 718 + 1, (name, max(widths))
        assert page.evaluate("document.documentElement.scrollWidth") <= 719, name
    page.close()
