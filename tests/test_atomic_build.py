"""A failed build exits non-zero with one clear message and leaves the previous processed data intact;
a good build replaces it in one step."""

from __future__ import annotations

import os
import subprocess
import sys

from analysis import paths


def run_cli(tmp_path, *args):
    env = os.environ | {
        "VNGOV_PROCESSED_DIR": str(tmp_path / "processed"),
        "VNGOV_USER_DIR": str(tmp_path / "user"),
        "VNGOV_RAW_DIR": str(paths.raw_dir()),
    }
    return subprocess.run([sys.executable, "-m", "analysis", "data", *args, "-q"], capture_output=True, text=True, env=env,
                          cwd=paths.project_root(), timeout=300)


def test_failed_build_keeps_previous_data_then_good_build_swaps(tmp_path):
    previous = tmp_path / "processed"
    previous.mkdir()
    (previous / "indicators.csv").write_text("previous good data\n")
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "mine.csv").write_text(
        "province,year,index,indicator,value,unit,source,note\nAtlantis,2020,PAR_INDEX,total,80,percent,test,\n"
    )
    res = run_cli(tmp_path, "build")
    assert res.returncode == 2
    assert "unknown province name" in res.stderr and "mine.csv" in res.stderr and "row 2" in res.stderr
    assert "Atlantis" in res.stderr
    assert (previous / "indicators.csv").read_text() == "previous good data\n"

    (tmp_path / "user" / "mine.csv").write_text(
        "province,year,index,indicator,value,unit,source,note\nBinh Duong,2020,MY_INDEX,score,3.5,points,test,\n"
    )
    res = run_cli(tmp_path, "build")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "processed").is_symlink()
    text = (tmp_path / "processed" / "indicators.csv").read_text(encoding="utf-8")
    assert "MY_INDEX" in text and "user:mine.csv" in text


def test_check_writes_nothing(tmp_path):
    res = run_cli(tmp_path, "check")
    assert res.returncode == 0, res.stderr
    assert "nothing written" in res.stdout
    assert not (tmp_path / "processed").exists()
