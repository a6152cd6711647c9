"""The raw-data manifest (`data/sources.yml`) and the fetch step that fills `data/raw/` from a mirror or
from the upstream repository at the pinned commit, verifying every sha256 so results are reproducible."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tqdm import tqdm

from . import paths, yamlio
from .errors import DataError

RELIABILITY_ORDER = {"official": 0, "compiled": 1, "reported": 2, "user": 3, "derived": 4}
"""Which value is kept when sources give the same key, and the provenance levels every statistic counts.
`derived` values (the 63 -> 34 aggregation, computed on demand) are never stored in the panel and never
stand in for a published value."""
VINTAGES = ("gso-2008", "gso-2025")
"""The province codings a source may declare for its names (see analysis.registry)."""


@dataclass(frozen=True)
class Source:
    """One manifest entry: a raw file with its checksum, provenance and (for indicator files) adapter."""

    id: str
    path: str
    sha256: str
    role: str
    licence: str
    citation: str
    publisher: str
    adapter: str | None = None
    year: int | None = None
    reliability: str | None = None
    priority: int = 100
    upstream: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    base: str | None = None  # set for the project's own committed tables, which live outside data/raw
    vintage: str = "gso-2008"  # the province coding of the file's names: gso-2008 (the 63) or gso-2025 (the 34)
    date: str | None = None  # a snapshot file's cut-off (YYYY-MM-DD) when the file itself carries no date

    @property
    def local_path(self) -> Path:
        return Path(self.base) / self.path if self.base else paths.raw_dir() / self.path

    def download_url(self) -> str | None:
        """Raw-file address at the pinned commit, or None when the mirror made the file itself."""
        up = self.upstream
        if up.get("downloadable") is False or not up.get("repository"):
            return None
        quoted = urllib.parse.quote(up["path"])
        return f"https://raw.githubusercontent.com/{up['repository']}/{up['commit']}/{quoted}"


def load_manifest(path: Path | None = None) -> list[Source]:
    """Read and check the manifest: unique ids and paths, known keys, a 64-hex sha256 each."""
    path = path or paths.manifest_path()
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataError("manifest not found", file=path) from exc
    except yaml.YAMLError as exc:
        raise DataError(f"manifest is not valid YAML: {exc}", file=path) from exc
    entries = (doc or {}).get("sources")
    if not isinstance(entries, list) or not entries:
        raise DataError("manifest has no `sources:` list", file=path)
    known = set(Source.__dataclass_fields__)
    out: list[Source] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise DataError(f"manifest entry {i} is not a mapping", file=path, value=entry)
        entry = dict(entry)
        if isinstance(entry.get("date"), dt.date):  # YAML reads an unquoted 2025-10-16 as a date
            entry["date"] = entry["date"].isoformat()
        if entry.get("date") is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry["date"])):
            raise DataError("date must be YYYY-MM-DD", file=path, column="date", value=entry.get("date"))
        unknown = set(entry) - known
        if unknown:
            raise DataError(f"manifest entry {i} has unknown keys {sorted(unknown)}", file=path, value=entry.get("id"))
        try:
            src = Source(**entry)
        except TypeError as exc:
            raise DataError(f"manifest entry {i} is incomplete: {exc}", file=path, value=entry.get("id")) from exc
        if src.id in seen:
            raise DataError("duplicate source id in manifest", file=path, value=src.id)
        if len(src.sha256) != 64 or any(c not in "0123456789abcdef" for c in src.sha256):
            raise DataError("sha256 must be 64 lowercase hex digits", file=path, column="sha256", value=src.sha256)
        if src.reliability is not None and src.reliability not in RELIABILITY_ORDER or src.reliability == "derived":
            raise DataError("unknown reliability (a raw file is official, compiled, reported or user)", file=path,
                            column="reliability", value=src.reliability)
        if src.vintage not in VINTAGES:
            raise DataError(f"unknown province vintage (use one of {', '.join(VINTAGES)})", file=path, column="vintage", value=src.vintage)
        seen.add(src.id)
        out.append(src)
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _install(tmp: Path, src: Source) -> None:
    """Verify a fetched file and move it into place only if its checksum matches."""
    got = sha256_file(tmp)
    if got != src.sha256:
        tmp.unlink(missing_ok=True)
        raise DataError(
            f"sha256 mismatch for source {src.id}: expected {src.sha256}, got {got}",
            file=src.path,
            hint="The mirror or upstream file changed; update data/sources.yml only after checking what changed",
        )
    src.local_path.parent.mkdir(parents=True, exist_ok=True)
    tmp.replace(src.local_path)


def fetch_one(src: Source, mirror: Path) -> str:
    """Bring one file into data/raw. Returns how: 'present', 'mirror' or 'download'."""
    dest = src.local_path
    if dest.is_dir():
        raise DataError(f"a folder stands where the raw file of source {src.id} should be", file=dest,
                        hint="Move or delete the folder, then fetch again")
    if dest.is_file() and sha256_file(dest) == src.sha256:
        return "present"
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".fetch-")
    except OSError as exc:  # a file where a folder of data/raw should be, or no write permission
        raise DataError(f"cannot write the raw file of source {src.id}: {exc.strerror}", file=dest) from exc
    tmp = Path(tmp_name)
    try:
        candidate = mirror / src.path
        if candidate.is_file():
            with open(fd, "wb", closefd=True) as out, candidate.open("rb") as inp:
                shutil.copyfileobj(inp, out)
            _install(tmp, src)
            return "mirror"
        url = src.download_url()
        if url is None:
            raise DataError(
                f"source {src.id} is not in the mirror and has no downloadable upstream",
                file=candidate,
                hint="Set VNGOV_DATA_MIRROR to a folder that holds the raw mirror",
            )
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(fd, "wb", closefd=True) as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            raise DataError(
                f"source {src.id} is not in the mirror and the download failed: {exc}", file=candidate, value=url
            ) from exc
        _install(tmp, src)
        return "download"
    finally:
        tmp.unlink(missing_ok=True)


def fetch_all(sources: list[Source] | None = None, mirror: Path | None = None, progress: bool = True) -> dict[str, int]:
    """Fetch every manifest file; stops at the first file that is missing or has the wrong checksum."""
    sources = sources if sources is not None else load_manifest()
    mirror = mirror or paths.mirror_dir()
    counts = {"present": 0, "mirror": 0, "download": 0}
    for src in tqdm(sources, desc="fetch raw files", unit="file", disable=not progress):
        counts[fetch_one(src, mirror)] += 1
    return counts


def raw_fingerprint(sources: list[Source]) -> str:
    """One hash for the whole set of raw inputs: changes whenever any input file changes."""
    h = hashlib.sha256()
    for src in sorted(sources, key=lambda s: s.id):
        h.update(f"{src.id}:{src.sha256}\n".encode())
    return h.hexdigest()
