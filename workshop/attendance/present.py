"""Who is present at a stage now: one definition for the dashboard, the poll summary, the live
control page and the projector.

In the hall: checked in (not undone) for the stage day whose check-ins count now
(`StageWindow.hall_date`: after midnight in a stage that crosses it, still the day it began).
Online: not in the hall, and seen by the live presence heartbeat (sent by the participant page and
the live page while open) within the last PRESENCE_GAP. Approved registrations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select

from workshop.attendance.queries import approved_in_program, online_now
from workshop.checkin.models import CheckIn
from workshop.db import Session
from workshop.programs.models import Stage
from workshop.programs.windows import stage_window

# Built once (its cache key is memoised on the statement): every broadcast tick of a poll asks.
_IN_HALL = select(CheckIn.registration_id).where(
    CheckIn.stage_id == bindparam("stage_id"),
    CheckIn.day == bindparam("day"),
    CheckIn.undone_at.is_(None),
    approved_in_program(CheckIn.registration_id),
)


@dataclass(frozen=True)
class PresentNow:
    hall: frozenset[int]  # registration ids
    online: frozenset[int]  # registration ids, none of them in the hall

    @property
    def everyone(self) -> frozenset[int]:
        return self.hall | self.online


def present_now(session: Session, stage: Stage, now: datetime) -> PresentNow:
    day = stage_window(stage).hall_date(now)
    hall = frozenset(
        session.scalars(_IN_HALL, {"stage_id": stage.id, "day": day, "program_id": stage.program_id})
        if day is not None
        else ()
    )
    seen_online = online_now(session, stage, now, approved_only=True)
    return PresentNow(hall=hall, online=frozenset(seen_online) - hall)
