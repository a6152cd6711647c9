"""The message catalogs are complete: every id the code or a notebook asks for exists in both languages,
every Vietnamese entry is translated, and a translation keeps the fields its template fills in."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from analysis import messages
from analysis.messages import LANGUAGES, MessageError, po_path, t, tn

ROOT = Path(__file__).resolve().parents[1]
# A literal id in a call of t(), tn() or a bound translator named tr(): `t("card.total", lang, ...)`.
CALL = re.compile(r"""\b(?:t|tn|tr)\(\s*["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']""")


def _sources() -> list[tuple[str, str]]:
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in (ROOT / "src").rglob("*.py") if p.name != "messages.py"]
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        out.append((str(nb.relative_to(ROOT)), "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")))
    return out


def _catalog(lang: str, domain: str):
    with po_path(lang, domain).open("rb") as fh:
        return read_po(fh, locale=lang, domain=domain)


def _fields(text: str | tuple) -> set[str]:
    texts = text if isinstance(text, tuple) else (text,)
    return {f for s in texts for _, f, _, _ in string.Formatter().parse(s) if f}


def test_every_id_used_is_in_both_catalogs():
    missing = []
    for name, src in _sources():
        for msgid in CALL.findall(src):
            for lang in LANGUAGES:
                domain = msgid.split(".", 1)[0]
                if not po_path(lang, domain).is_file() or msgid not in _catalog(lang, domain):
                    missing.append(f"{name}: {msgid} ({lang})")
    assert not missing, "ids without a catalog entry:\n" + "\n".join(sorted(set(missing)))


@pytest.mark.parametrize("domain", messages.domains())
def test_catalogs_complete_and_consistent(domain):
    vi, en = _catalog("vi", domain), _catalog("en", domain)
    ids_vi = {m.id if isinstance(m.id, str) else m.id[0] for m in vi if m.id}
    ids_en = {m.id if isinstance(m.id, str) else m.id[0] for m in en if m.id}
    assert ids_vi == ids_en, f"{domain}: only vi {sorted(ids_vi - ids_en)}, only en {sorted(ids_en - ids_vi)}"
    for m in vi:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        assert key.startswith(domain + "."), f"{key} belongs to another domain than {domain}.po"
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        assert all(strings) and not m.fuzzy, f"{key}: no Vietnamese translation (or fuzzy)"
        other = en[m.id]
        assert other is not None and all(other.string if isinstance(other.string, tuple) else (other.string,)), f"{key}: no English text"
        assert _fields(m.string) == _fields(other.string), f"{key}: vi and en fill different fields"


def test_missing_and_malformed_ids_are_errors():
    with pytest.raises(MessageError, match="no translation"):
        t("common.no_such_message", "vi")
    with pytest.raises(MessageError, match="not a message id"):
        t("Total score", "en")
    with pytest.raises(MessageError, match="language"):
        t("common.reliability.user", "fr")


def test_lookup_fills_fields_and_plurals(tmp_path, monkeypatch):
    assert t("common.reliability.user", "vi") == "số liệu của người dùng"
    assert t("common.reliability.user", "en") == "user-supplied"
    # a throwaway domain: plural forms follow each language's Plural-Forms header
    for lang, forms in (("en", ('msgstr[0] "{n} province"', 'msgstr[1] "{n} provinces"')), ("vi", ('msgstr[0] "{n} tỉnh"',))):
        d = tmp_path / lang / "LC_MESSAGES"
        d.mkdir(parents=True)
        plural = "nplurals=2; plural=(n != 1);" if lang == "en" else "nplurals=1; plural=0;"
        (d / "zz.po").write_text(
            f'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Plural-Forms: {plural}\\n"\n\n'
            'msgid "zz.provinces"\nmsgid_plural "zz.provinces"\n' + "\n".join(forms) + "\n\n"
            'msgid "zz.hello"\nmsgstr "{name}!"\n', encoding="utf-8")
    monkeypatch.setattr(messages, "LOCALE_DIR", tmp_path)
    messages._translations.cache_clear()
    try:
        assert tn("zz.provinces", 1, "en") == "1 province"
        assert tn("zz.provinces", 2, "en") == "2 provinces"
        assert tn("zz.provinces", 2, "vi") == "2 tỉnh"
        assert t("zz.hello", "vi", name="Huế") == "Huế!"
    finally:
        messages._translations.cache_clear()
