"""Run configs are validated like data (issue 8, items 7 and 8): every bad config gets one DataError naming
the file, entry, key and value, and the CLI exits 2 without a traceback, before any kernel starts."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from papermill.translators import PythonTranslator

from analysis import paths
from analysis.cli import main
from analysis.errors import DataError
from analysis.runner.config import load_config, plain_literal_problem


def write(workdir: Path, text: str) -> Path:
    path = workdir / "cfg.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# (config text, words the message must contain)
BAD = {
    "duplicate key": ("runs:\n  - notebook: ok.ipynb\n    timeout: 1\n    timeout: 300\n", ["not valid YAML", "found the key 'timeout' twice", "line 4"]),
    "unknown placeholder": ("runs:\n  - notebook: ok.ipynb\n    name: ok-{nope}\n", ["unknown placeholder {nope}", "Known placeholders: label, x"]),
    "attribute placeholder": ("runs:\n  - notebook: ok.ipynb\n    name: ok-{label.__class__}\n", ["unknown placeholder"]),
    "format spec in name": ("runs:\n  - notebook: ok.ipynb\n    name: ok-{x:>99999999}\n    parameters: {x: 2}\n", ["no format"]),
    "unbalanced brace": ("runs:\n  - notebook: ok.ipynb\n    name: ok-{\n", ["not a valid pattern"]),
    "top-level list": ("- notebook: ok.ipynb\n", ["must be a mapping", "not a list"]),
    "runs not a list": ("runs: ok.ipynb\n", ["`runs` must be a list"]),
    "entry not a mapping": ("runs:\n  - ok.ipynb\n", ["run entry must be a mapping", "row 1"]),
    "timeout abc": ("timeout: abc\nruns:\n  - notebook: ok.ipynb\n", ["`timeout` must be a whole number", "'abc'"]),
    "timeout zero": ("timeout: 0\nruns:\n  - notebook: ok.ipynb\n", ["`timeout` must be a whole number ≥ 1", "value 0"]),
    "timeout negative": ("timeout: -5\nruns:\n  - notebook: ok.ipynb\n", ["`timeout` must be", "value -5"]),
    "entry timeout zero": ("runs:\n  - notebook: ok.ipynb\n    timeout: 0\n", ["`timeout` must be", "row 1"]),
    "timeout true": ("timeout: true\nruns:\n  - notebook: ok.ipynb\n", ["`timeout` must be"]),
    "keep -1": ("keep: -1\nruns:\n  - notebook: ok.ipynb\n", ["`keep` must be a whole number ≥ 1", "value -1"]),
    "keep 0": ("keep: 0\nruns:\n  - notebook: ok.ipynb\n", ["`keep` must be"]),
    "max_run_seconds abc": ("max_run_seconds: abc\nruns:\n  - notebook: ok.ipynb\n", ["`max_run_seconds` must be"]),
    "max_run_seconds zero": ("max_run_seconds: 0\nruns:\n  - notebook: ok.ipynb\n", ["`max_run_seconds` must be"]),
    "notebook_timeout negative": ("runs:\n  - notebook: ok.ipynb\n    notebook_timeout: -1\n", ["`notebook_timeout` must be", "row 1"]),
    "max_output_mb zero": ("max_output_mb: 0\nruns:\n  - notebook: ok.ipynb\n", ["`max_output_mb` must be a number > 0"]),
    "jobs zero": ("jobs: 0\nruns:\n  - notebook: ok.ipynb\n", ["`jobs` must be"]),
    "no notebook": ("runs:\n  - name: x\n", ["needs `notebook", "row 1"]),
    "second entry without notebook": ("runs:\n  - notebook: ok.ipynb\n  - parameters: {x: 1}\n", ["needs `notebook", "row 2"]),
    "name escapes run folder": ("runs:\n  - notebook: ok.ipynb\n    name: ../../x\n", ["run name must be", "'../../x'"]),
    "name with slash": ("runs:\n  - notebook: ok.ipynb\n    name: a/b\n", ["run name must be"]),
    "name from a parameter escapes": ("runs:\n  - notebook: ok.ipynb\n    name: '{label}'\n    parameters: {label: ../up}\n",
                                      ["run name must be", "'../up'"]),
    "dot name": ("runs:\n  - notebook: ok.ipynb\n    name: ..\n", ["run name must be"]),
    "provinces as a string": ("runs:\n  - notebook: ok.ipynb\n    provinces: '7479'\n", ["`provinces` must be a non-empty list", "'7479'"]),
    "provinces unquoted numbers": ("runs:\n  - notebook: ok.ipynb\n    provinces: [74]\n", ["`provinces` must be"]),
    "provinces unknown code": ("runs:\n  - notebook: ok.ipynb\n    provinces: ['74', '99']\n", ["unknown province code", "'99'"]),
    "each_province not boolean": ("runs:\n  - notebook: ok.ipynb\n    each_province: 'yes'\n", ["`each_province` must be"]),
    "binary in dict parameter": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {a: !!binary aW1wb3J0IG9z}\n",
                                 ["plain literals", "parameters['options']['a'] is of type bytes"]),
    "binary in list in dict": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {a: [1, !!binary aW1wb3J0IG9z]}\n",
                               ["parameters['options']['a'][1] is of type bytes"]),
    "date parameter": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {when: 2020-01-01}\n", ["of type date"]),
    "set parameter": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {s: !!set {a: null}}\n", ["of type set"]),
    "non-string key": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {1: a}\n", ["keys must be strings"]),
    "nan parameter": ("runs:\n  - notebook: ok.ipynb\n    parameters: {x: .nan}\n", ["not a finite number"]),
    "parameters not a mapping": ("runs:\n  - notebook: ok.ipynb\n    parameters: [1, 2]\n", ["`parameters` must be a mapping"]),
    "python object tag": ("runs:\n  - notebook: ok.ipynb\n    parameters: {x: !!python/object/apply:os.system [ls]}\n", ["not valid YAML"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_gets_a_clear_message(workdir, case):
    text, words = BAD[case]
    with pytest.raises(DataError) as err:
        load_config(write(workdir, text))
    for w in words:
        assert w in str(err.value)
    assert str(workdir / "cfg.yaml") in str(err.value)
    assert not (workdir / "reports").exists()


@pytest.mark.parametrize("case", ["top-level list", "timeout abc", "no notebook", "unknown placeholder", "binary in dict parameter"])
def test_cli_exits_2_without_traceback(workdir, case, capsys):
    assert main(["run", "--config", str(write(workdir, BAD[case][0])), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_notebook_that_is_not_json_is_named_not_quoted(workdir):
    (workdir / "bad.ipynb").write_text("SECRET-LINE-1234 this is no notebook\n{oops", encoding="utf-8")
    cfg = write(workdir, "runs:\n  - notebook: bad.ipynb\n")
    res = subprocess.run([sys.executable, "-m", "analysis", "run", "--config", str(cfg), "-q"], capture_output=True, text=True,
                         cwd=paths.project_root(), timeout=120)
    assert res.returncode == 2
    assert "not a readable Jupyter notebook" in res.stderr and "bad.ipynb" in res.stderr
    assert "SECRET" not in res.stderr + res.stdout and "Traceback" not in res.stderr


def test_provinces_select_exactly_the_listed_codes(workdir):
    """A list selects by equality: '74' gives Bình Dương only (not every code containing 7 or 4)."""
    nb = paths.project_root() / "notebooks" / "06_report_card.ipynb"
    shutil.copy(nb, workdir / nb.name)
    cfg = load_config(write(workdir, "runs:\n  - notebook: 06_report_card.ipynb\n    provinces: ['74', '06']\n"))
    assert sorted(j.name for j in cfg.jobs) == ["06_report_card-06", "06_report_card-74"]


def test_limits_have_generous_defaults_and_per_entry_overrides(workdir):
    cfg = load_config(write(workdir, "timeout: 30\nruns:\n  - notebook: ok.ipynb\n  - notebook: ok.ipynb\n    name: b\n"
                                     "    notebook_timeout: 40\n"))
    assert cfg.max_run_seconds == 3600 and cfg.max_output_mb == 50 and cfg.keep == 10
    assert [(j.timeout, j.notebook_timeout) for j in cfg.jobs] == [(30, 900), (30, 40)]


PLAIN = {"s": "a\"b'c\\n\n{x}", "vi": "Bình Dương", "n": -3, "f": 2.5, "t": True, "none": None, "l": [1, [2, "x"]],
         "d": {"k": {"nested": ["v", 1.0, False]}}}


def test_accepted_values_round_trip_through_papermill_injection():
    """What the check accepts, papermill writes as Python that evaluates back to the same values; what it
    rejects would not (bytes and dates are written unquoted)."""
    assert plain_literal_problem(PLAIN, "parameters") is None
    ns: dict = {}
    exec(PythonTranslator.codify(PLAIN), ns)  # noqa: S102 - the point of the test
    assert {k: ns[k] for k in PLAIN} == PLAIN
    assert plain_literal_problem({"d": dt.date(2020, 1, 1)}, "parameters") == "parameters['d'] is of type date"
    assert plain_literal_problem({"b": b"x"}, "parameters") == "parameters['b'] is of type bytes"


# ---- issue 17: configs that left tracebacks, hangs or half-written runs -----------------------------------------

HOSTILE = {
    "max_output_mb 1e305": ("max_output_mb: 1e305\nruns:\n  - notebook: ok.ipynb\n", ["`max_output_mb` must be", "at most 2,000"]),
    "timeout of 400 digits": ("timeout: " + "9" * 400 + "\nruns:\n  - notebook: ok.ipynb\n", ["number of 400 digits"]),
    "lone surrogate": ('runs:\n  - notebook: ok.ipynb\n    parameters: {label: "a\\udc80"}\n', ["U+DC80"]),
    "run named manifest.json": ("runs:\n  - notebook: ok.ipynb\n    name: manifest.json\n", ["run name 'manifest.json' is taken"]),
    "run named site": ("runs:\n  - notebook: ok.ipynb\n    name: Site\n", ["run name 'Site' is taken"]),
    "alias bomb in parameters": ("".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else '1, 1, 1, 1, 1, 1, 1, 1, 1'}]\n"
                                         for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)).replace("a: &a", "x0: &a")
                                 + "runs:\n  - notebook: ok.ipynb\n    parameters: {x: *i}\n", ["aliases"]),
    "unhashable key": ("runs:\n  - notebook: ok.ipynb\n    ? [a]\n    : 1\n", ["list as a key"]),
    "recursive alias": ("runs:\n  - notebook: options.ipynb\n    parameters: &p\n      options: {a: *p}\n", ["a structure without end"]),
    "impossible date": ("runs:\n  - notebook: options.ipynb\n    parameters:\n      options: {when: 2025-02-30}\n", ["not a real date"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_config_exits_2_and_writes_nothing(workdir, case, capsys):
    text, words = HOSTILE[case]
    assert main(["run", "--config", str(write(workdir, text)), "-q"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err) < 3000, err[:3000]
    for w in words:
        assert w in err, err
    assert not (workdir / "reports" / "runs").exists() or not any((workdir / "reports" / "runs").iterdir())


def test_a_fifo_config_is_refused_in_a_second(workdir):
    import os
    import time

    os.mkfifo(workdir / "cfg.yaml")
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "analysis", "run", "--config", str(workdir / "cfg.yaml"), "-q"], capture_output=True,
                         text=True, cwd=paths.project_root(), timeout=120)
    assert res.returncode == 2 and "not a regular file" in res.stderr and "Traceback" not in res.stderr
    assert time.monotonic() - t0 < 60


def test_unwritable_reports_folder_is_a_clear_error(workdir, monkeypatch, capsys):
    """A reports folder that cannot be written (read-only, or here: a file where a folder should be, which
    holds for root too) is exit 2 with the folder named, not a traceback."""
    (workdir / "blocker").write_text("a file, not a folder")
    monkeypatch.setenv("VNGOV_REPORTS_DIR", str(workdir / "blocker" / "reports"))
    assert main(["run", "--config", str(write(workdir, "runs:\n  - notebook: ok.ipynb\n")), "-q"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the reports" in err and "blocker" in err and "Traceback" not in err


def test_disk_full_when_writing_the_manifest_leaves_no_empty_manifest(workdir, monkeypatch):
    import errno

    from analysis.runner import run as run_module
    from analysis.runner.run import execute

    real = run_module.Path.write_bytes

    def full(self, data):
        if self.name.startswith(".manifest-"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(run_module.Path, "write_bytes", full)
    with pytest.raises(DataError, match="cannot write the run manifest: No space left on device"):
        execute(load_config(write(workdir, "runs:\n  - notebook: ok.ipynb\n")), jobs=1, progress=False, site=False)
    run_dirs = list((workdir / "reports" / "runs").iterdir())
    assert len(run_dirs) == 1 and not (run_dirs[0] / "manifest.json").exists()
    assert not (workdir / "reports" / "latest").exists()
