"""Certificate pages: the organiser's page of a programme (rule, template, logo, bulk run with its
progress, the ZIP, revocation, the announcement), the participant's own PDF, and the public
verification page /verifikasi/<code>."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from workshop import audit, clock, i18n, uploads, web
from workshop.auth.permissions import organiser_required, participant_required
from workshop.certificates import bulk, documents, issuing, queries, services
from workshop.certificates.blueprint import bp
from workshop.certificates.forms import (
    LOGO_TYPE,
    ActionForm,
    LogoForm,
    RevokeForm,
    jp_field_name,
    settings_form,
)
from workshop.certificates.models import Certificate, JobStatus
from workshop.db import db
from workshop.programs.models import Program
from workshop.registration.queries import own_registration_or_404
from workshop.reminders import jobs, outreach
from workshop.reminders.models import Kind
from workshop.reminders.services import ReminderError

ERRORS = {
    "no_criterion": _l("Set the number of stages, the JP, or both."),
    "min_stages": _l("The number of stages is more than the programme has."),
    "min_jp": _l("The JP must be at least 1."),
    "jp": _l("The JP of a stage must be between 0 and 200."),
    "number_format": _l("The number format must contain {n} and may contain {year}, nothing else in braces."),
    "logo_size": _l("The logo is too large: at most 1 MB."),
    "logo_type": LOGO_TYPE,
    "no_rule": _l("Save the eligibility rule first."),
    "running": _l("Certificates are being generated already: wait until the run ends."),
    "reason_required": _l("Give the reason for the revocation."),
    "reason_too_long": _l("The reason is too long."),
    "already_revoked": _l("This certificate was revoked already."),
    "no_channel": _l("Choose WhatsApp, email or both."),
    "no_stage": _l("The programme has no stage yet: add one first."),
}


def _page(program: Program, form=None, revoke_form=None, status: int = 200):
    settings = services.settings_for(db.session, program)
    if form is None:
        hours = services.stage_hours(db.session, program)
        data = {
            "min_stages": settings.min_stages,
            "min_jp": settings.min_jp,
            "require_evaluation": settings.require_evaluation,
            "signatory_name": settings.signatory_name,
            "signatory_nip": settings.signatory_nip,
            "signatory_title": settings.signatory_title,
            "place": settings.place,
            "signed_on": settings.signed_on,
            "number_format": settings.number_format,
        } | {jp_field_name(stage_id): jp for stage_id, jp in hours.items()}
        form = settings_form(program, formdata=None, data=data)
    now = clock.now()
    candidates = services.standings(db.session, program, now=now) if services.rule_of(settings).is_set else []
    certificates = queries.certificates_of(program.id)
    issued = {certificate.registration_id for certificate in certificates}
    job = issuing.last_job(db.session, program)
    zip_ready = bulk.zip_path(current_app, program.id).exists()
    return (
        render_template(
            "certificates/index.html",
            program=program,
            settings=settings,
            form=form,
            jp_fields=[(stage, form[jp_field_name(stage.id)]) for stage in program.stages],
            revoke_form=revoke_form or RevokeForm(formdata=None),
            action_form=ActionForm(formdata=None),
            eligible=sum(1 for candidate in candidates if candidate.standing.eligible),
            waiting=sum(
                1
                for candidate in candidates
                if candidate.standing.eligible and candidate.registration_id not in issued
            ),
            certificates=certificates,
            job=job,
            running=job is not None and job.status == JobStatus.RUNNING,
            zip_ready=zip_ready,
            ended=len(services.ended_stages(program, now)),
            logo_limit=uploads.limit_text(),
        ),
        status,
    )


@bp.route("/admin/programs/<int:program_id>/sertifikat")
@organiser_required
def index(program_id: int):
    return _page(db.get_or_404(Program, program_id))


@bp.route("/admin/programs/<int:program_id>/sertifikat/settings", methods=["POST"])
@organiser_required
def save_settings(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = settings_form(program)
    if not form.validate_on_submit():
        return _page(program, form=form, status=400)
    try:
        services.save_settings(
            db.session,
            program,
            min_stages=form.min_stages.data,
            min_jp=form.min_jp.data,
            require_evaluation=form.require_evaluation.data,
            signatory_name=form.signatory_name.data or "",
            signatory_nip=form.signatory_nip.data or "",
            signatory_title=form.signatory_title.data or "",
            place=form.place.data or "",
            signed_on=form.signed_on.data,
            number_format=form.number_format.data or "",
            jp={stage.id: form[jp_field_name(stage.id)].data or 0 for stage in program.stages},
            actor=current_user,
            now=clock.now(),
        )
    except services.CertificateError as error:
        db.session.rollback()
        target = form[error.field] if error.field and error.field in form else None
        if target is not None:
            target.errors = [*target.errors, str(ERRORS[error.code])]
        else:
            flash(str(ERRORS[error.code]), "danger")
        return _page(program, form=form, status=400)
    db.session.commit()
    flash(_("The certificate settings are saved."), "success")
    return redirect(url_for("certificates.index", program_id=program.id))


@bp.route("/admin/programs/<int:program_id>/sertifikat/logo/unggah", methods=["POST"])
@organiser_required
@uploads.upload_view
def upload_logo(program_id: int):
    db.get_or_404(Program, program_id)  # an unknown programme: 404, before the body is read
    try:
        _name, content = uploads.receive(LogoForm)
    except uploads.UploadError as error:
        flash(error.message, "danger")
        return redirect(url_for("certificates.index", program_id=program_id), 303)
    program = db.get_or_404(Program, program_id)
    try:
        services.save_logo(db.session, program, content, actor=current_user, now=clock.now())
    except services.CertificateError as error:
        db.session.rollback()
        flash(str(ERRORS[error.code]), "danger")
        return redirect(url_for("certificates.index", program_id=program.id), 303)
    db.session.commit()
    flash(_("The logo is saved."), "success")
    return redirect(url_for("certificates.index", program_id=program.id), 303)


@bp.route("/admin/programs/<int:program_id>/sertifikat/logo")
@organiser_required
def logo(program_id: int):
    settings = services.settings_for(db.session, db.get_or_404(Program, program_id))
    if not settings.logo:
        abort(404)
    return web.download(settings.logo, settings.logo_type, "logo", inline=True)


@bp.route("/admin/programs/<int:program_id>/sertifikat/generate", methods=["POST"])
@organiser_required
def generate(program_id: int):
    """Opens the run; the run itself (bulk.py) reads the attendance, issues and makes the PDFs."""
    program = db.get_or_404(Program, program_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        job = issuing.start_job(db.session, program, actor=current_user, now=clock.now())
    except services.CertificateError as error:
        db.session.rollback()
        flash(str(ERRORS[error.code]), "danger")
        return redirect(url_for("certificates.index", program_id=program.id))
    job_id = job.id
    db.session.commit()  # nothing is read after it: the run writes in transactions of its own
    flash(_("The certificates are being issued and their PDFs made."), "success")
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy
    bulk.start(app, job_id)
    return redirect(url_for("certificates.index", program_id=program_id))


@bp.route("/admin/programs/<int:program_id>/sertifikat/progress")
@organiser_required
def progress(program_id: int):
    job = issuing.last_job(db.session, db.get_or_404(Program, program_id))
    if job is None:
        return jsonify(status=None, done=0, total=0)
    return jsonify(status=job.status.value, done=job.done, total=job.total, issued=job.issued)


@bp.route("/admin/programs/<int:program_id>/sertifikat.zip")
@organiser_required
def download_zip(program_id: int):
    program = db.get_or_404(Program, program_id)
    path = bulk.zip_path(current_app, program.id)
    if not path.exists():
        abort(404)
    audit.record_export(db.session, current_user, "certificate.zip", f"program:{program.id}", path.name)
    response = send_file(
        path, mimetype="application/zip", as_attachment=True, download_name=f"sertifikat-{program.slug}.zip"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _pdf(certificate: Certificate):
    from workshop.certificates import pdf  # reportlab with the first certificate made (documents.py)

    settings = services.settings_for(db.session, certificate.program)
    content = pdf.render(
        documents.template(certificate.program, settings),
        documents.facts(certificate, settings, current_app.config),
    )
    return web.download(content, "application/pdf", documents.filename(certificate))


@bp.route("/admin/sertifikat/<int:certificate_id>.pdf")
@organiser_required
def certificate_pdf(certificate_id: int):
    return _pdf(db.get_or_404(Certificate, certificate_id))


@bp.route("/admin/sertifikat/<int:certificate_id>/revoke", methods=["POST"])
@organiser_required
def revoke(certificate_id: int):
    certificate = db.get_or_404(Certificate, certificate_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for the revocation."), "danger")
        return redirect(url_for("certificates.index", program_id=certificate.program_id))
    try:
        issuing.revoke(
            db.session, certificate, reason=form.reason.data or "", actor=current_user, now=clock.now()
        )
    except services.CertificateError as error:
        db.session.rollback()
        flash(str(ERRORS[error.code]), "danger")
        return redirect(url_for("certificates.index", program_id=certificate.program_id))
    db.session.commit()
    flash(_("Certificate %(number)s is revoked.", number=certificate.number_text), "success")
    return redirect(url_for("certificates.index", program_id=certificate.program_id))


@bp.route("/admin/programs/<int:program_id>/sertifikat/announce", methods=["POST"])
@organiser_required
def announce(program_id: int):
    """ "Sertifikat tersedia": a message to every holder of a valid certificate, by the reminder
    engine's channels (the organiser's words: Messages to participants)."""
    program = db.get_or_404(Program, program_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    registrations = [
        certificate.registration for certificate in issuing.valid_certificates(db.session, program.id)
    ]
    if not registrations:
        flash(_("No certificate has been issued yet."), "warning")
        return redirect(url_for("certificates.index", program_id=program.id))
    try:
        queued = outreach.send(
            db.session,
            program,
            registrations,
            Kind.CERTIFICATE,
            actor=current_user,
            base_url=current_app.config["PUBLIC_BASE_URL"] or request.host_url.rstrip("/"),
            now=clock.now(),
        )
    except ReminderError as error:
        db.session.rollback()
        flash(str(ERRORS.get(error.code, error.code)), "danger")
        return redirect(url_for("certificates.index", program_id=program.id))
    db.session.commit()
    jobs.wake(current_app)
    flash(
        ngettext(
            "The news is on its way to %(num)d participant (%(messages)d messages).",
            "The news is on its way to %(num)d participants (%(messages)d messages).",
            len(queued.reached),
            messages=queued.deliveries,
        ),
        "success",
    )
    return redirect(url_for("certificates.index", program_id=program.id))


@bp.route("/saya/<slug>/sertifikat.pdf")
@participant_required
def own_certificate(slug: str):
    """The participant's own certificate: another person's is never found (404)."""
    certificate = queries.valid_certificate_of(own_registration_or_404(slug))
    if certificate is None:
        abort(404)
    return _pdf(certificate)


@bp.route("/verifikasi/<code>")
def verify(code: str):
    """Public: whether a certificate is genuine. Name, programme, number and date; no contact data."""
    certificate = queries.certificate_by_code(code)
    if certificate is None:
        return render_template("certificates/verify_unknown.html", code=code), 404
    language = i18n.current_language()
    return render_template(
        "certificates/verify.html",
        certificate=certificate,
        dated=documents.date_text(certificate, language),
        attended=documents.attended_line(certificate, language),
    )
