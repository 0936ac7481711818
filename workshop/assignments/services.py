"""Assignments' operations: an assignment set up, an organisation's submission saved (a new
revision each time, on time or late per the late policy), a submission reviewed.

Services take the session, the acting user and `now`; they flush, never commit, and raise
`AssignmentError` with a code (the views turn codes into text). A file is checked before anything
is written, and written only once the save is sure to go ahead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Select, or_, select

from workshop import audit
from workshop.assignments import files
from workshop.assignments.models import (
    REVIEW_STATUSES,
    ROW_FIELDS,
    Assignment,
    AssignmentTarget,
    LatePolicy,
    Submission,
    SubmissionReview,
    SubmissionRevision,
    SubmissionStatus,
)
from workshop.auth.models import Role, User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.programs.dimensions import DIMENSIONS
from workshop.programs.models import Organization, OrgKind, Program, Stage
from workshop.registration.models import Person, Registration, Status
from workshop.text import clean_line, clean_lines

MAX_TITLE = 200
MAX_CELL = 2000
MAX_COMMENT = 4000
CLEAN = {"problem": clean_lines, "innovation": clean_lines, "owner": clean_line, "year": clean_line}


class AssignmentError(ServiceError):
    pass


def save_assignment(
    session: Session,
    program: Program,
    assignment: Assignment | None,
    *,
    stage: Stage,
    title: str,
    instructions: str,
    deadline: datetime,
    late_policy: LatePolicy,
    wants_rows: bool,
    wants_file: bool,
    kinds: Iterable[OrgKind],
    picked_ids: Iterable[int],
    reviewer: User | None,
    actor: User,
) -> Assignment:
    """Create (assignment None) or change an assignment of `program`."""
    if stage.program_id != program.id:
        raise AssignmentError("bad_stage", "stage_id")
    if not title.strip():
        raise AssignmentError("title_required", "title")
    if not (wants_rows or wants_file):
        raise AssignmentError("nothing_asked", "wants_rows")
    kinds = [OrgKind(kind) for kind in kinds]
    picked = set(picked_ids)
    if picked and len(
        session.scalars(select(Organization.id).where(Organization.id.in_(picked))).all()
    ) != len(picked):
        raise AssignmentError("bad_organization", "organizations")
    if not kinds and not picked:
        raise AssignmentError("no_target", "kinds")
    if reviewer is not None and reviewer.role != Role.NARASUMBER:
        raise AssignmentError("bad_reviewer", "reviewer_id")
    created = assignment is None
    if assignment is None:
        assignment = Assignment(program_id=program.id, created_by_id=actor.id)
        session.add(assignment)
    assignment.stage_id = stage.id
    assignment.title = title.strip()[:MAX_TITLE]
    assignment.instructions = instructions.strip()
    assignment.deadline = deadline
    assignment.late_policy = late_policy
    assignment.wants_rows = wants_rows
    assignment.wants_file = wants_file
    assignment.target_kinds = ",".join(kind.value for kind in kinds)
    assignment.reviewer_id = reviewer.id if reviewer is not None else None
    assignment.picked = [AssignmentTarget(organization_id=org_id) for org_id in sorted(picked)]
    session.flush()
    audit.record(
        session, actor, "assignment.create" if created else "assignment.update", f"assignment:{assignment.id}"
    )
    return assignment


def targets(assignment: Assignment) -> Select[tuple[Organization]]:
    """The statement of the organisations that must submit: of the chosen kinds, or picked."""
    return (
        select(Organization)
        .where(
            or_(
                Organization.kind.in_(assignment.kinds),
                Organization.id.in_(
                    select(AssignmentTarget.organization_id).where(
                        AssignmentTarget.assignment_id == assignment.id
                    )
                ),
            )
        )
        .order_by(Organization.kind, Organization.name)
    )


def is_target(assignment: Assignment, organization: Organization) -> bool:
    return organization.kind in assignment.kinds or organization.id in assignment.picked_ids


def contacts(program_id: int, organization_id: int) -> Select[tuple[Registration]]:
    """The statement of an organisation's contact persons: its approved registrations."""
    return (
        select(Registration)
        .join(Person)
        .where(
            Registration.program_id == program_id,
            Registration.status == Status.APPROVED,
            Person.organization_id == organization_id,
        )
        .order_by(Person.name)
    )


def can_review(user: User, assignment: Assignment) -> bool:
    """Organisers review every assignment; a narasumber the ones they are named for."""
    return user.is_organiser or (user.role == Role.NARASUMBER and assignment.reviewer_id == user.id)


def submission_of(session: Session, assignment: Assignment, organization: Organization) -> Submission | None:
    return session.scalar(
        select(Submission).where(
            Submission.assignment_id == assignment.id, Submission.organization_id == organization.id
        )
    )


def clean_rows(assignment: Assignment, raw: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    """The dimensions' rows as they are kept: every field of every dimension, trimmed; a row left
    empty is left out. AssignmentError "too_long" for a cell over MAX_CELL characters."""
    if not assignment.wants_rows:
        return {}
    rows = {}
    for dimension in DIMENSIONS:
        given = raw.get(dimension, {})
        row = {name: CLEAN[name](str(given.get(name, "") or "")) for name in ROW_FIELDS}
        if any(len(value) > MAX_CELL for value in row.values()):
            raise AssignmentError("too_long", dimension)
        if any(row.values()):
            rows[dimension] = row
    return rows


def submit(
    session: Session,
    assignment: Assignment,
    organization: Organization,
    *,
    rows: Mapping[str, Mapping[str, str]] | None = None,
    upload: files.CheckedFile | None = None,
    files_dir: str,
    actor: User,
    now: datetime,
) -> Submission:
    """Save the organisation's work as a new revision: `rows` (None: as they were) and/or a
    new file (None: the previous one stays). Refused: "not_target", "closed" (after the deadline
    of an assignment that refuses late work), "accepted" (already accepted), "empty" (nothing
    handed in), "unchanged"."""
    if not is_target(assignment, organization):
        raise AssignmentError("not_target")
    late = now > assignment.deadline
    if late and assignment.late_policy == LatePolicy.REFUSE:
        raise AssignmentError("closed")
    submission = submission_of(session, assignment, organization)
    previous = submission.latest if submission is not None and submission.revisions else None
    if submission is not None and submission.status == SubmissionStatus.ACCEPTED:
        raise AssignmentError("accepted")
    old_rows = previous.rows if previous is not None else {}
    new_rows = clean_rows(assignment, rows) if rows is not None else old_rows
    changes = [f"rows:{d}" for d in DIMENSIONS if new_rows.get(d) != old_rows.get(d)]
    if upload is not None:
        changes.append("file")
    if not new_rows and upload is None and (previous is None or not previous.file_key):
        raise AssignmentError("empty")
    if previous is not None and not changes:
        raise AssignmentError("unchanged")
    if submission is None:
        submission = Submission(
            assignment_id=assignment.id,
            organization_id=organization.id,
            first_submitted_at=now,
            updated_at=now,
            late=late,
        )
        session.add(submission)
    submission.status = SubmissionStatus.SUBMITTED
    submission.updated_at = now
    revision = SubmissionRevision(
        number=len(submission.revisions) + 1,
        author_id=actor.id,
        created_at=now,
        late=late,
        rows_json=json.dumps(new_rows, ensure_ascii=False, sort_keys=True),
        changes_json=json.dumps(changes),
    )
    if upload is not None:
        revision.file_key = files.store(files_dir, upload)
        revision.file_name, revision.file_type, revision.file_size = (
            upload.name,
            upload.type,
            len(upload.data),
        )
    elif previous is not None:
        revision.file_key, revision.file_name = previous.file_key, previous.file_name
        revision.file_type, revision.file_size = previous.file_type, previous.file_size
    submission.revisions.append(revision)
    session.flush()
    audit.record(
        session, actor, "submission.save", f"submission:{submission.id}", f"revision {revision.number}"
    )
    return submission


def review(
    session: Session,
    submission: Submission,
    *,
    status: SubmissionStatus,
    comment: str,
    reviewer: User,
    now: datetime,
) -> SubmissionReview:
    """Mark the latest revision received, needing revision (with a comment) or accepted."""
    if not can_review(reviewer, submission.assignment):
        raise AssignmentError("not_reviewer")
    if status not in REVIEW_STATUSES:
        raise AssignmentError("bad_status", "status")
    comment = clean_lines(comment)
    if status == SubmissionStatus.NEEDS_REVISION and not comment:
        raise AssignmentError("comment_required", "comment")
    if len(comment) > MAX_COMMENT:
        raise AssignmentError("comment_too_long", "comment")
    entry = SubmissionReview(
        revision_number=submission.latest.number,
        status=status,
        comment=comment,
        reviewer_id=reviewer.id,
        created_at=now,
    )
    submission.reviews.append(entry)
    submission.status = status
    submission.review_comment = comment
    submission.reviewed_at = now
    session.flush()
    audit.record(session, reviewer, "submission.review", f"submission:{submission.id}", status.value)
    return entry
