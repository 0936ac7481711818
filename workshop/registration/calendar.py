"""The participant's .ics file: one event per day of each stage, in the participant's language.

The file goes into calendar services that sync it, so it carries no credential: it links to the
participant page (which asks to log in), never to the personal link. Every event has a UID that
stays the same and a SEQUENCE that is the programme's schedule version, which every change of a
stage bumps, so a calendar that imports the file again replaces the events it had. The first day
keeps the UID a whole-stage event had, and has an alarm the day before.

A UID names the stage's day, the same event for everyone, so the files of all participants with
the same mode and language are the same bytes: a reminder run serialises each once (`to_ics` is
cached on the events' values).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import gettext as _

from workshop import web
from workshop.db import utcnow
from workshop.i18n import stage_label
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window
from workshop.registration.models import Mode, Registration

ALARM_BEFORE = timedelta(days=1)


def page_url(registration: Registration, config: Mapping) -> str:
    """The participant page (it asks to log in first): the link the events carry."""
    return web.public_url(config, "registration.participant_page", slug=registration.program.slug)


@dataclass(frozen=True)
class CalendarEvent:
    """One day of a stage as the calendar file shows it: plain values, read from the rows."""

    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    location: str
    description: str
    alarm: str  # the reminder's text the day before; empty for none


def calendar_for(
    registration: Registration, page_url: str | None, locale: str, stages: Iterable[Stage] | None = None
) -> bytes:
    """The whole programme, or only the given stages (a reminder's attachment)."""
    program = registration.program
    return to_ics(program.title, events_for(registration, page_url, locale, stages), program.schedule_version)


def events_for(
    registration: Registration, page_url: str | None, locale: str, stages: Iterable[Stage] | None = None
) -> list[CalendarEvent]:
    with force_locale(locale):
        program = registration.program
        return [
            event
            for stage in (program.stages if stages is None else stages)
            for event in _stage_events(registration, stage, page_url)
        ]


def to_ics(name: str, events: Iterable[CalendarEvent], sequence: int) -> bytes:
    return _serialised(name, tuple(events), sequence)


@lru_cache(maxsize=256)
def _serialised(name: str, events: tuple[CalendarEvent, ...], sequence: int) -> bytes:
    # icalendar is loaded by the first .ics, not by every web process at start-up (issue 15: memory)
    from icalendar import Alarm, Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Bimtek Hybrid//bimtek-hybrid//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("sequence", sequence)
        event.add("dtstamp", stamp)
        event.add("summary", item.summary)
        event.add("dtstart", item.starts_at.astimezone(UTC))
        event.add("dtend", item.ends_at.astimezone(UTC))
        if item.location:
            event.add("location", item.location)
        event.add("description", item.description)
        if item.alarm:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", item.alarm)
            alarm.add("trigger", -ALARM_BEFORE)
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def _stage_events(registration: Registration, stage: Stage, page_url: str | None) -> list[CalendarEvent]:
    title = f"{stage_label(stage.number)}: {stage.title}"
    location, description = _where(registration, stage, page_url)
    days = stage_window(stage).days()
    uid = f"stage-{stage.id}"
    return [
        CalendarEvent(
            uid=f"{uid}@bimtek-hybrid" if day == 1 else f"{uid}-day-{day}@bimtek-hybrid",
            summary=_("%(stage)s (day %(day)d of %(days)d)", stage=title, day=day, days=len(days))
            if len(days) > 1
            else title,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            description=description,
            alarm=title if day == 1 else "",
        )
        for day, (starts_at, ends_at) in enumerate(days, start=1)
    ]


def _where(registration: Registration, stage: Stage, page_url: str | None) -> tuple[str, str]:
    """The event's location and description: the meeting (daring) or the hall (luring)."""
    lines = [registration.program.title]
    if registration.mode_for(stage) == Mode.DARING:
        location = stage.meeting_url or stage.meeting_provider
        lines.append(": ".join(part for part in (stage.meeting_provider, stage.meeting_url) if part))
        if stage.meeting_id:
            lines.append(f"{_('Meeting ID')}: {stage.meeting_id}")
        if stage.meeting_passcode:
            lines.append(f"{_('Passcode')}: {stage.meeting_passcode}")
    else:
        location = ", ".join(part for part in (stage.venue_name, stage.venue_address) if part)
    if page_url:
        lines.append(_("Your schedule, ticket, questions and polls: %(url)s", url=page_url))
    return location, "\n".join(line for line in lines if line)
