"""A researcher's rows sit beside the official results and can never change them (issue 8, items 4, 5 and
9): ranks, rank_of and quartiles come only from the publisher's rows; every CSV the package writes shows a
formula-looking text cell as text; lock files in the user folder are noted, not fatal."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from conftest import HOSTILE_FILE, HOSTILE_IMG, HOSTILE_SCRIPT
from scipy.stats import rankdata

from analysis.panel.build import add_ranks


def read_csv_cells(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_user_rows_never_change_official_ranks(hostile_build):
    """Second, independent computation (scipy rankdata over the official/compiled rows only): every
    computed rank, rank_of and quartile of PAPI and PCI equals it, with the user rows present."""
    _, result = hostile_build
    panel = result.panel
    full = panel[panel["index"].isin(["PAPI", "PCI"]) & (panel["province_code"] != "00") & ~panel["indicator"].str.endswith("_rank")]
    official = full[full["reliability"].isin(["official", "compiled"])]
    expected_rank, expected_of = {}, {}
    for _, g in official.groupby(["index", "indicator", "year", "date"]):
        ranks = rankdata(-g["value"].to_numpy(), method="min")
        expected_rank.update(dict(zip(g.index, ranks, strict=True)))
        expected_of.update(dict.fromkeys(g.index, len(g)))
    assert (official["rank"].astype(int) == official.index.map(expected_rank)).all()
    assert (official["rank_of"].astype(int) == official.index.map(expected_of)).all()
    quart = [math.ceil(4 * r / n) for r, n in zip(official["rank"], official["rank_of"], strict=True)]
    assert (official["quartile"].astype(int).to_numpy() == np.array(quart)).all()
    # the published counts of the headline scores, whatever the user folder holds
    totals = official[(official["index"] == "PAPI") & (official["indicator"] == "total")]
    assert set(totals.loc[totals["year"] == 2020, "rank_of"]) == {63}
    assert set(totals.loc[totals["year"] == 2018, "rank_of"]) == {61}  # no Quảng Ninh, no Đồng Tháp
    # the user's values are in the panel, unranked
    user = full[full["reliability"] == "user"]
    assert len(user) == 2  # Quảng Ninh PAPI 2018 (unpublished) and the lone PCI 2024
    assert user["rank"].isna().all() and user["rank_of"].isna().all() and user["quartile"].isna().all()


def test_lone_user_pci_value_is_not_ranked_one_of_one(hostile_build):
    _, result = hostile_build
    p = result.panel
    row = p[(p["index"] == "PCI") & (p["year"] == 2024) & (p["province_code"] == "74")].iloc[0]
    assert row["reliability"] == "user" and row["value"] == 70.1
    assert pd.isna(row["rank"]) and pd.isna(row["rank_of"]) and pd.isna(row["quartile"]) and pd.isna(row["rank_basis"])


def test_official_value_kept_over_the_users_and_compared(hostile_build):
    _, result = hostile_build
    p = result.panel
    row = p[(p["index"] == "PAPI") & (p["indicator"] == "total") & (p["year"] == 2020) & (p["province_code"] == "74")].iloc[0]
    assert row["reliability"] != "user" and row["value"] == pytest.approx(40.76, abs=0.005)
    assert (row["rank"], row["rank_of"]) == (57, 63)
    c = result.conflicts
    assert ((c["other_source_id"] == f"user:{HOSTILE_FILE}") & (c["year"] == 2020) & (c["other_value"] == 45.0)).any()


def test_no_quartile_below_four_ranked_units():
    panel = pd.DataFrame({
        "province_code": ["01", "02", "04", "01", "02", "04", "06"], "vintage": "gso-2008", "index": "PCI", "indicator": "total", "date": "",
        "year": [2030] * 3 + [2031] * 4, "value": [60.0, 50.0, 40.0, 60.0, 50.0, 40.0, 30.0],
        "reliability": "official", "rank": pd.array([pd.NA] * 7, dtype="Int64"), "rank_of": pd.array([pd.NA] * 7, dtype="Int64"),
    })
    out = add_ranks(panel)
    assert list(out["rank"]) == [1, 2, 3, 1, 2, 3, 4]
    assert out.loc[out["year"] == 2030, "quartile"].isna().all()
    assert list(out.loc[out["year"] == 2031, "quartile"]) == [1, 2, 3, 4]


def test_user_folder_lock_files_are_noted_not_fatal(hostile_build):
    processed, result = hostile_build
    ex = result.excluded
    notes = ex[ex["source_id"] == "user"]
    assert {n.rsplit("/", 1)[-1] for n in notes["file"]} == {"~$mine.xlsx", ".~lock.mine.csv#", "._mine.csv"}
    assert notes["reason"].str.contains("ignored").all()
    assert any("Excel lock file" in n for n in result.info["user_files_ignored"])
    assert (processed / "excluded.csv").read_text(encoding="utf-8").count("ignored") >= 3


def test_processed_csvs_neutralise_formulas_but_keep_numbers(hostile_build):
    processed, result = hostile_build
    rows = [r for r in read_csv_cells(processed / "indicators.csv") if r["source_id"] == f"user:{HOSTILE_FILE}"]
    hcm = next(r for r in rows if r["province_code"] == "79")
    assert hcm["source_ref"] == "'@SUM(A1)"
    assert hcm["note"].startswith("'=HYPERLINK(")
    assert hcm["value"] == "-0.4"  # a number, untouched
    assert next(r for r in rows if r["index"] == "PCI")["source_ref"] == "'-my PCI 2024 guess"
    assert next(r for r in rows if r["province_code"] == "22")["source_ref"] == "'+my transcription"
    assert next(r for r in rows if r["index"] == "MY_SURVEY" and r["province_code"] == "74")["source_ref"] == HOSTILE_SCRIPT
    # the parquet keeps the exact text
    p = result.panel
    assert (p["source_ref"] == "@SUM(A1)").any()
    for name in ("crosschecks", "conflicts"):
        cells = [c for r in read_csv_cells(processed / f"{name}.csv") for c in r.values() if c]
        assert not any(c.startswith(("=", "+", "@")) for c in cells), name
        assert not any(c.startswith("-") and not _is_number(c) for c in cells), name


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_site_csvs_neutralise_formulas(hostile_site):
    rows = read_csv_cells(hostile_site / "provinces" / "79.csv")
    mine = next(r for r in rows if r["index"] == "MY_SURVEY")
    assert mine["source_ref"] == "'@SUM(A1)" and mine["value"] == "-0.4"
    data = read_csv_cells(hostile_site / "data" / "indicators.csv")
    assert any(r["source_ref"] == "'@SUM(A1)" for r in data)


def test_release_csvs_neutralise_formulas(hostile_build, tmp_path, monkeypatch):
    from analysis.release import build_release

    processed, _ = hostile_build
    monkeypatch.setenv("VNGOV_PROCESSED_DIR", str(processed))
    release = build_release(dist=tmp_path / "dist")
    rows = read_csv_cells(release / "indicators.csv")
    hcm = next(r for r in rows if r["index"] == "MY_SURVEY" and r["province_code"] == "79")
    assert hcm["source_ref"] == "'@SUM(A1)" and hcm["note"].startswith("'=HYPERLINK(") and hcm["value"] == "-0.4"


def test_figure_data_csv_neutralises_formulas(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.notebook import save_figure

    monkeypatch.setenv("VNGOV_OUTPUT_DIR", str(tmp_path))
    fig, ax = plt.subplots()
    data = pd.DataFrame({"label": ["=1+1", "@A1", "ok"], "value": [-1.5, 2.0, 3.0]}).set_index("label")
    save_figure(fig, "t", "nb", data=data, display=False)
    rows = read_csv_cells(tmp_path / "figures" / "t.csv")
    assert [r["label"] for r in rows] == ["'=1+1", "'@A1", "ok"]
    assert [r["value"] for r in rows] == ["-1.5", "2.0", "3.0"]


def test_card_markdown_escapes_text_from_data_for_any_renderer(hostile_build):
    """The card notebook shows render() through IPython's Markdown, which nbconvert and JupyterLab render
    with raw HTML allowed: the Markdown itself must carry the researcher's text as literal text."""
    import mistune

    from analysis.report_card import _md, build_card, render

    _, result = hostile_build
    card = build_card(result.panel, result.provinces, "Bình Dương", 2024)
    # issue 17.2: the researcher's indices are not on the official card at all; the publishers' are
    assert "PCI" in set(card.others["index"]) and not {"MY_SURVEY", "MY_OTHER"} & set(card.others["index"])
    for lang in ("vi", "en"):
        html = mistune.html(render(card, lang))  # raw HTML allowed, as in nbconvert
        assert "<script" not in html and "<img" not in html and "pwned" not in html
    # the escaping every text from data goes through on a card (names, sources) keeps markup literal
    html = mistune.html(_md(HOSTILE_SCRIPT) + " " + _md(HOSTILE_IMG))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;window.__pwned=2;document.title='pwned'&lt;/script&gt;" in html.replace("&#x27;", "'")


def test_card_cli_and_notebook_refuse_a_year_only_the_researcher_covers(hostile_build, monkeypatch):
    """Issue 19.10: one rule for the command and notebook 06. PCI 2024 of Bình Dương exists only as the researcher's
    value: both refuse it, say it is the researcher's, and name the years with a published value; neither falls
    back to another year unless asked, and then the card says so."""
    import os
    import subprocess
    import sys

    import papermill

    from analysis import paths
    from analysis.errors import DataError
    from analysis.report_card import build_card, render

    processed, result = hostile_build
    env = os.environ | {"VNGOV_PROCESSED_DIR": str(processed)}
    cli = subprocess.run([sys.executable, "-m", "analysis", "card", "--province", "binh duong", "--year", "2024", "--index", "PCI",
                          "--format", "md"], capture_output=True, text=True, env=env, timeout=120)
    assert cli.returncode == 2
    assert "PCI 2024 for Bình Dương exists only as your own value" in cli.stderr and "Years with a published value: 2005" in cli.stderr
    nb = paths.project_root() / "notebooks" / "06_report_card.ipynb"
    out = processed.parent / "06-refused.ipynb"
    monkeypatch.setenv("VNGOV_PROCESSED_DIR", str(processed))  # the kernel inherits it
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(nb), str(out), parameters={"year": 2024, "index": "PCI"}, kernel_name="vngov-indices",
                                   progress_bar=False, cwd=str(nb.parent))
    assert "exists only as your own value" in str(err.value) and "Years with a published value: 2005" in str(err.value)
    with pytest.raises(DataError, match="no published PAPI value for Bình Dương in 2023"):  # no value at all: refused too
        build_card(result.panel, result.provinces, "Bình Dương", 2023)
    stated = build_card(result.panel, result.provinces, "Bình Dương", 2023, fallback=True)
    assert stated.year == 2022 and "no published score in 2023; this card uses 2022" in render(stated, "en")
