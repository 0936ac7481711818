"""One inbound WhatsApp message, acted on: taken once by its provider's id, read, turned into a
vote (live's vote service, as socket and HTTP votes) or a question (live's ask service), and
answered through the reminder engine's outbox. Like live/actions.py this runs the services and
commits; the webhook views call `receive` for each message a gateway posted.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from flask import current_app
from sqlalchemy.exc import IntegrityError

from workshop import clock
from workshop.db import db, sqlite_write_intent
from workshop.live import actions
from workshop.live import services as live_services
from workshop.live.broadcast import broadcaster
from workshop.live.models import QuestionStatus
from workshop.live.votes import LiveError, VoteRequest
from workshop.programs.models import Program
from workshop.reminders import jobs
from workshop.whatsapp import polls, services, texts
from workshop.whatsapp.inbound import MAX_TEXT, Incoming
from workshop.whatsapp.models import InboundMessage
from workshop.whatsapp.reading import question_text, read_answer

log = logging.getLogger(__name__)
Changed = tuple[str, int] | None  # ("poll", id) or ("stage", id): what to broadcast once committed
Acted = tuple[str, dict[str, str], Changed]  # the outcome, the reply's texts, what changed


def keywords() -> list[str]:
    return current_app.config["WHATSAPP_QUESTION_KEYWORDS"]


def client_id(incoming: Incoming) -> str:
    """The vote's client id: the same for a repeated message, so the vote service answers it once."""
    digest = hashlib.sha256(f"{incoming.provider}:{incoming.message_id}".encode()).hexdigest()
    return f"wa-{digest[:40]}"


def receive_all(messages: Sequence[Incoming]) -> None:
    queued = 0
    for incoming in messages:
        try:
            queued += receive(incoming)
        except Exception:  # one message must not lose the others, nor answer the gateway 500
            db.session.rollback()
            log.exception("WhatsApp message %s from %s failed", incoming.message_id, incoming.provider)
    if queued:
        jobs.wake(current_app)


def receive(incoming: Incoming) -> int:
    """Act on the message once; returns how many replies were queued (0 for a repeat)."""
    now = clock.now()
    db.session.rollback()
    sqlite_write_intent.set(True)
    inbound = services.claim(db.session, incoming, now)
    if inbound is None:
        db.session.rollback()
        return 0
    db.session.commit()  # the id is taken: a repeat arriving meanwhile does nothing
    sender = services.find_sender(db.session, incoming.sender, now)
    if sender is None:
        queued = _answer_stranger(inbound)
        db.session.commit()
        return queued
    outcome, reply, changed = _act(incoming, sender)
    queued = services.finish(db.session, inbound, outcome, sender=sender, reply=reply, now=clock.now())
    db.session.commit()
    if changed is not None:  # shown live on the projector and the pages, as any other vote or question
        kind, id_ = changed
        if kind == "poll":
            broadcaster(current_app).results_changed(id_)
        else:
            broadcaster(current_app).stage_changed(id_)
    return queued


def _answer_stranger(inbound: InboundMessage) -> int:
    """A number nobody registered: told, in Indonesian (we do not know their language), where to
    register; once a day at most, and WHATSAPP_STRANGER_REPLIES_PER_HOUR numbers an hour at most.
    Returns how many replies were queued."""
    now = clock.now()
    stage = services.stranger_stage(db.session, now)
    if stage is None:  # no programme at all: nothing to point to
        inbound.outcome = "unknown_number"
        return 0
    program = db.session.get_one(Program, stage.program_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    url = f"{base}/daftar/{program.slug}" if base and program.registration_open else base
    reply = texts.reply("unknown_number", url=url) if url else texts.reply("unknown_number_no_url")
    per_hour = current_app.config["WHATSAPP_STRANGER_REPLIES_PER_HOUR"]
    return int(services.answer_stranger(db.session, inbound, stage, reply, now, per_hour=per_hour))


STOP_WORDS = {"stop", "berhenti"}


def _act(incoming: Incoming, sender: services.Sender) -> Acted:
    if incoming.text.strip().casefold() in STOP_WORDS:  # polls by WhatsApp off, whoever asks
        polls.stop_polls(db.session, incoming.sender, clock.now())
        return "polls_stopped", texts.reply("polls_stopped"), None
    if sender.user is None:
        return "not_approved", texts.reply("not_approved"), None
    text = incoming.text.strip()
    if len(text) > MAX_TEXT:
        return "too_long", texts.reply("too_long"), None
    if not text:  # nothing but spaces or control characters (dropped where the message entered)
        return "empty", texts.reply("empty"), None
    question = question_text(text, keywords())
    if question is not None:
        return _ask(sender, question)
    poll = sender.poll
    if poll is None:
        if sender.closed_poll is not None:
            return "poll_closed", texts.reply("poll_closed", poll=sender.closed_poll), None
        return "no_poll", texts.reply("no_poll", keyword=keywords()[0]), None
    reading = read_answer(poll, text)
    if reading.answer is None:
        return reading.kind, texts.reply(reading.kind, poll=poll, text=text), None
    voted_before = services.has_voted(db.session, poll, sender.registration)
    user = sender.user
    request = VoteRequest(
        user.id,
        user.session_epoch,
        sender.registration.id,
        poll.stage_id,
        poll.id,
        client_id(incoming),
        reading.answer,
        clock.now(),
    )
    db.session.commit()  # the user made for a registration without one; the vote writes on its own
    result = actions.submit_vote(request)
    if not result.get("ok"):
        code = result.get("error", "server_error")
        if code in ("poll_closed", "poll_not_open", "unknown_poll"):
            return "poll_closed", texts.reply("poll_closed", poll=poll), None
        known = code if code in texts.REPLIES else "invalid"
        return code, texts.reply(known, poll=poll, text=text), None
    code = "vote_changed" if voted_before else "vote_counted"
    return code, texts.reply(code, poll=poll, answer=result["answer"]), ("poll", poll.id)


def _ask(sender: services.Sender, question: str) -> Acted:
    stage = sender.stage
    if stage is None:
        return "no_stage", texts.reply("no_stage"), None
    try:
        with db.session.begin_nested():
            asked = live_services.ask(
                db.session,
                stage,
                sender.registration,
                question,
                anonymous=False,
                now=clock.now(),
                per_minute=current_app.config["LIVE_QUESTIONS_PER_MINUTE"],
            )
    except LiveError as error:
        if error.code == "stage_ended":  # a poll left open after its stage: questions go to a running one
            return error.code, texts.reply("no_stage"), None
        code = error.code if error.code in texts.REPLIES else "invalid"
        return error.code, texts.reply(code, text=question), None
    except IntegrityError:
        return "server_error", texts.reply("server_error"), None
    moderated = asked.status == QuestionStatus.PENDING
    reply = texts.reply("question_moderated" if moderated else "question_received")
    return "question", reply, ("stage", stage.id)
