"""Reminder pages for organisers (blueprint `reminders`): the programme's rules with per-stage
overrides. Each stage's delivery log, announcements, previews and test sends: log_views.py."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; stubs are 3.2

from workshop.auth.permissions import organiser_required
from workshop.db import db, utcnow
from workshop.forms import add_error
from workshop.i18n import format_offset, stage_label
from workshop.programs.models import Program, Stage
from workshop.reminders import services
from workshop.reminders.blueprint import bp
from workshop.reminders.forms import (
    ANCHOR_LABELS,
    AUDIENCE_LABELS,
    CHANNEL_LABELS,
    DELIVERY_STATUS_LABELS,
    KIND_LABELS,
    RuleEditForm,
    RuleForm,
)
from workshop.reminders.models import Anchor, Audience, DeliveryStatus, ReminderRule

# The form field that shows a service error, by the error's field (the channels when it names none).
ERROR_FIELDS = {"offset": "offset_value", "window": "window_hours", "stage_id": "stage_id", None: "channels"}
ERRORS = {
    "no_channel": _l("Choose at least one channel."),
    "negative_offset": _l("The time before the start cannot be negative."),
    "window_too_short": _l("The window must be at least an hour."),
    "wrong_stage": _l("This stage belongs to another programme."),
    "rule_has_history": _l("This rule has already sent messages: switch it off instead."),
    "empty_text": _l("Write the message."),
    "no_own_contact": _l("Enter your own email or WhatsApp number first."),
}


@bp.app_template_filter("reminder_offset")
def reminder_offset(rule: ReminderRule | int) -> str:
    """'3 days before the start', '1 hour before the start', '90 minutes before the start'; for a
    rule at the stage's end, 'When the stage ends' or '1 hour before the end'."""
    minutes = rule if isinstance(rule, int) else rule.offset_minutes
    duration = format_offset(timedelta(minutes=minutes))
    if isinstance(rule, ReminderRule) and rule.at_end:
        return _("%(duration)s before the end", duration=duration) if minutes else _("When the stage ends")
    return _("%(duration)s before the start", duration=duration)


@bp.app_template_filter("reminder_window")
def reminder_window(rule: ReminderRule) -> str:
    if rule.at_end and rule.window_minutes is None:
        return ngettext("not sent more than %(num)d hour late", "not sent more than %(num)d hours late", 24)
    if rule.window_minutes is None:
        return _("not sent once the stage has started")
    return ngettext(
        "not sent more than %(num)d hour late",
        "not sent more than %(num)d hours late",
        rule.window_minutes // 60,
    )


@bp.context_processor
def _labels():
    return {
        "channel_labels": CHANNEL_LABELS,
        "anchor_labels": ANCHOR_LABELS,
        "audience_labels": AUDIENCE_LABELS,
        "status_labels": DELIVERY_STATUS_LABELS,
        "message_kind_labels": KIND_LABELS,
        "delivery_statuses": list(DeliveryStatus),
    }


def uses_outbox() -> bool:
    return not current_app.config.get("SMTP_HOST") or not current_app.config.get("WHATSAPP_API_URL")


# Rules


@bp.route("/programs/<int:program_id>/reminders")
@organiser_required
def rules(program_id: int):
    program = db.get_or_404(Program, program_id)
    rules = services.program_rules(db.session, program)
    return render_template(
        "reminders/rules.html",
        program=program,
        set_up=services.is_set_up(db.session, program),
        programme_rules=[r for r in rules if r.stage_id is None],
        stage_rules={s.id: [r for r in rules if r.stage_id in (None, s.id)] for s in program.stages},
        uses_outbox=uses_outbox(),
    )


@bp.route("/programs/<int:program_id>/reminders/setup", methods=["POST"])
@organiser_required
def set_up(program_id: int):
    program = db.get_or_404(Program, program_id)
    if services.ensure_default_rules(db.session, program, utcnow()):
        db.session.commit()
        flash(_("The default reminders are set up: 3 days, 1 day and 1 hour before each stage."), "success")
    return redirect(url_for("reminders.rules", program_id=program.id))


def _show_error(form: RuleForm, error: services.ReminderError) -> None:
    field = getattr(form, ERROR_FIELDS.get(error.field, "channels"), None) or form.channels
    add_error(field, str(ERRORS[error.code]))


def _new_rule_form(program: Program) -> RuleForm:
    form = RuleForm()
    form.stage_id.choices = [SelectChoice(0, _("Every stage"))] + [
        SelectChoice(stage.id, f"{stage_label(stage.number)}: {stage.title}") for stage in program.stages
    ]
    return form


def _edit_rule_form(rule: ReminderRule) -> RuleEditForm:
    form = RuleEditForm(rule)
    if request.method == "GET":
        form.fill_from(rule)
    return form


@bp.route("/programs/<int:program_id>/reminders/rules/new", methods=["GET", "POST"])
@organiser_required
def new_rule(program_id: int):
    program = db.get_or_404(Program, program_id)
    form = _new_rule_form(program)
    if form.validate_on_submit():
        stage = db.session.get(Stage, form.stage_id.data) if form.stage_id.data else None
        try:
            services.create_rule(
                db.session,
                program,
                stage=stage,
                offset_minutes=form.offset_minutes,
                window_minutes=form.window_minutes,
                channels=form.channels.data,
                audience=Audience(form.audience.data),
                anchor=Anchor(form.anchor.data),
                actor=current_user,
                now=utcnow(),
            )
        except services.ReminderError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Reminder rule added."), "success")
            return redirect(url_for("reminders.rules", program_id=program.id))
    return render_template("reminders/rule_form.html", form=form, program=program, rule=None)


@bp.route("/reminders/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_rule(rule_id: int):
    rule = db.get_or_404(ReminderRule, rule_id)
    program = rule.program
    form = _edit_rule_form(rule)
    if form.validate_on_submit():
        try:
            services.update_rule(
                db.session,
                rule,
                offset_minutes=form.offset_minutes,
                window_minutes=form.window_minutes,
                channels=form.channels.data,
                audience=Audience(form.audience.data),
                active=form.active.data,
                actor=current_user,
            )
        except services.ReminderError as error:
            _show_error(form, error)
        else:
            db.session.commit()
            flash(_("Reminder rule saved."), "success")
            return redirect(url_for("reminders.rules", program_id=program.id))
    return render_template("reminders/rule_form.html", form=form, program=program, rule=rule)


@bp.route("/reminders/rules/<int:rule_id>/delete", methods=["POST"])
@organiser_required
def delete_rule(rule_id: int):
    rule = db.get_or_404(ReminderRule, rule_id)
    program_id = rule.program_id
    try:
        services.delete_rule(db.session, rule, actor=current_user)
    except services.ReminderError as error:
        flash(str(ERRORS[error.code]), "danger")
        return redirect(url_for("reminders.edit_rule", rule_id=rule_id))
    db.session.commit()
    flash(_("Reminder rule deleted."), "success")
    return redirect(url_for("reminders.rules", program_id=program_id))


@bp.route("/reminders/rules/<int:rule_id>/stages/<int:stage_id>", methods=["POST"])
@organiser_required
def rule_for_stage(rule_id: int, stage_id: int):
    rule = db.get_or_404(ReminderRule, rule_id)
    stage = db.get_or_404(Stage, stage_id)
    enabled = request.form.get("enabled") == "1"
    try:
        services.set_rule_for_stage(db.session, rule, stage, enabled=enabled, actor=current_user)
    except services.ReminderError as error:
        flash(str(ERRORS[error.code]), "danger")
    else:
        db.session.commit()
    return redirect(url_for("reminders.rules", program_id=rule.program_id, _anchor=f"stage-{stage.id}"))
