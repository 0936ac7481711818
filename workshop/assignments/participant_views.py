"""The organisation's side: its contact persons (the approved registrations of the organisation)
see its assignments on their page, hand in the dimension rows and/or a file, change them until
the deadline (later too, marked late, where the assignment accepts late work), and read the review.
The submission is the organisation's: every contact person sees and changes the same one."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop import clock, uploads
from workshop.assignments import files, queries, services
from workshop.assignments.blueprint import bp
from workshop.assignments.forms import STATUS_LABELS, RowsForm
from workshop.assignments.models import ROW_FIELDS, Assignment, SubmissionRevision
from workshop.assignments.views import labels, send_revision_file
from workshop.auth.permissions import participant_required
from workshop.db import db
from workshop.programs import facts
from workshop.programs.dimensions import DIMENSIONS
from workshop.registration.models import Registration
from workshop.registration.queries import PageRegistration, own_registration_or_404

ERRORS = {
    "not_target": _l("Your organisation does not have this assignment."),
    "closed": _l("The deadline has passed: this assignment no longer accepts submissions."),
    "accepted": _l("This submission is accepted already: it can no longer be changed."),
    "empty": _l("Fill in at least one row or upload a file."),
    "unchanged": _l("Nothing changed since the last save."),
    "too_long": _l("A field can be at most 2,000 characters long."),
    "empty_file": _l("The file is empty."),
    "bad_file": _l("Only PDF, Word (DOCX) or Excel (XLSX) files are accepted: this file is none of them."),
    "no_file_asked": _l("This assignment does not ask for a file."),
}


@bp.app_context_processor
def _assignment_helpers():
    return {
        "assignment_cards": assignment_cards,
        "assignment_status_labels": STATUS_LABELS,
        "file_size": uploads.limit_text,
    }


def assignment_cards(registration: Registration | PageRegistration) -> list[dict]:
    """What the participant page shows: the organisation's assignments, each with its submission."""
    organization = registration.person.organization
    if not facts.of(registration.program, queries.targets_of_program).include(organization):
        return []
    assignments = queries.assignments_for(db.session, registration.program_id, organization)
    if not assignments:
        return []
    submitted = queries.submissions_by_assignment(db.session, organization.id, [a.id for a in assignments])
    now = clock.now()
    return [
        {"assignment": a, "cell": queries.cell_for(a, submitted.get(a.id), now), "overdue": now > a.deadline}
        for a in assignments
    ]


def _own(slug: str, assignment_id: int) -> tuple[Registration, Assignment]:
    """The participant's registration and the assignment, if their organisation must submit it."""
    registration = own_registration_or_404(slug)
    assignment = db.get_or_404(Assignment, assignment_id)
    organization = registration.person.organization
    if assignment.program_id != registration.program_id or not services.is_target(assignment, organization):
        abort(404)
    return registration, assignment


@bp.route("/saya/<slug>/tugas/<int:assignment_id>", methods=["GET", "POST"])
@participant_required
def participant_assignment(slug: str, assignment_id: int):
    registration, assignment = _own(slug, assignment_id)
    organization = registration.person.organization
    found = services.submission_of(db.session, assignment, organization)
    saved = found.latest.rows if found is not None else {}
    form = RowsForm(data=saved if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        rows = {d: {name: getattr(form, d)[name].data or "" for name in ROW_FIELDS} for d in DIMENSIONS}
        try:
            services.submit(
                db.session,
                assignment,
                organization,
                rows=rows,
                files_dir=current_app.config["ASSIGNMENT_FILES_DIR"],
                actor=current_user,
                now=clock.now(),
            )
        except services.AssignmentError as error:
            db.session.rollback()
            flash(str(ERRORS[error.code]), "danger")
            status = 400
        else:
            db.session.commit()
            flash(_("Saved: the organisers can see your submission."), "success")
            return redirect(
                url_for("assignments.participant_assignment", slug=slug, assignment_id=assignment.id)
            )
    elif request.method == "POST":
        status = 400
    return _page(registration, assignment, form, status=status)


def _page(registration, assignment, form, *, file_error: str = "", status: int = 200):
    organization = registration.person.organization
    found = services.submission_of(db.session, assignment, organization)
    now = clock.now()
    return (
        render_template(
            "assignments/participant.html",
            program=registration.program,
            registration=registration,
            assignment=assignment,
            submission=found,
            cell=queries.cell_for(assignment, found, now),
            form=form,
            file_error=file_error,
            open_now=now <= assignment.deadline or assignment.late_policy.value == "accept",
            overdue=now > assignment.deadline,
            posted=request.method == "POST" and not file_error,
            upload_limit=uploads.limit_text(),
            **labels(),
        ),
        status,
    )


@bp.route("/saya/<slug>/tugas/<int:assignment_id>/berkas", methods=["POST"])
@participant_required
@uploads.upload_view
def participant_upload(slug: str, assignment_id: int):
    try:
        filename, data = uploads.receive()
    except uploads.UploadError as error:
        registration, assignment = _own(slug, assignment_id)
        return _page(
            registration, assignment, RowsForm(formdata=None), file_error=error.message, status=error.status
        )
    registration, assignment = _own(slug, assignment_id)
    try:
        if not assignment.wants_file:
            raise services.AssignmentError("no_file_asked")
        checked = files.check(filename, data)
        services.submit(
            db.session,
            assignment,
            registration.person.organization,
            upload=checked,
            files_dir=current_app.config["ASSIGNMENT_FILES_DIR"],
            actor=current_user,
            now=clock.now(),
        )
    except (services.AssignmentError, files.FileError) as error:
        db.session.rollback()
        return _page(
            registration, assignment, RowsForm(formdata=None), file_error=str(ERRORS[error.code]), status=400
        )
    db.session.commit()
    flash(_("The file is uploaded: the organisers can see your submission."), "success")
    return redirect(
        url_for("assignments.participant_assignment", slug=slug, assignment_id=assignment.id), 303
    )


@bp.route("/saya/<slug>/tugas/<int:assignment_id>/berkas/<int:revision_id>")
@participant_required
def participant_file(slug: str, assignment_id: int, revision_id: int):
    registration, assignment = _own(slug, assignment_id)
    revision = db.get_or_404(SubmissionRevision, revision_id)
    submission = revision.submission
    if (
        submission.assignment_id != assignment.id
        or submission.organization_id != registration.person.organization_id
    ):
        abort(404)
    return send_revision_file(revision)
