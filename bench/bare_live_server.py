"""The bare live-poll server for bench/live_poll.py: Flask-SocketIO in gevent mode, served exactly
as app.py serves Bimtek Hybrid (gevent monkey-patching, workshop.serving.serve: gevent's WSGI server
with gevent-websocket's handler), with none of the app's logic: no login, no database.

- `join_stage` {stage_id} joins the room `stage:<id>`, ack {ok: true, staff: false};
- `vote` {stage_id, client_id, poll_id, answer} stores the answer in a dict by client_id (one vote
  per client_id), ack {ok: true, poll_id, answer};
- a background task, every 300 ms, emits `poll_results` {stage_id, poll_id, results} to the room
  of the stage when the tally changed; results = {poll_id, version, total, bars: [{key, count}]}.

The event names and payload shapes are those of the app (workshop/live), so the same harness
drives both. GET / answers "ok" (start-up probe); GET /stats the stored votes:
{"total": n, "client_ids": [...]}. HOST and PORT as in app.py.
"""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    from gevent import monkey

    monkey.patch_all()

from flask import Flask, jsonify
from flask_socketio import SocketIO, join_room

TICK = 0.3  # seconds between tallies while votes come in

app = Flask(__name__)
socketio = SocketIO(app, async_mode="gevent", manage_session=False)
votes: dict[str, dict] = {}  # client_id -> {"poll_id", "answer"}
counts: dict[object, dict[str, int]] = {}  # poll_id -> option id -> votes
tally = {"version": 0, "counted": 0, "rooms": set()}


@app.route("/")
def ok():
    return "ok"


@app.route("/stats")
def stats():
    return jsonify(total=len(votes), client_ids=list(votes))


@socketio.on("join_stage")
def on_join_stage(data):
    stage_id = data.get("stage_id") if isinstance(data, dict) else None
    if type(stage_id) is not int:
        return {"ok": False, "error": "unknown_stage"}
    join_room(f"stage:{stage_id}")
    tally["rooms"].add((stage_id, f"stage:{stage_id}"))
    return {"ok": True, "staff": False}


@socketio.on("vote")
def on_vote(data):
    if not isinstance(data, dict) or not isinstance(data.get("client_id"), str):
        return {"ok": False, "error": "invalid"}
    vote = votes.get(data["client_id"])
    if vote is None:
        vote = votes[data["client_id"]] = {"poll_id": data.get("poll_id"), "answer": data.get("answer")}
        poll = counts.setdefault(vote["poll_id"], {})
        answer = vote["answer"] if isinstance(vote["answer"], dict) else {}
        for option in answer.get("option_ids", []):
            poll[str(option)] = poll.get(str(option), 0) + 1
        poll[""] = poll.get("", 0) + 1  # people who answered
    return {"ok": True, "poll_id": vote["poll_id"], "answer": vote["answer"]}


def results(poll_id) -> dict:
    poll = counts.get(poll_id, {})
    bars = [{"key": key, "count": count} for key, count in sorted(poll.items()) if key]
    return {"poll_id": poll_id, "version": tally["version"], "total": poll.get("", 0), "bars": bars}


def broadcaster():
    """Every TICK: if votes came in since the last tally, emit the new tally to every stage room."""
    while True:
        socketio.sleep(TICK)
        if len(votes) == tally["counted"]:
            continue
        tally["counted"] = len(votes)
        tally["version"] += 1
        for stage_id, room in tally["rooms"]:
            for poll_id in counts:
                socketio.emit(
                    "poll_results",
                    {"stage_id": stage_id, "poll_id": poll_id, "results": results(poll_id)},
                    to=room,
                )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from workshop.serving import serve

    socketio.start_background_task(broadcaster)
    serve(app, os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000")))
