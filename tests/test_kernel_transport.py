"""Runs print no kernel transport warning: the runner's kernels use encrypted (CurveZMQ) transport."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from analysis import paths


@pytest.mark.parametrize("plain", [False, True], ids=["warm", "plain"])
def test_run_prints_no_transport_warning(tmp_path, plain):
    cfg = tmp_path / "one.yaml"
    cfg.write_text(yaml.safe_dump({"runs": [{"notebook": str(paths.project_root() / "notebooks" / "07_maps.ipynb")}]}))
    env = os.environ | {"VNGOV_REPORTS_DIR": str(tmp_path / "reports")}
    res = subprocess.run([sys.executable, "-m", "analysis", "run", "--config", str(cfg), "-q", *(["--plain"] if plain else [])],
                         capture_output=True, text=True, env=env, cwd=paths.project_root(), timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "without encryption" not in res.stdout + res.stderr
    assert "WARNING" not in res.stderr, res.stderr[-2000:]
