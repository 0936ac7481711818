"""Socket.IO rooms and the connection rules every live feature shares.

A socket connects only with a logged-in user; it joins a stage's room only if the user is an
approved participant of that stage's programme or staff, and the staff room only as staff.
Clients re-fetch state over HTTP after every (re)connect: Socket.IO does not replay messages.
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from workshop.db import db
from workshop.extensions import socketio
from workshop.programs.models import Stage
from workshop.registration.models import Registration, Status


def stage_room(stage_id: int) -> str:
    return f"stage:{stage_id}"


def staff_room(stage_id: int) -> str:
    return f"stage-staff:{stage_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def may_join(user, stage: Stage) -> bool:
    if user.is_staff:
        return True
    if user.person_id is None:
        return False
    return (
        db.session.scalar(
            select(Registration.id).where(
                Registration.program_id == stage.program_id,
                Registration.person_id == user.person_id,
                Registration.status == Status.APPROVED,
            )
        )
        is not None
    )


@socketio.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("login_required")
    join_room(user_room(current_user.id))


@socketio.on("join_stage")
def on_join_stage(data):
    """{'stage_id': n} -> {'ok': true, 'staff': bool} or {'ok': false, 'error': code}."""
    stage_id = data.get("stage_id") if isinstance(data, dict) else None
    stage = db.session.get(Stage, stage_id) if type(stage_id) is int else None  # not a bool
    if stage is None:
        return {"ok": False, "error": "unknown_stage"}
    if not may_join(current_user, stage):
        return {"ok": False, "error": "forbidden"}
    join_room(stage_room(stage.id))
    if current_user.is_staff:
        join_room(staff_room(stage.id))
    return {"ok": True, "staff": bool(current_user.is_staff)}


def notify_attendance_changed(stage_id: int) -> None:
    """Tell the stage's staff screens that attendance changed: they re-fetch the counts."""
    socketio.emit("attendance_changed", {"stage_id": stage_id}, to=staff_room(stage_id))
