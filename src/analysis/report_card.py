"""Province report cards: what the provincial reform offices write every year (total, rank out of the
provinces scored, quartile group, each dimension up or down against last year, the weakest dimensions and
their gap to the maximum, the province against its region and the country, its other indices), in
Vietnamese or English, with the uncertainty a sample survey carries.

Rules the card states (and `build_cards` applies):

- **Quartile group**: quartile = ceil(4 x rank / number ranked), 1 = top quarter; ties share the better
  rank. Ranks are computed among the provinces with a published score that year; where fewer than all
  provinces were scored the card says so, and a rank the publisher printed is shown beside the computed one.
- **Comparable changes**: a change is stated only where `analysis.panel.codebook.comparable` allows it.
  A dimension whose series breaks between the two years (e-governance 2019-2020: the e-responsiveness
  discontinuity) is marked not comparable. Where the total is comparable only with caveats (a part broke),
  the card adds a like-for-like total without the broken parts (`stats.breaks.like_for_like`).
- **Margin of error**: where the publisher gives standard errors for both years, a change within
  1.96 x sqrt(se1^2 + se2^2) is "within the margin"; otherwise a change smaller than the stated threshold
  1.96 x sqrt(2) x (median published standard error of that score; rescaled to the year's maximum, so
  the PAPI total's threshold is 1.03 points out of 80 and 0.77 out of 60) is "about unchanged" (for an
  index without any published standard error: 1% of the maximum). Rank gaps use the same margin: the
  card gives the band of ranks whose scores are within it.
- **National change**: every change is shown beside the change of the national mean over provinces."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .errors import DataError
from .panel import codebook
from .panel.codebook import INDEX_LABELS, RANKING_RELIABILITY, label
from .registry import VINTAGE_34, Registry
from .stats.breaks import like_for_like

Z95 = 1.959963984540054
DEFAULT_THRESHOLD_SHARE = 0.01  # of the maximum, for an index without published standard errors

QUARTILE = {
    "vi": {1: "nhóm cao nhất", 2: "nhóm trung bình cao", 3: "nhóm trung bình thấp", 4: "nhóm thấp nhất"},
    "en": {1: "top quartile", 2: "upper-middle quartile", 3: "lower-middle quartile", 4: "bottom quartile"},
}
TEXT = {
    "vi": {
        "title": "{province}: {index} năm {year}",
        "total": "Tổng điểm {value:.2f}/{scale:g}, xếp thứ {rank}/{rank_of} tỉnh, thành phố có điểm công bố ({quartile}).",
        "prev": "Năm {prev}: {value:.2f} điểm, thứ {rank}/{rank_of} ({delta}).",
        "break": ("Lưu ý: {index} thay đổi phương pháp giữa năm {prev} và năm {year}; điểm và thứ hạng của hai năm đo các nội dung "
                  "khác nhau nên không so sánh."),
        "diffn": "thứ hạng trong số tỉnh khác nhau, không so sánh số bậc",
        "parts": "{name} (thay đổi hoặc gián đoạn ở: {parts})",
        "fallback": "Lưu ý: tỉnh không có điểm công bố năm {asked}; thẻ này dùng năm {used}.",
        "dims": "So với năm {prev}: {up} nội dung tăng điểm ({up_list}), {down} nội dung giảm điểm.",
        "weak": "Nội dung thấp điểm nhất: {items}.",
        "gap": "{name} {value:.2f}/{max:g} (còn cách tối đa {gap:.2f})",
        "region": "So với vùng {region} và cả nước: {above} nội dung cao hơn trung bình cả nước, {below} nội dung thấp hơn.",
        "other": "Các chỉ số khác của tỉnh",
        "none": "Không có chỉ số khác trong dữ liệu cho năm này.",
        "up": "tăng {n} bậc", "down": "giảm {n} bậc", "same": "giữ nguyên thứ hạng",
        "source": "Nguồn",
        "cols": ["Nội dung", "Điểm", "Năm trước", "Thay đổi", "Cả nước thay đổi", "Đánh giá", "Hạng", "Vùng", "Cả nước", "Tối đa"],
        "change": "Tổng điểm thay đổi {change:+.2f} (trung bình cả nước {national:+.2f}; biên sai số ±{margin:.2f}: {status}).",
        "lfl": ("So sánh cùng nội dung (không tính {dropped}, chuỗi số liệu bị gián đoạn): {before:.2f} → {now:.2f} "
                "({change:+.2f}; cả nước {national:+.2f}), thứ {rank_before}/{of_before} → {rank}/{of}."),
        "se": "Khoảng tin cậy 95% của tổng điểm: {low:.2f}–{high:.2f} (sai số chuẩn {se:.2f} do nhóm nghiên cứu công bố).",
        "band_se": "Các tỉnh xếp thứ {lo}–{hi} có tổng điểm không khác biệt có ý nghĩa thống kê với tỉnh (trong biên sai số).",
        "band": ("Các tỉnh xếp thứ {lo}–{hi} có tổng điểm chênh lệch dưới {t:.2f} điểm so với tỉnh; khác biệt về thứ hạng "
                 "trong khoảng này nằm trong biên sai số."),
        "official": "Thứ hạng công bố: {rank}/{of} ({source}); thứ hạng trên thẻ được tính từ điểm số.",
        "fewer": ("Năm {year} chỉ {n}/{total} tỉnh, thành phố có điểm công bố (không có: {missing}); thứ hạng được tính "
                  "trong {n} tỉnh và có thể khác thứ hạng chính thức."),
        "margin": ("Biên sai số: thay đổi nhỏ hơn ngưỡng (tổng điểm {t_total:.2f}; nội dung {t_min:.2f}–{t_max:.2f} điểm) "
                   "được coi là gần như không đổi; ngưỡng = 1,96 × √2 × sai số chuẩn trung vị do nhóm nghiên cứu công bố ({basis})."),
        "margin_default": "Biên sai số: không có sai số chuẩn công bố; thay đổi nhỏ hơn {t:.2f} điểm (1% điểm tối đa) được coi là gần như không đổi.",
        "margin_own": "Thay đổi được so với biên sai số của chính tỉnh: 1,96 × √(sai số chuẩn năm trước² + năm nay²).",
        "assess": "Vượt biên sai số: {up} nội dung tăng, {down} nội dung giảm; gần như không đổi: {flat}{nc}.",
        "nc": "; không so sánh được: {items}",
        "status": {"up": "tăng", "down": "giảm", "flat": "gần như không đổi", "nc": "không so sánh được", "": ""},
        "breaknote": "Không so sánh được với năm {prev}: {items}.",
        "quartile_rule": "Nhóm (phần tư) = làm tròn lên 4 × thứ hạng / số tỉnh được xếp hạng; nhóm 1 là nhóm cao nhất.",
    },
    "en": {
        "title": "{province}: {index} {year}",
        "total": "Total {value:.2f} of {scale:g}, ranked {rank} of {rank_of} provinces with a published score ({quartile}).",
        "prev": "{prev}: {value:.2f} points, rank {rank} of {rank_of} ({delta}).",
        "break": ("Note: {index} changed method between {prev} and {year} ({why}); scores and ranks of the two years measure "
                  "different things and are not compared."),
        "diffn": "ranked among different numbers of provinces, places not compared",
        "parts": "{name} (changed or broken parts: {parts})",
        "fallback": "Note: no published score in {asked}; this card uses {used}.",
        "dims": "Against {prev}: {up} dimensions up ({up_list}), {down} down.",
        "weak": "Weakest dimensions: {items}.",
        "gap": "{name} {value:.2f}/{max:g} ({gap:.2f} below the maximum)",
        "region": "Against the {region} region and the country: {above} dimensions above the national mean, {below} below.",
        "other": "The province's other indices",
        "none": "No other index in the data for this year.",
        "up": "up {n} places", "down": "down {n} places", "same": "same rank",
        "source": "Source",
        "cols": ["Dimension", "Score", "Previous year", "Change", "National change", "Assessment", "Rank", "Region", "Country", "Maximum"],
        "change": "Total change {change:+.2f} (national mean {national:+.2f}; margin ±{margin:.2f}: {status}).",
        "lfl": ("Like for like (without {dropped}, whose series breaks): {before:.2f} → {now:.2f} ({change:+.2f}; national "
                "{national:+.2f}), rank {rank_before} of {of_before} → {rank} of {of}."),
        "se": "95% confidence interval of the total: {low:.2f}–{high:.2f} (standard error {se:.2f} as published).",
        "band_se": "Provinces ranked {lo}–{hi} have totals not significantly different from this province's (within the margin).",
        "band": ("Provinces ranked {lo}–{hi} are within {t:.2f} points of this province's total; rank differences inside "
                 "that band are within the margin of error."),
        "official": "Published rank: {rank} of {of} ({source}); the card's rank is computed from the scores.",
        "fewer": ("In {year} only {n} of {total} provinces have a published score (missing: {missing}); ranks are computed "
                  "among these {n} and may differ from the official rank."),
        "margin": ("Margin of error: a change smaller than the threshold (total {t_total:.2f}; dimensions {t_min:.2f}–{t_max:.2f} "
                   "points) counts as about unchanged; threshold = 1.96 × √2 × the median standard error published ({basis})."),
        "margin_default": "Margin of error: no published standard errors; a change below {t:.2f} points (1% of the maximum) counts as about unchanged.",
        "margin_own": "Changes are set against the province's own margin: 1.96 × √(previous SE² + current SE²).",
        "assess": "Beyond the margin: up {up}, down {down}; about unchanged: {flat}{nc}.",
        "nc": "; not comparable: {items}",
        "status": {"up": "up", "down": "down", "flat": "about unchanged", "nc": "not comparable", "": ""},
        "breaknote": "Not comparable with {prev}: {items}.",
        "quartile_rule": "Quartile group = ceil(4 × rank / number ranked); group 1 is the top quarter.",
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
    change: dict | None = None  # total change, national change, comparability, like-for-like
    uncertainty: dict = field(default_factory=dict)  # margin rule, thresholds, SE and rank band of the card year
    published_rank: dict | None = None  # a rank the publisher printed for this province-year
    coverage: dict = field(default_factory=dict)  # provinces scored vs all provinces that year


def _annual(panel: pd.DataFrame) -> pd.DataFrame:
    """Annual provincial values in the 63-province coding (one row selection: the cards run 68 times a run)."""
    return panel[(panel["date"].fillna("") == "") & (panel["province_code"] != "00") & (panel["vintage"] != VINTAGE_34)]


@lru_cache(maxsize=4)
def _read_processed(path: str, mtime_ns: int) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"province_code": str, "date": str, "other_date": str}, dtype_backend="numpy_nullable",
                       keep_default_na=False, na_values=[""])


def _processed(name: str) -> pd.DataFrame:
    """A processed table read once per file version (a default run builds ~70 cards), or an empty frame
    when the build has none (the cards then fall back to the stated threshold and computed ranks)."""
    path = Path(paths.processed_dir()) / f"{name}.csv"
    if not path.exists():
        return pd.DataFrame()
    return _read_processed(str(path.resolve()), path.resolve().stat().st_mtime_ns)


def published_ranks(crosschecks: pd.DataFrame | None = None) -> pd.DataFrame:
    """Ranks the publisher printed (the rank comparisons of `crosschecks.csv`), one row per province,
    year, index and indicator: rank, rank_of (may be missing) and where it was published."""
    x = _processed("crosschecks") if crosschecks is None else crosschecks
    if x.empty or "kind" not in x:
        return pd.DataFrame(columns=["province_code", "year", "index", "indicator", "rank", "rank_of", "source_ref"])
    r = x[x["kind"] == "rank"]
    return pd.DataFrame({
        "province_code": r["province_code"].astype(str), "year": r["year"].astype(int), "index": r["index"].astype(str),
        "indicator": r["indicator"].astype(str).str.replace(r"_rank$", "", regex=True), "rank": r["other_value"].astype(int),
        "rank_of": r.get("rank_of_reported", pd.NA), "source_ref": r["other_source_ref"].astype(str),
    }).drop_duplicates(["province_code", "year", "index", "indicator"])


def standard_errors(uncertainty: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published standard errors (`uncertainty.csv`): province_code, year, index, indicator, se."""
    u = _processed("uncertainty") if uncertainty is None else uncertainty
    if u.empty:
        return pd.DataFrame(columns=["province_code", "year", "index", "indicator", "se"])
    return u[["province_code", "year", "index", "indicator", "se"]].astype({"year": int, "se": float})


def thresholds(se: pd.DataFrame, index: str) -> dict[str, tuple[float, str, float]]:
    """Per indicator: the 'about unchanged' threshold 1.96 x sqrt(2) x median published SE, its basis, and
    the maximum of the score in the year(s) the SEs come from (a year on another scale rescales it)."""
    mine = se[se["index"] == index]
    out = {}
    for ind, g in mine.groupby("indicator"):
        years = sorted(int(y) for y in g["year"].unique())
        scale = codebook.expected_scale_max(index, str(ind), years[-1]) or float("nan")
        out[str(ind)] = (float(Z95 * math.sqrt(2) * g["se"].median()), f"{index} {', '.join(map(str, years))}, {g['province_code'].nunique()}",
                         float(scale))
    return out


def _assess(change: float, margin: float, comparable: bool) -> str:
    if not comparable:
        return "nc"
    if pd.isna(change):
        return ""
    if abs(change) < margin:
        return "flat"
    return "up" if change > 0 else "down"


def _margin(code: str, ind: str, years: tuple[int, int], se_by: dict, rule: dict, scale: float) -> tuple[float, str]:
    """The margin a change of `ind` between two years must exceed: the province's own published SEs if both
    years have them, else the stated threshold, else 1% of the maximum."""
    a, b = (se_by.get((code, y, ind)) for y in years)
    if a is not None and b is not None:
        return Z95 * math.sqrt(a**2 + b**2), "own"
    if ind in rule:
        t, _, at = rule[ind]
        return t * (scale / at if at == at and at > 0 else 1.0), "threshold"
    return DEFAULT_THRESHOLD_SHARE * scale, "default"


def _rank_band(code: str, totals: pd.Series, se_by: dict, year: int, ind: str, fallback: float) -> tuple[int, int, str]:
    """The band of ranks around this province's whose scores lie within the margin of its own, going up
    and down the ranking until the first province outside: pairwise 1.96 x sqrt(se_i^2 + se_j^2) where
    every score of the year has a published SE, else the threshold."""
    ses = pd.Series({c: se_by.get((c, year, ind)) for c in totals.index}, dtype=float)
    basis = "se" if ses.notna().all() else "threshold"
    order = totals.sort_values(ascending=False)
    ranks = order.rank(method="min", ascending=False)
    within = (order - order[code]).abs() < (Z95 * np.sqrt(ses[code] ** 2 + ses[order.index] ** 2) if basis == "se" else fallback)
    pos = order.index.get_loc(code)
    lo = hi = pos
    while lo > 0 and within.iloc[lo - 1]:
        lo -= 1
    while hi < len(order) - 1 and within.iloc[hi + 1]:
        hi += 1
    return int(ranks.iloc[lo]), int(ranks.iloc[hi]), basis


def _leaf_totals(leaves: pd.DataFrame, parts: list[str], year: int) -> pd.Series:
    """Sum of `parts` per province in `year`, only where every part is present."""
    w = leaves[(leaves["year"] == year) & leaves["indicator"].isin(parts)].pivot_table(
        index="province_code", columns="indicator", values="value", aggfunc="first")
    w = w.reindex(columns=parts).dropna()
    return w.sum(axis=1)


def _like_for_like(code: str, idx: pd.DataFrame, index: str, prev: int, year: int) -> dict | None:
    """The total without the parts whose series break between `prev` and `year`, for every province with
    all remaining parts: the province's values, ranks and the national mean change."""
    keep, dropped = like_for_like(index, "total", prev, year)
    if not dropped or not keep:
        return None
    leaves = idx[idx["indicator"].isin(keep) & idx["year"].isin([prev, year])]
    before, now = _leaf_totals(leaves, keep, prev), _leaf_totals(leaves, keep, year)
    if code not in before.index or code not in now.index:
        return None
    both = before.index.intersection(now.index)
    rb, rn = before.rank(method="min", ascending=False), now.rank(method="min", ascending=False)
    return {"dropped": dropped, "before": float(before[code]), "now": float(now[code]), "change": float(now[code] - before[code]),
            "national_change": float(now[both].mean() - before[both].mean()), "rank_before": int(rb[code]), "of_before": len(before),
            "rank": int(rn[code]), "of": len(now)}


def build_card(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, year: int, index: str = "PAPI",
               uncertainty: pd.DataFrame | None = None, crosschecks: pd.DataFrame | None = None) -> Card:
    """Everything a report card states, computed from the panel. `province` may be any known spelling.
    If the province has no score in `year`, its latest earlier year is used and the card says so.
    `uncertainty` and `crosschecks` default to the processed tables."""
    code = Registry(provinces).resolve(province, column="province")
    return build_cards(panel, provinces, year, index, codes=[code], uncertainty=uncertainty, crosschecks=crosschecks)[code]


def build_cards(panel: pd.DataFrame, provinces: pd.DataFrame, year: int, index: str = "PAPI",
                codes: list[str] | None = None, uncertainty: pd.DataFrame | None = None,
                crosschecks: pd.DataFrame | None = None) -> dict[str, Card]:
    """Cards for many provinces in one pass: national and regional means, thresholds and like-for-like
    totals are computed once, not per card."""
    table = provinces[provinces["vintage"] != VINTAGE_34].set_index("province_code", drop=False)  # codes unique per vintage
    all_codes = sorted(table.index[table["vintage"] == "gso-2008"])
    ann = _annual(panel)
    # the card states the publisher's results: a researcher's or the press's value of the same index is
    # listed nowhere on it and changes none of its ranks or means
    idx = ann[(ann["index"] == index) & ann["reliability"].isin(RANKING_RELIABILITY)]
    tot = tot_all = idx[idx["indicator"] == "total"].sort_values("year")
    dims = idx[idx["indicator"].str.fullmatch(r"d\d")].copy()
    dims["region"] = dims["province_code"].map(table["region"])
    national = dims.groupby(["year", "indicator"])["value"].mean()
    regional = dims.groupby(["year", "region", "indicator"])["value"].mean()
    heads = ann[(ann["index"] != index) & ((ann["indicator"] == "total") | ann["indicator"].str.endswith("total_rank"))]
    se = standard_errors(uncertainty)
    se = se[se["index"] == index]
    se_by = {(c, int(y), i): float(v) for c, y, i, v in zip(se["province_code"], se["year"], se["indicator"], se["se"], strict=True)}
    rule = thresholds(se, index)
    ranks_pub = published_ranks(crosschecks)
    ranks_pub = ranks_pub[(ranks_pub["index"] == index) & (ranks_pub["indicator"] == "total")].set_index(["province_code", "year"])
    dim_years = {(str(i), int(y)): g.set_index("province_code")["value"] for (i, y), g in dims.groupby(["indicator", "year"])}

    def national_change(ind: str, prev: int, now: int) -> float:
        a, b = dim_years.get((ind, prev)), dim_years.get((ind, now))
        both = a.index.intersection(b.index) if a is not None and b is not None else []
        return float(b[both].mean() - a[both].mean()) if len(both) else np.nan

    if codes is not None:  # group only the requested provinces' rows (one card: one small group)
        dims, tot, heads = (d[d["province_code"].isin(codes)] for d in (dims, tot, heads))
    dims_by = {k: g for k, g in dims.groupby("province_code")}
    tot_by = {k: g for k, g in tot.groupby("province_code")}
    heads_by = {k: g for k, g in heads.groupby("province_code")}
    totals_by_year = {int(y): g.set_index("province_code")["value"] for y, g in tot_all.groupby("year")}
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
        year_totals = totals_by_year[card_year]
        t_total = _margin(code, "total", (card_year, card_year), {}, rule, total["scale"])[0]
        lo, hi, band_basis = _rank_band(code, year_totals, se_by, card_year, "total", t_total)
        own_se = se_by.get((code, card_year, "total"))
        uncertainty_info = {
            "se": own_se, "ci95": (total["value"] - Z95 * own_se, total["value"] + Z95 * own_se) if own_se else None,
            "rank_band": (lo, hi), "band_basis": band_basis, "threshold_total": t_total,
            "thresholds": {k: v[0] for k, v in rule.items() if k != "total"} | {"total": t_total},
            "basis": next(iter(rule.values()))[1] if rule else "",
            "rule": "threshold" if rule else "default",
        }
        missing = [c for c in all_codes if c not in year_totals.index]
        coverage = {"n": int(len(year_totals)), "total": len(all_codes), "missing": [str(table.at[c, "province"]) for c in missing]}
        pub = ranks_pub.loc[(code, card_year)] if (code, card_year) in ranks_pub.index else None
        published = None if pub is None else {"rank": int(pub["rank"]), "rank_of": None if pd.isna(pub["rank_of"]) else int(pub["rank_of"]),
                                               "source_ref": str(pub["source_ref"])}
        prev_rows = own[own["year"] < card_year]
        previous, change = None, None
        if not prev_rows.empty:
            p = prev_rows.iloc[-1]
            prev_year = int(p["year"])
            ok, found = codebook.comparable(index, "total", prev_year, card_year)
            ok_rel, _ = codebook.comparable(index, "total", prev_year, card_year, relative=True)
            previous = {"year": prev_year, "value": float(p["value"]), "rank": int(p["rank"]), "rank_of": int(p["rank_of"]),
                        "comparable": ok, "rank_comparable": ok_rel,
                        "breaks": [b.note for b in sorted(found, key=lambda b: b.kind != "method") if not b.comparable],
                        "caveats": [b.note for b in found if b.comparable]}
            before_totals = totals_by_year[prev_year]
            both = before_totals.index.intersection(year_totals.index)
            margin, basis = _margin(code, "total", (prev_year, card_year), se_by, rule, total["scale"])
            ch = total["value"] - previous["value"]
            change = {"change": ch, "national_change": float(year_totals[both].mean() - before_totals[both].mean()),
                      "margin": margin, "margin_basis": basis, "status": _assess(ch, margin, ok), "comparable": ok,
                      "like_for_like": _like_for_like(code, idx, index, prev_year, card_year) if ok else None}
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
        if previous:
            nat_change, comp, why, margins, statuses = [], [], [], [], []
            for ind, ch, mx in zip(dimensions["indicator"], dimensions["change"], dimensions["max"], strict=True):
                nat_change.append(national_change(ind, previous["year"], card_year))
                ok, found = codebook.comparable(index, ind, previous["year"], card_year)
                comp.append(ok)
                why.append("; ".join(b.note for b in found if not b.comparable))
                m, _ = _margin(code, ind, (previous["year"], card_year), se_by, rule, float(mx))
                margins.append(m)
                statuses.append(_assess(ch, m, ok))
            dimensions["national_change"] = nat_change
            dimensions["comparable"] = comp
            dimensions["break_note"] = why
            dimensions["margin"] = margins
            dimensions["status"] = statuses
        else:
            for c, v in (("national_change", np.nan), ("comparable", False), ("break_note", ""), ("margin", np.nan), ("status", "")):
                dimensions[c] = v
        history = own[["year", "value", "rank", "rank_of", "method_version"]]
        others = heads_by.get(code, heads.iloc[0:0])
        others = others[others["year"] == card_year][["index", "indicator", "value", "scale_max", "rank", "rank_of", "reliability",
                                                       "source_id", "source_ref"]]
        if previous and not previous["comparable"]:
            notes.append("break")
        cards[code] = Card(code, str(info["province"]), str(info["region"]), str(info["region_en"]), int(card_year), index, total,
                           previous, dimensions, history.reset_index(drop=True), others.reset_index(drop=True), notes,
                           change=change, uncertainty=uncertainty_info, published_rank=published, coverage=coverage)
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


def _not_comparable(card: Card, lang: str) -> str:
    """Names of the dimensions not comparable with the previous year, each with its changed or broken parts."""
    col = 0 if lang == "vi" else 1
    items = []
    for ind in card.dimensions.loc[card.dimensions["status"] == "nc", "indicator"]:
        name = label(card.index, ind)[col]
        _, dropped = like_for_like(card.index, ind, card.previous["year"], card.year)
        parts = ", ".join(label(card.index, p)[col] for p in dropped)
        items.append(TEXT[lang]["parts"].format(name=name, parts=parts) if parts else name)
    return "; ".join(items)


def _statements(card: Card, lang: str) -> list[str]:
    """The card's sentences in order: total and rank, published rank, coverage, margin of error, the previous
    year, the change against the country, like for like, breaks, dimensions up and down."""
    t = TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    tot, unc = card.total, card.uncertainty
    out = [t["total"].format(value=tot["value"], scale=tot["scale"], rank=tot["rank"], rank_of=tot["rank_of"],
                             quartile=QUARTILE[lang][tot["quartile"]])]
    if card.published_rank:
        pr = card.published_rank
        out.append(t["official"].format(rank=pr["rank"], of=pr["rank_of"] or "?", source=pr["source_ref"]))
    cov = card.coverage
    if cov and cov["n"] < cov["total"]:
        out.append(t["fewer"].format(year=card.year, n=cov["n"], total=cov["total"], missing=", ".join(cov["missing"])))
    if unc:
        if unc.get("ci95"):
            out.append(t["se"].format(low=unc["ci95"][0], high=unc["ci95"][1], se=unc["se"]))
        lo, hi = unc["rank_band"]
        if hi > lo:
            out.append(t["band_se"].format(lo=lo, hi=hi) if unc["band_basis"] == "se" else t["band"].format(lo=lo, hi=hi, t=unc["threshold_total"]))
    if card.previous:
        p = card.previous
        same_n = p["rank_of"] == tot["rank_of"]
        delta = _delta(tot["rank"], p["rank"], lang) if same_n else t["diffn"]
        if p["rank_comparable"]:
            out.append(t["prev"].format(prev=p["year"], value=p["value"], rank=p["rank"], rank_of=p["rank_of"], delta=delta))
        if card.change and card.change["comparable"]:
            c = card.change
            out.append(t["change"].format(change=c["change"], national=c["national_change"], margin=c["margin"], status=t["status"][c["status"]]))
            lfl = card.change.get("like_for_like")
            if lfl:
                dropped = ", ".join(label(card.index, d)[0 if lang == "vi" else 1] for d in lfl["dropped"])
                out.append(t["lfl"].format(dropped=dropped, before=lfl["before"], now=lfl["now"], change=lfl["change"],
                                           national=lfl["national_change"], rank_before=lfl["rank_before"], of_before=lfl["of_before"],
                                           rank=lfl["rank"], of=lfl["of"]))
    if "break" in card.notes:
        why = (card.previous or {}).get("breaks", [""])[0].split(";")[0]
        out.append(t["break"].format(index=card.index, prev=card.previous["year"], year=card.year, why=why))
    d = card.dimensions
    if not d.empty and card.previous and d["change"].notna().any() and (d["status"] != "nc").any():
        up = d[d["change"] > 0]
        out.append(t["dims"].format(prev=card.previous["year"], up=len(up), down=int((d["change"] < 0).sum()),
                                    up_list=", ".join(up[name_col]) or "-"))
        nc = _not_comparable(card, lang)
        out.append(t["assess"].format(up=int((d["status"] == "up").sum()), down=int((d["status"] == "down").sum()),
                                      flat=int((d["status"] == "flat").sum()), nc=t["nc"].format(items=nc) if nc else ""))
    return out


def _footnotes(card: Card, lang: str) -> list[str]:
    """How to read the card: the margin-of-error rule actually applied and the quartile rule."""
    t, unc = TEXT[lang], card.uncertainty
    notes = []
    if unc:
        dims = [v for k, v in unc["thresholds"].items() if k != "total"]
        if unc["rule"] == "threshold" and dims:
            basis = unc["basis"].rsplit(", ", 1)
            basis = f"{basis[0]}, {basis[1]} tỉnh" if lang == "vi" else f"{basis[0]}, {basis[1]} provinces"
            notes.append(t["margin"].format(t_total=unc["threshold_total"], t_min=min(dims), t_max=max(dims), basis=basis))
        else:
            notes.append(t["margin_default"].format(t=unc["threshold_total"]))
        if card.change and card.change["margin_basis"] == "own":
            notes.append(t["margin_own"])
    notes.append(t["quartile_rule"])
    return notes


def render(card: Card, lang: str = "vi", weakest: int = 3) -> str:
    """The card as Markdown text."""
    if lang not in TEXT:
        raise DataError("language must be 'vi' or 'en'", column="language", value=lang)
    t = TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    index_name = INDEX_LABELS.get(card.index, (card.index, card.index))[0 if lang == "vi" else 1]
    out = [f"## {t['title'].format(province=card.province, index=f'{index_name} ({card.index})', year=card.year)}", ""]
    body = [t["fallback"].format(asked=n.split(":")[1], used=card.year) for n in card.notes if n.startswith("fallback:")]
    body += _statements(card, lang)
    d = card.dimensions
    if not d.empty:
        weak = d.sort_values("gap_to_max", ascending=False).head(weakest)
        items = "; ".join(t["gap"].format(name=r[name_col], value=r["value"], max=r["max"], gap=r["gap_to_max"]) for _, r in weak.iterrows())
        body.append(t["weak"].format(items=items))
        body.append(t["region"].format(region=card.region if lang == "vi" else card.region_en,
                                       above=int((d["value"] > d["national_mean"]).sum()), below=int((d["value"] < d["national_mean"]).sum())))
    out.append("\n\n".join(body))  # one paragraph per statement
    if not d.empty:
        out += ["", "| " + " | ".join(t["cols"]) + " |", "|" + "---|" * len(t["cols"])]
        for _, r in d.iterrows():
            ch = "" if pd.isna(r["change"]) else f"{r['change']:+.2f}"
            nat = "" if pd.isna(r["national_change"]) else f"{r['national_change']:+.2f}"
            prev = "" if pd.isna(r["previous"]) else f"{r['previous']:.2f}"
            out.append(f"| {r[name_col]} | {r['value']:.2f} | {prev} | {ch} | {nat} | {t['status'][r['status']]} | {r['rank']}/{r['rank_of']} | "
                       f"{r['region_mean']:.2f} | {r['national_mean']:.2f} | {r['max']:g} |")
    for note in _footnotes(card, lang):
        out += ["", f"_{note}_"]
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
    """The machine-readable part of a card (results.json). `dimensions_up`/`_down` count every change by its
    sign, as the provincial reports do; `dimensions_beyond_margin_*`, `_about_unchanged` and
    `_not_comparable` apply the margin and the codebook's breaks."""
    d = card.dimensions
    pick = (lambda mask: sorted(d.loc[mask, "indicator"])) if not d.empty else (lambda mask: [])
    return {
        "province_code": card.province_code, "province": card.province, "year": card.year, "index": card.index,
        "total": card.total, "previous": card.previous, "change": card.change, "uncertainty": card.uncertainty,
        "published_rank": card.published_rank, "coverage": card.coverage,
        "dimensions_up": pick(d["change"] > 0) if not d.empty else [],
        "dimensions_down": pick(d["change"] < 0) if not d.empty else [],
        "dimensions_beyond_margin_up": pick(d["status"] == "up") if not d.empty else [],
        "dimensions_beyond_margin_down": pick(d["status"] == "down") if not d.empty else [],
        "dimensions_about_unchanged": pick(d["status"] == "flat") if not d.empty else [],
        "dimensions_not_comparable": pick(d["status"] == "nc") if not d.empty else [],
        "weakest": list(d.sort_values("gap_to_max", ascending=False)["indicator"].head(3)) if not d.empty else [],
        "other_indices": card.others[["index", "indicator", "value", "rank", "rank_of"]].to_dict("records"),
    }


def card_figure(card: Card, lang: str = "vi"):  # noqa: ANN201 - returns a matplotlib Figure
    """Dimensions against region and country, and the rank over time: one line per comparable segment of
    the total (a rank is free of scale, not of what is measured), a dashed line at each break."""
    import matplotlib.pyplot as plt

    t = TEXT[lang]
    rank_col = t["cols"][6]
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
    years = [int(y) for y in card.history["year"]]
    h = card.history.set_index("year").reindex(range(min(years), max(years) + 1))
    for k, seg in enumerate(codebook.segments(card.index, "total", years, relative=True)):
        part = h.loc[seg[0]:seg[-1]]
        b.plot(part.index, part["rank"].astype(float), marker="o", color="#1f6f8b")  # unpublished years leave a gap
        if k:
            b.axvline(seg[0] - 0.5, color="grey", ls="--", lw=0.8)
    b.invert_yaxis()
    b.set_ylabel(rank_col)
    b.set_title(f"{card.index} {rank_col.lower()}")
    return fig
