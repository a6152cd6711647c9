"""Provenance in every statistic (issue 9, part 5, the package side and notebook 09): counts by reliability,
the exclude_reliability parameter, marked points, the partial correlation against a second formula, a user
table in build_info.json and the run manifest, and credits only for the publishers whose values are in the run."""

from __future__ import annotations

import html

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import HOSTILE_FILE, HOSTILE_TABLE, drawn_points

from analysis import load_panel, load_table
from analysis.errors import DataError
from analysis.manifest import sha256_file
from analysis.panel import provenance
from analysis.stats.partial import partial_correlation


def test_counts_have_every_level_and_reject_unknown_ones():
    c = provenance.counts(["official", "official", "user", None, "derived"])
    assert c == {"n_official": 2, "n_compiled": 0, "n_reported": 0, "n_user": 1, "n_derived": 1}
    with pytest.raises(DataError, match="unknown reliability"):
        provenance.counts(["guessed"])
    assert provenance.summary(c) == "official 2, user 1, derived 1"


def test_pair_counts_count_both_values_of_complete_pairs():
    rx = pd.Series(["official", "user", "reported", None])
    ry = pd.Series(["official", "official", None, "official"])
    assert provenance.pair_counts(rx, ry) == {"n_official": 3, "n_compiled": 0, "n_reported": 0, "n_user": 1, "n_derived": 0}


def test_exclude_reliability_is_validated_and_applied(panel):
    with pytest.raises(DataError) as err:
        provenance.exclude(panel, ["reported", "press"])
    assert "exclude_reliability" in str(err.value) and "'press'" in str(err.value)
    kept = provenance.exclude(panel, ["reported", "user"])
    assert set(kept["reliability"]) == {"official", "compiled"}


def test_weakest_provenance_of_a_point():
    w = provenance.weakest(pd.Series(["official", "compiled", "official"]), pd.Series(["reported", "compiled", "derived"]))
    assert list(w) == ["reported", "compiled", "derived"]


def test_scatter_marks_user_and_reported_points_differently():
    from analysis.figures import provenance_scatter

    x = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    y = pd.Series([2.0, 1.0, 4.0, 3.0, 5.0])
    rx = pd.Series(["official", "official", "user", "official", "compiled"])
    ry = pd.Series(["official", "reported", "official", "official", "official"])
    fig, ax = plt.subplots()
    kind = provenance_scatter(ax, x, y, rx, ry, labels=pd.Series(["A", "B", "C", "D", "E"]))
    assert list(kind) == ["official", "reported", "user", "official", "compiled"]
    styles = {tuple(np.round(c.get_facecolor()[0][:3], 3)): len(c.get_offsets()) for c in ax.collections}
    assert len(styles) == 3  # the publisher's points, the press's, the researcher's: three looks
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["official / compiled", "reported (press, articles)", "researcher's table (user)",
                      "Theil-Sen line, descriptive (Kendall's τ +0.60)"]  # 8 concordant, 2 discordant pairs of 10
    assert sorted(t.get_text() for t in ax.texts) == ["A", "B", "C", "D", "E"]  # every point labelled
    plt.close(fig)


def precision_partial(d: pd.DataFrame) -> float:
    """Second, independent formula: -P_xy / sqrt(P_xx P_yy) with P the inverse of the correlation matrix."""
    p = np.linalg.inv(np.corrcoef(d.to_numpy(float), rowvar=False))
    return float(-p[0, 1] / np.sqrt(p[0, 0] * p[1, 1]))


def test_partial_correlation_equals_the_precision_matrix_formula():
    rng = np.random.default_rng(9)
    z = pd.DataFrame({"z1": rng.normal(size=40), "z2": rng.normal(size=40)})
    x = pd.Series(z["z1"] * 0.8 + rng.normal(size=40))
    y = pd.Series(z["z1"] * 0.5 - z["z2"] + 0.3 * x + rng.normal(size=40))
    for controls in (["z1"], ["z1", "z2"]):
        r = partial_correlation(x, y, z[controls])
        assert r["n"] == 40 and r["controls"] == len(controls)
        assert r["r"] == pytest.approx(precision_partial(pd.concat([x, y, z[controls]], axis=1)), abs=1e-12)
        assert r["ci_low"] < r["r"] < r["ci_high"]
    rs = partial_correlation(x, y, z[["z1"]], method="spearman")
    assert rs["r"] == pytest.approx(precision_partial(pd.concat([x, y, z["z1"]], axis=1).rank()), abs=1e-12)


def test_partial_correlation_p_value_against_statsmodels():
    """The t test on n - 2 - k degrees of freedom equals the OLS t test of x in y ~ x + z."""
    import statsmodels.api as sm

    rng = np.random.default_rng(4)
    z = pd.Series(rng.normal(size=34), name="z")
    x = pd.Series(z + rng.normal(size=34))
    y = pd.Series(0.4 * x + z + rng.normal(size=34))
    fit = sm.OLS(y, sm.add_constant(pd.concat([x.rename("x"), z], axis=1))).fit()
    assert partial_correlation(x, y, z)["p"] == pytest.approx(float(fit.pvalues["x"]), rel=1e-9)


def test_notebook_09_statistics_on_the_real_cross_section(panel):
    from analysis import services2025 as s

    provinces = load_table("provinces")
    cs = s.cross_section(panel, provinces)
    assert cs.cutoff == "2025-10-16" and len(cs.values) == 34
    xs, ys = [s.var(s.INDEX, k) for k in s.ONLINE], [s.var(s.INDEX, k) for k in s.OUTCOMES]
    t = s.pair_table(cs.values, cs.reliability, xs, ys)
    assert len(t) == 12 and set(t["n"]) == {34} and set(t["n_compiled"]) == {68}
    from scipy import stats

    row = t[(t["method"] == "spearman") & (t["x"] == "DVC766:clgq") & (t["y"] == "DVC766:mdhl")].iloc[0]
    assert row["r"] == pytest.approx(stats.spearmanr(cs.values["DVC766:clgq"], cs.values["DVC766:mdhl"])[0])
    part = s.partial_table(cs.values, cs.reliability, xs, ys, np.log10(cs.population))
    r = part[(part["method"] == "pearson") & (part["x"] == "DVC766:tttt") & (part["y"] == "DVC766:tdgq")].iloc[0]
    d = pd.concat([cs.values["DVC766:tttt"], cs.values["DVC766:tdgq"], np.log10(cs.population)], axis=1)
    assert r["r"] == pytest.approx(precision_partial(d), abs=1e-12)
    pv, prel, derived = s.papi_34(panel, provinces, 2024, ["d8", "d5"])
    assert len(pv) == 32 and set(derived["reliability"]) == {"derived"}
    across = s.pair_table(cs.values.join(pv), cs.reliability.join(prel), list(pv.columns), [s.var(s.INDEX, "total")])
    assert set(across["n"]) == {32} and set(across["n_derived"]) == {32} and set(across["n_compiled"]) == {32}
    # exclude_reliability: derived values out, or nothing left
    assert s.papi_34(panel, provinces, 2024, ["d8"], ["derived"])[0].empty
    with pytest.raises(DataError, match="no DVC766 cross-section"):
        s.cross_section(panel, provinces, exclude_reliability=["compiled"])


def test_notebook_09_flags_revised_scores_and_tests_each_variant(panel):
    """Scores that jump by more than 10% of a component's maximum in five days are flagged (recomputed from
    the two snapshots here); a pair significant at one cut-off only is reported as such; the detectable r
    is the one at the first Holm step (0.05 / number of pairs), checked against Fisher z written out."""
    from scipy import stats

    from analysis import services2025 as s

    provinces = load_table("provinces")
    early, late = s.cross_section(panel, provinces, "2025-10-11"), s.cross_section(panel, provinces, "2025-10-16")
    flagged = s.revisions(early, late, 10.0)
    for bad in (-5.0, 0, 101, "ten"):
        with pytest.raises(DataError, match="revision_share"):
            s.revisions(early, late, bad)
    comps = [c for c in late.values.columns if not c.endswith(":total")]
    maxima = {c: {"clgq": 12, "tttt": 10, "mdsh": 22, "mdhl": 18, "tdgq": 20, "ckmb": 18}[c.split(":")[1]] for c in comps}
    moved = (late.values[comps] - early.values[comps]).abs()
    expected = {(code, c) for c in comps for code in moved.index[moved[c] > 0.1 * maxima[c]]}
    assert set(zip(flagged["province_code"], flagged["variable"], strict=True)) == expected
    assert set(flagged["province"]) == {"Quảng Ngãi", "Khánh Hòa", "Điện Biên"}
    xs, ys = [s.var(s.INDEX, k) for k in s.ONLINE], [s.var(s.INDEX, k) for k in s.OUTCOMES]
    a, b = (s.pair_table(c.values, c.reliability, xs, ys) for c in (late, early))
    sens = s.sensitivity({"late": a, "early": b}).set_index(["method", "x", "y"])
    row = sens.loc[("spearman", "DVC766:clgq", "DVC766:mdhl")]
    assert row["p_holm (late)"] < 0.05 < row["p_holm (early)"] and row["significant"] == "in some variants only"
    assert (sens.loc["pearson", "significant"] == "in none").all()
    k = (stats.norm.ppf(1 - 0.05 / 6 / 2) + stats.norm.ppf(0.8)) / np.sqrt(34 - 3)
    pear, spear = a[a["method"] == "pearson"], a[a["method"] == "spearman"]
    assert pear["min_detectable_r"].to_numpy() == pytest.approx(np.tanh(k)) and 0.55 < np.tanh(k) < 0.56
    r = spear["min_detectable_r"].iloc[0]  # critical value under the null, spread under the alternative (Bonett-Wright)
    za, zb = stats.norm.ppf(1 - 0.05 / 6 / 2), stats.norm.ppf(0.8)
    assert np.arctanh(r) * np.sqrt(34 - 3) == pytest.approx(za + zb * np.sqrt(1 + r**2 / 2), rel=1e-9)
    assert np.tanh(k) < r < 0.57


def test_notebook_09_influence_recomputed_without_the_outlying_provinces(panel):
    """Tukey's fences on the online-services component, the rank correlation without those provinces
    (scipy) and the Holm step over the six pairs, and the leave-one-out range."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    from analysis import services2025 as s

    cs = s.cross_section(panel, load_table("provinces"), "2025-10-16")
    xs, ys = [s.var(s.INDEX, k) for k in s.ONLINE], [s.var(s.INDEX, k) for k in s.OUTCOMES]
    infl = s.influence(cs.values, cs.reliability, xs, ys).set_index(["method", "x", "y"])
    x = cs.values["DVC766:clgq"]
    q1, q3 = np.percentile(x, [25, 75])
    out = x[(x < q1 - 1.5 * (q3 - q1)) | (x > q3 + 1.5 * (q3 - q1))].index
    row = infl.loc[("spearman", "DVC766:clgq", "DVC766:mdhl")]
    assert set(row["outlying_on_x"].split("; ")) == set(out) and len(out) == 4
    kept = cs.values.drop(index=out)
    rho, p = stats.spearmanr(kept["DVC766:clgq"], kept["DVC766:mdhl"])
    assert row["r_without"] == pytest.approx(rho) and row["p_without"] == pytest.approx(p, rel=1e-6)
    sp = infl.loc["spearman"]
    assert sp["p_holm_without"].to_numpy() == pytest.approx(multipletests(sp["p_without"], method="holm")[1])
    loo = [stats.spearmanr(cs.values.drop(index=[c])["DVC766:clgq"], cs.values.drop(index=[c])["DVC766:mdhl"])[0] for c in cs.values.index]
    assert (row["r_leave_one_out_min"], row["r_leave_one_out_max"]) == pytest.approx((min(loo), max(loo)))
    assert row["p_holm"] < 0.05 < row["p_holm_without"]  # the significant pair rests on the four provinces


# ---- a researcher's table in build_info.json, the run manifest and the site ---------------------------


def test_user_table_in_build_info_and_run_manifest(hostile_build):
    processed, result = hostile_build
    tables = result.info["user_tables"]
    assert len(tables) == 1
    t = tables[0]
    path = next(p for p in (processed.parent / "user").iterdir() if p.name == HOSTILE_FILE)
    assert t["file"] == HOSTILE_FILE and t["sha256"] == sha256_file(path) and t["mapping"] is None
    assert t["rows"] == len(HOSTILE_TABLE.strip().splitlines()) - 1 == 6
    assert t["rows_in_panel"] == 5  # the sixth, Bình Dương's PAPI 2020, is a second opinion on an official value
    from analysis.panel.io import current_build
    from analysis.runner.run import _data_provenance

    assert _data_provenance(current_build(processed))["user_tables"] == tables


def test_credits_name_only_publishers_in_the_data():
    from analysis.site import credits

    panel = load_panel()
    only_papi = panel[(panel["index"] == "PAPI") & panel["reliability"].isin(["official", "compiled"])]
    text = "; ".join(credits(only_papi))
    assert "CECODES" in text and "VCCI" not in text and "press" not in text and "DVC766" not in text
    full = "; ".join(credits(panel))
    assert "VCCI and USAID" in full and "National Public Service Portal" in full
    vi = "; ".join(credits(panel, "vi"))  # issue 19.5: Vietnamese names only, the quoted-values phrase said once
    assert "Cổng Dịch vụ công quốc gia" in vi and "VCCI và USAID" in vi and "Ministry" not in vi and "(Government" not in vi
    assert vi.count("trích dẫn") == 1 and full.count("quoted") == 1 and vi.count("*") == full.count("*") > 2


def test_site_footer_and_home_sources_list_the_users_table(hostile_build, hostile_site, monkeypatch):
    page = (hostile_site / "provinces" / "74-en.html").read_text(encoding="utf-8")
    footer = page[page.index("<footer>"):page.index("</footer>")]
    assert "researcher&#39;s tables: " + html.escape(HOSTILE_FILE) in footer and "<img" not in footer
    assert "CECODES" in footer and "VCCI and USAID" in footer
    from analysis.site import used_sources

    processed, _ = hostile_build
    monkeypatch.setenv("VNGOV_PROCESSED_DIR", str(processed))
    used = used_sources(load_panel(processed))
    assert [u["file"] for u in used["user"]] == [HOSTILE_FILE] and used["user"][0]["rows"] == 6
    ids = {s["id"] for s in used["data"]}
    assert {"papi_official_2011_2019", "dvc766_2025_t10", "dvc766_2025_thang10", "news_reported"} <= ids
    assert {"gso_units", "boundaries_34"} <= {s["id"] for s in used["reference"]}


# ---- one marker convention in every figure (issue 19.6): notebook 02 with a researcher's PAR INDEX rows ----------------


def run_in_process(name: str, parameters: dict, panel: pd.DataFrame, monkeypatch, tmp_path) -> dict:
    """Execute a notebook's code cells in this process (parameters cell, then `parameters` over it) with
    `analysis.load_panel` returning `panel` and `save_figure` keeping each figure and its data, so a test can
    read the drawn artists back. Returns {figure name: (figure, data)}."""
    import nbformat

    import analysis
    import analysis.notebook
    from analysis import paths

    figures = {}
    monkeypatch.setenv("VNGOV_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setattr(analysis, "load_panel", lambda: panel)
    monkeypatch.setattr(analysis.notebook, "save_figure", lambda fig, fname, nb, data, **kw: figures.__setitem__(fname, (fig, data)))
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    nb = nbformat.read(paths.project_root() / "notebooks" / name, as_version=4)
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        exec(compile(cell.source, f"{name}:cell", "exec"), ns)  # noqa: S102 - the project's own notebook
        if "parameters" in cell.metadata.get("tags", []):
            ns.update(parameters)
    return figures


def test_notebook_02_marks_a_researchers_points_as_theirs(panel, monkeypatch, tmp_path):
    """Issue 19.6: in notebook 02 with focus_year 2023, 13 of 18 PAR INDEX points were the researcher's and all
    were drawn as the same circle. With the researcher's rows in memory, the scatter of the top pair draws each
    point in the marker of its weakest provenance (read back from the collections), the legend names the
    researcher's values, and the figure's data says how each point was marked."""
    from analysis.registry import Registry

    reg = Registry(load_table("provinces"))
    par = panel[(panel["index"] == "PAR_INDEX") & (panel["indicator"] == "total") & (panel["date"] == "") & (panel["year"] == 2023)]
    papi = panel[(panel["index"] == "PAPI") & (panel["indicator"] == "d8") & (panel["year"] == 2023)]
    free = [c for c in papi["province_code"] if c not in set(par["province_code"]) and c != "00"][:13]
    rng = np.random.default_rng(6)
    template = par.iloc[0]
    user = pd.DataFrame([template.to_dict() | {"province_code": c, "province": reg.name(c), "value": float(v), "reliability": "user",
                                               "source_id": "user:mine.csv", "rank": pd.NA, "rank_of": pd.NA}
                         for c, v in zip(free, rng.uniform(78, 92, len(free)), strict=True)])
    with_user = pd.concat([panel, user.astype(panel.dtypes.to_dict())], ignore_index=True)
    figures = run_in_process("02_correlation.ipynb", {"x": ["PAPI:d8"], "y": ["PAR_INDEX:total"], "years": [2023], "focus_year": 2023},
                             with_user, monkeypatch, tmp_path)
    fig, data = figures["scatter_top_pairs"]
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert provenance.marker_label("user") in legend and provenance.marker_label("reported") in legend
    points = drawn_points(ax)
    assert len(points) == len(data) == len(par[par["province_code"].isin(papi["province_code"])]) + len(free)
    marked = {(round(float(r.x), 9), round(float(r.y), 9)): r.marked_as for r in data.itertuples()}
    for x, y, kinds in points:
        assert marked[(round(x, 9), round(y, 9))] in kinds
    assert sum(k == {"user"} for _, _, k in points) == len(free) and sum(k == {"reported"} for _, _, k in points) >= 1
    assert (data["reliability_y"] == "user").sum() == len(free) and (data["marked_as"] == data["reliability_y"]).all()
    plt.close("all")


def test_provenance_points_draw_every_kind_and_refuse_an_unknown_one():
    from analysis.figures import provenance_points

    fig, ax = plt.subplots()
    kinds = pd.Series(["official", "compiled", "reported", "user", "derived"])
    labels = provenance_points(ax, pd.Series(range(5), dtype=float), pd.Series(range(5), dtype=float), kinds, "vi", prefix="Tỉnh khác: ")
    assert labels == [f"Tỉnh khác: {provenance.marker_label(k, 'vi')}" for k in ["official", "reported", "user", "derived"]]
    assert "Tỉnh khác: số liệu do người nghiên cứu bổ sung" in labels
    assert [k for _, _, k in drawn_points(ax)] == [{"official", "compiled"}] * 2 + [{"reported"}, {"user"}, {"derived"}]
    with pytest.raises(DataError, match="known reliability"):
        provenance_points(ax, pd.Series([1.0]), pd.Series([1.0]), pd.Series(["guessed"]))
    plt.close(fig)
