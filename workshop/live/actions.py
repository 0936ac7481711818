"""The live actions (ask, upvote, vote, moderate) as both transports run them: the Socket.IO
handlers and their HTTP fallbacks call these with the user and the payload, and send the reply
as the ack or as the JSON body. Each checks who may act, applies the action once per client id,
commits, and marks what to broadcast. -> (reply, HTTP status)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from workshop import clock, realtime
from workshop.attendance.present import present_now
from workshop.db import db, sqlite_write_intent
from workshop.groups import queries as group_queries
from workshop.ids import valid_id
from workshop.live import handcount, services
from workshop.live.broadcast import broadcaster
from workshop.live.models import Poll, Question
from workshop.live.snapshot import question_json
from workshop.live.votes import LiveError, VoteRequest, client_id_of, record_votes
from workshop.programs.models import Stage
from workshop.registration.models import Registration

ERROR_MESSAGES = {
    "login_required": _l("Please open your personal link again to take part."),
    "forbidden": _l("You are not registered for this stage."),
    "moderators_only": _l("Only the facilitator and the organisers can do this."),
    "staff_only": _l("Only the facilitator, the organisers and the check-in staff can count hands."),
    "participants_only": _l(
        "Questions and answers come from participants: open this stage with a participant's personal link."
    ),
    "unknown_stage": _l("This stage does not exist."),
    "unknown_poll": _l("This poll does not exist."),
    "unknown_question": _l("This question is no longer shown."),
    "invalid": _l("This answer is not valid. Please check it and send it again."),
    "empty": _l("Please write something first."),
    "too_long": _l("That is too long. Please shorten it."),
    "poll_closed": _l("This poll is closed; answers are no longer accepted."),
    "poll_not_open": _l("This poll is not open yet."),
    "poll_not_closed": _l("This poll is still open."),
    "not_draft": _l("This poll has been opened already and can no longer be changed."),
    "already_voted": _l("You have already answered this poll."),
    "rate_limited": _l("You are sending questions too quickly. Please wait a minute."),
    "stage_ended": _l("This stage has ended: questions can no longer be sent."),
    "support_ended": _l("This stage has ended: its questions can no longer be supported."),
    "own_question": _l("You cannot upvote your own question."),
    "server_error": realtime.SERVER_ERROR_MESSAGE,
    "no_next_stage": _l("This is the last stage: there is no next stage to carry the question to."),
    "no_counts": _l("Enter the hall count of at least one option."),
    "unknown_option": _l("This option is not part of the poll."),
    "invalid_count": _l("Each hall count must be a whole number from 0 to 10,000."),
    "hall_count_closed": _l("This poll is closed: its hall count can no longer be changed."),
    "hall_count_choice_only": _l("Hands can be counted for choice and rating polls only."),
    "not_in_group": _l("This belongs to another group: only its members can take part."),
}
HALL_COUNT_WARNING = _l(
    "More hands than the %(present)s people checked in at the hall: the count is saved, please check it."
)


def refused(code: str, status: int) -> tuple[dict, int]:
    return {"ok": False, "error": code, "message": str(ERROR_MESSAGES[code])}, status


def _finish(reply: dict) -> tuple[dict, int]:
    if reply.get("ok"):
        return reply, 200
    return refused(reply["error"], reply.get("status", 400))


def _stage(stage_id: object) -> Stage:
    stage = db.session.get(Stage, stage_id) if valid_id(stage_id) else None
    if stage is None:
        raise LiveError("unknown_stage", 404)
    return stage


def _participant(user, stage: Stage) -> Registration:
    if not user.is_authenticated:
        raise LiveError("login_required", 401)
    if user.is_staff:
        raise LiveError("participants_only", 403)
    registration_id = realtime.participant_registration_id(user, stage.program_id)
    if registration_id is None:
        raise LiveError("forbidden", 403)
    return db.session.get_one(Registration, registration_id)


def _guarded(action):
    """Run an action in a write transaction; a refusal rolls back and becomes its reply.

    The transaction that loaded the user may have begun as a read (socket handlers read first):
    end it, so that the action's own begins as a writer (on SQLite, a read cannot become one once
    another writer committed). If another process applied the same action meanwhile (a retry
    over the other transport), the unique constraints refuse it: run it once more, and it finds
    what that process stored."""
    for attempt in range(2):
        db.session.rollback()
        sqlite_write_intent.set(True)
        try:
            return action()
        except LiveError as error:
            db.session.rollback()
            return refused(error.code, error.status)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def _once(user, payload: dict, apply: Callable[[], tuple[dict, Callable[[], None]]]) -> tuple[dict, int]:
    """Apply an action once per client id and commit: a retry gets the stored reply. `apply()`
    returns the reply and what to do once it is committed (broadcasts)."""

    def run():
        if not user.is_authenticated:  # a socket whose session ended since it connected
            raise LiveError("login_required", 401)
        client_id = client_id_of(payload)
        reply = services.earlier_reply(db.session, user, client_id)
        if reply is not None:
            return reply, 200
        reply, after_commit = apply()
        services.remember_reply(db.session, user, client_id, reply)
        db.session.commit()
        after_commit()
        return reply, 200

    return _guarded(run)


def _in_group(stage: Stage, registration: Registration, group_id: object) -> int | None:
    """The group an action goes to: None for the whole stage; a group only for its members."""
    if group_id is None:
        return None
    group = group_queries.own_group(db.session, stage.id, registration.id)
    if group is None or isinstance(group_id, bool) or group_id != group.id:
        raise LiveError("not_in_group", 403)
    return group.id


def ask(user, stage_id: object, payload: dict) -> tuple[dict, int]:
    def apply():
        stage = _stage(stage_id)
        registration = _participant(user, stage)
        question = services.ask(
            db.session,
            stage,
            registration,
            payload.get("text"),
            anonymous=payload.get("anonymous") is True,
            now=clock.now(),
            per_minute=current_app.config["LIVE_QUESTIONS_PER_MINUTE"],
            group_id=_in_group(stage, registration, payload.get("group_id")),
        )
        reply = {"ok": True, "question": question_json(question, staff=False, asker=True)}
        return reply, lambda: broadcaster(current_app).stage_changed(stage.id)

    return _once(user, payload, apply)


def upvote(user, stage_id: object, payload: dict) -> tuple[dict, int]:
    def apply():
        stage = _stage(stage_id)
        registration = _participant(user, stage)
        question_id = payload.get("question_id")
        asked = db.session.get(Question, question_id) if valid_id(question_id) else None
        if asked is not None and asked.stage_id == stage.id and asked.group_id is not None:
            _in_group(stage, registration, asked.group_id)
        question = services.upvote(db.session, stage, registration, question_id, clock.now())
        reply = {"ok": True, "question_id": question.id, "upvotes": question.upvotes}
        return reply, lambda: broadcaster(current_app).stage_changed(stage.id)

    return _once(user, payload, apply)


def moderate(user, stage_id: object, payload: dict) -> tuple[dict, int]:
    def apply():
        stage = _stage(stage_id)
        if not user.is_authenticated:
            raise LiveError("login_required", 401)
        if not user.is_live_moderator:
            raise LiveError("moderators_only", 403)
        question = services.moderate(
            db.session,
            stage,
            payload.get("question_id"),
            payload.get("action"),
            payload.get("reason"),
            actor=user,
            now=clock.now(),
        )
        reply = {"ok": True, "question": question_json(question, staff=True)}
        asker = realtime.account_of(question.registration.person_id)

        def after_commit():
            broadcaster(current_app).stage_changed(stage.id)
            realtime.tell_user(asker, "mine_changed", {"stage_id": stage.id})

        return reply, after_commit

    return _once(user, payload, apply)


def hall_count(user, stage_id: object, payload: dict) -> tuple[dict, int]:
    """The hall count for the poll, by the facilitator or a petugas in the hall:
    {"poll_id", "counts": {"<option id>" (or "<rating>"): n}}."""

    def run():
        if not user.is_authenticated:
            raise LiveError("login_required", 401)
        if not user.is_staff:
            raise LiveError("staff_only", 403)
        stage = _stage(stage_id)
        poll_id = valid_id(payload.get("poll_id"))
        poll = poll_of(stage, poll_id) if poll_id else None
        if poll is None:
            raise LiveError("unknown_poll", 404)
        now = clock.now()
        hall_present = len(present_now(db.session, stage, now).hall)
        try:
            over = handcount.set_hall_counts(
                db.session, poll, payload.get("counts"), hall_present=hall_present, actor=user, now=now
            )
        except LiveError as error:
            db.session.rollback()
            return refused(error.code, error.status)[0] | {"field": error.field}, error.status
        counts = handcount.hall_counts(db.session, poll)
        db.session.commit()
        broadcaster(current_app).results_changed(poll.id)
        warning = str(HALL_COUNT_WARNING % {"present": hall_present}) if over else None
        reply = {
            "ok": True,
            "poll_id": poll.id,
            "counts": counts,
            "hall_present": hall_present,
            "warning": warning,
        }
        return reply, 200

    return _guarded(run)


def vote(
    user, stage_id: object, payload: dict, *, voter: tuple[int, int, int] | None = None
) -> tuple[dict, int]:
    """`voter`: (user id, session epoch, registration id) of a socket that joined the stage; the
    HTTP fallback and other sockets read them from `user` and the database instead.

    This only reads; the vote is written by record_votes, in a batch with others when batching
    is on (the batch also checks that the session still holds). The read transaction ends before
    the vote waits for its batch: on SQLite, holding it (or the write lock) would stall the batch."""
    valid_stage_id, poll_id = valid_id(stage_id), valid_id(payload.get("poll_id"))
    if valid_stage_id is None or poll_id is None:
        return refused("invalid", 400)
    try:
        client_id = client_id_of(payload)
        if voter is None:
            voter = _voter(user, valid_stage_id)
    except LiveError as error:
        return refused(error.code, error.status)
    user_id, session_epoch, registration_id = voter
    answer = payload.get("answer")
    reply = submit_vote(
        VoteRequest(
            user_id, session_epoch, registration_id, valid_stage_id, poll_id, client_id, answer, clock.now()
        )
    )
    if reply.get("ok"):
        broadcaster(current_app).results_changed(poll_id)
    return _finish(reply)


def _voter(user, stage_id: int) -> tuple[int, int, int]:
    sqlite_write_intent.set(False)
    try:
        if not user.is_authenticated:
            raise LiveError("login_required", 401)
        registration = _participant(user, _stage(stage_id))
        return user.id, user.session_epoch, registration.id
    finally:
        db.session.rollback()


def submit_vote(request: VoteRequest) -> dict:
    batcher = current_app.extensions.get("live_vote_batcher")
    if batcher is not None:
        return batcher.submit(request)
    sqlite_write_intent.set(True)
    return record_votes(db.session, [request], clock.now())[0]


def poll_of(stage: Stage, poll_id: int) -> Poll | None:
    poll = db.session.get(Poll, poll_id)
    return poll if poll is not None and poll.stage_id == stage.id else None
