"""Every analysis runs on every index it offers (issue 19.7): each analysis notebook whose parameters name
an index or indicator is run (papermill, kernel vngov-indices, short year ranges) on indices other than its
default, and must end either with a result (results.json written) or with the package's DataError that
starts "too few values" -- never a traceback from pandas, numpy or a solver.

The combinations are chosen for the code paths they reach, not as a Cartesian product (the file runs in
about two minutes on two cores):

- an index known only from press reports (PAR INDEX, SIPAS: a handful of provinces a year, ranks quoted in
  some years only): 02, 03, 04, 05, 07, 08. This is where notebook 03 failed ("cannot convert NA to
  integer" in rank_changes, a StopIteration in the 2021 sensitivity because the codebook does not split PAR
  INDEX at 2021, a screen of no steps without columns) and 05 and 04 failed (no national means; a model
  on one province);
- the same index with a researcher's own rows (PAR INDEX 2023 for 13 provinces, a temporary build): 03;
- a full-panel indicator the default does not use: PAPI d1.2 in 03 (the codebook does not break it at 2021,
  so the sensitivity splits rather than joins), PCI in 02 and 04;
- a compiled index whose first year is the sensitivity year: DTI in 03 (resegment made an empty segment);
- the indices with derived values (the 63 -> 34 aggregation of the 766 index in 07 and 10) and the 2025
  online-service components and PAPI outcomes of 09 other than their defaults;
- an indicator with too few values for the analysis: ONLINE_SERVICES in 03 and 04 (the DataError);
- 08 with only the sparse indices, and with an index of two values.
06 (a province card) and explore.ipynb (the explorer's own tests) are not analyses over an index list."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest
from papermill.exceptions import PapermillExecutionError

from analysis import paths
from analysis.stats.common import TOO_FEW_VALUES

COMBOS = [
    ("03_trends.ipynb", {"index": "PAR_INDEX", "indicator": "total"}, "result"),
    ("03_trends.ipynb", {"index": "SIPAS", "indicator": "total", "years": [2017, 2018, 2019, 2021, 2022, 2023, 2024]}, "result"),
    ("03_trends.ipynb", {"index": "PAPI", "indicator": "d1.2", "years": [2018, 2019, 2020, 2021, 2022, 2023]}, "result"),
    ("03_trends.ipynb", {"index": "DTI", "indicator": "total", "years": [2021, 2022, 2023, 2024]}, "result"),
    ("03_trends.ipynb", {"index": "ONLINE_SERVICES", "indicator": "online_dossier_share"}, "too few"),
    ("02_correlation.ipynb", {"x": ["PAPI:d8", "PAPI:total"], "y": ["PAR_INDEX:total", "SIPAS:total"], "years": [2022, 2023, 2024],
                              "focus_year": 2023}, "result"),
    ("02_correlation.ipynb", {"x": ["PCI:total"], "y": ["DVC766:total", "ICT_INDEX:total", "MIC_EGOV:total", "DTI:total"],
                              "years": [2016, 2017, 2018, 2019], "focus_year": 2019}, "result"),
    ("04_panel_models.ipynb", {"models": [{"name": "PAR INDEX on PAPI", "y": "PAR_INDEX:total", "x": ["PAPI:total"],
                                           "years": [2018, 2019, 2020, 2021, 2022, 2023], "standardize": False}],
                               "robustness_drop_years": [2020]}, "result"),
    ("04_panel_models.ipynb", {"models": [{"name": "SIPAS on PAR INDEX", "y": "SIPAS:total", "x": ["PAR_INDEX:total"],
                                           "years": [2019, 2020, 2021, 2022, 2023], "standardize": False}],
                               "robustness_drop_years": []}, "too few"),
    ("05_online_services.ipynb", {"indicators": ["PAR_INDEX:total", "SIPAS:total", "DTI:total"]}, "result"),
    ("07_maps.ipynb", {"index": "PAR_INDEX", "indicator": "total"}, "result"),
    ("07_maps.ipynb", {"index": "DVC766", "indicator": "total", "language": "vi"}, "result"),
    ("08_validation.ipynb", {"indices": ["PAR_INDEX", "SIPAS"]}, "result"),
    ("08_validation.ipynb", {"indices": ["ONLINE_SERVICES"]}, "result"),
    ("09_online_services_2025.ipynb", {"online": ["clgq", "mdsh"], "outcomes": ["tdgq"], "papi_indicators": ["total", "d5"],
                                       "papi_year": 2023, "draws": 199}, "result"),
    ("10_online_services_trends.ipynb", {"years": [2023, 2024], "dti_measures": ["digital_infrastructure"],
                                         "papi_outcomes": ["total"], "draws": 199}, "result"),
]


def execute(tmp_path, monkeypatch, name: str, parameters: dict, env: dict | None = None) -> tuple[str, dict | None, Exception | None]:
    """Run one notebook as tests/test_notebook_parameters.py does (its `run`, which returns only the text) and
    return (printed text, results.json or None, the execution error or None)."""
    monkeypatch.setenv("VNGOV_OUTPUT_DIR", str(tmp_path / "out"))
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    out = tmp_path / name
    error = None
    try:
        pm.execute_notebook(str(paths.project_root() / "notebooks" / name), str(out), parameters=parameters, kernel_name="vngov-indices",
                            cwd=str(paths.project_root() / "notebooks"), progress_bar=False, execution_timeout=300)
    except PapermillExecutionError as e:
        error = e
    nb = json.loads(out.read_text(encoding="utf-8"))
    text = "\n".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))
    results = tmp_path / "out" / "results.json"
    return text, (json.loads(results.read_text(encoding="utf-8")) if results.exists() else None), error


def check(outcome: str, results: dict | None, error: Exception | None) -> None:
    """A result, or the clear refusal; anything else is a failure that shows the notebook's own traceback."""
    if outcome == "result":
        assert error is None, f"expected a result, got {getattr(error, 'ename', '')}: {getattr(error, 'evalue', error)}"
        assert results is not None
    else:
        assert error is not None and results is None, "expected the 'too few values' refusal, got a result"
        assert error.ename == "DataError" and error.evalue.startswith(TOO_FEW_VALUES), f"{error.ename}: {error.evalue}"


KNOWN = [
    # 01's check cell read coverage.loc["PAPI", 2021] whatever `indices` held (KeyError 'PAPI'); fixed, kept as a case
    pytest.param("01_data_overview.ipynb", {"indices": ["PAR_INDEX", "SIPAS"]}, "result", id="01-list-result"),
]


@pytest.mark.parametrize(("name", "parameters", "outcome"), [
    *(pytest.param(n, p, k, id=f"{n.split('_')[0]}-{'-'.join(str(v) for v in p.values() if isinstance(v, str)) or 'list'}-{k}")
      for n, p, k in COMBOS), *KNOWN])
def test_notebook_runs_on_every_index_it_offers(tmp_path, monkeypatch, name, parameters, outcome):
    _, results, error = execute(tmp_path, monkeypatch, name, parameters)
    check(outcome, results, error)


def test_trends_on_par_index_say_what_they_rest_on(tmp_path, monkeypatch):
    """Notebook 03 on PAR INDEX (press values, a few provinces a year): provenance and coverage printed with the
    caveat on z-scores among a few provinces, rank mobility between two years that share ranked provinces,
    and the 2021 sensitivity measured on the codebook's own (joined) segment."""
    text, results, error = execute(tmp_path, monkeypatch, "03_trends.ipynb", {"index": "PAR_INDEX", "indicator": "total"})
    assert error is None
    assert "values: reported" in text and "CAVEAT: some years have values for only" in text
    first, last = results["mobility_years"]
    ranks = pd.DataFrame(results["rank_changes"])
    assert first < last and (ranks.empty or (ranks["n_both"] >= 2).all())
    assert [list(g) for g in results["segments"]] == [[2012, 2013, 2014, 2015, 2016, 2018, 2019, 2020, 2021, 2022, 2023, 2024]]


# ---- a researcher's own PAR INDEX rows (issue 19.6/19.7: 13 of 18 points in 2023 were the researcher's) -----------

USER_PAR_2023 = ["Bình Phước", "Bình Dương", "Đồng Nai", "Tây Ninh", "Long An", "Cần Thơ", "Hậu Giang", "Sóc Trăng", "Bạc Liêu",
                 "Cà Mau", "Kiên Giang", "An Giang", "Đồng Tháp"]


def user_par_table() -> str:
    """A researcher's table of PAR INDEX 2023 totals (% of the maximum) for 13 provinces, in the template."""
    rng = np.random.default_rng(19)
    rows = [f"{p},2023,PAR_INDEX,total,{v:.2f},percent,my transcription of the 2023 report,"
            for p, v in zip(USER_PAR_2023, rng.uniform(78, 92, len(USER_PAR_2023)), strict=True)]
    return "province,year,index,indicator,value,unit,source,note\n" + "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def user_par_build(tmp_path_factory):
    """A full build with the researcher's PAR INDEX table in a temporary user folder; returns the processed
    folder (the kernel reads it through VNGOV_PROCESSED_DIR)."""
    from analysis.panel.build import build

    tmp = tmp_path_factory.mktemp("user-par")
    (tmp / "user").mkdir()
    (tmp / "user" / "par_2023.csv").write_text(user_par_table(), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("VNGOV_USER_DIR", str(tmp / "user"))
    mp.setenv("VNGOV_PROCESSED_DIR", str(tmp / "processed"))
    try:
        build(progress=False, fetch=False)
    finally:
        mp.undo()
    return tmp / "processed"


def test_trends_on_par_index_with_the_researchers_rows(tmp_path, monkeypatch, user_par_build):
    """With or without user data (the issue says both failed): with the researcher's 13 rows of 2023 the run
    ends with a result and counts them as the researcher's, never as published values."""
    text, results, error = execute(tmp_path, monkeypatch, "03_trends.ipynb", {"index": "PAR_INDEX", "indicator": "total"},
                                   env={"VNGOV_PROCESSED_DIR": str(user_par_build)})
    check("result", results, error)
    m = re.search(r"values: reported \d+, user (\d+);", text)  # the series' provenance line names and counts them
    assert m and 0 < int(m.group(1)) <= len(USER_PAR_2023)  # a province-year published by the press keeps the press value
    assert any("user" in str(t["reliability"]) for t in results["trends"])


# ---- the package functions behind the failures, on small frames ------------------------------------------------------


def _rows(values: dict[tuple[str, int], tuple[float, float | None]]) -> pd.DataFrame:
    return pd.DataFrame([{"province_code": p, "province": f"P{p}", "year": y, "value": v, "rank": r,
                          "rank_of": None if r is None else 10, "reliability": "reported"} for (p, y), (v, r) in values.items()])


def test_rank_changes_leave_out_values_quoted_without_a_rank():
    from analysis.stats.trends import rank_changes

    s = _rows({("01", 2019): (80, 1), ("02", 2019): (70, 5), ("03", 2019): (60, None),
               ("01", 2023): (85, 2), ("02", 2023): (90, 1), ("03", 2023): (95, 3)})
    out = rank_changes(s, 2019, 2023)
    assert list(out.index) == ["02", "01"] and out["n_both"].eq(2).all() and out.attrs["ranked_both"] == 2
    assert out.loc["02", "pct_change"] == 100.0
    empty = rank_changes(s[s["province_code"] != "02"], 2019, 2023)
    assert empty.empty and "pct_change" in empty and empty.attrs["ranked_both"] == 1


def test_resegment_at_a_segments_first_year_and_the_joined_segment():
    from analysis.stats.trends import joined_segment, resegment

    assert resegment([[2021], [2022, 2023]], 2021) == [[2021], [2022, 2023]]  # nothing before 2021 to join or split off
    assert resegment([[2018, 2019, 2020], [2021, 2022]], 2021) == [[2018, 2019, 2020, 2021, 2022]]
    assert resegment([[2018, 2019, 2020, 2021, 2022]], 2021) == [[2018, 2019, 2020], [2021, 2022]]
    joined = [[2018, 2019, 2020, 2021, 2022]]
    split = [[2018, 2019, 2020], [2021, 2022]]
    assert joined_segment(split, joined, 2021) == joined[0] == joined_segment(joined, split, 2021)  # PAPI's case and PAR INDEX's
    assert joined_segment([[2021, 2022]], [[2021, 2022]], 2021) is None


def test_screen_of_a_series_too_sparse_to_judge_has_its_columns():
    from analysis.stats.breaks import screen, step_summary

    panel = _rows({(f"{p:02d}", y): (50 + p, p) for p in range(1, 4) for y in (2019, 2020)}).assign(
        index="PAR_INDEX", indicator="total", scale_max=100.0, date="", vintage="gso-2008")
    out = screen(panel, ["PAR_INDEX"], draws=100)
    assert out.empty and {"indicator", "rank_z", "lasting", "flagged"} <= set(out.columns) and out.attrs["judged"] == 0
    assert step_summary(out).empty and "median_leaf_rank_z" in step_summary(out)


def test_require_values_names_what_there_is():
    from analysis.errors import DataError
    from analysis.stats.common import require_values

    s = _rows({("01", 2024): (10, None), ("02", 2024): (12, None)})
    assert require_values(s, "PAR_INDEX", "total", min_years=1, min_provinces=2) is s
    with pytest.raises(DataError, match=r"^too few values: .*provinces per year: 2024: 2\); a trend needs at least 2 provinces in each of 2 years"):
        require_values(s, "PAR_INDEX", "total", min_years=2, min_provinces=2, purpose="a trend")


def test_every_analysis_notebook_with_an_index_parameter_is_covered():
    """A new analysis notebook whose parameters name an index or indicator must be added to COMBOS."""
    covered = {name for name, _, _ in COMBOS} | {p.values[0] for p in KNOWN}
    keys = ("index", "indicator", "indices", "x", "y", "models", "indicators", "online", "papi_indicators", "dti_measures", "papi_outcomes")
    for path in sorted((paths.project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if path.name == "06_report_card.ipynb":  # a card for one province, not an analysis over an index list
            continue
        nb = nbformat.read(path, as_version=4)
        params = next((c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])), "")
        names = {line.split("=")[0].strip() for line in params.splitlines() if "=" in line and not line.startswith((" ", "#"))}
        if names & set(keys):
            assert path.name in covered, f"{path.name} takes {sorted(names & set(keys))} but is not run over other indices here"
