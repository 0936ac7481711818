"""Online attendance: the personal join link, live presence, and imported meeting reports.

Three kinds of evidence say that a participant attended a stage online:

- a click on the personal join link (a moment: started_at == ended_at);
- presence intervals: while the participant's page of a running stage is visible, it sends a
  heartbeat every minute; a heartbeat extends the latest interval when it ended at most
  PRESENCE_GAP ago, else it starts a new one. Two devices of one person extend the same
  interval or make overlapping ones: the attendance function unites them;
- rows of the meeting platform's participant report (Zoom's CSV: reader.py), one row per join,
  matched to registrations (matching.py) by email, by the phone number people put in their Zoom
  name, or by name.

Re-importing a report does not count twice: a row whose (name, join time, leave time) is already
imported for the stage (from any earlier file) is skipped, so a file downloaded twice, or a
later export that overlaps an earlier one, adds only the rows that are new.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from workshop import audit
from workshop.attendance.matching import Matcher
from workshop.attendance.models import MeetingReport, MeetingReportRow, OnlineEvidence, OnlineKind, RowMatch
from workshop.attendance.queries import PRESENCE_GAP, approved_registrations
from workshop.attendance.reader import ReportFileError, parse_report
from workshop.auth.models import User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.programs.models import Stage
from workshop.programs.windows import Interval, StageWindow, stage_window
from workshop.registration.models import Registration, Status
from workshop.text import clean_line

# The join link opens this long before each day of a stage, and presence is accepted from then.
OPENS_BEFORE = timedelta(minutes=30)
# Presence is still accepted this long after the end of a day (a page left open, a slow clock).
PRESENCE_CLOSES_AFTER = timedelta(minutes=15)
# Clients send a heartbeat every HEARTBEAT; a missed one or two does not split the interval.
HEARTBEAT = timedelta(seconds=60)


class OnlineError(ServiceError):
    """A refused join or presence: not_registered, not_approved, outside_window."""


class ReviewError(ServiceError):
    """A refused match or ignore: not_reviewable, not_in_programme."""


# Stage windows


class Phase(enum.StrEnum):
    NOT_YET = "not_yet"  # before the first day (or between two days): next_start says when
    OPEN = "open"
    ENDED = "ended"


@dataclass(frozen=True)
class StageState:
    phase: Phase
    next_start: datetime | None = None  # the start of the next day, when NOT_YET
    first_day: bool = True  # NOT_YET before the first day (not between two days)


def _state(stage: Stage, now: datetime, closes_after: timedelta) -> StageState:
    for number, (start, end) in enumerate(stage_window(stage).days()):
        if start - OPENS_BEFORE <= now <= end + closes_after:
            return StageState(Phase.OPEN)
        if now < start - OPENS_BEFORE:
            return StageState(Phase.NOT_YET, next_start=start, first_day=number == 0)
    return StageState(Phase.ENDED)


def join_state(stage: Stage, now: datetime) -> StageState:
    """Whether the join link leads to the meeting: from 30 minutes before each day to its end."""
    return _state(stage, now, timedelta(0))


def presence_state(stage: Stage, now: datetime) -> StageState:
    return _state(stage, now, PRESENCE_CLOSES_AFTER)


def presence_windows(window: StageWindow) -> list[Interval]:
    """The spans in which presence heartbeats are accepted (one per day of the stage)."""
    return [(start - OPENS_BEFORE, end + PRESENCE_CLOSES_AFTER) for start, end in window.days()]


# Who


def registration_for(session: Session, user: User, stage: Stage) -> Registration | None:
    """The user's approved registration for the stage's programme, if any."""
    if user is None or not user.is_authenticated or user.person_id is None:
        return None
    return session.scalar(
        select(Registration).where(
            Registration.program_id == stage.program_id,
            Registration.person_id == user.person_id,
            Registration.status == Status.APPROVED,
        )
    )


def _check(registration: Registration, stage: Stage) -> None:
    if registration.program_id != stage.program_id:
        raise OnlineError("not_registered")
    if registration.status != Status.APPROVED:
        raise OnlineError("not_approved")


# Join link and presence


def record_join_click(
    session: Session, registration: Registration, stage: Stage, now: datetime
) -> OnlineEvidence:
    """Record a click on the personal join link (inside the join window only)."""
    _check(registration, stage)
    if join_state(stage, now).phase != Phase.OPEN:
        raise OnlineError("outside_window")
    click = OnlineEvidence(
        registration_id=registration.id,
        stage_id=stage.id,
        kind=OnlineKind.JOIN_CLICK,
        started_at=now,
        ended_at=now,
        source="join_link",
        recorded_at=now,
    )
    session.add(click)
    session.flush()
    return click


@dataclass(frozen=True)
class PresenceOutcome:
    interval: OnlineEvidence
    started: bool  # a new interval began (the participant came online); else one was extended


def record_presence(
    session: Session,
    registration: Registration,
    stage: Stage,
    now: datetime,
    client_nonce: str | None = None,
) -> PresenceOutcome:
    """A heartbeat: extend the latest presence interval if it ended at most PRESENCE_GAP ago,
    else start a new interval [now, now]. Refused outside the stage's days (with a margin).

    The interval keeps the nonce of its latest heartbeat: the same heartbeat sent twice (a retry
    after a lost answer) changes nothing the second time.
    """
    _check(registration, stage)
    if presence_state(stage, now).phase != Phase.OPEN:
        raise OnlineError("outside_window")
    client_nonce = (client_nonce or "")[:64] or None
    if client_nonce is not None:
        replay = session.scalar(select(OnlineEvidence).where(OnlineEvidence.client_nonce == client_nonce))
        if replay is not None:
            return PresenceOutcome(replay, started=False)
    latest = session.scalar(
        select(OnlineEvidence)
        .where(
            OnlineEvidence.registration_id == registration.id,
            OnlineEvidence.stage_id == stage.id,
            OnlineEvidence.kind == OnlineKind.PRESENCE,
        )
        .order_by(OnlineEvidence.ended_at.desc(), OnlineEvidence.id.desc())
        .limit(1)
    )
    if latest is not None and now - latest.ended_at <= PRESENCE_GAP:
        # A heartbeat from a second device may arrive "late" (now < ended_at): nothing to extend.
        latest.ended_at = max(latest.ended_at, now)
        if client_nonce is not None:
            latest.client_nonce = client_nonce
        session.flush()
        return PresenceOutcome(latest, started=False)
    interval = OnlineEvidence(
        registration_id=registration.id,
        stage_id=stage.id,
        kind=OnlineKind.PRESENCE,
        started_at=now,
        ended_at=now,
        source="presence",
        client_nonce=client_nonce,
        recorded_at=now,
    )
    try:
        with session.begin_nested():
            session.add(interval)
    except IntegrityError:  # the same heartbeat arrived twice at once (socket and HTTP): count it once
        replay = session.scalar(select(OnlineEvidence).where(OnlineEvidence.client_nonce == client_nonce))
        if replay is None:
            raise
        return PresenceOutcome(replay, started=False)
    return PresenceOutcome(interval, started=True)


# Meeting reports


@dataclass(frozen=True)
class ImportResult:
    report: MeetingReport | None  # None when every row was already imported
    added: int
    duplicates: int  # rows already imported for this stage (or repeated in the file), skipped
    matched: int
    unmatched: int


def _stored_name(filename: str) -> str:
    """The upload's own name, as shown on the report's page: no folders, no control characters."""
    return clean_line(filename.replace("\\", "/").rsplit("/", 1)[-1])[:255] or "report.csv"


def import_report(
    session: Session, stage: Stage, *, filename: str, data: bytes, actor: User | None
) -> ImportResult:
    """Parse a participants CSV, skip rows already imported for the stage, match the rest; the
    host's rows (the summary's User Email) are kept as such, neither counted nor to review."""
    report_file = parse_report(data, stage.program.timezone)
    parsed = report_file.rows
    windows = [(start - OPENS_BEFORE, end) for start, end in stage_window(stage).days()]
    if not any(row.left_at >= low and row.joined_at <= high for row in parsed for low, high in windows):
        raise ReportFileError("wrong_stage")
    seen = set(
        session.execute(
            select(MeetingReportRow.name, MeetingReportRow.joined_at, MeetingReportRow.left_at)
            .join(MeetingReport)
            .where(MeetingReport.stage_id == stage.id)
        ).tuples()
    )
    fresh = []
    for row in parsed:
        key = (row.name, row.joined_at, row.left_at)
        if key not in seen:
            seen.add(key)
            fresh.append(row)
    duplicates = len(parsed) - len(fresh)
    if not fresh:
        return ImportResult(report=None, added=0, duplicates=duplicates, matched=0, unmatched=0)

    matcher = Matcher(approved_registrations(session, stage.program_id))
    report = MeetingReport(
        stage_id=stage.id,
        filename=_stored_name(filename),
        uploaded_by_id=actor.id if actor else None,
    )
    matched = hosted = 0
    for row in fresh:
        if report_file.host_email and row.email == report_file.host_email:
            registration, how, match = None, "", RowMatch.HOST
            hosted += 1
        else:
            registration, how = matcher.match(row.name, row.email)
            match = RowMatch.AUTO if registration is not None else RowMatch.UNMATCHED
            matched += registration is not None
        report.rows.append(
            MeetingReportRow(
                row_number=row.row_number,
                name=row.name,
                email=row.email,
                joined_at=row.joined_at,
                left_at=row.left_at,
                registration_id=registration.id if registration is not None else None,
                match=match,
                matched_by=how,
            )
        )
    session.add(report)
    session.flush()
    audit.record(
        session,
        actor,
        "meeting_report.import",
        f"stage:{stage.id}",
        f"report:{report.id} {report.filename}: {len(fresh)} rows, {matched} matched, "
        f"{len(fresh) - matched - hosted} unmatched, {hosted} of the host, {duplicates} already imported",
    )
    return ImportResult(
        report=report,
        added=len(fresh),
        duplicates=duplicates,
        matched=matched,
        unmatched=len(fresh) - matched - hosted,
    )


# Review of unmatched rows


def _same_person_rows(session: Session, row: MeetingReportRow, *matches: RowMatch) -> list[MeetingReportRow]:
    return list(
        session.scalars(
            select(MeetingReportRow)
            .join(MeetingReport)
            .where(
                MeetingReport.stage_id == row.report.stage_id,
                MeetingReportRow.name == row.name,
                MeetingReportRow.email == row.email,
                MeetingReportRow.match.in_(matches),
            )
            .order_by(MeetingReportRow.joined_at)
        )
    )


def match_row(
    session: Session, row: MeetingReportRow, registration: Registration, *, actor: User | None
) -> list[MeetingReportRow]:
    """The organiser says who an unmatched (or ignored) row is: that row and the other unreviewed
    rows of the stage with the same name and email (the same person's rejoins) get matched."""
    if row.match not in (RowMatch.UNMATCHED, RowMatch.IGNORED):
        raise ReviewError("not_reviewable")
    stage_id = row.report.stage_id
    if registration.status != Status.APPROVED or registration.program_id != _program_of(session, stage_id):
        raise ReviewError("not_in_programme")
    rows = _same_person_rows(session, row, RowMatch.UNMATCHED)
    if row not in rows:
        rows.append(row)
    for each in rows:
        each.registration_id = registration.id
        each.match = RowMatch.MANUAL
        each.matched_by = "organiser"
    session.flush()
    audit.record(
        session,
        actor,
        "meeting_report.match",
        f"registration:{registration.id}",
        f"stage:{stage_id} rows {','.join(str(each.id) for each in rows)} “{row.name}”",
    )
    return rows


def ignore_row(session: Session, row: MeetingReportRow, *, actor: User | None) -> list[MeetingReportRow]:
    """The organiser says an unmatched row is nobody to count (a room device, a guest...): it and
    the other unmatched rows of the stage with the same name and email are ignored."""
    if row.match != RowMatch.UNMATCHED:
        raise ReviewError("not_reviewable")
    rows = _same_person_rows(session, row, RowMatch.UNMATCHED)
    for each in rows:
        each.match = RowMatch.IGNORED
        each.matched_by = "organiser"
    session.flush()
    audit.record(
        session,
        actor,
        "meeting_report.ignore",
        f"stage:{row.report.stage_id}",
        f"rows {','.join(str(each.id) for each in rows)} “{row.name}”",
    )
    return rows


def _program_of(session: Session, stage_id: int) -> int:
    return session.get_one(Stage, stage_id).program_id
