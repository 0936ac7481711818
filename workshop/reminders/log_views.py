"""Each stage's reminder pages for organisers (blueprint `reminders`): the delivery log (live),
retries, one-off announcements, previews and test sends, and the organiser's own contact for
them."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from workshop.auth.permissions import organiser_required
from workshop.db import db, utcnow
from workshop.forms import add_error
from workshop.ids import id_from_text
from workshop.programs.models import Stage
from workshop.redirects import safe_next
from workshop.registration.models import Person, Registration, Status
from workshop.reminders import jobs, services
from workshop.reminders.blueprint import bp
from workshop.reminders.failures import failure_text
from workshop.reminders.forms import CHANNEL_LABELS, AnnouncementForm, OwnContactForm
from workshop.reminders.models import Audience, Kind, ReminderRule
from workshop.reminders.views import ERRORS, uses_outbox


def _channels():
    return jobs.channel_provider(
        current_app.config, db.session, current_app.extensions.get(jobs.CHANNELS_KEY)
    )


# The delivery log of a stage


def _log_page(stage: Stage, announcement_form: AnnouncementForm | None = None, status: int = 200):
    now = utcnow()
    participants = db.session.scalars(
        select(Registration)
        .join(Person)
        .where(Registration.program_id == stage.program_id, Registration.status == Status.APPROVED)
        .order_by(Person.name)
    ).all()
    contact = OwnContactForm(formdata=None, obj=current_user)
    return render_template(
        "reminders/stage_log.html",
        stage=stage,
        program=stage.program,
        rows=services.stage_log(db.session, stage, now),
        failures=services.stage_failures(db.session, stage),
        announcement_form=announcement_form or AnnouncementForm(formdata=None),
        contact_form=contact,
        participants=participants,
        rules=[r for r in services.program_rules(db.session, stage.program) if r.applies_to(stage)],
        now=now,
        uses_outbox=uses_outbox(),
        kind=Kind,
    ), status


@bp.route("/stages/<int:stage_id>/reminders")
@organiser_required
def stage_log(stage_id: int):
    return _log_page(db.get_or_404(Stage, stage_id))


@bp.route("/stages/<int:stage_id>/reminders.json")
@organiser_required
def stage_log_json(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    snapshot = services.log_snapshot(db.session, stage, utcnow())
    for failure in snapshot["failures"]:
        failure["error"] = failure_text(failure.pop("failure_code"), failure["error"])
    response = jsonify(snapshot)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/stages/<int:stage_id>/reminders/retry", methods=["POST"])
@organiser_required
def retry(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    rule_id = id_from_text(request.form.get("rule_id"))
    retried, too_late = services.retry_failed(
        db.session, stage, rule_id=rule_id, actor=current_user, now=utcnow()
    )
    db.session.commit()
    services.notify_stage(stage.id)
    jobs.wake(current_app)
    flash(
        ngettext(
            "%(num)d failed message will be tried again.",
            "%(num)d failed messages will be tried again.",
            retried,
        ),
        "success" if retried else "info",
    )
    if too_late:
        flash(
            ngettext(
                "%(num)d failed message is past its window and was left as it is.",
                "%(num)d failed messages are past their window and were left as they are.",
                too_late,
            ),
            "info",
        )
    return redirect(url_for("reminders.stage_log", stage_id=stage.id))


@bp.route("/stages/<int:stage_id>/announcements", methods=["POST"])
@organiser_required
def announce(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = AnnouncementForm()
    if not form.validate_on_submit():
        return _log_page(stage, form, 400)
    try:
        _, count = services.announce(
            db.session,
            stage,
            text=form.text.data or "",
            channels=form.channels.data,
            audience=Audience(form.audience.data),
            actor=current_user,
            now=utcnow(),
        )
    except services.ReminderError as error:
        add_error(form.text, str(ERRORS[error.code]))
        return _log_page(stage, form, 400)
    db.session.commit()
    services.notify_stage(stage.id)
    jobs.wake(current_app)
    flash(
        ngettext(
            "The announcement is on its way: %(num)d message.",
            "The announcement is on its way: %(num)d messages.",
            count,
        ),
        "success",
    )
    return redirect(url_for("reminders.stage_log", stage_id=stage.id))


# Preview and test sends


def _chosen(stage: Stage, source) -> tuple[Registration | None, ReminderRule | None]:
    registration = db.session.get(Registration, id_from_text(source.get("registration_id")) or 0)
    if registration is not None and registration.program_id != stage.program_id:
        registration = None
    rule = db.session.get(ReminderRule, id_from_text(source.get("rule_id")) or 0)
    if rule is not None and rule.program_id != stage.program_id:
        rule = None
    return registration, rule


@bp.route("/stages/<int:stage_id>/reminders/preview")
@organiser_required
def preview(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    registration, rule = _chosen(stage, request.args)
    if registration is None:
        flash(_("Choose a participant to preview."), "danger")
        return redirect(url_for("reminders.stage_log", stage_id=stage.id))
    messages = services.preview(stage, registration, current_app.config, rule=rule)
    return render_template(
        "reminders/preview.html",
        stage=stage,
        program=stage.program,
        registration=registration,
        rule=rule,
        messages=messages,
        contact_form=OwnContactForm(formdata=None, obj=current_user),
    )


@bp.route("/stages/<int:stage_id>/reminders/test", methods=["POST"])
@organiser_required
def send_test(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    registration, rule = _chosen(stage, request.form)
    if registration is None:
        flash(_("Choose a participant to preview."), "danger")
        return redirect(url_for("reminders.stage_log", stage_id=stage.id))
    back = url_for(
        "reminders.preview",
        stage_id=stage.id,
        registration_id=registration.id,
        rule_id=rule.id if rule else None,
    )
    try:
        results = services.send_test(
            db.session,
            current_app.config,
            stage,
            registration,
            user=current_user,
            rule=rule,
            channels=_channels(),
        )
    except services.ReminderError as error:
        flash(str(ERRORS[error.code]), "danger")
        return redirect(back)
    db.session.commit()  # the dev outbox keeps what it was given
    for result in results:
        channel = CHANNEL_LABELS[result.channel]
        if result.ok:
            flash(_("Test sent by %(channel)s to %(to)s.", channel=channel, to=result.to), "success")
        else:
            flash(
                _(
                    "The test by %(channel)s to %(to)s failed: %(reason)s",
                    channel=channel,
                    to=result.to,
                    reason=result.detail,
                ),
                "danger",
            )
    return redirect(back)


@bp.route("/reminders/my-contact", methods=["POST"])
@organiser_required
def my_contact():
    form = OwnContactForm()
    back = safe_next(request.form.get("next")) or url_for("programs.index")
    if form.validate_on_submit():
        services.set_own_contact(db.session, current_user, email=form.email.data, phone=form.phone_e164)
        db.session.commit()
        flash(_("Your contact for test messages is saved."), "success")
    else:
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "danger")
    return redirect(back)
