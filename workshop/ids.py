"""Row ids that come from outside: in URLs, socket and JSON payloads, query strings and forms.

A row id is a whole number from 1 to 2^31-1: the id columns are INTEGER, 32 bits on PostgreSQL
(SQLite's hold 64). Anything else can never name a row, and binding it to a query fails inside the
database driver (SQLite: OverflowError beyond 2^63-1; PostgreSQL: out of range beyond 2^31-1), so
it is refused where it enters: every `<int:...>` route through `IdConverter` (a 404), every
`<slug>` or `<code>` through `KeyConverter` (a 404 for control characters), payloads
through `valid_id`, text through `id_from_text` (the caller answers "unknown" or 400).
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, UnicodeConverter

MAX_ID = 2**31 - 1  # the largest INTEGER on PostgreSQL


def valid_id(value: object) -> int | None:
    """`value` if it is an int (not a bool) that can be a row id, else None."""
    return value if type(value) is int and 1 <= value <= MAX_ID else None


def id_from_text(text: str | None) -> int | None:
    """ "12" -> 12; "1e20", "-1", "²", "" and ids beyond 2^31-1 -> None (also past the 4,300
    digits that `int()` refuses with ValueError)."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0")
    return valid_id(int(digits)) if 0 < len(digits) <= len(str(MAX_ID)) else None


class IdConverter(IntegerConverter):
    """The `int` converter of every route: 1..2^31-1, so `/live/1e20/control` or
    `/live/100000000000000000000/control` is a 404 (werkzeug's own accepts any size)."""

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed: bool = False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class KeyConverter(UnicodeConverter):
    """The default converter of every route (`<slug>`, `<code>`, `<token>`): one path segment
    without control characters, so `/verifikasi/%00` is a 404 (a NUL cannot even be sent to
    PostgreSQL: binding it fails in the driver)."""

    def __init__(self, map, minlength: int = 1, maxlength: int | None = None, length: int | None = None):
        super().__init__(map, minlength=minlength, maxlength=maxlength, length=length)
        self.regex = self.regex.replace("[^/]", r"[^/\x00-\x1f\x7f-\x9f]", 1)
