"""analysis.stats, each function checked against a second implementation (scipy, statsmodels,
pymannkendall, or the textbook formula written out here) on real panel slices, with the same
small-sample corrections; and the breaks the codebook records, found again in the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymannkendall as mk
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.power import NormalIndPower

from analysis.errors import DataError
from analysis.panel import codebook as cb
from analysis.stats import breaks, correlation, its, panel_models, trends
from analysis.stats.common import provenance, series, share_of_max


@pytest.fixture(scope="module")
def wide_2019(panel):
    return correlation.wide(panel, ["PAPI:d8", "PAPI:d5", "PAPI:total", "PCI:total"], [2019]).xs(2019, level="year")


# --- correlation -------------------------------------------------------------------------------------

def test_pearson_r_p_and_interval_match_scipy(wide_2019):
    x, y = wide_2019["PAPI:d8"], wide_2019["PCI:total"]
    got = correlation.correlate(x, y, "pearson")
    ok = x.notna() & y.notna()
    ref = stats.pearsonr(x[ok], y[ok])
    ci = ref.confidence_interval(0.95)  # scipy's Fisher-z interval
    assert got["n"] == 63
    assert got["r"] == pytest.approx(ref.statistic, abs=1e-12) and got["p"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (got["ci_low"], got["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_spearman_against_ranks_and_bonett_wright(wide_2019):
    x, y = wide_2019["PAPI:d8"], wide_2019["PAPI:d5"]
    got = correlation.correlate(x, y, "spearman")
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    r = np.corrcoef(rx, ry)[0, 1]  # Spearman = Pearson on ranks
    n = len(x)
    t = r * np.sqrt((n - 2) / (1 - r**2))
    assert got["r"] == pytest.approx(r, abs=1e-12)
    assert got["p"] == pytest.approx(2 * stats.t.sf(abs(t), n - 2), rel=1e-9)
    se = np.sqrt((1 + r**2 / 2) / (n - 3))  # Bonett & Wright (2000)
    assert got["ci_low"] == pytest.approx(np.tanh(np.arctanh(r) - 1.959963985 * se), abs=1e-8)


@pytest.mark.parametrize("n, alpha", [(63, 0.05), (61, 0.05 / 41), (20, 0.01)])
def test_min_detectable_r_matches_statsmodels_power(n, alpha):
    effect = NormalIndPower().solve_power(effect_size=None, nobs1=n - 3, alpha=alpha, power=0.8, ratio=0)  # one-sample z test
    assert correlation.min_detectable_r(n, alpha) == pytest.approx(np.tanh(effect), abs=1e-6)


def _bh(p):
    """Benjamini-Hochberg adjusted p-values, written out."""
    p = np.asarray(p)
    m, order = len(p), np.argsort(p)
    adj = np.minimum.accumulate((p[order] * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1)
    return out


@pytest.fixture(scope="module")
def corr_table(panel):
    x = ["PAPI:d8", "PAPI:d8.1", "PAPI:d8.2", "PAPI:d8.3"]
    y = ["PAPI:d5", "PAPI:total", "PCI:total"]
    return {adj: correlation.correlations(panel, x, y, list(range(2018, 2025)), adjust=adj) for adj in ("holm", "bh")}


def test_adjustment_and_effective_alpha(corr_table):
    for adjust, table in corr_table.items():
        t = table[table["status"] == "tested"]
        if adjust == "bh":
            assert t["p_adjusted"].to_numpy() == pytest.approx(_bh(t["p"].to_numpy()), abs=1e-12)
        a_eff = t["alpha_effective"].iloc[0]
        # the threshold the adjustment applied: significant after adjustment <=> raw p at most a_eff
        assert ((t["p_adjusted"] < 0.05) == (t["p"] <= a_eff)).all()
        assert (t["min_detectable_r"] > correlation.min_detectable_r(63, 0.05)).all()  # stricter than unadjusted
        assert ((t["ci_low_adjusted"] <= t["ci_low"]) & (t["ci_high_adjusted"] >= t["ci_high"])).all()


def test_part_whole_pairs_use_the_whole_minus_the_part(panel, corr_table):
    assert correlation.part_whole("PAPI:d8.1", "PAPI:total", 2019) == ("PAPI:total", "PAPI:d8")
    assert correlation.part_whole("PAPI:d8", "PAPI:d8.3", 2019) == ("PAPI:d8", "PAPI:d8.3")
    assert correlation.part_whole("PAPI:d8.3", "PAPI:total", 2018) is None  # not a part before 2019
    assert correlation.part_whole("PAPI:d8", "PCI:total", 2019) is None
    t = corr_table["holm"]
    row = t[(t["year"] == 2018) & (t["x"] == "PAPI:d8") & (t["y"] == "PAPI:total")].iloc[0]
    assert row["y_used"] == "PAPI:total − d8" and row["part_whole"]
    w = correlation.wide(panel, ["PAPI:d8", "PAPI:total"], [2018]).dropna()
    assert row["r"] == pytest.approx(np.corrcoef(w["PAPI:d8"], w["PAPI:total"] - w["PAPI:d8"])[0, 1], abs=1e-12)
    assert row["r"] < 0.3 < np.corrcoef(w["PAPI:d8"], w["PAPI:total"])[0, 1]  # 0.51 as a part-whole pair, 0.22 without
    assert row["reliability"] == "official 122"


def test_provenance_counts():
    assert provenance(["compiled", "official", "official", "user"]) == "official 2; compiled 1; user 1"
    assert provenance([]) == ""


# --- trends --------------------------------------------------------------------------------------------

def _kendall_s_var(v):
    i, j = np.triu_indices(len(v), 1)
    s = np.sign(v[j] - v[i]).sum()
    _, t = np.unique(v, return_counts=True)
    n = len(v)
    return s, (n * (n - 1) * (2 * n + 5) - np.sum(t * (t - 1) * (2 * t + 5))) / 18


def test_zscores_match_scipy(panel):
    s = series(panel, "PAPI", "total", [2018, 2019])
    z = trends.zscores(s)
    for _, g in s.groupby("year"):
        assert z[g.index].to_numpy() == pytest.approx(stats.zscore(g["value"].to_numpy(), ddof=1), abs=1e-12)


def test_single_segment_trend_matches_pymannkendall_and_theil_sen(panel):
    s = series(panel, "PAPI", "total", list(range(2018, 2025)))
    g = s[s["province"] == "Bình Dương"].sort_values("year")  # 2023 unpublished: an irregular series
    got = trends.mann_kendall(g["value"], g["year"], min_n=5)
    ref = mk.original_test(g["value"].to_numpy())
    assert (got["s"], got["var_s"], got["p"]) == pytest.approx((ref.s, ref.var_s, ref.p), rel=1e-12)
    assert got["sen_slope"] == pytest.approx(stats.theilslopes(g["value"], g["year"]).slope, abs=1e-12)  # per calendar year


def test_stratified_trend_written_out(panel):
    s = series(panel, "PAPI", "total", list(range(2011, 2025))).assign(z=lambda d: trends.zscores(d))
    g = s[s["province"] == "Quảng Ninh"].sort_values("year")
    seg = (g["year"] >= 2018).astype(int)
    got = trends.stratified_mann_kendall(g["z"], g["year"], seg)
    parts = [_kendall_s_var(g.loc[seg == k, "z"].to_numpy()) for k in (0, 1)]
    s_tot, v_tot = sum(p[0] for p in parts), sum(p[1] for p in parts)
    z = (s_tot - np.sign(s_tot)) / np.sqrt(v_tot)
    slopes = np.concatenate([[(b.z - a.z) / (b.year - a.year) for i, a in enumerate(h.itertuples()) for b in list(h.itertuples())[i + 1:]]
                             for _, h in g.groupby(seg)])
    assert (got["s"], got["var_s"]) == pytest.approx((s_tot, v_tot))
    assert got["p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-12)
    assert got["sen_slope"] == pytest.approx(np.median(slopes), abs=1e-12)


def test_resegment_joins_or_splits_and_the_sensitivity_uses_it(panel):
    segs = [[2011, 2012], [2018, 2019, 2020], [2021, 2022, 2023, 2024]]
    assert trends.resegment(segs, 2021) == [[2011, 2012], [2018, 2019, 2020, 2021, 2022, 2023, 2024]]
    assert trends.resegment(trends.resegment(segs, 2021), 2021) == segs
    assert trends.resegment(segs, 2030) == segs
    s = series(panel, "PAPI", "total", list(range(2018, 2025)))
    alt = trends.province_trends(s, "PAPI", "total", segments=[list(range(2018, 2025))])
    g = s[s["province"] == "Bình Dương"].assign(z=trends.zscores(s)).sort_values("year")
    one = trends.stratified_mann_kendall(g["z"], g["year"], pd.Series(0, index=g.index))
    assert alt.set_index("province").loc["Bình Dương", "p"] == pytest.approx(one["p"], rel=1e-12)
    c = trends.count_trends(alt)
    assert c["tested"] == (alt["p"].notna()).sum() and c["segments"] == [list(range(2018, 2025))]


def test_attainable_p_matches_the_test_and_an_exact_enumeration():
    """The smallest p of the stratified test: (a) what `stratified_mann_kendall` itself returns for a series
    perfectly increasing in every segment (pymannkendall's S and Var(S)); (b) exactly, by enumerating every
    ordering of a 3- and a 4-year segment (3! x 4! = 144) and counting |S| >= S_max; (c) the shares of
    Var(S) and of Sen's pairs by the textbook formula. 2018-2024 split at 2021 can give no p below 0.023:
    BH over 63 provinces flags none unless 29 of them are perfectly monotone together."""
    import itertools

    segs = [[2018, 2019, 2020], [2021, 2022, 2023, 2024]]
    got = trends.attainable(segs, 63)
    years = pd.Series([y for g in segs for y in g])
    seg = pd.Series([k for k, g in enumerate(segs) for _ in g])
    mono = trends.stratified_mann_kendall(pd.Series(np.arange(len(years), dtype=float)), years, seg, min_n=5)
    assert got["min_p"] == pytest.approx(mono["p"], rel=1e-12) and got["min_p"] == pytest.approx(0.0227, abs=1e-4)

    def s_of(v):
        return sum(np.sign(v[j] - v[i]) for i in range(len(v)) for j in range(i + 1, len(v)))

    totals = [s_of(a) + s_of(b) for a in itertools.permutations(range(3)) for b in itertools.permutations(range(4))]
    s_max = max(totals)
    assert got["min_p_exact"] == pytest.approx(np.mean(np.abs(totals) >= s_max), rel=1e-12) == 2 / 144
    var = [n * (n - 1) * (2 * n + 5) / 18 for n in (3, 4)]
    assert [g["share_var_s"] for g in got["segments"]] == pytest.approx([v / sum(var) for v in var])
    assert [g["share_sen_pairs"] for g in got["segments"]] == pytest.approx([3 / 9, 6 / 9])
    assert got["threshold"] == pytest.approx(0.05 / 63) and got["provinces_needed"] == 29
    assert 29 * 0.05 / 63 >= got["min_p"] > 28 * 0.05 / 63  # BH's k-th threshold, written out
    default = trends.attainable([list(range(2011, 2018)), *segs], 63)
    assert default["provinces_needed"] == 1 and default["segments"][0]["share_var_s"] == pytest.approx(0.782, abs=1e-3)
    assert trends.attainable([[2021, 2022, 2023]], 63)["provinces_needed"] is None  # 3 years alone: min p 0.30 > 0.05
    assert trends.attainable([[2021, 2022, 2023]], 1, adjust="none")["min_p_exact"] == pytest.approx(1 / 3)


def test_papi_trends_do_not_run_across_the_2018_redesign_or_the_2021_reshuffle(panel):
    s = series(panel, "PAPI", "total", list(range(2011, 2025)))
    t = trends.province_trends(s, "PAPI", "total", measure="z")
    assert t.attrs["segments"] == [list(range(2011, 2018)), list(range(2018, 2021)), list(range(2021, 2025))]
    steepest = t.sort_values("sen_slope", ascending=False).iloc[0]
    assert steepest["province"] != "Quảng Ninh"  # its pooled slope was one jump at 2018
    tested = t[t["p"].notna()]
    assert tested["p_adjusted"].to_numpy() == pytest.approx(_bh(tested["p"].to_numpy()), abs=1e-12)
    raw, adjusted = (t["trend"] != "no trend").sum(), (t["trend_adjusted"] != "no trend").sum()
    assert adjusted <= raw < 19  # 19 'significant' provinces when the trend spliced across 2018 without adjustment
    assert t["reliability"].str.contains("official").all()


def test_rank_changes_use_percentiles_and_refuse_a_break(panel):
    s = series(panel, "PAPI", "total", [2011, 2018, 2021, 2024])
    for first in (2011, 2018):  # the 2018 redesign; the 2021 reshuffle
        with pytest.raises(ValueError, match="not comparable"):
            trends.rank_changes(s, first, 2024, "PAPI", "total")
    moves = trends.rank_changes(s, 2021, 2024, "PAPI", "total")  # 60 and 61 ranked, 58 of them in both years
    w = s[s["year"].isin([2021, 2024])].pivot_table(index="province_code", columns="year", values="value").dropna()
    common = w.rank(ascending=False, method="min")  # re-ranked among the provinces scored in both years
    assert len(w) == 58 and (moves["n_both"] == 58).all() and (moves["rank_of_2021"] == 60).all() and (moves["rank_of_2024"] == 61).all()
    assert (moves["places_gained"] == (common[2021] - common[2024]).reindex(moves.index).astype(int)).all()
    r = moves.iloc[0]
    assert r["pct_2024"] == pytest.approx(100 * (58 - common.loc[moves.index[0], 2024]) / 57)


# --- interrupted time series -----------------------------------------------------------------------------

def _unbroken(panel, indicator):
    """A real PAPI series 2018-2024 relabelled as a researcher's own index, which the codebook gives no
    breaks: the formula is checked on the same numbers as if nothing broke (what a fit would be, not a
    result)."""
    return series(panel, "PAPI", indicator, list(range(2018, 2025))).assign(index="MY_SURVEY")


def test_its_on_yearly_means_matches_ols_written_out(panel):
    s = _unbroken(panel, "d8.2")
    r = its.interrupted(s, "MY_SURVEY", "d8.2", 2020, min_pre=2)  # the formula, checked where a fit is allowed on request
    assert r["window"] == list(range(2018, 2025)) and r["pre_years"] == [2018, 2019]
    m = r["means"]["mean_share"]
    t = m.index.to_numpy() - 2020
    X = np.column_stack([np.ones_like(t), t, t >= 0, t * (t >= 0)]).astype(float)
    beta, *_ = np.linalg.lstsq(X, m.to_numpy(), rcond=None)
    resid = m.to_numpy() - X @ beta
    df = len(m) - 4
    se = np.sqrt(np.diag(resid @ resid / df * np.linalg.inv(X.T @ X)))
    c = r["coefficients"]
    assert c["coef"].to_numpy() == pytest.approx(beta[1:], abs=1e-9)
    assert c["se"].to_numpy() == pytest.approx(se[1:], rel=1e-9)
    assert c["p"].to_numpy() == pytest.approx(2 * stats.t.sf(np.abs(beta[1:] / se[1:]), df), rel=1e-9)
    assert (c["df"] == 3).all()
    papi = its.interrupted(series(panel, "PAPI", "d8.2", list(range(2018, 2025))), "PAPI", "d8.2", 2020, min_pre=2)
    # national means may cross the 2021 reordering of provinces: the same fit, with that break as a caveat
    assert papi["window"] == list(range(2018, 2025)) and papi["coefficients"]["coef"].to_numpy() == pytest.approx(beta[1:], abs=1e-9)
    assert any(b.kind == "source" and b.year == 2020 for b in papi["caveats"])  # the break year is also the source switch
    assert any(b.year == 2021 and not b.comparable and b.comparable_national for b in papi["caveats"])


def test_yearly_means_are_balanced_shares_of_the_maximum(panel):
    s = series(panel, "PAPI", "d8.1", list(range(2018, 2025)))
    m = its.yearly_means(s)
    w = s.pivot_table(index="province_code", columns="year", values="value").dropna()  # provinces seen every year
    maxima = s.groupby("year")["scale_max"].first()
    assert m["mean_share"].to_numpy() == pytest.approx((100 * w / maxima).mean().to_numpy(), abs=1e-12)
    assert (m["n_provinces"] == len(w)).all() and len(w) < 63


def test_snapshot_dates():
    got = its.snapshot_dates(pd.Series([2020, 2020, 2024]), pd.Series(["2020-08-06", "2020-05", ""]))
    assert list(got.dt.strftime("%Y-%m-%d")) == ["2020-08-06", "2020-05-15", "2024-07-01"]


def test_its_refuses_two_pre_years_but_describes_before_and_after(panel):
    """PAPI's 2018 redesign leaves two pre-years before 2020: nothing is tested; the step into 2020 is
    described against the 2018 -> 2019 step, recomputed here. The yearly means run to 2024 across the 2021
    reordering of provinces, which national means may cross with a caveat."""
    s = series(panel, "PAPI", "d8.1", list(range(2018, 2025)))
    r = its.interrupted(s, "PAPI", "d8.1", 2020)
    assert r["coefficients"] is None and "need 3 and 2" in r["reason"] and "2 comparable year(s) before 2020" in r["reason"]
    m = r["means"]["mean_share"]
    assert list(m.index) == list(range(2018, 2025)) and [b.year for b in r["caveats"] if b.kind == "discontinuity"] == [2021]
    ba = r["before_after"]
    assert ba["step_into_break"] == pytest.approx(m[2020] - m[2019]) and ba["earlier_steps_mean"] == pytest.approx(m[2019] - m[2018])
    assert ba["step_minus_drift"] == pytest.approx((m[2020] - m[2019]) - (m[2019] - m[2018])) and ba["n_earlier_steps"] == 1
    assert ba["steps"][2020] == pytest.approx(m[2020] - m[2019])


def test_its_p_values_are_adjusted_across_terms_and_indicators(panel):
    fits = [its.interrupted(_unbroken(panel, i), "MY_SURVEY", i, 2020, min_pre=2)["coefficients"] for i in ("d8.1", "d8.2", "d5.1")]
    table = pd.concat(fits, ignore_index=True)
    holm = its.adjust(table)
    p = np.sort(table["p"].to_numpy())
    m = len(p)
    expected = np.minimum(1, np.maximum.accumulate((m - np.arange(m)) * p))  # Holm step-down, written out
    assert np.sort(holm.to_numpy()) == pytest.approx(expected, rel=1e-12) and m == 9


def test_its_refuses_breaks_and_rests_on_honest_df(panel):
    for ind in ("d8", "d8.3", "d5"):  # composition 2019 / discontinuity 2020 / construction permits dropped 2021
        r = its.interrupted(series(panel, "PAPI", ind, list(range(2018, 2025))), "PAPI", ind, 2020, min_pre=2)
        assert r["coefficients"] is None and r["reason"].startswith("not estimated")
    r = its.interrupted(_unbroken(panel, "d8.1"), "MY_SURVEY", "d8.1", 2020, min_pre=2)
    c = r["coefficients"]
    # the 2019 rescale (5 -> 3.33 points) is not a trend: on the share of the maximum the pre-trend is small
    assert abs(c.loc["pre-trend per year", "coef"]) < 1 and c.loc["pre-trend per year", "p"] > 0.05
    assert (c["p"] > 0.01).all()
    n = r["means"]["n_provinces"]
    assert n.nunique() == 1  # balanced: the same provinces every year


# --- panel models ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def models(panel):
    out = {}
    for name, y, xs, years, z in [("d5 on d8", "PAPI:d5", ["PAPI:d8"], range(2018, 2025), False),
                                  ("PCI on PAPI", "PCI:total", ["PAPI:total"], range(2011, 2020), True)]:
        out[name] = (panel_models.model_data(panel, y, xs, list(years), z), y, xs)
    return out


def test_fixed_effects_match_statsmodels_dummy_variables(models):
    for d, y, xs in models.values():
        lm = panel_models.fe_regression(d, y, xs)["coefficients"]
        smf_ = panel_models.fe_statsmodels(d, y, xs)
        assert lm["coef"].to_numpy() == pytest.approx(smf_["coef"].to_numpy(), abs=1e-10)
        n, k_all = smf_.attrs["n"], smf_.attrs["k"]
        slopes_only = smf_["se"].to_numpy() * np.sqrt((n - k_all) / (n - len(xs)))  # K: every dummy -> k: the slopes
        assert k_all > 60 and lm["se"].to_numpy() == pytest.approx(slopes_only, rel=1e-6)


def test_fixed_effects_inference_uses_clusters_minus_one_df(models):
    """63 province clusters: t with 62 df, not the N - K of several hundred province-years."""
    for d, y, xs in models.values():
        r = panel_models.fe_regression(d, y, xs)
        c = r["coefficients"].iloc[0]
        g = r["n_provinces"]
        assert c["df"] == g - 1 and r["n_obs"] - g > 2 * g
        half = stats.t.ppf(0.975, g - 1) * c["se"]
        assert (c["ci_low"], c["ci_high"]) == pytest.approx((c["coef"] - half, c["coef"] + half), rel=1e-12)
        assert c["p"] == pytest.approx(2 * stats.t.sf(abs(c["coef"] / c["se"]), g - 1), rel=1e-9)


def test_fixed_effects_slope_written_out(models):
    """Second check without any panel library: the slope is OLS of y on x after removing entity and year
    means by alternating projections (Frisch-Waugh-Lovell)."""
    d, y, xs = models["PCI on PAPI"]
    d = panel_models._drop_singletons(d)
    ent, yr = d.index.get_level_values("entity"), d.index.get_level_values("year")
    v = d[[y, *xs]].astype(float)
    for _ in range(500):
        v = v - v.groupby(ent).transform("mean")
        v = v - v.groupby(yr).transform("mean")
    beta = sm.OLS(v[y].to_numpy(), v[xs].to_numpy()).fit().params
    assert panel_models.fe_regression(d, y, xs)["coefficients"]["coef"].to_numpy() == pytest.approx(beta, abs=1e-8)


def test_models_never_identify_from_a_break(models):
    d, y, xs = models["d5 on d8"]
    main = panel_models.fe_regression(d, y, xs)
    assert main["years"] == [2021, 2022, 2023, 2024]  # d8 breaks in 2019 and 2020, d5 in 2021
    d, y, xs = models["PCI on PAPI"]
    assert panel_models.joint_segments([y, *xs], list(range(2011, 2020)), relative=True) == \
        {2011: 0, 2012: 0, 2013: 1, 2014: 1, 2015: 1, 2016: 1, 2017: 1, 2018: 2, 2019: 2}  # PCI 2013, PAPI 2018


def test_robustness_variants_change_the_sample(models):
    for d, y, xs in models.values():
        v = panel_models.variants(d, y, xs, drop_years=[2020, 2021])
        main = v.pop("main")
        run = {k: r for k, r in v.items() if "skipped" not in r}
        assert run, "every model keeps at least one robustness variant that runs"
        for r in run.values():
            assert r["n_obs"] < main["n_obs"]
            assert not np.allclose(r["coefficients"]["coef"], main["coefficients"]["coef"])


def test_identifying_years_are_the_multi_year_segments(models):
    d, y, xs = models["d5 on d8"]
    assert panel_models.identification(d) == {"identifying_years": [2021, 2022, 2023, 2024], "one_year_segments": [2018, 2019, 2020]}
    assert panel_models.identification(d)["identifying_years"] == panel_models.fe_regression(d, y, xs)["years"]


def _fe_slope_balanced(x, y):
    """Two-way within slope of a balanced G x T panel, written out: x - row mean - column mean + grand mean."""
    xt = x - x.mean(1, keepdims=True) - x.mean(0, keepdims=True) + x.mean()
    yt = y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + y.mean()
    return (xt * yt).sum() / (xt**2).sum()


def test_shared_error_bias_matches_a_simulation():
    """Known truth: slope 0.5, sampling errors of x and y correlated 0.6 within a province-year. The mean
    fixed-effects estimate over 300 samples equals reliability x 0.5 + 0.6 x shared, with reliability and
    shared computed by `shared_error_bias` from the SEs and the observed data."""
    rng = np.random.default_rng(0)
    g, t, beta, rho = 150, 4, 0.5, 0.6
    sx, sy = rng.uniform(0.1, 0.3, g), rng.uniform(0.05, 0.15, g)
    codes = [f"{k:03d}" for k in range(g)]
    se = pd.DataFrame({"se_x": sx, "se_y": sy}, index=codes)
    est, predicted = [], []
    for rep in range(300):
        xs = rng.normal(0, 1, (g, 1)) + 0.3 * np.arange(t) / t + rng.normal(0, 0.25, (g, t))
        ys = beta * xs + rng.normal(0, 0.2, (g, t))
        za, zb = rng.standard_normal((g, t)), rng.standard_normal((g, t))
        a = sx[:, None] * za
        b = sy[:, None] * (rho * za + np.sqrt(1 - rho**2) * zb)
        x, y = xs + a, ys + b
        est.append(_fe_slope_balanced(x, y))
        if rep < 30:
            idx = pd.MultiIndex.from_product([[f"{c}|0" for c in codes], range(2000, 2000 + t)], names=["entity", "year"])
            d = pd.DataFrame({"x": x.ravel(), "y": y.ravel(), "province_code": np.repeat(codes, t), "segment": 0}, index=idx)
            r = panel_models.shared_error_bias(d, "y", "x", se, est[-1])
            predicted.append(r["reliability"] * beta + rho * r["shared_per_rho"])
    assert np.mean(est) == pytest.approx(np.mean(predicted), abs=0.01)
    assert abs(np.mean(est) - beta) > 0.05  # the distortion is real at these sizes


def test_shared_error_table_scales_the_standard_errors(models, panel):
    """Each row is `shared_error_bias` with every SE multiplied by the row's factor (passed here as scaled
    SEs instead), and the reliability follows 1 - m^2 (1 - reliability at m = 1)."""
    from analysis import load_table
    from analysis.stats.uncertainty import own_se

    d, y, xs = models["d5 on d8"]
    o = own_se(panel, load_table("uncertainty"))
    o = o[o["se_source"] == "published"].pivot_table(index="province_code", columns="indicator", values="se")
    se = pd.DataFrame({"se_y": o["d5"], "se_x": o["d8"]})
    table = panel_models.shared_error_table(d, y, xs[0], se, 0.2181, (0.5, 0.8, 1.0), (-1.0, 0.04, 1.0))
    lam1 = panel_models.shared_error_bias(d, y, xs[0], se, 0.2181)["reliability"]
    for m in (0.5, 0.8):
        r = panel_models.shared_error_bias(d, y, xs[0], se * m, 0.2181)
        assert table.loc[m, "reliability"] == pytest.approx(r["reliability"], rel=1e-12) == pytest.approx(1 - m**2 * (1 - lam1), rel=1e-9)
        assert table.loc[m, "rho=+0.04"] == pytest.approx((0.2181 - 0.04 * r["shared_per_rho"]) / r["reliability"], rel=1e-12)
    assert table.loc[1.0, "rho=-1.00"] == pytest.approx(3.46, abs=0.01) and table.loc[1.0, "rho=+1.00"] == pytest.approx(-0.15, abs=0.01)


def test_within_lag1_against_dummy_regression_residuals(models):
    """x's residuals from an OLS on entity and year dummies (statsmodels), lagged by pandas within entity:
    the same lag-1 autocorrelation; for PAPI d8 in 2021-2024 it is -0.074."""
    d, y, xs = models["d5 on d8"]
    dd = panel_models._drop_singletons(d).reset_index()
    dummies = pd.concat([pd.get_dummies(dd["entity"].astype(str), dtype=float),
                         pd.get_dummies(dd["year"].astype(str), dtype=float, drop_first=True)], axis=1)  # full rank
    fit = sm.OLS(dd[xs[0]].astype(float), dummies).fit()
    dd["v"] = fit.resid
    dd = dd.sort_values(["entity", "year"])
    dd["lag"] = dd.groupby("entity")["v"].shift(1)
    ok = dd["lag"].notna() & (dd["year"] - dd.groupby("entity")["year"].shift(1) == 1)
    expected = np.corrcoef(dd.loc[ok, "v"], dd.loc[ok, "lag"])[0, 1]
    assert panel_models.within_lag1(d, xs[0]) == pytest.approx(expected, abs=1e-9) == pytest.approx(-0.074, abs=0.001)


def _panel_with_reliability(lam, seed, g=63, t=4):
    """A balanced panel whose x is a random walk within each province (share `lam` of the within
    variation) plus independent noise."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.standard_normal((g, t)), axis=1)
    walk = walk - walk.mean(axis=1, keepdims=True)
    walk = walk - walk.mean(axis=0, keepdims=True)
    noise = rng.standard_normal((g, t))
    noise = noise - noise.mean(axis=1, keepdims=True)
    noise = noise - noise.mean(axis=0, keepdims=True)
    x = np.sqrt(lam) * walk / walk.std() + np.sqrt(1 - lam) * noise / noise.std()
    codes = [f"{k:02d}" for k in range(g)]
    idx = pd.MultiIndex.from_product([[f"{c}|0" for c in codes], range(2021, 2021 + t)], names=["entity", "year"])
    return pd.DataFrame({"x": x.ravel(), "province_code": np.repeat(codes, t), "segment": 0}, index=idx)


def test_reliability_from_autocorrelation_recovers_a_known_noise_share():
    """Pure noise within four years gives a lag-1 autocorrelation near -1/(T-1) = -1/3 after the means are
    removed; a panel built with reliability 0.7 is judged consistent with 0.7 and not with 0.1, and one built
    with reliability 0.1 the other way round."""
    high = panel_models.reliability_from_autocorrelation(_panel_with_reliability(0.7, 1), "x", [0.0, 0.1, 0.7], draws=1000)
    pure = high[(high["reliability"] == 0.0)].set_index("signal")["lag1_mean"]
    assert pure.to_numpy() == pytest.approx([-1 / 3, -1 / 3], abs=0.02)
    assert 0.7 in high.attrs["consistent"]["random walk"] and 0.1 not in high.attrs["consistent"]["random walk"]
    low = panel_models.reliability_from_autocorrelation(_panel_with_reliability(0.1, 2), "x", [0.1, 0.7], draws=1000)
    assert low.attrs["consistent"]["random walk"] == [0.1]


# --- breaks ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def screened(panel):
    return breaks.screen(panel, ["PAPI", "PCI"])


def test_screen_finds_the_d8_3_discontinuity_and_the_2018_redesign(screened):
    row = screened.set_index(["index", "indicator", "year_to"])
    d83 = row.loc[("PAPI", "d8.3", 2020)]
    assert "spread" in d83["flagged"] and "floor" in d83["flagged"] and d83["at_floor_from"] == 15
    assert d83["sd_ratio"] < 0.1 and abs(d83["spearman_rho"]) < 0.1
    assert "mean shift" in row.loc[("PAPI", "total", 2018), "flagged"]
    assert row.loc[("PAPI", "d8.1", 2019), "flagged"] == ""  # the 5 -> 3.33 rescale is not a discontinuity


def test_screen_finds_papi_2021_by_breadth_and_persistence(screened):
    """PAPI 2020 -> 2021: spread and mean barely move, the provinces change places. After the calibration
    the total alone is not flagged (score about -3.1, BH q about 0.09), but the step is the one where most
    PAPI series are flagged at once, most are judged lasting by the lag-2 check, and the median score of the
    sub-dimensions is lowest: the evidence the codebook entry rests on."""
    tot = screened[(screened["index"] == "PAPI") & (screened["indicator"] == "total")].set_index("year_to")
    assert tot.loc[2021, "spearman_rho"] == pytest.approx(0.215, abs=0.001) and tot.loc[2021, "mean_abs_pct_rank_change"] > 29
    assert tot.loc[2021, "lag2_rho_before"] == pytest.approx(0.049, abs=0.001) and tot.loc[2021, "lag2_rho_after"] == pytest.approx(0.137, abs=0.001)
    assert bool(tot.loc[2021, "lasting"]) and "spread" not in tot.loc[2021, "flagged"] and "mean shift" not in tot.loc[2021, "flagged"]
    assert tot.loc[2021, "rank_z"] == tot["rank_z"].min()
    steps = breaks.step_summary(screened)
    papi = steps[steps["index"] == "PAPI"].set_index("year_to")
    assert papi["rank_flags"].idxmax() == 2021 and papi.loc[2021, "rank_flags"] >= 3
    assert papi["lasting"].idxmax() == 2021 and papi.loc[2021, "lasting"] >= 2 * papi["lasting"].drop(2021).max()
    assert papi["median_leaf_rank_z"].idxmin() == 2021 and papi.loc[2021, "median_leaf_rank_z"] < 2 * papi["median_leaf_rank_z"].drop(2021).min()
    ok, found = cb.comparable("PAPI", "total", 2020, 2021, relative=True)
    assert not ok and any(b.year == 2021 and b.kind == "discontinuity" and not b.comparable for b in found)


def test_screen_attrs_state_the_family_and_the_expected_chance_flags(screened):
    """BH over every judged step of the screen, recomputed with scipy's implementation; the expected number
    of chance flags is q times the flags (BH's bound on the expected share of false ones)."""
    judged = screened["rank_p"].notna()
    q = stats.false_discovery_control(screened.loc[judged, "rank_p"].to_numpy(), method="bh")
    assert screened.loc[judged, "rank_q"].to_numpy() == pytest.approx(q, rel=1e-12)
    flags = int(screened["flagged"].str.contains("rank reshuffle").sum())
    assert flags == int((q <= breaks.FDR_Q).sum()) and screened.attrs["rank_flags"] == flags
    assert screened.attrs["judged"] == int(judged.sum()) and screened.attrs["expected_false_rank_flags"] == pytest.approx(breaks.FDR_Q * flags)
    assert 3 <= flags <= 15  # a handful, not one in fifty steps


def test_rank_stability_recomputed_independently(panel, screened):
    """rho by scipy on the raw wide table; tau^2 by statsmodels' DerSimonian-Laird (combine_effects); the
    score by the formula written out; the bootstrap p-value by a simulation written here with another
    generator (agreement within Monte Carlo error); percentile change from scipy ranks."""
    from statsmodels.stats.meta_analysis import combine_effects

    from analysis.stats.common import annual

    a = annual(panel)
    w = a[(a["index"] == "PAPI") & (a["indicator"] == "total")].pivot_table(index="province_code", columns="year", values="value")
    years = sorted(w.columns)
    rho, n = {}, {}
    for y0, y1 in zip(years[:-1], years[1:], strict=True):
        d = w[[y0, y1]].dropna()
        rho[y1], n[y1] = stats.spearmanr(d[y0], d[y1]).statistic, len(d)
    got = screened[(screened["index"] == "PAPI") & (screened["indicator"] == "total")].set_index("year_to")
    assert got["spearman_rho"].to_dict() == pytest.approx(rho, abs=1e-12)
    ref = [y for y in rho if y not in (2018, 2021)]  # steps across a recorded non-comparable break judge nobody
    z = np.arctanh(np.array([rho[y] for y in ref]))
    med = np.median(z)
    c = (1 + np.tanh(med) ** 2 / 2)
    v = c / (np.array([n[y] for y in ref]) - 3.0)
    tau2 = max(0.0, combine_effects(z, v, method_re="dl").tau2)  # statsmodels leaves the DL moment estimate untruncated
    assert got.loc[2021, "rank_tau_z"] == pytest.approx(np.sqrt(tau2), rel=1e-9)
    v_t = c / (n[2021] - 3)
    spread = np.sqrt(v_t + tau2 + np.pi / 2 * (v.mean() + tau2) / len(v))
    score = (np.arctanh(rho[2021]) - med) / spread
    assert got.loc[2021, "rank_z"] == pytest.approx(score, rel=1e-9) and got.loc[2021, "rank_spread_z"] == pytest.approx(spread, rel=1e-9)
    rng, hits, draws = np.random.Generator(np.random.MT19937(7)), 0, 20_000
    for _ in range(draws // 2000):
        zr = rng.normal(0.0, np.sqrt(v + tau2), (2000, len(v)))
        zt = rng.normal(0.0, np.sqrt(v_t + tau2), 2000)
        t2 = np.maximum(0.0, [combine_effects(r, v, method_re="dl").tau2 for r in zr])
        sim = (zt - np.median(zr, axis=1)) / np.sqrt(v_t + t2 + np.pi / 2 * (v.mean() + t2) / len(v))
        hits += int((sim <= score).sum())
    p = hits / draws
    assert got.loc[2021, "rank_p"] == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / draws) + 2e-4)
    d = w[[2020, 2021]].dropna()
    m = len(d)
    pct = [100 * (m - stats.rankdata(-d[y])) / (m - 1) for y in (2020, 2021)]
    assert got.loc[2021, "mean_abs_pct_rank_change"] == pytest.approx(np.mean(np.abs(pct[1] - pct[0])), rel=1e-12)


def test_lag2_check_recomputed_independently(panel, screened):
    """The lag-2 correlations across PAPI 2021 by scipy, and their reference: the other pairs two years
    apart that span no recorded break (2011-2017, 2018-2020 and 2021-2024 of the total), DerSimonian-Laird
    written out."""
    from analysis.stats.common import annual

    a = annual(panel)
    w = a[(a["index"] == "PAPI") & (a["indicator"] == "total")].pivot_table(index="province_code", columns="year", values="value")

    def r(y0, y1):
        d = w[[y0, y1]].dropna()
        return stats.spearmanr(d[y0], d[y1]).statistic, len(d)

    got = screened[(screened["index"] == "PAPI") & (screened["indicator"] == "total")].set_index("year_to").loc[2021]
    assert got["lag2_rho_before"] == pytest.approx(r(2019, 2021)[0], abs=1e-12) and got["lag2_rho_after"] == pytest.approx(r(2020, 2022)[0], abs=1e-12)
    pairs = [(y, y + 2) for y in range(2011, 2016)] + [(2018, 2020), (2021, 2023), (2022, 2024)]
    ref = np.array([r(*p)[0] for p in pairs])
    assert ref.min() > 0.35 and max(got["lag2_rho_before"], got["lag2_rho_after"]) < 0.15
    z = np.arctanh(ref)
    c = 1 + np.tanh(np.median(z)) ** 2 / 2
    v = c / (np.array([r(*p)[1] for p in pairs]) - 3.0)
    w_ = 1 / v
    mu = (w_ * z).sum() / w_.sum()
    tau2 = max(0.0, ((w_ * (z - mu) ** 2).sum() - (len(z) - 1)) / (w_.sum() - (w_**2).sum() / w_.sum()))
    v_t = c / (r(2019, 2021)[1] - 3)
    score = (np.arctanh(got["lag2_rho_before"]) - np.median(z)) / np.sqrt(v_t + tau2 + np.pi / 2 * (v.mean() + tau2) / len(v))
    assert got["lag2_z_before"] == pytest.approx(score, rel=1e-9)
    assert got["lasting_p"] == max(got["lag2_p_before"], got["lag2_p_after"]) < breaks.LASTING_ALPHA


def test_the_2021_break_lists_the_indicators_where_the_data_show_it(screened):
    """The codebook's scope of the 2021 break follows the rule written beside it: every PAPI indicator
    scored in 2020 and 2021 is listed unless its three rank correlations across 2021 (2020-2021, 2019-2021,
    2020-2022) each have a screen p-value of at least 0.2; those four stay comparable across 2021. The
    break blocks province comparisons and leaves national means comparable with a caveat."""
    at = screened[(screened["index"] == "PAPI") & (screened["year_to"] == 2021)].set_index("indicator")
    normal = at[(at[["rank_p", "lag2_p_before", "lag2_p_after"]] >= 0.2).all(axis=1)].index
    assert sorted(normal) == ["d1.2", "d1.3", "d3.1", "d6.2"]
    entry = [b for b in cb.load_codebook().explicit_breaks if b["index"] == "PAPI" and b["year"] == 2021 and b["note"].startswith("The provinces")]
    assert len(entry) == 1 and sorted(set(at.index) - set(entry[0]["indicators"])) == sorted(normal)
    assert entry[0]["comparable"] is False and entry[0]["comparable_national"] is True
    for ind in normal:
        assert cb.comparable("PAPI", ind, 2020, 2021, relative=True)[0]
    assert not cb.comparable("PAPI", "total", 2020, 2021, relative=True)[0]
    ok, found = cb.comparable("PAPI", "total", 2020, 2021, relative=True, comparison="national")
    assert ok and any(b.year == 2021 and not b.comparable and b.comparable_national for b in found)


def _toy_panel(years, shuffle_at=None, seed=1):
    """40 provinces of a researcher's index with a stable order plus noise; optionally the order is
    redrawn from `shuffle_at` on (a new sample), with the same mean and spread."""
    rng = np.random.default_rng(seed)
    base = rng.normal(50, 10, 40)
    rows = []
    for y in years:
        if shuffle_at is not None and y == shuffle_at:
            base = rng.permutation(base)
        v = base + rng.normal(0, 4, 40)
        rows += [{"province_code": f"{k + 1:02d}", "vintage": "gso-2008", "date": "", "index": "MY_SURVEY", "indicator": "total",
                  "year": y, "value": float(x), "scale_max": 100.0, "reliability": "user"} for k, x in enumerate(v)]
    return pd.DataFrame(rows)


def test_rank_stability_flags_a_redrawn_order_and_not_a_stable_one():
    years = list(range(2011, 2021))
    got = breaks.screen(_toy_panel(years, shuffle_at=2016)).set_index("year_to")
    assert list(got.index[got["flagged"].str.contains("rank reshuffle")]) == [2016]
    assert bool(got.loc[2016, "lasting"])  # the new order is kept: 2015-2017 is as low as 2015-2016
    for seed in range(5):
        assert not breaks.screen(_toy_panel(years, seed=seed), draws=4000)["flagged"].str.contains("rank reshuffle").any()


def _chain_rhos(tau, n_series, steps=12, n=63, seed=0):
    """Year-to-year Spearman correlations of simulated panels with no break: each province's value follows
    x_{t+1} = r_t x_t + sqrt(1 - r_t^2) e, the step's true correlation r_t varying between steps with SD
    `tau` on Fisher's z scale around 0.69 (PAPI's typical step); Spearman by scipy on the simulated values."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_series):
        x = rng.standard_normal(n)
        rhos = []
        for _ in range(steps):
            r = np.tanh(np.arctanh(0.69) + tau * rng.standard_normal())
            x1 = r * x + np.sqrt(1 - r**2) * rng.standard_normal(n)
            rhos.append(stats.spearmanr(x, x1).statistic)
            x = x1
        out.append(rhos)
    return np.array(out)


@pytest.mark.parametrize("tau", [0.0, 0.15])
def test_rank_stability_keeps_its_false_flag_rate_near_nominal(tau):
    """Under no break, with or without real between-step variation (tau 0.15 is about PAPI's and PCI's upper
    quartile): the bootstrap p-values are calibrated (about 5% below 0.05, 1% below 0.01), so BH's false
    discovery rate holds. The earlier rule (robust score below -3.5 MADs, nominally 0.02% of steps) is
    computed on the same data for contrast: with real variation it flagged many times its nominal rate."""
    rhos = _chain_rhos(tau, 150, seed=11)
    p, old = [], []
    for k, r in enumerate(rhos):
        idx = range(len(r))
        got = breaks.rank_stability(pd.Series(r), pd.Series(63, index=idx), pd.Series(True, index=idx), draws=2000, key=("sim", str(k)))
        p += list(got["rank_p"])
        z = np.arctanh(r)
        for i in range(len(z)):
            o = np.delete(z, i)
            med = np.median(o)
            spread = max(1.4826 * np.median(np.abs(o - med)), breaks.spearman_se(np.tanh(med), 63))
            old.append((z[i] - med) / spread < -3.5)
    p = np.array(p)
    assert 0.03 <= (p <= 0.05).mean() <= 0.07 and (p <= 0.01).mean() <= 0.02
    if tau:
        assert np.mean(old) > 10 * stats.norm.cdf(-3.5)  # why the rule changed


def test_codebook_break_function_reports_both():
    assert any(b.year == 2020 and b.kind == "discontinuity" and not b.comparable for b in cb.breaks("PAPI", "d8.3"))
    assert any(b.year == 2018 and b.kind == "method" and not b.comparable for b in cb.breaks("PAPI", "total"))
    assert breaks.like_for_like("PAPI", "total", 2019, 2020)[1] == ["d8.3"]
    assert breaks.like_for_like("PAPI", "d8", 2018, 2019) == (["d8.1", "d8.2"], ["d8.3"])


def test_share_of_max_removes_a_rescale(panel):
    s = series(panel, "PAPI", "d8.1", [2018, 2019])
    share = share_of_max(s)
    assert share.groupby(s["year"]).mean().diff().abs().iloc[-1] < 1  # percentage points; the raw mean falls by a third


# --- published standard errors ------------------------------------------------------------------------------

def test_uncertainty_table_from_the_2019_workbooks(raw_ctx):
    from analysis import load_table
    from analysis.manifest import load_manifest
    from analysis.sources.papi import read_uncertainty

    u = load_table("uncertainty")
    assert len(u) == 63 * 9 and set(u["indicator"]) == {"total", *(f"d{k}" for k in range(1, 9))}
    tot = u[u["indicator"] == "total"]
    assert (tot["ci_level_published"] == 0.9).all()  # headed '95% CI', 1.645 SE wide
    bd = tot[tot["province"] == "Bình Dương"].iloc[0]
    assert bd["value"] == pytest.approx(43.97, abs=0.01) and 0 < bd["se"] < 1
    a, b = (read_uncertainty(s, raw_ctx) for s in load_manifest() if s.role == "uncertainty")
    m = a.merge(b, on=["province_raw", "indicator"])
    assert len(m) == 567 and np.allclose(m["se_x"], m["se_y"]) and np.allclose(m["value_x"], m["value_y"])


def test_a_standard_error_cannot_attach_to_the_wrong_score(panel, raw_ctx, registry):
    from analysis.manifest import load_manifest
    from analysis.panel.build import collect_uncertainty

    bad = panel.copy()
    hit = (bad["index"] == "PAPI") & (bad["year"] == 2019) & (bad["indicator"] == "d3") & (bad["province"] == "Hà Giang")
    bad.loc[hit, "value"] += 0.5
    with pytest.raises(DataError) as err:
        collect_uncertainty(load_manifest(), raw_ctx, registry, bad)
    assert "does not match the panel" in str(err.value) and "Variance (Dimension 3)" in str(err.value)


def test_statsmodels_ols_is_what_its_uses():
    """Guard: the ITS relies on statsmodels' OLS t-based intervals with T - 4 df (no robust covariance)."""
    y = pd.Series([1.0, 2.0, 2.5, 4.0, 4.2, 5.9, 6.1], index=range(2018, 2025))
    c = its.segmented_means(y, 2020)
    t = np.arange(7) - 2
    X = sm.add_constant(np.column_stack([t, t >= 0, t * (t >= 0)]).astype(float))
    fit = sm.OLS(y.to_numpy(), X).fit()
    assert c["ci_low"].to_numpy() == pytest.approx(fit.conf_int()[1:, 0]) and (c["df"] == 3).all()


def test_like_for_like_series_rebuilds_the_total_from_comparable_parts(panel):
    """Within 2018-2020 the parts that break inside the segment are left out and the rest are summed on
    the 2018 scale: recomputed here for Bình Dương 2020 (d8.1, d8.2 rescaled 5 -> 3.33 in 2019, when d8.3
    was added). Across 2021 only the parts outside the 2021 break's scope remain."""
    from analysis.stats.breaks import like_for_like_series
    from analysis.stats.common import annual

    leaves = annual(panel)
    leaves = leaves[leaves["index"] == "PAPI"]
    lfl, dropped = like_for_like_series(leaves, "PAPI", "total", [[2018, 2019, 2020]])
    assert dropped["2018-2020"] == ["d1.1", "d7.1", "d8.3"]
    got = lfl[(lfl["province_code"] == "74") & (lfl["year"] == 2020)]["value"].item()
    bd = leaves[(leaves["province_code"] == "74") & (leaves["year"] == 2020) & leaves["indicator"].str.fullmatch(r"d\d\.\d")]
    bd = bd[~bd["indicator"].isin(dropped["2018-2020"])]
    max2018 = {i: cb.expected_scale_max("PAPI", i, 2018) for i in bd["indicator"]}
    expected = sum(v / m * max2018[i] for i, v, m in zip(bd["indicator"], bd["value"], bd["scale_max"], strict=True))
    assert len(bd) == 26 and got == pytest.approx(expected, abs=1e-9)
    assert abs(expected - bd["value"].sum()) > 0.1  # without the rescale the d8 leaves would lose a third of their weight
    assert set(lfl["scale_max"]) == {sum(max2018.values())}
    across, dropped = like_for_like_series(leaves, "PAPI", "total", [[2020, 2021]])
    assert len(dropped["2020-2021"]) == 25  # across 2021 only the four parts the 2021 break does not reach remain
    assert breaks.like_for_like("PAPI", "total", 2020, 2021)[0] == ["d1.2", "d1.3", "d3.1", "d6.2"]
    assert list(across["scale_max"].unique()) == pytest.approx([2.5 + 2.5 + 10 / 3 + 2.5])  # on the 2020 scale: three quarters and a third of a dimension


@pytest.mark.parametrize(("pre", "post"), [(-1, 2), (1, 2), (3, 0)])
def test_its_refuses_windows_too_short_to_have_a_trend(panel, pre, post):
    with pytest.raises(DataError, match="at least 2 comparable years on each side"):
        its.interrupted(series(panel, "PAPI", "d8.1", list(range(2018, 2025))), "PAPI", "d8.1", 2020, min_pre=pre, min_post=post)
