"""The runner: parameters checked before any kernel starts, failures isolated and reported, timeouts
honoured, reports/latest moved only by a fully successful run, and one run at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import write_config as config
from filelock import FileLock

from analysis import paths
from analysis.errors import DataError
from analysis.runner.config import load_config
from analysis.runner.run import execute


def test_unknown_parameter_rejected_before_any_kernel(workdir):
    with pytest.raises(DataError) as err:
        load_config(config(workdir, [{"notebook": "ok.ipynb", "parameters": {"y": 2}}]))
    assert "unknown parameter" in str(err.value) and "'y'" in str(err.value) and "Known parameters: label, x" in str(err.value)
    assert not (workdir / "reports").exists()  # nothing was started or written


def test_wrong_type_rejected(workdir):
    with pytest.raises(DataError, match="wrong type.*expected int"):
        load_config(config(workdir, [{"notebook": "ok.ipynb", "parameters": {"x": "two"}}]))


def test_unknown_config_key_and_missing_notebook(workdir):
    with pytest.raises(DataError, match="unknown key in run entry"):
        load_config(config(workdir, [{"notebook": "ok.ipynb", "params": {}}]))
    with pytest.raises(DataError, match="notebook not found"):
        load_config(config(workdir, [{"notebook": "nope.ipynb"}]))


def test_cli_rejects_bad_config_fast(workdir):
    cfg = config(workdir, [{"notebook": "ok.ipynb", "parameters": {"nope": 1}}])
    res = subprocess.run([sys.executable, "-m", "analysis", "run", "--config", str(cfg), "-q"], capture_output=True, text=True,
                         cwd=paths.project_root(), timeout=60)
    assert res.returncode == 2 and "unknown parameter" in res.stderr


def test_failure_isolated_latest_kept_and_success_moves_latest(workdir):
    reports = workdir / "reports"
    good = load_config(config(workdir, [{"notebook": "ok.ipynb"}, {"notebook": "ok.ipynb", "name": "ok-b", "parameters": {"x": 5}}]))
    first_dir, first = execute(good, jobs=2, progress=False)
    assert first["status"] == "ok"
    assert (reports / "latest").resolve() == first_dir.resolve()
    res = json.loads((first_dir / "ok-b" / "results.json").read_text())
    assert res == {"label": "a", "x": 5}
    assert (first_dir / "ok-b" / "ok-b.html").exists() and (first_dir / "ok-b" / "ok-b.ipynb").exists()
    manifest = json.loads((first_dir / "manifest.json").read_text())
    assert manifest["git_commit"] and manifest["data"]["indicators_sha256"] and "pandas" in manifest["packages"]

    mixed = load_config(config(workdir, [{"notebook": "ok.ipynb"}, {"notebook": "fail.ipynb"}, {"notebook": "ok.ipynb", "name": "ok-c"}]))
    second_dir, second = execute(mixed, jobs=2, progress=False)
    status = {r["name"]: r for r in second["notebooks"]}
    assert status["ok"]["status"] == "ok" and status["ok-c"]["status"] == "ok"
    assert status["fail"]["status"] == "failed"
    assert status["fail"]["error"]["ename"] == "ValueError" and status["fail"]["error"]["cell"] == 2
    assert second["status"] == "failed"
    assert (reports / "latest").resolve() == first_dir.resolve()  # untouched by the failed run
    assert (second_dir / "fail" / "fail.ipynb").exists()  # the failed notebook is kept for inspection


def test_cli_reports_failing_notebook_and_cell(workdir):
    cfg = config(workdir, [{"notebook": "fail.ipynb"}])
    res = subprocess.run([sys.executable, "-m", "analysis", "run", "--config", str(cfg), "-q"], capture_output=True, text=True,
                         cwd=paths.project_root(), timeout=120)
    assert res.returncode == 1
    assert "FAILED fail (fail.ipynb) at cell 2 of the executed notebook" in res.stderr and "deliberate failure" in res.stderr


def test_timeout_honoured(workdir):
    cfg = load_config(config(workdir, [{"notebook": "slow.ipynb", "timeout": 2}, {"notebook": "ok.ipynb"}]))
    _, manifest = execute(cfg, jobs=1, progress=False)
    status = {r["name"]: r for r in manifest["notebooks"]}
    assert status["slow"]["status"] == "timeout"
    assert status["slow"]["duration_s"] < 20
    assert status["ok"]["status"] == "ok"  # the next run on the same worker gets a fresh kernel


def test_concurrent_runs_refused(workdir):
    cfg = load_config(config(workdir, [{"notebook": "ok.ipynb"}]))
    (workdir / "reports").mkdir()
    with FileLock(str(workdir / "reports" / ".run.lock")), pytest.raises(DataError, match="another run is in progress"):
        execute(cfg, progress=False)


def test_each_province_expands_to_63_and_names_are_unique():
    cfg = load_config(paths.project_root() / "runs" / "default.yaml")
    cards = [j for j in cfg.jobs if j.name.startswith("card-") and j.name.endswith("-vi") and j.parameters.get("year") == 2024]
    assert len(cards) == 63
    assert len({j.name for j in cfg.jobs}) == len(cfg.jobs)


def test_pruning_keeps_latest(workdir):
    cfg = load_config(config(workdir, [{"notebook": "ok.ipynb"}], keep=1))
    dirs = [execute(cfg, progress=False)[0] for _ in range(2)]
    remaining = sorted(p.name for p in (workdir / "reports" / "runs").iterdir())
    assert remaining == [dirs[-1].name]


def test_a_run_reads_one_snapshot_of_the_data(workdir, monkeypatch, tmp_path):
    """`make data` during a run (issue 17, item 5): the notebook swaps `current` to a build with another user
    table; the run's notebooks, manifest and site all keep the build `current` named when the run began."""
    import shutil

    real = (paths.processed_dir() / "current").resolve()
    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    shutil.copytree(real, tmp_path / "data" / ".builds" / "build-1-before")
    (processed / "current").symlink_to("../.builds/build-1-before")
    for table in real.iterdir():  # the fixed links a build makes: data/processed/<table> -> current/<table>
        (processed / table.name).symlink_to(f"current/{table.name}")
    monkeypatch.setenv("VNGOV_PROCESSED_DIR", str(processed))
    cfg = load_config(config(workdir, [{"notebook": "swap.ipynb", "parameters": {"processed": str(processed)}}]))
    run_dir, manifest = execute(cfg, jobs=1, progress=False)
    assert manifest["status"] == "ok", (manifest["notebooks"], manifest.get("site"))
    assert (processed / "current").resolve().name == "build-1-during-the-run"  # the swap did happen
    seen = json.loads((run_dir / "swap" / "results.json").read_text())
    assert seen["reads"] == str((tmp_path / "data" / ".builds" / "build-1-before").resolve())
    assert seen["tables_after"] == seen["tables_before"]  # the kernel kept reading the snapshot
    assert manifest["data"]["build"] == "build-1-before"
    assert "new-during-run.csv" not in json.dumps(manifest["data"])
    home = (run_dir / "site" / "index.html").read_text(encoding="utf-8")
    assert "new-during-run.csv" not in home
    assert os.environ["VNGOV_PROCESSED_DIR"] == str(processed)  # restored after the run
