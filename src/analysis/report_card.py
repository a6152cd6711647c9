"""Province report cards: what the provincial reform offices write every year (total, rank out of the
provinces scored, quartile group, each dimension up or down against last year, the weakest dimensions and
their gap to the maximum, the province against its region and the country, its other indices), in
Vietnamese or English."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import DataError
from .panel.codebook import INDEX_LABELS, RANKING_RELIABILITY, label
from .registry import VINTAGE_34, Registry

QUARTILE = {
    "vi": {1: "nhóm cao nhất", 2: "nhóm trung bình cao", 3: "nhóm trung bình thấp", 4: "nhóm thấp nhất"},
    "en": {1: "top quartile", 2: "upper-middle quartile", 3: "lower-middle quartile", 4: "bottom quartile"},
}
TEXT = {
    "vi": {
        "title": "{province}: {index} năm {year}",
        "total": "Tổng điểm {value:.2f}/{scale:g}, xếp thứ {rank}/{rank_of} tỉnh, thành phố có điểm công bố ({quartile}).",
        "prev": "Năm {prev}: {value:.2f} điểm, thứ {rank}/{rank_of} ({delta}).",
        "break": "Lưu ý: PAPI đổi phương pháp năm 2018 (60 → 80 điểm); so sánh thứ hạng, không so sánh điểm.",
        "fallback": "Lưu ý: tỉnh không có điểm công bố năm {asked}; thẻ này dùng năm {used}.",
        "dims": "So với năm {prev}: {up} nội dung tăng điểm ({up_list}), {down} nội dung giảm điểm.",
        "weak": "Nội dung thấp điểm nhất: {items}.",
        "gap": "{name} {value:.2f}/{max:g} (còn cách tối đa {gap:.2f})",
        "region": "So với vùng {region} và cả nước: {above} nội dung cao hơn trung bình cả nước, {below} nội dung thấp hơn.",
        "other": "Các chỉ số khác của tỉnh",
        "none": "Không có chỉ số khác trong dữ liệu cho năm này.",
        "up": "tăng {n} bậc", "down": "giảm {n} bậc", "same": "giữ nguyên thứ hạng",
        "source": "Nguồn",
        "cols": ["Nội dung", "Điểm", "Năm trước", "Thay đổi", "Hạng", "Vùng", "Cả nước", "Tối đa"],
    },
    "en": {
        "title": "{province}: {index} {year}",
        "total": "Total {value:.2f} of {scale:g}, ranked {rank} of {rank_of} provinces with a published score ({quartile}).",
        "prev": "{prev}: {value:.2f} points, rank {rank} of {rank_of} ({delta}).",
        "break": "Note: PAPI changed method in 2018 (60 → 80 points); compare ranks, not scores.",
        "fallback": "Note: no published score in {asked}; this card uses {used}.",
        "dims": "Against {prev}: {up} dimensions up ({up_list}), {down} down.",
        "weak": "Weakest dimensions: {items}.",
        "gap": "{name} {value:.2f}/{max:g} ({gap:.2f} below the maximum)",
        "region": "Against the {region} region and the country: {above} dimensions above the national mean, {below} below.",
        "other": "The province's other indices",
        "none": "No other index in the data for this year.",
        "up": "up {n} places", "down": "down {n} places", "same": "same rank",
        "source": "Source",
        "cols": ["Dimension", "Score", "Previous year", "Change", "Rank", "Region", "Country", "Maximum"],
    },
}


@dataclass
class Card:
    province_code: str
    province: str
    region: str
    region_en: str
    year: int
    index: str
    total: dict
    previous: dict | None
    dimensions: pd.DataFrame
    history: pd.DataFrame
    others: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def _annual(panel: pd.DataFrame) -> pd.DataFrame:
    """Annual provincial values in the 63-province coding (one row selection: the cards run 68 times a run)."""
    return panel[(panel["date"].fillna("") == "") & (panel["province_code"] != "00") & (panel["vintage"] != VINTAGE_34)]


def build_card(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, year: int, index: str = "PAPI") -> Card:
    """Everything a report card states, computed from the panel. `province` may be any known spelling.
    If the province has no score in `year`, its latest earlier year is used and the card says so."""
    code = Registry(provinces).resolve(province, column="province")
    return build_cards(panel, provinces, year, index, codes=[code])[code]


def build_cards(panel: pd.DataFrame, provinces: pd.DataFrame, year: int, index: str = "PAPI",
                codes: list[str] | None = None) -> dict[str, Card]:
    """Cards for many provinces in one pass: national and regional means are computed once, not per card."""
    table = provinces[provinces["vintage"] != VINTAGE_34].set_index("province_code", drop=False)  # codes unique per vintage
    ann = _annual(panel)
    # the card states the publisher's results: a researcher's or the press's value of the same index is
    # listed nowhere on it and changes none of its ranks or means
    idx = ann[(ann["index"] == index) & ann["reliability"].isin(RANKING_RELIABILITY)]
    tot = idx[idx["indicator"] == "total"].sort_values("year")
    dims = idx[idx["indicator"].str.fullmatch(r"d\d")].copy()
    dims["region"] = dims["province_code"].map(table["region"])
    national = dims.groupby(["year", "indicator"])["value"].mean()
    regional = dims.groupby(["year", "region", "indicator"])["value"].mean()
    heads = ann[(ann["index"] != index) & ((ann["indicator"] == "total") | ann["indicator"].str.endswith("total_rank"))]
    if codes is not None:  # group only the requested provinces' rows (one card: one small group)
        dims, tot, heads = (d[d["province_code"].isin(codes)] for d in (dims, tot, heads))
    dims_by = {k: g for k, g in dims.groupby("province_code")}
    tot_by = {k: g for k, g in tot.groupby("province_code")}
    heads_by = {k: g for k, g in heads.groupby("province_code")}
    cards: dict[str, Card] = {}
    for code in codes if codes is not None else sorted(tot_by):
        info = table.loc[code]
        own = tot_by.get(code, tot.iloc[0:0])
        scored = [int(y) for y in own["year"]]
        notes: list[str] = []
        card_year = year
        if year not in scored:
            earlier = [y for y in scored if y < year]
            if not earlier:
                raise DataError(f"{index} has no total for {info['province']} in or before {year}", column="year", value=year,
                                hint=f"Years with a total: {', '.join(map(str, scored)) or 'none'}")
            notes.append(f"fallback:{year}")
            card_year = earlier[-1]
        t = own[own["year"] == card_year].iloc[0]
        total = {"value": float(t["value"]), "scale": float(t["scale_max"]), "rank": int(t["rank"]), "rank_of": int(t["rank_of"]),
                 "quartile": int(t["quartile"]), "source_id": t["source_id"], "method_version": t["method_version"]}
        prev_rows = own[own["year"] < card_year]
        previous = None
        if not prev_rows.empty:
            p = prev_rows.iloc[-1]
            previous = {"year": int(p["year"]), "value": float(p["value"]), "rank": int(p["rank"]), "rank_of": int(p["rank_of"]),
                        "comparable": p["method_version"] == t["method_version"]}
        mine = dims_by.get(code, dims.iloc[0:0])
        cur = mine[mine["year"] == card_year].sort_values("indicator")
        before = mine[mine["year"] == previous["year"]].set_index("indicator")["value"] if previous else pd.Series(dtype=float)
        labels = [label(index, ind) for ind in cur["indicator"]]
        dimensions = pd.DataFrame({
            "indicator": cur["indicator"].to_numpy(), "label_vi": [vi for vi, _ in labels], "label_en": [en for _, en in labels],
            "value": cur["value"].to_numpy(float), "previous": cur["indicator"].map(before).to_numpy(float),
            "rank": cur["rank"].astype(int).to_numpy(), "rank_of": cur["rank_of"].astype(int).to_numpy(),
            "region_mean": [float(regional[(card_year, info["region"], ind)]) for ind in cur["indicator"]],
            "national_mean": [float(national[(card_year, ind)]) for ind in cur["indicator"]],
            "max": cur["scale_max"].to_numpy(float),
        })
        dimensions["change"] = dimensions["value"] - dimensions["previous"]
        dimensions["gap_to_max"] = dimensions["max"] - dimensions["value"]
        history = own[["year", "value", "rank", "rank_of", "method_version"]]
        others = heads_by.get(code, heads.iloc[0:0])
        others = others[others["year"] == card_year][["index", "indicator", "value", "scale_max", "rank", "rank_of", "reliability",
                                                       "source_id", "source_ref"]]
        if previous and not previous["comparable"]:
            notes.append("break")
        cards[code] = Card(code, str(info["province"]), str(info["region"]), str(info["region_en"]), int(card_year), index, total,
                           previous, dimensions, history.reset_index(drop=True), others.reset_index(drop=True), notes)
    return cards


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|&~-])")


def _md(text: object) -> str:
    """Text from data as literal Markdown: every character that Markdown or HTML would read as markup is
    backslash-escaped and line breaks become spaces, so a researcher's `<script>` or `[link](...)` in a
    source is shown as typed by any Markdown renderer (the site's, nbconvert's, JupyterLab's)."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"[\r\n]+", " ", str(text)))


def _delta(now: int, before: int, lang: str) -> str:
    t = TEXT[lang]
    if now < before:
        return t["up"].format(n=before - now)
    if now > before:
        return t["down"].format(n=now - before)
    return t["same"]


def render(card: Card, lang: str = "vi", weakest: int = 3) -> str:
    """The card as Markdown text."""
    if lang not in TEXT:
        raise DataError("language must be 'vi' or 'en'", column="language", value=lang)
    t = TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    index_name = INDEX_LABELS.get(card.index, (card.index, card.index))[0 if lang == "vi" else 1]
    out = [f"## {t['title'].format(province=card.province, index=f'{index_name} ({card.index})', year=card.year)}", ""]
    for note in card.notes:
        if note.startswith("fallback:"):
            out.append(t["fallback"].format(asked=note.split(":")[1], used=card.year))
    tot = card.total
    out.append(t["total"].format(value=tot["value"], scale=tot["scale"], rank=tot["rank"], rank_of=tot["rank_of"],
                                 quartile=QUARTILE[lang][tot["quartile"]]))
    if card.previous:
        p = card.previous
        out.append(t["prev"].format(prev=p["year"], value=p["value"], rank=p["rank"], rank_of=p["rank_of"],
                                    delta=_delta(tot["rank"], p["rank"], lang)))
    if "break" in card.notes:
        out.append(t["break"])
    d = card.dimensions
    if not d.empty and card.previous and d["change"].notna().any():
        up = d[d["change"] > 0]
        out.append(t["dims"].format(prev=card.previous["year"], up=len(up), down=int((d["change"] < 0).sum()),
                                    up_list=", ".join(up[name_col]) or "-"))
    if not d.empty:
        weak = d.sort_values("gap_to_max", ascending=False).head(weakest)
        items = "; ".join(t["gap"].format(name=r[name_col], value=r["value"], max=r["max"], gap=r["gap_to_max"]) for _, r in weak.iterrows())
        out.append(t["weak"].format(items=items))
        out.append(t["region"].format(region=card.region if lang == "vi" else card.region_en,
                                      above=int((d["value"] > d["national_mean"]).sum()), below=int((d["value"] < d["national_mean"]).sum())))
        out = [out[0], "", "\n\n".join(out[2:])]  # one paragraph per statement
        out += ["", "| " + " | ".join(t["cols"]) + " |", "|" + "---|" * len(t["cols"])]
        for _, r in d.iterrows():
            ch = "" if pd.isna(r["change"]) else f"{r['change']:+.2f}"
            prev = "" if pd.isna(r["previous"]) else f"{r['previous']:.2f}"
            out.append(f"| {r[name_col]} | {r['value']:.2f} | {prev} | {ch} | {r['rank']}/{r['rank_of']} | "
                       f"{r['region_mean']:.2f} | {r['national_mean']:.2f} | {r['max']:g} |")
    out += ["", f"### {t['other']}", ""]
    if card.others.empty:
        out.append(t["none"])
    for _, r in card.others.iterrows():
        vi, en = label(r["index"], r["indicator"])
        rank = f", {r['rank']}/{r['rank_of']}" if pd.notna(r["rank"]) and pd.notna(r["rank_of"]) else ""
        out.append(f"- {_md(r['index'])} — {_md(vi if lang == 'vi' else en)}: {r['value']:g}{rank} ({_md(r['reliability'])}; "
                   f"{t['source']}: {_md(r['source_ref'] or r['source_id'])})")
    return "\n".join(out)


def card_results(card: Card) -> dict:
    """The machine-readable part of a card (results.json)."""
    d = card.dimensions
    return {
        "province_code": card.province_code, "province": card.province, "year": card.year, "index": card.index,
        "total": card.total, "previous": card.previous,
        "dimensions_up": sorted(d.loc[d["change"] > 0, "indicator"]) if not d.empty else [],
        "dimensions_down": sorted(d.loc[d["change"] < 0, "indicator"]) if not d.empty else [],
        "weakest": list(d.sort_values("gap_to_max", ascending=False)["indicator"].head(3)) if not d.empty else [],
        "other_indices": card.others[["index", "indicator", "value", "rank", "rank_of"]].to_dict("records"),
    }


def card_figure(card: Card, lang: str = "vi"):  # noqa: ANN201 - returns a matplotlib Figure
    """Dimensions against region and country, and the rank over time (ranks survive the 2018 break)."""
    import matplotlib.pyplot as plt

    t = TEXT[lang]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [3, 2]})
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.09, top=0.91, wspace=0.18)  # fixed: no layout pass per save
    d = card.dimensions
    if not d.empty:
        x = np.arange(len(d))
        a.bar(x - 0.27, d["value"], 0.27, label=card.province, color="#1f6f8b")
        a.bar(x, d["region_mean"], 0.27, label=(card.region if lang == "vi" else card.region_en), color="#99c5d1")
        a.bar(x + 0.27, d["national_mean"], 0.27, label=("Cả nước" if lang == "vi" else "Country"), color="#cccccc")
        a.set_xticks(x, d["indicator"])
        a.set_ylim(0, float(d["max"].max()))
        a.legend(fontsize=7, loc="lower right")
        a.set_title(t["cols"][0] + f" ({card.year})")
    h = card.history.set_index("year").reindex(range(int(card.history["year"].min()), int(card.history["year"].max()) + 1))
    b.plot(h.index, h["rank"].astype(float), marker="o", color="#1f6f8b")  # unpublished years leave a gap
    b.invert_yaxis()
    b.set_ylabel(t["cols"][4])
    if (h.index >= 2018).any() and (h.index < 2018).any():
        b.axvline(2017.5, color="grey", ls="--", lw=0.8)
    b.set_title(f"{card.index} {t['cols'][4].lower()}")
    return fig
