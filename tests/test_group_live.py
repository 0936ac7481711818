"""Group Q&A and polls: a question or poll may belong to a group of the stage; its members ask,
upvote and vote there, and anyone else is refused (socket and HTTP alike) with a translated
error, nothing changed. The live pages get the groups for their filter and the member's own."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.test_live import (  # noqa: F401 (fixed_clock: autouse)
    NOW,
    client_id,
    fixed_clock,
    joined_socket,
    make_poll,
    open_now,
    participant_client,
    received,
    staff_client,
    votes_of,
)
from workshop.auth.models import Role
from workshop.groups import services as groups
from workshop.groups.models import GroupMode
from workshop.live import services
from workshop.live.models import Poll, Question, QuestionStatus
from workshop.registration.models import Mode, Person, Registration, Status

REFUSAL = "Ini milik kelompok lain: hanya anggotanya yang dapat ikut."


@pytest.fixture
def world(app, session):
    program = factories.program(session, stages=1)
    stage = program.stages[0]
    member = factories.registration(
        session, program, status=Status.APPROVED, mode=Mode.LURING, name="Anggota"
    )
    online = factories.registration(session, program, status=Status.APPROVED, mode=Mode.DARING, name="Daring")
    outsider = factories.registration(session, program, status=Status.APPROVED, name="Bukan Anggota")
    moderator = factories.staff(session, Role.NARASUMBER)
    groups.set_up(
        session, stage, dimensions=["economy", "living"], mode=GroupMode.ORGANISER, cap=None, actor=None
    )
    economy, living = groups.groups_of(session, stage.id)
    groups.assign(
        session, stage, {member.id: economy.id, online.id: economy.id, outsider.id: living.id}, actor=None
    )
    session.commit()
    return {
        "stage": stage,
        "economy": economy,
        "living": living,
        "moderator": moderator,
        "member": participant_client(app, session, member),
        "online": participant_client(app, session, online),
        "outsider": participant_client(app, session, outsider),
    }


def _questions(session) -> int:
    return session.scalar(select(func.count()).select_from(Question))


def test_a_member_asks_in_the_group_and_the_snapshot_says_which(app, session, world):
    stage, economy = world["stage"], world["economy"]
    response = world["member"].post(
        f"/live/{stage.id}/questions",
        json={
            "client_id": client_id("ask"),
            "text": "Kapan data harga pasar dibuka?",
            "group_id": economy.id,
        },
    )
    assert response.status_code == 200
    question = session.scalars(select(Question)).one()
    assert question.group_id == economy.id
    state = staff_client(app, world["moderator"]).get(f"/live/{stage.id}/state").json
    assert [(q["text"], q["group_id"]) for q in state["questions"]] == [
        ("Kapan data harga pasar dibuka?", economy.id)
    ]


def test_asking_into_another_group_is_refused_over_http_and_socket(app, session, world):
    stage, economy = world["stage"], world["economy"]
    body = {"client_id": client_id("ask"), "text": "Boleh ikut?", "group_id": economy.id}

    response = world["outsider"].post(f"/live/{stage.id}/questions", json=body)
    socket = joined_socket(app, world["outsider"], stage)
    ack = socket.emit("ask", {**body, "stage_id": stage.id, "client_id": client_id("ask2")}, callback=True)
    forged = world["member"].post(
        f"/live/{stage.id}/questions",
        json={**body, "client_id": client_id("ask3"), "group_id": str(economy.id)},
    )

    assert response.status_code == 403
    assert response.json == {"ok": False, "error": "not_in_group", "message": REFUSAL}
    assert ack == {"ok": False, "error": "not_in_group", "message": REFUSAL}
    assert forged.status_code == 403
    assert _questions(session) == 0


def test_only_members_upvote_a_group_question(app, session, world):
    stage, economy = world["stage"], world["economy"]
    asked = (
        world["member"]
        .post(
            f"/live/{stage.id}/questions",
            json={"client_id": client_id("ask"), "text": "Siapa operator datanya?", "group_id": economy.id},
        )
        .json["question"]
    )

    services.moderate(session, stage, asked["id"], "approve", None, actor=world["moderator"], now=NOW)
    session.commit()

    refused = world["outsider"].post(
        f"/live/{stage.id}/questions/{asked['id']}/upvote", json={"client_id": client_id("up1")}
    )
    accepted = world["online"].post(
        f"/live/{stage.id}/questions/{asked['id']}/upvote", json={"client_id": client_id("up2")}
    )

    assert refused.status_code == 403 and refused.json["message"] == REFUSAL
    assert accepted.status_code == 200 and accepted.json["upvotes"] == 1
    session.expire_all()
    assert session.get(Question, asked["id"]).upvotes == 1


def test_only_members_vote_in_a_group_poll_over_http_and_socket(app, session, world):
    stage, economy = world["stage"], world["economy"]
    poll = make_poll(session, stage, world["moderator"])
    poll.group_id = economy.id
    session.commit()
    open_now(session, poll, world["moderator"])
    option = poll.options[0].id

    refused = world["outsider"].post(
        f"/live/{stage.id}/polls/{poll.id}/vote",
        json={"client_id": client_id("v1"), "answer": {"option_ids": [option]}},
    )
    socket = joined_socket(app, world["outsider"], stage)
    ack = socket.emit(
        "vote",
        {
            "stage_id": stage.id,
            "poll_id": poll.id,
            "client_id": client_id("v2"),
            "answer": {"option_ids": [option]},
        },
        callback=True,
    )
    accepted = world["member"].post(
        f"/live/{stage.id}/polls/{poll.id}/vote",
        json={"client_id": client_id("v3"), "answer": {"option_ids": [option]}},
    )

    assert refused.status_code == 403 and refused.json["message"] == REFUSAL
    assert ack == {"ok": False, "error": "not_in_group", "message": REFUSAL}
    assert accepted.status_code == 200
    assert [answer for _registration, answer in votes_of(session, poll)] == [{"option_ids": [option]}]


def test_the_poll_form_offers_the_stage_groups_and_refuses_another(app, session, world):
    stage, economy = world["stage"], world["economy"]
    client = staff_client(app, world["moderator"])
    page = client.get(f"/live/{stage.id}/polls/new")
    assert "Seluruh peserta tahap (pleno)" in page.text and "Smart economy" in page.text
    form = {
        "question": "Prioritas ekonomi?",
        "kind": "single",
        "options": "Pasar\nUMKM",
        "results_visibility": "live",
    }

    bad = client.post(f"/live/{stage.id}/polls/new", data={**form, "group_id": "999"})
    good = client.post(f"/live/{stage.id}/polls/new", data={**form, "group_id": str(economy.id)})

    assert bad.status_code == 200 and "Pilih salah satu pilihan yang tersedia." in bad.text
    assert good.status_code == 302
    assert session.scalars(select(Poll.group_id)).all() == [economy.id]


def test_the_live_pages_know_the_groups_and_the_member_s_own(app, session, world):
    stage, economy = world["stage"], world["economy"]
    page = world["member"].get(f"/live/{stage.id}")
    config = json.loads(page.text.split("data-config='")[1].split("'")[0])
    assert config["group_id"] == economy.id
    assert config["groups"] == {str(economy.id): "Smart economy", str(world["living"].id): "Smart living"}


def test_a_removed_group_s_questions_become_the_whole_stage_s(session, world):
    stage = world["stage"]
    groups.assign(
        session, stage, {r: None for r in groups.members_by_registration(session, stage.id)}, actor=None
    )
    asker = session.scalars(select(Registration).join(Person).where(Person.name == "Anggota")).one()
    question = services.ask(
        session, stage, asker, "Tanya", anonymous=False, now=NOW, per_minute=5, group_id=world["living"].id
    )
    session.commit()
    groups.set_up(session, stage, dimensions=["economy"], mode=GroupMode.ORGANISER, cap=None, actor=None)
    session.commit()
    session.expire_all()
    assert session.get(Question, question.id).group_id is None


def test_a_group_poll_goes_by_whatsapp_to_the_group_s_online_members_only(session, world):
    from workshop.reminders.models import Delivery, Kind
    from workshop.whatsapp import polls as whatsapp_polls

    stage, economy = world["stage"], world["economy"]
    stranger = factories.registration(
        session, stage.program, status=Status.APPROVED, mode=Mode.DARING, name="Lain"
    )
    groups.assign(session, stage, {stranger.id: world["living"].id}, actor=None)
    whatsapp_polls.set_polls_enabled(session, stage, True, NOW)
    for registration in session.scalars(
        select(Registration).where(Registration.program_id == stage.program_id)
    ):  # every participant chose polls by WhatsApp
        whatsapp_polls.set_participant_polls(session, registration, True, NOW)
    poll = make_poll(session, stage, world["moderator"])
    poll.group_id = economy.id
    session.commit()

    sent = whatsapp_polls.send_poll(session, poll, {"id": "Polling", "en": "Poll"}, NOW)
    session.commit()

    assert sent is not None and sent.recipients == 1
    names = session.scalars(
        select(Person.name)
        .join(Registration, Registration.person_id == Person.id)
        .join(Delivery, Delivery.registration_id == Registration.id)
        .where(Delivery.kind == Kind.POLL_QUESTION)
    ).all()
    assert names == ["Daring"]


def _ids(state) -> tuple[set[int], int | None]:
    """The question ids and the poll id a state holds."""
    return {q["id"] for q in state["questions"]}, state["poll"]["id"] if state["poll"] else None


def _last_state(socket) -> dict:
    states = received(socket, "live_state")
    assert states, "no live_state received"
    return states[-1]


def _ask(session, stage, client, text, group_id=None) -> int:
    body = {"client_id": client_id(str(abs(hash(text)))), "text": text}
    if group_id is not None:
        body["group_id"] = group_id
    response = client.post(f"/live/{stage.id}/questions", json=body)
    assert response.status_code == 200, response.json
    return session.scalars(select(Question.id).where(Question.text == text)).one()


def test_a_participant_receives_only_the_plenary_items_and_their_own_group_s(app, session, world):
    stage, economy, living = world["stage"], world["economy"], world["living"]
    program = stage.program
    loner = participant_client(
        app, session, factories.registration(session, program, status=Status.APPROVED, name="Tanpa Kelompok")
    )
    sockets = {
        name: joined_socket(app, client, stage)
        for name, client in [("member", world["member"]), ("outsider", world["outsider"]), ("loner", loner)]
    }
    plenary = _ask(session, stage, loner, "Untuk semua peserta?")
    in_economy = _ask(session, stage, world["member"], "Khusus ekonomi?", economy.id)
    in_living = _ask(session, stage, world["outsider"], "Khusus living?", living.id)
    session.execute(update(Question).values(status=QuestionStatus.APPROVED))  # shown to participants
    poll = make_poll(session, stage, world["moderator"])
    poll.group_id = economy.id
    session.commit()
    moderator = staff_client(app, world["moderator"])
    moderator_socket = joined_socket(app, moderator, stage)
    response = moderator.post(f"/live/{stage.id}/polls/{poll.id}/open", json={})
    assert response.status_code == 200, response.text

    expected = {
        "member": ({plenary, in_economy}, poll.id),
        "outsider": ({plenary, in_living}, None),
        "loner": ({plenary}, None),
    }
    clients = {"member": world["member"], "outsider": world["outsider"], "loner": loner}
    for name, client in clients.items():
        assert _ids(client.get(f"/live/{stage.id}/state").json) == expected[name], name
    for name, socket in sockets.items():
        assert _ids(_last_state(socket)) == expected[name], name
    everything = ({plenary, in_economy, in_living}, poll.id)
    assert _ids(moderator.get(f"/live/{stage.id}/state").json) == everything
    staff_states = received(moderator_socket, "live_staff_state")
    assert _ids(staff_states[-1]) == everything
    # The group poll's results go to its members only.
    option = poll.options[0].id
    voted = world["member"].post(
        f"/live/{stage.id}/polls/{poll.id}/vote",
        json={"client_id": client_id("vote"), "answer": {"option_ids": [option]}},
    )
    assert voted.status_code == 200
    assert [m["poll_id"] for m in received(sockets["member"], "poll_results")] == [poll.id]
    assert received(sockets["outsider"], "poll_results") == []
    assert received(sockets["loner"], "poll_results") == []


def test_a_moved_participant_s_open_page_follows_the_new_group_at_once(app, session, world):
    stage, economy, living = world["stage"], world["economy"], world["living"]
    organiser = factories.staff(session, Role.PANITIA)
    services.live_stage(session, stage.id).questions_moderated = False
    session.commit()
    member_id = session.scalars(select(Registration.id).join(Person).where(Person.name == "Anggota")).one()
    socket = joined_socket(app, world["member"], stage)
    form = {}
    for registration_id, group_id in groups.members_by_registration(session, stage.id).items():
        form[f"r{registration_id}"] = str(group_id)
    form[f"r{member_id}"] = str(living.id)

    response = staff_client(app, organiser).post(f"/admin/stages/{stage.id}/kelompok/anggota", data=form)

    assert response.status_code == 302
    assert received(socket, "group_changed") == [{"stage_id": stage.id, "group_id": living.id}]
    # The page joins again (live_client.js does on group_changed): it is in the new group's room only.
    ack = socket.emit("join_stage", {"stage_id": stage.id}, callback=True)
    assert ack["ok"] is True and ack["group_id"] == living.id
    socket.get_received()
    in_living = _ask(session, stage, world["outsider"], "Khusus living?", living.id)
    assert _ids(_last_state(socket)) == ({in_living}, None)
    in_economy = _ask(session, stage, world["online"], "Khusus ekonomi?", economy.id)
    states = received(socket, "live_state")
    assert len(states) == 1 and _ids(states[0]) == ({in_living}, None)  # one state, without economy's
    assert in_economy not in _ids(world["member"].get(f"/live/{stage.id}/state").json)[0]


def _words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_live_page_s_group_parts_say_the_participant_s_group_as_it_is_now(app, session, world):
    """What the live page draws again after a move (static/js/live.js): the group, its leader, the
    breakout link for who joins online, "ask my group only"; nothing for who is in no group."""
    stage, economy = world["stage"], world["economy"]
    member_id = session.scalars(select(Registration.id).join(Person).where(Person.name == "Anggota")).one()
    groups.update_group(
        session, economy, leader_id=member_id, meeting_url="https://zoom.us/j/5550003333", actor=None
    )
    session.commit()
    path = f"/saya/{stage.program.slug}/kelompok/{stage.id}/langsung"

    online = world["online"].get(path)
    assert online.status_code == 200 and online.headers["Cache-Control"] == "no-store"
    assert _words(online.text) == (
        "Kelompok Anda: Smart economy · ketua: Anggota Masuk ruang diskusi kelompok (breakout) "
        "Hasil kerja kelompok kami Tanya ke kelompok saya saja (Smart economy)"
    )
    assert 'href="https://zoom.us/j/5550003333"' in online.text
    # In the hall: no breakout link.
    assert _words(world["member"].get(path).text) == (
        "Kelompok Anda: Smart economy · ketua: Anggota Hasil kerja kelompok kami "
        "Tanya ke kelompok saya saja (Smart economy)"
    )
    assert _words(world["outsider"].get(path).text) == (
        "Kelompok Anda: Smart living Hasil kerja kelompok kami Tanya ke kelompok saya saja (Smart living)"
    )

    groups.assign(session, stage, {member_id: None}, actor=None)
    session.commit()
    empty = world["member"].get(path)
    assert empty.status_code == 200 and _words(empty.text) == ""
    assert 'data-group-part="card"' in empty.text and 'data-group-part="ask"' in empty.text
    # Another programme's stage, or a programme that is not theirs: not found.
    other = factories.program(session, stages=1)
    session.commit()
    assert (
        world["member"].get(f"/saya/{stage.program.slug}/kelompok/{other.stages[0].id}/langsung").status_code
        == 404
    )
    assert (
        world["member"].get(f"/saya/{other.slug}/kelompok/{other.stages[0].id}/langsung").status_code == 404
    )
