"""Write environment.yml from requirements.lock, so conda users get the lock's versions (issue 12).

The compiled scientific stack comes from conda-forge at the lock's exact versions (and the pure-Python
packages it depends on, so conda and pip do not install two versions of one package); everything else is
installed by pip at the lock's versions, with the lock's environment markers. Run by `make lock`; the file is
never edited by hand, and tests/test_environment.py fails when it and the lock disagree.

    python scripts/make_environment_yml.py [--check]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
TARGET = ROOT / "environment.yml"
PYTHON = "3.11"
# PyPI name -> conda-forge name, for the packages conda should provide.
CONDA = {
    "numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "pyarrow": "pyarrow", "statsmodels": "statsmodels",
    "patsy": "patsy", "matplotlib": "matplotlib-base", "contourpy": "contourpy", "kiwisolver": "kiwisolver",
    "fonttools": "fonttools", "pillow": "pillow", "cycler": "cycler", "pyparsing": "pyparsing", "seaborn": "seaborn",
    "shapely": "shapely", "pyproj": "pyproj", "pyogrio": "pyogrio", "geopandas": "geopandas-base",
    "python-dateutil": "python-dateutil", "six": "six", "packaging": "packaging", "tzdata": "python-tzdata",
}


def _environment_module():
    """analysis.environment without importing the package (whose __init__ needs pandas): the lock is read
    before anything is installed."""
    spec = importlib.util.spec_from_file_location("_lock_environment", ROOT / "src" / "analysis" / "environment.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def render(lock: Path = LOCK) -> str:
    env = _environment_module()
    pins = env.read_lock(lock)
    conda = sorted(f"  - {CONDA[p.name]}=={p.version}" for p in pins if p.name in CONDA and not p.marker)
    pip = [f"      - {p.name}=={p.version}" + (f" ; {p.marker}" if p.marker else "") for p in pins
           if not (p.name in CONDA and not p.marker)]
    lines = [
        f"# Generated from {lock.name} (sha256 {env.lock_sha256(lock)}) by scripts/make_environment_yml.py;",
        "# do not edit: `make lock` rewrites it. `conda env create -f environment.yml && conda activate vngov-indices`,",
        "# then `python -m ipykernel install --user --name vngov-indices`. The scientific stack comes from conda-forge,",
        "# the rest from PyPI, all at the lock's versions (the pip part without hashes: use `make setup` for those).",
        "name: vngov-indices",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
        *conda,
        "  - pip:",
        *pip,
        "      - -e .",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if environment.yml differs from what the lock gives")
    args = ap.parse_args()
    text = render()
    if args.check:
        same = TARGET.exists() and TARGET.read_text(encoding="utf-8") == text
        print("environment.yml matches requirements.lock" if same else "environment.yml is stale: run `make lock`")
        return 0 if same else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.name} from {LOCK.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
