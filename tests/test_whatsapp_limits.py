"""What WhatsApp replies keep and how much they answer: numbers nobody registered are answered up to
WHATSAPP_STRANGER_REPLIES_PER_HOUR in any hour (beyond it recorded, not answered); the reminder
engine's tick forgets inbound messages older than WHATSAPP_INBOUND_KEEP_DAYS (a repeat within that
time still counts once); a message's control characters are dropped where it enters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import fakes, test_live
from tests.test_live import NOW, make_poll, open_now, votes_of
from tests.whatsapp_world import configure, fonnte_sent, post_fonnte, send_queued
from workshop.config import ConfigError, from_environment, validate
from workshop.live.models import Question
from workshop.whatsapp.models import InboundMessage

world = test_live.world
fixed_clock = test_live.fixed_clock

BASE = "https://bimtek.example"


@pytest.fixture
def gateway(app):
    with fakes.whatsapp_gateway() as server:
        configure(app, server)
        app.config["PUBLIC_BASE_URL"] = BASE
        yield server


def stranger(number: int) -> str:
    return f"+62813999900{number:02d}"


def outcomes(session) -> list[tuple[str, str]]:
    session.expire_all()
    return list(
        session.execute(
            select(InboundMessage.message_id, InboundMessage.outcome).order_by(InboundMessage.id)
        ).tuples()
    )


def sent_to(session, app, gateway, now) -> list[str]:
    """Send what is queued at `now`; the numbers the gateway got a message for since the last call."""
    before = len(gateway.requests)
    send_queued(session, app, now)
    return sorted(target for target, _text in fonnte_sent(gateway)[before:])


def test_unknown_numbers_are_answered_up_to_the_hourly_cap_then_only_recorded(
    app, session, world, gateway, set_now
):
    app.config["WHATSAPP_STRANGER_REPLIES_PER_HOUR"] = 3
    client = app.test_client()

    for number in range(1, 6):  # five numbers at once: three answered
        assert post_fonnte(client, stranger(number), "halo", f"A-{number}").status_code == 200
    assert sent_to(session, app, gateway, NOW) == [stranger(n).removeprefix("+") for n in (1, 2, 3)]

    almost = NOW + timedelta(minutes=59)  # still within the hour of the first three
    set_now(almost)
    post_fonnte(client, stranger(6), "halo", "B-6")
    post_fonnte(client, stranger(4), "halo lagi", "B-4")  # capped before: still capped
    assert sent_to(session, app, gateway, almost) == []

    later = NOW + timedelta(hours=1, seconds=1)  # the first three are out of the last hour
    set_now(later)
    post_fonnte(client, stranger(4), "halo lagi", "C-4")
    post_fonnte(client, stranger(1), "halo lagi", "C-1")  # answered an hour ago: once a day
    for number in (7, 8, 9):
        post_fonnte(client, stranger(number), "halo", f"C-{number}")
    assert sent_to(session, app, gateway, later) == [stranger(n).removeprefix("+") for n in (4, 7, 8)]

    assert outcomes(session) == [
        ("A-1", "unknown_number"),
        ("A-2", "unknown_number"),
        ("A-3", "unknown_number"),
        ("A-4", "unknown_capped"),
        ("A-5", "unknown_capped"),
        ("B-6", "unknown_capped"),
        ("B-4", "unknown_capped"),
        ("C-4", "unknown_number"),
        ("C-1", "unknown_repeat"),
        ("C-7", "unknown_number"),
        ("C-8", "unknown_number"),
        ("C-9", "unknown_capped"),
    ]


def test_with_a_cap_of_zero_unknown_numbers_are_never_answered(app, session, world, gateway):
    app.config["WHATSAPP_STRANGER_REPLIES_PER_HOUR"] = 0
    post_fonnte(app.test_client(), stranger(1), "halo", "Z-1")
    assert sent_to(session, app, gateway, NOW) == []
    assert outcomes(session) == [("Z-1", "unknown_capped")]


def test_the_engine_tick_forgets_inbound_messages_older_than_the_setting(
    app, session, world, gateway, set_now
):
    app.config["WHATSAPP_INBOUND_KEEP_DAYS"] = 7
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    daring = world["daring"]
    client = app.test_client()
    post_fonnte(client, daring.person.phone, "1", "OLD-1")
    post_fonnte(client, stranger(1), "halo", "OLD-S")
    send_queued(session, app, NOW)

    week = NOW + timedelta(days=7)
    set_now(week - timedelta(hours=1))
    post_fonnte(client, daring.person.phone, "1", "OLD-1")  # the gateway's late repeat: counts once
    post_fonnte(client, daring.person.phone, "2", "NEW-1")
    send_queued(session, app, week - timedelta(seconds=1))
    assert [message_id for message_id, _ in outcomes(session)] == ["OLD-1", "OLD-S", "NEW-1"]

    send_queued(session, app, week + timedelta(seconds=1))
    assert [message_id for message_id, _ in outcomes(session)] == ["NEW-1"]
    assert votes_of(session, poll) == [(daring.id, {"option_ids": [poll.options[0].id]})]


def test_control_characters_in_a_message_are_dropped_where_it_enters(app, session, world, gateway):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    daring = world["daring"]
    number = daring.person.phone.removeprefix("+")
    client = app.test_client()

    post_fonnte(client, daring.person.phone, "\x00\x01\x1b\u202e ", "CTL-1")
    assert sent_to(session, app, gateway, NOW) == [number]
    assert fonnte_sent(gateway)[-1] == (number, "Silakan tulis sesuatu terlebih dahulu.")
    post_fonnte(client, daring.person.phone, "2\x00\x1b", "CTL-2")
    post_fonnte(client, daring.person.phone, "T: Halo\x00 dunia\x1b?", "CTL-3")

    assert outcomes(session) == [("CTL-1", "empty"), ("CTL-2", "vote_counted"), ("CTL-3", "question")]
    assert votes_of(session, poll) == [(daring.id, {"option_ids": [poll.options[1].id]})]
    assert session.scalars(select(Question.text)).all() == ["Halo dunia?"]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WHATSAPP_INBOUND_KEEP_DAYS": "6"}, "WHATSAPP_INBOUND_KEEP_DAYS must be at least 7"),
        ({"WHATSAPP_INBOUND_KEEP_DAYS": "tiga puluh"}, "WHATSAPP_INBOUND_KEEP_DAYS must be a whole number"),
        (
            {"WHATSAPP_STRANGER_REPLIES_PER_HOUR": "-1"},
            "WHATSAPP_STRANGER_REPLIES_PER_HOUR must not be negative",
        ),
    ],
)
def test_bad_limits_stop_the_start(environ, message):
    with pytest.raises(ConfigError, match=message):
        validate(from_environment(environ))


def test_the_limits_default_to_thirty_days_and_thirty_numbers_an_hour():
    config = from_environment({})
    validate(config)
    assert (config["WHATSAPP_INBOUND_KEEP_DAYS"], config["WHATSAPP_STRANGER_REPLIES_PER_HOUR"]) == (30, 30)
