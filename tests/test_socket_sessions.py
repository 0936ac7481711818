"""A staff socket keeps nothing its account lost: a session ended elsewhere (another device, another
process) or a role taken away is checked again when the socket joins a stage or moderates, and
the socket leaves the rooms it may no longer hear. Refusals say the right reason."""

from __future__ import annotations

import time

import flask
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from itsdangerous import BadSignature
from sqlalchemy import select

from tests import factories, test_live
from tests.test_live import client_id, joined_socket, participant_client, received, staff_client
from workshop.auth.models import Role, User
from workshop.extensions import socketio
from workshop.live.models import Question

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock


def _ask(app, session, world, label: str) -> None:
    """A participant asks; with moderation on, only the moderator room hears of it."""
    client = participant_client(app, session, world["luring"])
    answer = client.post(
        f"/live/{world['stage'].id}/questions",
        json={"client_id": client_id(label), "text": "Kapan Tahap II?"},
    )
    assert answer.status_code == 200


def _moderate(socket, world, label: str) -> dict:
    question_id = 1
    payload = {"stage_id": world["stage"].id, "client_id": client_id(label), "question_id": question_id}
    return socket.emit("moderate", {**payload, "action": "approve"}, callback=True)


def test_a_moderator_logged_out_elsewhere_is_dropped_at_its_next_moderation(app, session, world):
    moderator = joined_socket(app, staff_client(app, world["moderator"]), world["stage"])
    _ask(app, session, world, "q1")
    assert received(moderator, "live_staff_state")  # it hears the moderators' state
    session.get(User, world["moderator"].id).session_epoch += 1  # logged out by another process
    session.commit()

    ack = _moderate(moderator, world, "m1")

    assert ack["error"] == "login_required"
    assert not moderator.is_connected()
    assert session.get(Question, 1).status.value == "pending"


def test_a_moderator_logged_out_elsewhere_cannot_join_again(app, session, world):
    client = staff_client(app, world["moderator"])
    socket = socketio.test_client(app, flask_test_client=client)
    session.get(User, world["moderator"].id).session_epoch += 1
    session.commit()

    ack = socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True)

    assert ack == {"ok": False, "error": "login_required"}
    assert not socket.is_connected()


def test_a_demoted_moderator_leaves_the_moderator_room_and_is_told_why(app, session, world):
    moderator = joined_socket(app, staff_client(app, world["moderator"]), world["stage"])
    session.get(User, world["moderator"].id).role = Role.PETUGAS  # now checks people in only
    session.commit()

    ack = _moderate(moderator, world, "m1")
    _ask(app, session, world, "q1")

    assert (ack["error"], ack["message"]) == (
        "moderators_only",
        "Hanya narasumber dan panitia yang dapat melakukan ini.",
    )
    assert moderator.is_connected()  # still check-in staff
    assert received(moderator, "live_staff_state") == []  # no pending questions, no askers' names


def test_a_demoted_moderator_joining_again_gets_the_staff_room_only(app, session, world):
    client = staff_client(app, world["moderator"])
    socket = socketio.test_client(app, flask_test_client=client)
    session.get(User, world["moderator"].id).role = Role.PETUGAS
    session.commit()

    assert socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True) == {
        "ok": True,
        "staff": True,
        "version": 1,  # the stage's live Q&A and polls (workshop/live/events.py)
        "results_version": None,
    }
    _ask(app, session, world, "q1")

    assert received(socket, "live_staff_state") == []


def test_staff_asking_or_voting_are_told_that_participants_do_that(app, session, world):
    organiser = factories.staff(session, Role.PANITIA)
    session.commit()
    socket = joined_socket(app, staff_client(app, organiser), world["stage"])

    ack = socket.emit(
        "ask", {"stage_id": world["stage"].id, "client_id": client_id("q"), "text": "Tes"}, callback=True
    )

    assert (ack["error"], ack["message"]) == (
        "participants_only",
        "Pertanyaan dan jawaban berasal dari peserta: buka tahap ini dengan tautan pribadi peserta.",
    )


def test_a_participant_socket_whose_session_ended_is_answered_not_left_waiting(app, session, world):
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    user = session.scalar(select(User).where(User.person_id == world["luring"].person_id))
    user.session_epoch += 1  # the link was revoked by another process
    session.commit()

    for event in ("ask", "upvote"):
        payload = {
            "stage_id": world["stage"].id,
            "client_id": client_id(event),
            "text": "Tes",
            "question_id": 1,
        }
        assert socket.emit(event, payload, callback=True)["error"] == "login_required"


def test_a_socket_whose_session_cookie_expired_since_it_connected_cannot_join_again(app, session, world):
    """A socket's events read its cookie once (workshop/sessions.py), and still refuse it once it is
    older than the session lifetime, as reading it again would."""
    socket = joined_socket(app, staff_client(app, world["moderator"]), world["stage"])
    lifetime = app.permanent_session_lifetime.total_seconds()
    app.session_interface.wall_clock = lambda: time.time() + lifetime + 60

    ack = socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True)

    assert ack == {"ok": False, "error": "login_required"}
    assert not socket.is_connected()


def test_each_event_of_a_socket_gets_its_own_copy_of_the_session(app, world):
    client = staff_client(app, world["moderator"])
    environ = client.get("/").request.environ  # one environ, as a socket's events share its handshake's
    with app.request_context(environ):
        flask.session["_fresh"] = "changed in one event"
        user_id = flask.session["_user_id"]
    with app.request_context(environ):
        assert flask.session["_user_id"] == user_id
        assert flask.session["_fresh"] is True  # as the login wrote it


def test_each_event_of_a_socket_gets_its_own_copy_of_a_list_in_the_session(app, world):
    client = staff_client(app, world["moderator"])
    with client.session_transaction() as cookie_session:
        cookie_session["picked"] = ["Tahap I"]
    environ = client.get("/").request.environ
    with app.request_context(environ):
        flask.session["picked"].append("changed in one event")
    with app.request_context(environ):
        assert flask.session["picked"] == ["Tahap I"]


@pytest.mark.filterwarnings("ignore:The 'session' cookie is too large")  # werkzeug's, for the long ones
def test_a_socket_connects_only_with_a_cookie_the_app_signed_and_the_real_one_goes_on(app, world):
    """Each socket reads its own cookie once (workshop/sessions.py, which keeps verified cookies per
    process): a cookie cut, extended or replaced connects no one unless its signature holds. It
    holds only where itsdangerous reads the same signed bytes: it skips what is not ASCII, so the
    real cookie with "\x80" after it is the real cookie, not a forgery."""
    domain = app.config["SERVER_NAME"]
    moderator = staff_client(app, world["moderator"])
    real = moderator.get_cookie("session", domain=domain).value
    serializer = app.session_interface.get_signing_serializer(app)

    @settings(max_examples=60, deadline=None)
    @given(
        cut=st.integers(min_value=0, max_value=len(real)),
        tail=st.one_of(st.text(max_size=40), st.text(max_size=20_000), st.just("\x00\x1f\x7f" * 3000)),
    )
    def only_a_signed_cookie_connects(cut: int, tail: str) -> None:
        forged = real[:cut] + tail
        try:
            signed = serializer.loads(forged) == serializer.loads(real)
        except BadSignature:
            signed = False
        stranger = app.test_client()
        stranger.set_cookie("session", forged, domain=domain)
        socket = socketio.test_client(app, flask_test_client=stranger)
        assert socket.is_connected() == signed
        joined_socket(app, moderator, world["stage"]).disconnect()

    only_a_signed_cookie_connects()
    assert serializer.loads(real + "\x80") == serializer.loads(real)  # as the docstring says
