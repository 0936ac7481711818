"""Organiser pages for the roster import: upload, preview, confirm, template download.

Registered on the registration blueprint (workshop/__init__.py imports this module).
"""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from workshop import uploads, web
from workshop.auth.models import Role
from workshop.auth.permissions import organiser_required
from workshop.db import db, reads_first
from workshop.programs.forms import ORG_KIND_LABELS
from workshop.programs.models import Program
from workshop.registration.blueprint import bp
from workshop.registration.forms import RosterUploadForm
from workshop.registration.models import RosterImport
from workshop.registration.roster import checks, columns, files, previews, service, template

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _upload_page(program: Program, errors: list[str], status: int = 200):
    if _wants_json() and request.method == "POST":
        return jsonify(errors=errors), status
    return render_template(
        "registration/roster_upload.html",
        program=program,
        errors=errors,
        max_bytes=current_app.config["MAX_UPLOAD_BYTES"],
        max_size=uploads.limit_text(),
        max_rows=format_decimal(files.MAX_ROWS),
    ), status


@bp.route("/admin/programs/<int:program_id>/import", methods=["GET", "POST"])
@organiser_required
@uploads.upload_view
def roster_upload(program_id: int):
    if request.method == "GET":
        return _upload_page(db.get_or_404(Program, program_id), [])
    try:
        filename, data = uploads.receive(RosterUploadForm)
    except uploads.UploadError as error:
        return _upload_page(db.get_or_404(Program, program_id), [error.message], error.status)
    program = db.get_or_404(Program, program_id)
    rules = checks.CheckRules.load(db.session, program)
    try:
        stored = uploads.off_the_loop(service.read_preview, filename, data, rules, work_bytes=len(data))
    except files.RosterFileError as error:
        return _upload_page(program, [error.message], 400)
    record = service.create_preview(db.session, program, stored, filename=filename, actor=current_user)
    db.session.commit()
    location = url_for("registration.roster_preview", import_id=record.id)
    if _wants_json():
        return jsonify(location=location)
    return redirect(location, 303)


def _own_import(import_id: int, *, for_update: bool = False) -> RosterImport:
    """The import, if the current user uploaded it (an admin sees every import); else 404."""
    query = select(RosterImport).where(RosterImport.id == import_id)
    if for_update:
        query = query.with_for_update()
    record = db.session.scalar(query)
    if record is None:
        abort(404)
    if record.uploaded_by_id != current_user.id and current_user.role != Role.ADMIN:
        abort(404)
    return record


@bp.route("/admin/imports/<int:import_id>")
@organiser_required
def roster_preview(import_id: int):
    record = _own_import(import_id)
    return _preview_page(record)


def _preview_page(record: RosterImport, column_error: str = "", status: int = 200):
    from openpyxl.utils import get_column_letter  # here, not at start-up: workshop/spreadsheets.py

    program = record.program
    content = previews.payload(record)
    rows = content["rows"]
    bad = previews.bad_rows(rows)
    only_problems = request.args.get("show") == "problems"
    header, mapping = content["header"], content["mapping"]
    return render_template(
        "registration/roster_preview.html",
        record=record,
        program=program,
        content=content,
        rows=bad if only_problems else rows,
        total=len(rows),
        bad_count=len(bad),
        good_count=len(rows) - len(bad),
        only_problems=only_problems,
        problem_message=checks.problem_message,
        columns=[
            {
                "index": index,
                "letter": get_column_letter(index + 1),
                "header": text,
                "target": mapping[index],
                "examples": _examples(content["cells"], index),
            }
            for index, text in enumerate(header)
        ],
        targets=columns.targets(checks.positions(program)),
        missing=previews.missing_column_labels(content, checks.positions(program)),
        unused=columns.unused_columns(header, mapping),
        left_out=_left_out(content["left_out"]),
        column_error=column_error,
    ), status


def _left_out(rows: list[dict]) -> list[tuple[str, list[int]]]:
    """(why, row numbers) of the rows that are not participants, by reason."""
    numbers: dict[str, list[int]] = {}
    for row in rows:
        numbers.setdefault(row["reason"], []).append(row["row"])
    return [(str(checks.LEFT_OUT[reason]), found) for reason, found in numbers.items()]


def _examples(cells: list, index: int, count: int = 3) -> list[str]:
    """The first few values of a column, to show what it holds."""
    found = []
    for _number, row in cells:
        if index < len(row) and row[index] and row[index] not in found:
            found.append(row[index])
            if len(found) == count:
                break
    return found


@bp.route("/admin/imports/<int:import_id>/columns", methods=["POST"])
@reads_first
@organiser_required
def roster_columns_choice(import_id: int):
    record = _own_import(import_id)
    stored = record.rows
    column_count = sum(1 for name in request.form if name.startswith("column-"))
    mapping = [request.form.get(f"column-{index}", "") for index in range(column_count)]
    rules = checks.CheckRules.load(db.session, record.program)
    try:
        checked = uploads.off_the_loop(
            service.with_columns,
            stored,
            mapping,
            request.form.get("default_mode", ""),
            rules,
            work_bytes=len(stored),
        )
        service.save_checked(
            db.session, _own_import(import_id, for_update=True), checked, checked_from=stored
        )
    except columns.MappingError as error:
        db.session.rollback()
        return _preview_page(_own_import(import_id), error.message, 400)
    db.session.commit()
    return redirect(url_for("registration.roster_preview", import_id=import_id), 303)


@bp.route("/admin/imports/<int:import_id>/confirm", methods=["POST"])
@reads_first
@organiser_required
def roster_confirm(import_id: int):
    record = _own_import(import_id)
    stored = record.rows
    rules = checks.CheckRules.load(db.session, record.program)
    recheck = uploads.off_the_loop(service.check_again, stored, rules, work_bytes=len(stored))
    record = _own_import(import_id, for_update=True)
    preview = url_for("registration.roster_preview", import_id=record.id)
    try:
        result = service.confirm_import(
            db.session,
            record,
            recheck,
            checked_from=stored,
            skip_bad_rows=request.form.get("skip_bad_rows") == "1",
            actor=current_user,
        )
    except service.RosterImportError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(preview, 303)
    db.session.commit()
    if result.outcome == "imported":
        flash(
            ngettext(
                "%(num)d participant imported; the registration is waiting for approval.",
                "%(num)d participants imported; their registrations are waiting for approval.",
                result.imported,
            ),
            "success",
        )
        if result.skipped:
            flash(
                ngettext(
                    "%(num)d row with problems was skipped.",
                    "%(num)d rows with problems were skipped.",
                    result.skipped,
                ),
                "warning",
            )
        return redirect(url_for("registration.review", program_id=record.program_id), 303)
    if result.outcome == "has_errors":
        flash(
            ngettext(
                "Nothing was imported: %(num)d row has problems. Correct the file and upload it again, "
                "or choose to skip the rows with problems.",
                "Nothing was imported: %(num)d rows have problems. Correct the file and upload it again, "
                "or choose to skip the rows with problems.",
                result.skipped,
            ),
            "danger",
        )
    elif result.outcome == "changed":
        flash(
            _("Nothing was imported: the data changed since this preview. Check the rows again."), "warning"
        )
    elif result.outcome == "columns_missing":
        content = previews.payload(record)
        flash(
            _(
                "Nothing was imported: no column holds %(missing)s. The file has the columns %(found)s: "
                "choose which one holds what.",
                missing=", ".join(previews.missing_column_labels(content, checks.positions(record.program))),
                found=", ".join(f"“{text}”" for text in content["header"] if text),
            ),
            "danger",
        )
    elif result.outcome == "nothing_to_import":
        flash(_("Nothing was imported: every row has problems."), "danger")
    else:
        flash(_("This file was already imported."), "info")
    return redirect(preview, 303)


@bp.route("/admin/programs/<int:program_id>/import/template.xlsx")
@organiser_required
def roster_template(program_id: int):
    program = db.get_or_404(Program, program_id)
    body = template.template_workbook(db.session, program, ORG_KIND_LABELS)
    return web.download(body, XLSX_MIMETYPE, f"peserta-{program.slug}.xlsx")
