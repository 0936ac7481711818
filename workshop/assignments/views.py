"""The organiser's assignment pages (set up, follow, review, export) and the narasumber's reviews.

Organisers see and review every assignment; a narasumber reviews only the assignments they are
named for (`services.can_review`): narasumber accounts are not tied to stages elsewhere in the
app, so each assignment names its reviewer."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

from workshop import audit, clock, i18n, web
from workshop.assignments import exports, files, messages, queries, services
from workshop.assignments.blueprint import bp
from workshop.assignments.forms import (
    LATE_POLICY_LABELS,
    ROW_LABELS,
    STATUS_LABELS,
    AssignmentForm,
    ReviewForm,
)
from workshop.assignments.models import (
    Assignment,
    LatePolicy,
    Submission,
    SubmissionRevision,
    SubmissionStatus,
)
from workshop.auth.models import Role, User
from workshop.auth.permissions import organiser_required, roles_required
from workshop.db import db
from workshop.forms import add_error
from workshop.programs.dimensions import DIMENSION_LABELS
from workshop.programs.forms import ORG_KIND_LABELS, as_local_naive, from_local_naive
from workshop.programs.models import Organization, Program, Stage
from workshop.reminders import jobs, outreach
from workshop.reminders.models import PARTICIPANT_CHANNELS, Kind
from workshop.reminders.services import ReminderError

reviewer_required = roles_required(Role.ADMIN, Role.PANITIA, Role.NARASUMBER)

ERRORS = {
    "bad_stage": _l("Choose a stage of this programme."),
    "title_required": _l("Write the title."),
    "nothing_asked": _l("Ask for the dimension rows, a file, or both."),
    "bad_organization": _l("An organisation chosen no longer exists."),
    "no_target": _l("Choose the kinds of organisations that must submit, or pick organisations."),
    "bad_reviewer": _l("The reviewer must be a narasumber account."),
    "not_reviewer": _l("Only the organisers and the narasumber named for this assignment review it."),
    "bad_status": _l("Choose received, needs revision or accepted."),
    "comment_required": _l("Say what needs revising in the comment."),
    "comment_too_long": _l("The comment can be at most 4,000 characters long."),
}


def labels() -> dict:
    return {
        "status_labels": STATUS_LABELS,
        "dimension_labels": DIMENSION_LABELS,
        "row_labels": ROW_LABELS,
        "late_policy_labels": LATE_POLICY_LABELS,
        "kind_labels": ORG_KIND_LABELS,
    }


@bp.route("/admin/programs/<int:program_id>/tugas")
@organiser_required
def index(program_id: int):
    program = db.get_or_404(Program, program_id)
    assignments = queries.assignments_of(db.session, program.id)
    now = clock.now()
    rows = queries.matrix(db.session, assignments, now)
    return render_template(
        "assignments/index.html", program=program, assignments=assignments, rows=rows, now=now, **labels()
    )


@bp.route("/admin/tugas")
@roles_required(Role.NARASUMBER)
def my_reviews():
    return render_template(
        "assignments/my_reviews.html",
        assignments=queries.reviewable_by(db.session, current_user.id),
        **labels(),
    )


def _form(program: Program, assignment: Assignment | None) -> AssignmentForm:
    data = None
    if assignment is not None and request.method == "GET":
        data = {
            "stage_id": assignment.stage_id,
            "title": assignment.title,
            "instructions": assignment.instructions,
            "deadline": as_local_naive(assignment.deadline, program.timezone),
            "late_policy": assignment.late_policy.value,
            "wants_rows": assignment.wants_rows,
            "wants_file": assignment.wants_file,
            "kinds": [kind.value for kind in assignment.kinds],
            "organizations": sorted(assignment.picked_ids),
            "reviewer_id": assignment.reviewer_id or 0,
        }
    form = AssignmentForm(data=data)
    form.stage_id.choices = [
        SelectChoice(stage.id, f"{i18n.stage_label(stage.number)}: {stage.title}") for stage in program.stages
    ]
    organizations = db.session.scalars(select(Organization).order_by(Organization.kind, Organization.name))
    form.organizations.choices = [SelectChoice(org.id, org.label) for org in organizations]
    reviewers = db.session.scalars(
        select(User).where(User.role == Role.NARASUMBER, User.active.is_(True)).order_by(User.name)
    )
    form.reviewer_id.choices = [SelectChoice(0, _("The organisers"))] + [
        SelectChoice(user.id, user.name) for user in reviewers
    ]
    return form


@bp.route("/admin/programs/<int:program_id>/tugas/baru", methods=["GET", "POST"])
@organiser_required
def new(program_id: int):
    return _edit(db.get_or_404(Program, program_id), None)


@bp.route("/admin/tugas/<int:assignment_id>/ubah", methods=["GET", "POST"])
@organiser_required
def edit(assignment_id: int):
    assignment = db.get_or_404(Assignment, assignment_id)
    return _edit(assignment.program, assignment)


def _edit(program: Program, assignment: Assignment | None):
    form = _form(program, assignment)
    if form.validate_on_submit():
        deadline = form.deadline.data
        assert deadline is not None  # a required field
        try:
            saved = services.save_assignment(
                db.session,
                program,
                assignment,
                stage=db.get_or_404(Stage, form.stage_id.data),
                title=form.title.data or "",
                instructions=form.instructions.data or "",
                deadline=from_local_naive(deadline, program.timezone),
                late_policy=LatePolicy(form.late_policy.data),
                wants_rows=form.wants_rows.data,
                wants_file=form.wants_file.data,
                kinds=form.kinds.data or [],
                picked_ids=form.organizations.data or [],
                reviewer=db.session.get(User, form.reviewer_id.data) if form.reviewer_id.data else None,
                actor=current_user,
            )
        except services.AssignmentError as error:
            db.session.rollback()
            add_error(getattr(form, error.field or "title"), str(ERRORS[error.code]))
        else:
            db.session.commit()
            flash(_("The assignment is saved."), "success")
            return redirect(url_for("assignments.detail", assignment_id=saved.id))
    return render_template(
        "assignments/edit.html", program=program, assignment=assignment, form=form, **labels()
    )


def _reviewable(assignment_id: int) -> Assignment:
    assignment = db.get_or_404(Assignment, assignment_id)
    if not services.can_review(current_user, assignment):
        abort(403)
    return assignment


@bp.route("/admin/tugas/<int:assignment_id>")
@reviewer_required
def detail(assignment_id: int):
    assignment = _reviewable(assignment_id)
    now = clock.now()
    rows = queries.status_rows(db.session, assignment, now)
    return render_template("assignments/detail.html", assignment=assignment, rows=rows, now=now, **labels())


@bp.route("/admin/tugas/<int:assignment_id>/organisasi/<int:organization_id>", methods=["GET", "POST"])
@reviewer_required
def submission(assignment_id: int, organization_id: int):
    assignment = _reviewable(assignment_id)
    organization = db.get_or_404(Organization, organization_id)
    found = services.submission_of(db.session, assignment, organization)
    if not services.is_target(assignment, organization):
        abort(404)
    form = ReviewForm()
    if found is not None and form.validate_on_submit():
        status = SubmissionStatus(form.status.data)
        try:
            services.review(
                db.session,
                found,
                status=status,
                comment=form.comment.data or "",
                reviewer=current_user,
                now=clock.now(),
            )
            _tell(assignment, found)
        except (services.AssignmentError, ReminderError) as error:
            db.session.rollback()
            message = ERRORS.get(error.code) or _(
                "The review could not be sent: %(reason)s", reason=error.code
            )
            flash(str(message), "danger")
        else:
            db.session.commit()
            jobs.wake(current_app)
            flash(_("The review is saved and the organisation is told."), "success")
            return redirect(
                url_for(
                    "assignments.submission", assignment_id=assignment.id, organization_id=organization.id
                )
            )
    return render_template(
        "assignments/submission.html",
        assignment=assignment,
        organization=organization,
        submission=found,
        form=form,
        contacts=db.session.scalars(services.contacts(assignment.program_id, organization.id)).all(),
        **labels(),
    )


def _tell(assignment: Assignment, submission: Submission) -> None:
    """The organisation's contact persons get the review (WhatsApp, email: the reminders' engine)."""
    program = assignment.program
    outreach.send_texts(
        db.session,
        program,
        db.session.scalars(services.contacts(program.id, submission.organization_id)).all(),
        Kind.ASSIGNMENT,
        texts=messages.review_texts(submission),
        channels=PARTICIPANT_CHANNELS,
        actor=current_user,
        base_url=current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/"),
        now=clock.now(),
        stage=assignment.stage,
    )


@bp.route("/admin/tugas/berkas/<int:revision_id>")
@reviewer_required
def file(revision_id: int):
    revision = db.get_or_404(SubmissionRevision, revision_id)
    _reviewable(revision.submission.assignment_id)
    return send_revision_file(revision)


def send_revision_file(revision: SubmissionRevision):
    """The revision's file, as a download only (an attachment, nosniff: never shown inline)."""
    if not revision.file_key:
        abort(404)
    try:
        data = files.read(current_app.config["ASSIGNMENT_FILES_DIR"], revision.file_key)
    except FileNotFoundError:
        abort(404)
    return web.download(
        data, files.MIMETYPES[revision.file_type], revision.file_name, cache="private, no-store"
    )


def _matrix(program_id: int):
    program = db.get_or_404(Program, program_id)
    assignments = queries.assignments_of(db.session, program.id)
    return program, assignments, queries.matrix(db.session, assignments, clock.now())


@bp.route("/admin/programs/<int:program_id>/tugas/ikhtisar.xlsx")
@organiser_required
def matrix_xlsx(program_id: int):
    program, assignments, matrix = _matrix(program_id)
    body = exports.to_xlsx(assignments, matrix, f"{_('Assignments')}: {program.title}")
    audit.record_export(db.session, current_user, "assignments.export", f"program:{program.id}", "xlsx")
    return web.download(body, files.MIMETYPES["xlsx"], f"tugas-{program.slug}.xlsx")


@bp.route("/admin/programs/<int:program_id>/tugas/ikhtisar.csv")
@organiser_required
def matrix_csv(program_id: int):
    program, assignments, matrix = _matrix(program_id)
    body = exports.to_csv(assignments, matrix)
    audit.record_export(db.session, current_user, "assignments.export", f"program:{program.id}", "csv")
    return web.download(body, "text/csv", f"tugas-{program.slug}.csv")
