"""Votes: an answer checked against its poll, and written in batches.

`record_votes` applies many votes in one transaction (one commit for a burst of hundreds) and
returns one reply per vote. A vote is acknowledged only after that commit. In the server process
`VoteBatcher` collects the votes that arrive while a batch is being written, so each socket
handler just waits for its reply; with batching off (tests) each vote is written on its own.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from workshop.auth.models import User
from workshop.db import Session
from workshop.errors import ServiceError
from workshop.groups.queries import group_members
from workshop.live.models import ClientAction, Poll, PollKind, PollVote
from workshop.registration.models import Registration, Status
from workshop.text import clean_line, clean_lines

MAX_WORDS = 5
MAX_WORD_LENGTH = 40
MAX_TEXT_LENGTH = 500
BATCH_LIMIT = 500
BURST_GATHER = 0.02  # seconds a batch waits for more votes when it follows another closely
SUBMIT_TIMEOUT = 30.0  # seconds
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")

log = logging.getLogger(__name__)


class LiveError(ServiceError):
    """A refused live action; `status` is the HTTP status its reply goes out with."""

    def __init__(self, code: str, status: int = 400, field: str | None = None):
        super().__init__(code, field)
        self.status = status


def client_id_of(payload: dict) -> str:
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise LiveError("invalid", field="client_id")
    return client_id


def normalise_word(text: str) -> str:
    return " ".join(clean_line(text).split()).casefold()


def normalise_answer(poll: Poll, answer: object) -> dict:
    """The answer in its stored form, or LiveError('invalid')."""
    if not isinstance(answer, dict):
        raise LiveError("invalid")
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        chosen = answer.get("option_ids")
        valid = {option.id for option in poll.options}
        if not isinstance(chosen, list) or not all(type(item) is int for item in chosen):
            raise LiveError("invalid")
        chosen = sorted(set(chosen))
        limit = 1 if poll.kind == PollKind.SINGLE else (poll.max_choices or len(valid))
        if not chosen or len(chosen) > limit or not set(chosen) <= valid:
            raise LiveError("invalid")
        return {"option_ids": chosen}
    if poll.kind == PollKind.RATING:
        rating = answer.get("rating")
        if type(rating) is not int or not 1 <= rating <= (poll.scale or 5):
            raise LiveError("invalid")
        return {"rating": rating}
    if poll.kind == PollKind.WORDCLOUD:
        words = answer.get("words")
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise LiveError("invalid")
        words = list(dict.fromkeys(filter(None, map(normalise_word, words))))
        if not words:
            raise LiveError("empty")
        if len(words) > MAX_WORDS or any(len(word) > MAX_WORD_LENGTH for word in words):
            raise LiveError("too_long")
        return {"words": words}
    text = answer.get("text")
    if not isinstance(text, str):
        raise LiveError("invalid")
    text = clean_lines(text)
    if not text:
        raise LiveError("empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise LiveError("too_long")
    return {"text": text}


@dataclass(frozen=True)
class VoteRequest:
    user_id: int
    session_epoch: int  # as the voter's session had it: a logout since refuses the vote
    registration_id: int
    stage_id: int
    poll_id: int
    client_id: str
    answer: object  # as the client sent it
    received_at: datetime  # a vote received before the poll closed counts, however late its batch


def refusal(code: str, status: int) -> dict:
    return {"ok": False, "error": code, "status": status}


def record_votes(session: Session, requests: Sequence[VoteRequest], now: datetime) -> list[dict]:
    """Apply the votes in one transaction and commit. Replies: {"ok": True, "poll_id", "answer"}
    or a refusal {"ok": False, "error", "status"}; the caller adds the message text.

    If the database refuses the batch (another process wrote one of these votes meanwhile, or one
    vote holds what the database cannot store), the votes are applied again one at a time, each in
    its own transaction: only a vote that fails on its own gets a server error."""
    try:
        replies = _apply(session, requests, now)
        session.commit()
        return replies
    except Exception:
        session.rollback()
        return [_record_one(session, request, now) for request in requests]


def _record_one(session: Session, request: VoteRequest, now: datetime) -> dict:
    for _attempt in range(2):
        try:
            reply = _apply(session, [request], now)[0]
            session.commit()
            return reply
        except IntegrityError:  # written by another process meanwhile: applied again, it finds that row
            session.rollback()
        except Exception:
            session.rollback()
            log.exception("the database refused vote %s on poll %s", request.client_id, request.poll_id)
            break
    return refusal("server_error", 500)


# A batch's statements, built once: each batch only binds its ids (building and keying a
# statement cost more than running it on a batch of a few votes). All but the poll's run as Core
# statements on the session's connection: the ORM's execution path costs about as much again as
# the statement itself on a batch of a few votes.
POLL, POLL_VOTE, CLIENT_ACTION = (cast(Table, model.__table__) for model in (Poll, PollVote, ClientAction))
_POLLS = (
    select(Poll)
    .where(Poll.id.in_(bindparam("poll_ids", expanding=True)))
    .options(joinedload(Poll.options))  # one statement with the poll's lock
    .with_for_update(of=Poll)  # in step with opening and closing, and other batches
)
_APPROVED = (
    select(Registration.id, User.id, User.session_epoch)
    .join(User, User.person_id == Registration.person_id)
    .where(
        Registration.id.in_(bindparam("registration_ids", expanding=True)),
        Registration.status == Status.APPROVED,
    )
)
_EARLIER_REPLIES = select(ClientAction.user_id, ClientAction.client_id, ClientAction.reply).where(
    tuple_(ClientAction.user_id, ClientAction.client_id).in_(bindparam("keys", expanding=True))
)
_STORED_VOTES = select(POLL_VOTE.c.id, POLL_VOTE.c.poll_id, POLL_VOTE.c.registration_id).where(
    tuple_(POLL_VOTE.c.poll_id, POLL_VOTE.c.registration_id).in_(bindparam("keys", expanding=True))
)
_NEW_RESULTS_VERSION = (
    update(POLL).where(POLL.c.id == bindparam("poll_id")).values(results_version=bindparam("results_version"))
)
_NEW_VOTES = insert(POLL_VOTE)
# SET answer, updated_at, results_version: the columns each row's parameters name
_CHANGED_VOTES = update(POLL_VOTE).where(POLL_VOTE.c.id == bindparam("vote_id"))
_NEW_REPLIES = insert(CLIENT_ACTION)


def _apply(session: Session, requests: Sequence[VoteRequest], now: datetime) -> list[dict]:
    polls = {
        poll.id: poll
        for poll in session.scalars(
            _POLLS, {"poll_ids": list({request.poll_id for request in requests})}
        ).unique()
    }
    connection = session.connection()
    registration_ids = list({request.registration_id for request in requests})
    approved = set(connection.execute(_APPROVED, {"registration_ids": registration_ids}).tuples())
    grouped = group_members(
        session,
        {poll.group_id for poll in polls.values() if poll.group_id is not None},
        set(registration_ids),
    )
    earlier_replies = {
        (user_id, client_id): reply
        for user_id, client_id, reply in connection.execute(
            _EARLIER_REPLIES, {"keys": list({(request.user_id, request.client_id) for request in requests})}
        )
    }
    votes: dict[tuple[int, int], dict] = {
        (poll_id, registration_id): {"vote_id": vote_id}
        for vote_id, poll_id, registration_id in connection.execute(
            _STORED_VOTES,
            {"keys": list({(request.poll_id, request.registration_id) for request in requests})},
        )
    }
    replies = []
    stored_replies = []
    for request in requests:
        key = (request.user_id, request.client_id)
        if key in earlier_replies:
            replies.append(earlier_replies[key])
            continue
        try:
            reply = _apply_one(request, polls.get(request.poll_id), approved, votes, now, grouped)
        except LiveError as error:
            replies.append(refusal(error.code, error.status))
            continue
        earlier_replies[key] = reply
        stored_replies.append(
            {"user_id": request.user_id, "client_id": request.client_id, "reply": reply, "created_at": now}
        )
        replies.append(reply)
    # Each written vote carries its poll's new results version (the tallies read what is above
    # the version they have seen; the poll's lock keeps them in order). The rows are written as
    # plain statements, each kind in one executemany: a burst of hundreds of votes is one short write.
    versions = {
        poll_id: polls[poll_id].results_version + 1
        for (poll_id, _), vote in votes.items()
        if "answer" in vote
    }
    new_votes, changed_votes = [], []
    for (poll_id, registration_id), vote in votes.items():
        if "answer" not in vote:
            continue  # stored, and not changed by this batch
        vote["results_version"] = versions[poll_id]
        if "vote_id" in vote:
            changed_votes.append(vote)
        else:
            new_votes.append(
                vote | {"poll_id": poll_id, "registration_id": registration_id, "created_at": now}
            )
    if versions:
        connection.execute(
            _NEW_RESULTS_VERSION,
            [{"poll_id": poll_id, "results_version": version} for poll_id, version in versions.items()],
        )
    if new_votes:
        connection.execute(_NEW_VOTES, new_votes)
    if changed_votes:
        connection.execute(_CHANGED_VOTES, changed_votes)
    if stored_replies:
        connection.execute(_NEW_REPLIES, stored_replies)
    return replies


def _apply_one(
    request: VoteRequest,
    poll: Poll | None,
    approved,
    votes: dict[tuple[int, int], dict],
    now,
    grouped=frozenset(),
) -> dict:
    """Check one vote and put its answer in `votes`, by (poll id, registration id): {"vote_id"}
    for each stored vote of the batch's voters, {"answer", "updated_at"} (and "vote_id" if
    stored) for each vote that this batch writes. `grouped`: the (group id, registration id) of
    the voters in the groups of group polls."""
    if poll is None or poll.stage_id != request.stage_id:
        raise LiveError("unknown_poll", 404)
    if (request.registration_id, request.user_id, request.session_epoch) not in approved:
        raise LiveError("forbidden", 403)  # not approved (any more), or logged out since
    if poll.group_id is not None and (poll.group_id, request.registration_id) not in grouped:
        raise LiveError("not_in_group", 403)  # a group's poll: its members only
    if not poll.accepts_votes_at(request.received_at):
        raise LiveError("poll_closed" if poll.opened_at else "poll_not_open", 409)
    answer = normalise_answer(poll, request.answer)
    vote = votes.setdefault((poll.id, request.registration_id), {})
    if vote and not poll.allow_change:  # stored, or a second vote of the same person in this batch
        raise LiveError("already_voted", 409)
    vote["answer"] = answer
    vote["updated_at"] = now
    return {"ok": True, "poll_id": poll.id, "answer": answer}


class VoteBatcher:
    """Writes the votes of all waiting handlers together: while one batch commits, the next fills.

    `write(requests) -> replies` runs in the batcher's own greenlet with an app context. In a burst
    (a batch written less than a second before) the next batch waits BURST_GATHER for more votes:
    a batch's reads and commit are paid once for more votes, and a lone vote goes at once.
    """

    def __init__(self, socketio, write: Callable[[list[VoteRequest]], list[dict]]):
        self._socketio = socketio
        self._write = write
        self._waiting: list[tuple[VoteRequest, object, list]] = []
        self._wake = socketio.server.eio.create_event()
        self._task = None
        self._last_written = float("-inf")  # time.monotonic() when the last batch was written

    def submit(self, request: VoteRequest) -> dict:
        """The vote's reply, once its batch committed (a server error after SUBMIT_TIMEOUT: the
        client retries with the same client id, which answers the same if it was written)."""
        done = self._socketio.server.eio.create_event()
        slot: list[dict] = []
        self._waiting.append((request, done, slot))
        self._wake.set()
        if self._task is None:
            self._task = self._socketio.start_background_task(self._run)
        if not done.wait(timeout=SUBMIT_TIMEOUT):
            return refusal("server_error", 503)
        return slot[0]

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                while self._waiting:
                    if time.monotonic() - self._last_written < 1.0 and len(self._waiting) < BATCH_LIMIT:
                        self._socketio.sleep(BURST_GATHER)
                    batch, self._waiting = self._waiting[:BATCH_LIMIT], self._waiting[BATCH_LIMIT:]
                    self._write_batch(batch)
                    self._last_written = time.monotonic()
        finally:
            self._task = None  # the next vote starts another writer

    def _write_batch(self, batch) -> None:
        replies = None
        try:
            replies = self._write([request for request, _done, _slot in batch])
        except Exception:
            self._socketio.server.logger.exception("writing a batch of votes failed")
        finally:
            if replies is None or len(replies) != len(batch):
                replies = [refusal("server_error", 500)] * len(batch)
            for (_request, done, slot), reply in zip(batch, replies, strict=True):
                slot.append(reply)
                done.set()
