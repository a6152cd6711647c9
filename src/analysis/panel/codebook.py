"""The codebook: labels (Vietnamese and English), units, scales, composition by year and methodology
breaks of every index and indicator.

The facts live in a reviewed data file, `data/codebook.yml`, that people edit without touching code; this
module validates it (a broken entry is a DataError naming the file and the key) and answers the questions
the build, the notebooks and the report cards ask: what is the maximum of this indicator in this year,
which parts does it sum, and where does its series break. Scales are rules, not single numbers, because
PAPI's maximum changes with its 2018 redesign and a sub-dimension's maximum is its dimension's maximum
divided by the number of sub-dimensions published that year."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .. import paths, yamlio
from ..errors import DataError

UNITS = {"points", "percent", "percent_of_max", "index_0_1", "count", "rank"}
BREAK_KINDS = {"method", "source", "discontinuity", "scale", "composition", "part", "territory"}
"""`territory`: the units change (the 2025 merger): the provinces whose territory did not change continue."""
INDEX_KEYS = {"label_vi", "label_en", "publisher", "publisher_vi", "publisher_en", "ranked", "computed_ranks", "zero_is_missing", "closed", "year_to_date"}
INDICATOR_KEYS = {"label_vi", "label_en", "unit", "scale", "parts", "years", "meaning_changes"}
BREAK_KEYS = {"index", "indicators", "year", "kind", "comparable", "note"}
COMPARISONS = {
    "province": "a province against itself or against other provinces across the years: a card's change, ranks, "
                "within-year z-scores, a province's trend, within-province (fixed-effects) models",
    "national": "a national aggregate across the years: the yearly mean over provinces",
}
"""The kinds of comparison a break can be scoped to. A break may leave one comparable and not the other:
PAPI 2021 reorders the provinces (province comparisons break) while the evidence says nothing against the
national mean (a caveat). In the codebook source `comparable` is true/false (every kind alike) or a mapping
`{province: false, national: true}`; callers ask `comparable(..., comparison=...)` for the kind they make."""


RANKING_RELIABILITY = {"official", "compiled"}
"""The rows a full panel's ranks are computed among: the publisher's own values (official workbooks and
their compilations). Reported and user values of PAPI or PCI are shown beside them but never ranked, so
they cannot change a published rank, rank_of or quartile."""
PUBLISHED_RELIABILITY = {"official", "compiled", "reported"}
"""The rows a card may attribute to a publisher: its own values and values quoted from its publications.
A researcher's (`user`) and the project's (`derived`) rows are never shown as what a publisher said."""

MIN_QUARTILE_N = 4
"""No quartile group is assigned when fewer units than this are ranked."""


@dataclass(frozen=True)
class Break:
    """A point where a series changes: values in years before `year` and from `year` on differ in what
    they measure (`comparable` False) or in a documented way readers must be told about (True).
    `comparable` answers for province comparisons (what every caller asked before breaks had a scope),
    `comparable_national` for national aggregates (`COMPARISONS`); they differ only where the codebook says so."""

    index: str
    indicator: str
    year: int
    kind: str
    comparable: bool
    note: str
    comparable_national: bool | None = None

    def __post_init__(self) -> None:
        if self.comparable_national is None:
            object.__setattr__(self, "comparable_national", self.comparable)

    def comparable_for(self, comparison: str = "province") -> bool:
        """Whether values on either side may be compared in a comparison of this kind (`COMPARISONS`)."""
        if comparison not in COMPARISONS:
            raise ValueError(f"comparison must be one of {sorted(COMPARISONS)}, not {comparison!r}")
        return bool(self.comparable if comparison == "province" else self.comparable_national)

    def scope_text(self) -> str:
        """'' for a break that blocks nothing, ' (not comparable)' for one that blocks every kind, and the
        scope where the kinds differ."""
        if self.comparable and self.comparable_national:
            return ""
        if not self.comparable and not self.comparable_national:
            return " (not comparable)"
        return " (not comparable between provinces; national levels comparable with this caveat)" if not self.comparable \
            else " (comparable between provinces; national levels not comparable)"


@dataclass(eq=False)
class Codebook:
    path: Path
    indices: dict[str, dict[str, Any]]
    indicators: dict[tuple[str, str], dict[str, Any]]
    explicit_breaks: list[dict[str, Any]] = field(default_factory=list)


def _by_year(value: Any, where: str, path: Path, kind: type) -> dict[int, Any]:
    """`10` or `{2011: 60, 2018: 80}` as {first year: value}; a constant holds from the beginning."""
    if not isinstance(value, dict):
        value = {0: value}
    out = {}
    for year, v in value.items():
        if not isinstance(year, int) or isinstance(year, bool):
            raise DataError("a year key must be a whole number", file=path, column=where, value=year)
        if kind is float and (isinstance(v, bool) or not isinstance(v, int | float) or v <= 0):
            raise DataError("a scale must be a positive number", file=path, column=where, value=v)
        if kind is list and (not isinstance(v, list) or not v or not all(isinstance(p, str) for p in v)):
            raise DataError("parts must be a non-empty list of indicator codes", file=path, column=where, value=v)
        out[year] = float(v) if kind is float else list(v)
    return dict(sorted(out.items()))


def _check_keys(entry: Any, allowed: set[str], where: str, path: Path) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise DataError("expected a mapping", file=path, column=where, value=entry)
    unknown = set(entry) - allowed
    if unknown:
        raise DataError("unknown key in codebook", file=path, column=f"{where}.{sorted(unknown)[0]}",
                        hint=f"Allowed: {', '.join(sorted(allowed))}")
    return entry


def parse_codebook(path: Path) -> Codebook:
    """Read and validate the codebook source. Every reference must resolve: a part is a listed indicator of
    the same index, a break names a known index and indicators, units are from the documented set."""
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError("codebook source not found", file=path) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DataError(f"codebook is not valid UTF-8 YAML: {exc}", file=path) from exc
    doc = _check_keys(doc, {"indices", "indicators", "breaks"}, "(top level)", path)
    indices: dict[str, dict[str, Any]] = {}
    for name, entry in (doc.get("indices") or {}).items():
        entry = _check_keys(entry, INDEX_KEYS, f"indices.{name}", path)
        for key in ("label_vi", "label_en"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise DataError("every index needs a label", file=path, column=f"indices.{name}.{key}")
        for key in ("ranked", "computed_ranks", "zero_is_missing", "closed", "year_to_date"):
            if key in entry and not isinstance(entry[key], bool):
                raise DataError("expected true or false", file=path, column=f"indices.{name}.{key}", value=entry[key])
        indices[name] = {"ranked": False, "computed_ranks": False, "zero_is_missing": False, "closed": False, "year_to_date": False,
                         "publisher": ""} | entry
    indicators: dict[tuple[str, str], dict[str, Any]] = {}
    for index, group in (doc.get("indicators") or {}).items():
        if index not in indices:
            raise DataError("indicators listed for an index not in `indices`", file=path, column=f"indicators.{index}")
        for code, entry in (group or {}).items():
            where = f"indicators.{index}.{code}"
            entry = dict(_check_keys(entry, INDICATOR_KEYS, where, path))
            for key in ("label_vi", "label_en"):
                if not isinstance(entry.get(key), str) or not entry[key].strip():
                    raise DataError("every indicator needs a label", file=path, column=f"{where}.{key}")
            if entry.get("unit") not in UNITS:
                raise DataError(f"unit must be one of {sorted(UNITS)}", file=path, column=f"{where}.unit", value=entry.get("unit"))
            if "scale" in entry:
                entry["scale"] = _by_year(entry["scale"], f"{where}.scale", path, float)
            if "parts" in entry:
                entry["parts"] = _by_year(entry["parts"], f"{where}.parts", path, list)
            years = entry.get("years")
            if years is not None and (not isinstance(years, list) or len(years) != 2 or not isinstance(years[0], int)
                                      or not (years[1] is None or isinstance(years[1], int))):
                raise DataError("years must be [first, last] (last may be null)", file=path, column=f"{where}.years", value=years)
            indicators[(str(index), str(code))] = entry
    for (index, code), entry in indicators.items():
        for year, parts in entry.get("parts", {}).items():
            missing = [p for p in parts if (index, p) not in indicators]
            if missing:
                raise DataError("a part is not a listed indicator", file=path, column=f"indicators.{index}.{code}.parts.{year}",
                                value=missing[0])
    breaks = []
    for i, entry in enumerate(doc.get("breaks") or [], start=1):
        entry = _check_keys(entry, BREAK_KEYS, f"breaks[{i}]", path)
        if entry.get("index") not in indices:
            raise DataError("break names an unknown index", file=path, column=f"breaks[{i}].index", value=entry.get("index"))
        scope = entry.get("comparable")
        if isinstance(scope, dict):
            if set(scope) != set(COMPARISONS) or not all(isinstance(v, bool) for v in scope.values()):
                raise DataError(f"a scoped `comparable` gives true/false for each of {sorted(COMPARISONS)}", file=path,
                                column=f"breaks[{i}].comparable", value=scope)
        elif not isinstance(scope, bool):
            scope = None
        if entry.get("kind") not in BREAK_KINDS or not isinstance(entry.get("year"), int) or scope is None:
            raise DataError("a break needs year (int), kind and comparable (true/false, or one per kind of comparison)",
                            file=path, column=f"breaks[{i}]", value=entry)
        targets = entry.get("indicators", "all")
        if targets != "all":
            bad = [t for t in targets if (entry["index"], t) not in indicators]
            if bad:
                raise DataError("break names an unknown indicator", file=path, column=f"breaks[{i}].indicators", value=bad[0])
        province, national = (scope["province"], scope["national"]) if isinstance(scope, dict) else (scope, scope)
        breaks.append(entry | {"indicators": targets, "note": str(entry.get("note", "")), "comparable": province,
                               "comparable_national": national})
    return Codebook(path, indices, indicators, breaks)


def codebook_path() -> Path:
    return _codebook_path(os.environ.get("VNGOV_ROOT"))


@lru_cache(maxsize=8)
def _codebook_path(root_env: str | None) -> Path:
    """Resolved once per project root: the build asks for scales ~100,000 times."""
    return paths.project_root() / "data" / "codebook.yml"


@lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int) -> Codebook:
    return parse_codebook(Path(path))


def load_codebook(path: Path | None = None) -> Codebook:
    """The validated codebook (cached per file version)."""
    path = path or codebook_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise DataError("codebook source not found", file=path) from exc
    return _load(str(path), mtime)


def _at(rule: dict[int, Any] | None, year: int) -> Any:
    """The value of a by-year rule in `year` (the latest entry whose first year is not after it)."""
    if not rule:
        return None
    value = None
    for first, v in rule.items():
        if first <= year:
            value = v
    return value


def index_info(index: str) -> dict[str, Any] | None:
    return load_codebook().indices.get(index)


def publisher(index: str, lang: str) -> str:
    """Who publishes `index`, in the reader's language (`publisher_vi` / `publisher_en`, else `publisher`): a
    Vietnamese sentence names "Bộ Nội vụ", not "Bộ Nội vụ (Ministry of Home Affairs)". Empty when not recorded."""
    info = index_info(index) or {}
    return str(info.get(f"publisher_{lang}") or info.get("publisher") or "")


def indicator_info(index: str, indicator: str) -> dict[str, Any] | None:
    return load_codebook().indicators.get((index, indicator))


def parts(index: str, indicator: str, year: int) -> list[str] | None:
    """The parts `indicator` sums in `year`, or None if it has no parts (or did not exist then)."""
    info = indicator_info(index, indicator)
    return _at(info.get("parts"), year) if info else None


def parent(index: str, indicator: str, year: int) -> str | None:
    """The indicator whose parts include `indicator` in `year`."""
    return _parent(load_codebook(), index, indicator, year)


@lru_cache(maxsize=4096)
def _parent(cb: Codebook, index: str, indicator: str, year: int) -> str | None:
    for (idx, code), info in cb.indicators.items():
        if idx == index and indicator in (_at(info.get("parts"), year) or []):
            return code
    return None


def exists(index: str, indicator: str, year: int) -> bool:
    """Whether an indicator of a closed index (PAPI, PCI) was published in `year`: listed, inside its years,
    and, for a part, among its parent's parts that year."""
    info = indicator_info(index, indicator)
    if info is None:
        return False
    first, last = info.get("years") or [None, None]
    if first is not None and year < first or last is not None and year > last:
        return False
    if "parts" in info and _at(info["parts"], year) is None:
        return False
    owners = [code for (idx, code), i in load_codebook().indicators.items() if idx == index and "parts" in i
              and any(indicator in p for p in i["parts"].values())]
    return not owners or parent(index, indicator, year) is not None


def defined_indicators(index: str, year: int) -> set[str] | None:
    """The indicators a closed index (PAPI, PCI: `closed: true` in the codebook) defines in `year`, with
    their published `_rank`; None for an index whose indicators are open (reported and researchers' own
    indices). A PAPI `d9`, a sub-dimension not published that year or an unknown PCI sub-index is not a
    value of that index."""
    return _defined(load_codebook(), index, int(year))


@lru_cache(maxsize=1024)
def _defined(cb: Codebook, index: str, year: int) -> set[str] | None:
    info = cb.indices.get(index)
    if not info or not info["closed"]:
        return None
    codes = {k for (i, k) in cb.indicators if i == index and exists(index, k, year)}
    return codes | {f"{c}_rank" for c in codes}


def expected_scale_max(index: str, indicator: str, year: int) -> float | None:
    """The maximum a value can take in `year`, where the index defines one. A part without a scale of its
    own has its parent's maximum divided by the number of parts that year."""
    return _scale_max(load_codebook(), index, indicator, int(year))


@lru_cache(maxsize=8192)
def _scale_max(cb: Codebook, index: str, indicator: str, year: int) -> float | None:
    if indicator.endswith("_rank"):
        return None
    info = indicator_info(index, indicator)
    if info is None:
        return None
    own = _at(info.get("scale"), year)
    if own is not None:
        return float(own)
    up = parent(index, indicator, year)
    if up is None:
        return None
    up_max = expected_scale_max(index, up, year)
    return None if up_max is None else up_max / len(parts(index, up, year) or [None])


def _derived_breaks(index: str, indicator: str) -> list[Break]:
    """Breaks the scale and parts rules imply: a change of the indicator's own maximum or parts, and a change
    of its maximum when its parent's number of parts changes."""
    info = indicator_info(index, indicator) or {}
    out = []
    scales = info.get("scale") or {}
    for (_, a), (year, b) in zip(list(scales.items()), list(scales.items())[1:], strict=False):
        out.append(Break(index, indicator, year, "scale", False, f"maximum {a:g} to {b:g}"))
    own = info.get("parts") or {}
    for (_, a), (year, b) in zip(list(own.items()), list(own.items())[1:], strict=False):
        added, dropped = [p for p in b if p not in a], [p for p in a if p not in b]
        what = "; ".join(filter(None, [f"added {', '.join(added)}" if added else "", f"dropped {', '.join(dropped)}" if dropped else ""]))
        out.append(Break(index, indicator, year, "composition", False, f"parts changed: {what}"))
    if "scale" not in info:
        seen: dict[int, float | None] = {}
        years = sorted({y for i in load_codebook().indicators.values() for y in (i.get("parts") or {}) if y})
        for year in years:
            seen[year] = expected_scale_max(index, indicator, year)
        prev = None
        for year, m in seen.items():
            if prev is not None and m is not None and prev != m:
                out.append(Break(index, indicator, year, "scale", False, f"maximum {prev:g} to {m:g} (its dimension's parts changed)"))
            prev = m if m is not None else prev
    return out


def breaks(index: str, indicator: str) -> tuple[Break, ...]:
    """Every break of a series, in year order: the explicit ones of the codebook, the scale and composition
    changes its rules imply, and the non-comparable breaks of its parts (kind `part`). A break of a leaf
    part (a PAPI sub-dimension) breaks its parent too, with the same scope: a dimension whose sub-dimension
    changed measures something else. A break of a composite part (a dimension inside the PAPI total) is a
    documented caveat for the parent, not a break: the headline index stays comparable within its method
    version, as its publisher compares it. An explicit entry that names the parent itself is not repeated
    through its parts."""
    return _breaks(load_codebook(), index, indicator)


@lru_cache(maxsize=1024)
def _breaks(cb: Codebook, index: str, indicator: str) -> tuple[Break, ...]:
    out = list(_derived_breaks(index, indicator))
    own = set()
    for b in cb.explicit_breaks:
        if b["index"] == index and (b["indicators"] == "all" or indicator in b["indicators"]):
            out.append(Break(index, indicator, b["year"], b["kind"], b["comparable"], b["note"], b["comparable_national"]))
            own.add((b["year"], b["note"]))
    info = indicator_info(index, indicator) or {}
    for part in dict.fromkeys(p for year_parts in (info.get("parts") or {}).values() for p in year_parts):
        composite = "parts" in (indicator_info(index, part) or {})
        for b in breaks(index, part):
            if (b.year, b.note) in own:  # the same entry already applies to this indicator itself
                continue
            if b.kind in ("discontinuity", "composition", "part") and not (b.comparable and b.comparable_national):
                out.append(Break(index, indicator, b.year, "part", composite or b.comparable, f"{part}: {b.note}",
                                 composite or b.comparable_national))
    unique = {(b.year, b.kind, b.note): b for b in out}
    return tuple(sorted(unique.values(), key=lambda b: (b.year, b.kind, b.note)))


def comparable(index: str, indicator: str, year_a: int, year_b: int, relative: bool = False,
               comparison: str = "province") -> tuple[bool, list[Break]]:
    """Whether values of one series in two years may be compared in a comparison of kind `comparison`
    (`COMPARISONS`: 'province', the default, or 'national'), and the breaks between them.

    Every break in (min, max] not comparable for that kind makes them not comparable, except that with
    `relative=True` (ranks, within-year z-scores, shares of the maximum) a pure change of scale is handled.
    The other breaks (a documented source switch; for a national mean, PAPI's 2021 reordering of provinces)
    are returned so the output can state them as caveats."""
    lo, hi = sorted((int(year_a), int(year_b)))
    between = [b for b in breaks(index, indicator) if lo < b.year <= hi]
    blocking = [b for b in between if not b.comparable_for(comparison) and not (relative and b.kind == "scale")]
    return not blocking, between


def segments(index: str, indicator: str, years: list[int], relative: bool = False, comparison: str = "province") -> list[list[int]]:
    """Split sorted `years` into runs within which every pair of years is comparable (for `comparison`)."""
    out: list[list[int]] = []
    for year in sorted(set(int(y) for y in years)):
        if out and comparable(index, indicator, out[-1][0], year, relative, comparison)[0]:
            out[-1].append(year)
        else:
            out.append([year])
    return out


def label(index: str, indicator: str) -> tuple[str, str]:
    """Full labels (vi, en). A published-rank indicator is labelled from its base; an unknown code of a
    researcher's own index falls back to its words, never to an empty label."""
    info = indicator_info(index, indicator)
    if info:
        return info["label_vi"], info["label_en"]
    if indicator.endswith("_rank"):
        # a rank has no scale: "Chỉ số chuyển đổi số cấp tỉnh (thang 0-1)" ranks as "... cấp tỉnh"; the
        # rank of an index's total is named by the index
        base = indicator[: -len("_rank")]
        if base and (base != "total" or indicator_info(index, "total")):
            vi, en = label(index, base)
        else:
            vi, en = index_label(index)
        vi, en = (re.sub(r"\s*\([^()]*\)\s*$", "", s).strip() or s for s in (vi, en))
        return f"Thứ hạng công bố: {vi}", f"Published rank: {en} (1 = best)"
    words = indicator.replace("_", " ")
    return words, words


def index_label(index: str) -> tuple[str, str]:
    info = index_info(index)
    return (info["label_vi"], info["label_en"]) if info else (index, index)


def __getattr__(name: str) -> Any:
    """Sets the build and the pages ask for, computed from the codebook source on first use."""
    cb = load_codebook()
    if name == "SCORE_INDICES":
        return {i for i, info in cb.indices.items() if info["zero_is_missing"]}
    if name == "RANKED_INDICES":
        return {i for i, info in cb.indices.items() if info["ranked"]}
    if name == "COMPUTED_RANK_INDICES":  # ranks computed by the build: the full panels and the full tables without ranks
        return {i for i, info in cb.indices.items() if info["ranked"] or info["computed_ranks"]}
    if name == "YEAR_TO_DATE_INDICES":
        return {i for i, info in cb.indices.items() if info["year_to_date"]}
    if name == "INDEX_LABELS":
        return {i: (info["label_vi"], info["label_en"]) for i, info in cb.indices.items()}
    raise AttributeError(name)


def _years(s: pd.Series) -> str:
    ys = sorted(set(int(y) for y in s))
    runs, start = [], ys[0]
    for a, b in zip(ys, ys[1:] + [None], strict=True):
        if b != a + 1:
            runs.append(f"{start}" if start == a else f"{start}-{a}")
            start = b
    return ", ".join(runs)


def build_codebook(panel: pd.DataFrame) -> pd.DataFrame:
    """One row per index-indicator in the panel, with labels, unit, scale, coverage, meaning changes and
    every methodology break (the table researchers read and cite)."""
    rows = []
    for (index, indicator), g in panel.groupby(["index", "indicator"], sort=True):
        vi, en = label(index, indicator)
        ivi, ien = index_label(index)
        info = indicator_info(index, indicator) or {}
        scales = g.groupby("scale_max", dropna=True)["year"].agg(_years)
        scale_text = "; ".join(f"{m:g} ({yrs})" for m, yrs in scales.items()) if len(scales) else ""
        found = [b for b in breaks(index, indicator) if g["year"].min() < b.year <= g["year"].max()]
        rows.append({
            "index": index, "indicator": indicator, "label_vi": vi, "label_en": en, "index_label_vi": ivi, "index_label_en": ien,
            "unit": info.get("unit", "rank" if indicator.endswith("_rank") else ""),
            "scale_max": scale_text, "higher_is_better": not indicator.endswith("_rank"), "years": _years(g["year"]),
            # a province per code *and vintage*: 2025 code 24 (Bắc Ninh) is not 63-province code 24 (Bắc Giang)
            "n_obs": len(g), "n_provinces": len(g[["vintage", "province_code"]].drop_duplicates()) if "vintage" in g else g["province_code"].nunique(),
            "method_versions": ", ".join(sorted(v for v in g["method_version"].dropna().unique() if v)),
            "reliability": ", ".join(sorted(g["reliability"].unique())),
            "meaning_changes": info.get("meaning_changes", ""),
            "breaks": "; ".join(f"{b.year} {b.kind}{b.scope_text()}: {b.note}" for b in found),
            "in_codebook_source": bool(info) or indicator.endswith("_rank"),
        })
    return pd.DataFrame(rows)
