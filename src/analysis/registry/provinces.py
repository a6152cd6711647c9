"""Build the province table from the raw crosswalks and resolve any spelling to a GSO code of a vintage.

Two codings of Vietnam's provinces exist side by side and every code states which one it uses:
`gso-2008`, the 63 provinces of 1 August 2008 - 30 June 2025 (with Hà Tây, `gso-1991`, until 2008), and
`gso-2025`, the 34 provinces from 1 July 2025 (Resolution 202/2025/QH15). The 2025 codes reuse old codes
of *other* provinces (2025 "24" Bắc Ninh is the old code of Bắc Giang; 2025 "80" Tây Ninh that of Long
An), so a name is always resolved within a declared vintage and a code is meaningless without it. The
national row `00` has vintage `national` and belongs to both."""

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
ALIAS_SEPARATOR = "|"
"""Separates the aliases of a province in provinces.csv; a name holding it is no name (it would add its parts
as aliases: "Bình|Dương" made "Bình" answer Bình Dương)."""
MIN_SIMILARITY = 0.9
HA_TAY_CODE = "28"
VINTAGE_63 = "gso-2008"
VINTAGE_34 = "gso-2025"
VINTAGES = ("gso-1991", VINTAGE_63, VINTAGE_34, "national")
RESOLUTION_VINTAGES = (VINTAGE_63, VINTAGE_34)
"""The codings a source may declare for its names: gso-2008 also finds Hà Tây (gso-1991) and the national
row; gso-2025 finds the 34 provinces and the national row."""
MERGER_DATE = "2025-07-01"

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

# Names a Vietnamese reader expects in running text and lists, where the short name misleads (kept as an alias).
DISPLAY_NAMES = {"79": "TP. Hồ Chí Minh"}

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

# Spellings of the 2025 provinces (vintage gso-2025) beyond their names, full names and "UBND ..." forms.
EXTRA_ALIASES_2025 = {
    "79": ["TP HCM", "TP.HCM", "Tp.HCM", "HCMC", "HCM", "Hồ Chí Minh city", "Ho Chi Minh City"],
    "46": ["TP Huế", "TP. Huế", "Thừa Thiên Huế", "Thua Thien Hue"],  # renamed, same territory and code
    "01": ["Hanoi", "Thủ đô Hà Nội"],
    "48": ["Danang"],
    "66": ["Dak Lak", "Đăk Lăk", "Daklak"],
}

_PREFIX = re.compile(r"^(thanh pho|tinh|tp\.?|t\.p\.?)\s+")
_AUTHORITY = re.compile(r"^(ubnd|uy ban nhan dan)\s+")  # the portal names a province by its People's Committee
_SUFFIX = re.compile(r"\s+(city|province)$")
# Characters that separate names (lists, paths, alias lists) or hide between letters: a name holding one is two
# names or a disguised one, never one province ("Bình|Dương", "Bình;Dương", "Bình\u200bDương" are unknown).
_SEPARATORS = re.compile("[|;/,\uff5c\u00a6\u200b-\u200d\u2060\ufeff\u2028\u2029]")
_LISTED_WITH_SEPARATOR = {unicodedata.normalize("NFC", a).casefold(): code
                          for table in (EXTRA_ALIASES, EXTRA_ALIASES_2025) for code, names in table.items()
                          for a in names if _SEPARATORS.search(a)}
"""The aliases listed above that hold a separator, accepted only exactly as written (case aside)."""


def normalize_name(name: str) -> str:
    """A spelling-insensitive key: no diacritics, case, punctuation, 'TP'/'Tỉnh' prefixes or 'city' suffix."""
    text = unicodedata.normalize("NFC", str(name)).strip().lower().replace("đ", "d").replace("Ð", "d")
    text = unidecode(text)
    text = re.sub(r"[._\-–,()/]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _AUTHORITY.sub("", text)
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
    prov = pd.concat([prov, provinces_2025(prov, new)], ignore_index=True)
    for i in prov.index[prov["province_code"] == "79"]:  # the city is named as a city: bare "Hồ Chí Minh" reads as the person
        prov.at[i, "aliases"] = set(prov.at[i, "aliases"]) | {prov.at[i, "province"]}
        prov.at[i, "province"] = DISPLAY_NAMES["79"]
    prov["aliases"] = prov["aliases"].map(lambda s: "|".join(sorted({a for a in s if isinstance(a, str) and a})))
    prov["note"] = prov.get("note", pd.Series(dtype=str)).fillna("")
    cols = [
        "province_code", "province", "province_ascii", "province_en", "full_name", "vintage", "active_from", "active_to",
        "region", "region_en", "region_code_8", "pci_id", "papi_id", "papi_subdims_id", "code_2025", "name_2025",
        "merged_codes", "population_2020", "aliases", "note",
    ]
    out = prov.reindex(columns=cols).copy()
    out["merged_codes"] = out["merged_codes"].fillna("")
    for c in ("active_from", "active_to", "region_code_8", "pci_id", "papi_id", "population_2020"):
        out[c] = out[c].astype("Int64")
    order = out["vintage"].map({"national": 0, "gso-1991": 1, VINTAGE_63: 1, VINTAGE_34: 2})
    return out.assign(_o=order).sort_values(["_o", "province_code"]).drop(columns="_o").reset_index(drop=True)


def provinces_2025(prov: pd.DataFrame, new: list[dict]) -> pd.DataFrame:
    """The 34 provinces of 2025 (vintage gso-2025) from the new list (codes and names) and the 63 they merge.

    Population is the sum of the merged provinces' 2020 population (no 2025 figure is in the mirror). The
    region is the socio-economic region holding most of that population: six of the 34 merge provinces of
    two regions (e.g. Lâm Đồng with Bình Thuận), and the note says so. Aliases are every form the raw files
    use: the short and full name, "UBND tỉnh X" / "UBND Thành phố X" (the portal's People's Committee), the
    English and ASCII name, and "TP HCM"-style abbreviations."""
    old = prov[prov["vintage"] == VINTAGE_63]
    rows = []
    for n in new:
        code, full = str(n["province_code"]), str(n["name"])
        short = full.removeprefix("Thành phố ")
        city = full.startswith("Thành phố ")
        merged = old[old["code_2025"] == code].sort_values("province_code")
        if merged.empty:
            raise DataError("a 2025 province merges none of the 63", value=f"{code} {full}")
        same = merged[merged["province"].map(normalize_name) == normalize_name(short)]
        en = str(same["province_en"].iloc[0]) if len(same) else unidecode(short)
        pop = merged.groupby("region")["population_2020"].sum().sort_values(ascending=False)
        region = str(pop.index[0])
        region_en = str(merged.loc[merged["region"] == region, "region_en"].iloc[0])
        names = ", ".join(f"{r.province} ({r.province_code})" for r in merged.itertuples())
        what = f"merges {names}" if len(merged) > 1 else f"the territory of {names}"
        note = f"from 1 July 2025 (Resolution 202/2025/QH15); {what} (63-province codes)"
        if len(pop) > 1:
            note += f"; spans the regions {' and '.join(pop.index)} (region shown: the one with most of the 2020 population)"
        full_name = full if city else f"Tỉnh {full}"
        aliases = {short, full, full_name, en, unidecode(short.replace("Đ", "D").replace("đ", "d")),
                   f"UBND {full}" if city else f"UBND tỉnh {short}", f"Ủy ban nhân dân {full_name.lower()[0]}{full_name[1:]}"}
        aliases |= set(EXTRA_ALIASES_2025.get(code, []))
        rows.append({
            "province_code": code, "province": short, "province_ascii": unidecode(short.replace("Đ", "D").replace("đ", "d")),
            "province_en": en, "full_name": full_name, "vintage": VINTAGE_34, "active_from": 2025, "active_to": pd.NA,
            "region": region, "region_en": region_en, "code_2025": code, "name_2025": full,
            "merged_codes": "|".join(merged["province_code"]), "population_2020": int(merged["population_2020"].sum()),
            "aliases": aliases, "note": note,
        })
    out = pd.DataFrame(rows)
    if len(out) != 34 or out["province_code"].duplicated().any():
        raise DataError(f"the 2025 province list has {len(out)} provinces, expected 34 distinct codes")
    if set(old["code_2025"]) != set(out["province_code"]):
        raise DataError("the merger mapping and the 2025 province list disagree", value=sorted(set(old["code_2025"]) ^ set(out["province_code"])))
    return out


def in_domain(vintage: pd.Series, domain: str) -> pd.Series:
    """Whether rows of a province table (or panel) belong to a resolution vintage: gso-2008 is the 63 with
    Hà Tây (gso-1991) and the national row; gso-2025 is the 34 with the national row."""
    if domain == VINTAGE_34:
        return vintage.isin([VINTAGE_34, "national"])
    return vintage.isin([VINTAGE_63, "gso-1991", "national"])


class Registry:
    """Resolves any spelling to a GSO code within a declared vintage; an unknown name is an error listing
    the closest known names. "Bắc Ninh" is code 27 in gso-2008 and code 24 in gso-2025, and a name of one
    vintage never resolves to a code of the other.

    `table` is the 63-province coding (gso-2008 with Hà Tây and the national row: codes unique), kept as the
    default for every 63-province consumer; `tables[vintage]` holds each resolution vintage."""

    def __init__(self, provinces: pd.DataFrame) -> None:
        vintage = provinces["vintage"] if "vintage" in provinces else pd.Series(VINTAGE_63, index=provinces.index)
        self.tables = {v: provinces[in_domain(vintage, v)].set_index("province_code", drop=False) for v in RESOLUTION_VINTAGES}
        self.table = self.tables[VINTAGE_63]
        self._key_cache: dict[str, dict[str, str]] = {}

    def _keys(self, vintage: str) -> dict[str, str]:
        """Normalised spelling -> code within one vintage, built on first use (most callers need one vintage)."""
        if vintage not in self._key_cache:
            t = self.tables[vintage]
            keys: dict[str, str] = {}
            for code, name, aliases in zip(t["province_code"], t["province"], t["aliases"], strict=True):
                for a in [name, *str(aliases).split("|")]:
                    if a and a != "nan":
                        keys.setdefault(normalize_name(a), code)
            self._key_cache[vintage] = keys
        return self._key_cache[vintage]

    def name(self, code: str, vintage: str = VINTAGE_63) -> str:
        return str(self.tables[_domain(vintage)].at[code, "province"])

    def vintage(self, code: str, domain: str = VINTAGE_63) -> str:
        """The vintage of a resolved code: gso-1991 for Hà Tây, national for 00, else the domain's."""
        return str(self.tables[domain].at[code, "vintage"])

    @property
    def codes_63(self) -> list[str]:
        t = self.table
        return sorted(t.index[t["vintage"] == VINTAGE_63])

    @property
    def codes_34(self) -> list[str]:
        t = self.tables[VINTAGE_34]
        return sorted(t.index[t["vintage"] == VINTAGE_34])

    def find(self, name: object, vintage: str = VINTAGE_63) -> str | None:
        """The code of `name` in `vintage`, or None (no error): for callers that try several vintages."""
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            return None
        text = str(name).strip()
        if _SEPARATORS.search(text):
            # A listed alias holding a separator ("ALL (national/provincial average)" in the press table) is that
            # name, spelled exactly; any other name holding one is two names or a disguised one.
            return _LISTED_WITH_SEPARATOR.get(unicodedata.normalize("NFC", text).casefold())
        if re.fullmatch(r"\d{2}", text):
            return text if text in self.tables[vintage].index else None
        return self._resolve_cached(text, vintage)

    def resolve(self, name: object, *, vintage: str = VINTAGE_63, file: object = None, row: int | None = None,
                column: str | None = None) -> str:
        if vintage not in RESOLUTION_VINTAGES:
            raise DataError(f"unknown province vintage (use one of {', '.join(RESOLUTION_VINTAGES)})", file=file, row=row,
                            column="vintage", value=vintage)
        if name is None or (isinstance(name, float) and pd.isna(name)) or not str(name).strip():
            raise DataError("province name is empty", file=file, row=row, column=column, value=name)
        code = self.find(name, vintage)
        if code is not None:
            return code
        other = VINTAGE_34 if vintage == VINTAGE_63 else VINTAGE_63
        elsewhere = self.find(name, other)
        if elsewhere is not None and vintage == VINTAGE_34:
            info = self.tables[other].loc[elsewhere]
            raise DataError(
                f"not a province of the 34 of 2025 (vintage {vintage}): {info['province']} (63-province code {elsewhere}) was merged "
                f"into {info['name_2025']} (2025 code {info['code_2025']}) on 1 July 2025",
                file=file, row=row, column=column, value=name,
                hint="Use the 2025 province, or declare the 63-province vintage (gso-2008) for values before the merger")
        if elsewhere is not None:
            raise DataError(f"not a province of the 63-province vintage ({vintage}): it is a province of the 34 of 2025 (code {elsewhere})",
                            file=file, row=row, column=column, value=name,
                            hint="Declare vintage gso-2025 for values of the 34 provinces from 1 July 2025")
        if m := _SEPARATORS.search(str(name)):
            raise DataError(f"unknown province name: a name cannot hold {m.group()!r} ({unicodedata.name(m.group(), 'a separator')})",
                            file=file, row=row, column=column, value=name, hint="Write one province per cell, e.g. Bình Dương")
        keys = self._keys(vintage)
        close = difflib.get_close_matches(normalize_name(name), list(keys), n=3, cutoff=0.6)
        names = [self.name(keys[k], vintage) for k in close]
        raise DataError(
            "unknown province name",
            file=file, row=row, column=column, value=name,
            hint=f"Closest known names: {', '.join(dict.fromkeys(names)) or 'none'}",
        )

    @lru_cache(maxsize=8192)  # noqa: B019 - one registry per build; names repeat thousands of times
    def _resolve_cached(self, name: str, vintage: str) -> str | None:
        keys = self._keys(vintage)
        key = normalize_name(name)
        code = keys.get(key)
        if code is not None:
            return code
        if vintage == VINTAGE_34:  # the address parser knows the 63; for the 34 only a near-identical spelling
            close = difflib.get_close_matches(key, list(keys), n=1, cutoff=MIN_SIMILARITY)
            return keys[close[0]] if close else None
        from vietnamadminunits import ParseMode, parse_address

        try:
            parsed = parse_address(name, mode=ParseMode.LEGACY, level=1)
        except Exception:  # the parser raises on odd input; an unresolved name is reported by the caller
            return None
        got = getattr(parsed, "province_code", None)
        if got not in self.table.index or self.table.at[got, "vintage"] != VINTAGE_63:
            return None
        # The parser also matches names that merely contain a province ("Binh Duong Tay"); for research
        # data only a near-identical spelling (a typo, a stray letter) is accepted.
        best = max(difflib.SequenceMatcher(None, key, k).ratio() for k, c in keys.items() if c == got)
        return got if best >= MIN_SIMILARITY else None


def _domain(vintage: str) -> str:
    """The resolution vintage a row's vintage belongs to (Hà Tây and national rows to the 63's)."""
    return VINTAGE_34 if vintage == VINTAGE_34 else VINTAGE_63
