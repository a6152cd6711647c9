"""The report site of a run: `reports/runs/<run-id>/site/`, static and self-contained (opens from disk, no
server, no CDN, no web fonts). Home page with run status, data version and sources; one page per province
in Vietnamese and English (report card, charts, every index's series, data download); the analysis
notebooks as HTML with inputs hidden; every figure next to its data as CSV."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import mistune
import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import paths
from .errors import DataError
from .manifest import load_manifest
from .panel import load_build_info, load_panel, load_table
from .panel.build import project_sources
from .panel.codebook import INDEX_LABELS, index_info, label, parts
from .panel.io import write_csv
from .panel.vintage import in_34, in_63
from .registry import normalize_name
from .report_card import build_cards, render

ASSETS = Path(__file__).parent / "site_assets"
INDEX_ORDER = ["PAPI", "PCI", "PAR_INDEX", "SIPAS", "DTI", "ICT_INDEX", "MIC_EGOV", "ONLINE_SERVICES"]
HEADLINE = [
    ("01_data_overview", "coverage_index_year", "Coverage: provinces with a headline value, by index and year"),
    ("03_trends", "distribution_by_year", "PAPI total: distribution over provinces by year (2018 method change marked)"),
    ("07_maps", "choropleth", "PAPI total on the 63 provinces and the 34 provinces of 2025"),
    ("08_validation", "agreement_by_family", "Agreement between sources"),
    ("09_online_services_2025", "scatter_mdhl", "Decision 766 index 2025, 34 provinces: online measures against satisfaction"),
]
PAGE_TEXT = {
    "vi": {"region": "Vùng", "code": "Mã GSO", "successor": "Từ 07/2025 thuộc",
           "successor_head": "Từ 07/2025 thuộc {name}: {index} năm {year} của {name}",
           "successor_note": "Các giá trị dưới đây là của {name} (mã 2025: {code}), tỉnh, thành phố hợp nhất từ {merged}; không phải của riêng {province} (mã {old} trong 63 tỉnh). {when}",
           "successor_same": "Các giá trị dưới đây là của {name} (mã 2025: {code}), có cùng địa giới với {province} (mã {old} trong 63 tỉnh). {when}",
           "successor_when": "Lũy kế đến ngày chốt {date}.", "max": "Tối đa", "download": "Tải dữ liệu của tỉnh (CSV)",
           "card": "Thẻ báo cáo PAPI", "no_card": "Không có điểm PAPI công bố cho tỉnh này.", "series": "Chuỗi số liệu các chỉ số",
           "year": "Năm", "indicator": "Chỉ tiêu", "value": "Giá trị", "rank": "Hạng", "source": "Nguồn", "data_csv": "dữ liệu (CSV)",
           "dims": "Các nội dung PAPI {year}: tỉnh, vùng và cả nước", "ranks": "Thứ hạng PAPI qua các năm (1 = cao nhất)",
           "other": "English", "country": "Cả nước"},
    "en": {"region": "Region", "code": "GSO code", "successor": "From 07/2025 part of",
           "successor_head": "From 07/2025 part of {name}: {index} {year} of {name}",
           "successor_note": "The values below are {name}'s (2025 code {code}), the province merged from {merged}; not those of {province} (code {old} of the 63) alone. {when}",
           "successor_same": "The values below are {name}'s (2025 code {code}), with the same territory as {province} (code {old} of the 63). {when}",
           "successor_when": "Year to date at the cut-off {date}.", "max": "Maximum", "download": "Download the province's data (CSV)",
           "card": "PAPI report card", "no_card": "No published PAPI score for this province.", "series": "Series of every index",
           "year": "Year", "indicator": "Indicator", "value": "Value", "rank": "Rank", "source": "Source", "data_csv": "data (CSV)",
           "dims": "PAPI dimensions {year}: province, region and country", "ranks": "PAPI rank over the years (1 = best)",
           "other": "Tiếng Việt", "country": "Country"},
}
# Markdown of the report cards -> HTML with any raw HTML escaped (text from data is never markup) and
# mistune's default refusal of javascript:/data: links
_MARKDOWN = mistune.create_markdown(escape=True, plugins=["table"])
_EXTERNAL = re.compile(r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]*\"[^>]*>", re.I)


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(ASSETS)), autoescape=select_autoescape(["html"]), trim_blocks=False)


def _script_json(data: Any) -> str:
    """JSON safe inside an HTML <script> element: <, > and & as \\u escapes, so no text can close the
    element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fmt(v: float) -> str:
    """Whole numbers (counts, ranks) without decimals; 0-1 indices with up to 4; scores with 2."""
    if pd.isna(v):
        return ""
    if float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:.4f}".rstrip("0") if abs(v) < 1 else f"{v:.2f}"


def svg_bars(d: pd.DataFrame, province: str, region: str, country: str, title: str) -> str:
    """Grouped bars: the province, its region and the country for each dimension (accessible inline SVG)."""
    w, h, left, bottom, top = 640, 260, 34, 28, 26
    ymax = float(d["max"].max()) if len(d) else 10.0
    n = max(len(d), 1)
    slot = (w - left - 10) / n
    bw = slot / 4
    colours = [("value", "#1f6f8b", province), ("region_mean", "#99c5d1", region), ("national_mean", "#b8b8b8", country)]
    y = lambda v: top + (h - top - bottom) * (1 - v / ymax)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="img" aria-labelledby="t-bars d-bars">',
             f'<title id="t-bars">{html.escape(title)}</title>',
             '<desc id="d-bars">' + html.escape("; ".join(
                 f"{r.indicator}: {r.value:.2f} ({region} {r.region_mean:.2f}, {country} {r.national_mean:.2f})" for r in d.itertuples())) + "</desc>"]
    for tick in range(0, int(ymax) + 1, 2):
        parts.append(f'<line x1="{left}" x2="{w - 10}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e3e8eb"/>'
                     f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{tick}</text>')
    for i, r in enumerate(d.itertuples()):
        x0 = left + i * slot + bw / 2
        for j, (col, colour, _) in enumerate(colours):
            v = float(getattr(r, col))
            parts.append(f'<rect x="{x0 + j * bw:.1f}" y="{y(v):.1f}" width="{bw * 0.95:.1f}" height="{y(0) - y(v):.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x0 + 1.5 * bw:.1f}" y="{h - 10}" font-size="11" text-anchor="middle">{html.escape(r.indicator)}</text>')
    for j, (_, colour, name) in enumerate(colours):
        parts.append(f'<rect x="{left + 8 + j * 190}" y="6" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{left + 22 + j * 190}" y="15" font-size="11">{html.escape(name)}</text>')
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
    """The rows shown in the province pages' series tables, formatted once for all provinces: headline
    values and published ranks of every index, every reported value, and all online-service measures."""
    keep = ((panel["indicator"] == "total") | panel["indicator"].str.endswith("_rank") | (panel["index"] == "ONLINE_SERVICES")
            | ~panel["reliability"].isin(["official", "compiled"]))
    s = panel[keep].sort_values(["province_code", "index", "year", "date", "indicator"]).copy()
    pairs = {(i, k): label(i, k) for i, k in set(zip(s["index"], s["indicator"], strict=True))}
    s["label_vi"] = [pairs[(i, k)][0] or k for i, k in zip(s["index"], s["indicator"], strict=True)]
    s["label_en"] = [pairs[(i, k)][1] or k for i, k in zip(s["index"], s["indicator"], strict=True)]
    s["value_text"] = s["value"].map(_fmt)
    has_rank = s["rank"].notna() & s["rank_of"].notna()
    s["rank_text"] = ""
    s.loc[has_rank, "rank_text"] = s.loc[has_rank, "rank"].astype(int).astype(str) + "/" + s.loc[has_rank, "rank_of"].astype(int).astype(str)
    s["source_text"] = s["source_id"].astype(str) + " (" + s["reliability"].astype(str) + ")"
    return s


def _series(rows: pd.DataFrame, lang: str) -> list[dict[str, Any]]:
    out = []
    label_col = "label_vi" if lang == "vi" else "label_en"
    present = set(rows["index"])
    for index in [i for i in INDEX_ORDER if i in present] + sorted(present - set(INDEX_ORDER)):
        g = rows[rows["index"] == index]
        vi, en = INDEX_LABELS.get(index, (index, index))
        out.append({"index": index, "label": vi if lang == "vi" else en, "rows": [
            {"year": int(y), "date": d, "indicator": k, "indicator_label": lab, "value": v, "rank": r, "source": src}
            for y, d, k, lab, v, r, src in zip(g["year"], g["date"], g["indicator"], g[label_col], g["value_text"], g["rank_text"],
                                               g["source_text"], strict=True)]})
    return out


def _analysis_page(run_dir: Path, result: dict[str, Any], site: Path, exporter: Any) -> str | None:
    name = result["name"]
    nb_path = run_dir / name / f"{name}.ipynb"
    if not nb_path.exists():
        return None
    body, _ = exporter.from_filename(str(nb_path))
    body = _EXTERNAL.sub("", body)
    # analysis/<name>/index.html with figures/ beside it: the figure links the notebook printed under each
    # figure ("figures/<name>.csv") work unchanged
    dest = site / "analysis" / name
    fig_src = run_dir / name / "figures"
    if fig_src.exists():
        shutil.copytree(fig_src, dest / "figures", dirs_exist_ok=True)
    dest.mkdir(parents=True, exist_ok=True)
    title = f'{name.replace("_", " ")}: analysis'
    body = re.sub(r'<img src="data:image/png', f'<img alt="figure from {html.escape(title)}" src="data:image/png', body)
    extra = ('<nav style="padding:.6em 1em;background:#1f6f8b"><a style="color:#fff" href="../../index.html">vngov-indices home</a></nav>'
             '<link rel="stylesheet" href="../../assets/site.css">')
    body = re.sub(r"(<body[^>]*>)", r"\1" + extra, body, count=1)
    body = body.replace("</body>", '<script src="../../assets/site.js"></script></body>', 1)
    (dest / "index.html").write_text(body, encoding="utf-8")
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
                rows.append({"indicator": ind, "label_vi": vi, "label_en": en, "value": _fmt(r["value"]),
                             "max": _fmt(r["scale_max"]), "rank": rank, "source": f"{r['source_id']} ({r['reliability']})"})
        vi, en = INDEX_LABELS.get(index, (index, index))
        out.setdefault(str(code), []).append({"index": index, "label_vi": vi, "label_en": en, "year": int(year), "date": date,
                                              "year_to_date": bool((index_info(index) or {}).get("year_to_date")), "rows": rows})
    return out


def credits(panel: pd.DataFrame) -> list[str]:
    """Who the run's data comes from, for the footer of every page: per index in the panel, its publisher
    when the publisher's own values are in it, "quoted in the press" for reported values, and the file names
    of researchers' tables. A publisher whose values are not in the run is not credited."""
    out = []
    for index, g in panel.groupby("index", sort=False):
        rel = set(g["reliability"])
        who = []
        publisher = str((index_info(index) or {}).get("publisher") or "")
        if rel & {"official", "compiled"}:
            who.append(publisher or "publisher not recorded")
        if "reported" in rel:  # the publisher's figures as the press quotes them: credit both
            where = "values quoted on official pages, in the press and in provincial reports"
            who.append(f"also {where}" if who else f"{publisher + ', ' if publisher else ''}{where}")
        if "user" in rel:
            files = sorted({s.removeprefix("user:") for s in g.loc[g["reliability"] == "user", "source_id"]})
            who.append("researcher's tables: " + ", ".join(files))
        out.append(f"{index} ({'; '.join(who)})")
    order = {k: i for i, k in enumerate(INDEX_ORDER)}
    return sorted(out, key=lambda c: (order.get(c.split(" ", 1)[0], len(order)), c))


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
    """The part of the site that needs only the panel (assets, data, the 126 province pages). The runner
    starts it with the notebooks, on cores the notebook workers leave idle. Returns its seconds."""
    t0 = time.perf_counter()
    site = run_dir / "site"
    if site.exists():
        shutil.rmtree(site)
    (site / "assets").mkdir(parents=True)
    (site / "provinces").mkdir()
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
    common = {"run_id": run_id, "data_version": data_sha256[:12], "credits": credits(full)}
    successors = successor_blocks(full)
    full = in_63(full)  # the 63 provinces' pages: their own coding only (2025 codes reuse old codes)
    # plain Python strings for the row-by-row series tables (iterating Arrow-backed strings is slow)
    panel = full.astype({c: object for c in full.columns if pd.api.types.is_string_dtype(full[c])})
    provinces = load_table("provinces")
    p63 = provinces[provinces["vintage"] == "gso-2008"].sort_values("province")
    merged_into = {c: list(g["province"]) for c, g in p63.sort_values("province_code").groupby("code_2025")}
    latest_year = int(full.loc[(full["index"] == "PAPI") & (full["indicator"] == "total"), "year"].max())
    cards = build_cards(full, provinces, latest_year)  # one per province with a PAPI score
    rows_by = {k: g for k, g in panel.groupby("province_code")}
    series_by = {k: g for k, g in series_rows(panel).groupby("province_code")}
    tpl = env.get_template("province.html")
    for p in p63.itertuples():
        code = p.province_code
        rows = rows_by[code]
        write_csv(rows, site / "provinces" / f"{code}.csv")
        card = cards.get(code)
        if card is not None:
            write_csv(card.history, site / "provinces" / f"{code}-papi-rank.csv")
            write_csv(card.dimensions, site / "provinces" / f"{code}-papi-dimensions-{card.year}.csv")
        for lang in ("vi", "en"):
            t = PAGE_TEXT[lang]
            name = p.province if lang == "vi" else f"{p.province} ({p.province_en})"
            charts = []
            if card is not None and not card.dimensions.empty:
                charts.append({"svg": Markup(svg_bars(card.dimensions, p.province, p.region if lang == "vi" else p.region_en, t["country"],
                                                      t["dims"].format(year=card.year))),
                               "caption": t["dims"].format(year=card.year), "csv": f"{code}-papi-dimensions-{card.year}.csv"})
            if card is not None:
                charts.append({"svg": Markup(svg_rank_line(card.history, t["ranks"])), "caption": t["ranks"], "csv": f"{code}-papi-rank.csv"})
            card_html = None
            if card is not None:  # the card's headings sit under the page's "report card" heading
                body = _MARKDOWN(render(card, lang)).replace("<h3", "<h4").replace("</h3>", "</h4>")
                card_html = Markup(body.replace("<h2", "<h3").replace("</h2>", "</h3>"))  # escaped by _MARKDOWN
            other = "en" if lang == "vi" else "vi"
            merged = merged_into.get(p.code_2025, [])
            note = t["successor_same"] if len(merged) == 1 else t["successor_note"]
            succ = [{"head": t["successor_head"].format(name=p.name_2025, index=b[f"label_{lang}"], year=b["year"]),
                     "note": note.format(name=p.name_2025, code=p.code_2025, province=p.province, old=code, merged=", ".join(merged),
                                         when=t["successor_when"].format(date=b["date"]) if b["year_to_date"] else ""),
                     "index": b["index"], "rows": [r | {"label": r[f"label_{lang}"]} for r in b["rows"]]}
                    for b in successors.get(str(p.code_2025), [])]
            page = tpl.render(**common, lang=lang, root="../", title=name, name=name, code=code, region=p.region if lang == "vi" else p.region_en,
                              successor=p.name_2025, successor_code=p.code_2025, successor_blocks=succ, t=t, card_html=card_html, charts=charts,
                              series=_series(series_by.get(code, rows.iloc[0:0]), lang), other_lang_page=f"{code}-{other}.html", other_lang=other,
                              other_lang_label=t["other"])
            (site / "provinces" / f"{code}-{lang}.html").write_text(page, encoding="utf-8")
    return round(time.perf_counter() - t0, 2)


def finish_site(run_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The part that needs the finished run: analysis pages, headline figures and the home page."""
    from nbconvert import HTMLExporter

    t0 = time.perf_counter()
    site = run_dir / "site"
    env = _env()
    panel = load_panel()
    common = {"run_id": manifest["run_id"], "data_version": manifest["data"]["indicators_sha256"][:12], "credits": credits(panel)}
    provinces = load_table("provinces")
    p63 = provinces[provinces["vintage"] == "gso-2008"].sort_values("province")
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True)
    analyses = []
    cards = [r for r in manifest["notebooks"] if r["notebook"].startswith("06_")]
    for r in manifest["notebooks"]:
        if r in cards:
            continue
        page = _analysis_page(run_dir, r, site, exporter) if r["status"] == "ok" else None
        analyses.append({"name": r["name"], "status": r["status"], "duration": r.get("duration_s"), "page": page})
    headline = []
    for nb, fig, caption in HEADLINE:
        png = run_dir / nb / "figures" / f"{fig}.png"
        if png.exists():
            for suffix in (".png", ".csv"):
                if png.with_suffix(suffix).exists():
                    shutil.copy(png.with_suffix(suffix), site / "figures" / f"{nb}-{fig}{suffix}")
            headline.append({"png": f"figures/{nb}-{fig}.png", "csv": f"figures/{nb}-{fig}.csv", "alt": caption, "caption": caption})
    search = [{"code": p.province_code, "name": p.province, "keys": sorted({normalize_name(a) for a in
               [p.province, p.province_ascii, p.province_en, p.full_name, *str(p.aliases).split("|")] if a and str(a) != "nan"})}
              for p in p63.itertuples()]
    sources = used_sources(panel)
    ok = [r for r in manifest["notebooks"] if r["status"] == "ok"]
    index = env.get_template("index.html").render(
        **common, lang="en", root="", title="Home", run_date=manifest["run_id"][:8], status=manifest["status"], n_ok=len(ok),
        n_total=len(manifest["notebooks"]), raw_fingerprint=manifest["data"]["raw_fingerprint"], environment=manifest["environment"],
        provinces=[{"code": p.province_code, "name": p.province} for p in p63.itertuples()],
        search_index=Markup(_script_json(search)), headline=headline, analyses=analyses,
        cards_ok=sum(r["status"] == "ok" for r in cards), cards_total=len(cards),
        cards_failed=[r["name"] for r in cards if r["status"] != "ok"], sources=sources)
    (site / "index.html").write_text(index, encoding="utf-8")
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    return {"finish_seconds": round(time.perf_counter() - t0, 2), "bytes": size, "pages": len(list(site.rglob("*.html")))}
