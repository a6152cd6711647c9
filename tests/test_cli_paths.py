"""Where commands write (issue 17, item 6): an output is resolved, links followed, before the guard that keeps
it out of the project's data and published reports; run names cannot be the run folder's own entries."""

from __future__ import annotations

import pytest

from analysis import paths
from analysis.cli import _check_output, main
from analysis.errors import DataError


@pytest.mark.parametrize("where", ["current/x.docx", "x.docx", "../.builds/x.docx"])
def test_card_output_inside_the_live_build_is_refused(where):
    """`data/processed/current/x.docx` resolves to data/.builds/<build>/x.docx, which the guard of
    data/processed did not cover: the card was written into the live build."""
    with pytest.raises(DataError, match="inside the project's data or published reports"):
        _check_output(paths.processed_dir() / where, "docx")


def test_a_link_into_the_data_is_followed(tmp_path):
    (tmp_path / "innocent.docx").symlink_to((paths.processed_dir() / "current").resolve() / "x.docx")
    with pytest.raises(DataError, match="inside the project's data"):
        _check_output(tmp_path / "innocent.docx", "docx")
    (tmp_path / "folder").symlink_to(paths.processed_dir() / "current", target_is_directory=True)
    with pytest.raises(DataError, match="inside the project's data"):
        _check_output(tmp_path / "folder" / "x.docx", "docx")


def test_elsewhere_is_fine(tmp_path):
    _check_output(tmp_path / "card.docx", "docx")


def test_the_cli_refuses_before_building_the_card(capsys):
    target = paths.processed_dir() / "current" / "x.docx"
    assert main(["card", "--province", "74", "--year", "2020", "--output", str(target)]) == 2
    assert "inside the project's data" in capsys.readouterr().err and not target.exists()
