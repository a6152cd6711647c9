"""The locked environment (issue 12): requirements.lock agrees with pyproject.toml, environment.yml agrees
with the lock, an install from the lock into a fresh environment gives exactly the lock, the project's own
.venv has not drifted, and runs, the site and releases record the lock's sha256.

The checks read installed metadata and the installer's cache that `make setup` filled: no network unless
that cache was cleared since."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement

from analysis import environment, paths
from analysis.environment import Pin, canonical

ROOT = paths.project_root()
LOCK = ROOT / environment.LOCK_NAME
sys.path.insert(0, str(ROOT / "scripts"))
import make_environment_yml  # noqa: E402


def direct_requirements(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]


def unsatisfied(requirements: list[Requirement], pins: list[Pin]) -> list[str]:
    """Direct requirements the lock does not pin at an allowed version (here: this platform and Python)."""
    here = environment.applicable(pins)
    out = []
    for r in requirements:
        version = here.get(canonical(r.name))
        if version is None:
            out.append(f"{r}: not in the lock")
        elif not r.specifier.contains(version, prereleases=True):
            out.append(f"{r}: lock has {version}")
    return out


def closure(requirements: list[Requirement]) -> set[str]:
    """Every package the direct requirements need here, walked through installed metadata (with extras)."""
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [(r, frozenset({""})) for r in requirements]
    while stack:
        req, parent_extras = stack.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in parent_extras):
            continue
        key = (canonical(req.name), frozenset(req.extras))
        if key in seen:
            continue
        seen.add(key)
        for dep in importlib.metadata.distribution(req.name).requires or []:
            stack.append((Requirement(dep), frozenset({"", *req.extras})))
    return {name for name, _ in seen}


def yml_versions(text: str) -> dict[str, str]:
    """PyPI name -> version named by an environment.yml, conda and pip parts alike, for this platform."""
    to_pypi = {conda: pypi for pypi, conda in make_environment_yml.CONDA.items()}
    out: dict[str, str] = {}
    for dep in yaml.safe_load(text)["dependencies"]:
        entries = [(e, "pip") for e in dep["pip"]] if isinstance(dep, dict) else [(dep, "conda")]
        for entry, where in entries:
            spec, _, marker = entry.partition(";")
            m = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)", spec.strip())
            if m is None or (marker and not Marker(marker).evaluate()):
                continue  # python, pip, `-e .`, or a pin for another platform
            name = to_pypi.get(m[1], m[1]) if where == "conda" else m[1]
            assert canonical(name) not in out, f"{name} twice in environment.yml"
            out[canonical(name)] = m[2]
    return out


def test_lock_pins_everything_exactly_with_hashes():
    pins = environment.read_lock()
    assert len(pins) > 100
    assert len({(p.name, p.marker) for p in pins}) == len(pins)
    assert all(p.hashes and all(h.startswith("sha256:") for h in p.hashes) for p in pins)
    # one version per package for every platform and Python the lock covers
    assert len({p.name for p in pins}) == len(pins)
    (uv,) = environment.read_lock(ROOT / "requirements-uv.lock")
    assert uv.name == "uv" and f"UV_VERSION := {uv.version}\n" in (ROOT / "Makefile").read_text()


def test_read_lock_rejects_an_unpinned_or_unhashed_entry(tmp_path):
    bad = tmp_path / "bad.lock"
    bad.write_text("pandas>=3 \\\n    --hash=sha256:00\n")
    with pytest.raises(ValueError, match="bad.lock:1: not an exact, hashed pin"):
        environment.read_lock(bad)
    bad.write_text("pandas==3.1.1\n")
    with pytest.raises(ValueError, match="not an exact, hashed pin"):
        environment.read_lock(bad)


def test_pyproject_and_lock_agree():
    requirements = direct_requirements(ROOT / "pyproject.toml")
    pins = environment.read_lock()
    assert unsatisfied(requirements, pins) == []
    # nothing missing and nothing stale: the lock holds exactly what pyproject.toml needs on this platform
    assert set(environment.applicable(pins)) == closure(requirements)


def test_disagreement_between_pyproject_and_lock_is_caught(tmp_path):
    pins = environment.read_lock()
    text = (ROOT / "pyproject.toml").read_text()
    edited = tmp_path / "pyproject.toml"
    edited.write_text(text.replace('"pandas>=3.0,<4"', '"pandas>=3.0,<3.1"').replace('"tqdm>=4.66,<5",', '"tqdm>=4.66,<5", "polars>=1",'))
    assert sorted(unsatisfied(direct_requirements(edited), pins)) == ["pandas<3.1,>=3.0: lock has 3.1.1", "polars>=1: not in the lock"]
    without_seaborn = [r for r in direct_requirements(ROOT / "pyproject.toml") if r.name != "seaborn"]
    assert "seaborn" in set(environment.applicable(pins)) - closure(without_seaborn)  # a stale pin shows


def test_environment_yml_is_generated_from_the_lock():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert text == make_environment_yml.render(), "environment.yml is stale: run `make lock`"
    assert environment.lock_sha256() in text


def test_environment_yml_versions_equal_the_lock():
    """Second computation: parse the YAML itself and compare every package with the lock."""
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert yml_versions(text) == environment.applicable(environment.read_lock())
    conda = {d for d in yaml.safe_load(text)["dependencies"] if isinstance(d, str)}
    assert {"numpy", "scipy", "pandas", "statsmodels", "geopandas-base"} <= {d.split("==")[0] for d in conda}
    numpy = environment.applicable(environment.read_lock())["numpy"]
    changed = text.replace(f"- numpy=={numpy}", "- numpy==1.0.0")
    assert changed != text and yml_versions(changed)["numpy"] == "1.0.0"  # the comparison sees a change


def test_this_venv_matches_the_lock():
    assert environment.drift() == [], "the environment differs from requirements.lock: rm .venv/.installed && make setup"
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():  # set-up used uv: the pinned one
        (pin,) = environment.read_lock(ROOT / "requirements-uv.lock")
        assert subprocess.run([uv, "--version"], capture_output=True, text=True, timeout=30).stdout.split()[1] == pin.version


def test_drift_names_each_difference():
    pins = [Pin("pandas", "3.1.1", "", ("sha256:0",)), Pin("appnope", "1.0.0", "sys_platform == 'darwin'", ("sha256:0",)),
            Pin("numpy", "2.4.6", "", ("sha256:0",))]
    found = {"pandas": "3.0.0", "requests": "2.0", "pip": "25.0", "uv": "0.13.9"}
    assert environment.drift(found, pins) == ["numpy: lock 2.4.6, installed none", "pandas: lock 3.1.1, installed 3.0.0",
                                              "requests: installed 2.0, not in the lock"]
    assert environment.drift({"pandas": "3.1.1", "numpy": "2.4.6"}, pins) == []


def test_fresh_install_from_the_lock_has_no_drift(tmp_path):
    """Install requirements.lock into a new, empty environment with set-up's installer (uv from its cache, or
    pip when set-up fell back to it) and compare every installed version with the lock."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=120)
    py = venv / "bin" / "python"
    uv = Path(sys.executable).with_name("uv")
    if uv.exists():
        cmd = [uv, "pip", "sync", "--quiet", "--python", py, "--require-hashes", LOCK]
        res = subprocess.run([*cmd, "--offline"], capture_output=True, text=True, timeout=600)
        if res.returncode != 0:  # the cache was cleared since set-up: the same install, downloading
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    else:
        subprocess.run([py, "-m", "ensurepip", "--default-pip"], check=True, capture_output=True, timeout=300)
        res = subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--require-hashes", "-r", LOCK],
                             capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-2000:]
    listing = ("import importlib.metadata as m, json; "
               "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
    out = subprocess.run([py, "-c", listing], capture_output=True, text=True, timeout=120, check=True).stdout
    found = {canonical(k): v for k, v in json.loads(out).items()}
    assert environment.drift(found) == []
    assert len(found) >= len(environment.applicable(environment.read_lock()))
    smoke = "import pandas, scipy, statsmodels, geopandas, papermill; print(pandas.__version__)"
    assert subprocess.run([py, "-c", smoke], capture_output=True, text=True, timeout=120).stdout.strip() == found["pandas"]


def test_lock_sha256_in_run_manifest_site_and_release(tmp_path, monkeypatch):
    from analysis.release import build_release
    from analysis.runner.config import load_config
    from analysis.runner.run import execute

    sha = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    assert environment.lock_sha256() == sha
    shutil.copy(Path(__file__).parent / "fixtures" / "runner" / "ok.ipynb", tmp_path / "ok.ipynb")
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"runs": [{"notebook": "ok.ipynb"}]}))
    monkeypatch.setenv("VNGOV_REPORTS_DIR", str(tmp_path / "reports"))
    run_dir, manifest = execute(load_config(tmp_path / "cfg.yaml"), jobs=1, progress=False)
    recorded = json.loads((run_dir / "manifest.json").read_text())["environment"]
    assert recorded == {"lock": "requirements.lock", "lock_sha256": sha, "matches_lock": True, "drift": []}
    home = (run_dir / "site" / "index-en.html").read_text(encoding="utf-8")
    assert f"environment <code>{sha[:12]}</code>" in home and "differ from it" not in home
    home_vi = (run_dir / "site" / "index.html").read_text(encoding="utf-8")
    assert f"môi trường <code>{sha[:12]}</code>" in home_vi and "khác với tệp này" not in home_vi
    release = build_release(dist=tmp_path / "dist")
    package = json.loads((release / "datapackage.json").read_text())
    assert package["environment"] == {"lock": "requirements.lock", "lock_sha256": sha}
    assert sha in (release / "README.md").read_text()
