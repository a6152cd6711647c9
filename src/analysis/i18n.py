"""How every output writes numbers, lists and names in Vietnamese and English: one place, used by the
report cards, the site, the DOCX cards, the maps and the explorer.

- Numbers: Vietnamese official documents write 1.603 and 40,76 (dot thousands, decimal comma); English
  writes 1,603 and 40.76. `fmt_number` is the only number formatter; `axis_formatter` gives matplotlib
  axes the same convention.
- Lists: names such as "Công khai, minh bạch" contain commas, so lists of names are joined with "; ".
- Names: readers see the codebook's full labels, never a code such as `d8` or `online_payment_share`;
  `relabel` turns codes inside text (break notes, model names, tables of the analyses) into labels.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

LANGUAGES = ("vi", "en")
LIST_SEP = "; "  # never ", ": Vietnamese dimension names contain commas

_SWAP = str.maketrans(",.", ".,")


def check_language(lang: str) -> str:
    if lang not in LANGUAGES:
        from .errors import DataError

        raise DataError("language must be 'vi' or 'en'", column="language", value=lang)
    return lang


def fmt_number(value: Any, lang: str = "vi", decimals: int | None = None, sign: bool = False, strip: bool = False) -> str:
    """`value` as the language writes it: 1.603 / 40,76 (vi) or 1,603 / 40.76 (en). `decimals=None`:
    whole numbers (counts, ranks) without decimals, values below 1 in absolute size (0-1 indices) with up
    to 4 decimals, other values with 2. `sign=True` writes +/- (changes); `strip=True` drops trailing
    zeros (a reported 7,775/9,5 stays as printed). Missing values give ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(v):
        return ""
    plus = "+" if sign else ""
    if decimals is None:
        if v.is_integer():
            text = f"{v:{plus},.0f}"
        elif abs(v) < 1:
            text = f"{v:{plus}.4f}".rstrip("0")
        else:
            text = f"{v:{plus},.2f}"
    else:
        text = f"{v:{plus},.{decimals}f}"
    if strip and "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.translate(_SWAP) if lang == "vi" else text


def fmt_rank(rank: Any, rank_of: Any = None) -> str:
    """"57/63", or "57" when the number ranked is unknown; "" without a rank."""
    if rank is None or _missing(rank):
        return ""
    return f"{int(rank)}/{int(rank_of)}" if rank_of is not None and not _missing(rank_of) else f"{int(rank)}"


def fmt_date(text: Any, lang: str = "vi") -> str:
    """An ISO date (2025-10-16, 2025-10 or 2025) as the language writes it: 16/10/2025 and 10/2025 in
    Vietnamese documents, unchanged ISO in English. Anything else is returned as it is."""
    s = "" if _missing(text) else str(text)
    if check_language(lang) != "vi":
        return s
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", s)
    if not m:
        return s
    y, mo, d = m.groups()
    return f"{d}/{mo}/{y}" if d else f"{mo}/{y}"


def _missing(v: Any) -> bool:
    try:
        return bool(v != v) or v is None or str(v) == "<NA>"
    except (TypeError, ValueError):
        return True


def axis_formatter(lang: str):  # noqa: ANN201 - a matplotlib FuncFormatter
    """Tick labels of a matplotlib axis in the language's convention (1.072 and 62,5 in Vietnamese)."""
    from matplotlib.ticker import FuncFormatter

    check_language(lang)

    def fmt(x: float, pos: int | None = None) -> str:
        x = round(x, 6)
        if float(x).is_integer():
            return fmt_number(x, lang, 0)
        decimals = min(len(f"{x:.6g}".split(".")[1]) if "." in f"{x:.6g}" else 0, 6)
        return fmt_number(x, lang, decimals)

    return FuncFormatter(fmt)


_VI_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_VI_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền, hỏi, ngã, sắc, nặng


def vi_sort_key(name: str) -> tuple:
    """Vietnamese dictionary order: letters in the Vietnamese alphabet (a ă â b c d đ e ê ...: Bạc Liêu before
    Bình Định, Đ after D), tone marks deciding only between otherwise equal words; a leading "TP." is ignored
    (TP. Hồ Chí Minh sorts under H). Python's code-point order puts "Bình" before "Bạc" and Đ after Z."""
    import unicodedata

    text = re.sub(r"^(TP\.?|Thành phố)\s+", "", str(name)).lower()
    letters, tones = [], []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        tone = next((_VI_TONES[m] for m in marks if m in _VI_TONES), 0)
        if base == "đ" or ch == "đ":
            base = "đ"
        elif "\u0306" in marks:
            base = "ă"
        elif "\u0302" in marks:
            base = {"a": "â", "e": "ê", "o": "ô"}.get(base, base)
        elif "\u031b" in marks:
            base = {"o": "ơ", "u": "ư"}.get(base, base)
        pos = _VI_LETTERS.find(base)
        if not base.isalnum():  # a word ends: "Bà Rịa" before "Bạc Liêu", "Cà Mau" before "Cao Bằng" (syllable order)
            letters.append((-1, ""))
        else:
            letters.append((pos, "") if pos >= 0 else (len(_VI_LETTERS), base))
        tones.append(tone)
    return tuple(letters), tuple(tones)


def join(items: list[str] | tuple[str, ...]) -> str:
    """A list of names, joined so that a name with a comma stays one name."""
    return LIST_SEP.join(str(i) for i in items)


def reliability(value: str, lang: str) -> str:
    """A provenance class (official, compiled, reported, user, derived) in the reader's words."""
    from .messages import MessageError, t

    try:
        return t(f"common.reliability.{value}", check_language(lang))
    except MessageError:
        return str(value)


def strip_unit(text: str) -> str:
    """A label without its trailing parenthesis: "Chỉ số chuyển đổi số cấp tỉnh (thang 0-1)" -> "Chỉ số
    chuyển đổi số cấp tỉnh" (a rank has no scale; a field's name without "(% điểm tối đa)")."""
    return re.sub(r"\s*\([^()]*\)\s*$", "", text).strip() or text


def label(index: str, indicator: str, lang: str) -> str:
    """The codebook's full label of an indicator in one language."""
    from .panel.codebook import label as both

    vi, en = both(index, indicator)
    return vi if check_language(lang) == "vi" else en


def index_name(index: str, lang: str) -> str:
    """The index's full name in the language, e.g. "Chỉ số cải cách hành chính"."""
    from .panel.codebook import index_label

    vi, en = index_label(index)
    return vi if check_language(lang) == "vi" else en


def index_short(index: str) -> str:
    """The acronym readers know (PAPI, PCI, PAR INDEX, SIPAS, DTI, ICT INDEX); "" for an index whose code
    is not a name (MIC_EGOV, ONLINE_SERVICES, a researcher's MY_SURVEY): those are shown by full name."""
    if re.fullmatch(r"[A-Z]+", index):
        return index
    if re.fullmatch(r"[A-Z]+_INDEX", index):
        return index.replace("_", " ")
    return ""


def index_title(index: str, lang: str) -> str:
    """"PAR INDEX — Chỉ số cải cách hành chính", or the full name alone where the code is no acronym."""
    short, name = index_short(index), index_name(index, lang)
    return f"{short} — {name}" if short and short != name else name


def _code_like(code: str) -> bool:
    return "_" in code or re.fullmatch(r"d\d+(\.\d+)?", code) is not None


@lru_cache(maxsize=4)
def _code_table(lang: str) -> tuple[dict[str, str], dict[tuple[str, str], str], re.Pattern[str], re.Pattern[str]]:
    """Codes that look like codes (PAPI d1..d8.3, anything with an underscore, their published ranks) and
    their labels. A code several indices define with different labels is replaced only where its index
    is written with it ("PAPI:d8"). Also the pattern of a code and the pattern of "label, label"."""
    from .panel.codebook import load_codebook

    cb = load_codebook()
    by_code: dict[str, set[str]] = {}
    pairs: dict[tuple[str, str], str] = {}
    for index, indicator in cb.indicators:
        for code in (indicator, f"{indicator}_rank"):
            pairs[(index, code)] = label(index, code, lang)
            if _code_like(code):
                by_code.setdefault(code, set()).add(pairs[(index, code)])
    single = {c: next(iter(labels)) for c, labels in by_code.items() if len(labels) == 1}
    single["total_rank"] = "thứ hạng công bố của chỉ số" if lang == "vi" else "published rank of the index"
    indices = sorted({i for i, _ in cb.indicators} | set(cb.indices), key=len, reverse=True)
    codes = sorted({c for _, c in pairs} | set(single), key=len, reverse=True)
    code = re.compile(r"(?<![\w.])(?:(" + "|".join(map(re.escape, indices)) + r")([: ]))?(" + "|".join(map(re.escape, codes))
                      + r")(?![\w]|\.\d)")
    names = "|".join(map(re.escape, sorted(set(single.values()) | set(pairs.values()), key=len, reverse=True)))
    listed = re.compile(rf"({names}), (?=(?:[A-Z][A-Z ]*: )?(?:{names}))")
    return single, pairs, code, listed


def relabel(text: Any, lang: str = "en") -> Any:
    """Codes inside free text replaced by their labels: "PAPI:d8" -> "PAPI: E-governance", "parts changed:
    added d7, d8" -> "parts changed: added Environmental governance; E-governance" (a list of codes becomes a
    list of labels joined with "; "). Plain words that are also codes ("time", "total") are replaced only
    when written as INDEX:code. Other text and non-text values are returned unchanged."""
    if not isinstance(text, str) or not text:
        return text
    single, pairs, code_re, list_re = _code_table(check_language(lang))

    def one(m: re.Match[str]) -> str:
        index, sep, code = m.group(1), m.group(2), m.group(3)
        if index and (index, code) in pairs and (sep == ":" or _code_like(code)):
            name = pairs[(index, code)]
            return name if code == "total" else f"{index_short(index) or index_name(index, lang)}: {name}"
        if code in single:
            return (f"{index}{sep}" if index else "") + single[code]
        return m.group(0)

    out = code_re.sub(one, text)
    return list_re.sub(r"\1; ", out) if out != text else out


def relabel_frame(frame: Any, lang: str = "en") -> Any:
    """A copy of a table for display: an `indicator` column beside an `index` column becomes the full
    label; codes in any other text cell, in column names and in the index are relabelled. The CSV of the
    table keeps the codes (a researcher joins on them)."""
    import pandas as pd

    out = frame.copy()
    if "indicator" in out.columns and "index" in out.columns:
        out["indicator"] = [label(str(i), str(k), lang) if isinstance(k, str) else k
                            for i, k in zip(out["index"], out["indicator"], strict=True)]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: relabel(v, lang))
    out.columns = [relabel(c, lang) if isinstance(c, str) else c for c in out.columns]
    if isinstance(out.index, pd.MultiIndex):
        out.index = out.index.set_levels([lvl.map(lambda v: relabel(v, lang)) if lvl.dtype == object else lvl
                                          for lvl in out.index.levels])
    elif out.index.dtype == object:
        out.index = out.index.map(lambda v: relabel(v, lang))
    return out
