"""Hall check-in: one idempotent operation, every scan logged; undo for a few minutes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Select, Table, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from workshop import audit
from workshop.auth.models import User
from workshop.checkin.models import CheckIn, ScanAttempt, ScanMethod, ScanResult
from workshop.checkin.queries import SCAN_STAGE_COLUMNS, ScanStage, scan_stage_of
from workshop.db import Session, utcnow
from workshop.errors import ServiceError
from workshop.programs.models import Organization, Program, Stage, organization_label
from workshop.programs.windows import CheckInState, StageWindow, stage_window
from workshop.registration.models import Mode, Person, Registration, RegistrationStage, Status
from workshop.tickets import codes

UNDO_WINDOW = timedelta(minutes=5)
# Scan times a device reports may run ahead of the server's clock by this much at most.
CLOCK_SKEW = timedelta(minutes=2)
GREEN = frozenset({ScanResult.OK, ScanResult.OK_MODE_CHANGED})
AMBER = frozenset(
    {
        ScanResult.ALREADY_CHECKED_IN,
        ScanResult.EARLIER_SCAN_KEPT,
        ScanResult.TOO_EARLY,
        ScanResult.STAGE_NOT_STARTED,
    }
)
# Scans that changed someone's check-in (the attendance figures move).
RECORDED = GREEN | {ScanResult.EARLIER_SCAN_KEPT}


# The statements of a scan, built once with bound parameters: SQLAlchemy memoises a statement's
# cache key on the statement object, so a scan does not compute it again (docs/benchmarks.md).
# A ticket is read as one row of columns with what the answer shows (person, organisation and its
# kecamatan) and the registration's mode for the stage scanned: loading the four ORM objects
# instead cost about 0.13 ms a scan.
_PARENT = aliased(Organization)
_TICKET_COLUMNS = (
    Registration.id,
    Registration.program_id,
    Registration.status,
    RegistrationStage.mode,
    Person.name,
    Person.position,
    Organization.name,
    _PARENT.kind,
    _PARENT.name,
)


def _with_ticket_joins(statement: Select[Any], stage_id: Any) -> Select[Any]:
    """The statement's registration joined with what `_TICKET_COLUMNS` read of it (outer joins:
    a scan's statement reads its stage when no ticket is found)."""
    return (
        statement.outerjoin(Person, Person.id == Registration.person_id)
        .outerjoin(Organization, Organization.id == Person.organization_id)
        .outerjoin(_PARENT, _PARENT.id == Organization.parent_id)
        .outerjoin(
            RegistrationStage,
            and_(
                RegistrationStage.registration_id == Registration.id, RegistrationStage.stage_id == stage_id
            ),
        )
    )


_TICKET = _with_ticket_joins(select(*_TICKET_COLUMNS), bindparam("stage_id"))
_TICKET_BY = {
    "secret": _TICKET.where(Registration.ticket_secret_hash == bindparam("value")),
    "code": _TICKET.where(Registration.ticket_code == bindparam("value")),
}
# The rows a scan writes, and the lookups that usually find nothing (a new nonce, no check-in
# yet today), are Core statements run on the session's connection: the ORM's execute costs about
# 40 µs a statement more (docs/benchmarks.md). A row found is then loaded as an ORM object. A scan
# asks the session for its connection once: each ask cost about as much as a statement's own
# Python work in SQLAlchemy.
_INSERT_ATTEMPT = insert(cast(Table, ScanAttempt.__table__)).returning(ScanAttempt.id)
_INSERT_CHECK_IN = insert(cast(Table, CheckIn.__table__)).returning(CheckIn.id)
_ATTEMPT_BY_NONCE = select(ScanAttempt.id).where(ScanAttempt.client_nonce == bindparam("nonce"))
# A scan reads its stage (404 if there is none), its ticket, the ticket's check-ins at the stage
# (one row each: the day scanned is known only once the stage is) and the scan logged under its
# nonce (if any: a retry) in one statement; each statement fewer saved about 0.2 M instructions a
# scan (docs/benchmarks.md). No ticket found leaves the ticket's columns NULL.
_SCAN_COLUMNS = (
    *SCAN_STAGE_COLUMNS,
    *_TICKET_COLUMNS,
    CheckIn.id,
    CheckIn.day,
    _ATTEMPT_BY_NONCE.scalar_subquery(),
)
_TICKET_AT = len(SCAN_STAGE_COLUMNS)
_CHECK_IN_AT = _TICKET_AT + len(_TICKET_COLUMNS)


def _scan_by(ticket_column: Any) -> Select[Any]:
    stage_and_ticket = (
        select(*_SCAN_COLUMNS)
        .select_from(Stage)
        .join(Program, Program.id == Stage.program_id)
        .outerjoin(Registration, ticket_column == bindparam("value"))
    )
    return (
        _with_ticket_joins(stage_and_ticket, Stage.id)
        .outerjoin(CheckIn, and_(CheckIn.registration_id == Registration.id, CheckIn.stage_id == Stage.id))
        .where(Stage.id == bindparam("stage_id"))
    )


_SCAN_BY = {"secret": _scan_by(Registration.ticket_secret_hash), "code": _scan_by(Registration.ticket_code)}
_DAY_CHECK_IN = (
    select(CheckIn.id)
    .where(
        CheckIn.registration_id == bindparam("registration_id"),
        CheckIn.stage_id == bindparam("stage_id"),
        CheckIn.day == bindparam("day"),
    )
    .with_for_update()
)


# The stage scanned: a Stage, or the desk's ScanStage (its columns, read as one row).
AnyStage = Stage | ScanStage


class CheckInError(ServiceError):
    """A refused undo, a nonce reused for another scan, or a scan for a stage that does not exist."""


@dataclass(frozen=True)
class Ticket:
    """The registration a scanned or typed code names, with what the desk's answer shows."""

    registration_id: int
    program_id: int
    status: Status
    mode: Mode | None  # for the stage scanned
    name: str
    position: str
    organization: str  # its label: a village with its kecamatan


@dataclass(frozen=True)
class LoggedScan:
    """What the answer shows of the scan's log row (a ScanAttempt): an ORM object of it cost about
    0.18 M instructions to make, a twentieth of a scan."""

    id: int
    scanned_at: datetime
    replaced_scanned_at: datetime | None  # the earlier-scan-kept's time and desk before
    replaced_desk: str | None


@dataclass(frozen=True)
class NewCheckIn:
    """The check-in a green scan has just inserted, as the answer shows it: put in the session as
    an ORM object, it cost about 0.35 M instructions a scan more (the object, its add, and the
    commit's walk over it), and the answer only reads it. `ScanOutcome.check_in` loads it."""

    id: int
    day: date
    scanned_at: datetime
    desk: str
    received_at: datetime
    undone_at: None = None


@dataclass(frozen=True)
class ScanOutcome:
    stage: AnyStage  # the one given, or the ScanStage read with the ticket
    result: ScanResult
    ticket: Ticket | None
    first: CheckIn | NewCheckIn | None  # for "already": the first check-in (its time and desk)
    attempt: LoggedScan
    session: Session | None = field(default=None, repr=False, compare=False)

    @property
    def check_in(self) -> CheckIn | None:
        """The check-in as an ORM object of the scan's session (one just inserted is loaded)."""
        if not isinstance(self.first, NewCheckIn):
            return self.first
        assert self.session is not None  # a scan that inserted one gave its session
        return self.session.get_one(CheckIn, self.first.id)

    @property
    def colour(self) -> str:
        if self.result in GREEN:
            return "green"
        return "amber" if self.result in AMBER else "red"


def outside_window(window: StageWindow, scanned_at: datetime) -> tuple[ScanResult, datetime | None]:
    """Why a scan outside every check-in window is refused, with the moment the reason names: the
    stage has not started (when its first check-in opens) or has ended (when its last check-in
    closed); else, between two of its days, too early (when that day's check-in opens) or the day
    ended (when it ended)."""
    check_in_windows = window.check_in_windows()
    state = window.check_in_state(scanned_at)
    if state == CheckInState.BEFORE:
        return ScanResult.STAGE_NOT_STARTED, check_in_windows[0][0]
    if state == CheckInState.AFTER:
        return ScanResult.STAGE_ENDED, check_in_windows[-1][1]
    today = window.day_of(scanned_at)
    for opens, _closes in check_in_windows:
        if scanned_at < opens and window.day_of(opens) == today:
            return ScanResult.TOO_EARLY, opens
    for _opens, closes in reversed(check_in_windows):
        if scanned_at >= closes and window.day_of(closes) == today:
            return ScanResult.DAY_ENDED, closes
    return ScanResult.WRONG_DAY, None


def find_ticket(session: Session, text: str, secret_key: str, stage: AnyStage | None = None) -> Ticket | None:
    """The registration of a scanned or typed code, with its mode for the stage (if one is given)."""
    return _find_ticket(session.connection(), text, secret_key, stage)


def _find_ticket(connection: Connection, text: str, secret_key: str, stage: AnyStage | None) -> Ticket | None:
    looked_up = _looked_up(text, secret_key)
    if looked_up is None:
        return None
    kind, value = looked_up
    parameters = {"value": value, "stage_id": stage.id if stage is not None else None}
    row = connection.execute(_TICKET_BY[kind], parameters).one_or_none()
    return _ticket(row) if row is not None else None


def _looked_up(text: str, secret_key: str) -> tuple[str, str] | None:
    """What a code is looked up by: ("secret", the HMAC the database keeps) or ("code", the short code)."""
    parsed = codes.parse(text)
    if parsed is None:
        return None
    kind, value = parsed
    return (kind, codes.secret_hash(value, secret_key)) if kind == "secret" else (kind, value)


def _ticket(row: Sequence[Any]) -> Ticket:
    registration_id, program_id, status, mode, name, position, organization, parent_kind, parent = row[:9]
    return Ticket(
        registration_id,
        program_id,
        status,
        mode,
        name,
        position,
        organization_label(organization, parent_kind, parent),
    )


def check_in(
    session: Session,
    *,
    stage: AnyStage | int,
    code: str,
    desk: str,
    actor: User | None,
    client_nonce: str | None,
    secret_key: str,
    scanned_at: datetime | None = None,
    method: ScanMethod = ScanMethod.CAMERA,
    now: datetime | None = None,
) -> ScanOutcome:
    """Check a ticket in at the hall. The same client nonce twice gives the same answer, once.

    `stage` is the stage scanned, or its id: then it is read with the ticket, as a ScanStage
    (CheckInError "unknown_stage" if there is none). `scanned_at` is when the desk scanned
    (offline desks send their queue later); the earliest scan of a day is kept. Failed scans are
    logged too.
    """
    now = now or utcnow()
    scanned_at = min(scanned_at or now, now + CLOCK_SKEW)
    session.flush()  # the Core statements below see what the session holds (they do not flush)
    connection = session.connection()
    stage_id = stage if isinstance(stage, int) else stage.id
    scan = _read_scan(connection, stage_id, code, secret_key, client_nonce)
    if scan is None:
        raise CheckInError("unknown_stage")
    if isinstance(stage, int):
        stage = scan.stage
    ticket = scan.ticket
    if scan.attempt_id is not None:
        return _replay(session, scan.attempt_id, stage, code, ticket)

    window = stage_window(stage)
    day = window.check_in_date(scanned_at)
    result = _refusal(stage, ticket, window, day, scanned_at)
    day_row = None
    if result is None:
        assert ticket is not None and day is not None  # no refusal: both were found
        day_row = (
            _day_check_in(session, connection, ticket.registration_id, stage, day)
            if day in scan.check_in_days
            else None
        )
        if day_row is not None and day_row.undone_at is None:
            result = ScanResult.ALREADY_CHECKED_IN
        else:  # none yet, or an undone one that _record_check_in brings back
            result = ScanResult.OK_MODE_CHANGED if ticket.mode == Mode.DARING else ScanResult.OK
    first: CheckIn | NewCheckIn | None = day_row
    if result in GREEN:
        assert ticket is not None and day is not None  # a green result found both
        first, won = _record_check_in(
            session, connection, stage, ticket, day, day_row, scanned_at, desk, actor, now
        )
        if not won:  # another desk checked the ticket in at the same moment
            result = ScanResult.ALREADY_CHECKED_IN
        elif result == ScanResult.OK_MODE_CHANGED:
            _switch_to_hall(session, ticket, stage, actor)
    replaced: tuple[datetime, str] | None = None
    if (
        result == ScanResult.ALREADY_CHECKED_IN
        and isinstance(first, CheckIn)  # the other desk's row, or the day's row read before
        and scanned_at < first.scanned_at
    ):
        replaced = _keep_earliest(session, first, scanned_at, desk, actor)
        result = ScanResult.EARLIER_SCAN_KEPT

    replaced_at, replaced_desk = replaced or (None, None)
    row = {
        "stage_id": stage.id,
        "registration_id": ticket.registration_id if ticket is not None else None,
        "check_in_id": first.id if first is not None else None,
        "code": codes.logged_code(code),
        "method": method,
        "desk": desk[:60],
        "staff_id": actor.id if actor is not None else None,
        "client_nonce": client_nonce or None,
        "scanned_at": scanned_at,
        "received_at": now,
        "result": result,
        "replaced_scanned_at": replaced_at,
        "replaced_desk": replaced_desk,
    }
    try:
        attempt_id = _log_attempt(session, connection, row)
    except IntegrityError:  # the same nonce arrived twice at once: answer as the first did
        logged_id = (
            connection.execute(_ATTEMPT_BY_NONCE, {"nonce": client_nonce}).scalar() if client_nonce else None
        )
        if logged_id is None:
            raise
        return _replay(session, logged_id, stage, code, ticket)
    attempt = LoggedScan(attempt_id, scanned_at, replaced_at, replaced_desk)
    return ScanOutcome(
        stage=stage, result=result, ticket=ticket, first=first, attempt=attempt, session=session
    )


def _log_attempt(session: Session, connection: Connection, row: dict[str, Any]) -> int:
    """Write the scan's log row with one prebuilt Core INSERT (a row the scan never changes
    again: the ORM's flush of it cost twice as much); in a savepoint on PostgreSQL, as `_insert`
    explains."""
    attempt_id: int
    if connection.dialect.name == "sqlite":
        attempt_id = connection.execute(_INSERT_ATTEMPT, row).scalar_one()
        return attempt_id
    with session.begin_nested():  # its SAVEPOINT is emitted when the session's connection is asked for
        attempt_id = session.connection().execute(_INSERT_ATTEMPT, row).scalar_one()
    return attempt_id


def _insert(session: Session, connection: Connection, values: dict[str, Any]) -> int:
    """Insert a check-in whose unique key the scan has just found free, with one prebuilt Core
    INSERT (the ORM's flush of it cost about 0.2 ms more); its id.

    PostgreSQL: another transaction may take that key between the read and the insert, so the
    insert runs in a savepoint that its IntegrityError rolls back, and the caller reads the
    other row. SQLite: a writing transaction holds the database's write lock from its first
    statement (workshop/db.py), so no other can: the savepoint would only cost time (about
    0.2 ms a row, a sixth of a scan's database work).
    """
    check_in_id: int
    if connection.dialect.name == "sqlite":
        check_in_id = connection.execute(_INSERT_CHECK_IN, values).scalar_one()
        return check_in_id
    with session.begin_nested():  # as in _log_attempt
        check_in_id = session.connection().execute(_INSERT_CHECK_IN, values).scalar_one()
    return check_in_id


@dataclass(frozen=True)
class _Scan:
    """What a scan's one statement read."""

    stage: ScanStage
    ticket: Ticket | None
    check_in_days: frozenset[date]  # of the ticket's check-ins at the stage, undone or not
    attempt_id: int | None  # the scan already logged under the nonce


def _read_scan(
    connection: Connection, stage_id: int, code: str, secret_key: str, nonce: str | None
) -> _Scan | None:
    """The stage, the ticket of the code and its check-ins at the stage, and the scan already logged
    under the nonce; None if there is no such stage."""
    kind, value = _looked_up(code, secret_key) or ("code", None)  # None: no ticket's code
    parameters = {"value": value, "stage_id": stage_id, "nonce": nonce}
    rows = connection.execute(_SCAN_BY[kind], parameters).all()
    if not rows:
        return None
    first = rows[0]
    ticket = _ticket(first[_TICKET_AT:]) if first[_TICKET_AT] is not None else None
    days = frozenset(row[_CHECK_IN_AT + 1] for row in rows if row[_CHECK_IN_AT] is not None)
    return _Scan(scan_stage_of(first), ticket, days, first[_CHECK_IN_AT + 2] if nonce else None)


def _replay(
    session: Session, attempt_id: int, stage: AnyStage, code: str, ticket: Ticket | None
) -> ScanOutcome:
    """The answer of the scan logged under the same nonce, if this is that scan again."""
    attempt = session.get_one(ScanAttempt, attempt_id)
    same_ticket = (ticket.registration_id if ticket else None) == attempt.registration_id
    if attempt.stage_id != stage.id or attempt.code != codes.logged_code(code) or not same_ticket:
        raise CheckInError("nonce_reused")
    first = session.get(CheckIn, attempt.check_in_id) if attempt.check_in_id else None
    logged = LoggedScan(attempt.id, attempt.scanned_at, attempt.replaced_scanned_at, attempt.replaced_desk)
    return ScanOutcome(stage=stage, result=attempt.result, ticket=ticket, first=first, attempt=logged)


def _refusal(
    stage: AnyStage, ticket: Ticket | None, window: StageWindow, day: date | None, scanned_at: datetime
) -> ScanResult | None:
    """Why the ticket cannot check in at this stage now, or None if it can."""
    if ticket is None:
        return ScanResult.UNKNOWN_CODE
    if ticket.program_id != stage.program_id:
        return ScanResult.NOT_REGISTERED
    if ticket.status == Status.CANCELLED:
        return ScanResult.CANCELLED
    if ticket.status != Status.APPROVED:
        return ScanResult.NOT_APPROVED
    if day is None:
        return outside_window(window, scanned_at)[0]
    return None


def _record_check_in(
    session: Session,
    connection: Connection,
    stage: AnyStage,
    ticket: Ticket,
    day: date,
    row: CheckIn | None,
    scanned_at: datetime,
    desk: str,
    actor: User | None,
    now: datetime,
) -> tuple[CheckIn | NewCheckIn, bool]:
    """Insert the day's check-in (or bring back the undone one, `row`, read with a lock); say
    whether this scan made it.

    (registration, stage, day) is unique in the database, so of two desks scanning the same
    ticket at the same moment exactly one inserts; the other finds its row here.
    """
    if row is None:
        values = {
            "registration_id": ticket.registration_id,
            "stage_id": stage.id,
            "day": day,
            "scanned_at": scanned_at,
            "desk": desk[:60],
            "staff_id": actor.id if actor is not None else None,
            "received_at": now,
            "undone_at": None,
            "undone_by_id": None,
        }
        try:
            check_in_id = _insert(session, connection, values)
            return NewCheckIn(check_in_id, day, scanned_at, desk[:60], now), True
        except IntegrityError:
            row = _day_check_in(session, connection, ticket.registration_id, stage, day)
            if row is None:
                raise
    if row.undone_at is not None:
        row.scanned_at, row.desk, row.undone_at, row.undone_by_id = scanned_at, desk[:60], None, None
        row.staff_id = actor.id if actor is not None else None
        row.received_at = now
        session.flush()
        return row, True
    return row, False


def _day_check_in(
    session: Session, connection: Connection, registration_id: int, stage: AnyStage, day: date
) -> CheckIn | None:
    """The day's check-in, undone or not, locked for this transaction (PostgreSQL)."""
    parameters = {"registration_id": registration_id, "stage_id": stage.id, "day": day}
    check_in_id = connection.execute(_DAY_CHECK_IN, parameters).scalar()
    return session.get(CheckIn, check_in_id) if check_in_id is not None else None


def _keep_earliest(
    session: Session, check_in: CheckIn, scanned_at: datetime, desk: str, actor: User | None
) -> tuple[datetime, str]:
    """An offline desk's earlier scan, arriving after a later one: the check-in moves back to it
    (the undo window does not restart). Returns the time and desk it had before."""
    replaced = (check_in.scanned_at, check_in.desk)
    check_in.scanned_at, check_in.desk = scanned_at, desk[:60]
    check_in.staff_id = actor.id if actor is not None else None
    session.flush()
    return replaced


def _switch_to_hall(session: Session, ticket: Ticket, stage: AnyStage, actor: User | None) -> None:
    """One UPDATE of the registration's mode for the stage (loading the registration and its modes
    to change one cost the bench's scans 0.08 M instructions each on average, docs/benchmarks.md);
    the session's objects of it, if any, follow."""
    session.execute(
        update(RegistrationStage)
        .where(
            RegistrationStage.registration_id == ticket.registration_id,
            RegistrationStage.stage_id == stage.id,
        )
        .values(mode=Mode.LURING),
        execution_options={"synchronize_session": "evaluate"},
    )
    audit.record(
        session,
        actor,
        "checkin.mode_changed",
        f"registration:{ticket.registration_id}",
        f"stage:{stage.id} daring -> luring",
    )


def undo_check_in(
    session: Session, check_in: CheckIn, *, actor: User | None, now: datetime | None = None
) -> None:
    now = now or utcnow()
    if check_in.undone_at is not None:
        raise CheckInError("already_undone")
    if now - check_in.received_at > UNDO_WINDOW:
        raise CheckInError("undo_too_late")
    check_in.undone_at = now
    check_in.undone_by_id = actor.id if actor is not None else None
    session.flush()
    audit.record(
        session,
        actor,
        "checkin.undo",
        f"registration:{check_in.registration_id}",
        f"stage:{check_in.stage_id}",
    )
