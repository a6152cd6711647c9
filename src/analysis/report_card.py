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
- **Margin of error**: a change within 1.96 x sqrt(se1^2 + se2^2) of the province's own standard errors is
  "not distinguishable". A year without published SEs borrows the province's own SE from the nearest year that
  has them (PAPI 2019), rescaled to the year's maximum: first from a year the score is comparable with, else
  from the nearest year of the same survey design, across a change of content (a province's SE varies far
  more across provinces than across years; the median of all provinces' would misjudge small and large
  samples alike). Across a redesign (PAPI before 2018) the stated threshold
  1.96 x sqrt(2) x (median published SE, rescaled: 0.77 points out of 60) applies; an index without any
  published SE uses 1% of the maximum. Rank gaps use the same SEs: the card gives the band of ranks whose
  scores are within the margin of the province's.
- **Counts**: the dimensions beyond the margin (up, down), not distinguishable and not comparable lead; the raw
  count of ups and downs (what provincial reports print) follows, labelled, naming the non-comparable ones.
  Where a part of the total breaks, the like-for-like total and rank lead and the published rank change
  follows with the break it contains.
- **National change**: every change is shown beside the change of the national mean over provinces.

Indices the project has only as reported values (PAR INDEX, SIPAS: `ranked: false` in the codebook) get a
card of what was published: score, published rank, field scores with their share of the maximum and rank,
the previous reported year's score and rank, and the national mean where reported, each value marked as
reported with its source. Their ranks are compared across years, their levels are not (the criteria are
revised often).

Numbers are written as the language writes them (`analysis.i18n.fmt_number`: 40,76 and 1.603 in
Vietnamese) and lists of names are joined with "; " (names such as "Công khai, minh bạch" contain commas)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .citation import cite
from .errors import DataError
from .i18n import fmt_number, fmt_rank, index_short, join, reliability, strip_unit
from .panel import codebook
from .panel.codebook import INDEX_LABELS, PUBLISHED_RELIABILITY, RANKING_RELIABILITY, label
from .registry import VINTAGE_34, Registry
from .stats.breaks import like_for_like, like_for_like_series
from .stats.ranks import rank_intervals

Z95 = 1.959963984540054
PERCENT_INDICES = {"PAR_INDEX", "SIPAS"}  # indices whose publisher writes the total as a percentage
DEFAULT_THRESHOLD_SHARE = 0.01  # of the maximum, for an index without published standard errors

QUARTILE = {
    "vi": {1: "nhóm cao nhất", 2: "nhóm trung bình cao", 3: "nhóm trung bình thấp", 4: "nhóm thấp nhất"},
    "en": {1: "top quartile", 2: "upper-middle quartile", 3: "lower-middle quartile", 4: "bottom quartile"},
}
TOTAL_LABEL = {"vi": "Tổng điểm", "en": "Total"}
DIMENSIONS_LABEL = {"vi": "nội dung", "en": "dimensions"}
# Numbers arrive formatted (fmt_number), so the templates carry no format specifications.
TEXT = {
    "vi": {
        "title": "{province}: {index} năm {year}",
        "total": "Tổng điểm {value}/{scale}, xếp thứ {rank}/{rank_of} tỉnh, thành phố có điểm công bố ({quartile}).",
        "prev": "Năm {prev}: {value} điểm, thứ {rank}/{rank_of} ({delta}).",
        "break": ("Lưu ý: {index} thay đổi phương pháp giữa năm {prev} và năm {year}; điểm và thứ hạng của hai năm đo các nội dung "
                  "khác nhau nên không so sánh."),
        "break_data": ("Lưu ý: chuỗi {index} bị gián đoạn giữa năm {prev} và năm {year} (các tỉnh đổi chỗ với nhau, nguyên nhân chưa "
                       "được công bố; xem danh mục chỉ số); điểm và thứ hạng của hai năm không so sánh với nhau."),
        "diffn": "thứ hạng trong số tỉnh khác nhau, không so sánh số bậc",
        "parts": "{name} (thay đổi hoặc gián đoạn ở: {parts})",
        "fallback": "Lưu ý: tỉnh không có điểm công bố năm {asked}; thẻ này dùng năm {used}.",
        "dims": ("Thay đổi thô, chưa tính biên sai số (cách báo cáo của tỉnh thường đếm): {up} nội dung tăng điểm ({up_list}), "
                 "{down} nội dung giảm điểm{nc}."),
        "dims_nc": "; trong đó {n} nội dung không so sánh được ({items})",
        "weak": "Nội dung thấp điểm nhất: {items}.",
        "gap": "{name} {value}/{max} (còn cách tối đa {gap})",
        "region": ("So với vùng {region}: {r_above} nội dung cao hơn trung bình vùng, {r_below} nội dung thấp hơn; so với cả nước: "
                   "{above} nội dung cao hơn trung bình cả nước, {below} nội dung thấp hơn."),
        "common": "Xếp lại trong {n} tỉnh có điểm cả hai năm {prev} và {year}: thứ {before} → {now}, {delta}.",
        "prev_plain": "Năm {prev}: {value} điểm, thứ {rank}/{rank_of}.",
        "prev_break_plain": ("Theo điểm công bố: năm {prev} {value} điểm, thứ {rank}/{rank_of}; thay đổi thứ hạng dưới đây gồm cả phần "
                             "gián đoạn của {dropped}."),
        "change_break": ("Tổng điểm công bố thay đổi {change} (trung bình cả nước {national}); thay đổi này gồm cả phần gián đoạn "
                         "nên không đánh giá tăng hay giảm."),
        "lfl_verdict": "; biên sai số ±{margin}, của tổng điểm đầy đủ: {status}",
        "applies": " Áp dụng cho: {items}.",
        "other": "Các chỉ số khác của tỉnh",
        "none": "Không có chỉ số khác trong dữ liệu đến năm {year}.",
        "other_item": "{name}, năm {year}: {value}{rank} ({reliability}; {source}: {ref})",
        "other_rank": "; thứ hạng {rank}",
        "up": "tăng {n} bậc", "down": "giảm {n} bậc", "same": "giữ nguyên thứ hạng", "up1": "tăng 1 bậc", "down1": "giảm 1 bậc",
        "source": "Nguồn",
        "cols": ["Nội dung", "Điểm", "Năm trước", "Thay đổi", "Cả nước thay đổi", "Đánh giá", "Hạng", "Vùng", "Cả nước", "Tối đa"],
        "change": "Tổng điểm thay đổi {change} (trung bình cả nước {national}; biên sai số ±{margin}: {status}).",
        "lfl": ("So sánh cùng nội dung với năm {prev} (không tính {dropped}, chuỗi số liệu bị gián đoạn{rescaled}): {before} → {now} "
                "({change}; cả nước {national}{verdict}), thứ {rank_before} → {rank} trong {of} tỉnh có các nội dung này cả hai năm ({delta})."),
        "lfl_rescaled": "; quy về thang điểm năm {prev}: {parts}",
        "prev_break": ("Theo điểm công bố: năm {prev} {value} điểm, thứ {rank}/{rank_of} ({delta}); thay đổi thứ hạng này gồm cả "
                       "phần gián đoạn của {dropped}."),
        "source_switch": ("Thay đổi nguồn số liệu: điểm năm {prev} là số liệu {rel_prev}, điểm năm {year} là số liệu {rel}; "
                          "không đối chiếu được hai nguồn cho cùng một năm."),
        "reliability": "Điểm năm {year}: số liệu {rel}.",
        "se": "Khoảng tin cậy 95% của tổng điểm: {low}–{high} (± 1,96 × sai số chuẩn {se} do nhóm nghiên cứu công bố).",
        "se_level": " Khoảng ghi là \"95% CI\" trong bảng công bố rộng ± 1,645 sai số chuẩn, tức là khoảng 90%.",
        "band_se": ("Thứ {lo}–{hi}: dãy các tỉnh liền kề có tổng điểm không khác biệt có ý nghĩa thống kê với tỉnh (trong biên sai số); "
                    "tỉnh xa hơn cũng có thể không khác biệt."),
        "band_proxy": ("Thứ {lo}–{hi}: dãy các tỉnh liền kề có tổng điểm không khác biệt có ý nghĩa thống kê với tỉnh, tính bằng sai số "
                       "chuẩn công bố năm {se_year} của từng tỉnh (năm nay không công bố sai số chuẩn); tỉnh xa hơn cũng có thể không khác biệt."),
        "band": ("Thứ {lo}–{hi}: dãy các tỉnh liền kề có tổng điểm chênh lệch dưới {t} điểm so với tỉnh; khác biệt về thứ hạng "
                 "trong dãy này nằm trong biên sai số."),
        "rank_ci": ("Khoảng tin cậy 95% của thứ hạng: thứ {lo}–{hi} trong {n} tỉnh, thành phố (mô phỏng từ sai số chuẩn {basis} của "
                    "mọi tỉnh; khoảng cho riêng tỉnh này, phương pháp của Mogstad, Romano, Shaikh và Wilhelm, 2024)."),
        "rank_ci_own": "công bố",
        "rank_ci_proxy": "công bố năm {se_year}",
        "multiplicity": ("Mỗi nội dung được so ở mức 5%: với {k} nội dung, kể cả khi không nội dung nào thay đổi thật, trung bình "
                         "{e} nội dung bị xếp tăng hoặc giảm do ngẫu nhiên, và {p}% số thẻ có ít nhất một nội dung như vậy; "
                         "không hiệu chỉnh cho nhiều phép so sánh (theo hiệu chỉnh Holm trong thẻ: {holm} nội dung vượt biên sai số)."),
        "official": "Thứ hạng công bố: {rank}/{of} ({source}); thứ hạng trên thẻ được tính từ điểm số.",
        "fewer": ("Năm {year} chỉ {n}/{total} tỉnh, thành phố có điểm công bố (không có: {missing}); thứ hạng được tính "
                  "trong {n} tỉnh và có thể khác thứ hạng chính thức."),
        "margin": ("Biên sai số: thay đổi nhỏ hơn ngưỡng ({thresholds} điểm) "
                   "được coi là không phân biệt được; ngưỡng = 1,96 × √2 × sai số chuẩn trung vị do nhóm nghiên cứu công bố ({basis})."),
        "margin_default": "Biên sai số: không có sai số chuẩn công bố; thay đổi nhỏ hơn {t} điểm (1% điểm tối đa) được coi là không phân biệt được.",
        "margin_own": "Thay đổi được so với biên sai số của chính tỉnh: 1,96 × √(sai số chuẩn năm trước² + năm nay²).",
        "margin_proxy": ("Thay đổi được so với biên sai số của chính tỉnh: 1,96 × √(sai số chuẩn năm trước² + năm nay²); năm không "
                         "công bố sai số chuẩn dùng sai số chuẩn của tỉnh năm {se_year} (quy về thang điểm của năm đó)."),
        "assess": ("So với năm {prev}, vượt biên sai số: {up} nội dung tăng, {down} nội dung giảm; {flat} nội dung không phân "
                   "biệt được với năm trước (trong biên sai số){nc}."),
        "nc": "; {n} nội dung không so sánh được: {items}",
        "status": {"up": "tăng", "down": "giảm", "flat": "không phân biệt được", "nc": "không so sánh được", "": ""},
        "breaknote": "Không so sánh được với năm {prev}: {items}.",
        "quartile_rule": "Nhóm (phần tư) = làm tròn lên 4 × thứ hạng / số tỉnh được xếp hạng; nhóm 1 là nhóm cao nhất.",
        "provinces": "tỉnh",
        # cards of indices known only from reported values (PAR INDEX, SIPAS)
        "r_total": "Đạt {value}/{scale} điểm{rank}.",
        "r_total_pct": "Đạt {value}%{rank}.",
        "r_rank": ", xếp thứ {rank}/{rank_of} tỉnh, thành phố",
        "r_rank_only": "Xếp thứ {rank}/{rank_of} tỉnh, thành phố; điểm số không có trong dữ liệu.",
        "r_national": "Trung bình cả nước năm {year}: {value} ({source}).",
        "r_prev": "Năm {prev} (số liệu gần nhất trước đó): {value}{delta}.",
        "r_prev_rank": "thứ {rank}/{rank_of}",
        "r_levels": ("{index} điều chỉnh tiêu chí thường xuyên: thẻ so sánh thứ hạng giữa các năm, không so sánh điểm số."),
        "r_fields": "Điểm các lĩnh vực được công bố ({n} lĩnh vực); lĩnh vực có tỷ lệ điểm so với tối đa thấp nhất: {items}.",
        "r_field_item": "{name} ({share})",
        "r_cols": ["Lĩnh vực", "Điểm", "Điểm tối đa", "Tỷ lệ so với tối đa", "Thứ hạng", "Năm trước", "Thay đổi"],
        "r_source": ("Số liệu trích dẫn: các giá trị trên thẻ do {publisher} công bố, được trích lại từ {sources}; dự án không có "
                     "bảng số liệu đầy đủ của chỉ số này, nên không tính thứ hạng, trung bình vùng hay biên sai số."),
    },
    "en": {
        "title": "{province}: {index} {year}",
        "total": "Total {value} of {scale}, ranked {rank} of {rank_of} provinces with a published score ({quartile}).",
        "prev": "{prev}: {value} points, rank {rank} of {rank_of} ({delta}).",
        "break": ("Note: {index} changed method between {prev} and {year} ({why}); scores and ranks of the two years measure "
                  "different things and are not compared."),
        "break_data": ("Note: the {index} series breaks between {prev} and {year} (the provinces change places; the data show it, "
                       "no published note explains it; see the codebook); scores and ranks of the two years are not compared."),
        "diffn": "ranked among different numbers of provinces, places not compared",
        "parts": "{name} (changed or broken parts: {parts})",
        "fallback": "Note: no published score in {asked}; this card uses {used}.",
        "dims": "Raw changes, ignoring the margin (as provincial reports count them): up {up} ({up_list}), down {down}{nc}.",
        "dims_nc": "; of these, not comparable {n} ({items})",
        "weak": "Weakest dimensions: {items}.",
        "gap": "{name} {value}/{max} ({gap} below the maximum)",
        "region": ("Against the {region} region: {r_above} dimensions above the regional mean, {r_below} below; against the country: "
                   "{above} above the national mean, {below} below."),
        "common": "Re-ranked among the {n} provinces scored in both {prev} and {year}: {before} → {now}, {delta}.",
        "prev_plain": "{prev}: {value} points, rank {rank} of {rank_of}.",
        "prev_break_plain": ("As published: {prev} {value} points, rank {rank} of {rank_of}; the rank change below includes the break "
                             "in {dropped}."),
        "change_break": "Published total change {change} (national mean {national}); it contains the break, so no up or down is read from it.",
        "lfl_verdict": "; margin ±{margin}, that of the full total: {status}",
        "applies": " Applies to: {items}.",
        "other": "The province's other indices",
        "none": "No other index in the data up to {year}.",
        "other_item": "{name}, {year}: {value}{rank} ({reliability}; {source}: {ref})",
        "other_rank": "; rank {rank}",
        "up": "up {n} places", "down": "down {n} places", "same": "same rank", "up1": "up 1 place", "down1": "down 1 place",
        "source": "Source",
        "cols": ["Dimension", "Score", "Previous year", "Change", "National change", "Assessment", "Rank", "Region", "Country", "Maximum"],
        "change": "Total change {change} (national mean {national}; margin ±{margin}: {status}).",
        "lfl": ("Like for like with {prev} (without {dropped}, whose series breaks{rescaled}): {before} → {now} ({change}; national "
                "{national}{verdict}), rank {rank_before} → {rank} among the {of} provinces with these parts in both years ({delta})."),
        "lfl_rescaled": "; rescaled to the {prev} maximum: {parts}",
        "prev_break": ("As published: {prev} {value} points, rank {rank} of {rank_of} ({delta}); this rank change includes the break "
                       "in {dropped}."),
        "source_switch": ("Source change: the {prev} scores are {rel_prev}, the {year} scores {rel}; the two sources cannot be checked "
                          "against each other for one year."),
        "reliability": "The {year} scores are {rel}.",
        "se": "95% confidence interval of the total: {low}–{high} (± 1.96 × the standard error {se} as published).",
        "se_level": " The workbook's interval headed \"95% CI\" is ± 1.645 standard errors, a 90% interval.",
        "band_se": ("Ranks {lo}–{hi}: the run of neighbouring provinces whose totals are not significantly different from this "
                    "province's (within the margin); provinces further away may not differ either."),
        "band_proxy": ("Ranks {lo}–{hi}: the run of neighbouring provinces whose totals are not significantly different from this "
                       "province's, judged with each province's standard error published for {se_year} (none is published for this "
                       "year); provinces further away may not differ either."),
        "band": ("Ranks {lo}–{hi}: the run of neighbouring provinces within {t} points of this province's total; rank "
                 "differences inside that run are within the margin of error."),
        "rank_ci": ("95% confidence interval of the rank: {lo}–{hi} of {n} (simulated from every province's {basis} standard "
                    "error; an interval for this province alone, by the method of Mogstad, Romano, Shaikh and Wilhelm, 2024)."),
        "rank_ci_own": "published",
        "rank_ci_proxy": "{se_year}",
        "multiplicity": ("Each dimension is judged at the 5% level: with {k} dimensions, even if none really changed, {e} would be "
                         "marked up or down by chance on average, and {p}% of cards would show at least one; no adjustment for the "
                         "several comparisons is made (with Holm's adjustment within the card: {holm} beyond the margin)."),
        "official": "Published rank: {rank} of {of} ({source}); the card's rank is computed from the scores.",
        "fewer": ("In {year} only {n} of {total} provinces have a published score (missing: {missing}); ranks are computed "
                  "among these {n} and may differ from the official rank."),
        "margin": ("Margin of error: a change smaller than the threshold ({thresholds} "
                   "points) counts as not distinguishable; threshold = 1.96 × √2 × the median standard error published ({basis})."),
        "margin_default": "Margin of error: no published standard errors; a change below {t} points (1% of the maximum) counts as not distinguishable.",
        "margin_own": "Changes are set against the province's own margin: 1.96 × √(previous SE² + current SE²).",
        "margin_proxy": ("Changes are set against the province's own margin, 1.96 × √(previous SE² + current SE²); a year without "
                         "published standard errors uses the province's {se_year} standard error (rescaled to that year's maximum)."),
        "assess": "Dimensions against {prev}, beyond the margin of error: up {up}, down {down}; not distinguishable from {prev} {flat}{nc}.",
        "nc": "; not comparable {n}: {items}",
        "status": {"up": "up", "down": "down", "flat": "not distinguishable", "nc": "not comparable", "": ""},
        "breaknote": "Not comparable with {prev}: {items}.",
        "quartile_rule": "Quartile group = ceil(4 × rank / number ranked); group 1 is the top quarter.",
        "provinces": "provinces",
        "r_total": "Score {value} of {scale}{rank}.",
        "r_total_pct": "Score {value}%{rank}.",
        "r_rank": ", ranked {rank} of {rank_of} provinces",
        "r_rank_only": "Ranked {rank} of {rank_of} provinces; the score is not in the data.",
        "r_national": "National mean {year}: {value} ({source}).",
        "r_prev": "{prev} (the latest earlier reported year): {value}{delta}.",
        "r_prev_rank": "rank {rank} of {rank_of}",
        "r_levels": "{index} revises its criteria often: the card compares ranks across years, not scores.",
        "r_fields": "Field scores published ({n} fields); lowest share of the maximum: {items}.",
        "r_field_item": "{name} ({share})",
        "r_cols": ["Field", "Score", "Maximum", "Share of maximum", "Rank", "Previous year", "Change"],
        "r_source": ("Reported values: published by {publisher} and quoted from {sources}; the project has no full table of this "
                     "index, so it computes no rank, regional mean or margin of error."),
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
    kind: str = "panel"  # "panel": computed from the publisher's full table; "reported": reported values only
    national: dict | None = None  # reported cards: the national mean the publisher reported that year

    @cached_property
    def rows(self) -> list[dict]:
        """`dimensions` as plain records, made once per card (or given by the builder, which has them)."""
        return self.dimensions.to_dict("records")

    @cached_property
    def other_rows(self) -> list[dict]:
        """`others` as plain records."""
        return self.others.to_dict("records")


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
    """Ranks the publisher printed (the rank comparisons of `crosschecks.csv` whose compared source is the
    publisher's or quotes it), one row per province, year, index and indicator, the publisher's own file first:
    rank, rank_of (may be missing) and where it was published."""
    x = _processed("crosschecks") if crosschecks is None else crosschecks
    if x.empty or "kind" not in x:
        return pd.DataFrame(columns=["province_code", "year", "index", "indicator", "rank", "rank_of", "source_ref", "source_id"])
    # a rank is the publisher's only when the compared value came from the publisher or its press: a rank column
    # in a researcher's table is compared like any source but never printed as "published"
    r = x[(x["kind"] == "rank") & x["other_reliability"].isin(PUBLISHED_RELIABILITY)]
    r = r.assign(_order=r["other_reliability"].map({"official": 0, "compiled": 1, "reported": 2})).sort_values("_order", kind="stable")
    return pd.DataFrame({
        "province_code": r["province_code"].astype(str), "year": r["year"].astype(int), "index": r["index"].astype(str),
        "indicator": r["indicator"].astype(str).str.replace(r"_rank$", "", regex=True), "rank": r["other_value"].astype(int),
        "rank_of": r.get("rank_of_reported", pd.NA), "source_ref": r["other_source_ref"].astype(str),
        "source_id": r["other_source_id"].astype(str),
    }).drop_duplicates(["province_code", "year", "index", "indicator"])


def standard_errors(uncertainty: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published standard errors (`uncertainty.csv`): province_code, year, index, indicator, se and the level
    of the interval the publisher printed (PAPI 2019's "95% CI" is +-1.645 SE: 0.9)."""
    cols = ["province_code", "year", "index", "indicator", "se", "ci_level_published"]
    u = _processed("uncertainty") if uncertainty is None else uncertainty
    if u.empty:
        return pd.DataFrame(columns=cols)
    u = u.assign(ci_level_published=u.get("ci_level_published", np.nan))
    return u[cols].astype({"year": int, "se": float, "ci_level_published": float})


def thresholds(se: pd.DataFrame, index: str) -> dict[str, tuple[float, str, float]]:
    """Per indicator: the 'not distinguishable' threshold 1.96 x sqrt(2) x median published SE, its basis, and
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


def _margin(ses: tuple[float | None, float | None], proxied: bool, ind: str, rule: dict, scale: float) -> tuple[float, str]:
    """The margin a change of `ind` between two years must exceed: the province's own standard errors of
    both years (`ses`; "own" when both were published, "own_proxy" when one or both are the province's
    published SE of another year of the same series, rescaled), else the stated threshold, else 1% of the
    maximum."""
    a, b = ses
    if a is not None and b is not None:
        return Z95 * math.sqrt(a**2 + b**2), "own_proxy" if proxied else "own"
    if ind in rule:
        t, _, at = rule[ind]
        return t * (scale / at if at == at and at > 0 else 1.0), "threshold"
    return DEFAULT_THRESHOLD_SHARE * scale, "default"


def _band(order: pd.Series, ses: pd.Series, ranks: np.ndarray, basis: str, code: str, fallback: float) -> tuple[int, int, str]:
    """The band of ranks around this province's whose scores lie within the margin of its own, going up
    and down the ranking (`order`: the year's totals, best first) until the first province outside:
    pairwise 1.96 x sqrt(se_i^2 + se_j^2) where every score of the year has a standard error (published,
    or the province's own SE of another year of the same series), else the threshold."""
    pos = order.index.get_loc(code)
    values = order.to_numpy(float)
    limit = Z95 * np.sqrt(ses.iloc[pos] ** 2 + ses.to_numpy(float) ** 2) if basis in ("se", "se_proxy") else fallback
    within = np.abs(values - values[pos]) < limit
    lo = hi = pos
    while lo > 0 and within[lo - 1]:
        lo -= 1
    while hi < len(values) - 1 and within[hi + 1]:
        hi += 1
    return int(ranks[lo]), int(ranks[hi]), basis


def _lfl_totals(idx: pd.DataFrame, index: str, prev: int, year: int) -> dict | None:
    """The totals without the parts whose series break between `prev` and `year`, for every province with
    all remaining parts in both years, their ranks and the national mean change (the same for every card of
    that pair of years, so computed once). Both years are on `prev`'s scale (`stats.breaks.like_for_like_series`
    with the two years as one segment): a part the publisher rescaled between them (PAPI d5 leaves 2.5 -> 3.33
    in 2021, d8.1/d8.2 5 -> 3.33 in 2019) never shows up as a change."""
    keep, dropped = like_for_like(index, "total", prev, year)
    if not dropped or not keep:
        return None
    rows, _ = like_for_like_series(idx, index, "total", [[prev, year]])
    w = rows.pivot_table(index="province_code", columns="year", values="value", aggfunc="first").reindex(columns=[prev, year]).dropna()
    before, now = w[prev], w[year]  # ranks among the same provinces in both years, or places mean nothing
    rank = lambda s: s.rank(method="min", ascending=False).astype(int).to_dict()  # noqa: E731
    rescaled = [leaf for leaf in keep if codebook.expected_scale_max(index, leaf, prev) != codebook.expected_scale_max(index, leaf, year)]
    return {"dropped": dropped, "rescaled": rescaled, "before": before.to_dict(), "now": now.to_dict(),
            "rank_before": rank(before), "rank": rank(now),
            "national_change": float(now.mean() - before.mean()), "of_before": len(w), "of": len(w)}


def _like_for_like(code: str, totals: dict | None) -> dict | None:
    """The province's like-for-like totals, their ranks among the provinces with both, and the national mean change."""
    if totals is None or code not in totals["before"] or code not in totals["now"]:
        return None
    before, now = float(totals["before"][code]), float(totals["now"][code])
    return {"dropped": totals["dropped"], "rescaled": totals["rescaled"], "before": before, "now": now, "change": now - before,
            "national_change": totals["national_change"], "rank_before": int(totals["rank_before"][code]),
            "of_before": totals["of_before"], "rank": int(totals["rank"][code]), "of": totals["of"]}


INDEX_ORDER = ["PAPI", "PCI", "PAR_INDEX", "SIPAS", "DTI", "ICT_INDEX", "MIC_EGOV", "ONLINE_SERVICES"]
OTHER_COLUMNS = ["index", "indicator", "year", "value", "scale_max", "rank", "rank_of", "reliability", "source_id", "source_ref"]


def other_indices(rows: pd.DataFrame | list[dict], year: int, as_frame: bool = True) -> pd.DataFrame | list[dict]:
    """A province's other indices as of `year`: for each index, its latest year up to `year` and there its
    headline (the total and its published rank; every indicator for an index without a total, such as
    online public services). So a 2024 card lists PAR INDEX 2022 and PCI 2019 with their years. `rows`:
    the province's rows of the other indices (a frame, or its records; plain Python is what makes ~900
    cards per site build cheap)."""
    recs = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    recs = [r for r in recs if r["year"] <= year]
    with_head = {r["index"] for r in recs if r["indicator"] in ("total", "total_rank")}
    recs = [r for r in recs if r["index"] not in with_head or r["indicator"] in ("total", "total_rank")]
    latest: dict[str, int] = {}
    for r in recs:
        latest[r["index"]] = max(latest.get(r["index"], r["year"]), r["year"])
    recs = [r for r in recs if r["year"] == latest[r["index"]]]
    ranked = {r["index"] for r in recs if r["indicator"] == "total" and not pd.isna(r["rank"])}
    recs = [r for r in recs if not (r["indicator"] == "total_rank" and r["index"] in ranked)]  # the total carries its rank
    order = {k: i for i, k in enumerate(INDEX_ORDER)}
    recs.sort(key=lambda r: (order.get(r["index"], len(order)), r["index"], r["indicator"]))
    return pd.DataFrame([{c: r[c] for c in OTHER_COLUMNS} for r in recs], columns=OTHER_COLUMNS) if as_frame else recs


def build_card(panel: pd.DataFrame, provinces: pd.DataFrame, province: str, year: int, index: str = "PAPI",
               uncertainty: pd.DataFrame | None = None, crosschecks: pd.DataFrame | None = None, fallback: bool = False) -> Card:
    """Everything a report card states, computed from the panel. `province` may be any known spelling.
    A card states published values only: a year without a published score is refused, naming the years that
    have one (and, where the researcher's own table covers the year, saying that it is theirs), unless
    `fallback` asks for the latest earlier published year, which the card then states in its first lines.
    The command line and notebook 06 follow this one rule. `uncertainty` and `crosschecks` default to the
    processed tables."""
    code = Registry(provinces).resolve(province, column="province")
    return build_cards(panel, provinces, year, index, codes=[code], uncertainty=uncertainty, crosschecks=crosschecks,
                       fallback=fallback)[code]


def refuse_year(panel: pd.DataFrame, index: str, code: str, province: str, year: int, scored: list[int]) -> DataError:
    """The error for a card year without a published value: which years have one, and whether the year is covered
    only by a researcher's own rows (which never make an official card)."""
    mine = panel[(panel["province_code"].astype(str) == code) & (panel["index"] == index) & (panel["year"] == year)
                 & (panel["reliability"] == "user")]
    years = ", ".join(map(str, scored)) or "none"
    if len(mine):
        files = ", ".join(sorted({str(v) for v in mine["source_id"]}))
        return DataError(f"{index} {year} for {province} exists only as your own value ({files}); a report card states "
                         "published values only", column="year", value=year,
                         hint=f"Years with a published value: {years}. Your values appear in your own analyses, marked as yours.")
    return DataError(f"no published {index} value for {province} in {year}", column="year", value=year,
                     hint=f"Years with a published value: {years}" + ("; or ask for the latest earlier one (fallback: true / "
                                                                       "--fallback), which the card states" if scored else ""))


def build_cards(panel: pd.DataFrame, provinces: pd.DataFrame, year: int, index: str = "PAPI",
                codes: list[str] | None = None, uncertainty: pd.DataFrame | None = None,
                crosschecks: pd.DataFrame | None = None, fallback: bool = True) -> dict[str, Card]:
    """Cards for many provinces in one pass: national and regional means, thresholds and like-for-like
    totals are computed once, not per card. An index the project has only as reported values (not
    `ranked` in the codebook, or a researcher's own) gets the card of what was published. `fallback`: see
    `build_card` (many provinces of one year: a province without that year gets its latest earlier one, stated)."""
    info = codebook.index_info(index)
    if info is None or not info["ranked"]:
        wanted = codes if codes is not None else sorted(card_years(panel, index))
        return {c: card for (c, _), card in _reported_cards(panel, provinces, index, [(c, year) for c in wanted], fallback).items()}
    ctx = _Context(panel, provinces, index, codes, uncertainty, crosschecks)
    return {code: ctx.card(code, year, fallback) for code in (codes if codes is not None else sorted(ctx.scored))}


_NO_DIMS = {"indicator": [], "value": [], "rank": [], "rank_of": [], "scale_max": []}  # a province-year without dimensions


class _Context:
    """What every card of one index shares, computed once: the publisher's totals and dimensions by
    province and year, national and regional means, published standard errors and thresholds, published
    ranks, like-for-like totals and national changes per pair of years, rank orders per year."""

    def __init__(self, panel: pd.DataFrame, provinces: pd.DataFrame, index: str, codes: list[str] | None,
                 uncertainty: pd.DataFrame | None, crosschecks: pd.DataFrame | None) -> None:
        self.index = index
        self.table = provinces[provinces["vintage"] != VINTAGE_34].set_index("province_code", drop=False)  # codes unique per vintage
        self.all_codes = sorted(self.table.index[self.table["vintage"] == "gso-2008"])
        ann = _annual(panel)
        # the card states the publisher's results: a researcher's or the press's value of the same index is
        # listed nowhere on it and changes none of its ranks or means
        self.idx = idx = ann[(ann["index"] == index) & ann["reliability"].isin(RANKING_RELIABILITY)]
        tot = idx[idx["indicator"] == "total"].sort_values("year")
        dims = idx[idx["indicator"].str.fullmatch(r"d\d")].copy()
        dims["region"] = dims["province_code"].map(self.table["region"])
        self.national = {(int(y), str(i)): float(v) for (y, i), v in dims.groupby(["year", "indicator"])["value"].mean().items()}
        self.regional = {(int(y), str(r), str(i)): float(v)
                         for (y, r, i), v in dims.groupby(["year", "region", "indicator"])["value"].mean().items()}
        self.dim_years = {(str(i), int(y)): g.set_index("province_code")["value"] for (i, y), g in dims.groupby(["indicator", "year"])}
        self.totals_by_year = {int(y): g.set_index("province_code")["value"] for y, g in tot.groupby("year")}
        # the other indices the card lists are the publishers' too: a researcher's own rows (an index they
        # invented, or a newer year of a real one) would otherwise stand on an official card and push the
        # published value off it
        heads = ann[(ann["index"] != index) & ann["reliability"].isin(PUBLISHED_RELIABILITY)]
        heads = _headline_rows(heads)
        se = standard_errors(uncertainty)
        se = se[se["index"] == index]
        self.se_by = {(c, int(y), i): float(v) for c, y, i, v in zip(se["province_code"], se["year"], se["indicator"], se["se"], strict=True)}
        self.ci_level = {(c, int(y), i): float(v) for c, y, i, v in zip(se["province_code"], se["year"], se["indicator"],
                                                                        se["ci_level_published"], strict=True)}
        self.rule = thresholds(se, index)
        # a year without published SEs borrows the province's own SE from the nearest year that has them
        self.se_years = {(c, i): sorted(int(y) for y in g["year"]) for (c, i), g in se.groupby(["province_code", "indicator"])}
        self.years_with_se = sorted({int(y) for y in se["year"]})
        pub = published_ranks(crosschecks)
        pub = pub[(pub["index"] == index) & (pub["indicator"] == "total")]
        self.published = {(str(c), int(y)): {"rank": int(r), "rank_of": None if pd.isna(o) else int(o), "source_ref": str(ref),
                                             "source_id": str(sid)}
                          for c, y, r, o, ref, sid in zip(pub["province_code"], pub["year"], pub["rank"], pub["rank_of"], pub["source_ref"],
                                                          pub["source_id"],
                                                     strict=True)}
        if codes is not None:  # group only the requested provinces' rows (one card: one small group)
            dims, tot, heads = (d[d["province_code"].isin(codes)] for d in (dims, tot, heads))
        self.totals = {(str(c), int(y)): r for c, y, r in zip(tot["province_code"], tot["year"], tot.to_dict("records"), strict=True)}
        self.history = {str(k): g[["year", "value", "rank", "rank_of", "method_version"]].reset_index(drop=True)
                        for k, g in tot.groupby("province_code")}
        self.scored = {str(k): sorted(int(y) for y in g["year"]) for k, g in tot.groupby("province_code")}
        self.panel = panel  # for the refusal of a year without a published value (`refuse_year`)
        self.dims = {(str(c), int(y)): {k: list(v) for k, v in g.sort_values("indicator")[list(_NO_DIMS)].items()}
                     for (c, y), g in dims.groupby(["province_code", "year"])}
        self.heads = {str(k): g[OTHER_COLUMNS].to_dict("records") for k, g in heads.groupby("province_code")}
        self._lfl: dict[tuple[int, int], dict | None] = {}
        self._bands: dict[int, tuple] = {}
        self._intervals: dict[int, pd.DataFrame | None] = {}
        self._nat: dict[tuple[str, int, int], float] = {}
        self._common: dict[tuple[int, int], tuple[dict, dict, int, bool]] = {}
        self._coverage: dict[int, dict] = {}
        self.info = self.table[["province", "region", "region_en"]].to_dict("index")

    def coverage(self, year: int) -> dict:
        """Provinces scored in `year` against all provinces, with the names of those missing."""
        if year not in self._coverage:
            scored = set(self.totals_by_year[year].index)
            self._coverage[year] = {"n": len(scored), "total": len(self.all_codes),
                                    "missing": [str(self.info[c]["province"]) for c in self.all_codes if c not in scored]}
        return dict(self._coverage[year])

    def national_change(self, ind: str, prev: int, now: int) -> float:
        """The change of the national mean over the provinces scored in both years (the same for every card)."""
        key = (ind, prev, now)
        if key not in self._nat:
            series = self.totals_by_year if ind == "total" else {y: self.dim_years.get((ind, y)) for y in (prev, now)}
            a, b = series.get(prev), series.get(now)
            both = a.index.intersection(b.index) if a is not None and b is not None else []
            self._nat[key] = float(b[both].mean() - a[both].mean()) if len(both) else np.nan
        return self._nat[key]

    def like_for_like(self, code: str, prev: int, now: int) -> dict | None:
        if (prev, now) not in self._lfl:
            self._lfl[(prev, now)] = _lfl_totals(self.idx, self.index, prev, now)
        return _like_for_like(code, self._lfl[(prev, now)])

    def common_ranks(self, prev: int, now: int) -> tuple[dict, dict, int, bool]:
        """Ranks of the totals in `prev` and `now` among the provinces scored in both years, their number,
        and whether both years scored exactly the same provinces (then these are the published ranks)."""
        if (prev, now) not in self._common:
            a, b = self.totals_by_year[prev], self.totals_by_year[now]
            both = a.index.intersection(b.index)
            rank = lambda s: s[both].rank(method="min", ascending=False).astype(int).to_dict()  # noqa: E731
            self._common[(prev, now)] = (rank(a), rank(b), len(both), set(a.index) == set(b.index))
        return self._common[(prev, now)]

    def se(self, code: str, year: int, ind: str) -> tuple[float | None, bool]:
        """The province's standard error of `ind` in `year` and whether it is a proxy: the published SE, else
        its published SE of the nearest year from which `year` is comparable (a survey's SE of a province
        changes far less between years than SEs differ between provinces), rescaled to `year`'s maximum.
        else the nearest year of the same survey design (across a change of content or scale). None where
        neither exists or a survey redesign lies between."""
        own = self.se_by.get((code, year, ind))
        if own is not None:
            return own, False
        near = sorted(self.se_years.get((code, ind), []), key=lambda y: (abs(y - year), -y))
        # first a year the score is comparable with; else (issue 18.2) the nearest year of the same survey design:
        # a change of content or scale changes what the score measures, not how precisely the province's sample
        # measures it, so the province's own SE is a better margin than the national median; only a redesign
        # of the survey (a `method` break) stops the borrowing
        same_design = [y for y in near if not any(b.kind == "method" for b in codebook.comparable(self.index, ind, y, year)[1])]
        for y in [y for y in near if codebook.comparable(self.index, ind, y, year, relative=True)[0]] + same_design:
            at, now = codebook.expected_scale_max(self.index, ind, y), codebook.expected_scale_max(self.index, ind, year)
            return self.se_by[(code, y, ind)] * (now / at if at and now else 1.0), True
        return None, False

    def margin(self, code: str, ind: str, years: tuple[int, int], scale: float) -> tuple[float, str]:
        """See `_margin`, with the province's own (or proxy) standard errors of the two years."""
        got = [self.se(code, y, ind) for y in years]
        return _margin((got[0][0], got[1][0]), any(p for _, p in got), ind, self.rule, scale)

    def rank_band(self, code: str, year: int, fallback: float) -> tuple[int, int, str]:
        """See `_rank_band`; the year's order, ranks and standard errors are computed once."""
        if year not in self._bands:
            totals = self.totals_by_year[year]
            order = totals.sort_values(ascending=False)
            got = [self.se(c, year, "total") for c in order.index]
            ses = pd.Series([v for v, _ in got], index=order.index, dtype=float)
            ranks = order.rank(method="min", ascending=False).astype(int).to_numpy()
            basis = ("se_proxy" if any(p for _, p in got) else "se") if ses.notna().all() else "threshold"
            self._bands[year] = (order, ses, ranks, basis)
        order, ses, ranks, basis = self._bands[year]
        return _band(order, ses, ranks, basis, code, fallback)

    def rank_interval(self, code: str, year: int) -> tuple[int, int, int] | None:
        """The province's 95% rank interval (marginal, single-step; `stats.ranks.rank_intervals`) among the
        provinces scored in `year`, from the same standard errors as the rank band (published, or the province's
        own of the nearest year); None where a province of the year has none. Computed once per year."""
        if year not in self._intervals:
            self.rank_band(code, year, 0.0)  # fills the year's order and standard errors
            order, ses, _, basis = self._bands[year]
            self._intervals[year] = rank_intervals(order, ses) if basis in ("se", "se_proxy") else None
        ri = self._intervals[year]
        if ri is None or code not in ri.index:
            return None
        return int(ri.at[code, "rank_low"]), int(ri.at[code, "rank_high"]), int(ri.at[code, "n"])

    def card(self, code: str, year: int, fallback: bool = True) -> Card:
        index, info = self.index, self.info[code]
        scored = self.scored.get(code, [])
        notes: list[str] = []
        card_year = year
        if year not in scored:
            earlier = [y for y in scored if y < year]
            if not earlier or not fallback:
                raise refuse_year(self.panel, index, code, info["province"], year, scored)
            notes.append(f"fallback:{year}")
            card_year = earlier[-1]
        t = self.totals[(code, card_year)]
        total = {"value": float(t["value"]), "scale": float(t["scale_max"]), "rank": int(t["rank"]), "rank_of": int(t["rank_of"]),
                 "quartile": int(t["quartile"]), "source_id": t["source_id"], "method_version": t["method_version"],
                 "reliability": str(t["reliability"])}
        rule = self.rule
        t_total = _margin((None, None), False, "total", rule, total["scale"])[0]
        lo, hi, band_basis = self.rank_band(code, card_year, t_total)
        own_se = self.se_by.get((code, card_year, "total"))
        uncertainty_info = {
            "se": own_se, "ci95": (total["value"] - Z95 * own_se, total["value"] + Z95 * own_se) if own_se else None,
            "ci_level_published": self.ci_level.get((code, card_year, "total")),
            "rank_band": (lo, hi), "band_basis": band_basis, "threshold_total": t_total,
            "rank_interval": self.rank_interval(code, card_year),
            "thresholds": {k: v[0] for k, v in rule.items() if k != "total"} | {"total": t_total},
            "basis": next(iter(rule.values()))[1] if rule else "",
            "rule": "threshold" if rule else "default",
            "se_year": min(self.years_with_se, key=lambda y: abs(y - card_year), default=None),
        }
        coverage = self.coverage(card_year)
        published = self.published.get((code, card_year))
        previous, change = None, None
        earlier = [y for y in scored if y < card_year]
        if earlier:
            prev_year = earlier[-1]
            p = self.totals[(code, prev_year)]
            ok, found = codebook.comparable(index, "total", prev_year, card_year)
            ok_rel, _ = codebook.comparable(index, "total", prev_year, card_year, relative=True)
            r_prev, r_now, n_both, same_set = self.common_ranks(prev_year, card_year)
            previous = {"year": prev_year, "value": float(p["value"]), "rank": int(p["rank"]), "rank_of": int(p["rank_of"]),
                        "reliability": str(p["reliability"]), "same_provinces": same_set, "n_both": n_both,
                        "rank_both_before": r_prev.get(code), "rank_both_now": r_now.get(code),
                        "comparable": ok, "rank_comparable": ok_rel,
                        "breaks": [b.note for b in sorted(found, key=lambda b: b.kind != "method") if not b.comparable],
                        "caveats": [b.note for b in found if b.comparable]}
            margin, basis = self.margin(code, "total", (prev_year, card_year), total["scale"])
            ch = total["value"] - previous["value"]
            lfl = self.like_for_like(code, prev_year, card_year) if ok else None
            if lfl:  # a part broke: the verdict is on the like-for-like change; the published change contains the break
                lfl |= {"margin": margin, "status": _assess(lfl["change"], margin, True)}
            change = {"change": ch, "national_change": self.national_change("total", prev_year, card_year),
                      "margin": margin, "margin_basis": basis, "comparable": ok, "like_for_like": lfl,
                      "status": lfl["status"] if lfl else _assess(ch, margin, ok), "verdict_on": "like_for_like" if lfl else "published"}
        cur = self.dims.get((code, card_year), _NO_DIMS)
        inds = cur["indicator"]
        prev_dims = self.dims.get((code, previous["year"]), _NO_DIMS) if previous else _NO_DIMS
        before = dict(zip(prev_dims["indicator"], prev_dims["value"], strict=True))
        labels = [label(index, ind) for ind in inds]
        value = np.array(cur["value"], dtype=float)
        prev_v = np.array([before.get(ind, np.nan) for ind in inds], dtype=float)
        mx = np.array(cur["scale_max"], dtype=float)
        cols = {
            "indicator": inds, "label_vi": [vi for vi, _ in labels], "label_en": [en for _, en in labels],
            "value": value, "previous": prev_v, "rank": np.array(cur["rank"], dtype=int), "rank_of": np.array(cur["rank_of"], dtype=int),
            "region_mean": [self.regional[(card_year, str(info["region"]), ind)] for ind in inds],
            "national_mean": [self.national[(card_year, ind)] for ind in inds],
            "max": mx, "change": value - prev_v, "gap_to_max": mx - value,
        }
        if previous:
            py = previous["year"]
            checks = [codebook.comparable(index, ind, py, card_year) for ind in inds]
            got = [self.margin(code, ind, (py, card_year), float(m)) for ind, m in zip(inds, mx, strict=True)]
            margins = [m for m, _ in got]
            cols |= {"national_change": [self.national_change(ind, py, card_year) for ind in inds],
                     "comparable": [ok for ok, _ in checks],
                     "break_note": ["; ".join(b.note for b in found if not b.comparable) for _, found in checks],
                     "margin": margins, "margin_basis": [b for _, b in got],
                     "status": [_assess(ch, m, ok) for ch, m, (ok, _) in zip(cols["change"], margins, checks, strict=True)]}
        else:
            n = len(inds)
            cols |= {"national_change": [np.nan] * n, "comparable": [False] * n, "break_note": [""] * n, "margin": [np.nan] * n,
                     "margin_basis": [""] * n, "status": [""] * n}
        dimensions = pd.DataFrame(cols)
        if previous and not previous["comparable"]:
            notes.append("break")
        other_recs = other_indices(self.heads.get(code, []), card_year, as_frame=False)
        card = Card(code, str(info["province"]), str(info["region"]), str(info["region_en"]), int(card_year), index, total,
                    previous, dimensions, self.history.get(code), pd.DataFrame(other_recs, columns=OTHER_COLUMNS), notes, change=change,
                    uncertainty=uncertainty_info, published_rank=dict(published) if published else None, coverage=coverage)
        card.rows = [dict(zip(cols, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]  # the records the builder has
        card.other_rows = other_recs
        return card


def _headline_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows `other_indices` can show: totals and published total ranks, and every row of an index that
    has neither for the province (filtered once, before the per-card selection)."""
    head = rows["indicator"].isin(["total", "total_rank"])
    key = rows["province_code"].astype(str) + "|" + rows["index"].astype(str)
    return rows[head | ~key.isin(set(key[head]))]


def card_years(panel: pd.DataFrame, index: str) -> dict[str, list[int]]:
    """Per province, the years a card of `index` can state without falling back to another year: years
    with a published total (and, for reported indices, a published rank)."""
    ann = _annual(panel)
    rows = ann[ann["index"] == index]
    info = codebook.index_info(index)
    if info is not None and info["ranked"]:
        rows = rows[(rows["indicator"] == "total") & rows["reliability"].isin(RANKING_RELIABILITY)]
    else:
        rows = rows[rows["indicator"].isin(["total", "total_rank"]) & rows["reliability"].isin(PUBLISHED_RELIABILITY)]
    return {str(c): sorted({int(y) for y in g["year"]}) for c, g in rows.groupby("province_code")}


def all_cards(panel: pd.DataFrame, provinces: pd.DataFrame, index: str = "PAPI") -> dict[tuple[str, int], Card]:
    """Every card of `index` the panel supports, keyed by (province code, year), sharing one computation of
    means, thresholds and orders (what the site offers on every province page)."""
    info = codebook.index_info(index)
    years = card_years(panel, index)
    if info is None or not info["ranked"]:
        return _reported_cards(panel, provinces, index, [(code, y) for code, ys in sorted(years.items()) for y in ys])
    ctx = _Context(panel, provinces, index, None, None, None)
    return {(code, y): ctx.card(code, y) for code, ys in sorted(years.items()) for y in ys}


def _num(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _reported_total(cur: pd.DataFrame) -> dict:
    """The headline of a reported province-year: the total's value and its rank (from the total row, or
    from a separate published-rank row), with where they were published."""
    t, r = cur[cur["indicator"] == "total"], cur[cur["indicator"] == "total_rank"]
    t0 = t.iloc[0] if len(t) else None
    rank = _num(t0["rank"]) if t0 is not None else None
    rank_of = _num(t0["rank_of"]) if t0 is not None else None
    if rank is None and len(r):
        rank, rank_of = _num(r.iloc[0]["value"]), _num(r.iloc[0]["rank_of"]) or rank_of
    both = pd.concat([t, r])
    return {"value": _num(t0["value"]) if t0 is not None else None,
            "scale": _num(t0["scale_max"]) if t0 is not None else None,
            "rank": None if rank is None else int(rank), "rank_of": None if rank_of is None else int(rank_of), "quartile": None,
            "source_id": str(both.iloc[0]["source_id"]), "source_ref": sorted({str(x) for x in both["source_ref"] if str(x)}),
            "reliability": str(both.iloc[0]["reliability"]), "method_version": None}


FIELD_SUFFIXES = ("_pct_of_max", "_rank")


def _fields(cur: pd.DataFrame, index: str) -> pd.DataFrame:
    """The published field scores of a province-year, one row per field: points and their maximum, the
    share of the maximum (published, or points / maximum), and the field's published rank."""
    rows = cur[~cur["indicator"].isin(["total", "total_rank"])]
    out: dict[str, dict] = {}
    for r in rows.itertuples():
        ind = str(r.indicator)
        base = next((ind[: -len(s)] for s in FIELD_SUFFIXES if ind.endswith(s)), ind)
        if base not in out:  # the field's name without its unit ("Cải cách tài chính công", not "... (% điểm tối đa)")
            vi, en = label(index, base) if codebook.indicator_info(index, base) else label(index, ind)
            out[base] = {"indicator": base, "value": np.nan, "max": np.nan, "share": np.nan, "rank": pd.NA, "rank_of": pd.NA,
                         "label_vi": strip_unit(vi.removeprefix("Thứ hạng công bố: ")),
                         "label_en": strip_unit(en.removeprefix("Published rank: "))}
        f = out[base]
        if ind.endswith("_pct_of_max"):
            f["share"] = float(r.value)
        elif ind.endswith("_rank"):
            f["rank"], f["rank_of"] = int(r.value), (int(r.rank_of) if pd.notna(r.rank_of) else pd.NA)
        else:
            f["value"], f["max"] = float(r.value), _num(r.scale_max) or np.nan
    d = pd.DataFrame(list(out.values()), columns=["indicator", "label_vi", "label_en", "value", "max", "share", "rank", "rank_of"])
    fill = d["share"].isna() & d["value"].notna() & d["max"].notna()
    d.loc[fill, "share"] = 100 * d.loc[fill, "value"] / d.loc[fill, "max"]
    return d.sort_values("indicator").reset_index(drop=True)


def _reported_cards(panel: pd.DataFrame, provinces: pd.DataFrame, index: str,
                    wanted: list[tuple[str, int]], fallback: bool = True) -> dict[tuple[str, int], Card]:
    """Cards of an index known from reported values only, for each (province code, year) wanted: what was
    published for the province-year, the previous reported year beside it, and every value marked as
    reported with its source."""
    table = provinces[provinces["vintage"] != VINTAGE_34].set_index("province_code", drop=False)  # codes unique per vintage
    ann = _annual(panel)
    # what the publisher said, directly or as quoted: a researcher's row of the same index is not credited to it
    mine = ann[(ann["index"] == index) & ann["reliability"].isin(PUBLISHED_RELIABILITY)]
    heads = ann[(ann["index"] != index) & ann["reliability"].isin(PUBLISHED_RELIABILITY)]  # publishers' values only
    nat = panel[(panel["province_code"] == "00") & (panel["index"] == index) & (panel["indicator"] == "total")
                & (panel["date"].fillna("") == "") & panel["reliability"].isin(PUBLISHED_RELIABILITY)].set_index("year")
    years_by = card_years(panel, index)
    codes = {c for c, _ in wanted}
    mine, heads = mine[mine["province_code"].isin(codes)], _headline_rows(heads[heads["province_code"].isin(codes)])
    mine_by = {str(k): g for k, g in mine.groupby("province_code")}
    heads_by = {str(k): g[OTHER_COLUMNS].to_dict("records") for k, g in heads.groupby("province_code")}
    totals: dict[tuple[str, int], dict] = {}

    def total_of(code: str, y: int) -> dict:
        if (code, y) not in totals:
            rows = mine_by[code]
            totals[(code, y)] = _reported_total(rows[rows["year"] == y])
        return totals[(code, y)]

    cards: dict[tuple[str, int], Card] = {}
    for code, year in wanted:
        info = table.loc[code]
        scored = years_by.get(code, [])
        notes: list[str] = []
        card_year = year
        if year not in scored:
            earlier = [y for y in scored if y < year]
            if not earlier or not fallback:
                raise refuse_year(panel, index, code, info["province"], year, scored)
            notes.append(f"fallback:{year}")
            card_year = earlier[-1]
        rows = mine_by.get(code, mine.iloc[0:0])
        cur = rows[rows["year"] == card_year]
        total = total_of(code, card_year)
        fields = _fields(cur, index)
        previous = None
        before = [y for y in scored if y < card_year]
        if before:
            p = total_of(code, before[-1])
            previous = {"year": before[-1], "value": p["value"], "rank": p["rank"], "rank_of": p["rank_of"], "adjacent": before[-1] == card_year - 1}
            if previous["adjacent"]:  # field changes only between consecutive years, as the publisher reports them
                prev_fields = _fields(rows[rows["year"] == before[-1]], index).set_index("indicator")
                fields["previous"] = fields["indicator"].map(prev_fields["share"])
        if "previous" not in fields:
            fields["previous"] = np.nan
        fields["change"] = fields["share"] - fields["previous"]
        history = pd.DataFrame([{"year": y} | {k: total_of(code, y)[k] for k in ("value", "rank", "rank_of")} for y in scored],
                               columns=["year", "value", "rank", "rank_of"])
        national = None
        if card_year in nat.index:
            n = nat.loc[[card_year]].iloc[0]
            national = {"value": float(n["value"]), "source_id": str(n["source_id"]), "source_ref": str(n["source_ref"])}
        others = other_indices(heads_by[code], card_year) if code in heads_by else pd.DataFrame(columns=OTHER_COLUMNS)
        cards[(code, year)] = Card(code, str(info["province"]), str(info["region"]), str(info["region_en"]), int(card_year), index,
                                   total, previous, fields, history, others, notes, kind="reported", national=national)
    return cards


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|&~-])")
_MD_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]<>()#+!|&~-])")


def _md(text: object) -> str:
    """Text from data as literal Markdown: every character that Markdown or HTML would read as markup is
    backslash-escaped and line breaks become spaces, so a researcher's `<script>` or `[link](...)` in a
    source is shown as typed by any Markdown renderer (the site's, nbconvert's, JupyterLab's)."""
    return _MD_SPECIAL.sub(r"\\\1", re.sub(r"[\r\n]+", " ", str(text)))


def _delta(now: int, before: int, lang: str) -> str:
    t = TEXT[lang]
    if now < before:
        return t["up1"] if before - now == 1 else t["up"].format(n=before - now)
    if now > before:
        return t["down1"] if now - before == 1 else t["down"].format(n=now - before)
    return t["same"]


def _not_comparable(card: Card, lang: str) -> str:
    """Names of the dimensions not comparable with the previous year, each with its changed or broken parts."""
    col = 0 if lang == "vi" else 1
    items = []
    for ind in [r["indicator"] for r in records(card) if r["status"] == "nc"]:
        name = label(card.index, ind)[col]
        _, dropped = like_for_like(card.index, ind, card.previous["year"], card.year)
        parts = join([label(card.index, p)[col] for p in dropped])
        items.append(TEXT[lang]["parts"].format(name=name, parts=parts) if parts else name)
    return join(items)


def _statements(card: Card, lang: str) -> list[str]:
    """The card's sentences in order: total and rank, published rank, coverage, margin of error, the previous
    year, the change against the country, like for like, breaks, dimensions up and down."""
    if card.kind == "reported":
        return _reported_statements(card, lang)
    t = TEXT[lang]
    n = lambda v, d=2, sign=False: fmt_number(v, lang, d, sign)  # noqa: E731
    name_col = "label_vi" if lang == "vi" else "label_en"
    tot, unc = card.total, card.uncertainty
    out = [t["total"].format(value=n(tot["value"]), scale=n(tot["scale"], None), rank=tot["rank"], rank_of=tot["rank_of"],
                             quartile=QUARTILE[lang][tot["quartile"]])]
    if card.published_rank:
        pr = card.published_rank
        out.append(t["official"].format(rank=pr["rank"], of=pr["rank_of"] or "?", source=cite(pr.get("source_id"), pr["source_ref"],
                                                                                              index=card.index, year=card.year, lang=lang)))
    cov = card.coverage
    if cov and cov["n"] < cov["total"]:
        out.append(t["fewer"].format(year=card.year, n=cov["n"], total=cov["total"], missing=join(cov["missing"])))
    def rel(v: str) -> str:
        return reliability(v, lang)

    if tot.get("reliability", "official") != "official" and not (card.previous and card.previous.get("reliability") != tot["reliability"]):
        out.append(t["reliability"].format(year=card.year, rel=rel(tot["reliability"])))
    if unc:
        if unc.get("ci95"):
            level = t["se_level"] if unc.get("ci_level_published") == 0.9 else ""
            out.append(t["se"].format(low=n(unc["ci95"][0]), high=n(unc["ci95"][1]), se=n(unc["se"])) + level)
        if unc.get("rank_interval"):
            r_lo, r_hi, r_n = unc["rank_interval"]
            basis = t["rank_ci_own"] if unc["band_basis"] == "se" else t["rank_ci_proxy"].format(se_year=unc["se_year"])
            out.append(t["rank_ci"].format(lo=r_lo, hi=r_hi, n=r_n, basis=basis))
        lo, hi = unc["rank_band"]
        if hi > lo:
            basis = unc["band_basis"]
            out.append(t["band_se"].format(lo=lo, hi=hi) if basis == "se" else t["band_proxy"].format(lo=lo, hi=hi, se_year=unc["se_year"])
                       if basis == "se_proxy" else t["band"].format(lo=lo, hi=hi, t=n(unc["threshold_total"])))
    if card.previous:
        p = card.previous
        common = None
        if p.get("same_provinces", p["rank_of"] == tot["rank_of"]):
            delta = _delta(tot["rank"], p["rank"], lang)
        elif p.get("rank_both_now") is not None and p.get("rank_both_before") is not None:
            # a rank among another number of provinces is its own sentence: one ranking base per sentence
            common = t["common"].format(n=p["n_both"], before=p["rank_both_before"], now=p["rank_both_now"], prev=p["year"],
                                        year=card.year, delta=_delta(p["rank_both_now"], p["rank_both_before"], lang))
            delta = None
        else:
            delta = t["diffn"]
        c = card.change if card.change and card.change["comparable"] else None
        lfl = c.get("like_for_like") if c else None
        if p.get("reliability", "official") != tot.get("reliability", "official"):
            out.append(t["source_switch"].format(prev=p["year"], year=card.year, rel_prev=rel(p["reliability"]),
                                                 rel=rel(tot["reliability"])))
        if lfl:  # a part broke: the like-for-like comparison leads, the published ranks follow with their caveat
            names = lambda parts: join([label(card.index, d)[0 if lang == "vi" else 1] for d in parts])  # noqa: E731
            rescaled = t["lfl_rescaled"].format(parts=names(lfl["rescaled"]), prev=p["year"]) if lfl.get("rescaled") else ""
            verdict = t["lfl_verdict"].format(margin=n(lfl["margin"]), status=t["status"][lfl["status"]]) if "status" in lfl else ""
            out.append(t["lfl"].format(prev=p["year"], dropped=names(lfl["dropped"]), rescaled=rescaled, before=n(lfl["before"]),
                                       now=n(lfl["now"]), change=n(lfl["change"], sign=True), national=n(lfl["national_change"], sign=True),
                                       verdict=verdict, rank_before=lfl["rank_before"], rank=lfl["rank"], of=lfl["of"],
                                       delta=_delta(lfl["rank"], lfl["rank_before"], lang)))
            key = "prev_break" if delta is not None else "prev_break_plain"
            out.append(t[key].format(prev=p["year"], value=n(p["value"]), rank=p["rank"], rank_of=p["rank_of"], delta=delta,
                                     dropped=names(lfl["dropped"])))
            if common:
                out.append(common)
        elif p["rank_comparable"]:
            key = "prev" if delta is not None else "prev_plain"
            out.append(t[key].format(prev=p["year"], value=n(p["value"]), rank=p["rank"], rank_of=p["rank_of"], delta=delta))
            if common:
                out.append(common)
        if c and lfl:
            out.append(t["change_break"].format(change=n(c["change"], sign=True), national=n(c["national_change"], sign=True)))
        elif c:
            out.append(t["change"].format(change=n(c["change"], sign=True), national=n(c["national_change"], sign=True), margin=n(c["margin"]),
                                          status=t["status"][c["status"]]))
    if "break" in card.notes:
        why = (card.previous or {}).get("breaks", [""])[0].split(";")[0]
        kinds = {b.kind for b in codebook.comparable(card.index, "total", card.previous["year"], card.year)[1] if not b.comparable}
        key = "break" if "method" in kinds or not kinds else "break_data"
        out.append(t[key].format(index=card.index, prev=card.previous["year"], year=card.year, why=why))
    d = records(card)
    if d and card.previous and any(r["change"] == r["change"] for r in d) and any(r["status"] != "nc" for r in d):
        # the margin-based assessment leads; the raw count (what provincial reports print) follows, labelled
        nc = _not_comparable(card, lang)
        n_nc = sum(r["status"] == "nc" for r in d)
        count = {k: sum(r["status"] == k for r in d) for k in ("up", "down", "flat")}
        out.append(t["assess"].format(prev=card.previous["year"], up=count["up"], down=count["down"], flat=count["flat"],
                                      nc=t["nc"].format(n=n_nc, items=nc) if nc else ""))
        judged = [r for r in d if r["status"] in ("up", "down", "flat")]
        if judged:
            k = len(judged)
            out.append(t["multiplicity"].format(k=k, e=fmt_number(0.05 * k, lang, 2), p=fmt_number(100 * (1 - 0.95**k), lang, 0),
                                                holm=_holm_beyond(judged)))
        up = [r[name_col] for r in d if r["change"] > 0]
        moved_nc = [r[name_col] for r in d if r["status"] == "nc" and r["change"] == r["change"] and r["change"] != 0]
        out.append(t["dims"].format(up=len(up), down=sum(r["change"] < 0 for r in d), up_list=join(up) or "-",
                                    nc=t["dims_nc"].format(n=len(moved_nc), items=join(moved_nc)) if moved_nc else ""))
    return out


def _holm_beyond(rows: list[dict]) -> int:
    """How many of the judged dimensions stay beyond the margin under Holm's adjustment within the card: each
    change's two-sided p from its margin (the margin is 1.96 standard errors of the change)."""
    from scipy.stats import norm

    # Holm's step-down count, with numpy: statsmodels' multipletests (stats.common.holm) collects garbage on every
    # call, 0.2 s each, which over the ~1,400 cards of a site was 290 s; tests check this count against it
    p = np.sort(2 * norm.sf(np.abs([r["change"] for r in rows]) / (np.array([r["margin"] for r in rows]) / Z95)))
    passed = p <= 0.05 / (len(p) - np.arange(len(p)))
    return int(np.argmin(passed)) if not passed.all() else len(p)


def records(card: Card) -> list[dict]:
    """The card's table as plain records (rendering ~1,700 cards per site build row by row in pandas is slow)."""
    return card.rows


def _reported_statements(card: Card, lang: str) -> list[str]:
    """A reported card's sentences: score and published rank, national mean, the previous reported year
    (ranks compared, not levels), the fields with the lowest share of their maximum."""
    t = TEXT[lang]
    n = lambda v, d=None: fmt_number(v, lang, d)  # noqa: E731
    tot = card.total
    name = index_short(card.index) or _index_name(card.index, lang)
    rank = t["r_rank"].format(rank=tot["rank"], rank_of=tot["rank_of"] or "?") if tot["rank"] is not None else ""
    if tot["value"] is not None:
        # PAR INDEX and SIPAS are printed by their publisher as a percentage of the maximum ("80,79%")
        key = "r_total_pct" if card.index in PERCENT_INDICES and (tot["scale"] or 100) == 100 else "r_total"
        out = [t[key].format(value=n(tot["value"], 2), scale=n(tot["scale"] or 100), rank=rank)]
    else:
        out = [t["r_rank_only"].format(rank=tot["rank"], rank_of=tot["rank_of"] or "?")]
    if card.national:
        out.append(t["r_national"].format(year=card.year, value=n(card.national["value"], 2), source=cite(card.national.get("source_id"), card.national["source_ref"], lang=lang)))
    p = card.previous
    if p:
        prank = t["r_prev_rank"].format(rank=p["rank"], rank_of=p["rank_of"] or "?") if p["rank"] is not None else ""
        value = n(p["value"], 2) if p["value"] is not None else ""
        delta = ""
        if p["rank"] is not None and tot["rank"] is not None and p["rank_of"] == tot["rank_of"]:
            delta = _delta(tot["rank"], p["rank"], lang)
        parts = [x for x in (value, prank) if x]
        out.append(t["r_prev"].format(prev=p["year"], value=", ".join(parts), delta=f" ({delta})" if delta else ""))
        out.append(t["r_levels"].format(index=name))
    d = records(card)
    if d:
        low = sorted((r for r in d if r["share"] == r["share"]), key=lambda r: r["share"])[:3]
        name_col = "label_vi" if lang == "vi" else "label_en"
        items = join([t["r_field_item"].format(name=_md(r[name_col]), share=n(r["share"], 1) + "%") for r in low])
        out.append(t["r_fields"].format(n=len(d), items=items or "-"))
    return out


def _index_name(index: str, lang: str) -> str:
    vi, en = INDEX_LABELS.get(index, (index, index))
    return vi if lang == "vi" else en


def footnotes(card: Card, lang: str) -> list[str]:
    """How to read the card: the margin-of-error rule actually applied and the quartile rule; for a
    reported card, that its values are reported and where from."""
    t, unc = TEXT[lang], card.uncertainty
    if card.kind == "reported":
        publisher = codebook.publisher(card.index, lang) or _index_name(card.index, lang)
        refs = join(list(dict.fromkeys(_md(cite(card.total["source_id"], r, lang=lang)) for r in card.total["source_ref"]))
                    or [_md(cite(card.total["source_id"], lang=lang))])
        return [t["r_source"].format(publisher=_md(publisher), sources=refs)]
    notes = []
    n = lambda v: fmt_number(v, lang, 2)  # noqa: E731
    if unc:
        # the margin rules this card actually applied, each with the rows it applied to
        col = 0 if lang == "vi" else 1
        used: dict[str, list[tuple[str, float]]] = {}  # rule -> (row name, its margin)
        if card.change and card.change.get("margin_basis"):
            used.setdefault(card.change["margin_basis"], []).append((TOTAL_LABEL[lang], card.change["margin"]))
        for r in records(card):
            if r.get("margin_basis") and r["status"] not in ("nc", ""):
                used.setdefault(r["margin_basis"], []).append((label(card.index, r["indicator"])[col], r["margin"]))
        if not used:  # no change on the card: the rule behind the rank band
            used = {"threshold" if unc["rule"] == "threshold" else "default": []} if unc["band_basis"] == "threshold" else {}
        dims = [v for k, v in unc["thresholds"].items() if k != "total"]
        for basis, rows in used.items():
            names = join([name for name, _ in rows])
            if basis == "own":
                text = t["margin_own"]
            elif basis == "own_proxy":
                text = t["margin_proxy"].format(se_year=unc.get("se_year"))
            elif basis == "threshold" and (dims or rows):
                where = unc["basis"].rsplit(", ", 1)
                # the thresholds of the rows this rule judged, or (a card with no change) the total's and the dimensions' range
                values = join([f"{name} {n(v)}" for name, v in rows]) if rows else \
                    f"{TOTAL_LABEL[lang]} {n(unc['threshold_total'])}; {DIMENSIONS_LABEL[lang]} {n(min(dims))}–{n(max(dims))}"
                text = t["margin"].format(thresholds=values, basis=f"{where[0]}, {where[1]} {t['provinces']}")
                names = ""  # the rows are named with their thresholds
            else:
                text = t["margin_default"].format(t=n(unc["threshold_total"]))
            notes.append(text + (t["applies"].format(items=names) if len(used) > 1 and names else ""))
    notes.append(t["quartile_rule"])
    return notes


def table_cells(card: Card, lang: str) -> tuple[list[str], list[list[str]]]:
    """The card's table as header and rows of text (Markdown, DOCX and the site use the same cells)."""
    t = TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    d = records(card)
    n = lambda v, dec=2, sign=False: fmt_number(v, lang, dec, sign)  # noqa: E731
    if card.kind == "reported":
        rows = [[r[name_col], fmt_number(r["value"], lang, 4, strip=True), fmt_number(r["max"], lang, 4, strip=True), (n(r["share"], 1) + "%") if pd.notna(r["share"]) else "",
                 fmt_rank(r["rank"], r["rank_of"]), (n(r["previous"], 1) + "%") if pd.notna(r["previous"]) else "",
                 n(r["change"], 1, True)] for r in d]
        keep = [0] + [j for j in range(1, len(t["r_cols"])) if any(row[j] for row in rows)]  # no column left empty
        return [t["r_cols"][j] for j in keep], [[row[j] for j in keep] for row in rows]
    rows = [[r[name_col], n(r["value"]), n(r["previous"]), n(r["change"], sign=True), n(r["national_change"], sign=True),
             t["status"][r["status"]], f"{r['rank']}/{r['rank_of']}", n(r["region_mean"]), n(r["national_mean"]), n(r["max"], None)]
            for r in d]
    return t["cols"], rows


def other_lines(card: Card, lang: str) -> list[str]:
    """One line per other index: its name, year, value (or published rank), reliability and source; text
    from data escaped for Markdown."""
    t = TEXT[lang]
    col = 0 if lang == "vi" else 1
    out = []
    for r in card.other_rows:
        ind = str(r["indicator"])
        short = index_short(str(r["index"]))
        name = _index_name(r["index"], lang) if ind == "total" else label(r["index"], ind)[col]
        name = f"{name} ({short})" if short and short.lower() not in name.lower() else name
        if ind.endswith("_rank"):
            value, rank = fmt_rank(r["value"], r["rank_of"]), ""
        else:
            value = fmt_number(r["value"], lang)
            rank = t["other_rank"].format(rank=fmt_rank(r["rank"], r["rank_of"])) if pd.notna(r["rank"]) else ""
        out.append(t["other_item"].format(name=_md(name), year=int(r["year"]), value=value, rank=rank,
                                          reliability=_md(reliability(r["reliability"], lang)), source=t["source"],
                                          ref=_md(cite(r["source_id"], r["source_ref"], index=r["index"], year=r["year"], lang=lang))))
    return out


def title_text(card: Card, lang: str, markdown: bool = False) -> str:
    """"Bình Dương: Chỉ số ... (PAPI) năm 2020"."""
    index_name = _index_name(card.index, lang)
    short = index_short(card.index)
    title = f"{index_name} ({short})" if short and short.lower() not in index_name.lower() else index_name
    return TEXT[lang]["title"].format(province=card.province, index=_md(title) if markdown else title, year=card.year)


def paragraphs(card: Card, lang: str, weakest: int = 3) -> list[str]:
    """The card's paragraphs above its table: a note when another year was used, the statements, the
    weakest dimensions and the comparison with region and country (Markdown-escaped where from data)."""
    t = TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    body = [t["fallback"].format(asked=n.split(":")[1], used=card.year) for n in card.notes if n.startswith("fallback:")]
    body += _statements(card, lang)
    d = records(card)
    if d and card.kind == "panel":
        weak = sorted(d, key=lambda r: -r["gap_to_max"])[:weakest]  # stable: ties keep the table's order
        items = join([t["gap"].format(name=r[name_col], value=fmt_number(r["value"], lang, 2), max=fmt_number(r["max"], lang),
                                      gap=fmt_number(r["gap_to_max"], lang, 2)) for r in weak])
        body.append(t["weak"].format(items=items))
        body.append(t["region"].format(region=card.region if lang == "vi" else card.region_en,
                                       r_above=sum(r["value"] > r["region_mean"] for r in d), r_below=sum(r["value"] < r["region_mean"] for r in d),
                                       above=sum(r["value"] > r["national_mean"] for r in d), below=sum(r["value"] < r["national_mean"] for r in d)))
    return body


def plain(markdown_text: str) -> str:
    """Card text without the Markdown escapes `_md` added (for the DOCX, which is not Markdown)."""
    return _MD_UNESCAPE.sub(r"\1", markdown_text)


def render(card: Card, lang: str = "vi", weakest: int = 3) -> str:
    """The card as Markdown text."""
    if lang not in TEXT:
        raise DataError("language must be 'vi' or 'en'", column="language", value=lang)
    t = TEXT[lang]
    out = [f"## {title_text(card, lang, markdown=True)}", ""]
    out.append("\n\n".join(paragraphs(card, lang, weakest)))  # one paragraph per statement
    if records(card):
        header, rows = table_cells(card, lang)
        out += ["", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(_md(c) if i == 0 and card.kind == "reported" else c for i, c in enumerate(row)) + " |" for row in rows]
    for note in footnotes(card, lang):
        out += ["", f"_{note}_"]
    out += ["", f"### {t['other']}", ""]
    lines = other_lines(card, lang)
    out += [f"- {line}" for line in lines] if lines else [t["none"].format(year=card.year)]
    return "\n".join(out)


def card_results(card: Card) -> dict:
    """The machine-readable part of a card (results.json). `dimensions_up`/`_down` count every change by its
    sign, as the provincial reports do (a reported card: its fields' share of the maximum against the
    previous year); `dimensions_beyond_margin_*`, `_about_unchanged` and `_not_comparable` apply the margin
    and the codebook's breaks (empty for a reported card, which has no margin)."""
    d = card.dimensions
    pick = (lambda mask: sorted(d.loc[mask, "indicator"])) if not d.empty else (lambda mask: [])
    status = d["status"] if "status" in d else pd.Series("", index=d.index)
    out = {"province_code": card.province_code, "province": card.province, "year": card.year, "index": card.index, "kind": card.kind,
           "total": card.total, "previous": card.previous,
           "dimensions_up": pick(d["change"] > 0) if not d.empty else [],
           "dimensions_down": pick(d["change"] < 0) if not d.empty else [],
           "dimensions_beyond_margin_up": pick(status == "up") if not d.empty else [],
           "dimensions_beyond_margin_down": pick(status == "down") if not d.empty else [],
           "dimensions_about_unchanged": pick(status == "flat") if not d.empty else [],
           "dimensions_not_comparable": pick(status == "nc") if not d.empty else [],
           "other_indices": card.others[["index", "indicator", "year", "value", "rank", "rank_of"]].to_dict("records")}
    if card.kind == "reported":
        return out | {"national": card.national, "fields": d.to_dict("records"),
                      "weakest": list(d.sort_values("share")["indicator"].head(3)) if not d.empty else []}
    return out | {"change": card.change, "uncertainty": card.uncertainty, "published_rank": card.published_rank, "coverage": card.coverage,
                  "weakest": list(d.sort_values("gap_to_max", ascending=False)["indicator"].head(3)) if not d.empty else []}


FIGURE_TEXT = {
    "vi": {"country": "Cả nước", "dims": "Các nội dung năm {year}: tỉnh, vùng và cả nước", "rank": "Thứ hạng {index} qua các năm (1 = cao nhất)",
           "fields": "Tỷ lệ điểm so với tối đa của các lĩnh vực, năm {year} (%)", "share": "% điểm tối đa", "score": "Điểm",
           "year": "Năm", "rank_axis": "Thứ hạng"},
    "en": {"country": "Country", "dims": "Dimensions {year}: province, region and country", "rank": "{index} rank over the years (1 = best)",
           "fields": "Field scores as a share of their maximum, {year} (%)", "share": "% of maximum", "score": "Score",
           "year": "Year", "rank_axis": "Rank"},
}


def card_figure(card: Card, lang: str = "vi", width: float = 10.0):  # noqa: ANN201 - returns a matplotlib Figure
    """Dimensions (or a reported card's fields) by their full names against region and country, and the rank
    over time: one line per comparable segment of the total (a rank is free of scale, not of what is
    measured), a dashed line at each break. The legend sits below the bars in its own band, laid out by
    matplotlib, so it never covers a bar or a name; numbers follow the language (`axis_formatter`)."""
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from .i18n import axis_formatter

    ft = FIGURE_TEXT[lang]
    name_col = "label_vi" if lang == "vi" else "label_en"
    d = card.dimensions
    short = index_short(card.index) or _index_name(card.index, lang)
    fig, (a, b) = plt.subplots(1, 2, figsize=(width, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    # fixed margins (no layout pass per save): names on the left, the legend in a band at the bottom
    fig.subplots_adjust(left=0.25, right=0.98, bottom=0.2, top=0.9, wspace=0.3)
    names = [textwrap.fill(str(x), 28) for x in d[name_col]] if not d.empty else []
    y = np.arange(len(d))[::-1]
    if not d.empty and card.kind == "panel":
        h = 0.27
        a.barh(y + h, d["value"], h, label=card.province, color="#1f6f8b")
        a.barh(y, d["region_mean"], h, label=(card.region if lang == "vi" else card.region_en), color="#99c5d1")
        a.barh(y - h, d["national_mean"], h, label=ft["country"], color="#b8b8b8")
        a.set_xlim(0, float(d["max"].max()))
        a.set_xlabel(ft["score"])
        a.set_title(textwrap.fill(ft["dims"].format(year=card.year), 60), fontsize=9)
        fig.legend(*a.get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8, frameon=False,
                   bbox_to_anchor=(0.5, 0.0))
    elif not d.empty:
        a.barh(y, d["share"].fillna(0), 0.6, color="#1f6f8b")
        a.set_xlim(0, 100)
        a.set_xlabel(ft["share"])
        a.set_title(textwrap.fill(ft["fields"].format(year=card.year), 60), fontsize=9)
    if not d.empty:
        a.set_yticks(y, names, fontsize=7)
        a.xaxis.set_major_formatter(axis_formatter(lang))
        a.grid(axis="y", visible=False)
    else:
        a.set_axis_off()
    hist = card.history.dropna(subset=["rank"])
    if len(hist):
        years = [int(v) for v in hist["year"]]
        h = hist.set_index("year").reindex(range(min(years), max(years) + 1))
        segs = codebook.segments(card.index, "total", years, relative=True) if card.kind == "panel" else [years]
        for k, seg in enumerate(segs):
            part = h.loc[seg[0]:seg[-1]]
            b.plot(part.index, part["rank"].astype(float), marker="o", color="#1f6f8b")  # unpublished years leave a gap
            if k:
                b.axvline(seg[0] - 0.5, color="grey", ls="--", lw=0.8)
        worst = int(np.nanmax(hist["rank_of"].astype(float))) if hist["rank_of"].notna().any() else int(hist["rank"].max())
        b.set_ylim(worst + 0.5, 0.5)  # 1 at the top, the whole ranking shown
        b.set_xlim(min(years) - 0.5, max(years) + 0.5)
        b.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))  # years: whole numbers, no thousands separator
        b.set_yticks(sorted({1, *range(10, worst - 4, 10), worst}))
        b.set_xlabel(ft["year"])
        b.set_ylabel(ft["rank_axis"])
        b.set_title(textwrap.fill(ft["rank"].format(index=short), 40), fontsize=9)
    else:
        b.set_axis_off()
    return fig
