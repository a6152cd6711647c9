"""The statistics of the online-services question (issue 16): the wild cluster bootstrap against a loop that
refits every draw with statsmodels, the fixed-effects slope and its clustered error against linearmodels and a
statsmodels dummy-variable fit, the leave-one-out slopes against refits, the yearly cross-sections against scipy
and statsmodels' Holm, the identity counts, and prose that changes with the numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests

from analysis import load_table, online
from analysis.stats import panel_models
from analysis.stats.correlation import bootstrap_ci
from analysis.stats.wildboot import Design, dummies, leave_one_out, webb_weights


@pytest.fixture(scope="module")
def provinces():
    return load_table("provinces")


@pytest.fixture(scope="module")
def result(panel, provinces):
    return online.analyse(panel, provinces, draws=399)


def synthetic(seed=1, g=12, t=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame([(a, b) for a in range(g) for b in range(t)], columns=["g", "t"]).sample(frac=0.9, random_state=seed)
    df = df.reset_index(drop=True)
    df["x"] = rng.normal(size=len(df)) + 0.2 * df["g"]
    df["y"] = 0.25 * df["x"] + 0.4 * df["t"] + rng.normal(size=g)[df["g"]] + rng.normal(size=len(df)) * (1 + df["g"] % 3)
    return df


def test_wild_bootstrap_p_equals_refitting_every_draw():
    """Same Webb weights, restricted residuals, CR1 t: the vectorised p-value equals a loop of statsmodels refits."""
    df = synthetic()
    des = Design(df["y"], df["x"], dummies(df, ["g", "t"]), df["g"])
    w = webb_weights(des.g, 199, 7)
    n = len(df)
    fit = smf.ols("y ~ x + C(g) + C(t)", df).fit(cov_type="cluster", cov_kwds={"groups": df["g"], "use_correction": True})
    k = fit.model.exog.shape[1]
    to_k1 = np.sqrt((n - k) / (n - 1))  # statsmodels counts every dummy; the project's CR1 counts the slope only
    for b0 in (0.0, 0.3):
        restricted = smf.ols("yr ~ C(g) + C(t)", df.assign(yr=df["y"] - b0 * df["x"])).fit()
        t0 = (fit.params["x"] - b0) / (fit.bse["x"] * to_k1)
        hits = 0
        for b in range(w.shape[1]):
            ys = restricted.fittedvalues + b0 * df["x"] + restricted.resid * w[df["g"].to_numpy(), b]
            fb = smf.ols("ys ~ x + C(g) + C(t)", df.assign(ys=ys)).fit(cov_type="cluster", cov_kwds={"groups": df["g"], "use_correction": True})
            hits += abs((fb.params["x"] - b0) / (fb.bse["x"] * to_k1)) >= abs(t0) - 1e-12
        assert des.p_value(b0, w) == pytest.approx(hits / w.shape[1])
    assert des.beta == pytest.approx(fit.params["x"]) and des.se == pytest.approx(fit.bse["x"] * to_k1)


def test_wild_interval_is_the_inverted_test():
    df = synthetic(seed=3, g=15)
    des = Design(df["y"], df["x"], dummies(df, ["g", "t"]), df["g"])
    out = des.boot(1999, seed=5)
    w = webb_weights(des.g, 1999, 5)
    assert out.ci_wild_low < out.beta < out.ci_wild_high
    step = 0.05 * des.se  # just inside each bound the test keeps b0, just outside it rejects
    assert des.p_value(out.ci_wild_low + step, w) > 0.05 >= des.p_value(out.ci_wild_low - step, w)
    assert des.p_value(out.ci_wild_high - step, w) > 0.05 >= des.p_value(out.ci_wild_high + step, w)


def test_leave_one_out_equals_refits():
    df = synthetic(seed=2)
    loo = leave_one_out(df["y"], df["x"], dummies(df, ["t"]), df["g"], within_cluster=True)
    fd = leave_one_out(df["y"], df["x"], dummies(df, ["t"]), df["g"], within_cluster=False)
    for g in (0, 5, 11):
        kept = df[df["g"] != g]
        assert loo[g] == pytest.approx(smf.ols("y ~ x + C(g) + C(t)", kept).fit().params["x"])
        assert fd[g] == pytest.approx(smf.ols("y ~ x + C(t)", kept).fit().params["x"])


def test_fixed_effects_on_the_real_766_panel_match_panelols_and_dummies(result):
    """The two-way fixed-effects slope of online services on satisfaction (34 provinces, 2022-2025) and its CR1
    error, against linearmodels' PanelOLS (stats.panel_models convention) and statsmodels with dummies."""
    f = result.frames["766"]
    d = online._design_data(online._panel_rows(f, "DVC766:online_22", "DVC766:mdhl"), "levels")
    ours = result.within.query("design == 'levels' and sample == 'main' and y == 'DVC766:mdhl'").iloc[0]
    assert (ours["n"], ours["g"]) == (len(d), d["territory"].nunique()) and ours["g"] == 34
    frame = d.drop(columns=["province_code"]).rename(columns={"territory": "province_code"})
    frame = frame.assign(entity=frame["province_code"], segment=0)
    frame = frame.set_index(["entity", "year"])
    lm = panel_models.fe_regression(frame, "y", ["x"])["coefficients"].loc["x"]
    assert ours["beta"] == pytest.approx(lm["coef"], abs=1e-10) and ours["se"] == pytest.approx(lm["se"], rel=1e-8)
    sm = panel_models.fe_statsmodels(frame, "y", ["x"])
    n, k = sm.attrs["n"], sm.attrs["k"]
    assert ours["beta"] == pytest.approx(sm.loc["x", "coef"], abs=1e-10)
    assert ours["se"] == pytest.approx(sm.loc["x", "se"] * np.sqrt((n - k) / (n - 1)), rel=1e-6)
    q = stats.t.ppf(0.975, ours["g"] - 1)
    assert ours["ci_low"] == pytest.approx(ours["beta"] - q * ours["se"])


def test_cross_sections_against_scipy_and_holm(result, panel):
    c = result.cross
    row = c[(c["period"] == "2024") & (c["method"] == "spearman") & (c["y"] == "DVC766:mdhl")].iloc[0]
    raw = panel[(panel["source_id"] == "dvc766_2022_2024") & (panel["year"] == 2024)].pivot(index="province_code", columns="indicator",
                                                                                            values="value")
    assert row["r"] == pytest.approx(stats.spearmanr(raw["online_22"], raw["mdhl"])[0])
    assert (row["n"], row["n_certain"], row["n_assumed"], row["n_compiled"]) == (34, 11, 23, 68)
    for (_, _), fam in c.groupby(["year", "method"]):
        assert fam["p_holm"].to_numpy() == pytest.approx(multipletests(fam["p"], method="holm")[1])
    late = c[c["period"].str.startswith("2025")]
    assert set(late["n"]) == {34} and set(late["n_certain"]) == {34} and set(late["cutoff"]) == {"2025-10-11", "2025-10-16"}
    dti = c[(c["family"] == "dti") & (c["period"] == "2023")]
    assert set(dti["n_as_named"]) == set(dti["n"])  # DTI rows name their provinces: no assumption


def test_online_22_of_2025_is_clgq_plus_tttt(result, panel):
    f = result.frames["766"]
    hn = f.values.loc[("01@2025-10-16", 2025), "DVC766:online_22"]
    d = panel[(panel["vintage"] == "gso-2025") & (panel["province_code"] == "01") & (panel["date"] == "2025-10-16")].set_index("indicator")
    assert hn == pytest.approx(d.loc["clgq", "value"] + d.loc["tttt", "value"])
    assert f.rows.loc[("01@2025-10-16", 2025), "territory"] == "01" and f.rows.loc[("24@2025-10-16", 2025), "territory"] == ""


def test_certain_units_only(panel, provinces):
    res = online.analyse(panel, provinces, years=[2022, 2024], units="certain", draws=99, designs=("levels",))
    c = res.cross[res.cross["family"] == "766"]
    assert set(c["n"]) == {11} and set(c["n_assumed"]) == {0}
    w = res.within[(res.within["family"] == "766") & (res.within["sample"] == "main")]
    assert set(w["g"]) == {11}


def test_bootstrap_ci_against_scipy(panel):
    d = panel[(panel["source_id"] == "dvc766_2022_2024") & (panel["year"] == 2023)].pivot(index="province_code", columns="indicator",
                                                                                          values="value")
    ours = bootstrap_ci(d["online_22"], d["tdgq"], "pearson", draws=4999, seed=3)
    ref = stats.bootstrap((d["online_22"].to_numpy(), d["tdgq"].to_numpy()), lambda a, b: stats.pearsonr(a, b)[0], paired=True,
                          vectorized=False, n_resamples=4999, method="percentile", random_state=4).confidence_interval
    assert ours[0] == pytest.approx(ref.low, abs=0.04) and ours[1] == pytest.approx(ref.high, abs=0.04)
    assert bootstrap_ci(d["online_22"], d["tdgq"], "spearman", draws=999, seed=3) == bootstrap_ci(d["online_22"], d["tdgq"], "spearman",
                                                                                                  draws=999, seed=3)


def test_prose_follows_the_numbers(panel, provinces, result):
    """Other years give other numbers and other sentences, in both languages; nothing is fixed text."""
    other = online.analyse(panel, provinces, years=[2023, 2024], draws=99, designs=("levels",))
    for lang in ("en", "vi"):
        a, b = online.headline(result, lang), online.headline(other, lang)
        assert a != b
        assert "2022" in a[0] and "2022" not in b[0]
        k = len(result.cross[(result.cross["family"] == "766") & (result.cross["method"] == "spearman")])
        assert str(k) in a[0]
    words = online.answer(result, "vi")
    assert all("Spearman" not in line or "ρ Spearman" in line for line in words["lines"])
    assert "online_22" not in " ".join(sum(words.values(), [])) and "mdhl" not in " ".join(sum(words.values(), []))


def test_untestable_counts_come_from_the_panel(panel):
    counts = online.untestable(panel)
    par = panel[(panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total") & (panel["vintage"] == "gso-2008")]
    assert counts["PAR_INDEX"] == par.groupby("year")["province_code"].nunique().max()
    assert counts["SIPAS"] <= 5


def test_answer_up_front_has_figure_sentences_and_pointer(panel, provinces, result):
    import matplotlib.pyplot as plt

    for lang in ("en", "vi"):
        up = online.answer_up_front(panel, provinces, lang, result=result)
        assert 2 <= len(up["sentences"]) <= 3 and "data/raw/user/" in up["pointer"]
        assert "PAR INDEX" in up["untestable"] and "SIPAS" in up["untestable"]
        titles = [ax.get_title() for ax in up["figure"].axes if ax.get_title()]
        assert any("N = 34" in t for t in titles) and any("N = 6" in t for t in titles)
        plt.close(up["figure"])


def test_readme_answer_is_the_notebooks_own_output():
    """The README's answer is the default run's words: equal to the stored output of notebook 10's headline cell,
    which nbval checks against a fresh run (so a change in the numbers fails one of the two)."""
    import json
    import re

    from analysis import paths

    root = paths.project_root()
    nb = json.loads((root / "notebooks" / "10_online_services_trends.ipynb").read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and 'online.headline(res, "en")' in "".join(c["source"]))
    stored = [s for o in cell["outputs"] for s in "".join(o.get("text", "")).splitlines() if s.strip()]
    readme = (root / "README.md").read_text(encoding="utf-8").split("## The answer", 1)[1].split("\n## ", 1)[0]
    bullets = [re.sub(r"\s+", " ", b).strip() for b in re.findall(r"^- (.*?)(?=^- |^\n|\Z)", readme, re.M | re.S)]
    assert len(stored) == 3 and bullets == stored
