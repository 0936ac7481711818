"""Hypothesis against WhatsApp replies: any junk at both webhooks is answered 200 (a gateway
retries anything else) and records nothing; and for any interleaving of WhatsApp replies, socket
votes and HTTP fallback votes by one person exactly one vote counts: the first accepted one when
the poll keeps it, the last when the poll allows a change."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import fakes, test_live
from tests.test_fuzz import any_json
from tests.test_live import client_id, joined_socket, make_poll, open_now, participant_client, votes_of
from tests.whatsapp_world import (
    FONNTE_HOOK,
    configure,
    fonnte_payload,
    meta_payload,
    post_meta,
)
from workshop.live.models import PollVote
from workshop.whatsapp.models import InboundMessage

world = test_live.world
fixed_clock = test_live.fixed_clock

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def gateway(app):
    with fakes.whatsapp_gateway() as server:
        configure(app, server)
        yield server


control = st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=20)
# Values that are no message id, no sender's number or no text, whatever else the payload holds.
bad_ids = (
    st.sampled_from(["", " ", "x" * 201, "A\x00B", "id\nline", None, True, [1], {"id": 1}, 1.5]) | control
)
bad_senders = (
    st.sampled_from(
        [
            "",
            "abc",
            "+",
            "0",
            "62",
            "6" * 16,
            "120363025246125486@g.us",
            "62812\x0012345",
            None,
            True,
            [628],
            1.5,
        ]
    )
    | control
)
bad_texts = st.sampled_from([None, 1, True, [], {"text": "1"}, 2.5])
JUNK = {"inboxid": bad_ids, "sender": bad_senders, "message": bad_texts}


@st.composite
def fonnte_junk(draw, phone: str):
    """A Fonnte payload with one field spoilt or left out (and `id` as spoilt as `inboxid`)."""
    payload = fonnte_payload(phone, draw(st.sampled_from(["1", "2", "T: Halo"])), "ID-JUNK")
    field = draw(st.sampled_from(sorted(JUNK)))
    if draw(st.booleans()):
        payload.pop(field)
        if field == "inboxid":
            payload["id"] = draw(bad_ids)
    else:
        payload[field] = draw(JUNK[field])
    return payload


@st.composite
def meta_junk(draw, phone: str):
    payload = meta_payload(phone, "1", "wamid.JUNK")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    spoil = draw(
        st.sampled_from(["id", "from", "text", "type", "entry", "changes", "value", "messages", "whole"])
    )
    if spoil == "id":
        message["id"] = draw(bad_ids)
    elif spoil == "from":
        message["from"] = draw(bad_senders)
    elif spoil == "text":
        message["text"] = draw(bad_texts | st.fixed_dictionaries({"body": bad_texts}))
    elif spoil == "type":
        message["type"] = draw(st.sampled_from(["image", "reaction", "", None, 1]))
    elif spoil == "entry":
        payload["entry"] = draw(any_json)
    elif spoil == "changes":
        payload["entry"][0]["changes"] = draw(any_json)
    elif spoil == "value":
        payload["entry"][0]["changes"][0]["value"] = draw(any_json)
    elif spoil == "messages":
        payload["entry"][0]["changes"][0]["value"]["messages"] = draw(any_json)
    else:
        return draw(any_json)
    return payload


def recorded(session) -> tuple[int, int]:
    session.expire_all()
    inbound = session.scalar(select(func.count()).select_from(InboundMessage))
    votes = session.scalar(select(func.count()).select_from(PollVote))
    return inbound, votes


def test_junk_at_the_fonnte_webhook_is_answered_200_and_records_nothing(app, session, world, gateway):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    client = app.test_client()
    phone = world["daring"].person.phone

    @EXAMPLES
    @given(payload=fonnte_junk(phone), as_form=st.booleans())
    def check(payload, as_form):
        if as_form:
            form = {key: value for key, value in payload.items() if isinstance(value, str)}
            response = client.post(FONNTE_HOOK, data=form, send_csrf_token=False)
        else:
            response = client.post(FONNTE_HOOK, json=payload, send_csrf_token=False)
        assert response.status_code == 200
        assert recorded(session) == (0, 0)

    check()

    @EXAMPLES
    @given(body=st.binary(max_size=300) | any_json.map(lambda value: json.dumps(value).encode()))
    def raw(body):
        response = client.post(
            FONNTE_HOOK, data=body, headers={"Content-Type": "application/json"}, send_csrf_token=False
        )
        assert response.status_code == 200
        assert recorded(session) == (0, 0)

    raw()


def test_junk_at_the_meta_webhook_signed_or_not_is_answered_and_records_nothing(app, session, world, gateway):
    poll = make_poll(session, world["stage"], world["moderator"])
    open_now(session, poll, world["moderator"])
    client = app.test_client()
    phone = world["daring"].person.phone

    @EXAMPLES
    @given(
        payload=meta_junk(phone) | st.binary(max_size=300),
        signature=st.sampled_from([None, "sha256=", "x", "sha256=" + "f" * 64]),
    )
    def check(payload, signature):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        signed = post_meta(client, body)
        assert signed.status_code == 200
        if signature is not None:
            forged = post_meta(client, meta_payload(phone, "1", "wamid.FORGED"), signature=signature)
            assert forged.status_code == 403
        assert recorded(session) == (0, 0)

    check()


# --- One vote per person, whichever channel -------------------------------------------------------

CHANNELS = ("whatsapp", "socket", "http")


def test_any_interleaving_of_channels_counts_exactly_one_vote_by_the_polls_rule(app, session, world, gateway):
    stage = world["stage"]
    person = world["daring"]
    page = participant_client(app, session, person)
    socket = joined_socket(app, page, stage)
    webhook = app.test_client()
    numbers = itertools.count()

    @EXAMPLES
    @given(
        steps=st.lists(st.tuples(st.sampled_from(CHANNELS), st.integers(0, 2)), min_size=1, max_size=6),
        allow_change=st.booleans(),
    )
    def check(steps, allow_change):
        poll = make_poll(session, stage, world["moderator"], allow_change=allow_change)
        open_now(session, poll, world["moderator"])  # the previous example's poll closes
        options = [option.id for option in poll.options]
        accepted = []
        for channel, choice in steps:
            n = next(numbers)
            payload = {
                "stage_id": stage.id,
                "poll_id": poll.id,
                "client_id": client_id(f"v{n}"),
                "answer": {"option_ids": [options[choice]]},
            }
            if channel == "whatsapp":
                response = webhook.post(
                    FONNTE_HOOK,
                    json=fonnte_payload(person.person.phone, str(choice + 1), f"P-{n}"),
                    send_csrf_token=False,
                )
                assert response.status_code == 200
                session.expire_all()
                outcome = session.scalar(
                    select(InboundMessage.outcome).where(InboundMessage.message_id == f"P-{n}")
                )
                ok = outcome in ("vote_counted", "vote_changed")
                assert outcome == ("already_voted" if not ok else outcome)
                if ok:
                    assert outcome == ("vote_changed" if accepted else "vote_counted")
            elif channel == "socket":
                ok = socket.emit("vote", payload, callback=True)["ok"]
            else:
                ok = page.post(f"/live/{stage.id}/polls/{poll.id}/vote", json=payload).get_json()["ok"]
            if ok:
                accepted.append(choice)
        # The first vote is always taken; later ones only when the poll allows a change.
        assert accepted == ([choice for _channel, choice in steps] if allow_change else [steps[0][1]])
        final = accepted[-1]
        assert votes_of(session, poll) == [(person.id, {"option_ids": [options[final]]})]

    check()
