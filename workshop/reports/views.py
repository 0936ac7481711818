"""Attendance: the live dashboard of a stage, the programme's report with its exports, the
daftar hadir PDF, and organisers' overrides."""

from __future__ import annotations

import dataclasses
from datetime import date

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from workshop import audit, clock, i18n, web
from workshop.attendance.models import AttendanceStatus
from workshop.auth.models import AuditEntry
from workshop.auth.permissions import door_staff_required, organiser_required
from workshop.db import db
from workshop.forms import add_error
from workshop.programs.models import Organization, OrgKind, Program, Stage
from workshop.programs.windows import stage_window
from workshop.realtime import notify_attendance_changed
from workshop.registration.models import Registration, Status
from workshop.registration.queries import RegistrationFilter, registrations_query
from workshop.reports import exports, services
from workshop.reports.blueprint import bp
from workshop.reports.forms import AUTOMATIC, OverrideForm

# Check-in staff watch arrivals on the dashboard too; the report and exports are for organisers.
ERRORS = {
    "reason_required": _l("Give the reason for this change."),
    "not_registered": _l("This participant is not registered for this programme."),
    "not_an_override": _l("This status cannot be set by hand."),
}


def _locale() -> str:
    return str(get_locale() or "id")


# Dashboard


@bp.route("/stages/<int:stage_id>/dashboard")
@door_staff_required
def dashboard(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    summary = services.stage_summary(db.session, stage, now=clock.now())
    window = stage_window(stage)
    days = [
        (window.day_of(start).isoformat(), i18n.format_day(start, stage.program.timezone, _locale()))
        for start, _end in window.days()
    ]
    return render_template(
        "reports/dashboard.html",
        stage=stage,
        program=stage.program,
        summary=summary,
        days=days,
        check_in_opens=window.check_in_windows()[0][0],
        not_started_status=services.NOT_STARTED,
    )


@bp.route("/stages/<int:stage_id>/dashboard.json")
@door_staff_required
def dashboard_json(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    response = jsonify(services.stage_summary(db.session, stage, now=clock.now()).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


# Report and exports


def _filter() -> RegistrationFilter:
    return dataclasses.replace(RegistrationFilter.from_args(request.args), status=Status.APPROVED)


def _filter_args(chosen: RegistrationFilter) -> dict[str, str]:
    """The filter as URL arguments (for the export links), empty ones left out."""
    args = {
        "kind": chosen.kind.value if chosen.kind else "",
        "kecamatan": str(chosen.kecamatan_id or ""),
        "mode": chosen.mode.value if chosen.mode else "",
        "q": chosen.text,
    }
    return {name: value for name, value in args.items() if value}


def _matrix(program: Program, chosen: RegistrationFilter) -> services.Matrix:
    registrations = db.session.scalars(registrations_query(program, chosen)).unique().all()
    return services.program_matrix(db.session, program, registrations, now=clock.now())


@bp.route("/programs/<int:program_id>/attendance")
@organiser_required
def attendance_report(program_id: int):
    program = db.get_or_404(Program, program_id)
    chosen = _filter()
    matrix = _matrix(program, chosen)
    kecamatan = db.session.scalars(
        select(Organization).where(Organization.kind == OrgKind.KECAMATAN).order_by(Organization.name)
    ).all()
    return render_template(
        "reports/attendance.html",
        program=program,
        matrix=matrix,
        chosen=chosen,
        filter_args=_filter_args(chosen),
        kecamatan=kecamatan,
        summary_order=services.SUMMARY_ORDER,
        not_started_status=services.NOT_STARTED,
    )


def _audit_export(subject: str, detail: str) -> None:
    audit.record_export(db.session, current_user, "attendance.export", subject, detail)


EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
}


@bp.route("/programs/<int:program_id>/attendance.xlsx")
@organiser_required
def attendance_xlsx(program_id: int):
    return _export(program_id, "xlsx")


@bp.route("/programs/<int:program_id>/attendance.csv")
@organiser_required
def attendance_csv(program_id: int):
    return _export(program_id, "csv")


def _export(program_id: int, kind: str):
    program = db.get_or_404(Program, program_id)
    chosen = _filter()
    matrix = _matrix(program, chosen)
    filters = " ".join(f"{name}={value}" for name, value in _filter_args(chosen).items())
    if kind == "xlsx":
        content = exports.to_xlsx(
            program, matrix, filters=filters, generated_at=clock.now(), locale=_locale()
        )
    else:
        content = exports.to_csv(matrix)
    _audit_export(
        f"program:{program_id}", f"{kind}, {len(matrix.registrations)} participants {filters}".strip()
    )
    return web.download(content, EXPORT_TYPES[kind], f"kehadiran-{program.slug}.{kind}")


@bp.route("/stages/<int:stage_id>/daftar-hadir.pdf")
@organiser_required
def daftar_hadir(stage_id: int):
    from workshop.reports import pdf  # reportlab with the first list made, not at start-up

    stage = db.get_or_404(Stage, stage_id)
    day = None
    if request.args.get("hari"):
        try:
            day = date.fromisoformat(request.args["hari"])
        except ValueError:
            abort(404)
        if day not in stage_window(stage).local_days():
            abort(404)
    rows = services.stage_attendance(db.session, stage, now=clock.now())
    content = pdf.daftar_hadir(stage, rows, day=day, locale=_locale())
    filename = f"daftar-hadir-{stage.program.slug}-tahap-{stage.number}{f'-{day}' if day else ''}.pdf"
    _audit_export(
        f"stage:{stage_id}", f"daftar hadir pdf, {len(rows)} participants{f' {day}' if day else ''}"
    )
    return web.download(content, "application/pdf", filename, inline=True)


# Overrides


@bp.route("/stages/<int:stage_id>/registrations/<int:registration_id>/attendance", methods=["GET", "POST"])
@organiser_required
def attendance_detail(stage_id: int, registration_id: int):
    stage = db.get_or_404(Stage, stage_id)
    registration = db.get_or_404(Registration, registration_id)
    if registration.program_id != stage.program_id:
        abort(404)
    form = OverrideForm()
    if form.validate_on_submit():
        try:
            if form.status.data == AUTOMATIC:
                services.clear_override(db.session, registration, stage, current_user)
            else:
                services.set_override(
                    db.session,
                    registration,
                    stage,
                    AttendanceStatus(form.status.data),
                    form.reason.data or "",
                    current_user,
                )
        except services.ReportError as error:
            add_error(form.reason, str(ERRORS[error.code]))
        else:
            db.session.commit()
            notify_attendance_changed(stage.id)
            flash(_("Attendance of %(name)s updated.", name=registration.person.name), "success")
            return redirect(
                url_for(
                    "reports.attendance_report", program_id=stage.program_id, _anchor=f"r{registration.id}"
                )
            )
    row = services.stage_attendance(db.session, stage, [registration], now=clock.now())[0]
    if request.method == "GET":
        form.status.data = row.override.status.value if row.override is not None else AUTOMATIC
        form.reason.data = row.override.reason if row.override is not None else ""
    history = db.session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.subject == f"registration:{registration.id}",
            AuditEntry.action.in_(["attendance.override", "attendance.override_cleared"]),
            AuditEntry.detail.startswith(f"stage:{stage.id} ", autoescape=True),
        )
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    ).all()
    status = 400 if request.method == "POST" else 200
    return render_template(
        "reports/detail.html",
        stage=stage,
        program=stage.program,
        registration=registration,
        row=row,
        form=form,
        history=history,
    ), status
