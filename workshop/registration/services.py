"""Registration operations: sign-up, status changes under capacity, waitlist, links.

Services take the session and the acting user explicitly, flush, and leave the commit to
the caller (the request, the command or the job).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, func, select

from workshop import audit
from workshop.auth.models import Role, User
from workshop.db import Session, utcnow
from workshop.errors import ServiceError
from workshop.programs.models import Organization, Program, Stage
from workshop.registration import links
from workshop.registration.models import (
    Mode,
    Notice,
    Person,
    Registration,
    RegistrationStage,
    Status,
)

ACTIVE_STATUSES = frozenset({Status.PENDING, Status.APPROVED, Status.WAITLISTED})
# The decisions an organiser is offered from each status (change_status itself takes any target).
NEXT_STATUSES = {
    Status.PENDING: (Status.APPROVED, Status.WAITLISTED, Status.REJECTED),
    Status.WAITLISTED: (Status.APPROVED, Status.REJECTED, Status.CANCELLED),
    Status.APPROVED: (Status.CANCELLED,),
    Status.REJECTED: (Status.APPROVED, Status.WAITLISTED),
    Status.CANCELLED: (Status.APPROVED, Status.WAITLISTED),
}


class RegistrationError(ServiceError):
    """A registration rule was broken (duplicate phone, unknown organisation, ...)."""


@dataclass(frozen=True)
class ParticipantDetails:
    name: str
    position: str
    organization_id: int
    phone: str  # E.164
    email: str
    modes: dict[int, Mode]  # stage id -> mode
    nip: str = ""
    locale: str = "id"  # the language of their messages: the one they registered in


@dataclass
class StatusChange:
    registration: Registration
    status: Status
    previous: Status | None = None
    full_stages: list[Stage] = field(default_factory=list)
    promoted: list[Registration] = field(default_factory=list)
    access_ended: bool = False  # no longer approved: the person's sessions were ended


def remember_language(session: Session, user: User, locale: str) -> None:
    """A participant who switches language gets their reminders in it from now on."""
    if user.person is not None:
        user.person.locale = locale
        session.flush()


def find_registration_by_phone(session: Session, program: Program, phone: str) -> Registration | None:
    # Two lookups by index, not a join: on PostgreSQL a roster import of a thousand rows otherwise
    # plans this join for the near-empty tables it started with (a full scan per row).
    person_id = session.scalar(select(Person.id).where(Person.phone == phone))
    if person_id is None:
        return None
    return session.scalar(
        select(Registration).where(Registration.program_id == program.id, Registration.person_id == person_id)
    )


def register(
    session: Session,
    program: Program,
    details: ParticipantDetails,
    *,
    source: str = "form",
    actor: User | None = None,
) -> Registration:
    """Create a pending registration (and the person, if the phone number is new)."""
    if session.get(Organization, details.organization_id) is None:
        raise RegistrationError("unknown_organization", "organization")
    stage_ids = {stage.id for stage in program.stages}
    if set(details.modes) != stage_ids:
        raise RegistrationError("mode_required", "modes")
    if find_registration_by_phone(session, program, details.phone) is not None:
        raise RegistrationError("already_registered", "phone")

    person = session.scalar(select(Person).where(Person.phone == details.phone))
    if person is None:
        person = Person(phone=details.phone)
        session.add(person)
    person.name = details.name
    person.position = details.position
    person.organization_id = details.organization_id
    person.email = details.email
    person.nip = details.nip
    person.locale = details.locale

    registration = Registration(program=program, person=person, status=Status.PENDING, source=source)
    registration.stage_modes = [
        RegistrationStage(stage_id=stage_id, mode=mode) for stage_id, mode in details.modes.items()
    ]
    session.add(registration)
    session.flush()
    audit.record(session, actor, "registration.create", f"registration:{registration.id}", source)
    return registration


def _luring_stage_ids(registration: Registration) -> list[int]:
    return sorted(c.stage_id for c in registration.stage_modes if c.mode == Mode.LURING)


def approved_luring_count(session: Session, stage_id: int, excluding: int | None = None) -> int:
    query = (
        select(func.count())
        .select_from(RegistrationStage)
        .join(Registration)
        .where(
            RegistrationStage.stage_id == stage_id,
            RegistrationStage.mode == Mode.LURING,
            Registration.status == Status.APPROVED,
        )
    )
    if excluding is not None:
        query = query.where(Registration.id != excluding)
    return session.scalar(query) or 0


def full_stages_for(session: Session, registration: Registration, *, lock: bool = True) -> list[Stage]:
    """The in-person stages this registration wants that have no place left.

    Locks those stages' rows (PostgreSQL) so concurrent approvals queue here; SQLite write
    transactions are already serialised (BEGIN IMMEDIATE). `lock=False` only looks (a page).
    """
    ids = _luring_stage_ids(registration)
    if not ids:
        return []
    query = select(Stage).where(Stage.id.in_(ids)).order_by(Stage.id)
    stages = session.scalars(query.with_for_update() if lock else query).all()
    return [
        stage
        for stage in stages
        if stage.capacity is not None
        and approved_luring_count(session, stage.id, excluding=registration.id) >= stage.capacity
    ]


def ensure_participant_user(session: Session, person: Person) -> User:
    user = session.scalar(select(User).where(User.person_id == person.id))
    if user is None:
        user = User(role=Role.PARTICIPANT, name=person.name, person_id=person.id)
        session.add(user)
    return user


def _approve(session: Session, registration: Registration, secret_key: str) -> None:
    registration.status = Status.APPROVED
    registration.waitlisted_at = None
    ensure_participant_user(session, registration.person)
    if registration.link_token_hash is None:
        links.issue(registration, secret_key)


def _put_on_waitlist(registration: Registration) -> None:
    if registration.status != Status.WAITLISTED:
        registration.waitlisted_at = utcnow()
    registration.status = Status.WAITLISTED


def change_status(
    session: Session,
    registration: Registration,
    target: Status,
    *,
    actor: User | None,
    secret_key: str,
    waitlist_when_full: bool = True,
) -> StatusChange:
    """Move a registration to `target`. Approval beyond capacity puts it on the waitlist (or,
    with `waitlist_when_full=False`, changes nothing and raises "hall_full"); a place given up
    promotes the waitlist in order."""
    if target == Status.PENDING:
        raise RegistrationError("invalid_status")
    previous = registration.status
    change = StatusChange(registration=registration, status=target, previous=previous)
    if target == previous:
        return change

    if target == Status.APPROVED:
        change.full_stages = full_stages_for(session, registration)
        if change.full_stages and not waitlist_when_full:
            raise RegistrationError("hall_full")
        if change.full_stages:
            _put_on_waitlist(registration)
        else:
            _approve(session, registration, secret_key)
    elif target == Status.WAITLISTED:
        _put_on_waitlist(registration)
    else:
        registration.status = target
        registration.waitlisted_at = None
    change.status = registration.status
    session.flush()
    audit.record(
        session,
        actor,
        "registration.status",
        f"registration:{registration.id}",
        f"{previous.value} -> {registration.status.value}",
    )
    if previous == Status.APPROVED and registration.status != Status.APPROVED:
        _end_participant_sessions(session, registration)  # as a revoked link does
        change.access_ended = True
        change.promoted = promote_waitlist(session, registration.program, actor=actor, secret_key=secret_key)
    return change


def change_status_many(
    session: Session,
    registrations: Iterable[Registration],
    target: Status,
    *,
    actor: User | None,
    secret_key: str,
    waitlist_when_full: bool = True,
) -> list[StatusChange]:
    return [
        change_status(
            session,
            registration,
            target,
            actor=actor,
            secret_key=secret_key,
            waitlist_when_full=waitlist_when_full,
        )
        for registration in registrations
    ]


def approve_as_online(
    session: Session, registration: Registration, *, actor: User | None, secret_key: str
) -> StatusChange:
    """Approve a registration whose hall is full, online (daring) for the stages without a place."""
    full = {stage.id for stage in full_stages_for(session, registration)}
    for choice in registration.stage_modes:
        if choice.stage_id in full:
            choice.mode = Mode.DARING
    if full:
        session.flush()
        stages = ",".join(str(stage_id) for stage_id in sorted(full))
        audit.record(
            session, actor, "registration.mode", f"registration:{registration.id}", f"daring: {stages}"
        )
    return change_status(session, registration, Status.APPROVED, actor=actor, secret_key=secret_key)


def promote_waitlist(
    session: Session, program: Program, *, actor: User | None, secret_key: str
) -> list[Registration]:
    """Approve waitlisted registrations, first come first served, while places allow."""
    waiting = session.scalars(
        select(Registration)
        .where(Registration.program_id == program.id, Registration.status == Status.WAITLISTED)
        .order_by(Registration.waitlisted_at, Registration.id)
    ).all()
    promoted = []
    for registration in waiting:
        if full_stages_for(session, registration):
            continue
        _approve(session, registration, secret_key)
        session.add(Notice(registration=registration, kind="promoted_from_waitlist"))
        session.flush()
        audit.record(
            session,
            actor,
            "registration.promoted",
            f"registration:{registration.id}",
            "waitlisted -> approved",
        )
        promoted.append(registration)
    return promoted


def regenerate_link(
    session: Session, registration: Registration, *, actor: User | None, secret_key: str
) -> str:
    if registration.status != Status.APPROVED:
        raise RegistrationError("not_approved")
    _end_participant_sessions(session, registration)
    token = links.issue(registration, secret_key)
    audit.record(session, actor, "link.regenerate", f"registration:{registration.id}")
    return token


def revoke_link(session: Session, registration: Registration, *, actor: User | None) -> None:
    links.revoke(registration)
    _end_participant_sessions(session, registration)
    audit.record(session, actor, "link.revoke", f"registration:{registration.id}")


def _end_participant_sessions(session: Session, registration: Registration) -> None:
    user = session.scalar(select(User).where(User.person_id == registration.person_id))
    if user is not None:
        user.session_epoch += 1


# Built once, as the participant page's other statements (registration/queries.py).
_NOTICES = (
    select(Notice)
    .where(Notice.registration_id == bindparam("registration_id"))
    .order_by(Notice.created_at.desc())
)


def notices_for(session: Session, registration_id: int) -> list[Notice]:
    return list(session.scalars(_NOTICES, {"registration_id": registration_id}))
