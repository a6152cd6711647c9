"""What a text from data may contain, so that every output format can hold it.

The Word cards (XML 1.0) refuse U+FFFE, U+FFFF, lone surrogates and most control characters; a lone surrogate
cannot even be written as UTF-8; a right-to-left override (U+202E) makes "exe.txt" read as "txt.exe" on a
page; an ANSI escape in a file name recolours or clears the terminal that prints it. A text is checked when
it enters the build (a cell, a mapping value, a file name) and refused by name there, rather than failing
every later run in a writer that cannot say which row it came from."""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u202a-\u202e\u2066-\u2069"
# Outside XML 1.0's Char production (tab, LF and CR are in it), plus C1 controls and bidirectional overrides.
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff{_BIDI}]")
# Names (files, provinces, indices) also may not hold tabs or line breaks.
_UNSAFE_IN_NAME = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff{_BIDI}]")
UNSAFE_PATTERN = _UNSAFE.pattern
"""For vectorised checks (`Series.str.contains`)."""


def describe(char: str) -> str:
    """'U+202E (RIGHT-TO-LEFT OVERRIDE)' for a character a reader cannot see."""
    name = unicodedata.name(char, "")
    if not name:
        code = ord(char)
        name = ("a lone surrogate, not a character" if 0xD800 <= code <= 0xDFFF else
                "a noncharacter" if code in (0xFFFE, 0xFFFF) else "a control character")
    return f"U+{ord(char):04X} ({name})"


def problem(text: str, *, name: bool = False) -> str | None:
    """Why `text` cannot go into the outputs (its length over `limits.TEXT_MAX_CHARS`, or the first offending
    character), or None when it can."""
    from .limits import TEXT_MAX_CHARS

    if len(text) > TEXT_MAX_CHARS:
        return f"{len(text):,} characters, more than the {TEXT_MAX_CHARS:,} one text may hold (README, Limits)"
    m = (_UNSAFE_IN_NAME if name else _UNSAFE).search(text)
    if m is None:
        return None
    char = m.group()
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        kind = "a bidirectional control, which reorders the text around it"
    elif char == "\x1b":
        kind = "an ANSI escape, which controls a terminal"
    elif char in "\t\n\r":
        kind = "a tab or line break"
    else:
        kind = "a character Word (XML) files and UTF-8 cannot hold"
    return f"{describe(char)} at position {m.start() + 1}: {kind}"


def visible(text: str, *, name: bool = False) -> str:
    """`text` with every character `problem` refuses written as an escape (\\u202e), so that a message quoting
    it is safe to print and shows what is there (line breaks are kept, except in a name)."""
    return (_UNSAFE_IN_NAME if name else _UNSAFE).sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)
