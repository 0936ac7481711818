"""The organiser's words for the messages to chosen participants (outreach.py): the personal
link, and the news of approval, of a place on the waiting list, of a move up from it."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from workshop.auth.permissions import organiser_required
from workshop.db import db, utcnow
from workshop.programs.models import Program
from workshop.reminders import outreach
from workshop.reminders.blueprint import bp
from workshop.reminders.forms import KIND_LABELS, MessageTemplateForm
from workshop.reminders.models import Kind

WHEN_SENT = {
    Kind.PERSONAL_LINK: _l('Sent with "Send link" on a registration, or to the participants of a list.'),
    Kind.APPROVED: _l("When a registration is approved."),
    Kind.WAITLISTED: _l("When a registration goes on the waiting list (e.g. the hall is full)."),
    Kind.PROMOTED: _l("When a place frees up and the first on the waiting list is approved."),
    Kind.CERTIFICATE: _l('Sent with "Announce the certificates" on the certificates page.'),
    Kind.QUESTION_CARRIED: _l(
        "When a stage ends, to each participant whose question is carried to the next stage."
    ),
}


def _forms(program: Program, posted: Kind | None) -> dict[Kind, MessageTemplateForm]:
    settings = outreach.settings_for(db.session, program)
    forms = {}
    for kind, chosen in settings.items():
        if kind == posted:
            forms[kind] = MessageTemplateForm(prefix=kind.value)
        else:
            forms[kind] = MessageTemplateForm(
                formdata=None,
                prefix=kind.value,
                data={
                    "text_id": chosen.texts["id"],
                    "text_en": chosen.texts["en"],
                    "channels": chosen.channels,
                    "automatic": chosen.automatic,
                },
            )
    return forms


@bp.route("/programs/<int:program_id>/messages", methods=["GET", "POST"])
@organiser_required
def participant_messages(program_id: int):
    program = db.get_or_404(Program, program_id)
    posted = request.form.get("kind") if request.method == "POST" else None
    kind = Kind(posted) if posted in {k.value for k in outreach.STANDARD_TEXTS} else None
    forms = _forms(program, kind)
    if kind is not None and forms[kind].validate_on_submit():
        form = forms[kind]
        outreach.save_settings(
            db.session,
            program,
            kind,
            texts={"id": form.text_id.data or "", "en": form.text_en.data or ""},
            channels=form.channels.data or [],
            automatic=form.automatic.data,
            actor=current_user,
            now=utcnow(),
        )
        db.session.commit()
        flash(_("%(message)s saved.", message=KIND_LABELS[kind]), "success")
        return redirect(url_for("reminders.participant_messages", program_id=program.id, _anchor=kind.value))
    status = 400 if kind is not None else 200
    return render_template(
        "reminders/participant_messages.html",
        program=program,
        forms=forms,
        when_sent=WHEN_SENT,
        automatic_kinds=outreach.STATUS_KINDS,
    ), status
