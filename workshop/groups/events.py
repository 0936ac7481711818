"""Group work over Socket.IO: a participant's socket joins their group's room when it joins the
stage (workshop/realtime.py's `stage_joined`), and a saved output field goes to the group's room
and to the stage's moderators (the projector's "Presentasi kelompok")."""

from __future__ import annotations

from flask import Flask
from flask_socketio import join_room

from workshop import realtime
from workshop.db import db
from workshop.extensions import socketio
from workshop.groups import queries


def group_room(group_id: int) -> str:
    return f"group:{group_id}"


def init_app(app: Flask) -> None:
    def joined(_app, stage_id: int, **_) -> dict:
        joined = realtime.joined_participant(stage_id)
        if joined is None:
            return {}
        group = queries.own_group(db.session, stage_id, joined[2])
        if group is None:
            return {}
        join_room(group_room(group.id))
        return {"group_id": group.id}

    realtime.stage_joined.connect(joined, sender=app, weak=False)


def output_saved(stage_id: int, group_id: int, field: str, value: dict) -> None:
    """Tell the group's members and the projector that a field of the output changed."""
    data = {"stage_id": stage_id, "group_id": group_id, "field": field, **value}
    socketio.emit("group_output", data, to=[group_room(group_id), realtime.moderator_room(stage_id)])
