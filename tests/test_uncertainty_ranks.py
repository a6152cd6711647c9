"""A province's own standard errors (`stats.uncertainty`) checked against the raw 2019 workbook read
here without the project's adapter, what the published dimension-variance column is, and rank intervals
(`stats.ranks`) recomputed by an independent simulation (scipy's multivariate normal for one province's
differences), bounded by Bonferroni, and checked for coverage on data with known ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from scipy import stats

from analysis import load_table
from analysis.errors import DataError
from analysis.manifest import load_manifest
from analysis.stats.ranks import papi_rank_intervals, rank_intervals
from analysis.stats.uncertainty import dimension_variance_check, own_se


@pytest.fixture(scope="module")
def raw_2019():
    """The 2019 FULL workbook's first sheet as the publisher laid it out, joined to province codes through
    the unique 2019 totals of the panel (no name matching, no adapter)."""
    path = next(s.local_path for s in load_manifest() if s.id == "papi_uncertainty_2019")
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    head = [str(h) for h in rows[0]]
    col = {h: j for j, h in enumerate(head)}
    df = pd.DataFrame({"score": [float(r[col["Unweighted PAPI Score"]]) for r in rows[1:]],
                       "se": [float(r[col["Unweighted Standard Error"]]) for r in rows[1:]],
                       "n": [float(r[col["Observations (Dimension 1)"]]) for r in rows[1:]]})
    for k in range(1, 9):
        df[f"var{k}"] = [float(r[col[f"Variance (Dimension {k})"]]) for r in rows[1:]]
    return df


@pytest.fixture(scope="module")
def own(panel):
    return own_se(panel, load_table("uncertainty"))


def _codes(raw, own):
    tot = own[(own["year"] == 2019) & (own["indicator"] == "total")]
    code = [tot.loc[(tot["value"] - s).abs().idxmin(), "province_code"] for s in raw["score"]]
    assert len(set(code)) == 63 and np.allclose(tot.set_index("province_code").loc[code, "value"], raw["score"], atol=1e-4)
    return code


def test_own_se_is_the_workbooks_standard_error_and_the_root_of_its_variance(raw_2019, own):
    code = _codes(raw_2019, own)
    pub = own[own["year"] == 2019].set_index(["province_code", "indicator"])
    assert (pub["se_source"] == "published").all() and len(pub) == 63 * 9
    assert pub.loc[[(c, "total") for c in code], "se"].to_numpy() == pytest.approx(raw_2019["se"].to_numpy(), rel=1e-6)
    for k in range(1, 9):
        got = pub.loc[[(c, f"d{k}") for c in code], "se"].to_numpy()
        assert got == pytest.approx(np.sqrt(raw_2019[f"var{k}"].to_numpy()), rel=1e-6)


def test_other_years_carry_the_2019_se_and_say_across_which_break(own):
    bd = own[own["province_code"] == "74"].set_index(["year", "indicator"])
    base = bd.loc[(2019, "total"), "se"]
    assert bd.loc[(2020, "total"), "se_source"] == "carried" and bd.loc[(2020, "total"), "se_year"] == 2019
    assert bd.loc[(2020, "total"), "se"] == pytest.approx(base) and bd.loc[(2020, "total"), "comparable_with_se_year"]
    assert not bd.loc[(2022, "total"), "comparable_with_se_year"]  # the 2021 reshuffle lies between
    assert not bd.loc[(2022, "d8", ), "comparable_with_se_year"]
    assert bd.loc[(2016, "total"), "se"] == pytest.approx(base * 60 / 80)  # out of 60 before 2018
    assert set(own["se_source"]) <= {"published", "carried", "none"}


def test_the_variance_column_is_the_sampling_variance_of_the_dimension_mean(raw_2019):
    """Recomputed from the raw workbook: the reading 'variance of the mean, 10-point scale' is feasible for
    all 63 provinces; 'standard error' and 'variance of a 0-1 score' are infeasible for all 63."""
    sd = np.sqrt(raw_2019[[f"var{k}" for k in range(1, 9)]].to_numpy())
    se = raw_2019["se"].to_numpy()

    def implied(s):
        pairs = (s.sum(1) ** 2 - (s**2).sum(1)) / 2
        return (se**2 - (s**2).sum(1)) / (2 * pairs)

    r = implied(sd)
    assert ((r >= -1 / 7) & (r <= 1)).all() and (se < np.sqrt((sd**2).sum(1))).sum() == 26
    assert (se > (sd**2).sum(1)).all()  # as SEs the columns would sum below the total SE: impossible
    assert (implied(10 * sd) < -1 / 7).all()  # as variances of a 0-1 score: an impossible correlation
    got = dimension_variance_check(load_table("uncertainty"))
    assert got["feasible"].all() and (got["total_se"] < got["se_if_uncorrelated"]).sum() == 26
    assert sorted(got["implied_mean_correlation"]) == pytest.approx(sorted(r), abs=1e-6)


def test_a_rank_interval_recomputed_by_an_independent_simulation(own):
    """Bình Dương 2019: the critical value is the 95% quantile of max_j |D_j| / sigma_ij, D = e_j - e_i, here
    drawn from scipy's multivariate normal with the covariance of the differences (s_j^2 on the diagonal,
    s_i^2 everywhere), another generator and seed; the interval then follows by counting."""
    r = papi_rank_intervals(own, 2019)
    g = own[(own["year"] == 2019) & (own["indicator"] == "total")].set_index("province_code")
    i = g.index.get_loc("74")
    x, s = g["value"].to_numpy(), g["se"].to_numpy()
    others = np.arange(len(x)) != i
    cov = np.diag(s[others] ** 2) + s[i] ** 2
    sigma = np.sqrt(s[others] ** 2 + s[i] ** 2)
    d = stats.multivariate_normal(mean=np.zeros(others.sum()), cov=cov).rvs(size=100_000, random_state=np.random.RandomState(7))
    c = np.quantile(np.abs(d / sigma).max(axis=1), 0.95)
    mine = r.loc["74"]
    assert mine["critical_value"] == pytest.approx(c, abs=0.03)
    diff = x[others] - x[i]
    low, high = 1 + (diff - c * sigma > 0).sum(), len(x) - (diff + c * sigma < 0).sum()
    assert (mine["rank_low"], mine["rank_high"]) == (low, high)
    assert mine["rank_low"] <= mine["rank"] <= mine["rank_high"]


def test_rank_intervals_lie_between_pairwise_and_bonferroni(own):
    r = papi_rank_intervals(own, 2019)
    x, s, n = r["value"].to_numpy(), r["se"].to_numpy(), len(r)
    diff = x[None, :] - x[:, None]
    sigma = np.sqrt(s[:, None] ** 2 + s[None, :] ** 2)
    np.fill_diagonal(diff, 0)

    def interval(c):
        return 1 + (diff - c * sigma > 0).sum(1), n - (diff + c * sigma < 0).sum(1)

    (lo_b, hi_b), (lo_p, hi_p) = interval(stats.norm.ppf(1 - 0.05 / (2 * (n - 1)))), interval(stats.norm.ppf(0.975))
    assert (lo_b <= r["rank_low"]).all() and (r["rank_high"] <= hi_b).all()
    assert (r["rank_low"] <= lo_p).all() and (hi_p <= r["rank_high"]).all()
    joint = papi_rank_intervals(own, 2019, simultaneous=True)
    assert (joint["rank_low"] <= r["rank_low"]).all() and (joint["rank_high"] >= r["rank_high"]).all()
    assert joint["critical_value"].nunique() == 1 and joint["critical_value"].iloc[0] > r["critical_value"].max()


def test_rank_intervals_cover_the_true_ranks():
    """Known truth: 12 units, scores 0..11 with SEs 0.4-2; 300 samples. Each unit's true rank must lie in
    its 95% interval in at least ~95% of samples (the method guarantees it; MC slack 0.03)."""
    rng = np.random.default_rng(3)
    theta = np.arange(12.0)[::-1]
    se = np.linspace(0.4, 2.0, 12)
    true_rank = np.arange(1, 13)
    hits = np.zeros(12)
    for k in range(300):
        x = pd.Series(theta + rng.normal(0, se))
        r = rank_intervals(x, pd.Series(se), draws=2000, seed=k)
        hits += (r["rank_low"].to_numpy() <= true_rank) & (true_rank <= r["rank_high"].to_numpy())
    assert (hits / 300 >= 0.92).all()
    naive = rank_intervals(pd.Series(theta), pd.Series(se), draws=2000)
    assert (naive["rank"].to_numpy() == true_rank).all()


def test_rank_intervals_are_seeded_and_refuse_missing_standard_errors():
    x, s = pd.Series([3.0, 2.0, 1.0, 0.5]), pd.Series([0.5, 0.5, 0.5, 0.5])
    pd.testing.assert_frame_equal(rank_intervals(x, s, seed=1), rank_intervals(x, s, seed=1))
    tight = rank_intervals(x, s * 1e-6)
    assert (tight["rank_low"] == tight["rank"]).all() and (tight["rank_high"] == tight["rank"]).all()
    with pytest.raises(DataError, match="positive standard error"):
        rank_intervals(x, pd.Series([0.5, np.nan, 0.5, 0.5]))


def test_years_without_published_ses_use_one_pooled_se(own):
    """2024 has no published SEs: every province is judged with the median 2019 SE of the total (from the
    uncertainty table, not through own_se), rescaled 80 -> 80; d8 in 2016 does not exist, and a 60-point
    year rescales the median by 60/80."""
    from analysis.stats.uncertainty import year_se

    u = load_table("uncertainty")
    med = u[(u["indicator"] == "total") & (u["year"] == 2019)]["se"].median()
    g = year_se(own, 2024, "total")
    assert (g["se_source"] == "pooled").all() and g["se"].to_numpy() == pytest.approx(np.full(len(g), med), rel=1e-12)
    assert year_se(own, 2016, "total")["se"].to_numpy() == pytest.approx(np.full(63, med * 60 / 80), rel=1e-12)
    assert (year_se(own, 2019, "total")["se_source"] == "published").all()


def test_a_pooled_rank_interval_recomputed_by_an_independent_simulation(own):
    """Thái Nguyên 2024 (4th): with one SE s for all, the differences e_j - e_i have covariance
    s^2 (I + J); scipy's multivariate normal gives the critical value, counting gives the interval. With
    each province's 2019 SE carried instead it was [1, 43]; with the pooled SE it is [1, 15]."""
    r = papi_rank_intervals(own, 2024)
    assert (r["se_source"] == "pooled").all()
    code = r.index[r["province"] == "Thái Nguyên"][0]
    x, s = r["value"].to_numpy(), float(r["se"].iloc[0])
    i = r.index.get_loc(code)
    others = np.arange(len(x)) != i
    k = int(others.sum())
    cov = s**2 * (np.eye(k) + np.ones((k, k)))
    d = stats.multivariate_normal(mean=np.zeros(k), cov=cov).rvs(size=100_000, random_state=np.random.RandomState(11))
    c = np.quantile(np.abs(d).max(axis=1) / (s * np.sqrt(2)), 0.95)
    mine = r.loc[code]
    assert mine["critical_value"] == pytest.approx(c, abs=0.03)
    diff = x[others] - x[i]

    def interval(crit):
        return 1 + (diff - crit * s * np.sqrt(2) > 0).sum(), len(x) - (diff + crit * s * np.sqrt(2) < 0).sum()

    (lo_wide, hi_wide), (lo_tight, hi_tight) = interval(c + 0.03), interval(c - 0.03)  # Monte Carlo slack of the two critical values
    assert lo_wide <= mine["rank_low"] <= lo_tight and hi_tight <= mine["rank_high"] <= hi_wide
    assert (mine["rank"], mine["rank_low"], mine["rank_high"]) == (4, 1, 15)
