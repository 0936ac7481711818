"""A programme's schedule as participants see it, prepared once per version and language.

Every participant of a programme sees the same stages, times and agenda; only their mode per
stage differs. The prepared schedule is kept per process, keyed by the programme's
`schedule_version`, which every change to its stages or agenda bumps, so all processes see a
change on their next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workshop import i18n
from workshop.programs.models import Program, Stage

CACHE_LIMIT = 256


@dataclass(frozen=True)
class AgendaLine:
    clock: str
    title: str
    speaker: str


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
    starts_label: str
    ends_label: str
    venue_name: str
    venue_address: str
    capacity: int | None
    meeting_provider: str
    meeting_url: str
    meeting_id: str
    meeting_passcode: str
    agenda: tuple[AgendaLine, ...]


class ScheduleCache:
    """Prepared schedules of one app (one database), by (programme, version, language)."""

    def __init__(self) -> None:
        self._prepared: dict[tuple[int, int, str], tuple[StageView, ...]] = {}

    def stage_views(self, session: Session, program: Program, locale: str) -> tuple[StageView, ...]:
        key = (program.id, program.schedule_version, locale)
        views = self._prepared.get(key)
        if views is None:
            if len(self._prepared) >= CACHE_LIMIT:
                self._prepared.clear()
            views = self._prepared[key] = _prepare(session, program, locale)
        return views


def _prepare(session: Session, program: Program, locale: str) -> tuple[StageView, ...]:
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
            starts_label=i18n.format_datetime_long(stage.starts_at, zone, locale),
            ends_label=i18n.format_datetime_long(stage.ends_at, zone, locale),
            venue_name=stage.venue_name,
            venue_address=stage.venue_address,
            capacity=stage.capacity,
            meeting_provider=stage.meeting_provider,
            meeting_url=stage.meeting_url,
            meeting_id=stage.meeting_id,
            meeting_passcode=stage.meeting_passcode,
            agenda=tuple(
                AgendaLine(i18n.format_clock(item.starts_at, zone, locale), item.title, item.speaker)
                for item in stage.agenda
            ),
        )
        for stage in stages
    )
