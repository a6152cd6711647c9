"""Reported values: the DTI 2022 rank list, the partial 2017 e-government ranking, the values quoted in
the press, and the project's own transcription of the provincial articles. Each row keeps its page
address (`source_ref`) and reliability grade; a row with only a rank becomes an `<indicator>_rank`
observation, and a row with neither value nor rank is recorded as excluded, never dropped silently.
Values of the 34 provinces of 2025 keep their 2025 names and codes (vintage gso-2025), never a 63-province
code; values of the Decision 766 index are snapshots and carry a date."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..errors import DataError
from ..manifest import Source
from .common import Context, decimals_tolerance, obs_frame, parse_number

NEWS_INDICATORS: dict[str, tuple[str, str]] = {
    "PAR_INDEX": ("PAR_INDEX", "total"),
    "PAR_INDEX_provincial_average": ("PAR_INDEX", "total"),
    "SIPAS": ("SIPAS", "total"),
    "SIPAS_national": ("SIPAS", "total"),
    "DTI_provincial": ("DTI", "total"),
    "DTI_provincial_average": ("DTI", "total"),
    # the press's pillar scores ("chính quyền số 0,6683") are not the main indices of the DTI table ("hoạt động chính
    # quyền số" 0.635 for the same province-year): another measure, kept apart (codebook)
    "DTI_digital_government_pillar": ("DTI", "digital_government_pillar"),
    "DTI_digital_economy_pillar": ("DTI", "digital_economy_pillar"),
    "DTI_digital_society_pillar": ("DTI", "digital_society_pillar"),
    "VIETNAM_ICT_INDEX": ("ICT_INDEX", "total"),
    "ICT_INDEX_technical_infrastructure": ("ICT_INDEX", "technical_infrastructure"),
    "ICT_INDEX_human_resources": ("ICT_INDEX", "human_resources"),
    "ICT_INDEX_IT_application": ("ICT_INDEX", "it_application"),
    "ICT_INDEX_online_public_services": ("ICT_INDEX", "online_public_services"),
    "DVC_766_index_total": ("DVC766", "total"),
    "DVC_766_online_services_component": ("DVC766", "clgq"),  # "points of 22": online_22 (see DVC766_BY_UNIT)
    "online_dossier_share": ("ONLINE_SERVICES", "online_dossier_share"),
    "DVC_online_full_process_count": ("ONLINE_SERVICES", "full_process_services"),
    "DVC_online_partial_count": ("ONLINE_SERVICES", "partial_services"),
    "online_payment_transactions_8m": ("ONLINE_SERVICES", "online_payment_transactions_8m"),
    "online_payment_share": ("ONLINE_SERVICES", "online_payment_share"),
    "TTHC_with_online_service_share": ("ONLINE_SERVICES", "procedures_with_online_service_share"),
    "electronic_result_share": ("ONLINE_SERVICES", "electronic_result_share"),
    "dossier_digitization_share": ("ONLINE_SERVICES", "dossier_digitization_share"),
    "TTHC_on_DVC_portal_share": ("ONLINE_SERVICES", "procedures_on_national_portal_share"),
    "online_payment_dossier_share": ("ONLINE_SERVICES", "online_payment_dossier_share"),
    "online_payment_national_portal": ("ONLINE_SERVICES", "online_payment_national_portal"),
}
DVC766_BY_UNIT = {("DVC766", "clgq", "points of 22"): "online_22"}
"""The press's "online services component" of the 766 index is the 12-point online-services component of the
2025 workbooks when quoted out of 12; out of 22 it is the five-part layout's online-services component, online
public services (CLGQ, of 12) plus online payment (TTTT, of 10), as the yearly table gives it (codebook)."""
_DAY = re.compile(r"\b(\d{1,2})-(\d{1,2})-(\d{4})\b")
POST_MERGER = ("34-province", "post-merger")
UNIT_MAX = {
    "percent of max (0-100)": 100.0, "percent": 100.0, "percent of dossiers": 100.0, "index 0-1": 1.0,
    "points of 100": 100.0, "points of 22": 22.0, "points of 12": 12.0, "count": None, "rank": None,
}


def _obs(name: object, year: int, index: str, indicator: str, value: float, scale_max: float | None, *,
         rank: int | None = None, rank_of: int | None = None, grade: str | None = None, note: str = "",
         source_ref: str = "", date: str | None = None, file: str, row: int, column: str, tol: float = 1e-3,
         vintage: str | None = None) -> dict[str, Any]:
    return {
        "province_raw": name, "vintage": vintage, "year": year, "index": index, "indicator": indicator, "value": value,
        "scale_max": scale_max, "method_version": "", "date": date, "rank": rank, "rank_of": rank_of, "grade": grade,
        "note": note, "source_ref": source_ref, "_file": file, "_row": row, "_column": column, "_tol": tol,
    }


def _int(value: object, *, file: str, row: int, column: str) -> int | None:
    v = parse_number(value, file=file, row=row, column=column)
    if v is None:
        return None
    if v != int(v) or v < 1:
        raise DataError("a rank must be a whole number from 1", file=file, row=row, column=column, value=value)
    return int(v)


def _read_csv(src: Source) -> tuple[str, pd.DataFrame]:
    return str(src.local_path), pd.read_csv(src.local_path, dtype=str, keep_default_na=False)


def read_dti_2022(src: Source, ctx: Context) -> pd.DataFrame:
    file, df = _read_csv(src)
    recs = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        ind = r["indicator"]
        year = int(r["year"])
        rank = _int(r["rank"], file=file, row=i, column="rank")
        value = parse_number(r["value"], file=file, row=i, column="value")
        if ind == "DTI_provincial_rank_overall":
            if rank is None:
                raise DataError("rank list row without a rank", file=file, row=i, column="rank", value=r["rank"])
            recs.append(_obs(r["province"], year, "DTI", "total_rank", float(rank), 63.0, grade="A", rank=rank, rank_of=63,
                             note="rank list (all 63); scores not in the stored page", source_ref=r["source_url"],
                             file=file, row=i, column="rank", tol=0.0))
            continue
        m = re.match(r"DTI_(\w+?) \(", ind)
        if not m or value is None:
            raise DataError("unexpected DTI row", file=file, row=i, column="indicator", value=ind)
        code = "total" if m.group(1) == "provincial_total" else m.group(1)
        recs.append(_obs(r["province"], year, "DTI", code, value, 1.0, rank=rank, rank_of=63 if rank else None, grade="A",
                         note=r["table_part"], source_ref=r["source_url"], file=file, row=i, column="value",
                         tol=decimals_tolerance(r["value"])))
    return obs_frame(recs)


def read_mic_egov_2017(src: Source, ctx: Context) -> pd.DataFrame:
    file, df = _read_csv(src)
    recs = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        value = parse_number(r["value"], file=file, row=i, column="value")
        rank = _int(r["rank"], file=file, row=i, column="rank")
        if value is None:
            ctx.exclude(src.id, file, i, "no value", r)
            continue
        recs.append(_obs(r["province"], int(r["year"]), "MIC_EGOV", "total", value, 1.0, rank=rank, rank_of=63, grade="A",
                         note="partial table: 53 of 63 provinces readable", source_ref=r["source_url"], file=file, row=i,
                         column="value", tol=decimals_tolerance(r["value_as_printed"].replace(",", "."))))
    return obs_frame(recs)


def _vintage_pages(df: pd.DataFrame) -> set[str]:
    """Pages that report on the 34 provinces of 2025: a rank out of 34, or the note says so. Every value quoted
    from such a page uses the 2025 names (Sơn La's component is on the same page as its rank out of 34)."""
    pages = set()
    for r in df.to_dict("records"):
        text = f"{r['note']} {r['value_as_reported']}".lower()
        if str(r["rank_out_of"]).strip() == "34" or any(m in text for m in POST_MERGER):
            pages.add(r["source_url"])
    return pages


def _snapshot_date(year: int, quote: str) -> str:
    """A year-to-date index value is a snapshot: the day when the quote states one (d-m-yyyy), else the
    year alone, which says 'some day of that year, not stated' and never equals a dated cut-off."""
    m = _DAY.search(quote)
    if m and int(m.group(3)) == year:
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    return str(year)


def read_news(src: Source, ctx: Context) -> pd.DataFrame:
    file, df = _read_csv(src)
    return obs_frame(_news_records(src, ctx, df, file))


def _news_records(src: Source, ctx: Context, df: pd.DataFrame, file: str) -> list[dict[str, Any]]:
    """Observations of a press table with the columns of news_reported_values.csv (`unit` and `reliability`
    included): values, or published ranks as `<indicator>_rank` rows; neither is recorded as excluded."""
    from ..panel.codebook import YEAR_TO_DATE_INDICES

    pages_2025 = _vintage_pages(df)
    recs = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        ind = r["indicator"]
        if ind not in NEWS_INDICATORS:
            raise DataError("unknown indicator in reported values", file=file, row=i, column="indicator", value=ind)
        index, code = NEWS_INDICATORS[ind]
        unit = r["unit"]
        if unit not in UNIT_MAX:
            raise DataError("unknown unit", file=file, row=i, column="unit", value=unit)
        code = DVC766_BY_UNIT.get((index, code, unit), code)
        rank_of = _int(r["rank_out_of"], file=file, row=i, column="rank_out_of")
        vintage = "gso-2025" if r["source_url"] in pages_2025 else "gso-2008"
        year = int(r["year"])
        value = parse_number(r["value"], file=file, row=i, column="value")
        rank = _int(r["rank"], file=file, row=i, column="rank")
        quote = r["value_as_reported"] + (f" [{r['note']}]" if r["note"] else "")
        date = None
        if index in YEAR_TO_DATE_INDICES:  # the day in the quote, else in the note ("snapshot 29-8-2025"), else the year
            date = _snapshot_date(year, r["value_as_reported"])
            date = _snapshot_date(year, r["note"]) if date == str(year) else date
        common = {"grade": r["reliability"], "note": quote, "source_ref": r["source_url"], "file": file, "row": i,
                  "vintage": vintage, "date": date}
        if value is not None:
            scale = UNIT_MAX[unit]
            if unit == "rank":
                scale = float(rank_of) if rank_of else None
            recs.append(_obs(r["province"], year, index, code, value, scale, rank=rank, rank_of=rank_of, column="value",
                             tol=decimals_tolerance(r["value"]), **common))
        elif rank is not None:
            recs.append(_obs(r["province"], year, index, f"{code}_rank", float(rank), float(rank_of) if rank_of else None,
                             rank=rank, rank_of=rank_of, column="rank", tol=0.0, **common))
        else:
            ctx.exclude(src.id, file, i, "no numeric value or rank (group membership or approximate wording)", r)
    return recs


SUPPLEMENT_COLUMNS = ["province", "year", "indicator", "value", "rank", "rank_out_of", "value_as_reported", "source_url", "status", "note"]
SUPPLEMENT_STATUS = ("new", "adds_rank", "adds_value", "duplicate_confirms", "resolves_conflict")
SUPPLEMENT_UNITS = {"PAR_INDEX": "percent of max (0-100)", "SIPAS": "percent", "DVC_766_index_total": "points of 100"}
"""The supplement has no unit column: each of its indicators has one unit (PAR INDEX and SIPAS in % , the 766
total in points of 100)."""
PRESS_GRADES = {
    # SOURCE.md's grades: A government portal, VNA/VietnamPlus, Nhân Dân, Government news portal; B other
    # established press; C a mirror or re-post, or a foreign-language re-translation
    "sonoivu.yenbai.gov.vn": "A", "vietnamnews.vn": "A",
    "www.thitruonghanghoa.com": "B", "english.vtv.vn": "B", "m.baophapluat.vn": "B", "m.btv.org.vn": "B", "kinhtedothi.vn": "B",
    "dantri.com.vn": "B",
    "viet-jo.com": "C", "thongtin.vietnam.vn": "C", "211.88.39.63": "C",
}
"""The supplement has no grade column: the grade follows the page's host by SOURCE.md's rule. A page on a host
not listed here stops the build, so a new row is graded by a person, not by default."""


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return (urlsplit(url).hostname or "").lower()


def read_news_supplement(src: Source, ctx: Context) -> pd.DataFrame:
    """The supplement of press values (news_reported_values_2.csv): as the first file, with the unit of each
    indicator, the grade of each page's host and the row's `status` kept in its note. Its manifest priority is
    ahead of the first file's: it re-read the pages and settles the conflicts it names (PAR INDEX 2018 Quảng
    Ninh: 89.06, not 89.6), and the build records the value it sets aside in conflicts.csv."""
    file, df = _read_csv(src)
    missing = [c for c in SUPPLEMENT_COLUMNS if c not in df.columns]
    if missing:
        raise DataError("missing column", file=file, row=1, column=missing[0])
    units, grades, notes = [], [], []
    for i, r in enumerate(df.to_dict("records"), start=2):
        status = r["status"].split(" ", 1)[0]
        if status not in SUPPLEMENT_STATUS:
            raise DataError(f"unknown status (known: {', '.join(SUPPLEMENT_STATUS)})", file=file, row=i, column="status", value=r["status"])
        if r["indicator"] not in SUPPLEMENT_UNITS:
            raise DataError("indicator without a known unit in the supplement", file=file, row=i, column="indicator", value=r["indicator"])
        host = _host(r["source_url"])
        if host not in PRESS_GRADES:
            raise DataError("page on a host with no reliability grade (add it to PRESS_GRADES by SOURCE.md's rule)", file=file, row=i,
                            column="source_url", value=r["source_url"])
        units.append(SUPPLEMENT_UNITS[r["indicator"]])
        grades.append(PRESS_GRADES[host])
        notes.append("; ".join(filter(None, [f"supplement status: {r['status']}", r["note"]])))
    df = df.assign(unit=units, reliability=grades, note=notes)
    return obs_frame(_news_records(src, ctx, df, file))


PAR_2020_COLUMNS = {
    "score_defgh_de_fen": "appraisal_score",
    "impact_sipas_fuwu_manyidu": "sipas_points",
    "impact_leader_survey_lingdao_guanli": "leaders_survey_points",
    "impact_socioeconomic": "socioeconomic_impact",
    "par_index_total": "total",
}
"""PAR INDEX 2020 of the top ten provinces and its parts, as the Chinese consular note prints them (columns named
by its Chinese labels); the codebook gives the parts the names of the Ministry of Home Affairs."""
PAR_2020_SUM_TOLERANCE = 0.015  # as printed: Quảng Ninh's parts add to 91.05 against a total of 91.04


def read_par_2020_parts(src: Source, ctx: Context) -> pd.DataFrame:
    file, df = _read_csv(src)
    need = ["rank", "province_as_printed_zh", "province", "year", *PAR_2020_COLUMNS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError("missing column", file=file, row=1, column=missing[0])
    url = str(src.upstream.get("url") or src.path)  # the one page all rows are from
    recs = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        values = {c: parse_number(r[c], file=file, row=i, column=c) for c in PAR_2020_COLUMNS}
        blank = [c for c, v in values.items() if v is None]
        if blank:
            raise DataError("a province row without every part", file=file, row=i, column=blank[0], value="")
        parts = sum(v for c, v in values.items() if c != "par_index_total")
        if abs(parts - values["par_index_total"]) > PAR_2020_SUM_TOLERANCE:
            raise DataError(f"the parts add up to {parts:.2f}, not the total", file=file, row=i, column="par_index_total",
                            value=r["par_index_total"])
        rank = _int(r["rank"], file=file, row=i, column="rank")
        year = parse_number(r["year"], file=file, row=i, column="year")
        for col, code in PAR_2020_COLUMNS.items():
            recs.append(_obs(r["province"], int(year), "PAR_INDEX", code, values[col], 100.0 if code == "total" else None,
                             rank=rank if code == "total" else None, rank_of=63 if code == "total" else None, grade="C",
                             note=f"{r['province_as_printed_zh']}: {col} {r[col]} (Chinese MOFCOM consular note citing Báo Đầu tư, "
                                  "28-6-2021; parts as printed)", source_ref=url, file=file, row=i, column=col,
                             tol=decimals_tolerance(r[col])))
    return obs_frame(recs)


REPORTED_COLUMNS = ["province", "year", "index", "indicator", "value", "scale_max", "rank", "rank_of", "date", "source", "quote", "note"]


def read_reported_table(src: Source, ctx: Context) -> pd.DataFrame:
    """The project's own transcriptions in data/reported/ (the provincial articles; press PAPI/PCI figures)."""
    file, df = _read_csv(src)
    missing = [c for c in REPORTED_COLUMNS if c not in df.columns]
    if missing:
        raise DataError("missing column", file=file, row=1, column=missing[0])
    recs = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        value = parse_number(r["value"], file=file, row=i, column="value")
        if value is None:
            raise DataError("article row without a value", file=file, row=i, column="value", value=r["value"])
        recs.append(_obs(r["province"], int(r["year"]), r["index"], r["indicator"], value,
                         parse_number(r["scale_max"], file=file, row=i, column="scale_max"),
                         rank=_int(r["rank"], file=file, row=i, column="rank"),
                         rank_of=_int(r["rank_of"], file=file, row=i, column="rank_of"), grade="article",
                         note=f"{r['quote']}" + (f" [{r['note']}]" if r["note"] else ""), source_ref=r["source"],
                         date=r["date"] or None, file=file, row=i, column="value", tol=decimals_tolerance(r["value"])))
    return obs_frame(recs)
