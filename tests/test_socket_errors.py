"""A Socket.IO event whose handler fails unexpectedly (a bug, the database gone) is answered with the
error ack the client knows ({"ok": false, "error": "server_error", "message"} in the user's language:
static/js/live_client.js keeps the action's client id and retries it) instead of no ack at all. What
the event wrote is rolled back, the traceback is logged, and the socket stays connected: its next
event, and a neighbour's, work as before. One handler for every event (workshop/realtime.py).

The HTTP fallbacks of the same actions (a page without a socket posts the same payload) answer a
failure the same way: that reply as JSON, with status 500, rolled back and logged, in the user's
language; a neighbour's request at the same moment is answered as usual."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from tests import serving, test_live
from tests.test_live import client_id, joined_socket, make_poll, open_now, participant_client
from workshop import realtime
from workshop.attendance import services as attendance
from workshop.attendance.models import OnlineEvidence
from workshop.db import db
from workshop.extensions import socketio
from workshop.live import actions
from workshop.live import services as live
from workshop.live.models import ClientAction, PollVote, Question

world = test_live.world
fixed_clock = test_live.fixed_clock  # autouse

SERVER_ERROR_ID = {
    "ok": False,
    "error": "server_error",
    "message": "Terjadi kesalahan di sistem kami. Silakan coba lagi.",
}
SERVER_ERROR_EN = {
    "ok": False,
    "error": "server_error",
    "message": "Something went wrong on our side. Please try again.",
}


class Broken(RuntimeError):
    pass


def after_writing(real):
    """`real`, which writes and flushes, and then a failure no handler expects."""

    def broken(*args, **kwargs):
        real(*args, **kwargs)
        raise Broken("the service failed after writing")

    return broken


def count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def test_a_failing_question_answers_the_error_ack_in_indonesian_writes_nothing_and_stays_connected(
    app, session, world, monkeypatch, caplog
):
    stage = world["stage"]
    socket = joined_socket(app, participant_client(app, session, world["daring"]), stage)
    neighbour = joined_socket(app, participant_client(app, session, world["luring"]), stage)
    monkeypatch.setattr(live, "ask", after_writing(live.ask))

    with caplog.at_level(logging.ERROR, logger="workshop.realtime"):
        ack = socket.emit(
            "ask", {"stage_id": stage.id, "client_id": client_id("broken"), "text": "Kapan?"}, callback=True
        )

    assert ack == SERVER_ERROR_ID
    assert count(session, Question) == 0 and count(session, ClientAction) == 0
    (record,) = [record for record in caplog.records if record.name == "workshop.realtime"]
    assert record.getMessage().startswith("Socket.IO event 'ask' of socket ")
    assert record.exc_info is not None and record.exc_info[0] is Broken
    assert socket.is_connected()

    monkeypatch.undo()
    neighbours = neighbour.emit(
        "ask", {"stage_id": stage.id, "client_id": client_id("tetangga"), "text": "Di mana?"}, callback=True
    )
    retried = socket.emit(
        "ask", {"stage_id": stage.id, "client_id": client_id("broken"), "text": "Kapan?"}, callback=True
    )

    assert neighbours["ok"] is True and neighbours["question"]["text"] == "Di mana?"
    assert (
        retried["ok"] is True and retried["question"]["text"] == "Kapan?"
    )  # the same client id, applied now
    assert sorted(session.scalars(select(Question.text))) == ["Di mana?", "Kapan?"]


def test_a_failing_presence_heartbeat_answers_in_english_for_an_english_session(
    app, session, world, monkeypatch
):
    stage = world["stage"]
    client = participant_client(app, session, world["daring"])
    client.post("/language/en", data={"next": "/"})
    socket = joined_socket(app, client, stage)
    monkeypatch.setattr(attendance, "record_presence", after_writing(attendance.record_presence))

    ack = socket.emit("presence", {"stage_id": stage.id, "nonce": "beat-1"}, callback=True)

    assert ack == SERVER_ERROR_EN
    assert count(session, OnlineEvidence) == 0
    assert socket.is_connected()
    monkeypatch.undo()
    assert socket.emit("presence", {"stage_id": stage.id, "nonce": "beat-2"}, callback=True) == {"ok": True}
    assert session.scalars(select(OnlineEvidence.client_nonce)).all() == ["beat-2"]


def test_a_failing_join_answers_the_error_ack_and_the_next_join_works(app, session, world, monkeypatch):
    stage = world["stage"]
    socket = joined_socket(app, participant_client(app, session, world["daring"]), stage)

    def broken(*_args, **_kwargs):
        raise Broken("versions unreadable")

    monkeypatch.setattr(live, "state_versions", broken)
    assert socket.emit("join_stage", {"stage_id": stage.id}, callback=True) == SERVER_ERROR_ID
    monkeypatch.undo()
    assert socket.emit("join_stage", {"stage_id": stage.id}, callback=True)["ok"] is True
    assert socket.is_connected()


@pytest.mark.parametrize("event", ["vote", "moderate", "upvote"])
def test_every_live_event_answers_the_error_ack_when_its_action_fails(
    app, session, world, monkeypatch, event
):
    stage = world["stage"]
    client = (
        test_live.staff_client(app, world["moderator"])
        if event == "moderate"
        else participant_client(app, session, world["daring"])
    )
    socket = joined_socket(app, client, stage)

    def broken(*_args, **_kwargs):
        raise Broken(f"{event} failed")

    monkeypatch.setattr(actions, event, broken)
    ack = socket.emit(event, {"stage_id": stage.id, "client_id": client_id("x")}, callback=True)

    assert ack == SERVER_ERROR_ID
    assert socket.is_connected()


def test_a_connect_that_fails_is_refused_and_the_next_one_connects(app, session, world, monkeypatch):
    client = participant_client(app, session, world["daring"])

    def broken():
        raise Broken("user unreadable")

    monkeypatch.setattr(realtime, "_socket_user", broken)
    refused = socketio.test_client(app, flask_test_client=client)
    assert not refused.is_connected()
    monkeypatch.undo()
    assert socketio.test_client(app, flask_test_client=client).is_connected()


def test_over_a_real_server_a_failing_question_is_answered_and_the_socket_and_its_neighbour_go_on(
    tmp_path, make_database_url
):
    """`python app.py` (gevent, vote batching): the question table disappears under the server, so
    asking fails in the database. The asker gets the error ack and stays connected; the neighbour's
    vote is stored; once the table is back the asker's retry is stored once. The server logged the
    traceback once, and runs on."""
    with serving.served_with_app(tmp_path, make_database_url("socketerrors")) as (process, url, log, app):
        seeded = serving.seed_live_stage(app, participants=2)
        stage_id, poll_id, option_id = seeded.stage_id, seeded.poll_id, seeded.options[0]
        tokens = seeded.tokens
        browsers = [serving.Participant(url, f"127.3.0.{number}") for number in (2, 3)]
        sockets = []
        try:
            for browser, token in zip(browsers, tokens, strict=True):
                browser.log_in_with_link(token)
                sockets.append(browser.socket(timeout=30))
                assert sockets[-1].emit("join_stage", {"stage_id": stage_id}, timeout=30)[1]["ok"] is True
            asking, voting = sockets

            def table(statement: str) -> None:
                with app.app_context():
                    db.session.execute(text(statement))
                    db.session.commit()
                    db.session.remove()

            question = {"stage_id": stage_id, "client_id": "ask-0123456789abcdef", "text": "Kapan?"}
            table("ALTER TABLE question RENAME TO question_away")
            _, failed = asking.emit("ask", question, timeout=30)
            vote = {"stage_id": stage_id, "poll_id": poll_id, "client_id": "vote-0123456789abcdef"}
            _, voted = voting.emit("vote", vote | {"answer": {"option_ids": [option_id]}}, timeout=30)
            table("ALTER TABLE question_away RENAME TO question")
            _, retried = asking.emit("ask", question, timeout=30)

            assert failed == SERVER_ERROR_ID
            assert voted == {"ok": True, "poll_id": poll_id, "answer": {"option_ids": [option_id]}}
            assert retried["ok"] is True and retried["question"]["text"] == "Kapan?"
            assert not asking.closed.is_set() and not voting.closed.is_set()
            with app.app_context():
                assert db.session.scalars(select(Question.text)).all() == ["Kapan?"]
                assert db.session.scalars(select(PollVote.answer)).all() == [{"option_ids": [option_id]}]
                db.session.remove()
        finally:
            for socket in sockets:
                socket.close()
        assert process.poll() is None
        server_log = log.read_text(errors="replace")
        assert server_log.count("Socket.IO event 'ask' of socket ") == 1, server_log
        assert "Traceback (most recent call last)" in server_log
        assert "no such table: question" in server_log or 'relation "question" does not exist' in server_log


# HTTP fallbacks


def test_a_failing_question_over_http_answers_the_error_in_indonesian_while_a_neighbour_asks(
    app, session, world, monkeypatch, caplog
):
    stage = world["stage"]
    asker = participant_client(app, session, world["daring"])
    neighbour = participant_client(app, session, world["luring"])
    real_ask = live.ask

    def broken_for_one_question(session, stage, registration, text, **kwargs):
        question = real_ask(session, stage, registration, text, **kwargs)
        if text == "Kapan?":
            raise Broken("the service failed after writing")
        return question

    monkeypatch.setattr(live, "ask", broken_for_one_question)
    question = {"client_id": client_id("broken"), "text": "Kapan?"}
    with caplog.at_level(logging.ERROR, logger="workshop.realtime"):
        failed = asker.post(f"/live/{stage.id}/questions", json=question)
    neighbours = neighbour.post(
        f"/live/{stage.id}/questions", json={"client_id": client_id("tetangga"), "text": "Di mana?"}
    )

    assert (failed.status_code, failed.get_json()) == (500, SERVER_ERROR_ID)
    (record,) = [record for record in caplog.records if record.name == "workshop.realtime"]
    assert record.getMessage() == f"HTTP POST /live/{stage.id}/questions failed"
    assert record.exc_info is not None and record.exc_info[0] is Broken
    assert neighbours.status_code == 200 and neighbours.get_json()["question"]["text"] == "Di mana?"
    assert session.scalars(select(Question.text)).all() == ["Di mana?"]
    assert count(session, ClientAction) == 1  # the neighbour's

    monkeypatch.undo()
    retried = asker.post(f"/live/{stage.id}/questions", json=question)
    assert retried.status_code == 200 and retried.get_json()["question"]["text"] == "Kapan?"
    assert sorted(session.scalars(select(Question.text))) == ["Di mana?", "Kapan?"]


def test_a_question_over_http_whose_table_is_gone_answers_the_error_and_a_neighbour_votes(
    app, session, world, caplog
):
    """The database itself fails (the question table renamed away under the app): no service was
    replaced, the request really fails inside SQLAlchemy."""
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    open_now(session, poll, world["moderator"])
    yes = poll.options[0].id
    asker = participant_client(app, session, world["daring"])
    voter = participant_client(app, session, world["luring"])
    question = {"client_id": client_id("tabel"), "text": "Kapan?"}

    def table(statement: str) -> None:
        session.execute(text(statement))
        session.commit()

    table("ALTER TABLE question RENAME TO question_away")
    with caplog.at_level(logging.ERROR, logger="workshop.realtime"):
        failed = asker.post(f"/live/{stage.id}/questions", json=question)
    voted = voter.post(
        f"/live/{stage.id}/polls/{poll.id}/vote",
        json={"client_id": client_id("suara"), "answer": {"option_ids": [yes]}},
    )
    table("ALTER TABLE question_away RENAME TO question")
    retried = asker.post(f"/live/{stage.id}/questions", json=question)

    assert (failed.status_code, failed.get_json()) == (500, SERVER_ERROR_ID)
    (record,) = [record for record in caplog.records if record.name == "workshop.realtime"]
    assert "question" in str(record.exc_info[1])
    assert voted.get_json() == {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [yes]}}
    assert retried.status_code == 200 and retried.get_json()["question"]["text"] == "Kapan?"
    session.expire_all()
    assert session.scalars(select(Question.text)).all() == ["Kapan?"]
    assert session.scalars(select(PollVote.answer)).all() == [{"option_ids": [yes]}]


def test_a_failing_presence_heartbeat_over_http_answers_in_english_for_an_english_session(
    app, session, world, monkeypatch
):
    stage = world["stage"]
    client = participant_client(app, session, world["daring"])
    client.post("/language/en", data={"next": "/"})
    monkeypatch.setattr(attendance, "record_presence", after_writing(attendance.record_presence))

    failed = client.post(f"/api/stages/{stage.id}/presence", json={"nonce": "beat-1"})

    assert (failed.status_code, failed.get_json()) == (500, SERVER_ERROR_EN)
    assert count(session, OnlineEvidence) == 0
    monkeypatch.undo()
    beat = client.post(f"/api/stages/{stage.id}/presence", json={"nonce": "beat-2"})
    assert (beat.status_code, beat.get_json()) == (200, {"ok": True})
    assert session.scalars(select(OnlineEvidence.client_nonce)).all() == ["beat-2"]


@pytest.mark.parametrize("action", ["upvote", "vote", "moderate", "hall_count"])
def test_every_live_http_fallback_answers_the_error_when_its_action_fails_and_refusals_stay_refusals(
    app, session, world, monkeypatch, action
):
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    open_now(session, poll, world["moderator"])
    staff = action in ("moderate", "hall_count")
    client = (
        test_live.staff_client(app, world["moderator"])
        if staff
        else participant_client(app, session, world["daring"])
    )
    path = {
        "upvote": f"/live/{stage.id}/questions/1/upvote",
        "vote": f"/live/{stage.id}/polls/{poll.id}/vote",
        "moderate": f"/live/{stage.id}/questions/1/moderate",
        "hall_count": f"/live/{stage.id}/polls/{poll.id}/hall-count",
    }[action]

    def broken(*_args, **_kwargs):
        raise Broken(f"{action} failed")

    monkeypatch.setattr(actions, action, broken)
    failed = client.post(path, json={"client_id": client_id("x"), "counts": {"1": 3}})
    other_role = (
        participant_client(app, session, world["luring"])
        if staff
        else test_live.staff_client(app, world["moderator"])
    ).post(path, json={})

    assert (failed.status_code, failed.get_json()) == (500, SERVER_ERROR_ID)
    assert other_role.status_code == 403
    assert other_role.get_json() == {
        "error": "forbidden",
        "message": "Anda tidak memiliki akses ke halaman ini",
    }
