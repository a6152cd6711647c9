"""The regression check itself: a deliberately changed stored result must make nbval fail."""

from __future__ import annotations

import subprocess
import sys

import nbformat

from analysis import paths


def test_changed_result_fails_nbval(tmp_path):
    src = paths.project_root() / "notebooks" / "06_report_card.ipynb"
    nb = nbformat.read(src, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            for out in cell.outputs:
                if "total: 40.76" in out.get("text", ""):
                    out["text"] = out["text"].replace("total: 40.76", "total: 41.76")
                    changed = True
    assert changed, "the committed report card no longer prints 'total: 40.76'"
    bad = tmp_path / "06_report_card.ipynb"
    nbformat.write(nb, bad)
    res = subprocess.run([sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-kernel-name", "vngov-indices", "-p", "no:cacheprovider",
                          "-o", "addopts=", str(bad)], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert res.returncode == 1, res.stdout[-2000:]
    assert "41.76" in res.stdout and "40.76" in res.stdout
