"""The report site of a real run, in headless Chromium (Debian's `chromium`, installed by .ci/run or
`make browser`): search "binh duong" from the home page, open the province page, find its 2020 PAPI total
and rank; no page requests anything outside the site; figures have alt text; headings are in order."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from analysis import paths
from analysis.runner.config import load_config
from analysis.runner.run import execute

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
        {"notebook": str(paths.project_root() / "notebooks" / "08_validation.ipynb")},
        {"notebook": str(paths.project_root() / "notebooks" / "06_report_card.ipynb"), "name": "card-74-vi",
         "parameters": {"province": "binh duong", "year": 2020}},
    ]}))
    run_dir, manifest = execute(load_config(cfg), progress=False)
    mp.undo()
    assert manifest["status"] == "ok", manifest["notebooks"]
    assert (tmp / "reports" / "latest" / "site" / "index.html").exists()
    return tmp / "reports" / "latest" / "site"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: run `make browser` (apt-get install chromium) or .ci/run")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
    assert "40.76" in row.inner_text() and "57/63" in row.inner_text()
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
    the file name) reach the province page as visible text and never run."""
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
        assert HOSTILE_SCRIPT in text  # the card lists the user's index with its source, as typed
        assert HOSTILE_IMG in text
        assert f"user:{HOSTILE_FILE}" in text  # the series table names the file, as text
        assert errors == []
        page.close()
