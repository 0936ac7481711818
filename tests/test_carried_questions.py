"""Questions carried to the next stage (issue 17): when Tahap I ends, its approved questions not
answered, and those the moderator marked "bahas di tahap berikutnya", go to Tahap II's queue with
their asker, upvotes and origin, exactly once; the askers are told; each question's fate is
queryable for the activity report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests import test_live
from tests.test_live import NOW, client_id, participant_client, staff_client
from workshop import signals
from workshop.auth.models import AuditEntry
from workshop.db import utcnow
from workshop.live import carry, services
from workshop.live.models import Question, QuestionStatus, QuestionUpvote
from workshop.live.queries import Fate, question_fates
from workshop.reminders import services as reminders
from workshop.reminders.models import Delivery, Kind, OutboxMessage

world = test_live.world
fixed_clock = test_live.fixed_clock


def ask(app, session, registration, stage, text, label):
    client = participant_client(app, session, registration)
    reply = client.post(f"/live/{stage.id}/questions", json={"client_id": client_id(label), "text": text})
    assert reply.status_code == 200, reply.get_json()
    return reply.get_json()["question"]["id"], client


@pytest.fixture
def asked(app, session, world):
    """Tahap I: one approved question with an upvote, one marked for the next stage while pending,
    one answered, one dismissed and one still pending."""
    stage, moderator = world["stage"], world["moderator"]
    staff = staff_client(app, moderator)
    ids = {}
    for label, text, registration in (
        ("open", "Kapan jaringan fiber sampai ke desa?", world["daring"]),
        ("marked", "Bagaimana anggaran CCTV dibagi?", world["luring"]),
        ("answered", "Siapa pengelola aplikasi?", world["daring"]),
        ("dismissed", "Pertanyaan ganda", world["luring"]),
        ("pending", "Belum dimoderasi", world["daring"]),
    ):
        ids[label], _client = ask(app, session, registration, stage, text, label)
    for label, action in (
        ("open", "approve"),
        ("marked", "carry"),
        ("answered", "answered"),
        ("dismissed", "dismiss"),
    ):
        body = {"client_id": client_id(f"m-{label}"), "action": action}
        reply = staff.post(f"/live/{stage.id}/questions/{ids[label]}/moderate", json=body)
        assert reply.get_json()["ok"] is True, reply.get_json()
    supporter = participant_client(app, session, world["luring"])
    body = {"client_id": client_id("up")}
    assert supporter.post(f"/live/{stage.id}/questions/{ids['open']}/upvote", json=body).status_code == 200
    return ids


def after_tahap_i(world, set_now):
    set_now(world["stage"].ends_at + timedelta(minutes=1))


def carried_rows(session, stage):
    session.expire_all()
    return session.execute(
        select(
            Question.carried_from_id,
            Question.text,
            Question.registration_id,
            Question.upvotes,
            Question.status,
        )
        .where(Question.stage_id == stage.id)
        .order_by(Question.carried_from_id)
    ).all()


def test_the_marked_question_is_shown_and_flagged_until_the_stage_ends(app, session, world, asked):
    question = session.get(Question, asked["marked"])
    assert (question.status, question.carry_over) == (QuestionStatus.APPROVED, True)
    state = staff_client(app, world["moderator"]).get(f"/live/{world['stage'].id}/state").get_json()
    marked = next(item for item in state["questions"] if item["id"] == asked["marked"])
    assert (marked["carry_over"], marked["origin"]) == (True, None)
    # Still Tahap I: nothing is carried yet.
    assert carried_rows(session, world["program"].stages[1]) == []


def test_the_first_page_of_the_next_stage_carries_the_open_questions_once_and_tells_the_askers(
    app, session, world, asked, set_now
):
    tahap_ii = world["program"].stages[1]
    after_tahap_i(world, set_now)
    staff = staff_client(app, world["moderator"])

    assert staff.get(f"/live/{tahap_ii.id}/control").status_code == 200
    assert staff.get(f"/live/{tahap_ii.id}/projector").status_code == 200  # a second read: no more

    assert carried_rows(session, tahap_ii) == [
        (
            asked["open"],
            "Kapan jaringan fiber sampai ke desa?",
            world["daring"].id,
            1,
            QuestionStatus.APPROVED,
        ),
        (asked["marked"], "Bagaimana anggaran CCTV dibagi?", world["luring"].id, 0, QuestionStatus.APPROVED),
    ]
    copy = session.scalar(select(Question).where(Question.carried_from_id == asked["open"]))
    assert session.scalars(
        select(QuestionUpvote.registration_id).where(QuestionUpvote.question_id == copy.id)
    ).all() == [world["luring"].id]
    deliveries = session.execute(
        select(Delivery.registration_id, Delivery.channel, Delivery.stage_id)
        .where(Delivery.kind == Kind.QUESTION_CARRIED)
        .order_by(Delivery.registration_id, Delivery.channel)
    ).all()
    assert deliveries == sorted(
        (registration.id, channel, tahap_ii.id)
        for registration in (world["luring"], world["daring"])
        for channel in ("email", "whatsapp")
    )
    # The askers are told: the engine sends it like any participant message (dev outbox here).
    assert reminders.drain(session, app.config, clock=utcnow).sent == 4
    outbox = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to == world["daring"].person.phone)
    ).one()
    assert outbox.subject == f"Pertanyaan Anda dilanjutkan di tahap berikutnya: {world['program'].title}"
    assert (
        f"Pertanyaan Anda di {world['program'].title} belum sempat dijawab pada tahapnya: pertanyaan itu "
        "dibawa ke tahap berikutnya, dan narasumber melihatnya lebih dulu."
    ) in outbox.text
    # Each asker's own question is quoted, and only theirs.
    assert "“Kapan jaringan fiber sampai ke desa?”" in outbox.text
    assert "Bagaimana anggaran CCTV dibagi?" not in outbox.text
    luring = session.scalars(
        select(OutboxMessage).where(OutboxMessage.to == world["luring"].person.email)
    ).one()
    assert "“Bagaimana anggaran CCTV dibagi?”" in luring.text
    assert "Kapan jaringan fiber" not in luring.text
    # The next stage's pages: the carried questions first, with where they come from.
    state = staff.get(f"/live/{tahap_ii.id}/state").get_json()
    assert [(item["text"], item["origin"]) for item in state["questions"]] == [
        ("Kapan jaringan fiber sampai ke desa?", "I"),
        ("Bagaimana anggaran CCTV dibagi?", "I"),
    ]
    tahap_i = staff.get(f"/live/{world['stage'].id}/state").get_json()["questions"]
    assert {item["text"]: item["carried_to"] for item in tahap_i} == {
        "Kapan jaringan fiber sampai ke desa?": "II",
        "Bagaimana anggaran CCTV dibagi?": "II",
        "Siapa pengelola aplikasi?": None,
        "Pertanyaan ganda": None,
        "Belum dimoderasi": None,
    }
    participant = participant_client(app, session, world["daring"])
    shown = participant.get(f"/live/{tahap_ii.id}/state").get_json()["questions"]
    assert [item["origin"] for item in shown] == ["I", "I"]
    assert shown[1]["author"] == {"name": "Rina Siregar", "affiliation": "Kepala Bidang, Dinas Kominfo"}


def test_the_reminder_tick_carries_them_and_a_page_read_after_it_adds_nothing(
    app, session, world, asked, set_now
):
    tahap_ii = world["program"].stages[1]
    after_tahap_i(world, set_now)

    for minutes in (1, 2):
        answers = signals.reminders_due.send(
            session=session, now=world["stage"].ends_at + timedelta(minutes=minutes)
        )
        session.commit()
        assert sum(count for receiver, count in answers if receiver is carry._on_due) == (
            4 if minutes == 1 else 0
        )
    staff_client(app, world["moderator"]).get(f"/live/{tahap_ii.id}/control")

    assert [row[0] for row in carried_rows(session, tahap_ii)] == [asked["open"], asked["marked"]]
    assert (
        session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.kind == Kind.QUESTION_CARRIED)
        )
        == 4
    )


def test_a_question_is_carried_once_even_when_a_second_process_tries_at_the_same_moment(
    app, session, world, asked, set_now
):
    """The second process read the same open questions before the first committed: its insert of a
    copy fails on the unique carried_from_id, and it rolls back whole."""
    tahap_ii = world["program"].stages[1]
    later = world["stage"].ends_at + timedelta(minutes=1)
    carried = carry.carry(session, world["stage"], now=later)
    session.commit()
    assert len(carried.questions) == 2
    original = session.get(Question, asked["open"])
    session.add(
        Question(
            stage_id=tahap_ii.id,
            registration_id=original.registration_id,
            text=original.text,
            status=QuestionStatus.APPROVED,
            carried_from_id=original.id,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert carry.carry(session, world["stage"], now=later) is None
    assert len(carried_rows(session, tahap_ii)) == 2


def test_each_question_of_a_stage_has_its_fate_for_the_activity_report(app, session, world, asked, set_now):
    tahap_ii = world["program"].stages[1]
    after_tahap_i(world, set_now)
    staff_client(app, world["moderator"]).get(f"/live/{tahap_ii.id}/control")

    fates = question_fates(session, world["stage"].id)

    assert [
        (fate.question.text, fate.fate, fate.carried_to and fate.carried_to.number) for fate in fates
    ] == [
        ("Kapan jaringan fiber sampai ke desa?", Fate.CARRIED, "II"),
        ("Bagaimana anggaran CCTV dibagi?", Fate.CARRIED, "II"),
        ("Siapa pengelola aplikasi?", Fate.ANSWERED, None),
        ("Pertanyaan ganda", Fate.DISMISSED, None),
        ("Belum dimoderasi", Fate.PENDING, None),
    ]
    next_stage = question_fates(session, tahap_ii.id)
    assert [(fate.fate, fate.carried_from.number) for fate in next_stage] == [
        (Fate.OPEN, "I"),
        (Fate.OPEN, "I"),
    ]


def test_the_last_stage_cannot_carry_a_question_and_says_why(app, session, world):
    last = world["program"].stages[1]
    question = services.ask(
        session, last, world["daring"], "Pertanyaan di tahap terakhir", anonymous=False, now=NOW, per_minute=5
    )
    session.commit()
    staff = staff_client(app, world["moderator"])

    reply = staff.post(
        f"/live/{last.id}/questions/{question.id}/moderate",
        json={"client_id": client_id("last"), "action": "carry"},
    )

    assert reply.status_code == 409
    assert (
        reply.get_json()["message"]
        == "Ini tahap terakhir: tidak ada tahap berikutnya untuk membawa pertanyaan ini."
    )
    session.expire_all()
    assert (session.get(Question, question.id).carry_over, session.get(Question, question.id).status) == (
        False,
        QuestionStatus.PENDING,
    )


def test_a_stage_that_has_not_ended_carries_nothing(app, session, world, asked):
    assert carry.carry(session, world["stage"], now=NOW) is None
    assert carried_rows(session, world["program"].stages[1]) == []


def test_the_mark_can_be_taken_back_and_the_question_stays_shown(app, session, world, asked):
    staff = staff_client(app, world["moderator"])
    url = f"/live/{world['stage'].id}/questions/{asked['marked']}/moderate"

    reply = staff.post(url, json={"client_id": client_id("unmark"), "action": "uncarry"})

    assert reply.status_code == 200, reply.get_json()
    session.expire_all()
    question = session.get(Question, asked["marked"])
    assert (question.status, question.carry_over) == (QuestionStatus.APPROVED, False)
    state = staff.get(f"/live/{world['stage'].id}/state").get_json()
    assert next(item for item in state["questions"] if item["id"] == asked["marked"])["carry_over"] is False
    assert session.scalars(
        select(AuditEntry.action).where(AuditEntry.subject == f"question:{asked['marked']}")
    ).all() == ["question.carry", "question.uncarry"]
    # A question that is not marked has no mark to take back.
    again = staff.post(url, json={"client_id": client_id("unmark-again"), "action": "uncarry"})
    assert (again.status_code, again.get_json()["message"]) == (
        400,
        "Jawaban ini tidak sah. Periksa lalu kirim lagi.",
    )


def test_a_long_question_is_quoted_shortened_at_a_word():
    question = (
        "Bagaimana desa dengan sinyal lemah, seperti di Kecamatan Pahae Julu, bisa ikut rapat daring " * 3
    )
    quoted = carry.quote(question.strip())
    assert quoted == (
        "“Bagaimana desa dengan sinyal lemah, seperti di Kecamatan Pahae Julu, bisa ikut rapat daring "
        "Bagaimana desa dengan…”"
    )
    assert len(quoted) <= carry.QUOTE_LENGTH + 2
    assert carry.quote("Kapan?") == "“Kapan?”"
