"""The participant's .ics file: one event per stage, with an alarm the day before."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, timedelta

from icalendar import Alarm, Calendar, Event

from workshop.db import utcnow
from workshop.i18n import stage_label
from workshop.programs.models import Stage
from workshop.registration.models import Mode, Registration

ALARM_BEFORE = timedelta(days=1)


def calendar_for(
    registration: Registration, personal_url: str | None, stages: Iterable[Stage] | None = None
) -> bytes:
    """The whole programme, or only the given stages (a reminder's attachment)."""
    program = registration.program
    calendar = Calendar()
    calendar.add("prodid", "-//Bimtek Hybrid//bimtek-hybrid//ID")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", program.title)
    for stage in program.stages if stages is None else stages:
        mode = registration.mode_for(stage)
        event = Event()
        event.add("uid", f"stage-{stage.id}-registration-{registration.id}@bimtek-hybrid")
        event.add("summary", f"{stage_label(stage.number)}: {stage.title}")
        event.add("dtstart", stage.starts_at.astimezone(UTC))
        event.add("dtend", stage.ends_at.astimezone(UTC))
        event.add("dtstamp", utcnow())
        lines = [program.title]
        if mode == Mode.DARING:
            event.add("location", stage.meeting_url or stage.meeting_provider)
            lines += [
                f"{stage.meeting_provider}: {stage.meeting_url}".strip(": "),
                f"Meeting ID: {stage.meeting_id}" if stage.meeting_id else "",
                f"Passcode: {stage.meeting_passcode}" if stage.meeting_passcode else "",
            ]
        else:
            event.add("location", ", ".join(p for p in (stage.venue_name, stage.venue_address) if p))
        if personal_url:
            lines.append(personal_url)
        event.add("description", "\n".join(line for line in lines if line))
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{stage_label(stage.number)}: {stage.title}")
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
