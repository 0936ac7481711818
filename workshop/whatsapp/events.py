"""What whatsapp does when other features act: a poll opened goes out to the stage's
participants on WhatsApp (if the organiser switched it on); the live control page shows the
stage's switch and how many got the question (a template global: live does not import whatsapp);
the reminder engine's tick forgets inbound messages older than WHATSAPP_INBOUND_KEEP_DAYS."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app

from workshop import clock, signals
from workshop.db import Session, db
from workshop.live.models import Poll
from workshop.programs.models import Stage
from workshop.registration.models import Mode, Registration
from workshop.whatsapp import polls, services, texts
from workshop.whatsapp.forms import ParticipantPollsForm, WhatsAppPollsForm


def init_app(app: Flask) -> None:
    signals.poll_opened.connect(_on_poll_opened, weak=False)
    signals.reminders_due.connect(_on_tick, weak=False)
    app.add_template_global(whatsapp_stage, "whatsapp_stage")
    app.add_template_global(whatsapp_participant, "whatsapp_participant")


def _on_poll_opened(_sender, *, session: Session, poll: Poll, now: datetime) -> int:
    stage = session.get_one(Stage, poll.stage_id)
    if not polls.polls_enabled(session, stage):
        return 0
    words = texts.poll_question(poll, stage.number, current_app.config["WHATSAPP_QUESTION_KEYWORDS"])
    sent = polls.send_poll(session, poll, words, now)
    return sent.recipients if sent else 0


def _on_tick(_sender, *, session: Session, now: datetime) -> int:
    """The engine's periodic tick: old inbound messages go (nothing is queued)."""
    keep = timedelta(days=current_app.config["WHATSAPP_INBOUND_KEEP_DAYS"])
    services.prune_inbound(session, now - keep)
    return 0


def whatsapp_stage(stage: Stage) -> dict:
    """The control page's WhatsApp section: the switch's form and the counts."""
    summary = polls.summary(db.session, stage)
    return {
        "summary": summary,
        "form": WhatsAppPollsForm(formdata=None, prefix="whatsapp", enabled=summary.enabled),
        "online": len(polls.poll_recipients(db.session, stage)),
        "chosen": polls.poll_choosers(db.session, stage),
        "gateway": bool(current_app.config.get("WHATSAPP_API_URL")),
    }


def whatsapp_participant(stage: Stage, registration: Registration) -> dict:
    """The participant's live page: their own switch for polls by WhatsApp (when they have a number
    and the stage has not ended), and whether this stage's polls would come to them (online in it,
    the organiser's switch on)."""
    enabled = polls.participant_polls(db.session, registration)
    modes = {item.stage_id: item.mode for item in registration.stage_modes}
    return {
        "form": ParticipantPollsForm(formdata=None, prefix="wa-me", enabled=enabled, stage_id=str(stage.id)),
        "phone": registration.person.phone,
        "allowed": polls.participant_polls_refusal(registration, stage, clock.now()) is None,
        "enabled": enabled,
        "stage_on": polls.polls_enabled(db.session, stage),
        "online": modes.get(stage.id) == Mode.DARING,
    }
