"""Socket.IO handlers of the attendance feature: the live-presence heartbeat.

`login_required` does not cover socket events: each handler checks the user itself, as the HTTP
fallback (POST /api/stages/<id>/presence) does, and both call the same service.
"""

from __future__ import annotations

import re

from flask_login import current_user

from workshop import clock, realtime
from workshop.attendance import services
from workshop.auth.models import Role
from workshop.db import db
from workshop.extensions import socketio
from workshop.ids import valid_id
from workshop.programs.models import Stage

NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # as the page makes them; anything else: no nonce


def presence_heartbeat(user, stage_id, nonce) -> tuple[dict, int]:
    """Check the participant and record a heartbeat; commit. -> (ack, HTTP status)."""
    stage = db.session.get(Stage, stage_id) if valid_id(stage_id) else None
    if stage is None:
        return {"ok": False, "error": "unknown_stage"}, 404
    if not user.is_authenticated or user.role != Role.PARTICIPANT:
        return {"ok": False, "error": "forbidden"}, 403
    registration = services.registration_for(db.session, user, stage)
    if registration is None:
        return {"ok": False, "error": "forbidden"}, 403
    nonce = nonce if isinstance(nonce, str) and NONCE.fullmatch(nonce) else None
    try:
        outcome = services.record_presence(db.session, registration, stage, clock.now(), client_nonce=nonce)
    except services.OnlineError as error:
        db.session.rollback()
        return {"ok": False, "error": error.code}, 409
    db.session.commit()
    if outcome.started:  # someone came online: the stage's staff screens refresh their counts
        realtime.notify_attendance_changed(stage.id)
    return {"ok": True}, 200


@socketio.on("presence")
def on_presence(data):
    """{'stage_id': n, 'nonce': str} -> {'ok': true} or {'ok': false, 'error': code}."""
    if not current_user.is_authenticated:
        return {"ok": False, "error": "login_required"}
    data = data if isinstance(data, dict) else {}
    ack, _status = presence_heartbeat(current_user, data.get("stage_id"), data.get("nonce"))
    return ack
