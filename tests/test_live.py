"""Live Q&A and polls: the socket rules, votes applied once, moderation, results, the HTTP fallbacks."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests import factories
from workshop.auth.models import AuditEntry, Role
from workshop.checkin.models import CheckIn
from workshop.extensions import socketio
from workshop.live import broadcast, services
from workshop.live.models import (
    Poll,
    PollKind,
    PollStatus,
    PollVote,
    Question,
    QuestionStatus,
    ResultsVisibility,
)
from workshop.live.services import PollDraft
from workshop.live.votes import VoteRequest, record_votes
from workshop.programs.models import OrgKind
from workshop.registration import links
from workshop.registration.models import Mode, Status
from workshop.registration.services import ensure_participant_user

NOW = datetime(2021, 6, 24, 3, 0, tzinfo=UTC)  # Kamis, 24 Juni 2021, pukul 10.00 WIB: Tahap I runs


def client_id(label: str) -> str:
    return f"{label}-0123456789abcdef"


@pytest.fixture(autouse=True)
def fixed_clock(set_now):
    set_now(NOW)


@pytest.fixture
def world(session):
    program = factories.program(session, stages=2)
    opd = factories.organization(session, kind=OrgKind.OPD, name="Dinas Kominfo")
    kecamatan = factories.organization(session, kind=OrgKind.KECAMATAN, name="Tarutung")
    desa = factories.organization(session, kind=OrgKind.DESA, name="Hutatoruan I", parent=kecamatan)
    luring = factories.registration(
        session, program, status=Status.APPROVED, mode=Mode.LURING, name="Rina Siregar", org=opd
    )
    daring = factories.registration(
        session, program, status=Status.APPROVED, mode=Mode.DARING, name="Budi Hutabarat", org=desa
    )
    daring.person.position = "Kepala Desa"
    stranger = factories.registration(session, factories.program(session, stages=1), status=Status.APPROVED)
    moderator = factories.staff(session, Role.NARASUMBER)
    session.commit()
    return {
        "program": program,
        "stage": program.stages[0],
        "luring": luring,
        "daring": daring,
        "stranger": stranger,
        "moderator": moderator,
    }


def participant_client(app, session, registration):
    client = app.test_client()
    ensure_participant_user(session, registration.person)
    token = links.issue(registration, app.config["SECRET_KEY"])
    session.commit()
    assert client.post(f"/p/{token}").status_code == 302
    return client


def staff_client(app, user):
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def joined_socket(app, client, stage):
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    ack = socket.emit("join_stage", {"stage_id": stage.id}, callback=True)
    assert ack["ok"] is True
    socket.get_received()
    return socket


def received(socket, name):
    return [message["args"][0] for message in socket.get_received() if message["name"] == name]


def make_poll(session, stage, moderator, kind=PollKind.SINGLE, *, options=("Ya", "Tidak", "Ragu"), **changes):
    draft = PollDraft(
        kind=kind,
        question="Apakah desa Anda sudah punya akses internet?",
        options=list(options) if kind in (PollKind.SINGLE, PollKind.MULTIPLE) else [],
        max_choices=changes.pop("max_choices", 2 if kind == PollKind.MULTIPLE else None),
        scale=changes.pop("scale", 5),
        results_visibility=changes.pop("results_visibility", ResultsVisibility.LIVE),
        allow_change=changes.pop("allow_change", False),
        duration_seconds=changes.pop("duration_seconds", None),
    )
    poll = services.create_poll(session, stage, draft, actor=moderator)
    session.commit()
    return poll


def open_now(session, poll, moderator):
    services.open_poll(session, poll, actor=moderator, now=NOW)
    session.commit()


def votes_of(session, poll):
    return session.execute(
        select(PollVote.registration_id, PollVote.answer)
        .where(PollVote.poll_id == poll.id)
        .order_by(PollVote.id)
    ).all()


# Connecting and joining


def test_a_socket_without_a_logged_in_user_is_refused(app):
    socket = socketio.test_client(app, flask_test_client=app.test_client())
    assert not socket.is_connected()


def test_joining_the_stage_of_another_programme_is_refused(app, session, world):
    client = participant_client(app, session, world["stranger"])
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.emit("join_stage", {"stage_id": world["stage"].id}, callback=True) == {
        "ok": False,
        "error": "forbidden",
    }
    ask = {"stage_id": world["stage"].id, "client_id": client_id("q"), "text": "Boleh ikut?"}
    assert socket.emit("ask", ask, callback=True)["error"] == "forbidden"
    assert session.scalar(select(func.count()).select_from(Question)) == 0


def test_joining_answers_the_versions_a_page_compares_with_the_state_it_fetched(app, session, world):
    """The live page fetches its state at load, then joins: it fetches again only if the join's
    versions (the stage's, and the current poll's results) are newer than what it has."""
    client = participant_client(app, session, world["daring"])
    socket = socketio.test_client(app, flask_test_client=client)
    join = {"stage_id": world["stage"].id}
    assert socket.emit("join_stage", join, callback=True) == {
        "ok": True,
        "staff": False,
        "version": 1,
        "results_version": None,
    }
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    vote = {
        "stage_id": world["stage"].id,
        "client_id": client_id("v"),
        "answer": {"option_ids": [poll.options[0].id]},
    }
    assert client.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=vote).json["ok"] is True
    state = client.get(f"/live/{world['stage'].id}/state").json

    ack = socket.emit("join_stage", join, callback=True)

    assert (ack["version"], ack["results_version"]) == (state["version"], state["poll"]["results"]["version"])
    assert ack["version"] > 1 and ack["results_version"] == 1


def test_logging_out_disconnects_the_users_sockets_and_a_new_one_is_refused(app, session, world):
    client = participant_client(app, session, world["luring"])
    socket = joined_socket(app, client, world["stage"])
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])

    assert client.post("/logout").status_code == 302

    assert not socket.is_connected()
    again = socketio.test_client(app, flask_test_client=client)
    assert not again.is_connected()
    assert votes_of(session, poll) == []


def test_revoking_the_personal_link_disconnects_the_participant(app, session, world):
    client = participant_client(app, session, world["daring"])
    socket = joined_socket(app, client, world["stage"])
    organiser = staff_client(app, factories.staff(session, Role.PANITIA))
    session.commit()

    response = organiser.post(f"/admin/registrations/{world['daring'].id}/link", data={"action": "revoke"})

    assert response.status_code == 302
    assert not socket.is_connected()
    assert not socketio.test_client(app, flask_test_client=client).is_connected()


def test_cancelling_an_approved_registration_disconnects_the_participant(app, session, world):
    client = participant_client(app, session, world["daring"])
    socket = joined_socket(app, client, world["stage"])
    bystander = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    organiser = staff_client(app, factories.staff(session, Role.PANITIA))
    session.commit()

    response = organiser.post(
        f"/admin/programs/{world['program'].id}/registrations/status?one={world['daring'].id}",
        data={"action": "cancel"},
    )

    assert response.status_code == 302
    session.refresh(world["daring"])
    assert world["daring"].status == Status.CANCELLED
    assert not socket.is_connected()
    assert not socketio.test_client(app, flask_test_client=client).is_connected()
    assert client.get(f"/saya/{world['program'].slug}").status_code == 302  # to the login page
    assert bystander.is_connected()


# Votes


def test_a_vote_is_acknowledged_once_and_a_second_vote_is_refused(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    first, second = (option.id for option in poll.options[:2])

    ack = socket.emit(
        "vote",
        {
            "stage_id": world["stage"].id,
            "poll_id": poll.id,
            "client_id": client_id("a"),
            "answer": {"option_ids": [first]},
        },
        callback=True,
    )
    again = socket.emit(
        "vote",
        {
            "stage_id": world["stage"].id,
            "poll_id": poll.id,
            "client_id": client_id("b"),
            "answer": {"option_ids": [second]},
        },
        callback=True,
    )

    assert ack == {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [first]}}
    assert again == {"ok": False, "error": "already_voted", "message": "Anda sudah menjawab polling ini."}
    assert votes_of(session, poll) == [(world["luring"].id, {"option_ids": [first]})]


def test_a_retried_vote_with_the_same_client_id_counts_once_and_gets_the_same_ack(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    client = participant_client(app, session, world["luring"])
    socket = joined_socket(app, client, world["stage"])
    option = poll.options[2].id
    payload = {
        "stage_id": world["stage"].id,
        "poll_id": poll.id,
        "client_id": client_id("retry"),
        "answer": {"option_ids": [option]},
    }

    over_socket = socket.emit("vote", payload, callback=True)
    over_socket_again = socket.emit("vote", payload, callback=True)
    over_http = client.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=payload)

    expected = {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [option]}}
    assert over_socket == over_socket_again == expected
    assert over_http.status_code == 200 and over_http.get_json() == expected
    assert votes_of(session, poll) == [(world["luring"].id, {"option_ids": [option]})]


def test_a_socket_whose_session_ended_in_another_process_cannot_vote(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    user = ensure_participant_user(session, world["luring"].person)
    user.session_epoch += 1  # the link was revoked by a process that does not hold this socket
    session.commit()

    ack = socket.emit(
        "vote",
        {
            "stage_id": world["stage"].id,
            "poll_id": poll.id,
            "client_id": client_id("stale"),
            "answer": {"option_ids": [poll.options[0].id]},
        },
        callback=True,
    )

    assert ack["error"] == "forbidden"
    assert votes_of(session, poll) == []


def test_a_vote_may_change_while_the_poll_is_open_when_the_poll_allows_it(app, session, world):
    poll = make_poll(
        session, world["stage"], world["moderator"], PollKind.RATING, scale=10, allow_change=True
    )
    open_now(session, poll, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["daring"]), world["stage"])
    base = {"stage_id": world["stage"].id, "poll_id": poll.id}

    socket.emit("vote", base | {"client_id": client_id("r1"), "answer": {"rating": 3}}, callback=True)
    ack = socket.emit("vote", base | {"client_id": client_id("r2"), "answer": {"rating": 9}}, callback=True)

    assert ack == {"ok": True, "poll_id": poll.id, "answer": {"rating": 9}}
    assert votes_of(session, poll) == [(world["daring"].id, {"rating": 9})]


def test_votes_on_a_closed_or_unopened_poll_are_refused_with_the_reason(app, session, world):
    draft = make_poll(session, world["stage"], world["moderator"])
    closed = make_poll(session, world["stage"], world["moderator"])
    open_now(session, closed, world["moderator"])
    services.close_poll(session, closed, actor=world["moderator"], now=NOW)
    session.commit()
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])

    def vote(poll, label):
        payload = {"stage_id": world["stage"].id, "poll_id": poll.id, "client_id": client_id(label)}
        return socket.emit("vote", payload | {"answer": {"option_ids": [poll.options[0].id]}}, callback=True)

    assert vote(closed, "c") == {
        "ok": False,
        "error": "poll_closed",
        "message": "Polling ini sudah ditutup; jawaban tidak diterima lagi.",
    }
    assert vote(draft, "d")["error"] == "poll_not_open"
    assert votes_of(session, closed) == votes_of(session, draft) == []


def test_a_poll_whose_countdown_ran_out_refuses_votes_and_is_shown_closed(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"], duration_seconds=30)
    services.open_poll(session, poll, actor=world["moderator"], now=NOW - timedelta(seconds=31))
    session.commit()
    client = participant_client(app, session, world["luring"])

    response = client.post(
        f"/live/{world['stage'].id}/polls/{poll.id}/vote",
        json={"client_id": client_id("late"), "answer": {"option_ids": [poll.options[0].id]}},
    )

    assert response.status_code == 409 and response.get_json()["error"] == "poll_closed"
    assert client.get(f"/live/{world['stage'].id}/state").get_json()["poll"]["status"] == "closed"


@pytest.mark.parametrize(
    ("kind", "answer"),
    [
        (PollKind.SINGLE, {"option_ids": []}),
        (PollKind.SINGLE, {"option_ids": [1, 2]}),
        (PollKind.SINGLE, {"option_ids": ["1"]}),
        (PollKind.MULTIPLE, {"option_ids": [1, 2, 3]}),  # more than max_choices=2
        (PollKind.RATING, {"rating": 6}),
        (PollKind.RATING, {"rating": True}),
        (PollKind.WORDCLOUD, {"words": "cctv"}),
        (PollKind.TEXT, {"text": 5}),
        (PollKind.TEXT, "ya"),
    ],
)
def test_malformed_answers_are_refused_and_store_nothing(app, session, world, kind, answer):
    poll = make_poll(session, world["stage"], world["moderator"], kind)
    open_now(session, poll, world["moderator"])
    if isinstance(answer, dict) and "option_ids" in answer:  # refer to this poll's real option ids
        ids = [option.id for option in poll.options]
        answer = {
            "option_ids": [ids[value - 1] if type(value) is int else value for value in answer["option_ids"]]
        }
    client = participant_client(app, session, world["luring"])

    response = client.post(
        f"/live/{world['stage'].id}/polls/{poll.id}/vote",
        json={"client_id": client_id("bad"), "answer": answer},
    )

    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False,
        "error": "invalid",
        "message": "Jawaban ini tidak sah. Periksa lalu kirim lagi.",
    }
    assert votes_of(session, poll) == []


def test_a_vote_needs_a_client_id_and_a_poll_of_the_same_stage(app, session, world):
    other_stage_poll = make_poll(session, world["program"].stages[1], world["moderator"])
    open_now(session, other_stage_poll, world["moderator"])
    client = participant_client(app, session, world["luring"])
    answer = {"option_ids": [other_stage_poll.options[0].id]}

    no_id = client.post(
        f"/live/{world['stage'].id}/polls/{other_stage_poll.id}/vote", json={"answer": answer}
    )
    wrong_stage = client.post(
        f"/live/{world['stage'].id}/polls/{other_stage_poll.id}/vote",
        json={"client_id": client_id("x"), "answer": answer},
    )

    assert no_id.status_code == 400 and no_id.get_json()["error"] == "invalid"
    assert wrong_stage.status_code == 404 and wrong_stage.get_json()["error"] == "unknown_poll"
    assert votes_of(session, other_stage_poll) == []


def test_a_batch_of_votes_is_written_in_one_go_with_one_reply_each(session, world):
    poll = make_poll(session, world["stage"], world["moderator"], PollKind.MULTIPLE)
    open_now(session, poll, world["moderator"])
    luring, daring = world["luring"], world["daring"]
    users = {r.id: ensure_participant_user(session, r.person) for r in (luring, daring)}
    session.commit()
    user_of = {registration_id: user.id for registration_id, user in users.items()}
    a, b, c = (option.id for option in poll.options)
    stage_id = world["stage"].id

    def request(registration, label, option_ids):
        answer = {"option_ids": option_ids}
        return VoteRequest(
            user_of[registration.id], 0, registration.id, stage_id, poll.id, client_id(label), answer, NOW
        )

    replies = record_votes(
        session,
        [
            request(luring, "l1", [c, a]),
            request(luring, "l1", [c, a]),  # the same vote twice in one batch
            request(daring, "d1", [b]),
            request(daring, "d2", [a]),  # a second vote, not allowed to change
            request(daring, "d3", [a, b, c]),  # too many choices
        ],
        NOW,
    )

    assert replies == [
        {"ok": True, "poll_id": poll.id, "answer": {"option_ids": sorted([a, c])}},
        {"ok": True, "poll_id": poll.id, "answer": {"option_ids": sorted([a, c])}},
        {"ok": True, "poll_id": poll.id, "answer": {"option_ids": [b]}},
        {"ok": False, "error": "already_voted", "status": 409},
        {"ok": False, "error": "invalid", "status": 400},
    ]
    assert votes_of(session, poll) == [
        (luring.id, {"option_ids": sorted([a, c])}),
        (daring.id, {"option_ids": [b]}),
    ]
    assert session.get(Poll, poll.id).results_version == 1


# Results


def test_results_count_each_answer_split_by_mode_and_kind_and_who_of_those_present_answered(
    app, session, world
):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    yes, no, _unsure = (option.id for option in poll.options)
    present_without_vote = factories.registration(session, world["program"], status=Status.APPROVED)
    for registration in (world["luring"], present_without_vote):
        session.add(
            CheckIn(
                registration=registration, stage=world["stage"], day=NOW.date(), scanned_at=NOW, desk="Meja 1"
            )
        )
    session.commit()
    staff_socket = joined_socket(app, staff_client(app, world["moderator"]), world["stage"])
    for registration, option, label in ((world["luring"], yes, "l"), (world["daring"], yes, "d")):
        client = participant_client(app, session, registration)
        body = {"client_id": client_id(label), "answer": {"option_ids": [option]}}
        assert client.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=body).status_code == 200

    results = received(staff_socket, "poll_results")[-1]["results"]

    assert results["version"] == 2
    assert results["total"] == 2
    assert (results["present"], results["answered_present"]) == (2, 1)
    assert [(bar["label"], bar["count"], bar["luring"], bar["daring"]) for bar in results["bars"]] == [
        ("Ya", 2, 1, 1),
        ("Tidak", 0, 0, 0),
        ("Ragu", 0, 0, 0),
    ]
    assert results["bars"][0]["by_kind"] == {"desa": 1, "opd": 1}
    assert results["groups"] == {"luring": 1, "daring": 1, "by_kind": {"desa": 1, "opd": 1}}
    assert no not in {int(bar["key"]) for bar in results["bars"] if bar["count"]}


def test_a_daring_voter_with_the_live_page_open_is_present_for_the_poll_summary_and_the_staff(
    app, session, world, set_now
):
    """The issue's "1 dari 1 hadir sudah menjawab · Total 2 jawaban": the online voter was not
    counted as present. The live page now sends the presence heartbeat as the participant page
    does, and one definition of "present now" serves every count."""
    set_now(NOW)
    stage = world["stage"]
    poll = make_poll(session, stage, world["moderator"])
    open_now(session, poll, world["moderator"])
    yes = poll.options[0].id
    session.add(
        CheckIn(registration=world["luring"], stage=stage, day=NOW.date(), scanned_at=NOW, desk="Meja 1")
    )
    session.commit()
    moderator = staff_client(app, world["moderator"])
    staff_socket = joined_socket(app, moderator, stage)
    for registration, label in ((world["daring"], "d"), (world["luring"], "l")):
        participant = participant_client(app, session, registration)
        page = participant.get(f"/live/{stage.id}").get_data(as_text=True)
        presence = re.search(r"<p class=\"presence-note\" data-presence [^>]*>", page).group(0)
        url = re.search(r'data-url="([^"]+)"', presence).group(1)  # its HTTP fallback
        assert participant.post(url, json={"nonce": f"heartbeat-{label}"}).get_json() == {"ok": True}
        body = {"client_id": client_id(label), "answer": {"option_ids": [yes]}}
        assert participant.post(f"/live/{stage.id}/polls/{poll.id}/vote", json=body).status_code == 200

    results = received(staff_socket, "poll_results")[-1]["results"]
    counts = moderator.get(f"/live/{stage.id}/state").get_json()["counts"]

    assert (results["total"], results["present"], results["answered_present"]) == (2, 2, 2)
    # The hall participant with the live page open counts once, in the hall.
    assert (counts["present"], counts["checked_in"], counts["online_now"]) == (2, 1, 1)


def test_word_cloud_answers_are_normalised_and_counted(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"], PollKind.WORDCLOUD)
    open_now(session, poll, world["moderator"])
    for registration, words, label in (
        (world["luring"], ["  Smart   City", "CCTV", "cctv"], "l"),
        (world["daring"], ["smart city", "Internet Desa"], "d"),
    ):
        client = participant_client(app, session, registration)
        body = {"client_id": client_id(label), "answer": {"words": words}}
        assert client.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=body).status_code == 200

    state = staff_client(app, world["moderator"]).get(f"/live/{world['stage'].id}/state").get_json()

    assert state["poll"]["results"]["words"] == [
        {"text": "smart city", "count": 2},
        {"text": "cctv", "count": 1},
        {"text": "internet desa", "count": 1},
    ]


def test_results_visibility_after_close_and_hidden(app, session, world):
    after_close = make_poll(
        session, world["stage"], world["moderator"], results_visibility=ResultsVisibility.AFTER_CLOSE
    )
    open_now(session, after_close, world["moderator"])
    participant = participant_client(app, session, world["luring"])
    staff = staff_client(app, world["moderator"])
    state_url = f"/live/{world['stage'].id}/state"

    assert participant.get(state_url).get_json()["poll"]["results"] is None
    assert staff.get(state_url).get_json()["poll"]["results"]["total"] == 0
    services.close_poll(session, after_close, actor=world["moderator"], now=NOW)
    session.commit()
    assert participant.get(state_url).get_json()["poll"]["results"]["total"] == 0

    hidden = make_poll(
        session, world["stage"], world["moderator"], results_visibility=ResultsVisibility.HIDDEN
    )
    open_now(session, hidden, world["moderator"])
    services.close_poll(session, hidden, actor=world["moderator"], now=NOW)
    session.commit()
    assert participant.get(state_url).get_json()["poll"]["results"] is None
    assert staff.get(state_url).get_json()["poll"]["results"]["poll_id"] == hidden.id


def test_opening_a_poll_closes_the_open_one_and_shows_the_new_one(app, session, world):
    first = make_poll(session, world["stage"], world["moderator"])
    second = make_poll(session, world["stage"], world["moderator"])
    staff = staff_client(app, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])

    for poll in (first, second):
        response = staff.post(f"/live/{world['stage'].id}/polls/{poll.id}/open", json={})
        assert response.get_json() == {"ok": True, "poll_id": poll.id, "status": "open"}

    session.expire_all()
    assert (session.get(Poll, first.id).status, session.get(Poll, second.id).status) == (
        PollStatus.CLOSED,
        PollStatus.OPEN,
    )
    states = received(socket, "live_state")
    assert [state["poll"]["id"] for state in states] == [first.id, second.id]
    assert states[-1]["version"] > states[0]["version"]
    assert states[-1]["mine"] is None


# Questions and moderation


def test_pending_questions_are_shown_to_moderators_only_until_approved(app, session, world):
    stage = world["stage"]
    asker_client = participant_client(app, session, world["daring"])
    asker = joined_socket(app, asker_client, stage)
    other = joined_socket(app, participant_client(app, session, world["luring"]), stage)
    moderator = joined_socket(app, staff_client(app, world["moderator"]), stage)

    ack = asker.emit(
        "ask",
        {"stage_id": stage.id, "client_id": client_id("q"), "text": "Kapan internet masuk desa?"},
        callback=True,
    )

    assert ack["ok"] is True and ack["question"]["status"] == "pending"
    question_id = ack["question"]["id"]
    assert received(other, "live_state")[-1]["questions"] == []
    staff_view = received(moderator, "live_staff_state")[-1]["questions"]
    assert [(q["text"], q["status"], q["author"]) for q in staff_view] == [
        (
            "Kapan internet masuk desa?",
            "pending",
            {"name": "Budi Hutabarat", "affiliation": "Kepala Desa, Hutatoruan I, Kec. Tarutung"},
        )
    ]
    other_http = participant_client(app, session, world["luring"]).get(f"/live/{stage.id}/state").get_json()
    assert other_http["questions"] == []
    mine = asker_client.get(f"/live/{stage.id}/state").get_json()["mine"]["questions"]
    assert mine == [
        {"id": question_id, "text": "Kapan internet masuk desa?", "status": "pending", "reason": ""}
    ]

    approved = moderator.emit(
        "moderate",
        {"stage_id": stage.id, "client_id": client_id("m"), "question_id": question_id, "action": "approve"},
        callback=True,
    )

    assert approved["ok"] is True
    shown = received(other, "live_state")[-1]["questions"]
    assert [(q["id"], q["status"], q["author"]["name"]) for q in shown] == [
        (question_id, "approved", "Budi Hutabarat")
    ]
    assert received(asker, "mine_changed") == [{"stage_id": stage.id}]
    assert session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == f"question:{question_id}")
    ).all() == ["question.approve"]


def test_an_anonymous_question_hides_the_asker_from_participants_but_not_from_moderators(app, session, world):
    stage = world["stage"]
    services.live_stage(session, stage.id).questions_moderated = False
    session.commit()
    asker = participant_client(app, session, world["daring"])
    body = {"client_id": client_id("anon"), "text": "Anggaran kami kecil, bagaimana?", "anonymous": True}
    assert asker.post(f"/live/{stage.id}/questions", json=body).status_code == 200

    participant_view = (
        participant_client(app, session, world["luring"]).get(f"/live/{stage.id}/state").get_json()
    )
    staff_view = staff_client(app, world["moderator"]).get(f"/live/{stage.id}/state").get_json()

    assert [(q["status"], q["anonymous"], q["author"]) for q in participant_view["questions"]] == [
        ("approved", True, None)
    ]
    assert staff_view["questions"][0]["author"]["name"] == "Budi Hutabarat"


def test_a_dismissed_question_shows_its_reason_to_the_asker_only(app, session, world):
    stage = world["stage"]
    asker = participant_client(app, session, world["luring"])
    question_id = asker.post(
        f"/live/{stage.id}/questions", json={"client_id": client_id("d"), "text": "Jual pulsa murah"}
    ).get_json()["question"]["id"]
    moderator = staff_client(app, world["moderator"])

    response = moderator.post(
        f"/live/{stage.id}/questions/{question_id}/moderate",
        json={"client_id": client_id("dm"), "action": "dismiss", "reason": "Di luar topik"},
    )

    assert response.status_code == 200
    assert asker.get(f"/live/{stage.id}/state").get_json()["mine"]["questions"] == [
        {"id": question_id, "text": "Jual pulsa murah", "status": "dismissed", "reason": "Di luar topik"}
    ]
    other = participant_client(app, session, world["daring"]).get(f"/live/{stage.id}/state").get_json()
    assert other["questions"] == []
    assert session.get(Question, question_id).status == QuestionStatus.DISMISSED


def test_participants_cannot_moderate(app, session, world):
    stage = world["stage"]
    client = participant_client(app, session, world["luring"])
    question_id = client.post(
        f"/live/{stage.id}/questions", json={"client_id": client_id("own"), "text": "Pertanyaan saya"}
    ).get_json()["question"]["id"]
    socket = joined_socket(app, client, stage)

    ack = socket.emit(
        "moderate",
        {
            "stage_id": stage.id,
            "client_id": client_id("self"),
            "question_id": question_id,
            "action": "approve",
        },
        callback=True,
    )

    assert (ack["error"], ack["message"]) == (
        "moderators_only",
        "Hanya narasumber dan panitia yang dapat melakukan ini.",
    )
    assert session.get(Question, question_id).status == QuestionStatus.PENDING


def test_an_upvote_counts_once_and_never_for_ones_own_question(app, session, world):
    stage = world["stage"]
    services.live_stage(session, stage.id).questions_moderated = False
    session.commit()
    asker = participant_client(app, session, world["daring"])
    question_id = asker.post(
        f"/live/{stage.id}/questions",
        json={"client_id": client_id("up"), "text": "Siapa yang melatih operator?"},
    ).get_json()["question"]["id"]
    voter = joined_socket(app, participant_client(app, session, world["luring"]), stage)
    payload = {"stage_id": stage.id, "question_id": question_id}

    first = voter.emit("upvote", payload | {"client_id": client_id("u1")}, callback=True)
    second = voter.emit("upvote", payload | {"client_id": client_id("u2")}, callback=True)
    own = asker.post(f"/live/{stage.id}/questions/{question_id}/upvote", json={"client_id": client_id("u3")})

    assert first == second == {"ok": True, "question_id": question_id, "upvotes": 1}
    assert own.status_code == 409 and own.get_json()["error"] == "own_question"
    assert session.get(Question, question_id).upvotes == 1


def test_a_retried_question_is_stored_once(app, session, world):
    stage = world["stage"]
    client = participant_client(app, session, world["luring"])
    body = {"client_id": client_id("same"), "text": "Apakah ada sertifikat?"}

    replies = [client.post(f"/live/{stage.id}/questions", json=body).get_json() for _ in range(2)]

    assert replies[0] == replies[1]
    assert session.scalar(select(func.count()).select_from(Question)) == 1


def test_questions_are_rate_limited_per_person_with_a_clear_message(app, session, world):
    stage = world["stage"]
    client = participant_client(app, session, world["luring"])

    statuses = [
        client.post(
            f"/live/{stage.id}/questions", json={"client_id": client_id(f"r{n}"), "text": f"Pertanyaan {n}"}
        )
        for n in range(4)
    ]

    assert [response.status_code for response in statuses] == [200, 200, 200, 429]
    assert statuses[-1].get_json() == {
        "ok": False,
        "error": "rate_limited",
        "message": "Anda mengirim pertanyaan terlalu cepat. Tunggu satu menit.",
    }
    assert session.scalar(select(func.count()).select_from(Question)) == 3


@pytest.mark.parametrize(
    ("text", "error"), [("", "empty"), ("   ", "empty"), ("x" * 281, "too_long"), (None, "empty")]
)
def test_empty_and_overlong_questions_are_refused(app, session, world, text, error):
    client = participant_client(app, session, world["luring"])
    response = client.post(
        f"/live/{world['stage'].id}/questions", json={"client_id": client_id("t"), "text": text}
    )
    assert response.status_code == 400 and response.get_json()["error"] == error
    assert session.scalar(select(func.count()).select_from(Question)) == 0


def test_a_question_of_280_characters_is_accepted_in_english_too(app, session, world):
    client = participant_client(app, session, world["luring"])
    client.post("/language/en", data={"next": "/"})
    response = client.post(
        f"/live/{world['stage'].id}/questions", json={"client_id": client_id("en"), "text": "y" * 280}
    )
    too_fast = [
        client.post(
            f"/live/{world['stage'].id}/questions", json={"client_id": client_id(f"e{n}"), "text": "z"}
        )
        for n in range(3)
    ][-1]

    assert response.status_code == 200
    assert too_fast.get_json()["message"] == "You are sending questions too quickly. Please wait a minute."


# Polls, pages and exports


def test_a_facilitator_prepares_a_draft_and_edits_it_until_it_opens(app, session, world):
    staff = staff_client(app, world["moderator"])
    stage = world["stage"]
    form = {
        "question": "Prioritas smart city?",
        "kind": "multiple",
        "options": "Smart governance\nSmart economy\n\nSmart living\n",
        "max_choices": "2",
        "scale": "5",
        "results_visibility": "after_close",
        "duration_seconds": "60",
    }

    assert staff.post(f"/live/{stage.id}/polls/new", data=form).status_code == 302
    poll = session.scalars(select(Poll)).one()
    assert (poll.kind, poll.max_choices, poll.duration_seconds, poll.status) == (
        PollKind.MULTIPLE,
        2,
        60,
        PollStatus.DRAFT,
    )
    assert [option.label for option in poll.options] == ["Smart governance", "Smart economy", "Smart living"]

    edited = staff.post(f"/live/polls/{poll.id}/edit", data=form | {"options": "A\nB"})
    assert edited.status_code == 302
    staff.post(f"/live/{stage.id}/polls/{poll.id}/open")
    refused = staff.post(f"/live/polls/{poll.id}/edit", data=form | {"options": "C\nD"})

    session.expire_all()
    poll = session.get(Poll, poll.id)
    assert refused.status_code == 302
    assert [option.label for option in poll.options] == ["A", "B"]
    assert poll.closes_at == NOW + timedelta(seconds=60)


def test_a_poll_form_with_too_few_options_keeps_what_was_typed_and_says_why(app, session, world):
    staff = staff_client(app, world["moderator"])
    response = staff.post(
        f"/live/{world['stage'].id}/polls/new",
        data={
            "question": "Satu opsi saja?",
            "kind": "single",
            "options": "Hanya ini",
            "scale": "5",
            "results_visibility": "live",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Berikan 2 sampai 12 opsi, satu per baris." in page
    assert "Satu opsi saja?" in page
    assert session.scalar(select(func.count()).select_from(Poll)) == 0


def test_the_results_export_lists_each_answer_with_its_person(app, session, world):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    for registration, index, label in ((world["luring"], 0, "l"), (world["daring"], 2, "d")):
        client = participant_client(app, session, registration)
        body = {"client_id": client_id(label), "answer": {"option_ids": [poll.options[index].id]}}
        client.post(f"/live/{world['stage'].id}/polls/{poll.id}/vote", json=body)
    organiser = factories.staff(session, Role.PANITIA)  # voters' names: organisers only
    session.commit()
    staff = staff_client(app, organiser)

    csv_response = staff.get(f"/live/polls/{poll.id}/results.csv")
    xlsx_response = staff.get(f"/live/polls/{poll.id}/results.xlsx")

    assert csv_response.headers.getlist("Content-Type") == ["text/csv; charset=utf-8"]  # one charset
    assert (
        csv_response.headers["Content-Disposition"]
        == f"attachment; filename=polling-{world['stage'].id}-{poll.id}.csv"
    )
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Nama", "Jabatan", "Instansi", "Jenis", "Moda", "Jawaban", "Waktu"],
        [
            "Budi Hutabarat",
            "Kepala Desa",
            "Hutatoruan I, Kec. Tarutung",
            "Desa/Kelurahan",
            "Daring",
            "Ragu",
            "2021-06-24 10:00:00",
        ],
        [
            "Rina Siregar",
            "Kepala Bidang",
            "Dinas Kominfo",
            "Perangkat daerah (OPD)",
            "Luring",
            "Ya",
            "2021-06-24 10:00:00",
        ],
    ]
    book = load_workbook(io.BytesIO(xlsx_response.data))
    assert [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()] == rows
    summary = [[cell.value for cell in row][:4] for row in book.worksheets[1].iter_rows(min_row=4, max_row=7)]
    assert summary == [
        ["Jawaban", "Jumlah", "Luring", "Daring"],
        ["Ya", 1, 1, 0],
        ["Tidak", 0, 0, 0],
        ["Ragu", 1, 0, 1],
    ]


def test_the_participant_page_and_the_projector_render_for_their_people(app, session, world):
    stage = world["stage"]
    participant = participant_client(app, session, world["luring"])
    staff = staff_client(app, world["moderator"])

    assert participant.get(f"/live/{stage.id}").status_code == 200
    assert participant.get(f"/live/{stage.id}/control").status_code == 403
    projector = staff.get(f"/live/{stage.id}/projector")
    assert projector.status_code == 200
    # The address people type, on one line: without the scheme (the QR code carries the whole URL).
    assert f'data-testid="join-url" data-fit-line>bimtek.test/live/{stage.id}</p>' in projector.get_data(
        as_text=True
    )
    stranger = participant_client(app, session, world["stranger"])
    assert stranger.get(f"/live/{stage.id}").status_code == 403
    assert stranger.get(f"/live/{stage.id}/state").status_code == 403


def test_the_vote_batcher_writes_votes_that_wait_together_and_answers_each_its_own(app):
    import gevent
    from gevent.event import Event

    from workshop.live.votes import VoteBatcher

    batches = []
    commit_done = Event()

    def write(requests):
        batches.append([request.client_id for request in requests])
        if len(batches) == 1:
            commit_done.wait(5)  # a slow commit: the votes arriving meanwhile form the next batch
        return [{"ok": True, "client": request.client_id} for request in requests]

    batcher = VoteBatcher(socketio, write)
    requests = [VoteRequest(1, 0, n, 1, 1, client_id(f"v{n:02d}"), {}, NOW) for n in range(30)]

    first = [gevent.spawn(batcher.submit, request) for request in requests[:20]]
    gevent.sleep(0.01)  # the first 20 wait; the batcher writes them
    later = [gevent.spawn(batcher.submit, request) for request in requests[20:]]
    gevent.sleep(0.01)  # the other 10 wait while the first batch commits
    commit_done.set()
    gevent.joinall(first + later, timeout=5)

    assert [greenlet.value for greenlet in first + later] == [
        {"ok": True, "client": r.client_id} for r in requests
    ]
    assert [len(batch) for batch in batches] == [20, 10]


def test_in_a_burst_the_vote_batcher_waits_a_moment_for_more_votes_and_a_lone_vote_goes_at_once(
    app, monkeypatch
):
    import gevent

    from workshop.live import votes
    from workshop.live.votes import VoteBatcher

    monkeypatch.setattr(votes, "BURST_GATHER", 0.5)
    batches, waits = [], []

    class RecordingSocketIO:
        server = socketio.server
        start_background_task = staticmethod(socketio.start_background_task)

        @staticmethod
        def sleep(seconds):
            waits.append(seconds)
            gevent.sleep(seconds)

    def write(requests):
        batches.append([request.client_id for request in requests])
        return [{"ok": True, "client": request.client_id} for request in requests]

    batcher = VoteBatcher(RecordingSocketIO, write)
    alone, first, second = (VoteRequest(1, 0, n, 1, 1, client_id(f"b{n:02d}"), {}, NOW) for n in range(3))

    assert batcher.submit(alone) == {"ok": True, "client": alone.client_id}
    assert waits == []  # nothing written just before: no wait
    voters = [gevent.spawn(batcher.submit, first)]
    gevent.sleep(0.05)  # the batcher waits for more: this vote joins the batch
    voters.append(gevent.spawn(batcher.submit, second))
    gevent.joinall(voters, timeout=5)

    assert [voter.value for voter in voters] == [
        {"ok": True, "client": first.client_id},
        {"ok": True, "client": second.client_id},
    ]
    assert batches == [[alone.client_id], [first.client_id, second.client_id]]
    assert waits == [0.5]


def test_the_staff_state_of_what_changed_here_lately_goes_to_moderators_again(app, session, world, set_now):
    stage = world["stage"]
    participant = joined_socket(app, participant_client(app, session, world["luring"]), stage)
    moderator = joined_socket(app, staff_client(app, world["moderator"]), stage)
    hub = broadcast.Broadcaster(app)
    hub.interval, hub.task = 0.3, "running"  # as in the server, with the timer driven by hand
    hub.last_resync = NOW

    hub.stage_changed(stage.id)  # at 0 s: a question came in, pending (no version moves)
    sent = []
    for seconds in (0.3, 1, 6, 7, 200):  # the change, nothing, a resync, nothing, too old by then
        set_now(NOW + timedelta(seconds=seconds))
        hub.flush()
        sent.append((len(received(participant, "live_state")), len(received(moderator, "live_staff_state"))))

    assert sent == [(1, 1), (0, 0), (0, 1), (0, 0), (0, 0)]


def test_a_public_change_another_process_made_reaches_the_pages_at_the_next_resync(
    app, session, world, set_now
):
    stage = world["stage"]
    services.live_stage(session, stage.id)
    session.commit()
    socket = joined_socket(app, participant_client(app, session, world["luring"]), stage)
    hub = broadcast.Broadcaster(app)
    hub.interval, hub.task, hub.last_resync = 0.3, "running", NOW

    sent = []
    for seconds in (6, 7, 12, 18):  # a resync (notes the version), nothing, a resync, another
        set_now(NOW + timedelta(seconds=seconds))
        if seconds == 7:
            services.bump_version(session, stage.id)  # committed by a process that died at once
            session.commit()
        hub.flush()
        sent.append([state["version"] for state in received(socket, "live_state")])

    assert sent == [[], [], [2], []]


def test_each_tick_sends_the_results_that_moved_in_the_database_once(app, session, world, set_now):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    daring = world["daring"]
    socket = joined_socket(app, participant_client(app, session, daring), world["stage"])
    user = ensure_participant_user(session, daring.person)
    hub = broadcast.Broadcaster(app)  # this process takes no vote: it is told of none
    hub.interval, hub.task, hub.last_resync = 0.3, "running", NOW
    set_now(NOW + timedelta(seconds=1))
    answer = {"option_ids": [poll.options[1].id]}
    vote = VoteRequest(
        user.id, user.session_epoch, daring.id, world["stage"].id, poll.id, client_id("v"), answer, NOW
    )

    hub.flush()  # the first tick sends what the page may have missed
    hub.flush()
    assert record_votes(session, [vote], NOW)[0]["ok"] is True  # in another process
    hub.flush()
    hub.flush()

    assert [
        (message["results"]["version"], message["results"]["total"])
        for message in received(socket, "poll_results")
    ] == [(0, 0), (1, 1)]


def test_the_tally_of_an_open_poll_is_broadcast_again_whichever_process_took_the_votes(
    app, session, world, set_now
):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    socket = joined_socket(app, participant_client(app, session, world["luring"]), world["stage"])
    hub = broadcast.Broadcaster(app)  # this process took no vote: it marked nothing
    hub.interval, hub.task, hub.last_resync = 0.3, "running", NOW
    set_now(NOW + timedelta(seconds=6))

    hub.flush()

    assert [message["poll_id"] for message in received(socket, "poll_results")] == [poll.id]
