"""Online attendance pages: the personal join link, the presence heartbeat over HTTP, and the
organiser's import and review of meeting reports (Zoom's participants CSV).

Routes of the attendance blueprint (blueprint.py).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from workshop import clock, i18n, realtime, uploads
from workshop.attendance import queries, services
from workshop.attendance.blueprint import bp
from workshop.attendance.events import presence_heartbeat
from workshop.attendance.forms import MeetingReportForm
from workshop.attendance.models import MeetingReport, MeetingReportRow, RowMatch
from workshop.attendance.reader import ReportFileError
from workshop.auth.permissions import organiser_required, participant_required
from workshop.db import db, writes_on_get
from workshop.programs.models import Program, Stage
from workshop.programs.windows import StageWindow, stage_window
from workshop.registration.models import Registration, Status
from workshop.registration.validation import display_phone

REVIEW_ERRORS = {
    "not_reviewable": _l("This row was already reviewed."),
    "not_in_programme": _l("Choose an approved participant of this programme."),
}


# A participant page opened this long before a day of a stage already holds the presence script,
# which starts its heartbeats when the day's window opens.
PRESENCE_PAGE_AHEAD = timedelta(hours=12)


@bp.app_context_processor
def _online_helpers():
    return {
        "online_stage": _online_stage,
        "presence_windows": _presence_windows,
        "presence_heartbeat_seconds": int(services.HEARTBEAT.total_seconds()),
    }


def _online_stage(stage) -> str:
    """For the participant page (a Stage or its cached StageView): "ended"; "presence" while the
    page sends presence (the stage runs, or a day of it starts within PRESENCE_PAGE_AHEAD); else
    "upcoming"."""
    now = clock.now()
    state = services.presence_state(stage, now)
    if state.phase == services.Phase.ENDED:
        return "ended"
    if state.phase == services.Phase.OPEN or (
        state.next_start is not None and state.next_start - now <= PRESENCE_PAGE_AHEAD
    ):
        return "presence"
    return "upcoming"


def _presence_windows(stage) -> str:
    return _presence_windows_text(stage.starts_at, stage.ends_at, stage.program.timezone)


@functools.lru_cache(maxsize=1024)
def _presence_windows_text(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """Kept per stage times: the participant page writes every stage's windows on every view."""
    return " ".join(
        f"{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}/{end.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        for start, end in services.presence_windows(StageWindow(starts_at, ends_at, timezone))
    )


# Participant


@bp.route("/saya/<slug>/tahap/<int:position>/gabung")
@writes_on_get
@participant_required
def join(slug: str, position: int):
    """The personal join link: inside the stage's window it records the click and opens the
    meeting; outside it, it says when the stage starts."""
    found = db.session.execute(
        select(Registration, Stage)
        .join(Program, Registration.program_id == Program.id)
        .join(Stage, Stage.program_id == Program.id)
        .where(
            Program.slug == slug,
            Stage.position == position,
            Registration.person_id == current_user.person_id,
            Registration.status == Status.APPROVED,
        )
    ).first()
    if found is None:
        abort(404)
    registration, stage = found
    now = clock.now()
    state = services.join_state(stage, now)
    has_link = stage.meeting_url.startswith(("https://", "http://"))
    if state.phase == services.Phase.OPEN and has_link:
        meeting_url, stage_id = stage.meeting_url, stage.id
        services.record_join_click(db.session, registration, stage, now)
        db.session.commit()
        realtime.notify_attendance_changed(stage_id)
        return redirect(meeting_url, 302)
    return render_template(
        "attendance/online_join.html",
        stage=stage,
        program=stage.program,
        registration=registration,
        state=state,
        has_link=has_link,
    )


@bp.route("/api/stages/<int:stage_id>/presence", methods=["POST"])
@realtime.answers_server_error
@participant_required
def presence(stage_id: int):
    """HTTP fallback of the Socket.IO `presence` event: same checks, same service, same ack (also
    when it fails)."""
    body = request.get_json(silent=True)
    nonce = body.get("nonce") if isinstance(body, dict) else None
    ack, status = presence_heartbeat(current_user, stage_id, nonce)
    return jsonify(ack), status


# Organiser: meeting reports


def _upload_page(stage: Stage, errors: list[str], status: int = 200):
    return render_template(
        "attendance/online_report_upload.html",
        stage=stage,
        program=stage.program,
        errors=errors,
        reports=queries.report_summary(db.session, stage),
        unreviewed=len(queries.stage_rows(db.session, stage, RowMatch.UNMATCHED)),
        max_size=uploads.limit_text(),
        zone=f"{i18n.zone_abbreviation(stage.program.timezone)}, {stage.program.timezone}",
    ), status


@bp.route("/admin/stages/<int:stage_id>/meeting-reports", methods=["GET", "POST"])
@organiser_required
@uploads.upload_view
def meeting_reports(stage_id: int):
    if request.method == "GET":
        return _upload_page(db.get_or_404(Stage, stage_id), [])
    try:
        filename, data = uploads.receive(MeetingReportForm)
    except uploads.UploadError as error:
        return _upload_page(db.get_or_404(Stage, stage_id), [error.message], error.status)
    stage = db.get_or_404(Stage, stage_id)
    try:
        result = services.import_report(db.session, stage, filename=filename, data=data, actor=current_user)
    except ReportFileError as error:
        db.session.rollback()
        return _upload_page(stage, [error.message], 400)
    db.session.commit()
    if result.duplicates:
        flash(
            ngettext(
                "%(num)d row was already imported from an earlier file and was skipped.",
                "%(num)d rows were already imported from an earlier file and were skipped.",
                result.duplicates,
            ),
            "info",
        )
    if result.report is None:
        return redirect(url_for("attendance.meeting_reports", stage_id=stage.id), 303)
    if result.matched:
        realtime.notify_attendance_changed(stage.id)
    return redirect(url_for("attendance.meeting_report", report_id=result.report.id), 303)


@bp.route("/admin/meeting-reports/<int:report_id>")
@organiser_required
def meeting_report(report_id: int):
    report = db.get_or_404(MeetingReport, report_id)
    stage = db.session.get_one(Stage, report.stage_id)
    rows = report.rows
    return render_template(
        "attendance/online_report.html",
        report=report,
        stage=stage,
        program=stage.program,
        rows=rows,
        matched=sum(row.match in queries.COUNTED for row in rows),
        unmatched=sum(row.match == RowMatch.UNMATCHED for row in rows),
        ignored=sum(row.match == RowMatch.IGNORED for row in rows),
        hosted=sum(row.match == RowMatch.HOST for row in rows),
        names=queries.registration_names(db.session, (row.registration_id for row in rows)),
    )


def _choices(stage: Stage) -> dict[str, int]:
    """The searchable list of participants: 'Name — Position, Organisation (0812-...)' -> id."""
    choices = {}
    for registration in queries.approved_registrations(db.session, stage.program_id):
        person = registration.person
        label = (
            f"{person.name} — {person.position}, {person.organization.label} ({display_phone(person.phone)})"
        )
        choices[label] = registration.id
    return dict(sorted(choices.items(), key=lambda item: item[0].lower()))


@bp.route("/admin/stages/<int:stage_id>/meeting-reports/review")
@organiser_required
def meeting_report_review(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    timezone = stage.program.timezone
    multi_day = len(stage_window(stage).days()) > 1
    return render_template(
        "attendance/online_review.html",
        stage=stage,
        program=stage.program,
        groups=queries.review_groups(db.session, stage),
        choices=_choices(stage),
        day=lambda moment: (
            f"{i18n.format_short_day(moment, timezone, i18n.current_language())} " if multi_day else ""
        ),
    )


def _review_row(row_id: int) -> MeetingReportRow:
    return db.get_or_404(MeetingReportRow, row_id)


@bp.route("/admin/meeting-report-rows/<int:row_id>/match", methods=["POST"])
@organiser_required
def meeting_report_row_match(row_id: int):
    row = _review_row(row_id)
    stage = db.session.get_one(Stage, row.report.stage_id)
    review = url_for("attendance.meeting_report_review", stage_id=stage.id)
    choice = " ".join(request.form.get("registration", "").split())
    registration_id = _choices(stage).get(choice)
    if registration_id is None:
        flash(_("Choose a participant from the list."), "danger")
        return redirect(review, 303)
    registration = db.session.get_one(Registration, registration_id)
    try:
        rows = services.match_row(db.session, row, registration, actor=current_user)
    except services.ReviewError as error:
        db.session.rollback()
        flash(str(REVIEW_ERRORS[error.code]), "danger")
        return redirect(review, 303)
    db.session.commit()
    realtime.notify_attendance_changed(stage.id)
    flash(
        ngettext(
            "%(num)d row of “%(name)s” is now counted for %(person)s.",
            "%(num)d rows of “%(name)s” are now counted for %(person)s.",
            len(rows),
            name=row.name,
            person=registration.person.name,
        ),
        "success",
    )
    return redirect(review, 303)


@bp.route("/admin/meeting-report-rows/<int:row_id>/ignore", methods=["POST"])
@organiser_required
def meeting_report_row_ignore(row_id: int):
    row = _review_row(row_id)
    review = url_for("attendance.meeting_report_review", stage_id=row.report.stage_id)
    try:
        rows = services.ignore_row(db.session, row, actor=current_user)
    except services.ReviewError as error:
        db.session.rollback()
        flash(str(REVIEW_ERRORS[error.code]), "danger")
        return redirect(review, 303)
    db.session.commit()
    flash(
        ngettext(
            "%(num)d row of “%(name)s” ignored.",
            "%(num)d rows of “%(name)s” ignored.",
            len(rows),
            name=row.name,
        ),
        "success",
    )
    return redirect(review, 303)
