"""Group work over Socket.IO: a participant's socket joins their group's room when it joins the
stage (workshop/realtime.py's `stage_joined`), or the stage's plenary room if they are in no group:
the live state goes to each of these rooms with the plenary items and that group's only. A saved
output field goes to the group's room and to the stage's moderators (the projector's "Presentasi
kelompok"). A participant the organiser moves is told (`group_changed`, to their own sockets in
every process): the page joins the stage again, so into the new group's room, and fetches its state.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask
from flask_socketio import join_room, leave_room
from sqlalchemy import select

from workshop import realtime
from workshop.auth.models import User
from workshop.db import db
from workshop.extensions import socketio
from workshop.groups import queries
from workshop.groups.models import StageGroup
from workshop.registration.models import Registration


def group_room(group_id: int) -> str:
    return f"group:{group_id}"


def plenary_room(stage_id: int) -> str:
    """The stage's participants who are in none of its groups."""
    return f"stage-plenary:{stage_id}"


def init_app(app: Flask) -> None:
    def joined(_app, stage_id: int, again: bool = False, **_) -> dict:
        joined = realtime.joined_participant(stage_id)
        if joined is None:
            return {}
        group_id = queries.own_group_id(db.session, stage_id, joined[2])
        room = plenary_room(stage_id) if group_id is None else group_room(group_id)
        if again:
            _leave_stage_rooms(stage_id, keep=room)
        join_room(room)
        return {} if group_id is None else {"group_id": group_id}

    realtime.stage_joined.connect(joined, sender=app, weak=False)


def _leave_stage_rooms(stage_id: int, *, keep: str) -> None:
    """Joining again after a move: leave the room of the stage's group the socket was in (a socket
    joins these rooms only when it joins their stage: its first join has none to leave)."""
    group_ids = db.session.scalars(select(StageGroup.id).where(StageGroup.stage_id == stage_id))
    for room in {plenary_room(stage_id), *map(group_room, group_ids)} - {keep}:
        leave_room(room)


def members_moved(stage_id: int, before: Mapping[int, int], after: Mapping[int, int]) -> None:
    """Tell the participants whose group changed (registration id -> group id, before and after)."""
    moved = {rid for rid in before.keys() | after.keys() if before.get(rid) != after.get(rid)}
    if not moved:
        return
    accounts = db.session.execute(
        select(Registration.id, User.id)
        .join(User, User.person_id == Registration.person_id)
        .where(Registration.id.in_(moved))
    )
    for registration_id, user_id in accounts:
        realtime.tell_user(
            user_id, "group_changed", {"stage_id": stage_id, "group_id": after.get(registration_id)}
        )


def output_saved(stage_id: int, group_id: int, field: str, value: dict) -> None:
    """Tell the group's members and the projector that a field of the output changed."""
    data = {"stage_id": stage_id, "group_id": group_id, "field": field, **value}
    socketio.emit("group_output", data, to=[group_room(group_id), realtime.moderator_room(stage_id)])
