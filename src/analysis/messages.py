"""Every text a reader sees comes from gettext catalogs, one `.po` file per domain and language under
`analysis/locale/<lang>/LC_MESSAGES/<domain>.po`, so that a translator corrects a phrase with the usual
catalog tools (Poedit, Lokalize, Weblate) and never edits Python.

Code holds message ids, not sentences: `t("card.total", "vi", value="40,76", ...)`. The id's first part
names its domain (`card.total` lives in `card.po`), which keeps each part of the product in its own small
catalog. Both languages have a full catalog (English is a translation like Vietnamese, not the id), and a
missing or untranslated id is an error, never a silently English or empty text.

Messages are `str.format` templates with named fields; numbers arrive already formatted by
`analysis.i18n` (Babel's locale data), so the templates carry no format specifications.
"""

from __future__ import annotations

import gettext
import io
import re
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("vi", "en")
MSGID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class MessageError(LookupError):
    """A message id without a translation: a programming or catalog error, named with its catalog file."""


def po_path(lang: str, domain: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


@cache
def _translations(lang: str, domain: str) -> gettext.GNUTranslations:
    """The catalog compiled in memory: the `.po` stays the one file to edit (no `.mo` to keep in step)."""
    path = po_path(lang, domain)
    if lang not in LANGUAGES:
        raise MessageError(f"language must be one of {LANGUAGES}, not {lang!r}")
    if not path.is_file():
        raise MessageError(f"no message catalog {path}")
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=domain)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _domain(msgid: str) -> str:
    if not MSGID.match(msgid):
        raise MessageError(f"{msgid!r} is not a message id (domain.key, lower case)")
    return msgid.split(".", 1)[0]


def t(msgid: str, lang: str, /, **fields: object) -> str:
    """The message `msgid` in `lang`, with `fields` filled in."""
    text = _translations(lang, _domain(msgid)).gettext(msgid)
    if text == msgid:
        raise MessageError(f"message {msgid!r} has no translation in {po_path(lang, _domain(msgid))}")
    return text.format(**fields) if fields else text


def tn(msgid: str, n: int, lang: str, /, **fields: object) -> str:
    """The plural form of `msgid` for the count `n` (`{n}` is filled in too): "1 province", "2 provinces"."""
    text = _translations(lang, _domain(msgid)).ngettext(msgid, msgid, n)
    if text == msgid:
        raise MessageError(f"message {msgid!r} has no translation in {po_path(lang, _domain(msgid))}")
    return text.format(n=n, **fields)


def translator(lang: str):  # noqa: ANN201 - a callable (msgid, **fields) -> str
    """`t` bound to one language, for code that writes many messages in one language."""

    def bound(msgid: str, /, **fields: object) -> str:
        return t(msgid, lang, **fields)

    return bound


def domains() -> list[str]:
    """Every domain with a catalog in some language."""
    return sorted({p.stem for p in LOCALE_DIR.glob("*/LC_MESSAGES/*.po")})
