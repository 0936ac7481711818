"""Assignments between stages: what each organisation must hand in, and what it handed in.

An `Assignment` belongs to a stage: its title and instructions, its deadline (stored in UTC, entered
and shown in the programme's zone), its late policy, what it asks for (one row per Smart City
dimension and/or a file) and the organisations that must submit: every organisation of the chosen
kinds, and the ones picked by name. A `narasumber` may be named to review it.

A `Submission` is the organisation's, one per (assignment, organisation), whoever of its contact
persons wrote it; each save adds a `SubmissionRevision` (who, when, what changed, the content as
it was) and each review a `SubmissionReview`: the history is never overwritten.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.auth.models import User
from workshop.db import Model, utcnow
from workshop.programs import facts
from workshop.programs.models import Organization, OrgKind, Program, Stage

ROW_FIELDS = ("problem", "innovation", "owner", "year")


class LatePolicy(enum.StrEnum):
    ACCEPT = "accept"  # accepted after the deadline, and marked late
    REFUSE = "refuse"  # no submission or change after the deadline


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"  # handed in, not reviewed yet (or changed since the review)
    RECEIVED = "received"
    NEEDS_REVISION = "needs_revision"
    ACCEPTED = "accepted"


REVIEW_STATUSES = (SubmissionStatus.RECEIVED, SubmissionStatus.NEEDS_REVISION, SubmissionStatus.ACCEPTED)


class Assignment(Model):
    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("program.id"), index=True)
    stage_id: Mapped[int] = mapped_column(ForeignKey("stage.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime]
    late_policy: Mapped[LatePolicy] = mapped_column(
        Enum(LatePolicy, native_enum=False, length=10), default=LatePolicy.ACCEPT
    )
    wants_rows: Mapped[bool] = mapped_column(default=True)  # one row per Smart City dimension
    wants_file: Mapped[bool] = mapped_column(default=False)  # a PDF, DOCX or XLSX
    # Every organisation of these kinds must submit ("opd,kecamatan"), and the picked ones.
    target_kinds: Mapped[str] = mapped_column(String(120), default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    program: Mapped[Program] = relationship()
    stage: Mapped[Stage] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    picked: Mapped[list[AssignmentTarget]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )

    @property
    def kinds(self) -> list[OrgKind]:
        chosen = set(self.target_kinds.split(","))
        return [kind for kind in OrgKind if kind.value in chosen]

    @property
    def picked_ids(self) -> set[int]:
        return {target.organization_id for target in self.picked}


class AssignmentTarget(Model):
    """An organisation picked by name to submit an assignment (besides the chosen kinds)."""

    __tablename__ = "assignment_target"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), primary_key=True, index=True)

    assignment: Mapped[Assignment] = relationship(back_populates="picked")
    organization: Mapped[Organization] = relationship()


class Submission(Model):
    """An organisation's work on an assignment: its latest revision and its review status."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("assignment_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(
        Enum(SubmissionStatus, native_enum=False, length=20), default=SubmissionStatus.SUBMITTED
    )
    first_submitted_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(default=False)  # the first handing-in came after the deadline
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None]

    assignment: Mapped[Assignment] = relationship()
    organization: Mapped[Organization] = relationship()
    revisions: Mapped[list[SubmissionRevision]] = relationship(
        back_populates="submission", order_by="SubmissionRevision.number", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[SubmissionReview]] = relationship(
        back_populates="submission", order_by="SubmissionReview.id", cascade="all, delete-orphan"
    )

    @property
    def latest(self) -> SubmissionRevision:
        return self.revisions[-1]


class SubmissionRevision(Model):
    """One save of a submission, as it was: the rows, the file (kept under `file_key` in the
    assignment files folder, outside the web root), who saved it, when, and what changed."""

    __tablename__ = "submission_revision"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    number: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime]
    late: Mapped[bool] = mapped_column(default=False)
    rows_json: Mapped[str] = mapped_column(Text, default="{}")
    file_key: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(String(200), default="")
    file_type: Mapped[str] = mapped_column(String(10), default="")  # pdf, docx, xlsx
    file_size: Mapped[int] = mapped_column(default=0)
    # What this save changed: a JSON list of codes ("rows:governance", "file"), shown translated.
    changes_json: Mapped[str] = mapped_column(Text, default="[]")

    submission: Mapped[Submission] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    @property
    def rows(self) -> dict[str, dict[str, str]]:
        return json.loads(self.rows_json or "{}")

    @property
    def changes(self) -> list[str]:
        return json.loads(self.changes_json or "[]")


class SubmissionReview(Model):
    __tablename__ = "submission_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    revision_number: Mapped[int]
    status: Mapped[SubmissionStatus] = mapped_column(Enum(SubmissionStatus, native_enum=False, length=20))
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime]

    submission: Mapped[Submission] = relationship(back_populates="reviews")
    reviewer: Mapped[User | None] = relationship()


class AssignmentReminder(Model):
    """An (assignment, offset) whose deadline reminder was expanded (`assignments/reminders.py`): the
    primary key makes it happen once. `sent` is False for a reminder whose moment passed while a
    nearer one was due (after H-1, no H-3)."""

    __tablename__ = "assignment_reminder"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True)
    offset_days: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    sent: Mapped[bool] = mapped_column(default=True)


# The participant page keeps which organisations the programme's assignments target (programs/facts.py).
facts.track(Assignment)
facts.track(AssignmentTarget, facts.through("assignment"))
