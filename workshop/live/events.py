"""Socket.IO handlers of live Q&A and polls, as thin as views: each passes the user and the payload
to live.actions, the same functions the HTTP fallbacks call, and returns the reply as the ack.

Clients send every action with a client id and an ack; `join_stage` (workshop/realtime.py) first.
"""

from __future__ import annotations

from flask import Flask
from flask_login import current_user

from workshop import clock, realtime
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.ids import valid_id
from workshop.live import actions, carry, services
from workshop.live.broadcast import Broadcaster
from workshop.live.votes import VoteBatcher, record_votes


def init_app(app: Flask) -> None:
    hub = app.extensions["live_broadcaster"] = Broadcaster(app)

    def joined(_app, stage_id: int, **_) -> dict:
        hub.listen()
        # The page fetched its state before it joined: it fetches again only if these moved since.
        return services.state_versions(db.session, stage_id)

    realtime.stage_joined.connect(joined, sender=app, weak=False)
    carry.init_app(app)
    if app.config["LIVE_VOTE_BATCHING"]:

        def write(requests):
            with app.app_context():
                return record_votes(db.session, requests, clock.now())

        app.extensions["live_vote_batcher"] = VoteBatcher(socketio, write)


def _payload(data) -> dict:
    # A socket event has no before_request: say that what comes first (loading the user) only
    # reads; the actions that write begin their own write transaction.
    sqlite_write_intent.set(False)
    return data if isinstance(data, dict) else {}


def _ack(result: tuple[dict, int]) -> dict:
    return result[0]


@socketio.on("ask")
def on_ask(data):
    payload = _payload(data)
    return _ack(actions.ask(current_user, payload.get("stage_id"), payload))


@socketio.on("upvote")
def on_upvote(data):
    payload = _payload(data)
    return _ack(actions.upvote(current_user, payload.get("stage_id"), payload))


@socketio.on("moderate")
def on_moderate(data):
    payload = _payload(data)
    realtime.checked_user()  # an ended session or a lost role also leaves the moderator rooms
    return _ack(actions.moderate(current_user, payload.get("stage_id"), payload))


@socketio.on("vote")
def on_vote(data):
    payload = _payload(data)
    stage_id = payload.get("stage_id")
    voter = realtime.joined_participant(stage_id) if valid_id(stage_id) else None
    return _ack(actions.vote(current_user, stage_id, payload, voter=voter))
