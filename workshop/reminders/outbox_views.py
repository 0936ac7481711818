"""The dev outbox: what email and WhatsApp would have sent, for organisers, when neither is set up.

The HTML of an email is shown as escaped source on the message page; "open" serves it as a
document of its own under a sandboxing Content-Security-Policy (no scripts, no requests out).
"""

from __future__ import annotations

from flask import abort, make_response, render_template, request
from sqlalchemy import select

from workshop.auth.permissions import organiser_required
from workshop.db import db
from workshop.reminders.blueprint import bp
from workshop.reminders.models import OutboxMessage

OUTBOX_CHANNELS = ("email", "whatsapp")
OUTBOX_PAGE = 200
# The stored HTML comes from our own templates with every value escaped; the policy is a second wall.
SANDBOX_POLICY = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)


@bp.route("/reminders/outbox")
@organiser_required
def outbox():
    channel = request.args.get("channel", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(OUTBOX_PAGE)
    if channel in OUTBOX_CHANNELS:
        query = query.where(OutboxMessage.channel == channel)
    else:
        channel = ""
    messages = db.session.scalars(query).all()
    return render_template(
        "reminders/outbox/index.html", messages=messages, channel=channel, channels=OUTBOX_CHANNELS
    )


@bp.route("/reminders/outbox/<int:message_id>")
@organiser_required
def outbox_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    return render_template("reminders/outbox/message.html", message=message)


@bp.route("/reminders/outbox/<int:message_id>/html")
@organiser_required
def outbox_message_html(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    if message.html is None:
        abort(404)
    response = make_response(message.html)
    response.mimetype = "text/html"
    response.headers["Content-Security-Policy"] = SANDBOX_POLICY
    response.headers["Cache-Control"] = "no-store"
    return response
