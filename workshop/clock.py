"""The current time, read through one seam.

Every "now" of the app (views, socket handlers, the broadcast timer, row stamps through
`workshop.db.utcnow`) comes from `now()`. Tests set it with the `set_now` fixture of
tests/conftest.py (`set_now(moment)`, or `set_now(callable)` for a clock that moves); nothing else
sets it. Services still take `now` as an argument: only their callers read the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Source = Callable[[], datetime]


def wall_clock() -> datetime:
    return datetime.now(UTC)


_source: Source = wall_clock


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Source | datetime | None) -> None:
    """Read the time from `source` (a fixed moment or a callable); None goes back to the wall clock.
    For tests only (the `set_now` fixture)."""
    global _source
    if source is None:
        _source = wall_clock
    elif isinstance(source, datetime):
        if source.tzinfo is None:
            raise ValueError("naive datetime given; the clock is timezone-aware")
        _source = lambda: source  # noqa: E731
    else:
        _source = source
