"""Every event of a socket runs in a request context of the socket's handshake environ, which the
app's Flask class (workshop/application.py) makes cheaper: the URL adapter kept in the environ, the
functions Flask checks for coroutines checked once. What the events rely on still holds: URLs
build, the socket's id and namespace are on the request, the user is loaded again, and the
teardowns run (the database connection goes back to the pool after each event)."""

from __future__ import annotations

import contextvars

import flask
from flask_login import current_user
from sqlalchemy import event

from tests import test_live
from tests.test_live import joined_socket, participant_client
from workshop.application import URL_ADAPTER
from workshop.db import db, sqlite_write_intent
from workshop.extensions import socketio
from workshop.web import public_url

world = test_live.world
fixed_clock = test_live.fixed_clock  # autouse


def as_in_a_server(emits):
    """Run the emits as a server runs an event, with no app context of the test's around them: each
    event pushes and pops its own, as in a greenlet of the server."""
    return contextvars.Context().run(emits)


def test_each_event_of_a_socket_gives_its_database_connection_back(app, session, world):
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    session.close()  # the test's own session gives its connection back first
    out = {"checked out": 0, "checked in": 0}
    engine = db.engines[None]
    event.listen(engine, "checkout", lambda *_: out.__setitem__("checked out", out["checked out"] + 1))
    event.listen(engine, "checkin", lambda *_: out.__setitem__("checked in", out["checked in"] + 1))

    acks = as_in_a_server(
        lambda: [socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True) for _ in range(25)]
    )

    assert acks == [{"ok": True, "staff": False, "version": 1, "results_version": None}] * 25
    assert out == {"checked out": 25, "checked in": 25}  # one connection an event, for the user and the stage
    assert engine.pool.checkedout() == 0


def test_a_socket_event_builds_urls_and_knows_its_socket(app, session, world):
    seen: list[dict] = []

    def report(_data):
        sqlite_write_intent.set(False)  # as every handler: loading the user only reads
        seen.append(
            {
                "sid": flask.request.sid,  # type: ignore[attr-defined]
                "namespace": flask.request.namespace,  # type: ignore[attr-defined]
                "path": flask.url_for("auth.login"),
                "external": flask.url_for("auth.login", _external=True),
                "public": public_url({}, "auth.login"),
                "user": current_user.id,
                "same adapter": flask.request.environ[URL_ADAPTER] is flask.globals.request_ctx.url_adapter,
            }
        )

    socketio.on("report")(report)  # on this app's server only
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    user_id = world["daring"].person.user.id
    session.close()
    as_in_a_server(lambda: [socket.emit("report", {}) for _ in range(2)])

    sid = socketio.server.manager.sid_from_eio_sid(socket.eio_sid, "/")
    expected = {
        "sid": sid,
        "namespace": "/",
        "path": "/login",
        "external": "http://bimtek.test/login",  # the tests' SERVER_NAME
        "public": "http://bimtek.test/login",  # the tests' SERVER_NAME
        "user": user_id,
        "same adapter": True,
    }
    assert seen == [expected, expected]


def test_plain_functions_are_checked_once_and_coroutines_still_wrapped(app):
    def plain():
        return "plain"

    async def coroutine():
        return "coroutine"

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self):
            return "unhashable"

    unhashable = Unhashable()

    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(unhashable) is unhashable
    try:
        wrapped = app.ensure_sync(coroutine)
    except RuntimeError as error:  # asgiref, Flask's "async" extra, is not installed
        assert "async" in str(error)
    else:
        assert wrapped is not coroutine
    assert coroutine not in app._plain_functions
