"""Read-side queries: the organiser's registration list and a participant's own page."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort
from flask_login import current_user
from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from workshop.db import db
from workshop.ids import id_from_text
from workshop.programs.models import Organization, OrgKind, Program, ProgramRow, organization_label
from workshop.registration.models import Mode, Notice, Person, Registration, RegistrationStage, Status
from workshop.text import clean_line


@dataclass(frozen=True)
class RegistrationFilter:
    status: Status | None = None
    kind: OrgKind | None = None
    kecamatan_id: int | None = None
    mode: Mode | None = None
    text: str = ""
    newest_first: bool = False  # by registration date; oldest first is the order of the waitlist

    @classmethod
    def from_args(cls, args) -> RegistrationFilter:
        def pick(enum, value):
            return enum(value) if value in {member.value for member in enum} else None

        kecamatan = args.get("kecamatan", "")
        return cls(
            status=pick(Status, args.get("status", "")),
            kind=pick(OrgKind, args.get("kind", "")),
            kecamatan_id=id_from_text(kecamatan),
            mode=pick(Mode, args.get("mode", "")),
            text=clean_line(args.get("q"))[:100],
            newest_first=args.get("order") == "newest",
        )


def registrations_query(program: Program, chosen: RegistrationFilter) -> Select:
    organization = aliased(Organization)
    query = (
        select(Registration)
        .join(Registration.person)
        .join(organization, Person.organization)
        .where(Registration.program_id == program.id)
        .options(
            joinedload(Registration.person).joinedload(Person.organization).joinedload(Organization.parent),
            selectinload(Registration.stage_modes),
        )
    )
    if chosen.newest_first:
        query = query.order_by(Registration.created_at.desc(), Registration.id.desc())
    else:
        query = query.order_by(Registration.created_at, Registration.id)
    if chosen.status is not None:
        query = query.where(Registration.status == chosen.status)
    if chosen.kind is not None:
        query = query.where(organization.kind == chosen.kind)
    if chosen.kecamatan_id is not None:
        query = query.where(
            or_(organization.id == chosen.kecamatan_id, organization.parent_id == chosen.kecamatan_id)
        )
    if chosen.mode is not None:
        query = query.where(
            exists().where(
                RegistrationStage.registration_id == Registration.id,
                RegistrationStage.mode == chosen.mode,
            )
        )
    if chosen.text:
        query = query.where(
            or_(
                Person.name.icontains(chosen.text, autoescape=True),
                organization.name.icontains(chosen.text, autoescape=True),
            )
        )
    return query


# The participant's own pages' statements (the participant page is the busiest) are built once,
# here. SQLAlchemy memoises a statement's cache key on the statement object, so a prebuilt statement
# skips computing it on every request: a third of these queries' CPU time (bench/profile_pages.py).
OWN_REGISTRATION = (
    select(Registration)
    .join(Program)
    .where(
        Program.slug == bindparam("slug"),
        Registration.person_id == bindparam("person_id"),
        Registration.status == Status.APPROVED,
    )
    .options(
        contains_eager(Registration.program),
        joinedload(Registration.person).joinedload(Person.organization).joinedload(Organization.parent),
    )
)


@dataclass(frozen=True)
class PageOrganization:
    id: int
    kind: OrgKind
    label: str


@dataclass(frozen=True)
class PagePerson:
    name: str
    position: str
    organization: PageOrganization


@dataclass(frozen=True)
class PageRegistration:
    """What the participant page and its parts read of the registration (the fields of the same
    names as Registration's), from one column-only statement: the ORM would cost several times the
    query for the registration with its programme, person and organisation."""

    id: int
    program_id: int
    program: ProgramRow
    person: PagePerson
    ticket_code: str
    ticket_secret_sealed: str
    has_notices: bool


_PARENT = aliased(Organization)
_PAGE_REGISTRATION = (
    select(
        Registration.id,
        Registration.ticket_code,
        Registration.ticket_secret_sealed,
        exists().where(Notice.registration_id == Registration.id).label("has_notices"),
        Program.id.label("program_id"),
        Program.slug,
        Program.title,
        Program.timezone,
        Program.schedule_version,
        Program.facts_version,
        Person.name,
        Person.position,
        Organization.id.label("organization_id"),
        Organization.kind,
        Organization.name.label("organization_name"),
        _PARENT.kind.label("parent_kind"),
        _PARENT.name.label("parent_name"),
        RegistrationStage.stage_id,
        RegistrationStage.mode,
    )
    .join(Program, Program.id == Registration.program_id)
    .join(Person, Person.id == Registration.person_id)
    .join(Organization, Organization.id == Person.organization_id)
    .outerjoin(_PARENT, _PARENT.id == Organization.parent_id)
    .outerjoin(RegistrationStage, RegistrationStage.registration_id == Registration.id)
    .where(
        Program.slug == bindparam("slug"),
        Registration.person_id == bindparam("person_id"),
        Registration.status == Status.APPROVED,
    )
)


def own_page_registration_or_404(slug: str) -> tuple[PageRegistration, dict[int, Mode]]:
    """own_registration_or_404's registration as the participant page reads it, and its mode per
    stage, in one column-only statement on the session's connection (a row per stage mode)."""
    rows = (
        db.session.connection()
        .execute(_PAGE_REGISTRATION, {"slug": slug, "person_id": current_user.person_id})
        .all()
    )
    if not rows:
        abort(404)
    row = rows[0]
    modes = {row.stage_id: row.mode for row in rows if row.stage_id is not None}
    return PageRegistration(
        id=row.id,
        program_id=row.program_id,
        program=ProgramRow(
            id=row.program_id,
            slug=row.slug,
            title=row.title,
            timezone=row.timezone,
            schedule_version=row.schedule_version,
            facts_version=row.facts_version,
        ),
        person=PagePerson(
            name=row.name,
            position=row.position,
            organization=PageOrganization(
                id=row.organization_id,
                kind=row.kind,
                label=organization_label(row.organization_name, row.parent_kind, row.parent_name),
            ),
        ),
        ticket_code=row.ticket_code,
        ticket_secret_sealed=row.ticket_secret_sealed,
        has_notices=bool(row.has_notices),
    ), modes


def own_registration_or_404(slug: str) -> Registration:
    """The signed-in participant's approved registration for the programme `slug` (its programme,
    person and organisation loaded): what a participant's own pages show. 404 for any other
    programme, and so never another person's registration."""
    registration = db.session.scalar(OWN_REGISTRATION, {"slug": slug, "person_id": current_user.person_id})
    if registration is None:
        abort(404)
    return registration
