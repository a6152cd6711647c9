"""The manifest and the fetch step: copies from a mirror, downloads at a pinned address, verifies sha256."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from analysis import manifest
from analysis.errors import DataError
from analysis.manifest import Source, fetch_all, load_manifest


def make_source(tmp_path, content=b"hello", **kw):
    (tmp_path / "mirror" / "a").mkdir(parents=True, exist_ok=True)
    (tmp_path / "mirror" / "a" / "f.csv").write_bytes(content)
    fields = {"id": "f", "path": "a/f.csv", "sha256": hashlib.sha256(b"hello").hexdigest(), "role": "indicator",
              "licence": "x", "citation": "x", "publisher": "x", "upstream": {"repository": "o/r", "commit": "c" * 40, "path": "f.csv"}}
    fields.update(kw)
    return Source(**fields)


def test_real_manifest_is_complete():
    sources = load_manifest()
    assert len(sources) >= 50
    assert all(s.citation and s.licence and s.publisher for s in sources)
    assert all(s.local_path.exists() for s in sources)
    assert {s.adapter for s in sources if s.role == "indicator"} >= {"papi_combined", "papi_yearly", "papi_subdims", "pci_workbook"}


def test_fetch_copies_and_verifies(tmp_path, monkeypatch):
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    src = make_source(tmp_path)
    assert fetch_all([src], mirror=tmp_path / "mirror", progress=False) == {"present": 0, "mirror": 1, "download": 0}
    assert (tmp_path / "raw" / "a" / "f.csv").read_bytes() == b"hello"
    assert fetch_all([src], mirror=tmp_path / "mirror", progress=False)["present"] == 1


def test_fetch_checksum_mismatch(tmp_path, monkeypatch):
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    src = make_source(tmp_path, content=b"changed")
    with pytest.raises(DataError, match="sha256 mismatch"):
        fetch_all([src], mirror=tmp_path / "mirror", progress=False)
    assert not (tmp_path / "raw" / "a" / "f.csv").exists()


def test_fetch_downloads_when_mirror_lacks_file(tmp_path, monkeypatch):
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    upstream = tmp_path / "upstream.csv"
    upstream.write_bytes(b"hello")
    src = make_source(tmp_path)
    monkeypatch.setattr(Source, "download_url", lambda self: upstream.as_uri())
    assert fetch_all([src], mirror=tmp_path / "empty-mirror", progress=False)["download"] == 1


def test_download_url_pins_commit(tmp_path):
    src = make_source(tmp_path, upstream={"repository": "mdtrinh/vietnam_elections", "commit": "abc", "path": "Data/PCI/PCI 2014.xlsx"})
    assert src.download_url() == "https://raw.githubusercontent.com/mdtrinh/vietnam_elections/abc/Data/PCI/PCI%202014.xlsx"
    assert make_source(tmp_path, upstream={"downloadable": False}).download_url() is None


def test_missing_everywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("VNGOV_RAW_DIR", str(tmp_path / "raw"))
    src = make_source(tmp_path, path="a/missing.csv", upstream={"downloadable": False})
    with pytest.raises(DataError, match="not in the mirror and has no downloadable upstream"):
        fetch_all([src], mirror=tmp_path / "mirror", progress=False)


def test_manifest_rejects_unknown_keys_and_duplicates(tmp_path):
    good = {"id": "x", "path": "p", "sha256": "a" * 64, "role": "indicator", "licence": "l", "citation": "c", "publisher": "p"}
    p = tmp_path / "m.yml"
    p.write_text(yaml.safe_dump({"sources": [good | {"colour": "red"}]}))
    with pytest.raises(DataError, match="unknown keys"):
        load_manifest(p)
    p.write_text(yaml.safe_dump({"sources": [good, good]}))
    with pytest.raises(DataError, match="duplicate source id"):
        load_manifest(p)
    p.write_text(yaml.safe_dump({"sources": [good | {"sha256": "xyz"}]}))
    with pytest.raises(DataError, match="sha256"):
        load_manifest(p)


def test_fingerprint_changes_with_any_input(tmp_path):
    a = make_source(tmp_path)
    b = make_source(tmp_path, sha256="b" * 64)
    assert manifest.raw_fingerprint([a]) != manifest.raw_fingerprint([b])
