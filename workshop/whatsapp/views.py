"""The gateways' webhooks (Fonnte; Meta's Cloud API with its handshake and signature) and the
organiser's switch for a stage. A webhook answers 200 quickly to whatever it is sent (a gateway
retries anything else); only a wrong secret is refused (403), and then nothing is recorded."""

from __future__ import annotations

import hmac

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop import audit, clock
from workshop.auth.permissions import live_staff_required, participant_required
from workshop.db import db
from workshop.extensions import csrf
from workshop.ids import id_from_text
from workshop.programs.models import Stage
from workshop.registration.models import Registration
from workshop.whatsapp import inbound, polls, receive
from workshop.whatsapp.blueprint import bp
from workshop.whatsapp.forms import ParticipantPollsForm, WhatsAppPollsForm


def _same(given: str | None, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest((given or "").encode(), expected.encode())


@bp.route("/webhook/fonnte/<token>", methods=["POST"])
@csrf.exempt
def fonnte_webhook(token: str):
    """Fonnte posts each incoming message (JSON or a form); the URL's token is its only proof."""
    if not _same(token, current_app.config["WHATSAPP_WEBHOOK_TOKEN"]):
        abort(403)
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        data = request.form.to_dict()
    receive.receive_all(inbound.fonnte_messages(data))
    return jsonify({"status": True})


@bp.route("/webhook/meta", methods=["GET"])
def meta_handshake():
    """Meta's verification: echo hub.challenge when hub.verify_token is ours."""
    if request.args.get("hub.mode") != "subscribe" or not _same(
        request.args.get("hub.verify_token"), current_app.config["WHATSAPP_META_VERIFY_TOKEN"]
    ):
        abort(403)
    challenge = request.args.get("hub.challenge", "")
    return current_app.response_class(challenge, mimetype="text/plain")


@bp.route("/webhook/meta", methods=["POST"])
@csrf.exempt
def meta_webhook():
    body = request.get_data(cache=False)
    signature = request.headers.get("X-Hub-Signature-256")
    if not inbound.meta_signature_valid(body, signature, current_app.config["WHATSAPP_META_APP_SECRET"]):
        abort(403)
    receive.receive_all(inbound.meta_messages(body))
    return jsonify({"ok": True})


@bp.route("/stages/<int:stage_id>/polls", methods=["POST"])
@live_staff_required
def stage_polls(stage_id: int):
    stage = db.get_or_404(Stage, stage_id)
    form = WhatsAppPollsForm(prefix="whatsapp")
    if form.validate_on_submit():
        polls.set_polls_enabled(db.session, stage, form.enabled.data, clock.now())
        audit.record(db.session, current_user, "whatsapp.polls", f"stage:{stage.id}", str(form.enabled.data))
        db.session.commit()
        flash(_("WhatsApp polls are on.") if form.enabled.data else _("WhatsApp polls are off."), "success")
    return redirect(url_for("live.control", stage_id=stage.id))


@bp.route("/registrations/<int:registration_id>/polls", methods=["POST"])
@participant_required
def participant_polls(registration_id: int):
    """A participant turns polls by WhatsApp on or off for their programme (their live page's form)."""
    form = ParticipantPollsForm(prefix="wa-me")
    registration = db.session.get(Registration, registration_id)
    stage_id = id_from_text(form.stage_id.data)  # "²" or 10^30 names no stage (nor reaches the driver)
    stage = db.session.get(Stage, stage_id) if stage_id is not None else None
    if registration is None or registration.person_id != current_user.person_id:
        flash(_("That is not your registration: nothing was changed."), "error")
    elif not form.validate_on_submit():
        flash(_("The form expired. Go back, reload the page and try again."), "error")
    else:
        refusal = polls.set_participant_polls(
            db.session, registration, form.enabled.data, clock.now(), stage=stage
        )
        if refusal is not None:
            flash(str(PARTICIPANT_REFUSALS[refusal]), "error")
        else:
            audit.record(
                db.session,
                current_user,
                "whatsapp.participant_polls",
                f"registration:{registration.id}",
                str(form.enabled.data),
            )
            db.session.commit()
            flash(
                _("Polls will come to your WhatsApp.")
                if form.enabled.data
                else _("Polls will no longer come to your WhatsApp."),
                "success",
            )
    if stage is not None and registration is not None and stage.program_id == registration.program_id:
        return redirect(url_for("live.participant", stage_id=stage.id))
    return redirect(url_for("auth.home"))


PARTICIPANT_REFUSALS = {
    "not_approved": _l("Only approved participants can get polls by WhatsApp."),
    "no_phone": _l("Your registration has no WhatsApp number, so polls cannot be sent to it."),
    "stage_ended": _l(
        "This stage has ended: no more polls will be sent by WhatsApp for it. Nothing was changed."
    ),
}
