"""Labels (Vietnamese and English), scales and meaning changes of every index and indicator. Scales are
rules, not single numbers, because PAPI's maximum changes with its 2018 redesign and a sub-dimension's
maximum depends on how many sub-dimensions its dimension had that year."""

from __future__ import annotations

import pandas as pd

from ..sources import papi, pci

SCORE_INDICES = {"PAPI", "PCI", "PAR_INDEX", "SIPAS", "DTI", "ICT_INDEX", "MIC_EGOV"}
"""Indices whose scores are never legitimately 0: a 0 there is a missing value written as a number."""

RANKED_INDICES = {"PAPI", "PCI"}
"""Full provincial panels: ranks and quartiles are computed among the provinces with a published score."""

RANKING_RELIABILITY = {"official", "compiled"}
"""The rows a full panel's ranks are computed among: the publisher's own values (official workbooks and
their compilations). Reported and user values of PAPI or PCI are shown beside them but never ranked, so
they cannot change a published rank, rank_of or quartile."""

MIN_QUARTILE_N = 4
"""No quartile group is assigned when fewer units than this are ranked."""

PCI_SUBINDICES = set(pci.LAYOUT_COLUMNS.values()) | set(pci.CLEANED_COLUMNS.values())

INDEX_LABELS = {
    "PAPI": ("Chỉ số Hiệu quả quản trị và hành chính công cấp tỉnh", "Provincial Governance and Public Administration Performance Index"),
    "PCI": ("Chỉ số năng lực cạnh tranh cấp tỉnh", "Provincial Competitiveness Index"),
    "PAR_INDEX": ("Chỉ số cải cách hành chính", "Public Administration Reform Index"),
    "SIPAS": ("Chỉ số hài lòng về sự phục vụ hành chính", "Satisfaction Index of Public Administrative Services"),
    "DTI": ("Chỉ số chuyển đổi số cấp tỉnh", "Provincial Digital Transformation Index"),
    "ICT_INDEX": ("Chỉ số sẵn sàng cho phát triển và ứng dụng CNTT-TT (Vietnam ICT Index)", "Vietnam ICT Index"),
    "MIC_EGOV": ("Xếp hạng mức độ ứng dụng CNTT, phát triển Chính phủ điện tử", "MIC IT-application / e-government ranking"),
    "ONLINE_SERVICES": ("Dịch vụ công trực tuyến", "Online public services"),
}

LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("PAPI", "total"): ("Chỉ số PAPI (không trọng số)", "PAPI total (unweighted)"),
    ("PAPI", "d1"): ("Tham gia của người dân ở cấp cơ sở", "Participation at local levels"),
    ("PAPI", "d1.1"): ("Tri thức công dân", "Civic knowledge"),
    ("PAPI", "d1.2"): ("Cơ hội tham gia", "Opportunities for participation"),
    ("PAPI", "d1.3"): ("Chất lượng bầu cử cơ sở", "Quality of (village head) elections"),
    ("PAPI", "d1.4"): ("Đóng góp tự nguyện", "Voluntary contributions"),
    ("PAPI", "d2"): ("Công khai, minh bạch", "Transparency"),
    ("PAPI", "d2.1"): ("Tiếp cận thông tin", "Access to information"),
    ("PAPI", "d2.2"): ("Danh sách hộ nghèo", "Poverty lists"),
    ("PAPI", "d2.3"): ("Thu, chi ngân sách cấp xã/phường", "Communal budget and expenditure"),
    ("PAPI", "d2.4"): ("Kế hoạch sử dụng đất, khung giá đền bù", "Land-use plans and price frames"),
    ("PAPI", "d3"): ("Trách nhiệm giải trình với người dân", "Vertical accountability"),
    ("PAPI", "d3.1"): ("Hiệu quả tương tác với các cấp chính quyền", "Interactions with local authorities"),
    ("PAPI", "d3.2"): ("Giải đáp khiếu nại, tố cáo, khúc mắc của người dân", "Responsiveness to citizens' appeals"),
    ("PAPI", "d3.3"): ("Tiếp cận dịch vụ tư pháp", "Access to justice services"),
    ("PAPI", "d3.4"): ("Ban thanh tra nhân dân", "People's inspection boards"),
    ("PAPI", "d3.5"): ("Ban giám sát đầu tư cộng đồng", "Community investment boards"),
    ("PAPI", "d4"): ("Kiểm soát tham nhũng trong khu vực công", "Control of corruption"),
    ("PAPI", "d4.1"): ("Kiểm soát tham nhũng trong chính quyền", "Limits on public-sector corruption"),
    ("PAPI", "d4.2"): ("Kiểm soát tham nhũng trong cung ứng dịch vụ công", "Limits on corruption in service delivery"),
    ("PAPI", "d4.3"): ("Công bằng trong tuyển dụng vào nhà nước", "Equity in state employment"),
    ("PAPI", "d4.4"): ("Quyết tâm chống tham nhũng", "Willingness to fight corruption"),
    ("PAPI", "d5"): ("Thủ tục hành chính công", "Public administrative procedures"),
    ("PAPI", "d5.1"): ("Chứng thực/xác nhận", "Certification procedures"),
    ("PAPI", "d5.2"): ("Giấy phép xây dựng", "Construction permits"),
    ("PAPI", "d5.3"): ("Giấy chứng nhận quyền sử dụng đất", "Land-use rights procedures"),
    ("PAPI", "d5.4"): ("Thủ tục hành chính cấp xã/phường", "Personal procedures at commune level"),
    ("PAPI", "d6"): ("Cung ứng dịch vụ công", "Public service delivery"),
    ("PAPI", "d6.1"): ("Y tế công lập", "Public health care"),
    ("PAPI", "d6.2"): ("Giáo dục tiểu học công lập", "Public primary education"),
    ("PAPI", "d6.3"): ("Cơ sở hạ tầng căn bản", "Basic infrastructure"),
    ("PAPI", "d6.4"): ("An ninh, trật tự", "Law and order"),
    ("PAPI", "d7"): ("Quản trị môi trường", "Environmental governance"),
    ("PAPI", "d7.1"): ("Nghiêm túc trong bảo vệ môi trường", "Seriousness in environmental protection"),
    ("PAPI", "d7.2"): ("Chất lượng không khí", "Air quality"),
    ("PAPI", "d7.3"): ("Chất lượng nước", "Water quality"),
    ("PAPI", "d8"): ("Quản trị điện tử", "E-governance"),
    ("PAPI", "d8.1"): ("Sử dụng cổng thông tin điện tử của chính quyền địa phương", "Access to e-government portals"),
    ("PAPI", "d8.2"): ("Tiếp cận và sử dụng Internet tại địa phương", "Access to the Internet"),
    ("PAPI", "d8.3"): ("Phúc đáp qua cổng thông tin điện tử", "E-responsiveness of provincial authorities"),
    ("PCI", "total"): ("Chỉ số PCI (có trọng số)", "PCI (weighted, 0-100)"),
    ("PCI", "entry"): ("Chi phí gia nhập thị trường", "Entry costs"),
    ("PCI", "land"): ("Tiếp cận đất đai", "Land access and security of tenure"),
    ("PCI", "transparency"): ("Tính minh bạch", "Transparency and access to information"),
    ("PCI", "time"): ("Chi phí thời gian", "Time costs of regulatory compliance"),
    ("PCI", "informal"): ("Chi phí không chính thức", "Informal charges"),
    ("PCI", "implementation"): ("Thực hiện chính sách của Trung ương", "Implementation of central policies"),
    ("PCI", "soe_bias"): ("Ưu đãi đối với doanh nghiệp nhà nước", "Policy bias towards state-owned enterprises"),
    ("PCI", "equal_competition"): ("Cạnh tranh bình đẳng", "Equal competition (policy bias)"),
    ("PCI", "proactivity"): ("Tính năng động của chính quyền tỉnh", "Proactivity of provincial leadership"),
    ("PCI", "business_support"): ("Dịch vụ hỗ trợ doanh nghiệp", "Business support services"),
    ("PCI", "labor"): ("Đào tạo lao động", "Labour training"),
    ("PCI", "legal"): ("Thiết chế pháp lý", "Legal institutions"),
    ("PAR_INDEX", "total"): ("Chỉ số cải cách hành chính (% điểm tối đa)", "PAR INDEX (% of maximum)"),
    ("PAR_INDEX", "institutional_reform"): ("Cải cách thể chế (điểm)", "Institutional reform (points)"),
    ("PAR_INDEX", "organisational_reform"): ("Cải cách tổ chức bộ máy (điểm)", "Organisational reform (points)"),
    ("PAR_INDEX", "direction_and_management"): ("Công tác chỉ đạo, điều hành (điểm)", "Direction and management (points)"),
    ("PAR_INDEX", "egov_pct_of_max"): ("Chính quyền điện tử, chính quyền số (% điểm tối đa)", "E-government / digital government (% of maximum)"),
    ("PAR_INDEX", "civil_service_reform_pct_of_max"): ("Cải cách chế độ công vụ (% điểm tối đa)", "Civil-service reform (% of maximum)"),
    ("PAR_INDEX", "public_finance_reform_pct_of_max"): ("Cải cách tài chính công (% điểm tối đa)", "Public-finance reform (% of maximum)"),
    ("PAR_INDEX", "socioeconomic_impact_pct_of_max"): ("Tác động của CCHC đến phát triển KT-XH (% điểm tối đa)", "Impact on socio-economic development (% of maximum)"),
    ("SIPAS", "total"): ("Chỉ số hài lòng (SIPAS, %)", "SIPAS satisfaction (%)"),
    ("DTI", "total"): ("Chỉ số chuyển đổi số cấp tỉnh (0-1)", "Provincial DTI (0-1)"),
    ("DTI", "digital_awareness"): ("Nhận thức số", "Digital awareness"),
    ("DTI", "digital_institutions"): ("Thể chế số", "Digital institutions"),
    ("DTI", "digital_infrastructure"): ("Hạ tầng số", "Digital infrastructure"),
    ("DTI", "digital_human_resources"): ("Nhân lực số", "Digital human resources"),
    ("DTI", "cyber_security"): ("An toàn thông tin mạng", "Cyber-security"),
    ("DTI", "digital_government_activity"): ("Hoạt động chính quyền số", "Digital-government activity"),
    ("DTI", "digital_economy_activity"): ("Hoạt động kinh tế số", "Digital-economy activity"),
    ("DTI", "digital_society_activity"): ("Hoạt động xã hội số", "Digital-society activity"),
    ("ICT_INDEX", "total"): ("Vietnam ICT Index (0-1)", "Vietnam ICT Index (0-1)"),
    ("ICT_INDEX", "technical_infrastructure"): ("Hạ tầng kỹ thuật", "Technical infrastructure"),
    ("ICT_INDEX", "human_resources"): ("Hạ tầng nhân lực", "Human resources"),
    ("ICT_INDEX", "it_application"): ("Ứng dụng CNTT", "IT application"),
    ("ICT_INDEX", "online_public_services"): ("Dịch vụ công trực tuyến", "Online public services"),
    ("MIC_EGOV", "total"): ("Chỉ số ứng dụng CNTT, phát triển Chính phủ điện tử (0-1)", "IT application / e-government index (0-1)"),
    ("ONLINE_SERVICES", "online_dossier_share"): ("Tỷ lệ hồ sơ nộp trực tuyến trên tổng số hồ sơ (%)", "Share of all dossiers submitted online (%)"),
    ("ONLINE_SERVICES", "online_dossier_share_l34"): ("Tỷ lệ hồ sơ trực tuyến của DVC mức độ 3, 4 (%)", "Share of dossiers for level 3-4 online services submitted online (%)"),
    ("ONLINE_SERVICES", "online_services_l34_count"): ("Số DVC trực tuyến mức độ 3, 4", "Number of level 3-4 online services"),
    ("ONLINE_SERVICES", "online_services_l34_share"): ("Tỷ lệ TTHC có DVC trực tuyến mức độ 3, 4 (%)", "Share of procedures offered online at level 3-4 (%)"),
    ("ONLINE_SERVICES", "online_services_l3_count"): ("Số DVC trực tuyến mức độ 3", "Number of level-3 online services"),
    ("ONLINE_SERVICES", "online_services_l4_count"): ("Số DVC trực tuyến mức độ 4", "Number of level-4 online services"),
    ("ONLINE_SERVICES", "procedures_total"): ("Tổng số thủ tục hành chính", "Number of administrative procedures"),
    ("ONLINE_SERVICES", "national_portal_integrated_count"): ("Số DVC tích hợp lên Cổng DVC quốc gia", "Services integrated on the national portal"),
    ("ONLINE_SERVICES", "dvc766_total"): ("Bộ chỉ số phục vụ người dân, doanh nghiệp (QĐ 766)", "Service index for citizens and businesses (Decision 766)"),
    ("ONLINE_SERVICES", "dvc766_online_component"): ("Thành phần DVC trực tuyến (QĐ 766)", "Online-services component (Decision 766)"),
    ("ONLINE_SERVICES", "full_process_services"): ("Số DVC trực tuyến toàn trình", "Number of full-process online services"),
    ("ONLINE_SERVICES", "partial_services"): ("Số DVC trực tuyến một phần", "Number of partial online services"),
}

MEANING_CHANGES = {
    ("PAPI", "total"): "Out of 60 (6 dimensions) in 2011-2017 and out of 80 (8 dimensions) from 2018; the publisher discourages comparing levels across 2018: compare ranks or z-scores.",
    ("PAPI", "d2"): "3 sub-dimensions to 2017, 4 from 2018 (access to information added).",
    ("PAPI", "d3"): "Sub-dimensions: interactions, inspection boards, investment boards (2011-2015); interactions, appeals, inspection boards (2016-2017); interactions, appeals, access to justice (2018-).",
    ("PAPI", "d5"): "Construction permits (d5.2) not published from 2021: 3 sub-dimensions.",
    ("PAPI", "d7"): "Measured from 2018.",
    ("PAPI", "d8"): "Measured from 2018; e-responsiveness (d8.3) added in 2019.",
    ("PAPI", "d3.4"): "2011-2017 only.",
    ("PAPI", "d3.5"): "2011-2015 only.",
    ("PCI", "total"): "Weighted 0-100; sub-indices and weights revised in 2006, 2009 and 2013 (method_version).",
    ("PAR_INDEX", "total"): "Criteria revised often: compare ranks or z-scores across years, not levels.",
    ("ONLINE_SERVICES", "online_dossier_share"): "Definitions differ between sources (all dossiers vs level 3-4 services vs national-portal counts): never compare with online_dossier_share_l34.",
}


def expected_scale_max(index: str, indicator: str, year: int) -> float | None:
    """The maximum a value can take, where the index defines one."""
    if index == "PAPI" and not indicator.endswith("_rank"):
        if indicator == "total":
            return papi.total_max(year)
        if "." not in indicator:
            return 10.0
        dim = indicator.split(".")[0]
        subs = papi.structure(year).get(dim)
        return 10.0 / len(subs) if subs else 10.0
    if index == "PCI" and not indicator.endswith("_rank"):
        return 100.0 if indicator == "total" else 10.0
    if indicator == "total" and index in {"PAR_INDEX", "SIPAS"}:
        return 100.0
    if indicator == "total" and index in {"DTI", "ICT_INDEX", "MIC_EGOV"}:
        return 1.0
    return None


def defined_indicators(index: str, year: int) -> set[str] | None:
    """The indicators a full official panel defines in `year` (with their published `_rank`), or None for
    an index whose indicators are open (reported and researchers' own indices). A PAPI `d9`, a PAPI
    sub-dimension not published that year or an unknown PCI sub-index is not a value of that index."""
    if index == "PAPI":
        parts = papi.structure(year)
        codes = {"total", *parts, *(s for subs in parts.values() for s in subs)}
    elif index == "PCI":
        codes = {"total", *PCI_SUBINDICES}
    else:
        return None
    return codes | {f"{c}_rank" for c in codes}


def label(index: str, indicator: str) -> tuple[str, str]:
    if (index, indicator) in LABELS:
        return LABELS[(index, indicator)]
    if indicator.endswith("_rank"):
        vi, en = label(index, indicator[: -len("_rank")])
        return f"Thứ hạng công bố: {vi}", f"Published rank: {en} (1 = best)"
    return "", indicator.replace("_", " ")


def _years(s: pd.Series) -> str:
    ys = sorted(set(int(y) for y in s))
    runs, start = [], ys[0]
    for a, b in zip(ys, ys[1:] + [None], strict=True):
        if b != a + 1:
            runs.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(runs)


def build_codebook(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per index-indicator in the panel, with labels, scale, coverage and meaning changes."""
    rows = []
    for (index, indicator), g in panel.groupby(["index", "indicator"], sort=True):
        vi, en = label(index, indicator)
        scales = g.groupby("scale_max", dropna=True)["year"].agg(_years)
        scale_text = "; ".join(f"{m:g} ({yrs})" for m, yrs in scales.items()) if len(scales) else ""
        rows.append({
            "index": index, "indicator": indicator, "label_vi": vi, "label_en": en,
            "index_label_vi": INDEX_LABELS.get(index, ("", index))[0], "index_label_en": INDEX_LABELS.get(index, ("", index))[1],
            "scale_max": scale_text, "higher_is_better": not indicator.endswith("_rank"), "years": _years(g["year"]),
            "n_obs": len(g), "n_provinces": g["province_code"].nunique(),
            "method_versions": ", ".join(sorted(v for v in g["method_version"].dropna().unique() if v)),
            "reliability": ", ".join(sorted(g["reliability"].unique())),
            "meaning_changes": MEANING_CHANGES.get((index, indicator), ""),
        })
    return pd.DataFrame(rows)
