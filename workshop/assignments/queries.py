"""Read-side of assignments: a programme's assignments, an organisation's, and the overview
of organisations x assignments."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import selectinload

from workshop.assignments.models import Assignment, AssignmentTarget, Submission
from workshop.assignments.services import targets
from workshop.db import Session
from workshop.programs.models import Organization, OrgKind, Stage
from workshop.registration.queries import PageOrganization


def assignments_of(session: Session, program_id: int) -> list[Assignment]:
    return list(
        session.scalars(
            select(Assignment)
            .join(Stage, Assignment.stage_id == Stage.id)
            .where(Assignment.program_id == program_id)
            .options(selectinload(Assignment.picked), selectinload(Assignment.stage))
            .order_by(Stage.position, Assignment.deadline, Assignment.id)
        )
    )


def reviewable_by(session: Session, user_id: int) -> list[Assignment]:
    """The assignments a narasumber is named to review, the latest deadline first."""
    return list(
        session.scalars(
            select(Assignment).where(Assignment.reviewer_id == user_id).order_by(Assignment.deadline.desc())
        )
    )


@functools.cache
def _assignments_for_kind(kind: str) -> Select[tuple[Assignment]]:
    """Built once per kind of organisation (the statement memoises its cache key): the participant
    page asks on every view."""
    picked = select(AssignmentTarget.assignment_id).where(
        AssignmentTarget.organization_id == bindparam("organization_id")
    )
    return (
        select(Assignment)
        .where(
            Assignment.program_id == bindparam("program_id"),
            or_(Assignment.target_kinds.contains(kind, autoescape=True), Assignment.id.in_(picked)),
        )
        .order_by(Assignment.deadline, Assignment.id)
    )


@dataclass(frozen=True)
class Targets:
    """Whom a programme's assignments target: organisations of these kinds, and these by name."""

    kinds: frozenset[OrgKind]
    organization_ids: frozenset[int]

    def include(self, organization: Organization | PageOrganization) -> bool:
        return organization.kind in self.kinds or organization.id in self.organization_ids


def targets_of_program(session: Session, program_id: int) -> Targets:
    """Kept per programme version by the participant page (programs/facts.py), which asks for the
    organisation's assignments only when there can be some."""
    rows = session.execute(
        select(Assignment.target_kinds, AssignmentTarget.organization_id)
        .outerjoin(AssignmentTarget, AssignmentTarget.assignment_id == Assignment.id)
        .where(Assignment.program_id == program_id)
    ).all()
    chosen = {value for target_kinds, _ in rows for value in target_kinds.split(",")}
    return Targets(
        kinds=frozenset(kind for kind in OrgKind if kind.value in chosen),
        organization_ids=frozenset(
            organization_id for _, organization_id in rows if organization_id is not None
        ),
    )


def assignments_for(
    session: Session, program_id: int, organization: Organization | PageOrganization
) -> list[Assignment]:
    """The programme's assignments that `organization` must submit, by deadline."""
    candidates = session.scalars(
        _assignments_for_kind(organization.kind.value),
        {"program_id": program_id, "organization_id": organization.id},
    )
    # `contains` is a first cut ("desa" in "desa,opd"); the kinds are checked exactly here.
    return [a for a in candidates if organization.kind in a.kinds or organization.id in a.picked_ids]


def submissions_by_assignment(
    session: Session, organization_id: int, assignment_ids
) -> dict[int, Submission]:
    rows = session.scalars(
        select(Submission).where(
            Submission.organization_id == organization_id, Submission.assignment_id.in_(list(assignment_ids))
        )
    )
    return {submission.assignment_id: submission for submission in rows}


@dataclass
class Cell:
    """One organisation's state for one assignment, as the overview shows it."""

    status: str  # "missing" or a SubmissionStatus value; "" when the organisation need not submit
    late: bool  # handed in late, or not handed in and the deadline has passed
    submission: Submission | None = None


@dataclass
class Row:
    organization: Organization
    cells: dict[int, Cell]

    @property
    def late_count(self) -> int:
        return sum(1 for cell in self.cells.values() if cell.late)


def cell_for(assignment: Assignment, submission: Submission | None, now: datetime) -> Cell:
    if submission is None:
        return Cell(status="missing", late=now > assignment.deadline)
    return Cell(status=submission.status.value, late=submission.late, submission=submission)


def status_rows(session: Session, assignment: Assignment, now: datetime) -> list[Row]:
    """The organisations that must submit `assignment`, with their cell, late ones first."""
    return matrix(session, [assignment], now)


def matrix(session: Session, assignments: list[Assignment], now: datetime) -> list[Row]:
    """Organisations x assignments: every organisation that must submit at least one of them,
    those with something late first (the most late first), then by kind and name."""
    submissions = session.scalars(
        select(Submission).where(Submission.assignment_id.in_([a.id for a in assignments]))
    )
    by_key = {(s.assignment_id, s.organization_id): s for s in submissions}
    rows: dict[int, Row] = {}
    for assignment in assignments:
        for organization in session.scalars(targets(assignment)):
            row = rows.setdefault(organization.id, Row(organization, {}))
            row.cells[assignment.id] = cell_for(assignment, by_key.get((assignment.id, organization.id)), now)
    return sorted(
        rows.values(), key=lambda row: (-row.late_count, row.organization.kind, row.organization.name)
    )
