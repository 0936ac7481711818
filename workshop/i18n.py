"""Language choice and Indonesian-style date and time formatting.

"Kamis, 24 Juni 2021, pukul 09.00 WIB" in Indonesian, "Thursday, 24 June 2021, 09.00 WIB"
in English. Times are always shown in the programme's time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import request, session
from flask_babel import gettext

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"

ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


def stage_label(number: str) -> str:
    """'Tahap II' (Indonesian) or 'Stage II' (English)."""
    return gettext("Stage %(number)s", number=number)


def select_locale() -> str:
    chosen = session.get("lang") if request else None
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def zone_abbreviation(timezone: str, moment: datetime | None = None) -> str:
    if timezone in ZONE_ABBREVIATIONS:
        return ZONE_ABBREVIATIONS[timezone]
    return (moment or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone)).tzname()


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def format_day(moment: datetime, timezone: str, locale: str) -> str:
    """'Kamis, 24 Juni 2021'."""
    return format_date(local(moment, timezone).date(), "EEEE, d MMMM y", locale=locale)


def format_clock(moment: datetime, timezone: str) -> str:
    """'09.00 WIB' (a full stop between hours and minutes, as in Indonesian usage)."""
    here = local(moment, timezone)
    return f"{here:%H.%M} {zone_abbreviation(timezone, moment)}"


def format_datetime_long(moment: datetime, timezone: str, locale: str) -> str:
    """'Kamis, 24 Juni 2021, pukul 09.00 WIB'."""
    word = "pukul " if locale == "id" else ""
    return f"{format_day(moment, timezone, locale)}, {word}{format_clock(moment, timezone)}"


def format_range(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """A stage's span: one day, or from one day to another."""
    if local(start, timezone).date() == local(end, timezone).date():
        until = "s.d." if locale == "id" else "to"
        clock_end = format_clock(end, timezone)
        return f"{format_datetime_long(start, timezone, locale)} {until} {clock_end}"
    until = "s.d." if locale == "id" else "to"
    return (
        f"{format_datetime_long(start, timezone, locale)} {until} "
        f"{format_datetime_long(end, timezone, locale)}"
    )
