"""A socket event's objects go as soon as the event ends (issue 15: memory per participant): its
request context leaves no reference cycle behind for the garbage collector, which the server runs
seldom (workshop/serving.py), so thousands of votes do not leave thousands of contexts behind."""

from __future__ import annotations

import gc

from flask.ctx import RequestContext
from werkzeug.exceptions import NotFound

from tests import test_live
from tests.test_live import client_id, joined_socket, make_poll, open_now, participant_client, votes_of

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock


def _left_for_the_collector(action) -> tuple[object, list]:
    """What `action()` returned, and the request contexts and routing errors that only the garbage
    collector would have freed after it."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = action()
        gc.collect()
        left = [item for item in gc.garbage if isinstance(item, RequestContext | NotFound)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return result, left


def test_a_vote_over_the_socket_leaves_no_request_context_behind(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    answer = {"option_ids": [poll.options[0].id]}
    vote = {"stage_id": world["stage"].id, "poll_id": poll.id, "client_id": client_id("a"), "answer": answer}

    ack, left = _left_for_the_collector(lambda: socket.emit("vote", vote, callback=True))

    assert ack == {"ok": True, "poll_id": poll.id, "answer": answer}
    assert left == []
    assert votes_of(session, poll) == [(world["daring"].id, answer)]


def test_joining_a_stage_leaves_no_request_context_behind(app, session, world):
    client = participant_client(app, session, world["luring"])

    socket, left = _left_for_the_collector(lambda: joined_socket(app, client, world["stage"]))

    assert socket.is_connected()
    assert left == []


def test_a_page_that_matches_no_route_is_still_a_404(app):
    response = app.test_client().get("/no-such-page")

    assert response.status_code == 404


def test_a_socket_waits_under_no_wsgi_layer_called_as_an_object(app):
    """Each connected socket's greenlet waits under the app's WSGI layers, and gevent keeps a copy
    of its C stack: calling a layer object nests a C call, calling its bound __call__ does not."""
    from flask import Flask

    from workshop.assets import StaticFiles
    from workshop.extensions import socketio

    static_files = app.wsgi_app.__self__
    sockets = static_files.application.__self__

    assert app.wsgi_app == static_files.__call__
    assert isinstance(static_files, StaticFiles)
    assert sockets is socketio.sockio_mw
    assert sockets.wsgi_app.__func__ is Flask.wsgi_app
    assert sockets.wsgi_app.__self__ is app


def test_behind_a_proxy_its_layer_is_outermost_and_gives_the_clients_address(app):
    from werkzeug.middleware.proxy_fix import ProxyFix

    from workshop import create_app

    behind_proxy = create_app(dict(app.config, PROXY_FIX_HOPS=1))

    @behind_proxy.route("/address")
    def address():
        from flask import request

        return request.remote_addr or ""

    response = behind_proxy.test_client().get("/address", headers={"X-Forwarded-For": "203.0.113.7"})

    assert isinstance(behind_proxy.wsgi_app.__self__, ProxyFix)
    assert (
        behind_proxy.wsgi_app.__self__.app.__self__.application.__self__
        is behind_proxy.extensions["socketio"].sockio_mw
    )
    assert response.get_data(as_text=True) == "203.0.113.7"
