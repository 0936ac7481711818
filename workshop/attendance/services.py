"""Online attendance: the personal join link, live presence, and imported meeting reports.

Three kinds of evidence say that a participant attended a stage online:

- a click on the personal join link (a moment: started_at == ended_at);
- presence intervals: while the participant's page of a running stage is visible, it sends a
  heartbeat every minute; a heartbeat extends the latest interval when it ended at most
  PRESENCE_GAP ago, else it starts a new one. Two devices of one person extend the same
  interval or make overlapping ones: the attendance function unites them;
- rows of the meeting platform's participant report (Zoom's CSV), one row per join, matched to
  registrations by email, by the phone number people put in their Zoom name, or by name.

Re-importing a report does not count twice: a row whose (name, join time, leave time) is already
imported for the stage (from any earlier file) is skipped, so a file downloaded twice, or a
later export that overlaps an earlier one, adds only the rows that are new.
"""

from __future__ import annotations

import csv
import enum
import io
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from workshop import audit
from workshop.auth.models import User
from workshop.checkin.attendance import Interval, merge
from workshop.checkin.models import MeetingReport, MeetingReportRow, OnlineEvidence, OnlineKind, RowMatch
from workshop.checkin.services import stage_window
from workshop.db import utcnow
from workshop.errors import ServiceError
from workshop.programs.models import Stage
from workshop.registration.models import Person, Registration, Status
from workshop.registration.validation import normalise_phone
from workshop.textfiles import decode_upload

# The join link opens this long before each day of a stage, and presence is accepted from then.
OPENS_BEFORE = timedelta(minutes=30)
# Presence is still accepted this long after the end of a day (a page left open, a slow clock).
PRESENCE_CLOSES_AFTER = timedelta(minutes=15)
# Clients send a heartbeat every HEARTBEAT; a missed one or two does not split the interval.
HEARTBEAT = timedelta(seconds=60)
PRESENCE_GAP = timedelta(seconds=150)
MAX_REPORT_ROWS = 5000
COUNTED = (RowMatch.AUTO, RowMatch.MANUAL)
# Above this many registrations, online_intervals reads the whole stage instead of an IN (...) list.
_IN_LIST_LIMIT = 500


def clock() -> datetime:
    """The current time for views and socket handlers (tests replace it)."""
    return utcnow()


class OnlineError(ServiceError):
    """A refused join or presence: not_registered, not_approved, outside_window."""


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


def presence_windows(stage: Stage) -> list[Interval]:
    """The spans in which presence heartbeats are accepted (one per day of the stage)."""
    return [(start - OPENS_BEFORE, end + PRESENCE_CLOSES_AFTER) for start, end in stage_window(stage).days()]


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


def online_now(session: Session, stage: Stage, now: datetime, among=None) -> set[int]:
    """Registrations whose live presence for the stage was seen within PRESENCE_GAP of now
    (only those `among` a subquery of registration ids, when given)."""
    query = select(OnlineEvidence.registration_id).where(
        OnlineEvidence.stage_id == stage.id,
        OnlineEvidence.kind == OnlineKind.PRESENCE,
        OnlineEvidence.ended_at >= now - PRESENCE_GAP,
        OnlineEvidence.started_at <= now,
    )
    if among is not None:
        query = query.where(OnlineEvidence.registration_id.in_(among))
    return set(session.scalars(query))


# Evidence for the attendance function


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


# Meeting reports (Zoom's participant CSV)

FILE_ERRORS = {
    "empty_file": _l("The file is empty."),
    "wrong_type": _l("This is not a CSV file. In Zoom, export the participants report as CSV."),
    "no_header": _l(
        "No participant table found: the file needs the columns “Name (Original Name)”, "
        "“Join Time” and “Leave Time” (Zoom's participants report)."
    ),
    "no_rows": _l("The participant table has no rows."),
    "too_many_rows": _l("The file has more than %(max)d rows."),
    "bad_rows": _l("Some rows cannot be read; nothing was imported. %(problems)s"),
    "wrong_stage": _l(
        "No row of this report falls within the days of this stage: is it the report of another meeting?"
    ),
}
ROW_PROBLEMS = {
    "bad_join": _l("Row %(row)d: the join time “%(value)s” is not a date and time."),
    "bad_leave": _l("Row %(row)d: the leave time “%(value)s” is not a date and time."),
    "leave_before_join": _l("Row %(row)d: the leave time is before the join time."),
    "missing_name": _l("Row %(row)d: the name is empty."),
}


class ReportFileError(Exception):
    def __init__(self, code: str, **args):
        super().__init__(code)
        self.code = code
        self.args_ = args

    @property
    def message(self) -> str:
        return str(FILE_ERRORS[self.code]) % self.args_


class ReviewError(ServiceError):
    """A refused match or ignore: not_reviewable, not_in_programme."""


@dataclass(frozen=True)
class Report:
    rows: list[ReportRow]
    host_email: str  # from the meeting summary above the table ("User Email"); "" when absent


@dataclass(frozen=True)
class ReportRow:
    row_number: int  # the line in the file
    name: str
    email: str
    joined_at: datetime
    left_at: datetime


_HEADERS = {
    "name": {"name (original name)", "name", "participant", "participant name", "user name", "nama"},
    "email": {"user email", "email", "e-mail", "participant email", "email address"},
    "join": {"join time", "join", "waktu bergabung"},
    "leave": {"leave time", "leave", "waktu keluar"},
    "duration": {"duration (minutes)", "duration (min)", "duration", "durasi (menit)"},
    "waiting": {"in waiting room"},
}
# The meeting summary above the participant table: "Meeting ID, Topic, ..., User Email, ..." (the
# host's account), and its values on the next line.
_SUMMARY_MARKERS = {"meeting id", "topic", "id rapat", "topik"}
_HOST_EMAIL = {"user email", "host email", "email host", "email pengguna"}
_TIME_FORMATS = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %H:%M",
)


def _header_key(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").strip().lower().split())


def _columns(row: Sequence[str]) -> dict[str, int] | None:
    """The positions of the known columns, if this row is the participant table's header."""
    columns: dict[str, int] = {}
    for position, cell in enumerate(row):
        key = _header_key(cell)
        for name, aliases in _HEADERS.items():
            if key in aliases and name not in columns:
                columns[name] = position
    return (
        columns if {"name", "join"} <= columns.keys() and ({"leave", "duration"} & columns.keys()) else None
    )


def _parse_time(text: str, zone: ZoneInfo) -> datetime | None:
    text = " ".join(text.strip().upper().split())
    for pattern in _TIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


def _host_email_column(row: Sequence[str]) -> int | None:
    """The position of the host's email, if this row is the meeting summary's header."""
    keys = [_header_key(cell) for cell in row]
    if not _SUMMARY_MARKERS & set(keys):
        return None
    return next((position for position, key in enumerate(keys) if key in _HOST_EMAIL), None)


def parse_report(data: bytes, timezone: str) -> Report:
    """The participant rows of a Zoom participants CSV; times read in `timezone`, returned in UTC.

    A block of meeting details (Meeting ID, Topic, ..., User Email: the host) may precede the
    participant table; rows of time spent in the waiting room are left out. A row that cannot be
    read rejects the file.
    """
    if not data.strip():
        raise ReportFileError("empty_file")
    text = decode_upload(data)
    if "\x00" in text:
        raise ReportFileError("wrong_type")
    first_line = text.lstrip().split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    zone = ZoneInfo(timezone)
    columns = None
    host_column = None
    host_email = ""
    rows: list[ReportRow] = []
    problems: list[str] = []
    try:
        for cells in reader:
            line = reader.line_num
            if columns is None:
                if host_column is not None and not host_email and len(cells) > host_column:
                    host_email = cells[host_column].strip().lower()
                host_column = _host_email_column(cells) if host_column is None else host_column
                columns = _columns(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue
            if _columns(cells) is not None:  # a second table (another meeting instance): same shape
                columns = _columns(cells)
                continue
            if len(rows) + len(problems) >= MAX_REPORT_ROWS:
                raise ReportFileError("too_many_rows", max=MAX_REPORT_ROWS)
            row, problem = _read_row(cells, columns, line, zone)
            if problem is not None:
                problems.append(problem)
            elif row is not None:
                rows.append(row)
    except csv.Error as error:
        raise ReportFileError("wrong_type") from error
    if columns is None:
        raise ReportFileError("no_header")
    if problems:
        raise ReportFileError("bad_rows", problems=" ".join(problems[:10]))
    if not rows:
        raise ReportFileError("no_rows")
    return Report(rows=rows, host_email=host_email)


def _read_row(
    cells: Sequence[str], columns: dict[str, int], line: int, zone: ZoneInfo
) -> tuple[ReportRow | None, str | None]:
    def cell(name: str) -> str:
        position = columns.get(name)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    if cell("waiting").lower() in {"yes", "ya", "true"}:
        return None, None
    name = " ".join(cell("name").split())
    if not name:
        return None, str(ROW_PROBLEMS["missing_name"]) % {"row": line}
    joined = _parse_time(cell("join"), zone)
    if joined is None:
        return None, str(ROW_PROBLEMS["bad_join"]) % {"row": line, "value": cell("join")}
    if "leave" in columns:
        left = _parse_time(cell("leave"), zone)
        if left is None:
            return None, str(ROW_PROBLEMS["bad_leave"]) % {"row": line, "value": cell("leave")}
    else:
        try:
            left = joined + timedelta(minutes=float(cell("duration").replace(",", ".")))
        except ValueError:
            return None, str(ROW_PROBLEMS["bad_leave"]) % {"row": line, "value": cell("duration")}
    if left < joined:
        return None, str(ROW_PROBLEMS["leave_before_join"]) % {"row": line}
    return (
        ReportRow(
            row_number=line,
            name=name[:200],
            email=cell("email").lower()[:254],
            joined_at=joined.astimezone(UTC),
            left_at=left.astimezone(UTC),
        ),
        None,
    )


# Matching rows to registrations

_TITLES = frozenset(
    [
        "bapak",
        "ibu",
        "bpk",
        "bp",
        "pak",
        "bu",
        "sdr",
        "sdri",
        "saudara",
        "saudari",
        "yth",
        "drs",
        "dra",
        "dr",
        "ir",
        "h",
        "hj",
        "prof",
        "a",
        "e",
        "s",
        "t",
        "m",
        "kom",
        "skom",
        "st",
        "se",
        "sh",
        "sip",
        "ip",
        "sos",
        "ssos",
        "sap",
        "spd",
        "pd",
        "sag",
        "ag",
        "shi",
        "hi",
        "si",
        "ssi",
        "skm",
        "kep",
        "ked",
        "sked",
        "ak",
        "md",
        "amd",
        "mm",
        "msi",
        "mh",
        "mkom",
        "mpd",
        "ap",
        "map",
        "mba",
        "msc",
        "phd",
        "stp",
    ]
)
_PHONE = re.compile(r"(?<!\d)(?:\+?62|0)\s?8[\d\s.\-]{7,16}\d")


def normalise_person_name(text: str) -> str:
    """'Drs. H. Budi Santoso, M.Si' -> 'budi santoso'; '0812... Bapak Budi' -> 'budi'.

    Lower case without accents or punctuation; degrees after the first comma, phone numbers and
    common titles and forms of address left out.
    """
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    text = _PHONE.sub(" ", text)
    head = text.split(",", 1)[0]
    text = head if head.strip() else text
    words = re.sub(r"[^\w\s]", " ", text).split()
    return " ".join(word for word in words if word not in _TITLES and not word.isdigit())


def phone_in(text: str) -> str | None:
    """An Indonesian mobile number written in a meeting name ('0812-3456-7890 Budi'), as E.164."""
    for found in _PHONE.finditer(text or ""):
        phone = normalise_phone(re.sub(r"[^\d+]", "", found.group()))
        if phone is not None:
            return phone
    return None


def _name_variants(name: str) -> list[str]:
    """Zoom writes 'Display Name (Original Name)' when someone renamed themselves: try both."""
    variants = [name]
    found = re.fullmatch(r"(.+?)\s*\((.+)\)\s*", name)
    if found:
        variants += [found.group(1), found.group(2)]
    return variants


class Matcher:
    """Matches report rows to the approved registrations of a programme."""

    def __init__(self, registrations: Iterable[Registration]):
        self.by_email: dict[str, Registration | None] = {}
        self.by_phone: dict[str, Registration | None] = {}
        self.by_name: dict[str, Registration | None] = {}
        for registration in registrations:
            person = registration.person
            self._add(self.by_email, (person.email or "").strip().lower(), registration)
            self._add(self.by_phone, person.phone, registration)
            self._add(self.by_name, normalise_person_name(person.name), registration)

    @staticmethod
    def _add(index: dict[str, Registration | None], key: str, registration: Registration) -> None:
        if key:  # a key shared by two registrations matches neither (None)
            index[key] = registration if key not in index else None

    def match(self, name: str, email: str) -> tuple[Registration | None, str]:
        if email and self.by_email.get(email.lower()) is not None:
            return self.by_email[email.lower()], "email"
        variants = _name_variants(name)
        for variant in variants:
            phone = phone_in(variant)
            if phone is not None and self.by_phone.get(phone) is not None:
                return self.by_phone[phone], "phone"
        for variant in variants:
            key = normalise_person_name(variant)
            if key and self.by_name.get(key) is not None:
                return self.by_name[key], "name"
        return None, ""


def approved_registrations(session: Session, program_id: int) -> list[Registration]:
    return list(
        session.scalars(
            select(Registration)
            .where(Registration.program_id == program_id, Registration.status == Status.APPROVED)
            .options(joinedload(Registration.person).joinedload(Person.organization))
        )
    )


@dataclass(frozen=True)
class ImportResult:
    report: MeetingReport | None  # None when every row was already imported
    added: int
    duplicates: int  # rows already imported for this stage (or repeated in the file), skipped
    matched: int
    unmatched: int


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
        filename=(filename or "report.csv")[:255],
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
    return session.get(Stage, stage_id).program_id
