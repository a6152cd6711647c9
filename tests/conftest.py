"""Shared fixtures. Tests on real data read the processed panel that `make data` built (make test runs it
first); tests of bad input work in temporary folders and never touch data/processed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from analysis import load_panel, load_table
from analysis.manifest import load_manifest
from analysis.panel.build import prepare
from analysis.registry import Registry, build_provinces
from analysis.sources.common import Context
from analysis.sources.user import read_user_table


@pytest.fixture(scope="session")
def panel():
    return load_panel()


@pytest.fixture(scope="session")
def crosschecks():
    return load_table("crosschecks")


@pytest.fixture(scope="session")
def raw_ctx():
    sources = load_manifest()
    return Context(raw={s.id: s.local_path for s in sources})


@pytest.fixture(scope="session")
def registry(raw_ctx):
    return Registry(build_provinces(raw_ctx.raw))


@pytest.fixture
def ingest_user(registry):
    """Run a researcher's table through the same read + resolve + validate path as a build."""

    def run(path):
        df = read_user_table(path)
        df["source_id"], df["reliability"], df["priority"] = f"user:{path.name}", "user", 1000
        df["source_ref"] = df["source_ref"].fillna("")
        df["date"] = df["date"].fillna("")
        return prepare(df, registry)

    return run


# A researcher's table written by an adversary: HTML in the source and unit, formulas in text cells, a
# negative number, a value for a province-year PAPI never published (Quảng Ninh 2018), a lone PCI 2024
# value and a second opinion on an official total. The file name itself carries markup. Beside it, the lock
# and temporary files Excel and LibreOffice leave behind, which a build must ignore with a note.
HOSTILE_FILE = "h<img src=y onerror=window.__pwned=3>.csv"
HOSTILE_SCRIPT = "<script>window.__pwned=2;document.title='pwned'</script>"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=1">'
HOSTILE_TABLE = (
    "province,year,index,indicator,value,unit,source,note\n"
    f'Bình Dương,2024,MY_SURVEY,total,3.5,"{HOSTILE_IMG.replace(chr(34), chr(34) * 2)}",{HOSTILE_SCRIPT},<b>bold?</b>\n'
    'TP HCM,2024,MY_SURVEY,total,-0.4,"=HYPERLINK(""http://evil.example"",""click"")",@SUM(A1),\n'
    f'Bình Dương,2024,MY_OTHER,total,1.5,points,"{HOSTILE_IMG.replace(chr(34), chr(34) * 2)}",\n'
    "Quảng Ninh,2018,PAPI,total,40.1,points,+my transcription,\n"
    "Bình Dương,2024,PCI,total,70.1,points,-my PCI 2024 guess,\n"
    "Bình Dương,2020,PAPI,total,45.0,points,my recomputation,\n"
)


@pytest.fixture(scope="session")
def hostile_build(tmp_path_factory):
    """A full build (real raw data) with the hostile table in the user folder, written to a temporary
    processed folder. Returns (processed folder, BuildResult)."""
    from analysis.panel.build import build

    tmp = tmp_path_factory.mktemp("hostile")
    user = tmp / "user"
    user.mkdir()
    (user / HOSTILE_FILE).write_text(HOSTILE_TABLE, encoding="utf-8")
    (user / "~$mine.xlsx").write_bytes(b"\x00lock owner")
    (user / ".~lock.mine.csv#").write_text("owner,host,time\n")
    (user / "._mine.csv").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    mp = pytest.MonkeyPatch()
    mp.setenv("VNGOV_USER_DIR", str(user))
    mp.setenv("VNGOV_PROCESSED_DIR", str(tmp / "processed"))
    try:
        result = build(progress=False, fetch=False)
    finally:
        mp.undo()
    return tmp / "processed", result


@pytest.fixture(scope="session")
def hostile_site(hostile_build, tmp_path_factory):
    """The province pages of the report site built from the hostile data (no notebooks needed)."""
    from analysis.site import start_site

    processed, _ = hostile_build
    run_dir = tmp_path_factory.mktemp("hostile-run")
    mp = pytest.MonkeyPatch()
    mp.setenv("VNGOV_PROCESSED_DIR", str(processed))
    try:
        start_site(run_dir, "20990101-000000-hostile", "0" * 64)
    finally:
        mp.undo()
    return run_dir / "site"


RUNNER_FIXTURES = Path(__file__).parent / "fixtures" / "runner"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder holding copies of the runner's fixture notebooks, with the reports written inside it."""
    for nb in RUNNER_FIXTURES.glob("*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    monkeypatch.setenv("VNGOV_REPORTS_DIR", str(tmp_path / "reports"))
    return tmp_path


def write_config(workdir, runs, **top):
    """A run config beside the fixture notebooks (cfg0.yaml, cfg1.yaml, ...)."""
    path = workdir / f"cfg{len(list(workdir.glob('cfg*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump({"runs": runs, **top}))
    return path


def drawn_points(ax):
    """(x, y, kinds) of every scatter point of `ax`, the kinds read back from the collection's marker path and
    face colour (official and compiled share one look, so both are returned for a circle)."""
    import numpy as np
    from matplotlib.colors import to_hex
    from matplotlib.markers import MarkerStyle

    from analysis.panel.provenance import MARKERS

    def path_of(marker):
        m = MarkerStyle(marker)
        return m.get_path().transformed(m.get_transform()).vertices

    out = []
    for c in ax.collections:
        verts, colour = c.get_paths()[0].vertices, to_hex(c.get_facecolor()[0], keep_alpha=False)
        kinds = {k for k, st in MARKERS.items()
                 if path_of(st["marker"]).shape == verts.shape and np.allclose(path_of(st["marker"]), verts) and to_hex(st["color"]) == colour}
        out += [(float(x), float(y), kinds) for x, y in c.get_offsets()]
    return out
