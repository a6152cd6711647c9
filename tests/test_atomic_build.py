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
    assert (tmp_path / "processed" / "current").is_symlink()
    assert (tmp_path / "processed" / "indicators.csv").is_symlink()  # the copy left there was moved aside, not lost
    assert "previous good data" in next((tmp_path / ".builds").glob("legacy-*-indicators.csv")).read_text()
    text = (tmp_path / "processed" / "indicators.csv").read_text(encoding="utf-8")
    assert "MY_INDEX" in text and "user:mine.csv" in text


def test_check_writes_nothing(tmp_path):
    res = run_cli(tmp_path, "check")
    assert res.returncode == 0, res.stderr
    assert "nothing written" in res.stdout
    assert not (tmp_path / "processed").exists()


# ---- issue 8: concurrent and killed builds -----------------------------------------------------------


def test_five_concurrent_builds_all_succeed(tmp_path):
    """Each build's cleanup used to delete the others' unfinished folders, so two of five crashed."""
    import time

    env = os.environ | {"VNGOV_PROCESSED_DIR": str(tmp_path / "processed"), "VNGOV_USER_DIR": str(tmp_path / "user"),
                        "VNGOV_RAW_DIR": str(paths.raw_dir())}
    procs = [subprocess.Popen([sys.executable, "-m", "analysis", "data", "build", "-q"], env=env, cwd=paths.project_root(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(5)]
    deadline = time.monotonic() + 600
    outcomes = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            outcomes.append((p.returncode, err[-2000:]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    assert [rc for rc, _ in outcomes] == [0] * 5, outcomes
    from analysis.panel.io import COMPLETE_MARKER, KEEP_BUILDS

    target = (tmp_path / "processed" / "current").resolve()
    assert (target / COMPLETE_MARKER).exists() and (target / "indicators.parquet").exists()
    folders = sorted((tmp_path / ".builds").glob("build-*"))
    assert target in folders and len(folders) <= KEEP_BUILDS
    assert all((f / COMPLETE_MARKER).exists() for f in folders)  # no partial folder left behind


def _dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait(timeout=30)
    return p.pid


def _tiny_result():
    import pandas as pd

    from analysis.panel.io import BuildResult

    panel = pd.DataFrame({"province_code": ["74"], "value": [1.0]})
    empty = pd.DataFrame({"x": []})
    return BuildResult(panel, empty, empty, empty, empty, empty, {"raw_fingerprint": "x"})


def test_cleanup_after_a_killed_build_keeps_complete_builds(tmp_path):
    """A killed build leaves a partial folder: the next build removes it (its owner is gone), keeps the
    complete older builds up to KEEP_BUILDS and never touches the folder of a build still running."""
    import time

    from analysis.panel.io import COMPLETE_MARKER, KEEP_BUILDS, write_processed

    builds = tmp_path / ".builds"
    builds.mkdir()
    complete = []
    for i in range(KEEP_BUILDS - 1):
        f = builds / f"build-{os.getpid()}-done{i}"
        f.mkdir()
        (f / "indicators.parquet").write_text("complete")
        (f / COMPLETE_MARKER).write_text("1\n")
        complete.append(f)
    killed = builds / f"build-{_dead_pid()}-killed"
    killed.mkdir()
    (killed / "indicators.parquet").write_text("half written")
    running = builds / f"build-{os.getpid()}-running"  # this process is alive: a build at work
    running.mkdir()
    now = time.time()
    for age, f in enumerate([*complete, killed, running]):  # the partial folders are the newest
        os.utime(f, (now - 1000 + age * 100, now - 1000 + age * 100))
    current = write_processed(_tiny_result(), tmp_path / "processed")
    left = set(builds.glob("build-*"))
    assert current in left and running in left
    assert killed not in left
    assert set(complete) <= left


def test_old_complete_builds_beyond_keep_are_pruned(tmp_path):
    from analysis.panel.io import KEEP_BUILDS, write_processed

    made = [write_processed(_tiny_result(), tmp_path / "processed") for _ in range(KEEP_BUILDS + 2)]
    left = sorted((tmp_path / ".builds").glob("build-*"))
    assert left == sorted(made[-KEEP_BUILDS:])
    assert (tmp_path / "processed" / "current").resolve() == made[-1]


# ---- issue 8: a folder where a raw file should be -----------------------------------------------------


def test_folder_where_a_raw_file_should_be_fetch(tmp_path, monkeypatch):
    import pytest

    from analysis.errors import DataError
    from analysis.manifest import fetch_one, load_manifest

    src = load_manifest()[0]
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    src.local_path.mkdir(parents=True)
    with pytest.raises(DataError, match="a folder stands where") as err:
        fetch_one(src, paths.mirror_dir())
    assert str(src.local_path) in str(err.value)


def test_folder_where_a_raw_file_should_be_build(tmp_path):
    from analysis.manifest import load_manifest

    raw = tmp_path / "raw"
    sources = load_manifest()
    for s in sources:
        dest = raw / s.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if s is sources[-1]:
            dest.mkdir()
        else:
            dest.symlink_to(paths.raw_dir() / s.path)
    env = os.environ | {"VNGOV_PROCESSED_DIR": str(tmp_path / "processed"), "VNGOV_USER_DIR": str(tmp_path / "user"),
                        "VNGOV_RAW_DIR": str(raw)}
    for action in ("fetch", "build"):
        res = subprocess.run([sys.executable, "-m", "analysis", "data", action, "-q"], capture_output=True, text=True, env=env,
                             cwd=paths.project_root(), timeout=300)
        assert res.returncode == 2, res.stderr
        assert "Traceback" not in res.stderr and "a folder stands where" in res.stderr and sources[-1].path in res.stderr


def test_folder_where_a_raw_file_should_be_build_without_fetch(tmp_path, monkeypatch):
    import pytest

    from analysis.errors import DataError
    from analysis.manifest import load_manifest
    from analysis.panel.build import build

    src = load_manifest()[-1]
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    src.local_path.mkdir(parents=True)
    with pytest.raises(DataError, match="a folder stands where") as err:
        build(progress=False, write=False, fetch=False)
    assert str(src.local_path) in str(err.value)


# ---- issue 17, item 10: a copied project, and a file system without links --------------------------------


def test_a_copied_project_builds_again_and_keeps_its_data_as_a_legacy_build(tmp_path):
    """A copy made by a tool that follows links (scp -r, shutil.copytree) turns `current` into a real folder;
    the next build used to end in IsADirectoryError. Its data is kept as an older build and `current` swapped."""
    import shutil

    from analysis.panel.io import current_build, load_build_info, write_processed

    original = tmp_path / "original" / "data" / "processed"
    write_processed(_tiny_result(), original)
    copy = tmp_path / "copy" / "data"
    shutil.copytree(tmp_path / "original" / "data", copy, symlinks=False)  # links followed: real folders and files
    processed = copy / "processed"
    assert (processed / "current").is_dir() and not (processed / "current").is_symlink()
    assert load_build_info(processed) == {"raw_fingerprint": "x"}  # the copy reads as it is
    result = _tiny_result()
    result.info = {"raw_fingerprint": "new"}
    new = write_processed(result, processed)
    assert (processed / "current").is_symlink() and current_build(processed) == new
    assert load_build_info(processed) == {"raw_fingerprint": "new"}
    legacy = [f for f in (copy / ".builds").glob("build-*legacy-current")]
    assert len(legacy) == 1 and (legacy[0] / "build_info.json").read_text() == '{\n  "raw_fingerprint": "x"\n}'


def test_where_links_cannot_be_made_current_is_a_pointer_file(tmp_path, monkeypatch):
    from analysis.panel.io import POINTER_PREFIX, current_build, load_build_info, load_panel, write_processed

    def no_links(*args, **kwargs):
        raise OSError(1, "symbolic links are not permitted here")

    monkeypatch.setattr(os, "symlink", no_links)
    processed = tmp_path / "processed"
    first = write_processed(_tiny_result(), processed)
    assert (processed / "current").read_text().startswith(POINTER_PREFIX)
    assert current_build(processed) == first and load_panel(processed)["value"].tolist() == [1.0]
    result = _tiny_result()
    result.info = {"raw_fingerprint": "second"}
    second = write_processed(result, processed)
    assert current_build(processed) == second and load_build_info(processed) == {"raw_fingerprint": "second"}
    assert first.exists()  # kept, as with links (KEEP_BUILDS)


def test_a_pinned_build_is_not_pruned(tmp_path):
    """A run pins the build it reads (issue 17, item 5): builds made meanwhile never remove it."""
    from analysis.panel.io import KEEP_BUILDS, pin, write_processed

    processed = tmp_path / "processed"
    first = write_processed(_tiny_result(), processed)
    with pin(first):
        for _ in range(KEEP_BUILDS + 1):
            write_processed(_tiny_result(), processed)
        assert first.exists()
    write_processed(_tiny_result(), processed)
    assert not first.exists()


def test_disk_full_or_read_only_processed_data_is_a_clear_error(tmp_path, monkeypatch):
    """A full disk while writing the build is a DataError naming the folder; the previous data stays."""
    import errno

    import pandas as pd
    import pytest

    from analysis.errors import DataError
    from analysis.panel.io import load_build_info, write_processed

    processed = tmp_path / "processed"
    write_processed(_tiny_result(), processed)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    with pytest.raises(DataError, match="cannot write the processed data: No space left on device"):
        write_processed(_tiny_result(), processed)
    monkeypatch.undo()
    assert load_build_info(processed) == {"raw_fingerprint": "x"}
    assert len(list((tmp_path / ".builds").glob("build-*"))) == 1  # the partial folder was removed


def _tree_digest(folder):
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_rejected_hostile_tables_leave_current_byte_identical(tmp_path):
    """Issue 17, item 3: U+FFFF in a `source` cell was accepted by the build and then broke every run's Word
    cards. Now it and the other hostile inputs stop the build (exit 2, no traceback) and `current` is as it was."""
    (tmp_path / "user").mkdir()
    res = run_cli(tmp_path, "build")
    assert res.returncode == 0, res.stderr
    current = (tmp_path / "processed" / "current").resolve()
    before = _tree_digest(current)
    hostile = {
        "ffff.csv": "province,year,index,indicator,value,unit,source,note\nBình Dương,2022,MY_INDEX,total,1,points,src\uffff,\n",
        "bidi.csv": "province,year,index,indicator,value,unit,source,note\nBình Dương,2022,MY_INDEX,total,1,points,a\u202eb,\n",
        "tabs.csv": "province\tyear\tindex\tindicator\tvalue\tunit\tsource\tnote\nBình Dương\t2022\tMY_INDEX\ttotal\t1\tpoints\ts\t\n",
    }
    for name, text in hostile.items():
        for old in (tmp_path / "user").iterdir():
            old.unlink()
        (tmp_path / "user" / name).write_text(text, encoding="utf-8")
        res = run_cli(tmp_path, "build")
        assert res.returncode == 2 and "Traceback" not in res.stderr and name in res.stderr, res.stderr
        assert (tmp_path / "processed" / "current").resolve() == current and _tree_digest(current) == before
