"""Language choice, and the one place that formats dates and times for the whole app.

"Kamis, 24 Juni 2021, pukul 09.00 WIB" in Indonesian, "Thursday, 24 June 2021 at 09:00 WIB" in
English. Babel gives the names of days and months and each language's 24-hour clock ("09.00" in
Indonesian, "09:00" in English); the words between ("pukul", "s.d.") come from the translation
catalog, so these functions run inside the app context. Times are always shown in the programme's
time zone, followed by its abbreviation.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, format_date, format_timedelta, match_skeleton, parse_pattern
from babel.support import NullTranslations
from flask import Flask, has_app_context, request, session
from flask_babel import force_locale, get_locale, get_translations, gettext, ngettext
from jinja2 import pass_context
from jinja2.runtime import Context

from workshop import clock

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANGUAGE = "id"

ZONE_ABBREVIATIONS = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}

DAY_PATTERN = "EEEE, d MMMM y"  # Kamis, 24 Juni 2021
CLOCK_SKELETON = "Hm"  # the language's 24-hour clock: 09.00 (id), 09:00 (en)
SHORT_DAY_SKELETON = "dM"  # 24/6 (id), 6/24 (en)


def stage_label(number: str, locale: str | None = None) -> str:
    """'Tahap II' (Indonesian) or 'Stage II' (English); the current language unless one is given."""
    with _language(locale):
        return gettext("Stage %(number)s", number=number)


def stages_label(numbers: list[str], locale: str | None = None) -> str:
    """'Tahap I, III' / 'Stages I, III'; empty for no stage."""
    if not numbers:
        return ""
    with _language(locale):
        return ngettext("Stage %(numbers)s", "Stages %(numbers)s", len(numbers), numbers=", ".join(numbers))


# Each language's Babel Locale, made once: Flask-Babel parses what the selector returns into one
# at every request's first translation, unless it is one already (`Locale.parse` returns it).
LOCALES = {language: Locale.parse(language) for language in LANGUAGES}


def select_locale() -> Locale:
    chosen = session.get("lang") if request else None
    return LOCALES[chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE]


TEMPLATE_TRANSLATIONS = "_translations"


def install_template_gettext(app: Flask) -> None:
    """Templates' `_()`, `ngettext` and `{% trans %}` take the catalog once per render instead of
    once per call. Flask-Babel's callables ask `get_translations()` for every word, through about
    nine context-local lookups: 77,000 instructions a call, against 1,400 for the catalog's own
    gettext, and the participant page has nine of them (issue 15, docs/benchmarks.md). The catalog
    is still Flask-Babel's, taken when `render_template` runs (so inside `force_locale` too); a
    template rendered without Flask's context processors, or a macro imported without context,
    asks Flask-Babel as before."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by jinja2.ext.i18n
        gettext=_template_gettext,
        ngettext=_template_ngettext,
        pgettext=_template_pgettext,
        npgettext=_template_npgettext,
        newstyle=True,
    )

    @app.context_processor
    def _catalog_of_render() -> dict:
        return {TEMPLATE_TRANSLATIONS: get_translations()}


def _catalog(context: Context) -> NullTranslations:
    catalog = context.get(TEMPLATE_TRANSLATIONS)
    return catalog if catalog is not None else get_translations()


@pass_context
def _template_gettext(context: Context, string: str) -> str:
    return _catalog(context).ugettext(string)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _catalog(context).ungettext(singular, plural, n)


@pass_context
def _template_pgettext(context: Context, meaning: str, string: str) -> str:
    return _catalog(context).upgettext(meaning, string)


@pass_context
def _template_npgettext(context: Context, meaning: str, singular: str, plural: str, n: int) -> str:
    return _catalog(context).unpgettext(meaning, singular, plural, n)


def current_language() -> str:
    """The language of the request (or of the `force_locale` block) being served."""
    chosen = str(get_locale() or DEFAULT_LANGUAGE) if has_app_context() else DEFAULT_LANGUAGE
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def zone_abbreviation(timezone: str, moment: datetime | None = None) -> str:
    """'WIB' for Asia/Jakarta; the zone's own abbreviation (e.g. 'CEST') elsewhere."""
    if timezone in ZONE_ABBREVIATIONS:
        return ZONE_ABBREVIATIONS[timezone]
    return (moment or clock.now()).astimezone(ZoneInfo(timezone)).tzname() or timezone


def local(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def format_day(moment: datetime | date, timezone: str, locale: str) -> str:
    """'Kamis, 24 Juni 2021': the day of a moment in the time zone, or a calendar day as it is."""
    day = local(moment, timezone).date() if isinstance(moment, datetime) else moment
    return format_date(day, DAY_PATTERN, locale=locale)


def format_short_day(moment: datetime, timezone: str, locale: str) -> str:
    """'24/6': the day of a moment where the month and year go without saying."""
    return _format_skeleton(SHORT_DAY_SKELETON, local(moment, timezone), locale)


def format_time(moment: datetime, timezone: str, locale: str | None = None) -> str:
    """'09.00' (Indonesian) or '09:00' (English), without the zone: for columns headed by it."""
    return _format_skeleton(CLOCK_SKELETON, local(moment, timezone), locale or current_language())


def _format_skeleton(skeleton: str, moment: datetime, locale: str) -> str:
    """Babel's `format_skeleton` of a moment with its time zone, the skeleton's pattern found once
    per language (finding it each time was most of the cost of a check-in answer's time)."""
    pattern, language = _skeleton_pattern(skeleton, locale)
    return pattern.apply(moment, language)


@functools.cache
def _skeleton_pattern(skeleton: str, locale: str) -> tuple[DateTimePattern, Locale]:
    """As Babel's `format_skeleton` (fuzzy) finds it: the CLDR's pattern, or its closest match."""
    language = Locale.parse(locale)
    skeletons = language.datetime_skeletons
    if skeleton not in skeletons:
        skeleton = match_skeleton(skeleton, skeletons) or skeleton
    return parse_pattern(skeletons[skeleton]), language


def format_clock(moment: datetime, timezone: str, locale: str | None = None) -> str:
    """'09.00 WIB'; the current language unless one is given."""
    return f"{format_time(moment, timezone, locale)} {zone_abbreviation(timezone, moment)}"


def format_datetime_long(moment: datetime, timezone: str, locale: str) -> str:
    """'Kamis, 24 Juni 2021, pukul 09.00 WIB'."""
    day, clock = format_day(moment, timezone, locale), format_clock(moment, timezone, locale)
    with _language(locale):
        return gettext("%(day)s at %(time)s", day=day, time=clock)


def format_range(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """A stage's span: 'Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. 16.00 WIB' on one day, the end's
    day and time as well over several days."""
    if local(start, timezone).date() == local(end, timezone).date():
        until = format_clock(end, timezone, locale)
    else:
        until = format_datetime_long(end, timezone, locale)
    return span(format_datetime_long(start, timezone, locale), until, locale)


def format_day_range(start: datetime, end: datetime, timezone: str, locale: str) -> str:
    """'Kamis, 24 Juni 2021', or 'Kamis, 24 Juni 2021 s.d. Jumat, 25 Juni 2021'."""
    first, last = format_day(start, timezone, locale), format_day(end, timezone, locale)
    return first if first == last else span(first, last, locale)


def format_offset(offset: timedelta, locale: str | None = None) -> str:
    """'3 hari', '1 jam', '90 menit' ('3 days', ...): in the largest unit (day, hour, minute) that
    divides the offset, never rounded ('14 hari', not '2 minggu'; '90 menit', not '2 jam')."""
    minutes = int(offset.total_seconds() // 60)
    unit: Literal["day", "hour", "minute"]
    if minutes and minutes % (24 * 60) == 0:
        unit, count = "day", minutes // (24 * 60)
    elif minutes and minutes % 60 == 0:
        unit, count = "hour", minutes // 60
    else:
        unit, count = "minute", minutes
    # Babel takes the first unit whose count reaches the threshold: with the count itself as the
    # threshold, no larger unit (week, month) reaches it.
    return format_timedelta(
        timedelta(minutes=minutes),
        threshold=max(count, 1),
        granularity=unit,
        locale=locale or current_language(),
    )


def span(start: str, end: str, locale: str) -> str:
    """'<start> s.d. <end>' (Indonesian) or '<start> to <end>' (English)."""
    with _language(locale):
        return gettext("%(start)s to %(end)s", start=start, end=end)


def _language(locale: str | None):
    """Translate in `locale` (the current language when None): the catalogs need the app."""
    if not has_app_context():
        raise RuntimeError("dates and stage names are formatted inside the app context (translations)")
    return force_locale(locale or current_language())
