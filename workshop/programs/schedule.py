"""A programme's schedule as participants see it, prepared once per version and language.

Every participant of a programme sees the same stages, times and agenda; only their mode per
stage differs. The prepared schedule is kept per process, keyed by the programme's
`schedule_version`, which every change to its stages or agenda bumps, so all processes see a
change on their next request.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from workshop import i18n
from workshop.db import Session
from workshop.programs.models import Program, ProgramRow, Stage
from workshop.programs.windows import stage_window

CACHE_LIMIT = 256


class Phase(enum.StrEnum):
    """Where a stage stands: it runs from its start to its end (nights between its days included)."""

    UPCOMING = "upcoming"
    RUNNING = "running"
    ENDED = "ended"


def stage_phase(stage, now: datetime) -> Phase:
    """The phase of a Stage or its StageView at `now`."""
    if now < stage.starts_at:
        return Phase.UPCOMING
    return Phase.RUNNING if now <= stage.ends_at else Phase.ENDED


def resumes_at(stage, now: datetime) -> datetime | None:
    """When a stage held over several days goes on, while `now` falls between two of its days
    (the evening, the night, the early morning): it is running, yet nothing happens until then.
    None during one of its days, or when it is not running."""
    if stage_phase(stage, now) != Phase.RUNNING:
        return None
    for start, end in stage_window(stage).days():
        if now < start:
            return start
        if now < end:
            return None
    return None


def stage_for_now(stages, now: datetime):
    """The stage a participant needs now: the one running, else the next to start (None when all
    have ended)."""
    phases = [(stage_phase(stage, now), stage) for stage in stages]
    running = [stage for phase, stage in phases if phase == Phase.RUNNING]
    upcoming = sorted(
        (stage for phase, stage in phases if phase == Phase.UPCOMING), key=lambda s: s.starts_at
    )
    return (running or upcoming or [None])[0]


def agenda_day(stage, moment: datetime, timezone: str, locale: str) -> str:
    """'Hari ke-2 · Selasa, 8 Desember 2026' for a moment of a stage held over several days; ''
    for a one-day stage, whose date the stage's own time already says."""
    first, last = (i18n.local(at, timezone).date() for at in (stage.starts_at, stage.ends_at))
    if first == last:
        return ""
    with force_locale(locale):
        number = gettext("Day %(number)d", number=(i18n.local(moment, timezone).date() - first).days + 1)
    return f"{number} · {i18n.format_day(moment, timezone, locale)}"


@dataclass(frozen=True)
class AgendaLine:
    clock: str
    title: str
    speaker: str
    day: str  # see agenda_day


@dataclass(frozen=True)
class ProgramInfo:
    id: int
    slug: str
    title: str
    timezone: str


@dataclass(frozen=True)
class StageView:
    """The fields of a Stage that pages read, with its times already formatted."""

    program: ProgramInfo
    cache_key: str  # changes with the programme's schedule version and the language
    id: int
    position: int
    number: str
    title: str
    starts_at: datetime
    ends_at: datetime
    span_label: str  # 'Kamis, 24 Juni 2021, pukul 09.00 WIB s.d. ...'
    venue_name: str
    venue_address: str
    capacity: int | None
    meeting_provider: str
    meeting_url: str
    meeting_id: str
    meeting_passcode: str
    check_in_opens_before_minutes: int
    agenda: tuple[AgendaLine, ...]


class ScheduleCache:
    """Prepared schedules of one app (one database), by (programme, version, language)."""

    def __init__(self) -> None:
        self._prepared: dict[tuple[int, int, str], tuple[StageView, ...]] = {}

    def stage_views(
        self, session: Session, program: Program | ProgramRow, locale: str
    ) -> tuple[StageView, ...]:
        key = (program.id, program.schedule_version, locale)
        views = self._prepared.get(key)
        if views is None:
            if len(self._prepared) >= CACHE_LIMIT:
                self._prepared.clear()
            views = self._prepared[key] = _prepare(session, program, locale)
        return views


def _prepare(session: Session, program: Program | ProgramRow, locale: str) -> tuple[StageView, ...]:
    zone = program.timezone
    info = ProgramInfo(id=program.id, slug=program.slug, title=program.title, timezone=zone)
    stages = session.scalars(
        select(Stage)
        .where(Stage.program_id == program.id)
        .order_by(Stage.position)
        .options(selectinload(Stage.agenda))
    ).all()
    return tuple(
        StageView(
            program=info,
            cache_key=f"{program.id}.{program.schedule_version}.{locale}.{stage.id}",
            id=stage.id,
            position=stage.position,
            number=stage.number,
            title=stage.title,
            starts_at=stage.starts_at,
            ends_at=stage.ends_at,
            span_label=i18n.format_range(stage.starts_at, stage.ends_at, zone, locale),
            venue_name=stage.venue_name,
            venue_address=stage.venue_address,
            capacity=stage.capacity,
            meeting_provider=stage.meeting_provider,
            meeting_url=stage.meeting_url,
            meeting_id=stage.meeting_id,
            meeting_passcode=stage.meeting_passcode,
            check_in_opens_before_minutes=stage.check_in_opens_before_minutes,
            agenda=tuple(
                AgendaLine(
                    i18n.format_clock(item.starts_at, zone, locale),
                    item.title,
                    item.speaker,
                    agenda_day(stage, item.starts_at, zone, locale),
                )
                for item in stage.agenda
            ),
        )
        for stage in stages
    )
