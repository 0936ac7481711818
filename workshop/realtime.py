"""Socket.IO rooms and the connection rules every live feature shares.

A socket connects only with a logged-in user; it joins a stage's room only if the user is an
approved participant of that stage's programme, and the stage's staff room only as staff.
Clients re-fetch state over HTTP after every (re)connect: Socket.IO does not replay messages.
Logging out or losing the personal link ends the user's sockets.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from functools import wraps
from typing import NamedTuple

from blinker import Namespace
from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, disconnect, join_room, leave_room
from sqlalchemy import bindparam, select
from werkzeug.exceptions import HTTPException

from workshop.auth.models import LIVE_ROLES, STAFF_ROLES, Role, User
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.ids import valid_id
from workshop.programs.models import Stage
from workshop.registration.models import Registration, Status

log = logging.getLogger(__name__)
SERVER_ERROR_MESSAGE = _l("Something went wrong on our side. Please try again.")


def stage_room(stage_id: int) -> str:
    return f"stage:{stage_id}"


def staff_room(stage_id: int) -> str:
    return f"stage-staff:{stage_id}"


def moderator_room(stage_id: int) -> str:
    """Who runs the stage's Q&A and polls (narasumber, panitia, admin): they see pending questions,
    askers' names and hidden results. Check-in staff are in the staff room only."""
    return f"stage-moderators:{stage_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


class SocketUser(NamedTuple):
    id: int
    session_epoch: int
    role: Role
    person_id: int | None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_live_moderator(self) -> bool:
        return self.role in LIVE_ROLES


# Who each socket of this process belongs to, as its user was at connect, and the registration
# it joined each stage with (None for staff): joining and voting read neither from the database
# again (the vote's batch checks that the session epoch still holds). Dropped on disconnect.
socket_users: dict[str, SocketUser] = {}
joined_stages: dict[str, dict[int, int | None]] = {}
sockets_per_stage: Counter[int] = Counter()  # the broadcaster asks every tick which stages are joined

# Sent (by the app) when a socket of this process joined a stage, with its stage_id, and `again`
# when the socket had joined that stage before (a page joins again after a group move). What a
# receiver returns (a dict) goes into the join's ack, e.g. the versions the client compares with its state.
stage_joined = Namespace().signal("stage-joined")


def local_stage_ids() -> set[int]:
    """The stages that sockets of this process joined."""
    return set(sockets_per_stage)


# Built once (their cache keys are memoised on the statements): every socket that joins a stage asks.
_STAGE_PROGRAM = select(Stage.program_id).where(Stage.id == bindparam("stage_id"))
_APPROVED_REGISTRATION = select(Registration.id).where(
    Registration.program_id == bindparam("program_id"),
    Registration.person_id == bindparam("person_id"),
    Registration.status == Status.APPROVED,
)


def participant_registration_id(user, program_id: int) -> int | None:
    """The user's approved registration for the programme."""
    if user.person_id is None:
        return None
    return db.session.scalar(_APPROVED_REGISTRATION, {"program_id": program_id, "person_id": user.person_id})


def _sid() -> str:
    """The current socket's id, which Flask-SocketIO sets on the request of a socket event."""
    return request.sid  # type: ignore[attr-defined]


def joined_participant(stage_id: int) -> tuple[int, int, int] | None:
    """(user id, session epoch, registration id) of the current socket, if it joined the stage as
    a participant."""
    sid = _sid()
    registration_id = joined_stages.get(sid, {}).get(stage_id)
    user = socket_users.get(sid)
    return None if registration_id is None or user is None else (user.id, user.session_epoch, registration_id)


def _socket_user() -> SocketUser:
    return SocketUser(current_user.id, current_user.session_epoch, current_user.role, current_user.person_id)


def server_error_reply(failed: str, error: BaseException) -> dict:
    """What an action that failed unexpectedly answers, over a socket or its HTTP fallback: the
    traceback logged ("<failed> failed"), what it wrote rolled back, and the `server_error` reply in
    the user's language (the client keeps the action's client id and retries it)."""
    log.error("%s failed", failed, exc_info=error)
    try:
        db.session.rollback()
    except Exception:
        log.exception("rolling back after %s failed", failed)
    return {"ok": False, "error": "server_error", "message": str(SERVER_ERROR_MESSAGE)}


def answers_server_error(view: Callable) -> Callable:
    """An HTTP fallback of a socket action answers a failure no one expected as its event does
    (`server_error_reply`), with status 500; a refusal with an HTTP status (404, 403...) stays one."""

    @wraps(view)
    def answered(*args, **kwargs) -> ResponseReturnValue:
        try:
            return view(*args, **kwargs)
        except HTTPException:
            raise
        except Exception as error:
            return jsonify(server_error_reply(f"HTTP {request.method} {request.path}", error)), 500

    return answered


@socketio.on_error_default
def on_event_error(error: Exception) -> dict | bool | None:
    """What an event whose handler raised answers: Flask-SocketIO calls this in the event's request
    context, with the exception being handled, and sends what it returns as the ack. The socket stays
    connected; the client keeps the action's client id and retries it (static/js/live_client.js).
    A connect that failed is refused (False), a disconnect needs no answer."""
    event = request.event["message"]  # type: ignore[attr-defined]
    reply = server_error_reply(f"Socket.IO event {event!r} of socket {_sid()}", error)
    if event == "connect":
        return False
    if event == "disconnect":
        return None
    return reply


@socketio.on("connect")
def on_connect(auth=None):
    sqlite_write_intent.set(False)  # no before_request for socket events: these only read
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("login_required")
    user = _socket_user()
    socket_users[_sid()] = user
    join_room(user_room(user.id))


def checked_user() -> SocketUser | None:
    """The socket's user as the database has it now, for joining and moderating: Flask-Login loads
    the user again for every event and refuses a session whose epoch moved (logged out elsewhere,
    link revoked). A socket whose session ended is disconnected (None); one whose role changed
    leaves the staff rooms its role no longer allows."""
    if not current_user.is_authenticated:
        disconnect()
        return None
    user = socket_users[_sid()] = _socket_user()
    for stage_id in joined_stages.get(_sid(), {}):
        if not user.is_staff:
            leave_room(staff_room(stage_id))
        if not user.is_live_moderator:
            leave_room(moderator_room(stage_id))
    return user


@socketio.on("join_stage")
def on_join_stage(data):
    """{'stage_id': n} -> {'ok': true, 'staff': bool} or {'ok': false, 'error': code}."""
    sqlite_write_intent.set(False)
    stage_id = valid_id(data.get("stage_id") if isinstance(data, dict) else None)
    program_id = db.session.scalar(_STAGE_PROGRAM, {"stage_id": stage_id}) if stage_id else None
    if stage_id is None or program_id is None:
        return {"ok": False, "error": "unknown_stage"}
    user = checked_user()
    if user is None:
        return {"ok": False, "error": "login_required"}
    if user.is_staff:
        join_room(staff_room(stage_id))
        if user.is_live_moderator:
            join_room(moderator_room(stage_id))
        registration_id = None
    else:
        registration_id = participant_registration_id(user, program_id)
        if registration_id is None:
            return {"ok": False, "error": "forbidden"}
        join_room(stage_room(stage_id))
    stages = joined_stages.setdefault(_sid(), {})
    again = stage_id in stages
    stages[stage_id] = registration_id
    if not again:
        sockets_per_stage[stage_id] += 1
    ack = {"ok": True, "staff": user.is_staff}
    for _receiver, extra in stage_joined.send(
        current_app._get_current_object(), stage_id=stage_id, again=again
    ):
        ack.update(extra or {})
    return ack


@socketio.on("disconnect")
def on_disconnect(reason=None):
    socket_users.pop(_sid(), None)
    for stage_id in joined_stages.pop(_sid(), {}):
        sockets_per_stage[stage_id] -= 1
        if not sockets_per_stage[stage_id]:
            del sockets_per_stage[stage_id]


def account_of(person_id: int) -> int | None:
    return db.session.scalar(select(User.id).where(User.person_id == person_id))


def tell_user(user_id: int | None, event: str, data: dict) -> None:
    """Send an event to a user's sockets (nothing for a person without an account yet)."""
    if user_id is not None:
        socketio.emit(event, data, to=user_room(user_id))


def end_person_sessions(person_id: int) -> None:
    user_id = account_of(person_id)
    if user_id is not None:
        end_sessions(user_id)


def end_sessions(user_id: int) -> None:
    """Disconnect the user's sockets in this process, and tell every client of the user (through
    the message queue, in other processes too) that its session ended."""
    socketio.emit("session_ended", {}, to=user_room(user_id))
    for sid, _eio_sid in list(socketio.server.manager.get_participants("/", user_room(user_id))):
        socketio.server.disconnect(sid, namespace="/")


def notify_attendance_changed(stage_id: int) -> None:
    """Tell the stage's staff screens that attendance changed: they re-fetch the counts."""
    socketio.emit("attendance_changed", {"stage_id": stage_id}, to=staff_room(stage_id))
