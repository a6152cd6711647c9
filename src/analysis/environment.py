"""The locked environment. `requirements.lock` (compiled by uv from pyproject.toml, `make lock`) pins every
package with its hashes; its sha256 names the environment the way the panel's sha256 names the data, so the
run manifest, the report site and the data release record both.

Standard library only at import time: `scripts/make_environment_yml.py` reads the lock before anything is
installed. `drift()` needs `packaging` (in the lock) to evaluate environment markers."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_NAME = "requirements.lock"
# The installer and a venv's seed packages sit beside the locked environment without being part of it.
TOOLS = frozenset({"uv", "pip", "setuptools", "vngov-indices"})
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>.+?))?\s*$")


@dataclass(frozen=True)
class Pin:
    """One locked package: canonical name, exact version, environment marker ("" = everywhere), hashes."""

    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]


def canonical(name: str) -> str:
    """PEP 503 name, so `PyYAML`, `pyyaml` and `py_yaml` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_path() -> Path:
    from .paths import project_root

    return project_root() / LOCK_NAME


def lock_sha256(path: Path | None = None) -> str:
    """sha256 of the lock file's bytes: the environment's version."""
    path = Path(path or lock_path())
    if not path.exists():
        from .errors import DataError

        raise DataError("environment lock not found; run `make lock`", file=path)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_lock(path: Path | None = None) -> list[Pin]:
    """Every entry of a hash-pinned requirements file. Anything not pinned with `==` and hashed is an error:
    a lock that lets the installer choose is no lock."""
    path = Path(path or lock_path())
    logical: list[tuple[int, str]] = []
    start, parts = 0, []
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line and not parts:
            continue
        if not parts:
            start = no
        parts.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            logical.append((start, " ".join(p for p in parts if p)))
            parts = []
    pins = []
    for no, text in logical:
        hashes = tuple(re.findall(r"--hash=(\S+)", text))
        requirement = re.sub(r"\s*--hash=\S+", "", text).strip()
        m = _PIN.match(requirement)
        if m is None or not hashes:
            raise ValueError(f"{path}:{no}: not an exact, hashed pin: {text[:120]!r}")
        pins.append(Pin(canonical(m["name"]), m["version"], m["marker"] or "", hashes))
    return pins


def applicable(pins: list[Pin]) -> dict[str, str]:
    """name -> version of the pins whose marker holds for this interpreter and platform."""
    from packaging.markers import Marker

    return {p.name: p.version for p in pins if not p.marker or Marker(p.marker).evaluate()}


def installed() -> dict[str, str]:
    """name -> version of the distributions importable by this interpreter."""
    return {canonical(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def drift(found: dict[str, str] | None = None, pins: list[Pin] | None = None) -> list[str]:
    """Differences between the installed packages and the lock, one sentence each; empty means exact."""
    want = applicable(read_lock() if pins is None else pins)
    have = installed() if found is None else found
    out = [f"{n}: lock {v}, installed {have.get(n, 'none')}" for n, v in sorted(want.items()) if have.get(n) != v]
    out += [f"{n}: installed {v}, not in the lock" for n, v in sorted(have.items()) if n not in want and n not in TOOLS]
    return out


def summary() -> dict[str, Any]:
    """What a run manifest records: the lock's sha256 and whether this interpreter matches it."""
    differences = drift()
    return {"lock": LOCK_NAME, "lock_sha256": lock_sha256(), "matches_lock": not differences, "drift": differences}
