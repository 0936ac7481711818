"""What the attendance pages and figures read: who is online now, each registration's online
intervals, the rows of meeting reports and the groups of unmatched rows to review."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Exists, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, joinedload

from workshop.attendance.attendance import merge
from workshop.attendance.models import MeetingReport, MeetingReportRow, OnlineEvidence, OnlineKind, RowMatch
from workshop.db import Session
from workshop.programs.models import Stage
from workshop.programs.windows import Interval
from workshop.registration.models import Person, Registration, Status

# Presence seen within this long of now counts as online now (clients beat every minute: a missed
# beat or two does not split an interval).
PRESENCE_GAP = timedelta(seconds=150)
COUNTED = (RowMatch.AUTO, RowMatch.MANUAL)
# Above this many registrations, online_intervals reads the whole stage instead of an IN (...) list.
_IN_LIST_LIMIT = 500


def approved_in_program(registration_id: InstrumentedAttribute[int]) -> Exists:
    """Whether the registration in this column is approved in the programme bound as `program_id`:
    a correlated EXISTS, so the database reads the stage's rows first and looks each registration
    up by its key (an IN (approved ids) read the programme's every registration first, twice a
    broadcast tick)."""
    return (
        select(Registration.id)
        .where(
            Registration.id == registration_id,
            Registration.program_id == bindparam("program_id"),
            Registration.status == Status.APPROVED,
        )
        .exists()
    )


# Built once (their cache keys are memoised on the statements): every broadcast tick of a poll asks.
_ONLINE_NOW = select(OnlineEvidence.registration_id).where(
    OnlineEvidence.stage_id == bindparam("stage_id"),
    OnlineEvidence.kind == OnlineKind.PRESENCE,
    OnlineEvidence.ended_at >= bindparam("seen_since"),
    OnlineEvidence.started_at <= bindparam("now"),
)
_ONLINE_NOW_APPROVED = _ONLINE_NOW.where(approved_in_program(OnlineEvidence.registration_id))


def online_now(session: Session, stage: Stage, now: datetime, *, approved_only: bool = False) -> set[int]:
    """Registrations whose live presence for the stage was seen within PRESENCE_GAP of now
    (with `approved_only`, the approved registrations of the stage's programme only)."""
    seen = {"stage_id": stage.id, "seen_since": now - PRESENCE_GAP, "now": now}
    if approved_only:
        return set(session.scalars(_ONLINE_NOW_APPROVED, seen | {"program_id": stage.program_id}))
    return set(session.scalars(_ONLINE_NOW, seen))


def online_intervals(
    session: Session, registration_ids: Iterable[int], stage: Stage
) -> dict[int, list[Interval]]:
    """Each registration's online intervals at the stage, in two queries: presence intervals and
    join clicks, and the meeting-report rows matched to it (automatically or by the organiser).

    The intervals are united (sorted, disjoint); a join click is kept as a moment (t, t) when no
    interval covers it, so that it still counts as "seen online" for mode and first-seen time.
    """
    wanted = set(registration_ids)
    found: dict[int, list[Interval]] = {registration_id: [] for registration_id in wanted}
    if not wanted:
        return found
    evidence = select(
        OnlineEvidence.registration_id, OnlineEvidence.started_at, OnlineEvidence.ended_at
    ).where(OnlineEvidence.stage_id == stage.id)
    rows = (
        select(MeetingReportRow.registration_id, MeetingReportRow.joined_at, MeetingReportRow.left_at)
        .join(MeetingReport)
        .where(MeetingReport.stage_id == stage.id, MeetingReportRow.match.in_(COUNTED))
    )
    if len(wanted) <= _IN_LIST_LIMIT:
        evidence = evidence.where(OnlineEvidence.registration_id.in_(wanted))
        rows = rows.where(MeetingReportRow.registration_id.in_(wanted))
    for query in (evidence, rows):
        for registration_id, start, end in session.execute(query):
            if registration_id in found:
                found[registration_id].append((start, end))
    return {registration_id: _unite(intervals) for registration_id, intervals in found.items()}


def _unite(intervals: list[Interval]) -> list[Interval]:
    spans = merge(intervals)
    moments = sorted({start for start, end in intervals if end <= start})
    loose = [(t, t) for t in moments if not any(low <= t <= high for low, high in spans)]
    return sorted([*spans, *loose])


def approved_registrations(session: Session, program_id: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.program_id == program_id, Registration.status == Status.APPROVED)
            .options(joinedload(Registration.person).joinedload(Person.organization))
        )
    )


@dataclass(frozen=True)
class ReviewGroup:
    """Unmatched rows of one stage with the same name and email (one person rejoining)."""

    name: str
    email: str
    rows: list[MeetingReportRow]

    @property
    def first(self) -> MeetingReportRow:
        return self.rows[0]

    @property
    def minutes(self) -> int:
        spans = merge((row.joined_at, row.left_at) for row in self.rows)
        return int(sum((end - start).total_seconds() for start, end in spans) // 60)


def stage_rows(session: Session, stage: Stage, *matches: RowMatch) -> list[MeetingReportRow]:
    query = (
        select(MeetingReportRow)
        .join(MeetingReport)
        .where(MeetingReport.stage_id == stage.id)
        .order_by(MeetingReportRow.name, MeetingReportRow.joined_at, MeetingReportRow.id)
    )
    if matches:
        query = query.where(MeetingReportRow.match.in_(matches))
    return list(session.scalars(query))


def review_groups(session: Session, stage: Stage) -> list[ReviewGroup]:
    groups: dict[tuple[str, str], list[MeetingReportRow]] = defaultdict(list)
    for row in stage_rows(session, stage, RowMatch.UNMATCHED):
        groups[(row.name, row.email)].append(row)
    return [ReviewGroup(name, email, rows) for (name, email), rows in groups.items()]


def report_summary(session: Session, stage: Stage) -> list[dict]:
    """The stage's reports, latest first, each with its number of rows per match."""
    counts = session.execute(
        select(MeetingReportRow.report_id, MeetingReportRow.match, func.count())
        .join(MeetingReport)
        .where(MeetingReport.stage_id == stage.id)
        .group_by(MeetingReportRow.report_id, MeetingReportRow.match)
    ).all()
    by_report: dict[int, dict[str, int]] = {}
    for report_id, match, count in counts:
        by_report.setdefault(report_id, {})[RowMatch(match).value] = count
    reports = session.scalars(
        select(MeetingReport)
        .where(MeetingReport.stage_id == stage.id)
        .order_by(MeetingReport.created_at.desc())
    )
    return [{"report": report, "counts": by_report.get(report.id, {})} for report in reports]


def registration_names(session: Session, registration_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {registration_id for registration_id in registration_ids if registration_id is not None}
    if not wanted:
        return {}
    return {
        registration.id: registration.person.name
        for registration in session.scalars(select(Registration).where(Registration.id.in_(wanted)))
    }
