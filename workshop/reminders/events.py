"""What reminders subscribes to (workshop/signals.py), and what it tells clients over Socket.IO."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask

from workshop import signals
from workshop.db import Session
from workshop.extensions import socketio
from workshop.programs.models import Stage
from workshop.realtime import staff_room, user_room
from workshop.reminders import services

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    def stage_saved(
        _app, *, session: Session, stage: Stage, previous_start: datetime, now: datetime, **_
    ) -> None:
        services.stage_rescheduled(session, stage, previous_start, now)  # reminders follow a moved start

    signals.stage_saved.connect(stage_saved, sender=app, weak=False)
    signals.deliveries_changed.connect(deliveries_changed, sender=app, weak=False)


def deliveries_changed(_app, *, stage_ids: list[int], notices: list, **_) -> None:
    """Live updates after the marks are committed: staff screens re-fetch, participants see notices."""
    if socketio.server is None:
        return
    try:
        for stage_id in stage_ids:
            socketio.emit("deliveries_changed", {"stage_id": stage_id}, to=staff_room(stage_id))
        for item in notices:
            socketio.emit(
                "notice",
                {
                    "kind": item.kind.value,
                    "stage_id": item.stage_id,
                    "registration_id": item.registration_id,
                    "subject": item.message.subject,
                    "text": item.message.text,
                },
                to=user_room(item.user_id),
            )
    except Exception:  # a lost live update is re-fetched by the page; never fail the send for it
        log.exception("live update after sending failed")
