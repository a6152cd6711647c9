"""Does moving services online go with better outcomes? The question over time (`notebooks/10_online_services_trends`)
and the answer up front (`answer_up_front`, for the home pages and the README).

Two families of measures, each with full provincial tables over several years:

- the Decision 766 service index: its online-services component (`online_22`, of 22: online public services
  plus online payment) against its satisfaction (`mdhl`) and timeliness (`tdgq`) components, yearly 2022-2024
  (34 units named by the provinces of 2025, each row coded to the 63-province it is taken to be, `identity`
  certain or assumed) and 2025 year to date at each cut-off (the 34 provinces of 2025, online_22 = CLGQ + TTTT);
- the DTI 2022-2024 of the 63 provinces (total and digital-government activity) against PAPI's
  administrative procedures (d5), public services (d6) and e-governance (d8).

Designs: yearly cross-sections (Spearman and Pearson, 95% Fisher intervals, Holm within each year's family of
tests of one method), and within provinces: two-way fixed effects (province and year), first differences, and
the online measure of the year before, each with province-clustered CR1 errors (t with G - 1 df) and the wild
cluster bootstrap (`stats.wildboot`), G printed. Sensitivity: the certain units only, without 2025, each
province left out.

Across 2025 the 766 units change (codebook break `territory`): the 11 provinces the merger left alone keep their
territory and enter the within-province designs with their 2025 rows; the 23 merged units' 2025 rows are another
territory and enter only the 2025 cross-sections. The 2025 sum CLGQ + TTTT counts as the publisher's value
(compiled): it is the publisher's own 22-point component in the layout of the earlier years (codebook).

Every number in the prose comes from the result (`Result`), worded from the `online` message catalog."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError
from .i18n import check_language, fmt_number, join
from .i18n import label as ilabel
from .messages import translator
from .panel import codebook, provenance
from .panel.vintage import in_34, in_63
from .registry import VINTAGE_34
from .stats.common import holm
from .stats.correlation import correlate, wide
from .stats.wildboot import Design, dummies, leave_one_out

INDEX766, ONLINE_766 = "DVC766", "online_22"
OUTCOMES_766 = ["mdhl", "tdgq"]
DTI_MEASURES = ["total", "digital_government_activity"]
PAPI_OUTCOMES = ["d5", "d6", "d8"]
YEARS = [2022, 2023, 2024, 2025]
UNITS = ("all", "certain")
METHODS = ("spearman", "pearson")
DESIGNS = ("levels", "first_differences", "lagged")
UNTESTABLE = ("PAR_INDEX", "SIPAS")
IDENTITY_COLUMNS = ["n_certain", "n_assumed", "n_as_named"]
SENSITIVITY_DRAWS = 1999
"""Wild bootstrap draws of a sensitivity row (the main rows use `draws`): enough for a 5% test and interval, and
a third of the run's bootstrap time."""
SAMPLES = {"certain units only": "online.sample.certain", "without 2025": "online.sample.without_2025"}


@dataclass
class Frame:
    """One family's province-year values: `values` and `reliability` (same shape, one column per 'INDEX:indicator'),
    and per row the unit's `identity` (certain / assumed / as named), its name, and `territory`: the 63-province
    code whose territory the row describes, empty for a merged 2025 province (another territory)."""

    values: pd.DataFrame
    reliability: pd.DataFrame
    rows: pd.DataFrame  # index as values: columns province, identity, territory, period


@dataclass
class Result:
    """Everything notebook 10 shows and the prose is written from."""

    params: dict[str, Any]
    cross: pd.DataFrame
    within: pd.DataFrame
    trends: dict[str, pd.DataFrame]
    movers: pd.DataFrame
    binh_phuoc: dict[str, Any]
    untestable: dict[str, int]
    frames: dict[str, Frame] = field(default_factory=dict)


def var(index: str, indicator: str) -> str:
    return f"{index}:{indicator}"


def var_label(v: str, lang: str = "en") -> str:
    index, indicator = v.split(":", 1)
    return ilabel(index, indicator, lang)


def check(units: str, years: list[int]) -> None:
    if units not in UNITS:
        raise DataError("units must be 'all' or 'certain'", column="units", value=units)
    bad = [y for y in years if not isinstance(y, int) or not 2022 <= y <= 2025]
    if bad or not years:
        raise DataError("years must be a non-empty list of years 2022-2025 (the years with full tables)", column="years", value=bad or years)


# ---- data -------------------------------------------------------------------------------------------------


def cutoffs_2025(panel: pd.DataFrame) -> list[str]:
    """Cut-offs of the 766 index of 2025 with a total for all 34 provinces (the publisher's rows)."""
    rows = in_34(panel)
    rows = rows[(rows["index"] == INDEX766) & (rows["year"] == 2025) & (rows["indicator"] == "total")
                & rows["reliability"].isin(["official", "compiled"]) & (rows["date"].str.len() == 10)]
    n = rows.groupby("date")["province_code"].nunique()
    return sorted(n[n == 34].index)


def frame_766(panel: pd.DataFrame, provinces: pd.DataFrame, years: list[int], units: str = "all",
              exclude_reliability: list[str] | None = None) -> Frame:
    """The 766 index's online services, satisfaction and timeliness per unit and period: 2022-2024 as coded to
    the 63 provinces (identity from the panel), 2025 at every cut-off for the 34 provinces of 2025. With
    units='certain' the assumed rows are left out."""
    panel = provenance.exclude(panel, exclude_reliability or [])
    wanted = [ONLINE_766, *OUTCOMES_766]
    frames, rels, rows = [], [], []
    early = in_63(panel)
    early = early[(early["index"] == INDEX766) & early["indicator"].isin(wanted) & (early["date"] == "")
                  & early["year"].isin([y for y in years if y < 2025]) & (early["identity"] != "")]
    if len(early):
        key = ["province_code", "year"]
        v = early.pivot_table(index=key, columns="indicator", values="value", aggfunc="first")
        r = early.pivot_table(index=key, columns="indicator", values="reliability", aggfunc="first")
        info = early.groupby(key).agg(province=("province", "first"), identity=("identity", "first"))
        info["territory"] = info.index.get_level_values("province_code")
        info["period"] = info.index.get_level_values("year").astype(str)
        frames.append(v)
        rels.append(r)
        rows.append(info)
    if 2025 in years:
        p34 = provinces[provinces["vintage"] == VINTAGE_34].set_index("province_code")
        late = in_34(panel)
        late = late[(late["index"] == INDEX766) & (late["year"] == 2025) & late["indicator"].isin(["clgq", "tttt", *OUTCOMES_766])
                    & late["reliability"].isin(["official", "compiled", "user"])]
        for cut in cutoffs_2025(panel):
            d = late[late["date"] == cut]
            v = d.pivot_table(index="province_code", columns="indicator", values="value", aggfunc="first")
            r = d.pivot_table(index="province_code", columns="indicator", values="reliability", aggfunc="first")
            if not {"clgq", "tttt"} <= set(v.columns):
                continue
            v[ONLINE_766] = v["clgq"] + v["tttt"]
            r[ONLINE_766] = provenance.weakest(r["clgq"], r["tttt"])
            merged = p34["merged_codes"].reindex(v.index).astype(str).str.split("|")
            info = pd.DataFrame({"province": p34["province"].reindex(v.index), "identity": "certain",
                                 "territory": [m[0] if len(m) == 1 else "" for m in merged], "period": f"2025 ({cut})"},
                                index=v.index)
            idx = pd.MultiIndex.from_arrays([v.index.map(lambda c, cut=cut: f"{c}@{cut}"), [2025] * len(v)], names=["province_code", "year"])
            for f in (v, r, info):
                f.index = idx
            v["cutoff"], info["cutoff"] = cut, cut
            frames.append(v.drop(columns=["clgq", "tttt"]))
            rels.append(r.drop(columns=["clgq", "tttt"]))
            rows.append(info)
    if not frames:
        raise DataError("no 766 values for these years", column="years", value=years)
    values = pd.concat(frames).rename(columns=lambda c: c if c == "cutoff" else var(INDEX766, c))
    rel = pd.concat(rels).rename(columns=lambda c: var(INDEX766, c)).reindex(columns=[c for c in values if c != "cutoff"])
    info = pd.concat(rows)
    info["cutoff"] = info.get("cutoff", pd.Series("", index=info.index)).fillna("")
    if units == "certain":
        keep = info["identity"] == "certain"
        values, rel, info = values[keep], rel[keep], info[keep]
    return Frame(values.drop(columns="cutoff", errors="ignore"), rel, info)


def frame_dti(panel: pd.DataFrame, years: list[int], measures: list[str], outcomes: list[str],
              exclude_reliability: list[str] | None = None) -> Frame:
    """DTI measures and PAPI outcomes of the 63 provinces, 2022-2024 (annual rows; every row names its province)."""
    panel = provenance.exclude(panel, exclude_reliability or [])
    variables = [var("DTI", m) for m in measures] + [var("PAPI", o) for o in outcomes]
    yrs = [y for y in years if y <= 2024]
    values, rel = wide(panel, variables, yrs, reliability=True)
    names = in_63(panel).drop_duplicates("province_code").set_index("province_code")["province"]
    codes = values.index.get_level_values("province_code")
    info = pd.DataFrame({"province": names.reindex(codes).to_numpy(), "identity": "", "territory": codes,
                         "period": values.index.get_level_values("year").astype(str), "cutoff": ""}, index=values.index)
    return Frame(values, rel, info)


# ---- cross-sections ----------------------------------------------------------------------------------------


def _identity_counts(identity: pd.Series) -> dict[str, int]:
    return {"n_certain": int((identity == "certain").sum()), "n_assumed": int((identity == "assumed").sum()),
            "n_as_named": int((identity == "").sum())}


def cross_sections(frames: dict[str, Frame], pairs: list[tuple[str, str, str]], min_n: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """One row per period, pair and method: r, 95% Fisher interval, p, N, provenance counts (values) and identity
    counts (units); `p_holm` adjusts within the year's family: every pair of both families tested that year with
    one method (the two 2025 cut-offs are one year's family)."""
    rows = []
    for family, x, y in pairs:
        f = frames[family]
        if x not in f.values or y not in f.values:
            continue
        for period, g in f.rows.groupby("period", sort=True):
            idx = g.index
            xv, yv = f.values.loc[idx, x], f.values.loc[idx, y]
            used = xv.notna() & yv.notna()
            prov = provenance.pair_counts(f.reliability.loc[idx, x], f.reliability.loc[idx, y], used)
            ident = _identity_counts(g.loc[used, "identity"])
            for method in METHODS:
                res = correlate(xv, yv, method, min_n, alpha)
                rows.append({"family": family, "year": int(period[:4]), "period": period, "cutoff": g["cutoff"].iloc[0], "method": method,
                             "x": x, "y": y, **res, **prov, **ident})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = out.groupby(["year", "method"])["p"].transform(lambda p: holm(p, alpha))
    out["family_size"] = out.groupby(["year", "method"])["p"].transform(lambda p: int(p.notna().sum()))
    return out


# ---- within provinces --------------------------------------------------------------------------------------


def _panel_rows(f: Frame, x: str, y: str, drop_years: tuple[int, ...] = (), certain_only: bool = False) -> pd.DataFrame:
    """Province-year rows of one pair for the within designs: the territory is the entity; 2025 rows only for a
    province the merger left alone, at the latest cut-off (one value per province-year)."""
    d = pd.DataFrame({"x": f.values[x], "y": f.values[y], "rel_x": f.reliability[x], "rel_y": f.reliability[y]}).join(f.rows)
    d = d[(d["territory"] != "") & d["x"].notna() & d["y"].notna()].reset_index()
    if "cutoff" in d and (d["cutoff"] != "").any():
        latest = d.loc[d["cutoff"] != "", "cutoff"].max()
        d = d[(d["cutoff"] == "") | (d["cutoff"] == latest)]
    if certain_only:
        d = d[d["identity"] == "certain"]
    return d[~d["year"].isin(drop_years)].sort_values(["territory", "year"]).reset_index(drop=True)


def _design_data(d: pd.DataFrame, design: str) -> pd.DataFrame:
    """The rows each design estimates on: levels; first differences of consecutive years; y with x of the year
    before. Entities seen once contribute nothing within and are dropped (so G counts informative provinces)."""
    if design == "levels":
        out = d.copy()
    else:
        prev = d.groupby("territory")[["year", "x", "y", "rel_x"]].shift(1)
        ok = (d["year"] - prev["year"]) == 1
        out = d[ok].copy()
        if design == "first_differences":
            out["x"], out["y"] = d.loc[ok, "x"] - prev.loc[ok, "x"], d.loc[ok, "y"] - prev.loc[ok, "y"]
            out["rel_x"] = provenance.weakest(d.loc[ok, "rel_x"], prev.loc[ok, "rel_x"])
        else:
            out["x"], out["rel_x"] = prev.loc[ok, "x"], prev.loc[ok, "rel_x"]
    if design != "first_differences":
        n = out.groupby("territory")["year"].transform("size")
        out = out[n > 1]
    return out.reset_index(drop=True)


def breaks_between(x: str, y: str, years: list[int]) -> tuple[list[str], list[str]]:
    """The codebook's breaks of either variable inside the years a model spans: (blocking, caveats). The 766
    index's 2025 territory break is handled by the design (only provinces the merger left alone carry a 2025
    row), so it is a caveat, not a block."""
    blocking, caveats = [], []
    if len(years) < 2:
        return blocking, caveats
    for v in (x, y):
        index, indicator = v.split(":", 1)
        for b in codebook.comparable(index, indicator, min(years), max(years))[1]:
            text = f"{index} {b.year} {b.kind}: {b.note}"
            handled = b.kind == "territory"
            (caveats if b.comparable or handled else blocking).append(text)
    return sorted(set(blocking)), sorted(set(caveats))


def _fit(d: pd.DataFrame, design: str, draws: int, seed: int, interval: bool = True, loo: bool = False) -> dict[str, Any]:
    if len(d) < 3 or d["territory"].nunique() < 3:
        return {"n": len(d), "g": int(d["territory"].nunique()), "status": "too few provinces"}
    absorbed = ["year"] if design == "first_differences" else ["territory", "year"]
    dm = dummies(d, absorbed)
    des = Design(d["y"].to_numpy(), d["x"].to_numpy(), dm, d["territory"].to_numpy())
    if not np.isfinite(des.se) or des.se == 0:
        return {"n": len(d), "g": des.g, "status": "no variation left within provinces"}
    out = des.boot(draws, seed, interval).as_dict() | {"status": "estimated", "years": ", ".join(map(str, sorted(d["year"].unique())))}
    out |= provenance.counts(list(d["rel_x"]) + list(d["rel_y"]))
    out |= _identity_counts(d.drop_duplicates("territory")["identity"])
    if loo:
        crossing = dummies(d, ["year"])  # year effects and the constant; the province effects are absorbed within
        b = leave_one_out(d["y"].to_numpy(), d["x"].to_numpy(), crossing, d["territory"].to_numpy(), design != "first_differences")
        names = d.drop_duplicates("territory").set_index("territory")["province"]
        far = (b - out["beta"]).abs().idxmax()
        out |= {"loo_min": float(b.min()), "loo_max": float(b.max()), "loo_most": str(names.get(far, far)),
                "loo_sign_changes": int(((b > 0) != (out["beta"] > 0)).sum())}
    return out


def within(frames: dict[str, Frame], pairs: list[tuple[str, str, str]], draws: int = 9999, seed: int = 20201,
           designs: tuple[str, ...] = DESIGNS) -> pd.DataFrame:
    """Every pair, design and sample: `main` (all units of the frame), `certain units only` and `without 2025`
    for the 766 family (not applicable to the DTI family, whose rows name their provinces and end in 2024), with
    the leave-one-province-out range of the main estimate. Intervals of both kinds on every row (sensitivity rows
    with at most SENSITIVITY_DRAWS draws)."""
    rows = []
    for family, x, y in pairs:
        f = frames[family]
        if x not in f.values or y not in f.values:
            continue
        samples = {"main": {}}
        if family == "766":
            samples |= {"certain units only": {"certain_only": True}, "without 2025": {"drop_years": (2025,)}}
        for design in designs:
            for name, kw in samples.items():
                d = _design_data(_panel_rows(f, x, y, **kw), design)
                blocking, caveats = breaks_between(x, y, sorted(int(v) for v in d["year"].unique()))
                res = {"n": len(d), "g": int(d["territory"].nunique()), "status": "not comparable across " + "; ".join(blocking)} \
                    if blocking else _fit(d, design, draws if name == "main" else min(draws, SENSITIVITY_DRAWS), seed, interval=True,
                                          loo=name == "main")
                rows.append({"family": family, "x": x, "y": y, "design": design, "sample": name, **res, "breaks": "; ".join(caveats)})
    out = pd.DataFrame(rows)
    if len(out) and "p_wild" in out:
        main = out["sample"] == "main"  # one family: every within-province test of the run's main sample
        out["p_wild_holm"] = np.nan
        out.loc[main, "p_wild_holm"] = holm(out.loc[main, "p_wild"]).to_numpy()
    return out


# ---- trends ------------------------------------------------------------------------------------------------


def _latest(f: Frame, column: str) -> pd.DataFrame:
    d = f.rows.assign(value=f.values[column]).dropna(subset=["value"]).reset_index()
    if (d["cutoff"] != "").any():
        d = d[(d["cutoff"] == "") | (d["cutoff"] == d.loc[d["cutoff"] != "", "cutoff"].max())]
    return d


def paths(f: Frame, column: str) -> pd.DataFrame:
    """Each territory's value by year (2025: the latest cut-off; merged 2025 provinces are not on a 63-province
    path), with its name and identity."""
    d = _latest(f, column)
    d = d[d["territory"] != ""]
    on_path = d.pivot_table(index="territory", columns="year", values="value", aggfunc="first")
    first = d.drop_duplicates("territory").set_index("territory")
    on_path.insert(0, "identity", first["identity"].reindex(on_path.index))
    on_path.insert(0, "province", first["province"].reindex(on_path.index))
    return on_path


def means(f: Frame, column: str) -> pd.DataFrame:
    """The mean of all units present each year and their number (2025: the 34 provinces of 2025 at the latest
    cut-off, the whole country as in the earlier years, in other units)."""
    return _latest(f, column).groupby("year")["value"].agg(["mean", "size"]).rename(columns={"size": "n"})


def movers(path: pd.DataFrame, first: int, last: int, k: int = 3) -> pd.DataFrame:
    """The k largest rises and falls between two years (units with both values)."""
    if first not in path or last not in path:
        return pd.DataFrame(columns=["province", "from", "to", "change", "first", "last", "direction"])
    d = path[["province", first, last]].dropna().rename(columns={first: "from", last: "to"})
    d["change"], d["first"], d["last"] = d["to"] - d["from"], first, last
    up, down = d.nlargest(k, "change").assign(direction="rise"), d.nsmallest(k, "change").assign(direction="fall")
    return pd.concat([up, down])


def binh_phuoc(panel: pd.DataFrame, dti_path: pd.DataFrame, f766: Frame) -> dict[str, Any]:
    """Bình Phước's 2020 campaign (share of level-3/4 dossiers submitted online, before and after 19 May 2020) and
    what the full tables say about it later: its DTI digital-government ranks 2022-2024 among the 63, and its
    766 total of 2024 as the press reported it placed among the 34 units' 2024 totals (no yearly 766 row: the
    portal names Đồng Nai's rows by the 2025 province, taken to be the old Đồng Nai)."""
    a = panel[(panel["province_code"] == "70") & (panel["vintage"] == "gso-2008")]
    share = a[(a["index"] == "ONLINE_SERVICES") & (a["indicator"] == "online_dossier_share_l34") & (a["year"] == 2020)].sort_values("date")
    out: dict[str, Any] = {"campaign": [{"date": d, "value": float(v), "reliability": r} for d, v, r in
                                        zip(share["date"], share["value"], share["reliability"], strict=True)]}
    ranks = {}
    if "70" in dti_path.index:
        for y in [c for c in dti_path.columns if isinstance(c, int | np.integer)]:
            col = dti_path[y].dropna()
            if "70" in col.index:
                ranks[int(y)] = {"value": float(col["70"]), "rank": int((col > col["70"]).sum() + 1), "of": len(col)}
    out["dti_gov"] = ranks
    press = a[(a["index"] == INDEX766) & (a["indicator"] == "total") & (a["year"] == 2024)]
    if len(press):
        v = float(press["value"].iloc[0])
        tot = in_63(panel)
        tot = tot[(tot["index"] == INDEX766) & (tot["indicator"] == "total") & (tot["year"] == 2024) & (tot["identity"] != "")]
        out["press_766_2024"] = {"value": v, "reliability": str(press["reliability"].iloc[0]), "above": int((tot["value"] > v).sum()),
                                 "of": len(tot)}
    out["yearly_766_row"] = bool(((f766.rows["territory"] == "70")).any())
    return out


def untestable(panel: pd.DataFrame) -> dict[str, int]:
    """For PAR INDEX and SIPAS: the most provinces with a value (total) in any one year: press values only."""
    a = in_63(panel)
    out = {}
    for index in UNTESTABLE:
        d = a[(a["index"] == index) & (a["indicator"] == "total") & (a["province_code"] != "00")]
        out[index] = int(d.groupby("year")["province_code"].nunique().max()) if len(d) else 0
    return out


# ---- the whole analysis --------------------------------------------------------------------------------------


def default_pairs(online: str = ONLINE_766, outcomes: list[str] | None = None, dti_measures: list[str] | None = None,
                  papi_outcomes: list[str] | None = None) -> list[tuple[str, str, str]]:
    out = [("766", var(INDEX766, online), var(INDEX766, y)) for y in (outcomes or OUTCOMES_766)]
    out += [("dti", var("DTI", x), var("PAPI", y)) for x in (dti_measures or DTI_MEASURES) for y in (papi_outcomes or PAPI_OUTCOMES)]
    return out


def analyse(panel: pd.DataFrame, provinces: pd.DataFrame, years: list[int] | None = None, units: str = "all",
            outcomes_766: list[str] | None = None, dti_measures: list[str] | None = None, papi_outcomes: list[str] | None = None,
            exclude_reliability: list[str] | None = None, draws: int = 9999, min_n: int = 10,
            designs: tuple[str, ...] = DESIGNS) -> Result:
    """Trends, yearly cross-sections and within-province designs for the chosen years, units and measures."""
    years = sorted(years or YEARS)
    check(units, years)
    provenance.check_levels(exclude_reliability or [])
    outcomes_766, dti_measures, papi_outcomes = outcomes_766 or OUTCOMES_766, dti_measures or DTI_MEASURES, papi_outcomes or PAPI_OUTCOMES
    frames = {"766": frame_766(panel, provinces, years, units, exclude_reliability)}
    if any(y <= 2024 for y in years):
        frames["dti"] = frame_dti(panel, years, dti_measures, papi_outcomes, exclude_reliability)
    pairs = [p for p in default_pairs(ONLINE_766, outcomes_766, dti_measures, papi_outcomes) if p[0] in frames]
    cross = cross_sections(frames, pairs, min_n)
    inside = within(frames, pairs, draws, designs=designs)
    p766 = paths(frames["766"], var(INDEX766, ONLINE_766))
    trends = {"766": p766, "766_mean": means(frames["766"], var(INDEX766, ONLINE_766))}
    y766 = [c for c in p766.columns if c not in ("province", "identity") and c <= 2024]  # every unit's comparable span
    mv = [movers(p766, min(y766), max(y766)).assign(measure=var(INDEX766, ONLINE_766))] if len(y766) > 1 else []
    if "dti" in frames and var("DTI", "digital_government_activity") in frames["dti"].values:
        pd_ = paths(frames["dti"], var("DTI", "digital_government_activity"))
        trends["dti"] = pd_
        trends["dti_mean"] = means(frames["dti"], var("DTI", "digital_government_activity"))
        yrs = [c for c in pd_.columns if c not in ("province", "identity")]
        if len(yrs) > 1:
            mv.append(movers(pd_, min(yrs), max(yrs)).assign(measure=var("DTI", "digital_government_activity")))
    else:
        pd_ = pd.DataFrame()
    params = {"years": years, "units": units, "outcomes_766": outcomes_766, "dti_measures": dti_measures,
              "papi_outcomes": papi_outcomes, "exclude_reliability": exclude_reliability or [], "draws": draws, "min_n": min_n}
    return Result(params, cross, inside, trends, pd.concat(mv) if mv else pd.DataFrame(), binh_phuoc(panel, pd_, frames["766"]),
                  untestable(panel), frames)


# ---- the answer in words -----------------------------------------------------------------------------------


def _n(v: float, lang: str, d: int = 2) -> str:
    return fmt_number(v, lang, d)


def period_label(period: str, lang: str) -> str:
    """'2025 (2025-10-16)' as the language writes dates: '2025 (16/10/2025)' in Vietnamese."""
    from .i18n import fmt_date

    year, _, rest = period.partition(" (")
    return f"{year} ({fmt_date(rest.rstrip(')'), lang)})" if rest else year


def _range(lo: float, hi: float, lang: str, d: int = 0) -> str:
    """'34' or '61 to 63' (vi: '61 đến 63')."""
    a, b = fmt_number(lo, lang, d), fmt_number(hi, lang, d)
    return a if a == b else translator(lang)("online.range", lo=a, hi=b)


def _direction(r: pd.Series) -> str:
    s = np.sign(r.dropna())
    return "positive" if (s > 0).all() else "negative" if (s < 0).all() else "mixed"


def pair_summary(res: Result, x: str, y: str, alpha: float = 0.05) -> dict[str, Any]:
    """Spearman across the yearly cross-sections of one pair, and the two-way fixed effects within provinces."""
    c = res.cross
    c = c[(c["x"] == x) & (c["y"] == y) & (c["method"] == "spearman") & c["r"].notna()] if len(c) else c
    w = res.within
    fe = w[(w["x"] == x) & (w["y"] == y) & (w["sample"] == "main") & (w["status"] == "estimated")] if len(w) else w
    out: dict[str, Any] = {"x": x, "y": y, "k": len(c)}
    if len(c):
        sig = c[c["p_holm"] < alpha]
        out |= {"r_min": float(c["r"].min()), "r_max": float(c["r"].max()), "n_min": int(c["n"].min()), "n_max": int(c["n"].max()),
                "direction": _direction(c["r"]), "sig": len(sig), "sig_periods": list(sig["period"]),
                "sig_direction": _direction(sig["r"]) if len(sig) else "none"}
    for design in DESIGNS:
        row = fe[fe["design"] == design] if len(fe) else fe
        if len(row):
            r = row.iloc[0]
            out[design] = {"beta": float(r["beta"]), "ci": (float(r["ci_low"]), float(r["ci_high"])),
                           "ci_wild": (float(r["ci_wild_low"]), float(r["ci_wild_high"])), "p_wild": float(r["p_wild"]), "g": int(r["g"]),
                           "wild_significant": bool(r["p_wild"] < alpha), "n": int(r["n"])}
    return out


def _verdict(s: dict[str, Any]) -> str:
    between = s.get("sig", 0) > 0 and s.get("sig_direction") in ("positive", "negative") and s.get("direction") == s.get("sig_direction")
    inside = any(s.get(d, {}).get("wild_significant") for d in DESIGNS)
    return {(True, True): "both", (True, False): "between", (False, True): "within", (False, False): "neither"}[(between, inside)]


def answer(res: Result, lang: str = "en") -> dict[str, list[str]]:
    """The answer in words, from the result: per pair what the cross-sections and the within designs show, what
    holds across designs and years, what does not, and what remains untested."""
    tr = translator(check_language(lang))
    lines, holds, fails = [], [], []
    pairs = res.cross[["x", "y"]].drop_duplicates().itertuples(index=False) if len(res.cross) else []
    for x, y in pairs:
        s = pair_summary(res, x, y)
        names = {"x": var_label(x, lang), "y": var_label(y, lang)}
        if s["k"]:
            common = {"k": s["k"], "r_min": _n(s["r_min"], lang), "r_max": _n(s["r_max"], lang), "n": _range(s["n_min"], s["n_max"], lang)}
            lines.append(tr("online.cross.pair", **names, **common, sig=s["sig"], periods=join([period_label(p, lang) for p in s["sig_periods"]]),
                            direction=tr(f"online.direction.{s['sig_direction']}")) if s["sig"] else
                         tr("online.cross.pair_none", **names, **common))
        fe = s.get("levels")
        if fe:
            lines.append(tr("online.within.pair", **names, beta=_n(fe["beta"], lang, 3), lo=_n(fe["ci"][0], lang, 3),
                            hi=_n(fe["ci"][1], lang, 3), wlo=_n(fe["ci_wild"][0], lang, 3), whi=_n(fe["ci_wild"][1], lang, 3),
                            p=_n(fe["p_wild"], lang, 3), g=fe["g"], n=fe["n"],
                            fd=tr("online.yes") if s.get("first_differences", {}).get("wild_significant") else tr("online.no"),
                            lag=tr("online.yes") if s.get("lagged", {}).get("wild_significant") else tr("online.no")))
        v = _verdict(s)
        item = tr(f"online.verdict.{v}", **names)
        (holds if v == "both" else fails).append(item)
    summary = [tr("online.holds", items=join(holds) if holds else tr("online.none"))]
    summary.append(tr("online.fails", items=join(fails) if fails else tr("online.none")))
    w = res.within
    est = w[w["status"] == "estimated"] if len(w) else w
    if len(est):
        sens, main = est[est["sample"] != "main"], est[est["sample"] == "main"]
        hit = sens[sens["p_wild"] < 0.05]
        which = join([tr("online.which", x=var_label(r.x, lang), y=var_label(r.y, lang), design=f"{tr(f'online.design.{r.design}')}, {tr(SAMPLES[r.sample])}",
                         beta=_n(r.beta, lang, 3), p=_n(r.p_wild, lang, 3)) for r in hit.itertuples()]) or tr("online.none")
        flips = int((main["loo_sign_changes"] > 0).sum()) if "loo_sign_changes" in main else 0
        summary.append(tr("online.sensitivity", sig=len(hit), m=len(sens), which=which, flips=flips, m_main=len(main)))
    untested = [tr("online.untested", par=res.untestable.get("PAR_INDEX", 0), sipas=res.untestable.get("SIPAS", 0))]
    units = tr("online.units.certain") if res.params["units"] == "certain" else tr("online.units.all")
    return {"lines": lines, "summary": summary, "untested": untested, "scope": [tr("online.scope", years=join(map(str, res.params["years"])),
                                                                                       units=units)]}


def trend_text(res: Result, lang: str = "en") -> list[str]:
    """The trends in words: national means at the first and last year, the fastest movers, and Bình Phước's 2020
    campaign placed against the full tables where they allow it, said where they do not."""
    from .i18n import fmt_date
    from .i18n import reliability as rel_word

    tr = translator(check_language(lang))
    out = []

    def movers_text(measure: str, direction: str, d: int) -> str:
        m = res.movers[(res.movers["measure"] == measure) & (res.movers["direction"] == direction)] if len(res.movers) else res.movers
        return join([f"{r.province} ({fmt_number(r.change, lang, d, sign=True)})" for r in m.itertuples()]) or tr("online.none")

    for key, measure, d in (("766", var(INDEX766, ONLINE_766), 2), ("dti", var("DTI", "digital_government_activity"), 4)):
        mean = res.trends.get(f"{key}_mean")
        if mean is None or len(mean) < 2:
            continue
        first, last = int(mean.index.min()), int(mean.index.max())
        m = res.movers[res.movers["measure"] == measure] if len(res.movers) else res.movers
        span = f"{int(m['first'].iloc[0])}-{int(m['last'].iloc[0])}" if len(m) else ""
        fields = {"span": span, "first": first, "last": last, "first_mean": _n(mean.loc[first, "mean"], lang, d),
                  "last_mean": _n(mean.loc[last, "mean"], lang, d), "up": movers_text(measure, "rise", d),
                  "down": movers_text(measure, "fall", d)}
        if key == "766":
            p = res.trends["766"]
            out.append(tr("online.trend.766", **fields, n_paths=len(p), n_certain=int((p["identity"] == "certain").sum()),
                          n_assumed=int((p["identity"] == "assumed").sum())))
        else:
            out.append(tr("online.trend.dti", **fields, n=int(mean["n"].max())))
    bp = res.binh_phuoc
    if len(bp.get("campaign", [])) >= 2:
        a, b = bp["campaign"][0], bp["campaign"][-1]
        out.append(tr("online.trend.bp_campaign", before=_n(a["value"], lang, 0), after=_n(b["value"], lang, 0),
                      before_date=fmt_date(a["date"], lang), after_date=fmt_date(b["date"], lang), reliability=rel_word(a["reliability"], lang)))
    if bp.get("dti_gov"):
        out.append(tr("online.trend.bp_dti", ranks=join([f"{r['rank']} ({y})" for y, r in sorted(bp["dti_gov"].items())])))
    if bp.get("press_766_2024") and not bp.get("yearly_766_row"):
        p = bp["press_766_2024"]
        out.append(tr("online.trend.bp_766", value=_n(p["value"], lang), reliability=rel_word(p["reliability"], lang), above=p["above"],
                      of=p["of"]))
    if not bp.get("dti_gov") and not bp.get("press_766_2024"):
        out.append(tr("online.trend.bp_none"))
    return out


def headline(res: Result, lang: str = "en") -> list[str]:
    """Two or three sentences for the home pages and the README: the 766 family between provinces, the DTI family
    between provinces, and what the within-province designs add, from the numbers of `res`."""
    tr = translator(check_language(lang))
    out = []
    c = res.cross
    sp = c[(c["method"] == "spearman") & c["r"].notna()] if len(c) else c
    for family in ("766", "dti"):
        f = sp[sp["family"] == family] if len(sp) else sp
        if not len(f):
            continue
        sig = f[f["p_holm"] < 0.05]
        key = f"online.headline.{family}" + ("" if len(sig) else "_none")
        which = join([tr("online.sig_pair", x=var_label(x, lang), y=var_label(y, lang), periods=join([period_label(p, lang) for p in g["period"]]))
                      for (x, y), g in sig.groupby(["x", "y"], sort=False)])
        fields = {"pos": int((sig["r"] > 0).sum()), "neg": int((sig["r"] < 0).sum()), "sig": len(sig), "which": which} if len(sig) else {}
        out.append(tr(key, k=len(f), **fields,
                      r_min=_n(f["r"].min(), lang), r_max=_n(f["r"].max(), lang), n=_range(f["n"].min(), f["n"].max(), lang),
                      years=join(sorted({str(y) for y in f["year"]}))))
    w = res.within
    main = w[(w["sample"] == "main") & (w["status"] == "estimated")] if len(w) else w
    if len(main):
        sig = main[main["p_wild"] < 0.05]
        fields = {"m": len(main), "g_min": int(main["g"].min()), "g_max": int(main["g"].max())}
        if not len(sig):
            out.append(tr("online.headline.within_none", **fields))
        else:
            which = join([tr("online.which", x=var_label(r.x, lang), y=var_label(r.y, lang), design=tr(f"online.design.{r.design}"),
                             beta=_n(r.beta, lang, 3), p=_n(r.p_wild, lang, 3)) for r in sig.itertuples()])
            out.append(tr("online.headline.within_some", **fields, sig=len(sig), sig_holm=int((sig["p_wild_holm"] < 0.05).sum()), which=which))
    return out


def answer_up_front(panel: pd.DataFrame, provinces: pd.DataFrame, lang: str = "en", result: Result | None = None,
                    draws: int = 1999) -> dict[str, Any]:
    """What the home pages show: the question, the answer in two or three sentences, the plain statement of what
    cannot be tested yet with the pointer to the no-code import, and one summary figure (online measure against
    outcome, per year, r and N in each panel, points marked by provenance). Computed from the default analysis
    (fewer bootstrap draws: the figure and sentences use the cross-sections and the wild p-values only)."""
    res = result or analyse(panel, provinces, draws=draws, designs=("levels",))
    return up_front_text(res, lang) | {"figure": summary_figure(res, lang), "result": res}


def up_front_text(res: Result, lang: str = "en") -> dict[str, Any]:
    """The words of the answer box, all from `res`: the question, the answer (`headline`), what cannot be tested
    (with the counts found in the panel) and the pointer to the no-code import. Saved in notebook 10's
    results.json, from which the home pages take them, so the box always says what the run computed."""
    tr = translator(check_language(lang))
    return {"question": tr("online.question"), "sentences": headline(res, lang),
            "untestable": tr("online.untested", par=res.untestable.get("PAR_INDEX", 0), sipas=res.untestable.get("SIPAS", 0)),
            "pointer": tr("online.pointer")}


def summary_figure(res: Result, lang: str = "en") -> Any:
    """Online measure against outcome, one panel per year: 766 online services against satisfaction (top row) and
    DTI digital-government activity against PAPI e-governance (bottom row); r (Spearman) and N in each title;
    points marked by provenance (filled circles: the publisher's values)."""
    import matplotlib.pyplot as plt

    from .figures import provenance_scatter
    from .i18n import axis_formatter

    tr = translator(check_language(lang))
    rows = [("766", var(INDEX766, ONLINE_766), var(INDEX766, "mdhl")), ("dti", var("DTI", "digital_government_activity"), var("PAPI", "d8"))]
    rows = [r for r in rows if r[0] in res.frames and r[1] in res.frames[r[0]].values and r[2] in res.frames[r[0]].values]
    periods = {fam: sorted(res.frames[fam].rows["period"].unique()) for fam, _, _ in rows}
    ncol = max((len(p) for p in periods.values()), default=1)
    fig, axes = plt.subplots(len(rows) or 1, ncol, figsize=(3.0 * ncol, 3.1 * max(len(rows), 1)), squeeze=False)
    sp = res.cross[res.cross["method"] == "spearman"] if len(res.cross) else res.cross
    for i, (fam, x, y) in enumerate(rows):
        f = res.frames[fam]
        for j in range(ncol):
            ax = axes[i][j]
            if j >= len(periods[fam]):
                ax.axis("off")
                continue
            period = periods[fam][j]
            idx = f.rows.index[f.rows["period"] == period]
            provenance_scatter(ax, f.values.loc[idx, x], f.values.loc[idx, y], f.reliability.loc[idx, x], f.reliability.loc[idx, y])
            hit = sp[(sp["x"] == x) & (sp["y"] == y) & (sp["period"] == period)] if len(sp) else sp
            title = period_label(period, lang) if not len(hit) or pd.isna(hit["r"].iloc[0]) else tr(
                "online.figure.title", period=period_label(period, lang), r=_n(hit["r"].iloc[0], lang), n=int(hit["n"].iloc[0]))
            ax.set_title(title, fontsize=7.5)
            ax.xaxis.set_major_formatter(axis_formatter(lang))
            ax.yaxis.set_major_formatter(axis_formatter(lang))
            ax.tick_params(labelsize=6.5)
            if j == 0:
                ax.set_ylabel(textwrap.fill(var_label(y, lang), 42), fontsize=7)
            ax.set_xlabel(textwrap.fill(var_label(x, lang), 44), fontsize=6.5)
    fig.suptitle(tr("online.figure.suptitle"), fontsize=9)
    fig.tight_layout()
    return fig


def trends_figure(res: Result, lang: str = "en") -> Any:
    """Each province's path on the online measures (thin grey lines; the certain units darker), the national
    mean (thick line), the fastest movers labelled, and Bình Phước marked on the DTI panel."""
    import matplotlib.pyplot as plt

    from .figures import label_line_ends
    from .i18n import axis_formatter

    keys = [k for k in ("766", "dti") if k in res.trends and len(res.trends[k])]
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(6.2 * max(len(keys), 1), 4.4), squeeze=False)
    measures = {"766": var(INDEX766, ONLINE_766), "dti": var("DTI", "digital_government_activity")}
    labels = []
    for ax, key in zip(axes[0], keys, strict=False):
        p = res.trends[key]
        years = [c for c in p.columns if c not in ("province", "identity")]
        for _, row in p.iterrows():
            dark = row["identity"] == "certain"
            ax.plot(years, row[years].to_numpy(float), color="#555555" if dark else "#bbbbbb", lw=0.8 if dark else 0.5, zorder=1)
        mean = res.trends[f"{key}_mean"]
        ax.plot(mean.index, mean["mean"], color="#c0392b", lw=2.2, zorder=3, label=tr_label(lang))
        mv = res.movers[res.movers["measure"] == measures[key]] if len(res.movers) else res.movers
        ends = [(r.last, r.to, f"{r.province} ({fmt_number(r.change, lang, 2, sign=True)})",
                 "#1f6f8b" if r.direction == "rise" else "#8e44ad") for r in mv.itertuples()]
        if key == "dti" and "70" in p.index:
            ax.plot(years, p.loc["70", years].to_numpy(float), color="#d35400", lw=1.8, zorder=4, label="Bình Phước")
        ax.set_xticks(years)
        ax.set_xlim(min(years) - 0.2, max(years) + 1.2)
        ax.yaxis.set_major_formatter(axis_formatter(lang))
        ax.set_ylabel(textwrap.fill(var_label(measures[key], lang), 50), fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
        labels.append((ax, ends))
    fig.tight_layout()
    for ax, ends in labels:
        label_line_ends(ax, ends)
    return fig


def tr_label(lang: str) -> str:
    """The legend of the national mean line."""
    return translator(check_language(lang))("online.figure.mean")
