"""Issue 19.8 and 19.11 (runner parts): one notebook run alone is a partial run that leaves the published site
(reports/latest) as it was; `run NAME -p k=v` applies the parameter and refuses an unknown one naming the
notebook's parameters; papermill does not call an applied parameter unknown; errors have a line of their own in
a log; the executed notebooks' HTML loads nothing from a CDN.

One real partial run (notebook 09 with a non-default cut-off and few bootstrap draws, about 45 s with its site)
is shared by the tests of the module; reports go to a temporary folder (VNGOV_REPORTS_DIR), never reports/."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from analysis import load_panel, paths
from analysis.runner.config import analysis_notebooks, load_config, missing_analyses
from analysis.services2025 import cutoffs

ROOT = paths.project_root()
NB = "09_online_services_2025"


def _cli(args: list[str], env: dict[str, str], timeout: int = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          env=os.environ | env, timeout=timeout)


@pytest.fixture(scope="module")
def cutoff() -> str:
    """A cut-off of the 766 index other than the one notebook 09 takes by default (the latest)."""
    available = cutoffs(load_panel())
    default = str(available[available == available.max()].index.max())
    other = [str(c) for c in available.index if str(c) != default]
    assert other, "the panel has one 2025 cut-off only"
    return other[0]


@pytest.fixture(scope="module")
def partial(tmp_path_factory, cutoff):
    """A published site (a stand-in run folder that reports/latest points to), then `run 09 -p …` without -q
    (stderr is a pipe, as in a log)."""
    reports = tmp_path_factory.mktemp("partial") / "reports"
    published = reports / "runs" / "20000101T000000Z-published"
    (published / "site").mkdir(parents=True)
    (published / "site" / "index.html").write_text("<html><body>the full site: 63 provinces, every analysis</body></html>")
    (reports / "latest").symlink_to(os.path.relpath(published, reports))
    before = (reports / "latest" / "site" / "index.html").read_bytes()
    res = _cli(["run", NB, "-p", f"cutoff={cutoff}", "-p", "draws=99"], {"VNGOV_REPORTS_DIR": str(reports)})
    assert res.returncode == 0, res.stderr[-3000:]
    runs = [p for p in (reports / "runs").iterdir() if p != published]
    assert len(runs) == 1
    return {"reports": reports, "published": published, "before": before, "res": res, "run_dir": runs[0]}


def test_partial_run_leaves_the_published_site(partial):
    reports, run_dir = partial["reports"], partial["run_dir"]
    assert (reports / "latest").resolve() == partial["published"].resolve()
    assert (reports / "latest" / "site" / "index.html").read_bytes() == partial["before"]
    # its own folder with its own site, and the command says where they are
    assert (run_dir / NB / f"{NB}.html").is_file() and (run_dir / "site" / "index.html").is_file()
    out = partial["res"].stdout
    assert "partial run" in out and "reports/latest, the published site, is unchanged" in out
    assert str(run_dir / NB) in out and str(run_dir / "site" / "index.html") in out
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "ok" and manifest["full"] is False


def test_parameter_from_the_command_line_is_applied(partial, cutoff):
    run_dir = partial["run_dir"]
    results = json.loads((run_dir / NB / "results.json").read_text())
    assert results["cutoff_used"] == cutoff
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["notebooks"][0]["parameters"] == {"cutoff": cutoff, "draws": 99}  # the date typed stays text
    executed = json.loads((run_dir / NB / f"{NB}.ipynb").read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and f'cutoff = "{cutoff}"' in "".join(injected[0]["source"])


def test_no_unknown_parameter_warning_for_an_applied_parameter(partial):
    # notebook 09's parameters cell: `cutoff = ""  # ... "" = the latest ...` (two '=' on the line)
    assert "Passed unknown parameter" not in partial["res"].stderr
    assert "Unable to parse line" not in partial["res"].stderr


def test_run_html_loads_nothing_from_a_cdn(partial):
    html = (partial["run_dir"] / NB / f"{NB}.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?https?://", html, re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?://", html, re.I)
    assert "<img" in html or "data:image/png" in html  # the figures are still there, embedded


def test_run_log_has_one_line_per_notebook_and_no_bar_frames(partial):
    err = partial["res"].stderr
    assert "\r" not in err  # no bar frames in a log: anything else printed starts a line of its own
    assert re.search(rf"^run \S+: 1/1 {NB}: ok$", err, re.M)


def test_unknown_parameter_refused_naming_the_notebooks_parameters(tmp_path):
    res = _cli(["run", "02_correlation", "-p", "focus_year=2023", "-p", "nope=[1, 2]"], {"VNGOV_REPORTS_DIR": str(tmp_path)},
               timeout=60)
    assert res.returncode == 2
    assert "unknown parameter for 02_correlation.ipynb" in res.stderr and "'nope'" in res.stderr
    assert "Known parameters: adjust, focus_year, method, min_n, x, y, years" in res.stderr
    res = _cli(["run", "02_correlation.ipynb", "-p", "focus_year=soon"], {"VNGOV_REPORTS_DIR": str(tmp_path)}, timeout=60)
    assert res.returncode == 2 and "wrong type" in res.stderr and "expected int" in res.stderr  # the config's check
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())  # refused before any run


def test_full_and_partial_configs():
    default = load_config(ROOT / "runs" / "default.yaml")
    assert default.full and not missing_analyses(default.jobs)
    assert load_config(ROOT / "runs" / "nightly.yaml").full
    assert not load_config(ROOT / "runs" / "default.yaml", only=["02_correlation"]).full
    assert len(analysis_notebooks()) >= 10


def test_build_error_on_a_line_of_its_own(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "mine.csv").write_text("province,year,index,indicator,value\nBình Dương,2020,MINE,total,1\n", encoding="utf-8")
    res = _cli(["data", "build"], {"VNGOV_USER_DIR": str(user), "VNGOV_PROCESSED_DIR": str(tmp_path / "processed")}, timeout=120)
    assert res.returncode == 2
    lines = re.split(r"[\r\n]", res.stderr)
    assert any(line.startswith("error: missing column") for line in lines), res.stderr[-2000:]
    assert not re.search(r"\S[^\n]*error: missing column", res.stderr)  # nothing before it on its line
    assert res.stderr.rstrip().endswith("the previous data/processed is unchanged")  # no bar drawn after it
