"""Text people type, cleaned once where it enters: forms (workshop/forms.py), live payloads,
scanner desks, roster files.

Control characters have no place in a name, a question or an answer: PostgreSQL refuses a NUL,
spreadsheet files refuse most of them (openpyxl raises IllegalCharacterError, the whole export
fails), and others hide or reorder what a reader sees (bidirectional overrides). Lone surrogates,
which JSON can carry ("\\ud800"), cannot be stored as UTF-8. All of these are dropped; tabs and
line breaks become spaces, except in multi-line text, which keeps its line breaks as "\\n".
Invisible characters that join or separate (zero-width space and joiners, word joiner, byte order
mark) stay inside text (an emoji sequence, a name in another script needs them) but are trimmed
with the spaces around it: a question of nothing but them is empty.
"""

from __future__ import annotations

import re

# C0 controls but tab and line breaks, DEL and C1 controls, surrogates, and the bidirectional
# embedding, override and isolate marks (U+202A-U+202E, U+2066-U+2069).
_DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")
# What `str.strip()` removes (every space character is below U+3001), and the invisible ones.
_BLANKS = (
    "".join(char for char in map(chr, range(0x3001)) if char.isspace()) + "\u200b\u200c\u200d\u2060\ufeff"
)


def _trim(text: str) -> str:
    return text.strip(_BLANKS)


def clean_line(value: str | None) -> str:
    """One line of text: no control characters, no surrounding spaces."""
    return _trim(_LINE_BREAK.sub(" ", _DROPPED.sub("", value or "")).replace("\t", " "))


def clean_lines(value: str | None) -> str:
    """Multi-line text: no control characters, line breaks as "\\n", no surrounding spaces."""
    return _trim(_LINE_BREAK.sub("\n", _DROPPED.sub("", value or "")).replace("\t", " "))
