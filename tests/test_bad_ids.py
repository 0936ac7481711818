"""Ids that can never name a row (beyond 2^31-1, "1e20", negative, not ASCII digits) are refused
where they enter: a 404 for routes, an error ack or a 4xx for payloads, "no filter" for query
strings; and one bad vote in a batch never fails the votes written with it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests import factories, test_live
from tests.test_live import (
    NOW,
    client_id,
    joined_socket,
    make_poll,
    open_now,
    participant_client,
    staff_client,
    votes_of,
)
from workshop.auth.models import Role
from workshop.ids import MAX_ID, id_from_text, valid_id
from workshop.live.models import Question
from workshop.live.votes import VoteRequest, record_votes
from workshop.registration.services import ensure_participant_user

world = test_live.world  # the live tests' programme, people and moderator
fixed_clock = test_live.fixed_clock  # autouse: their clock

HUGE = 10**20  # what the issue sent: Python int too large to convert to SQLite INTEGER
BEYOND = 2**31  # one past the largest INTEGER of PostgreSQL


def test_only_whole_numbers_from_1_to_2_63_minus_1_are_ids():
    assert [valid_id(value) for value in (1, MAX_ID)] == [1, MAX_ID]
    assert [valid_id(value) for value in (0, -1, BEYOND, HUGE, True, 1.0, "1", None)] == [None] * 8
    assert [id_from_text(text) for text in ("12", "0012", str(MAX_ID))] == [12, 12, MAX_ID]
    bad = ("", "0", "-1", "1e20", str(BEYOND), "²", "١٢", " 12", "12 ", "0x1f", "9" * 5000, "0" * 5000, None)
    assert [id_from_text(text) for text in bad] == [None] * len(bad)


@pytest.mark.parametrize("route_id", [str(HUGE), str(BEYOND), "1e20", "0", "-1", "²"])
def test_route_ids_that_cannot_name_a_row_are_404_for_every_route(app, session, login, client, route_id):
    login(factories.staff(session, Role.ADMIN))
    for path in (
        f"/live/{route_id}/control",
        f"/admin/registrations/{route_id}/ticket.png",
        f"/admin/programs/{route_id}/registrations",
        f"/live/polls/{route_id}/results.xlsx",
        f"/live/polls/{route_id}/hall.csv",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/live/1/polls/{route_id}/vote", json={}).status_code == 404


@pytest.mark.parametrize("key", ["%00", "a%00b", "%1B", "%7F", "%C2%85"])
def test_a_slug_or_code_with_a_control_character_is_404_on_every_database(app, session, login, client, key):
    login(factories.staff(session, Role.ADMIN))
    for path in (f"/verifikasi/{key}", f"/saya/{key}", f"/saya/{key}/sertifikat.pdf", f"/daftar/{key}"):
        response = client.get(path)
        assert response.status_code == 404, path  # PostgreSQL refused the NUL: a 500
        assert "Halaman tidak ditemukan" in response.get_data(as_text=True)


def test_no_two_routes_with_an_id_share_a_path(app):
    """Werkzeug matches a path before it converts the id: when two rules share a path (one per
    method), an id out of range on one of them answers 405 "use the other method" instead of 404."""
    paths = [rule.rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]
    assert sorted(path for path in set(paths) if paths.count(path) > 1) == []
    assert app.test_client().get(f"/admin/programs/{HUGE}/sertifikat/logo").status_code == 404


def test_the_largest_id_is_a_normal_unknown_row(app, session, login, client):
    login(factories.staff(session, Role.ADMIN))
    assert client.get(f"/live/{MAX_ID}/control").status_code == 404
    assert client.get(f"/admin/programs/{MAX_ID}/registrations").status_code == 404


def test_query_string_ids_out_of_range_are_ignored_not_a_server_error(app, session, login, client):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=1)
    factories.registration(session, program, name="Rina Siregar")
    session.commit()
    for value in (str(HUGE), "²", "-3"):
        page = client.get(f"/admin/programs/{program.id}/registrations?kecamatan={value}&page={value}")
        assert page.status_code == 200
        assert "Rina Siregar" in page.get_data(as_text=True)  # no filter: everyone is listed
        report = client.get(f"/admin/programs/{program.id}/attendance?kecamatan={value}")
        assert report.status_code == 200
    stage = program.stages[0]
    preview = client.get(f"/admin/stages/{stage.id}/reminders/preview?registration_id={HUGE}&rule_id=²")
    assert preview.status_code == 302  # "choose a participant to preview", back to the stage's log
    assert client.get(preview.headers["Location"]).status_code == 200


def test_a_page_number_past_the_end_shows_the_last_page(app, session, login, client):
    login(factories.staff(session, Role.PANITIA))
    program = factories.program(session, stages=1)
    factories.registration(session, program, name="Rina Siregar")
    session.commit()
    page = client.get(f"/admin/programs/{program.id}/registrations?page={MAX_ID}")
    assert page.status_code == 200
    assert "Rina Siregar" in page.get_data(as_text=True)


def test_socket_events_with_ids_out_of_range_get_an_error_ack(app, session, world):
    stage = world["stage"]
    client = participant_client(app, session, world["luring"])
    socket = joined_socket(app, client, stage)
    for bad in (HUGE, BEYOND, -1, 0):
        assert socket.emit("join_stage", {"stage_id": bad}, callback=True) == {
            "ok": False,
            "error": "unknown_stage",
        }
        ask = {"stage_id": bad, "client_id": client_id("q"), "text": "Kapan Tahap II?"}
        assert socket.emit("ask", ask, callback=True)["error"] == "unknown_stage"
        upvote = {"stage_id": stage.id, "client_id": client_id(f"u{bad}"), "question_id": bad}
        assert socket.emit("upvote", upvote, callback=True)["error"] == "unknown_question"
        vote = {"stage_id": stage.id, "poll_id": bad, "client_id": client_id("v"), "answer": {}}
        assert socket.emit("vote", vote, callback=True)["error"] == "invalid"
        vote = {"stage_id": bad, "poll_id": 1, "client_id": client_id("v"), "answer": {}}
        assert socket.emit("vote", vote, callback=True)["error"] == "invalid"
        presence = {"stage_id": bad, "nonce": "n-0123456789abcdef"}
        assert socket.emit("presence", presence, callback=True) == {"ok": False, "error": "unknown_stage"}
    # still connected, and a valid request is answered
    ask = {"stage_id": stage.id, "client_id": client_id("ok"), "text": "Kapan Tahap II?"}
    assert socket.emit("ask", ask, callback=True)["ok"] is True


def test_a_moderator_socket_with_a_question_id_out_of_range_gets_an_error_ack(app, session, world):
    staff = staff_client(app, world["moderator"])
    socket = joined_socket(app, staff, world["stage"])
    payload = {
        "stage_id": world["stage"].id,
        "client_id": client_id("m"),
        "question_id": HUGE,
        "action": "approve",
    }
    assert socket.emit("moderate", payload, callback=True)["error"] == "unknown_question"
    assert session.scalar(select(func.count()).select_from(Question)) == 0


def test_one_vote_the_database_cannot_store_fails_alone_and_its_batch_is_written(session, world):
    """The issue's trial: 10 valid votes and one whose poll id overflows, in one batch."""
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    open_now(session, poll, world["moderator"])
    program = world["program"]
    voters = [world["luring"], world["daring"]]
    voters += [factories.registration(session, program, status=world["luring"].status) for _ in range(8)]
    users = {
        registration.id: ensure_participant_user(session, registration.person) for registration in voters
    }
    session.commit()
    option = poll.options[0].id

    def request(registration, poll_id, label):
        user = users[registration.id]
        answer = {"option_ids": [option]}
        return VoteRequest(user.id, 0, registration.id, stage.id, poll_id, client_id(label), answer, NOW)

    requests = [request(registration, poll.id, f"v{index}") for index, registration in enumerate(voters)]
    requests.insert(4, request(voters[0], HUGE, "overflow"))

    replies = record_votes(session, requests, NOW)

    ok = {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [option]}}
    assert replies == [ok] * 4 + [{"ok": False, "error": "server_error", "status": 500}] + [ok] * 6
    assert sorted(registration_id for registration_id, _answer in votes_of(session, poll)) == sorted(
        registration.id for registration in voters
    )
