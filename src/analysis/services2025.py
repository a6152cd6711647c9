"""The online-services question on the one full cross-section that exists: the Decision 766 service index of
the 34 provinces of 2025 (`notebooks/09_online_services_2025`).

Within the index: its online measures (online public services CLGQ, online payment TTTT, digitisation MDSH)
against its satisfaction (MDHL) and timeliness (TDGQ) components, across the 34 provinces at one cut-off.
Across sources: PAPI's e-governance (d8) and administrative-procedures (d5) dimensions of the last PAPI year,
carried to the 34 provinces by the package's one aggregation rule (`panel.vintage.to_2025`), against the
766 components. Every result row states N and the provenance of its values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError
from .panel import provenance
from .panel.codebook import expected_scale_max, label, parts
from .panel.vintage import in_34, in_63, to_2025
from .registry import VINTAGE_34
from .stats.common import holm
from .stats.correlation import bootstrap_ci, correlation_table, min_detectable_r
from .stats.partial import partial_correlation

INDEX = "DVC766"
YEAR = 2025
ONLINE = ["clgq", "tttt", "mdsh"]
OUTCOMES = ["mdhl", "tdgq"]
METHODS = ("spearman", "pearson")


@dataclass
class CrossSection:
    """One snapshot of one index for the provinces of one vintage: values and their reliability (same shape,
    one row per province code, one column per 'INDEX:indicator'), names, the cut-off and the 2025 population."""

    values: pd.DataFrame
    reliability: pd.DataFrame
    names: pd.Series
    cutoff: str
    population: pd.Series


def var(index: str, indicator: str) -> str:
    return f"{index}:{indicator}"


def var_label(v: str, lang: str = "en") -> str:
    """Full label of an 'INDEX:indicator' variable (no raw code shown to readers)."""
    index, indicator = v.split(":", 1)
    vi, en = label(index, indicator)
    return vi if lang == "vi" else en


def indicators(year: int = YEAR) -> list[str]:
    """The total and the components the codebook lists for the index in `year`, a composite part by its own
    parts (the 22-point online services as online public services and online payment, as 2025 scores them)."""

    def leaves(code: str) -> list[str]:
        inner = parts(INDEX, code, year)
        return [leaf for p in inner for leaf in leaves(p)] if inner else [code]

    return ["total", *leaves("total")]


def cutoffs(panel: pd.DataFrame) -> pd.Series:
    """Year-to-date snapshots of the index for the 34 provinces: number of provinces with a total at each
    cut-off date (the publisher's rows; a press value of one province is not a cross-section)."""
    rows = in_34(panel)
    rows = rows[(rows["index"] == INDEX) & (rows["year"] == YEAR) & (rows["indicator"] == "total")
                & rows["reliability"].isin(["official", "compiled"]) & (rows["date"].str.len() == 10)]
    return rows.groupby("date")["province_code"].nunique().sort_index()


def cross_section(panel: pd.DataFrame, provinces: pd.DataFrame, cutoff: str = "", exclude_reliability: list[str] | None = None) -> CrossSection:
    """The 766 index at one cut-off (default: the latest with the most provinces), after dropping the
    reliability levels in `exclude_reliability`."""
    panel = provenance.exclude(panel, exclude_reliability or [])
    available = cutoffs(panel)
    if available.empty:
        raise DataError(f"no {INDEX} cross-section of the 34 provinces left (exclude_reliability={exclude_reliability})")
    if not cutoff:
        cutoff = str(available[available == available.max()].index.max())
    elif cutoff not in available.index:
        raise DataError(f"no {INDEX} snapshot at this cut-off", column="cutoff", value=cutoff,
                        hint=f"Cut-offs: {', '.join(available.index)}")
    rows = in_34(panel)
    rows = rows[(rows["index"] == INDEX) & (rows["year"] == YEAR) & (rows["date"] == cutoff) & rows["indicator"].isin(indicators())]
    rows = rows.assign(variable=INDEX + ":" + rows["indicator"])
    values = rows.pivot(index="province_code", columns="variable", values="value")
    rel = rows.pivot(index="province_code", columns="variable", values="reliability")
    p34 = provinces[provinces["vintage"] == VINTAGE_34].set_index("province_code")
    names = p34["province"].reindex(values.index)
    population = p34["population_2020"].astype(float).reindex(values.index)
    return CrossSection(values, rel, names, cutoff, population)


def papi_34(panel: pd.DataFrame, provinces: pd.DataFrame, year: int, codes: list[str],
            exclude_reliability: list[str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """PAPI indicators of `year` carried to the 34 provinces of 2025 (population-weighted, complete coverage
    only): values and reliability ('derived') wide by 2025 code, and the derived rows themselves. The inputs
    are the publisher's own rows; `derived` in `exclude_reliability` leaves nothing here."""
    levels = provenance.check_levels(exclude_reliability or [])
    src = provenance.exclude(in_63(panel), levels)
    src = src[(src["index"] == "PAPI") & (src["year"] == year) & src["indicator"].isin(codes) & (src["date"] == "")
              & src["reliability"].isin(["official", "compiled"])]
    derived = provenance.exclude(to_2025(src, provinces, published=panel), levels)
    derived = derived.assign(variable="PAPI:" + derived["indicator"])  # derived for the 34: reliability says so
    values = derived.pivot(index="province_code", columns="variable", values="value") if len(derived) else pd.DataFrame()
    rel = derived.pivot(index="province_code", columns="variable", values="reliability") if len(derived) else pd.DataFrame()
    return values, rel, derived


def pair_table(values: pd.DataFrame, rel: pd.DataFrame, xs: list[str], ys: list[str], min_n: int = 10,
               alpha: float = 0.05, boot_draws: int = 0, seed: int = 20201) -> pd.DataFrame:
    """Spearman and Pearson for every x-y pair with (1 - alpha) CIs, p adjusted across the pairs of each
    method by Holm and by Benjamini-Hochberg, the provenance of the values used (n_official …), and
    `min_detectable_r`: the smallest |r| detected with 80% power at the level the first Holm step demands
    (alpha / number of pairs of the method; Spearman with its own, larger, standard error), the honest
    sensitivity of an adjusted family. With `boot_draws`, percentile bootstrap intervals (`ci_boot_low/high`,
    provinces resampled, seeded) beside Fisher's: on a bunched or capped component they show what Fisher's
    normal approximation assumes away."""
    data = values.assign(year=YEAR).set_index("year", append=True)
    xs, ys = [x for x in xs if x in values], [y for y in ys if y in values]
    frames = []
    for method in METHODS:
        holm = correlation_table(data, xs, ys, method=method, min_n=min_n, adjust="holm", alpha=alpha)
        if holm.empty:
            continue
        bh = correlation_table(data, xs, ys, method=method, min_n=min_n, adjust="bh", alpha=alpha)
        t = holm[["x", "y", "n", "r", "ci_low", "ci_high", "p"]].copy()
        t.insert(0, "method", method)
        t["p_holm"], t["p_bh"] = holm["p_adjusted"].to_numpy(), bh["p_adjusted"].to_numpy()
        m = int(t["p"].notna().sum())
        t["min_detectable_r"] = [min_detectable_r(int(n), alpha / max(m, 1), method=method) if n == n else np.nan for n in t["n"]]
        if boot_draws:
            cis = [bootstrap_ci(values[x], values[y], method, boot_draws, 1 - alpha, seed) for x, y in zip(t["x"], t["y"], strict=True)]
            t["ci_boot_low"], t["ci_boot_high"] = [c[0] for c in cis], [c[1] for c in cis]
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=["method", "x", "y", "n", "r", "ci_low", "ci_high", "p", "p_holm", "p_bh", "min_detectable_r",
                                     *provenance.COLUMNS])
    out = pd.concat(frames, ignore_index=True)
    prov = [provenance.pair_counts(rel[x], rel[y], values[x].notna() & values[y].notna()) for x, y in zip(out["x"], out["y"], strict=True)]
    out = pd.concat([out, pd.DataFrame(prov, index=out.index)], axis=1)
    out["x_label"], out["y_label"] = out["x"].map(var_label), out["y"].map(var_label)
    return out


def partial_table(values: pd.DataFrame, rel: pd.DataFrame, xs: list[str], ys: list[str], control: pd.Series,
                  min_n: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Each pair's correlation controlling for `control` (one variable, e.g. log population), both methods,
    with Holm-adjusted p across the pairs of a method; provenance of the x and y values used."""
    rows = []
    for method in METHODS:
        for x in xs:
            for y in ys:
                if x not in values or y not in values:
                    continue
                r = partial_correlation(values[x], values[y], control.rename("_control"), method=method, alpha=alpha, min_n=min_n)
                used = values[x].notna() & values[y].notna() & control.notna()
                rows.append({"method": method, "x": x, "y": y, **r, **provenance.pair_counts(rel[x], rel[y], used)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = holm_by_method(out, "p", alpha)
    out["x_label"], out["y_label"] = out["x"].map(var_label), out["y"].map(var_label)
    return out


def holm_by_method(table: pd.DataFrame, column: str, alpha: float = 0.05) -> pd.Series:
    """Holm-adjusted `column` within each method's rows (Pearson and Spearman are two views of the same
    hypotheses, each its own family)."""
    return table.groupby("method")[column].transform(lambda p: holm(p, alpha))


def revisions(earlier: CrossSection, later: CrossSection, share: float = 10.0) -> pd.DataFrame:
    """Components whose year-to-date value moved by more than `share` % of the component's maximum between
    two cut-offs a few days apart: a score accumulated over ten months does not move that much in a week
    by new dossiers alone, so such a move is flagged as a possible revision of the score (the total is
    left out: it moves with its components). Rows: province code and name, variable, both values, move."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 100:
        raise DataError("revision_share must be a percentage of the maximum above 0 and at most 100", column="revision_share",
                        value=share)
    both = later.values.index.intersection(earlier.values.index)
    rows = []
    for v in later.values.columns:
        indicator = v.split(":", 1)[1]
        if v not in earlier.values or indicator == "total":
            continue
        top = expected_scale_max(INDEX, indicator, YEAR) or float("nan")
        moved = (later.values.loc[both, v] - earlier.values.loc[both, v])
        for code, m in moved[moved.abs() > share / 100 * top].items():
            rows.append({"province_code": code, "province": later.names.get(code, code), "variable": v, "label": var_label(v),
                         earlier.cutoff: float(earlier.values.loc[code, v]), later.cutoff: float(later.values.loc[code, v]),
                         "moved": float(m), "share_of_max": float(100 * abs(m) / top)})
    return pd.DataFrame(rows, columns=["province_code", "province", "variable", "label", earlier.cutoff, later.cutoff, "moved",
                                       "share_of_max"])


def sensitivity(variants: dict[str, pd.DataFrame], alpha: float = 0.05) -> pd.DataFrame:
    """One row per method and pair: r, N and Holm-adjusted p in each variant (`pair_table` outputs keyed by
    a name such as the cut-off), and whether the pair is significant after adjustment in every variant,
    in some, or in none, so a result that rests on one cut-off or a few revised scores says so."""
    keys = ["method", "x", "y"]
    out = None
    for name, t in variants.items():
        part = t[[*keys, "n", "r", "p_holm"]].rename(columns={c: f"{c} ({name})" for c in ("n", "r", "p_holm")})
        out = part if out is None else out.merge(part, on=keys, how="outer")
    if out is None:
        return pd.DataFrame(columns=[*keys, "significant"])
    sig = (out.filter(like="p_holm (") < alpha)
    out["significant"] = np.where(sig.all(axis=1), "in every variant", np.where(sig.any(axis=1), "in some variants only", "in none"))
    return out


def influence(values: pd.DataFrame, rel: pd.DataFrame, xs: list[str], ys: list[str], min_n: int = 10,
              alpha: float = 0.05) -> pd.DataFrame:
    """How much each pair rests on a few provinces. Per pair and method: the provinces whose x lies outside
    Tukey's fences (1.5 IQR beyond the quartiles; on a bunched component such as online services these are
    the few provinces that spread it), r and p without them (Holm over the pairs of a method again), and
    the range of r when any one province is left out (jackknife)."""
    full = pair_table(values, rel, xs, ys, min_n=min_n, alpha=alpha).set_index(["method", "x", "y"])
    rows = []
    for x in [x for x in xs if x in values]:
        q1, q3 = values[x].quantile([0.25, 0.75])
        fence = 1.5 * (q3 - q1)
        out = values.index[(values[x] < q1 - fence) | (values[x] > q3 + fence)]
        kept = values.drop(index=out)
        t = pair_table(kept, rel.drop(index=out), [x], ys, min_n=min_n, alpha=alpha)
        for r in t.itertuples(index=False):
            pair = values[[x, r.y]].dropna()
            loo = [pair.drop(index=[c])[x].corr(pair.drop(index=[c])[r.y], method=r.method) for c in pair.index]
            rows.append({"method": r.method, "x": x, "y": r.y, "r": full.loc[(r.method, x, r.y), "r"],
                         "p_holm": full.loc[(r.method, x, r.y), "p_holm"], "outlying_on_x": "; ".join(sorted(values.index[values.index.isin(out)])),
                         "n_without": int(r.n), "r_without": float(r.r), "p_without": float(r.p),
                         "r_leave_one_out_min": float(np.nanmin(loo)), "r_leave_one_out_max": float(np.nanmax(loo))})
    res = pd.DataFrame(rows)
    if not res.empty:
        res["p_holm_without"] = holm_by_method(res, "p_without", alpha)
    return res


def closing(within: pd.DataFrame, partial: pd.DataFrame, infl: pd.DataFrame, robust: pd.DataFrame, across: pd.DataFrame,
            cs: CrossSection, lang: str = "en", alpha: float = 0.05, papi_year: int | None = None) -> dict[str, list[str]]:
    """Notebook 09's answer and caveats, written from the run's numbers (domain `online`): which within-index
    pairs survive Holm's adjustment (Fisher and bootstrap intervals), how far they rest on the provinces outside
    the bunch (and why trimming a bunched measure also removes power), whether the partial Spearman correlations
    stay significant, whether the result holds at the other cut-off, the satisfaction ceiling, and PAPI across
    sources."""
    from .i18n import check_language, fmt_number, join
    from .messages import translator

    tr = translator(check_language(lang))

    def n(v: float, d: int = 2) -> str:
        return fmt_number(v, lang, d)

    def name(v: str) -> str:
        return var_label(v, lang) if lang == "en" else label(*v.split(":", 1))[0]

    out: dict[str, list[str]] = {"answer": [], "caveats": []}
    sp = within[within["method"] == "spearman"]
    sig = sp[sp["p_holm"] < alpha]
    if len(sig):
        pairs = join([tr("online.nb09.pair", x=name(r.x), y=name(r.y), r=n(r.r, 3), lo=n(r.ci_low, 3), hi=n(r.ci_high, 3),
                         blo=n(getattr(r, "ci_boot_low", np.nan), 3), bhi=n(getattr(r, "ci_boot_high", np.nan), 3), p=n(r.p_holm, 3))
                      for r in sig.itertuples()])
        out["answer"].append(tr("online.nb09.within", cutoff=cs.cutoff, sig=len(sig), m=len(sp), pairs=pairs))
    elif len(sp):
        r = sp.loc[sp["r"].abs().idxmax()]
        out["answer"].append(tr("online.nb09.none_sig", cutoff=cs.cutoff, m=len(sp), pair=tr(
            "online.nb09.pair", x=name(r["x"]), y=name(r["y"]), r=n(r["r"], 3), lo=n(r["ci_low"], 3), hi=n(r["ci_high"], 3),
            blo=n(r.get("ci_boot_low", np.nan), 3), bhi=n(r.get("ci_boot_high", np.nan), 3), p=n(r["p_holm"], 3))))
    inf = infl[(infl["method"] == "spearman") & (infl["p_holm"] < alpha) & (infl["outlying_on_x"] != "")] if len(infl) else infl
    for r in inf.itertuples():
        names = [cs.names.get(c, c) for c in r.outlying_on_x.split("; ")]
        out["answer"].append(tr("online.nb09.influence", x=name(r.x), y=name(r.y), k=len(names), names=join(names), r_without=n(r.r_without, 3),
                                p_without=n(r.p_holm_without, 3)))
    ps = partial[partial["method"] == "spearman"] if len(partial) else partial
    if len(ps):
        kept = ps[ps["p_holm"] < alpha]
        out["answer"].append(tr("online.nb09.partial", sig=len(kept), m=len(ps), pairs=join(
            [f"{name(r.x)} – {name(r.y)}: ρ = {n(r.r, 3)}, p = {n(r.p_holm, 3)}" for r in kept.itertuples()]) or tr("online.none")))
    if len(robust):
        other = [c for c in robust.columns if c.startswith("p_holm (") and cs.cutoff not in c and "without" not in c]
        if other:
            col = other[0]
            rs = robust[robust["method"] == "spearman"]
            sig_other = int((rs[col] < alpha).sum())
            same = set(zip(rs.loc[rs[col] < alpha, "x"], rs.loc[rs[col] < alpha, "y"], strict=True)) == set(zip(sig["x"], sig["y"], strict=True))
            out["answer"].append(tr("online.nb09.cutoff", other=col[len("p_holm ("):-1], sig_other=sig_other, m=len(rs),
                                    stable=tr("online.nb09.stable" if same else "online.nb09.unstable")))
    sat = var(INDEX, "mdhl")
    if sat in cs.values:
        top = expected_scale_max(INDEX, "mdhl", YEAR) or 18
        out["caveats"].append(tr("online.nb09.ceiling", median=n(cs.values[sat].median(), 1), at_max=int((cs.values[sat] >= top - 1e-9).sum())))
    if len(across):
        a = across[across["method"] == "spearman"]
        out["caveats"].append(tr("online.nb09.papi", year=papi_year or "", sig=int((a["p_holm"] < alpha).sum()), m=len(a),
                                 mdr=n(a["min_detectable_r"].max(), 2)))
    online = var(INDEX, "clgq")
    if online in cs.values:
        v = cs.values[online].dropna()
        q1, q3 = v.quantile([0.25, 0.75])
        inside = v[(v >= q1 - 1.5 * (q3 - q1)) & (v <= q3 + 1.5 * (q3 - q1))]
        out["caveats"].append(tr("online.nb09.caveat_bunched", mean=n(v.mean()), sd=n(v.std(ddof=1)), k=len(inside), n=len(v),
                                 lo=n(inside.min()), hi=n(inside.max()), top=n(expected_scale_max(INDEX, "clgq", YEAR) or 12, 0)))
    for key in ("one_year", "framework", "revised", "association"):
        fields = {}
        if key == "one_year":
            fields = {"n": len(cs.values), "m": int(len(sp)), "mdr_p": n(within.loc[within["method"] == "pearson", "min_detectable_r"].max(), 2),
                      "mdr_s": n(sp["min_detectable_r"].max(), 2)}
        out["caveats"].append(tr(f"online.nb09.caveat_{key}", **fields))
    return out
