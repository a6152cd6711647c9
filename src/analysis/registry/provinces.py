"""Build the province table from the raw crosswalks and resolve any spelling to a GSO code.

Codes are the 2-digit GSO codes of the 63-province vintage (2008 - 30 June 2025). The 2025 codes of the
34 merged provinces reuse old codes of *other* provinces, so they live only in `code_2025`."""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook
from unidecode import unidecode

from ..errors import DataError

NATIONAL_CODE = "00"
MIN_SIMILARITY = 0.9
HA_TAY_CODE = "28"

# GSO socio-economic regions (6) from the 8 geographic regions of the GSO catalogue; Quảng Ninh (22) is
# counted in the Red River Delta by GSO.
REGION6 = {
    1: ("Trung du và miền núi phía Bắc", "Northern Midlands and Mountains"),
    2: ("Trung du và miền núi phía Bắc", "Northern Midlands and Mountains"),
    3: ("Đồng bằng sông Hồng", "Red River Delta"),
    4: ("Bắc Trung Bộ và Duyên hải miền Trung", "North Central and Central Coast"),
    5: ("Bắc Trung Bộ và Duyên hải miền Trung", "North Central and Central Coast"),
    6: ("Tây Nguyên", "Central Highlands"),
    7: ("Đông Nam Bộ", "Southeast"),
    8: ("Đồng bằng sông Cửu Long", "Mekong River Delta"),
}
REGION6_COUNTS = {  # cross-check against the GSO yearbook order (letung3105 population file)
    "Đồng bằng sông Hồng": 11,
    "Trung du và miền núi phía Bắc": 14,
    "Bắc Trung Bộ và Duyên hải miền Trung": 14,
    "Tây Nguyên": 5,
    "Đông Nam Bộ": 6,
    "Đồng bằng sông Cửu Long": 13,
}

# Spellings seen in the raw files that no crosswalk lists (abbreviations and old spellings).
EXTRA_ALIASES = {
    "79": ["TP HCM", "TP.HCM", "Tp.HCM", "HCMC", "HCM", "Sài Gòn", "Hồ Chí Minh city"],
    "77": ["BRVT", "BR-VT", "Ba Ria-Vung Tau", "Vũng Tàu"],
    "46": ["TT Huế", "TT.Huế", "TT-Hue", "Huế", "Thành phố Huế", "TT Hue", "Thua Thien-Hue"],
    "06": ["Bắc Cạn", "Bac Can"],
    "67": ["Đak Nông", "Đăk Nông", "Dac Nong"],
    "66": ["Đăk Lăk", "Đắc Lắc", "Đắc Lắk", "Dak Lak", "Daklak", "Đắk Lăk"],
    "01": ["Hanoi", "Thủ đô Hà Nội"],
    "48": ["Danang"],
    "28": ["Hà Tây", "Ha Tay"],
    "00": ["Cả nước", "Toàn quốc", "Việt Nam", "Vietnam", "national", "ALL", "ALL (national/provincial average)"],
}

_PREFIX = re.compile(r"^(thanh pho|tinh|tp\.?|t\.p\.?)\s+")
_SUFFIX = re.compile(r"\s+(city|province)$")


def normalize_name(name: str) -> str:
    """A spelling-insensitive key: no diacritics, case, punctuation, 'TP'/'Tỉnh' prefixes or 'city' suffix."""
    text = unicodedata.normalize("NFC", str(name)).strip().lower().replace("đ", "d").replace("Ð", "d")
    text = unidecode(text)
    text = re.sub(r"[._\-–,()/]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _PREFIX.sub("", text)
    text = _SUFFIX.sub("", text)
    return re.sub(r"[^a-z0-9]", "", text)


def _load_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def build_provinces(raw: dict[str, Path]) -> pd.DataFrame:
    """Assemble the registry from the crosswalk files named in the manifest (keys are source ids)."""
    units = _load_json(raw["gso_units"])
    rows = []
    for p in units:
        code = p["Code"]
        name = p["Name"]
        if code == "46":  # the catalogue already uses the 2025 name; the 2008-2024 province was Thừa Thiên Huế
            name = "Thừa Thiên Huế"
        vi6, en6 = REGION6[p["AdministrativeRegionId"]]
        if code == "22":
            vi6, en6 = REGION6[3]
        rows.append(
            {
                "province_code": code,
                "province": name,
                "province_ascii": unidecode(name.replace("Đ", "D").replace("đ", "d")),
                "full_name": p["FullName"],
                "region_code_8": p["AdministrativeRegionId"],
                "region": vi6,
                "region_en": en6,
                "aliases": {p["Name"], p["NameEn"], p["FullName"], p["FullNameEn"], name},
            }
        )
    prov = pd.DataFrame(rows)
    counts = prov["region"].value_counts().to_dict()
    if counts != REGION6_COUNTS:
        raise DataError(f"socio-economic region counts {counts} differ from GSO's {REGION6_COUNTS}", file=raw["gso_units"])

    # English names in GSO order (P01..P63) from the PAPI sub-dimension codebook.
    en = pd.read_csv(raw["papi_subdims_provinces"], dtype=str)
    prov = prov.sort_values("province_code").reset_index(drop=True)
    if len(en) != len(prov):
        raise DataError("province codebook does not list 63 provinces", file=raw["papi_subdims_provinces"])
    prov["province_en"] = en["Variable_Name"].to_numpy()
    prov["papi_subdims_id"] = en["Variable_Code"].to_numpy()
    for code, en_name, key_vi in zip(prov["province_code"], prov["province_en"], prov["province"], strict=True):
        if normalize_name(en_name).replace("city", "") not in {normalize_name(key_vi), "hanoi", "hochiminh"}:
            raise DataError("English name does not match GSO order", file=raw["papi_subdims_provinces"], value=en_name, column=code)

    # PCI and PAPI ids, ASCII and diacritic spellings (vietnamcode), including Hà Tây.
    vc = pd.read_csv(raw["vietnamcode"], dtype=str).dropna(subset=["province_name"])
    vc["code"] = vc["enterprise_census_c"].str.zfill(2)
    vc_by_code = vc.set_index("code")
    prov["pci_id"] = prov["province_code"].map(vc_by_code["pci"]).astype("Int64")
    prov["papi_id"] = prov["province_code"].map(vc_by_code["papi"]).astype("Int64")
    for i, code in enumerate(prov["province_code"]):
        if code in vc_by_code.index:
            r = vc_by_code.loc[code]
            prov.at[i, "aliases"] |= {r["province_name"], r["province_name_full"], r["province_name_diacritics"]}

    # 2025 successor (Resolution 202/2025/QH15): names from the mapping workbook, codes from the new list.
    wb = CalamineWorkbook.from_path(str(raw["merger_2025_mapping"]))
    mapping = wb.get_sheet_by_name("Mapping").to_python()[1:]
    new = [t for t in _load_json(raw["provinces_2025"]) if t.get("name") == "provinces"][0]["data"]
    new_by_key = {normalize_name(n["name"]): (n["province_code"], n["name"]) for n in new}
    new_by_key[normalize_name("TP HCM")] = new_by_key[normalize_name("Hồ Chí Minh")]
    new_by_key[normalize_name("TP Huế")] = new_by_key[normalize_name("Huế")]
    old_key_to_code = {normalize_name(a): c for c, al in zip(prov["province_code"], prov["aliases"], strict=True) for a in al}
    for code, al in EXTRA_ALIASES.items():
        for a in al:
            old_key_to_code.setdefault(normalize_name(a), code)
    succ: dict[str, tuple[str, str]] = {}
    for old, new_name in mapping:
        key = normalize_name(str(old).replace("oà", "òa").replace("oá", "óa"))
        old_code = old_key_to_code.get(key)
        target = new_by_key.get(normalize_name(new_name))
        if old_code is None or target is None:
            raise DataError("merger mapping names an unknown province", file=raw["merger_2025_mapping"], value=f"{old} -> {new_name}")
        succ[old_code] = target
    if len(succ) != 63:
        raise DataError(f"merger mapping covers {len(succ)} of 63 provinces", file=raw["merger_2025_mapping"])
    prov["code_2025"] = prov["province_code"].map(lambda c: succ[c][0])
    prov["name_2025"] = prov["province_code"].map(lambda c: succ[c][1])

    # 2020 population (GSO, preliminary), joined by name.
    pop = pd.read_csv(raw["population_2020"])
    pop_by_code = {}
    for name, value in zip(pop["NAME_1"], pop["AVGPOPULATION"], strict=True):
        code = old_key_to_code.get(normalize_name(name))
        if code is None:
            raise DataError("population file names an unknown province", file=raw["population_2020"], value=name)
        pop_by_code[code] = int(round(float(value)))
    prov["population_2020"] = prov["province_code"].map(pop_by_code).astype("Int64")

    prov["vintage"] = "gso-2008"
    prov["active_from"], prov["active_to"] = 2008, 2025
    extra = pd.DataFrame(
        [
            {
                "province_code": HA_TAY_CODE, "province": "Hà Tây", "province_ascii": "Ha Tay", "province_en": "Ha Tay",
                "full_name": "Tỉnh Hà Tây", "region": "Đồng bằng sông Hồng", "region_en": "Red River Delta",
                "pci_id": int(vc_by_code.loc[HA_TAY_CODE, "pci"]) if HA_TAY_CODE in vc_by_code.index else pd.NA,
                "vintage": "gso-1991", "active_from": 1991, "active_to": 2008, "code_2025": "01", "name_2025": "Thành phố Hà Nội",
                "aliases": {"Hà Tây", "Ha Tay"},
                "note": "merged into Hà Nội on 1 August 2008 (Resolution 15/2008/QH12); PCI 2005-2007 only",
            },
            {
                "province_code": NATIONAL_CODE, "province": "Cả nước", "province_ascii": "Ca nuoc", "province_en": "Viet Nam (national)",
                "full_name": "Cả nước", "region": "", "region_en": "", "vintage": "national", "aliases": set(),
                "note": "national figure or average over provinces as published; never ranked",
            },
        ]
    )
    prov = pd.concat([prov, extra], ignore_index=True)
    for code, al in EXTRA_ALIASES.items():
        idx = prov.index[prov["province_code"] == code]
        prov.at[idx[0], "aliases"] = set(prov.at[idx[0], "aliases"]) | set(al)
    prov["aliases"] = prov["aliases"].map(lambda s: "|".join(sorted({a for a in s if isinstance(a, str) and a})))
    prov["note"] = prov.get("note", pd.Series(dtype=str)).fillna("")
    cols = [
        "province_code", "province", "province_ascii", "province_en", "full_name", "vintage", "active_from", "active_to",
        "region", "region_en", "region_code_8", "pci_id", "papi_id", "papi_subdims_id", "code_2025", "name_2025",
        "population_2020", "aliases", "note",
    ]
    out = prov[cols].copy()
    for c in ("active_from", "active_to", "region_code_8", "pci_id", "papi_id", "population_2020"):
        out[c] = out[c].astype("Int64")
    return out.sort_values("province_code").reset_index(drop=True)


class Registry:
    """Resolves any spelling to a GSO code; an unknown name is an error listing the closest known names."""

    def __init__(self, provinces: pd.DataFrame) -> None:
        self.table = provinces.set_index("province_code", drop=False)
        self._keys: dict[str, str] = {}
        for code, name, aliases in zip(provinces["province_code"], provinces["province"], provinces["aliases"], strict=True):
            for a in [name, *str(aliases).split("|")]:
                if a:
                    self._keys.setdefault(normalize_name(a), code)

    def name(self, code: str) -> str:
        return str(self.table.at[code, "province"])

    @property
    def codes_63(self) -> list[str]:
        t = self.table
        return sorted(t.index[t["vintage"] == "gso-2008"])

    def resolve(self, name: object, *, file: object = None, row: int | None = None, column: str | None = None) -> str:
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            raise DataError("province name is empty", file=file, row=row, column=column, value=name)
        text = str(name).strip()
        if re.fullmatch(r"\d{2}", text) and text in self.table.index:  # already a GSO code
            return text
        code = self._resolve_cached(text)
        if code is None:
            close = difflib.get_close_matches(normalize_name(name), list(self._keys), n=3, cutoff=0.6)
            names = [self.name(self._keys[k]) for k in close]
            raise DataError(
                "unknown province name",
                file=file, row=row, column=column, value=name,
                hint=f"Closest known names: {', '.join(dict.fromkeys(names)) or 'none'}",
            )
        return code

    @lru_cache(maxsize=4096)  # noqa: B019 - one registry per build; names repeat thousands of times
    def _resolve_cached(self, name: str) -> str | None:
        code = self._keys.get(normalize_name(name))
        if code is not None:
            return code
        from vietnamadminunits import ParseMode, parse_address

        try:
            parsed = parse_address(name, mode=ParseMode.LEGACY, level=1)
        except Exception:  # the parser raises on odd input; an unresolved name is reported by the caller
            return None
        got = getattr(parsed, "province_code", None)
        if got not in self.table.index or self.table.at[got, "vintage"] != "gso-2008":
            return None
        # The parser also matches names that merely contain a province ("Binh Duong Tay"); for research
        # data only a near-identical spelling (a typo, a stray letter) is accepted.
        key = normalize_name(name)
        best = max(difflib.SequenceMatcher(None, key, k).ratio() for k, c in self._keys.items() if c == got)
        return got if best >= MIN_SIMILARITY else None
